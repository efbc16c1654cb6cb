/* The scan sieve (sieve.h): which lines cannot match, decided from the line's bytes alone.
 *
 * A batch of lines is classified by a vector pass into bit masks (host bytes, dots, digits,
 * colons, IPv6 bytes, newlines, '%' and '\\'; with AVX-512 VBMI one table lookup per 64 bytes),
 * then walked once:
 *   - each run of host bytes with a dot (its line found only when it is looked up): digits and
 *     one dot (a time) are dropped from the masks alone (with AVX-512 and GFNI, eight words at
 *     once before the walk, so the walk never visits them); a dotted quad written "10." or
 *     "192.168." is dropped from its first bytes when nothing is listed there (decided before
 *     the parse's long chain of dependent steps, the branch costs little when it mispredicts:
 *     13 % of the sieve); any other is parsed (one shuffle, no branch on its parts' lengths) and
 *     dropped when its /16 holds nothing listed (a map in cache); a host name is dropped when a
 *     per-worker memory of runs known clean knows it, or when its last label ends no key
 *     ("app.js", "50.693Z"); what is left is hashed after the walk (each dot-suffix of two or
 *     more labels: what the index probes as the host and its parents) and probed;
 *   - runs of 32, 40 or 64 hex digits: probed as hashes;
 *   - colons between IPv6 bytes, followed by a second colon or two more close behind (not a
 *     time of day's; with AVX-512 found eight words at once, so a JSON line's many colons cost
 *     the IPv6 pass nothing): the address parsed and probed (and networks by their prefix cut to a
 *     multiple of 16 bits), unless the memory of clean runs knows it;
 *   - a backslash (an escape a reader would decode) or a %XX that decodes to a host byte sends the
 *     line on as it is: the sieve does not decode.
 * All probes of a batch are prefetched before any is answered.
 *
 * The filter is a blocked Bloom filter: three bits in one 64-bit word per key, four to eight
 * bytes per key, so a lookup is one memory access and a false "maybe" one in a few hundred; each
 * "maybe" is then checked against the keys' 32-bit fingerprints (a second access, for the few
 * lookups that get that far), so that a line is let through by luck about once in 2^30. An IPv4
 * address's word is its /24's, which also holds networks covering the whole /24. An IPv4 address
 * asks a map of /24s first (a bit each, 2 MB: it stays in the last-level cache, where the filter
 * cannot): with a million indicators about one public /24 in 25 holds something listed, so most
 * addresses stop there, and the rest ask the filter in a second round. */
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SIEVE_X86 1
#endif

#include "scan/sieve.h"

struct masks;
struct scan_sieve_batch;
typedef void (*classify_fn)(const char *p, size_t w0, size_t w1, size_t len, struct masks *m);
typedef size_t (*pass_fn)(const struct scan_sieve *sv, struct scan_sieve_batch *b, const char *p,
                          size_t len);
typedef size_t (*count_fn)(const char *p, size_t n, char c);

/* The last labels of host keys ("com", "io"), by 16 bits of their hash: a host whose last label
 * is none of them holds no key, as a name or as a parent (a file name "app.js", a time
 * "50.693Z"), and is not looked at further. */
#define TLD_BITS     16
#define V6_TAIL_BITS 20

struct scan_sieve {
    const struct scan_index *ix;
    classify_fn classify; /* the widest vector pass the CPU has */
    pass_fn pass;         /* the line pass built for the CPU's bit instructions */
    count_fn count;       /* scan_sieve_count's */
    bool lone512; /* AVX-512 (VBMI2) and GFNI: lone_dots512(), v6_colons512() before the walk */
    uint64_t tails[((size_t)1 << TLD_BITS) / 64];
    /* dotted quads by the lengths of their four parts (1-3 digits each, 81 shapes): where each
     * part's hundreds, tens and ones are in the text (0x80: none) */
    uint8_t quad_shuf[81][16];
    uint64_t *bloom;
    uint64_t wmask; /* words - 1 */
    /* every key's fingerprint (32 bits of its hash) in an open-addressed table, at most half
     * full: the filter's "maybe" is checked here before a line is let through. The filter's
     * own false "maybe" (about one probe in 400) falls on a log's values by their frequency:
     * a popular host that happens to be one would send a line in a hundred to its reader, for
     * the whole scan, by the luck of the seed */
    uint32_t *fps;
    uint64_t fmask; /* slots - 1 */
    /* one bit per /16 holding some listed address (in cache: most private addresses of a log
     * are let go without a lookup) */
    uint64_t map16[((size_t)1 << 16) / 64];
    /* one bit per /24 holding some listed address (2 MB: it stays in the last-level cache, where
     * the filter does not): an address whose /24 holds nothing listed is let go without the
     * filter (the most of a log's public addresses). Not the index's own map of /24s: the
     * sieve's also holds the hosts of URL keys written as addresses */
    uint64_t *v4map;
    uint64_t seed_host, seed_hash, seed_v4, seed_run;
    bool tld; /* one-label domain keys: a host's last label is looked up too */
    /* some host key's last label begins with a digit (else "58.385Z", a JSON time's seconds,
     * is no host any key could match: lone_dots512() drops such runs) */
    bool digit_tail;
    /* nothing listed in 10.0.0.0/8, in 192.168.0.0/16: a quad written "10." or "192.168." (a
     * log's own clients and servers, in most lines) is let go from its first bytes, unparsed */
    bool no10, no192;
    bool bare; /* URL keys whose host is one label ("localhost"): dotless runs are hosts too */
    /* IPv6 keys: addresses (and URL hosts) by their hash in the filter; networks by their
     * prefix cut to a multiple of 16 bits, /32 or longer (bit L/16 of v6_levels: some network
     * cut to /L; one shorter than /20 has the index itself look up each address) */
    bool v6, v6_addr, v6_any;
    unsigned v6_levels;
    /* IPv6 keys all addresses (no networks): a bit per hash of their last 32 bits, read from a
     * log address's last two groups before it is parsed (most stop there) */
    bool v6_tails;
    uint64_t v6_tail[((size_t)1 << V6_TAIL_BITS) / 64];
    uint64_t seed_v6, seed_v6n;
    size_t mem;
};

static classify_fn classify_pick(void);
static pass_fn pass_pick(void);
static count_fn count_pick(void);
static bool lone_pick(void);

/* ---- hashing (keyed: filter lookups are driven by log text) ---- */

static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#define FOLD 0x2020202020202020u
#define K1   0xa0761d6478bd642fu
#define K2   0xe7037ed1a0b428dbu
#define K3   0x8ebc6af09c88c6e3u

/* Folds p[0..n) (every byte | 0x20: ASCII letter case) into h, 8 bytes a step, and ends the
 * piece with a step of its own (so "ab" + "c" differs from "a" + "bc"). Reads up to 7 bytes past
 * p + n (the caller guarantees them readable); they do not count. */
static inline uint64_t hpiece(uint64_t h, const char *p, size_t n)
{
    uint64_t w;
    size_t i = 0;

    if (n < 8) {
        /* most labels: one load */
        memcpy(&w, p, 8);
        w = n == 0 ? 0 : (w | FOLD) & (~(uint64_t)0 >> (64 - 8 * n));
        return fold_mul(h ^ w ^ ((uint64_t)n << 56), K2);
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h = fold_mul(h ^ (w | FOLD), K1);
    }
    w = 0;
    if (i < n) {
        memcpy(&w, p + i, 8);
        w = (w | FOLD) & (~(uint64_t)0 >> (8 * (8 - (n - i))));
    }
    return fold_mul(h ^ w ^ ((uint64_t)n << 56), K2);
}

/* A host name's hashes, label by label from the right: after the last k labels, the hash of that
 * suffix (what the index would look up as a parent domain). dots[0..nd) are the dots of
 * p[0..n). The last label's hash is hpiece(seed, last label) (host_tail); hosts_parents goes on
 * from it, calling probe(arg, hash) for each suffix of two labels or more: a parent's hash
 * marked with PARENT, the whole name's as it is.
 *
 * Only a domain key matches a name's parents; a URL's host or an e-mail address's domain
 * matches the name alone (http://pizza.example/x is not found in http://www.pizza.example/).
 * So a domain key is in the filter twice, as itself and marked as a parent, and the other host
 * keys once: a line whose host is a subdomain of a URL key's is let go (in a log of a few
 * thousand popular hosts, a third of the lines a million keys let through were such). */
#define HOST_DOTS_MAX 64
#define PARENT        0x6c8e9cf570932bd5u

static inline uint64_t host_tail(uint64_t seed, const char *p, size_t n, const uint32_t *dots,
                                 size_t nd)
{
    size_t a = nd > 0 ? dots[nd - 1] + 1 : 0;

    return hpiece(seed, p + a, n - a);
}

static inline uint64_t hosts_parents(uint64_t h, const char *p, const uint32_t *dots, size_t nd,
                                     void (*probe)(void *, uint64_t), void *arg)
{
    size_t end = nd > 0 ? dots[nd - 1] : 0;

    for (size_t k = nd; k-- > 0;) {
        size_t a = k > 0 ? dots[k - 1] + 1 : 0;

        h = hpiece(h, p + a, end - a);
        probe(arg, k > 0 ? h ^ PARENT : h);
        if (k > 0)
            end = dots[k - 1];
    }
    return h;
}

/* IPv4: an address's word of the filter is in its /24's cache line (eight words, one picked by
 * the address's hash), so that one memory access answers for the address and for a network
 * covering the whole /24 (three bits of the /24's own hash, in the word it picks). */
static inline uint64_t hv4_24(uint64_t seed, uint32_t a)
{
    return fold_mul(fold_mul(seed ^ (a >> 8), 0x9e3779b97f4a7c15u), K1);
}

static inline uint64_t hv4(uint64_t seed, uint32_t a)
{
    return fold_mul(fold_mul(seed ^ a, 0x9e3779b97f4a7c15u), 0x8ebc6af09c88c6e3u);
}

static inline uint64_t hv6(uint64_t seed, const uint8_t a[16])
{
    uint64_t lo, hi;

    memcpy(&lo, a, 8);
    memcpy(&hi, a + 8, 8);
    return fold_mul(fold_mul(seed ^ lo, K1) ^ hi, K2);
}

/* an address's (or a network's) first 16 * q bits (2 <= q <= 7) */
static inline uint64_t hv6n(uint64_t seed, const uint8_t a[16], unsigned q)
{
    uint64_t hi = 0, lo = 0; /* the address as two big-endian halves */

    for (unsigned i = 0; i < 8; i++) {
        hi = hi << 8 | a[i];
        lo = lo << 8 | a[8 + i];
    }
    if (q < 4) {
        hi &= ~(uint64_t)0 << (64 - 16 * q);
        lo = 0;
    } else if (q > 4) {
        lo &= ~(uint64_t)0 << (128 - 16 * q);
    } else {
        lo = 0;
    }
    return fold_mul(fold_mul(seed ^ hi ^ q, K3) ^ lo, K1);
}

static inline size_t v6_tail_at(uint32_t t)
{
    return (size_t)((uint32_t)(t * 0x9e3779b1u) >> (32 - V6_TAIL_BITS));
}

static void v6_tail_set(struct scan_sieve *sv, const uint8_t a[16])
{
    size_t k =
        v6_tail_at((uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15]);

    sv->v6_tail[k / 64] |= (uint64_t)1 << (k % 64);
}

/* The group of 1-4 hex digits ending at p[*i - 1] (not before p[a]): its value, *i at its start;
 * -1 when there is none or it is longer. */
static inline int tail_group(const char *p, size_t a, size_t *i)
{
    unsigned v = 0, k = 0;
    size_t j = *i;

    for (; j > a && k < 5; j--, k++) {
        unsigned u = (unsigned char)p[j - 1], d = u - '0', l = (u | 0x20) - 'a';

        if (d < 10)
            v |= d << (4 * k);
        else if (l < 6)
            v |= (l + 10) << (4 * k);
        else
            break;
    }
    if (k == 0 || k > 4)
        return -1;
    *i = j;
    return (int)v;
}

/* The last 32 bits of the IPv6 address p[a..z) read from its end (its last two groups, or one
 * after "::", or "::" at the end); false when its text does not say them plainly (a dotted quad,
 * a colon at the end) — then it must be parsed whole. */
static bool v6_tail_of(const char *p, size_t a, size_t z, uint32_t *t)
{
    size_t i = z;
    int g1, g2;

    if (z - a < 2)
        return false;
    if (p[z - 1] == ':') {
        *t = 0;
        return p[z - 2] == ':';
    }
    g1 = tail_group(p, a, &i);
    if (g1 < 0 || i - a < 2 || p[i - 1] != ':')
        return false;
    i--;
    if (p[i - 1] == ':') {
        *t = (uint32_t)g1; /* "::" stands for the group before */
        return true;
    }
    g2 = tail_group(p, a, &i);
    if (g2 < 0)
        return false;
    *t = (uint32_t)g2 << 16 | (uint32_t)g1;
    return true;
}

static inline uint64_t bloom_need(uint64_t h)
{
    return ((uint64_t)1 << ((h >> 40) & 63)) | ((uint64_t)1 << ((h >> 46) & 63)) |
           ((uint64_t)1 << ((h >> 52) & 63));
}

static inline bool bloom_has(const struct scan_sieve *sv, uint64_t h)
{
    uint64_t need = bloom_need(h);

    return (sv->bloom[h & sv->wmask] & need) == need;
}

/* A key's slot (from all its hash's bits) and its fingerprint (odd: 0 is an empty slot). */
static inline size_t fp_slot(const struct scan_sieve *sv, uint64_t h)
{
    return (size_t)(fold_mul(h, K3) & sv->fmask);
}

static inline uint32_t fp_of(uint64_t h)
{
    return (uint32_t)(h >> 32) | 1;
}

static void fp_add(struct scan_sieve *sv, uint64_t h)
{
    size_t i = fp_slot(sv, h);
    uint32_t f = fp_of(h);

    while (sv->fps[i] != 0 && sv->fps[i] != f)
        i = (i + 1) & sv->fmask;
    sv->fps[i] = f;
}

/* Whether h may be a key's: false is exact (a different fingerprint), true wrong about once in
 * 2^30 lookups. */
static inline bool fp_has(const struct scan_sieve *sv, uint64_t h)
{
    size_t i = fp_slot(sv, h);
    uint32_t f = fp_of(h);

    for (; sv->fps[i] != 0; i = (i + 1) & sv->fmask) {
        if (sv->fps[i] == f)
            return true;
    }
    return false;
}

/* ---- building ---- */

struct bctx {
    struct scan_sieve *sv;
    uint64_t *keys; /* filter hashes */
    size_t n, cap;
    uint32_t *v4; /* pairs: an IPv4 address, then 1 when it stands for its whole /24 */
    size_t n4, cap4;
    bool ok;   /* no memory error */
    bool odd;  /* a key the sieve cannot see: no sieve */
    char *tmp; /* a key copied with room to read past it */
};

