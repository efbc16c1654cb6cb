/* The scan sieve (sieve.h): which lines cannot match, decided from the line's bytes alone.
 *
 * A line is classified by a vector pass into bit masks (host bytes, dots, digits, letters, IPv6
 * bytes, colons); then each run of host bytes is looked at once:
 *   - with a dot and a byte other than digits and dots: a host name, maybe. Each dot-suffix of two
 *     or more labels (what the index probes as the host and its parent domains) is hashed with
 *     letter case folded and looked up in the filter;
 *   - dotted quads inside it (a whole run of digits and dots, or such a run after a '-' or '_'):
 *     the /24 map of networks that cover whole /24s, then the filter (single addresses and the
 *     pieces of smaller networks);
 *   - runs of 32, 40 or 64 hex digits between non-alphanumerics: the filter.
 * Colons that start a run of IPv6 bytes with a second colon are parsed and looked up in the
 * index's IPv6 tables. A backslash (an escape a reader would decode) or a %XX that decodes to a
 * host byte sends the line on as it is: the sieve does not decode.
 *
 * The filter is a blocked Bloom filter: three bits in one 64-bit word per key, about eight bytes
 * per key, so a lookup is one memory access and a false "maybe" about one in 10,000. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SIEVE_X86 1
#endif

#include "scan/sieve.h"

#define LW (SCAN_SIEVE_LINE_MAX / 64) /* mask words of the longest line sieved */

struct lmask;
typedef void (*classify_fn)(const char *p, size_t n, struct lmask *m);

struct scan_sieve {
    const struct scan_index *ix;
    classify_fn classify; /* the widest vector pass the CPU has */
    uint64_t *bloom;
    uint64_t wmask;  /* words - 1 */
    uint64_t *map24; /* one bit per /24 wholly inside a listed network */
    uint64_t seed_host, seed_hash, seed_v4;
    bool tld;  /* one-label domain keys: a host's last label is looked up too */
    bool bare; /* URL keys whose host is one label ("localhost"): dotless runs are hosts too */
    bool v6;   /* IPv6 keys */
    uint8_t (*url6)[16]; /* the IPv6 hosts of URL keys */
    size_t n_url6, cap_url6;
    size_t mem;
};

static classify_fn classify_pick(void);

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
 * p[0..n). Calls probe(arg, hash) for each suffix of two labels or more, and for the last label
 * alone when tld. */
#define HOST_DOTS_MAX 64

static inline uint64_t hosts_chain(uint64_t seed, const char *p, size_t n, const uint32_t *dots,
                                   size_t nd, bool tld, void (*probe)(void *, uint64_t), void *arg)
{
    uint64_t h = seed;
    size_t end = n;

    for (size_t k = nd + 1; k-- > 0;) {
        size_t a = k > 0 ? dots[k - 1] + 1 : 0;

        h = hpiece(h, p + a, end - a);
        if (k < nd || tld)
            probe(arg, h);
        if (k > 0)
            end = dots[k - 1];
    }
    return h;
}

