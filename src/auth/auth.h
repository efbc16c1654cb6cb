/* auth: who is asking, and what may they do with a collection. API keys are random 256-bit tokens
 * shown once at creation; the store keeps only their SHA-256, found by lookup and confirmed with a
 * constant-time comparison. A key belongs to an organisation and has a role; collections grant read
 * and write per organisation. Deny by default: no key, an unknown or revoked key, or no grant means
 * no access. auth/ never logs or returns a token except from auth_key_create(). */
#ifndef CTIX_AUTH_H
#define CTIX_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "store/store.h"

#define AUTH_TOKEN_MAX 64 /* "ctix_" + 43 base64url characters + NUL fits */

enum auth_role {
    AUTH_ROLE_ADMIN,    /* the node's operators: every collection, read, write and delete */
    AUTH_ROLE_ANALYST,  /* read and write where granted, delete where both are granted */
    AUTH_ROLE_READER,   /* read where granted, never write */
    AUTH_ROLE_PEER,     /* another national node: read and write where granted (sync, push) */
    AUTH_ROLE_REPORTER, /* a CII owner: write where granted (reports), read where granted */
};

/* "admin", "analyst", "reader", "peer", "reporter". */
const char *auth_role_name(enum auth_role r);
bool auth_role_parse(const char *s, enum auth_role *out);

struct auth_principal {
    int64_t key_id;
    int64_t org_id;
    char org_name[STORE_NAME_MAX];
    enum auth_role role;
    /* The key's name (its label): the user name that policy/ matches against the named
     * recipients of a TLP:RED object. */
    char key_name[STORE_NAME_MAX];
};

/* Creates a key for organisation org_name. token receives the only copy of the secret.
 * CTIX_ENOTFOUND if the organisation does not exist. */
CTIX_MUST_CHECK enum ctix_rc auth_key_create(struct store *st, const char *org_name,
                                             enum auth_role role, const char *label,
                                             char token[AUTH_TOKEN_MAX], int64_t *key_id);

/* Authenticates the value of an Authorization header: "Bearer TOKEN" or "Basic base64(user:TOKEN)"
 * (the user part is ignored). CTIX_EDENIED for a missing, malformed, unknown or revoked key. */
CTIX_MUST_CHECK enum ctix_rc auth_authenticate(struct store *st, const char *authorization,
                                               struct auth_principal *out);

/* A short-lived cache of authenticated keys, so that a busy client does not cost a store lookup
 * per request. Only successful authentications are kept; a key revoked with `ctix key revoke`
 * (another process) stops working within ttl_us. Thread-safe. */
struct auth_cache;
CTIX_MUST_CHECK enum ctix_rc auth_cache_new(int64_t ttl_us, struct auth_cache **out);
void auth_cache_free(struct auth_cache *c);
/* As auth_authenticate(), answering from c when the same key succeeded less than ttl_us ago.
 * c may be NULL (no cache). */
CTIX_MUST_CHECK enum ctix_rc auth_authenticate_cached(struct auth_cache *c, struct store *st,
                                                      const char *authorization,
                                                      struct auth_principal *out);

/* The rights of p on a collection: the organisation's grant limited by the role. */
CTIX_MUST_CHECK enum ctix_rc auth_rights(struct store *st, const struct auth_principal *p,
                                         const char *coll_id, bool *can_read, bool *can_write);

/* DELETE needs both rights and a role that may delete (admin, analyst). */
bool auth_may_delete(const struct auth_principal *p, bool can_read, bool can_write);

/* Takes the token out of an Authorization header value ("Bearer TOKEN" or "Basic base64(user:
 * TOKEN)", strict base64, bounded lengths) and hashes it; false when malformed. The input is
 * untrusted: fuzzed by src/auth/header_fuzz.c. */
bool auth_header_parse(const char *authorization, unsigned char hash[STORE_HASH_LEN]);

/* SHA-256 of a token, as the store keeps it. */
void auth_token_hash(const char *token, unsigned char out[STORE_HASH_LEN]);

#endif
