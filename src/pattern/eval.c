/* Evaluation of a pattern over observations, in two steps (docs/stix-taxii.md §B8):
 *
 * 1. Each observation expression "[...]" is evaluated once per observation that holds one of its
 *    object types: a comparison is true for a root object when ANY value its path reaches
 *    satisfies it; AND and OR combine per root. The observations where some root passes are the
 *    leaf's candidates (computed lazily, when the search first needs them).
 * 2. A backtracking search assigns observation instances to the leaves (AND, FOLLOWEDBY and
 *    REPEATS need disjoint instances; an observed-data with number_observed N gives N) and stops
 *    at the first assignment that satisfies every operator and qualifier. The Python reference
 *    enumerates every binding instead; here the work is bounded by a step budget (CTIX_ETOOBIG)
 *    and the depth of the search by MAX_BOUND.
 *
 * Where the reference matcher and the specification disagree (§B9) this follows the
 * specification: WITHIN is strict, NOT EXISTS negates, ISSUBSET/ISSUPERSET do IPv6. A value the
 * data cannot give (an unparseable timestamp, a malformed address, a regular expression hitting
 * its limits) makes the comparison false even under NOT: we never report an error on data.
 *
 * The pattern and the observations are only read; all state lives in struct ectx on the stack of
 * pattern_eval (and a scratch region that starts there), so evaluation is thread-safe. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>
#include <unistr.h>

#include "pattern/pattern_int.h"

/* PCRE2 limits: a catastrophic expression ((a+)+$) gives a bounded "false". */
#define MATCH_LIMIT    1000000u
#define DEPTH_LIMIT    10000u
#define HEAP_LIMIT_KIB 20480u
/* Observation instances in one binding, and nested search frames: both bound the C stack. */
#define MAX_BOUND 512u
#define MAX_DEPTH 4096u

/* ---- scratch memory: a stack buffer first, then malloc'd blocks, all freed at the end ---- */

struct sblk {
    struct sblk *next;
    max_align_t data[];
};

struct scratch {
    char *buf;
    size_t cap, used;
    struct sblk *blocks;
};

static void *scratch_alloc(struct scratch *s, size_t n)
{
    size_t a = sizeof(max_align_t);
    size_t need = (n + a - 1) / a * a;
    struct sblk *b;

    if (n == 0)
        need = a;
    if (need <= s->cap - s->used) {
        void *p = s->buf + s->used;

        s->used += need;
        return p;
    }
    if (n > SIZE_MAX / 2)
        return NULL;
    b = malloc(sizeof(*b) + need);
    if (b == NULL)
        return NULL;
    b->next = s->blocks;
    s->blocks = b;
    return b->data;
}

static void scratch_cleanup(struct scratch *s)
{
    while (s->blocks != NULL) {
        struct sblk *n = s->blocks->next;

        free(s->blocks);
        s->blocks = n;
    }
}

/* A buffer reused by every comparison of one evaluation (decoded bytes, normalised strings). */
struct tbuf {
    uint8_t *p;
    size_t cap;
};

static uint8_t *tbuf_reserve(struct tbuf *t, size_t n)
{
    if (n <= t->cap)
        return t->p;
    if (n > SIZE_MAX / 2)
        return NULL;
    free(t->p);
    t->cap = n < 256 ? 256 : n;
    t->p = malloc(t->cap);
    if (t->p == NULL)
        t->cap = 0;
    return t->p;
}

/* ---- the evaluation context ---- */

/* A compiled observation expression: operator chains flattened (A OR B OR C is one node with
 * three kids) so that long chains cost no recursion. */
enum enode_kind { E_LEAF, E_OR, E_AND, E_FOLLOWEDBY, E_WITHIN, E_REPEATS, E_STARTSTOP };

struct enode {
    enum enode_kind kind;
    struct enode **kids; /* E_OR, E_AND, E_FOLLOWEDBY; qualifiers: kids[0] */
    uint32_t n_kids;
    const struct pat_oexpr *src;
    /* E_LEAF: the candidate observations (ascending), computed on first use. */
    bool done;
    uint32_t *cands, n_cands;
};

struct win {
    int64_t lo, hi; /* START/STOP in force: an interval needs last >= lo and first < hi */
};

struct witem {
    const struct pval *v;
    uint32_t step;
    bool refs; /* v is a *_refs list: its elements are references to resolve */
};

struct ectx {
    const struct pattern *p;
    const struct pattern_obs *o;
    uint64_t steps, budget;
    bool aborted;
    enum ctix_rc rc;
    char why[160];
    unsigned depth;
    struct scratch sc;
    pcre2_match_data *md;
    struct tbuf dec, nfc;
    /* The path walk's explicit stack. */
    struct witem *w;
    size_t wn, wcap;
    bool w_heap;
    /* The search. */
    uint32_t *used; /* instances of each observation in the current binding */
    uint32_t bound[MAX_BOUND];
    uint32_t n_bound;
    uint32_t from; /* REPEATS of a leaf: the next copy starts at this observation */
    size_t *result;
    size_t n_result;
    bool matched;
};

