/* Observations: each observed-data of a set of STIX objects with its interval, its number of
 * instances and its SCOs, indexed the two ways evaluation needs — by type (the roots of an object
 * path, also across observations so that a pattern skips observations without its type) and by
 * the key *_ref values use (the id in 2.1, the local key "0", "1"… of the 2.0 "objects" form).
 *
 * Two ways in, one builder: pattern_obs_new copies the jansson values it needs into struct pval
 * trees, pattern_obs_new_text parses the text straight into them (scan.c). Everything lives in
 * the set's arena; nothing is reference-counted. */
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "stix/stix.h"

#define JSON_COPY_DEPTH 4096 /* jansson values deeper than this are refused (stack) */
#define SMALL_SORT      24   /* insertion sort up to this many elements */
#define BY_KEY_MIN      8    /* observations up to this many SCOs resolve *_ref by a plain scan */

/* ent.sco of an observed-data before its observation is built. */
static const char OD_MARK[] = "observed-data";

/* One object of the input: what object_refs can name. */
struct ent {
    const char *id; /* NULL when the object has no string id */
    size_t id_len;
    const struct pval *v;    /* the object; NULL until copied (pattern_obs_new) */
    const json_t *j;         /* pattern_obs_new: the jansson value */
    const struct pval *type; /* pattern_obs_new_text: its "type" member, NULL when none */
    const char *sco;         /* its SCO type once known */
    uint32_t kind;           /* and its slot in build.kinds (NO_KIND when none) */
    uint32_t stamp;          /* build.stamp of the last observation that took it */
    bool sco_known;
};

#define KIND_CACHE 16
#define NO_KIND    UINT32_MAX

/* The day of the last date read: the observed-data of a bundle mostly share their dates, and
 * the date is the dear half of a timestamp (ctix_days_from_civil divides). */
struct date_memo {
    char date[10]; /* "YYYY-MM-DD", valid; date[0] == 0 when empty */
    int64_t days;
};

struct build {
    struct pattern_obs *o;
    /* SCO-or-not of the last few type names: a bundle has few types and many objects. */
    struct {
        const char *t;
        size_t n;
        bool sco;
        uint32_t rank; /* in tl_kinds, NO_RANK when not there */
    } kinds[KIND_CACHE];
    unsigned n_kinds;
    unsigned tl_start; /* tl_n_kinds when the build began: ranks are current while it stays */
    bool kinds_full;   /* a type was not cached: type pointers are not all interned */
    struct ent *ents;
    size_t n_ents;
    uint32_t *slots; /* open addressing over ents by id: index + 1, 0 empty */
    size_t mask;
    bool full_hash; /* ids hashed on every byte (crafted collisions seen) */
    /* SCOs of the observation being built. */
    struct pobs_sco *tmp;
    size_t n_tmp, cap_tmp;
    struct date_memo memo;
    uint32_t stamp; /* one per observation built, from 1 */
};

/* ---- jansson values into pval trees ---- */

static enum ctix_rc pv_from_json(struct arena *a, const json_t *j, unsigned depth, struct pval *v)
{
    enum ctix_rc rc = CTIX_OK;

    if (depth > JSON_COPY_DEPTH)
        return CTIX_ETOOBIG;
    v->n = 0;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(j), i = 0, key_len;
        struct pmember *m = n ? arena_alloc(a, n * sizeof(*m)) : NULL;
        const char *key;
        json_t *val;

        if (n > 0 && m == NULL)
            return CTIX_ENOMEM;
        json_object_keylen_foreach((json_t *)j, key, key_len, val)
        {
            if (i == n)
                break;
            m[i].key = arena_strndup(a, key, key_len);
            m[i].key_len = key_len;
            if (m[i].key == NULL)
                return CTIX_ENOMEM;
            rc = pv_from_json(a, val, depth + 1, &m[i].v);
            if (rc != CTIX_OK)
                return rc;
            i++;
        }
        v->kind = PV_OBJ;
        v->n = (uint32_t)i;
        v->u.members = m;
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        struct pval *items = n ? arena_alloc(a, n * sizeof(*items)) : NULL;

        if (n > 0 && items == NULL)
            return CTIX_ENOMEM;
        if (n > UINT32_MAX)
            return CTIX_ETOOBIG;
        for (size_t i = 0; i < n; i++) {
            rc = pv_from_json(a, json_array_get(j, i), depth + 1, &items[i]);
            if (rc != CTIX_OK)
                return rc;
        }
        v->kind = PV_ARR;
        v->n = (uint32_t)n;
        v->u.items = items;
        break;
    }
    case JSON_STRING: {
        size_t n = json_string_length(j);

        if (n > UINT32_MAX)
            return CTIX_ETOOBIG;
        v->kind = PV_STR;
        v->n = (uint32_t)n;
        v->u.s = arena_strndup(a, json_string_value(j), n);
        if (v->u.s == NULL)
            return CTIX_ENOMEM;
        break;
    }
    case JSON_INTEGER:
        v->kind = PV_INT;
        v->u.i = json_integer_value(j);
        break;
    case JSON_REAL:
        v->kind = PV_REAL;
        v->u.f = json_real_value(j);
        break;
    case JSON_TRUE:
        v->kind = PV_TRUE;
        break;
    case JSON_FALSE:
        v->kind = PV_FALSE;
        break;
    case JSON_NULL:
    default:
        v->kind = PV_NULL;
        break;
    }
    return rc;
}

