/* What leaves a real `ctix serve` over HTTP: TLP policy on objects, manifest, one object and its
 * versions (a withheld object answers exactly like an unknown one, and pages never hint at it),
 * the signatures of what local keys post, the audit log of what was sent and denied, and the
 * admin-only /ctix/peers/ status endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TLP_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define TLP_RED   "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

struct world {
    struct h_node node;
    struct h_server srv;
    char coll[H_UUID_MAX];
    char admin[H_TOKEN_MAX], analyst[H_TOKEN_MAX], other[H_TOKEN_MAX];
    char clear_id[80], amber_id[80], red_id[80];
    char path[200];
};

static struct world *W;

static char *marked(const char *id, const char *marking)
{
    char *o = malloc(1024);

    assert_non_null(o);
    snprintf(o, 1024,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
             "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
             "\"pattern\":\"[ipv4-addr:value = '203.0.113.9']\",\"pattern_type\":\"stix\","
             "\"valid_from\":\"2024-01-01T00:00:00Z\",\"object_marking_refs\":[\"%s\"]}",
             id, marking);
    return o;
}

static int setup(void **state)
{
    static struct world w;
    struct h_resp r;
    char *o[3], *env;

    memset(&w, 0, sizeof w);
    if (!h_node_init(&w.node, "SG") || !h_node_org(&w.node, "OTHER") ||
        !h_node_collection(&w.node, "Egress", NULL, NULL, w.coll) ||
        !h_node_grant(&w.node, w.coll, "SG", true, true) ||
        !h_node_grant(&w.node, w.coll, "OTHER", true, false) ||
        !h_node_key(&w.node, "SG", "admin", w.admin) ||
        !h_node_key(&w.node, "SG", "analyst", w.analyst) ||
        !h_node_key(&w.node, "OTHER", "analyst", w.other))
        return -1;
    if (!h_server_start(&w.srv, &w.node, NULL, NULL))
        return -1;
    snprintf(w.path, sizeof w.path, "/api/collections/%s/", w.coll);
    h_stix_id("indicator", w.clear_id);
    h_stix_id("indicator", w.amber_id);
    h_stix_id("indicator", w.red_id);
    o[0] = marked(w.clear_id, TLP_CLEAR);
    o[1] = marked(w.amber_id, TLP_AMBER);
    o[2] = marked(w.red_id, TLP_RED);
    env = h_envelope(o[0], o[1], o[2], NULL);
    char p[260];
    snprintf(p, sizeof p, "%sobjects/", w.path);
    if (!h_post(&w.srv, w.analyst, p, env, &r) || r.status != 202 ||
        json_integer_value(json_object_get(r.json, "success_count")) != 3)
        return -1;
    h_resp_cleanup(&r);
    free(env);
    for (int i = 0; i < 3; i++)
        free(o[i]);
    W = &w;
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;

    h_server_stop(&w->srv, 15);
    return 0;
}

/* Every id a list endpoint gives token, one record a page (limit=1), checking that a page with
 * more is never empty. Returns the ids joined by spaces (free()). */
static char *walk(const char *token, const char *endpoint)
{
    char *ids = calloc(1, 8192), next[128] = "";
    struct h_resp r;

    assert_non_null(ids);
    for (int page = 0; page < 50; page++) {
        json_t *l, *o;
        size_t i;

        assert_true(h_getf(&W->srv, token, &r, "%s%s?limit=1%s%s", W->path, endpoint,
                           next[0] ? "&next=" : "", next));
        H_ASSERT_TAXII(&r, 200);
        l = json_object_get(r.json, "objects");
        json_array_foreach(l, i, o)
        {
            strncat(ids, json_string_value(json_object_get(o, "id")), 8192 - strlen(ids) - 2);
            strcat(ids, " ");
        }
        if (!json_is_true(json_object_get(r.json, "more"))) {
            assert_null(json_object_get(r.json, "next"));
            h_resp_cleanup(&r);
            break;
        }
        assert_true(json_array_size(l) > 0);
        snprintf(next, sizeof next, "%s", json_string_value(json_object_get(r.json, "next")));
        h_resp_cleanup(&r);
    }
    return ids;
}

