/* Parser tests: a table of patterns with their canonical print (which shows the tree, so
 * precedence and associativity are checked through it) or the error, then the AST of a few in
 * detail, the caps, and the conformance files of shared/data (validator cases, spec examples,
 * matcher vectors). */
#include "pattern/pattern.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pattern/pattern_int.h"

#define S      PATTERN_STRICT
#define HASH64 "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
#define TS1    "t'2016-06-01T00:00:00Z'"
#define TS2    "t'2016-07-01T00:00:00Z'"

struct pcase {
    const char *in;
    unsigned flags;
    enum ctix_rc rc;
    const char *want;   /* CTIX_OK: the canonical print (NULL: same as in); else a message part */
    unsigned line, col; /* of the error; 0 = not checked */
};

#define OK(in, want)                                                                               \
    {                                                                                              \
        in, 0, CTIX_OK, want, 0, 0                                                                 \
    }
#define OKS(in, want)                                                                              \
    {                                                                                              \
        in, S, CTIX_OK, want, 0, 0                                                                 \
    }
#define BAD(in, msg, col)                                                                          \
    {                                                                                              \
        in, 0, CTIX_EINVAL, msg, 1, col                                                            \
    }
#define BADS(in, msg, col)                                                                         \
    {                                                                                              \
        in, S, CTIX_EINVAL, msg, 1, col                                                            \
    }
#define BADL(in, msg, line, col)                                                                   \
    {                                                                                              \
        in, 0, CTIX_EINVAL, msg, line, col                                                         \
    }

