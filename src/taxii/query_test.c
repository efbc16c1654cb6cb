/* taxii_query_parse(): a table of query strings, each with the fields it must yield or the
 * parameter its error must name. */
#include "taxii/taxii.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "taxii/taxii_int.h"

#define ALL                                                                                        \
    (TAXII_Q_ADDED_AFTER | TAXII_Q_LIMIT | TAXII_Q_NEXT | TAXII_Q_ID | TAXII_Q_TYPE |              \
     TAXII_Q_VERSION | TAXII_Q_SPEC_VERSION)
#define ID1 "indicator--c410e480-e42b-47d1-9476-85307c12bcbf"
#define ID2 "malware--664fa29d-bf65-4f28-a667-bdb76f29ec98"

struct qcase {
    const char *query;
    unsigned allowed;
    const char *err_where; /* NULL: must parse; else diag.where must equal it */
    /* expectations when it parses; -1 = not checked */
    long long limit;    /* 0 = absent */
    long long after_us; /* -1 = absent */
    int n_ids, n_types, n_spec, n_versions;
    int vsel;
    const char *first; /* first id, type, or version key checked, or NULL */
};

#define ERR(q, a, w)                                                                               \
    {                                                                                              \
        .query = q, .allowed = a, .err_where = w                                                   \
    }

