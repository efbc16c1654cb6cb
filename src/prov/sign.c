/* Node keys, attestations and their verification (see prov.h for what is signed and why).
 *
 * Ed25519 comes from OpenSSL's libcrypto by default, or from libsodium when built with
 * -DCTIX_HAVE_SODIUM (twice as fast here: 30,000 signatures/s and 13,000 verifications/s against
 * 15,000 and 6,500). Both implement RFC 8032, so keys, signatures and files are the same either
 * way; only the four functions under "backend" differ. */
#include "prov/prov.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#ifdef CTIX_HAVE_SODIUM
#include <sodium.h>
#endif

#include "prov/prov_int.h"

#define ATT_DOMAIN  "ctix/attestation/v1\n"
#define ROOT_DOMAIN "ctix/attestation-root/v1\n"
#define KEY_PREFIX  "ed25519:"
#define PEM_BEGIN   "-----BEGIN PRIVATE KEY-----\n"
#define PEM_END     "-----END PRIVATE KEY-----\n"
#define CACHE_N     32 /* batch roots a verifier remembers */
#define PATH_MAX_N  12 /* log2(PROV_BATCH_MAX) */

/* RFC 8410: the PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed. */
static const unsigned char pkcs8_prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                               0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

struct prov_key {
    unsigned char seed[32];
    struct prov_pubkey pub;
#ifdef CTIX_HAVE_SODIUM
    unsigned char sk[64];
#else
    EVP_PKEY *pkey;
#endif
};

/* ---- hashing ---- */

static EVP_MD *sha256_md, *sha1_md;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

/* Fetched once: EVP_sha256() would fetch the implementation again on every digest. */
static void md_init(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

struct part {
    const void *p;
    size_t n;
};

static enum ctix_rc sha256_parts(const struct part *parts, size_t n, unsigned char out[32])
{
    EVP_MD_CTX *ctx = NULL;
    unsigned len = 0;
    enum ctix_rc rc = CTIX_ENOMEM;

    pthread_once(&md_once, md_init);
    if (sha256_md == NULL)
        goto out;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1)
            goto out;
    }
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != 32)
        goto out;
    rc = CTIX_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

enum ctix_rc prov__sha256(const void *p, size_t n, unsigned char out[32])
{
    struct part part = {p, n};

    return sha256_parts(&part, 1, out);
}

/* ---- base64 (RFC 4648): strict decoders, no whitespace, canonical trailing bits ---- */

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Writes 4*ceil(n/3) characters (padded) or fewer (unpadded) and a NUL. */
static size_t b64_encode(const char *alpha, bool pad, const unsigned char *p, size_t n, char *out)
{
    size_t o = 0, i;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;

        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (pad) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;

        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int b64_val(const char *alpha, char c)
{
    const char *q = c != '\0' ? strchr(alpha, c) : NULL;

    return q != NULL ? (int)(q - alpha) : -1;
}

/* Decodes exactly n bytes from s[0..len): the length must be what encoding n bytes gives (with or
 * without padding as pad says) and unused trailing bits zero, so each value has one text form. */
static bool b64_decode(const char *alpha, bool pad, const char *s, size_t len, unsigned char *out,
                       size_t n)
{
    size_t want = pad ? (n + 2) / 3 * 4 : (n * 4 + 2) / 3;
    size_t o = 0, i;
    unsigned acc = 0;
    int bits = 0;

    if (len != want)
        return false;
    for (i = 0; i < len; i++) {
        int v;

        if (s[i] == '=') {
            /* padding only at the end, after the data characters */
            if (!pad || i < (n * 4 + 2) / 3)
                return false;
            continue;
        }
        if (pad && i >= (n * 4 + 2) / 3)
            return false;
        v = b64_val(alpha, s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= n)
                return false;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o == n && acc == 0;
}

/* ---- backend ---- */

static enum ctix_rc key_from_seed(struct prov_key *k)
{
#ifdef CTIX_HAVE_SODIUM
    if (sodium_init() < 0)
        return CTIX_EIO;
    if (crypto_sign_seed_keypair(k->pub.b, k->sk, k->seed) != 0)
        return CTIX_EIO;
    return CTIX_OK;
#else
    size_t len = sizeof(k->pub.b);

    k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->seed, sizeof(k->seed));
    if (k->pkey == NULL)
        return CTIX_ENOMEM;
    if (EVP_PKEY_get_raw_public_key(k->pkey, k->pub.b, &len) != 1 || len != sizeof(k->pub.b))
        return CTIX_EIO;
    return CTIX_OK;
#endif
}

static void key_backend_free(struct prov_key *k)
{
#ifdef CTIX_HAVE_SODIUM
    OPENSSL_cleanse(k->sk, sizeof(k->sk));
#else
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
#endif
}

static enum ctix_rc raw_sign(const struct prov_key *k, const unsigned char *m, size_t n,
                             unsigned char sig[64])
{
#ifdef CTIX_HAVE_SODIUM
    return crypto_sign_detached(sig, NULL, m, n, k->sk) == 0 ? CTIX_OK : CTIX_EIO;
#else
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = 64;
    enum ctix_rc rc = CTIX_ENOMEM;

    if (ctx == NULL)
        goto out;
    rc = CTIX_EIO;
    if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &len, m, n) != 1 || len != 64)
        goto out;
    rc = CTIX_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
#endif
}

/* CTIX_OK when valid, CTIX_EDENIED when not, CTIX_ENOMEM. */
static enum ctix_rc raw_verify(const struct prov_pubkey *pk, const unsigned char *m, size_t n,
                               const unsigned char sig[64])
{
#ifdef CTIX_HAVE_SODIUM
    if (sodium_init() < 0)
        return CTIX_EIO;
    return crypto_sign_verify_detached(sig, m, n, pk->b) == 0 ? CTIX_OK : CTIX_EDENIED;
#else
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk->b, sizeof(pk->b));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    enum ctix_rc rc = CTIX_ENOMEM;

    if (ctx == NULL)
        goto out;
    /* A public key that is not a curve point fails here: as forged as a bad signature. */
    rc = CTIX_EDENIED;
    if (pkey == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
        goto out;
    if (EVP_DigestVerify(ctx, sig, 64, m, n) == 1)
        rc = CTIX_OK;
out:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return rc;
#endif
}

const char *prov_backend(void)
{
#ifdef CTIX_HAVE_SODIUM
    return "libsodium";
#else
    return "openssl";
#endif
}

/* ---- keys ---- */

static enum ctix_rc key_new(const unsigned char seed[32], struct prov_key **out)
{
    struct prov_key *k = calloc(1, sizeof(*k));
    enum ctix_rc rc = CTIX_ENOMEM;

    if (k == NULL)
        goto out;
    memcpy(k->seed, seed, 32);
    rc = key_from_seed(k);
    if (rc != CTIX_OK)
        goto out;
    *out = k;
    k = NULL;
out:
    prov_key_free(k);
    return rc;
}

