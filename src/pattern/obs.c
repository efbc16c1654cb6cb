/* Observations: each observed-data of a set of STIX objects with its interval, its number of
 * instances and its SCOs, indexed the two ways evaluation needs — by type (the roots of an object
 * path, also across observations so that a pattern skips observations without its type) and by
 * the key *_ref values use (the id in 2.1, the local key "0", "1"… of the 2.0 "objects" form). */
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "stix/stix.h"

/* An object of the input by id, to resolve object_refs. */
struct id_ent {
    const char *id;
    size_t pos; /* position in the input: the last of equal ids wins, as in the reference */
    json_t *obj;
};

static int id_ent_cmp(const void *a, const void *b)
{
    const struct id_ent *x = a, *y = b;
    int c = strcmp(x->id, y->id);

    if (c != 0)
        return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static json_t *id_find(const struct id_ent *ids, size_t n, const char *id)
{
    size_t lo = 0, hi = n;

    /* The last entry whose id is <= id. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(ids[mid].id, id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && strcmp(ids[lo - 1].id, id) == 0)
        return ids[lo - 1].obj;
    return NULL;
}

/* Sorting the SCOs of one observation by type and the key index by key: qsort's comparators
 * get no context, so the key index sorts pairs and is then reduced to indexes. */
struct key_ent {
    const char *key;
    uint32_t i;
};

static int sco_cmp(const void *a, const void *b)
{
    const struct pobs_sco *x = a, *y = b;
    int c = strcmp(x->type, y->type);

    if (c != 0)
        return c;
    /* Keys are unique within an observation: a deterministic order. */
    return strcmp(x->key, y->key);
}

static int key_ent_cmp(const void *a, const void *b)
{
    const struct key_ent *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

struct build {
    struct pattern_obs *o;
    size_t cap_held;
    struct id_ent *ids;
    size_t n_ids;
    /* SCOs of the observation being built. */
    struct pobs_sco *tmp;
    size_t n_tmp, cap_tmp;
};

static enum ctix_rc hold(struct build *b, json_t *j)
{
    struct pattern_obs *o = b->o;

    if (o->n_held == b->cap_held) {
        size_t cap = b->cap_held ? b->cap_held * 2 : 64;
        json_t **h = realloc(o->held, cap * sizeof(*h));

        if (h == NULL)
            return CTIX_ENOMEM;
        o->held = h;
        b->cap_held = cap;
    }
    o->held[o->n_held++] = json_incref(j);
    return CTIX_OK;
}

/* The SCO's type, or NULL when obj is not an object with a string type of an SCO (or custom)
 * kind: SDOs, SROs and SMOs are never roots nor reference targets. */
static const char *sco_type(const json_t *obj)
{
    const char *t;

    if (!json_is_object(obj))
        return NULL;
    t = json_string_value(json_object_get(obj, "type"));
    if (t == NULL)
        return NULL;
    switch (stix_type_kind(t)) {
    case STIX_KIND_SCO:
    case STIX_KIND_CUSTOM:
        return t;
    default:
        return NULL;
    }
}

static enum ctix_rc tmp_add(struct build *b, const char *type, const char *key, json_t *obj)
{
    if (b->n_tmp == b->cap_tmp) {
        size_t cap = b->cap_tmp ? b->cap_tmp * 2 : 16;
        struct pobs_sco *t = realloc(b->tmp, cap * sizeof(*t));

        if (t == NULL)
            return CTIX_ENOMEM;
        b->tmp = t;
        b->cap_tmp = cap;
    }
    b->tmp[b->n_tmp].type = type;
    b->tmp[b->n_tmp].key = key;
    b->tmp[b->n_tmp].obj = obj;
    b->n_tmp++;
    return CTIX_OK;
}

static int sco_key_cmp(const void *a, const void *b)
{
    const struct pobs_sco *x = a, *y = b;

    return strcmp(x->key, y->key);
}

/* Drops the SCOs named twice (object_refs listing one id twice): sorts by key, keeps the first. */
static void tmp_unique(struct build *b)
{
    size_t k = 0;

    qsort(b->tmp, b->n_tmp, sizeof(*b->tmp), sco_key_cmp);
    for (size_t i = 0; i < b->n_tmp; i++) {
        if (k > 0 && strcmp(b->tmp[k - 1].key, b->tmp[i].key) == 0)
            continue;
        b->tmp[k++] = b->tmp[i];
    }
    b->n_tmp = k;
}

static enum ctix_rc od_timestamp(const json_t *od, const char *name, const char *id, int64_t *out,
                                 struct ctix_diag *diag)
{
    const char *s = json_string_value(json_object_get(od, name));
    struct ctix_ts ts;

    if (s == NULL) {
        ctix_diag_set(diag, name, "observed-data %s: %s is missing or not a string", id, name);
        return CTIX_EINVAL;
    }
    if (stix_ts_parse(s, false, &ts) != CTIX_OK) {
        ctix_diag_set(diag, name, "observed-data %s: %s is not a STIX timestamp: '%.40s'", id, name,
                      s);
        return CTIX_EINVAL;
    }
    *out = ctix_ts_to_us(&ts);
    return CTIX_OK;
}

/* Collects the SCOs of od into b->tmp. */
static enum ctix_rc od_scos(struct build *b, const json_t *od, const char *id,
                            struct ctix_diag *diag)
{
    const json_t *refs = json_object_get(od, "object_refs");
    const json_t *embedded = json_object_get(od, "objects");
    enum ctix_rc rc = CTIX_OK;

    b->n_tmp = 0;
    if (refs != NULL) {
        size_t i;
        const json_t *r;

        if (!json_is_array(refs)) {
            ctix_diag_set(diag, "object_refs", "observed-data %s: object_refs is not a list", id);
            return CTIX_EINVAL;
        }
        json_array_foreach(refs, i, r)
        {
            const char *rid = json_string_value(r);
            json_t *obj;
            const char *type;

            if (rid == NULL) {
                ctix_diag_set(diag, "object_refs",
                              "observed-data %s: object_refs[%zu] is not a string", id, i);
                return CTIX_EINVAL;
            }
            /* Ids missing from the set are ignored, as the reference matcher does. */
            obj = id_find(b->ids, b->n_ids, rid);
            type = sco_type(obj);
            if (type == NULL)
                continue;
            rc = tmp_add(b, type, json_string_value(json_object_get(obj, "id")), obj);
            if (rc != CTIX_OK)
                return rc;
        }
        return CTIX_OK;
    }
    if (embedded != NULL) {
        const char *key;
        json_t *obj;

        if (!json_is_object(embedded)) {
            ctix_diag_set(diag, "objects", "observed-data %s: objects is not a dictionary", id);
            return CTIX_EINVAL;
        }
        json_object_foreach((json_t *)embedded, key, obj)
        {
            const char *type = sco_type(obj);

            if (type == NULL)
                continue;
            rc = tmp_add(b, type, key, obj);
            if (rc != CTIX_OK)
                return rc;
        }
        return CTIX_OK;
    }
    ctix_diag_set(diag, "object_refs", "observed-data %s: neither object_refs nor objects", id);
    return CTIX_EINVAL;
}

static enum ctix_rc od_build(struct build *b, json_t *od, size_t pos, struct pobs *ob,
                             struct ctix_diag *diag)
{
    struct pattern_obs *o = b->o;
    const char *id = json_string_value(json_object_get(od, "id"));
    const json_t *no = json_object_get(od, "number_observed");
    char label[80];
    struct key_ent *keys = NULL;
    enum ctix_rc rc;

    if (id == NULL) {
        snprintf(label, sizeof(label), "(objects[%zu], no id)", pos);
        id = label;
    }
    ob->id = json_string_value(json_object_get(od, "id"));
    if (ob->id == NULL)
        ob->id = "";
    rc = od_timestamp(od, "first_observed", id, &ob->first_us, diag);
    if (rc != CTIX_OK)
        goto out;
    rc = od_timestamp(od, "last_observed", id, &ob->last_us, diag);
    if (rc != CTIX_OK)
        goto out;
    if (ob->first_us > ob->last_us) {
        ctix_diag_set(diag, "first_observed",
                      "observed-data %s: first_observed is after last_observed", id);
        rc = CTIX_EINVAL;
        goto out;
    }
    if (!json_is_integer(no) || json_integer_value(no) < 1) {
        ctix_diag_set(diag, "number_observed",
                      "observed-data %s: number_observed is missing or not an integer >= 1", id);
        rc = CTIX_EINVAL;
        goto out;
    }
    ob->n_inst = (uint64_t)json_integer_value(no);
    o->total_inst =
        o->total_inst + ob->n_inst < o->total_inst ? UINT64_MAX : o->total_inst + ob->n_inst;
    rc = od_scos(b, od, id, diag);
    if (rc != CTIX_OK)
        goto out;
    tmp_unique(b);
    rc = hold(b, od);
    if (rc != CTIX_OK)
        goto out;
    if (b->n_tmp > UINT32_MAX / 2) {
        ctix_diag_set(diag, "object_refs", "observed-data %s: too many objects", id);
        rc = CTIX_ETOOBIG;
        goto out;
    }
    ob->n_scos = (uint32_t)b->n_tmp;
    if (b->n_tmp == 0)
        goto out;
    ob->scos = arena_alloc(&o->arena, b->n_tmp * sizeof(*ob->scos));
    ob->by_key = arena_alloc(&o->arena, b->n_tmp * sizeof(*ob->by_key));
    keys = malloc(b->n_tmp * sizeof(*keys));
    if (ob->scos == NULL || ob->by_key == NULL || keys == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < b->n_tmp; i++) {
        /* 2.0 embedded objects are held through od; 2.1 ones each get a reference. */
        if (json_object_get(od, "object_refs") != NULL) {
            rc = hold(b, b->tmp[i].obj);
            if (rc != CTIX_OK)
                goto out;
        }
    }
    memcpy(ob->scos, b->tmp, b->n_tmp * sizeof(*ob->scos));
    qsort(ob->scos, b->n_tmp, sizeof(*ob->scos), sco_cmp);
    for (uint32_t i = 0; i < ob->n_scos; i++) {
        keys[i].key = ob->scos[i].key;
        keys[i].i = i;
    }
    qsort(keys, b->n_tmp, sizeof(*keys), key_ent_cmp);
    for (uint32_t i = 0; i < ob->n_scos; i++)
        ob->by_key[i] = keys[i].i;
out:
    free(keys);
    return rc;
}

/* The global index by type: one pass over the (type-sorted) SCOs of every observation. */
struct type_ent {
    const char *type;
    struct pobs_at at;
};

static int type_ent_cmp(const void *a, const void *b)
{
    const struct type_ent *x = a, *y = b;
    int c = strcmp(x->type, y->type);

    if (c != 0)
        return c;
    return x->at.obs < y->at.obs ? -1 : x->at.obs > y->at.obs;
}

static enum ctix_rc types_build(struct pattern_obs *o)
{
    struct type_ent *ents = NULL;
    size_t n = 0, cap = 0, nt = 0;
    enum ctix_rc rc = CTIX_OK;

    for (size_t i = 0; i < o->n_obs; i++) {
        const struct pobs *ob = &o->obs[i];

        for (uint32_t s = 0; s < ob->n_scos;) {
            uint32_t e = s + 1;

            while (e < ob->n_scos && strcmp(ob->scos[e].type, ob->scos[s].type) == 0)
                e++;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                struct type_ent *ne = realloc(ents, nc * sizeof(*ne));

                if (ne == NULL) {
                    rc = CTIX_ENOMEM;
                    goto out;
                }
                ents = ne;
                cap = nc;
            }
            ents[n].type = ob->scos[s].type;
            ents[n].at.obs = (uint32_t)i;
            ents[n].at.start = s;
            ents[n].at.n = e - s;
            n++;
            s = e;
        }
    }
    if (n == 0)
        goto out;
    qsort(ents, n, sizeof(*ents), type_ent_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(ents[i].type, ents[i - 1].type) != 0)
            nt++;
    }
    o->types = arena_zalloc(&o->arena, nt * sizeof(*o->types));
    if (o->types == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        struct pobs_type *t = &o->types[o->n_types++];

        while (e < n && strcmp(ents[e].type, ents[i].type) == 0)
            e++;
        t->type = ents[i].type;
        t->n_at = (uint32_t)(e - i);
        t->at = arena_alloc(&o->arena, (e - i) * sizeof(*t->at));
        if (t->at == NULL) {
            rc = CTIX_ENOMEM;
            goto out;
        }
        for (size_t k = i; k < e; k++)
            t->at[k - i] = ents[k].at;
        i = e;
    }
out:
    free(ents);
    return rc;
}

enum ctix_rc pattern_obs_new(const json_t *objects, struct pattern_obs **out,
                             struct ctix_diag *diag)
{
    struct build b;
    struct pattern_obs *o = calloc(1, sizeof(*o));
    size_t i, n_od = 0, k = 0;
    json_t *obj;
    enum ctix_rc rc = CTIX_OK;

    memset(&b, 0, sizeof(b));
    if (o == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    arena_init(&o->arena);
    b.o = o;
    if (!json_is_array(objects)) {
        ctix_diag_set(diag, NULL, "observations: expected a list of STIX objects");
        rc = CTIX_EINVAL;
        goto out;
    }
    if (json_array_size(objects) > UINT32_MAX / 2) {
        ctix_diag_set(diag, NULL, "observations: too many objects");
        rc = CTIX_ETOOBIG;
        goto out;
    }
    b.ids = malloc((json_array_size(objects) + 1) * sizeof(*b.ids));
    if (b.ids == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    json_array_foreach(objects, i, obj)
    {
        const char *id = json_string_value(json_object_get(obj, "id"));
        const char *type = json_string_value(json_object_get(obj, "type"));

        if (id != NULL) {
            b.ids[b.n_ids].id = id;
            b.ids[b.n_ids].pos = i;
            b.ids[b.n_ids].obj = obj;
            b.n_ids++;
        }
        if (type != NULL && strcmp(type, "observed-data") == 0)
            n_od++;
    }
    qsort(b.ids, b.n_ids, sizeof(*b.ids), id_ent_cmp);
    o->obs = arena_zalloc(&o->arena, (n_od + 1) * sizeof(*o->obs));
    if (o->obs == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    json_array_foreach(objects, i, obj)
    {
        const char *type = json_string_value(json_object_get(obj, "type"));

        if (type == NULL || strcmp(type, "observed-data") != 0)
            continue;
        rc = od_build(&b, obj, i, &o->obs[k], diag);
        if (rc != CTIX_OK)
            goto out;
        k++;
    }
    o->n_obs = k;
    rc = types_build(o);
out:
    free(b.ids);
    free(b.tmp);
    if (rc != CTIX_OK) {
        pattern_obs_free(o);
        o = NULL;
    } else {
        *out = o;
    }
    return rc;
}

void pattern_obs_free(struct pattern_obs *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n_held; i++)
        json_decref(o->held[i]);
    free(o->held);
    arena_cleanup(&o->arena);
    free(o);
}

size_t pattern_obs_count(const struct pattern_obs *o)
{
    return o ? o->n_obs : 0;
}

const char *pattern_obs_id(const struct pattern_obs *o, size_t i)
{
    if (o == NULL || i >= o->n_obs)
        return NULL;
    return o->obs[i].id;
}

const struct pobs_type *pattern__obs_type(const struct pattern_obs *o, const char *type)
{
    size_t lo = 0, hi = o->n_types;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(o->types[mid].type, type);

        if (c == 0)
            return &o->types[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct pobs_sco *pattern__obs_ref(const struct pobs *ob, const char *key)
{
    size_t lo = 0, hi = ob->n_scos;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct pobs_sco *s = &ob->scos[ob->by_key[mid]];
        int c = strcmp(s->key, key);

        if (c == 0)
            return s;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
