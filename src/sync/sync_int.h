/* sync internals shared by receive.c, client.c and runner.c; never included from outside
 * src/sync/. */
#ifndef CTIX_SYNC_INT_H
#define CTIX_SYNC_INT_H

#include "sync/sync.h"

/* The keys this node believes: every peer's node key (for the peer's organisation) and every
 * `ctix trust add` entry. A key that does not parse is skipped (logged): one bad entry must not
 * stop every verification. */
CTIX_MUST_CHECK enum ctix_rc sync__trust_load(struct store *st, struct prov_trust_table *t);

/* What verifies attestations: the trusted keys and a verifier that remembers the batch roots it
 * has checked. One per pull of a collection (a pass), not per page: a batch of the publisher's
 * spread over many pages then costs one signature check. Not thread-safe. */
struct sync__verify {
    struct prov_trust_table t;
    struct prov_verifier *v;
};
CTIX_MUST_CHECK enum ctix_rc sync__verify_init(struct store *st, struct sync__verify *vf);
void sync__verify_cleanup(struct sync__verify *vf);

/* sync_receive with the caller's verifier (vf, from sync__verify_init). When spans is not NULL,
 * spans[i] is where element i of objects is in text (sync__page_parse): a valid object is stored
 * as that text compacted (the sender's bytes, as the TAXII POST path stores them) instead of its
 * parsed tree serialised again. */
CTIX_MUST_CHECK enum ctix_rc sync__receive(const struct sync_node *node, const char *coll_id,
                                           const json_t *objects, const char *text,
                                           const struct stix_span *spans, int64_t peer_id,
                                           const struct store_cursor_in *cursor,
                                           struct sync__verify *vf, struct sync_recv_counts *counts,
                                           struct ctix_diag *diag);

/* sync__receive in two halves, so that a pull can check and verify page n+1 in another thread
 * while page n is stored. sync__prepare validates the elements (a rejected one is logged with
 * actor, the peer's name, and counted), copies each valid object's text (compacted from
 * text+spans when spans is not NULL, else serialised) and decides what the page decides alone
 * (objects against the attestations of this page, deletion statements), with v (a verifier not
 * used by another thread meanwhile). It reads no store and keeps no pointer into objects or
 * text. sync__commit makes the decisions that need stored rows, stores the page (with cursor
 * when not NULL) and settles; it runs where the store is used. *out of sync__prepare is freed
 * with sync__prep_free (also after sync__commit). */
struct sync__prep;
CTIX_MUST_CHECK enum ctix_rc sync__prepare(const json_t *objects, const char *text,
                                           const struct stix_span *spans, const char *actor,
                                           struct prov_verifier *v, struct sync__prep **out);
CTIX_MUST_CHECK enum ctix_rc sync__commit(const struct sync_node *node, const char *coll_id,
                                          struct sync__prep *pp, int64_t peer_id,
                                          const struct store_cursor_in *cursor,
                                          struct sync__verify *vf, struct sync_recv_counts *counts,
                                          struct ctix_diag *diag);
void sync__prep_free(struct sync__prep *pp);

/* Appends one audit entry when node->audit is set (errors are logged, not returned: the data
 * path goes on, and the next prov_audit_sync reports a broken log). */
void sync__audit(const struct sync_node *node, const char *event, const char *actor,
                 const char *object_id, const char *version, const char *channel,
                 const char *verdict, const char *reason);
/* Makes the entries appended so far durable (when node->audit is set). */
void sync__audit_sync(const struct sync_node *node);

/* The peer's name for logs and the audit log: "peer#ID" when it has none, "import" for 0. */
void sync__peer_name(struct store *st, int64_t peer_id, char *out, size_t n);

/* ---- the client ---- */

/* True for "application/taxii+json" with no version or version=2.1 (case and spaces aside). */
bool sync__media_ok(const char *ctype);

/* One page of a peer's objects GET, as the peer sent it. */
struct sync_page {
    json_t *objects;         /* a new reference, never NULL on success (possibly empty) */
    struct stix_span *spans; /* where each element of objects is in the body; NULL when empty */
    bool more;
    int64_t last_us; /* X-TAXII-Date-Added-Last in µs, -1 when absent */
};
/* Releases what sync__page_parse gave. */
void sync__page_cleanup(struct sync_page *pg);

/* Checks a 200 answer strictly: the media type, the body is a TAXII envelope (an object, `more`
 * a boolean when present, `objects` an array when present), X-TAXII-Date-Added-Last a timestamp
 * and present when there are objects. CTIX_EINVAL with diag otherwise. Pure: the fuzz target
 * drives it. */
CTIX_MUST_CHECK enum ctix_rc sync__page_parse(const char *body, size_t len, const char *ctype,
                                              const char *date_last, struct sync_page *out,
                                              struct ctix_diag *diag);

/* One pass over one peer (outbox, pulls, pushes, outbox), recorded in its status. CTIX_OK or the
 * failure that stopped it. */
CTIX_MUST_CHECK enum ctix_rc sync__peer_pass(const struct sync_node *node,
                                             const struct store_peer *p,
                                             const struct sync_opts *opts, struct sync_pass *pass);

#endif
