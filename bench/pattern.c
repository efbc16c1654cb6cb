/* bench/pattern: the patterning engine's benchmarks (bench/pattern.sh runs them).
 *
 *   pattern gen   --dir D [--seed 1] [--patterns 10000] [--bundles 1000] [--per-bundle 8]
 *   pattern match --dir D [--runs 3]
 *   pattern parse [--n 1000000] [--seed 1] [--runs 1]
 *   pattern index [--n 1000000] [--seed 1]
 *
 * `gen` writes the workload shared with the reference matcher (bench/pattern_ref.py): bundle.json
 * (one bundle of observed-data and their SCOs), patterns.txt (distinct patterns, one a line),
 * bundles.jsonl (distinct bundles, one a line) and pattern1.txt (the pattern run over them).
 * The same seed always writes the same files.
 *
 * `match` times (1) loading bundle.json (pattern_obs_new_text) and then pattern_parse +
 * pattern_eval of every pattern, and (2) pattern_parse of pattern1 and then, for every bundle,
 * pattern_obs_new_text (from the bundle's text, for pattern1) + pattern_eval; --runs times each,
 * and writes one result a line (1 matched, 0 not, E error, B step budget) to c-patterns.res and
 * c-bundles.res. Each bundle is also loaded the old way (stix_json_parse + pattern_obs_new) and
 * evaluated, outside the clock: any difference in the answer is reported and fails the run.
 *
 * `parse` generates --n distinct indicator patterns in memory (equality on ipv4 / domain / url /
 * SHA-256 / MD5 and some richer ones), then times pattern_parse(PATTERN_STRICT) + pattern_free
 * over all of them. `index` generates --n distinct equality patterns and times
 * pattern_index_add_text for all of them, then checks lookups. Both print seconds, patterns/s and
 * the peak RSS (VmHWM); run each in its own process so that the peak is its own.
 *
 * Every figure is printed as key=value on lines starting with the measure's name. */
#include "pattern/pattern.h"
#include "base/base.h"
#include "pattern/pattern_int.h" /* pattern__json_scan, for the stage breakdown only */
#include "stix/stix.h"

#include "rng.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#define FILE_MAX ((size_t)1 << 30)
#define MAX_RUNS 50
#define POOL     24                  /* values of each kind a world holds */
#define PAT_MAX  1024                /* bytes of one generated pattern */
#define T0       INT64_C(1709251200) /* 2024-03-01T00:00:00Z */
#define GEN_TEXT ((size_t)4 << 30)   /* bytes of generated pattern text at most */
#define CAMPAIGN "198.51.100"        /* the /24 the one pattern of `match` looks for */

/* ---- more of the generator (bench/rng.h has the rest) ---- */

/* True with probability permille / 1000. */
static bool rng_chance(struct rng *r, unsigned permille)
{
    return rng_below(r, 1000) < permille;
}

static void rng_hexstr(struct rng *r, size_t bytes, char *out)
{
    unsigned char h[64];
    size_t i;

    for (i = 0; i < bytes; i += 8) {
        uint64_t v = rng_next(r);
        memcpy(h + i, &v, 8);
    }
    ctix_hex(h, bytes, out);
}

/* ---- small helpers ---- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* A field of /proc/self/status in kB ("VmHWM", "VmRSS"), 0 when unreadable. */
static unsigned long status_kb(const char *field)
{
    char line[256];
    size_t flen = strlen(field);
    unsigned long kb = 0;
    FILE *fp = fopen("/proc/self/status", "r");

    if (fp == NULL)
        return 0;
    while (fgets(line, sizeof(line), fp) != NULL) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            kb = strtoul(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(fp);
    return kb;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The lower middle value, as bench/lib.sh's median. Sorts v. */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), dbl_cmp);
    return v[(n - 1) / 2];
}

static void ts_sec(int64_t sec, char out[28])
{
    ctix_ts_format_us(sec * 1000000, out);
    out[19] = 'Z';
    out[20] = '\0';
}

/* A JSON writer whose first error sticks, so that generators read as straight-line code. */
struct jw {
    struct buf *b;
    enum ctix_rc rc;
};

static void jw_f(struct jw *j, const char *fmt, ...) CTIX_PRINTF(2, 3);
static void jw_f(struct jw *j, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    int n;

    if (j->rc != CTIX_OK)
        return;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        j->rc = CTIX_ETOOBIG;
        return;
    }
    j->rc = buf_append(j->b, tmp, (size_t)n);
}

/* Distinct texts: a set of 64-bit FNV-1a hashes (a collision only costs one regeneration). */
struct seen {
    uint64_t *slot;
    size_t mask;
};

static bool seen_init(struct seen *s, size_t n)
{
    size_t cap = 1024;

    while (cap < 2 * n)
        cap <<= 1;
    s->slot = calloc(cap, sizeof(*s->slot));
    s->mask = cap - 1;
    return s->slot != NULL;
}

/* True when text was not seen before (and now is). */
static bool seen_add(struct seen *s, const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    if (h == 0)
        h = 1;
    for (i = (size_t)h & s->mask; s->slot[i] != 0; i = (i + 1) & s->mask) {
        if (s->slot[i] == h)
            return false;
    }
    s->slot[i] = h;
    return true;
}

/* ---- the world: the values the observations hold and the patterns look for ---- */

static const char *const tlds[] = {"com", "net", "org", "info", "xyz", "top", "ru", "io"};
static const char *const url_paths[] = {"login.php", "wp-admin/upd.php", "gate.php",
                                        "a/b/c.exe", "invoice.doc",      "api/v2/beacon"};
static const char *const exts[] = {"exe", "dll", "doc", "pdf", "js", "ps1"};
static const unsigned ports[] = {80, 443, 443, 8080, 53, 4444, 22, 3389};

struct world {
    char ip[POOL][16];  /* public addresses (destinations, resolutions) */
    char lan[POOL][16]; /* 10.x addresses (sources) */
    char dom[POOL][64];
    char url[POOL][128];
    char sha[POOL][65];
    char md5[POOL][33];
    char stem[POOL][16]; /* file name without extension, also a command-line word */
    char fname[POOL][24];
    char email[POOL][96];
    char subj[POOL][48];
    unsigned size[POOL];
};

static void fresh_ip(struct rng *r, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", 1 + rng_below(r, 223), rng_below(r, 256), rng_below(r, 256),
             1 + rng_below(r, 254));
}

static void fresh_dom(struct rng *r, char out[64])
{
    char w1[16], w2[16];

    rng_word(r, w1, sizeof(w1), 4);
    rng_word(r, w2, sizeof(w2), 4);
    snprintf(out, 64, "%s.%s.%s", w1, w2, tlds[rng_below(r, CTIX_ARRAY_LEN(tlds))]);
}

static void fresh_url(struct rng *r, char out[128])
{
    char d[64];

    fresh_dom(r, d);
    snprintf(out, 128, "%s://%s/%s", rng_chance(r, 500) ? "http" : "https", d,
             url_paths[rng_below(r, CTIX_ARRAY_LEN(url_paths))]);
}

static void fresh_fname(struct rng *r, char stem[16], char out[24])
{
    rng_word(r, stem, 16, 4);
    snprintf(out, 24, "%s.%s", stem, exts[rng_below(r, CTIX_ARRAY_LEN(exts))]);
}

/* campaign: the world of the 1,000 bundles, where some destinations are in CAMPAIGN.0/24 and some
 * files are named invoice_N.exe, which is what the one pattern of `match` looks for. */
