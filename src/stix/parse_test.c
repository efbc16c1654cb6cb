/* stix_obj_parse / from_json / to_json, containers, markings (effective TLP). */
#include "stix/stix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define U1                "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define TLP1_GREEN        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define TLP1_WHITE        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define TLP2_AMBER_STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define TLP2_RED          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define TLP2_CLEAR        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"

static const char indicator[] =
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" U1 "\","
    "\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-05-06T20:03:48.000Z\","
    "\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\",\"pattern_type\":\"stix\","
    "\"valid_from\":\"2016-01-01T00:00:00Z\",\"name\":\"n\","
    "\"object_marking_refs\":[\"" TLP1_GREEN "\"],"
    "\"granular_markings\":[{\"selectors\":[\"name\"],\"marking_ref\":\"" TLP2_AMBER_STRICT "\"}]}";

static void test_parse_fields(void **state)
{
    struct stix_obj *o = NULL;
    struct ctix_diag d;
    char *s;
    size_t len = 0;

    (void)state;
    assert_int_equal(stix_obj_parse(indicator, strlen(indicator), &o, &d), CTIX_OK);
    assert_string_equal(o->type, "indicator");
    assert_string_equal(o->id, "indicator--" U1);
    assert_string_equal(o->version, "2016-05-06T20:03:48.000Z");
    assert_string_equal(o->spec_version, "2.1");
    assert_int_equal(o->kind, STIX_KIND_SDO);
    assert_int_equal(o->tlp, STIX_TLP_AMBER_STRICT);
    s = stix_obj_to_json(o, &len);
    assert_non_null(s);
    assert_int_equal(len, strlen(indicator));
    assert_string_equal(s, indicator); /* compact, input order */
    free(s);
    stix_obj_free(o);
    stix_obj_free(NULL);
}

static void test_parse_versions(void **state)
{
    static const char sco[] = "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--" U1 "\",\"value\":"
                              "\"1.2.3.4\"}";
    static const char mark[] =
        "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" TLP1_WHITE "\","
        "\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\",\"name\":"
        "\"TLP:WHITE\",\"definition\":{\"tlp\":\"white\"}}";
    static const char custom20[] = "{\"type\":\"x-acme-thing\",\"id\":\"x-acme-thing--" U1 "\","
                                   "\"created\":\"2017-01-20T00:00:00.000Z\"}";
    struct stix_obj *o = NULL;

    (void)state;
    assert_int_equal(stix_obj_parse(sco, strlen(sco), &o, NULL), CTIX_OK);
    assert_null(o->version);
    assert_string_equal(o->spec_version, "2.1");
    assert_int_equal(o->kind, STIX_KIND_SCO);
    assert_int_equal(o->tlp, STIX_TLP_NONE);
    stix_obj_free(o);
    assert_int_equal(stix_obj_parse(mark, strlen(mark), &o, NULL), CTIX_OK);
    assert_string_equal(o->version, "2017-01-20T00:00:00.000Z");
    assert_int_equal(o->kind, STIX_KIND_SMO);
    stix_obj_free(o);
    assert_int_equal(stix_obj_parse(custom20, strlen(custom20), &o, NULL), CTIX_OK);
    assert_string_equal(o->spec_version, "2.0");
    assert_int_equal(o->kind, STIX_KIND_CUSTOM);
    stix_obj_free(o);
}

static void test_parse_errors(void **state)
{
    static const char broken[] = "{\"type\":\"indicator\",\n  \"id\": }";
    static const char dup[] = "{\"type\":\"indicator\",\"type\":\"malware\"}";
    struct stix_obj *o = (struct stix_obj *)&o;
    struct ctix_diag d;

    (void)state;
    assert_int_equal(stix_obj_parse(broken, strlen(broken), &o, &d), CTIX_EINVAL);
    assert_int_equal(d.line, 2);
    assert_true(d.col > 0);
    assert_non_null(strstr(d.msg, "line 2"));
    assert_ptr_equal(o, (struct stix_obj *)&o); /* untouched */
    assert_int_equal(stix_obj_parse(dup, strlen(dup), &o, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "duplicate"));
    assert_int_equal(stix_obj_parse("[]", 2, &o, &d), CTIX_EINVAL);
    assert_int_equal(stix_obj_parse("", 0, &o, &d), CTIX_EINVAL);
}

static void test_from_json_ref(void **state)
{
    json_t *j = json_loads(indicator, 0, NULL);
    struct stix_obj *o = NULL;

    (void)state;
    assert_int_equal(stix_obj_from_json(j, &o, NULL), CTIX_OK);
    assert_int_equal(j->refcount, 2);
    stix_obj_free(o);
    assert_int_equal(j->refcount, 1);
    json_decref(j);
}

