#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *ctix_strerror(enum ctix_rc rc)
{
    switch (rc) {
    case CTIX_OK:
        return "ok";
    case CTIX_ENOMEM:
        return "out of memory";
    case CTIX_EINVAL:
        return "invalid input";
    case CTIX_ENOTFOUND:
        return "not found";
    case CTIX_ECONFLICT:
        return "conflict";
    case CTIX_EDENIED:
        return "denied";
    case CTIX_ETOOBIG:
        return "too big";
    case CTIX_EIO:
        return "i/o error";
    }
    return "unknown error";
}

void ctix_diag_set(struct ctix_diag *d, const char *where, const char *fmt, ...)
{
    va_list ap;

    if (d == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    if (where != NULL)
        ctix_strlcpy(d->where, where, sizeof(d->where));
    else
        d->where[0] = '\0';
}

void ctix_diag_clear(struct ctix_diag *d)
{
    if (d != NULL)
        memset(d, 0, sizeof(*d));
}

/* ---- logging ---- */

static enum ctix_log_level log_level = CTIX_LOG_INFO;
static char log_filter[256];

void ctix_log_set_level(enum ctix_log_level lvl)
{
    log_level = lvl;
}

void ctix_log_set_filter(const char *filter)
{
    ctix_strlcpy(log_filter, filter != NULL ? filter : "", sizeof(log_filter));
}

/* Later entries win, so "all,-http" logs everything but http and "-all,sync" only sync. */
static bool comp_enabled(const char *comp)
{
    bool on = true;
    const char *p = log_filter;
    size_t clen = strlen(comp);

    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        bool neg = n > 0 && p[0] == '-';
        const char *name = neg ? p + 1 : p;
        size_t nlen = neg ? n - 1 : n;

        if ((nlen == 3 && memcmp(name, "all", 3) == 0) ||
            (nlen == clen && memcmp(name, comp, clen) == 0))
            on = !neg;
        p += n;
        if (*p == ',')
            p++;
    }
    return on;
}

void ctix_log(enum ctix_log_level lvl, const char *comp, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    char ts[28], line[2048];
    va_list ap;
    int n;

    if (lvl < log_level || lvl >= CTIX_LOG_OFF || !comp_enabled(comp))
        return;
    ctix_ts_format_us(ctix_now_us(), ts);
    n = snprintf(line, sizeof(line), "%s level=%s comp=%s ", ts, names[lvl], comp);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One write per line so that lines from several threads never interleave. */
    n = (int)strlen(line);
    if ((size_t)n < sizeof(line) - 1)
        line[n++] = '\n';
    else
        line[sizeof(line) - 2] = '\n', n = (int)sizeof(line) - 1;
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}

