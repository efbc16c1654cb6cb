/* scan/ free-text extractor: every address, URL, e-mail address, host name and hash in a line of
 * text, with the boundaries a person would draw (1.2.3.4 is not in 11.2.3.45, evil.example is
 * not in notevil.example).
 *
 * One pass, linear: bytes that cannot start an observable are skipped with a class table; a
 * "word" (a run of letters, digits, '.', '-', '_') is read once, with the OR and AND of its
 * bytes' classes, and only words whose classes allow it are looked at further (most log words
 * are short and without dots: they cost the scan and nothing more). Look-backs are bounded (an
 * e-mail local part, 64 bytes) and look-aheads that could repeat are cached (the local-part run,
 * a refused '@'), so no input is quadratic. */
#include "scan/scan_int.h"

#include <string.h>

/* Character classes. X_LOCAL is the e-mail local part as found in text (the common
 * [A-Za-z0-9._%+-]: "user=a@b.example" gives a@b.example), X_URLSTOP ends a URL (white space,
 * quotes, '<', '>', controls), X_START may start a word, X_SEP is '-' and '_', X_TRIG the bytes
 * every observable but a hash holds ('.', ':', '@'). */
// clang-format off
#define X_DIGIT   0x0001
#define X_HEX     0x0002
#define X_ALPHA   0x0004
#define X_ALNUM   0x0008
#define X_WORD    0x0010
#define X_LOCAL   0x0020
#define X_V6      0x0040
#define X_URLSTOP 0x0080
#define X_START   0x0100
#define X_SEP     0x0200
#define X_DOT     0x0400
#define X_SCHEME  0x0800
#define X_TRIG    0x1000
static const uint16_t xcls[256] = {
    0x080, 0x080, 0x080, 0x080, 0x080, 0x080, 0x080, 0x080,
    0x080, 0x080, 0x080, 0x080, 0x080, 0x080, 0x080, 0x080,
    0x080, 0x080, 0x080, 0x080, 0x080, 0x080, 0x080, 0x080,
    0x080, 0x080, 0x080, 0x080, 0x080, 0x080, 0x080, 0x080,
    0x080, 0x000, 0x080, 0x000, 0x000, 0x020, 0x000, 0x080,
    0x000, 0x000, 0x000, 0x820, 0x000, 0xa30, 0x1c70, 0x000,
    0x97b, 0x97b, 0x97b, 0x97b, 0x97b, 0x97b, 0x97b, 0x97b,
    0x97b, 0x97b, 0x1140, 0x000, 0x080, 0x000, 0x080, 0x000,
    0x1000, 0x97e, 0x97e, 0x97e, 0x97e, 0x97e, 0x97e, 0x93c,
    0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c,
    0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c,
    0x93c, 0x93c, 0x93c, 0x000, 0x000, 0x000, 0x000, 0x330,
    0x080, 0x97e, 0x97e, 0x97e, 0x97e, 0x97e, 0x97e, 0x93c,
    0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c,
    0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c, 0x93c,
    0x93c, 0x93c, 0x93c, 0x000, 0x000, 0x000, 0x000, 0x080,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
};
// clang-format on

#define XC(c) xcls[(unsigned char)(c)]

/* The shortest hash (MD5): a run of this many hex digits is looked at. */
#define HASH_MIN 32

static void add_v4(struct scan_rec *r, uint32_t v, uint32_t off, size_t len)
{
    struct scan_obs o;

    o.kind = SCAN_IPV4;
    o.off = off;
    o.len = (uint32_t)len;
    o.u.v4 = v;
    (void)scan_rec_add(r, &o);
}

/* A normalised string: the text itself when the normal form starts it, else the scratch. */
static void add_s(struct scan_rec *r, enum scan_kind kind, const char *raw, const char *norm,
                  size_t m, uint32_t off, size_t len)
{
    struct scan_obs o;

    o.kind = (uint8_t)kind;
    o.off = off;
    o.len = (uint32_t)len;
    if (memcmp(norm, raw, m) == 0) {
        o.u.s.p = raw;
    } else {
        o.u.s.p = norm;
        r->scratch_len += m;
    }
    o.u.s.n = (uint32_t)m;
    (void)scan_rec_add(r, &o);
}

