/* The TAXII endpoints driven through taxii_request_begin()/taxii_request_handle() with a real
 * store in a temporary directory: every endpoint, every status path, pagination, filters, POST
 * outcomes, the DELETE rights table, 413 before the body, and rejected requests that leave the
 * store unchanged. */
#include "taxii/taxii.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "prov/prov.h"

/* Calls are written as compound literals that name only what differs from the defaults; the
 * omitted fields are meant to be zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define MAXCL 20000

enum who {
    ADMIN,
    ANALYST,
    READER,
    PEER,
    JP,
    ANALYST_W,
    NOBODY,
    /* the policy tests' requesters (policy_fixture) */
    ALICE,  /* SG analyst whose key is named "alice": a named recipient of RED */
    CLIENT, /* analyst of a registered client organisation */
    COMM,   /* analyst of a community organisation without agreement */
    PEER_A, /* a peer node whose agreement reaches AMBER */
    PEER_G, /* a peer node whose agreement reaches GREEN */
    N_WHO
};

struct fx {
    char dir[64];
    struct store *st;
    struct taxii_server *srv;
    char tok[N_WHO][AUTH_TOKEN_MAX];
    int64_t key_id[N_WHO];
    char c1[37], c2[37], c3[37]; /* c1 alias "shared", c2 JP's, c3 nobody's grants */
    /* The node is SG. Unmarked objects read as CLEAR here, so that the tests of the TAXII
     * mechanics see every object; the policy tests mark theirs. */
    struct sync_node node;
};

static struct fx *F;

static void mk_key(struct fx *f, enum who w, const char *org, enum auth_role role)
{
    assert_int_equal(auth_key_create(f->st, org, role, "t", f->tok[w], &f->key_id[w]), CTIX_OK);
}

static void mk_coll(struct fx *f, char id[37], const char *title, const char *alias)
{
    struct store_collection c;

    memset(&c, 0, sizeof(c));
    assert_int_equal(ctix_uuid4(c.id), CTIX_OK);
    ctix_strlcpy(c.title, title, sizeof(c.title));
    ctix_strlcpy(c.alias, alias, sizeof(c.alias));
    ctix_strlcpy(c.description, "test collection", sizeof(c.description));
    assert_int_equal(store_collection_add(f->st, &c), CTIX_OK);
    memcpy(id, c.id, 37);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct taxii_config cfg = {
        .title = "ctix test",
        .description = "unit",
        .contact = "soc@example.org",
        .api_root = "api",
        .max_content_length = MAXCL,
        .max_page = 5,
        .default_page = 3,
    };
    struct ctix_diag d;
    int64_t sg, jp, other;

    assert_non_null(f);
    ctix_strlcpy(f->dir, "/tmp/ctix-taxii-XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, true, &f->st, &d), CTIX_OK);
    assert_int_equal(store_org_add(f->st, "SG", &sg), CTIX_OK);
    assert_int_equal(store_org_add(f->st, "JP", &jp), CTIX_OK);
    assert_int_equal(store_org_add(f->st, "OTHER", &other), CTIX_OK);
    f->node.st = f->st;
    ctix_strlcpy(f->node.org, "SG", sizeof(f->node.org));
    f->node.org_id = sg;
    f->node.policy.unmarked = STIX_TLP_CLEAR;
    cfg.node = &f->node;
    mk_key(f, ADMIN, "OTHER", AUTH_ROLE_ADMIN);
    mk_key(f, ANALYST, "SG", AUTH_ROLE_ANALYST);
    mk_key(f, READER, "SG", AUTH_ROLE_READER);
    mk_key(f, PEER, "SG", AUTH_ROLE_PEER);
    mk_key(f, JP, "JP", AUTH_ROLE_ANALYST);
    mk_key(f, NOBODY, "OTHER", AUTH_ROLE_ANALYST);
    mk_coll(f, f->c1, "shared", "shared");
    mk_coll(f, f->c2, "jp only", "");
    mk_coll(f, f->c3, "nobody", "");
    assert_int_equal(store_grant_set(f->st, f->c1, sg, true, true), CTIX_OK);
    assert_int_equal(store_grant_set(f->st, f->c1, jp, false, true), CTIX_OK);
    assert_int_equal(store_grant_set(f->st, f->c2, jp, true, true), CTIX_OK);
    /* OTHER's analyst may only write c3: delete there is 403 */
    assert_int_equal(store_grant_set(f->st, f->c3, other, false, true), CTIX_OK);
    memcpy(f->tok[ANALYST_W], f->tok[NOBODY], AUTH_TOKEN_MAX);
    assert_int_equal(taxii_server_new(f->st, &cfg, &f->srv), CTIX_OK);
    F = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    taxii_server_free(f->srv);
    store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* One request through both phases, as http/ drives them. */
struct call {
    const char *method, *path, *query, *body;
    enum who who;
    const char *accept, *ctype, *auth; /* NULL: defaults; "" for absent */
    int64_t content_length;            /* 0: strlen(body) */
};

static int run(const struct call *c, struct taxii_response *resp)
{
    char authz[128];
    struct taxii_request req = {
        .method = c->method,
        .path = c->path,
        .query = c->query,
        .accept = c->accept != NULL ? (c->accept[0] != '\0' ? c->accept : NULL) : TAXII_MEDIA_TYPE,
        .content_type =
            c->ctype != NULL ? (c->ctype[0] != '\0' ? c->ctype : NULL) : TAXII_MEDIA_TYPE,
        .content_length = c->body != NULL ? (int64_t)strlen(c->body) : -1,
        .body = NULL,
    };
    size_t max_body = 99;

    if (c->auth != NULL) {
        req.authorization = c->auth[0] != '\0' ? c->auth : NULL;
    } else {
        snprintf(authz, sizeof(authz), "Bearer %s", F->tok[c->who]);
        req.authorization = authz;
    }
    if (c->content_length != 0)
        req.content_length = c->content_length;
    taxii_response_init(resp);
    if (taxii_request_begin(F->srv, &req, resp, &max_body)) {
        if (strcmp(c->method, "POST") == 0)
            assert_int_equal(max_body, MAXCL);
        else
            assert_int_equal(max_body, 0);
        req.body = c->body;
        req.body_len = c->body != NULL ? strlen(c->body) : 0;
        taxii_request_handle(F->srv, &req, resp);
    }
    /* Every answer with a body is TAXII JSON (healthz aside), errors included. */
    if (resp->body.len > 0 && strcmp(c->path, "/healthz") != 0 &&
        (strncmp(c->path, "/ctix/", 6) != 0 || resp->status >= 400))
        assert_string_equal(resp->content_type, TAXII_MEDIA_TYPE);
    return resp->status;
}

/* Runs, checks the status, returns the parsed body (NULL when empty). */
static json_t *expect(const struct call *c, int status)
{
    struct taxii_response resp;
    json_t *j = NULL;
    int got = run(c, &resp);

    if (got != status)
        fail_msg("%s %s?%s: status %d, want %d: %s", c->method, c->path, c->query ? c->query : "",
                 got, status, resp.body.data ? resp.body.data : "");
    if (resp.body.len > 0) {
        j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        assert_non_null(j);
    }
    if (status >= 400) {
        char code[8];

        snprintf(code, sizeof(code), "%d", status);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "http_status")), code);
        assert_non_null(json_string_value(json_object_get(j, "title")));
        assert_int_equal(resp.www_authenticate, status == 401);
    }
    taxii_response_cleanup(&resp);
    return j;
}

static void expect_status(const struct call *c, int status)
{
    json_decref(expect(c, status));
}

static char *path_of(const char *coll, const char *tail)
{
    static char p[8][512];
    static int k;
    char *out = p[k++ % 8];

    snprintf(out, 512, "/api/collections/%s/%s", coll, tail);
    return out;
}

/* An indicator; version picks modified. */
static void indicator(char *out, size_t n, const char *id, int version, int ip)
{
    snprintf(out, n,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-%02dT00:00:00.000Z\","
             "\"name\":\"c2 %d\",\"pattern\":\"[ipv4-addr:value = '10.0.0.%d']\","
             "\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\"}",
             id, version, ip, ip);
}

static void make_id(char out[80], const char *type)
{
    char u[37];

    assert_int_equal(ctix_uuid4(u), CTIX_OK);
    snprintf(out, 80, "%s--%s", type, u);
}

/* POSTs n fresh indicators (one version each) and returns their ids in ids[n][80]. */
static void post_n(const char *coll, size_t n, char ids[][80])
{
    struct buf b;
    char obj[600];

    buf_init(&b, 1u << 22);
    assert_int_equal(buf_appends(&b, "{\"objects\":["), CTIX_OK);
    for (size_t i = 0; i < n; i++) {
        make_id(ids[i], "indicator");
        indicator(obj, sizeof(obj), ids[i], 1, (int)i % 250);
        assert_int_equal(buf_appendf(&b, "%s%s", i ? "," : "", obj), CTIX_OK);
    }
    assert_int_equal(buf_appends(&b, "]}"), CTIX_OK);
    struct call c = {"POST", path_of(coll, "objects/"), NULL, b.data, ANALYST};
    json_t *st = expect(&c, 202);
    assert_int_equal(json_integer_value(json_object_get(st, "success_count")), (json_int_t)n);
    json_decref(st);
    buf_cleanup(&b);
}

static int64_t count(const char *coll)
{
    int64_t n = -1;

    assert_int_equal(store_objs_count(F->st, coll, &n), CTIX_OK);
    return n;
}

/* ---- tests ---- */

