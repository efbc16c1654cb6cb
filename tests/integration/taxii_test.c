/* The TAXII 2.1 surface of `ctix serve`, over HTTP, as a client sees it: discovery, API root,
 * collections per key, POST and status, objects with every filter and pagination, one object,
 * versions, manifest, DELETE and the rights table. One node and one server for the whole group;
 * each test that counts objects uses a collection of its own.
 *
 * Every object a local key posts is signed: an x-ctix-attestation object naming it is stored in
 * the same collection, and plain TAXII clients see it like any other object. Tests about their
 * own objects select them with match[type]; where the attestations are the behaviour, the test
 * asserts them explicitly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

struct world {
    struct h_node node;
    struct h_server srv;
    char shared[H_UUID_MAX]; /* alpha rw, beta r, gamma w */
    char hidden[H_UUID_MAX]; /* alpha r */
    char paging[H_UUID_MAX]; /* alpha rw: exact counts */
    char filters[H_UUID_MAX];
    char ver[H_UUID_MAX];
    char admin[H_TOKEN_MAX];        /* node, admin */
    char alpha[H_TOKEN_MAX];        /* alpha, analyst */
    char alpha_reader[H_TOKEN_MAX]; /* alpha, reader: the role caps the grant */
    char beta[H_TOKEN_MAX];         /* beta, reader */
    char gamma[H_TOKEN_MAX];        /* gamma, analyst with write only */
    char delta[H_TOKEN_MAX];        /* delta, analyst without any grant */
};

static struct world *W;

static int setup(void **state)
{
    static struct world w;
    struct h_node *n = &w.node;
    memset(&w, 0, sizeof w);
    if (!h_node_init(n, "node") || !h_node_org(n, "alpha") || !h_node_org(n, "beta") ||
        !h_node_org(n, "gamma") || !h_node_org(n, "delta"))
        return -1;
    if (!h_node_collection(n, "Shared Intel", "shared", "indicators for everyone", w.shared) ||
        !h_node_collection(n, "Hidden", "hidden", NULL, w.hidden) ||
        !h_node_collection(n, "Paging", "paging", NULL, w.paging) ||
        !h_node_collection(n, "Filters", NULL, NULL, w.filters) ||
        !h_node_collection(n, "Versions", "ver", NULL, w.ver))
        return -1;
    if (!h_node_grant(n, w.shared, "alpha", true, true) ||
        !h_node_grant(n, w.shared, "beta", true, false) ||
        !h_node_grant(n, w.shared, "gamma", false, true) ||
        !h_node_grant(n, w.hidden, "alpha", true, false) ||
        !h_node_grant(n, w.paging, "alpha", true, true) ||
        !h_node_grant(n, w.filters, "alpha", true, true) ||
        !h_node_grant(n, w.ver, "alpha", true, true))
        return -1;
    if (!h_node_key(n, "node", "admin", w.admin) || !h_node_key(n, "alpha", "analyst", w.alpha) ||
        !h_node_key(n, "alpha", "reader", w.alpha_reader) ||
        !h_node_key(n, "beta", "reader", w.beta) || !h_node_key(n, "gamma", "analyst", w.gamma) ||
        !h_node_key(n, "delta", "analyst", w.delta))
        return -1;
    /* The TAXII mechanics are tested on objects every key may read: unmarked objects are CLEAR
     * here. What the default (AMBER) withholds is egress_test's and federation_test's. */
    static const char *const extra[] = {"--unmarked-tlp", "clear", NULL};
    if (!h_server_start(&w.srv, n, extra, NULL))
        return -1;
    W = &w;
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    int code = 0;
    if (w != NULL)
        code = h_server_stop(&w->srv, SIGTERM);
    return code == 0 ? 0 : -1;
}

/* ---- helpers ---- */

/* The string value of v, "" when v is not a string. */
static const char *js(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

static json_t *objects_of(const struct h_resp *r)
{
    json_t *o = json_object_get(r->json, "objects");
    return json_is_array(o) ? o : NULL;
}

static size_t n_objects(const struct h_resp *r)
{
    json_t *o = json_object_get(r->json, "objects");
    /* The spec omits an empty list; an empty one is tolerated here, other types are not. */
    if (o != NULL && !json_is_array(o))
        fail_msg("\"objects\" is not a list: %s", r->body);
    return o ? json_array_size(o) : 0;
}

static json_t *find_id(json_t *arr, const char *id, const char *modified)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        json_t *m = json_object_get(v, "modified");
        if (strcmp(js(json_object_get(v, "id")), id) == 0 &&
            (modified == NULL ||
             (json_is_string(m) && strcmp(json_string_value(m), modified) == 0)))
            return v;
    }
    return NULL;
}

static bool more_of(const struct h_resp *r)
{
    json_t *m = json_object_get(r->json, "more");
    if (m != NULL && !json_is_boolean(m))
        fail_msg("\"more\" is not a boolean: %s", r->body);
    return json_is_true(m);
}

/* A TAXII timestamp: YYYY-MM-DDTHH:MM:SS.ffffffZ, microseconds. */
static bool is_ts_us(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    if (s == NULL || strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i] != '\0'; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    }
    return true;
}

static void post_expect(const char *token, const char *coll, const char *env, size_t ok,
                        size_t failed)
{
    struct h_resp r;
    char path[200];
    snprintf(path, sizeof path, "/api/collections/%s/objects/", coll);
    assert_true(h_post(&W->srv, token, path, env, &r));
    H_ASSERT_TAXII(&r, 202);
    json_t *j = r.json;
    if (json_integer_value(json_object_get(j, "success_count")) != (json_int_t)ok ||
        json_integer_value(json_object_get(j, "failure_count")) != (json_int_t)failed)
        fail_msg("expected %zu successes, %zu failures: %s", ok, failed, r.body);
    assert_string_equal(js(json_object_get(j, "status")), "complete");
    h_resp_cleanup(&r);
}

/* POSTs count fresh indicators to coll, one envelope; ids go to ids[]. */
static void post_indicators(const char *coll, size_t count, char (*ids)[80], const char *tag)
{
    char **texts = calloc(count + 1, sizeof *texts);
    assert_non_null(texts);
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        char name[64];
        h_stix_id("indicator", ids[i]);
        snprintf(name, sizeof name, "%s %zu", tag, i);
        texts[i] = h_indicator(ids[i], "2021-01-01T00:00:00.000Z", name);
        assert_non_null(texts[i]);
        json_array_append_new(arr, json_loads(texts[i], 0, NULL));
    }
    json_t *env = json_pack("{s:o}", "objects", arr);
    char *body = json_dumps(env, JSON_COMPACT);
    post_expect(W->alpha, coll, body, count, 0);
    free(body);
    json_decref(env);
    for (size_t i = 0; i < count; i++)
        free(texts[i]);
    free(texts);
}

