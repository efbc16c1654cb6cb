/* Tests of the store through its public interface (store.h), on the SQLite backend, each in a
 * fresh temporary directory under /tmp. */
#include "store/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store_int.h"

#define COLL  "6b6a7b1e-4a1c-4d2e-9f00-000000000001"
#define COLL2 "6b6a7b1e-4a1c-4d2e-9f00-000000000002"

struct env {
    char dir[64];       /* the mkdtemp directory */
    char data_dir[128]; /* dir/data: created by store_open */
    struct store *st;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void add_coll(struct store *st, const char *id, const char *alias)
{
    struct store_collection c;

    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "%s", id);
    snprintf(c.title, sizeof(c.title), "title of %s", id);
    snprintf(c.alias, sizeof(c.alias), "%s", alias);
    snprintf(c.description, sizeof(c.description), "description");
    assert_int_equal(store_collection_add(st, &c), CTIX_OK);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct ctix_diag d;

    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/ctix-store-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->data_dir, sizeof(e->data_dir), "%s/data", e->dir);
    assert_int_equal(store_open(e->data_dir, true, &e->st, &d), CTIX_OK);
    add_coll(e->st, COLL, "main");
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    store_close(e->st);
    rm_tree(e->dir);
    free(e);
    return 0;
}

/* ---- object fixtures ---- */

struct obj {
    char id[80];
    char type[32];
    char spec[8];
    char version[48];
    char vkey[48];
    char json[512];
    struct store_obj_in in;
};

/* day 1..28 of January 2024 is the version; day 0 means no version (an SCO). */
static void obj_make(struct obj *o, const char *type, int n, int day, const char *spec,
                     const char *extra)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->id, sizeof(o->id), "%s--00000000-0000-4000-8000-%012d", type, n);
    snprintf(o->type, sizeof(o->type), "%s", type);
    snprintf(o->spec, sizeof(o->spec), "%s", spec);
    if (day > 0) {
        snprintf(o->version, sizeof(o->version), "2024-01-%02dT00:00:00.000Z", day);
        snprintf(o->vkey, sizeof(o->vkey), "2024-01-%02dT00:00:00.000000000Z", day);
        snprintf(o->json, sizeof(o->json),
                 "{\"type\":\"%s\",\"id\":\"%s\",\"spec_version\":\"%s\",\"modified\":\"%s\"%s}",
                 type, o->id, spec, o->version, extra);
    } else {
        snprintf(o->json, sizeof(o->json), "{\"type\":\"%s\",\"id\":\"%s\"%s}", type, o->id, extra);
    }
    o->in.id = o->id;
    o->in.type = o->type;
    o->in.spec_version = o->spec;
    o->in.version = day > 0 ? o->version : NULL;
    o->in.version_key = day > 0 ? o->vkey : NULL;
    o->in.json = o->json;
    o->in.json_len = strlen(o->json);
    o->in.tlp = 2;
}

static enum store_put_result put1(struct store *st, const struct obj *o, int64_t *added)
{
    enum store_put_result res = STORE_PUT_CONFLICT;
    int64_t a = 0;

    assert_int_equal(store_objs_put(st, COLL, &o->in, 1, &res, &a), CTIX_OK);
    if (added != NULL) {
        *added = a;
    }
    return res;
}

/* Collected rows of a query: "id@version" strings in order. */
struct rows {
    size_t n;
    char item[512][120];
    int64_t added[512];
    char json[512][512];
    bool json_null[512];
    int64_t origin[512];
    int prov[512];
};

static enum ctix_rc rows_cb(void *ctx, const struct store_row *r)
{
    struct rows *rs = ctx;

    assert_true(rs->n < 512);
    snprintf(rs->item[rs->n], sizeof(rs->item[0]), "%s@%s", r->id, r->version);
    rs->added[rs->n] = r->date_added_us;
    rs->json_null[rs->n] = r->json == NULL;
    rs->origin[rs->n] = r->origin;
    rs->prov[rs->n] = r->prov;
    if (r->json != NULL) {
        assert_true(r->json_len < sizeof(rs->json[0]));
        memcpy(rs->json[rs->n], r->json, r->json_len);
        rs->json[rs->n][r->json_len] = '\0';
    }
    assert_non_null(r->type);
    assert_non_null(r->spec_version);
    rs->n++;
    return CTIX_OK;
}

static struct rows *run(struct store *st, const struct store_query *q, bool *more)
{
    struct rows *rs = calloc(1, sizeof(*rs));
    bool m = false;

    assert_non_null(rs);
    assert_int_equal(store_objs_query(st, q, rows_cb, rs, &m), CTIX_OK);
    if (more != NULL) {
        *more = m;
    }
    return rs;
}

static struct store_query query_all(void)
{
    struct store_query q;

    memset(&q, 0, sizeof(q));
    q.coll_id = COLL;
    q.added_after_us = -1;
    q.limit = 1000;
    return q;
}

static int64_t count(struct store *st, const char *coll)
{
    int64_t n = -1;

    assert_int_equal(store_objs_count(st, coll, &n), CTIX_OK);
    return n;
}

/* ---- open ---- */

static void test_open_missing(void **state)
{
    char dir[64] = "/tmp/ctix-store-XXXXXX";
    char path[128];
    struct store *st = NULL;
    struct ctix_diag d;
    struct stat sb;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/none", dir);
    assert_int_equal(store_open(path, false, &st, &d), CTIX_ENOTFOUND);
    assert_null(st);
    assert_non_null(strstr(d.msg, "no store"));
    assert_int_not_equal(stat(path, &sb), 0); /* nothing was created */
    /* An existing directory without a store is just as missing. */
    assert_int_equal(store_open(dir, false, &st, &d), CTIX_ENOTFOUND);
    assert_int_equal(store_open("", true, &st, &d), CTIX_EINVAL);
    assert_int_equal(store_open("postgres://db/ctix", true, &st, &d), CTIX_ENOTFOUND);
    rm_tree(dir);
}