static inline uint64_t hv4(uint64_t seed, uint32_t a)
{
    return fold_mul(fold_mul(seed ^ a, 0x9e3779b97f4a7c15u), 0x8ebc6af09c88c6e3u);
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

/* ---- building ---- */

struct bctx {
    struct scan_sieve *sv;
    uint64_t *keys; /* filter hashes */
    size_t n, cap;
    bool ok;   /* no memory error */
    bool odd;  /* a key the sieve cannot see: no sieve */
    char *tmp; /* a key copied with room to read past it */
};

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
    return hosts_chain(b->sv->seed_host, b->tmp, n, dots, nd, false, no_probe, NULL);
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
        if (ctix_array_reserve((void **)&sv->url6, &sv->cap_url6, sv->n_url6 + 1, 16) != CTIX_OK) {
            b->ok = false;
            return;
        }
        if (!scan_ipv6_parse(p + a + 1, hl, sv->url6[sv->n_url6])) {
            b->odd = true;
            return;
        }
        sv->n_url6++;
        return;
    }
    he = e;
    for (size_t j = e; j > a; j--) {
        if (p[j - 1] == ':') {
            he = j - 1;
            break;
        }
        if (p[j - 1] < '0' || p[j - 1] > '9')
            break;
    }
    if (he == a || he - a > 253) {
        b->odd = true;
        return;
    }
    if (scan_ipv4_parse(p + a, he - a, &v4)) {
        key_push(b, hv4(b->sv->seed_v4, v4));
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

    if (b->odd || !b->ok)
        return;
    switch (kind) {
    case SCAN_DOMAIN:
        if (n == 0 || n > 253) {
            b->odd = n > 253;
            return;
        }
        key_push(b, key_host(b, p, n));
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

/* Networks that cover whole /24s go to the map; the pieces of a /24 they cover only in part are
 * single addresses in the filter when small (≤ 32 addresses), else the /24's bit (a "maybe" the
 * reader settles). */
static void each_v4(void *arg, uint32_t lo, uint32_t hi)
{
    struct bctx *b = arg;
    uint64_t a = lo;

    while (a <= hi && b->ok) {
        uint64_t blk = a >> 8, bend = (blk << 8) | 0xff, e = bend < hi ? bend : hi;

        if (e - a + 1 == 256 || e - a + 1 > 32) {
            b->sv->map24[blk / 64] |= (uint64_t)1 << (blk % 64);
        } else {
            for (uint64_t x = a; x <= e; x++)
                key_push(b, hv4(b->sv->seed_v4, (uint32_t)x));
        }
        a = e + 1;
    }
}

static void *big_zalloc(size_t bytes)
{
    void *p = NULL;

    if (bytes < ((size_t)2 << 20))
        return calloc(1, bytes);
    if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0)
        return NULL;
    (void)madvise(p, bytes, MADV_HUGEPAGE);
    memset(p, 0, bytes);
    return p;
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
    sv->seed_host = fold_mul(seed ^ 0x6a09e667f3bcc908u, 0x9e3779b97f4a7c15u);
    sv->seed_hash = fold_mul(seed ^ 0xbb67ae8584caa73bu, 0x9e3779b97f4a7c15u);
    sv->seed_v4 = fold_mul(seed ^ 0x3c6ef372fe94f82bu, 0x9e3779b97f4a7c15u);
    sv->tld = scan_index__tld_keys(ix);
    sv->v6 = scan_index__has_v6(ix);
    sv->map24 = big_zalloc(((size_t)1 << 24) / 8);
    if (sv->map24 == NULL)
        goto fail;
    b.sv = sv;
    b.ok = true;
    scan_index__each_str(ix, each_str, &b);
    if (!b.odd)
        scan_index__each_v4(ix, each_v4, &b);
    if (!b.ok)
        goto fail;
    if (b.odd) {
        *rc = CTIX_OK;
        goto fail;
    }
    while (words < b.n)
        words *= 2;
    sv->bloom = big_zalloc(words * sizeof(uint64_t));
    if (sv->bloom == NULL)
        goto fail;
    sv->wmask = words - 1;
    for (size_t i = 0; i < b.n; i++)
        sv->bloom[b.keys[i] & sv->wmask] |= bloom_need(b.keys[i]);
    sv->mem = sizeof(*sv) + words * sizeof(uint64_t) + ((size_t)1 << 24) / 8 + sv->cap_url6 * 16;
    *rc = CTIX_OK;
    goto out;
fail:
    scan_sieve_free(sv);
    sv = NULL;
out:
    free(b.keys);
    free(b.tmp);
    return sv;
}

void scan_sieve_free(struct scan_sieve *sv)
{
    if (sv == NULL)
        return;
    free(sv->bloom);
    free(sv->map24);
    free(sv->url6);
    free(sv);
}

size_t scan_sieve_mem(const struct scan_sieve *sv)
{
    return sv != NULL ? sv->mem : 0;
}

/* ---- the line pass ---- */

/* The bytes past the line (in its last word) do not count. */
#define KEEP_LAST()                                                                                \
    do {                                                                                           \
        if ((w + 1) * 64 > n) {                                                                    \
            uint64_t keep_ = ~(uint64_t)0 >> (64 - n % 64);                                        \
            h &= keep_;                                                                            \
            d &= keep_;                                                                            \
            nn &= keep_;                                                                           \
            c &= keep_;                                                                            \
            x &= keep_;                                                                            \
            t &= keep_;                                                                            \
        }                                                                                          \
    } while (0)

struct lmask {
    uint64_t h[LW]; /* host bytes [A-Za-z0-9._-] */
    uint64_t d[LW]; /* '.' */
    uint64_t n[LW]; /* digits */
    uint64_t c[LW]; /* ':' */
    uint64_t x;     /* some '%' or '\\' */
    size_t tabs;
    size_t nw;
};

#if defined(SIEVE_X86)
static void classify_sse2(const char *p, size_t n, struct lmask *m)
{
    const __m128i k20 = _mm_set1_epi8(0x20), ka = _mm_set1_epi8('a' - 1),
                  kz = _mm_set1_epi8('z' + 1), k0 = _mm_set1_epi8('0' - 1),
                  k9 = _mm_set1_epi8('9' + 1), kdot = _mm_set1_epi8('.'),
                  kdash = _mm_set1_epi8('-'), kus = _mm_set1_epi8('_'), kcol = _mm_set1_epi8(':'),
                  kpct = _mm_set1_epi8('%'), kbs = _mm_set1_epi8('\\'), ktab = _mm_set1_epi8('\t');
    uint64_t any = 0;
    size_t tabs = 0;

    for (size_t w = 0; w * 64 < n; w++) {
        uint64_t h = 0, d = 0, nn = 0, c = 0, x = 0, t = 0;

        for (unsigned q = 0; q < 4; q++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + w * 64 + q * 16));
            __m128i f = _mm_or_si128(v, k20);
            __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(f, ka), _mm_cmpgt_epi8(kz, f));
            __m128i dig = _mm_and_si128(_mm_cmpgt_epi8(v, k0), _mm_cmpgt_epi8(k9, v));
            __m128i dot = _mm_cmpeq_epi8(v, kdot);
            __m128i sep = _mm_or_si128(_mm_cmpeq_epi8(v, kdash), _mm_cmpeq_epi8(v, kus));
            __m128i hb = _mm_or_si128(_mm_or_si128(alpha, dig), _mm_or_si128(dot, sep));
            __m128i xb = _mm_or_si128(_mm_cmpeq_epi8(v, kpct), _mm_cmpeq_epi8(v, kbs));
            unsigned sh = q * 16;

            h |= (uint64_t)(unsigned)_mm_movemask_epi8(hb) << sh;
            d |= (uint64_t)(unsigned)_mm_movemask_epi8(dot) << sh;
            nn |= (uint64_t)(unsigned)_mm_movemask_epi8(dig) << sh;
            c |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, kcol)) << sh;
            x |= (uint64_t)(unsigned)_mm_movemask_epi8(xb) << sh;
            t |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, ktab)) << sh;
        }
        KEEP_LAST();
        m->h[w] = h;
        m->d[w] = d;
        m->n[w] = nn;
        m->c[w] = c;
        any |= x;
        tabs += (size_t)__builtin_popcountll(t);
    }
    m->x = any;
    m->tabs = tabs;
}

