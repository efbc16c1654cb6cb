/* `ctix node show|keygen`: this node's identity — its organisation and the Ed25519 public key
 * peers enter with `ctix peer add --pubkey` and `ctix trust add --pubkey`. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "prov/prov.h"

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
};

enum node_sub { NODE_SHOW, NODE_KEYGEN };

/* A data directory initialised before node keys existed has none: show says so and names the
 * command that makes one, rather than making it itself, because a node's key is its identity and
 * should not appear as a side effect of looking. */
static int node_show(struct store *st, const char *dir)
{
    struct prov_key *k = NULL;
    struct ctix_diag d;
    char org[STORE_NAME_MAX], text[PROV_PUBKEY_TEXT];
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    ctix_diag_clear(&d);
    rc = store_meta_get(st, "node_org", org, sizeof(org));
    if (rc != CTIX_OK) {
        cli_error("node", "%s has no node organisation (create the node with 'ctix init')", dir);
        goto out;
    }
    printf("organisation: %s\n", org);
    rc = prov_key_load(dir, &k, &d);
    if (rc == CTIX_ENOTFOUND) {
        cli_error("node",
                  "%s has no node key (initialised by an older ctix): create it with "
                  "'ctix node keygen --data %s'",
                  dir, dir);
        goto out;
    }
    if (rc != CTIX_OK) {
        cli_error("node", "cannot read the node key: %s",
                  d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    prov_pubkey_format(prov_key_public(k), text);
    printf("pubkey: %s\n", text);
    ret = CLI_EXIT_OK;
out:
    prov_key_free(k);
    return ret;
}

int cmd_node(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    static const char *const subs[] = {"show", "keygen", NULL}; /* enum node_sub's order */
    const char *dir = NULL;
    int ret = CLI_EXIT_USAGE, which;

    which = cli_subcommand_begin("node", subs, opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, &dir);
    if (which < 0)
        goto out;
    if (a.n_pos != 0) {
        ret = cli_usage_error("node", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    ret = cli_store_open("node", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = (enum node_sub)which == NODE_SHOW ? node_show(st, dir)
                                            : cli_node_key_create("node", dir, false);
out:
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
