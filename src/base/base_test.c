/* base/: timestamps, buffers and their caps, JSON string escaping, uuids, number parsing, logging
 * filters, strings and files. */
#include "base/base.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void test_ts_parse(void **state)
{
    static const struct {
        const char *s;
        enum ctix_rc rc;
        int64_t sec;
        int32_t nsec;
        int frac;
    } cases[] = {
        {"1970-01-01T00:00:00Z", CTIX_OK, 0, 0, 0},
        {"2000-02-29T00:00:00Z", CTIX_OK, 951782400, 0, 0}, /* divisible by 400: leap */
        {"1900-02-29T00:00:00Z", CTIX_EINVAL, 0, 0, 0},     /* divisible by 100: not */
        {"2024-02-29T12:00:00.5Z", CTIX_OK, 1709208000, 500000000, 1},
        {"2023-02-29T00:00:00Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-12-31T23:59:60Z", CTIX_OK, 1483228800, 0, 0}, /* leap second = next second */
        {"2016-01-20T12:31:12.123456789999Z", CTIX_OK, 1453293072, 123456789, 12},
        {"1969-12-31T23:59:59.999Z", CTIX_OK, -1, 999000000, 3},
        {"2016-04-31T00:00:00Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-01-20T24:00:00Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-01-20T12:60:00Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-01-20T12:31:61Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-00-20T12:31:12Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-01-00T12:31:12Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-01-20T12:31:12.Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-01-20T12:31:12", CTIX_EINVAL, 0, 0, 0},
        {"2016-01-20 12:31:12Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-01-20T12:31:12+01:00", CTIX_EINVAL, 0, 0, 0},
        {"2016-01-20T12:31:12.1a2Z", CTIX_EINVAL, 0, 0, 0},
        {"2016-1-20T12:31:12Z", CTIX_EINVAL, 0, 0, 0},
        {"+016-01-20T12:31:12Z", CTIX_EINVAL, 0, 0, 0},
        {"", CTIX_EINVAL, 0, 0, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ctix_ts t;
        enum ctix_rc rc = ctix_ts_parse(cases[i].s, strlen(cases[i].s), &t);

        if (rc != cases[i].rc)
            fail_msg("%s: rc %d", cases[i].s, rc);
        if (rc == CTIX_OK &&
            (t.sec != cases[i].sec || t.nsec != cases[i].nsec || t.frac_digits != cases[i].frac))
            fail_msg("%s: got %lld.%09d (%d digits)", cases[i].s, (long long)t.sec, t.nsec,
                     t.frac_digits);
    }
}

static void test_ts_cmp_format(void **state)
{
    static const int64_t samples[] = {0,
                                      1,
                                      999999,
                                      1000000,
                                      -1,
                                      951782400123456,
                                      1709208000000001,
                                      253402300799999999 /* 9999-12-31T23:59:59.999999Z */};
    struct ctix_ts a, b;
    char out[28];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        ctix_ts_format_us(samples[i], out);
        assert_int_equal(strlen(out), 27);
        assert_int_equal(ctix_ts_parse(out, 27, &a), CTIX_OK);
        assert_int_equal(ctix_ts_to_us(&a), samples[i]);
    }
    ctix_ts_format_us(951782400123456, out);
    assert_string_equal(out, "2000-02-29T00:00:00.123456Z");
    ctix_ts_format_us(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
    assert_int_equal(ctix_ts_parse("2016-01-20T12:31:12.1Z", 22, &a), CTIX_OK);
    assert_int_equal(ctix_ts_parse("2016-01-20T12:31:12.100Z", 24, &b), CTIX_OK);
    assert_int_equal(ctix_ts_cmp(&a, &b), 0);
    assert_int_equal(ctix_ts_parse("2016-01-20T12:31:12.1000001Z", 28, &b), CTIX_OK);
    assert_int_equal(ctix_ts_cmp(&a, &b), -1);
    assert_int_equal(ctix_ts_cmp(&b, &a), 1);
    assert_true(ctix_now_us() > 1600000000000000);
    assert_true(ctix_mono_us() >= 0);
}

static void test_buf(void **state)
{
    struct buf b;
    char *s;

    (void)state;
    buf_init(&b, 10);
    assert_int_equal(buf_appends(&b, "hello"), CTIX_OK);
    assert_int_equal(buf_appendf(&b, "%d", 12345), CTIX_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "hello12345");
    assert_int_equal(buf_append(&b, "x", 1), CTIX_ETOOBIG);
    assert_int_equal(buf_appendf(&b, "%s", "y"), CTIX_ETOOBIG);
    assert_int_equal(b.len, 10); /* a refused append changes nothing */
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_appends(&b, "01234567890"), CTIX_ETOOBIG);
    assert_int_equal(buf_append(&b, "", 0), CTIX_OK);
    s = buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    assert_null(b.data);
    buf_cleanup(&b);
    buf_cleanup(&b); /* idempotent */
    s = buf_steal(&b);
    assert_string_equal(s, "");
    free(s);
    buf_init(&b, (size_t)1 << 20);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_appends(&b, "0123456789"), CTIX_OK);
    assert_int_equal(b.len, 10000);
    buf_cleanup(&b);
}

