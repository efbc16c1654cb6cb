/* store.c: the public store functions. Each checks what every backend would otherwise check again
 * (NULL pointers, lengths that would not fit the fixed-size out structs) and calls the backend
 * through st->ops, so that nothing above store/ knows which database runs. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/store_int.h"

/* "postgres://…" or "postgresql://…" will select pg.c once it exists. */
static bool is_pg_url(const char *where)
{
    return strncmp(where, "postgres://", 11) == 0 || strncmp(where, "postgresql://", 13) == 0;
}

static bool fits(const char *s, size_t max)
{
    return s != NULL && strlen(s) < max;
}

/* Not empty and shorter than max (room for the NUL of the fixed-size out structs). */
static bool name_ok(const char *s, size_t max)
{
    return fits(s, max) && s[0] != '\0';
}

/* A fixed-size array field of a caller's struct is NUL-terminated. */
#define TERMINATED(a) (memchr((a), 0, sizeof(a)) != NULL)

/* enum stix_tlp's range (NONE … RED): store/ does not include stix/. */
#define TLP_MAX 5

#define PROV_ALL_MASK ((1u << (STORE_PROV_QUARANTINED + 1)) - 1)

enum ctix_rc store_open(const char *data_dir, bool create, struct store **out,
                        struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_EINVAL;

    if (data_dir == NULL || data_dir[0] == '\0' || out == NULL) {
        ctix_diag_set(diag, NULL, "no data directory given");
        goto out;
    }
    if (is_pg_url(data_dir)) {
        ctix_diag_set(diag, NULL, "this ctix was built without the PostgreSQL store");
        rc = CTIX_ENOTFOUND;
        goto out;
    }
    rc = store__sqlite_ops.open(data_dir, create, out, diag);
out:
    return rc;
}

void store_close(struct store *st)
{
    if (st != NULL) {
        st->ops->close(st);
    }
}

enum ctix_rc store_meta_set(struct store *st, const char *key, const char *value)
{
    bool bad = st == NULL || key == NULL || key[0] == '\0' || value == NULL;

    return bad ? CTIX_EINVAL : st->ops->meta_set(st, key, value);
}

enum ctix_rc store_meta_get(struct store *st, const char *key, char *out, size_t n)
{
    bool bad = st == NULL || key == NULL || out == NULL || n == 0;

    return bad ? CTIX_EINVAL : st->ops->meta_get(st, key, out, n);
}

enum ctix_rc store_org_add(struct store *st, const char *name, int64_t *id)
{
    bool bad = st == NULL || !fits(name, STORE_NAME_MAX) || name[0] == '\0';

    return bad ? CTIX_EINVAL : st->ops->org_add(st, name, id);
}

enum ctix_rc store_org_get(struct store *st, const char *name, struct store_org *out)
{
    bool bad = st == NULL || name == NULL || out == NULL;

    return bad ? CTIX_EINVAL : st->ops->org_get(st, name, out);
}

enum ctix_rc store_org_get_by_id(struct store *st, int64_t id, struct store_org *out)
{
    bool bad = st == NULL || out == NULL;

    return bad ? CTIX_EINVAL : st->ops->org_get_by_id(st, id, out);
}

enum ctix_rc store_org_list(struct store *st, struct store_org **out, size_t *n)
{
    bool bad = st == NULL || out == NULL || n == NULL;

    return bad ? CTIX_EINVAL : st->ops->org_list(st, out, n);
}

enum ctix_rc store_org_set_client(struct store *st, int64_t org_id, bool client)
{
    bool bad = st == NULL;

    return bad ? CTIX_EINVAL : st->ops->org_set_client(st, org_id, client);
}