__attribute__((target("avx2,popcnt"))) static void classify_avx2(const char *p, size_t n,
                                                                 struct lmask *m)
{
    const __m256i k20 = _mm256_set1_epi8(0x20), ka = _mm256_set1_epi8('a' - 1),
                  kz = _mm256_set1_epi8('z' + 1), k0 = _mm256_set1_epi8('0' - 1),
                  k9 = _mm256_set1_epi8('9' + 1), kdot = _mm256_set1_epi8('.'),
                  kdash = _mm256_set1_epi8('-'), kus = _mm256_set1_epi8('_'),
                  kcol = _mm256_set1_epi8(':'), kpct = _mm256_set1_epi8('%'),
                  kbs = _mm256_set1_epi8('\\'), ktab = _mm256_set1_epi8('\t');
    uint64_t any = 0;
    size_t tabs = 0;

    for (size_t w = 0; w * 64 < n; w++) {
        uint64_t h = 0, d = 0, nn = 0, c = 0, x = 0, t = 0;

        for (unsigned q = 0; q < 2; q++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + w * 64 + q * 32));
            __m256i f = _mm256_or_si256(v, k20);
            __m256i alpha = _mm256_and_si256(_mm256_cmpgt_epi8(f, ka), _mm256_cmpgt_epi8(kz, f));
            __m256i dig = _mm256_and_si256(_mm256_cmpgt_epi8(v, k0), _mm256_cmpgt_epi8(k9, v));
            __m256i dot = _mm256_cmpeq_epi8(v, kdot);
            __m256i sep = _mm256_or_si256(_mm256_cmpeq_epi8(v, kdash), _mm256_cmpeq_epi8(v, kus));
            __m256i hb = _mm256_or_si256(_mm256_or_si256(alpha, dig), _mm256_or_si256(dot, sep));
            __m256i xb = _mm256_or_si256(_mm256_cmpeq_epi8(v, kpct), _mm256_cmpeq_epi8(v, kbs));
            unsigned sh = q * 32;

