/* The match index: which patterns go into the hash table, exact lookups, duplicates, IN sets,
 * growth past many keys, and — the property that matters — that pattern_index_match() reports
 * exactly the patterns pattern_eval() says match, on generated patterns and observations. */
#include "pattern/pattern.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

/* ---- helpers ---- */

struct hits {
    uint32_t v[4096];
    size_t n;
    int stop_after; /* return 1 once this many were seen (0: never) */
};

static int hit(uint32_t tag, void *arg)
{
    struct hits *h = arg;

    if (h->n < CTIX_ARRAY_LEN(h->v))
        h->v[h->n] = tag;
    h->n++;
    return h->stop_after > 0 && h->n >= (size_t)h->stop_after;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static void hits_sort(struct hits *h)
{
    qsort(h->v, h->n < CTIX_ARRAY_LEN(h->v) ? h->n : CTIX_ARRAY_LEN(h->v), sizeof(h->v[0]),
          u32_cmp);
}

static void add_text(struct pattern_index *ix, const char *text, uint32_t tag)
{
    struct ctix_diag d;
    enum ctix_rc rc;

    ctix_diag_clear(&d);
    rc = pattern_index_add_text(ix, text, strlen(text), tag, &d);
    if (rc != CTIX_OK)
        fail_msg("%s: %s (col %u)", text, d.msg, d.col);
}

/* Observations from the JSON text of an objects array. */
static struct pattern_obs *obs_from(const char *objects_json)
{
    json_error_t e;
    json_t *j = json_loads(objects_json, 0, &e);
    struct pattern_obs *o = NULL;
    struct ctix_diag d;

    if (j == NULL)
        fail_msg("bad test JSON: %s: %s", e.text, objects_json);
    ctix_diag_clear(&d);
    if (pattern_obs_new(j, &o, &d) != CTIX_OK)
        fail_msg("pattern_obs_new: %s", d.msg);
    json_decref(j);
    return o;
}

#define OD(refs)                                                                                   \
    "{\"type\":\"observed-data\",\"id\":\"observed-data--5e2ffcba-5d4b-4a3b-9d8f-"                 \
    "4a2b1c3d4e5f\",\"spec_version\":\"2.1\",\"created\":\"2024-01-01T00:00:00.000Z\","            \
    "\"modified\":\"2024-01-01T00:00:00.000Z\",\"first_observed\":\"2024-01-01T00:00:00Z\","       \
    "\"last_observed\":\"2024-01-01T00:00:00Z\",\"number_observed\":1,\"object_refs\":[" refs "]}"

/* ---- classification ---- */

static const struct {
    const char *pattern;
    bool indexed;
} classify_cases[] = {
    {"[ipv4-addr:value = '198.51.100.1']", true},
    {"[ipv4-addr:value == '198.51.100.1']", true},
    {"[domain-name:value = 'a.example' OR domain-name:value = 'b.example']", true},
    {"[file:hashes.'SHA-256' = "
     "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' OR file:hashes.MD5 = "
     "'cead3f77f6cda6ec00f57d76c9a6879f']",
     true},
    {"[url:value IN ('http://a.example/', 'http://b.example/')]", true},
    {"[mutex:name = 'm' OR (windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\x' OR "
     "ipv4-addr:value IN ('10.0.0.1'))]",
     true},
    {"[x-custom:x_field.sub = 'v']", true},
    {"[ipv4-addr:value IN ()]", true},
    /* Not: operators other than = and IN, negation, AND, other literals. */
    {"[ipv4-addr:value != '198.51.100.1']", false},
    {"[ipv4-addr:value NOT = '198.51.100.1']", false},
    {"[ipv4-addr:value NOT IN ('198.51.100.1')]", false},
    {"[domain-name:value LIKE '%.example']", false},
    {"[domain-name:value MATCHES '^a']", false},
    {"[ipv4-addr:value ISSUBSET '10.0.0.0/8']", false},
    {"[file:name = 'a' AND file:size = 3]", false},
    {"[file:size = 3]", false},
    {"[x-t:flag = true]", false},
    {"[x-t:v IN (1, 2)]", false},
    {"[EXISTS file:name]", false},
    /* Not: paths with lists, references, bytes. */
    {"[network-traffic:protocols[0] = 'tcp']", false},
    {"[network-traffic:protocols[*] = 'tcp']", false},
    {"[network-traffic:src_ref.value = '10.0.0.1']", false},
    {"[domain-name:resolves_to_refs[*].value = '10.0.0.1']", false},
    {"[file:magic_number_hex = 'ffd8']", false},
    {"[artifact:payload_bin = 'abc']", false},
    /* Not: SDO types (never roots). */
    {"[indicator:name = 'x']", false},
    /* Not: more than one observation expression, or qualifiers. */
    {"[ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = '1.2.3.5']", false},
    {"[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES", false},
    {"[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS", false},
    {"[ipv4-addr:value = '1.2.3.4'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
     false},
};

static void test_classify(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(classify_cases); i++) {
        struct pattern_index *ix = pattern_index_new();
        struct pattern_index_stats st;

        assert_non_null(ix);
        add_text(ix, classify_cases[i].pattern, (uint32_t)i);
        pattern_index_stats(ix, &st);
        if (st.n_patterns != 1 || st.n_lookup != (classify_cases[i].indexed ? 1u : 0u) ||
            st.n_eval != (classify_cases[i].indexed ? 0u : 1u))
            fail_msg("%s: n_lookup %zu n_eval %zu, expected %s", classify_cases[i].pattern,
                     st.n_lookup, st.n_eval, classify_cases[i].indexed ? "indexed" : "evaluated");
        pattern_index_free(ix);
    }
}