enum ctix_rc prov_key_generate(struct prov_key **out)
{
    unsigned char seed[32];
    enum ctix_rc rc = ctix_random(seed, sizeof(seed));

    if (rc == CTIX_OK)
        rc = key_new(seed, out);
    OPENSSL_cleanse(seed, sizeof(seed));
    return rc;
}

void prov_key_free(struct prov_key *k)
{
    if (k == NULL)
        return;
    key_backend_free(k);
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

const struct prov_pubkey *prov_key_public(const struct prov_key *k)
{
    return &k->pub;
}

enum ctix_rc prov_key_save(const struct prov_key *k, const char *dir, struct ctix_diag *diag)
{
    unsigned char der[48];
    char pem[160], b64[72], path[4096], tmp[4096];
    int fd = -1, dfd = -1, n;
    bool linked = false;
    enum ctix_rc rc = CTIX_EIO;

    tmp[0] = '\0';
    memcpy(der, pkcs8_prefix, sizeof(pkcs8_prefix));
    memcpy(der + sizeof(pkcs8_prefix), k->seed, 32);
    b64_encode(b64std, true, der, sizeof(der), b64);
    n = snprintf(pem, sizeof(pem), PEM_BEGIN "%s\n" PEM_END, b64);
    if (snprintf(path, sizeof(path), "%s/" PROV_KEY_FILE, dir) >= (int)sizeof(path) ||
        snprintf(tmp, sizeof(tmp), "%s/." PROV_KEY_FILE ".XXXXXX", dir) >= (int)sizeof(tmp)) {
        ctix_diag_set(diag, dir, "data directory path too long");
        rc = CTIX_EINVAL;
        tmp[0] = '\0';
        goto out;
    }
    /* mkstemp creates the file 0600 whatever the umask; fchmod makes sure of it. */
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        ctix_diag_set(diag, dir, "cannot create a key file: %s", strerror(errno));
        tmp[0] = '\0';
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || !ctix_write_all(fd, pem, (size_t)n) || fsync(fd) != 0) {
        ctix_diag_set(diag, tmp, "cannot write the key file: %s", strerror(errno));
        goto out;
    }
    /* link() fails with EEXIST instead of replacing, unlike rename(): a key is never lost. */
    if (link(tmp, path) != 0) {
        if (errno == EEXIST) {
            ctix_diag_set(diag, path, "a node key already exists");
            rc = CTIX_ECONFLICT;
        } else {
            ctix_diag_set(diag, path, "cannot create the key file: %s", strerror(errno));
        }
        goto out;
    }
    linked = true;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        ctix_diag_set(diag, dir, "cannot sync the data directory: %s", strerror(errno));
        goto out;
    }
    rc = CTIX_OK;
out:
    if (tmp[0] != '\0')
        unlink(tmp);
    if (rc != CTIX_OK && rc != CTIX_ECONFLICT && linked)
        unlink(path);
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    OPENSSL_cleanse(der, sizeof(der));
    OPENSSL_cleanse(pem, sizeof(pem));
    OPENSSL_cleanse(b64, sizeof(b64));
    return rc;
}

enum ctix_rc prov_key_load(const char *dir, struct prov_key **out, struct ctix_diag *diag)
{
    unsigned char der[48];
    char path[4096];
    char *text = NULL;
    size_t len = 0, blen;
    const char *b, *e;
    struct stat sb;
    enum ctix_rc rc = CTIX_EINVAL;

    if (snprintf(path, sizeof(path), "%s/" PROV_KEY_FILE, dir) >= (int)sizeof(path)) {
        ctix_diag_set(diag, dir, "data directory path too long");
        goto out;
    }
    if (stat(path, &sb) != 0) {
        rc = errno == ENOENT ? CTIX_ENOTFOUND : CTIX_EIO;
        ctix_diag_set(diag, path, "cannot read the node key: %s", strerror(errno));
        goto out;
    }
    if ((sb.st_mode & 0077) != 0) {
        ctix_diag_set(diag, path, "the node key is readable by others (mode %03o): chmod 600",
                      (unsigned)(sb.st_mode & 0777));
        rc = CTIX_EDENIED;
        goto out;
    }
    rc = ctix_file_read(path, 4096, &text, &len, diag);
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EINVAL;
    b = text;
    if (len < strlen(PEM_BEGIN) || memcmp(b, PEM_BEGIN, strlen(PEM_BEGIN)) != 0)
        goto bad;
    b += strlen(PEM_BEGIN);
    e = strchr(b, '\n');
    if (e == NULL || strcmp(e + 1, PEM_END) != 0)
        goto bad;
    blen = (size_t)(e - b);
    if (!b64_decode(b64std, true, b, blen, der, sizeof(der)) ||
        memcmp(der, pkcs8_prefix, sizeof(pkcs8_prefix)) != 0)
        goto bad;
    rc = key_new(der + sizeof(pkcs8_prefix), out);
    goto out;
bad:
    ctix_diag_set(diag, path, "not an Ed25519 private key in PKCS#8 PEM form");
out:
    if (text != NULL) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
    OPENSSL_cleanse(der, sizeof(der));
    return rc;
}

void prov_pubkey_format(const struct prov_pubkey *pk, char out[PROV_PUBKEY_TEXT])
{
    memcpy(out, KEY_PREFIX, strlen(KEY_PREFIX));
    b64_encode(b64url, false, pk->b, sizeof(pk->b), out + strlen(KEY_PREFIX));
}

enum ctix_rc prov_pubkey_parse(const char *s, struct prov_pubkey *out, struct ctix_diag *diag)
{
    size_t plen = strlen(KEY_PREFIX), n;
    enum ctix_rc rc = CTIX_EINVAL;