/* ---- buffers ---- */

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_cleanup(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static enum ctix_rc buf_reserve(struct buf *b, size_t n)
{
    size_t need, cap;
    char *p;

    if (n > b->max || b->len > b->max - n)
        return CTIX_ETOOBIG;
    need = b->len + n + 1;
    if (need <= b->cap)
        return CTIX_OK;
    cap = b->cap != 0 ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    p = realloc(b->data, cap);
    if (p == NULL)
        return CTIX_ENOMEM;
    b->data = p;
    b->cap = cap;
    return CTIX_OK;
}

enum ctix_rc buf_grow(struct buf *b, size_t n)
{
    return buf_reserve(b, n);
}

enum ctix_rc buf_append(struct buf *b, const void *p, size_t n)
{
    enum ctix_rc rc = buf_reserve(b, n);

    if (rc != CTIX_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CTIX_OK;
}

enum ctix_rc buf_appends(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum ctix_rc buf_appendf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum ctix_rc rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CTIX_EINVAL;
    rc = buf_reserve(b, (size_t)n);
    if (rc != CTIX_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CTIX_OK;
}

enum ctix_rc buf_append_json_str(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    enum ctix_rc rc = buf_append(b, "\"", 1);
    size_t i, run = 0;

    for (i = 0; i < n && rc == CTIX_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t elen = 2;

        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (c >= 0x20) {
                run++;
                continue;
            }
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        rc = buf_append(b, s + i - run, run);
        run = 0;
        if (rc == CTIX_OK)
            rc = buf_append(b, esc, elen);
    }
    if (rc == CTIX_OK)
        rc = buf_append(b, s + n - run, run);
    if (rc == CTIX_OK)
        rc = buf_append(b, "\"", 1);
    return rc;
}

char *buf_steal(struct buf *b)
{
    char *p = b->data;

    if (p == NULL) {
        p = calloc(1, 1);
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* ---- time ---- */

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t ctix_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y += *m <= 2;
}

static bool digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap_year(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

enum ctix_rc ctix_ts_parse(const char *s, size_t len, struct ctix_ts *out)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, se, dim;
    size_t i;
    int32_t ns = 0;
    int nd = 0;

    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return CTIX_EINVAL;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return CTIX_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 60)
        return CTIX_EINVAL;
    dim = mdays[mo - 1] + (mo == 2 && leap_year(y));
    if (d > dim)
        return CTIX_EINVAL;
    i = 19;
    if (s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 9)
                ns = ns * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0)
            return CTIX_EINVAL;
    }
    if (i != len - 1 || s[i] != 'Z')
        return CTIX_EINVAL;
    for (int k = nd; k < 9; k++)
        ns *= 10;
    out->sec = ctix_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + se;
    out->nsec = ns;
    out->frac_digits = nd;
    return CTIX_OK;
}

int ctix_ts_cmp(const struct ctix_ts *a, const struct ctix_ts *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec < b->nsec ? -1 : 1;
    return 0;
}

int64_t ctix_ts_to_us(const struct ctix_ts *t)
{
    return t->sec * 1000000 + t->nsec / 1000;
}

void ctix_ts_format_us(int64_t us, char out[28])
{
    int64_t sec = us / 1000000, rem = us % 1000000, days, y;
    unsigned m, d, sod;

    if (rem < 0) {
        rem += 1000000;
        sec -= 1;
    }
    days = sec / 86400;
    if (sec % 86400 < 0)
        days -= 1;
    sod = (unsigned)(sec - days * 86400);
    civil_from_days(days, &y, &m, &d);
    /* Written digit by digit: the fields are bounded, and this is on every response's hot path. */
    {
        unsigned yy = (unsigned)(y < 0 ? 0 : y % 10000), us6 = (unsigned)rem;
        unsigned hh = sod / 3600, mi = sod / 60 % 60, ss = sod % 60;
        char *o = out;

        *o++ = (char)('0' + yy / 1000);
        *o++ = (char)('0' + yy / 100 % 10);
        *o++ = (char)('0' + yy / 10 % 10);
        *o++ = (char)('0' + yy % 10);
        *o++ = '-';
        *o++ = (char)('0' + m / 10);
        *o++ = (char)('0' + m % 10);
        *o++ = '-';
        *o++ = (char)('0' + d / 10);
        *o++ = (char)('0' + d % 10);
        *o++ = 'T';
        *o++ = (char)('0' + hh / 10);
        *o++ = (char)('0' + hh % 10);
        *o++ = ':';
        *o++ = (char)('0' + mi / 10);
        *o++ = (char)('0' + mi % 10);
        *o++ = ':';
        *o++ = (char)('0' + ss / 10);
        *o++ = (char)('0' + ss % 10);
        *o++ = '.';
        for (int k = 100000; k > 0; k /= 10)
            *o++ = (char)('0' + us6 / (unsigned)k % 10);
        *o++ = 'Z';
        *o = '\0';
    }
}

int64_t ctix_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ctix_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- random ---- */

enum ctix_rc ctix_random(void *p, size_t n)
{
    unsigned char *q = p;

    while (n > 0) {
        ssize_t got = getrandom(q, n, 0);

        if (got < 0) {
            if (errno == EINTR)
                continue;
            return CTIX_EIO;
        }
        q += got;
        n -= (size_t)got;
    }
    return CTIX_OK;
}

enum ctix_rc ctix_uuid4(char out[37])
{
    unsigned char b[16];
    enum ctix_rc rc = ctix_random(b, sizeof(b));

    if (rc != CTIX_OK)
        return rc;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    ctix_uuid_format(b, out);
    return CTIX_OK;
}

void ctix_uuid_format(const unsigned char b[16], char out[37])
{
    char hex[33];

    ctix_hex(b, 16, hex);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
}

bool ctix_unhex(const char *h, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = ctix_hexval(h[2 * i]), lo = hi < 0 ? -1 : ctix_hexval(h[2 * i + 1]);

        if (lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return h[2 * n] == '\0';
}

long ctix_hex4(const char *p, const char *end)
{
    long v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = ctix_hexval(p[i]);

        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Bytes that end a plain run inside a string: quote, backslash, controls and non-ASCII. */
static const unsigned char json_str_special[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 1,
};

/* Non-zero when one of the 8 bytes of v is special. The has-zero-byte tests can flag a byte above
 * a true hit, never below, so the lowest flagged byte is exact. */
static uint64_t json_word_special(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');

    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v) & highs;
}

const char *ctix_json_plain_end(const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t v, m;

        memcpy(&v, p, 8);
        m = json_word_special(v);
        if (m != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(m) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && !json_str_special[(unsigned char)*p])
        p++;
    return p;
}

void *ctix_calloc_big(size_t n, size_t elem)
{
    size_t bytes;
    void *p = NULL;

    if (n != 0 && elem > SIZE_MAX / n)
        return NULL;
    bytes = n * elem;
    if (bytes < ((size_t)2 << 20))
        return calloc(n, elem);
    if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0)
        return NULL;
    (void)madvise(p, bytes, MADV_HUGEPAGE);
    memset(p, 0, bytes);
    return p;
}

enum ctix_rc ctix_array_reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap != 0 ? *cap : 16;
    void *np;

    if (need <= *cap)
        return CTIX_OK;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return CTIX_ENOMEM;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return CTIX_ENOMEM;
    np = realloc(*arr, ncap * elem);
    if (np == NULL)
        return CTIX_ENOMEM;
    *arr = np;
    *cap = ncap;
    return CTIX_OK;
}

