/* Tests for the log readers (fmt.c): per format, lines with the observables and time they must
 * give or the message they must be refused with; Zeek header handling; CSV quoting; detection. */
#include "scan/scan_int.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define NONE SCAN_TIME_NONE

/* One line read in a state made of fmt and header lines. Expected observables are "kind:value"
 * in any order ("v4:1.2.3.4", "v6:2001:db8::1", "dom:", "url:", "mail:", "md5:", "sha1:",
 * "sha256:"); the record must hold exactly these. */
struct line_case {
    enum scan_fmt fmt;
    const char *head;    /* for scan_fmt_init's detection (AUTO), may be NULL */
    const char *headers; /* lines that scan_fmt_header must take, '\n'-separated, may be NULL */
    const char *line;
    enum scan_line_rc rc;
    int64_t time_ms;
    const char *why; /* BAD: the message */
    const char *obs[10];
};

#define ZEEK_DNS_HDR                                                                               \
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"    \
    "#open\t2024-05-06-12-00-00\n"                                                                 \
    "#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\ttags\n"                               \
    "#types\ttime\tstring\taddr\taddr\tstring\tvector[string]\tset[string]"

#define ZEEK_HTTP_HDR                                                                              \
    "#separator \\x09\n#set_separator\t,\n#path\thttp\n"                                           \
    "#fields\tts\tid.orig_h\thost\turi\treferrer\tmd5\tuser_agent\n"                               \
    "#types\ttime\taddr\tstring\tstring\tstring\tstring\tstring"

#define SQUID_HEAD                                                                                 \
    "1714996800.218     50 192.168.20.249 TCP_MISS/304 3110 GET http://a.example/ - "              \
    "HIER_DIRECT/39.209.210.74 image/jpeg\n"                                                       \
    "1714996800.219      5 192.168.20.250 TCP_TUNNEL/200 300 CONNECT b.example:443 - "             \
    "HIER_DIRECT/39.209.210.75 -\n"