static const struct pcase cases[] = {
    /* ---- integers ---- */
    OK("[a:b = 1]", NULL),
    OK("[a:b = +5]", "[a:b = 5]"),
    OK("[a:b = -7]", NULL),
    OK("[a:b = 0]", NULL),
    OK("[a:b = -0]", "[a:b = 0]"),
    OK("[a:b = 9223372036854775807]", NULL),
    OK("[a:b = -9223372036854775808]", NULL),
    BAD("[a:b = 9223372036854775808]", "integer out of range", 8),
    BAD("[a:b = -9223372036854775809]", "integer out of range", 8),
    BAD("[a:b = 007]", "leading zeros", 8),
    BAD("[a:b = - 5]", "'-' must be followed by a number", 8),
    BAD("[a:b = +]", "'+' must be followed by a number", 8),
    /* ---- floats ---- */
    OK("[a:b = 1.5]", NULL),
    OK("[a:b = .5]", "[a:b = 0.5]"),
    OK("[a:b = -.5]", "[a:b = -0.5]"),
    OK("[a:b = +0.25]", "[a:b = 0.25]"),
    OK("[a:b = 007.5]", "[a:b = 7.5]"), /* FloatPosLiteral allows leading zeros */
    OK("[a:b = 100.000]", "[a:b = 100.0]"),
    OK("[a:b = 0.1]", NULL),
    OK("[a:b = 0.000000000000000000000000000001]", NULL),
    BAD("[a:b = 5.]", "digits after the '.'", 8),
    BAD("[a:b = 1e5]", "expected ']' or AND/OR, found 'e5'", 9),
    /* ---- strings ---- */
    OK("[a:b = 'it\\'s']", NULL),
    OK("[a:b = 'back\\\\slash']", NULL),
    OK("[a:b = '']", NULL),
    OK("[a:b = 'h\xc3\xa9llo \xe2\x9c\x93']", NULL),
    OK("[a:b = 'two\nlines']", NULL),
    BAD("[a:b = 'x\\n']", "invalid escape '\\n' in string literal (only \\' and \\\\)", 10),
    BAD("[a:b = '\\x41']", "invalid escape '\\x'", 9),
    BAD("[a:b = 'abc]", "unterminated string literal", 8),
    BAD("[a:b = 'abc\\", "unterminated string literal", 8),
    BAD("[a:b = \"abc\"]", "unexpected character '\"'", 8),
    /* ---- hex and base64 ---- */
    OK("[a:b = h'ffD8']", "[a:b = h'ffd8']"),
    OK("[a:b = h'']", NULL),
    BAD("[a:b = h'abc']", "odd number of hex digits in h'...'", 8),
    BAD("[a:b = h'zz']", "invalid hex digit 'z'", 8),
    BAD("[a:b = h'ab]", "unterminated h'...' literal", 8),
    OK("[a:b = b'AQIDBA==']", NULL),
    OK("[a:b = b'AQID']", NULL),
    OK("[a:b = b'AQI=']", NULL),
    OK("[a:b = b'dGhpcyBpcyBhIHRlc3Q=']", NULL),
    BAD("[a:b = b'====']", "invalid base64", 8),
    BAD("[a:b = b'AQ']", "groups of 4", 8),
    BAD("[a:b = b'']", "groups of 4", 8),
    BAD("[a:b = b'AQ=D']", "invalid base64", 8),
    BAD("[a:b = b'A===']", "invalid base64", 8),
    BAD("[a:b = b'AQ ID']", "groups of 4", 8),
    /* ---- timestamps ---- */
    OK("[a:b = " TS1 "]", "[a:b = t'2016-06-01T00:00:00.000000Z']"),
    OK("[a:b = t'2016-06-01T00:00:00.1234567Z']", "[a:b = t'2016-06-01T00:00:00.123456Z']"),
    OK("[a:b = t'2016-12-31T23:59:60Z']", "[a:b = t'2017-01-01T00:00:00.000000Z']"),
    OK("[a:b = t'2024-02-30T12:00:00Z']", "[a:b = t'2024-03-01T12:00:00.000000Z']"),
    OK("[a:b = t'2023-02-29T00:00:00Z']", "[a:b = t'2023-03-01T00:00:00.000000Z']"),
    OK("[a:b = t'2024-02-29T00:00:00Z']", "[a:b = t'2024-02-29T00:00:00.000000Z']"),
    OK("[a:b = t'0001-01-01T00:00:00Z']", "[a:b = t'0001-01-01T00:00:00.000000Z']"),
    BADS("[x-a:b = t'2024-02-30T12:00:00Z']", "not a real date: 2024-02-30", 10),
    BAD("[a:b = t'2024-13-01T00:00:00Z']", "month out of range", 8),
    BAD("[a:b = t'2024-00-01T00:00:00Z']", "month out of range", 8),
    BAD("[a:b = t'2024-01-32T00:00:00Z']", "day out of range", 8),
    BAD("[a:b = t'2024-01-01T24:00:00Z']", "hour out of range", 8),
    BAD("[a:b = t'2024-01-01T00:60:00Z']", "minute out of range", 8),
    BAD("[a:b = t'2024-01-01T00:00:61Z']", "second out of range", 8),
    BAD("[a:b = t'10000-01-01T00:00:00Z']", "invalid timestamp", 8),
    BAD("[a:b = t'2016-06-01t00:00:00Z']", "invalid timestamp", 8),
    BAD("[a:b = t'2016-06-01T00:00:00z']", "uppercase T and Z", 8),
    BAD("[a:b = t'2016-06-01T00:00:00.Z']", "a '.' needs digits", 8),
    BAD("[a:b = t'2016-06-01T00:00:00+01:00']", "invalid timestamp", 8),
    BAD("[a:b = t'2016-06-01T00:00Z']", "invalid timestamp", 8),
    BAD("[a:b = t'9999-12-31T23:59:60Z']", "timestamp out of range", 8),
    /* ---- booleans and other words ---- */
    OK("[a:b = true]", NULL),
    OK("[a:b != false]", NULL),
    BAD("[a:b = TRUE]", "expected a literal", 8),
    BAD("[a:b = null]", "found 'null'", 8),
    BAD("[a:b < true]", "'<' needs a number, string, binary or timestamp", 8),
    BAD("[a:b >= false]", "needs a number", 9),
    /* ---- operators ---- */
    OK("[a:b == 1]", "[a:b = 1]"),
    OK("[a:b <> 1]", "[a:b != 1]"),
    OK("[a:b < 'x']", NULL),
    OK("[a:b <= 1.5]", NULL),
    OK("[a:b > h'00']", NULL),
    OK("[a:b >= " TS1 "]", "[a:b >= t'2016-06-01T00:00:00.000000Z']"),
    OK("[a:b NOT = 1]", NULL),
    OK("[a:b NOT != 1]", NULL),
    OK("[a:b NOT < 1]", NULL),
    OK("[a:b NOT >= 1]", NULL),
    OK("[a:b IN ('x', 'y')]", NULL),
    OK("[a:b IN ()]", NULL),
    OK("[a:b IN ( )]", "[a:b IN ()]"),
    OK("[a:b NOT IN (1, 2.5, -3)]", NULL),
    OK("[a:b IN (true, false)]", NULL),
    OK("[a:b IN (h'01', b'AQ==')]", NULL),
    OK("[a:b IN(443,6443)]", "[a:b IN (443, 6443)]"),
    BAD("[a:b IN (1, 'x')]", "one type: a string after an integer", 13),
    BAD("[a:b IN (" TS1 ", 'x')]", "one type", 35),
    BAD("[a:b IN 1]", "expected a set like ('a', 'b') after IN, found '1'", 9),
    BAD("[a:b IN (1, )]", "expected a literal", 13),
    BAD("[a:b IN (1 2)]", "expected ',' or ')' in the IN set, found '2'", 12),
    BAD("[a:b IN ((1))]", "expected a literal", 10),
    OK("[a:b LIKE 'a%']", NULL),
    OK("[a:b NOT LIKE 'a_']", NULL),
    BAD("[a:b LIKE 1]", "expected a string literal after LIKE, found '1'", 11),
    OK("[a:b MATCHES '^a.*b$']", NULL),
    OK("[a:b NOT MATCHES '\\\\d+']", NULL),
    BAD("[a:b MATCHES '(']", "invalid regular expression", 14),
    BAD("[a:b MATCHES /.*/]", "unexpected character '/'", 14),
    OK("[a:b ISSUBSET '10.0.0.0/8']", NULL),
    OK("[a:b NOT ISSUBSET '192.168.0.1/24']", NULL),
    OK("[a:b ISSUPERSET '10.1.2.3']", NULL),
    OK("[a:b ISSUBSET '2001:db8::/32']", NULL),
    OK("[a:b ISSUPERSET '::1']", NULL),
    OK("[a:b ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']", NULL),
    BAD("[a:b ISSUBSET 'not-an-ip']", "'not-an-ip' is not an IP address or CIDR block", 15),
    BAD("[a:b ISSUBSET '10.0.0.0/33']", "not an IP address or CIDR block", 15),
    BAD("[a:b ISSUBSET '2001:db8::/129']", "not an IP address", 15),
    BAD("[a:b ISSUPERSET '10.0.0.01']", "not an IP address", 17),
    BAD("[a:b ISSUBSET ]", "expected a string literal after ISSUBSET, found ']'", 15),
    OK("[EXISTS a:b]", NULL),
    OK("[NOT EXISTS a:b.c]", NULL),
    BAD("[a:b EXISTS]", "expected a comparison operator", 6),
    BAD("[a:b NOT EXISTS]", "expected a comparison operator", 10),
    BAD("[NOT a:b = 1]", "expected EXISTS after a leading NOT", 6),
    BAD("[EXISTS]", "expected an object path", 8),
    BAD("[a:b =? 1]", "unexpected character '?'", 7),
    BAD("[a:b ! 1]", "unexpected '!'", 6),
    BAD("[a:b LAST 1]", "found 'LAST'", 6),
    BAD("[a:b = 1 and a:c = 2]", "expected ']' or AND/OR, found 'and'", 10),
    BAD("[a:b not = 1]", "found 'not'", 6),
    /* ---- object paths ---- */
    OK("[a:b.c.d = 1]", NULL),
    OK("[a:b[0] = 1]", NULL),
    OK("[a:b[-1] = 1]", NULL),
    OK("[a:b[+2] = 1]", "[a:b[2] = 1]"),
    OK("[a:b[*].c = 1]", NULL),
    OK("[a:b [ 0 ] . c = 1]", "[a:b[0].c = 1]"),
    OK("[a : b = 1]", "[a:b = 1]"),
    OK("[file:hashes.'SHA-256' = '" HASH64 "']", NULL),
    OK("[a:'b c'.'d\\'e' = 1]", NULL),
    OK("[a:'plain'.'x_1' = 1]", "[a:plain.x_1 = 1]"),
    OK("[a:'AND'.'true' = 1]", NULL),
    OK("[a:''.'' = 1]", NULL),
    OK("[_a:_b = 1]", NULL),
    OK("[network-traffic:dst_port = 443]", NULL),
    OK("[x-usb-device:usbdrive.serial_number = '5758']", NULL),
    OK("[a:b[0][1][*] = 1]", NULL),
    BAD("[a:AND = 1]", "'AND' is a keyword: quote it", 4),
    BAD("[a:b.true = 1]", "'true' is a keyword", 6),
    BAD("[a:b-c = 1]", "property name 'b-c' contains '-': quote it ('b-c')", 4),
    BAD("[some-type:needs-quotes = 1]", "contains '-'", 12),
    BAD("[a:b.c-d = 1]", "contains '-'", 6),
    BAD("[file.size = 1]", "expected ':' after the object type 'file', found '.'", 6),
    BAD("[:b = 1]", "expected an object path", 2),
    BAD("[a: = 1]", "expected a property name, found '='", 5),
    BAD("[a:b. = 1]", "expected a property name", 7),
    BAD("[a:b[x] = 1]", "expected an integer or '*' in the list index", 6),
    BAD("[a:b[1.5] = 1]", "expected an integer or '*'", 6),
    BAD("[a:b[0 = 1]", "expected ']' after the list index", 8),
    BAD("[a:b[99999999999999999999] = 1]", "integer out of range", 6),
    BAD("[a:b.5 = 1]", "expected a comparison operator", 5),
    BAD("[1:b = 1]", "expected an object path", 2),
    /* ---- comments and whitespace ---- */
    OK("/* c */ [a:b = 1] // tail", "[a:b = 1]"),
    OK("[a:b /* in */ = 1]", "[a:b = 1]"),
    OK("[a:b = 1]\n// line\n", "[a:b = 1]"),
    OK("[a:b = 1] // no newline at the end", "[a:b = 1]"),
    OK("/**/[a:b=1]/***/", "[a:b = 1]"),
    OK("\t[a:b\r\n=\v1\f]", "[a:b = 1]"),
    OK("\xc2\xa0[a:b\xe2\x80\x83=\xe3\x80\x80"
       "1]\xc2\x85\xe2\x80\xa8",
       "[a:b = 1]"),
    OK("[a:b\xe1\x9a\x80=\xe2\x80\xaf"
       "1\xe2\x81\x9f]\xe2\x80\xa9",
       "[a:b = 1]"),
    BAD("[a:b = 1] /* unterminated", "unterminated comment", 11),
    BAD("[a:b\xef\xbb\xbf= 1]", "unexpected character '\xef\xbb\xbf'", 5),
    BAD("[a:b = 1] / 2", "unexpected character '/'", 11),
    BAD("[a:b = '\xc3\xa9'] x", "found 'x'", 13),
    BADL("[a:b = 1]\n  foo", "found 'foo'", 2, 3),
    BADL("[a:b = 'x\ny'] z", "found 'z'", 2, 5),
    BADL("/* a\n b */ [a:b = 1] 7", "found '7'", 2, 17),
    /* ---- invalid UTF-8 ---- */
    BAD("[a:b = '\xff']", "invalid UTF-8 (byte 0xFF)", 9),
    BAD("[a:b = '\xc3']", "invalid UTF-8", 9),
    BAD("[a:b = 'x\xc0\xaf']", "invalid UTF-8", 10),
    BAD("[a:b = '\xed\xa0\x80']", "invalid UTF-8", 9),
    BAD("[a:b = '\xf4\x90\x80\x80']", "invalid UTF-8", 9),
    BAD("[a:b = 1] /* \xfe */", "invalid UTF-8", 14),
    BAD("[a:b = 1] // \x80", "invalid UTF-8", 14),
    BAD("[a:b = 1] \xe2\x80", "invalid UTF-8", 11),
    BAD("[a:b = h'00\xff']", "invalid UTF-8 (byte 0xFF)", 12),
    BAD("[a:b = t'\xc3\xa9\xc3']", "invalid UTF-8 (byte 0xC3)", 11),
    BAD("[a:b = b'\xc3\xa9"
        "AA']",
        "invalid base64 character", 8),
    BAD("[a:b = '\xc3\xa9\xc3\xa9' \x80]", "invalid UTF-8", 13),
    /* ---- precedence and associativity ---- */
    OK("[a:b=1] OR [a:b=2] AND [a:b=3]", "([a:b = 1] OR ([a:b = 2] AND [a:b = 3]))"),
    OK("[a:b=1] AND [a:b=2] OR [a:b=3]", "(([a:b = 1] AND [a:b = 2]) OR [a:b = 3])"),
    OK("[a:b=1] FOLLOWEDBY [a:b=2] OR [a:b=3]", "([a:b = 1] FOLLOWEDBY ([a:b = 2] OR [a:b = 3]))"),
    OK("[a:b=1] OR [a:b=2] FOLLOWEDBY [a:b=3] AND [a:b=4]",
       "(([a:b = 1] OR [a:b = 2]) FOLLOWEDBY ([a:b = 3] AND [a:b = 4]))"),
    OK("[a:b=1] FOLLOWEDBY [a:b=2] FOLLOWEDBY [a:b=3]",
       "(([a:b = 1] FOLLOWEDBY [a:b = 2]) FOLLOWEDBY [a:b = 3])"),
    OK("[a:b=1] AND [a:b=2] AND [a:b=3]", "(([a:b = 1] AND [a:b = 2]) AND [a:b = 3])"),
    OK("[a:b=1] OR [a:b=2] OR [a:b=3]", "(([a:b = 1] OR [a:b = 2]) OR [a:b = 3])"),
    OK("[a:b=1] AND ([a:b=2] OR [a:b=3])", "([a:b = 1] AND ([a:b = 2] OR [a:b = 3]))"),
    OK("[a:b=1] FOLLOWEDBY [a:b=2] REPEATS 5 TIMES",
       "([a:b = 1] FOLLOWEDBY ([a:b = 2] REPEATS 5 TIMES))"),
    OK("([a:b=1] FOLLOWEDBY [a:b=2]) REPEATS 5 TIMES",
       "(([a:b = 1] FOLLOWEDBY [a:b = 2]) REPEATS 5 TIMES)"),
    OK("([a:b=1] AND [a:b=2] REPEATS 5 TIMES) WITHIN 300 SECONDS",
       "(([a:b = 1] AND ([a:b = 2] REPEATS 5 TIMES)) WITHIN 300 SECONDS)"),
    OK("[a:b=1] REPEATS 5 TIMES WITHIN 300 SECONDS",
       "(([a:b = 1] REPEATS 5 TIMES) WITHIN 300 SECONDS)"),
    OK("[a:b=1] AND [a:b=2] WITHIN 5 SECONDS", "([a:b = 1] AND ([a:b = 2] WITHIN 5 SECONDS))"),
    OK("[a:b=1 AND a:c=2 OR a:d=3]", "[((a:b = 1 AND a:c = 2) OR a:d = 3)]"),
    OK("[a:b=1 OR a:c=2 AND a:d=3]", "[(a:b = 1 OR (a:c = 2 AND a:d = 3))]"),
    OK("[a:b=1 AND (a:c=2 OR a:d=3)]", "[(a:b = 1 AND (a:c = 2 OR a:d = 3))]"),
    OK("[a:b=1 AND a:c=2 AND a:d=3]", "[((a:b = 1 AND a:c = 2) AND a:d = 3)]"),
    OK("[a:b=1 OR a:c=2 OR a:d=3]", "[((a:b = 1 OR a:c = 2) OR a:d = 3)]"),
    OK("((([a:b=1])))", "[a:b = 1]"),
    OK("[(((a:b=1)))]", "[a:b = 1]"),
    OK("( [(a:b IN(443,6443) AND a:c != 0) ])", "[(a:b IN (443, 6443) AND a:c != 0)]"),
    /* ---- qualifiers ---- */
    OK("[a:b=1] WITHIN 5 SECONDS", "([a:b = 1] WITHIN 5 SECONDS)"),
    OK("[a:b=1] WITHIN +5 SECONDS", "([a:b = 1] WITHIN 5 SECONDS)"),
    OK("[a:b=1] WITHIN 1.5 SECONDS", "([a:b = 1] WITHIN 1.5 SECONDS)"),
    OK("[a:b=1] WITHIN .25 SECONDS", "([a:b = 1] WITHIN 0.25 SECONDS)"),
    OK("[a:b=1] WITHIN 0.0000001 SECONDS", "([a:b = 1] WITHIN 0.000001 SECONDS)"),
    OK("[a:b=1] WITHIN 2.0000011 SECONDS", "([a:b = 1] WITHIN 2.000002 SECONDS)"),
    OK("[a:b=1] REPEATS 2 TIMES", "([a:b = 1] REPEATS 2 TIMES)"),
    OK("[a:b=1] START " TS1 " STOP " TS2,
       "([a:b = 1] START t'2016-06-01T00:00:00.000000Z' STOP t'2016-07-01T00:00:00.000000Z')"),
    OK("[a:b=1] START " TS2 " STOP " TS1,
       "([a:b = 1] START t'2016-07-01T00:00:00.000000Z' STOP t'2016-06-01T00:00:00.000000Z')"),
    OK("[a:b=1] WITHIN 5 SECONDS REPEATS 2 TIMES START " TS1 " STOP " TS2,
       "((([a:b = 1] WITHIN 5 SECONDS) REPEATS 2 TIMES) START t'2016-06-01T00:00:00.000000Z' "
       "STOP t'2016-07-01T00:00:00.000000Z')"),
    OK("([a:b=1] WITHIN 5 SECONDS) WITHIN 6 SECONDS",
       "(([a:b = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS)"),
    OK("([a:b=1] REPEATS 2 TIMES) REPEATS 2 TIMES",
       "(([a:b = 1] REPEATS 2 TIMES) REPEATS 2 TIMES)"),
    BAD("[a:b=1] WITHIN 5 SECONDS WITHIN 6 SECONDS", "duplicate WITHIN qualifier", 26),
    BAD("[a:b=1] REPEATS 2 TIMES REPEATS 3 TIMES", "duplicate REPEATS qualifier", 25),
    BAD("[a:b=1] START " TS1 " STOP " TS2 " START " TS1 " STOP " TS2, "duplicate START qualifier",
        68),
    BAD("[a:b=1] WITHIN 5 SECONDS REPEATS 2 TIMES WITHIN 6 SECONDS", "duplicate WITHIN", 42),
    BAD("([a:b=1] REPEATS 2 TIMES REPEATS 3 TIMES)", "duplicate REPEATS", 26),
    BAD("[a:b=1] WITHIN 0 SECONDS", "WITHIN needs a positive number of seconds", 16),
    BAD("[a:b=1] WITHIN 0.0 SECONDS", "WITHIN needs a positive number of seconds", 16),
    BAD("[a:b=1] WITHIN -5 SECONDS", "a positive number of seconds after WITHIN", 16),
    BAD("[a:b=1] WITHIN 5 HOURS", "expected SECONDS, found 'HOURS'", 18),
    BAD("[a:b=1] WITHIN 5 MINUTES", "expected SECONDS", 18),
    BAD("[a:b=1] WITHIN ]", "a positive number of seconds after WITHIN, found ']'", 16),
    BAD("[a:b=1] WITHIN 9223372036854775807 SECONDS", "out of range", 16),
    BAD("[a:b=1] WITHIN 9223372036855 SECONDS", "out of range", 16),
    BAD("[a:b=1] REPEATS 0 TIMES", "REPEATS needs a positive number of times", 17),
    BAD("[a:b=1] REPEATS -1 TIMES", "a positive integer after REPEATS", 17),
    BAD("[a:b=1] REPEATS 1.5 TIMES", "a positive integer after REPEATS", 17),
    BAD("[a:b=1] REPEATS 5", "expected TIMES, found end of pattern", 18),
    BAD("[a:b=1] START " TS1, "expected STOP, found end of pattern", 38),
    BAD("[a:b=1] START '2016-06-01T00:00:00Z' STOP " TS2, "a timestamp t'...' after START", 15),
    BAD("[a:b=1] START " TS1 " STOP 5", "a timestamp t'...' after STOP", 44),
    BAD("[a:b=1] within 5 seconds", "found 'within'", 9),
    BAD("[a:b=1] WITHIN 5 SECONDS AND", "expected '[' or '('", 29),
    BADS("[x-a:b=1] START " TS2 " STOP " TS1, "START must be before STOP", 46),
    BADS("[x-a:b=1] START " TS1 " STOP " TS1, "START must be before STOP", 46),
    /* ---- structure ---- */
    BAD("", "expected '[' or '(', found end of pattern", 1),
    BAD("   ", "expected '[' or '(', found end of pattern", 4),
    BAD("file:size = 1280", "expected '[' or '(', found 'file'", 1),
    BAD("[a:b=1", "expected ']' or AND/OR, found end of pattern", 7),
    BAD("[a:b=1]]", "expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern", 8),
    BAD("[]", "expected an object path", 2),
    BAD("[[a:b=1]]", "expected an object path", 2),
    BAD("([a:b=1]", "expected ')', AND, OR, FOLLOWEDBY or a qualifier, found end", 9),
    BAD("[a:b=1] AND", "expected '[' or '(', found end of pattern", 12),
    BAD("[a:b=1] [a:b=2]", "expected AND, OR, FOLLOWEDBY", 9),
    BAD("[a:b = 1 AND]", "expected an object path", 13),
    BAD("[(a:b = 1]", "expected ')' or AND/OR, found ']'", 10),
    BAD("()", "expected '[' or '('", 2),
    BAD("[a:b = 1] FOLLOWEDBY FOLLOWEDBY [a:b = 2]", "expected '[' or '('", 22),
    /* ---- hashes (both modes, as the reference validator) ---- */
    BAD("[file:hashes.'SHA-256' = 'f00']", "'f00' is not a valid SHA-256 hash", 26),
    OK("[file:hashes.sha256 = '" HASH64 "']", NULL),
    OK("[file:hashes.'sha-256' = '" HASH64 "']", NULL),
    BAD("[file:hashes.MD5 = 'zzad3f77f6cda6ec00f57d76c9a6879f']", "not a valid MD5 hash", 20),
    OK("[file:hashes.MD5 = 'CEAD3F77F6CDA6EC00F57D76C9A6879F']", NULL),
    BAD("[file:hashes.'SHA-1' = '" HASH64 "']", "not a valid SHA-1 hash", 24),
    OK("[file:hashes.SSDEEP = '3:abc+/:def.']", NULL),
    BAD("[file:hashes.SSDEEP = 'a b']", "not a valid SSDEEP hash", 23),
    OK("[file:hashes.TLSH = 'anything goes']", NULL),
    BAD("[file:hashes.MD5 IN ('cead3f77f6cda6ec00f57d76c9a6879f', 'bad')]", "'bad' is not", 21),
    OK("[file:hashes[*] = 'f00']", NULL),
    OK("[file:hashes.MD5 LIKE 'cead%']", NULL),
    OK("[file:hashes.MD5 MATCHES '^cead']", NULL),
    OK("[file:hashes.MD5 > 'a']", NULL),
    /* ---- strict mode ---- */
    OK("[emailaddr:value = 'a']", NULL),
    BADS("[emailaddr:value = 'a']", "unknown object type 'emailaddr'", 2),
    BADS("[file:file_name = 'x']", "file has no property 'file_name'", 2),
    BADS("[file:size = 'abc']", "file:size is an integer, cannot compare it with a string", 14),
    OKS("[file:size = 1.5]", NULL),
    OKS("[file:size IN (1, 2.5)]", NULL),
    BADS("[file:size IN ('a')]", "file:size is an integer, cannot compare it with a string", 15),
    BADS("[file:name = 1]", "file:name is a string, cannot compare it with an integer", 14),
    BADS("[file:ctime = '2016-01-01T00:00:00Z']", "file:ctime is a timestamp, cannot compare", 15),
    OKS("[file:ctime > " TS1 "]", "[file:ctime > t'2016-06-01T00:00:00.000000Z']"),
    OKS("[file:magic_number_hex = h'ffd8']", NULL),
    OKS("[file:magic_number_hex = 'abc']", NULL),
    OKS("[artifact:payload_bin MATCHES '^\\\\xd4']", NULL),
    BADS("[file:magic_number_hex = 5]", "is hex binary, cannot compare it with an integer", 26),
    BADS("[network-traffic:is_active = 1]", "is a boolean, cannot compare it with an integer", 30),
    OKS("[network-traffic:is_active = true]", NULL),
    OKS("[x-custom:anything.goes[5] = 1]", NULL),
    OKS("[file:x_custom.deeper = 1]", NULL),
    OKS("[file:extensions.'ntfs-ext'.sid = 'x']", NULL),
    BADS("[file:extensions.'ntfs-ext'.foo = 'x']",
         "file:extensions.'ntfs-ext' has no property 'foo'", 2),
    OKS("[file:extensions.'ntfs-ext'.alternate_data_streams[0].size > 5]", NULL),
    OKS("[file:extensions.'extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e'.x = 1]",
        NULL),
    OKS("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", NULL),
    BADS("[file:extensions.'windows-pebinary-ext'.sections[*].entropy LIKE '7%']",
         "entropy is a float, LIKE cannot be used on it", 66),
    OKS("[file:extensions.'windows-pebinary-ext'.optional_header.size_of_code > 1]", NULL),
    OKS("[network-traffic:src_ref.value = '1.2.3.4']", NULL),
    OKS("[network-traffic:src_ref.anything = 1]", NULL),
    OKS("[domain-name:resolves_to_refs[*].value = '1.2.3.4']", NULL),
    BADS("[domain-name:resolves_to_refs.value = '1.2.3.4']", "is a list: index it", 2),
    OKS("[network-traffic:protocols[*] = 'tcp']", NULL),
    OKS("[network-traffic:protocols = 'tcp']", NULL),
    BADS("[file:name.x = 1]", "file:name is a string: it has no properties", 2),
    BADS("[file:name[0] = 1]", "file:name is a string: it has no elements", 2),
    BADS("[file:hashes = 'x']", "file:hashes is a dictionary: compare one of its properties", 2),
    OKS("[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']", NULL),
    BADS("[process:pid LIKE '1%']", "process:pid is an integer, LIKE cannot be used on it", 19),
    BADS("[process:pid ISSUBSET '10.0.0.0/8']", "ISSUBSET cannot be used on it", 23),
    OKS("[email-message:body_multipart[*].body_raw_ref.name = 'x']", NULL),
    BADS("[email-message:body_multipart[*].nope = 'x']",
         "email-message:body_multipart[*] has no property 'nope'", 2),
    OKS("[windows-registry-key:values[*].data_type = 'REG_SZ']", NULL),
    OKS("[x509-certificate:x509_v3_extensions.key_usage = 'x']", NULL),
    OKS("[user-account:extensions.'unix-account-ext'.gid = 5]", NULL),
    BADS("[user-account:extensions.'unix-account-ext'.gid = 'x']", "gid is an integer", 51),
    OKS("[EXISTS file:hashes]", NULL),
    BADS("[EXISTS file:nope]", "file has no property 'nope'", 9),
    OKS("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", NULL),
    OKS("[file:defanged = false AND file:spec_version = '2.1']",
        "[(file:defanged = false AND file:spec_version = '2.1')]"),
    BADS("[file:defanged = 'no']", "file:defanged is a boolean", 18),
    OKS("[ipv4-addr:value = '1.2.3.4'] START " TS1 " STOP " TS2,
        "([ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00.000000Z' STOP "
        "t'2016-07-01T00:00:00.000000Z')"),
    BADS("[file:x = 1] OR [url:nope = 'x']", "file has no property 'x'", 2),
    BADS("[url:value = 'a'] OR [url:nope = 'x']", "url has no property 'nope'", 23),
};