static void abort_eval(struct ectx *c, enum ctix_rc rc, const char *why)
{
    if (c->aborted)
        return;
    c->aborted = true;
    c->rc = rc;
    ctix_strlcpy(c->why, why, sizeof(c->why));
}

static bool step(struct ectx *c)
{
    if (++c->steps > c->budget) {
        abort_eval(c, CTIX_ETOOBIG, "the search for a binding passed its step budget");
        return false;
    }
    return !c->aborted;
}

/* ---- value comparison ---- */

enum { R_LT = -1, R_EQ = 0, R_GT = 1, R_MISMATCH = 2, R_BAD = 3 };

enum vkind { VK_JSON, VK_BYTES, VK_LIST };

struct val {
    enum vkind k;
    const struct pval *j; /* VK_JSON */
    const uint8_t *b;     /* VK_BYTES */
    size_t n;
};

static int cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static int cmp_f(double a, double b)
{
    return (a > b) - (a < b);
}

/* Exact comparison of an integer with a double (no rounding of i to double). */
static int cmp_i64_f(int64_t i, double d)
{
    double t;
    int64_t ti;

    if (isnan(d))
        return R_MISMATCH;
    if (d >= 9223372036854775808.0)
        return R_LT;
    if (d < -9223372036854775808.0)
        return R_GT;
    t = trunc(d);
    ti = (int64_t)t;
    if (i != ti)
        return i < ti ? R_LT : R_GT;
    return d > t ? R_LT : d < t ? R_GT : R_EQ;
}

static int flip(int r)
{
    return r == R_LT ? R_GT : r == R_GT ? R_LT : r;
}

static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    if (c != 0)
        return c < 0 ? R_LT : R_GT;
    return an < bn ? R_LT : an > bn ? R_GT : R_EQ;
}

/* The UTF-8 string s taken as bytes (code point n -> byte n) compared with b; R_MISMATCH when a
 * code point is above U+00FF. */
static int cmp_latin1(const char *s, size_t sn, const uint8_t *b, size_t bn)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i, k = 0;
    int r = R_EQ;

    for (i = 0; i < sn; i++) {
        if (u[i] < 0x80)
            continue;
        if (u[i] != 0xc2 && u[i] != 0xc3)
            return R_MISMATCH; /* a lead byte of U+0100 or above */
        i++;                   /* its continuation byte */
    }
    for (i = 0; i < sn && r == R_EQ; k++) {
        unsigned cp = u[i];

        if (cp >= 0x80 && i + 1 < sn) {
            cp = (unsigned)(u[i] & 0x1f) << 6 | (u[i + 1] & 0x3f);
            i += 2;
        } else {
            i++;
        }
        if (k >= bn)
            r = R_GT;
        else if (cp != b[k])
            r = cp < b[k] ? R_LT : R_GT;
    }
    if (r == R_EQ && k < bn)
        r = R_LT;
    return r;
}

/* The value compared with one constant: R_LT/R_EQ/R_GT (value relative to constant),
 * R_MISMATCH for types that do not compare, R_BAD for a timestamp that does not parse. */
static int compare(const struct val *v, const struct pat_lit *lit)
{
    const struct pval *j = v->k == VK_JSON ? v->j : NULL;

    switch (lit->kind) {
    case PAT_LIT_INT:
        if (pattern__pv_is(j, PV_INT))
            return cmp_i64(j->u.i, lit->u.i);
        if (pattern__pv_is(j, PV_REAL))
            return flip(cmp_i64_f(lit->u.i, j->u.f));
        return R_MISMATCH;
    case PAT_LIT_FLOAT:
        if (pattern__pv_is(j, PV_INT))
            return cmp_i64_f(j->u.i, lit->u.f);
        if (pattern__pv_is(j, PV_REAL))
            return cmp_f(j->u.f, lit->u.f);
        return R_MISMATCH;
    case PAT_LIT_BOOL:
        if (pattern__pv_is(j, PV_TRUE) || pattern__pv_is(j, PV_FALSE))
            return cmp_i64(j->kind == PV_TRUE, lit->u.b);
        return R_MISMATCH;
    case PAT_LIT_STR:
        if (pattern__pv_is(j, PV_STR))
            return cmp_bytes((const uint8_t *)j->u.s, j->n, (const uint8_t *)lit->u.s.p,
                             lit->u.s.n);
        if (v->k == VK_BYTES)
            return flip(cmp_latin1(lit->u.s.p, lit->u.s.n, v->b, v->n));
        return R_MISMATCH;
    case PAT_LIT_BIN:
        if (v->k == VK_BYTES)
            return cmp_bytes(v->b, v->n, (const uint8_t *)lit->u.s.p, lit->u.s.n);
        if (pattern__pv_is(j, PV_STR))
            return cmp_latin1(j->u.s, j->n, (const uint8_t *)lit->u.s.p, lit->u.s.n);
        return R_MISMATCH;
    case PAT_LIT_TS:
        if (pattern__pv_is(j, PV_STR)) {
            struct ctix_ts ts;

            if (ctix_ts_parse(j->u.s, j->n, &ts) != CTIX_OK)
                return R_BAD;
            return cmp_i64(ctix_ts_to_us(&ts), lit->u.ts_us);
        }
        return R_MISMATCH;
    case PAT_LIT_SET:
        break;
    }
    return R_MISMATCH;
}

