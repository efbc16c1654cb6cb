/* bench/ingest: generates realistic STIX 2.1 indicators and either POSTs them to a running ctix as
 * TAXII envelopes over N concurrent keep-alive connections (libcurl), or writes them as bundle
 * files for `ctix import`. Every envelope's status resource must say success_count == per-envelope
 * count.
 *
 *   ingest post --url http://127.0.0.1:P/api/collections/ID/objects/ --token T
 *               [--conns 1] [--envelopes 100] [--per 1000] [--seed 1]
 *   ingest gen --dir DIR [--files 100] [--per 10000] [--seed 1]
 *
 * `post` prints one line "conns=N objects=N seconds=S objects_per_s=R ok=K/N" and exits 1 when any
 * envelope did not fully succeed. The bodies are built before the clock starts, so the figure is
 * the server's ingest rate, not this generator's. Generation is deterministic for a seed, so two
 * runs against fresh nodes send the same objects. */
#include "base/base.h"
#include "stix/stix.h"

#include "rng.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#define BODY_MAX     ((size_t)256 << 20)
#define REPLY_MAX    ((size_t)16 << 20)
#define MAX_CONNS    64
#define STATUS_POLLS 300 /* 100 ms apart: a pending status gets 30 s to complete */

/* ---- the workload ---- */

/* TLP 2.0 marking definitions; CLEAR and GREEN dominate, as in real feeds. AMBER+STRICT and RED
 * are left out so that a reader of the whole collection is never filtered by policy. */
static const char *const tlp_refs[] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", /* CLEAR */
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* GREEN */
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* GREEN */
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", /* AMBER */
};

static const char *const tlds[] = {"com", "net", "org", "info", "xyz", "top", "ru", "cn", "io"};
static const char *const url_paths[] = {"login.php", "wp-admin/upd.php", "gate.php",
                                        "a/b/c.exe", "invoice.doc",      "api/v2/beacon"};

/* "YYYY-MM-DDTHH:MM:SS.mmmZ": millisecond precision, as most producers write. */
static void ts_format_ms(int64_t us, char out[28])
{
    ctix_ts_format_us(us, out);
    out[23] = 'Z';
    out[24] = '\0';
}

/* Appends one indicator object (about 600 bytes) to b. */
static enum ctix_rc indicator_append(struct buf *b, struct rng *r)
{
    char id[37], who[37] = "3b1f5c2a-7d4e-4c8b-9a6f-0e2d1c3b4a59";
    char created[28], modified[28];
    char pattern[200], name[160], w1[16], w2[16];
    int64_t t0 = INT64_C(1672531200000000); /* 2023-01-01 */
    int64_t created_us;
    unsigned kind = rng_below(r, 4);
    unsigned conf = 50 + rng_below(r, 50);
    enum ctix_rc rc;

