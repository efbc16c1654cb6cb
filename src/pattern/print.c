/* The canonical text of a parsed pattern: every binary operator and qualifier in its own
 * parentheses, keys quoted only when they must be, literals in one spelling (lowercase hex,
 * timestamps with six fraction digits, floats without exponent and with enough digits to read
 * back the same double). Tests check precedence through it and the fuzzer checks that printing
 * is a fixed point. Chains of one operator are left-deep trees as long as the pattern: they are
 * walked in a loop, so only parentheses in the pattern cost recursion. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

static enum ctix_rc put_str(struct buf *out, const char *s, size_t n)
{
    enum ctix_rc rc = buf_append(out, "'", 1);
    size_t from = 0;

    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\') {
            rc = buf_append(out, s + from, i - from);
            if (rc == CTIX_OK)
                rc = buf_append(out, "\\", 1);
            from = i;
        }
    }
    if (rc == CTIX_OK)
        rc = buf_append(out, s + from, n - from);
    if (rc == CTIX_OK)
        rc = buf_append(out, "'", 1);
    return rc;
}

static bool plain_key(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    /* h, b and t followed by a quote would read as a literal, but a key is never followed by
     * one; keywords and true/false would read as themselves. */
    return !pattern__is_keyword(s, n);
}

enum ctix_rc pattern__print_path(const struct pat_path *path, struct buf *out)
{
    enum ctix_rc rc = buf_appends(out, path->type);

    if (rc == CTIX_OK)
        rc = buf_append(out, ":", 1);
    for (size_t i = 0; rc == CTIX_OK && i < path->n_steps; i++) {
        const struct pat_step *st = &path->steps[i];

        switch (st->kind) {
        case PAT_STEP_KEY:
            if (i > 0)
                rc = buf_append(out, ".", 1);
            if (rc != CTIX_OK)
                break;
            if (plain_key(st->key, st->key_len))
                rc = buf_append(out, st->key, st->key_len);
            else
                rc = put_str(out, st->key, st->key_len);
            break;
        case PAT_STEP_INDEX:
            rc = buf_appendf(out, "[%" PRId64 "]", st->index);
            break;
        case PAT_STEP_ANY:
            rc = buf_append(out, "[*]", 3);
            break;
        }
    }
    return rc;
}

/* A double in fixed notation (the grammar has no exponent) with the fewest significant digits
 * that read back as the same double. */
static enum ctix_rc put_float(struct buf *out, double f)
{
    char e[40];
    int exp = 0, prec, sig;

    for (sig = 1; sig <= 17; sig++) {
        snprintf(e, sizeof(e), "%.*e", sig - 1, f);
        if (strtod(e, NULL) == f)
            break;
    }
    if (sig > 17)
        sig = 17;
    exp = (int)strtol(strchr(e, 'e') + 1, NULL, 10); /* "%e" output always has an exponent */
    prec = sig - 1 - exp;
    if (prec < 1)
        prec = 1;
    return buf_appendf(out, "%.*f", prec, f);
}

static enum ctix_rc put_b64(struct buf *out, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    enum ctix_rc rc = CTIX_OK;
    char q[4];

    for (size_t i = 0; rc == CTIX_OK && i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = tab[v >> 18];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        rc = buf_append(out, q, 4);
    }
    return rc;
}

static enum ctix_rc put_ts(struct buf *out, int64_t us)
{
    char t[28];

    ctix_ts_format_us(us, t);
    return buf_appendf(out, "t'%s'", t);
}

static enum ctix_rc put_lit(struct buf *out, const struct pat_lit *l)
{
    enum ctix_rc rc = CTIX_OK;