static void add_hash(struct scan_rec *r, const char *p, size_t len, uint32_t off)
{
    char *out = scan_rec_scratch(r, len);
    int kind;

    if (out == NULL)
        return;
    kind = scan_hash_norm(p, len, out);
    if (kind >= 0)
        add_s(r, (enum scan_kind)kind, p, out, len, off, len);
}

/* An IPv6 address starting at p[s] (which is not preceded by an address byte or alnum): the
 * run of hex digits, ':' and '.', without trailing dots (a sentence's end) or a single trailing
 * ':' ("at 2001:db8::1: refused"). Its end, or 0. */
static size_t v6_at(struct scan_rec *r, const char *p, size_t n, size_t s, uint32_t off)
{
    size_t e = s, f, ncolon = 0;
    uint8_t v6[16];
    struct scan_obs o;

    /* 45 bytes is the longest address: a longer run is none (and the cap keeps this linear). */
    while (e < n && (XC(p[e]) & X_V6) && e - s <= 46) {
        ncolon += p[e] == ':';
        e++;
    }
    if (ncolon < 2 || e - s > 46 || (e < n && (XC(p[e]) & X_ALNUM)))
        return 0;
    f = e;
    while (f > s && p[f - 1] == '.')
        f--;
    if (!scan_ipv6_parse(p + s, f - s, v6)) {
        if (f - s < 3 || p[f - 1] != ':' || p[f - 2] == ':')
            return 0;
        f--;
        if (!scan_ipv6_parse(p + s, f - s, v6))
            return 0;
    }
    o.kind = SCAN_IPV6;
    o.off = off + (uint32_t)s;
    o.len = (uint32_t)(f - s);
    memcpy(o.u.v6, v6, 16);
    (void)scan_rec_add(r, &o);
    return f;
}

/* A URL whose scheme starts at p[s]: up to a stop byte, without a trailing . , ) ; :. Its end,
 * or 0 when it is no URL after all. */
static size_t url_at(struct scan_rec *r, const char *p, size_t n, size_t s, uint32_t off)
{
    size_t e = s;

    while (e < n && !(XC(p[e]) & X_URLSTOP))
        e++;
    while (e > s) {
        char c = p[e - 1];

        if (c != '.' && c != ',' && c != ')' && c != ';' && c != ':')
            break;
        e--;
    }
    if (scan_value_add(r, p + s, e - s, off + (uint32_t)s) == 0)
        return 0;
    return e;
}

/* A host name at p[s..e) (a word without its trailing dots) whose last label is letters only. */
static void domain_at(struct scan_rec *r, const char *p, size_t s, size_t e, uint32_t off)
{
    size_t k = e, m;
    char *out;

    while (k > s && (XC(p[k - 1]) & X_ALPHA))
        k--;
    if (k == e || k == s || p[k - 1] != '.')
        return;
    out = scan_rec_scratch(r, e - s);
    if (out == NULL)
        return;
    m = scan_domain_norm(p + s, e - s, out);
    if (m > 0)
        add_s(r, SCAN_DOMAIN, p + s, out, m, off + (uint32_t)s, e - s);
}

/* The e-mail address around the '@' at p[at]: a local part of at most 64 bytes before it and a
 * host name (letters-only last label) after it. Its end, or 0. */
static size_t email_at(struct scan_rec *r, const char *p, size_t n, size_t at, size_t done,
                       uint32_t off)
{
    size_t ls = at, de = at + 1, e;

    /* not into text already looked at ("1.2.3.4+x@y.example" is no e-mail address) */
    while (ls > done && at - ls <= 64 && (XC(p[ls - 1]) & X_LOCAL))
        ls--;
    if (ls == at || at - ls > 64 || (ls > 0 && (XC(p[ls - 1]) & X_LOCAL)))
        return 0;
    while (de < n && (XC(p[de]) & X_WORD) && de - at <= 254)
        de++;
    if (de - at > 254)
        return 0;
    e = de;
    while (e > at + 1 && p[e - 1] == '.')
        e--;
    {
        size_t k = e;

        while (k > at + 1 && (XC(p[k - 1]) & X_ALPHA))
            k--;
        if (k == e || k == at + 1 || p[k - 1] != '.')
            return 0;
    }
    if (scan_value_add(r, p + ls, e - ls, off + (uint32_t)ls) == 0)
        return 0;
    return e;
}