enum ctix_rc store_collection_add(struct store *st, const struct store_collection *c)
{
    /* The struct's arrays bound every field; an unterminated one is a caller bug we refuse. */
    bool bad = st == NULL || c == NULL || c->id[0] == '\0' ||
               memchr(c->id, 0, sizeof(c->id)) == NULL ||
               memchr(c->title, 0, sizeof(c->title)) == NULL ||
               memchr(c->alias, 0, sizeof(c->alias)) == NULL ||
               memchr(c->description, 0, sizeof(c->description)) == NULL;

    return bad ? CTIX_EINVAL : st->ops->collection_add(st, c);
}

enum ctix_rc store_collection_get(struct store *st, const char *id_or_alias,
                                  struct store_collection *out)
{
    bool bad = st == NULL || id_or_alias == NULL || out == NULL;

    return bad ? CTIX_EINVAL : st->ops->collection_get(st, id_or_alias, out);
}

enum ctix_rc store_collection_list(struct store *st, struct store_collection **out, size_t *n)
{
    bool bad = st == NULL || out == NULL || n == NULL;

    return bad ? CTIX_EINVAL : st->ops->collection_list(st, out, n);
}

enum ctix_rc store_grant_set(struct store *st, const char *coll_id, int64_t org_id, bool can_read,
                             bool can_write)
{
    bool bad = st == NULL || coll_id == NULL;

    return bad ? CTIX_EINVAL : st->ops->grant_set(st, coll_id, org_id, can_read, can_write);
}

enum ctix_rc store_grant_get(struct store *st, const char *coll_id, int64_t org_id, bool *can_read,
                             bool *can_write)
{
    bool bad = st == NULL || coll_id == NULL || can_read == NULL || can_write == NULL;

    return bad ? CTIX_EINVAL : st->ops->grant_get(st, coll_id, org_id, can_read, can_write);
}

enum ctix_rc store_key_add(struct store *st, int64_t org_id, const char *role, const char *name,
                           const unsigned char hash[STORE_HASH_LEN], int64_t *id)
{
    bool bad =
        st == NULL || !fits(role, STORE_ROLE_MAX) || !fits(name, STORE_NAME_MAX) || hash == NULL;

    return bad ? CTIX_EINVAL : st->ops->key_add(st, org_id, role, name, hash, id);
}

enum ctix_rc store_key_find(struct store *st, const unsigned char hash[STORE_HASH_LEN],
                            struct store_key *out)
{
    bool bad = st == NULL || hash == NULL || out == NULL;

    return bad ? CTIX_EINVAL : st->ops->key_find(st, hash, out);
}

enum ctix_rc store_key_list(struct store *st, struct store_key **out, size_t *n)
{
    bool bad = st == NULL || out == NULL || n == NULL;

    return bad ? CTIX_EINVAL : st->ops->key_list(st, out, n);
}

enum ctix_rc store_key_revoke(struct store *st, int64_t id)
{
    bool bad = st == NULL;

    return bad ? CTIX_EINVAL : st->ops->key_revoke(st, id);
}

enum ctix_rc store_objs_put(struct store *st, const char *coll_id, const struct store_obj_in *objs,
                            size_t n, enum store_put_result *results, int64_t *date_added)
{
    return store_objs_put_status(st, coll_id, objs, n, results, date_added, NULL);
}

enum ctix_rc store_objs_put_status(struct store *st, const char *coll_id,
                                   const struct store_obj_in *objs, size_t n,
                                   enum store_put_result *results, int64_t *date_added,
                                   const struct store_status_in *status)
{
    /* Each object is checked by the backend inside the transaction, so that a bad one in the
     * middle of a batch also shows that nothing of the batch is kept. */
    bool bad = st == NULL || coll_id == NULL || (n > 0 && objs == NULL) ||
               (status != NULL && (status->status_id == NULL || status->status_id[0] == '\0' ||
                                   status->fn == NULL || results == NULL || date_added == NULL));

    return bad ? CTIX_EINVAL
               : st->ops->objs_put(st, coll_id, objs, n, results, date_added, status, NULL);
}

