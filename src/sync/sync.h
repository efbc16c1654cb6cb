/* sync: federation with peer nodes — the one receive path every object from another node takes
 * (a pulled page, a push a peer POSTs to us, a signed bundle imported from an air-gapped node),
 * the pull and push client (libcurl), and the runner that keeps peers in sync inside `ctix serve`.
 *
 * Provenance: every object a node originates travels with an x-ctix-attestation (prov/). The
 * receive path pairs objects with their attestations, verifies them against the keys this node
 * trusts (its peers' node keys and `ctix trust add` entries) and stores each version with its
 * origin (the peer it came from) and its prov state: VERIFIED, PENDING (its attestation has not
 * arrived yet: a page may end between an object and its attestation) or QUARANTINED (bad
 * signature, unknown publisher: stored, flagged, never served on). A signed deletion statement
 * from the object's own publisher deletes the object's versions and is kept, so that it travels on.
 *
 * Policy: everything this module sends (push, and what it serves nothing of: pulls are answered by
 * taxii/) asks policy/ first; every object sent and every denial goes to the audit log. */
#ifndef CTIX_SYNC_H
#define CTIX_SYNC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "policy/policy.h"
#include "prov/prov.h"
#include "store/store.h"

#define SYNC_PAGE_MAX      1000        /* objects asked for per page */
#define SYNC_BODY_MAX      (64u << 20) /* a peer's response larger than this is an error */
#define SYNC_PENDING_AFTER (10 * 60 * 1000000LL) /* µs: PENDING that long is quarantined */

/* What this node is: loaded once by `ctix serve`, `ctix sync`, `ctix import`, `ctix export`. */
struct sync_node {
    struct store *st;             /* borrowed */
    struct prov_key *key;         /* this node's key; borrowed */
    struct prov_audit_log *audit; /* borrowed; may be NULL in unit tests */
    char org[STORE_NAME_MAX];     /* this node's organisation (its publisher name) */
    int64_t org_id;
    struct policy_config policy;
};

/* Fills n from the data directory: opens nothing itself but reads node_org and its id from st;
 * key and audit are set by the caller (sync_node_load leaves them as they are, so the caller may
 * set them before or after). CTIX_ENOTFOUND when the node is not initialised. */
CTIX_MUST_CHECK enum ctix_rc sync_node_load(struct sync_node *n, struct store *st,
                                            struct ctix_diag *diag);

/* ---- the receive path ---- */

struct sync_recv_counts {
    size_t total;       /* elements of the objects array */
    size_t stored;      /* new versions stored (attestations included) */
    size_t duplicate;   /* already here */
    size_t verified;    /* objects whose attestation verified (in this call or a later page's) */
    size_t pending;     /* stored, waiting for their attestation */
    size_t quarantined; /* stored and flagged */
    size_t deleted;     /* versions removed by signed deletion statements */
    size_t rejected;    /* not valid STIX: not stored (each logged with its id and reason) */
};

/* Takes objects (a JSON array: an envelope's or a bundle's objects) received from peer_id (the
 * peer's id in the store; for a signed import, the id of the peer the bundle is attributed to, or
 * 0 = a node we have no peer entry for — then only trust entries can verify) into coll_id:
 * validates every object, verifies attestations, stores the page in ONE transaction with the cursor
 * when cursor is not NULL (store_objs_put_pull), then settles earlier PENDING versions that this
 * page's attestations speak of and applies valid deletion statements. Writes
 * "received"/"quarantined"/ "deleted" audit entries. Never stores a partial page: CTIX_OK with
 * counts, or an error with nothing stored. */
CTIX_MUST_CHECK enum ctix_rc sync_receive(const struct sync_node *node, const char *coll_id,
                                          const json_t *objects, int64_t peer_id,
                                          const struct store_cursor_in *cursor,
                                          struct sync_recv_counts *counts, struct ctix_diag *diag);

