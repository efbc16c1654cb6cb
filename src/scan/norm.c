/* scan/ normalisers: the one text form of an address, host name, URL, e-mail address or hash,
 * whether it comes from a log line or from an indicator (the index puts indicator values through
 * the same functions, so equal forms mean equal values). Also the scan_rec plumbing and the time
 * parsers of the log readers.
 *
 * Everything here runs per field of every log record: no allocation, no per-byte calls, one
 * 256-entry class table instead of <ctype.h> (which is locale-dependent and a call per byte). */
#include "scan/scan_int.h"

#include <stdlib.h>
#include <string.h>

/* Character classes (generated once; bit meanings below). N_LOCAL is the e-mail local part
 * (printable ASCII except space ( ) < > [ ] , ; : \ " @), N_HOST a URL reg-name byte (unreserved,
 * sub-delims, bytes >= 0x80; not '%'), N_AUTHEND ends a URL authority, N_HOSTV is what a bare
 * host[:port] or address value may hold. N_DOT, N_COLON and N_AT are the one byte each (so that one
 * table load per byte answers every question a pass asks), N_LDOT a host-name byte (label byte or
 * '.'), N_LLOW one already in normal form (N_LDOT but not upper case). */
// clang-format off
#define N_DIGIT   0x0001
#define N_HEX     0x0002
#define N_UPPER   0x0004
#define N_ALPHA   0x0008
#define N_LABEL   0x0010
#define N_LOCAL   0x0020
#define N_SCHEME  0x0040
#define N_UNRES   0x0080
#define N_HOST    0x0100
#define N_AUTHEND 0x0200
#define N_HOSTV   0x0400
#define N_DOT     0x0800
#define N_COLON   0x1000
#define N_AT      0x2000
#define N_LDOT    0x4000
#define N_LLOW    0x8000
static const uint16_t ncls[256] = {
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0120, 0x0000, 0x0220, 0x0120, 0x0020, 0x0120, 0x0120,
    0x0100, 0x0100, 0x0120, 0x0160, 0x0100, 0xc5f0, 0xcde0, 0x0220,
    0xc5f3, 0xc5f3, 0xc5f3, 0xc5f3, 0xc5f3, 0xc5f3, 0xc5f3, 0xc5f3,
    0xc5f3, 0xc5f3, 0x1400, 0x0100, 0x0000, 0x0120, 0x0000, 0x0220,
    0x2000, 0x45fe, 0x45fe, 0x45fe, 0x45fe, 0x45fe, 0x45fe, 0x45fc,
    0x45fc, 0x45fc, 0x45fc, 0x45fc, 0x45fc, 0x45fc, 0x45fc, 0x45fc,
    0x45fc, 0x45fc, 0x45fc, 0x45fc, 0x45fc, 0x45fc, 0x45fc, 0x45fc,
    0x45fc, 0x45fc, 0x45fc, 0x0000, 0x0000, 0x0000, 0x0020, 0xc5b0,
    0x0020, 0xc5fa, 0xc5fa, 0xc5fa, 0xc5fa, 0xc5fa, 0xc5fa, 0xc5f8,
    0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8,
    0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8, 0xc5f8,
    0xc5f8, 0xc5f8, 0xc5f8, 0x0020, 0x0020, 0x0020, 0x01a0, 0x0000,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
    0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100,
};
// clang-format on

#define CLS(c) ncls[(unsigned char)(c)]

static inline char lower(char c)
{
    return (CLS(c) & N_UPPER) ? (char)(c | 0x20) : c;
}

static inline unsigned hexv(char c)
{
    unsigned char u = (unsigned char)c;

    return u <= '9' ? (unsigned)(u - '0') : (unsigned)((u | 0x20) - 'a' + 10);
}

/* ---- records ---- */

void scan_rec_init(struct scan_rec *r)
{
    memset(r, 0, sizeof(*r));
    r->time_ms = SCAN_TIME_NONE;
}

bool scan_rec_reset(struct scan_rec *r, size_t line_len)
{
    size_t need;
    bool ok = false;

    r->n_obs = 0;
    r->n_dropped = 0;
    r->time_ms = SCAN_TIME_NONE;
    r->scratch_len = 0;
    memset(&r->conn, 0, sizeof(r->conn));
    if (line_len > (SIZE_MAX - 256) / 2)
        goto out;
    need = 2 * line_len + 256;
    if (r->scratch_cap < need) {
        /* No copy wanted (the scratch is empty at reset): free and allocate, with some slack so
         * that slowly growing lines do not reallocate on every line. */
        size_t cap = need + need / 4;
        char *s = malloc(cap);

        if (s == NULL)
            goto out;
        free(r->scratch);
        r->scratch = s;
        r->scratch_cap = cap;
    }
    ok = true;
out:
    return ok;
}

void scan_rec_cleanup(struct scan_rec *r)
{
    free(r->scratch);
    scan_rec_init(r);
}