/* Returns false (after printing why) when c does not hold. */
static bool check_case(const struct pcase *c)
{
    bool ok = false;
    struct pattern *p = NULL, *p2 = NULL;
    struct ctix_diag d;
    struct buf b, b2;
    enum ctix_rc rc;

    memset(&d, 0, sizeof(d));
    buf_init(&b, 1u << 22);
    buf_init(&b2, 1u << 22);
    rc = pattern_parse(c->in, strlen(c->in), c->flags, &p, &d);
    if (rc != c->rc) {
        print_error("%s: rc %d, want %d (%u:%u %s)\n", c->in, rc, c->rc, d.line, d.col, d.msg);
        goto out;
    }
    if (rc != CTIX_OK) {
        if (strstr(d.msg, c->want) == NULL)
            print_error("%s: message \"%s\", want \"%s\"\n", c->in, d.msg, c->want);
        else if (strcmp(d.where, "pattern") != 0)
            print_error("%s: where \"%s\"\n", c->in, d.where);
        else if (c->col && (d.line != c->line || d.col != c->col))
            print_error("%s: at %u:%u, want %u:%u (%s)\n", c->in, d.line, d.col, c->line, c->col,
                        d.msg);
        else
            ok = true;
        goto out;
    }
    if (pattern__print(p, &b) != CTIX_OK || strcmp(b.data, c->want ? c->want : c->in) != 0) {
        print_error("%s: printed %s, want %s\n", c->in, b.data, c->want ? c->want : c->in);
        goto out;
    }
    /* The canonical form is a fixed point, in both modes. */
    rc = pattern_parse(b.data, b.len, c->flags, &p2, &d);
    if (rc != CTIX_OK) {
        print_error("%s: reparse of %s failed: %s\n", c->in, b.data, d.msg);
        goto out;
    }
    if (pattern__print(p2, &b2) != CTIX_OK || strcmp(b.data, b2.data) != 0 ||
        pattern_n_obs(p) != pattern_n_obs(p2) || pattern_mem(p) <= sizeof(struct pattern)) {
        print_error("%s: reprinted %s\n", c->in, b2.data);
        goto out;
    }
    ok = true;
out:
    pattern_free(p);
    pattern_free(p2);
    buf_cleanup(&b);
    buf_cleanup(&b2);
    return ok;
}

