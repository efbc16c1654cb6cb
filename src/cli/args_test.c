#include "cli/cli.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE}, {"org", CLI_OPT_VALUE}, {"read", CLI_OPT_FLAG},
    {"write", CLI_OPT_FLAG}, {"type", CLI_OPT_LIST},
};

/* argv (after the command name) → what the parser must make of it. Lists and positional
 * arguments are compared joined with '|'; NULL for an absent value. */
struct args_case {
    const char *argv[8];
    const char *err; /* NULL: must parse; else the exact message */
    const char *data, *org;
    bool read, write, help;
    const char *types;
    const char *pos;
};

static const struct args_case cases[] = {
    {{"--data", "/d", "--org", "SG"}, NULL, "/d", "SG", false, false, false, "", ""},
    {{"--data=/d", "--org=SG CSA"}, NULL, "/d", "SG CSA", false, false, false, "", ""},
    {{"--data=", "--org=--x"}, NULL, "", "--x", false, false, false, "", ""},
    {{"--read", "--write", "--read"}, NULL, NULL, NULL, true, true, false, "", ""},
    {{"--type", "indicator", "--type=malware", "--type", "x-a"},
     NULL,
     NULL,
     NULL,
     false,
     false,
     false,
     "indicator|malware|x-a",
     ""},
    {{"a", "--data", "/d", "b", "-", "c"}, NULL, "/d", NULL, false, false, false, "", "a|b|-|c"},
    {{"--", "--data", "-x"}, NULL, NULL, NULL, false, false, false, "", "--data|-x"},
    {{"--help"}, NULL, NULL, NULL, false, false, true, "", ""},
    {{"x", "-h"}, NULL, NULL, NULL, false, false, true, "", "x"},
    {{NULL}, NULL, NULL, NULL, false, false, false, "", ""},
    {{"", "x"}, NULL, NULL, NULL, false, false, false, "", "|x"},
    {{"--nope"}, "unknown option --nope", .pos = NULL},
    {{"--nope=1"}, "unknown option --nope", .pos = NULL},
    {{"-d"}, "unknown option -d", .pos = NULL},
    {{"-data", "x"}, "unknown option -data", .pos = NULL},
    {{"--dat", "x"}, "unknown option --dat", .pos = NULL},
    {{"--data"}, "option --data needs a value", .pos = NULL},
    {{"--data", "--org", "SG"}, "option --data needs a value", .pos = NULL},
    {{"--type"}, "option --type needs a value", .pos = NULL},
    {{"--data", "a", "--data", "b"}, "option --data given more than once", .pos = NULL},
    {{"--data=a", "--data=a"}, "option --data given more than once", .pos = NULL},
    {{"--read=yes"}, "option --read takes no value", .pos = NULL},
    {{"--read="}, "option --read takes no value", .pos = NULL},
};

static void join(char *out, size_t n, const char *const *v, size_t count)
{
    size_t o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < count; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%s", i > 0 ? "|" : "", v[i]);
}

static void check_str(size_t i, const char *what, const char *got, const char *want)
{
    if ((got == NULL) != (want == NULL) || (got != NULL && strcmp(got, want) != 0))
        fail_msg("case %zu: %s is '%s', want '%s'", i, what, got != NULL ? got : "(null)",
                 want != NULL ? want : "(null)");
}

static void test_args_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        const struct args_case *c = &cases[i];
        char *argv[9];
        int argc = 1;
        struct cli_args a;
        char err[128], buf[256];
        const char *const *types;
        size_t n_types;
        enum ctix_rc rc;

        argv[0] = (char *)"cmd";
        while (argc < 9 && c->argv[argc - 1] != NULL) {
            argv[argc] = (char *)c->argv[argc - 1];
            argc++;
        }
        rc = cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, err, sizeof(err));
        if (c->err != NULL) {
            if (rc != CTIX_EINVAL)
                fail_msg("case %zu: accepted, want '%s'", i, c->err);
            check_str(i, "error", err, c->err);
            cli_args_cleanup(&a);
            continue;
        }
        if (rc != CTIX_OK)
            fail_msg("case %zu: rejected: %s", i, err);
        check_str(i, "--data", cli_args_get(&a, "data"), c->data);
        check_str(i, "--org", cli_args_get(&a, "org"), c->org);
        assert_int_equal(cli_args_has(&a, "read"), c->read);
        assert_int_equal(cli_args_has(&a, "write"), c->write);
        assert_int_equal(a.help, c->help);
        n_types = cli_args_list(&a, "type", &types);
        join(buf, sizeof(buf), types, n_types);
        check_str(i, "--type list", buf, c->types);
        join(buf, sizeof(buf), a.pos, a.n_pos);
        check_str(i, "positional", buf, c->pos);
        cli_args_cleanup(&a);
    }
}

/* Names that are not declared read as absent rather than as another option's value. */
static void test_undeclared_names(void **state)
{
    char *argv[] = {(char *)"cmd", (char *)"--data", (char *)"/d", NULL};
    struct cli_args a;
    const char *const *list;
    char err[64];

    (void)state;
    assert_int_equal(cli_args_parse(opts, CTIX_ARRAY_LEN(opts), 3, argv, &a, err, sizeof(err)),
                     CTIX_OK);
    assert_null(cli_args_get(&a, "title"));
    assert_false(cli_args_has(&a, "revoke"));
    assert_int_equal(cli_args_list(&a, "tag", &list), 0);
    assert_null(list);
    assert_null(cli_args_get(&a, "read")); /* a flag has no value */
    cli_args_cleanup(&a);
    cli_args_cleanup(&a); /* cleanup twice is harmless */
}

static void test_names(void **state)
{
    char long_name[STORE_NAME_MAX + 1];

    (void)state;
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_true(cli_name_valid("SG CSA"));
    assert_true(cli_name_valid("日本 NISC"));
    assert_false(cli_name_valid(""));
    assert_false(cli_name_valid(NULL));
    assert_false(cli_name_valid("a\nb"));
    assert_false(cli_name_valid("a\x7f"));
    assert_false(cli_name_valid(long_name));
    long_name[STORE_NAME_MAX - 1] = '\0';
    assert_true(cli_name_valid(long_name));
}

static void test_time_format(void **state)
{
    char out[21];

    (void)state;
    cli_time_format(1714557600123456, out);
    assert_string_equal(out, "2024-05-01T10:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_table),
        cmocka_unit_test(test_undeclared_names),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_time_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
