/* `ctix serve` as a process: clean stops on SIGTERM and SIGINT that keep what was acknowledged,
 * durability across kill -9, the access log (one line per request, never a token), TLS, the
 * refusal to listen beyond loopback in clear text, and /healthz. */
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
    struct h_server srv; /* the one running in the current test, if any */
    char coll[H_UUID_MAX];
    /* An analyst of the node's own organisation: it reads what it posts under the default
     * policy (unmarked objects are AMBER, and AMBER stays inside the organisation). */
    char token[H_TOKEN_MAX];
    char alpha[H_TOKEN_MAX]; /* another organisation's analyst, without any agreement */
    char objects_path[200];
};

static struct world *W;

static int setup(void **state)
{
    static struct world w;
    memset(&w, 0, sizeof w);
    if (!h_node_init(&w.node, "node") || !h_node_org(&w.node, "alpha") ||
        !h_node_collection(&w.node, "Server", NULL, NULL, w.coll) ||
        !h_node_grant(&w.node, w.coll, "node", true, true) ||
        !h_node_grant(&w.node, w.coll, "alpha", true, true) ||
        !h_node_key(&w.node, "node", "analyst", w.token) ||
        !h_node_key(&w.node, "alpha", "analyst", w.alpha))
        return -1;
    snprintf(w.objects_path, sizeof w.objects_path, "/api/collections/%s/objects/", w.coll);
    W = &w;
    *state = &w;
    return 0;
}

/* Whatever a failed test left running goes. */
static int test_teardown(void **state)
{
    struct world *w = *state;
    h_server_kill(&w->srv);
    return 0;
}

/* POSTs a fresh indicator (id into id) and expects 202 with one success. */
static void post_one(char id[80])
{
    h_stix_id("indicator", id);
    char *o = h_indicator(id, "2023-01-01T00:00:00.000Z", "durable");
    char *env = h_envelope(o, NULL);
    struct h_resp r;
    assert_true(h_post(&W->srv, W->token, W->objects_path, env, &r));
    H_ASSERT_TAXII(&r, 202);
    assert_int_equal(json_integer_value(json_object_get(r.json, "success_count")), 1);
    h_resp_cleanup(&r);
    free(env);
    free(o);
}

static void expect_object(const char *id)
{
    struct h_resp r;
    assert_true(h_getf(&W->srv, W->token, &r, "%s%s/", W->objects_path, id));
    H_ASSERT_TAXII(&r, 200);
    json_t *objs = json_object_get(r.json, "objects");
    assert_int_equal(json_array_size(objs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 0), "id")), id);
    h_resp_cleanup(&r);
}

/* The attestations of the collection that name id (each object a local key posts is signed in
 * the same transaction that stores it). */
static size_t n_attestations(const char *id)
{
    struct h_resp r;
    size_t n = 0, i;
    json_t *a;
    assert_true(h_getf(&W->srv, W->token, &r, "%s?match[type]=x-ctix-attestation&limit=1000",
                       W->objects_path));
    H_ASSERT_TAXII(&r, 200);
    assert_false(json_is_true(json_object_get(r.json, "more")));
    json_array_foreach(json_object_get(r.json, "objects"), i, a)
    {
        const char *ref = json_string_value(json_object_get(a, "object_ref"));
        if (ref != NULL && strcmp(ref, id) == 0)
            n++;
    }
    h_resp_cleanup(&r);
    return n;
}

static void stop_with(int sig)
{
    char id[80];
    assert_true(h_server_start(&W->srv, &W->node, NULL, NULL));
    post_one(id);
    assert_int_equal(h_server_stop(&W->srv, sig), 0);
    assert_true(h_server_start(&W->srv, &W->node, NULL, NULL));
    expect_object(id);
    assert_int_equal(n_attestations(id), 1);
    /* The restarted server still applies the default: unmarked is AMBER, withheld from an
     * organisation without an agreement exactly like an unknown object. */
    struct h_resp r;
    assert_true(h_getf(&W->srv, W->alpha, &r, "%s%s/", W->objects_path, id));
    H_ASSERT_ERROR(&r, 404);
    h_resp_cleanup(&r);
    assert_int_equal(h_server_stop(&W->srv, sig), 0);
}

static void test_sigterm(void **state)
{
    (void)state;
    stop_with(SIGTERM);
}

static void test_sigint(void **state)
{
    (void)state;
    stop_with(SIGINT);
}

