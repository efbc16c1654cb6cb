/* The free-text extractor against a table of lines and the observables expected from each (kind,
 * normal form, offset and length in the line): boundaries of addresses, host names, URLs, e-mail
 * addresses and hashes; a full record; inputs built to be quadratic for a naive scanner. */
#include "scan/scan_int.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define H32 "d41d8cd98f00b204e9800998ecf8427e"
#define H40 "da39a3ee5e6b4b0d3255bfef95601890afd80709"
#define H64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Writes r's observables as "kind value off+len|…" (addresses as text). */
static void render(const struct scan_rec *r, char *out, size_t cap)
{
    static const char *const names[] = {"ipv4",  "ipv6", "domain", "url",
                                        "email", "md5",  "sha1",   "sha256"};
    size_t o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < r->n_obs && o < cap; i++) {
        const struct scan_obs *ob = &r->obs[i];
        char v[INET6_ADDRSTRLEN];
        const char *val = v;
        int w, vn;

        if (ob->kind == SCAN_IPV4) {
            uint32_t be = htonl(ob->u.v4);

            inet_ntop(AF_INET, &be, v, sizeof(v));
            vn = (int)strlen(v);
        } else if (ob->kind == SCAN_IPV6) {
            inet_ntop(AF_INET6, ob->u.v6, v, sizeof(v));
            vn = (int)strlen(v);
        } else {
            val = ob->u.s.p;
            vn = (int)ob->u.s.n;
        }
        w = snprintf(out + o, cap - o, "%s%s %.*s %u+%u", i ? "|" : "", names[ob->kind], vn, val,
                     ob->off, ob->len);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static const struct {
    const char *in, *want;
} cases[] = {
    /* IPv4 boundaries */
    {"1.2.3.4", "ipv4 1.2.3.4 0+7"},
    {"x=1.2.3.4,", "ipv4 1.2.3.4 2+7"},
    {"(1.2.3.4)", "ipv4 1.2.3.4 1+7"},
    {"11.2.3.45", "ipv4 11.2.3.45 0+9"},
    {"1.2.3.45", "ipv4 1.2.3.45 0+8"},
    {"1.2.3.4.5", ""},
    {"v1.2.3.4", ""},
    {"1.2.3.4a", ""},
    {"a1.2.3.4", ""},
    {".1.2.3.4", ""},
    {"9.1.2.3.4", ""},
    {"1.2.3.4.", "ipv4 1.2.3.4 0+7"},
    {"at 1.2.3.4. Then", "ipv4 1.2.3.4 3+7"},
    {"1.2.3.4.a", "domain 1.2.3.4.a 0+9"},
    {"01.2.3.4 1.2.3.04 256.1.1.1 1.2.3", ""},
    {"10.0.0.1-10.0.0.5", "ipv4 10.0.0.1 0+8|ipv4 10.0.0.5 9+8"},
    {"src=10.0.0.1:443 dst=[10.0.0.2]", "ipv4 10.0.0.1 4+8|ipv4 10.0.0.2 22+8"},
    {"1.2.3.4/24", "ipv4 1.2.3.4 0+7"},
    {"host_1.2.3.4", "ipv4 1.2.3.4 5+7"},
    {"_1.2.3.4", "ipv4 1.2.3.4 1+7"},
    {"1.2.3.4..", "ipv4 1.2.3.4 0+7"},
    /* host names */
    {"notevil.example", "domain notevil.example 0+15"},
    {"Visit WWW.Evil.Example.", "domain www.evil.example 6+16"},
    {"file.exe", "domain file.exe 0+8"},
    {"--evil.example", "domain evil.example 2+12"},
    {"_dmarc.evil.example", "domain _dmarc.evil.example 0+19"},
    {"evil.example:443", "domain evil.example 0+12"},
    {"1.2 a.b2 version 2.0 example -a.example", "domain a.example 30+9"},
    {"a..example evil-.example", ""},
    /* URLs: the text of a URL is not searched for host names */
    {"http://evil.example/a/b.example/c?x=other.example",
     "url http://evil.example/a/b.example/c?x=other.example 0+49|domain evil.example 7+12"},
    {"see HTTP://Evil.Example:80/a.", "url http://evil.example/a 4+24|domain evil.example 11+12"},
    {"(http://x.example/p)", "url http://x.example/p 1+18|domain x.example 8+9"},
    {"<a href=\"http://x.example/\">", "url http://x.example/ 9+17|domain x.example 16+9"},
    {"'http://x.example/a b'", "url http://x.example/a 1+18|domain x.example 8+9"},
    {"svn+ssh://h.example/r", "url svn+ssh://h.example/r 0+21|domain h.example 10+9"},
    {"GET http://1.2.3.4:8080/x HTTP/1.1", "url http://1.2.3.4:8080/x 4+21|ipv4 1.2.3.4 11+7"},
    {"http://[2001:DB8::1]/", "url http://[2001:db8::1]/ 0+21|ipv6 2001:db8::1 8+11"},
    {"http:// nothing", ""},
    {"http://localhost:8080/x", "url http://localhost:8080/x 0+23"},
    {"url=http://u@a.example/x", "url http://u@a.example/x 4+20|domain a.example 13+9"},
    /* e-mail addresses */
    {"from=<Alice@Example.COM> ok", "email Alice@example.com 6+17|domain example.com 12+11"},
    {"user=john.doe@x.example", "email john.doe@x.example 5+18|domain x.example 14+9"},
    {"john.doe+tag@x.example.", "email john.doe+tag@x.example 0+22|domain x.example 13+9"},
    {"a@b user@localhost", ""},
    {"x@1.2.3.4", "ipv4 1.2.3.4 2+7"},
    {"a@b@c.example", "email b@c.example 2+11|domain c.example 4+9"},
    /* hashes */
    {H32, "md5 " H32 " 0+32"},
    {"md5=" H32 ";", "md5 " H32 " 4+32"},
    {"D41D8CD98F00B204E9800998ECF8427E", "md5 " H32 " 0+32"},
    {H40, "sha1 " H40 " 0+40"},
    {H64, "sha256 " H64 " 0+64"},
    {"d41d8cd98f00b204e9800998ecf8427", ""},
    {H32 "e", ""},
    {H64 "5", ""},
    {"x" H32, ""},
    {H32 "_x", "md5 " H32 " 0+32"},
    {"g" H40, ""},
    {H32 ".exe", "md5 " H32 " 0+32|domain " H32 ".exe 0+36"},
    {"x." H32, "md5 " H32 " 2+32"},
    {"http://x.example/" H32, "url http://x.example/" H32 " 0+49|domain x.example 7+9"},
    /* IPv6 */
    {"addr 2001:db8::1 ok", "ipv6 2001:db8::1 5+11"},
    {"[2001:db8::1]:443", "ipv6 2001:db8::1 1+11"},
    {"::1", "ipv6 ::1 0+3"},
    {"(::ffff:1.2.3.4)", "ipv6 ::ffff:1.2.3.4 1+14"},
    {"2001:db8::1.", "ipv6 2001:db8::1 0+11"},
    {"at 2001:db8::1: refused", "ipv6 2001:db8::1 3+11"},
    {"fe80::1%eth0", "ipv6 fe80::1 0+7"},
    {"2001:db8::1g x::1 12:34:56 00:11:22:33:44:55", ""},
    {"1:2:3:4:5:6:7:8:9", ""},
    {"", ""},
};

static void test_table(void **state)
{
    struct scan_rec r;
    char got[1024];

    (void)state;
    scan_rec_init(&r);
    for (size_t i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        size_t n = strlen(cases[i].in);

        assert_true(scan_rec_reset(&r, n));
        scan_extract(&r, cases[i].in, n, 0);
        render(&r, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("extract \"%s\":\n got \"%s\"\nwant \"%s\"", cases[i].in, got, cases[i].want);
    }
    scan_rec_cleanup(&r);
}

/* off is added to every offset; the text before p is not read. */
static void test_offset(void **state)
{
    struct scan_rec r;
    const char *line = "1.2.3.4 5.6.7.8 evil.example";
    char got[256];

    (void)state;
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, strlen(line)));
    scan_extract(&r, line + 10, strlen(line) - 10, 10);
    render(&r, got, sizeof(got));
    assert_string_equal(got, "domain evil.example 16+12");
    scan_rec_reset(&r, strlen(line));
    scan_extract(&r, line + 8, 5, 8);
    render(&r, got, sizeof(got));
    assert_string_equal(got, "");
    scan_rec_cleanup(&r);
}