static void test_health_discovery_root(void **state)
{
    struct fx *f = *state;
    json_t *j;

    (void)f;
    j = expect(&(struct call){"GET", "/healthz", .auth = "", .accept = ""}, 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    expect_status(&(struct call){"POST", "/healthz", .auth = ""}, 405);

    expect_status(&(struct call){"GET", "/taxii2/", .auth = ""}, 401);
    expect_status(&(struct call){"GET", "/taxii2/", .auth = "Bearer ctix_nope"}, 401);
    expect_status(&(struct call){"GET", "/taxii2/", .auth = "", .accept = "*/*"}, 406);
    expect_status(&(struct call){"GET", "/taxii2/", .accept = ""}, 406);
    expect_status(&(struct call){"GET", "/taxii2/", .accept = "application/json"}, 406);
    expect_status(&(struct call){"GET", "/taxii2/", .accept = "application/taxii+json;version=2.0"},
                  406);
    j = expect(&(struct call){"GET", "/taxii2/", .who = READER}, 200);
    assert_string_equal(json_string_value(json_object_get(j, "title")), "ctix test");
    assert_string_equal(json_string_value(json_object_get(j, "default")), "/api/");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "api_roots"), 0)),
                        "/api/");
    json_decref(j);
    j = expect(&(struct call){"GET", "/taxii2/", .who = READER,
                              .accept = "application/stix+json;version=2.1,application/"
                                        "taxii+json"},
               200);
    json_decref(j);
    j = expect(&(struct call){"GET", "/api/", .who = JP}, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "max_content_length")), MAXCL);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "versions"), 0)),
                        TAXII_MEDIA_TYPE);
    json_decref(j);
    expect_status(&(struct call){"GET", "/api/", "limit=1", .who = JP}, 400);
    expect_status(&(struct call){"GET", "/nope/", .who = JP}, 404);
    expect_status(&(struct call){"GET", "/api", .who = JP}, 404);
    expect_status(&(struct call){"GET", "/api/collections", .who = JP}, 404);
    expect_status(&(struct call){"GET", "/api//", .who = JP}, 404);
    expect_status(&(struct call){"GET", "/api/foo/", .who = JP}, 404);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/x/y/"), .who = JP}, 404);
    expect_status(&(struct call){"PUT", "/api/collections/", .who = JP}, 405);
    expect_status(&(struct call){"DELETE", "/taxii2/", .who = JP}, 405);
    expect_status(&(struct call){"POST", path_of(f->c1, "manifest/"), "", "{}", JP}, 405);
    /* a 405 says what the endpoint takes */
    {
        struct taxii_response resp;

        assert_int_equal(run(&(struct call){"PUT", path_of(f->c1, "objects/"), .who = JP}, &resp),
                         405);
        assert_string_equal(resp.allow, "GET, HEAD, POST");
        taxii_response_cleanup(&resp);
        assert_int_equal(run(&(struct call){"GET", path_of(f->c2, "objects/x/"), .who = JP}, &resp),
                         404);
        assert_string_equal(resp.allow, "");
        taxii_response_cleanup(&resp);
    }
}

static bool has_coll(json_t *list, const char *id, int r, int w)
{
    size_t i;
    json_t *c;

    json_array_foreach(list, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0) {
            assert_int_equal(json_is_true(json_object_get(c, "can_read")), r);
            assert_int_equal(json_is_true(json_object_get(c, "can_write")), w);
            assert_string_equal(
                json_string_value(json_array_get(json_object_get(c, "media_types"), 0)),
                TAXII_STIX_MEDIA_TYPE);
            return true;
        }
    }
    return false;
}

static void test_collections(void **state)
{
    struct fx *f = *state;
    json_t *j, *l;

    j = expect(&(struct call){"GET", "/api/collections/", .who = ADMIN}, 200);
    l = json_object_get(j, "collections");
    assert_int_equal(json_array_size(l), 3);
    /* stable order: creation order */
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "id")), f->c1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 2), "id")), f->c3);
    assert_true(has_coll(l, f->c3, 1, 1));
    json_decref(j);

    j = expect(&(struct call){"GET", "/api/collections/", .who = JP}, 200);
    l = json_object_get(j, "collections");
    assert_int_equal(json_array_size(l), 2);
    assert_true(has_coll(l, f->c1, 0, 1));
    assert_true(has_coll(l, f->c2, 1, 1));
    json_decref(j);

    j = expect(&(struct call){"GET", "/api/collections/", .who = READER}, 200);
    l = json_object_get(j, "collections");
    assert_int_equal(json_array_size(l), 1);
    assert_true(has_coll(l, f->c1, 1, 0));
    json_decref(j);

    /* none visible: {} */
    assert_int_equal(store_grant_set(f->st, f->c3, 3, false, false), CTIX_OK);
    j = expect(&(struct call){"GET", "/api/collections/", .who = NOBODY}, 200);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);

    j = expect(&(struct call){"GET", path_of(f->c1, ""), .who = ANALYST}, 200);
    assert_string_equal(json_string_value(json_object_get(j, "alias")), "shared");
    assert_string_equal(json_string_value(json_object_get(j, "title")), "shared");
    json_decref(j);
    j = expect(&(struct call){"GET", path_of("shared", ""), .who = JP}, 200);
    assert_string_equal(json_string_value(json_object_get(j, "id")), f->c1);
    assert_true(json_is_false(json_object_get(j, "can_read")));
    json_decref(j);
    expect_status(&(struct call){"GET", path_of(f->c2, ""), .who = ANALYST}, 404);
    expect_status(
        &(struct call){"GET", path_of("7b5c5e2a-1c8e-4a62-9f62-0a3e5b1c2d3e", ""), .who = ADMIN},
        404);
    expect_status(&(struct call){"GET", path_of(f->c1, ""), .who = ANALYST, .auth = ""}, 401);
}

static void test_post_and_status(void **state)
{
    struct fx *f = *state;
    char id1[80], id2[80], o1[600], o1b[600], o2[600], body[4000], sp[128];
    json_t *j, *l;

    make_id(id1, "indicator");
    make_id(id2, "indicator");
    indicator(o1, sizeof(o1), id1, 1, 1);
    indicator(o2, sizeof(o2), id2, 2, 2);
    snprintf(body, sizeof(body),
             "{\"objects\":[%s,%s,{\"type\":\"indicator\",\"id\":\"indicator--bad\"}]}", o1, o2);
    j = expect(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, body, ANALYST}, 202);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "complete");
    assert_int_equal(json_integer_value(json_object_get(j, "total_count")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "pending_count")), 0);
    l = json_object_get(j, "failures");
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "id")),
                        "indicator--bad");
    assert_true(strlen(json_string_value(json_object_get(json_array_get(l, 0), "message"))) > 0);
    l = json_object_get(j, "successes");
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "version")),
                        "2020-01-01T00:00:00.000Z");
    snprintf(sp, sizeof(sp), "/api/status/%s/", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    assert_int_equal(count(f->c1), 2);

    /* the status: the poster's organisation and admins only */
    j = expect(&(struct call){"GET", sp, .who = READER}, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total_count")), 3);
    json_decref(j);
    expect_status(&(struct call){"GET", sp, .who = ADMIN}, 200);
    expect_status(&(struct call){"GET", sp, .who = JP}, 404);
    expect_status(&(struct call){"GET", "/api/status/not-a-uuid/", .who = ADMIN}, 404);
    expect_status(
        &(struct call){"GET", "/api/status/7b5c5e2a-1c8e-4a62-9f62-0a3e5b1c2d3e/", .who = ADMIN},
        404);

    /* the same again: duplicates are successes; a changed body with the same version conflicts
     * (a person's key: a peer node's POST is a push, see test_post_by_peer) */
    indicator(o1b, sizeof(o1b), id1, 1, 77);
    snprintf(body, sizeof(body), "{\"objects\":[%s,%s]}", o1, o1b);
    j = expect(&(struct call){"POST", path_of("shared", "objects/"), NULL, body, ANALYST}, 202);
    assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "successes"), 0), "message")),
                        "already stored");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "failures"), 0), "message")),
                        "a different object with this id and version is already stored");
    json_decref(j);
    assert_int_equal(count(f->c1), 2);

    /* an empty envelope and a bundle-like object */
    j = expect(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, "{}", ANALYST}, 202);
    assert_int_equal(json_integer_value(json_object_get(j, "total_count")), 0);
    json_decref(j);
    /* JP may write c1 without reading it */
    expect_status(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, "{}", JP}, 202);
}

/* Each rejected POST, in the order of §C6, and the store unchanged after each. */
static void test_post_errors(void **state)
{
    struct fx *f = *state;
    const char *p = path_of(f->c1, "objects/");
    char id[80], o[600], body[1000];
    int64_t before;

    make_id(id, "indicator");
    indicator(o, sizeof(o), id, 1, 9);
    snprintf(body, sizeof(body), "{\"objects\":[%s]}", o);
    before = count(f->c1);
    expect_status(&(struct call){"POST", p, NULL, body, ANALYST, .accept = "*/*", .auth = ""}, 406);
    expect_status(&(struct call){"POST", p, NULL, body, ANALYST, .auth = ""}, 401);
    expect_status(&(struct call){"POST", path_of(f->c2, "objects/"), NULL, body, ANALYST,
                                 .ctype = "text/plain"},
                  404);
    expect_status(&(struct call){"POST", p, NULL, body, READER, .ctype = "text/plain"}, 403);
    expect_status(&(struct call){"POST", p, NULL, body, ANALYST, .ctype = "text/plain"}, 415);
    expect_status(&(struct call){"POST", p, NULL, body, ANALYST, .ctype = ""}, 415);
    expect_status(&(struct call){"POST", p, NULL, body, ANALYST,
                                 .ctype = "application/taxii+json;version=2.0"},
                  415);
    expect_status(&(struct call){"POST", p, NULL, body, ANALYST, .ctype = "application/json",
                                 .content_length = MAXCL + 1},
                  415);
    expect_status(&(struct call){"POST", p, NULL, "{", ANALYST, .content_length = MAXCL + 1}, 413);
    expect_status(&(struct call){"POST", p, NULL, "{\"objects\":[", ANALYST}, 400);
    expect_status(&(struct call){"POST", p, NULL, "", ANALYST}, 400);
    expect_status(&(struct call){"POST", p, NULL, "[1,2]", ANALYST}, 400);
    expect_status(&(struct call){"POST", p, NULL, "{\"objects\":1,\"objects\":[]}", ANALYST}, 400);
    expect_status(&(struct call){"POST", p, NULL, "{\"objects\":{}}", ANALYST}, 422);
    expect_status(&(struct call){"POST", p, NULL, "{\"objects\":[1]}", ANALYST}, 422);
    snprintf(body, sizeof(body), "{\"objects\":[%s, \"x\"]}", o);
    expect_status(&(struct call){"POST", p, NULL, body, ANALYST}, 422);
    expect_status(&(struct call){"POST", p, "limit=1", "{}", ANALYST}, 400);
    assert_int_equal(count(f->c1), before);
}