            h |= (uint64_t)(uint32_t)_mm256_movemask_epi8(hb) << sh;
            d |= (uint64_t)(uint32_t)_mm256_movemask_epi8(dot) << sh;
            nn |= (uint64_t)(uint32_t)_mm256_movemask_epi8(dig) << sh;
            c |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, kcol)) << sh;
            x |= (uint64_t)(uint32_t)_mm256_movemask_epi8(xb) << sh;
            t |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, ktab)) << sh;
        }
        KEEP_LAST();
        m->h[w] = h;
        m->d[w] = d;
        m->n[w] = nn;
        m->c[w] = c;
        any |= x;
        tabs += (size_t)__builtin_popcountll(t);
    }
    m->x = any;
    m->tabs = tabs;
}
#endif

static void classify_scalar(const char *p, size_t n, struct lmask *m)
{
    uint64_t any = 0;
    size_t tabs = 0;

    for (size_t w = 0; w * 64 < n; w++) {
        uint64_t h = 0, d = 0, nn = 0, c = 0, x = 0, t = 0;

        for (unsigned i = 0; i < 64; i++) {
            unsigned char v = (unsigned char)p[w * 64 + i], f = v | 0x20;
            uint64_t bit = (uint64_t)1 << i;
            bool alpha = f >= 'a' && f <= 'z', dig = v >= '0' && v <= '9';

            h |= (alpha || dig || v == '.' || v == '-' || v == '_') ? bit : 0;
            d |= v == '.' ? bit : 0;
            nn |= dig ? bit : 0;
            c |= v == ':' ? bit : 0;
            x |= (v == '%' || v == '\\') ? bit : 0;
            t |= v == '\t' ? bit : 0;
        }
        KEEP_LAST();
        m->h[w] = h;
        m->d[w] = d;
        m->n[w] = nn;
        m->c[w] = c;
        any |= x;
        tabs += (size_t)__builtin_popcountll(t);
    }
    m->x = any;
    m->tabs = tabs;
}

static classify_fn classify_pick(void)
{
    /* the portable pass, for tests that hold the vector passes to it */
    if (getenv("CTIX_SIEVE_SCALAR") != NULL)
        return classify_scalar;
#if defined(SIEVE_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        return classify_avx2;
    return classify_sse2;
#else
    return classify_scalar;
#endif
}

/* Whether a bit of mask words in [s, e) is set. */
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

/* The first position >= pos whose bit is (set ? 1 : 0), or lim. */
static inline size_t next_bit(const uint64_t *w, size_t nw, size_t pos, bool set, size_t lim)
{
    size_t i = pos / 64;
    uint64_t x;

    if (i >= nw)
        return lim;
    x = (set ? w[i] : ~w[i]) & (~(uint64_t)0 << (pos % 64));
    while (x == 0) {
        if (++i >= nw)
            return lim;
        x = set ? w[i] : ~w[i];
    }
    pos = i * 64 + (size_t)__builtin_ctzll(x);
    return pos < lim ? pos : lim;
}

/* Where the run of set bits holding pos starts. */
static inline size_t run_start(const uint64_t *w, size_t pos)
{
    size_t i = pos / 64;
    uint64_t x = ~w[i] & ((~(uint64_t)0) >> (63 - pos % 64));

    while (x == 0) {
        if (i == 0)
            return 0;
        x = ~w[--i];
    }
    return i * 64 + 64 - (size_t)__builtin_clzll(x);
}

