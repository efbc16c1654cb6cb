/* pattern_obs_new_text against stix_json_parse + pattern_obs_new: the same answers and bindings
 * on every case of testdata/eval_cases.json and every matcher conformance vector (three ways of
 * writing the text: a bare list, an envelope with \u escapes, a bundle), the same acceptance and
 * diag (message, line, column) on malformed JSON, and the observation errors. */
#include "pattern/pattern.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pattern/pattern_int.h"
#include "stix/stix.h"

/* One evaluation, flattened for comparison: rc, matched and the bound observed-data ids. */
struct answer {
    enum ctix_rc rc;
    bool matched;
    char ids[512];
};

static void answer_of(const struct pattern *p, const struct pattern_obs *o, struct answer *a)
{
    struct pattern_result res;
    struct ctix_diag d;
    size_t off = 0;

    memset(a, 0, sizeof(*a));
    a->rc = pattern_eval(p, o, &res, &d);
    a->matched = res.matched;
    for (size_t i = 0; i < res.n_bound && off < sizeof(a->ids); i++) {
        int n =
            snprintf(a->ids + off, sizeof(a->ids) - off, "%s ", pattern_obs_id(o, res.bound[i]));

        if (n < 0)
            break;
        off += (size_t)n;
    }
    pattern_result_cleanup(&res);
}

static const char *shared_dir(void)
{
    const char *s = getenv("CTIX_SHARED");

    return s != NULL ? s : "../shared/data";
}

/* The observations of objs built the jansson way and from three texts of it. */
struct sets {
    struct pattern_obs *j, *t[3];
};

static void sets_build(const json_t *objs, const struct pattern *p, struct sets *s)
{
    struct ctix_diag d;
    json_t *env = json_pack("{s:O}", "objects", objs);
    json_t *bun = json_pack("{s:s,s:s,s:O}", "type", "bundle", "id",
                            "bundle--00000000-0000-4000-8000-000000000000", "objects", objs);
    char *texts[3];

    texts[0] = json_dumps(objs, JSON_COMPACT);
    texts[1] = json_dumps(env, JSON_ENSURE_ASCII | JSON_INDENT(1));
    texts[2] = json_dumps(bun, 0);
    if (pattern_obs_new(objs, &s->j, &d) != CTIX_OK)
        fail_msg("pattern_obs_new: %s", d.msg);
    for (int i = 0; i < 3; i++) {
        assert_non_null(texts[i]);
        if (pattern_obs_new_text(texts[i], strlen(texts[i]), i == 1 ? NULL : p, &s->t[i], &d) !=
            CTIX_OK)
            fail_msg("pattern_obs_new_text (form %d): %s", i, d.msg);
        assert_int_equal(pattern_obs_count(s->t[i]), pattern_obs_count(s->j));
        for (size_t k = 0; k < pattern_obs_count(s->j); k++)
            assert_string_equal(pattern_obs_id(s->t[i], k), pattern_obs_id(s->j, k));
        free(texts[i]);
    }
    json_decref(env);
    json_decref(bun);
}

static void sets_free(struct sets *s)
{
    pattern_obs_free(s->j);
    for (int i = 0; i < 3; i++)
        pattern_obs_free(s->t[i]);
}

/* Parses pat and checks that all four sets give the same answer; counts the comparisons. */
static size_t same_answers(const json_t *objs, const char *pat)
{
    struct pattern *p = NULL;
    struct ctix_diag d;
    struct sets s;
    struct answer want, got;

    if (pattern_parse(pat, strlen(pat), PATTERN_SYNTAX, &p, &d) != CTIX_OK)
        return 0;
    sets_build(objs, p, &s);
    answer_of(p, s.j, &want);
    for (int i = 0; i < 3; i++) {
        answer_of(p, s.t[i], &got);
        if (got.rc != want.rc || got.matched != want.matched || strcmp(got.ids, want.ids) != 0)
            fail_msg("%s (form %d): text path rc %d matched %d [%s], jansson path rc %d matched "
                     "%d [%s]",
                     pat, i, got.rc, got.matched, got.ids, want.rc, want.matched, want.ids);
    }
    sets_free(&s);
    pattern_free(p);
    return 1;
}

