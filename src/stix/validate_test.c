/* stix_validate: a table of objects (a valid base per type plus a patch) with the expected outcome
 * and error text, then every object of the shared example data and ATT&CK bundles. */
#include "stix/stix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stix/stix_int.h"

#define U1     "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define U2     "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"
#define TS_C   "\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\""
#define SDO(t) "\"type\":\"" t "\",\"spec_version\":\"2.1\",\"id\":\"" t "--" U1 "\"," TS_C

struct base {
    const char *name, *json;
};

static const struct base bases[] = {
    {"indicator",
     "{" SDO("indicator") ",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","
                          "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\"}"},
    {"malware", "{" SDO("malware") ",\"name\":\"Poison Ivy\",\"is_family\":true}"},
    {"relationship", "{" SDO("relationship") ",\"relationship_type\":\"indicates\","
                                             "\"source_ref\":\"indicator--" U1
                                             "\",\"target_ref\":\"malware--" U2 "\"}"},
    {"sighting", "{" SDO("sighting") ",\"sighting_of_ref\":\"indicator--" U1 "\"}"},
    {"observed-data",
     "{" SDO("observed-data") ",\"first_observed\":\"2015-12-21T19:00:00Z\","
                              "\"last_observed\":\"2015-12-21T19:00:00Z\",\"number_observed\":50,"
                              "\"object_refs\":[\"ipv4-addr--" U2 "\"]}"},
    {"location", "{" SDO("location") ",\"region\":\"south-eastern-asia\"}"},
    {"identity", "{" SDO("identity") ",\"name\":\"ACME\",\"identity_class\":\"organization\"}"},
    {"campaign", "{" SDO("campaign") ",\"name\":\"Green Group\"}"},
    {"report", "{" SDO("report") ",\"name\":\"r\",\"published\":\"2016-01-20T17:00:00.000Z\","
                                 "\"object_refs\":[\"indicator--" U1 "\"]}"},
    {"grouping", "{" SDO("grouping") ",\"context\":\"suspicious-activity\","
                                     "\"object_refs\":[\"indicator--" U1 "\"]}"},
    {"opinion",
     "{" SDO("opinion") ",\"opinion\":\"agree\",\"object_refs\":[\"indicator--" U1 "\"]}"},
    {"malware-analysis",
     "{" SDO("malware-analysis") ",\"product\":\"av\",\"result\":\"malicious\"}"},
    {"file", "{\"type\":\"file\",\"id\":\"file--" U1 "\",\"name\":\"a.exe\"}"},
    {"network-traffic", "{\"type\":\"network-traffic\",\"id\":\"network-traffic--" U1 "\","
                        "\"src_ref\":\"ipv4-addr--" U2 "\",\"protocols\":[\"tcp\"]}"},
    {"artifact",
     "{\"type\":\"artifact\",\"id\":\"artifact--" U1 "\",\"payload_bin\":\"aGVsbG8=\"}"},
    {"email-message", "{\"type\":\"email-message\",\"id\":\"email-message--" U1 "\","
                      "\"is_multipart\":false}"},
    {"process", "{\"type\":\"process\",\"id\":\"process--" U1 "\",\"pid\":42}"},
    {"ipv4-addr", "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--" U1 "\","
                  "\"value\":\"198.51.100.3\"}"},
    {"marking", "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":"
                "\"marking-definition--" U1 "\",\"created\":\"2017-01-20T00:00:00.000Z\","
                "\"definition_type\":\"statement\",\"definition\":{\"statement\":\"(c) ACME\"}}"},
    {"extdef",
     "{" SDO("extension-definition") ",\"created_by_ref\":\"identity--" U2 "\","
                                     "\"name\":\"x\",\"schema\":\"https://x\",\"version\":\"1.0\","
                                     "\"extension_types\":[\"property-extension\"]}"},
    {"langc", "{" SDO("language-content") ",\"object_ref\":\"campaign--" U2 "\","
                                          "\"contents\":{\"de\":{\"name\":\"Bank Angriff\"}}}"},
    {"custom", "{" SDO("x-mitre-tactic") ",\"name\":\"Collection\",\"x_mitre_shortname\":\"c\"}"},
    {"user-account", "{\"type\":\"user-account\",\"id\":\"user-account--" U1 "\","
                     "\"user_id\":\"1001\"}"},
};

struct vcase {
    const char *base;
    const char *patch; /* members to set; a value "DEL" removes the member */
    const char *where; /* NULL: the object must be accepted */
    const char *msg;
};

