/* The STIX 2.1 pattern parser: recursive descent over lex.c's tokens, one function per
 * precedence level, binary operators folded left in loops (left-associative, and no recursion per
 * operand). Recursion happens only at '(' and '[', counted against PATTERN_MAX_DEPTH. Literals are
 * converted here, and the reference validator's semantic checks (duplicate qualifiers, hash forms,
 * positive WITHIN/REPEATS, regular expressions, CIDR constants) run as each comparison is built;
 * PATTERN_STRICT adds the SCO checks of sco.c. Everything lives in the pattern's arena except
 * the compiled regular expressions (pattern->re). */
#include "pattern/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

#include "pattern/pattern_int.h"

/* Seconds a WITHIN may name: larger would overflow microseconds in int64. */
#define WITHIN_MAX_SEC (INT64_MAX / 1000000 - 1)
/* 10000-01-01T00:00:00Z: a leap second on 9999-12-31 would land there, and no timestamp literal
 * can say it. */
#define TS_LIMIT_US INT64_C(253402300800000000)

struct parser {
    struct pat_lexer lx;
    struct pat_tok tok; /* the current token */
    struct pattern *p;
    unsigned flags;
    unsigned depth;
    uint32_t n_obs;
    size_t re_cap;
    struct ctix_diag *diag;
};

static enum ctix_rc fail_at(struct parser *ps, enum ctix_rc rc, uint32_t line, uint32_t col,
                            const char *fmt, ...) CTIX_PRINTF(5, 6);

static enum ctix_rc fail_at(struct parser *ps, enum ctix_rc rc, uint32_t line, uint32_t col,
                            const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctix_diag_set(ps->diag, "pattern", "%s", msg);
    if (ps->diag) {
        ps->diag->line = line;
        ps->diag->col = col;
    }
    return rc;
}

static enum ctix_rc nomem(struct parser *ps)
{
    return fail_at(ps, CTIX_ENOMEM, ps->tok.line, ps->tok.col, "out of memory");
}

/* "expected <what>, found <current token>" at the current token. */
static enum ctix_rc expected(struct parser *ps, const char *what)
{
    char found[64];

    pattern__tok_describe(&ps->tok, found, sizeof(found));
    return fail_at(ps, CTIX_EINVAL, ps->tok.line, ps->tok.col, "expected %s, found %s", what,
                   found);
}

static enum ctix_rc next(struct parser *ps)
{
    return pattern__lex_next(&ps->lx, &ps->tok, ps->diag);
}

static enum ctix_rc depth_enter(struct parser *ps)
{
    if (ps->depth >= PATTERN_MAX_DEPTH)
        return fail_at(ps, CTIX_ETOOBIG, ps->tok.line, ps->tok.col,
                       "nesting deeper than %u levels of parentheses and brackets",
                       (unsigned)PATTERN_MAX_DEPTH);
    ps->depth++;
    return CTIX_OK;
}

/* ---- literals ---- */

/* [+-]digits into int64. */
static bool int_value(const char *s, size_t n, int64_t *out)
{
    bool neg = false;
    uint64_t v = 0, lim;
    size_t i = 0;

    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i++;
    }
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return true;
}

static enum ctix_rc float_value(struct parser *ps, const struct pat_tok *t, double *out)
{
    char small[64], *copy = small;
    enum ctix_rc rc = CTIX_OK;
    double v;

    if (t->n >= sizeof(small)) {
        copy = arena_strndup(&ps->p->arena, t->p, t->n);
        if (copy == NULL) {
            rc = nomem(ps);
            goto out;
        }
    } else {
        memcpy(small, t->p, t->n);
        small[t->n] = '\0';
    }
    errno = 0;
    v = strtod(copy, NULL);
    if (!isfinite(v)) {
        rc = fail_at(ps, CTIX_EINVAL, t->line, t->col, "float out of range");
        goto out;
    }
    *out = v;
out:
    return rc;
}

/* The body of a '...' token with \' and \\ resolved, into the arena. */
static enum ctix_rc str_value(struct parser *ps, const struct pat_tok *t, const char **s, size_t *n)
{
    const char *in = t->p + 1, *end = t->p + t->n - 1;
    char *o = arena_alloc(&ps->p->arena, (size_t)(end - in) + 1);
    size_t k = 0;

    if (o == NULL)
        return nomem(ps);
    while (in < end) {
        if (*in == '\\')
            in++; /* lex.c let only \' and \\ through */
        o[k++] = *in++;
    }
    o[k] = '\0';
    *s = o;
    *n = k;
    return CTIX_OK;
}

static enum ctix_rc bin_value(struct parser *ps, const struct pat_tok *t, struct pat_lit *lit)
{
    const char *in = t->p + 2, *end = t->p + t->n - 1;
    size_t n = (size_t)(end - in);
    /* n bytes are enough for both: hex gives n/2, base64 at most 3n/4. */
    unsigned char *o = arena_alloc(&ps->p->arena, n + 1);
    size_t k = 0;

    if (o == NULL)
        return nomem(ps);
    if (t->kind == PAT_T_HEX) {
        for (size_t i = 0; i + 1 < n; i += 2)
            o[k++] = (unsigned char)(ctix_hexval(in[i]) << 4 | ctix_hexval(in[i + 1]));
        lit->hex = true;
    } else {
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < n && in[i] != '='; i++) {
            acc = (acc << 6) | (uint32_t)ctix_b64val(in[i]);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                o[k++] = (unsigned char)(acc >> bits);
                acc &= (1u << bits) - 1;
            }
        }
    }
    o[k] = '\0';
    lit->kind = PAT_LIT_BIN;
    lit->u.s.p = (const char *)o;
    lit->u.s.n = k;
    return CTIX_OK;
}