/* ---- equivalence ---- */

static void test_eval_cases(void **state)
{
    json_error_t err;
    json_t *doc = json_load_file("src/pattern/testdata/eval_cases.json", 0, &err);
    const json_t *c;
    size_t i, n = 0;

    (void)state;
    if (doc == NULL)
        fail_msg("eval_cases.json: line %d: %s", err.line, err.text);
    json_array_foreach(json_object_get(doc, "cases"), i, c)
    {
        const char *b = json_string_value(json_object_get(c, "b"));
        const json_t *objs = json_object_get(json_object_get(doc, "bundles"), b);

        assert_non_null(objs);
        n += same_answers(objs, json_string_value(json_object_get(c, "p")));
    }
    assert_true(n > 100);
    printf("eval cases compared: %zu\n", n);
    json_decref(doc);
}

static void test_vectors(void **state)
{
    char path[1024];
    json_error_t err;
    json_t *doc;
    const json_t *m;
    size_t mi, n = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/derived-test-vectors/pattern-matcher-v21-vectors.json",
             shared_dir());
    doc = json_load_file(path, 0, &err);
    if (doc == NULL) {
        skip();
        return;
    }
    json_array_foreach(json_object_get(doc, "modules"), mi, m)
    {
        json_t *objs = json_array();
        const json_t *b, *t;
        size_t bi, ti;

        json_array_foreach(json_object_get(m, "observations"), bi, b)
        {
            json_array_extend(objs, json_object_get(b, "objects"));
        }
        json_array_foreach(json_object_get(m, "tests"), ti, t)
        {
            const char *params = json_string_value(json_object_get(t, "params"));
            const json_t *c;
            size_t ci;

            json_array_foreach(json_object_get(t, "cases"), ci, c)
            {
                if (strcmp(params, "pattern") == 0)
                    n += same_answers(objs, json_string_value(c));
                else if (strcmp(params, "pattern,expected_ids") == 0)
                    n += same_answers(objs, json_string_value(json_array_get(c, 0)));
            }
        }
        json_decref(objs);
    }
    assert_true(n > 300);
    printf("vector cases compared: %zu\n", n);
    json_decref(doc);
}

/* ---- JSON acceptance ---- */

/* Malformed texts: each must be refused by both with the same diag. */
static const char *const bad_json[] = {
    "",
    "   ",
    "[",
    "[1,",
    "[1,]",
    "{\"objects\":[}",
    "{\"a\" 1}",
    "{\"a\":1,}",
    "{,}",
    "{'a':1}",
    "[\"abc",
    "[\"a\\x\"]",
    "[\"\\u12\"]",
    "[\"\\u00zz\"]",
    "[\"\\u0000\"]",
    "[\"\\udc00\"]",
    "[\"\\ud800\"]",
    "[\"\\ud800\\u0041\"]",
    "[\"\\ud800\\uzzzz\"]",
    "[\"a\nb\"]",
    "[\"a\tb\"]",
    "[\"\x80\"]",
    "[\"\xc0\xaf\"]",
    "[\"\xed\xa0\x80\"]",
    "[\"\xf4\x90\x80\x80\"]",
    "[\"\xe2\x82\"]",
    "[01]",
    "[-]",
    "[1.]",
    "[.5]",
    "[1e]",
    "[1e+]",
    "[+1]",
    "[9223372036854775808]",
    "[-9223372036854775809]",
    "[1e999]",
    "[-1e400]",
    "[tru]",
    "[nul]",
    "[falsy]",
    "[NaN]",
    "[1] x",
    "[1] [2]",
    "{\"a\":1,\"a\":2}",
    "{\"objects\":[{\"type\":\"x\",\"id\":\"a\",\"type\":\"y\"}]}",
    "{\"a\":1,\"\\u0061\":2}",
    "{\"a\":{\"b\":1,\"b\":{}}}",
    "\xef\xbb\xbf[]",
    "[\"\xc3\xa9\" \"x\"]",
    "[\n1,\n2,\n\"\\q\"]",
    /* The "key":"value","key": run and the list of strings are read on a short path. */
    "{\"a\":\"b\",\"a\":\"c\"}",
    "{\"a\":\"b\",\"c\":\"d\",\"a\":1}",
    "{\"a\":\"b\",}",
    "{\"a\":\"b\",\"c\"}",
    "{\"a\":\"b\",\"c\":}",
    "{\"a\":\"b\",\"c",
    "{\"a\":\"b\"\"c\":\"d\"}",
    "{\"a\":\"b\x01\",\"c\":\"d\"}",
    "{\"a\":\"b\",\"c\x80\":\"d\"}",
    "[\"a\",\"b\",]",
    "[\"a\",,\"b\"]",
    "[\"a\",\"b\"}",
    "[\"a\",\"b",
    "{\"a\":[\"x\",\"y\"],\"b\":\"c\",\"a\":\"d\"}",
};