    rng_uuid4(r, id);
    created_us = t0 + (int64_t)(rng_next(r) % (UINT64_C(700) * 86400 * 1000)) * 1000;
    ts_format_ms(created_us, created);
    ts_format_ms(created_us + (int64_t)rng_below(r, 30 * 86400) * 1000000, modified);
    rng_word(r, w1, sizeof(w1), 5);
    rng_word(r, w2, sizeof(w2), 5);
    switch (kind) {
    case 0: {
        unsigned a = 1 + rng_below(r, 223), bb = rng_below(r, 256);
        unsigned c = rng_below(r, 256), d = 1 + rng_below(r, 254);
        snprintf(pattern, sizeof(pattern), "[ipv4-addr:value = '%u.%u.%u.%u']", a, bb, c, d);
        snprintf(name, sizeof(name), "C2 server %u.%u.%u.%u", a, bb, c, d);
        break;
    }
    case 1:
        snprintf(pattern, sizeof(pattern), "[domain-name:value = '%s.%s.%s']", w1, w2,
                 tlds[rng_below(r, CTIX_ARRAY_LEN(tlds))]);
        snprintf(name, sizeof(name), "Malicious domain %s.%s", w1, w2);
        break;
    case 2:
        snprintf(pattern, sizeof(pattern), "[url:value = 'http://%s.%s/%s']", w1,
                 tlds[rng_below(r, CTIX_ARRAY_LEN(tlds))],
                 url_paths[rng_below(r, CTIX_ARRAY_LEN(url_paths))]);
        snprintf(name, sizeof(name), "Phishing URL on %s", w1);
        break;
    default: {
        unsigned char h[32];
        char hex[65];
        uint64_t v;
        size_t i;
        for (i = 0; i < 4; i++) {
            v = rng_next(r);
            memcpy(h + 8 * i, &v, 8);
        }
        ctix_hex(h, 32, hex);
        snprintf(pattern, sizeof(pattern), "[file:hashes.'SHA-256' = '%s']", hex);
        snprintf(name, sizeof(name), "Malware sample %.12s", hex);
        break;
    }
    }
    rc = buf_appendf(b,
                     "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
                     "\"created_by_ref\":\"identity--%s\",\"created\":\"%s\",\"modified\":\"%s\","
                     "\"name\":\"%s\",\"description\":\"Seen in campaign %s-%s.\","
                     "\"indicator_types\":[\"malicious-activity\"],\"pattern\":",
                     id, who, created, modified, name, w2, w1);
    if (rc != CTIX_OK)
        goto out;
    rc = buf_append_json_str(b, pattern, strlen(pattern));
    if (rc != CTIX_OK)
        goto out;
    rc = buf_appendf(b,
                     ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\",\"valid_from\":\"%s\","
                     "\"labels\":[\"c2\",\"%s\"],\"confidence\":%u,"
                     "\"object_marking_refs\":[\"%s\"]}",
                     created, w2, conf, tlp_refs[rng_below(r, CTIX_ARRAY_LEN(tlp_refs))]);
out:
    return rc;
}

/* Appends n indicators as a JSON array body: prefix, the objects separated by commas, suffix. */
static enum ctix_rc objects_build(struct buf *b, struct rng *r, size_t n, const char *prefix,
                                  const char *suffix)
{
    enum ctix_rc rc = buf_appends(b, prefix);
    size_t i;

    for (i = 0; i < n && rc == CTIX_OK; i++) {
        if (i > 0)
            rc = buf_append(b, ",", 1);
        if (rc == CTIX_OK)
            rc = indicator_append(b, r);
    }
    if (rc == CTIX_OK)
        rc = buf_appends(b, suffix);
    return rc;
}

/* ---- options ---- */

struct opts {
    const char *url, *token, *dir;
    uint64_t conns, envelopes, per, files, seed;
};

static bool opts_parse(int argc, char **argv, struct opts *o)
{
    bool ok = true;
    const char *k = "";
    int i;

    for (i = 2; i < argc && ok; i++) {
        k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            ok = false;
        } else if (strcmp(k, "--url") == 0) {
            o->url = v;
        } else if (strcmp(k, "--token") == 0) {
            o->token = v;
        } else if (strcmp(k, "--dir") == 0) {
            o->dir = v;
        } else if (strcmp(k, "--conns") == 0) {
            ok = ctix_parse_u64(v, MAX_CONNS, &o->conns) && o->conns > 0;
        } else if (strcmp(k, "--envelopes") == 0) {
            ok = ctix_parse_u64(v, 100000, &o->envelopes) && o->envelopes > 0;
        } else if (strcmp(k, "--per") == 0) {
            ok = ctix_parse_u64(v, 1000000, &o->per) && o->per > 0;
        } else if (strcmp(k, "--files") == 0) {
            ok = ctix_parse_u64(v, 100000, &o->files) && o->files > 0;
        } else if (strcmp(k, "--seed") == 0) {
            ok = ctix_parse_u64(v, UINT64_MAX, &o->seed);
        } else {
            ok = false;
        }
        i++;
    }
    if (!ok)
        fprintf(stderr, "ingest: bad or incomplete option '%s'\n", k);
    return ok;
}

/* ---- gen: bundle files for `ctix import` ---- */