char *scan_rec_scratch(struct scan_rec *r, size_t n)
{
    if (r->scratch == NULL || n > r->scratch_cap - r->scratch_len)
        return NULL;
    return r->scratch + r->scratch_len;
}

bool scan_rec_add(struct scan_rec *r, const struct scan_obs *o)
{
    if (r->n_obs >= SCAN_REC_MAX_OBS) {
        r->n_dropped++;
        return false;
    }
    r->obs[r->n_obs++] = *o;
    return true;
}

/* ---- addresses ---- */

bool scan_ipv4_parse(const char *p, size_t n, uint32_t *out)
{
    unsigned char b[16];
    const unsigned char *u = b;
    uint32_t v = 0;
    bool ok = false;

    /* This runs for every address column of every record. The candidate is copied into a buffer
     * with a NUL after it (two fixed-size copies that may overlap: no per-byte bounds checks, and
     * the NUL is neither a digit nor a '.'), then each part (1-3 digits, each tested with one
     * unsigned compare) is read unrolled. */
    if (n < 7 || n > 15)
        goto out;
    if (n >= 8) {
        memcpy(b, p, 8);
        memcpy(b + n - 8, p + n - 8, 8);
    } else {
        memcpy(b, p, 4);
        memcpy(b + 3, p + 3, 4);
    }
    b[n] = 0;
    for (unsigned part = 0; part < 4; part++) {
        unsigned d, x;

        if (part > 0) {
            if (*u != '.')
                goto out;
            u++;
        }
        if ((x = (unsigned)*u - '0') > 9)
            goto out;
        u++;
        if ((d = (unsigned)*u - '0') <= 9) {
            /* "01" is octal to inet_aton: refused rather than guessed. */
            if (x == 0)
                goto out;
            x = x * 10 + d;
            u++;
            if ((d = (unsigned)*u - '0') <= 9) {
                x = x * 10 + d;
                u++;
                if (x > 255)
                    goto out;
            }
        }
        v = v << 8 | x;
    }
    if (u != b + n)
        goto out;
    *out = v;
    ok = true;
out:
    return ok;
}

/* A hex digit's value + 1; 0: no hex digit. */
static const uint8_t hex1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* One group of 1..4 hex digits at p[*i] (i < n): its value, *i past it; -1 when there is no
 * digit or a fifth follows. (Unrolled: the sieve parses every address-like run of a log.) */
static inline int hex_group(const char *p, size_t n, size_t *i)
{
    size_t k = *i;
    unsigned v, h = hex1[(unsigned char)p[k]];

    if (h == 0)
        return -1;
    v = h - 1;
    for (int j = 0; j < 3; j++) {
        if (++k == n || (h = hex1[(unsigned char)p[k]]) == 0)
            goto done;
        v = v << 4 | (h - 1);
    }
    if (++k < n && hex1[(unsigned char)p[k]] != 0)
        return -1;
done:
    *i = k;
    return (int)v;
}

bool scan_ipv6_parse(const char *p, size_t n, uint8_t out[16])
{
    uint16_t g[8];
    int ng = 0, dc = -1; /* groups read; where "::" stands (index into g), -1 if none */
    size_t i = 0;

    /* The longest form is 8 groups of 4 with 7 colons, or 6 groups and a dotted quad (45). */
    if (n < 2 || n > 45)
        return false;
    if (p[0] == ':') {
        if (p[1] != ':')
            return false;
        dc = 0;
        i = 2;
    }
    while (i < n) {
        size_t s = i;
        int v = hex_group(p, n, &i);

        if (i < n && p[i] == '.' && v >= 0) {
            uint32_t v4;

            /* An embedded dotted quad ends the address and fills two groups. */
            if (ng > 6 || !scan_ipv4_parse(p + s, n - s, &v4))
                return false;
            g[ng++] = (uint16_t)(v4 >> 16);
            g[ng++] = (uint16_t)(v4 & 0xffff);
            break;
        }
        if (v < 0 || ng == 8)
            return false;
        g[ng++] = (uint16_t)v;
        if (i == n)
            break;
        if (p[i] != ':' || i + 1 == n)
            return false;
        i++;
        if (p[i] == ':') {
            if (dc >= 0)
                return false;
            dc = ng;
            i++;
        }
    }
    if (dc < 0 ? ng != 8 : ng > 7)
        return false;
    if (dc < 0) {
        for (int k = 0; k < 8; k++) {
            out[2 * k] = (uint8_t)(g[k] >> 8);
            out[2 * k + 1] = (uint8_t)(g[k] & 0xff);
        }
        return true;
    }
    memset(out, 0, 16);
    for (int k = 0; k < ng; k++) {
        int pos = k >= dc ? 8 - ng + k : k;

        out[2 * pos] = (uint8_t)(g[k] >> 8);
        out[2 * pos + 1] = (uint8_t)(g[k] & 0xff);
    }
    return true;
}

/* ---- names ---- */

/* The host-name rules for the label p[lab..e) ended by a '.' at p[e] or by the end: 1..63 bytes, no
 * '-' at either end. (e == lab is caught by the length before p[e - 1] is read.) */