static const struct vcase cases[] = {
    /* every base is valid as it stands */
    {"indicator", "{}", NULL, NULL},
    {"malware", "{}", NULL, NULL},
    {"relationship", "{}", NULL, NULL},
    {"sighting", "{}", NULL, NULL},
    {"observed-data", "{}", NULL, NULL},
    {"location", "{}", NULL, NULL},
    {"identity", "{}", NULL, NULL},
    {"campaign", "{}", NULL, NULL},
    {"report", "{}", NULL, NULL},
    {"grouping", "{}", NULL, NULL},
    {"opinion", "{}", NULL, NULL},
    {"malware-analysis", "{}", NULL, NULL},
    {"file", "{}", NULL, NULL},
    {"network-traffic", "{}", NULL, NULL},
    {"artifact", "{}", NULL, NULL},
    {"email-message", "{}", NULL, NULL},
    {"process", "{}", NULL, NULL},
    {"ipv4-addr", "{}", NULL, NULL},
    {"marking", "{}", NULL, NULL},
    {"extdef", "{}", NULL, NULL},
    {"langc", "{}", NULL, NULL},
    {"custom", "{}", NULL, NULL},
    {"user-account", "{}", NULL, NULL},
    /* type and id */
    {"indicator", "{\"type\":\"DEL\"}", "type", "required property is missing"},
    {"indicator", "{\"type\":\"Indicator\"}", "type", "not a valid type name"},
    {"indicator", "{\"type\":\"a--b\"}", "type", "not a valid type name"},
    {"indicator", "{\"type\":\"bundle\"}", "type", "container"},
    {"indicator", "{\"id\":\"DEL\"}", "id", "required property is missing"},
    {"indicator", "{\"id\":\"indicator--1234\"}", "id", "not a valid identifier"},
    {"indicator", "{\"id\":\"malware--" U1 "\"}", "id", "prefix must equal the type"},
    {"indicator", "{\"id\":\"indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f\"}", "id",
     "not a valid identifier"},
    {"indicator", "{\"id\":42}", "id", "must be a string"},
    /* spec_version */
    {"indicator", "{\"spec_version\":\"DEL\"}", "spec_version", "required property is missing"},
    {"indicator", "{\"spec_version\":\"2.0\"}", "spec_version", "must be \"2.1\""},
    {"file", "{\"spec_version\":\"2.1\"}", NULL, NULL},
    {"file", "{\"spec_version\":\"2.2\"}", "spec_version", "must be \"2.1\""},
    /* timestamps */
    {"indicator", "{\"created\":\"2016-01-20T12:31:12Z\"}", "created",
     "created: timestamp needs millisecond precision (got \"2016-01-20T12:31:12Z\")"},
    {"indicator", "{\"modified\":\"2016-04-06T20:03:48.0Z\"}", "modified", "millisecond"},
    {"indicator",
     "{\"created\":\"2016-04-06T20:03:48.123456Z\","
     "\"modified\":\"2016-04-06T20:03:48.123456Z\"}",
     NULL, NULL},
    {"indicator", "{\"created\":\"2016-04-06 20:03:48.000Z\"}", "created", "not a valid timestamp"},
    {"indicator", "{\"created\":\"2016-04-06T20:03:48.000+01:00\"}", "created",
     "not a valid timestamp"},
    {"indicator", "{\"created\":\"2015-02-29T20:03:48.000Z\"}", "created", "not a valid timestamp"},
    {"indicator",
     "{\"created\":\"2016-04-06T20:03:48.000Z\","
     "\"modified\":\"2016-04-06T20:03:47.999Z\"}",
     "modified", "must not be earlier than created"},
    {"indicator", "{\"modified\":\"DEL\"}", "modified", "required property is missing"},
    {"indicator", "{\"valid_from\":\"2016-01-01T00:00:00.5Z\"}", NULL, NULL},
    {"indicator", "{\"valid_until\":\"2016-01-01T00:00:00Z\"}", "valid_until",
     "must be later than valid_from"},
    {"indicator", "{\"valid_until\":\"2017-01-01T00:00:00Z\"}", NULL, NULL},
    {"indicator", "{\"pattern\":\"DEL\"}", "pattern", "required property is missing"},
    {"campaign", "{\"first_seen\":\"2016-01-01T00:00:00Z\",\"last_seen\":\"2015-01-01T00:00:00Z\"}",
     "last_seen", "must not be earlier than first_seen"},
    {"sighting", "{\"first_seen\":\"2016-01-01T00:00:00Z\",\"last_seen\":\"2015-01-01T00:00:00Z\"}",
     "last_seen", "must not be earlier"},
    {"observed-data", "{\"last_observed\":\"2015-12-21T18:00:00Z\"}", "last_observed",
     "must not be earlier than first_observed"},
    {"relationship",
     "{\"start_time\":\"2016-01-01T00:00:00Z\",\"stop_time\":"
     "\"2016-01-01T00:00:00Z\"}",
     "stop_time", "must be later than start_time"},
    /* property types and ranges */
    {"indicator", "{\"confidence\":101}", "confidence", "must be in 0..100"},
    {"indicator", "{\"confidence\":-1}", "confidence", "must be in 0..100"},
    {"indicator", "{\"confidence\":100}", NULL, NULL},
    {"indicator", "{\"confidence\":50.5}", "confidence", "must be an integer"},
    {"indicator", "{\"revoked\":\"yes\"}", "revoked", "must be a boolean"},
    {"indicator", "{\"name\":7}", "name", "must be a string"},
    {"indicator", "{\"labels\":[]}", "labels", "empty list not allowed"},
    {"indicator", "{\"labels\":\"a\"}", "labels", "must be a list"},
    {"indicator", "{\"labels\":[\"a\",3]}", "labels/1", "must be a string"},
    {"indicator", "{\"description\":null}", "description", "null is not a valid STIX value"},
    {"indicator", "{\"x_foo\":{\"a\":[1,null]}}", "x_foo/a/1", "null"},
    {"observed-data", "{\"number_observed\":0}", "number_observed", "must be in 1..999999999"},
    {"observed-data", "{\"number_observed\":1000000000}", "number_observed", "1..999999999"},
    {"sighting", "{\"count\":0}", NULL, NULL},
    {"sighting", "{\"count\":1000000000}", "count", "must be in 0..999999999"},
    {"network-traffic", "{\"dst_port\":65536}", "dst_port", "must be in 0..65535"},
    {"network-traffic", "{\"src_port\":443,\"dst_port\":0}", NULL, NULL},
    {"malware", "{\"is_family\":\"true\"}", "is_family", "must be a boolean"},
    {"location", "{\"latitude\":91,\"longitude\":0}", "latitude", "must be in -90..90"},
    {"location", "{\"latitude\":1.5,\"longitude\":-180}", NULL, NULL},
    {"location", "{\"latitude\":1.5,\"longitude\":\"2\"}", "longitude", "must be a number"},
    /* reserved and custom property names */
    {"indicator", "{\"severity\":\"high\"}", "severity", "reserved property name"},
    {"custom", "{\"action\":\"x\"}", "action", "reserved"},
    {"indicator", "{\"x_mitre_version\":\"1.0\",\"x_acme_score\":3}", NULL, NULL},
    {"indicator", "{\"X_Foo\":1}", "X_Foo", "custom property name"},
    {"indicator", "{\"xy\":1}", "xy", "custom property name"},
    {"indicator", "{\"x_empty\":[]}", "x_empty", "empty list or dictionary"},
    {"indicator", "{\"x_nested\":{\"a\":[]}}", NULL, NULL},
    {"file", "{\"name_enc\":\"UTF-8\"}", NULL, NULL},
    {"file",
     "{\"name\":\"DEL\",\"hashes\":{\"MD5\":\""
     "0123456789abcdef0123456789abcdef"
     "\"},"
     "\"name_enc\":\"UTF-8\"}",
     "name_enc", "needs its base property name"},
    /* common properties per category */
    {"file", "{\"created\":\"2016-04-06T20:03:48.000Z\"}", "created", "not allowed on SCOs"},
    {"indicator", "{\"defanged\":true}", "defanged", "not allowed on SDOs"},
    {"file", "{\"defanged\":true}", NULL, NULL},
    {"marking", "{\"modified\":\"2017-01-20T00:00:00.000Z\"}", "modified",
     "not allowed on marking-definition"},
    {"marking", "{\"lang\":\"en\"}", "lang", "not allowed"},
    {"extdef", "{\"created_by_ref\":\"DEL\"}", "created_by_ref", "required property is missing"},
    {"langc", "{\"confidence\":5,\"labels\":[\"l\"]}", NULL, NULL},
    /* references */
    {"indicator", "{\"created_by_ref\":\"malware--" U2 "\"}", "created_by_ref",
     "must reference identity"},
    {"indicator", "{\"created_by_ref\":\"identity--" U2 "\"}", NULL, NULL},
    {"indicator", "{\"object_marking_refs\":[\"identity--" U2 "\"]}", "object_marking_refs/0",
     "must reference marking-definition"},
    {"indicator", "{\"object_marking_refs\":[\"marking-definition--" U2 "\"]}", NULL, NULL},
    {"sighting", "{\"sighting_of_ref\":\"relationship--" U2 "\"}", "sighting_of_ref",
     "must reference an SDO"},
    {"sighting", "{\"sighting_of_ref\":\"x-acme-thing--" U2 "\"}", NULL, NULL},
    {"sighting", "{\"where_sighted_refs\":[\"identity--" U2 "\",\"location--" U2 "\"]}", NULL,
     NULL},
    {"sighting", "{\"where_sighted_refs\":[\"identity--" U2 "\",\"malware--" U2 "\"]}",
     "where_sighted_refs/1", "must reference identity or location"},
    {"sighting", "{\"observed_data_refs\":[\"indicator--" U2 "\"]}", "observed_data_refs/0",
     "must reference observed-data"},
    {"relationship", "{\"target_ref\":\"relationship--" U2 "\"}", "target_ref",
     "must reference an SDO or an SCO"},
    {"relationship", "{\"target_ref\":\"marking-definition--" U2 "\"}", "target_ref",
     "must reference"},
    {"relationship", "{\"target_ref\":\"ipv4-addr--" U2 "\"}", NULL, NULL},
    {"relationship", "{\"source_ref\":\"not-an-id\"}", "source_ref", "not a valid identifier"},
    {"relationship", "{\"relationship_type\":\"Indicates\"}", "relationship_type",
     "must be a-z, 0-9 and -"},
    {"malware", "{\"sample_refs\":[\"ipv4-addr--" U2 "\"]}", "sample_refs/0",
     "must reference file or artifact"},
    {"malware", "{\"operating_system_refs\":[\"software--" U2 "\"]}", NULL, NULL},
    {"network-traffic", "{\"src_ref\":\"url--" U2 "\"}", "src_ref", "must reference"},
    {"email-message", "{\"from_ref\":\"email-addr--" U2 "\",\"to_refs\":[\"email-addr--" U2 "\"]}",
     NULL, NULL},
    {"email-message", "{\"to_refs\":[\"user-account--" U2 "\"]}", "to_refs/0",
     "must reference email-addr"},
    {"observed-data", "{\"object_refs\":[\"relationship--" U2 "\"]}", "object_refs",
     "at least one SCO"},
    {"observed-data", "{\"object_refs\":[\"indicator--" U2 "\"]}", "object_refs/0",
     "must reference an SCO or an SRO"},
    {"langc", "{\"object_ref\":\"x\"}", "object_ref", "not a valid identifier"},
    /* per-type constraints */
    {"location", "{\"region\":\"DEL\"}", "", "location needs region, country, or latitude"},
    {"location", "{\"region\":\"DEL\",\"country\":\"sg\"}", NULL, NULL},
    {"location", "{\"latitude\":1.0}", "longitude", "latitude and longitude must be given"},
    {"location", "{\"precision\":10.0}", "precision", "needs latitude and longitude"},
    {"observed-data", "{\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"1.2.3.4\"}}}", "",
     "exactly one of object_refs and objects"},
    {"observed-data", "{\"object_refs\":\"DEL\"}", "", "exactly one of object_refs and objects"},
    {"observed-data",
     "{\"object_refs\":\"DEL\",\"objects\":{\"0\":{\"type\":\"ipv4-addr\","
     "\"value\":\"1.2.3.4\"}}}",
     NULL, NULL},
    {"malware", "{\"is_family\":\"DEL\"}", "is_family", "required property is missing"},
    {"malware", "{\"name\":\"DEL\"}", "name", "is_family is true"},
    {"malware", "{\"name\":\"DEL\",\"is_family\":false}", NULL, NULL},
    {"malware-analysis", "{\"result\":\"DEL\"}", "", "needs result or analysis_sco_refs"},
    {"artifact", "{\"url\":\"https://x/a\"}", "", "exactly one of payload_bin and url"},
    {"artifact", "{\"payload_bin\":\"DEL\"}", "", "exactly one of payload_bin and url"},
    {"artifact", "{\"payload_bin\":\"DEL\",\"url\":\"https://x/a\"}", "hashes", "url is present"},
    {"artifact", "{\"payload_bin\":\"aGVsbG8\"}", "payload_bin", "must be base64"},
    {"artifact", "{\"decryption_key\":\"k\"}", "decryption_key", "only allowed with"},
    {"artifact", "{\"encryption_algorithm\":\"rot13\"}", "encryption_algorithm", "must be one of"},
    {"email-message", "{\"is_multipart\":true,\"body\":\"hi\"}", "body",
     "only allowed when is_multipart is false"},
    {"email-message", "{\"body_multipart\":[{\"body\":\"x\"}]}", "body_multipart",
     "only allowed when is_multipart is true"},
    {"email-message", "{\"is_multipart\":true,\"body_multipart\":[{\"content_type\":\"t\"}]}",
     "body_multipart/0", "exactly one of body and body_raw_ref"},
    {"file", "{\"name\":\"DEL\"}", "", "file needs hashes or name"},
    {"file", "{\"magic_number_hex\":\"FFD8\"}", "magic_number_hex", "lowercase hex"},
    {"file", "{\"magic_number_hex\":\"ffd\"}", "magic_number_hex", "even number"},
    {"file", "{\"magic_number_hex\":\"ffd8\",\"size\":-1}", "size", "must be in 0.."},
    {"file", "{\"hashes\":{\"MD5\":\"abc\"}}", "hashes/MD5", "MD5 hash must be 32 hex digits"},
    {"file",
     "{\"hashes\":{\"SHA-256\":\""
     "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
     "\",\"x_foo_hash\":\"aaaa\"}}",
     NULL, NULL},
    {"file", "{\"hashes\":{}}", "hashes", "empty dictionary not allowed"},
    {"file", "{\"extensions\":{\"ntfs-ext\":{}}}", "extensions/ntfs-ext", "non-empty object"},
    {"file", "{\"extensions\":{\"archive-ext\":{\"comment\":\"c\"}}}",
     "extensions/archive-ext/contains_refs", "required property is missing"},
    {"file",
     "{\"extensions\":{\"windows-pebinary-ext\":{\"pe_type\":\"exe\","
     "\"machine_hex\":\"014c\"}}}",
     NULL, NULL},
    {"file", "{\"extensions\":{\"x-acme-ext\":{\"foo\":1}}}", NULL, NULL},
    {"network-traffic", "{\"src_ref\":\"DEL\"}", "", "needs src_ref or dst_ref"},
    {"network-traffic", "{\"is_active\":true,\"end\":\"2016-01-01T00:00:00Z\"}", "end",
     "not allowed when is_active is true"},
    {"network-traffic", "{\"start\":\"2016-01-02T00:00:00Z\",\"end\":\"2016-01-01T00:00:00Z\"}",
     "end", "must not be earlier than start"},
    {"network-traffic", "{\"extensions\":{\"socket-ext\":{\"address_family\":\"AF_FOO\"}}}",
     "extensions/socket-ext/address_family", "must be one of"},
    {"network-traffic",
     "{\"extensions\":{\"http-request-ext\":{\"request_method\":\"get\","
     "\"request_value\":\"/\"}}}",
     NULL, NULL},
    {"process", "{\"pid\":\"DEL\"}", "", "process needs at least one of its properties"},
    {"user-account", "{\"extensions\":{\"unix-account-ext\":{\"gid\":1001}}}", NULL, NULL},
    {"opinion", "{\"opinion\":\"maybe\"}", "opinion", "must be one of"},
    {"report", "{\"object_refs\":[]}", "object_refs", "empty list not allowed"},
    {"report", "{\"published\":\"DEL\"}", "published", "required property is missing"},
    /* external references, kill chain phases, granular markings, extensions */
    {"indicator",
     "{\"external_references\":[{\"source_name\":\"capec\",\"external_id\":\"CAPEC-1\"}]}", NULL,
     NULL},
    {"indicator", "{\"external_references\":[{\"url\":\"https://x\"}]}",
     "external_references/0/source_name", "required property is missing"},
    {"indicator", "{\"external_references\":[{\"source_name\":\"x\"}]}", "external_references/0",
     "needs description, url or external_id"},
    {"indicator", "{\"kill_chain_phases\":[{\"kill_chain_name\":\"lm\"}]}",
     "kill_chain_phases/0/phase_name", "required property is missing"},
    {"indicator",
     "{\"granular_markings\":[{\"selectors\":[\"name\"],\"marking_ref\":"
     "\"marking-definition--" U2 "\"}],\"name\":\"n\"}",
     NULL, NULL},
    {"indicator",
     "{\"granular_markings\":[{\"selectors\":[\"name\"],\"marking_ref\":"
     "\"marking-definition--" U2 "\",\"lang\":\"en\"}],\"name\":\"n\"}",
     "granular_markings/0", "exactly one of marking_ref and lang"},
    {"indicator", "{\"granular_markings\":[{\"selectors\":[\"name\"]}],\"name\":\"n\"}",
     "granular_markings/0", "exactly one of marking_ref and lang"},
    {"indicator", "{\"granular_markings\":[{\"selectors\":[\"description\"],\"lang\":\"de\"}]}",
     "granular_markings/0/selectors/0", "does not point at content"},
    {"indicator",
     "{\"external_references\":[{\"source_name\":\"a\",\"url\":\"u\"}],"
     "\"granular_markings\":[{\"selectors\":[\"external_references.[0].url\"],"
     "\"lang\":\"de\"}]}",
     NULL, NULL},
    {"indicator",
     "{\"external_references\":[{\"source_name\":\"a\",\"url\":\"u\"}],"
     "\"granular_markings\":[{\"selectors\":[\"external_references.[1]\"],"
     "\"lang\":\"de\"}]}",
     "granular_markings/0/selectors/0", "does not point at content"},
    {"indicator", "{\"extensions\":{\"extension-definition--" U2 "\":{\"rank\":5}}}",
     "extensions/extension-definition--" U2, "extension_type is required"},
    {"indicator",
     "{\"extensions\":{\"extension-definition--" U2 "\":{\"extension_type\":"
     "\"property_extension\"}}}",
     "extensions/extension-definition--" U2, "not in extension-type-enum"},
    {"indicator",
     "{\"extensions\":{\"extension-definition--" U2 "\":{\"extension_type\":"
     "\"property-extension\",\"rank\":5}}}",
     NULL, NULL},
    /* meta objects */
    {"marking", "{\"definition_type\":\"tlp\",\"definition\":{\"tlp\":\"purple\"}}", "definition",
     "tlp must be white, green, amber or red"},
    {"marking", "{\"definition\":\"DEL\"}", "definition", "required property is missing"},
    {"marking", "{\"definition\":\"DEL\",\"definition_type\":\"DEL\"}", "",
     "needs definition_type and definition, or extensions"},
    {"marking", "{\"object_marking_refs\":[\"marking-definition--" U1 "\"]}", "object_marking_refs",
     "must not mark itself"},
    {"extdef", "{\"extension_types\":[\"new-thing\"]}", "extension_types/0", "must be one of"},
    {"extdef", "{\"extension_properties\":[\"rank\"]}", "extension_properties",
     "only allowed with extension type toplevel-property-extension"},
    {"langc", "{\"contents\":{\"de\":\"Bank\"}}", "contents/de", "non-empty dictionary"},
    /* custom objects: common properties are checked when present */
    {"custom", "{\"created\":\"2016-04-06T20:03:48Z\"}", "created", "millisecond"},
    {"custom", "{\"spec_version\":\"DEL\",\"created\":\"DEL\",\"modified\":\"DEL\"}", NULL, NULL},
    {"custom", "{\"created_by_ref\":\"tool--" U2 "\"}", "created_by_ref",
     "must reference identity"},
    {"custom", "{\"object_marking_refs\":[\"x\"]}", "object_marking_refs/0",
     "not a valid identifier"},
    {"custom", "{\"id\":\"x-mitre-matrix--" U1 "\"}", "id", "prefix must equal the type"},
};

