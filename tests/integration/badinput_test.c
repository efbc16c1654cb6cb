/* Bad input over HTTP: every bad request of the foundation issue gets the TAXII error resource
 * with the right status, leaves the store exactly as it was (the full manifest and object list
 * compared before and after), and the server goes on serving. The server runs with a small
 * --max-content-length so that 413 is cheap to reach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define MAX_LEN 4096

struct world {
    struct h_node node;
    struct h_server srv;
    char coll[H_UUID_MAX]; /* alpha rw, beta r */
    char admin[H_TOKEN_MAX];
    char alpha[H_TOKEN_MAX]; /* analyst */
    char beta[H_TOKEN_MAX];  /* reader */
    char delta[H_TOKEN_MAX]; /* analyst, no grant */
    char seed_id[80];
    char objects_path[200];
    char next[1024]; /* a real next token of a limit=1 page */
};

static struct world *W;

static int setup(void **state)
{
    static struct world w;
    /* Unmarked objects are CLEAR here, so that alpha and beta (organisations without an
     * agreement) read the seed objects and real next tokens exist: the bad requests are about
     * the TAXII surface, not about policy. snapshot() reads as the node's own admin, who sees
     * every object and attestation under any policy. */
    static const char *const extra[] = {
        "--max-content-length", "4096", "--body-budget", "6000", "--unmarked-tlp", "clear", NULL};
    struct h_node *n = &w.node;
    memset(&w, 0, sizeof w);
    if (!h_node_init(n, "node") || !h_node_org(n, "alpha") || !h_node_org(n, "beta") ||
        !h_node_org(n, "delta") || !h_node_collection(n, "Bad input", "bad", NULL, w.coll) ||
        !h_node_grant(n, w.coll, "alpha", true, true) ||
        !h_node_grant(n, w.coll, "beta", true, false) || !h_node_key(n, "node", "admin", w.admin) ||
        !h_node_key(n, "alpha", "analyst", w.alpha) || !h_node_key(n, "beta", "reader", w.beta) ||
        !h_node_key(n, "delta", "analyst", w.delta))
        return -1;
    if (!h_server_start(&w.srv, n, extra, NULL))
        return -1;
    W = &w;
    *state = &w;
    snprintf(w.objects_path, sizeof w.objects_path, "/api/collections/%s/objects/", w.coll);

    /* A few objects, so that "unchanged" means something and next tokens exist. */
    char ids[3][80];
    char *o[3];
    for (size_t i = 0; i < 3; i++) {
        h_stix_id("indicator", ids[i]);
        o[i] = h_indicator(ids[i], "2022-02-02T00:00:00.000Z", "seed");
    }
    snprintf(w.seed_id, sizeof w.seed_id, "%s", ids[0]);
    char *env = h_envelope(o[0], o[1], o[2], NULL);
    struct h_resp r;
    bool ok = h_post(&w.srv, w.alpha, w.objects_path, env, &r) && r.status == 202 &&
              json_integer_value(json_object_get(r.json, "success_count")) == 3;
    h_resp_cleanup(&r);
    free(env);
    for (size_t i = 0; i < 3; i++)
        free(o[i]);
    if (!ok)
        return -1;
    ok = h_getf(&w.srv, w.alpha, &r, "%s?limit=1", w.objects_path) && r.status == 200 &&
         json_is_string(json_object_get(r.json, "next"));
    if (ok)
        snprintf(w.next, sizeof w.next, "%s", json_string_value(json_object_get(r.json, "next")));
    else
        fprintf(stderr, "no next token on a limit=1 page: %s\n", r.body);
    h_resp_cleanup(&r);
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    return w != NULL && h_server_stop(&w->srv, SIGTERM) == 0 ? 0 : -1;
}

/* Everything the collection holds, as the admin sees it. */
static char *snapshot(void)
{
    struct h_resp m, o;
    assert_true(
        h_getf(&W->srv, W->admin, &m, "/api/collections/%s/manifest/?match[version]=all", W->coll));
    H_ASSERT_TAXII(&m, 200);
    assert_true(h_getf(&W->srv, W->admin, &o, "%s?match[version]=all", W->objects_path));
    H_ASSERT_TAXII(&o, 200);
    size_t len = strlen(m.body) + strlen(o.body) + 2;
    char *s = malloc(len);
    assert_non_null(s);
    snprintf(s, len, "%s\n%s", m.body, o.body);
    h_resp_cleanup(&m);
    h_resp_cleanup(&o);
    return s;
}

