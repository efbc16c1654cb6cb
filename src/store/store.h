/* store: persistence behind one interface — organisations, collections, grants, API keys, node
 * settings, STIX objects and all their versions per collection, TAXII status resources.
 *
 * Nothing above store/ knows which database runs: SQLite (sqlite.c) is the embedded default, a
 * PostgreSQL backend (pg.c) will plug into the same struct store_ops. The store never parses STIX:
 * callers hand it the stored JSON text and the few fields it indexes. Invariants:
 *  - date_added is assigned here, in microseconds, strictly increasing per collection;
 *  - one store_objs_put() call is one transaction: a reader sees all of it or none of it, and once
 *    it returns CTIX_OK the objects survive a crash (WAL, synchronous=FULL);
 *  - reads serve the stored JSON bytes as they were stored.
 * Every function is safe to call from several threads at once on one struct store. */
#ifndef CTIX_STORE_H
#define CTIX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define STORE_NAME_MAX 256
#define STORE_DESC_MAX 2048
#define STORE_VER_MAX  64 /* a version string: a STIX timestamp */
#define STORE_ROLE_MAX 16
#define STORE_HASH_LEN 32 /* SHA-256 of an API key */

struct store;

/* Opens (create: creating if missing) the node store kept in the directory data_dir. */
CTIX_MUST_CHECK enum ctix_rc store_open(const char *data_dir, bool create, struct store **out,
                                        struct ctix_diag *diag);
/* Waits for nothing: callers stop using st first. NULL is a no-op. */
void store_close(struct store *st);

/* ---- node settings: small key/value pairs (node organisation, secrets for cursors…) ---- */
CTIX_MUST_CHECK enum ctix_rc store_meta_set(struct store *st, const char *key, const char *value);
/* CTIX_ENOTFOUND when unset; CTIX_ETOOBIG when out[n] is too small. */
CTIX_MUST_CHECK enum ctix_rc store_meta_get(struct store *st, const char *key, char *out, size_t n);

/* ---- organisations ---- */
struct store_org {
    int64_t id;
    char name[STORE_NAME_MAX];
    int64_t created_us;
    /* A registered client (constituent) of this node's own organisation — a CII owner of a
     * national CERT: received AMBER may reach it (TLP 2.0 "and its clients"). */
    bool client;
};
/* CTIX_ECONFLICT if the name exists. *id (if not NULL) gets the new id. */
CTIX_MUST_CHECK enum ctix_rc store_org_add(struct store *st, const char *name, int64_t *id);
CTIX_MUST_CHECK enum ctix_rc store_org_get(struct store *st, const char *name,
                                           struct store_org *out);
CTIX_MUST_CHECK enum ctix_rc store_org_get_by_id(struct store *st, int64_t id,
                                                 struct store_org *out);
/* *out is a new array of *n entries ordered by name (free()). */
CTIX_MUST_CHECK enum ctix_rc store_org_list(struct store *st, struct store_org **out, size_t *n);
/* Marks or unmarks an organisation as a client of this node's organisation. CTIX_ENOTFOUND. */
CTIX_MUST_CHECK enum ctix_rc store_org_set_client(struct store *st, int64_t org_id, bool client);

/* ---- collections ---- */
struct store_collection {
    char id[37]; /* UUIDv4 */
    char title[STORE_NAME_MAX];
    char alias[STORE_NAME_MAX]; /* "" when none; unique when set */
    char description[STORE_DESC_MAX];
    int64_t created_us;
};
/* CTIX_ECONFLICT if the id or the alias is taken. */
CTIX_MUST_CHECK enum ctix_rc store_collection_add(struct store *st,
                                                  const struct store_collection *c);
/* Looks up by id, then by alias. CTIX_ENOTFOUND when neither matches. */
CTIX_MUST_CHECK enum ctix_rc store_collection_get(struct store *st, const char *id_or_alias,
                                                  struct store_collection *out);
/* *out is a new array ordered by creation (a stable order), free(). */
CTIX_MUST_CHECK enum ctix_rc store_collection_list(struct store *st, struct store_collection **out,
                                                   size_t *n);

/* ---- grants: per-collection read and write rights of an organisation ---- */
/* Sets both rights exactly (false,false removes the grant). */
CTIX_MUST_CHECK enum ctix_rc store_grant_set(struct store *st, const char *coll_id, int64_t org_id,
                                             bool can_read, bool can_write);