static void world_init(struct world *w, struct rng *r, bool campaign)
{
    size_t i;
    char word[16];

    for (i = 0; i < POOL; i++) {
        if (campaign && i < 8)
            snprintf(w->ip[i], sizeof(w->ip[i]), CAMPAIGN ".%u", 1 + rng_below(r, 254));
        else
            fresh_ip(r, w->ip[i]);
        snprintf(w->lan[i], sizeof(w->lan[i]), "10.%u.%u.%u", rng_below(r, 4), rng_below(r, 256),
                 1 + rng_below(r, 254));
        fresh_dom(r, w->dom[i]);
        fresh_url(r, w->url[i]);
        rng_hexstr(r, 32, w->sha[i]);
        rng_hexstr(r, 16, w->md5[i]);
        if (campaign && i < 10) {
            snprintf(w->stem[i], sizeof(w->stem[i]), "invoice_%u", rng_below(r, 100000));
            snprintf(w->fname[i], sizeof(w->fname[i]), "%s.exe", w->stem[i]);
        } else {
            fresh_fname(r, w->stem[i], w->fname[i]);
        }
        rng_word(r, word, sizeof(word), 4);
        snprintf(w->email[i], sizeof(w->email[i]), "%s@%s", word, w->dom[rng_below(r, POOL)]);
        rng_word(r, word, sizeof(word), 4);
        snprintf(w->subj[i], sizeof(w->subj[i]), "Invoice %s %u", word, rng_below(r, 10000));
        w->size[i] = 1000 + rng_below(r, 4000000);
    }
}

/* ---- observed-data bundles ---- */

/* One observed-data of a random kind and its SCOs, appended after a ',' (first: none). */
static void observation_append(struct jw *j, struct rng *r, const struct world *w, int64_t t0,
                               unsigned span, bool first)
{
    char od[37], a[37], b[37], c[37], f[28], l[28];
    int64_t t = t0 + rng_below(r, span);
    unsigned kind = rng_below(r, 11);
    unsigned nobs = rng_chance(r, 100) ? 2 + rng_below(r, 3) : 1;
    const char *sep = first ? "" : ",";

    rng_uuid4(r, od);
    rng_uuid4(r, a);
    rng_uuid4(r, b);
    rng_uuid4(r, c);
    ts_sec(t, f);
    ts_sec(t + rng_below(r, 300), l);
    jw_f(j,
         "%s{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"observed-data--%s\","
         "\"created\":\"%s\",\"modified\":\"%s\",\"first_observed\":\"%s\","
         "\"last_observed\":\"%s\",\"number_observed\":%u,\"object_refs\":[",
         sep, od, l, l, f, l, nobs);
    if (kind < 3) { /* a connection from the LAN to a public address */
        jw_f(j, "\"ipv4-addr--%s\",\"ipv4-addr--%s\",\"network-traffic--%s\"]}", a, b, c);
        jw_f(j,
             ",{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--%s\","
             "\"value\":\"%s\"}",
             a, w->lan[rng_below(r, POOL)]);
        jw_f(j,
             ",{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--%s\","
             "\"value\":\"%s\"}",
             b, w->ip[rng_below(r, POOL)]);
        jw_f(j,
             ",{\"type\":\"network-traffic\",\"spec_version\":\"2.1\","
             "\"id\":\"network-traffic--%s\",\"src_ref\":\"ipv4-addr--%s\","
             "\"dst_ref\":\"ipv4-addr--%s\",\"src_port\":%u,\"dst_port\":%u,"
             "\"protocols\":[\"ipv4\",\"tcp\"]}",
             c, a, b, 1024 + rng_below(r, 60000), ports[rng_below(r, CTIX_ARRAY_LEN(ports))]);
    } else if (kind < 5) { /* a DNS resolution */
        jw_f(j, "\"domain-name--%s\",\"ipv4-addr--%s\"]}", a, b);
        jw_f(j,
             ",{\"type\":\"domain-name\",\"spec_version\":\"2.1\",\"id\":\"domain-name--%s\","
             "\"value\":\"%s\",\"resolves_to_refs\":[\"ipv4-addr--%s\"]}",
             a, w->dom[rng_below(r, POOL)], b);
        jw_f(j,
             ",{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--%s\","
             "\"value\":\"%s\"}",
             b, w->ip[rng_below(r, POOL)]);
    } else if (kind < 7) { /* a URL fetched */
        jw_f(j, "\"url--%s\"]}", a);
        jw_f(j, ",{\"type\":\"url\",\"spec_version\":\"2.1\",\"id\":\"url--%s\",\"value\":\"%s\"}",
             a, w->url[rng_below(r, POOL)]);
    } else if (kind < 9) { /* a file seen on a host */
        unsigned i = rng_below(r, POOL);
        jw_f(j, "\"file--%s\"]}", a);
        jw_f(j,
             ",{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--%s\",\"name\":\"%s\","
             "\"size\":%u,\"hashes\":{\"MD5\":\"%s\",\"SHA-256\":\"%s\"}}",
             a, w->fname[i], w->size[i], w->md5[i], w->sha[i]);
    } else if (kind < 10) { /* a process and its image */
        unsigned i = rng_below(r, POOL);
        jw_f(j, "\"process--%s\",\"file--%s\"]}", a, b);
        jw_f(j,
             ",{\"type\":\"process\",\"spec_version\":\"2.1\",\"id\":\"process--%s\","
             "\"pid\":%u,\"command_line\":\"powershell.exe -nop -w hidden -enc %s\","
             "\"image_ref\":\"file--%s\"}",
             a, 100 + rng_below(r, 30000), w->stem[rng_below(r, POOL)], b);
        jw_f(j,
             ",{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--%s\",\"name\":\"%s\","
             "\"hashes\":{\"SHA-256\":\"%s\"}}",
             b, w->fname[i], w->sha[i]);
    } else { /* an e-mail */
        jw_f(j, "\"email-message--%s\",\"email-addr--%s\",\"email-addr--%s\"]}", a, b, c);
        jw_f(j,
             ",{\"type\":\"email-message\",\"spec_version\":\"2.1\","
             "\"id\":\"email-message--%s\",\"is_multipart\":false,\"subject\":\"%s\","
             "\"from_ref\":\"email-addr--%s\",\"to_refs\":[\"email-addr--%s\"]}",
             a, w->subj[rng_below(r, POOL)], b, c);
        jw_f(j,
             ",{\"type\":\"email-addr\",\"spec_version\":\"2.1\",\"id\":\"email-addr--%s\","
             "\"value\":\"%s\"}",
             b, w->email[rng_below(r, POOL)]);
        jw_f(j,
             ",{\"type\":\"email-addr\",\"spec_version\":\"2.1\",\"id\":\"email-addr--%s\","
             "\"value\":\"%s\"}",
             c, w->email[rng_below(r, POOL)]);
    }
}

