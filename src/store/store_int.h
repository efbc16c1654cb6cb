/* store internals: the table of backend functions every store backend fills (curl's struct
 * Curl_ssl), shared by store.c, which validates arguments and dispatches, and each backend
 * (sqlite.c now, pg.c later). Never included from outside src/store/.
 *
 * A backend allocates its own state with struct store as its FIRST member, so that store.c only
 * ever sees the struct store and its ops pointer. store.c has already checked that st and every
 * pointer argument the header marks as required are not NULL before an op runs. */
#ifndef CTIX_STORE_INT_H
#define CTIX_STORE_INT_H

#include "store/store.h"

struct store_ops {
    const char *name; /* "sqlite", "postgresql" */
    enum ctix_rc (*open)(const char *where, bool create, struct store **out,
                         struct ctix_diag *diag);
    void (*close)(struct store *st);

    enum ctix_rc (*meta_set)(struct store *st, const char *key, const char *value);
    enum ctix_rc (*meta_get)(struct store *st, const char *key, char *out, size_t n);

    enum ctix_rc (*org_add)(struct store *st, const char *name, int64_t *id);
    enum ctix_rc (*org_get)(struct store *st, const char *name, struct store_org *out);
    enum ctix_rc (*org_get_by_id)(struct store *st, int64_t id, struct store_org *out);
    enum ctix_rc (*org_list)(struct store *st, struct store_org **out, size_t *n);
    enum ctix_rc (*org_set_client)(struct store *st, int64_t org_id, bool client);

    enum ctix_rc (*collection_add)(struct store *st, const struct store_collection *c);
    enum ctix_rc (*collection_get)(struct store *st, const char *id_or_alias,
                                   struct store_collection *out);
    enum ctix_rc (*collection_list)(struct store *st, struct store_collection **out, size_t *n);

    enum ctix_rc (*grant_set)(struct store *st, const char *coll_id, int64_t org_id, bool can_read,
                              bool can_write);
    enum ctix_rc (*grant_get)(struct store *st, const char *coll_id, int64_t org_id, bool *can_read,
                              bool *can_write);

    enum ctix_rc (*key_add)(struct store *st, int64_t org_id, const char *role, const char *name,
                            const unsigned char hash[STORE_HASH_LEN], int64_t *id);
    enum ctix_rc (*key_find)(struct store *st, const unsigned char hash[STORE_HASH_LEN],
                             struct store_key *out);
    enum ctix_rc (*key_list)(struct store *st, struct store_key **out, size_t *n);
    enum ctix_rc (*key_revoke)(struct store *st, int64_t id);

    /* status and cursor (a pulled page) are each NULL or written in the objects' transaction. */
    enum ctix_rc (*objs_put)(struct store *st, const char *coll_id, const struct store_obj_in *objs,
                             size_t n, enum store_put_result *results, int64_t *date_added,
                             const struct store_status_in *status,
                             const struct store_cursor_in *cursor);
    enum ctix_rc (*objs_query)(struct store *st, const struct store_query *q, store_row_cb cb,
                               void *ctx, bool *more);
    enum ctix_rc (*obj_delete)(struct store *st, const char *coll_id, const char *object_id,
                               const struct store_query *q, size_t *n_deleted);
    enum ctix_rc (*obj_prov_set)(struct store *st, const char *coll_id, const char *object_id,
                                 const char *version_key, int prov);
    enum ctix_rc (*objs_prov_settle)(struct store *st, const char *coll_id,
                                     struct store_prov_settle *v, size_t n);
    enum ctix_rc (*objs_count)(struct store *st, const char *coll_id, int64_t *n);

    enum ctix_rc (*status_put)(struct store *st, const char *status_id, int64_t org_id,
                               const char *json, size_t len);
    enum ctix_rc (*status_get)(struct store *st, const char *status_id, int64_t *org_id,
                               char **json, size_t *len);

    enum ctix_rc (*peer_add)(struct store *st, const struct store_peer *p, int64_t *id);
    /* By name, or by id when name is NULL. */
    enum ctix_rc (*peer_get)(struct store *st, const char *name, int64_t id,
                             struct store_peer *out);
    enum ctix_rc (*peer_list)(struct store *st, struct store_peer **out, size_t *n);
    enum ctix_rc (*peer_remove)(struct store *st, const char *name);
    enum ctix_rc (*peer_status_set)(struct store *st, const struct store_peer *p);
    enum ctix_rc (*peer_coll_add)(struct store *st, int64_t peer_id, const char *coll_id, int dir);
    enum ctix_rc (*peer_coll_list)(struct store *st, int64_t peer_id, struct store_peer_coll **out,
                                   size_t *n);
    enum ctix_rc (*peer_coll_cursor_set)(struct store *st, int64_t peer_id, const char *coll_id,
                                         int dir, int64_t cursor_us);

    enum ctix_rc (*trust_add)(struct store *st, const char *org, const char *pubkey);
    enum ctix_rc (*trust_list)(struct store *st, struct store_trust **out, size_t *n);

    enum ctix_rc (*outbox_add)(struct store *st, int64_t peer_id, const char *coll_id,
                               const char *json, size_t len, int64_t *id);
    enum ctix_rc (*outbox_due)(struct store *st, int64_t peer_id, int64_t now_us, size_t limit,
                               struct store_outbox **out, size_t *n);
    enum ctix_rc (*outbox_done)(struct store *st, int64_t id);
    enum ctix_rc (*outbox_retry)(struct store *st, int64_t id, int64_t next_us, const char *err);
    enum ctix_rc (*outbox_count)(struct store *st, int64_t peer_id, int64_t *n);

    enum ctix_rc (*changes_pos)(struct store *st, struct store_changes_pos *out);
    enum ctix_rc (*changes_since)(struct store *st, const char *coll_id,
                                  const struct store_changes_pos *since, store_change_cb cb,
                                  void *ctx, struct store_changes_pos *now);
    enum ctix_rc (*changes_trim)(struct store *st, int64_t upto_seq);
};

struct store {
    const struct store_ops *ops;
};

extern const struct store_ops store__sqlite_ops;

/* Test hook: makes the next store_objs_put() calls of st fail with CTIX_EIO just before storing
 * objs[at - 1] (after the earlier objects of the batch were written), so that tests can check the
 * rollback. 0 turns it off. SQLite backend only. */
void store__sqlite_fail_put_at(struct store *st, size_t at);

/* Test hook: the SQL of migrations[v] (which brings user_version v to v + 1), or NULL past the
 * last one, so that an upgrade test can build a store of an older schema. */
const char *store__sqlite_migration(size_t v);

/* The bytes of a stored JSON version differ: are they the same JSON value? (jansson) */
bool store__json_same(const char *a, size_t a_len, const char *b, size_t b_len);

#endif