static void test_policy_over_http(void **state)
{
    (void)state;
    const char *ends[] = {"objects/", "manifest/"};

    for (size_t e = 0; e < 2; e++) {
        char *own = walk(W->analyst, ends[e]);
        char *other = walk(W->other, ends[e]);

        /* own organisation: clear and amber; red goes to named recipients only */
        assert_non_null(strstr(own, W->clear_id));
        assert_non_null(strstr(own, W->amber_id));
        assert_null(strstr(own, W->red_id));
        /* another organisation without agreement: clear only */
        assert_non_null(strstr(other, W->clear_id));
        assert_null(strstr(other, W->amber_id));
        assert_null(strstr(other, W->red_id));
        /* each object came with its attestation, which is exactly as visible */
        assert_int_equal(h_count_lines(own, "x-ctix-attestation--") > 0, 1);
        free(own);
        free(other);
    }
    /* a withheld object answers like one that never existed, on both endpoints */
    char unknown[80];
    struct h_resp a, b;
    h_stix_id("indicator", unknown);
    const char *tails[] = {"", "versions/"};
    for (int t = 0; t < 2; t++) {
        assert_true(
            h_getf(&W->srv, W->other, &a, "%sobjects/%s/%s", W->path, W->amber_id, tails[t]));
        assert_true(h_getf(&W->srv, W->other, &b, "%sobjects/%s/%s", W->path, unknown, tails[t]));
        H_ASSERT_ERROR(&a, 404);
        assert_int_equal(a.body_len, b.body_len);
        assert_memory_equal(a.body, b.body, a.body_len);
        h_resp_cleanup(&a);
        h_resp_cleanup(&b);
        assert_true(
            h_getf(&W->srv, W->analyst, &a, "%sobjects/%s/%s", W->path, W->amber_id, tails[t]));
        H_ASSERT_TAXII(&a, 200);
        h_resp_cleanup(&a);
    }
    /* the date headers of OTHER's pages bracket only what it sees */
    assert_true(h_getf(&W->srv, W->other, &a, "%sobjects/?match[type]=indicator", W->path));
    H_ASSERT_TAXII(&a, 200);
    assert_int_equal(json_array_size(json_object_get(a.json, "objects")), 1);
    char first[40], last[40];
    assert_true(h_header(&a, "X-TAXII-Date-Added-First", first, sizeof first));
    assert_true(h_header(&a, "X-TAXII-Date-Added-Last", last, sizeof last));
    assert_string_equal(first, last);
    h_resp_cleanup(&a);
}

static void test_audit_log(void **state)
{
    (void)state;
    char path[PATH_MAX + 32];
    char *log;

    free(walk(W->other, "objects/"));
    snprintf(path, sizeof path, "%s/audit.log", W->node.data);
    log = h_file_read(path, NULL);
    assert_non_null(log);
    assert_true(h_count_lines(log, "\"event\":\"denied\"") > 0);
    assert_true(h_count_lines(log, "\"event\":\"sent\"") > 0);
    assert_true(h_count_lines(log, W->amber_id) > 0);
    assert_true(h_count_lines(log, "\"actor\":\"OTHER\"") > 0);
    free(log);
    struct h_proc p;
    assert_true(h_ctix(&p, "audit", "verify", "--data", W->node.data, NULL));
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);
}

static void test_peers_endpoint(void **state)
{
    (void)state;
    struct h_proc p;
    struct h_resp r;

    assert_true(h_ctix(&p, "peer", "add", "--data", W->node.data, "--name", "jp", "--org", "JP",
                       "--url", "http://127.0.0.1:9/api/", "--token", "do-not-show-me", "--pubkey",
                       "ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "--max-tlp", "green",
                       NULL));
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);
    assert_true(h_http(
        &W->srv,
        &(struct h_req){.path = "/ctix/peers/", .token = W->admin, .accept = "application/json"},
        &r));
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    json_t *peers = json_object_get(r.json, "peers");
    assert_int_equal(json_array_size(peers), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(peers, 0), "name")), "jp");
    assert_string_equal(json_string_value(json_object_get(json_array_get(peers, 0), "max_tlp")),
                        "green");
    assert_null(strstr(r.body, "do-not-show-me"));
    h_resp_cleanup(&r);
    assert_true(h_http(&W->srv, &(struct h_req){.path = "/ctix/peers/", .token = W->analyst}, &r));
    H_ASSERT_ERROR(&r, 403);
    h_resp_cleanup(&r);
    assert_true(h_http(&W->srv, &(struct h_req){.path = "/ctix/peers/"}, &r));
    H_ASSERT_ERROR(&r, 401);
    h_resp_cleanup(&r);
}