/* Texts that both must accept (and give the same observations). */
static const char *const good_json[] = {
    "[]",
    "{}",
    " \t\r\n[ ] ",
    "{\"objects\":[]}",
    "[\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\b\\f\\r\\t\"]",
    "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]",
    "[9223372036854775807,-9223372036854775808,-0,0.5e-3,1E+2,1e-400]",
    "[true,false,null,{\"a\":{\"b\":[]}}]",
    "{\"a\":1,\"A\":2,\"a \":3,\"\\u0062\":4,\"b \":5}",
    "{\"a\":\"b\",\"c\":\"d\" ,\"e\":\"f\", \"g\":[\"x\",\"y\" ,\"z\", \"w\"],\"h\":\"\\u0069\"}",
    "[\"a\",\"b\",{\"c\":\"d\",\"e\":[\"f\",1,\"g\",{}]},\"h\"]",
};

static void check_same_acceptance(const char *text, size_t len)
{
    json_t *j = NULL;
    struct ctix_diag dj, dt;
    struct pattern_obs *o = NULL;
    enum ctix_rc rj, rt;

    memset(&dj, 0, sizeof(dj));
    memset(&dt, 0, sizeof(dt));
    rj = stix_json_parse(text, len, &j, &dj);
    rt = pattern_obs_new_text(text, len, NULL, &o, &dt);
    if (rj != CTIX_OK) {
        if (rt != rj)
            fail_msg("'%.60s': stix_json_parse rc %d, pattern_obs_new_text rc %d", text, rj, rt);
        assert_null(o);
        assert_string_equal(dt.msg, dj.msg);
        assert_int_equal(dt.line, dj.line);
        assert_int_equal(dt.col, dj.col);
    } else {
        /* Accepted as JSON: only the shape of the root may still refuse it, like the caller of
         * pattern_obs_new would. */
        bool list = json_is_array(j) ||
                    (json_is_object(j) && (json_object_get(j, "objects") == NULL ||
                                           json_is_array(json_object_get(j, "objects"))));

        if (list && rt != CTIX_OK)
            fail_msg("'%.60s': accepted by stix_json_parse, not by the scanner: %s", text, dt.msg);
        if (!list)
            assert_int_equal(rt, CTIX_EINVAL);
    }
    pattern_obs_free(o);
    json_decref(j);
}

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
        json_t *j = NULL;
        struct ctix_diag d;
        size_t len = strlen(bad_json[i]);
        if (stix_json_parse(bad_json[i], len, &j, &d) == CTIX_OK)
            fail_msg("fixture %zu is valid JSON: %s", i, bad_json[i]);
        check_same_acceptance(bad_json[i], len);
    }
    for (size_t i = 0; i < sizeof(good_json) / sizeof(good_json[0]); i++) {
        struct pattern_obs *o = NULL;
        struct ctix_diag d;

        if (pattern_obs_new_text(good_json[i], strlen(good_json[i]), NULL, &o, &d) != CTIX_OK)
            fail_msg("good fixture %zu refused: %s (%s)", i, good_json[i], d.msg);
        pattern_obs_free(o);
        check_same_acceptance(good_json[i], strlen(good_json[i]));
    }
}

