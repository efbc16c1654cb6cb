/* `ctix org add|list`: the organisations a node knows (partners, CII owners, peer nodes). */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
};

static int org_add(struct store *st, const char *name)
{
    enum ctix_rc rc;

    rc = store_org_add(st, name, NULL);
    if (rc == CTIX_ECONFLICT) {
        cli_error("org", "organisation '%s' already exists", name);
        return CLI_EXIT_FAIL;
    }
    if (rc != CTIX_OK) {
        cli_error("org", "cannot add organisation '%s': %s", name, ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int org_list(struct store *st)
{
    struct store_org *orgs = NULL;
    size_t n = 0;
    char node[STORE_NAME_MAX], when[21];
    enum ctix_rc rc;

    rc = store_org_list(st, &orgs, &n);
    if (rc != CTIX_OK) {
        cli_error("org", "cannot list organisations: %s", ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    if (store_meta_get(st, "node_org", node, sizeof(node)) != CTIX_OK)
        node[0] = '\0';
    printf("%-20s %-5s %s\n", "CREATED", "NODE", "NAME");
    for (size_t i = 0; i < n; i++) {
        cli_time_format(orgs[i].created_us, when);
        printf("%-20s %-5s %s\n", when, strcmp(orgs[i].name, node) == 0 ? "yes" : "", orgs[i].name);
    }
    free(orgs);
    return CLI_EXIT_OK;
}

int cmd_org(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    static const char *const subs[] = {"add", "list", NULL};
    const char *dir = NULL;
    int ret = CLI_EXIT_USAGE, which;
    bool add;

    which = cli_subcommand_begin("org", subs, opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, &dir);
    if (which < 0)
        goto out;
    add = which == 0;
    if (add && a.n_pos != 1) {
        ret = cli_usage_error(
            "org", "%s", a.n_pos == 0 ? "org add: missing NAME" : "org add: one NAME at a time");
        goto out;
    }
    if (add && !cli_name_valid(a.pos[0])) {
        ret = cli_usage_error("org", "a name is 1 to %d characters without control characters",
                              STORE_NAME_MAX - 1);
        goto out;
    }
    if (!add && a.n_pos != 0) {
        ret = cli_usage_error("org", "org list: unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    ret = cli_store_open("org", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = add ? org_add(st, a.pos[0]) : org_list(st);
out:
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