static void test_table(void **state)
{
    (void)state;
    assert_true(CTIX_ARRAY_LEN(cases) >= 150);
    size_t bad = 0;

    for (size_t i = 0; i < CTIX_ARRAY_LEN(cases); i++)
        bad += !check_case(&cases[i]);
    assert_int_equal(bad, 0);
}

static struct pattern *parse_ok(const char *s, unsigned flags)
{
    struct pattern *p = NULL;
    struct ctix_diag d;

    if (pattern_parse(s, strlen(s), flags, &p, &d) != CTIX_OK)
        fail_msg("%s: %s", s, d.msg);
    return p;
}

/* The tree itself: values the printer could hide. */
static void test_ast(void **state)
{
    struct pattern *p;
    const struct pat_oexpr *o;
    const struct pat_cmp *c;

    (void)state;
    p = parse_ok("([a:b = -9223372036854775808] FOLLOWEDBY [c:d[-1].'e f'[*] NOT IN (1, 2.5)]) "
                 "REPEATS 3 TIMES OR [g:h = b'AQIDBA=='] WITHIN 1.5 SECONDS",
                 0);
    assert_int_equal(pattern_n_obs(p), 3);
    o = p->root;
    assert_int_equal(o->kind, PAT_O_OR);
    assert_int_equal(o->l->kind, PAT_O_REPEATS);
    assert_int_equal(o->l->repeats, 3);
    assert_int_equal(o->l->l->kind, PAT_O_FOLLOWEDBY);
    assert_int_equal(o->l->l->l->obs_no, 0);
    assert_int_equal(o->l->l->r->obs_no, 1);
    assert_int_equal(o->r->kind, PAT_O_WITHIN);
    assert_int_equal(o->r->within_us, 1500000);
    assert_int_equal(o->r->l->obs_no, 2);
    c = o->l->l->l->c->cmp;
    assert_int_equal(c->lit.kind, PAT_LIT_INT);
    assert_true(c->lit.u.i == INT64_MIN);
    assert_string_equal(c->path.type, "a");
    assert_int_equal(c->line, 1);
    assert_int_equal(c->col, 3);
    c = o->l->l->r->c->cmp;
    assert_true(c->negated);
    assert_int_equal(c->op, PAT_OP_IN);
    assert_int_equal(c->path.n_steps, 4);
    assert_int_equal(c->path.steps[1].kind, PAT_STEP_INDEX);
    assert_true(c->path.steps[1].index == -1);
    assert_string_equal(c->path.steps[2].key, "e f");
    assert_int_equal(c->path.steps[3].kind, PAT_STEP_ANY);
    assert_int_equal(c->lit.kind, PAT_LIT_SET);
    assert_int_equal(c->lit.u.set.n, 2);
    assert_int_equal(c->lit.u.set.v[1].kind, PAT_LIT_FLOAT);
    assert_true(c->lit.u.set.v[1].u.f == 2.5);
    c = o->r->l->c->cmp;
    assert_int_equal(c->lit.kind, PAT_LIT_BIN);
    assert_false(c->lit.hex);
    assert_int_equal(c->lit.u.s.n, 4);
    assert_memory_equal(c->lit.u.s.p, "\x01\x02\x03\x04", 4);
    pattern_free(p);

    p = parse_ok("[a:b = 'it\\'s \\\\ ok' AND a:c = h'00ff' AND a:d = t'1970-01-01T00:00:01.5Z']",
                 0);
    c = p->root->c->l->l->cmp;
    assert_string_equal(c->lit.u.s.p, "it's \\ ok");
    c = p->root->c->l->r->cmp;
    assert_true(c->lit.hex);
    assert_int_equal(c->lit.u.s.n, 2);
    assert_memory_equal(c->lit.u.s.p, "\x00\xff", 2);
    c = p->root->c->r->cmp;
    assert_true(c->lit.u.ts_us == 1500000);
    pattern_free(p);

    /* Base64 decodes to more than half its length (a fuzzer find: the buffer was n/2). */
    p = parse_ok("[a:b = b'dGhpcyBpcyBhIHRlc3Q=' AND a:c = b'////']", 0);
    c = p->root->c->l->cmp;
    assert_int_equal(c->lit.u.s.n, 14);
    assert_memory_equal(c->lit.u.s.p, "this is a test", 15);
    c = p->root->c->r->cmp;
    assert_int_equal(c->lit.u.s.n, 3);
    assert_memory_equal(c->lit.u.s.p, "\xff\xff\xff", 3);
    pattern_free(p);

    /* START/STOP, and a day past the month's end counted on in syntax mode. */
    p = parse_ok("[a:b = 1] START t'2024-02-30T00:00:00Z' STOP t'2024-03-02T00:00:00Z'", 0);
    assert_true(p->root->stop_us - p->root->start_us == INT64_C(86400000000));
    pattern_free(p);

    /* MATCHES: both compiled forms when every code point fits a byte, only the UTF one when
     * not; LIKE normalised to NFC (e + combining acute -> U+00E9). */
    p = parse_ok("[a:b MATCHES '^\xc3\xa9.$' AND a:c MATCHES '\xe2\x9c\x93' AND "
                 "a:d LIKE 'e\xcc\x81%']",
                 0);
    c = p->root->c->l->l->cmp;
    assert_non_null(c->re);
    assert_non_null(c->re_bytes);
    c = p->root->c->l->r->cmp;
    assert_non_null(c->re);
    assert_null(c->re_bytes);
    c = p->root->c->r->cmp;
    assert_int_equal(c->like_len, 3);
    assert_memory_equal(c->like, "\xc3\xa9%", 3);
    assert_int_equal(p->n_re, 3);
    pattern_free(p);

    /* CIDR constants. */
    p = parse_ok("[a:b ISSUBSET '10.1.2.3/8' OR a:b ISSUPERSET '2001:db8::1']", 0);
    c = p->root->c->l->cmp;
    assert_int_equal(c->cidr.family, 4);
    assert_int_equal(c->cidr.prefix, 8);
    assert_memory_equal(c->cidr.addr, "\x0a\x00\x00\x00", 4);
    c = p->root->c->r->cmp;
    assert_int_equal(c->cidr.family, 6);
    assert_int_equal(c->cidr.prefix, 128);
    pattern_free(p);

    pattern_free(NULL);
}