static void still_serving(void)
{
    struct h_resp r;
    assert_true(h_get(&W->srv, W->alpha, "/taxii2/", &r));
    H_ASSERT_TAXII(&r, 200);
    h_resp_cleanup(&r);
}

/* Sends q and checks: error resource with status a (or b), store unchanged, server alive. */
static void bad(const struct h_req *q, long a, long b)
{
    const char *m = q->method ? q->method : (q->body ? "POST" : "GET");
    char why[300] = "";
    char *before = snapshot();
    struct h_resp r;
    char h[256];
    if (!h_http(&W->srv, q, &r))
        snprintf(why, sizeof why, "no HTTP answer (%s)", r.error);
    else if (!h_is_error(&r, a, b))
        snprintf(why, sizeof why, "wrong answer (see above)");
    else if (r.status == 401 && !h_header(&r, "WWW-Authenticate", h, sizeof h))
        snprintf(why, sizeof why, "401 without WWW-Authenticate");
    h_resp_cleanup(&r);
    char *after = snapshot();
    bool same = strcmp(before, after) == 0;
    if (!same)
        fprintf(stderr, "store before: %s\nstore after: %s\n", before, after);
    free(before);
    free(after);
    if (why[0] != '\0')
        fail_msg("%s %s: %s", m, q->path, why);
    if (!same)
        fail_msg("%s %s changed the store", m, q->path);
    still_serving();
}

static void bad_get(const char *token, const char *path, long a, long b)
{
    struct h_req q = {.method = "GET", .path = path, .token = token};
    bad(&q, a, b);
}

static void bad_getf(long a, long b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad_getf(long a, long b, const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    bad_get(W->alpha, path, a, b);
}

static void bad_post(const char *token, const char *body, long a, long b)
{
    struct h_req q = {.method = "POST", .path = W->objects_path, .token = token, .body = body};
    bad(&q, a, b);
}

/* A valid one-indicator envelope padded with spaces to exactly len bytes (free()). */
static char *padded_envelope(size_t len)
{
    char id[80];
    h_stix_id("indicator", id);
    char *o = h_indicator(id, "2022-03-03T00:00:00.000Z", "padded");
    size_t olen = strlen(o);
    assert_true(len > olen + 14);
    char *s = malloc(len + 1);
    assert_non_null(s);
    size_t pad = len - olen - 14;
    memcpy(s, "{\"objects\":[", 12);
    memset(s + 12, ' ', pad);
    memcpy(s + 12 + pad, o, olen);
    memcpy(s + 12 + pad + olen, "]}", 3);
    assert_int_equal(strlen(s), len);
    free(o);
    return s;
}

/* ---- tests ---- */

static void test_malformed_json(void **state)
{
    (void)state;
    bad_post(W->alpha, "{\"objects\":[{\"type\":", 400, 0);
    bad_post(W->alpha, "{\"objects\":[]} trailing", 400, 0);
    bad_post(W->alpha, "not json at all", 400, 0);
    bad_post(W->alpha, "{\"objects\":[{\"type\":\"indicator\",}]}", 400, 0);
    /* Invalid UTF-8 inside a string. */
    bad_post(W->alpha, "{\"objects\":[{\"type\":\"indic\xff\xfe\"}]}", 400, 422);
}

static void test_not_an_envelope(void **state)
{
    (void)state;
    char *o = h_indicator(W->seed_id, "2030-01-01T00:00:00.000Z", "array body");
    char body[1024];
    snprintf(body, sizeof body, "[%s]", o);
    bad_post(W->alpha, body, 422, 400);
    snprintf(body, sizeof body, "{\"objects\":%s}", o);
    bad_post(W->alpha, body, 422, 400);
    bad_post(W->alpha, "{\"objects\":\"indicator\"}", 422, 400);
    bad_post(W->alpha, "{\"objects\":null}", 422, 400);
    bad_post(W->alpha, "\"a string\"", 422, 400);
    bad_post(W->alpha, "42", 422, 400);
    free(o);
}

static void test_too_big(void **state)
{
    (void)state;
    char *body = padded_envelope(MAX_LEN + 1);
    bad_post(W->alpha, body, 413, 0);
    struct h_req q = {.path = W->objects_path, .token = W->alpha, .body = body, .no_expect = true};
    bad(&q, 413, 0);
    free(body);

    /* Chunked, without Content-Length: the cap applies while reading. */
    body = padded_envelope(5 * MAX_LEN);
    struct h_req c = {.path = W->objects_path, .token = W->alpha, .body = body, .chunked = true};
    bad(&c, 413, 0);
    c.no_expect = true;
    bad(&c, 413, 0);
    free(body);
    body = padded_envelope(MAX_LEN + 1);
    c.body = body;
    bad(&c, 413, 0);
    free(body);
}

static void test_at_the_limit_is_accepted(void **state)
{
    (void)state;
    /* A body of exactly max_content_length must not get 413, chunked or not. */
    for (int chunked = 0; chunked < 2; chunked++) {
        char *body = padded_envelope(MAX_LEN);
        struct h_req q = {
            .path = W->objects_path, .token = W->alpha, .body = body, .chunked = chunked};
        struct h_resp r;
        assert_true(h_http(&W->srv, &q, &r));
        H_ASSERT_TAXII(&r, 202);
        assert_int_equal(json_integer_value(json_object_get(r.json, "success_count")), 1);
        h_resp_cleanup(&r);
        free(body);
    }
    /* The API root says what the limit is. */
    struct h_resp r;
    assert_true(h_get(&W->srv, W->alpha, "/api/", &r));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "max_content_length")), MAX_LEN);
    h_resp_cleanup(&r);
}

