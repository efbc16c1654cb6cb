/* The STIX 2.1 pattern lexer: STIXPattern.g4's tokens by hand. Longest match as ANTLR does
 * (keywords are whole identifiers, h'/b'/t' literals win over the identifiers h, b, t), with the
 * literal forms checked here so that the parser only converts. Every byte is checked for UTF-8,
 * also inside strings and comments; columns count characters, not bytes. */
#include <stdio.h>
#include <string.h>

#include "pattern/pattern_int.h"

static const struct {
    const char *name;
    enum pat_tok_kind kind;
    size_t len;
} keywords[] = {
    {"AND", PAT_T_AND, 3},
    {"OR", PAT_T_OR, 2},
    {"NOT", PAT_T_NOT, 3},
    {"FOLLOWEDBY", PAT_T_FOLLOWEDBY, 10},
    {"LIKE", PAT_T_LIKE, 4},
    {"MATCHES", PAT_T_MATCHES, 7},
    {"ISSUPERSET", PAT_T_ISSUPERSET, 10},
    {"ISSUBSET", PAT_T_ISSUBSET, 8},
    {"EXISTS", PAT_T_EXISTS, 6},
    {"LAST", PAT_T_LAST, 4},
    {"IN", PAT_T_IN, 2},
    {"START", PAT_T_START, 5},
    {"STOP", PAT_T_STOP, 4},
    {"SECONDS", PAT_T_SECONDS, 7},
    {"WITHIN", PAT_T_WITHIN, 6},
    {"REPEATS", PAT_T_REPEATS, 7},
    {"TIMES", PAT_T_TIMES, 5},
    {"true", PAT_T_TRUE, 4},
    {"false", PAT_T_FALSE, 5},
};

void pattern__lex_init(struct pat_lexer *lx, const char *s, size_t len)
{
    lx->s = s;
    lx->cur = s;
    lx->end = s + len;
    lx->line = 1;
    lx->col = 1;
}

/* B2's whitespace set. */
static bool is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(int c)
{
    return is_ident_start(c) || is_digit(c) || c == '-';
}

static bool is_b64(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '+' || c == '/';
}

/* Moves over n bytes already known to be valid UTF-8 without a newline. */
static void advance(struct pat_lexer *lx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)lx->cur[i] & 0xc0) != 0x80)
            lx->col++;
    }
    lx->cur += n;
}

static enum ctix_rc lex_error(struct pat_lexer *lx, uint32_t line, uint32_t col,
                              struct ctix_diag *diag, const char *msg)
{
    (void)lx;
    ctix_diag_set(diag, "pattern", "%s", msg);
    if (diag) {
        diag->line = line;
        diag->col = col;
    }
    return CTIX_EINVAL;
}

/* Checks the UTF-8 sequence at cur; on success *n is its length. */
static enum ctix_rc check_utf8(struct pat_lexer *lx, uint32_t *cp, size_t *n,
                               struct ctix_diag *diag)
{
    char msg[64];

    *n = ctix_utf8_decode((const unsigned char *)lx->cur, (const unsigned char *)lx->end, cp);
    if (*n > 0)
        return CTIX_OK;
    snprintf(msg, sizeof(msg), "invalid UTF-8 (byte 0x%02X)", (unsigned char)*lx->cur);
    return lex_error(lx, lx->line, lx->col, diag, msg);
}