/* The pval of an input object, copied from jansson on first use. */
static enum ctix_rc ent_value(struct build *b, struct ent *e, const struct pval **out)
{
    struct pval *v;
    enum ctix_rc rc;

    if (e->v == NULL) {
        v = arena_alloc(&b->o->arena, sizeof(*v));
        if (v == NULL)
            return CTIX_ENOMEM;
        rc = pv_from_json(&b->o->arena, e->j, 0, v);
        if (rc != CTIX_OK)
            return rc;
        e->v = v;
        /* The id as a key must outlive the caller's jansson values: the copy's. */
        if (e->id != NULL)
            e->id = pattern__pv_str(pattern__pval_get(v, "id", 2));
    }
    *out = e->v;
    return CTIX_OK;
}

/* ---- the id table ---- */

/* 8 bytes at a time; ids are "type--uuid", ~50 bytes. */
static uint64_t id_hash(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

    while (n >= 8) {
        uint64_t w;

        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;

        memcpy(&w, s, n);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    }
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}

/* Ids end in a random UUID: its last 16 bytes, the first 8 and the length make a good key at a
 * third of the cost. Crafted ids could all collide on that, so a long probe sends the table back
 * to hashing every byte. */
#define PROBE_MAX 32

static uint64_t id_hash_fast(const char *s, size_t n)
{
    uint64_t a, c, d;

    if (n < 16)
        return id_hash(s, n);
    memcpy(&a, s, 8);
    memcpy(&c, s + n - 16, 8);
    memcpy(&d, s + n - 8, 8);
    a = (a ^ n) * 0x9e3779b97f4a7c15ull;
    c = (c ^ a) * 0xff51afd7ed558ccdull;
    d = (d ^ (c >> 29)) * 0xc4ceb9fe1a85ec53ull;
    return d ^ (d >> 32) ^ c;
}

static size_t id_slot(const struct build *b, const char *id, size_t n)
{
    return (size_t)(b->full_hash ? id_hash(id, n) : id_hash_fast(id, n)) & b->mask;
}

/* False when a probe ran past PROBE_MAX (then the table is unusable as built). */
static bool ids_fill(struct build *b)
{
    memset(b->slots, 0, (b->mask + 1) * sizeof(*b->slots));
    for (size_t i = 0; i < b->n_ents; i++) {
        const struct ent *e = &b->ents[i];
        size_t h, probes = 0;

        if (e->id == NULL)
            continue;
        for (h = id_slot(b, e->id, e->id_len);; h = (h + 1) & b->mask) {
            const struct ent *x;

            if (b->slots[h] == 0)
                break;
            x = &b->ents[b->slots[h] - 1];
            if (x->id_len == e->id_len && memcmp(x->id, e->id, e->id_len) == 0)
                break; /* the last of equal ids wins, as in the reference */
            if (++probes > PROBE_MAX && !b->full_hash)
                return false;
        }
        b->slots[h] = (uint32_t)i + 1;
    }
    return true;
}

static enum ctix_rc ids_build(struct build *b)
{
    size_t cap = 16;

    while (cap < b->n_ents * 2)
        cap *= 2;
    b->slots = arena_alloc(&b->o->arena, cap * sizeof(*b->slots));
    if (b->slots == NULL)
        return CTIX_ENOMEM;
    b->mask = cap - 1;
    b->full_hash = false;
    if (!ids_fill(b)) {
        b->full_hash = true;
        (void)ids_fill(b);
    }
    return CTIX_OK;
}

static struct ent *id_find(const struct build *b, const char *id, size_t n)
{
    size_t h = id_slot(b, id, n);

    for (;; h = (h + 1) & b->mask) {
        struct ent *x;

        if (b->slots[h] == 0)
            return NULL;
        x = &b->ents[b->slots[h] - 1];
        if (x->id_len == n && memcmp(x->id, id, n) == 0)
            return x;
    }
}

/* ---- SCOs of one observation ---- */

/* Whether a type name is an SCO (or custom) type. stix_type_kind is a binary search with string
 * compares; the answers for the few type names one thread meets are kept (per thread, so
 * concurrent builds share nothing). */
#define TL_KINDS    32
#define TL_NAME_MAX 32