    if (s == NULL || strncmp(s, KEY_PREFIX, plen) != 0) {
        ctix_diag_set(diag, "pubkey", "a public key starts with \"ed25519:\"");
        goto out;
    }
    n = strlen(s + plen);
    if (n != 43) {
        ctix_diag_set(diag, "pubkey",
                      "a public key is \"ed25519:\" and 43 base64url characters (got %zu)", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (b64_val(b64url, s[plen + i]) < 0) {
            ctix_diag_set(diag, "pubkey",
                          "character %zu of the key is not base64url (A-Z a-z 0-9 - _)",
                          plen + i + 1);
            goto out;
        }
    }
    if (!b64_decode(b64url, false, s + plen, n, out->b, sizeof(out->b))) {
        ctix_diag_set(diag, "pubkey", "the key's last character has stray bits (mistyped?)");
        goto out;
    }
    rc = CTIX_OK;
out:
    return rc;
}

bool prov_pubkey_equal(const struct prov_pubkey *a, const struct prov_pubkey *b)
{
    return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

/* ---- trust table ---- */

void prov_trust_table_init(struct prov_trust_table *t)
{
    memset(t, 0, sizeof(*t));
}

void prov_trust_table_cleanup(struct prov_trust_table *t)
{
    free(t->v);
    memset(t, 0, sizeof(*t));
}

enum ctix_rc prov_trust_table_add(struct prov_trust_table *t, const char *org,
                                  const struct prov_pubkey *key)
{
    size_t olen = strlen(org);

    if (olen == 0 || olen >= PROV_ORG_MAX)
        return CTIX_EINVAL;
    for (size_t i = 0; i < t->n; i++) {
        if (prov_pubkey_equal(&t->v[i].key, key))
            return CTIX_ECONFLICT;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap != 0 ? t->cap * 2 : 8;
        struct prov_trust_entry *v = realloc(t->v, cap * sizeof(*v));

        if (v == NULL)
            return CTIX_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n].key = *key;
    ctix_strlcpy(t->v[t->n].org, org, PROV_ORG_MAX);
    t->n++;
    return CTIX_OK;
}

enum ctix_rc prov_trust_table_lookup(void *ctx, const struct prov_pubkey *key,
                                     const char *publisher, char *org)
{
    const struct prov_trust_table *t = ctx;

    (void)publisher;
    for (size_t i = 0; i < t->n; i++) {
        if (prov_pubkey_equal(&t->v[i].key, key)) {
            ctix_strlcpy(org, t->v[i].org, PROV_ORG_MAX);
            return CTIX_OK;
        }
    }
    return CTIX_ENOTFOUND;
}

/* ---- attestations: building ---- */

static const char *statement_names[] = {[PROV_PUBLISH] = "publish", [PROV_DELETE] = "delete"};

/* The version an object is known by: modified, else created, else none. */
static const char *obj_version(const json_t *obj)
{
    const char *v = json_string_value(json_object_get(obj, "modified"));

    return v != NULL ? v : json_string_value(json_object_get(obj, "created"));
}

/* Canonical JSON maps integers beyond ±2^53 to the nearest double, so two different objects
 * would share a digest: such objects (not I-JSON, RFC 7493) are neither signed nor accepted. */
static bool ijson_ok(const json_t *j, int depth)
{
    const char *k;
    const json_t *v;
    size_t i;

    if (depth > 4096)
        return false;
    switch (json_typeof(j)) {
    case JSON_INTEGER: {
        json_int_t x = json_integer_value(j);

        return x >= -(((json_int_t)1) << 53) && x <= (((json_int_t)1) << 53);
    }
    case JSON_OBJECT:
        json_object_foreach((json_t *)j, k, v)
        {
            if (!ijson_ok(v, depth + 1))
                return false;
        }
        return true;
    case JSON_ARRAY:
        json_array_foreach(j, i, v)
        {
            if (!ijson_ok(v, depth + 1))
                return false;
        }
        return true;
    default:
        return true;
    }
}

/* SHA-256 of the object's canonical JSON. CTIX_EINVAL when it is not I-JSON. */
static enum ctix_rc obj_digest(const json_t *obj, unsigned char out[32])
{
    size_t len = 0;
    char *c;
    enum ctix_rc rc = CTIX_EINVAL;

    if (!ijson_ok(obj, 0))
        return rc;
    c = stix_canonical_json(obj, &len);
    if (c == NULL)
        return CTIX_ENOMEM;
    rc = prov__sha256(c, len, out);
    free(c);
    return rc;
}

static enum ctix_rc leaf_hash(const json_t *att_unsigned, unsigned char out[32])
{
    static const unsigned char zero = 0x00;
    size_t len = 0;
    char *c = stix_canonical_json(att_unsigned, &len);
    enum ctix_rc rc = CTIX_ENOMEM;

    if (c != NULL) {
        struct part parts[] = {{&zero, 1}, {ATT_DOMAIN, strlen(ATT_DOMAIN)}, {c, len}};

        rc = sha256_parts(parts, CTIX_ARRAY_LEN(parts), out);
    }
    free(c);
    return rc;
}

static enum ctix_rc node_hash(const unsigned char l[32], const unsigned char r[32],
                              unsigned char out[32])
{
    static const unsigned char one = 0x01;
    struct part parts[] = {{&one, 1}, {l, 32}, {r, 32}};

    return sha256_parts(parts, CTIX_ARRAY_LEN(parts), out);
}

/* The message a root signature covers. */
static void root_message(size_t n, const unsigned char root[32], unsigned char *m, size_t *mlen)
{
    size_t d = strlen(ROOT_DOMAIN);

    memcpy(m, ROOT_DOMAIN, d);
    for (int i = 0; i < 8; i++)
        m[d + (size_t)i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    memcpy(m + d + 8, root, 32);
    *mlen = d + 8 + 32;
}

static enum ctix_rc set_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v)) == 0 ? CTIX_OK : CTIX_ENOMEM;
}

/* object_marking_refs of the object, then its granular markings' refs, each once. */
static enum ctix_rc copy_markings(const json_t *obj, json_t *att)
{
    json_t *refs = json_array(), *m;
    const json_t *g;
    size_t i, j;
    enum ctix_rc rc = CTIX_ENOMEM;

    if (refs == NULL)
        goto out;
    json_array_foreach(json_object_get(obj, "object_marking_refs"), i, m)
    {
        if (json_is_string(m) && json_array_append(refs, m) != 0)
            goto out;
    }
    json_array_foreach(json_object_get(obj, "granular_markings"), i, g)
    {
        const json_t *ref = json_object_get(g, "marking_ref");
        bool seen = false;

        if (!json_is_string(ref))
            continue;
        json_array_foreach(refs, j, m)
        {
            seen = seen || json_equal(m, ref);
        }
        if (!seen && json_array_append(refs, (json_t *)ref) != 0)
            goto out;
    }
    rc = CTIX_OK;
    if (json_array_size(refs) > 0 && json_object_set(att, "object_marking_refs", refs) != 0)
        rc = CTIX_ENOMEM;
out:
    json_decref(refs);
    return rc;
}

/* UUIDv5 in a namespace of ctix's own, so that the same statement by the same key about the same
 * version has the same attestation id. */