/* Skips whitespace and comments. */
static enum ctix_rc skip_space(struct pat_lexer *lx, struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_OK;
    uint32_t cp;
    size_t n;

    while (lx->cur < lx->end) {
        unsigned char c = (unsigned char)*lx->cur;

        if (c == '\n') {
            lx->cur++;
            lx->line++;
            lx->col = 1;
        } else if (c < 0x80 && c != '/') { /* ASCII needs no decoding */
            if (!is_space(c))
                break;
            lx->cur++;
            lx->col++;
        } else if (c == '/' && lx->end - lx->cur >= 2 && lx->cur[1] == '/') {
            advance(lx, 2);
            while (lx->cur < lx->end && *lx->cur != '\n' && *lx->cur != '\r') {
                rc = check_utf8(lx, &cp, &n, diag);
                if (rc != CTIX_OK)
                    goto out;
                advance(lx, n);
            }
        } else if (c == '/' && lx->end - lx->cur >= 2 && lx->cur[1] == '*') {
            uint32_t line = lx->line, col = lx->col;
            bool closed = false;

            advance(lx, 2);
            while (lx->cur < lx->end) {
                if (*lx->cur == '*' && lx->end - lx->cur >= 2 && lx->cur[1] == '/') {
                    advance(lx, 2);
                    closed = true;
                    break;
                }
                if (*lx->cur == '\n') {
                    lx->cur++;
                    lx->line++;
                    lx->col = 1;
                    continue;
                }
                rc = check_utf8(lx, &cp, &n, diag);
                if (rc != CTIX_OK)
                    goto out;
                advance(lx, n);
            }
            if (!closed) {
                rc = lex_error(lx, line, col, diag, "unterminated comment '/*'");
                goto out;
            }
        } else {
            rc = check_utf8(lx, &cp, &n, diag);
            if (rc != CTIX_OK)
                goto out;
            if (!is_space(cp))
                break;
            advance(lx, n);
        }
    }
out:
    return rc;
}

/* '...' starting at cur (the quote): checks escapes and UTF-8, moves past the closing quote. */
static enum ctix_rc lex_string(struct pat_lexer *lx, struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_OK;
    uint32_t line = lx->line, col = lx->col, cp;
    size_t n;
    char msg[96];

    advance(lx, 1);
    for (;;) {
        if (lx->cur >= lx->end) {
            rc = lex_error(lx, line, col, diag, "unterminated string literal");
            goto out;
        }
        if (*lx->cur == '\'') {
            advance(lx, 1);
            break;
        }
        if (*lx->cur == '\\') {
            if (lx->end - lx->cur < 2) {
                rc = lex_error(lx, line, col, diag, "unterminated string literal");
                goto out;
            }
            if (lx->cur[1] == '\'' || lx->cur[1] == '\\') {
                advance(lx, 2);
                continue;
            }
            n = ctix_utf8_decode((const unsigned char *)lx->cur + 1, (const unsigned char *)lx->end,
                                 &cp);
            if (n == 0 || cp < 0x20 || cp == 0x7f)
                snprintf(msg, sizeof(msg),
                         "invalid escape in string literal (only \\' and \\\\ are allowed)");
            else
                snprintf(msg, sizeof(msg),
                         "invalid escape '\\%.*s' in string literal (only \\' and \\\\)", (int)n,
                         lx->cur + 1);
            rc = lex_error(lx, lx->line, lx->col, diag, msg);
            goto out;
        }
        if (*lx->cur == '\n') {
            lx->cur++;
            lx->line++;
            lx->col = 1;
            continue;
        }
        if ((unsigned char)*lx->cur < 0x80) { /* the common case, without decoding */
            lx->cur++;
            lx->col++;
            continue;
        }
        rc = check_utf8(lx, &cp, &n, diag);
        if (rc != CTIX_OK)
            goto out;
        advance(lx, n);
    }
out:
    return rc;
}

/* The body of h'..', b'..' or t'..' must be ASCII up to the closing quote: returns its end, or
 * NULL when the quote is missing. Stops at a newline (no literal spans lines). */
static const char *literal_end(const char *p, const char *end)
{
    while (p < end && *p != '\'' && *p != '\n')
        p++;
    return p < end && *p == '\'' ? p : NULL;
}

/* The body of h'..', b'..' or t'..' holds only ASCII when valid; invalid UTF-8 in it is
 * reported as such, at its own column. */
static enum ctix_rc check_ascii_body(struct pat_lexer *lx, const char *body, const char *close,
                                     struct ctix_diag *diag)
{
    uint32_t col = lx->col + 2, cp;
    char msg[64];

