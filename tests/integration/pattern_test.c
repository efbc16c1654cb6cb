/* The pattern engine from outside: `ctix pattern check` (exit codes, the message with its column
 * and the caret line), `ctix pattern match` over bundles written here, an envelope POSTed to a
 * running server with one valid and one invalid indicator (the invalid one fails with the
 * parser's message and is not stored), and `ctix pattern indicators` listing exactly the
 * indicators of a collection that the observations match. */
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
    char coll[H_UUID_MAX];   /* POST target */
    char coll2[H_UUID_MAX];  /* `pattern indicators` */
    char token[H_TOKEN_MAX]; /* an analyst of the node's own organisation: it reads unmarked
                                (AMBER) objects under the default policy */
    char obs1[PATH_MAX + 16], obs2[PATH_MAX + 16], bad[PATH_MAX + 16], odd[PATH_MAX + 16];
};

static struct world *W;

static bool write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    bool ok = f != NULL && fputs(text, f) >= 0;

    if (f != NULL && fclose(f) != 0)
        ok = false;
    return ok;
}

#define OD1 "observed-data--aaaaaaaa-0000-4000-8000-000000000001"
#define OD2 "observed-data--aaaaaaaa-0000-4000-8000-000000000002"
#define OD3 "observed-data--aaaaaaaa-0000-4000-8000-000000000003"
#define IP1 "ipv4-addr--bbbbbbbb-0000-4000-8000-000000000001"
#define DN1 "domain-name--bbbbbbbb-0000-4000-8000-000000000002"
#define XT1 "x-test--bbbbbbbb-0000-4000-8000-000000000003"

/* An observed-data at time T (seconds of 2024-01-01T00:00:SS) referring to refs. */
#define OBSERVED(id, ss, refs)                                                                     \
    "{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"" id "\","                      \
    "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","          \
    "\"first_observed\":\"2024-01-01T00:00:" ss "Z\",\"last_observed\":\"2024-01-01T00:00:" ss     \
    "Z\",\"number_observed\":1,\"object_refs\":[" refs "]}"

static const char obs1_json[] =
    "{\"type\":\"bundle\",\"id\":\"bundle--cccccccc-0000-4000-8000-000000000001\",\"objects\":["
    "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"" IP1 "\",\"value\":\"10.0.0.1\"},"
    "\n" OBSERVED(OD1, "10", "\"" IP1 "\"") "]}\n";

static const char obs2_json[] =
    "{\"type\":\"bundle\",\"id\":\"bundle--cccccccc-0000-4000-8000-000000000002\",\"objects\":["
    "{\"type\":\"domain-name\",\"spec_version\":\"2.1\",\"id\":\"" DN1
    "\",\"value\":\"evil.example\"}," OBSERVED(
        OD2, "20", "\"" DN1 "\"") ","
                                  "{\"type\":\"x-test\",\"id\":\"" XT1
                                  "\",\"foo\":\"bar\"}," OBSERVED(OD3, "30", "\"" XT1 "\"") "]}\n";

