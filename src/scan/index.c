/* The scan index: every indicator of a collection or bundle compiled into the structures that
 * answer "which indicators does this observable match?" in a few memory accesses.
 *
 * What the patterning engine says about a pattern (pattern_scan_keys) decides where it goes:
 *   - IPv4 addresses and networks: one sorted array of disjoint segments of the address space,
 *     each naming the indicators that cover it (so nested networks and a host inside a listed
 *     network all match, longest prefix first), found through a bucket array on the top bits:
 *     one or two cache lines per address whatever the number of ranges;
 *   - IPv6: a hash set of exact addresses and one hash set per prefix length of networks;
 *   - domains, URLs, e-mail addresses and hashes: one open-addressing table of (kind, normal form).
 *     A host is looked up with each of its parent domains (a.b.evil.example, b.evil.example,
 *     evil.example, example), their hashes computed in one right-to-left pass;
 *   - URL prefixes (LIKE 'http://x/y/%'): by the URL's scheme and host, then compared;
 *   - anything else (AND over properties, MATCHES, qualifiers): its prefilter keys go into the same
 *     tables marked "evaluate", and a record whose observable hits one is turned into an
 *     observation and evaluated with pattern_eval.
 * Values are normalised with the same functions as log observables (norm.c), so "HTTP://Evil.
 * Example:80/a" in an indicator matches http://evil.example/a in a log.
 *
 * An indicator's id may come several times (versions): the newest `modified` wins and the others
 * are marked dead (their keys stay in the tables and are skipped). Revoked indicators and those
 * outside valid_from/valid_until at the record's time do not match. */
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"
#include "scan/scan.h"
#include "scan/scan_int.h"
#include "scan/sieve.h"

#define NONE32 UINT32_MAX

/* ---- hashing ---- */

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93u;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93u;
    h ^= h >> 32;
    return h;
}

/* 64x64 -> 128-bit multiply folded to 64 bits: full avalanche from both operands. */
static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* A string key's hash: 16 bytes per step, each step's multiply independent of the previous one
 * (they are only xor-ed together), so a long URL costs a few cycles per 16 bytes instead of a
 * multiply latency per 8. Keyed by the index's secret seed: both indicators and logs come from
 * outside, and a table an attacker can aim collisions at is a denial of service. */
static uint64_t hash_words(uint64_t seed, unsigned kind, const char *p, size_t n)
{
    const uint64_t k1 = 0xa0761d6478bd642fu, k2 = 0xe7037ed1a0b428dbu, k3 = 0x8ebc6af09c88c6e3u;
    uint64_t acc = seed ^ ((uint64_t)kind << 56) ^ n, a, b;
    size_t i = 0;

    for (; i + 16 <= n; i += 16) {
        memcpy(&a, p + i, 8);
        memcpy(&b, p + i + 8, 8);
        acc ^= fold_mul(a ^ k1 ^ seed, b ^ k2 ^ (i << 1));
    }
    a = b = 0;
    if (n - i > 8) {
        memcpy(&a, p + i, 8);
        memcpy(&b, p + i + 8, n - i - 8);
    } else {
        memcpy(&a, p + i, n - i);
    }
    acc = fold_mul(acc ^ a ^ k3, b ^ k2 ^ seed ^ n);
    return fold_mul(acc ^ k1, seed ^ k3);
}

static uint64_t hash_str(uint64_t seed, unsigned kind, const char *p, size_t n)
{
    return hash_words(seed, kind, p, n);
}

/* ---- growable arrays ---- */

#define GROW(a, capp, need) ctix_array_reserve((void **)&(a), (capp), (need), sizeof(*(a)))

/* ---- the string pool ---- */

struct pool {
    char *p;
    size_t len, cap;
};

static enum ctix_rc pool_add(struct pool *pl, const char *s, size_t n, uint64_t *off)
{
    enum ctix_rc rc = ctix_array_reserve((void **)&pl->p, &pl->cap, pl->len + n + 1, 1);

    if (rc != CTIX_OK)
        return rc;
    memcpy(pl->p + pl->len, s, n);
    pl->p[pl->len + n] = '\0';
    *off = pl->len;
    pl->len += n + 1;
    return CTIX_OK;
}

/* ---- tag lists: key -> indicators ---- */

/* An indicator under a key; EVAL when the key is only a prefilter of its pattern. */
#define TAG_EVAL 0x80000000u

#define UHOST_BITS (1u << 21)

struct tag {
    uint32_t ind; /* indicator index | TAG_EVAL */
    uint32_t next;
};

/* ---- the string table ---- */

struct skey {
    uint64_t off; /* pool */
    uint32_t len;
    uint8_t kind;
    uint32_t tags; /* first tag */
};

struct sslot {
    uint32_t h;   /* high hash bits */
    uint32_t key; /* key index + 1; 0 empty */
};

struct stable {
    struct sslot *slots;
    size_t mask;
    struct skey *keys;
    size_t n, cap;
};

/* ---- IPv6 ---- */

struct v6key {
    uint8_t a[16];
    uint32_t tags;
    uint8_t plen;
};

struct v6table {
    uint32_t *slots; /* key index + 1 */
    size_t mask;
    struct v6key *keys;
    size_t n, cap;
    uint64_t plens[3]; /* bit p set: some network of prefix length p (0..128) */
};

/* ---- IPv4 ---- */

struct v4range {
    uint32_t lo, hi;
    uint32_t tag; /* indicator | TAG_EVAL */
};

/* A segment [start, next segment's start) and the indicators covering it (taglist index into
 * v4lists, NONE32 for none). */
struct v4seg {
    uint32_t start;
    uint32_t list;
};

/* ---- URL prefixes ---- */

struct uprefix {
    uint64_t off; /* pool: the normalised prefix */
    uint32_t len;
    uint32_t tag;
    uint32_t next; /* next prefix of the same scheme+host, NONE32 */
};

/* ---- indicators ---- */

struct ind {
    uint64_t id_off; /* pool */
    uint64_t idh;    /* the id's hash: the id table grows without reading ids back */
    uint32_t name;   /* name index, NONE32 */
    uint32_t cby;    /* created_by_ref: pool offset + 1 as a name index, NONE32 */
    int64_t modified, valid_from, valid_until;
    struct pattern *eval; /* kept for evaluation; NULL when keys are exact */
    bool dead;
};

struct scan_index {
    uint64_t seed;
    struct pool pool;
    struct ind *inds;
    size_t n_inds, cap_inds;
    /* id -> indicator, for versions */
    uint64_t *idslots; /* high half: hash bits; low half: indicator + 1 (0 empty) */
    size_t idmask;
    /* names, interned: they repeat ("Malicious domain") */
    uint64_t *names; /* pool offsets */
    uint32_t *namelens;
    size_t cap_namelens;
    size_t n_names, cap_names;
    uint32_t *nameslots;
    size_t namemask;
    struct tag *tags;
    size_t n_tags, cap_tags;
    struct stable str;
    struct v6table v6;
    struct v4range *v4r;
    size_t n_v4r, cap_v4r;
    struct v4seg *v4s;
    size_t n_v4s;
    uint32_t *v4lists; /* [n, tag, tag, …] runs */
    size_t n_v4lists, cap_v4lists;
    uint32_t *v4bucket; /* 2^v4bits + 1 entries */
    /* One bit per /24: some range touches it. Most addresses in logs are in no listed range,
     * and this 2 MB map answers that in one access, before the buckets and segments. */
    uint64_t *v4map;
    unsigned v4bits;
    struct uprefix *upre;
    size_t n_upre, cap_upre;
    struct stable uhost; /* SCAN_URL keys "scheme://host" -> first prefix (in tags field) */
    uint32_t upre_short; /* prefixes shorter than their scheme+host: checked for every URL */
    /* Keys per observable kind: a kind with none is not even hashed. */
    size_t kind_keys[SCAN_KIND_N];
    size_t tld_keys; /* domain keys of one label ("zip"): without any, a host's last label is
                      * not probed */
    /* A filter of the hosts of URL keys (UHOST_BITS bits, two per host): a log URL is hashed
     * and looked up whole only when its host passes, which most do not. */
    uint64_t *uhost_bits;
    /* prefilters that are "any value of kind K": evaluate on every record with such an obs */
    uint32_t any_tags[SCAN_KIND_N];
    struct scan_sieve *sieve; /* built by scan_index_finish; NULL: every line is read */
    struct scan_index_stats st;
    bool finished;
};

/* ---- hash sets of indexes ---- */

static enum ctix_rc slots_grow(uint32_t **slots, size_t *mask, size_t n_used)
{
    size_t want = 64;

    while (want < (n_used + 1) * 2)
        want *= 2;
    if (*mask != 0 && want <= *mask + 1)
        return CTIX_OK;
    uint32_t *ns = calloc(want, sizeof(*ns));
    if (ns == NULL)
        return CTIX_ENOMEM;
    free(*slots);
    *slots = ns;
    *mask = want - 1;
    return CTIX_OK;
}

/* ---- string table ---- */

static uint32_t stable_find(const struct scan_index *ix, const struct stable *t, unsigned kind,
                            const char *p, size_t n, uint64_t h)
{
    uint32_t hi = (uint32_t)(h >> 32);

    if (t->mask == 0)
        return NONE32;
    for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
        const struct sslot *s = &t->slots[i];

        if (s->key == 0)
            return NONE32;
        if (s->h == hi) {
            const struct skey *k = &t->keys[s->key - 1];

            if (k->len == n && k->kind == kind && memcmp(ix->pool.p + k->off, p, n) == 0)
                return s->key - 1;
        }
    }
}