#define ATT_TYPE "x-ctix-attestation"

/* True when a record (object or manifest entry) is an attestation, by its id. */
static bool is_att(const json_t *rec)
{
    return strncmp(js(json_object_get(rec, "id")), ATT_TYPE "--", sizeof ATT_TYPE + 1) == 0;
}

/* The attestations of coll (latest version of each) that name object id; version NULL: any
 * version of it. Walks every page. The first match goes to *first (a new reference) when
 * first is not NULL and *first is still NULL. */
static size_t atts_naming(const char *coll, const char *id, const char *version, json_t **first)
{
    char next[1024] = "";
    size_t count = 0, pages = 0;
    for (;;) {
        struct h_resp r;
        if (next[0] == '\0')
            assert_true(h_getf(&W->srv, W->alpha, &r,
                               "/api/collections/%s/objects/?match[type]=" ATT_TYPE, coll));
        else
            assert_true(h_getf(&W->srv, W->alpha, &r,
                               "/api/collections/%s/objects/?match[type]=" ATT_TYPE "&next=%s",
                               coll, next));
        H_ASSERT_TAXII(&r, 200);
        assert_true(++pages < 1000);
        size_t i;
        json_t *a;
        json_array_foreach(objects_of(&r), i, a)
        {
            assert_string_equal(js(json_object_get(a, "type")), ATT_TYPE);
            if (strcmp(js(json_object_get(a, "object_ref")), id) != 0)
                continue;
            if (version != NULL && strcmp(js(json_object_get(a, "object_modified")), version) != 0)
                continue;
            count++;
            if (first != NULL && *first == NULL)
                *first = json_incref(a);
        }
        bool more = more_of(&r);
        if (more)
            snprintf(next, sizeof next, "%s", js(json_object_get(r.json, "next")));
        h_resp_cleanup(&r);
        if (!more)
            break;
    }
    return count;
}

/* id (version) was posted by a key of this node: exactly one attestation names it, a publish
 * statement by the node's organisation, signed with Ed25519, as unmarked as the object. */
static void expect_attested(const char *coll, const char *id, const char *version)
{
    json_t *a = NULL;
    size_t n = atts_naming(coll, id, version, &a);
    if (n != 1)
        fail_msg("%s %s: %zu attestations, expected exactly 1", id, version, n);
    assert_string_equal(js(json_object_get(a, "statement")), "publish");
    assert_string_equal(js(json_object_get(a, "publisher")), "node");
    assert_string_equal(js(json_object_get(a, "algorithm")), "ed25519");
    assert_true(strncmp(js(json_object_get(a, "public_key")), "ed25519:", 8) == 0);
    assert_true(strlen(js(json_object_get(a, "signature"))) > 80);
    assert_int_equal(strlen(js(json_object_get(a, "object_sha256"))), 64);
    assert_null(json_object_get(a, "object_marking_refs"));
    json_decref(a);
}

/* ---- discovery, API root, collections ---- */

static void test_discovery(void **state)
{
    (void)state;
    struct h_resp r;
    assert_true(h_get(&W->srv, W->alpha, "/taxii2/", &r));
    H_ASSERT_TAXII(&r, 200);
    assert_true(json_is_string(json_object_get(r.json, "title")));
    json_t *roots = json_object_get(r.json, "api_roots");
    assert_true(json_is_array(roots));
    bool found = false;
    size_t i;
    json_t *v;
    json_array_foreach(roots, i, v)
    {
        const char *s = json_string_value(v);
        assert_non_null(s);
        size_t len = strlen(s);
        if (len >= 5 && strcmp(s + len - 5, "/api/") == 0)
            found = true;
    }
    assert_true(found);
    json_t *def = json_object_get(r.json, "default");
    if (def != NULL) {
        bool listed = false;
        json_array_foreach(roots, i, v) listed = listed || json_equal(v, def);
        assert_true(listed);
    }
    h_resp_cleanup(&r);
}

static void test_api_root(void **state)
{
    (void)state;
    struct h_resp r;
    assert_true(h_get(&W->srv, W->alpha, "/api/", &r));
    H_ASSERT_TAXII(&r, 200);
    assert_true(json_is_string(json_object_get(r.json, "title")));
    json_t *versions = json_object_get(r.json, "versions");
    assert_true(json_is_array(versions));
    bool has21 = false;
    size_t i;
    json_t *v;
    json_array_foreach(versions, i, v) has21 = has21 || strcmp(js(v), H_TAXII) == 0;
    assert_true(has21);
    json_t *mcl = json_object_get(r.json, "max_content_length");
    assert_true(json_is_integer(mcl));
    assert_true(json_integer_value(mcl) > 0);
    h_resp_cleanup(&r);
}

/* Expected visibility of one collection for one key: -1 = not listed. */
struct vis {
    const char *coll;
    int rd, wr;
};

static void check_collections(const char *token, const struct vis *want, size_t n_want,
                              size_t n_listed)
{
    struct h_resp r, r2;
    assert_true(h_get(&W->srv, token, "/api/collections/", &r));
    H_ASSERT_TAXII(&r, 200);
    json_t *list = json_object_get(r.json, "collections");
    if (n_listed == 0) {
        /* The spec omits an empty list ("{}"). */
        if (list != NULL && !(json_is_array(list) && json_array_size(list) == 0))
            fail_msg("expected no collections: %s", r.body);
        if (list != NULL)
            fprintf(stderr, "note: empty \"collections\" list instead of omitting it\n");
    } else {
        assert_true(json_is_array(list));
        if (json_array_size(list) != n_listed)
            fail_msg("expected %zu collections: %s", n_listed, r.body);
    }
    for (size_t k = 0; k < n_want; k++) {
        json_t *found = NULL;
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
        {
            if (strcmp(js(json_object_get(c, "id")), want[k].coll) == 0)
                found = c;
        }
        if (want[k].rd < 0) {
            if (found != NULL)
                fail_msg("collection %s must not be listed: %s", want[k].coll, r.body);
            continue;
        }
        if (found == NULL)
            fail_msg("collection %s missing: %s", want[k].coll, r.body);
        assert_true(json_is_string(json_object_get(found, "title")));
        json_t *crd = json_object_get(found, "can_read");
        json_t *cwr = json_object_get(found, "can_write");
        assert_true(json_is_boolean(crd) && json_is_boolean(cwr));
        if (json_is_true(crd) != (want[k].rd == 1) || json_is_true(cwr) != (want[k].wr == 1))
            fail_msg("collection %s: expected can_read=%d can_write=%d: %s", want[k].coll,
                     want[k].rd, want[k].wr, r.body);
    }
    /* A stable order across requests. */
    assert_true(h_get(&W->srv, token, "/api/collections/", &r2));
    assert_true(json_equal(r.json, r2.json));
    h_resp_cleanup(&r);
    h_resp_cleanup(&r2);
}

