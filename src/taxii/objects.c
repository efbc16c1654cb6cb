/* The one ingest path (POST …/objects/ and `ctix import`): validate every element, serialise the
 * valid ones and hand them to the store in one transaction. */
#include "taxii/taxii.h"

#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"
#include "prov/prov.h"
#include "taxii/taxii_int.h"

/* Copies a string property of a (maybe invalid) object, so a failure still names what it was. */
static void copy_str_prop(const json_t *el, const char *name, char *out, size_t n)
{
    const json_t *v = json_is_object(el) ? json_object_get(el, name) : NULL;

    if (json_is_string(v))
        ctix_strlcpy(out, json_string_value(v), n);
}

static void item_fail(struct taxii_add_item *it, const struct ctix_diag *d)
{
    size_t wl = strlen(d->where);

    it->outcome = TAXII_ADD_FAILED;
    /* stix/ messages already begin with the property ("created: …"); others get it prefixed. */
    if (wl == 0 || (strncmp(d->msg, d->where, wl) == 0 && d->msg[wl] == ':'))
        ctix_strlcpy(it->message, d->msg[0] != '\0' ? d->msg : "invalid object",
                     sizeof(it->message));
    else {
        /* "where: msg", cut to fit: the property name matters most, so it comes first. */
        size_t n = ctix_strlcpy(it->message, d->where, sizeof(it->message));

        if (n < sizeof(it->message) - 2) {
            memcpy(it->message + n, ": ", 3);
            ctix_strlcpy(it->message + n + 2, d->msg, sizeof(it->message) - n - 2);
        }
    }
}

/* An indicator whose pattern_type is "stix" must carry a pattern that parses and fits the STIX
 * 2.1 SCO definitions (PATTERN_STRICT): a pattern that can never match anything is refused at
 * the door rather than handed to every consumer. CTIX_OK for other objects; CTIX_EINVAL with d
 * saying where in the pattern; CTIX_ENOMEM. */
static enum ctix_rc pattern_check(const struct stix_obj *o, struct ctix_diag *d)
{
    const json_t *pt, *pat;
    struct pattern *p = NULL;
    struct ctix_diag pd;
    enum ctix_rc rc = CTIX_OK;

    if (strcmp(o->type, "indicator") != 0)
        goto out;
    pt = json_object_get(o->json, "pattern_type");
    pat = json_object_get(o->json, "pattern");
    if (!json_is_string(pt) || strcmp(json_string_value(pt), "stix") != 0 || !json_is_string(pat))
        goto out;
    ctix_diag_clear(&pd);
    rc = pattern_parse(json_string_value(pat), json_string_length(pat), PATTERN_STRICT, &p, &pd);
    if (rc == CTIX_ENOMEM)
        goto out;
    if (rc != CTIX_OK) {
        rc = CTIX_EINVAL;
        if (pd.line > 1)
            ctix_diag_set(d, "pattern", "pattern: line %u column %u: %s", pd.line, pd.col, pd.msg);
        else
            ctix_diag_set(d, "pattern", "pattern: column %u: %s", pd.col, pd.msg);
    }
out:
    pattern_free(p);
    return rc;
}

enum ctix_rc taxii_objects_add(struct store *st, const char *coll_id, json_t *objects,
                               struct taxii_add_item *items, struct taxii_add_counts *counts)
{
    return taxii__objects_add(st, NULL, coll_id, objects, NULL, NULL, items, counts, NULL);
}

enum ctix_rc taxii_objects_add_spans(struct store *st, const char *coll_id, json_t *objects,
                                     const char *text, const struct stix_span *spans,
                                     struct taxii_add_item *items, struct taxii_add_counts *counts)
{
    return taxii__objects_add(st, NULL, coll_id, objects, text, spans, items, counts, NULL);
}

enum ctix_rc taxii_objects_add_signed(const struct sync_node *node, const char *coll_id,
                                      json_t *objects, const char *text,
                                      const struct stix_span *spans, struct taxii_add_item *items,
                                      struct taxii_add_counts *counts)
{
    if (node == NULL || node->st == NULL || node->key == NULL)
        return CTIX_EINVAL;
    return taxii__objects_add(node->st, node, coll_id, objects, text, spans, items, counts, NULL);
}