size_t ctix_json_unescape(const char *p, const char *q, char *out)
{
    char *o = out;

    while (p < q) {
        const char *bs = memchr(p, '\\', (size_t)(q - p));
        size_t run = (size_t)((bs != NULL ? bs : q) - p);
        long cp;

        memmove(o, p, run); /* in place, o may trail p */
        o += run;
        p += run;
        if (p == q)
            break;
        p++; /* the backslash */
        switch (*p++) {
        case 'b':
            *o++ = '\b';
            continue;
        case 'f':
            *o++ = '\f';
            continue;
        case 'n':
            *o++ = '\n';
            continue;
        case 'r':
            *o++ = '\r';
            continue;
        case 't':
            *o++ = '\t';
            continue;
        case 'u':
            break;
        default: /* '"', '\\', '/' */
            *o++ = p[-1];
            continue;
        }
        cp = ctix_hex4(p, q);
        p += 4;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (ctix_hex4(p + 2, q) - 0xdc00);
            p += 6;
        }
        if (cp < 0x80) {
            *o++ = (char)cp;
        } else if (cp < 0x800) {
            *o++ = (char)(0xc0 | (cp >> 6));
            *o++ = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            *o++ = (char)(0xe0 | (cp >> 12));
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
            *o++ = (char)(0x80 | (cp & 0x3f));
        } else {
            *o++ = (char)(0xf0 | (cp >> 18));
            *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
            *o++ = (char)(0x80 | (cp & 0x3f));
        }
    }
    return (size_t)(o - out);
}