static void test_collections_per_key(void **state)
{
    (void)state;
    struct vis alpha[] = {{W->shared, 1, 1},
                          {W->hidden, 1, 0},
                          {W->paging, 1, 1},
                          {W->filters, 1, 1},
                          {W->ver, 1, 1}};
    check_collections(W->alpha, alpha, 5, 5);
    struct vis alpha_reader[] = {{W->shared, 1, 0}, {W->hidden, 1, 0}, {W->paging, 1, 0}};
    check_collections(W->alpha_reader, alpha_reader, 3, 5);
    struct vis beta[] = {{W->shared, 1, 0}, {W->hidden, -1, -1}, {W->paging, -1, -1}};
    check_collections(W->beta, beta, 3, 1);
    struct vis gamma[] = {{W->shared, 0, 1}, {W->hidden, -1, -1}};
    check_collections(W->gamma, gamma, 2, 1);
    struct vis delta[] = {{W->shared, -1, -1}};
    check_collections(W->delta, delta, 1, 0);
    struct vis admin[] = {{W->shared, 1, 1}, {W->hidden, 1, 1}, {W->ver, 1, 1}};
    check_collections(W->admin, admin, 3, 5);
}

static void test_collection_by_id_and_alias(void **state)
{
    (void)state;
    struct h_resp a, b, c;
    assert_true(h_getf(&W->srv, W->beta, &a, "/api/collections/%s/", W->shared));
    H_ASSERT_TAXII(&a, 200);
    assert_string_equal(js(json_object_get(a.json, "id")), W->shared);
    assert_string_equal(js(json_object_get(a.json, "title")), "Shared Intel");
    assert_string_equal(js(json_object_get(a.json, "alias")), "shared");
    assert_string_equal(js(json_object_get(a.json, "description")), "indicators for everyone");
    assert_true(json_is_true(json_object_get(a.json, "can_read")));
    assert_true(json_is_false(json_object_get(a.json, "can_write")));
    json_t *mt = json_object_get(a.json, "media_types");
    if (mt != NULL)
        assert_true(json_is_array(mt) && json_array_size(mt) > 0);

    assert_true(h_get(&W->srv, W->beta, "/api/collections/shared/", &b));
    H_ASSERT_TAXII(&b, 200);
    assert_true(json_equal(a.json, b.json));
    h_resp_cleanup(&a);
    h_resp_cleanup(&b);

    /* A collection the key's organisation has no grant on does not exist for it. */
    assert_true(h_getf(&W->srv, W->beta, &c, "/api/collections/%s/", W->hidden));
    H_ASSERT_ERROR2(&c, 404, 403);
    h_resp_cleanup(&c);
    assert_true(h_get(&W->srv, W->delta, "/api/collections/shared/", &c));
    H_ASSERT_ERROR2(&c, 404, 403);
    h_resp_cleanup(&c);
}

/* ---- POST, status ---- */

static void test_post_partly_valid(void **state)
{
    (void)state;
    char good1[80], good2[80], bad1[80], bad2[80], path[200];
    h_stix_id("indicator", good1);
    h_stix_id("indicator", good2);
    h_stix_id("indicator", bad1);
    h_stix_id("relationship", bad2);
    char *g1 = h_indicator(good1, "2021-02-02T02:02:02.000Z", "good one");
    char *g2 = h_indicator(good2, "2021-02-02T02:02:03.000Z", "good two");
    char b1[512], b2[700];
    /* An indicator without its required pattern. */
    snprintf(b1, sizeof b1,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"created\":\"2021-01-01T00:00:00.000Z\",\"modified\":\"2021-01-01T00:00:00.000Z\","
             "\"pattern_type\":\"stix\",\"valid_from\":\"2021-01-01T00:00:00Z\"}",
             bad1);
    /* A relationship whose created is not a timestamp. */
    snprintf(b2, sizeof b2,
             "{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"created\":\"2022-101-27T13:49:54.326Z\",\"modified\":\"2022-10-27T13:49:54.326Z\","
             "\"relationship_type\":\"indicates\",\"source_ref\":\"%s\",\"target_ref\":\"%s\"}",
             bad2, good1, good2);
    char *env = h_envelope(g1, b1, g2, b2, NULL);
    struct h_resp r;
    snprintf(path, sizeof path, "/api/collections/%s/objects/", W->shared);
    assert_true(h_post(&W->srv, W->alpha, path, env, &r));
    H_ASSERT_TAXII(&r, 202);
    json_t *st = r.json;
    assert_true(json_is_string(json_object_get(st, "id")));
    assert_string_equal(js(json_object_get(st, "status")), "complete");
    assert_int_equal(json_integer_value(json_object_get(st, "total_count")), 4);
    assert_int_equal(json_integer_value(json_object_get(st, "success_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "failure_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "pending_count")), 0);
    json_t *succ = json_object_get(st, "successes");
    json_t *fails = json_object_get(st, "failures");
    assert_int_equal(json_array_size(succ), 2);
    assert_int_equal(json_array_size(fails), 2);
    size_t i;
    json_t *d;
    json_array_foreach(succ, i, d)
    {
        const char *id = js(json_object_get(d, "id"));
        const char *ver = js(json_object_get(d, "version"));
        assert_true(strcmp(id, good1) == 0 || strcmp(id, good2) == 0);
        assert_string_equal(ver, strcmp(id, good1) == 0 ? "2021-02-02T02:02:02.000Z"
                                                        : "2021-02-02T02:02:03.000Z");
    }
    json_array_foreach(fails, i, d)
    {
        const char *id = js(json_object_get(d, "id"));
        const char *msg = json_string_value(json_object_get(d, "message"));
        assert_true(strcmp(id, bad1) == 0 || strcmp(id, bad2) == 0);
        assert_true(json_is_string(json_object_get(d, "version")));
        if (msg == NULL || *msg == '\0')
            fail_msg("failure without a message: %s", r.body);
        /* The message names what is wrong. */
        if (strcmp(id, bad1) == 0 && strstr(msg, "pattern") == NULL)
            fail_msg("message for the indicator should name \"pattern\": %s", msg);
        if (strcmp(id, bad2) == 0 && strstr(msg, "created") == NULL)
            fail_msg("message for the relationship should name \"created\": %s", msg);
    }

    /* The same status resource at its own URL. */
    struct h_resp s;
    assert_true(h_getf(&W->srv, W->alpha, &s, "/api/status/%s/",
                       json_string_value(json_object_get(st, "id"))));
    H_ASSERT_TAXII(&s, 200);
    assert_string_equal(json_string_value(json_object_get(s.json, "id")),
                        json_string_value(json_object_get(st, "id")));
    assert_int_equal(json_integer_value(json_object_get(s.json, "success_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(s.json, "failure_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(s.json, "total_count")), 4);
    h_resp_cleanup(&s);

    /* The valid ones are stored, the invalid ones are not. */
    assert_true(h_getf(&W->srv, W->alpha, &s, "/api/collections/%s/objects/%s/", W->shared, good2));
    H_ASSERT_TAXII(&s, 200);
    assert_int_equal(n_objects(&s), 1);
    json_t *want = json_loads(g2, 0, NULL);
    assert_true(json_equal(json_array_get(objects_of(&s), 0), want));
    json_decref(want);
    h_resp_cleanup(&s);
    assert_true(h_getf(&W->srv, W->alpha, &s, "/api/collections/%s/objects/%s/", W->shared, bad1));
    H_ASSERT_ERROR(&s, 404);
    h_resp_cleanup(&s);
    assert_true(h_getf(&W->srv, W->alpha, &s, "/api/collections/%s/objects/%s/", W->shared, bad2));
    H_ASSERT_ERROR(&s, 404);
    h_resp_cleanup(&s);

    /* Each stored object is signed, once; what failed is not (the status above counted only the
     * four posted objects, never an attestation). */
    expect_attested(W->shared, good1, "2021-02-02T02:02:02.000Z");
    expect_attested(W->shared, good2, "2021-02-02T02:02:03.000Z");
    assert_int_equal(atts_naming(W->shared, bad1, NULL, NULL), 0);
    assert_int_equal(atts_naming(W->shared, bad2, NULL, NULL), 0);

    h_resp_cleanup(&r);
    free(env);
    free(g1);
    free(g2);
}

static void test_duplicates_are_successes(void **state)
{
    (void)state;
    char a[80], b[80];
    h_stix_id("indicator", a);
    h_stix_id("indicator", b);
    char *ta = h_indicator(a, "2021-03-03T03:03:03.000Z", "dup a");
    char *tb = h_indicator(b, "2021-03-03T03:03:03.000Z", "dup b");
    char *env = h_envelope(ta, tb, NULL);
    post_expect(W->alpha, W->shared, env, 2, 0);
    post_expect(W->alpha, W->shared, env, 2, 0);
    /* The same object twice in one envelope is no error either. */
    char *env2 = h_envelope(ta, ta, NULL);
    post_expect(W->alpha, W->shared, env2, 2, 0);

    struct h_resp r;
    assert_true(h_getf(&W->srv, W->alpha, &r,
                       "/api/collections/%s/manifest/?match[id]=%s,%s&match[version]=all",
                       W->shared, a, b));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), 2);
    h_resp_cleanup(&r);
    /* Signing the same version again makes a new version of its attestation, not a second
     * attestation: still exactly one names each object. */
    expect_attested(W->shared, a, "2021-03-03T03:03:03.000Z");
    expect_attested(W->shared, b, "2021-03-03T03:03:03.000Z");
    free(env);
    free(env2);
    free(ta);
    free(tb);
}

