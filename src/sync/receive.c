/* sync: the receive path — one page (or a pushed envelope, or an imported bundle) from another
 * node: validate, pair objects with attestations, verify, store in one transaction, then settle
 * earlier PENDING versions and apply signed deletions.
 *
 * Order of work, and why:
 *  1. Everything that can be decided before writing is decided first (validation, verdicts), so
 *     that the page is one store call: all of it with the cursor, or nothing.
 *  2. What depends on rows stored earlier (a PENDING object whose attestation arrives now, a
 *     deletion of a stored object) runs after the commit, each step idempotent, so a replay after a
 *     crash does it again without harm. A deletion statement is stored PENDING and only marked
 *     VERIFIED after it has been applied: a crash in between leaves it PENDING and the pending
 *     sweep applies it again. */
#include "sync/sync.h"

#include <stdlib.h>
#include <string.h>

#include "sync/sync_int.h"

#define REASON_MAX 200

struct item {
    struct stix_obj *o; /* NULL: rejected */
    char *json;         /* what is stored */
    size_t json_len;
    char vkey[31]; /* stix_version_key of o->version ("" when none) */
    bool is_att;
    enum prov_statement statement; /* attestations only */
    const char *ref, *mod;         /* object_ref, object_modified (NULL when absent) */
    bool paired;                   /* an attestation matched an object of this page */
    bool need_stored;              /* decided against stored rows (page_decide_stored) */
    char mod_key[31];              /* stix_version_key of mod ("" when none) */
    int prov;                      /* enum store_prov decided before storing */
    char reason[REASON_MAX];       /* why it is quarantined */
    /* After the commit: set the prov of the stored version of (ref, mod) to settle_prov. */
    bool settle;
    int settle_prov;
    /* After the commit: the stored attestation (att_sid, version att_svkey) that verified this
     * object was PENDING (it came first): settle it too. */
    bool att_settle;
    char att_sid[STIX_ID_MAX];
    char att_svkey[31];
};

/* ---- shared helpers (sync_int.h) ---- */

void sync__peer_name(struct store *st, int64_t peer_id, char *out, size_t n)
{
    struct store_peer p;

    if (peer_id == 0) {
        ctix_strlcpy(out, "import", n);
    } else if (store_peer_get_by_id(st, peer_id, &p) == CTIX_OK) {
        ctix_strlcpy(out, p.name, n);
    } else {
        snprintf(out, n, "peer#%lld", (long long)peer_id);
    }
}

void sync__audit(const struct sync_node *node, const char *event, const char *actor,
                 const char *object_id, const char *version, const char *channel,
                 const char *verdict, const char *reason)
{
    struct prov_audit_entry e;
    struct ctix_diag d;

    if (node->audit == NULL)
        return;
    memset(&e, 0, sizeof(e));
    e.time_us = ctix_now_us();
    ctix_strlcpy(e.event, event, sizeof(e.event));
    ctix_strlcpy(e.actor, actor != NULL ? actor : "", sizeof(e.actor));
    ctix_strlcpy(e.object_id, object_id != NULL ? object_id : "", sizeof(e.object_id));
    ctix_strlcpy(e.version, version != NULL ? version : "", sizeof(e.version));
    ctix_strlcpy(e.channel, channel != NULL ? channel : "", sizeof(e.channel));
    ctix_strlcpy(e.verdict, verdict != NULL ? verdict : "", sizeof(e.verdict));
    ctix_strlcpy(e.reason, reason != NULL ? reason : "", sizeof(e.reason));
    if (prov_audit_append(node->audit, &e, &d) != CTIX_OK)
        ctix_log(CTIX_LOG_ERROR, "sync", "event=audit_failed what=\"%s\"", d.msg);
}

void sync__audit_sync(const struct sync_node *node)
{
    struct ctix_diag d;

    if (node->audit != NULL && prov_audit_sync(node->audit, &d) != CTIX_OK)
        ctix_log(CTIX_LOG_ERROR, "sync", "event=audit_failed what=\"%s\"", d.msg);
}

enum ctix_rc sync__trust_load(struct store *st, struct prov_trust_table *t)
{
    struct store_peer *peers = NULL;
    struct store_trust *tr = NULL;
    size_t n_peers = 0, n_tr = 0;
    enum ctix_rc rc = store_peer_list(st, &peers, &n_peers);

    if (rc != CTIX_OK)
        goto out;
    for (size_t i = 0; rc == CTIX_OK && i < n_peers; i++) {
        struct store_org org;
        struct prov_pubkey pk;
        struct ctix_diag d;

        if (peers[i].pubkey[0] == '\0')
            continue;
        if (prov_pubkey_parse(peers[i].pubkey, &pk, &d) != CTIX_OK ||
            store_org_get_by_id(st, peers[i].org_id, &org) != CTIX_OK) {
            ctix_log(CTIX_LOG_WARN, "sync", "event=bad_peer_key peer=%s", peers[i].name);
            continue;
        }
        rc = prov_trust_table_add(t, org.name, &pk);
        if (rc == CTIX_ECONFLICT || rc == CTIX_EINVAL)
            rc = CTIX_OK; /* the same node key twice (two peer entries): the first wins */
    }
    if (rc == CTIX_OK)
        rc = store_trust_list(st, &tr, &n_tr);
    for (size_t i = 0; rc == CTIX_OK && i < n_tr; i++) {
        struct prov_pubkey pk;
        struct ctix_diag d;

        if (prov_pubkey_parse(tr[i].pubkey, &pk, &d) != CTIX_OK) {
            ctix_log(CTIX_LOG_WARN, "sync", "event=bad_trust_key org=\"%s\"", tr[i].org);
            continue;
        }
        rc = prov_trust_table_add(t, tr[i].org, &pk);
        if (rc == CTIX_ECONFLICT || rc == CTIX_EINVAL)
            rc = CTIX_OK;
    }
out:
    free(peers);
    free(tr);
    return rc;
}

/* ---- stored rows ---- */

/* One stored version, copied out of the query. */
struct stored {
    bool found;
    int prov;
    int64_t origin;
    char version[STORE_VER_MAX];
    char *json; /* when asked for */
    size_t json_len;
};

static enum ctix_rc stored_cb(void *ctx, const struct store_row *row)
{
    struct stored *s = ctx;

