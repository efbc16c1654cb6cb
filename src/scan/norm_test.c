/* The normalisers against tables of good and bad inputs: each good one gives the expected form
 * and that form normalises to itself; the record plumbing; scan_value_add's classification; the
 * time parsers. IPv6 results are checked against inet_pton as a reference. */
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

static const struct {
    const char *in;
    uint32_t want; /* 0 with ok false: refused */
    bool ok;
} v4_cases[] = {
    {"1.2.3.4", 0x01020304, true},
    {"0.0.0.0", 0, true},
    {"255.255.255.255", 0xffffffff, true},
    {"10.0.0.1", 0x0a000001, true},
    {"192.168.100.200", 0xc0a864c8, true},
    {"256.1.1.1", 0, false},
    {"1.2.3.256", 0, false},
    {"01.2.3.4", 0, false},
    {"1.2.3.04", 0, false},
    {"1.2.3.00", 0, false},
    {"1.2.3", 0, false},
    {"1.2.3.4.5", 0, false},
    {"1.2.3.", 0, false},
    {".1.2.3", 0, false},
    {"1..2.3", 0, false},
    {"1.2.3.4 ", 0, false},
    {" 1.2.3.4", 0, false},
    {"+1.2.3.4", 0, false},
    {"1.2.3.0x1", 0, false},
    {"1234.1.1.1", 0, false},
    {"1.2.3.1000", 0, false},
    {"1.2.3.4:80", 0, false},
    {"", 0, false},
    {"a.b.c.d", 0, false},
};

static void test_ipv4(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(v4_cases); i++) {
        uint32_t v = 0xdeadbeef;
        bool ok = scan_ipv4_parse(v4_cases[i].in, strlen(v4_cases[i].in), &v);

        if (ok != v4_cases[i].ok || (ok && v != v4_cases[i].want))
            fail_msg("ipv4 %s: ok=%d v=%08x", v4_cases[i].in, ok, v);
    }
}

static const char *const v6_good[] = {
    "::",
    "::1",
    "1::",
    "2001:db8::1",
    "2001:DB8::A",
    "1:2:3:4:5:6:7:8",
    "ffff:FFFF:ffff:ffff:ffff:ffff:ffff:ffff",
    "::ffff:1.2.3.4",
    "1:2:3:4:5:6:1.2.3.4",
    "::1.2.3.4",
    "fe80::1:2",
    "1::8",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "0:0:0:0:0:0:0:0",
    "2001:0db8:0000:0000:0000:ff00:0042:8329",
    "1:2::3:4",
};

static const char *const v6_bad[] = {
    "",
    ":",
    ":::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1::2::3",
    "12345::",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1.2.3",
    "::01.2.3.4",
    "::256.1.1.1",
    "1.2.3.4",
    ":1::",
    "1:",
    "1::2:",
    ":1:2:3:4:5:6:7:8",
    "g::1",
    "::1%eth0",
    "[::1]",
    "1:2:3:4:5:6:7:8::",
    "::1.2.3.4:5",
    "1:2:3:4::5:6:7:8",
    "::1 ",
    " ::1",
    "1:::2",
    "::1.2.3.4.5",
    "1.2.3.4::",
};

static void test_ipv6(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(v6_good); i++) {
        uint8_t got[16], want[16];

        assert_int_equal(inet_pton(AF_INET6, v6_good[i], want), 1);
        if (!scan_ipv6_parse(v6_good[i], strlen(v6_good[i]), got))
            fail_msg("ipv6 refused: %s", v6_good[i]);
        if (memcmp(got, want, 16) != 0)
            fail_msg("ipv6 wrong value: %s", v6_good[i]);
    }
    for (size_t i = 0; i < CTIX_ARRAY_LEN(v6_bad); i++) {
        uint8_t got[16];

        if (scan_ipv6_parse(v6_bad[i], strlen(v6_bad[i]), got))
            fail_msg("ipv6 accepted: %s", v6_bad[i]);
    }
}

/* A table of normaliser cases: want NULL means refused. */
struct norm_case {
    const char *in;
    const char *want;
};