/* ---- pagination ---- */

#define N_PAGING 25
#define IND      "match[type]=indicator"
static char paging_ids[N_PAGING][80];

static size_t paging_index(const char *id)
{
    for (size_t i = 0; i < N_PAGING; i++)
        if (strcmp(paging_ids[i], id) == 0)
            return i;
    fail_msg("unexpected object %s", id);
    return 0;
}

static void paging_fill(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    /* Five envelopes, so that the order of date_added across them is known. */
    for (size_t k = 0; k < 5; k++)
        post_indicators(W->paging, 5, paging_ids + 5 * k, "page");
}

static void test_pagination(void **state)
{
    (void)state;
    paging_fill();

    /* Walk the indicators with limit=7 and next: the filter applies before the limit, so the
     * attestations stored beside them neither fill nor shorten a page. */
    int seen[N_PAGING] = {0};
    size_t pages = 0, total = 0, last_batch = 0;
    char prev_last[64] = "", next[1024] = "";
    static const size_t sizes[] = {7, 7, 7, 4};
    for (;;) {
        struct h_resp r;
        if (next[0] == '\0')
            assert_true(h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/?limit=7&" IND,
                               W->paging));
        else
            assert_true(h_getf(&W->srv, W->alpha, &r,
                               "/api/collections/%s/objects/?limit=7&" IND "&next=%s", W->paging,
                               next));
        H_ASSERT_TAXII(&r, 200);
        assert_true(pages < 4);
        size_t n = n_objects(&r);
        if (n != sizes[pages])
            fail_msg("page %zu has %zu objects, expected %zu", pages + 1, n, sizes[pages]);
        size_t i;
        json_t *o;
        json_array_foreach(objects_of(&r), i, o)
        {
            size_t idx = paging_index(js(json_object_get(o, "id")));
            seen[idx]++;
            /* Ascending date_added: never an object of an earlier envelope after a later one. */
            assert_true(idx / 5 >= last_batch);
            last_batch = idx / 5;
        }
        char first[64], last[64];
        assert_true(h_header(&r, "X-TAXII-Date-Added-First", first, sizeof first));
        assert_true(h_header(&r, "X-TAXII-Date-Added-Last", last, sizeof last));
        assert_true(is_ts_us(first) && is_ts_us(last));
        assert_true(strcmp(first, last) < 0);
        assert_true(strcmp(prev_last, first) < 0);
        snprintf(prev_last, sizeof prev_last, "%s", last);
        total += n;
        pages++;
        json_t *nx = json_object_get(r.json, "next");
        if (pages < 4) {
            assert_true(more_of(&r));
            assert_true(json_is_string(nx));
            snprintf(next, sizeof next, "%s", json_string_value(nx));
            h_resp_cleanup(&r);
        } else {
            assert_false(more_of(&r));
            assert_null(nx);
            h_resp_cleanup(&r);
            break;
        }
    }
    assert_int_equal(total, N_PAGING);
    for (size_t i = 0; i < N_PAGING; i++)
        assert_int_equal(seen[i], 1);

    /* The manifest walked by next: strictly ascending date_added, headers match the records. */
    memset(seen, 0, sizeof seen);
    next[0] = '\0';
    prev_last[0] = '\0';
    pages = 0;
    for (;;) {
        struct h_resp r;
        if (next[0] == '\0')
            assert_true(h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/manifest/?limit=10&" IND,
                               W->paging));
        else
            assert_true(h_getf(&W->srv, W->alpha, &r,
                               "/api/collections/%s/manifest/?limit=10&" IND "&next=%s", W->paging,
                               next));
        H_ASSERT_TAXII(&r, 200);
        assert_true(++pages <= 3);
        json_t *recs = objects_of(&r);
        assert_non_null(recs);
        size_t i;
        json_t *m;
        json_array_foreach(recs, i, m)
        {
            const char *da = json_string_value(json_object_get(m, "date_added"));
            assert_true(is_ts_us(da));
            assert_true(strcmp(prev_last, da) < 0);
            snprintf(prev_last, sizeof prev_last, "%s", da);
            assert_string_equal(js(json_object_get(m, "version")), "2021-01-01T00:00:00.000Z");
            seen[paging_index(js(json_object_get(m, "id")))]++;
        }
        char first[64], last[64];
        assert_true(h_header(&r, "X-TAXII-Date-Added-First", first, sizeof first));
        assert_true(h_header(&r, "X-TAXII-Date-Added-Last", last, sizeof last));
        assert_string_equal(
            first, json_string_value(json_object_get(json_array_get(recs, 0), "date_added")));
        assert_string_equal(last, prev_last);
        json_t *nx = json_object_get(r.json, "next");
        bool more = more_of(&r);
        if (more) {
            assert_true(json_is_string(nx));
            snprintf(next, sizeof next, "%s", json_string_value(nx));
        }
        h_resp_cleanup(&r);
        if (!more)
            break;
    }
    assert_int_equal(pages, 3);
    for (size_t i = 0; i < N_PAGING; i++)
        assert_int_equal(seen[i], 1);

    /* Continuing with added_after = the previous X-TAXII-Date-Added-Last instead of next. */
    memset(seen, 0, sizeof seen);
    prev_last[0] = '\0';
    pages = 0;
    total = 0;
    for (;;) {
        struct h_resp r;
        if (prev_last[0] == '\0')
            assert_true(h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/?limit=7&" IND,
                               W->paging));
        else
            assert_true(h_getf(&W->srv, W->alpha, &r,
                               "/api/collections/%s/objects/?limit=7&" IND "&added_after=%s",
                               W->paging, prev_last));
        H_ASSERT_TAXII(&r, 200);
        assert_true(++pages <= 4);
        size_t i;
        json_t *o;
        json_array_foreach(objects_of(&r), i, o)
        {
            seen[paging_index(js(json_object_get(o, "id")))]++;
            total++;
        }
        bool more = more_of(&r);
        assert_true(h_header(&r, "X-TAXII-Date-Added-Last", prev_last, sizeof prev_last));
        h_resp_cleanup(&r);
        if (!more)
            break;
    }
    assert_int_equal(total, N_PAGING);
    for (size_t i = 0; i < N_PAGING; i++)
        assert_int_equal(seen[i], 1);

    /* A limit past the server's cap is no error. Unfiltered, the collection holds the 25
     * indicators and one attestation of each. */
    struct h_resp r;
    assert_true(
        h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/?limit=100000", W->paging));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), 2 * N_PAGING);
    memset(seen, 0, sizeof seen);
    size_t i;
    json_t *o;
    json_array_foreach(objects_of(&r), i, o)
    {
        if (is_att(o))
            seen[paging_index(js(json_object_get(o, "object_ref")))]++;
        else
            paging_index(js(json_object_get(o, "id")));
    }
    for (size_t k = 0; k < N_PAGING; k++)
        assert_int_equal(seen[k], 1);
    h_resp_cleanup(&r);
}

