/* The ctix command line from outside: exit codes (2 for a wrong command line, 1 for a runtime
 * failure) and messages on stderr for every sub-command, what `key add` and `collection add`
 * print, that no token is ever stored in plain text, and the import/export round trip over the
 * OASIS examples and two MITRE ATT&CK bundles (from CTIX_SHARED; skipped when absent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

struct world {
    struct h_node node;
    char coll[H_UUID_MAX];
};

static struct world *W;

static int setup(void **state)
{
    static struct world w;
    memset(&w, 0, sizeof w);
    if (!h_node_init(&w.node, "node") || !h_node_org(&w.node, "alpha") ||
        !h_node_collection(&w.node, "CLI", "cli", NULL, w.coll))
        return -1;
    W = &w;
    *state = &w;
    return 0;
}

static const char *js(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

/* One command line and what it must give. */
struct cli_case {
    const char *argv[16]; /* "@D" = the data dir, "@C" = the collection id */
    int code;             /* expected exit code; 12 means 1 or 2 */
    const char *needle;   /* must appear in stderr, or NULL */
};

static void run_case(const struct cli_case *c)
{
    const char *argv[17];
    size_t i = 0;
    for (; c->argv[i] != NULL; i++) {
        if (strcmp(c->argv[i], "@D") == 0)
            argv[i] = W->node.data;
        else if (strcmp(c->argv[i], "@C") == 0)
            argv[i] = W->coll;
        else
            argv[i] = c->argv[i];
    }
    argv[i] = NULL;
    struct h_proc p;
    /* Short: a serve that wrongly starts must not hold the suite. */
    bool ran = h_ctixv(&p, 10, argv);
    char line[512] = "";
    for (size_t k = 0; argv[k] != NULL; k++) {
        strncat(line, " ", sizeof line - strlen(line) - 1);
        strncat(line, argv[k], sizeof line - strlen(line) - 1);
    }
    if (!ran)
        fail_msg("ctix%s did not run", line);
    bool code_ok = c->code == 12 ? (p.code == 1 || p.code == 2) : p.code == c->code;
    if (!code_ok)
        fail_msg("ctix%s: exit %d, expected %d\nstdout: %s\nstderr: %s", line, p.code, c->code,
                 p.out, p.err);
    if (p.err_len == 0)
        fail_msg("ctix%s: exit %d without a message on stderr", line, p.code);
    /* import may still print its per-file summary line; nothing else prints on failure. */
    if (p.out_len != 0 && strcmp(argv[0], "import") != 0)
        fail_msg("ctix%s: an error printed on stdout: %s", line, p.out);
    if (c->needle != NULL && strstr(p.err, c->needle) == NULL)
        fail_msg("ctix%s: stderr should name \"%s\": %s", line, c->needle, p.err);
    h_proc_cleanup(&p);
}

