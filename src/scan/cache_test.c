/* The scan cache: what it hands over is exactly what a full store load hands over, after every
 * kind of change the store knows (new objects, newer and older versions, revocation, pending
 * versions settled, quarantine, deletes, a skipped object becoming an indicator); the index built
 * through it answers like one built from the store; a damaged, truncated or foreign file, a log
 * that no longer reaches back, and an unwritable cache directory each end in a rebuild from the
 * store with a warning naming the file. */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/scan.h"
#include "scan/scan_cache.h"
#include "scan/scan_int.h"
#include "stix/stix.h"
#include "store/store.h"

#define COLL "7c1e5a2b-0d3f-4e4a-9b6c-000000000001"
#define NOW  1735689600000LL /* 2025-01-01 */

struct env {
    char dir[64];
    char data[128];
    char path[256]; /* the cache file */
    struct store *st;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct store_collection c;
    struct ctix_diag d;

    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/ctix-cache-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->data, sizeof(e->data), "%s/data", e->dir);
    snprintf(e->path, sizeof(e->path), "%s/scan-cache/%s.cache", e->data, COLL);
    assert_int_equal(store_open(e->data, true, &e->st, &d), CTIX_OK);
    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "%s", COLL);
    snprintf(c.title, sizeof(c.title), "t");
    snprintf(c.alias, sizeof(c.alias), "iocs");
    assert_int_equal(store_collection_add(e->st, &c), CTIX_OK);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    store_close(e->st);
    nftw(e->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(e);
    return 0;
}

/* ---- objects ---- */

enum { O_NAME = 1, O_CBR = 2, O_REVOKED = 4, O_SIGMA = 8, O_MALWARE = 16, O_UNTIL = 32 };

/* Stores version `day` of object n (ip 10.x.y.z from n and day) with prov and the O_* options. */
static void put(struct store *st, int n, int day, int prov, unsigned opt)
{
    char id[80], ver[40], vkey[40], json[1024];
    struct store_obj_in in;
    enum store_put_result res;
    const char *type = (opt & O_MALWARE) != 0 ? "malware" : "indicator";

    snprintf(id, sizeof(id), "%s--00000000-0000-4000-8000-%012d", type, n);
    snprintf(ver, sizeof(ver), "2024-01-%02dT00:00:00.000Z", day);
    assert_int_equal(stix_version_key(ver, vkey), CTIX_OK);
    snprintf(json, sizeof(json),
             "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
             "\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\"%s%s,\"pattern\":"
             "\"[ipv4-addr:value = '10.%d.%d.%d']\",\"pattern_type\":\"%s\","
             "\"valid_from\":\"2024-01-01T00:00:00Z\"%s%s}",
             type, id, ver, (opt & O_NAME) != 0 ? ",\"name\":\"bad \\\"host\\\"\"" : "",
             (opt & O_CBR) != 0
                 ? ",\"created_by_ref\":\"identity--00000000-0000-4000-8000-000000000009\""
                 : "",
             n / 256, n % 256, day, (opt & O_SIGMA) != 0 ? "sigma" : "stix",
             (opt & O_UNTIL) != 0 ? ",\"valid_until\":\"2030-01-01T00:00:00Z\"" : "",
             (opt & O_REVOKED) != 0 ? ",\"revoked\":true" : "");
    memset(&in, 0, sizeof(in));
    in.id = id;
    in.type = type;
    in.spec_version = "2.1";
    in.version = ver;
    in.version_key = vkey;
    in.json = json;
    in.json_len = strlen(json);
    in.tlp = 2;
    in.origin = prov == STORE_PROV_LOCAL ? 0 : 1;
    in.prov = prov;
    assert_int_equal(store_objs_put(st, COLL, &in, 1, &res, NULL), CTIX_OK);
    assert_int_equal(res, STORE_PUT_STORED);
}

static void obj_id(int n, char *out, size_t cap)
{
    snprintf(out, cap, "indicator--00000000-0000-4000-8000-%012d", n);
}

/* ---- what a loader hands over, as sorted lines ---- */