enum ctix_rc store_objs_put_pull(struct store *st, const char *coll_id,
                                 const struct store_obj_in *objs, size_t n,
                                 enum store_put_result *results, int64_t *date_added,
                                 const struct store_cursor_in *cursor)
{
    bool bad = st == NULL || coll_id == NULL || (n > 0 && objs == NULL) || cursor == NULL ||
               cursor->peer_id <= 0;

    return bad ? CTIX_EINVAL
               : st->ops->objs_put(st, coll_id, objs, n, results, date_added, NULL, cursor);
}

static bool list_ok(const char *const *v, size_t n)
{
    bool ok = n == 0 || v != NULL;

    for (size_t i = 0; ok && i < n; i++) {
        ok = v[i] != NULL;
    }
    return ok;
}

static bool query_ok(const struct store_query *q)
{
    return list_ok(q->ids, q->n_ids) && list_ok(q->types, q->n_types) &&
           list_ok(q->spec_versions, q->n_spec_versions) && list_ok(q->version_keys, q->n_versions);
}

enum ctix_rc store_objs_query(struct store *st, const struct store_query *q, store_row_cb cb,
                              void *ctx, bool *more)
{
    bool ignored;
    bool bad = st == NULL || q == NULL || q->coll_id == NULL || q->limit == 0 || cb == NULL ||
               !query_ok(q) || (q->prov_mask & ~PROV_ALL_MASK) != 0;

    return bad ? CTIX_EINVAL : st->ops->objs_query(st, q, cb, ctx, more != NULL ? more : &ignored);
}

enum ctix_rc store_obj_delete(struct store *st, const char *coll_id, const char *object_id,
                              const struct store_query *q, size_t *n_deleted)
{
    size_t ignored;
    bool bad = st == NULL || coll_id == NULL || object_id == NULL || (q != NULL && !query_ok(q));

    return bad ? CTIX_EINVAL
               : st->ops->obj_delete(st, coll_id, object_id, q,
                                     n_deleted != NULL ? n_deleted : &ignored);
}

enum ctix_rc store_obj_prov_set(struct store *st, const char *coll_id, const char *object_id,
                                const char *version_key, int prov)
{
    bool bad = st == NULL || coll_id == NULL || object_id == NULL || object_id[0] == '\0' ||
               (version_key != NULL && !name_ok(version_key, STORE_VER_MAX)) ||
               prov < STORE_PROV_LOCAL || prov > STORE_PROV_QUARANTINED;

    return bad ? CTIX_EINVAL : st->ops->obj_prov_set(st, coll_id, object_id, version_key, prov);
}

enum ctix_rc store_objs_prov_settle(struct store *st, const char *coll_id,
                                    struct store_prov_settle *v, size_t n)
{
    bool bad = st == NULL || coll_id == NULL || (n > 0 && v == NULL);

    for (size_t i = 0; !bad && i < n; i++) {
        bad = v[i].object_id == NULL || v[i].object_id[0] == '\0' ||
              (v[i].version_key != NULL && !name_ok(v[i].version_key, STORE_VER_MAX)) ||
              v[i].prov < STORE_PROV_LOCAL || v[i].prov > STORE_PROV_QUARANTINED;
    }
    for (size_t i = 0; !bad && i < n; i++)
        v[i].changed = false;
    return bad ? CTIX_EINVAL : st->ops->objs_prov_settle(st, coll_id, v, n);
}

enum ctix_rc store_objs_count(struct store *st, const char *coll_id, int64_t *n)
{
    bool bad = st == NULL || coll_id == NULL || n == NULL;

    return bad ? CTIX_EINVAL : st->ops->objs_count(st, coll_id, n);
}

enum ctix_rc store_status_put(struct store *st, const char *status_id, int64_t org_id,
                              const char *json, size_t len)
{
    bool bad = st == NULL || status_id == NULL || status_id[0] == '\0' || json == NULL;

    return bad ? CTIX_EINVAL : st->ops->status_put(st, status_id, org_id, json, len);
}