/* 413 is decided from Content-Length before any body byte; without one, the body is bounded. */
static void test_too_big(void **state)
{
    struct fx *f = *state;
    struct taxii_request req = {
        .method = "POST",
        .path = path_of(f->c1, "objects/"),
        .accept = TAXII_MEDIA_TYPE,
        .content_type = TAXII_MEDIA_TYPE,
        .content_length = MAXCL + 1,
    };
    struct taxii_response resp;
    char authz[128];
    size_t max_body = 7;
    char *big;

    snprintf(authz, sizeof(authz), "Bearer %s", f->tok[ANALYST]);
    req.authorization = authz;
    taxii_response_init(&resp);
    assert_false(taxii_request_begin(f->srv, &req, &resp, &max_body));
    assert_int_equal(resp.status, 413);
    taxii_response_cleanup(&resp);

    req.content_length = MAXCL; /* exactly the limit is fine */
    taxii_response_init(&resp);
    assert_true(taxii_request_begin(f->srv, &req, &resp, &max_body));
    assert_int_equal(max_body, MAXCL);
    taxii_response_cleanup(&resp);

    req.content_length = -1; /* chunked: the body is checked when it is whole */
    taxii_response_init(&resp);
    assert_true(taxii_request_begin(f->srv, &req, &resp, &max_body));
    big = calloc(1, MAXCL + 2);
    assert_non_null(big);
    memset(big, ' ', MAXCL + 1);
    req.body = big;
    req.body_len = MAXCL + 1;
    taxii_request_handle(f->srv, &req, &resp);
    assert_int_equal(resp.status, 413);
    free(big);
    taxii_error_too_big(f->srv, &resp);
    assert_int_equal(resp.status, 413);
    assert_non_null(strstr(resp.body.data, "\"http_status\":\"413\""));
    taxii_response_cleanup(&resp);
    assert_int_equal(count(f->c1), 0);
}

/* Walks every page of objects/ (or manifest/) with next and returns how many records came. */
static size_t walk(const char *coll, const char *tail, const char *filters, char seen[][80],
                   size_t max, int *pages)
{
    char q[512];
    size_t n = 0;
    const char *next = NULL;
    json_t *j = NULL;

    *pages = 0;
    for (;;) {
        struct taxii_response resp;
        struct call c = {"GET", path_of(coll, tail), q, .who = ANALYST};
        json_t *l, *o;
        size_t i;

        snprintf(q, sizeof(q), "%s%s%s%s", filters, next ? "&next=" : "", next ? next : "", "");
        assert_int_equal(run(&c, &resp), 200);
        json_decref(j);
        j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        assert_non_null(j);
        l = json_object_get(j, "objects");
        if (json_array_size(l) > 0) {
            /* the date headers bracket the page */
            char first[28];
            json_t *o0 = json_array_get(l, 0);
            if (json_object_get(o0, "date_added") != NULL) {
                ctix_strlcpy(first, json_string_value(json_object_get(o0, "date_added")), 28);
                assert_string_equal(first, resp.date_first);
            }
            assert_true(strcmp(resp.date_first, resp.date_last) <= 0);
            assert_int_equal(strlen(resp.date_last), 27);
        } else {
            assert_string_equal(resp.date_first, "");
        }
        json_array_foreach(l, i, o)
        {
            const char *id = json_string_value(json_object_get(o, "id"));
            for (size_t k = 0; k < n; k++)
                assert_string_not_equal(seen[k], id);
            assert_true(n < max);
            ctix_strlcpy(seen[n++], id, 80);
        }
        (*pages)++;
        taxii_response_cleanup(&resp);
        if (!json_is_true(json_object_get(j, "more")))
            break;
        next = json_string_value(json_object_get(j, "next"));
        assert_non_null(next);
    }
    json_decref(j);
    return n;
}

static void test_pagination(void **state)
{
    struct fx *f = *state;
    char ids[12][80], seen[20][80];
    int pages;
    json_t *j;

    post_n(f->c1, 12, ids);
    assert_int_equal(walk(f->c1, "objects/", "limit=5", seen, 20, &pages), 12);
    assert_int_equal(pages, 3);
    for (int i = 0; i < 12; i++)
        assert_string_equal(seen[i], ids[i]); /* date_added order */
    /* without limit: default page 3; limit above max_page is clamped to 5 */
    assert_int_equal(walk(f->c1, "objects/", "", seen, 20, &pages), 12);
    assert_int_equal(pages, 4);
    assert_int_equal(walk(f->c1, "objects/", "limit=1000", seen, 20, &pages), 12);
    assert_int_equal(pages, 3);
    assert_int_equal(walk(f->c1, "manifest/", "limit=4&match[type]=indicator", seen, 20, &pages),
                     12);
    assert_int_equal(pages, 3);

    /* a next token is bound to its filters, collection and endpoint */
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"), "limit=5", .who = ANALYST}, 200);
    const char *next = json_string_value(json_object_get(j, "next"));
    char q[256];
    assert_non_null(next);
    snprintf(q, sizeof(q), "limit=5&next=%s", next);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), q, .who = ANALYST}, 200);
    snprintf(q, sizeof(q), "limit=2&next=%s", next); /* page size may change */
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), q, .who = ANALYST}, 200);
    snprintf(q, sizeof(q), "match[type]=tool&next=%s", next);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), q, .who = ANALYST}, 400);
    snprintf(q, sizeof(q), "next=%s", next);
    expect_status(&(struct call){"GET", path_of(f->c1, "manifest/"), q, .who = ANALYST}, 400);
    expect_status(&(struct call){"GET", path_of(f->c2, "objects/"), q, .who = JP}, 400);
    q[7] = q[7] == 'A' ? 'B' : 'A';
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), q, .who = ANALYST}, 400);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"),
                                 "next=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", .who = ANALYST},
                  400);
    /* rights are checked again: the token does not let READER's org... JP read c1 */
    snprintf(q, sizeof(q), "limit=5&next=%s", next);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), q, .who = JP}, 403);
    json_decref(j);
}

static size_t n_objects(json_t *j)
{
    return json_array_size(json_object_get(j, "objects"));
}