struct got {
    char **lines;
    size_t n, cap;
};

static enum ctix_rc got_ind(void *arg, const struct scan_ind_in *in)
{
    struct got *g = arg;
    char line[1024];

    snprintf(line, sizeof(line), "%.*s|%s%.*s|%.*s|%s%.*s|%lld|%lld|%lld|%d", (int)in->id_len,
             in->id, in->name != NULL ? "N:" : "-", (int)in->name_len,
             in->name != NULL ? in->name : "", (int)in->pattern_len, in->pattern,
             in->created_by_ref != NULL ? "C:" : "-", (int)in->created_by_ref_len,
             in->created_by_ref != NULL ? in->created_by_ref : "", (long long)in->modified_ms,
             (long long)in->valid_from_ms, (long long)in->valid_until_ms, in->revoked);
    if (g->n == g->cap) {
        g->cap = g->cap == 0 ? 64 : g->cap * 2;
        g->lines = realloc(g->lines, g->cap * sizeof(*g->lines));
        assert_non_null(g->lines);
    }
    g->lines[g->n] = strdup(line);
    assert_non_null(g->lines[g->n]);
    g->n++;
    return CTIX_OK;
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void got_reset(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->lines[i]);
    g->n = 0;
}

static void got_free(struct got *g)
{
    got_reset(g);
    free(g->lines);
    memset(g, 0, sizeof(*g));
}

static void got_sort(struct got *g)
{
    qsort(g->lines, g->n, sizeof(*g->lines), line_cmp);
}

/* Loads through the cache (starting again when it asks to) and checks that it hands over what a
 * full store load does, with the same counts. Returns how (enum scan_cache_how). */
static int check_same(struct env *e, struct scan_cache *sc)
{
    struct got full = {0}, via = {0};
    struct scan_load_stats fs;
    struct ctix_diag d;
    enum ctix_rc rc;

    ctix_diag_clear(&d);
    assert_int_equal(scan_load_store(e->st, COLL, got_ind, &full, &fs, &d), CTIX_OK);
    rc = scan_cache_load(sc, got_ind, &via, &d);
    if (rc == CTIX_EINVAL && scan_cache_retry(sc)) {
        got_reset(&via);
        rc = scan_cache_load(sc, got_ind, &via, &d);
    }
    assert_int_equal(rc, CTIX_OK);
    got_sort(&full);
    got_sort(&via);
    assert_int_equal(via.n, full.n);
    for (size_t i = 0; i < full.n; i++)
        assert_string_equal(via.lines[i], full.lines[i]);
    assert_int_equal(scan_cache_stats(sc)->n_indicators, fs.n_indicators);
    assert_int_equal(scan_cache_stats(sc)->n_skipped, fs.n_skipped);
    assert_int_equal(scan_cache_stats(sc)->n_objects, fs.n_objects);
    got_free(&full);
    got_free(&via);
    return scan_cache_info(sc)->how;
}

static struct scan_cache *cache_new(struct env *e)
{
    struct scan_cache *sc = NULL;
    struct ctix_diag d;

    assert_int_equal(scan_cache_new(e->st, e->data, "iocs", &sc, &d), CTIX_OK);
    assert_string_equal(scan_cache_info(sc)->path, e->path);
    return sc;
}

/* The initial objects: every prov, skipped and foreign types, every optional field. */
static void put_initial(struct store *st)
{
    put(st, 1, 1, STORE_PROV_LOCAL, O_NAME | O_CBR);
    put(st, 1, 2, STORE_PROV_LOCAL, O_NAME); /* the newer version */
    put(st, 2, 1, STORE_PROV_VERIFIED, O_UNTIL);
    put(st, 3, 1, STORE_PROV_PENDING, 0);
    put(st, 4, 1, STORE_PROV_QUARANTINED, 0);
    put(st, 5, 1, STORE_PROV_LOCAL, O_SIGMA);
    put(st, 6, 1, STORE_PROV_LOCAL, O_MALWARE);
    put(st, 7, 1, STORE_PROV_LOCAL, O_REVOKED | O_CBR);
    for (int n = 10; n < 30; n++)
        put(st, n, 1, n % 3 == 0 ? STORE_PROV_VERIFIED : STORE_PROV_LOCAL, n % 2 ? O_NAME : 0);
}

