/* auth/: token form and hashing, Bearer and Basic parsing (malformed base64 included), revoked
 * keys, and the roles × grants matrix, against a real store in a temporary directory. */
#include "auth/auth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

struct fx {
    char dir[64];
    struct store *st;
    int64_t org_a, org_b;
    char coll[37];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_collection c;
    struct ctix_diag d;

    assert_non_null(f);
    ctix_strlcpy(f->dir, "/tmp/ctix-auth-XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, true, &f->st, &d), CTIX_OK);
    assert_int_equal(store_org_add(f->st, "SG-CSA", &f->org_a), CTIX_OK);
    assert_int_equal(store_org_add(f->st, "JP-NISC", &f->org_b), CTIX_OK);
    memset(&c, 0, sizeof(c));
    assert_int_equal(ctix_uuid4(c.id), CTIX_OK);
    ctix_strlcpy(c.title, "bilateral", sizeof(c.title));
    assert_int_equal(store_collection_add(f->st, &c), CTIX_OK);
    ctix_strlcpy(f->coll, c.id, sizeof(f->coll));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static void basic_header(const char *userpass, char *out, size_t n)
{
    unsigned char enc[1400];
    int len = EVP_EncodeBlock(enc, (const unsigned char *)userpass, (int)strlen(userpass));

    assert_true(len > 0);
    assert_true(n > 6 + (size_t)len);
    memcpy(out, "Basic ", 6);
    memcpy(out + 6, enc, (size_t)len + 1);
}

static void test_roles(void **state)
{
    enum auth_role r;

    (void)state;
    for (int i = AUTH_ROLE_ADMIN; i <= AUTH_ROLE_REPORTER; i++) {
        assert_true(auth_role_parse(auth_role_name((enum auth_role)i), &r));
        assert_int_equal(r, i);
    }
    assert_string_equal(auth_role_name(AUTH_ROLE_PEER), "peer");
    assert_false(auth_role_parse("Admin", &r));
    assert_false(auth_role_parse("", &r));
    assert_false(auth_role_parse(NULL, &r));
}

static void test_hash(void **state)
{
    unsigned char h[STORE_HASH_LEN];
    char hex[2 * STORE_HASH_LEN + 1];

    (void)state;
    auth_token_hash("abc", h);
    ctix_hex(h, sizeof(h), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_create_form(void **state)
{
    struct fx *f = *state;
    char t1[AUTH_TOKEN_MAX], t2[AUTH_TOKEN_MAX];
    unsigned char h[STORE_HASH_LEN];
    struct store_key k;
    int64_t id1 = 0, id2 = 0;

    assert_int_equal(auth_key_create(f->st, "SG-CSA", AUTH_ROLE_ANALYST, "one", t1, &id1), CTIX_OK);
    assert_int_equal(auth_key_create(f->st, "SG-CSA", AUTH_ROLE_READER, "two", t2, &id2), CTIX_OK);
    assert_int_equal(strlen(t1), 48);
    assert_memory_equal(t1, "ctix_", 5);
    for (size_t i = 5; i < 48; i++)
        assert_true(b64url_char(t1[i]));
    assert_string_not_equal(t1, t2);
    assert_true(id1 != id2);
    /* The store holds the hash, never the token. */
    auth_token_hash(t1, h);
    assert_int_equal(store_key_find(f->st, h, &k), CTIX_OK);
    assert_int_equal(k.id, id1);
    assert_string_equal(k.role, "analyst");
    assert_memory_equal(k.hash, h, STORE_HASH_LEN);
    assert_int_equal(auth_key_create(f->st, "nobody", AUTH_ROLE_ADMIN, "x", t1, &id1),
                     CTIX_ENOTFOUND);
}

static void test_authenticate(void **state)
{
    struct fx *f = *state;
    char tok[AUTH_TOKEN_MAX], h[2048], up[1024];
    struct auth_principal p;
    int64_t id = 0;

    assert_int_equal(auth_key_create(f->st, "JP-NISC", AUTH_ROLE_PEER, "peer", tok, &id), CTIX_OK);
    snprintf(h, sizeof(h), "Bearer %s", tok);
    memset(&p, 0, sizeof(p));
    assert_int_equal(auth_authenticate(f->st, h, &p), CTIX_OK);
    assert_int_equal(p.key_id, id);
    assert_int_equal(p.org_id, f->org_b);
    assert_string_equal(p.org_name, "JP-NISC");
    assert_int_equal(p.role, AUTH_ROLE_PEER);
    snprintf(h, sizeof(h), "bearer   %s  ", tok);
    assert_int_equal(auth_authenticate(f->st, h, &p), CTIX_OK);
    snprintf(up, sizeof(up), "jp-node:%s", tok);
    basic_header(up, h, sizeof(h));
    assert_int_equal(auth_authenticate(f->st, h, &p), CTIX_OK);
    snprintf(up, sizeof(up), ":%s", tok);
    basic_header(up, h, sizeof(h));
    assert_int_equal(auth_authenticate(f->st, h, &p), CTIX_OK);

    /* refused */
    const char *bad[] = {
        "",
        "Bearer",
        "Bearer ",
        "Bearer ctix_",
        "Token abc",
        "Bearer ctix_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* well-formed, unknown */
        "Basic",
        "Basic !!!!",
        "Basic dXNlcg",     /* no padding */
        "Basic dXNlcg==",   /* "user": no colon */
        "Basic dXNl cjp4",  /* space inside */
        "Basic dXNlcjp4=A", /* data after '=' */
        "Basic dXNlcjp=",   /* non-zero unused bits */
        "Basic =AAA",
    };
    for (size_t i = 0; i < CTIX_ARRAY_LEN(bad); i++) {
        if (auth_authenticate(f->st, bad[i], &p) != CTIX_EDENIED)
            fail_msg("accepted '%s'", bad[i]);
    }
    assert_int_equal(auth_authenticate(f->st, NULL, &p), CTIX_EDENIED);
    /* the token with one character changed, and with the case of the scheme's token changed */
    snprintf(h, sizeof(h), "Bearer %s", tok);
    h[20] = h[20] == 'A' ? 'B' : 'A';
    assert_int_equal(auth_authenticate(f->st, h, &p), CTIX_EDENIED);
    /* a Basic credential far too long */
    memset(up, 'A', 600);
    up[600] = ':';
    memcpy(up + 601, tok, strlen(tok) + 1);
    basic_header(up, h, sizeof(h));
    assert_int_equal(auth_authenticate(f->st, h, &p), CTIX_EDENIED);
    /* a Basic credential whose password is not a token */
    basic_header("user:password", h, sizeof(h));
    assert_int_equal(auth_authenticate(f->st, h, &p), CTIX_EDENIED);

    /* revoked */
    assert_int_equal(store_key_revoke(f->st, id), CTIX_OK);
    snprintf(h, sizeof(h), "Bearer %s", tok);
    assert_int_equal(auth_authenticate(f->st, h, &p), CTIX_EDENIED);
}

static void test_matrix(void **state)
{
    struct fx *f = *state;
    /* expected read, write, delete for grants none, w, r, rw */
    static const struct {
        enum auth_role role;
        bool want[4][3];
    } t[] = {
        {AUTH_ROLE_ADMIN, {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}}},
        {AUTH_ROLE_ANALYST, {{0, 0, 0}, {0, 1, 0}, {1, 0, 0}, {1, 1, 1}}},
        {AUTH_ROLE_READER, {{0, 0, 0}, {0, 0, 0}, {1, 0, 0}, {1, 0, 0}}},
        {AUTH_ROLE_PEER, {{0, 0, 0}, {0, 1, 0}, {1, 0, 0}, {1, 1, 0}}},
        {AUTH_ROLE_REPORTER, {{0, 0, 0}, {0, 1, 0}, {1, 0, 0}, {1, 1, 0}}},
    };

    for (size_t i = 0; i < CTIX_ARRAY_LEN(t); i++) {
        struct auth_principal p = {.key_id = 1, .org_id = f->org_a, .role = t[i].role};

        for (int g = 0; g < 4; g++) {
            bool r = true, w = true;

            assert_int_equal(store_grant_set(f->st, f->coll, f->org_a, g & 2, g & 1), CTIX_OK);
            assert_int_equal(auth_rights(f->st, &p, f->coll, &r, &w), CTIX_OK);
            if (r != t[i].want[g][0] || w != t[i].want[g][1] ||
                auth_may_delete(&p, r, w) != t[i].want[g][2])
                fail_msg("role %s grant %d: r=%d w=%d del=%d", auth_role_name(t[i].role), g, r, w,
                         auth_may_delete(&p, r, w));
        }
    }
    /* another organisation's grant gives nothing */
    struct auth_principal other = {.org_id = f->org_b, .role = AUTH_ROLE_ANALYST};
    bool r = true, w = true;
    assert_int_equal(auth_rights(f->st, &other, f->coll, &r, &w), CTIX_OK);
    assert_false(r);
    assert_false(w);
}

/* The cache answers a known key from memory for ttl, never caches a refusal, and a revoked key
 * stops working once its entry expires. */
static void test_cache(void **state)
{
    struct fx *f = *state;
    char tok[AUTH_TOKEN_MAX], h[2048], bad[2048];
    struct auth_principal p;
    struct auth_cache *c = NULL;
    int64_t id = 0;

    assert_int_equal(auth_key_create(f->st, "SG-CSA", AUTH_ROLE_ANALYST, "a", tok, &id), CTIX_OK);
    snprintf(h, sizeof(h), "Bearer %s", tok);
    assert_int_equal(auth_cache_new(200000, &c), CTIX_OK);
    assert_int_equal(auth_authenticate_cached(c, f->st, h, &p), CTIX_OK);
    assert_int_equal(p.key_id, id);
    assert_string_equal(p.org_name, "SG-CSA");
    assert_int_equal(store_key_revoke(f->st, id), CTIX_OK);
    /* within ttl: still the cached answer; the uncached path already refuses */
    memset(&p, 0, sizeof(p));
    assert_int_equal(auth_authenticate_cached(c, f->st, h, &p), CTIX_OK);
    assert_int_equal(p.role, AUTH_ROLE_ANALYST);
    assert_int_equal(auth_authenticate(f->st, h, &p), CTIX_EDENIED);
    usleep(250000);
    assert_int_equal(auth_authenticate_cached(c, f->st, h, &p), CTIX_EDENIED);
    /* a wrong key never borrows a cached entry */
    snprintf(bad, sizeof(bad), "Bearer %.*sAAAA", (int)strlen(tok) - 4, tok);
    assert_int_equal(auth_authenticate_cached(c, f->st, bad, &p), CTIX_EDENIED);
    assert_int_equal(auth_authenticate_cached(c, f->st, NULL, &p), CTIX_EDENIED);
    /* no cache at all */
    assert_int_equal(auth_authenticate_cached(NULL, f->st, h, &p), CTIX_EDENIED);
    auth_cache_free(c);
    auth_cache_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_hash),
        cmocka_unit_test_setup_teardown(test_create_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authenticate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
