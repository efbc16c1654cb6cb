/* taxii: the TAXII 2.1 API — discovery, API root, collections, objects (GET, POST), one object
 * (GET, DELETE), manifest, versions, status, and the error resource for every failure.
 *
 * taxii/ sees a request as plain data (struct taxii_request) and fills a struct taxii_response; it
 * does no socket I/O, so every endpoint can be tested and fuzzed without a server. The http/ layer
 * calls taxii_request_begin() as soon as the headers are in — so that authentication, rights, media
 * types and max_content_length are judged before any body byte is buffered — and then
 * taxii_request_handle() with the whole body. Reads splice the stored JSON into the envelope: a
 * read parses no object. */
#ifndef CTIX_TAXII_H
#define CTIX_TAXII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/base.h"
#include "stix/stix.h"
#include "store/store.h"
#include "sync/sync.h"

#define TAXII_MEDIA_TYPE      "application/taxii+json;version=2.1"
#define TAXII_STIX_MEDIA_TYPE "application/stix+json;version=2.1"

struct taxii_config {
    const char *title;       /* discovery title */
    const char *description; /* may be NULL */
    const char *contact;     /* may be NULL */
    const char *api_root;    /* path segment of the one API root, e.g. "api" → /api/ */
    size_t max_content_length;
    size_t max_page;     /* a page never holds more records than this, whatever limit asks */
    size_t default_page; /* records per page without limit */
    /* How long an authenticated key and a collection's rights may be answered from memory
     * (0: never). Grants and revocations made by another process take effect within it. */
    int64_t cache_ttl_us;
    /* The node (borrowed, must outlive the server): its organisation and policy settings decide
     * what every read may reveal; with its key, objects that local requesters post are signed;
     * with its audit log, every object served and every denial is recorded. NULL: the node's
     * organisation is read from the store (node_org), default policy, no signing, no audit. */
    const struct sync_node *node;
};

struct taxii_server;
struct taxii_req_state;

/* st is borrowed and must outlive the server. */
CTIX_MUST_CHECK enum ctix_rc taxii_server_new(struct store *st, const struct taxii_config *cfg,
                                              struct taxii_server **out);
void taxii_server_free(struct taxii_server *srv);

struct taxii_request {
    const char *method; /* "GET", "HEAD", "POST", "DELETE", … */
    const char *path;   /* percent-decoded path, without the query */
    const char *query;  /* raw query string after '?', or NULL */
    const char *accept; /* header values, NULL when absent */
    const char *content_type;
    const char *authorization;
    int64_t content_length; /* -1 when the header is absent (chunked) */
    const char *body;       /* NULL in taxii_request_begin() */
    size_t body_len;
};

struct taxii_response {
    int status;
    struct buf body;          /* JSON, or empty */
    const char *content_type; /* static string, NULL when there is no body */
    char date_first[28];      /* X-TAXII-Date-Added-First, "" when absent */
    char date_last[28];       /* X-TAXII-Date-Added-Last */
    bool www_authenticate;    /* add WWW-Authenticate: Basic realm="ctix", Bearer */
    char allow[32];           /* the Allow header of a 405 ("GET, HEAD, POST"), "" otherwise */
    char org[STORE_NAME_MAX]; /* who asked, for the access log ("-" when anonymous) */
    /* Private to taxii/: what taxii_request_begin() judged (principal, collection, rights, parsed
     * query), so that taxii_request_handle() does not authenticate twice. Freed by
     * taxii_response_cleanup(). */
    struct taxii_req_state *state;
};

void taxii_response_init(struct taxii_response *resp);
void taxii_response_cleanup(struct taxii_response *resp);

/* Judges everything that can be judged from the request line and headers. Returns true when the
 * request goes on: *max_body is then how many body bytes may be read (0 when no body is expected;
 * a body longer than max_content_length must make the caller answer with taxii_error_too_big()).
 * Returns false when resp holds the final answer (an error). */
bool taxii_request_begin(struct taxii_server *srv, const struct taxii_request *req,
                         struct taxii_response *resp, size_t *max_body);

/* Handles a request whose taxii_request_begin() returned true, with its whole body. */
void taxii_request_handle(struct taxii_server *srv, const struct taxii_request *req,
                          struct taxii_response *resp);

/* Fills resp with the TAXII error resource: {"title":…, "description":…, "http_status":"…"}. */
void taxii_error_reply(struct taxii_response *resp, int status, const char *title,
                       const char *description);
