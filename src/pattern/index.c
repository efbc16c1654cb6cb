/* The match index: many indicators compiled once, so that "which of these 100,000 indicators match
 * this observation?" costs a few hash lookups per SCO property instead of 100,000 evaluations.
 *
 * Most real indicators are one observation expression of `=`/`IN` comparisons on plain string
 * properties joined by OR ([ipv4-addr:value = '…'], [file:hashes.'SHA-256' = '…' OR …]). For those
 * a pattern matches an observation exactly when one of its (property path, string) pairs equals
 * the value that path selects in one of the observation's SCOs, so each pair becomes a key of a
 * hash table and the pattern's AST is freed. Everything else is kept and evaluated one by one.
 *
 * Memory: one byte pool holds every key (and path) back to back; the tables hold 32-bit indexes
 * into arrays, never pointers, so growing them is one realloc each and a key costs its bytes plus
 * about 40 bytes of bookkeeping. The hash is ours, keyed by a random seed per index, because both
 * the indicators and the observations come from outside. */
#include "pattern/pattern.h"

#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "stix/stix.h"

#define IX_NONE     UINT32_MAX
#define IX_MAX_ENTS (UINT32_MAX - 1) /* entries and tags are counted in 32 bits */
#define IX_POOL_MAX ((size_t)1 << 40)

/* ---- the hash: 64-bit multiply-xorshift over 8-byte words ---- */

static uint64_t hash_mix(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93u;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93u;
    h ^= h >> 32;
    return h;
}

/* (pre, p[0..n)) under seed. Every word passes through a multiplication chained on the previous
 * state, so equal-length inputs collide only by chance for a given seed, and the seed is secret. */
static uint64_t hash_key(uint64_t seed, uint32_t pre, const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = seed ^ (((uint64_t)pre << 32) | (uint32_t)n);
    uint64_t w;

    h = hash_mix(h);
    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15u;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w ^ ((uint64_t)n << 59)) * 0x9e3779b97f4a7c15u;
    return hash_mix(h ^ seed);
}

/* ---- an open-addressing table of byte keys kept in the pool ---- */

struct ix_ent {
    uint64_t off; /* into the pool: [pre u32][key bytes] */
    uint32_t len; /* key bytes, without pre */
    uint32_t val; /* what the table maps the key to */
};

struct ix_slot {
    uint32_t h;   /* high bits of the hash, to skip most key comparisons */
    uint32_t ent; /* entry + 1; 0 = empty */
};

struct ix_map {
    struct ix_slot *slots;
    size_t mask; /* n slots - 1; 0 before the first insert */
    struct ix_ent *ents;
    size_t n, cap;
};

struct ix_pool {
    char *p;
    size_t len, cap;
};

/* One key path of an indexed comparison, e.g. file:hashes.'SHA-256'. */
struct ix_path {
    uint64_t enc;       /* into the pool: the exact step list, see path_encode() */
    uint32_t enc_len;   /* its length */
    uint32_t type_next; /* next path on the same object type, or IX_NONE */
    uint32_t text_next; /* next path with the same text form, or IX_NONE */
};

struct ix_tag {
    uint32_t tag;
    uint32_t next; /* next tag of the same key, or IX_NONE */
};

struct ix_eval {
    struct pattern *p;
    uint32_t tag;
};

struct pattern_index {
    uint64_t seed;
    struct ix_pool pool;
    struct ix_map keys;  /* (path index, value) -> first tag */
    struct ix_map exact; /* encoded step list -> path index */
    struct ix_map text;  /* "type:key.key" -> first path with that text */
    struct ix_map types; /* object type -> first path on that type */
    struct ix_path *paths;
    size_t n_paths, cap_paths;
    struct ix_tag *tags;
    size_t n_tags, cap_tags;
    struct ix_eval *evals;
    size_t n_evals, cap_evals;
    size_t n_patterns, n_lookup, eval_mem;
};