static int setup(void **state)
{
    static struct world w;
    struct h_node *n = &w.node;

    memset(&w, 0, sizeof w);
    if (!h_node_init(n, "node") || !h_node_collection(n, "Patterns", "pat", NULL, w.coll) ||
        !h_node_collection(n, "Indicators", "ind", NULL, w.coll2) ||
        !h_node_grant(n, w.coll, "node", true, true) || !h_node_key(n, "node", "analyst", w.token))
        return -1;
    snprintf(w.obs1, sizeof w.obs1, "%s/obs1.json", n->dir);
    snprintf(w.obs2, sizeof w.obs2, "%s/obs2.json", n->dir);
    snprintf(w.bad, sizeof w.bad, "%s/bad.json", n->dir);
    snprintf(w.odd, sizeof w.odd, "%s/odd.json", n->dir);
    if (!write_file(w.obs1, obs1_json) || !write_file(w.obs2, obs2_json) ||
        !write_file(w.bad, "{\"type\":\"bundle\",\n  \"objects\": [1,]}\n") ||
        /* An observed-data without number_observed. */
        !write_file(w.odd, "{\"type\":\"bundle\",\"id\":\"bundle--cccccccc-0000-4000-8000-"
                           "000000000003\",\"objects\":[{\"type\":\"observed-data\",\"id\":\"" OD1
                           "\",\"first_observed\":\"2024-01-01T00:00:00Z\",\"last_observed\":"
                           "\"2024-01-01T00:00:00Z\",\"object_refs\":[]}]}"))
        return -1;
    if (!h_server_start(&w.srv, n, NULL, NULL))
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

/* ---- ctix pattern check ---- */

struct cli_case {
    const char *argv[8]; /* "@1" "@2" obs files, "@B" bad JSON, "@O" bad observed-data,
                            "@M" missing file, "@D" data dir, "@C" collection */
    int code;
    const char *out; /* must appear in stdout, or NULL */
    const char *err; /* must appear in stderr, or NULL */
};

static const struct cli_case check_cases[] = {
    {{"pattern", "check", "[ipv4-addr:value = '198.51.100.1']"}, 0, "valid", NULL},
    {{"pattern", "check",
      "[file:hashes.'SHA-256' = "
      "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"},
     0,
     "valid",
     NULL},
    {{"pattern", "check", "[ipv4-addr:value = '198.51.100.1'"}, 1, NULL, "pattern:1:"},
    {{"pattern", "check", "[ipv4-addr:value = ]"}, 1, NULL, "pattern:1:20: "},
    {{"pattern", "check", "[ipv4-addr:value = 'a'] WITHIN 0 SECONDS"}, 1, NULL, "pattern:1:"},
    /* Unknown SCO type: invalid for ingest, only the grammar with --syntax. */
    {{"pattern", "check", "[foo:bar = 'a']"}, 1, NULL, "pattern:1:"},
    {{"pattern", "check", "--syntax", "[foo:bar = 'a']"}, 0, "valid", NULL},
    {{"pattern", "check", "--syntax", "[foo:bar = ]"}, 1, NULL, "pattern:1:"},
    /* Usage. */
    {{"pattern", "check"}, 2, NULL, "missing PATTERN"},
    {{"pattern", "check", "[a:b = 'c']", "[a:b = 'd']"}, 2, NULL, "one PATTERN"},
    {{"pattern", "check", "--frob", "[a:b = 'c']"}, 2, NULL, "--frob"},
    {{"pattern"}, 2, NULL, "missing sub-command"},
    {{"pattern", "frob"}, 2, NULL, "unknown sub-command 'frob'"},
    /* ---- match ---- */
    {{"pattern", "match", "[ipv4-addr:value = '10.0.0.1']", "@1", "@2"},
     0,
     "matched\n" OD1 "\n",
     NULL},
    {{"pattern", "match",
      "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [domain-name:value = "
      "'evil.example']",
      "@1", "@2"},
     0,
     "matched\n" OD1 "\n" OD2 "\n",
     NULL},
    {{"pattern", "match",
      "[domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = "
      "'10.0.0.1']",
      "@1", "@2"},
     1,
     "not matched",
     NULL},
    {{"pattern", "match", "[ipv4-addr:value = '10.0.0.2']", "@1", "@2"}, 1, "not matched", NULL},
    /* Custom types are fine here: only the grammar is checked. */
    {{"pattern", "match", "[x-test:foo = 'bar']", "@2"}, 0, "matched\n" OD3 "\n", NULL},
    {{"pattern", "match", "[ipv4-addr:value = '10.0.0.1']", "@1", "@M"}, 2, NULL, "missing.json"},
    {{"pattern", "match", "[ipv4-addr:value = '10.0.0.1']", "@B"}, 2, NULL, "bad.json:2:"},
    {{"pattern", "match", "[ipv4-addr:value = '10.0.0.1']", "@O"}, 2, NULL, OD1},
    {{"pattern", "match", "[ipv4-addr:value = ", "@1"}, 2, NULL, "pattern:1:"},
    {{"pattern", "match", "[ipv4-addr:value = '10.0.0.1']"}, 2, NULL, "missing OBSERVED.json"},
    {{"pattern", "indicators", "@1"}, 2, NULL, "missing --data"},
    {{"pattern", "indicators", "--data", "@D", "@1"}, 2, NULL, "missing --collection"},
    {{"pattern", "indicators", "--data", "@D", "--collection", "nope", "@1"},
     2,
     NULL,
     "no collection 'nope'"},
};

static void run_case(const struct cli_case *c)
{
    const char *argv[9];
    char missing[PATH_MAX + 16], line[1024] = "";
    struct h_proc p;
    size_t i = 0;

    snprintf(missing, sizeof missing, "%s/missing.json", W->node.dir);
    for (; i < 8 && c->argv[i] != NULL; i++) {
        const char *a = c->argv[i];

        argv[i] = strcmp(a, "@1") == 0   ? W->obs1
                  : strcmp(a, "@2") == 0 ? W->obs2
                  : strcmp(a, "@B") == 0 ? W->bad
                  : strcmp(a, "@O") == 0 ? W->odd
                  : strcmp(a, "@M") == 0 ? missing
                  : strcmp(a, "@D") == 0 ? W->node.data
                  : strcmp(a, "@C") == 0 ? W->coll2
                                         : a;
        strncat(line, " ", sizeof line - strlen(line) - 1);
        strncat(line, argv[i], sizeof line - strlen(line) - 1);
    }
    argv[i] = NULL;
    if (!h_ctixv(&p, 20, argv))
        fail_msg("ctix%s did not run", line);
    if (p.code != c->code || (c->out != NULL && strstr(p.out, c->out) == NULL) ||
        (c->err != NULL && strstr(p.err, c->err) == NULL))
        fail_msg("ctix%s: exit %d (want %d)\nstdout: %s\nstderr: %s\nwanted out '%s' err '%s'",
                 line, p.code, c->code, p.out, p.err, c->out ? c->out : "", c->err ? c->err : "");
    h_proc_cleanup(&p);
}

static void test_cli_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++)
        run_case(&check_cases[i]);
}