static bool leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A t'...' token (form already checked by lex.c) to microseconds. A day past the end of its
 * month (2024-02-30) is what the grammar accepts: in PATTERN_SYNTAX it counts on into the next
 * month, in PATTERN_STRICT it is an error. */
static enum ctix_rc ts_value(struct parser *ps, const struct pat_tok *t, int64_t *us)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *b = t->p + 2;
    size_t n = t->n - 3;
    unsigned y, mo, d;
    char tmp[40];
    size_t k, fd;
    struct ctix_ts ts;
    int64_t extra = 0;

    y = (unsigned)((b[0] - '0') * 1000 + (b[1] - '0') * 100 + (b[2] - '0') * 10 + (b[3] - '0'));
    mo = (unsigned)((b[5] - '0') * 10 + (b[6] - '0'));
    d = (unsigned)((b[8] - '0') * 10 + (b[9] - '0'));
    if (d > mdays[mo - 1] + (mo == 2 && leap(y))) {
        if (ps->flags & PATTERN_STRICT)
            return fail_at(ps, CTIX_EINVAL, t->line, t->col, "not a real date: %.10s", b);
        extra = (int64_t)(d - 1) * 86400;
    }
    /* Rebuild the text with at most 9 fraction digits (ctix_ts_parse drops the rest anyway),
     * and day 01 when the day was counted on. */
    memcpy(tmp, b, 19);
    if (extra) {
        tmp[8] = '0';
        tmp[9] = '1';
    }
    k = 19;
    if (b[19] == '.') {
        tmp[k++] = '.';
        for (fd = 20; fd < n - 1 && k < 29; fd++)
            tmp[k++] = b[fd];
    }
    tmp[k++] = 'Z';
    if (ctix_ts_parse(tmp, k, &ts) != CTIX_OK)
        return fail_at(ps, CTIX_EINVAL, t->line, t->col, "invalid timestamp %.*s", (int)t->n, t->p);
    *us = ctix_ts_to_us(&ts) + extra * 1000000;
    if (*us >= TS_LIMIT_US)
        return fail_at(ps, CTIX_EINVAL, t->line, t->col, "timestamp out of range");
    return CTIX_OK;
}

/* One primitive literal at the current token (not a set); moves past it. */
static enum ctix_rc parse_lit(struct parser *ps, struct pat_lit *lit)
{
    enum ctix_rc rc = CTIX_OK;
    struct pat_tok t = ps->tok;

    memset(lit, 0, sizeof(*lit));
    switch (t.kind) {
    case PAT_T_TRUE:
    case PAT_T_FALSE:
        lit->kind = PAT_LIT_BOOL;
        lit->u.b = t.kind == PAT_T_TRUE;
        break;
    case PAT_T_INT:
        lit->kind = PAT_LIT_INT;
        if (!int_value(t.p, t.n, &lit->u.i))
            rc = fail_at(ps, CTIX_EINVAL, t.line, t.col, "integer out of range");
        break;
    case PAT_T_FLOAT:
        lit->kind = PAT_LIT_FLOAT;
        rc = float_value(ps, &t, &lit->u.f);
        break;
    case PAT_T_STR:
        lit->kind = PAT_LIT_STR;
        rc = str_value(ps, &t, &lit->u.s.p, &lit->u.s.n);
        break;
    case PAT_T_HEX:
    case PAT_T_BIN:
        rc = bin_value(ps, &t, lit);
        break;
    case PAT_T_TS:
        lit->kind = PAT_LIT_TS;
        rc = ts_value(ps, &t, &lit->u.ts_us);
        break;
    default:
        rc = expected(ps, "a literal (number, 'string', h'..', b'..', t'..', true or false)");
        break;
    }
    if (rc == CTIX_OK)
        rc = next(ps);
    return rc;
}

static bool same_set_type(const struct pat_lit *a, const struct pat_lit *b)
{
    bool an = a->kind == PAT_LIT_INT || a->kind == PAT_LIT_FLOAT;
    bool bn = b->kind == PAT_LIT_INT || b->kind == PAT_LIT_FLOAT;

    return a->kind == b->kind || (an && bn);
}

const char *pattern__lit_kind_name(enum pat_lit_kind k)
{
    switch (k) {
    case PAT_LIT_BOOL:
        return "a boolean";
    case PAT_LIT_INT:
        return "an integer";
    case PAT_LIT_FLOAT:
        return "a float";
    case PAT_LIT_STR:
        return "a string";
    case PAT_LIT_BIN:
        return "binary";
    case PAT_LIT_TS:
        return "a timestamp";
    case PAT_LIT_SET:
        return "a set";
    }
    return "?";
}

/* ( lit, lit, ... ) or () for IN. */
static enum ctix_rc parse_set(struct parser *ps, struct pat_lit *set)
{
    enum ctix_rc rc = CTIX_OK;
    struct pat_lit *v = NULL;
    size_t n = 0, cap = 0;

