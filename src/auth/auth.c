#include "auth/auth.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>

/* Random bytes behind a token: 256 bits, as design.md's security model asks. */
#define TOKEN_RAND_LEN 32
#define TOKEN_PREFIX   "ctix_"
#define TOKEN_LEN      (sizeof(TOKEN_PREFIX) - 1 + 43)
/* A Basic credential decodes to "user:token"; anything longer than this is not ours. */
#define BASIC_MAX_B64 ((STORE_NAME_MAX + AUTH_TOKEN_MAX + 2) / 3 * 4 + 4)

static const char *const role_names[] = {
    [AUTH_ROLE_ADMIN] = "admin", [AUTH_ROLE_ANALYST] = "analyst",   [AUTH_ROLE_READER] = "reader",
    [AUTH_ROLE_PEER] = "peer",   [AUTH_ROLE_REPORTER] = "reporter",
};

const char *auth_role_name(enum auth_role r)
{
    if ((size_t)r >= CTIX_ARRAY_LEN(role_names))
        return "unknown";
    return role_names[r];
}

bool auth_role_parse(const char *s, enum auth_role *out)
{
    bool found = false;

    for (size_t i = 0; s != NULL && i < CTIX_ARRAY_LEN(role_names); i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum auth_role)i;
            found = true;
            break;
        }
    }
    return found;
}

void auth_token_hash(const char *token, unsigned char out[STORE_HASH_LEN])
{
    SHA256((const unsigned char *)token, strlen(token), out);
}

static const char b64url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of n bytes into out (4n/3 rounded up + NUL). */
static void b64url_encode(const unsigned char *p, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64url_alpha[v >> 18 & 63];
        out[o++] = b64url_alpha[v >> 12 & 63];
        out[o++] = b64url_alpha[v >> 6 & 63];
        out[o++] = b64url_alpha[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = b64url_alpha[v >> 18 & 63];
        out[o++] = b64url_alpha[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = b64url_alpha[v >> 18 & 63];
        out[o++] = b64url_alpha[v >> 12 & 63];
        out[o++] = b64url_alpha[v >> 6 & 63];
    }
    out[o] = '\0';
}

/* Strict RFC 4648 standard base64 with padding: length a multiple of 4, no whitespace, '=' only
 * at the end, and the unused bits of the last group zero (so one text has one meaning). out gets
 * the decoded bytes plus a NUL; false when malformed or when it does not fit in cap bytes. */
static bool b64_decode_strict(const char *s, size_t len, char *out, size_t cap, size_t *out_len)
{
    size_t o = 0;

    if (len == 0 || len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        bool last = i + 4 == len;

        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad > 0)
                return false; /* data after '=' */
            v[k] = ctix_b64val(s[i + k]);
            if (v[k] < 0)
                return false;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | v[3];
        if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
            return false;
        if (o + 3 - (size_t)pad + 1 > cap)
            return false;
        out[o++] = (char)(w >> 16);
        if (pad < 2)
            out[o++] = (char)(w >> 8 & 0xff);
        if (pad < 1)
            out[o++] = (char)(w & 0xff);
    }
    out[o] = '\0';
    *out_len = o;
    return true;
}