static const struct line_case line_cases[] = {
    /* ---- squid ---- */
    {SCAN_FMT_SQUID,
     NULL,
     NULL,
     "1714996800.218     50 192.168.20.249 TCP_MISS/304 3110 GET https://Picecojade.XYZ/a?b=1 - "
     "HIER_DIRECT/39.209.210.74 image/jpeg",
     SCAN_LINE_OK,
     1714996800218,
     NULL,
     {"v4:192.168.20.249", "url:https://picecojade.xyz/a?b=1", "dom:picecojade.xyz",
      "v4:39.209.210.74"}},
    {SCAN_FMT_SQUID,
     NULL,
     NULL,
     "1714996801.000 12 10.0.0.7 TCP_TUNNEL/200 4120 CONNECT evil.example.com:443 jdoe "
     "HIER_DIRECT/2001:db8::1 -",
     SCAN_LINE_OK,
     1714996801000,
     NULL,
     {"v4:10.0.0.7", "dom:evil.example.com", "v6:2001:db8::1"}},
    {SCAN_FMT_SQUID,
     NULL,
     NULL,
     "1714996801.5 1 10.0.0.7 TCP_DENIED/403 3900 GET http://1.2.3.4/x - HIER_NONE/- text/html",
     SCAN_LINE_OK,
     1714996801500,
     NULL,
     {"v4:10.0.0.7", "url:http://1.2.3.4/x", "v4:1.2.3.4"}},
    {SCAN_FMT_SQUID,
     NULL,
     NULL,
     "1714996801.5 1 10.0.0.7 TCP_MISS/200 1 GET http://x.example/ - HIER_DIRECT/peer.example.net "
     "text/html",
     SCAN_LINE_OK,
     1714996801500,
     NULL,
     {"v4:10.0.0.7", "url:http://x.example/", "dom:x.example", "dom:peer.example.net"}},
    {SCAN_FMT_SQUID,
     NULL,
     NULL,
     "1714996800.218 50 192.168.20.249 TCP_MISS/304",
     SCAN_LINE_BAD,
     NONE,
     "4 fields where a Squid access.log line has 10",
     {NULL}},
    {SCAN_FMT_SQUID,
     NULL,
     NULL,
     "yesterday 50 1.2.3.4 TCP_MISS/200 1 GET http://a.example/ - HIER_NONE/- -",
     SCAN_LINE_BAD,
     NONE,
     "the first field is not a Squid time (seconds.milliseconds)",
     {NULL}},
    {SCAN_FMT_SQUID, NULL, NULL, "   ", SCAN_LINE_SKIP, NONE, NULL, {NULL}},

    /* ---- Zeek ---- */
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_DNS_HDR,
     "1714996800.123456\tCabc\t10.0.0.1\t8.8.8.8\tEvil.Example.com\tcname.example.net,1.2.3.4,"
     "TXT 40 v=spf1 include:_spf.a.example ~all\t(empty)",
     SCAN_LINE_OK,
     1714996800123,
     NULL,
     {"v4:10.0.0.1", "v4:8.8.8.8", "dom:evil.example.com", "dom:cname.example.net", "v4:1.2.3.4"}},
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_DNS_HDR,
     "1714996800.000000\tC\t10.0.0.1\t-\t-\t-\t-",
     SCAN_LINE_OK,
     1714996800000,
     NULL,
     {"v4:10.0.0.1"}},
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_DNS_HDR,
     "1714996800.000000\tC\t2001:db8::5\t10.0.0.2\ta.example\t(empty)\t-",
     SCAN_LINE_OK,
     1714996800000,
     NULL,
     {"v6:2001:db8::5", "v4:10.0.0.2", "dom:a.example"}},
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_DNS_HDR,
     "1714996800.0\tC\t10.0.0.1\t8.8.8.8\tevil.example",
     SCAN_LINE_BAD,
     NONE,
     "5 fields where the #fields header names 7",
     {NULL}},
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_DNS_HDR,
     "1.0\tC\t10.0.0.1\t8.8.8.8\ta.example\t-\t-\tx\ty",
     SCAN_LINE_BAD,
     NONE,
     "9 fields where the #fields header names 7",
     {NULL}},
    {SCAN_FMT_ZEEK,
     NULL,
     NULL,
     "1714996800.0\tC\t10.0.0.1",
     SCAN_LINE_BAD,
     NONE,
     "Zeek record before any #fields header",
     {NULL}},
    /* #close, then a section of another log with its own header */
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_DNS_HDR "\n#close\t2024-05-06-13-00-00\n#fields\tts\ttx_hosts\tconn_uids\n"
                  "#types\ttime\tset[addr]\tset[string]",
     "1714996802.25\t1.2.3.4,5.6.7.8\tCa,Cb",
     SCAN_LINE_OK,
     1714996802250,
     NULL,
     {"v4:1.2.3.4", "v4:5.6.7.8"}},
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_DNS_HDR "\n#close\t2024-05-06-13-00-00\n#fields\tts\ttx_hosts\n#types\ttime\tset[addr]",
     "1714996800.0\tC\t10.0.0.1\t8.8.8.8\ta.example\t-\t-",
     SCAN_LINE_BAD,
     NONE,
     "7 fields where the #fields header names 2",
     {NULL}},
    /* after #close and no new header, a record is refused */
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_DNS_HDR "\n#close\t2024-05-06-13-00-00",
     "1714996800.0\tC\t10.0.0.1\t8.8.8.8\ta.example\t-\t-",
     SCAN_LINE_BAD,
     NONE,
     "Zeek record before any #fields header",
     {NULL}},
    /* http: host + uri make the URL; referrer, hashes */
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_HTTP_HDR,
     "1714996800.5\t10.0.0.9\tWWW.Example.COM\t/a/%7euser?x=1\thttp://ref.example.org/p\t"
     "D41D8CD98F00B204E9800998ECF8427E\tMozilla/5.0 (evil.example.net)",
     SCAN_LINE_OK,
     1714996800500,
     NULL,
     {"v4:10.0.0.9", "dom:www.example.com", "url:http://www.example.com/a/~user?x=1",
      "url:http://ref.example.org/p", "dom:ref.example.org",
      "md5:d41d8cd98f00b204e9800998ecf8427e"}},
    {SCAN_FMT_ZEEK,
     NULL,
     ZEEK_HTTP_HDR,
     "1714996800.5\t10.0.0.9\t-\thttp://proxy.example/abs\t-\t-\t-",
     SCAN_LINE_OK,
     1714996800500,
     NULL,
     {"v4:10.0.0.9", "url:http://proxy.example/abs", "dom:proxy.example"}},
    /* smtp: e-mail addresses in plain and set fields; no #types line: roles by name */
    {SCAN_FMT_ZEEK,
     NULL,
     "#fields\tts\tid.orig_h\tmailfrom\trcptto",
     "1714996800\t10.1.1.1\tBob@Example.COM\ta@b.example,c@d.example",
     SCAN_LINE_OK,
     1714996800000,
     NULL,
     {"v4:10.1.1.1", "mail:Bob@example.com", "dom:example.com", "mail:a@b.example", "dom:b.example",
      "mail:c@d.example", "dom:d.example"}},
    /* a comma separator and other null markers */
    {SCAN_FMT_ZEEK,
     NULL,
     "#separator \\x2c\n#set_separator,|\n#unset_field,NIL\n#empty_field,EMPTY\n"
     "#fields,ts,query,answers\n#types,time,string,vector[string]",
     "1714996800,NIL,EMPTY",
     SCAN_LINE_OK,
     1714996800000,
     NULL,
     {NULL}},
    {SCAN_FMT_ZEEK,
     NULL,
     "#separator \\x2c\n#set_separator,|\n#unset_field,NIL\n#empty_field,EMPTY\n"
     "#fields,ts,query,answers\n#types,time,string,vector[string]",
     "1714996800,q.example,1.1.1.1|-|x.example",
     SCAN_LINE_OK,
     1714996800000,
     NULL,
     {"dom:q.example", "v4:1.1.1.1", "dom:x.example"}},

    /* ---- JSON lines ---- */
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"timestamp\":\"2024-05-06T12:00:00.006Z\",\"src_ip\":\"10.1.2.3\",\"n\":-5.5e3,"
     "\"ok\":true,\"no\":false,\"x\":null,\"nested\":{\"url\":\"http://evil.example/a\","
     "\"list\":[\"1.2.3.4\",{\"h\":\"a.example.org\"},[],{}]},\"esc\":\"evil\\u002eexample.net\","
     "\"word\":\"allow\"}",
     SCAN_LINE_OK,
     1714996800006,
     NULL,
     {"v4:10.1.2.3", "url:http://evil.example/a", "dom:evil.example", "v4:1.2.3.4",
      "dom:a.example.org", "dom:evil.example.net"}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     " { \"ts\" : 1714996800.5 , \"a\" : [ \"b.example\" ] } ",
     SCAN_LINE_OK,
     1714996800500,
     NULL,
     {"dom:b.example"}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"time\":1714996800123,\"h\":\"Host.Example\"}",
     SCAN_LINE_OK,
     1714996800123,
     NULL,
     {"dom:host.example"}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"@timestamp\":\"1714996800.25\"}",
     SCAN_LINE_OK,
     1714996800250,
     NULL,
     {NULL}},
    /* a time key below the top level is an ordinary value */
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"e\":{\"timestamp\":\"2024-05-06T12:00:00Z\"}}",
     SCAN_LINE_OK,
     NONE,
     NULL,
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"a\":1,}",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 8",
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"a\":\"b\"",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 9",
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"a\":tru}",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 6",
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "[\"1.2.3.4\"]",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 1",
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"a\":\"x\\ud800y\"}",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 8",
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"a\":\"x\ty\"}",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 8",
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"a\":01}",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 7",
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"a\":1} x",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 9",
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"a\" 1}",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 6",
     {NULL}},
    {SCAN_FMT_JSONL,
     NULL,
     NULL,
     "{\"a\":[1 2]}",
     SCAN_LINE_BAD,
     NONE,
     "invalid JSON at column 9",
     {NULL}},

    /* ---- CSV ---- */
    {SCAN_FMT_CSV,
     NULL,
     "time,src,dst,url,note",
     "2024-05-06T12:00:00Z,10.0.0.1,\"Evil.Example.com\",\"http://x.example/a,b\","
     "\"saw 1.2.3.4 at \"\"bad.example.org\"\"\"",
     SCAN_LINE_OK,
     1714996800000,
     NULL,
     {"v4:10.0.0.1", "dom:evil.example.com", "url:http://x.example/a,b", "dom:x.example",
      "v4:1.2.3.4", "dom:bad.example.org"}},
    {SCAN_FMT_CSV,
     NULL,
     "Date;IP;Comment",
     "1714996800;5.6.7.8;\"a;b\"",
     SCAN_LINE_OK,
     1714996800000,
     NULL,
     {"v4:5.6.7.8"}},
    {SCAN_FMT_CSV,
     NULL,
     "Timestamp\tHost",
     "2024-05-06 12:00:01\tmail.example.org",
     SCAN_LINE_OK,
     1714996801000,
     NULL,
     {"dom:mail.example.org"}},
    {SCAN_FMT_CSV,
     NULL,
     "a,b",
     "x,\"unterminated",
     SCAN_LINE_BAD,
     NONE,
     "unterminated quoted CSV field 2 at column 3",
     {NULL}},
    /* more cells than the header names: read as values too */
    {SCAN_FMT_CSV,
     NULL,
     "a",
     "1.1.1.1,2.2.2.2,",
     SCAN_LINE_OK,
     NONE,
     NULL,
     {"v4:1.1.1.1", "v4:2.2.2.2"}},

    /* ---- combined ---- */
    {SCAN_FMT_COMBINED,
     NULL,
     NULL,
     "203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] \"GET http://evil.example/x HTTP/1.1\" "
     "200 2326 \"http://ref.example/\" \"Mozilla/5.0 (see 198.51.100.7)\"",
     SCAN_LINE_OK,
     971211336000,
     NULL,
     {"v4:203.0.113.9", "url:http://evil.example/x", "dom:evil.example", "url:http://ref.example/",
      "dom:ref.example", "v4:198.51.100.7"}},
    {SCAN_FMT_COMBINED,
     NULL,
     NULL,
     "www.example.com:443 2001:db8::7 - - [10/Oct/2000:13:55:36 +0000] \"GET /a?b HTTP/1.1\" 200 "
     "1 \"-\" \"curl/8.0\"",
     SCAN_LINE_OK,
     971186136000,
     NULL,
     {"dom:www.example.com", "v6:2001:db8::7"}},
    {SCAN_FMT_COMBINED,
     NULL,
     NULL,
     "10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"CONNECT tunnel.example:443 HTTP/1.1\" 200 0",
     SCAN_LINE_OK,
     971186136000,
     NULL,
     {"v4:10.0.0.1", "dom:tunnel.example"}},
    {SCAN_FMT_COMBINED,
     NULL,
     NULL,
     "10.0.0.1 - - no time here",
     SCAN_LINE_BAD,
     NONE,
     "not an Apache/nginx combined or common log line",
     {NULL}},
    {SCAN_FMT_COMBINED,
     NULL,
     NULL,
     "10.0.0.1 - - [yesterday] \"GET / HTTP/1.1\" 200 0",
     SCAN_LINE_BAD,
     NONE,
     "no [dd/Mon/yyyy:hh:mm:ss zone] time where a combined log line has it",
     {NULL}},

    /* ---- syslog ---- */
    {SCAN_FMT_SYSLOG,
     NULL,
     NULL,
     "<34>Oct 11 22:14:15 mymachine.example.com su[123]: 'su root' failed for lonvick from "
     "192.0.2.5",
     SCAN_LINE_OK,
     1065910455000,
     NULL,
     {"v4:192.0.2.5"}},
    {SCAN_FMT_SYSLOG,
     NULL,
     NULL,
     "Oct  1 02:03:04 host.example.org sshd[1]: Failed password from 203.0.113.5 port 22",
     SCAN_LINE_OK,
     1064973784000,
     NULL,
     {"v4:203.0.113.5"}},
    {SCAN_FMT_SYSLOG,
     NULL,
     NULL,
     "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed on "
     "203.0.113.77",
     SCAN_LINE_OK,
     1065910455003,
     NULL,
     {"v4:203.0.113.77"}},
    {SCAN_FMT_SYSLOG,
     NULL,
     NULL,
     "<165>1 2003-10-11T22:14:15.003Z host.example.com evntslog - ID47 [exampleSDID@32473 "
     "iut=\"3\" ip=\"192.0.2.1\"] An application event",
     SCAN_LINE_OK,
     1065910455003,
     NULL,
     {"v4:192.0.2.1"}},
    {SCAN_FMT_SYSLOG, NULL, NULL, "<13>1 - - - - - -", SCAN_LINE_OK, NONE, NULL, {NULL}},
    {SCAN_FMT_SYSLOG,
     NULL,
     NULL,
     "hello world 1.2.3.4",
     SCAN_LINE_BAD,
     NONE,
     "not a syslog line (RFC 3164 or RFC 5424)",
     {NULL}},
    {SCAN_FMT_SYSLOG,
     NULL,
     NULL,
     "<34>1 2003-13-45T99:14:15Z h a p m - x",
     SCAN_LINE_BAD,
     NONE,
     "RFC 5424 line with a malformed TIMESTAMP",
     {NULL}},

    /* ---- plain ---- */
    {SCAN_FMT_PLAIN,
     NULL,
     NULL,
     "connect to 1.2.3.4 from evil.example",
     SCAN_LINE_OK,
     NONE,
     NULL,
     {"v4:1.2.3.4", "dom:evil.example"}},

    /* ---- auto: line by line ---- */
    {SCAN_FMT_AUTO,
     SQUID_HEAD,
     NULL,
     "1714996800.218 50 192.168.20.249 TCP_MISS/304 3110 GET http://c.example/ - HIER_NONE/- -",
     SCAN_LINE_OK,
     1714996800218,
     NULL,
     {"v4:192.168.20.249", "url:http://c.example/", "dom:c.example"}},
    /* not a squid line: read as free text, never BAD */
    {SCAN_FMT_AUTO, SQUID_HEAD, NULL, "garbage 9.9.9.9", SCAN_LINE_OK, NONE, NULL, {"v4:9.9.9.9"}},
    {SCAN_FMT_AUTO,
     SQUID_HEAD,
     NULL,
     "{\"a\":\"1.2.3.4\",}",
     SCAN_LINE_OK,
     NONE,
     NULL,
     {"v4:1.2.3.4"}},
    {SCAN_FMT_AUTO,
     SQUID_HEAD,
     NULL,
     "{\"ts\":1,\"a\":\"1.2.3.4\"}",
     SCAN_LINE_OK,
     1000,
     NULL,
     {"v4:1.2.3.4"}},
    {SCAN_FMT_AUTO,
     SQUID_HEAD,
     ZEEK_DNS_HDR,
     "1714996800.0\tC\t10.0.0.1\t8.8.8.8\tq.example\t-\t-",
     SCAN_LINE_OK,
     1714996800000,
     NULL,
     {"v4:10.0.0.1", "v4:8.8.8.8", "dom:q.example"}},
    /* a Zeek record whose field count lies is BAD even in auto */
    {SCAN_FMT_AUTO,
     SQUID_HEAD,
     ZEEK_DNS_HDR,
     "1714996800.0\tC\t10.0.0.1",
     SCAN_LINE_BAD,
     NONE,
     "3 fields where the #fields header names 7",
     {NULL}},
    /* after #close, a tab line is no Zeek record */
    {SCAN_FMT_AUTO,
     SQUID_HEAD,
     ZEEK_DNS_HDR "\n#close\t2024-05-06-13-00-00",
     "1714996800.0\tC\t10.0.0.1",
     SCAN_LINE_OK,
     NONE,
     NULL,
     {"v4:10.0.0.1"}},
};

