/* The scan sieve: never "no" for a line in which some reader finds a listed value (every reader,
 * lines written to slip past a careless sieve: letter case, trailing dots, leading hyphens,
 * ports, userinfo, brackets, escapes, percent-encoding, addresses inside words, hashes inside
 * file names), "no" for lines of look-alikes, the same answers one line at a time and in
 * batches, and no sieve for an index it cannot see through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "scan/sieve_check.h"

#define SHA_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

/* Lines some reader finds a listed value in. */
static const char *const listed[] = {
    "1.2.3.4",
    "src=1.2.3.4 dst=5.6.7.8",
    "ip-1.2.3.4 seen",
    "[1.2.3.4]:80",
    "connect to 1.2.3.4:443 failed",
    "10.20.99.1",
    "10.30.0.5 in a /28",
    "10.40.0.63",
    "192.168.7.7",
    "from 192.168.7.7:5353",
    "2001:db8::1",
    "2001:DB8:0:0::1 upper case",
    "[2001:db8::1]:443",
    "2001:db8:aaaa:1::5",
    "2001:db8:bbbb:1:ffff::1",
    "dns AAAA 2a00:145f:1::9",
    "GET http://EVIL.EXAMPLE./x HTTP/1.1",
    "host=a.b.evil.example",
    "-evil.example",
    "evil.example:443",
    "www.Evil.Example",
    "mail from user@evil.example",
    "sub.a_b.example",
    "fetch http://bad.example/a~b",
    "fetch http://bad.example:80/a%7Eb",
    "fetch http://bad%2Eexample/a~b",
    "fetch http://BAD.example/a%7eb?",
    "http://pre.example/dl/file.zip",
    "http://9.9.9.9/x",
    "http://[2001:db8::77]/v6",
    "https://user@auth.example:8443/p",
    "sha256=" SHA_A,
    "file " SHA_A ".exe",
    "md5 D41D8CD98F00B204E9800998ECF8427E",
    "to: x@Mail.Example",
    "x@mail.example.",
    "resolved one.example",
    "8.8.8.8",
    "6.6.6.6",
    "{\"host\":\"evil.example\",\"n\":1}",
    "{\"host\":\"evil\\u002eexample\"}",
    "{\"url\":\"http:\\/\\/bad.example\\/a~b\"}",
    "1714996800.002    111 10.33.99.146 TCP_MISS/204 2690 GET https://x.evil.example/ - "
    "HIER_DIRECT/4.76.40.35 text/html",
    "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.0\" 200 2326 "
    "\"http://www.evil.example/start.html\" \"Mozilla/4.08\"",
    "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on 1.2.3.4",
    "1.1.1.1,1.2.3.4,www.evil.example,,,,",
    "1714996800.0\t10.0.0.1\t10.0.0.2\twww.evil.example\t-\t-\t-\t1.1.1.1",
    "1714996800.0\t10.0.0.1\t10.0.0.2\t-\tbad.example\t/a~b\t-\t-",
};

/* Lines of look-alikes: nothing listed. */
static const char *const unlisted[] = {
    "11.2.3.45",
    "1.2.3.40 and 1.2.3.5",
    "10.21.0.1",
    "10.30.0.16",
    "10.40.1.64",
    "192.168.7.8",
    "192.168.70.7 and 192.169.7.7",
    "2001:db8::2",
    "2001:db8:aaab::1",
    "2001:db8:bbbb:2::1",
    "2a00:1460::1",
    "notevil.example",
    "evil.example.org",
    "evilexample.com",
    "http://bad.example.net/a~b",
    "x@mail.example.org",
    "y@other.example",
    "sha256=BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "a quiet line with no values at all",
    "1714996800.002 8.8.4.4 example.com",
    "{\"timestamp\":\"2024-05-06T12:00:00.006Z\",\"src_ip\":\"10.6.132.251\"}",
    "2024-05-06T12:00:00 version 1.2.3 build 4.5",
    "1714996800.002    111 10.33.99.146 TCP_MISS/204 2690 GET https://static.example.com/a.js - "
    "HIER_DIRECT/4.76.40.35 text/html",
    "host-9.9.9.8 and www.intranet.example",
    /* a URL's host and an e-mail address's domain match themselves, not their subdomains */
    "fetch http://www.bad.example/a~b",
    "https://user@www.auth.example:8443/p",
    "http://cdn.pre.example/dl/file.zip",
    "to: x@smtp.mail.example",
};

static struct scan_index *IX, *IXX, *IX6;