static void test_open_modes_and_schema(void **state)
{
    struct env *e = *state;
    char path[256];
    struct stat sb;
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;

    assert_int_equal(stat(e->data_dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    snprintf(path, sizeof(path), "%s/ctix.db", e->data_dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_true(sqlite3_column_int(q, 0) >= 1);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* Runs one SQL statement on the store's file from outside, as another process would. */
static void sql_poke(const char *data_dir, const char *sql)
{
    char path[256];
    sqlite3 *db = NULL;

    snprintf(path, sizeof(path), "%s/ctix.db", data_dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_open_newer_schema(void **state)
{
    struct env *e = *state;
    struct ctix_diag d;
    struct store *st = NULL;
    size_t v = 0;
    char sql[64];

    while (store__sqlite_migration(v) != NULL) {
        v++;
    }
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%zu", v); /* back to the current one */

    store_close(e->st);
    sql_poke(e->data_dir, "PRAGMA user_version=999");
    assert_int_equal(store_open(e->data_dir, false, &st, &d), CTIX_EIO);
    assert_non_null(strstr(d.msg, "newer"));
    sql_poke(e->data_dir, sql);
    assert_int_equal(store_open(e->data_dir, false, &e->st, &d), CTIX_OK);
}

static void test_open_not_a_database(void **state)
{
    char dir[64] = "/tmp/ctix-store-XXXXXX";
    char path[128];
    struct store *st = NULL;
    struct ctix_diag d;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ctix.db", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not an SQLite file, but it is long enough to have a header........", f);
    fclose(f);
    assert_int_equal(store_open(dir, false, &st, &d), CTIX_EIO);
    assert_null(st);
    assert_true(d.msg[0] != '\0');
    rm_tree(dir);
}

static void test_reopen_keeps_data_and_clock(void **state)
{
    struct env *e = *state;
    struct ctix_diag d;
    struct obj o;
    int64_t a1 = 0, a2 = 0, future = ctix_now_us() + 3600LL * 1000000;
    char sql[128];
    struct store_org org;

    assert_int_equal(store_org_add(e->st, "acme", NULL), CTIX_OK);
    obj_make(&o, "indicator", 1, 1, "2.1", "");
    assert_int_equal(put1(e->st, &o, &a1), STORE_PUT_STORED);
    store_close(e->st);
    e->st = NULL;

    /* Move the stored date_added an hour ahead: the clock must continue from the database, not
     * from the wall clock. */
    snprintf(sql, sizeof(sql), "UPDATE objects SET date_added = %lld", (long long)future);
    sql_poke(e->data_dir, sql);

    assert_int_equal(store_open(e->data_dir, false, &e->st, &d), CTIX_OK);
    assert_int_equal(store_org_get(e->st, "acme", &org), CTIX_OK);
    assert_int_equal(count(e->st, COLL), 1);
    obj_make(&o, "indicator", 2, 1, "2.1", "");
    assert_int_equal(put1(e->st, &o, &a2), STORE_PUT_STORED);
    assert_true(a2 > future);
    (void)a1;
}

/* ---- settings, organisations, collections, grants, keys, status ---- */

static void test_meta(void **state)
{
    struct env *e = *state;
    char out[16];
    char small[4];

    assert_int_equal(store_meta_get(e->st, "node.org", out, sizeof(out)), CTIX_ENOTFOUND);
    assert_int_equal(store_meta_set(e->st, "node.org", "csa-sg"), CTIX_OK);
    assert_int_equal(store_meta_get(e->st, "node.org", out, sizeof(out)), CTIX_OK);
    assert_string_equal(out, "csa-sg");
    assert_int_equal(store_meta_set(e->st, "node.org", "nisc-jp"), CTIX_OK);
    assert_int_equal(store_meta_get(e->st, "node.org", out, sizeof(out)), CTIX_OK);
    assert_string_equal(out, "nisc-jp");
    assert_int_equal(store_meta_get(e->st, "node.org", small, sizeof(small)), CTIX_ETOOBIG);
    assert_int_equal(store_meta_set(e->st, "", "x"), CTIX_EINVAL);
    assert_int_equal(store_meta_set(NULL, "k", "x"), CTIX_EINVAL);
}

static void test_orgs(void **state)
{
    struct env *e = *state;
    int64_t a = 0, b = 0;
    struct store_org o;
    struct store_org *list = NULL;
    size_t n = 0;
    char big[STORE_NAME_MAX + 1];

    assert_int_equal(store_org_add(e->st, "zeta", &a), CTIX_OK);
    assert_int_equal(store_org_add(e->st, "alpha", &b), CTIX_OK);
    assert_true(a > 0 && b > 0 && a != b);
    assert_int_equal(store_org_add(e->st, "zeta", NULL), CTIX_ECONFLICT);
    assert_int_equal(store_org_get(e->st, "zeta", &o), CTIX_OK);
    assert_int_equal(o.id, a);
    assert_string_equal(o.name, "zeta");
    assert_true(o.created_us > 0);
    assert_int_equal(store_org_get_by_id(e->st, b, &o), CTIX_OK);
    assert_string_equal(o.name, "alpha");
    assert_int_equal(store_org_get(e->st, "nobody", &o), CTIX_ENOTFOUND);
    assert_int_equal(store_org_get_by_id(e->st, 9999, &o), CTIX_ENOTFOUND);
    assert_int_equal(store_org_list(e->st, &list, &n), CTIX_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "alpha");
    assert_string_equal(list[1].name, "zeta");
    free(list);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(store_org_add(e->st, big, NULL), CTIX_EINVAL);
    assert_int_equal(store_org_add(e->st, "", NULL), CTIX_EINVAL);
}

static void test_collections(void **state)
{
    struct env *e = *state;
    struct store_collection c, got;
    struct store_collection *list = NULL;
    size_t n = 0;

    add_coll(e->st, COLL2, "");
    add_coll(e->st, "6b6a7b1e-4a1c-4d2e-9f00-000000000003", ""); /* several without alias */

    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "%s", COLL);
    snprintf(c.title, sizeof(c.title), "again");
    assert_int_equal(store_collection_add(e->st, &c), CTIX_ECONFLICT); /* id taken */
    snprintf(c.id, sizeof(c.id), "6b6a7b1e-4a1c-4d2e-9f00-000000000009");
    snprintf(c.alias, sizeof(c.alias), "main");
    assert_int_equal(store_collection_add(e->st, &c), CTIX_ECONFLICT); /* alias taken */
    snprintf(c.alias, sizeof(c.alias), "%s", COLL2);
    assert_int_equal(store_collection_add(e->st, &c), CTIX_ECONFLICT); /* alias = another id */
    snprintf(c.id, sizeof(c.id), "main");
    c.alias[0] = '\0';
    assert_int_equal(store_collection_add(e->st, &c), CTIX_ECONFLICT); /* id = another alias */

    assert_int_equal(store_collection_get(e->st, COLL, &got), CTIX_OK);
    assert_string_equal(got.alias, "main");
    assert_string_equal(got.title, "title of " COLL);
    assert_string_equal(got.description, "description");
    assert_int_equal(store_collection_get(e->st, "main", &got), CTIX_OK);
    assert_string_equal(got.id, COLL);
    assert_int_equal(store_collection_get(e->st, COLL2, &got), CTIX_OK);
    assert_string_equal(got.alias, "");
    assert_int_equal(store_collection_get(e->st, "nope", &got), CTIX_ENOTFOUND);
    assert_int_equal(store_collection_get(e->st, "", &got), CTIX_ENOTFOUND);

    assert_int_equal(store_collection_list(e->st, &list, &n), CTIX_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].id, COLL); /* creation order */
    assert_string_equal(list[1].id, COLL2);
    free(list);
}

static void test_grants(void **state)
{
    struct env *e = *state;
    int64_t org = 0;
    bool r = true, w = true;

    assert_int_equal(store_org_add(e->st, "acme", &org), CTIX_OK);
    assert_int_equal(store_grant_get(e->st, COLL, org, &r, &w), CTIX_OK);
    assert_false(r);
    assert_false(w);
    assert_int_equal(store_grant_set(e->st, COLL, org, true, false), CTIX_OK);
    assert_int_equal(store_grant_get(e->st, COLL, org, &r, &w), CTIX_OK);
    assert_true(r);
    assert_false(w);
    assert_int_equal(store_grant_set(e->st, COLL, org, false, true), CTIX_OK);
    assert_int_equal(store_grant_get(e->st, COLL, org, &r, &w), CTIX_OK);
    assert_false(r);
    assert_true(w);
    assert_int_equal(store_grant_set(e->st, COLL, org, false, false), CTIX_OK);
    assert_int_equal(store_grant_get(e->st, COLL, org, &r, &w), CTIX_OK);
    assert_false(r || w);
    assert_int_equal(store_grant_set(e->st, "nope", org, true, true), CTIX_ENOTFOUND);
    assert_int_equal(store_grant_set(e->st, COLL, org + 100, true, true), CTIX_ENOTFOUND);
    assert_int_equal(store_grant_get(e->st, "nope", org, &r, &w), CTIX_OK);
    assert_false(r || w);
}

static void test_keys(void **state)
{
    struct env *e = *state;
    unsigned char h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], h3[STORE_HASH_LEN];
    int64_t org = 0, k1 = 0, k2 = 0;
    struct store_key k;
    struct store_key *list = NULL;
    size_t n = 0;

    memset(h1, 0xab, sizeof(h1));
    memset(h2, 0xcd, sizeof(h2));
    h2[31] = 0; /* a hash with NUL bytes is still 32 bytes */
    assert_int_equal(store_org_add(e->st, "acme", &org), CTIX_OK);
    assert_int_equal(store_key_add(e->st, org, "analyst", "laptop", h1, &k1), CTIX_OK);
    assert_int_equal(store_key_add(e->st, org, "reader", "siem", h2, &k2), CTIX_OK);
    assert_int_equal(store_key_add(e->st, org, "reader", "dup", h1, NULL), CTIX_ECONFLICT);
    memset(h3, 0x11, sizeof(h3));
    assert_int_equal(store_key_add(e->st, org + 50, "reader", "x", h3, NULL), CTIX_ENOTFOUND);
    assert_int_equal(store_key_add(e->st, org, "a-role-that-is-too-long", "x", h1, NULL),
                     CTIX_EINVAL);

    assert_int_equal(store_key_find(e->st, h2, &k), CTIX_OK);
    assert_int_equal(k.id, k2);
    assert_int_equal(k.org_id, org);
    assert_string_equal(k.role, "reader");
    assert_string_equal(k.name, "siem");
    assert_false(k.revoked);
    assert_memory_equal(k.hash, h2, STORE_HASH_LEN);
    h2[0] ^= 1;
    assert_int_equal(store_key_find(e->st, h2, &k), CTIX_ENOTFOUND);

    assert_int_equal(store_key_revoke(e->st, k1), CTIX_OK);
    assert_int_equal(store_key_find(e->st, h1, &k), CTIX_OK);
    assert_true(k.revoked);
    assert_int_equal(store_key_revoke(e->st, 12345), CTIX_ENOTFOUND);

    assert_int_equal(store_key_list(e->st, &list, &n), CTIX_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, k1);
    assert_true(list[0].revoked);
    assert_int_equal(list[1].id, k2);
    assert_false(list[1].revoked);
    free(list);
}

static void test_status(void **state)
{
    struct env *e = *state;
    const char *j1 = "{\"id\":\"s1\",\"status\":\"complete\"}";
    const char *j2 = "{\"id\":\"s1\",\"status\":\"pending\"}";
    char *json = NULL;
    size_t len = 0;
    int64_t org = 0;

    assert_int_equal(store_status_get(e->st, "s1", &org, &json, &len), CTIX_ENOTFOUND);
    assert_null(json);
    assert_int_equal(store_status_put(e->st, "s1", 7, j1, strlen(j1)), CTIX_OK);
    assert_int_equal(store_status_get(e->st, "s1", &org, &json, &len), CTIX_OK);
    assert_int_equal(org, 7);
    assert_int_equal(len, strlen(j1));
    assert_string_equal(json, j1);
    free(json);
    assert_int_equal(store_status_put(e->st, "s1", 8, j2, strlen(j2)), CTIX_OK);
    assert_int_equal(store_status_get(e->st, "s1", &org, &json, &len), CTIX_OK);
    assert_int_equal(org, 8);
    assert_string_equal(json, j2);
    free(json);
}

/* A status written with the objects: the callback sees every result, and its failure takes the
 * objects back out with it. */
struct status_ctx {
    size_t calls;
    enum store_put_result first;
    int64_t first_added;
    bool fail;
    char json[128];
};

static enum ctix_rc status_fn(void *ctx, const enum store_put_result *res, const int64_t *added,
                              const char **json, size_t *len)
{
    struct status_ctx *c = ctx;

    c->calls++;
    c->first = res[0];
    c->first_added = added[0];
    snprintf(c->json, sizeof(c->json), "{\"status\":\"complete\",\"first\":%d}", (int)res[0]);
    *json = c->json;
    *len = strlen(c->json);
    return c->fail ? CTIX_EIO : CTIX_OK;
}

static void test_put_with_status(void **state)
{
    struct env *e = *state;
    struct obj a, b;
    enum store_put_result res[2];
    int64_t added[2];
    struct status_ctx c = {0};
    struct store_status_in st = {"st-1", 42, status_fn, &c};
    char *json = NULL;
    size_t len = 0;
    int64_t org = 0;

    obj_make(&a, "indicator", 1, 3, "2.1", "");
    obj_make(&b, "indicator", 2, 3, "2.1", "");
    assert_int_equal(store_objs_put_status(e->st, COLL, &a.in, 1, res, added, &st), CTIX_OK);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.first, STORE_PUT_STORED);
    assert_true(c.first_added > 0);
    assert_int_equal(store_status_get(e->st, "st-1", &org, &json, &len), CTIX_OK);
    assert_int_equal(org, 42);
    assert_string_equal(json, "{\"status\":\"complete\",\"first\":0}");
    free(json);
    assert_int_equal(count(e->st, COLL), 1);

    /* the callback fails: neither b nor the status are kept */
    c.fail = true;
    st.status_id = "st-2";
    assert_int_equal(store_objs_put_status(e->st, COLL, &b.in, 1, res, added, &st), CTIX_EIO);
    assert_int_equal(count(e->st, COLL), 1);
    assert_int_equal(store_status_get(e->st, "st-2", &org, &json, &len), CTIX_ENOTFOUND);

    /* an envelope with nothing to store still leaves its status */
    c.fail = false;
    st.status_id = "st-3";
    assert_int_equal(store_objs_put_status(e->st, COLL, NULL, 0, res, added, &st), CTIX_OK);
    assert_int_equal(store_status_get(e->st, "st-3", &org, &json, &len), CTIX_OK);
    free(json);
    /* a status needs its results arrays */
    assert_int_equal(store_objs_put_status(e->st, COLL, &b.in, 1, NULL, added, &st), CTIX_EINVAL);
}

/* ---- putting objects ---- */

static void test_put_date_added_increasing(void **state)
{
    struct env *e = *state;
    enum { N = 200 };
    struct obj *o = calloc(N, sizeof(*o));
    struct store_obj_in in[N];
    enum store_put_result res[N];
    int64_t added[N];
    struct store_query q = query_all();
    struct rows *rs;

    assert_non_null(o);
    for (int i = 0; i < N; i++) {
        obj_make(&o[i], "indicator", i, 1, "2.1", "");
        in[i] = o[i].in;
    }
    /* Two batches: the second one must continue after the first. */
    assert_int_equal(store_objs_put(e->st, COLL, in, N / 2, res, added), CTIX_OK);
    assert_int_equal(store_objs_put(e->st, COLL, in + N / 2, N / 2, res + N / 2, added + N / 2),
                     CTIX_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(res[i], STORE_PUT_STORED);
        if (i > 0) {
            assert_true(added[i] > added[i - 1]);
        }
    }
    q.vsel = STORE_V_ALL;
    q.want_json = true;
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(rs->added[i], added[i]);
        assert_string_equal(rs->json[i], o[i].json);
    }
    free(rs);
    /* Collections have their own clocks but nothing forbids equal values across them. */
    add_coll(e->st, COLL2, "");
    assert_int_equal(store_objs_put(e->st, COLL2, in, 3, res, added), CTIX_OK);
    assert_int_equal(count(e->st, COLL2), 3);
    assert_int_equal(count(e->st, COLL), N);
    free(o);
}

static void test_put_duplicate_and_conflict(void **state)
{
    struct env *e = *state;
    struct obj a, same_value, different;
    struct obj batch[3];
    struct store_obj_in in[3];
    enum store_put_result res[3];
    int64_t added[3], first = 0, again = 0;
    struct store_query q = query_all();
    struct rows *rs;

    obj_make(&a, "indicator", 1, 5, "2.1", ",\"name\":\"a\"");
    assert_int_equal(put1(e->st, &a, &first), STORE_PUT_STORED);
    assert_int_equal(put1(e->st, &a, &again), STORE_PUT_DUPLICATE);
    assert_int_equal(again, first);

    /* The same JSON value written differently (spacing, member order) is a duplicate. */
    same_value = a;
    snprintf(same_value.json, sizeof(same_value.json),
             "{ \"name\" : \"a\", \"modified\":\"%s\", \"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"type\":\"indicator\" }",
             a.version, a.id);
    same_value.in.json = same_value.json;
    same_value.in.json_len = strlen(same_value.json);
    assert_int_equal(put1(e->st, &same_value, &again), STORE_PUT_DUPLICATE);
    assert_int_equal(again, first);

    obj_make(&different, "indicator", 1, 5, "2.1", ",\"name\":\"b\"");
    assert_int_equal(put1(e->st, &different, &again), STORE_PUT_CONFLICT);
    assert_int_equal(again, first);

    /* Within one batch: stored, then the same again, then a conflicting copy. */
    obj_make(&batch[0], "malware", 2, 3, "2.1", ",\"name\":\"x\"");
    obj_make(&batch[1], "malware", 2, 3, "2.1", ",\"name\":\"x\"");
    obj_make(&batch[2], "malware", 2, 3, "2.1", ",\"name\":\"y\"");
    for (int i = 0; i < 3; i++) {
        in[i] = batch[i].in;
    }
    assert_int_equal(store_objs_put(e->st, COLL, in, 3, res, added), CTIX_OK);
    assert_int_equal(res[0], STORE_PUT_STORED);
    assert_int_equal(res[1], STORE_PUT_DUPLICATE);
    assert_int_equal(res[2], STORE_PUT_CONFLICT);
    assert_int_equal(added[1], added[0]);
    assert_int_equal(added[2], added[0]);

    /* The first copy is kept, byte for byte. */
    q.vsel = STORE_V_ALL;
    q.want_json = true;
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 2);
    assert_string_equal(rs->json[0], a.json);
    assert_string_equal(rs->json[1], batch[0].json);
    free(rs);
}