static void bundle_append(struct jw *j, struct rng *r, const struct world *w, size_t n_obs,
                          int64_t t0, unsigned span)
{
    char id[37];
    size_t i;

    rng_uuid4(r, id);
    jw_f(j, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", id);
    for (i = 0; i < n_obs; i++)
        observation_append(j, r, w, t0, span, i == 0);
    jw_f(j, "]}\n");
}

/* ---- patterns ---- */

enum pkind {
    K_IP,      /* [ipv4-addr:value = ..] */
    K_DOM,     /* [domain-name:value = ..] */
    K_URL,     /* [url:value = ..] */
    K_SHA,     /* [file:hashes.'SHA-256' = ..] */
    K_MD5,     /* [file:hashes.MD5 = ..] */
    K_IN,      /* IN (..) */
    K_LIKE,    /* LIKE */
    K_MATCHES, /* MATCHES */
    K_SUBSET,  /* ISSUBSET */
    K_REF,     /* through *_ref and *_refs */
    K_CAND,    /* AND / OR inside one [ ] */
    K_OBS,     /* observation AND / OR / FOLLOWEDBY, qualifiers */
    K_N
};

static const char *const kind_names[K_N] = {"ipv4",     "domain", "url",    "sha256",
                                            "md5",      "in",     "like",   "matches",
                                            "issubset", "refs",   "and_or", "observation_ops"};

/* Shares in percent. eval: the 10,000 patterns run over one bundle; parse: a feed as ingested
 * (mostly single equalities); index: equality indicators only. */
static const unsigned mix_eval[K_N] = {25, 12, 10, 7, 3, 5, 5, 5, 5, 8, 5, 10};
static const unsigned mix_parse[K_N] = {30, 20, 15, 12, 6, 3, 3, 3, 2, 2, 2, 2};
static const unsigned mix_index[K_N] = {30, 25, 20, 15, 10, 0, 0, 0, 0, 0, 0, 0};

static enum pkind kind_pick(struct rng *r, const unsigned mix[K_N])
{
    unsigned x = rng_below(r, 100);
    unsigned k;

    for (k = 0; k < K_N - 1; k++) {
        if (x < mix[k])
            break;
        x -= mix[k];
    }
    return (enum pkind)k;
}

/* Value pickers: from the world with probability hit (permille), else fresh. w may be NULL. */
struct pick {
    struct rng *r;
    const struct world *w;
    unsigned hit;
};

static bool from_world(struct pick *p, unsigned *i)
{
    if (p->w == NULL || !rng_chance(p->r, p->hit))
        return false;
    *i = rng_below(p->r, POOL);
    return true;
}

static const char *pick_ip(struct pick *p, char out[16])
{
    unsigned i;

    if (from_world(p, &i))
        return p->w->ip[i];
    fresh_ip(p->r, out);
    return out;
}

static const char *pick_lan(struct pick *p, char out[16])
{
    unsigned i;

    if (from_world(p, &i))
        return p->w->lan[i];
    snprintf(out, 16, "10.%u.%u.%u", rng_below(p->r, 4), rng_below(p->r, 256),
             1 + rng_below(p->r, 254));
    return out;
}

static const char *pick_dom(struct pick *p, char out[64])
{
    unsigned i;

    if (from_world(p, &i))
        return p->w->dom[i];
    fresh_dom(p->r, out);
    return out;
}

static const char *pick_url(struct pick *p, char out[128])
{
    unsigned i;

    if (from_world(p, &i))
        return p->w->url[i];
    fresh_url(p->r, out);
    return out;
}

static const char *pick_sha(struct pick *p, char out[65])
{
    unsigned i;

    if (from_world(p, &i))
        return p->w->sha[i];
    rng_hexstr(p->r, 32, out);
    return out;
}

static const char *pick_md5(struct pick *p, char out[33])
{
    unsigned i;

    if (from_world(p, &i))
        return p->w->md5[i];
    rng_hexstr(p->r, 16, out);
    return out;
}

static const char *pick_stem(struct pick *p, char out[16])
{
    unsigned i;

    if (from_world(p, &i))
        return p->w->stem[i];
    rng_word(p->r, out, 16, 4);
    return out;
}

static const char *pick_fname(struct pick *p, char out[24])
{
    unsigned i;
    char stem[16];

    if (from_world(p, &i))
        return p->w->fname[i];
    fresh_fname(p->r, stem, out);
    return out;
}

static const char *pick_email(struct pick *p, char out[96])
{
    unsigned i;
    char word[16], d[64];

    if (from_world(p, &i))
        return p->w->email[i];
    rng_word(p->r, word, sizeof(word), 4);
    fresh_dom(p->r, d);
    snprintf(out, 96, "%s@%s", word, d);
    return out;
}

/* s with every '.' escaped for a regular expression inside a pattern string literal: the regex
 * wants "\.", and the pattern's string literal doubles the backslash. */
static void re_dots(const char *s, char *out, size_t n)
{
    size_t o = 0;

    for (; *s != '\0' && o + 4 < n; s++) {
        if (*s == '.') {
            out[o++] = '\\';
            out[o++] = '\\';
        }
        out[o++] = *s;
    }
    out[o] = '\0';
}

/* The network a.b.0.0/16 or a.b.c.0/24 holding address ip. */
static void net_of(const char *ip, unsigned prefix, char out[24])
{
    unsigned a = 0, b = 0, c = 0, d = 0;

    if (sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
        a = b = c = 0;
    if (prefix == 16)
        snprintf(out, 24, "%u.%u.0.0/16", a, b);
    else
        snprintf(out, 24, "%u.%u.%u.0/24", a, b, c);
}

/* Writes one pattern of kind k into out (PAT_MAX bytes); returns its length. */
static size_t pattern_make(char *out, struct pick *p, enum pkind k)
{
    struct rng *r = p->r;
    char v1[128], v2[128], v3[128], v4[128], v5[128], re[256];
    unsigned var;
    int n = 0;

    switch (k) {
    case K_IP:
        n = snprintf(out, PAT_MAX, "[ipv4-addr:value = '%s']", pick_ip(p, v1));
        break;
    case K_DOM:
        n = snprintf(out, PAT_MAX, "[domain-name:value = '%s']", pick_dom(p, v1));
        break;
    case K_URL:
        n = snprintf(out, PAT_MAX, "[url:value = '%s']", pick_url(p, v1));
        break;
    case K_SHA:
        n = snprintf(out, PAT_MAX, "[file:hashes.'SHA-256' = '%s']", pick_sha(p, v1));
        break;
    case K_MD5:
        n = snprintf(out, PAT_MAX, "[file:hashes.MD5 = '%s']", pick_md5(p, v1));
        break;
    case K_IN:
        if (rng_chance(r, 600)) {
            const char *a = pick_ip(p, v1), *b = pick_ip(p, v2), *c = pick_ip(p, v3);
            if (rng_chance(r, 500))
                n = snprintf(out, PAT_MAX, "[ipv4-addr:value IN ('%s', '%s', '%s')]", a, b, c);
            else
                n = snprintf(out, PAT_MAX, "[ipv4-addr:value IN ('%s', '%s', '%s', '%s', '%s')]", a,
                             b, c, pick_ip(p, v4), pick_ip(p, v5));
        } else {
            const char *a = pick_dom(p, v1), *b = pick_dom(p, v2);
            n = snprintf(out, PAT_MAX, "[domain-name:value IN ('%s', '%s', '%s')]", a, b,
                         pick_dom(p, v3));
        }
        break;
    case K_LIKE:
        var = rng_below(r, 4);
        if (var == 0) {
            const char *d = pick_dom(p, v1);
            n = snprintf(out, PAT_MAX, "[domain-name:value LIKE '%%.%s']", strchr(d, '.') + 1);
        } else if (var == 1) {
            const char *u = pick_url(p, v1);
            const char *host = strstr(u, "://") + 3;
            n = snprintf(out, PAT_MAX, "[url:value LIKE 'http%%://%.*s/%%']",
                         (int)strcspn(host, "/"), host);
        } else if (var == 2) {
            n = snprintf(out, PAT_MAX, "[file:name LIKE '%s.%%']", pick_stem(p, v1));
        } else {
            const char *e = pick_email(p, v1);
            n = snprintf(out, PAT_MAX, "[email-addr:value LIKE '%%@%s']", strchr(e, '@') + 1);
        }
        break;
    case K_MATCHES:
        var = rng_below(r, 3);
        if (var == 0) {
            const char *u = pick_url(p, v1);
            const char *host = strstr(u, "://") + 3;
            snprintf(v2, sizeof(v2), "%.*s", (int)strcspn(host, "/"), host);
            re_dots(v2, re, sizeof(re));
            n = snprintf(out, PAT_MAX, "[url:value MATCHES '^https?://%s/']", re);
        } else if (var == 1) {
            n = snprintf(out, PAT_MAX, "[file:name MATCHES '^%s\\\\.(exe|dll|ps1)$']",
                         pick_stem(p, v1));
        } else {
            n = snprintf(out, PAT_MAX, "[process:command_line MATCHES '-enc %s$']",
                         pick_stem(p, v1));
        }
        break;
    case K_SUBSET:
        if (rng_chance(r, 500)) {
            net_of(pick_ip(p, v1), rng_chance(r, 500) ? 16 : 24, v2);
            n = snprintf(out, PAT_MAX, "[ipv4-addr:value ISSUBSET '%s']", v2);
        } else {
            net_of(pick_ip(p, v1), 24, v2);
            n = snprintf(out, PAT_MAX, "[network-traffic:dst_ref.value ISSUBSET '%s']", v2);
        }
        break;
    case K_REF:
        var = rng_below(r, 6);
        if (var == 0)
            n = snprintf(out, PAT_MAX,
                         "[network-traffic:dst_ref.value = '%s' AND "
                         "network-traffic:dst_port = %u]",
                         pick_ip(p, v1), ports[rng_below(r, CTIX_ARRAY_LEN(ports))]);
        else if (var == 1)
            n = snprintf(out, PAT_MAX, "[network-traffic:src_ref.value = '%s']", pick_lan(p, v1));
        else if (var == 2)
            n = snprintf(out, PAT_MAX, "[email-message:from_ref.value = '%s']", pick_email(p, v1));
        else if (var == 3)
            n = snprintf(out, PAT_MAX, "[domain-name:resolves_to_refs[*].value = '%s']",
                         pick_ip(p, v1));
        else if (var == 4)
            n = snprintf(out, PAT_MAX, "[process:image_ref.name = '%s']", pick_fname(p, v1));
        else
            n = snprintf(out, PAT_MAX, "[email-message:to_refs[*].value = '%s']",
                         pick_email(p, v1));
        break;
    case K_CAND:
        var = rng_below(r, 5);
        if (var == 0) {
            n = snprintf(out, PAT_MAX, "[file:name = '%s' AND file:size > %u]", pick_fname(p, v1),
                         rng_below(r, 2000000));
        } else if (var == 1) {
            const char *m = pick_md5(p, v1);
            n = snprintf(out, PAT_MAX, "[file:hashes.MD5 = '%s' OR file:hashes.'SHA-256' = '%s']",
                         m, pick_sha(p, v2));
        } else if (var == 2) {
            n = snprintf(out, PAT_MAX,
                         "[network-traffic:dst_port = %u AND network-traffic:protocols[*] = "
                         "'tcp' AND network-traffic:dst_ref.value = '%s']",
                         ports[rng_below(r, CTIX_ARRAY_LEN(ports))], pick_ip(p, v1));
        } else if (var == 3) {
            n = snprintf(out, PAT_MAX,
                         "[email-message:subject = 'Invoice %u' OR email-message:from_ref.value = "
                         "'%s']",
                         rng_below(r, 1000000), pick_email(p, v1));
        } else {
            n = snprintf(out, PAT_MAX, "[file:size >= %u AND file:name NOT LIKE '%%.%s']",
                         1000 + rng_below(r, 4000000), exts[rng_below(r, CTIX_ARRAY_LEN(exts))]);
        }
        break;
    default: {
        /* Two values from the world make a match possible at all: hit more often here. */
        struct pick q = {p->r, p->w, p->hit * 3};
        var = rng_below(r, 7);
        if (var == 0) {
            const char *a = pick_ip(&q, v1);
            n = snprintf(out, PAT_MAX, "[ipv4-addr:value = '%s'] AND [domain-name:value = '%s']", a,
                         pick_dom(&q, v2));
        } else if (var == 1) {
            const char *a = pick_dom(&q, v1);
            n = snprintf(out, PAT_MAX, "[domain-name:value = '%s'] FOLLOWEDBY [url:value = '%s']",
                         a, pick_url(&q, v2));
        } else if (var == 2) {
            const char *a = pick_ip(&q, v1);
            const char *b = pick_md5(&q, v2);
            n = snprintf(out, PAT_MAX,
                         "([ipv4-addr:value = '%s'] FOLLOWEDBY [file:hashes.MD5 = '%s']) WITHIN "
                         "%u SECONDS",
                         a, b, 600 + 60 * rng_below(r, 120));
        } else if (var == 3) {
            n = snprintf(out, PAT_MAX, "[ipv4-addr:value = '%s'] REPEATS 2 TIMES", pick_ip(&q, v1));
        } else if (var == 4) {
            int64_t start = T0 + 3600 * (int64_t)rng_below(r, 24);
            ts_sec(start, v2);
            ts_sec(start + 3600 * (int64_t)(1 + rng_below(r, 6)), v3);
            n = snprintf(out, PAT_MAX, "[file:name = '%s'] START t'%s' STOP t'%s'",
                         pick_fname(&q, v1), v2, v3);
        } else if (var == 5) {
            const char *a = pick_url(&q, v1);
            n = snprintf(out, PAT_MAX, "[url:value = '%s'] OR [file:hashes.'SHA-256' = '%s']", a,
                         pick_sha(&q, v2));
        } else {
            const char *a = pick_ip(&q, v1);
            const char *b = pick_dom(&q, v2);
            n = snprintf(out, PAT_MAX,
                         "([network-traffic:dst_ref.value = '%s'] AND [domain-name:value = "
                         "'%s']) WITHIN %u SECONDS",
                         a, b, 600 + 60 * rng_below(r, 120));
        }
        break;
    }
    }
    return n > 0 && n < PAT_MAX ? (size_t)n : 0;
}

/* n distinct patterns of the mix into text (NUL-separated), their offsets, lengths and kinds. */
struct patset {
    struct buf text;
    size_t *off, *len;
    unsigned char *kind;
    size_t n;
};

static void patset_cleanup(struct patset *ps)
{
    buf_cleanup(&ps->text);
    free(ps->off);
    free(ps->len);
    free(ps->kind);
    memset(ps, 0, sizeof(*ps));
}

static enum ctix_rc patset_gen(struct patset *ps, size_t n, struct rng *r, const struct world *w,
                               unsigned hit, const unsigned mix[K_N])
{
    struct pick p = {r, w, hit};
    struct seen seen = {NULL, 0};
    char pat[PAT_MAX];
    enum ctix_rc rc = CTIX_ENOMEM;
    size_t tries = 0;

    memset(ps, 0, sizeof(*ps));
    buf_init(&ps->text, GEN_TEXT);
    ps->off = malloc(n * sizeof(*ps->off));
    ps->len = malloc(n * sizeof(*ps->len));
    ps->kind = malloc(n);
    if (ps->off == NULL || ps->len == NULL || ps->kind == NULL || !seen_init(&seen, n))
        goto out;
    rc = buf_grow(&ps->text, n * 80);
    while (rc == CTIX_OK && ps->n < n) {
        enum pkind k = kind_pick(r, mix);
        size_t len = pattern_make(pat, &p, k);
        if (len == 0 || !seen_add(&seen, pat, len)) {
            /* A pool of 24 values per kind runs dry of distinct patterns long before 10,000:
             * misses then come from fresh values, so only bound the loop. */
            if (++tries > 100 * n)
                rc = CTIX_EINVAL;
            continue;
        }
        ps->off[ps->n] = ps->text.len;
        ps->len[ps->n] = len;
        ps->kind[ps->n] = (unsigned char)k;
        rc = buf_append(&ps->text, pat, len + 1);
        ps->n++;
    }
out:
    free(seen.slot);
    if (rc != CTIX_OK)
        patset_cleanup(ps);
    return rc;
}

static const char *patset_at(const struct patset *ps, size_t i)
{
    return ps->text.data + ps->off[i];
}

/* ---- options ---- */

struct opts {
    const char *dir;
    uint64_t seed, n, runs, patterns, bundles, per_bundle;
};

static bool opts_parse(int argc, char **argv, struct opts *o)
{
    bool ok = true;
    const char *k = "";
    int i;

    for (i = 2; i < argc && ok; i++) {
        k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            ok = false;
        else if (strcmp(k, "--dir") == 0)
            o->dir = v;
        else if (strcmp(k, "--seed") == 0)
            ok = ctix_parse_u64(v, UINT64_MAX, &o->seed);
        else if (strcmp(k, "--n") == 0)
            ok = ctix_parse_u64(v, 20000000, &o->n) && o->n > 0;
        else if (strcmp(k, "--runs") == 0)
            ok = ctix_parse_u64(v, MAX_RUNS, &o->runs) && o->runs > 0;
        else if (strcmp(k, "--patterns") == 0)
            ok = ctix_parse_u64(v, 10000000, &o->patterns) && o->patterns > 0;
        else if (strcmp(k, "--bundles") == 0)
            ok = ctix_parse_u64(v, 1000000, &o->bundles) && o->bundles > 0;
        else if (strcmp(k, "--per-bundle") == 0)
            ok = ctix_parse_u64(v, 10000, &o->per_bundle) && o->per_bundle > 0;
        else
            ok = false;
        i++;
    }
    if (!ok)
        fprintf(stderr, "pattern: bad or incomplete option '%s'\n", k);
    return ok;
}

static bool file_write(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4096];
    FILE *fp;
    size_t wrote;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    if (fp == NULL) {
        fprintf(stderr, "pattern: cannot write %s\n", path);
        return false;
    }
    wrote = fwrite(data, 1, len, fp);
    if (fclose(fp) != 0 || wrote != len) {
        fprintf(stderr, "pattern: short write on %s\n", path);
        return false;
    }
    return true;
}

static char *file_load(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    char *data = NULL;
    struct ctix_diag d = {{0}, {0}, 0, 0};

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (ctix_file_read(path, FILE_MAX, &data, len, &d) != CTIX_OK) {
        fprintf(stderr, "pattern: cannot read %s: %s (run `pattern gen` first)\n", path, d.msg);
        return NULL;
    }
    return data;
}

/* Splits text in place at '\n' into lines (empty lines skipped). *lines is malloc'd. */
static size_t lines_split(char *text, size_t len, char ***lines)
{
    size_t n = 0, cap = 1024, i;
    char **v = malloc(cap * sizeof(*v));
    char *start = text;

    for (i = 0; v != NULL && i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        text[i] = '\0';
        if (text + i > start) {
            if (n == cap) {
                char **nv = realloc(v, 2 * cap * sizeof(*v));
                if (nv == NULL) {
                    free(v);
                    v = NULL;
                    break;
                }
                v = nv;
                cap *= 2;
            }
            v[n++] = start;
        }
        start = text + i + 1;
    }
    *lines = v;
    return v != NULL ? n : 0;
}

/* ---- gen ---- */

/* The one pattern run over the 1,000 bundles: a connection to the campaign's /24 on 443 followed
 * within 15 minutes by an invoice executable or one known file. */
static void pattern1_make(const struct world *w, char *out, size_t n)
{
    snprintf(out, n,
             "([network-traffic:dst_ref.value ISSUBSET '" CAMPAIGN ".0/24' AND "
             "network-traffic:dst_port = 443] FOLLOWEDBY [file:name MATCHES "
             "'^invoice_[0-9]+\\\\.exe$' OR file:hashes.'SHA-256' = '%s']) WITHIN 900 SECONDS\n",
             w->sha[10]);
}

static int cmd_gen(const struct opts *o)
{
    struct rng r = {o->seed * 0x100000001b3ULL + 11};
    struct world w1, w2;
    struct patset ps = {{NULL, 0, 0, 0}, NULL, NULL, NULL, 0};
    struct buf b;
    struct jw j = {&b, CTIX_OK};
    char p1[PAT_MAX];
    size_t i;
    int ret = 1;

    buf_init(&b, FILE_MAX);
    if (mkdir(o->dir, 0755) != 0) {
        struct stat st;
        if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "pattern: cannot create %s\n", o->dir);
            goto out;
        }
    }
    world_init(&w1, &r, false);
    world_init(&w2, &r, true);

    /* One bundle of 40 observed-data over one day. */
    bundle_append(&j, &r, &w1, 40, T0, 86400);
    if (j.rc != CTIX_OK || !file_write(o->dir, "bundle.json", b.data, b.len))
        goto out;

    /* 10,000 distinct patterns, 12 % of their values taken from the bundle's world. */
    if (patset_gen(&ps, o->patterns, &r, &w1, 120, mix_eval) != CTIX_OK) {
        fprintf(stderr, "pattern: cannot generate %llu distinct patterns\n",
                (unsigned long long)o->patterns);
        goto out;
    }
    buf_reset(&b);
    for (i = 0; i < ps.n && j.rc == CTIX_OK; i++)
        jw_f(&j, "%s\n", patset_at(&ps, i));
    if (j.rc != CTIX_OK || !file_write(o->dir, "patterns.txt", b.data, b.len))
        goto out;

    /* 1,000 bundles of 8 observed-data each over two hours, and the one pattern. */
    buf_reset(&b);
    for (i = 0; i < o->bundles; i++)
        bundle_append(&j, &r, &w2, o->per_bundle, T0, 7200);
    if (j.rc != CTIX_OK || !file_write(o->dir, "bundles.jsonl", b.data, b.len))
        goto out;
    pattern1_make(&w2, p1, sizeof(p1));
    if (!file_write(o->dir, "pattern1.txt", p1, strlen(p1)))
        goto out;
    printf("gen dir=%s patterns=%zu bundles=%llu\n", o->dir, ps.n, (unsigned long long)o->bundles);
    ret = 0;