/* An IPv4 address (net false) or the /24 of a (net true). */
static void v4_push(struct bctx *b, uint32_t a, bool net)
{
    if (ctix_array_reserve((void **)&b->v4, &b->cap4, b->n4 + 2, sizeof(*b->v4)) != CTIX_OK) {
        b->ok = false;
        return;
    }
    b->v4[b->n4++] = a;
    b->v4[b->n4++] = net;
    b->sv->map16[a >> 22] |= (uint64_t)1 << ((a >> 16) % 64);
    b->sv->v4map[a >> 14] |= (uint64_t)1 << ((a >> 8) % 64);
}

static void key_push(struct bctx *b, uint64_t h)
{
    if (ctix_array_reserve((void **)&b->keys, &b->cap, b->n + 1, sizeof(*b->keys)) != CTIX_OK) {
        b->ok = false;
        return;
    }
    b->keys[b->n++] = h;
}

#define KEY_MAX 512

static void no_probe(void *arg, uint64_t h)
{
    (void)arg;
    (void)h;
}

/* A host key's hash: the whole name's, as the line pass computes it for a run of host bytes. */
static uint64_t key_host(struct bctx *b, const char *p, size_t n)
{
    uint32_t dots[HOST_DOTS_MAX];
    size_t nd = 0;
    uint64_t h;

    memcpy(b->tmp, p, n);
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '.')
            continue;
        if (nd == HOST_DOTS_MAX) {
            b->odd = true; /* the line pass lets such a run through unlooked-at */
            return 0;
        }
        dots[nd++] = (uint32_t)i;
    }
    if (n > 0) {
        size_t last = nd > 0 ? dots[nd - 1] + 1 : 0;

        b->sv->digit_tail |= last >= n || (p[last] >= '0' && p[last] <= '9');
    }
    h = host_tail(b->sv->seed_host, b->tmp, n, dots, nd);
    b->sv->tails[(h >> (64 - TLD_BITS)) / 64] |= (uint64_t)1 << ((h >> (64 - TLD_BITS)) % 64);
    return hosts_parents(h, b->tmp, dots, nd, no_probe, NULL);
}

static uint64_t key_hex(struct bctx *b, const char *p, size_t n)
{
    memcpy(b->tmp, p, n);
    return hpiece(b->sv->seed_hash, b->tmp, n);
}

static bool host_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

/* A URL key's host (from its authority): where a log shows it. */
static void url_host(struct bctx *b, const char *p, size_t n)
{
    const char *sep = n >= 3 ? memmem(p, n, "://", 3) : NULL;
    size_t a, e, he;
    uint32_t v4;
    bool dot = false, letter = false;

    if (sep == NULL) {
        b->odd = true;
        return;
    }
    a = (size_t)(sep - p) + 3;
    for (e = a; e < n && p[e] != '/' && p[e] != '?' && p[e] != '#'; e++)
        ;
    for (size_t i = e; i > a; i--) {
        if (p[i - 1] == '@') {
            a = i;
            break;
        }
    }
    if (a < e && p[a] == '[') {
        const char *rb = memchr(p + a, ']', e - a);
        size_t hl = rb != NULL ? (size_t)(rb - p - a - 1) : 0;
        struct scan_sieve *sv = b->sv;

        if (rb == NULL || hl > 45) {
            b->odd = true;
            return;
        }
        uint8_t a6[16];

        if (!scan_ipv6_parse(p + a + 1, hl, a6)) {
            b->odd = true;
            return;
        }
        key_push(b, hv6(sv->seed_v6, a6));
        v6_tail_set(sv, a6);
        sv->v6_addr = true;
        return;
    }
    he = scan_index__port_cut(p, a, e);
    if (he == a || he - a > 253) {
        b->odd = true;
        return;
    }
    if (scan_ipv4_parse(p + a, he - a, &v4)) {
        v4_push(b, v4, false);
        return;
    }
    for (size_t i = a; i < he; i++) {
        if (!host_byte(p[i])) {
            b->odd = true;
            return;
        }
        dot |= p[i] == '.';
        letter |= (p[i] < '0' || p[i] > '9') && p[i] != '.';
    }
    /* A host a log shows as a run the line pass treats as a host: with a dot and a byte other
     * than digits and dots, or (flag) without a dot. Digits and dots only ("1.2.3", an address
     * in another notation) would be looked at as a dotted quad only. */
    if (!letter || p[a] == '.' || p[a] == '-' || p[he - 1] == '.') {
        b->odd = true;
        return;
    }
    if (!dot)
        b->sv->bare = true;
    key_push(b, key_host(b, p + a, he - a));
}

static void each_str(void *arg, int kind, const char *p, size_t n)
{
    struct bctx *b = arg;
    const char *at;
    uint64_t h;

    if (b->odd || !b->ok)
        return;
    switch (kind) {
    case SCAN_DOMAIN:
        if (n == 0 || n > 253) {
            b->odd = n > 253;
            return;
        }
        h = key_host(b, p, n);
        key_push(b, h);
        key_push(b, h ^ PARENT);
        break;
    case SCAN_EMAIL:
        at = memrchr(p, '@', n);
        if (at == NULL || (size_t)(p + n - at - 1) > 253) {
            b->odd = true;
            return;
        }
        key_push(b, key_host(b, at + 1, (size_t)(p + n - at - 1)));
        break;
    case SCAN_MD5:
    case SCAN_SHA1:
    case SCAN_SHA256:
        if (n > 64) {
            b->odd = true;
            return;
        }
        key_push(b, key_hex(b, p, n));
        break;
    case SCAN_URL:
        url_host(b, p, n);
        break;
    default:
        b->odd = true;
        break;
    }
}

/* Networks go to the filter by the /24s they cover whole; the pieces of a /24 they cover only in
 * part are single addresses when small (≤ 32 addresses), else the whole /24 (a "maybe" the
 * reader settles). */
static void each_v4(void *arg, uint32_t lo, uint32_t hi)
{
    struct bctx *b = arg;
    uint64_t a = lo;

    while (a <= hi && b->ok) {
        uint64_t blk = a >> 8, bend = (blk << 8) | 0xff, e = bend < hi ? bend : hi;

        if (e - a + 1 == 256 || e - a + 1 > 32) {
            v4_push(b, (uint32_t)a, true);
        } else {
            for (uint64_t x = a; x <= e; x++)
                v4_push(b, (uint32_t)x, false);
        }
        a = e + 1;
    }
}

static void each_v6(void *arg, const uint8_t a[16], unsigned plen)
{
    struct bctx *b = arg;
    struct scan_sieve *sv = b->sv;

    if (plen == 128) {
        key_push(b, hv6(sv->seed_v6, a));
        v6_tail_set(sv, a);
        sv->v6_addr = true;
    } else if (plen >= 32) {
        key_push(b, hv6n(sv->seed_v6n, a, plen / 16));
        sv->v6_levels |= 1u << (plen / 16);
    } else if (plen >= 20) {
        /* the /32s it covers (a is masked to plen: its low bits of the /32 are zero) */
        uint8_t x[16];
        uint32_t top = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];

        memcpy(x, a, 16);
        for (uint32_t i = 0; i < (uint32_t)1 << (32 - plen) && b->ok; i++) {
            uint32_t t = top + i;

            x[0] = (uint8_t)(t >> 24);
            x[1] = (uint8_t)(t >> 16);
            x[2] = (uint8_t)(t >> 8);
            x[3] = (uint8_t)t;
            key_push(b, hv6n(sv->seed_v6n, x, 2));
        }
        sv->v6_levels |= 1u << 2;
    } else {
        sv->v6_any = true;
    }
}

struct scan_sieve *scan_sieve_build(const struct scan_index *ix, enum ctix_rc *rc)
{
    struct scan_sieve *sv = NULL;
    struct bctx b;
    uint64_t seed = scan_index__seed(ix);
    size_t words = 1024;

    memset(&b, 0, sizeof(b));
    *rc = CTIX_OK;
    if (!scan_index__sievable(ix))
        goto out;
    *rc = CTIX_ENOMEM;
    sv = calloc(1, sizeof(*sv));
    b.tmp = calloc(1, KEY_MAX + 16);
    if (sv == NULL || b.tmp == NULL)
        goto fail;
    sv->ix = ix;
    sv->classify = classify_pick();
    sv->pass = pass_pick();
    sv->count = count_pick();
    sv->lone512 = lone_pick();
    for (unsigned i = 0; i < 81; i++) {
        unsigned at = 0, l[4] = {i / 27 + 1, i / 9 % 3 + 1, i / 3 % 3 + 1, i % 3 + 1};

        memset(sv->quad_shuf[i], 0x80, 16);
        for (unsigned k = 0; k < 4; k++) {
            for (unsigned j = 0; j < l[k]; j++)
                sv->quad_shuf[i][4 * k + 3 - l[k] + j] = (uint8_t)(at + j);
            at += l[k] + 1;
        }
    }
    sv->seed_host = fold_mul(seed ^ 0x6a09e667f3bcc908u, 0x9e3779b97f4a7c15u);
    sv->seed_hash = fold_mul(seed ^ 0xbb67ae8584caa73bu, 0x9e3779b97f4a7c15u);
    sv->seed_v4 = fold_mul(seed ^ 0x3c6ef372fe94f82bu, 0x9e3779b97f4a7c15u);
    sv->seed_run = fold_mul(seed ^ 0xa54ff53a5f1d36f1u, 0x9e3779b97f4a7c15u);
    sv->tld = scan_index__tld_keys(ix);
    sv->v4map = ctix_calloc_big(((size_t)1 << 24) / 64, sizeof(uint64_t));
    if (sv->v4map == NULL)
        goto fail;
    sv->seed_v6 = fold_mul(seed ^ 0x510e527fade682d1u, 0x9e3779b97f4a7c15u);
    sv->seed_v6n = fold_mul(seed ^ 0x9b05688c2b3e6c1fu, 0x9e3779b97f4a7c15u);
    b.sv = sv;
    b.ok = true;
    scan_index__each_str(ix, each_str, &b);
    if (!b.odd) {
        scan_index__each_v4(ix, each_v4, &b);
        scan_index__each_v6(ix, each_v6, &b);
    }
    sv->v6 = sv->v6_addr || sv->v6_levels != 0 || sv->v6_any;
    sv->v6_tails = sv->v6_levels == 0 && !sv->v6_any;
    if (!b.ok)
        goto fail;
    if (b.odd) {
        *rc = CTIX_OK;
        goto fail;
    }
    sv->no10 = (sv->map16[0x0a00 / 64] | sv->map16[0x0a40 / 64] | sv->map16[0x0a80 / 64] |
                sv->map16[0x0ac0 / 64]) == 0;
    sv->no192 = !((sv->map16[0xc0a8 / 64] >> (0xc0a8 % 64)) & 1);
    /* a word for every two keys or fewer: a false "maybe" about one probe in 400, which the
     * fingerprints settle; half the memory of a word a key (8 MB with a million indicators),
     * more of it stays in the last-level cache (one core: -8 %, 8 interleaved pairs) */
    while (2 * words < b.n + b.n4 / 2)
        words *= 2;
    /* the fingerprints: at most half full */
    sv->fps = ctix_calloc_big(4 * words, sizeof(uint32_t));
    if (sv->fps == NULL)
        goto fail;
    sv->fmask = 4 * words - 1;
    sv->bloom = ctix_calloc_big(words, sizeof(uint64_t));
    if (sv->bloom == NULL)
        goto fail;
    sv->wmask = words - 1;
    for (size_t i = 0; i < b.n; i++) {
        sv->bloom[b.keys[i] & sv->wmask] |= bloom_need(b.keys[i]);
        fp_add(sv, b.keys[i]);
    }
    for (size_t i = 0; i < b.n4; i += 2) {
        uint64_t h24 = hv4_24(sv->seed_v4, b.v4[i]);

        uint64_t h = b.v4[i + 1] ? h24 : hv4(sv->seed_v4, b.v4[i]);

        sv->bloom[(h24 & sv->wmask & ~(uint64_t)7) + (h >> 61)] |= bloom_need(h);
        fp_add(sv, h);
    }
    sv->mem =
        sizeof(*sv) + words * (sizeof(uint64_t) + 4 * sizeof(uint32_t)) + ((size_t)1 << 24) / 8;
    *rc = CTIX_OK;
    goto out;
fail:
    scan_sieve_free(sv);
    sv = NULL;
out:
    free(b.keys);
    free(b.v4);
    free(b.tmp);
    return sv;
}

void scan_sieve_free(struct scan_sieve *sv)
{
    if (sv == NULL)
        return;
    free(sv->bloom);
    free(sv->fps);
    free(sv->v4map);
    free(sv);
}

size_t scan_sieve_mem(const struct scan_sieve *sv)
{
    return sv != NULL ? sv->mem : 0;
}

/* ---- the line pass ---- */

/* A batch is read as one region of the block: each 64-byte word of it classified once into bit
 * masks (lines are found from the newline mask, tokens from the others), at most REGION_WORDS
 * words — a batch ends early rather than at 64 lines when its lines are long. */
#define REGION_WORDS 1024
#define GROW_WORDS   16

/* Each mask is longer than the region by a cache line: masks of a power-of-two size would put
 * word w of all eight in one cache set and fill its ways, so that the walk's other reads (the
 * text, the filters' small tables) evict the masks it reads (cachegrind: 14 % fewer L1 misses in
 * the walk; too little to time on a shared machine). The extra line also holds the spare word
 * past the region that v6_cands() and v6_colons() read. */
#define MASK_WORDS (REGION_WORDS + 8)

struct masks {
    uint64_t h[MASK_WORDS];            /* host bytes [A-Za-z0-9._-] */
    uint64_t d[MASK_WORDS];            /* '.' */
    uint64_t n[MASK_WORDS];            /* digits */
    uint64_t c[MASK_WORDS];            /* ':' */
    uint64_t x[MASK_WORDS];            /* '%' or '\\' */
    uint64_t nl[MASK_WORDS];           /* '\n' */
    uint64_t v[MASK_WORDS];            /* IPv6 bytes: hex digits, ':', '.' */
    uint64_t wd[MASK_WORDS];           /* the dots the walk visits (lone_dots512()) */
    uint64_t c6[MASK_WORDS];           /* colons that may start an IPv6 address (v6_colons512()) */
    uint64_t c6w[MASK_WORDS / 64 + 1]; /* bit w: c6[w] has one */
    uint64_t t10[MASK_WORDS];          /* "10." begins here (classify_avx512(), when want10) */
    bool any_nul, any_high;            /* a NUL byte, a byte >= 0x80 among those classified */
    bool any_x;                        /* an escape among them */
    bool want10;                       /* t10 wanted: nothing listed in 10/8 */
    bool no_digit_tail;                /* the sieve's !digit_tail (lone_dots512()) */
};

