/* `ctix init --data DIR --org NAME`: a new node's data directory, store, own organisation, node
 * key (its identity towards peers) and audit log. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
    {"org", CLI_OPT_VALUE},
};

/* mkdir -p: the data directory holds keys' hashes and private data, so it is 0700. */
static int mkdir_p(const char *dir)
{
    char path[4096];
    size_t n = ctix_strlcpy(path, dir, sizeof(path));

    if (n >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int cmd_init(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    struct ctix_diag d;
    char err[256], existing[STORE_NAME_MAX];
    const char *dir, *org;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    ctix_diag_clear(&d);
    rc = cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, err, sizeof(err));
    if (rc != CTIX_OK) {
        ret = cli_usage_error("init", "%s", err);
        goto out;
    }
    dir = cli_data_dir(&a);
    org = cli_args_get(&a, "org");
    if (dir == NULL || org == NULL) {
        ret = cli_usage_error("init", "missing %s", dir == NULL ? "--data DIR" : "--org NAME");
        goto out;
    }
    if (a.n_pos > 0) {
        ret = cli_usage_error("init", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    if (!cli_name_valid(org)) {
        ret = cli_usage_error("init",
                              "--org: a name is 1 to %d characters without control "
                              "characters",
                              STORE_NAME_MAX - 1);
        goto out;
    }
    /* An existing store that already names its node is never touched again. */
    if (store_open(dir, false, &st, NULL) == CTIX_OK) {
        rc = store_meta_get(st, "node_org", existing, sizeof(existing));
        if (rc == CTIX_OK) {
            cli_error("init", "%s is already initialised (node organisation '%s')", dir, existing);
            goto out;
        }
        store_close(st);
        st = NULL;
    }
    if (mkdir_p(dir) != 0) {
        cli_error("init", "cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    rc = store_open(dir, true, &st, &d);
    if (rc != CTIX_OK) {
        cli_error("init", "cannot create the store in %s: %s", dir,
                  d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    rc = store_org_add(st, org, NULL);
    if (rc != CTIX_OK && rc != CTIX_ECONFLICT) {
        cli_error("init", "cannot add organisation '%s': %s", org, ctix_strerror(rc));
        goto out;
    }
    /* The node key and an empty audit log, made before the node organisation is recorded: a
     * directory that `init` calls initialised always has both. A key left by an earlier attempt
     * that failed later is kept and printed. */
    if (cli_node_key_create("init", dir, true) != CLI_EXIT_OK)
        goto out;
    rc = store_meta_set(st, "node_org", org);
    if (rc != CTIX_OK) {
        cli_error("init", "cannot record the node organisation: %s", ctix_strerror(rc));
        goto out;
    }
    ret = CLI_EXIT_OK;
out:
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
