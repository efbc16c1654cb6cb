/* Sightings out: the STIX 2.1 objects that tell an indicator's producer that we saw it.
 *
 * Ids are deterministic so that reporting the same scan twice makes the same objects:
 *  - identity--UUIDv5(NS, "identity\n" + name);
 *  - sighting--UUIDv5(NS, "sighting\n" + indicator id + "\n" + identity id + "\n" + first_seen
 *    + "\n" + last_seen + "\n" + count);
 *  - observed-data--UUIDv5(NS, "observed-data\n" + indicator id + "\n" + SCO id + "\n" + first
 *    + "\n" + last + "\n" + count);
 *  - SCOs: stix_sco_id (the spec's own UUIDv5 over their ID-contributing properties).
 * NS is ctix's sightings namespace, 1b4e28ba-2fa1-5d6b-a1c3-0c29a2f4e7d1 (a fixed constant of
 * this file; changing it changes every id ever reported). Times in the names are the reported
 * timestamps' text (milliseconds, Z), counts in decimal.
 *
 * STIX bounds count and number_observed to 0..999,999,999 (sighting) and 1..999,999,999
 * (observed-data): larger counts are reported as the bound. A record without a time of its own
 * (SCAN_TIME_NONE) leaves first_seen/last_seen out of the sighting; observed-data needs
 * first_observed/last_observed and gets now. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "scan/scan_int.h"
#include "stix/stix.h"

#define STIX_COUNT_MAX 999999999ull

static const unsigned char sight_ns[16] = {0x1b, 0x4e, 0x28, 0xba, 0x2f, 0xa1, 0x5d, 0x6b,
                                           0xa1, 0xc3, 0x0c, 0x29, 0xa2, 0xf4, 0xe7, 0xd1};

/* "<type>--" + UUIDv5(sight_ns, name) into out. */
static bool uuid5_id(const char *type, const char *name, size_t len, char out[STIX_ID_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char u[37];
    bool ok = false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (ctx == NULL)
        goto out;
    if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 || EVP_DigestUpdate(ctx, sight_ns, 16) != 1 ||
        EVP_DigestUpdate(ctx, name, len) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
        mdlen < 16)
        goto out;
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    ctix_uuid_format(md, u);
    ok = (size_t)snprintf(out, STIX_ID_MAX, "%s--%s", type, u) < STIX_ID_MAX;
out:
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ": the project's formatter cut to milliseconds. */
static void ts_ms(int64_t ms, char out[25])
{
    const int64_t max_ms = 253402300799999; /* 9999-12-31T23:59:59.999Z */
    char us[28];

    ctix_ts_format_us((ms < 0 ? 0 : ms > max_ms ? max_ms : ms) * 1000, us);
    memcpy(out, us, 23);
    out[23] = 'Z';
    out[24] = '\0';
}

static json_int_t count_clamp(uint64_t n, uint64_t lo)
{
    if (n > STIX_COUNT_MAX)
        n = STIX_COUNT_MAX;
    if (n < lo)
        n = lo;
    return (json_int_t)n;
}

/* Sets a member, taking the reference; false on ENOMEM (v NULL included). */
static bool set_new(json_t *o, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(o, key, v) == 0;
}

/* The common properties of everything made: type, spec_version, id and, for SDOs/SROs, created,
 * modified and created_by_ref; then the marking. */
static json_t *obj_new(const char *type, const char *id, const char *now, const char *creator,
                       const struct scan_sight_opts *o)
{
    json_t *j = json_object();
    bool ok = j != NULL;

    ok = ok && set_new(j, "type", json_string(type));
    ok = ok && set_new(j, "spec_version", json_string("2.1"));
    if (id != NULL)
        ok = ok && set_new(j, "id", json_string(id));
    if (now != NULL) {
        ok = ok && set_new(j, "created", json_string(now));
        ok = ok && set_new(j, "modified", json_string(now));
    }
    if (creator != NULL)
        ok = ok && set_new(j, "created_by_ref", json_string(creator));
    if (o->marking_ref != NULL)
        ok = ok && set_new(j, "object_marking_refs", json_pack("[s]", o->marking_ref));
    if (!ok) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* The SCO of one observable, with its id in id; NULL with *bad set when the observable cannot
 * be one (an unknown kind, a value jansson refuses), NULL alone on ENOMEM. */
static json_t *sco_new(const struct scan_sight_obs *ob, const struct scan_sight_opts *o,
                       char id[STIX_ID_MAX], bool *bad)
{
    static const char *const types[SCAN_KIND_N] = {
        [SCAN_IPV4] = "ipv4-addr", [SCAN_IPV6] = "ipv6-addr",   [SCAN_DOMAIN] = "domain-name",
        [SCAN_URL] = "url",        [SCAN_EMAIL] = "email-addr", [SCAN_MD5] = "file",
        [SCAN_SHA1] = "file",      [SCAN_SHA256] = "file",
    };
    static const char *const algs[SCAN_KIND_N] = {
        [SCAN_MD5] = "MD5",
        [SCAN_SHA1] = "SHA-1",
        [SCAN_SHA256] = "SHA-256",
    };
    json_t *j = NULL, *v = NULL;
    bool ok;

    *bad = false;
    if (ob->kind >= SCAN_KIND_N || ob->val == NULL || ob->len == 0) {
        *bad = true;
        goto out;
    }
    j = obj_new(types[ob->kind], NULL, NULL, NULL, o);
    if (j == NULL)
        goto out;
    v = json_stringn(ob->val, ob->len);
    if (v == NULL) { /* invalid UTF-8 or a NUL: not a value STIX can carry */
        *bad = true;
        goto fail;
    }
    if (algs[ob->kind] != NULL) {
        json_t *h = json_object();

        /* set_new and json_object_set_new take the reference even when they fail */
        ok = h != NULL && json_object_set_new(h, algs[ob->kind], v) == 0;
        if (h == NULL)
            json_decref(v);
        v = NULL;
        if (!ok)
            json_decref(h);
        ok = ok && set_new(j, "hashes", h);
    } else {
        ok = set_new(j, "value", v);
        v = NULL;
    }
    if (!ok)
        goto fail;
    if (stix_sco_id(j, id) != CTIX_OK) {
        *bad = true;
        goto fail;
    }
    if (!set_new(j, "id", json_string(id)))
        goto fail;
    goto out;
fail:
    json_decref(v);
    json_decref(j);
    j = NULL;
out:
    return j;
}

/* Appends j (taking the reference); false on ENOMEM. */
static bool push(json_t *arr, json_t *j)
{
    return j != NULL && json_array_append_new(arr, j) == 0;
}

/* One sighting with its observed-data and new SCOs appended to arr. false on ENOMEM. */
static bool sight_add(json_t *arr, json_t *seen_scos, const struct scan_sight *s, const char *ident,
                      const char *now, int64_t now_ms, const struct scan_sight_opts *o)
{
    char first[25], last[25], id[STIX_ID_MAX], sco_id[STIX_ID_MAX], name[1024];
    json_t *od_refs = json_object(), *sg = NULL; /* a set: ids in insertion order */
    bool ok = od_refs != NULL, has_time = s->first_ms != SCAN_TIME_NONE;
    int64_t f = s->first_ms, l = s->last_ms;
    json_int_t count = count_clamp(s->count, 0);

    if (!ok)
        goto out;
    if (has_time && l < f)
        l = f; /* last_seen must not precede first_seen */
    if (has_time) {
        ts_ms(f, first);
        ts_ms(l == SCAN_TIME_NONE ? f : l, last);
    } else {
        first[0] = last[0] = '\0';
    }
    for (size_t i = 0; ok && i < s->n_obs; i++) {
        const struct scan_sight_obs *ob = &s->obs[i];
        char ofirst[25], olast[25];
        int64_t of = ob->first_ms, ol = ob->last_ms;
        json_int_t n = count_clamp(ob->count, 1);
        bool bad;
        json_t *sco = sco_new(ob, o, sco_id, &bad), *od;

        if (sco == NULL) {
            ok = bad; /* an observable STIX cannot hold is left out; ENOMEM stops */
            continue;
        }
        if (of == SCAN_TIME_NONE)
            of = ol != SCAN_TIME_NONE ? ol : now_ms;
        if (ol == SCAN_TIME_NONE || ol < of)
            ol = of;
        ts_ms(of, ofirst);
        ts_ms(ol, olast);
        if (json_object_get(seen_scos, sco_id) == NULL) {
            if (json_object_set_new(seen_scos, sco_id, json_true()) == 0) {
                ok = push(arr, sco);
            } else {
                json_decref(sco);
                ok = false;
            }
        } else {
            json_decref(sco);
        }
        snprintf(name, sizeof(name), "observed-data\n%s\n%s\n%s\n%s\n%lld", s->indicator_id, sco_id,
                 ofirst, olast, (long long)n);
        ok = ok && uuid5_id("observed-data", name, strlen(name), id);
        od = ok ? obj_new("observed-data", id, now, ident, o) : NULL;
        ok = ok && od != NULL;
        ok = ok && set_new(od, "first_observed", json_string(ofirst));
        ok = ok && set_new(od, "last_observed", json_string(olast));
        ok = ok && set_new(od, "number_observed", json_integer(n));
        ok = ok && set_new(od, "object_refs", json_pack("[s]", sco_id));
        ok = ok && set_new(od_refs, id, json_true());
        if (ok) {
            ok = push(arr, od);
        } else {
            json_decref(od);
        }
    }
    if (!ok)
        goto out;
    snprintf(name, sizeof(name), "sighting\n%s\n%s\n%s\n%s\n%lld", s->indicator_id, ident, first,
             last, (long long)count);
    ok = uuid5_id("sighting", name, strlen(name), id);
    sg = ok ? obj_new("sighting", id, now, ident, o) : NULL;
    ok = sg != NULL;
    ok = ok && set_new(sg, "count", json_integer(count));
    if (has_time) {
        ok = ok && set_new(sg, "first_seen", json_string(first));
        ok = ok && set_new(sg, "last_seen", json_string(last));
    }
    ok = ok && set_new(sg, "sighting_of_ref", json_string(s->indicator_id));
    if (ok && json_object_size(od_refs) > 0) {
        json_t *refs = json_array();
        const char *k;
        json_t *v;

        ok = refs != NULL;
        json_object_foreach(od_refs, k, v)
        {
            (void)v;
            ok = ok && json_array_append_new(refs, json_string(k)) == 0;
        }
        if (ok) {
            ok = set_new(sg, "observed_data_refs", refs);
        } else {
            json_decref(refs);
        }
    }
    ok = ok && set_new(sg, "where_sighted_refs", json_pack("[s]", ident));
    if (ok) {
        ok = push(arr, sg);
    } else {
        json_decref(sg);
    }
out:
    json_decref(od_refs);
    return ok;
}

json_t *scan_sightings(const struct scan_sight *s, size_t n, const struct scan_sight_opts *o)
{
    json_t *arr = json_array(), *seen = json_object(), *ident = NULL;
    char ident_id[STIX_ID_MAX], now[25], name[1024];
    const char *org = o->identity_name != NULL ? o->identity_name : "";
    bool ok = arr != NULL && seen != NULL;

    if (!ok)
        goto out;
    ts_ms(o->now_ms, now);
    snprintf(name, sizeof(name), "identity\n%s", org);
    ok = uuid5_id("identity", name, strlen(name), ident_id);
    ident = ok ? obj_new("identity", ident_id, now, NULL, o) : NULL;
    ok = ident != NULL;
    ok = ok && set_new(ident, "name", json_string(org));
    ok = ok && set_new(ident, "identity_class", json_string("organization"));
    if (ok) {
        ok = push(arr, ident);
    } else {
        json_decref(ident);
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = sight_add(arr, seen, &s[i], ident_id, now, o->now_ms, o);
out:
    json_decref(seen);
    if (!ok) {
        json_decref(arr);
        arr = NULL;
    }
    return arr;
}