static void test_json_str(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        {"abc", 3, "\"abc\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"\n\r\t", 3, "\"\\n\\r\\t\""},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
        {"a\0b", 3, "\"a\\u0000b\""},
        {"\xe2\x82\xac/", 4, "\"\xe2\x82\xac/\""},
        {"", 0, "\"\""},
    };
    struct buf b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_init(&b, 100);
        assert_int_equal(buf_append_json_str(&b, cases[i].in, cases[i].n), CTIX_OK);
        assert_string_equal(b.data, cases[i].out);
        buf_cleanup(&b);
    }
    buf_init(&b, 4);
    assert_int_equal(buf_append_json_str(&b, "abcdef", 6), CTIX_ETOOBIG);
    buf_cleanup(&b);
}

static void test_uuid(void **state)
{
    char a[37], b[37];

    (void)state;
    assert_int_equal(ctix_uuid4(a), CTIX_OK);
    assert_int_equal(ctix_uuid4(b), CTIX_OK);
    assert_int_equal(strlen(a), 36);
    assert_true(ctix_uuid_valid(a, true));
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_string_not_equal(a, b);
    for (int i = 0; i < 36; i++)
        assert_false(a[i] >= 'A' && a[i] <= 'F');
    assert_true(ctix_uuid_valid("8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F", true));
    assert_true(ctix_uuid_valid("1621d4d4-b67d-11e3-9670-f01faf20d111", false));
    assert_false(ctix_uuid_valid("1621d4d4-b67d-11e3-9670-f01faf20d111", true));
    assert_false(ctix_uuid_valid("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3", false));
    assert_false(ctix_uuid_valid("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3ff", false));
    assert_false(ctix_uuid_valid("8e2e2d2b_17d4-4cbf-938f-98ee46b3cd3f", false));
    assert_false(ctix_uuid_valid("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3g", false));
}

static void test_parse_u64(void **state)
{
    uint64_t v = 7;

    (void)state;
    assert_true(ctix_parse_u64("0", UINT64_MAX, &v));
    assert_true(v == 0);
    assert_true(ctix_parse_u64("18446744073709551615", UINT64_MAX, &v));
    assert_true(v == UINT64_MAX);
    assert_false(ctix_parse_u64("18446744073709551616", UINT64_MAX, &v));
    assert_false(ctix_parse_u64("99999999999999999999999", UINT64_MAX, &v));
    assert_true(ctix_parse_u64("1000", 1000, &v));
    assert_false(ctix_parse_u64("1001", 1000, &v));
    assert_false(ctix_parse_u64("", 10, &v));
    assert_false(ctix_parse_u64(NULL, 10, &v));
    assert_false(ctix_parse_u64("-1", 10, &v));
    assert_false(ctix_parse_u64(" 1", 10, &v));
    assert_false(ctix_parse_u64("1x", 10, &v));
    assert_true(v == 1000); /* failures leave *out alone */
}