static void test_nul_after_value(void **state)
{
    (void)state;
    check_same_acceptance("[1]\0", 4);
    check_same_acceptance("[7\0]", 4);
    check_same_acceptance("[\"a\0\"]", 6);
}

/* Nesting around the limit, and objects past the pairwise duplicate check. */
static void test_depth_and_width(void **state)
{
    static const size_t depths[] = {1, 100, 2046, 2047, 2048, 2049, 5000};
    struct buf b;

    (void)state;
    buf_init(&b, 1 << 20);
    for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
        buf_reset(&b);
        for (size_t k = 0; k < depths[i]; k++)
            assert_int_equal(buf_append(&b, "[", 1), CTIX_OK);
        for (size_t k = 0; k < depths[i]; k++)
            assert_int_equal(buf_append(&b, "]", 1), CTIX_OK);
        check_same_acceptance(b.data, b.len);
        /* Unclosed: the error is at the end whatever the depth. */
        check_same_acceptance(b.data, depths[i]);
    }
    /* Widths around the scanner's incremental duplicate check (16 keys) and its sorted one; the
     * duplicate (escaped, so only decoding reveals it) early, late or absent; a nested object
     * with its parent's keys is no duplicate. */
    static const int widths[] = {1, 2, 15, 16, 17, 40};
    static const int dups[] = {-1, 0, 1, 14, 15, 16, 39};
    for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
        for (size_t dk = 0; dk < sizeof(dups) / sizeof(dups[0]); dk++) {
            for (int nested = 0; nested < 2; nested++) {
                char m[48];
                int n;

                if (dups[dk] >= widths[w])
                    continue;
                buf_reset(&b);
                assert_int_equal(buf_append(&b, "{", 1), CTIX_OK);
                for (int k = 0; k < widths[w]; k++) {
                    n = snprintf(m, sizeof(m), "%s\"k%d\":%s%d%s", k ? "," : "", k,
                                 nested && k == 1 ? "{\"k0\":1,\"k1\":" : "", k,
                                 nested && k == 1 ? "}" : "");
                    assert_int_equal(buf_append(&b, m, (size_t)n), CTIX_OK);
                }
                if (dups[dk] >= 0) {
                    n = snprintf(m, sizeof(m), ",\"\\u006b%d\":1", dups[dk]);
                    assert_int_equal(buf_append(&b, m, (size_t)n), CTIX_OK);
                }
                assert_int_equal(buf_append(&b, "}", 1), CTIX_OK);
                check_same_acceptance(b.data, b.len);
            }
        }
    }
    buf_cleanup(&b);
}

/* ---- observations ---- */

static const char od_head[] =
    "[{\"type\":\"observed-data\",\"id\":\"observed-data--1\",\"first_observed\":"
    "\"2020-01-01T00:00:00Z\",\"last_observed\":\"2020-01-01T00:00:01Z\",\"number_observed\":1,"
    "\"object_refs\":[\"network-traffic--1\",\"ipv4-addr--2\"]},"
    "{\"type\":\"network-traffic\",\"id\":\"network-traffic--1\",\"dst_ref\":\"ipv4-addr--2\","
    "\"dst_port\":443},"
    "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--2\",\"value\":\"198.51.100.7\"}]";

/* A set built for a pattern that follows a reference to a type it does not name. */
static void test_pattern_filter_refs(void **state)
{
    static const char pat[] = "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']";
    struct pattern *p = NULL;
    struct pattern_obs *o = NULL;
    struct ctix_diag d;
    struct answer a;

    (void)state;
    assert_int_equal(pattern_parse(pat, strlen(pat), PATTERN_STRICT, &p, &d), CTIX_OK);
    assert_int_equal(pattern_obs_new_text(od_head, strlen(od_head), p, &o, &d), CTIX_OK);
    answer_of(p, o, &a);
    assert_int_equal(a.rc, CTIX_OK);
    assert_true(a.matched);
    assert_string_equal(a.ids, "observed-data--1 ");
    pattern_obs_free(o);
    pattern_free(p);
}

