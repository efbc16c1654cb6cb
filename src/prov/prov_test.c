/* Tests of prov/ through its public interface: keys and their files, the KEY text form,
 * attestations (single, batched, deletions) against tampering, and the audit chain in memory and
 * in its file. Each test that writes files gets its own mkdtemp directory. */
#include "prov/prov.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PUBLISHER "CSA Singapore"
#define T0        1718000000000000LL

/* A realistic indicator (~600 bytes), with a TLP:AMBER marking and an integer and a real. */
static const char indicator[] =
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"created_by_ref\":\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\","
    "\"created\":\"2024-06-10T08:15:00.000Z\",\"modified\":\"2024-06-10T09:30:00.000Z\","
    "\"name\":\"C2 server of the joint operation\","
    "\"description\":\"Command and control address seen in beacons from three sectors.\","
    "\"indicator_types\":[\"malicious-activity\"],"
    "\"pattern\":\"[ipv4-addr:value = '203.0.113.57']\",\"pattern_type\":\"stix\","
    "\"valid_from\":\"2024-06-10T08:15:00Z\",\"confidence\":85,"
    "\"labels\":[\"c2\",\"sg-jp-bilateral\"],"
    "\"kill_chain_phases\":[{\"kill_chain_name\":\"mitre-attack\","
    "\"phase_name\":\"command-and-control\"}],"
    "\"object_marking_refs\":[\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"],"
    "\"x_ctix_score\":0.75}";

/* The same object: other key order, other whitespace, other escapes of the same strings. */
static const char indicator_shuffled[] =
    "{ \"x_ctix_score\" : 75e-2, \"spec_version\":\"2.1\", \"type\":\"indicator\",\n"
    "  \"modified\":\"2024-06-10T09:30:00.000Z\",\"created\":\"2024-06-10T08:15:00.000Z\",\n"
    "  \"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\n"
    "  \"created_by_ref\":\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\",\n"
    "  \"description\":\"Command and control address seen in beacons from three sectors.\",\n"
    "  \"name\":\"C2 server of the joint \\u006fperation\", \"confidence\":85,\n"
    "  \"indicator_types\":[\"malicious-activity\"],\n"
    "  \"pattern_type\":\"stix\", \"pattern\":\"[ipv4-addr:value = '203.0.113.57']\",\n"
    "  \"valid_from\":\"2024-06-10T08:15:00Z\", \"labels\":[\"c2\",\"sg-jp-bilateral\"],\n"
    "  \"kill_chain_phases\":[{\"phase_name\":\"command-and-control\",\n"
    "      \"kill_chain_name\":\"mitre-attack\"}],\n"
    "  \"object_marking_refs\":[\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"]\n"
    "}\n";