static const struct norm_case domain_cases[] = {
    {"evil.example", "evil.example"},
    {"Evil.EXAMPLE", "evil.example"},
    {"evil.example.", "evil.example"},
    {"a.b", "a.b"},
    {"xn--bcher-kva.example", "xn--bcher-kva.example"},
    {"_dmarc.Example.com", "_dmarc.example.com"},
    {"1password.com", "1password.com"},
    {"a-b.c-d.example", "a-b.c-d.example"},
    {"a.b2", "a.b2"},
    {"123.example", "123.example"},
    {"example", NULL},
    {"example.", NULL},
    {"evil..example", NULL},
    {"-a.example", NULL},
    {"a-.example", NULL},
    {"a.-example", NULL},
    {"a.example-", NULL},
    {"a.example..", NULL},
    {".example", NULL},
    {".", NULL},
    {"", NULL},
    {"1.2.3.4", NULL},
    {"a.123", NULL},
    {"ex ample.com", NULL},
    {"ex\xc3\xa9.com", NULL},
    {"evil.example:80", NULL},
    {"evil.example/", NULL},
    {"a@b.example", NULL},
};

/* An address's text (what a hit line shows) against inet_ntop: every IPv4 octet width and
 * IPv6 addresses with zero runs of every length and place (ties go to the first run, one zero
 * group is not compressed). Addresses inet_ntop writes with an embedded IPv4 tail (::/96 and
 * ::ffff:0:0/96) are left out: the scan writes them in hex, as RFC 5952 allows. */
static void test_addr_text(void **state)
{
    char got[SCAN_ADDR_TEXT], want[INET6_ADDRSTRLEN];
    struct scan_obs o;
    uint64_t x = 88172645463325252u;
    unsigned n6 = 0;

    (void)state;
    memset(&o, 0, sizeof(o));
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        o.kind = SCAN_IPV4;
        /* each octet 0-9, 10-99 or 100-255 */
        o.u.v4 = 0;
        for (int k = 0; k < 4; k++) {
            unsigned r = (unsigned)(x >> (16 * k)) & 0xffff, w = r % 3;

            o.u.v4 = o.u.v4 << 8 | (w == 0 ? r % 10 : w == 1 ? 10 + r % 90 : 100 + r % 156);
        }
        uint32_t be = htonl(o.u.v4);

        assert_non_null(inet_ntop(AF_INET, &be, want, sizeof(want)));
        assert_int_equal(scan_addr_text(&o, got), strlen(want));
        assert_string_equal(got, want);

        o.kind = SCAN_IPV6;
        for (int g = 0; g < 8; g++) {
            /* groups zero half the time, else 1 to 4 hex digits */
            unsigned r = (unsigned)(x >> (8 * g)) & 0xff, v = (unsigned)(x >> (4 * g + 3)) & 0xffff;

            v = r & 1 ? 0 : (r >> 1 & 3) == 0 ? v & 0xf : (r >> 1 & 3) == 1 ? v & 0xff : v;
            o.u.v6[2 * g] = (uint8_t)(v >> 8);
            o.u.v6[2 * g + 1] = (uint8_t)v;
        }
        if (memcmp(o.u.v6, "\0\0\0\0\0\0\0\0\0\0", 10) == 0)
            continue;
        n6++;
        assert_non_null(inet_ntop(AF_INET6, o.u.v6, want, sizeof(want)));
        assert_int_equal(scan_addr_text(&o, got), strlen(want));
        assert_string_equal(got, want);
    }
    assert_true(n6 > 15000);
    o.kind = SCAN_IPV6;
    memset(o.u.v6, 0, 16);
    assert_int_equal(scan_addr_text(&o, got), 2);
    assert_string_equal(got, "::");
    o.u.v6[15] = 1;
    scan_addr_text(&o, got);
    assert_string_equal(got, "::1");
    o.kind = SCAN_DOMAIN;
    assert_int_equal(scan_addr_text(&o, got), 0);
}

static void test_domain(void **state)
{
    char out[300], again[300];

    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(domain_cases); i++) {
        const struct norm_case *c = &domain_cases[i];
        size_t m = scan_domain_norm(c->in, strlen(c->in), out);

        if (c->want == NULL) {
            if (m != 0)
                fail_msg("domain accepted: %s", c->in);
            continue;
        }
        if (m != strlen(c->want) || memcmp(out, c->want, m) != 0)
            fail_msg("domain %s: got %.*s", c->in, (int)m, out);
        assert_int_equal(scan_domain_norm(out, m, again), m);
        assert_memory_equal(out, again, m);
    }
}