static void test_added_after(void **state)
{
    (void)state;
    struct h_resp m, r;
    paging_fill();
    assert_true(h_getf(&W->srv, W->alpha, &m, "/api/collections/%s/manifest/?" IND, W->paging));
    H_ASSERT_TAXII(&m, 200);
    json_t *recs = objects_of(&m);
    assert_int_equal(json_array_size(recs), N_PAGING);
    const char *tenth = json_string_value(json_object_get(json_array_get(recs, 9), "date_added"));
    assert_non_null(tenth);

    /* Strictly after: records 11..25, in the manifest's order. */
    assert_true(h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/?" IND "&added_after=%s",
                       W->paging, tenth));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), N_PAGING - 10);
    for (size_t i = 0; i < N_PAGING - 10; i++) {
        json_t *want = json_object_get(json_array_get(recs, i + 10), "id");
        assert_true(json_equal(json_object_get(json_array_get(objects_of(&r), i), "id"), want));
    }
    h_resp_cleanup(&r);

    /* After the last one: nothing, and no more. */
    const char *last =
        json_string_value(json_object_get(json_array_get(recs, N_PAGING - 1), "date_added"));
    assert_true(h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/?" IND "&added_after=%s",
                       W->paging, last));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), 0);
    assert_false(more_of(&r));
    h_resp_cleanup(&r);

    /* A timestamp with fewer digits is accepted. */
    assert_true(h_getf(&W->srv, W->alpha, &r,
                       "/api/collections/%s/objects/?" IND "&added_after=2000-01-01T00:00:00Z",
                       W->paging));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), N_PAGING);
    h_resp_cleanup(&r);
    h_resp_cleanup(&m);
}

/* ---- match[...] ---- */

static char f_ind1[80], f_ind2[80], f_mal[80], f_ident[80];
static const char f_ipv4[] = "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4";

static void filters_fill(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    h_stix_id("indicator", f_ind1);
    h_stix_id("indicator", f_ind2);
    h_stix_id("malware", f_mal);
    h_stix_id("identity", f_ident);
    char *i1 = h_indicator(f_ind1, "2021-04-04T04:04:04.000Z", "filter one");
    char *i2 = h_indicator(f_ind2, "2021-04-04T04:04:05.000Z", "filter two");
    char mal[400], ident[400], ip[200];
    snprintf(mal, sizeof mal,
             "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"created\":\"2021-04-04T04:04:04.000Z\",\"modified\":\"2021-04-04T04:04:04.000Z\","
             "\"name\":\"Cryptolocker\",\"is_family\":true}",
             f_mal);
    snprintf(ident, sizeof ident,
             "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"created\":\"2021-04-04T04:04:04.000Z\",\"modified\":\"2021-04-04T04:04:04.000Z\","
             "\"name\":\"ACME\",\"identity_class\":\"organization\"}",
             f_ident);
    /* An SCO with its deterministic id: no created, no modified. */
    snprintf(ip, sizeof ip,
             "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"value\":\"198.51.100.3\"}",
             f_ipv4);
    char *env = h_envelope(i1, i2, mal, ident, ip, NULL);
    post_expect(W->alpha, W->filters, env, 5, 0);
    free(env);
    free(i1);
    free(i2);
}

#define N_FILTERS 5 /* objects in the filters collection, each with its attestation */

/* GET objects of the filters collection with query q; checks the exact set of ids, and that
 * the query selects n_att attestations besides (0 or all N_FILTERS: each names one of the
 * collection's objects, as the objects endpoint shows). */
