/* `ctix collection add|list`: the TAXII collections of the node's API root. */
#include "cli/cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},  {"title", CLI_OPT_VALUE},       {"id", CLI_OPT_VALUE},
    {"alias", CLI_OPT_VALUE}, {"description", CLI_OPT_VALUE},
};

/* An alias stands in for the id in URLs, so it is URL-safe and never looks like an id. */
static bool alias_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= STORE_NAME_MAX || ctix_uuid_valid(s, false))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int collection_add(struct store *st, const struct cli_args *a)
{
    struct store_collection *c = calloc(1, sizeof(*c));
    const char *id = cli_args_get(a, "id"), *alias = cli_args_get(a, "alias");
    const char *desc = cli_args_get(a, "description");
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    if (c == NULL) {
        cli_error("collection", "out of memory");
        goto out;
    }
    if (id != NULL) {
        for (size_t i = 0; id[i] != '\0' && i < sizeof(c->id) - 1; i++)
            c->id[i] = (char)tolower((unsigned char)id[i]);
    } else if (ctix_uuid4(c->id) != CTIX_OK) {
        cli_error("collection", "cannot generate an id: no randomness");
        goto out;
    }
    ctix_strlcpy(c->title, cli_args_get(a, "title"), sizeof(c->title));
    if (alias != NULL)
        ctix_strlcpy(c->alias, alias, sizeof(c->alias));
    if (desc != NULL)
        ctix_strlcpy(c->description, desc, sizeof(c->description));
    c->created_us = ctix_now_us();
    rc = store_collection_add(st, c);
    if (rc == CTIX_ECONFLICT) {
        if (id == NULL)
            cli_error("collection", "alias '%s' is already taken", alias != NULL ? alias : "");
        else
            cli_error("collection", "id %s%s%s is already taken", c->id,
                      alias != NULL ? " or alias " : "", alias != NULL ? alias : "");
        goto out;
    }
    if (rc != CTIX_OK) {
        cli_error("collection", "cannot add the collection: %s", ctix_strerror(rc));
        goto out;
    }
    printf("%s\n", c->id);
    ret = CLI_EXIT_OK;
out:
    free(c);
    return ret;
}

static int collection_list(struct store *st)
{
    struct store_collection *cs = NULL;
    size_t n = 0;
    enum ctix_rc rc;
    int ret = CLI_EXIT_OK;

    rc = store_collection_list(st, &cs, &n);
    if (rc != CTIX_OK) {
        cli_error("collection", "cannot list collections: %s", ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    printf("%-36s %-20s %10s %s\n", "ID", "ALIAS", "OBJECTS", "TITLE");
    for (size_t i = 0; i < n; i++) {
        int64_t count = 0;

        if (store_objs_count(st, cs[i].id, &count) != CTIX_OK) {
            count = -1;
            ret = CLI_EXIT_FAIL;
        }
        printf("%-36s %-20s %10lld %s\n", cs[i].id, cs[i].alias[0] != '\0' ? cs[i].alias : "-",
               (long long)count, cs[i].title);
    }
    free(cs);
    if (ret != CLI_EXIT_OK)
        cli_error("collection", "cannot count the objects of some collections");
    return ret;
}

int cmd_collection(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    static const char *const subs[] = {"add", "list", NULL};
    const char *dir = NULL, *v;
    int ret = CLI_EXIT_USAGE, which;
    bool add;

    which =
        cli_subcommand_begin("collection", subs, opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, &dir);
    if (which < 0)
        goto out;
    add = which == 0;
    if (a.n_pos != 0) {
        ret = cli_usage_error("collection", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    if (add) {
        v = cli_args_get(&a, "title");
        if (v == NULL) {
            ret = cli_usage_error("collection", "collection add: missing --title TITLE");
            goto out;
        }
        if (!cli_name_valid(v)) {
            ret = cli_usage_error("collection",
                                  "--title: 1 to %d characters without control "
                                  "characters",
                                  STORE_NAME_MAX - 1);
            goto out;
        }
        v = cli_args_get(&a, "id");
        if (v != NULL && !ctix_uuid_valid(v, false)) {
            ret = cli_usage_error("collection", "--id '%s' is not a UUID", v);
            goto out;
        }
        v = cli_args_get(&a, "alias");
        if (v != NULL && !alias_valid(v)) {
            ret = cli_usage_error("collection",
                                  "--alias '%s': letters, digits, '.', '_' and '-' "
                                  "only, and not a UUID",
                                  v);
            goto out;
        }
        v = cli_args_get(&a, "description");
        if (v != NULL && strlen(v) >= STORE_DESC_MAX) {
            ret = cli_usage_error("collection", "--description is longer than %d bytes",
                                  STORE_DESC_MAX - 1);
            goto out;
        }
    } else if (a.n_opts > 0 && (cli_args_has(&a, "title") || cli_args_has(&a, "id") ||
                                cli_args_has(&a, "alias") || cli_args_has(&a, "description"))) {
        ret = cli_usage_error("collection", "collection list takes only --data");
        goto out;
    }
    ret = cli_store_open("collection", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = add ? collection_add(st, &a) : collection_list(st);
out:
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
