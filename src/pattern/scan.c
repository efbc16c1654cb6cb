/* The JSON text of a bundle straight into a struct pval tree (pattern_int.h), for
 * pattern_obs_new_text.
 *
 * Why not stix_json_parse: building jansson values costs several mallocs and a hash table per
 * object, which made loading a bundle twenty times dearer than evaluating a pattern over it. Here
 * the text is copied once into the arena and parsed in place: a string without escapes becomes a
 * pointer into the copy with its closing quote overwritten by NUL, an escaped one is decoded over
 * itself (decoding never lengthens), and containers are gathered on a stack and copied into the
 * arena when they close. Nothing is allocated per value.
 *
 * Acceptance is stix_json_parse's, rule for rule (src/stix/json.c: RFC 8259, strict UTF-8, no
 * \u0000, lone surrogates rejected, integers must fit int64, reals must not overflow, no
 * duplicate keys, depth below 2048, nothing after the value). Errors are rare, so their message
 * and position are not computed here: on any rejection the text is handed to stix_json_parse,
 * whose diag is returned as is. obs_test.c and obs_fuzz.c hold the two to the same answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "stix/stix.h"

#define MAX_DEPTH    2048 /* as src/stix/json.c */
#define INLINE_DEPTH 64
#define INLINE_MEMS  256
#define PAD          17 /* NUL bytes after the copy of the text */
#define SMALL_OBJ    16 /* members: duplicate keys found by signature up to this, sorted above */

struct frame {
    size_t start;    /* first member of this container on the member stack */
    const char *key; /* the container's own key in its parent */
    size_t key_len;
    bool is_obj;
    /* Objects: one bit per key seen, from (length, first and last byte). Duplicate keys are
     * looked for as each key is read, and only among earlier keys when its bit is already set:
     * members are pushed anyway, so this costs a few instructions a key and no pass at close. */
    uint64_t sig;
};

struct scan {
    struct arena *a;
    char *p, *end; /* the arena's copy of the text */
    bool nomem;
    struct frame *fr;
    size_t nf, cap_f;
    struct pmember *m;
    size_t nm, cap_m;
    char *bump, *bump_end; /* a block of the arena carved without a call per container */
    struct frame fr_inline[INLINE_DEPTH];
    struct pmember m_inline[INLINE_MEMS];
};

static const unsigned char ws_tab[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

static char *skip_ws(char *p, const char *end)
{
    (void)end; /* the NUL padding ends every run of whitespace */
    while (ws_tab[(unsigned char)*p])
        p++;
    return p;
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* 16 bytes at a time: the first byte that is a quote, a backslash, below 0x20 or above 0x7f
 * (signed compare: bytes >= 0x80 are negative, so "less than 0x20" catches both). */
static inline char *skip_plain(char *p, const char *end)
{
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);

    (void)end; /* the NUL padding stops the loop at end at the latest */
    for (;;) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                                 _mm_cmplt_epi8(v, sp));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);

        if (mask != 0)
            return p + __builtin_ctz(mask);
        p += 16;
    }
}
#else
static char *skip_plain(char *p, const char *end)
{
    return p + (ctix_json_plain_end(p, end) - p);
}
#endif

/* A string whose opening quote is at p[-1]: *s and *n the decoded, NUL-terminated bytes (in place).
 * The position after the closing quote, or NULL when malformed. */