/* ---- lookups ---- */

static void test_lookup(void **state)
{
    struct pattern_index *ix = pattern_index_new();
    struct pattern_index_stats st;
    struct hits h;

    (void)state;
    assert_non_null(ix);
    add_text(ix, "[ipv4-addr:value = '198.51.100.1']", 7);
    add_text(ix,
             "[file:hashes.'SHA-256' = "
             "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
             8);
    add_text(ix, "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Soft']", 9);

    memset(&h, 0, sizeof(h));
    assert_int_equal(pattern_index_lookup(ix, "ipv4-addr:value", "198.51.100.1", 12, hit, &h), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.v[0], 7);

    memset(&h, 0, sizeof(h));
    pattern_index_lookup(ix, "ipv4-addr:value", "198.51.100.2", 12, hit, &h);
    pattern_index_lookup(ix, "ipv4-addr:value", "198.51.100.1", 11, hit, &h); /* a prefix */
    pattern_index_lookup(ix, "ipv6-addr:value", "198.51.100.1", 12, hit, &h);
    pattern_index_lookup(ix, "ipv4-addr:valu", "198.51.100.1", 12, hit, &h);
    assert_int_equal(h.n, 0);

    memset(&h, 0, sizeof(h));
    pattern_index_lookup(ix, "file:hashes.SHA-256",
                         "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", 64,
                         hit, &h);
    pattern_index_lookup(ix, "windows-registry-key:key", "HKEY_LOCAL_MACHINE\\Soft", 23, hit, &h);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.v[0], 8);
    assert_int_equal(h.v[1], 9);

    /* A non-zero return is handed back. */
    memset(&h, 0, sizeof(h));
    h.stop_after = 1;
    assert_int_equal(pattern_index_lookup(ix, "ipv4-addr:value", "198.51.100.1", 12, hit, &h), 1);

    pattern_index_stats(ix, &st);
    assert_int_equal(st.n_patterns, 3);
    assert_int_equal(st.n_lookup, 3);
    assert_int_equal(st.n_keys, 3);
    assert_true(st.mem > 0);
    pattern_index_free(ix);
}