static json_t *make_case(const struct vcase *tc)
{
    json_t *base = NULL, *patch;
    const char *key;
    json_t *v;
    size_t i;

    for (i = 0; i < CTIX_ARRAY_LEN(bases); i++) {
        if (strcmp(bases[i].name, tc->base) == 0)
            base = json_loads(bases[i].json, JSON_REJECT_DUPLICATES, NULL);
    }
    patch = json_loads(tc->patch, 0, NULL);
    assert_non_null(base);
    assert_non_null(patch);
    json_object_foreach(patch, key, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), "DEL") == 0)
            json_object_del(base, key);
        else
            json_object_set(base, key, v);
    }
    json_decref(patch);
    return base;
}

static void test_table(void **state)
{
    size_t i, bad = 0;

    (void)state;
    for (i = 0; i < CTIX_ARRAY_LEN(cases); i++) {
        const struct vcase *tc = &cases[i];
        json_t *j = make_case(tc);
        struct ctix_diag d;
        enum ctix_rc rc = stix_validate(j, &d);
        bool ok;

        if (tc->where == NULL)
            ok = rc == CTIX_OK;
        else
            ok = rc == CTIX_EINVAL && strcmp(d.where, tc->where) == 0 &&
                 strstr(d.msg, tc->msg) != NULL;
        if (!ok) {
            bad++;
            printf(
                "case %zu (%s %s): rc=%d where=\"%s\" msg=\"%s\"; want where=\"%s\" msg~\"%s\"\n",
                i, tc->base, tc->patch, (int)rc, rc == CTIX_OK ? "" : d.where,
                rc == CTIX_OK ? "" : d.msg, tc->where != NULL ? tc->where : "(accepted)",
                tc->msg != NULL ? tc->msg : "");
        }
        json_decref(j);
    }
    assert_true(CTIX_ARRAY_LEN(cases) >= 80);
    assert_int_equal(bad, 0);
}