/* Makes room for n more bytes in the pool. */
static enum ctix_rc pool_reserve(struct ix_pool *pl, size_t n)
{
    size_t need = pl->len + n, ncap;
    char *np;

    if (n > IX_POOL_MAX || need > IX_POOL_MAX)
        return CTIX_ETOOBIG;
    if (need <= pl->cap)
        return CTIX_OK;
    ncap = pl->cap != 0 ? pl->cap : 4096;
    while (ncap < need)
        ncap *= 2;
    np = realloc(pl->p, ncap);
    if (np == NULL)
        return CTIX_ENOMEM;
    pl->p = np;
    pl->cap = ncap;
    return CTIX_OK;
}

/* Appends pre and p[0..n) to the pool; *off gets where. */
static enum ctix_rc pool_put(struct ix_pool *pl, uint32_t pre, const void *p, size_t n,
                             uint64_t *off)
{
    enum ctix_rc rc = pool_reserve(pl, 4 + n);

    if (rc != CTIX_OK)
        return rc;
    memcpy(pl->p + pl->len, &pre, 4);
    if (n > 0)
        memcpy(pl->p + pl->len + 4, p, n);
    *off = pl->len;
    pl->len += 4 + n;
    return CTIX_OK;
}

static bool ent_equal(const struct ix_pool *pl, const struct ix_ent *e, uint32_t pre, const void *p,
                      size_t n)
{
    return e->len == n && memcmp(pl->p + e->off, &pre, 4) == 0 &&
           (n == 0 || memcmp(pl->p + e->off + 4, p, n) == 0);
}

/* The entry of (pre, p[0..n)), or IX_NONE. */
static uint32_t map_find(const struct pattern_index *ix, const struct ix_map *m, uint32_t pre,
                         const void *p, size_t n)
{
    uint64_t h;
    uint32_t hi;

    if (m->mask == 0)
        return IX_NONE;
    h = hash_key(ix->seed, pre, p, n);
    hi = (uint32_t)(h >> 32);
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        const struct ix_slot *s = &m->slots[i];

        if (s->ent == 0)
            return IX_NONE;
        if (s->h == hi && ent_equal(&ix->pool, &m->ents[s->ent - 1], pre, p, n))
            return s->ent - 1;
    }
}

/* Doubles the slots (or makes the first 64) and places every entry again; the hashes are
 * recomputed from the pool, which costs less memory than keeping them. */
static enum ctix_rc map_grow(const struct pattern_index *ix, struct ix_map *m)
{
    size_t nslots = m->mask != 0 ? (m->mask + 1) * 2 : 64;
    struct ix_slot *ns;

    if (nslots > SIZE_MAX / sizeof(*ns))
        return CTIX_ENOMEM;
    ns = calloc(nslots, sizeof(*ns));
    if (ns == NULL)
        return CTIX_ENOMEM;
    for (size_t e = 0; e < m->n; e++) {
        const struct ix_ent *en = &m->ents[e];
        uint32_t pre;
        uint64_t h;
        size_t i;

        memcpy(&pre, ix->pool.p + en->off, 4);
        h = hash_key(ix->seed, pre, ix->pool.p + en->off + 4, en->len);
        for (i = (size_t)h & (nslots - 1); ns[i].ent != 0; i = (i + 1) & (nslots - 1))
            ;
        ns[i].h = (uint32_t)(h >> 32);
        ns[i].ent = (uint32_t)e + 1;
    }
    free(m->slots);
    m->slots = ns;
    m->mask = nslots - 1;
    return CTIX_OK;
}

/* Makes room for one more entry, so that the next map_upsert() cannot fail but on the pool. */
static enum ctix_rc map_prepare(const struct pattern_index *ix, struct ix_map *m)
{
    enum ctix_rc rc = CTIX_OK;

