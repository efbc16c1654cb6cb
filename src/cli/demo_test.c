/* Tests of the demo-data generator: every object is valid STIX, the output is a pure function of
 * the seed, addresses and names stay inside the documentation ranges and reserved domains, and
 * every TLP level is used. */
#include "cli/cli.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "stix/stix.h"

/* Defined in cmd_demo_data.c, which declares it the same way. */
typedef enum ctix_rc (*cli__demo_sink)(void *ctx, json_t *obj);
CTIX_MUST_CHECK enum ctix_rc cli__demo_generate(uint64_t seed, size_t n_servers,
                                                cli__demo_sink sink, void *ctx);

struct collect {
    json_t *all;
    size_t fail_after; /* 0: never fail */
};

static enum ctix_rc collect_sink(void *ctx, json_t *obj)
{
    struct collect *c = ctx;
    if (c->fail_after > 0 && json_array_size(c->all) >= c->fail_after) {
        json_decref(obj);
        return CTIX_EIO;
    }
    return json_array_append_new(c->all, obj) == 0 ? CTIX_OK : CTIX_ENOMEM;
}

static json_t *generate(uint64_t seed, size_t n_servers)
{
    struct collect c = {json_array(), 0};
    assert_non_null(c.all);
    assert_int_equal(cli__demo_generate(seed, n_servers, collect_sink, &c), CTIX_OK);
    return c.all;
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The value inside "[type:value = '…']", copied to out; false when the pattern has another shape.
 */
static bool pattern_value(const char *pattern, const char *type, char *out, size_t n)
{
    char head[64];
    snprintf(head, sizeof head, "[%s:value = '", type);
    size_t h = strlen(head), len = strlen(pattern);
    if (strncmp(pattern, head, h) != 0 || len < h + 2 || strcmp(pattern + len - 2, "']") != 0) {
        return false;
    }
    snprintf(out, n, "%.*s", (int)(len - h - 2), pattern + h);
    return true;
}

static void test_every_object_valid(void **state)
{
    (void)state;
    json_t *all = generate(7, 1200);
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o)
    {
        struct ctix_diag d;
        ctix_diag_clear(&d);
        enum ctix_rc rc = stix_validate(o, &d);
        if (rc != CTIX_OK) {
            char *txt = json_dumps(o, JSON_COMPACT);
            print_error("object %zu invalid: %s: %s\n%s\n", i, d.where, d.msg, txt);
            free(txt);
        }
        assert_int_equal(rc, CTIX_OK);
    }
    json_decref(all);
}