static int cmd_gen(const struct opts *o)
{
    struct rng r = {o->seed * 0x100000001b3ULL + 7};
    struct buf b;
    char path[4096], bid[37], prefix[128];
    uint64_t f;
    int ret = 1;

    buf_init(&b, BODY_MAX);
    if (mkdir(o->dir, 0755) != 0) {
        struct stat st;
        if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "ingest: cannot create %s\n", o->dir);
            goto out;
        }
    }
    for (f = 0; f < o->files; f++) {
        FILE *fp;
        size_t wrote;
        rng_uuid4(&r, bid);
        snprintf(prefix, sizeof(prefix), "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[",
                 bid);
        buf_reset(&b);
        if (objects_build(&b, &r, o->per, prefix, "]}\n") != CTIX_OK) {
            fprintf(stderr, "ingest: out of memory\n");
            goto out;
        }
        snprintf(path, sizeof(path), "%s/bundle-%05llu.json", o->dir, (unsigned long long)f);
        fp = fopen(path, "w");
        if (fp == NULL) {
            fprintf(stderr, "ingest: cannot write %s\n", path);
            goto out;
        }
        wrote = fwrite(b.data, 1, b.len, fp);
        if (fclose(fp) != 0 || wrote != b.len) {
            fprintf(stderr, "ingest: short write on %s\n", path);
            goto out;
        }
    }
    ret = 0;
out:
    buf_cleanup(&b);
    return ret;
}

/* ---- post: TAXII envelopes over libcurl ---- */

struct shared {
    const struct opts *o;
    struct buf *bodies;
    atomic_size_t next; /* the next envelope to send */
    atomic_size_t ok;   /* envelopes whose status said success_count == per, failure_count == 0 */
    atomic_size_t sent;
};

static size_t reply_write(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;

    if (buf_append(b, p, size * n) != CTIX_OK)
        return 0;
    return size * n;
}

/* The status of 1,000 objects is ~100 KB of JSON: ctix's own parser reads it in a fifth of
 * json_loadb's time, which leaves more of the two shared cores to the server being measured. */
static json_t *parse(const char *text, size_t len)
{
    json_t *j = NULL;

    return stix_json_parse(text, len, &j, NULL) == CTIX_OK ? j : NULL;
}

/* True when the status resource j reports full success, or when it is pending and a later GET of
 * the status says so. */
static bool status_check(CURL *c, struct curl_slist *hdrs, const struct opts *o, json_t *j,
                         struct buf *reply, size_t idx)
{
    bool ok = false;
    int polls = 0;
    json_t *cur = json_incref(j);

    while (cur != NULL) {
        const char *st = json_string_value(json_object_get(cur, "status"));
        json_int_t succ = json_integer_value(json_object_get(cur, "success_count"));
        json_int_t fail = json_integer_value(json_object_get(cur, "failure_count"));
        const char *sid = json_string_value(json_object_get(cur, "id"));
        char url[2048];
        const char *slash;
        long code = 0;
        struct timespec poll_wait = {0, 100 * 1000 * 1000};

        if (st != NULL && strcmp(st, "complete") == 0) {
            ok = succ == (json_int_t)o->per && fail == 0;
            if (!ok)
                fprintf(stderr, "ingest: envelope %zu: success_count %lld failure_count %lld\n",
                        idx, (long long)succ, (long long)fail);
            break;
        }
        if (sid == NULL || polls++ >= STATUS_POLLS) {
            fprintf(stderr, "ingest: envelope %zu: status %s, no usable status id\n", idx,
                    st != NULL ? st : "(none)");
            break;
        }
        /* The status lives at {api-root}/status/{id}/; the api root is the url up to
         * "collections/". */
        slash = strstr(o->url, "/collections/");
        if (slash == NULL)
            break;
        snprintf(url, sizeof(url), "%.*s/status/%s/", (int)(slash - o->url), o->url, sid);
        nanosleep(&poll_wait, NULL);
        buf_reset(reply);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        if (curl_easy_perform(c) != CURLE_OK)
            break;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        json_decref(cur);
        cur = code == 200 && reply->len > 0 ? parse(reply->data, reply->len) : NULL;
    }
    json_decref(cur);
    return ok;
}