static const struct qcase cases[] = {
    /* valid */
    {"", ALL, NULL, 0, -1, 0, 0, 0, 0, 0, NULL},
    {"limit=10", ALL, NULL, 10, -1, 0, 0, 0, 0, 0, NULL},
    {"limit=1", ALL, NULL, 1, -1, 0, 0, 0, 0, 0, NULL},
    {"limit=99999999999999999999999", ALL, NULL, -2, -1, 0, 0, 0, 0, 0, NULL},
    {"added_after=2016-11-04T03:04:05.123456Z", ALL, NULL, 0, 1478228645123456LL, 0, 0, 0, 0, 0,
     NULL},
    {"added_after=2016-11-04T03:04:05Z", ALL, NULL, 0, 1478228645000000LL, 0, 0, 0, 0, 0, NULL},
    {"added_after=2016-11-04T03:04:05.1Z", ALL, NULL, 0, 1478228645100000LL, 0, 0, 0, 0, 0, NULL},
    {"match[id]=" ID1, ALL, NULL, 0, -1, 1, 0, 0, 0, 0, ID1},
    {"match[id]=" ID1 "," ID2, ALL, NULL, 0, -1, 2, 0, 0, 0, 0, ID1},
    {"match%5Bid%5D=" ID1, ALL, NULL, 0, -1, 1, 0, 0, 0, 0, ID1},
    {"match[type]=indicator", ALL, NULL, 0, -1, 0, 1, 0, 0, 0, "indicator"},
    {"match[type]=indicator,malware,x-custom-thing", ALL, NULL, 0, -1, 0, 3, 0, 0, 0, "indicator"},
    {"match[type]=indicator%2Cmalware", ALL, NULL, 0, -1, 0, 2, 0, 0, 0, "indicator"},
    {"match[version]=last", ALL, NULL, 0, -1, 0, 0, 0, 0, STORE_V_LAST, NULL},
    {"match[version]=first", ALL, NULL, 0, -1, 0, 0, 0, 0, STORE_V_FIRST, NULL},
    {"match[version]=all", ALL, NULL, 0, -1, 0, 0, 0, 0, STORE_V_ALL, NULL},
    {"match[version]=first,last", ALL, NULL, 0, -1, 0, 0, 0, 0, STORE_V_FIRST | STORE_V_LAST, NULL},
    {"match[version]=2018-03-02T01:01:01.1Z", ALL, NULL, 0, -1, 0, 0, 0, 1, 0,
     "2018-03-02T01:01:01.100000000Z"},
    {"match[version]=first,2018-03-02T01:01:01.123Z,last", ALL, NULL, 0, -1, 0, 0, 0, 1,
     STORE_V_FIRST | STORE_V_LAST, "2018-03-02T01:01:01.123000000Z"},
    {"match[spec_version]=2.1", ALL, NULL, 0, -1, 0, 0, 1, 0, 0, "2.1"},
    {"match[spec_version]=2.0,2.1", ALL, NULL, 0, -1, 0, 0, 2, 0, 0, "2.0"},
    {"match[foo]=bar", ALL, NULL, 0, -1, 0, 0, 0, 0, 0, NULL},
    {"match[foo]=bar&match[foo]=baz", ALL, NULL, 0, -1, 0, 0, 0, 0, 0, NULL},
    {"limit=5&&match[type]=tool&", ALL, NULL, 5, -1, 0, 1, 0, 0, 0, "tool"},
    {"limit=5&match[type]=tool&match[version]=all&added_after=2020-01-01T00:00:00.000000Z", ALL,
     NULL, 5, 1577836800000000LL, 0, 1, 0, 0, STORE_V_ALL, "tool"},
    {"next=abc", ALL, NULL, 0, -1, 0, 0, 0, 0, 0, NULL},
    {"match[version]=last", TAXII_Q_VERSION, NULL, 0, -1, 0, 0, 0, 0, STORE_V_LAST, NULL},
    /* invalid */
    ERR("limit=0", ALL, "limit"),
    ERR("limit=-1", ALL, "limit"),
    ERR("limit=ten", ALL, "limit"),
    ERR("limit=", ALL, "limit"),
    ERR("limit", ALL, "limit"),
    ERR("limit=1.5", ALL, "limit"),
    ERR("limit=+5", ALL, "limit"),
    ERR("limit=1&limit=2", ALL, "limit"),
    ERR("added_after=yesterday", ALL, "added_after"),
    ERR("added_after=2016-11-04T03:04:05+01:00", ALL, "added_after"),
    ERR("added_after=2016-13-04T03:04:05Z", ALL, "added_after"),
    ERR("added_after=2016-11-04T03:04:05.Z", ALL, "added_after"),
    ERR("added_after=2016-11-04T03:04:05Z&added_after=2016-11-04T03:04:05Z", ALL, "added_after"),
    ERR("match[id]=", ALL, "match[id]"),
    ERR("match[id]=" ID1 ",", ALL, "match[id]"),
    ERR("match[id]=," ID1, ALL, "match[id]"),
    ERR("match[id]=not-an-id", ALL, "match[id]"),
    ERR("match[id]=" ID1 "&match[id]=" ID2, ALL, "match[id]"),
    ERR("match[type]=Indicator", ALL, "match[type]"),
    ERR("match[type]=a", ALL, "match[type]"),
    ERR("match[type]=indicator,,malware", ALL, "match[type]"),
    ERR("match[version]=all,last", ALL, "match[version]"),
    ERR("match[version]=last,all", ALL, "match[version]"),
    ERR("match[version]=last,last", ALL, "match[version]"),
    ERR("match[version]=latest", ALL, "match[version]"),
    ERR("match[version]=2018-03-02T01:01:01.1Z,2018-03-02T01:01:01.100Z", ALL, "match[version]"),
    ERR("match[version]=2018-03-02", ALL, "match[version]"),
    ERR("match[spec_version]=2", ALL, "match[spec_version]"),
    ERR("match[spec_version]=2.1,abc", ALL, "match[spec_version]"),
    ERR("next=", ALL, "next"),
    ERR("next=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ALL,
        "next"),
    ERR("foo=bar", ALL, "foo"),
    ERR("match[type]=indicator", TAXII_Q_VERSION | TAXII_Q_SPEC_VERSION, "match[type]"),
    ERR("limit=5", 0, "limit"),
    ERR("limit=%zz", ALL, "limit"),
    ERR("limit=%3", ALL, "limit"),
    ERR("match[type]=tool%00", ALL, "match[type]"),
    ERR("%zz=1", ALL, ""),
    ERR("limit=5&limit=5", ALL, "limit"),
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        const struct qcase *c = &cases[i];
        struct taxii_query q;
        struct ctix_diag d;
        enum ctix_rc rc;

        ctix_diag_clear(&d);
        rc = taxii_query_parse(c->query, strlen(c->query), c->allowed, &q, &d);
        if (c->err_where != NULL) {
            if (rc != CTIX_EINVAL || strcmp(d.where, c->err_where) != 0)
                fail_msg("case %zu '%s': rc %d where '%s' msg '%s', want error at '%s'", i,
                         c->query, rc, d.where, d.msg, c->err_where);
            assert_true(d.msg[0] != '\0');
            taxii_query_cleanup(&q);
            continue;
        }
        if (rc != CTIX_OK)
            fail_msg("case %zu '%s': rc %d (%s: %s)", i, c->query, rc, d.where, d.msg);
        if (c->limit == 0)
            assert_false(q.has_limit);
        else if (c->limit == -2)
            assert_true(q.has_limit && q.limit > 1000000000ULL);
        else
            assert_true(q.has_limit && q.limit == (uint64_t)c->limit);
        if (c->after_us < 0)
            assert_false(q.has_added_after);
        else
            assert_true(q.has_added_after && q.added_after_us == c->after_us);
        assert_int_equal(q.n_ids, c->n_ids);
        assert_int_equal(q.n_types, c->n_types);
        assert_int_equal(q.n_spec_versions, c->n_spec);
        assert_int_equal(q.n_versions, c->n_versions);
        assert_int_equal(q.vsel, c->vsel);
        if (c->first != NULL) {
            const char *got = q.n_ids > 0             ? q.ids[0]
                              : q.n_types > 0         ? q.types[0]
                              : q.n_spec_versions > 0 ? q.spec_versions[0]
                                                      : q.version_keys[0];
            assert_string_equal(got, c->first);
        }
        taxii_query_cleanup(&q);
    }
}

