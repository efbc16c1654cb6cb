/* pattern_scan_keys: the keys each kind of comparison gives, how AND/OR/NOT and observation
 * operators compose them, when the result is exact, and that a long OR chain does not recurse. */
#include "pattern/pattern.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static const char *op_name(enum pattern_key_op op)
{
    switch (op) {
    case PATTERN_KEY_EQ:
        return "EQ";
    case PATTERN_KEY_CIDR:
        return "CIDR";
    case PATTERN_KEY_PREFIX:
        return "PREFIX";
    case PATTERN_KEY_ANY:
        return "ANY";
    }
    return "?";
}

struct collect {
    struct buf out;
    size_t n;
    int stop_after; /* return 7 once this many were seen (0: never) */
};

/* Writes each key as "OP path=val" (ANY: "ANY path"), separated by "; ". */
static int collect_key(const struct pattern_key *k, void *arg)
{
    struct collect *c = arg;

    assert_non_null(k->path);
    if (c->n > 0)
        assert_int_equal(buf_append(&c->out, "; ", 2), CTIX_OK);
    if (k->op == PATTERN_KEY_ANY) {
        assert_null(k->val);
        assert_int_equal(k->len, 0);
        assert_int_equal(buf_appendf(&c->out, "ANY %s", k->path), CTIX_OK);
    } else {
        assert_non_null(k->val);
        assert_int_equal(
            buf_appendf(&c->out, "%s %s=%.*s", op_name(k->op), k->path, (int)k->len, k->val),
            CTIX_OK);
    }
    c->n++;
    return c->stop_after > 0 && c->n >= (size_t)c->stop_after ? 7 : 0;
}

static struct pattern *parse(const char *text)
{
    struct pattern *p = NULL;
    struct ctix_diag d;

    ctix_diag_clear(&d);
    if (pattern_parse(text, strlen(text), PATTERN_SYNTAX, &p, &d) != CTIX_OK)
        fail_msg("%s: %s (col %u)", text, d.msg, d.col);
    return p;
}

struct kcase {
    const char *pattern;
    const char *keys;
    bool exact;
};