static void test_usage_errors(void **state)
{
    (void)state;
    static const struct cli_case cases[] = {
        {{NULL}, 2, NULL},
        {{"frobnicate"}, 2, "frobnicate"},
        {{"--bogus"}, 2, "--bogus"},
        {{"init"}, 2, "--data"},
        {{"init", "--data", "@D"}, 2, "--org"},
        {{"init", "--data", "@D", "--org", "x", "--bogus"}, 2, "--bogus"},
        {{"init", "--data", "@D", "--org"}, 2, "--org"},
        {{"org"}, 2, NULL},
        {{"org", "add", "--data", "@D"}, 2, NULL},
        {{"org", "add", "--data", "@D", "a", "b"}, 2, NULL},
        {{"org", "frob", "--data", "@D", "x"}, 2, "frob"},
        {{"org", "add", "x"}, 2, "--data"},
        {{"collection"}, 2, NULL},
        {{"collection", "add", "--data", "@D"}, 2, "--title"},
        {{"collection", "add", "--data", "@D", "--title"}, 2, "--title"},
        {{"collection", "add", "--data", "@D", "--title", "t", "--color", "red"}, 2, "--color"},
        {{"grant", "--data", "@D", "--collection", "@C", "--org", "alpha"}, 2, NULL},
        {{"grant", "--data", "@D", "--org", "alpha", "--read"}, 2, "--collection"},
        {{"grant", "--data", "@D", "--collection", "@C", "--read"}, 2, "--org"},
        {{"key"}, 2, NULL},
        {{"key", "add", "--data", "@D", "--org", "alpha"}, 2, "--role"},
        {{"key", "add", "--data", "@D", "--org", "alpha", "--role", "wizard"}, 2, "wizard"},
        {{"key", "add", "--data", "@D", "--role", "reader"}, 2, "--org"},
        {{"serve", "--data", "@D"}, 2, "--listen"},
        {{"serve", "--listen", "127.0.0.1:0"}, 2, "--data"},
        {{"serve", "--data", "@D", "--listen", "nonsense"}, 2, NULL},
        {{"serve", "--data", "@D", "--listen", "127.0.0.1:99999"}, 2, NULL},
        {{"serve", "--data", "@D", "--listen", "0.0.0.0:0"}, 2, NULL},
        {{"serve", "--data", "@D", "--listen", "127.0.0.1:0", "--tls-cert", "c.pem"}, 2, NULL},
        {{"serve", "--data", "@D", "--listen", "127.0.0.1:0", "--max-content-length", "abc"},
         2,
         "--max-content-length"},
        {{"serve", "--data", "@D", "--listen", "127.0.0.1:0", "--bogus"}, 2, "--bogus"},
        {{"import", "--data", "@D", "--collection", "@C"}, 2, NULL},
        {{"import", "--data", "@D", "file.json"}, 2, "--collection"},
        {{"import", "--collection", "@C", "file.json"}, 2, "--data"},
        {{"export", "--data", "@D"}, 2, "--collection"},
        {{"export", "--data", "@D", "--collection", "@C", "--bogus"}, 2, "--bogus"},
        {{"export", "--data", "@D", "--collection", "@C", "extra"}, 2, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

static void test_runtime_errors(void **state)
{
    (void)state;
    char file[PATH_MAX + 32], bad_json[PATH_MAX + 32], not_bundle[PATH_MAX + 32];
    snprintf(file, sizeof file, "%s/plain-file", W->node.dir);
    snprintf(bad_json, sizeof bad_json, "%s/bad.json", W->node.dir);
    snprintf(not_bundle, sizeof not_bundle, "%s/number.json", W->node.dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
    f = fopen(bad_json, "w");
    assert_non_null(f);
    fputs("{\"type\":\"bundle\",\"objects\":[{\"type\":", f);
    fclose(f);
    f = fopen(not_bundle, "w");
    assert_non_null(f);
    fputs("42\n", f);
    fclose(f);
    const char *missing = "/nonexistent/ctix-itest-data";
    char uuid[80];
    h_stix_id("x", uuid);

    const struct cli_case cases[] = {
        {{"org", "add", "--data", missing, "o"}, 1, NULL},
        {{"org", "add", "--data", "@D", "alpha"}, 1, "alpha"},
        {{"init", "--data", file, "--org", "x"}, 1, NULL},
        {{"collection", "add", "--data", "@D", "--title", "Again", "--alias", "cli"}, 1, "cli"},
        {{"collection", "add", "--data", "@D", "--title", "Again", "--id", "@C"}, 1, NULL},
        {{"collection", "add", "--data", "@D", "--title", "Bad", "--id", "not-a-uuid"},
         12,
         "not-a-uuid"},
        {{"collection", "add", "--data", missing, "--title", "t"}, 1, NULL},
        {{"grant", "--data", "@D", "--collection", uuid + 3, "--org", "alpha", "--read"},
         1,
         uuid + 3},
        {{"grant", "--data", "@D", "--collection", "@C", "--org", "nobody", "--read"}, 1, "nobody"},
        {{"key", "add", "--data", "@D", "--org", "nobody", "--role", "reader"}, 1, "nobody"},
        {{"key", "add", "--data", missing, "--org", "alpha", "--role", "reader"}, 1, NULL},
        {{"import", "--data", "@D", "--collection", uuid + 3, bad_json}, 1, uuid + 3},
        {{"import", "--data", "@D", "--collection", "@C", "/nonexistent/file.json"},
         1,
         "/nonexistent/file.json"},
        {{"import", "--data", "@D", "--collection", "@C", bad_json}, 1, bad_json},
        {{"import", "--data", "@D", "--collection", "@C", not_bundle}, 1, not_bundle},
        {{"export", "--data", "@D", "--collection", uuid + 3}, 1, uuid + 3},
        {{"export", "--data", missing, "--collection", "@C"}, 1, NULL},
        {{"serve", "--data", missing, "--listen", "127.0.0.1:0"}, 1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);

    /* Nothing of the failed commands was stored: the collection is still empty. */
    struct h_proc p;
    assert_true(h_ctix(&p, "export", "--data", W->node.data, "--collection", W->coll, NULL));
    assert_int_equal(p.code, 0);
    json_t *b = json_loads(p.out, 0, NULL);
    assert_non_null(b);
    assert_int_equal(json_array_size(json_object_get(b, "objects")), 0);
    json_decref(b);
    h_proc_cleanup(&p);
}

static void test_serve_port_in_use(void **state)
{
    (void)state;
    struct h_server s;
    assert_true(h_server_start(&s, &W->node, NULL, NULL));
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s.port);
    struct h_proc p;
    const char *argv[] = {"serve", "--data", W->node.data, "--listen", listen, NULL};
    assert_true(h_ctixv(&p, 10, argv));
    if (p.code != 1)
        fail_msg("second serve on a busy port: exit %d, expected 1\nstderr: %s", p.code, p.err);
    assert_true(p.err_len > 0);
    h_proc_cleanup(&p);
    assert_int_equal(h_server_stop(&s, SIGTERM), 0);
}

static bool is_uuid4(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
    if (strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i] != '\0'; i++) {
        bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
        if (shape[i] == '-' && s[i] != '-')
            return false;
        if (shape[i] == 'x' && !hex)
            return false;
        if (shape[i] == '4' && s[i] != '4')
            return false;
        if (shape[i] == 'y' && strchr("89ab", s[i]) == NULL)
            return false;
    }
    return true;
}

static void test_key_add_prints_only_a_token(void **state)
{
    (void)state;
    static const char *const roles[] = {"admin", "analyst", "reader", "peer", "reporter"};
    char tokens[5][H_TOKEN_MAX];
    for (size_t i = 0; i < 5; i++) {
        struct h_proc p;
        assert_true(h_ctix(&p, "key", "add", "--data", W->node.data, "--org", "alpha", "--role",
                           roles[i], "--name", "itest key", NULL));
        if (p.code != 0)
            fail_msg("key add --role %s: exit %d: %s", roles[i], p.code, p.err);
        /* Exactly one line: the token, nothing else. */
        size_t len = strcspn(p.out, "\n");
        if (len + 1 != p.out_len)
            fail_msg("key add printed more than one line: \"%s\"", p.out);
        if (len < 43 || len >= H_TOKEN_MAX)
            fail_msg("token of %zu characters: \"%s\"", len, p.out);
        for (size_t k = 0; k < len; k++) {
            char c = p.out[k];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
            if (!ok)
                fail_msg("token with character '%c': \"%s\"", c, p.out);
        }
        memcpy(tokens[i], p.out, len);
        tokens[i][len] = '\0';
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(tokens[k], tokens[i]);
        h_proc_cleanup(&p);
    }
    /* The store keeps no token in plain text, in any file of the data directory. */
    for (size_t i = 0; i < 5; i++) {
        if (h_tree_contains(W->node.data, tokens[i], strlen(tokens[i])))
            fail_msg("token %zu is stored in plain text under %s", i, W->node.data);
        /* Nor the secret part alone. */
        const char *secret = strchr(tokens[i], '_') ? strchr(tokens[i], '_') + 1 : tokens[i];
        assert_false(h_tree_contains(W->node.data, secret, strlen(secret)));
    }
}

static void test_collection_add_prints_the_id(void **state)
{
    (void)state;
    struct h_proc p;
    assert_true(h_ctix(&p, "collection", "add", "--data", W->node.data, "--title", "Printed",
                       "--description", "what it prints", NULL));
    assert_int_equal(p.code, 0);
    size_t len = strcspn(p.out, "\n");
    assert_int_equal(len + 1, p.out_len);
    p.out[len] = '\0';
    if (!is_uuid4(p.out))
        fail_msg("collection add printed \"%s\", not a UUIDv4", p.out);
    h_proc_cleanup(&p);

    char id[80];
    h_stix_id("x", id);
    assert_true(h_ctix(&p, "collection", "add", "--data", W->node.data, "--title", "Chosen", "--id",
                       id + 3, "--alias", "chosen", NULL));
    assert_int_equal(p.code, 0);
    p.out[strcspn(p.out, "\n")] = '\0';
    assert_string_equal(p.out, id + 3);
    h_proc_cleanup(&p);

    /* Grants accept the id and the flags in every combination, and revoke. */
    static const char *const flags[][3] = {{"--read", NULL, NULL},
                                           {"--write", NULL, NULL},
                                           {"--read", "--write", NULL},
                                           {"--read", "--write", "--revoke"}};
    for (size_t i = 0; i < 4; i++) {
        const char *argv[16] = {"grant", "--data", W->node.data, "--collection",
                                id + 3,  "--org",  "alpha"};
        size_t n = 7;
        for (size_t k = 0; k < 3 && flags[i][k] != NULL; k++)
            argv[n++] = flags[i][k];
        argv[n] = NULL;
        assert_true(h_ctixv(&p, 30, argv));
        if (p.code != 0)
            fail_msg("grant %zu: exit %d: %s", i, p.code, p.err);
        h_proc_cleanup(&p);
    }
}

/* ---- import / export round trip over the shared data ---- */

static const char *shared_dir(void)
{
    const char *s = getenv("CTIX_SHARED");
    return (s != NULL && *s != '\0') ? s : "../shared/data";
}

/* The version an object is stored under, for matching: modified, else created, else "" (one
 * copy per id). */
static void obj_key(json_t *o, char *out, size_t n)
{
    json_t *v = json_object_get(o, "modified");
    if (v == NULL)
        v = json_object_get(o, "created");
    snprintf(out, n, "%s|%s", js(json_object_get(o, "id")), js(v));
}

struct expect {
    size_t stored, present, rejected;
};

/* Adds a file's objects to the expected store; skip_id is the one invalid object. */
static bool expect_file(const char *path, json_t *store, const char *skip_id, struct expect *e)
{
    json_error_t err;
    json_t *b = json_load_file(path, 0, &err);
    json_t *objs = json_object_get(b, "objects");
    memset(e, 0, sizeof *e);
    if (!json_is_array(objs)) {
        json_decref(b);
        return false;
    }
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        char key[512];
        if (skip_id != NULL && strcmp(js(json_object_get(o, "id")), skip_id) == 0) {
            e->rejected++;
            continue;
        }
        obj_key(o, key, sizeof key);
        json_t *had = json_object_get(store, key);
        if (had != NULL) {
            /* The shared data has no two different objects under one id and version. */
            assert_true(json_equal(had, o));
            e->present++;
        } else {
            json_object_set(store, key, o);
            e->stored++;
        }
    }
    json_decref(b);
    return true;
}

/* Finds "FILE: N stored, N already present, N rejected" in out and compares. */
static void check_summary(const char *out, const char *file, const struct expect *e)
{
    char prefix[PATH_MAX + 8];
    snprintf(prefix, sizeof prefix, "%s: ", file);
    const char *line = out;
    while (line != NULL && strncmp(line, prefix, strlen(prefix)) != 0) {
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    if (line == NULL)
        fail_msg("no summary line for %s in:\n%s", file, out);
    size_t s = 0, p = 0, r = 0;
    if (sscanf(line + strlen(prefix), "%zu stored, %zu already present, %zu rejected", &s, &p,
               &r) != 3)
        fail_msg("summary line in the wrong form: %.*s", (int)strcspn(line, "\n"), line);
    if (s != e->stored || p != e->present || r != e->rejected)
        fail_msg("%s: got %zu stored, %zu already present, %zu rejected; expected %zu, %zu, %zu",
                 file, s, p, r, e->stored, e->present, e->rejected);
}

static json_t *export_bundle(const char *coll, const char *type)
{
    struct h_proc p;
    if (type != NULL)
        assert_true(h_ctix(&p, "export", "--data", W->node.data, "--collection", coll, "--type",
                           type, NULL));
    else
        assert_true(h_ctix(&p, "export", "--data", W->node.data, "--collection", coll, NULL));
    if (p.code != 0)
        fail_msg("export: exit %d: %s", p.code, p.err);
    json_error_t err;
    json_t *b = json_loads(p.out, 0, &err);
    if (b == NULL)
        fail_msg("export output is not JSON (%s): %.300s", err.text, p.out);
    assert_string_equal(js(json_object_get(b, "type")), "bundle");
    assert_true(strncmp(js(json_object_get(b, "id")), "bundle--", 8) == 0);
    h_proc_cleanup(&p);
    return b;
}

static void test_import_export_round_trip(void **state)
{
    (void)state;
    const char *shared = shared_dir();
    struct stat sb;
    if (stat(shared, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "no shared data at %s: skipped\n", shared);
        skip();
    }
    char coll[H_UUID_MAX];
    assert_true(h_node_collection(&W->node, "Round trip", "roundtrip", NULL, coll));

    /* Every OASIS example bundle, then the ATT&CK bundles unpacked into the temp dir. The one
     * non-bundle example (a lone campaign object) is not part of this. */
    static const char *const patterns[] = {
        "cti-stix2-json-schemas/examples/*.json",
        "cti-stix2-json-schemas/examples/threat-reports/*.json",
        "cti-documentation/example_json/*.json",
        "tlp-markings/tlp-*.json",
    };
    char *files[64];
    size_t n_files = 0;
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        char pat[PATH_MAX];
        glob_t g;
        snprintf(pat, sizeof pat, "%s/%s", shared, patterns[i]);
        if (glob(pat, 0, NULL, &g) == 0) {
            for (size_t k = 0; k < g.gl_pathc && n_files < 60; k++)
                files[n_files++] = strdup(g.gl_pathv[k]);
            globfree(&g);
        }
    }
    static const char *const attack[] = {"ics-attack-18.1", "mobile-attack-17.1"};
    for (size_t i = 0; i < 2; i++) {
        char cmd[3 * PATH_MAX], out[PATH_MAX + 64];
        snprintf(out, sizeof out, "%s/%s.json", W->node.dir, attack[i]);
        snprintf(cmd, sizeof cmd, "zstd -dcq '%s/mitre-attack-stix-data/%s.json.zst' > '%s'",
                 shared, attack[i], out);
        assert_true(h_sh(cmd));
        files[n_files++] = strdup(out);
    }

    json_t *store = json_object();
    struct expect exp[64];
    const char *argv[80] = {"import", "--data", W->node.data, "--collection", coll};
    size_t n_argv = 5;
    size_t kept = 0;
    for (size_t i = 0; i < n_files; i++) {
        if (!expect_file(files[i], store, NULL, &exp[kept])) {
            free(files[i]); /* not a bundle */
            continue;
        }
        files[kept] = files[i];
        argv[n_argv++] = files[kept];
        kept++;
    }
    argv[n_argv] = NULL;
    assert_true(kept >= 17);

    struct h_proc p;
    assert_true(h_ctixv(&p, 300, argv));
    if (p.code != 0)
        fail_msg("import of the valid bundles: exit %d\nstdout: %s\nstderr: %.3000s", p.code, p.out,
                 p.err);
    for (size_t i = 0; i < kept; i++)
        check_summary(p.out, files[i], &exp[i]);
    h_proc_cleanup(&p);

    /* The TLP 2.0 example with its malformed created: that relationship alone is rejected. */
    char green[PATH_MAX];
    struct expect eg;
    snprintf(green, sizeof green, "%s/tlp-markings/using-tlp2.0-green.json", shared);
    assert_true(
        expect_file(green, store, "relationship--1621d4d4-b67d-11e3-9670-f01faf20d111", &eg));
    assert_int_equal(eg.rejected, 1);
    assert_true(h_ctix(&p, "import", "--data", W->node.data, "--collection", coll, green, NULL));
    if (p.code != 1)
        fail_msg("import of using-tlp2.0-green.json: exit %d, expected 1\nstderr: %s", p.code,
                 p.err);
    check_summary(p.out, green, &eg);
    if (strstr(p.err, "created") == NULL)
        fail_msg("the rejection should say what is wrong (created): %s", p.err);
    h_proc_cleanup(&p);

    /* Export gives back every stored object, equal as JSON to its input, and the attestations
     * ctix import made: every object version it stored is signed by the node, and every
     * attestation names one of them. */
    json_t *b = export_bundle(coll, NULL);
    json_t *objs = json_object_get(b, "objects");
    json_t *seen = json_object(), *named = json_object(), *att_ids = json_object();
    size_t i, n_plain = 0;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        char key[512];
        if (strcmp(js(json_object_get(o, "type")), "x-ctix-attestation") == 0) {
            json_t *ver = json_object_get(o, "object_modified");
            snprintf(key, sizeof key, "%s|%s", js(json_object_get(o, "object_ref")), js(ver));
            if (json_object_get(store, key) == NULL)
                fail_msg("attestation of %s, which was not imported", key);
            assert_string_equal(js(json_object_get(o, "statement")), "publish");
            assert_string_equal(js(json_object_get(o, "publisher")), "node");
            json_object_set_new(named, key, json_true());
            json_object_set_new(att_ids, js(json_object_get(o, "id")), json_true());
            continue;
        }
        n_plain++;
        obj_key(o, key, sizeof key);
        json_t *want = json_object_get(store, key);
        if (want == NULL)
            fail_msg("exported object %s was not imported", key);
        if (!json_equal(want, o)) {
            char *a = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
            char *c = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
            fail_msg("exported %s differs:\nin:  %.1500s\nout: %.1500s", key, a, c);
        }
        assert_null(json_object_get(seen, key));
        json_object_set_new(seen, key, json_true());
    }
    if (n_plain != json_object_size(store))
        fail_msg("export has %zu objects, %zu were stored", n_plain, json_object_size(store));
    /* One attestation object per stored version (signing it again makes a new version of the
     * same attestation, never a second one). */
    if (json_object_size(named) != json_object_size(store) ||
        json_object_size(att_ids) != json_object_size(store))
        fail_msg("%zu attestations name %zu of the %zu stored object versions",
                 json_object_size(att_ids), json_object_size(named), json_object_size(store));
    json_decref(seen);
    json_decref(named);
    json_decref(att_ids);
    json_decref(b);

    /* --type keeps that type only. */
    static const char *const types[] = {"relationship", "x-mitre-tactic", "marking-definition"};
    for (size_t t = 0; t < 3; t++) {
        size_t want = 0;
        const char *k;
        json_object_foreach(store, k, o) want +=
            strcmp(js(json_object_get(o, "type")), types[t]) == 0;
        assert_true(want > 0);
        b = export_bundle(coll, types[t]);
        objs = json_object_get(b, "objects");
        if (json_array_size(objs) != want)
            fail_msg("export --type %s: %zu objects, expected %zu", types[t], json_array_size(objs),
                     want);
        json_array_foreach(objs, i, o)
            assert_string_equal(js(json_object_get(o, "type")), types[t]);
        json_decref(b);
    }

    /* Importing it all again stores nothing new. */
    assert_true(h_ctixv(&p, 300, argv));
    assert_int_equal(p.code, 0);
    for (size_t f = 0; f < kept; f++) {
        struct expect again = {0, exp[f].stored + exp[f].present, 0};
        check_summary(p.out, files[f], &again);
    }
    h_proc_cleanup(&p);

    json_decref(store);
    for (size_t f = 0; f < kept; f++)
        free(files[f]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_runtime_errors),
        cmocka_unit_test(test_serve_port_in_use),
        cmocka_unit_test(test_key_add_prints_only_a_token),
        cmocka_unit_test(test_collection_add_prints_the_id),
        cmocka_unit_test(test_import_export_round_trip),
    };
    return cmocka_run_group_tests_name("cli", tests, setup, NULL);
}