static enum ctix_rc stable_rehash(struct scan_index *ix, struct stable *t)
{
    size_t want = 64;

    while (want < (t->n + 1) * 2)
        want *= 2;
    if (t->mask != 0 && want <= t->mask + 1)
        return CTIX_OK;
    struct sslot *ns = ctix_calloc_big(want, sizeof(*ns));
    if (ns == NULL)
        return CTIX_ENOMEM;
    for (size_t k = 0; k < t->n; k++) {
        const struct skey *key = &t->keys[k];
        uint64_t h = hash_str(ix->seed, key->kind, ix->pool.p + key->off, key->len);
        size_t i = (size_t)h & (want - 1);

        while (ns[i].key != 0)
            i = (i + 1) & (want - 1);
        ns[i].h = (uint32_t)(h >> 32);
        ns[i].key = (uint32_t)k + 1;
    }
    free(t->slots);
    t->slots = ns;
    t->mask = want - 1;
    return CTIX_OK;
}

/* The key (kind, p[0..n)), made when absent; *key gets its index. */
static enum ctix_rc stable_upsert(struct scan_index *ix, struct stable *t, unsigned kind,
                                  const char *p, size_t n, uint32_t *key)
{
    uint64_t h = hash_str(ix->seed, kind, p, n);
    uint32_t k = stable_find(ix, t, kind, p, n, h);
    enum ctix_rc rc;

    if (k != NONE32) {
        *key = k;
        return CTIX_OK;
    }
    if (t->n >= NONE32 - 1 || n > UINT32_MAX)
        return CTIX_ETOOBIG;
    if ((t->n + 1) * 2 > t->mask && (rc = stable_rehash(ix, t)) != CTIX_OK)
        return rc;
    if ((rc = GROW(t->keys, &t->cap, t->n + 1)) != CTIX_OK)
        return rc;
    struct skey *sk = &t->keys[t->n];
    if ((rc = pool_add(&ix->pool, p, n, &sk->off)) != CTIX_OK)
        return rc;
    sk->len = (uint32_t)n;
    sk->kind = (uint8_t)kind;
    sk->tags = NONE32;
    size_t i = (size_t)h & t->mask;
    while (t->slots[i].key != 0)
        i = (i + 1) & t->mask;
    t->slots[i].h = (uint32_t)(h >> 32);
    t->slots[i].key = (uint32_t)t->n + 1;
    *key = (uint32_t)t->n++;
    return CTIX_OK;
}

static enum ctix_rc tag_push(struct scan_index *ix, uint32_t *head, uint32_t tag)
{
    enum ctix_rc rc;

    /* The same indicator twice under one key (IN ('a','a'), OR of equal keys) reports once. */
    if (*head != NONE32 && ix->tags[*head].ind == tag)
        return CTIX_OK;
    if (ix->n_tags >= NONE32 - 1)
        return CTIX_ETOOBIG;
    if ((rc = GROW(ix->tags, &ix->cap_tags, ix->n_tags + 1)) != CTIX_OK)
        return rc;
    ix->tags[ix->n_tags].ind = tag;
    ix->tags[ix->n_tags].next = *head;
    *head = (uint32_t)ix->n_tags++;
    return CTIX_OK;
}

/* ---- IPv6 table ---- */

static uint64_t hash_v6(uint64_t seed, const uint8_t a[16], unsigned plen)
{
    uint64_t x, y;

    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    return mix64((x * 0x9e3779b97f4a7c15u) ^ mix64(y ^ seed) ^ plen);
}

static uint32_t v6_find(const struct scan_index *ix, const uint8_t a[16], unsigned plen)
{
    const struct v6table *t = &ix->v6;

    if (t->mask == 0)
        return NONE32;
    for (size_t i = (size_t)hash_v6(ix->seed, a, plen) & t->mask;; i = (i + 1) & t->mask) {
        uint32_t k = t->slots[i];

        if (k == 0)
            return NONE32;
        if (t->keys[k - 1].plen == plen && memcmp(t->keys[k - 1].a, a, 16) == 0)
            return k - 1;
    }
}

static void v6_slot_put(struct scan_index *ix, uint32_t k)
{
    struct v6table *t = &ix->v6;
    size_t i = (size_t)hash_v6(ix->seed, t->keys[k].a, t->keys[k].plen) & t->mask;

    while (t->slots[i] != 0)
        i = (i + 1) & t->mask;
    t->slots[i] = k + 1;
}

static void v6_mask(uint8_t a[16], unsigned plen)
{
    for (unsigned b = 0; b < 16; b++) {
        if (plen >= 8 * (b + 1))
            continue;
        a[b] &= plen <= 8 * b ? 0 : (uint8_t)(0xffu << (8 - (plen - 8 * b)));
    }
}

static enum ctix_rc v6_add(struct scan_index *ix, const uint8_t addr[16], unsigned plen,
                           uint32_t tag)
{
    struct v6table *t = &ix->v6;
    uint8_t a[16];
    uint32_t k;
    enum ctix_rc rc;

    memcpy(a, addr, 16);
    v6_mask(a, plen);
    k = v6_find(ix, a, plen);
    if (k == NONE32) {
        if ((t->n + 1) * 2 > t->mask) {
            if ((rc = slots_grow(&t->slots, &t->mask, t->n + 1)) != CTIX_OK)
                return rc;
            for (size_t j = 0; j < t->n; j++)
                v6_slot_put(ix, (uint32_t)j);
        }
        if ((rc = GROW(t->keys, &t->cap, t->n + 1)) != CTIX_OK)
            return rc;
        memcpy(t->keys[t->n].a, a, 16);
        t->keys[t->n].plen = (uint8_t)plen;
        t->keys[t->n].tags = NONE32;
        k = (uint32_t)t->n++;
        v6_slot_put(ix, k);
        t->plens[plen / 64] |= (uint64_t)1 << (plen % 64);
    }
    return tag_push(ix, &t->keys[k].tags, tag);
}

/* ---- CIDR text ---- */

/* "a.b.c.d/p" or "v6/p" (or a bare address, as /32 or /128). family 4 or 6. */
static bool cidr_parse(const char *s, size_t n, int *family, uint8_t a[16], unsigned *plen)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash != NULL ? (size_t)(slash - s) : n;
    uint32_t v4;
    unsigned p = 0, maxp;

    if (scan_ipv4_parse(s, an, &v4)) {
        *family = 4;
        memset(a, 0, 16);
        a[0] = (uint8_t)(v4 >> 24);
        a[1] = (uint8_t)(v4 >> 16);
        a[2] = (uint8_t)(v4 >> 8);
        a[3] = (uint8_t)v4;
        maxp = 32;
    } else if (scan_ipv6_parse(s, an, a)) {
        *family = 6;
        maxp = 128;
    } else {
        return false;
    }
    if (slash == NULL) {
        *plen = maxp;
        return true;
    }
    size_t i = an + 1;
    if (i >= n || n - i > 3)
        return false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        p = p * 10 + (unsigned)(s[i] - '0');
    }
    if (p > maxp)
        return false;
    *plen = p;
    return true;
}

/* ---- adding indicators ---- */

struct scan_index *scan_index_new(void)
{
    struct scan_index *ix = calloc(1, sizeof(*ix));

    if (ix == NULL)
        return NULL;
    if (ctix_random(&ix->seed, sizeof(ix->seed)) != CTIX_OK)
        ix->seed = 0x5bd1e9955bd1e995u ^ (uint64_t)(uintptr_t)ix;
    for (size_t k = 0; k < SCAN_KIND_N; k++)
        ix->any_tags[k] = NONE32;
    ix->upre_short = NONE32;
    return ix;
}

void scan_index_free(struct scan_index *ix)
{
    if (ix == NULL)
        return;
    for (size_t i = 0; i < ix->n_inds; i++)
        pattern_free(ix->inds[i].eval);
    free(ix->pool.p);
    free(ix->inds);
    free(ix->idslots);
    free(ix->names);
    free(ix->namelens);
    free(ix->nameslots);
    free(ix->tags);
    free(ix->str.slots);
    free(ix->str.keys);
    free(ix->v6.slots);
    free(ix->v6.keys);
    free(ix->v4r);
    free(ix->v4s);
    free(ix->v4lists);
    free(ix->v4bucket);
    free(ix->v4map);
    free(ix->upre);
    free(ix->uhost.slots);
    free(ix->uhost.keys);
    free(ix->uhost_bits);
    scan_sieve_free(ix->sieve);
    free(ix);
}

/* path_kind's answers for the network-traffic object a record's connection gives (rec_objects):
 * its src_ref.value / dst_ref.value are addresses (the kind follows from the literal), any other
 * property of it is only there on records that have an address. */
#define PATH_NT_ADDR (-2)
#define PATH_NT      (-3)

/* Which observable kind a pattern path is about; -1 for paths no log observable has. */
static int path_kind(const char *path)
{
    static const struct {
        const char *path;
        int kind;
    } map[] = {
        {"ipv4-addr:value", SCAN_IPV4},       {"ipv6-addr:value", SCAN_IPV6},
        {"domain-name:value", SCAN_DOMAIN},   {"url:value", SCAN_URL},
        {"email-addr:value", SCAN_EMAIL},     {"file:hashes.MD5", SCAN_MD5},
        {"file:hashes.SHA-1", SCAN_SHA1},     {"file:hashes.SHA1", SCAN_SHA1},
        {"file:hashes.SHA-256", SCAN_SHA256}, {"file:hashes.SHA256", SCAN_SHA256},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(path, map[i].path) == 0)
            return map[i].kind;
    }
    if (strncmp(path, "network-traffic:", 16) == 0)
        return strcmp(path + 16, "src_ref.value") == 0 || strcmp(path + 16, "dst_ref.value") == 0
                   ? PATH_NT_ADDR
                   : PATH_NT;
    return -1;
}