/* The message names line and column, then comes the pattern's line and a caret right under the
 * column, counted in characters (the 'é' is two bytes, one column). */
static void test_check_caret(void **state)
{
    const char *pat = "[file:name = 'é' AND file:size >> 3]";
    struct h_proc p;
    unsigned line = 0, col = 0;
    char *l2, *l3;

    (void)state;
    assert_true(h_ctix(&p, "pattern", "check", pat, NULL));
    assert_int_equal(p.code, 1);
    if (sscanf(p.err, "pattern:%u:%u:", &line, &col) != 2)
        fail_msg("no pattern:LINE:COL: %s", p.err);
    assert_int_equal(line, 1);
    assert_int_equal(col, 33); /* the second '>' */
    l2 = strchr(p.err, '\n');
    assert_non_null(l2);
    l2++;
    assert_true(strncmp(l2, pat, strlen(pat)) == 0);
    l3 = strchr(l2, '\n');
    assert_non_null(l3);
    l3++;
    for (unsigned i = 0; i + 1 < col; i++)
        assert_int_equal(l3[i], ' ');
    assert_int_equal(l3[col - 1], '^');
    h_proc_cleanup(&p);
}

/* "-" reads the pattern from standard input. */
static void test_check_stdin(void **state)
{
    const char *bin = getenv("CTIX_BIN") ? getenv("CTIX_BIN") : "build/rel/ctix";
    char cmd[PATH_MAX + 200];

    (void)state;
    snprintf(cmd, sizeof cmd,
             "printf \"[url:value = 'http://a.example/']\\n\" | %s pattern check - >/dev/null",
             bin);
    assert_true(h_sh(cmd));
    snprintf(cmd, sizeof cmd,
             "printf \"[url:value = \\n\" | %s pattern check - 2>/dev/null >/dev/null; "
             "test $? -eq 1",
             bin);
    assert_true(h_sh(cmd));
}

