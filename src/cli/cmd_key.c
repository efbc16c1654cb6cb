/* `ctix key add|list|revoke`: API keys. A token is printed once, by add, and never again: the store
 * keeps only its SHA-256, and list shows neither tokens nor hashes. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
    {"org", CLI_OPT_VALUE},
    {"role", CLI_OPT_VALUE},
    {"name", CLI_OPT_VALUE},
};

enum key_sub { KEY_ADD, KEY_LIST, KEY_REVOKE };

static int key_add(struct store *st, const char *org, enum auth_role role, const char *label)
{
    char token[AUTH_TOKEN_MAX];
    int64_t id;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    rc = auth_key_create(st, org, role, label != NULL ? label : "", token, &id);
    if (rc == CTIX_ENOTFOUND) {
        cli_error("key", "no organisation '%s'", org);
        goto out;
    }
    if (rc != CTIX_OK) {
        cli_error("key", "cannot create the key: %s", ctix_strerror(rc));
        goto out;
    }
    printf("%s\n", token);
    if (fflush(stdout) != 0) {
        cli_error("key", "cannot write the token: the key %lld is useless, revoke it",
                  (long long)id);
        goto out;
    }
    ret = CLI_EXIT_OK;
out:
    memset(token, 0, sizeof(token));
    return ret;
}

static int key_list(struct store *st)
{
    struct store_key *keys = NULL;
    struct store_org org;
    size_t n = 0;
    char when[21];
    enum ctix_rc rc;

    rc = store_key_list(st, &keys, &n);
    if (rc != CTIX_OK) {
        cli_error("key", "cannot list keys: %s", ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    printf("%-6s %-20s %-9s %-20s %-7s %s\n", "ID", "ORG", "ROLE", "CREATED", "REVOKED", "NAME");
    for (size_t i = 0; i < n; i++) {
        if (store_org_get_by_id(st, keys[i].org_id, &org) != CTIX_OK)
            snprintf(org.name, sizeof(org.name), "#%lld", (long long)keys[i].org_id);
        cli_time_format(keys[i].created_us, when);
        printf("%-6lld %-20s %-9s %-20s %-7s %s\n", (long long)keys[i].id, org.name, keys[i].role,
               when, keys[i].revoked ? "yes" : "no", keys[i].name);
    }
    free(keys);
    return CLI_EXIT_OK;
}

static int key_revoke(struct store *st, int64_t id)
{
    enum ctix_rc rc = store_key_revoke(st, id);

    if (rc == CTIX_ENOTFOUND) {
        cli_error("key", "no key %lld", (long long)id);
        return CLI_EXIT_FAIL;
    }
    if (rc != CTIX_OK) {
        cli_error("key", "cannot revoke key %lld: %s", (long long)id, ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cmd_key(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    static const char *const subs[] = {"add", "list", "revoke", NULL}; /* enum key_sub's order */
    const char *dir = NULL, *org = NULL, *role_s, *label;
    enum auth_role role = AUTH_ROLE_READER;
    enum key_sub sub;
    uint64_t id = 0;
    int ret = CLI_EXIT_USAGE, which;

    which = cli_subcommand_begin("key", subs, opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, &dir);
    if (which < 0)
        goto out;
    sub = (enum key_sub)which;
    org = cli_args_get(&a, "org");
    role_s = cli_args_get(&a, "role");
    label = cli_args_get(&a, "name");
    if (sub != KEY_ADD && (org != NULL || role_s != NULL || label != NULL)) {
        ret = cli_usage_error("key", "key %s takes no --org, --role or --name", argv[1]);
        goto out;
    }
    if (sub == KEY_ADD) {
        if (org == NULL || role_s == NULL) {
            ret = cli_usage_error("key", "key add: missing %s",
                                  org == NULL ? "--org NAME" : "--role ROLE");
            goto out;
        }
        if (!auth_role_parse(role_s, &role)) {
            ret = cli_usage_error("key",
                                  "unknown role '%s' (admin, analyst, reader, peer, "
                                  "reporter)",
                                  role_s);
            goto out;
        }
        if (label != NULL && label[0] != '\0' && !cli_name_valid(label)) {
            ret = cli_usage_error("key",
                                  "--name: at most %d characters without control "
                                  "characters",
                                  STORE_NAME_MAX - 1);
            goto out;
        }
    }
    if (sub == KEY_REVOKE) {
        if (a.n_pos != 1) {
            ret = cli_usage_error("key", "key revoke: %s",
                                  a.n_pos == 0 ? "missing ID" : "one ID at a time");
            goto out;
        }
        if (!ctix_parse_u64(a.pos[0], INT64_MAX, &id)) {
            ret = cli_usage_error("key", "key revoke: '%s' is not a key id", a.pos[0]);
            goto out;
        }
    } else if (a.n_pos != 0) {
        ret = cli_usage_error("key", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    ret = cli_store_open("key", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (sub == KEY_ADD)
        ret = key_add(st, org, role, label);
    else if (sub == KEY_LIST)
        ret = key_list(st);
    else
        ret = key_revoke(st, (int64_t)id);
out:
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