static bool obs_is(const struct scan_obs *o, const char *exp)
{
    static const struct {
        const char *pre;
        enum scan_kind kind;
    } kinds[] = {{"v4:", SCAN_IPV4},   {"v6:", SCAN_IPV6},      {"dom:", SCAN_DOMAIN},
                 {"url:", SCAN_URL},   {"mail:", SCAN_EMAIL},   {"md5:", SCAN_MD5},
                 {"sha1:", SCAN_SHA1}, {"sha256:", SCAN_SHA256}};

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t k = strlen(kinds[i].pre);
        const char *v = exp + k;

        if (strncmp(exp, kinds[i].pre, k) != 0)
            continue;
        if (o->kind != kinds[i].kind)
            return false;
        if (o->kind == SCAN_IPV4) {
            uint32_t a;

            return scan_ipv4_parse(v, strlen(v), &a) && a == o->u.v4;
        }
        if (o->kind == SCAN_IPV6) {
            uint8_t a[16];

            return inet_pton(AF_INET6, v, a) == 1 && memcmp(a, o->u.v6, 16) == 0;
        }
        return o->u.s.n == strlen(v) && memcmp(o->u.s.p, v, o->u.s.n) == 0;
    }
    fail_msg("bad expectation %s", exp);
    return false;
}