/* Observation errors say the same thing on both paths. */
static const char *const bad_obs[] = {
    "[{\"type\":\"observed-data\",\"id\":\"observed-data--1\",\"last_observed\":"
    "\"2020-01-01T00:00:00Z\",\"number_observed\":1,\"object_refs\":[]}]",
    "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-02T00:00:00Z\",\"last_observed\":"
    "\"2020-01-01T00:00:00Z\",\"number_observed\":1,\"object_refs\":[]}]",
    "[{\"type\":\"observed-data\",\"id\":\"o\",\"first_observed\":\"2020-01-01T00:00:00Z\","
    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":0,\"object_refs\":[]}]",
    "[{\"type\":\"observed-data\",\"id\":\"o\",\"first_observed\":\"2020-01-01T00:00:00Z\","
    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1.0,\"object_refs\":[]}]",
    "[{\"type\":\"observed-data\",\"id\":\"o\",\"first_observed\":\"2020-01-01T00:00:00Z\","
    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,\"object_refs\":[1]}]",
    "[{\"type\":\"observed-data\",\"id\":\"o\",\"first_observed\":\"2020-01-01T00:00:00Z\","
    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,\"object_refs\":{}}]",
    "[{\"type\":\"observed-data\",\"id\":\"o\",\"first_observed\":\"2020-01-01T00:00:00Z\","
    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1}]",
    "[{\"type\":\"observed-data\",\"id\":\"o\",\"first_observed\":\"2020-01-01T00:00:00Z\","
    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,\"objects\":[]}]",
    "[{\"type\":\"observed-data\",\"id\":\"o\",\"first_observed\":\"yesterday\","
    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,\"objects\":{}}]",
};

static void test_obs_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_obs) / sizeof(bad_obs[0]); i++) {
        json_t *j = NULL;
        struct ctix_diag dj, dt;
        struct pattern_obs *o = NULL;

        assert_int_equal(stix_json_parse(bad_obs[i], strlen(bad_obs[i]), &j, &dj), CTIX_OK);
        assert_int_equal(pattern_obs_new(j, &o, &dj), CTIX_EINVAL);
        assert_null(o);
        assert_int_equal(pattern_obs_new_text(bad_obs[i], strlen(bad_obs[i]), NULL, &o, &dt),
                         CTIX_EINVAL);
        assert_null(o);
        assert_string_equal(dt.msg, dj.msg);
        json_decref(j);
    }
}