/* The dotted quads of a word p[s..e) with separators: a chain of four 1-3 digit parts starting
 * at the word's start (not after a '.') or after a '-' or '_', and not followed by an alnum or
 * by a '.' and an alnum. */
static void ipv4_in(struct scan_rec *r, const char *p, size_t n, size_t s, size_t e, uint32_t off)
{
    size_t k = s;

    while (k < e) {
        size_t a = k, q, f;
        uint32_t v;

        if (!(XC(p[a]) & X_DIGIT) ||
            (a == s ? (a > 0 && p[a - 1] == '.') : !(XC(p[a - 1]) & X_SEP))) {
            /* not a chain start: on to the byte after the next '-' or '_' */
            while (k < e && !(XC(p[k]) & X_SEP))
                k++;
            k++;
            continue;
        }
        q = a;
        while (q < e && (XC(p[q]) & (X_DIGIT | X_DOT)))
            q++;
        f = q;
        while (f > a && p[f - 1] == '.')
            f--;
        /* q < n: the byte after the digits and dots; within the word or its end */
        if (!(q < n && (XC(p[q]) & X_ALNUM)) && scan_ipv4_parse(p + a, f - a, &v))
            add_v4(r, v, off + (uint32_t)a, f - a);
        k = q;
    }
}

/* The alnum run holding the 32 hex digits at p[s..s+32): a hash when the run is exactly 32, 40
 * or 64 hex digits. Returns the run's end (the scan goes on from there). */
static size_t hash_at(struct scan_rec *r, const char *p, size_t n, size_t s, uint32_t off)
{
    size_t e = s + HASH_MIN;
    uint16_t all = X_HEX;

    while (e < n && (XC(p[e]) & X_ALNUM)) {
        all &= XC(p[e]);
        e++;
    }
    if (s > 0 && (XC(p[s - 1]) & X_ALNUM))
        return e;
    if ((e - s == 32 || e - s == 40 || e - s == 64) && (all & X_HEX))
        add_hash(r, p + s, e - s, off + (uint32_t)s);
    return e;
}

/* Where the word holding the '.' at p[t] starts: back over word bytes (not before done, where
 * the last word looked at ended), then past leading '.' and '-' (no label starts with them). */
static size_t word_start(const char *p, size_t n, size_t t, size_t done)
{
    size_t ws = t;

    while (ws > done && (XC(p[ws - 1]) & X_WORD))
        ws--;
    while (ws < n && (XC(p[ws]) & X_WORD) && !(XC(p[ws]) & X_START))
        ws++;
    return ws;
}

struct xstate {
    size_t done;    /* bytes before it were looked at as part of a word */
    size_t loc_end; /* p[j..loc_end) is local-part bytes for the j of the last run scanned */
};

/* The word at p[ws..): a URL scheme, an e-mail local part, or host names and dotted quads.
 * Returns the end of what it consumed (a URL or an e-mail address: not searched further) with
 * *consumed, else the word's end. */
static size_t word_at(struct scan_rec *r, const char *p, size_t n, size_t ws, uint32_t off,
                      struct xstate *st, bool *consumed)
{
    size_t j = ws, e;
    uint16_t any = 0, all = 0xffff;
    int nx;