    switch (l->kind) {
    case PAT_LIT_BOOL:
        rc = buf_appends(out, l->u.b ? "true" : "false");
        break;
    case PAT_LIT_INT:
        rc = buf_appendf(out, "%" PRId64, l->u.i);
        break;
    case PAT_LIT_FLOAT:
        rc = put_float(out, l->u.f);
        break;
    case PAT_LIT_STR:
        rc = put_str(out, l->u.s.p, l->u.s.n);
        break;
    case PAT_LIT_BIN:
        if (l->hex) {
            rc = buf_append(out, "h'", 2);
            for (size_t i = 0; rc == CTIX_OK && i < l->u.s.n; i++)
                rc = buf_appendf(out, "%02x", (unsigned char)l->u.s.p[i]);
        } else {
            rc = buf_append(out, "b'", 2);
            if (rc == CTIX_OK)
                rc = put_b64(out, (const unsigned char *)l->u.s.p, l->u.s.n);
        }
        if (rc == CTIX_OK)
            rc = buf_append(out, "'", 1);
        break;
    case PAT_LIT_TS:
        rc = put_ts(out, l->u.ts_us);
        break;
    case PAT_LIT_SET:
        rc = buf_append(out, "(", 1);
        for (size_t i = 0; rc == CTIX_OK && i < l->u.set.n; i++) {
            if (i > 0)
                rc = buf_append(out, ", ", 2);
            if (rc == CTIX_OK)
                rc = put_lit(out, &l->u.set.v[i]);
        }
        if (rc == CTIX_OK)
            rc = buf_append(out, ")", 1);
        break;
    }
    return rc;
}

static const char *const op_names[] = {
    [PAT_OP_EQ] = "=",
    [PAT_OP_NE] = "!=",
    [PAT_OP_LT] = "<",
    [PAT_OP_LE] = "<=",
    [PAT_OP_GT] = ">",
    [PAT_OP_GE] = ">=",
    [PAT_OP_IN] = "IN",
    [PAT_OP_LIKE] = "LIKE",
    [PAT_OP_MATCHES] = "MATCHES",
    [PAT_OP_ISSUBSET] = "ISSUBSET",
    [PAT_OP_ISSUPERSET] = "ISSUPERSET",
    [PAT_OP_EXISTS] = "EXISTS",
};

static enum ctix_rc put_cmp(struct buf *out, const struct pat_cmp *c)
{
    enum ctix_rc rc = CTIX_OK;

    if (c->op == PAT_OP_EXISTS) {
        rc = buf_appends(out, c->negated ? "NOT EXISTS " : "EXISTS ");
        if (rc == CTIX_OK)
            rc = pattern__print_path(&c->path, out);
        return rc;
    }
    rc = pattern__print_path(&c->path, out);
    if (rc == CTIX_OK)
        rc = buf_appendf(out, "%s %s ", c->negated ? " NOT" : "", op_names[c->op]);
    if (rc == CTIX_OK)
        rc = put_lit(out, &c->lit);
    return rc;
}

/* Left-deep chains of one binary kind: "(((a OP b) OP c) OP d)" printed by walking the left
 * spine, so a chain of 100,000 operands costs no recursion. The right operands are at most as
 * deep as the pattern's parentheses. */
static enum ctix_rc put_cexpr(struct buf *out, const struct pat_cexpr *e)
{
    enum ctix_rc rc = CTIX_OK;
    const struct pat_cexpr *x = e, *first;
    size_t n = 0;
    const struct pat_cexpr **spine = NULL;

    if (e->kind == PAT_C_CMP)
        return put_cmp(out, e->cmp);
    for (x = e; x->kind == e->kind; x = x->l)
        n++;
    first = x;
    spine = malloc(n * sizeof(*spine));
    if (spine == NULL)
        return CTIX_ENOMEM;
    x = e;
    for (size_t i = n; i-- > 0; x = x->l)
        spine[i] = x;
    for (size_t i = 0; rc == CTIX_OK && i < n; i++)
        rc = buf_append(out, "(", 1);
    if (rc == CTIX_OK)
        rc = put_cexpr(out, first);
    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        rc = buf_appends(out, e->kind == PAT_C_AND ? " AND " : " OR ");
        if (rc == CTIX_OK)
            rc = put_cexpr(out, spine[i]->r);
        if (rc == CTIX_OK)
            rc = buf_append(out, ")", 1);
    }
    free(spine);
    return rc;
}