static void test_put_sco_without_version(void **state)
{
    struct env *e = *state;
    struct obj ip, ip_same, ip_other;
    int64_t a1 = 0, a2 = 0;
    char expect[28];
    char item[128];
    struct store_query q = query_all();
    struct rows *rs;

    obj_make(&ip, "ipv4-addr", 1, 0, "2.1", ",\"value\":\"10.0.0.1\"");
    assert_int_equal(put1(e->st, &ip, &a1), STORE_PUT_STORED);
    ip_same = ip;
    ip_same.in.json = ip_same.json;
    assert_int_equal(put1(e->st, &ip_same, &a2), STORE_PUT_DUPLICATE);
    assert_int_equal(a2, a1);
    obj_make(&ip_other, "ipv4-addr", 1, 0, "2.1", ",\"value\":\"10.0.0.2\"");
    assert_int_equal(put1(e->st, &ip_other, &a2), STORE_PUT_CONFLICT);
    assert_int_equal(a2, a1);

    /* Its version is its date_added, and it is both the first and the last. */
    ctix_ts_format_us(a1, expect);
    snprintf(item, sizeof(item), "%s@%s", ip.id, expect);
    for (unsigned vsel = STORE_V_LAST; vsel <= STORE_V_ALL; vsel <<= 1) {
        q.vsel = vsel;
        rs = run(e->st, &q, NULL);
        assert_int_equal(rs->n, 1);
        assert_string_equal(rs->item[0], item);
        free(rs);
    }
    /* And its version key is the padded form. */
    {
        char key[32];
        const char *keys[] = {key};

        snprintf(key, sizeof(key), "%.26s000Z", expect);
        q.vsel = 0;
        q.version_keys = keys;
        q.n_versions = 1;
        rs = run(e->st, &q, NULL);
        assert_int_equal(rs->n, 1);
        free(rs);
    }
}

static void test_put_rollback(void **state)
{
    struct env *e = *state;
    struct obj o[5];
    struct store_obj_in in[5];
    enum store_put_result res[5];
    int64_t added[5];

    for (int i = 0; i < 5; i++) {
        obj_make(&o[i], "indicator", i, 1, "2.1", "");
        in[i] = o[i].in;
    }
    /* A database failure after three objects were written: none of them stays. */
    store__sqlite_fail_put_at(e->st, 4);
    assert_int_equal(store_objs_put(e->st, COLL, in, 5, res, added), CTIX_EIO);
    store__sqlite_fail_put_at(e->st, 0);
    assert_int_equal(count(e->st, COLL), 0);

    /* A malformed object in the middle: the same. */
    in[2].version_key = NULL;
    assert_int_equal(store_objs_put(e->st, COLL, in, 5, res, added), CTIX_EINVAL);
    assert_int_equal(count(e->st, COLL), 0);
    in[2] = o[2].in;
    in[2].id = NULL;
    assert_int_equal(store_objs_put(e->st, COLL, in, 5, res, added), CTIX_EINVAL);
    assert_int_equal(count(e->st, COLL), 0);
    in[2] = o[2].in;
    in[2].json_len = 0;
    assert_int_equal(store_objs_put(e->st, COLL, in, 5, res, added), CTIX_EINVAL);
    assert_int_equal(count(e->st, COLL), 0);
    in[2] = o[2].in;

    assert_int_equal(store_objs_put(e->st, "no-such-collection", in, 5, res, added),
                     CTIX_ENOTFOUND);
    assert_int_equal(store_objs_count(e->st, "no-such-collection", added), CTIX_ENOTFOUND);

    /* The store is still usable, and the same objects are new. */
    assert_int_equal(store_objs_put(e->st, COLL, in, 5, res, added), CTIX_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(res[i], STORE_PUT_STORED);
    }
    assert_int_equal(count(e->st, COLL), 5);
    assert_int_equal(store_objs_put(e->st, COLL, in, 0, NULL, NULL), CTIX_OK);
}

/* ---- versions: is_last / is_first ---- */

/* Puts versions (days) of object 1, one per call or all in one batch. */
static void put_versions(struct store *st, const int *days, size_t n, bool one_batch)
{
    struct obj o[8];
    struct store_obj_in in[8];
    enum store_put_result res[8];

    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        obj_make(&o[i], "report", 1, days[i], "2.1", "");
        in[i] = o[i].in;
    }
    if (one_batch) {
        assert_int_equal(store_objs_put(st, COLL, in, n, res, NULL), CTIX_OK);
    } else {
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(store_objs_put(st, COLL, &in[i], 1, &res[i], NULL), CTIX_OK);
        }
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(res[i], STORE_PUT_STORED);
    }
}

/* The versions (days, ascending by date_added) that vsel selects, as "d,d,d". */
static void selected(struct store *st, unsigned vsel, const char *const *keys, size_t n_keys,
                     char *out, size_t n)
{
    struct store_query q = query_all();
    struct rows *rs;
    size_t len = 0;

    q.vsel = vsel;
    q.version_keys = keys;
    q.n_versions = n_keys;
    rs = run(st, &q, NULL);
    out[0] = '\0';
    for (size_t i = 0; i < rs->n; i++) {
        const char *at = strchr(rs->item[i], '@');

        assert_non_null(at);
        /* "@2024-01-DD…": the day */
        len += (size_t)snprintf(out + len, n - len, "%s%.2s", i > 0 ? "," : "", at + 9);
    }
    free(rs);
}

static void test_versions_out_of_order(void **state)
{
    struct env *e = *state;
    static const int days[] = {10, 5, 20, 15};
    const char *k15[] = {"2024-01-15T00:00:00.000000000Z"};
    const char *k5_10[] = {"2024-01-05T00:00:00.000000000Z", "2024-01-10T00:00:00.000000000Z"};
    char got[64];

    for (int batch = 0; batch < 2; batch++) {
        if (batch == 1) {
            size_t nd = 0;

            assert_int_equal(store_obj_delete(e->st, COLL,
                                              "report--00000000-0000-4000-8000-"
                                              "000000000001",
                                              NULL, &nd),
                             CTIX_OK);
            assert_int_equal(nd, 4);
        }
        put_versions(e->st, days, 4, batch == 1);
        selected(e->st, STORE_V_LAST, NULL, 0, got, sizeof(got));
        assert_string_equal(got, "20");
        selected(e->st, 0, NULL, 0, got, sizeof(got)); /* the default is last */
        assert_string_equal(got, "20");
        selected(e->st, STORE_V_FIRST, NULL, 0, got, sizeof(got));
        assert_string_equal(got, "05");
        selected(e->st, STORE_V_ALL, NULL, 0, got, sizeof(got));
        assert_string_equal(got, "10,05,20,15"); /* in date_added order */
        selected(e->st, STORE_V_FIRST | STORE_V_LAST, NULL, 0, got, sizeof(got));
        assert_string_equal(got, "05,20");
        selected(e->st, 0, k15, 1, got, sizeof(got));
        assert_string_equal(got, "15");
        selected(e->st, STORE_V_LAST, k15, 1, got, sizeof(got));
        assert_string_equal(got, "20,15");
        selected(e->st, STORE_V_FIRST | STORE_V_LAST, k5_10, 2, got, sizeof(got));
        assert_string_equal(got, "10,05,20");
        selected(e->st, STORE_V_ALL, k15, 1, got, sizeof(got));
        assert_string_equal(got, "10,05,20,15");
    }
}

static void test_delete_keeps_flags(void **state)
{
    struct env *e = *state;
    static const int days[] = {10, 5, 20, 15};
    const char *id = "report--00000000-0000-4000-8000-000000000001";
    const char *k15[] = {"2024-01-15T00:00:00.000000000Z"};
    const char *k99[] = {"2024-01-28T00:00:00.000000000Z"};
    const char *spec20[] = {"2.0"};
    struct store_query dq;
    size_t nd = 99;
    char got[64];

    put_versions(e->st, days, 4, false);
    memset(&dq, 0, sizeof(dq));

    dq.vsel = STORE_V_LAST; /* deletes 20: 15 becomes the last */
    assert_int_equal(store_obj_delete(e->st, COLL, id, &dq, &nd), CTIX_OK);
    assert_int_equal(nd, 1);
    selected(e->st, STORE_V_LAST, NULL, 0, got, sizeof(got));
    assert_string_equal(got, "15");

    dq.vsel = STORE_V_FIRST; /* deletes 05: 10 becomes the first */
    assert_int_equal(store_obj_delete(e->st, COLL, id, &dq, &nd), CTIX_OK);
    assert_int_equal(nd, 1);
    selected(e->st, STORE_V_FIRST, NULL, 0, got, sizeof(got));
    assert_string_equal(got, "10");

    dq.vsel = 0;
    dq.version_keys = k99; /* no such version: nothing deleted, but the object exists */
    dq.n_versions = 1;
    assert_int_equal(store_obj_delete(e->st, COLL, id, &dq, &nd), CTIX_OK);
    assert_int_equal(nd, 0);
    dq.version_keys = k15;
    dq.spec_versions = spec20; /* 15 is spec 2.1: filtered out */
    dq.n_spec_versions = 1;
    assert_int_equal(store_obj_delete(e->st, COLL, id, &dq, &nd), CTIX_OK);
    assert_int_equal(nd, 0);
    dq.n_spec_versions = 0;
    assert_int_equal(store_obj_delete(e->st, COLL, id, &dq, &nd), CTIX_OK);
    assert_int_equal(nd, 1);
    selected(e->st, STORE_V_ALL, NULL, 0, got, sizeof(got));
    assert_string_equal(got, "10");
    selected(e->st, STORE_V_FIRST | STORE_V_LAST, NULL, 0, got, sizeof(got));
    assert_string_equal(got, "10");

    assert_int_equal(store_obj_delete(e->st, COLL, id, NULL, &nd), CTIX_OK);
    assert_int_equal(nd, 1);
    assert_int_equal(store_obj_delete(e->st, COLL, id, NULL, &nd), CTIX_ENOTFOUND);
    assert_int_equal(store_obj_delete(e->st, "nope", id, NULL, &nd), CTIX_ENOTFOUND);
    assert_int_equal(count(e->st, COLL), 0);

    /* After deleting everything the id is new again. */
    put_versions(e->st, days, 1, false);
    selected(e->st, STORE_V_FIRST, NULL, 0, got, sizeof(got));
    assert_string_equal(got, "10");
}

/* ---- filters ---- */

/* The fixture of the filter table: objects n=1..6, in this put order. */
static void put_filter_fixture(struct store *st)
{
    struct obj o;

    obj_make(&o, "indicator", 1, 1, "2.1", ""); /* 1@01 */
    (void)put1(st, &o, NULL);
    obj_make(&o, "malware", 2, 1, "2.1", ""); /* 2@01 */
    (void)put1(st, &o, NULL);
    obj_make(&o, "indicator", 3, 2, "2.0", ""); /* 3@02 */
    (void)put1(st, &o, NULL);
    obj_make(&o, "indicator", 1, 3, "2.1", ""); /* 1@03: the last of 1 */
    (void)put1(st, &o, NULL);
    obj_make(&o, "report", 4, 1, "2.1", ""); /* 4@01 */
    (void)put1(st, &o, NULL);
    obj_make(&o, "malware", 2, 4, "2.0", ""); /* 2@04: the last of 2 */
    (void)put1(st, &o, NULL);
    obj_make(&o, "ipv4-addr", 5, 0, "2.1", ""); /* 5: an SCO */
    (void)put1(st, &o, NULL);
    obj_make(&o, "indicator", 1, 2, "2.1", ""); /* 1@02: a middle version, added last */
    (void)put1(st, &o, NULL);
}

struct filter_case {
    const char *name;
    const char *ids[3];
    const char *types[3];
    const char *specs[2];
    unsigned vsel;
    const char *vkeys[2];
    bool object_1;      /* object_id = object 1 */
    const char *expect; /* "n@day,…" in date_added order; day 00 is the SCO */
};

#define ID(t, n) t "--00000000-0000-4000-8000-00000000000" #n
#define D(d)     "2024-01-" #d "T00:00:00.000000000Z"