static enum ctix_rc att_id(const char *keytext, enum prov_statement st, const char *ref,
                           const char *version, char out[STIX_ID_MAX])
{
    static const unsigned char ns[16] = {0x6c, 0x1f, 0x3a, 0x52, 0x9e, 0x0b, 0x4d, 0x61,
                                         0xa8, 0x77, 0x2c, 0x15, 0xd0, 0x3e, 0x94, 0x8b};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char uuid[37];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const char *sname = statement_names[st];
    enum ctix_rc rc = CTIX_ENOMEM;

    pthread_once(&md_once, md_init);
    if (ctx == NULL || sha1_md == NULL)
        goto out;
    if (EVP_DigestInit_ex(ctx, sha1_md, NULL) != 1 || EVP_DigestUpdate(ctx, ns, 16) != 1 ||
        EVP_DigestUpdate(ctx, keytext, strlen(keytext) + 1) != 1 ||
        EVP_DigestUpdate(ctx, sname, strlen(sname) + 1) != 1 ||
        EVP_DigestUpdate(ctx, ref, strlen(ref) + 1) != 1 ||
        EVP_DigestUpdate(ctx, version != NULL ? version : "", strlen(version ? version : "")) !=
            1 ||
        EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 16)
        goto out;
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    ctix_uuid_format(md, uuid);
    snprintf(out, STIX_ID_MAX, PROV_ATTEST_TYPE "--%s", uuid);
    rc = CTIX_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

enum ctix_rc prov_att_id(const struct prov_pubkey *key, enum prov_statement st,
                         const char *object_id, const char *version, char out[STIX_ID_MAX])
{
    char keytext[PROV_PUBKEY_TEXT];

    prov_pubkey_format(key, keytext);
    return att_id(keytext, st, object_id, version, out);
}

/* The attestation without signature and proof. */
static enum ctix_rc att_new(const json_t *obj, enum prov_statement st, bool all_versions,
                            const struct prov_key *key, const struct prov_sign_opts *opts,
                            json_t **out, struct ctix_diag *diag)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *version = all_versions ? NULL : obj_version(obj);
    char keytext[PROV_PUBKEY_TEXT], aid[STIX_ID_MAX], ts[28], hex[65];
    unsigned char digest[32];
    json_t *att = NULL;
    size_t plen = opts->publisher != NULL ? strlen(opts->publisher) : 0;
    enum ctix_rc rc = CTIX_EINVAL;

    if (id == NULL || !stix_id_valid(id, NULL)) {
        ctix_diag_set(diag, "id", "the object has no valid id");
        goto out;
    }
    if (plen == 0 || plen >= PROV_PUBLISHER_MAX) {
        ctix_diag_set(diag, "publisher", "the publisher name must be 1 to %d bytes",
                      PROV_PUBLISHER_MAX - 1);
        goto out;
    }
    if (st == PROV_PUBLISH) {
        rc = obj_digest(obj, digest);
        if (rc == CTIX_EINVAL)
            ctix_diag_set(diag, id, "holds an integer beyond 2^53: canonical JSON would alter it");
        if (rc != CTIX_OK)
            goto out;
        ctix_hex(digest, sizeof(digest), hex);
    }
    prov_pubkey_format(&key->pub, keytext);
    rc = att_id(keytext, st, id, version, aid);
    if (rc != CTIX_OK)
        goto out;
    ctix_ts_format_us(opts->now_us != 0 ? opts->now_us : ctix_now_us(), ts);
    rc = CTIX_ENOMEM;
    att = json_object();
    if (att == NULL)
        goto out;
    if (set_str(att, "type", PROV_ATTEST_TYPE) != CTIX_OK ||
        set_str(att, "spec_version", "2.1") != CTIX_OK || set_str(att, "id", aid) != CTIX_OK ||
        set_str(att, "created", ts) != CTIX_OK || set_str(att, "modified", ts) != CTIX_OK ||
        set_str(att, "statement", statement_names[st]) != CTIX_OK ||
        set_str(att, "object_ref", id) != CTIX_OK ||
        (version != NULL && set_str(att, "object_modified", version) != CTIX_OK) ||
        (st == PROV_PUBLISH && set_str(att, "object_sha256", hex) != CTIX_OK) ||
        set_str(att, "publisher", opts->publisher) != CTIX_OK ||
        set_str(att, "public_key", keytext) != CTIX_OK ||
        set_str(att, "algorithm", "ed25519") != CTIX_OK)
        goto out;
    rc = copy_markings(obj, att);
    if (rc != CTIX_OK)
        goto out;
    *out = att;
    att = NULL;
out:
    json_decref(att);
    return rc;
}

/* Builds the Merkle tree bottom-up (a lone last node moves up unchanged, which gives RFC 6962's
 * tree) and stores every level: tree[0] = leaves, each level after the previous one. */
static enum ctix_rc tree_build(unsigned char (*tree)[32], size_t n, size_t *n_nodes)
{
    size_t lvl = 0, m = n, next;
    enum ctix_rc rc = CTIX_OK;

    while (m > 1) {
        next = lvl + m;
        for (size_t j = 0; j < (m + 1) / 2 && rc == CTIX_OK; j++) {
            if (2 * j + 1 < m)
                rc = node_hash(tree[lvl + 2 * j], tree[lvl + 2 * j + 1], tree[next + j]);
            else
                memcpy(tree[next + j], tree[lvl + 2 * j], 32);
        }
        lvl = next;
        m = (m + 1) / 2;
    }
    *n_nodes = lvl + 1;
    return rc;
}

static enum ctix_rc proof_add(json_t *att, unsigned char (*tree)[32], size_t n, size_t i)
{
    json_t *path = json_array();
    size_t lvl = 0, m = n, idx = i;
    char hex[65];
    enum ctix_rc rc = CTIX_ENOMEM;

    if (path == NULL)
        goto out;
    while (m > 1) {
        size_t sib = idx ^ 1;

        if (sib < m) {
            ctix_hex(tree[lvl + sib], 32, hex);
            if (json_array_append_new(path, json_string(hex)) != 0)
                goto out;
        }
        lvl += m;
        m = (m + 1) / 2;
        idx >>= 1;
    }
    if (json_object_set_new(att, "batch_size", json_integer((json_int_t)n)) != 0 ||
        json_object_set_new(att, "batch_index", json_integer((json_int_t)i)) != 0 ||
        json_object_set(att, "batch_path", path) != 0)
        goto out;
    rc = CTIX_OK;
out:
    json_decref(path);
    return rc;
}

/* Builds the tree over its n leaves and signs its root: sig64 the signature in base64. */
static enum ctix_rc tree_sign(unsigned char (*tree)[32], size_t n, const struct prov_key *key,
                              char sig64[89])
{
    unsigned char sig[64], msg[128];
    size_t n_nodes = 0, mlen = 0;
    enum ctix_rc rc = tree_build(tree, n, &n_nodes);

    if (rc != CTIX_OK)
        return rc;
    root_message(n, tree[n_nodes - 1], msg, &mlen);
    rc = raw_sign(key, msg, mlen, sig);
    if (rc == CTIX_OK)
        b64_encode(b64std, true, sig, sizeof(sig), sig64);
    return rc;
}

static enum ctix_rc sign_batch(json_t **atts, size_t n, const struct prov_key *key)
{
    unsigned char(*tree)[32] = NULL;
    char sig64[89];
    enum ctix_rc rc = CTIX_ENOMEM;

    /* n leaves, then each level: at most n + (number of levels) nodes above them */
    tree = malloc((2 * n + 2 * PATH_MAX_N) * sizeof(*tree));
    if (tree == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        rc = leaf_hash(atts[i], tree[i]);
        if (rc != CTIX_OK)
            goto out;
    }
    rc = tree_sign(tree, n, key, sig64);
    if (rc != CTIX_OK)
        goto out;
    for (size_t i = 0; i < n && rc == CTIX_OK; i++) {
        if (n > 1)
            rc = proof_add(atts[i], tree, n, i);
        if (rc == CTIX_OK)
            rc = set_str(atts[i], "signature", sig64);
    }
out:
    free(tree);
    return rc;
}