    if (m->n >= IX_MAX_ENTS)
        return CTIX_ETOOBIG;
    /* Load factor at most 1/2: probes stay short and a miss (the common case when matching)
     * ends at an empty slot quickly. */
    if (m->mask == 0 || (m->n + 1) * 2 > m->mask + 1)
        rc = map_grow(ix, m);
    if (rc == CTIX_OK)
        rc = ctix_array_reserve((void **)&m->ents, &m->cap, m->n + 1, sizeof(*m->ents));
    return rc;
}

/* Finds (pre, p[0..n)) or adds it with value val; *ent gets the entry, *added whether it is new.
 * On failure nothing changed. */
static enum ctix_rc map_upsert(struct pattern_index *ix, struct ix_map *m, uint32_t pre,
                               const void *p, size_t n, uint32_t val, uint32_t *ent, bool *added)
{
    enum ctix_rc rc = CTIX_OK;
    uint64_t h;
    size_t i;

    *added = false;
    if (n > UINT32_MAX) {
        rc = CTIX_ETOOBIG;
        goto out;
    }
    rc = map_prepare(ix, m);
    if (rc != CTIX_OK)
        goto out;
    h = hash_key(ix->seed, pre, p, n);
    for (i = (size_t)h & m->mask; m->slots[i].ent != 0; i = (i + 1) & m->mask) {
        const struct ix_slot *s = &m->slots[i];

        if (s->h == (uint32_t)(h >> 32) && ent_equal(&ix->pool, &m->ents[s->ent - 1], pre, p, n)) {
            *ent = s->ent - 1;
            goto out;
        }
    }
    rc = pool_put(&ix->pool, pre, p, n, &m->ents[m->n].off);
    if (rc != CTIX_OK)
        goto out;
    m->ents[m->n].len = (uint32_t)n;
    m->ents[m->n].val = val;
    m->slots[i].h = (uint32_t)(h >> 32);
    m->slots[i].ent = (uint32_t)m->n + 1;
    *ent = (uint32_t)m->n;
    m->n++;
    *added = true;
out:
    return rc;
}

static void map_cleanup(struct ix_map *m)
{
    free(m->slots);
    free(m->ents);
    memset(m, 0, sizeof(*m));
}

static size_t map_mem(const struct ix_map *m)
{
    return (m->mask != 0 ? (m->mask + 1) * sizeof(*m->slots) : 0) + m->cap * sizeof(*m->ents);
}

/* ---- which patterns are indexable ---- */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* A path on which `=` with a string constant is a plain comparison with the JSON string found by
 * following object keys: no list steps (they fan out or index), no references (they are replaced
 * by other objects), no _hex/_bin value (compared as bytes, so 'ab' also equals h'6162'), and an
 * object type that can be a root (the matcher never selects SDOs, SROs or meta objects). */
bool pattern__path_plain(const struct pat_path *path)
{
    enum stix_kind k = stix_type_kind(path->type);

    if (k != STIX_KIND_SCO && k != STIX_KIND_CUSTOM)
        return false;
    if (path->n_steps == 0)
        return false;
    for (size_t i = 0; i < path->n_steps; i++) {
        const struct pat_step *st = &path->steps[i];

        if (st->kind != PAT_STEP_KEY || st->key == NULL)
            return false;
        if (ends_with(st->key, st->key_len, "_ref") || ends_with(st->key, st->key_len, "_refs"))
            return false;
    }
    const struct pat_step *last = &path->steps[path->n_steps - 1];
    return !ends_with(last->key, last->key_len, "_hex") &&
           !ends_with(last->key, last->key_len, "_bin");
}

static bool cmp_indexable(const struct pat_cmp *c)
{
    if (c->negated || !pattern__path_plain(&c->path))
        return false;
    if (c->op == PAT_OP_EQ)
        return c->lit.kind == PAT_LIT_STR;
    if (c->op != PAT_OP_IN || c->lit.kind != PAT_LIT_SET)
        return false;
    for (size_t i = 0; i < c->lit.u.set.n; i++) {
        if (c->lit.u.set.v[i].kind != PAT_LIT_STR)
            return false;
    }
    return true;
}

