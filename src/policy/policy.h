/* policy: TLP 2.0 and sharing agreements — may this object go to this requester through this
 * channel? The one place every egress path asks: TAXII reads (objects, object, versions and
 * manifest alike), a peer's sync pull, a push, a signed export file, the console.
 *
 * policy/ is pure: facts in, a verdict out. It does no I/O, keeps no state, allocates nothing and
 * parses no JSON in policy_may_send(), so that a TAXII page of 1,000 objects costs 1,000 table
 * lookups. The caller fills the small structs below from what the store and auth/ already hold
 * (the store keeps the TLP of each row as policy_tlp_marked() computed it, the origin, the
 * quarantine flag). The only JSON readers are policy_tlp_marked() and policy_recipients_get(),
 * meant for the write path (once per stored version), not for each read.
 *
 * Invariants: deny by default — an unknown enum value, a missing id or a contradictory fact
 * (a node on the console, a person on a node channel) is POLICY_DENY with POLICY_R_BAD_FACTS or a
 * channel reason, never an allow. Every verdict comes with a reason whose name and text are static
 * strings, for the audit log and for messages. */
#ifndef CTIX_POLICY_H
#define CTIX_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stix/stix.h"

/* The ctix custom property naming the recipients of a TLP:RED object: a list of user names (the
 * same names as struct policy_requester.user). RED objects without it reach nobody. */
#define POLICY_RECIPIENTS_PROP "x_ctix_recipients"

/* Node settings that policy depends on. A zeroed struct is the design's default. */
struct policy_config {
    /* TLP of objects without any TLP marking; STIX_TLP_NONE means the default, AMBER. */
    enum stix_tlp unmarked;
};

/* Where a stored object came from. 0 is deliberately no value: a zeroed struct denies. */
enum policy_origin {
    POLICY_ORIGIN_LOCAL = 1, /* published on this node (by its org, its clients, its users) */
    POLICY_ORIGIN_PEER,      /* received from another node: by sync, push or an import */
};

struct policy_object {
    /* As the store keeps it: policy_tlp_marked() of the JSON, STIX_TLP_NONE when unmarked (the
     * configured default is applied at decision time, so changing it needs no rewrite). */
    enum stix_tlp tlp;
    enum policy_origin origin;
    /* POLICY_ORIGIN_PEER only: the peer it arrived from (> 0), that peer's organisation on this
     * node (> 0), and the publisher's organisation when provenance names one (0 when unknown; it
     * differs from from_org when the object was relayed through a third node). */
    int64_t from_peer;
    int64_t from_org;
    int64_t publisher_org;
    /* The signature failed or the publisher is unknown: kept for inspection, not served onward. */
    bool quarantined;
    /* TLP:RED only: the named recipients (POLICY_RECIPIENTS_PROP), borrowed; may be NULL when
     * n_recipients is 0. */
    const char *const *recipients;
    size_t n_recipients;
};

/* How the requester's organisation stands towards this node. 0 is no value (denies). */
enum policy_rel {
    POLICY_REL_ANONYMOUS = 1, /* no key: an unauthenticated reader of a public collection */
    POLICY_REL_OWN_ORG,       /* this node's own organisation (its analysts, admins, the CLI) */
    POLICY_REL_CLIENT,        /* an organisation registered as a client (constituent) of ours */
    POLICY_REL_COMMUNITY,     /* any other authenticated organisation known to this node: partner
                                 agencies' people, other members of the community */
    POLICY_REL_PEER,          /* another node (a key with role peer, a push or export target) */
};

struct policy_requester {
    enum policy_rel rel;
    int64_t org_id;  /* > 0 unless ANONYMOUS */
    int64_t peer_id; /* > 0 for POLICY_REL_PEER, else 0 */
    /* The sharing agreement with the requester's organisation: the highest TLP we send it, by any
     * path (CLEAR, GREEN, AMBER or AMBER_STRICT). STIX_TLP_NONE: no agreement. A peer needs one;
     * for people of a partner organisation (COMMUNITY) it both opens AMBER and caps everything. */
    enum stix_tlp agreement;
    /* The user's name, matched against the RED recipients; NULL for none (nodes, anonymous). */
    const char *user;
};

/* The egress path. 0 is no value (denies). Every TAXII read endpoint is POLICY_CH_TAXII: a
 * withheld object must be absent from objects, object, versions and manifest alike (and from any
 * count or header derived from them). A peer's pull over TAXII may be TAXII or SYNC_PULL. */
enum policy_channel {
    POLICY_CH_TAXII = 1, /* the TAXII API, any requester */
    POLICY_CH_CONSOLE,   /* the web console: people only */
    POLICY_CH_SYNC_PULL, /* a peer node pulling from us: nodes only */
    POLICY_CH_PUSH,      /* we push to a peer: nodes only */
    POLICY_CH_EXPORT,    /* a signed (air-gapped) export file for another node: nodes only */
};