struct pkey;

struct add_ctx {
    struct scan_index *ix;
    uint32_t tag;
    size_t n_keys;   /* keys that can match a log observable */
    size_t n_unused; /* keys that cannot (other paths, values that are not addresses…) */
    enum ctix_rc rc;
    char *tmp; /* room for a normal form */
    size_t tmp_cap;
    struct pkey *keys;
    size_t n_pkeys, cap_keys;
    bool conn; /* a key is about the network-traffic object: never exact (the address a key
                * names may be in the record on the other side of the connection, or not in it) */
};

static enum ctix_rc add_v4(struct scan_index *ix, uint32_t lo, uint32_t hi, uint32_t tag)
{
    enum ctix_rc rc = GROW(ix->v4r, &ix->cap_v4r, ix->n_v4r + 1);

    if (rc != CTIX_OK)
        return rc;
    ix->v4r[ix->n_v4r].lo = lo;
    ix->v4r[ix->n_v4r].hi = hi;
    ix->v4r[ix->n_v4r].tag = tag;
    ix->n_v4r++;
    return CTIX_OK;
}

static enum ctix_rc add_addr(struct add_ctx *a, const struct pattern_key *k)
{
    uint8_t addr[16];
    unsigned plen;
    int fam;

    if (!cidr_parse(k->val, k->len, &fam, addr, &plen))
        return CTIX_EINVAL;
    if (k->op == PATTERN_KEY_EQ && memchr(k->val, '/', k->len) == NULL)
        plen = fam == 4 ? 32 : 128;
    if (fam == 4) {
        uint32_t v =
            (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3];
        uint32_t m = plen == 0 ? 0 : ~(uint32_t)0 << (32 - plen);

        return add_v4(a->ix, v & m, (v & m) | ~m, a->tag);
    }
    return v6_add(a->ix, addr, plen, a->tag);
}

static enum ctix_rc add_prefix(struct add_ctx *a, const char *p, size_t n)
{
    struct scan_index *ix = a->ix;
    size_t hoff = 0, hlen = 0, nn;
    uint32_t key, *head;
    enum ctix_rc rc;

    /* A prefix that is a whole URL up to some point of its path normalises like a URL; one that
     * ends inside the scheme or host ("http://evil.") is kept as written, lower case. */
    if ((rc = GROW(a->tmp, &a->tmp_cap, n + 2)) != CTIX_OK)
        return rc;
    nn = scan_url_norm(p, n, a->tmp, &hoff, &hlen);
    if (nn != 0 && hoff + hlen < nn && (a->tmp[hoff + hlen] == '/' || a->tmp[hoff + hlen] == ':')) {
        /* scan_url_norm adds "/" to a bare authority: "http://x" as a prefix also covers
         * "http://x.y/"; keep the text's own end. */
        if (nn > 0 && a->tmp[nn - 1] == '/' && (n == 0 || p[n - 1] != '/'))
            nn--;
        if ((rc = stable_upsert(ix, &ix->uhost, SCAN_URL, a->tmp, hoff + hlen, &key)) != CTIX_OK)
            return rc;
        head = &ix->uhost.keys[key].tags;
    } else {
        for (size_t i = 0; i < n; i++)
            a->tmp[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
        nn = n;
        head = &ix->upre_short;
    }
    if ((rc = GROW(ix->upre, &ix->cap_upre, ix->n_upre + 1)) != CTIX_OK)
        return rc;
    struct uprefix *u = &ix->upre[ix->n_upre];
    if ((rc = pool_add(&ix->pool, a->tmp, nn, &u->off)) != CTIX_OK)
        return rc;
    u->len = (uint32_t)nn;
    u->tag = a->tag;
    u->next = *head;
    *head = (uint32_t)ix->n_upre++;
    return CTIX_OK;
}

/* The authority of a URL in normal form ("scheme://" up to the path, query or fragment): what
 * the URL-host filter is keyed by, computed the same way for indicators and logs. */
static bool url_authority(const char *p, size_t n, size_t *off, size_t *len)
{
    const char *sep = n >= 3 ? memmem(p, n, "://", 3) : NULL;
    size_t a, e;

    if (sep == NULL)
        return false;
    a = (size_t)(sep - p) + 3;
    for (e = a; e < n && p[e] != '/' && p[e] != '?' && p[e] != '#'; e++)
        ;
    *off = a;
    *len = e - a;
    return true;
}

static uint64_t uhost_hash(uint64_t seed, const char *p, size_t n)
{
    return hash_words(seed, 0xfc, p, n);
}

static bool uhost_test(const struct scan_index *ix, uint64_t h)
{
    uint32_t b1 = (uint32_t)(h >> 1) & (UHOST_BITS - 1),
             b2 = (uint32_t)(h >> 40) & (UHOST_BITS - 1);

    return (ix->uhost_bits[b1 / 64] >> (b1 % 64) & 1) && (ix->uhost_bits[b2 / 64] >> (b2 % 64) & 1);
}

static enum ctix_rc uhost_set(struct scan_index *ix, const char *url, size_t n)
{
    size_t off, len;

    if (ix->uhost_bits == NULL) {
        ix->uhost_bits = calloc(UHOST_BITS / 64, sizeof(uint64_t));
        if (ix->uhost_bits == NULL)
            return CTIX_ENOMEM;
    }
    if (!url_authority(url, n, &off, &len)) {
        off = 0; /* not a URL a log can show; keep it findable anyway */
        len = n;
    }
    uint64_t h = uhost_hash(ix->seed, url + off, len);
    uint32_t b1 = (uint32_t)(h >> 1) & (UHOST_BITS - 1),
             b2 = (uint32_t)(h >> 40) & (UHOST_BITS - 1);
    ix->uhost_bits[b1 / 64] |= (uint64_t)1 << (b1 % 64);
    ix->uhost_bits[b2 / 64] |= (uint64_t)1 << (b2 % 64);
    return CTIX_OK;
}

static enum ctix_rc add_str(struct add_ctx *a, int kind, const char *p, size_t n)
{
    struct scan_index *ix = a->ix;
    size_t nn = 0;
    uint32_t key;
    enum ctix_rc rc;

    if ((rc = GROW(a->tmp, &a->tmp_cap, n + 2)) != CTIX_OK)
        return rc;
    switch (kind) {
    case SCAN_DOMAIN:
        nn = scan_domain_norm(p, n, a->tmp);
        break;
    case SCAN_URL:
        nn = scan_url_norm(p, n, a->tmp, NULL, NULL);
        break;
    case SCAN_EMAIL:
        nn = scan_email_norm(p, n, a->tmp);
        break;
    default: {
        int hk = scan_hash_norm(p, n, a->tmp);

        nn = hk == kind ? n : 0;
        break;
    }
    }
    if (nn == 0)
        return CTIX_EINVAL;
    if (kind == SCAN_URL && (rc = uhost_set(ix, a->tmp, nn)) != CTIX_OK)
        return rc;
    if (kind == SCAN_DOMAIN && memchr(a->tmp, '.', nn) == NULL)
        ix->tld_keys++;
    if ((rc = stable_upsert(ix, &ix->str, (unsigned)kind, a->tmp, nn, &key)) != CTIX_OK)
        return rc;
    ix->kind_keys[kind]++;
    return tag_push(ix, &ix->str.keys[key].tags, a->tag);
}

/* One key of the pattern being added, kept until the walk says whether the keys are exact. */
struct pkey {
    int kind;
    enum pattern_key_op op;
    const char *val; /* into the pattern (or the text for fast_key) */
    size_t len;
};

static int pkey_push(struct add_ctx *a, int kind, enum pattern_key_op op, const char *val,
                     size_t len)
{
    if (GROW(a->keys, &a->cap_keys, a->n_pkeys + 1) != CTIX_OK) {
        a->rc = CTIX_ENOMEM;
        return 1;
    }
    a->keys[a->n_pkeys].kind = kind;
    a->keys[a->n_pkeys].op = op;
    a->keys[a->n_pkeys].val = val;
    a->keys[a->n_pkeys].len = len;
    a->n_pkeys++;
    return 0;
}

static int collect_key(const struct pattern_key *k, void *arg)
{
    struct add_ctx *a = arg;
    int kind = path_kind(k->path);

    if (kind == PATH_NT_ADDR && (k->op == PATTERN_KEY_EQ || k->op == PATTERN_KEY_CIDR)) {
        /* looked up by the address; evaluated on the records that hold it */
        a->conn = true;
        kind = memchr(k->val, ':', k->len) != NULL ? SCAN_IPV6 : SCAN_IPV4;
        return pkey_push(a, kind, k->op, k->val, k->len);
    }
    if (kind == PATH_NT_ADDR || kind == PATH_NT) {
        /* Ports, protocols, an address by prefix: no key to look up. A record has a
         * network-traffic object only with an address, so every record with one is evaluated:
         * right, but slow for such patterns. */
        a->conn = true;
        if (pkey_push(a, SCAN_IPV4, PATTERN_KEY_ANY, NULL, 0) != 0)
            return 1;
        return pkey_push(a, SCAN_IPV6, PATTERN_KEY_ANY, NULL, 0);
    }
    if (kind < 0) {
        a->n_unused++;
        return 0;
    }
    return pkey_push(a, kind, k->op, k->val, k->len);
}

static enum ctix_rc insert_key(struct add_ctx *a, const struct pkey *k)
{
    struct pattern_key pk;
    enum ctix_rc rc = CTIX_EINVAL;