enum ctix_rc store_status_get(struct store *st, const char *status_id, int64_t *org_id, char **json,
                              size_t *len)
{
    int64_t ignored_org;
    size_t ignored_len;
    bool bad = st == NULL || status_id == NULL || json == NULL;

    return bad ? CTIX_EINVAL
               : st->ops->status_get(st, status_id, org_id != NULL ? org_id : &ignored_org, json,
                                     len != NULL ? len : &ignored_len);
}

/* ---- federation ---- */

static bool peer_ok(const struct store_peer *p)
{
    return p != NULL && TERMINATED(p->name) && p->name[0] != '\0' && TERMINATED(p->url) &&
           p->url[0] != '\0' && TERMINATED(p->token) && TERMINATED(p->pubkey) &&
           TERMINATED(p->last_err) && p->max_tlp >= 0 && p->max_tlp <= TLP_MAX;
}

enum ctix_rc store_peer_add(struct store *st, const struct store_peer *p, int64_t *id)
{
    bool bad = st == NULL || !peer_ok(p);

    return bad ? CTIX_EINVAL : st->ops->peer_add(st, p, id);
}

enum ctix_rc store_peer_get(struct store *st, const char *name, struct store_peer *out)
{
    bool bad = st == NULL || name == NULL || out == NULL;

    return bad ? CTIX_EINVAL : st->ops->peer_get(st, name, 0, out);
}

enum ctix_rc store_peer_get_by_id(struct store *st, int64_t id, struct store_peer *out)
{
    bool bad = st == NULL || out == NULL;

    return bad ? CTIX_EINVAL : st->ops->peer_get(st, NULL, id, out);
}

enum ctix_rc store_peer_list(struct store *st, struct store_peer **out, size_t *n)
{
    bool bad = st == NULL || out == NULL || n == NULL;

    return bad ? CTIX_EINVAL : st->ops->peer_list(st, out, n);
}

enum ctix_rc store_peer_remove(struct store *st, const char *name)
{
    bool bad = st == NULL || !name_ok(name, STORE_NAME_MAX);

    return bad ? CTIX_EINVAL : st->ops->peer_remove(st, name);
}

enum ctix_rc store_peer_status_set(struct store *st, const struct store_peer *p)
{
    bool bad = st == NULL || p == NULL || !TERMINATED(p->last_err);

    return bad ? CTIX_EINVAL : st->ops->peer_status_set(st, p);
}

static bool dir_ok(int dir)
{
    return dir == STORE_DIR_PULL || dir == STORE_DIR_PUSH;
}

enum ctix_rc store_peer_coll_add(struct store *st, int64_t peer_id, const char *coll_id, int dir)
{
    bool bad = st == NULL || !name_ok(coll_id, sizeof(((struct store_peer_coll *)0)->coll_id)) ||
               !dir_ok(dir);

    return bad ? CTIX_EINVAL : st->ops->peer_coll_add(st, peer_id, coll_id, dir);
}

enum ctix_rc store_peer_coll_cursor_set(struct store *st, int64_t peer_id, const char *coll_id,
                                        int dir, int64_t cursor_us)
{
    bool bad = st == NULL || !name_ok(coll_id, sizeof(((struct store_peer_coll *)0)->coll_id)) ||
               !dir_ok(dir) || cursor_us < -1;

    return bad ? CTIX_EINVAL : st->ops->peer_coll_cursor_set(st, peer_id, coll_id, dir, cursor_us);
}

enum ctix_rc store_peer_coll_list(struct store *st, int64_t peer_id, struct store_peer_coll **out,
                                  size_t *n)
{
    bool bad = st == NULL || out == NULL || n == NULL;

    return bad ? CTIX_EINVAL : st->ops->peer_coll_list(st, peer_id, out, n);
}