static bool obin(enum pat_oexpr_kind k)
{
    return k == PAT_O_AND || k == PAT_O_OR || k == PAT_O_FOLLOWEDBY;
}

static enum ctix_rc put_seconds(struct buf *out, int64_t us)
{
    enum ctix_rc rc;
    char frac[8];
    int k;

    if (us % 1000000 == 0)
        return buf_appendf(out, "%" PRId64, us / 1000000);
    snprintf(frac, sizeof(frac), "%06" PRId64, us % 1000000);
    for (k = 6; k > 1 && frac[k - 1] == '0'; k--)
        frac[k - 1] = '\0';
    rc = buf_appendf(out, "%" PRId64 ".%s", us / 1000000, frac);
    return rc;
}

static enum ctix_rc put_oexpr(struct buf *out, const struct pat_oexpr *e)
{
    enum ctix_rc rc = CTIX_OK;
    const struct pat_oexpr *x, *first;
    const struct pat_oexpr **spine = NULL;
    size_t n = 0;

    if (e->kind == PAT_O_OBS) {
        rc = buf_append(out, "[", 1);
        if (rc == CTIX_OK)
            rc = put_cexpr(out, e->c);
        if (rc == CTIX_OK)
            rc = buf_append(out, "]", 1);
        return rc;
    }
    /* Qualifier chains are short (each kind once per parenthesis level); binary chains can be
     * as long as the pattern. Both go through the spine. */
    for (x = e; x->kind == e->kind || (!obin(e->kind) && !obin(x->kind) && x->kind != PAT_O_OBS);
         x = x->l)
        n++;
    first = x;
    spine = malloc(n * sizeof(*spine));
    if (spine == NULL)
        return CTIX_ENOMEM;
    x = e;
    for (size_t i = n; i-- > 0; x = x->l)
        spine[i] = x;
    for (size_t i = 0; rc == CTIX_OK && i < n; i++)
        rc = buf_append(out, "(", 1);
    if (rc == CTIX_OK)
        rc = put_oexpr(out, first);
    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        const struct pat_oexpr *s = spine[i];

        switch (s->kind) {
        case PAT_O_AND:
        case PAT_O_OR:
        case PAT_O_FOLLOWEDBY:
            rc = buf_appends(out, s->kind == PAT_O_AND  ? " AND "
                                  : s->kind == PAT_O_OR ? " OR "
                                                        : " FOLLOWEDBY ");
            if (rc == CTIX_OK)
                rc = put_oexpr(out, s->r);
            break;
        case PAT_O_WITHIN:
            rc = buf_appends(out, " WITHIN ");
            if (rc == CTIX_OK)
                rc = put_seconds(out, s->within_us);
            if (rc == CTIX_OK)
                rc = buf_appends(out, " SECONDS");
            break;
        case PAT_O_REPEATS:
            rc = buf_appendf(out, " REPEATS %" PRIu64 " TIMES", s->repeats);
            break;
        case PAT_O_STARTSTOP:
            rc = buf_appends(out, " START ");
            if (rc == CTIX_OK)
                rc = put_ts(out, s->start_us);
            if (rc == CTIX_OK)
                rc = buf_appends(out, " STOP ");
            if (rc == CTIX_OK)
                rc = put_ts(out, s->stop_us);
            break;
        case PAT_O_OBS:
            break;
        }
        if (rc == CTIX_OK)
            rc = buf_append(out, ")", 1);
    }
    free(spine);
    return rc;
}

enum ctix_rc pattern__print(const struct pattern *p, struct buf *out)
{
    return put_oexpr(out, p->root);
}