    for (const char *p = body; p < close;) {
        size_t n = ctix_utf8_decode((const unsigned char *)p, (const unsigned char *)close, &cp);
        if (n == 0) {
            snprintf(msg, sizeof(msg), "invalid UTF-8 (byte 0x%02X)", (unsigned char)*p);
            return lex_error(lx, lx->line, col, diag, msg);
        }
        p += n;
        col++;
    }
    return CTIX_OK;
}

static enum ctix_rc lex_hex(struct pat_lexer *lx, const char *body, const char *close,
                            struct ctix_diag *diag)
{
    uint32_t line = lx->line, col = lx->col;
    char msg[96];

    for (const char *p = body; p < close; p++) {
        if (ctix_hexval(*p) < 0) {
            if ((unsigned char)*p < 0x80 && (unsigned char)*p >= 0x20)
                snprintf(msg, sizeof(msg), "invalid hex digit '%c' in h'...'", *p);
            else
                snprintf(msg, sizeof(msg), "invalid character in h'...'");
            return lex_error(lx, line, col, diag, msg);
        }
    }
    if ((close - body) % 2 != 0)
        return lex_error(lx, line, col, diag, "odd number of hex digits in h'...'");
    return CTIX_OK;
}

static enum ctix_rc lex_bin(struct pat_lexer *lx, const char *body, const char *close,
                            struct ctix_diag *diag)
{
    uint32_t line = lx->line, col = lx->col;
    size_t n = (size_t)(close - body), pad = 0;

    if (n < 4 || n % 4 != 0)
        return lex_error(lx, line, col, diag,
                         "b'...' needs base64 in groups of 4 characters (at least one group)");
    if (body[n - 1] == '=')
        pad = body[n - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < n - pad; i++) {
        if (!is_b64((unsigned char)body[i]))
            return lex_error(lx, line, col, diag, "invalid base64 character in b'...'");
    }
    return CTIX_OK;
}

static bool two_digits(const char *p, unsigned lo, unsigned hi, unsigned *v)
{
    if (!is_digit(p[0]) || !is_digit(p[1]))
        return false;
    *v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
    return *v >= lo && *v <= hi;
}

/* t'YYYY-MM-DDThh:mm:ss[.d+]Z' with the grammar's ranges (DD 01-31 whatever the month). */
static enum ctix_rc lex_ts(struct pat_lexer *lx, const char *b, const char *close,
                           struct ctix_diag *diag)
{
    uint32_t line = lx->line, col = lx->col;
    size_t n = (size_t)(close - b), i;
    unsigned v;
    const char *what = NULL;

    if (n < 20 || !is_digit(b[0]) || !is_digit(b[1]) || !is_digit(b[2]) || !is_digit(b[3]) ||
        b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':') {
        what = "invalid timestamp (expected t'YYYY-MM-DDThh:mm:ss[.fraction]Z')";
        goto out;
    }
    if (!two_digits(b + 5, 1, 12, &v))
        what = "invalid timestamp: month out of range (01-12)";
    else if (!two_digits(b + 8, 1, 31, &v))
        what = "invalid timestamp: day out of range (01-31)";
    else if (!two_digits(b + 11, 0, 23, &v))
        what = "invalid timestamp: hour out of range (00-23)";
    else if (!two_digits(b + 14, 0, 59, &v))
        what = "invalid timestamp: minute out of range (00-59)";
    else if (!two_digits(b + 17, 0, 60, &v))
        what = "invalid timestamp: second out of range (00-60)";
    if (what)
        goto out;
    i = 19;
    if (b[i] == '.') {
        i++;
        if (i >= n || !is_digit(b[i])) {
            what = "invalid timestamp: a '.' needs digits after it";
            goto out;
        }
        while (i < n && is_digit(b[i]))
            i++;
    }
    if (i != n - 1 || b[i] != 'Z')
        what = "invalid timestamp (expected t'YYYY-MM-DDThh:mm:ss[.fraction]Z', uppercase T "
               "and Z)";
out:
    if (what)
        return lex_error(lx, line, col, diag, what);
    return CTIX_OK;
}