static void test_filters_versions(void **state)
{
    struct fx *f = *state;
    char id[80], id2[80], o[600], body[4000], q[512], base[4][80];
    json_t *j;

    post_n(f->c1, 2, base);
    make_id(id, "indicator");
    make_id(id2, "malware");
    /* three versions of id, posted as three envelopes so that date_added orders them */
    for (int v = 1; v <= 3; v++) {
        indicator(o, sizeof(o), id, v, v);
        snprintf(body, sizeof(body), "{\"objects\":[%s]}", o);
        expect_status(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, body, ANALYST}, 202);
    }
    snprintf(body, sizeof(body),
             "{\"objects\":[{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"created\":\"2020-02-01T00:00:00.000Z\",\"modified\":\"2020-02-01T00:00:00.000Z\","
             "\"name\":\"m\",\"is_family\":false}]}",
             id2);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), NULL, .who = ANALYST}, 200);
    expect_status(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, body, ANALYST}, 202);

    /* default: last version of each object: 2 + 1 + 1 */
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"), "limit=5", .who = READER}, 200);
    assert_int_equal(n_objects(j), 4);
    json_decref(j);
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"), "match[version]=all&limit=5",
                              .who = READER},
               200);
    assert_int_equal(n_objects(j), 5); /* page of 5 of 6 */
    assert_true(json_is_true(json_object_get(j, "more")));
    json_decref(j);
    j = expect(
        &(struct call){"GET", path_of(f->c1, "objects/"), "match[type]=malware", .who = READER},
        200);
    assert_int_equal(n_objects(j), 1);
    assert_true(json_is_false(json_object_get(j, "more")));
    json_decref(j);
    snprintf(q, sizeof(q), "match[id]=%s,%s&match[version]=first", id, base[0]);
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"), q, .who = READER}, 200);
    assert_int_equal(n_objects(j), 2);
    json_decref(j);
    snprintf(q, sizeof(q), "match[id]=%s&match[version]=2020-01-02T00:00:00.0Z", id);
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"), q, .who = READER}, 200);
    assert_int_equal(n_objects(j), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "objects"), 0), "modified")),
                        "2020-01-02T00:00:00.000Z");
    json_decref(j);
    j = expect(
        &(struct call){"GET", path_of(f->c1, "objects/"), "match[spec_version]=2.0", .who = READER},
        200);
    assert_int_equal(n_objects(j), 0);
    assert_true(json_is_false(json_object_get(j, "more")));
    json_decref(j);
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"),
                              "limit=5&match[spec_version]=2.1&match[type]=indicator,malware",
                              .who = READER},
               200);
    assert_int_equal(n_objects(j), 4);
    json_decref(j);
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"), "added_after=2999-01-01T00:00:00Z",
                              .who = READER},
               200);
    assert_int_equal(n_objects(j), 0);
    json_decref(j);
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"),
                              "limit=5&added_after=2000-01-01T00:00:00Z", .who = READER},
               200);
    assert_int_equal(n_objects(j), 4);
    json_decref(j);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), "limit=0", .who = READER}, 400);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), "limit=-3", .who = READER},
                  400);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), "limit=x", .who = READER}, 400);
    expect_status(
        &(struct call){"GET", path_of(f->c1, "objects/"), "limit=1&limit=1", .who = READER}, 400);
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), "match[version]=all,first",
                                 .who = READER},
                  400);
    expect_status(
        &(struct call){"GET", path_of(f->c1, "objects/"), "added_after=now", .who = READER}, 400);
    /* filters are checked after rights: JP (write only) gets 403, not 400 */
    expect_status(&(struct call){"GET", path_of(f->c1, "objects/"), "limit=0", .who = JP}, 403);

    /* manifest records */
    snprintf(q, sizeof(q), "match[id]=%s&match[version]=all", id);
    j = expect(&(struct call){"GET", path_of(f->c1, "manifest/"), q, .who = READER}, 200);
    assert_int_equal(n_objects(j), 3);
    json_t *r = json_array_get(json_object_get(j, "objects"), 2);
    assert_string_equal(json_string_value(json_object_get(r, "id")), id);
    assert_string_equal(json_string_value(json_object_get(r, "version")),
                        "2020-01-03T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(r, "media_type")), TAXII_STIX_MEDIA_TYPE);
    assert_int_equal(strlen(json_string_value(json_object_get(r, "date_added"))), 27);
    assert_null(json_object_get(r, "type"));
    json_decref(j);

    /* one object */
    snprintf(q, sizeof(q), "%s/", id);
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"), NULL, .who = READER}, 200);
    json_decref(j);
    char op[300], vp[300];
    snprintf(op, sizeof(op), "objects/%s/", id);
    snprintf(vp, sizeof(vp), "objects/%s/versions/", id);
    j = expect(&(struct call){"GET", path_of(f->c1, op), NULL, .who = READER}, 200);
    assert_int_equal(n_objects(j), 1);
    json_decref(j);
    j = expect(&(struct call){"GET", path_of(f->c1, op), "match[version]=all", .who = READER}, 200);
    assert_int_equal(n_objects(j), 3);
    json_decref(j);
    j = expect(
        &(struct call){"GET", path_of(f->c1, op), "match[version]=all&limit=2", .who = READER},
        200);
    assert_int_equal(n_objects(j), 2);
    assert_true(json_is_true(json_object_get(j, "more")));
    json_decref(j);
    expect_status(&(struct call){"GET", path_of(f->c1, op), "match[type]=indicator", .who = READER},
                  400);
    expect_status(&(struct call){"GET", path_of(f->c1, op), "match[version]=2021-01-01T00:00:00Z",
                                 .who = READER},
                  404);
    expect_status(&(struct call){"GET",
                                 path_of(f->c1, "objects/tool--7b5c5e2a-1c8e-4a62-9f62-"
                                                "0a3e5b1c2d3e/"),
                                 .who = READER},
                  404);
    expect_status(&(struct call){"GET", path_of(f->c1, op), .who = JP}, 403);
    /* versions */
    j = expect(&(struct call){"GET", path_of(f->c1, vp), NULL, .who = READER}, 200);
    json_t *vl = json_object_get(j, "versions");
    assert_int_equal(json_array_size(vl), 3);
    assert_string_equal(json_string_value(json_array_get(vl, 0)), "2020-01-01T00:00:00.000Z");
    assert_true(json_is_false(json_object_get(j, "more")));
    json_decref(j);
    j = expect(&(struct call){"GET", path_of(f->c1, vp), "limit=2", .who = READER}, 200);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 2);
    snprintf(q, sizeof(q), "limit=2&next=%s", json_string_value(json_object_get(j, "next")));
    json_decref(j);
    j = expect(&(struct call){"GET", path_of(f->c1, vp), q, .who = READER}, 200);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "versions"), 0)),
                        "2020-01-03T00:00:00.000Z");
    json_decref(j);
    expect_status(&(struct call){"GET", path_of(f->c1, vp), "match[version]=all", .who = READER},
                  400);
    expect_status(&(struct call){"GET",
                                 path_of(f->c1, "objects/tool--7b5c5e2a-1c8e-4a62-9f62-"
                                                "0a3e5b1c2d3e/versions/"),
                                 .who = READER},
                  404);
}

static void test_delete(void **state)
{
    struct fx *f = *state;
    char ids[1][80], id[80], o[600], body[2000], op[300], q[256];
    json_t *j;

    post_n(f->c1, 1, ids);
    snprintf(op, sizeof(op), "objects/%s/", ids[0]);
    /* the rights table: none 404, one of them 403, both but a role that may not delete 403 */
    expect_status(&(struct call){"DELETE", path_of(f->c1, op), .who = NOBODY}, 404);
    expect_status(&(struct call){"DELETE", path_of(f->c1, op), .who = READER}, 403);
    expect_status(&(struct call){"DELETE", path_of(f->c1, op), .who = JP}, 403);
    expect_status(&(struct call){"DELETE", path_of(f->c1, op), .who = PEER}, 403);
    expect_status(&(struct call){"DELETE", path_of(f->c3, op), .who = ANALYST_W}, 403);
    expect_status(&(struct call){"DELETE", path_of(f->c1, op), .who = ANALYST, .auth = ""}, 401);
    expect_status(&(struct call){"DELETE", path_of(f->c1, op), "limit=1", .who = ANALYST}, 400);
    assert_int_equal(count(f->c1), 1);
    j = expect(&(struct call){"DELETE", path_of(f->c1, op), .who = ANALYST}, 200);
    assert_null(j);
    assert_int_equal(count(f->c1), 0);
    expect_status(&(struct call){"GET", path_of(f->c1, op), .who = ANALYST}, 404);
    expect_status(&(struct call){"DELETE", path_of(f->c1, op), .who = ANALYST}, 404);

    /* one version only, by an admin without any grant */
    make_id(id, "indicator");
    for (int v = 1; v <= 2; v++) {
        indicator(o, sizeof(o), id, v, v);
        snprintf(body, sizeof(body), "{\"objects\":[%s]}", o);
        expect_status(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, body, ANALYST}, 202);
    }
    snprintf(op, sizeof(op), "objects/%s/", id);
    snprintf(q, sizeof(q), "match[version]=2020-01-01T00:00:00.000Z");
    expect_status(&(struct call){"DELETE", path_of(f->c1, op), q, .who = ADMIN}, 200);
    j = expect(&(struct call){"GET", path_of(f->c1, op), "match[version]=all", .who = ANALYST},
               200);
    assert_int_equal(n_objects(j), 1);
    json_decref(j);
    j = expect(&(struct call){"GET", path_of(f->c1, "manifest/"), NULL, .who = ANALYST}, 200);
    assert_int_equal(n_objects(j), 1);
    json_decref(j);
}

static void test_server_config(void **state)
{
    struct fx *f = *state;
    struct taxii_server *s2 = NULL;
    struct taxii_config bad = {
        .title = "t", .api_root = "a/b", .max_content_length = 1, .max_page = 1};

    assert_int_equal(taxii_server_new(f->st, &bad, &s2), CTIX_EINVAL);
    bad.api_root = "";
    assert_int_equal(taxii_server_new(f->st, &bad, &s2), CTIX_EINVAL);
    bad.api_root = "x";
    bad.max_page = 0;
    assert_int_equal(taxii_server_new(f->st, &bad, &s2), CTIX_EINVAL);
    taxii_server_free(NULL);
    /* a second server on the same store shares the cursor secret: tokens survive a restart */
    bad.max_page = 5;
    bad.api_root = "api";
    bad.max_content_length = MAXCL;
    bad.node = &f->node;
    assert_int_equal(taxii_server_new(f->st, &bad, &s2), CTIX_OK);
    char ids[6][80];
    post_n(f->c1, 6, ids);
    json_t *j =
        expect(&(struct call){"GET", path_of(f->c1, "objects/"), "limit=5", .who = ADMIN}, 200);
    char q[128];
    snprintf(q, sizeof(q), "limit=5&next=%s", json_string_value(json_object_get(j, "next")));
    json_decref(j);
    struct taxii_server *keep = f->srv;
    f->srv = s2;
    j = expect(&(struct call){"GET", path_of(f->c1, "objects/"), q, .who = ADMIN}, 200);
    assert_int_equal(n_objects(j), 1);
    json_decref(j);
    f->srv = keep;
    taxii_server_free(s2);
}