static void test_tables_sorted(void **state)
{
    (void)state;
    assert_true(stix__tspecs_sorted());
    assert_int_equal(stix_type_kind("malware-analysis"), STIX_KIND_SDO);
    assert_int_equal(stix_type_kind("x509-certificate"), STIX_KIND_SCO);
    assert_int_equal(stix_type_kind("sighting"), STIX_KIND_SRO);
    assert_int_equal(stix_type_kind("language-content"), STIX_KIND_SMO);
    assert_int_equal(stix_type_kind("x-mitre-tactic"), STIX_KIND_CUSTOM);
    assert_int_equal(stix_type_kind("bundle"), STIX_KIND_CUSTOM);
}

static void test_non_object(void **state)
{
    struct ctix_diag d;
    json_t *a = json_array();

    (void)state;
    assert_int_equal(stix_validate(a, &d), CTIX_EINVAL);
    assert_non_null(strstr(d.msg, "JSON object"));
    assert_int_equal(stix_validate(NULL, NULL), CTIX_EINVAL);
    json_decref(a);
}

/* ---- the shared data ---- */

static const char *shared_dir(void)
{
    const char *s = getenv("CTIX_SHARED");

    return s != NULL ? s : "../shared/data";
}

static json_t *load_path(const char *rel)
{
    char path[1024], cmd[1200];
    json_t *j = NULL;
    json_error_t err;

    snprintf(path, sizeof(path), "%s/%s", shared_dir(), rel);
    if (strstr(rel, ".zst") != NULL) {
        FILE *p;

        snprintf(cmd, sizeof(cmd), "zstd -dc '%s' 2>/dev/null", path);
        p = popen(cmd, "r");
        if (p == NULL)
            return NULL;
        j = json_loadf(p, 0, &err);
        pclose(p);
    } else {
        j = json_load_file(path, 0, &err);
    }
    return j;
}

