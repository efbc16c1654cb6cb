/* What every log-reader fuzz target (fmt_<format>_fuzz.c) does with its input: read it as a file
 * of that format — lines through scan_fmt_header and scan_fmt_line as the scanner feeds them —
 * and abort unless every observable lies inside its line with a valid kind, its text inside the
 * line or the record's scratch, and every refused line says why. Included by those targets only
 * (static inline: one copy per target, nothing to link). */
#ifndef CTIX_SCAN_FMT_FUZZ_H
#define CTIX_SCAN_FMT_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan_int.h"

static inline bool fmt_fuzz_inside(const char *p, size_t n, const char *base, size_t len)
{
    return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static inline void fmt_fuzz_check(const struct scan_rec *r, const char *line, size_t len,
                                  enum scan_line_rc rc, const char *why)
{
    if (rc == SCAN_LINE_BAD && (why == NULL || r->n_obs != 0))
        abort();
    if (r->n_obs > SCAN_REC_MAX_OBS || r->scratch_len > r->scratch_cap)
        abort();
    for (size_t i = 0; i < r->n_obs; i++) {
        const struct scan_obs *o = &r->obs[i];

        if (o->kind >= SCAN_KIND_N || (size_t)o->off + o->len > len)
            abort();
        if (o->kind != SCAN_IPV4 && o->kind != SCAN_IPV6 && o->u.s.n > 0 &&
            !fmt_fuzz_inside(o->u.s.p, o->u.s.n, line, len) &&
            !fmt_fuzz_inside(o->u.s.p, o->u.s.n, r->scratch, r->scratch_len))
            abort();
    }
    if (rc != SCAN_LINE_BAD) {
        const struct scan_conn *c = &r->conn;
        struct scan_conn_info ci;

        if (c->src > r->n_obs || c->dst > r->n_obs || c->url > r->n_obs)
            abort();
        if (c->src != 0 && r->obs[c->src - 1].kind != SCAN_IPV4 &&
            r->obs[c->src - 1].kind != SCAN_IPV6)
            abort();
        if (c->dst != 0 && r->obs[c->dst - 1].kind != SCAN_IPV4 &&
            r->obs[c->dst - 1].kind != SCAN_IPV6)
            abort();
        if (c->url != 0 && r->obs[c->url - 1].kind != SCAN_URL)
            abort();
        if ((c->sport != NULL && !fmt_fuzz_inside(c->sport, c->sport_len, line, len) &&
             !fmt_fuzz_inside(c->sport, c->sport_len, r->scratch, r->scratch_len)) ||
            (c->dport != NULL && !fmt_fuzz_inside(c->dport, c->dport_len, line, len) &&
             !fmt_fuzz_inside(c->dport, c->dport_len, r->scratch, r->scratch_len)) ||
            (c->proto != NULL && !fmt_fuzz_inside(c->proto, c->proto_len, line, len) &&
             !fmt_fuzz_inside(c->proto, c->proto_len, r->scratch, r->scratch_len)))
            abort();
        scan_conn_get(r, &ci);
        if (ci.proto_len > SCAN_PROTO_MAX || strlen(ci.proto) != ci.proto_len)
            abort();
    } else if (r->conn.src != 0 || r->conn.dst != 0 || r->conn.sport != NULL) {
        abort();
    }
}

static inline void fmt_fuzz_read(enum scan_fmt fmt, const char *p, size_t size)
{
    const char *end = p + size;
    struct scan_fmt_state st;
    struct scan_rec r;

    scan_rec_init(&r);
    scan_fmt_init(&st, fmt, p, size < 4096 ? size : 4096, 2024);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        const char *why = NULL;
        enum scan_line_rc rc;

        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (!scan_fmt_header(&st, p, len)) {
            if (!scan_rec_reset(&r, len))
                abort();
            rc = scan_fmt_line(&st, p, len, &r, &why);
            fmt_fuzz_check(&r, p, len, rc, why);
        }
        p = nl != NULL ? nl + 1 : end;
    }
    scan_rec_cleanup(&r);
}

#endif