static void test_ingest_api(void **state)
{
    struct fx *f = *state;
    json_t *arr = json_array();
    struct taxii_add_item items[4];
    struct taxii_add_counts cnt;
    char id[80], o[600];

    make_id(id, "indicator");
    indicator(o, sizeof(o), id, 1, 1);
    json_array_append_new(arr, json_loads(o, 0, NULL));
    json_array_append_new(arr,
                          json_loads("{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--28bb3599-"
                                     "77cd-5a82-a950-b5bc3caf07c4\",\"value\":\"198.51.100.3\"}",
                                     0, NULL));
    json_array_append_new(arr, json_string("not an object"));
    /* a bad created: the message names the property once, then the rule */
    json_array_append_new(arr,
                          json_loads("{\"type\":\"malware\",\"spec_version\":\"2.1\","
                                     "\"id\":\"malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061\","
                                     "\"created\":\"2016-01-20T12:31:12Z\",\"modified\":"
                                     "\"2016-01-20T12:31:12.123Z\",\"is_family\":false}",
                                     0, NULL));
    assert_int_equal(taxii_objects_add(f->st, f->c2, arr, items, &cnt), CTIX_OK);
    assert_int_equal(cnt.total, 4);
    assert_int_equal(items[3].outcome, TAXII_ADD_FAILED);
    assert_non_null(strstr(items[3].message, "created: "));
    assert_null(strstr(items[3].message, "created: created"));
    assert_int_equal(cnt.stored, 2);
    assert_int_equal(cnt.failed, 2);
    assert_int_equal(items[0].outcome, TAXII_ADD_STORED);
    assert_string_equal(items[0].id, id);
    /* an SCO without created/modified is versioned by its date_added */
    assert_int_equal(strlen(items[1].version), 27);
    assert_int_equal(items[2].outcome, TAXII_ADD_FAILED);
    assert_true(items[2].message[0] != '\0');
    assert_int_equal(taxii_objects_add(f->st, f->c2, arr, items, &cnt), CTIX_OK);
    assert_int_equal(cnt.duplicates, 2);
    json_decref(arr);
}

/* With a cache, a grant taken away bites once the cached rights expire, and a key revoked by
 * another process stops working then too; a collection's rights are cached per key. */
static void test_rights_cache(void **state)
{
    struct fx *f = *state;
    struct taxii_config cfg = {.title = "cached",
                               .api_root = "api",
                               .max_content_length = MAXCL,
                               .max_page = 5,
                               .cache_ttl_us = 200000,
                               .node = &f->node};
    struct taxii_server *keep = f->srv, *cached = NULL;
    struct store_org jp;

    assert_int_equal(taxii_server_new(f->st, &cfg, &cached), CTIX_OK);
    f->srv = cached;
    assert_int_equal(store_org_get(f->st, "JP", &jp), CTIX_OK);
    expect_status(&(struct call){"GET", path_of(f->c2, "objects/"), .who = JP}, 200);
    /* JP's analyst and SG's analyst share nothing in the cache */
    expect_status(&(struct call){"GET", path_of(f->c2, "objects/"), .who = ANALYST}, 404);
    assert_int_equal(store_grant_set(f->st, f->c2, jp.id, false, false), CTIX_OK);
    expect_status(&(struct call){"GET", path_of(f->c2, "objects/"), .who = JP}, 200);
    usleep(250000);
    expect_status(&(struct call){"GET", path_of(f->c2, "objects/"), .who = JP}, 404);
    expect_status(&(struct call){"GET", path_of(f->c1, ""), .who = PEER}, 200);
    assert_int_equal(store_key_revoke(f->st, f->key_id[PEER]), CTIX_OK);
    usleep(250000);
    expect_status(&(struct call){"GET", path_of(f->c1, ""), .who = PEER}, 401);
    f->srv = keep;
    taxii_server_free(cached);
}

/* ---- policy on every read ---- */

/* The objects of the policy collection: local ones of each TLP, received ones from each peer,
 * quarantined and pending ones. Which requesters may see each (bits of enum who). */
#define W(x)      (1u << (x))
#define PEOPLE_SG (W(ANALYST) | W(ALICE))
#define PEOPLE    (PEOPLE_SG | W(CLIENT) | W(COMM))

static const struct pol_obj {
    const char *name;
    int tlp;
    char origin; /* 0 local, 'a' from PEER_A, 'g' from PEER_G */
    int prov;
    unsigned seen_by;
} pol_objs[] = {
    {"l-clear", STIX_TLP_CLEAR, 0, STORE_PROV_LOCAL, PEOPLE | W(PEER_A) | W(PEER_G)},
    {"l-green", STIX_TLP_GREEN, 0, STORE_PROV_LOCAL, PEOPLE | W(PEER_A) | W(PEER_G)},
    {"l-amber", STIX_TLP_AMBER, 0, STORE_PROV_LOCAL, PEOPLE_SG | W(CLIENT) | W(PEER_A)},
    {"l-strict", STIX_TLP_AMBER_STRICT, 0, STORE_PROV_LOCAL, PEOPLE_SG},
    {"l-red", STIX_TLP_RED, 0, STORE_PROV_LOCAL, W(ALICE)},
    {"a-clear", STIX_TLP_CLEAR, 'a', STORE_PROV_VERIFIED, PEOPLE | W(PEER_G)},
    {"a-green", STIX_TLP_GREEN, 'a', STORE_PROV_VERIFIED, PEOPLE | W(PEER_G)},
    {"a-amber", STIX_TLP_AMBER, 'a', STORE_PROV_VERIFIED, PEOPLE_SG | W(CLIENT)},
    {"g-green", STIX_TLP_GREEN, 'g', STORE_PROV_VERIFIED, PEOPLE | W(PEER_A)},
    {"a-quarantined", STIX_TLP_CLEAR, 'a', STORE_PROV_QUARANTINED, PEOPLE_SG},
    {"g-pending", STIX_TLP_CLEAR, 'g', STORE_PROV_PENDING, PEOPLE_SG},
};

#define N_POL CTIX_ARRAY_LEN(pol_objs)

static const enum who pol_who[] = {ANALYST, ALICE, CLIENT, COMM, PEER_A, PEER_G};

struct pol_fx {
    char coll[37];
    char ids[N_POL][80];
    int64_t peer_a, peer_g;
};

static int64_t mk_peer_key(struct fx *f, const char *name, int64_t org, int max_tlp,
                           const char *pubkey)
{
    struct store_peer p;
    int64_t id = 0;

    memset(&p, 0, sizeof(p));
    ctix_strlcpy(p.name, name, sizeof(p.name));
    p.org_id = org;
    ctix_strlcpy(p.url, "http://127.0.0.1:1/api/", sizeof(p.url));
    ctix_strlcpy(p.token, "secret", sizeof(p.token));
    ctix_strlcpy(p.pubkey, pubkey, sizeof(p.pubkey));
    p.max_tlp = max_tlp;
    assert_int_equal(store_peer_add(f->st, &p, &id), CTIX_OK);
    return id;
}

static int64_t mk_peer(struct fx *f, const char *name, int64_t org, int max_tlp)
{
    return mk_peer_key(f, name, org, max_tlp,
                       "ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
}

/* Stores one version of id with the given facts; version 1..28 picks modified. */
static void put_row(struct fx *f, const char *coll, const char *id, int version, int tlp,
                    int64_t origin, int prov)
{
    char json[800], ver[32], key[31];
    struct store_obj_in in;
    enum store_put_result res;

    snprintf(ver, sizeof(ver), "2020-01-%02dT00:00:00.000Z", version);
    snprintf(json, sizeof(json),
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"name\":\"x\","
             "\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\","
             "\"valid_from\":\"2020-01-01T00:00:00Z\"%s}",
             id, ver, tlp == STIX_TLP_RED ? ",\"x_ctix_recipients\":[\"alice\",\"bob\"]" : "");
    assert_int_equal(stix_version_key(ver, key), CTIX_OK);
    in = (struct store_obj_in){.id = id,
                               .type = "indicator",
                               .spec_version = "2.1",
                               .version = ver,
                               .version_key = key,
                               .json = json,
                               .json_len = strlen(json),
                               .tlp = tlp,
                               .origin = origin,
                               .prov = prov};
    assert_int_equal(store_objs_put(f->st, coll, &in, 1, &res, NULL), CTIX_OK);
    assert_int_equal(res, STORE_PUT_STORED);
}

static void policy_fixture(struct fx *f, struct pol_fx *p)
{
    int64_t cli, comm, pa, pg, sg;
    struct store_org o;

    assert_int_equal(store_org_get(f->st, "SG", &o), CTIX_OK);
    sg = o.id;
    assert_int_equal(store_org_add(f->st, "CLIENT", &cli), CTIX_OK);
    assert_int_equal(store_org_set_client(f->st, cli, true), CTIX_OK);
    assert_int_equal(store_org_add(f->st, "COMM", &comm), CTIX_OK);
    assert_int_equal(store_org_add(f->st, "PA", &pa), CTIX_OK);
    assert_int_equal(store_org_add(f->st, "PG", &pg), CTIX_OK);
    assert_int_equal(
        auth_key_create(f->st, "SG", AUTH_ROLE_ANALYST, "alice", f->tok[ALICE], &f->key_id[ALICE]),
        CTIX_OK);
    mk_key(f, CLIENT, "CLIENT", AUTH_ROLE_ANALYST);
    mk_key(f, COMM, "COMM", AUTH_ROLE_ANALYST);
    mk_key(f, PEER_A, "PA", AUTH_ROLE_PEER);
    mk_key(f, PEER_G, "PG", AUTH_ROLE_PEER);
    p->peer_a = mk_peer(f, "pa", pa, STIX_TLP_AMBER);
    p->peer_g = mk_peer(f, "pg", pg, STIX_TLP_GREEN);
    mk_coll(f, p->coll, "policy", "policy");
    int64_t readers[] = {sg, cli, comm, pa, pg};
    for (size_t i = 0; i < CTIX_ARRAY_LEN(readers); i++)
        assert_int_equal(store_grant_set(f->st, p->coll, readers[i], true, true), CTIX_OK);
    for (size_t i = 0; i < N_POL; i++) {
        const struct pol_obj *po = &pol_objs[i];
        int64_t origin = po->origin == 'a' ? p->peer_a : po->origin == 'g' ? p->peer_g : 0;

        make_id(p->ids[i], "indicator");
        put_row(f, p->coll, p->ids[i], 1, po->tlp, origin, po->prov);
    }
}

/* Every id an endpoint lists for who, over all its pages (limit 2: many pages). */
static size_t pol_walk(enum who who, const char *coll, const char *tail, char seen[][80],
                       size_t max)
{
    char q[256];
    const char *next = NULL;
    json_t *j = NULL;
    size_t n = 0;

    for (int page = 0; page < 100; page++) {
        struct taxii_response resp;
        json_t *l, *o;
        size_t i;

        snprintf(q, sizeof(q), "limit=2%s%s", next ? "&next=" : "", next ? next : "");
        assert_int_equal(run(&(struct call){"GET", path_of(coll, tail), q, .who = who}, &resp),
                         200);
        json_decref(j);
        j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        assert_non_null(j);
        l = json_object_get(j, "objects");
        /* a page with more has a next, and never ends empty: a withheld row is not "more" */
        if (json_is_true(json_object_get(j, "more")))
            assert_true(json_array_size(l) > 0);
        json_array_foreach(l, i, o)
        {
            assert_true(n < max);
            ctix_strlcpy(seen[n++], json_string_value(json_object_get(o, "id")), 80);
        }
        taxii_response_cleanup(&resp);
        if (!json_is_true(json_object_get(j, "more")))
            break;
        next = json_string_value(json_object_get(j, "next"));
        assert_non_null(next);
    }
    json_decref(j);
    return n;
}

static bool listed(char seen[][80], size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(seen[i], id) == 0)
            return true;
    }
    return false;
}