/* The bytes at or past len (in the last word) do not count. */
#define KEEP(w, len)                                                                               \
    do {                                                                                           \
        if (((w) + 1) * 64 > (len)) {                                                              \
            uint64_t keep_ = (len) <= (w)*64 ? 0 : ~(uint64_t)0 >> (64 - ((len) - (w)*64));        \
            h &= keep_;                                                                            \
            d &= keep_;                                                                            \
            nn &= keep_;                                                                           \
            c &= keep_;                                                                            \
            x &= keep_;                                                                            \
            nl &= keep_;                                                                           \
            v6 &= keep_;                                                                           \
            zb &= keep_;                                                                           \
            hb &= keep_;                                                                           \
        }                                                                                          \
    } while (0)

#define STORE(w)                                                                                   \
    do {                                                                                           \
        m->h[w] = h;                                                                               \
        m->d[w] = d;                                                                               \
        m->n[w] = nn;                                                                              \
        m->c[w] = c;                                                                               \
        m->x[w] = x;                                                                               \
        m->nl[w] = nl;                                                                             \
        m->v[w] = v6;                                                                              \
        m->any_nul |= zb != 0;                                                                     \
        m->any_x |= x != 0;                                                                        \
        m->any_high |= hb != 0;                                                                    \
    } while (0)

#if defined(SIEVE_X86)
static void classify_sse2(const char *p, size_t w0, size_t w1, size_t len, struct masks *m)
{
    const __m128i k20 = _mm_set1_epi8(0x20), ka = _mm_set1_epi8('a' - 1),
                  kz = _mm_set1_epi8('z' + 1), k0 = _mm_set1_epi8('0' - 1),
                  k9 = _mm_set1_epi8('9' + 1), kdot = _mm_set1_epi8('.'),
                  kdash = _mm_set1_epi8('-'), kus = _mm_set1_epi8('_'), kcol = _mm_set1_epi8(':'),
                  kpct = _mm_set1_epi8('%'), kbs = _mm_set1_epi8('\\'), knl = _mm_set1_epi8('\n'),
                  kf = _mm_set1_epi8('f' + 1);

    for (size_t w = w0; w < w1; w++) {
        uint64_t h = 0, d = 0, nn = 0, c = 0, x = 0, nl = 0, v6 = 0, zb = 0, hb = 0;

        for (unsigned q = 0; q < 4; q++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + w * 64 + q * 16));

            hb |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << (q * 16);
            zb |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()))
                  << (q * 16);
            __m128i f = _mm_or_si128(v, k20);
            __m128i gea = _mm_cmpgt_epi8(f, ka);
            __m128i alpha = _mm_and_si128(gea, _mm_cmpgt_epi8(kz, f));
            __m128i hexl = _mm_and_si128(gea, _mm_cmpgt_epi8(kf, f));
            __m128i dig = _mm_and_si128(_mm_cmpgt_epi8(v, k0), _mm_cmpgt_epi8(k9, v));
            __m128i dot = _mm_cmpeq_epi8(v, kdot);
            __m128i sep = _mm_or_si128(_mm_cmpeq_epi8(v, kdash), _mm_cmpeq_epi8(v, kus));
            __m128i hbv = _mm_or_si128(_mm_or_si128(alpha, dig), _mm_or_si128(dot, sep));
            __m128i xb = _mm_or_si128(_mm_cmpeq_epi8(v, kpct), _mm_cmpeq_epi8(v, kbs));
            unsigned sh = q * 16;

            h |= (uint64_t)(unsigned)_mm_movemask_epi8(hbv) << sh;
            d |= (uint64_t)(unsigned)_mm_movemask_epi8(dot) << sh;
            nn |= (uint64_t)(unsigned)_mm_movemask_epi8(dig) << sh;
            c |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, kcol)) << sh;
            x |= (uint64_t)(unsigned)_mm_movemask_epi8(xb) << sh;
            nl |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, knl)) << sh;
            v6 |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(
                      _mm_or_si128(hexl, dig), _mm_or_si128(dot, _mm_cmpeq_epi8(v, kcol))))
                  << sh;
        }
        KEEP(w, len);
        STORE(w);
    }
}

__attribute__((target("avx2"))) static inline uint64_t mm64(__m256i lo, __m256i hi)
{
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) |
           (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

/* Byte classes from the two nibbles of each byte: class bit k is set when the low nibble is in
 * one set and the high nibble in another, so each class is a rectangle of the byte table and a
 * byte's classes are lo[low nibble] & hi[high nibble] (one shuffle each). Group one: digit,
 * '.', '-', '_', letters A-O a-o, letters P-Z p-z, ':', hex letters. Group two: '\n', (none),
 * '%', '\\', NUL, bytes from 0x80 (these have no class of group one: their high nibble's entries
 * there are 0). */
#define CLS_HOST 0x3f /* digit, '.', '-', '_', letters */
#define CLS_V6   0xc3 /* digit, '.', ':', hex letters */
#define CLS_ESC  0x0c
#define CLS_NUL  0x10
#define CLS_HIGH 0x20

static const uint8_t cls1_lo[16] = {0x21, 0xb1, 0xb1, 0xb1, 0xb1, 0xb1, 0xb1, 0x31,
                                    0x31, 0x31, 0x70, 0x10, 0x10, 0x14, 0x12, 0x18};
static const uint8_t cls1_hi[16] = {0x00, 0x00, 0x06, 0x41, 0x90, 0x28, 0x90, 0x20};
static const uint8_t cls2_lo[16] = {0x30, 0x20, 0x20, 0x20, 0x20, 0x24, 0x20, 0x20,
                                    0x20, 0x20, 0x21, 0x20, 0x28, 0x20, 0x20, 0x20};
static const uint8_t cls2_hi[16] = {0x11, 0,    0x04, 0,    0,    0x08, 0,    0,
                                    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20};

__attribute__((target("avx2"))) static inline __m256i table16(const uint8_t t[16])
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)t));
}

/* Bit i set when byte i of lo:hi has any of the classes k. */
__attribute__((target("avx2"))) static inline uint64_t cls_any(__m256i lo, __m256i hi, char k)
{
    const __m256i kv = _mm256_set1_epi8(k), zero = _mm256_setzero_si256();

    return ~mm64(_mm256_cmpeq_epi8(_mm256_and_si256(lo, kv), zero),
                 _mm256_cmpeq_epi8(_mm256_and_si256(hi, kv), zero));
}

/* The class vectors of word w: group one of its two halves (a0, a1), group two (b0, b1). */
__attribute__((target("avx2"))) static inline void cls_word(const char *p, size_t w, __m256i *a0,
                                                            __m256i *a1, __m256i *b0, __m256i *b1)
{
    const __m256i t1l = table16(cls1_lo), t1h = table16(cls1_hi), t2l = table16(cls2_lo),
                  t2h = table16(cls2_hi), k0f = _mm256_set1_epi8(0x0f);
    __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)(p + w * 64)),
            v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + w * 64 + 32));
    __m256i lo0 = _mm256_and_si256(v0, k0f), lo1 = _mm256_and_si256(v1, k0f),
            hi0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), k0f),
            hi1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), k0f);

    *a0 = _mm256_and_si256(_mm256_shuffle_epi8(t1l, lo0), _mm256_shuffle_epi8(t1h, hi0));
    *a1 = _mm256_and_si256(_mm256_shuffle_epi8(t1l, lo1), _mm256_shuffle_epi8(t1h, hi1));
    *b0 = _mm256_and_si256(_mm256_shuffle_epi8(t2l, lo0), _mm256_shuffle_epi8(t2h, hi0));
    *b1 = _mm256_and_si256(_mm256_shuffle_epi8(t2l, lo1), _mm256_shuffle_epi8(t2h, hi1));
}

/* Mask word w as two 32-bit halves, one store each (a shift and an or fewer than one 64-bit
 * store; read long after, by the region pass). */
static inline void store_halves(uint64_t *mw, uint32_t lo, uint32_t hi)
{
    memcpy((char *)mw, &lo, 4);
    memcpy((char *)mw + 4, &hi, 4);
}

__attribute__((target("avx2"))) static void classify_avx2(const char *p, size_t w0, size_t w1,
                                                          size_t len, struct masks *m)
{
    const __m256i zero = _mm256_setzero_si256();
    /* the rare classes of whole words (escapes, NUL, high bytes), gathered and looked at once at
     * the end: the escapes' masks are made only for a stretch that has one */
    __m256i acc = zero, a0, a1, b0, b1;
    size_t w = w0;

#define MM32(v) ((uint32_t)_mm256_movemask_epi8(v))
    /* whole words: no bound to keep, no rare class looked at one by one */
    for (; w < w1 && (w + 1) * 64 <= len; w++) {
        cls_word(p, w, &a0, &a1, &b0, &b1);
        /* one class: its bit shifted to the top of the byte; several: compared with zero */
        store_halves(&m->n[w], MM32(_mm256_slli_epi16(a0, 7)), MM32(_mm256_slli_epi16(a1, 7)));
        store_halves(&m->d[w], MM32(_mm256_slli_epi16(a0, 6)), MM32(_mm256_slli_epi16(a1, 6)));
        store_halves(&m->c[w], MM32(_mm256_slli_epi16(a0, 1)), MM32(_mm256_slli_epi16(a1, 1)));
        m->h[w] = cls_any(a0, a1, CLS_HOST);
        m->v[w] = cls_any(a0, a1, (char)CLS_V6);
        /* (the line finder reads these at once: whole words, no store to forward in halves) */
        m->nl[w] = mm64(_mm256_slli_epi16(b0, 7), _mm256_slli_epi16(b1, 7));
        m->x[w] = 0;
        acc = _mm256_or_si256(acc, _mm256_or_si256(b0, b1));
    }
#undef MM32
    if (w < w1) {
        /* the last word, partly past the end: its own masks */
        uint64_t h, d, nn, c, x, nl, v6, zb, hb;

        cls_word(p, w, &a0, &a1, &b0, &b1);
        nn = mm64(_mm256_slli_epi16(a0, 7), _mm256_slli_epi16(a1, 7));
        d = mm64(_mm256_slli_epi16(a0, 6), _mm256_slli_epi16(a1, 6));
        c = mm64(_mm256_slli_epi16(a0, 1), _mm256_slli_epi16(a1, 1));
        h = cls_any(a0, a1, CLS_HOST);
        v6 = cls_any(a0, a1, (char)CLS_V6);
        nl = mm64(_mm256_slli_epi16(b0, 7), _mm256_slli_epi16(b1, 7));
        zb = mm64(_mm256_slli_epi16(b0, 3), _mm256_slli_epi16(b1, 3));
        hb = mm64(_mm256_slli_epi16(b0, 2), _mm256_slli_epi16(b1, 2));
        x = cls_any(b0, b1, CLS_ESC);
        KEEP(w, len);
        STORE(w);
    }
    m->any_nul |= !_mm256_testz_si256(acc, _mm256_set1_epi8(CLS_NUL));
    m->any_high |= !_mm256_testz_si256(acc, _mm256_set1_epi8(CLS_HIGH));
    if (_mm256_testz_si256(acc, _mm256_set1_epi8(CLS_ESC)))
        return;
    m->any_x = true;
    for (w = w0; w < w1 && (w + 1) * 64 <= len; w++) {
        cls_word(p, w, &a0, &a1, &b0, &b1);
        m->x[w] = cls_any(b0, b1, CLS_ESC);
    }
}

/* With AVX-512 VBMI a byte's classes are one lookup in a table of all 128 ASCII bytes (vpermi2b
 * reads the low seven bits of each byte; bytes from 0x80 are kept out by a mask), and each mask
 * word is one instruction on the class bytes: a test into a mask register, or for the class in
 * the top bit (and one shifted there) a move of the bytes' top bits, which runs on another port
 * than the tests and the lookup. Escapes, rare, are only gathered, as in the AVX2 pass. Class
 * bits: */
#define C7_DIG  0x01
#define C7_DOT  0x02
#define C7_COL  0x04
#define C7_WORD 0x08 /* letters, '-', '_' */
#define C7_HEX  0x10 /* a-f, A-F */
#define C7_NUL  0x20
#define C7_ESC  0x40 /* '%', '\\' */
#define C7_NL   0x80

static const uint8_t cls7[128] __attribute__((aligned(64))) = {
    0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x02, 0x00,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x00, 0x40, 0x00, 0x00, 0x08,
    0x00, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* The bytes of word w before len, as a mask. */
static inline uint64_t word_keep(size_t len, size_t w)
{
    return (w + 1) * 64 <= len ? ~(uint64_t)0
           : len <= w * 64     ? 0
                               : ~(uint64_t)0 >> (64 - (len - w * 64));
}

/* The masks of word w from its bytes v and their classes cl. */
__attribute__((target("avx512f,avx512bw"))) static inline void
cls512_store(struct masks *m, size_t w, __m512i v, __m512i cl)
{
    m->h[w] = _mm512_test_epi8_mask(cl, _mm512_set1_epi8((char)(C7_DIG | C7_DOT | C7_WORD)));
    m->n[w] = _mm512_test_epi8_mask(cl, _mm512_set1_epi8(C7_DIG));
    m->c[w] = _mm512_test_epi8_mask(cl, _mm512_set1_epi8(C7_COL));
    m->v[w] =
        _mm512_test_epi8_mask(cl, _mm512_set1_epi8((char)(C7_DIG | C7_DOT | C7_COL | C7_HEX)));
    m->nl[w] = _mm512_movepi8_mask(cl);
    m->d[w] = _mm512_movepi8_mask(_mm512_slli_epi16(cl, 6)); /* C7_DOT to the top */
    m->x[w] = 0;
    if (m->want10) {
        /* (one that runs into the next word is not marked) */
        uint64_t one = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('1')),
                 zero = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('0'));

        m->t10[w] = one & zero >> 1 & m->d[w] >> 2;
    }
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
classify_avx512(const char *p, size_t w0, size_t w1, size_t len, struct masks *m)
{
    const __m512i t0 = _mm512_load_si512((const void *)cls7),
                  t1 = _mm512_load_si512((const void *)(cls7 + 64));
    __m512i acc = _mm512_setzero_si512(), /* the class bytes or'ed: NUL, escapes seen */
        bytes = _mm512_setzero_si512();   /* the bytes or'ed: one from 0x80 seen */
    uint64_t high = 0;
    size_t w, wf = len / 64 < w1 ? len / 64 : w1; /* words before wf are whole */

    /* whole words, looked up as if every byte were ASCII (vpermi2b reads seven bits) */
    for (w = w0; w < wf; w++) {
        __m512i v = _mm512_loadu_si512((const void *)(p + w * 64)),
                cl = _mm512_permutex2var_epi8(t0, v, t1);

        bytes = _mm512_or_si512(bytes, v);
        acc = _mm512_or_si512(acc, cl);
        cls512_store(m, w, v, cl);
    }
    if (w0 < wf && _mm512_movepi8_mask(bytes) != 0) {
        /* bytes from 0x80 (UTF-8, rare in most logs) have no class: the words again, with them
         * kept out of the lookup */
        acc = _mm512_setzero_si512();
        for (w = w0; w < wf; w++) {
            __m512i v = _mm512_loadu_si512((const void *)(p + w * 64)), cl;
            __mmask64 hb = _mm512_movepi8_mask(v);

            cl = _mm512_maskz_permutex2var_epi8(~hb, t0, v, t1);
            high |= hb;
            acc = _mm512_or_si512(acc, cl);
            cls512_store(m, w, v, cl);
        }
    }
    for (w = wf > w0 ? wf : w0; w < w1; w++) {
        __m512i v = _mm512_loadu_si512((const void *)(p + w * 64)), cl;
        /* the bytes at or past len (in the last word) do not count */
        __mmask64 keep = word_keep(len, w);
        __mmask64 hb = _mm512_movepi8_mask(v) & keep;

        cl = _mm512_maskz_permutex2var_epi8(keep & ~hb, t0, v, t1);
        high |= hb;
        acc = _mm512_or_si512(acc, cl);
        cls512_store(m, w, v, cl);
    }
    m->any_nul |= _mm512_test_epi8_mask(acc, _mm512_set1_epi8(C7_NUL)) != 0;
    m->any_high |= high != 0;
    if (_mm512_test_epi8_mask(acc, _mm512_set1_epi8(C7_ESC)) == 0)
        return;
    m->any_x = true;
    for (w = w0; w < w1; w++) {
        __m512i v = _mm512_loadu_si512((const void *)(p + w * 64));

        m->x[w] = (_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('%')) |
                   _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\'))) &
                  word_keep(len, w);
    }
}
#endif