static void expect_ids_att(const char *endpoint, const char *q, const char *const *ids,
                           size_t n_att)
{
    struct h_resp r;
    size_t n = 0, atts = 0;
    while (ids[n] != NULL)
        n++;
    assert_true(
        h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/%s/?%s", W->filters, endpoint, q));
    H_ASSERT_TAXII(&r, 200);
    if (n_objects(&r) != n + n_att)
        fail_msg("%s?%s: expected %zu records: %s", endpoint, q, n + n_att, r.body);
    for (size_t i = 0; i < n; i++)
        if (find_id(objects_of(&r), ids[i], NULL) == NULL)
            fail_msg("%s?%s: %s missing: %s", endpoint, q, ids[i], r.body);
    size_t i;
    json_t *o;
    bool named[N_FILTERS] = {false};
    const char *const all[N_FILTERS] = {f_ind1, f_ind2, f_mal, f_ident, f_ipv4};
    json_array_foreach(objects_of(&r), i, o)
    {
        if (!is_att(o))
            continue;
        atts++;
        if (strcmp(endpoint, "objects") != 0)
            continue;
        const char *ref = js(json_object_get(o, "object_ref"));
        size_t k = 0;
        while (k < N_FILTERS && strcmp(all[k], ref) != 0)
            k++;
        if (k == N_FILTERS || named[k])
            fail_msg("%s?%s: attestation of %s unexpected: %s", endpoint, q, ref, r.body);
        named[k] = true;
    }
    if (atts != n_att)
        fail_msg("%s?%s: expected %zu attestations: %s", endpoint, q, n_att, r.body);
    if (n > 0) {
        char h[64];
        assert_true(h_header(&r, "X-TAXII-Date-Added-First", h, sizeof h));
        assert_true(h_header(&r, "X-TAXII-Date-Added-Last", h, sizeof h));
    }
    h_resp_cleanup(&r);
}

/* The same, for a query that selects no attestation. */
static void expect_ids(const char *endpoint, const char *q, const char *const *ids)
{
    expect_ids_att(endpoint, q, ids, 0);
}

static void test_match_filters(void **state)
{
    (void)state;
    char q[512];
    filters_fill();
    const char *all[] = {f_ind1, f_ind2, f_mal, f_ident, f_ipv4, NULL};
    const char *inds[] = {f_ind1, f_ind2, NULL};
    const char *none[] = {NULL};
    expect_ids_att("objects", "limit=100", all, N_FILTERS);
    expect_ids_att("manifest", "limit=100", all, N_FILTERS);
    /* Each object posted has its attestation, found by type like any other. */
    expect_ids_att("objects", "match[type]=" ATT_TYPE, none, N_FILTERS);
    expect_ids_att("manifest", "match[type]=" ATT_TYPE, none, N_FILTERS);
    expect_ids("objects", "match[type]=indicator", inds);
    expect_ids("manifest", "match[type]=indicator", inds);
    expect_ids("objects", "match%5Btype%5D=indicator", inds);
    const char *mi[] = {f_mal, f_ident, NULL};
    expect_ids("objects", "match[type]=malware,identity", mi);
    const char *ipo[] = {f_ipv4, NULL};
    expect_ids("objects", "match[type]=ipv4-addr", ipo);
    expect_ids("objects", "match[type]=campaign", none);
    snprintf(q, sizeof q, "match[id]=%s,%s", f_ind1, f_mal);
    const char *im[] = {f_ind1, f_mal, NULL};
    expect_ids("objects", q, im);
    expect_ids("manifest", q, im);
    snprintf(q, sizeof q, "match[id]=%s", f_ipv4);
    expect_ids("objects", q, ipo);
    /* Different fields are AND-ed. */
    snprintf(q, sizeof q, "match[type]=indicator&match[id]=%s", f_mal);
    expect_ids("objects", q, none);
    snprintf(q, sizeof q, "match[type]=indicator&match[id]=%s,%s", f_mal, f_ind2);
    const char *i2[] = {f_ind2, NULL};
    expect_ids("objects", q, i2);
    expect_ids_att("objects", "match[spec_version]=2.1", all, N_FILTERS);
    expect_ids("objects", "match[spec_version]=2.0", none);
    expect_ids_att("objects", "match[spec_version]=2.0,2.1", all, N_FILTERS);
    expect_ids("manifest", "match[spec_version]=2.1&match[type]=identity", mi + 1);
}

/* ---- versions ---- */

static char v_obj[80], v_other[80];
static const char *const v_times[3] = {"2021-05-01T00:00:00.000Z", "2021-05-02T00:00:00.000Z",
                                       "2021-05-03T00:00:00.000Z"};

static void versions_fill(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    h_stix_id("indicator", v_obj);
    h_stix_id("indicator", v_other);
    /* Posted out of order (second, third, first): first and last go by modified, not by the
     * order of arrival. */
    static const int order[3] = {1, 2, 0};
    for (size_t k = 0; k < 3; k++) {
        char *o = h_indicator(v_obj, v_times[order[k]], "versioned");
        char *env = h_envelope(o, NULL);
        post_expect(W->alpha, W->ver, env, 1, 0);
        free(env);
        free(o);
    }
    char *o = h_indicator(v_other, "2021-05-02T12:00:00.000Z", "other");
    char *env = h_envelope(o, NULL);
    post_expect(W->alpha, W->ver, env, 1, 0);
    free(env);
    free(o);
}

/* GET path (relative to the ver collection); expects exactly the versions listed of v_obj
 * (indexes into v_times, -1 terminated) plus n_other objects. */
static void expect_versions(const char *rel, const int *want, size_t n_other)
{
    struct h_resp r;
    size_t n = 0;
    while (want[n] >= 0)
        n++;
    assert_true(h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/%s", W->ver, rel));
    H_ASSERT_TAXII(&r, 200);
    if (n_objects(&r) != n + n_other)
        fail_msg("%s: expected %zu objects: %s", rel, n + n_other, r.body);
    for (size_t i = 0; i < n; i++)
        if (find_id(objects_of(&r), v_obj, v_times[want[i]]) == NULL)
            fail_msg("%s: version %s missing: %s", rel, v_times[want[i]], r.body);
    h_resp_cleanup(&r);
}

static void test_match_version(void **state)
{
    (void)state;
    char rel[512];
    versions_fill();
    static const int last[] = {2, -1}, first[] = {0, -1}, all[] = {0, 1, 2, -1}, second[] = {1, -1},
                     fl[] = {0, 2, -1};
    snprintf(rel, sizeof rel, "objects/%s/", v_obj);
    expect_versions(rel, last, 0);
    snprintf(rel, sizeof rel, "objects/%s/?match[version]=last", v_obj);
    expect_versions(rel, last, 0);
    snprintf(rel, sizeof rel, "objects/%s/?match[version]=first", v_obj);
    expect_versions(rel, first, 0);
    snprintf(rel, sizeof rel, "objects/%s/?match[version]=all", v_obj);
    expect_versions(rel, all, 0);
    snprintf(rel, sizeof rel, "objects/%s/?match[version]=%s", v_obj, v_times[1]);
    expect_versions(rel, second, 0);
    snprintf(rel, sizeof rel, "objects/%s/?match[version]=%s,%s", v_obj, v_times[0], v_times[2]);
    expect_versions(rel, fl, 0);
    snprintf(rel, sizeof rel, "objects/%s/?match[version]=first,last", v_obj);
    expect_versions(rel, fl, 0);
    snprintf(rel, sizeof rel, "objects/%s/?match[version]=first,%s", v_obj, v_times[1]);
    static const int f2[] = {0, 1, -1};
    expect_versions(rel, f2, 0);

    /* The collection's indicators as a whole. */
    expect_versions("objects/?" IND, last, 1);
    expect_versions("objects/?" IND "&match[version]=all", all, 1);
    expect_versions("objects/?" IND "&match[version]=first", first, 1);
    snprintf(rel, sizeof rel, "objects/?match[id]=%s&match[version]=all", v_obj);
    expect_versions(rel, all, 0);
    /* Each version was signed on its own: its attestation is a distinct object naming it. */
    for (size_t k = 0; k < 3; k++)
        expect_attested(W->ver, v_obj, v_times[k]);
    expect_attested(W->ver, v_other, "2021-05-02T12:00:00.000Z");
    assert_int_equal(atts_naming(W->ver, v_obj, NULL, NULL), 3);
    /* Unfiltered, the collection's latest versions are the two indicators and four
     * attestations. */
    expect_versions("objects/", last, 1 + 4);

    /* The manifest has one record per version. */
    struct h_resp r;
    assert_true(h_getf(&W->srv, W->alpha, &r,
                       "/api/collections/%s/manifest/?match[id]=%s&match[version]=all", W->ver,
                       v_obj));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), 3);
    for (size_t k = 0; k < 3; k++) {
        bool found = false;
        size_t i;
        json_t *m;
        json_array_foreach(objects_of(&r), i, m)
        {
            found = found || strcmp(js(json_object_get(m, "version")), v_times[k]) == 0;
            assert_string_equal(js(json_object_get(m, "id")), v_obj);
            assert_true(is_ts_us(json_string_value(json_object_get(m, "date_added"))));
            json_t *mt = json_object_get(m, "media_type");
            if (mt != NULL)
                assert_true(strncmp(js(mt), "application/stix+json", 21) == 0);
        }
        assert_true(found);
    }
    h_resp_cleanup(&r);
}

