#include "http/http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

struct listen_case {
    const char *in;
    const char *host; /* NULL: must fail */
    uint16_t port;
    const char *err; /* a fragment of the message on failure */
};

static const struct listen_case listen_cases[] = {
    {"127.0.0.1:8443", "127.0.0.1", 8443, NULL},
    {"0.0.0.0:80", "0.0.0.0", 80, NULL},
    {"localhost:0", "127.0.0.1", 0, NULL},
    {"[::1]:8443", "::1", 8443, NULL},
    {"[::]:65535", "::", 65535, NULL},
    {"[2001:db8::5]:1", "2001:db8::5", 1, NULL},
    {"192.0.2.7:65536", NULL, 0, "port must be"},
    {"192.0.2.7:", NULL, 0, "port must be"},
    {"192.0.2.7:-1", NULL, 0, "port must be"},
    {"192.0.2.7:+80", NULL, 0, "port must be"},
    {"192.0.2.7", NULL, 0, "missing :PORT"},
    {"::1:8443", NULL, 0, "brackets"},
    {"[::1]8443", NULL, 0, "[IPV6]:PORT"},
    {"[::1:8443", NULL, 0, "[IPV6]:PORT"},
    {"[127.0.0.1]:80", NULL, 0, "numeric IPv6"},
    {"example.org:443", NULL, 0, "numeric IPv4"},
    {"256.1.1.1:443", NULL, 0, "numeric IPv4"},
    {":443", NULL, 0, "bad host"},
    {"[]:443", NULL, 0, "bad host"},
    {"", NULL, 0, "empty"},
    {"[localhost]:80", NULL, 0, "numeric IPv6"},
};

static void test_listen_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(listen_cases); i++) {
        const struct listen_case *c = &listen_cases[i];
        char host[HTTP_HOST_MAX] = "unchanged";
        uint16_t port = 4242;
        struct ctix_diag d;
        enum ctix_rc rc;

        ctix_diag_clear(&d);
        rc = http_listen_parse(c->in, host, &port, &d);
        if (c->host != NULL) {
            if (rc != CTIX_OK)
                fail_msg("%s: unexpected failure: %s", c->in, d.msg);
            assert_string_equal(host, c->host);
            assert_int_equal(port, c->port);
        } else {
            if (rc != CTIX_EINVAL)
                fail_msg("%s: accepted as %s:%u", c->in, host, port);
            if (strstr(d.msg, c->err) == NULL)
                fail_msg("%s: message '%s' lacks '%s'", c->in, d.msg, c->err);
            assert_string_equal(host, "unchanged");
            assert_int_equal(port, 4242);
        }
    }
}

struct loopback_case {
    const char *host;
    bool loopback;
};

static const struct loopback_case loopback_cases[] = {
    {"127.0.0.1", true},
    {"127.255.0.9", true},
    {"::1", true},
    {"0:0:0:0:0:0:0:1", true},
    {"::ffff:127.0.0.1", true},
    {"128.0.0.1", false},
    {"0.0.0.0", false},
    {"::", false},
    {"::2", false},
    {"::ffff:10.0.0.1", false},
    {"10.127.0.1", false},
    {"localhost", false}, /* not numeric: http_listen_parse maps it first */
    {"", false},
    {NULL, false},
};

static void test_loopback(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(loopback_cases); i++) {
        const struct loopback_case *c = &loopback_cases[i];

        if (http_host_is_loopback(c->host) != c->loopback)
            fail_msg("%s: expected %s", c->host != NULL ? c->host : "(null)",
                     c->loopback ? "loopback" : "not loopback");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_parse),
        cmocka_unit_test(test_loopback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