/* Roots that are JSON but not a list of objects. */
static void test_roots(void **state)
{
    static const struct {
        const char *text;
        enum ctix_rc rc;
        size_t n_obs;
    } t[] = {
        {"5", CTIX_EINVAL, 0},
        {"\"objects\"", CTIX_EINVAL, 0},
        {"{\"objects\":5}", CTIX_EINVAL, 0},
        {"{\"objects\":null}", CTIX_EINVAL, 0},
        {"{}", CTIX_OK, 0},
        {"[]", CTIX_OK, 0},
        {"[1,\"a\",null,{}]", CTIX_OK, 0},
        {od_head, CTIX_OK, 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct pattern_obs *o = NULL;
        struct ctix_diag d;

        assert_int_equal(pattern_obs_new_text(t[i].text, strlen(t[i].text), NULL, &o, &d), t[i].rc);
        assert_int_equal(pattern_obs_count(o), t[i].n_obs);
        pattern_obs_free(o);
    }
}

/* The same id twice: the last object wins on both paths; refs to one id twice count once. */
static void test_duplicate_ids(void **state)
{
    static const char text[] =
        "[{\"type\":\"observed-data\",\"id\":\"observed-data--1\",\"first_observed\":"
        "\"2020-01-01T00:00:00Z\",\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":"
        "1,\"object_refs\":[\"x-a--1\",\"x-a--1\"]},"
        "{\"type\":\"x-a\",\"id\":\"x-a--1\",\"v\":1},{\"type\":\"x-a\",\"id\":\"x-a--1\",\"v\":2}"
        "]";
    json_t *j;
    struct ctix_diag d;
    size_t n;

    (void)state;
    assert_int_equal(stix_json_parse(text, strlen(text), &j, &d), CTIX_OK);
    n = same_answers(j, "[x-a:v = 2]") + same_answers(j, "[x-a:v = 1]");
    assert_int_equal(n, 2);
    {
        struct pattern *p = NULL;
        struct pattern_obs *o = NULL;
        struct answer a;

        assert_int_equal(pattern_parse("[x-a:v = 2]", 11, 0, &p, &d), CTIX_OK);
        assert_int_equal(pattern_obs_new_text(text, strlen(text), p, &o, &d), CTIX_OK);
        assert_int_equal(o->obs[0].n_scos, 1);
        answer_of(p, o, &a);
        assert_true(a.matched);
        pattern_obs_free(o);
        pattern_free(p);
    }
    json_decref(j);
}

/* Observations of every size the builder treats apart: up to BY_KEY_MIN SCOs (references
 * resolved by a scan), up to SMALL_SORT (grouped by insertion), and above (grouped by qsort,
 * references through by_key). Each has n network-traffic objects whose dst_ref names one of n
 * ipv4-addr, listed in object_refs in an interleaved order with every id twice; each address
 * must be found through its reference, each port on its own, and nothing else. */
static void test_observation_sizes(void **state)
{
    static const size_t sizes[] = {1, 3, 4, 5, 12, 13, 30, 200};

    (void)state;
    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si];
        struct buf b;
        struct pattern_obs *o = NULL;
        struct ctix_diag d;

        buf_init(&b, 1 << 22);
        assert_int_equal(
            buf_appends(&b, "[{\"type\":\"observed-data\",\"id\":\"observed-data--1\","
                            "\"first_observed\":\"2020-01-01T00:00:00Z\",\"last_observed\":"
                            "\"2020-01-01T00:00:00Z\",\"number_observed\":1,\"object_refs\":["),
            CTIX_OK);
        for (size_t r = 0; r < 2; r++) {
            for (size_t i = 0; i < n; i++) {
                /* The ipv4 ids zigzag (0, n-1, 1, n-2…: in no order a search could lean on),
                 * the connections go forward, the two interleaved. */
                size_t z = i % 2 == 0 ? i / 2 : n - 1 - i / 2;

                assert_int_equal(buf_appendf(&b, "%s\"ipv4-addr--%zu\",\"network-traffic--%zu\"",
                                             r == 0 && i == 0 ? "" : ",", z, i),
                                 CTIX_OK);
            }
        }
        assert_int_equal(buf_appends(&b, "]}"), CTIX_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(
                buf_appendf(
                    &b,
                    ",{\"type\":\"network-traffic\",\"id\":\"network-traffic--%zu\","
                    "\"dst_ref\":\"ipv4-addr--%zu\",\"dst_port\":%zu,\"protocols\":[\"tcp\"]}"
                    ",{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--%zu\",\"value\":\"10.0.%zu.%"
                    "zu\"}",
                    i, (i * 7) % n, 1000 + i, i, i / 250, i % 250),
                CTIX_OK);
        }
        assert_int_equal(buf_appends(&b, "]"), CTIX_OK);
        assert_int_equal(pattern_obs_new_text(b.data, b.len, NULL, &o, &d), CTIX_OK);
        assert_int_equal(o->obs[0].n_scos, 2 * n); /* each id once */
        for (size_t i = 0; i <= n; i++) {
            char pat[160];
            struct pattern *p = NULL;
            struct answer a;

            /* Connection i goes to the address of object (i * 7) % n; i == n is absent. */
            snprintf(pat, sizeof(pat),
                     "[network-traffic:dst_ref.value = '10.0.%zu.%zu' AND "
                     "network-traffic:dst_port = %zu]",
                     ((i * 7) % (n + (i == n))) / 250, ((i * 7) % (n + (i == n))) % 250, 1000 + i);
            assert_int_equal(pattern_parse(pat, strlen(pat), 0, &p, &d), CTIX_OK);
            answer_of(p, o, &a);
            if (a.matched != (i < n))
                fail_msg("%zu SCOs, connection %zu: %s", 2 * n, i,
                         a.matched ? "matched" : "not matched");
            pattern_free(p);
            if (n == 1 || i == n)
                continue;
            /* Connection i's port with the address of connection i + 1: never one object. */
            snprintf(pat, sizeof(pat),
                     "[network-traffic:dst_ref.value = '10.0.%zu.%zu' AND "
                     "network-traffic:dst_port = %zu]",
                     (((i + 1) * 7) % n) / 250, (((i + 1) * 7) % n) % 250, 1000 + i);
            assert_int_equal(pattern_parse(pat, strlen(pat), 0, &p, &d), CTIX_OK);
            answer_of(p, o, &a);
            if (a.matched)
                fail_msg("%zu SCOs, connection %zu: matched another's address", 2 * n, i);
            pattern_free(p);
        }
        pattern_obs_free(o);
        buf_cleanup(&b);
    }
}