/* No grant reads as false,false (deny by default). */
CTIX_MUST_CHECK enum ctix_rc store_grant_get(struct store *st, const char *coll_id, int64_t org_id,
                                             bool *can_read, bool *can_write);

/* ---- API keys: only the SHA-256 of a token is ever stored ---- */
struct store_key {
    int64_t id;
    int64_t org_id;
    char role[STORE_ROLE_MAX];
    char name[STORE_NAME_MAX];
    int64_t created_us;
    bool revoked;
    unsigned char hash[STORE_HASH_LEN];
};
CTIX_MUST_CHECK enum ctix_rc store_key_add(struct store *st, int64_t org_id, const char *role,
                                           const char *name,
                                           const unsigned char hash[STORE_HASH_LEN], int64_t *id);
/* Finds the key whose hash equals hash. CTIX_ENOTFOUND if none. */
CTIX_MUST_CHECK enum ctix_rc
store_key_find(struct store *st, const unsigned char hash[STORE_HASH_LEN], struct store_key *out);
CTIX_MUST_CHECK enum ctix_rc store_key_list(struct store *st, struct store_key **out, size_t *n);
CTIX_MUST_CHECK enum ctix_rc store_key_revoke(struct store *st, int64_t id);

/* ---- objects ---- */
struct store_obj_in {
    const char *id;
    const char *type;
    const char *spec_version;
    /* The version string as written in the object (modified, else created), or NULL: the store
     * then uses the date_added of the first copy stored, and a later copy with the same id is a
     * duplicate (SCOs without created/modified). */
    const char *version;
    const char *version_key; /* stix_version_key() of version, or NULL with version */
    const char *json;
    size_t json_len;
    int tlp; /* enum stix_tlp, kept for policy/ */
    /* Federation (zero for objects originated here): the peer it was received from, and what its
     * signature check said (enum store_prov). */
    int64_t origin;
    int prov;
};

/* Where a stored version came from and what the check of its publisher's signature said. */
enum store_prov {
    STORE_PROV_LOCAL = 0,   /* originated on this node (and signed by it) */
    STORE_PROV_VERIFIED,    /* received; the publisher's signature verified */
    STORE_PROV_PENDING,     /* received; its attestation has not arrived yet */
    STORE_PROV_QUARANTINED, /* received; bad signature or unknown publisher: never served on */
};

enum store_put_result {
    STORE_PUT_STORED,
    STORE_PUT_DUPLICATE, /* the same id and version with the same JSON was already stored */
    STORE_PUT_CONFLICT,  /* the same id and version with different JSON: the first one is kept */
};

/* Stores n objects in one transaction. results[i] (n entries) says what happened to objs[i];
 * date_added (NULL or n entries) gets the date_added of each new or existing version.
 * Either every object is processed and CTIX_OK returned, or nothing is stored. */
CTIX_MUST_CHECK enum ctix_rc store_objs_put(struct store *st, const char *coll_id,
                                            const struct store_obj_in *objs, size_t n,
                                            enum store_put_result *results, int64_t *date_added);

enum store_vsel {
    STORE_V_LAST = 1,  /* the version with the greatest version_key (the default) */
    STORE_V_FIRST = 2, /* the smallest */
    STORE_V_ALL = 4,   /* every version */
};

struct store_row; /* below: the filter callback of a query sees one */

struct store_query {
    const char *coll_id;
    const char *object_id;  /* one object's versions only; NULL for the whole collection */
    int64_t added_after_us; /* strictly after; < 0 for no bound */
    size_t limit;           /* at most this many rows (> 0) */
    const char *const *ids; /* match[id]: OR-ed, n_ids = 0 for all */
    size_t n_ids;
    const char *const *types; /* match[type] */
    size_t n_types;
    const char *const *spec_versions; /* match[spec_version]; none = every spec version */
    size_t n_spec_versions;
    unsigned vsel;                   /* STORE_V_* bits; 0 with n_versions = 0 means LAST */
    const char *const *version_keys; /* exact versions, as stix_version_key() */
    size_t n_versions;
    bool want_json; /* false: row.json is NULL (manifest and versions need no bodies) */
    /* Only rows whose prov is in the mask (bit 1 << enum store_prov); 0 = any. */
    unsigned prov_mask;
    /* Policy: rows for which filter returns false are skipped as if absent — they count neither
     * toward limit nor toward *more, so a page never reveals a withheld row. NULL = all. */
    bool (*filter)(void *filter_ctx, const struct store_row *row);
    void *filter_ctx;
};