static _Thread_local struct {
    char name[TL_NAME_MAX];
    size_t n;
    bool sco;
    /* Its place in strcmp order among the cached names, so that a build orders its types
     * without comparing names (ranks are renumbered as names arrive, never within a build
     * that relies on them: see sco_type). */
    uint32_t rank;
} tl_kinds[TL_KINDS];
static _Thread_local unsigned tl_n_kinds;

#define NO_RANK UINT32_MAX

/* *rank is the name's rank in the cache, or NO_RANK when it is not cached. */
static bool sco_kind(const char *t, size_t n, uint32_t *rank)
{
    enum stix_kind k;
    bool sco;
    uint32_t r = 0;

    for (unsigned i = 0; i < tl_n_kinds; i++) {
        if (tl_kinds[i].n == n && memcmp(tl_kinds[i].name, t, n) == 0) {
            *rank = tl_kinds[i].rank;
            return tl_kinds[i].sco;
        }
    }
    k = stix_type_kind(t);
    sco = k == STIX_KIND_SCO || k == STIX_KIND_CUSTOM;
    *rank = NO_RANK;
    /* Only names without a NUL inside: stix_type_kind saw the same bytes. */
    if (n < TL_NAME_MAX && tl_n_kinds < TL_KINDS && strlen(t) == n) {
        for (unsigned i = 0; i < tl_n_kinds; i++) {
            if (strcmp(tl_kinds[i].name, t) < 0)
                r++;
            else
                tl_kinds[i].rank++;
        }
        memcpy(tl_kinds[tl_n_kinds].name, t, n);
        tl_kinds[tl_n_kinds].name[n] = '\0';
        tl_kinds[tl_n_kinds].n = n;
        tl_kinds[tl_n_kinds].sco = sco;
        tl_kinds[tl_n_kinds].rank = r;
        tl_n_kinds++;
        *rank = r;
    }
    return sco;
}

/* The SCO's type, or NULL when t (an object's "type" member) is not a string naming an SCO (or
 * custom) kind: SDOs, SROs and SMOs are never roots nor reference targets. */
static const char *sco_type(struct build *b, const struct pval *t, uint32_t *kind)
{
    bool sco;
    uint32_t rank;

    *kind = NO_KIND;
    if (!pattern__pv_is(t, PV_STR))
        return NULL;
    for (unsigned i = 0; i < b->n_kinds; i++) {
        /* The first spelling seen stands for all: equal types then share one pointer. */
        if (b->kinds[i].n == t->n && memcmp(b->kinds[i].t, t->u.s, t->n) == 0) {
            *kind = i;
            return b->kinds[i].sco ? b->kinds[i].t : NULL;
        }
    }
    sco = sco_kind(t->u.s, t->n, &rank);
    if (b->n_kinds == KIND_CACHE) {
        b->kinds_full = true;
    } else {
        b->kinds[b->n_kinds].t = t->u.s;
        b->kinds[b->n_kinds].n = t->n;
        b->kinds[b->n_kinds].sco = sco;
        b->kinds[b->n_kinds].rank = rank;
        *kind = b->n_kinds++;
    }
    return sco ? t->u.s : NULL;
}

static enum ctix_rc tmp_add(struct build *b, const char *type, uint32_t kind, const char *key,
                            const struct pval *v)
{
    if (b->n_tmp == b->cap_tmp) {
        size_t cap = b->cap_tmp ? b->cap_tmp * 2 : 16;
        struct pobs_sco *t = realloc(b->tmp, cap * sizeof(*t));

        if (t == NULL)
            return CTIX_ENOMEM;
        b->tmp = t;
        b->cap_tmp = cap;
    }
    b->tmp[b->n_tmp].type = type;
    b->tmp[b->n_tmp].key = key;
    b->tmp[b->n_tmp].v = v;
    b->tmp[b->n_tmp].kind = kind;
    b->n_tmp++;
    return CTIX_OK;
}

/* An observation's SCOs are grouped by type, each group in object_refs order (the sort is
 * stable): evaluation asks for the roots of a type, never for an order among them. Types are
 * compared by the builder's kind number when every SCO of the observation has one (equal types
 * then share one number and one pointer), else by name. */
static int sco_type_cmp(const struct pobs_sco *x, const struct pobs_sco *y, bool by_kind)
{
    if (x->type == y->type)
        return 0;
    if (by_kind)
        return x->kind < y->kind ? -1 : x->kind > y->kind;
    return strcmp(x->type, y->type);
}

/* qsort is not stable and its comparators get no context: big observations sort (SCO,
 * position) pairs, by name, the position breaking ties. */
struct sco_pos {
    struct pobs_sco s;
    uint32_t i;
};