    pk.path = NULL;
    pk.val = k->val;
    pk.len = k->len;
    pk.op = k->op;
    if (k->op == PATTERN_KEY_ANY) {
        /* Every record with such an observable is evaluated. Only prefilters get here. */
        rc = tag_push(a->ix, &a->ix->any_tags[k->kind], a->tag | TAG_EVAL);
    } else if (k->op == PATTERN_KEY_PREFIX) {
        if (k->kind == SCAN_URL)
            rc = add_prefix(a, k->val, k->len);
        else /* a prefix of a domain or an address's text: rare, evaluated */
            rc = tag_push(a->ix, &a->ix->any_tags[k->kind], a->tag | TAG_EVAL);
    } else if (k->kind == SCAN_IPV4 || k->kind == SCAN_IPV6) {
        rc = add_addr(a, &pk);
    } else if (k->op == PATTERN_KEY_EQ) {
        rc = add_str(a, k->kind, k->val, k->len);
    }
    if (rc == CTIX_EINVAL) {
        a->n_unused++;
        return CTIX_OK;
    }
    if (rc == CTIX_OK)
        a->n_keys++;
    return rc;
}

/* The interned name's index. */
static enum ctix_rc name_intern(struct scan_index *ix, const char *s, size_t n, uint32_t *out)
{
    uint64_t h = hash_words(ix->seed, 0xfe, s, n);
    enum ctix_rc rc;

    if (ix->namemask != 0) {
        for (size_t i = (size_t)h & ix->namemask;; i = (i + 1) & ix->namemask) {
            uint32_t k = ix->nameslots[i];

            if (k == 0)
                break;
            const char *have = ix->pool.p + ix->names[k - 1];
            if (ix->namelens[k - 1] == n && memcmp(have, s, n) == 0) {
                *out = k - 1;
                return CTIX_OK;
            }
        }
    }
    if ((ix->n_names + 1) * 2 > ix->namemask) {
        if ((rc = slots_grow(&ix->nameslots, &ix->namemask, ix->n_names + 1)) != CTIX_OK)
            return rc;
        for (size_t j = 0; j < ix->n_names; j++) {
            const char *t = ix->pool.p + ix->names[j];
            size_t i = (size_t)hash_words(ix->seed, 0xfe, t, ix->namelens[j]) & ix->namemask;

            while (ix->nameslots[i] != 0)
                i = (i + 1) & ix->namemask;
            ix->nameslots[i] = (uint32_t)j + 1;
        }
    }
    if ((rc = GROW(ix->names, &ix->cap_names, ix->n_names + 1)) != CTIX_OK ||
        (rc = GROW(ix->namelens, &ix->cap_namelens, ix->n_names + 1)) != CTIX_OK)
        return rc;
    ix->namelens[ix->n_names] = (uint32_t)n;
    if ((rc = pool_add(&ix->pool, s, n, &ix->names[ix->n_names])) != CTIX_OK)
        return rc;
    size_t i = (size_t)h & ix->namemask;
    while (ix->nameslots[i] != 0)
        i = (i + 1) & ix->namemask;
    ix->nameslots[i] = (uint32_t)ix->n_names + 1;
    *out = (uint32_t)ix->n_names++;
    return CTIX_OK;
}

static uint64_t id_hash(const struct scan_index *ix, const char *id, size_t n)
{
    return hash_words(ix->seed, 0xfd, id, n);
}

/* The indicator already indexed under this id, or NONE32; *slot gets where it is or would go.
 * Slots carry hash bits, so a probe reads an indicator's id only when they agree. */
static uint32_t id_find(const struct scan_index *ix, const char *id, size_t n, uint64_t h,
                        size_t *slot)
{
    uint32_t hi = (uint32_t)(h >> 32);

    if (ix->idmask == 0)
        return NONE32;
    for (size_t i = (size_t)h & ix->idmask;; i = (i + 1) & ix->idmask) {
        uint64_t v = ix->idslots[i];
        uint32_t k = (uint32_t)v;

        if (k == 0) {
            *slot = i;
            return NONE32;
        }
        if ((uint32_t)(v >> 32) != hi)
            continue;
        const char *have = ix->pool.p + ix->inds[k - 1].id_off;
        if (memcmp(have, id, n) == 0 && have[n] == '\0') {
            *slot = i;
            return k - 1;
        }
    }
}

static void id_slot_put(struct scan_index *ix, uint64_t h, uint32_t idx)
{
    size_t i = (size_t)h & ix->idmask;

    while ((uint32_t)ix->idslots[i] != 0)
        i = (i + 1) & ix->idmask;
    ix->idslots[i] = (h >> 32 << 32) | (idx + 1);
}

static enum ctix_rc id_table_grow(struct scan_index *ix)
{
    size_t want = 1024;
    uint64_t *ns;