/* The value as text for LIKE and MATCHES: JSON strings, and bytes that are valid UTF-8 (the
 * reference decodes them). NFC-normalised unless ASCII (ASCII is NFC); *tofree is set when the
 * result was allocated. False for anything else. */
static bool text_of(struct ectx *c, const struct val *v, const uint8_t **s, size_t *n,
                    uint8_t **tofree)
{
    const uint8_t *p;
    size_t len, outn;
    bool ascii = true;
    uint8_t *buf, *r;

    *tofree = NULL;
    if (v->k == VK_BYTES) {
        p = v->b;
        len = v->n;
        if (u8_check(p, len) != NULL)
            return false;
    } else if (pattern__pv_is(v->j, PV_STR)) {
        p = (const uint8_t *)v->j->u.s;
        len = v->j->n;
    } else {
        return false;
    }
    for (size_t i = 0; i < len && ascii; i++)
        ascii = p[i] < 0x80;
    if (ascii) {
        *s = p;
        *n = len;
        return true;
    }
    buf = tbuf_reserve(&c->nfc, len + len / 2 + 16);
    if (buf == NULL) {
        abort_eval(c, CTIX_ENOMEM, "out of memory");
        return false;
    }
    outn = c->nfc.cap;
    r = u8_normalize(UNINORM_NFC, p, len, buf, &outn);
    if (r == NULL)
        return false; /* not normalisable (invalid input): no match */
    if (r != buf)
        *tofree = r;
    *s = r;
    *n = outn;
    return true;
}

static pthread_once_t mctx_once = PTHREAD_ONCE_INIT;
static pcre2_match_context *mctx;

