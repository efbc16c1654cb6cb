/* `ctix export`: a collection as one STIX bundle on stdout — every stored version, in date_added
 * order, each spliced in exactly as stored (nothing is parsed or re-encoded). Pages through the
 * store on the date_added cursor so that memory stays flat whatever the collection's size.
 *
 * `--signed --peer NAME`: a bundle for another node (air-gapped exchange). Each row first passes
 * policy for that peer on the export channel (denials are audited and left out, like quarantined
 * and pending rows); every object that goes out is audited. Objects this node originated are
 * signed afresh, page by page (one signature per page), their attestations following them; the
 * stored attestations of received objects (their publishers') travel as stored, so the receiving
 * node verifies each object against its publisher's key. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "prov/prov.h"
#include "stix/stix.h"
#include "sync/sync.h"

#define EXPORT_PAGE 1000

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},  {"collection", CLI_OPT_VALUE}, {"type", CLI_OPT_LIST},
    {"signed", CLI_OPT_FLAG}, {"peer", CLI_OPT_VALUE},
};

/* What a signed export needs besides the rows. */
struct export_signed {
    struct sync_node node;
    struct store_peer peer;
    struct policy_requester req;
    json_t *page[EXPORT_PAGE]; /* this page's local objects, to sign */
    size_t n_page;
    size_t n_sent, n_denied;
    enum ctix_rc audit_rc;
    /* One "sent" entry per page lists every object the page wrote (cost per page, not per
     * object); denials stay one entry each. */
    struct prov_audit_entry sent;
};

struct export_ctx {
    FILE *out;
    size_t n;                 /* objects written so far */
    int64_t last_us;          /* date_added of the last row: the cursor of the next page */
    size_t rows;              /* rows the store handed over */
    struct export_signed *sg; /* NULL for a plain export */
};

static void audit_fill(struct export_signed *sg, struct prov_audit_entry *e, const char *event,
                       enum policy_verdict v, enum policy_reason r)
{
    e->time_us = ctix_now_us();
    ctix_strlcpy(e->event, event, sizeof(e->event));
    ctix_strlcpy(e->actor, sg->peer.name, sizeof(e->actor));
    ctix_strlcpy(e->channel, policy_channel_name(POLICY_CH_EXPORT), sizeof(e->channel));
    ctix_strlcpy(e->verdict, policy_verdict_name(v), sizeof(e->verdict));
    ctix_strlcpy(e->reason, policy_reason_name(r), sizeof(e->reason));
}

static void audit_rc_keep(struct export_signed *sg, enum ctix_rc rc)
{
    if (rc != CTIX_OK && sg->audit_rc == CTIX_OK)
        sg->audit_rc = rc;
}

/* A denial: one entry of its own. */
static void audit_denied(struct export_signed *sg, const struct store_row *row,
                         enum policy_verdict v, enum policy_reason r)
{
    struct prov_audit_entry e;
    struct ctix_diag d;

    memset(&e, 0, sizeof(e));
    audit_fill(sg, &e, "denied", v, r);
    ctix_strlcpy(e.object_id, row->id, sizeof(e.object_id));
    ctix_strlcpy(e.version, row->version, sizeof(e.version));
    ctix_diag_clear(&d);
    audit_rc_keep(sg, prov_audit_append(sg->node.audit, &e, &d));
}

/* Appends the page's "sent" entry, if it lists anything, and starts an empty one. */
static void audit_sent_flush(struct export_signed *sg)
{
    struct ctix_diag d;

    if (sg->sent.n_objects > 0) {
        audit_fill(sg, &sg->sent, "sent", POLICY_ALLOW, POLICY_R_AGREEMENT);
        ctix_diag_clear(&d);
        audit_rc_keep(sg, prov_audit_append(sg->node.audit, &sg->sent, &d));
    }
    prov_audit_entry_cleanup(&sg->sent);
    memset(&sg->sent, 0, sizeof(sg->sent));
}

/* Lists a written object in the page's entry; a full list is appended and a new one begun. */
static void audit_sent(struct export_signed *sg, const char *id, const char *version)
{
    enum ctix_rc rc = prov_audit_entry_object_add(&sg->sent, id, version);

    if (rc == CTIX_ETOOBIG) {
        audit_sent_flush(sg);
        rc = prov_audit_entry_object_add(&sg->sent, id, version);
    }
    audit_rc_keep(sg, rc);
}