out:
    if (j.rc != CTIX_OK)
        fprintf(stderr, "pattern: generation failed: %s\n", ctix_strerror(j.rc));
    patset_cleanup(&ps);
    buf_cleanup(&b);
    return ret;
}

/* ---- match ---- */

static char result_char(enum ctix_rc rc, bool matched)
{
    if (rc == CTIX_ETOOBIG)
        return 'B';
    if (rc != CTIX_OK)
        return 'E';
    return matched ? '1' : '0';
}

/* Builds the observations of one bundle's text for pattern p (NULL: any pattern). */
static enum ctix_rc obs_load(const char *text, size_t len, const struct pattern *p,
                             struct pattern_obs **o, struct ctix_diag *d)
{
    return pattern_obs_new_text(text, len, p, o, d);
}

/* The same the jansson way (stix_json_parse + pattern_obs_new), to check the answers. */
static enum ctix_rc obs_load_json(const char *text, size_t len, struct pattern_obs **o,
                                  struct ctix_diag *d)
{
    json_t *bundle = NULL;
    json_t *objects;
    enum ctix_rc rc = stix_json_parse(text, len, &bundle, d);

    if (rc != CTIX_OK)
        goto out;
    objects = json_object_get(bundle, "objects");
    if (!json_is_array(objects)) {
        ctix_diag_set(d, "bundle", "no objects array");
        rc = CTIX_EINVAL;
        goto out;
    }
    rc = pattern_obs_new(objects, o, d);
out:
    json_decref(bundle); /* the observations hold their own references */
    return rc;
}