    *consumed = false;
    while (j < n && (XC(p[j]) & X_WORD)) {
        any |= XC(p[j]);
        all &= XC(p[j]);
        j++;
    }
    if (j == ws)
        return j;
    nx = j < n ? (unsigned char)p[j] : -1;
    if (nx == ':' && j + 2 < n && p[j + 1] == '/' && p[j + 2] == '/' && (XC(p[ws]) & X_ALPHA) &&
        (all & X_SCHEME)) {
        e = url_at(r, p, n, ws, off);
        if (e > 0) {
            *consumed = true;
            return e;
        }
    }
    if (nx == '@' || (nx >= 0 && (XC(nx) & X_LOCAL))) {
        /* "john.doe+tag@…": the local-part run is scanned once, however many words it holds */
        if (j >= st->loc_end) {
            size_t k = j;

            while (k < n && (XC(p[k]) & X_LOCAL))
                k++;
            st->loc_end = k;
        }
        if (st->loc_end < n && p[st->loc_end] == '@') {
            e = email_at(r, p, n, st->loc_end, st->done, off);
            if (e > 0) {
                *consumed = true;
                return e;
            }
        }
    }
    if (any & X_DIGIT)
        ipv4_in(r, p, n, ws, j, off);
    if (any & X_ALPHA) {
        e = j;
        while (e > ws && p[e - 1] == '.')
            e--;
        domain_at(r, p, ws, e, off);
    }
    return j;
}

/* The ':' at p[t]: a URL's "://" (the scheme before it), or inside an IPv6 address (its first
 * group before it, or "::" starting it). The end of what it consumed, or 0. */
static size_t colon_at(struct scan_rec *r, const char *p, size_t n, size_t t, size_t done,
                       uint32_t off)
{
    size_t s = t;

    if (t + 2 < n && p[t + 1] == '/' && p[t + 2] == '/') {
        while (s > done && t - s < 32 && (XC(p[s - 1]) & X_SCHEME))
            s--;
        while (s < t && !(XC(p[s]) & X_ALPHA))
            s++;
        if (s == t || (s > 0 && (XC(p[s - 1]) & X_ALNUM)))
            return 0;
        return url_at(r, p, n, s, off);
    }
    while (s > done && t - s < 5 && (XC(p[s - 1]) & X_HEX))
        s--;
    if (s == t && (t + 1 >= n || p[t + 1] != ':'))
        return 0;
    /* not inside a longer run of address bytes or a word */
    if (s > 0 && ((XC(p[s - 1]) & (X_ALNUM | X_DOT)) || p[s - 1] == ':'))
        return 0;
    return v6_at(r, p, n, s, off);
}

void scan_extract(struct scan_rec *r, const char *p, size_t n, uint32_t off)
{
    struct xstate st = {0, 0};
    size_t hrun = 0; /* hex digits ending at p[i] */

    /* The hot loop: one table load per byte, a conditional move for the hex run and a branch
     * that is rarely taken (most bytes are neither '.', ':', '@' nor the 32nd hex digit). */
    for (size_t i = 0; i < n; i++) {
        uint16_t k = XC(p[i]);
        size_t e;
        bool consumed;

        /* branch-free: hex and other bytes alternate too often to predict */
        hrun = (hrun + 1) & (0 - (size_t)((k & X_HEX) != 0));
        if (__builtin_expect(((k & X_TRIG) != 0) | (hrun == HASH_MIN), 0) == 0)
            continue;
        if (hrun == HASH_MIN) {
            i = hash_at(r, p, n, i + 1 - HASH_MIN, off) - 1;
            hrun = 0;
            continue;
        }
        if (i < st.done)
            continue;
        if (p[i] == '.') {
            size_t ws = word_start(p, n, i, st.done);

            e = word_at(r, p, n, ws, off, &st, &consumed);
            if (consumed) {
                i = e - 1;
                hrun = 0;
            }
            st.done = e > i + 1 ? e : i + 1;
        } else if (p[i] == ':') {
            e = colon_at(r, p, n, i, st.done, off);
            if (e > 0) {
                i = e - 1;
                hrun = 0;
                st.done = e;
            }
        } else {
            e = email_at(r, p, n, i, st.done, off);
            if (e > 0) {
                i = e - 1;
                hrun = 0;
                st.done = e;
            }
        }
    }
}