enum ctix_rc store_trust_add(struct store *st, const char *org, const char *pubkey)
{
    bool bad = st == NULL || !name_ok(org, STORE_NAME_MAX) || !name_ok(pubkey, STORE_PUBKEY_MAX);

    return bad ? CTIX_EINVAL : st->ops->trust_add(st, org, pubkey);
}

enum ctix_rc store_trust_list(struct store *st, struct store_trust **out, size_t *n)
{
    bool bad = st == NULL || out == NULL || n == NULL;

    return bad ? CTIX_EINVAL : st->ops->trust_list(st, out, n);
}

enum ctix_rc store_outbox_add(struct store *st, int64_t peer_id, const char *coll_id,
                              const char *json, size_t len, int64_t *id)
{
    bool bad = st == NULL || !name_ok(coll_id, sizeof(((struct store_outbox *)0)->coll_id)) ||
               json == NULL || len == 0;

    return bad ? CTIX_EINVAL : st->ops->outbox_add(st, peer_id, coll_id, json, len, id);
}

enum ctix_rc store_outbox_due(struct store *st, int64_t peer_id, int64_t now_us, size_t limit,
                              struct store_outbox **out, size_t *n)
{
    bool bad = st == NULL || peer_id < 0 || limit == 0 || out == NULL || n == NULL;

    return bad ? CTIX_EINVAL : st->ops->outbox_due(st, peer_id, now_us, limit, out, n);
}

void store_outbox_free(struct store_outbox *arr, size_t n)
{
    if (arr == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(arr[i].json);
    }
    free(arr);
}

enum ctix_rc store_outbox_done(struct store *st, int64_t id)
{
    bool bad = st == NULL;

    return bad ? CTIX_EINVAL : st->ops->outbox_done(st, id);
}

enum ctix_rc store_outbox_retry(struct store *st, int64_t id, int64_t next_us, const char *err)
{
    bool bad = st == NULL;

    return bad ? CTIX_EINVAL : st->ops->outbox_retry(st, id, next_us, err != NULL ? err : "");
}

enum ctix_rc store_outbox_count(struct store *st, int64_t peer_id, int64_t *n)
{
    bool bad = st == NULL || peer_id < 0 || n == NULL;

    return bad ? CTIX_EINVAL : st->ops->outbox_count(st, peer_id, n);
}

bool store__json_same(const char *a, size_t a_len, const char *b, size_t b_len)
{
    json_t *ja = NULL;
    json_t *jb = NULL;
    bool same = false;

    if (a_len == b_len && memcmp(a, b, a_len) == 0) {
        same = true;
        goto out;
    }
    ja = json_loadb(a, a_len, JSON_DECODE_ANY, NULL);
    jb = json_loadb(b, b_len, JSON_DECODE_ANY, NULL);
    same = ja != NULL && jb != NULL && json_equal(ja, jb);
out:
    json_decref(ja);
    json_decref(jb);
    return same;
}

enum ctix_rc store_changes_pos(struct store *st, struct store_changes_pos *out)
{
    bool bad = st == NULL || out == NULL;

    return bad ? CTIX_EINVAL : st->ops->changes_pos(st, out);
}

enum ctix_rc store_changes_since(struct store *st, const char *coll_id,
                                 const struct store_changes_pos *since, store_change_cb cb,
                                 void *ctx, struct store_changes_pos *now)
{
    bool bad = st == NULL || coll_id == NULL || since == NULL || cb == NULL || now == NULL ||
               since->seq < 0 || memchr(since->epoch, '\0', sizeof(since->epoch)) == NULL;

    return bad ? CTIX_EINVAL : st->ops->changes_since(st, coll_id, since, cb, ctx, now);
}

enum ctix_rc store_changes_trim(struct store *st, int64_t upto_seq)
{
    return st == NULL ? CTIX_EINVAL : st->ops->changes_trim(st, upto_seq);
}