static inline __attribute__((always_inline)) char *scan_string(char *p, const char *end,
                                                               const char **s, size_t *n)
{
    char *start = p;
    bool esc = false;

    for (;;) {
        unsigned char c;

        p = skip_plain(p, end);
        if (p == end)
            return NULL;
        c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c >= 0x80) {
            uint32_t uc; /* the code point is not needed, only the length */
            size_t k = ctix_utf8_decode((const unsigned char *)p, (const unsigned char *)end, &uc);

            if (k == 0)
                return NULL;
            p += k;
        } else if (c < 0x20) {
            return NULL;
        } else {
            long cp, lo;

            esc = true;
            if (end - p < 2)
                return NULL;
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2;
                continue;
            case 'u':
                break;
            default:
                return NULL;
            }
            cp = ctix_hex4(p + 2, end);
            if (cp <= 0 || (cp >= 0xdc00 && cp <= 0xdfff))
                return NULL;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
                    return NULL;
                lo = ctix_hex4(p + 8, end);
                if (lo < 0xdc00 || lo > 0xdfff)
                    return NULL;
                p += 6;
            }
            p += 6;
        }
    }
    *s = start;
    *n = esc ? ctix_json_unescape(start, p, start) : (size_t)(p - start);
    start[*n] = '\0';
    return p + 1;
}

