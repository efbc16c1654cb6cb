/* `ctix grant`: an organisation's read and write rights on one collection. Rights are added to (or,
 * with --revoke, removed from) what the organisation already has, never silently reset. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE}, {"collection", CLI_OPT_VALUE}, {"org", CLI_OPT_VALUE},
    {"read", CLI_OPT_FLAG},  {"write", CLI_OPT_FLAG},       {"revoke", CLI_OPT_FLAG},
};

int cmd_grant(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    struct store_collection *c = NULL;
    struct store_org org;
    char err[256];
    const char *dir, *coll, *org_name;
    bool read, write, revoke, can_read = false, can_write = false;
    enum ctix_rc rc;
    int ret = CLI_EXIT_USAGE;

    if (cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, err, sizeof(err)) != CTIX_OK) {
        ret = cli_usage_error("grant", "%s", err);
        goto out;
    }
    dir = cli_data_dir(&a);
    coll = cli_args_get(&a, "collection");
    org_name = cli_args_get(&a, "org");
    read = cli_args_has(&a, "read");
    write = cli_args_has(&a, "write");
    revoke = cli_args_has(&a, "revoke");
    if (dir == NULL || coll == NULL || org_name == NULL) {
        ret = cli_usage_error("grant", "missing %s",
                              dir == NULL    ? "--data DIR"
                              : coll == NULL ? "--collection ID"
                                             : "--org NAME");
        goto out;
    }
    if (!read && !write) {
        ret = cli_usage_error("grant", "say which rights: --read, --write or both");
        goto out;
    }
    if (a.n_pos != 0) {
        ret = cli_usage_error("grant", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    ret = cli_store_open("grant", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = CLI_EXIT_FAIL;
    c = malloc(sizeof(*c));
    if (c == NULL) {
        cli_error("grant", "out of memory");
        goto out;
    }
    rc = store_collection_get(st, coll, c);
    if (rc != CTIX_OK) {
        cli_error("grant", "%s '%s'",
                  rc == CTIX_ENOTFOUND ? "no collection" : "cannot read collection", coll);
        goto out;
    }
    rc = store_org_get(st, org_name, &org);
    if (rc != CTIX_OK) {
        cli_error("grant", "%s '%s'",
                  rc == CTIX_ENOTFOUND ? "no organisation" : "cannot read organisation", org_name);
        goto out;
    }
    rc = store_grant_get(st, c->id, org.id, &can_read, &can_write);
    if (rc == CTIX_OK) {
        if (read)
            can_read = !revoke;
        if (write)
            can_write = !revoke;
        rc = store_grant_set(st, c->id, org.id, can_read, can_write);
    }
    if (rc != CTIX_OK) {
        cli_error("grant", "cannot change the rights: %s", ctix_strerror(rc));
        goto out;
    }
    printf("%s on %s: %s\n", org.name, c->id,
           can_read && can_write ? "read, write"
           : can_read            ? "read"
           : can_write           ? "write"
                                 : "no rights");
    ret = CLI_EXIT_OK;
out:
    free(c);
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