static void obs_print(const struct scan_rec *r)
{
    for (size_t i = 0; i < r->n_obs; i++) {
        const struct scan_obs *o = &r->obs[i];

        if (o->kind == SCAN_IPV4)
            print_message("  obs %zu: v4 %u.%u.%u.%u\n", i, o->u.v4 >> 24, (o->u.v4 >> 16) & 255,
                          (o->u.v4 >> 8) & 255, o->u.v4 & 255);
        else if (o->kind == SCAN_IPV6)
            print_message("  obs %zu: v6\n", i);
        else
            print_message("  obs %zu: kind %u %.*s\n", i, o->kind, (int)o->u.s.n, o->u.s.p);
    }
}

/* Feeds each '\n'-separated line of text to scan_fmt_header, which must take every one. */
static void headers_feed(struct scan_fmt_state *st, const char *text)
{
    while (text != NULL && *text != '\0') {
        const char *nl = strchr(text, '\n');
        size_t n = nl != NULL ? (size_t)(nl - text) : strlen(text);

        if (!scan_fmt_header(st, text, n))
            fail_msg("header line not taken: %.*s", (int)n, text);
        text = nl != NULL ? nl + 1 : NULL;
    }
}

static void line_case_run(const struct line_case *c, struct scan_rec *r)
{
    struct scan_fmt_state st;
    size_t len = strlen(c->line);
    size_t n_exp = 0;
    const char *why = "unset";
    enum scan_line_rc rc;

    scan_fmt_init(&st, c->fmt, c->head, c->head != NULL ? strlen(c->head) : 0, 2003);
    headers_feed(&st, c->headers);
    assert_false(scan_fmt_header(&st, c->line, len));
    assert_true(scan_rec_reset(r, len));
    rc = scan_fmt_line(&st, c->line, len, r, &why);
    if (rc != c->rc) {
        print_message("rc %d why %s\n", rc, why ? why : "(null)");
        fail_msg("%s: %s", scan_fmt_name(c->fmt), c->line);
    }
    if (rc == SCAN_LINE_BAD) {
        assert_non_null(why);
        assert_string_equal(why, c->why);
        assert_int_equal(r->n_obs, 0);
        return;
    }
    if (r->time_ms != c->time_ms)
        fail_msg("time %lld, %lld expected: %s", (long long)r->time_ms, (long long)c->time_ms,
                 c->line);
    while (n_exp < 10 && c->obs[n_exp] != NULL)
        n_exp++;
    if (r->n_obs != n_exp) {
        obs_print(r);
        fail_msg("%zu observables, %zu expected: %s", r->n_obs, n_exp, c->line);
    }
    for (size_t i = 0; i < n_exp; i++) {
        bool found = false;

        for (size_t j = 0; j < r->n_obs && !found; j++)
            found = obs_is(&r->obs[j], c->obs[i]);
        if (!found) {
            obs_print(r);
            fail_msg("%s not found in: %s", c->obs[i], c->line);
        }
    }
    for (size_t j = 0; j < r->n_obs; j++) {
        assert_true(r->obs[j].kind < SCAN_KIND_N);
        assert_true((size_t)r->obs[j].off + r->obs[j].len <= len);
    }
}

static void test_lines(void **state)
{
    struct scan_rec r;

    (void)state;
    scan_rec_init(&r);
    for (size_t i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++)
        line_case_run(&line_cases[i], &r);
    scan_rec_cleanup(&r);
}

/* ---- the connection a record describes ---- */

#define ZEEK_CONN_HDR                                                                              \
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"   \
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\n"               \
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring"

/* A line and the connection its record must show, written as conn_text writes it ("" when the
 * reader leaves it empty). */
