/* What the sieve must never do, checked line by line by sieve_test.c and sieve_fuzz.c: say "no"
 * to a line in which some log reader finds an observable the index matches. Every reader is
 * tried on the line (plain text, JSON lines, Squid, combined, syslog, CSV and Zeek under a fixed
 * header), and an index of every kind of key the sieve sees (addresses, networks that cover whole
 * /24s and smaller ones, IPv6 addresses and networks, domains, URLs with a name, an address or an
 * IPv6 host, URL prefixes, hashes, e-mail, a pattern evaluated behind its keys). Included by those
 * two files only (static inline). */
#ifndef CTIX_SCAN_SIEVE_CHECK_H
#define CTIX_SCAN_SIEVE_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"
#include "scan/scan_int.h"
#include "scan/sieve.h"

static const char *const sieve_check_patterns[] = {
    "[ipv4-addr:value = '1.2.3.4']",
    "[ipv4-addr:value = '10.20.0.0/16']",
    "[ipv4-addr:value = '10.30.0.0/28']",
    "[ipv4-addr:value = '10.40.0.0/26']",
    "[ipv4-addr:value = '192.168.7.7']",
    "[ipv6-addr:value = '2001:db8::1']",
    "[ipv6-addr:value = '2001:db8:aaaa::/48']",
    "[ipv6-addr:value = '2001:db8:bbbb:1::/64']",
    "[ipv6-addr:value = '2a00:1450::/28']",
    "[domain-name:value = 'Evil.Example.']",
    "[domain-name:value = 'a_b.example']",
    "[url:value = 'HTTP://Bad.Example:80/a%7eb']",
    "[url:value LIKE 'http://pre.example/dl/%']",
    "[url:value = 'http://9.9.9.9/x']",
    "[url:value = 'http://[2001:db8::77]/v6']",
    "[url:value = 'https://user@auth.example:8443/p']",
    "[file:hashes.'SHA-256' = "
    "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']",
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[email-addr:value = 'x@mail.example']",
    "[domain-name:value = 'one.example' OR ipv4-addr:value IN ('7.7.7.7', '8.8.8.8')]",
    "[ipv4-addr:value = '6.6.6.6' AND ipv4-addr:value != '6.6.6.7']",
};

/* Keys that change how the sieve reads lines: a URL whose host is one label (every run of
 * host bytes is then a host), an IPv6 network too wide to cut into /32s (every IPv6 address is
 * then looked up in the index). */
static const char *const sieve_check_extra[] = {
    "[url:value = 'http://intranet/x']",
    "[ipv6-addr:value = '3000::/12']",
};

/* IPv6 keys that are all addresses (no network): the sieve then reads a log address's last
 * groups before parsing it — these end in every way its text can say (two groups, one after "::",
 * "::" itself, an embedded dotted quad). */
static const char *const sieve_check_v6addr[] = {
    "[ipv6-addr:value = '2001:db8::1']",     "[ipv6-addr:value = '1:2:3:4:5:6:7:8']",
    "[ipv6-addr:value = 'fe80::aB:cD01']",   "[ipv6-addr:value = '2001:db8:5::']",
    "[ipv6-addr:value = '::ffff:1.2.3.4']",  "[url:value = 'http://[2001:db8::77]/v6']",
    "[domain-name:value = 'Evil.Example.']",
};

enum { SIEVE_CHECK_BASE, SIEVE_CHECK_EXTRA, SIEVE_CHECK_V6ADDR };

/* Adds to ix an indicator id with pattern pat, valid at any time; false when it is refused. */
static inline bool sieve_check_add(struct scan_index *ix, const char *id, const char *pat)
{
    struct scan_ind_in in;
    struct ctix_diag d;

    memset(&in, 0, sizeof(in));
    in.id = id;
    in.id_len = strlen(id);
    in.pattern = pat;
    in.pattern_len = strlen(pat);
    in.modified_ms = 1;
    in.valid_from_ms = SCAN_TIME_NONE;
    in.valid_until_ms = INT64_MAX;
    ctix_diag_clear(&d);
    return scan_index_add(ix, &in, &d) == CTIX_OK;
}

/* kind: the patterns above (BASE), with the extra ones (EXTRA), or the IPv6-address set alone
 * (V6ADDR). */