/* The policy filter of a signed export: the peer on the export channel. */
static bool export_filter(void *ctx, const struct store_row *row)
{
    struct export_signed *sg = ctx;
    struct policy_object obj;
    enum policy_reason r = POLICY_R_BAD_FACTS;
    enum policy_verdict v;

    sync_row_object(&sg->node, row, &obj);
    v = policy_may_send(&sg->node.policy, &obj, &sg->req, POLICY_CH_EXPORT, &r);
    if (v != POLICY_ALLOW) {
        sg->n_denied++;
        audit_denied(sg, row, v, r);
        return false;
    }
    return true;
}

static enum ctix_rc write_json(struct export_ctx *x, const char *json, size_t len)
{
    if ((x->n > 0 && fputc(',', x->out) == EOF) || fwrite(json, 1, len, x->out) != len)
        return CTIX_EIO;
    x->n++;
    return CTIX_OK;
}

/* A stored attestation of this node's own publishing: replaced by the fresh one. Deletion
 * statements and other nodes' attestations travel as stored. */
static bool own_publish_statement(const struct store_row *row)
{
    json_t *j;
    bool own;

    if (row->origin != 0 || strcmp(row->type, PROV_ATTEST_TYPE) != 0)
        return false;
    j = json_loadb(row->json, row->json_len, 0, NULL);
    own = j != NULL && json_is_string(json_object_get(j, "statement")) &&
          strcmp(json_string_value(json_object_get(j, "statement")), "publish") == 0;
    json_decref(j);
    return own;
}

static enum ctix_rc export_row(void *ctx, const struct store_row *row)
{
    struct export_ctx *x = ctx;
    struct export_signed *sg = x->sg;
    enum ctix_rc rc = CTIX_OK;

    if (row->json == NULL)
        return CTIX_EIO;
    x->last_us = row->date_added_us;
    x->rows++;
    if (sg != NULL && own_publish_statement(row))
        return CTIX_OK;
    rc = write_json(x, row->json, row->json_len);
    if (rc != CTIX_OK || sg == NULL)
        return rc;
    sg->n_sent++;
    audit_sent(sg, row->id, row->version);
    if (row->origin == 0 && strcmp(row->type, PROV_ATTEST_TYPE) != 0) {
        sg->page[sg->n_page] = json_loadb(row->json, row->json_len, 0, NULL);
        if (sg->page[sg->n_page] == NULL)
            return CTIX_EIO;
        sg->n_page++;
    }
    return sg->audit_rc;
}

/* Signs the page's local objects with one signature and writes their attestations. */
static enum ctix_rc export_sign_page(struct export_ctx *x)
{
    struct export_signed *sg = x->sg;
    struct prov_sign_opts so = {sg->node.org, 0};
    json_t *atts[EXPORT_PAGE];
    struct ctix_diag d;
    enum ctix_rc rc = CTIX_OK;

