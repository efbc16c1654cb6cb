/* `ctix import`: STIX bundles and TAXII envelopes from files into a collection, through the same
 * ingest path as POST …/objects/ (taxii_objects_add), so an object that the API would refuse is
 * refused here too, with the same message. Local data is this node's: signed with the node key
 * as it is stored (taxii_objects_add_signed). `--from PEER`: a bundle another node exported
 * (`ctix export --signed`, carried across an air gap) goes through the receive path of sync
 * instead, attributed to that peer: provenance verified, quarantine, deletion statements, audit,
 * exactly as if it had been pulled over the network. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prov/prov.h"
#include "stix/stix.h"
#include "sync/sync.h"
#include "taxii/taxii.h"

#define IMPORT_FILE_MAX (1024u * 1024 * 1024) /* 1 GiB: the whole file is parsed in memory */
#define IMPORT_BATCH    1000                  /* objects per store transaction */

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
    {"collection", CLI_OPT_VALUE},
    {"from", CLI_OPT_VALUE},
};

struct import_totals {
    size_t stored, present, rejected, quarantined;
};

/* Where the objects go: the node (store, key, audit) and, for --from, the peer's id. */
struct import_dest {
    struct sync_node *node;
    int64_t peer_id; /* 0: local data */
};

/* One batch: objects[off, off+n) of the file's array, in one transaction. */
static enum ctix_rc import_batch(const struct import_dest *dst, const char *coll_id,
                                 const char *file, json_t *objects, const char *text,
                                 const struct stix_span *spans, size_t off, size_t n,
                                 struct taxii_add_item *items, struct import_totals *t)
{
    struct taxii_add_counts counts;
    json_t *batch = json_array();
    enum ctix_rc rc = CTIX_ENOMEM;

    memset(&counts, 0, sizeof(counts));
    if (batch == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (json_array_append(batch, json_array_get(objects, off + i)) != 0)
            goto out;
    }
    if (dst->peer_id > 0) {
        struct sync_recv_counts rc_counts;
        struct ctix_diag d;

        ctix_diag_clear(&d);
        rc = sync_receive(dst->node, coll_id, batch, dst->peer_id, NULL, &rc_counts, &d);
        if (rc != CTIX_OK) {
            if (d.msg[0] != '\0')
                cli_error_file(file, 0, 0, "%s", d.msg);
            goto out;
        }
        /* sync/ logs each rejected object with its id and reason. */
        t->stored += rc_counts.stored;
        t->present += rc_counts.duplicate;
        t->rejected += rc_counts.rejected;
        t->quarantined += rc_counts.quarantined;
        goto out;
    }
    /* Each object is stored as the text the file holds for it (whitespace outside strings
     * removed), exactly as an object POSTed over TAXII, and signed by this node. */
    rc = taxii_objects_add_signed(dst->node, coll_id, batch, text, spans + off, items, &counts);
    if (rc != CTIX_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (items[i].outcome != TAXII_ADD_FAILED)
            continue;
        if (items[i].id[0] != '\0')
            cli_error_file(file, 0, 0, "objects[%zu] %s: %s", off + i, items[i].id,
                           items[i].message);
        else
            cli_error_file(file, 0, 0, "objects[%zu]: %s", off + i, items[i].message);
    }
    t->stored += counts.stored;
    t->present += counts.duplicates;
    t->rejected += counts.failed;
out:
    json_decref(batch);
    return rc;
}

static bool import_text(const struct import_dest *dst, const char *coll_id, const char *file,
                        const char *text, size_t len, struct taxii_add_item *items,
                        struct import_totals *t, bool progress);

/* Returns false when the file failed as a whole (unreadable, not JSON, store error). */
static bool import_file(const struct import_dest *dst, const char *coll_id, const char *file,
                        struct taxii_add_item *items, struct import_totals *t)
{
    struct ctix_diag d;
    char *text = NULL;
    size_t len = 0;
    enum ctix_rc rc;
    bool ok = false, progress = isatty(STDERR_FILENO) == 1;

