/* pattern/ private: the AST every file of the module shares. The parser builds it in the pattern's
 * arena (one free for the whole tree); the evaluator and the index only read it. */
#ifndef CTIX_PATTERN_INT_H
#define CTIX_PATTERN_INT_H

#include "pattern/pattern.h"

/* ---- literals ---- */

enum pat_lit_kind {
    PAT_LIT_BOOL,
    PAT_LIT_INT,
    PAT_LIT_FLOAT,
    PAT_LIT_STR, /* 'text': UTF-8, escapes resolved */
    PAT_LIT_BIN, /* h'..' or b'..': raw bytes */
    PAT_LIT_TS,  /* t'..' */
    PAT_LIT_SET, /* ( lit, lit, … ) for IN; members are never sets */
};

struct pat_lit {
    enum pat_lit_kind kind;
    bool hex; /* PAT_LIT_BIN written as h'..' (else b'..'), for messages and printing */
    union {
        bool b;
        int64_t i; /* integers outside int64 are a parse error */
        double f;
        struct {
            const char *p; /* NUL-terminated (a BIN may hold NULs: use n) */
            size_t n;
        } s;           /* PAT_LIT_STR and PAT_LIT_BIN */
        int64_t ts_us; /* PAT_LIT_TS: microseconds since the epoch (finer digits truncated) */
        struct {
            struct pat_lit *v;
            size_t n;
        } set;
    } u;
};

/* ---- object paths ---- */

enum pat_step_kind {
    PAT_STEP_KEY,   /* .name or .'quoted name' (and the first property after ':') */
    PAT_STEP_INDEX, /* [n], n may be negative (never matches) */
    PAT_STEP_ANY,   /* [*] */
};

struct pat_step {
    enum pat_step_kind kind;
    const char *key; /* PAT_STEP_KEY: unquoted, unescaped, NUL-terminated */
    size_t key_len;
    int64_t index; /* PAT_STEP_INDEX */
};

struct pat_path {
    const char *type;       /* the object type before ':' */
    struct pat_step *steps; /* n_steps >= 1 and steps[0].kind == PAT_STEP_KEY */
    size_t n_steps;
};

/* ---- comparison expressions (inside one [...]) ---- */

enum pat_op {
    PAT_OP_EQ,
    PAT_OP_NE,
    PAT_OP_LT,
    PAT_OP_LE,
    PAT_OP_GT,
    PAT_OP_GE,
    PAT_OP_IN,
    PAT_OP_LIKE,
    PAT_OP_MATCHES,
    PAT_OP_ISSUBSET,
    PAT_OP_ISSUPERSET,
    PAT_OP_EXISTS,
};

/* An IPv4 or IPv6 network; a bare address is a /32 or /128. IPv4 is kept in addr[0..4). */
struct pat_cidr {
    uint8_t family; /* 4 or 6 */
    uint8_t prefix;
    uint8_t addr[16]; /* host bits cleared */
};

struct pat_cmp {
    struct pat_path path;
    enum pat_op op;
    bool negated;       /* NOT op, or NOT EXISTS */
    struct pat_lit lit; /* the constant (unused for EXISTS) */
    /* MATCHES: the regular expression compiled for string values (UTF, DOTALL) and for byte
     * values (no UTF; NULL when the expression has code points above U+00FF). pcre2_code *,
     * owned by the pattern. */
    void *re, *re_bytes;
    /* LIKE: the constant NFC-normalised (into the arena). */
    const char *like;
    size_t like_len;
    /* ISSUBSET / ISSUPERSET: the constant parsed. */
    struct pat_cidr cidr;
    uint32_t line, col; /* of the object path, for messages */
};

enum pat_cexpr_kind { PAT_C_CMP, PAT_C_AND, PAT_C_OR };

struct pat_cexpr {
    enum pat_cexpr_kind kind;
    struct pat_cexpr *l, *r; /* PAT_C_AND, PAT_C_OR */
    struct pat_cmp *cmp;     /* PAT_C_CMP */
};