/* For each requester and each endpoint (objects, manifest, one object, its versions): exactly
 * the objects the TLP table allows, and a withheld object answers like an unknown id. */
static void test_policy_endpoints(void **state)
{
    struct fx *f = *state;
    struct pol_fx p;
    char seen[N_POL + 4][80], tail[200];

    policy_fixture(f, &p);
    for (size_t w = 0; w < CTIX_ARRAY_LEN(pol_who); w++) {
        enum who who = pol_who[w];
        size_t n_obj = pol_walk(who, p.coll, "objects/", seen, N_POL + 4);
        size_t n_want = 0;

        for (size_t i = 0; i < N_POL; i++) {
            bool want = (pol_objs[i].seen_by & W(who)) != 0;

            n_want += want;
            if (listed(seen, n_obj, p.ids[i]) != want)
                fail_msg("objects: who %d, %s: listed %d, want %d", who, pol_objs[i].name, !want,
                         want);
        }
        assert_int_equal(n_obj, n_want);
        size_t n_man = pol_walk(who, p.coll, "manifest/", seen, N_POL + 4);
        assert_int_equal(n_man, n_want);
        for (size_t i = 0; i < N_POL; i++) {
            bool want = (pol_objs[i].seen_by & W(who)) != 0;
            json_t *j, *unknown;

            if (listed(seen, n_man, p.ids[i]) != want)
                fail_msg("manifest: who %d, %s", who, pol_objs[i].name);
            snprintf(tail, sizeof(tail), "objects/%s/", p.ids[i]);
            j = expect(&(struct call){"GET", path_of(p.coll, tail), .who = who}, want ? 200 : 404);
            if (want)
                assert_int_equal(n_objects(j), 1);
            else {
                /* exactly the body of an id that never existed */
                char other[80], t2[200];

                make_id(other, "indicator");
                snprintf(t2, sizeof(t2), "objects/%s/", other);
                unknown = expect(&(struct call){"GET", path_of(p.coll, t2), .who = who}, 404);
                assert_true(json_equal(j, unknown));
                json_decref(unknown);
            }
            json_decref(j);
            snprintf(tail, sizeof(tail), "objects/%s/versions/", p.ids[i]);
            j = expect(&(struct call){"GET", path_of(p.coll, tail), .who = who}, want ? 200 : 404);
            if (want)
                assert_int_equal(json_array_size(json_object_get(j, "versions")), 1);
            json_decref(j);
        }
    }
    /* no key, no read (ctix has no anonymous readers) */
    expect_status(&(struct call){"GET", path_of(p.coll, "objects/"), .auth = ""}, 401);
}

/* A page never hints at a withheld row: with limit=1 over a collection whose only visible
 * object comes first, more is false and there is no next; the date headers are those of the
 * visible rows only; versions hide the withheld version of an object. */
static void test_policy_more_headers(void **state)
{
    struct fx *f = *state;
    struct pol_fx p;
    struct taxii_response resp;
    char coll[37], visible[80], hidden[80], mixed[80], tail[200];
    json_t *j;

    policy_fixture(f, &p);
    mk_coll(f, coll, "more", "");
    struct store_org o;
    assert_int_equal(store_org_get(f->st, "COMM", &o), CTIX_OK);
    assert_int_equal(store_grant_set(f->st, coll, o.id, true, false), CTIX_OK);
    make_id(visible, "indicator");
    make_id(mixed, "indicator");
    put_row(f, coll, visible, 1, STIX_TLP_CLEAR, 0, STORE_PROV_LOCAL);
    put_row(f, coll, mixed, 1, STIX_TLP_GREEN, 0, STORE_PROV_LOCAL);
    for (int i = 0; i < 4; i++) {
        make_id(hidden, "indicator");
        put_row(f, coll, hidden, 1, STIX_TLP_AMBER, 0, STORE_PROV_LOCAL);
    }
    /* the mixed object's second version is amber: hidden from COMM */
    put_row(f, coll, mixed, 2, STIX_TLP_AMBER, 0, STORE_PROV_LOCAL);

    const char *ends[] = {"objects/", "manifest/"};
    for (size_t e = 0; e < 2; e++) {
        assert_int_equal(run(&(struct call){"GET", path_of(coll, ends[e]),
                                            "limit=1&match[version]=all", .who = COMM},
                             &resp),
                         200);
        j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        assert_true(json_is_true(json_object_get(j, "more"))); /* mixed v1 follows */
        json_decref(j);
        taxii_response_cleanup(&resp);
        assert_int_equal(run(&(struct call){"GET", path_of(coll, ends[e]),
                                            "limit=2&match[type]=indicator&"
                                            "match[version]=first",
                                            .who = COMM},
                             &resp),
                         200);
        j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        assert_int_equal(n_objects(j), 2);
        assert_false(json_is_true(json_object_get(j, "more")));
        assert_null(json_object_get(j, "next"));
        json_decref(j);
        taxii_response_cleanup(&resp);
    }
    /* only the first object is visible under the default match[version]=last: limit=1 shows it
     * and says nothing more, whatever follows */
    assert_int_equal(
        run(&(struct call){"GET", path_of(coll, "objects/"), "limit=1", .who = COMM}, &resp), 200);
    j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    assert_int_equal(n_objects(j), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "objects"), 0), "id")),
        visible);
    assert_false(json_is_true(json_object_get(j, "more")));
    assert_null(json_object_get(j, "next"));
    /* the headers bracket the one visible row */
    assert_string_equal(resp.date_first, resp.date_last);
    json_decref(j);
    taxii_response_cleanup(&resp);
    /* the own organisation sees more */
    assert_int_equal(store_grant_set(f->st, coll, f->node.org_id, true, false), CTIX_OK);
    assert_int_equal(
        run(&(struct call){"GET", path_of(coll, "objects/"), "limit=1", .who = ANALYST}, &resp),
        200);
    j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    assert_true(json_is_true(json_object_get(j, "more")));
    json_decref(j);
    taxii_response_cleanup(&resp);
    /* versions: COMM sees v1 of the mixed object only */
    snprintf(tail, sizeof(tail), "objects/%s/versions/", mixed);
    j = expect(&(struct call){"GET", path_of(coll, tail), .who = COMM}, 200);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "versions"), 0)),
                        "2020-01-01T00:00:00.000Z");
    json_decref(j);
    j = expect(&(struct call){"GET", path_of(coll, tail), .who = ANALYST}, 200);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 2);
    json_decref(j);
    /* the object endpoint with every version: v1 only */
    snprintf(tail, sizeof(tail), "objects/%s/", mixed);
    j = expect(&(struct call){"GET", path_of(coll, tail), "match[version]=all", .who = COMM}, 200);
    assert_int_equal(n_objects(j), 1);
    json_decref(j);
}

static size_t count_lines(const char *path, const char *needle)
{
    char *text = NULL;
    size_t len = 0, n = 0;
    struct ctix_diag d;

    if (ctix_file_read(path, 1u << 24, &text, &len, &d) != CTIX_OK)
        return 0;
    for (const char *q = text; (q = strstr(q, needle)) != NULL; q++)
        n++;
    free(text);
    return n;
}

/* With an audit log: one "sent" entry per page listing every object it served ("id|version"),
 * one "denied" per withheld version, not repeated when the same requester asks again; manifest
 * entries are not sent objects. */