static int setup(void **state)
{
    (void)state;
    IX = sieve_check_index(SIEVE_CHECK_BASE);
    IXX = sieve_check_index(SIEVE_CHECK_EXTRA);
    IX6 = sieve_check_index(SIEVE_CHECK_V6ADDR);
    return IX != NULL && IXX != NULL && IX6 != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    scan_index_free(IX);
    scan_index_free(IXX);
    scan_index_free(IX6);
    return 0;
}

/* IPv6 keys that are addresses only: every way of writing a listed address passes, whatever its
 * text's ending (the sieve reads the last groups before parsing); other addresses do not. */
static void test_v6_address_endings(void **state)
{
    static const char *const pass[] = {
        "AAAA 2001:db8::1",
        "AAAA 2001:0db8:0:0:0:0:0:0001 x",
        "dst=1:2:3:4:5:6:7:8",
        "\"ip\":\"0001:0002:0003:0004:0005:0006:0007:0008\"",
        "from fe80::ab:cd01 to",
        "from FE80:0:0:0:0:0:AB:CD01 to",
        "from fe80::0:ab:cd01 to",
        "net 2001:db8:5:: here",
        "net 2001:db8:5:0:0:0:0:0 here",
        "net 2001:db8:5::0 here",
        "mapped ::ffff:1.2.3.4 and",
        "mapped ::ffff:102:304 and",
        "mapped 0:0:0:0:0:ffff:0102:0304 and",
        "GET http://[2001:db8::77]/v6 HTTP/1.1",
        "with a port 2001:db8::1: then",
        /* after a time of day (whose colons are let go before their run is looked at) */
        "12:00:01 AAAA 2001:db8::1",
        "{\"ts\":\"2024-05-06T13:15:58.385Z\",\"ip\":\"::ffff:1.2.3.4\"}",
        "mapped 0:0:0:0:0:ffff:1.2.3.4 six colons",
    };
    static const char *const stop[] = {
        "AAAA 2001:db8::2",
        "from fe80::ab:cd02 to",
        "net 2001:db8:5::1 here",
        "dst=1:2:3:4:5:6:7:9",
        "mapped ::ffff:102:305 and",
        "at 12:00:00 nothing",
        "{\"timestamp\":\"2024-05-06T13:15:58.385Z\",\"a\":1}",
        /* (no IPv4 key here: quads of 10/8 and 192.168/16 are let go from their first bytes) */
        "from 10.1.2.3 to 192.168.1.1 via 172.16.0.1",
    };

    (void)state;
    assert_non_null(scan_index_sieve(IX6));
    for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
        size_t n = strlen(pass[i]);

        if (!sieve_check_hits(IX6, pass[i], n) || !sieve_check_maybe(IX6, pass[i], n)) {
            fprintf(stderr, "not found or sieved away: %s\n", pass[i]);
            fail();
        }
        /* and at every offset in a 64-byte word (the candidate colons are found a word at a
         * time) */
        for (size_t off = 1; off < 80; off++) {
            char line[256];

            memset(line, ' ', off);
            memcpy(line + off, pass[i], n);
            if (sieve_check_hits(IX6, line, off + n) && !sieve_check_maybe(IX6, line, off + n)) {
                fprintf(stderr, "sieved away at offset %zu: %s\n", off, pass[i]);
                fail();
            }
        }
    }
    for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++) {
        size_t n = strlen(stop[i]);

        assert_false(sieve_check_hits(IX6, stop[i], n));
        if (sieve_check_maybe(IX6, stop[i], n)) {
            fprintf(stderr, "let through: %s\n", stop[i]);
            fail();
        }
    }
}

static void test_listed_lines_pass(void **state)
{
    (void)state;
    assert_non_null(scan_index_sieve(IX));
    assert_non_null(scan_index_sieve(IXX));
    for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
        size_t n = strlen(listed[i]);

        if (!sieve_check_maybe(IX, listed[i], n) || !sieve_check_maybe(IXX, listed[i], n)) {
            fprintf(stderr, "sieved away: %s\n", listed[i]);
            fail();
        }
    }
    /* the test's own premise: the readers do find a listed value in most of them (the escaped
     * and percent-encoded lines pass the sieve without being looked at) */
    size_t found = 0;
    for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
        found += sieve_check_hits(IX, listed[i], strlen(listed[i]));
    assert_true(found >= sizeof(listed) / sizeof(listed[0]) - 3);
}