static bool is_hexc(char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static unsigned hexv(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

static bool is_v6c(char c)
{
    return is_hexc(c) || c == ':' || c == '.';
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

        if (i + 2 < n && is_hexc(p[i + 1]) && is_hexc(p[i + 2]) &&
            host_byte((char)(hexv(p[i + 1]) * 16 + hexv(p[i + 2]))))
            return true;
        if (i + 1 >= n)
            break;
    }
    return false;
}

/* Digits and exactly three dots: the dotted quad's value, with the parts' range checked (not
 * their leading zeros: a superset of scan_ipv4_parse). */
static inline bool quad_value(const char *p, size_t n, uint32_t *out)
{
    uint32_t v = 0, part = 0;
    unsigned digs = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (digs == 0)
                return false;
            v = v << 8 | part;
            part = 0;
            digs = 0;
            continue;
        }
        part = part * 10 + (uint32_t)(p[i] - '0');
        if (++digs > 3 || part > 255)
            return false;
    }
    if (digs == 0)
        return false;
    *out = v << 8 | part;
    return true;
}

/* ---- one batch of lines: probes computed and prefetched for all, then resolved ---- */

enum { PR_BLOOM, PR_V4 };

struct sprobe {
    uint64_t h; /* PR_BLOOM: the hash; PR_V4: the address */
    uint32_t line;
    uint32_t kind;
};

#define PROBES_MAX 4096

struct scan_sieve_batch_int {
    struct sprobe pr[PROBES_MAX];
};

struct lctx {
    const struct scan_sieve *sv;
    struct sprobe *pr;
    size_t np;
    const char *p;
    const struct lmask *m;
    uint32_t line;
    size_t tabs;
    bool maybe; /* decided without the filter */
};

static inline void push(struct lctx *c, uint32_t kind, uint64_t h)
{
    const struct scan_sieve *sv = c->sv;

    if (c->np >= PROBES_MAX) {
        c->maybe = true; /* no room: let the line through */
        return;
    }
    c->pr[c->np].h = h;
    c->pr[c->np].line = c->line;
    c->pr[c->np].kind = kind;
    c->np++;
    if (kind == PR_V4) {
        __builtin_prefetch(&sv->map24[h >> 14]);
        h = hv4(sv->seed_v4, (uint32_t)h);
    }
    __builtin_prefetch(&sv->bloom[h & sv->wmask]);
}

static void push_bloom(void *arg, uint64_t h)
{
    push(arg, PR_BLOOM, h);
}

/* Dotted quads among the digit-and-dot runs of p[s..e) (a run a reader could take as one). */
static void quads(struct lctx *c, size_t s, size_t e)
{
    const char *p = c->p;
    size_t i = s;

    while (i < e) {
        size_t a, z, nd = 0;
        uint32_t v;

        while (i < e && !(p[i] >= '0' && p[i] <= '9'))
            i++;
        a = i;
        while (i < e && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.')) {
            nd += p[i] == '.';
            i++;
        }
        z = i;
        while (z > a && p[z - 1] == '.') {
            z--;
            nd--;
        }
        if (nd == 3 && z - a >= 7 && z - a <= 15 && quad_value(p + a, z - a, &v))
            push(c, PR_V4, v);
    }
}

/* Alphanumeric runs of exactly 32, 40 or 64 hex digits in p[s..e) (split at '.', '-', '_'). */
static void hashes(struct lctx *c, size_t s, size_t e)
{
    const char *p = c->p;
    size_t i = s;

    while (i < e) {
        size_t a;
        bool hex = true;

        while (i < e && (p[i] == '.' || p[i] == '-' || p[i] == '_'))
            i++;
        a = i;
        while (i < e && p[i] != '.' && p[i] != '-' && p[i] != '_') {
            hex = hex && is_hexc(p[i]);
            i++;
        }
        if (hex && (i - a == 32 || i - a == 40 || i - a == 64))
            push(c, PR_BLOOM, hpiece(c->sv->seed_hash, p + a, i - a));
    }
}

/* One part of a dotted quad, p[0..n) digits. */
static inline bool quad_part(const char *p, size_t n, uint32_t *v)
{
    uint32_t x;

    if (n - 1 > 2)
        return false;
    x = (uint32_t)(p[0] - '0');
    if (n > 1)
        x = x * 10 + (uint32_t)(p[1] - '0');
    if (n > 2)
        x = x * 10 + (uint32_t)(p[2] - '0');
    *v = x;
    return x <= 255;
}