static void test_policy_audit(void **state)
{
    struct fx *f = *state;
    struct pol_fx p;
    struct ctix_diag d;
    struct prov_audit_report rep;
    char path[128], seen[N_POL + 4][80];
    size_t n_comm = 0, n_denied = 0, n_pages;

    policy_fixture(f, &p);
    assert_int_equal(prov_audit_open(f->dir, &f->node.audit, &d), CTIX_OK);
    snprintf(path, sizeof(path), "%s/" PROV_AUDIT_FILE, f->dir);
    for (size_t i = 0; i < N_POL; i++)
        n_comm += (pol_objs[i].seen_by & W(COMM)) != 0;
    n_denied = N_POL - n_comm;
    n_pages = (n_comm + 1) / 2; /* pol_walk asks for 2 a page; withheld rows do not count */
    assert_int_equal(pol_walk(COMM, p.coll, "objects/", seen, N_POL + 4), n_comm);
    assert_int_equal(count_lines(path, "\"event\":\"sent\""), n_pages);
    assert_int_equal(count_lines(path, "|"), n_comm); /* each object once, in a list */
    for (size_t i = 0; i < n_comm; i++) {
        char needle[96];

        snprintf(needle, sizeof(needle), "\"%s|", seen[i]);
        assert_int_equal(count_lines(path, needle), 1);
    }
    assert_int_equal(count_lines(path, "\"event\":\"denied\""), n_denied);
    assert_int_equal(count_lines(path, "\"actor\":\"COMM\""), n_pages + n_denied);
    assert_int_equal(count_lines(path, "\"reason\":\"amber_agreement\""), 1);
    /* polling again: the objects are sent again, the denials are not logged again */
    assert_int_equal(pol_walk(COMM, p.coll, "objects/", seen, N_POL + 4), n_comm);
    assert_int_equal(pol_walk(COMM, p.coll, "manifest/", seen, N_POL + 4), n_comm);
    assert_int_equal(count_lines(path, "\"event\":\"sent\""), 2 * n_pages);
    assert_int_equal(count_lines(path, "|"), 2 * n_comm);
    assert_int_equal(count_lines(path, "\"event\":\"denied\""), n_denied);
    /* a peer pulls on the sync channel */
    pol_walk(PEER_G, p.coll, "objects/", seen, N_POL + 4);
    assert_true(count_lines(path, "\"channel\":\"sync-pull\"") > 0);
    prov_audit_close(f->node.audit);
    f->node.audit = NULL;
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_true(rep.n_entries > 2 * n_pages + n_denied);
}

/* The rows of one object in a collection, every version, with their origin and prov. */
struct rows {
    size_t n;
    int64_t origin[8];
    int prov[8];
    char *json[8];
};

static enum ctix_rc rows_cb(void *ctx, const struct store_row *row)
{
    struct rows *r = ctx;

    if (r->n < 8) {
        r->origin[r->n] = row->origin;
        r->prov[r->n] = row->prov;
        r->json[r->n] = strndup(row->json, row->json_len);
    }
    r->n++;
    return CTIX_OK;
}

static void rows_get(const char *coll, const char *id, struct rows *r)
{
    struct store_query q = {.coll_id = coll,
                            .object_id = id,
                            .added_after_us = -1,
                            .limit = 8,
                            .vsel = STORE_V_ALL,
                            .want_json = true};
    bool more;

    memset(r, 0, sizeof(*r));
    assert_int_equal(store_objs_query(F->st, &q, rows_cb, r, &more), CTIX_OK);
}

static void rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n && i < 8; i++)
        free(r->json[i]);
}

/* The attestation of object id: prov/ makes its id a UUIDv5 we cannot guess here, so it is
 * found by its object_ref among the collection's attestations. */
static json_t *attestation_of(const char *coll, const char *id)
{
    struct store_query q = {.coll_id = coll,
                            .added_after_us = -1,
                            .limit = 1000,
                            .types = (const char *const[]){PROV_ATTEST_TYPE},
                            .n_types = 1,
                            .vsel = STORE_V_ALL,
                            .want_json = true};
    struct rows r;
    json_t *found = NULL;
    bool more;

    memset(&r, 0, sizeof(r));
    (void)id;
    assert_int_equal(store_objs_query(F->st, &q, rows_cb, &r, &more), CTIX_OK);
    for (size_t i = 0; i < r.n && i < 8; i++) {
        json_t *a = json_loads(r.json[i], 0, NULL);

        if (found == NULL && strcmp(json_string_value(json_object_get(a, "object_ref")), id) == 0) {
            found = a;
            continue;
        }
        json_decref(a);
    }
    rows_free(&r);
    return found;
}

/* Objects a local requester posts are signed by the node in the same transaction: one
 * attestation per object (none for an attestation), each verifying against the node's key;
 * the status lists only the objects. Without a key nothing is signed. */
static void test_sign_on_post(void **state)
{
    struct fx *f = *state;
    struct prov_trust_table tt;
    struct prov_verifier *v = NULL;
    struct prov_result res;
    struct ctix_diag d;
    char ids[3][80], o[3][600], body[2400];
    json_t *j, *att;
    struct rows r;

    assert_int_equal(prov_key_generate(&f->node.key), CTIX_OK);
    for (int i = 0; i < 3; i++) {
        make_id(ids[i], "indicator");
        indicator(o[i], sizeof(o[i]), ids[i], 1, i);
    }
    snprintf(body, sizeof(body), "{\"objects\":[%s,%s,{\"type\":\"bad\"},%s]}", o[0], o[1], o[2]);
    j = expect(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, body, ANALYST}, 202);
    assert_int_equal(json_integer_value(json_object_get(j, "total_count")), 4);
    assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "successes")), 3);
    json_decref(j);
    assert_int_equal(count(f->c1), 6); /* 3 objects + 3 attestations */
    /* Stored (and so served) each object followed by its attestation: a peer's page holds both. */
    rows_get(f->c1, NULL, &r);
    assert_int_equal(r.n, 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *row = json_loads(r.json[i], 0, NULL);

        assert_non_null(row);
        if (i % 2 == 0) {
            assert_string_equal(json_string_value(json_object_get(row, "id")), ids[i / 2]);
        } else {
            assert_true(prov_is_attestation(row));
            assert_string_equal(json_string_value(json_object_get(row, "object_ref")), ids[i / 2]);
        }
        json_decref(row);
    }
    rows_free(&r);
    /* The same envelope again: duplicates, and no new version of any attestation. */
    j = expect(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, body, ANALYST}, 202);
    assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 3);
    json_decref(j);
    assert_int_equal(count(f->c1), 6);
    prov_trust_table_init(&tt);
    assert_int_equal(prov_trust_table_add(&tt, "SG", prov_key_public(f->node.key)), CTIX_OK);
    assert_int_equal(prov_verifier_new(prov_trust_table_lookup, &tt, &v), CTIX_OK);
    for (int i = 0; i < 3; i++) {
        json_t *obj;

        att = attestation_of(f->c1, ids[i]);
        assert_non_null(att);
        rows_get(f->c1, ids[i], &r);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.origin[0], 0);
        assert_int_equal(r.prov[0], STORE_PROV_LOCAL);
        obj = json_loads(r.json[0], 0, NULL);
        assert_int_equal(prov_attest_verify(v, obj, att, &res, &d), CTIX_OK);
        assert_int_equal(res.verdict, PROV_VALID);
        assert_string_equal(res.org, "SG");
        assert_string_equal(json_string_value(json_object_get(att, "publisher")), "SG");
        json_decref(obj);
        json_decref(att);
        rows_free(&r);
    }
    /* A known version and a new one of the same object: only the new one is attested. */
    {
        char o2[600], body2[1400];

        indicator(o2, sizeof(o2), ids[1], 2, 1);
        snprintf(body2, sizeof(body2), "{\"objects\":[%s,%s]}", o[1], o2);
        j = expect(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, body2, ANALYST}, 202);
        assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 2);
        json_decref(j);
        assert_int_equal(count(f->c1), 8);
        j = expect(&(struct call){"POST", path_of(f->c1, "objects/"), NULL, body2, ANALYST}, 202);
        json_decref(j);
        assert_int_equal(count(f->c1), 8);
    }
    /* an attestation posted by a local requester is stored, never attested itself */
    att = attestation_of(f->c1, ids[0]);
    char *atxt = json_dumps(att, JSON_COMPACT);
    char c2body[4000];
    snprintf(c2body, sizeof(c2body), "{\"objects\":[%s]}", atxt);
    free(atxt);
    json_decref(att);
    j = expect(&(struct call){"POST", path_of(f->c2, "objects/"), NULL, c2body, JP}, 202);
    assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 1);
    json_decref(j);
    assert_int_equal(count(f->c2), 1);
    /* the public ingest path signs too */
    {
        json_t *arr = json_array();
        struct taxii_add_item items[1];
        struct taxii_add_counts cnt;
        char id[80], oo[600];

        make_id(id, "indicator");
        indicator(oo, sizeof(oo), id, 1, 9);
        json_array_append_new(arr, json_loads(oo, 0, NULL));
        assert_int_equal(taxii_objects_add_signed(&f->node, f->c3, arr, NULL, NULL, items, &cnt),
                         CTIX_OK);
        assert_int_equal(cnt.stored, 1);
        assert_int_equal(count(f->c3), 2);
        att = attestation_of(f->c3, id);
        assert_non_null(att);
        json_decref(att);
        json_decref(arr);
    }
    prov_verifier_free(v);
    prov_trust_table_cleanup(&tt);
    prov_key_free(f->node.key);
    f->node.key = NULL;
    /* without a key: nothing signed */
    post_n(f->c1, 1, ids);
    assert_int_equal(count(f->c1), 9);
}

/* A POST by a peer node's key is a push: received through sync_receive with that peer's id — a
 * signed object verifies and keeps its origin, an altered one is quarantined; a peer key of an
 * organisation without a peer entry is refused. */