/* Bytes the table cannot hold (NUL), the length cap, nesting caps and a 1 MB pattern. */
static void test_caps(void **state)
{
    struct pattern *p = NULL;
    struct ctix_diag d;
    struct buf b;
    size_t n = 0, unit;
    char *s = malloc(PATTERN_MAX_LEN + 2);
    const char *item = "[ipv4-addr:value = '198.51.100.7'] OR ";

    (void)state;
    assert_non_null(s);
    assert_int_equal(pattern_parse("[a:b = 1]\0", 10, 0, &p, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "control character 0x00"));
    assert_int_equal(d.col, 10);
    assert_int_equal(pattern_parse("[a:b = '\0']", 11, 0, &p, &d), CTIX_OK);
    assert_int_equal(p->root->c->cmp->lit.u.s.n, 1);
    pattern_free(p);
    p = NULL;

    /* Length: exactly the cap is parsed, one byte more is refused before lexing. */
    memset(s, ' ', PATTERN_MAX_LEN + 1);
    memcpy(s, "[a:b=1]", 7);
    assert_int_equal(pattern_parse(s, PATTERN_MAX_LEN, 0, &p, &d), CTIX_OK);
    pattern_free(p);
    p = NULL;
    assert_int_equal(pattern_parse(s, PATTERN_MAX_LEN + 1, 0, &p, &d), CTIX_ETOOBIG);
    assert_non_null(strstr(d.msg, "limit"));
    assert_null(p);

    /* 1 MB of OR'ed observations: linear, and the printer walks the chain without recursion. */
    unit = strlen(item);
    while (n + unit + 40 < PATTERN_MAX_LEN) {
        memcpy(s + n, item, unit);
        n += unit;
    }
    memcpy(s + n, "[url:value = 'x']", 17);
    n += 17;
    assert_int_equal(pattern_parse(s, n, PATTERN_STRICT, &p, &d), CTIX_OK);
    assert_true(pattern_n_obs(p) > 25000);
    buf_init(&b, 8u << 20);
    assert_int_equal(pattern__print(p, &b), CTIX_OK);
    buf_cleanup(&b);
    pattern_free(p);
    p = NULL;

    /* 10,000 nested parentheses, outside and inside brackets: an error, not a stack overflow. */
    n = 0;
    for (int i = 0; i < 10000; i++)
        s[n++] = '(';
    memcpy(s + n, "[a:b=1]", 7);
    n += 7;
    for (int i = 0; i < 10000; i++)
        s[n++] = ')';
    assert_int_equal(pattern_parse(s, n, 0, &p, &d), CTIX_ETOOBIG);
    assert_non_null(strstr(d.msg, "nesting deeper than 256"));
    assert_int_equal(d.col, 257);
    n = 0;
    s[n++] = '[';
    for (int i = 0; i < 10000; i++)
        s[n++] = '(';
    memcpy(s + n, "a:b=1", 5);
    n += 5;
    for (int i = 0; i < 10000; i++)
        s[n++] = ')';
    s[n++] = ']';
    assert_int_equal(pattern_parse(s, n, 0, &p, &d), CTIX_ETOOBIG);
    /* 255 parentheses and the bracket are 256 levels: allowed; one more is not. */
    for (int extra = 0; extra < 2; extra++) {
        int depth = 255 + extra;
        n = 0;
        for (int i = 0; i < depth; i++)
            s[n++] = '(';
        memcpy(s + n, "[a:b=1]", 7);
        n += 7;
        for (int i = 0; i < depth; i++)
            s[n++] = ')';
        assert_int_equal(pattern_parse(s, n, 0, &p, &d), extra ? CTIX_ETOOBIG : CTIX_OK);
        pattern_free(p);
        p = NULL;
    }
    /* Deep brackets are a plain syntax error. */
    memset(s, '[', 10000);
    assert_int_equal(pattern_parse(s, 10000, 0, &p, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "expected an object path"));
    /* A long path and a long string are fine. */
    n = 0;
    memcpy(s, "[a:b", 4);
    n = 4;
    for (int i = 0; i < 100000; i++) {
        memcpy(s + n, "[0]", 3);
        n += 3;
    }
    memcpy(s + n, " = '", 4);
    n += 4;
    memset(s + n, 'x', 500000);
    n += 500000;
    memcpy(s + n, "']", 2);
    n += 2;
    assert_int_equal(pattern_parse(s, n, 0, &p, &d), CTIX_OK);
    assert_int_equal(p->root->c->cmp->path.n_steps, 100001);
    assert_int_equal(p->root->c->cmp->lit.u.s.n, 500000);
    pattern_free(p);
    free(s);
}