static const struct filter_case filter_cases[] = {
    {"default last", {0}, {0}, {0}, 0, {0}, false, "3@02,1@03,4@01,2@04,5@00"},
    {"all", {0}, {0}, {0}, STORE_V_ALL, {0}, false, "1@01,2@01,3@02,1@03,4@01,2@04,5@00,1@02"},
    {"first", {0}, {0}, {0}, STORE_V_FIRST, {0}, false, "1@01,2@01,3@02,4@01,5@00"},
    {"type", {0}, {"indicator"}, {0}, 0, {0}, false, "3@02,1@03"},
    {"types", {0}, {"malware", "report"}, {0}, 0, {0}, false, "4@01,2@04"},
    {"type all", {0}, {"indicator"}, {0}, STORE_V_ALL, {0}, false, "1@01,3@02,1@03,1@02"},
    {"unknown type", {0}, {"tool"}, {0}, 0, {0}, false, ""},
    {"id", {ID("malware", 2)}, {0}, {0}, STORE_V_ALL, {0}, false, "2@01,2@04"},
    {"ids", {ID("malware", 2), ID("indicator", 3)}, {0}, {0}, 0, {0}, false, "3@02,2@04"},
    {"id and type", {ID("malware", 2)}, {"indicator"}, {0}, 0, {0}, false, ""},
    {"spec 2.0", {0}, {0}, {"2.0"}, STORE_V_ALL, {0}, false, "3@02,2@04"},
    {"spec 2.1 last", {0}, {0}, {"2.1"}, 0, {0}, false, "1@03,4@01,5@00"},
    {"spec both", {0}, {0}, {"2.0", "2.1"}, 0, {0}, false, "3@02,1@03,4@01,2@04,5@00"},
    {"spec and type", {0}, {"malware"}, {"2.1"}, STORE_V_ALL, {0}, false, "2@01"},
    {"version", {0}, {0}, {0}, 0, {D(01)}, false, "1@01,2@01,4@01"},
    {"versions", {0}, {0}, {0}, 0, {D(01), D(02)}, false, "1@01,2@01,3@02,4@01,1@02"},
    {"version or last", {0}, {"indicator"}, {0}, STORE_V_LAST, {D(01)}, false, "1@01,3@02,1@03"},
    {"version or first",
     {0},
     {0},
     {0},
     STORE_V_FIRST,
     {D(04)},
     false,
     "1@01,2@01,3@02,4@01,2@04,5@00"},
    {"object", {0}, {0}, {0}, STORE_V_ALL, {0}, true, "1@01,1@03,1@02"},
    {"object last", {0}, {0}, {0}, 0, {0}, true, "1@03"},
    {"object first", {0}, {0}, {0}, STORE_V_FIRST, {0}, true, "1@01"},
    {"object version", {0}, {0}, {0}, 0, {D(02)}, true, "1@02"},
    {"object and other id", {ID("malware", 2)}, {0}, {0}, STORE_V_ALL, {0}, true, ""},
};

static size_t count_list(const char *const *v, size_t max)
{
    size_t n = 0;

    while (n < max && v[n] != NULL) {
        n++;
    }
    return n;
}

/* "indicator--…-000000000001@2024-01-03T…" → "1@03", "…@<date_added form>" → "n@00" */
static void short_item(const char *item, char *out, size_t n)
{
    const char *at = strchr(item, '@');
    bool sco = strncmp(item, "ipv4-addr", 9) == 0;

    snprintf(out, n, "%c@%.2s", at[-1], sco ? "00" : at + 9);
}

static void test_filters(void **state)
{
    struct env *e = *state;

    put_filter_fixture(e->st);
    for (size_t c = 0; c < CTIX_ARRAY_LEN(filter_cases); c++) {
        const struct filter_case *fc = &filter_cases[c];
        struct store_query q = query_all();
        struct rows *rs;
        char got[256] = "";
        size_t len = 0;

        q.ids = fc->ids;
        q.n_ids = count_list(fc->ids, 3);
        q.types = fc->types;
        q.n_types = count_list(fc->types, 3);
        q.spec_versions = fc->specs;
        q.n_spec_versions = count_list(fc->specs, 2);
        q.vsel = fc->vsel;
        q.version_keys = fc->vkeys;
        q.n_versions = count_list(fc->vkeys, 2);
        q.object_id = fc->object_1 ? ID("indicator", 1) : NULL;
        rs = run(e->st, &q, NULL);
        for (size_t i = 0; i < rs->n; i++) {
            char s[16];

            short_item(rs->item[i], s, sizeof(s));
            len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i > 0 ? "," : "", s);
        }
        free(rs);
        if (strcmp(got, fc->expect) != 0) {
            fail_msg("case \"%s\": got \"%s\", expected \"%s\"", fc->name, got, fc->expect);
        }
    }
}

static void test_query_added_after_limit_json(void **state)
{
    struct env *e = *state;
    struct store_query q = query_all();
    struct rows *all, *rs;
    bool more = true;

    put_filter_fixture(e->st);
    q.vsel = STORE_V_ALL;
    q.want_json = true;
    all = run(e->st, &q, &more);
    assert_int_equal(all->n, 8);
    assert_false(more);
    assert_false(all->json_null[0]);
    assert_non_null(strstr(all->json[0], "\"id\":\"indicator--"));

    /* added_after is strict; limit and more. */
    q.added_after_us = all->added[2];
    q.limit = 3;
    q.want_json = false;
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 3);
    assert_true(more);
    assert_string_equal(rs->item[0], all->item[3]);
    assert_int_equal(rs->added[2], all->added[5]);
    assert_true(rs->json_null[0]);
    free(rs);
    q.limit = 5; /* exactly the rest */
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 5);
    assert_false(more);
    free(rs);
    q.added_after_us = all->added[7];
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 0);
    assert_false(more);
    free(rs);
    free(all);
}

static enum ctix_rc stop_cb(void *ctx, const struct store_row *r)
{
    int *n = ctx;

    (void)r;
    (*n)++;
    return *n == 2 ? CTIX_EDENIED : CTIX_OK;
}

static void test_query_errors(void **state)
{
    struct env *e = *state;
    struct store_query q = query_all();
    const char *bad_list[] = {NULL};
    int n = 0;
    bool more = true;

    put_filter_fixture(e->st);
    q.vsel = STORE_V_ALL;
    assert_int_equal(store_objs_query(e->st, &q, stop_cb, &n, &more), CTIX_EDENIED);
    assert_int_equal(n, 2);
    /* The statement was reset: the next query works. */
    n = -100;
    assert_int_equal(store_objs_query(e->st, &q, stop_cb, &n, &more), CTIX_OK);

    q.coll_id = "no-such-collection";
    assert_int_equal(store_objs_query(e->st, &q, stop_cb, &n, &more), CTIX_ENOTFOUND);
    q.coll_id = COLL;
    q.limit = 0;
    assert_int_equal(store_objs_query(e->st, &q, stop_cb, &n, &more), CTIX_EINVAL);
    q.limit = 10;
    q.types = bad_list;
    q.n_types = 1;
    assert_int_equal(store_objs_query(e->st, &q, stop_cb, &n, &more), CTIX_EINVAL);
    q.types = NULL;
    assert_int_equal(store_objs_query(e->st, &q, stop_cb, &n, &more), CTIX_EINVAL);
    q.n_types = 0;
    assert_int_equal(store_objs_query(e->st, &q, NULL, &n, &more), CTIX_EINVAL);
    /* more may be NULL */
    n = -100;
    assert_int_equal(store_objs_query(e->st, &q, stop_cb, &n, NULL), CTIX_OK);
}

/* Many pages through added_after: every row exactly once (date_added is unique and strictly
 * increasing across pages, and the totals match), with more false only on the last page. */
static void test_pagination(void **state)
{
    struct env *e = *state;
    enum { N = 600, BATCH = 50 };
    struct obj *o = calloc(BATCH, sizeof(*o));
    struct store_obj_in in[BATCH];
    enum store_put_result res[BATCH];
    size_t total = 0, n_last = 0;

    assert_non_null(o);
    /* Objects n = 0..299 get version 1, then n = 0..299 step 2 get version 2, … */
    for (int b = 0; b < N / BATCH; b++) {
        for (int i = 0; i < BATCH; i++) {
            int k = b * BATCH + i;
            int id = k < 300 ? k : (k - 300) * 2 % 300;
            int day = k < 300 ? 1 : 2 + (k - 300) / 150;

            obj_make(&o[i], "indicator", id, day, "2.1", "");
            in[i] = o[i].in;
        }
        assert_int_equal(store_objs_put(e->st, COLL, in, BATCH, res, NULL), CTIX_OK);
    }
    for (unsigned vsel = STORE_V_LAST; vsel <= STORE_V_ALL; vsel <<= 1) {
        struct store_query q = query_all();
        int64_t prev = -1;
        bool more = true;
        size_t rows = 0;

        if (vsel == STORE_V_FIRST) {
            continue;
        }
        q.vsel = vsel;
        q.limit = 7;
        while (more) {
            struct rows *rs = run(e->st, &q, &more);

            assert_true(rs->n > 0);
            assert_true(rs->n <= 7);
            for (size_t i = 0; i < rs->n; i++) {
                assert_true(rs->added[i] > prev);
                prev = rs->added[i];
            }
            rows += rs->n;
            q.added_after_us = rs->added[rs->n - 1];
            free(rs);
        }
        if (vsel == STORE_V_ALL) {
            total = rows;
        } else {
            n_last = rows;
        }
    }
    assert_int_equal(total, N);
    assert_int_equal(n_last, 300);
    assert_int_equal(count(e->st, COLL), N);
    free(o);
}

/* ---- threads ---- */

enum { W_BATCHES = 40, W_BATCH = 25, N_READERS = 4 };

struct thr {
    struct store *st;
    atomic_bool *done;
    int reads;
    bool failed;
};

static enum ctix_rc count_cb(void *ctx, const struct store_row *r)
{
    size_t *n = ctx;

    (void)r;
    (*n)++;
    return CTIX_OK;
}

static void *reader_main(void *arg)
{
    struct thr *t = arg;
    int64_t prev = 0;

    while (!*t->done || t->reads < 3) {
        struct store_query q = query_all();
        size_t n = 0;
        bool more = false;
        int64_t c = 0;

        q.vsel = STORE_V_ALL;
        q.limit = 100000;
        /* A batch is one transaction: a reader sees whole batches only. */
        if (store_objs_query(t->st, &q, count_cb, &n, &more) != CTIX_OK || n % W_BATCH != 0 ||
            (int64_t)n < prev || store_objs_count(t->st, COLL, &c) != CTIX_OK || c % W_BATCH != 0 ||
            c < (int64_t)n) {
            t->failed = true;
            break;
        }
        prev = (int64_t)n;
        t->reads++;
    }
    return NULL;
}

static void *writer_main(void *arg)
{
    struct thr *t = arg;
    struct obj *o = calloc(W_BATCH, sizeof(*o));
    struct store_obj_in in[W_BATCH];
    enum store_put_result res[W_BATCH];

    for (int b = 0; o != NULL && b < W_BATCHES && !t->failed; b++) {
        for (int i = 0; i < W_BATCH; i++) {
            obj_make(&o[i], "indicator", b * W_BATCH + i, 1, "2.1", "");
            in[i] = o[i].in;
        }
        t->failed = store_objs_put(t->st, COLL, in, W_BATCH, res, NULL) != CTIX_OK;
        t->reads++;
    }
    free(o);
    t->failed = t->failed || o == NULL;
    *t->done = true;
    return NULL;
}

static void test_threads(void **state)
{
    struct env *e = *state;
    pthread_t rt[N_READERS], wt;
    struct thr r[N_READERS], w;
    atomic_bool done = false;
    bool ok;

    memset(&w, 0, sizeof(w));
    w.st = e->st;
    w.done = &done;
    for (int i = 0; i < N_READERS; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].st = e->st;
        r[i].done = &done;
        assert_int_equal(pthread_create(&rt[i], NULL, reader_main, &r[i]), 0);
    }
    assert_int_equal(pthread_create(&wt, NULL, writer_main, &w), 0);
    /* Other threads use the rest of the API at the same time. */
    for (int i = 0; i < 20; i++) {
        char name[32];
        struct store_org org;

        snprintf(name, sizeof(name), "org-%d", i);
        assert_int_equal(store_org_add(e->st, name, NULL), CTIX_OK);
        assert_int_equal(store_org_get(e->st, name, &org), CTIX_OK);
    }
    pthread_join(wt, NULL);
    ok = !w.failed;
    for (int i = 0; i < N_READERS; i++) {
        pthread_join(rt[i], NULL);
        ok = ok && !r[i].failed && r[i].reads > 0;
    }
    assert_true(ok);
    assert_int_equal(count(e->st, COLL), W_BATCHES * W_BATCH);
}

