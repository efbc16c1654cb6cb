/* `ctix export`: a collection as one STIX bundle on stdout — every stored version, in date_added
 * order, each spliced in exactly as stored (nothing is parsed or re-encoded). Pages through the
 * store on the date_added cursor so that memory stays flat whatever the collection's size. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"

#define EXPORT_PAGE 1000

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
    {"collection", CLI_OPT_VALUE},
    {"type", CLI_OPT_LIST},
};

struct export_ctx {
    FILE *out;
    size_t n;        /* objects written so far */
    int64_t last_us; /* date_added of the last row: the cursor of the next page */
};

static enum ctix_rc export_row(void *ctx, const struct store_row *row)
{
    struct export_ctx *x = ctx;

    if (row->json == NULL)
        return CTIX_EIO;
    if ((x->n > 0 && fputc(',', x->out) == EOF) ||
        fwrite(row->json, 1, row->json_len, x->out) != row->json_len)
        return CTIX_EIO;
    x->n++;
    x->last_us = row->date_added_us;
    return CTIX_OK;
}

int cmd_export(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    struct store_collection *c = NULL;
    struct store_query q;
    struct export_ctx x = {stdout, 0, -1};
    const char *const *types = NULL;
    char err[256], uuid[37];
    const char *dir, *coll;
    size_t n_types;
    bool more = true;
    enum ctix_rc rc;
    int ret = CLI_EXIT_USAGE;

    if (cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, err, sizeof(err)) != CTIX_OK) {
        ret = cli_usage_error("export", "%s", err);
        goto out;
    }
    dir = cli_data_dir(&a);
    coll = cli_args_get(&a, "collection");
    if (dir == NULL || coll == NULL) {
        ret =
            cli_usage_error("export", "missing %s", dir == NULL ? "--data DIR" : "--collection ID");
        goto out;
    }
    if (a.n_pos != 0) {
        ret = cli_usage_error("export", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    n_types = cli_args_list(&a, "type", &types);
    for (size_t i = 0; i < n_types; i++) {
        if (!stix_type_valid(types[i])) {
            ret = cli_usage_error("export", "--type '%s' is not a STIX type name", types[i]);
            goto out;
        }
    }
    ret = cli_store_open("export", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = CLI_EXIT_FAIL;
    c = malloc(sizeof(*c));
    if (c == NULL) {
        cli_error("export", "out of memory");
        goto out;
    }
    rc = store_collection_get(st, coll, c);
    if (rc != CTIX_OK) {
        cli_error("export", "%s '%s'",
                  rc == CTIX_ENOTFOUND ? "no collection" : "cannot read collection", coll);
        goto out;
    }
    if (ctix_uuid4(uuid) != CTIX_OK) {
        cli_error("export", "cannot generate the bundle id: no randomness");
        goto out;
    }
    if (fprintf(stdout, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid) < 0)
        goto write_error;
    while (more) {
        size_t before = x.n;

        memset(&q, 0, sizeof(q));
        q.coll_id = c->id;
        q.added_after_us = x.last_us;
        q.limit = EXPORT_PAGE;
        q.types = types;
        q.n_types = n_types;
        q.vsel = STORE_V_ALL;
        q.want_json = true;
        more = false;
        rc = store_objs_query(st, &q, export_row, &x, &more);
        if (rc == CTIX_EIO && ferror(stdout))
            goto write_error;
        if (rc != CTIX_OK) {
            cli_error("export", "cannot read the collection: %s", ctix_strerror(rc));
            goto out;
        }
        if (more && x.n == before) {
            cli_error("export", "the store said more rows follow but returned none");
            goto out;
        }
    }
    if (fputs("]}\n", stdout) == EOF || fflush(stdout) != 0)
        goto write_error;
    ret = CLI_EXIT_OK;
    goto out;
write_error:
    cli_error("export", "cannot write to stdout: %s", strerror(errno));
out:
    free(c);
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