struct store_row {
    const char *id;
    const char *type;
    const char *version; /* as stored: the object's own string, or the date_added form */
    const char *spec_version;
    int64_t date_added_us;
    int tlp;
    const char *json; /* NULL unless want_json */
    size_t json_len;
    int64_t origin; /* 0 = local, else the peer id */
    int prov;       /* enum store_prov */
};

/* Called once per row in date_added order; the row is borrowed for the call only. A return other
 * than CTIX_OK stops the query and is returned by store_objs_query(). */
typedef enum ctix_rc (*store_row_cb)(void *ctx, const struct store_row *row);

/* Runs q: rows of coll_id that pass every filter, in ascending date_added order, at most q->limit.
 * *more is set when at least one further row matches. */
CTIX_MUST_CHECK enum ctix_rc store_objs_query(struct store *st, const struct store_query *q,
                                              store_row_cb cb, void *ctx, bool *more);

/* A status resource written in the same transaction as the objects it reports, so that a POST
 * costs one commit and one turn of the write lock. Inside store_objs_put_status(), after every
 * object was processed and before the commit, fn gets the results and date_added of all n
 * objects and returns the status JSON (*json, *len, kept by the caller until the call returns);
 * an error from fn rolls everything back. */
typedef enum ctix_rc (*store_status_fn)(void *ctx, const enum store_put_result *results,
                                        const int64_t *date_added, const char **json, size_t *len);

struct store_status_in {
    const char *status_id;
    int64_t org_id;
    store_status_fn fn;
    void *ctx;
};

/* store_objs_put() plus the status resource status (NULL: none). results and date_added must not
 * be NULL when status is given. */
CTIX_MUST_CHECK enum ctix_rc store_objs_put_status(struct store *st, const char *coll_id,
                                                   const struct store_obj_in *objs, size_t n,
                                                   enum store_put_result *results,
                                                   int64_t *date_added,
                                                   const struct store_status_in *status);

/* Deletes the versions of object_id in coll_id that q selects (q->object_id is ignored; its
 * vsel/version_keys/spec_versions apply; vsel 0 and no versions = all versions). *n_deleted gets
 * the count; CTIX_ENOTFOUND when the object has no version in the collection. One transaction. */
CTIX_MUST_CHECK enum ctix_rc store_obj_delete(struct store *st, const char *coll_id,
                                              const char *object_id, const struct store_query *q,
                                              size_t *n_deleted);

/* Sets the prov of one stored version (version_key as stix_version_key(), or NULL for every
 * version of the object). CTIX_ENOTFOUND when nothing matched. */
CTIX_MUST_CHECK enum ctix_rc store_obj_prov_set(struct store *st, const char *coll_id,
                                                const char *object_id, const char *version_key,
                                                int prov);

/* One entry of store_objs_prov_settle. */
struct store_prov_settle {
    const char *object_id;
    const char *version_key; /* stix_version_key(), or NULL for every version of the object */
    int prov;                /* enum store_prov to give it */
    bool changed;            /* out: a PENDING version of it took prov */
};

/* Settles many stored versions in ONE transaction (one sync to disk, where store_obj_prov_set
 * costs one each): the versions v[i] names that are still STORE_PROV_PENDING take v[i].prov, in
 * the order given; versions that are not PENDING are left as they are, and an entry that matches
 * nothing (deleted meanwhile) is not an error. v[i].changed says whether it changed a row.
 * CTIX_ENOTFOUND when coll_id does not exist; nothing is changed on failure. */
CTIX_MUST_CHECK enum ctix_rc store_objs_prov_settle(struct store *st, const char *coll_id,
                                                    struct store_prov_settle *v, size_t n);

/* Number of stored versions in a collection (all versions). */
CTIX_MUST_CHECK enum ctix_rc store_objs_count(struct store *st, const char *coll_id, int64_t *n);

/* ---- TAXII status resources, kept as the JSON the API serves ---- */
CTIX_MUST_CHECK enum ctix_rc store_status_put(struct store *st, const char *status_id,
                                              int64_t org_id, const char *json, size_t len);
/* *json is a new NUL-terminated string (free()); *org_id the organisation that posted. */
CTIX_MUST_CHECK enum ctix_rc store_status_get(struct store *st, const char *status_id,
                                              int64_t *org_id, char **json, size_t *len);

/* ---- federation: peers, pull cursors, trust, outbox ---- */

#define STORE_URL_MAX    1024
#define STORE_TOKEN_MAX  256
#define STORE_PUBKEY_MAX 128

