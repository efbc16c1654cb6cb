/* `ctix peer add|list|remove|preview`: the other nodes this node federates with. A peer is its
 * API root URL, the token we present to it (a secret: stored, never printed back), its node's
 * public key, the collections we pull from it and push to it, and the agreement — the highest TLP
 * we send to its organisation by any path. */
#include "cli/cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy.h"
#include "prov/prov.h"
#include "sync/sync.h"

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE}, {"name", CLI_OPT_VALUE},  {"org", CLI_OPT_VALUE},
    {"url", CLI_OPT_VALUE},  {"token", CLI_OPT_VALUE}, {"pubkey", CLI_OPT_VALUE},
    {"pull", CLI_OPT_LIST},  {"push", CLI_OPT_LIST},   {"max-tlp", CLI_OPT_VALUE},
};

enum peer_sub { PEER_ADD, PEER_LIST, PEER_REMOVE, PEER_PREVIEW };

#define PREVIEW_FIRST 10 /* objects listed per collection by preview */
#define PREVIEW_PAGE  5000

/* What add stores, checked before the store is opened. */
struct peer_spec {
    const char *name, *org, *token;
    char url[STORE_URL_MAX];
    char pubkey[PROV_PUBKEY_TEXT];
    enum stix_tlp max_tlp;
    const char *const *pull, *const *push;
    size_t n_pull, n_push;
};

/* The peer's API root: http or https, a host, and a path (the API root, e.g. /api/), to which a
 * missing final slash is added. A discovery URL (/taxii2/) or a bare host is refused with a hint,
 * since the sync client appends collections/... to this URL. */
static bool url_check(const char *in, char *out, size_t n, char *why, size_t whylen)
{
    const char *host, *path;
    size_t len = strlen(in);

    if (strncasecmp(in, "http://", 7) == 0)
        host = in + 7;
    else if (strncasecmp(in, "https://", 8) == 0)
        host = in + 8;
    else {
        snprintf(why, whylen, "--url: '%s' is not an http:// or https:// URL", in);
        return false;
    }
    for (const char *p = in; *p != '\0'; p++) {
        if (!isgraph((unsigned char)*p) || *p == '?' || *p == '#') {
            snprintf(why, whylen, "--url: no spaces, control characters, query or fragment");
            return false;
        }
    }
    path = strchr(host, '/');
    if (path == host || *host == '\0') {
        snprintf(why, whylen, "--url: '%s' has no host", in);
        return false;
    }
    if (path == NULL || strcmp(path, "/") == 0) {
        snprintf(why, whylen,
                 "--url: '%s' names no API root: give the peer's API root, e.g. "
                 "http://HOST:PORT/api/",
                 in);
        return false;
    }
    if (strstr(path, "/taxii2") == path) {
        snprintf(why, whylen,
                 "--url: '%s' is the discovery URL; give the API root, e.g. http://HOST:PORT/api/",
                 in);
        return false;
    }
    if (len + 2 > n || len + 2 > STORE_URL_MAX) {
        snprintf(why, whylen, "--url: longer than %d bytes", STORE_URL_MAX - 2);
        return false;
    }
    snprintf(out, n, "%s%s", in, in[len - 1] == '/' ? "" : "/");
    return true;
}

/* A token is what the peer's `ctix key add` printed: printable ASCII without spaces. */
static bool token_valid(const char *s)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        if (!isgraph((unsigned char)s[n]))
            return false;
    }
    return n > 0 && n < STORE_TOKEN_MAX;
}

static const char *tlp_label(int tlp)
{
    return tlp == STIX_TLP_NONE ? "unmarked" : stix_tlp_name((enum stix_tlp)tlp);
}

