/* policy_may_send: the design's TLP table as one static table (origin x TLP x relation), plus the
 * few rules that cut across it, applied in this order:
 *   1. facts: every enum in range, the ids each relation and origin needs (else BAD_FACTS);
 *   2. channel: sync, push and export serve only peer nodes; the console serves only people;
 *   3. origin: a received object never goes back to the peer it came from, that peer's
 *      organisation, or its publisher's organisation (loops, also through a relay);
 *   4. quarantine: a quarantined object is seen only inside our own organisation;
 *   5. a peer without an agreement gets nothing;
 *   6. the table;
 *   7. the agreement caps whatever the table allowed to the requester's organisation. */
#include "policy/policy.h"

#include <string.h>

enum act {
    ACT_ALLOW, /* allow with .yes */
    ACT_DENY,  /* deny with .no */
    ACT_AGREE, /* allow with .yes when the requester's agreement reaches .need, else deny .no */
    ACT_NAMED, /* allow with NAMED when the requester's user is a named recipient, else RED_NAMED */
};

struct rule {
    enum act act;
    enum stix_tlp need;
    enum policy_reason yes, no;
};

#define ALLOW(r)                                                                                   \
    {                                                                                              \
        ACT_ALLOW, STIX_TLP_NONE, r, POLICY_R_BAD_FACTS                                            \
    }
#define DENY(r)                                                                                    \
    {                                                                                              \
        ACT_DENY, STIX_TLP_NONE, POLICY_R_BAD_FACTS, r                                             \
    }
#define AGREE(t, r)                                                                                \
    {                                                                                              \
        ACT_AGREE, t, POLICY_R_AGREEMENT, r                                                        \
    }
#define NAMED                                                                                      \
    {                                                                                              \
        ACT_NAMED, STIX_TLP_NONE, POLICY_R_NAMED, POLICY_R_RED_NAMED                               \
    }

#define N_REL 5 /* POLICY_REL_ANONYMOUS .. POLICY_REL_PEER */
#define N_TLP 5 /* STIX_TLP_CLEAR .. STIX_TLP_RED */

/* rules[origin - 1][tlp - STIX_TLP_CLEAR][rel - 1]; columns: anonymous, own org, client,
 * community, peer node. */
static const struct rule rules[2][N_TLP][N_REL] = {
    /* objects this node originated */
    {
        /* CLEAR: anyone, also unauthenticated readers */
        {ALLOW(POLICY_R_CLEAR), ALLOW(POLICY_R_CLEAR), ALLOW(POLICY_R_CLEAR), ALLOW(POLICY_R_CLEAR),
         ALLOW(POLICY_R_CLEAR)},
        /* GREEN: the community (every authenticated organisation, peers included) */
        {DENY(POLICY_R_NEED_COMMUNITY), ALLOW(POLICY_R_COMMUNITY), ALLOW(POLICY_R_COMMUNITY),
         ALLOW(POLICY_R_COMMUNITY), ALLOW(POLICY_R_COMMUNITY)},
        /* AMBER: our org and its clients, and organisations whose agreement reaches AMBER */
        {DENY(POLICY_R_AMBER_AGREEMENT), ALLOW(POLICY_R_OWN_ORG), ALLOW(POLICY_R_CLIENT),
         AGREE(STIX_TLP_AMBER, POLICY_R_AMBER_AGREEMENT),
         AGREE(STIX_TLP_AMBER, POLICY_R_AMBER_AGREEMENT)},
        /* AMBER+STRICT: our own org, or an agreement reaching AMBER+STRICT (not clients) */
        {DENY(POLICY_R_STRICT_AGREEMENT), ALLOW(POLICY_R_OWN_ORG), DENY(POLICY_R_STRICT_AGREEMENT),
         AGREE(STIX_TLP_AMBER_STRICT, POLICY_R_STRICT_AGREEMENT),
         AGREE(STIX_TLP_AMBER_STRICT, POLICY_R_STRICT_AGREEMENT)},
        /* RED: named users only, never a node */
        {DENY(POLICY_R_RED_NAMED), NAMED, NAMED, NAMED, DENY(POLICY_R_RED_NODE)},
    },
    /* objects received from another node (TLP 2.0 onward sharing) */
    {
        /* CLEAR: anywhere */
        {ALLOW(POLICY_R_CLEAR), ALLOW(POLICY_R_CLEAR), ALLOW(POLICY_R_CLEAR), ALLOW(POLICY_R_CLEAR),
         ALLOW(POLICY_R_CLEAR)},
        /* GREEN: within the community, other nodes included */
        {DENY(POLICY_R_NEED_COMMUNITY), ALLOW(POLICY_R_COMMUNITY), ALLOW(POLICY_R_COMMUNITY),
         ALLOW(POLICY_R_COMMUNITY), ALLOW(POLICY_R_COMMUNITY)},
        /* AMBER: inside our org and its registered clients; never to another node */
        {DENY(POLICY_R_RECV_AMBER), ALLOW(POLICY_R_OWN_ORG), ALLOW(POLICY_R_CLIENT),
         DENY(POLICY_R_RECV_AMBER), DENY(POLICY_R_RECV_NODE)},
        /* AMBER+STRICT: inside our own org only; never to another node */
        {DENY(POLICY_R_RECV_STRICT), ALLOW(POLICY_R_OWN_ORG), DENY(POLICY_R_RECV_STRICT),
         DENY(POLICY_R_RECV_STRICT), DENY(POLICY_R_RECV_NODE)},
        /* RED: named users only, never a node */
        {DENY(POLICY_R_RED_NAMED), NAMED, NAMED, NAMED, DENY(POLICY_R_RED_NODE)},
    },
};

