/* The scan index: every matching rule on hand-made records — exact and CIDR addresses (nested
 * networks, longest first, the ends of a range, /0 and /32), IPv6 networks, a domain and its
 * subdomains but not its look-alikes, URLs in normal form and by prefix, hashes, e-mail, patterns
 * evaluated behind a prefilter, versions (the newest wins), revocation and validity windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "scan/scan.h"
#include "scan/scan_int.h"

struct tind {
    const char *id, *pattern;
    int64_t modified, from, until;
    bool revoked;
};

#define NOW   1714996800000 /* 2024-05-06T12:00:00Z */
#define EVER  INT64_MAX
#define NEVER SCAN_TIME_NONE

static const struct tind inds[] = {
    {"i-ip", "[ipv4-addr:value = '1.2.3.4']", 1, NEVER, EVER, false},
    {"i-net16", "[ipv4-addr:value = '10.20.0.0/16']", 1, NEVER, EVER, false},
    {"i-net24", "[ipv4-addr:value ISSUBSET '10.20.30.0/24']", 1, NEVER, EVER, false},
    {"i-host-in-net", "[ipv4-addr:value = '10.20.30.40']", 1, NEVER, EVER, false},
    {"i-top", "[ipv4-addr:value = '255.255.255.255']", 1, NEVER, EVER, false},
    {"i-v6", "[ipv6-addr:value = '2001:db8::1']", 1, NEVER, EVER, false},
    {"i-v6net", "[ipv6-addr:value = '2001:db8:aaaa::/48']", 1, NEVER, EVER, false},
    {"i-dom", "[domain-name:value = 'Evil.Example.']", 1, NEVER, EVER, false},
    {"i-url", "[url:value = 'HTTP://Bad.Example:80/a%7eb']", 1, NEVER, EVER, false},
    {"i-pre", "[url:value LIKE 'http://pre.example/dl/%']", 1, NEVER, EVER, false},
    {"i-sha",
     "[file:hashes.'SHA-256' = "
     "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']",
     1, NEVER, EVER, false},
    {"i-mail", "[email-addr:value = 'x@evil.example']", 1, NEVER, EVER, false},
    {"i-or", "[domain-name:value = 'one.example' OR ipv4-addr:value IN ('7.7.7.7', '8.8.8.8')]", 1,
     NEVER, EVER, false},
    {"i-re", "[url:value MATCHES '^https://[a-z]+\\\\.tracker\\\\.example/']", 1, NEVER, EVER,
     false},
    {"i-and", "[ipv4-addr:value = '6.6.6.6' AND ipv4-addr:value != '6.6.6.7']", 1, NEVER, EVER,
     false},
    /* AND across object types can never be true (spec: one root SCO), even with both in a
     * record: evaluated, and not matched */
    {"i-pair", "[ipv4-addr:value = '6.6.6.8' AND domain-name:value = 'both.example']", 1, NEVER,
     EVER, false},
    /* an evaluated IPv6 comparison sees the address in its RFC 5952 form */
    {"i-v6and", "[ipv6-addr:value = '2001:db8::9' AND ipv6-addr:value != '2001:db8::8']", 1, NEVER,
     EVER, false},
    /* versions: the newest wins whatever the order of arrival */
    {"i-ver", "[ipv4-addr:value = '3.3.3.1']", 1, NEVER, EVER, false},
    {"i-ver", "[ipv4-addr:value = '3.3.3.2']", 3, NEVER, EVER, false},
    {"i-ver", "[ipv4-addr:value = '3.3.3.3']", 2, NEVER, EVER, false},
    {"i-rev", "[ipv4-addr:value = '4.4.4.4']", 2, NEVER, EVER, true},
    {"i-rev", "[ipv4-addr:value = '4.4.4.4']", 1, NEVER, EVER, false},
    {"i-old", "[ipv4-addr:value = '5.5.5.5']", 1, NEVER, NOW, false},
    {"i-new", "[ipv4-addr:value = '5.5.5.6']", 1, NOW + 1, EVER, false},
    {"i-proc", "[process:command_line = 'x']", 1, NEVER, EVER, false},
    /* the connection of a record (network-traffic), looked up by its address and evaluated */
    {"i-nt-dst",
     "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 4444]", 1,
     NEVER, EVER, false},
    {"i-nt-src",
     "[network-traffic:src_ref.value = '10.0.0.5' AND network-traffic:dst_ref.value ISSUBSET "
     "'203.0.113.0/24']",
     1, NEVER, EVER, false},
    {"i-nt-v6", "[network-traffic:dst_ref.value = '2001:db8::77']", 1, NEVER, EVER, false},
    /* no address to look up: evaluated on every record with an address */
    {"i-nt-port", "[network-traffic:dst_port = 6667 AND network-traffic:protocols[*] = 'tcp']", 1,
     NEVER, EVER, false},
    /* AND across object types (one root SCO, docs/stix-taxii.md B6): never true, not even on a
     * record showing both */
    {"i-nt-ip", "[ipv4-addr:value = '198.51.100.7' AND network-traffic:dst_port = 443]", 1, NEVER,
     EVER, false},
    {"i-nt-dom", "[domain-name:value = 'evil.example' AND url:value LIKE 'http://evil.example/%']",
     1, NEVER, EVER, false},
};

