/* Indicators in: scan_obj_fields on single objects (fields, escapes, skips, every kind of malformed
 * JSON with its line and column), scan_load_bundle on files written here (the three container
 * shapes, objects cut by the read blocks, truncation, garbage, wrong shapes), and scan_load_store
 * on a store made in a temporary directory (last versions, provenance, paging). */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/scan_int.h"
#include "stix/stix.h"
#include "store/store.h"

#define T2024 1704067200000LL /* 2024-01-01T00:00:00Z in ms */

/* ---- scan_obj_fields ---- */

struct fcase {
    const char *json;
    enum ctix_rc rc;
    bool is_ind;
    const char *id, *name, *pattern, *cbr; /* NULL: expected NULL */
    int64_t modified, valid_from, valid_until;
    bool revoked;
    const char *err; /* substring of diag.msg when rc != CTIX_OK */
    unsigned line, col;
};

#define IND "\"type\":\"indicator\",\"id\":\"indicator--1\""

static const struct fcase fcases[] = {
    {"{" IND ",\"name\":\"n\",\"pattern\":\"[a:b = 'c']\",\"pattern_type\":\"stix\","
     "\"created_by_ref\":\"identity--x\",\"modified\":\"2024-01-01T00:00:01.5Z\","
     "\"valid_from\":\"2024-01-01T00:00:00Z\",\"valid_until\":\"2024-01-02T00:00:00.000Z\","
     "\"revoked\":true,\"labels\":[{\"pattern\":1}],\"x\":{\"name\":[1,2.5e3,null,false]}}",
     CTIX_OK, true, "indicator--1", "n", "[a:b = 'c']", "identity--x", T2024 + 1500, T2024,
     T2024 + 86400000, true, NULL, 0, 0},
    /* escapes are resolved; a 2.0 indicator has no pattern_type; created stands for modified */
    {" \n{\"t\\u0079pe\":\"indicator\",\"id\":\"indicator--\\u0032\",\"pattern\":"
     "\"[file:name = 'a\\\\b\\u00e9\\ud83d\\ude00']\",\"created\":\"2024-01-01T00:00:00.000Z\","
     "\"revoked\":false} \n",
     CTIX_OK, true, "indicator--2", NULL, "[file:name = 'a\\b\xc3\xa9\xf0\x9f\x98\x80']", NULL,
     T2024, SCAN_TIME_NONE, INT64_MAX, false, NULL, 0, 0},
    /* skipped indicators: another pattern type, no pattern, unreadable validity */
    {"{" IND ",\"pattern\":\"title: x\",\"pattern_type\":\"sigma\"}", CTIX_OK, true, "indicator--1",
     NULL, NULL, NULL, SCAN_TIME_NONE, SCAN_TIME_NONE, INT64_MAX, false, NULL, 0, 0},
    {"{" IND ",\"pattern\":\"[a:b = 'c']\",\"pattern_type\":7}", CTIX_OK, true, "indicator--1",
     NULL, NULL, NULL, SCAN_TIME_NONE, SCAN_TIME_NONE, INT64_MAX, false, NULL, 0, 0},
    {"{" IND ",\"pattern\":[\"[a:b = 'c']\"]}", CTIX_OK, true, "indicator--1", NULL, NULL, NULL,
     SCAN_TIME_NONE, SCAN_TIME_NONE, INT64_MAX, false, NULL, 0, 0},
    {"{" IND ",\"pattern\":\"[a:b = 'c']\",\"valid_from\":\"yesterday\"}", CTIX_OK, true,
     "indicator--1", NULL, NULL, NULL, SCAN_TIME_NONE, SCAN_TIME_NONE, INT64_MAX, false, NULL, 0,
     0},
    {"{\"type\":\"indicator\",\"pattern\":\"[a:b = 'c']\"}", CTIX_OK, true, NULL, NULL,
     "[a:b = 'c']", NULL, SCAN_TIME_NONE, SCAN_TIME_NONE, INT64_MAX, false, NULL, 0, 0},
    /* other types */
    {"{\"type\":\"malware\",\"id\":\"malware--1\",\"pattern\":\"x\"}", CTIX_OK, false, NULL, NULL,
     NULL, NULL, 0, 0, 0, false, NULL, 0, 0},
    {"{\"id\":\"indicator--1\"}", CTIX_OK, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, NULL, 0,
     0},
    {"{\"type\":[\"indicator\"]}", CTIX_OK, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, NULL, 0,
     0},
    /* malformed */
    {"", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, "premature end of input", 1,
     1},
    {"[1]", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, "a JSON object expected", 1,
     1},
    {"{" IND ",\"pattern\":\"x\"", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "premature end of input", 1, 54},
    {"{\"a\":1}x", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "end of file expected", 1, 8},
    {"{\"a\":1,}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, "string expected", 1,
     8},
    {"{\"a\" 1}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, "':' expected", 1, 6},
    {"{\"a\":[1 2]}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "',' or ']' expected", 1, 9},
    {"{\"a\":1]", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, "',' or '}' expected",
     1, 7},
    {"{\n\"a\":\"\xc3\xa9\x01\"}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "control character 0x1", 2, 7},
    {"{\"a\":\"\xff\"}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "invalid UTF-8 byte 0xff", 1, 7},
    {"{\"a\":\"\xc3\"}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "invalid UTF-8 byte 0xc3", 1, 7},
    {"{\"a\":\"\\x\"}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "invalid escape", 1, 7},
    {"{\"a\":\"\\u0000\"}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "\\u0000 is not allowed", 1, 7},
    {"{\"a\":\"\\ud800x\"}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "invalid Unicode", 1, 7},
    {"{\"a\":01}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, "leading zero", 1,
     6},
    {"{\"a\":1.}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, "invalid number", 1,
     6},
    {"{\"a\":99999999999999999999}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "too big integer", 1, 6},
    {"{\"a\":1e999}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false,
     "real number overflow", 1, 6},
    {"{\"a\":tru}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, "invalid token", 1,
     6},
    {"{\"a\":'x'}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0, false, "invalid token", 1,
     6},
    {"{" IND ",\"id\":\"indicator--2\"}", CTIX_EINVAL, false, NULL, NULL, NULL, NULL, 0, 0, 0,
     false, "duplicate object key", 1, 41},
};

static void test_obj_fields(void **state)
{
    struct buf tmp;

    (void)state;
    buf_init(&tmp, 1u << 20);
    for (size_t i = 0; i < CTIX_ARRAY_LEN(fcases); i++) {
        const struct fcase *c = &fcases[i];
        struct scan_ind_in in;
        struct ctix_diag d;
        bool is_ind = !c->is_ind;
        enum ctix_rc rc;

        ctix_diag_clear(&d);
        memset(&in, 0xa5, sizeof(in));
        rc = scan_obj_fields(c->json, strlen(c->json), &tmp, &is_ind, &in, &d);
        if (rc != c->rc)
            fail_msg("case %zu: rc %d want %d (%s)", i, rc, c->rc, d.msg);
        if (rc != CTIX_OK) {
            if (strstr(d.msg, c->err) == NULL || d.line != c->line || d.col != c->col)
                fail_msg("case %zu: '%s' (%u:%u), want '%s' at %u:%u", i, d.msg, d.line, d.col,
                         c->err, c->line, c->col);
            continue;
        }
        if (is_ind != c->is_ind)
            fail_msg("case %zu: is_ind %d", i, is_ind);
        if (!is_ind)
            continue;
#define STR_EQ(field, want)                                                                        \
    do {                                                                                           \
        if ((want) == NULL) {                                                                      \
            if (in.field != NULL)                                                                  \
                fail_msg("case %zu: " #field " '%.*s', want NULL", i, (int)in.field##_len,         \
                         in.field);                                                                \
        } else if (in.field == NULL || in.field##_len != strlen(want) ||                           \
                   memcmp(in.field, (want), in.field##_len) != 0) {                                \
            fail_msg("case %zu: " #field " '%.*s', want '%s'", i,                                  \
                     in.field ? (int)in.field##_len : 4, in.field ? in.field : "NULL", (want));    \
        }                                                                                          \
    } while (0)
        STR_EQ(id, c->id);
        STR_EQ(name, c->name);
        STR_EQ(pattern, c->pattern);
        STR_EQ(created_by_ref, c->cbr);
#undef STR_EQ
        if (c->pattern != NULL) {
            assert_int_equal(in.modified_ms, c->modified);
            assert_int_equal(in.valid_from_ms, c->valid_from);
            assert_int_equal(in.valid_until_ms, c->valid_until);
            assert_int_equal(in.revoked, c->revoked);
        }
    }
    buf_cleanup(&tmp);
}

/* Deep nesting is refused at the limit, not by running out of stack. */
static void test_obj_depth(void **state)
{
    struct buf t, tmp;
    struct scan_ind_in in;
    struct ctix_diag d;
    bool is_ind;

    (void)state;
    buf_init(&t, 1u << 20);
    buf_init(&tmp, 1u << 20);
    assert_int_equal(buf_appends(&t, "{\"a\":"), CTIX_OK);
    for (int i = 0; i < 2046; i++)
        assert_int_equal(buf_append(&t, "[", 1), CTIX_OK);
    for (int i = 0; i < 2046; i++)
        assert_int_equal(buf_append(&t, "]", 1), CTIX_OK);
    assert_int_equal(buf_append(&t, "}", 1), CTIX_OK);
    assert_int_equal(scan_obj_fields(t.data, t.len, &tmp, &is_ind, &in, &d), CTIX_OK);
    buf_reset(&t);
    assert_int_equal(buf_appends(&t, "{\"a\":"), CTIX_OK);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(buf_append(&t, "[", 1), CTIX_OK);
    ctix_diag_clear(&d);
    assert_int_equal(scan_obj_fields(t.data, t.len, &tmp, &is_ind, &in, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "maximum parsing depth"));
    buf_cleanup(&t);
    buf_cleanup(&tmp);
}

/* ---- scan_load_bundle ---- */

struct got {
    struct buf ids; /* "id|pattern|revoked\n" per indicator */
    size_t n;
    size_t stop_at; /* return CTIX_ECONFLICT at this indicator (1-based; 0: never) */
};

static enum ctix_rc got_ind(void *arg, const struct scan_ind_in *in)
{
    struct got *g = arg;

    g->n++;
    if (g->stop_at != 0 && g->n == g->stop_at)
        return CTIX_ECONFLICT;
    if (g->ids.len < 100000 &&
        buf_appendf(&g->ids, "%.*s|%.*s|%d\n", (int)in->id_len, in->id, (int)in->pattern_len,
                    in->pattern, in->revoked) != CTIX_OK)
        return CTIX_ENOMEM;
    return CTIX_OK;
}

struct tdir {
    char dir[64];
    char path[128];
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup_dir(void **state)
{
    struct tdir *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    snprintf(t->dir, sizeof(t->dir), "/tmp/ctix-load-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/b.json", t->dir);
    *state = t;
    return 0;
}

static int teardown_dir(void **state)
{
    struct tdir *t = *state;

    nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

static void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

struct bcase {
    const char *text;
    enum ctix_rc rc;
    const char *want; /* what got_ind wrote, or the diag substring */
    size_t n_objects, n_skipped;
    unsigned line, col;
};

#define I1 "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"pattern\":\"[a:b = 'x']\"}"
#define I2                                                                                         \
    "{\"type\":\"indicator\",\"id\":\"indicator--2\",\"pattern\":\"[a:b = "                        \
    "'y\\\\'z']\",\"revoked\":"                                                                    \
    "true,\"pattern_type\":\"stix\"}"
#define SIGMA                                                                                      \
    "{\"type\":\"indicator\",\"id\":\"indicator--3\",\"pattern\":\"x\",\"pattern_type\":"          \
    "\"sigma\"}"
#define IDENT "{\"type\":\"identity\",\"id\":\"identity--1\",\"name\":\"n\"}"

static const struct bcase bcases[] = {
    {"{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[\n" IDENT ",\n" I1 ",\n" SIGMA ",\n" I2
     "\n]}\n",
     CTIX_OK, "indicator--1|[a:b = 'x']|0\nindicator--2|[a:b = 'y\\'z']|1\n", 4, 1, 0, 0},
    {"{\"more\":false,\"objects\":[" I1 "],\"next\":\"x\"}", CTIX_OK,
     "indicator--1|[a:b = 'x']|0\n", 1, 0, 0, 0},
    {" [ " I1 " , " IDENT " ] ", CTIX_OK, "indicator--1|[a:b = 'x']|0\n", 2, 0, 0, 0},
    {"[]", CTIX_OK, "", 0, 0, 0, 0},
    {"{\"more\":false}", CTIX_OK, "", 0, 0, 0, 0},
    {"{\"type\":\"bundle\",\"id\":\"bundle--1\"}", CTIX_OK, "", 0, 0, 0, 0},
    {"{\"type\":\"bundle\",\"objects\":[]}", CTIX_OK, "", 0, 0, 0, 0},
    /* malformed: the error names line and column in the file */
    {"", CTIX_EINVAL, "premature end of input", 0, 0, 1, 1},
    {"{\"type\":\"bundle\",\"objects\":[\n" I1 ",\n{\"type\":\"indic", CTIX_EINVAL,
     "premature end of input", 1, 0, 3, 15},
    {"{\"type\":\"bundle\",\"objects\":[\n" I1 "\n", CTIX_EINVAL, "premature end of input", 1, 0, 3,
     1},
    {"{\"type\":\"bundle\",\"objects\":[" I1 "]", CTIX_EINVAL, "premature end of input", 1, 0, 1,
     94},
    {"\x7f"
     "ELF\x02\x01",
     CTIX_EINVAL, "expected '{' or '['", 0, 0, 1, 1},
    {"42", CTIX_EINVAL, "expected '{' or '['", 0, 0, 1, 1},
    {I1, CTIX_EINVAL, "\"type\" is not \"bundle\"", 0, 0, 1, 9},
    {"{\"foo\":1}", CTIX_EINVAL, "no \"objects\"", 0, 0, 1, 9},
    {"{\"objects\":{}}", CTIX_EINVAL, "\"objects\" is not an array", 0, 0, 1, 12},
    {"{\"objects\":[1]}", CTIX_EINVAL, "not an object", 0, 0, 1, 13},
    {"{\"objects\":[],\"objects\":[]}", CTIX_EINVAL, "duplicate object key", 0, 0, 1, 15},
    {"[" I1 "]]", CTIX_EINVAL, "end of file expected", 1, 0, 1, 67},
    {"[" I1 "\n" I1 "]", CTIX_EINVAL, "',' or ']' expected", 1, 0, 2, 1},
    {"[" I1 ",\n{\"a\":\"\xff\"}]", CTIX_EINVAL, "invalid UTF-8 byte 0xff", 1, 0, 2, 7},
    {"{\"type\":\"bundle\",\"objects\":[],}", CTIX_EINVAL, "string expected", 0, 0, 1, 31},
    {"{\"type\":\"bundle\" \"objects\":[]}", CTIX_EINVAL, "',' or '}' expected", 0, 0, 1, 18},
};

static void test_bundle_cases(void **state)
{
    struct tdir *t = *state;

    for (size_t i = 0; i < CTIX_ARRAY_LEN(bcases); i++) {
        const struct bcase *c = &bcases[i];
        struct got g = {.n = 0};
        struct scan_load_stats st;
        struct ctix_diag d;
        enum ctix_rc rc;

        buf_init(&g.ids, 1u << 20);
        write_file(t->path, c->text, strlen(c->text));
        ctix_diag_clear(&d);
        rc = scan_load_bundle(t->path, got_ind, &g, &st, &d);
        if (rc != c->rc)
            fail_msg("case %zu: rc %d want %d (%s)", i, rc, c->rc, d.msg);
        if (rc == CTIX_OK) {
            if (strcmp(g.ids.len ? g.ids.data : "", c->want) != 0)
                fail_msg("case %zu: got\n%s\nwant\n%s", i, g.ids.len ? g.ids.data : "", c->want);
            assert_int_equal(st.n_objects, c->n_objects);
            assert_int_equal(st.n_skipped, c->n_skipped);
            assert_int_equal(st.n_indicators, g.n);
        } else {
            if (strstr(d.msg, c->want) == NULL || d.line != c->line || d.col != c->col ||
                strcmp(d.where, t->path) != 0)
                fail_msg("case %zu: '%s' in '%s' at %u:%u, want '%s' at %u:%u", i, d.msg, d.where,
                         d.line, d.col, c->want, c->line, c->col);
            /* nothing after the error was handed on */
            assert_int_equal(st.n_objects, c->n_objects);
        }
        buf_cleanup(&g.ids);
    }
}

static void test_bundle_missing(void **state)
{
    struct tdir *t = *state;
    struct got g = {.n = 0};
    struct scan_load_stats st;
    struct ctix_diag d;
    char path[160];

    buf_init(&g.ids, 1u << 20);
    snprintf(path, sizeof(path), "%s/none.json", t->dir);
    ctix_diag_clear(&d);
    assert_int_equal(scan_load_bundle(path, got_ind, &g, &st, &d), CTIX_ENOTFOUND);
    assert_string_equal(d.where, path);
    buf_cleanup(&g.ids);
}

/* A callback's error stops the load and comes back unchanged. */
static void test_bundle_stop(void **state)
{
    struct tdir *t = *state;
    static const char text[] = "[" I1 "," I1 "," I1 "]";
    struct got g = {.n = 0, .stop_at = 2};
    struct scan_load_stats st;
    struct ctix_diag d;

    buf_init(&g.ids, 1u << 20);
    write_file(t->path, text, sizeof(text) - 1);
    ctix_diag_clear(&d);
    assert_int_equal(scan_load_bundle(t->path, got_ind, &g, &st, &d), CTIX_ECONFLICT);
    assert_int_equal(g.n, 2);
    assert_int_equal(st.n_indicators, 1);
    buf_cleanup(&g.ids);
}

/* Objects and characters cut by the 4 MiB read blocks: a name of 4-byte characters and one of
 * \u escapes lying across the first boundary, at every alignment, and one object bigger than a
 * block. Every indicator must come through intact. */
static void test_bundle_blocks(void **state)
{
    struct tdir *t = *state;
    static const char *const runs[] = {"\xf0\x9f\x98\x80", "\\u00e9", "\xc3\xa9"};

    for (size_t r = 0; r < CTIX_ARRAY_LEN(runs); r++) {
        for (size_t shift = 0; shift < 6; shift++) {
            struct buf b;
            struct got g = {.n = 0};
            struct scan_load_stats st;
            struct ctix_diag d;
            size_t n_ind = 0;

            buf_init(&b, 1u << 28);
            buf_init(&g.ids, 1u << 20);
            assert_int_equal(buf_appends(&b, "{\"type\":\"bundle\",\"objects\":["), CTIX_OK);
            for (size_t k = 0; k < shift; k++)
                assert_int_equal(buf_append(&b, " ", 1), CTIX_OK);
            /* filler objects up to about 64 KiB before the boundary */
            while (b.len < (4u << 20) - 65536) {
                assert_int_equal(buf_appendf(&b,
                                             "{\"type\":\"indicator\",\"id\":\"indicator--%zu\","
                                             "\"pattern\":\"[a:b = '%zu']\"},\n",
                                             n_ind, n_ind),
                                 CTIX_OK);
                n_ind++;
            }
            assert_int_equal(buf_appends(&b, "{\"type\":\"indicator\",\"id\":\"indicator--big\","
                                             "\"name\":\""),
                             CTIX_OK);
            while (b.len < (4u << 20) + 65536)
                assert_int_equal(buf_appends(&b, runs[r]), CTIX_OK);
            assert_int_equal(buf_appends(&b, "\",\"pattern\":\"[a:b = 'big']\"},\n"), CTIX_OK);
            n_ind++;
            /* one object larger than a block */
            assert_int_equal(buf_appends(&b, "{\"type\":\"indicator\",\"id\":\"indicator--huge\","
                                             "\"description\":\""),
                             CTIX_OK);
            for (size_t k = 0; k < (6u << 20) / 8; k++)
                assert_int_equal(buf_append(&b, "abcdefgh", 8), CTIX_OK);
            assert_int_equal(buf_appends(&b, "\",\"pattern\":\"[a:b = 'huge']\"}]}"), CTIX_OK);
            n_ind++;
            write_file(t->path, b.data, b.len);
            ctix_diag_clear(&d);
            g.stop_at = 0;
            if (scan_load_bundle(t->path, got_ind, &g, &st, &d) != CTIX_OK)
                fail_msg("run %zu shift %zu: %s", r, shift, d.msg);
            assert_int_equal(st.n_indicators, n_ind);
            assert_int_equal(g.n, n_ind);
            assert_int_equal(st.n_skipped, 0);
            buf_cleanup(&b);
            buf_cleanup(&g.ids);
        }
    }
}

/* The generator's benchmark bundle, when it is on this machine. */
static void test_bundle_bench(void **state)
{
    const char *path = "/tmp/iocbench/ioc-10000.stix.json";
    struct got g = {.n = 0};
    struct scan_load_stats st;
    struct ctix_diag d;

    (void)state;
    if (access(path, R_OK) != 0) {
        skip();
        return;
    }
    buf_init(&g.ids, 1u << 20);
    ctix_diag_clear(&d);
    assert_int_equal(scan_load_bundle(path, got_ind, &g, &st, &d), CTIX_OK);
    assert_int_equal(st.n_indicators, 10000);
    assert_int_equal(st.n_objects, 10001);
    buf_cleanup(&g.ids);
}

/* ---- scan_load_store ---- */

#define COLL "6b6a7b1e-4a1c-4d2e-9f00-0000000000a1"

struct sobj {
    char id[80], version[48], vkey[48], json[512];
    struct store_obj_in in;
};

static void sobj_make(struct sobj *o, const char *type, int n, int day, const char *pattern_type,
                      int prov)
{
    memset(o, 0, sizeof(o[0]));
    snprintf(o->id, sizeof(o->id), "%s--00000000-0000-4000-8000-%012d", type, n);
    snprintf(o->version, sizeof(o->version), "2024-01-%02dT00:00:00.000Z", day);
    assert_int_equal(stix_version_key(o->version, o->vkey), CTIX_OK);
    snprintf(o->json, sizeof(o->json),
             "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
             "\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"pattern\":\"[url:value = "
             "'http://x/%d']\",\"pattern_type\":\"%s\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
             type, o->id, o->version, day, pattern_type);
    o->in.id = o->id;
    o->in.type = strcmp(type, "indicator") == 0 ? "indicator" : "malware";
    o->in.spec_version = "2.1";
    o->in.version = o->version;
    o->in.version_key = o->vkey;
    o->in.json = o->json;
    o->in.json_len = strlen(o->json);
    o->in.tlp = 2;
    o->in.origin = prov == STORE_PROV_LOCAL ? 0 : 1;
    o->in.prov = prov;
}

static void test_store(void **state)
{
    struct tdir *t = *state;
    struct store *st = NULL;
    struct store_collection c;
    struct ctix_diag d;
    struct got g = {.n = 0};
    struct scan_load_stats stats;
    enum { N_MANY = 2100 };
    struct sobj *o = calloc(N_MANY + 8, sizeof(*o));
    enum store_put_result *res = calloc(N_MANY + 8, sizeof(*res));
    size_t n = 0;
    char data[160];

    assert_non_null(o);
    assert_non_null(res);
    buf_init(&g.ids, 1u << 20);
    snprintf(data, sizeof(data), "%s/data", t->dir);
    ctix_diag_clear(&d);
    assert_int_equal(store_open(data, true, &st, &d), CTIX_OK);
    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "%s", COLL);
    snprintf(c.title, sizeof(c.title), "t");
    snprintf(c.alias, sizeof(c.alias), "iocs");
    assert_int_equal(store_collection_add(st, &c), CTIX_OK);

    sobj_make(&o[n++], "indicator", 1, 1, "stix", STORE_PROV_LOCAL);    /* older version */
    sobj_make(&o[n++], "indicator", 1, 2, "stix", STORE_PROV_LOCAL);    /* kept */
    sobj_make(&o[n++], "indicator", 2, 3, "stix", STORE_PROV_VERIFIED); /* kept */
    sobj_make(&o[n++], "indicator", 3, 4, "stix", STORE_PROV_PENDING);  /* not vouched for */
    sobj_make(&o[n++], "indicator", 4, 5, "stix", STORE_PROV_QUARANTINED);
    sobj_make(&o[n++], "indicator", 5, 6, "sigma", STORE_PROV_LOCAL); /* skipped */
    sobj_make(&o[n++], "malware", 6, 7, "stix", STORE_PROV_LOCAL);    /* not an indicator */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(store_objs_put(st, COLL, &o[i].in, 1, &res[i], NULL), CTIX_OK);

    ctix_diag_clear(&d);
    assert_int_equal(scan_load_store(st, "iocs", got_ind, &g, &stats, &d), CTIX_OK);
    assert_string_equal(
        g.ids.data,
        "indicator--00000000-0000-4000-8000-000000000001|[url:value = 'http://x/2']|0\n"
        "indicator--00000000-0000-4000-8000-000000000002|[url:value = 'http://x/3']|0\n");
    assert_int_equal(stats.n_indicators, 2);
    assert_int_equal(stats.n_skipped, 1);
    assert_int_equal(stats.n_objects, 3);

    /* past one page of the query */
    {
        struct store_obj_in *ins = calloc(N_MANY, sizeof(*ins));
        struct sobj *m = calloc(N_MANY, sizeof(*m));

        assert_non_null(ins);
        assert_non_null(m);
        for (int i = 0; i < N_MANY; i++) {
            sobj_make(&m[i], "indicator", 100 + i, 9, "stix", STORE_PROV_LOCAL);
            ins[i] = m[i].in;
        }
        assert_int_equal(store_objs_put(st, COLL, ins, N_MANY, res, NULL), CTIX_OK);
        buf_reset(&g.ids);
        g.n = 0;
        assert_int_equal(scan_load_store(st, COLL, got_ind, &g, &stats, &d), CTIX_OK);
        assert_int_equal(stats.n_indicators, 2 + N_MANY);
        assert_int_equal(g.n, 2 + N_MANY);
        free(ins);
        free(m);
    }

    /* a callback's error comes back; an unknown collection is named */
    g.n = 0;
    g.stop_at = 1;
    assert_int_equal(scan_load_store(st, COLL, got_ind, &g, &stats, &d), CTIX_ECONFLICT);
    ctix_diag_clear(&d);
    assert_int_equal(scan_load_store(st, "nope", got_ind, &g, &stats, &d), CTIX_ENOTFOUND);
    assert_string_equal(d.where, "nope");

    store_close(st);
    buf_cleanup(&g.ids);
    free(o);
    free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_obj_fields),
        cmocka_unit_test(test_obj_depth),
        cmocka_unit_test_setup_teardown(test_bundle_cases, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bundle_missing, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bundle_stop, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bundle_blocks, setup_dir, teardown_dir),
        cmocka_unit_test(test_bundle_bench),
        cmocka_unit_test_setup_teardown(test_store, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