static int sco_pos_cmp(const void *a, const void *b)
{
    const struct sco_pos *x = a, *y = b;
    int c = sco_type_cmp(&x->s, &y->s, false);

    return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

static int key_pos_cmp(const void *a, const void *b)
{
    const struct sco_pos *x = a, *y = b;

    return strcmp(x->s.key, y->s.key);
}

/* ob->scos from b->tmp, grouped by type; ob->by_key for observations of more than BY_KEY_MIN. */
static enum ctix_rc scos_group(struct build *b, struct pobs *ob, size_t n)
{
    struct pobs_sco *t = ob->scos;
    bool by_kind = true;
    struct sco_pos *sp = NULL;

    memcpy(t, b->tmp, n * sizeof(*t));
    for (size_t i = 0; i < n && by_kind; i++)
        by_kind = t[i].kind != NO_KIND;
    if (n <= SMALL_SORT) {
        for (size_t i = 1; i < n; i++) {
            struct pobs_sco x = t[i];
            size_t j = i;

            while (j > 0 && sco_type_cmp(&t[j - 1], &x, by_kind) > 0) {
                t[j] = t[j - 1];
                j--;
            }
            t[j] = x;
        }
    }
    if (n <= SMALL_SORT && n <= BY_KEY_MIN)
        return CTIX_OK;
    sp = malloc(n * sizeof(*sp));
    if (sp == NULL)
        return CTIX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        sp[i].s = t[i];
        sp[i].i = (uint32_t)i;
    }
    if (n > SMALL_SORT) {
        qsort(sp, n, sizeof(*sp), sco_pos_cmp);
        for (size_t i = 0; i < n; i++) {
            t[i] = sp[i].s;
            sp[i].i = (uint32_t)i;
        }
    }
    if (n > BY_KEY_MIN) {
        ob->by_key = arena_alloc(&b->o->arena, n * sizeof(*ob->by_key));
        if (ob->by_key == NULL) {
            free(sp);
            return CTIX_ENOMEM;
        }
        qsort(sp, n, sizeof(*sp), key_pos_cmp);
        for (size_t i = 0; i < n; i++)
            ob->by_key[i] = sp[i].i;
    }
    free(sp);
    return CTIX_OK;
}

/* The members of an observed-data that make its observation, found in one pass. */
struct od_fields {
    const struct pval *id, *first, *last, *no, *refs, *objects;
};

static bool key_is(const struct pmember *m, const char *k, size_t n)
{
    return m->key_len == n && memcmp(m->key, k, n) == 0;
}

static void od_fields_get(const struct pval *od, struct od_fields *f)
{
    memset(f, 0, sizeof(*f));
    for (uint32_t i = 0; i < od->n; i++) {
        const struct pmember *m = &od->u.members[i];

        switch (m->key_len) {
        case 2:
            if (key_is(m, "id", 2))
                f->id = &m->v;
            break;
        case 7:
            if (key_is(m, "objects", 7))
                f->objects = &m->v;
            break;
        case 11:
            if (key_is(m, "object_refs", 11))
                f->refs = &m->v;
            break;
        case 13:
            if (key_is(m, "last_observed", 13))
                f->last = &m->v;
            break;
        case 14:
            if (key_is(m, "first_observed", 14))
                f->first = &m->v;
            break;
        case 15:
            if (key_is(m, "number_observed", 15))
                f->no = &m->v;
            break;
        default:
            break;
        }
    }
}

static bool ts_fast_memo(const char *s, size_t n, int64_t *us, struct date_memo *memo)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const unsigned char *u = (const unsigned char *)s;
    unsigned y, mo, d, h, mi, se, ms = 0, dim, bad;
    int64_t days;

    if ((n != 20 && n != 24) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[n - 1] != 'Z' || (n == 24 && s[19] != '.'))
        return false;
        /* Every digit position checked without a branch each (a byte below '0' wraps to a large
         * unsigned value): timestamps are read twice for each observed-data of every bundle. */
#define D(i) ((unsigned)u[i] - '0')
#define B(i) (D(i) > 9)
    bad = B(11) | B(12) | B(14) | B(15) | B(17) | B(18);
    if (n == 24) {
        bad |= B(20) | B(21) | B(22);
        ms = D(20) * 100 + D(21) * 10 + D(22);
    }
    h = D(11) * 10 + D(12);
    mi = D(14) * 10 + D(15);
    se = D(17) * 10 + D(18);
    if (bad || h > 23 || mi > 59 || se > 60)
        return false;
    if (memo != NULL && memcmp(memo->date, s, 10) == 0) {
        days = memo->days;
    } else {
        if (B(0) | B(1) | B(2) | B(3) | B(5) | B(6) | B(8) | B(9))
            return false;
        y = D(0) * 1000 + D(1) * 100 + D(2) * 10 + D(3);
        mo = D(5) * 10 + D(6);
        d = D(8) * 10 + D(9);
        if (mo < 1 || mo > 12 || d < 1)
            return false;
        dim = mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
        if (d > dim)
            return false;
        days = ctix_days_from_civil(y, mo, d);
        if (memo != NULL) {
            memcpy(memo->date, s, 10);
            memo->days = days;
        }
    }