static void classify_scalar(const char *p, size_t w0, size_t w1, size_t len, struct masks *m)
{
    for (size_t w = w0; w < w1; w++) {
        uint64_t h = 0, d = 0, nn = 0, c = 0, x = 0, nl = 0, v6 = 0, zb = 0, hb = 0;

        for (unsigned i = 0; i < 64; i++) {
            unsigned char v = (unsigned char)p[w * 64 + i], f = v | 0x20;

            zb |= v == 0 ? (uint64_t)1 << i : 0;
            hb |= v >= 0x80 ? (uint64_t)1 << i : 0;
            uint64_t bit = (uint64_t)1 << i;
            bool alpha = f >= 'a' && f <= 'z', dig = v >= '0' && v <= '9';

            h |= (alpha || dig || v == '.' || v == '-' || v == '_') ? bit : 0;
            d |= v == '.' ? bit : 0;
            nn |= dig ? bit : 0;
            c |= v == ':' ? bit : 0;
            x |= (v == '%' || v == '\\') ? bit : 0;
            nl |= v == '\n' ? bit : 0;
            v6 |= ((f >= 'a' && f <= 'f') || dig || v == '.' || v == ':') ? bit : 0;
        }
        KEEP(w, len);
        STORE(w);
    }
}

static classify_fn classify_pick(void)
{
    /* the portable pass, for tests that hold the vector passes to it */
    if (getenv("CTIX_SIEVE_SCALAR") != NULL)
        return classify_scalar;
#if defined(SIEVE_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi") &&
        getenv("CTIX_SIEVE_AVX2") == NULL)
        return classify_avx512;
    if (__builtin_cpu_supports("avx2"))
        return classify_avx2;
    return classify_sse2;
#else
    return classify_scalar;
#endif
}

/* Whether a bit of mask words in [s, e) (s < e) is set. */
static inline bool range_any(const uint64_t *w, size_t s, size_t e)
{
    size_t a = s / 64, z = (e - 1) / 64;
    uint64_t lo = ~(uint64_t)0 << (s % 64), hi = ~(uint64_t)0 >> (63 - (e - 1) % 64);

    if (a == z)
        return (w[a] & lo & hi) != 0;
    if (w[a] & lo)
        return true;
    for (size_t i = a + 1; i < z; i++) {
        if (w[i])
            return true;
    }
    return (w[z] & hi) != 0;
}

/* Set bits of mask words in [s, e) (s < e). */
static inline __attribute__((always_inline)) size_t range_pop(const uint64_t *w, size_t s, size_t e)
{
    size_t k = 0;

    for (size_t i = s / 64; i <= (e - 1) / 64; i++) {
        uint64_t x = w[i];

        if (i == s / 64)
            x &= ~(uint64_t)0 << (s % 64);
        if (i == (e - 1) / 64)
            x &= ~(uint64_t)0 >> (63 - (e - 1) % 64);
        k += (size_t)__builtin_popcountll(x);
    }
    return k;
}

/* The first position in [pos, lim) whose bit is (set ? 1 : 0), or lim. */
static inline size_t next_bit(const uint64_t *w, size_t pos, bool set, size_t lim)
{
    size_t i = pos / 64, last;
    uint64_t x;

    if (pos >= lim)
        return lim;
    last = (lim - 1) / 64;
    x = (set ? w[i] : ~w[i]) & (~(uint64_t)0 << (pos % 64));
    while (x == 0) {
        if (++i > last)
            return lim;
        x = set ? w[i] : ~w[i];
    }
    pos = i * 64 + (size_t)__builtin_ctzll(x);
    return pos < lim ? pos : lim;
}

/* Where the run of set bits holding pos starts (not before lo). */
static inline size_t run_start(const uint64_t *w, size_t pos, size_t lo)
{
    size_t i = pos / 64;
    uint64_t x = ~w[i] & ((~(uint64_t)0) >> (63 - pos % 64));

    while (x == 0) {
        if (i == lo / 64)
            return lo;
        x = ~w[--i];
    }
    pos = i * 64 + 64 - (size_t)__builtin_clzll(x);
    return pos > lo ? pos : lo;
}

/* Something the sieve does not decode: a backslash (JSON and Zeek escapes), or a %XX the URL
 * normaliser would decode into a host byte. */
static bool undecoded(const char *p, size_t n)
{
    if (memchr(p, '\\', n) != NULL)
        return true;
    for (const char *q = memchr(p, '%', n); q != NULL;
         q = memchr(q + 1, '%', (size_t)(p + n - q - 1))) {
        size_t i = (size_t)(q - p);
        int hi = i + 2 < n ? ctix_hexval(p[i + 1]) : -1, lo = hi >= 0 ? ctix_hexval(p[i + 2]) : -1;

        if (lo >= 0 && host_byte((char)(hi * 16 + lo)))
            return true;
        if (i + 1 >= n)
            break;
    }
    return false;
}

/* ---- probes: computed and prefetched for a whole batch, then answered ---- */

enum { PR_BLOOM, PR_V4, PR_HIT = 0x100, PR_THEN = 0x200 };

struct sprobe {
    uint64_t h; /* PR_BLOOM: the hash; PR_V4: the address */
    uint32_t line;
    uint32_t kind;
};

#define PROBES_MAX 4096

/* A run looked at, and the probes it pushed: when none of them hits, the run is known clean. */
struct trun {
    uint64_t fp;
    uint32_t first, n;
};

/* Runs of host bytes repeat in logs (a proxy's hosts, its clients, a resolver's answers): a
 * per-worker memory of runs known to hold nothing listed spares their hashing and lookups.
 * Entries are 64-bit hashes of a run's exact bytes under the index's secret seed. 65,536 of them
 * (512 KB, a quarter of a Sapphire Rapids core's L2, all of a Zen 3 core's): on the benchmark's
 * log (a pool of 32,768 hosts) 98 % of the runs looked for are known, against 96 % with half as
 * many (2 % less time on the Xeon; on the Zen 3 the two were alike) and 90 % with a quarter. */
#define RUNCACHE (1u << 16)

/* A host name the memory of clean runs does not know, waiting to be hashed and probed
 * (tok_host). */
struct pend {
    uint64_t fp, dm, h; /* the run's memory key; its dots (bit i: p[s + i]); its last label's
                         * hash */
    uint32_t s;
    uint8_t len, line;
};

struct scan_sieve_batch_int {
    struct masks m;
    struct sprobe pr[PROBES_MAX];
    struct trun runs[PROBES_MAX];
    struct pend pend[PROBES_MAX];
    uint64_t cache[RUNCACHE];
    uintptr_t ahead; /* the text prefetched up to here (text_ahead()) */
};

struct lctx {
    const struct scan_sieve *sv;
    const struct masks *m;
    const uint64_t *wd; /* the dots the dotted walk visits: m->wd or m->d */
    bool c6;            /* m->c6 holds the IPv6 candidates (else v6_cands() per word) */
    struct sprobe *pr;
    size_t np;
    struct trun *runs;
    size_t nruns;
    uint64_t *cache;
    struct pend *pend; /* host names waiting to be probed */
    size_t npend;
    const char *p;              /* the region: positions are offsets from it */
    uintptr_t ahead, ahead_end; /* later text the walk asks for: line w at ahead + 64 w */
    uint32_t line;
    bool bare, tld; /* the sieve's */
    bool maybe;     /* decided without the filter */
};

static inline void push(struct lctx *c, uint32_t kind, uint64_t h)
{
    const struct scan_sieve *sv = c->sv;

    if (kind == PR_V4 && !((sv->map16[h >> 22] >> ((h >> 16) % 64)) & 1))
        return; /* nothing listed in its /16 */
    if (c->np >= PROBES_MAX) {
        c->maybe = true; /* no room: let the line through */
        return;
    }
    c->pr[c->np].h = h;
    c->pr[c->np].line = c->line;
    c->pr[c->np].kind = kind;
    c->np++;
    /* an address: its /24's bit */
    __builtin_prefetch(kind == PR_V4 ? &sv->v4map[h >> 14] : &sv->bloom[h & sv->wmask]);
}

static void push_bloom(void *arg, uint64_t h)
{
    push(arg, PR_BLOOM, h);
}

/* Digits and exactly three dots (dots[0..3) their offsets in p[0..n)): the dotted quad's value,
 * each part 1-3 digits and at most 255 (leading zeros are not refused: a superset of
 * scan_ipv4_parse). Branch-free per part: a part's length is as often 1 as 3. */
static inline __attribute__((always_inline)) uint32_t quad_part(const char *p, size_t n, bool *ok)
{
    uint32_t b0 = (uint32_t)(unsigned char)p[0] - '0', b1 = (uint32_t)(unsigned char)p[1] - '0',
             b2 = (uint32_t)(unsigned char)p[2] - '0';
    uint32_t v = n == 1 ? b0 : n == 2 ? b0 * 10 + b1 : b0 * 100 + b1 * 10 + b2;

    *ok &= (n - 1 <= 2) & (v <= 255);
    return v;
}

static inline __attribute__((always_inline)) bool quad_value(const char *p, size_t n,
                                                             const uint32_t *dots, uint32_t *out)
{
    bool ok = true;
    uint32_t a = quad_part(p, dots[0], &ok),
             b = quad_part(p + dots[0] + 1, dots[1] - dots[0] - 1, &ok),
             c = quad_part(p + dots[1] + 1, dots[2] - dots[1] - 1, &ok),
             d = quad_part(p + dots[2] + 1, n - dots[2] - 1, &ok);

    *out = a << 24 | b << 16 | c << 8 | d;
    return ok;
}

/* Dotted quads among the digit-and-dot runs of p[s..e) (a run a reader could take as one). */
static void quads(struct lctx *c, size_t s, size_t e)
{
    const char *p = c->p;
    size_t i = s;

    while (i < e) {
        size_t a, z, nd = 0;
        uint32_t dots[4], v;

        while (i < e && !(p[i] >= '0' && p[i] <= '9'))
            i++;
        a = i;
        while (i < e && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.')) {
            if (p[i] == '.' && nd < 4)
                dots[nd] = (uint32_t)(i - a);
            nd += p[i] == '.';
            i++;
        }
        z = i;
        while (z > a && p[z - 1] == '.') {
            z--;
            nd--;
        }
        if (nd == 3 && z - a >= 7 && z - a <= 15 && quad_value(p + a, z - a, dots, &v))
            push(c, PR_V4, v);
    }
}

/* Alphanumeric runs of exactly 32, 40 or 64 hex digits in p[s..e) (split at '.', '-', '_'). */
static void hashes(struct lctx *c, size_t s, size_t e)
{
    const char *p = c->p;
    size_t i = s;

    /* one piece of hex digits (a hash field): its length says, no byte looked at */
    if (range_pop(c->m->v, s, e) == e - s && !range_any(c->m->d, s, e)) {
        if (e - s == 32 || e - s == 40 || e - s == 64)
            push(c, PR_BLOOM, hpiece(c->sv->seed_hash, p + s, e - s));
        return;
    }

    while (i < e) {
        size_t a;
        bool hex = true;

        while (i < e && (p[i] == '.' || p[i] == '-' || p[i] == '_'))
            i++;
        a = i;
        while (i < e && p[i] != '.' && p[i] != '-' && p[i] != '_') {
            unsigned char u = (unsigned char)p[i];

            hex &= (unsigned)(u - '0') < 10 || (unsigned)((u | 0x20) - 'a') < 6;
            i++;
        }
        if (hex && (i - a == 32 || i - a == 40 || i - a == 64))
            push(c, PR_BLOOM, hpiece(c->sv->seed_hash, p + a, i - a));
    }
}

/* A run's exact bytes (no case folding), 16 a step; reads up to 15 bytes past p + n. Never 0. */
static inline uint64_t run_fp(uint64_t seed, const char *p, size_t n)
{
    uint64_t h = seed ^ ((uint64_t)n << 48), a, b;
    size_t i = 0;

    if (n - 1 < 16) {
        /* most hosts and addresses (1 to 16 bytes): one multiply, not two in a row (6 % of the
         * sieve's time), and the bytes past the run cut with no branch on its length, which a
         * log's hosts vary at random (5 %) */
        unsigned __int128 keep = ~(unsigned __int128)0 >> (128 - 8 * n);

        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        a &= (uint64_t)keep;
        b &= (uint64_t)(keep >> 64);
        return fold_mul(a ^ K3 ^ seed, b ^ K1 ^ h) | 1;
    }

    for (; i + 16 <= n; i += 16) {
        memcpy(&a, p + i, 8);
        memcpy(&b, p + i + 8, 8);
        h ^= fold_mul(a ^ K1 ^ seed, b ^ K2 ^ i);
    }
    if (i < n) {
        size_t r = n - i;

        memcpy(&a, p + i, 8);
        memcpy(&b, p + i + 8, 8);
        if (r <= 8) {
            a &= ~(uint64_t)0 >> (64 - 8 * r);
            b = 0;
        } else if (r < 16) {
            b &= ~(uint64_t)0 >> (64 - 8 * (r - 8));
        }
        h ^= fold_mul(a ^ K3 ^ seed, b ^ K1 ^ i);
    }
    return fold_mul(h, K2) | 1;
}

/* Whether the memory of clean runs knows a run, and remembering a run whose probes (np0 on)
 * may all miss (runs_remember decides when they are answered). */
static inline __attribute__((always_inline)) bool run_known(struct lctx *c, uint64_t fp)
{
    const uint64_t *slot = &c->cache[fp & (RUNCACHE - 2)];
    uint64_t a = slot[0] ^ fp, b = slot[1] ^ fp;

    /* one condition for both ways: which way holds a run is as good as random, and a branch on
     * each mispredicted often enough to cost 10 % of the sieve's time (the smaller of the two
     * differences is zero when either way holds it) */
    return (a < b ? a : b) == 0;
}