    s->found = true;
    s->prov = row->prov;
    s->origin = row->origin;
    ctix_strlcpy(s->version, row->version, sizeof(s->version));
    if (row->json != NULL) {
        free(s->json);
        s->json = malloc(row->json_len + 1);
        if (s->json == NULL)
            return CTIX_ENOMEM;
        memcpy(s->json, row->json, row->json_len);
        s->json[row->json_len] = '\0';
        s->json_len = row->json_len;
    }
    return CTIX_OK;
}

/* The stored version vkey of object_id (its last version when vkey is NULL or ""). */
static enum ctix_rc stored_get(struct store *st, const char *coll_id, const char *object_id,
                               const char *vkey, bool want_json, struct stored *out)
{
    const char *keys[1] = {vkey};
    struct store_query q;
    bool more = false;

    memset(out, 0, sizeof(*out));
    memset(&q, 0, sizeof(q));
    q.coll_id = coll_id;
    q.object_id = object_id;
    q.added_after_us = -1;
    q.limit = 1;
    q.want_json = want_json;
    if (vkey != NULL && vkey[0] != '\0') {
        q.version_keys = keys;
        q.n_versions = 1;
    } else {
        q.vsel = STORE_V_LAST;
    }
    return store_objs_query(st, &q, stored_cb, out, &more);
}

static void stored_cleanup(struct stored *s)
{
    free(s->json);
    s->json = NULL;
}

static void reason_set(char *out, enum prov_verdict v, const struct ctix_diag *d)
{
    snprintf(out, REASON_MAX, "%s: %.180s", prov_verdict_name(v),
             d->msg[0] != '\0' ? d->msg : "no detail");
}

/* Verifies obj against att (JSON text of a stored attestation). *prov gets VERIFIED or
 * QUARANTINED and reason why. */
static enum ctix_rc verify_text(struct prov_verifier *v, const json_t *obj, const char *att_text,
                                size_t att_len, int *prov, char *reason, struct prov_result *res)
{
    struct ctix_diag d;
    json_t *att = NULL;
    enum ctix_rc rc = stix_json_parse(att_text, att_len, &att, &d);

    if (rc == CTIX_EINVAL) {
        *prov = STORE_PROV_QUARANTINED;
        snprintf(reason, REASON_MAX, "malformed: the stored attestation does not parse");
        rc = CTIX_OK;
        goto out;
    }
    if (rc != CTIX_OK)
        goto out;
    rc = prov_attest_verify(v, obj, att, res, &d);
    if (rc != CTIX_OK)
        goto out;
    *prov = res->verdict == PROV_VALID ? STORE_PROV_VERIFIED : STORE_PROV_QUARANTINED;
    if (res->verdict != PROV_VALID)
        reason_set(reason, res->verdict, &d);
out:
    json_decref(att);
    return rc;
}

/* Looks for a stored attestation of obj (id, version) by any trusted key, by its deterministic
 * id. *prov is left alone when none is found. */
static enum ctix_rc stored_att_find(struct store *st, const char *coll_id,
                                    const struct prov_trust_table *t, struct prov_verifier *v,
                                    const json_t *obj, const char *id, const char *version,
                                    int *prov, char *reason, struct item *it)
{
    enum ctix_rc rc = CTIX_OK;

    for (size_t k = 0; rc == CTIX_OK && k < t->n; k++) {
        char aid[STIX_ID_MAX];
        struct stored s;
        struct prov_result res;

        rc = prov_att_id(&t->v[k].key, PROV_PUBLISH, id, version, aid);
        if (rc == CTIX_OK)
            rc = stored_get(st, coll_id, aid, NULL, true, &s);
        if (rc == CTIX_OK && s.found && s.json != NULL)
            rc = verify_text(v, obj, s.json, s.json_len, prov, reason, &res);
        if (rc == CTIX_OK && s.found && s.prov == STORE_PROV_PENDING && it != NULL &&
            stix_version_key(s.version, it->att_svkey) == CTIX_OK) {
            it->att_settle = true;
            ctix_strlcpy(it->att_sid, aid, sizeof(it->att_sid));
        }
        stored_cleanup(&s);
        if (s.found && *prov == STORE_PROV_VERIFIED)
            break;
    }
    return rc;
}

/* ---- the page ---- */

struct pair_key {
    const char *ref, *mod;
    size_t idx;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct pair_key *x = a, *y = b;
    int c = strcmp(x->ref, y->ref);

    return c != 0 ? c : strcmp(x->mod, y->mod);
}

static void items_free(struct item *it, size_t n)
{
    for (size_t i = 0; it != NULL && i < n; i++) {
        stix_obj_free(it[i].o);
        free(it[i].json);
    }
    free(it);
}

