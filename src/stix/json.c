/* A strict RFC 8259 JSON parser that builds jansson values directly.
 *
 * Why not json_loadb(): its lexer reads one byte at a time through a callback and copies every
 * token into a string buffer, which made parsing the bulk of a TAXII POST. This parser walks the
 * text once with a pointer, finds the end of a string a word at a time, hands strings without
 * escapes to jansson straight from the input, and decodes escaped ones into a reused scratch
 * buffer. It accepts and rejects exactly what json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)
 * does (json_test.c and json_fuzz.c compare the two), so the rest of ctix sees the same values.
 * One deliberate exception: jansson 2.14 drops a NUL byte that directly follows a number or a
 * literal (its look-ahead buffer takes 0 for "empty"), so it accepts "7\0" and "[true\0]"; RFC
 * 8259 allows no NUL outside strings, and neither does this parser.
 *
 * Nesting uses an explicit stack, never recursion: depth is bounded by MAX_DEPTH like jansson's
 * JSON_PARSER_MAX_DEPTH, where a value's depth is the number of containers around it plus one. */
#include "stix/stix.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_int.h"

#define MAX_DEPTH    2048
#define INLINE_DEPTH 32
#define NO_RECORD    SIZE_MAX

_Static_assert(sizeof(json_int_t) == 8, "json_int_t is int64");

struct frame {
    json_t *c; /* borrowed: its parent (or the root reference) owns it */
    bool is_obj;
};

struct scratch {
    char *p;
    size_t cap;
};

struct parser {
    const char *buf, *end;
    const char *err_at; /* where the error is, for line and column */
    char err[96];
    enum ctix_rc rc;
    struct frame *stack;
    size_t n, cap;
    struct frame inline_stack[INLINE_DEPTH];
    struct scratch key, val;
    /* Spans of the elements of the root object's "objects" array, when asked for. */
    bool want_spans;
    size_t rec_depth; /* stack depth inside that array, NO_RECORD when not in it */
    const char *elem_start;
    struct stix_span *spans;
    size_t n_spans, cap_spans;
};

/* 1 for the four whitespace bytes of RFC 8259. */
static const unsigned char ws_tab[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

static void *fail(struct parser *ps, const char *at, const char *fmt, ...) CTIX_PRINTF(3, 4);

/* Records the first error only; returns NULL so that scanners can "return fail(…)". */
static void *fail(struct parser *ps, const char *at, const char *fmt, ...)
{
    va_list ap;

    if (ps->rc != CTIX_OK)
        return NULL;
    ps->rc = CTIX_EINVAL;
    ps->err_at = at;
    va_start(ap, fmt);
    vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
    va_end(ap);
    return NULL;
}

static void *fail_nomem(struct parser *ps, const char *at)
{
    fail(ps, at, "out of memory");
    ps->rc = CTIX_ENOMEM;
    return NULL;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && ws_tab[(unsigned char)*p])
        p++;
    return p;
}

static bool scratch_reserve(struct scratch *s, size_t n)
{
    char *np;
    size_t cap = s->cap < 256 ? 256 : s->cap;

    if (n <= s->cap)
        return true;
    while (cap < n)
        cap *= 2;
    np = realloc(s->p, cap);
    if (np == NULL)
        return false;
    s->p = np;
    s->cap = cap;
    return true;
}

/* Scans a string whose opening quote is at p[-1]. Returns the position after the closing quote,
 * with *s and *n the decoded bytes: pointing into the input when there was no escape, into sc
 * otherwise (valid until sc is used again). NULL on error. */