static void test_domain_lengths(void **state)
{
    char in[400], out[400];
    size_t n;

    (void)state;
    /* a 63-byte label is the most */
    memset(in, 'a', 63);
    memcpy(in + 63, ".example", 8);
    assert_int_equal(scan_domain_norm(in, 71, out), 71);
    memset(in, 'a', 64);
    memcpy(in + 64, ".example", 8);
    assert_int_equal(scan_domain_norm(in, 72, out), 0);
    /* 253 bytes in all, one more is too many (a trailing dot is not counted) */
    n = 0;
    while (n + 4 <= 249) {
        memcpy(in + n, "abc.", 4);
        n += 4;
    }
    memcpy(in + n, "exam", 4); /* n = 252 */
    n += 4;
    assert_int_equal(n, 252);
    assert_int_equal(scan_domain_norm(in, n, out), 252);
    in[n] = 'p';
    assert_int_equal(scan_domain_norm(in, n + 1, out), 253);
    in[n + 1] = '.';
    assert_int_equal(scan_domain_norm(in, n + 2, out), 253);
    in[n + 1] = 'l';
    assert_int_equal(scan_domain_norm(in, n + 2, out), 0);
}

static const struct norm_case url_cases[] = {
    {"http://evil.example/a", "http://evil.example/a"},
    {"HTTP://Evil.Example:80/a", "http://evil.example/a"},
    {"http://evil.example", "http://evil.example/"},
    {"https://evil.example:443", "https://evil.example/"},
    {"https://evil.example:8443/x", "https://evil.example:8443/x"},
    {"http://evil.example:443/x", "http://evil.example:443/x"},
    {"http://evil.example:/x", "http://evil.example/x"},
    {"http://evil.example:080/x", "http://evil.example/x"},
    {"http://evil.example:08080/x", "http://evil.example:8080/x"},
    {"http://evil.example.:8080/x", "http://evil.example:8080/x"},
    {"http://evil.example./", "http://evil.example/"},
    {"ftp://H.example:21/f", "ftp://h.example/f"},
    {"ws://h.example:80/", "ws://h.example/"},
    {"wss://h.example:443/", "wss://h.example/"},
    {"wss://h.example:80/", "wss://h.example:80/"},
    {"gopher://h.example:70/", "gopher://h.example:70/"},
    {"http://h.example/%7e%2f%41%2e%5F%2D", "http://h.example/~%2FA._-"},
    {"http://h.example/a%2fb", "http://h.example/a%2Fb"},
    {"http://h.example/%e2%82%ac", "http://h.example/%E2%82%AC"},
    {"http://h.example/%zz%4", "http://h.example/%zz%4"},
    {"http://h.example/%%34%31", "http://h.example/%%341"},
    {"http://h.example/%4%31", "http://h.example/%4%31"},
    {"http://h.example/%%7e", "http://h.example/%~"},
    {"http://h.example/%25", "http://h.example/%25"},
    {"http://h.example?q=1", "http://h.example/?q=1"},
    {"http://h.example#f", "http://h.example/#f"},
    {"http://h.example/P?Q=A%2f#F", "http://h.example/P?Q=A%2F#F"},
    {"http://User:Pw@H.example/", "http://User:Pw@h.example/"},
    {"http://a@b@H.example/", "http://a@b@h.example/"},
    {"http://[2001:DB8::1]:443/x", "http://[2001:db8::1]:443/x"},
    {"https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"},
    {"http://[::ffff:1.2.3.4]/", "http://[::ffff:1.2.3.4]/"},
    {"http://1.2.3.4/x", "http://1.2.3.4/x"},
    {"http://1.2.3.4:8080", "http://1.2.3.4:8080/"},
    {"Svn+SSH://h.example/r", "svn+ssh://h.example/r"},
    {"file:///etc/passwd", "file:///etc/passwd"},
    {"http://localhost/", "http://localhost/"},
    {"http://h.example/a b\"c", "http://h.example/a b\"c"},
    {"http://%41.example/", NULL},
    {"http:/x", NULL},
    {"http//x", NULL},
    {"1http://x.example/", NULL},
    {"://x.example/", NULL},
    {"http://", NULL},
    {"http:///x", NULL},
    {"http://./", NULL},
    {"http://a../", NULL},
    {"http://[::1/", NULL},
    {"http://[zz]/", NULL},
    {"http://[::1]x/", NULL},
    {"http://h.example:99999/", NULL},
    {"http://h.example:8o/", NULL},
    {"http://h ex.example/", NULL},
    {"evil.example/a", NULL},
    {"", NULL},
};

