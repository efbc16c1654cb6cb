/* Indicators in: the fields the index needs from each STIX object, read without building a JSON
 * tree, from a bundle file read in blocks or from the node's store.
 *
 * One validating pass per object (json_value below) both checks the JSON and notes where the
 * interesting members of the object's top level are; the bundle reader runs it straight on its
 * read buffer, and when an object runs past the buffer's end (J_MORE) it reads on and parses that
 * object again from its start — only the one object a block boundary cuts is read twice. So a
 * 562 MB bundle costs one pass over its bytes and a buffer of a few MB, where jansson would need
 * the whole tree in memory (several GB).
 *
 * The checks are stix_json_parse's (the same messages), except that duplicate member names are
 * found only among the members this file reads (a duplicate "pattern" would make the indicator
 * ambiguous; one elsewhere changes nothing the scanner uses).
 *
 * An indicator the index cannot use — no string id or pattern, a pattern_type other than
 * "stix", a malformed valid_from/valid_until — is reported by scan_obj_fields with *is_ind true
 * and in->id or in->pattern NULL; the loaders count it in n_skipped. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/scan_cache.h"
#include "scan/scan_int.h"
#include "store/store.h"

#define LOAD_BLOCK     (4u << 20)  /* bytes read at a time */
#define LOAD_OBJ_MAX   (64u << 20) /* one object larger than this is refused (CTIX_ETOOBIG) */
#define LOAD_DEPTH_MAX 2048        /* nesting, as stix_json_parse */
#define LOAD_PAGE      2000        /* store rows per query */

/* ---- the validating scanner ---- */

enum jrc { J_OK, J_ERR, J_MORE /* the text ends inside the value */ };

struct jerr {
    const char *at;
    char msg[96];
};

enum fld {
    F_TYPE,
    F_ID,
    F_NAME,
    F_PATTERN,
    F_PATTERN_TYPE,
    F_CREATED_BY_REF,
    F_CREATED,
    F_MODIFIED,
    F_VALID_FROM,
    F_VALID_UNTIL,
    F_REVOKED,
    F_N,
};

static const struct {
    const char *name;
    size_t len;
} fld_names[F_N] = {
    [F_TYPE] = {"type", 4},
    [F_ID] = {"id", 2},
    [F_NAME] = {"name", 4},
    [F_PATTERN] = {"pattern", 7},
    [F_PATTERN_TYPE] = {"pattern_type", 12},
    [F_CREATED_BY_REF] = {"created_by_ref", 14},
    [F_CREATED] = {"created", 7},
    [F_MODIFIED] = {"modified", 8},
    [F_VALID_FROM] = {"valid_from", 10},
    [F_VALID_UNTIL] = {"valid_until", 11},
    [F_REVOKED] = {"revoked", 7},
};

enum fkind { FK_ABSENT, FK_STR, FK_TRUE, FK_OTHER };

/* Where one member's value is: a string's body p[0..n) (escapes not resolved when esc). */
struct fspan {
    const char *p;
    size_t n;
    uint8_t kind; /* enum fkind */
    bool esc;
};

struct fields {
    bool is_obj; /* the value was an object */
    struct fspan f[F_N];
};

static const unsigned char ws_tab[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

static enum jrc jfail(struct jerr *e, const char *at, const char *fmt, ...) CTIX_PRINTF(3, 4);

static enum jrc jfail(struct jerr *e, const char *at, const char *fmt, ...)
{
    va_list ap;

    e->at = at;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return J_ERR;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && ws_tab[(unsigned char)*p])
        p++;
    return p;
}

/* True when p[0..end) is the start of a UTF-8 sequence that the end of the buffer cuts: a lead
 * byte followed only by continuation bytes, fewer than it needs. */
static bool utf8_cut(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    size_t need = c >= 0xc2 && c <= 0xdf   ? 2
                  : c >= 0xe0 && c <= 0xef ? 3
                  : c >= 0xf0 && c <= 0xf4 ? 4
                                           : 0;

    if (need == 0 || (size_t)(end - p) >= need)
        return false;
    for (const char *q = p + 1; q < end; q++) {
        if (((unsigned char)*q & 0xc0) != 0x80)
            return false;
    }
    return true;
}

/* A string whose opening quote is at p. *endp: after the closing quote; *esc when it has an
 * escape. The body is p+1 .. *endp-1. */