/* Runs ctix_log with stderr redirected to a file and returns what was written. */
static char *capture_log(const char *filter, enum ctix_log_level lvl, const char *comp)
{
    char path[] = "/tmp/ctix_base_test_XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    char *out = NULL;
    size_t len = 0;
    struct ctix_diag d;

    assert_true(fd >= 0 && saved >= 0);
    ctix_log_set_filter(filter);
    dup2(fd, STDERR_FILENO);
    ctix_log(lvl, comp, "event=%s n=%d", "x", 1);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    assert_int_equal(ctix_file_read(path, 4096, &out, &len, &d), CTIX_OK);
    unlink(path);
    return out;
}

static void test_log_filter(void **state)
{
    static const struct {
        const char *filter, *comp;
        enum ctix_log_level lvl;
        bool shown;
    } cases[] = {
        {NULL, "sync", CTIX_LOG_INFO, true},         {"all", "sync", CTIX_LOG_INFO, true},
        {"all,-sync", "sync", CTIX_LOG_INFO, false}, {"all,-sync", "http", CTIX_LOG_INFO, true},
        {"-all,sync", "sync", CTIX_LOG_WARN, true},  {"-all,sync", "http", CTIX_LOG_ERROR, false},
        {"-all,syn", "sync", CTIX_LOG_ERROR, false}, /* whole names only */
        {"", "store", CTIX_LOG_DEBUG, false},        /* below the level */
    };
    size_t i;

    (void)state;
    ctix_log_set_level(CTIX_LOG_INFO);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = capture_log(cases[i].filter, cases[i].lvl, cases[i].comp);

        if (cases[i].shown) {
            assert_non_null(strstr(out, "comp="));
            assert_non_null(strstr(out, cases[i].comp));
            assert_non_null(strstr(out, "event=x n=1\n"));
        } else if (out[0] != '\0') {
            fail_msg("filter %s comp %s: logged %s", cases[i].filter, cases[i].comp, out);
        }
        free(out);
    }
    ctix_log_set_filter(NULL);
}

static void test_strings_diag(void **state)
{
    char small[4], hex[9];
    struct ctix_diag d;
    static const unsigned char bytes[] = {0x00, 0xab, 0xed, 0xff};
    char *data = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(ctix_strlcpy(small, "abcdef", sizeof(small)), 6);
    assert_string_equal(small, "abc");
    ctix_hex(bytes, sizeof(bytes), hex);
    assert_string_equal(hex, "00abedff");
    {
        unsigned char back[4];

        assert_true(ctix_unhex("00ABedff", back, sizeof(back)));
        assert_memory_equal(back, bytes, sizeof(bytes));
        assert_false(ctix_unhex("00abedf", back, sizeof(back)));   /* short */
        assert_false(ctix_unhex("00abedff0", back, sizeof(back))); /* long */
        assert_false(ctix_unhex("00abegff", back, sizeof(back)));  /* not hex */
        assert_int_equal(ctix_hexval('F'), 15);
        assert_int_equal(ctix_hexval('g'), -1);
    }
    ctix_diag_set(&d, "a/b", "bad %s", "thing");
    assert_string_equal(d.where, "a/b");
    assert_string_equal(d.msg, "bad thing");
    ctix_diag_set(&d, NULL, "x");
    assert_string_equal(d.where, "");
    ctix_diag_set(NULL, "x", "y"); /* no-op */
    ctix_diag_clear(&d);
    assert_string_equal(d.msg, "");
    assert_string_equal(ctix_strerror(CTIX_ETOOBIG), "too big");
    assert_non_null(ctix_strerror((enum ctix_rc)99));
    assert_int_equal(ctix_file_read("/nonexistent/x", 10, &data, &len, &d), CTIX_EIO);
    assert_non_null(strstr(d.msg, "cannot open"));
    assert_int_equal(ctix_file_read("Makefile", 10, &data, &len, &d), CTIX_ETOOBIG);
}