enum policy_verdict { POLICY_ALLOW, POLICY_DENY };

/* Why. policy_reason_verdict() says which verdict each one carries. */
enum policy_reason {
    /* allow */
    POLICY_R_CLEAR,     /* clear goes to anyone */
    POLICY_R_COMMUNITY, /* green goes to the community */
    POLICY_R_OWN_ORG,   /* inside our own organisation */
    POLICY_R_CLIENT,    /* to a registered client of our organisation */
    POLICY_R_AGREEMENT, /* the sharing agreement reaches this TLP */
    POLICY_R_NAMED,     /* a named recipient of red */
    /* deny */
    POLICY_R_BAD_FACTS,        /* a missing or unknown fact */
    POLICY_R_NODE_CHANNEL,     /* sync, push and export serve only peer nodes */
    POLICY_R_NODE_CONSOLE,     /* a node does not use the console */
    POLICY_R_ORIGIN,           /* never sent back to its origin */
    POLICY_R_QUARANTINE,       /* quarantined: our own organisation only */
    POLICY_R_NO_AGREEMENT,     /* a peer without an agreement gets nothing */
    POLICY_R_CAP,              /* above the agreement with the requester's organisation */
    POLICY_R_NEED_COMMUNITY,   /* green: not to unauthenticated readers */
    POLICY_R_AMBER_AGREEMENT,  /* amber: own org, clients, or an agreement reaching amber */
    POLICY_R_STRICT_AGREEMENT, /* amber+strict: own org or an agreement reaching it */
    POLICY_R_RECV_AMBER,       /* received amber: our org and its clients only */
    POLICY_R_RECV_STRICT,      /* received amber+strict: our own org only */
    POLICY_R_RECV_NODE,        /* received amber(+strict): never to another node */
    POLICY_R_RED_NAMED,        /* red: named recipients only */
    POLICY_R_RED_NODE,         /* red: never to a node */
    POLICY_R_COUNT_
};

/* The verdict for sending obj to req through ch under cfg (NULL: defaults). *reason (if not
 * NULL) gets why. No allocation, no JSON, no I/O: safe to call per row from any thread. */
enum policy_verdict policy_may_send(const struct policy_config *cfg,
                                    const struct policy_object *obj,
                                    const struct policy_requester *req, enum policy_channel ch,
                                    enum policy_reason *reason);

/* The verdict a reason stands for; POLICY_DENY for an unknown value. */
enum policy_verdict policy_reason_verdict(enum policy_reason r);
/* A short token for key=value logs ("amber_agreement"); "unknown" for an unknown value. */
const char *policy_reason_name(enum policy_reason r);
/* A sentence for people and the audit log ("amber requires an agreement reaching amber"). */
const char *policy_reason_text(enum policy_reason r);
/* "allow" or "deny". */
const char *policy_verdict_name(enum policy_verdict v);
/* "taxii", "console", "sync-pull", "push", "export"; "unknown" otherwise. */
const char *policy_channel_name(enum policy_channel ch);

/* ---- TLP ---- */

/* The TLP that decides: marked (as stored) when it is a TLP, else cfg's unmarked default (AMBER
 * when unset). A value outside enum stix_tlp reads as RED, the strictest (fail closed). */
enum stix_tlp policy_tlp_effective(enum stix_tlp marked, const struct policy_config *cfg);

/* The TLP of one STIX object as the store should keep it: the strictest TLP among its
 * object_marking_refs and granular_markings[].marking_ref, TLP 1.0 (WHITE = CLEAR) and TLP 2.0
 * ids alike, compared without regard to case (the ids are UUIDs); a TLP marking definition
 * itself (one of the nine well-known ids) reads CLEAR when unmarked, since it is public.
 * STIX_TLP_NONE when the object carries no TLP marking (statements and other markings do not
 * count) or j is not an object. */
enum stix_tlp policy_tlp_marked(const json_t *j);

/* TLP level of a TLP 1.0 or 2.0 marking-definition id, case-insensitive; STIX_TLP_NONE else. */
enum stix_tlp policy_tlp_of_marking(const char *marking_id);

/* Parses "clear" (or "white"), "green", "amber", "amber+strict", "red", case-insensitive, with or
 * without a "tlp:" prefix, for --max-tlp and the unmarked default. false for anything else. */
bool policy_tlp_parse(const char *s, enum stix_tlp *out);

/* The RED recipients of j (POLICY_RECIPIENTS_PROP): fills out[0..cap) with pointers into j
 * (borrowed, valid while j lives) and returns how many it stored. Names past cap are dropped (they
 * are then not named: fail closed); non-string and empty entries are skipped. 0 when absent or
 * malformed. */
size_t policy_recipients_get(const json_t *j, const char **out, size_t cap);

#endif