static void test_full(void **state)
{
    struct scan_rec r;
    char *buf = malloc(300 * 10);
    size_t n = 0;

    (void)state;
    assert_non_null(buf);
    for (unsigned i = 0; i < 300; i++)
        n += (size_t)snprintf(buf + n, 300 * 10 - n, "1.1.%u.%u ", i / 100, i % 100);
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, n));
    scan_extract(&r, buf, n, 0);
    assert_int_equal(r.n_obs, SCAN_REC_MAX_OBS);
    assert_int_equal(r.n_dropped, 300 - SCAN_REC_MAX_OBS);
    assert_int_equal(r.obs[255].u.v4, 0x01010237);
    scan_rec_cleanup(&r);
    free(buf);
}

/* Inputs that make a naive scanner quadratic (every position retries a long look-ahead): each
 * MB must take well under a second (a quadratic one takes minutes). */
static void test_linear(void **state)
{
    static const char *const units[] = {"1:", "a/", "a.", "ab", "a+", "1.", "f:", "a@"};
    size_t n = 1u << 20;
    char *buf = malloc(n + 1);
    struct scan_rec r;

    (void)state;
    assert_non_null(buf);
    scan_rec_init(&r);
    for (size_t u = 0; u < CTIX_ARRAY_LEN(units); u++) {
        int64_t t0 = ctix_mono_us();

        for (size_t i = 0; i < n; i += 2)
            memcpy(buf + i, units[u], 2);
        buf[n - 1] = '@';
        assert_true(scan_rec_reset(&r, n));
        scan_extract(&r, buf, n, 0);
        if (ctix_mono_us() - t0 > 2000000)
            fail_msg("extract is slow on \"%s\" repeated", units[u]);
    }
    scan_rec_cleanup(&r);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_offset),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_linear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