static enum jrc jscan_string(const char *p, const char *end, const char **endp, bool *esc,
                             struct jerr *e)
{
    p++;
    *esc = false;
    for (;;) {
        unsigned char c;

        p = ctix_json_plain_end(p, end);
        if (p == end)
            return J_MORE;
        c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c >= 0x80) {
            uint32_t uc;
            size_t k = ctix_utf8_decode((const unsigned char *)p, (const unsigned char *)end, &uc);

            if (k == 0) {
                if (utf8_cut(p, end))
                    return J_MORE; /* the rest is in the next block */
                return jfail(e, p, "invalid UTF-8 byte 0x%x", c);
            }
            p += k;
        } else if (c < 0x20) {
            if (c == '\n')
                return jfail(e, p, "unexpected newline");
            return jfail(e, p, "control character 0x%x", c);
        } else { /* backslash */
            long cp, lo;

            *esc = true;
            if (end - p < 2)
                return J_MORE;
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2;
                continue;
            case 'u':
                break;
            default:
                return jfail(e, p, "invalid escape");
            }
            if (end - p < 6)
                return J_MORE;
            cp = ctix_hex4(p + 2, end);
            if (cp < 0)
                return jfail(e, p, "invalid Unicode escape");
            if (cp == 0)
                return jfail(e, p, "\\u0000 is not allowed");
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return jfail(e, p, "invalid Unicode '\\u%04lX'", cp);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                /* More only when what is there can still be "\uDC00". */
                if (end - p < 7)
                    return J_MORE;
                if (p[6] != '\\' || (end - p >= 8 && p[7] != 'u'))
                    return jfail(e, p, "invalid Unicode '\\u%04lX'", cp);
                if (end - p < 12)
                    return J_MORE;
                lo = ctix_hex4(p + 8, end);
                if (lo < 0)
                    return jfail(e, p + 6, "invalid Unicode escape");
                if (lo < 0xdc00 || lo > 0xdfff)
                    return jfail(e, p, "invalid Unicode '\\u%04lX\\u%04lX'", cp, lo);
                p += 6;
            }
            p += 6;
        }
    }
    *endp = p + 1;
    return J_OK;
}

static const char *digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

/* A number at p. Running into the end is J_MORE: more digits may follow in the next block. */
static enum jrc jscan_number(const char *p, const char *end, const char **endp, struct jerr *e)
{
    const char *start = p, *d0;
    bool neg = false, real = false;

    if (*p == '-') {
        neg = true;
        p++;
    }
    d0 = p;
    if (p == end)
        return J_MORE;
    if (*p < '0' || *p > '9')
        return jfail(e, start, "invalid number");
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return jfail(e, start, "invalid number (leading zero)");
    } else {
        p = digits(p, end);
    }
    if (p < end && *p == '.') {
        real = true;
        p++;
        if (p < end && (*p < '0' || *p > '9'))
            return jfail(e, start, "invalid number");
        p = digits(p, end);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p < end && (*p < '0' || *p > '9'))
            return jfail(e, start, "invalid number");
        p = digits(p, end);
    }
    if (p == end)
        return J_MORE;
    if (!real) {
        /* Like jansson (strtoll): an integer that does not fit int64 is an error. */
        uint64_t u = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

        for (const char *d = d0; d < p; d++) {
            unsigned dv = (unsigned)(*d - '0');

            if (u > (limit - dv) / 10)
                return jfail(e, start, neg ? "too big negative integer" : "too big integer");
            u = u * 10 + dv;
        }
    } else {
        char small[64], *nb = small;
        size_t len = (size_t)(p - start);
        double dv;
        bool over;

        if (len >= sizeof(small)) {
            nb = malloc(len + 1);
            if (nb == NULL)
                return jfail(e, start, "out of memory");
        }
        memcpy(nb, start, len);
        nb[len] = '\0';
        dv = strtod(nb, NULL);
        over = isinf(dv);
        if (nb != small)
            free(nb);
        if (over)
            return jfail(e, start, "real number overflow");
    }
    *endp = p;
    return J_OK;
}

static enum jrc jscan_literal(const char *p, const char *end, const char *lit, size_t n,
                              const char **endp, struct jerr *e)
{
    size_t have = (size_t)(end - p) < n ? (size_t)(end - p) : n;

    if (memcmp(p, lit, have) != 0)
        return jfail(e, p, "invalid token");
    if (have < n)
        return J_MORE;
    *endp = p + n;
    return J_OK;
}

/* The member of the top object a key names, or -1. */
static int fld_match(const char *k, size_t n, bool esc)
{
    char tmp[96]; /* room for a short name written entirely as \u escapes */

    if (esc) { /* "\u0069d" is "id": rare, but the reading must not depend on spelling */
        if (n >= sizeof(tmp))
            return -1;
        n = ctix_json_unescape(k, k + n, tmp);
        k = tmp;
    }
    for (int i = 0; i < F_N; i++) {
        if (fld_names[i].len == n && memcmp(fld_names[i].name, k, n) == 0)
            return i;
    }
    return -1;
}

enum jstate { S_VALUE, S_AFTER, S_KEY, S_KEY1 };

/* Checks one JSON value starting at p (after white space) and, when fl is not NULL, notes the
 * members of the top-level object that fld_names lists. *endp: just after the value. Iterative:
 * nesting is bounded by LOAD_DEPTH_MAX, not by the C stack. */