static inline struct scan_index *sieve_check_index(int kind)
{
    struct scan_index *ix = scan_index_new();
    size_t n1 = sizeof(sieve_check_patterns) / sizeof(sieve_check_patterns[0]);
    size_t n2 =
        kind == SIEVE_CHECK_EXTRA ? sizeof(sieve_check_extra) / sizeof(sieve_check_extra[0]) : 0;

    if (kind == SIEVE_CHECK_V6ADDR) {
        n1 = sizeof(sieve_check_v6addr) / sizeof(sieve_check_v6addr[0]);
        n2 = 0;
    }
    for (size_t i = 0; ix != NULL && i < n1 + n2; i++) {
        const char *pat = kind == SIEVE_CHECK_V6ADDR ? sieve_check_v6addr[i]
                          : i < n1                   ? sieve_check_patterns[i]
                                                     : sieve_check_extra[i - n1];
        char id[64];

        snprintf(id, sizeof(id), "indicator--%zu", i);
        if (!sieve_check_add(ix, id, pat)) {
            scan_index_free(ix);
            return NULL;
        }
    }
    if (ix != NULL && scan_index_finish(ix) != CTIX_OK) {
        scan_index_free(ix);
        ix = NULL;
    }
    return ix;
}

#define SIEVE_CHECK_CSV "src,dst,host,url,hash,email,msg\n"
#define SIEVE_CHECK_ZEEK                                                                           \
    "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tquery\thost\turi\tmd5\tanswers\n"

/* Whether some reader of some format finds, in line[0..n), an observable ix matches (at any
 * time: validity is not the sieve's business). */
static inline bool sieve_check_hits(const struct scan_index *ix, const char *line, size_t n)
{
    static const enum scan_fmt fmts[] = {SCAN_FMT_PLAIN,    SCAN_FMT_JSONL,  SCAN_FMT_SQUID,
                                         SCAN_FMT_COMBINED, SCAN_FMT_SYSLOG, SCAN_FMT_CSV,
                                         SCAN_FMT_ZEEK,     SCAN_FMT_AUTO};
    bool hit = false;
    struct scan_rec r;
    struct scan_matcher m;

    memset(&m, 0, sizeof(m));
    scan_rec_init(&r);
    for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]) && !hit; f++) {
        struct scan_fmt_state st;
        const char *head = fmts[f] == SCAN_FMT_CSV    ? SIEVE_CHECK_CSV
                           : fmts[f] == SCAN_FMT_ZEEK ? SIEVE_CHECK_ZEEK
                           : fmts[f] == SCAN_FMT_AUTO ? line
                                                      : "";
        size_t hn = fmts[f] == SCAN_FMT_AUTO ? n : strlen(head);
        const char *why;

        scan_fmt_init(&st, fmts[f], head, hn, 2024);
        /* the header lines, as the scanner reads them */
        for (const char *h = head; fmts[f] != SCAN_FMT_AUTO && h < head + hn;) {
            const char *nl = memchr(h, '\n', (size_t)(head + hn - h));
            size_t len = (size_t)((nl != NULL ? nl : head + hn) - h);

            (void)scan_fmt_header(&st, h, len);
            h = nl != NULL ? nl + 1 : head + hn;
        }
        if (!scan_rec_reset(&r, n))
            abort();
        if (scan_fmt_line(&st, line, n, &r, &why) != SCAN_LINE_OK || r.n_obs == 0)
            continue;
        if (scan_index_match(ix, &r, 0, 1, &m) != CTIX_OK)
            abort();
        hit = m.n_hits > 0;
    }
    scan_matcher_cleanup(&m);
    scan_rec_cleanup(&r);
    return hit;
}

/* The sieve's answer for line[0..n), through a padded copy. */
static inline bool sieve_check_maybe(const struct scan_index *ix, const char *line, size_t n)
{
    const struct scan_sieve *sv = scan_index_sieve(ix);
    char *copy;
    bool maybe;

    if (sv == NULL)
        return true;
    copy = malloc(n + SCAN_SIEVE_PAD);
    if (copy == NULL)
        abort();
    memcpy(copy, line, n);
    memset(copy + n, '.', SCAN_SIEVE_PAD); /* host bytes past the end must not count */
    maybe = scan_sieve_line(sv, copy, n);
    if (!scan_sieve__classify_agree(copy, n))
        abort();
    free(copy);
    return maybe;
}

#endif