typedef enum ctix_rc (*cmp_fn)(const struct pat_cmp *c, void *arg);

/* Calls fn on every comparison of an OR-tree, or returns CTIX_EINVAL at the first AND. Uses a
 * stack of its own: `a OR b OR c …` parses into a left-deep tree as deep as the pattern is long. */
static enum ctix_rc or_leaves(const struct pat_cexpr *root, cmp_fn fn, void *arg)
{
    const struct pat_cexpr **stack = NULL;
    size_t n = 0, cap = 0;
    enum ctix_rc rc = CTIX_OK;
    const struct pat_cexpr *c = root;

    while (c != NULL) {
        if (c->kind == PAT_C_OR) {
            rc = ctix_array_reserve((void **)&stack, &cap, n + 1, sizeof(*stack));
            if (rc != CTIX_OK)
                goto out;
            stack[n++] = c->r;
            c = c->l;
            continue;
        }
        if (c->kind != PAT_C_CMP || c->cmp == NULL) {
            rc = CTIX_EINVAL;
            goto out;
        }
        rc = fn(c->cmp, arg);
        if (rc != CTIX_OK)
            goto out;
        c = n > 0 ? stack[--n] : NULL;
    }
out:
    free(stack);
    return rc;
}

static enum ctix_rc check_cmp(const struct pat_cmp *c, void *arg)
{
    (void)arg;
    return cmp_indexable(c) ? CTIX_OK : CTIX_EINVAL;
}

static bool pattern_indexable(const struct pattern *p)
{
    const struct pat_oexpr *o = p->root;

    if (o == NULL || o->kind != PAT_O_OBS || o->c == NULL)
        return false;
    return or_leaves(o->c, check_cmp, NULL) == CTIX_OK;
}

/* ---- adding ---- */

/* The exact identity of a path: [type len u32][type] then [key len u32][key] per step (keys may
 * contain '.', so the text form alone could make two paths one). */
static enum ctix_rc path_encode(const struct pat_path *path, struct buf *b)
{
    enum ctix_rc rc;
    uint32_t n = (uint32_t)strlen(path->type);

    buf_reset(b);
    rc = buf_append(b, &n, 4);
    if (rc == CTIX_OK)
        rc = buf_append(b, path->type, n);
    for (size_t i = 0; rc == CTIX_OK && i < path->n_steps; i++) {
        n = (uint32_t)path->steps[i].key_len;
        rc = buf_append(b, &n, 4);
        if (rc == CTIX_OK && n > 0)
            rc = buf_append(b, path->steps[i].key, n);
    }
    return rc;
}

/* "type:key.key", the form pattern_index_lookup() is given. */
static enum ctix_rc path_text(const struct pat_path *path, struct buf *b)
{
    enum ctix_rc rc;

    buf_reset(b);
    rc = buf_appends(b, path->type);
    if (rc == CTIX_OK)
        rc = buf_append(b, ":", 1);
    for (size_t i = 0; rc == CTIX_OK && i < path->n_steps; i++) {
        if (i > 0)
            rc = buf_append(b, ".", 1);
        if (rc == CTIX_OK && path->steps[i].key_len > 0)
            rc = buf_append(b, path->steps[i].key, path->steps[i].key_len);
    }
    return rc;
}

struct add_ctx {
    struct pattern_index *ix;
    uint32_t tag;
    struct buf enc, txt;
    const struct pat_path *last_path; /* the path of the previous comparison and its index: */
    uint32_t last_pid;                /* IN sets and OR-chains often repeat one path */
};

/* The index of path, registered (with its text and type) if new. Either all three maps learn the
 * path or none does. */