struct store_peer {
    int64_t id;
    char name[STORE_NAME_MAX];
    int64_t org_id;              /* the peer's organisation on this node (its keys belong to it) */
    char url[STORE_URL_MAX];     /* the peer's API root, e.g. https://jp.example/api/ */
    char token[STORE_TOKEN_MAX]; /* what we present to it: a secret, never logged or printed */
    char pubkey[STORE_PUBKEY_MAX]; /* its node's Ed25519 public key, prov/ text form */
    int max_tlp;                   /* enum stix_tlp: the agreement — the most we send its org */
    int64_t created_us;
    /* status, kept by sync/ */
    int64_t last_ok_us, last_err_us; /* 0 = never */
    char last_err[256];
    int64_t n_errors, n_received, n_sent, n_quarantined;
    int64_t lag_objects, lag_us; /* behind the peer, as of the last pass */
};

/* CTIX_ECONFLICT if the name is taken; *id gets the new id. Status fields are ignored. */
CTIX_MUST_CHECK enum ctix_rc store_peer_add(struct store *st, const struct store_peer *p,
                                            int64_t *id);
CTIX_MUST_CHECK enum ctix_rc store_peer_get(struct store *st, const char *name,
                                            struct store_peer *out);
CTIX_MUST_CHECK enum ctix_rc store_peer_get_by_id(struct store *st, int64_t id,
                                                  struct store_peer *out);
/* Every peer, ordered by name (an organisation may run several nodes, each a peer): *out is a
 * new array, free(). */
CTIX_MUST_CHECK enum ctix_rc store_peer_list(struct store *st, struct store_peer **out, size_t *n);
/* Removes the peer, its collections, cursors and queued pushes. CTIX_ENOTFOUND. */
CTIX_MUST_CHECK enum ctix_rc store_peer_remove(struct store *st, const char *name);
/* Writes the status fields of p (by p->id); the other fields are not changed. CTIX_ENOTFOUND. */
CTIX_MUST_CHECK enum ctix_rc store_peer_status_set(struct store *st, const struct store_peer *p);

enum store_dir { STORE_DIR_PULL = 1, STORE_DIR_PUSH = 2 };

/* One collection exchanged with a peer. For a pull, the remote collection's objects go into the
 * local collection of the same id, and cursor_us is the peer's date_added of the last object
 * stored (-1 = from the beginning): the next pass asks for added_after = cursor_us. */
struct store_peer_coll {
    int64_t peer_id;
    char coll_id[37];
    int dir; /* enum store_dir */
    int64_t cursor_us;
};
/* Idempotent (an existing pair keeps its cursor); a new one starts at -1. dir must be a
 * STORE_DIR_*; CTIX_ENOTFOUND for an unknown peer. */
CTIX_MUST_CHECK enum ctix_rc store_peer_coll_add(struct store *st, int64_t peer_id,
                                                 const char *coll_id, int dir);
/* The collections of peer_id (0 = of every peer), ordered by peer, collection and dir: *out is a
 * new array, free(). */
CTIX_MUST_CHECK enum ctix_rc store_peer_coll_list(struct store *st, int64_t peer_id,
                                                  struct store_peer_coll **out, size_t *n);

/* Moves the cursor of (peer_id, coll_id, dir) to cursor_us. For a push, the local date_added of
 * the last object handed to the push queue; a pull's cursor moves with its page
 * (store_objs_put_pull), this is for repairs and tests. CTIX_ENOTFOUND when the pair is not
 * exchanged in that direction. */
CTIX_MUST_CHECK enum ctix_rc store_peer_coll_cursor_set(struct store *st, int64_t peer_id,
                                                        const char *coll_id, int dir,
                                                        int64_t cursor_us);

/* A pulled page: stores objs into coll_id (as store_objs_put) and moves the cursor of
 * (peer_id, coll_id, pull) to cursor_us in the same transaction, so that a crash leaves either
 * both or neither — nothing lost, nothing stored twice. The objects' origin and prov are the
 * callers' (store_obj_in). CTIX_ENOTFOUND, and nothing stored, when the peer does not pull coll_id
 * (store_peer_coll_add), e.g. it was removed meanwhile. */
struct store_cursor_in {
    int64_t peer_id;
    int64_t cursor_us;
};
CTIX_MUST_CHECK enum ctix_rc store_objs_put_pull(struct store *st, const char *coll_id,
                                                 const struct store_obj_in *objs, size_t n,
                                                 enum store_put_result *results,
                                                 int64_t *date_added,
                                                 const struct store_cursor_in *cursor);