static void mctx_init(void)
{
    mctx = pcre2_match_context_create(NULL);
    if (mctx == NULL)
        return;
    pcre2_set_match_limit(mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(mctx, DEPTH_LIMIT);
    pcre2_set_heap_limit(mctx, HEAP_LIMIT_KIB);
}

/* 1 matched, 0 not, -1 the regular expression hit a limit. */
static int regex_search(struct ectx *c, const pcre2_code *re, const uint8_t *s, size_t n)
{
    int rc;

    pthread_once(&mctx_once, mctx_init);
    if (c->md == NULL)
        c->md = pcre2_match_data_create(1, NULL);
    if (mctx == NULL || c->md == NULL) {
        abort_eval(c, CTIX_ENOMEM, "out of memory");
        return -1;
    }
    rc = pcre2_match(re, s, n, 0, 0, c->md, mctx);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* The comparison on one value before NOT: 1 true, 0 false, -1 false whatever NOT says (ordering
 * of types that do not compare, bad data). */
static int pred(struct ectx *c, const struct pat_cmp *cmp, const struct val *v)
{
    int r;

    switch (cmp->op) {
    case PAT_OP_EQ:
    case PAT_OP_NE:
        r = compare(v, &cmp->lit);
        if (r == R_BAD)
            return -1;
        return (r == R_EQ) == (cmp->op == PAT_OP_EQ);
    case PAT_OP_LT:
    case PAT_OP_LE:
    case PAT_OP_GT:
    case PAT_OP_GE:
        r = compare(v, &cmp->lit);
        if (r == R_BAD || r == R_MISMATCH)
            return -1;
        if (cmp->op == PAT_OP_LT)
            return r < 0;
        if (cmp->op == PAT_OP_LE)
            return r <= 0;
        if (cmp->op == PAT_OP_GT)
            return r > 0;
        return r >= 0;
    case PAT_OP_IN:
        if (cmp->lit.kind != PAT_LIT_SET)
            return compare(v, &cmp->lit) == R_EQ;
        for (size_t i = 0; i < cmp->lit.u.set.n; i++) {
            r = compare(v, &cmp->lit.u.set.v[i]);
            if (r == R_BAD)
                return -1;
            if (r == R_EQ)
                return 1;
        }
        return 0;
    case PAT_OP_LIKE: {
        const uint8_t *s;
        size_t n;
        uint8_t *tofree;

        if (cmp->like == NULL || !text_of(c, v, &s, &n, &tofree))
            return 0;
        r = pattern__like((const char *)s, n, cmp->like, cmp->like_len);
        free(tofree);
        return r;
    }
    case PAT_OP_MATCHES: {
        const uint8_t *s;
        size_t n;
        uint8_t *tofree = NULL;

        if (v->k == VK_BYTES)
            return cmp->re_bytes ? regex_search(c, cmp->re_bytes, v->b, v->n) : 0;
        if (cmp->re == NULL || !pattern__pv_is(v->j, PV_STR) || !text_of(c, v, &s, &n, &tofree))
            return 0;
        r = regex_search(c, cmp->re, s, n);
        free(tofree);
        return r;
    }
    case PAT_OP_ISSUBSET:
    case PAT_OP_ISSUPERSET: {
        struct pat_cidr net;

        if (v->k != VK_JSON || !pattern__pv_is(v->j, PV_STR))
            return 0;
        if (!pattern__cidr_parse(v->j->u.s, v->j->n, &net))
            return -1;
        if (net.family != cmp->cidr.family)
            return 0;
        if (cmp->op == PAT_OP_ISSUBSET)
            return pattern__cidr_within(&net, &cmp->cidr);
        return pattern__cidr_within(&cmp->cidr, &net);
    }
    case PAT_OP_EXISTS:
        return 1;
    }
    return -1;
}

/* ---- object paths ---- */

static bool key_ends(const struct pat_step *st, const char *suffix)
{
    size_t n = strlen(suffix);

    return st->key_len > n && memcmp(st->key + st->key_len - n, suffix, n) == 0;
}

static bool wpush(struct ectx *c, const struct pval *v, uint32_t stp, bool refs)
{
    if (c->wn == c->wcap) {
        size_t cap = c->wcap * 2;
        struct witem *w = c->w_heap ? realloc(c->w, cap * sizeof(*w)) : malloc(cap * sizeof(*w));

        if (w == NULL) {
            abort_eval(c, CTIX_ENOMEM, "out of memory");
            return false;
        }
        if (!c->w_heap)
            memcpy(w, c->w, c->wn * sizeof(*w));
        c->w = w;
        c->wcap = cap;
        c->w_heap = true;
    }
    c->w[c->wn].v = v;
    c->w[c->wn].step = stp;
    c->w[c->wn].refs = refs;
    c->wn++;
    return true;
}

/* One element reached by an index step: resolved first when it comes from a *_refs list. */
static bool push_elem(struct ectx *c, const struct pobs *ob, const struct pval *e, uint32_t next,
                      bool refs)
{
    const struct pobs_sco *r;

    if (!refs)
        return wpush(c, e, next, false);
    if (!pattern__pv_is(e, PV_STR))
        return true;
    r = pattern__obs_ref(ob, e->u.s);
    return r == NULL || wpush(c, r->v, next, false);
}

/* What one reached value gives: 1 the comparison holds for it (after NOT), 0 not. */
static bool terminal(struct ectx *c, const struct pat_cmp *cmp, const struct val *v)
{
    int r;

    if (cmp->op == PAT_OP_EXISTS)
        return true;
    r = pred(c, cmp, v);
    if (r < 0)
        return false;
    return cmp->negated ? r == 0 : r == 1;
}

static bool refs_any(const struct pobs *ob, const struct pval *list)
{
    for (uint32_t i = 0; i < list->n; i++) {
        const struct pval *e = &list->u.items[i];

        if (e->kind == PV_STR && pattern__obs_ref(ob, e->u.s) != NULL)
            return true;
    }
    return false;
}

/* Decodes a *_hex / *_bin string and tests it; malformed selects nothing. */
static bool terminal_bytes(struct ectx *c, const struct pat_cmp *cmp, const struct pat_step *st,
                           const struct pval *s)
{
    size_t n = s->n, outn = 0;
    uint8_t *out = tbuf_reserve(&c->dec, n + 1);
    struct val v;
    bool ok;

    if (out == NULL) {
        abort_eval(c, CTIX_ENOMEM, "out of memory");
        return false;
    }
    if (key_ends(st, "_hex"))
        ok = pattern__unhex(s->u.s, n, out, &outn);
    else
        ok = pattern__unbase64(s->u.s, n, out, &outn);
    if (!ok)
        return false;
    v.k = VK_BYTES;
    v.j = NULL;
    v.b = out;
    v.n = outn;
    return terminal(c, cmp, &v);
}

/* True when some value the path reaches from root satisfies cmp (for EXISTS: when the path
 * reaches anything). A depth-first walk with an explicit stack: paths through *_refs can fan
 * out, and each visited value costs a step of the budget. */
static bool path_any(struct ectx *c, const struct pobs *ob, const struct pat_cmp *cmp,
                     const struct pval *root)
{
    const struct pat_path *path = &cmp->path;
    uint32_t n_steps = (uint32_t)path->n_steps;
    bool hit = false;

    c->wn = 0;
    if (!wpush(c, root, 0, false))
        return false;
    while (c->wn > 0 && !hit) {
        struct witem it = c->w[--c->wn];
        const struct pat_step *st;
        const struct pval *ch;

        if (!step(c))
            return false;
        if (it.step == n_steps) {
            struct val v = {.k = it.refs ? VK_LIST : VK_JSON, .j = it.v};

            if (it.refs && !refs_any(ob, it.v))
                continue;
            hit = terminal(c, cmp, &v);
            continue;
        }
        st = &path->steps[it.step];
        switch (st->kind) {
        case PAT_STEP_KEY:
            if (it.refs || !pattern__pv_is(it.v, PV_OBJ))
                break;
            ch = pattern__pval_get(it.v, st->key, st->key_len);
            if (ch == NULL)
                break;
            if (key_ends(st, "_ref")) {
                const struct pobs_sco *r;

                if (ch->kind != PV_STR)
                    break;
                r = pattern__obs_ref(ob, ch->u.s);
                if (r != NULL && !wpush(c, r->v, it.step + 1, false))
                    return false;
            } else if (key_ends(st, "_refs")) {
                if (ch->kind == PV_ARR && !wpush(c, ch, it.step + 1, true))
                    return false;
            } else if ((key_ends(st, "_hex") || key_ends(st, "_bin")) && ch->kind == PV_STR &&
                       it.step + 1 == n_steps) {
                hit = terminal_bytes(c, cmp, st, ch);
            } else if (!wpush(c, ch, it.step + 1, false)) {
                return false;
            }
            break;
        case PAT_STEP_INDEX:
            if (!pattern__pv_is(it.v, PV_ARR) || st->index < 0 || (uint64_t)st->index >= it.v->n)
                break;
            if (!push_elem(c, ob, &it.v->u.items[st->index], it.step + 1, it.refs))
                return false;
            break;
        case PAT_STEP_ANY:
            if (!pattern__pv_is(it.v, PV_ARR))
                break;
            for (size_t i = it.v->n; i-- > 0;) {
                if (!push_elem(c, ob, &it.v->u.items[i], it.step + 1, it.refs))
                    return false;
            }
            break;
        }
    }
    return hit && !c->aborted;
}

static bool cmp_root(struct ectx *c, const struct pobs *ob, const struct pat_cmp *cmp,
                     const struct pobs_sco *root)
{
    bool any;

    if (strcmp(root->type, cmp->path.type) != 0 || cmp->path.n_steps == 0)
        return false;
    any = path_any(c, ob, cmp, root->v);
    if (cmp->op == PAT_OP_EXISTS && cmp->negated && !c->aborted)
        return !any;
    return any;
}

/* The comparison expression for one root. Iterates down left operands (chains are
 * left-associative) and recurses only into right ones. */
static bool cexpr_root(struct ectx *c, const struct pobs *ob, const struct pat_cexpr *e,
                       const struct pobs_sco *root)
{
    for (;;) {
        if (c->aborted)
            return false;
        switch (e->kind) {
        case PAT_C_CMP:
            return cmp_root(c, ob, e->cmp, root);
        case PAT_C_AND:
            if (!cexpr_root(c, ob, e->r, root))
                return false;
            e = e->l;
            break;
        case PAT_C_OR:
            if (cexpr_root(c, ob, e->r, root))
                return true;
            e = e->l;
            break;
        }
    }
}

/* The distinct object types a comparison expression names. */
struct typeset {
    const char **t;
    size_t n, cap;
};

static bool typeset_add(struct ectx *c, struct typeset *ts, const char *t)
{
    for (size_t i = 0; i < ts->n; i++) {
        if (strcmp(ts->t[i], t) == 0)
            return true;
    }
    if (ts->n == ts->cap) {
        size_t cap = ts->cap * 2;
        const char **nt = scratch_alloc(&c->sc, cap * sizeof(*nt));

        if (nt == NULL)
            return false;
        memcpy(nt, ts->t, ts->n * sizeof(*nt));
        ts->t = nt;
        ts->cap = cap;
    }
    ts->t[ts->n++] = t;
    return true;
}

static bool typeset_collect(struct ectx *c, struct typeset *ts, const struct pat_cexpr *e)
{
    for (;;) {
        if (e->kind == PAT_C_CMP)
            return typeset_add(c, ts, e->cmp->path.type);
        if (!typeset_collect(c, ts, e->r))
            return false;
        e = e->l;
    }
}

/* Step 1 for one leaf: the observations where some root satisfies its comparison expression. */
static bool leaf_cands(struct ectx *c, struct enode *n)
{
    const struct pattern_obs *o = c->o;
    const struct pat_cexpr *ce = n->src->c;
    const char *first[8];
    struct typeset ts = {.t = first, .n = 0, .cap = CTIX_ARRAY_LEN(first)};
    const struct pobs_type *pt;

    n->done = true;
    n->n_cands = 0;
    if (ce == NULL)
        return true;
    if (!typeset_collect(c, &ts, ce)) {
        abort_eval(c, CTIX_ENOMEM, "out of memory");
        return false;
    }
    if (ts.n == 1) {
        pt = pattern__obs_type(o, ts.t[0]);
        if (pt == NULL)
            return true;
        n->cands = scratch_alloc(&c->sc, pt->n_at * sizeof(*n->cands));
        if (n->cands == NULL) {
            abort_eval(c, CTIX_ENOMEM, "out of memory");
            return false;
        }
        for (uint32_t i = 0; i < pt->n_at && !c->aborted; i++) {
            const struct pobs *ob = &o->obs[pt->at[i].obs];

            for (uint32_t k = 0; k < pt->at[i].n; k++) {
                if (cexpr_root(c, ob, ce, &ob->scos[pt->at[i].start + k])) {
                    n->cands[n->n_cands++] = pt->at[i].obs;
                    break;
                }
            }
        }
        return !c->aborted;
    }
    n->cands = scratch_alloc(&c->sc, o->n_obs * sizeof(*n->cands));
    if (n->cands == NULL) {
        abort_eval(c, CTIX_ENOMEM, "out of memory");
        return false;
    }
    for (size_t i = 0; i < o->n_obs && !c->aborted; i++) {
        const struct pobs *ob = &o->obs[i];

        for (uint32_t k = 0; k < ob->n_scos; k++) {
            bool named = false;

            for (size_t t = 0; t < ts.n && !named; t++)
                named = strcmp(ts.t[t], ob->scos[k].type) == 0;
            if (named && cexpr_root(c, ob, ce, &ob->scos[k])) {
                n->cands[n->n_cands++] = (uint32_t)i;
                break;
            }
        }
    }
    return !c->aborted;
}

/* ---- step 2: the search for a binding ---- */

struct kont;
typedef bool (*kont_fn)(struct ectx *c, const struct kont *k, int64_t f, int64_t l);

/* A continuation: what to do once a sub-expression is bound, given the latest first_observed
 * (f) and the earliest last_observed (l) of the instances it bound. */
struct kont {
    kont_fn fn;
    const struct kont *up;
    const struct enode *n;
    struct win win;
    int64_t f, l;  /* what the node has bound so far */
    uint64_t left; /* E_AND/E_FOLLOWEDBY: next kid; E_REPEATS: copies still to bind */
    uint32_t key;  /* E_REPEATS: first observation of the previous copy */
    uint32_t start;
};

static bool gen(struct ectx *c, const struct enode *n, struct win win, const struct kont *k);

static bool call(struct ectx *c, const struct kont *k, int64_t f, int64_t l)
{
    bool r;

    if (!step(c))
        return true;
    if (++c->depth > MAX_DEPTH) {
        abort_eval(c, CTIX_ETOOBIG, "the pattern nests too deeply to evaluate");
        c->depth--;
        return true;
    }
    r = k->fn(c, k, f, l);
    c->depth--;
    return r;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static bool seq_bind(struct ectx *c, const struct enode *n, uint32_t i, struct win win, int64_t f,
                     int64_t l, const struct kont *up);

static bool seq_done(struct ectx *c, const struct kont *k, int64_t f, int64_t l)
{
    /* FOLLOWEDBY: everything bound before must start no later than this one ends (the most
     * optimistic times inside the intervals). */
    if (k->n->kind == E_FOLLOWEDBY && k->left > 0 && k->f > l)
        return false;
    return seq_bind(c, k->n, (uint32_t)k->left + 1, k->win, max64(k->f, f), min64(k->l, l), k->up);
}

/* AND and FOLLOWEDBY: bind kids[i..] after the first i (which gave f and l). */
static bool seq_bind(struct ectx *c, const struct enode *n, uint32_t i, struct win win, int64_t f,
                     int64_t l, const struct kont *up)
{
    struct kont k;

    if (i == n->n_kids)
        return call(c, up, f, l);
    memset(&k, 0, sizeof(k));
    k.fn = seq_done;
    k.up = up;
    k.n = n;
    k.win = win;
    k.f = f;
    k.l = l;
    k.left = i;
    return gen(c, n->kids[i], win, &k);
}

static bool rep_bind(struct ectx *c, const struct enode *n, uint64_t left, uint32_t key,
                     struct win win, int64_t f, int64_t l, const struct kont *up);

static bool rep_done(struct ectx *c, const struct kont *k, int64_t f, int64_t l)
{
    uint32_t key = c->bound[k->start];

    /* The copies are interchangeable: only bind them in order of their first observation, so
     * that each set of copies is tried once rather than in every order. */
    if (key < k->key)
        return false;
    return rep_bind(c, k->n, k->left - 1, key, k->win, max64(k->f, f), min64(k->l, l), k->up);
}

static bool rep_bind(struct ectx *c, const struct enode *n, uint64_t left, uint32_t key,
                     struct win win, int64_t f, int64_t l, const struct kont *up)
{
    struct kont k;

    if (left == 0)
        return call(c, up, f, l);
    memset(&k, 0, sizeof(k));
    k.fn = rep_done;
    k.up = up;
    k.n = n;
    k.win = win;
    k.f = f;
    k.l = l;
    k.left = left;
    k.key = key;
    k.start = c->n_bound;
    if (n->kids[0]->kind == E_LEAF)
        c->from = key;
    return gen(c, n->kids[0], win, &k);
}

static bool within_done(struct ectx *c, const struct kont *k, int64_t f, int64_t l)
{
    /* The specification: the latest timestamp strictly before the earliest plus d. (The
     * reference matcher lets f - l == d pass.) */
    if (f - l >= k->n->src->within_us)
        return false;
    return call(c, k->up, f, l);
}

static bool leaf_gen(struct ectx *c, struct enode *n, struct win win, const struct kont *k)
{
    const struct pattern_obs *o = c->o;
    uint32_t from = c->from, lo = 0, hi;

    c->from = 0;
    if (!n->done && !leaf_cands(c, n))
        return true;
    /* The first candidate >= from. */
    hi = n->n_cands;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (n->cands[mid] < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t i = lo; i < n->n_cands; i++) {
        uint32_t oi = n->cands[i];
        const struct pobs *ob = &o->obs[oi];
        bool r;

        if (!step(c))
            return true;
        if (ob->first_us >= win.hi || ob->last_us < win.lo || c->used[oi] >= ob->n_inst)
            continue;
        if (c->n_bound == MAX_BOUND) {
            abort_eval(c, CTIX_ETOOBIG, "a binding would need too many observations");
            return true;
        }
        c->used[oi]++;
        c->bound[c->n_bound++] = oi;
        r = call(c, k, ob->first_us, ob->last_us);
        c->n_bound--;
        c->used[oi]--;
        if (r)
            return true;
    }
    return false;
}

/* Enumerates the bindings of n (instances inside win), calling k on each; true as soon as a call
 * of k returns true (a full match) or the evaluation was aborted. */
static bool gen(struct ectx *c, const struct enode *n, struct win win, const struct kont *k)
{
    struct kont kk;
    bool r = false;

    if (!step(c))
        return true;
    if (++c->depth > MAX_DEPTH) {
        abort_eval(c, CTIX_ETOOBIG, "the pattern nests too deeply to evaluate");
        c->depth--;
        return true;
    }
    switch (n->kind) {
    case E_LEAF:
        r = leaf_gen(c, (struct enode *)n, win, k);
        break;
    case E_OR:
        for (uint32_t i = 0; i < n->n_kids && !r; i++)
            r = gen(c, n->kids[i], win, k);
        break;
    case E_AND:
    case E_FOLLOWEDBY:
        r = seq_bind(c, n, 0, win, INT64_MIN, INT64_MAX, k);
        break;
    case E_WITHIN:
        memset(&kk, 0, sizeof(kk));
        kk.fn = within_done;
        kk.up = k;
        kk.n = n;
        r = gen(c, n->kids[0], win, &kk);
        break;
    case E_REPEATS:
        r = rep_bind(c, n, n->src->repeats, 0, win, INT64_MIN, INT64_MAX, k);
        break;
    case E_STARTSTOP:
        if (n->src->start_us >= n->src->stop_us)
            break;
        win.lo = max64(win.lo, n->src->start_us);
        win.hi = min64(win.hi, n->src->stop_us);
        r = gen(c, n->kids[0], win, k);
        break;
    }
    c->depth--;
    return r;
}

/* The root continuation: a full binding. Keep its observations, first occurrences only. */
static bool done(struct ectx *c, const struct kont *k, int64_t f, int64_t l)
{
    (void)k;
    (void)f;
    (void)l;
    c->result = malloc((c->n_bound ? c->n_bound : 1) * sizeof(*c->result));
    if (c->result == NULL) {
        abort_eval(c, CTIX_ENOMEM, "out of memory");
        return true;
    }
    for (uint32_t i = 0; i < c->n_bound; i++) {
        bool seen = false;

        for (size_t j = 0; j < c->n_result && !seen; j++)
            seen = c->result[j] == c->bound[i];
        if (!seen)
            c->result[c->n_result++] = c->bound[i];
    }
    c->matched = true;
    return true;
}

/* ---- compiling the observation expression tree ---- */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (a != 0 && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

static enum enode_kind kind_of(const struct pat_oexpr *e)
{
    switch (e->kind) {
    case PAT_O_OBS:
        return E_LEAF;
    case PAT_O_AND:
        return E_AND;
    case PAT_O_OR:
        return E_OR;
    case PAT_O_FOLLOWEDBY:
        return E_FOLLOWEDBY;
    case PAT_O_WITHIN:
        return E_WITHIN;
    case PAT_O_REPEATS:
        return E_REPEATS;
    case PAT_O_STARTSTOP:
        break;
    }
    return E_STARTSTOP;
}

/* Builds the enode of e; *min gets the fewest instances any binding of e needs. Chains of one
 * binary operator become one node (their kids found by walking down the left operands). */
static struct enode *compile(struct ectx *c, const struct pat_oexpr *e, unsigned depth,
                             uint64_t *min)
{
    struct enode *n;
    enum enode_kind kind = kind_of(e);
    uint32_t count = 1;
    const struct pat_oexpr *x;
    uint64_t m;

    if (depth > MAX_DEPTH) {
        abort_eval(c, CTIX_ETOOBIG, "the pattern nests too deeply to evaluate");
        return NULL;
    }
    n = scratch_alloc(&c->sc, sizeof(*n));
    if (n == NULL)
        goto nomem;
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->src = e;
    if (kind == E_LEAF) {
        *min = 1;
        return n;
    }
    if (kind == E_WITHIN || kind == E_REPEATS || kind == E_STARTSTOP) {
        n->kids = scratch_alloc(&c->sc, sizeof(*n->kids));
        if (n->kids == NULL)
            goto nomem;
        n->n_kids = 1;
        n->kids[0] = compile(c, e->l, depth + 1, &m);
        if (n->kids[0] == NULL)
            return NULL;
        *min = kind == E_REPEATS ? sat_mul(m, e->repeats) : m;
        return n;
    }
    for (x = e; x->kind == e->kind; x = x->l)
        count++;
    n->kids = scratch_alloc(&c->sc, count * sizeof(*n->kids));
    if (n->kids == NULL)
        goto nomem;
    n->n_kids = count;
    /* kids in reading order: the deepest left operand first. */
    x = e;
    for (uint32_t i = count; i-- > 1; x = x->l) {
        n->kids[i] = compile(c, x->r, depth + 1, &m);
        if (n->kids[i] == NULL)
            return NULL;
        *min = i == count - 1 ? m : kind == E_OR ? (m < *min ? m : *min) : sat_add(*min, m);
    }
    n->kids[0] = compile(c, x, depth + 1, &m);
    if (n->kids[0] == NULL)
        return NULL;
    *min = kind == E_OR ? (m < *min ? m : *min) : sat_add(*min, m);
    return n;
nomem:
    abort_eval(c, CTIX_ENOMEM, "out of memory");
    return NULL;
}

/* ---- entry points ---- */

enum ctix_rc pattern__eval_budget(const struct pattern *p, const struct pattern_obs *o,
                                  uint64_t budget, struct pattern_result *res,
                                  struct ctix_diag *diag)
{
    struct ectx c;
    max_align_t stackbuf[512];
    struct witem wlocal[32];
    struct enode *root;
    struct kont k;
    struct win win = {INT64_MIN, INT64_MAX};
    uint64_t min = 0;
    enum ctix_rc rc = CTIX_OK;

    memset(res, 0, sizeof(*res));
    memset(&c, 0, sizeof(c));
    c.p = p;
    c.o = o;
    c.budget = budget;
    c.sc.buf = (char *)stackbuf;
    c.sc.cap = sizeof(stackbuf);
    c.w = wlocal;
    c.wcap = CTIX_ARRAY_LEN(wlocal);
    if (p == NULL || o == NULL || p->root == NULL) {
        ctix_diag_set(diag, "pattern", "nothing to evaluate");
        rc = CTIX_EINVAL;
        goto out;
    }
    root = compile(&c, p->root, 0, &min);
    if (root == NULL)
        goto out;
    if (min > o->total_inst)
        goto out; /* no binding can exist: fewer instances than the pattern needs */
    if (min > MAX_BOUND) {
        abort_eval(&c, CTIX_ETOOBIG, "a binding would need too many observations");
        goto out;
    }
    c.used = scratch_alloc(&c.sc, (o->n_obs ? o->n_obs : 1) * sizeof(*c.used));
    if (c.used == NULL) {
        abort_eval(&c, CTIX_ENOMEM, "out of memory");
        goto out;
    }
    memset(c.used, 0, (o->n_obs ? o->n_obs : 1) * sizeof(*c.used));
    memset(&k, 0, sizeof(k));
    k.fn = done;
    (void)gen(&c, root, win, &k);
out:
    if (c.aborted) {
        rc = c.rc;
        ctix_diag_set(diag, "pattern", "%s", c.why);
        free(c.result);
    } else if (rc == CTIX_OK && c.matched) {
        res->matched = true;
        res->bound = c.result;
        res->n_bound = c.n_result;
    } else {
        free(c.result);
    }
    if (c.w_heap)
        free(c.w);
    free(c.dec.p);
    free(c.nfc.p);
    pcre2_match_data_free(c.md);
    scratch_cleanup(&c.sc);
    return rc;
}

enum ctix_rc pattern_eval(const struct pattern *p, const struct pattern_obs *o,
                          struct pattern_result *res, struct ctix_diag *diag)
{
    return pattern__eval_budget(p, o, PATTERN_EVAL_BUDGET, res, diag);
}

void pattern_result_cleanup(struct pattern_result *res)
{
    if (res == NULL)
        return;
    free(res->bound);
    res->bound = NULL;
    res->n_bound = 0;
    res->matched = false;
}