static enum ctix_rc path_intern(struct add_ctx *a, const struct pat_path *path, uint32_t *pid)
{
    struct pattern_index *ix = a->ix;
    size_t tlen = strlen(path->type);
    enum ctix_rc rc;
    uint32_t e, te, ye;
    bool added;

    rc = path_encode(path, &a->enc);
    if (rc != CTIX_OK)
        goto out;
    e = map_find(ix, &ix->exact, 0, a->enc.data, a->enc.len);
    if (e != IX_NONE) {
        *pid = ix->exact.ents[e].val;
        goto out;
    }
    if (ix->n_paths >= IX_MAX_ENTS || a->enc.len > UINT32_MAX) {
        rc = CTIX_ETOOBIG;
        goto out;
    }
    rc = path_text(path, &a->txt);
    if (rc == CTIX_OK)
        rc = ctix_array_reserve((void **)&ix->paths, &ix->cap_paths, ix->n_paths + 1,
                                sizeof(*ix->paths));
    if (rc == CTIX_OK)
        rc = map_prepare(ix, &ix->exact);
    if (rc == CTIX_OK)
        rc = map_prepare(ix, &ix->text);
    if (rc == CTIX_OK)
        rc = map_prepare(ix, &ix->types);
    if (rc == CTIX_OK)
        rc = pool_reserve(&ix->pool, a->enc.len + a->txt.len + tlen + 12);
    if (rc != CTIX_OK)
        goto out;
    /* Nothing below can fail any more. */
    *pid = (uint32_t)ix->n_paths;
    if (map_upsert(ix, &ix->exact, 0, a->enc.data, a->enc.len, *pid, &e, &added) != CTIX_OK ||
        map_upsert(ix, &ix->text, 0, a->txt.data, a->txt.len, *pid, &te, &added) != CTIX_OK ||
        map_upsert(ix, &ix->types, 0, path->type, tlen, *pid, &ye, &added) != CTIX_OK) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    ix->paths[*pid] = (struct ix_path){
        .enc = ix->exact.ents[e].off,
        .enc_len = ix->exact.ents[e].len,
        .type_next = IX_NONE,
        .text_next = IX_NONE,
    };
    /* Chain behind the first path of the same text and of the same type. */
    if (ix->text.ents[te].val != *pid) {
        uint32_t head = ix->text.ents[te].val;

        ix->paths[*pid].text_next = ix->paths[head].text_next;
        ix->paths[head].text_next = *pid;
    }
    if (ix->types.ents[ye].val != *pid) {
        uint32_t head = ix->types.ents[ye].val;

        ix->paths[*pid].type_next = ix->paths[head].type_next;
        ix->paths[head].type_next = *pid;
    }
    ix->n_paths++;
out:
    return rc;
}

static enum ctix_rc key_add(struct add_ctx *a, uint32_t pid, const char *s, size_t n)
{
    struct pattern_index *ix = a->ix;
    enum ctix_rc rc;
    uint32_t e;
    bool added;

    if (ix->n_tags >= IX_MAX_ENTS)
        return CTIX_ETOOBIG;
    rc = ctix_array_reserve((void **)&ix->tags, &ix->cap_tags, ix->n_tags + 1, sizeof(*ix->tags));
    if (rc != CTIX_OK)
        return rc;
    rc = map_upsert(ix, &ix->keys, pid, s, n, (uint32_t)ix->n_tags, &e, &added);
    if (rc != CTIX_OK)
        return rc;
    if (!added) {
        uint32_t head = ix->keys.ents[e].val;

        /* One pattern's keys are added together, so a repeat (`= 'a' OR = 'a'`) is the head. */
        if (ix->tags[head].tag == a->tag)
            return CTIX_OK;
        ix->tags[ix->n_tags].next = head;
        ix->keys.ents[e].val = (uint32_t)ix->n_tags;
    } else {
        ix->tags[ix->n_tags].next = IX_NONE;
    }
    ix->tags[ix->n_tags].tag = a->tag;
    ix->n_tags++;
    return CTIX_OK;
}

