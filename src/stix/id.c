/* Identifiers and type names: the table of types the specification defines, id and type syntax,
 * and SCO deterministic ids (UUIDv5, spec 2.9). */
#include "stix/stix.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_int.h"

/* Sorted by name (strcmp) for bsearch; id_test checks the order. */
static const struct stix__type_info types[] = {
    {"artifact", STIX_KIND_SCO},
    {"attack-pattern", STIX_KIND_SDO},
    {"autonomous-system", STIX_KIND_SCO},
    {"campaign", STIX_KIND_SDO},
    {"course-of-action", STIX_KIND_SDO},
    {"directory", STIX_KIND_SCO},
    {"domain-name", STIX_KIND_SCO},
    {"email-addr", STIX_KIND_SCO},
    {"email-message", STIX_KIND_SCO},
    {"extension-definition", STIX_KIND_SMO},
    {"file", STIX_KIND_SCO},
    {"grouping", STIX_KIND_SDO},
    {"identity", STIX_KIND_SDO},
    {"incident", STIX_KIND_SDO},
    {"indicator", STIX_KIND_SDO},
    {"infrastructure", STIX_KIND_SDO},
    {"intrusion-set", STIX_KIND_SDO},
    {"ipv4-addr", STIX_KIND_SCO},
    {"ipv6-addr", STIX_KIND_SCO},
    {"language-content", STIX_KIND_SMO},
    {"location", STIX_KIND_SDO},
    {"mac-addr", STIX_KIND_SCO},
    {"malware", STIX_KIND_SDO},
    {"malware-analysis", STIX_KIND_SDO},
    {"marking-definition", STIX_KIND_SMO},
    {"mutex", STIX_KIND_SCO},
    {"network-traffic", STIX_KIND_SCO},
    {"note", STIX_KIND_SDO},
    {"observed-data", STIX_KIND_SDO},
    {"opinion", STIX_KIND_SDO},
    {"process", STIX_KIND_SCO},
    {"relationship", STIX_KIND_SRO},
    {"report", STIX_KIND_SDO},
    {"sighting", STIX_KIND_SRO},
    {"software", STIX_KIND_SCO},
    {"threat-actor", STIX_KIND_SDO},
    {"tool", STIX_KIND_SDO},
    {"url", STIX_KIND_SCO},
    {"user-account", STIX_KIND_SCO},
    {"vulnerability", STIX_KIND_SDO},
    {"windows-registry-key", STIX_KIND_SCO},
    {"x509-certificate", STIX_KIND_SCO},
};

struct key {
    const char *s;
    size_t len;
};

static int type_cmp(const void *k, const void *e)
{
    const struct key *key = k;
    const struct stix__type_info *t = e;
    int c = strncmp(key->s, t->name, key->len);

    if (c != 0)
        return c;
    return t->name[key->len] == '\0' ? 0 : -1;
}

const struct stix__type_info *stix__type_find(const char *type, size_t len)
{
    struct key k = {type, len};

    return bsearch(&k, types, CTIX_ARRAY_LEN(types), sizeof(types[0]), type_cmp);
}

enum stix_kind stix_type_kind(const char *type)
{
    const struct stix__type_info *t = stix__type_find(type, strlen(type));

    return t != NULL ? t->kind : STIX_KIND_CUSTOM;
}

static bool type_valid_n(const char *s, size_t n)
{
    size_t i;

    if (n < 3 || n > 250 || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '-')
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c == '-' && i + 1 < n && s[i + 1] == '-')
            return false;
    }
    return true;
}

bool stix_type_valid(const char *type)
{
    return type != NULL && type_valid_n(type, strlen(type));
}

bool stix__id_kind(const char *id, enum stix_kind *kind, size_t *type_len)
{
    const char *sep = strstr(id, "--");
    const struct stix__type_info *t;

    if (sep == NULL)
        return false;
    t = stix__type_find(id, (size_t)(sep - id));
    *kind = t != NULL ? t->kind : STIX_KIND_CUSTOM;
    *type_len = (size_t)(sep - id);
    return true;
}

/* The JSON schema's identifier pattern: RFC 4122 version 1-5 and variant 10xx. */
bool stix_id_valid(const char *id, const char *type)
{
    const char *sep, *u;
    size_t tlen;

    if (id == NULL)
        return false;
    sep = strstr(id, "--");
    if (sep == NULL)
        return false;
    tlen = (size_t)(sep - id);
    if (!type_valid_n(id, tlen))
        return false;
    if (type != NULL && (strncmp(id, type, tlen) != 0 || type[tlen] != '\0'))
        return false;
    u = sep + 2;
    if (strlen(u) != 36 || !ctix_uuid_valid(u, false))
        return false;
    if (u[14] < '1' || u[14] > '5' || strchr("89abAB", u[19]) == NULL)
        return false;
    return true;
}

bool stix__hex_valid(const char *s)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    }
    return n % 2 == 0;
}