/* A number at p into *v; the position after it, or NULL when malformed or out of range. */
static char *scan_number(char *p, const char *end, struct pval *v)
{
    const char *start = p, *digits;
    bool neg = false, real = false;

    if (*p == '-') {
        neg = true;
        p++;
    }
    digits = p;
    if (p == end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return NULL;
    } else {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && *p == '.') {
        real = true;
        p++;
        if (p == end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (!real) {
        /* What does not fit int64 is an error, not a real (jansson's strtoll). */
        uint64_t u = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

        for (const char *d = digits; d < p; d++) {
            unsigned dv = (unsigned)(*d - '0');

            if (u > (limit - dv) / 10)
                return NULL;
            u = u * 10 + dv;
        }
        v->kind = PV_INT;
        if (!neg)
            v->u.i = (int64_t)u;
        else if (u == (uint64_t)INT64_MAX + 1)
            v->u.i = INT64_MIN;
        else
            v->u.i = -(int64_t)u;
    } else {
        char small[64], *nb = small, *big = NULL;
        size_t len = (size_t)(p - start);
        double d;

        if (len >= sizeof(small)) {
            big = malloc(len + 1);
            if (big == NULL)
                return NULL; /* the fallback parse then says "out of memory" or accepts */
            nb = big;
        }
        memcpy(nb, start, len);
        nb[len] = '\0';
        d = strtod(nb, NULL);
        free(big);
        if (isinf(d))
            return NULL;
        v->kind = PV_REAL;
        v->u.f = d;
    }
    return p;
}

static struct pmember *mem_grow(struct scan *sc);

static inline struct pmember *mem_push(struct scan *sc)
{
    if (sc->nm < sc->cap_m)
        return &sc->m[sc->nm++];
    return mem_grow(sc);
}

#define BUMP_BLOCK 8192

_Static_assert(sizeof(struct pval) % 8 == 0 && sizeof(struct pmember) % 8 == 0,
               "tree_alloc hands out multiples of 8");

/* n bytes (a multiple of 8) for a container's elements, from the current block when it fits. */
static void *tree_alloc(struct scan *sc, size_t n)
{
    void *r;

    if ((size_t)(sc->bump_end - sc->bump) >= n) {
        r = sc->bump;
        sc->bump += n;
        return r;
    }
    if (n > BUMP_BLOCK / 4)
        return arena_alloc(sc->a, n);
    sc->bump = arena_alloc(sc->a, BUMP_BLOCK);
    if (sc->bump == NULL) {
        sc->bump_end = NULL;
        return NULL;
    }
    sc->bump_end = sc->bump + BUMP_BLOCK;
    r = sc->bump;
    sc->bump += n;
    return r;
}

static bool frame_push(struct scan *sc, const char *key, size_t key_len, bool is_obj)
{
    if (sc->nf == sc->cap_f) {
        size_t cap = sc->cap_f * 2;
        struct frame *nf = sc->fr == sc->fr_inline ? malloc(cap * sizeof(*nf))
                                                   : realloc(sc->fr, cap * sizeof(*nf));

        if (nf == NULL) {
            sc->nomem = true;
            return false;
        }
        if (sc->fr == sc->fr_inline)
            memcpy(nf, sc->fr, sc->nf * sizeof(*nf));
        sc->fr = nf;
        sc->cap_f = cap;
    }
    sc->fr[sc->nf].start = sc->nm;
    sc->fr[sc->nf].key = key;
    sc->fr[sc->nf].key_len = key_len;
    sc->fr[sc->nf].is_obj = is_obj;
    sc->fr[sc->nf].sig = 0;
    sc->nf++;
    return true;
}

static struct pmember *mem_grow(struct scan *sc)
{
    size_t cap = sc->cap_m * 2;
    struct pmember *nm =
        sc->m == sc->m_inline ? malloc(cap * sizeof(*nm)) : realloc(sc->m, cap * sizeof(*nm));

    if (nm == NULL) {
        sc->nomem = true;
        return NULL;
    }
    if (sc->m == sc->m_inline)
        memcpy(nm, sc->m, sc->nm * sizeof(*nm));
    sc->m = nm;
    sc->cap_m = cap;
    return &sc->m[sc->nm++];
}

static int key_cmp(const void *a, const void *b)
{
    const struct pmember *x = *(const struct pmember *const *)a;
    const struct pmember *y = *(const struct pmember *const *)b;

    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return memcmp(x->key, y->key, x->key_len);
}

/* True when key[0..kl) is already a key of the object on top (its first SMALL_OBJ members). */
static inline bool key_seen(struct scan *sc, const char *key, size_t kl)
{
    struct frame *f = &sc->fr[sc->nf - 1];
    unsigned h =
        kl == 0 ? 0
                : (unsigned)(kl * 31u + (unsigned char)key[0] * 7u + (unsigned char)key[kl - 1]);
    uint64_t bit = 1ull << (h & 63);

    if (f->sig & bit) {
        for (size_t k = f->start; k < sc->nm; k++)
            if (sc->m[k].key_len == kl && memcmp(sc->m[k].key, key, kl) == 0)
                return true;
    }
    f->sig |= bit;
    return false;
}

/* True when two members of m[0..n) have the same key: for objects too big for key_seen. */
static bool has_dup(struct scan *sc, const struct pmember *m, size_t n)
{
    const struct pmember **ix;
    bool dup = false;

    ix = malloc(n * sizeof(*ix));
    if (ix == NULL) {
        sc->nomem = true;
        return true;
    }
    for (size_t i = 0; i < n; i++)
        ix[i] = &m[i];
    qsort(ix, n, sizeof(*ix), key_cmp);
    for (size_t i = 1; i < n && !dup; i++)
        dup = key_cmp(&ix[i - 1], &ix[i]) == 0;
    free(ix);
    return dup;
}

/* Closes the container on top: its members move from the stack into the arena and it becomes
 * one value of its parent (or the root). False on a duplicate key or no memory. */
static bool frame_close(struct scan *sc, struct pval *root)
{
    struct frame f = sc->fr[--sc->nf];
    size_t n = sc->nm - f.start;
    const struct pmember *m = sc->m + f.start;
    struct pval v;

    v.n = (uint32_t)n;
    if (f.is_obj) {
        struct pmember *dst = NULL;

        if (n > SMALL_OBJ && has_dup(sc, m, n))
            return false;
        if (n > 0) {
            dst = tree_alloc(sc, n * sizeof(*dst));
            if (dst == NULL) {
                sc->nomem = true;
                return false;
            }
            memcpy(dst, m, n * sizeof(*dst));
        }
        v.kind = PV_OBJ;
        v.u.members = dst;
    } else {
        struct pval *dst = NULL;

        if (n > 0) {
            dst = tree_alloc(sc, n * sizeof(*dst));
            if (dst == NULL) {
                sc->nomem = true;
                return false;
            }
            for (size_t i = 0; i < n; i++)
                dst[i] = m[i].v;
        }
        v.kind = PV_ARR;
        v.u.items = dst;
    }
    sc->nm = f.start;
    if (sc->nf == 0) {
        *root = v;
    } else {
        struct pmember *pm = mem_push(sc);

        if (pm == NULL)
            return false;
        pm->key = f.key;
        pm->key_len = f.key_len;
        pm->v = v;
    }
    return true;
}

/* The whole text; false when it is not accepted (or sc->nomem). */
static bool scan_text(struct scan *sc, struct pval *root)
{
    char *p = sc->p;
    const char *end = sc->end, *key = NULL;
    size_t key_len = 0;
    struct pval v;

value:
    if (ws_tab[(unsigned char)*p])
        p = skip_ws(p, end);
    /* The end (a NUL of the padding) falls to "invalid token" below; depth is checked where a
     * container opens. */
    if (sc->nf == 0 && p == end)
        return false;
    switch (*p) {
    case '{':
    case '[': {
        bool is_obj = *p == '{';

        if (!frame_push(sc, key, key_len, is_obj))
            return false;
        p = skip_ws(p + 1, end);
        if (*p == (is_obj ? '}' : ']')) {
            p++;
            goto closed;
        }
        /* A value inside: like stix_json_parse, none may sit inside MAX_DEPTH containers. */
        if (sc->nf > MAX_DEPTH - 1)
            return false;
        if (is_obj)
            goto key;
        key = NULL;
        key_len = 0;
        goto value;
    }
    case '"': {
        const char *s;
        size_t n;

        p = scan_string(p + 1, end, &s, &n);
        if (p == NULL || n > UINT32_MAX)
            return false;
        v.kind = PV_STR;
        v.n = (uint32_t)n;
        v.u.s = s;
        break;
    }
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0)
            return false;
        p += 4;
        v.kind = PV_TRUE;
        break;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0)
            return false;
        p += 5;
        v.kind = PV_FALSE;
        break;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0)
            return false;
        p += 4;
        v.kind = PV_NULL;
        break;
    default:
        if (*p != '-' && (*p < '0' || *p > '9'))
            return false;
        v.n = 0;
        p = scan_number(p, end, &v);
        if (p == NULL)
            return false;
        break;
    }
    if (v.kind != PV_STR)
        v.n = 0;
    if (sc->nf == 0) {
        *root = v;
    } else {
        struct pmember *pm = mem_push(sc);

        if (pm == NULL)
            return false;
        pm->key = key;
        pm->key_len = key_len;
        pm->v = v;
        /* A list of strings (object_refs): the next element straight away. */
        if (p[0] == ',' && p[1] == '"' && !sc->fr[sc->nf - 1].is_obj) {
            p++;
            goto value;
        }
    }