static void test_lists_and_next(void **state)
{
    struct taxii_query q;
    struct ctix_diag d;
    const char *s =
        "match[type]=a-b,c-d,e-f&next=tok%2Den&match[version]=first,2020-01-01T00:00:00Z";

    (void)state;
    assert_int_equal(taxii_query_parse(s, strlen(s), ALL, &q, &d), CTIX_OK);
    assert_int_equal(q.n_types, 3);
    assert_string_equal(q.types[2], "e-f");
    assert_string_equal(q.next, "tok-en");
    assert_true(q.has_version);
    assert_int_equal(q.vsel, STORE_V_FIRST);
    assert_string_equal(q.version_keys[0], "2020-01-01T00:00:00.000000000Z");
    taxii_query_cleanup(&q);
    taxii_query_cleanup(&q); /* twice is harmless */
}

/* The length bounds the parse: bytes past len are never read as part of the query. */
static void test_len_bound(void **state)
{
    struct taxii_query q;
    struct ctix_diag d;
    const char *s = "limit=5&limit=6";

    (void)state;
    assert_int_equal(taxii_query_parse(s, 7, ALL, &q, &d), CTIX_OK);
    assert_int_equal(q.limit, 5);
    taxii_query_cleanup(&q);
}

static void test_too_many_values(void **state)
{
    struct taxii_query q;
    struct ctix_diag d;
    struct buf b;

    (void)state;
    buf_init(&b, 1u << 20);
    assert_int_equal(buf_appends(&b, "match[type]=t0a"), CTIX_OK);
    for (int i = 1; i < TAXII_QUERY_MAX_VALUES; i++)
        assert_int_equal(buf_appendf(&b, ",t%da", i), CTIX_OK);
    assert_int_equal(taxii_query_parse(b.data, b.len, ALL, &q, &d), CTIX_OK);
    assert_int_equal(q.n_types, TAXII_QUERY_MAX_VALUES);
    taxii_query_cleanup(&q);
    assert_int_equal(buf_appends(&b, ",toomany"), CTIX_OK);
    assert_int_equal(taxii_query_parse(b.data, b.len, ALL, &q, &d), CTIX_EINVAL);
    assert_string_equal(d.where, "match[type]");
    taxii_query_cleanup(&q);
    buf_cleanup(&b);
}