static void test_url(void **state)
{
    char out[600], again[600];

    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(url_cases); i++) {
        const struct norm_case *c = &url_cases[i];
        size_t m = scan_url_norm(c->in, strlen(c->in), out, NULL, NULL);
        size_t m2;

        if (c->want == NULL) {
            if (m != 0)
                fail_msg("url accepted: %s -> %.*s", c->in, (int)m, out);
            continue;
        }
        if (m != strlen(c->want) || memcmp(out, c->want, m) != 0)
            fail_msg("url %s: got %.*s", c->in, (int)m, out);
        assert_true(m <= strlen(c->in) + 1);
        m2 = scan_url_norm(out, m, again, NULL, NULL);
        if (m2 != m || memcmp(out, again, m) != 0)
            fail_msg("url not idempotent: %s -> %.*s", out, (int)m2, again);
    }
}

static void test_url_host(void **state)
{
    static const struct {
        const char *in, *host;
    } cases[] = {
        {"HTTP://u:p@Evil.Example.:81/x", "evil.example"},
        {"http://[2001:DB8::1]:8/", "2001:db8::1"},
        {"http://1.2.3.4", "1.2.3.4"},
        {"file:///x", ""},
    };
    char out[200];

    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        size_t ho = 999, hl = 999;
        size_t m = scan_url_norm(cases[i].in, strlen(cases[i].in), out, &ho, &hl);

        assert_true(m > 0);
        assert_true(ho + hl <= m);
        assert_int_equal(hl, strlen(cases[i].host));
        assert_memory_equal(out + ho, cases[i].host, hl);
    }
}

static const struct norm_case email_cases[] = {
    {"alice@example.com", "alice@example.com"},
    {"Alice@Example.COM", "Alice@example.com"},
    {"a.b+c@x.example.", "a.b+c@x.example"},
    {"o'brien!#$%&*/=?^`{|}~@x.example", "o'brien!#$%&*/=?^`{|}~@x.example"},
    {"@x.example", NULL},
    {"a@", NULL},
    {"a@b", NULL},
    {"a b@x.example", NULL},
    {"a@@x.example", NULL},
    {"a@b@x.example", NULL},
    {"a(b)@x.example", NULL},
    {"a:b@x.example", NULL},
    {"a\"b@x.example", NULL},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.example", NULL},
    {"a\xc3\xa9@x.example", NULL},
    {"a@1.2.3.4", NULL},
    {"", NULL},
};

static void test_email(void **state)
{
    char out[200], again[200];

    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(email_cases); i++) {
        const struct norm_case *c = &email_cases[i];
        size_t m = scan_email_norm(c->in, strlen(c->in), out);

        if (c->want == NULL) {
            if (m != 0)
                fail_msg("email accepted: %s", c->in);
            continue;
        }
        if (m != strlen(c->want) || memcmp(out, c->want, m) != 0)
            fail_msg("email %s: got %.*s", c->in, (int)m, out);
        assert_int_equal(scan_email_norm(out, m, again), m);
        assert_memory_equal(out, again, m);
    }
}