static inline bool label_bad(const char *p, size_t lab, size_t e)
{
    return e - lab - 1 > 62 || p[lab] == '-' || p[e - 1] == '-';
}

/* The end of the host-name check for p[0..n) (no trailing dot, every byte a label byte or '.')
 * whose labels before the last were checked as the bytes went by (bad: one failed; nlab: the dots;
 * lab: where the last label starts): the last label's own rules and not all digits. Passes that
 * read the bytes anyway (the value classifier, the URL fast path) check host names this way
 * without a second pass. */
static bool dom_tail(const char *p, size_t n, size_t lab, size_t nlab, bool bad)
{
    bool ok = false;

    if (bad || nlab < 1 || n > 253 || label_bad(p, lab, n))
        goto out;
    for (size_t i = lab; i < n; i++) {
        if (!(CLS(p[i]) & N_DIGIT)) {
            ok = true;
            break;
        }
    }
out:
    return ok;
}

/* scan_domain_norm's length without writing: one table load per byte, the label rules only at
 * the dots. *any gets the OR of the bytes' classes (N_UPPER: the normal form differs). */
static size_t domain_len(const char *p, size_t n, uint16_t *any)
{
    size_t lab = 0, nlab = 0, res = 0;
    uint16_t all = N_LDOT, some = 0;
    bool bad = false;

    if (n > 0 && p[n - 1] == '.')
        n--;
    if (n == 0 || n > 253)
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint16_t k = CLS(p[i]);

        all &= k;
        some |= k;
        if (k & N_DOT) {
            bad |= label_bad(p, lab, i);
            nlab++;
            lab = i + 1;
        }
    }
    if ((all & N_LDOT) && dom_tail(p, n, lab, nlab, bad))
        res = n;
out:
    *any = some;
    return res;
}

/* The lower-case form of p[0..n) (host-name bytes: upper case is only A-Z) in out. */
static void lower_copy(char *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(p[i] | (CLS(p[i]) & N_UPPER) << 3); /* N_UPPER << 3 is 0x20 */
}

/* scan_domain_norm with out optional: NULL only checks. */
static size_t domain_norm(const char *p, size_t n, char *out)
{
    uint16_t any;
    size_t m = domain_len(p, n, &any);

    if (m > 0 && out != NULL) {
        if (any & N_UPPER)
            lower_copy(out, p, m);
        else
            memcpy(out, p, m);
    }
    return m;
}

size_t scan_domain_norm(const char *p, size_t n, char *out)
{
    return domain_norm(p, n, out);
}

int scan_hash_norm(const char *p, size_t n, char *out)
{
    uint16_t all = N_HEX;
    int kind = -1;

    if (n == 32)
        kind = SCAN_MD5;
    else if (n == 40)
        kind = SCAN_SHA1;
    else if (n == 64)
        kind = SCAN_SHA256;
    else
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint16_t k = CLS(p[i]);

        all &= k;
        out[i] = (k & N_UPPER) ? (char)(p[i] | 0x20) : p[i];
    }
    if (!(all & N_HEX))
        kind = -1;
out:
    return kind;
}

size_t scan_email_norm(const char *p, size_t n, char *out)
{
    const char *at = memchr(p, '@', n);
    size_t ln, dn, res = 0;

    if (at == NULL)
        goto out;
    ln = (size_t)(at - p);
    if (ln == 0 || ln > 64)
        goto out;
    for (size_t i = 0; i < ln; i++) {
        if (!(CLS(p[i]) & N_LOCAL))
            goto out;
    }
    dn = domain_norm(at + 1, n - ln - 1, out + ln + 1);
    if (dn == 0)
        goto out;
    memcpy(out, p, ln);
    out[ln] = '@';
    res = ln + 1 + dn;
out:
    return res;
}

/* ---- URLs ---- */

static unsigned default_port(const char *s, size_t n)
{
    static const struct {
        const char *scheme;
        size_t len;
        unsigned port;
    } tab[] = {
        {"http", 4, 80}, {"https", 5, 443}, {"ftp", 3, 21}, {"ws", 2, 80}, {"wss", 3, 443},
    };

    for (size_t i = 0; i < CTIX_ARRAY_LEN(tab); i++) {
        if (tab[i].len == n && memcmp(tab[i].scheme, s, n) == 0)
            return tab[i].port;
    }
    return 0;
}

static const char HEXUP[] = "0123456789ABCDEF";