static void test_lookalikes_are_sieved(void **state)
{
    size_t passed = 0, n = sizeof(unlisted) / sizeof(unlisted[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        assert_false(sieve_check_hits(IX, unlisted[i], strlen(unlisted[i])));
        if (sieve_check_maybe(IX, unlisted[i], strlen(unlisted[i]))) {
            fprintf(stderr, "let through: %s\n", unlisted[i]);
            passed++;
        }
    }
    /* a "maybe" of the filter is checked against the keys' fingerprints: none passes */
    assert_int_equal(passed, 0);
}

/* An index of many domains: random names that are none of them (nor below one) are all let go,
 * where the filter alone says "maybe" to about one lookup in 400 at its fullest; names below a
 * listed one all pass. */
static void test_no_false_maybe(void **state)
{
    struct scan_index *ix = scan_index_new();
    char pat[96], id[64], line[128];
    size_t let = 0;
    uint64_t x = 0x9e3779b97f4a7c15u;

    (void)state;
    assert_non_null(ix);
    for (unsigned i = 0; i < 40000; i++) {
        snprintf(pat, sizeof(pat), "[domain-name:value = 'k%u.example']", i);
        snprintf(id, sizeof(id), "indicator--%u", i);
        assert_true(sieve_check_add(ix, id, pat));
    }
    assert_int_equal(scan_index_finish(ix), CTIX_OK);
    assert_non_null(scan_index_sieve(ix));
    for (unsigned i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        snprintf(line, sizeof(line), "GET http://www.q%u.example/ from %u.%u.%u.%u", (unsigned)x,
                 (unsigned)(x >> 32) % 223 + 1, (unsigned)(x >> 40) & 255,
                 (unsigned)(x >> 48) & 255, (unsigned)(x >> 56));
        let += sieve_check_maybe(ix, line, strlen(line));
    }
    assert_int_equal(let, 0);
    for (unsigned i = 0; i < 40000; i += 997) {
        snprintf(line, sizeof(line), "GET http://www.k%u.example/", i);
        assert_true(sieve_check_maybe(ix, line, strlen(line)));
    }
    scan_index_free(ix);
}

static void test_one_label_keys(void **state)
{
    (void)state;
    /* a URL host of one label: any run of host bytes is looked up */
    assert_true(sieve_check_hits(IXX, "GET http://intranet/x", 21));
    assert_true(sieve_check_maybe(IXX, "GET http://intranet/x", 21));
    assert_false(sieve_check_hits(IXX, "GET http://intranet2/x", 22));
    /* an IPv6 network shorter than /20: addresses are looked up in the index */
    assert_true(sieve_check_hits(IXX, "AAAA 3001:abcd::1", 17));
    assert_true(sieve_check_maybe(IXX, "AAAA 3001:abcd::1", 17));
    assert_false(sieve_check_maybe(IXX, "AAAA 3010::1", 12));
    assert_true(sieve_check_maybe(IXX, "AAAA 2001:db8:bbbb:1::7", 23));
}

/* The memory of clean runs keys a run by every one of its bytes: a look-alike found clean in one
 * batch does not hide a listed name that differs from it in one byte in the next (the look-alike
 * is looked up, and so remembered, when its last label ends some key). */
static void test_memory_keys_every_byte(void **state)
{
    static const char *const names[] = {"e.ab", "e.abcdefg", "e.abcdefgh", "ev.abcdefghijklm",
                                        "evil.abcdefghijklmnop"};
    struct scan_sieve_batch b;
    char line[64 + SCAN_SIEVE_PAD], pat[128];
    size_t checked = 0;

    (void)state;
    assert_true(scan_sieve_batch_init(&b));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]), last = (size_t)(strrchr(names[i], '.') - names[i]) + 1;
        struct scan_index *ix = scan_index_new();

        snprintf(pat, sizeof(pat), "[domain-name:value = '%s']", names[i]);
        assert_true(sieve_check_add(ix, "indicator--n", pat));
        /* each look-alike's last label ends a key */
        for (size_t at = last; at < n; at++) {
            char id[32];

            snprintf(pat, sizeof(pat), "[domain-name:value = 'z.%s']", names[i] + last);
            pat[strlen("[domain-name:value = 'z.") + at - last] = 'x';
            snprintf(id, sizeof(id), "indicator--z%zu", at);
            assert_true(sieve_check_add(ix, id, pat));
        }
        assert_int_equal(scan_index_finish(ix), CTIX_OK);
        for (size_t at = 0; at < n; at++) {
            if (names[i][at] == '.' || names[i][at] == 'x')
                continue;
            /* the look-alike: one byte changed, found clean */
            memset(line, 0, sizeof(line));
            memcpy(line, names[i], n);
            line[at] = 'x';
            (void)scan_sieve_block(scan_index_sieve(ix), &b, line, n);
            assert_int_equal(b.k, 1);
            assert_int_equal(b.maybe, 0);
            /* the name, in the next batch */
            memcpy(line, names[i], n);
            assert_true(sieve_check_hits(ix, line, n));
            (void)scan_sieve_block(scan_index_sieve(ix), &b, line, n);
            assert_int_equal(b.maybe, 1);
            checked++;
        }
        scan_index_free(ix);
    }
    assert_true(checked >= 50);
    scan_sieve_batch_cleanup(&b);
}

