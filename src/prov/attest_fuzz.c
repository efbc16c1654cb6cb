/* Fuzz target: arbitrary JSON as an attestation, verified against a fixed object signed by a
 * trusted key (as a publication and as a deletion); and, when the input is a JSON object, its
 * members laid over a valid attestation, so that every check after parsing is reached with the
 * other members still right. Whatever the input, verification ends in a verdict: never a crash,
 * never a rc other than CTIX_OK (there is no allocation failure here), and never "valid" for an
 * attestation that differs from the one signed. */
#include "prov/prov.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char object[] =
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"created\":\"2024-06-10T08:15:00.000Z\",\"modified\":\"2024-06-10T09:30:00.000Z\","
    "\"pattern\":\"[ipv4-addr:value = '203.0.113.57']\",\"pattern_type\":\"stix\","
    "\"valid_from\":\"2024-06-10T08:15:00Z\","
    "\"object_marking_refs\":[\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"]}";

static struct prov_key *key;
static struct prov_trust_table trust;
static struct prov_verifier *ver;
static json_t *obj, *good;

static void init(void)
{
    struct prov_sign_opts opts = {.publisher = "CSA Singapore", .now_us = 1718000000000000LL};
    const json_t *o;

    if (prov_key_generate(&key) != CTIX_OK ||
        stix_json_parse(object, strlen(object), &obj, NULL) != CTIX_OK)
        abort();
    prov_trust_table_init(&trust);
    o = obj;
    if (prov_trust_table_add(&trust, "csa", prov_key_public(key)) != CTIX_OK ||
        prov_verifier_new(prov_trust_table_lookup, &trust, &ver) != CTIX_OK ||
        prov_attest_sign(&o, 1, key, &opts, &good, NULL) != CTIX_OK)
        abort();
}

static enum prov_verdict check(const json_t *att)
{
    struct prov_result r;
    struct ctix_diag d;

    if (prov_attest_verify(ver, obj, att, &r, &d) != CTIX_OK)
        abort();
    if (r.verdict != PROV_VALID && d.msg[0] == '\0')
        abort();
    if (prov_attest_verify_delete(ver, att, &r, &d) != CTIX_OK)
        abort();
    return r.verdict;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = NULL, *patched = NULL;
    struct prov_result r;
    struct ctix_diag d;

    if (key == NULL)
        init();
    if (stix_json_parse((const char *)data, size, &in, NULL) != CTIX_OK)
        return 0;
    check(in);
    if (json_is_object(in)) {
        patched = json_deep_copy(good);
        if (patched == NULL || json_object_update(patched, in) != 0)
            abort();
        if (prov_attest_verify(ver, obj, patched, &r, &d) != CTIX_OK)
            abort();
        /* a valid verdict for a changed attestation would be a forgery */
        if (r.verdict == PROV_VALID && !json_equal(patched, good)) {
            json_t *g = json_deep_copy(good), *p = json_deep_copy(patched);
            const char *proof[] = {"batch_size", "batch_index", "batch_path"};

            /* batch_size 1 with an empty path is the same proof as none */
            for (size_t i = 0; i < 3; i++) {
                json_object_del(g, proof[i]);
                json_object_del(p, proof[i]);
            }
            if (!json_equal(g, p))
                abort();
            json_decref(g);
            json_decref(p);
        }
        check(patched);
        /* the input as the object, against the valid attestation */
        if (prov_attest_verify(ver, in, good, &r, &d) != CTIX_OK)
            abort();
        if (r.verdict == PROV_VALID && !json_equal(in, obj)) {
            char *a = stix_canonical_json(in, NULL), *b = stix_canonical_json(obj, NULL);

            if (a == NULL || b == NULL || strcmp(a, b) != 0)
                abort();
            free(a);
            free(b);
        }
    }
    json_decref(in);
    json_decref(patched);
    return 0;
}