/* Objects expected to be rejected, with the reason: the only spec breach in the shared data. */
static const struct {
    const char *id, *where, *msg;
} known_bad[] = {
    {"relationship--1621d4d4-b67d-11e3-9670-f01faf20d111", "created", "not a valid timestamp"},
};

static void test_shared_data(void **state)
{
    static const char *files[] = {
        "cti-stix2-json-schemas/examples/indicator-for-c2-ip-address.json",
        "cti-stix2-json-schemas/examples/indicator-to-campaign-relationship.json",
        "cti-stix2-json-schemas/examples/indicators-for-C2-with-COA.json",
        "cti-stix2-json-schemas/examples/infrastructure.json",
        "cti-stix2-json-schemas/examples/interop-objectmarking-test.json",
        "cti-stix2-json-schemas/examples/malicious-email-indicator-with-attachment.json",
        "cti-stix2-json-schemas/examples/threat-reports/apt1.json",
        "cti-stix2-json-schemas/examples/threat-reports/poisonivy.json",
        "cti-documentation/example_json/defining-campaigns-threat-actors-intrusion-sets.json",
        "cti-documentation/example_json/identifying-a-threat-actor-profile.json",
        "cti-documentation/example_json/indicator-for-malicious-url.json",
        "cti-documentation/example_json/malware-indicator-for-file-hash.json",
        "cti-documentation/example_json/sighting-of-an-indicator.json",
        "cti-documentation/example_json/sighting-of-observed-data.json",
        "cti-documentation/example_json/threat-actor-leveraging-attack-patterns-and-malware.json",
        "cti-documentation/example_json/using-granular-markings.json",
        "cti-documentation/example_json/using-marking-definitions.json",
        "tlp-markings/tlp-1.0-stix21-definitions-bundle.json",
        "tlp-markings/tlp-2.0-definitions-bundle.json",
        "tlp-markings/using-tlp2.0-green.json",
        "mitre-attack-stix-data/ics-attack-18.1.json.zst",
        "mitre-attack-stix-data/mobile-attack-17.1.json.zst",
    };
    size_t f, i, k, n_obj = 0, n_bad = 0, n_rejected = 0;
    char probe[1024];
    FILE *fp;

    (void)state;
    snprintf(probe, sizeof(probe), "%s/SOURCES.md", shared_dir());
    fp = fopen(probe, "r");
    if (fp == NULL)
        skip();
    fclose(fp);
    for (f = 0; f < CTIX_ARRAY_LEN(files); f++) {
        json_t *root = load_path(files[f]), *o;

        if (root == NULL) {
            printf("cannot load %s\n", files[f]);
            n_bad++;
            continue;
        }
        json_array_foreach(json_object_get(root, "objects"), i, o)
        {
            struct ctix_diag d;
            const char *id = json_string_value(json_object_get(o, "id"));
            const char *want_where = NULL, *want_msg = NULL;
            enum ctix_rc rc = stix_validate(o, &d);

            n_obj++;
            for (k = 0; k < CTIX_ARRAY_LEN(known_bad); k++) {
                if (id != NULL && strcmp(id, known_bad[k].id) == 0) {
                    want_where = known_bad[k].where;
                    want_msg = known_bad[k].msg;
                }
            }
            if (rc != CTIX_OK)
                n_rejected++;
            if (want_where == NULL && rc != CTIX_OK) {
                printf("%s: %s rejected: %s\n", files[f], id != NULL ? id : "?", d.msg);
                n_bad++;
            } else if (want_where != NULL && (rc == CTIX_OK || strcmp(d.where, want_where) != 0 ||
                                              strstr(d.msg, want_msg) == NULL)) {
                printf("%s: %s accepted or wrong error\n", files[f], id);
                n_bad++;
            }
        }
        json_decref(root);
    }
    printf("shared data: %zu objects, %zu rejected as expected\n", n_obj, n_rejected);
    assert_true(n_obj > 4000);
    assert_int_equal(n_rejected, CTIX_ARRAY_LEN(known_bad));
    assert_int_equal(n_bad, 0);
}