static const char *scan_string(struct parser *ps, const char *p, struct scratch *sc, const char **s,
                               size_t *n)
{
    const char *start = p, *end = ps->end;
    bool esc = false;

    for (;;) {
        unsigned char c;

        p = ctix_json_plain_end(p, end);
        if (p == end)
            return fail(ps, p, "premature end of input");
        c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c >= 0x80) {
            uint32_t uc; /* the code point is not needed, only the length */
            size_t k = ctix_utf8_decode((const unsigned char *)p, (const unsigned char *)end, &uc);

            if (k == 0)
                return fail(ps, p, "invalid UTF-8 byte 0x%x", c);
            p += k;
        } else if (c < 0x20) {
            if (c == '\n')
                return fail(ps, p, "unexpected newline");
            return fail(ps, p, "control character 0x%x", c);
        } else { /* backslash */
            long cp, lo;

            esc = true;
            if (end - p < 2)
                return fail(ps, end, "premature end of input");
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
                return fail(ps, p, "invalid escape");
            }
            cp = ctix_hex4(p + 2, end);
            if (cp < 0)
                return fail(ps, p, "invalid Unicode escape");
            if (cp == 0)
                return fail(ps, p, "\\u0000 is not allowed");
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail(ps, p, "invalid Unicode '\\u%04lX'", cp);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
                    return fail(ps, p, "invalid Unicode '\\u%04lX'", cp);
                lo = ctix_hex4(p + 8, end);
                if (lo < 0)
                    return fail(ps, p + 6, "invalid Unicode escape");
                if (lo < 0xdc00 || lo > 0xdfff)
                    return fail(ps, p, "invalid Unicode '\\u%04lX\\u%04lX'", cp, lo);
                p += 6;
            }
            p += 6;
        }
    }
    if (!esc) {
        *s = start;
        *n = (size_t)(p - start);
    } else {
        if (!scratch_reserve(sc, (size_t)(p - start)))
            return fail_nomem(ps, p);
        *s = sc->p;
        *n = ctix_json_unescape(start, p, sc->p);
    }
    return p + 1;
}

/* Scans a number at p; *v gets a new integer or real. NULL on error. */
static const char *scan_number(struct parser *ps, const char *p, json_t **v)
{
    const char *start = p, *end = ps->end, *digits;
    bool neg = false, real = false;

    if (*p == '-') {
        neg = true;
        p++;
    }
    digits = p;
    if (p == end || *p < '0' || *p > '9')
        return fail(ps, start, "invalid number");
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return fail(ps, start, "invalid number (leading zero)");
    } else {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && *p == '.') {
        real = true;
        p++;
        if (p == end || *p < '0' || *p > '9')
            return fail(ps, start, "invalid number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return fail(ps, start, "invalid number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (!real) {
        /* Like jansson (strtoll): what does not fit json_int_t is an error, not a real. */
        uint64_t u = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        json_int_t i;

        for (const char *d = digits; d < p; d++) {
            unsigned dv = (unsigned)(*d - '0');

            if (u > (limit - dv) / 10)
                return fail(ps, start, neg ? "too big negative integer" : "too big integer");
            u = u * 10 + dv;
        }
        if (!neg)
            i = (json_int_t)u;
        else if (u == (uint64_t)INT64_MAX + 1)
            i = INT64_MIN;
        else
            i = -(json_int_t)u;
        *v = json_integer(i);
    } else {
        char small[64], *nb = small;
        size_t len = (size_t)(p - start);
        double d;

        if (len >= sizeof(small)) {
            if (!scratch_reserve(&ps->val, len + 1))
                return fail_nomem(ps, p);
            nb = ps->val.p;
        }
        memcpy(nb, start, len);
        nb[len] = '\0';
        /* strtod as jansson does: underflow gives 0 or a denormal (accepted), overflow inf. */
        d = strtod(nb, NULL);
        if (isinf(d))
            return fail(ps, start, "real number overflow");
        *v = json_real(d);
    }
    if (*v == NULL)
        return fail_nomem(ps, p);
    return p;
}

static bool stack_push(struct parser *ps, json_t *c, bool is_obj)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap * 2;
        struct frame *ns;

        if (ps->stack == ps->inline_stack) {
            ns = malloc(cap * sizeof(*ns));
            if (ns != NULL)
                memcpy(ns, ps->stack, ps->n * sizeof(*ns));
        } else {
            ns = realloc(ps->stack, cap * sizeof(*ns));
        }
        if (ns == NULL)
            return false;
        ps->stack = ns;
        ps->cap = cap;
    }
    ps->stack[ps->n].c = c;
    ps->stack[ps->n].is_obj = is_obj;
    ps->n++;
    return true;
}

static bool span_add(struct parser *ps, const char *end)
{
    if (ps->n_spans == ps->cap_spans) {
        size_t cap = ps->cap_spans == 0 ? 64 : ps->cap_spans * 2;
        struct stix_span *ns = realloc(ps->spans, cap * sizeof(*ns));

        if (ns == NULL)
            return false;
        ps->spans = ns;
        ps->cap_spans = cap;
    }
    ps->spans[ps->n_spans].off = (size_t)(ps->elem_start - ps->buf);
    ps->spans[ps->n_spans].len = (size_t)(end - ps->elem_start);
    ps->n_spans++;
    return true;
}