static void test_hash(void **state)
{
    static const struct {
        const char *in;
        int kind;
    } cases[] = {
        {"d41d8cd98f00b204e9800998ecf8427e", SCAN_MD5},
        {"D41D8CD98F00B204E9800998ECF8427E", SCAN_MD5},
        {"da39a3ee5e6b4b0d3255bfef95601890afd80709", SCAN_SHA1},
        {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", SCAN_SHA256},
        {"d41d8cd98f00b204e9800998ecf8427", -1},
        {"d41d8cd98f00b204e9800998ecf8427ee", -1},
        {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", -1},
        {"g41d8cd98f00b204e9800998ecf8427e", -1},
        {"d41d8cd98f00b204e9800998ecf8427 ", -1},
        {"", -1},
    };
    char out[100];

    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        size_t n = strlen(cases[i].in);
        int k = scan_hash_norm(cases[i].in, n, out);

        if (k != cases[i].kind)
            fail_msg("hash %s: kind %d", cases[i].in, k);
        for (size_t j = 0; k >= 0 && j < n; j++) {
            char w = cases[i].in[j];

            assert_int_equal(out[j], w >= 'A' && w <= 'F' ? w + 32 : w);
        }
    }
}

static void test_rec(void **state)
{
    struct scan_rec r;
    struct scan_obs o;
    char *s;

    (void)state;
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, 100));
    assert_true(r.scratch_cap >= 456);
    assert_int_equal(r.time_ms, SCAN_TIME_NONE);
    s = scan_rec_scratch(&r, r.scratch_cap);
    assert_non_null(s);
    assert_null(scan_rec_scratch(&r, r.scratch_cap + 1));
    r.scratch_len = r.scratch_cap - 1;
    assert_non_null(scan_rec_scratch(&r, 1));
    assert_null(scan_rec_scratch(&r, 2));
    memset(&o, 0, sizeof(o));
    for (size_t i = 0; i < SCAN_REC_MAX_OBS; i++)
        assert_true(scan_rec_add(&r, &o));
    assert_false(scan_rec_add(&r, &o));
    assert_false(scan_rec_add(&r, &o));
    assert_int_equal(r.n_obs, SCAN_REC_MAX_OBS);
    assert_int_equal(r.n_dropped, 2);
    r.time_ms = 5;
    assert_true(scan_rec_reset(&r, 10000));
    assert_int_equal(r.n_obs, 0);
    assert_int_equal(r.n_dropped, 0);
    assert_int_equal(r.scratch_len, 0);
    assert_int_equal(r.time_ms, SCAN_TIME_NONE);
    assert_true(r.scratch_cap >= 20256);
    assert_false(scan_rec_reset(&r, SIZE_MAX / 2));
    scan_rec_cleanup(&r);
    assert_null(r.scratch);
    assert_true(scan_rec_reset(&r, 0));
    scan_rec_cleanup(&r);
}

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
        int w;

        if (ob->kind == SCAN_IPV4) {
            uint32_t be = htonl(ob->u.v4);

            inet_ntop(AF_INET, &be, v, sizeof(v));
            w = snprintf(out + o, cap - o, "%s%s %s %u+%u", i ? "|" : "", names[ob->kind], v,
                         ob->off, ob->len);
        } else if (ob->kind == SCAN_IPV6) {
            inet_ntop(AF_INET6, ob->u.v6, v, sizeof(v));
            w = snprintf(out + o, cap - o, "%s%s %s %u+%u", i ? "|" : "", names[ob->kind], v,
                         ob->off, ob->len);
        } else {
            w = snprintf(out + o, cap - o, "%s%s %.*s %u+%u", i ? "|" : "", names[ob->kind],
                         (int)ob->u.s.n, ob->u.s.p, ob->off, ob->len);
        }
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static const struct norm_case value_cases[] = {
    {"1.2.3.4", "ipv4 1.2.3.4 10+7"},
    {"1.2.3.4:443", "ipv4 1.2.3.4 10+7"},
    {"[2001:db8::1]:443", "ipv6 2001:db8::1 11+11"},
    {"[2001:db8::1]", "ipv6 2001:db8::1 11+11"},
    {"2001:DB8::1", "ipv6 2001:db8::1 10+11"},
    {"::1", "ipv6 ::1 10+3"},
    {"http://Evil.Example:80/a", "url http://evil.example/a 10+24|domain evil.example 17+12"},
    {"http://evil.example/a", "url http://evil.example/a 10+21|domain evil.example 17+12"},
    {"http://1.2.3.4/x", "url http://1.2.3.4/x 10+16|ipv4 1.2.3.4 17+7"},
    {"https://[::1]:8443/", "url https://[::1]:8443/ 10+19|ipv6 ::1 19+3"},
    {"http://localhost/", "url http://localhost/ 10+17"},
    {"evil.example:443", "domain evil.example 10+12"},
    {"Evil.Example.", "domain evil.example 10+13"},
    {"1password.com", "domain 1password.com 10+13"},
    {"a@B.example", "email a@b.example 10+11|domain b.example 12+9"},
    {"d41d8cd98f00b204e9800998ecf8427E", "md5 d41d8cd98f00b204e9800998ecf8427e 10+32"},
    {"da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 10+40"},
    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 10+64"},
    {"text/html", ""},
    {"-", ""},
    {"", ""},
    {"TCP_MISS/200", ""},
    {"fw-edge-01", ""},
    {"GET", ""},
    {"200", ""},
    {"1.2", ""},
    {"1.2.3", ""},
    {"01.2.3.4", ""},
    {"1.2.3.4:99999", ""},
    {"1.2.3.4:", ""},
    {"evil.example:", ""},
    {"evil.example:http", ""},
    {"2024-05-06T12:00:00Z", ""},
    {"12:34:56", ""},
    {"localhost", ""},
    {"[::1]x", ""},
    {"[::1", ""},
    {"a@b", ""},
    {"d41d8cd98f00b204e9800998ecf8427", ""},
    {"evil.example/a", ""},
    {" evil.example", ""},
    {"1714996800.123", ""},
};