static inline __attribute__((always_inline)) void run_note(struct lctx *c, uint64_t fp, size_t np0)
{
    if (c->maybe || c->np == np0 || c->nruns >= PROBES_MAX)
        return;
    c->runs[c->nruns].fp = fp;
    c->runs[c->nruns].first = (uint32_t)np0;
    c->runs[c->nruns].n = (uint32_t)(c->np - np0);
    c->nruns++;
}

/* Remembers a run as clean: two ways, the newest first. */
static inline __attribute__((always_inline)) void run_clean(uint64_t *cache, uint64_t fp)
{
    uint64_t *slot = &cache[fp & (RUNCACHE - 2)];

    slot[1] = slot[0];
    slot[0] = fp;
}

/* A run of host bytes p[s..e) holding a dot (or any run, for one-label hosts): a dotted quad, a
 * host name and its parents, hashes. A run seen before and found clean is skipped. */
static void token(struct lctx *c, size_t s, size_t e)
{
    const char *p = c->p;
    const struct masks *m = c->m;
    size_t len, k = 0, s0 = s, e0 = e, np0 = c->np;
    uint64_t other = 0, fp;
    uint32_t dots[HOST_DOTS_MAX];

    if (s0 / 64 == (e0 - 1) / 64 && e0 - s0 < 32) {
        /* digits with one dot (a time, a number): nothing to look up, decided from the masks */
        size_t w = s0 / 64;
        uint64_t r = (~(uint64_t)0 << (s0 % 64)) & (~(uint64_t)0 >> (63 - (e0 - 1) % 64));
        uint64_t dm = m->d[w] & r;

        if ((m->h[w] & ~(m->d[w] | m->n[w]) & r) == 0 && (dm & (dm - 1)) == 0)
            return;
    }
    /* seen before and found clean: nothing more (the memory is keyed by the run's exact bytes,
     * so this comes first) */
    fp = run_fp(c->sv->seed_run, p + s0, e0 - s0);
    if (run_known(c, fp))
        return;
    while (s < e && (p[s] == '.' || p[s] == '-'))
        s++;
    while (e > s && p[e - 1] == '.')
        e--;
    len = e - s;
    if (len == 0 && e0 - s0 < 32)
        return;
    if (len > 0 && s / 64 == (e - 1) / 64) {
        /* most runs lie in one word */
        size_t w = s / 64;
        uint64_t r = (~(uint64_t)0 << (s % 64)) & (~(uint64_t)0 >> (63 - (e - 1) % 64)), x;

        other = m->h[w] & ~(m->d[w] | m->n[w]) & r;
        for (x = m->d[w] & r; x != 0; x &= x - 1)
            dots[k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(x) - s);
    } else if (len > 0) {
        for (size_t w = s / 64; w <= (e - 1) / 64; w++) {
            uint64_t r = ~(uint64_t)0, x;

            if (w == s / 64)
                r &= ~(uint64_t)0 << (s % 64);
            if (w == (e - 1) / 64)
                r &= ~(uint64_t)0 >> (63 - (e - 1) % 64);
            /* a byte other than digits and dots: a letter, '-' or '_' */
            other |= m->h[w] & ~(m->d[w] | m->n[w]) & r;
            for (x = m->d[w] & r; x != 0; x &= x - 1) {
                if (k == HOST_DOTS_MAX) {
                    c->maybe = true;
                    return;
                }
                dots[k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(x) - s);
            }
        }
    }
    /* digits and dots but no dotted quad (a time, a version) and too short for a hash: nothing
     * to look up, and nothing worth remembering (it would push others out of the memory) */
    if (other == 0 && k != 3 && e0 - s0 < 32)
        return;
    if (e0 - s0 >= 32)
        hashes(c, s0, e0);
    if (other == 0) {
        uint32_t v;

        if (k == 3 && quad_value(p + s, len, dots, &v))
            push(c, PR_V4, v);
    } else if (len >= (c->bare ? 1u : 3u) && (k > 0 || c->bare)) {
        if (k >= 3)
            quads(c, s, e); /* "ip-10.1.2.3", "10.1.2.3.nip.io" */
        /* the host itself, and each parent of two labels or more (the last label alone when
         * one-label keys exist, or when the run is one label and one-label hosts are keys) */
        uint64_t h = host_tail(c->sv->seed_host, p + s, len, dots, k);

        if (c->tld || k == 0)
            push_bloom(c, k == 0 ? h : h ^ PARENT);
        (void)hosts_parents(h, p + s, dots, k, push_bloom, c);
    }
    run_note(c, fp, np0);
}

/* The run of IPv6 bytes around the candidate colon at i, within [lo, hi): [*a, *z). False when
 * it cannot be an address: fewer than two colons, or dots that are not a final dotted quad (a
 * time, "12:00:00.006"). */
static inline __attribute__((always_inline)) bool v6_cand(const struct lctx *c, size_t i, size_t lo,
                                                          size_t hi, size_t *a, size_t *z)
{
    const struct masks *m = c->m;
    size_t nd, w = i / 64;
    unsigned b = (unsigned)(i % 64);
    uint64_t vw = m->v[w], lo_ = ~vw & (((uint64_t)2 << b) - 1), hi_ = ~vw & (~(uint64_t)0 << b);

    if (lo_ != 0 && hi_ != 0 && w * 64 >= lo && (w + 1) * 64 <= hi) {
        /* most runs lie in one word: bounds and counts from its masks */
        unsigned sb = 64 - (unsigned)__builtin_clzll(lo_), eb = (unsigned)__builtin_ctzll(hi_);
        uint64_t r = (~(uint64_t)0 << sb) & (~(uint64_t)0 >> (64 - eb));

        *a = w * 64 + sb;
        *z = w * 64 + eb;
        if (__builtin_popcountll(m->c[w] & r) < 2)
            return false;
        nd = (size_t)__builtin_popcountll(m->d[w] & r);
    } else {
        *a = run_start(m->v, i, lo);
        *z = next_bit(m->v, i, false, hi);
        if (range_pop(m->c, *a, *z) < 2)
            return false;
        nd = range_pop(m->d, *a, *z);
    }
    while (*z > *a && c->p[*z - 1] == '.') {
        (*z)--;
        nd--;
    }
    return nd == 0 || nd == 3;
}

/* The address p[a..z) (or p[a..z-1): a port's colon after it), looked up: true when the index
 * lists it (networks too wide for the filter), else its probes are pushed for line c->line. */
static bool v6_probe(struct lctx *c, size_t a, size_t z)
{
    const struct scan_sieve *sv = c->sv;
    const char *p = c->p;
    uint8_t a6[16];
    uint32_t t;

    if (sv->v6_tails && v6_tail_of(p, a, z, &t)) {
        size_t k = v6_tail_at(t);

        if (!((sv->v6_tail[k / 64] >> (k % 64)) & 1))
            return false; /* no listed address ends so */
    }
    if (!scan_ipv6_parse(p + a, z - a, a6)) {
        if (z - a < 3 || p[z - 1] != ':' || p[z - 2] == ':' ||
            !scan_ipv6_parse(p + a, z - a - 1, a6))
            return false;
    }
    if (sv->v6_any && scan_index__v6_listed(sv->ix, a6))
        return true;
    /* (the filter holds URL keys' IPv6 hosts too) */
    if (sv->v6_addr)
        push(c, PR_BLOOM, hv6(sv->seed_v6, a6));
    for (unsigned lv = sv->v6_levels; lv != 0; lv &= lv - 1)
        push(c, PR_BLOOM, hv6n(sv->seed_v6n, a6, (unsigned)__builtin_ctz(lv)));
    return false;
}

/* The IPv6 candidate colons of mask word w: only a colon between two IPv6 bytes, or next to
 * another colon, can be inside an address (a JSON line's "key":"value" colons are neither). Word
 * w + 1 is read as it is (the spare word past the region, or one not classified for this batch:
 * a candidate too many is looked at and let go). */
static inline __attribute__((always_inline)) uint64_t v6_cands(const struct masks *m, size_t w)
{
    uint64_t c = m->c[w], v = m->v[w], pv = w > 0 ? m->v[w - 1] : 0, pc = w > 0 ? m->c[w - 1] : 0;
    uint64_t vp = v << 1 | pv >> 63, vn = v >> 1 | m->v[w + 1] << 63;
    uint64_t cp = c << 1 | pc >> 63, cn = c >> 1 | m->c[w + 1] << 63;

    return c & ((vp & vn) | cp | cn);
}

/* Bit i: mask word w0 + i (i < 64, before nw) holds an aligned group of 16 hex digits (v & h &
 * ~d), where a hash of 32 bytes or more must: a 16-bit lane of their complement that is zero (the
 * borrow test for a zero lane; its lanes may be off, not its answer). Few words have one: the
 * words are tested together, and only those are walked. */
static inline uint64_t hex_words(const struct masks *m, size_t w0, size_t nw)
{
    uint64_t f = 0;

    for (size_t i = 0; i < 64 && w0 + i < nw; i++) {
        uint64_t nx = ~(m->v[w0 + i] & m->h[w0 + i] & ~m->d[w0 + i]);

        f |= (uint64_t)(((nx - 0x0001000100010001u) & ~nx & 0x8000800080008000u) != 0) << i;
    }
    return f;
}

#if defined(SIEVE_X86)
/* hex_words(), four words a step (it reads up to three words past nw: the masks' spare line). */
__attribute__((target("avx2"))) static inline uint64_t hex_words_avx2(const struct masks *m,
                                                                      size_t w0, size_t nw)
{
    const __m256i k1 = _mm256_set1_epi64x(0x0001000100010001),
                  k8 = _mm256_set1_epi64x((long long)0x8000800080008000u),
                  ones = _mm256_set1_epi64x(-1), zero = _mm256_setzero_si256();
    size_t n = nw - w0 < 64 ? nw - w0 : 64;
    uint64_t f = 0;

    for (size_t i = 0; i < n; i += 4) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(m->v + w0 + i)),
                h = _mm256_loadu_si256((const __m256i *)(const void *)(m->h + w0 + i)),
                d = _mm256_loadu_si256((const __m256i *)(const void *)(m->d + w0 + i));
        __m256i nx = _mm256_xor_si256(_mm256_andnot_si256(d, _mm256_and_si256(v, h)), ones);
        __m256i t = _mm256_and_si256(_mm256_andnot_si256(nx, _mm256_sub_epi64(nx, k1)), k8);
        unsigned z = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(t, zero)));

        f |= (uint64_t)(~z & 0xf) << i;
    }
    return n < 64 ? f & (((uint64_t)1 << n) - 1) : f;
}

/* Each 64-bit lane's bits in reverse order (bytes' bits by an affine map, then the bytes). */
__attribute__((target("avx512f,avx512bw,gfni"))) static inline __m512i rev64(__m512i x)
{
    const __m512i bytes = _mm512_set_epi64(
        0x08090a0b0c0d0e0f, 0x0001020304050607, 0x08090a0b0c0d0e0f, 0x0001020304050607,
        0x08090a0b0c0d0e0f, 0x0001020304050607, 0x08090a0b0c0d0e0f, 0x0001020304050607);

    return _mm512_shuffle_epi8(
        _mm512_gf2p8affine_epi64_epi8(x, _mm512_set1_epi64((long long)0x8040201008040201u), 0),
        bytes);
}

/* The first byte of each run of host bytes h that starts in the lane: a run at bit 0 may have
 * begun in the word before, so it has no start here. */
__attribute__((target("avx512f"))) static inline __m512i lane_starts(__m512i h)
{
    return _mm512_and_si512(_mm512_andnot_si512(_mm512_slli_epi64(h, 1), h),
                            _mm512_set1_epi64(~(long long)1));
}

/* The dots of each lane whose run of host bytes begins with digits that lead to them: a run's
 * first byte is a digit, and so is each byte up to the dot. A run starting at bit 0 may have
 * begun in the word before, so it has no start here. */
__attribute__((target("avx512f,avx512bw"))) static inline __m512i
digits_to_dot(__m512i h, __m512i n, __m512i d)
{
    __m512i ns = _mm512_andnot_si512(_mm512_slli_epi64(n, 1), n);
    /* a carry from each such start runs through its digits and stops on the byte after them */
    __m512i gs = _mm512_and_si512(lane_starts(h), ns);

    return _mm512_and_si512(_mm512_andnot_si512(n, _mm512_add_epi64(n, gs)), d);
}

/* The first dot of each run of host bytes that starts in the lane (not at bit 0). */
__attribute__((target("avx512f,avx512bw"))) static inline __m512i first_dot(__m512i h, __m512i d)
{
    __m512i x = _mm512_andnot_si512(d, h), hs = lane_starts(h);

    return _mm512_and_si512(
        _mm512_or_si512(hs, _mm512_andnot_si512(x, _mm512_add_epi64(x, _mm512_and_si512(hs, x)))),
        d);
}

/* The dots of the runs that lie inside each lane (bytes before and after them in it) and that
 * the walk would let go, one by one, after finding their bounds: digits, one dot and digits — a
 * time, a duration, a TTL (three or four in a Zeek DNS line, the first field of a squid line).
 * Both sides are found by carries: the digits from the run's start up to the dot in the lane as
 * it is, those from the dot to the run's end in the lane reversed. None in a lane that holds an
 * aligned group of 16 hex digits (where a hash of 32 digits or more, which such a run may hold,
 * must). */
__attribute__((target("avx512f,avx512bw,gfni"))) static inline __m512i
lone_lanes(const struct masks *m, __m512i h, __m512i n, __m512i d, __m512i v, __m512i t10)
{
    const __m512i k1 = _mm512_set1_epi64(0x0001000100010001),
                  k8 = _mm512_set1_epi64((long long)0x8000800080008000u);
    __m512i lone = _mm512_and_si512(digits_to_dot(h, n, d),
                                    rev64(digits_to_dot(rev64(h), rev64(n), rev64(d))));

    if (m->no_digit_tail) {
        /* runs with one dot and a digit after it ("58.385Z") when no key's last label begins
         * with one: the first dot from the start and the first from the end (a carry through
         * the other host bytes from each end) are the same */
        __m512i rh = rev64(h), rd = rev64(d);

        lone = _mm512_or_si512(
            lone, _mm512_and_si512(_mm512_and_si512(first_dot(h, d), rev64(first_dot(rh, rd))),
                                   _mm512_srli_epi64(n, 1)));
    }
    if (m->want10) {
        /* runs of digits and dots that begin "10." (nothing listed in 10/8): a carry from each
         * start through its digits and dots stops on the byte after them, which must be no host
         * byte; then, in the lanes reversed, a carry from that end back through the run marks
         * its bytes */
        __m512i nd = _mm512_or_si512(n, d), st = _mm512_and_si512(t10, lane_starts(h));
        __m512i end = _mm512_andnot_si512(h, _mm512_andnot_si512(nd, _mm512_add_epi64(nd, st)));
        __m512i rnd = rev64(nd), rs = _mm512_and_si512(_mm512_slli_epi64(rev64(end), 1), rnd);
        __m512i run =
            rev64(_mm512_and_si512(_mm512_xor_si512(_mm512_add_epi64(rnd, rs), rnd), rnd));

        lone = _mm512_or_si512(lone, _mm512_and_si512(run, d));
    }
    /* nx: not a hex digit; a zero 16-bit lane of it is a group of 16 */
    __m512i nx = _mm512_ternarylogic_epi64(v, h, d, 0xbf);
    __mmask8 hex = _mm512_test_epi64_mask(
        _mm512_and_si512(_mm512_andnot_si512(nx, _mm512_sub_epi64(nx, k1)), k8),
        _mm512_set1_epi64(-1));

    return _mm512_maskz_mov_epi64((__mmask8)~hex, lone);
}