static enum jrc jscan_value(const char *p, const char *end, const char **endp, struct fields *fl,
                            struct jerr *e)
{
    char stack[LOAD_DEPTH_MAX];
    size_t depth = 0;
    int want = -1; /* the field the next value at depth 1 fills */
    enum jstate st = S_VALUE;
    enum jrc r;

    for (;;) {
        p = skip_ws(p, end);
        if (p == end)
            return J_MORE;
        switch (st) {
        case S_VALUE: {
            char c = *p;
            struct fspan *fs = NULL;

            if (want >= 0 && depth == 1 && fl != NULL) {
                fs = &fl->f[want];
                fs->kind = FK_OTHER;
            }
            want = -1;
            if (c == '{' || c == '[') {
                if (depth == LOAD_DEPTH_MAX)
                    return jfail(e, p, "maximum parsing depth reached");
                if (depth == 0 && fl != NULL)
                    fl->is_obj = c == '{';
                stack[depth++] = c;
                p++;
                st = c == '{' ? S_KEY1 : S_VALUE;
                p = skip_ws(p, end);
                if (p == end)
                    return J_MORE;
                if (*p == (c == '{' ? '}' : ']')) {
                    p++;
                    depth--;
                    st = S_AFTER;
                    if (depth == 0) {
                        *endp = p;
                        return J_OK;
                    }
                }
                continue;
            }
            if (c == '"') {
                const char *q;
                bool esc;

                r = jscan_string(p, end, &q, &esc, e);
                if (r != J_OK)
                    return r;
                if (fs != NULL) {
                    fs->kind = FK_STR;
                    fs->p = p + 1;
                    fs->n = (size_t)(q - p - 2);
                    fs->esc = esc;
                }
                p = q;
            } else if (c == 't') {
                r = jscan_literal(p, end, "true", 4, &p, e);
                if (r != J_OK)
                    return r;
                if (fs != NULL)
                    fs->kind = FK_TRUE;
            } else if (c == 'f') {
                r = jscan_literal(p, end, "false", 5, &p, e);
                if (r != J_OK)
                    return r;
            } else if (c == 'n') {
                r = jscan_literal(p, end, "null", 4, &p, e);
                if (r != J_OK)
                    return r;
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                r = jscan_number(p, end, &p, e);
                if (r != J_OK)
                    return r;
            } else {
                return jfail(e, p, "invalid token");
            }
            if (depth == 0) { /* a scalar alone: done, without reading past it */
                *endp = p;
                return J_OK;
            }
            st = S_AFTER;
            break;
        }
        case S_AFTER:
            if (*p == ',') {
                p++;
                st = stack[depth - 1] == '{' ? S_KEY : S_VALUE;
            } else if (*p == (stack[depth - 1] == '{' ? '}' : ']')) {
                p++;
                depth--;
                if (depth == 0) {
                    *endp = p;
                    return J_OK;
                }
            } else {
                return jfail(
                    e, p, stack[depth - 1] == '{' ? "',' or '}' expected" : "',' or ']' expected");
            }
            break;
        case S_KEY:
        case S_KEY1: {
            const char *q, *k = p;
            bool esc;

            if (*p != '"')
                return jfail(e, p, st == S_KEY1 ? "string or '}' expected" : "string expected");
            r = jscan_string(p, end, &q, &esc, e);
            if (r != J_OK)
                return r;
            if (depth == 1 && fl != NULL) {
                want = fld_match(p + 1, (size_t)(q - p - 2), esc);
                if (want >= 0 && fl->f[want].kind != FK_ABSENT)
                    return jfail(e, k, "duplicate object key");
            }
            p = skip_ws(q, end);
            if (p == end)
                return J_MORE;
            if (*p != ':')
                return jfail(e, p, "':' expected");
            p++;
            st = S_VALUE;
            break;
        }
        }
    }
}

/* ---- the fields of an indicator ---- */