    memset(set, 0, sizeof(*set));
    set->kind = PAT_LIT_SET;
    if (ps->tok.kind != PAT_T_LPAREN) {
        rc = expected(ps, "a set like ('a', 'b') after IN");
        goto out;
    }
    rc = next(ps);
    if (rc != CTIX_OK)
        goto out;
    if (ps->tok.kind == PAT_T_RPAREN)
        goto close;
    for (;;) {
        struct pat_tok t = ps->tok;

        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct pat_lit *nv = arena_alloc(&ps->p->arena, ncap * sizeof(*nv));
            if (nv == NULL) {
                rc = nomem(ps);
                goto out;
            }
            if (n)
                memcpy(nv, v, n * sizeof(*nv));
            v = nv;
            cap = ncap;
        }
        rc = parse_lit(ps, &v[n]);
        if (rc != CTIX_OK)
            goto out;
        if (n > 0 && !same_set_type(&v[0], &v[n])) {
            rc = fail_at(ps, CTIX_EINVAL, t.line, t.col,
                         "the members of an IN set must have one type: %s after %s",
                         pattern__lit_kind_name(v[n].kind), pattern__lit_kind_name(v[0].kind));
            goto out;
        }
        n++;
        if (ps->tok.kind == PAT_T_RPAREN)
            break;
        if (ps->tok.kind != PAT_T_COMMA) {
            rc = expected(ps, "',' or ')' in the IN set");
            goto out;
        }
        rc = next(ps);
        if (rc != CTIX_OK)
            goto out;
    }
close:
    set->u.set.v = v;
    set->u.set.n = n;
    rc = next(ps);
out:
    return rc;
}

/* ---- object paths ---- */

static enum ctix_rc path_key(struct parser *ps, struct pat_step *st)
{
    enum ctix_rc rc = CTIX_OK;
    char *k;

    st->kind = PAT_STEP_KEY;
    if (ps->tok.kind == PAT_T_STR) {
        rc = str_value(ps, &ps->tok, &st->key, &st->key_len);
    } else if (ps->tok.kind == PAT_T_IDENT && !ps->tok.hyphen) {
        k = arena_strndup(&ps->p->arena, ps->tok.p, ps->tok.n);
        if (k == NULL)
            rc = nomem(ps);
        st->key = k;
        st->key_len = ps->tok.n;
    } else if (ps->tok.kind == PAT_T_IDENT) {
        rc = fail_at(ps, CTIX_EINVAL, ps->tok.line, ps->tok.col,
                     "property name '%.*s' contains '-': quote it ('%.*s')", (int)ps->tok.n,
                     ps->tok.p, (int)ps->tok.n, ps->tok.p);
    } else if (pattern__keyword_name(ps->tok.kind) != NULL) {
        rc = fail_at(ps, CTIX_EINVAL, ps->tok.line, ps->tok.col,
                     "'%s' is a keyword: quote it to use it as a property name ('%s')",
                     pattern__keyword_name(ps->tok.kind), pattern__keyword_name(ps->tok.kind));
    } else {
        rc = expected(ps, "a property name");
    }
    if (rc == CTIX_OK)
        rc = next(ps);
    return rc;
}

static enum ctix_rc parse_path(struct parser *ps, struct pat_path *path)
{
    enum ctix_rc rc = CTIX_OK;
    struct pat_step *steps = NULL, *st;
    size_t n = 0, cap = 0;

    memset(path, 0, sizeof(*path));
    if (ps->tok.kind != PAT_T_IDENT) {
        rc = expected(ps, "an object path like file:name");
        goto out;
    }
    path->type = arena_strndup(&ps->p->arena, ps->tok.p, ps->tok.n);
    if (path->type == NULL) {
        rc = nomem(ps);
        goto out;
    }
    rc = next(ps);
    if (rc != CTIX_OK)
        goto out;
    if (ps->tok.kind != PAT_T_COLON) {
        char what[80];
        snprintf(what, sizeof(what), "':' after the object type '%.40s'", path->type);
        rc = expected(ps, what);
        goto out;
    }
    rc = next(ps);
    if (rc != CTIX_OK)
        goto out;
    for (;;) {
        if (n > 0 && ps->tok.kind != PAT_T_DOT && ps->tok.kind != PAT_T_LBRACK)
            break;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct pat_step *ns = arena_alloc(&ps->p->arena, ncap * sizeof(*ns));
            if (ns == NULL) {
                rc = nomem(ps);
                goto out;
            }
            if (n)
                memcpy(ns, steps, n * sizeof(*ns));
            steps = ns;
            cap = ncap;
        }
        st = &steps[n];
        memset(st, 0, sizeof(*st));
        if (n == 0) {
            rc = path_key(ps, st);
        } else if (ps->tok.kind == PAT_T_DOT) {
            rc = next(ps);
            if (rc == CTIX_OK)
                rc = path_key(ps, st);
        } else {
            rc = next(ps);
            if (rc != CTIX_OK)
                goto out;
            if (ps->tok.kind == PAT_T_STAR) {
                st->kind = PAT_STEP_ANY;
            } else if (ps->tok.kind == PAT_T_INT) {
                st->kind = PAT_STEP_INDEX;
                if (!int_value(ps->tok.p, ps->tok.n, &st->index)) {
                    rc =
                        fail_at(ps, CTIX_EINVAL, ps->tok.line, ps->tok.col, "integer out of range");
                    goto out;
                }
            } else {
                rc = expected(ps, "an integer or '*' in the list index");
                goto out;
            }
            rc = next(ps);
            if (rc != CTIX_OK)
                goto out;
            if (ps->tok.kind != PAT_T_RBRACK) {
                rc = expected(ps, "']' after the list index");
                goto out;
            }
            rc = next(ps);
        }
        if (rc != CTIX_OK)
            goto out;
        n++;
    }
    path->steps = steps;
    path->n_steps = n;