/* scan_url_norm, also giving where the host is in p (*rh, *rh_len: without brackets). */
static size_t url_norm(const char *p, size_t n, char *out, size_t *host_off, size_t *host_len,
                       size_t *rh, size_t *rh_len)
{
    size_t i = 0, o = 0, slen, ae, ho, hl, res = 0;
    size_t lone = SIZE_MAX; /* where the last '%' that starts no escape was written */
    const char *at;

    if (n < 4 || !(CLS(p[0]) & N_ALPHA))
        goto out;
    while (i < n && (CLS(p[i]) & N_SCHEME)) {
        out[o++] = lower(p[i]);
        i++;
    }
    if (n - i < 3 || p[i] != ':' || p[i + 1] != '/' || p[i + 2] != '/')
        goto out;
    slen = i;
    memcpy(out + o, "://", 3);
    o += 3;
    i += 3;
    ae = i;
    while (ae < n && !(CLS(p[ae]) & N_AUTHEND))
        ae++;
    /* userinfo, as written: up to the last '@' of the authority (what browsers do). */
    at = memrchr(p + i, '@', ae - i);
    if (at != NULL) {
        size_t un = (size_t)(at - (p + i)) + 1;

        memcpy(out + o, p + i, un);
        o += un;
        i += un;
    }
    if (i < ae && p[i] == '[') {
        const char *close = memchr(p + i, ']', ae - i);
        uint8_t v6[16];

        if (close == NULL)
            goto out;
        hl = (size_t)(close - (p + i + 1));
        if (!scan_ipv6_parse(p + i + 1, hl, v6))
            goto out;
        *rh = i + 1;
        out[o++] = '[';
        ho = o;
        for (size_t k = 0; k < hl; k++)
            out[o++] = lower(p[i + 1 + k]);
        out[o++] = ']';
        i += hl + 2;
    } else {
        *rh = i;
        ho = o;
        while (i < ae && p[i] != ':') {
            if (!(CLS(p[i]) & N_HOST))
                goto out;
            out[o++] = lower(p[i]);
            i++;
        }
        hl = o - ho;
        /* One trailing dot dropped; a second one would be dropped by a second pass, so it is
         * no host at all (the form must be idempotent). */
        if (hl > 0 && out[o - 1] == '.') {
            o--;
            hl--;
            if (hl > 0 && out[o - 1] == '.')
                goto out;
        }
        if (hl == 0 && !(slen == 4 && memcmp(out, "file", 4) == 0))
            goto out;
    }
    *rh_len = hl;
    if (i < ae) {
        unsigned port = 0;
        size_t ps;

        if (p[i] != ':')
            goto out;
        i++;
        ps = i;
        while (i < ae && (CLS(p[i]) & N_DIGIT)) {
            port = port * 10 + (unsigned)(p[i] - '0');
            if (port > 65535)
                goto out;
            i++;
        }
        if (i != ae)
            goto out;
        /* Written in decimal without leading zeros; the default port and an empty one dropped. */
        if (i > ps && port != default_port(out, slen)) {
            char d[5];
            int nd = 0;

            do {
                d[nd++] = (char)('0' + port % 10);
                port /= 10;
            } while (port > 0);
            out[o++] = ':';
            while (nd > 0)
                out[o++] = d[--nd];
        }
    }
    if (i == n || p[i] == '?' || p[i] == '#')
        out[o++] = '/';
    while (i < n) {
        char c = p[i];

        if (c != '%') {
            out[o++] = c;
            i++;
            continue;
        }
        if (i + 2 < n && (CLS(p[i + 1]) & CLS(p[i + 2]) & N_HEX)) {
            unsigned char v = (unsigned char)(hexv(p[i + 1]) << 4 | hexv(p[i + 2]));

            /* A decoded hex digit right after a lone '%' would make a new escape on the next
             * pass ("%%34%31" -> "%41" -> "A"): keep it encoded there. */
            if ((ncls[v] & N_UNRES) && !(lone != SIZE_MAX && o - lone <= 2 && (ncls[v] & N_HEX))) {
                out[o++] = (char)v;
            } else {
                out[o++] = '%';
                out[o++] = HEXUP[v >> 4];
                out[o++] = HEXUP[v & 15];
            }
            i += 3;
            continue;
        }
        lone = o;
        out[o++] = '%';
        i++;
    }
    if (host_off != NULL)
        *host_off = ho;
    if (host_len != NULL)
        *host_len = hl;
    res = o;
out:
    return res;
}

/* A URL already in its normal form, the common case in logs: the scheme p[0..sl) lower case (the
 * caller checked), "://", a host of lower-case host-name bytes (no userinfo, brackets or '%') and
 * no trailing dot, no port or one without a leading zero that is not the scheme's default, a path,
 * and no '%' after it. Then the normal form is p itself and no byte need be written: the host is
 * p[*ho, *ho + *hl), *hdom whether it is a host name (checked in the same pass). false: not known
 * to be normal (url_norm decides, which also refuses). */