/* Line and column (1-based, column in characters) of at in text, as stix_json_parse counts. */
static void line_col(const char *text, const char *at, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;

    for (const char *p = text; p < at; p++) {
        if (*p == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)*p & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static bool span_is(const struct fspan *s, const char *lit)
{
    size_t n = strlen(lit);

    return s->kind == FK_STR && !s->esc && s->n == n && memcmp(s->p, lit, n) == 0;
}

/* The string value of a member, unescaped into tmp when needed (tmp has room reserved). */
static bool span_str(const struct fspan *s, struct buf *tmp, const char **p, size_t *n)
{
    if (s->kind != FK_STR) {
        *p = NULL;
        *n = 0;
        return false;
    }
    if (!s->esc) {
        *p = s->p;
        *n = s->n;
        return true;
    }
    /* Room was reserved for every escaped member: no reallocation moves earlier ones. */
    *p = tmp->data + tmp->len;
    *n = ctix_json_unescape(s->p, s->p + s->n, tmp->data + tmp->len);
    tmp->len += *n;
    tmp->data[tmp->len++] = '\0';
    return true;
}

/* A member's timestamp in ms: *ok false when present and malformed. */
static int64_t span_ms(const struct fspan *s, int64_t absent, bool *ok)
{
    struct ctix_ts ts;

    if (s->kind == FK_ABSENT)
        return absent;
    const char *p = s->p;
    size_t n = s->n;
    char tmp[96];

    if (s->kind == FK_STR && s->esc) { /* "2024\u002d…" is unusual but the same timestamp */
        if (n >= sizeof(tmp)) {
            *ok = false;
            return absent;
        }
        n = ctix_json_unescape(p, p + n, tmp);
        p = tmp;
    }
    if (s->kind != FK_STR || ctix_ts_parse(p, n, &ts) != CTIX_OK) {
        *ok = false;
        return absent;
    }
    /* nsec is never negative, so this is the floor for times before 1970 too. */
    return ts.sec * 1000 + ts.nsec / 1000000;
}

/* Fills in from the spans of one object. */
static enum ctix_rc fields_fill(const struct fields *fl, struct buf *tmp, bool *is_ind,
                                struct scan_ind_in *in)
{
    enum ctix_rc rc = CTIX_OK;
    size_t need = 0;
    bool ok = true, is_stix;

    memset(in, 0, sizeof(*in));
    *is_ind = false;
    buf_reset(tmp);
    if (fl->f[F_TYPE].kind != FK_STR)
        goto out;
    if (fl->f[F_TYPE].esc) {
        char t[96];

        if (fl->f[F_TYPE].n >= sizeof(t))
            goto out;
        if (ctix_json_unescape(fl->f[F_TYPE].p, fl->f[F_TYPE].p + fl->f[F_TYPE].n, t) != 9 ||
            memcmp(t, "indicator", 9) != 0)
            goto out;
    } else if (!span_is(&fl->f[F_TYPE], "indicator")) {
        goto out;
    }
    *is_ind = true;
    for (int i = 0; i < F_N; i++) {
        if (fl->f[i].kind == FK_STR && fl->f[i].esc)
            need += fl->f[i].n + 1;
    }
    if (need > 0) {
        rc = buf_grow(tmp, need);
        if (rc != CTIX_OK)
            goto out;
    }
    span_str(&fl->f[F_ID], tmp, &in->id, &in->id_len);
    span_str(&fl->f[F_NAME], tmp, &in->name, &in->name_len);
    span_str(&fl->f[F_CREATED_BY_REF], tmp, &in->created_by_ref, &in->created_by_ref_len);
    /* pattern_type is required in 2.1; a 2.0 indicator has none and its pattern is STIX. */
    if (fl->f[F_PATTERN_TYPE].kind == FK_ABSENT) {
        is_stix = true;
    } else if (fl->f[F_PATTERN_TYPE].kind != FK_STR) {
        is_stix = false;
    } else {
        const char *pt;
        size_t ptn;

        span_str(&fl->f[F_PATTERN_TYPE], tmp, &pt, &ptn);
        is_stix = ptn == 4 && memcmp(pt, "stix", 4) == 0;
    }
    if (is_stix)
        span_str(&fl->f[F_PATTERN], tmp, &in->pattern, &in->pattern_len);
    in->modified_ms = span_ms(&fl->f[F_MODIFIED], SCAN_TIME_NONE, &ok);
    if (fl->f[F_MODIFIED].kind == FK_ABSENT || !ok) {
        ok = true; /* only orders versions: created will do */
        in->modified_ms = span_ms(&fl->f[F_CREATED], SCAN_TIME_NONE, &ok);
        ok = true;
    }
    in->valid_from_ms = span_ms(&fl->f[F_VALID_FROM], SCAN_TIME_NONE, &ok);
    in->valid_until_ms = span_ms(&fl->f[F_VALID_UNTIL], INT64_MAX, &ok);
    in->revoked = fl->f[F_REVOKED].kind == FK_TRUE;
    if (!ok) { /* a validity window we cannot read: not an indicator we can apply */
        in->pattern = NULL;
        in->pattern_len = 0;
    }
out:
    return rc;
}

enum ctix_rc scan_obj_fields(const char *text, size_t len, struct buf *tmp, bool *is_ind,
                             struct scan_ind_in *in, struct ctix_diag *diag)
{
    struct fields fl;
    struct jerr e;
    const char *end = text + len, *q = NULL, *p;
    enum jrc r;
    enum ctix_rc rc = CTIX_EINVAL;
    unsigned line, col;

    *is_ind = false;
    memset(&fl, 0, sizeof(fl));
    e.at = end;
    snprintf(e.msg, sizeof(e.msg), "premature end of input");
    p = skip_ws(text, end);
    if (p == end) {
        r = J_MORE;
    } else if (*p != '{') {
        r = jfail(&e, p, "a JSON object expected");
    } else {
        r = jscan_value(p, end, &q, &fl, &e);
        if (r == J_OK) {
            q = skip_ws(q, end);
            if (q != end)
                r = jfail(&e, q, "end of file expected");
        }
    }
    if (r == J_MORE) {
        e.at = end;
        snprintf(e.msg, sizeof(e.msg), "premature end of input");
    }
    if (r != J_OK) {
        line_col(text, e.at, &line, &col);
        ctix_diag_set(diag, NULL, "JSON syntax error at line %u column %u: %s", line, col, e.msg);
        if (diag != NULL) {
            diag->line = line;
            diag->col = col;
        }
        goto out;
    }
    rc = fields_fill(&fl, tmp, is_ind, in);
    if (rc != CTIX_OK)
        ctix_diag_set(diag, NULL, "out of memory");
out:
    return rc;
}

/* ---- bundle files ---- */

struct rd {
    const char *path;
    int fd;
    char *buf;
    size_t cap, len, pos; /* buf[0..len) read; pos: what is consumed */
    bool eof;
    /* Where buf[0] is in the file, for messages: line (1-based) and characters since the start
     * of that line. */
    uint64_t line, col;
    struct ctix_diag *diag;
};

/* Advances a line/column position over p[0..n). */
static void lc_advance(uint64_t *line, uint64_t *col, const char *p, size_t n)
{
    const char *end = p + n, *nl = memrchr(p, '\n', n);

    if (nl != NULL) {
        for (const char *q = p; (q = memchr(q, '\n', (size_t)(nl + 1 - q))) != NULL; q++)
            (*line)++;
        *col = 0;
        p = nl + 1;
    }
    for (; p < end; p++)
        *col += ((unsigned char)*p & 0xc0) != 0x80;
}

static enum ctix_rc rd_fail(struct rd *r, const char *at, const char *msg)
{
    uint64_t line = r->line, col = r->col;
    size_t off = at != NULL ? (size_t)(at - r->buf) : r->len;

    lc_advance(&line, &col, r->buf, off);
    ctix_diag_set(r->diag, r->path, "JSON syntax error at line %llu column %llu: %s",
                  (unsigned long long)line, (unsigned long long)col + 1, msg);
    if (r->diag != NULL) {
        r->diag->line = (unsigned)line;
        r->diag->col = (unsigned)(col + 1);
    }
    return CTIX_EINVAL;
}

/* Drops buf[0..pos) and reads more after what is left, growing the buffer when a value fills it. */
static enum ctix_rc rd_fill(struct rd *r)
{
    enum ctix_rc rc = CTIX_OK;

    if (r->pos > 0) {
        lc_advance(&r->line, &r->col, r->buf, r->pos);
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap) {
        size_t ncap = r->cap * 2;
        char *nb;

        if (r->cap >= LOAD_OBJ_MAX) {
            ctix_diag_set(r->diag, r->path, "a value larger than %u MB at line %llu",
                          LOAD_OBJ_MAX >> 20, (unsigned long long)r->line);
            rc = CTIX_ETOOBIG;
            goto out;
        }
        nb = realloc(r->buf, ncap);
        if (nb == NULL) {
            ctix_diag_set(r->diag, r->path, "out of memory");
            rc = CTIX_ENOMEM;
            goto out;
        }
        r->buf = nb;
        r->cap = ncap;
    }
    while (r->len < r->cap && !r->eof) {
        ssize_t k = read(r->fd, r->buf + r->len, r->cap - r->len);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            ctix_diag_set(r->diag, r->path, "read: %s", strerror(errno));
            rc = CTIX_EIO;
            goto out;
        }
        if (k == 0)
            r->eof = true;
        r->len += (size_t)k;
    }
out:
    return rc;
}

/* The next byte after white space, at r->pos; *c is -1 at the end of the file (a NUL byte is
 * just a byte: it must not read as the end). */
static enum ctix_rc rd_peek(struct rd *r, int *c)
{
    enum ctix_rc rc = CTIX_OK;

    for (;;) {
        const char *p = skip_ws(r->buf + r->pos, r->buf + r->len);

        r->pos = (size_t)(p - r->buf);
        if (r->pos < r->len) {
            *c = (unsigned char)r->buf[r->pos];
            break;
        }
        if (r->eof) {
            *c = -1;
            break;
        }
        rc = rd_fill(r);
        if (rc != CTIX_OK)
            break;
    }
    return rc;
}

/* Runs a scanner on the value at r->pos, reading on while the value runs past the buffer. On
 * success *start and *stop delimit the value in r->buf (valid until the next read). */
static enum ctix_rc rd_value(struct rd *r, bool key, struct fields *fl, const char **start,
                             const char **stop, bool *esc)
{
    enum ctix_rc rc = CTIX_OK;
    struct jerr e;
    enum jrc j;

    for (;;) {
        const char *p = r->buf + r->pos, *end = r->buf + r->len;

        if (fl != NULL)
            memset(fl, 0, sizeof(*fl));
        j = key ? jscan_string(p, end, stop, esc, &e) : jscan_value(p, end, stop, fl, &e);
        if (j == J_OK) {
            *start = p;
            break;
        }
        if (j == J_ERR) {
            rc = rd_fail(r, e.at, e.msg);
            break;
        }
        if (r->eof) {
            rc = rd_fail(r, NULL, "premature end of input");
            break;
        }
        rc = rd_fill(r);
        if (rc != CTIX_OK)
            break;
    }
    return rc;
}

struct load {
    scan_ind_fn fn;
    void *arg;
    struct scan_load_stats *stats;
    struct buf tmp;
    struct fields fl;
};

/* The elements of an array of objects; r->pos is after its '['. */
static enum ctix_rc rd_objects(struct rd *r, struct load *ld)
{
    enum ctix_rc rc;
    const char *s, *e;
    struct scan_ind_in in;
    bool is_ind, esc;
    int c;

    rc = rd_peek(r, &c);
    if (rc != CTIX_OK)
        goto out;
    if (c == ']') {
        r->pos++;
        goto out;
    }
    for (;;) {
        rc = rd_peek(r, &c);
        if (rc != CTIX_OK)
            goto out;
        if (c < 0) {
            rc = rd_fail(r, NULL, "premature end of input");
            goto out;
        }
        if (c != '{') {
            rc = rd_fail(r, r->buf + r->pos, "an element of \"objects\" is not an object");
            goto out;
        }
        rc = rd_value(r, false, &ld->fl, &s, &e, &esc);
        if (rc != CTIX_OK)
            goto out;
        r->pos = (size_t)(e - r->buf);
        ld->stats->n_objects++;
        rc = fields_fill(&ld->fl, &ld->tmp, &is_ind, &in);
        if (rc != CTIX_OK) {
            ctix_diag_set(r->diag, r->path, "out of memory");
            goto out;
        }
        if (is_ind && (in.id == NULL || in.pattern == NULL)) {
            ld->stats->n_skipped++;
        } else if (is_ind) {
            rc = ld->fn(ld->arg, &in);
            if (rc != CTIX_OK)
                goto out;
            ld->stats->n_indicators++;
        }
        rc = rd_peek(r, &c);
        if (rc != CTIX_OK)
            goto out;
        if (c == ']') {
            r->pos++;
            break;
        }
        if (c != ',') {
            rc = c < 0 ? rd_fail(r, NULL, "premature end of input")
                       : rd_fail(r, r->buf + r->pos, "',' or ']' expected");
            goto out;
        }
        r->pos++;
    }
out:
    return rc;
}

static bool key_is(const char *s, const char *e, bool esc, const char *name)
{
    char tmp[96]; /* room for a short name written entirely as \u escapes */
    size_t n = (size_t)(e - s) - 2, k = strlen(name);

    s++;
    if (esc) {
        if (n >= sizeof(tmp))
            return false;
        n = ctix_json_unescape(s, s + n, tmp);
        s = tmp;
    }
    return n == k && memcmp(s, name, k) == 0;
}

/* The members of a bundle or envelope; r->pos is after its '{'. */
static enum ctix_rc rd_container(struct rd *r, struct load *ld)
{
    enum ctix_rc rc;
    const char *s, *e, *at;
    const char *e2;
    struct jerr je;
    bool esc, seen_objects = false, seen_type = false, seen_more = false, first = true;
    int c;

    for (;;) {
        rc = rd_peek(r, &c);
        if (rc != CTIX_OK)
            goto out;
        if (first && c == '}') {
            r->pos++;
            break;
        }
        if (c != '"') {
            rc = c < 0   ? rd_fail(r, NULL, "premature end of input")
                 : first ? rd_fail(r, r->buf + r->pos, "string or '}' expected")
                         : rd_fail(r, r->buf + r->pos, "string expected");
            goto out;
        }
        first = false;
        rc = rd_value(r, true, NULL, &s, &e, &esc);
        if (rc != CTIX_OK)
            goto out;
        r->pos = (size_t)(e - r->buf);
        if (key_is(s, e, esc, "objects")) {
            if (seen_objects) {
                rc = rd_fail(r, s, "duplicate object key");
                goto out;
            }
            seen_objects = true;
            rc = rd_peek(r, &c);
            if (rc == CTIX_OK && c != ':')
                rc = c < 0 ? rd_fail(r, NULL, "premature end of input")
                           : rd_fail(r, r->buf + r->pos, "':' expected");
            if (rc != CTIX_OK)
                goto out;
            r->pos++;
            rc = rd_peek(r, &c);
            if (rc == CTIX_OK && c != '[')
                rc = c < 0 ? rd_fail(r, NULL, "premature end of input")
                           : rd_fail(r, r->buf + r->pos, "\"objects\" is not an array");
            if (rc != CTIX_OK)
                goto out;
            r->pos++;
            rc = rd_objects(r, ld);
        } else {
            bool is_type = key_is(s, e, esc, "type");

            if (is_type && seen_type) {
                rc = rd_fail(r, s, "duplicate object key");
                goto out;
            }
            seen_type = seen_type || is_type;
            seen_more = seen_more || key_is(s, e, esc, "more");
            rc = rd_peek(r, &c);
            if (rc == CTIX_OK && c != ':')
                rc = c < 0 ? rd_fail(r, NULL, "premature end of input")
                           : rd_fail(r, r->buf + r->pos, "':' expected");
            if (rc != CTIX_OK)
                goto out;
            r->pos++;
            rc = rd_peek(r, &c);
            if (rc == CTIX_OK && c < 0)
                rc = rd_fail(r, NULL, "premature end of input");
            if (rc != CTIX_OK)
                goto out;
            rc = rd_value(r, false, NULL, &s, &e, &esc);
            if (rc != CTIX_OK)
                goto out;
            at = s;
            r->pos = (size_t)(e - r->buf);
            /* A single STIX object is not a container: refuse it rather than find nothing. */
            if (is_type && !(*s == '"' && jscan_string(s, e, &e2, &esc, &je) == J_OK &&
                             key_is(s, e, esc, "bundle"))) {
                rc = rd_fail(r, at,
                             "not a bundle, TAXII envelope or list of objects "
                             "(\"type\" is not \"bundle\")");
                goto out;
            }
        }
        if (rc != CTIX_OK)
            goto out;
        rc = rd_peek(r, &c);
        if (rc != CTIX_OK)
            goto out;
        if (c == '}') {
            r->pos++;
            break;
        }
        if (c != ',') {
            rc = c < 0 ? rd_fail(r, NULL, "premature end of input")
                       : rd_fail(r, r->buf + r->pos, "',' or '}' expected");
            goto out;
        }
        r->pos++;
    }
    /* {"more": false} is an empty envelope; {"foo": 1} is none of the three shapes. */
    if (!seen_objects && !seen_type && !seen_more)
        rc = rd_fail(r, r->buf + r->pos - 1,
                     "not a bundle, TAXII envelope or list of objects (no \"objects\")");
out:
    return rc;
}

enum ctix_rc scan_load_bundle(const char *path, scan_ind_fn fn, void *arg,
                              struct scan_load_stats *stats, struct ctix_diag *diag)
{
    struct rd r;
    struct load ld;
    enum ctix_rc rc = CTIX_OK;
    int c;

    memset(&r, 0, sizeof(r));
    memset(&ld, 0, sizeof(ld));
    memset(stats, 0, sizeof(*stats));
    r.path = path;
    r.diag = diag;
    r.line = 1;
    r.fd = -1;
    ld.fn = fn;
    ld.arg = arg;
    ld.stats = stats;
    buf_init(&ld.tmp, LOAD_OBJ_MAX);
    if (strcmp(path, "-") == 0) {
        r.fd = STDIN_FILENO;
    } else {
        r.fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r.fd < 0) {
            ctix_diag_set(diag, path, "cannot open: %s", strerror(errno));
            rc = errno == ENOENT ? CTIX_ENOTFOUND : CTIX_EIO;
            goto out;
        }
    }
    r.cap = LOAD_BLOCK;
    r.buf = malloc(r.cap);
    if (r.buf == NULL) {
        ctix_diag_set(diag, path, "out of memory");
        rc = CTIX_ENOMEM;
        goto out;
    }
    rc = rd_peek(&r, &c);
    if (rc != CTIX_OK)
        goto out;
    if (c == '[') {
        r.pos++;
        rc = rd_objects(&r, &ld);
    } else if (c == '{') {
        r.pos++;
        rc = rd_container(&r, &ld);
    } else if (c < 0) {
        rc = rd_fail(&r, NULL, "premature end of input");
    } else {
        rc = rd_fail(&r, r.buf + r.pos,
                     "not a bundle, TAXII envelope or list of objects (expected '{' or '[')");
    }
    if (rc != CTIX_OK)
        goto out;
    rc = rd_peek(&r, &c);
    if (rc == CTIX_OK && c >= 0)
        rc = rd_fail(&r, r.buf + r.pos, "end of file expected");
out:
    if (r.fd > STDIN_FILENO)
        close(r.fd);
    free(r.buf);
    buf_cleanup(&ld.tmp);
    return rc;
}