static void test_duplicates(void **state)
{
    struct pattern_index *ix = pattern_index_new();
    struct pattern_index_stats st;
    struct hits h;

    (void)state;
    assert_non_null(ix);
    add_text(ix, "[domain-name:value = 'a.example']", 1);
    add_text(ix, "[domain-name:value = 'a.example']", 2);
    add_text(ix, "[domain-name:value = 'a.example' OR domain-name:value = 'a.example']", 3);
    add_text(ix, "[domain-name:value IN ('a.example', 'a.example', 'b.example')]", 4);
    /* The same tag twice (two versions of one indicator, say) is still one hit per key. */
    add_text(ix, "[domain-name:value = 'c.example']", 5);
    add_text(ix, "[domain-name:value = 'c.example']", 5);

    memset(&h, 0, sizeof(h));
    pattern_index_lookup(ix, "domain-name:value", "a.example", 9, hit, &h);
    hits_sort(&h);
    assert_int_equal(h.n, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(h.v[i], i + 1);

    memset(&h, 0, sizeof(h));
    pattern_index_lookup(ix, "domain-name:value", "c.example", 9, hit, &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.v[0], 5);

    pattern_index_stats(ix, &st);
    assert_int_equal(st.n_keys, 3);
    assert_int_equal(st.n_lookup, 6);
    pattern_index_free(ix);
}

static void test_in_sets(void **state)
{
    struct pattern_index *ix = pattern_index_new();
    const char *vals[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", ""};
    struct hits h;

    (void)state;
    assert_non_null(ix);
    add_text(ix, "[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2', '10.0.0.3')]", 42);
    add_text(ix, "[x-t:v IN ('')]", 43);
    for (size_t i = 0; i < 3; i++) {
        memset(&h, 0, sizeof(h));
        pattern_index_lookup(ix, "ipv4-addr:value", vals[i], strlen(vals[i]), hit, &h);
        assert_int_equal(h.n, 1);
        assert_int_equal(h.v[0], 42);
    }
    memset(&h, 0, sizeof(h));
    pattern_index_lookup(ix, "ipv4-addr:value", "10.0.0.4", 8, hit, &h);
    assert_int_equal(h.n, 0);
    /* The empty string is a value like any other. */
    pattern_index_lookup(ix, "x-t:v", "", 0, hit, &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.v[0], 43);
    pattern_index_free(ix);
}

/* Keys whose text forms coincide ("d.'k.x'" and "d.k.x") stay two keys: a lookup by text finds
 * both, an observation only the one its structure has. */
static void test_dotted_keys(void **state)
{
    struct pattern_index *ix = pattern_index_new();
    struct pattern_obs *o;
    struct hits h;

    (void)state;
    assert_non_null(ix);
    add_text(ix, "[x-t:d.'k.x' = 'a']", 1);
    add_text(ix, "[x-t:d.k.x = 'a']", 2);
    memset(&h, 0, sizeof(h));
    pattern_index_lookup(ix, "x-t:d.k.x", "a", 1, hit, &h);
    assert_int_equal(h.n, 2);

    o = obs_from("[" OD("\"x-t--11111111-1111-4111-8111-111111111111\"") ",{\"type\":\"x-t\","
                                                                         "\"id\":\"x-t--11111111-"
                                                                         "1111-4111-8111-"
                                                                         "111111111111\",\"d\":{"
                                                                         "\"k.x\":\"a\"}}]");
    memset(&h, 0, sizeof(h));
    assert_int_equal(pattern_index_match(ix, o, hit, &h, NULL), CTIX_OK);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.v[0], 1);
    pattern_obs_free(o);
    pattern_index_free(ix);
}

static void test_many_keys(void **state)
{
    enum { N = 200000 };
    struct pattern_index *ix = pattern_index_new();
    struct pattern_index_stats st;
    char text[128], val[32];

    (void)state;
    assert_non_null(ix);
    for (uint32_t i = 0; i < N; i++) {
        snprintf(text, sizeof(text), "[domain-name:value = 'host%u.example']", i);
        add_text(ix, text, i);
        if (i % 3 == 0) { /* and some on a second path, so that paths share the table */
            snprintf(text, sizeof(text), "[url:value = 'host%u.example']", i);
            add_text(ix, text, N + i);
        }
    }
    pattern_index_stats(ix, &st);
    assert_int_equal(st.n_lookup, N + (N + 2) / 3);
    assert_int_equal(st.n_keys, N + (N + 2) / 3);
    for (uint32_t i = 0; i < N; i++) {
        struct hits h;
        int n = snprintf(val, sizeof(val), "host%u.example", i);

        memset(&h, 0, sizeof(h));
        pattern_index_lookup(ix, "domain-name:value", val, (size_t)n, hit, &h);
        pattern_index_lookup(ix, "url:value", val, (size_t)n, hit, &h);
        assert_int_equal(h.n, i % 3 == 0 ? 2 : 1);
        assert_int_equal(h.v[0], i);
        snprintf(val, sizeof(val), "host%u.example", N + i);
        memset(&h, 0, sizeof(h));
        pattern_index_lookup(ix, "domain-name:value", val, strlen(val), hit, &h);
        assert_int_equal(h.n, 0);
    }
    pattern_index_free(ix);
}

/* ---- match: lookups and evaluation together ---- */

static void test_match_mixed(void **state)
{
    struct pattern_index *ix = pattern_index_new();
    struct pattern_obs *o;
    struct hits h;

    (void)state;
    assert_non_null(ix);
    add_text(ix, "[ipv4-addr:value = '10.0.0.1' OR domain-name:value = 'a.example']", 0);
    add_text(ix, "[ipv4-addr:value = '10.0.0.9']", 1);
    add_text(ix, "[ipv4-addr:value != '10.0.0.9']", 2);                  /* evaluated, matches */
    add_text(ix, "[domain-name:value LIKE '%.other']", 3);               /* evaluated, no */
    add_text(ix, "[ipv4-addr:value = '10.0.0.1'] AND [x-t:v = 'z']", 4); /* evaluated, no */
    add_text(ix, "[domain-name:value = 'a.example']", 5);
    o = obs_from(
        "[" OD("\"ipv4-addr--11111111-1111-4111-8111-111111111111\", "
               "\"domain-name--22222222-2222-4222-8222-222222222222\"") ","
                                                                        "{\"type\":\"ipv4-addr\","
                                                                        "\"id\":\"ipv4-addr--"
                                                                        "11111111-1111-4111-8111-"
                                                                        "111111111111\",\"value\":"
                                                                        "\"10.0.0.1\"},"
                                                                        "{\"type\":\"domain-name\","
                                                                        "\"id\":\"domain-name--"
                                                                        "22222222-2222-4222-8222-"
                                                                        "222222222222\",\"value\":"
                                                                        "\"a.example\"}]");
    memset(&h, 0, sizeof(h));
    assert_int_equal(pattern_index_match(ix, o, hit, &h, NULL), CTIX_OK);
    hits_sort(&h);
    assert_int_equal(h.n, 3); /* tag 0 found by two keys, reported once */
    assert_int_equal(h.v[0], 0);
    assert_int_equal(h.v[1], 2);
    assert_int_equal(h.v[2], 5);

    /* A non-zero return ends the walk. */
    memset(&h, 0, sizeof(h));
    h.stop_after = 1;
    assert_int_equal(pattern_index_match(ix, o, hit, &h, NULL), CTIX_OK);
    assert_int_equal(h.n, 1);
    pattern_obs_free(o);
    pattern_index_free(ix);
}

/* ---- equivalence with pattern_eval on generated cases ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static const char *const gen_types[] = {"x-t", "x-u", "ipv4-addr"};
static const char *const gen_paths[] = {
    "v", "w", "d.k", "d.'k.x'", "d.'a-b'", "x_h.MD5", "l[0]", "l[*]", "r_ref.v", "p_hex", "d",
};
static const char *const gen_vals[] = {"a", "b", "", "6162", "A", "a "};

static void gen_cmp(struct buf *b)
{
    const char *t = gen_types[rnd(CTIX_ARRAY_LEN(gen_types))];
    const char *p = gen_paths[rnd(CTIX_ARRAY_LEN(gen_paths))];
    const char *v = gen_vals[rnd(CTIX_ARRAY_LEN(gen_vals))];
    const char *v2 = gen_vals[rnd(CTIX_ARRAY_LEN(gen_vals))];

    /* ipv4-addr takes only value: keep it on the custom paths but with its own name. */
    switch (rnd(10)) {
    case 0:
        assert_int_equal(buf_appendf(b, "%s:%s != '%s'", t, p, v), CTIX_OK);
        break;
    case 1:
        assert_int_equal(buf_appendf(b, "%s:%s IN ('%s', '%s')", t, p, v, v2), CTIX_OK);
        break;
    case 2:
        assert_int_equal(buf_appendf(b, "%s:%s NOT = '%s'", t, p, v), CTIX_OK);
        break;
    case 3:
        assert_int_equal(buf_appendf(b, "%s:%s = %u", t, p, rnd(3)), CTIX_OK);
        break;
    case 4:
        assert_int_equal(buf_appendf(b, "%s:%s IN ()", t, p), CTIX_OK);
        break;
    default:
        assert_int_equal(buf_appendf(b, "%s:%s = '%s'", t, p, v), CTIX_OK);
        break;
    }
}

