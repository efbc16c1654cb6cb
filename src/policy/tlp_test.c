/* The TLP an object carries (TLP 1.0 and 2.0, object and granular markings, strictest wins), the
 * unmarked default, --max-tlp parsing and the RED recipients. Fixtures written by hand from the
 * marking-definition ids of stix-taxii.md §A15. */
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define T1_WHITE  "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define T1_GREEN  "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define T1_AMBER  "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
#define T1_RED    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
#define T2_CLEAR  "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define T2_GREEN  "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define T2_AMBER  "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define T2_STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define T2_RED    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define STATEMENT "marking-definition--2f9a3f8c-6c3b-4a0b-9f55-2b6f1a1d0c11"

#define IND_HEAD                                                                                   \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","                                            \
    "\"id\":\"indicator--1f3a8c7e-2d4b-4e6f-8a9b-0c1d2e3f4a5b\","                                  \
    "\"created\":\"2024-03-01T00:00:00.000Z\",\"modified\":\"2024-03-01T00:00:00.000Z\","          \
    "\"name\":\"c2\",\"description\":\"d\",\"pattern\":\"[ipv4-addr:value = '203.0.113.9']\","     \
    "\"pattern_type\":\"stix\",\"valid_from\":\"2024-03-01T00:00:00Z\""