/* The attestations of the k valid objects in g->in (their parsed JSON in jsons), signed by the
 * node in batches of PROV_BATCH_MAX straight into text (prov_attest_sign_text: no jansson values
 * are built for them) and appended to in[k..) once all are made (texts may move until then).
 * Attestations themselves are not attested. A batch the signer refuses (an object it cannot
 * canonicalise) is signed object by object; an object that still cannot be signed fails with the
 * reason, in bad[j]. n_att counts the attestations made. */
struct signing {
    const struct sync_node *node;
    const json_t **jsons;      /* k: the object of in[j], NULL when not to be signed */
    struct prov_att_text *att; /* k: where each attestation is in texts, its id and version */
    int *tlp;                  /* k: the TLP of the object each attestation speaks of */
    size_t *att_obj;           /* k: the in[] index of the object each attestation speaks of */
    char (*att_keys)[31];
    struct buf texts;
    size_t n_att;
};

/* The attestations into in[k..k+n_att), once texts no longer moves. */
static enum ctix_rc att_finish(struct signing *sg, struct store_obj_in *in, size_t k)
{
    for (size_t a = 0; a < sg->n_att; a++) {
        const struct prov_att_text *t = &sg->att[a];

        if (stix_version_key(t->modified, sg->att_keys[a]) != CTIX_OK)
            return CTIX_EINVAL;
        /* The attestation copies the object's markings: it is exactly as strict as the object. */
        in[k + a] = (struct store_obj_in){
            .id = t->id,
            .type = PROV_ATTEST_TYPE,
            .spec_version = "2.1",
            .version = t->modified,
            .version_key = sg->att_keys[a],
            .json = sg->texts.data + t->off,
            .json_len = t->len,
            .tlp = sg->tlp[a],
        };
    }
    return CTIX_OK;
}

static enum ctix_rc sign_range(struct signing *sg, struct store_obj_in *in, size_t k,
                               const size_t *idx, size_t n, bool *bad, struct ctix_diag *d)
{
    const json_t *batch[PROV_BATCH_MAX];
    struct prov_sign_opts opts = {sg->node->org, 0};
    enum ctix_rc rc;

    for (size_t i = 0; i < n; i++)
        batch[i] = sg->jsons[idx[i]];
    ctix_diag_clear(d);
    rc = prov_attest_sign_text(batch, n, sg->node->key, &opts, &sg->texts, &sg->att[sg->n_att], d);
    if (rc == CTIX_EINVAL && n > 1) {
        /* Find the object the signer refuses: each alone. */
        rc = CTIX_OK;
        for (size_t i = 0; i < n && rc == CTIX_OK; i++)
            rc = sign_range(sg, in, k, idx + i, 1, bad, d);
        goto out;
    }
    if (rc == CTIX_EINVAL) {
        bad[idx[0]] = true;
        rc = CTIX_OK;
        goto out;
    }
    if (rc != CTIX_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        sg->att_obj[sg->n_att] = idx[i];
        sg->tlp[sg->n_att++] = in[idx[i]].tlp;
    }
out:
    return rc;
}

/* What one ingest carries from validation to the store and back into the items. */
struct ingest {
    size_t n, k; /* objects in the envelope; valid ones handed to the store */
    struct taxii_add_item *items;
    struct taxii_add_counts *counts;
    const struct store_obj_in *in;
    const size_t *map; /* in[j] is objects[map[j]] */
    const size_t *pos; /* in[j] went to the store as put[pos[j]] (results and dates there) */
    const struct taxii__status_req *sreq;
};

/* The store's verdicts into the items, then the counts. */
static void items_finish(struct ingest *g, const enum store_put_result *res, const int64_t *added)
{
    struct taxii_add_counts *c = g->counts;

    for (size_t j = 0; j < g->k; j++) {
        struct taxii_add_item *it = &g->items[g->map[j]];
        size_t p = g->pos[j];

        if (g->in[j].version == NULL) {
            /* The store versions an object without created/modified by its first date_added. */
            char ts[28];

            ctix_ts_format_us(added[p], ts);
            ctix_strlcpy(it->version, ts, sizeof(it->version));
        } else {
            ctix_strlcpy(it->version, g->in[j].version, sizeof(it->version));
        }
        ctix_strlcpy(it->id, g->in[j].id, sizeof(it->id));
        switch (res[p]) {
        case STORE_PUT_STORED:
            it->outcome = TAXII_ADD_STORED;
            break;
        case STORE_PUT_DUPLICATE:
            it->outcome = TAXII_ADD_DUPLICATE;
            ctix_strlcpy(it->message, "already stored", sizeof(it->message));
            break;
        case STORE_PUT_CONFLICT:
        default:
            it->outcome = TAXII_ADD_FAILED;
            ctix_strlcpy(it->message,
                         "a different object with this id and version is already stored",
                         sizeof(it->message));
            break;
        }
    }
    c->stored = c->duplicates = c->failed = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (g->items[i].outcome == TAXII_ADD_STORED)
            c->stored++;
        else if (g->items[i].outcome == TAXII_ADD_DUPLICATE)
            c->duplicates++;
        else
            c->failed++;
    }
}