/* A raw connection to the server, for a request whose body arrives in parts. */
static int raw_connect(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)W->srv.port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void raw_send(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

/* While one body is being read, another that would pass --body-budget gets 503 without being
 * read; once the first is done the second goes through. Memory for bodies is bounded whatever
 * the number of connections. */
static void test_body_budget(void **state)
{
    char head[1024], reply[256];
    char *first = padded_envelope(4000), *second = padded_envelope(3000);
    int fd = raw_connect();
    ssize_t got;
    struct h_resp r;

    (void)state;
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: %s\r\nContent-Type: %s\r\n"
             "Authorization: Bearer %s\r\nContent-Length: 4000\r\n\r\n",
             W->objects_path, H_TAXII, H_TAXII, W->alpha);
    raw_send(fd, head, strlen(head));
    raw_send(fd, first, 100); /* the server now holds 4,000 bytes of budget for it */
    usleep(300 * 1000);
    bad_post(W->alpha, second, 503, 0);
    raw_send(fd, first + 100, 3900);
    got = read(fd, reply, sizeof reply - 1);
    assert_true(got > 12);
    reply[got] = '\0';
    if (strncmp(reply, "HTTP/1.1 202", 12) != 0)
        fail_msg("the first body got: %.60s", reply);
    close(fd);
    /* Released: the second body is taken now. The server gives the budget back when MHD reports
     * the first request complete, which may come a moment after its reply reached us, so a 503
     * ("retry shortly") is still allowed for up to two seconds, nothing else. */
    for (int tries = 0;; tries++) {
        assert_true(h_post(&W->srv, W->alpha, W->objects_path, second, &r));
        if (r.status != 503 || tries == 40)
            break;
        h_resp_cleanup(&r);
        usleep(50 * 1000);
    }
    H_ASSERT_TAXII(&r, 202);
    h_resp_cleanup(&r);
    free(first);
    free(second);
}

static void test_wrong_content_type(void **state)
{
    (void)state;
    char id[80];
    h_stix_id("indicator", id);
    char *o = h_indicator(id, "2022-04-04T00:00:00.000Z", "ctype");
    char *env = h_envelope(o, NULL);
    static const char *const types[] = {"application/json", "text/plain",
                                        "application/taxii+json;version=2.0",
                                        "application/stix+json;version=2.1", NULL};
    for (size_t i = 0; types[i] != NULL; i++) {
        struct h_req q = {
            .path = W->objects_path, .token = W->alpha, .body = env, .ctype = types[i]};
        bad(&q, 415, 0);
    }
    struct h_req none = {.path = W->objects_path, .token = W->alpha, .body = env, .ctype = ""};
    bad(&none, 415, 400);
    free(env);
    free(o);
}

