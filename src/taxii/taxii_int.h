/* taxii/ private: shared between query.c, media.c, cursor.c, objects.c and taxii.c. Never
 * included from outside src/taxii/. */
#ifndef CTIX_TAXII_INT_H
#define CTIX_TAXII_INT_H

#include <pthread.h>

#include "auth/auth.h"
#include "policy/policy.h"
#include "prov/prov.h"
#include "stix/stix.h"
#include "taxii/taxii.h"

#define TAXII_NEXT_MAX     64    /* a next token is 32 characters; anything longer is forged */
#define TAXII_SECRET_LEN   32    /* HMAC key for next tokens */
#define TAXII_POST_MAX_OBJ 50000 /* objects in one POSTed envelope (status items cost memory) */
#define TAXII_RESP_MAX     (1u << 30) /* cap of a response body */

/* ---- media types (media.c) ---- */
/* True when an Accept header value names application/taxii+json with version 2.1 or none. */
bool taxii__accept_ok(const char *accept);
/* True when a POST Content-Type is application/taxii+json[;version=2.1]. */
bool taxii__content_type_ok(const char *ct);

/* ---- next tokens (cursor.c) ---- */
/* What a next token is bound to besides the cursor: the endpoint and its filters. */
struct taxii_cursor_scope {
    const char *coll_id;
    char endpoint;         /* 'o' objects, 'm' manifest, 'g' object GET, 'v' versions */
    const char *object_id; /* "" for collection-wide endpoints */
    const struct taxii_query *q;
};

/* Writes a token (NUL-terminated) for a page whose last record was added at cursor_us. */
CTIX_MUST_CHECK enum ctix_rc taxii__cursor_encode(const unsigned char key[TAXII_SECRET_LEN],
                                                  const struct taxii_cursor_scope *scope,
                                                  int64_t cursor_us, char out[TAXII_NEXT_MAX]);
/* CTIX_EINVAL when token is malformed, forged, or was made for another scope. */
CTIX_MUST_CHECK enum ctix_rc taxii__cursor_decode(const unsigned char key[TAXII_SECRET_LEN],
                                                  const struct taxii_cursor_scope *scope,
                                                  const char *token, int64_t *cursor_us);

/* ---- adding objects (objects.c) ---- */
/* The status resource of a POST, built and stored in the same transaction as its objects. */
struct taxii__status_req {
    const char *status_id;
    int64_t org_id;
    const char *request_ts; /* microsecond timestamp of the request */
    struct buf *out;        /* receives the status JSON (the 202's body) */
};

/* taxii_objects_add_spans() (text and spans may be NULL: objects are serialised again); with
 * sreq, the status resource is written to sreq->out and stored with the objects. */
/* With signer (its key not NULL), the valid objects are signed and their attestations stored in
 * the same transaction (taxii_objects_add_signed). */
CTIX_MUST_CHECK enum ctix_rc taxii__objects_add(struct store *st, const struct sync_node *signer,
                                                const char *coll_id, json_t *objects,
                                                const char *text, const struct stix_span *spans,
                                                struct taxii_add_item *items,
                                                struct taxii_add_counts *counts,
                                                const struct taxii__status_req *sreq);

/* ---- egress: policy and audit on every read (egress.c) ---- */

/* Denials already written to the audit log, so that a peer polling the same withheld objects
 * does not flood it: a direct-mapped set of 64-bit hashes of (requester org, object id,
 * version). A collision only forgets an entry (the denial is logged again later). */
#define TAXII_DENY_SLOTS 16384

struct taxii__deny_cache {
    pthread_mutex_t lock;
    uint64_t slot[TAXII_DENY_SLOTS];
};

void taxii__deny_cache_init(struct taxii__deny_cache *c);
void taxii__deny_cache_cleanup(struct taxii__deny_cache *c);

/* One request's view through policy: who asks, on which channel, and its audit batch. */
struct taxii__egress {
    const struct sync_node *node;
    struct taxii__deny_cache *denied;
    struct policy_requester req;
    enum policy_channel ch;
    const char *actor; /* the requester's organisation name, for the audit log */
    size_t n_sent, n_withheld, n_audited;
    enum policy_reason last_allow; /* why the filter let the last row through */
    enum ctix_rc audit_rc;         /* the first failure to append an entry */
    struct prov_audit_entry sent;  /* the response's objects: one "sent" entry at finish */
    uint32_t sent_reasons;         /* bit r: some object went for reason r */
};

/* Sets up e for a requester authenticated as who. CTIX_OK, or the store's error (then e denies
 * everything: zeroed facts). */
CTIX_MUST_CHECK enum ctix_rc taxii__egress_init(struct taxii__egress *e,
                                                const struct sync_node *node,
                                                struct taxii__deny_cache *denied,
                                                const struct auth_principal *who);
/* A store_query filter: true when the row may go to e's requester. Writes a "denied" audit entry
 * (once per requester org, object and version while the cache remembers it). */
bool taxii__egress_filter(void *ctx, const struct store_row *row);
/* Records that row leaves the node (in the response's "sent" audit entry, written by finish).
 * CTIX_OK, or the audit log's error: then the caller must not send it. */
CTIX_MUST_CHECK enum ctix_rc taxii__egress_sent(struct taxii__egress *e,
                                                const struct store_row *row);
/* Appends the response's "sent" entry (every object in one entry) and makes the request's audit
 * entries durable (one fdatasync); call it once after init succeeded, before the response goes
 * out. Returns the first failure. */
CTIX_MUST_CHECK enum ctix_rc taxii__egress_finish(struct taxii__egress *e);

#endif