/* ---- the node's store ---- */

#define LOAD_IDS 400 /* object ids per query of a selection (two parameters each) */

struct st_load {
    struct load ld;
    const struct scan_store_sel *sel;
    int64_t last_added;
    size_t n_rows;
    enum ctix_rc fn_rc; /* what fn or sel->skip returned when it stopped the load */
    struct ctix_diag *diag;
};

static enum ctix_rc store_row(void *ctx, const struct store_row *row)
{
    struct st_load *sl = ctx;
    struct scan_ind_in in;
    struct ctix_diag d;
    enum ctix_rc rc = CTIX_OK;
    bool is_ind = false;

    sl->n_rows++;
    sl->last_added = row->date_added_us;
    sl->ld.stats->n_objects++;
    if (row->json == NULL)
        goto skip;
    ctix_diag_clear(&d);
    rc = scan_obj_fields(row->json, row->json_len, &sl->ld.tmp, &is_ind, &in, &d);
    if (rc == CTIX_EINVAL) {
        /* The store validated it on the way in: a bad row is damage, not a reason to stop. */
        ctix_log(CTIX_LOG_WARN, "scan", "event=bad_stored_object id=%s msg=\"%s\"", row->id, d.msg);
        rc = CTIX_OK;
        goto skip;
    }
    if (rc != CTIX_OK) {
        ctix_diag_set(sl->diag, NULL, "%s", d.msg);
        goto out;
    }
    if (!is_ind || in.id == NULL || in.pattern == NULL)
        goto skip;
    rc = sl->ld.fn(sl->ld.arg, &in);
    if (rc == CTIX_OK)
        sl->ld.stats->n_indicators++;
    sl->fn_rc = rc;
    goto out;
skip:
    sl->ld.stats->n_skipped++;
    if (sl->sel != NULL && sl->sel->skip != NULL) {
        rc = sl->sel->skip(sl->ld.arg, row->id);
        sl->fn_rc = rc;
    }
out:
    return rc;
}