/* The spec's own examples: which fail and why is listed so that a change shows up here. Entries
 * are fragments, illustrative ids ("example--1"), elided base64 ("... "), a container, or errors
 * in the spec text itself. */
static void test_spec_examples(void **state)
{
    json_t *root = load_path("stix2.1-spec/stix-v2.1-errata01-spec-examples.json"), *e;
    size_t i, n = 0, n_ok = 0, n_bundle_objs = 0;

    (void)state;
    if (root == NULL)
        skip();
    json_array_foreach(root, i, e)
    {
        json_t *j = json_object_get(e, "json"), *o;
        size_t k;

        if (json_is_array(j)) {
            json_array_foreach(j, k, o)
            {
                n++;
                n_ok += stix_validate(o, NULL) == CTIX_OK;
            }
        } else if (json_is_object(j) && strcmp(json_string_value(json_object_get(j, "type")) != NULL
                                                   ? json_string_value(json_object_get(j, "type"))
                                                   : "",
                                               "bundle") == 0) {
            json_array_foreach(json_object_get(j, "objects"), k, o)
            {
                n_bundle_objs++;
                n_ok += stix_validate(o, NULL) == CTIX_OK;
            }
        } else {
            n++;
            n_ok += stix_validate(j, NULL) == CTIX_OK;
        }
    }
    printf("spec examples: %zu objects (+%zu inside bundles), %zu accepted\n", n, n_bundle_objs,
           n_ok);
    /* 183 objects outside bundles, of which 25 are rejected for the reasons above, and 7 inside
     * three bundles, two of them indicators without the required pattern_type. */
    assert_int_equal(n, 183);
    assert_int_equal(n_bundle_objs, 7);
    assert_int_equal(n + n_bundle_objs - n_ok, 27);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),         cmocka_unit_test(test_tables_sorted),
        cmocka_unit_test(test_non_object),    cmocka_unit_test(test_shared_data),
        cmocka_unit_test(test_spec_examples),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