static void test_deterministic(void **state)
{
    (void)state;
    json_t *a = generate(42, 900), *b = generate(42, 900), *c = generate(43, 900);
    char *ta = json_dumps(a, JSON_COMPACT), *tb = json_dumps(b, JSON_COMPACT);
    char *tc = json_dumps(c, JSON_COMPACT);
    assert_non_null(ta);
    assert_non_null(tc);
    assert_string_equal(ta, tb);
    assert_int_equal(json_array_size(a), json_array_size(c));
    assert_string_not_equal(ta, tc);
    free(ta);
    free(tb);
    free(tc);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

/* Counts the indicators by the kind of address they match and checks every address. */
static void check_addresses(json_t *all, size_t *n4, size_t *n6)
{
    json_t *seen = json_object();
    size_t i;
    json_t *o;
    *n4 = *n6 = 0;
    json_array_foreach(all, i, o)
    {
        const char *p = str(o, "pattern");
        char v[128], canon[INET6_ADDRSTRLEN];
        unsigned char bin[16];
        if (p == NULL) {
            continue;
        }
        if (pattern_value(p, "ipv4-addr", v, sizeof v)) {
            assert_int_equal(inet_pton(AF_INET, v, bin), 1);
            /* RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, no .0 or .255 */
            bool doc = (bin[0] == 192 && bin[1] == 0 && bin[2] == 2) ||
                       (bin[0] == 198 && bin[1] == 51 && bin[2] == 100) ||
                       (bin[0] == 203 && bin[1] == 0 && bin[2] == 113);
            assert_true(doc);
            assert_true(bin[3] != 0 && bin[3] != 255);
            (*n4)++;
        } else if (pattern_value(p, "ipv6-addr", v, sizeof v)) {
            assert_int_equal(inet_pton(AF_INET6, v, bin), 1);
            assert_true(bin[0] == 0x20 && bin[1] == 0x01 && bin[2] == 0x0d && bin[3] == 0xb8);
            /* Written the RFC 5952 way, as glibc writes it. */
            assert_non_null(inet_ntop(AF_INET6, bin, canon, sizeof canon));
            assert_string_equal(v, canon);
            (*n6)++;
        } else {
            continue;
        }
        assert_null(json_object_get(seen, v)); /* each server once */
        assert_int_equal(json_object_set_new(seen, v, json_true()), 0);
    }
    json_decref(seen);
}

static void test_addresses(void **state)
{
    (void)state;
    static const struct {
        size_t servers, want4, want6;
    } cases[] = {{0, 0, 0}, {100, 100, 0}, {762, 762, 0}, {800, 762, 38}, {3000, 762, 2238}};
    for (size_t k = 0; k < CTIX_ARRAY_LEN(cases); k++) {
        json_t *all = generate(k + 1, cases[k].servers);
        size_t n4, n6;
        check_addresses(all, &n4, &n6);
        assert_int_equal(n4, cases[k].want4);
        assert_int_equal(n6, cases[k].want6);
        json_decref(all);
    }
}

/* RFC 2606 names only: .example, .test, .invalid, .localhost and example.com/.net/.org. */
static bool reserved_host(const char *h)
{
    static const char *const tails[] = {".example",     ".test",        ".invalid",    ".localhost",
                                        ".example.com", ".example.net", ".example.org"};
    for (size_t i = 0; i < CTIX_ARRAY_LEN(tails); i++) {
        if (ends_with(h, tails[i])) {
            return true;
        }
    }
    return false;
}

static void test_site_names(void **state)
{
    (void)state;
    json_t *all = generate(5, 0);
    size_t i, n_url = 0, n_domain = 0, n_gov = 0;
    json_t *o;
    json_array_foreach(all, i, o)
    {
        const char *p = str(o, "pattern");
        char v[400], host[400];
        if (p == NULL) {
            continue;
        }
        if (pattern_value(p, "url", v, sizeof v)) {
            assert_true(strncmp(v, "https://", 8) == 0);
            snprintf(host, sizeof host, "%s", v + 8);
            char *slash = strchr(host, '/');
            assert_non_null(slash);
            *slash = '\0';
            n_url++;
        } else if (pattern_value(p, "domain-name", v, sizeof v)) {
            snprintf(host, sizeof host, "%s", v);
            n_domain++;
        } else {
            fail_msg("unexpected pattern %s", p);
        }
        if (!reserved_host(host)) {
            fail_msg("not a reserved name: %s", host);
        }
        assert_null(strpbrk(v, "'\\ ")); /* nothing to escape inside the pattern */
        n_gov += strstr(host, "gov") != NULL;
    }
    assert_true(n_url + n_domain >= 300);
    assert_true(n_domain > 0);
    assert_true(n_gov >= 80);
    json_decref(all);
}

static void test_markings_and_times(void **state)
{
    (void)state;
    json_t *all = generate(9, 2000);
    json_t *ids = json_object();
    size_t used[STIX_TLP_RED + 1] = {0}, defs = 0, i;
    json_t *o;
    json_array_foreach(all, i, o)
    {
        const char *type = str(o, "type"), *id = str(o, "id");
        assert_non_null(type);
        assert_true(stix_id_valid(id, type));
        assert_null(json_object_get(ids, id)); /* ids are unique */
        assert_int_equal(json_object_set_new(ids, id, json_true()), 0);
        if (strcmp(type, "marking-definition") == 0) {
            assert_int_not_equal(stix_tlp_of_marking(id), STIX_TLP_NONE);
            defs++;
            continue;
        }
        used[stix_tlp_effective(o)]++;
        assert_true(strncmp(str(o, "created"), "2026-", 5) == 0);
        assert_true(strncmp(str(o, "modified"), "2026-", 5) == 0);
    }
    assert_int_equal(defs, 5);
    assert_int_equal(used[STIX_TLP_NONE], 0);
    for (int t = STIX_TLP_CLEAR; t <= STIX_TLP_RED; t++) {
        assert_true(used[t] > 0);
    }
    json_decref(ids);
    json_decref(all);
}

/* The joint report's object_refs all point at generated objects; the scenario's cast is there. */
static void test_report_and_cast(void **state)
{
    (void)state;
    json_t *all = generate(11, 500);
    json_t *ids = json_object();
    size_t i, n_report = 0, n_sighting = 0, n_identity = 0;
    json_t *o, *report = NULL;
    json_array_foreach(all, i, o)
    {
        const char *type = str(o, "type");
        assert_int_equal(json_object_set_new(ids, str(o, "id"), json_true()), 0);
        if (strcmp(type, "report") == 0) {
            n_report++;
            if (report == NULL) {
                report = o;
            }
        }
        n_sighting += strcmp(type, "sighting") == 0;
        n_identity += strcmp(type, "identity") == 0;
        if (strcmp(type, "campaign") == 0) {
            assert_true(strncmp(str(o, "name"), "Operation ", 10) == 0);
        }
        if (strcmp(type, "malware") == 0) {
            assert_true(json_is_true(json_object_get(o, "is_family")));
        }
    }
    assert_int_equal(n_identity, 5);
    assert_true(n_sighting >= 14);
    assert_int_equal(n_report, 2);
    json_t *refs = json_object_get(report, "object_refs");
    assert_true(json_array_size(refs) >= 20);
    json_array_foreach(refs, i, o)
    {
        assert_non_null(json_object_get(ids, json_string_value(o)));
    }
    json_decref(ids);
    json_decref(all);
}

/* A failing sink stops the generator at once with its error, and nothing leaks (ASan). */
static void test_sink_failure(void **state)
{
    (void)state;
    static const size_t stops[] = {1, 5, 17, 300, 1000};
    for (size_t k = 0; k < CTIX_ARRAY_LEN(stops); k++) {
        struct collect c = {json_array(), stops[k]};
        assert_int_equal(cli__demo_generate(3, 900, collect_sink, &c), CTIX_EIO);
        assert_int_equal(json_array_size(c.all), stops[k]);
        json_decref(c.all);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_object_valid), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_addresses),          cmocka_unit_test(test_site_names),
        cmocka_unit_test(test_markings_and_times), cmocka_unit_test(test_report_and_cast),
        cmocka_unit_test(test_sink_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