static const struct {
    enum scan_fmt fmt;
    const char *headers;
    const char *line;
    const char *conn;
} conn_cases[] = {
    /* Zeek conn, and the dns log of the bench (same id.* columns) */
    {SCAN_FMT_ZEEK, ZEEK_CONN_HDR, "1714996800.1\tC1\t10.0.0.5\t51000\t198.51.100.7\t4444\ttcp\t-",
     "src=10.0.0.5 sport=51000 dst=198.51.100.7 dport=4444 proto=tcp"},
    {SCAN_FMT_ZEEK, ZEEK_CONN_HDR, "1714996800.1\tC1\t2001:db8::5\t-\tfe80::1\t-\tUDP\t-",
     "src=2001:db8::5 dst=fe80::1 proto=udp"},
    {SCAN_FMT_ZEEK, ZEEK_CONN_HDR, "1714996800.1\tC1\t10.0.0.5\t70000\t-\t8\tunknown_transport\t-",
     "src=10.0.0.5 dport=8"},
    /* a Zeek log without the connection's columns (http with id.orig_h only): the source */
    {SCAN_FMT_ZEEK, ZEEK_HTTP_HDR, "1714996800.1\t10.0.0.9\ta.example\t/x\t-\t-\t-",
     "src=10.0.0.9"},
    /* id.orig_h typed otherwise than addr is not an address column */
    {SCAN_FMT_ZEEK,
     "#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\n#types\ttime\tstring\taddr\tcount",
     "1714996800.1\t10.0.0.9\t10.0.0.10\t80", "dst=10.0.0.10 dport=80"},
    /* JSON: the bench's firewall shape, synonyms, strings for numbers, IANA numbers, escapes */
    {SCAN_FMT_JSONL, NULL,
     "{\"timestamp\":\"2024-05-06T12:30:24.271Z\",\"action\":\"allow\",\"src_ip\":\"192.168.8."
     "77\",\"src_port\":6174,\"dst_ip\":\"187.237.253.20\",\"dst_port\":25,\"proto\":\"tcp\","
     "\"url\":\"https://mx.example/a\"}",
     "src=192.168.8.77 sport=6174 dst=187.237.253.20 dport=25 proto=tcp"},
    {SCAN_FMT_JSONL, NULL,
     "{ \"source_ip\": \"10.1.1.1\", \"dest_ip\": \"2001:db8::7\", \"sport\": \"53\", "
     "\"dport\": 853, \"protocol\": 17 }",
     "src=10.1.1.1 sport=53 dst=2001:db8::7 dport=853 proto=udp"},
    {SCAN_FMT_JSONL, NULL,
     "{\"id.orig_h\":\"10.2.2.2\",\"id.orig_p\":1,\"id.resp_h\":\"10.3.3.3\",\"id.resp_p\":2,"
     "\"transport\":\"ICMP\"}",
     "src=10.2.2.2 sport=1 dst=10.3.3.3 dport=2 proto=icmp"},
    {SCAN_FMT_JSONL, NULL,
     "{\"srcaddr\":\"10.4.4.4\",\"dstaddr\":\"x\\u002eexample\",\"dst_port\":-1,"
     "\"note\":\"\\t\"}",
     "src=10.4.4.4"},
    /* a transport or port that does not read is unknown */
    {SCAN_FMT_JSONL, NULL,
     "{\"src_ip\":\"10.0.0.1\",\"proto\":\"tcp;\",\"sport\":\"80a\",\"dport\":65536}",
     "src=10.0.0.1"},
    {SCAN_FMT_JSONL, NULL, "{\"src_ip\":\"10.0.0.1\",\"proto\":99,\"transport\":\"\"}",
     "src=10.0.0.1"},
    /* nested keys are not the record's: "src_ip" inside an object says nothing */
    {SCAN_FMT_JSONL, NULL, "{\"a\":{\"src_ip\":\"10.5.5.5\",\"dst_port\":9},\"b\":[1]}", ""},
    {SCAN_FMT_JSONL, NULL, "{\"ip\":\"10.5.5.5\",\"port\":9,\"msg\":\"tcp\"}", ""},
    /* CSV with a header naming the fields (case, spaces) */
    {SCAN_FMT_CSV, "time,Src_IP, dst_ip ,sport,DPort,proto,note",
     "2024-05-06T12:00:00Z,10.6.6.6,10.7.7.7,1234,443,TCP,hello",
     "src=10.6.6.6 sport=1234 dst=10.7.7.7 dport=443 proto=tcp"},
    {SCAN_FMT_CSV, "time,host,port,note", "2024-05-06T12:00:00Z,10.6.6.6,443,x", ""},
    /* Squid: client -> the server's address, the URL's port or its scheme's default */
    {SCAN_FMT_SQUID, NULL,
     "1714996800.218 50 192.168.20.249 TCP_MISS/304 3110 GET https://a.example/x - "
     "HIER_DIRECT/39.209.210.74 image/jpeg",
     "src=192.168.20.249 dst=39.209.210.74 dport=443"},
    {SCAN_FMT_SQUID, NULL,
     "1714996800.218 50 192.168.20.249 TCP_MISS/200 1 GET http://u:1@a.example:8080/x - "
     "HIER_DIRECT/2001:db8::1 text/html",
     "src=192.168.20.249 dst=2001:db8::1 dport=8080"},
    {SCAN_FMT_SQUID, NULL,
     "1714996801.000 12 10.0.0.7 TCP_TUNNEL/200 4120 CONNECT evil.example.com:8443 jdoe "
     "HIER_DIRECT/203.0.113.9 -",
     "src=10.0.0.7 dst=203.0.113.9 dport=8443"},
    {SCAN_FMT_SQUID, NULL,
     "1714996801.5 1 10.0.0.7 TCP_DENIED/403 3900 GET http://[2001:db8::2]/x - HIER_NONE/- "
     "text/html",
     "src=10.0.0.7 dport=80"},
    {SCAN_FMT_SQUID, NULL,
     "1714996801.5 1 10.0.0.7 TCP_MISS/200 1 GET gopher://x.example/ - "
     "HIER_DIRECT/peer.example.net text/html",
     "src=10.0.0.7"},
    /* combined: the client is the source; nothing else is known */
    {SCAN_FMT_COMBINED, NULL,
     "203.0.113.5 - - [10/Oct/2000:13:55:36 -0700] \"GET http://b.example:81/ HTTP/1.0\" 200 "
     "2326 \"-\" \"x\"",
     "src=203.0.113.5"},
    /* formats without a connection */
    {SCAN_FMT_SYSLOG, NULL,
     "<34>Oct 11 22:14:15 mymachine su: src=10.0.0.1 dst=10.0.0.2 dport=22 proto=tcp", ""},
    {SCAN_FMT_PLAIN, NULL, "src_ip 10.0.0.1 dst_ip 10.0.0.2", ""},
};