/* ---- observation expressions ---- */

enum pat_oexpr_kind {
    PAT_O_OBS, /* [ comparison expression ] */
    PAT_O_AND,
    PAT_O_OR,
    PAT_O_FOLLOWEDBY,
    PAT_O_WITHIN,    /* l WITHIN within_us */
    PAT_O_REPEATS,   /* l REPEATS repeats TIMES */
    PAT_O_STARTSTOP, /* l START start_us STOP stop_us */
};

struct pat_oexpr {
    enum pat_oexpr_kind kind;
    struct pat_oexpr *l, *r; /* binary operators: both; qualifiers: l is what they qualify */
    struct pat_cexpr *c;     /* PAT_O_OBS */
    uint32_t obs_no;         /* PAT_O_OBS: 0.. in reading order, < pattern.n_obs */
    int64_t within_us;       /* WITHIN: seconds as microseconds (a float literal rounded up) */
    uint64_t repeats;        /* REPEATS: >= 1 */
    int64_t start_us, stop_us;
};

struct pattern {
    struct arena arena; /* the whole AST, strings and literals */
    struct pat_oexpr *root;
    size_t n_obs;
    void **re; /* every compiled regular expression, freed by pattern_free (malloc'd array) */
    size_t n_re;
};

/* ---- shared helpers ---- */

/* Parses an IPv4/IPv6 address or CIDR ("10.0.0.0/8", "2001:db8::/32", "1.2.3.4"); host bits are
 * cleared. False when malformed or the prefix is out of range. (cidr.c) */
bool pattern__cidr_parse(const char *s, size_t len, struct pat_cidr *out);
/* True when network a lies inside network b (equal counts), same family. */
bool pattern__cidr_within(const struct pat_cidr *a, const struct pat_cidr *b);

/* ---- lexer (lex.c), used by the parser ---- */

enum pat_tok_kind {
    PAT_T_EOF,
    PAT_T_LBRACK, /* [ */
    PAT_T_RBRACK, /* ] */
    PAT_T_LPAREN, /* ( */
    PAT_T_RPAREN, /* ) */
    PAT_T_COLON,
    PAT_T_DOT,
    PAT_T_COMMA,
    PAT_T_STAR,
    PAT_T_EQ, /* = or == */
    PAT_T_NE, /* != or <> */
    PAT_T_LT,
    PAT_T_LE,
    PAT_T_GT,
    PAT_T_GE,
    /* keywords (uppercase, reserved) */
    PAT_T_AND,
    PAT_T_OR,
    PAT_T_NOT,
    PAT_T_FOLLOWEDBY,
    PAT_T_LIKE,
    PAT_T_MATCHES,
    PAT_T_ISSUPERSET,
    PAT_T_ISSUBSET,
    PAT_T_EXISTS,
    PAT_T_LAST,
    PAT_T_IN,
    PAT_T_START,
    PAT_T_STOP,
    PAT_T_SECONDS,
    PAT_T_WITHIN,
    PAT_T_REPEATS,
    PAT_T_TIMES,
    PAT_T_TRUE,
    PAT_T_FALSE,
    PAT_T_IDENT, /* [a-zA-Z_][a-zA-Z0-9_-]*, hyphen says whether a '-' occurs */
    PAT_T_INT,   /* [+-]digits, no leading zero */
    PAT_T_FLOAT, /* [+-][digits].digits */
    PAT_T_STR,   /* '...': p/n span the quotes; escapes checked, not resolved */
    PAT_T_HEX,   /* h'..': even number of hex digits checked */
    PAT_T_BIN,   /* b'..': base64 form checked */
    PAT_T_TS,    /* t'..': form and field ranges checked (not the day of the month) */
};