/* Publishers whose signed objects we accept, also through a third node: (organisation name,
 * public key). A peer's own key is trusted for its organisation without an entry here. */
struct store_trust {
    char org[STORE_NAME_MAX];
    char pubkey[STORE_PUBKEY_MAX];
    int64_t created_us;
};
/* Idempotent. */
CTIX_MUST_CHECK enum ctix_rc store_trust_add(struct store *st, const char *org, const char *pubkey);
CTIX_MUST_CHECK enum ctix_rc store_trust_list(struct store *st, struct store_trust **out,
                                              size_t *n);

/* The durable push queue: an envelope waiting to be POSTed to a peer's collection. */
struct store_outbox {
    int64_t id;
    int64_t peer_id;
    char coll_id[37];
    char *json; /* the envelope; owned by the array returned (freed by store_outbox_free) */
    size_t json_len;
    int attempts;
    int64_t next_us; /* not before */
    char last_err[256];
};
/* A new entry is due at once (next_us 0). CTIX_ENOTFOUND for an unknown peer. */
CTIX_MUST_CHECK enum ctix_rc store_outbox_add(struct store *st, int64_t peer_id,
                                              const char *coll_id, const char *json, size_t len,
                                              int64_t *id);
/* Entries of peer_id (0 = all) due at now_us (next_us <= now_us), oldest first, at most limit
 * (> 0): *out is a new array of *n entries, store_outbox_free(). */
CTIX_MUST_CHECK enum ctix_rc store_outbox_due(struct store *st, int64_t peer_id, int64_t now_us,
                                              size_t limit, struct store_outbox **out, size_t *n);
void store_outbox_free(struct store_outbox *arr, size_t n);
/* Delivered: removes it. CTIX_ENOTFOUND. */
CTIX_MUST_CHECK enum ctix_rc store_outbox_done(struct store *st, int64_t id);
/* Failed again: attempts + 1, next try at next_us, the error kept (its first 255 bytes; NULL
 * for none). CTIX_ENOTFOUND. */
CTIX_MUST_CHECK enum ctix_rc store_outbox_retry(struct store *st, int64_t id, int64_t next_us,
                                                const char *err);
/* Entries waiting for peer_id (0 = all). */
CTIX_MUST_CHECK enum ctix_rc store_outbox_count(struct store *st, int64_t peer_id, int64_t *n);

/* ---- the change log: what changed in a collection since a point, for caches kept outside
 * the store (the scanner's index cache). Every write that changes what a query of a collection
 * returns — a version stored (store_objs_put and its _status/_pull forms), a version's prov set
 * (store_obj_prov_set) or settled (store_objs_prov_settle), versions deleted (store_obj_delete) —
 * notes the object's id in the same transaction. ---- */

/* A point in the log. epoch names the log (each store has its own); seq orders the changes. */
struct store_changes_pos {
    char epoch[33];
    int64_t seq;
};

/* The point the log has reached. What a reader sees after this call reflects every change up to
 * it: a cache built from reads made after it, marked with it, misses nothing before it (changes
 * during the build may be seen twice, which is harmless to replay). */
CTIX_MUST_CHECK enum ctix_rc store_changes_pos(struct store *st, struct store_changes_pos *out);

/* Receives one object id (borrowed for the call); a return other than CTIX_OK stops. */
typedef enum ctix_rc (*store_change_cb)(void *ctx, const char *object_id);

/* Calls cb once for each object of coll_id changed after since, in no particular order, and sets
 * *now to the point these changes reach (one snapshot: nothing falls between). CTIX_ECONFLICT
 * when since cannot be followed — another store's epoch, a point trimmed away, or one past the
 * end (a store restored from an older copy): the caller must rebuild from scratch.
 * CTIX_ENOTFOUND for an unknown collection. */
CTIX_MUST_CHECK enum ctix_rc store_changes_since(struct store *st, const char *coll_id,
                                                 const struct store_changes_pos *since,
                                                 store_change_cb cb, void *ctx,
                                                 struct store_changes_pos *now);

/* Forgets the changes up to upto_seq (at most the point reached), so that the log stays small;
 * positions before it then get CTIX_ECONFLICT. Nothing calls it on its own yet. */
CTIX_MUST_CHECK enum ctix_rc store_changes_trim(struct store *st, int64_t upto_seq);

#endif