static struct scan_index *IX;

static int setup(void **state)
{
    struct scan_index *ix = scan_index_new();

    (void)state;
    if (ix == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(inds) / sizeof(inds[0]); i++) {
        struct scan_ind_in in;
        struct ctix_diag d;

        memset(&in, 0, sizeof(in));
        in.id = inds[i].id;
        in.id_len = strlen(inds[i].id);
        in.name = "n";
        in.name_len = 1;
        in.pattern = inds[i].pattern;
        in.pattern_len = strlen(inds[i].pattern);
        in.modified_ms = inds[i].modified;
        in.valid_from_ms = inds[i].from;
        in.valid_until_ms = inds[i].until;
        in.revoked = inds[i].revoked;
        ctix_diag_clear(&d);
        if (scan_index_add(ix, &in, &d) != CTIX_OK) {
            fprintf(stderr, "%s: %s\n", inds[i].pattern, d.msg);
            return -1;
        }
    }
    if (scan_index_finish(ix) != CTIX_OK)
        return -1;
    IX = ix;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scan_index_free(IX);
    return 0;
}

/* The ids the observables of one free-text line match at time t, space-separated. */
static void match_text(const char *text, int64_t t, char *out, size_t cap)
{
    struct scan_rec r;
    struct scan_matcher m;
    size_t w = 0;

    memset(&m, 0, sizeof(m));
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, strlen(text)));
    scan_extract(&r, text, strlen(text), 0);
    r.time_ms = t;
    assert_int_equal(scan_index_match(IX, &r, NOW, SCAN_TIME_NONE, &m), CTIX_OK);
    out[0] = '\0';
    for (size_t i = 0; i < m.n_hits; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%s", i ? " " : "",
                              scan_index_id(IX, m.hits[i].ind));
    scan_matcher_cleanup(&m);
    scan_rec_cleanup(&r);
}

static const struct {
    const char *text;
    int64_t t;
    const char *want;
} cases[] = {
    {"1.2.3.4", NOW, "i-ip"},
    {"11.2.3.45 1.2.3.40 1.2.3.5", NOW, ""},
    {"10.20.0.0", NOW, "i-net16"},
    {"10.20.255.255", NOW, "i-net16"},
    {"10.21.0.0 10.19.255.255", NOW, ""},
    {"10.20.30.7", NOW, "i-net24 i-net16"},
    {"10.20.30.40", NOW, "i-host-in-net i-net24 i-net16"},
    {"255.255.255.255", NOW, "i-top"},
    {"0.0.0.0", NOW, ""},
    {"2001:db8::1", NOW, "i-v6"},
    {"2001:db8::2", NOW, ""},
    {"2001:db8:aaaa:1::5", NOW, "i-v6net"},
    {"2001:db8:aaab::5", NOW, ""},
    {"evil.example", NOW, "i-dom"},
    {"a.b.EVIL.example", NOW, "i-dom"},
    {"notevil.example evil.example.com example", NOW, ""},
    {"http://bad.example/a~b", NOW, "i-url"},
    {"http://bad.example:80/a%7Eb", NOW, "i-url"},
    {"http://bad.example/a~b?x=1 https://bad.example/a~b", NOW, ""},
    {"http://pre.example/dl/x.exe", NOW, "i-pre"},
    {"http://PRE.example:80/dl/", NOW, "i-pre"},
    {"http://pre.example/dlx http://pre.example.com/dl/x", NOW, ""},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NOW, "i-sha"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NOW, ""},
    {"mail from x@evil.example", NOW, "i-mail i-dom"},
    {"www.one.example 8.8.8.8", NOW, "i-or"},
    {"https://abc.tracker.example/p", NOW, "i-re"},
    {"https://a1.tracker.example/p http://abc.tracker.example/p", NOW, ""},
    {"6.6.6.6", NOW, "i-and"},
    {"6.6.6.8 sub.both.example", NOW, ""},
    {"6.6.6.8 both.example", NOW, ""},
    {"6.6.6.8 other.example", NOW, ""},
    {"both.example", NOW, ""},
    {"2001:DB8:0:0::9", NOW, "i-v6and"},
    {"3.3.3.2", NOW, "i-ver"},
    {"3.3.3.1 3.3.3.3", NOW, ""},
    {"4.4.4.4", NOW, ""},
    {"5.5.5.5", NOW - 1, "i-old"},
    {"5.5.5.5", NOW, ""},
    {"5.5.5.6", NOW, ""},
    {"5.5.5.6", NOW + 1, "i-new"},
    {"5.5.5.6", SCAN_TIME_NONE, ""}, /* no record time: now (NOW) */
};