static void test_value_add(void **state)
{
    struct scan_rec r;
    char line[200], got[600];

    (void)state;
    scan_rec_init(&r);
    for (size_t i = 0; i < CTIX_ARRAY_LEN(value_cases); i++) {
        const struct norm_case *c = &value_cases[i];
        size_t n = strlen(c->in), added;

        /* The value sits at offset 10 of a line, as a reader would hand it. */
        snprintf(line, sizeof(line), "0123456789%s|", c->in);
        assert_true(scan_rec_reset(&r, strlen(line)));
        added = scan_value_add(&r, line + 10, n, 10);
        assert_int_equal(added, r.n_obs);
        render(&r, got, sizeof(got));
        if (strcmp(got, c->want) != 0)
            fail_msg("value %s: got \"%s\" want \"%s\"", c->in, got, c->want);
        for (size_t k = 0; k < r.n_obs; k++)
            assert_true(r.obs[k].off + r.obs[k].len <= 10 + n);
    }
    scan_rec_cleanup(&r);
}

/* A normal form equal to the raw text points into the line; one that differs, into the scratch. */
static void test_value_pointers(void **state)
{
    struct scan_rec r;
    const char *a = "evil.example", *b = "Evil.example", *c = "evil.example.";
    const char *u = "http://evil.example/x", *v = "http://Evil.example/x";

    (void)state;
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, 64));
    assert_int_equal(scan_value_add(&r, a, strlen(a), 0), 1);
    assert_ptr_equal(r.obs[0].u.s.p, a);
    assert_int_equal(r.scratch_len, 0);
    assert_int_equal(scan_value_add(&r, c, strlen(c), 0), 1);
    assert_ptr_equal(r.obs[1].u.s.p, c);
    assert_int_equal(r.obs[1].u.s.n, 12);
    assert_int_equal(r.scratch_len, 0);
    assert_int_equal(scan_value_add(&r, b, strlen(b), 0), 1);
    assert_ptr_equal(r.obs[2].u.s.p, r.scratch);
    assert_int_equal(r.scratch_len, 12);
    assert_int_equal(scan_value_add(&r, u, strlen(u), 0), 2);
    assert_ptr_equal(r.obs[3].u.s.p, u);
    assert_ptr_equal(r.obs[4].u.s.p, u + 7);
    assert_int_equal(scan_value_add(&r, v, strlen(v), 0), 2);
    assert_ptr_equal(r.obs[5].u.s.p, r.scratch + 12);
    assert_ptr_equal(r.obs[6].u.s.p, r.scratch + 12 + 7);
    assert_int_equal(r.scratch_len, 12 + strlen(v));
    scan_rec_cleanup(&r);
}

static void test_value_full(void **state)
{
    struct scan_rec r;

    (void)state;
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, 64));
    r.n_obs = SCAN_REC_MAX_OBS - 1;
    assert_int_equal(scan_value_add(&r, "http://a.example/", 17, 0), 1);
    assert_int_equal(r.n_dropped, 1);
    /* no room in the scratch: nothing added, nothing written past it */
    r.n_obs = 0;
    r.scratch_len = r.scratch_cap - 5;
    assert_int_equal(scan_value_add(&r, "http://a.example/", 17, 0), 0);
    assert_int_equal(r.scratch_len, r.scratch_cap - 5);
    scan_rec_cleanup(&r);
}

struct time_case {
    const char *in;
    bool ok;
    int64_t ms;
};

static void run_times(const struct time_case *t, size_t n, int which)
{
    for (size_t i = 0; i < n; i++) {
        int64_t ms = 42;
        size_t len = strlen(t[i].in);
        bool ok = which == 0   ? scan_time_epoch(t[i].in, len, &ms)
                  : which == 1 ? scan_time_iso(t[i].in, len, &ms)
                  : which == 2 ? scan_time_clf(t[i].in, len, &ms)
                               : scan_time_syslog(t[i].in, len, 2003, &ms);

        if (ok != t[i].ok || (ok && ms != t[i].ms))
            fail_msg("time %s: ok=%d ms=%lld", t[i].in, ok, (long long)ms);
    }
}