after:
    if (ws_tab[(unsigned char)*p])
        p = skip_ws(p, end);
    if (sc->nf == 0)
        return p == end;
    if (p == end)
        return false;
    if (sc->fr[sc->nf - 1].is_obj) {
        if (*p == ',') {
            p++;
            if (ws_tab[(unsigned char)*p])
                p = skip_ws(p, end);
            goto key;
        }
        if (*p == '}') {
            p++;
            goto closed;
        }
        return false;
    }
    if (*p == ',') {
        p++;
        key = NULL;
        key_len = 0;
        goto value;
    }
    if (*p == ']') {
        p++;
        goto closed;
    }
    return false;

closed:
    if (!frame_close(sc, root))
        return false;
    goto after;

key:
    if (p == end || *p != '"')
        return false;
    p++;
key_body:
    p = scan_string(p, end, &key, &key_len);
    if (p == NULL)
        return false;
    if (sc->nm - sc->fr[sc->nf - 1].start < SMALL_OBJ && key_seen(sc, key, key_len))
        return false;
    if (*p == ':') {
        p++;
        /* Most members of a STIX object are "key":"value", most followed by ,"key": that run is
         * read here without the general dispatch (same checks, fewer unpredictable branches). */
        if (*p == '"') {
            const char *s;
            size_t n;
            struct pmember *pm;

            p = scan_string(p + 1, end, &s, &n);
            if (p == NULL || n > UINT32_MAX)
                return false;
            pm = mem_push(sc);
            if (pm == NULL)
                return false;
            pm->key = key;
            pm->key_len = key_len;
            pm->v.kind = PV_STR;
            pm->v.n = (uint32_t)n;
            pm->v.u.s = s;
            if (p[0] == ',' && p[1] == '"') {
                p += 2;
                goto key_body;
            }
            goto after;
        }
        goto value;
    }
    p = skip_ws(p, end);
    if (p == end || *p != ':')
        return false;
    p++;
    goto value;
}

