/* The one ingest path (POST …/objects/ and `ctix import`): validate every element, serialise the
 * valid ones and hand them to the store in one transaction. */
#include "taxii/taxii.h"

#include <stdlib.h>
#include <string.h>

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

enum ctix_rc taxii_objects_add(struct store *st, const char *coll_id, json_t *objects,
                               struct taxii_add_item *items, struct taxii_add_counts *counts)
{
    return taxii_objects_add_spans(st, coll_id, objects, NULL, NULL, items, counts);
}

enum ctix_rc taxii_objects_add_spans(struct store *st, const char *coll_id, json_t *objects,
                                     const char *text, const struct stix_span *spans,
                                     struct taxii_add_item *items, struct taxii_add_counts *counts)
{
    size_t n = json_array_size(objects), k = 0;
    struct stix_obj **objs = NULL;
    struct store_obj_in *in = NULL;
    enum store_put_result *res = NULL;
    int64_t *added = NULL;
    size_t *map = NULL;
    char(*keys)[31] = NULL;
    char **texts = NULL;
    enum ctix_rc rc = CTIX_OK;

    memset(counts, 0, sizeof(*counts));
    counts->total = n;
    if (n == 0)
        goto out;
    objs = calloc(n, sizeof(*objs));
    in = calloc(n, sizeof(*in));
    res = calloc(n, sizeof(*res));
    added = calloc(n, sizeof(*added));
    map = calloc(n, sizeof(*map));
    keys = calloc(n, sizeof(*keys));
    texts = calloc(n, sizeof(*texts));
    if (objs == NULL || in == NULL || res == NULL || added == NULL || map == NULL || keys == NULL ||
        texts == NULL) {
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
    if (k > 0) {
        rc = store_objs_put(st, coll_id, in, k, res, added);
        if (rc != CTIX_OK)
            goto out;
    }
    for (size_t j = 0; j < k; j++) {
        struct taxii_add_item *it = &items[map[j]];

        if (in[j].version == NULL) {
            /* The store versions an object without created/modified by its first date_added. */
            char ts[28];

            ctix_ts_format_us(added[j], ts);
            ctix_strlcpy(it->version, ts, sizeof(it->version));
        } else {
            ctix_strlcpy(it->version, in[j].version, sizeof(it->version));
        }
        ctix_strlcpy(it->id, in[j].id, sizeof(it->id));
        switch (res[j]) {
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
out:
    if (rc == CTIX_OK) {
        for (size_t i = 0; i < n; i++) {
            if (items[i].outcome == TAXII_ADD_STORED)
                counts->stored++;
            else if (items[i].outcome == TAXII_ADD_DUPLICATE)
                counts->duplicates++;
            else
                counts->failed++;
        }
    }
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
    return rc;
}