/* The connection of r as "src=A sport=P dst=B dport=Q proto=T", the parts it has. */
static void conn_text(const struct scan_rec *r, char *out, size_t cap)
{
    struct scan_conn_info ci;
    char a[SCAN_ADDR_TEXT];
    size_t w = 0;

    out[0] = '\0';
    assert_true(scan_conn_get(r, &ci));
    if (ci.src != 0) {
        assert_true(ci.src <= r->n_obs);
        assert_true(scan_addr_text(&r->obs[ci.src - 1], a) > 0);
        w += (size_t)snprintf(out + w, cap - w, "%ssrc=%s", w ? " " : "", a);
    }
    if (ci.has_sport)
        w += (size_t)snprintf(out + w, cap - w, "%ssport=%u", w ? " " : "", ci.sport);
    if (ci.dst != 0) {
        assert_true(ci.dst <= r->n_obs);
        assert_true(scan_addr_text(&r->obs[ci.dst - 1], a) > 0);
        w += (size_t)snprintf(out + w, cap - w, "%sdst=%s", w ? " " : "", a);
    }
    if (ci.has_dport)
        w += (size_t)snprintf(out + w, cap - w, "%sdport=%u", w ? " " : "", ci.dport);
    assert_int_equal(strlen(ci.proto), ci.proto_len); /* nothing half-written */
    if (ci.proto_len > 0) {
        snprintf(out + w, cap - w, "%sproto=%s", w ? " " : "", ci.proto);
    }
}

static void test_conn(void **state)
{
    struct scan_rec r;

    (void)state;
    scan_rec_init(&r);
    for (size_t i = 0; i < sizeof(conn_cases) / sizeof(conn_cases[0]); i++) {
        struct scan_fmt_state st;
        size_t len = strlen(conn_cases[i].line);
        char got[256];

        scan_fmt_init(&st, conn_cases[i].fmt, NULL, 0, 2003);
        headers_feed(&st, conn_cases[i].headers);
        /* a record full of a previous line's connection is emptied by the reader */
        memset(&r.conn, 0xff, sizeof(r.conn));
        assert_true(scan_rec_reset(&r, len));
        assert_int_equal(scan_fmt_line(&st, conn_cases[i].line, len, &r, NULL), SCAN_LINE_OK);
        conn_text(&r, got, sizeof(got));
        if (strcmp(got, conn_cases[i].conn) != 0)
            fail_msg("%s: %s\n  got  '%s'\n  want '%s'", scan_fmt_name(conn_cases[i].fmt),
                     conn_cases[i].line, got, conn_cases[i].conn);
    }
    scan_rec_cleanup(&r);
}

/* Every field name the JSON and CSV readers know for the connection (a JSON key, and a CSV
 * column in upper case), and names that are not one. */
static void test_conn_names(void **state)
{
    static const struct {
        const char *name, *want;
    } names[] = {
        {"src", "src"},
        {"srcip", "src"},
        {"src_ip", "src"},
        {"srcaddr", "src"},
        {"src_addr", "src"},
        {"source_ip", "src"},
        {"source.ip", "src"},
        {"id.orig_h", "src"},
        {"dst", "dst"},
        {"dest", "dst"},
        {"dstip", "dst"},
        {"dst_ip", "dst"},
        {"dest_ip", "dst"},
        {"dstaddr", "dst"},
        {"dst_addr", "dst"},
        {"destination_ip", "dst"},
        {"destination.ip", "dst"},
        {"id.resp_h", "dst"},
        {"spt", "sport"},
        {"sport", "sport"},
        {"srcport", "sport"},
        {"src_port", "sport"},
        {"source_port", "sport"},
        {"source.port", "sport"},
        {"id.orig_p", "sport"},
        {"dpt", "dport"},
        {"dport", "dport"},
        {"dstport", "dport"},
        {"dst_port", "dport"},
        {"dest_port", "dport"},
        {"destination_port", "dport"},
        {"destination.port", "dport"},
        {"id.resp_p", "dport"},
        {"proto", "proto"},
        {"protocol", "proto"},
        {"transport", "proto"},
        {"network.transport", "proto"},
        {"source", ""},
        {"src_ipx", ""},
        {"dst-ip", ""},
        {"port", ""},
        {"id.orig", ""},
        {"protocols", ""},
        {"", ""},
    };
    struct scan_rec r;

    (void)state;
    scan_rec_init(&r);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *w = names[i].want;
        bool addr = strcmp(w, "src") == 0 || strcmp(w, "dst") == 0;
        bool port = strcmp(w, "sport") == 0 || strcmp(w, "dport") == 0;
        const char *val = addr ? "10.0.0.1" : port ? "7" : "TCP";
        char want[64], got[256], line[256], hdr[128], up[64];
        struct scan_fmt_state st;
        size_t k;

        snprintf(want, sizeof want, "%s%s%s", w, *w ? "=" : "",
                 *w == '\0' ? ""
                 : addr     ? "10.0.0.1"
                 : port     ? "7"
                            : "tcp");
        /* JSON: the value as a string, and a port as a number */
        snprintf(line, sizeof line, "{\"%s\":\"%s\",\"x\":1}", names[i].name, val);
        scan_fmt_init(&st, SCAN_FMT_JSONL, NULL, 0, 2024);
        assert_true(scan_rec_reset(&r, strlen(line)));
        assert_int_equal(scan_fmt_line(&st, line, strlen(line), &r, NULL), SCAN_LINE_OK);
        conn_text(&r, got, sizeof got);
        if (strcmp(got, want) != 0)
            fail_msg("JSON key '%s': got '%s', want '%s'", names[i].name, got, want);
        if (port) {
            snprintf(line, sizeof line, "{\"%s\":7}", names[i].name);
            assert_true(scan_rec_reset(&r, strlen(line)));
            assert_int_equal(scan_fmt_line(&st, line, strlen(line), &r, NULL), SCAN_LINE_OK);
            conn_text(&r, got, sizeof got);
            assert_string_equal(got, want);
        }
        /* CSV: the name upper case as a column of a header */
        for (k = 0; names[i].name[k] != '\0' && k + 1 < sizeof up; k++)
            up[k] =
                (char)(names[i].name[k] >= 'a' && names[i].name[k] <= 'z' ? names[i].name[k] - 32
                                                                          : names[i].name[k]);
        up[k] = '\0';
        snprintf(hdr, sizeof hdr, "time,%s", *up ? up : "x");
        snprintf(line, sizeof line, "2024-05-06T12:00:00Z,%s", val);
        scan_fmt_init(&st, SCAN_FMT_CSV, NULL, 0, 2024);
        assert_true(scan_fmt_header(&st, hdr, strlen(hdr)));
        assert_true(scan_rec_reset(&r, strlen(line)));
        assert_int_equal(scan_fmt_line(&st, line, strlen(line), &r, NULL), SCAN_LINE_OK);
        conn_text(&r, got, sizeof got);
        if (strcmp(got, want) != 0)
            fail_msg("CSV column '%s': got '%s', want '%s'", up, got, want);
    }
    scan_rec_cleanup(&r);
}

/* AUTO over a mixed file gives each section's connection; a line read as free text after its
 * format refused it keeps none of what the reader noted before giving up. */
