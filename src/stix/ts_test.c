/* stix_ts_parse (millisecond rule) and stix_version_key (normalised, byte order = time order). */
#include "stix/stix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_ts_parse(void **state)
{
    static const struct {
        const char *s;
        bool ms;
        enum ctix_rc rc;
    } cases[] = {
        {"2016-01-20T12:31:12Z", false, CTIX_OK},
        {"2016-01-20T12:31:12Z", true, CTIX_EINVAL},
        {"2016-01-20T12:31:12.1Z", true, CTIX_EINVAL},
        {"2016-01-20T12:31:12.12Z", true, CTIX_EINVAL},
        {"2016-01-20T12:31:12.123Z", true, CTIX_OK},
        {"2016-01-20T12:31:12.123456789123Z", true, CTIX_OK},
        {"2016-01-20T12:31:12.Z", false, CTIX_EINVAL},
        {"2016-01-20t12:31:12Z", false, CTIX_EINVAL},
        {"2016-01-20T12:31:12z", false, CTIX_EINVAL},
        {"2016-01-20T12:31:12+00:00", false, CTIX_EINVAL},
        {"2016-02-29T00:00:00Z", false, CTIX_OK},
        {"2015-02-29T00:00:00Z", false, CTIX_EINVAL},
        {"2016-12-31T23:59:60Z", false, CTIX_OK},
        {"2016-13-01T00:00:00Z", false, CTIX_EINVAL},
        {"2022-101-27T13:49:54.326Z", true, CTIX_EINVAL},
        {"", false, CTIX_EINVAL},
        {NULL, false, CTIX_EINVAL},
    };
    struct ctix_ts t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum ctix_rc rc = stix_ts_parse(cases[i].s, cases[i].ms, &t);

        if (rc != cases[i].rc)
            fail_msg("%s (ms=%d): got %d", cases[i].s ? cases[i].s : "NULL", cases[i].ms, rc);
    }
    assert_int_equal(stix_ts_parse("1970-01-01T00:00:01.5Z", false, &t), CTIX_OK);
    assert_int_equal(t.sec, 1);
    assert_int_equal(t.nsec, 500000000);
    assert_int_equal(t.frac_digits, 1);
}

static void test_version_key(void **state)
{
    static const struct {
        const char *in, *key;
    } cases[] = {
        {"2016-01-20T12:31:12Z", "2016-01-20T12:31:12.000000000Z"},
        {"2016-01-20T12:31:12.1Z", "2016-01-20T12:31:12.100000000Z"},
        {"2016-01-20T12:31:12.100Z", "2016-01-20T12:31:12.100000000Z"},
        {"2016-01-20T12:31:12.123456789999Z", "2016-01-20T12:31:12.123456789Z"},
        {"2016-12-31T23:59:60.5Z", "2017-01-01T00:00:00.500000000Z"},
        {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000000Z"},
        {"9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999000000Z"},
    };
    char a[31], b[31];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(stix_version_key(cases[i].in, a), CTIX_OK);
        assert_string_equal(a, cases[i].key);
    }
    assert_int_equal(stix_version_key("2016-01-20T12:31:12.9Z", a), CTIX_OK);
    assert_int_equal(stix_version_key("2016-01-20T12:31:13Z", b), CTIX_OK);
    assert_true(strcmp(a, b) < 0);
    assert_int_equal(stix_version_key("yesterday", a), CTIX_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ts_parse),
        cmocka_unit_test(test_version_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