static const struct {
    enum policy_verdict verdict;
    const char *name;
    const char *text;
} reasons[POLICY_R_COUNT_] = {
    [POLICY_R_CLEAR] = {POLICY_ALLOW, "clear", "clear goes to anyone"},
    [POLICY_R_COMMUNITY] = {POLICY_ALLOW, "community", "green goes to the community"},
    [POLICY_R_OWN_ORG] = {POLICY_ALLOW, "own_org", "inside our own organisation"},
    [POLICY_R_CLIENT] = {POLICY_ALLOW, "client", "to a registered client of our organisation"},
    [POLICY_R_AGREEMENT] = {POLICY_ALLOW, "agreement", "the sharing agreement reaches this TLP"},
    [POLICY_R_NAMED] = {POLICY_ALLOW, "named", "a named recipient of red"},
    [POLICY_R_BAD_FACTS] = {POLICY_DENY, "bad_facts",
                            "a missing or unknown fact: denied by default"},
    [POLICY_R_NODE_CHANNEL] = {POLICY_DENY, "node_channel",
                               "sync, push and export serve only peer nodes"},
    [POLICY_R_NODE_CONSOLE] = {POLICY_DENY, "node_console", "a node does not use the console"},
    [POLICY_R_ORIGIN] = {POLICY_DENY, "origin", "never sent back to its origin"},
    [POLICY_R_QUARANTINE] = {POLICY_DENY, "quarantine",
                             "quarantined objects are not served onward"},
    [POLICY_R_NO_AGREEMENT] = {POLICY_DENY, "no_agreement",
                               "a peer without a sharing agreement receives nothing"},
    [POLICY_R_CAP] = {POLICY_DENY, "cap",
                      "above the sharing agreement with the requester's organisation"},
    [POLICY_R_NEED_COMMUNITY] = {POLICY_DENY, "need_community",
                                 "green goes only to the community, not to anonymous readers"},
    [POLICY_R_AMBER_AGREEMENT] = {POLICY_DENY, "amber_agreement",
                                  "amber requires an agreement reaching amber"},
    [POLICY_R_STRICT_AGREEMENT] = {POLICY_DENY, "strict_agreement",
                                   "amber+strict requires our own organisation or an agreement "
                                   "reaching amber+strict"},
    [POLICY_R_RECV_AMBER] = {POLICY_DENY, "recv_amber",
                             "received amber stays inside our organisation and its clients"},
    [POLICY_R_RECV_STRICT] = {POLICY_DENY, "recv_strict",
                              "received amber+strict stays inside our own organisation"},
    [POLICY_R_RECV_NODE] = {POLICY_DENY, "recv_node",
                            "received amber is never forwarded to another node"},
    [POLICY_R_RED_NAMED] = {POLICY_DENY, "red_named", "red goes only to named recipients"},
    [POLICY_R_RED_NODE] = {POLICY_DENY, "red_node", "red is never sent to a node"},
};

static const char *const channel_names[] = {
    [POLICY_CH_TAXII] = "taxii",         [POLICY_CH_CONSOLE] = "console",
    [POLICY_CH_SYNC_PULL] = "sync-pull", [POLICY_CH_PUSH] = "push",
    [POLICY_CH_EXPORT] = "export",
};

static bool reason_valid(enum policy_reason r)
{
    return (unsigned)r < (unsigned)POLICY_R_COUNT_;
}

enum policy_verdict policy_reason_verdict(enum policy_reason r)
{
    return reason_valid(r) ? reasons[r].verdict : POLICY_DENY;
}

const char *policy_reason_name(enum policy_reason r)
{
    return reason_valid(r) ? reasons[r].name : "unknown";
}

const char *policy_reason_text(enum policy_reason r)
{
    return reason_valid(r) ? reasons[r].text : "unknown reason";
}

const char *policy_verdict_name(enum policy_verdict v)
{
    return v == POLICY_ALLOW ? "allow" : "deny";
}

const char *policy_channel_name(enum policy_channel ch)
{
    const char *s = "unknown";

    if ((unsigned)ch < CTIX_ARRAY_LEN(channel_names) && channel_names[ch] != NULL)
        s = channel_names[ch];
    return s;
}

static bool in_range(int v, int lo, int hi)
{
    return v >= lo && v <= hi;
}