/* ---- conformance files ---- */

static const char *shared_dir(void)
{
    const char *s = getenv("CTIX_SHARED");

    return s != NULL ? s : "../shared/data";
}

static json_t *load_shared(const char *rel)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", shared_dir(), rel);
    return json_load_file(path, 0, NULL);
}

static enum ctix_rc try_parse(const char *s, unsigned flags, struct ctix_diag *d)
{
    struct pattern *p = NULL;
    enum ctix_rc rc = pattern_parse(s, strlen(s), flags, &p, d);

    pattern_free(p);
    return rc;
}

/* cti-pattern-validator's 2.1 cases. The Python messages are not ours; where they give an ANTLR
 * position ("line 1:N", 0-based) our 1-based column must be N + 1. */
static void test_validator_cases(void **state)
{
    json_t *j = load_shared("derived-test-vectors/pattern-validator-v21-cases.json");
    const char *pass[] = {"PASS_CASES", "TIMESTAMP_PASS_CASES"};
    const char *failk[] = {"FAIL_CASES", "TIMESTAMP_FAIL_CASES"};
    struct ctix_diag d;
    size_t i, n_checked_col = 0;
    json_t *v;

    (void)state;
    if (j == NULL)
        skip();
    for (int k = 0; k < 2; k++) {
        json_t *arr = json_object_get(json_object_get(j, "cases"), pass[k]);
        assert_true(json_array_size(arr) > 0);
        json_array_foreach(arr, i, v)
        {
            const char *s = json_string_value(v);
            if (try_parse(s, PATTERN_SYNTAX, &d) != CTIX_OK)
                fail_msg("%s %s: %s", pass[k], s, d.msg);
        }
    }
    for (int k = 0; k < 2; k++) {
        json_t *arr = json_object_get(json_object_get(j, "cases"), failk[k]);
        assert_true(json_array_size(arr) > 0);
        json_array_foreach(arr, i, v)
        {
            const char *s = json_string_value(json_array_get(v, 0));
            const char *msg = json_string_value(json_array_get(v, 1));
            const char *at = strstr(msg, "line 1:");
            unsigned col;

            if (try_parse(s, PATTERN_SYNTAX, &d) == CTIX_OK)
                fail_msg("%s %s: accepted", failk[k], s);
            if (at != NULL && sscanf(at, "line 1:%u.", &col) == 1) {
                if (d.col != col + 1)
                    fail_msg("%s: column %u, the validator says %u (0-based): %s", s, d.col, col,
                             d.msg);
                n_checked_col++;
            }
        }
    }
    assert_true(n_checked_col >= 10);
    json_decref(j);
}