/* ---- helpers and arguments ---- */

/* ---- federation: organisations' client flag, peers, cursors, provenance, trust, outbox ---- */

static void test_org_client(void **state)
{
    struct env *e = *state;
    struct store_org o;
    struct store_org *list = NULL;
    size_t n = 0;
    int64_t id = 0, other = 0;

    assert_int_equal(store_org_add(e->st, "cii-owner", &id), CTIX_OK);
    assert_int_equal(store_org_add(e->st, "stranger", &other), CTIX_OK);
    assert_int_equal(store_org_get(e->st, "cii-owner", &o), CTIX_OK);
    assert_false(o.client);
    assert_int_equal(store_org_set_client(e->st, id, true), CTIX_OK);
    assert_int_equal(store_org_get_by_id(e->st, id, &o), CTIX_OK);
    assert_true(o.client);
    assert_int_equal(store_org_list(e->st, &list, &n), CTIX_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "cii-owner");
    assert_true(list[0].client);
    assert_false(list[1].client);
    free(list);
    assert_int_equal(store_org_set_client(e->st, id, false), CTIX_OK);
    assert_int_equal(store_org_get(e->st, "cii-owner", &o), CTIX_OK);
    assert_false(o.client);
    assert_int_equal(store_org_set_client(e->st, other + 100, true), CTIX_ENOTFOUND);
    assert_int_equal(store_org_set_client(NULL, id, true), CTIX_EINVAL);
}

static void peer_make(struct store_peer *p, const char *name, int64_t org_id)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->org_id = org_id;
    snprintf(p->url, sizeof(p->url), "https://%s.example/api/", name);
    snprintf(p->token, sizeof(p->token), "secret-of-%s", name);
    snprintf(p->pubkey, sizeof(p->pubkey), "ed25519:key-of-%s", name);
    p->max_tlp = 3;
    p->n_errors = 77; /* status fields are ignored by add */
}

static int64_t peer_new(struct store *st, const char *name)
{
    struct store_peer p;
    char org[64];
    int64_t org_id = 0, id = 0;

    snprintf(org, sizeof(org), "org of %s", name);
    assert_int_equal(store_org_add(st, org, &org_id), CTIX_OK);
    peer_make(&p, name, org_id);
    assert_int_equal(store_peer_add(st, &p, &id), CTIX_OK);
    assert_true(id > 0);
    return id;
}

static void test_peers(void **state)
{
    struct env *e = *state;
    struct store_peer p, got;
    struct store_peer *list = NULL;
    size_t n = 0;
    int64_t org = 0, id = 0, id2 = 0, id3 = 0;

    assert_int_equal(store_org_add(e->st, "nisc", &org), CTIX_OK);
    peer_make(&p, "nisc-jp", org);
    assert_int_equal(store_peer_add(e->st, &p, &id), CTIX_OK);
    assert_true(id > 0);
    assert_int_equal(store_peer_add(e->st, &p, NULL), CTIX_ECONFLICT);
    peer_make(&p, "nobody", org + 100);
    assert_int_equal(store_peer_add(e->st, &p, NULL), CTIX_ENOTFOUND);

    /* Bad input. */
    peer_make(&p, "", org);
    assert_int_equal(store_peer_add(e->st, &p, NULL), CTIX_EINVAL);
    peer_make(&p, "x", org);
    p.url[0] = '\0';
    assert_int_equal(store_peer_add(e->st, &p, NULL), CTIX_EINVAL);
    peer_make(&p, "x", org);
    p.max_tlp = 6;
    assert_int_equal(store_peer_add(e->st, &p, NULL), CTIX_EINVAL);
    p.max_tlp = -1;
    assert_int_equal(store_peer_add(e->st, &p, NULL), CTIX_EINVAL);
    peer_make(&p, "x", org);
    memset(p.token, 'a', sizeof(p.token)); /* unterminated */
    assert_int_equal(store_peer_add(e->st, &p, NULL), CTIX_EINVAL);
    assert_int_equal(store_peer_add(e->st, NULL, NULL), CTIX_EINVAL);

    assert_int_equal(store_peer_get(e->st, "nisc-jp", &got), CTIX_OK);
    assert_int_equal(got.id, id);
    assert_int_equal(got.org_id, org);
    assert_string_equal(got.url, "https://nisc-jp.example/api/");
    assert_string_equal(got.token, "secret-of-nisc-jp");
    assert_string_equal(got.pubkey, "ed25519:key-of-nisc-jp");
    assert_int_equal(got.max_tlp, 3);
    assert_true(got.created_us > 0);
    assert_int_equal(got.n_errors, 0);
    assert_int_equal(got.last_ok_us, 0);
    assert_string_equal(got.last_err, "");
    assert_int_equal(store_peer_get_by_id(e->st, id, &got), CTIX_OK);
    assert_string_equal(got.name, "nisc-jp");
    assert_int_equal(store_peer_get(e->st, "none", &got), CTIX_ENOTFOUND);
    assert_int_equal(store_peer_get_by_id(e->st, id + 100, &got), CTIX_ENOTFOUND);

    /* One organisation may run several nodes. */
    peer_make(&p, "a-nisc-backup", org);
    assert_int_equal(store_peer_add(e->st, &p, &id2), CTIX_OK);
    assert_int_equal(store_peer_list(e->st, &list, &n), CTIX_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "a-nisc-backup");
    assert_string_equal(list[1].name, "nisc-jp");
    assert_int_equal(list[1].id, id);
    free(list);

    /* Status round trip. */
    assert_int_equal(store_peer_get(e->st, "nisc-jp", &got), CTIX_OK);
    got.last_ok_us = 1000;
    got.last_err_us = 2000;
    snprintf(got.last_err, sizeof(got.last_err), "HTTP 503 from the peer");
    got.n_errors = 3;
    got.n_received = 400;
    got.n_sent = 50;
    got.n_quarantined = 2;
    got.lag_objects = 12;
    got.lag_us = 3000000;
    snprintf(got.url, sizeof(got.url), "https://changed.example/"); /* not a status field */
    assert_int_equal(store_peer_status_set(e->st, &got), CTIX_OK);
    memset(&p, 0, sizeof(p));
    assert_int_equal(store_peer_get_by_id(e->st, id, &p), CTIX_OK);
    assert_int_equal(p.last_ok_us, 1000);
    assert_int_equal(p.last_err_us, 2000);
    assert_string_equal(p.last_err, "HTTP 503 from the peer");
    assert_int_equal(p.n_errors, 3);
    assert_int_equal(p.n_received, 400);
    assert_int_equal(p.n_sent, 50);
    assert_int_equal(p.n_quarantined, 2);
    assert_int_equal(p.lag_objects, 12);
    assert_int_equal(p.lag_us, 3000000);
    assert_string_equal(p.url, "https://nisc-jp.example/api/");
    got.id = id + 100;
    assert_int_equal(store_peer_status_set(e->st, &got), CTIX_ENOTFOUND);

    /* Removal takes the peer's collections and queue, and nobody else's. */
    assert_int_equal(store_peer_coll_add(e->st, id, COLL, STORE_DIR_PULL), CTIX_OK);
    assert_int_equal(store_peer_coll_add(e->st, id, COLL, STORE_DIR_PUSH), CTIX_OK);
    assert_int_equal(store_peer_coll_add(e->st, id2, COLL, STORE_DIR_PULL), CTIX_OK);
    assert_int_equal(store_outbox_add(e->st, id, COLL, "{}", 2, NULL), CTIX_OK);
    assert_int_equal(store_outbox_add(e->st, id2, COLL, "{}", 2, NULL), CTIX_OK);
    assert_int_equal(store_peer_remove(e->st, "nisc-jp"), CTIX_OK);
    assert_int_equal(store_peer_get(e->st, "nisc-jp", &got), CTIX_ENOTFOUND);
    {
        struct store_peer_coll *pc = NULL;
        int64_t cnt = -1;

        assert_int_equal(store_peer_coll_list(e->st, 0, &pc, &n), CTIX_OK);
        assert_int_equal(n, 1);
        assert_int_equal(pc[0].peer_id, id2);
        free(pc);
        assert_int_equal(store_outbox_count(e->st, 0, &cnt), CTIX_OK);
        assert_int_equal(cnt, 1);
        assert_int_equal(store_outbox_count(e->st, id, &cnt), CTIX_OK);
        assert_int_equal(cnt, 0);
    }
    assert_int_equal(store_peer_remove(e->st, "nisc-jp"), CTIX_ENOTFOUND);
    assert_int_equal(store_peer_remove(e->st, ""), CTIX_EINVAL);
    /* The removed peer's id is not handed out again (objects keep it as their origin). */
    peer_make(&p, "nisc-jp", org);
    assert_int_equal(store_peer_add(e->st, &p, &id3), CTIX_OK);
    assert_true(id3 > id2);
}

static int64_t cursor_of(struct store *st, int64_t peer_id, const char *coll, int dir)
{
    struct store_peer_coll *pc = NULL;
    size_t n = 0;
    int64_t cur = INT64_MIN;

    assert_int_equal(store_peer_coll_list(st, peer_id, &pc, &n), CTIX_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pc[i].peer_id, peer_id);
        if (strcmp(pc[i].coll_id, coll) == 0 && pc[i].dir == dir) {
            cur = pc[i].cursor_us;
        }
    }
    free(pc);
    assert_true(cur != INT64_MIN);
    return cur;
}

static void test_peer_colls(void **state)
{
    struct env *e = *state;
    int64_t a = peer_new(e->st, "sg");
    int64_t b = peer_new(e->st, "jp");
    struct store_peer_coll *pc = NULL;
    struct store_cursor_in cur = {.peer_id = a, .cursor_us = 12345};
    size_t n = 9;

    assert_int_equal(store_peer_coll_list(e->st, a, &pc, &n), CTIX_OK);
    assert_int_equal(n, 0);
    free(pc);
    assert_int_equal(store_peer_coll_add(e->st, a, COLL, STORE_DIR_PULL), CTIX_OK);
    assert_int_equal(store_peer_coll_add(e->st, a, COLL2, STORE_DIR_PUSH), CTIX_OK);
    assert_int_equal(store_peer_coll_add(e->st, b, COLL, STORE_DIR_PULL), CTIX_OK);
    assert_int_equal(cursor_of(e->st, a, COLL, STORE_DIR_PULL), -1);
    assert_int_equal(store_objs_put_pull(e->st, COLL, NULL, 0, NULL, NULL, &cur), CTIX_OK);
    assert_int_equal(cursor_of(e->st, a, COLL, STORE_DIR_PULL), 12345);
    assert_int_equal(cursor_of(e->st, b, COLL, STORE_DIR_PULL), -1); /* only a's moved */
    /* Adding again is a no-op that keeps the cursor. */
    assert_int_equal(store_peer_coll_add(e->st, a, COLL, STORE_DIR_PULL), CTIX_OK);
    assert_int_equal(cursor_of(e->st, a, COLL, STORE_DIR_PULL), 12345);

    assert_int_equal(store_peer_coll_list(e->st, a, &pc, &n), CTIX_OK);
    assert_int_equal(n, 2);
    assert_string_equal(pc[0].coll_id, COLL);
    assert_int_equal(pc[0].dir, STORE_DIR_PULL);
    assert_string_equal(pc[1].coll_id, COLL2);
    assert_int_equal(pc[1].dir, STORE_DIR_PUSH);
    assert_int_equal(pc[1].cursor_us, -1);
    free(pc);
    assert_int_equal(store_peer_coll_list(e->st, 0, &pc, &n), CTIX_OK);
    assert_int_equal(n, 3);
    free(pc);

    assert_int_equal(store_peer_coll_add(e->st, b + 100, COLL, STORE_DIR_PULL), CTIX_ENOTFOUND);
    assert_int_equal(store_peer_coll_add(e->st, a, COLL, 3), CTIX_EINVAL);
    assert_int_equal(store_peer_coll_add(e->st, a, COLL, 0), CTIX_EINVAL);
    assert_int_equal(store_peer_coll_add(e->st, a, "", STORE_DIR_PULL), CTIX_EINVAL);
    assert_int_equal(
        store_peer_coll_add(e->st, a, "0123456789012345678901234567890123456789", STORE_DIR_PUSH),
        CTIX_EINVAL);
    /* A push-only collection has no pull cursor to move. */
    assert_int_equal(store_objs_put_pull(e->st, COLL2, NULL, 0, NULL, NULL, &cur), CTIX_ENOTFOUND);

    /* A push cursor moves alone, and only where the pair exists in that direction. */
    assert_int_equal(store_peer_coll_cursor_set(e->st, a, COLL2, STORE_DIR_PUSH, 777), CTIX_OK);
    assert_int_equal(cursor_of(e->st, a, COLL2, STORE_DIR_PUSH), 777);
    assert_int_equal(cursor_of(e->st, a, COLL, STORE_DIR_PULL), 12345);
    assert_int_equal(store_peer_coll_cursor_set(e->st, a, COLL2, STORE_DIR_PULL, 1),
                     CTIX_ENOTFOUND);
    assert_int_equal(store_peer_coll_cursor_set(e->st, b, COLL2, STORE_DIR_PUSH, 1),
                     CTIX_ENOTFOUND);
    assert_int_equal(store_peer_coll_cursor_set(e->st, a, COLL2, 0, 1), CTIX_EINVAL);
    assert_int_equal(store_peer_coll_cursor_set(e->st, a, COLL2, STORE_DIR_PUSH, -2), CTIX_EINVAL);
}