/* Validates element i; a rejected one is logged and left with o == NULL. */
static enum ctix_rc item_load(json_t *elem, const char *text, size_t text_len, struct item *it,
                              const char *peer, size_t i, size_t *rejected)
{
    struct ctix_diag d;
    enum ctix_rc rc = CTIX_OK;

    ctix_diag_clear(&d);
    if (!json_is_object(elem) || stix_obj_from_json(elem, &it->o, &d) != CTIX_OK) {
        const char *id = json_string_value(json_object_get(elem, "id"));

        ctix_log(CTIX_LOG_WARN, "sync",
                 "event=rejected peer=%s index=%zu id=%.300s reason=\"%s%s%s\"", peer, i,
                 id != NULL ? id : "-", d.where, d.where[0] != '\0' ? ": " : "",
                 d.msg[0] != '\0' ? d.msg : "not a JSON object");
        it->o = NULL;
        (*rejected)++;
        goto out;
    }
    /* The sender's text, compacted, when the page gives it: what it signed is kept byte for byte
     * (escapes included), and no second JSON round trip is made. */
    if (text != NULL)
        it->json = stix_json_compact(text, text_len, &it->json_len);
    else
        it->json = stix_obj_to_json(it->o, &it->json_len);
    if (it->json == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    if (it->o->version != NULL && stix_version_key(it->o->version, it->vkey) != CTIX_OK)
        it->vkey[0] = '\0'; /* validated objects have valid timestamps: not reached */
    it->is_att = prov_is_attestation(it->o->json);
    if (it->is_att) {
        const char *stmt = json_string_value(json_object_get(it->o->json, "statement"));

        it->statement = stmt != NULL && strcmp(stmt, "delete") == 0 ? PROV_DELETE : PROV_PUBLISH;
        it->ref = json_string_value(json_object_get(it->o->json, "object_ref"));
        it->mod = json_string_value(json_object_get(it->o->json, "object_modified"));
    }
out:
    return rc;
}

/* Decides what the page decides alone, before anything is stored and without the store: objects
 * against the attestations of this page, deletion statements, malformed attestations. What needs
 * stored rows is marked (need_stored) for page_decide_stored. Pure apart from the verifier's
 * cache: may run in another thread than the store's (sync__prepare). */
static enum ctix_rc page_decide_local(struct item *it, size_t n, struct prov_verifier *v)
{
    struct pair_key *keys = calloc(n + 1, sizeof(*keys));
    size_t n_keys = 0;
    enum ctix_rc rc = CTIX_OK;

    if (keys == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (it[i].o != NULL && it[i].is_att && it[i].statement == PROV_PUBLISH &&
            it[i].ref != NULL) {
            keys[n_keys].ref = it[i].ref;
            keys[n_keys].mod = it[i].mod != NULL ? it[i].mod : "";
            keys[n_keys].idx = i;
            n_keys++;
        }
    }
    qsort(keys, n_keys, sizeof(*keys), pair_cmp);

    /* Objects: against the attestations of this page, else (later) a stored one, else PENDING. */
    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        struct item *o = &it[i];
        struct pair_key want, *hit;
        bool valid = false, any = false;

        if (o->o == NULL || o->is_att)
            continue;
        want.ref = o->o->id;
        want.mod = o->o->version != NULL ? o->o->version : "";
        hit = bsearch(&want, keys, n_keys, sizeof(*keys), pair_cmp);
        /* bsearch lands on any of the equal keys: walk back to the first. */
        while (hit != NULL && hit > keys && pair_cmp(hit - 1, &want) == 0)
            hit--;
        for (; rc == CTIX_OK && hit != NULL && hit < keys + n_keys && pair_cmp(hit, &want) == 0;
             hit++) {
            struct item *a = &it[hit->idx];
            struct prov_result res;
            struct ctix_diag d;

            any = true;
            a->paired = true;
            rc = prov_attest_verify(v, o->o->json, a->o->json, &res, &d);
            if (rc != CTIX_OK)
                break;
            if (res.verdict == PROV_VALID) {
                a->prov = STORE_PROV_VERIFIED;
                valid = true;
            } else {
                a->prov = STORE_PROV_QUARANTINED;
                reason_set(a->reason, res.verdict, &d);
                if (o->reason[0] == '\0')
                    ctix_strlcpy(o->reason, a->reason, sizeof(o->reason));
            }
        }
        if (rc != CTIX_OK)
            break;
        if (any) {
            o->prov = valid ? STORE_PROV_VERIFIED : STORE_PROV_QUARANTINED;
            if (valid)
                o->reason[0] = '\0';
            continue;
        }
        o->prov = STORE_PROV_PENDING;
        o->need_stored = true;
    }

    /* Attestations: deletions on their own; publications without their object in this page
     * (later) against the stored object. */
    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        struct item *a = &it[i];
        struct prov_result res;
        struct ctix_diag d;

        if (a->o == NULL || !a->is_att || a->paired)
            continue;
        if (a->statement == PROV_DELETE) {
            rc = prov_attest_verify_delete(v, a->o->json, &res, &d);
            if (rc != CTIX_OK)
                break;
            /* Valid: PENDING until applied (after the commit). */
            a->prov = res.verdict == PROV_VALID ? STORE_PROV_PENDING : STORE_PROV_QUARANTINED;
            if (res.verdict != PROV_VALID)
                reason_set(a->reason, res.verdict, &d);
            continue;
        }
        a->prov = STORE_PROV_PENDING;
        if (a->ref == NULL || !stix_id_valid(a->ref, NULL)) {
            a->prov = STORE_PROV_QUARANTINED;
            snprintf(a->reason, REASON_MAX, "malformed: no valid object_ref");
            continue;
        }
        if (a->mod != NULL && stix_version_key(a->mod, a->mod_key) != CTIX_OK) {
            a->prov = STORE_PROV_QUARANTINED;
            snprintf(a->reason, REASON_MAX, "malformed: object_modified is not a timestamp");
            continue;
        }
        a->need_stored = true;
    }
out:
    free(keys);
    return rc;
}

/* The rest of the decisions, against stored rows: an object without its attestation in the page
 * looks for a stored one; a publication without its object looks for the stored object. */
static enum ctix_rc page_decide_stored(const struct sync_node *node, const char *coll_id,
                                       struct item *it, size_t n, const struct prov_trust_table *t,
                                       struct prov_verifier *v)
{
    enum ctix_rc rc = CTIX_OK;

    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        struct item *o = &it[i];

        if (o->o == NULL || o->is_att || !o->need_stored)
            continue;
        rc = stored_att_find(node->st, coll_id, t, v, o->o->json, o->o->id, o->o->version, &o->prov,
                             o->reason, o);
    }
    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        struct item *a = &it[i];
        struct prov_result res;
        struct ctix_diag d;
        struct stored s;
        json_t *obj = NULL;

        if (a->o == NULL || !a->is_att || !a->need_stored)
            continue;
        rc = stored_get(node->st, coll_id, a->ref, a->mod_key, true, &s);
        if (rc == CTIX_OK && s.found && s.json != NULL &&
            stix_json_parse(s.json, s.json_len, &obj, &d) == CTIX_OK) {
            rc = prov_attest_verify(v, obj, a->o->json, &res, &d);
            if (rc == CTIX_OK) {
                a->prov = res.verdict == PROV_VALID ? STORE_PROV_VERIFIED : STORE_PROV_QUARANTINED;
                if (res.verdict != PROV_VALID)
                    reason_set(a->reason, res.verdict, &d);
                /* The stored object was waiting for this: settle it after the commit (only a
                 * PENDING one: LOCAL and settled versions stay as they are). */
                if (s.prov == STORE_PROV_PENDING) {
                    a->settle = true;
                    a->settle_prov = a->prov;
                }
            }
        }
        json_decref(obj);
        stored_cleanup(&s);
    }
    return rc;
}