/* Step 1: the facts a decision needs are all there and make sense. */
static bool facts_ok(const struct policy_config *cfg, const struct policy_object *obj,
                     const struct policy_requester *req, enum policy_channel ch)
{
    bool ok = false;

    if (obj == NULL || req == NULL)
        goto out;
    if (cfg != NULL && !in_range((int)cfg->unmarked, STIX_TLP_NONE, STIX_TLP_RED))
        goto out;
    if (!in_range((int)ch, POLICY_CH_TAXII, POLICY_CH_EXPORT) ||
        !in_range((int)obj->tlp, STIX_TLP_NONE, STIX_TLP_RED) ||
        !in_range((int)obj->origin, POLICY_ORIGIN_LOCAL, POLICY_ORIGIN_PEER) ||
        !in_range((int)req->rel, POLICY_REL_ANONYMOUS, POLICY_REL_PEER) ||
        !in_range((int)req->agreement, STIX_TLP_NONE, STIX_TLP_AMBER_STRICT))
        goto out;
    if (obj->origin == POLICY_ORIGIN_PEER && (obj->from_peer <= 0 || obj->from_org <= 0))
        goto out;
    if (obj->n_recipients > 0 && obj->recipients == NULL)
        goto out;
    if (req->rel == POLICY_REL_ANONYMOUS) {
        /* Nobody without a key has an organisation, an agreement or a name. */
        if (req->org_id != 0 || req->peer_id != 0 || req->agreement != STIX_TLP_NONE ||
            req->user != NULL)
            goto out;
    } else if (req->org_id <= 0) {
        goto out;
    }
    if ((req->rel == POLICY_REL_PEER) != (req->peer_id > 0))
        goto out;
    ok = true;
out:
    return ok;
}

static bool is_node_channel(enum policy_channel ch)
{
    return ch == POLICY_CH_SYNC_PULL || ch == POLICY_CH_PUSH || ch == POLICY_CH_EXPORT;
}

static bool is_origin(const struct policy_object *obj, const struct policy_requester *req)
{
    if (obj->origin != POLICY_ORIGIN_PEER)
        return false;
    if (req->rel == POLICY_REL_PEER && req->peer_id == obj->from_peer)
        return true;
    if (req->org_id > 0 && (req->org_id == obj->from_org || req->org_id == obj->publisher_org))
        return true;
    return false;
}

static bool is_named(const struct policy_object *obj, const char *user)
{
    size_t i;

    if (user == NULL || user[0] == '\0')
        return false;
    for (i = 0; i < obj->n_recipients; i++) {
        if (obj->recipients[i] != NULL && strcmp(obj->recipients[i], user) == 0)
            return true;
    }
    return false;
}

static enum policy_reason rule_apply(const struct rule *ru, const struct policy_object *obj,
                                     const struct policy_requester *req)
{
    enum policy_reason r = POLICY_R_BAD_FACTS;

    switch (ru->act) {
    case ACT_ALLOW:
        r = ru->yes;
        break;
    case ACT_DENY:
        r = ru->no;
        break;
    case ACT_AGREE:
        r = req->agreement >= ru->need ? ru->yes : ru->no;
        break;
    case ACT_NAMED:
        r = is_named(obj, req->user) ? ru->yes : ru->no;
        break;
    }
    return r;
}

enum policy_verdict policy_may_send(const struct policy_config *cfg,
                                    const struct policy_object *obj,
                                    const struct policy_requester *req, enum policy_channel ch,
                                    enum policy_reason *reason)
{
    enum policy_reason r;
    enum stix_tlp tlp;

    if (!facts_ok(cfg, obj, req, ch)) {
        r = POLICY_R_BAD_FACTS;
        goto out;
    }
    if (is_node_channel(ch) && req->rel != POLICY_REL_PEER) {
        r = POLICY_R_NODE_CHANNEL;
        goto out;
    }
    if (ch == POLICY_CH_CONSOLE && req->rel == POLICY_REL_PEER) {
        r = POLICY_R_NODE_CONSOLE;
        goto out;
    }
    if (is_origin(obj, req)) {
        r = POLICY_R_ORIGIN;
        goto out;
    }
    if (obj->quarantined && req->rel != POLICY_REL_OWN_ORG) {
        r = POLICY_R_QUARANTINE;
        goto out;
    }
    if (req->rel == POLICY_REL_PEER && req->agreement == STIX_TLP_NONE) {
        r = POLICY_R_NO_AGREEMENT;
        goto out;
    }
    tlp = policy_tlp_effective(obj->tlp, cfg);
    r = rule_apply(&rules[obj->origin - 1][tlp - STIX_TLP_CLEAR][req->rel - 1], obj, req);
    if (policy_reason_verdict(r) == POLICY_ALLOW && req->agreement != STIX_TLP_NONE &&
        tlp > req->agreement)
        r = POLICY_R_CAP;
out:
    if (reason != NULL)
        *reason = r;
    return policy_reason_verdict(r);
}