/* ---- attestations as text: the ingest path ----
 *
 * The same attestations as att_new + sign_batch build, written straight into text: the members
 * without signature and proof are written in RFC 8785 order, so that this text is the leaf's
 * canonical JSON as it is (no jansson values, no second canonicalisation), then the proof and the
 * signature follow it. Building jansson objects, canonicalising them and dumping them again cost
 * two thirds of an ingest's time. */

/* Appends a string member ,"name":"value" (name already quoted and with its colon). */
static enum ctix_rc put_member(struct buf *b, const char *name, const char *v, size_t n)
{
    enum ctix_rc rc = buf_appends(b, name);

    return rc == CTIX_OK ? buf_append_json_str(b, v, n) : rc;
}

/* "object_marking_refs":[…] as copy_markings makes it: the object's marking refs, then its
 * granular markings' refs not seen yet; nothing when there are none. */
static enum ctix_rc put_markings(struct buf *b, const json_t *obj)
{
    const json_t *omr = json_object_get(obj, "object_marking_refs");
    const json_t *gm = json_object_get(obj, "granular_markings"), *m, *g;
    size_t i, j, n = 0;
    enum ctix_rc rc = CTIX_OK;

    json_array_foreach(omr, i, m)
    {
        if (!json_is_string(m))
            continue;
        rc = buf_appends(b, n++ == 0 ? ",\"object_marking_refs\":[" : ",");
        if (rc == CTIX_OK)
            rc = buf_append_json_str(b, json_string_value(m), json_string_length(m));
        if (rc != CTIX_OK)
            return rc;
    }
    json_array_foreach(gm, i, g)
    {
        const json_t *ref = json_object_get(g, "marking_ref");
        bool seen = false;

        if (!json_is_string(ref))
            continue;
        /* seen among the object's refs, or among the granular ones before this one */
        json_array_foreach(omr, j, m)
        {
            seen = seen || (json_is_string(m) && json_equal(m, ref));
        }
        for (j = 0; j < i && !seen; j++) {
            const json_t *r2 = json_object_get(json_array_get(gm, j), "marking_ref");

            seen = json_is_string(r2) && json_equal(r2, ref);
        }
        if (seen)
            continue;
        rc = buf_appends(b, n++ == 0 ? ",\"object_marking_refs\":[" : ",");
        if (rc == CTIX_OK)
            rc = buf_append_json_str(b, json_string_value(ref), json_string_length(ref));
        if (rc != CTIX_OK)
            return rc;
    }
    if (n > 0)
        rc = buf_append(b, "]", 1);
    return rc;
}

/* One publish attestation's unsigned canonical text, appended to b; its id into aid. */
static enum ctix_rc att_text(struct buf *b, const json_t *obj, const char *keytext, const char *ts,
                             const struct prov_sign_opts *opts, char aid[STIX_ID_MAX],
                             struct ctix_diag *diag)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *version = obj_version(obj);
    unsigned char digest[32];
    char hex[65];
    enum ctix_rc rc = CTIX_EINVAL;

    if (id == NULL || !stix_id_valid(id, NULL)) {
        ctix_diag_set(diag, "id", "the object has no valid id");
        goto out;
    }
    rc = obj_digest(obj, digest);
    if (rc == CTIX_EINVAL)
        ctix_diag_set(diag, id, "holds an integer beyond 2^53: canonical JSON would alter it");
    if (rc != CTIX_OK)
        goto out;
    ctix_hex(digest, sizeof(digest), hex);
    rc = att_id(keytext, PROV_PUBLISH, id, version, aid);
    if (rc != CTIX_OK)
        goto out;
    /* Members in RFC 8785 order (ASCII names: byte order is UTF-16 order). */
    /* Plain appends: formatting through printf was a tenth of the signing time. */
    rc = buf_appends(b, "{\"algorithm\":\"ed25519\",\"created\":\"");
    if (rc == CTIX_OK)
        rc = buf_appends(b, ts);
    if (rc == CTIX_OK)
        rc = buf_appends(b, "\",\"id\":\"");
    if (rc == CTIX_OK)
        rc = buf_appends(b, aid);
    if (rc == CTIX_OK)
        rc = buf_appends(b, "\",\"modified\":\"");
    if (rc == CTIX_OK)
        rc = buf_appends(b, ts);
    if (rc == CTIX_OK)
        rc = buf_append(b, "\"", 1);
    if (rc == CTIX_OK)
        rc = put_markings(b, obj);
    if (rc == CTIX_OK && version != NULL)
        rc = put_member(b, ",\"object_modified\":", version, strlen(version));
    if (rc == CTIX_OK)
        rc = put_member(b, ",\"object_ref\":", id, strlen(id));
    if (rc == CTIX_OK)
        rc = buf_appends(b, ",\"object_sha256\":\"");
    if (rc == CTIX_OK)
        rc = buf_append(b, hex, 64);
    if (rc == CTIX_OK)
        rc = buf_appends(b, "\",\"public_key\":\"");
    if (rc == CTIX_OK)
        rc = buf_appends(b, keytext);
    if (rc == CTIX_OK)
        rc = buf_append(b, "\"", 1);
    if (rc == CTIX_OK)
        rc = put_member(b, ",\"publisher\":", opts->publisher, strlen(opts->publisher));
    if (rc == CTIX_OK)
        rc = buf_appends(b, ",\"spec_version\":\"2.1\",\"statement\":\"publish\","
                            "\"type\":\"" PROV_ATTEST_TYPE "\"}");
out:
    return rc;
}

enum ctix_rc prov_attest_sign_text(const json_t *const *objs, size_t n, const struct prov_key *key,
                                   const struct prov_sign_opts *opts, struct buf *texts,
                                   struct prov_att_text *outs, struct ctix_diag *diag)
{
    static const unsigned char zero = 0x00;
    unsigned char(*tree)[32] = NULL;
    char keytext[PROV_PUBKEY_TEXT], ts[28], sig64[89], hex[68];
    size_t *off = NULL, plen, base = texts->len;
    struct buf un;
    enum ctix_rc rc = CTIX_EINVAL;