static void test_b64val(void **state)
{
    (void)state;
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; i++)
        assert_int_equal(ctix_b64val(alpha[i]), i);
    assert_int_equal(ctix_b64val('='), -1);
    assert_int_equal(ctix_b64val('-'), -1); /* base64url's digits are not standard ones */
    assert_int_equal(ctix_b64val('_'), -1);
    assert_int_equal(ctix_b64val(' '), -1);
    assert_int_equal(ctix_b64val('\0'), -1);
    assert_int_equal(ctix_b64val((char)0xc3), -1);
}

static void test_utf8_hex4(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        uint32_t cp;
    } seqs[] = {
        {"A", 1, 0x41},
        {"\xc3\xa9", 2, 0xe9},
        {"\xe2\x82\xac", 3, 0x20ac},
        {"\xf0\x9f\x98\x80", 4, 0x1f600},
        {"\xc0\xaf", 0, 0},         /* overlong */
        {"\xe0\x80\xaf", 0, 0},     /* overlong */
        {"\xed\xa0\x80", 0, 0},     /* surrogate */
        {"\xf4\x90\x80\x80", 0, 0}, /* above U+10FFFF */
        {"\x80", 0, 0},             /* stray continuation byte */
        {"\xe2\x82", 0, 0},         /* truncated */
    };
    for (size_t i = 0; i < CTIX_ARRAY_LEN(seqs); i++) {
        const unsigned char *p = (const unsigned char *)seqs[i].s;
        uint32_t cp = 0;
        size_t n = ctix_utf8_decode(p, p + strlen(seqs[i].s), &cp);

        assert_int_equal(n, seqs[i].len);
        if (n > 0)
            assert_int_equal(cp, seqs[i].cp);
        assert_int_equal(ctix_utf8_valid(seqs[i].s, strlen(seqs[i].s)), n > 0);
    }
    assert_int_equal(ctix_utf8_decode((const unsigned char *)"A", (const unsigned char *)"A", NULL),
                     0); /* nothing left */
    assert_true(ctix_utf8_valid("caf\xc3\xa9 \xe2\x82\xac", 9));
    assert_false(ctix_utf8_valid("caf\xc3", 4));
    assert_int_equal(ctix_hex4("00e9", "00e9" + 4), 0xe9);
    assert_int_equal(ctix_hex4("FFFF", "FFFF" + 4), 0xffff);
    assert_int_equal(ctix_hex4("12g4", "12g4" + 4), -1);
    assert_int_equal(ctix_hex4("123", "123" + 3), -1);
}

static void test_arena(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    char *s = arena_strndup(&a, "hello, world", 5);
    assert_string_equal(s, "hello");
    /* Many small allocations keep their contents and alignment across chunk boundaries. */
    long *v[2000];
    for (int i = 0; i < 2000; i++) {
        v[i] = arena_alloc(&a, sizeof(long) * 3);
        assert_non_null(v[i]);
        assert_int_equal((uintptr_t)v[i] % _Alignof(max_align_t), 0);
        v[i][0] = i;
        v[i][2] = -i;
    }
    /* A big one-off allocation does not waste the current chunk. */
    unsigned char *big = arena_zalloc(&a, 1u << 20);
    assert_non_null(big);
    assert_int_equal(big[0] | big[(1u << 20) - 1], 0);
    char *after = arena_strndup(&a, "tail", 4);
    assert_string_equal(after, "tail");
    for (int i = 0; i < 2000; i++)
        assert_true(v[i][0] == i && v[i][2] == -i);
    assert_string_equal(s, "hello");
    assert_true(a.used >= (1u << 20) + 2000 * 3 * sizeof(long));
    assert_null(arena_alloc(&a, SIZE_MAX - 8));
    arena_cleanup(&a);
    assert_int_equal(a.used, 0);
    assert_non_null(arena_alloc(&a, 1)); /* usable again after cleanup */
    arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ts_parse),   cmocka_unit_test(test_ts_cmp_format),
        cmocka_unit_test(test_buf),        cmocka_unit_test(test_json_str),
        cmocka_unit_test(test_uuid),       cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_log_filter), cmocka_unit_test(test_strings_diag),
        cmocka_unit_test(test_arena),      cmocka_unit_test(test_b64val),
        cmocka_unit_test(test_utf8_hex4),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