static const struct {
    const char *label;
    const char *json;
    enum stix_tlp want;
} marked[] = {
    {"no markings", IND_HEAD "}", STIX_TLP_NONE},
    {"TLP 1.0 white reads clear", IND_HEAD ",\"object_marking_refs\":[\"" T1_WHITE "\"]}",
     STIX_TLP_CLEAR},
    {"TLP 1.0 green", IND_HEAD ",\"object_marking_refs\":[\"" T1_GREEN "\"]}", STIX_TLP_GREEN},
    {"TLP 1.0 amber", IND_HEAD ",\"object_marking_refs\":[\"" T1_AMBER "\"]}", STIX_TLP_AMBER},
    {"TLP 1.0 red", IND_HEAD ",\"object_marking_refs\":[\"" T1_RED "\"]}", STIX_TLP_RED},
    {"TLP 2.0 clear", IND_HEAD ",\"object_marking_refs\":[\"" T2_CLEAR "\"]}", STIX_TLP_CLEAR},
    {"TLP 2.0 green", IND_HEAD ",\"object_marking_refs\":[\"" T2_GREEN "\"]}", STIX_TLP_GREEN},
    {"TLP 2.0 amber", IND_HEAD ",\"object_marking_refs\":[\"" T2_AMBER "\"]}", STIX_TLP_AMBER},
    {"TLP 2.0 amber+strict", IND_HEAD ",\"object_marking_refs\":[\"" T2_STRICT "\"]}",
     STIX_TLP_AMBER_STRICT},
    {"TLP 2.0 red", IND_HEAD ",\"object_marking_refs\":[\"" T2_RED "\"]}", STIX_TLP_RED},
    {"two object markings: strictest",
     IND_HEAD ",\"object_marking_refs\":[\"" T2_CLEAR "\",\"" T1_GREEN "\"]}", STIX_TLP_GREEN},
    {"strictest first", IND_HEAD ",\"object_marking_refs\":[\"" T2_STRICT "\",\"" T1_AMBER "\"]}",
     STIX_TLP_AMBER_STRICT},
    {"1.0 amber and 2.0 amber",
     IND_HEAD ",\"object_marking_refs\":[\"" T1_AMBER "\",\"" T2_AMBER "\"]}", STIX_TLP_AMBER},
    {"granular stricter than object",
     IND_HEAD ",\"object_marking_refs\":[\"" T1_GREEN "\"],"
              "\"granular_markings\":[{\"selectors\":[\"name\"],"
              "\"marking_ref\":\"" T2_STRICT "\"}]}",
     STIX_TLP_AMBER_STRICT},
    {"object stricter than granular",
     IND_HEAD ",\"object_marking_refs\":[\"" T2_RED "\"],"
              "\"granular_markings\":[{\"selectors\":[\"name\"],"
              "\"marking_ref\":\"" T1_WHITE "\"}]}",
     STIX_TLP_RED},
    {"granular only",
     IND_HEAD ",\"granular_markings\":[{\"selectors\":[\"description\"],"
              "\"marking_ref\":\"" T1_RED "\"}]}",
     STIX_TLP_RED},
    {"several granular entries",
     IND_HEAD ",\"granular_markings\":["
              "{\"selectors\":[\"name\"],\"marking_ref\":\"" T2_GREEN "\"},"
              "{\"selectors\":[\"pattern\"],\"marking_ref\":\"" T2_AMBER "\"},"
              "{\"selectors\":[\"description\"],\"lang\":\"ja\"}]}",
     STIX_TLP_AMBER},
    {"granular lang only",
     IND_HEAD ",\"granular_markings\":[{\"selectors\":[\"name\"],"
              "\"lang\":\"en\"}]}",
     STIX_TLP_NONE},
    {"statement only", IND_HEAD ",\"object_marking_refs\":[\"" STATEMENT "\"]}", STIX_TLP_NONE},
    {"statement and green",
     IND_HEAD ",\"object_marking_refs\":[\"" STATEMENT "\",\"" T2_GREEN "\"]}", STIX_TLP_GREEN},
    {"granular statement, object clear",
     IND_HEAD ",\"object_marking_refs\":[\"" T2_CLEAR "\"],"
              "\"granular_markings\":[{\"selectors\":[\"name\"],\"marking_ref\":\"" STATEMENT
              "\"}]}",
     STIX_TLP_CLEAR},
    {"upper-case TLP 2.0 red id",
     IND_HEAD ",\"object_marking_refs\":[\"marking-definition--E828B379-4E03-4974-9AC4-"
              "E53A884C97C1\"]}",
     STIX_TLP_RED},
    {"upper-case granular TLP 1.0 amber",
     IND_HEAD ",\"granular_markings\":[{\"selectors\":[\"name\"],"
              "\"marking_ref\":\"marking-definition--F88D31F6-486F-44DA-B317-01333BDE0B82\"}]}",
     STIX_TLP_AMBER},
    {"non-string refs are skipped",
     IND_HEAD ",\"object_marking_refs\":[7,null,\"" T2_GREEN "\"],"
              "\"granular_markings\":[5,{\"selectors\":[\"name\"],\"marking_ref\":3}]}",
     STIX_TLP_GREEN},
    {"refs not a list", IND_HEAD ",\"object_marking_refs\":\"" T2_RED "\"}", STIX_TLP_NONE},
    {"the TLP 2.0 red definition itself is public",
     "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" T2_RED "\","
     "\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"TLP:RED\",\"extensions\":"
     "{\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":"
     "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"red\"}}}",
     STIX_TLP_CLEAR},
    {"the TLP 1.0 amber definition itself is public",
     "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" T1_AMBER "\","
     "\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\",\"name\":\"TLP:AMBER\","
     "\"definition\":{\"tlp\":\"amber\"}}",
     STIX_TLP_CLEAR},
    {"a marked TLP definition keeps its marking",
     "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" T1_GREEN "\","
     "\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\",\"name\":\"TLP:GREEN\","
     "\"definition\":{\"tlp\":\"green\"},\"object_marking_refs\":[\"" T2_AMBER "\"]}",
     STIX_TLP_AMBER},
    {"a statement definition is unmarked",
     "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" STATEMENT "\","
     "\"created\":\"2024-01-01T00:00:00.000Z\",\"definition_type\":\"statement\","
     "\"definition\":{\"statement\":\"Copyright Example\"}}",
     STIX_TLP_NONE},
    {"a TLP id on another type is not a definition",
     "{\"type\":\"note\",\"id\":\"" T1_RED "\",\"content\":\"x\"}", STIX_TLP_NONE},
    {"an array", "[\"" T2_RED "\"]", STIX_TLP_NONE},
    {"a string", "\"" T2_RED "\"", STIX_TLP_NONE},
};

static void test_tlp_marked(void **state)
{
    json_error_t err;
    json_t *j;
    size_t i;
    enum stix_tlp got;

    (void)state;
    for (i = 0; i < CTIX_ARRAY_LEN(marked); i++) {
        j = json_loads(marked[i].json, JSON_DECODE_ANY, &err);
        if (j == NULL)
            fail_msg("%s: fixture is not JSON: %s", marked[i].label, err.text);
        got = policy_tlp_marked(j);
        json_decref(j);
        if (got != marked[i].want)
            fail_msg("%s: got %s, want %s", marked[i].label, stix_tlp_name(got),
                     stix_tlp_name(marked[i].want));
    }
    assert_int_equal(policy_tlp_marked(NULL), STIX_TLP_NONE);
}