static void *worker(void *arg)
{
    struct shared *sh = arg;
    const struct opts *o = sh->o;
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char auth[1024];
    struct buf reply;

    buf_init(&reply, REPLY_MAX);
    if (c == NULL)
        goto out;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/taxii+json;version=2.1");
    hdrs = curl_slist_append(hdrs, "Accept: application/taxii+json;version=2.1");
    hdrs = curl_slist_append(hdrs, auth);
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reply_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    for (;;) {
        size_t i = atomic_fetch_add(&sh->next, 1);
        long code = 0;
        CURLcode cc;
        json_t *j;

        if (i >= o->envelopes)
            break;
        buf_reset(&reply);
        curl_easy_setopt(c, CURLOPT_URL, o->url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, sh->bodies[i].data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sh->bodies[i].len);
        cc = curl_easy_perform(c);
        atomic_fetch_add(&sh->sent, 1);
        if (cc != CURLE_OK) {
            fprintf(stderr, "ingest: envelope %zu: %s\n", i, curl_easy_strerror(cc));
            continue;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code != 202) {
            fprintf(stderr, "ingest: envelope %zu: HTTP %ld: %.300s\n", i, code,
                    reply.len > 0 ? reply.data : "");
            continue;
        }
        j = reply.len > 0 ? parse(reply.data, reply.len) : NULL;
        if (j == NULL) {
            fprintf(stderr, "ingest: envelope %zu: status resource is not JSON\n", i);
            continue;
        }
        if (status_check(c, hdrs, o, j, &reply, i))
            atomic_fetch_add(&sh->ok, 1);
        json_decref(j);
    }
out:
    curl_slist_free_all(hdrs);
    if (c != NULL)
        curl_easy_cleanup(c);
    buf_cleanup(&reply);
    return NULL;
}

static int cmd_post(const struct opts *o)
{
    struct rng r = {o->seed * 0x100000001b3ULL + 11};
    struct shared sh;
    pthread_t th[MAX_CONNS];
    size_t started = 0;
    size_t i, bytes = 0;
    int64_t t0, t1;
    double secs;
    int ret = 1;

    sh.o = o;
    atomic_init(&sh.next, 0);
    atomic_init(&sh.ok, 0);
    atomic_init(&sh.sent, 0);
    sh.bodies = calloc(o->envelopes, sizeof(*sh.bodies));
    if (sh.bodies == NULL)
        goto out;
    for (i = 0; i < o->envelopes; i++) {
        buf_init(&sh.bodies[i], BODY_MAX);
        if (objects_build(&sh.bodies[i], &r, o->per, "{\"objects\":[", "]}") != CTIX_OK) {
            fprintf(stderr, "ingest: out of memory\n");
            goto out;
        }
        bytes += sh.bodies[i].len;
    }
    t0 = ctix_mono_us();
    for (i = 0; i < o->conns; i++) {
        if (pthread_create(&th[i], NULL, worker, &sh) != 0)
            break;
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    t1 = ctix_mono_us();
    secs = (double)(t1 - t0) / 1e6;
    printf("conns=%zu objects=%llu bytes=%zu seconds=%.3f objects_per_s=%.0f ok=%zu/%llu\n",
           started, (unsigned long long)(o->envelopes * o->per), bytes, secs,
           secs > 0 ? (double)(o->envelopes * o->per) / secs : 0.0, atomic_load(&sh.ok),
           (unsigned long long)o->envelopes);
    if (started == o->conns && atomic_load(&sh.ok) == o->envelopes)
        ret = 0;
out:
    if (sh.bodies != NULL) {
        for (i = 0; i < o->envelopes; i++)
            buf_cleanup(&sh.bodies[i]);
    }
    free(sh.bodies);
    return ret;
}

int main(int argc, char **argv)
{
    /* per 0 means the mode's default: 1,000 an envelope, 10,000 a bundle file. */
    struct opts o = {NULL, NULL, NULL, 1, 100, 0, 100, 1};
    int ret = 2;

    if (argc < 2 || !opts_parse(argc, argv, &o)) {
        ret = 2;
    } else if (strcmp(argv[1], "gen") == 0 && o.dir != NULL) {
        o.per = o.per > 0 ? o.per : 10000;
        ret = cmd_gen(&o);
    } else if (strcmp(argv[1], "post") == 0 && o.url != NULL && o.token != NULL) {
        o.per = o.per > 0 ? o.per : 1000;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        ret = cmd_post(&o);
        curl_global_cleanup();
    }
    if (ret == 2)
        fprintf(stderr, "usage: ingest post --url URL --token T [--conns N] [--envelopes N]"
                        " [--per N] [--seed S]\n"
                        "       ingest gen --dir DIR [--files N] [--per N] [--seed S]\n");
    return ret;
}