static enum ctix_rc add_cmp(const struct pat_cmp *c, void *arg)
{
    struct add_ctx *a = arg;
    enum ctix_rc rc = CTIX_OK;
    uint32_t pid;

    if (a->last_path != NULL && a->last_path == &c->path) {
        pid = a->last_pid;
    } else {
        rc = path_intern(a, &c->path, &pid);
        if (rc != CTIX_OK)
            goto out;
        a->last_path = &c->path;
        a->last_pid = pid;
    }
    if (c->op == PAT_OP_EQ) {
        rc = key_add(a, pid, c->lit.u.s.p, c->lit.u.s.n);
    } else {
        for (size_t i = 0; rc == CTIX_OK && i < c->lit.u.set.n; i++)
            rc = key_add(a, pid, c->lit.u.set.v[i].u.s.p, c->lit.u.set.v[i].u.s.n);
    }
out:
    return rc;
}

struct pattern_index *pattern_index_new(void)
{
    struct pattern_index *ix = calloc(1, sizeof(*ix));

    if (ix == NULL)
        return NULL;
    if (ctix_random(&ix->seed, sizeof(ix->seed)) != CTIX_OK) {
        free(ix);
        return NULL;
    }
    return ix;
}

void pattern_index_free(struct pattern_index *ix)
{
    if (ix == NULL)
        return;
    for (size_t i = 0; i < ix->n_evals; i++)
        pattern_free(ix->evals[i].p);
    free(ix->evals);
    map_cleanup(&ix->keys);
    map_cleanup(&ix->exact);
    map_cleanup(&ix->text);
    map_cleanup(&ix->types);
    free(ix->paths);
    free(ix->tags);
    free(ix->pool.p);
    free(ix);
}

enum ctix_rc pattern_index_add(struct pattern_index *ix, struct pattern *p, uint32_t tag)
{
    enum ctix_rc rc = CTIX_OK;
    struct add_ctx a;

    memset(&a, 0, sizeof(a));
    buf_init(&a.enc, (size_t)UINT32_MAX);
    buf_init(&a.txt, (size_t)UINT32_MAX);
    if (ix == NULL || p == NULL) {
        rc = CTIX_EINVAL;
        goto out;
    }
    if (pattern_indexable(p)) {
        a.ix = ix;
        a.tag = tag;
        /* On failure the keys added so far stay: the pattern is then found by some of its
         * values only, which the caller hears about through rc. */
        rc = or_leaves(p->root->c, add_cmp, &a);
        if (rc == CTIX_OK) {
            ix->n_lookup++;
            ix->n_patterns++;
        }
        goto out;
    }
    rc = ctix_array_reserve((void **)&ix->evals, &ix->cap_evals, ix->n_evals + 1,
                            sizeof(*ix->evals));
    if (rc != CTIX_OK)
        goto out;
    ix->evals[ix->n_evals].p = p;
    ix->evals[ix->n_evals].tag = tag;
    ix->n_evals++;
    ix->n_patterns++;
    ix->eval_mem += pattern_mem(p);
    p = NULL;
out:
    pattern_free(p);
    buf_cleanup(&a.enc);
    buf_cleanup(&a.txt);
    return rc;
}

enum ctix_rc pattern_index_add_text(struct pattern_index *ix, const char *text, size_t len,
                                    uint32_t tag, struct ctix_diag *diag)
{
    struct pattern *p = NULL;
    enum ctix_rc rc;

    rc = pattern_parse(text, len, PATTERN_SYNTAX, &p, diag);
    if (rc != CTIX_OK)
        return rc;
    rc = pattern_index_add(ix, p, tag);
    if (rc != CTIX_OK)
        ctix_diag_set(diag, "pattern", "cannot index the pattern: %s", ctix_strerror(rc));
    return rc;
}