/* ---- deletion statements ---- */

struct versions {
    char (*v)[STORE_VER_MAX];
    size_t n, cap;
};

static enum ctix_rc versions_cb(void *ctx, const struct store_row *row)
{
    struct versions *vs = ctx;

    if (vs->n == vs->cap) {
        size_t cap = vs->cap != 0 ? vs->cap * 2 : 8;
        void *p = realloc(vs->v, cap * sizeof(*vs->v));

        if (p == NULL)
            return CTIX_ENOMEM;
        vs->v = p;
        vs->cap = cap;
    }
    ctix_strlcpy(vs->v[vs->n++], row->version, STORE_VER_MAX);
    return CTIX_OK;
}

/* True when the key signed version (of object_id) as stored here: its publish attestation by that
 * key is stored and was verified (or is ours). */
static enum ctix_rc signed_by(struct store *st, const char *coll_id, const struct prov_pubkey *key,
                              const char *object_id, const char *version, bool *yes, char *aid)
{
    struct stored s;
    enum ctix_rc rc = prov_att_id(key, PROV_PUBLISH, object_id, version, aid);

    *yes = false;
    if (rc == CTIX_OK)
        rc = stored_get(st, coll_id, aid, NULL, false, &s);
    if (rc == CTIX_OK)
        *yes = s.found && (s.prov == STORE_PROV_VERIFIED || s.prov == STORE_PROV_LOCAL);
    return rc;
}

/* Applies a deletion statement (already stored): deletes the versions it names that the same key
 * signed, and their attestations. *prov gets VERIFIED (applied, or nothing of it is stored) or
 * QUARANTINED (invalid, or versions are stored that this key did not sign). Idempotent. */
static enum ctix_rc delete_apply(const struct sync_node *node, const char *coll_id,
                                 struct prov_verifier *v, const json_t *att, const char *actor,
                                 int *prov, char *reason, size_t *n_deleted)
{
    struct prov_result res;
    struct ctix_diag d;
    struct versions vs = {0};
    struct store_query q;
    bool more = false, refused = false;
    enum ctix_rc rc = prov_attest_verify_delete(v, att, &res, &d);

    *prov = STORE_PROV_QUARANTINED;
    if (rc != CTIX_OK)
        goto out;
    if (res.verdict != PROV_VALID) {
        reason_set(reason, res.verdict, &d);
        goto out;
    }
    memset(&q, 0, sizeof(q));
    q.coll_id = coll_id;
    q.object_id = res.object_ref;
    q.added_after_us = -1;
    q.limit = 100000;
    q.vsel = STORE_V_ALL;
    rc = store_objs_query(node->st, &q, versions_cb, &vs, &more);
    if (rc != CTIX_OK)
        goto out;
    for (size_t i = 0; rc == CTIX_OK && i < vs.n; i++) {
        char vkey[31], aid[STIX_ID_MAX];
        const char *keys[1] = {vkey};
        struct store_query dq;
        bool yes = false;
        size_t nd = 0;

        if (!res.all_versions && strcmp(vs.v[i], res.object_modified) != 0)
            continue;
        if (stix_version_key(vs.v[i], vkey) != CTIX_OK)
            continue;
        rc = signed_by(node->st, coll_id, &res.key, res.object_ref, vs.v[i], &yes, aid);
        if (rc == CTIX_OK && !yes && res.all_versions) {
            /* An SCO without a version is attested without one. */
            rc = signed_by(node->st, coll_id, &res.key, res.object_ref, NULL, &yes, aid);
        }
        if (rc != CTIX_OK)
            break;
        if (!yes) {
            refused = true;
            continue;
        }
        memset(&dq, 0, sizeof(dq));
        dq.version_keys = keys;
        dq.n_versions = 1;
        rc = store_obj_delete(node->st, coll_id, res.object_ref, &dq, &nd);
        if (rc == CTIX_ENOTFOUND)
            rc = CTIX_OK;
        if (rc != CTIX_OK)
            break;
        if (nd > 0) {
            *n_deleted += nd;
            sync__audit(node, "deleted", actor, res.object_ref, vs.v[i], "sync", "valid",
                        "deletion signed by the publisher");
        }
        /* The version's attestation goes with it: alone it would only wait and be quarantined. */
        memset(&dq, 0, sizeof(dq));
        rc = store_obj_delete(node->st, coll_id, aid, &dq, &nd);
        if (rc == CTIX_ENOTFOUND)
            rc = CTIX_OK;
    }
    if (rc != CTIX_OK)
        goto out;
    if (refused) {
        snprintf(reason, REASON_MAX,
                 "deletion not signed by the key that signed the stored object");
    } else {
        *prov = STORE_PROV_VERIFIED;
    }
out:
    free(vs.v);
    return rc;
}

/* ---- sync_receive ---- */

static const char *prov_word(int prov)
{
    switch (prov) {
    case STORE_PROV_VERIFIED:
        return "valid";
    case STORE_PROV_PENDING:
        return "pending";
    case STORE_PROV_QUARANTINED:
        return "quarantined";
    default:
        return "local";
    }
}

/* Sets the prov of a stored version, but only where it is still PENDING. */
static enum ctix_rc settle(struct store *st, const char *coll_id, const char *id, const char *vkey,
                           int prov, bool *changed)
{
    struct stored s;
    enum ctix_rc rc = stored_get(st, coll_id, id, vkey, false, &s);

    *changed = false;
    if (rc == CTIX_OK && s.found && s.prov == STORE_PROV_PENDING) {
        rc = store_obj_prov_set(st, coll_id, id, vkey != NULL && vkey[0] != '\0' ? vkey : NULL,
                                prov);
        if (rc == CTIX_ENOTFOUND)
            rc = CTIX_OK; /* deleted meanwhile */
        else if (rc == CTIX_OK)
            *changed = true;
    }
    return rc;
}

static void count_settled(const struct sync_node *node, struct sync_recv_counts *c,
                          const char *actor, const char *id, const char *version, int prov,
                          const char *reason)
{
    if (prov == STORE_PROV_VERIFIED) {
        c->verified++;
        sync__audit(node, "received", actor, id, version, "sync", "valid", "attestation arrived");
    } else {
        c->quarantined++;
        sync__audit(node, "quarantined", actor, id, version, "sync", "quarantined", reason);
    }
}