#undef B
#undef D
    *us = (days * 86400 + (int64_t)h * 3600 + mi * 60 + se) * 1000000 + (int64_t)ms * 1000;
    return true;
}

bool pattern__ts_fast(const char *s, size_t n, int64_t *us)
{
    return ts_fast_memo(s, n, us, NULL);
}

static enum ctix_rc od_timestamp(struct build *b, const struct pval *v, const char *name,
                                 const char *id, int64_t *out, struct ctix_diag *diag)
{
    const char *s = pattern__pv_str(v);
    struct ctix_ts ts;

    /* The two forms bundles use, without the general parser; anything else goes through it. */
    if (s != NULL && ts_fast_memo(s, v->n, out, &b->memo))
        return CTIX_OK;

    if (s == NULL) {
        ctix_diag_set(diag, name, "observed-data %s: %s is missing or not a string", id, name);
        return CTIX_EINVAL;
    }
    if (stix_ts_parse(s, false, &ts) != CTIX_OK) {
        ctix_diag_set(diag, name, "observed-data %s: %s is not a STIX timestamp: '%.40s'", id, name,
                      s);
        return CTIX_EINVAL;
    }
    *out = ctix_ts_to_us(&ts);
    return CTIX_OK;
}

/* Collects the SCOs of od into b->tmp. */
static enum ctix_rc od_scos(struct build *b, const struct od_fields *f, const char *id,
                            struct ctix_diag *diag)
{
    const struct pval *refs = f->refs;
    const struct pval *embedded = f->objects;
    enum ctix_rc rc = CTIX_OK;

    b->n_tmp = 0;
    b->stamp++;
    if (refs != NULL) {
        if (refs->kind != PV_ARR) {
            ctix_diag_set(diag, "object_refs", "observed-data %s: object_refs is not a list", id);
            return CTIX_EINVAL;
        }
        for (uint32_t i = 0; i < refs->n; i++) {
            const struct pval *r = &refs->u.items[i];
            struct ent *e;

            if (r->kind != PV_STR) {
                ctix_diag_set(diag, "object_refs",
                              "observed-data %s: object_refs[%u] is not a string", id, i);
                return CTIX_EINVAL;
            }
            /* Ids missing from the set are ignored, as the reference matcher does; an id listed
             * twice names the same object (id_find gives one object an id), kept once. */
            e = id_find(b, r->u.s, r->n);
            if (e == NULL || e->stamp == b->stamp)
                continue;
            e->stamp = b->stamp;
            if (!e->sco_known) {
                const struct pval *v;

                rc = ent_value(b, e, &v);
                if (rc != CTIX_OK)
                    return rc;
                e->sco = sco_type(b, e->type != NULL ? e->type : pattern__pval_get(v, "type", 4),
                                  &e->kind);
                e->sco_known = true;
            }
            if (e->sco == NULL)
                continue;
            rc = tmp_add(b, e->sco, e->kind, e->id, e->v);
            if (rc != CTIX_OK)
                return rc;
        }
        return CTIX_OK;
    }
    if (embedded != NULL) {
        if (embedded->kind != PV_OBJ) {
            ctix_diag_set(diag, "objects", "observed-data %s: objects is not a dictionary", id);
            return CTIX_EINVAL;
        }
        for (uint32_t i = 0; i < embedded->n; i++) {
            const struct pmember *m = &embedded->u.members[i];
            uint32_t kind;
            const char *type = sco_type(b, pattern__pval_get(&m->v, "type", 4), &kind);

            if (type == NULL)
                continue;
            rc = tmp_add(b, type, kind, m->key, &m->v);
            if (rc != CTIX_OK)
                return rc;
        }
        return CTIX_OK;
    }
    ctix_diag_set(diag, "object_refs", "observed-data %s: neither object_refs nor objects", id);
    return CTIX_EINVAL;
}

static enum ctix_rc od_build(struct build *b, const struct pval *od, size_t pos, struct pobs *ob,
                             struct ctix_diag *diag)
{
    struct pattern_obs *o = b->o;
    struct od_fields f;
    const char *id;
    const struct pval *no;
    char label[80];
    size_t n;
    enum ctix_rc rc;