static enum ctix_rc put_details(struct buf *b, const char *name, const char *list,
                                const struct taxii_add_item *items, size_t n, bool failures,
                                size_t count)
{
    enum ctix_rc rc = buf_appendf(b, ",\"%s_count\":%zu", name, count);
    size_t shown = 0;

    for (size_t i = 0; i < n && count > 0 && rc == CTIX_OK; i++) {
        const struct taxii_add_item *it = &items[i];

        if ((it->outcome == TAXII_ADD_FAILED) != failures)
            continue;
        rc = shown == 0 ? buf_appendf(b, ",\"%s\":[", list) : buf_append(b, ",", 1);
        if (rc == CTIX_OK)
            rc = buf_appends(b, "{\"id\":");
        if (rc == CTIX_OK)
            rc = buf_append_json_str(b, it->id, strlen(it->id));
        if (rc == CTIX_OK)
            rc = buf_appends(b, ",\"version\":");
        if (rc == CTIX_OK)
            rc = buf_append_json_str(b, it->version, strlen(it->version));
        if (rc == CTIX_OK && it->message[0] != '\0') {
            rc = buf_appends(b, ",\"message\":");
            if (rc == CTIX_OK)
                rc = buf_append_json_str(b, it->message, strlen(it->message));
        }
        if (rc == CTIX_OK)
            rc = buf_append(b, "}", 1);
        shown++;
    }
    if (rc == CTIX_OK && shown > 0)
        rc = buf_append(b, "]", 1);
    return rc;
}

static enum ctix_rc status_build(const struct ingest *g)
{
    const struct taxii__status_req *sr = g->sreq;
    const struct taxii_add_counts *c = g->counts;
    /* About 90 bytes a success: one allocation instead of a dozen doublings. */
    enum ctix_rc rc = buf_grow(sr->out, 256 + g->n * 96);

    if (rc == CTIX_OK)
        rc = buf_appendf(sr->out,
                         "{\"id\":\"%s\",\"status\":\"complete\",\"request_timestamp\":\"%s\","
                         "\"total_count\":%zu",
                         sr->status_id, sr->request_ts, c->total);
    if (rc == CTIX_OK)
        rc = put_details(sr->out, "success", "successes", g->items, g->n, false,
                         c->stored + c->duplicates);
    if (rc == CTIX_OK)
        rc = put_details(sr->out, "failure", "failures", g->items, g->n, true, c->failed);
    if (rc == CTIX_OK)
        rc = buf_appends(sr->out, ",\"pending_count\":0}");
    return rc;
}

/* Runs inside the store's transaction: the status is stored with the objects it reports. */
static enum ctix_rc status_cb(void *ctx, const enum store_put_result *res, const int64_t *added,
                              const char **json, size_t *len)
{
    struct ingest *g = ctx;
    enum ctix_rc rc;

    items_finish(g, res, added);
    rc = status_build(g);
    *json = g->sreq->out->data;
    *len = g->sreq->out->len;
    return rc;
}

/* ---- what is stored already ---- */

struct known_key {
    const char *id;
    size_t j;
};

struct known {
    const struct store_obj_in *in;
    struct known_key *keys; /* sorted by id */
    size_t n_keys;
    bool *known; /* known[j]: in[j]'s version (any version, for one without) is stored */
};

static int known_cmp(const void *a, const void *b)
{
    const struct known_key *x = a, *y = b;
    int c = strcmp(x->id, y->id);

    return c != 0 ? c : (x->j > y->j) - (x->j < y->j);
}