struct pat_tok {
    enum pat_tok_kind kind;
    const char *p; /* the token's text, p[0..n) */
    size_t n;
    uint32_t line, col; /* 1-based, col in characters */
    bool hyphen;        /* PAT_T_IDENT containing '-' */
};

struct pat_lexer {
    const char *s, *cur, *end;
    uint32_t line, col; /* of cur */
};

void pattern__lex_init(struct pat_lexer *lx, const char *s, size_t len);
/* The next token into *t, skipping whitespace and comments. CTIX_EINVAL with diag (where
 * "pattern", line/col of the offending character) on a lexical error or invalid UTF-8. */
CTIX_MUST_CHECK enum ctix_rc pattern__lex_next(struct pat_lexer *lx, struct pat_tok *t,
                                               struct ctix_diag *diag);
/* A short text for messages: "'foo'" (truncated), "end of pattern". Writes into out[n]. */
void pattern__tok_describe(const struct pat_tok *t, char *out, size_t n);
/* The keyword's spelling for PAT_T_AND..PAT_T_FALSE, else NULL. */
const char *pattern__keyword_name(enum pat_tok_kind k);
/* True when s[0..n) is a keyword or true/false (so it must be quoted as a property name). */
bool pattern__is_keyword(const char *s, size_t n);

/* ---- STIX 2.1 SCO definitions for PATTERN_STRICT (sco.c) ---- */

/* Checks cmp's object type, property path and operand against the SCO definitions. False with
 * msg set (and *at_lit true when the operand rather than the path is at fault). */
bool pattern__sco_check(const struct pat_cmp *cmp, bool *at_lit, char *msg, size_t msg_len);

/* "a boolean", "an integer", … for messages about a literal of kind k. (parse.c) */
const char *pattern__lit_kind_name(enum pat_lit_kind k);

/* ---- printing (print.c) ---- */

/* Appends the canonical, fully parenthesised text of p: it parses back to the same tree, and
 * printing that tree again gives the same text. */
CTIX_MUST_CHECK enum ctix_rc pattern__print(const struct pattern *p, struct buf *out);
/* Appends one object path as a pattern writes it ("file:hashes.'SHA-256'"). */
CTIX_MUST_CHECK enum ctix_rc pattern__print_path(const struct pat_path *path, struct buf *out);

/* ---- JSON values of observations (scan.c, obs.c) ---- */

/* A JSON value as the evaluator reads it: built in the observations' arena, either straight from
 * the text of a bundle (pattern__json_scan) or copied from jansson values (pattern_obs_new). A
 * tree of these costs a few pointer bumps where jansson costs several mallocs per member, which
 * is what made loading a bundle cost 20 times its evaluation. Strings are NUL-terminated UTF-8
 * with escapes resolved; objects keep their members in text order and never hold a key twice. */
enum pval_kind { PV_NULL, PV_TRUE, PV_FALSE, PV_INT, PV_REAL, PV_STR, PV_ARR, PV_OBJ };

struct pmember;

struct pval {
    uint32_t kind; /* enum pval_kind */
    uint32_t n;    /* PV_STR: bytes; PV_ARR: elements; PV_OBJ: members */
    union {
        int64_t i;
        double f;
        const char *s;
        const struct pval *items;
        const struct pmember *members;
    } u;
};

struct pmember {
    const char *key; /* NUL-terminated, escapes resolved */
    size_t key_len;
    struct pval v;
};

/* The member key[0..n) of obj, or NULL (also when obj is NULL or not an object). */
const struct pval *pattern__pval_get(const struct pval *obj, const char *key, size_t n);

static inline bool pattern__pv_is(const struct pval *v, enum pval_kind k)
{
    return v != NULL && v->kind == (uint32_t)k;
}

/* The string value of v, or NULL when v is not a string. */
static inline const char *pattern__pv_str(const struct pval *v)
{
    return pattern__pv_is(v, PV_STR) ? v->u.s : NULL;
}