/* The spec's examples all parse in syntax mode. In strict mode all but three do: two use the
 * STIX 2.0 name win-registry-key (not a 2.1 SCO type), one file:created (2.1's file has ctime)
 * and file:size = '371712' (a string for an integer). */
static void test_spec_examples(void **state)
{
    char path[1024], *text = NULL, *line, *end;
    size_t len = 0, n = 0, n_strict_bad = 0;
    struct ctix_diag d;

    (void)state;
    snprintf(path, sizeof(path), "%s/cti-pattern-validator/v21_spec_examples.txt", shared_dir());
    if (ctix_file_read(path, 1u << 20, &text, &len, &d) != CTIX_OK)
        skip();
    for (line = text; line < text + len; line = end + 1) {
        char buf[2048];

        end = memchr(line, '\n', (size_t)(text + len - line));
        if (end == NULL)
            end = text + len;
        if (end == line)
            continue;
        assert_true((size_t)(end - line) < sizeof(buf));
        memcpy(buf, line, (size_t)(end - line));
        buf[end - line] = '\0';
        if (try_parse(buf, PATTERN_SYNTAX, &d) != CTIX_OK)
            fail_msg("%s: %s", buf, d.msg);
        if (try_parse(buf, PATTERN_STRICT, &d) != CTIX_OK) {
            if (strstr(buf, "win-registry-key") == NULL && strstr(buf, "file:created") == NULL)
                fail_msg("strict: %s: %s", buf, d.msg);
            n_strict_bad++;
        }
        n++;
    }
    assert_int_equal(n, 23);
    assert_int_equal(n_strict_bad, 3);
    free(text);
}