static void test_conn_auto(void **state)
{
    static const char head[] = "1714996800.218 50 192.168.20.249 TCP_MISS/304 3110 GET "
                               "http://a.example/ - HIER_DIRECT/39.209.210.74 image/jpeg\n";
    static const struct {
        const char *line;
        const char *conn;
    } lines[] = {
        {"1714996800.218 50 192.168.20.249 TCP_MISS/304 3110 GET http://a.example/ - "
         "HIER_DIRECT/39.209.210.74 image/jpeg",
         "src=192.168.20.249 dst=39.209.210.74 dport=80"},
        {"{\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\",\"dst_port\":22}",
         "src=10.0.0.1 dst=10.0.0.2 dport=22"},
        /* JSON that turns out invalid after its connection fields: read as free text */
        {"{\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\",\"dst_port\":22,", ""},
        {"1714996800.218 50 192.168.20.249 TCP_MISS/304", ""},
    };
    struct scan_fmt_state st;
    struct scan_rec r;

    (void)state;
    scan_fmt_init(&st, SCAN_FMT_AUTO, head, strlen(head), 2024);
    assert_int_equal(st.detected, SCAN_FMT_SQUID);
    scan_rec_init(&r);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        size_t len = strlen(lines[i].line);
        char got[256];

        assert_true(scan_rec_reset(&r, len));
        assert_int_equal(scan_fmt_line(&st, lines[i].line, len, &r, NULL), SCAN_LINE_OK);
        conn_text(&r, got, sizeof(got));
        if (strcmp(got, lines[i].conn) != 0)
            fail_msg("%s\n  got  '%s'\n  want '%s'", lines[i].line, got, lines[i].conn);
    }
    scan_rec_cleanup(&r);
}

/* ---- detection ---- */

static const struct {
    const char *head;
    enum scan_fmt detected;
} detect_cases[] = {
    {SQUID_HEAD, SCAN_FMT_SQUID},
    {"203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 2326 \"-\" \"x\"\n"
     "203.0.113.9 - - [10/Oct/2000:13:55:37 -0700] \"GET /a HTTP/1.1\" 404 0\n",
     SCAN_FMT_COMBINED},
    {"<34>Oct 11 22:14:15 mymachine su: 'su root' failed\n"
     "Oct 11 22:14:16 mymachine sshd[12]: Accepted\n",
     SCAN_FMT_SYSLOG},
    {"<165>1 2003-10-11T22:14:15.003Z host app - ID47 - msg\n", SCAN_FMT_SYSLOG},
    {"time,src_ip,dst_ip,action\n2024-05-06T12:00:00Z,10.0.0.1,1.2.3.4,allow\n", SCAN_FMT_CSV},
    {"{\"timestamp\":\"2024-05-06T12:00:00Z\",\"a\":1}\n{\"b\":[]}\n", SCAN_FMT_JSONL},
    {ZEEK_DNS_HDR "\n1714996800.0\tC\t10.0.0.1\t8.8.8.8\tq.example\t-\t-\n", SCAN_FMT_ZEEK},
    {"#separator \\x09\n#fields\tts\tquery\n", SCAN_FMT_ZEEK},
    {"hello 1.2.3.4\nsome text, with, commas\n", SCAN_FMT_PLAIN},
    {"a,b\n1,2,3\n", SCAN_FMT_PLAIN}, /* a header whose next line does not fit is no CSV */
    {"", SCAN_FMT_PLAIN},
    {"1714996800.218 50 192.168.20.249 TCP_MISS/304 3110 GET http://a.example/ - HIER_NONE/- -",
     SCAN_FMT_SQUID}, /* one line, no newline: the whole file */
};

static void test_detect(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(detect_cases) / sizeof(detect_cases[0]); i++) {
        struct scan_fmt_state st;

        scan_fmt_init(&st, SCAN_FMT_AUTO, detect_cases[i].head, strlen(detect_cases[i].head), 2024);
        if (st.detected != detect_cases[i].detected)
            fail_msg("case %zu: detected %s, expected %s", i,
                     scan_fmt_name((enum scan_fmt)st.detected),
                     scan_fmt_name(detect_cases[i].detected));
        assert_int_equal(st.fmt, SCAN_FMT_AUTO);
    }
}

/* The benchmark's layout: squid lines, then a Zeek dns section with its headers, then JSON lines,
 * all in one file read in auto mode. Each line's observables and time. */
static void test_auto_mixed(void **state)
{
    static const char *const file[] = {
        "1714996800.218     50 192.168.20.249 TCP_MISS/304 3110 GET http://a.example/ - "
        "HIER_DIRECT/39.209.210.74 image/jpeg",
        "1714996800.219      5 192.168.20.250 TCP_TUNNEL/200 300 CONNECT b.example:443 - "
        "HIER_DIRECT/39.209.210.75 -",
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tdns",
        "#open\t2024-05-06-12-00-00",
        "#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers",
        "#types\ttime\tstring\taddr\taddr\tstring\tvector[string]",
        "1714996801.000001\tCx\t10.0.0.1\t10.0.0.53\tc.example\td.example,5.5.5.5",
        "#close\t2024-05-06-12-00-01",
        "{\"timestamp\":\"2024-05-06T12:00:02.000Z\",\"dst_ip\":\"6.6.6.6\",\"h\":\"e.example\"}",
        "",
    };
    static const struct {
        bool header;
        int64_t time_ms;
        size_t n_obs;
    } exp[] = {
        {false, 1714996800218, 4},
        {false, 1714996800219, 3},
        {true, 0, 0},
        {true, 0, 0},
        {true, 0, 0},
        {true, 0, 0},
        {true, 0, 0},
        {true, 0, 0},
        {true, 0, 0},
        {true, 0, 0},
        {false, 1714996801000, 5},
        {true, 0, 0},
        {false, 1714996802000, 2},
        {false, NONE, 0},
    };
    struct scan_fmt_state st;
    struct scan_rec r;
    char head[2048];
    size_t hl = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(file) / sizeof(file[0]); i++)
        hl += (size_t)snprintf(head + hl, sizeof(head) - hl, "%s\n", file[i]);
    scan_fmt_init(&st, SCAN_FMT_AUTO, head, hl, 2024);
    assert_int_equal(st.detected, SCAN_FMT_SQUID);
    scan_rec_init(&r);
    for (size_t i = 0; i < sizeof(file) / sizeof(file[0]); i++) {
        size_t len = strlen(file[i]);
        const char *why;
        enum scan_line_rc rc;

        if (scan_fmt_header(&st, file[i], len)) {
            assert_true(exp[i].header);
            continue;
        }
        assert_false(exp[i].header);
        assert_true(scan_rec_reset(&r, len));
        rc = scan_fmt_line(&st, file[i], len, &r, &why);
        assert_int_equal(rc, len == 0 ? SCAN_LINE_SKIP : SCAN_LINE_OK);
        assert_true(r.time_ms == exp[i].time_ms);
        if (r.n_obs != exp[i].n_obs) {
            obs_print(&r);
            fail_msg("line %zu: %zu observables, %zu expected", i + 1, r.n_obs, exp[i].n_obs);
        }
    }
    assert_false(st.in_zeek);
    scan_rec_cleanup(&r);
}