    if ((ix->n_inds + 1) * 2 <= ix->idmask)
        return CTIX_OK;
    while (want < (ix->n_inds + 1) * 2)
        want *= 2;
    ns = calloc(want, sizeof(*ns));
    if (ns == NULL)
        return CTIX_ENOMEM;
    uint64_t *old = ix->idslots;
    size_t oldn = ix->idmask != 0 ? ix->idmask + 1 : 0;
    ix->idslots = ns;
    ix->idmask = want - 1;
    for (size_t j = 0; j < oldn; j++) {
        uint32_t k = (uint32_t)old[j];

        if (k != 0)
            id_slot_put(ix, ix->inds[k - 1].idh, k - 1);
    }
    free(old);
    return CTIX_OK;
}

/* A pattern of the commonest form, "[ipv4-addr:value = '1.2.3.4']" with no escape in the literal,
 * read without the parser: the key it would give. Anything else (spaces elsewhere, escapes, other
 * paths, qualifiers) is left to pattern_parse. The result is the same either way, since
 * pattern_scan_keys gives exactly this one exact key for such a pattern. */
static bool fast_key(const char *p, size_t n, struct pkey *k)
{
#define FK(s, kind)                                                                                \
    {                                                                                              \
        s, sizeof(s) - 1, kind                                                                     \
    }
    static const struct {
        const char *path;
        size_t len;
        int kind;
    } paths[] = {
        FK("ipv4-addr:value", SCAN_IPV4),     FK("ipv6-addr:value", SCAN_IPV6),
        FK("domain-name:value", SCAN_DOMAIN), FK("url:value", SCAN_URL),
        FK("email-addr:value", SCAN_EMAIL),   FK("file:hashes.'SHA-256'", SCAN_SHA256),
        FK("file:hashes.MD5", SCAN_MD5),      FK("file:hashes.'SHA-1'", SCAN_SHA1),
    };
#undef FK

    if (n < 8 || p[0] != '[' || p[n - 1] != ']' || p[n - 2] != '\'')
        return false;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        size_t pl = paths[i].len;

        if (p[1] != paths[i].path[0] || n < 1 + pl + 5 || memcmp(p + 1, paths[i].path, pl) != 0 ||
            memcmp(p + 1 + pl, " = '", 4) != 0)
            continue;
        const char *v = p + 1 + pl + 4, *end = p + n - 2;
        if (v > end)
            return false;
        for (const char *c = v; c < end; c++) {
            /* Quotes and backslashes need the lexer; control bytes and non-ASCII its checks
             * (and hashes the validator's form checks). */
            if (*c == '\'' || *c == '\\' || (unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                return false;
        }
        int kind = paths[i].kind;
        if (kind == SCAN_SHA256 || kind == SCAN_MD5 || kind == SCAN_SHA1) {
            char tmp[64];
            size_t want = kind == SCAN_SHA256 ? 64 : kind == SCAN_MD5 ? 32 : 40;

            if ((size_t)(end - v) != want || scan_hash_norm(v, want, tmp) < 0)
                return false;
        }
        k->kind = kind;
        k->val = v;
        k->len = (size_t)(end - v);
        k->op = PATTERN_KEY_EQ;
        if ((kind == SCAN_IPV4 || kind == SCAN_IPV6) && memchr(v, '/', k->len) != NULL)
            k->op = PATTERN_KEY_CIDR;
        return true;
    }
    return false;
}

enum ctix_rc scan_index_add(struct scan_index *ix, const struct scan_ind_in *in,
                            struct ctix_diag *diag)
{
    struct add_ctx a;
    struct pattern *p = NULL;
    struct pkey fk;
    size_t slot = 0;
    uint32_t old, idx;
    bool exact = true;
    enum ctix_rc rc;

    memset(&a, 0, sizeof(a));
    if (ix->finished)
        return CTIX_EINVAL;
    if (in->id == NULL || in->id_len == 0 || in->pattern == NULL)
        return CTIX_EINVAL;
    uint64_t idh = id_hash(ix, in->id, in->id_len);
    if ((rc = id_table_grow(ix)) != CTIX_OK)
        return rc;
    old = id_find(ix, in->id, in->id_len, idh, &slot);
    if (old != NONE32 && ix->inds[old].modified >= in->modified_ms) {
        ix->st.n_versions++;
        return CTIX_OK; /* an older (or the same) version of one we have */
    }
    if (old != NONE32) {
        ix->inds[old].dead = true;
        ix->st.n_versions++;
        if (ix->st.n_live > 0)
            ix->st.n_live--;
    }
    /* A revoked version is kept (dead, without keys) so that an older unrevoked version arriving
     * later stays out. */
    if (in->revoked)
        ix->st.n_revoked++;
    if (ix->n_inds >= (TAG_EVAL - 1) || in->id_len > 1024)
        return CTIX_ETOOBIG;
    if ((rc = GROW(ix->inds, &ix->cap_inds, ix->n_inds + 1)) != CTIX_OK)
        return rc;
    idx = (uint32_t)ix->n_inds;
    struct ind *d = &ix->inds[idx];
    memset(d, 0, sizeof(*d));
    if ((rc = pool_add(&ix->pool, in->id, in->id_len, &d->id_off)) != CTIX_OK)
        return rc;
    d->idh = idh;
    d->name = NONE32;
    d->cby = NONE32;
    d->modified = in->modified_ms;
    d->valid_from = in->valid_from_ms;
    d->valid_until = in->valid_until_ms;
    d->dead = in->revoked;
    if (in->name != NULL && (rc = name_intern(ix, in->name, in->name_len, &d->name)) != CTIX_OK)
        return rc;
    if (in->created_by_ref != NULL &&
        (rc = name_intern(ix, in->created_by_ref, in->created_by_ref_len, &d->cby)) != CTIX_OK)
        return rc;
    ix->n_inds++;
    /* The id's slot now names the newest version (a new slot when the id is new). */
    ix->idslots[slot] = (idh >> 32 << 32) | (idx + 1);
    if (in->revoked)
        return CTIX_OK;

    a.ix = ix;
    if (fast_key(in->pattern, in->pattern_len, &fk)) {
        if (GROW(a.keys, &a.cap_keys, 1) != CTIX_OK) {
            rc = CTIX_ENOMEM;
            goto out;
        }
        a.keys[a.n_pkeys++] = fk;
    } else {
        rc = pattern_parse(in->pattern, in->pattern_len, PATTERN_SYNTAX, &p, diag);
        if (rc != CTIX_OK) {
            d->dead = true;
            ix->st.n_bad++;
            goto out;
        }
        if (pattern_scan_keys(p, collect_key, &a, &exact) != 0 && a.rc == CTIX_OK)
            a.rc = CTIX_ENOMEM;
    }
    if ((rc = a.rc) != CTIX_OK)
        goto out;
    if (a.conn)
        exact = false;
    for (size_t i = 0; i < a.n_pkeys; i++) {
        /* Keys the tables can only prefilter make the pattern one to evaluate. */
        if (a.keys[i].op == PATTERN_KEY_ANY ||
            (a.keys[i].op == PATTERN_KEY_PREFIX && a.keys[i].kind != SCAN_URL))
            exact = false;
    }
    a.tag = exact ? idx : idx | TAG_EVAL;
    for (size_t i = 0; i < a.n_pkeys; i++) {
        if ((rc = insert_key(&a, &a.keys[i])) != CTIX_OK)
            goto out;
    }
    if (a.n_keys == 0) {
        /* Nothing a log can show (e.g. [process:name = 'x']): never matches here. */
        ix->st.n_unscannable++;
        d->dead = true;
    } else {
        ix->st.n_live++;
        if (!exact) {
            d->eval = p;
            p = NULL;
            ix->st.n_eval++;
        }
    }
out:
    pattern_free(p);
    free(a.tmp);
    free(a.keys);
    return rc;
}

/* ---- IPv4 segments ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int cmp_range(const void *a, const void *b)
{
    const struct v4range *x = a, *y = b;

    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Cuts the address space at every range's ends into segments, each with the list of ranges that
 * cover it, narrowest first. A sweep with an active set: ranges nest or are disjoint (CIDR), so
 * the set stays as small as the nesting is deep. */
static enum ctix_rc v4_build(struct scan_index *ix)
{
    uint32_t *pts = NULL;
    struct v4range *act = NULL;
    size_t n_pts = 0, n_act = 0, cap_act = 0, next = 0;
    enum ctix_rc rc = CTIX_ENOMEM;

    if (ix->n_v4r > 0)
        qsort(ix->v4r, ix->n_v4r, sizeof(*ix->v4r), cmp_range);
    pts = malloc((2 * ix->n_v4r + 1) * sizeof(*pts));
    if (pts == NULL)
        goto out;
    pts[n_pts++] = 0;
    for (size_t i = 0; i < ix->n_v4r; i++) {
        pts[n_pts++] = ix->v4r[i].lo;
        if (ix->v4r[i].hi != UINT32_MAX)
            pts[n_pts++] = ix->v4r[i].hi + 1;
    }
    qsort(pts, n_pts, sizeof(*pts), cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < n_pts; i++) {
        if (u == 0 || pts[u - 1] != pts[i])
            pts[u++] = pts[i];
    }
    n_pts = u;
    ix->v4s = ctix_calloc_big(n_pts, sizeof(*ix->v4s));
    if (ix->v4s == NULL)
        goto out;
    for (size_t i = 0; i < n_pts; i++) {
        uint32_t pt = pts[i];
        size_t k = 0;

        for (size_t j = 0; j < n_act; j++) {
            if (act[j].hi >= pt)
                act[k++] = act[j];
        }
        n_act = k;
        while (next < ix->n_v4r && ix->v4r[next].lo <= pt) {
            if (ix->v4r[next].hi >= pt) {
                if (GROW(act, &cap_act, n_act + 1) != CTIX_OK)
                    goto out;
                act[n_act++] = ix->v4r[next];
            }
            next++;
        }
        ix->v4s[i].start = pt;
        ix->v4s[i].list = NONE32;
        if (n_act == 0)
            continue;
        /* Narrowest first: the longest prefix is the first reported. */
        for (size_t a = 1; a < n_act; a++) {
            struct v4range t = act[a];
            size_t b = a;

            while (b > 0 && act[b - 1].hi - act[b - 1].lo > t.hi - t.lo) {
                act[b] = act[b - 1];
                b--;
            }
            act[b] = t;
        }
        if (ix->n_v4lists + n_act + 1 > UINT32_MAX - 1 ||
            GROW(ix->v4lists, &ix->cap_v4lists, ix->n_v4lists + n_act + 1) != CTIX_OK)
            goto out;
        ix->v4s[i].list = (uint32_t)ix->n_v4lists;
        ix->v4lists[ix->n_v4lists++] = (uint32_t)n_act;
        for (size_t a = 0; a < n_act; a++)
            ix->v4lists[ix->n_v4lists++] = act[a].tag;
    }
    ix->n_v4s = n_pts;
    /* About one segment per bucket: a lookup reads one bucket pair and a cache line or two. */
    ix->v4bits = 8;
    while (ix->v4bits < 22 && ((size_t)1 << ix->v4bits) < n_pts)
        ix->v4bits++;
    size_t nb = ((size_t)1 << ix->v4bits) + 1;
    ix->v4bucket = ctix_calloc_big(nb, sizeof(*ix->v4bucket));
    if (ix->v4bucket == NULL)
        goto out;
    size_t s = 0;
    for (size_t b = 0; b + 1 < nb; b++) {
        uint64_t base = (uint64_t)b << (32 - ix->v4bits);

        while (s < n_pts && ix->v4s[s].start < base)
            s++;
        ix->v4bucket[b] = (uint32_t)s;
    }
    ix->v4bucket[nb - 1] = (uint32_t)n_pts;
    ix->v4map = ctix_calloc_big(((size_t)1 << 24) / 64, sizeof(uint64_t));
    if (ix->v4map == NULL)
        goto out;
    for (size_t i = 0; i < n_pts; i++) {
        if (ix->v4s[i].list == NONE32)
            continue;
        uint64_t end = i + 1 < n_pts ? (uint64_t)ix->v4s[i + 1].start : (uint64_t)1 << 32;

        for (uint64_t b = ix->v4s[i].start >> 8; b <= (end - 1) >> 8; b++)
            ix->v4map[b / 64] |= (uint64_t)1 << (b % 64);
    }
    free(ix->v4r);
    ix->v4r = NULL;
    ix->cap_v4r = 0;
    rc = CTIX_OK;
out:
    free(pts);
    free(act);
    return rc;
}

enum ctix_rc scan_index_finish(struct scan_index *ix)
{
    enum ctix_rc rc;

    if (ix->finished)
        return CTIX_OK;
    if ((rc = v4_build(ix)) != CTIX_OK)
        return rc;
    /* The id and name tables only serve adding. */
    free(ix->idslots);
    ix->idslots = NULL;
    ix->idmask = 0;
    free(ix->nameslots);
    ix->nameslots = NULL;
    ix->namemask = 0;
    ix->finished = true;
    ix->sieve = scan_sieve_build(ix, &rc);
    return rc;
}

void scan_index_stats(const struct scan_index *ix, struct scan_index_stats *st)
{
    *st = ix->st;
    st->n_v4_segments = ix->n_v4s;
    st->n_v6_keys = ix->v6.n;
    st->n_str_keys = ix->str.n;
    st->n_url_prefixes = ix->n_upre;
    st->mem = sizeof(*ix) + ix->pool.cap + ix->cap_inds * sizeof(*ix->inds) +
              (ix->idmask != 0 ? (ix->idmask + 1) * 8 : 0) + ix->cap_names * 8 +
              (ix->namemask != 0 ? (ix->namemask + 1) * 4 : 0) + ix->cap_tags * sizeof(*ix->tags) +
              (ix->str.mask != 0 ? (ix->str.mask + 1) * sizeof(struct sslot) : 0) +
              ix->str.cap * sizeof(struct skey) + (ix->v6.mask != 0 ? (ix->v6.mask + 1) * 4 : 0) +
              ix->v6.cap * sizeof(struct v6key) + ix->cap_v4r * sizeof(*ix->v4r) +
              ix->n_v4s * sizeof(*ix->v4s) + ix->cap_v4lists * 4 +
              (ix->v4bucket != NULL ? (((size_t)1 << ix->v4bits) + 1) * 4 : 0) +
              ix->cap_upre * sizeof(*ix->upre) +
              (ix->uhost.mask != 0 ? (ix->uhost.mask + 1) * sizeof(struct sslot) : 0) +
              ix->uhost.cap * sizeof(struct skey) + (ix->uhost_bits != NULL ? UHOST_BITS / 8 : 0) +
              scan_sieve_mem(ix->sieve);
    for (size_t i = 0; i < ix->n_inds; i++) {
        if (ix->inds[i].eval != NULL)
            st->mem += pattern_mem(ix->inds[i].eval);
    }
}

size_t scan_index_count(const struct scan_index *ix)
{
    return ix->n_inds;
}

const char *scan_index_id(const struct scan_index *ix, uint32_t ind)
{
    return ind < ix->n_inds ? ix->pool.p + ix->inds[ind].id_off : NULL;
}

const char *scan_index_name(const struct scan_index *ix, uint32_t ind)
{
    if (ind >= ix->n_inds || ix->inds[ind].name == NONE32)
        return NULL;
    return ix->pool.p + ix->names[ix->inds[ind].name];
}

const char *scan_index_producer(const struct scan_index *ix, uint32_t ind)
{
    if (ind >= ix->n_inds || ix->inds[ind].cby == NONE32)
        return NULL;
    return ix->pool.p + ix->names[ix->inds[ind].cby];
}

/* ---- matching ---- */

void scan_matcher_cleanup(struct scan_matcher *m)
{
    free(m->hits);
    free(m->cand);
    free(m->probes);
    free(m->hostcache);
    free(m->oh);
    memset(m, 0, sizeof(*m));
}

struct mctx {
    const struct scan_index *ix;
    struct scan_matcher *m;
    int64_t t;
    enum ctix_rc rc;
};

/* One tag of a key that an observable hit. */
static void hit_tag(struct mctx *c, uint32_t tag, uint32_t obs)
{
    struct scan_matcher *m = c->m;
    uint32_t ind = tag & ~TAG_EVAL;
    const struct ind *d = &c->ix->inds[ind];

    if (d->dead || c->t < d->valid_from || c->t >= d->valid_until)
        return;
    if (tag & TAG_EVAL) {
        for (size_t i = 0; i < m->n_cand; i++) {
            if (m->cand[i].ind == ind)
                return;
        }
        if (GROW(m->cand, &m->cap_cand, m->n_cand + 1) != CTIX_OK) {
            c->rc = CTIX_ENOMEM;
            return;
        }
        m->cand[m->n_cand].ind = ind;
        m->cand[m->n_cand].obs = obs;
        m->n_cand++;
        return;
    }
    for (size_t i = 0; i < m->n_hits; i++) {
        if (m->hits[i].ind == ind)
            return;
    }
    if (GROW(m->hits, &m->cap_hits, m->n_hits + 1) != CTIX_OK) {
        c->rc = CTIX_ENOMEM;
        return;
    }
    m->hits[m->n_hits].ind = ind;
    m->hits[m->n_hits].obs = obs;
    m->n_hits++;
}

static void hit_list(struct mctx *c, uint32_t head, uint32_t obs)
{
    for (uint32_t t = head; t != NONE32; t = c->ix->tags[t].next)
        hit_tag(c, c->ix->tags[t].ind, obs);
}

/* The segment holding a, between the bucket's bounds (lo, hi from v4bucket). */
static void match_v4_in(struct mctx *c, uint32_t a, size_t lo, size_t hi, uint32_t obs)
{
    const struct scan_index *ix = c->ix;
    size_t found = lo - 1; /* the segment reaching into this bucket from before */

    while (hi - lo > 8) {
        size_t mid = lo + (hi - lo) / 2;

        if (ix->v4s[mid].start <= a)
            lo = mid;
        else
            hi = mid;
    }
    for (size_t i = lo; i < hi && ix->v4s[i].start <= a; i++)
        found = i;
    if (found >= ix->n_v4s || ix->v4s[found].list == NONE32)
        return;
    const uint32_t *l = &ix->v4lists[ix->v4s[found].list];
    for (uint32_t i = 0; i < l[0]; i++)
        hit_tag(c, l[1 + i], obs);
}

static void match_v6(struct mctx *c, const uint8_t addr[16], uint32_t obs)
{
    const struct scan_index *ix = c->ix;
    uint8_t a[16];
    uint32_t k;

    if (ix->v6.n == 0)
        return;
    for (int p = 128; p >= 0; p--) {
        if (!(ix->v6.plens[p / 64] >> (p % 64) & 1))
            continue;
        memcpy(a, addr, 16);
        v6_mask(a, (unsigned)p);
        if ((k = v6_find(ix, a, (unsigned)p)) != NONE32)
            hit_list(c, ix->v6.keys[k].tags, obs);
    }
}

static void prefix_list(struct mctx *c, uint32_t head, const char *p, size_t n, uint32_t obs)
{
    for (uint32_t u = head; u != NONE32; u = c->ix->upre[u].next) {
        const struct uprefix *x = &c->ix->upre[u];

        if (x->len <= n && memcmp(c->ix->pool.p + x->off, p, x->len) == 0)
            hit_tag(c, x->tag, obs);
    }
}

/* The URL prefixes p[0..n) starts with. */
static void match_url_prefixes(struct mctx *c, const char *p, size_t n, uint32_t obs)
{
    const struct scan_index *ix = c->ix;
    size_t a, alen;

    if (ix->uhost.n != 0 && url_authority(p, n, &a, &alen)) {
        /* The key is scheme://userinfo@host without the port (add_prefix's host span). */
        size_t e = a + alen, he = scan_index__port_cut(p, a, e);
        uint32_t k;

        k = stable_find(ix, &ix->uhost, SCAN_URL, p, he, hash_words(ix->seed, SCAN_URL, p, he));
        if (k != NONE32)
            prefix_list(c, ix->uhost.keys[k].tags, p, n, obs);
    }
    prefix_list(c, ix->upre_short, p, n, obs);
}

static const char *const rec_types[SCAN_KIND_N] = {
    "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file", "file", "file",
};

/* The id of the SCO rec_objects makes of observable i. */
static void rec_sco_id(const struct scan_rec *r, size_t i, char id[64])
{
    snprintf(id, 64, "%s--00000000-0000-4000-8000-%012zx", rec_types[r->obs[i].kind], i);
}

/* One member ref (1 + an observable's index, 0: none) of the network-traffic object. */
static bool conn_ref_set(const struct scan_rec *r, json_t *nt, const char *key, uint16_t ref)
{
    char id[64];

    if (ref == 0 || ref > r->n_obs)
        return true;
    rec_sco_id(r, ref - 1u, id);
    return json_object_set_new(nt, key, json_string(id)) == 0;
}

/* The record's connection as a network-traffic SCO whose src_ref / dst_ref name the address
 * SCOs, with its ports and transport as STIX writes them (protocols: a list, lower case). Made
 * only when the record knows an address of it: STIX requires src_ref or dst_ref. */
static bool rec_conn(const struct scan_rec *r, const struct scan_conn_info *ci, json_t *objs,
                     json_t *refs)
{
    json_t *nt = json_object();
    char id[64];
    bool ok;

    snprintf(id, sizeof(id), "network-traffic--00000000-0000-4000-8000-%012zx", r->n_obs);
    ok = nt != NULL && json_array_append_new(objs, nt) == 0;
    if (!ok) {
        json_decref(nt);
        return false;
    }
    ok = json_object_set_new(nt, "type", json_string("network-traffic")) == 0 &&
         json_object_set_new(nt, "id", json_string(id)) == 0 &&
         json_array_append_new(refs, json_string(id)) == 0 &&
         conn_ref_set(r, nt, "src_ref", ci->src) && conn_ref_set(r, nt, "dst_ref", ci->dst);
    if (ok && ci->has_sport)
        ok = json_object_set_new(nt, "src_port", json_integer(ci->sport)) == 0;
    if (ok && ci->has_dport)
        ok = json_object_set_new(nt, "dst_port", json_integer(ci->dport)) == 0;
    if (ok && ci->proto_len > 0) {
        json_t *pl = json_array();

        ok = pl != NULL && json_object_set_new(nt, "protocols", pl) == 0 &&
             json_array_append_new(pl, json_stringn(ci->proto, ci->proto_len)) == 0;
    }
    return ok;
}

/* The record as one observation: an observed-data over its observables (and the connection it
 * describes), for pattern_eval. */
static json_t *rec_objects(const struct scan_rec *r, int64_t t)
{
    const char *const *types = rec_types;
    static const char *const hashes[SCAN_KIND_N] = {
        NULL, NULL, NULL, NULL, NULL, "MD5", "SHA-1", "SHA-256",
    };
    char ts[32], id[64], text[SCAN_ADDR_TEXT];
    json_t *objs = json_array(), *od = json_object(), *refs = json_array();
    bool ok = objs != NULL && od != NULL && refs != NULL;

    ctix_ts_format_us(t * 1000, ts);
    ok = ok && json_array_append_new(objs, od) == 0;
    if (!ok) {
        json_decref(od);
        goto out;
    }
    ok = json_object_set_new(od, "type", json_string("observed-data")) == 0 &&
         json_object_set_new(od, "spec_version", json_string("2.1")) == 0 &&
         json_object_set_new(od, "id",
                             json_string("observed-data--00000000-0000-4000-8000-"
                                         "000000000000")) == 0 &&
         json_object_set_new(od, "created", json_string(ts)) == 0 &&
         json_object_set_new(od, "modified", json_string(ts)) == 0 &&
         json_object_set_new(od, "first_observed", json_string(ts)) == 0 &&
         json_object_set_new(od, "last_observed", json_string(ts)) == 0 &&
         json_object_set_new(od, "number_observed", json_integer(1)) == 0;
    for (size_t i = 0; ok && i < r->n_obs; i++) {
        const struct scan_obs *o = &r->obs[i];
        json_t *sco = json_object();
        json_t *val;

        rec_sco_id(r, i, id);
        if (o->kind == SCAN_IPV4 || o->kind == SCAN_IPV6) {
            size_t tn = scan_addr_text(o, text);

            val = json_stringn(text, tn);
        } else {
            val = json_stringn(o->u.s.p, o->u.s.n);
        }
        ok = sco != NULL && val != NULL && json_array_append_new(objs, sco) == 0;
        if (!ok) {
            json_decref(sco);
            json_decref(val);
            break;
        }
        ok = json_object_set_new(sco, "type", json_string(types[o->kind])) == 0 &&
             json_object_set_new(sco, "id", json_string(id)) == 0 &&
             json_array_append_new(refs, json_string(id)) == 0;
        if (ok && hashes[o->kind] != NULL) {
            json_t *h = json_object();

            ok = h != NULL && json_object_set_new(sco, "hashes", h) == 0 &&
                 json_object_set_new(h, hashes[o->kind], val) == 0;
            if (h == NULL)
                json_decref(val);
        } else if (ok) {
            ok = json_object_set_new(sco, "value", val) == 0;
        } else {
            json_decref(val);
        }
    }
    if (ok) {
        struct scan_conn_info ci;

        ok = scan_conn_get(r, &ci);
        if (ok && (ci.src != 0 || ci.dst != 0))
            ok = rec_conn(r, &ci, objs, refs);
    }
    ok = ok && json_object_set(od, "object_refs", refs) == 0;
out:
    json_decref(refs);
    if (!ok) {
        json_decref(objs);
        return NULL;
    }
    return objs;
}

/* Evaluates the candidates' patterns on the record; those that match become hits. */
static enum ctix_rc eval_cands(struct mctx *c, const struct scan_rec *r)
{
    struct scan_matcher *m = c->m;
    struct pattern_obs *o = NULL;
    struct ctix_diag d;
    json_t *objs;
    enum ctix_rc rc = CTIX_ENOMEM;

    ctix_diag_clear(&d);
    objs = rec_objects(r, c->t);
    if (objs == NULL)
        goto out;
    rc = pattern_obs_new(objs, &o, &d);
    if (rc != CTIX_OK)
        goto out;
    for (size_t i = 0; i < m->n_cand; i++) {
        struct pattern_result res;
        uint32_t ind = m->cand[i].ind;
        bool dup = false;

        memset(&res, 0, sizeof(res));
        m->n_evals++;
        rc = pattern_eval(c->ix->inds[ind].eval, o, &res, &d);
        if (rc == CTIX_ETOOBIG)
            rc = CTIX_OK; /* over its step budget: not matched */
        bool matched = rc == CTIX_OK && res.matched;
        pattern_result_cleanup(&res);
        if (rc != CTIX_OK)
            goto out;
        for (size_t j = 0; j < m->n_hits; j++)
            dup = dup || m->hits[j].ind == ind;
        if (!matched || dup)
            continue;
        if ((rc = GROW(m->hits, &m->cap_hits, m->n_hits + 1)) != CTIX_OK)
            goto out;
        m->hits[m->n_hits].ind = ind;
        m->hits[m->n_hits].obs = m->cand[i].obs;
        m->n_hits++;
    }
    rc = CTIX_OK;
out:
    pattern_obs_free(o);
    json_decref(objs);
    return rc;
}

/* One table probe of a record: computed and prefetched for all observables first, resolved
 * after, so that the cache misses of one record overlap instead of queueing. */
struct probe {
    const char *p;
    uint32_t n;
    uint32_t obs;
    uint8_t kind;
    uint64_t h; /* string kinds: the hash; IPv4: the address; then the bucket bounds */
    uint32_t lo, hi;
    uint8_t host_first; /* the first (whole-host) probe of a host's parent-domain group */
};

/* A per-thread memory of hosts that no parent domain of matched a key: logs repeat their hosts,
 * and a host seen and found absent is not hashed label by label and probed again. The index is
 * read-only during a scan, so an entry never goes stale. Entries are full 64-bit hashes under the
 * index's secret seed. */
#define HOSTCACHE SCAN_HOSTCACHE

enum { PROBE_V6 = SCAN_KIND_N, PROBE_PREFIX, PROBE_ANY, PROBE_NONE };

/* Returns whether a string probe found its key (whatever the key's indicators say now). */
static bool probe_resolve(struct mctx *c, const struct scan_rec *r, const struct probe *pr)
{
    const struct scan_index *ix = c->ix;
    const struct scan_obs *o = &r->obs[pr->obs];

    if (pr->kind == PROBE_NONE)
        return false;
    if (pr->kind == PROBE_V6) {
        match_v6(c, o->u.v6, pr->obs);
        return false;
    }
    if (pr->kind == PROBE_PREFIX) {
        match_url_prefixes(c, o->u.s.p, o->u.s.n, pr->obs);
        return false;
    }
    if (pr->kind == PROBE_ANY) {
        hit_list(c, ix->any_tags[o->kind], pr->obs);
        return false;
    }
    if (pr->kind == SCAN_IPV4) {
        match_v4_in(c, (uint32_t)pr->h, pr->lo, pr->hi, pr->obs);
        return false;
    }
    uint32_t k = stable_find(ix, &ix->str, pr->kind, pr->p, pr->n, pr->h);
    if (k == NONE32)
        return false;
    hit_list(c, ix->str.keys[k].tags, pr->obs);
    return true;
}

/* Resolves m's probes: the IPv4 /24 map and buckets first (prefetching their segments), then
 * every probe in order, so hits come out in the order of the record's observables. */
static void probes_resolve(struct mctx *c, const struct scan_rec *r, struct probe *pr, size_t np)
{
    const struct scan_index *ix = c->ix;

    for (size_t j = 0; j < np; j++) {
        if (pr[j].kind == SCAN_IPV4) {
            uint32_t a = (uint32_t)pr[j].h;
            size_t b = a >> (32 - ix->v4bits);

            if (!(ix->v4map[a >> 14] >> (a >> 8 & 63) & 1)) {
                pr[j].kind = PROBE_NONE;
                continue;
            }
            pr[j].lo = ix->v4bucket[b];
            pr[j].hi = ix->v4bucket[b + 1];
            __builtin_prefetch(&ix->v4s[pr[j].lo > 0 ? pr[j].lo - 1 : 0]);
        }
    }
    uint64_t *cache = c->m->hostcache;
    size_t group = SIZE_MAX; /* the current host group's first probe */
    bool found = false;

    for (size_t j = 0; j <= np; j++) {
        bool ends = j == np || pr[j].host_first || pr[j].kind != SCAN_DOMAIN;

        if (group != SIZE_MAX && ends) {
            if (!found && cache != NULL)
                cache[pr[group].h & (HOSTCACHE - 1)] = pr[group].h;
            group = SIZE_MAX;
        }
        if (j == np)
            break;
        if (pr[j].host_first) {
            group = j;
            found = false;
        }
        found |= probe_resolve(c, r, &pr[j]);
    }
}

static struct probe *probe_new(struct scan_matcher *m)
{
    struct probe *pr;

    if (ctix_array_reserve(&m->probes, &m->cap_probes, m->n_probes + 1, sizeof(*pr)) != CTIX_OK)
        return NULL;
    pr = &((struct probe *)m->probes)[m->n_probes++];
    pr->host_first = 0;
    return pr;
}

/* Stage one: the hashes that decide whether an observable needs the big tables at all (a host's
 * whole-name hash for the host memory, a URL's authority for the URL-host filter), with those
 * small tables' lines prefetched, and the IPv4 /24 map's. */
enum ctix_rc scan_index_stage1(const struct scan_index *ix, const struct scan_rec *r,
                               struct scan_matcher *m)
{
    if (m->oh == NULL) {
        m->oh = malloc(SCAN_REC_MAX_OBS * sizeof(*m->oh));
        m->hostcache = m->hostcache != NULL ? m->hostcache : calloc(HOSTCACHE, sizeof(uint64_t));
        if (m->oh == NULL || m->hostcache == NULL)
            return CTIX_ENOMEM;
    }
    for (size_t i = 0; i < r->n_obs && i < SCAN_REC_MAX_OBS; i++) {
        const struct scan_obs *o = &r->obs[i];
        size_t aoff, alen;

        m->oh[i] = 0;
        if (o->kind == SCAN_IPV4) {
            if (ix->n_v4s != 0)
                __builtin_prefetch(&ix->v4map[o->u.v4 >> 14]);
        } else if (o->kind == SCAN_DOMAIN) {
            if (ix->kind_keys[SCAN_DOMAIN] != 0 && o->u.s.n != 0) {
                m->oh[i] = hash_words(ix->seed, SCAN_DOMAIN, o->u.s.p, o->u.s.n);
                __builtin_prefetch(&m->hostcache[m->oh[i] & (HOSTCACHE - 1)]);
            }
        } else if (o->kind == SCAN_URL) {
            if (ix->kind_keys[SCAN_URL] != 0 && url_authority(o->u.s.p, o->u.s.n, &aoff, &alen)) {
                uint64_t h = uhost_hash(ix->seed, o->u.s.p + aoff, alen);

                m->oh[i] = h | 1; /* never 0 ("no authority"); bit 0 is not used by the filter */
                __builtin_prefetch(&ix->uhost_bits[((uint32_t)(h >> 1) & (UHOST_BITS - 1)) / 64]);
                __builtin_prefetch(&ix->uhost_bits[((uint32_t)(h >> 40) & (UHOST_BITS - 1)) / 64]);
            }
        }
    }
    return CTIX_OK;
}

/* Stage two: the probes, with the big tables' slots prefetched. */
enum ctix_rc scan_index_stage2(const struct scan_index *ix, const struct scan_rec *r,
                               struct scan_matcher *m)
{
    struct probe *pr;

    m->n_probes = 0;
    for (size_t i = 0; i < r->n_obs; i++) {
        const struct scan_obs *o = &r->obs[i];
        uint32_t oi = (uint32_t)i;
        uint64_t oh = i < SCAN_REC_MAX_OBS ? m->oh[i] : 0;

        switch (o->kind) {
        case SCAN_IPV4:
            if (ix->n_v4s == 0)
                break;
            if ((pr = probe_new(m)) == NULL)
                return CTIX_ENOMEM;
            pr->kind = SCAN_IPV4;
            pr->h = o->u.v4;
            pr->obs = oi;
            break;
        case SCAN_IPV6:
            if (ix->v6.n == 0)
                break;
            if ((pr = probe_new(m)) == NULL)
                return CTIX_ENOMEM;
            pr->kind = PROBE_V6;
            pr->obs = oi;
            break;
        case SCAN_DOMAIN: {
            /* The host and each parent domain: a.b.evil.example, b.evil.example, … */
            const char *p = o->u.s.p;
            uint32_t n = o->u.s.n;
            uint64_t hf = oh;

            if (ix->kind_keys[SCAN_DOMAIN] == 0 || n == 0)
                break;
            if (m->hostcache[hf & (HOSTCACHE - 1)] == hf && hf != 0)
                break; /* seen, and none of its parents is a key */
            for (uint32_t s = 0; s < n; s++) {
                if (s != 0 && p[s - 1] != '.')
                    continue;
                if (s != 0 && ix->tld_keys == 0 && memchr(p + s, '.', n - s) == NULL)
                    break; /* the last label alone: no such key */
                if ((pr = probe_new(m)) == NULL)
                    return CTIX_ENOMEM;
                pr->kind = SCAN_DOMAIN;
                pr->p = p + s;
                pr->n = n - s;
                pr->h = s == 0 ? hf : hash_words(ix->seed, SCAN_DOMAIN, p + s, n - s);
                pr->host_first = s == 0;
                pr->obs = oi;
                __builtin_prefetch(&ix->str.slots[(size_t)pr->h & ix->str.mask]);
            }
            break;
        }
        case SCAN_URL:
            if (ix->kind_keys[SCAN_URL] == 0 || (oh != 0 && !uhost_test(ix, oh & ~(uint64_t)1)))
                break;
            if ((pr = probe_new(m)) == NULL)
                return CTIX_ENOMEM;
            pr->kind = SCAN_URL;
            pr->p = o->u.s.p;
            pr->n = o->u.s.n;
            pr->h = hash_words(ix->seed, SCAN_URL, o->u.s.p, o->u.s.n);
            pr->obs = oi;
            __builtin_prefetch(&ix->str.slots[(size_t)pr->h & ix->str.mask]);
            break;
        default:
            if (o->kind >= SCAN_KIND_N || ix->kind_keys[o->kind] == 0)
                break;
            if ((pr = probe_new(m)) == NULL)
                return CTIX_ENOMEM;
            pr->kind = o->kind;
            pr->p = o->u.s.p;
            pr->n = o->u.s.n;
            pr->h = hash_words(ix->seed, o->kind, o->u.s.p, o->u.s.n);
            pr->obs = oi;
            __builtin_prefetch(&ix->str.slots[(size_t)pr->h & ix->str.mask]);
            break;
        }
        if (o->kind == SCAN_URL && ix->n_upre > 0) {
            if ((pr = probe_new(m)) == NULL)
                return CTIX_ENOMEM;
            pr->kind = PROBE_PREFIX;
            pr->obs = oi;
        }
        if (o->kind < SCAN_KIND_N && ix->any_tags[o->kind] != NONE32) {
            if ((pr = probe_new(m)) == NULL)
                return CTIX_ENOMEM;
            pr->kind = PROBE_ANY;
            pr->obs = oi;
        }
    }
    return CTIX_OK;
}

enum ctix_rc scan_index_resolve(const struct scan_index *ix, const struct scan_rec *r,
                                int64_t now_ms, int64_t at_ms, struct scan_matcher *m)
{
    struct mctx c;

    m->n_hits = 0;
    m->n_cand = 0;
    c.ix = ix;
    c.m = m;
    c.t = at_ms != SCAN_TIME_NONE ? at_ms : r->time_ms != SCAN_TIME_NONE ? r->time_ms : now_ms;
    c.rc = CTIX_OK;
    if (m->n_probes > 0)
        probes_resolve(&c, r, m->probes, m->n_probes);
    m->n_probes = 0;
    if (c.rc == CTIX_OK && m->n_cand > 0)
        c.rc = eval_cands(&c, r);
    return c.rc;
}

enum ctix_rc scan_index_match(const struct scan_index *ix, const struct scan_rec *r, int64_t now_ms,
                              int64_t at_ms, struct scan_matcher *m)
{
    enum ctix_rc rc = scan_index_stage1(ix, r, m);

    if (rc == CTIX_OK)
        rc = scan_index_stage2(ix, r, m);
    return rc != CTIX_OK ? rc : scan_index_resolve(ix, r, now_ms, at_ms, m);
}

/* ---- what the sieve needs (sieve.h) ---- */

size_t scan_index__port_cut(const char *p, size_t a, size_t e)
{
    if (e == a || p[e - 1] == ']')
        return e;
    for (size_t j = e; j > a; j--) {
        if (p[j - 1] == ':')
            return j - 1;
        if (p[j - 1] < '0' || p[j - 1] > '9')
            break;
    }
    return e;
}

const struct scan_sieve *scan_index_sieve(const struct scan_index *ix)
{
    return ix->sieve;
}

bool scan_index__sievable(const struct scan_index *ix)
{
    for (size_t k = 0; k < SCAN_KIND_N; k++) {
        if (ix->any_tags[k] != NONE32)
            return false;
    }
    return ix->upre_short == NONE32;
}

void scan_index__each_str(const struct scan_index *ix,
                          void (*fn)(void *arg, int kind, const char *p, size_t n), void *arg)
{
    for (size_t i = 0; i < ix->str.n; i++)
        fn(arg, ix->str.keys[i].kind, ix->pool.p + ix->str.keys[i].off, ix->str.keys[i].len);
    for (size_t i = 0; i < ix->uhost.n; i++)
        fn(arg, SCAN_URL, ix->pool.p + ix->uhost.keys[i].off, ix->uhost.keys[i].len);
}

void scan_index__each_v4(const struct scan_index *ix,
                         void (*fn)(void *arg, uint32_t lo, uint32_t hi), void *arg)
{
    for (size_t i = 0; i < ix->n_v4s; i++) {
        if (ix->v4s[i].list == NONE32)
            continue;
        uint32_t hi = i + 1 < ix->n_v4s ? ix->v4s[i + 1].start - 1 : UINT32_MAX;

        fn(arg, ix->v4s[i].start, hi);
    }
}

bool scan_index__v6_listed(const struct scan_index *ix, const uint8_t addr[16])
{
    uint8_t a[16];

    for (int wi = 2; wi >= 0; wi--) {
        for (uint64_t x = ix->v6.plens[wi]; x != 0;) {
            unsigned p = (unsigned)wi * 64 + 63 - (unsigned)__builtin_clzll(x);

            x &= ~((uint64_t)1 << (p % 64));
            memcpy(a, addr, 16);
            v6_mask(a, p);
            if (v6_find(ix, a, p) != NONE32)
                return true;
        }
    }
    return false;
}

void scan_index__each_v6(const struct scan_index *ix,
                         void (*fn)(void *arg, const uint8_t a[16], unsigned plen), void *arg)
{
    for (size_t i = 0; i < ix->v6.n; i++)
        fn(arg, ix->v6.keys[i].a, ix->v6.keys[i].plen);
}

bool scan_index__tld_keys(const struct scan_index *ix)
{
    return ix->tld_keys != 0;
}

uint64_t scan_index__seed(const struct scan_index *ix)
{
    return ix->seed;
}