out:
    return rc;
}

/* ---- semantic checks on one comparison ---- */

static const struct {
    const char *alg; /* uppercase, without '-' */
    unsigned len;    /* hex digits; 0 = SSDEEP */
} hash_forms[] = {
    {"MD5", 32},       {"SHA1", 40},       {"SHA256", 64},  {"SHA512", 128}, {"SHA3256", 64},
    {"SHA3512", 128},  {"SHA224", 56},     {"SHA3224", 56}, {"SHA384", 96},  {"SHA3384", 96},
    {"RIPEMD160", 40}, {"WHIRLPOOL", 128}, {"SSDEEP", 0},
};

static bool hash_ok(unsigned len, const char *s, size_t n)
{
    if (len == 0) {
        if (n < 1 || n > 128)
            return false;
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '/' || c == '+' || c == ':' || c == '.';
            if (!ok)
                return false;
        }
        return true;
    }
    if (n != len)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (ctix_hexval(s[i]) < 0)
            return false;
    }
    return true;
}

/* A string compared with hashes.<ALG> must look like that hash (the reference validator's
 * check), for the algorithms it knows. */
static enum ctix_rc check_hash(struct parser *ps, const struct pat_cmp *c, const struct pat_lit *l,
                               uint32_t line, uint32_t col)
{
    const struct pat_step *alg, *h;
    char norm[16];
    size_t k = 0;

    if (c->path.n_steps < 2)
        return CTIX_OK;
    h = &c->path.steps[c->path.n_steps - 2];
    alg = &c->path.steps[c->path.n_steps - 1];
    if (h->kind != PAT_STEP_KEY || alg->kind != PAT_STEP_KEY || strcmp(h->key, "hashes") != 0)
        return CTIX_OK;
    for (size_t i = 0; i < alg->key_len; i++) {
        char ch = alg->key[i];
        if (ch == '-')
            continue;
        if (k + 1 >= sizeof(norm))
            return CTIX_OK;
        norm[k++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
    }
    norm[k] = '\0';
    for (size_t i = 0; i < CTIX_ARRAY_LEN(hash_forms); i++) {
        if (strcmp(hash_forms[i].alg, norm) != 0)
            continue;
        if (l->kind == PAT_LIT_STR && !hash_ok(hash_forms[i].len, l->u.s.p, l->u.s.n))
            return fail_at(ps, CTIX_EINVAL, line, col, "'%.*s' is not a valid %s hash",
                           l->u.s.n > 140 ? 140 : (int)l->u.s.n, l->u.s.p, alg->key);
        if (l->kind == PAT_LIT_SET) {
            for (size_t j = 0; j < l->u.set.n; j++) {
                const struct pat_lit *m = &l->u.set.v[j];
                if (m->kind == PAT_LIT_STR && !hash_ok(hash_forms[i].len, m->u.s.p, m->u.s.n))
                    return fail_at(ps, CTIX_EINVAL, line, col, "'%.*s' is not a valid %s hash",
                                   m->u.s.n > 140 ? 140 : (int)m->u.s.n, m->u.s.p, alg->key);
            }
        }
        break;
    }
    return CTIX_OK;
}

static enum ctix_rc re_keep(struct parser *ps, pcre2_code *re)
{
    struct pattern *p = ps->p;

    if (p->n_re == ps->re_cap) {
        size_t ncap = ps->re_cap ? ps->re_cap * 2 : 4;
        void **nr = realloc(p->re, ncap * sizeof(*nr));
        if (nr == NULL) {
            pcre2_code_free(re);
            return nomem(ps);
        }
        p->re = nr;
        ps->re_cap = ncap;
    }
    p->re[p->n_re++] = re;
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* only faster; failure is fine */
    return CTIX_OK;
}

/* MATCHES: compiled once for string values (UTF) and, when every code point is <= U+00FF, once
 * more over the Latin-1 bytes for binary values. */
static enum ctix_rc compile_re(struct parser *ps, struct pat_cmp *c, uint32_t line, uint32_t col)
{
    enum ctix_rc rc = CTIX_OK;
    const char *s = c->lit.u.s.p;
    size_t n = c->lit.u.s.n, k = 0;
    int err;
    PCRE2_SIZE off;
    pcre2_code *re;
    unsigned char *latin = NULL;

    re = pcre2_compile((PCRE2_SPTR)s, n, PCRE2_UTF | PCRE2_DOTALL | PCRE2_MATCH_INVALID_UTF, &err,
                       &off, NULL);
    if (re == NULL) {
        PCRE2_UCHAR m[128];
        if (pcre2_get_error_message(err, m, sizeof(m)) < 0)
            snprintf((char *)m, sizeof(m), "error %d", err);
        rc = fail_at(ps, CTIX_EINVAL, line, col, "invalid regular expression: %s (at offset %zu)",
                     (const char *)m, (size_t)off);
        goto out;
    }
    rc = re_keep(ps, re);
    if (rc != CTIX_OK)
        goto out;
    c->re = re;
    latin = malloc(n + 1);
    if (latin == NULL) {
        rc = nomem(ps);
        goto out;
    }
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len =
            ctix_utf8_decode((const unsigned char *)s + i, (const unsigned char *)s + n, &cp);
        if (len == 0 || cp > 0xff)
            goto out; /* no byte form */
        latin[k++] = (unsigned char)cp;
        i += len;
    }
    re = pcre2_compile((PCRE2_SPTR)latin, k, PCRE2_DOTALL, &err, &off, NULL);
    if (re == NULL)
        goto out; /* e.g. \x{100}: fine in UTF mode only; binary values then never match */
    rc = re_keep(ps, re);
    if (rc != CTIX_OK)
        goto out;
    c->re_bytes = re;
out:
    free(latin);
    return rc;
}