/* ---- ingest ---- */

static char *indicator(const char *id, const char *name, const char *pattern, const char *ptype)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
                          "spec_version", "2.1", "id", id, "created", "2024-01-01T00:00:00.000Z",
                          "modified", "2024-01-01T00:00:00.000Z", "name", name, "pattern", pattern,
                          "pattern_type", ptype, "valid_from", "2024-01-01T00:00:00Z");
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    assert_non_null(s);
    return s;
}

static void test_post_invalid_pattern(void **state)
{
    char good[80], bad[80], path[200];
    char *g, *b, *env;
    struct h_resp r, o;
    json_t *fails, *objs;
    const char *msg;

    (void)state;
    h_stix_id("indicator", good);
    h_stix_id("indicator", bad);
    g = indicator(good, "good", "[ipv4-addr:value = '10.0.0.1']", "stix");
    b = indicator(bad, "bad", "[ipv4-addr:value = '10.0.0.1' AND ]", "stix");
    env = h_envelope(g, b, NULL);
    snprintf(path, sizeof path, "/api/collections/%s/objects/", W->coll);
    assert_true(h_post(&W->srv, W->token, path, env, &r));
    H_ASSERT_TAXII(&r, 202);
    assert_int_equal(json_integer_value(json_object_get(r.json, "success_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(r.json, "failure_count")), 1);
    fails = json_object_get(r.json, "failures");
    assert_int_equal(json_array_size(fails), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(fails, 0), "id")), bad);
    msg = json_string_value(json_object_get(json_array_get(fails, 0), "message"));
    if (msg == NULL || strstr(msg, "pattern: column 35: ") != msg)
        fail_msg("the failure should give the pattern's column: %s", r.body);

    assert_true(h_getf(&W->srv, W->token, &o, "/api/collections/%s/objects/?match[type]=indicator",
                       W->coll));
    H_ASSERT_TAXII(&o, 200);
    objs = json_object_get(o.json, "objects");
    assert_int_equal(json_array_size(objs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 0), "id")), good);
    h_resp_cleanup(&o);
    /* Only the stored one was signed. */
    assert_true(h_getf(&W->srv, W->token, &o,
                       "/api/collections/%s/objects/?match[type]=x-ctix-attestation", W->coll));
    H_ASSERT_TAXII(&o, 200);
    objs = json_object_get(o.json, "objects");
    assert_int_equal(json_array_size(objs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 0), "object_ref")),
                        good);
    h_resp_cleanup(&o);
    h_resp_cleanup(&r);
    free(env);
    free(g);
    free(b);
}

/* ---- pattern indicators ---- */