static void test_changes(void **state)
{
    struct env *e = *state;
    struct scan_cache *sc;
    struct store_prov_settle sv;
    struct store_query q;
    char id[80];
    size_t nd = 0;

    put_initial(e->st);
    sc = cache_new(e);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_REBUILT);
    assert_string_equal(scan_cache_info(sc)->why, "no cache yet");
    assert_true(scan_cache_info(sc)->written);
    assert_string_equal(scan_cache_info(sc)->warning, "");
    {
        struct stat sb;

        assert_int_equal(stat(e->path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
    }
    assert_int_equal(check_same(e, sc), SCAN_CACHE_CURRENT);
    assert_false(scan_cache_info(sc)->written);

    /* new objects */
    put(e->st, 40, 1, STORE_PROV_LOCAL, O_NAME);
    put(e->st, 41, 1, STORE_PROV_VERIFIED, 0);
    put(e->st, 42, 1, STORE_PROV_LOCAL, O_MALWARE);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);
    /* not the malware: the cache holds indicators only */
    assert_int_equal(scan_cache_info(sc)->n_changes, 2);
    /* a few changes: the file stays at its point and they are applied again next time */
    assert_false(scan_cache_info(sc)->written);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);
    assert_int_equal(scan_cache_info(sc)->n_changes, 2);

    /* a newer version; an older one stored later (not the last: nothing visible changes) */
    put(e->st, 10, 5, STORE_PROV_LOCAL, O_CBR);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);
    put(e->st, 11, 3, STORE_PROV_LOCAL, 0);
    put(e->st, 12, 3, STORE_PROV_LOCAL, 0);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);
    put(e->st, 12, 2, STORE_PROV_LOCAL, O_NAME); /* older than the last */
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);

    /* revocation */
    put(e->st, 13, 6, STORE_PROV_LOCAL, O_REVOKED);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);

    /* a pending version: invisible until settled */
    put(e->st, 14, 7, STORE_PROV_PENDING, O_NAME);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);
    memset(&sv, 0, sizeof(sv));
    obj_id(14, id, sizeof(id));
    sv.object_id = id;
    sv.prov = STORE_PROV_VERIFIED;
    assert_int_equal(store_objs_prov_settle(e->st, COLL, &sv, 1), CTIX_OK);
    assert_true(sv.changed);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);
    obj_id(3, id, sizeof(id));
    sv.object_id = id;
    assert_int_equal(store_objs_prov_settle(e->st, COLL, &sv, 1), CTIX_OK);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);

    /* quarantine */
    obj_id(15, id, sizeof(id));
    assert_int_equal(store_obj_prov_set(e->st, COLL, id, NULL, STORE_PROV_QUARANTINED), CTIX_OK);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);

    /* deletes: a whole object, and the last version of one (the one before comes back) */
    memset(&q, 0, sizeof(q));
    q.vsel = STORE_V_ALL;
    obj_id(16, id, sizeof(id));
    assert_int_equal(store_obj_delete(e->st, COLL, id, &q, &nd), CTIX_OK);
    q.vsel = STORE_V_LAST;
    obj_id(1, id, sizeof(id));
    assert_int_equal(store_obj_delete(e->st, COLL, id, &q, &nd), CTIX_OK);
    assert_int_equal(nd, 1);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);
    /* every indicator changed since the file's point, each once: 40 41 10 11 12 13 14 3 15 16 1 */
    assert_int_equal(scan_cache_info(sc)->n_changes, 11);

    /* a skipped object becomes an indicator the index can use */
    put(e->st, 5, 2, STORE_PROV_LOCAL, 0);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);

    /* past 256 changed indicators (and 1% of the records) the file is rewritten at the new point */
    for (int n = 300; n < 560; n++)
        put(e->st, n, 1, STORE_PROV_LOCAL, 0);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_UPDATED);
    assert_true(scan_cache_info(sc)->written);
    assert_true(scan_cache_info(sc)->n_changes > 256);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_CURRENT);
    assert_false(scan_cache_info(sc)->written);

    /* a log trimmed past the cache's point: rebuilt, no warning (nothing is wrong) */
    put(e->st, 17, 8, STORE_PROV_LOCAL, 0);
    {
        struct store_changes_pos pos;

        assert_int_equal(store_changes_pos(e->st, &pos), CTIX_OK);
        assert_int_equal(store_changes_trim(e->st, pos.seq), CTIX_OK);
    }
    assert_int_equal(check_same(e, sc), SCAN_CACHE_REBUILT);
    assert_non_null(strstr(scan_cache_info(sc)->why, "cannot tell what changed"));
    assert_string_equal(scan_cache_info(sc)->warning, "");
    assert_int_equal(check_same(e, sc), SCAN_CACHE_CURRENT);
    scan_cache_free(sc);
}

