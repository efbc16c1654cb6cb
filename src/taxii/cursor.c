/* next tokens (§C5): the date_added of the last record served, sealed with a truncated
 * HMAC-SHA256 over the collection, the endpoint and the filters. The server keeps no cursor
 * state, yet a client can neither forge a position nor carry a token over to other filters;
 * rights are re-checked on every request anyway, so the token grants nothing. */
#include "taxii/taxii.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "taxii/taxii_int.h"

#define MAC_LEN   16 /* 128 bits of tag: forging one is out of reach */
#define RAW_LEN   (8 + MAC_LEN)
#define TOKEN_LEN 32 /* base64url of RAW_LEN bytes, no padding */

static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int alpha_value(char c)
{
    const char *p = c != '\0' ? strchr(alpha, c) : NULL;

    return p != NULL ? (int)(p - alpha) : -1;
}

static enum ctix_rc append_list(struct buf *b, char tag, char *const *v, size_t n)
{
    enum ctix_rc rc = buf_appendf(b, "%c%zu", tag, n);

    for (size_t i = 0; i < n && rc == CTIX_OK; i++)
        rc = buf_appendf(b, ",%s", v[i]);
    if (rc == CTIX_OK)
        rc = buf_append(b, "\n", 1);
    return rc;
}

/* An unambiguous text of everything the token is bound to (values never hold ',' or '\n'). The
 * limit is left out: a client may change its page size between pages. */
static enum ctix_rc scope_text(const struct taxii_cursor_scope *s, int64_t cursor_us, struct buf *b)
{
    const struct taxii_query *q = s->q;
    enum ctix_rc rc;

    rc = buf_appendf(b, "ctix-next-1\n%s\n%c\n%s\n", s->coll_id, s->endpoint, s->object_id);
    if (rc == CTIX_OK)
        rc = buf_appendf(b, "a%d,%lld\n", q->has_added_after, (long long)q->added_after_us);
    if (rc == CTIX_OK)
        rc = append_list(b, 'i', q->ids, q->n_ids);
    if (rc == CTIX_OK)
        rc = append_list(b, 't', q->types, q->n_types);
    if (rc == CTIX_OK)
        rc = append_list(b, 's', q->spec_versions, q->n_spec_versions);
    if (rc == CTIX_OK)
        rc = buf_appendf(b, "v%d,%u\n", q->has_version, q->vsel);
    if (rc == CTIX_OK)
        rc = append_list(b, 'k', q->version_keys, q->n_versions);
    if (rc == CTIX_OK)
        rc = buf_appendf(b, "c%lld", (long long)cursor_us);
    return rc;
}

static enum ctix_rc mac_compute(const unsigned char key[TAXII_SECRET_LEN],
                                const struct taxii_cursor_scope *s, int64_t cursor_us,
                                unsigned char mac[MAC_LEN])
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int flen = 0;
    struct buf b;
    enum ctix_rc rc;

    buf_init(&b, 1u << 24);
    rc = scope_text(s, cursor_us, &b);
    if (rc == CTIX_ETOOBIG)
        rc = CTIX_EINVAL;
    if (rc != CTIX_OK)
        goto out;
    if (HMAC(EVP_sha256(), key, TAXII_SECRET_LEN, (const unsigned char *)b.data, b.len, full,
             &flen) == NULL ||
        flen < MAC_LEN) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    memcpy(mac, full, MAC_LEN);
out:
    buf_cleanup(&b);
    return rc;
}

enum ctix_rc taxii__cursor_encode(const unsigned char key[TAXII_SECRET_LEN],
                                  const struct taxii_cursor_scope *scope, int64_t cursor_us,
                                  char out[TAXII_NEXT_MAX])
{
    unsigned char raw[RAW_LEN];
    uint64_t c = (uint64_t)cursor_us;
    enum ctix_rc rc;
    size_t o = 0;

    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)(c >> (56 - 8 * i));
    rc = mac_compute(key, scope, cursor_us, raw + 8);
    if (rc != CTIX_OK)
        goto out;
    for (size_t i = 0; i < RAW_LEN; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    out[o] = '\0';
out:
    return rc;
}

enum ctix_rc taxii__cursor_decode(const unsigned char key[TAXII_SECRET_LEN],
                                  const struct taxii_cursor_scope *scope, const char *token,
                                  int64_t *cursor_us)
{
    unsigned char raw[RAW_LEN], mac[MAC_LEN];
    uint64_t c = 0;
    enum ctix_rc rc = CTIX_EINVAL;

    if (token == NULL || strlen(token) != TOKEN_LEN)
        goto out;
    for (size_t i = 0, o = 0; i < TOKEN_LEN; i += 4) {
        int v[4];

        for (int k = 0; k < 4; k++) {
            v[k] = alpha_value(token[i + k]);
            if (v[k] < 0)
                goto out;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | v[3];
        raw[o++] = (unsigned char)(w >> 16);
        raw[o++] = (unsigned char)(w >> 8);
        raw[o++] = (unsigned char)w;
    }
    for (int i = 0; i < 8; i++)
        c = c << 8 | raw[i];
    rc = mac_compute(key, scope, (int64_t)c, mac);
    if (rc != CTIX_OK)
        goto out;
    if (CRYPTO_memcmp(mac, raw + 8, MAC_LEN) != 0) {
        rc = CTIX_EINVAL;
        goto out;
    }
    *cursor_us = (int64_t)c;
out:
    return rc;
}