static void test_wrong_accept(void **state)
{
    (void)state;
    static const char *const types[] = {"application/json", "text/html",
                                        "application/taxii+json;version=2.0", NULL};
    char id[80];
    h_stix_id("indicator", id);
    char *o = h_indicator(id, "2022-05-05T00:00:00.000Z", "accept");
    char *env = h_envelope(o, NULL);
    for (size_t i = 0; types[i] != NULL; i++) {
        struct h_req g = {.path = W->objects_path, .token = W->alpha, .accept = types[i]};
        bad(&g, 406, 0);
        struct h_req c = {.path = "/api/collections/", .token = W->alpha, .accept = types[i]};
        bad(&c, 406, 0);
        struct h_req p = {
            .path = W->objects_path, .token = W->alpha, .accept = types[i], .body = env};
        bad(&p, 406, 0);
    }
    /* The TAXII type without a version means the latest: accepted. */
    struct h_req ok = {
        .path = W->objects_path, .token = W->alpha, .accept = "application/taxii+json"};
    struct h_resp r;
    assert_true(h_http(&W->srv, &ok, &r));
    H_ASSERT_TAXII(&r, 200);
    h_resp_cleanup(&r);
    free(env);
    free(o);
}

static void test_malformed_ids_in_paths(void **state)
{
    (void)state;
    bad_getf(404, 400, "/api/collections/not-a-uuid/");
    bad_getf(404, 400, "/api/collections/not-a-uuid/objects/");
    bad_getf(404, 400, "/api/collections/%s/objects/not-an-id/", W->coll);
    bad_getf(404, 400, "/api/collections/%s/objects/indicator--zzzz/", W->coll);
    bad_getf(404, 400, "/api/collections/%s/objects/--%s/", W->coll, W->coll);
    bad_getf(404, 400, "/api/collections/%s/objects/not-an-id/versions/", W->coll);
    bad_getf(404, 400, "/api/status/not-a-uuid/");
    char path[300];
    snprintf(path, sizeof path, "/api/collections/%s/objects/not-an-id/", W->coll);
    struct h_req d = {.method = "DELETE", .path = path, .token = W->admin};
    bad(&d, 404, 400);
}

/* A NUL byte in the path must not cut it short into another, valid path. */
static void test_nul_in_path(void **state)
{
    (void)state;
    bad_getf(404, 400, "/api/collections/%s/objects/%%00/", W->coll);
    bad_getf(404, 400, "/api/collections/%s/objects/%s/%%00x/", W->coll, W->seed_id);
    bad_getf(404, 400, "/api/collections/%s%%00/", W->coll);
}

static void test_unknown_things(void **state)
{
    (void)state;
    char uuid_like[80], obj[80];
    h_stix_id("x", uuid_like); /* "x--<uuid>" */
    const char *uuid = uuid_like + 3;
    h_stix_id("indicator", obj);
    bad_getf(404, 0, "/api/collections/%s/", uuid);
    bad_getf(404, 0, "/api/collections/%s/objects/", uuid);
    bad_getf(404, 0, "/api/collections/%s/manifest/", uuid);
    bad_getf(404, 0, "/api/collections/%s/objects/%s/", W->coll, obj);
    bad_getf(404, 0, "/api/status/%s/", uuid);
    bad_getf(404, 0, "/api/nowhere/");
    bad_getf(404, 0, "/nowhere/collections/");
    char path[300];
    snprintf(path, sizeof path, "/api/collections/%s/objects/", uuid);
    char *o = h_indicator(obj, "2022-06-06T00:00:00.000Z", "lost");
    char *env = h_envelope(o, NULL);
    struct h_req p = {.path = path, .token = W->admin, .body = env};
    bad(&p, 404, 0);
    snprintf(path, sizeof path, "/api/collections/%s/objects/%s/", W->coll, obj);
    struct h_req d = {.method = "DELETE", .path = path, .token = W->admin};
    bad(&d, 404, 0);
    free(env);
    free(o);
}

static void test_bad_query_parameters(void **state)
{
    (void)state;
    static const char *const queries[] = {
        "added_after=yesterday",
        "added_after=2021-13-01T00:00:00Z",
        "added_after=2021-01-01%2000:00:00",
        "added_after=2021-01-01T00:00:00",
        "added_after=",
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "limit=1&limit=2",
        "added_after=2021-01-01T00:00:00Z&added_after=2021-01-02T00:00:00Z",
        "match[type]=indicator&match[type]=malware",
        "match[id]=a&match[id]=b",
        "match[version]=all,first",
        "match[version]=notatime",
        "match[version]=last,last",
        "match[type]=indicator,,malware",
        NULL,
    };
    for (size_t i = 0; queries[i] != NULL; i++) {
        bad_getf(400, 0, "%s?%s", W->objects_path, queries[i]);
        bad_getf(400, 0, "/api/collections/%s/manifest/?%s", W->coll, queries[i]);
    }
    bad_getf(400, 0, "/api/collections/%s/objects/%s/?limit=0", W->coll, W->seed_id);
    bad_getf(400, 0, "/api/collections/%s/objects/%s/versions/?added_after=x", W->coll, W->seed_id);
}