static void test_put_pull(void **state)
{
    struct env *e = *state;
    int64_t peer = peer_new(e->st, "jp");
    struct obj o[10];
    struct store_obj_in in[10];
    enum store_put_result res[10];
    int64_t added[10];
    struct store_cursor_in cur = {.peer_id = peer, .cursor_us = 1000};
    struct store_query q = query_all();
    struct rows *rs;
    struct ctix_diag d;

    add_coll(e->st, COLL2, "");
    assert_int_equal(store_peer_coll_add(e->st, peer, COLL, STORE_DIR_PULL), CTIX_OK);
    for (int i = 0; i < 10; i++) {
        obj_make(&o[i], "indicator", i, 1, "2.1", "");
        in[i] = o[i].in;
        in[i].origin = peer;
        in[i].prov = i % 2 == 0 ? STORE_PROV_VERIFIED : STORE_PROV_PENDING;
    }
    assert_int_equal(store_objs_put_pull(e->st, COLL, in, 5, res, added, &cur), CTIX_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(res[i], STORE_PUT_STORED);
    }
    assert_int_equal(count(e->st, COLL), 5);
    assert_int_equal(cursor_of(e->st, peer, COLL, STORE_DIR_PULL), 1000);

    /* A failure in the middle of the next page: no object of it, and the cursor unmoved. */
    cur.cursor_us = 2000;
    store__sqlite_fail_put_at(e->st, 3);
    assert_int_equal(store_objs_put_pull(e->st, COLL, in + 5, 5, res, added, &cur), CTIX_EIO);
    store__sqlite_fail_put_at(e->st, 0);
    assert_int_equal(count(e->st, COLL), 5);
    assert_int_equal(cursor_of(e->st, peer, COLL, STORE_DIR_PULL), 1000);
    /* A bad object at the end: the same. */
    in[9].prov = 4;
    assert_int_equal(store_objs_put_pull(e->st, COLL, in + 5, 5, res, added, &cur), CTIX_EINVAL);
    in[9].prov = STORE_PROV_PENDING;
    in[9].origin = -1;
    assert_int_equal(store_objs_put_pull(e->st, COLL, in + 5, 5, res, added, &cur), CTIX_EINVAL);
    in[9].origin = peer;
    assert_int_equal(count(e->st, COLL), 5);
    assert_int_equal(cursor_of(e->st, peer, COLL, STORE_DIR_PULL), 1000);
    /* A collection the peer is not pulled from: nothing stored. */
    assert_int_equal(store_objs_put_pull(e->st, COLL2, in + 5, 5, res, added, &cur),
                     CTIX_ENOTFOUND);
    assert_int_equal(count(e->st, COLL2), 0);

    /* The retry stores the page and moves the cursor, durably. */
    assert_int_equal(store_objs_put_pull(e->st, COLL, in + 5, 5, res, added, &cur), CTIX_OK);
    assert_int_equal(count(e->st, COLL), 10);
    /* A page of duplicates (a resumed pass) still moves the cursor. */
    cur.cursor_us = 3000;
    assert_int_equal(store_objs_put_pull(e->st, COLL, in + 5, 5, res, added, &cur), CTIX_OK);
    assert_int_equal(res[0], STORE_PUT_DUPLICATE);
    assert_int_equal(count(e->st, COLL), 10);
    store_close(e->st);
    assert_int_equal(store_open(e->data_dir, false, &e->st, &d), CTIX_OK);
    assert_int_equal(cursor_of(e->st, peer, COLL, STORE_DIR_PULL), 3000);

    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(rs->origin[i], peer);
        assert_int_equal(rs->prov[i], i % 2 == 0 ? STORE_PROV_VERIFIED : STORE_PROV_PENDING);
    }
    free(rs);

    cur.peer_id = 0;
    assert_int_equal(store_objs_put_pull(e->st, COLL, in, 1, res, added, &cur), CTIX_EINVAL);
    assert_int_equal(store_objs_put_pull(e->st, COLL, in, 1, res, added, NULL), CTIX_EINVAL);
}

/* Puts objects 0..n-1 of COLL, object i with prov provs[i % n_provs], origin 0 when LOCAL. */
static void put_provs(struct store *st, int n, const int *provs, size_t n_provs)
{
    for (int i = 0; i < n; i++) {
        struct obj o;
        enum store_put_result res;

        obj_make(&o, "indicator", i, 1, "2.1", "");
        o.in.prov = provs[(size_t)i % n_provs];
        o.in.origin = o.in.prov == STORE_PROV_LOCAL ? 0 : 7;
        assert_int_equal(store_objs_put(st, COLL, &o.in, 1, &res, NULL), CTIX_OK);
        assert_int_equal(res, STORE_PUT_STORED);
    }
}

static void test_prov_query_and_set(void **state)
{
    struct env *e = *state;
    static const int provs[] = {STORE_PROV_LOCAL, STORE_PROV_VERIFIED, STORE_PROV_PENDING,
                                STORE_PROV_QUARANTINED};
    struct store_query q = query_all();
    struct rows *rs;
    struct obj o;
    enum store_put_result res;

    put_provs(e->st, 8, provs, 4);
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(rs->prov[i], provs[i % 4]);
        assert_int_equal(rs->origin[i], provs[i % 4] == STORE_PROV_LOCAL ? 0 : 7);
    }
    free(rs);

    /* Everything but quarantined, as a served read asks. */
    q.prov_mask =
        (1u << STORE_PROV_LOCAL) | (1u << STORE_PROV_VERIFIED) | (1u << STORE_PROV_PENDING);
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 6);
    for (size_t i = 0; i < rs->n; i++) {
        assert_int_not_equal(rs->prov[i], STORE_PROV_QUARANTINED);
    }
    free(rs);
    q.prov_mask = 1u << STORE_PROV_QUARANTINED;
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 2);
    assert_string_equal(rs->item[0], "indicator--00000000-0000-4000-8000-000000000003@"
                                     "2024-01-01T00:00:00.000Z");
    free(rs);
    q.prov_mask = 0xf; /* all: the same as 0 */
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 8);
    free(rs);
    q.prov_mask = 1u << 4;
    {
        size_t n = 0;
        assert_int_equal(store_objs_query(e->st, &q, count_cb, &n, NULL), CTIX_EINVAL);
    }

    /* prov_set: one version, then every version. */
    obj_make(&o, "indicator", 3, 2, "2.1", ""); /* a second version of object 3 */
    o.in.prov = STORE_PROV_QUARANTINED;
    assert_int_equal(store_objs_put(e->st, COLL, &o.in, 1, &res, NULL), CTIX_OK);
    assert_int_equal(store_obj_prov_set(e->st, COLL, o.id, "2024-01-01T00:00:00.000000000Z",
                                        STORE_PROV_VERIFIED),
                     CTIX_OK);
    q.prov_mask = 1u << STORE_PROV_QUARANTINED;
    q.vsel = STORE_V_ALL;
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 2); /* object 7, and version 2 of object 3 */
    assert_string_equal(rs->item[1], "indicator--00000000-0000-4000-8000-000000000003@"
                                     "2024-01-02T00:00:00.000Z");
    free(rs);
    assert_int_equal(store_obj_prov_set(e->st, COLL, o.id, NULL, STORE_PROV_VERIFIED), CTIX_OK);
    q.object_id = o.id;
    q.prov_mask = 1u << STORE_PROV_VERIFIED;
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 2);
    free(rs);
    /* The same value again still matched: not a miss. */
    assert_int_equal(store_obj_prov_set(e->st, COLL, o.id, NULL, STORE_PROV_VERIFIED), CTIX_OK);

    assert_int_equal(
        store_obj_prov_set(e->st, COLL, o.id, "2024-01-09T00:00:00.000000000Z", STORE_PROV_LOCAL),
        CTIX_ENOTFOUND);
    assert_int_equal(store_obj_prov_set(e->st, COLL, "indicator--none", NULL, STORE_PROV_LOCAL),
                     CTIX_ENOTFOUND);
    assert_int_equal(store_obj_prov_set(e->st, "no-such-collection", o.id, NULL, 0),
                     CTIX_ENOTFOUND);
    assert_int_equal(store_obj_prov_set(e->st, COLL, o.id, NULL, 4), CTIX_EINVAL);
    assert_int_equal(store_obj_prov_set(e->st, COLL, o.id, NULL, -1), CTIX_EINVAL);
    assert_int_equal(store_obj_prov_set(e->st, COLL, "", NULL, 0), CTIX_EINVAL);
}

/* The batch settle: only PENDING versions change, in order, one version or all of them; misses
 * are not errors; bad entries change nothing. */
static void test_prov_settle(void **state)
{
    struct env *e = *state;
    static const int provs[] = {STORE_PROV_PENDING, STORE_PROV_VERIFIED, STORE_PROV_PENDING,
                                STORE_PROV_LOCAL};
    struct store_query q = query_all();
    struct store_prov_settle v[6];
    struct obj o[4], o2;
    struct rows *rs;
    enum store_put_result res;

    put_provs(e->st, 4, provs, 4);
    for (int i = 0; i < 4; i++)
        obj_make(&o[i], "indicator", i, 1, "2.1", "");
    obj_make(&o2, "indicator", 2, 2, "2.1", ""); /* a second PENDING version of object 2 */
    o2.in.prov = STORE_PROV_PENDING;
    o2.in.origin = 7;
    assert_int_equal(store_objs_put(e->st, COLL, &o2.in, 1, &res, NULL), CTIX_OK);

    memset(v, 0, sizeof(v));
    v[0] = (struct store_prov_settle){o[0].id, o[0].vkey, STORE_PROV_VERIFIED, true};
    /* A later entry for the same version finds it no longer PENDING: the first one wins. */
    v[1] = (struct store_prov_settle){o[0].id, o[0].vkey, STORE_PROV_QUARANTINED, true};
    v[2] = (struct store_prov_settle){o[1].id, NULL, STORE_PROV_QUARANTINED, true};
    v[3] = (struct store_prov_settle){o[2].id, NULL, STORE_PROV_QUARANTINED, false};
    v[4] = (struct store_prov_settle){o[3].id, o[3].vkey, STORE_PROV_VERIFIED, true};
    v[5] = (struct store_prov_settle){"indicator--none", NULL, STORE_PROV_VERIFIED, true};
    assert_int_equal(store_objs_prov_settle(e->st, COLL, v, 6), CTIX_OK);
    assert_true(v[0].changed);
    assert_false(v[1].changed);
    assert_false(v[2].changed); /* VERIFIED stays */
    assert_true(v[3].changed);  /* both versions of object 2 */
    assert_false(v[4].changed); /* LOCAL stays */
    assert_false(v[5].changed);

    q.vsel = STORE_V_ALL;
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 5);
    assert_int_equal(rs->prov[0], STORE_PROV_VERIFIED);
    assert_int_equal(rs->prov[1], STORE_PROV_VERIFIED);
    assert_int_equal(rs->prov[2], STORE_PROV_QUARANTINED);
    assert_int_equal(rs->prov[3], STORE_PROV_LOCAL);
    assert_int_equal(rs->prov[4], STORE_PROV_QUARANTINED);
    free(rs);

    /* Nothing to do, an unknown collection, bad entries (nothing changed by a batch with one). */
    assert_int_equal(store_objs_prov_settle(e->st, COLL, NULL, 0), CTIX_OK);
    assert_int_equal(store_objs_prov_settle(e->st, "no-such-collection", v, 1), CTIX_ENOTFOUND);
    assert_false(v[0].changed);
    obj_make(&o2, "indicator", 5, 1, "2.1", "");
    o2.in.prov = STORE_PROV_PENDING;
    o2.in.origin = 7;
    assert_int_equal(store_objs_put(e->st, COLL, &o2.in, 1, &res, NULL), CTIX_OK);
    v[0] = (struct store_prov_settle){o2.id, NULL, STORE_PROV_VERIFIED, false};
    v[1] = (struct store_prov_settle){o2.id, NULL, 4, false};
    assert_int_equal(store_objs_prov_settle(e->st, COLL, v, 2), CTIX_EINVAL);
    v[1] = (struct store_prov_settle){"", NULL, STORE_PROV_VERIFIED, false};
    assert_int_equal(store_objs_prov_settle(e->st, COLL, v, 2), CTIX_EINVAL);
    v[1] = (struct store_prov_settle){NULL, NULL, STORE_PROV_VERIFIED, false};
    assert_int_equal(store_objs_prov_settle(e->st, COLL, v, 2), CTIX_EINVAL);
    assert_int_equal(store_objs_prov_settle(NULL, COLL, v, 1), CTIX_EINVAL);
    assert_int_equal(store_objs_prov_settle(e->st, COLL, NULL, 1), CTIX_EINVAL);
    q.object_id = o2.id;
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 1);
    assert_int_equal(rs->prov[0], STORE_PROV_PENDING);
    free(rs);
    assert_int_equal(store_objs_prov_settle(e->st, COLL, v, 1), CTIX_OK);
    assert_true(v[0].changed);
}