/* The "pubkey: KEY" line of `ctix node show`, into key[80]. */
static void node_pubkey(const struct h_node *n, char key[80])
{
    struct h_proc p;
    const char *k;

    assert_true(h_ctix(&p, "node", "show", "--data", n->data, NULL));
    assert_int_equal(p.code, 0);
    k = strstr(p.out, "pubkey: ");
    assert_non_null(k);
    k += strlen("pubkey: ");
    size_t len = strcspn(k, "\r\n");
    assert_true(len > 0 && len < 80);
    memcpy(key, k, len);
    key[len] = '\0';
    h_proc_cleanup(&p);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Air-gapped exchange (issue 5, item 10): `export --signed --peer` writes what that peer may have,
 * with attestations, audited as one "sent" entry per page; `import --from` on the other node
 * verifies every object, and a byte changed in the file is quarantined, not stored as verified. */
static void test_signed_export_import(void **state)
{
    (void)state;
    struct h_node jp;
    struct h_proc p;
    char sg_key[80], jp_key[80], jp_coll[H_UUID_MAX], file[PATH_MAX + 32], bad[PATH_MAX + 32];
    char *bundle, *log, *amber;
    size_t len;

    assert_true(h_node_init(&jp, "NISC Japan"));
    node_pubkey(&W->node, sg_key);
    node_pubkey(&jp, jp_key);
    /* SG knows JP's node under an AMBER agreement; JP knows SG's node. */
    assert_true(h_ctix(&p, "peer", "add", "--data", W->node.data, "--name", "airgap-jp", "--org",
                       "NISC Japan", "--url", "http://127.0.0.1:9/api/", "--token", "unused",
                       "--pubkey", jp_key, "--max-tlp", "amber", NULL));
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);
    assert_true(h_ctix(&p, "peer", "add", "--data", jp.data, "--name", "airgap-sg", "--org",
                       "CSA Singapore", "--url", "http://127.0.0.1:9/api/", "--token", "unused",
                       "--pubkey", sg_key, "--max-tlp", "amber", NULL));
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);
    assert_true(h_node_collection(&jp, "From SG", NULL, NULL, jp_coll));

    /* --signed needs the recipient. */
    assert_true(
        h_ctix(&p, "export", "--data", W->node.data, "--collection", W->coll, "--signed", NULL));
    assert_int_equal(p.code, 2);
    h_proc_cleanup(&p);
    assert_true(h_ctix(&p, "export", "--data", W->node.data, "--collection", W->coll, "--signed",
                       "--peer", "airgap-jp", NULL));
    assert_int_equal(p.code, 0);
    bundle = p.out;
    len = p.out_len;
    p.out = NULL;
    h_proc_cleanup(&p);
    /* CLEAR and AMBER go under the agreement, with their attestations; RED never goes to a node. */
    assert_non_null(strstr(bundle, W->clear_id));
    assert_non_null(strstr(bundle, W->amber_id));
    assert_null(strstr(bundle, W->red_id));
    char ref[120];
    snprintf(ref, sizeof ref, "\"object_ref\":\"%s\"", W->amber_id);
    assert_non_null(strstr(bundle, ref)); /* the AMBER object's attestation travels with it */
    snprintf(ref, sizeof ref, "\"object_ref\":\"%s\"", W->red_id);
    assert_null(strstr(bundle, ref)); /* not even the RED object's attestation */
    snprintf(file, sizeof file, "%s/sg.json", jp.dir);
    write_file(file, bundle, len);

    /* The export is audited: the page's entry lists the AMBER object; the denial is recorded. */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/audit.log", W->node.data);
    log = h_file_read(path, NULL);
    assert_non_null(log);
    assert_true(h_count_lines(log, "\"channel\":\"export\"") >= 2);
    assert_true(h_count_lines(log, "\"event\":\"sent\"") > 0);
    assert_non_null(strstr(log, W->amber_id));
    free(log);
    assert_true(h_ctix(&p, "audit", "verify", "--data", W->node.data, NULL));
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);

    /* JP takes it in from SG: everything verifies, nothing is quarantined. */
    assert_true(h_ctix(&p, "import", "--data", jp.data, "--collection", jp_coll, "--from",
                       "airgap-sg", file, NULL));
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);
    assert_true(h_ctix(&p, "audit", "--data", jp.data, NULL));
    assert_int_equal(p.code, 0);
    assert_non_null(strstr(p.out, "0 quarantined object versions"));
    h_proc_cleanup(&p);
    assert_true(h_ctix(&p, "export", "--data", jp.data, "--collection", jp_coll, NULL));
    assert_int_equal(p.code, 0);
    assert_non_null(strstr(p.out, W->amber_id));
    assert_non_null(strstr(p.out, W->clear_id));
    assert_null(strstr(p.out, W->red_id));
    h_proc_cleanup(&p);

    /* The same file with one byte of the AMBER object changed, into a fresh collection: that
     * object is quarantined (listed by `ctix audit`), the CLEAR one still verifies. */
    char coll2[H_UUID_MAX];
    assert_true(h_node_collection(&jp, "From SG, tampered", NULL, NULL, coll2));
    amber = strstr(bundle, W->amber_id);
    assert_non_null(amber);
    char *ip = strstr(amber, "203.0.113.9");
    assert_non_null(ip);
    ip[10] = '8';
    snprintf(bad, sizeof bad, "%s/sg-tampered.json", jp.dir);
    write_file(bad, bundle, len);
    assert_true(h_ctix(&p, "import", "--data", jp.data, "--collection", coll2, "--from",
                       "airgap-sg", bad, NULL));
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);
    assert_true(h_ctix(&p, "audit", "--data", jp.data, NULL));
    assert_int_equal(p.code, 0);
    /* The quarantine list comes first, then the last audit entries. */
    char *entries = strstr(p.out, "audit entries");
    assert_non_null(entries);
    *entries = '\0';
    assert_null(strstr(p.out, "0 quarantined object versions"));
    assert_non_null(strstr(p.out, W->amber_id));
    assert_null(strstr(p.out, W->clear_id));
    h_proc_cleanup(&p);
    free(bundle);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_over_http),
        cmocka_unit_test(test_audit_log),
        cmocka_unit_test(test_peers_endpoint),
        cmocka_unit_test(test_signed_export_import),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