static bool url_fast(const char *p, size_t n, size_t sl, size_t *ho, size_t *hl, bool *hdom)
{
    size_t i = sl + 3, h = i, lab = i, nlab = 0, he;
    bool bad = false, ok = false;

    while (i < n) {
        uint16_t k = CLS(p[i]);

        if (!(k & N_LLOW))
            break;
        if (k & N_DOT) {
            bad |= label_bad(p, lab, i);
            nlab++;
            lab = i + 1;
        }
        i++;
    }
    if (i == h || i == n || p[i - 1] == '.')
        goto out;
    he = i;
    if (p[i] == ':') {
        unsigned port = 0;
        size_t ps = ++i;

        while (i < n && i - ps < 5 && (CLS(p[i]) & N_DIGIT)) {
            port = port * 10 + (unsigned)(p[i] - '0');
            i++;
        }
        if (i == ps || i == n || p[ps] == '0' || port > 65535 || port == default_port(p, sl))
            goto out;
    }
    if (p[i] != '/' || memchr(p + i, '%', n - i) != NULL)
        goto out;
    *ho = h;
    *hl = he - h;
    *hdom = dom_tail(p + h, he - h, lab - h, nlab, bad);
    ok = true;
out:
    return ok;
}

size_t scan_url_norm(const char *p, size_t n, char *out, size_t *host_off, size_t *host_len)
{
    size_t rh, rh_len, sl = 0, ho, hl, res;
    bool dom;

    while (sl < n && (CLS(p[sl]) & N_SCHEME) && !(CLS(p[sl]) & N_UPPER))
        sl++;
    if (sl > 0 && (CLS(p[0]) & N_ALPHA) && n - sl >= 3 && p[sl] == ':' && p[sl + 1] == '/' &&
        p[sl + 2] == '/' && url_fast(p, n, sl, &ho, &hl, &dom)) {
        memcpy(out, p, n);
        if (host_off != NULL)
            *host_off = ho;
        if (host_len != NULL)
            *host_len = hl;
        res = n;
    } else {
        res = url_norm(p, n, out, host_off, host_len, &rh, &rh_len);
    }
    return res;
}

/* ---- one field, one value ---- */

/* The record's next observable, kind and raw span set; NULL (and counted) when it is full. Written
 * in place: no struct built on the stack and copied. */
static inline struct scan_obs *obs_new(struct scan_rec *r, enum scan_kind kind, uint32_t off,
                                       size_t len)
{
    struct scan_obs *o = NULL;

    if (r->n_obs < SCAN_REC_MAX_OBS) {
        o = &r->obs[r->n_obs++];
        o->kind = (uint8_t)kind;
        o->off = off;
        o->len = (uint32_t)len;
    } else {
        r->n_dropped++;
    }
    return o;
}

static size_t add_v4(struct scan_rec *r, uint32_t v, uint32_t off, size_t len)
{
    struct scan_obs *o = obs_new(r, SCAN_IPV4, off, len);

    if (o != NULL)
        o->u.v4 = v;
    return o != NULL;
}

static size_t add_v6(struct scan_rec *r, const uint8_t v[16], uint32_t off, size_t len)
{
    struct scan_obs *o = obs_new(r, SCAN_IPV6, off, len);

    if (o != NULL)
        memcpy(o->u.v6, v, 16);
    return o != NULL;
}

static size_t add_s(struct scan_rec *r, enum scan_kind kind, const char *s, size_t sn, uint32_t off,
                    size_t len)
{
    struct scan_obs *o = obs_new(r, kind, off, len);

    if (o != NULL) {
        o->u.s.p = s;
        o->u.s.n = (uint32_t)sn;
    }
    return o != NULL;
}

/* The normal form out[0..m) of raw p[0..n): p itself when it starts with it (a trailing dot
 * dropped is still the raw text, no scratch used), else out, which is then kept in the scratch. */
static const char *keep(struct scan_rec *r, const char *p, size_t n, const char *out, size_t m)
{
    if (m <= n && memcmp(out, p, m) == 0)
        return p;
    r->scratch_len += m;
    return out;
}

/* A URL's host as the observable it is: an address or a host name (or nothing: "localhost"). */
static size_t add_host(struct scan_rec *r, const char *h, size_t hl, bool bracket, uint32_t off,
                       size_t len)
{
    uint32_t v4;
    uint8_t v6[16];
    size_t added = 0;

    if (bracket) {
        if (scan_ipv6_parse(h, hl, v6))
            added = add_v6(r, v6, off, len);
    } else if (hl > 0 && (CLS(h[0]) & N_DIGIT) && scan_ipv4_parse(h, hl, &v4)) {
        added = add_v4(r, v4, off, len);
    } else if (hl > 0 && domain_norm(h, hl, NULL) == hl) {
        added = add_s(r, SCAN_DOMAIN, h, hl, off, len);
    }
    return added;
}

