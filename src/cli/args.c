/* The option parser every sub-command shares: each command declares a static table of its options
 * and reads the result by name, so no command carries its own getopt loop. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int opt_find(const struct cli_opt *opts, size_t n_opts, const char *name, size_t len)
{
    for (size_t i = 0; i < n_opts; i++) {
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return (int)i;
    }
    return -1;
}

static enum ctix_rc list_push(const char ***list, size_t *n, const char *v)
{
    const char **p = realloc(*list, (*n + 1) * sizeof(**list));

    if (p == NULL)
        return CTIX_ENOMEM;
    p[(*n)++] = v;
    *list = p;
    return CTIX_OK;
}

enum ctix_rc cli_args_parse(const struct cli_opt *opts, size_t n_opts, int argc, char **argv,
                            struct cli_args *out, char *err, size_t errlen)
{
    enum ctix_rc rc = CTIX_OK;
    bool only_pos = false;
    int i;

    memset(out, 0, sizeof(*out));
    out->opts = opts;
    out->n_opts = n_opts;
    if (errlen > 0)
        err[0] = '\0';
    if (n_opts > CLI_OPTS_MAX) {
        snprintf(err, errlen, "too many options declared");
        rc = CTIX_EINVAL;
        goto out;
    }
    for (i = 1; i < argc && rc == CTIX_OK; i++) {
        const char *arg = argv[i], *name, *eq, *value = NULL;
        size_t nlen;
        int k;

        if (only_pos || arg[0] != '-' || strcmp(arg, "-") == 0) {
            rc = list_push(&out->pos, &out->n_pos, arg);
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            out->help = true;
            continue;
        }
        if (arg[1] != '-' || arg[2] == '\0') {
            snprintf(err, errlen, "unknown option %s", arg);
            rc = CTIX_EINVAL;
            break;
        }
        name = arg + 2;
        eq = strchr(name, '=');
        nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
        k = opt_find(opts, n_opts, name, nlen);
        if (k < 0) {
            snprintf(err, errlen, "unknown option --%.*s", (int)nlen, name);
            rc = CTIX_EINVAL;
            break;
        }
        if (opts[k].kind == CLI_OPT_FLAG) {
            if (eq != NULL) {
                snprintf(err, errlen, "option --%s takes no value", opts[k].name);
                rc = CTIX_EINVAL;
                break;
            }
            out->present[k] = true;
            continue;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
            value = argv[++i];
        } else {
            snprintf(err, errlen, "option --%s needs a value", opts[k].name);
            rc = CTIX_EINVAL;
            break;
        }
        if (opts[k].kind == CLI_OPT_VALUE) {
            if (out->present[k]) {
                snprintf(err, errlen, "option --%s given more than once", opts[k].name);
                rc = CTIX_EINVAL;
                break;
            }
            out->value[k] = value;
        } else {
            rc = list_push(&out->list[k], &out->n_list[k], value);
        }
        out->present[k] = true;
    }
    if (rc == CTIX_ENOMEM)
        snprintf(err, errlen, "out of memory");
out:
    return rc;
}

void cli_args_cleanup(struct cli_args *a)
{
    for (size_t i = 0; i < CLI_OPTS_MAX; i++) {
        free(a->list[i]);
        a->list[i] = NULL;
        a->n_list[i] = 0;
    }
    free(a->pos);
    a->pos = NULL;
    a->n_pos = 0;
}

const char *cli_args_get(const struct cli_args *a, const char *name)
{
    int k = opt_find(a->opts, a->n_opts, name, strlen(name));

    return k >= 0 ? a->value[k] : NULL;
}

bool cli_args_has(const struct cli_args *a, const char *name)
{
    int k = opt_find(a->opts, a->n_opts, name, strlen(name));

    return k >= 0 && a->present[k];
}

size_t cli_args_list(const struct cli_args *a, const char *name, const char *const **out)
{
    int k = opt_find(a->opts, a->n_opts, name, strlen(name));

    *out = k >= 0 ? a->list[k] : NULL;
    return k >= 0 ? a->n_list[k] : 0;
}