/* Parses JSON text[0..len) into a tree allocated in a (which also receives a copy of the text:
 * the tree never points into text). Accepts and rejects exactly what stix_json_parse does; on
 * rejection diag is what stix_json_parse says (line, column, message). CTIX_EINVAL, CTIX_ENOMEM,
 * CTIX_ETOOBIG (len above 4 GiB). (scan.c) */
CTIX_MUST_CHECK enum ctix_rc pattern__json_scan(struct arena *a, const char *text, size_t len,
                                                const struct pval **out, struct ctix_diag *diag);

/* ---- observations (obs.c), read by the evaluator and the index ---- */

/* A timestamp of the exact forms "YYYY-MM-DDTHH:MM:SSZ" and "YYYY-MM-DDTHH:MM:SS.fffZ" as
 * microseconds, with stix_ts_parse's checks; false for any other text (invalid or not of these
 * forms: the caller then uses stix_ts_parse). (obs.c) */
bool pattern__ts_fast(const char *s, size_t n, int64_t *us);

/* One SCO of one observation. */
struct pobs_sco {
    const char *type;     /* the object's "type" */
    const char *key;      /* what *_ref values name: its id (2.1) or its local key "0"… (2.0) */
    const struct pval *v; /* the object, in the pattern_obs's arena */
    uint32_t kind;        /* the builder's number for the type (obs.c), while building */
};

/* One observed-data: number_observed instances sharing [first_us, last_us]. */
struct pobs {
    const char *id; /* "" when the object has none */
    int64_t first_us, last_us;
    uint64_t n_inst;
    struct pobs_sco *scos; /* grouped by type, each group in object_refs order */
    uint32_t n_scos;
    /* Indexes into scos in key order, for *_ref resolution; NULL for small observations, which
     * are scanned (pattern__obs_ref). */
    uint32_t *by_key;
};

/* Where one type occurs: observation obs, scos[start .. start+n). */
struct pobs_at {
    uint32_t obs, start, n;
};

struct pobs_type {
    const char *type;
    struct pobs_at *at; /* ascending obs */
    uint32_t n_at;
};

struct pattern_obs {
    struct arena arena; /* every value, string and index of the set: one free */
    struct pobs *obs;
    size_t n_obs;
    struct pobs_type *types; /* sorted by name (strcmp) */
    size_t n_types;
    uint64_t total_inst; /* sum of n_inst, saturated */
};

/* The occurrences of a type in o, or NULL. (obs.c) */
const struct pobs_type *pattern__obs_type(const struct pattern_obs *o, const char *type);
/* The SCO of observation ob that a *_ref value names, or NULL. (obs.c) */
const struct pobs_sco *pattern__obs_ref(const struct pobs *ob, const char *key);

/* ---- evaluation (eval.c) ---- */

#define PATTERN_EVAL_BUDGET 10000000u /* search and path-walk steps before CTIX_ETOOBIG */

/* pattern_eval with an explicit step budget (tests use small ones). */
CTIX_MUST_CHECK enum ctix_rc pattern__eval_budget(const struct pattern *p,
                                                  const struct pattern_obs *o, uint64_t budget,
                                                  struct pattern_result *res,
                                                  struct ctix_diag *diag);
/* LIKE over code points: % any run, _ one code point, whole value; both sides already NFC. */
bool pattern__like(const char *s, size_t n, const char *pat, size_t pn);
/* Decodes a *_hex (hex digits, either case, even length) or *_bin (padded base64) string into
 * out (room for n bytes at least); false when malformed. */
bool pattern__unhex(const char *s, size_t n, uint8_t *out, size_t *out_len);
bool pattern__unbase64(const char *s, size_t n, uint8_t *out, size_t *out_len);

/* A path on which `=` with a string constant is a plain comparison with the JSON string found by
 * following object keys (index.c): what the match index keys and what pattern_scan_keys calls
 * exact. */
bool pattern__path_plain(const struct pat_path *path);

#endif