/* The URL p[0..n) whose scheme is p[0..sl) (lower case when lower), and its host. */
static size_t value_url(struct scan_rec *r, const char *p, size_t n, uint32_t off, size_t sl,
                        bool lower)
{
    char *out;
    size_t m, ho = 0, hl = 0, rh = 0, rh_len = 0, added = 0;
    const char *s;
    uint32_t v4;
    bool dom;

    /* Room for the normal form is asked for even when none is written, so that a record whose
     * scratch is exhausted (a reader bug) gets nothing either way. */
    out = scan_rec_scratch(r, n + 1);
    if (out == NULL)
        goto out;
    if (lower && url_fast(p, n, sl, &ho, &hl, &dom)) {
        /* the URL and its host are the line's own bytes: nothing copied */
        added = add_s(r, SCAN_URL, p, n, off, n);
        if ((CLS(p[ho]) & N_DIGIT) && scan_ipv4_parse(p + ho, hl, &v4))
            added += add_v4(r, v4, off + (uint32_t)ho, hl);
        else if (dom)
            added += add_s(r, SCAN_DOMAIN, p + ho, hl, off + (uint32_t)ho, hl);
        goto out;
    }
    m = url_norm(p, n, out, &ho, &hl, &rh, &rh_len);
    if (m == 0)
        goto out;
    s = keep(r, p, n, out, m);
    added = add_s(r, SCAN_URL, s, m, off, n);
    added += add_host(r, s + ho, hl, ho > 0 && s[ho - 1] == '[', off + (uint32_t)rh, rh_len);
out:
    return added;
}

static size_t value_email(struct scan_rec *r, const char *p, size_t n, uint32_t off, size_t at)
{
    char *out = scan_rec_scratch(r, n);
    size_t m, added = 0;
    const char *s;

    if (out == NULL)
        goto out;
    m = scan_email_norm(p, n, out);
    if (m == 0)
        goto out;
    s = keep(r, p, n, out, m);
    added = add_s(r, SCAN_EMAIL, s, m, off, n);
    added += add_s(r, SCAN_DOMAIN, s + at + 1, m - at - 1, off + (uint32_t)at + 1, n - at - 1);
out:
    return added;
}

/* ":port" at p[0..n): 1 to 5 digits, at most 65535. */
static bool port_ok(const char *p, size_t n)
{
    unsigned v = 0;

    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!(CLS(p[i]) & N_DIGIT))
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v <= 65535;
}

size_t scan_value_add(struct scan_rec *r, const char *p, size_t n, uint32_t off)
{
    uint16_t all = 0xffff, any = 0, hall, hany;
    size_t added = 0, i, ncolon = 0, hn, lab = 0, nlab = 0;
    char *out;
    bool bad = false;
    uint32_t v4;
    uint8_t v6[16];

    /* The shortest value anything is made of is "a.b" or "::1". */
    if (n < 3 || n > SCAN_LINE_MAX)
        goto out;
    if (p[0] == '[') {
        const char *close = memchr(p, ']', n);
        size_t cl;

        if (close == NULL)
            goto out;
        cl = (size_t)(close - p);
        if (cl + 1 < n && (p[cl + 1] != ':' || !port_ok(p + cl + 2, n - cl - 2)))
            goto out;
        if (scan_ipv6_parse(p + 1, cl - 1, v6))
            added = add_v6(r, v6, off + 1, cl - 1);
        goto out;
    }
    /* A dotted quad is classified as one whatever the rest of the rules say (a digit first is no
     * scheme; digits and dots hold no '@', ':' or the length of a hash): the address columns of
     * DNS answers and firewall logs take this way and skip the pass below. */
    if ((CLS(p[0]) & N_DIGIT) && n >= 7 && n <= 15 && scan_ipv4_parse(p, n, &v4)) {
        added = add_v4(r, v4, off, n);
        goto out;
    }
    /* One pass up to the first ':' (the whole of most values): the AND and OR of the byte
     * classes, and the host-name label rules at each '.', so that a host name (the part before a
     * ":port") needs no second look and most words that are nothing are refused from the pass. */
    for (i = 0; i < n; i++) {
        uint16_t k = CLS(p[i]);

        if (k & (N_COLON | N_DOT)) {
            if (k & N_COLON)
                break;
            bad |= label_bad(p, lab, i);
            nlab++;
            lab = i + 1;
        }
        all &= k;
        any |= k;
    }
    hn = i;
    hall = all;
    hany = any;
    if (i < n) {
        /* "scheme://": a letter, then at most 31 scheme bytes before the ':' */
        if ((CLS(p[0]) & N_ALPHA) && i <= 32 && (all & N_SCHEME) && n - i >= 3 && p[i + 1] == '/' &&
            p[i + 2] == '/') {
            added = value_url(r, p, n, off, i, !(any & N_UPPER));
            goto out;
        }
        for (; i < n; i++) {
            uint16_t k = CLS(p[i]);

            all &= k;
            any |= k;
            ncolon += (k & N_COLON) != 0;
        }
    }
    if (any & N_AT) {
        const char *at = memchr(p, '@', n);

        added = value_email(r, p, n, off, (size_t)(at - p));
        goto out;
    }
    if (!(all & N_HOSTV))
        goto out;
    if ((n == 32 || n == 40 || n == 64) && (all & N_HEX)) {
        int kind;

        out = scan_rec_scratch(r, n);
        if (out == NULL)
            goto out;
        kind = scan_hash_norm(p, n, out);
        if (kind >= 0)
            added = add_s(r, (enum scan_kind)kind, keep(r, p, n, out, n), n, off, n);
        goto out;
    }
    if (ncolon >= 2) {
        if (scan_ipv6_parse(p, n, v6))
            added = add_v6(r, v6, off, n);
        goto out;
    }
    /* an address or a host name (with a port or not): none without a '.' before any ':' */
    if (!(hany & N_DOT) || (ncolon == 1 && !port_ok(p + hn + 1, n - hn - 1)))
        goto out;
    if ((CLS(p[0]) & N_DIGIT) && scan_ipv4_parse(p, hn, &v4)) {
        added = add_v4(r, v4, off, hn);
    } else if ((out = scan_rec_scratch(r, hn)) == NULL) {
        goto out;
    } else if (p[hn - 1] != '.') {
        /* the pass checked it: a host name is p itself, or its lower-case form in the scratch */
        if ((hall & N_LDOT) && dom_tail(p, hn, lab, nlab, bad)) {
            const char *s = p;

            if (hany & N_UPPER) {
                lower_copy(out, p, hn);
                r->scratch_len += hn;
                s = out;
            }
            added = add_s(r, SCAN_DOMAIN, s, hn, off, hn);
        }
    } else {
        size_t m;

        m = domain_norm(p, hn, out);
        if (m > 0)
            added = add_s(r, SCAN_DOMAIN, keep(r, p, hn, out, m), m, off, hn);
    }
out:
    return added;
}