    buf_init(&un, (size_t)1 << 30);
    plen = opts->publisher != NULL ? strlen(opts->publisher) : 0;
    if (n == 0 || n > PROV_BATCH_MAX) {
        ctix_diag_set(diag, NULL, "a batch is 1 to %d objects (got %zu)", PROV_BATCH_MAX, n);
        goto out;
    }
    if (plen == 0 || plen >= PROV_PUBLISHER_MAX) {
        ctix_diag_set(diag, "publisher", "the publisher name must be 1 to %d bytes",
                      PROV_PUBLISHER_MAX - 1);
        goto out;
    }
    rc = CTIX_ENOMEM;
    off = malloc((n + 1) * sizeof(*off));
    tree = malloc((2 * n + 2 * PATH_MAX_N) * sizeof(*tree));
    if (off == NULL || tree == NULL || buf_grow(&un, n * 640) != CTIX_OK)
        goto out;
    prov_pubkey_format(&key->pub, keytext);
    ctix_ts_format_us(opts->now_us != 0 ? opts->now_us : ctix_now_us(), ts);
    /* The unsigned texts back to back in un; each one's leaf. */
    for (size_t i = 0; i < n; i++) {
        off[i] = un.len;
        rc = att_text(&un, objs[i], keytext, ts, opts, outs[i].id, diag);
        if (rc != CTIX_OK)
            goto out;
        ctix_strlcpy(outs[i].modified, ts, sizeof(outs[i].modified));
        {
            struct part parts[] = {
                {&zero, 1}, {ATT_DOMAIN, strlen(ATT_DOMAIN)}, {un.data + off[i], un.len - off[i]}};

            rc = sha256_parts(parts, CTIX_ARRAY_LEN(parts), tree[i]);
        }
        if (rc != CTIX_OK)
            goto out;
    }
    off[n] = un.len;
    rc = tree_sign(tree, n, key, sig64);
    if (rc != CTIX_OK)
        goto out;
    /* The stored texts: each unsigned text without its '}', then proof and signature. */
    rc = buf_grow(texts, un.len + n * (200 + (n > 1 ? 67 * PATH_MAX_N : 0)));
    for (size_t i = 0; i < n && rc == CTIX_OK; i++) {
        outs[i].off = texts->len - base;
        rc = buf_append(texts, un.data + off[i], off[i + 1] - off[i] - 1);
        if (rc == CTIX_OK && n > 1) {
            size_t lvl = 0, m = n, idx = i, k = 0;

            rc = buf_appendf(texts, ",\"batch_size\":%zu,\"batch_index\":%zu,\"batch_path\":[", n,
                             i);
            while (rc == CTIX_OK && m > 1) {
                size_t sib = idx ^ 1;

                if (sib < m) {
                    hex[0] = ',';
                    hex[1] = '"';
                    ctix_hex(tree[lvl + sib], 32, hex + 2);
                    hex[66] = '"';
                    rc = k++ > 0 ? buf_append(texts, hex, 67) : buf_append(texts, hex + 1, 66);
                }
                lvl += m;
                m = (m + 1) / 2;
                idx >>= 1;
            }
            if (rc == CTIX_OK)
                rc = buf_append(texts, "]", 1);
        }
        if (rc == CTIX_OK)
            rc = buf_appends(texts, ",\"signature\":\"");
        if (rc == CTIX_OK)
            rc = buf_appends(texts, sig64);
        if (rc == CTIX_OK)
            rc = buf_append(texts, "\"}", 2);
        outs[i].len = texts->len - base - outs[i].off;
        outs[i].off += base;
    }
out:
    if (rc != CTIX_OK)
        texts->len = base; /* on failure nothing is added */
    if (texts->data != NULL && texts->cap > texts->len)
        texts->data[texts->len] = '\0';
    buf_cleanup(&un);
    free(off);
    free(tree);
    return rc;
}

/* Built as jansson values for callers that want them (export): making text and parsing it again
 * would cost more. prov_test checks that both ways give the same attestations. */
enum ctix_rc prov_attest_sign(const json_t *const *objs, size_t n, const struct prov_key *key,
                              const struct prov_sign_opts *opts, json_t **outs,
                              struct ctix_diag *diag)
{
    json_t **atts = NULL;
    size_t made = 0;
    enum ctix_rc rc = CTIX_EINVAL;

    if (n == 0 || n > PROV_BATCH_MAX) {
        ctix_diag_set(diag, NULL, "a batch is 1 to %d objects (got %zu)", PROV_BATCH_MAX, n);
        goto out;
    }
    rc = CTIX_ENOMEM;
    atts = calloc(n, sizeof(*atts));
    if (atts == NULL)
        goto out;
    for (made = 0; made < n; made++) {
        rc = att_new(objs[made], PROV_PUBLISH, false, key, opts, &atts[made], diag);
        if (rc != CTIX_OK)
            goto out;
    }
    rc = sign_batch(atts, n, key);
    if (rc != CTIX_OK)
        goto out;
    memcpy(outs, atts, n * sizeof(*atts));
    made = 0;
out:
    for (size_t i = 0; i < made; i++)
        json_decref(atts[i]);
    free(atts);
    return rc;
}

enum ctix_rc prov_attest_sign_delete(const json_t *obj, bool all_versions,
                                     const struct prov_key *key, const struct prov_sign_opts *opts,
                                     json_t **out, struct ctix_diag *diag)
{
    json_t *att = NULL;
    enum ctix_rc rc = att_new(obj, PROV_DELETE, all_versions, key, opts, &att, diag);

    if (rc == CTIX_OK)
        rc = sign_batch(&att, 1, key);
    if (rc == CTIX_OK) {
        *out = att;
        att = NULL;
    }
    json_decref(att);
    return rc;
}

bool prov_is_attestation(const json_t *j)
{
    const char *t = json_string_value(json_object_get(j, "type"));

    return t != NULL && strcmp(t, PROV_ATTEST_TYPE) == 0;
}

/* ---- attestations: verifying ---- */

struct cached_root {
    struct prov_pubkey key;
    uint64_t n;
    unsigned char root[32];
    unsigned char sig[64];
};

struct prov_verifier {
    prov_trust_fn trust;
    void *trust_ctx;
    struct cached_root cache[CACHE_N];
    size_t n_cached, next;
};

enum ctix_rc prov_verifier_new(prov_trust_fn trust, void *trust_ctx, struct prov_verifier **out)
{
    struct prov_verifier *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return CTIX_ENOMEM;
    v->trust = trust;
    v->trust_ctx = trust_ctx;
    *out = v;
    return CTIX_OK;
}

void prov_verifier_free(struct prov_verifier *v)
{
    free(v);
}

const char *prov_verdict_name(enum prov_verdict v)
{
    static const char *names[] = {
        [PROV_VALID] = "valid",
        [PROV_MALFORMED] = "malformed",
        [PROV_MISMATCH] = "mismatch",
        [PROV_BAD_SIGNATURE] = "bad-signature",
        [PROV_UNKNOWN_PUBLISHER] = "unknown-publisher",
    };

    if ((size_t)v < CTIX_ARRAY_LEN(names) && names[v] != NULL)
        return names[v];
    return "unknown";
}

/* The fields of an attestation, borrowed from its JSON. */
struct att_view {
    enum prov_statement st;
    const char *ref, *modified, *sha256, *publisher;
    struct prov_pubkey key;
    unsigned char sig[64];
    uint64_t n, index;
    const json_t *path;
};

static bool str_prop(const json_t *att, const char *name, bool required, const char **out,
                     struct ctix_diag *diag)
{
    const json_t *v = json_object_get(att, name);