/* The dots the dotted walk visits (wd), for words [0, nw) (it reads one word past each and
 * writes up to seven past nw: the masks' spare line): each dot less those lone_lanes() finds in
 * the words, and in the lanes made of each word's upper half and the next word's lower half,
 * which hold every run of up to 32 bytes that crosses a word's edge (a fifth of a Zeek line's
 * times and TTLs: 0.94-0.95 of the sieve's time against the words alone). A run of the batch's
 * last word ends at its last line's end ('\n' is no host byte; at the end of the input the
 * bytes past it are kept out of the masks), except when the input ends on a word's edge: then
 * the word after was never classified, and a run ending there is judged with whatever it holds.
 * That can drop only a run whose own bytes are nothing a key can be (digits and a dot at its
 * end, a one-label name and a dot) or begin "10." (nothing listed there). */
__attribute__((target("avx512f,avx512bw,avx512vbmi2,gfni"))) static void
lone_dots512(struct masks *m, size_t nw)
{
    __m512i prev = _mm512_setzero_si512(); /* the halves' lanes of the block before */

    for (size_t w = 0; w < nw; w += 8) {
        __m512i h = _mm512_loadu_si512((const void *)(m->h + w)),
                n = _mm512_loadu_si512((const void *)(m->n + w)),
                d = _mm512_loadu_si512((const void *)(m->d + w)),
                v = _mm512_loadu_si512((const void *)(m->v + w)),
                t = _mm512_loadu_si512((const void *)(m->t10 + w));
        __m512i h1 = _mm512_loadu_si512((const void *)(m->h + w + 1)),
                n1 = _mm512_loadu_si512((const void *)(m->n + w + 1)),
                d1 = _mm512_loadu_si512((const void *)(m->d + w + 1)),
                v1 = _mm512_loadu_si512((const void *)(m->v + w + 1)),
                t1 = _mm512_loadu_si512((const void *)(m->t10 + w + 1));
        __m512i half = lone_lanes(m, _mm512_shrdi_epi64(h, h1, 32), _mm512_shrdi_epi64(n, n1, 32),
                                  _mm512_shrdi_epi64(d, d1, 32), _mm512_shrdi_epi64(v, v1, 32),
                                  _mm512_shrdi_epi64(t, t1, 32));
        /* word w's bits 32-63 from the low half of its halves' lane, bits 0-31 from the high
         * half of the lane before */
        __m512i lone =
            _mm512_or_si512(lone_lanes(m, h, n, d, v, t),
                            _mm512_shrdi_epi64(_mm512_alignr_epi64(half, prev, 7), half, 32));

        _mm512_storeu_si512((void *)(m->wd + w), _mm512_andnot_si512(lone, d));
        prev = half;
    }
}

/* Bits i..i+5 of each lane's x or'ed down to bit i, from within the lane. */
__attribute__((target("avx512f"))) static inline __m512i within5(__m512i x)
{
    return _mm512_or_si512(
        _mm512_or_si512(_mm512_or_si512(_mm512_srli_epi64(x, 1), _mm512_srli_epi64(x, 2)),
                        _mm512_or_si512(_mm512_srli_epi64(x, 3), _mm512_srli_epi64(x, 4))),
        _mm512_srli_epi64(x, 5));
}

/* The IPv6 candidate colons of words [0, nw), eight words at a time (it reads the word past each
 * and writes up to seven past nw: the masks' spare line): v6_cands() (a colon between two IPv6
 * bytes or next to another colon), less the colons v6_colons() surely refuses — those without a
 * second colon right after them and without a colon within five bytes that has another within
 * five bytes of it (a colon in the last ten bits of a word is kept: the next word is not looked
 * at for that). A JSON line's colons ("key":value, a time of day's) are all let go here, so the
 * IPv6 pass looks only at the words of m->c6w. */
__attribute__((target("avx512f,avx512bw,avx512vbmi2"))) static void v6_colons512(struct masks *m,
                                                                                 size_t nw)
{
    const __m512i far = _mm512_set1_epi64((long long)0xffc0000000000000u);
    __m512i cprev = _mm512_setzero_si512(), vprev = _mm512_setzero_si512();

    memset(m->c6w, 0, (nw + 63) / 64 * sizeof(uint64_t));
    for (size_t w = 0; w < nw; w += 8) {
        __m512i c = _mm512_loadu_si512((const void *)(m->c + w)),
                v = _mm512_loadu_si512((const void *)(m->v + w)),
                cn_ = _mm512_loadu_si512((const void *)(m->c + w + 1)),
                vn_ = _mm512_loadu_si512((const void *)(m->v + w + 1));
        /* each lane's neighbours: the word before (the last lane of the block before) and the
         * word after */
        __m512i cl = _mm512_alignr_epi64(c, cprev, 7), vl = _mm512_alignr_epi64(v, vprev, 7);
        __m512i vp = _mm512_shldi_epi64(v, vl, 1), vn = _mm512_shrdi_epi64(v, vn_, 1),
                cp = _mm512_shldi_epi64(c, cl, 1), cn = _mm512_shrdi_epi64(c, cn_, 1);
        __m512i two = within5(_mm512_and_si512(c, within5(c)));
        __m512i cand = _mm512_and_si512(
            _mm512_and_si512(c, _mm512_or_si512(_mm512_and_si512(vp, vn), _mm512_or_si512(cp, cn))),
            _mm512_or_si512(_mm512_or_si512(cn, two), far));
        __mmask8 any = _mm512_test_epi64_mask(cand, cand);

        _mm512_storeu_si512((void *)(m->c6 + w), cand);
        m->c6w[w / 64] |= (uint64_t)any << (w % 64);
        cprev = c;
        vprev = v;
    }
}
#endif

#if defined(SIEVE_X86)
/* Whether the CPU runs lone_dots512() and v6_colons512(). */
static bool cpu_avx512_steps(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("gfni") && __builtin_cpu_supports("avx512vbmi2");
}
#endif

/* (CTIX_SIEVE_AVX2: the AVX2 passes on a CPU with AVX-512, for the tests that hold them to the
 * same answers) */
static bool lone_pick(void)
{
#if defined(SIEVE_X86)
    return getenv("CTIX_SIEVE_SCALAR") == NULL && getenv("CTIX_SIEVE_AVX2") == NULL &&
           cpu_avx512_steps() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
#else
    return false;
#endif
}

/* Trailing zero bits, 64 for none. */
static inline __attribute__((always_inline)) unsigned tz64(uint64_t x)
{
    return x != 0 ? (unsigned)__builtin_ctzll(x) : 64;
}

/* Whether the colon at bit b of mask word w can be the first colon of an IPv6 address, by the
 * colons after it: an address holds "::" or six colons or more, each within five bytes of the
 * next (groups of at most four digits), so its first colon has a second colon right after it or
 * two more close behind. A time of day ("13:15:58.385Z", in every JSON line) has neither and is
 * let go before its run is looked at. (A colon refused here does not end the candidate run: a
 * later colon of it may still pass.) */
static inline __attribute__((always_inline)) bool v6_colons(const struct masks *m, size_t w,
                                                            unsigned b)
{
    uint64_t win = (m->c[w] >> b) | ((m->c[w + 1] << 1) << (63 - b)), rest = win & ~(uint64_t)1;
    unsigned j = tz64(rest), k = tz64(rest & (rest - 1));

    return ((win >> 1) & 1) | ((j <= 5) & (k <= j + 5));
}

/* An IPv4 probe's answer from the filter: its /24's line holds the address's word and the word of
 * networks covering the whole /24. */
static inline bool v4_in_filter(const struct scan_sieve *sv, uint32_t a)
{
    uint64_t h24 = hv4_24(sv->seed_v4, a), ha = hv4(sv->seed_v4, a);
    const uint64_t *line = &sv->bloom[h24 & sv->wmask & ~(uint64_t)7];
    uint64_t net = bloom_need(h24), one = bloom_need(ha);

    return ((line[h24 >> 61] & net) == net && fp_has(sv, h24)) ||
           ((line[ha >> 61] & one) == one && fp_has(sv, ha));
}

/* Answers the probes of a batch. An IPv4 address whose /24 the sieve's map holds goes on to the
 * filter in a second round (its line prefetched in the first): a few in a batch. */
static void probes_answer(const struct scan_sieve *sv, struct sprobe *pr, size_t np,
                          uint64_t *maybe)
{
    size_t then = 0;

    for (size_t j = 0; j < np; j++) {
        uint64_t h = pr[j].h;

        if (pr[j].kind == PR_V4) {
            if (!(sv->v4map[h >> 14] >> (h >> 8 & 63) & 1))
                continue;
            __builtin_prefetch(
                &sv->bloom[hv4_24(sv->seed_v4, (uint32_t)h) & sv->wmask & ~(uint64_t)7]);
            pr[j].kind |= PR_THEN;
            then++;
            continue;
        }
        if (bloom_has(sv, h) && fp_has(sv, h)) {
            *maybe |= (uint64_t)1 << pr[j].line;
            pr[j].kind |= PR_HIT;
        }
    }
    for (size_t j = 0; j < np && then > 0; j++) {
        if (!(pr[j].kind & PR_THEN))
            continue;
        then--;
        pr[j].kind &= ~(uint32_t)PR_THEN;
        if (v4_in_filter(sv, (uint32_t)pr[j].h)) {
            *maybe |= (uint64_t)1 << pr[j].line;
            pr[j].kind |= PR_HIT;
        }
    }
}

/* The runs whose probes all missed are remembered as clean. */
static void runs_remember(const struct trun *runs, size_t n, const struct sprobe *pr,
                          uint64_t *cache)
{
    for (size_t i = 0; i < n; i++) {
        bool hit = false;

        for (uint32_t j = runs[i].first; j < runs[i].first + runs[i].n; j++)
            hit = hit || (pr[j].kind & PR_HIT);
        if (!hit)
            run_clean(cache, runs[i].fp);
    }
}

/* ---- the region pass: the batch's lines walked as one stretch of masks ---- */