    ctix_diag_clear(&d);
    rc = ctix_file_read(strcmp(file, "-") == 0 ? "/dev/stdin" : file, IMPORT_FILE_MAX, &text, &len,
                        &d);
    if (rc != CTIX_OK) {
        cli_error_file(file, 0, 0, "%s", rc == CTIX_ETOOBIG ? "larger than 1 GiB" : d.msg);
        goto out;
    }
    ok = import_text(dst, coll_id, file, text, len, items, t, progress);
out:
    free(text);
    return ok;
}

/* The objects of a bundle held in text[0..len), labelled file in messages. */
static bool import_text(const struct import_dest *dst, const char *coll_id, const char *file,
                        const char *text, size_t len, struct taxii_add_item *items,
                        struct import_totals *t, bool progress)
{
    struct ctix_diag d;
    size_t n;
    json_t *objects = NULL;
    struct stix_span *spans = NULL;
    enum ctix_rc rc;
    bool ok = false;

    ctix_diag_clear(&d);
    rc = stix_container_parse_spans(text, len, &objects, &spans, &d);
    if (rc != CTIX_OK) {
        cli_error_file(file, d.line, d.col, "%s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    n = json_array_size(objects);
    for (size_t off = 0; off < n; off += IMPORT_BATCH) {
        size_t k = n - off < IMPORT_BATCH ? n - off : IMPORT_BATCH;

        rc = import_batch(dst, coll_id, file, objects, text, spans, off, k, items, t);
        if (rc != CTIX_OK) {
            if (progress)
                fputs("\r\033[K", stderr);
            cli_error_file(file, 0, 0,
                           "cannot store objects[%zu..%zu]: %s (earlier batches "
                           "stay stored)",
                           off, off + k - 1, ctix_strerror(rc));
            goto out;
        }
        if (progress)
            fprintf(stderr, "\r\033[K%s: %zu/%zu objects", file, off + k, n);
    }
    if (progress)
        fputs("\r\033[K", stderr);
    ok = true;
out:
    free(spans);
    json_decref(objects);
    return ok;
}

/* The node key, created when a node initialised before keys existed has none. */
static enum ctix_rc node_key(const char *dir, struct sync_node *node, struct ctix_diag *d)
{
    enum ctix_rc rc = prov_key_load(dir, &node->key, d);

    if (rc == CTIX_ENOTFOUND) {
        char pub[PROV_PUBKEY_TEXT];

        rc = prov_key_generate(&node->key);
        if (rc == CTIX_OK)
            rc = prov_key_save(node->key, dir, d);
        if (rc == CTIX_OK) {
            prov_pubkey_format(prov_key_public(node->key), pub);
            ctix_log(CTIX_LOG_WARN, "cli", "event=node_key_created pubkey=%s", pub);
        }
    }
    return rc;
}

/* The node that signs and audits what is stored: its settings, key and audit log. false after
 * printing why (as cmd); what was opened is released by the caller as usual. */
static bool node_open(const char *cmd, const char *dir, struct store *st, struct sync_node *node)
{
    struct ctix_diag d;
    enum ctix_rc rc;

    ctix_diag_clear(&d);
    rc = sync_node_load(node, st, &d);
    if (rc == CTIX_OK)
        rc = node_key(dir, node, &d);
    if (rc == CTIX_OK)
        rc = prov_audit_open(dir, &node->audit, &d);
    if (rc != CTIX_OK) {
        cli_error(cmd, "%s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        return false;
    }
    prov_audit_set_key(node->audit, node->key);
    return true;
}

int cmd_import(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    struct store_collection *c = NULL;
    struct taxii_add_item *items = NULL;
    struct sync_node node = {0};
    struct import_dest dst = {&node, 0};
    char err[256];
    const char *dir, *coll, *from;
    enum ctix_rc rc;
    int ret = CLI_EXIT_USAGE;

    if (cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, err, sizeof(err)) != CTIX_OK) {
        ret = cli_usage_error("import", "%s", err);
        goto out;
    }
    dir = cli_data_dir(&a);
    coll = cli_args_get(&a, "collection");
    if (dir == NULL || coll == NULL) {
        ret =
            cli_usage_error("import", "missing %s", dir == NULL ? "--data DIR" : "--collection ID");
        goto out;
    }
    if (a.n_pos == 0) {
        ret = cli_usage_error("import", "missing FILE (\"-\" reads standard input)");
        goto out;
    }
    from = cli_args_get(&a, "from");
    ret = cli_store_open("import", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = CLI_EXIT_FAIL;
    if (!node_open("import", dir, st, &node))
        goto out;
    if (from != NULL) {
        struct store_peer peer;

        rc = store_peer_get(st, from, &peer);
        if (rc != CTIX_OK) {
            cli_error("import", "%s '%s'", rc == CTIX_ENOTFOUND ? "no peer" : "cannot read peer",
                      from);
            goto out;
        }
        dst.peer_id = peer.id;
    }
    c = malloc(sizeof(*c));
    items = calloc(IMPORT_BATCH, sizeof(*items));
    if (c == NULL || items == NULL) {
        cli_error("import", "out of memory");
        goto out;
    }
    rc = store_collection_get(st, coll, c);
    if (rc != CTIX_OK) {
        cli_error("import", "%s '%s'",
                  rc == CTIX_ENOTFOUND ? "no collection" : "cannot read collection", coll);
        goto out;
    }
    ret = CLI_EXIT_OK;
    for (size_t i = 0; i < a.n_pos; i++) {
        struct import_totals t = {0, 0, 0, 0};

        struct ctix_diag sd;

        if (!import_file(&dst, c->id, a.pos[i], items, &t))
            ret = CLI_EXIT_FAIL;
        if (t.rejected > 0)
            ret = CLI_EXIT_FAIL;
        ctix_diag_clear(&sd);
        if (prov_audit_sync(node.audit, &sd) != CTIX_OK) {
            cli_error("import", "audit log: %s", sd.msg);
            ret = CLI_EXIT_FAIL;
        }
        if (from != NULL)
            printf("%s: %zu stored, %zu already present, %zu rejected, %zu quarantined\n", a.pos[i],
                   t.stored, t.present, t.rejected, t.quarantined);
        else
            printf("%s: %zu stored, %zu already present, %zu rejected\n", a.pos[i], t.stored,
                   t.present, t.rejected);
        fflush(stdout);
    }
out:
    free(items);
    free(c);
    prov_audit_close(node.audit);
    prov_key_free(node.key);
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}

/* The node's own objects made by another command (`ctix scan --report-to`): stored and signed
 * exactly as `ctix import` stores a file. */
int cli_import_text(const char *cmd, const char *dir, struct store *st, const char *coll,
                    const char *label, const char *text, size_t len)
{
    struct store_collection *c = NULL;
    struct taxii_add_item *items = NULL;
    struct sync_node node = {0};
    struct import_dest dst = {&node, 0};
    struct import_totals t = {0, 0, 0, 0};
    struct ctix_diag d;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    if (!node_open(cmd, dir, st, &node))
        goto out;
    c = malloc(sizeof(*c));
    items = calloc(IMPORT_BATCH, sizeof(*items));
    if (c == NULL || items == NULL) {
        cli_error(cmd, "out of memory");
        goto out;
    }
    rc = store_collection_get(st, coll, c);
    if (rc != CTIX_OK) {
        cli_error(cmd, "%s '%s'", rc == CTIX_ENOTFOUND ? "no collection" : "cannot read collection",
                  coll);
        goto out;
    }
    if (import_text(&dst, c->id, label, text, len, items, &t, false) && t.rejected == 0)
        ret = CLI_EXIT_OK;
    ctix_diag_clear(&d);
    if (prov_audit_sync(node.audit, &d) != CTIX_OK) {
        cli_error(cmd, "audit log: %s", d.msg);
        ret = CLI_EXIT_FAIL;
    }
    fprintf(stderr, "ctix %s: %s: %zu stored, %zu already present, %zu rejected\n", cmd, label,
            t.stored, t.present, t.rejected);
out:
    free(items);
    free(c);
    prov_audit_close(node.audit);
    prov_key_free(node.key);
    return ret;
}