/* Gathers and checks every option of add; a usage error is returned as CLI_EXIT_USAGE. */
static int add_spec(const struct cli_args *a, struct peer_spec *sp)
{
    struct prov_pubkey pk;
    struct ctix_diag d;
    const char *url = cli_args_get(a, "url"), *key = cli_args_get(a, "pubkey");
    const char *tlp = cli_args_get(a, "max-tlp");
    char why[512];
    static const char *const need[] = {"name", "org", "url", "token", "pubkey"};

    for (size_t i = 0; i < CTIX_ARRAY_LEN(need); i++) {
        if (cli_args_get(a, need[i]) == NULL)
            return cli_usage_error("peer", "peer add: missing --%s", need[i]);
    }
    sp->name = cli_args_get(a, "name");
    sp->org = cli_args_get(a, "org");
    sp->token = cli_args_get(a, "token");
    if (!cli_name_valid(sp->name) || !cli_name_valid(sp->org))
        return cli_usage_error("peer",
                               "--name, --org: 1 to %d characters without control "
                               "characters",
                               STORE_NAME_MAX - 1);
    if (!url_check(url, sp->url, sizeof(sp->url), why, sizeof(why)))
        return cli_usage_error("peer", "%s", why);
    if (!token_valid(sp->token))
        return cli_usage_error("peer", "--token: 1 to %d printable characters without spaces",
                               STORE_TOKEN_MAX - 1);
    ctix_diag_clear(&d);
    if (prov_pubkey_parse(key, &pk, &d) != CTIX_OK)
        return cli_usage_error("peer", "--pubkey: %s", d.msg);
    prov_pubkey_format(&pk, sp->pubkey);
    /* No agreement given: CLEAR, the least — deny by default; a wider one is a decision. */
    sp->max_tlp = STIX_TLP_CLEAR;
    if (tlp != NULL && (!policy_tlp_parse(tlp, &sp->max_tlp) || sp->max_tlp == STIX_TLP_RED))
        return cli_usage_error("peer",
                               "--max-tlp: clear, green, amber or amber+strict (red is never "
                               "sent to a node), not '%s'",
                               tlp);
    sp->n_pull = cli_args_list(a, "pull", &sp->pull);
    sp->n_push = cli_args_list(a, "push", &sp->push);
    for (size_t i = 0; i < sp->n_pull + sp->n_push; i++) {
        const char *id = i < sp->n_pull ? sp->pull[i] : sp->push[i - sp->n_pull];

        if (!ctix_uuid_valid(id, false))
            return cli_usage_error("peer",
                                   "--%s: '%s' is not a collection id (the peer's collection "
                                   "UUID)",
                                   i < sp->n_pull ? "pull" : "push", id);
    }
    return CLI_EXIT_OK;
}

/* The local collection a pull fills: the peer's collection id, created when missing and readable
 * and writable by this node's organisation, so that its people see what arrives. */