/* ---- times ---- */

/* n decimal digits at p into *v; false when any is not a digit. */
static bool digits(const char *p, size_t n, unsigned *v)
{
    unsigned x = 0;

    for (size_t i = 0; i < n; i++) {
        if (!(CLS(p[i]) & N_DIGIT))
            return false;
        x = x * 10 + (unsigned)(p[i] - '0');
    }
    *v = x;
    return true;
}

static bool leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Unix ms of a civil UTC time, after checking every field's range; sec 60 (a leap second)
 * counts as the next second, as ctix_ts_parse does. */
static bool civil_ms(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                     unsigned ms, int64_t *out)
{
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap(y)))
        return false;
    if (h > 23 || mi > 59 || s > 60 || ms > 999)
        return false;
    *out = ((ctix_days_from_civil(y, mo, d) * 86400) + (int64_t)h * 3600 + (int64_t)mi * 60 +
            (int64_t)s) *
               1000 +
           (int64_t)ms;
    return true;
}

/* A fraction after the '.' at p[0..n): its first three digits as ms (truncated), the length of
 * the digit run in *used (at least one digit). */
static bool frac_ms(const char *p, size_t n, unsigned *ms, size_t *used)
{
    size_t i = 0;
    unsigned v = 0;

    while (i < n && (CLS(p[i]) & N_DIGIT)) {
        if (i < 3)
            v = v * 10 + (unsigned)(p[i] - '0');
        i++;
    }
    for (size_t k = i; k < 3; k++)
        v *= 10;
    *ms = v;
    *used = i;
    return i > 0;
}

bool scan_time_epoch(const char *p, size_t n, int64_t *ms)
{
    size_t i = 0, used;
    int64_t sec = 0;
    unsigned f = 0;
    bool ok = false;

    /* Up to 11 digits of seconds (year 5138): more is not a time in seconds. */
    while (i < n && i < 12 && (CLS(p[i]) & N_DIGIT)) {
        sec = sec * 10 + (p[i] - '0');
        i++;
    }
    if (i == 0 || i > 11)
        goto out;
    if (i < n) {
        if (p[i] != '.' || !frac_ms(p + i + 1, n - i - 1, &f, &used) || i + 1 + used != n)
            goto out;
    }
    *ms = sec * 1000 + f;
    ok = true;
out:
    return ok;
}

/* "+HH:MM", "+HHMM", "-…" at p[0..n) exactly, as signed seconds east of UTC. */
static bool zone_off(const char *p, size_t n, int64_t *sec)
{
    unsigned h, m;
    size_t mo;

    if ((n != 6 && n != 5) || (p[0] != '+' && p[0] != '-'))
        return false;
    if (n == 6 && p[3] != ':')
        return false;
    mo = n == 6 ? 4 : 3;
    if (!digits(p + 1, 2, &h) || !digits(p + mo, 2, &m) || h > 23 || m > 59)
        return false;
    *sec = (int64_t)(h * 3600 + m * 60) * (p[0] == '-' ? -1 : 1);
    return true;
}

bool scan_time_iso(const char *p, size_t n, int64_t *ms)
{
    unsigned y, mo, d, h, mi, s, f = 0;
    size_t i = 19, used;
    int64_t zs = 0, t;
    bool ok = false;

    if (n < 19 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
        !digits(p + 11, 2, &h) || p[13] != ':' || !digits(p + 14, 2, &mi) || p[16] != ':' ||
        !digits(p + 17, 2, &s))
        goto out;
    if (i < n && p[i] == '.') {
        if (!frac_ms(p + i + 1, n - i - 1, &f, &used))
            goto out;
        i += 1 + used;
    }
    if (i < n) {
        if (p[i] == 'Z' || p[i] == 'z') {
            if (i + 1 != n)
                goto out;
        } else if (!zone_off(p + i, n - i, &zs)) {
            goto out;
        }
    }
    if (!civil_ms(y, mo, d, h, mi, s, f, &t))
        goto out;
    *ms = t - zs * 1000;
    ok = true;
out:
    return ok;
}