static enum ctix_rc normalise_like(struct parser *ps, struct pat_cmp *c)
{
    const char *s = c->lit.u.s.p;
    size_t n = c->lit.u.s.n, out_len = 0;
    bool ascii = true;
    uint8_t *norm;
    char *copy;

    for (size_t i = 0; i < n && ascii; i++)
        ascii = (unsigned char)s[i] < 0x80;
    if (ascii) { /* NFC leaves ASCII alone */
        c->like = s;
        c->like_len = n;
        return CTIX_OK;
    }
    norm = u8_normalize(UNINORM_NFC, (const uint8_t *)s, n, NULL, &out_len);
    if (norm == NULL)
        return nomem(ps);
    copy = arena_strndup(&ps->p->arena, (const char *)norm, out_len);
    free(norm);
    if (copy == NULL)
        return nomem(ps);
    c->like = copy;
    c->like_len = out_len;
    return CTIX_OK;
}

static enum ctix_rc check_cmp(struct parser *ps, struct pat_cmp *c, uint32_t lline, uint32_t lcol)
{
    enum ctix_rc rc = CTIX_OK;
    char msg[200];
    bool at_lit = false;

    /* Equality only: LIKE, MATCHES and ordering take partial hashes on purpose. */
    if (c->op == PAT_OP_EQ || c->op == PAT_OP_NE || c->op == PAT_OP_IN) {
        rc = check_hash(ps, c, &c->lit, lline, lcol);
        if (rc != CTIX_OK)
            goto out;
    }
    switch (c->op) {
    case PAT_OP_MATCHES:
        rc = compile_re(ps, c, lline, lcol);
        break;
    case PAT_OP_LIKE:
        rc = normalise_like(ps, c);
        break;
    case PAT_OP_ISSUBSET:
    case PAT_OP_ISSUPERSET:
        if (memchr(c->lit.u.s.p, '\0', c->lit.u.s.n) != NULL ||
            !pattern__cidr_parse(c->lit.u.s.p, c->lit.u.s.n, &c->cidr))
            rc = fail_at(ps, CTIX_EINVAL, lline, lcol, "'%.*s' is not an IP address or CIDR block",
                         c->lit.u.s.n > 100 ? 100 : (int)c->lit.u.s.n, c->lit.u.s.p);
        break;
    default:
        break;
    }
    if (rc != CTIX_OK)
        goto out;
    if ((ps->flags & PATTERN_STRICT) && !pattern__sco_check(c, &at_lit, msg, sizeof(msg)))
        rc = fail_at(ps, CTIX_EINVAL, at_lit ? lline : c->line, at_lit ? lcol : c->col, "%s", msg);
out:
    return rc;
}

/* ---- comparison expressions ---- */

static enum ctix_rc parse_cexpr(struct parser *ps, int level, struct pat_cexpr **out);

static enum ctix_rc new_cmp(struct parser *ps, struct pat_cexpr **out, struct pat_cmp **cmp)
{
    struct pat_cexpr *e = arena_zalloc(&ps->p->arena, sizeof(*e));
    struct pat_cmp *c = arena_zalloc(&ps->p->arena, sizeof(*c));

    if (e == NULL || c == NULL)
        return nomem(ps);
    e->kind = PAT_C_CMP;
    e->cmp = c;
    *out = e;
    *cmp = c;
    return CTIX_OK;
}

static const struct {
    enum pat_tok_kind tok;
    enum pat_op op;
} ops[] = {
    {PAT_T_EQ, PAT_OP_EQ},
    {PAT_T_NE, PAT_OP_NE},
    {PAT_T_LT, PAT_OP_LT},
    {PAT_T_LE, PAT_OP_LE},
    {PAT_T_GT, PAT_OP_GT},
    {PAT_T_GE, PAT_OP_GE},
    {PAT_T_IN, PAT_OP_IN},
    {PAT_T_LIKE, PAT_OP_LIKE},
    {PAT_T_MATCHES, PAT_OP_MATCHES},
    {PAT_T_ISSUBSET, PAT_OP_ISSUBSET},
    {PAT_T_ISSUPERSET, PAT_OP_ISSUPERSET},
};

/* path [NOT] op literal | [NOT] EXISTS path | ( comparison expression ) */
static enum ctix_rc parse_test(struct parser *ps, struct pat_cexpr **out)
{
    enum ctix_rc rc = CTIX_OK;
    struct pat_cmp *c = NULL;
    struct pat_tok optok;
    uint32_t lline, lcol;
    bool found = false;