/* parse + eval of one pattern text over o; the result character. */
static char eval_one(const char *text, size_t len, const struct pattern_obs *o, unsigned flags,
                     struct ctix_diag *d)
{
    struct pattern *p = NULL;
    struct pattern_result res = {false, NULL, 0};
    enum ctix_rc rc = pattern_parse(text, len, flags, &p, d);
    char c;

    if (rc == CTIX_OK)
        rc = pattern_eval(p, o, &res, d);
    c = result_char(rc, res.matched);
    pattern_result_cleanup(&res);
    pattern_free(p);
    return c;
}

/* The first few failures, to stderr, so that a bench never hides errors. */
static void failure_note(unsigned *shown, const char *what, size_t i, const char *text,
                         const struct ctix_diag *d)
{
    if (*shown >= 5)
        return;
    (*shown)++;
    fprintf(stderr, "pattern: %s %zu failed: %s (%u:%u) in %.200s\n", what, i, d->msg, d->line,
            d->col, text);
}

/* (2) on both cores: two threads take bundles from one shared counter, SHARE at a time, so the
 * faster core (the two vCPUs of this machine are seldom equally loaded) takes more of them, as a
 * node evaluating a stream of bundles would. One parsed pattern is shared (a parsed pattern is
 * read-only); each thread builds its own observations. The reference matcher is single-threaded
 * Python, so this is the answer a node gives with the machine it has; the one-thread figure above
 * stays the like-for-like one. */
#define SHARE 8

struct share {
    const struct pattern *pat;
    char **buns;
    const size_t *blens;
    size_t n;
    atomic_size_t next;
    char *res;
};

static void *share_run(void *arg)
{
    struct share *sh = arg;
    struct ctix_diag d = {{0}, {0}, 0, 0};

    for (;;) {
        size_t from = atomic_fetch_add(&sh->next, SHARE), to;

        if (from >= sh->n)
            break;
        to = from + SHARE < sh->n ? from + SHARE : sh->n;
        for (size_t i = from; i < to; i++) {
            struct pattern_obs *obs = NULL;
            struct pattern_result res = {false, NULL, 0};
            enum ctix_rc rc = pattern_obs_new_text(sh->buns[i], sh->blens[i], sh->pat, &obs, &d);

            if (rc == CTIX_OK) {
                rc = pattern_eval(sh->pat, obs, &res, &d);
                pattern_obs_free(obs);
            }
            sh->res[i] = result_char(rc, res.matched);
            pattern_result_cleanup(&res);
        }
    }
    return NULL;
}