static void test_batch_equals_lines(void **state)
{
    const struct scan_sieve *sv = scan_index_sieve(IX);
    struct scan_sieve_batch b;
    char *buf = calloc(1, 80 * 200 + SCAN_SIEVE_PAD);
    size_t at = 0, nl = sizeof(listed) / sizeof(listed[0]),
           nu = sizeof(unlisted) / sizeof(unlisted[0]), took;

    (void)state;
    assert_non_null(buf);
    assert_true(scan_sieve_batch_init(&b));
    /* 70 lines, listed and unlisted interleaved, one with "\r\n", in one buffer as a block
     * holds them: a batch takes 64 */
    for (unsigned i = 0; i < 70; i++) {
        const char *s = i % 3 == 0 ? listed[i % nl] : unlisted[i % nu];
        size_t n = strlen(s);

        memcpy(buf + at, s, n);
        at += n;
        if (i == 5)
            buf[at++] = '\r';
        buf[at++] = '\n';
    }
    took = scan_sieve_block(sv, &b, buf, at);
    assert_int_equal(b.k, SCAN_SIEVE_BATCH);
    assert_true(took < at && buf[took - 1] == '\n');
    for (unsigned i = 0; i < SCAN_SIEVE_BATCH; i++) {
        const char *s = i % 3 == 0 ? listed[i % nl] : unlisted[i % nu];

        assert_int_equal(b.n[i], strlen(s));
        assert_memory_equal(b.p[i], s, b.n[i]);
        assert_int_equal((b.maybe >> i) & 1, scan_sieve_line(sv, b.p[i], b.n[i]));
        if (i % 3 == 0)
            assert_true((b.maybe >> i) & 1);
    }
    /* the rest, and a last line without its '\n' */
    at--;
    took += scan_sieve_block(sv, &b, buf + took, at - took);
    assert_int_equal(b.k, 70 - SCAN_SIEVE_BATCH);
    assert_int_equal(took, at);
    /* Zeek's field count comes out of the same pass */
    memcpy(buf, "a\tb\tc\t10.99.0.1\nx!", 18);
    took = scan_sieve_block(sv, &b, buf, 18);
    assert_int_equal(b.k, 2);
    assert_int_equal(took, 18);
    assert_int_equal(b.maybe, 0);
    assert_int_equal(scan_sieve_count(sv, b.p[0], b.n[0], '\t'), 3);
    /* the count against a byte-by-byte one, at every length and offset around a vector's */
    {
        char t[600 + SCAN_SIEVE_PAD];

        for (size_t i = 0; i < sizeof(t); i++)
            t[i] = (char)("\ta\t\tb,\t"[i % 7]);
        for (size_t off = 0; off < 40; off++) {
            for (size_t n = 0; off + n <= 600; n++) {
                size_t want = 0;

                for (size_t j = 0; j < n; j++)
                    want += t[off + j] == '\t';
                assert_int_equal(scan_sieve_count(sv, t + off, n, '\t'), want);
            }
        }
    }
    /* a line longer than the sieve looks at goes through whole */
    memset(buf, 'a', 80 * 200);
    buf[5000] = '\n';
    took = scan_sieve_block(sv, &b, buf, 80 * 200);
    assert_int_equal(b.k, 2);
    assert_int_equal(b.n[0], 5000);
    assert_int_equal(b.maybe, 3);
    assert_int_equal(took, 80 * 200);
    /* long lines: a batch ends where its region of the block does, the next one goes on */
    {
        char *big = malloc(20 * 4001 + SCAN_SIEVE_PAD);
        size_t total = 0, lines = 0;

        assert_non_null(big);
        for (size_t i = 0; i < 20; i++) {
            memset(big + i * 4001, 'b', 4000);
            big[i * 4001 + 4000] = '\n';
        }
        memcpy(big + 7 * 4001 + 100, " 1.2.3.4 ", 9);
        while (total < 20 * 4001) {
            took = scan_sieve_block(sv, &b, big + total, 20 * 4001 - total);
            assert_true(b.k >= 1 && b.k < 20);
            for (unsigned i = 0; i < b.k; i++) {
                assert_int_equal(b.n[i], 4000);
                assert_int_equal((b.maybe >> i) & 1, lines + i == 7);
            }
            lines += b.k;
            total += took;
        }
        assert_int_equal(lines, 20);
        /* a line longer than a region (64 KB), ended by "\r\n": through whole, without its '\r' */
        memset(big, 'c', 20 * 4001);
        memcpy(big + 70000, "\r\nnext\n", 7);
        took = scan_sieve_block(sv, &b, big, 70007);
        assert_int_equal(b.k, 1);
        assert_int_equal(b.n[0], 70000);
        assert_int_equal(b.maybe, 1);
        assert_int_equal(took, 70002);
        free(big);
    }
    scan_sieve_batch_cleanup(&b);
    free(buf);
}