    if (ps->tok.kind == PAT_T_LPAREN) {
        rc = depth_enter(ps);
        if (rc == CTIX_OK)
            rc = next(ps);
        if (rc == CTIX_OK)
            rc = parse_cexpr(ps, 0, out);
        if (rc != CTIX_OK)
            goto out;
        if (ps->tok.kind != PAT_T_RPAREN) {
            rc = expected(ps, "')' or AND/OR");
            goto out;
        }
        ps->depth--;
        rc = next(ps);
        goto out;
    }
    rc = new_cmp(ps, out, &c);
    if (rc != CTIX_OK)
        goto out;
    if (ps->tok.kind == PAT_T_NOT || ps->tok.kind == PAT_T_EXISTS) {
        if (ps->tok.kind == PAT_T_NOT) {
            c->negated = true;
            rc = next(ps);
            if (rc != CTIX_OK)
                goto out;
            if (ps->tok.kind != PAT_T_EXISTS) {
                rc = expected(ps, "EXISTS after a leading NOT (other operators take NOT after "
                                  "the path: file:name NOT LIKE 'a%')");
                goto out;
            }
        }
        c->op = PAT_OP_EXISTS;
        rc = next(ps);
        if (rc != CTIX_OK)
            goto out;
        c->line = ps->tok.line;
        c->col = ps->tok.col;
        rc = parse_path(ps, &c->path);
        if (rc == CTIX_OK)
            rc = check_cmp(ps, c, c->line, c->col);
        goto out;
    }
    if (ps->tok.kind != PAT_T_IDENT) {
        rc = expected(ps, "an object path (like file:name), EXISTS or '('");
        goto out;
    }
    c->line = ps->tok.line;
    c->col = ps->tok.col;
    rc = parse_path(ps, &c->path);
    if (rc != CTIX_OK)
        goto out;
    if (ps->tok.kind == PAT_T_NOT) {
        c->negated = true;
        rc = next(ps);
        if (rc != CTIX_OK)
            goto out;
    }
    for (size_t i = 0; i < CTIX_ARRAY_LEN(ops); i++) {
        if (ops[i].tok == ps->tok.kind) {
            c->op = ops[i].op;
            found = true;
            break;
        }
    }
    if (!found) {
        rc = expected(ps, "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, "
                          "ISSUBSET, ISSUPERSET)");
        goto out;
    }
    optok = ps->tok;
    rc = next(ps);
    if (rc != CTIX_OK)
        goto out;
    lline = ps->tok.line;
    lcol = ps->tok.col;
    switch (c->op) {
    case PAT_OP_IN:
        rc = parse_set(ps, &c->lit);
        break;
    case PAT_OP_LIKE:
    case PAT_OP_MATCHES:
    case PAT_OP_ISSUBSET:
    case PAT_OP_ISSUPERSET:
        if (ps->tok.kind != PAT_T_STR) {
            char what[64];
            snprintf(what, sizeof(what), "a string literal after %.*s", (int)optok.n, optok.p);
            rc = expected(ps, what);
            break;
        }
        rc = parse_lit(ps, &c->lit);
        break;
    default:
        rc = parse_lit(ps, &c->lit);
        if (rc == CTIX_OK && c->lit.kind == PAT_LIT_BOOL && c->op != PAT_OP_EQ &&
            c->op != PAT_OP_NE)
            rc = fail_at(ps, CTIX_EINVAL, lline, lcol,
                         "'%.*s' needs a number, string, binary or timestamp, found a boolean",
                         (int)optok.n, optok.p);
        break;
    }
    if (rc == CTIX_OK)
        rc = check_cmp(ps, c, lline, lcol);
out:
    return rc;
}

/* level 0: OR, level 1: AND, then parse_test. */
static enum ctix_rc parse_cexpr(struct parser *ps, int level, struct pat_cexpr **out)
{
    enum ctix_rc rc;
    struct pat_cexpr *l = NULL, *r = NULL, *n;
    enum pat_tok_kind op = level == 0 ? PAT_T_OR : PAT_T_AND;

    rc = level == 0 ? parse_cexpr(ps, 1, &l) : parse_test(ps, &l);
    while (rc == CTIX_OK && ps->tok.kind == op) {
        rc = next(ps);
        if (rc != CTIX_OK)
            break;
        rc = level == 0 ? parse_cexpr(ps, 1, &r) : parse_test(ps, &r);
        if (rc != CTIX_OK)
            break;
        n = arena_zalloc(&ps->p->arena, sizeof(*n));
        if (n == NULL) {
            rc = nomem(ps);
            break;
        }
        n->kind = level == 0 ? PAT_C_OR : PAT_C_AND;
        n->l = l;
        n->r = r;
        l = n;
    }
    if (rc == CTIX_OK)
        *out = l;
    return rc;
}

/* ---- observation expressions ---- */

static enum ctix_rc parse_oexpr(struct parser *ps, int level, struct pat_oexpr **out);

static struct pat_oexpr *onode(struct parser *ps, enum pat_oexpr_kind kind, struct pat_oexpr *l,
                               struct pat_oexpr *r)
{
    struct pat_oexpr *n = arena_zalloc(&ps->p->arena, sizeof(*n));

    if (n) {
        n->kind = kind;
        n->l = l;
        n->r = r;
    }
    return n;
}

static enum ctix_rc parse_primary(struct parser *ps, struct pat_oexpr **out)
{
    enum ctix_rc rc;
    struct pat_oexpr *n;