/* A number at cur: [+-] then digits [. digits] or . digits. */
static enum ctix_rc lex_number(struct pat_lexer *lx, struct pat_tok *t, struct ctix_diag *diag)
{
    const char *p = lx->cur, *d0;
    size_t nd;
    char msg[128];

    if (*p == '+' || *p == '-')
        p++;
    d0 = p;
    while (p < lx->end && is_digit(*p))
        p++;
    nd = (size_t)(p - d0);
    if (p < lx->end && *p == '.' && p + 1 < lx->end && is_digit(p[1])) {
        p++;
        while (p < lx->end && is_digit(*p))
            p++;
        t->kind = PAT_T_FLOAT;
    } else if (nd == 0) {
        snprintf(msg, sizeof(msg), "'%c' must be followed by a number", *lx->cur);
        return lex_error(lx, lx->line, lx->col, diag, msg);
    } else if (p < lx->end && *p == '.') {
        return lex_error(lx, lx->line, lx->col, diag,
                         "a float needs digits after the '.' (write 5.0, not 5.)");
    } else {
        if (nd > 1 && *d0 == '0')
            return lex_error(lx, lx->line, lx->col, diag,
                             "leading zeros are not allowed in an integer");
        t->kind = PAT_T_INT;
    }
    t->n = (size_t)(p - lx->cur);
    advance(lx, t->n);
    return CTIX_OK;
}

static enum ctix_rc lex_ident(struct pat_lexer *lx, struct pat_tok *t, struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_OK;
    const char *p = lx->cur, *close;

    while (p < lx->end && is_ident_char(*p)) {
        if (*p == '-')
            t->hyphen = true;
        p++;
    }
    t->n = (size_t)(p - lx->cur);
    if (t->n == 1 && p < lx->end && *p == '\'' && strchr("hbt", *lx->cur) != NULL) {
        close = literal_end(p + 1, lx->end);
        if (close == NULL) {
            char msg[64];
            snprintf(msg, sizeof(msg), "unterminated %c'...' literal", *lx->cur);
            rc = lex_error(lx, lx->line, lx->col, diag, msg);
            goto out;
        }
        rc = check_ascii_body(lx, p + 1, close, diag);
        if (rc != CTIX_OK)
            goto out;
        if (*lx->cur == 'h') {
            t->kind = PAT_T_HEX;
            rc = lex_hex(lx, p + 1, close, diag);
        } else if (*lx->cur == 'b') {
            t->kind = PAT_T_BIN;
            rc = lex_bin(lx, p + 1, close, diag);
        } else {
            t->kind = PAT_T_TS;
            rc = lex_ts(lx, p + 1, close, diag);
        }
        if (rc != CTIX_OK)
            goto out;
        t->n = (size_t)(close + 1 - lx->cur);
        advance(lx, t->n);
        goto out;
    }
    t->kind = PAT_T_IDENT;
    /* Keywords are uppercase, plus true and false: most names need no lookup. */
    if ((*lx->cur >= 'A' && *lx->cur <= 'Z') || *lx->cur == 't' || *lx->cur == 'f') {
        for (size_t i = 0; i < CTIX_ARRAY_LEN(keywords); i++) {
            if (keywords[i].len == t->n && memcmp(keywords[i].name, lx->cur, t->n) == 0) {
                t->kind = keywords[i].kind;
                break;
            }
        }
    }
    advance(lx, t->n);
out:
    return rc;
}

enum ctix_rc pattern__lex_next(struct pat_lexer *lx, struct pat_tok *t, struct ctix_diag *diag)
{
    enum ctix_rc rc;
    const char *p;
    size_t rest;
    char c;