static int pull_coll_ensure(struct store *st, const char *id, const char *peer, int64_t node_org)
{
    struct store_collection c;
    enum ctix_rc rc;

    rc = store_collection_get(st, id, &c);
    if (rc == CTIX_OK)
        return CLI_EXIT_OK;
    if (rc != CTIX_ENOTFOUND) {
        cli_error("peer", "cannot read collection %s: %s", id, ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    memset(&c, 0, sizeof(c));
    ctix_strlcpy(c.id, id, sizeof(c.id));
    for (size_t i = 0; c.id[i] != '\0'; i++)
        c.id[i] = (char)tolower((unsigned char)c.id[i]);
    snprintf(c.title, sizeof(c.title), "from %s", peer);
    rc = store_collection_add(st, &c);
    if (rc == CTIX_OK)
        rc = store_grant_set(st, c.id, node_org, true, true);
    if (rc != CTIX_OK) {
        cli_error("peer", "cannot create collection %s: %s", id, ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    printf("created collection %s \"%s\"\n", c.id, c.title);
    return CLI_EXIT_OK;
}

/* A peer given our own key would have its objects verify as ours: a typo caught early. */
static bool own_key_is(const char *dir, const char *text)
{
    struct prov_key *k = NULL;
    char own[PROV_PUBKEY_TEXT];
    bool same = false;

    if (prov_key_load(dir, &k, NULL) == CTIX_OK) {
        prov_pubkey_format(prov_key_public(k), own);
        same = strcmp(own, text) == 0;
    }
    prov_key_free(k);
    return same;
}

static int peer_add(struct store *st, const char *dir, const struct peer_spec *sp)
{
    struct store_peer p;
    struct store_org org;
    char node_org[STORE_NAME_MAX];
    struct store_org self;
    int64_t id = 0;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    memset(&p, 0, sizeof(p));
    if (store_meta_get(st, "node_org", node_org, sizeof(node_org)) != CTIX_OK ||
        store_org_get(st, node_org, &self) != CTIX_OK) {
        cli_error("peer", "the node has no organisation (create it with 'ctix init')");
        goto out;
    }
    if (strcmp(sp->org, node_org) == 0) {
        cli_error("peer", "--org: '%s' is this node's own organisation; a peer is another one",
                  sp->org);
        goto out;
    }
    if (own_key_is(dir, sp->pubkey)) {
        cli_error("peer", "--pubkey: that is this node's own key; give the peer's (its 'ctix node "
                          "show' prints it)");
        goto out;
    }
    rc = store_peer_get(st, sp->name, &p);
    if (rc == CTIX_OK) {
        cli_error("peer", "peer '%s' already exists (remove it first to change it)", sp->name);
        goto out;
    }
    rc = store_org_get(st, sp->org, &org);
    if (rc == CTIX_ENOTFOUND) {
        rc = store_org_add(st, sp->org, &org.id);
        if (rc == CTIX_OK)
            printf("created organisation '%s'\n", sp->org);
    }
    if (rc != CTIX_OK) {
        cli_error("peer", "cannot add organisation '%s': %s", sp->org, ctix_strerror(rc));
        goto out;
    }
    memset(&p, 0, sizeof(p));
    ctix_strlcpy(p.name, sp->name, sizeof(p.name));
    p.org_id = org.id;
    ctix_strlcpy(p.url, sp->url, sizeof(p.url));
    ctix_strlcpy(p.token, sp->token, sizeof(p.token));
    ctix_strlcpy(p.pubkey, sp->pubkey, sizeof(p.pubkey));
    p.max_tlp = (int)sp->max_tlp;
    rc = store_peer_add(st, &p, &id);
    if (rc == CTIX_ECONFLICT) {
        cli_error("peer", "peer '%s' already exists", sp->name);
        goto out;
    }
    if (rc != CTIX_OK) {
        cli_error("peer", "cannot add peer '%s': %s", sp->name, ctix_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < sp->n_pull; i++) {
        if (pull_coll_ensure(st, sp->pull[i], sp->name, self.id) != CLI_EXIT_OK)
            goto out;
    }
    for (size_t i = 0; i < sp->n_pull + sp->n_push; i++) {
        bool pull = i < sp->n_pull;
        char cid[37];

        ctix_strlcpy(cid, pull ? sp->pull[i] : sp->push[i - sp->n_pull], sizeof(cid));
        for (size_t j = 0; cid[j] != '\0'; j++)
            cid[j] = (char)tolower((unsigned char)cid[j]);
        rc = store_peer_coll_add(st, id, cid, pull ? STORE_DIR_PULL : STORE_DIR_PUSH);
        if (rc != CTIX_OK) {
            cli_error("peer", "peer '%s' added, but not its collection %s: %s", sp->name, cid,
                      ctix_strerror(rc));
            goto out;
        }
    }
    printf("peer %s added: organisation '%s', agreement up to %s, %zu pulled and %zu pushed "
           "collections\n",
           sp->name, sp->org, stix_tlp_name(sp->max_tlp), sp->n_pull, sp->n_push);
    ret = CLI_EXIT_OK;
out:
    memset(&p.token, 0, sizeof(p.token));
    return ret;
}

static void when_print(const char *label, int64_t us)
{
    char t[21];

    if (us <= 0) {
        printf("  %-14s never\n", label);
        return;
    }
    cli_time_format(us, t);
    printf("  %-14s %s\n", label, t);
}

static int peer_print(struct store *st, const struct store_peer *p)
{
    struct store_peer_coll *cs = NULL;
    struct store_org org;
    size_t n = 0;
    int64_t queued = 0;
    enum ctix_rc rc;

    if (store_org_get_by_id(st, p->org_id, &org) != CTIX_OK)
        snprintf(org.name, sizeof(org.name), "#%lld", (long long)p->org_id);
    rc = store_peer_coll_list(st, p->id, &cs, &n);
    if (rc == CTIX_OK)
        rc = store_outbox_count(st, p->id, &queued);
    if (rc != CTIX_OK) {
        cli_error("peer", "cannot read peer '%s': %s", p->name, ctix_strerror(rc));
        free(cs);
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", p->name);
    printf("  %-14s %s\n", "organisation", org.name);
    printf("  %-14s %s\n", "url", p->url);
    printf("  %-14s %s\n", "pubkey", p->pubkey);
    printf("  %-14s up to %s\n", "agreement", stix_tlp_name((enum stix_tlp)p->max_tlp));
    for (size_t i = 0; i < n; i++) {
        char t[21];

        if (cs[i].dir == STORE_DIR_PULL && cs[i].cursor_us >= 0) {
            cli_time_format(cs[i].cursor_us, t);
            printf("  %-14s %s (up to %s)\n", "pull", cs[i].coll_id, t);
        } else {
            printf("  %-14s %s\n", cs[i].dir == STORE_DIR_PULL ? "pull" : "push", cs[i].coll_id);
        }
    }
    when_print("last success", p->last_ok_us);
    if (p->last_err_us > 0) {
        char t[21];

        cli_time_format(p->last_err_us, t);
        printf("  %-14s %s %s\n", "last error", t, p->last_err);
    } else {
        printf("  %-14s none\n", "last error");
    }
    printf("  %-14s %lld objects, %.1f s\n", "lag", (long long)p->lag_objects,
           (double)p->lag_us / 1e6);
    printf("  %-14s %lld received, %lld sent, %lld errors, %lld quarantined\n", "totals",
           (long long)p->n_received, (long long)p->n_sent, (long long)p->n_errors,
           (long long)p->n_quarantined);
    printf("  %-14s %lld\n", "queued pushes", (long long)queued);
    free(cs);
    return CLI_EXIT_OK;
}

static int peer_list(struct store *st)
{
    struct store_peer *ps = NULL;
    size_t n = 0;
    int ret = CLI_EXIT_OK;
    enum ctix_rc rc;

    rc = store_peer_list(st, &ps, &n);
    if (rc != CTIX_OK) {
        cli_error("peer", "cannot list peers: %s", ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < n && ret == CLI_EXIT_OK; i++)
        ret = peer_print(st, &ps[i]);
    for (size_t i = 0; i < n; i++)
        memset(ps[i].token, 0, sizeof(ps[i].token));
    free(ps);
    return ret;
}

static int peer_remove(struct store *st, const char *name)
{
    enum ctix_rc rc = store_peer_remove(st, name);

    if (rc == CTIX_ENOTFOUND) {
        cli_error("peer", "no peer '%s'", name);
        return CLI_EXIT_FAIL;
    }
    if (rc != CTIX_OK) {
        cli_error("peer", "cannot remove peer '%s': %s", name, ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* ---- preview: the policy verdict for every row, as a pull by that peer would get it ---- */

struct preview {
    const struct sync_node *node;
    const struct policy_requester *req;
    size_t allowed[STIX_TLP_RED + 1], denied[STIX_TLP_RED + 1];
    size_t n_first;
    char first[PREVIEW_FIRST][STIX_ID_MAX + 80];
    int64_t last_us;
    size_t rows;
};

static enum ctix_rc preview_row(void *ctx, const struct store_row *row)
{
    struct preview *pv = ctx;
    struct policy_object obj;
    int tlp = row->tlp >= STIX_TLP_NONE && row->tlp <= STIX_TLP_RED ? row->tlp : STIX_TLP_RED;

    pv->last_us = row->date_added_us;
    pv->rows++;
    sync_row_object(pv->node, row, &obj);
    if (policy_may_send(&pv->node->policy, &obj, pv->req, POLICY_CH_SYNC_PULL, NULL) !=
        POLICY_ALLOW) {
        pv->denied[tlp]++;
        return CTIX_OK;
    }
    pv->allowed[tlp]++;
    if (pv->n_first < PREVIEW_FIRST) {
        snprintf(pv->first[pv->n_first], sizeof(pv->first[0]), "%s %s %s %s", row->id, row->version,
                 row->type, tlp_label(tlp));
        pv->n_first++;
    }
    return CTIX_OK;
}

static int preview_coll(struct store *st, const struct store_collection *c, struct preview *pv)
{
    struct store_query q;
    size_t sent = 0, withheld = 0;
    bool more = true;
    enum ctix_rc rc = CTIX_OK;

    memset(pv->allowed, 0, sizeof(pv->allowed));
    memset(pv->denied, 0, sizeof(pv->denied));
    pv->n_first = 0;
    pv->last_us = -1;
    while (more && rc == CTIX_OK) {
        memset(&q, 0, sizeof(q));
        q.coll_id = c->id;
        q.added_after_us = pv->last_us;
        q.limit = PREVIEW_PAGE;
        q.vsel = STORE_V_ALL;
        q.want_json = true; /* RED recipients are read from the JSON */
        pv->rows = 0;
        rc = store_objs_query(st, &q, preview_row, pv, &more);
        if (pv->rows == 0)
            more = false;
    }
    if (rc != CTIX_OK) {
        cli_error("peer", "cannot read collection %s: %s", c->id, ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    for (int t = STIX_TLP_NONE; t <= STIX_TLP_RED; t++) {
        sent += pv->allowed[t];
        withheld += pv->denied[t];
    }
    printf("collection %s \"%s\": %zu object versions sent, %zu withheld\n", c->id, c->title, sent,
           withheld);
    for (int t = STIX_TLP_CLEAR; t <= STIX_TLP_RED + 1; t++) {
        int tlp = t == STIX_TLP_RED + 1 ? STIX_TLP_NONE : t; /* unmarked last */

        if (pv->allowed[tlp] + pv->denied[tlp] > 0)
            printf("  %-13s %zu sent, %zu withheld\n", tlp_label(tlp), pv->allowed[tlp],
                   pv->denied[tlp]);
    }
    for (size_t i = 0; i < pv->n_first; i++)
        printf("  %s\n", pv->first[i]);
    return CLI_EXIT_OK;
}

static int peer_preview(struct store *st, const char *name)
{
    struct sync_node node;
    struct store_peer p;
    struct store_collection *cs = NULL;
    struct store_org org;
    struct policy_requester req;
    struct preview pv;
    struct ctix_diag d;
    size_t n = 0, n_readable = 0;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    memset(&node, 0, sizeof(node));
    memset(&p, 0, sizeof(p));
    ctix_diag_clear(&d);
    rc = store_peer_get(st, name, &p);
    if (rc != CTIX_OK) {
        cli_error("peer", rc == CTIX_ENOTFOUND ? "no peer '%s'" : "cannot read peer '%s'", name);
        goto out;
    }
    rc = sync_node_load(&node, st, &d);
    if (rc == CTIX_OK)
        rc = sync_requester(&node, p.org_id, "peer", NULL, &req);
    if (rc == CTIX_OK)
        rc = store_collection_list(st, &cs, &n);
    if (rc != CTIX_OK) {
        cli_error("peer", "cannot prepare the preview: %s",
                  d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    if (store_org_get_by_id(st, p.org_id, &org) != CTIX_OK)
        snprintf(org.name, sizeof(org.name), "#%lld", (long long)p.org_id);
    printf("peer %s (organisation '%s'), agreement up to %s, channel %s\n", p.name, org.name,
           stix_tlp_name((enum stix_tlp)p.max_tlp), policy_channel_name(POLICY_CH_SYNC_PULL));
    memset(&pv, 0, sizeof(pv));
    pv.node = &node;
    pv.req = &req;
    ret = CLI_EXIT_OK;
    for (size_t i = 0; i < n && ret == CLI_EXIT_OK; i++) {
        bool rd = false, wr = false;

        /* A pull reads through the TAXII API as the peer's organisation: only collections it
         * has been granted read on exist for it. */
        if (store_grant_get(st, cs[i].id, p.org_id, &rd, &wr) != CTIX_OK || !rd)
            continue;
        n_readable++;
        ret = preview_coll(st, &cs[i], &pv);
    }
    if (ret == CLI_EXIT_OK && n_readable == 0)
        printf("no collection is readable by '%s' (grant one with 'ctix grant --read')\n",
               org.name);
out:
    memset(p.token, 0, sizeof(p.token));
    free(cs);
    return ret;
}

int cmd_peer(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    struct peer_spec spec;
    static const char *const subs[] = {"add", "list", "remove", "preview", NULL};
    const char *dir = NULL, *name = NULL;
    enum peer_sub sub;
    int ret = CLI_EXIT_USAGE, which;

    memset(&spec, 0, sizeof(spec));
    which = cli_subcommand_begin("peer", subs, opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, &dir);
    if (which < 0)
        goto out;
    sub = (enum peer_sub)which;
    if (a.n_pos != 0) {
        ret = cli_usage_error("peer", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    if (sub == PEER_ADD) {
        ret = add_spec(&a, &spec);
        if (ret != CLI_EXIT_OK)
            goto out;
    } else {
        static const char *const only_add[] = {"org",  "url",  "token",  "pubkey",
                                               "pull", "push", "max-tlp"};

        for (size_t i = 0; i < CTIX_ARRAY_LEN(only_add); i++) {
            if (cli_args_has(&a, only_add[i])) {
                ret = cli_usage_error("peer", "--%s is an option of peer add only", only_add[i]);
                goto out;
            }
        }
        name = cli_args_get(&a, "name");
        if (sub == PEER_LIST && name != NULL) {
            ret = cli_usage_error("peer", "peer list takes no --name");
            goto out;
        }
        if (sub != PEER_LIST && name == NULL) {
            ret = cli_usage_error("peer", "peer %s: missing --name", subs[which]);
            goto out;
        }
    }
    ret = cli_store_open("peer", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    switch (sub) {
    case PEER_ADD:
        ret = peer_add(st, dir, &spec);
        break;
    case PEER_LIST:
        ret = peer_list(st);
        break;
    case PEER_REMOVE:
        ret = peer_remove(st, name);
        break;
    case PEER_PREVIEW:
        ret = peer_preview(st, name);
        break;
    }
out:
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