/* pattern__ts_fast against stix_ts_parse: whenever the fast path answers, the general parser
 * accepts the same text with the same value; whatever the parser refuses, the fast path refuses. */
static void ts_check(const char *s)
{
    struct ctix_ts ts;
    int64_t us = 0;
    bool fast = pattern__ts_fast(s, strlen(s), &us);
    bool ok = stix_ts_parse(s, false, &ts) == CTIX_OK;

    if (fast && (!ok || ctix_ts_to_us(&ts) != us))
        fail_msg("%s: fast path %lld, stix_ts_parse %s", s, (long long)us,
                 ok ? "differs" : "fails");
    if (!ok && fast)
        fail_msg("%s: accepted by the fast path only", s);
}

static void test_ts_fast(void **state)
{
    static const char *const odd[] = {
        "0000-01-01T00:00:00Z",      "0000-02-29T00:00:00Z",     "1900-02-29T00:00:00Z",
        "2000-02-29T23:59:60Z",      "2100-02-29T00:00:00Z",     "2024-02-29T12:00:00.123Z",
        "2023-02-29T00:00:00Z",      "2020-13-01T00:00:00Z",     "2020-00-10T00:00:00Z",
        "2020-01-00T00:00:00Z",      "2020-04-31T00:00:00Z",     "2020-01-01T24:00:00Z",
        "2020-01-01T00:60:00Z",      "2020-01-01T00:00:61Z",     "2020-01-01T00:00:00.5Z",
        "2020-01-01T00:00:00.1234Z", "2020-01-01T00:00:00",      "2020-01-01 00:00:00Z",
        "2020-01-01T00:00:00.Z",     "2020-01-01T00:00:00.12aZ", "9999-12-31T23:59:59.999Z",
        "2020-1-01T00:00:00Z",       "+020-01-01T00:00:00Z",     "2020-01-01T00:00:00z",
    };
    char buf[40];
    int n = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
        ts_check(odd[i]);
    for (int64_t day = -800; day < 75000; day += 7) {
        int64_t us =
            day * 86400 * INT64_C(1000000) + (day % 86400) * INT64_C(1000000) + (day % 1000) * 1000;

        int64_t got;
        char whole[24];

        ctix_ts_format_us(us, buf);
        /* The two fast forms: milliseconds, and whole seconds. */
        buf[23] = 'Z';
        buf[24] = '\0';
        ts_check(buf);
        n += pattern__ts_fast(buf, 24, &got);
        memcpy(whole, buf, 19);
        whole[19] = 'Z';
        whole[20] = '\0';
        ts_check(whole);
        n += pattern__ts_fast(whole, 20, &got);
    }
    assert_true(n > 20000); /* the fast path answered (and agreed) that often */
}

/* The builder remembers the day of the last date it read (most observed-data of a bundle share
 * their dates): a remembered date must never stand in for a different one, nor let a bad time of
 * day through. Each observed-data's interval is checked against stix_ts_parse. */