static void test_forged_next(void **state)
{
    (void)state;
    bad_getf(400, 0, "%s?next=AAAA", W->objects_path);
    bad_getf(400, 0, "%s?next=", W->objects_path);
    bad_getf(400, 0, "%s?next=%%00%%01", W->objects_path);
    if (W->next[0] == '\0')
        fail_msg("setup found no next token to alter");
    /* One character changed in the middle of a real token. */
    char forged[1024];
    snprintf(forged, sizeof forged, "%s", W->next);
    size_t mid = strlen(forged) / 2;
    forged[mid] = forged[mid] == 'A' ? 'B' : 'A';
    bad_getf(400, 0, "%s?limit=1&next=%s", W->objects_path, forged);
    /* The real one still works. */
    struct h_resp r;
    assert_true(h_getf(&W->srv, W->alpha, &r, "%s?limit=1&next=%s", W->objects_path, W->next));
    H_ASSERT_TAXII(&r, 200);
    h_resp_cleanup(&r);
}

static void test_authentication(void **state)
{
    (void)state;
    struct h_req q = {.path = "/api/collections/"};
    bad(&q, 401, 0);
    q.path = W->objects_path;
    bad(&q, 401, 0);
    q.path = "/api/";
    bad(&q, 401, 0);
    char *o = h_indicator(W->seed_id, "2031-01-01T00:00:00.000Z", "anonymous");
    char *env = h_envelope(o, NULL);
    struct h_req p = {.path = W->objects_path, .body = env};
    bad(&p, 401, 0);

    /* Wrong keys of every shape. */
    static const char *const auths[] = {
        "Bearer ctix_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Bearer ",
        "Bearer",
        "Basic Zm9vOmJhcg==", /* foo:bar */
        "Basic !!!notbase64",
        "Digest username=\"x\"",
        "ctix_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        NULL,
    };
    for (size_t i = 0; auths[i] != NULL; i++) {
        struct h_req w = {.path = "/api/collections/", .auth = auths[i]};
        bad(&w, 401, 0);
        p.auth = auths[i];
        bad(&p, 401, 0);
    }
    /* A real token with one character changed. */
    char wrong[H_TOKEN_MAX];
    snprintf(wrong, sizeof wrong, "%s", W->alpha);
    size_t last = strlen(wrong) - 1;
    wrong[last] = wrong[last] == 'A' ? 'B' : 'A';
    struct h_req w = {.path = W->objects_path, .token = wrong};
    bad(&w, 401, 0);
    free(env);
    free(o);
}

static void test_authorization(void **state)
{
    (void)state;
    char id[80];
    h_stix_id("indicator", id);
    char *o = h_indicator(id, "2022-07-07T00:00:00.000Z", "no rights");
    char *env = h_envelope(o, NULL);
    /* A key without rights on the collection. */
    bad_get(W->delta, W->objects_path, 403, 404);
    bad_post(W->delta, env, 403, 404);
    char path[300];
    snprintf(path, sizeof path, "/api/collections/%s/objects/%s/", W->coll, W->seed_id);
    struct h_req d = {.method = "DELETE", .path = path, .token = W->delta};
    bad(&d, 404, 0);
    /* A reader may not write or delete. */
    bad_post(W->beta, env, 403, 0);
    d.token = W->beta;
    bad(&d, 403, 0);
    free(env);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_not_an_envelope),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_wrong_content_type),
        cmocka_unit_test(test_wrong_accept),
        cmocka_unit_test(test_malformed_ids_in_paths),
        cmocka_unit_test(test_nul_in_path),
        cmocka_unit_test(test_unknown_things),
        cmocka_unit_test(test_bad_query_parameters),
        cmocka_unit_test(test_forged_next),
        cmocka_unit_test(test_authentication),
        cmocka_unit_test(test_authorization),
        /* Last: it adds objects. */
        cmocka_unit_test(test_at_the_limit_is_accepted),
        cmocka_unit_test(test_body_budget),
    };
    return cmocka_run_group_tests_name("badinput", tests, setup, teardown);
}