/* The 413 answer for a body that went past max_content_length while being read. */
void taxii_error_too_big(struct taxii_server *srv, struct taxii_response *resp);

/* ---- adding objects: the one ingest path, shared by POST …/objects/ and `ctix import` ---- */

enum taxii_add_outcome { TAXII_ADD_STORED, TAXII_ADD_DUPLICATE, TAXII_ADD_FAILED };

struct taxii_add_item {
    char id[300];                /* the object's id, or "" when it has none */
    char version[STORE_VER_MAX]; /* modified, else created, else the server-assigned version */
    enum taxii_add_outcome outcome;
    char message[256]; /* why it failed ("created: …"), or "" */
};

struct taxii_add_counts {
    size_t total, stored, duplicates, failed;
};

/* Validates every element of the JSON array objects as a STIX 2.1 object and stores the valid ones
 * in coll_id in one transaction. items (json_array_size(objects) entries) says what happened to
 * each; invalid objects are failures with a message naming the property and the rule, and do not
 * stop the others. Returns CTIX_OK when the transaction committed (even if some objects failed),
 * or the store's error (then nothing was stored). */
CTIX_MUST_CHECK enum ctix_rc taxii_objects_add(struct store *st, const char *coll_id,
                                               json_t *objects, struct taxii_add_item *items,
                                               struct taxii_add_counts *counts);

/* taxii_objects_add() for objects parsed with stix_container_parse_spans() from text: each object
 * is stored as its own received text (whitespace outside strings removed) instead of being
 * serialised again, which is both faster and truer to what the producer sent. spans has
 * json_array_size(objects) entries, all inside text. */
CTIX_MUST_CHECK enum ctix_rc taxii_objects_add_spans(struct store *st, const char *coll_id,
                                                     json_t *objects, const char *text,
                                                     const struct stix_span *spans,
                                                     struct taxii_add_item *items,
                                                     struct taxii_add_counts *counts);

/* taxii_objects_add_spans() (text and spans may be NULL) for objects that this node originates
 * (`ctix import` of local data, `ctix demo-data`): the valid objects, attestations excepted, are
 * signed with node->key in batches of at most PROV_BATCH_MAX, and their x-ctix-attestation
 * objects are stored in the same transaction as the objects, after them. items and counts speak
 * of the objects only. An object the signer refuses fails with the reason. node->st is the store;
 * CTIX_EINVAL without a key. */
CTIX_MUST_CHECK enum ctix_rc
taxii_objects_add_signed(const struct sync_node *node, const char *coll_id, json_t *objects,
                         const char *text, const struct stix_span *spans,
                         struct taxii_add_item *items, struct taxii_add_counts *counts);

/* ---- query strings (exposed for tests and fuzzing) ---- */

#define TAXII_QUERY_MAX_VALUES 1000

struct taxii_query {
    bool has_added_after;
    int64_t added_after_us;
    bool has_limit;
    uint64_t limit;
    char *next; /* as given, NULL when absent */
    /* match[...] lists, each value NUL-terminated inside one allocation; NULL/0 when absent. */
    char **ids;
    size_t n_ids;
    char **types;
    size_t n_types;
    char **spec_versions;
    size_t n_spec_versions;
    unsigned vsel;       /* STORE_V_* */
    char **version_keys; /* exact timestamps, normalised with stix_version_key() */
    size_t n_versions;
    bool has_version;
};

/* Parses a raw query string ("a=b&c=d", percent-encoded). Rejects a malformed value, a repeated
 * parameter, an empty list entry, "all" combined with anything, a repeated version, more than
 * TAXII_QUERY_MAX_VALUES values. allowed is a bit set of TAXII_Q_* naming the parameters the
 * endpoint accepts; others are CTIX_EINVAL except unknown match[...] fields, which are ignored.
 * On failure diag says which parameter and why. taxii_query_cleanup() always. */
#define TAXII_Q_ADDED_AFTER  0x01
#define TAXII_Q_LIMIT        0x02
#define TAXII_Q_NEXT         0x04
#define TAXII_Q_ID           0x08
#define TAXII_Q_TYPE         0x10
#define TAXII_Q_VERSION      0x20
#define TAXII_Q_SPEC_VERSION 0x40
CTIX_MUST_CHECK enum ctix_rc taxii_query_parse(const char *query, size_t len, unsigned allowed,
                                               struct taxii_query *out, struct ctix_diag *diag);
void taxii_query_cleanup(struct taxii_query *q);

#endif