struct fx {
    struct prov_key *key, *other;
    struct prov_trust_table trust;
    struct prov_verifier *ver;
    struct prov_sign_opts opts;
    char dir[64];
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static json_t *load(const char *text)
{
    json_t *j = NULL;

    assert_int_equal(stix_json_parse(text, strlen(text), &j, NULL), CTIX_OK);
    return j;
}

static json_t *indicator_n(unsigned i)
{
    json_t *j = load(indicator);
    char id[80];

    snprintf(id, sizeof(id), "indicator--8e2e2d2b-17d4-4cbf-938f-%012x", i);
    assert_int_equal(json_object_set_new(j, "id", json_string(id)), 0);
    return j;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_int_equal(prov_key_generate(&f->key), CTIX_OK);
    assert_int_equal(prov_key_generate(&f->other), CTIX_OK);
    prov_trust_table_init(&f->trust);
    assert_int_equal(prov_trust_table_add(&f->trust, "csa", prov_key_public(f->key)), CTIX_OK);
    assert_int_equal(prov_verifier_new(prov_trust_table_lookup, &f->trust, &f->ver), CTIX_OK);
    f->opts.publisher = PUBLISHER;
    f->opts.now_us = T0;
    ctix_strlcpy(f->dir, "/tmp/prov_test.XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    prov_verifier_free(f->ver);
    prov_trust_table_cleanup(&f->trust);
    prov_key_free(f->key);
    prov_key_free(f->other);
    free(f);
    return 0;
}

static json_t *sign1(struct fx *f, const json_t *obj)
{
    json_t *att = NULL;
    struct ctix_diag d;

    assert_int_equal(prov_attest_sign(&obj, 1, f->key, &f->opts, &att, &d), CTIX_OK);
    return att;
}

static enum prov_verdict verify(struct fx *f, const json_t *obj, const json_t *att,
                                struct ctix_diag *d)
{
    struct prov_result r;

    assert_int_equal(prov_attest_verify(f->ver, obj, att, &r, d), CTIX_OK);
    return r.verdict;
}

/* ---- keys ---- */

static void test_key_roundtrip(void **state)
{
    struct fx *f = *state;
    struct prov_key *k = NULL;
    struct ctix_diag d;
    struct stat sb;
    char path[128];
    json_t *obj = load(indicator), *att;

    assert_int_equal(prov_key_save(f->key, f->dir, &d), CTIX_OK);
    snprintf(path, sizeof(path), "%s/" PROV_KEY_FILE, f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(prov_key_load(f->dir, &k, &d), CTIX_OK);
    assert_true(prov_pubkey_equal(prov_key_public(k), prov_key_public(f->key)));
    /* what the loaded key signs, the saved key's public half verifies */
    assert_int_equal(prov_attest_sign((const json_t *const *)&obj, 1, k, &f->opts, &att, &d),
                     CTIX_OK);
    assert_int_equal(verify(f, obj, att, &d), PROV_VALID);
    /* never replaced */
    assert_int_equal(prov_key_save(f->other, f->dir, &d), CTIX_ECONFLICT);
    prov_key_free(k);
    k = NULL;
    assert_int_equal(prov_key_load(f->dir, &k, &d), CTIX_OK);
    assert_true(prov_pubkey_equal(prov_key_public(k), prov_key_public(f->key)));
    prov_key_free(k);
    json_decref(obj);
    json_decref(att);
}

static void test_key_file_is_pkcs8(void **state)
{
    struct fx *f = *state;
    struct ctix_diag d;
    char path[128], *text = NULL;
    size_t len = 0;

    assert_int_equal(prov_key_save(f->key, f->dir, &d), CTIX_OK);
    snprintf(path, sizeof(path), "%s/" PROV_KEY_FILE, f->dir);
    assert_int_equal(ctix_file_read(path, 4096, &text, &len, &d), CTIX_OK);
    /* RFC 8410 PKCS#8 of Ed25519 always begins MC4CAQAwBQYDK2VwBCIEI in base64 */
    assert_non_null(strstr(text, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"));
    assert_non_null(strstr(text, "-----END PRIVATE KEY-----\n"));
    free(text);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_key_load_errors(void **state)
{
    struct fx *f = *state;
    struct prov_key *k = NULL;
    struct ctix_diag d;
    char path[128];

    assert_int_equal(prov_key_load(f->dir, &k, &d), CTIX_ENOTFOUND);
    snprintf(path, sizeof(path), "%s/" PROV_KEY_FILE, f->dir);
    write_file(path, "garbage\n", 0600);
    assert_int_equal(prov_key_load(f->dir, &k, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "PKCS#8"));
    /* a P-256 key in PKCS#8: the right armour, the wrong algorithm */
    write_file(path,
               "-----BEGIN PRIVATE KEY-----\n"
               "MC4CAQAwBQYDK2VuBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
               "-----END PRIVATE KEY-----\n",
               0600);
    assert_int_equal(prov_key_load(f->dir, &k, &d), CTIX_EINVAL);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(prov_key_save(f->key, f->dir, &d), CTIX_OK);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(prov_key_load(f->dir, &k, &d), CTIX_EDENIED);
    assert_non_null(strstr(d.msg, "chmod 600"));
    assert_null(k);
}

static void test_pubkey_text(void **state)
{
    struct fx *f = *state;
    struct prov_pubkey pk;
    struct ctix_diag d;
    char text[PROV_PUBKEY_TEXT];

    prov_pubkey_format(prov_key_public(f->key), text);
    assert_int_equal(strlen(text), 51);
    assert_int_equal(strncmp(text, "ed25519:", 8), 0);
    assert_int_equal(prov_pubkey_parse(text, &pk, &d), CTIX_OK);
    assert_true(prov_pubkey_equal(&pk, prov_key_public(f->key)));
}

static void test_pubkey_parse_errors(void **state)
{
    static const struct {
        const char *in, *err;
    } cases[] = {
        {"", "starts with"},
        {"ed25519", "starts with"},
        {"ED25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "starts with"},
        {"ed448:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "starts with"},
        {" ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "starts with"},
        {"ed25519:", "43 base64url characters (got 0)"},
        {"ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR", "(got 42)"},
        {"ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "(got 44)"},
        {"ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo ", "(got 44)"},
        {"ed25519:11qYAYKxCrfVS+7TyWQHOg7hcvPapiMlrwIaaPcHURo", "character 22"},
        {"ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo", "not base64url"},
        {"ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR=", "character 51"},
        {"ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp", "stray bits"},
    };
    struct prov_pubkey pk;
    struct ctix_diag d;

    (void)state;
    assert_int_equal(
        prov_pubkey_parse("ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", &pk, &d), CTIX_OK);
    for (size_t i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        ctix_diag_clear(&d);
        if (prov_pubkey_parse(cases[i].in, &pk, &d) != CTIX_EINVAL || !strstr(d.msg, cases[i].err))
            fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].in, d.msg,
                     cases[i].err);
    }
    assert_int_equal(prov_pubkey_parse(NULL, &pk, &d), CTIX_EINVAL);
}

/* ---- attestations ---- */

static void test_sign_verify(void **state)
{
    struct fx *f = *state;
    json_t *obj = load(indicator), *att = sign1(f, obj);
    struct prov_result r;
    struct ctix_diag d;
    char keytext[PROV_PUBKEY_TEXT];

    assert_int_equal(stix_validate(att, &d), CTIX_OK);
    assert_true(prov_is_attestation(att));
    assert_false(prov_is_attestation(obj));
    assert_int_equal(prov_attest_verify(f->ver, obj, att, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_VALID);
    assert_string_equal(prov_verdict_name(r.verdict), "valid");
    assert_string_equal(r.org, "csa");
    assert_string_equal(r.publisher, PUBLISHER);
    assert_string_equal(r.object_ref, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    assert_string_equal(r.object_modified, "2024-06-10T09:30:00.000Z");
    assert_int_equal(r.statement, PROV_PUBLISH);
    prov_pubkey_format(prov_key_public(f->key), keytext);
    assert_string_equal(json_string_value(json_object_get(att, "public_key")), keytext);
    assert_string_equal(json_string_value(json_object_get(att, "created")),
                        "2024-06-10T06:13:20.000000Z");
    assert_null(json_object_get(att, "batch_path"));
    /* the same statement by the same key keeps its id */
    {
        json_t *again;

        f->opts.now_us = T0 + 1000;
        again = sign1(f, obj);
        assert_string_equal(json_string_value(json_object_get(att, "id")),
                            json_string_value(json_object_get(again, "id")));
        assert_string_not_equal(json_string_value(json_object_get(att, "modified")),
                                json_string_value(json_object_get(again, "modified")));
        json_decref(again);
    }
    json_decref(obj);
    json_decref(att);
}

/* Every byte position of the object's text that can change while it stays valid JSON and
 * changes its value makes verification fail: here, each character of the pattern. */
static void test_one_byte_change(void **state)
{
    struct fx *f = *state;
    json_t *obj = load(indicator), *att = sign1(f, obj);
    const char *pat = json_string_value(json_object_get(obj, "pattern"));
    size_t n = strlen(pat);
    struct ctix_diag d;

    for (size_t i = 0; i < n; i++) {
        char *mut = strdup(pat);
        json_t *o2 = json_deep_copy(obj);

        mut[i] = mut[i] == 'x' ? 'y' : 'x';
        json_object_set_new(o2, "pattern", json_string(mut));
        assert_int_equal(verify(f, o2, att, &d), PROV_BAD_SIGNATURE);
        assert_non_null(strstr(d.msg, "differs from what the publisher signed"));
        free(mut);
        json_decref(o2);
    }
    /* a number, a list order, an added property */
    {
        json_t *o2 = json_deep_copy(obj);

        json_object_set_new(o2, "confidence", json_integer(86));
        assert_int_equal(verify(f, o2, att, &d), PROV_BAD_SIGNATURE);
        json_object_set_new(o2, "confidence", json_integer(85));
        assert_int_equal(verify(f, o2, att, &d), PROV_VALID);
        json_object_set_new(o2, "labels", json_pack("[ss]", "sg-jp-bilateral", "c2"));
        assert_int_equal(verify(f, o2, att, &d), PROV_BAD_SIGNATURE);
        json_decref(o2);
        o2 = json_deep_copy(obj);
        json_object_set_new(o2, "x_extra", json_true());
        assert_int_equal(verify(f, o2, att, &d), PROV_BAD_SIGNATURE);
        json_decref(o2);
    }
    json_decref(obj);
    json_decref(att);
}

/* A relay changes a signed property of the attestation itself. */
static void test_attestation_altered(void **state)
{
    static const char *const props[] = {"publisher", "created", "id", "object_marking_refs"};
    struct fx *f = *state;
    json_t *obj = load(indicator), *att = sign1(f, obj);
    struct ctix_diag d;

    for (size_t i = 0; i < CTIX_ARRAY_LEN(props); i++) {
        json_t *a2 = json_deep_copy(att);

        if (strcmp(props[i], "object_marking_refs") == 0)
            json_object_del(a2, props[i]);
        else if (strcmp(props[i], "id") == 0)
            json_object_set_new(a2, "id",
                                json_string("x-ctix-attestation--00000000-0000-4000-8000-"
                                            "000000000000"));
        else
            json_object_set_new(a2, props[i], json_string("2024-06-10T06:13:21.000Z"));
        if (verify(f, obj, a2, &d) != PROV_BAD_SIGNATURE)
            fail_msg("altering %s went unnoticed", props[i]);
        assert_non_null(strstr(d.msg, "signature does not match"));
        json_decref(a2);
    }
    /* the signature itself */
    {
        json_t *a2 = json_deep_copy(att);
        char *sig = strdup(json_string_value(json_object_get(att, "signature")));

        sig[10] = sig[10] == 'A' ? 'B' : 'A';
        json_object_set_new(a2, "signature", json_string(sig));
        assert_int_equal(verify(f, obj, a2, &d), PROV_BAD_SIGNATURE);
        free(sig);
        json_decref(a2);
    }
    /* a forger re-signs with its own key but claims the trusted key */
    {
        json_t *forged = NULL;
        const json_t *o = obj;

        assert_int_equal(prov_attest_sign(&o, 1, f->other, &f->opts, &forged, &d), CTIX_OK);
        json_object_set(forged, "public_key", json_object_get(att, "public_key"));
        assert_int_equal(verify(f, obj, forged, &d), PROV_BAD_SIGNATURE);
        json_decref(forged);
    }
    json_decref(obj);
    json_decref(att);
}

static void test_swapped(void **state)
{
    struct fx *f = *state;
    json_t *a = indicator_n(1), *b = indicator_n(2), *atta = sign1(f, a), *attb = sign1(f, b);
    json_t *a2 = json_deep_copy(a), *moved;
    struct ctix_diag d;

    assert_int_equal(verify(f, b, atta, &d), PROV_MISMATCH);
    assert_non_null(strstr(d.msg, "attests indicator--"));
    assert_int_equal(verify(f, a, attb, &d), PROV_MISMATCH);
    /* another version of the same object */
    json_object_set_new(a2, "modified", json_string("2024-06-11T00:00:00.000Z"));
    assert_int_equal(verify(f, a2, atta, &d), PROV_MISMATCH);
    assert_non_null(strstr(d.msg, "version"));
    /* the relay points a's attestation at b: the digest still speaks of a */
    moved = json_deep_copy(atta);
    json_object_set(moved, "object_ref", json_object_get(b, "id"));
    assert_int_equal(verify(f, b, moved, &d), PROV_BAD_SIGNATURE);
    /* and with b's digest too: the signature covers both */
    json_object_set(moved, "object_sha256", json_object_get(attb, "object_sha256"));
    assert_int_equal(verify(f, b, moved, &d), PROV_BAD_SIGNATURE);
    json_decref(moved);
    json_decref(a);
    json_decref(b);
    json_decref(a2);
    json_decref(atta);
    json_decref(attb);
}

static void test_unknown_publisher(void **state)
{
    struct fx *f = *state;
    json_t *obj = load(indicator), *att = NULL;
    const json_t *o = obj;
    struct prov_result r;
    struct ctix_diag d;

    assert_int_equal(prov_attest_sign(&o, 1, f->other, &f->opts, &att, &d), CTIX_OK);
    assert_int_equal(prov_attest_verify(f->ver, obj, att, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_UNKNOWN_PUBLISHER);
    assert_string_equal(r.org, "");
    assert_non_null(strstr(d.msg, "does not trust"));
    assert_true(prov_pubkey_equal(&r.key, prov_key_public(f->other)));
    /* trusted from now on */
    assert_int_equal(prov_trust_table_add(&f->trust, "nisc", prov_key_public(f->other)), CTIX_OK);
    assert_int_equal(prov_trust_table_add(&f->trust, "dup", prov_key_public(f->other)),
                     CTIX_ECONFLICT);
    assert_int_equal(prov_attest_verify(f->ver, obj, att, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_VALID);
    assert_string_equal(r.org, "nisc");
    json_decref(obj);
    json_decref(att);
}

static void test_canonical_independence(void **state)
{
    struct fx *f = *state;
    json_t *obj = load(indicator), *same = load(indicator_shuffled), *att = sign1(f, obj);
    struct ctix_diag d;

    assert_int_equal(verify(f, same, att, &d), PROV_VALID);
    json_decref(att);
    att = sign1(f, same);
    assert_int_equal(verify(f, obj, att, &d), PROV_VALID);
    json_decref(obj);
    json_decref(same);
    json_decref(att);
}

static void test_markings_copied(void **state)
{
    struct fx *f = *state;
    json_t *obj = load(indicator), *att;
    struct ctix_diag d;

    /* a stricter granular marking: the attestation must be as strict as the object */
    json_object_set_new(obj, "granular_markings",
                        json_pack("[{s:s,s:[s]}]", "marking_ref",
                                  "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                                  "selectors", "description"));
    att = sign1(f, obj);
    assert_int_equal(stix_validate(att, &d), CTIX_OK);
    assert_int_equal(stix_tlp_effective(att), STIX_TLP_AMBER_STRICT);
    assert_int_equal(stix_tlp_effective(att), stix_tlp_effective(obj));
    json_decref(att);
    json_object_del(obj, "granular_markings");
    att = sign1(f, obj);
    assert_int_equal(stix_tlp_effective(att), STIX_TLP_AMBER);
    json_decref(att);
    json_object_del(obj, "object_marking_refs");
    att = sign1(f, obj);
    assert_null(json_object_get(att, "object_marking_refs"));
    assert_int_equal(stix_validate(att, &d), CTIX_OK);
    assert_int_equal(verify(f, obj, att, &d), PROV_VALID);
    json_decref(att);
    json_decref(obj);
}

/* The text signer: every attestation parses, verifies, validates, and its text before the proof
 * is exactly the canonical JSON of its unsigned members (the leaf), markings deduplicated as
 * copy_markings does; a failure leaves the buffer as it was. */
static void test_sign_text(void **state)
{
    struct fx *f = *state;
    json_t *objs[3], *att, *un;
    const json_t *co[3];
    struct prov_att_text at[3];
    struct buf texts;
    struct ctix_diag d;
    char *canon;
    size_t len;

    buf_init(&texts, 1 << 20);
    assert_int_equal(buf_appends(&texts, "keep"), CTIX_OK);
    for (unsigned i = 0; i < 3; i++) {
        objs[i] = indicator_n(i + 1);
        co[i] = objs[i];
    }
    /* a granular ref equal to an object ref, a new one twice, a non-string */
    json_object_set_new(
        objs[1], "granular_markings",
        json_pack(
            "[{s:s,s:[s]},{s:s,s:[s]},{s:s,s:[s]},{s:i,s:[s]}]", "marking_ref",
            json_string_value(json_array_get(json_object_get(objs[1], "object_marking_refs"), 0)),
            "selectors", "name", "marking_ref",
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "selectors", "description",
            "marking_ref", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "selectors",
            "name", "marking_ref", 7, "selectors", "pattern"));
    json_object_del(objs[2], "object_marking_refs");
    assert_int_equal(prov_attest_sign_text(co, 3, f->key, &f->opts, &texts, at, &d), CTIX_OK);
    assert_memory_equal(texts.data, "keep", 4);
    for (unsigned i = 0; i < 3; i++) {
        const char *proof;

        att = json_loadb(texts.data + at[i].off, at[i].len, 0, NULL);
        assert_non_null(att);
        assert_string_equal(json_string_value(json_object_get(att, "id")), at[i].id);
        assert_string_equal(json_string_value(json_object_get(att, "modified")), at[i].modified);
        assert_int_equal(stix_validate(att, &d), CTIX_OK);
        assert_int_equal(verify(f, objs[i], att, &d), PROV_VALID);
        assert_int_equal(stix_tlp_effective(att), stix_tlp_effective(objs[i]));
        un = json_deep_copy(att);
        json_object_del(un, "signature");
        json_object_del(un, "batch_size");
        json_object_del(un, "batch_index");
        json_object_del(un, "batch_path");
        canon = stix_canonical_json(un, &len);
        assert_non_null(canon);
        proof = strstr(texts.data + at[i].off, ",\"batch_size\"");
        assert_non_null(proof);
        assert_int_equal((size_t)(proof - (texts.data + at[i].off)), len - 1);
        assert_memory_equal(texts.data + at[i].off, canon, len - 1);
        if (i == 1)
            assert_int_equal(json_array_size(json_object_get(att, "object_marking_refs")), 2);
        if (i == 2)
            assert_null(json_object_get(att, "object_marking_refs"));
        free(canon);
        json_decref(un);
        json_decref(att);
    }
    /* the same attestations as prov_attest_sign, signature included (Ed25519 is deterministic) */
    {
        json_t *outs[3];
        size_t base = texts.len;

        f->opts.now_us = T0;
        assert_int_equal(prov_attest_sign(co, 3, f->key, &f->opts, outs, &d), CTIX_OK);
        assert_int_equal(prov_attest_sign_text(co, 3, f->key, &f->opts, &texts, at, &d), CTIX_OK);
        for (unsigned i = 0; i < 3; i++) {
            assert_true(at[i].off >= base);
            att = json_loadb(texts.data + at[i].off, at[i].len, 0, NULL);
            assert_non_null(att);
            assert_true(json_equal(att, outs[i]));
            json_decref(att);
            json_decref(outs[i]);
        }
    }
    /* a failure adds nothing */
    len = texts.len;
    json_object_del(objs[2], "id");
    assert_int_equal(prov_attest_sign_text(co, 3, f->key, &f->opts, &texts, at, &d), CTIX_EINVAL);
    assert_int_equal(texts.len, len);
    for (unsigned i = 0; i < 3; i++)
        json_decref(objs[i]);
    buf_cleanup(&texts);
}

static void test_sign_errors(void **state)
{
    struct fx *f = *state;
    json_t *obj = load(indicator), *att = NULL;
    const json_t *o = obj;
    struct ctix_diag d;

    assert_int_equal(prov_attest_sign(&o, 0, f->key, &f->opts, &att, &d), CTIX_EINVAL);
    f->opts.publisher = "";
    assert_int_equal(prov_attest_sign(&o, 1, f->key, &f->opts, &att, &d), CTIX_EINVAL);
    f->opts.publisher = PUBLISHER;
    json_object_set_new(obj, "x_big", json_integer(((json_int_t)1 << 53) + 1));
    assert_int_equal(prov_attest_sign(&o, 1, f->key, &f->opts, &att, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "2^53"));
    json_object_del(obj, "id");
    assert_int_equal(prov_attest_sign(&o, 1, f->key, &f->opts, &att, &d), CTIX_EINVAL);
    assert_null(att);
    json_decref(obj);
}

/* Each required property removed or mistyped: malformed, with the property named. */
static void test_malformed(void **state)
{
    static const char *const req[] = {"statement", "object_ref", "publisher",     "public_key",
                                      "algorithm", "signature",  "object_sha256", "type"};
    struct fx *f = *state;
    json_t *obj = load(indicator), *att = sign1(f, obj), *a2;
    struct ctix_diag d;

    for (size_t i = 0; i < CTIX_ARRAY_LEN(req); i++) {
        a2 = json_deep_copy(att);
        json_object_del(a2, req[i]);
        if (verify(f, obj, a2, &d) != PROV_MALFORMED || strcmp(d.where, req[i]) != 0)
            fail_msg("without %s: %s at %s", req[i], d.msg, d.where);
        json_object_set_new(a2, req[i], json_integer(1));
        assert_int_equal(verify(f, obj, a2, &d), PROV_MALFORMED);
        json_decref(a2);
    }
    a2 = json_deep_copy(att);
    json_object_set_new(a2, "algorithm", json_string("rsa"));
    assert_int_equal(verify(f, obj, a2, &d), PROV_MALFORMED);
    json_object_set_new(a2, "algorithm", json_string("ed25519"));
    json_object_set_new(a2, "batch_index", json_integer(1));
    assert_int_equal(verify(f, obj, a2, &d), PROV_MALFORMED);
    json_object_set_new(a2, "batch_size", json_integer(2));
    assert_int_equal(verify(f, obj, a2, &d), PROV_BAD_SIGNATURE);
    json_decref(a2);
    json_decref(obj);
    json_decref(att);
}

/* Batches of every size up to 33 (and 70): each object verifies alone; the proof of one does
 * not fit another; a changed sibling hash fails. */
static void test_batch(void **state)
{
    struct fx *f = *state;
    json_t *objs[70], *atts[70];
    struct ctix_diag d;
    size_t sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 70};

    for (size_t i = 0; i < 70; i++)
        objs[i] = indicator_n((unsigned)i);
    for (size_t s = 0; s < CTIX_ARRAY_LEN(sizes); s++) {
        size_t n = sizes[s];
        struct prov_verifier *fresh = NULL;

        assert_int_equal(
            prov_attest_sign((const json_t *const *)objs, n, f->key, &f->opts, atts, &d), CTIX_OK);
        assert_int_equal(prov_verifier_new(prov_trust_table_lookup, &f->trust, &fresh), CTIX_OK);
        for (size_t i = 0; i < n; i++) {
            struct prov_result r;

            assert_int_equal(prov_attest_verify(fresh, objs[i], atts[i], &r, &d), CTIX_OK);
            if (r.verdict != PROV_VALID)
                fail_msg("n=%zu i=%zu: %s", n, i, d.msg);
            assert_int_equal(stix_validate(atts[i], &d), CTIX_OK);
        }
        prov_verifier_free(fresh);
        if (n > 1) {
            json_t *a2 = json_deep_copy(atts[n - 1]);
            json_t *path = json_object_get(a2, "batch_path");
            char *h = strdup(json_string_value(json_array_get(path, 0)));

            /* a wrong index: the proof leads elsewhere */
            json_object_set_new(a2, "batch_index", json_integer(0));
            assert_int_equal(verify(f, objs[n - 1], a2, &d), PROV_BAD_SIGNATURE);
            json_object_set(a2, "batch_index", json_object_get(atts[n - 1], "batch_index"));
            assert_int_equal(verify(f, objs[n - 1], a2, &d), PROV_VALID);
            h[0] = h[0] == '0' ? '1' : '0';
            json_array_set_new(path, 0, json_string(h));
            assert_int_equal(verify(f, objs[n - 1], a2, &d), PROV_BAD_SIGNATURE);
            /* a proof with one hash too many or too few */
            json_array_append_new(path, json_string(h));
            assert_int_equal(verify(f, objs[n - 1], a2, &d), PROV_BAD_SIGNATURE);
            free(h);
            json_decref(a2);
        }
        for (size_t i = 0; i < n; i++)
            json_decref(atts[i]);
    }
    for (size_t i = 0; i < 70; i++)
        json_decref(objs[i]);
}

static void test_delete(void **state)
{
    struct fx *f = *state;
    json_t *obj = load(indicator), *del = NULL, *all = NULL, *pub = sign1(f, obj), *a2;
    struct prov_result r;
    struct ctix_diag d;

    assert_int_equal(prov_attest_sign_delete(obj, false, f->key, &f->opts, &del, &d), CTIX_OK);
    assert_int_equal(prov_attest_sign_delete(obj, true, f->key, &f->opts, &all, &d), CTIX_OK);
    assert_int_equal(stix_validate(del, &d), CTIX_OK);
    assert_int_equal(stix_validate(all, &d), CTIX_OK);
    assert_int_equal(stix_tlp_effective(del), STIX_TLP_AMBER);
    assert_string_not_equal(json_string_value(json_object_get(del, "id")),
                            json_string_value(json_object_get(pub, "id")));

    assert_int_equal(prov_attest_verify_delete(f->ver, del, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_VALID);
    assert_int_equal(r.statement, PROV_DELETE);
    assert_false(r.all_versions);
    assert_string_equal(r.object_ref, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    assert_string_equal(r.object_modified, "2024-06-10T09:30:00.000Z");
    assert_true(prov_pubkey_equal(&r.key, prov_key_public(f->key)));

    assert_int_equal(prov_attest_verify_delete(f->ver, all, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_VALID);
    assert_true(r.all_versions);
    assert_string_equal(r.object_modified, "");

    /* a publication is no deletion, and a deletion no publication */
    assert_int_equal(prov_attest_verify_delete(f->ver, pub, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_MISMATCH);
    assert_int_equal(verify(f, obj, del, &d), PROV_MISMATCH);
    /* turning a publication into a deletion needs the publisher's key */
    a2 = json_deep_copy(pub);
    json_object_set_new(a2, "statement", json_string("delete"));
    assert_int_equal(prov_attest_verify_delete(f->ver, a2, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_BAD_SIGNATURE);
    json_decref(a2);
    /* a deletion moved to another object, or widened to all versions */
    a2 = json_deep_copy(del);
    json_object_set_new(a2, "object_ref",
                        json_string("indicator--00000000-17d4-4cbf-938f-98ee46b3cd3f"));
    assert_int_equal(prov_attest_verify_delete(f->ver, a2, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_BAD_SIGNATURE);
    json_decref(a2);
    a2 = json_deep_copy(del);
    json_object_del(a2, "object_modified");
    assert_int_equal(prov_attest_verify_delete(f->ver, a2, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_BAD_SIGNATURE);
    json_decref(a2);
    /* by another node: a valid signature, but the caller sees it is not the publisher's key */
    json_decref(del);
    assert_int_equal(prov_trust_table_add(&f->trust, "nisc", prov_key_public(f->other)), CTIX_OK);
    assert_int_equal(prov_attest_sign_delete(obj, false, f->other, &f->opts, &del, &d), CTIX_OK);
    assert_int_equal(prov_attest_verify_delete(f->ver, del, &r, &d), CTIX_OK);
    assert_int_equal(r.verdict, PROV_VALID);
    assert_false(prov_pubkey_equal(&r.key, prov_key_public(f->key)));
    json_decref(obj);
    json_decref(del);
    json_decref(all);
    json_decref(pub);
}

/* ---- audit: the pure chain ---- */

static void entry_fill(struct prov_audit_entry *e, unsigned i)
{
    memset(e, 0, sizeof(*e));
    e->time_us = T0 + (int64_t)i * 1000;
    ctix_strlcpy(e->event, i % 3 == 0 ? "denied" : "sent", sizeof(e->event));
    ctix_strlcpy(e->actor, "NISC Japan", sizeof(e->actor));
    snprintf(e->object_id, sizeof(e->object_id), "indicator--8e2e2d2b-17d4-4cbf-938f-%012x", i);
    ctix_strlcpy(e->version, "2024-06-10T09:30:00.000Z", sizeof(e->version));
    ctix_strlcpy(e->channel, "sync", sizeof(e->channel));
    ctix_strlcpy(e->verdict, i % 3 == 0 ? "deny" : "allow", sizeof(e->verdict));
    ctix_strlcpy(e->reason, i % 3 == 0 ? "amber beyond the agreement (green) \"quoted\"" : "",
                 sizeof(e->reason));
}

/* Runs the checker over e[0..n); returns the seq where it failed, 0 if it held. */
static uint64_t check_chain(const struct prov_audit_entry *e, size_t n)
{
    struct prov_audit_check c;
    struct ctix_diag d;

    prov_audit_check_init(&c);
    for (size_t i = 0; i < n; i++) {
        if (prov_audit_check_next(&c, &e[i], &d) != CTIX_OK)
            return c.head.seq + 1;
    }
    return 0;
}

static void test_audit_chain(void **state)
{
    struct prov_audit_entry e[10], t[10];
    struct prov_audit_head head = {0};
    char *enc = NULL;
    size_t len = 0;

    (void)state;
    for (unsigned i = 0; i < 10; i++) {
        entry_fill(&e[i], i + 1);
        assert_int_equal(prov_audit_entry_seal(&head, &e[i]), CTIX_OK);
        assert_int_equal(e[i].seq, i + 1);
    }
    assert_int_equal(head.seq, 10);
    assert_memory_equal(head.hash, e[9].hash, 32);
    assert_int_equal(check_chain(e, 10), 0);
    /* the canonical encoding: sorted keys, no spaces */
    assert_int_equal(prov_audit_entry_encode(&e[2], &enc, &len), CTIX_OK);
    assert_int_equal(strncmp(enc,
                             "{\"actor\":\"NISC Japan\",\"channel\":\"sync\",\"event\":\"denied\","
                             "\"object_id\":\"indicator--",
                             80),
                     0);
    assert_non_null(strstr(enc, "\"reason\":\"amber beyond the agreement (green) \\\"quoted\\\"\","
                                "\"seq\":3,\"time\":\"2024-06-10T06:13:20.003000Z\","
                                "\"verdict\":\"deny\",\"version\":"));
    free(enc);
    /* altered */
    memcpy(t, e, sizeof(e));
    ctix_strlcpy(t[4].verdict, "deny", sizeof(t[4].verdict));
    assert_int_equal(check_chain(t, 10), 5);
    memcpy(t, e, sizeof(e));
    t[6].time_us++;
    assert_int_equal(check_chain(t, 10), 7);
    /* removed */
    memcpy(t, e, sizeof(e));
    memmove(&t[3], &t[4], 6 * sizeof(t[0]));
    assert_int_equal(check_chain(t, 9), 4);
    /* reordered */
    memcpy(t, e, sizeof(e));
    t[5] = e[6];
    t[6] = e[5];
    assert_int_equal(check_chain(t, 10), 6);
    /* removed and renumbered, hashes recomputed from there on: prev still breaks */
    memcpy(t, e, sizeof(e));
    memmove(&t[3], &t[4], 6 * sizeof(t[0]));
    for (size_t i = 3; i < 9; i++) {
        t[i].seq = i + 1;
        assert_int_equal(prov_audit_entry_hash(&t[i], t[i].hash), CTIX_OK);
    }
    assert_int_equal(check_chain(t, 9), 4);
    /* inserted */
    memcpy(t, e, 3 * sizeof(e[0]));
    t[3] = e[2];
    assert_int_equal(check_chain(t, 4), 4);
    /* not UTF-8 */
    memcpy(t, e, sizeof(e));
    t[0].reason[0] = (char)0xc0;
    t[0].reason[1] = (char)0x80;
    t[0].reason[2] = '\0';
    assert_int_equal(prov_audit_entry_hash(&t[0], t[0].hash), CTIX_EINVAL);
}

/* ---- audit: the file ---- */

static char *read_all(const char *path, size_t *len)
{
    char *text = NULL;
    struct ctix_diag d;

    assert_int_equal(ctix_file_read(path, 1 << 20, &text, len, &d), CTIX_OK);
    return text;
}

static void write_all_text(const char *path, const char *p, size_t n)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

/* Offsets of the starts of lines: starts[i] for line i+1, starts[n] = len. */
static size_t line_starts(const char *p, size_t len, size_t *starts, size_t max)
{
    size_t n = 0;

    starts[n++] = 0;
    for (size_t i = 0; i < len && n < max; i++) {
        if (p[i] == '\n')
            starts[n++] = i + 1;
    }
    return n - 1;
}

static void append_n(const char *dir, unsigned from, unsigned n)
{
    struct prov_audit_log *log = NULL;
    struct prov_audit_entry e;
    struct ctix_diag d;

    assert_int_equal(prov_audit_open(dir, &log, &d), CTIX_OK);
    for (unsigned i = from; i < from + n; i++) {
        entry_fill(&e, i);
        assert_int_equal(prov_audit_append(log, &e, &d), CTIX_OK);
        assert_int_equal(e.seq, i);
    }
    assert_int_equal(prov_audit_sync(log, &d), CTIX_OK);
    prov_audit_close(log);
}

static void expect_bad(const char *dir, uint64_t seq, uint64_t line, const char *msg)
{
    struct prov_audit_report rep;
    struct ctix_diag d;

    ctix_diag_clear(&d);
    assert_int_equal(prov_audit_file_verify(dir, &rep, &d), CTIX_EINVAL);
    if (rep.bad_seq != seq || rep.bad_line != line || strstr(d.msg, msg) == NULL)
        fail_msg("want seq %llu line %llu \"%s\", got seq %llu line %llu \"%s\"",
                 (unsigned long long)seq, (unsigned long long)line, msg,
                 (unsigned long long)rep.bad_seq, (unsigned long long)rep.bad_line, d.msg);
    assert_int_equal(rep.n_entries, seq - 1);
}

static void test_audit_file(void **state)
{
    struct fx *f = *state;
    struct prov_audit_report rep;
    struct prov_audit_log *log = NULL;
    struct prov_audit_head head;
    struct ctix_diag d;
    struct stat sb;
    char path[128], *orig, *mut;
    size_t len = 0, st[64], n;

    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_ENOTFOUND);
    append_n(f->dir, 1, 12);
    append_n(f->dir, 13, 8); /* reopened: the chain goes on */
    snprintf(path, sizeof(path), "%s/" PROV_AUDIT_FILE, f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_int_equal(rep.n_entries, 20);
    assert_int_equal(rep.head.seq, 20);
    assert_int_equal(rep.bad_seq, 0);
    assert_int_equal(prov_audit_open(f->dir, &log, &d), CTIX_OK);
    prov_audit_head_get(log, &head);
    assert_int_equal(head.seq, 20);
    assert_memory_equal(head.hash, rep.head.hash, 32);
    prov_audit_close(log);

    orig = read_all(path, &len);
    n = line_starts(orig, len, st, 64);
    assert_int_equal(n, 20);
    mut = malloc(2 * len); /* room for an inserted line */
    assert_non_null(mut);

    /* removed: line 5 */
    memcpy(mut, orig, st[4]);
    memcpy(mut + st[4], orig + st[5], len - st[5]);
    write_all_text(path, mut, len - (st[5] - st[4]));
    expect_bad(f->dir, 5, 5, "found seq 6");

    /* altered: "allow" to "alloW" in line 7 */
    memcpy(mut, orig, len);
    {
        char *v = strstr(mut + st[6], "\"verdict\":\"allow\"");

        assert_non_null(v);
        assert_true((size_t)(v - mut) < st[7]);
        v[strlen("\"verdict\":\"allo")] = 'W';
    }
    write_all_text(path, mut, len);
    expect_bad(f->dir, 7, 7, "altered");

    /* reordered: lines 3 and 4 swapped */
    memcpy(mut, orig, st[2]);
    memcpy(mut + st[2], orig + st[3], st[4] - st[3]);
    memcpy(mut + st[2] + (st[4] - st[3]), orig + st[2], st[3] - st[2]);
    memcpy(mut + st[4], orig + st[4], len - st[4]);
    write_all_text(path, mut, len);
    expect_bad(f->dir, 3, 3, "found seq 4");

    /* truncated in the middle: line 10 cut half way and joined to line 11 */
    {
        size_t half = (st[10] - st[9]) / 2, m = 0;

        memcpy(mut, orig, st[9] + half);
        m = st[9] + half;
        memcpy(mut + m, orig + st[10], len - st[10]);
        m += len - st[10];
        write_all_text(path, mut, m);
        expect_bad(f->dir, 10, 10, "line 10");
    }

    /* the tail cut: verify reports the partial entry, open refuses to append after it */
    write_all_text(path, orig, st[19] + 10);
    expect_bad(f->dir, 20, 20, "partial");
    assert_int_equal(prov_audit_open(f->dir, &log, &d), CTIX_EIO);
    assert_non_null(strstr(d.msg, "partial"));

    /* whole entries cut from the end: the chain holds, only a kept head shows it */
    write_all_text(path, orig, st[15]);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_int_equal(rep.head.seq, 15);
    assert_int_not_equal(rep.head.seq, head.seq);

    /* an inserted copy of line 2 */
    memcpy(mut, orig, st[2]);
    memcpy(mut + st[2], orig + st[1], st[2] - st[1]);
    memcpy(mut + st[2] + (st[2] - st[1]), orig + st[2], len - st[2]);
    write_all_text(path, mut, len + (st[2] - st[1]));
    expect_bad(f->dir, 3, 3, "found seq 2");

    /* an empty log holds */
    write_all_text(path, "", 0);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_int_equal(rep.n_entries, 0);
    free(mut);
    free(orig);
}

/* Writes e = entry_fill(from..from+n) to DIR/audit.log through a log that knows key (or none),
 * with reason "forged" in entry `forge` (0: none); sync says whether to sync before closing. */
static void append_keyed(const char *dir, const struct prov_key *key, unsigned from, unsigned n,
                         unsigned forge, bool sync)
{
    struct prov_audit_log *log = NULL;
    struct prov_audit_entry e;
    struct ctix_diag d;

    assert_int_equal(prov_audit_open(dir, &log, &d), CTIX_OK);
    if (key != NULL)
        prov_audit_set_key(log, key);
    for (unsigned i = from; i < from + n; i++) {
        entry_fill(&e, i);
        if (i == forge)
            ctix_strlcpy(e.reason, "forged", sizeof(e.reason));
        assert_int_equal(prov_audit_append(log, &e, &d), CTIX_OK);
    }
    if (sync)
        assert_int_equal(prov_audit_sync(log, &d), CTIX_OK);
    prov_audit_close(log);
}

/* The signed head anchors the end of the chain and its hashes: cutting whole entries off the end,
 * recomputing the chain after an edit, or a head signed by another key all fail verify. */
static void test_audit_head(void **state)
{
    struct fx *f = *state;
    struct prov_audit_report rep;
    struct prov_audit_log *log = NULL;
    struct prov_audit_entry e;
    struct ctix_diag d;
    struct stat sb;
    char path[256], hpath[256], forge[256], fpath[300], *orig, *horig, *forged;
    size_t len = 0, hlen = 0, flen = 0, st[16];

    snprintf(path, sizeof(path), "%s/" PROV_AUDIT_FILE, f->dir);
    snprintf(hpath, sizeof(hpath), "%s/" PROV_AUDIT_HEAD, f->dir);
    assert_int_equal(prov_key_save(f->key, f->dir, &d), CTIX_OK);

    /* a sync with a key writes the head (0600); verify anchors the whole log */
    append_keyed(f->dir, f->key, 1, 6, 0, true);
    assert_int_equal(stat(hpath, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    ctix_diag_clear(&d);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_true(rep.signed_head);
    assert_int_equal(rep.anchor.seq, 6);
    assert_memory_equal(rep.anchor.hash, rep.head.hash, 32);
    assert_int_equal(rep.unanchored, 0);

    /* appended but not synced: allowed, counted; close syncs and moves the head */
    assert_int_equal(prov_audit_open(f->dir, &log, &d), CTIX_OK);
    prov_audit_set_key(log, f->key);
    for (unsigned i = 7; i <= 8; i++) {
        entry_fill(&e, i);
        assert_int_equal(prov_audit_append(log, &e, &d), CTIX_OK);
    }
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_int_equal(rep.n_entries, 8);
    assert_int_equal(rep.anchor.seq, 6);
    assert_int_equal(rep.unanchored, 2);
    prov_audit_close(log);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_int_equal(rep.anchor.seq, 8);
    assert_int_equal(rep.unanchored, 0);
    horig = read_all(hpath, &hlen);
    assert_non_null(strstr(horig, "\"seq\":8,"));
    orig = read_all(path, &len);
    assert_int_equal(line_starts(orig, len, st, 16), 8);

    /* the last 2 entries cut off: the chain holds, the head does not */
    write_all_text(path, orig, st[6]);
    ctix_diag_clear(&d);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "entries removed from the end (log ends at seq 6, the signed "
                                  "head is at seq 8)"));
    assert_int_equal(rep.n_entries, 6);

    /* an edit with every hash recomputed (no key): a chain that holds on its own, but seq 8's
     * hash is not the signed one */
    snprintf(forge, sizeof(forge), "%s/forge", f->dir);
    assert_int_equal(mkdir(forge, 0700), 0);
    append_keyed(forge, NULL, 1, 8, 3, true);
    assert_int_equal(prov_audit_file_verify(forge, &rep, &d), CTIX_OK);
    assert_false(rep.signed_head);
    snprintf(fpath, sizeof(fpath), "%s/" PROV_AUDIT_FILE, forge);
    forged = read_all(fpath, &flen);
    assert_non_null(strstr(forged, "\"reason\":\"forged\""));
    write_all_text(path, forged, flen);
    expect_bad(f->dir, 8, 8, "not the one in the signed audit.head");
    {
        /* the same forgery by hand with prov_audit_entry_seal: only seq 3 differs, yet every
         * hash from there on changes, seq 8's included */
        struct prov_audit_head a, b;

        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        for (unsigned i = 1; i <= 8; i++) {
            entry_fill(&e, i);
            assert_int_equal(prov_audit_entry_seal(&a, &e), CTIX_OK);
            entry_fill(&e, i);
            if (i == 3)
                ctix_strlcpy(e.reason, "forged", sizeof(e.reason));
            assert_int_equal(prov_audit_entry_seal(&b, &e), CTIX_OK);
        }
        assert_int_equal(a.seq, 8);
        assert_int_equal(b.seq, 8);
        assert_memory_not_equal(a.hash, b.hash, 32);
        assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_EINVAL);
        assert_memory_equal(rep.anchor.hash, a.hash, 32);
    }
    write_all_text(path, orig, len);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);

    /* a head signed by another key (the forger's own), and a head whose seq was edited */
    assert_int_equal(prov_audit_open(f->dir, &log, &d), CTIX_OK);
    prov_audit_set_key(log, f->other);
    assert_int_equal(prov_audit_sync(log, &d), CTIX_OK);
    prov_audit_close(log);
    ctix_diag_clear(&d);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "audit.head is not signed by this node's key"));
    {
        char h[512], *at;

        assert_true(hlen < sizeof(h));
        memcpy(h, horig, hlen + 1);
        at = strstr(h, "\"seq\":8,");
        assert_non_null(at);
        at[strlen("\"seq\":")] = '7';
        write_all_text(hpath, h, hlen);
    }
    ctix_diag_clear(&d);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "audit.head is not signed by this node's key"));
    write_all_text(hpath, "{\"seq\":1}\n", 10);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "ill-formed"));

    /* no head (a node from before heads): the chain alone, as before */
    assert_int_equal(unlink(hpath), 0);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_false(rep.signed_head);
    assert_int_equal(rep.n_entries, 8);

    /* a head but no node key to check it against */
    append_keyed(f->dir, f->key, 9, 1, 0, true);
    snprintf(fpath, sizeof(fpath), "%s/" PROV_KEY_FILE, f->dir);
    assert_int_equal(unlink(fpath), 0);
    ctix_diag_clear(&d);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "node key"));
    free(forged);
    free(horig);
    free(orig);
}

/* One entry per response: the list is encoded, hashed, written and checked; any change inside it
 * breaks the chain at that entry. The big list's line is longer than the first window open reads
 * for the head. */
static void list_fill(struct prov_audit_entry *e, unsigned i, unsigned n)
{
    char id[STIX_ID_MAX];

    entry_fill(e, i);
    ctix_strlcpy(e->event, "sent", sizeof(e->event));
    ctix_strlcpy(e->verdict, "allow", sizeof(e->verdict));
    ctix_strlcpy(e->reason, "tlp-clear", sizeof(e->reason));
    e->object_id[0] = '\0';
    e->version[0] = '\0';
    for (unsigned k = 0; k < n; k++) {
        snprintf(id, sizeof(id), "indicator--8e2e2d2b-17d4-4cbf-938f-%012x", k);
        assert_int_equal(prov_audit_entry_object_add(e, id, "2024-06-10T09:30:00.000Z"), CTIX_OK);
    }
    assert_int_equal(e->n_objects, n);
}

static void test_audit_lists(void **state)
{
    struct fx *f = *state;
    struct prov_audit_entry e, t;
    struct prov_audit_head head = {0};
    struct prov_audit_log *log = NULL;
    struct prov_audit_report rep;
    struct ctix_diag d;
    char path[128], *enc = NULL, *orig, *mut, *v;
    size_t len = 0, st[8], n;

    /* the canonical form: "objects" between "object_id" and "prev", in the order added */
    list_fill(&e, 1, 2);
    assert_int_equal(prov_audit_entry_seal(&head, &e), CTIX_OK);
    assert_int_equal(prov_audit_entry_encode(&e, &enc, &len), CTIX_OK);
    assert_string_equal(
        enc, "{\"actor\":\"NISC Japan\",\"channel\":\"sync\",\"event\":\"sent\",\"object_id\":\"\","
             "\"objects\":[\"indicator--8e2e2d2b-17d4-4cbf-938f-000000000000|"
             "2024-06-10T09:30:00.000Z\",\"indicator--8e2e2d2b-17d4-4cbf-938f-000000000001|"
             "2024-06-10T09:30:00.000Z\"],\"prev\":\"0000000000000000000000000000000000000000000"
             "000000000000000000000\",\"reason\":\"tlp-clear\",\"seq\":1,"
             "\"time\":\"2024-06-10T06:13:20.001000Z\",\"verdict\":\"allow\",\"version\":\"\"}");
    assert_int_equal(strlen(enc), len);
    free(enc);
    /* a changed, dropped or added object changes the hash */
    {
        unsigned char h[32];

        list_fill(&t, 1, 2);
        t.seq = e.seq;
        t.objects.data[12] = 'X';
        assert_int_equal(prov_audit_entry_hash(&t, h), CTIX_OK);
        assert_memory_not_equal(h, e.hash, 32);
        prov_audit_entry_cleanup(&t);
        list_fill(&t, 1, 1);
        t.seq = e.seq;
        assert_int_equal(prov_audit_entry_hash(&t, h), CTIX_OK);
        assert_memory_not_equal(h, e.hash, 32);
        prov_audit_entry_cleanup(&t);
        list_fill(&t, 1, 3);
        t.seq = e.seq;
        assert_int_equal(prov_audit_entry_hash(&t, h), CTIX_OK);
        assert_memory_not_equal(h, e.hash, 32);
        prov_audit_entry_cleanup(&t);
    }
    prov_audit_entry_cleanup(&e);
    assert_null(e.objects.data);
    /* an entry without a list encodes as before lists existed */
    entry_fill(&e, 2);
    assert_int_equal(prov_audit_entry_encode(&e, &enc, &len), CTIX_OK);
    assert_null(strstr(enc, "objects"));
    free(enc);

    /* the file: plain, list of 3, list of 3000 (a ~210 KB line), reopened, plain */
    assert_int_equal(prov_audit_open(f->dir, &log, &d), CTIX_OK);
    entry_fill(&e, 1);
    assert_int_equal(prov_audit_append(log, &e, &d), CTIX_OK);
    list_fill(&e, 2, 3);
    assert_int_equal(prov_audit_append(log, &e, &d), CTIX_OK);
    prov_audit_entry_cleanup(&e);
    list_fill(&e, 3, 3000);
    assert_int_equal(prov_audit_append(log, &e, &d), CTIX_OK);
    prov_audit_entry_cleanup(&e);
    prov_audit_close(log);
    assert_int_equal(prov_audit_open(f->dir, &log, &d), CTIX_OK);
    entry_fill(&e, 4);
    assert_int_equal(prov_audit_append(log, &e, &d), CTIX_OK);
    assert_int_equal(e.seq, 4);
    prov_audit_close(log);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_int_equal(rep.n_entries, 4);

    snprintf(path, sizeof(path), "%s/" PROV_AUDIT_FILE, f->dir);
    orig = read_all(path, &len);
    n = line_starts(orig, len, st, 8);
    assert_int_equal(n, 4);
    assert_true(st[3] - st[2] > 64 * 1024);
    mut = malloc(len + 64);
    assert_non_null(mut);

    /* one id inside line 2's list altered */
    memcpy(mut, orig, len);
    v = strstr(mut + st[1], "-000000000001|");
    assert_non_null(v);
    assert_true((size_t)(v - mut) < st[2]);
    v[12] = '7';
    write_all_text(path, mut, len);
    expect_bad(f->dir, 2, 2, "altered");

    /* one version inside line 3's big list altered, deep in it */
    memcpy(mut, orig, len);
    v = strstr(mut + st[2], "-000000000abc|2024-06-10T09:30:00.000Z");
    assert_non_null(v);
    v[strlen("-000000000abc|2024-06-1")] = '1';
    write_all_text(path, mut, len);
    expect_bad(f->dir, 3, 3, "altered");

    /* one object removed from line 2's list */
    {
        size_t at, end;

        memcpy(mut, orig, len);
        v = strstr(mut + st[1], ",\"indicator--8e2e2d2b-17d4-4cbf-938f-000000000002|");
        assert_non_null(v);
        at = (size_t)(v - mut);
        v = strchr(v + 2, '"');
        assert_non_null(v);
        end = (size_t)(v - mut) + 1;
        memmove(mut + at, mut + end, len - end);
        write_all_text(path, mut, len - (end - at));
        expect_bad(f->dir, 2, 2, "altered");
    }

    /* an empty list added to a plain entry (its hash would not change): not an entry */
    {
        const char *ins = ",\"objects\":[]";
        size_t at, k = strlen(ins);

        memcpy(mut, orig, len);
        v = strstr(mut, ",\"prev\":");
        assert_non_null(v);
        at = (size_t)(v - mut);
        memmove(mut + at + k, mut + at, len - at);
        memcpy(mut + at, ins, k);
        write_all_text(path, mut, len + k);
        expect_bad(f->dir, 1, 1, "not an audit entry");
    }
    free(mut);
    free(orig);
}

/* Durable soon: the background syncer starts, entries keep their order, close joins it. */
static void test_audit_sync_soon(void **state)
{
    struct fx *f = *state;
    struct prov_audit_log *log = NULL;
    struct prov_audit_entry e;
    struct prov_audit_report rep;
    struct ctix_diag d;

    assert_int_equal(prov_audit_open(f->dir, &log, &d), CTIX_OK);
    for (unsigned i = 1; i <= 30; i++) {
        list_fill(&e, i, i);
        assert_int_equal(prov_audit_append(log, &e, &d), CTIX_OK);
        prov_audit_entry_cleanup(&e);
        assert_int_equal(prov_audit_sync_soon(log, &d), CTIX_OK);
        if (i == 10)
            usleep(2 * PROV_AUDIT_SYNC_DELAY_MS * 1000); /* a sync in between */
        assert_int_equal(prov_audit_sync(log, &d), CTIX_OK);
    }
    prov_audit_close(log);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_int_equal(rep.n_entries, 30);
}

/* Two handles on one file (two processes, as ctix serve and ctix export): one chain. */
static void test_audit_two_writers(void **state)
{
    struct fx *f = *state;
    struct prov_audit_log *a = NULL, *b = NULL;
    struct prov_audit_entry e;
    struct prov_audit_report rep;
    struct ctix_diag d;

    assert_int_equal(prov_audit_open(f->dir, &a, &d), CTIX_OK);
    assert_int_equal(prov_audit_open(f->dir, &b, &d), CTIX_OK);
    for (unsigned i = 1; i <= 10; i++) {
        entry_fill(&e, i);
        assert_int_equal(prov_audit_append(i % 2 ? a : b, &e, &d), CTIX_OK);
        assert_int_equal(e.seq, i);
    }
    entry_fill(&e, 11);
    e.reason[0] = (char)0xff;
    e.reason[1] = '\0';
    assert_int_equal(prov_audit_append(a, &e, &d), CTIX_EINVAL);
    prov_audit_close(a);
    prov_audit_close(b);
    assert_int_equal(prov_audit_file_verify(f->dir, &rep, &d), CTIX_OK);
    assert_int_equal(rep.n_entries, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_is_pkcs8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pubkey_text, setup, teardown),
        cmocka_unit_test(test_pubkey_parse_errors),
        cmocka_unit_test_setup_teardown(test_sign_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_byte_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attestation_altered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_publisher, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canonical_independence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_markings_copied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test(test_audit_chain),
        cmocka_unit_test_setup_teardown(test_audit_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_two_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_sync_soon, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