static void test_versions_endpoint(void **state)
{
    (void)state;
    struct h_resp r;
    versions_fill();
    assert_true(
        h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/%s/versions/", W->ver, v_obj));
    H_ASSERT_TAXII(&r, 200);
    json_t *vs = json_object_get(r.json, "versions");
    assert_true(json_is_array(vs));
    assert_int_equal(json_array_size(vs), 3);
    for (size_t k = 0; k < 3; k++) {
        bool found = false;
        size_t i;
        json_t *v;
        json_array_foreach(vs, i, v) found = found || strcmp(js(v), v_times[k]) == 0;
        assert_true(found);
    }
    char h[64];
    assert_true(h_header(&r, "X-TAXII-Date-Added-First", h, sizeof h));
    assert_true(is_ts_us(h));
    assert_true(h_header(&r, "X-TAXII-Date-Added-Last", h, sizeof h));
    assert_true(is_ts_us(h));
    h_resp_cleanup(&r);

    /* Paginated like the rest. */
    assert_true(h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/%s/versions/?limit=2",
                       W->ver, v_obj));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "versions")), 2);
    assert_true(more_of(&r));
    h_resp_cleanup(&r);

    /* Versions of an object that is not there. */
    char nobody[80];
    h_stix_id("indicator", nobody);
    assert_true(
        h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/%s/versions/", W->ver, nobody));
    H_ASSERT_ERROR(&r, 404);
    h_resp_cleanup(&r);
}

static void test_object_get(void **state)
{
    (void)state;
    char id[80], nobody[80];
    h_stix_id("indicator", id);
    h_stix_id("indicator", nobody);
    char *o = h_indicator(id, "2021-06-06T06:06:06.123Z", "get me");
    char *env = h_envelope(o, NULL);
    post_expect(W->alpha, W->shared, env, 1, 0);
    struct h_resp r;
    /* Readers of the collection see it. */
    assert_true(h_getf(&W->srv, W->beta, &r, "/api/collections/%s/objects/%s/", W->shared, id));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), 1);
    json_t *want = json_loads(o, 0, NULL);
    assert_true(json_equal(json_array_get(objects_of(&r), 0), want));
    json_decref(want);
    char h[64];
    assert_true(h_header(&r, "X-TAXII-Date-Added-First", h, sizeof h));
    assert_true(is_ts_us(h));
    h_resp_cleanup(&r);
    /* By alias too. */
    assert_true(h_getf(&W->srv, W->beta, &r, "/api/collections/shared/objects/%s/", id));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), 1);
    h_resp_cleanup(&r);
    assert_true(h_getf(&W->srv, W->beta, &r, "/api/collections/%s/objects/%s/", W->shared, nobody));
    H_ASSERT_ERROR(&r, 404);
    h_resp_cleanup(&r);
    free(env);
    free(o);
}

/* ---- rights ---- */