    if (ps->tok.kind == PAT_T_LPAREN) {
        rc = depth_enter(ps);
        if (rc == CTIX_OK)
            rc = next(ps);
        if (rc == CTIX_OK)
            rc = parse_oexpr(ps, 0, out);
        if (rc != CTIX_OK)
            goto out;
        if (ps->tok.kind != PAT_T_RPAREN) {
            rc = expected(ps, "')', AND, OR, FOLLOWEDBY or a qualifier");
            goto out;
        }
        ps->depth--;
        rc = next(ps);
        goto out;
    }
    if (ps->tok.kind != PAT_T_LBRACK) {
        rc = expected(ps, "'[' or '('");
        goto out;
    }
    rc = depth_enter(ps);
    if (rc != CTIX_OK)
        goto out;
    n = onode(ps, PAT_O_OBS, NULL, NULL);
    if (n == NULL) {
        rc = nomem(ps);
        goto out;
    }
    n->obs_no = ps->n_obs++;
    rc = next(ps);
    if (rc == CTIX_OK)
        rc = parse_cexpr(ps, 0, &n->c);
    if (rc != CTIX_OK)
        goto out;
    if (ps->tok.kind != PAT_T_RBRACK) {
        rc = expected(ps, "']' or AND/OR");
        goto out;
    }
    ps->depth--;
    *out = n;
    rc = next(ps);
out:
    return rc;
}

/* WITHIN's number (int or float token, no '-') to microseconds, rounded up, exactly from the
 * decimal text. */
static enum ctix_rc within_value(struct parser *ps, const struct pat_tok *t, int64_t *us)
{
    const char *s = t->p, *end = t->p + t->n;
    int64_t sec = 0, frac = 0;
    int fd = 0;
    bool more = false;

    if (*s == '+')
        s++;
    for (; s < end && *s != '.'; s++) {
        if (sec > WITHIN_MAX_SEC / 10)
            goto big;
        sec = sec * 10 + (*s - '0');
    }
    if (sec > WITHIN_MAX_SEC)
        goto big;
    if (s < end)
        s++;
    for (; s < end; s++) {
        if (fd < 6) {
            frac = frac * 10 + (*s - '0');
            fd++;
        } else if (*s != '0') {
            more = true;
        }
    }
    for (; fd < 6; fd++)
        frac *= 10;
    *us = sec * 1000000 + frac + (more ? 1 : 0);
    if (*us <= 0)
        return fail_at(ps, CTIX_EINVAL, t->line, t->col,
                       "WITHIN needs a positive number of seconds");
    return CTIX_OK;
big:
    return fail_at(ps, CTIX_EINVAL, t->line, t->col, "WITHIN %.*s SECONDS is out of range",
                   t->n > 40 ? 40 : (int)t->n, t->p);
}

static enum ctix_rc parse_qualifier(struct parser *ps, struct pat_oexpr *q)
{
    enum ctix_rc rc;
    struct pat_tok t;
    int64_t v;

    rc = next(ps);
    if (rc != CTIX_OK)
        goto out;
    t = ps->tok;
    switch (q->kind) {
    case PAT_O_WITHIN:
        if ((t.kind != PAT_T_INT && t.kind != PAT_T_FLOAT) || t.p[0] == '-') {
            rc = expected(ps, "a positive number of seconds after WITHIN");
            goto out;
        }
        rc = within_value(ps, &t, &q->within_us);
        if (rc == CTIX_OK)
            rc = next(ps);
        if (rc != CTIX_OK)
            goto out;
        if (ps->tok.kind != PAT_T_SECONDS) {
            rc = expected(ps, "SECONDS");
            goto out;
        }
        break;
    case PAT_O_REPEATS:
        if (t.kind != PAT_T_INT || t.p[0] == '-') {
            rc = expected(ps, "a positive integer after REPEATS");
            goto out;
        }
        if (!int_value(t.p, t.n, &v)) {
            rc = fail_at(ps, CTIX_EINVAL, t.line, t.col, "integer out of range");
            goto out;
        }
        if (v <= 0) {
            rc =
                fail_at(ps, CTIX_EINVAL, t.line, t.col, "REPEATS needs a positive number of times");
            goto out;
        }
        q->repeats = (uint64_t)v;
        rc = next(ps);
        if (rc != CTIX_OK)
            goto out;
        if (ps->tok.kind != PAT_T_TIMES) {
            rc = expected(ps, "TIMES");
            goto out;
        }
        break;
    default: /* START t STOP t */
        if (t.kind != PAT_T_TS) {
            rc = expected(ps, "a timestamp t'...' after START");
            goto out;
        }
        rc = ts_value(ps, &t, &q->start_us);
        if (rc == CTIX_OK)
            rc = next(ps);
        if (rc != CTIX_OK)
            goto out;
        if (ps->tok.kind != PAT_T_STOP) {
            rc = expected(ps, "STOP");
            goto out;
        }
        rc = next(ps);
        if (rc != CTIX_OK)
            goto out;
        t = ps->tok;
        if (t.kind != PAT_T_TS) {
            rc = expected(ps, "a timestamp t'...' after STOP");
            goto out;
        }
        rc = ts_value(ps, &t, &q->stop_us);
        if (rc != CTIX_OK)
            goto out;
        if ((ps->flags & PATTERN_STRICT) && q->start_us >= q->stop_us) {
            rc = fail_at(ps, CTIX_EINVAL, t.line, t.col, "START must be before STOP");
            goto out;
        }
        break;
    }
    rc = next(ps);
out:
    return rc;
}