static void test_kill9_after_202(void **state)
{
    (void)state;
    char id[80];
    assert_true(h_server_start(&W->srv, &W->node, NULL, NULL));
    post_one(id);

    /* And a bigger envelope: one transaction, all or nothing, acknowledged means kept. */
    char ids[40][80];
    char *texts[40];
    json_t *arr = json_array();
    for (size_t i = 0; i < 40; i++) {
        h_stix_id("indicator", ids[i]);
        texts[i] = h_indicator(ids[i], "2023-01-02T00:00:00.000Z", "batch");
        json_array_append_new(arr, json_loads(texts[i], 0, NULL));
        free(texts[i]);
    }
    json_t *env = json_pack("{s:o}", "objects", arr);
    char *body = json_dumps(env, JSON_COMPACT);
    struct h_resp r;
    assert_true(h_post(&W->srv, W->token, W->objects_path, body, &r));
    H_ASSERT_TAXII(&r, 202);
    assert_int_equal(json_integer_value(json_object_get(r.json, "success_count")), 40);
    h_resp_cleanup(&r);
    /* Right after the 202: no chance to flush anything more. */
    h_server_kill(&W->srv);
    free(body);
    json_decref(env);

    assert_true(h_server_start(&W->srv, &W->node, NULL, NULL));
    expect_object(id);
    assert_int_equal(n_attestations(id), 1);
    for (size_t i = 0; i < 40; i++) {
        expect_object(ids[i]);
        /* Stored in the same transaction as the object: kept with it. */
        assert_int_equal(n_attestations(ids[i]), 1);
    }
    assert_int_equal(h_server_stop(&W->srv, SIGTERM), 0);
}

static void test_access_log(void **state)
{
    (void)state;
    /* A token of the right shape that no key has, and the real one. */
    static const char fake[] = "ctix_LeakCheckLeakCheckLeakCheckLeakCheck0123";
    char uuid[80], path[200], basic[400];
    h_stix_id("x", uuid);
    snprintf(path, sizeof path, "/api/collections/%s/objects/", uuid + 3);
    assert_true(h_server_start(&W->srv, &W->node, NULL, NULL));

    struct h_resp r;
    for (int i = 0; i < 3; i++) {
        assert_true(h_get(&W->srv, fake, path, &r));
        H_ASSERT_ERROR(&r, 401);
        h_resp_cleanup(&r);
    }
    for (int i = 0; i < 2; i++) {
        assert_true(h_get(&W->srv, W->token, path, &r));
        H_ASSERT_ERROR2(&r, 404, 403);
        h_resp_cleanup(&r);
    }
    /* Basic: "user:TOKEN", so the base64 text must not show up either. We use a token whose
     * "x:" prefix keeps the encoding aligned, so a log of the raw header would contain it. */
    static const char b64_fake[] =
        "eDpjdGl4X0xlYWtDaGVja0xlYWtDaGVja0xlYWtDaGVja0xlYWtDaGVjazAxMjM=";
    snprintf(basic, sizeof basic, "Basic %s", b64_fake);
    struct h_req q = {.path = path, .auth = basic};
    assert_true(h_http(&W->srv, &q, &r));
    H_ASSERT_ERROR(&r, 401);
    h_resp_cleanup(&r);
    /* A POST with a body: the body is never logged. */
    char id[80];
    h_stix_id("indicator", id);
    char *o = h_indicator(id, "2023-02-02T00:00:00.000Z", "BodyMarkerNeverLogged");
    char *env = h_envelope(o, NULL);
    assert_true(h_post(&W->srv, W->token, W->objects_path, env, &r));
    H_ASSERT_TAXII(&r, 202);
    h_resp_cleanup(&r);
    free(env);
    free(o);

    assert_int_equal(h_server_stop(&W->srv, SIGTERM), 0);
    char *log = h_server_log(&W->srv);
    size_t n = h_count_lines(log, uuid + 3);
    if (n != 6)
        fail_msg("expected 6 access-log lines for %s, found %zu:\n%s", path, n, log);
    if (h_count_lines(log, W->objects_path) != 1)
        fail_msg("expected 1 access-log line for the POST:\n%s", log);
    const char *secrets[] = {fake,         fake + 5, W->token,
                             W->token + 5, b64_fake, "BodyMarkerNeverLogged"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(log, secrets[i]) != NULL)
            fail_msg("the log contains \"%s\":\n%s", secrets[i], log);
    /* Each line of the access log carries the status it answered. */
    const char *line = strstr(log, uuid + 3);
    assert_non_null(line);
    const char *bol = line;
    while (bol > log && bol[-1] != '\n')
        bol--;
    const char *eol = strchr(line, '\n');
    char one[1024];
    snprintf(one, sizeof one, "%.*s", (int)(eol ? eol - bol : (long)strlen(bol)), bol);
    if (strstr(one, "401") == NULL || strstr(one, "GET") == NULL)
        fail_msg("access-log line without method or status: %s", one);
    free(log);
}