static void test_read_write_rights(void **state)
{
    (void)state;
    struct h_resp r;
    char id[80], path[200];
    h_stix_id("indicator", id);
    char *o = h_indicator(id, "2021-07-07T07:07:07.000Z", "rights");
    char *env = h_envelope(o, NULL);
    snprintf(path, sizeof path, "/api/collections/%s/objects/", W->shared);

    /* beta reads but may not write. */
    assert_true(h_post(&W->srv, W->beta, path, env, &r));
    H_ASSERT_ERROR(&r, 403);
    h_resp_cleanup(&r);
    assert_true(h_get(&W->srv, W->beta, path, &r));
    H_ASSERT_TAXII(&r, 200);
    h_resp_cleanup(&r);
    /* alpha's reader key: the role caps the organisation's grant. */
    assert_true(h_post(&W->srv, W->alpha_reader, path, env, &r));
    H_ASSERT_ERROR(&r, 403);
    h_resp_cleanup(&r);

    /* gamma writes but may not read. */
    post_expect(W->gamma, W->shared, env, 1, 0);
    assert_true(h_get(&W->srv, W->gamma, path, &r));
    H_ASSERT_ERROR2(&r, 403, 404);
    h_resp_cleanup(&r);
    assert_true(h_getf(&W->srv, W->gamma, &r, "/api/collections/%s/manifest/", W->shared));
    H_ASSERT_ERROR2(&r, 403, 404);
    h_resp_cleanup(&r);
    assert_true(h_getf(&W->srv, W->gamma, &r, "/api/collections/%s/objects/%s/", W->shared, id));
    H_ASSERT_ERROR2(&r, 403, 404);
    h_resp_cleanup(&r);
    assert_true(
        h_getf(&W->srv, W->gamma, &r, "/api/collections/%s/objects/%s/versions/", W->shared, id));
    H_ASSERT_ERROR2(&r, 403, 404);
    h_resp_cleanup(&r);

    /* delta has no grant: the collection does not exist for it. */
    assert_true(h_get(&W->srv, W->delta, path, &r));
    H_ASSERT_ERROR2(&r, 404, 403);
    h_resp_cleanup(&r);
    assert_true(h_post(&W->srv, W->delta, path, env, &r));
    H_ASSERT_ERROR2(&r, 404, 403);
    h_resp_cleanup(&r);

    /* alpha reads hidden, may not write there. */
    snprintf(path, sizeof path, "/api/collections/%s/objects/", W->hidden);
    assert_true(h_get(&W->srv, W->alpha, path, &r));
    H_ASSERT_TAXII(&r, 200);
    h_resp_cleanup(&r);
    assert_true(h_post(&W->srv, W->alpha, path, env, &r));
    H_ASSERT_ERROR(&r, 403);
    h_resp_cleanup(&r);
    /* The admin may do everything everywhere. */
    post_expect(W->admin, W->hidden, env, 1, 0);

    /* HTTP Basic with the token as password works like Bearer. */
    char b64[256], cred[200], auth[300];
    snprintf(cred, sizeof cred, "anyone:%s", W->beta);
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(cred), j = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)cred[i] << 16;
        if (i + 1 < len)
            v |= (unsigned char)cred[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)cred[i + 2];
        b64[j++] = tbl[(v >> 18) & 63];
        b64[j++] = tbl[(v >> 12) & 63];
        b64[j++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        b64[j++] = i + 2 < len ? tbl[v & 63] : '=';
    }
    b64[j] = '\0';
    snprintf(auth, sizeof auth, "Basic %s", b64);
    struct h_req q = {.path = "/api/collections/", .auth = auth};
    assert_true(h_http(&W->srv, &q, &r));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "collections")), 1);
    h_resp_cleanup(&r);
    free(env);
    free(o);
}

static void test_delete_rights_table(void **state)
{
    (void)state;
    char id[80], path[300];
    h_stix_id("indicator", id);
    char *o = h_indicator(id, "2021-08-08T08:08:08.000Z", "delete me");
    char *env = h_envelope(o, NULL);
    post_expect(W->alpha, W->shared, env, 1, 0);
    snprintf(path, sizeof path, "/api/collections/%s/objects/%s/", W->shared, id);
    struct h_resp r;
    /* can_read false, can_write false → 404 */
    assert_true(h_delete(&W->srv, W->delta, path, &r));
    H_ASSERT_ERROR(&r, 404);
    h_resp_cleanup(&r);
    /* true, false → 403 */
    assert_true(h_delete(&W->srv, W->beta, path, &r));
    H_ASSERT_ERROR(&r, 403);
    h_resp_cleanup(&r);
    assert_true(h_delete(&W->srv, W->alpha_reader, path, &r));
    H_ASSERT_ERROR(&r, 403);
    h_resp_cleanup(&r);
    /* false, true → 403 */
    assert_true(h_delete(&W->srv, W->gamma, path, &r));
    H_ASSERT_ERROR(&r, 403);
    h_resp_cleanup(&r);
    /* Still there. */
    assert_true(h_get(&W->srv, W->alpha, path, &r));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), 1);
    h_resp_cleanup(&r);
    /* true, true → 200, then gone from the object, the objects and the manifest. */
    assert_true(h_delete(&W->srv, W->alpha, path, &r));
    assert_int_equal(r.status, 200);
    h_resp_cleanup(&r);
    assert_true(h_get(&W->srv, W->alpha, path, &r));
    H_ASSERT_ERROR(&r, 404);
    h_resp_cleanup(&r);
    assert_true(
        h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/manifest/?match[id]=%s", W->shared, id));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), 0);
    h_resp_cleanup(&r);
    assert_true(
        h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/?match[id]=%s", W->shared, id));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(n_objects(&r), 0);
    h_resp_cleanup(&r);
    assert_true(h_delete(&W->srv, W->alpha, path, &r));
    H_ASSERT_ERROR(&r, 404);
    h_resp_cleanup(&r);
    free(env);
    free(o);

    /* DELETE with match[version] removes only the versions it selects. */
    h_stix_id("indicator", id);
    for (size_t k = 0; k < 3; k++) {
        char *v = h_indicator(id, v_times[k], "three versions");
        char *e = h_envelope(v, NULL);
        post_expect(W->alpha, W->shared, e, 1, 0);
        free(e);
        free(v);
    }
    snprintf(path, sizeof path, "/api/collections/%s/objects/%s/?match[version]=first", W->shared,
             id);
    assert_true(h_delete(&W->srv, W->admin, path, &r));
    assert_int_equal(r.status, 200);
    h_resp_cleanup(&r);
    assert_true(
        h_getf(&W->srv, W->alpha, &r, "/api/collections/%s/objects/%s/versions/", W->shared, id));
    H_ASSERT_TAXII(&r, 200);
    json_t *vs = json_object_get(r.json, "versions");
    assert_int_equal(json_array_size(vs), 2);
    for (size_t i = 0; i < json_array_size(vs); i++)
        assert_string_not_equal(js(json_array_get(vs, i)), v_times[0]);
    h_resp_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_api_root),
        cmocka_unit_test(test_collections_per_key),
        cmocka_unit_test(test_collection_by_id_and_alias),
        cmocka_unit_test(test_post_partly_valid),
        cmocka_unit_test(test_duplicates_are_successes),
        cmocka_unit_test(test_pagination),
        cmocka_unit_test(test_added_after),
        cmocka_unit_test(test_match_filters),
        cmocka_unit_test(test_match_version),
        cmocka_unit_test(test_versions_endpoint),
        cmocka_unit_test(test_object_get),
        cmocka_unit_test(test_read_write_rights),
        cmocka_unit_test(test_delete_rights_table),
    };
    return cmocka_run_group_tests_name("taxii", tests, setup, teardown);
}