/* The second thread is started once, before the runs, and waits at a barrier between them, as a
 * node's worker threads outlive any one request: a run then times the bundles, not a thread's
 * start and its first touches of a fresh malloc arena. */
struct pool {
    pthread_t t;
    pthread_barrier_t go, done;
    struct share *sh; /* NULL: quit */
    bool two;
};

static void *pool_worker(void *arg)
{
    struct pool *pl = arg;

    for (;;) {
        pthread_barrier_wait(&pl->go);
        if (pl->sh == NULL)
            return NULL;
        share_run(pl->sh);
        pthread_barrier_wait(&pl->done);
    }
}

static void pool_start(struct pool *pl)
{
    pl->sh = NULL;
    pl->two = pthread_barrier_init(&pl->go, NULL, 2) == 0;
    if (pl->two && pthread_barrier_init(&pl->done, NULL, 2) != 0) {
        pthread_barrier_destroy(&pl->go);
        pl->two = false;
    }
    if (pl->two && pthread_create(&pl->t, NULL, pool_worker, pl) != 0) {
        pthread_barrier_destroy(&pl->go);
        pthread_barrier_destroy(&pl->done);
        pl->two = false;
    }
}

static void pool_stop(struct pool *pl)
{
    if (!pl->two)
        return;
    pl->sh = NULL;
    pthread_barrier_wait(&pl->go);
    pthread_join(pl->t, NULL);
    pthread_barrier_destroy(&pl->go);
    pthread_barrier_destroy(&pl->done);
    pl->two = false;
}

/* Seconds for every bundle over the pool's two threads (one when it has none), answers into res
 * (as the one-thread loop's). */
static double bundles_two_threads(struct pool *pl, const char *p1, size_t p1len, char **buns,
                                  const size_t *blens, size_t n_bun, char *res)
{
    struct ctix_diag d = {{0}, {0}, 0, 0};
    struct pattern *pat1 = NULL;
    struct share sh;
    double t = now_s();

    if (pattern_parse(p1, p1len, PATTERN_STRICT, &pat1, &d) != CTIX_OK)
        return -1;
    sh.pat = pat1;
    sh.buns = buns;
    sh.blens = blens;
    sh.n = n_bun;
    atomic_init(&sh.next, 0);
    sh.res = res;
    if (pl->two) {
        pl->sh = &sh;
        pthread_barrier_wait(&pl->go);
    }
    share_run(&sh);
    if (pl->two)
        pthread_barrier_wait(&pl->done);
    pattern_free(pat1);
    return now_s() - t;
}

/* Where the time goes: the work of `match` again in stages, --runs times each, medians, outside
 * the figures. json = pattern__json_scan alone (the bundle's text into a value tree, freed);
 * obs = what the rest of pattern_obs_new_text and pattern_obs_free add to that; eval =
 * pattern_eval alone; parse = pattern_parse alone. jansson_* are the old way for comparison:
 * stix_json_parse + freeing, and pattern_obs_new over those values + pattern_obs_free. */
static void breakdown(const struct opts *o, char **buns, size_t n_bun, double bytes_per_bundle,
                      const char *p1, size_t p1len, char **pats, size_t n_pat)
{
    double tj[MAX_RUNS], to[MAX_RUNS], te[MAX_RUNS], tpp[MAX_RUNS], tjj[MAX_RUNS], tjo[MAX_RUNS];
    struct ctix_diag d = {{0}, {0}, 0, 0};
    struct pattern *pat1 = NULL;
    uint64_t run;
    size_t i;

    if (pattern_parse(p1, p1len, PATTERN_STRICT, &pat1, &d) != CTIX_OK)
        return;
    for (run = 0; run < o->runs; run++) {
        double t = now_s();
        for (i = 0; i < n_bun; i++) {
            struct arena a;
            const struct pval *root = NULL;
            arena_init(&a);
            if (pattern__json_scan(&a, buns[i], strlen(buns[i]), &root, &d) != CTIX_OK)
                fprintf(stderr, "pattern: bundle %zu: %s\n", i + 1, d.msg);
            arena_cleanup(&a);
        }
        tj[run] = now_s() - t;
        t = now_s();
        for (i = 0; i < n_bun; i++) {
            struct pattern_obs *obs = NULL;
            if (obs_load(buns[i], strlen(buns[i]), pat1, &obs, &d) == CTIX_OK)
                pattern_obs_free(obs);
        }
        to[run] = now_s() - t - tj[run];
        te[run] = 0;
        for (i = 0; i < n_bun; i++) {
            struct pattern_obs *obs = NULL;
            struct pattern_result res = {false, NULL, 0};
            if (obs_load(buns[i], strlen(buns[i]), pat1, &obs, &d) != CTIX_OK)
                continue;
            t = now_s();
            if (pattern_eval(pat1, obs, &res, &d) == CTIX_OK)
                pattern_result_cleanup(&res);
            te[run] += now_s() - t;
            pattern_obs_free(obs);
        }
        t = now_s();
        for (i = 0; i < n_bun; i++) {
            json_t *j = NULL;
            if (stix_json_parse(buns[i], strlen(buns[i]), &j, &d) == CTIX_OK)
                json_decref(j);
        }
        tjj[run] = now_s() - t;
        t = now_s();
        for (i = 0; i < n_bun; i++) {
            struct pattern_obs *obs = NULL;
            if (obs_load_json(buns[i], strlen(buns[i]), &obs, &d) == CTIX_OK)
                pattern_obs_free(obs);
        }
        tjo[run] = now_s() - t - tjj[run];
        t = now_s();
        for (i = 0; i < n_pat; i++) {
            struct pattern *p = NULL;
            if (pattern_parse(pats[i], strlen(pats[i]), PATTERN_STRICT, &p, &d) == CTIX_OK)
                pattern_free(p);
        }
        tpp[run] = now_s() - t;
    }
    pattern_free(pat1);
    printf("eval_bundles breakdown json_parse_s=%.4f obs_new_s=%.4f eval_s=%.4f "
           "bytes_per_bundle=%.0f jansson_parse_s=%.4f jansson_obs_new_s=%.4f\n",
           median(tj, o->runs), median(to, o->runs), median(te, o->runs), bytes_per_bundle,
           median(tjj, o->runs), median(tjo, o->runs));
    printf("eval_patterns breakdown parse_s=%.4f (the rest is pattern_eval and the bundle's "
           "load)\n",
           median(tpp, o->runs));
}

/* Each bundle's answer through stix_json_parse + pattern_obs_new against res_b; the number of
 * differences (the first few on stderr). */
static size_t json_path_check(char **buns, size_t n_bun, const char *p1, size_t p1len,
                              const char *res_b)
{
    struct ctix_diag d = {{0}, {0}, 0, 0};
    struct pattern *pat1 = NULL;
    size_t diff = 0;

    if (pattern_parse(p1, p1len, PATTERN_STRICT, &pat1, &d) != CTIX_OK)
        return n_bun;
    for (size_t i = 0; i < n_bun; i++) {
        struct pattern_obs *obs = NULL;
        struct pattern_result res = {false, NULL, 0};
        enum ctix_rc rc = obs_load_json(buns[i], strlen(buns[i]), &obs, &d);
        char c;

        if (rc == CTIX_OK) {
            rc = pattern_eval(pat1, obs, &res, &d);
            pattern_obs_free(obs);
        }
        c = result_char(rc, res.matched);
        pattern_result_cleanup(&res);
        if (c != res_b[i] && diff++ < 5)
            fprintf(stderr, "pattern: bundle %zu: text path %c, jansson path %c\n", i + 1, res_b[i],
                    c);
    }
    pattern_free(pat1);
    return diff;
}