static const struct kcase cases[] = {
    /* equality and IN */
    {"[ipv4-addr:value = '1.2.3.4']", "EQ ipv4-addr:value=1.2.3.4", true},
    {"[domain-name:value = 'evil.example']", "EQ domain-name:value=evil.example", true},
    {"[file:hashes.'SHA-256' = "
     "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
     "EQ file:hashes.SHA-256=aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
     true},
    {"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
     "EQ file:hashes.MD5=d41d8cd98f00b204e9800998ecf8427e", true},
    {"[url:value IN ('http://a.example/', 'http://b.example/x')]",
     "EQ url:value=http://a.example/; EQ url:value=http://b.example/x", true},
    {"[email-addr:value = 'a@b.example' OR domain-name:value = 'b.example']",
     "EQ email-addr:value=a@b.example; EQ domain-name:value=b.example", true},
    {"[x-acme-thing:name = 'w']", "EQ x-acme-thing:name=w", true},
    {"[windows-registry-key:key = 'HKLM\\\\Run']", "EQ windows-registry-key:key=HKLM\\Run", true},
    /* non-string, byte and reference comparisons: no key */
    {"[file:size = 5]", "ANY file:size", false},
    {"[file:name_hex = '6162']", "ANY file:name_hex", false},
    {"[file:extensions.'x'.names[*] = 'a']", "ANY file:extensions.x.names[*]", false},
    {"[file:parent_directory_ref.path[0] = 'a']", "ANY file:parent_directory_ref.path[0]", false},
    {"[file:size IN (1, 2)]", "ANY file:size", false},
    {"[url:value != 'x']", "ANY url:value", false},
    {"[file:size > 10]", "ANY file:size", false},
    {"[indicator:name = 'x']", "ANY indicator:name", false},
    /* CIDR */
    {"[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "CIDR ipv4-addr:value=10.0.0.0/8", true},
    {"[ipv6-addr:value ISSUBSET '2001:db8::/32']", "CIDR ipv6-addr:value=2001:db8::/32", true},
    {"[ipv4-addr:value = '192.168.0.0/16']", "CIDR ipv4-addr:value=192.168.0.0/16", true},
    {"[ipv4-addr:value IN ('1.2.3.4', '10.0.0.0/8', '5.6.7.8/40')]",
     "EQ ipv4-addr:value=1.2.3.4; CIDR ipv4-addr:value=10.0.0.0/8; EQ ipv4-addr:value=5.6.7.8/40",
     true},
    {"[url:value = '10.0.0.0/8']", "EQ url:value=10.0.0.0/8", true},
    {"[ipv4-addr:value ISSUPERSET '10.0.0.0/8']", "ANY ipv4-addr:value", false},
    {"[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", "ANY ipv4-addr:value", false},
    /* LIKE */
    {"[url:value LIKE 'http://evil.example/%']", "PREFIX url:value=http://evil.example/", true},
    {"[url:value LIKE 'http://x/%%']", "PREFIX url:value=http://x/", true},
    {"[url:value LIKE 'http://x/']", "EQ url:value=http://x/", true},
    {"[url:value LIKE '%evil%']", "ANY url:value", false},
    {"[url:value LIKE 'http://%/x']", "ANY url:value", false},
    {"[url:value LIKE 'http://a_b/%']", "ANY url:value", false},
    {"[domain-name:value LIKE '%.evil.example']", "ANY domain-name:value", false},
    /* MATCHES, NOT */
    {"[domain-name:value MATCHES '^evil']", "ANY domain-name:value", false},
    {"[domain-name:value NOT = 'a.example']", "ANY domain-name:value", false},
    {"[NOT EXISTS file:name]", "ANY file:name", false},
    /* AND keeps the side without ANY (or with fewer), OR joins */
    {"[file:name = 'a.exe' AND file:size > 10]", "EQ file:name=a.exe", false},
    {"[file:size > 10 AND file:name = 'a.exe']", "EQ file:name=a.exe", false},
    {"[file:size > 10 AND file:name MATCHES 'x']", "ANY file:size", false},
    {"[url:value IN ('a', 'b', 'c') AND domain-name:value = 'd.example']",
     "EQ domain-name:value=d.example", false},
    {"[(url:value = 'a' OR url:value LIKE '%b') AND domain-name:value = 'd.example']",
     "EQ domain-name:value=d.example", false},
    {"[(url:value = 'a' OR url:value = 'b') AND domain-name:value MATCHES 'd']",
     "EQ url:value=a; EQ url:value=b", false},
    {"[url:value = 'a' OR file:size > 1]", "EQ url:value=a; ANY file:size", false},
    /* a connection's addresses: address keys through the reference, never exact */
    {"[network-traffic:dst_ref.value = '1.2.3.4']", "EQ network-traffic:dst_ref.value=1.2.3.4",
     false},
    {"[network-traffic:src_ref.value = '2001:db8::1' OR network-traffic:dst_ref.value = "
     "'10.0.0.0/8']",
     "EQ network-traffic:src_ref.value=2001:db8::1; CIDR network-traffic:dst_ref.value=10.0.0.0/8",
     false},
    {"[network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24']",
     "CIDR network-traffic:dst_ref.value=203.0.113.0/24", false},
    {"[network-traffic:src_ref.value IN ('10.0.0.5', '10.0.0.6')]",
     "EQ network-traffic:src_ref.value=10.0.0.5; EQ network-traffic:src_ref.value=10.0.0.6", false},
    {"[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 4444]",
     "EQ network-traffic:dst_ref.value=198.51.100.7", false},
    {"[network-traffic:dst_port = 4444 AND network-traffic:dst_ref.value = '198.51.100.7']",
     "EQ network-traffic:dst_ref.value=198.51.100.7", false},
    {"[network-traffic:src_ref.value = '10.0.0.5' AND network-traffic:dst_ref.value ISSUBSET "
     "'203.0.113.0/24']",
     "EQ network-traffic:src_ref.value=10.0.0.5", false},
    {"[network-traffic:dst_port = 4444]", "ANY network-traffic:dst_port", false},
    {"[network-traffic:protocols[*] = 'tcp']", "ANY network-traffic:protocols[*]", false},
    {"[network-traffic:dst_ref.value NOT = '1.2.3.4']", "ANY network-traffic:dst_ref.value", false},
    {"[network-traffic:dst_ref.value MATCHES '^1[.]']", "ANY network-traffic:dst_ref.value", false},
    /* other paths through references still give no key */
    {"[network-traffic:dst_ref.type = 'ipv4-addr']", "ANY network-traffic:dst_ref.type", false},
    {"[network-traffic:src_ref.resolves_to_refs[*].value = 'aa:bb:cc:dd:ee:ff']",
     "ANY network-traffic:src_ref.resolves_to_refs[*].value", false},
    {"[email-message:from_ref.value = 'a@b.example']", "ANY email-message:from_ref.value", false},
    /* observation operators and qualifiers */
    {"[url:value = 'a'] OR [domain-name:value = 'b.example']",
     "EQ url:value=a; EQ domain-name:value=b.example", false},
    {"[url:value MATCHES 'a'] AND [domain-name:value = 'b.example']",
     "EQ domain-name:value=b.example", false},
    {"[url:value = 'a'] FOLLOWEDBY [domain-name:value MATCHES 'b']", "EQ url:value=a", false},
    {"[url:value = 'a'] REPEATS 2 TIMES", "EQ url:value=a", false},
    {"[url:value = 'a'] WITHIN 10 SECONDS", "EQ url:value=a", false},
    {"[ipv4-addr:value = '1.2.3.4'] START t'2024-01-01T00:00:00Z' STOP t'2025-01-01T00:00:00Z'",
     "EQ ipv4-addr:value=1.2.3.4", false},
    {"([url:value = 'a'] OR [url:value = 'b']) AND [file:size > 3]",
     "EQ url:value=a; EQ url:value=b", false},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        struct pattern *p = parse(cases[i].pattern);
        struct collect c = {.n = 0};
        bool exact = !cases[i].exact;
        int r;

        buf_init(&c.out, 1u << 20);
        r = pattern_scan_keys(p, collect_key, &c, &exact);
        if (r != 0)
            fail_msg("%s: returned %d", cases[i].pattern, r);
        if (strcmp(c.out.len ? c.out.data : "", cases[i].keys) != 0)
            fail_msg("%s:\n  got  %s\n  want %s", cases[i].pattern, c.out.len ? c.out.data : "",
                     cases[i].keys);
        if (exact != cases[i].exact)
            fail_msg("%s: exact %d, want %d", cases[i].pattern, exact, cases[i].exact);
        buf_cleanup(&c.out);
        pattern_free(p);
    }
}