size_t ctix_utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    size_t n = 0, need;
    uint32_t c, min;

    if (p >= end)
        goto out;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        need = 2;
        c = p[0] & 0x1f;
        min = 0x80;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        need = 3;
        c = p[0] & 0x0f;
        min = 0x800;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        need = 4;
        c = p[0] & 0x07;
        min = 0x10000;
    } else {
        goto out;
    }
    if ((size_t)(end - p) < need)
        goto out;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xc0) != 0x80)
            goto out;
        c = (c << 6) | (p[i] & 0x3f);
    }
    /* overlong forms, surrogates and values past U+10FFFF */
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        goto out;
    *cp = c;
    n = need;
out:
    return n;
}

bool ctix_utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s, *end = p + n;
    uint32_t cp;

    while (p < end) {
        size_t k = *p < 0x80 ? 1 : ctix_utf8_decode(p, end, &cp);

        if (k == 0)
            return false;
        p += k;
    }
    return true;
}

int ctix_b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int ctix_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool ishex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool ctix_uuid_valid(const char *s, bool v4only)
{
    size_t i;

    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!ishex(s[i])) {
            return false;
        }
    }
    if (s[36] != '\0')
        return false;
    if (v4only && (s[14] != '4' || strchr("89abAB", s[19]) == NULL))
        return false;
    return true;
}

/* ---- strings and files ---- */

size_t ctix_strlcpy(char *dst, const char *src, size_t n)
{
    size_t len = strlen(src);

    if (n > 0) {
        size_t c = len < n - 1 ? len : n - 1;

        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return len;
}

bool ctix_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (max - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

bool ctix_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

enum ctix_rc ctix_file_read(const char *path, size_t max, char **out, size_t *len,
                            struct ctix_diag *diag)
{
    struct buf b;
    char chunk[65536];
    enum ctix_rc rc = CTIX_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    buf_init(&b, max);
    if (fd < 0) {
        ctix_diag_set(diag, path, "cannot open: %s", strerror(errno));
        return CTIX_EIO;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ctix_diag_set(diag, path, "cannot read: %s", strerror(errno));
            rc = CTIX_EIO;
            goto out;
        }
        if (n == 0)
            break;
        rc = buf_append(&b, chunk, (size_t)n);
        if (rc != CTIX_OK) {
            ctix_diag_set(diag, path, "%s",
                          rc == CTIX_ETOOBIG ? "file is larger than the limit" : ctix_strerror(rc));
            goto out;
        }
    }
    *len = b.len;
    *out = buf_steal(&b);
    if (*out == NULL)
        rc = CTIX_ENOMEM;
out:
    close(fd);
    buf_cleanup(&b);
    return rc;
}

void ctix_hex(const void *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- arenas ---- */

struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, off;
    max_align_t data[]; /* aligns the first allocation for any type */
};

#define ARENA_MIN   256u
#define ARENA_MAX   65536u
#define ARENA_ALIGN (_Alignof(max_align_t))

void arena_init(struct arena *a)
{
    a->head = NULL;
    a->used = 0;
}

void arena_cleanup(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    void *p = NULL;
    struct arena_chunk *c = a->head;
    size_t need;

    if (n > SIZE_MAX / 2)
        goto out;
    need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (need == 0)
        need = ARENA_ALIGN;
    if (!c || c->cap - c->off < need) {
        size_t cap = c ? c->cap * 2 : ARENA_MIN;
        if (cap > ARENA_MAX)
            cap = ARENA_MAX;
        if (cap < need)
            cap = need;
        struct arena_chunk *nc = malloc(sizeof(*nc) + cap);
        if (!nc)
            goto out;
        nc->cap = cap;
        nc->off = 0;
        /* A big one-off allocation goes behind the current chunk, so the space left in that chunk
         * keeps serving small requests. */
        if (c && need > ARENA_MAX / 2 && c->cap - c->off >= ARENA_ALIGN) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    p = (char *)c->data + c->off;
    c->off += need;
    a->used += need;
out:
    return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}