static void test_tls(void **state)
{
    (void)state;
    char cert[PATH_MAX + 16], key[PATH_MAX + 16], cmd[3 * PATH_MAX];
    snprintf(cert, sizeof cert, "%s/cert.pem", W->node.dir);
    snprintf(key, sizeof key, "%s/key.pem", W->node.dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' "
             ">/dev/null 2>&1",
             key, cert);
    assert_true(h_sh(cmd));
    const char *extra[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    assert_true(h_server_start(&W->srv, &W->node, extra, cert));
    assert_true(W->srv.tls);

    struct h_resp r;
    assert_true(h_get(&W->srv, W->token, "/taxii2/", &r));
    H_ASSERT_TAXII(&r, 200);
    h_resp_cleanup(&r);
    char id[80];
    post_one(id);
    expect_object(id);

    /* Plain HTTP to the TLS port gets no TAXII answer. */
    struct h_server plain = W->srv;
    snprintf(plain.base, sizeof plain.base, "http://127.0.0.1:%d", W->srv.port);
    plain.cafile[0] = '\0';
    bool answered = h_get(&plain, W->token, "/taxii2/", &r);
    assert_false(answered && r.status == 200);
    h_resp_cleanup(&r);
    /* And the server is still fine after that. */
    assert_true(h_get(&W->srv, NULL, "/healthz", &r));
    assert_int_equal(r.status, 200);
    h_resp_cleanup(&r);
    assert_int_equal(h_server_stop(&W->srv, SIGTERM), 0);

    /* With TLS, any address may be used without --insecure. */
    const char *wide[] = {"--listen", "0.0.0.0:0", "--tls-cert", cert, "--tls-key", key, NULL};
    assert_true(h_server_start(&W->srv, &W->node, wide, cert));
    assert_true(h_get(&W->srv, W->token, "/taxii2/", &r));
    H_ASSERT_TAXII(&r, 200);
    h_resp_cleanup(&r);
    assert_int_equal(h_server_stop(&W->srv, SIGTERM), 0);
}

static void test_non_loopback_needs_tls_or_insecure(void **state)
{
    (void)state;
    static const char *const addrs[] = {"0.0.0.0:0", "[::]:0", NULL};
    for (size_t i = 0; addrs[i] != NULL; i++) {
        struct h_proc p;
        const char *argv[] = {"serve", "--data", W->node.data, "--listen", addrs[i], NULL};
        assert_true(h_ctixv(&p, 10, argv));
        if (p.code != 2)
            fail_msg("serve --listen %s without TLS: exit %d, expected 2\nstdout: %s\nstderr: %s",
                     addrs[i], p.code, p.out, p.err);
        assert_true(p.err_len > 0);
        assert_true(strstr(p.out, "listening") == NULL);
        h_proc_cleanup(&p);
    }
    const char *extra[] = {"--listen", "0.0.0.0:0", "--insecure", NULL};
    assert_true(h_server_start(&W->srv, &W->node, extra, NULL));
    struct h_resp r;
    assert_true(h_get(&W->srv, W->token, "/taxii2/", &r));
    H_ASSERT_TAXII(&r, 200);
    h_resp_cleanup(&r);
    assert_int_equal(h_server_stop(&W->srv, SIGTERM), 0);
}

static void test_healthz(void **state)
{
    (void)state;
    assert_true(h_server_start(&W->srv, &W->node, NULL, NULL));
    struct h_resp r;
    /* No key and no TAXII Accept: a load balancer's probe. */
    struct h_req q = {.path = "/healthz", .accept = ""};
    assert_true(h_http(&W->srv, &q, &r));
    assert_int_equal(r.status, 200);
    h_resp_cleanup(&r);
    assert_true(h_get(&W->srv, NULL, "/healthz", &r));
    assert_int_equal(r.status, 200);
    h_resp_cleanup(&r);
    /* While the API itself still wants a key. */
    assert_true(h_get(&W->srv, NULL, "/api/collections/", &r));
    H_ASSERT_ERROR(&r, 401);
    h_resp_cleanup(&r);
    assert_int_equal(h_server_stop(&W->srv, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sigterm, test_teardown),
        cmocka_unit_test_teardown(test_sigint, test_teardown),
        cmocka_unit_test_teardown(test_kill9_after_202, test_teardown),
        cmocka_unit_test_teardown(test_access_log, test_teardown),
        cmocka_unit_test_teardown(test_tls, test_teardown),
        cmocka_unit_test_teardown(test_non_loopback_needs_tls_or_insecure, test_teardown),
        cmocka_unit_test_teardown(test_healthz, test_teardown),
    };
    return cmocka_run_group_tests_name("server", tests, setup, NULL);
}