/* The rows of one page loop: every qualifying row of coll_id, or of ids[0..n_ids) when n_ids > 0.
 */
static enum ctix_rc store_rows(struct store *st, const char *coll_id, const char *const *ids,
                               size_t n_ids, struct st_load *sl)
{
    static const char *const types[] = {"indicator"};
    struct store_query q;
    enum ctix_rc rc = CTIX_OK;
    bool more = true;

    sl->last_added = -1;
    while (more) {
        memset(&q, 0, sizeof(q));
        q.coll_id = coll_id;
        q.added_after_us = sl->last_added;
        q.limit = LOAD_PAGE;
        q.types = types;
        q.n_types = 1;
        q.ids = ids;
        q.n_ids = n_ids;
        q.vsel = STORE_V_LAST;
        q.want_json = true;
        /* Quarantined and pending versions are not indicators anyone vouched for. */
        q.prov_mask = (1u << STORE_PROV_LOCAL) | (1u << STORE_PROV_VERIFIED);
        sl->n_rows = 0;
        rc = store_objs_query(st, &q, store_row, sl, &more);
        if (rc != CTIX_OK) {
            if (sl->fn_rc == CTIX_OK && sl->diag != NULL && sl->diag->msg[0] == '\0')
                ctix_diag_set(sl->diag, coll_id, "store query: %s", ctix_strerror(rc));
            break;
        }
        if (sl->n_rows == 0)
            break;
    }
    return rc;
}