/* Keys are short: a plain loop beats a call to memcmp. */
static inline bool key_eq(const char *a, const char *b, size_t n)
{
    size_t i = 0;

    while (i < n && a[i] == b[i])
        i++;
    return i == n;
}

const struct pval *pattern__pval_get(const struct pval *obj, const char *key, size_t n)
{
    if (obj == NULL || obj->kind != PV_OBJ)
        return NULL;
    for (uint32_t i = 0; i < obj->n; i++) {
        const struct pmember *m = &obj->u.members[i];

        if (m->key_len == n && key_eq(m->key, key, n))
            return &m->v;
    }
    return NULL;
}

/* The tree takes about twice the text's bytes (a 32-byte member for ~16 bytes of text): the
 * copy of the text and that much room come in one allocation, so a bundle costs one malloc
 * instead of a doubling chain of arena chunks. */
#define TREE_PER_BYTE 2

enum ctix_rc pattern__json_scan(struct arena *a, const char *text, size_t len,
                                const struct pval **out, struct ctix_diag *diag)
{
    struct scan sc; /* ~10 KB of inline stacks: cheaper on the stack than a malloc per bundle */
    struct pval *root = NULL;
    enum ctix_rc rc = CTIX_OK;
    json_t *j = NULL;
    size_t text_room, tree_room;

    sc.fr = sc.fr_inline;
    sc.m = sc.m_inline;
    if (len >= UINT32_MAX) {
        ctix_diag_set(diag, NULL, "JSON text too big");
        rc = CTIX_ETOOBIG;
        goto out;
    }
    /* NUL padding past the end: a 16-byte load that starts before end stays inside, and the
     * first NUL stops every scan (no byte of it is whitespace or a token). */
    text_room = (len + PAD + 7) & ~(size_t)7;
    tree_room = ((len * TREE_PER_BYTE) & ~(size_t)7) + sizeof(*root);
    sc.p = arena_alloc(a, text_room + tree_room);
    if (sc.p == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    root = (struct pval *)(void *)(sc.p + text_room);
    sc.bump = sc.p + text_room + sizeof(*root);
    sc.bump_end = sc.p + text_room + tree_room;
    sc.a = a;
    if (len > 0)
        memcpy(sc.p, text, len);
    memset(sc.p + len, 0, PAD);
    sc.end = sc.p + len;
    sc.nomem = false;
    sc.nf = 0;
    sc.cap_f = INLINE_DEPTH;
    sc.nm = 0;
    sc.cap_m = INLINE_MEMS;
    if (scan_text(&sc, root)) {
        *out = root;
        goto out;
    }
    if (sc.nomem) {
        ctix_diag_set(diag, NULL, "out of memory");
        rc = CTIX_ENOMEM;
        goto out;
    }
    /* Rejected: the strict parser says where and why (and must agree that it is malformed). */
    rc = stix_json_parse(text, len, &j, diag);
    if (rc == CTIX_OK) {
        ctix_diag_set(diag, NULL, "JSON text rejected by the observation scanner");
        rc = CTIX_EINVAL;
    }
out:
    json_decref(j);
    if (sc.fr != sc.fr_inline)
        free(sc.fr);
    if (sc.m != sc.m_inline)
        free(sc.m);
    return rc;
}