bool stix__base64_valid(const char *s)
{
    size_t n = 0, pad = 0;

    for (; s[n] != '\0'; n++) {
        char c = s[n];

        if (c == '=') {
            pad++;
            continue;
        }
        if (pad > 0)
            return false; /* data after padding */
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return n % 4 == 0 && pad <= 2;
}

/* ---- SCO deterministic ids ---- */

/* ID-contributing properties per SCO type (spec 3.4 / §A9), NULL-terminated. */
struct sco_contrib {
    const char *type;
    const char *props[9];
};

static const struct sco_contrib contribs[] = {
    {"artifact", {"hashes", "payload_bin", NULL}},
    {"autonomous-system", {"number", NULL}},
    {"directory", {"path", NULL}},
    {"domain-name", {"value", NULL}},
    {"email-addr", {"value", NULL}},
    {"email-message", {"from_ref", "subject", "body", NULL}},
    {"file", {"hashes", "name", "extensions", "parent_directory_ref", NULL}},
    {"ipv4-addr", {"value", NULL}},
    {"ipv6-addr", {"value", NULL}},
    {"mac-addr", {"value", NULL}},
    {"mutex", {"name", NULL}},
    {"network-traffic",
     {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions",
      NULL}},
    {"process", {NULL}},
    {"software", {"name", "cpe", "swid", "vendor", "version", NULL}},
    {"url", {"value", NULL}},
    {"user-account", {"account_type", "user_id", "account_login", NULL}},
    {"windows-registry-key", {"key", "values", NULL}},
    {"x509-certificate", {"hashes", "serial_number", NULL}},
};

/* One hash entry: the first of MD5, SHA-1, SHA-256, SHA-512, else the smallest key so that the
 * choice does not depend on key order. */
static json_t *hashes_pick(const json_t *h)
{
    static const char *pref[] = {"MD5", "SHA-1", "SHA-256", "SHA-512"};
    const char *key, *best = NULL;
    const json_t *v;
    json_t *out;
    size_t i;

    for (i = 0; i < CTIX_ARRAY_LEN(pref) && best == NULL; i++) {
        if (json_object_get(h, pref[i]) != NULL)
            best = pref[i];
    }
    if (best == NULL) {
        json_object_foreach((json_t *)h, key, v)
        {
            if (best == NULL || strcmp(key, best) < 0)
                best = key;
        }
    }
    if (best == NULL)
        return NULL;
    out = json_object();
    if (out != NULL && json_object_set(out, best, json_object_get(h, best)) != 0) {
        json_decref(out);
        out = NULL;
    }
    return out;
}

static enum ctix_rc uuid5(const char *name, size_t len, char out[37])
{
    static const unsigned char ns[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                         0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    enum ctix_rc rc = CTIX_ENOMEM;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (ctx == NULL)
        goto out;
    if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 || EVP_DigestUpdate(ctx, ns, 16) != 1 ||
        EVP_DigestUpdate(ctx, name, len) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
        mdlen < 16)
        goto out;
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    ctix_uuid_format(md, out);
    rc = CTIX_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

enum ctix_rc stix_sco_id(const json_t *sco, char out[STIX_ID_MAX])
{
    const struct sco_contrib *c = NULL;
    const char *type;
    json_t *name = NULL;
    char *text = NULL;
    char uuid[37];
    size_t i, len = 0;
    enum ctix_rc rc = CTIX_EINVAL;

    type = json_string_value(json_object_get(sco, "type"));
    if (type == NULL)
        goto out;
    for (i = 0; i < CTIX_ARRAY_LEN(contribs) && c == NULL; i++) {
        if (strcmp(contribs[i].type, type) == 0)
            c = &contribs[i];
    }
    if (c == NULL)
        goto out;
    rc = CTIX_ENOMEM;
    name = json_object();
    if (name == NULL)
        goto out;
    for (i = 0; c->props[i] != NULL; i++) {
        json_t *v = json_object_get(sco, c->props[i]);
        int set;

        if (v == NULL)
            continue;
        if (strcmp(c->props[i], "hashes") == 0 && json_is_object(v)) {
            json_t *h = hashes_pick(v);

            if (h == NULL)
                continue; /* an empty hashes dictionary contributes nothing */
            set = json_object_set_new(name, "hashes", h);
        } else {
            set = json_object_set(name, c->props[i], v);
        }
        if (set != 0)
            goto out;
    }
    if (json_object_size(name) == 0) {
        rc = ctix_uuid4(uuid);
    } else {
        text = stix_canonical_json(name, &len);
        if (text == NULL)
            goto out;
        rc = uuid5(text, len, uuid);
    }
    if (rc != CTIX_OK)
        goto out;
    if (snprintf(out, STIX_ID_MAX, "%s--%s", type, uuid) >= STIX_ID_MAX)
        rc = CTIX_EINVAL;
out:
    free(text);
    json_decref(name);
    return rc;
}