/* The settles of one page, made in one store transaction (store_objs_prov_settle): each entry
 * remembers what to count and audit when it changed a row. */
struct settles {
    struct store_prov_settle *v;
    char (*vkeys)[31];
    struct settle_why {
        const char *id, *version, *reason;
        bool count; /* an object (not an attestation): counted and audited */
    } * why;
    size_t n;
};

static void settles_add(struct settles *ss, const char *id, const char *vkey, int prov,
                        const char *version, const char *reason, bool count)
{
    size_t i = ss->n++;

    ctix_strlcpy(ss->vkeys[i], vkey != NULL ? vkey : "", sizeof(ss->vkeys[i]));
    ss->v[i] =
        (struct store_prov_settle){id, ss->vkeys[i][0] != '\0' ? ss->vkeys[i] : NULL, prov, false};
    ss->why[i] = (struct settle_why){id, version, reason, count};
}

/* The objects of one page received valid: one audit entry lists them all (an entry per object
 * cost a JCS encoding, a SHA-256, a lock and a write each: ~10% of a pull). Others (pending,
 * quarantined) keep an entry each, with their reason. */
static void received_flush(const struct sync_node *node, const char *actor,
                           struct prov_audit_entry *e)
{
    struct ctix_diag d;

    if (node->audit != NULL && e->n_objects > 0) {
        e->time_us = ctix_now_us();
        ctix_strlcpy(e->event, "received", sizeof(e->event));
        ctix_strlcpy(e->actor, actor, sizeof(e->actor));
        ctix_strlcpy(e->channel, "sync", sizeof(e->channel));
        ctix_strlcpy(e->verdict, "valid", sizeof(e->verdict));
        if (prov_audit_append(node->audit, e, &d) != CTIX_OK)
            ctix_log(CTIX_LOG_ERROR, "sync", "event=audit_failed what=\"%s\"", d.msg);
    }
    prov_audit_entry_cleanup(e);
}

static void received_add(const struct sync_node *node, const char *actor,
                         struct prov_audit_entry *e, const char *id, const char *version)
{
    enum ctix_rc rc;

    if (node->audit == NULL)
        return;
    rc = prov_audit_entry_object_add(e, id, version != NULL ? version : "");
    if (rc == CTIX_ETOOBIG) {
        received_flush(node, actor, e); /* a list that big takes more than one entry */
        rc = prov_audit_entry_object_add(e, id, version != NULL ? version : "");
    }
    if (rc != CTIX_OK)
        ctix_log(CTIX_LOG_ERROR, "sync", "event=audit_failed what=\"%s\"", ctix_strerror(rc));
}

/* Everything after the commit. */
static enum ctix_rc page_settle(const struct sync_node *node, const char *coll_id, struct item *it,
                                size_t n, const enum store_put_result *results, const size_t *map,
                                size_t k, struct prov_verifier *v, const char *actor,
                                struct sync_recv_counts *c)
{
    struct settles ss = {0};
    struct prov_audit_entry recv;
    enum ctix_rc rc = CTIX_ENOMEM;

    memset(&recv, 0, sizeof(recv));
    /* At most three settles an item: its own stored copy, the stored attestation that verified
     * it, the earlier object it attests. */
    ss.v = calloc(3 * n + 1, sizeof(*ss.v));
    ss.vkeys = calloc(3 * n + 1, sizeof(*ss.vkeys));
    ss.why = calloc(3 * n + 1, sizeof(*ss.why));
    if (ss.v == NULL || ss.vkeys == NULL || ss.why == NULL)
        goto out;
    rc = CTIX_OK;
    for (size_t j = 0; j < k; j++) {
        struct item *x = &it[map[j]];

        if (results[j] == STORE_PUT_STORED) {
            c->stored++;
        } else if (results[j] == STORE_PUT_DUPLICATE) {
            c->duplicate++;
        } else {
            ctix_log(CTIX_LOG_WARN, "sync",
                     "event=conflict peer=%s id=%.300s version=%s reason=\"another copy of this "
                     "version is stored: it is kept\"",
                     actor, x->o->id, x->o->version != NULL ? x->o->version : "-");
            continue;
        }
        if (x->is_att && x->statement == PROV_DELETE)
            continue; /* below */
        if (results[j] == STORE_PUT_STORED) {
            if (x->is_att)
                continue;
            if (x->prov == STORE_PROV_VERIFIED)
                c->verified++;
            else if (x->prov == STORE_PROV_PENDING)
                c->pending++;
            else
                c->quarantined++;
            if (x->prov == STORE_PROV_VERIFIED)
                received_add(node, actor, &recv, x->o->id, x->o->version);
            else
                sync__audit(node, "received", actor, x->o->id, x->o->version, "sync",
                            prov_word(x->prov), x->reason);
            if (x->prov == STORE_PROV_QUARANTINED) {
                ctix_log(CTIX_LOG_WARN, "sync",
                         "event=quarantined peer=%s id=%.300s version=%s reason=\"%s\"", actor,
                         x->o->id, x->o->version != NULL ? x->o->version : "-", x->reason);
                sync__audit(node, "quarantined", actor, x->o->id, x->o->version, "sync",
                            "quarantined", x->reason);
            }
        } else if (x->prov != STORE_PROV_PENDING) {
            /* A replayed page (or a copy from another path) whose stored copy still waits. */
            settles_add(&ss, x->o->id, x->vkey, x->prov, x->o->version, x->reason, !x->is_att);
        }
    }
    /* Stored attestations that verified an object of this page. */
    for (size_t i = 0; i < n; i++) {
        if (it[i].o != NULL && it[i].att_settle && it[i].prov != STORE_PROV_PENDING)
            settles_add(&ss, it[i].att_sid, it[i].att_svkey, it[i].prov, NULL, NULL, false);
    }
    /* Earlier PENDING objects that this page's attestations speak of. Only a PENDING version
     * changes, so the first verdict for a version is the one it keeps: valid ones go first, as
     * for an object paired within its page (a valid attestation beats a bad one). */
    for (int pass = 0; pass < 2; pass++) {
        int want = pass == 0 ? STORE_PROV_VERIFIED : STORE_PROV_QUARANTINED;

        for (size_t i = 0; i < n; i++) {
            struct item *a = &it[i];
            char vkey[31] = "";

            if (a->o == NULL || !a->settle || a->settle_prov != want)
                continue;
            if (a->mod != NULL && stix_version_key(a->mod, vkey) != CTIX_OK)
                continue;
            settles_add(&ss, a->ref, vkey, want, a->mod, a->reason, true);
        }
    }
    if (ss.n > 0)
        rc = store_objs_prov_settle(node->st, coll_id, ss.v, ss.n);
    for (size_t i = 0; rc == CTIX_OK && i < ss.n; i++) {
        if (ss.v[i].changed && ss.why[i].count)
            count_settled(node, c, actor, ss.why[i].id, ss.why[i].version, ss.v[i].prov,
                          ss.why[i].reason);
    }
    /* Deletion statements: applied, then marked. */
    for (size_t j = 0; rc == CTIX_OK && j < k; j++) {
        struct item *x = &it[map[j]];
        int prov = STORE_PROV_QUARANTINED;
        size_t nd = 0;

        if (!x->is_att || x->statement != PROV_DELETE || results[j] == STORE_PUT_CONFLICT ||
            x->prov != STORE_PROV_PENDING)
            continue;
        rc = delete_apply(node, coll_id, v, x->o->json, actor, &prov, x->reason, &nd);
        if (rc != CTIX_OK)
            break;
        c->deleted += nd;
        if (prov == STORE_PROV_QUARANTINED) {
            c->quarantined++;
            ctix_log(CTIX_LOG_WARN, "sync", "event=quarantined peer=%s id=%.300s reason=\"%s\"",
                     actor, x->o->id, x->reason);
            sync__audit(node, "quarantined", actor, x->o->id, x->o->version, "sync", "quarantined",
                        x->reason);
        }
        rc = store_obj_prov_set(node->st, coll_id, x->o->id, x->vkey, prov);
        if (rc == CTIX_ENOTFOUND)
            rc = CTIX_OK;
    }
    /* Statements refused before storing. */
    for (size_t j = 0; rc == CTIX_OK && j < k; j++) {
        struct item *x = &it[map[j]];

        if (x->is_att && x->statement == PROV_DELETE && results[j] == STORE_PUT_STORED &&
            x->prov == STORE_PROV_QUARANTINED) {
            c->quarantined++;
            sync__audit(node, "quarantined", actor, x->o->id, x->o->version, "sync", "quarantined",
                        x->reason);
        }
    }
out:
    received_flush(node, actor, &recv);
    free(ss.v);
    free(ss.vkeys);
    free(ss.why);
    return rc;
}