void pattern_index_stats(const struct pattern_index *ix, struct pattern_index_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (ix == NULL)
        return;
    st->n_patterns = ix->n_patterns;
    st->n_lookup = ix->n_lookup;
    st->n_eval = ix->n_evals;
    st->n_keys = ix->keys.n;
    st->mem = sizeof(*ix) + ix->pool.cap + map_mem(&ix->keys) + map_mem(&ix->exact) +
              map_mem(&ix->text) + map_mem(&ix->types) + ix->cap_paths * sizeof(*ix->paths) +
              ix->cap_tags * sizeof(*ix->tags) + ix->cap_evals * sizeof(*ix->evals) + ix->eval_mem;
}

/* ---- lookups ---- */

static int tags_report(const struct pattern_index *ix, uint32_t pid, const char *val, size_t len,
                       pattern_hit_fn fn, void *arg)
{
    uint32_t e = map_find(ix, &ix->keys, pid, val, len);
    int r = 0;

    for (uint32_t t = e != IX_NONE ? ix->keys.ents[e].val : IX_NONE; t != IX_NONE && r == 0;
         t = ix->tags[t].next)
        r = fn(ix->tags[t].tag, arg);
    return r;
}

int pattern_index_lookup(const struct pattern_index *ix, const char *path, const char *val,
                         size_t len, pattern_hit_fn fn, void *arg)
{
    uint32_t e;
    int r = 0;

    if (ix == NULL || path == NULL || (val == NULL && len > 0) || fn == NULL)
        return 0;
    e = map_find(ix, &ix->text, 0, path, strlen(path));
    for (uint32_t pid = e != IX_NONE ? ix->text.ents[e].val : IX_NONE; pid != IX_NONE && r == 0;
         pid = ix->paths[pid].text_next)
        r = tags_report(ix, pid, val != NULL ? val : "", len, fn, arg);
    return r;
}

/* ---- matching observations ---- */

/* Tags already reported in one pattern_index_match(): an open-addressing set of tag + 1. */
struct seen {
    uint32_t *v;
    size_t mask, n;
};

/* Adds t (< UINT32_MAX); *fresh says whether it was new. */
static enum ctix_rc seen_add(struct seen *s, uint32_t t, bool *fresh)
{
    uint64_t h;
    size_t i;

    *fresh = false;
    if (s->mask == 0 || (s->n + 1) * 2 > s->mask + 1) {
        size_t nslots = s->mask != 0 ? (s->mask + 1) * 2 : 64;
        uint32_t *nv = calloc(nslots, sizeof(*nv));

        if (nv == NULL)
            return CTIX_ENOMEM;
        for (size_t k = 0; s->mask != 0 && k <= s->mask; k++) {
            if (s->v[k] == 0)
                continue;
            h = hash_mix(s->v[k]);
            for (i = (size_t)h & (nslots - 1); nv[i] != 0; i = (i + 1) & (nslots - 1))
                ;
            nv[i] = s->v[k];
        }
        free(s->v);
        s->v = nv;
        s->mask = nslots - 1;
    }
    h = hash_mix((uint64_t)t + 1);
    for (i = (size_t)h & s->mask; s->v[i] != 0; i = (i + 1) & s->mask) {
        if (s->v[i] == (uint64_t)t + 1)
            return CTIX_OK;
    }
    s->v[i] = t + 1; /* t < UINT32_MAX: match_hit() keeps that tag apart */
    s->n++;
    *fresh = true;
    return CTIX_OK;
}

struct match_ctx {
    struct seen seen;
    bool seen_max; /* tag UINT32_MAX, which the set cannot hold as tag + 1 */
    pattern_hit_fn fn;
    void *arg;
    int stop; /* the caller's non-zero return */
    enum ctix_rc rc;
};