static void test_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char got[512];

        match_text(cases[i].text, cases[i].t, got, sizeof got);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "'%s': got '%s', want '%s'\n", cases[i].text, got, cases[i].want);
        assert_string_equal(got, cases[i].want);
    }
}

/* The ids one log line of a format matches (its record read by scan_fmt_line). */
static void match_line(enum scan_fmt fmt, const char *headers, const char *line, char *out,
                       size_t cap)
{
    struct scan_fmt_state st;
    struct scan_rec r;
    struct scan_matcher m;
    size_t w = 0, len = strlen(line);

    memset(&m, 0, sizeof(m));
    scan_fmt_init(&st, fmt, NULL, 0, 2024);
    while (headers != NULL && *headers != '\0') {
        const char *nl = strchr(headers, '\n');
        size_t n = nl != NULL ? (size_t)(nl - headers) : strlen(headers);

        assert_true(scan_fmt_header(&st, headers, n));
        headers = nl != NULL ? nl + 1 : NULL;
    }
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, len));
    assert_int_equal(scan_fmt_line(&st, line, len, &r, NULL), SCAN_LINE_OK);
    r.time_ms = NOW;
    assert_int_equal(scan_index_match(IX, &r, NOW, SCAN_TIME_NONE, &m), CTIX_OK);
    out[0] = '\0';
    for (size_t i = 0; i < m.n_hits; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%s", i ? " " : "",
                              scan_index_id(IX, m.hits[i].ind));
    scan_matcher_cleanup(&m);
    scan_rec_cleanup(&r);
}

#define ZEEK_CONN                                                                                  \
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"                \
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"                        \
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum"

static const struct {
    enum scan_fmt fmt;
    const char *headers, *line, *want;
} conn_cases[] = {
    /* dst_ref.value = X AND dst_port = 4444 */
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.0.0.5\t51000\t198.51.100.7\t4444\ttcp",
     "i-nt-dst"},
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t198.51.100.7\t4444\t10.0.0.5\t51000\ttcp", ""},
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.0.0.5\t4444\t198.51.100.7\t51000\ttcp", ""},
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.0.0.5\t51000\t198.51.100.8\t4444\ttcp", ""},
    {SCAN_FMT_JSONL, NULL,
     "{\"src_ip\":\"10.0.0.5\",\"src_port\":51000,\"dst_ip\":\"198.51.100.7\",\"dst_port\":4444,"
     "\"proto\":\"tcp\"}",
     "i-nt-dst"},
    {SCAN_FMT_JSONL, NULL,
     "{\"src_ip\":\"198.51.100.7\",\"dst_ip\":\"10.0.0.5\",\"dst_port\":4444}", ""},
    /* the address in the record, but not as the destination */
    {SCAN_FMT_JSONL, NULL,
     "{\"src_ip\":\"10.0.0.5\",\"dst_ip\":\"198.51.100.8\",\"dst_port\":4444,"
     "\"note\":\"198.51.100.7\"}",
     ""},
    /* src_ref.value = A AND dst_ref.value ISSUBSET net */
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.0.0.5\t1\t203.0.113.9\t80\ttcp", "i-nt-src"},
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t203.0.113.9\t1\t10.0.0.5\t80\ttcp", ""},
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.0.0.6\t1\t203.0.113.9\t80\ttcp", ""},
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.0.0.5\t1\t203.0.114.9\t80\ttcp", ""},
    /* Squid: the client to the server's address; evil.example and its URL are both there, and
     * the AND of the two types still does not match */
    {SCAN_FMT_SQUID, NULL,
     "1714996800.218 50 10.0.0.5 TCP_MISS/200 3110 GET http://evil.example/x - "
     "HIER_DIRECT/203.0.113.9 text/html",
     "i-dom i-nt-src"},
    {SCAN_FMT_SQUID, NULL,
     "1714996800.218 50 10.0.0.5 TCP_MISS/200 3110 GET http://203.0.113.9/x - HIER_NONE/- "
     "text/html",
     ""},
    /* IPv6, in its other text forms */
    {SCAN_FMT_JSONL, NULL, "{\"src_ip\":\"2001:db8::5\",\"dst_ip\":\"2001:DB8:0::77\"}", "i-nt-v6"},
    {SCAN_FMT_JSONL, NULL, "{\"src_ip\":\"2001:db8::77\",\"dst_ip\":\"2001:db8::5\"}", ""},
    /* ports and protocols only */
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.9.0.1\t1\t10.9.0.2\t6667\ttcp", "i-nt-port"},
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.9.0.1\t1\t10.9.0.2\t6667\tudp", ""},
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.9.0.1\t6667\t10.9.0.2\t1\ttcp", ""},
    /* across object types: not even with both in the record */
    {SCAN_FMT_ZEEK, ZEEK_CONN, "1714996800.1\tC\t10.0.0.1\t1\t198.51.100.7\t443\ttcp", ""},
    /* a record without a connection */
    {SCAN_FMT_PLAIN, NULL, "198.51.100.7 4444 10.0.0.5 203.0.113.9 6667 tcp", ""},
};

