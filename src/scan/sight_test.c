/* Sightings out: every object made passes stix_validate; ids are deterministic (same scan, same
 * objects; another count, another sighting); one observed-data and SCO per observable, SCOs
 * shared between sightings once; markings everywhere; bounds and missing times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan_int.h"
#include "stix/stix.h"

#define T0      1714996800123LL /* 2024-05-06T12:00:00.123Z */
#define IND_A   "indicator--2ec8b258-4a75-4c02-b753-0c6a41484284"
#define IND_B   "indicator--a0d0e5e2-fd06-45cf-829a-75afb727f21d"
#define MARKING "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define SHA256  "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"

static const struct scan_sight_obs obs_a[] = {
    {SCAN_IPV4, "198.51.100.7", 12, 3, T0, T0 + 5000},
    {SCAN_URL, "http://evil.example/x?a=1", 25, 1, T0 + 1000, T0 + 1000},
    {SCAN_SHA256, SHA256, 64, 2, T0, T0 + 10},
    {SCAN_MD5, "d41d8cd98f00b204e9800998ecf8427e", 32, 1, T0, T0},
    {SCAN_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", 40, 1, T0, T0},
    {SCAN_IPV6, "2001:db8::1", 11, 1, T0, T0},
    {SCAN_DOMAIN, "evil.example", 12, 1, T0, T0},
    {SCAN_EMAIL, "bob@evil.example", 16, 1, T0, T0},
};

static const struct scan_sight_obs obs_b[] = {
    {SCAN_IPV4, "198.51.100.7", 12, 1, T0 + 7000, T0 + 7000}, /* the same SCO as in obs_a */
};

static const struct scan_sight sights[] = {
    {IND_A, 12, T0, T0 + 5000, obs_a, CTIX_ARRAY_LEN(obs_a)},
    {IND_B, 1, T0 + 7000, T0 + 7000, obs_b, CTIX_ARRAY_LEN(obs_b)},
};

static const struct scan_sight_opts opts = {"Example CERT", T0 + 60000, MARKING};

/* Every element passes the validator; returns how many have the given type. */
static size_t validate_all(const json_t *arr, const char *type)
{
    size_t n = 0;

    assert_true(json_is_array(arr));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *j = json_array_get(arr, i);
        struct ctix_diag d;

        ctix_diag_clear(&d);
        if (stix_validate(j, &d) != CTIX_OK) {
            char *txt = json_dumps(j, JSON_COMPACT);

            fail_msg("%s: %s at %s", txt, d.msg, d.where);
        }
        if (strcmp(json_string_value(json_object_get(j, "type")), type) == 0)
            n++;
    }
    return n;
}

static const json_t *find(const json_t *arr, const char *id)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *j = json_array_get(arr, i);

        if (strcmp(json_string_value(json_object_get(j, "id")), id) == 0)
            return j;
    }
    return NULL;
}

static const char *sget(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));

    if (s == NULL)
        fail_msg("no string %s", key);
    return s;
}

static void test_objects(void **state)
{
    json_t *arr = scan_sightings(sights, CTIX_ARRAY_LEN(sights), &opts);
    const json_t *ident, *sg;
    const char *ident_id;
    size_t n_sco = 0;

    (void)state;
    assert_non_null(arr);
    assert_int_equal(validate_all(arr, "identity"), 1);
    assert_int_equal(validate_all(arr, "sighting"), 2);
    assert_int_equal(validate_all(arr, "observed-data"), CTIX_ARRAY_LEN(obs_a) + 1);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *j = json_array_get(arr, i);

        n_sco += stix_type_kind(sget(j, "type")) == STIX_KIND_SCO;
        /* the marking on everything */
        assert_true(json_is_array(json_object_get(j, "object_marking_refs")));
        assert_string_equal(
            json_string_value(json_array_get(json_object_get(j, "object_marking_refs"), 0)),
            MARKING);
    }
    assert_int_equal(n_sco, CTIX_ARRAY_LEN(obs_a)); /* 198.51.100.7 once for both */
    assert_int_equal(json_array_size(arr), 1 + 2 + CTIX_ARRAY_LEN(obs_a) + 1 + n_sco);

    ident = json_array_get(arr, 0);
    ident_id = sget(ident, "id");
    assert_string_equal(sget(ident, "type"), "identity");
    assert_string_equal(sget(ident, "name"), "Example CERT");
    assert_string_equal(sget(ident, "identity_class"), "organization");
    assert_string_equal(sget(ident, "created"), "2024-05-06T12:01:00.123Z");

    /* the first sighting: fields, and its observed-data each naming one SCO */
    sg = NULL;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *j = json_array_get(arr, i);

        if (strcmp(sget(j, "type"), "sighting") == 0 &&
            strcmp(sget(j, "sighting_of_ref"), IND_A) == 0)
            sg = j;
    }
    assert_non_null(sg);
    assert_int_equal(json_integer_value(json_object_get(sg, "count")), 12);
    assert_string_equal(sget(sg, "first_seen"), "2024-05-06T12:00:00.123Z");
    assert_string_equal(sget(sg, "last_seen"), "2024-05-06T12:00:05.123Z");
    assert_string_equal(sget(sg, "created_by_ref"), ident_id);
    assert_string_equal(sget(sg, "modified"), "2024-05-06T12:01:00.123Z");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(sg, "where_sighted_refs"), 0)), ident_id);
    const json_t *refs = json_object_get(sg, "observed_data_refs");
    assert_int_equal(json_array_size(refs), CTIX_ARRAY_LEN(obs_a));
    for (size_t i = 0; i < json_array_size(refs); i++) {
        const json_t *od = find(arr, json_string_value(json_array_get(refs, i)));
        const json_t *sco;

        assert_non_null(od);
        assert_string_equal(sget(od, "type"), "observed-data");
        assert_int_equal(json_array_size(json_object_get(od, "object_refs")), 1);
        sco = find(arr, json_string_value(json_array_get(json_object_get(od, "object_refs"), 0)));
        assert_non_null(sco);
        if (i == 0) {
            assert_string_equal(sget(sco, "type"), "ipv4-addr");
            assert_string_equal(sget(sco, "value"), "198.51.100.7");
            assert_int_equal(json_integer_value(json_object_get(od, "number_observed")), 3);
            assert_string_equal(sget(od, "first_observed"), "2024-05-06T12:00:00.123Z");
            assert_string_equal(sget(od, "last_observed"), "2024-05-06T12:00:05.123Z");
        }
        if (i == 2) {
            assert_string_equal(sget(sco, "type"), "file");
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(sco, "hashes"), "SHA-256")),
                SHA256);
        }
        if (i == 4)
            assert_non_null(json_object_get(json_object_get(sco, "hashes"), "SHA-1"));
    }
    json_decref(arr);
}