static int match_hit(uint32_t tag, void *arg)
{
    struct match_ctx *m = arg;
    bool fresh = false;

    if (tag == UINT32_MAX) {
        fresh = !m->seen_max;
        m->seen_max = true;
    } else {
        m->rc = seen_add(&m->seen, tag, &fresh);
        if (m->rc != CTIX_OK)
            return -1;
    }
    if (!fresh)
        return 0;
    m->stop = m->fn(tag, m->arg);
    return m->stop;
}

/* The value path selects from the root sco, following object keys only. */
static const struct pval *path_walk(const struct pattern_index *ix, const struct ix_path *pa,
                                    const struct pval *sco)
{
    const char *p = ix->pool.p + pa->enc + 4, *end = p + pa->enc_len;
    const struct pval *v = sco;
    uint32_t n;

    memcpy(&n, p, 4);
    p += 4 + n; /* the type */
    while (v != NULL && p < end) {
        memcpy(&n, p, 4);
        p += 4;
        v = pattern__pval_get(v, p, n);
        p += n;
    }
    return v;
}

/* Looks up, for every SCO of o of a type some indexed path starts at, each such path's value. */
static void match_lookups(const struct pattern_index *ix, const struct pattern_obs *o,
                          struct match_ctx *m)
{
    for (size_t t = 0; t < o->n_types && m->stop == 0 && m->rc == CTIX_OK; t++) {
        const struct pobs_type *ty = &o->types[t];
        uint32_t e = map_find(ix, &ix->types, 0, ty->type, strlen(ty->type));
        uint32_t first = e != IX_NONE ? ix->types.ents[e].val : IX_NONE;

        for (uint32_t k = 0; first != IX_NONE && k < ty->n_at && m->stop == 0; k++) {
            const struct pobs_at *at = &ty->at[k];
            const struct pobs *ob = &o->obs[at->obs];

            for (uint32_t j = at->start; j < at->start + at->n && m->stop == 0; j++) {
                const struct pval *sco = ob->scos[j].v;

                for (uint32_t pid = first; pid != IX_NONE && m->stop == 0 && m->rc == CTIX_OK;
                     pid = ix->paths[pid].type_next) {
                    const struct pval *v = path_walk(ix, &ix->paths[pid], sco);

                    if (pattern__pv_is(v, PV_STR))
                        tags_report(ix, pid, v->u.s, v->n, match_hit, m);
                }
            }
        }
    }
}

enum ctix_rc pattern_index_match(const struct pattern_index *ix, const struct pattern_obs *o,
                                 pattern_hit_fn fn, void *arg, struct ctix_diag *diag)
{
    struct match_ctx m;
    struct pattern_result res;

    memset(&m, 0, sizeof(m));
    m.fn = fn;
    m.arg = arg;
    if (ix == NULL || o == NULL || fn == NULL) {
        m.rc = CTIX_EINVAL;
        goto out;
    }
    if (ix->types.n > 0)
        match_lookups(ix, o, &m);
    for (size_t k = 0; k < ix->n_evals && m.stop == 0 && m.rc == CTIX_OK; k++) {
        const struct ix_eval *ev = &ix->evals[k];
        struct ctix_diag d;
        enum ctix_rc rc;

        memset(&res, 0, sizeof(res));
        ctix_diag_clear(&d);
        rc = pattern_eval(ev->p, o, &res, &d);
        if (rc == CTIX_OK && res.matched)
            match_hit(ev->tag, &m);
        else if (rc == CTIX_ENOMEM)
            m.rc = rc;
        else if (rc != CTIX_OK)
            ctix_log(CTIX_LOG_WARN, "pattern", "event=index_eval_skipped tag=%u rc=%s msg=\"%s\"",
                     (unsigned)ev->tag, ctix_strerror(rc), d.msg);
        pattern_result_cleanup(&res);
    }
out:
    if (m.rc != CTIX_OK)
        ctix_diag_set(diag, "pattern", "index match: %s", ctix_strerror(m.rc));
    free(m.seen.v);
    return m.rc;
}