static int cmd_match(const struct opts *o)
{
    char *btext = NULL, *ptext = NULL, *bstext = NULL, *p1 = NULL;
    size_t blen = 0, plen = 0, bslen = 0, p1len = 0, n_pat = 0, n_bun = 0, i;
    char **pats = NULL, **buns = NULL;
    char *res_p = NULL, *res_b = NULL;
    size_t *blens = NULL; /* each bundle's length: the texts are in memory, as Python's are */
    double tp[MAX_RUNS], tb[MAX_RUNS], cp[MAX_RUNS], cb[MAX_RUNS], tb2[MAX_RUNS];
    char *res_b2 = NULL;
    size_t diff2 = 0;
    struct pool pool = {.two = false};
    size_t matched_p = 0, matched_b = 0, err_p = 0, err_b = 0;
    struct ctix_diag d = {{0}, {0}, 0, 0};
    unsigned shown = 0;
    uint64_t run;
    int ret = 1;

    btext = file_load(o->dir, "bundle.json", &blen);
    ptext = file_load(o->dir, "patterns.txt", &plen);
    bstext = file_load(o->dir, "bundles.jsonl", &bslen);
    p1 = file_load(o->dir, "pattern1.txt", &p1len);
    if (btext == NULL || ptext == NULL || bstext == NULL || p1 == NULL)
        goto out;
    while (p1len > 0 && (p1[p1len - 1] == '\n' || p1[p1len - 1] == '\r'))
        p1[--p1len] = '\0';
    n_pat = lines_split(ptext, plen, &pats);
    n_bun = lines_split(bstext, bslen, &buns);
    blens = malloc((n_bun + 1) * sizeof(*blens));
    for (i = 0; blens != NULL && i < n_bun; i++)
        blens[i] = strlen(buns[i]);
    res_p = calloc(n_pat + 1, 1);
    res_b = calloc(n_bun + 1, 1);
    res_b2 = calloc(n_bun + 1, 1);
    if (res_b2 == NULL || pats == NULL || buns == NULL || res_p == NULL || res_b == NULL ||
        blens == NULL || n_pat == 0 || n_bun == 0) {
        fprintf(stderr, "pattern: empty or unreadable workload in %s\n", o->dir);
        goto out;
    }

    pool_start(&pool);
    for (run = 0; run < o->runs; run++) {
        struct pattern_obs *obs = NULL;
        struct pattern *pat1 = NULL;
        double t = now_s(), c = cpu_s();

        /* (1) one bundle, every pattern: the bundle's JSON and observations once, then each
         * pattern parsed (strict) and evaluated. */
        if (obs_load(btext, blen, NULL, &obs, &d) != CTIX_OK) {
            fprintf(stderr, "pattern: bundle.json: %s (%s)\n", d.msg, d.where);
            goto out;
        }
        for (i = 0; i < n_pat; i++)
            res_p[i] = eval_one(pats[i], strlen(pats[i]), obs, PATTERN_STRICT, &d);
        pattern_obs_free(obs);
        tp[run] = now_s() - t;
        cp[run] = cpu_s() - c;

        /* (2) one pattern, every bundle: JSON parse + observations + eval of each. */
        t = now_s();
        c = cpu_s();
        if (pattern_parse(p1, p1len, PATTERN_STRICT, &pat1, &d) != CTIX_OK) {
            fprintf(stderr, "pattern: pattern1.txt: %s (%u:%u)\n", d.msg, d.line, d.col);
            goto out;
        }
        for (i = 0; i < n_bun; i++) {
            struct pattern_result res = {false, NULL, 0};
            enum ctix_rc rc = obs_load(buns[i], blens[i], pat1, &obs, &d);
            if (rc == CTIX_OK) {
                rc = pattern_eval(pat1, obs, &res, &d);
                pattern_obs_free(obs);
            }
            res_b[i] = result_char(rc, res.matched);
            pattern_result_cleanup(&res);
        }
        pattern_free(pat1);
        tb[run] = now_s() - t;
        cb[run] = cpu_s() - c;
        printf("eval_patterns run=%llu seconds=%.4f cpu_seconds=%.4f\n",
               (unsigned long long)run + 1, tp[run], cp[run]);
        printf("eval_bundles run=%llu seconds=%.4f cpu_seconds=%.4f\n", (unsigned long long)run + 1,
               tb[run], cb[run]);
        tb2[run] = bundles_two_threads(&pool, p1, p1len, buns, blens, n_bun, res_b2);
        printf("eval_bundles_2threads run=%llu seconds=%.4f\n", (unsigned long long)run + 1,
               tb2[run]);
    }
    pool_stop(&pool);
    /* Two threads must give exactly the one-thread answers. */
    for (i = 0; i < n_bun; i++)
        diff2 += res_b2[i] != res_b[i];

    breakdown(o, buns, n_bun, (double)bslen / (double)n_bun, p1, p1len, pats, n_pat);

    /* Errors are reported once, outside the clock. */
    for (i = 0; i < n_pat; i++) {
        matched_p += res_p[i] == '1';
        if (res_p[i] == 'E' || res_p[i] == 'B') {
            struct pattern_obs *obs = NULL;
            err_p++;
            if (obs_load(btext, blen, NULL, &obs, &d) == CTIX_OK) {
                (void)eval_one(pats[i], strlen(pats[i]), obs, PATTERN_STRICT, &d);
                failure_note(&shown, "pattern", i + 1, pats[i], &d);
            }
            pattern_obs_free(obs);
        }
    }
    for (i = 0; i < n_bun; i++) {
        matched_b += res_b[i] == '1';
        err_b += res_b[i] == 'E' || res_b[i] == 'B';
    }
    {
        /* A difference from the jansson path counts as an error: the bench must not be fast by
         * being wrong. */
        size_t diff = json_path_check(buns, n_bun, p1, p1len, res_b);
        printf("eval_bundles jansson_path_disagree=%zu\n", diff);
        err_b += diff;
    }
    {
        double tpm = median(tp, o->runs), tbm = median(tb, o->runs);
        printf("eval_patterns median_seconds=%.4f patterns=%zu matched=%zu errors=%zu "
               "us_per_pattern=%.2f\n",
               tpm, n_pat, matched_p, err_p, tpm * 1e6 / (double)n_pat);
        printf("eval_bundles median_seconds=%.4f bundles=%zu matched=%zu errors=%zu "
               "us_per_bundle=%.2f\n",
               tbm, n_bun, matched_b, err_b, tbm * 1e6 / (double)n_bun);
        printf("eval_bundles_2threads median_seconds=%.4f bundles=%zu errors=%zu "
               "us_per_bundle=%.2f\n",
               median(tb2, o->runs), n_bun, diff2, median(tb2, o->runs) * 1e6 / (double)n_bun);
    }
    {
        struct buf b;
        struct jw j = {&b, CTIX_OK};
        bool ok;
        buf_init(&b, FILE_MAX);
        for (i = 0; i < n_pat; i++)
            jw_f(&j, "%c\n", res_p[i]);
        ok = j.rc == CTIX_OK && file_write(o->dir, "c-patterns.res", b.data, b.len);
        buf_reset(&b);
        for (i = 0; i < n_bun && ok; i++)
            jw_f(&j, "%c\n", res_b[i]);
        ok = ok && j.rc == CTIX_OK && file_write(o->dir, "c-bundles.res", b.data, b.len);
        buf_cleanup(&b);
        if (!ok)
            goto out;
    }
    ret = 0;
out:
    pool_stop(&pool);
    free(pats);
    free(buns);
    free(res_p);
    free(res_b);
    free(res_b2);
    free(blens);
    free(btext);
    free(ptext);
    free(bstext);
    free(p1);
    return ret;
}

/* ---- parse: 1,000,000 patterns, strict ---- */