/* What an evaluated hit reports: the observable whose prefilter key hit (the destination the
 * indicator names, not the source the record lists first). */
static void test_conn_observable(void **state)
{
    const char *line = "{\"src_ip\":\"10.0.0.5\",\"src_port\":51000,\"dst_ip\":\"198.51.100.7\","
                       "\"dst_port\":4444}";
    struct scan_fmt_state st;
    struct scan_rec r;
    struct scan_matcher m;
    char text[SCAN_ADDR_TEXT];
    size_t n;

    (void)state;
    memset(&m, 0, sizeof(m));
    scan_fmt_init(&st, SCAN_FMT_JSONL, NULL, 0, 2024);
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, strlen(line)));
    assert_int_equal(scan_fmt_line(&st, line, strlen(line), &r, NULL), SCAN_LINE_OK);
    r.time_ms = NOW;
    assert_int_equal(scan_index_match(IX, &r, NOW, SCAN_TIME_NONE, &m), CTIX_OK);
    assert_int_equal(m.n_hits, 1);
    assert_string_equal(scan_index_id(IX, m.hits[0].ind), "i-nt-dst");
    assert_true(m.hits[0].obs < r.n_obs);
    n = scan_addr_text(&r.obs[m.hits[0].obs], text);
    assert_int_equal(n, strlen("198.51.100.7"));
    assert_memory_equal(text, "198.51.100.7", n);
    scan_matcher_cleanup(&m);
    scan_rec_cleanup(&r);
}

static void test_conn(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(conn_cases) / sizeof(conn_cases[0]); i++) {
        char got[512];

        match_line(conn_cases[i].fmt, conn_cases[i].headers, conn_cases[i].line, got, sizeof got);
        if (strcmp(got, conn_cases[i].want) != 0)
            fprintf(stderr, "'%s': got '%s', want '%s'\n", conn_cases[i].line, got,
                    conn_cases[i].want);
        assert_string_equal(got, conn_cases[i].want);
    }
}

static void test_stats(void **state)
{
    struct scan_index_stats st;

    (void)state;
    scan_index_stats(IX, &st);
    assert_int_equal(st.n_eval, 10);       /* i-re, i-and, i-pair, i-v6and, the six i-nt-* */
    assert_int_equal(st.n_revoked, 1);     /* i-rev */
    assert_int_equal(st.n_versions, 3);    /* two of i-ver, the older i-rev */
    assert_int_equal(st.n_unscannable, 1); /* i-proc */
    assert_true(st.mem > 0);
}

/* A pattern that does not parse is refused with the parser's message and counted. */
static void test_bad_pattern(void **state)
{
    struct scan_index *ix = scan_index_new();
    struct scan_ind_in in;
    struct scan_index_stats st;
    struct ctix_diag d;

    (void)state;
    memset(&in, 0, sizeof(in));
    in.id = "x";
    in.id_len = 1;
    in.pattern = "[ipv4-addr:value = ";
    in.pattern_len = strlen(in.pattern);
    in.valid_until_ms = EVER;
    ctix_diag_clear(&d);
    assert_int_equal(scan_index_add(ix, &in, &d), CTIX_EINVAL);
    assert_true(d.msg[0] != '\0');
    assert_int_equal(scan_index_finish(ix), CTIX_OK);
    scan_index_stats(ix, &st);
    assert_int_equal(st.n_bad, 1);
    assert_int_equal(st.n_live, 0);
    scan_index_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),       cmocka_unit_test(test_stats),
        cmocka_unit_test(test_conn),        cmocka_unit_test(test_conn_observable),
        cmocka_unit_test(test_bad_pattern),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