    rc = skip_space(lx, diag);
    if (rc != CTIX_OK)
        goto out;
    memset(t, 0, sizeof(*t));
    t->p = lx->cur;
    t->line = lx->line;
    t->col = lx->col;
    if (lx->cur >= lx->end) {
        t->kind = PAT_T_EOF;
        goto out;
    }
    p = lx->cur;
    rest = (size_t)(lx->end - p);
    c = *p;
    t->n = 1;
    switch (c) {
    case '[':
        t->kind = PAT_T_LBRACK;
        break;
    case ']':
        t->kind = PAT_T_RBRACK;
        break;
    case '(':
        t->kind = PAT_T_LPAREN;
        break;
    case ')':
        t->kind = PAT_T_RPAREN;
        break;
    case ':':
        t->kind = PAT_T_COLON;
        break;
    case ',':
        t->kind = PAT_T_COMMA;
        break;
    case '*':
        t->kind = PAT_T_STAR;
        break;
    case '=':
        t->kind = PAT_T_EQ;
        t->n = rest >= 2 && p[1] == '=' ? 2 : 1;
        break;
    case '!':
        if (rest < 2 || p[1] != '=') {
            rc = lex_error(lx, lx->line, lx->col, diag, "unexpected '!' (did you mean '!=')");
            goto out;
        }
        t->kind = PAT_T_NE;
        t->n = 2;
        break;
    case '<':
        if (rest >= 2 && p[1] == '=') {
            t->kind = PAT_T_LE;
            t->n = 2;
        } else if (rest >= 2 && p[1] == '>') {
            t->kind = PAT_T_NE;
            t->n = 2;
        } else {
            t->kind = PAT_T_LT;
        }
        break;
    case '>':
        t->kind = PAT_T_GT;
        if (rest >= 2 && p[1] == '=') {
            t->kind = PAT_T_GE;
            t->n = 2;
        }
        break;
    case '.':
        if (rest >= 2 && is_digit(p[1])) {
            rc = lex_number(lx, t, diag);
            goto out;
        }
        t->kind = PAT_T_DOT;
        break;
    case '\'':
        t->kind = PAT_T_STR;
        rc = lex_string(lx, diag);
        if (rc == CTIX_OK)
            t->n = (size_t)(lx->cur - p);
        goto out;
    default:
        if (is_digit(c) || c == '+' || c == '-') {
            rc = lex_number(lx, t, diag);
            goto out;
        }
        if (is_ident_start(c)) {
            rc = lex_ident(lx, t, diag);
            goto out;
        } else {
            char msg[64];
            uint32_t cp;
            size_t n =
                ctix_utf8_decode((const unsigned char *)p, (const unsigned char *)lx->end, &cp);

            if ((unsigned char)c < 0x20 || c == 0x7f)
                snprintf(msg, sizeof(msg), "unexpected control character 0x%02X", (unsigned char)c);
            else
                snprintf(msg, sizeof(msg), "unexpected character '%.*s'", (int)n, p);
            rc = lex_error(lx, lx->line, lx->col, diag, msg);
            goto out;
        }
    }
    advance(lx, t->n);
out:
    return rc;
}

const char *pattern__keyword_name(enum pat_tok_kind k)
{
    for (size_t i = 0; i < CTIX_ARRAY_LEN(keywords); i++) {
        if (keywords[i].kind == k)
            return keywords[i].name;
    }
    return NULL;
}

bool pattern__is_keyword(const char *s, size_t n)
{
    for (size_t i = 0; i < CTIX_ARRAY_LEN(keywords); i++) {
        if (keywords[i].len == n && memcmp(keywords[i].name, s, n) == 0)
            return true;
    }
    return false;
}

void pattern__tok_describe(const struct pat_tok *t, char *out, size_t n)
{
    size_t len = t->n, cut;

    if (t->kind == PAT_T_EOF) {
        snprintf(out, n, "end of pattern");
        return;
    }
    if (len > 40) {
        /* Cut at a character boundary. */
        cut = 40;
        while (cut > 0 && ((unsigned char)t->p[cut] & 0xc0) == 0x80)
            cut--;
        snprintf(out, n, "'%.*s...'", (int)cut, t->p);
        return;
    }
    snprintf(out, n, "'%.*s'", (int)len, t->p);
}