/* The pending sweep, run by sync_once and the runner: settles PENDING versions of every
 * collection whose attestation is stored by now, re-applies deletion statements left PENDING (a
 * crash between storing and applying one), and quarantines (audited) the versions still PENDING
 * that were stored before now_us - SYNC_PENDING_AFTER. now_us 0 = now. *n_quarantined (may be
 * NULL) gets how many it quarantined. */
CTIX_MUST_CHECK enum ctix_rc sync_pending_sweep(const struct sync_node *node, int64_t now_us,
                                                size_t *n_quarantined, struct ctix_diag *diag);

/* ---- requesters, for taxii/ and the CLI ---- */

/* The policy facts of a requester authenticated as an API key of organisation org_id with role
 * (auth/ roles: "admin", "analyst", "reader", "peer", "reporter"): own organisation, registered
 * client, community member, or a peer node (peer_id and agreement from the store's peer whose
 * org_id it is; a "peer" key whose organisation has no peer entry gets no agreement, so nothing).
 * user is copied by pointer (borrowed). */
CTIX_MUST_CHECK enum ctix_rc sync_requester(const struct sync_node *node, int64_t org_id,
                                            const char *role, const char *user,
                                            struct policy_requester *out);

/* The policy facts of a stored row: its TLP, origin (peer -> that peer's organisation), whether it
 * is quarantined or still pending (pending rows are withheld from other nodes like quarantined
 * ones). RED recipients are read from row->json when it is there. */
void sync_row_object(const struct sync_node *node, const struct store_row *row,
                     struct policy_object *out);

/* ---- the client: pull, push, the runner ---- */

struct sync_opts {
    int64_t interval_us;    /* between passes per peer (default 1 s) */
    int64_t timeout_us;     /* per HTTP request (default 30 s) */
    int64_t backoff_max_us; /* retries back off exponentially with jitter up to this (60 s) */
    const char *ca_file;    /* TLS: extra CA bundle for peers' certificates, or NULL */
    /* Limits, 0 for the defaults (tests lower them): the largest response body accepted
     * (SYNC_BODY_MAX), objects asked for per page (SYNC_PAGE_MAX), pages per collection in one
     * pass (10,000; the rest waits for the next pass). */
    size_t body_max;
    size_t page_limit;
    size_t max_pages;
};

struct sync_pass {
    size_t pages, objects, stored, quarantined, pushed, errors;
};

/* One pass over one peer (every pull collection, then pushes and the outbox), or over every peer
 * when peer_name is NULL: what `ctix sync` does. A failing peer is recorded in its status (and the
 * next peer still runs): CTIX_OK unless the store itself failed; pass (may be NULL) gets totals. */
CTIX_MUST_CHECK enum ctix_rc sync_once(const struct sync_node *node, const char *peer_name,
                                       const struct sync_opts *opts, struct sync_pass *pass,
                                       struct ctix_diag *diag);

/* Queues an envelope of objects for POST to a peer's collection, after the policy check of each
 * object for that peer on the push channel (denials are audited and left out; *n_queued says how
 * many went in). Delivered by the runner or the next sync_once; a failed delivery stays queued and
 * is retried with backoff. CTIX_ENOTFOUND for an unknown peer. */
CTIX_MUST_CHECK enum ctix_rc sync_push(const struct sync_node *node, const char *peer_name,
                                       const char *coll_id, const json_t *objects, size_t *n_queued,
                                       struct ctix_diag *diag);

/* Runs sync continuously inside `ctix serve`: one thread per peer, so that a slow or dead peer
 * never blocks the others; peers added or removed while it runs are picked up within a few
 * seconds. stop() returns after every thread has finished its current request. */
struct sync_runner;
CTIX_MUST_CHECK enum ctix_rc sync_runner_start(const struct sync_node *node,
                                               const struct sync_opts *opts,
                                               struct sync_runner **out);
void sync_runner_stop(struct sync_runner *r);

#endif