static int cmd_parse(const struct opts *o)
{
    struct rng r = {o->seed * 0x100000001b3ULL + 23};
    struct patset ps = {{NULL, 0, 0, 0}, NULL, NULL, NULL, 0};
    double t[MAX_RUNS], c[MAX_RUNS], kt[K_N] = {0};
    size_t kn[K_N] = {0};
    struct ctix_diag d = {{0}, {0}, 0, 0};
    size_t errors = 0, i, mem = 0;
    unsigned shown = 0;
    uint64_t run;
    double tg = now_s(), m, ksum = 0;
    int ret = 1;

    if (patset_gen(&ps, o->n, &r, NULL, 0, mix_parse) != CTIX_OK) {
        fprintf(stderr, "pattern: cannot generate %llu patterns\n", (unsigned long long)o->n);
        goto out;
    }
    printf("parse generated=%zu text_bytes=%zu gen_seconds=%.2f rss_kb=%lu\n", ps.n, ps.text.len,
           now_s() - tg, status_kb("VmRSS"));
    for (run = 0; run < o->runs; run++) {
        double t0 = now_s(), c0 = cpu_s();
        errors = 0;
        for (i = 0; i < ps.n; i++) {
            struct pattern *p = NULL;
            if (pattern_parse(patset_at(&ps, i), ps.len[i], PATTERN_STRICT, &p, &d) != CTIX_OK) {
                errors++;
                failure_note(&shown, "pattern", i + 1, patset_at(&ps, i), &d);
                continue;
            }
            if (run == 0)
                mem += pattern_mem(p);
            pattern_free(p);
        }
        t[run] = now_s() - t0;
        c[run] = cpu_s() - c0;
        printf("parse run=%llu seconds=%.3f cpu_seconds=%.3f patterns_per_s=%.0f errors=%zu\n",
               (unsigned long long)run + 1, t[run], c[run], (double)ps.n / t[run], errors);
    }
    /* Where the time goes, by kind: each kind's patterns alone (one more pass, untimed above). */
    for (i = 0; i < ps.n; i++) {
        struct pattern *p = NULL;
        double t0 = now_s();
        if (pattern_parse(patset_at(&ps, i), ps.len[i], PATTERN_STRICT, &p, &d) == CTIX_OK)
            pattern_free(p);
        kt[ps.kind[i]] += now_s() - t0;
        kn[ps.kind[i]]++;
    }
    for (i = 0; i < K_N; i++)
        ksum += kt[i];
    for (i = 0; i < K_N; i++) {
        if (kn[i] > 0)
            printf("parse kind=%s patterns=%zu us_per_pattern=%.3f share_of_time=%.1f%%\n",
                   kind_names[i], kn[i], kt[i] * 1e6 / (double)kn[i],
                   100.0 * kt[i] / (ksum > 0 ? ksum : 1));
    }
    m = median(t, o->runs);
    printf("parse median_seconds=%.3f median_cpu_seconds=%.3f patterns=%zu patterns_per_s=%.0f "
           "mb_per_s=%.1f avg_pattern_mem=%.0f errors=%zu peak_rss_kb=%lu\n",
           m, median(c, o->runs), ps.n, (double)ps.n / m, (double)ps.text.len / m / 1e6,
           (double)mem / (double)ps.n, errors, status_kb("VmHWM"));
    ret = errors == 0 ? 0 : 1;
out:
    patset_cleanup(&ps);
    return ret;
}

/* ---- index: 1,000,000 equality indicators ---- */

struct hits {
    uint32_t want;
    size_t n, found;
};

static int hit_count(uint32_t tag, void *arg)
{
    struct hits *h = arg;

    h->n++;
    h->found += tag == h->want;
    return 0;
}

/* The property path and value an equality pattern of the generator names, for lookups:
 * "[ipv4-addr:value = 'v']" gives "ipv4-addr:value" and v. */
static bool eq_split(const char *pat, char *path, size_t pn, const char **val, size_t *vlen)
{
    const char *eq = strstr(pat, " = '");
    const char *end;
    size_t o = 0;
    const char *s;

    if (eq == NULL || pat[0] != '[')
        return false;
    for (s = pat + 1; s < eq && o + 1 < pn; s++) {
        if (*s != '\'')
            path[o++] = *s;
    }
    path[o] = '\0';
    *val = eq + 4;
    end = strchr(*val, '\'');
    if (end == NULL)
        return false;
    *vlen = (size_t)(end - *val);
    return true;
}

static int cmd_index(const struct opts *o)
{
    struct rng r = {o->seed * 0x100000001b3ULL + 37};
    struct patset ps = {{NULL, 0, 0, 0}, NULL, NULL, NULL, 0};
    struct pattern_index *ix = NULL;
    struct pattern_index_stats st;
    struct ctix_diag d = {{0}, {0}, 0, 0};
    size_t errors = 0, i, bad_lookups = 0, n_look = 0;
    unsigned long rss0, hwm0;
    unsigned shown = 0;
    double t, c, tl, tf;
    int ret = 1;

    if (patset_gen(&ps, o->n, &r, NULL, 0, mix_index) != CTIX_OK) {
        fprintf(stderr, "pattern: cannot generate %llu patterns\n", (unsigned long long)o->n);
        goto out;
    }
    rss0 = status_kb("VmRSS");
    hwm0 = status_kb("VmHWM");
    t = now_s();
    c = cpu_s();
    ix = pattern_index_new();
    if (ix == NULL)
        goto out;
    for (i = 0; i < ps.n; i++) {
        if (pattern_index_add_text(ix, patset_at(&ps, i), ps.len[i], (uint32_t)i, &d) != CTIX_OK) {
            errors++;
            failure_note(&shown, "indicator", i + 1, patset_at(&ps, i), &d);
        }
    }
    t = now_s() - t;
    c = cpu_s() - c;
    pattern_index_stats(ix, &st);
    printf("index seconds=%.3f cpu_seconds=%.3f patterns=%zu patterns_per_s=%.0f errors=%zu "
           "n_lookup=%zu n_eval=%zu n_keys=%zu index_mem_mb=%.1f text_mb=%.1f "
           "rss_before_kb=%lu hwm_before_kb=%lu rss_after_kb=%lu peak_rss_kb=%lu\n",
           t, c, ps.n, (double)ps.n / t, errors, st.n_patterns > 0 ? st.n_lookup : 0, st.n_eval,
           st.n_keys, (double)st.mem / 1e6, (double)ps.text.len / 1e6, rss0, hwm0,
           status_kb("VmRSS"), status_kb("VmHWM"));

    /* Every 10th indicator looked up by its own (path, value): it must be found. */
    tl = now_s();
    for (i = 0; i < ps.n; i += 10) {
        char path[64];
        const char *val;
        size_t vlen;
        struct hits h = {(uint32_t)i, 0, 0};
        if (!eq_split(patset_at(&ps, i), path, sizeof(path), &val, &vlen))
            continue;
        (void)pattern_index_lookup(ix, path, val, vlen, hit_count, &h);
        n_look++;
        bad_lookups += h.found != 1;
    }
    tl = now_s() - tl;
    tf = now_s();
    pattern_index_free(ix);
    ix = NULL;
    tf = now_s() - tf;
    printf("index lookups=%zu not_found=%zu lookups_per_s=%.0f free_seconds=%.3f\n", n_look,
           bad_lookups, (double)n_look / (tl > 0 ? tl : 1e-9), tf);
    ret = errors == 0 && bad_lookups == 0 ? 0 : 1;
out:
    pattern_index_free(ix);
    patset_cleanup(&ps);
    return ret;
}

int main(int argc, char **argv)
{
    struct opts o = {"build/bench-data/pattern", 1, 1000000, 1, 10000, 1000, 8};
    const char *cmd = argc > 1 ? argv[1] : "";

    if (!opts_parse(argc, argv, &o))
        return 2;
    if (strcmp(cmd, "gen") == 0)
        return cmd_gen(&o);
    if (strcmp(cmd, "match") == 0)
        return cmd_match(&o);
    if (strcmp(cmd, "parse") == 0)
        return cmd_parse(&o);
    if (strcmp(cmd, "index") == 0)
        return cmd_index(&o);
    fprintf(stderr, "usage: pattern gen|match|parse|index [--dir D] [--seed S] [--n N] "
                    "[--runs R] [--patterns N] [--bundles N] [--per-bundle N]\n");
    return 2;
}