/* "Jan".."Dec" (any case) -> 1..12, 0 when none. */
static unsigned month_of(const char *p)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char m[3] = {lower(p[0]), lower(p[1]), lower(p[2])};

    for (unsigned i = 0; i < 12; i++) {
        if (memcmp(names + 3 * i, m, 3) == 0)
            return i + 1;
    }
    return 0;
}

bool scan_time_clf(const char *p, size_t n, int64_t *ms)
{
    unsigned d, mo, y, h, mi, s;
    int64_t zs = 0, t;
    bool ok = false;

    /* 10/Oct/2000:13:55:36 -0700 (the zone may be missing: UTC) */
    if ((n != 20 && n != 26) || !digits(p, 2, &d) || p[2] != '/' || p[6] != '/' ||
        !digits(p + 7, 4, &y) || p[11] != ':' || !digits(p + 12, 2, &h) || p[14] != ':' ||
        !digits(p + 15, 2, &mi) || p[17] != ':' || !digits(p + 18, 2, &s))
        goto out;
    mo = month_of(p + 3);
    if (mo == 0)
        goto out;
    if (n == 26 && (p[20] != ' ' || !zone_off(p + 21, 5, &zs)))
        goto out;
    if (!civil_ms(y, mo, d, h, mi, s, 0, &t))
        goto out;
    *ms = t - zs * 1000;
    ok = true;
out:
    return ok;
}

bool scan_time_syslog(const char *p, size_t n, unsigned year, int64_t *ms)
{
    unsigned mo, d, h, mi, s;
    size_t i;
    bool ok = false;

    /* "Oct 11 22:14:15", "Oct  1 22:14:15" (space-padded day) or "Oct 1 22:14:15". */
    if (n < 14 || n > 15 || p[3] != ' ')
        goto out;
    mo = month_of(p);
    if (mo == 0)
        goto out;
    if (n == 15) {
        if (p[4] == ' ') {
            if (!digits(p + 5, 1, &d))
                goto out;
        } else if (!digits(p + 4, 2, &d)) {
            goto out;
        }
        i = 6;
    } else {
        if (!digits(p + 4, 1, &d))
            goto out;
        i = 5;
    }
    if (p[i] != ' ' || !digits(p + i + 1, 2, &h) || p[i + 3] != ':' || !digits(p + i + 4, 2, &mi) ||
        p[i + 6] != ':' || !digits(p + i + 7, 2, &s) || i + 9 != n)
        goto out;
    ok = civil_ms(year, mo, d, h, mi, s, 0, ms);
out:
    return ok;
}

/* Appends the decimal digits of an octet. */
static size_t put_octet(char *out, unsigned v)
{
    size_t w = 0;

    if (v >= 100)
        out[w++] = (char)('0' + v / 100);
    if (v >= 10)
        out[w++] = (char)('0' + v / 10 % 10);
    out[w++] = (char)('0' + v % 10);
    return w;
}

/* Written by hand, not by snprintf: every address hit's text is made here. */
size_t scan_addr_text(const struct scan_obs *o, char out[SCAN_ADDR_TEXT])
{
    static const char hex[] = "0123456789abcdef";
    int best = -1, bestn = 0;
    size_t w = 0;

    if (o->kind == SCAN_IPV4) {
        for (int k = 3; k >= 0; k--) {
            w += put_octet(out + w, o->u.v4 >> (8 * k) & 255);
            out[w++] = '.';
        }
        out[--w] = '\0';
        return w;
    }
    if (o->kind != SCAN_IPV6) {
        out[0] = '\0';
        return 0;
    }
    for (int g = 0; g < 8;) {
        int k = g;

        while (k < 8 && o->u.v6[2 * k] == 0 && o->u.v6[2 * k + 1] == 0)
            k++;
        if (k - g > bestn && k - g >= 2) {
            best = g;
            bestn = k - g;
        }
        g = k > g ? k : g + 1;
    }
    for (int g = 0; g < 8; g++) {
        unsigned v = (unsigned)o->u.v6[2 * g] << 8 | o->u.v6[2 * g + 1];
        bool lead = true;

        if (g == best) {
            out[w++] = ':';
            out[w++] = ':';
            g += bestn - 1;
            continue;
        }
        if (g != 0 && g != best + bestn)
            out[w++] = ':';
        for (int s = 12; s >= 0; s -= 4) {
            unsigned d = v >> s & 15;

            if (d == 0 && lead && s != 0)
                continue;
            lead = false;
            out[w++] = hex[d];
        }
    }
    out[w] = '\0';
    return w;
}
