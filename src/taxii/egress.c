/* Policy and audit on every TAXII read. The store calls taxii__egress_filter() for each row before
 * it counts toward the page, its limit or `more`, so a withheld row is absent from objects,
 * object, versions and manifest alike, and from every header and token derived from a page. What
 * does leave is collected by taxii__egress_sent() and recorded by taxii__egress_finish() as one
 * audit entry listing every object version of the response (one entry per object cost a JSON
 * encoding, a hash and a write each: reads ran 12 times slower), made durable once per request.
 * Denials stay one entry each, once per requester while the deny cache remembers them. */
#include "taxii/taxii.h"

#include <stdio.h>
#include <string.h>

#include "prov/prov.h"
#include "taxii/taxii_int.h"

void taxii__deny_cache_init(struct taxii__deny_cache *c)
{
    memset(c->slot, 0, sizeof(c->slot));
    pthread_mutex_init(&c->lock, NULL);
}

void taxii__deny_cache_cleanup(struct taxii__deny_cache *c)
{
    pthread_mutex_destroy(&c->lock);
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull; /* a separator: ("ab","c") differs from ("a","bc") */
}

/* True the first time (org, id, version) is seen, or after the cache forgot it. */
static bool deny_first(struct taxii__deny_cache *c, int64_t org_id, const char *id,
                       const char *version)
{
    uint64_t h = 14695981039346656037ull;
    bool first;
    size_t i;

    for (int k = 0; k < 8; k++)
        h = (h ^ (((uint64_t)org_id >> (8 * k)) & 0xff)) * 1099511628211ull;
    h = fnv_str(fnv_str(h, id), version);
    if (h == 0)
        h = 1; /* 0 marks an empty slot */
    i = (size_t)(h % TAXII_DENY_SLOTS);
    pthread_mutex_lock(&c->lock);
    first = c->slot[i] != h;
    c->slot[i] = h;
    pthread_mutex_unlock(&c->lock);
    return first;
}

enum ctix_rc taxii__egress_init(struct taxii__egress *e, const struct sync_node *node,
                                struct taxii__deny_cache *denied, const struct auth_principal *who)
{
    bool peer = who->role == AUTH_ROLE_PEER;
    enum ctix_rc rc;

    memset(e, 0, sizeof(*e));
    e->node = node;
    e->denied = denied;
    e->actor = who->org_name;
    e->ch = peer ? POLICY_CH_SYNC_PULL : POLICY_CH_TAXII;
    rc = sync_requester(node, who->org_id, auth_role_name(who->role),
                        who->key_name[0] != '\0' ? who->key_name : NULL, &e->req);
    return rc;
}

/* Fills the text fields every entry of this request shares. */
static void entry_head(const struct taxii__egress *e, struct prov_audit_entry *a, const char *event,
                       enum policy_verdict v)
{
    a->time_us = ctix_now_us();
    ctix_strlcpy(a->event, event, sizeof(a->event));
    ctix_strlcpy(a->actor, e->actor, sizeof(a->actor));
    ctix_strlcpy(a->channel, policy_channel_name(e->ch), sizeof(a->channel));
    ctix_strlcpy(a->verdict, policy_verdict_name(v), sizeof(a->verdict));
}

static void audit_append(struct taxii__egress *e, struct prov_audit_entry *a)
{
    struct ctix_diag d;
    enum ctix_rc rc;

    ctix_diag_clear(&d);
    rc = prov_audit_append(e->node->audit, a, &d);
    if (rc == CTIX_OK) {
        e->n_audited++;
    } else if (e->audit_rc == CTIX_OK) {
        e->audit_rc = rc;
        ctix_log(CTIX_LOG_ERROR, "audit", "event=append_failed rc=%s msg=\"%s\"", ctix_strerror(rc),
                 d.msg);
    }
}

static void audit_denied(struct taxii__egress *e, const struct store_row *row,
                         enum policy_verdict v, enum policy_reason r)
{
    struct prov_audit_entry a;

    memset(&a, 0, sizeof(a));
    entry_head(e, &a, "denied", v);
    ctix_strlcpy(a.object_id, row->id, sizeof(a.object_id));
    ctix_strlcpy(a.version, row->version, sizeof(a.version));
    ctix_strlcpy(a.reason, policy_reason_name(r), sizeof(a.reason));
    audit_append(e, &a);
}

/* Appends the "sent" entry of the objects collected so far and empties the list. The reason is
 * the set of reasons the objects went for ("clear,agreement"), in policy's order. */
static void sent_flush(struct taxii__egress *e)
{
    struct prov_audit_entry *a = &e->sent;
    size_t len = 0;

    if (a->n_objects == 0)
        return;
    entry_head(e, a, "sent", POLICY_ALLOW);
    a->reason[0] = '\0';
    for (unsigned r = 0; r < 32 && r < POLICY_R_COUNT_; r++) {
        if (e->sent_reasons & (1u << r)) {
            int k = snprintf(a->reason + len, sizeof(a->reason) - len, "%s%s", len > 0 ? "," : "",
                             policy_reason_name((enum policy_reason)r));

            if (k > 0 && (size_t)k < sizeof(a->reason) - len)
                len += (size_t)k;
        }
    }
    audit_append(e, a);
    prov_audit_entry_cleanup(a);
    e->sent_reasons = 0;
}

bool taxii__egress_filter(void *ctx, const struct store_row *row)
{
    struct taxii__egress *e = ctx;
    struct policy_object obj;
    enum policy_reason r = POLICY_R_BAD_FACTS;
    enum policy_verdict v;

    sync_row_object(e->node, row, &obj);
    v = policy_may_send(&e->node->policy, &obj, &e->req, e->ch, &r);
    if (v == POLICY_ALLOW) {
        e->last_allow = r;
        return true;
    }
    e->n_withheld++;
    if (e->node->audit != NULL && deny_first(e->denied, e->req.org_id, row->id, row->version))
        audit_denied(e, row, v, r);
    return false;
}

enum ctix_rc taxii__egress_sent(struct taxii__egress *e, const struct store_row *row)
{
    enum ctix_rc rc = CTIX_OK;

    e->n_sent++;
    if (e->node->audit == NULL)
        goto out;
    /* The store asks the filter about a row right before handing it over. */
    if ((unsigned)e->last_allow < 32)
        e->sent_reasons |= 1u << e->last_allow;
    rc = prov_audit_entry_object_add(&e->sent, row->id, row->version);
    if (rc == CTIX_ETOOBIG) {
        /* A huge page: its objects take more than one entry. */
        sent_flush(e);
        rc = prov_audit_entry_object_add(&e->sent, row->id, row->version);
    }
    if (rc != CTIX_OK && e->audit_rc == CTIX_OK)
        e->audit_rc = rc;
    rc = e->audit_rc;
out:
    return rc;
}

enum ctix_rc taxii__egress_finish(struct taxii__egress *e)
{
    struct ctix_diag d;
    enum ctix_rc rc;

    if (e->node->audit != NULL)
        sent_flush(e);
    prov_audit_entry_cleanup(&e->sent);
    rc = e->audit_rc;
    if (e->node->audit != NULL && e->n_audited > 0) {
        ctix_diag_clear(&d);
        /* Written before the response leaves; durable within the log's sync delay (a sync per
         * response held a connection to ~140 pages/s). */
        enum ctix_rc src = prov_audit_sync_soon(e->node->audit, &d);

        if (rc == CTIX_OK)
            rc = src;
    }
    return rc;
}