/* A policy stand-in: hides the objects whose number (the id's last digits) is in the set. */
struct hide {
    bool hidden[16];
    size_t calls;
    bool saw_json;
};

static bool hide_filter(void *ctx, const struct store_row *row)
{
    struct hide *h = ctx;
    size_t len = strlen(row->id);
    int n = (row->id[len - 2] - '0') * 10 + (row->id[len - 1] - '0');

    h->calls++;
    h->saw_json |= row->json != NULL;
    return n < 0 || n >= 16 || !h->hidden[n];
}

static void test_filter_limit_more(void **state)
{
    struct env *e = *state;
    static const int local[] = {STORE_PROV_LOCAL};
    struct store_query q = query_all();
    struct hide h;
    struct rows *rs;
    bool more = false;

    put_provs(e->st, 10, local, 1);
    memset(&h, 0, sizeof(h));
    for (int i = 1; i < 10; i += 2) {
        h.hidden[i] = true; /* visible: 0 2 4 6 8 */
    }
    q.filter = hide_filter;
    q.filter_ctx = &h;
    q.limit = 3;
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 3);
    assert_non_null(strstr(rs->item[0], "000000000000@"));
    assert_non_null(strstr(rs->item[1], "000000000002@"));
    assert_non_null(strstr(rs->item[2], "000000000004@"));
    assert_true(more);
    /* The next page from the last row delivered. */
    q.added_after_us = rs->added[2];
    free(rs);
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 2);
    assert_non_null(strstr(rs->item[1], "000000000008@"));
    assert_false(more); /* 9 exists but is hidden */
    free(rs);

    /* Exactly limit visible rows, and only hidden ones after them: no more. */
    q.added_after_us = -1;
    q.limit = 5;
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 5);
    assert_false(more);
    free(rs);
    q.limit = 4;
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 4);
    assert_true(more);
    free(rs);
    /* Hide the last visible ones too: 0 2 4 remain. */
    h.hidden[6] = true;
    h.hidden[8] = true;
    q.limit = 3;
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 3);
    assert_false(more);
    free(rs);
    /* Everything hidden: an empty page of an existing collection. */
    for (int i = 0; i < 10; i++) {
        h.hidden[i] = true;
    }
    h.calls = 0;
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 0);
    assert_false(more);
    assert_int_equal(h.calls, 10);
    free(rs);
    /* The filter sees the body when the query asks for it. */
    h.hidden[0] = false;
    q.want_json = true;
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 1);
    assert_true(h.saw_json);
    assert_false(rs->json_null[0]);
    free(rs);
    /* Without a filter the same query sees all ten. */
    q.filter = NULL;
    q.limit = 9;
    rs = run(e->st, &q, &more);
    assert_int_equal(rs->n, 9);
    assert_true(more);
    free(rs);
}

static void test_trust(void **state)
{
    struct env *e = *state;
    struct store_trust *t = NULL;
    size_t n = 0;

    assert_int_equal(store_trust_add(e->st, "KrCERT", "ed25519:kr"), CTIX_OK);
    assert_int_equal(store_trust_add(e->st, "KrCERT", "ed25519:kr"), CTIX_OK);
    assert_int_equal(store_trust_add(e->st, "CERT-In", "ed25519:in"), CTIX_OK);
    assert_int_equal(store_trust_add(e->st, "KrCERT", "ed25519:kr2"), CTIX_OK); /* key rollover */
    assert_int_equal(store_trust_list(e->st, &t, &n), CTIX_OK);
    assert_int_equal(n, 3);
    assert_string_equal(t[0].org, "CERT-In");
    assert_string_equal(t[1].org, "KrCERT");
    assert_string_equal(t[1].pubkey, "ed25519:kr");
    assert_string_equal(t[2].pubkey, "ed25519:kr2");
    assert_true(t[0].created_us > 0);
    free(t);
    assert_int_equal(store_trust_add(e->st, "", "k"), CTIX_EINVAL);
    assert_int_equal(store_trust_add(e->st, "o", ""), CTIX_EINVAL);
    assert_int_equal(store_trust_add(e->st, "o", NULL), CTIX_EINVAL);
}

/* ---- the change log ---- */

struct chg {
    size_t n;
    char ids[64][80];
};

static int chg_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static enum ctix_rc chg_cb(void *ctx, const char *id)
{
    struct chg *c = ctx;

    assert_true(c->n < 64);
    snprintf(c->ids[c->n++], sizeof(c->ids[0]), "%s", id);
    return CTIX_OK;
}

/* The ids changed in coll after *pos, as "n n n" (the object numbers, sorted); *pos moves on. */
static void changes(struct store *st, const char *coll, struct store_changes_pos *pos, char *out,
                    size_t cap)
{
    struct chg c;
    struct store_changes_pos now;
    size_t w = 0;

    memset(&c, 0, sizeof(c));
    assert_int_equal(store_changes_since(st, coll, pos, chg_cb, &c, &now), CTIX_OK);
    assert_true(now.seq >= pos->seq);
    assert_string_equal(now.epoch, pos->epoch);
    qsort(c.ids, c.n, sizeof(c.ids[0]), chg_cmp);
    out[0] = '\0';
    for (size_t i = 0; i < c.n; i++) {
        const char *num = strrchr(c.ids[i], '-');

        w += (size_t)snprintf(out + w, cap - w, "%s%d", i ? " " : "",
                              (int)strtol(num + 1, NULL, 10));
    }
    *pos = now;
}

static void test_changes_writes(void **state)
{
    struct env *e = *state;
    struct store_changes_pos pos, p2;
    struct store_prov_settle sv[2];
    struct store_obj_in in[3];
    struct store_query q = query_all();
    struct obj o[6];
    enum store_put_result res[3];
    size_t nd = 0;
    char got[256];

    add_coll(e->st, COLL2, "other");
    assert_int_equal(store_changes_pos(e->st, &pos), CTIX_OK);
    assert_int_equal(strlen(pos.epoch), 32);
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "");

    /* new objects; another collection's are not ours */
    obj_make(&o[0], "indicator", 1, 1, "2.1", "");
    obj_make(&o[1], "indicator", 2, 1, "2.1", "");
    obj_make(&o[2], "indicator", 3, 1, "2.1", "");
    in[0] = o[0].in;
    in[1] = o[1].in;
    assert_int_equal(store_objs_put(e->st, COLL, in, 2, res, NULL), CTIX_OK);
    assert_int_equal(store_objs_put(e->st, COLL2, &o[2].in, 1, res, NULL), CTIX_OK);
    p2 = pos;
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "1 2");
    changes(e->st, COLL2, &p2, got, sizeof(got));
    assert_string_equal(got, "3");
    assert_int_equal(p2.seq, pos.seq); /* one log for all collections */

    /* a duplicate and a conflict change nothing; a newer version does */
    assert_int_equal(put1(e->st, &o[0], NULL), STORE_PUT_DUPLICATE);
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "");
    obj_make(&o[3], "indicator", 1, 2, "2.1", "");
    assert_int_equal(put1(e->st, &o[3], NULL), STORE_PUT_STORED);
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "1");

    /* prov set (also for an unknown object: ENOTFOUND, nothing noted) */
    assert_int_equal(store_obj_prov_set(e->st, COLL, o[1].id, NULL, STORE_PROV_QUARANTINED),
                     CTIX_OK);
    assert_int_equal(store_obj_prov_set(e->st, COLL, "indicator--nope", NULL, STORE_PROV_LOCAL),
                     CTIX_ENOTFOUND);
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "2");

    /* settle: only a version that was pending */
    obj_make(&o[4], "indicator", 4, 1, "2.1", "");
    o[4].in.prov = STORE_PROV_PENDING;
    o[4].in.origin = 1;
    assert_int_equal(put1(e->st, &o[4], NULL), STORE_PUT_STORED);
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "4");
    memset(sv, 0, sizeof(sv));
    sv[0].object_id = o[4].id;
    sv[0].prov = STORE_PROV_VERIFIED;
    sv[1].object_id = o[0].id; /* LOCAL: not pending, left alone */
    sv[1].prov = STORE_PROV_QUARANTINED;
    assert_int_equal(store_objs_prov_settle(e->st, COLL, sv, 2), CTIX_OK);
    assert_true(sv[0].changed);
    assert_false(sv[1].changed);
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "4");
    assert_int_equal(store_objs_prov_settle(e->st, COLL, sv, 1), CTIX_OK);
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "");

    /* delete (an object with no version: ENOTFOUND, nothing noted) */
    assert_int_equal(store_obj_delete(e->st, COLL, o[0].id, &q, &nd), CTIX_OK);
    assert_int_equal(nd, 2);
    assert_int_equal(store_obj_delete(e->st, COLL, o[0].id, &q, &nd), CTIX_ENOTFOUND);
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "1");

    /* a batch rolled back notes nothing */
    obj_make(&o[5], "indicator", 5, 1, "2.1", "");
    in[0] = o[5].in;
    in[1] = o[2].in;
    in[2] = o[2].in;
    store__sqlite_fail_put_at(e->st, 2);
    assert_int_equal(store_objs_put(e->st, COLL, in, 3, res, NULL), CTIX_EIO);
    store__sqlite_fail_put_at(e->st, 0);
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "");

    /* an object changed many times is told once */
    for (int d = 3; d < 8; d++) {
        obj_make(&o[3], "indicator", 1, d, "2.1", "");
        assert_int_equal(put1(e->st, &o[3], NULL), STORE_PUT_STORED);
    }
    changes(e->st, COLL, &pos, got, sizeof(got));
    assert_string_equal(got, "1");
}