static void test_times(void **state)
{
    static const struct time_case epoch[] = {
        {"1714996800.123", true, 1714996800123},
        {"1714996800", true, 1714996800000},
        {"1714996800.123456", true, 1714996800123},
        {"1714996800.1", true, 1714996800100},
        {"0", true, 0},
        {"", false, 0},
        {".5", false, 0},
        {"12.", false, 0},
        {"12a", false, 0},
        {"12.3a", false, 0},
        {"-1", false, 0},
        {"123456789012", false, 0},
        {"1 ", false, 0},
    };
    static const struct time_case iso[] = {
        {"2024-05-06T12:00:00Z", true, 1714996800000},
        {"2024-05-06T12:00:00.5Z", true, 1714996800500},
        {"2024-05-06T12:00:00.123456789Z", true, 1714996800123},
        {"2024-05-06T14:00:00+02:00", true, 1714996800000},
        {"2024-05-06T14:00:00+0200", true, 1714996800000},
        {"2024-05-06T10:30:00-01:30", true, 1714996800000},
        {"2024-05-06 12:00:00", true, 1714996800000},
        {"2024-05-06t12:00:00z", true, 1714996800000},
        {"2024-02-29T00:00:00Z", true, 1709164800000},
        {"1969-12-31T23:59:59Z", true, -1000},
        {"2024-13-01T00:00:00Z", false, 0},
        {"2023-02-29T00:00:00Z", false, 0},
        {"2024-04-31T00:00:00Z", false, 0},
        {"2024-05-06T24:00:00Z", false, 0},
        {"2024-05-06T12:60:00Z", false, 0},
        {"2024-05-06T12:00:00.Z", false, 0},
        {"2024-05-06T12:00:00ZZ", false, 0},
        {"2024-05-06T12:00:00+2:00", false, 0},
        {"2024-05-06T12:00:00 ", false, 0},
        {"2024-05-06", false, 0},
        {"2024/05/06T12:00:00Z", false, 0},
        {"", false, 0},
    };
    static const struct time_case clf[] = {
        {"10/Oct/2000:13:55:36 -0700", true, 971211336000},
        {"10/oct/2000:20:55:36 +0000", true, 971211336000},
        {"10/Oct/2000:20:55:36", true, 971211336000},
        {"10/Oct/2000:13:55:36 -07:00", false, 0},
        {"10/Foo/2000:13:55:36 -0700", false, 0},
        {"32/Oct/2000:13:55:36 -0700", false, 0},
        {"10/Oct/2000 13:55:36 -0700", false, 0},
        {"10/Oct/2000:13:55:36 0700", false, 0},
        {"", false, 0},
    };
    static const struct time_case sys[] = {
        {"Oct 11 22:14:15", true, 1065910455000},
        {"Oct  1 22:14:15", true, 1065046455000},
        {"Oct 1 22:14:15", true, 1065046455000},
        {"Oct 01 22:14:15", true, 1065046455000},
        {"Feb 29 00:00:00", false, 0}, /* 2003 is no leap year */
        {"Foo 11 22:14:15", false, 0},
        {"Oct 32 22:14:15", false, 0},
        {"Oct 11 22:14", false, 0},
        {"Oct 11 22:14:15 ", false, 0},
        {"Oct 11 25:14:15", false, 0},
        {"Oct11 22:14:15x", false, 0},
        {"", false, 0},
    };

    (void)state;
    run_times(epoch, CTIX_ARRAY_LEN(epoch), 0);
    run_times(iso, CTIX_ARRAY_LEN(iso), 1);
    run_times(clf, CTIX_ARRAY_LEN(clf), 2);
    run_times(sys, CTIX_ARRAY_LEN(sys), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),           cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_addr_text),      cmocka_unit_test(test_domain),
        cmocka_unit_test(test_domain_lengths), cmocka_unit_test(test_url),
        cmocka_unit_test(test_url_host),       cmocka_unit_test(test_email),
        cmocka_unit_test(test_hash),           cmocka_unit_test(test_rec),
        cmocka_unit_test(test_value_add),      cmocka_unit_test(test_value_pointers),
        cmocka_unit_test(test_value_full),     cmocka_unit_test(test_times),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
