/* taxii/ private: shared between query.c, media.c, cursor.c, objects.c and taxii.c. Never
 * included from outside src/taxii/. */
#ifndef CTIX_TAXII_INT_H
#define CTIX_TAXII_INT_H

#include "auth/auth.h"
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
CTIX_MUST_CHECK enum ctix_rc
taxii__objects_add(struct store *st, const char *coll_id, json_t *objects, const char *text,
                   const struct stix_span *spans, struct taxii_add_item *items,
                   struct taxii_add_counts *counts, const struct taxii__status_req *sreq);

#endif