    od_fields_get(od, &f);
    id = pattern__pv_str(f.id);
    no = f.no;
    ob->id = id != NULL ? id : "";
    if (id == NULL) {
        snprintf(label, sizeof(label), "(objects[%zu], no id)", pos);
        id = label;
    }
    rc = od_timestamp(b, f.first, "first_observed", id, &ob->first_us, diag);
    if (rc != CTIX_OK)
        goto out;
    rc = od_timestamp(b, f.last, "last_observed", id, &ob->last_us, diag);
    if (rc != CTIX_OK)
        goto out;
    if (ob->first_us > ob->last_us) {
        ctix_diag_set(diag, "first_observed",
                      "observed-data %s: first_observed is after last_observed", id);
        rc = CTIX_EINVAL;
        goto out;
    }
    if (!pattern__pv_is(no, PV_INT) || no->u.i < 1) {
        ctix_diag_set(diag, "number_observed",
                      "observed-data %s: number_observed is missing or not an integer >= 1", id);
        rc = CTIX_EINVAL;
        goto out;
    }
    ob->n_inst = (uint64_t)no->u.i;
    o->total_inst =
        o->total_inst + ob->n_inst < o->total_inst ? UINT64_MAX : o->total_inst + ob->n_inst;
    rc = od_scos(b, &f, id, diag);
    if (rc != CTIX_OK)
        goto out;
    n = b->n_tmp;
    if (n > UINT32_MAX / 2) {
        ctix_diag_set(diag, "object_refs", "observed-data %s: too many objects", id);
        rc = CTIX_ETOOBIG;
        goto out;
    }
    ob->n_scos = (uint32_t)n;
    if (n == 0)
        goto out;
    ob->scos = arena_alloc(&o->arena, n * sizeof(*ob->scos));
    if (ob->scos == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    rc = scos_group(b, ob, n);
out:
    return rc;
}
/* The global index by type. The SCOs of each observation are grouped by type, so each run of one
 * type is a group; groups are counted per distinct type (found through a small hash of type
 * names), then each type's list is filled in observation order. */
struct tslot {
    const char *type;
    uint32_t count, fill;
    uint32_t rank; /* position in o->types */
};

static bool same_type(const char *a, const char *b)
{
    return a == b || strcmp(a, b) == 0;
}

static int tslot_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct tslot *const *)a)->type, (*(const struct tslot *const *)b)->type);
}

static enum ctix_rc types_build(struct pattern_obs *o)
{
    size_t n_groups = 0, cap = 16, mask, nt = 0;
    struct tslot *slots = NULL, **sorted = NULL;
    uint32_t *grp = NULL;
    size_t g;
    enum ctix_rc rc = CTIX_OK;