    *out = NULL;
    if (v == NULL) {
        if (required)
            ctix_diag_set(diag, name, "attestation: required property is missing");
        return !required;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        ctix_diag_set(diag, name, "attestation: must be a non-empty string");
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool int_prop(const json_t *att, const char *name, uint64_t dflt, uint64_t *out,
                     struct ctix_diag *diag)
{
    const json_t *v = json_object_get(att, name);

    *out = dflt;
    if (v == NULL)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        ctix_diag_set(diag, name, "attestation: must be a non-negative integer");
        return false;
    }
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* Checks form only: PROV_MALFORMED with diag, or PROV_VALID. */
static enum prov_verdict att_parse(const json_t *att, struct att_view *a, struct ctix_diag *diag)
{
    const char *st = NULL, *alg = NULL, *key = NULL, *sig = NULL, *s;
    size_t i;
    const json_t *p;

    memset(a, 0, sizeof(*a));
    if (!prov_is_attestation(att)) {
        ctix_diag_set(diag, "type", "not an attestation (type must be \"" PROV_ATTEST_TYPE "\")");
        return PROV_MALFORMED;
    }
    if (!str_prop(att, "statement", true, &st, diag) ||
        !str_prop(att, "object_ref", true, &a->ref, diag) ||
        !str_prop(att, "object_modified", false, &a->modified, diag) ||
        !str_prop(att, "object_sha256", false, &a->sha256, diag) ||
        !str_prop(att, "publisher", true, &a->publisher, diag) ||
        !str_prop(att, "public_key", true, &key, diag) ||
        !str_prop(att, "algorithm", true, &alg, diag) ||
        !str_prop(att, "signature", true, &sig, diag) ||
        !int_prop(att, "batch_size", 1, &a->n, diag) ||
        !int_prop(att, "batch_index", 0, &a->index, diag))
        return PROV_MALFORMED;
    if (strcmp(st, "publish") == 0) {
        a->st = PROV_PUBLISH;
    } else if (strcmp(st, "delete") == 0) {
        a->st = PROV_DELETE;
    } else {
        ctix_diag_set(diag, "statement", "attestation: statement must be publish or delete");
        return PROV_MALFORMED;
    }
    if (strcmp(alg, "ed25519") != 0) {
        ctix_diag_set(diag, "algorithm", "attestation: unsupported algorithm \"%.40s\"", alg);
        return PROV_MALFORMED;
    }
    if (!stix_id_valid(a->ref, NULL) || strlen(a->ref) >= STIX_ID_MAX) {
        ctix_diag_set(diag, "object_ref", "attestation: not a STIX identifier");
        return PROV_MALFORMED;
    }
    if (a->modified != NULL && strlen(a->modified) >= PROV_VERSION_MAX) {
        ctix_diag_set(diag, "object_modified", "attestation: not a timestamp");
        return PROV_MALFORMED;
    }
    if (strlen(a->publisher) >= PROV_PUBLISHER_MAX) {
        ctix_diag_set(diag, "publisher", "attestation: publisher name too long");
        return PROV_MALFORMED;
    }
    if (a->st == PROV_PUBLISH && a->sha256 == NULL) {
        ctix_diag_set(diag, "object_sha256", "attestation: required property is missing");
        return PROV_MALFORMED;
    }
    if (prov_pubkey_parse(key, &a->key, diag) != CTIX_OK) {
        ctix_diag_set(diag, "public_key", "attestation: not an \"ed25519:\" public key");
        return PROV_MALFORMED;
    }
    if (!b64_decode(b64std, true, sig, strlen(sig), a->sig, sizeof(a->sig))) {
        ctix_diag_set(diag, "signature", "attestation: not the base64 of 64 bytes");
        return PROV_MALFORMED;
    }
    if (a->n < 1 || a->n > PROV_BATCH_MAX || a->index >= a->n) {
        ctix_diag_set(diag, "batch_index", "attestation: batch index or size out of range");
        return PROV_MALFORMED;
    }
    a->path = json_object_get(att, "batch_path");
    if (a->path != NULL && (!json_is_array(a->path) || json_array_size(a->path) > PATH_MAX_N)) {
        ctix_diag_set(diag, "batch_path", "attestation: must be a list of at most %d hashes",
                      PATH_MAX_N);
        return PROV_MALFORMED;
    }
    json_array_foreach(a->path, i, p)
    {
        unsigned char tmp[32];

        s = json_string_value(p);
        if (s == NULL || !ctix_unhex(s, tmp, 32)) {
            ctix_diag_set(diag, "batch_path", "attestation: entry %zu is not a SHA-256 in hex", i);
            return PROV_MALFORMED;
        }
    }
    return PROV_VALID;
}

/* The root the proof leads to from leaf (RFC 9162, 2.1.3.2); false when the proof does not fit
 * the index and size. */
static enum ctix_rc proof_root(const struct att_view *a, const unsigned char leaf[32],
                               unsigned char root[32], bool *fits)
{
    uint64_t fn = a->index, sn = a->n - 1;
    size_t i;
    const json_t *p;
    enum ctix_rc rc = CTIX_OK;

    *fits = false;
    memcpy(root, leaf, 32);
    json_array_foreach(a->path, i, p)
    {
        unsigned char sib[32];

        if (sn == 0)
            return CTIX_OK;
        if (!ctix_unhex(json_string_value(p), sib, 32))
            return CTIX_OK;
        if ((fn & 1) != 0 || fn == sn) {
            rc = node_hash(sib, root, root);
            if ((fn & 1) == 0) {
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            rc = node_hash(root, sib, root);
        }
        if (rc != CTIX_OK)
            return rc;
        fn >>= 1;
        sn >>= 1;
    }
    *fits = sn == 0;
    return CTIX_OK;
}

static bool cache_has(const struct prov_verifier *v, const struct att_view *a,
                      const unsigned char root[32])
{
    for (size_t i = 0; i < v->n_cached; i++) {
        const struct cached_root *c = &v->cache[i];

        if (c->n == a->n && memcmp(c->root, root, 32) == 0 && memcmp(c->sig, a->sig, 64) == 0 &&
            prov_pubkey_equal(&c->key, &a->key))
            return true;
    }
    return false;
}

static void cache_put(struct prov_verifier *v, const struct att_view *a,
                      const unsigned char root[32])
{
    struct cached_root *c = &v->cache[v->next];

    c->key = a->key;
    c->n = a->n;
    memcpy(c->root, root, 32);
    memcpy(c->sig, a->sig, 64);
    v->next = (v->next + 1) % CACHE_N;
    if (v->n_cached < CACHE_N)
        v->n_cached++;
}

/* Trust, then the signature over the attestation's leaf and proof. */
static enum ctix_rc check_signed(struct prov_verifier *v, const json_t *att,
                                 const struct att_view *a, struct prov_result *res,
                                 struct ctix_diag *diag)
{
    static const char *const proof_keys[] = {"signature", "batch_size", "batch_index",
                                             "batch_path"};
    unsigned char leaf[32], root[32], msg[128];
    char keytext[PROV_PUBKEY_TEXT];
    size_t mlen = 0;
    json_t *bare = NULL;
    bool fits = false;
    enum ctix_rc rc;

    rc = v->trust(v->trust_ctx, &a->key, a->publisher, res->org);
    if (rc == CTIX_ENOTFOUND) {
        res->org[0] = '\0';
        prov_pubkey_format(&a->key, keytext);
        res->verdict = PROV_UNKNOWN_PUBLISHER;
        ctix_diag_set(diag, "public_key",
                      "publisher \"%.80s\" signs with key %s, which this node "
                      "does not trust",
                      a->publisher, keytext);
        rc = CTIX_OK;
        goto out;
    }
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_ENOMEM;
    bare = json_copy((json_t *)att);
    if (bare == NULL)
        goto out;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(proof_keys); i++)
        json_object_del(bare, proof_keys[i]);
    rc = leaf_hash(bare, leaf);
    if (rc != CTIX_OK)
        goto out;
    rc = proof_root(a, leaf, root, &fits);
    if (rc != CTIX_OK)
        goto out;
    res->verdict = PROV_BAD_SIGNATURE;
    if (!fits) {
        ctix_diag_set(diag, "batch_path", "the inclusion proof does not fit index %llu of %llu",
                      (unsigned long long)a->index, (unsigned long long)a->n);
        goto out;
    }
    if (!cache_has(v, a, root)) {
        root_message(a->n, root, msg, &mlen);
        rc = raw_verify(&a->key, msg, mlen, a->sig);
        if (rc == CTIX_EDENIED) {
            ctix_diag_set(diag, "signature",
                          "the signature does not match: the attestation was altered or forged");
            rc = CTIX_OK;
            goto out;
        }
        if (rc != CTIX_OK)
            goto out;
        cache_put(v, a, root);
    }
    res->verdict = PROV_VALID;
out:
    json_decref(bare);
    return rc;
}

static void result_fill(struct prov_result *res, const struct att_view *a)
{
    res->statement = a->st;
    res->all_versions = a->st == PROV_DELETE && a->modified == NULL;
    res->key = a->key;
    ctix_strlcpy(res->publisher, a->publisher, sizeof(res->publisher));
    ctix_strlcpy(res->object_ref, a->ref, sizeof(res->object_ref));
    ctix_strlcpy(res->object_modified, a->modified != NULL ? a->modified : "",
                 sizeof(res->object_modified));
}

enum ctix_rc prov_attest_verify(struct prov_verifier *v, const json_t *obj, const json_t *att,
                                struct prov_result *res, struct ctix_diag *diag)
{
    struct att_view a;
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *version = obj_version(obj);
    unsigned char digest[32], want[32];
    enum ctix_rc rc = CTIX_OK;

    memset(res, 0, sizeof(*res));
    ctix_diag_clear(diag);
    res->verdict = att_parse(att, &a, diag);
    if (res->verdict != PROV_VALID)
        goto out;
    result_fill(res, &a);
    res->verdict = PROV_MISMATCH;
    if (a.st != PROV_PUBLISH) {
        ctix_diag_set(diag, "statement", "a deletion statement, not a publication");
        goto out;
    }
    if (id == NULL || strcmp(id, a.ref) != 0) {
        ctix_diag_set(diag, "object_ref", "attests %.100s, not %.100s", a.ref,
                      id != NULL ? id : "(an object without id)");
        goto out;
    }
    if ((version == NULL) != (a.modified == NULL) ||
        (version != NULL && strcmp(version, a.modified) != 0)) {
        ctix_diag_set(diag, "object_modified", "attests version %.40s, not %.40s",
                      a.modified != NULL ? a.modified : "(none)",
                      version != NULL ? version : "(none)");
        goto out;
    }
    res->verdict = PROV_BAD_SIGNATURE;
    if (!ctix_unhex(a.sha256, want, 32)) {
        res->verdict = PROV_MALFORMED;
        ctix_diag_set(diag, "object_sha256", "attestation: not a SHA-256 in hex");
        goto out;
    }
    rc = obj_digest(obj, digest);
    if (rc == CTIX_EINVAL) {
        rc = CTIX_OK;
        ctix_diag_set(diag, "object_sha256",
                      "the object holds an integer beyond 2^53 (not I-JSON): no digest is exact");
        goto out;
    }
    if (rc != CTIX_OK)
        goto out;
    if (CRYPTO_memcmp(digest, want, 32) != 0) {
        ctix_diag_set(diag, "object_sha256",
                      "the object differs from what the publisher signed (altered on the way)");
        goto out;
    }
    rc = check_signed(v, att, &a, res, diag);
out:
    return rc;
}

enum ctix_rc prov_attest_verify_delete(struct prov_verifier *v, const json_t *att,
                                       struct prov_result *res, struct ctix_diag *diag)
{
    struct att_view a;
    enum ctix_rc rc = CTIX_OK;

    memset(res, 0, sizeof(*res));
    ctix_diag_clear(diag);
    res->verdict = att_parse(att, &a, diag);
    if (res->verdict != PROV_VALID)
        goto out;
    result_fill(res, &a);
    if (a.st != PROV_DELETE) {
        res->verdict = PROV_MISMATCH;
        ctix_diag_set(diag, "statement", "a publication, not a deletion statement");
        goto out;
    }
    rc = check_signed(v, att, &a, res, diag);
out:
    return rc;
}

/* ---- the audit log's signed head ---- */

#define AUDIT_HEAD_DOMAIN "ctix/audit-head/v1\n"

/* "ctix/audit-head/v1\n" || u64be(seq) || hash: its own prefix, so that no attestation root can
 * be passed off as a head or the other way round. */
static size_t head_message(uint64_t seq, const unsigned char hash[32], unsigned char *m)
{
    size_t n = strlen(AUDIT_HEAD_DOMAIN);

    memcpy(m, AUDIT_HEAD_DOMAIN, n);
    for (int i = 7; i >= 0; i--)
        m[n++] = (unsigned char)(seq >> (8 * i));
    memcpy(m + n, hash, 32);
    return n + 32;
}

enum ctix_rc prov__audit_head_sign(const struct prov_key *k, uint64_t seq,
                                   const unsigned char hash[32], char sig[PROV__HEAD_SIG_TEXT])
{
    unsigned char m[sizeof(AUDIT_HEAD_DOMAIN) + 40], raw[64];
    enum ctix_rc rc = raw_sign(k, m, head_message(seq, hash, m), raw);

    if (rc == CTIX_OK)
        b64_encode(b64std, true, raw, sizeof(raw), sig);
    return rc;
}

enum ctix_rc prov__audit_head_verify(const struct prov_pubkey *pk, uint64_t seq,
                                     const unsigned char hash[32], const char *sig)
{
    unsigned char m[sizeof(AUDIT_HEAD_DOMAIN) + 40], raw[64];

    if (!b64_decode(b64std, true, sig, strlen(sig), raw, sizeof(raw)))
        return CTIX_EDENIED;
    return raw_verify(pk, m, head_message(seq, hash, m), raw);
}