static void test_post_by_peer(void **state)
{
    struct fx *f = *state;
    struct prov_key *pk = NULL;
    struct prov_sign_opts so = {"PA", 0};
    char pub[PROV_PUBKEY_TEXT], id[80], id2[80], o[600], o2[600], body[6000];
    json_t *objs[2], *atts[2], *j;
    struct rows r;
    int64_t pa, peer_a;
    struct ctix_diag d;

    assert_int_equal(prov_key_generate(&pk), CTIX_OK);
    prov_pubkey_format(prov_key_public(pk), pub);
    assert_int_equal(store_org_add(f->st, "PA", &pa), CTIX_OK);
    mk_key(f, PEER_A, "PA", AUTH_ROLE_PEER);
    assert_int_equal(store_grant_set(f->st, f->c2, pa, false, true), CTIX_OK);
    /* no peer entry yet */
    expect_status(&(struct call){"POST", path_of(f->c2, "objects/"), NULL, "{}", PEER_A}, 403);
    peer_a = mk_peer_key(f, "pa", pa, STIX_TLP_AMBER, pub);

    make_id(id, "indicator");
    make_id(id2, "indicator");
    indicator(o, sizeof(o), id, 1, 1);
    indicator(o2, sizeof(o2), id2, 1, 2);
    objs[0] = json_loads(o, 0, NULL);
    objs[1] = json_loads(o2, 0, NULL);
    assert_int_equal(prov_attest_sign((const json_t *const *)objs, 2, pk, &so, atts, &d), CTIX_OK);
    /* the second object is altered after signing */
    json_object_set_new(objs[1], "name", json_string("altered"));
    char *t[4] = {json_dumps(objs[0], JSON_COMPACT), json_dumps(atts[0], JSON_COMPACT),
                  json_dumps(objs[1], JSON_COMPACT), json_dumps(atts[1], JSON_COMPACT)};
    snprintf(body, sizeof(body), "{\"objects\":[%s,%s,%s,%s]}", t[0], t[1], t[2], t[3]);
    for (int i = 0; i < 4; i++)
        free(t[i]);
    j = expect(&(struct call){"POST", path_of(f->c2, "objects/"), NULL, body, PEER_A}, 202);
    assert_int_equal(json_integer_value(json_object_get(j, "total_count")), 4);
    assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), 0);
    json_decref(j);
    rows_get(f->c2, id, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.origin[0], peer_a);
    assert_int_equal(r.prov[0], STORE_PROV_VERIFIED);
    rows_free(&r);
    rows_get(f->c2, id2, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.origin[0], peer_a);
    assert_int_equal(r.prov[0], STORE_PROV_QUARANTINED);
    rows_free(&r);
    /* an invalid object is a failure of the status */
    j = expect(&(struct call){"POST", path_of(f->c2, "objects/"), NULL,
                              "{\"objects\":[{\"type\":\"indicator\",\"id\":\"x\"}]}", PEER_A},
               202);
    assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), 1);
    json_decref(j);
    for (int i = 0; i < 2; i++) {
        json_decref(objs[i]);
        json_decref(atts[i]);
    }
    prov_key_free(pk);
}

/* DELETE of this node's own object leaves a signed deletion statement (every version: one
 * without object_modified); of a received object, none; a withheld object is 404 as unknown. */
static void test_delete_statement(void **state)
{
    struct fx *f = *state;
    struct pol_fx p;
    struct prov_trust_table tt;
    struct prov_verifier *v = NULL;
    struct prov_result res;
    struct ctix_diag d;
    char tail[200], id[80], o[600], body[1400];
    json_t *att;

    policy_fixture(f, &p);
    assert_int_equal(prov_key_generate(&f->node.key), CTIX_OK);
    prov_trust_table_init(&tt);
    assert_int_equal(prov_trust_table_add(&tt, "SG", prov_key_public(f->node.key)), CTIX_OK);
    assert_int_equal(prov_verifier_new(prov_trust_table_lookup, &tt, &v), CTIX_OK);
    /* a local object with two versions: delete one, then the rest */
    make_id(id, "indicator");
    put_row(f, p.coll, id, 1, STIX_TLP_GREEN, 0, STORE_PROV_LOCAL);
    put_row(f, p.coll, id, 2, STIX_TLP_GREEN, 0, STORE_PROV_LOCAL);
    snprintf(tail, sizeof(tail), "objects/%s/", id);
    expect_status(&(struct call){"DELETE", path_of(p.coll, tail),
                                 "match[version]=2020-01-01T00:00:00.000Z", .who = ANALYST},
                  200);
    att = attestation_of(p.coll, id);
    assert_non_null(att);
    assert_string_equal(json_string_value(json_object_get(att, "statement")), "delete");
    assert_int_equal(prov_attest_verify_delete(v, att, &res, &d), CTIX_OK);
    assert_int_equal(res.verdict, PROV_VALID);
    assert_false(res.all_versions);
    assert_string_equal(res.object_modified, "2020-01-01T00:00:00.000Z");
    json_decref(att);
    expect_status(&(struct call){"DELETE", path_of(p.coll, tail), .who = ANALYST}, 200);
    expect_status(&(struct call){"GET", path_of(p.coll, tail), .who = ANALYST}, 404);
    /* a received object: deleted here only */
    snprintf(tail, sizeof(tail), "objects/%s/", p.ids[5]); /* a-clear */
    expect_status(&(struct call){"DELETE", path_of(p.coll, tail), .who = ANALYST}, 200);
    att = attestation_of(p.coll, p.ids[5]);
    assert_null(att);
    /* withheld from COMM: its DELETE is a 404, and nothing is deleted */
    snprintf(tail, sizeof(tail), "objects/%s/", p.ids[2]); /* l-amber */
    mk_key(f, COMM, "COMM", AUTH_ROLE_ADMIN);
    expect_status(&(struct call){"DELETE", path_of(p.coll, tail), .who = COMM}, 404);
    expect_status(&(struct call){"GET", path_of(p.coll, tail), .who = ANALYST}, 200);
    /* posted by a local analyst: every version deleted at once is one all-versions statement */
    indicator(o, sizeof(o), id, 5, 5);
    snprintf(body, sizeof(body), "{\"objects\":[%s]}", o);
    expect_status(&(struct call){"POST", path_of(p.coll, "objects/"), NULL, body, ANALYST}, 202);
    snprintf(tail, sizeof(tail), "objects/%s/", id);
    expect_status(&(struct call){"DELETE", path_of(p.coll, tail), .who = ANALYST}, 200);
    {
        struct store_query q = {.coll_id = p.coll,
                                .added_after_us = -1,
                                .limit = 100,
                                .types = (const char *const[]){PROV_ATTEST_TYPE},
                                .n_types = 1,
                                .vsel = STORE_V_ALL,
                                .want_json = true};
        struct rows r;
        bool more, found_all = false;

        memset(&r, 0, sizeof(r));
        assert_int_equal(store_objs_query(F->st, &q, rows_cb, &r, &more), CTIX_OK);
        for (size_t i = 0; i < r.n && i < 8; i++) {
            json_t *a = json_loads(r.json[i], 0, NULL);

            if (strcmp(json_string_value(json_object_get(a, "statement")), "delete") == 0 &&
                json_object_get(a, "object_modified") == NULL) {
                assert_int_equal(prov_attest_verify_delete(v, a, &res, &d), CTIX_OK);
                assert_int_equal(res.verdict, PROV_VALID);
                assert_true(res.all_versions);
                found_all = true;
            }
            json_decref(a);
        }
        rows_free(&r);
        assert_true(found_all);
    }
    prov_verifier_free(v);
    prov_trust_table_cleanup(&tt);
    prov_key_free(f->node.key);
    f->node.key = NULL;
}

/* /ctix/peers/: the node's operators see every peer's status, never its token. */
static void test_peers_endpoint(void **state)
{
    struct fx *f = *state;
    struct pol_fx p;
    struct taxii_response resp;
    json_t *j, *pa = NULL, *el;
    size_t i;

    policy_fixture(f, &p);
    assert_int_equal(run(&(struct call){"GET", "/ctix/peers/", .who = ADMIN, .accept = ""}, &resp),
                     200);
    assert_string_equal(resp.content_type, "application/json");
    assert_null(strstr(resp.body.data, "secret"));
    j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    taxii_response_cleanup(&resp);
    assert_int_equal(json_array_size(json_object_get(j, "peers")), 2);
    json_array_foreach(json_object_get(j, "peers"), i, el)
    {
        if (strcmp(json_string_value(json_object_get(el, "name")), "pa") == 0)
            pa = el;
        assert_null(json_object_get(el, "token"));
    }
    assert_non_null(pa);
    assert_string_equal(json_string_value(json_object_get(pa, "org")), "PA");
    assert_string_equal(json_string_value(json_object_get(pa, "max_tlp")), "amber");
    assert_true(json_is_null(json_object_get(pa, "last_ok")));
    assert_int_equal(json_integer_value(json_object_get(pa, "quarantined")), 0);
    assert_non_null(json_object_get(json_object_get(pa, "lag"), "seconds"));
    json_decref(j);
    expect_status(&(struct call){"GET", "/ctix/peers/", .who = ANALYST}, 403);
    expect_status(&(struct call){"GET", "/ctix/peers/", .who = PEER_A}, 403);
    expect_status(&(struct call){"GET", "/ctix/peers/", .auth = ""}, 401);
    expect_status(&(struct call){"POST", "/ctix/peers/", .who = ADMIN}, 405);
    expect_status(&(struct call){"GET", "/ctix/other/", .who = ADMIN}, 404);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_health_discovery_root),
        T(test_collections),
        T(test_post_and_status),
        T(test_post_errors),
        T(test_too_big),
        T(test_pagination),
        T(test_filters_versions),
        T(test_delete),
        T(test_server_config),
        T(test_ingest_api),
        T(test_rights_cache),
        T(test_policy_endpoints),
        T(test_policy_more_headers),
        T(test_policy_audit),
        T(test_sign_on_post),
        T(test_post_by_peer),
        T(test_delete_statement),
        T(test_peers_endpoint),
    };
    ctix_log_set_level(CTIX_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