enum ctix_rc sync__verify_init(struct store *st, struct sync__verify *vf)
{
    enum ctix_rc rc;

    prov_trust_table_init(&vf->t);
    vf->v = NULL;
    rc = sync__trust_load(st, &vf->t);
    if (rc == CTIX_OK)
        rc = prov_verifier_new(prov_trust_table_lookup, &vf->t, &vf->v);
    if (rc != CTIX_OK)
        sync__verify_cleanup(vf);
    return rc;
}

void sync__verify_cleanup(struct sync__verify *vf)
{
    prov_verifier_free(vf->v);
    vf->v = NULL;
    prov_trust_table_cleanup(&vf->t);
}

enum ctix_rc sync_receive(const struct sync_node *node, const char *coll_id, const json_t *objects,
                          int64_t peer_id, const struct store_cursor_in *cursor,
                          struct sync_recv_counts *counts, struct ctix_diag *diag)
{
    struct sync__verify vf;
    enum ctix_rc rc;

    if (counts != NULL)
        memset(counts, 0, sizeof(*counts));
    if (node == NULL || node->st == NULL) {
        ctix_diag_set(diag, NULL, "sync_receive: bad arguments");
        return CTIX_EINVAL;
    }
    rc = sync__verify_init(node->st, &vf);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, NULL, "loading the trusted keys: %s", ctix_strerror(rc));
        return rc;
    }
    rc = sync__receive(node, coll_id, objects, NULL, NULL, peer_id, cursor, &vf, counts, diag);
    sync__verify_cleanup(&vf);
    return rc;
}

struct sync__prep {
    struct item *it;
    size_t n, rejected;
};

void sync__prep_free(struct sync__prep *pp)
{
    if (pp == NULL)
        return;
    items_free(pp->it, pp->n);
    free(pp);
}

enum ctix_rc sync__prepare(const json_t *objects, const char *text, const struct stix_span *spans,
                           const char *actor, struct prov_verifier *v, struct sync__prep **out)
{
    struct sync__prep *pp = NULL;
    size_t n = json_array_size(objects);
    enum ctix_rc rc = CTIX_EINVAL;

    *out = NULL;
    if (!json_is_array(objects) || v == NULL)
        goto out;
    rc = CTIX_ENOMEM;
    pp = calloc(1, sizeof(*pp));
    if (pp == NULL)
        goto out;
    pp->it = calloc(n + 1, sizeof(*pp->it));
    if (pp->it == NULL)
        goto out;
    pp->n = n;
    rc = CTIX_OK;
    for (size_t i = 0; rc == CTIX_OK && i < n; i++)
        rc = item_load(json_array_get(objects, i), spans != NULL ? text + spans[i].off : NULL,
                       spans != NULL ? spans[i].len : 0, &pp->it[i], actor, i, &pp->rejected);
    if (rc == CTIX_OK)
        rc = page_decide_local(pp->it, n, v);
out:
    if (rc == CTIX_OK)
        *out = pp;
    else
        sync__prep_free(pp);
    return rc;
}

enum ctix_rc sync__commit(const struct sync_node *node, const char *coll_id, struct sync__prep *pp,
                          int64_t peer_id, const struct store_cursor_in *cursor,
                          struct sync__verify *vf, struct sync_recv_counts *counts,
                          struct ctix_diag *diag)
{
    const struct prov_trust_table *t = vf != NULL ? &vf->t : NULL;
    struct prov_verifier *v = vf != NULL ? vf->v : NULL;
    struct item *it = pp != NULL ? pp->it : NULL;
    struct store_obj_in *in = NULL;
    enum store_put_result *results = NULL;
    size_t *map = NULL;
    size_t n = pp != NULL ? pp->n : 0, k = 0;
    char actor[STORE_NAME_MAX];
    enum ctix_rc rc = CTIX_EINVAL;

