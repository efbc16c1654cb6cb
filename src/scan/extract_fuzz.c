/* Fuzz target: scan_extract and scan_value_add on the input, and each normaliser on it directly.
 * Every observable must lie inside the input (off, len), have a valid kind, point into the input
 * or the record's scratch, and its normal form must normalise to itself and be classified the
 * same by scan_value_add; addresses must parse back from their raw text. The IPv4/IPv6 parsers
 * must agree with inet_pton. Any violation aborts. */
#include "scan/scan_int.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scan_rec rec, rec2;
static bool rec_ready;
static char *tmp;
static size_t tmp_cap;

static void check_inside(const struct scan_rec *r, const char *s, size_t n, const char *in,
                         size_t in_n)
{
    bool in_input = s >= in && s + n <= in + in_n;
    bool in_scratch = s >= r->scratch && s + n <= r->scratch + r->scratch_len;

    if (n == 0 || (!in_input && !in_scratch))
        abort();
}

/* The normal form s[0..n) of kind k normalises to itself. */
static void check_fixed(int k, const char *s, size_t n)
{
    size_t m = 0;

    if (n + 1 > tmp_cap)
        abort();
    switch (k) {
    case SCAN_DOMAIN:
        m = scan_domain_norm(s, n, tmp);
        break;
    case SCAN_URL:
        m = scan_url_norm(s, n, tmp, NULL, NULL);
        break;
    case SCAN_EMAIL:
        m = scan_email_norm(s, n, tmp);
        break;
    default:
        if (scan_hash_norm(s, n, tmp) != k)
            abort();
        m = n;
        break;
    }
    if (m != n || memcmp(s, tmp, n) != 0)
        abort();
}

/* scan_value_add on a normal form gives the same kind and form first. */
static void check_value(int k, const char *s, size_t n)
{
    if (!scan_rec_reset(&rec2, n))
        return;
    if (scan_value_add(&rec2, s, n, 0) == 0 || rec2.obs[0].kind != k || rec2.obs[0].u.s.n != n ||
        memcmp(rec2.obs[0].u.s.p, s, n) != 0)
        abort();
}

static void check_rec(const struct scan_rec *r, const char *in, size_t n)
{
    for (size_t i = 0; i < r->n_obs; i++) {
        const struct scan_obs *o = &r->obs[i];
        const char *raw = in + o->off;
        uint32_t v4;
        uint8_t v6[16];

        if (o->kind >= SCAN_KIND_N || o->off > n || o->len > n - o->off || o->len == 0)
            abort();
        if (o->kind == SCAN_IPV4) {
            if (!scan_ipv4_parse(raw, o->len, &v4) || v4 != o->u.v4)
                abort();
        } else if (o->kind == SCAN_IPV6) {
            if (!scan_ipv6_parse(raw, o->len, v6) || memcmp(v6, o->u.v6, 16) != 0)
                abort();
        } else {
            check_inside(r, o->u.s.p, o->u.s.n, in, n);
            check_fixed(o->kind, o->u.s.p, o->u.s.n);
            check_value(o->kind, o->u.s.p, o->u.s.n);
        }
    }
}

/* The address parsers against inet_pton, on inputs without a NUL. */
static void check_addr(const char *in, size_t n)
{
    char s[64];
    uint32_t v4;
    uint8_t v6[16], want[16];
    bool mine, ref;

    if (n >= sizeof(s) || memchr(in, '\0', n) != NULL)
        return;
    memcpy(s, in, n);
    s[n] = '\0';
    mine = scan_ipv4_parse(in, n, &v4);
    ref = inet_pton(AF_INET, s, want) == 1;
    if (mine != ref || (mine && htonl(v4) != *(uint32_t *)(void *)want))
        abort();
    mine = scan_ipv6_parse(in, n, v6);
    ref = inet_pton(AF_INET6, s, want) == 1;
    if (mine != ref || (mine && memcmp(v6, want, 16) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    int64_t ms;

    if (size > SCAN_LINE_MAX)
        return 0;
    if (!rec_ready) {
        scan_rec_init(&rec);
        scan_rec_init(&rec2);
        rec_ready = true;
    }
    if (tmp_cap < size + 2) {
        free(tmp);
        tmp_cap = size + 2 < 4096 ? 4096 : size + 2;
        tmp = malloc(tmp_cap);
        if (tmp == NULL)
            abort();
    }
    if (!scan_rec_reset(&rec, size))
        abort();
    scan_extract(&rec, in, size, 0);
    if (rec.scratch_len > rec.scratch_cap)
        abort();
    check_rec(&rec, in, size);

    if (!scan_rec_reset(&rec, size))
        abort();
    if (scan_value_add(&rec, in, size, 0) != rec.n_obs)
        abort();
    check_rec(&rec, in, size);

    /* each normaliser on the whole input: what it accepts is a fixed point */
    {
        size_t m = scan_domain_norm(in, size, tmp);
        char *t2 = malloc(size + 2);

        if (t2 == NULL)
            abort();
        if (m > 0)
            check_fixed(SCAN_DOMAIN, tmp, m);
        memcpy(t2, tmp, m);
        m = scan_url_norm(in, size, t2, NULL, NULL);
        if (m > size + 1)
            abort();
        if (m > 0)
            check_fixed(SCAN_URL, t2, m);
        m = scan_email_norm(in, size, t2);
        if (m > 0)
            check_fixed(SCAN_EMAIL, t2, m);
        free(t2);
    }
    check_addr(in, size);
    (void)scan_time_epoch(in, size, &ms);
    (void)scan_time_iso(in, size, &ms);
    (void)scan_time_clf(in, size, &ms);
    (void)scan_time_syslog(in, size, 2024, &ms);
    return 0;
}