static void test_container(void **state)
{
    static const char bundle[] = "{\"type\":\"bundle\",\"id\":\"bundle--" U1 "\",\"objects\":"
                                 "[{\"a\":1},{\"b\":2}]}";
    static const char envelope[] = "{\"more\":false,\"objects\":[{\"a\":1}]}";
    static const char empty[] = "{}";
    static const char dup[] = "{\"objects\":[],\"objects\":[]}";
    static const char notc[] = "{\"type\":\"indicator\",\"objects\":[]}";
    static const char badid[] = "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[]}";
    static const char badobjs[] = "{\"objects\":{}}";
    static const char syntax[] = "{\n\n\"objects\": [1,]}";
    json_t *a = NULL;
    struct ctix_diag d;

    (void)state;
    assert_int_equal(stix_container_parse(bundle, strlen(bundle), &a, &d), CTIX_OK);
    assert_int_equal(json_array_size(a), 2);
    json_decref(a);
    assert_int_equal(stix_container_parse(envelope, strlen(envelope), &a, &d), CTIX_OK);
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    assert_int_equal(stix_container_parse(empty, strlen(empty), &a, &d), CTIX_OK);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    assert_int_equal(stix_container_parse(dup, strlen(dup), &a, &d), CTIX_EINVAL);
    assert_int_equal(stix_container_parse(notc, strlen(notc), &a, &d), CTIX_EINVAL);
    assert_string_equal(d.where, "type");
    assert_int_equal(stix_container_parse(badid, strlen(badid), &a, &d), CTIX_EINVAL);
    assert_string_equal(d.where, "id");
    assert_int_equal(stix_container_parse(badobjs, strlen(badobjs), &a, &d), CTIX_EINVAL);
    assert_string_equal(d.where, "objects");
    assert_int_equal(stix_container_parse(syntax, strlen(syntax), &a, &d), CTIX_EINVAL);
    assert_int_equal(d.line, 3);
    assert_int_equal(stix_container_parse("[1]", 3, &a, &d), CTIX_EINVAL);
}

static void test_tlp(void **state)
{
    static const struct {
        const char *id;
        enum stix_tlp tlp;
        const char *name;
    } ids[] = {
        {TLP1_WHITE, STIX_TLP_CLEAR, "clear"},
        {TLP1_GREEN, STIX_TLP_GREEN, "green"},
        {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", STIX_TLP_AMBER, "amber"},
        {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", STIX_TLP_RED, "red"},
        {TLP2_CLEAR, STIX_TLP_CLEAR, "clear"},
        {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", STIX_TLP_GREEN, "green"},
        {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", STIX_TLP_AMBER, "amber"},
        {TLP2_AMBER_STRICT, STIX_TLP_AMBER_STRICT, "amber+strict"},
        {TLP2_RED, STIX_TLP_RED, "red"},
        {"marking-definition--" U1, STIX_TLP_NONE, "none"},
        /* UUIDs are case-insensitive: an upper-case RED id is still RED. */
        {"marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1", STIX_TLP_RED, "red"},
        {"MARKING-DEFINITION--e828b379-4e03-4974-9ac4-e53a884c97c1", STIX_TLP_RED, "red"},
    };
    json_t *j;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        assert_int_equal(stix_tlp_of_marking(ids[i].id), ids[i].tlp);
        assert_string_equal(stix_tlp_name(ids[i].tlp), ids[i].name);
    }
    assert_int_equal(stix_tlp_of_marking(NULL), STIX_TLP_NONE);
    j = json_pack("{s:[s,s]}", "object_marking_refs", TLP2_CLEAR, TLP1_GREEN);
    assert_int_equal(stix_tlp_effective(j), STIX_TLP_GREEN);
    json_decref(j);
    j = json_pack("{s:[s], s:[{s:[s],s:s}]}", "object_marking_refs", TLP2_CLEAR,
                  "granular_markings", "selectors", "name", "marking_ref", TLP2_RED);
    assert_int_equal(stix_tlp_effective(j), STIX_TLP_RED);
    json_decref(j);
    j = json_pack("{s:s}", "name", "x");
    assert_int_equal(stix_tlp_effective(j), STIX_TLP_NONE);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields), cmocka_unit_test(test_parse_versions),
        cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_from_json_ref),
        cmocka_unit_test(test_container),    cmocka_unit_test(test_tlp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
