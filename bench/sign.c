/* bench/sign: the cost of provenance on one core — signing and verifying realistic STIX
 * indicators (~600 bytes each), canonical JSON (RFC 8785) included, one object per signature and
 * in batches under one signature (prov.h explains the batches).
 *
 *   sign [--objects 20000] [--seed 1]
 *
 * Prints one line per measurement: "what=… batch=N objects=N seconds=S objects_per_s=R", and the
 * Ed25519 library in use. Everything runs in this one thread. Exits 1 when any verification does
 * not come out valid. */
#include "base/base.h"
#include "prov/prov.h"
#include "stix/stix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rng.h"

/* An indicator like those of the joint operation: a C2 address, names, labels, a kill chain
 * phase, a TLP marking; ~600 bytes of JSON. */
static json_t *indicator(struct rng *r, unsigned i)
{
    unsigned char u[16];
    char id[80], uuid[37], pattern[96], name[96], ts[28];
    uint64_t a = rng_next(r), b = rng_next(r);
    int64_t t = 1718000000000000LL + (int64_t)(rng_next(r) % 86400000000ULL);
    json_t *j;

    memcpy(u, &a, 8);
    memcpy(u + 8, &b, 8);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    ctix_uuid_format(u, uuid);
    snprintf(id, sizeof(id), "indicator--%s", uuid);
    snprintf(pattern, sizeof(pattern), "[ipv4-addr:value = '%u.%u.%u.%u']",
             (unsigned)(rng_next(r) % 223) + 1, (unsigned)(rng_next(r) % 256),
             (unsigned)(rng_next(r) % 256), (unsigned)(rng_next(r) % 254) + 1);
    snprintf(name, sizeof(name), "C2 server %u of the joint operation", i);
    ctix_ts_format_us(t - t % 1000, ts);
    j = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:s,s:s,s:s,s:i,s:[s,s],"
        "s:[{s:s,s:s}],s:[s]}",
        "type", "indicator", "spec_version", "2.1", "id", id, "created_by_ref",
        "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff", "created", ts, "modified", ts, "name",
        name, "description", "Command and control address seen in beacons from three sectors.",
        "indicator_types", "malicious-activity", "pattern", pattern, "pattern_type", "stix",
        "valid_from", ts, "confidence", (int)(rng_next(r) % 100), "labels", "c2", "sg-jp-bilateral",
        "kill_chain_phases", "kill_chain_name", "mitre-attack", "phase_name", "command-and-control",
        "object_marking_refs", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421");
    return j;
}

static void report(const char *what, size_t batch, size_t n, int64_t us)
{
    double s = (double)us / 1e6;

    printf("what=%s batch=%zu objects=%zu seconds=%.3f objects_per_s=%.0f\n", what, batch, n, s,
           s > 0 ? (double)n / s : 0.0);
}

static int run(json_t **objs, size_t n, size_t batch, struct prov_key *key,
               struct prov_trust_table *trust)
{
    struct prov_sign_opts opts = {.publisher = "CSA Singapore"};
    json_t **atts = calloc(n, sizeof(*atts));
    struct prov_verifier *v = NULL;
    struct ctix_diag d;
    int64_t t0;
    size_t bad = 0;
    int ret = 1;

    if (atts == NULL)
        goto out;
    t0 = ctix_mono_us();
    for (size_t i = 0; i < n; i += batch) {
        size_t m = n - i < batch ? n - i : batch;

        if (prov_attest_sign((const json_t *const *)objs + i, m, key, &opts, atts + i, &d) !=
            CTIX_OK) {
            fprintf(stderr, "sign: %s\n", d.msg);
            goto out;
        }
    }
    report("sign", batch, n, ctix_mono_us() - t0);
    /* One verifier per page of a sync pass, as sync/ would hold it. */
    t0 = ctix_mono_us();
    for (size_t i = 0; i < n; i += 1000) {
        if (prov_verifier_new(prov_trust_table_lookup, trust, &v) != CTIX_OK)
            goto out;
        for (size_t k = i; k < n && k < i + 1000; k++) {
            struct prov_result r;

            if (prov_attest_verify(v, objs[k], atts[k], &r, &d) != CTIX_OK ||
                r.verdict != PROV_VALID)
                bad++;
        }
        prov_verifier_free(v);
        v = NULL;
    }
    report("verify", batch, n, ctix_mono_us() - t0);
    if (bad > 0) {
        fprintf(stderr, "verify: %zu of %zu not valid\n", bad, n);
        goto out;
    }
    ret = 0;
out:
    for (size_t i = 0; atts != NULL && i < n; i++)
        json_decref(atts[i]);
    free(atts);
    return ret;
}

int main(int argc, char **argv)
{
    static const size_t batches[] = {1, 10, 100, 1000};
    struct prov_trust_table trust;
    struct prov_key *key = NULL;
    struct rng r = {1};
    json_t **objs = NULL;
    size_t n = 20000, bytes = 0;
    int64_t t0;
    uint64_t v;
    int ret = 1;

    prov_trust_table_init(&trust);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--objects") == 0 && ctix_parse_u64(argv[i + 1], 10000000, &v) && v > 0)
            n = (size_t)v;
        else if (strcmp(argv[i], "--seed") == 0 && ctix_parse_u64(argv[i + 1], UINT64_MAX, &v))
            r.s = v;
        else {
            fprintf(stderr, "usage: sign [--objects N] [--seed S]\n");
            goto out;
        }
    }
    objs = calloc(n, sizeof(*objs));
    if (objs == NULL || prov_key_generate(&key) != CTIX_OK ||
        prov_trust_table_add(&trust, "csa", prov_key_public(key)) != CTIX_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *c;

        objs[i] = indicator(&r, (unsigned)i);
        c = objs[i] != NULL ? stix_canonical_json(objs[i], &len) : NULL;
        if (c == NULL)
            goto out;
        bytes += len;
        free(c);
    }
    printf("library=%s objects=%zu mean_canonical_bytes=%zu\n", prov_backend(), n, bytes / n);
    t0 = ctix_mono_us();
    for (size_t i = 0; i < n; i++) {
        char *c = stix_canonical_json(objs[i], NULL);

        if (c == NULL)
            goto out;
        free(c);
    }
    report("canonical", 0, n, ctix_mono_us() - t0);
    for (size_t b = 0; b < CTIX_ARRAY_LEN(batches); b++) {
        if (run(objs, n, batches[b], key, &trust) != 0)
            goto out;
    }
    ret = 0;
out:
    for (size_t i = 0; objs != NULL && i < n; i++)
        json_decref(objs[i]);
    free(objs);
    prov_key_free(key);
    prov_trust_table_cleanup(&trust);
    return ret;
}