static void test_changes_follow(void **state)
{
    struct env *e = *state;
    struct store_changes_pos p0, pos, now, bad;
    struct obj o;
    struct chg c;
    char got[256];

    assert_int_equal(store_changes_pos(e->st, &p0), CTIX_OK);
    obj_make(&o, "indicator", 1, 1, "2.1", "");
    assert_int_equal(put1(e->st, &o, NULL), STORE_PUT_STORED);
    assert_int_equal(store_changes_pos(e->st, &pos), CTIX_OK);
    assert_true(pos.seq > p0.seq);

    /* another epoch, a point past the end */
    memset(&c, 0, sizeof(c));
    bad = pos;
    bad.epoch[0] = bad.epoch[0] == '0' ? '1' : '0';
    assert_int_equal(store_changes_since(e->st, COLL, &bad, chg_cb, &c, &now), CTIX_ECONFLICT);
    bad = pos;
    bad.seq++;
    assert_int_equal(store_changes_since(e->st, COLL, &bad, chg_cb, &c, &now), CTIX_ECONFLICT);
    assert_int_equal(store_changes_since(e->st, "no-such", &pos, chg_cb, &c, &now), CTIX_ENOTFOUND);
    assert_int_equal(c.n, 0);

    /* trimmed: the old point cannot be followed, the newer one can */
    assert_int_equal(store_changes_trim(e->st, pos.seq), CTIX_OK);
    assert_int_equal(store_changes_since(e->st, COLL, &p0, chg_cb, &c, &now), CTIX_ECONFLICT);
    bad = pos;
    changes(e->st, COLL, &bad, got, sizeof(got));
    assert_string_equal(got, "");
    assert_int_equal(bad.seq, pos.seq); /* an empty log stays at its floor */

    /* trimming past the end stops at the end; new changes go on after it */
    assert_int_equal(store_changes_trim(e->st, pos.seq + 1000), CTIX_OK);
    obj_make(&o, "indicator", 2, 1, "2.1", "");
    assert_int_equal(put1(e->st, &o, NULL), STORE_PUT_STORED);
    bad = pos;
    changes(e->st, COLL, &bad, got, sizeof(got));
    assert_string_equal(got, "2");
    assert_true(bad.seq > pos.seq);

    /* the position survives reopening */
    store_close(e->st);
    {
        struct ctix_diag d;

        assert_int_equal(store_open(e->data_dir, false, &e->st, &d), CTIX_OK);
    }
    assert_int_equal(store_changes_pos(e->st, &now), CTIX_OK);
    assert_int_equal(now.seq, bad.seq);
    assert_string_equal(now.epoch, pos.epoch);

    assert_int_equal(store_changes_pos(NULL, &now), CTIX_EINVAL);
    assert_int_equal(store_changes_since(e->st, COLL, NULL, chg_cb, &c, &now), CTIX_EINVAL);
    assert_int_equal(store_changes_since(e->st, COLL, &pos, NULL, &c, &now), CTIX_EINVAL);
    bad = pos;
    bad.seq = -1;
    assert_int_equal(store_changes_since(e->st, COLL, &bad, chg_cb, &c, &now), CTIX_EINVAL);
}

static void test_outbox(void **state)
{
    struct env *e = *state;
    int64_t p1 = peer_new(e->st, "sg");
    int64_t p2 = peer_new(e->st, "jp");
    int64_t id1 = 0, id2 = 0, id3 = 0, cnt = -1;
    int64_t now = ctix_now_us();
    struct store_outbox *ob = NULL;
    size_t n = 0;
    char long_err[600];

    assert_int_equal(store_outbox_add(e->st, p1, COLL, "{\"a\":1}", 7, &id1), CTIX_OK);
    assert_int_equal(store_outbox_add(e->st, p2, COLL2, "{\"b\":2}", 7, &id2), CTIX_OK);
    assert_int_equal(store_outbox_add(e->st, p1, COLL, "{\"c\":3}xyz", 7, &id3), CTIX_OK);
    assert_true(id1 < id2 && id2 < id3);
    assert_int_equal(store_outbox_add(e->st, p2 + 100, COLL, "{}", 2, NULL), CTIX_ENOTFOUND);
    assert_int_equal(store_outbox_add(e->st, p1, COLL, "{}", 0, NULL), CTIX_EINVAL);
    assert_int_equal(store_outbox_add(e->st, p1, "", "{}", 2, NULL), CTIX_EINVAL);

    assert_int_equal(store_outbox_count(e->st, 0, &cnt), CTIX_OK);
    assert_int_equal(cnt, 3);
    assert_int_equal(store_outbox_count(e->st, p1, &cnt), CTIX_OK);
    assert_int_equal(cnt, 2);

    /* Oldest first, the envelopes copied. */
    assert_int_equal(store_outbox_due(e->st, 0, now, 10, &ob, &n), CTIX_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ob[0].id, id1);
    assert_int_equal(ob[1].id, id2);
    assert_int_equal(ob[2].id, id3);
    assert_int_equal(ob[1].peer_id, p2);
    assert_string_equal(ob[1].coll_id, COLL2);
    assert_int_equal(ob[2].json_len, 7);
    assert_string_equal(ob[2].json, "{\"c\":3}");
    assert_int_equal(ob[0].attempts, 0);
    assert_string_equal(ob[0].last_err, "");
    store_outbox_free(ob, n);
    assert_int_equal(store_outbox_due(e->st, p1, now, 1, &ob, &n), CTIX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ob[0].id, id1);
    store_outbox_free(ob, n);

    /* A failed delivery waits until its next try. */
    assert_int_equal(store_outbox_retry(e->st, id1, now + 1000000, "HTTP 503"), CTIX_OK);
    assert_int_equal(store_outbox_due(e->st, p1, now, 10, &ob, &n), CTIX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ob[0].id, id3);
    store_outbox_free(ob, n);
    assert_int_equal(store_outbox_due(e->st, p1, now + 1000000, 10, &ob, &n), CTIX_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ob[0].id, id1);
    assert_int_equal(ob[0].attempts, 1);
    assert_int_equal(ob[0].next_us, now + 1000000);
    assert_string_equal(ob[0].last_err, "HTTP 503");
    store_outbox_free(ob, n);
    memset(long_err, 'x', sizeof(long_err) - 1);
    long_err[sizeof(long_err) - 1] = '\0';
    assert_int_equal(store_outbox_retry(e->st, id1, now, long_err), CTIX_OK);
    assert_int_equal(store_outbox_due(e->st, p1, now, 1, &ob, &n), CTIX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ob[0].attempts, 2);
    assert_int_equal(strlen(ob[0].last_err), sizeof(ob[0].last_err) - 1);
    store_outbox_free(ob, n);

    /* Delivered. */
    assert_int_equal(store_outbox_done(e->st, id3), CTIX_OK);
    assert_int_equal(store_outbox_done(e->st, id3), CTIX_ENOTFOUND);
    assert_int_equal(store_outbox_retry(e->st, id3, now, "x"), CTIX_ENOTFOUND);
    assert_int_equal(store_outbox_count(e->st, p1, &cnt), CTIX_OK);
    assert_int_equal(cnt, 1);
    assert_int_equal(store_outbox_count(e->st, 0, &cnt), CTIX_OK);
    assert_int_equal(cnt, 2);
    assert_int_equal(store_outbox_due(e->st, p2, now - 1, 10, &ob, &n), CTIX_OK);
    assert_int_equal(n, 1); /* new entries are due at once */
    store_outbox_free(ob, n);
    assert_int_equal(store_outbox_due(e->st, p2, now, 0, &ob, &n), CTIX_EINVAL);
    store_outbox_free(NULL, 0);
}

/* A store made by the first schema (user_version 1), with its objects, opens and is migrated. */
static void test_upgrade_from_v1(void **state)
{
    struct env *e = *state;
    struct ctix_diag d;
    struct obj o[3];
    struct store_obj_in in[3];
    enum store_put_result res[3];
    char cur[256], old[256], sql[1024];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct store_query q = query_all();
    struct store_org org;
    struct rows *rs;
    int64_t org_id = 0;

    /* Objects written by this code, then copied into a file made by migration 1 alone (the
     * store's id hash key comes along in meta). */
    assert_int_equal(store_org_add(e->st, "acme", &org_id), CTIX_OK);
    for (int i = 0; i < 3; i++) {
        obj_make(&o[i], "indicator", i, 1 + i, "2.1", "");
        in[i] = o[i].in;
    }
    assert_int_equal(store_objs_put(e->st, COLL, in, 3, res, NULL), CTIX_OK);
    store_close(e->st);
    e->st = NULL;
    snprintf(cur, sizeof(cur), "%s/ctix.db", e->data_dir);
    snprintf(old, sizeof(old), "%s/v1.db", e->dir);
    assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, store__sqlite_migration(0), NULL, NULL, NULL), SQLITE_OK);
    snprintf(sql, sizeof(sql),
             "ATTACH '%s' AS cur;"
             "INSERT INTO meta SELECT key, value FROM cur.meta;"
             "INSERT INTO orgs(id, name, created_us) SELECT id, name, created_us FROM cur.orgs;"
             "INSERT INTO collections SELECT cid, id, title, alias, description, created_us"
             " FROM cur.collections;"
             "INSERT INTO objects(rid, cid, id, version, version_key, type, spec_version,"
             " date_added, tlp, is_last, is_first, idh, json) SELECT rid, cid, id, version,"
             " version_key, type, spec_version, date_added, tlp, is_last, is_first, idh, json"
             " FROM cur.objects;"
             "DETACH cur; PRAGMA user_version=1;",
             cur);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(rename(old, cur), 0);
    snprintf(sql, sizeof(sql), "%s-wal", cur);
    remove(sql);
    snprintf(sql, sizeof(sql), "%s-shm", cur);
    remove(sql);

    assert_int_equal(store_open(e->data_dir, false, &e->st, &d), CTIX_OK);
    assert_int_equal(sqlite3_open_v2(cur, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);
    sqlite3_close(db);

    q.want_json = true;
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(rs->json[i], o[i].json);
        assert_int_equal(rs->origin[i], 0);
        assert_int_equal(rs->prov[i], STORE_PROV_LOCAL);
    }
    free(rs);
    /* Lookups by id still find them (the same id hash key), and their flags are intact. */
    q.object_id = o[1].id;
    rs = run(e->st, &q, NULL);
    assert_int_equal(rs->n, 1);
    free(rs);
    obj_make(&o[0], "indicator", 0, 9, "2.1", "");
    assert_int_equal(store_objs_put(e->st, COLL, &o[0].in, 1, res, NULL), CTIX_OK);
    q.object_id = o[0].id;
    rs = run(e->st, &q, NULL); /* LAST: only the new version */
    assert_int_equal(rs->n, 1);
    assert_non_null(strstr(rs->item[0], "2024-01-09"));
    free(rs);
    assert_int_equal(store_org_get(e->st, "acme", &org), CTIX_OK);
    assert_false(org.client);
    assert_int_equal(store_org_set_client(e->st, org_id, true), CTIX_OK);
    assert_true(peer_new(e->st, "after-upgrade") > 0);
}

static void test_json_same(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        bool same;
    } cases[] = {
        {"{\"a\":1,\"b\":[1,2]}", "{\"a\":1,\"b\":[1,2]}", true},
        {"{\"a\":1,\"b\":[1,2]}", "{ \"b\" : [1, 2], \"a\" : 1 }", true},
        {"{\"a\":1,\"b\":[1,2]}", "{\"a\":1,\"b\":[2,1]}", false},
        {"{\"a\":\"x\"}", "{\"a\":\"\\u0078\"}", true},
        {"{\"a\":1}", "{\"a\":1", false},
        {"{\"a\":1", "{\"a\":1 ", false},
    };

    for (size_t i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        bool got = store__json_same(cases[i].a, strlen(cases[i].a), cases[i].b, strlen(cases[i].b));

        if (got != cases[i].same) {
            fail_msg("case %zu: %s vs %s", i, cases[i].a, cases[i].b);
        }
    }
}

static void test_null_arguments(void **state)
{
    struct env *e = *state;
    struct store_org o;
    int64_t n;
    char *json = NULL;
    size_t nd;

    assert_int_equal(store_org_get(NULL, "x", &o), CTIX_EINVAL);
    assert_int_equal(store_org_get(e->st, NULL, &o), CTIX_EINVAL);
    assert_int_equal(store_objs_count(e->st, NULL, &n), CTIX_EINVAL);
    assert_int_equal(store_objs_put(e->st, COLL, NULL, 1, NULL, NULL), CTIX_EINVAL);
    assert_int_equal(store_objs_query(e->st, NULL, count_cb, &n, NULL), CTIX_EINVAL);
    assert_int_equal(store_obj_delete(e->st, COLL, NULL, NULL, &nd), CTIX_EINVAL);
    assert_int_equal(store_status_get(e->st, "s", NULL, &json, NULL), CTIX_ENOTFOUND);
    assert_int_equal(store_status_put(e->st, "", 1, "{}", 2), CTIX_EINVAL);
    store_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_missing),
        cmocka_unit_test_setup_teardown(test_open_modes_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_newer_schema, setup, teardown),
        cmocka_unit_test(test_open_not_a_database),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data_and_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orgs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_with_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_date_added_increasing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_duplicate_and_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_sco_without_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_keeps_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_added_after_limit_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_org_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_colls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_pull, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prov_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prov_query_and_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_limit_more, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_follow, setup, teardown),
        cmocka_unit_test(test_json_same),
        cmocka_unit_test_setup_teardown(test_null_arguments, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