    if (counts != NULL)
        memset(counts, 0, sizeof(*counts));
    if (node == NULL || node->st == NULL || coll_id == NULL || pp == NULL || counts == NULL ||
        peer_id < 0 || v == NULL) {
        ctix_diag_set(diag, NULL, "sync_receive: bad arguments");
        goto out;
    }
    counts->total = n;
    counts->rejected = pp->rejected;
    sync__peer_name(node->st, peer_id, actor, sizeof(actor));
    rc = CTIX_ENOMEM;
    in = calloc(n + 1, sizeof(*in));
    results = calloc(n + 1, sizeof(*results));
    map = calloc(n + 1, sizeof(*map));
    if (in == NULL || results == NULL || map == NULL)
        goto out;
    rc = page_decide_stored(node, coll_id, it, n, t, v);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, NULL, "checking the page: %s", ctix_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct item *x = &it[i];

        if (x->o == NULL)
            continue;
        in[k] = (struct store_obj_in){
            .id = x->o->id,
            .type = x->o->type,
            .spec_version = x->o->spec_version,
            .version = x->o->version,
            .version_key = x->o->version != NULL ? x->vkey : NULL,
            .json = x->json,
            .json_len = x->json_len,
            .tlp = (int)x->o->tlp,
            .origin = peer_id,
            .prov = x->prov,
        };
        map[k++] = i;
    }
    if (cursor != NULL)
        rc = store_objs_put_pull(node->st, coll_id, in, k, results, NULL, cursor);
    else
        rc = store_objs_put(node->st, coll_id, in, k, results, NULL);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, NULL, "storing the page from %s: %s", actor, ctix_strerror(rc));
        goto out;
    }
    rc = page_settle(node, coll_id, it, n, results, map, k, v, actor, counts);
    if (rc != CTIX_OK)
        ctix_diag_set(diag, NULL, "settling the page from %s: %s", actor, ctix_strerror(rc));
    sync__audit_sync(node);
out:
    free(in);
    free(results);
    free(map);
    return rc;
}

enum ctix_rc sync__receive(const struct sync_node *node, const char *coll_id, const json_t *objects,
                           const char *text, const struct stix_span *spans, int64_t peer_id,
                           const struct store_cursor_in *cursor, struct sync__verify *vf,
                           struct sync_recv_counts *counts, struct ctix_diag *diag)
{
    struct sync__prep *pp = NULL;
    char actor[STORE_NAME_MAX];
    enum ctix_rc rc = CTIX_EINVAL;

    if (counts != NULL)
        memset(counts, 0, sizeof(*counts));
    if (node == NULL || node->st == NULL || coll_id == NULL || !json_is_array(objects) ||
        counts == NULL || peer_id < 0 || vf == NULL || vf->v == NULL) {
        ctix_diag_set(diag, NULL, "sync_receive: bad arguments");
        goto out;
    }
    sync__peer_name(node->st, peer_id, actor, sizeof(actor));
    rc = sync__prepare(objects, text, spans, actor, vf->v, &pp);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, NULL, "checking the page: %s", ctix_strerror(rc));
        goto out;
    }
    rc = sync__commit(node, coll_id, pp, peer_id, cursor, vf, counts, diag);
out:
    sync__prep_free(pp);
    return rc;
}

/* ---- the pending sweep ---- */

struct prow {
    char id[STIX_ID_MAX];
    char version[STORE_VER_MAX];
    int64_t date_added_us, origin;
    char *json;
    size_t json_len;
};

struct prows {
    struct prow *v;
    size_t n, cap;
};

static enum ctix_rc prows_cb(void *ctx, const struct store_row *row)
{
    struct prows *p = ctx;
    struct prow *r;

    if (p->n == p->cap) {
        size_t cap = p->cap != 0 ? p->cap * 2 : 16;
        void *q = realloc(p->v, cap * sizeof(*p->v));

        if (q == NULL)
            return CTIX_ENOMEM;
        p->v = q;
        p->cap = cap;
    }
    r = &p->v[p->n];
    memset(r, 0, sizeof(*r));
    ctix_strlcpy(r->id, row->id, sizeof(r->id));
    ctix_strlcpy(r->version, row->version, sizeof(r->version));
    r->date_added_us = row->date_added_us;
    r->origin = row->origin;
    r->json = malloc(row->json_len + 1);
    if (r->json == NULL)
        return CTIX_ENOMEM;
    memcpy(r->json, row->json, row->json_len);
    r->json[row->json_len] = '\0';
    r->json_len = row->json_len;
    p->n++;
    return CTIX_OK;
}