enum ctix_rc scan_load_store_sel(struct store *st, const char *coll_id,
                                 const struct scan_store_sel *sel, scan_ind_fn fn, void *arg,
                                 struct scan_load_stats *stats, struct ctix_diag *diag)
{
    struct store_collection coll;
    struct st_load sl;
    enum ctix_rc rc;

    memset(&sl, 0, sizeof(sl));
    memset(stats, 0, sizeof(*stats));
    sl.ld.fn = fn;
    sl.ld.arg = arg;
    sl.ld.stats = stats;
    sl.sel = sel;
    sl.diag = diag;
    buf_init(&sl.ld.tmp, LOAD_OBJ_MAX);
    rc = store_collection_get(st, coll_id, &coll);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, coll_id, rc == CTIX_ENOTFOUND ? "no such collection" : "%s",
                      ctix_strerror(rc));
        goto out;
    }
    if (sel == NULL || sel->n_ids == 0) {
        rc = store_rows(st, coll.id, NULL, 0, &sl);
        goto out;
    }
    /* A selection in slices: each query stays far below SQLite's parameter limit. */
    for (size_t i = 0; rc == CTIX_OK && i < sel->n_ids; i += LOAD_IDS) {
        size_t n = sel->n_ids - i < LOAD_IDS ? sel->n_ids - i : LOAD_IDS;

        rc = store_rows(st, coll.id, sel->ids + i, n, &sl);
    }
out:
    buf_cleanup(&sl.ld.tmp);
    return rc;
}

enum ctix_rc scan_load_store(struct store *st, const char *coll_id, scan_ind_fn fn, void *arg,
                             struct scan_load_stats *stats, struct ctix_diag *diag)
{
    return scan_load_store_sel(st, coll_id, NULL, fn, arg, stats, diag);
}
