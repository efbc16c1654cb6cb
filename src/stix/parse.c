/* Parsing: JSON text to validated struct stix_obj, containers (bundles and TAXII envelopes), and
 * serialisation back to compact JSON. */
#include "stix/stix.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_int.h"

enum ctix_rc stix_obj_from_json(json_t *j, struct stix_obj **out, struct ctix_diag *diag)
{
    struct stix_obj *o;
    const char *created, *modified;
    enum ctix_rc rc = stix_validate(j, diag);

    if (rc != CTIX_OK)
        goto out;
    o = calloc(1, sizeof(*o));
    if (o == NULL) {
        ctix_diag_set(diag, NULL, "out of memory");
        rc = CTIX_ENOMEM;
        goto out;
    }
    o->json = json_incref(j);
    o->type = json_string_value(json_object_get(j, "type"));
    o->id = json_string_value(json_object_get(j, "id"));
    o->kind = stix_type_kind(o->type);
    created = json_string_value(json_object_get(j, "created"));
    modified = json_string_value(json_object_get(j, "modified"));
    o->version = modified != NULL ? modified : created;
    /* TAXII's rule: objects without created/modified (SCOs) are 2.1; versioned objects without
     * spec_version are STIX 2.0. */
    if (created == NULL && modified == NULL)
        o->spec_version = "2.1";
    else
        o->spec_version = json_string_value(json_object_get(j, "spec_version"));
    if (o->spec_version == NULL)
        o->spec_version = "2.0";
    o->tlp = stix_tlp_effective(j);
    *out = o;
out:
    return rc;
}

enum ctix_rc stix_obj_parse(const char *buf, size_t len, struct stix_obj **out,
                            struct ctix_diag *diag)
{
    json_t *j = NULL;
    /* Duplicate member names are ambiguous (which one is the object's value?): the parser refuses
     * them. */
    enum ctix_rc rc = stix_json_parse(buf, len, &j, diag);

    if (rc != CTIX_OK)
        goto out;
    rc = stix_obj_from_json(j, out, diag);
out:
    json_decref(j);
    return rc;
}

void stix_obj_free(struct stix_obj *o)
{
    if (o == NULL)
        return;
    json_decref(o->json);
    free(o);
}

char *stix_obj_to_json(const struct stix_obj *o, size_t *len)
{
    char *s = json_dumps(o->json, JSON_COMPACT | JSON_PRESERVE_ORDER);

    if (s != NULL && len != NULL)
        *len = strlen(s);
    return s;
}

enum ctix_rc stix_container_parse(const char *buf, size_t len, json_t **objects,
                                  struct ctix_diag *diag)
{
    return stix_container_parse_spans(buf, len, objects, NULL, diag);
}

enum ctix_rc stix_container_parse_spans(const char *buf, size_t len, json_t **objects,
                                        struct stix_span **spans, struct ctix_diag *diag)
{
    json_t *j = NULL, *objs;
    struct stix_span *sp = NULL;
    size_t n_sp = 0;
    const char *type;
    enum ctix_rc rc = stix__json_parse(buf, len, &j, spans != NULL ? &sp : NULL, &n_sp, diag);

    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EINVAL;
    if (!json_is_object(j)) {
        ctix_diag_set(diag, NULL, "container: not a JSON object");
        goto out;
    }
    type = json_string_value(json_object_get(j, "type"));
    if (json_object_get(j, "type") != NULL) {
        /* A bundle; any other object with a type is a single object, not a container. */
        if (type == NULL || strcmp(type, "bundle") != 0) {
            ctix_diag_set(diag, "type", "type: not a bundle or TAXII envelope");
            goto out;
        }
        if (!stix_id_valid(json_string_value(json_object_get(j, "id")), "bundle")) {
            ctix_diag_set(diag, "id", "id: bundle needs an id \"bundle--<uuid>\"");
            goto out;
        }
    } else {
        const json_t *more = json_object_get(j, "more"), *next = json_object_get(j, "next");

        if (more != NULL && !json_is_boolean(more)) {
            ctix_diag_set(diag, "more", "more: must be a boolean");
            goto out;
        }
        if (next != NULL && !json_is_string(next)) {
            ctix_diag_set(diag, "next", "next: must be a string");
            goto out;
        }
    }
    objs = json_object_get(j, "objects");
    if (objs != NULL && !json_is_array(objs)) {
        ctix_diag_set(diag, "objects", "objects: must be a list");
        goto out;
    }
    objs = objs != NULL ? json_incref(objs) : json_array();
    if (objs == NULL) {
        ctix_diag_set(diag, NULL, "out of memory");
        rc = CTIX_ENOMEM;
        goto out;
    }
    rc = CTIX_OK;
    *objects = objs;
    if (spans != NULL) {
        /* The parser records exactly the elements of the array *objects refers to. */
        assert(n_sp == json_array_size(objs));
        *spans = sp;
        sp = NULL;
    }
out:
    free(sp);
    json_decref(j);
    return rc;
}