static void gen_pattern(struct buf *b)
{
    size_t n = 1 + rnd(4);

    buf_reset(b);
    assert_int_equal(buf_append(b, "[", 1), CTIX_OK);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            assert_int_equal(buf_appends(b, rnd(5) == 0 ? " AND " : " OR "), CTIX_OK);
        gen_cmp(b);
    }
    assert_int_equal(buf_append(b, "]", 1), CTIX_OK);
    if (rnd(8) == 0)
        assert_int_equal(buf_appends(b, " REPEATS 1 TIMES"), CTIX_OK);
}

static json_t *gen_value(int depth)
{
    switch (rnd(depth > 0 ? 6 : 4)) {
    case 0:
        return json_integer(rnd(3));
    case 1:
        return json_true();
    case 2:
    case 3:
        return json_string(gen_vals[rnd(CTIX_ARRAY_LEN(gen_vals))]);
    case 4: {
        json_t *a = json_array();

        for (uint32_t i = rnd(3); i > 0; i--)
            json_array_append_new(a, gen_value(depth - 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        static const char *const keys[] = {"k", "k.x", "a-b", "MD5"};

        for (uint32_t i = rnd(3); i > 0; i--)
            json_object_set_new(o, keys[rnd(CTIX_ARRAY_LEN(keys))], gen_value(depth - 1));
        return o;
    }
    }
}

/* objects: 1-3 observed-data, each with 1-3 SCOs of the generated types and properties. */
static json_t *gen_objects(void)
{
    static const char *const props[] = {"v", "w", "d", "x_h", "l", "r_ref", "p_hex"};
    json_t *all = json_array();
    size_t n_od = 1 + rnd(3), n_sco = 0;

    for (size_t i = 0; i < n_od; i++) {
        json_t *od = json_object(), *refs = json_array();
        char id[80];

        snprintf(id, sizeof(id), "observed-data--00000000-0000-4000-8000-%012zu", i);
        json_object_set_new(od, "type", json_string("observed-data"));
        json_object_set_new(od, "id", json_string(id));
        json_object_set_new(od, "first_observed", json_string("2024-01-01T00:00:00Z"));
        json_object_set_new(od, "last_observed", json_string("2024-01-01T00:00:00Z"));
        json_object_set_new(od, "number_observed", json_integer(1));
        for (size_t k = 1 + rnd(3); k > 0; k--) {
            const char *t = gen_types[rnd(CTIX_ARRAY_LEN(gen_types))];
            json_t *sco = json_object();

            snprintf(id, sizeof(id), "%s--00000000-0000-4000-8000-%012zu", t, ++n_sco);
            json_object_set_new(sco, "type", json_string(t));
            json_object_set_new(sco, "id", json_string(id));
            for (uint32_t p = rnd(5); p > 0; p--) {
                const char *name = props[rnd(CTIX_ARRAY_LEN(props))];

                if (strcmp(name, "r_ref") == 0)
                    json_object_set_new(sco, name, json_string(id)); /* itself */
                else
                    json_object_set_new(sco, name, gen_value(2));
            }
            json_array_append(refs, json_object_get(sco, "id"));
            json_array_append_new(all, sco);
        }
        json_object_set_new(od, "object_refs", refs);
        json_array_append_new(all, od);
    }
    return all;
}

static void test_equivalence(void **state)
{
    enum { N_PATTERNS = 300, N_ROUNDS = 300 };
    struct pattern *ps[N_PATTERNS];
    char *texts[N_PATTERNS];
    struct pattern_index *ix = pattern_index_new();
    struct buf b;
    size_t n_indexed = 0;

    (void)state;
    assert_non_null(ix);
    buf_init(&b, 1 << 16);
    for (size_t i = 0; i < N_PATTERNS; i++) {
        struct ctix_diag d;

        gen_pattern(&b);
        texts[i] = buf_steal(&b);
        assert_non_null(texts[i]);
        ctix_diag_clear(&d);
        if (pattern_parse(texts[i], strlen(texts[i]), PATTERN_SYNTAX, &ps[i], &d) != CTIX_OK)
            fail_msg("generated pattern does not parse: %s: %s", texts[i], d.msg);
        add_text(ix, texts[i], (uint32_t)i);
    }
    {
        struct pattern_index_stats st;

        pattern_index_stats(ix, &st);
        n_indexed = st.n_lookup;
        /* The generator must exercise both sides. */
        assert_true(st.n_lookup > N_PATTERNS / 10);
        assert_true(st.n_eval > N_PATTERNS / 10);
    }
    for (size_t r = 0; r < N_ROUNDS; r++) {
        json_t *objs = gen_objects();
        struct pattern_obs *o = NULL;
        struct ctix_diag d;
        struct hits h;
        bool want[N_PATTERNS], got[N_PATTERNS];

        ctix_diag_clear(&d);
        if (pattern_obs_new(objs, &o, &d) != CTIX_OK)
            fail_msg("pattern_obs_new: %s", d.msg);
        memset(&h, 0, sizeof(h));
        assert_int_equal(pattern_index_match(ix, o, hit, &h, NULL), CTIX_OK);
        memset(got, 0, sizeof(got));
        for (size_t k = 0; k < h.n; k++) {
            assert_true(h.v[k] < N_PATTERNS);
            if (got[h.v[k]])
                fail_msg("tag %u reported twice", h.v[k]);
            got[h.v[k]] = true;
        }
        for (size_t i = 0; i < N_PATTERNS; i++) {
            struct pattern_result res;

            memset(&res, 0, sizeof(res));
            assert_int_equal(pattern_eval(ps[i], o, &res, &d), CTIX_OK);
            want[i] = res.matched;
            pattern_result_cleanup(&res);
            if (want[i] != got[i]) {
                char *dump = json_dumps(objs, JSON_COMPACT);

                fail_msg("%s: eval says %s, index says %s, on %s", texts[i],
                         want[i] ? "match" : "no match", got[i] ? "match" : "no match", dump);
            }
        }
        pattern_obs_free(o);
        json_decref(objs);
    }
    (void)n_indexed;
    for (size_t i = 0; i < N_PATTERNS; i++) {
        pattern_free(ps[i]);
        free(texts[i]);
    }
    buf_cleanup(&b);
    pattern_index_free(ix);
}

static void test_bad_args(void **state)
{
    struct pattern_index *ix = pattern_index_new();
    struct pattern_index_stats st;
    struct ctix_diag d;

    (void)state;
    assert_non_null(ix);
    assert_int_equal(pattern_index_add(ix, NULL, 1), CTIX_EINVAL);
    ctix_diag_clear(&d);
    assert_int_equal(pattern_index_add_text(ix, "[x-t:v = ", 9, 1, &d), CTIX_EINVAL);
    assert_true(d.msg[0] != '\0');
    pattern_index_stats(ix, &st);
    assert_int_equal(st.n_patterns, 0);
    assert_int_equal(pattern_index_lookup(ix, "x-t:v", NULL, 0, hit, NULL), 0);
    pattern_index_free(ix);
    pattern_index_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),    cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_duplicates),  cmocka_unit_test(test_in_sets),
        cmocka_unit_test(test_dotted_keys), cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_match_mixed), cmocka_unit_test(test_equivalence),
        cmocka_unit_test(test_bad_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