static void test_media_types(void **state)
{
    static const struct {
        const char *v;
        bool accept_ok, ct_ok;
    } t[] = {
        {"application/taxii+json;version=2.1", true, true},
        {"application/taxii+json", true, true},
        {"Application/TAXII+json; version=2.1", true, true},
        {"application/taxii+json;version=\"2.1\"", true, true},
        {"application/taxii+json;version=2.0", false, false},
        {"application/taxii+json;version=2.1,application/stix+json;version=2.1", true, false},
        {"application/stix+json;version=2.1, application/taxii+json", true, false},
        {"*/*", false, false},
        {"application/json", false, false},
        {"application/taxii+json;q=0.5", true, false},
        {"application/taxii+json;q=0", false, false},
        {"application/taxii+json;charset=utf-8", false, true},
        {"application/taxii+json;foo=bar", false, false},
        {"application/taxii+jsonx", false, false},
        {"", false, false},
    };

    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(t); i++) {
        if (taxii__accept_ok(t[i].v) != t[i].accept_ok)
            fail_msg("accept '%s'", t[i].v);
        if (taxii__content_type_ok(t[i].v) != t[i].ct_ok)
            fail_msg("content-type '%s'", t[i].v);
    }
    assert_false(taxii__accept_ok(NULL));
    assert_false(taxii__content_type_ok(NULL));
}

static void test_cursor(void **state)
{
    unsigned char key[TAXII_SECRET_LEN] = {1, 2, 3};
    struct taxii_query q, q2;
    struct ctix_diag d;
    char tok[TAXII_NEXT_MAX];
    int64_t cur = 0;
    const char *s = "match[type]=indicator";

    (void)state;
    assert_int_equal(taxii_query_parse(s, strlen(s), ALL, &q, &d), CTIX_OK);
    assert_int_equal(taxii_query_parse("", 0, ALL, &q2, &d), CTIX_OK);
    struct taxii_cursor_scope sc = {"c1", 'o', "", &q};
    assert_int_equal(taxii__cursor_encode(key, &sc, 1478228645123456LL, tok), CTIX_OK);
    assert_int_equal(strlen(tok), 32);
    assert_int_equal(taxii__cursor_decode(key, &sc, tok, &cur), CTIX_OK);
    assert_int_equal(cur, 1478228645123456LL);
    /* other filters, collection, endpoint, key: refused */
    struct taxii_cursor_scope other = {"c1", 'o', "", &q2};
    assert_int_equal(taxii__cursor_decode(key, &other, tok, &cur), CTIX_EINVAL);
    other = (struct taxii_cursor_scope){"c2", 'o', "", &q};
    assert_int_equal(taxii__cursor_decode(key, &other, tok, &cur), CTIX_EINVAL);
    other = (struct taxii_cursor_scope){"c1", 'm', "", &q};
    assert_int_equal(taxii__cursor_decode(key, &other, tok, &cur), CTIX_EINVAL);
    key[0] ^= 1;
    assert_int_equal(taxii__cursor_decode(key, &sc, tok, &cur), CTIX_EINVAL);
    key[0] ^= 1;
    /* one flipped character, a truncated token, junk */
    tok[3] = tok[3] == 'A' ? 'B' : 'A';
    assert_int_equal(taxii__cursor_decode(key, &sc, tok, &cur), CTIX_EINVAL);
    assert_int_equal(taxii__cursor_decode(key, &sc, "short", &cur), CTIX_EINVAL);
    assert_int_equal(taxii__cursor_decode(key, &sc, "################################", &cur),
                     CTIX_EINVAL);
    taxii_query_cleanup(&q);
    taxii_query_cleanup(&q2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),       cmocka_unit_test(test_lists_and_next),
        cmocka_unit_test(test_len_bound),   cmocka_unit_test(test_too_many_values),
        cmocka_unit_test(test_media_types), cmocka_unit_test(test_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