    for (size_t i = 0; i < o->n_obs; i++) {
        const struct pobs *ob = &o->obs[i];

        for (uint32_t s = 0; s < ob->n_scos; s++)
            n_groups += s == 0 || !same_type(ob->scos[s].type, ob->scos[s - 1].type);
    }
    if (n_groups == 0)
        goto out;
    while (cap < n_groups * 2)
        cap *= 2;
    mask = cap - 1;
    slots = calloc(cap, sizeof(*slots));
    grp = malloc(n_groups * sizeof(*grp));
    if (slots == NULL || grp == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    g = 0;
    for (size_t i = 0; i < o->n_obs; i++) {
        const struct pobs *ob = &o->obs[i];

        for (uint32_t s = 0; s < ob->n_scos; s++) {
            const char *t = ob->scos[s].type;
            size_t tl, h;

            if (s > 0 && same_type(t, ob->scos[s - 1].type))
                continue;
            tl = strlen(t);
            for (h = (size_t)id_hash(t, tl) & mask; slots[h].type != NULL; h = (h + 1) & mask) {
                if (strcmp(slots[h].type, t) == 0)
                    break;
            }
            if (slots[h].type == NULL) {
                slots[h].type = t;
                nt++;
            }
            slots[h].count++;
            grp[g++] = (uint32_t)h;
        }
    }
    sorted = malloc(nt * sizeof(*sorted));
    o->types = arena_zalloc(&o->arena, nt * sizeof(*o->types));
    if (sorted == NULL || o->types == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    nt = 0;
    for (size_t h = 0; h < cap; h++) {
        if (slots[h].type != NULL)
            sorted[nt++] = &slots[h];
    }
    qsort(sorted, nt, sizeof(*sorted), tslot_cmp);
    for (size_t k = 0; k < nt; k++) {
        struct pobs_type *t = &o->types[k];

        sorted[k]->rank = (uint32_t)k;
        t->type = sorted[k]->type;
        t->n_at = sorted[k]->count;
        t->at = arena_alloc(&o->arena, t->n_at * sizeof(*t->at));
        if (t->at == NULL) {
            rc = CTIX_ENOMEM;
            goto out;
        }
    }
    o->n_types = nt;
    g = 0;
    for (size_t i = 0; i < o->n_obs; i++) {
        const struct pobs *ob = &o->obs[i];

        for (uint32_t s = 0; s < ob->n_scos;) {
            uint32_t e = s + 1;
            struct tslot *sl = &slots[grp[g++]];
            struct pobs_at *at;

            while (e < ob->n_scos && same_type(ob->scos[e].type, ob->scos[s].type))
                e++;
            at = &o->types[sl->rank].at[sl->fill++];
            at->obs = (uint32_t)i;
            at->start = s;
            at->n = e - s;
            s = e;
        }
    }
out:
    free(slots);
    free(grp);
    free(sorted);
    return rc;
}

/* types_build when every type pointer came from b->kinds (at most KIND_CACHE types): a type is
 * its slot there, found by pointer. */
static enum ctix_rc types_build_interned(struct build *b)
{
    struct pattern_obs *o = b->o;
    uint32_t count[KIND_CACHE] = {0}, fill[KIND_CACHE] = {0}, rank[KIND_CACHE];
    unsigned order[KIND_CACHE], nt = 0;
    bool ranked;

    for (size_t i = 0; i < o->n_obs; i++) {
        const struct pobs *ob = &o->obs[i];

        for (uint32_t s = 0; s < ob->n_scos; s++) {
            if (s > 0 && ob->scos[s].type == ob->scos[s - 1].type)
                continue;
            count[ob->scos[s].kind]++;
        }
    }
    /* Types in name order: by their ranks in the thread's cache when no name joined it during
     * this build (joining renumbers), else by comparing the names. */
    ranked = tl_n_kinds == b->tl_start;
    for (unsigned k = 0; k < b->n_kinds && ranked; k++)
        ranked = b->kinds[k].rank != NO_RANK;
    for (unsigned k = 0; k < b->n_kinds; k++) {
        unsigned j = nt;

        if (count[k] == 0)
            continue;
        while (j > 0 && (ranked ? b->kinds[order[j - 1]].rank > b->kinds[k].rank
                                : strcmp(b->kinds[order[j - 1]].t, b->kinds[k].t) > 0)) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
        nt++;
    }
    if (nt == 0)
        return CTIX_OK;
    o->types = arena_alloc(&o->arena, nt * sizeof(*o->types));
    if (o->types == NULL)
        return CTIX_ENOMEM;
    for (unsigned r = 0; r < nt; r++) {
        struct pobs_type *t = &o->types[r];
        unsigned k = order[r];

        rank[k] = r;
        t->type = b->kinds[k].t;
        t->n_at = count[k];
        t->at = arena_alloc(&o->arena, count[k] * sizeof(*t->at));
        if (t->at == NULL)
            return CTIX_ENOMEM;
    }
    o->n_types = nt;
    for (size_t i = 0; i < o->n_obs; i++) {
        const struct pobs *ob = &o->obs[i];

        for (uint32_t s = 0; s < ob->n_scos;) {
            uint32_t e = s + 1, k = ob->scos[s].kind;
            struct pobs_at *at;

            while (e < ob->n_scos && ob->scos[e].type == ob->scos[s].type)
                e++;
            at = &o->types[rank[k]].at[fill[k]++];
            at->obs = (uint32_t)i;
            at->start = s;
            at->n = e - s;
            s = e;
        }
    }
    return CTIX_OK;
}

/* Builds the observations of ents[0..n) (b->ents set by the caller). */
static enum ctix_rc obs_build(struct build *b, struct ctix_diag *diag)
{
    struct pattern_obs *o = b->o;
    size_t n_od = 0, k = 0;
    enum ctix_rc rc;

    if (b->n_ents > UINT32_MAX / 2) {
        ctix_diag_set(diag, NULL, "observations: too many objects");
        return CTIX_ETOOBIG;
    }
    rc = ids_build(b);
    if (rc != CTIX_OK)
        return rc;
    for (size_t i = 0; i < b->n_ents; i++)
        n_od += b->ents[i].sco == OD_MARK;
    o->obs = arena_zalloc(&o->arena, (n_od + 1) * sizeof(*o->obs));
    if (o->obs == NULL)
        return CTIX_ENOMEM;
    for (size_t i = 0; i < b->n_ents; i++) {
        struct ent *e = &b->ents[i];
        const struct pval *od;

        if (e->sco != OD_MARK)
            continue;
        e->sco = NULL; /* an observed-data is not an SCO */
        e->sco_known = true;
        rc = ent_value(b, e, &od);
        if (rc != CTIX_OK)
            return rc;
        rc = od_build(b, od, i, &o->obs[k], diag);
        if (rc != CTIX_OK)
            return rc;
        k++;
    }
    o->n_obs = k;
    if (!b->kinds_full)
        return types_build_interned(b);
    return types_build(o);
}

static void build_cleanup(struct build *b)
{
    free(b->ents);
    free(b->tmp);
}

/* The result of a build: *out, or everything freed. */
static enum ctix_rc obs_finish(struct pattern_obs *o, enum ctix_rc rc, struct pattern_obs **out)
{
    if (rc != CTIX_OK)
        pattern_obs_free(o);
    else
        *out = o;
    return rc;
}

enum ctix_rc pattern_obs_new(const json_t *objects, struct pattern_obs **out,
                             struct ctix_diag *diag)
{
    struct build b;
    struct pattern_obs *o = calloc(1, sizeof(*o));
    size_t i;
    json_t *obj;
    enum ctix_rc rc = CTIX_OK;

    memset(&b, 0, sizeof(b));
    if (o == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    arena_init(&o->arena);
    b.o = o;
    b.tl_start = tl_n_kinds;
    if (!json_is_array(objects)) {
        ctix_diag_set(diag, NULL, "observations: expected a list of STIX objects");
        rc = CTIX_EINVAL;
        goto out;
    }
    b.n_ents = json_array_size(objects);
    b.ents = calloc(b.n_ents + 1, sizeof(*b.ents));
    if (b.ents == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    json_array_foreach(objects, i, obj)
    {
        const json_t *id = json_object_get(obj, "id");
        const char *type = json_string_value(json_object_get(obj, "type"));
        struct ent *e = &b.ents[i];

        e->j = obj;
        if (json_is_string(id)) {
            e->id = json_string_value(id);
            e->id_len = json_string_length(id);
        }
        if (type != NULL && strcmp(type, "observed-data") == 0)
            e->sco = OD_MARK;
    }
    rc = obs_build(&b, diag);
out:
    build_cleanup(&b);
    return o ? obs_finish(o, rc, out) : rc;
}

enum ctix_rc pattern_obs_new_text(const char *text, size_t len, const struct pattern *p,
                                  struct pattern_obs **out, struct ctix_diag *diag)
{
    struct build b;
    struct pattern_obs *o = calloc(1, sizeof(*o));
    const struct pval *root = NULL, *list;
    enum ctix_rc rc = CTIX_OK;

    (void)p;
    memset(&b, 0, sizeof(b));
    if (o == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    arena_init(&o->arena);
    b.o = o;
    b.tl_start = tl_n_kinds;
    rc = pattern__json_scan(&o->arena, text, len, &root, diag);
    if (rc != CTIX_OK)
        goto out;
    list = root;
    if (root->kind == PV_OBJ)
        list = pattern__pval_get(root, "objects", 7);
    if (list != NULL && list->kind != PV_ARR) {
        ctix_diag_set(diag, NULL, "observations: expected a list of STIX objects");
        rc = CTIX_EINVAL;
        goto out;
    }
    b.n_ents = list != NULL ? list->n : 0;
    b.ents = calloc(b.n_ents + 1, sizeof(*b.ents));
    if (b.ents == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < b.n_ents; i++) {
        const struct pval *v = &list->u.items[i];
        const struct pval *id = NULL, *type = NULL;
        struct ent *e = &b.ents[i];

        /* id and type in one pass; the first of each, as pattern__pval_get would find (keys are
         * unique anyway). */
        if (v->kind == PV_OBJ) {
            for (uint32_t k = 0; k < v->n && (id == NULL || type == NULL); k++) {
                const struct pmember *m = &v->u.members[k];

                if (m->key_len == 2 && m->key[0] == 'i' && m->key[1] == 'd')
                    id = &m->v;
                else if (m->key_len == 4 && memcmp(m->key, "type", 4) == 0)
                    type = &m->v;
            }
        }
        e->v = v;
        e->type = type;
        if (pattern__pv_is(id, PV_STR)) {
            e->id = id->u.s;
            e->id_len = id->n;
        }
        if (pattern__pv_is(type, PV_STR) && type->n == 13 && memcmp(type->u.s, OD_MARK, 13) == 0)
            e->sco = OD_MARK;
    }
    rc = obs_build(&b, diag);
out:
    build_cleanup(&b);
    return o ? obs_finish(o, rc, out) : rc;
}

void pattern_obs_free(struct pattern_obs *o)
{
    if (o == NULL)
        return;
    arena_cleanup(&o->arena);
    free(o);
}

size_t pattern_obs_count(const struct pattern_obs *o)
{
    return o ? o->n_obs : 0;
}

const char *pattern_obs_id(const struct pattern_obs *o, size_t i)
{
    if (o == NULL || i >= o->n_obs)
        return NULL;
    return o->obs[i].id;
}

const struct pobs_type *pattern__obs_type(const struct pattern_obs *o, const char *type)
{
    size_t lo = 0, hi = o->n_types;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(o->types[mid].type, type);

        if (c == 0)
            return &o->types[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct pobs_sco *pattern__obs_ref(const struct pobs *ob, const char *key)
{
    size_t lo = 0, hi = ob->n_scos;

    if (ob->by_key == NULL) {
        for (uint32_t i = 0; i < ob->n_scos; i++) {
            if (strcmp(ob->scos[i].key, key) == 0)
                return &ob->scos[i];
        }
        return NULL;
    }

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct pobs_sco *s = &ob->scos[ob->by_key[mid]];
        int c = strcmp(s->key, key);

        if (c == 0)
            return s;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
