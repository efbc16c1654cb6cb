/* `ctix sync --data DIR [--peer NAME]`: one pass of pull (and queued pushes) over every peer or
 * one, then exit — what `ctix serve` does continuously. Prints one line per peer; exits 1 when any
 * peer failed, so that cron and scripts notice. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/prov.h"
#include "sync/sync.h"

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
    {"peer", CLI_OPT_VALUE},
};

/* One peer's pass; *failed when the pass recorded an error in the peer's status. */
static int sync_peer(const struct sync_node *node, const struct store_peer *before,
                     const struct sync_opts *so, bool *failed)
{
    struct sync_pass pass;
    struct store_peer after;
    struct ctix_diag d;
    int64_t t0 = ctix_now_us();
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    memset(&pass, 0, sizeof(pass));
    memset(&after, 0, sizeof(after));
    ctix_diag_clear(&d);
    rc = sync_once(node, before->name, so, &pass, &d);
    if (rc != CTIX_OK) {
        cli_error("sync", "%s: %s", before->name, d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    rc = store_peer_get(node->st, before->name, &after);
    if (rc != CTIX_OK) {
        cli_error("sync", "%s: cannot read its status: %s", before->name, ctix_strerror(rc));
        goto out;
    }
    *failed = after.n_errors > before->n_errors || after.last_err_us >= t0 || pass.errors > 0;
    if (*failed)
        printf("%s: failed: %s (%zu pages, %zu objects, %zu stored before the error)\n",
               before->name, after.last_err[0] != '\0' ? after.last_err : "error", pass.pages,
               pass.objects, pass.stored);
    else
        printf("%s: ok: %zu pages, %zu objects, %zu stored, %zu quarantined, %zu pushed (lag at "
               "the start: %lld objects)\n",
               before->name, pass.pages, pass.objects, pass.stored, pass.quarantined, pass.pushed,
               (long long)after.lag_objects);
    ret = CLI_EXIT_OK;
out:
    memset(after.token, 0, sizeof(after.token));
    return ret;
}

static int sync_run(struct store *st, const char *dir, const char *peer)
{
    struct sync_node node;
    struct sync_opts so;
    struct store_peer *ps = NULL;
    struct prov_key *key = NULL;
    struct prov_audit_log *audit = NULL;
    struct ctix_diag d;
    size_t n = 0;
    bool any_failed = false, found = peer == NULL;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    memset(&node, 0, sizeof(node));
    memset(&so, 0, sizeof(so));
    ctix_diag_clear(&d);
    rc = sync_node_load(&node, st, &d);
    if (rc != CTIX_OK) {
        cli_error("sync", "%s: %s", dir, d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    rc = prov_key_load(dir, &key, &d);
    if (rc != CTIX_OK) {
        cli_error("sync", "cannot read the node key: %s%s",
                  d.msg[0] != '\0' ? d.msg : ctix_strerror(rc),
                  rc == CTIX_ENOTFOUND ? " (create it with 'ctix node keygen')" : "");
        goto out;
    }
    rc = prov_audit_open(dir, &audit, &d);
    if (rc != CTIX_OK) {
        cli_error("sync", "cannot open the audit log: %s",
                  d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    prov_audit_set_key(audit, key);
    node.key = key;
    node.audit = audit;
    rc = store_peer_list(st, &ps, &n);
    if (rc != CTIX_OK) {
        cli_error("sync", "cannot list peers: %s", ctix_strerror(rc));
        goto out;
    }
    ret = CLI_EXIT_OK;
    for (size_t i = 0; i < n && ret == CLI_EXIT_OK; i++) {
        bool failed = false;

        if (peer != NULL && strcmp(ps[i].name, peer) != 0)
            continue;
        found = true;
        ret = sync_peer(&node, &ps[i], &so, &failed);
        any_failed = any_failed || failed;
    }
    if (ret == CLI_EXIT_OK && !found) {
        cli_error("sync", "no peer '%s'", peer);
        ret = CLI_EXIT_FAIL;
    } else if (ret == CLI_EXIT_OK && n == 0) {
        printf("no peers (add one with 'ctix peer add')\n");
    }
    if (ret == CLI_EXIT_OK && any_failed)
        ret = CLI_EXIT_FAIL;
out:
    for (size_t i = 0; i < n; i++)
        memset(ps[i].token, 0, sizeof(ps[i].token));
    free(ps);
    prov_audit_close(audit);
    prov_key_free(key);
    return ret;
}

int cmd_sync(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    const char *dir, *peer;
    char err[256];
    int ret = CLI_EXIT_USAGE;

    if (cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, err, sizeof(err)) != CTIX_OK) {
        ret = cli_usage_error("sync", "%s", err);
        goto out;
    }
    dir = cli_data_dir(&a);
    peer = cli_args_get(&a, "peer");
    if (dir == NULL) {
        ret = cli_usage_error("sync", "missing --data DIR");
        goto out;
    }
    if (a.n_pos != 0) {
        ret = cli_usage_error("sync", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    ret = cli_store_open("sync", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = sync_run(st, dir, peer);
out:
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
