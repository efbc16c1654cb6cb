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

#endif
