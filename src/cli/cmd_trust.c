/* `ctix trust add|list`: publishers whose signed objects this node accepts when they arrive
 * through a third node. A peer's own node key is trusted for the peer's organisation without an
 * entry here; list shows both, since together they are every key this node believes. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/prov.h"

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
    {"org", CLI_OPT_VALUE},
    {"pubkey", CLI_OPT_VALUE},
};

enum trust_sub { TRUST_ADD, TRUST_LIST };

/* The key belongs to a local organisation (policy names the publisher by it): created when
 * missing, and said so, as `ctix peer add` does. */
/* A key is one node's identity: believing it for two organisations would let one publisher speak
 * as another. The owner named first (by a peer entry or an earlier trust entry) stands. */
static int key_owner_check(struct store *st, const char *org, const char *key)
{
    struct store_trust *ts = NULL;
    struct store_peer *ps = NULL;
    struct store_org o;
    size_t n_t = 0, n_p = 0;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    rc = store_trust_list(st, &ts, &n_t);
    if (rc == CTIX_OK)
        rc = store_peer_list(st, &ps, &n_p);
    if (rc != CTIX_OK) {
        cli_error("trust", "cannot read trusted keys: %s", ctix_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < n_t; i++) {
        if (strcmp(ts[i].pubkey, key) == 0 && strcmp(ts[i].org, org) != 0) {
            cli_error("trust", "the key is already trusted for '%s'", ts[i].org);
            goto out;
        }
    }
    for (size_t i = 0; i < n_p; i++) {
        memset(ps[i].token, 0, sizeof(ps[i].token));
        if (strcmp(ps[i].pubkey, key) != 0 || store_org_get_by_id(st, ps[i].org_id, &o) != CTIX_OK)
            continue;
        if (strcmp(o.name, org) != 0) {
            cli_error("trust", "the key is peer %s's node key, of organisation '%s'", ps[i].name,
                      o.name);
            goto out;
        }
    }
    ret = CLI_EXIT_OK;
out:
    free(ts);
    free(ps);
    return ret;
}

static int trust_add(struct store *st, const char *org, const char *key)
{
    struct store_org o;
    enum ctix_rc rc;

    if (key_owner_check(st, org, key) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    rc = store_org_get(st, org, &o);
    if (rc == CTIX_ENOTFOUND) {
        rc = store_org_add(st, org, NULL);
        if (rc == CTIX_OK)
            printf("created organisation '%s'\n", org);
    }
    if (rc == CTIX_OK)
        rc = store_trust_add(st, org, key);
    if (rc != CTIX_OK) {
        cli_error("trust", "cannot trust the key for '%s': %s", org, ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    printf("trusted %s for '%s'\n", key, org);
    return CLI_EXIT_OK;
}

static int trust_list(struct store *st)
{
    struct store_trust *ts = NULL;
    struct store_peer *ps = NULL;
    struct store_org o;
    size_t n_t = 0, n_p = 0;
    char when[21], from[STORE_NAME_MAX + 8];
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    rc = store_trust_list(st, &ts, &n_t);
    if (rc == CTIX_OK)
        rc = store_peer_list(st, &ps, &n_p);
    if (rc != CTIX_OK) {
        cli_error("trust", "cannot list trusted keys: %s", ctix_strerror(rc));
        goto out;
    }
    printf("%-52s %-20s %-20s %s\n", "PUBKEY", "CREATED", "SOURCE", "ORG");
    for (size_t i = 0; i < n_t; i++) {
        cli_time_format(ts[i].created_us, when);
        printf("%-52s %-20s %-20s %s\n", ts[i].pubkey, when, "trust", ts[i].org);
    }
    for (size_t i = 0; i < n_p; i++) {
        memset(ps[i].token, 0, sizeof(ps[i].token));
        if (store_org_get_by_id(st, ps[i].org_id, &o) != CTIX_OK)
            snprintf(o.name, sizeof(o.name), "#%lld", (long long)ps[i].org_id);
        cli_time_format(ps[i].created_us, when);
        snprintf(from, sizeof(from), "peer %s", ps[i].name);
        printf("%-52s %-20s %-20s %s\n", ps[i].pubkey, when, from, o.name);
    }
    ret = CLI_EXIT_OK;
out:
    free(ts);
    free(ps);
    return ret;
}

int cmd_trust(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    struct prov_pubkey pk;
    struct ctix_diag d;
    static const char *const subs[] = {"add", "list", NULL}; /* enum trust_sub's order */
    const char *dir = NULL, *org, *key;
    char text[PROV_PUBKEY_TEXT];
    int ret = CLI_EXIT_USAGE, which;

    ctix_diag_clear(&d);
    which = cli_subcommand_begin("trust", subs, opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, &dir);
    if (which < 0)
        goto out;
    org = cli_args_get(&a, "org");
    key = cli_args_get(&a, "pubkey");
    if (a.n_pos != 0) {
        ret = cli_usage_error("trust", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    if ((enum trust_sub)which == TRUST_LIST && (org != NULL || key != NULL)) {
        ret = cli_usage_error("trust", "trust list takes no --org or --pubkey");
        goto out;
    }
    if ((enum trust_sub)which == TRUST_ADD) {
        if (org == NULL || key == NULL) {
            ret = cli_usage_error("trust", "trust add: missing %s",
                                  org == NULL ? "--org ORG" : "--pubkey KEY");
            goto out;
        }
        if (!cli_name_valid(org)) {
            ret = cli_usage_error("trust", "--org: 1 to %d characters without control characters",
                                  STORE_NAME_MAX - 1);
            goto out;
        }
        if (prov_pubkey_parse(key, &pk, &d) != CTIX_OK) {
            ret = cli_usage_error("trust", "--pubkey: %s", d.msg);
            goto out;
        }
        prov_pubkey_format(&pk, text);
    }
    ret = cli_store_open("trust", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = (enum trust_sub)which == TRUST_ADD ? trust_add(st, org, text) : trust_list(st);
out:
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