static void test_date_memo(void **state)
{
    static const char *const ts[][2] = {
        {"2024-03-01T09:55:51Z", "2024-03-01T09:57:19Z"},
        {"2024-03-01T00:00:00.000Z", "2024-03-01T23:59:60Z"},
        {"2024-03-02T00:00:00Z", "2024-03-02T00:00:01.999Z"},
        {"2024-03-01T10:00:00Z", "2024-03-02T10:00:00Z"},
        {"2024-02-29T10:00:00Z", "2024-03-01T10:00:00Z"},
        {"2023-03-01T10:00:00Z", "2024-03-01T10:00:00Z"},
        {"2024-03-01T10:00:00.5Z", "2024-03-01T10:00:01Z"}, /* not a fast form */
    };
    static const char *const bad[] = {
        "2024-03-01T24:00:00Z", "2024-03-01T09:60:00Z",     "2024-03-01T09:00:61Z",
        "2024-03-01T0a:00:00Z", "2024-03-01T09:00:00.1x3Z",
    };
    const size_t n = sizeof(ts) / sizeof(ts[0]);
    struct buf b;
    struct pattern_obs *o = NULL;
    struct ctix_diag d;

    (void)state;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_appends(&b, "["), CTIX_OK);
    for (size_t i = 0; i < n; i++) {
        char od[300];

        snprintf(od, sizeof(od),
                 "%s{\"type\":\"observed-data\",\"id\":\"observed-data--%zu\","
                 "\"first_observed\":\"%s\",\"last_observed\":\"%s\",\"number_observed\":1,"
                 "\"object_refs\":[]}",
                 i ? "," : "", i, ts[i][0], ts[i][1]);
        assert_int_equal(buf_appends(&b, od), CTIX_OK);
    }
    assert_int_equal(buf_appends(&b, "]"), CTIX_OK);
    assert_int_equal(pattern_obs_new_text(b.data, b.len, NULL, &o, &d), CTIX_OK);
    assert_int_equal(pattern_obs_count(o), n);
    for (size_t i = 0; i < n; i++) {
        struct ctix_ts t0, t1;

        assert_int_equal(stix_ts_parse(ts[i][0], false, &t0), CTIX_OK);
        assert_int_equal(stix_ts_parse(ts[i][1], false, &t1), CTIX_OK);
        assert_true(o->obs[i].first_us == ctix_ts_to_us(&t0));
        assert_true(o->obs[i].last_us == ctix_ts_to_us(&t1));
    }
    pattern_obs_free(o);
    /* A bad time of day on a remembered date is still refused, naming the observed-data. */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[600];

        snprintf(text, sizeof(text),
                 "[{\"type\":\"observed-data\",\"id\":\"observed-data--a\","
                 "\"first_observed\":\"2024-03-01T09:00:00Z\",\"last_observed\":"
                 "\"2024-03-01T09:00:00Z\",\"number_observed\":1,\"object_refs\":[]},"
                 "{\"type\":\"observed-data\",\"id\":\"observed-data--b\","
                 "\"first_observed\":\"%s\",\"last_observed\":\"2024-03-02T00:00:00Z\","
                 "\"number_observed\":1,\"object_refs\":[]}]",
                 bad[i]);
        o = NULL;
        assert_int_equal(pattern_obs_new_text(text, strlen(text), NULL, &o, &d), CTIX_EINVAL);
        assert_non_null(strstr(d.msg, "observed-data--b"));
        assert_null(o);
    }
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_cases),      cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_malformed),       cmocka_unit_test(test_nul_after_value),
        cmocka_unit_test(test_depth_and_width), cmocka_unit_test(test_pattern_filter_refs),
        cmocka_unit_test(test_obs_errors),      cmocka_unit_test(test_roots),
        cmocka_unit_test(test_duplicate_ids),   cmocka_unit_test(test_ts_fast),
        cmocka_unit_test(test_date_memo),       cmocka_unit_test(test_observation_sizes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