/* A primary followed by any chain of qualifiers, each kind at most once. */
static enum ctix_rc parse_qualified(struct parser *ps, struct pat_oexpr **out)
{
    enum ctix_rc rc;
    struct pat_oexpr *e = NULL, *q;
    unsigned seen = 0, bit;
    enum pat_oexpr_kind kind;

    /* The reference validator refuses a kind twice only in a chain that starts at a simple
     * [...]: "[a] WITHIN 5 SECONDS WITHIN 6 SECONDS" is invalid, while both
     * "([a] WITHIN 5 SECONDS) WITHIN 6 SECONDS" and "([a]) WITHIN 5 SECONDS WITHIN 6 SECONDS"
     * are valid (its PASS cases). */
    bool simple = ps->tok.kind == PAT_T_LBRACK;

    rc = parse_primary(ps, &e);
    while (rc == CTIX_OK) {
        if (ps->tok.kind == PAT_T_WITHIN) {
            kind = PAT_O_WITHIN;
            bit = 1;
        } else if (ps->tok.kind == PAT_T_REPEATS) {
            kind = PAT_O_REPEATS;
            bit = 2;
        } else if (ps->tok.kind == PAT_T_START) {
            kind = PAT_O_STARTSTOP;
            bit = 4;
        } else {
            break;
        }
        if (simple && (seen & bit)) {
            rc = fail_at(ps, CTIX_EINVAL, ps->tok.line, ps->tok.col,
                         "duplicate %.*s qualifier (put the expression in parentheses to "
                         "qualify it again)",
                         (int)ps->tok.n, ps->tok.p);
            break;
        }
        seen |= bit;
        q = onode(ps, kind, e, NULL);
        if (q == NULL) {
            rc = nomem(ps);
            break;
        }
        rc = parse_qualifier(ps, q);
        e = q;
    }
    if (rc == CTIX_OK)
        *out = e;
    return rc;
}

/* level 0: FOLLOWEDBY, 1: OR, 2: AND, then qualified primaries. */
static enum ctix_rc parse_oexpr(struct parser *ps, int level, struct pat_oexpr **out)
{
    static const enum pat_tok_kind toks[] = {PAT_T_FOLLOWEDBY, PAT_T_OR, PAT_T_AND};
    static const enum pat_oexpr_kind kinds[] = {PAT_O_FOLLOWEDBY, PAT_O_OR, PAT_O_AND};
    enum ctix_rc rc;
    struct pat_oexpr *l = NULL, *r = NULL, *n;

    rc = level < 2 ? parse_oexpr(ps, level + 1, &l) : parse_qualified(ps, &l);
    while (rc == CTIX_OK && ps->tok.kind == toks[level]) {
        rc = next(ps);
        if (rc != CTIX_OK)
            break;
        rc = level < 2 ? parse_oexpr(ps, level + 1, &r) : parse_qualified(ps, &r);
        if (rc != CTIX_OK)
            break;
        n = onode(ps, kinds[level], l, r);
        if (n == NULL) {
            rc = nomem(ps);
            break;
        }
        l = n;
    }
    if (rc == CTIX_OK)
        *out = l;
    return rc;
}

enum ctix_rc pattern_parse(const char *text, size_t len, unsigned flags, struct pattern **out,
                           struct ctix_diag *diag)
{
    enum ctix_rc rc;
    struct parser ps;
    struct pattern *p = NULL;

    memset(&ps, 0, sizeof(ps));
    ps.diag = diag;
    ps.flags = flags;
    if (len > PATTERN_MAX_LEN) {
        ctix_diag_set(diag, "pattern", "pattern is %zu bytes, more than the limit of %u", len,
                      (unsigned)PATTERN_MAX_LEN);
        if (diag) {
            diag->line = 1;
            diag->col = 1;
        }
        rc = CTIX_ETOOBIG;
        goto out;
    }
    if (text == NULL)
        text = "";
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        ctix_diag_set(diag, "pattern", "out of memory");
        rc = CTIX_ENOMEM;
        goto out;
    }
    arena_init(&p->arena);
    ps.p = p;
    pattern__lex_init(&ps.lx, text, len);
    rc = next(&ps);
    if (rc == CTIX_OK)
        rc = parse_oexpr(&ps, 0, &p->root);
    if (rc != CTIX_OK)
        goto out;
    if (ps.tok.kind != PAT_T_EOF) {
        rc = expected(&ps, "AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern");
        goto out;
    }
    p->n_obs = ps.n_obs;
    *out = p;
    p = NULL;
out:
    pattern_free(p);
    return rc;
}

void pattern_free(struct pattern *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_re; i++)
        pcre2_code_free(p->re[i]);
    free(p->re);
    arena_cleanup(&p->arena);
    free(p);
}

size_t pattern_n_obs(const struct pattern *p)
{
    return p->n_obs;
}

size_t pattern_mem(const struct pattern *p)
{
    size_t n = sizeof(*p) + p->arena.used + p->n_re * sizeof(*p->re);

    for (size_t i = 0; i < p->n_re; i++) {
        size_t sz = 0;
        if (pcre2_pattern_info(p->re[i], PCRE2_INFO_SIZE, &sz) == 0)
            n += sz;
        sz = 0;
        if (pcre2_pattern_info(p->re[i], PCRE2_INFO_JITSIZE, &sz) == 0)
            n += sz;
    }
    return n;
}