/* A non-zero return of fn stops the walk and is what pattern_scan_keys returns. */
static void test_stop(void **state)
{
    struct pattern *p = parse("[url:value IN ('a', 'b', 'c')] OR [url:value = 'd']");
    struct collect c = {.n = 0, .stop_after = 2};
    bool exact = true;

    (void)state;
    buf_init(&c.out, 1u << 20);
    assert_int_equal(pattern_scan_keys(p, collect_key, &c, &exact), 7);
    assert_int_equal(c.n, 2);
    assert_false(exact);
    buf_cleanup(&c.out);
    pattern_free(p);
}

static int count_key(const struct pattern_key *k, void *arg)
{
    size_t *n = arg;

    if (k->op != PATTERN_KEY_EQ)
        return 1;
    (*n)++;
    return 0;
}

/* 20000 comparisons joined by OR (a left-deep tree 20000 deep), and as many by AND. */
static void test_long_chain(void **state)
{
    static const char *const joins[] = {" OR ", " AND "};

    (void)state;
    for (size_t j = 0; j < CTIX_ARRAY_LEN(joins); j++) {
        struct buf t;
        struct pattern *p = NULL;
        struct ctix_diag d;
        size_t n = 0;
        bool exact = false;

        buf_init(&t, 1u << 26);
        assert_int_equal(buf_append(&t, "[", 1), CTIX_OK);
        for (int i = 0; i < 20000; i++)
            assert_int_equal(
                buf_appendf(&t, "%sdomain-name:value = 'h%d.example'", i ? joins[j] : "", i),
                CTIX_OK);
        assert_int_equal(buf_append(&t, "]", 1), CTIX_OK);
        ctix_diag_clear(&d);
        if (pattern_parse(t.data, t.len, PATTERN_SYNTAX, &p, &d) != CTIX_OK)
            fail_msg("parse: %s", d.msg);
        assert_int_equal(pattern_scan_keys(p, count_key, &n, &exact), 0);
        assert_int_equal(n, j == 0 ? 20000 : 1);
        assert_int_equal(exact, j == 0);
        pattern_free(p);
        buf_cleanup(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_long_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