static enum ctix_rc known_cb(void *ctx, const struct store_row *row)
{
    struct known *kn = ctx;
    struct known_key want = {row->id, 0}, *hit;
    char vkey[31] = "";
    size_t lo = 0, hi = kn->n_keys;

    /* The first key of this id. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(kn->keys[mid].id, want.id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (stix_version_key(row->version, vkey) != CTIX_OK)
        vkey[0] = '\0';
    for (hit = kn->keys + lo; hit < kn->keys + kn->n_keys && strcmp(hit->id, want.id) == 0; hit++) {
        const struct store_obj_in *o = &kn->in[hit->j];

        if (o->version_key == NULL || strcmp(o->version_key, vkey) == 0)
            kn->known[hit->j] = true;
    }
    return CTIX_OK;
}

#define KNOWN_CHUNK 256 /* ids (and versions) per query: well inside SQLite's bound parameters */

/* Marks the objects of in[0..k) whose version is already stored in coll_id (a duplicate, or a
 * conflict: either way nothing new is stored for it), so that they are not signed again: only a
 * newly stored version gets an attestation (re-posting or re-importing identical objects used to
 * store a new version of each attestation every time). A race with a concurrent envelope of the
 * same objects can still sign one twice; the second attestation is then a new version of the
 * first (same id), as before. */
static enum ctix_rc known_find(struct store *st, const char *coll_id, const struct store_obj_in *in,
                               size_t k, bool *known)
{
    struct known kn = {in, NULL, 0, known};
    const char **ids = NULL, **vkeys = NULL;
    enum ctix_rc rc = CTIX_ENOMEM;

    kn.keys = malloc((k + 1) * sizeof(*kn.keys));
    ids = malloc((k + 1) * sizeof(*ids));
    vkeys = malloc((k + 1) * sizeof(*vkeys));
    if (kn.keys == NULL || ids == NULL || vkeys == NULL)
        goto out;
    for (size_t j = 0; j < k; j++)
        kn.keys[kn.n_keys++] = (struct known_key){in[j].id, j};
    qsort(kn.keys, kn.n_keys, sizeof(*kn.keys), known_cmp);
    rc = CTIX_OK;
    /* Versioned objects: their ids times their versions (a superset, sorted out by known_cb);
     * then those without a version: any stored copy of the id. */
    for (int pass = 0; pass < 2 && rc == CTIX_OK; pass++) {
        size_t n = 0;

        for (size_t j = 0; j <= k && rc == CTIX_OK; j++) {
            if (j < k && (in[j].version_key != NULL) == (pass == 0)) {
                ids[n] = in[j].id;
                vkeys[n] = in[j].version_key;
                n++;
            }
            if (n > 0 && (n == KNOWN_CHUNK || j == k)) {
                struct store_query q;
                bool more = false;

                memset(&q, 0, sizeof(q));
                q.coll_id = coll_id;
                q.added_after_us = -1;
                q.limit = 1000000;
                q.ids = ids;
                q.n_ids = n;
                if (pass == 0) {
                    q.version_keys = vkeys;
                    q.n_versions = n;
                } else {
                    q.vsel = STORE_V_ALL;
                }
                rc = store_objs_query(st, &q, known_cb, &kn, &more);
                n = 0;
            }
        }
    }
out:
    free(kn.keys);
    free(ids);
    free(vkeys);
    return rc;
}

/* Signs the k valid objects of in[] (objs[map[j]] parsed), except attestations; an object that
 * cannot be signed becomes a failure and leaves in[] (which is compacted, *k updated). */
static enum ctix_rc sign_valid(struct signing *sg, struct stix_obj **objs,
                               struct taxii_add_item *items, struct store_obj_in *in, size_t *map,
                               size_t *k, const bool *known)
{
    size_t n = *k, m = 0, kept = 0;
    size_t *idx = calloc(n, sizeof(*idx));
    bool *bad = calloc(n, sizeof(*bad));
    struct ctix_diag d;
    enum ctix_rc rc = CTIX_ENOMEM;

    sg->jsons = calloc(n, sizeof(*sg->jsons));
    sg->att = malloc(n * sizeof(*sg->att));
    sg->tlp = calloc(n, sizeof(*sg->tlp));
    sg->att_keys = calloc(n, sizeof(*sg->att_keys));
    sg->att_obj = calloc(n, sizeof(*sg->att_obj));
    buf_init(&sg->texts, (size_t)1 << 31);
    if (idx == NULL || bad == NULL || sg->jsons == NULL || sg->att == NULL || sg->tlp == NULL ||
        sg->att_keys == NULL || sg->att_obj == NULL)
        goto out;
    for (size_t j = 0; j < n; j++) {
        const json_t *oj = objs[map[j]]->json;

        if (prov_is_attestation(oj))
            continue; /* a publisher's attestation is its own statement: never attested again */
        if (known[j])
            continue; /* stored already, and attested then */
        sg->jsons[j] = oj;
        idx[m++] = j;
    }
    rc = CTIX_OK;
    for (size_t off = 0; off < m && rc == CTIX_OK; off += PROV_BATCH_MAX) {
        size_t nb = m - off < PROV_BATCH_MAX ? m - off : PROV_BATCH_MAX;

        rc = sign_range(sg, in, n, idx + off, nb, bad, &d);
    }
    if (rc == CTIX_OK)
        rc = att_finish(sg, in, n);
    if (rc != CTIX_OK)
        goto out;
    for (size_t j = 0; j < n; j++) {
        if (bad[j]) {
            struct taxii_add_item *it = &items[map[j]];
            struct ctix_diag fd;

            ctix_strlcpy(it->id, in[j].id, sizeof(it->id));
            if (in[j].version != NULL)
                ctix_strlcpy(it->version, in[j].version, sizeof(it->version));
            ctix_diag_set(&fd, "", "cannot be signed: %s", d.msg);
            item_fail(it, &fd);
            continue;
        }
        idx[j] = kept; /* idx is done with: now where in[j] went */
        in[kept] = in[j];
        map[kept] = map[j];
        kept++;
    }
    if (kept < n) {
        /* The attestations sat after in[0..n): move them down behind the kept objects. */
        memmove(&in[kept], &in[n], sg->n_att * sizeof(*in));
    }
    for (size_t a = 0; a < sg->n_att; a++)
        sg->att_obj[a] = idx[sg->att_obj[a]]; /* a bad object has no attestation */
    *k = kept;
out:
    free(idx);
    free(bad);
    return rc;
}

enum ctix_rc taxii__objects_add(struct store *st, const struct sync_node *signer,
                                const char *coll_id, json_t *objects, const char *text,
                                const struct stix_span *spans, struct taxii_add_item *items,
                                struct taxii_add_counts *counts,
                                const struct taxii__status_req *sreq)
{
    size_t n = json_array_size(objects), k = 0;
    struct stix_obj **objs = NULL;
    struct store_obj_in *in = NULL;
    enum store_put_result *res = NULL;
    int64_t *added = NULL;
    size_t *map = NULL;
    char(*keys)[31] = NULL;
    char **texts = NULL;
    struct ingest g = {n, 0, items, counts, NULL, NULL, NULL, sreq};
    struct store_obj_in *put = NULL;
    size_t *pos = NULL;
    bool *known = NULL;
    struct signing sg;
    size_t n_put = 0;
    enum ctix_rc rc = CTIX_OK;

    memset(&sg, 0, sizeof(sg));
    sg.node = signer;
    memset(counts, 0, sizeof(*counts));
    counts->total = n;
    objs = calloc(n + 1, sizeof(*objs));
    /* With a signer, room for one attestation per object after the objects. */
    in = calloc(2 * n + 1, sizeof(*in));
    res = calloc(2 * n + 1, sizeof(*res));
    added = calloc(2 * n + 1, sizeof(*added));
    map = calloc(n + 1, sizeof(*map));
    keys = calloc(n + 1, sizeof(*keys));
    texts = calloc(n + 1, sizeof(*texts));
    put = calloc(2 * n + 1, sizeof(*put));
    pos = calloc(n + 1, sizeof(*pos));
    if (objs == NULL || in == NULL || res == NULL || added == NULL || map == NULL || keys == NULL ||
        texts == NULL || put == NULL || pos == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *el = json_array_get(objects, i);
        struct taxii_add_item *it = &items[i];
        struct ctix_diag d;
        size_t len = 0;

        /* Only what the status needs is cleared: items are large and most get overwritten. */
        it->id[0] = '\0';
        it->version[0] = '\0';
        it->message[0] = '\0';
        it->outcome = TAXII_ADD_STORED;
        ctix_diag_clear(&d);
        rc = stix_obj_from_json(el, &objs[i], &d);
        if (rc == CTIX_ENOMEM)
            goto out;
        if (rc != CTIX_OK) {
            /* Even an invalid object is named in the status by what it claims to be. */
            copy_str_prop(el, "id", it->id, sizeof(it->id));
            copy_str_prop(el, "created", it->version, sizeof(it->version));
            copy_str_prop(el, "modified", it->version, sizeof(it->version));
            objs[i] = NULL;
            item_fail(it, &d);
            rc = CTIX_OK;
            continue;
        }
        rc = pattern_check(objs[i], &d);
        if (rc == CTIX_ENOMEM)
            goto out;
        if (rc != CTIX_OK) {
            ctix_strlcpy(it->id, objs[i]->id, sizeof(it->id));
            if (objs[i]->version != NULL)
                ctix_strlcpy(it->version, objs[i]->version, sizeof(it->version));
            item_fail(it, &d);
            rc = CTIX_OK;
            continue;
        }
        if (objs[i]->version != NULL && stix_version_key(objs[i]->version, keys[k]) != CTIX_OK) {
            ctix_diag_set(&d, "modified", "not a STIX timestamp");
            ctix_strlcpy(it->id, objs[i]->id, sizeof(it->id));
            item_fail(it, &d);
            continue;
        }
        if (spans != NULL)
            texts[k] = stix_json_compact(text + spans[i].off, spans[i].len, &len);
        else
            texts[k] = stix_obj_to_json(objs[i], &len);
        if (texts[k] == NULL) {
            rc = CTIX_ENOMEM;
            goto out;
        }
        in[k] = (struct store_obj_in){
            .id = objs[i]->id,
            .type = objs[i]->type,
            .spec_version = objs[i]->spec_version,
            .version = objs[i]->version,
            .version_key = objs[i]->version != NULL ? keys[k] : NULL,
            .json = texts[k],
            .json_len = len,
            .tlp = (int)objs[i]->tlp,
        };
        map[k++] = i;
    }
    if (signer != NULL && signer->key != NULL && k > 0) {
        known = calloc(k, sizeof(*known));
        rc = known != NULL ? known_find(st, coll_id, in, k, known) : CTIX_ENOMEM;
        if (rc == CTIX_OK)
            rc = sign_valid(&sg, objs, items, in, map, &k, known);
        if (rc != CTIX_OK)
            goto out;
    }
    /* Each object goes to the store followed by its attestation, in the same transaction: the
     * store serves versions in the order they were added, so a peer's page of any size holds
     * an object with its attestation (one at a page's very end aside), and verifies it there
     * instead of storing it PENDING and settling it when the attestation's page comes. */
    {
        size_t a = 0;

        for (size_t j = 0; j < k; j++) {
            pos[j] = n_put;
            put[n_put++] = in[j];
            /* sg.att_obj is ascending: attestations were made in the objects' order. */
            for (; a < sg.n_att && sg.att_obj[a] == j; a++)
                put[n_put++] = in[k + a];
        }
        for (; a < sg.n_att; a++)
            put[n_put++] = in[k + a]; /* not reached: every attestation has its object */
    }
    g.k = k;
    g.in = in;
    g.map = map;
    g.pos = pos;
    /* The status speaks of the objects only (items_finish reads in[0..k) through pos). */
    if (sreq != NULL) {
        struct store_status_in status = {sreq->status_id, sreq->org_id, status_cb, &g};

        /* Even an envelope with nothing valid leaves its status, in one transaction. */
        rc = store_objs_put_status(st, coll_id, put, n_put, res, added, &status);
    } else {
        if (n_put > 0)
            rc = store_objs_put(st, coll_id, put, n_put, res, added);
        if (rc == CTIX_OK)
            items_finish(&g, res, added);
    }
out:
    free(sg.jsons);
    free(sg.att);
    free(sg.tlp);
    free(sg.att_keys);
    free(sg.att_obj);
    buf_cleanup(&sg.texts);
    for (size_t i = 0; objs != NULL && i < n; i++) {
        if (objs[i] != NULL)
            stix_obj_free(objs[i]);
    }
    for (size_t j = 0; texts != NULL && j < n; j++)
        free(texts[j]);
    free(objs);
    free(in);
    free(res);
    free(added);
    free(map);
    free(keys);
    free(texts);
    free(put);
    free(pos);
    free(known);
    return rc;
}