/* The matcher's vectors: "parse_error" cases must be refused, the rest must parse. Two kinds of
 * "error" (refused at match time by stix2-matcher) are refused by our parser instead: WITHIN 0
 * (the spec wants a positive number, B9) and IN sets mixing types (B5). And the matcher parses
 * "[x] REPEATS 2 TIMES REPEATS 3 TIMES", which the reference validator (and so ctix) refuses as
 * a duplicate qualifier: its FAIL case "[x] WITHIN 5 SECONDS WITHIN 6 SECONDS" has that form. */
static void test_matcher_vectors(void **state)
{
    json_t *j = load_shared("derived-test-vectors/pattern-matcher-v21-vectors.json");
    json_t *mod, *t, *c;
    size_t i, k, m, n_parse = 0, n_refused = 0;
    struct ctix_diag d;

    (void)state;
    if (j == NULL)
        skip();
    json_array_foreach(json_object_get(j, "modules"), i, mod)
    {
        json_array_foreach(json_object_get(mod, "tests"), k, t)
        {
            const char *expect = json_string_value(json_object_get(t, "expect"));
            const char *name = json_string_value(json_object_get(t, "test"));
            bool refuse = strcmp(expect, "parse_error") == 0 ||
                          strcmp(name, "test_basic_ops_set_err") == 0 ||
                          strcmp(name, "test_temp_qual_error_match") == 0;

            json_array_foreach(json_object_get(t, "cases"), m, c)
            {
                const char *s = json_is_array(c) ? json_string_value(json_array_get(c, 0))
                                                 : json_string_value(c);
                enum ctix_rc rc;

                if (s == NULL)
                    continue; /* the interval tests take numbers, not patterns */
                bool refuse_this = refuse || (s[0] == '[' && strstr(s, "TIMES REPEATS") != NULL);

                rc = try_parse(s, PATTERN_SYNTAX, &d);
                if (refuse_this && rc == CTIX_OK)
                    fail_msg("%s: %s accepted", name, s);
                if (!refuse_this && rc != CTIX_OK)
                    fail_msg("%s: %s: %s", name, s, d.msg);
                if (refuse_this)
                    n_refused++;
                else
                    n_parse++;
            }
        }
    }
    assert_true(n_parse > 300);
    assert_int_equal(n_refused, 26);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),         cmocka_unit_test(test_ast),
        cmocka_unit_test(test_caps),          cmocka_unit_test(test_validator_cases),
        cmocka_unit_test(test_spec_examples), cmocka_unit_test(test_matcher_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