/* A run of host bytes p[s..e) holding a dot (or any run, for one-label hosts). */
static void token(struct lctx *c, size_t s, size_t e)
{
    const char *p = c->p;
    const struct lmask *m = c->m;
    size_t len, k = 0;
    uint64_t other = 0;
    uint32_t dots[HOST_DOTS_MAX];

    if (e - s >= 32)
        hashes(c, s, e);
    while (s < e && (p[s] == '.' || p[s] == '-'))
        s++;
    while (e > s && p[e - 1] == '.')
        e--;
    len = e - s;
    if (len < (c->sv->bare ? 1u : 3u))
        return;
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
    if (other == 0) {
        /* digits and dots: a dotted quad or nothing (a time, a version) */
        const char *q = p + s;
        uint32_t a, b, cc, d;

        if (k == 3 && quad_part(q, dots[0], &a) &&
            quad_part(q + dots[0] + 1, dots[1] - dots[0] - 1, &b) &&
            quad_part(q + dots[1] + 1, dots[2] - dots[1] - 1, &cc) &&
            quad_part(q + dots[2] + 1, len - dots[2] - 1, &d))
            push(c, PR_V4, a << 24 | b << 16 | cc << 8 | d);
        return;
    }
    if (k == 0 && !c->sv->bare)
        return;
    if (k >= 3)
        quads(c, s, e); /* "ip-10.1.2.3", "10.1.2.3.nip.io" */
    /* the host itself, and each parent of two labels or more (the last label alone when
     * one-label keys exist) */
    (void)hosts_chain(c->sv->seed_host, p + s, len, dots, k, c->sv->tld || k == 0, push_bloom, c);
}

/* IPv6 addresses: runs of IPv6 bytes holding two colons or more, looked up in the index. */
static bool v6s(const struct scan_sieve *sv, const char *p, size_t n, const struct lmask *m)
{
    size_t i = next_bit(m->c, m->nw, 0, true, n);

    while (i < n) {
        size_t j = next_bit(m->c, m->nw, i + 1, true, n), a, z, k;
        uint8_t a6[16];

        /* the next colon in the same run of IPv6 bytes, or this one is alone in its run (the
         * colons before it were in runs already looked at) */
        for (k = i + 1; k < j && is_v6c(p[k]); k++)
            ;
        if (j >= n || k < j) {
            i = j;
            continue;
        }
        a = i;
        while (a > 0 && is_v6c(p[a - 1]))
            a--;
        z = j;
        while (z < n && is_v6c(p[z]))
            z++;
        i = next_bit(m->c, m->nw, z, true, n);
        while (z > a && p[z - 1] == '.')
            z--;
        if (!scan_ipv6_parse(p + a, z - a, a6)) {
            if (z - a < 3 || p[z - 1] != ':' || p[z - 2] == ':' ||
                !scan_ipv6_parse(p + a, z - a - 1, a6))
                continue;
        }
        for (size_t u = 0; u < sv->n_url6; u++) {
            if (memcmp(sv->url6[u], a6, 16) == 0)
                return true;
        }
        if (scan_index__v6_listed(sv->ix, a6))
            return true;
    }
    return false;
}

/* Stage one for one line: true when it is let through without the filter; else its probes are
 * pushed. */