/* ---- damaged files ---- */

static void file_patch(const char *path, off_t off, unsigned char xor_mask)
{
    int fd = open(path, O_RDWR);
    unsigned char c;

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= xor_mask;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static off_t file_size(const char *path)
{
    struct stat sb;

    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

static void expect_rebuilt(struct env *e, struct scan_cache *sc, const char *warning)
{
    const struct scan_cache_info *ci;

    assert_int_equal(check_same(e, sc), SCAN_CACHE_REBUILT);
    ci = scan_cache_info(sc);
    if (strstr(ci->warning, warning) == NULL || strstr(ci->warning, e->path) != ci->warning)
        fail_msg("warning '%s' does not name the file or say '%s'", ci->warning, warning);
    assert_null(strchr(ci->warning, '\n'));
    assert_true(ci->written);
    /* ...and the new file is good */
    assert_int_equal(check_same(e, sc), SCAN_CACHE_CURRENT);
}

static void test_damage(void **state)
{
    struct env *e = *state;
    struct scan_cache *sc;
    off_t size;

    put_initial(e->st);
    sc = cache_new(e);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_REBUILT);
    size = file_size(e->path);
    assert_true(size > SCAN_CACHE_HDR_LEN + SCAN_CACHE_CHUNK_HDR);

    /* a flipped bit in a record, in the header's checksummed fields, in the chunk header */
    file_patch(e->path, size - 20, 0x10);
    expect_rebuilt(e, sc, "chunk checksum mismatch");
    file_patch(e->path, 100, 0x01);
    expect_rebuilt(e, sc, "header checksum mismatch");
    file_patch(e->path, SCAN_CACHE_HDR_LEN + 1, 0x40);
    expect_rebuilt(e, sc, "bad chunk length or count");

    /* truncated; longer; not a cache at all; empty; another format version */
    assert_int_equal(truncate(e->path, size - 1), 0);
    expect_rebuilt(e, sc, "truncated");
    assert_int_equal(truncate(e->path, size + 3), 0);
    expect_rebuilt(e, sc, "longer than written");
    {
        FILE *f = fopen(e->path, "w");

        assert_non_null(f);
        fputs("{\"type\":\"bundle\"}\n", f);
        fclose(f);
    }
    expect_rebuilt(e, sc, "truncated");
    assert_int_equal(truncate(e->path, 0), 0);
    expect_rebuilt(e, sc, "truncated");
    file_patch(e->path, 0, 0x20);
    expect_rebuilt(e, sc, "bad magic");
    file_patch(e->path, 8, 0x02);
    expect_rebuilt(e, sc, "another version");
    scan_cache_free(sc);
}

/* A file of several chunks damaged after the first: indicators were handed over already, so the
 * loader asks to start again, and the second load reads the store. */
static void test_damage_late(void **state)
{
    struct env *e = *state;
    enum { N = 12000 };
    struct store_obj_in *in = calloc(N, sizeof(*in));
    enum store_put_result *res = calloc(N, sizeof(*res));
    char(*ids)[80] = calloc(N, 80);
    char(*json)[400] = calloc(N, 400);
    struct scan_cache *sc;
    struct scan_index *ix = NULL;
    struct scan_index_stats is;
    struct got g = {0};
    struct ctix_diag d;

    assert_non_null(in);
    assert_non_null(res);
    assert_non_null(ids);
    assert_non_null(json);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], 80, "indicator--00000000-0000-4000-8000-%012d", 1000 + i);
        snprintf(json[i], 400,
                 "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
                 "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
                 "\"name\":\"a fairly long name so that the file needs several chunks\","
                 "\"pattern\":\"[domain-name:value = 'h%d.example.org']\",\"pattern_type\":"
                 "\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
                 ids[i], i);
        in[i].id = ids[i];
        in[i].type = "indicator";
        in[i].spec_version = "2.1";
        in[i].version = "2024-01-01T00:00:00.000Z";
        in[i].version_key = "2024-01-01T00:00:00.000000000Z";
        in[i].json = json[i];
        in[i].json_len = strlen(json[i]);
        in[i].tlp = 2;
    }
    assert_int_equal(store_objs_put(e->st, COLL, in, N, res, NULL), CTIX_OK);
    sc = cache_new(e);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_REBUILT);
    assert_true(file_size(e->path) > 2 * (1 << 20));
    file_patch(e->path, file_size(e->path) - 100, 0x01);

    ctix_diag_clear(&d);
    assert_int_equal(scan_cache_load(sc, got_ind, &g, &d), CTIX_EINVAL);
    assert_true(scan_cache_retry(sc));
    assert_true(g.n > 0 && g.n < N);
    assert_non_null(strstr(d.msg, "checksum"));
    got_reset(&g);
    assert_int_equal(scan_cache_load(sc, got_ind, &g, &d), CTIX_OK);
    assert_false(scan_cache_retry(sc));
    assert_int_equal(g.n, N);
    assert_int_equal(scan_cache_info(sc)->how, SCAN_CACHE_REBUILT);
    assert_non_null(strstr(scan_cache_info(sc)->warning, "checksum"));
    assert_int_equal(check_same(e, sc), SCAN_CACHE_CURRENT); /* the new file is used again */

    /* the same through scan_cache_index_build, which starts again on its own */
    scan_cache_free(sc);
    sc = cache_new(e);
    file_patch(e->path, file_size(e->path) - 100, 0x01);
    assert_int_equal(scan_cache_index_build(sc, NULL, NULL, &ix, &d), CTIX_OK);
    assert_int_equal(scan_index_finish(ix), CTIX_OK);
    scan_index_stats(ix, &is);
    assert_int_equal(is.n_live, N);
    assert_int_equal(is.n_versions, 0); /* nothing handed over twice */
    assert_int_equal(scan_cache_info(sc)->how, SCAN_CACHE_REBUILT);
    assert_non_null(strstr(scan_cache_info(sc)->warning, "checksum"));
    scan_index_free(ix);
    scan_cache_free(sc);
    got_free(&g);
    free(in);
    free(res);
    free(ids);
    free(json);
}