/* The line of the batch holding position pos (ls: the lines' starts, ascending). */
static inline unsigned line_of(const size_t *ls, unsigned k, size_t pos)
{
    unsigned lo = 0, hi = k;

    while (hi - lo > 1) {
        unsigned mid = (lo + hi) / 2;

        if (ls[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

#if defined(SIEVE_X86)
/* quad_value() for a run p[0..len) of digits and three dots (dm: bit i when p[i] is one), with
 * one shuffle: each part's digits to its own four bytes (hundreds, tens, ones, 0), then two
 * multiply-adds give each part's value. */
__attribute__((target("avx2"))) static inline bool
quad_simd(const struct scan_sieve *sv, const char *p, size_t len, uint64_t dm, uint32_t *out)
{
    unsigned d0 = (unsigned)__builtin_ctzll(dm), d1, d2;
    unsigned l0, l1, l2, l3;
    __m128i v, t;

    dm &= dm - 1;
    d1 = (unsigned)__builtin_ctzll(dm);
    dm &= dm - 1;
    d2 = (unsigned)__builtin_ctzll(dm);
    l0 = d0 - 1;
    l1 = d1 - d0 - 2;
    l2 = d2 - d1 - 2;
    l3 = (unsigned)len - d2 - 2;
    if ((l0 > 2) | (l1 > 2) | (l2 > 2) | (l3 > 2))
        return false; /* a part of no digit or of more than three */
    v = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_set1_epi8('0'));
    v = _mm_shuffle_epi8(
        v, _mm_loadu_si128(
               (const __m128i *)(const void *)sv->quad_shuf[l0 * 27 + l1 * 9 + l2 * 3 + l3]));
    t = _mm_maddubs_epi16(v, _mm_set1_epi32(0x00010a64)); /* 100, 10, 1, 0 */
    t = _mm_madd_epi16(t, _mm_set1_epi16(1));             /* each part's value in its 32 bits */
    if (_mm_movemask_epi8(_mm_cmpgt_epi32(t, _mm_set1_epi32(255))) != 0)
        return false;
    t = _mm_packus_epi32(t, t);
    t = _mm_packus_epi16(t, t);
    *out = __builtin_bswap32((uint32_t)_mm_cvtsi128_si32(t));
    return true;
}
#endif

/* The value of the 1-3 digits p[0..n). */
static inline unsigned dec3(const char *p, unsigned n)
{
    unsigned v = (unsigned)(p[0] - '0');

    if (n > 1)
        v = v * 10 + (unsigned)(p[1] - '0');
    if (n > 2)
        v = v * 10 + (unsigned)(p[2] - '0');
    return v;
}

/* The dots of run p[s..e) (e - s < 64; it may reach into the next word), bit i for p[s + i]. */
static inline __attribute__((always_inline)) uint64_t run_dots(const struct masks *m, size_t s,
                                                               size_t e)
{
    size_t w = s / 64;
    unsigned sh = (unsigned)(s % 64);
    uint64_t d = m->d[w] >> sh;

    if (e > (w + 1) * 64)
        d |= m->d[w + 1] << (64 - sh);
    return d & (((uint64_t)1 << (e - s)) - 1);
}

/* Whether run p[s..e) (as above) holds only digits and dots. */
static inline __attribute__((always_inline)) bool run_numeric(const struct masks *m, size_t s,
                                                              size_t e)
{
    size_t w = s / 64;
    unsigned sh = (unsigned)(s % 64);
    uint64_t o = (m->d[w] | m->n[w]) >> sh;

    if (e > (w + 1) * 64)
        o |= (m->d[w + 1] | m->n[w + 1]) << (64 - sh);
    return (~o & (((uint64_t)1 << (e - s)) - 1)) == 0;
}

/* Whether the dotted quad at q starts "10." or "192.168." and nothing is listed there (no
 * branch: 8 bytes compared; q has 15 readable bytes). */
static inline __attribute__((always_inline)) bool quad_private(const struct scan_sieve *sv,
                                                               const char *q)
{
    uint64_t w;

    memcpy(&w, q, 8);
    return (sv->no10 & ((w & 0xffffff) == 0x2e3031)) | (sv->no192 & (w == 0x2e3836312e323931u));
}

/* tok_quad() and tok_host() take the common runs: p[s..e) shorter than 32 bytes (no hash),
 * holding a dot, neither starting with '.' or '-' nor ending with '.' (nothing to trim); dm: its
 * dots (bit i for p[s + i]). */

/* A run of digits and three dots: true with its value in *v when it is a dotted quad whose /16
 * holds something listed (a part of no digit or of more than three is no address). The vector
 * parse takes the whole quad at once, with no branch on its parts' lengths, which a log mixes
 * too freely for the branch predictor (timed: 6 % of the sieve against parsing the first two
 * parts alone, which spares the rest for most private addresses); the portable parse takes the
 * first two parts first. */
static inline __attribute__((always_inline)) bool
tok_quad(const struct lctx *c, size_t s, size_t len, uint64_t dm, uint32_t *v, bool simd)
{
    const struct scan_sieve *sv = c->sv;
    const char *p = c->p;
    unsigned d0, d1, o;

#if defined(SIEVE_X86)
    if (simd) {
        if (!quad_simd(sv, p + s, len, dm, v))
            return false;
        o = *v >> 16;
        return (sv->map16[o / 64] >> (o % 64)) & 1;
    }
#endif
    d0 = (unsigned)__builtin_ctzll(dm);
    d1 = (unsigned)__builtin_ctzll(dm & (dm - 1)) - d0 - 1;
    if (d0 - 1 > 2 || d1 - 1 > 2)
        return false;
    o = dec3(p + s, d0) << 8 | dec3(p + s + d0 + 1, d1);
    if (o > 0xffff || !((sv->map16[o / 64] >> (o % 64)) & 1))
        return false;
    {
        uint32_t dots[3];
        uint64_t x = dm;

        (void)simd;
        dots[0] = (uint32_t)__builtin_ctzll(x);
        x &= x - 1;
        dots[1] = (uint32_t)__builtin_ctzll(x);
        x &= x - 1;
        dots[2] = (uint32_t)__builtin_ctzll(x);
        return quad_value(p + s, len, dots, v);
    }
}

/* A host name (for line c->line): nothing more when the memory of clean runs knows it (most
 * hosts of a log: 96 % of the runs looked for in the benchmark's), or when its last label ends no
 * key; else it waits for tok_resolve(), which hashes and probes it, after the batch's walk (the
 * walk's loop stays small). Asked first, the memory spares the last label's hash of the hosts it
 * knows, and its slot, read at once (it is in L2), costs less than one prefetched and waited
 * for: 5 % of a squid or Zeek line's instructions. Returns false when there is no room to wait
 * (the caller calls token()). */
static inline __attribute__((always_inline)) bool tok_host(struct lctx *c, size_t s, size_t e,
                                                           uint64_t dm)
{
    const struct scan_sieve *sv = c->sv;
    const char *p = c->p;
    size_t len = e - s, a;
    uint64_t h, t, fp = run_fp(sv->seed_run, p + s, len);
    struct pend *q;

    if (run_known(c, fp))
        return true;
    a = s + 64 - (size_t)__builtin_clzll(dm); /* the last label */
    h = hpiece(sv->seed_host, p + a, e - a);
    t = h >> (64 - TLD_BITS);
    if (!((sv->tails[t / 64] >> (t % 64)) & 1)) {
        if (__builtin_popcountll(dm) >= 3)
            quads(c, s, e); /* "ip-10.1.2.3" */
        return true;
    }
    if (c->npend >= PROBES_MAX)
        return false;
    q = &c->pend[c->npend++];
    q->fp = fp;
    q->dm = dm;
    q->h = h;
    q->s = (uint32_t)s;
    q->len = (uint8_t)len;
    q->line = (uint8_t)c->line;
    return true;
}

static inline __attribute__((always_inline)) void tok_resolve(struct lctx *c, const struct pend *q)
{
    const char *p = c->p + q->s;
    size_t np0 = c->np;
    uint64_t x = q->dm, h = q->h;
    unsigned nd = 0;
    uint32_t dots[32];

    c->line = q->line;
    c->maybe = false; /* (not the last run's answer) */
    for (; x != 0; x &= x - 1)
        dots[nd++] = (uint32_t)__builtin_ctzll(x);
    if (nd >= 3)
        quads(c, q->s, q->s + q->len);
    /* the host and its parents (its last label's hash done in tok_host) */
    if (c->tld)
        push(c, PR_BLOOM, h ^ PARENT);
    (void)hosts_parents(h, p, dots, nd, push_bloom, c);
    run_note(c, q->fp, np0);
}

/* Marks line i of the batch as let through. */
#define LET(mb, i) ((mb) |= (uint64_t)1 << (i))

/* The lines' runs with a dot, the hashes without one, the escapes and the IPv6 candidates of a
 * batch, walked in one pass over its masks (line i is [ls[i], le[i]); lines set in *mb are let
 * through already and not looked at). Probes go to c, lines let through without a probe to *mb. */
static inline __attribute__((always_inline)) void
region_pass(struct lctx *c, const size_t *ls, const size_t *le, unsigned k, uint64_t *mb, bool simd)
{
    const struct scan_sieve *sv = c->sv;
    const struct masks *m = c->m;
    const char *p = c->p;
    size_t lim = le[k - 1], nw = (lim + 63) / 64, done = 0;
    unsigned line = 0;

    uint64_t seen = 0; /* lines looked at whole (for escapes, then for IPv6) */

    /* escapes and %XX: the whole line goes to its reader */
    for (size_t w = 0; w < nw && m->any_x; w++) {
        uint64_t xs = m->x[w];

        while (xs != 0) {
            size_t pos = w * 64 + (size_t)__builtin_ctzll(xs);
            unsigned i = line_of(ls, k, pos);

            if (!((*mb | seen) >> i & 1) && undecoded(p + ls[i], le[i] - ls[i]))
                LET(*mb, i);
            LET(seen, i);
            if (le[i] >= (w + 1) * 64)
                break;
            xs &= ~(uint64_t)0 << (le[i] % 64);
        }
    }
    /* IPv6 addresses (a run of IPv6 bytes never crosses a line's end) */
    if (sv->v6) {
        size_t done6 = 0;

        for (size_t w = 0; w < nw; w++) {
            uint64_t cand;

            if (c->c6) {
                uint64_t more = m->c6w[w / 64] >> (w % 64);

                if (more == 0) {
                    w |= 63;
                    continue;
                }
                w += (size_t)__builtin_ctzll(more);
                if (w >= nw)
                    break;
                cand = m->c6[w];
            } else {
                if (m->c[w] == 0)
                    continue;
                cand = v6_cands(m, w);
            }
            for (; cand != 0; cand &= cand - 1) {
                size_t pos = w * 64 + (size_t)__builtin_ctzll(cand), a, z, np0;
                uint64_t fp;
                unsigned i;

                if (pos < done6 || !v6_colons(m, w, pos % 64))
                    continue;
                if (!v6_cand(c, pos, 0, lim, &a, &z)) {
                    done6 = z;
                    continue;
                }
                done6 = z;
                i = line_of(ls, k, pos);
                if (*mb >> i & 1)
                    continue;
                /* addresses repeat (a resolver's answers, a proxy's peers): the memory of
                 * clean runs spares their parsing */
                fp = run_fp(sv->seed_run, p + a, z - a);
                if (run_known(c, fp))
                    continue;
                c->line = i;
                c->maybe = false;
                np0 = c->np;
                if (v6_probe(c, a, z) || c->maybe)
                    LET(*mb, i);
                else if (c->np == np0)
                    run_clean(c->cache, fp); /* decided without a probe */
                else
                    run_note(c, fp, np0);
            }
        }
    }
    if (c->bare) {
        /* one-label hosts are keys: every run of host bytes is a host (token() also finds the
         * hashes in it) */
        for (size_t pos = 0; pos < lim;) {
            size_t s = next_bit(m->h, pos, true, lim), e;

            if (s >= lim)
                break;
            e = next_bit(m->h, s, false, lim);
            while (s >= ls[line + 1])
                line++;
            if (!(*mb >> line & 1)) {
                c->line = line;
                c->maybe = false;
                token(c, s, e);
                if (c->maybe)
                    LET(*mb, line);
            }
            pos = e;
        }
        return;
    }
    /* runs of 32 bytes or more without a dot (hashes; runs with one are the next pass's): a hash
     * in such a run holds an aligned group of 16 hex digits (never across a line's end: '\n' is
     * no host byte) */
    for (size_t w0 = 0; w0 < nw; w0 += 64) {
        uint64_t fl;

#if defined(SIEVE_X86)
        if (simd)
            fl = hex_words_avx2(m, w0, nw);
        else
#endif
            fl = hex_words(m, w0, nw);
        for (; fl != 0; fl &= fl - 1) {
            size_t w = w0 + (size_t)__builtin_ctzll(fl);
            uint64_t hx = m->v[w] & m->h[w] & ~m->d[w], r;

            r = hx & (hx >> 1);
            r &= r >> 2;
            r &= r >> 4;
            r &= r >> 8; /* bit i: bytes i..i+15 are hex digits */
            r &= 0x0001000100010001u;
            while (r != 0) {
                size_t at = w * 64 + (size_t)__builtin_ctzll(r), s, e;
                unsigned i;

                r &= r - 1;
                if (at < done || at >= lim)
                    continue;
                /* (a run ends at its line's end: '\r' and '\n' are no host bytes) */
                s = run_start(m->h, at, 0);
                e = next_bit(m->h, at, false, lim);
                done = e;
                i = e - s >= 32 ? line_of(ls, k, at) : 0;
                if (e - s >= 32 && !(*mb >> i & 1) && !range_any(m->d, s, e)) {
                    c->line = i;
                    c->maybe = false;
                    hashes(c, s, e);
                    if (c->maybe)
                        LET(*mb, i);
                }
                if (e / 64 > w)
                    break; /* (the next words' groups before e are skipped by done) */
                r &= ~(uint64_t)0 << (e % 64);
            }
        }
    }
    /* runs with a dot: hosts, dotted quads, hashes among them. A run's line is found only when
     * the run is looked up (most are not: times, numbers, private addresses, file names). */
    done = 0;
    c->maybe = false; /* (and again after each line let through) */
    /* the dots of word w that a run from an earlier word holds (done with it) are not in skip */
    uint64_t skip = ~(uint64_t)0;

    for (size_t w = 0; w < nw; w++) {
        uint64_t dm = c->wd[w] & skip, oth;

        skip = ~(uint64_t)0;
        if (c->ahead + w * 64 < c->ahead_end)
            __builtin_prefetch((const void *)(c->ahead + w * 64), 0, 2);
        if (dm == 0)
            continue;
        oth = m->h[w] & ~(m->d[w] | m->n[w]); /* letters, '-', '_' */
        while (dm != 0) {
            unsigned b = (unsigned)__builtin_ctzll(dm);
            uint64_t hw = m->h[w], lo = ~hw & (((uint64_t)2 << b) - 1),
                     hi = ~hw & (~(uint64_t)0 << b), dr;
            size_t s, e;
            bool numeric, plain;

            if (lo != 0 && hi != 0) {
                /* the run within this word: its masks at hand */
                unsigned sb = 64 - (unsigned)__builtin_clzll(lo),
                         eb = (unsigned)__builtin_ctzll(hi);
                uint64_t rm = (~(uint64_t)0 << sb) & (((uint64_t)1 << eb) - 1);

                dr = (m->d[w] & rm) >> sb;
                s = w * 64 + sb;
                e = w * 64 + eb;
                numeric = (oth & rm) == 0;
                dm &= ~(uint64_t)0 << eb;
            } else {
                /* across a word's edge: most such runs end (or start) in the next (or last)
                 * word */
                if (lo != 0)
                    s = w * 64 + 64 - (size_t)__builtin_clzll(lo);
                else if (w > 0 && ~m->h[w - 1] != 0)
                    s = w * 64 - (size_t)__builtin_clzll(~m->h[w - 1]);
                else
                    s = run_start(m->h, w * 64 + b, 0);
                if (hi != 0)
                    e = w * 64 + (size_t)__builtin_ctzll(hi);
                else if (w + 1 < nw && ~m->h[w + 1] != 0)
                    e = (w + 1) * 64 + (size_t)__builtin_ctzll(~m->h[w + 1]);
                else
                    e = next_bit(m->h, w * 64 + b, false, lim);
                if (e > lim)
                    e = lim;
                if (e - s < 32) {
                    dr = run_dots(m, s, e);
                    numeric = run_numeric(m, s, e);
                } else {
                    dr = 1; /* (token()) */
                    numeric = false;
                }
                dm = hi == 0 ? 0 : dm & (~(uint64_t)0 << (e % 64));
            }
            done = e;
            /* tok_host() and tok_quad() take runs shorter than 32 bytes with nothing to trim */
            plain = e - s < 32 && !(dr & 1) && !(dr >> (e - s - 1) & 1);
            if (plain && numeric) {
                /* a time, a number, or a dotted quad */
                uint32_t v;

                if (__builtin_popcountll(dr) != 3 || quad_private(sv, p + s) ||
                    !tok_quad(c, s, e - s, dr, &v, simd))
                    continue;
                while (s >= ls[line + 1])
                    line++;
                if (!(*mb >> line & 1)) {
                    c->line = line;
                    push(c, PR_V4, v); /* (one probe: cheaper than the memory of clean runs) */
                }
            } else {
                while (s >= ls[line + 1])
                    line++;
                if (*mb >> line & 1)
                    continue;
                c->line = line;
                if (!(plain && p[s] != '-' && tok_host(c, s, e, dr)))
                    token(c, s, e);
            }
            if (c->maybe) {
                LET(*mb, line);
                c->maybe = false;
            }
        }
        if (done > (w + 1) * 64) {
            w = done / 64 - 1;
            skip = ~(uint64_t)0 << (done % 64);
        }
    }
    for (size_t j = 0; j < c->npend; j++) {
        tok_resolve(c, &c->pend[j]);
        if (c->maybe)
            LET(*mb, c->pend[j].line);
    }
}

/* The text of the next batches, from q up to AHEAD bytes past it (not past end), asked for
 * while this batch (nw words) is walked: the classification of a batch reads its text from
 * memory for the first time, and the hardware's prefetcher, which follows the reads, runs too
 * little ahead of reads that come in bursts. One line is asked for at each word of the dotted
 * walk (there the core waits on its own dependent chains, not on memory), as many lines as the
 * batch has words, beginning where the batch before stopped: 0.87-0.90 of the sieve's time
 * without; the same lines asked for at once before the walk gave less (0.91-0.97), as the core
 * stalls when more are in flight than it has buffers for. */
#define AHEAD ((size_t)64 << 10)
static inline __attribute__((always_inline)) void text_ahead(struct scan_sieve_batch_int *bi,
                                                             struct lctx *c, const char *q,
                                                             const char *end, size_t nw)
{
    uintptr_t a = (uintptr_t)q, z = (size_t)(end - q) > AHEAD ? a + AHEAD : (uintptr_t)end;

    if (bi->ahead > a && bi->ahead <= z)
        a = bi->ahead;
    a &= ~(uintptr_t)63;
    c->ahead = a;
    c->ahead_end = bi->ahead = nw < (z - a) / 64 ? a + nw * 64 : z;
}

/* A batch: its lines found, classified, sieved. Built twice (below): with the CPU's bit
 * instructions (popcnt, lzcnt, tzcnt) where it has them. */
static inline __attribute__((always_inline)) size_t block_impl(const struct scan_sieve *sv,
                                                               struct scan_sieve_batch *b,
                                                               const char *p, size_t len, bool simd)
{
    struct scan_sieve_batch_int *bi = b->in;
    struct masks *m = &bi->m;
    size_t cw = 0, pos = 0, lim = len < REGION_WORDS * 64 ? len : REGION_WORDS * 64;
    size_t ls[SCAN_SIEVE_BATCH + 1], le[SCAN_SIEVE_BATCH]; /* ls[k]: SIZE_MAX */
    struct lctx c;
    /* the newlines are taken in order from their mask words: word wi - 1's not yet taken are in
     * nlw */
    size_t wi = 0;
    uint64_t nlw = 0;

    b->k = 0;
    b->maybe = 0;
    m->any_nul = 0;
    m->any_x = false;
    m->any_high = 0;
    m->want10 = sv->no10 && sv->lone512 && !sv->bare;
    m->no_digit_tail = !sv->digit_tail;
    /* the lines: classified words as far as needed to find their ends */
    while (b->k < SCAN_SIEVE_BATCH && pos < len) {
        size_t nl;

        for (;;) {
            size_t w1;

            if (nlw != 0) {
                unsigned bit = (unsigned)__builtin_ctzll(nlw);

                nl = (wi - 1) * 64 + bit;
                nlw &= nlw - 1;
                break;
            }
            if (wi < cw) {
                nlw = m->nl[wi++];
                continue;
            }
            if (cw * 64 >= lim) {
                nl = SIZE_MAX;
                break;
            }
            w1 = cw + GROW_WORDS;
            if (w1 > (lim + 63) / 64)
                w1 = (lim + 63) / 64;
            sv->classify(p, cw, w1, len, m);
            cw = w1;
        }
        if (nl == SIZE_MAX) {
            if (lim == len) {
                nl = len; /* the last line, with no '\n' */
            } else if (b->k == 0) {
                /* a line longer than the region: through, unlooked-at */
                const char *q = memchr(p + pos, '\n', len - pos);

                size_t e;

                nl = q != NULL ? (size_t)(q - p) : len;
                e = nl > pos && p[nl - 1] == '\r' ? nl - 1 : nl;
                b->p[0] = p + pos;
                b->n[0] = (uint32_t)(e - pos > UINT32_MAX ? UINT32_MAX : e - pos);
                b->maybe = 1;
                b->nul = b->high = true; /* not classified */
                b->k = 1;
                return nl < len ? nl + 1 : len;
            } else {
                break; /* it starts the next batch */
            }
        }
        ls[b->k] = pos;
        le[b->k] = nl > pos && p[nl - 1] == '\r' ? nl - 1 : nl;
        b->p[b->k] = p + pos;
        b->n[b->k] = (uint32_t)(le[b->k] - pos);
        b->k++;
        pos = nl < len ? nl + 1 : len;
    }
    c.sv = sv;
    c.runs = bi->runs;
    c.nruns = 0;
    c.cache = bi->cache;
    c.pend = bi->pend;
    c.npend = 0;
    c.bare = sv->bare;
    c.tld = sv->tld;
    c.m = m;
    c.pr = bi->pr;
    c.np = 0;
    c.p = p;
    if (b->k > 0) {
        uint64_t mb = 0;
        size_t nw = (le[b->k - 1] + 63) / 64; /* the batch's words */

        for (unsigned i = 0; i < b->k; i++) {
            if (le[i] - ls[i] > SCAN_SIEVE_LINE_MAX)
                LET(mb, i);
        }
        ls[b->k] = SIZE_MAX;
        /* the dots, colons and escapes past the batch's last line (the next batch's first)
         * cleared, so that the region pass need not keep its bound */
        if (le[b->k - 1] % 64 != 0) {
            size_t lw = le[b->k - 1] / 64;
            uint64_t keep = ~(uint64_t)0 >> (64 - le[b->k - 1] % 64);

            m->d[lw] &= keep;
            m->c[lw] &= keep;
            m->x[lw] &= keep;
        }
        c.wd = m->d;
        c.c6 = false;
#if defined(SIEVE_X86)
        if (simd && sv->lone512) {
            if (!sv->bare) {
                lone_dots512(m, nw);
                c.wd = m->wd;
            }
            if (sv->v6) {
                v6_colons512(m, nw);
                c.c6 = true;
            }
        }
#endif
        text_ahead(bi, &c, p + pos, p + len, nw);
        region_pass(&c, ls, le, b->k, &mb, simd);
        probes_answer(sv, bi->pr, c.np, &b->maybe);
        b->maybe |= mb;
        runs_remember(bi->runs, c.nruns, bi->pr, bi->cache);
    }
    b->nul = m->any_nul != 0;
    b->high = m->any_high != 0;
    return pos;
}

#if defined(SIEVE_X86)
__attribute__((target("avx2,popcnt,bmi,bmi2,lzcnt"))) static size_t
pass_bits(const struct scan_sieve *sv, struct scan_sieve_batch *b, const char *p, size_t len)
{
    return block_impl(sv, b, p, len, true);
}
#endif

static size_t pass_plain(const struct scan_sieve *sv, struct scan_sieve_batch *b, const char *p,
                         size_t len)
{
    return block_impl(sv, b, p, len, false);
}

static pass_fn pass_pick(void)
{
#if defined(SIEVE_X86)
    __builtin_cpu_init();
    /* (every CPU with AVX2 and BMI2 has LZCNT, which not every compiler lets one ask about) */
    if (getenv("CTIX_SIEVE_SCALAR") == NULL && __builtin_cpu_supports("popcnt") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
        __builtin_cpu_supports("bmi2"))
        return pass_bits;
#endif
    return pass_plain;
}

#if defined(SIEVE_X86)
__attribute__((target("avx2,popcnt"))) static size_t count_avx2(const char *p, size_t n, char c)
{
    const __m256i k = _mm256_set1_epi8(c);
    size_t i = 0, k1 = 0;

    /* 64 bytes a step, the last step's bytes past n cut from its mask */
    for (;; i += 64) {
        uint64_t eq = mm64(
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(p + i)), k),
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(p + i + 32)), k));

        if (n - i <= 64)
            return k1 + (size_t)__builtin_popcountll(
                            n - i == 64 ? eq : eq & (((uint64_t)1 << (n - i)) - 1));
        k1 += (size_t)__builtin_popcountll(eq);
    }
}
#endif

