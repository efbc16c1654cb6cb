/* RFC 8785 canonical JSON and SCO deterministic ids (the 43 verified vectors of the shared data).
 */
#include "stix/stix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void check_canon(const char *in, const char *want)
{
    json_error_t err;
    json_t *j = json_loads(in, JSON_DECODE_ANY, &err);
    char *s;
    size_t len = 0;

    if (j == NULL)
        fail_msg("bad fixture %s: %s", in, err.text);
    s = stix_canonical_json(j, &len);
    assert_non_null(s);
    if (strcmp(s, want) != 0)
        fail_msg("%s\n  got  %s\n  want %s", in, s, want);
    assert_int_equal(len, strlen(want));
    free(s);
    json_decref(j);
}

static void test_canonical(void **state)
{
    (void)state;
    /* RFC 8785 section 3.2.2's example. */
    check_canon("{\"numbers\":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"
                "\"string\":\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
                "\"literals\":[null,true,false]}",
                "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,"
                "1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    /* RFC 8785 section 3.2.3: sorting by UTF-16 code units, not code points or UTF-8 bytes. */
    check_canon("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew\","
                "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji\",\"\\u0080\":\"Control\","
                "\"\\u00f6\":\"Latin\"}",
                "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
                "\"\xc3\xb6\":\"Latin\",\"\xe2\x82\xac\":\"Euro Sign\","
                "\"\xf0\x9f\x98\x80\":\"Emoji\",\"\xef\xac\xb3\":\"Hebrew\"}");
    /* ECMAScript number formatting (RFC 8785 appendix B). */
    check_canon("[0.0,-0.0,1,-1,0.1,1e20,1e21,1e-6,1e-7,5e-324,1.7976931348623157e308,"
                "1.2345678901234568e20,4.35,0.000001234,9007199254740992,-5.5e-10]",
                "[0,0,1,-1,0.1,100000000000000000000,1e+21,0.000001,1e-7,5e-324,"
                "1.7976931348623157e+308,123456789012345680000,4.35,0.000001234,9007199254740992,"
                "-5.5e-10]");
    check_canon("{\"b\":[{\"z\":1,\"a\":\"\\b\\f\\t\\u0001\"}],\"a\":{}}",
                "{\"a\":{},\"b\":[{\"a\":\"\\b\\f\\t\\u0001\",\"z\":1}]}");
    check_canon("\"\xe4\xb8\xad\"", "\"\xe4\xb8\xad\"");
    assert_null(stix_canonical_json(NULL, NULL));
}

static void test_sco_id_worked(void **state)
{
    char id[STIX_ID_MAX];
    json_t *j = json_pack("{s:s,s:s}", "type", "ipv4-addr", "value", "198.51.100.3");

    (void)state;
    assert_int_equal(stix_sco_id(j, id), CTIX_OK);
    assert_string_equal(id, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    json_decref(j);
    /* a process has no ID-contributing property: a random v4 id */
    j = json_pack("{s:s,s:i}", "type", "process", "pid", 4);
    assert_int_equal(stix_sco_id(j, id), CTIX_OK);
    assert_true(stix_id_valid(id, "process"));
    assert_int_equal(id[strlen("process--") + 14], '4');
    json_decref(j);
    j = json_pack("{s:s,s:s}", "type", "indicator", "name", "x");
    assert_int_equal(stix_sco_id(j, id), CTIX_EINVAL);
    json_decref(j);
    assert_int_equal(stix_sco_id(NULL, id), CTIX_EINVAL);
}

static void test_sco_id_vectors(void **state)
{
    const char *dir = getenv("CTIX_SHARED");
    char path[1024];
    json_t *root, *v;
    json_error_t err;
    size_t i, n = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/derived-test-vectors/sco-deterministic-id-vectors.json",
             dir != NULL ? dir : "../shared/data");
    root = json_load_file(path, 0, &err);
    if (root == NULL)
        skip();
    json_array_foreach(json_object_get(root, "vectors"), i, v)
    {
        char id[STIX_ID_MAX];
        const char *want = json_string_value(json_object_get(v, "expected_id"));

        assert_int_equal(stix_sco_id(json_object_get(v, "object"), id), CTIX_OK);
        if (strcmp(id, want) != 0)
            fail_msg("vector %zu: got %s want %s", i, id, want);
        n++;
    }
    assert_int_equal(n, 43);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_sco_id_worked),
        cmocka_unit_test(test_sco_id_vectors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