/* What `pattern indicators` prints for a field: tab, line breaks and backslash escaped. */
static void escaped(const char *s, char *out, size_t n)
{
    size_t o = 0;

    for (; *s != '\0' && o + 3 < n; s++) {
        const char *e = *s == '\t'   ? "\\t"
                        : *s == '\n' ? "\\n"
                        : *s == '\r' ? "\\r"
                        : *s == '\\' ? "\\\\"
                                     : NULL;

        if (e != NULL) {
            out[o++] = e[0];
            out[o++] = e[1];
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

static void test_indicators(void **state)
{
    static const struct {
        const char *name, *pattern, *ptype;
        bool match;
    } inds[] = {
        {"ip", "[ipv4-addr:value = '10.0.0.1']", "stix", true},
        {"ip other", "[ipv4-addr:value = '10.0.0.2']", "stix", false},
        {"domain set", "[domain-name:value IN ('a.example', 'evil.example')]", "stix", true},
        {"either", "[ipv4-addr:value = '10.9.9.9' OR domain-name:value = 'evil.example']", "stix",
         true},
        {"subnet", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "stix", true},
        {"subnet other", "[ipv4-addr:value ISSUBSET '192.168.0.0/16']", "stix", false},
        {"sequence",
         "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [domain-name:value = 'evil.example']", "stix",
         true},
        {"reverse",
         "[domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.1']", "stix",
         false},
        {"sigma", "title: x", "sigma", false},
        /* A tab in the name and a line break in the pattern (any whitespace separates tokens)
         * are printed escaped: one indicator stays one line of three fields. */
        {"tab\there", "[ipv4-addr:value = '10.0.0.1'\nOR ipv4-addr:value = '10.0.0.3']", "stix",
         true},
    };
    enum { N = sizeof inds / sizeof inds[0] };
    char ids[N][80], file[PATH_MAX + 16], want[8192] = "";
    char *texts[N + 1];
    struct h_proc p;
    FILE *f;

    (void)state;
    snprintf(file, sizeof file, "%s/inds.json", W->node.dir);
    f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\"type\":\"bundle\",\"id\":\"bundle--dddddddd-0000-4000-8000-000000000001\","
          "\"objects\":[",
          f);
    for (size_t i = 0; i < N; i++) {
        h_stix_id("indicator", ids[i]);
        texts[i] = indicator(ids[i], inds[i].name, inds[i].pattern, inds[i].ptype);
        fprintf(f, "%s%s", i > 0 ? "," : "", texts[i]);
        if (inds[i].match) {
            char line[2048], name[128], pat[400];

            escaped(inds[i].name, name, sizeof name);
            escaped(inds[i].pattern, pat, sizeof pat);
            snprintf(line, sizeof line, "%s\t%s\t%s\n", ids[i], name, pat);
            strncat(want, line, sizeof want - strlen(want) - 1);
        }
        free(texts[i]);
    }
    fputs("]}\n", f);
    assert_int_equal(fclose(f), 0);
    assert_true(h_ctix(&p, "import", "--data", W->node.data, "--collection", W->coll2, file, NULL));
    if (p.code != 0)
        fail_msg("import: %s", p.err);
    h_proc_cleanup(&p);

    assert_true(h_ctix(&p, "pattern", "indicators", "--data", W->node.data, "--collection",
                       W->coll2, W->obs1, W->obs2, NULL));
    if (p.code != 0 || strcmp(p.out, want) != 0)
        fail_msg("exit %d\ngot:\n%s\nwant:\n%s\nstderr: %s", p.code, p.out, want, p.err);
    h_proc_cleanup(&p);

    /* Only the first file: the domain is not there, nothing but the address matches. */
    assert_true(h_ctix(&p, "pattern", "indicators", "--data", W->node.data, "--collection", "ind",
                       W->obs1, NULL));
    assert_int_equal(p.code, 0);
    assert_int_equal(h_count_lines(p.out, "\t"), 3); /* ip, subnet, the escaped one */
    assert_non_null(strstr(p.out, ids[0]));
    assert_non_null(strstr(p.out, ids[4]));
    assert_non_null(strstr(p.out, "tab\\there\t[ipv4-addr:value = '10.0.0.1'\\nOR "));
    h_proc_cleanup(&p);

    /* The POST collection holds one indicator, for 10.0.0.1: none for the domain alone. */
    {
        char only2[PATH_MAX + 16];

        snprintf(only2, sizeof only2, "%s/only2.json", W->node.dir);
        assert_true(write_file(only2, obs2_json));
        assert_true(h_ctix(&p, "pattern", "indicators", "--data", W->node.data, "--collection",
                           W->coll, only2, NULL));
        assert_int_equal(p.code, 1);
        assert_int_equal(p.out_len, 0);
        h_proc_cleanup(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_cases),   cmocka_unit_test(test_check_caret),
        cmocka_unit_test(test_check_stdin), cmocka_unit_test(test_post_invalid_pattern),
        cmocka_unit_test(test_indicators),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