/* Puts v (a new reference, always consumed) into the container on top of the stack, or makes it
 * the root. */
static bool attach(struct parser *ps, json_t **root, json_t *v, const char *key, size_t key_len,
                   const char *key_at)
{
    struct frame *top;
    size_t before;

    if (ps->n == 0) {
        *root = v;
        return true;
    }
    top = &ps->stack[ps->n - 1];
    if (!top->is_obj) {
        if (json_array_append_new(top->c, v) != 0)
            return fail_nomem(ps, key_at) != NULL;
        return true;
    }
    /* One hash lookup instead of two: a duplicate replaces the old member, so the size stays. */
    before = json_object_size(top->c);
    if (json_object_setn_new_nocheck(top->c, key, key_len, v) != 0)
        return fail_nomem(ps, key_at) != NULL;
    if (json_object_size(top->c) == before)
        return fail(ps, key_at, "duplicate object key") != NULL;
    return true;
}

static bool lit(const char *p, const char *end, const char *word, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* The whole text; *root gets the value or stays NULL on error (ps->rc says which). */
static void parse_text(struct parser *ps, json_t **root)
{
    const char *p = ps->buf, *end = ps->end, *key = NULL, *key_at = NULL, *s;
    size_t key_len = 0, n;
    json_t *v = NULL;

value:
    p = skip_ws(p, end);
    if (p == end) {
        fail(ps, p, "premature end of input");
        goto out;
    }
    if (ps->n >= MAX_DEPTH) {
        fail(ps, p, "maximum parsing depth reached");
        goto out;
    }
    if (ps->n == ps->rec_depth)
        ps->elem_start = p;
    switch (*p) {
    case '{':
    case '[': {
        bool is_obj = *p == '{';
        bool rec = ps->want_spans && !is_obj && ps->n == 1 && ps->stack[0].is_obj && key_len == 7 &&
                   memcmp(key, "objects", 7) == 0;

        v = is_obj ? json_object() : json_array();
        if (v == NULL) {
            fail_nomem(ps, p);
            goto out;
        }
        if (!attach(ps, root, v, key, key_len, key_at))
            goto out;
        if (!stack_push(ps, v, is_obj)) {
            fail_nomem(ps, p);
            goto out;
        }
        if (rec)
            ps->rec_depth = ps->n;
        p = skip_ws(p + 1, end);
        if (p < end && *p == (is_obj ? '}' : ']')) {
            p++;
            goto closed;
        }
        if (is_obj)
            goto key;
        goto value;
    }
    case '"':
        p = scan_string(ps, p + 1, &ps->val, &s, &n);
        if (p == NULL)
            goto out;
        v = json_stringn_nocheck(s, n);
        break;
    case 't':
        if (!lit(p, end, "true", 4))
            goto bad_token;
        p += 4;
        v = json_true();
        break;
    case 'f':
        if (!lit(p, end, "false", 5))
            goto bad_token;
        p += 5;
        v = json_false();
        break;
    case 'n':
        if (!lit(p, end, "null", 4))
            goto bad_token;
        p += 4;
        v = json_null();
        break;
    default:
        if (*p != '-' && (*p < '0' || *p > '9'))
            goto bad_token;
        p = scan_number(ps, p, &v);
        if (p == NULL)
            goto out;
        break;
    }
    if (v == NULL) {
        fail_nomem(ps, p);
        goto out;
    }
    if (!attach(ps, root, v, key, key_len, key_at))
        goto out;
    if (ps->n == ps->rec_depth && !span_add(ps, p)) {
        fail_nomem(ps, p);
        goto out;
    }

after:
    p = skip_ws(p, end);
    if (ps->n == 0) {
        if (p != end)
            fail(ps, p, "end of file expected");
        goto out;
    }
    if (p == end) {
        fail(ps, p, "premature end of input");
        goto out;
    }
    if (ps->stack[ps->n - 1].is_obj) {
        if (*p == ',') {
            p = skip_ws(p + 1, end);
            goto key;
        }
        if (*p == '}') {
            p++;
            goto closed;
        }
        fail(ps, p, "',' or '}' expected");
        goto out;
    }
    if (*p == ',') {
        p++;
        goto value;
    }
    if (*p == ']') {
        p++;
        goto closed;
    }
    fail(ps, p, "',' or ']' expected");
    goto out;

closed:
    if (ps->n == ps->rec_depth)
        ps->rec_depth = NO_RECORD; /* the "objects" array itself is done */
    ps->n--;
    if (ps->n == ps->rec_depth && !span_add(ps, p)) {
        fail_nomem(ps, p);
        goto out;
    }
    goto after;

key:
    if (p == end) {
        fail(ps, p, "premature end of input");
        goto out;
    }
    if (*p != '"') {
        fail(ps, p, "string or '}' expected");
        goto out;
    }
    key_at = p;
    p = scan_string(ps, p + 1, &ps->key, &key, &key_len);
    if (p == NULL)
        goto out;
    p = skip_ws(p, end);
    if (p == end || *p != ':') {
        fail(ps, p, "':' expected");
        goto out;
    }
    p++;
    goto value;

bad_token:
    fail(ps, p, "invalid token");
out:
    if (ps->rc != CTIX_OK) {
        json_decref(*root);
        *root = NULL;
    }
}

/* 1-based line and column (in characters, not bytes) of at. */
static void line_col(const char *buf, const char *at, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;

    for (const char *p = buf; p < at; p++) {
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

enum ctix_rc stix__json_parse(const char *buf, size_t len, json_t **out, struct stix_span **spans,
                              size_t *n_spans, struct ctix_diag *diag)
{
    struct parser ps;
    json_t *root = NULL;

    memset(&ps, 0, sizeof(ps));
    ps.buf = buf != NULL ? buf : "";
    ps.end = ps.buf + (buf != NULL ? len : 0);
    ps.rc = CTIX_OK;
    ps.stack = ps.inline_stack;
    ps.cap = INLINE_DEPTH;
    ps.want_spans = spans != NULL;
    ps.rec_depth = NO_RECORD;
    parse_text(&ps, &root);
    if (ps.rc != CTIX_OK) {
        unsigned line, col;

        line_col(ps.buf, ps.err_at, &line, &col);
        if (ps.rc == CTIX_ENOMEM)
            ctix_diag_set(diag, NULL, "out of memory");
        else
            ctix_diag_set(diag, NULL, "JSON syntax error at line %u column %u: %s", line, col,
                          ps.err);
        if (diag != NULL) {
            diag->line = line;
            diag->col = col;
        }
        free(ps.spans);
    } else {
        *out = root;
        if (spans != NULL) {
            *spans = ps.spans;
            *n_spans = ps.n_spans;
        }
    }
    if (ps.stack != ps.inline_stack)
        free(ps.stack);
    free(ps.key.p);
    free(ps.val.p);
    return ps.rc;
}

enum ctix_rc stix_json_parse(const char *buf, size_t len, json_t **out, struct ctix_diag *diag)
{
    return stix__json_parse(buf, len, out, NULL, NULL, diag);
}

enum ctix_rc stix_json_parse_spans(const char *buf, size_t len, json_t **out,
                                   struct stix_span **spans, size_t *n_spans,
                                   struct ctix_diag *diag)
{
    return stix__json_parse(buf, len, out, spans, n_spans, diag);
}

char *stix_json_compact(const char *p, size_t len, size_t *out_len)
{
    const char *end = p + len;
    char *o = malloc(len + 1), *q = o;

    if (o == NULL)
        goto out;
    while (p < end) {
        if (ws_tab[(unsigned char)*p]) {
            p++;
            continue;
        }
        if (*p != '"') {
            *q++ = *p++;
            continue;
        }
        /* A string, byte for byte up to its closing quote; escapes are skipped in pairs. */
        *q++ = *p++;
        while (p < end) {
            const char *r = ctix_json_plain_end(p, end);

            memcpy(q, p, (size_t)(r - p));
            q += r - p;
            p = r;
            if (p == end)
                break;
            if (*p == '"') {
                *q++ = *p++;
                break;
            }
            if (*p == '\\' && end - p >= 2)
                *q++ = *p++;
            *q++ = *p++;
        }
    }
    *q = '\0';
    if (out_len != NULL)
        *out_len = (size_t)(q - o);
out:
    return o;
}