static size_t count_plain(const char *p, size_t n, char c)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += p[i] == c;
    return k;
}

static count_fn count_pick(void)
{
#if defined(SIEVE_X86)
    __builtin_cpu_init();
    if (getenv("CTIX_SIEVE_SCALAR") == NULL && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("popcnt"))
        return count_avx2;
#endif
    return count_plain;
}

size_t scan_sieve_count(const struct scan_sieve *sv, const char *p, size_t n, char c)
{
    return sv->count(p, n, c);
}

size_t scan_sieve_block(const struct scan_sieve *sv, struct scan_sieve_batch *b, const char *p,
                        size_t len)
{
    return sv->pass(sv, b, p, len);
}

bool scan_sieve_batch_init(struct scan_sieve_batch *b)
{
    memset(b, 0, sizeof(*b));
    b->in = calloc(1, sizeof(struct scan_sieve_batch_int)); /* (the masks' spare words: 0) */
    return b->in != NULL;
}

void scan_sieve_batch_cleanup(struct scan_sieve_batch *b)
{
    free(b->in);
    b->in = NULL;
}

bool scan_sieve_line(const struct scan_sieve *sv, const char *line, size_t n)
{
    struct scan_sieve_batch b;
    bool maybe = true;

    if (n == 0)
        return false;
    if (memchr(line, '\n', n) != NULL || !scan_sieve_batch_init(&b))
        return true;
    (void)scan_sieve_block(sv, &b, line, n);
    maybe = b.k != 1 || (b.maybe & 1);
    scan_sieve_batch_cleanup(&b);
    return maybe;
}

bool scan_sieve__quad_agree(const struct scan_sieve *sv, const char *p, size_t n)
{
    uint64_t dm = 0;
    uint32_t dots[3], a = 0, b = 0;
    unsigned nd = 0;
    char buf[32];
    bool ra, rb;

    if (n < 7 || n > 15)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (nd == 3)
                return true;
            dots[nd++] = (uint32_t)i;
            dm |= (uint64_t)1 << i;
        } else if (p[i] < '0' || p[i] > '9') {
            return true; /* only runs of digits and three dots are parsed */
        }
    }
    if (nd != 3)
        return true;
    memset(buf, 0, sizeof(buf));
    memcpy(buf, p, n);
    ra = quad_value(buf, n, dots, &a);
#if defined(SIEVE_X86)
    if (!__builtin_cpu_supports("avx2"))
        return true;
    rb = quad_simd(sv, buf, n, dm, &b);
#else
    (void)sv;
    rb = ra;
    b = a;
#endif
    return ra == rb && (!ra || a == b);
}

#if defined(SIEVE_X86)
/* Bits [b, b + 64) of mask words x (b >= 0; b % 32 == 0). */
static uint64_t win64(const uint64_t *x, size_t b)
{
    return b % 64 == 0 ? x[b / 64] : x[b / 64] >> 32 | x[b / 64 + 1] << 32;
}

/* The lone dots of the 64 bytes from bit b of the masks, the portable way: a dot whose run of
 * host bytes lies inside them (bytes before and after it there) and is digits, the dot, digits
 * (or one of the other shapes m asks for; a "10." is marked only inside a word of the n bytes
 * of p); none when they hold an aligned group of 16 hex digits. */
static uint64_t lone_win(const struct masks *m, size_t b, const char *p, size_t n)
{
    uint64_t d = win64(m->d, b), h = win64(m->h, b), dg = win64(m->n, b), v = win64(m->v, b),
             out = 0;

    for (unsigned g = 0; g < 64; g += 16) {
        if ((((v & h & ~d) >> g) & 0xffff) == 0xffff)
            return 0;
    }
    for (uint64_t x = d; x != 0; x &= x - 1) {
        unsigned t = (unsigned)__builtin_ctzll(x), s = t, e = t;
        bool lone = true;

        while (s > 0 && (h >> (s - 1) & 1))
            s--;
        while (e < 63 && (h >> (e + 1) & 1))
            e++;
        lone = s > 0 && e < 63 && t > s && e > t;
        for (unsigned i = s; i <= e && lone; i++)
            lone = i == t || (dg >> i & 1);
        if (!lone && m->no_digit_tail && s > 0 && e < 63 && t < e &&
            __builtin_popcountll(d & (~(uint64_t)0 >> (63 - e)) & (~(uint64_t)0 << s)) == 1)
            lone = dg >> (t + 1) & 1; /* one dot, a digit after it */
        if (!lone && m->want10 && s > 0 && e < 63 && e - s >= 2 && (b + s) % 64 <= 61 &&
            b + s + 3 <= n && memcmp(p + b + s, "10.", 3) == 0) {
            /* digits and dots after "10." */
            lone = true;
            for (unsigned i = s; i <= e && lone; i++)
                lone = (dg | d) >> i & 1;
        }
        out |= (uint64_t)lone << t;
    }
    return out;
}

/* lone_dots512()'s answer for word w, the portable way: its dots less the lone ones of the word,
 * of the 64 bytes from its middle and of the 64 bytes up to its middle. */
static uint64_t lone_ref(const struct masks *m, size_t w, const char *p, size_t n)
{
    uint64_t lone = lone_win(m, w * 64, p, n) | lone_win(m, w * 64 + 32, p, n) << 32;

    if (w > 0)
        lone |= lone_win(m, w * 64 - 32, p, n) >> 32;
    return m->d[w] & ~lone;
}
#endif

bool scan_sieve__classify_agree(const char *p, size_t n)
{
    static struct masks a, b;
    size_t nw = (n + 63) / 64;
    bool ok = true;

    if (n == 0 || nw > REGION_WORDS)
        return true;
    a.any_nul = a.any_high = 0;
    classify_scalar(p, 0, nw, n, &a);
#if defined(SIEVE_X86)
    static const classify_fn vec[3] = {classify_sse2, classify_avx2, classify_avx512};

    a.want10 = false;
    for (int v = 0; v < 3 && ok; v++) {
        if (v == 1 && !__builtin_cpu_supports("avx2"))
            break;
        if (v == 2 && !(__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi")))
            break;
        b.any_nul = b.any_high = 0;
        b.want10 = v == 2;
        vec[v](p, 0, nw, n, &b);
        ok = a.any_nul == b.any_nul && a.any_high == b.any_high;
        ok = ok && memcmp(a.h, b.h, nw * 8) == 0 && memcmp(a.d, b.d, nw * 8) == 0 &&
             memcmp(a.n, b.n, nw * 8) == 0 && memcmp(a.c, b.c, nw * 8) == 0 &&
             memcmp(a.x, b.x, nw * 8) == 0 && memcmp(a.nl, b.nl, nw * 8) == 0 &&
             memcmp(a.v, b.v, nw * 8) == 0;
    }
    if (ok && cpu_avx512_steps()) {
        /* the "10." marks of the AVX-512 pass (b) against the text */
        for (size_t w = 0; w < nw && ok; w++) {
            uint64_t t = 0;

            for (unsigned i = 0; i + 2 < 64 && w * 64 + i + 2 < n; i++)
                t |= (uint64_t)(memcmp(p + w * 64 + i, "10.", 3) == 0) << i;
            ok = b.t10[w] == t;
            a.t10[w] = t;
        }
        /* the walk's dots, with and without the runs that begin "10." and those of one dot
         * and a digit after it */
        for (int k = 0; k < 4 && ok; k++) {
            a.want10 = k & 1;
            a.no_digit_tail = k & 2;
            lone_dots512(&a, nw);
            for (size_t w = 0; w < nw && ok; w++)
                ok = a.wd[w] == lone_ref(&a, w, p, n);
        }
        a.want10 = a.no_digit_tail = false;
        /* every colon the IPv6 pass would take is a candidate still */
        v6_colons512(&a, nw);
        for (size_t w = 0; w < nw && ok; w++) {
            uint64_t want = 0;

            for (uint64_t x = v6_cands(&a, w); x != 0; x &= x - 1) {
                unsigned bit = (unsigned)__builtin_ctzll(x);

                if (v6_colons(&a, w, bit))
                    want |= (uint64_t)1 << bit;
            }
            ok = (want & ~a.c6[w]) == 0 && (a.c6[w] & ~v6_cands(&a, w)) == 0 &&
                 (a.c6w[w / 64] >> (w % 64) & 1) == (a.c6[w] != 0);
        }
    }
#endif
    return ok;
}