/* The indicator fixtures are valid STIX, so the write path (stix_obj_parse) accepts them. */
static void test_fixtures_valid(void **state)
{
    struct stix_obj *o;
    struct ctix_diag d;
    size_t i;

    (void)state;
    for (i = 0; i < CTIX_ARRAY_LEN(marked); i++) {
        if (strncmp(marked[i].json, IND_HEAD, strlen(IND_HEAD)) != 0 ||
            strstr(marked[i].label, "not a list") != NULL ||
            strstr(marked[i].label, "non-string") != NULL)
            continue;
        o = NULL;
        if (stix_obj_parse(marked[i].json, strlen(marked[i].json), &o, &d) != CTIX_OK)
            fail_msg("%s: %s at %s", marked[i].label, d.msg, d.where);
        stix_obj_free(o);
    }
}

static void test_tlp_of_marking(void **state)
{
    static const struct {
        const char *id;
        enum stix_tlp want;
    } cases[] = {
        {T1_WHITE, STIX_TLP_CLEAR},
        {T1_GREEN, STIX_TLP_GREEN},
        {T1_AMBER, STIX_TLP_AMBER},
        {T1_RED, STIX_TLP_RED},
        {T2_CLEAR, STIX_TLP_CLEAR},
        {T2_GREEN, STIX_TLP_GREEN},
        {T2_AMBER, STIX_TLP_AMBER},
        {T2_STRICT, STIX_TLP_AMBER_STRICT},
        {T2_RED, STIX_TLP_RED},
        {"MARKING-DEFINITION--939A9414-2DDD-4D32-A0CD-375EA402B003", STIX_TLP_AMBER_STRICT},
        {STATEMENT, STIX_TLP_NONE},
        {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c", STIX_TLP_NONE},
        {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1 ", STIX_TLP_NONE},
        {"", STIX_TLP_NONE},
        {NULL, STIX_TLP_NONE},
    };
    size_t i;

    (void)state;
    for (i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        if (policy_tlp_of_marking(cases[i].id) != cases[i].want)
            fail_msg("%s: want %s", cases[i].id != NULL ? cases[i].id : "NULL",
                     stix_tlp_name(cases[i].want));
    }
}

static void test_tlp_effective(void **state)
{
    struct policy_config cfg = {0};
    int t;

    (void)state;
    assert_int_equal(policy_tlp_effective(STIX_TLP_NONE, NULL), STIX_TLP_AMBER);
    assert_int_equal(policy_tlp_effective(STIX_TLP_NONE, &cfg), STIX_TLP_AMBER);
    cfg.unmarked = STIX_TLP_CLEAR;
    assert_int_equal(policy_tlp_effective(STIX_TLP_NONE, &cfg), STIX_TLP_CLEAR);
    cfg.unmarked = STIX_TLP_GREEN;
    assert_int_equal(policy_tlp_effective(STIX_TLP_NONE, &cfg), STIX_TLP_GREEN);
    cfg.unmarked = STIX_TLP_AMBER_STRICT;
    assert_int_equal(policy_tlp_effective(STIX_TLP_NONE, &cfg), STIX_TLP_AMBER_STRICT);
    cfg.unmarked = STIX_TLP_RED;
    assert_int_equal(policy_tlp_effective(STIX_TLP_NONE, &cfg), STIX_TLP_RED);
    /* A marking always wins over the default, in both directions. */
    for (t = STIX_TLP_CLEAR; t <= STIX_TLP_RED; t++) {
        assert_int_equal(policy_tlp_effective((enum stix_tlp)t, &cfg), t);
        assert_int_equal(policy_tlp_effective((enum stix_tlp)t, NULL), t);
    }
    cfg.unmarked = STIX_TLP_CLEAR;
    assert_int_equal(policy_tlp_effective(STIX_TLP_RED, &cfg), STIX_TLP_RED);
    /* Out of range fails closed. */
    assert_int_equal(policy_tlp_effective((enum stix_tlp)6, NULL), STIX_TLP_RED);
    assert_int_equal(policy_tlp_effective((enum stix_tlp) - 1, NULL), STIX_TLP_RED);
    cfg.unmarked = (enum stix_tlp)9;
    assert_int_equal(policy_tlp_effective(STIX_TLP_NONE, &cfg), STIX_TLP_RED);
    assert_int_equal(policy_tlp_effective(STIX_TLP_GREEN, &cfg), STIX_TLP_GREEN);
}

static void test_tlp_parse(void **state)
{
    static const struct {
        const char *s;
        bool ok;
        enum stix_tlp want;
    } cases[] = {
        {"clear", true, STIX_TLP_CLEAR},
        {"white", true, STIX_TLP_CLEAR},
        {"green", true, STIX_TLP_GREEN},
        {"amber", true, STIX_TLP_AMBER},
        {"amber+strict", true, STIX_TLP_AMBER_STRICT},
        {"red", true, STIX_TLP_RED},
        {"TLP:AMBER+STRICT", true, STIX_TLP_AMBER_STRICT},
        {"tlp:clear", true, STIX_TLP_CLEAR},
        {"Green", true, STIX_TLP_GREEN},
        {"amber-strict", false, STIX_TLP_NONE},
        {"amber+", false, STIX_TLP_NONE},
        {"none", false, STIX_TLP_NONE},
        {"tlp:", false, STIX_TLP_NONE},
        {"", false, STIX_TLP_NONE},
        {" red", false, STIX_TLP_NONE},
        {NULL, false, STIX_TLP_NONE},
    };
    enum stix_tlp got;
    size_t i;

    (void)state;
    for (i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        got = (enum stix_tlp)99;
        if (policy_tlp_parse(cases[i].s, &got) != cases[i].ok)
            fail_msg("\"%s\": want %s", cases[i].s != NULL ? cases[i].s : "NULL",
                     cases[i].ok ? "ok" : "rejected");
        if (cases[i].ok)
            assert_int_equal(got, cases[i].want);
        else
            assert_int_equal(got, 99); /* untouched on failure */
    }
}

static void test_recipients(void **state)
{
    json_t *j;
    const char *out[3] = {NULL, NULL, NULL};

    (void)state;
    j = json_loads("{\"x_ctix_recipients\":[\"alice\",5,\"\",\"bob\",\"carol\",\"dave\"]}", 0,
                   NULL);
    assert_non_null(j);
    assert_int_equal(policy_recipients_get(j, out, 3), 3);
    assert_string_equal(out[0], "alice");
    assert_string_equal(out[1], "bob");
    assert_string_equal(out[2], "carol");
    assert_int_equal(policy_recipients_get(j, out, 1), 1);
    assert_int_equal(policy_recipients_get(j, out, 0), 0);
    json_decref(j);
    j = json_loads("{\"x_ctix_recipients\":\"alice\"}", 0, NULL);
    assert_int_equal(policy_recipients_get(j, out, 3), 0);
    json_decref(j);
    j = json_loads("{\"type\":\"indicator\"}", 0, NULL);
    assert_int_equal(policy_recipients_get(j, out, 3), 0);
    json_decref(j);
    assert_int_equal(policy_recipients_get(NULL, out, 3), 0);
}

/* End to end on the write path and the read path: JSON -> stored TLP -> verdict. */
static void test_json_to_verdict(void **state)
{
    const char *js = IND_HEAD ",\"object_marking_refs\":[\"" T1_WHITE "\"],"
                              "\"granular_markings\":[{\"selectors\":[\"pattern\"],"
                              "\"marking_ref\":\"" T2_RED "\"}],"
                              "\"x_ctix_recipients\":[\"alice\"]}";
    const char *names[4];
    struct policy_object obj = {.origin = POLICY_ORIGIN_LOCAL};
    struct policy_requester alice = {.rel = POLICY_REL_OWN_ORG, .org_id = 1, .user = "alice"};
    struct policy_requester anon = {.rel = POLICY_REL_ANONYMOUS};
    enum policy_reason r;
    json_t *j;

    (void)state;
    j = json_loads(js, 0, NULL);
    assert_non_null(j);
    obj.tlp = policy_tlp_marked(j);
    assert_int_equal(obj.tlp, STIX_TLP_RED);
    obj.n_recipients = policy_recipients_get(j, names, 4);
    obj.recipients = names;
    assert_int_equal(policy_may_send(NULL, &obj, &alice, POLICY_CH_CONSOLE, &r), POLICY_ALLOW);
    assert_int_equal(r, POLICY_R_NAMED);
    /* The CLEAR object marking does not open a RED pattern to the public. */
    assert_int_equal(policy_may_send(NULL, &obj, &anon, POLICY_CH_TAXII, &r), POLICY_DENY);
    assert_int_equal(r, POLICY_R_RED_NAMED);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlp_marked),      cmocka_unit_test(test_fixtures_valid),
        cmocka_unit_test(test_tlp_of_marking),  cmocka_unit_test(test_tlp_effective),
        cmocka_unit_test(test_tlp_parse),       cmocka_unit_test(test_recipients),
        cmocka_unit_test(test_json_to_verdict),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