/* The cache directory cannot be made: the load still works, from the store, with a warning. */
static void test_unwritable(void **state)
{
    struct env *e = *state;
    struct scan_cache *sc;
    char p[256];
    FILE *f;

    put_initial(e->st);
    snprintf(p, sizeof(p), "%s/scan-cache", e->data);
    f = fopen(p, "w"); /* a file where the directory should be */
    assert_non_null(f);
    fclose(f);
    sc = cache_new(e);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_REBUILT);
    assert_false(scan_cache_info(sc)->written);
    assert_non_null(strstr(scan_cache_info(sc)->warning, "cannot write the scan cache"));
    assert_int_equal(check_same(e, sc), SCAN_CACHE_REBUILT);
    scan_cache_free(sc);
}

/* Temporary files a killed scan left behind go when a cache is next written; one being written
 * (recent) stays. */
static void test_stale_tmp(void **state)
{
    struct env *e = *state;
    struct scan_cache *sc;
    struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
    char dir[160], stale[300], fresh[300], other[300];
    FILE *f;

    put_initial(e->st);
    snprintf(dir, sizeof(dir), "%s/scan-cache", e->data);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(stale, sizeof(stale), "%s/.%s.AbC123", dir, COLL);
    snprintf(fresh, sizeof(fresh), "%s/.%s.XyZ789", dir, COLL);
    snprintf(other, sizeof(other), "%s/.7c1e5a2b-0d3f-4e4a-9b6c-000000000002.AbC123", dir);
    for (int i = 0; i < 3; i++) {
        f = fopen(i == 0 ? stale : i == 1 ? fresh : other, "w");
        assert_non_null(f);
        fputs("partial", f);
        fclose(f);
    }
    assert_int_equal(utimensat(AT_FDCWD, stale, old, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, other, old, 0), 0);
    sc = cache_new(e);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_REBUILT);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(fresh, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0); /* another collection's: not ours to judge */
    scan_cache_free(sc);
}

