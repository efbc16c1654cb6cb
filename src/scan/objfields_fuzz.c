/* Differential fuzz target for the indicator loader: scan_obj_fields and scan_load_bundle against
 * stix_json_parse (the project's strict JSON reader) on the same bytes.
 *  - scan_obj_fields: on an input whose top-level value is an object, both accept or both reject
 *    (except a duplicate member name outside the members the loader reads, which only
 *    stix_json_parse finds); accepted indicators have the id, name, created_by_ref, pattern and
 *    revoked that the jansson tree has.
 *  - scan_load_bundle, reading the input as a file (a memfd): it accepts exactly the valid JSON of
 *    one of the three container shapes (same duplicate caveat), and then sees every element and
 *    every indicator. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scan/scan_int.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool str_is(const char *p, size_t n, const json_t *v)
{
    if (!json_is_string(v))
        return p == NULL;
    return p != NULL && n == json_string_length(v) && memcmp(p, json_string_value(v), n) == 0;
}

static bool is_dup(const struct ctix_diag *d)
{
    return strstr(d->msg, "duplicate object key") != NULL;
}

static void check_fields(const char *buf, size_t size, const json_t *ref, bool ref_ok,
                         const struct ctix_diag *ref_d)
{
    struct buf tmp;
    struct scan_ind_in in;
    struct ctix_diag d;
    bool is_ind = false;
    enum ctix_rc rc;

    buf_init(&tmp, 1u << 26);
    rc = scan_obj_fields(buf, size, &tmp, &is_ind, &in, &d);
    if (rc == CTIX_ENOMEM)
        goto out;
    if (ref_ok != (rc == CTIX_OK)) {
        /* Only stix_json_parse checks every member name for duplicates. */
        if (!(rc == CTIX_OK && !ref_ok && is_dup(ref_d)))
            abort();
        goto out;
    }
    if (rc != CTIX_OK) {
        if (d.line == 0 || d.col == 0)
            abort();
        goto out;
    }
    const json_t *type = json_object_get(ref, "type");
    bool want_ind = json_is_string(type) && strcmp(json_string_value(type), "indicator") == 0;

    if (is_ind != want_ind)
        abort();
    if (!is_ind)
        goto out;
    if (!str_is(in.id, in.id_len, json_object_get(ref, "id")) ||
        !str_is(in.name, in.name_len, json_object_get(ref, "name")) ||
        !str_is(in.created_by_ref, in.created_by_ref_len, json_object_get(ref, "created_by_ref")))
        abort();
    if (in.pattern != NULL && !str_is(in.pattern, in.pattern_len, json_object_get(ref, "pattern")))
        abort();
    if (in.revoked != json_is_true(json_object_get(ref, "revoked")))
        abort();
out:
    buf_cleanup(&tmp);
}

struct count {
    size_t n;
};

static enum ctix_rc count_ind(void *arg, const struct scan_ind_in *in)
{
    struct count *c = arg;

    if (in->id == NULL || in->pattern == NULL)
        abort(); /* those are counted as skipped, never handed on */
    c->n++;
    return CTIX_OK;
}

/* The container shapes scan_load_bundle accepts; *objs the array of objects (or NULL). */
static bool shape_ok(const json_t *ref, const json_t **objs)
{
    *objs = NULL;
    if (json_is_array(ref)) {
        *objs = ref;
    } else if (json_is_object(ref)) {
        const json_t *t = json_object_get(ref, "type"), *o = json_object_get(ref, "objects");

        if (t != NULL && !(json_is_string(t) && strcmp(json_string_value(t), "bundle") == 0))
            return false;
        if (o == NULL && t == NULL && json_object_get(ref, "more") == NULL)
            return false;
        if (o != NULL && !json_is_array(o))
            return false;
        *objs = o;
    } else {
        return false;
    }
    for (size_t i = 0; *objs != NULL && i < json_array_size(*objs); i++) {
        if (!json_is_object(json_array_get(*objs, i)))
            return false;
    }
    return true;
}

static void check_bundle(const uint8_t *data, size_t size, const json_t *ref, bool ref_ok,
                         const struct ctix_diag *ref_d)
{
    struct scan_load_stats st;
    struct ctix_diag d;
    struct count c = {0};
    const json_t *objs = NULL;
    char path[64];
    enum ctix_rc rc;
    size_t n_ind = 0;
    int fd = memfd_create("bundle", 0);

    if (fd < 0)
        return;
    if (size > 0 && write(fd, data, size) != (ssize_t)size)
        goto out;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ctix_diag_clear(&d);
    rc = scan_load_bundle(path, count_ind, &c, &st, &d);
    if (rc == CTIX_ENOMEM || rc == CTIX_EIO || rc == CTIX_ENOTFOUND)
        goto out;
    if (rc == CTIX_OK) {
        if (!ref_ok) {
            if (!is_dup(ref_d))
                abort();
            goto out;
        }
        if (!shape_ok(ref, &objs))
            abort();
        if (st.n_objects != (objs ? json_array_size(objs) : 0) || st.n_indicators != c.n)
            abort();
        for (size_t i = 0; objs != NULL && i < json_array_size(objs); i++) {
            const json_t *t = json_object_get(json_array_get(objs, i), "type");

            n_ind += json_is_string(t) && strcmp(json_string_value(t), "indicator") == 0;
        }
        if (st.n_indicators + st.n_skipped != n_ind)
            abort();
    } else {
        if (rc != CTIX_EINVAL || d.line == 0 || d.col == 0 || strcmp(d.where, path) != 0)
            abort();
        if (ref_ok && shape_ok(ref, &objs))
            abort();
    }
out:
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    json_t *ref = NULL;
    struct ctix_diag rd;
    bool ref_ok;
    size_t i = 0;

    ctix_diag_clear(&rd);
    ref_ok = stix_json_parse(buf, size, &ref, &rd) == CTIX_OK;
    while (i < size && strchr(" \t\r\n", buf[i]) != NULL && buf[i] != '\0')
        i++;
    /* scan_obj_fields reads objects only: other top-level values are its own error. */
    if (i < size && buf[i] == '{')
        check_fields(buf, size, ref, ref_ok, &rd);
    check_bundle(data, size, ref, ref_ok, &rd);
    json_decref(ref);
    return 0;
}