static void test_no_sieve_for_any_value_prefilters(void **state)
{
    struct scan_index *ix = scan_index_new();

    (void)state;
    assert_true(sieve_check_add(ix, "indicator--re", "[domain-name:value MATCHES '^evil']"));
    assert_int_equal(scan_index_finish(ix), CTIX_OK);
    assert_null(scan_index_sieve(ix)); /* every line is read */
    scan_index_free(ix);
}

static void test_long_and_odd_lines(void **state)
{
    char *big = malloc(SCAN_SIEVE_LINE_MAX + 2 + SCAN_SIEVE_PAD);

    (void)state;
    assert_non_null(big);
    memset(big, 'a', SCAN_SIEVE_LINE_MAX + 1);
    /* longer than the sieve looks at: through */
    assert_true(scan_sieve_line(scan_index_sieve(IX), big, SCAN_SIEVE_LINE_MAX + 1));
    /* an empty line holds nothing */
    assert_false(scan_sieve_line(scan_index_sieve(IX), big, 0));
    /* a listed value at the very end of a 64-byte word and across words */
    memset(big, ' ', 200);
    memcpy(big + 64 - 7, "1.2.3.4", 7);
    assert_true(sieve_check_maybe(IX, big, 64));
    memcpy(big + 120, "www.evil.example", 16);
    assert_true(sieve_check_maybe(IX, big + 60, 80));
    memcpy(big + 190 - 32, "d41d8cd98f00b204e9800998ecf8427e", 32);
    assert_true(sieve_check_maybe(IX, big + 140, 50));
    free(big);
}

/* Runs of digits, one dot and digits (times, durations, TTLs) are let go by the dotted walk
 * before it looks at them: never a listed value beside one, at every offset in a 64-byte word,
 * nor a hash of digits alone inside one; such runs alone are no reason to read a line. */