/* Many changes to other objects: the indicators stay as they are, and the cache is rewritten at
 * the log's new point so that later scans do not read those changes again. */
static void test_advance(void **state)
{
    struct env *e = *state;
    enum { N = 20100 };
    struct store_obj_in *in = calloc(N, sizeof(*in));
    char(*ids)[80] = calloc(N, 80);
    char(*json)[200] = calloc(N, 200);
    struct scan_cache *sc;

    assert_non_null(in);
    assert_non_null(ids);
    assert_non_null(json);
    put_initial(e->st);
    sc = cache_new(e);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_REBUILT);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], 80, "malware--00000000-0000-4000-8000-%012d", 5000 + i);
        snprintf(json[i], 200,
                 "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
                 "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\"}",
                 ids[i]);
        in[i].id = ids[i];
        in[i].type = "malware";
        in[i].spec_version = "2.1";
        in[i].version = "2024-01-01T00:00:00.000Z";
        in[i].version_key = "2024-01-01T00:00:00.000000000Z";
        in[i].json = json[i];
        in[i].json_len = strlen(json[i]);
    }
    assert_int_equal(store_objs_put(e->st, COLL, in, 100, NULL, NULL), CTIX_OK);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_CURRENT);
    assert_false(scan_cache_info(sc)->written); /* a few: not worth a rewrite */
    assert_int_equal(store_objs_put(e->st, COLL, in + 100, N - 100, NULL, NULL), CTIX_OK);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_CURRENT);
    assert_true(scan_cache_info(sc)->written);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_CURRENT);
    assert_false(scan_cache_info(sc)->written);
    scan_cache_free(sc);
    free(in);
    free(ids);
    free(json);
}

/* A writer (as `ctix serve` would be) stores indicators while scans load through the cache: each
 * load succeeds, and once the writer stops, the cache catches up with everything it wrote. */
struct writer {
    struct store *st;
    int n;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;

    for (int i = 0; i < w->n; i++) {
        put(w->st, 100 + i, 1, STORE_PROV_LOCAL, i % 2 ? O_NAME : 0);
        if (i % 10 == 0) /* and some changes to what the cache already holds */
            put(w->st, 10 + i / 10 % 20, 2 + i / 200, STORE_PROV_LOCAL, O_REVOKED);
    }
    return NULL;
}

static void test_concurrent_writer(void **state)
{
    struct env *e = *state;
    struct writer w = {e->st, 300};
    struct scan_cache *sc, *sc2;
    pthread_t th;
    int loads = 0;

    put_initial(e->st);
    sc = cache_new(e);
    sc2 = cache_new(e); /* a second scan at the same time */
    assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
    for (int i = 0; i < 20; i++) {
        struct got g = {0};
        struct ctix_diag d;

        assert_int_equal(scan_cache_load(i % 2 ? sc : sc2, got_ind, &g, &d), CTIX_OK);
        assert_true(g.n >= 20);
        got_free(&g);
        loads++;
    }
    pthread_join(th, NULL);
    assert_int_equal(loads, 20);
    check_same(e, sc);
    check_same(e, sc2);
    assert_int_equal(check_same(e, sc), SCAN_CACHE_CURRENT);
    scan_cache_free(sc);
    scan_cache_free(sc2);
}