    if (sg->n_page == 0)
        goto out;
    ctix_diag_clear(&d);
    rc = prov_attest_sign((const json_t *const *)sg->page, sg->n_page, sg->node.key, &so, atts, &d);
    if (rc != CTIX_OK) {
        cli_error("export", "cannot sign: %s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < sg->n_page; i++) {
        char *t = rc == CTIX_OK ? json_dumps(atts[i], JSON_COMPACT) : NULL;

        if (rc == CTIX_OK)
            rc = t != NULL ? write_json(x, t, strlen(t)) : CTIX_ENOMEM;
        free(t);
        json_decref(atts[i]);
    }
out:
    for (size_t i = 0; i < sg->n_page; i++)
        json_decref(sg->page[i]);
    sg->n_page = 0;
    return rc;
}

/* The node, its key and audit log, and the peer the bundle is for. */
static int signed_setup(const char *dir, struct store *st, const char *peer,
                        struct export_signed *sg)
{
    struct ctix_diag d;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    ctix_diag_clear(&d);
    rc = sync_node_load(&sg->node, st, &d);
    if (rc == CTIX_OK)
        rc = prov_key_load(dir, &sg->node.key, &d);
    if (rc == CTIX_OK)
        rc = prov_audit_open(dir, &sg->node.audit, &d);
    if (rc != CTIX_OK) {
        cli_error("export", "%s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    prov_audit_set_key(sg->node.audit, sg->node.key);
    rc = store_peer_get(st, peer, &sg->peer);
    if (rc != CTIX_OK) {
        cli_error("export", "%s '%s'", rc == CTIX_ENOTFOUND ? "no peer" : "cannot read peer", peer);
        goto out;
    }
    sg->req.rel = POLICY_REL_PEER;
    sg->req.org_id = sg->peer.org_id;
    sg->req.peer_id = sg->peer.id;
    sg->req.agreement = (enum stix_tlp)sg->peer.max_tlp;
    ret = CLI_EXIT_OK;
out:
    return ret;
}

int cmd_export(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    struct store_collection *c = NULL;
    struct store_query q;
    struct export_ctx x = {stdout, 0, -1, 0, NULL};
    struct export_signed *sg = NULL;
    const char *const *types = NULL;
    char err[256], uuid[37];
    const char *dir, *coll, *peer;
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
    peer = cli_args_get(&a, "peer");
    if (cli_args_has(&a, "signed") && peer == NULL) {
        ret = cli_usage_error("export", "--signed needs --peer NAME: the bundle is for a named "
                                        "node, under its agreement");
        goto out;
    }
    if (peer != NULL && !cli_args_has(&a, "signed")) {
        ret = cli_usage_error("export", "--peer goes with --signed");
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
    if (peer != NULL) {
        sg = calloc(1, sizeof(*sg));
        if (sg == NULL) {
            cli_error("export", "out of memory");
            goto out;
        }
        if (signed_setup(dir, st, peer, sg) != CLI_EXIT_OK)
            goto out;
        x.sg = sg;
    }
    if (ctix_uuid4(uuid) != CTIX_OK) {
        cli_error("export", "cannot generate the bundle id: no randomness");
        goto out;
    }
    if (fprintf(stdout, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid) < 0)
        goto write_error;
    while (more) {
        size_t before = x.rows;

        memset(&q, 0, sizeof(q));
        q.coll_id = c->id;
        q.added_after_us = x.last_us;
        q.limit = EXPORT_PAGE;
        q.types = types;
        q.n_types = n_types;
        q.vsel = STORE_V_ALL;
        q.want_json = true;
        if (sg != NULL) {
            q.filter = export_filter;
            q.filter_ctx = sg;
        }
        more = false;
        rc = store_objs_query(st, &q, export_row, &x, &more);
        if (rc == CTIX_OK && sg != NULL)
            rc = export_sign_page(&x);
        if (sg != NULL)
            audit_sent_flush(sg);
        if (rc == CTIX_EIO && ferror(stdout))
            goto write_error;
        if (rc != CTIX_OK) {
            cli_error("export", "cannot read the collection: %s", ctix_strerror(rc));
            goto out;
        }
        if (more && x.rows == before) {
            cli_error("export", "the store said more rows follow but returned none");
            goto out;
        }
    }
    if (fputs("]}\n", stdout) == EOF || fflush(stdout) != 0)
        goto write_error;
    if (sg != NULL) {
        struct ctix_diag d;

        ctix_diag_clear(&d);
        rc = sg->audit_rc;
        if (rc == CTIX_OK)
            rc = prov_audit_sync(sg->node.audit, &d);
        if (rc != CTIX_OK) {
            cli_error("export", "audit log: %s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
            goto out;
        }
        fprintf(stderr, "export: %zu objects for peer %s, %zu withheld by policy\n", sg->n_sent,
                sg->peer.name, sg->n_denied);
    }
    ret = CLI_EXIT_OK;
    goto out;
write_error:
    cli_error("export", "cannot write to stdout: %s", strerror(errno));
out:
    if (sg != NULL) {
        for (size_t i = 0; i < sg->n_page; i++)
            json_decref(sg->page[i]);
        prov_audit_entry_cleanup(&sg->sent);
        prov_audit_close(sg->node.audit);
        prov_key_free(sg->node.key);
        free(sg);
    }
    free(c);
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