/* One PENDING row: settled, re-applied, quarantined when too old, or left waiting. */
static enum ctix_rc sweep_row(const struct sync_node *node, const char *coll_id,
                              const struct prov_trust_table *t, struct prov_verifier *v,
                              const struct prow *r, bool too_old, size_t *n_quar)
{
    char actor[STORE_NAME_MAX], reason[REASON_MAX] = "", vkey[31] = "";
    struct ctix_diag d;
    json_t *j = NULL, *obj = NULL;
    int prov = STORE_PROV_PENDING;
    bool changed = false;
    enum ctix_rc rc = stix_json_parse(r->json, r->json_len, &j, &d);

    sync__peer_name(node->st, r->origin, actor, sizeof(actor));
    if (stix_version_key(r->version, vkey) != CTIX_OK)
        vkey[0] = '\0';
    if (rc == CTIX_EINVAL) {
        rc = CTIX_OK;
        prov = STORE_PROV_QUARANTINED;
        snprintf(reason, sizeof(reason), "malformed: the stored JSON does not parse");
    } else if (rc != CTIX_OK) {
        goto out;
    } else if (prov_is_attestation(j)) {
        const char *stmt = json_string_value(json_object_get(j, "statement"));
        const char *ref = json_string_value(json_object_get(j, "object_ref"));
        const char *mod = json_string_value(json_object_get(j, "object_modified"));

        if (stmt != NULL && strcmp(stmt, "delete") == 0) {
            size_t nd = 0;

            /* A statement stored but not applied (a crash in between): apply it now. */
            rc = delete_apply(node, coll_id, v, j, actor, &prov, reason, &nd);
        } else if (ref != NULL) {
            char okey[31] = "";
            struct stored s;
            struct prov_result res;

            if (mod != NULL && stix_version_key(mod, okey) != CTIX_OK)
                okey[0] = '\0';
            rc = stored_get(node->st, coll_id, ref, okey, true, &s);
            if (rc == CTIX_OK && s.found && s.json != NULL &&
                stix_json_parse(s.json, s.json_len, &obj, &d) == CTIX_OK) {
                rc = prov_attest_verify(v, obj, j, &res, &d);
                if (rc == CTIX_OK) {
                    prov = res.verdict == PROV_VALID ? STORE_PROV_VERIFIED : STORE_PROV_QUARANTINED;
                    if (res.verdict != PROV_VALID)
                        reason_set(reason, res.verdict, &d);
                }
                if (rc == CTIX_OK && s.prov == STORE_PROV_PENDING && prov != STORE_PROV_PENDING) {
                    rc = settle(node->st, coll_id, ref, okey, prov, &changed);
                    if (rc == CTIX_OK && changed) {
                        if (prov == STORE_PROV_QUARANTINED)
                            (*n_quar)++;
                        sync__audit(node, prov == STORE_PROV_VERIFIED ? "received" : "quarantined",
                                    actor, ref, mod, "sync", prov_word(prov), reason);
                    }
                }
            }
            stored_cleanup(&s);
        }
    } else {
        struct item tmp;
        const char *ver = json_string_value(json_object_get(j, "modified"));

        if (ver == NULL)
            ver = json_string_value(json_object_get(j, "created"));
        memset(&tmp, 0, sizeof(tmp));
        rc = stored_att_find(node->st, coll_id, t, v, j, r->id, ver, &prov, reason, &tmp);
        if (rc == CTIX_OK && tmp.att_settle && prov != STORE_PROV_PENDING)
            rc = settle(node->st, coll_id, tmp.att_sid, tmp.att_svkey, prov, &changed);
    }
    if (rc != CTIX_OK)
        goto out;
    if (prov == STORE_PROV_PENDING && too_old) {
        prov = STORE_PROV_QUARANTINED;
        snprintf(reason, sizeof(reason), "no valid attestation arrived within %lld s",
                 (long long)(SYNC_PENDING_AFTER / 1000000));
    }
    if (prov == STORE_PROV_PENDING)
        goto out;
    rc = store_obj_prov_set(node->st, coll_id, r->id, vkey[0] != '\0' ? vkey : NULL, prov);
    if (rc == CTIX_ENOTFOUND) {
        rc = CTIX_OK; /* deleted meanwhile (a deletion statement of this sweep) */
        goto out;
    }
    if (rc != CTIX_OK)
        goto out;
    if (prov == STORE_PROV_QUARANTINED) {
        (*n_quar)++;
        ctix_log(CTIX_LOG_WARN, "sync", "event=quarantined peer=%s id=%.300s reason=\"%s\"", actor,
                 r->id, reason);
        sync__audit(node, "quarantined", actor, r->id, r->version, "sync", "quarantined", reason);
    } else if (!prov_is_attestation(j)) {
        sync__audit(node, "received", actor, r->id, r->version, "sync", "valid",
                    "attestation arrived");
    }
out:
    json_decref(obj);
    json_decref(j);
    return rc;
}

enum ctix_rc sync_pending_sweep(const struct sync_node *node, int64_t now_us, size_t *n_quarantined,
                                struct ctix_diag *diag)
{
    struct prov_trust_table t;
    struct prov_verifier *v = NULL;
    struct store_collection *colls = NULL;
    size_t n_colls = 0, n_quar = 0;
    enum ctix_rc rc = CTIX_EINVAL;

    prov_trust_table_init(&t);
    if (node == NULL || node->st == NULL)
        goto out;
    if (now_us == 0)
        now_us = ctix_now_us();
    rc = sync__trust_load(node->st, &t);
    if (rc == CTIX_OK)
        rc = prov_verifier_new(prov_trust_table_lookup, &t, &v);
    if (rc == CTIX_OK)
        rc = store_collection_list(node->st, &colls, &n_colls);
    for (size_t c = 0; rc == CTIX_OK && c < n_colls; c++) {
        struct prows p = {0};
        struct store_query q;
        bool more = false;

        memset(&q, 0, sizeof(q));
        q.coll_id = colls[c].id;
        q.added_after_us = -1;
        q.limit = 10000; /* the rest next time */
        q.vsel = STORE_V_ALL;
        q.want_json = true;
        q.prov_mask = 1u << STORE_PROV_PENDING;
        rc = store_objs_query(node->st, &q, prows_cb, &p, &more);
        for (size_t i = 0; rc == CTIX_OK && i < p.n; i++) {
            bool too_old = p.v[i].date_added_us < now_us - SYNC_PENDING_AFTER;

            rc = sweep_row(node, colls[c].id, &t, v, &p.v[i], too_old, &n_quar);
        }
        for (size_t i = 0; i < p.n; i++)
            free(p.v[i].json);
        free(p.v);
    }
    sync__audit_sync(node);
    if (rc != CTIX_OK)
        ctix_diag_set(diag, NULL, "pending sweep: %s", ctix_strerror(rc));
out:
    if (n_quarantined != NULL)
        *n_quarantined = n_quar;
    free(colls);
    prov_verifier_free(v);
    prov_trust_table_cleanup(&t);
    return rc;
}

/* ---- the node ---- */

enum ctix_rc sync_node_load(struct sync_node *n, struct store *st, struct ctix_diag *diag)
{
    struct store_org org;
    enum ctix_rc rc = CTIX_EINVAL;

    if (n == NULL || st == NULL)
        goto out;
    n->st = st;
    memset(&n->policy, 0, sizeof(n->policy));
    rc = store_meta_get(st, "node_org", n->org, sizeof(n->org));
    if (rc == CTIX_ENOTFOUND) {
        ctix_diag_set(diag, NULL, "the node is not initialised (ctix init)");
        goto out;
    }
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, NULL, "reading the node's organisation: %s", ctix_strerror(rc));
        goto out;
    }
    rc = store_org_get(st, n->org, &org);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, NULL, "the node's organisation \"%.100s\": %s", n->org,
                      ctix_strerror(rc));
        goto out;
    }
    n->org_id = org.id;
out:
    return rc;
}