/* The same scan gives the same objects; another count gives another sighting id, the same
 * identity id; another name another identity. */
static void test_deterministic(void **state)
{
    json_t *a = scan_sightings(sights, CTIX_ARRAY_LEN(sights), &opts);
    json_t *b = scan_sightings(sights, CTIX_ARRAY_LEN(sights), &opts);
    struct scan_sight s2 = sights[0];
    struct scan_sight_opts o2 = opts;
    json_t *c, *d;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_true(json_equal(a, b));
    s2.count = 13;
    c = scan_sightings(&s2, 1, &opts);
    assert_non_null(c);
    assert_string_equal(sget(json_array_get(c, 0), "id"), sget(json_array_get(a, 0), "id"));
    assert_null(find(a, sget(json_array_get(c, json_array_size(c) - 1), "id")));
    /* the observed-data and SCOs of the same observables did not change */
    assert_non_null(find(a, sget(json_array_get(c, 1), "id")));
    o2.identity_name = "Other CERT";
    d = scan_sightings(sights, 1, &o2);
    assert_non_null(d);
    assert_string_not_equal(sget(json_array_get(d, 0), "id"), sget(json_array_get(a, 0), "id"));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}

/* No marking; counts above STIX's bound; records without time; an observable STIX cannot carry
 * (invalid UTF-8) left out; no sightings at all: the identity alone. */
static void test_edges(void **state)
{
    static const struct scan_sight_obs obs[] = {
        {SCAN_DOMAIN, "a.example", 9, 5000000000ull, SCAN_TIME_NONE, SCAN_TIME_NONE},
        {SCAN_URL, "http://x/\xff", 10, 1, T0, T0},
        {SCAN_KIND_N, "x", 1, 1, T0, T0},
    };
    struct scan_sight s = {IND_A, 5000000000ull, SCAN_TIME_NONE, SCAN_TIME_NONE, obs, 3};
    struct scan_sight_opts o = {"Example CERT", T0, NULL};
    json_t *arr = scan_sightings(&s, 1, &o), *none;
    const json_t *sg, *od;

    (void)state;
    assert_non_null(arr);
    assert_int_equal(validate_all(arr, "observed-data"), 1);
    assert_int_equal(json_array_size(arr), 4); /* identity, SCO, observed-data, sighting */
    sg = json_array_get(arr, 3);
    assert_string_equal(sget(sg, "type"), "sighting");
    assert_int_equal(json_integer_value(json_object_get(sg, "count")), 999999999);
    assert_null(json_object_get(sg, "first_seen"));
    assert_null(json_object_get(sg, "object_marking_refs"));
    od = json_array_get(arr, 2);
    assert_int_equal(json_integer_value(json_object_get(od, "number_observed")), 999999999);
    assert_string_equal(sget(od, "first_observed"), "2024-05-06T12:00:00.123Z");

    none = scan_sightings(NULL, 0, &o);
    assert_non_null(none);
    assert_int_equal(validate_all(none, "identity"), 1);
    assert_int_equal(json_array_size(none), 1);
    json_decref(none);
    json_decref(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