/* A CSV file in auto mode: the header is taken once, then rows are read by it. */
static void test_auto_csv(void **state)
{
    static const char head[] = "when,who\n2024-05-06T12:00:00Z,evil.example\n";
    struct scan_fmt_state st;
    struct scan_rec r;
    const char *why;

    (void)state;
    scan_fmt_init(&st, SCAN_FMT_AUTO, head, strlen(head), 2024);
    assert_int_equal(st.detected, SCAN_FMT_CSV);
    assert_true(scan_fmt_header(&st, "when,who", 8));
    assert_false(scan_fmt_header(&st, "when,who", 8));
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, 33));
    assert_int_equal(scan_fmt_line(&st, "2024-05-06T12:00:00Z,evil.example", 33, &r, &why),
                     SCAN_LINE_OK);
    assert_int_equal(r.n_obs, 1);
    assert_true(obs_is(&r.obs[0], "dom:evil.example"));
    scan_rec_cleanup(&r);
}

/* A line of any bytes: never outside it, never an invalid kind. */
static void test_binary(void **state)
{
    struct scan_rec r;
    char line[300];

    (void)state;
    for (size_t i = 0; i < sizeof(line); i++)
        line[i] = (char)(i * 37 + 11);
    line[5] = '\0';
    scan_rec_init(&r);
    for (unsigned f = 0; f < SCAN_FMT_N; f++) {
        struct scan_fmt_state st;
        const char *why;
        enum scan_line_rc rc;

        scan_fmt_init(&st, (enum scan_fmt)f, line, sizeof(line), 2024);
        headers_feed(&st, f == SCAN_FMT_ZEEK ? "#fields\ta\tb" : NULL);
        assert_true(scan_rec_reset(&r, sizeof(line)));
        rc = scan_fmt_line(&st, line, sizeof(line), &r, &why);
        assert_true(rc == SCAN_LINE_OK || rc == SCAN_LINE_BAD);
        if (rc == SCAN_LINE_BAD)
            assert_non_null(why);
        for (size_t j = 0; j < r.n_obs; j++)
            assert_true((size_t)r.obs[j].off + r.obs[j].len <= sizeof(line));
    }
    scan_rec_cleanup(&r);
}

/* A Zeek header naming more columns than have roles: records are counted against it, the first
 * SCAN_MAX_FIELDS columns are read. */
static void test_zeek_wide(void **state)
{
    enum { N = SCAN_MAX_FIELDS + 44 };
    struct scan_fmt_state st;
    struct scan_rec r;
    char hdr[16 * N], line[16 * N];
    size_t hl = 0, ll = 0;
    const char *why;

    (void)state;
    hl += (size_t)snprintf(hdr + hl, sizeof(hdr) - hl, "#fields\tts\tid.orig_h");
    ll += (size_t)snprintf(line + ll, sizeof(line) - ll, "1714996800\t10.0.0.1");
    for (unsigned i = 2; i < N; i++) {
        hl += (size_t)snprintf(hdr + hl, sizeof(hdr) - hl, "\t%s", i == N - 1 ? "query" : "x");
        ll += (size_t)snprintf(line + ll, sizeof(line) - ll, "\t%s",
                               i == N - 1 ? "late.example" : "-");
    }
    scan_fmt_init(&st, SCAN_FMT_ZEEK, NULL, 0, 2024);
    assert_true(scan_fmt_header(&st, hdr, hl));
    assert_int_equal(st.n_fields, N);
    scan_rec_init(&r);
    assert_true(scan_rec_reset(&r, ll));
    assert_int_equal(scan_fmt_line(&st, line, ll, &r, &why), SCAN_LINE_OK);
    assert_int_equal(r.n_obs, 1); /* the address; the query is past the columns with roles */
    assert_true(obs_is(&r.obs[0], "v4:10.0.0.1"));
    ll -= strlen("\tlate.example");
    assert_true(scan_rec_reset(&r, ll));
    assert_int_equal(scan_fmt_line(&st, line, ll, &r, &why), SCAN_LINE_BAD);
    assert_string_equal(why, "299 fields where the #fields header names 300");
    /* exactly SCAN_MAX_FIELDS fields is as wrong as any other count short of the header's */
    for (unsigned i = N - 1; i > SCAN_MAX_FIELDS; i--) {
        const char *tab = memrchr(line, '\t', ll);

        assert_non_null(tab);
        ll = (size_t)(tab - line);
    }
    assert_true(scan_rec_reset(&r, ll));
    assert_int_equal(scan_fmt_line(&st, line, ll, &r, &why), SCAN_LINE_BAD);
    assert_string_equal(why, "256 fields where the #fields header names 300");
    assert_int_equal(r.n_obs, 0);
    scan_rec_cleanup(&r);
}

static void test_names(void **state)
{
    (void)state;
    for (unsigned f = 0; f < SCAN_FMT_N; f++) {
        enum scan_fmt g = SCAN_FMT_N;

        assert_true(scan_fmt_parse(scan_fmt_name((enum scan_fmt)f), &g));
        assert_int_equal(g, f);
    }
    assert_string_equal(scan_fmt_name(SCAN_FMT_ZEEK), "zeek");
    assert_false(scan_fmt_parse("Zeek", &(enum scan_fmt){SCAN_FMT_AUTO}));
    assert_false(scan_fmt_parse("", &(enum scan_fmt){SCAN_FMT_AUTO}));
    assert_string_equal(scan_fmt_name(SCAN_FMT_N), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),      cmocka_unit_test(test_detect),
        cmocka_unit_test(test_auto_mixed), cmocka_unit_test(test_auto_csv),
        cmocka_unit_test(test_binary),     cmocka_unit_test(test_zeek_wide),
        cmocka_unit_test(test_names),      cmocka_unit_test(test_conn),
        cmocka_unit_test(test_conn_auto),  cmocka_unit_test(test_conn_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