static bool line_probes(struct lctx *c, size_t n)
{
    const struct scan_sieve *sv = c->sv;
    struct lmask m;
    size_t pos = 0;

    if (n > SCAN_SIEVE_LINE_MAX)
        return true;
    if (n == 0)
        return false;
    m.nw = (n + 63) / 64;
    sv->classify(c->p, n, &m);
    c->m = &m;
    c->maybe = false;
    c->tabs = m.tabs;
    if (m.x != 0 && undecoded(c->p, n))
        return true;
    if (sv->bare) {
        /* one-label hosts: every run of host bytes */
        while (pos < n) {
            size_t s = next_bit(m.h, m.nw, pos, true, n), e;

            if (s >= n)
                break;
            e = next_bit(m.h, m.nw, s, false, n);
            token(c, s, e);
            pos = e;
        }
    } else {
        /* runs with a dot (hosts, quads, and hashes among them) … */
        for (size_t w = 0; w < m.nw; w++) {
            uint64_t x = m.d[w];

            while (x != 0) {
                size_t d = w * 64 + (size_t)__builtin_ctzll(x), s = run_start(m.h, d),
                       e = next_bit(m.h, m.nw, d, false, n);

                token(c, s, e);
                if (e / 64 > w) {
                    /* on from the run's end */
                    w = e / 64;
                    x = w < m.nw ? m.d[w] & (~(uint64_t)0 << (e % 64)) : 0;
                    if (x == 0)
                        break;
                    continue;
                }
                x &= ~(uint64_t)0 << (e % 64);
            }
        }
        /* … and runs of 32 bytes or more without one (hashes): such a run holds an aligned
         * group of 16 host bytes */
        for (size_t w = 0; w < m.nw; w++) {
            uint64_t r = m.h[w] & (m.h[w] >> 1);

            r &= r >> 2;
            r &= r >> 4;
            r &= r >> 8; /* bit i: bytes i..i+15 are host bytes */
            if ((r & 0x0001000100010001u) == 0)
                continue;
            for (unsigned g = 0; g < 4; g++) {
                size_t at = w * 64 + g * 16, s, e;

                if (((m.h[w] >> (g * 16)) & 0xffff) != 0xffff)
                    continue;
                s = run_start(m.h, at);
                e = next_bit(m.h, m.nw, at, false, n);
                if (e - s >= 32 && !range_any(m.d, s, e))
                    hashes(c, s, e);
                if (e >= (w + 1) * 64) {
                    w = e / 64 - 1;
                    break;
                }
                g = (unsigned)((e % 64) / 16);
            }
        }
    }
    return c->maybe || ((sv->v6 || sv->n_url6 > 0) && v6s(sv, c->p, n, &m));
}

void scan_sieve_lines(const struct scan_sieve *sv, struct scan_sieve_batch *b)
{
    struct scan_sieve_batch_int *bi = b->in;
    struct lctx c;

    c.sv = sv;
    c.pr = bi->pr;
    c.np = 0;
    b->maybe = 0;
    for (unsigned i = 0; i < b->k; i++) {
        size_t np0 = c.np;

        c.p = b->p[i];
        c.line = i;
        c.tabs = 0;
        if (line_probes(&c, b->n[i])) {
            b->maybe |= (uint64_t)1 << i;
            c.np = np0; /* its probes need no answer */
        }
        b->tabs[i] = c.tabs > UINT16_MAX ? UINT16_MAX : (uint16_t)c.tabs;
    }
    for (size_t j = 0; j < c.np; j++) {
        const struct sprobe *q = &bi->pr[j];
        uint64_t h = q->h;

        if (q->kind == PR_V4) {
            if ((sv->map24[h >> 14] >> ((h >> 8) & 63)) & 1) {
                b->maybe |= (uint64_t)1 << q->line;
                continue;
            }
            h = hv4(sv->seed_v4, (uint32_t)h);
        }
        if (bloom_has(sv, h))
            b->maybe |= (uint64_t)1 << q->line;
    }
}

bool scan_sieve_batch_init(struct scan_sieve_batch *b)
{
    memset(b, 0, sizeof(*b));
    b->in = malloc(sizeof(struct scan_sieve_batch_int));
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

    if (!scan_sieve_batch_init(&b))
        return true;
    b.p[0] = line;
    b.n[0] = n;
    b.k = 1;
    scan_sieve_lines(sv, &b);
    maybe = b.maybe & 1;
    scan_sieve_batch_cleanup(&b);
    return maybe;
}

bool scan_sieve__classify_agree(const char *p, size_t n)
{
    struct lmask a, b;
    bool ok = true;

    if (n == 0 || n > SCAN_SIEVE_LINE_MAX)
        return true;
    a.nw = b.nw = (n + 63) / 64;
    classify_scalar(p, n, &a);
#if defined(SIEVE_X86)
    for (int v = 0; v < 2 && ok; v++) {
        if (v == 1 && !__builtin_cpu_supports("avx2"))
            break;
        (v == 0 ? classify_sse2 : classify_avx2)(p, n, &b);
        ok = a.x == b.x && a.tabs == b.tabs && memcmp(a.h, b.h, a.nw * 8) == 0 &&
             memcmp(a.d, b.d, a.nw * 8) == 0 && memcmp(a.n, b.n, a.nw * 8) == 0 &&
             memcmp(a.c, b.c, a.nw * 8) == 0;
    }
#endif
    return ok;
}