enum ctix_rc auth_key_create(struct store *st, const char *org_name, enum auth_role role,
                             const char *label, char token[AUTH_TOKEN_MAX], int64_t *key_id)
{
    unsigned char rnd[TOKEN_RAND_LEN], hash[STORE_HASH_LEN];
    struct store_org org;
    char tok[AUTH_TOKEN_MAX];
    int64_t id = 0;
    enum ctix_rc rc;

    rc = store_org_get(st, org_name, &org);
    if (rc != CTIX_OK)
        goto out;
    rc = ctix_random(rnd, sizeof(rnd));
    if (rc != CTIX_OK)
        goto out;
    memcpy(tok, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
    b64url_encode(rnd, sizeof(rnd), tok + sizeof(TOKEN_PREFIX) - 1);
    auth_token_hash(tok, hash);
    rc = store_key_add(st, org.id, auth_role_name(role), label != NULL ? label : "", hash, &id);
    if (rc != CTIX_OK)
        goto out;
    memcpy(token, tok, strlen(tok) + 1);
    if (key_id != NULL)
        *key_id = id;
out:
    OPENSSL_cleanse(rnd, sizeof(rnd));
    OPENSSL_cleanse(tok, sizeof(tok));
    return rc;
}

/* Case-insensitive scheme followed by at least one space; *rest points past the spaces. */
static bool scheme_is(const char *h, const char *scheme, const char **rest)
{
    size_t n = strlen(scheme);

    if (strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
        return false;
    h += n;
    while (*h == ' ')
        h++;
    *rest = h;
    return true;
}

/* Our tokens have one shape; anything else cannot be a key, so it is refused without a lookup. */
static bool token_well_formed(const char *t, size_t len)
{
    if (len != TOKEN_LEN || memcmp(t, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1) != 0)
        return false;
    for (size_t i = sizeof(TOKEN_PREFIX) - 1; i < len; i++) {
        if (strchr(b64url_alpha, t[i]) == NULL || t[i] == '\0')
            return false;
    }
    return true;
}

/* Length of s without trailing spaces and tabs. */
static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

bool auth_header_parse(const char *authorization, unsigned char hash[STORE_HASH_LEN])
{
    char cred[BASIC_MAX_B64], tok[AUTH_TOKEN_MAX];
    const char *rest;
    size_t n, tlen = 0;
    bool ok = false;

    if (authorization == NULL)
        goto out;
    if (scheme_is(authorization, "Bearer", &rest)) {
        n = trimmed_len(rest);
        if (n >= sizeof(tok))
            goto out;
        memcpy(tok, rest, n);
        tok[n] = '\0';
        tlen = n;
    } else if (scheme_is(authorization, "Basic", &rest)) {
        const char *colon;
        size_t clen;

        n = trimmed_len(rest);
        if (n >= sizeof(cred) || !b64_decode_strict(rest, n, cred, sizeof(cred), &clen))
            goto out;
        /* RFC 7617: the user-id cannot contain ':', so the first one splits. */
        colon = memchr(cred, ':', clen);
        if (colon == NULL)
            goto out;
        tlen = clen - (size_t)(colon + 1 - cred);
        if (tlen >= sizeof(tok))
            goto out;
        memcpy(tok, colon + 1, tlen);
        tok[tlen] = '\0';
    } else {
        goto out;
    }
    if (!token_well_formed(tok, tlen))
        goto out;
    auth_token_hash(tok, hash);
    ok = true;
out:
    OPENSSL_cleanse(tok, sizeof(tok));
    OPENSSL_cleanse(cred, sizeof(cred));
    return ok;
}

static enum ctix_rc lookup_hash(struct store *st, const unsigned char hash[STORE_HASH_LEN],
                                struct auth_principal *out)
{
    struct store_key key;
    struct store_org org;
    enum auth_role role;
    enum ctix_rc rc = store_key_find(st, hash, &key);

    if (rc == CTIX_ENOTFOUND) {
        rc = CTIX_EDENIED;
        goto out;
    }
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EDENIED;
    /* The lookup was by hash; confirming in constant time keeps a backend that compares
     * prefixes or case-folds from ever letting a near miss through. */
    if (CRYPTO_memcmp(key.hash, hash, STORE_HASH_LEN) != 0 || key.revoked)
        goto out;
    if (!auth_role_parse(key.role, &role))
        goto out;
    rc = store_org_get_by_id(st, key.org_id, &org);
    if (rc == CTIX_ENOTFOUND)
        rc = CTIX_EDENIED;
    if (rc != CTIX_OK)
        goto out;
    out->key_id = key.id;
    out->org_id = key.org_id;
    ctix_strlcpy(out->org_name, org.name, sizeof(out->org_name));
    out->role = role;
    ctix_strlcpy(out->key_name, key.name, sizeof(out->key_name));
out:
    return rc;
}

enum ctix_rc auth_authenticate(struct store *st, const char *authorization,
                               struct auth_principal *out)
{
    unsigned char hash[STORE_HASH_LEN];

    if (!auth_header_parse(authorization, hash))
        return CTIX_EDENIED;
    return lookup_hash(st, hash, out);
}

/* ---- the cache of recently authenticated keys ---- */

#define CACHE_SLOTS                                                                                \
    256 /* direct-mapped by the first byte of the hash: a collision only costs a                   \
         * store lookup */

struct cache_slot {
    unsigned char hash[STORE_HASH_LEN];
    int64_t expires_us; /* 0: empty */
    struct auth_principal who;
};

struct auth_cache {
    pthread_mutex_t lock;
    int64_t ttl_us;
    struct cache_slot slot[CACHE_SLOTS];
};

enum ctix_rc auth_cache_new(int64_t ttl_us, struct auth_cache **out)
{
    struct auth_cache *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return CTIX_ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    c->ttl_us = ttl_us;
    *out = c;
    return CTIX_OK;
}

void auth_cache_free(struct auth_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    OPENSSL_cleanse(c->slot, sizeof(c->slot));
    free(c);
}

enum ctix_rc auth_authenticate_cached(struct auth_cache *c, struct store *st,
                                      const char *authorization, struct auth_principal *out)
{
    unsigned char hash[STORE_HASH_LEN];
    struct cache_slot *sl;
    int64_t now = ctix_mono_us();
    bool hit = false;
    enum ctix_rc rc;

    if (!auth_header_parse(authorization, hash))
        return CTIX_EDENIED;
    if (c == NULL || c->ttl_us <= 0)
        return lookup_hash(st, hash, out);
    sl = &c->slot[hash[0]];
    pthread_mutex_lock(&c->lock);
    if (sl->expires_us > now && CRYPTO_memcmp(sl->hash, hash, STORE_HASH_LEN) == 0) {
        *out = sl->who;
        hit = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (hit)
        return CTIX_OK;
    /* Only successes are kept: an unknown or revoked key reaches the store every time. */
    rc = lookup_hash(st, hash, out);
    if (rc == CTIX_OK) {
        pthread_mutex_lock(&c->lock);
        memcpy(sl->hash, hash, STORE_HASH_LEN);
        sl->who = *out;
        sl->expires_us = now + c->ttl_us;
        pthread_mutex_unlock(&c->lock);
    }
    return rc;
}

enum ctix_rc auth_rights(struct store *st, const struct auth_principal *p, const char *coll_id,
                         bool *can_read, bool *can_write)
{
    bool r = false, w = false;
    enum ctix_rc rc = CTIX_OK;

    if (p->role == AUTH_ROLE_ADMIN) {
        r = true;
        w = true;
        goto out;
    }
    rc = store_grant_get(st, coll_id, p->org_id, &r, &w);
    if (rc != CTIX_OK) {
        r = false;
        w = false;
        goto out;
    }
    switch (p->role) {
    case AUTH_ROLE_READER:
        w = false;
        break;
    case AUTH_ROLE_ANALYST:
    case AUTH_ROLE_PEER:
    case AUTH_ROLE_REPORTER:
        break;
    default: /* an unknown role gets nothing: deny by default */
        r = false;
        w = false;
        break;
    }
out:
    *can_read = r;
    *can_write = w;
    return rc;
}

bool auth_may_delete(const struct auth_principal *p, bool can_read, bool can_write)
{
    if (p->role == AUTH_ROLE_ADMIN)
        return true;
    return p->role == AUTH_ROLE_ANALYST && can_read && can_write;
}