static void test_numeric_runs(void **state)
{
    struct scan_index *ix = scan_index_new();
    static const char *const around[] = {
        "12.5 1.2.3.4",
        "1.2.3.4 300.000000",
        "1714997179.595230\t1.2.3.4\t0.050355",
        "12345678901234567890123456789012.5",
        "5.12345678901234567890123456789012 x",
        "1.2.3.4.5 1.2.3.4",
        "7.12.3.4",
        "10.0.0.1.2.3.4",
        "10.20.30.40 1.2.3.4",
        "110.1.2.3 1.2.3.4",
        "10.1.2.3,1.2.3.4 10.1.2",
    };
    char line[256 + SCAN_SIEVE_PAD];
    size_t hit = 0;

    (void)state;
    assert_true(sieve_check_add(ix, "indicator--a", "[ipv4-addr:value = '1.2.3.4']"));
    assert_true(sieve_check_add(ix, "indicator--h",
                                "[file:hashes.MD5 = '12345678901234567890123456789012']"));
    assert_int_equal(scan_index_finish(ix), CTIX_OK);
    for (size_t i = 0; i < sizeof(around) / sizeof(around[0]); i++) {
        for (int off = 0; off < 80; off++) {
            size_t n = (size_t)off + strlen(around[i]);

            memset(line, ' ', (size_t)off);
            memcpy(line + off, around[i], strlen(around[i]));
            memset(line + n, 0, SCAN_SIEVE_PAD);
            assert_true(scan_sieve__classify_agree(line, n));
            if (sieve_check_hits(ix, line, n)) {
                hit++;
                assert_true(sieve_check_maybe(ix, line, n));
            }
        }
    }
    assert_true(hit >= 8 * 80); /* the first three lines and the quads' always hold one */
    assert_false(sieve_check_maybe(ix, "1714997179.595230\t300.000000\t0.050355", 37));
    assert_false(sieve_check_maybe(ix, "1.5 22.75 333.125 4444.0625 55555.03125", 39));
    /* a JSON time's seconds are no host when no key's last label begins with a digit */
    assert_false(sieve_check_maybe(ix, "{\"ts\":\"2024-05-06T13:15:58.385Z\"}", 34));
    scan_index_free(ix);
    /* and are looked at when one does */
    hit = 0;
    ix = scan_index_new();
    assert_true(sieve_check_add(ix, "indicator--d", "[domain-name:value = '58.385z']"));
    assert_true(sieve_check_add(ix, "indicator--e", "[domain-name:value = 'evil.3com']"));
    assert_int_equal(scan_index_finish(ix), CTIX_OK);
    for (int off = 0; off < 80; off++) {
        static const char *const with[] = {"{\"hostname\":\"58.385Z\"}",
                                           "{\"hostname\":\"www.evil.3com\"}",
                                           "{\"hostname\":\"sub.58.385z\"}"};

        for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++) {
            size_t n = (size_t)off + 1 + strlen(with[i]);

            memset(line, ' ', (size_t)off + 1);
            memcpy(line + off + 1, with[i], strlen(with[i]));
            memset(line + n, 0, SCAN_SIEVE_PAD);
            if (sieve_check_hits(ix, line, n)) {
                hit++;
                assert_true(sieve_check_maybe(ix, line, n));
            }
        }
    }
    assert_int_equal(hit, 3 * 80);
    scan_index_free(ix);
}

/* The vector passes against the portable ones: the classification of every line above, and the
 * dotted-quad parse of every shape of part lengths 0-4 with digits that make parts of 0, 9, 99,
 * 255, 256 and 999 (and leading zeros). */
static void test_vector_passes_agree(void **state)
{
    static const char *const parts[] = {"",    "0",   "9",   "00",  "99",
                                        "255", "256", "999", "007", "1000"};
    const size_t np = sizeof(parts) / sizeof(parts[0]);
    char line[64 + SCAN_SIEVE_PAD];
    const struct scan_sieve *sv = scan_index_sieve(IX);
    size_t checked = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
        char buf[512 + SCAN_SIEVE_PAD];
        size_t n = strlen(listed[i]);

        memset(buf, 0, sizeof(buf));
        memcpy(buf, listed[i], n);
        assert_true(scan_sieve__classify_agree(buf, n));
    }
    /* a byte from 0x80 (UTF-8) in any place of whole words and of a last partial one: it has
     * no class, and the other bytes keep theirs */
    for (size_t at = 0; at < 200; at++) {
        char buf[256 + SCAN_SIEVE_PAD];

        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = "a1.b:%\\-_ \n\t,Z9"[i % 15];
        buf[at] = (char)(0x80 | (at % 128)); /* (its low bits every ASCII class in turn) */
        assert_true(scan_sieve__classify_agree(buf, 256));
        assert_true(scan_sieve__classify_agree(buf, 200));
    }
    for (size_t a = 0; a < np; a++) {
        for (size_t b = 0; b < np; b++) {
            for (size_t c = 0; c < np; c++) {
                for (size_t d = 0; d < np; d++) {
                    int n =
                        snprintf(line, 64, "%s.%s.%s.%s", parts[a], parts[b], parts[c], parts[d]);

                    memset(line + n, 'x', SCAN_SIEVE_PAD);
                    assert_true(scan_sieve__quad_agree(sv, line, (size_t)n));
                    checked += n >= 7 && n <= 15;
                }
            }
        }
    }
    assert_true(checked > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listed_lines_pass),
        cmocka_unit_test(test_v6_address_endings),
        cmocka_unit_test(test_lookalikes_are_sieved),
        cmocka_unit_test(test_no_false_maybe),
        cmocka_unit_test(test_one_label_keys),
        cmocka_unit_test(test_batch_equals_lines),
        cmocka_unit_test(test_memory_keys_every_byte),
        cmocka_unit_test(test_no_sieve_for_any_value_prefilters),
        cmocka_unit_test(test_long_and_odd_lines),
        cmocka_unit_test(test_numeric_runs),
        cmocka_unit_test(test_vector_passes_agree),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