/* ---- the index answers the same ---- */

static void hits(const struct scan_index *ix, const char *text, char *out, size_t cap)
{
    struct scan_rec r;
    struct scan_matcher m;
    char *ids[256];
    size_t n = 0, w = 0;

    memset(&m, 0, sizeof(m));
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, strlen(text)));
    scan_extract(&r, text, strlen(text), 0);
    r.time_ms = NOW;
    assert_int_equal(scan_index_match(ix, &r, NOW, SCAN_TIME_NONE, &m), CTIX_OK);
    for (size_t i = 0; i < m.n_hits && n < 256; i++)
        ids[n++] = (char *)scan_index_id(ix, m.hits[i].ind);
    qsort(ids, n, sizeof(ids[0]), line_cmp);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%s", i ? " " : "", ids[i] + 35);
    scan_matcher_cleanup(&m);
    scan_rec_cleanup(&r);
}

struct from_store {
    struct store *st;
    struct scan_load_stats stats;
};

static enum ctix_rc load_from_store(void *ctx, scan_ind_fn fn, void *arg, struct ctix_diag *diag)
{
    struct from_store *fs = ctx;

    return scan_load_store(fs->st, COLL, fn, arg, &fs->stats, diag);
}

static void test_index_same(void **state)
{
    struct env *e = *state;
    struct scan_cache *sc;
    struct scan_index *a = NULL, *b = NULL;
    struct scan_index_stats sa, sb;
    struct from_store fs = {e->st, {0}};
    struct ctix_diag d;
    char text[4096], ha[2048], hb[2048];
    size_t w = 0;

    put_initial(e->st);
    for (int n = 1; n < 45; n++)
        for (int day = 1; day < 9; day++)
            w +=
                (size_t)snprintf(text + w, sizeof(text) - w, "10.%d.%d.%d ", n / 256, n % 256, day);
    sc = cache_new(e);
    for (int round = 0; round < 3; round++) {
        if (round == 1) { /* changes of every kind */
            put(e->st, 40, 1, STORE_PROV_LOCAL, 0);
            put(e->st, 10, 4, STORE_PROV_LOCAL, O_REVOKED);
            put(e->st, 11, 4, STORE_PROV_LOCAL, 0);
            assert_int_equal(store_obj_prov_set(e->st, COLL,
                                                "indicator--00000000-0000-4000-8000-000000000012",
                                                NULL, STORE_PROV_QUARANTINED),
                             CTIX_OK);
        }
        ctix_diag_clear(&d);
        assert_int_equal(scan_cache_index_build(sc, NULL, NULL, &a, &d), CTIX_OK);
        assert_int_equal(scan_index_finish(a), CTIX_OK);
        b = scan_index_new();
        assert_non_null(b);
        assert_int_equal(scan_index_build(b, load_from_store, &fs, NULL, NULL, &d), CTIX_OK);
        assert_int_equal(scan_index_finish(b), CTIX_OK);
        scan_index_stats(a, &sa);
        scan_index_stats(b, &sb);
        assert_int_equal(sa.n_live, sb.n_live);
        assert_int_equal(sa.n_revoked, sb.n_revoked);
        assert_int_equal(sa.n_versions, sb.n_versions);
        assert_int_equal(sa.n_bad, sb.n_bad);
        hits(a, text, ha, sizeof(ha));
        hits(b, text, hb, sizeof(hb));
        assert_string_equal(ha, hb);
        assert_true(strlen(ha) > 0);
        /* round 2: the few changes of round 1 are applied again (the file kept its point) */
        assert_int_equal(scan_cache_info(sc)->how,
                         round == 0 ? SCAN_CACHE_REBUILT : SCAN_CACHE_UPDATED);
        scan_index_free(a);
        scan_index_free(b);
    }
    scan_cache_free(sc);
    assert_int_equal(scan_cache_new(e->st, e->data, "nope", &sc, &d), CTIX_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_tmp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_same, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
