/* Log readers: one line of a log format in, its time and observables out (scan_int.h).
 *
 * Cost is the point: a whole scan has to run at about 1 GB/s on one core with the lookups, which
 * leaves a reader well under 100 ns for a 200-byte Squid or Zeek line. So a line is looked at
 * 64 bytes at a time as bit masks (separators, quotes), fields and strings are found from them
 * without a call or a per-byte loop, only the fields that can hold an observable are cut out
 * (Squid's 3rd, 7th and 9th, the Zeek columns with a role), the usual time shapes are parsed
 * inline, nothing is allocated per line, and a field is handed to the normalisers only when its
 * column can hold an observable.
 *
 * AUTO reads line by line: a file may hold consecutive sections of different formats (a proxy
 * log, then a Zeek section with its own headers, then JSON lines), so a '#' line is a Zeek
 * header, a line with the separator inside a Zeek section is a Zeek record, a line starting with
 * '{' is JSON, and anything else is read as the format detected from the first lines, falling
 * back to free-text extraction when it is not. AUTO reports BAD only for a Zeek record whose
 * field count contradicts its header: everything else still has its observables looked for.
 *
 * The connection a line describes (scan_rec.conn: source and destination address, ports,
 * transport) is for the rare record an evaluated pattern looks at, so reading a line pays next to
 * nothing for it: JSON and Squid lines only keep the line, Zeek lines the line and where the
 * ports and transport are (and which address is which), and scan_conn_get works the rest out,
 * reading a JSON or Squid line again with the connection's fields wanted. */
#include "scan/scan_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* What a column holds (scan_fmt_state.role). ROLE_SET marks a Zeek set or vector: its elements
 * are read one by one. */
enum fmt_role {
    ROLE_NONE,  /* ignored */
    ROLE_TIME,  /* the record's time */
    ROLE_ADDR,  /* an IP address (Zeek "addr") */
    ROLE_VALUE, /* one value, classified by scan_value_add */
    ROLE_TEXT,  /* CSV: one value, or free text when it is none and has spaces */
    ROLE_HOST,  /* Zeek http "host": a value, and with "uri" the request's URL */
    ROLE_URI,   /* Zeek http "uri" */
    /* the connection (scan_rec.conn): an address that is also the source or destination, a
     * port, the transport */
    ROLE_SRC,
    ROLE_DST,
    ROLE_SPORT,
    ROLE_DPORT,
    ROLE_PROTO,
    ROLE_SET = 0x80,
};
#define ROLE_MASK 0x7f

static const char *const fmt_names[SCAN_FMT_N] = {
    [SCAN_FMT_AUTO] = "auto",         [SCAN_FMT_PLAIN] = "plain",   [SCAN_FMT_JSONL] = "jsonl",
    [SCAN_FMT_ZEEK] = "zeek",         [SCAN_FMT_CSV] = "csv",       [SCAN_FMT_SQUID] = "squid",
    [SCAN_FMT_COMBINED] = "combined", [SCAN_FMT_SYSLOG] = "syslog",
};

const char *scan_fmt_name(enum scan_fmt f)
{
    if ((unsigned)f >= SCAN_FMT_N)
        return "?";
    return fmt_names[f];
}

bool scan_fmt_parse(const char *name, enum scan_fmt *out)
{
    bool ok = false;

    for (unsigned i = 0; i < SCAN_FMT_N && name != NULL; i++) {
        if (strcmp(name, fmt_names[i]) == 0) {
            *out = (enum scan_fmt)i;
            ok = true;
            break;
        }
    }
    return ok;
}

/* ---- small helpers ---- */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t')
            return false;
    }
    return true;
}

/* ASCII case-insensitive equality of p[0..n) and the NUL-terminated lower-case word w. */
static bool word_eq(const char *p, size_t n, const char *w)
{
    size_t i = 0;

    for (; i < n && w[i] != '\0'; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (c != (unsigned char)w[i])
            return false;
    }
    return i == n && w[i] == '\0';
}

static bool has_prefix(const char *p, size_t n, const char *pre)
{
    size_t k = strlen(pre);

    return n >= k && memcmp(p, pre, k) == 0;
}

/* Positions of byte c in p[0..n), in order, at most max of them; returns how many were stored.
 * Sixteen bytes per step where SSE2 is there (x86-64 always has it): one call finds every
 * separator of a Zeek or Squid line, instead of one memchr call per field. */
static size_t byte_positions(const char *p, size_t n, char c, uint32_t *pos, size_t max)
{
    size_t k = 0, i = 0;

#if defined(__SSE2__)
    const __m128i v = _mm_set1_epi8(c);

    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, v));

        while (m != 0) {
            if (k == max)
                goto out;
            pos[k++] = (uint32_t)(i + (unsigned)__builtin_ctz(m));
            m &= m - 1;
        }
    }
#endif
    for (; i < n; i++) {
        if (p[i] == c) {
            if (k == max)
                goto out;
            pos[k++] = (uint32_t)i;
        }
    }
out:
    return k;
}

/* ---- 64-byte blocks as bit masks ----
 *
 * The fast readers look at a line 64 bytes at a time, each block turned into one bit per byte
 * (bit k: byte base + k): a field's end or a string's closing quote is then a count of trailing
 * zeros away, with no call and no per-byte loop. A block that runs past the line's end is read
 * as the line's last 64 bytes (shifted), or copied when the whole line is shorter, so nothing
 * outside line[0..len) is touched; bits past the end are cleared. */

/* Where the bytes of the block at base can be read (64 of them), and how many low bits of the
 * masks made there belong to the previous block. */
static inline const char *blk_at(const char *line, size_t len, size_t base, char *tmp,
                                 unsigned *drop)
{
    const char *p = line + base;

    *drop = 0;
    if (base + 64 > len) {
        if (len >= 64) {
            *drop = (unsigned)(base + 64 - len);
            p = line + len - 64;
        } else {
            memset(tmp, 0, 64);
            memcpy(tmp, line + base, len - base);
            p = tmp;
        }
    }
    return p;
}

/* The bits of the block at base that are inside the line. */
static inline uint64_t blk_valid(size_t len, size_t base)
{
    return len - base >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << (len - base)) - 1;
}

#if defined(__SSE2__)
static inline uint64_t mask16(__m128i x, __m128i v)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, v));
}

/* The bytes of p[0..64) equal to c. */
static inline uint64_t eq64(const char *p, char c)
{
    const __m128i v = _mm_set1_epi8(c);

    return mask16(_mm_loadu_si128((const __m128i *)(const void *)p), v) |
           mask16(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), v) << 16 |
           mask16(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)), v) << 32 |
           mask16(_mm_loadu_si128((const __m128i *)(const void *)(p + 48)), v) << 48;
}
#else
static inline uint64_t eq64(const char *p, char c)
{
    uint64_t m = 0;

    for (unsigned i = 0; i < 64; i++)
        m |= (uint64_t)(p[i] == c) << i;
    return m;
}
#endif

/* The bytes of the block at base of line[0..len) equal to c. */
static inline uint64_t blk_eq(const char *line, size_t len, size_t base, char c)
{
    char tmp[64];
    unsigned drop;
    const char *p = blk_at(line, len, base, tmp, &drop);

    return (eq64(p, c) >> drop) & blk_valid(len, base);
}

static inline unsigned popcount64(uint64_t x)
{
    /* the baseline x86-64 target has no popcnt instruction: the bit-slicing count */
    x = x - ((x >> 1) & 0x5555555555555555u);
    x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fu;
    return (unsigned)((x * 0x0101010101010101u) >> 56);
}

/* The index of the first c in p[0..n), or n: for the short fields of a record, where a call to
 * memchr costs more than the loop. */
static inline size_t byte_find(const char *p, size_t n, char c)
{
    size_t i = 0;

#if defined(__SSE2__)
    if (n >= 16) {
        const __m128i v = _mm_set1_epi8(c);
        unsigned m;

        for (; i + 16 <= n; i += 16) {
            m = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)), v));
            if (m != 0)
                return i + (unsigned)__builtin_ctz(m);
        }
        if (i < n) { /* the last 16 bytes, those already seen shifted out */
            m = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)), v));
            m >>= i + 16 - n;
            if (m != 0)
                return i + (unsigned)__builtin_ctz(m);
        }
        return n;
    }
#endif
    while (i < n && p[i] != c)
        i++;
    return i;
}

/* An observable appended in place (scan_rec_add's rule: counted in n_dropped when full). */
static inline bool rec_add(struct scan_rec *r, const struct scan_obs *o)
{
    if (r->n_obs >= SCAN_REC_MAX_OBS) {
        r->n_dropped++;
        return false;
    }
    r->obs[r->n_obs++] = *o;
    return true;
}

/* Eight ASCII digits at p as their value; false when one is not a digit. */
static inline bool digits8(const char *p, uint32_t *out)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;

    memcpy(&v, p, 8);
    if (((v & 0xf0f0f0f0f0f0f0f0u) | (((v + 0x0606060606060606u) & 0xf0f0f0f0f0f0f0f0u) >> 4)) !=
        0x3333333333333333u)
        return false;
    v = ((v & 0x0f0f0f0f0f0f0f0fu) * 2561) >> 8;
    v = ((v & 0x00ff00ff00ff00ffu) * 6553601) >> 16;
    *out = (uint32_t)(((v & 0x0000ffff0000ffffu) * 42949672960001u) >> 32);
    return true;
#else
    uint32_t x = 0;

    for (unsigned i = 0; i < 8; i++) {
        if (!is_digit((unsigned char)p[i]))
            return false;
        x = x * 10 + (uint32_t)(p[i] - '0');
    }
    *out = x;
    return true;
#endif
}

/* scan_time_epoch with the shape every Squid and Zeek log writes today (ten digits of seconds,
 * a '.', a fraction) read without a call; anything else goes to scan_time_epoch. */
static inline bool time_epoch(const char *p, size_t n, int64_t *ms)
{
    uint32_t hi;

    if (n >= 12 && n <= 24 && p[10] == '.' && digits8(p, &hi) && is_digit((unsigned char)p[8]) &&
        is_digit((unsigned char)p[9])) {
        unsigned f = 0;
        size_t i = 11;

        for (; i < n && is_digit((unsigned char)p[i]); i++) {
            if (i < 14)
                f = f * 10 + (unsigned)(p[i] - '0');
        }
        if (i == n) {
            for (size_t k = n; k < 14; k++)
                f *= 10;
            *ms = ((int64_t)hi * 100 + (p[8] - '0') * 10 + (p[9] - '0')) * 1000 + f;
            return true;
        }
    }
    return scan_time_epoch(p, n, ms);
}

/* The mark a reader can roll a record back to when a line turns out not to be its format. The
 * connection is not kept: a mark is taken before any reader ran (auto_line), when it is empty,
 * and a rollback empties it. */
struct rec_mark {
    size_t n_obs, n_dropped, scratch_len;
    int64_t time_ms;
};

static void rec_mark(const struct scan_rec *r, struct rec_mark *m)
{
    m->n_obs = r->n_obs;
    m->n_dropped = r->n_dropped;
    m->scratch_len = r->scratch_len;
    m->time_ms = r->time_ms;
}

static void rec_rollback(struct scan_rec *r, const struct rec_mark *m)
{
    r->n_obs = m->n_obs;
    r->n_dropped = m->n_dropped;
    r->scratch_len = m->scratch_len;
    r->time_ms = m->time_ms;
    memset(&r->conn, 0, sizeof(r->conn));
}

/* A message with numbers, kept in the record's scratch (valid until the record is reset); the
 * fixed fallback when there is no room. */
static const char *rec_msg(struct scan_rec *r, const char *fallback, const char *fmt, ...)
    CTIX_PRINTF(3, 4);

static const char *rec_msg(struct scan_rec *r, const char *fallback, const char *fmt, ...)
{
    char *p = scan_rec_scratch(r, 96);
    const char *msg = fallback;
    va_list ap;
    int k;

    if (p == NULL)
        goto out;
    va_start(ap, fmt);
    k = vsnprintf(p, 96, fmt, ap);
    va_end(ap);
    if (k < 0 || k >= 96)
        goto out;
    r->scratch_len += (size_t)k + 1;
    msg = p;
out:
    return msg;
}

/* An IP address field: the fast path for columns that hold nothing else. */
static size_t addr_add(struct scan_rec *r, const char *p, size_t n, uint32_t off)
{
    struct scan_obs o;
    size_t added = 0;

    o.off = off;
    o.len = (uint32_t)n;
    if (n >= 7 && n <= 15 && scan_ipv4_parse(p, n, &o.u.v4)) {
        o.kind = SCAN_IPV4;
        added = rec_add(r, &o);
    } else if (n >= 2 && memchr(p, ':', n) != NULL && scan_ipv6_parse(p, n, o.u.v6)) {
        o.kind = SCAN_IPV6;
        added = rec_add(r, &o);
    } else {
        added = scan_value_add(r, p, n, off); /* a host name where an address was expected */
    }
    return added;
}

/* Text that is one value, else free text: the CSV rule. */
static void text_add(struct scan_rec *r, const char *p, size_t n, uint32_t off)
{
    if (n == 0)
        return;
    if (scan_value_add(r, p, n, off) == 0 && memchr(p, ' ', n) != NULL)
        scan_extract(r, p, n, off);
}

/* ---- the connection a record describes ---- */

/* The observable a reader's address field added at index at becomes the connection's source or
 * destination (*slot), when it is an address (a host name there is not). */
static inline void conn_addr(struct scan_rec *r, size_t at, uint16_t *slot)
{
    if (at < r->n_obs && (r->obs[at].kind == SCAN_IPV4 || r->obs[at].kind == SCAN_IPV6))
        *slot = (uint16_t)(at + 1);
}

/* A port: 1 to 5 decimal digits, at most 65535. */
static bool port_parse(const char *p, size_t n, uint16_t *out)
{
    uint32_t v = 0;

    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)p[i]))
            return false;
        v = v * 10 + (uint32_t)(p[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

/* The transport of p[0..n) into out: see scan_conn_get. */
static void conn_proto(const char *p, size_t n, struct scan_conn_info *out)
{
    static const struct {
        unsigned num;
        const char *name;
    } nums[] = {{1, "icmp"}, {6, "tcp"}, {17, "udp"}, {58, "ipv6-icmp"}, {132, "sctp"}};
    uint16_t v;

    if (n > 0 && is_digit((unsigned char)p[0])) {
        if (!port_parse(p, n, &v))
            return;
        for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
            if (nums[i].num == v) {
                out->proto_len = (uint8_t)strlen(nums[i].name);
                memcpy(out->proto, nums[i].name, (size_t)out->proto_len + 1);
            }
        }
        return;
    }
    /* a name starts with a letter: Zeek's unset "-" is none */
    if (n == 0 || n > SCAN_PROTO_MAX || !((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z'))
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];

        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch + 32);
        else if (!((ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '-' || ch == '_'))
            goto bad;
        out->proto[i] = (char)ch;
    }
    out->proto[n] = '\0';
    out->proto_len = (uint8_t)n;
    return;
bad:
    out->proto[0] = '\0'; /* nothing half-written */
}

/* The first bytes of the key names the readers know (conn_key_match, and json_time_key's), one
 * bit per (byte & 31) for each length: the test that rules out nearly every other key before a
 * name is compared (another byte with the same low bits only costs the comparison). Must agree
 * with the names: fmt_test reads a line with each. */
#define CB(c) ((uint32_t)1 << ((c)&31))
static const uint32_t key_first[18] = {
    [2] = CB('t'),
    [3] = CB('s') | CB('d'),
    [4] = CB('d') | CB('t'),
    [5] = CB('p') | CB('s') | CB('d'),
    [6] = CB('s') | CB('d'),
    [7] = CB('d') | CB('s'),
    [8] = CB('s') | CB('d') | CB('p'),
    [9] = CB('i') | CB('s') | CB('d') | CB('t'),
    [10] = CB('@') | CB('e'),
    [11] = CB('s'),
    [14] = CB('d'),
    [16] = CB('d'),
    [17] = CB('n'),
};
#undef CB

/* Whether a key of n bytes starting with c may be one the readers know (key_first). */
static inline bool key_may(const char *k, size_t n)
{
    return n < sizeof(key_first) / sizeof(key_first[0]) &&
           (key_first[n] >> ((unsigned char)k[0] & 31) & 1);
}

/* The connection role of a JSON key or a (lower-cased) CSV column name, ROLE_NONE for others:
 * the names firewall, flow and Zeek JSON logs commonly give the connection's fields, compared by
 * length, each comparison a constant-size memcmp the compiler makes a word compare. Callers
 * rule out most keys with key_may first. */
static uint8_t conn_key_match(const char *k, size_t n)
{
#define K(s, role)                                                                                 \
    do {                                                                                           \
        if (memcmp(k, s, sizeof(s) - 1) == 0)                                                      \
            return role;                                                                           \
    } while (0)
    switch (n) {
    case 3:
        K("src", ROLE_SRC);
        K("dst", ROLE_DST);
        K("spt", ROLE_SPORT);
        K("dpt", ROLE_DPORT);
        break;
    case 4:
        K("dest", ROLE_DST);
        break;
    case 5:
        K("proto", ROLE_PROTO);
        K("srcip", ROLE_SRC);
        K("dstip", ROLE_DST);
        K("sport", ROLE_SPORT);
        K("dport", ROLE_DPORT);
        break;
    case 6:
        K("src_ip", ROLE_SRC);
        K("dst_ip", ROLE_DST);
        break;
    case 7:
        K("dest_ip", ROLE_DST);
        K("srcaddr", ROLE_SRC);
        K("dstaddr", ROLE_DST);
        K("srcport", ROLE_SPORT);
        K("dstport", ROLE_DPORT);
        break;
    case 8:
        K("src_port", ROLE_SPORT);
        K("dst_port", ROLE_DPORT);
        K("src_addr", ROLE_SRC);
        K("dst_addr", ROLE_DST);
        K("protocol", ROLE_PROTO);
        break;
    case 9:
        K("id.orig_h", ROLE_SRC);
        K("id.resp_h", ROLE_DST);
        K("id.orig_p", ROLE_SPORT);
        K("id.resp_p", ROLE_DPORT);
        K("source_ip", ROLE_SRC);
        K("source.ip", ROLE_SRC);
        K("dest_port", ROLE_DPORT);
        K("transport", ROLE_PROTO);
        break;
    case 11:
        K("source_port", ROLE_SPORT);
        K("source.port", ROLE_SPORT);
        break;
    case 14:
        K("destination_ip", ROLE_DST);
        K("destination.ip", ROLE_DST);
        break;
    case 16:
        K("destination_port", ROLE_DPORT);
        K("destination.port", ROLE_DPORT);
        break;
    case 17:
        K("network.transport", ROLE_PROTO);
        break;
    default:
        break;
    }
#undef K
    return ROLE_NONE;
}

/* Where a non-address field of the connection (a port, the transport) is: noted, read later
 * (scan_conn_get). Text longer than any such value is not one. */
static inline void conn_value(struct scan_rec *r, uint8_t role, const char *p, size_t n)
{
    uint8_t k = (uint8_t)(n <= SCAN_PROTO_MAX ? n : 0);

    if (role == ROLE_SPORT) {
        r->conn.sport = p;
        r->conn.sport_len = k;
    } else if (role == ROLE_DPORT) {
        r->conn.dport = p;
        r->conn.dport_len = k;
    } else if (role == ROLE_PROTO) {
        r->conn.proto = p;
        r->conn.proto_len = k;
    }
}

/* scan_time_iso for the shape JSON logs write ("2024-05-06T12:30:24.271Z": UTC, 'T', a
 * fraction or none) read inline; anything else (zones, no 'Z', odd digits) goes to
 * scan_time_iso, which also has the last word on every range. */
static bool time_iso(const char *p, size_t n, int64_t *ms)
{
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned v[6], f = 0;
    size_t i = 19;

    if (n < 20 || n > 40 || p[n - 1] != 'Z' || p[4] != '-' || p[7] != '-' || p[10] != 'T' ||
        p[13] != ':' || p[16] != ':')
        goto slow;
    for (unsigned k = 0; k < 6; k++) {
        static const unsigned char off[6] = {0, 5, 8, 11, 14, 17};
        size_t w = k == 0 ? 4 : 2;

        v[k] = 0;
        for (size_t j = 0; j < w; j++) {
            unsigned char c = (unsigned char)p[off[k] + j];

            if (!is_digit(c))
                goto slow;
            v[k] = v[k] * 10 + (unsigned)(c - '0');
        }
    }
    if (n > 20) {
        if (p[19] != '.' || n == 21)
            goto slow;
        for (i = 20; i < n - 1; i++) {
            if (!is_digit((unsigned char)p[i]))
                goto slow;
            if (i < 23)
                f = f * 10 + (unsigned)(p[i] - '0');
        }
        for (i = n - 1; i < 23; i++)
            f *= 10;
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1] || v[3] > 23 || v[4] > 59 ||
        v[5] > 60)
        goto slow;
    if (v[1] == 2 && v[2] == 29 && !((v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0))
        goto slow;
    *ms = ((ctix_days_from_civil(v[0], v[1], v[2]) * 86400) + (int64_t)v[3] * 3600 +
           (int64_t)v[4] * 60 + (int64_t)v[5]) *
              1000 +
          (int64_t)f;
    return true;
slow:
    return scan_time_iso(p, n, ms);
}

/* A time in any form a structured log writes one: RFC 3339, epoch seconds or milliseconds. */
static bool time_any(const char *p, size_t n, int64_t *ms)
{
    size_t digits = 0;

    while (digits < n && is_digit((unsigned char)p[digits]))
        digits++;
    if (digits == n && digits >= 12 && digits <= 16) { /* epoch milliseconds */
        uint64_t v = 0;

        for (size_t i = 0; i < n; i++)
            v = v * 10 + (uint64_t)(p[i] - '0');
        *ms = (int64_t)v;
        return true;
    }
    if (digits == 4)
        return time_iso(p, n, ms);
    return time_epoch(p, n, ms);
}

/* ---- Squid native access.log ---- */

#define SQUID_FIELDS 10

/* Splits at runs of spaces into at most max fields; returns how many were found. */
static size_t split_spaces(const char *line, size_t len, const char **f, size_t *fl, size_t max)
{
    uint32_t pos[48];
    size_t n_pos = byte_positions(line, len, ' ', pos, 48);
    size_t nf = 0, s = 0;

    for (size_t k = 0; k <= n_pos && nf < max; k++) {
        size_t e = k < n_pos ? pos[k] : len;

        if (k == n_pos && n_pos == 48) {
            /* more spaces than positions: the rest one memchr at a time */
            while (nf < max) {
                const char *sp;

                while (s < len && line[s] == ' ')
                    s++;
                if (s >= len)
                    break;
                sp = memchr(line + s, ' ', len - s);
                e = sp != NULL ? (size_t)(sp - line) : len;
                f[nf] = line + s;
                fl[nf] = e - s;
                nf++;
                s = e;
            }
            break;
        }
        if (e > s) {
            f[nf] = line + s;
            fl[nf] = e - s;
            nf++;
        }
        s = e + 1;
    }
    return nf;
}

/* The fields of a line split at runs of spaces (as split_spaces), as the offsets where they
 * start and end, alternating in ev (ev[2i] and ev[2i + 1]: field i), as far as the start of
 * field max - 1 (whose end is not wanted); returns how many fields were found, at most max.
 * Fields are the runs of non-space bytes: each block's mask gives their starts and ends. ev has
 * room for 2 * max + 64 entries. */
static size_t fields_spaces(const char *line, size_t len, uint32_t *ev, size_t max)
{
    size_t k = 0;
    uint64_t carry = 0; /* 1 when the byte before the block is not a space */

    for (size_t base = 0; base < len && k < 2 * max - 1; base += 64) {
        uint64_t in = ~blk_eq(line, len, base, ' ') & blk_valid(len, base);
        uint64_t m = in ^ (in << 1 | carry); /* where a run of non-spaces starts or ends */

        carry = in >> 63;
        while (m != 0) {
            ev[k++] = (uint32_t)(base + (unsigned)__builtin_ctzll(m));
            m &= m - 1;
        }
    }
    if (k % 2 == 1)
        ev[k++] = (uint32_t)len; /* the line ends inside a field */
    return k / 2 < max ? k / 2 : max;
}

/* The first c in line[s..e), or e: one 16-byte compare when the line has the bytes to read. */
static inline size_t field_find(const char *line, size_t len, size_t s, size_t e, char c)
{
#if defined(__SSE2__)
    if (e - s <= 16 && s + 16 <= len) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)(line + s)), _mm_set1_epi8(c)));

        m &= (1u << (e - s)) - 1;
        return m != 0 ? s + (unsigned)__builtin_ctz(m) : e;
    }
#else
    (void)len;
#endif
    return s + byte_find(line + s, e - s, c);
}

/* The port a URL in normal form names: its own, or its scheme's default (which the normal form
 * drops). false when it has no authority or an unknown scheme without a port. */
static bool url_port(const char *p, size_t n, uint16_t *port)
{
    static const struct {
        const char *scheme;
        size_t len;
        uint16_t port;
    } dflt[] = {{"http", 4, 80}, {"https", 5, 443}, {"ftp", 3, 21}, {"ws", 2, 80}, {"wss", 3, 443}};
    size_t sl = 0, a, e, c;

    while (sl < n && sl < 32 && p[sl] != ':')
        sl++;
    if (sl + 3 > n || memcmp(p + sl, "://", 3) != 0)
        return false;
    a = sl + 3;
    /* the authority ends at the path, which the normal form never leaves empty; the port is the
     * digits after its last ':' (one inside [v6] brackets is followed by more than digits) */
    e = a + byte_find(p + a, n - a, '/');
    for (c = e; c > a && is_digit((unsigned char)p[c - 1]); c--)
        ;
    if (c < e && c > a && p[c - 1] == ':')
        return port_parse(p + c, e - c, port);
    for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++) {
        if (sl == dflt[i].len && memcmp(p, dflt[i].scheme, sl) == 0) {
            *port = dflt[i].port;
            return true;
        }
    }
    return false;
}

/* The server port of a Squid request: CONNECT's "host:port", else the URL's (noted only: it is
 * worked out when an evaluation needs it, scan_conn_get). at: where the URL's observables
 * start. */
static void squid_dport(struct scan_rec *r, size_t at, const char *method, size_t ml, const char *t,
                        size_t tl)
{
    size_t c;

    if (at < r->n_obs && r->obs[at].kind == SCAN_URL) {
        r->conn.url = (uint16_t)(at + 1);
    } else if (ml == 7 && memcmp(method, "CONNECT", 7) == 0) {
        for (c = tl; c > 0 && is_digit((unsigned char)t[c - 1]); c--)
            ;
        if (c < tl && c > 0 && t[c - 1] == ':')
            conn_value(r, ROLE_DPORT, t + c, tl - c);
    }
}

/* A Squid line. The connection (client -> server address, the server's port) is read only with
 * conn (scan_conn_get reads the line again so); without, r->conn keeps the line for that. */
static enum scan_line_rc squid_line(const char *line, size_t len, struct scan_rec *r,
                                    const char **why, bool conn)
{
    uint32_t f[2 * SQUID_FIELDS + 64]; /* field i: line[f[2i], f[2i + 1]) */
    size_t nf = fields_spaces(line, len, f, SQUID_FIELDS);
    enum scan_line_rc rc = SCAN_LINE_BAD;
    size_t k, at;

    if (nf < SQUID_FIELDS) {
        *why = rec_msg(r, "too few fields for a Squid access.log line",
                       "%zu fields where a Squid access.log line has %d", nf, SQUID_FIELDS);
        goto out;
    }
    if (!time_epoch(line + f[0], f[1] - f[0], &r->time_ms)) {
        r->time_ms = SCAN_TIME_NONE;
        *why = "the first field is not a Squid time (seconds.milliseconds)";
        goto out;
    }
    if (field_find(line, len, f[6], f[7], '/') == f[7]) {
        *why = "the fourth field is not a Squid code/status";
        goto out;
    }
    at = r->n_obs;
    addr_add(r, line + f[4], f[5] - f[4], f[4]);
    if (conn)
        conn_addr(r, at, &r->conn.src);
    /* A URL gives the URL and its host; CONNECT's "host:port" gives the host. */
    at = r->n_obs;
    scan_value_add(r, line + f[12], f[13] - f[12], f[12]);
    if (conn)
        squid_dport(r, at, line + f[10], f[11] - f[10], line + f[12], f[13] - f[12]);
    k = field_find(line, len, f[16], f[17], '/');
    if (k < f[17]) {
        size_t n = f[17] - k - 1;

        if (n > 1 || (n == 1 && line[k + 1] != '-')) {
            at = r->n_obs;
            addr_add(r, line + k + 1, n, (uint32_t)(k + 1));
            if (conn) /* the server's address; a host name is not one */
                conn_addr(r, at, &r->conn.dst);
        }
    }
    rc = SCAN_LINE_OK;
    r->conn.reread = SCAN_FMT_SQUID;
    r->conn.line = line;
    r->conn.line_len = (uint32_t)len;
out:
    return rc;
}

/* ---- Apache/nginx combined and common log formats ---- */

/* The end of a quoted CLF string whose opening quote is at p[i]: the index of the closing quote
 * (backslash escapes skipped), or n when it is not closed. */
static size_t quote_end(const char *p, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i;
    }
    return n;
}

static enum scan_line_rc combined_line(const char *line, size_t len, struct scan_rec *r,
                                       const char **why)
{
    const char *f[5];
    size_t fl[5], nf, i, e;
    const char *br = memchr(line, '[', len);
    enum scan_line_rc rc = SCAN_LINE_BAD;

    *why = "not an Apache/nginx combined or common log line";
    if (br == NULL)
        goto out;
    /* "[vhost[:port]] ip ident user [time] ..." */
    nf = split_spaces(line, (size_t)(br - line), f, fl, 5);
    if (nf < 3 || nf > 4)
        goto out;
    i = (size_t)(br - line);
    e = i + 1;
    while (e < len && line[e] != ']')
        e++;
    if (e >= len || !scan_time_clf(line + i + 1, e - i - 1, &r->time_ms)) {
        r->time_ms = SCAN_TIME_NONE;
        *why = "no [dd/Mon/yyyy:hh:mm:ss zone] time where a combined log line has it";
        goto out;
    }
    i = e + 1;
    while (i < len && line[i] == ' ')
        i++;
    if (i >= len || line[i] != '"')
        goto out;
    e = quote_end(line, len, i);
    if (e >= len)
        goto out;
    if (nf == 4) {
        const char *colon = memchr(f[0], ':', fl[0]);
        size_t hl = colon != NULL ? (size_t)(colon - f[0]) : fl[0];

        if (hl > 0 && !(hl == 1 && f[0][0] == '-'))
            scan_value_add(r, f[0], hl, (uint32_t)(f[0] - line));
        f[0] = f[1];
        fl[0] = fl[1];
    }
    {
        size_t at = r->n_obs;

        addr_add(r, f[0], fl[0], (uint32_t)(f[0] - line));
        conn_addr(r, at, &r->conn.src); /* the client; the log does not name the server's */
    }
    {
        /* the request: "METHOD target PROTO"; an absolute target is a URL, CONNECT's is a host */
        const char *req = line + i + 1;
        size_t rl = e - i - 1;
        const char *sp = memchr(req, ' ', rl);

        if (sp != NULL) {
            const char *t = sp + 1;
            const char *te = memchr(t, ' ', (size_t)(req + rl - t));
            size_t tl = te != NULL ? (size_t)(te - t) : (size_t)(req + rl - t);
            bool connect = sp - req == 7 && memcmp(req, "CONNECT", 7) == 0;

            if (tl > 0 && (connect || (t[0] != '/' && memchr(t, ':', tl) != NULL)))
                scan_value_add(r, t, tl, (uint32_t)(t - line));
        }
    }
    /* status and bytes, then the optional "referer" "user-agent" */
    i = e + 1;
    for (int q = 0; q < 2; q++) {
        while (i < len && line[i] != '"')
            i++;
        if (i >= len)
            break;
        e = quote_end(line, len, i);
        if (e >= len)
            break;
        if (q == 0) {
            if (e - i - 1 > 1)
                scan_value_add(r, line + i + 1, e - i - 1, (uint32_t)(i + 1));
        } else {
            scan_extract(r, line + i + 1, e - i - 1, (uint32_t)(i + 1));
        }
        i = e + 1;
    }
    rc = SCAN_LINE_OK;
out:
    return rc;
}

/* ---- syslog ---- */

/* The next space-delimited token at p[*i]: its start and length, *i past it and one space.
 * false when there is none. */
static bool token_next(const char *p, size_t n, size_t *i, const char **t, size_t *tl)
{
    const char *sp;
    size_t end;

    if (*i >= n || p[*i] == ' ')
        return false;
    sp = memchr(p + *i, ' ', n - *i);
    end = sp != NULL ? (size_t)(sp - p) : n;
    *t = p + *i;
    *tl = end - *i;
    *i = end < n ? end + 1 : n;
    return true;
}

static enum scan_line_rc syslog_line(const struct scan_fmt_state *st, const char *line, size_t len,
                                     struct scan_rec *r, const char **why)
{
    size_t i = 0;
    const char *t;
    size_t tl;
    enum scan_line_rc rc = SCAN_LINE_BAD;

    *why = "not a syslog line (RFC 3164 or RFC 5424)";
    if (len > 0 && line[0] == '<') { /* <PRI>: 1 to 3 digits */
        i = 1;
        while (i < len && i < 4 && is_digit((unsigned char)line[i]))
            i++;
        if (i == 1 || i >= len || line[i] != '>')
            goto out;
        i++;
    }
    if (len - i >= 2 && line[i] == '1' && line[i + 1] == ' ') {
        /* RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [MSG] */
        i += 2;
        if (!token_next(line, len, &i, &t, &tl))
            goto out;
        if (!(tl == 1 && t[0] == '-') && !scan_time_iso(t, tl, &r->time_ms)) {
            r->time_ms = SCAN_TIME_NONE;
            *why = "RFC 5424 line with a malformed TIMESTAMP";
            goto out;
        }
        for (int k = 0; k < 4; k++) {
            if (!token_next(line, len, &i, &t, &tl))
                goto out;
        }
    } else if (len - i >= 16 && line[i + 15] == ' ' &&
               scan_time_syslog(line + i, 15, st->syslog_year, &r->time_ms)) {
        i += 16;
        if (!token_next(line, len, &i, &t, &tl)) /* HOSTNAME: the reporter, not an observable */
            goto out;
    } else if (len - i >= 20 && is_digit((unsigned char)line[i]) && line[i + 4] == '-') {
        /* RFC 3164 framing with an RFC 3339 time (rsyslog's high-precision template) */
        size_t j = i;

        if (!token_next(line, len, &j, &t, &tl) || !scan_time_iso(t, tl, &r->time_ms)) {
            r->time_ms = SCAN_TIME_NONE;
            goto out;
        }
        i = j;
        if (!token_next(line, len, &i, &t, &tl))
            goto out;
    } else {
        r->time_ms = SCAN_TIME_NONE;
        goto out;
    }
    if (i < len)
        scan_extract(r, line + i, len - i, (uint32_t)i);
    rc = SCAN_LINE_OK;
out:
    return rc;
}

/* ---- CSV ---- */

/* The next cell of a CSV line starting at *i: its text (quotes removed, "" unescaped into the
 * scratch when needed) and where it is in the line. *i moves past the delimiter; *more is false
 * after the last cell. false when a quoted cell is not closed. */
static bool csv_cell(struct scan_rec *r, const char *line, size_t len, char delim, size_t *i,
                     const char **p, size_t *n, size_t *off, bool *more)
{
    size_t s = *i;
    bool ok = true;

    if (s < len && line[s] == '"') {
        size_t e = s + 1;
        bool esc = false;

        for (;;) {
            const char *q = memchr(line + e, '"', len - e);

            if (q == NULL) {
                ok = false;
                goto out;
            }
            e = (size_t)(q - line);
            if (e + 1 < len && line[e + 1] == '"') {
                esc = true;
                e += 2;
                continue;
            }
            break;
        }
        *off = s + 1;
        *p = line + s + 1;
        *n = e - s - 1;
        if (esc && r != NULL) {
            char *o = scan_rec_scratch(r, *n);
            size_t k = 0;

            if (o != NULL) {
                for (size_t j = 0; j < *n; j++) {
                    o[k++] = (*p)[j];
                    if ((*p)[j] == '"')
                        j++;
                }
                r->scratch_len += k;
                *p = o;
                *n = k;
            }
        }
        /* text after the closing quote up to the delimiter is tolerated and ignored */
        e++;
        while (e < len && line[e] != delim)
            e++;
        *more = e < len;
        *i = e + 1;
    } else {
        const char *d = memchr(line + s, delim, len - s);
        size_t e = d != NULL ? (size_t)(d - line) : len;

        *off = s;
        *p = line + s;
        *n = e - s;
        *more = d != NULL;
        *i = e + 1;
    }
out:
    return ok;
}

/* The delimiter of a CSV header line: the most frequent of ',', ';' and tab outside quotes. */
static char csv_delim(const char *line, size_t len)
{
    size_t n_comma = 0, n_semi = 0, n_tab = 0;
    bool in_q = false;
    char d = ',';

    for (size_t i = 0; i < len; i++) {
        char c = line[i];

        if (c == '"')
            in_q = !in_q;
        else if (!in_q && c == ',')
            n_comma++;
        else if (!in_q && c == ';')
            n_semi++;
        else if (!in_q && c == '\t')
            n_tab++;
    }
    if (n_semi > n_comma && n_semi >= n_tab)
        d = ';';
    else if (n_tab > n_comma && n_tab > n_semi)
        d = '\t';
    return d;
}

static const char *const csv_time_names[] = {"time",       "timestamp",  "date", "datetime",
                                             "@timestamp", "event_time", "ts"};

static void csv_header_read(struct scan_fmt_state *st, const char *line, size_t len)
{
    size_t i = 0, n_cols = 0;
    bool more = true;

    st->zeek_sep = csv_delim(line, len); /* the CSV delimiter lives in zeek_sep */
    memset(st->role, ROLE_TEXT, sizeof(st->role));
    while (more && n_cols < SCAN_MAX_FIELDS) {
        const char *p;
        size_t n, off;

        if (!csv_cell(NULL, line, len, st->zeek_sep, &i, &p, &n, &off, &more))
            break;
        while (n > 0 && p[0] == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ')
            n--;
        for (size_t k = 0; k < sizeof(csv_time_names) / sizeof(csv_time_names[0]); k++) {
            if (word_eq(p, n, csv_time_names[k]))
                st->role[n_cols] = ROLE_TIME;
        }
        if (st->role[n_cols] == ROLE_TEXT && n <= 32) {
            char low[32];
            uint8_t role;

            for (size_t k = 0; k < n; k++)
                low[k] = (char)((p[k] >= 'A' && p[k] <= 'Z') ? p[k] + 32 : p[k]);
            role = n > 0 && key_may(low, n) ? conn_key_match(low, n) : ROLE_NONE;
            if (role != ROLE_NONE)
                st->role[n_cols] = role;
        }
        n_cols++;
    }
    st->n_fields = (uint16_t)n_cols;
    st->csv_header_seen = true;
}

static enum scan_line_rc csv_line(const struct scan_fmt_state *st, const char *line, size_t len,
                                  struct scan_rec *r, const char **why)
{
    size_t i = 0, col = 0;
    bool more = true;
    enum scan_line_rc rc = SCAN_LINE_BAD;
    char delim = st->csv_header_seen ? st->zeek_sep : ',';

    while (more) {
        const char *p;
        size_t n, off;
        uint8_t role = col < SCAN_MAX_FIELDS ? st->role[col] : ROLE_TEXT;

        if (!csv_cell(r, line, len, delim, &i, &p, &n, &off, &more)) {
            *why = rec_msg(r, "unterminated quoted CSV field",
                           "unterminated quoted CSV field %zu at column %zu", col + 1, i + 1);
            goto out;
        }
        if (!st->csv_header_seen)
            role = ROLE_TEXT;
        if (role == ROLE_TIME) {
            if (r->time_ms == SCAN_TIME_NONE && !time_any(p, n, &r->time_ms))
                r->time_ms = SCAN_TIME_NONE;
        } else {
            size_t at = r->n_obs;

            text_add(r, p, n, (uint32_t)off);
            if (role == ROLE_SRC || role == ROLE_DST)
                conn_addr(r, at, role == ROLE_SRC ? &r->conn.src : &r->conn.dst);
            else if (role != ROLE_TEXT)
                conn_value(r, role, p, n);
        }
        col++;
    }
    rc = SCAN_LINE_OK;
out:
    return rc;
}

/* ---- Zeek TSV ---- */

static inline bool zeek_is_null(const struct scan_fmt_state *st, const char *p, size_t n)
{
    if (n == 0)
        return true;
    if (n == 1 && p[0] == '-' && st->zeek_unset[0] == '-' && st->zeek_unset[1] == '\0')
        return true;
    /* the first byte rules out nearly every value before a memcmp call */
    return (p[0] == st->zeek_unset[0] && n < sizeof(st->zeek_unset) && st->zeek_unset[n] == '\0' &&
            memcmp(p, st->zeek_unset, n) == 0) ||
           (p[0] == st->zeek_empty[0] && n < sizeof(st->zeek_empty) && st->zeek_empty[n] == '\0' &&
            memcmp(p, st->zeek_empty, n) == 0);
}

static void zeek_elem(struct scan_rec *r, unsigned role, const char *p, size_t n, uint32_t off)
{
    if (role == ROLE_ADDR)
        addr_add(r, p, n, off);
    else
        scan_value_add(r, p, n, off);
}

/* The URL of a Zeek http record: "http://" host uri, normalised in the scratch. Its raw text is
 * the uri field. */
static void zeek_http_url(struct scan_rec *r, const char *line, size_t ho, size_t hl, size_t uo,
                          size_t ul)
{
    size_t bl = 7 + hl + ul;
    char *b = scan_rec_scratch(r, 2 * bl + 1);
    size_t n;
    struct scan_obs o;

    if (b == NULL)
        return;
    memcpy(b, "http://", 7);
    memcpy(b + 7, line + ho, hl);
    memcpy(b + 7 + hl, line + uo, ul);
    n = scan_url_norm(b, bl, b + bl, NULL, NULL);
    if (n == 0)
        return;
    memmove(b, b + bl, n);
    r->scratch_len += n;
    o.kind = SCAN_URL;
    o.off = (uint32_t)uo;
    o.len = (uint32_t)ul;
    o.u.s.p = b;
    o.u.s.n = (uint32_t)n;
    scan_rec_add(r, &o);
}

/* The positions of the first want bytes c of line[0..len) into pos; returns how many c the line
 * has in all (the field count check needs them all, the reader only the separators up to its
 * last column with a role). */
static size_t seps_find(const char *line, size_t len, char c, uint32_t *pos, size_t want)
{
    size_t k = 0, rest = 0;

    for (size_t base = 0; base < len; base += 64) {
        uint64_t m = blk_eq(line, len, base, c);

        if (k < want) { /* pos has room for a block more than want */
            while (m != 0) {
                pos[k++] = (uint32_t)(base + (unsigned)__builtin_ctzll(m));
                m &= m - 1;
            }
        } else {
            rest += popcount64(m);
        }
    }
    return k + rest;
}

/* The columns of st with a role, one bit each (bit c of w[c / 64]), the first n of them;
 * returns one past the last such column (0: none). */
static size_t zeek_cols(const struct scan_fmt_state *st, size_t n, uint64_t w[SCAN_MAX_FIELDS / 64])
{
    size_t last = 0;

    for (size_t i = 0; i * 64 < n; i++) {
        uint64_t m = 0;

#if defined(__SSE2__)
        for (size_t j = 0; j < 64 && i * 64 + j < n; j += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(st->role + i * 64 + j));

            m |= ((uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) ^
                  0xffffu)
                 << j;
        }
#else
        for (size_t j = 0; j < 64; j++)
            m |= (uint64_t)(st->role[i * 64 + j] != ROLE_NONE) << j;
#endif
        if (n - i * 64 < 64)
            m &= ((uint64_t)1 << (n - i * 64)) - 1;
        w[i] = m;
        if (m != 0)
            last = i * 64 + 64 - (unsigned)__builtin_clzll(m);
    }
    return last;
}

/* A Zeek record. With no_sep (AUTO), a line without any separator is not taken as a record:
 * *no_sep is set and nothing is read. */
static enum scan_line_rc zeek_line(const struct scan_fmt_state *st, const char *line, size_t len,
                                   struct scan_rec *r, const char **why, bool *no_sep)
{
    const char sep = st->zeek_sep;
    const unsigned n_fields = st->n_fields;
    size_t n_sep, n_read, total;
    uint64_t cols[SCAN_MAX_FIELDS / 64];
    size_t host_off = 0, host_len = 0, uri_off = 0, uri_len = 0;
    bool host = false, uri = false;
    uint32_t seps[SCAN_MAX_FIELDS + 64];
    enum scan_line_rc rc = SCAN_LINE_BAD;

    if (n_fields == 0) {
        *why = "Zeek record before any #fields header";
        goto out;
    }
    /* only the columns with a role are read: up to the last of them the separators are
     * found, past it (and past SCAN_MAX_FIELDS) only counted */
    n_read = zeek_cols(st, n_fields < SCAN_MAX_FIELDS ? n_fields : SCAN_MAX_FIELDS, cols);
    total = seps_find(line, len, sep, seps, n_read);
    if (no_sep != NULL && total == 0) {
        *no_sep = true;
        goto out;
    }
    if (total + 1 != n_fields) {
        *why = rec_msg(r, "field count differs from the #fields header",
                       "%zu fields where the #fields header names %u", total + 1, n_fields);
        goto out;
    }
    n_sep = total < n_read ? total : n_read;
    for (size_t w = 0; w * 64 < n_read; w++) {
        for (uint64_t m = cols[w]; m != 0; m &= m - 1) {
            size_t nf = w * 64 + (unsigned)__builtin_ctzll(m);
            size_t pos = nf == 0 ? 0 : seps[nf - 1] + 1;
            size_t end = nf < n_sep ? seps[nf] : len;
            unsigned role = st->role[nf];
            const char *p = line + pos;
            size_t n = end - pos;

            if (zeek_is_null(st, p, n))
                continue;
            switch (role) {
            case ROLE_TIME:
                if (!time_epoch(p, n, &r->time_ms))
                    r->time_ms = SCAN_TIME_NONE;
                break;
            case ROLE_HOST:
                host = true;
                host_off = pos;
                host_len = n;
                scan_value_add(r, p, n, (uint32_t)pos);
                break;
            case ROLE_URI:
                uri = true;
                uri_off = pos;
                uri_len = n;
                break;
            case ROLE_SRC:
            case ROLE_DST: {
                size_t at = r->n_obs;

                addr_add(r, p, n, (uint32_t)pos);
                conn_addr(r, at, role == ROLE_SRC ? &r->conn.src : &r->conn.dst);
                break;
            }
            default:
                if (role & ROLE_SET) {
                    size_t s = 0;

                    while (s <= n) {
                        size_t ce = s + byte_find(p + s, n - s, st->zeek_set_sep);

                        if (ce > s && !zeek_is_null(st, p + s, ce - s))
                            zeek_elem(r, role & ROLE_MASK, p + s, ce - s, (uint32_t)(pos + s));
                        s = ce + 1;
                    }
                } else {
                    zeek_elem(r, role, p, n, (uint32_t)pos);
                }
                break;
            }
        }
    }
    if (st->zeek_conn != 0) {
        /* the ports and transport are not read here: scan_conn_get finds them when asked */
        r->conn.line = line;
        r->conn.line_len = (uint32_t)len;
        r->conn.zeek = st->zeek_conn;
    }
    if (uri) {
        if (uri_len > 0 && line[uri_off] == '/') {
            if (host)
                zeek_http_url(r, line, host_off, host_len, uri_off, uri_len);
        } else {
            scan_value_add(r, line + uri_off, uri_len, (uint32_t)uri_off); /* absolute URI */
        }
    }
    rc = SCAN_LINE_OK;
out:
    return rc;
}

/* The role a Zeek column has by its name (the types refine it). */
static uint8_t zeek_name_role(const char *p, size_t n)
{
    static const struct {
        const char *name;
        uint8_t role;
    } names[] = {
        {"ts", ROLE_TIME},
        {"query", ROLE_VALUE},
        {"server_name", ROLE_VALUE},
        {"host", ROLE_HOST},
        {"domain", ROLE_VALUE},
        {"uri", ROLE_URI},
        {"referrer", ROLE_VALUE},
        {"md5", ROLE_VALUE},
        {"sha1", ROLE_VALUE},
        {"sha256", ROLE_VALUE},
        {"answers", ROLE_VALUE | ROLE_SET},
        {"mailfrom", ROLE_VALUE},
        {"rcptto", ROLE_VALUE | ROLE_SET},
        {"from", ROLE_VALUE},
        {"to", ROLE_VALUE | ROLE_SET},
        {"tx_hosts", ROLE_ADDR | ROLE_SET},
        {"rx_hosts", ROLE_ADDR | ROLE_SET},
        {"id.orig_h", ROLE_SRC},
        {"id.resp_h", ROLE_DST},
    };
    uint8_t role = ROLE_NONE;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) == n && memcmp(names[i].name, p, n) == 0) {
            role = names[i].role;
            goto out;
        }
    }
    /* without a #types line: id.orig_h, id.resp_h and the like are addresses */
    if ((n > 2 && p[n - 2] == '_' && p[n - 1] == 'h') ||
        (n > 5 && memcmp(p + n - 5, "_addr", 5) == 0))
        role = ROLE_ADDR;
out:
    return role;
}

/* The value of a header line after its keyword and one separator. */
static bool zeek_hdr(const struct scan_fmt_state *st, const char *line, size_t len, const char *kw,
                     const char **v, size_t *vl)
{
    size_t k = strlen(kw);

    if (len < k + 1 || memcmp(line, kw, k) != 0 || (line[k] != st->zeek_sep && line[k] != '\t'))
        return false;
    *v = line + k + 1;
    *vl = len - k - 1;
    return true;
}

/* Reads the \xNN escapes Zeek writes in its #separator line. */
static char zeek_sep_parse(const char *p, size_t n, char dflt)
{
    char c = dflt;

    if (n == 4 && p[0] == '\\' && p[1] == 'x' && ctix_hexval(p[2]) >= 0 && ctix_hexval(p[3]) >= 0)
        c = (char)(ctix_hexval(p[2]) * 16 + ctix_hexval(p[3]));
    else if (n == 1)
        c = p[0];
    return c;
}

static void zeek_str_set(char *dst, size_t cap, const char *p, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void zeek_defaults(struct scan_fmt_state *st)
{
    st->zeek_sep = '\t';
    st->zeek_set_sep = ',';
    zeek_str_set(st->zeek_unset, sizeof(st->zeek_unset), "-", 1);
    zeek_str_set(st->zeek_empty, sizeof(st->zeek_empty), "(empty)", 7);
}

/* Zeek header lines; false for anything else. */
static bool zeek_header_read(struct scan_fmt_state *st, const char *line, size_t len)
{
    const char *v;
    size_t vl;
    bool known = true;

    if (has_prefix(line, len, "#separator") && len > 11 && (line[10] == ' ' || line[10] == '\t')) {
        st->zeek_sep = zeek_sep_parse(line + 11, len - 11, '\t');
    } else if (zeek_hdr(st, line, len, "#set_separator", &v, &vl)) {
        st->zeek_set_sep = zeek_sep_parse(v, vl, ',');
    } else if (zeek_hdr(st, line, len, "#empty_field", &v, &vl)) {
        zeek_str_set(st->zeek_empty, sizeof(st->zeek_empty), v, vl);
    } else if (zeek_hdr(st, line, len, "#unset_field", &v, &vl)) {
        zeek_str_set(st->zeek_unset, sizeof(st->zeek_unset), v, vl);
    } else if (zeek_hdr(st, line, len, "#fields", &v, &vl)) {
        size_t s = 0, n = 0;

        memset(st->role, ROLE_NONE, sizeof(st->role));
        st->zeek_conn = 0;
        for (;;) {
            const char *e = memchr(v + s, st->zeek_sep, vl - s);
            size_t end = e != NULL ? (size_t)(e - v) : vl;

            if (n < SCAN_MAX_FIELDS) {
                static const char *const conn_cols[3] = {"id.orig_p", "id.resp_p", "proto"};

                st->role[n] = zeek_name_role(v + s, end - s);
                for (unsigned k = 0; k < 3; k++) {
                    if (strlen(conn_cols[k]) == end - s &&
                        memcmp(v + s, conn_cols[k], end - s) == 0)
                        st->zeek_conn |= (uint64_t)(n + 1) << (9 * k);
                }
            }
            n++;
            if (e == NULL)
                break;
            s = end + 1;
        }
        if (st->zeek_conn != 0)
            st->zeek_conn |= (uint64_t)(unsigned char)st->zeek_sep << 27;
        /* a header naming more columns than n_fields can count is not believed */
        st->n_fields = (uint16_t)(n <= UINT16_MAX ? n : 0);
        st->in_zeek = st->n_fields > 0;
    } else if (zeek_hdr(st, line, len, "#types", &v, &vl)) {
        size_t s = 0, n = 0;

        for (;;) {
            const char *e = memchr(v + s, st->zeek_sep, vl - s);
            size_t end = e != NULL ? (size_t)(e - v) : vl;
            const char *t = v + s;
            size_t tl = end - s;

            if (n < st->n_fields && n < SCAN_MAX_FIELDS) {
                uint8_t role = st->role[n];
                if (role == ROLE_SRC || role == ROLE_DST) {
                    /* an address column of the connection typed otherwise than addr is not one */
                    if (!(tl == 4 && memcmp(t, "addr", 4) == 0))
                        role = ROLE_NONE;
                } else if (tl == 4 && memcmp(t, "addr", 4) == 0)
                    role = ROLE_ADDR;
                else if ((tl == 9 && memcmp(t, "set[addr]", 9) == 0) ||
                         (tl == 12 && memcmp(t, "vector[addr]", 12) == 0))
                    role = ROLE_ADDR | ROLE_SET;
                else if (has_prefix(t, tl, "set[") || has_prefix(t, tl, "vector["))
                    role = role != ROLE_NONE ? (uint8_t)((role & ROLE_MASK) | ROLE_SET) : role;
                else if ((role & ROLE_MASK) == ROLE_ADDR)
                    role = ROLE_NONE; /* named like an address but typed otherwise */
                else if (role != ROLE_NONE)
                    role = (uint8_t)(role & ROLE_MASK);
                if (role == ROLE_TIME && !(tl == 4 && memcmp(t, "time", 4) == 0))
                    role = ROLE_NONE;
                st->role[n] = role;
            }
            n++;
            if (e == NULL)
                break;
            s = end + 1;
        }
    } else if (has_prefix(line, len, "#close")) {
        st->in_zeek = false;
        st->n_fields = 0;
        st->zeek_conn = 0;
    } else if (has_prefix(line, len, "#path") || has_prefix(line, len, "#open")) {
        /* nothing the reader needs */
    } else {
        known = false;
    }
    return known;
}

/* ---- JSON lines ---- */

/* Byte classes for the JSON scanner. */
enum {
    JC_BAD,   /* no JSON token starts here */
    JC_WS,    /* white space */
    JC_OBJ,   /* { */
    JC_ARR,   /* [ */
    JC_STR,   /* " */
    JC_NUM,   /* - 0-9 */
    JC_LIT,   /* t f n */
    JC_CLOSE, /* } ] */
    JC_COMMA,
    JC_COLON,
};

/* In strings: 0 plain, 1 the closing quote, 2 a backslash, 3 a control byte (not allowed). */
static const uint8_t json_str_class[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x00 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20: '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, /* 0x50: '\\' */
};

static const uint8_t json_tok[256] = {
    [' '] = JC_WS,  ['\t'] = JC_WS,   ['\n'] = JC_WS,   ['\r'] = JC_WS,   ['{'] = JC_OBJ,
    ['['] = JC_ARR, ['"'] = JC_STR,   ['-'] = JC_NUM,   ['0'] = JC_NUM,   ['1'] = JC_NUM,
    ['2'] = JC_NUM, ['3'] = JC_NUM,   ['4'] = JC_NUM,   ['5'] = JC_NUM,   ['6'] = JC_NUM,
    ['7'] = JC_NUM, ['8'] = JC_NUM,   ['9'] = JC_NUM,   ['t'] = JC_LIT,   ['f'] = JC_LIT,
    ['n'] = JC_LIT, ['}'] = JC_CLOSE, [']'] = JC_CLOSE, [','] = JC_COMMA, [':'] = JC_COLON,
};

/* The JSON white space in a 256-entry table (read per byte between tokens). */
static const uint8_t json_ws[256] = {
    [' '] = 1,
    ['\t'] = 1,
    ['\n'] = 1,
    ['\r'] = 1,
};

#define JSON_MAX_DEPTH 512

/* The index of the first byte from i on that ends a plain run of a JSON string (a quote, a
 * backslash or a control byte), or n. */
static size_t str_special(const unsigned char *p, size_t i, size_t n)
{
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), c = _mm_set1_epi8(0x1f);

    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, b)),
                                 _mm_cmpeq_epi8(_mm_min_epu8(x, c), x));
        unsigned mm = (unsigned)_mm_movemask_epi8(m);

        if (mm != 0)
            return i + (unsigned)__builtin_ctz(mm);
    }
#endif
    for (; i < n; i++) {
        if (json_str_class[p[i]] != 0)
            return i;
    }
    return n;
}

#define JSON_FAST_QUOTES 512
#define JSON_DC_MAX      16384 /* lines up to this long have their '.' and ':' as a bit map */

/* What one pass over a plain line (no backslash, no control byte: a tab is one, it is white
 * space between tokens but not allowed in a string) finds: the positions of its quotes and, for
 * lines up to JSON_DC_MAX bytes, its '.' and ':' as a bit map (bit k of dc[k / 64]: byte k). In
 * a plain line every quote opens or closes a string, so strings are the spans between
 * consecutive quotes and need no scan of their own; the quotes are walked from a list so that
 * finding the next string does not wait on the last one; whether a string may hold an
 * observable (value_may) is a test of the bits in its span. */
struct json_plain {
    uint32_t q[JSON_FAST_QUOTES + 64];
    size_t n_q;
    bool has_dc;
    uint64_t dc[JSON_DC_MAX / 64];
};

/* Fills jp from line[0..len); false when the line is not plain or has more than
 * JSON_FAST_QUOTES quotes (the general path reads it then). */
static bool json_plain_scan(const char *line, size_t len, struct json_plain *jp)
{
    bool plain = true;
    size_t k = 0;

    jp->has_dc = len <= JSON_DC_MAX;
    for (size_t base = 0, w = 0; base < len; base += 64, w++) {
        char tmp[64];
        unsigned drop;
        const char *p = blk_at(line, len, base, tmp, &drop);
        uint64_t valid = blk_valid(len, base), q = 0, bad = 0, dc = 0;

#if defined(__SSE2__)
        const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\'), vc = _mm_set1_epi8(0x1f),
                      vd = _mm_set1_epi8('.'), vo = _mm_set1_epi8(':');

        for (unsigned j = 0; j < 64; j += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + j));

            q |= mask16(x, vq) << j;
            bad |= (uint64_t)(unsigned)_mm_movemask_epi8(
                       _mm_or_si128(_mm_cmpeq_epi8(x, vb), _mm_cmpeq_epi8(_mm_min_epu8(x, vc), x)))
                   << j;
            dc |= (uint64_t)(unsigned)_mm_movemask_epi8(
                      _mm_or_si128(_mm_cmpeq_epi8(x, vd), _mm_cmpeq_epi8(x, vo)))
                  << j;
        }
#else
        for (unsigned j = 0; j < 64; j++) {
            unsigned char c = (unsigned char)p[j];

            q |= (uint64_t)(c == '"') << j;
            bad |= (uint64_t)(c == '\\' || c < 0x20) << j;
            dc |= (uint64_t)(c == '.' || c == ':') << j;
        }
#endif
        q = (q >> drop) & valid;
        if (((bad >> drop) & valid) != 0) {
            plain = false;
            break;
        }
        while (q != 0) { /* q has room for a block more than JSON_FAST_QUOTES */
            jp->q[k++] = (uint32_t)(base + (unsigned)__builtin_ctzll(q));
            q &= q - 1;
        }
        if (k > JSON_FAST_QUOTES) {
            plain = false;
            break;
        }
        if (jp->has_dc)
            jp->dc[w] = (dc >> drop) & valid;
    }
    jp->n_q = k;
    return plain;
}

/* Whether a bit of w in [a, b) is set. */
static inline bool bm_any(const uint64_t *w, size_t a, size_t b)
{
    size_t wa, wb;
    uint64_t lo, hi;

    if (a >= b)
        return false;
    wa = a >> 6;
    wb = (b - 1) >> 6;
    lo = ~(uint64_t)0 << (a & 63);
    hi = ~(uint64_t)0 >> (63 - ((b - 1) & 63));
    if (wa == wb)
        return (w[wa] & lo & hi) != 0;
    if ((w[wa] & lo) != 0)
        return true;
    for (size_t k = wa + 1; k < wb; k++) {
        if (w[k] != 0)
            return true;
    }
    return (w[wb] & hi) != 0;
}

/* The string whose opening quote is at p[i]: *end is the index of its closing quote, *esc
 * whether it has escapes (all checked: a valid escape, surrogates paired). false when it is
 * malformed; *end is then where. */
static bool json_str_scan(const char *p, size_t n, size_t i, size_t *end, bool *esc)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t at = n; /* where it is malformed: the escape's backslash, or the bad byte */

    *esc = false;
    for (i++; i < n; i++) {
        uint8_t c;

        i = str_special(u, i, n);
        if (i >= n)
            break;
        c = json_str_class[u[i]];
        if (c == 1) {
            *end = i;
            return true;
        }
        if (c == 3)
            break;
        *esc = true;
        at = i;
        if (i + 1 >= n)
            break;
        i++;
        switch (p[i]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            break;
        case 'u': {
            long v = ctix_hex4(p + i + 1, p + n);

            if (v < 0)
                goto bad;
            i += 4;
            if (v >= 0xDC00 && v <= 0xDFFF)
                goto bad;
            if (v >= 0xD800 && v <= 0xDBFF) {
                long lo;

                if (i + 2 >= n || p[i + 1] != '\\' || p[i + 2] != 'u')
                    goto bad;
                lo = ctix_hex4(p + i + 3, p + n);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                i += 6;
            }
            break;
        }
        default:
            goto bad;
        }
    }
    at = i < n ? i : n; /* a control byte, or the end of the line */
bad:
    *end = at;
    return false;
}

/* A JSON number at p[i]; the index after it, or 0 when it is malformed. */
static inline size_t json_num_scan(const char *p, size_t n, size_t i)
{
    size_t s;

    if (i < n && p[i] == '-')
        i++;
    if (i >= n || !is_digit((unsigned char)p[i]))
        return 0;
    if (p[i] == '0') {
        i++;
    } else {
        while (i < n && is_digit((unsigned char)p[i]))
            i++;
    }
    if (i < n && p[i] == '.') {
        s = ++i;
        while (i < n && is_digit((unsigned char)p[i]))
            i++;
        if (i == s)
            return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        s = i;
        while (i < n && is_digit((unsigned char)p[i]))
            i++;
        if (i == s)
            return 0;
    }
    return i;
}

static inline bool json_time_key(const char *k, size_t n)
{
    /* most keys are ruled out by their length and first byte without a call */
    if (n > 10 || ((0x614u >> n) & 1) == 0 || (k[0] != 't' && k[0] != '@' && k[0] != 'e'))
        return false;
    switch (n) {
    case 2:
        return memcmp(k, "ts", 2) == 0;
    case 4:
        return memcmp(k, "time", 4) == 0;
    case 9:
        return memcmp(k, "timestamp", 9) == 0;
    case 10:
        return memcmp(k, "@timestamp", 10) == 0 || memcmp(k, "event_time", 10) == 0;
    default:
        return false;
    }
}

/* What a top-level JSON key names: the record's time (ROLE_TIME), a field of the connection
 * (conn_key_match) when conn (the line is read again for its connection, scan_conn_get), or
 * nothing (ROLE_NONE). */
static inline uint8_t json_key_role(const char *k, size_t n, bool conn)
{
    if (!conn)
        return json_time_key(k, n) ? ROLE_TIME : ROLE_NONE;
    if (!key_may(k, n))
        return ROLE_NONE;
    if (json_time_key(k, n))
        return ROLE_TIME;
    return conn_key_match(k, n);
}

/* Whether p[0..n) may be a value scan_value_add classifies: every kind but a hash has a '.' or a
 * ':' (an address, a URL, a host name with its two labels, an e-mail address's domain), and a
 * hash is 32, 40 or 64 bytes. JSON logs are full of single words ("allow", "tcp"); this keeps
 * them from the classifier. */
static bool value_may(const char *p, size_t n)
{
    if (n == 32 || n == 40 || n == 64)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.' || p[i] == ':')
            return true;
    }
    return false;
}

/* The record's time from a top-level time key's value (the first one that reads). */
static void json_time(struct scan_rec *r, const char *p, size_t n)
{
    if (r->time_ms == SCAN_TIME_NONE && !time_any(p, n, &r->time_ms))
        r->time_ms = SCAN_TIME_NONE;
}

/* What the string value p[0..n) of a top-level key with a connection role (kr) says of the
 * connection; at: where the value's observables start in r. */
static inline void json_conn_str(struct scan_rec *r, uint8_t kr, size_t at, const char *p, size_t n)
{
    if (kr == ROLE_SRC || kr == ROLE_DST)
        conn_addr(r, at, kr == ROLE_SRC ? &r->conn.src : &r->conn.dst);
    else
        conn_value(r, kr, p, n);
}

/* A number value of a top-level key with a role: the record's time, a port, the transport. */
static void json_role_num(struct scan_rec *r, uint8_t kr, const char *p, size_t n)
{
    if (kr == ROLE_TIME)
        json_time(r, p, n);
    else
        conn_value(r, kr, p, n);
}

/* A string value's observables; kr: the role of its top-level key (json_key_role), ROLE_NONE
 * for any other. */
static void json_str_value(struct scan_rec *r, const char *p, size_t n, size_t off, uint8_t kr)
{
    size_t at = r->n_obs;

    if (kr == ROLE_TIME) {
        json_time(r, p, n);
        return;
    }
    if (n >= 3 && value_may(p, n))
        scan_value_add(r, p, n, (uint32_t)off);
    if (kr != ROLE_NONE)
        json_conn_str(r, kr, at, p, n);
}

/* The bitmap test of json_str_value_plain: whether the string at line[s, s + n) may be a value. */
static inline bool plain_value_may(const struct json_plain *jp, const char *line, size_t s,
                                   size_t n)
{
    return n >= 3 && (n == 32 || n == 40 || n == 64 ||
                      (jp->has_dc ? bm_any(jp->dc, s, s + n) : value_may(line + s, n)));
}

/* json_str_value_plain for a value whose top-level key has a role (kr). */
static void json_role_plain(struct scan_rec *r, const struct json_plain *jp, const char *line,
                            size_t s, size_t n, uint8_t kr)
{
    size_t at = r->n_obs;

    if (kr == ROLE_TIME) {
        json_time(r, line + s, n);
        return;
    }
    if (plain_value_may(jp, line, s, n))
        scan_value_add(r, line + s, n, (uint32_t)s);
    json_conn_str(r, kr, at, line + s, n);
}

/* json_str_value for a string of a plain line at line[s, s + n). */
static inline void json_str_value_plain(struct scan_rec *r, const struct json_plain *jp,
                                        const char *line, size_t s, size_t n, uint8_t kr)
{
    if (kr != ROLE_NONE)
        json_role_plain(r, jp, line, s, n, kr);
    else if (plain_value_may(jp, line, s, n))
        scan_value_add(r, line + s, n, (uint32_t)s);
}

/* The fast lane of a plain line: compact "key":"string" and "key":number members one after
 * another, each read without going through the general state machine. From the key at *i (the
 * quote jp->q[*qi]); stops before anything else (nested values, white space, a malformed
 * member), which the general path then reads or refuses. true when at least one member was
 * read: *i is then just after the last one. */
static bool json_members_fast(const char *line, size_t len, const struct json_plain *jp, size_t *qi,
                              size_t *i, bool top, bool conn, struct scan_rec *r)
{
    const uint32_t *qpos = jp->q;
    size_t n_q = jp->n_q, k = *qi, at = *i;
    bool any = false;

    for (;;) {
        size_t ke, j, ve;
        uint8_t kr;

        if (k + 1 >= n_q || qpos[k] != at)
            break;
        ke = qpos[k + 1];
        j = ke + 1;
        if (j + 1 >= len || line[j] != ':')
            break;
        j++;
        kr = top ? json_key_role(line + at + 1, ke - at - 1, conn) : ROLE_NONE;
        if (line[j] == '"') {
            if (k + 3 >= n_q || qpos[k + 2] != j)
                break;
            ve = qpos[k + 3];
            json_str_value_plain(r, jp, line, j + 1, ve - j - 1, kr);
            k += 4;
            at = ve + 1;
        } else if (json_tok[(unsigned char)line[j]] == JC_NUM) {
            ve = json_num_scan(line, len, j);
            if (ve == 0)
                break;
            if (kr != ROLE_NONE)
                json_role_num(r, kr, line + j, ve - j);
            k += 2;
            at = ve;
        } else {
            break;
        }
        any = true;
        *qi = k;
        *i = at;
        if (at + 1 < len && line[at] == ',' && line[at + 1] == '"')
            at++;
        else
            break;
    }
    return any;
}

/* Reads one JSON object, validating it, and hands every string value to scan_value_add. The
 * nesting is a bit stack (1: array) so that depth costs no allocation. With conn, the top-level
 * keys that name the connection fill r->conn (scan_conn_get reads the line again so); without,
 * r->conn only keeps the line for that. */
static enum scan_line_rc json_line(const char *line, size_t len, struct scan_rec *r,
                                   const char **why, bool conn)
{
    uint64_t stack[JSON_MAX_DEPTH / 64] = {0};
    struct json_plain jp;
    size_t qi = 0;
    bool fast;
    size_t depth = 0, i = 0;
    uint8_t kr = ROLE_NONE; /* the role of the top-level key whose value is being read */
    enum { J_VALUE, J_KEY, J_AFTER } state = J_VALUE;
    enum scan_line_rc rc = SCAN_LINE_BAD;
    const unsigned char *u = (const unsigned char *)line;

    fast = len < UINT32_MAX && json_plain_scan(line, len, &jp);
    while (i < len && json_ws[u[i]])
        i++;
    if (i >= len || line[i] != '{')
        goto bad;
    for (;;) {
        if (state == J_AFTER && depth == 0)
            break;
        while (i < len && json_ws[u[i]])
            i++;
        if (i >= len)
            goto bad;
        if (state == J_KEY && fast &&
            json_members_fast(line, len, &jp, &qi, &i, depth == 1, conn, r)) {
            state = J_AFTER;
            continue;
        }
        if (state == J_KEY) {
            size_t e = i;
            bool esc = false;

            if (line[i] != '"')
                goto bad;
            if (fast) {
                if (qi + 1 >= jp.n_q || jp.q[qi] != i)
                    goto bad;
                e = jp.q[qi + 1];
                qi += 2;
            } else if (!json_str_scan(line, len, i, &e, &esc)) {
                i = e;
                goto bad;
            }
            kr = depth == 1 && !esc ? json_key_role(line + i + 1, e - i - 1, conn) : ROLE_NONE;
            i = e + 1;
            while (i < len && json_ws[u[i]])
                i++;
            if (i >= len || line[i] != ':')
                goto bad;
            i++;
            state = J_VALUE;
            continue;
        }
        if (state == J_AFTER) {
            bool arr = (stack[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;
            if (line[i] == ',') {
                i++;
                state = arr ? J_VALUE : J_KEY;
            } else if (line[i] == (arr ? ']' : '}')) {
                i++;
                depth--;
            } else {
                goto bad;
            }
            continue;
        }
        /* J_VALUE */
        switch (json_tok[u[i]]) {
        case JC_OBJ:
        case JC_ARR: {
            bool arr = line[i] == '[';

            if (depth >= JSON_MAX_DEPTH)
                goto bad;
            if (arr)
                stack[depth / 64] |= (uint64_t)1 << (depth % 64);
            else
                stack[depth / 64] &= ~((uint64_t)1 << (depth % 64));
            depth++;
            i++;
            while (i < len && json_ws[u[i]])
                i++;
            if (i < len && line[i] == (arr ? ']' : '}')) {
                i++;
                depth--;
                state = J_AFTER;
            } else {
                state = arr ? J_VALUE : J_KEY;
            }
            kr = ROLE_NONE;
            continue;
        }
        case JC_STR: {
            size_t e;
            bool esc;
            const char *p = line + i + 1;
            size_t n;

            if (fast) {
                if (qi + 1 >= jp.n_q || jp.q[qi] != i) {
                    i = qi < jp.n_q ? jp.q[qi] : len;
                    goto bad;
                }
                e = jp.q[qi + 1];
                qi += 2;
                json_str_value_plain(r, &jp, line, i + 1, e - i - 1, kr);
                i = e + 1;
                break;
            }
            if (!json_str_scan(line, len, i, &e, &esc)) {
                i = e;
                goto bad;
            }
            n = e - i - 1;
            if (esc) {
                char *o = scan_rec_scratch(r, n);

                if (o == NULL) {
                    n = 0;
                } else {
                    n = ctix_json_unescape(p, p + n, o);
                    r->scratch_len += n;
                    p = o;
                }
            }
            json_str_value(r, p, n, i + 1, kr);
            i = e + 1;
            break;
        }
        case JC_NUM: {
            size_t e = json_num_scan(line, len, i);

            if (e == 0)
                goto bad;
            if (kr != ROLE_NONE)
                json_role_num(r, kr, line + i, e - i);
            i = e;
            break;
        }
        case JC_LIT:
            if (has_prefix(line + i, len - i, "true"))
                i += 4;
            else if (has_prefix(line + i, len - i, "false"))
                i += 5;
            else if (has_prefix(line + i, len - i, "null"))
                i += 4;
            else
                goto bad;
            break;
        default:
            goto bad;
        }
        kr = ROLE_NONE;
        state = J_AFTER;
    }
    while (i < len && json_ws[u[i]])
        i++;
    if (i < len)
        goto bad;
    rc = SCAN_LINE_OK;
    r->conn.reread = SCAN_FMT_JSONL;
    r->conn.line = line;
    r->conn.line_len = (uint32_t)len;
    goto out;
bad:
    *why = rec_msg(r, "invalid JSON", "invalid JSON at column %zu", i + 1);
out:
    return rc;
}

/* ---- detection ---- */

/* Whether line[0..len) reads as format f: the reader itself decides, on a throw-away record. */
static bool line_is(const struct scan_fmt_state *st, enum scan_fmt f, const char *line, size_t len,
                    struct scan_rec *r)
{
    const char *why;
    enum scan_line_rc rc = SCAN_LINE_BAD;

    if (!scan_rec_reset(r, len))
        return false;
    if (f == SCAN_FMT_SQUID)
        rc = squid_line(line, len, r, &why, false);
    else if (f == SCAN_FMT_COMBINED)
        rc = combined_line(line, len, r, &why);
    else if (f == SCAN_FMT_SYSLOG)
        rc = syslog_line(st, line, len, r, &why);
    else if (f == SCAN_FMT_JSONL)
        rc = json_line(line, len, r, &why, false);
    return rc == SCAN_LINE_OK;
}

/* A CSV header: at least two cells of a delimiter, each a short name (letters, digits, space,
 * _ - . @ /), and the next line, when there is one, with the same number of cells. */
static bool csv_header_like(const char *l0, size_t n0, const char *l1, size_t n1, bool have1)
{
    char d = csv_delim(l0, n0);
    size_t i = 0, cells = 0;
    bool more = true;

    while (more) {
        const char *p;
        size_t n, off;

        if (!csv_cell(NULL, l0, n0, d, &i, &p, &n, &off, &more) || n == 0 || n > 64)
            return false;
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)p[k];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == ' ' ||
                  c == '_' || c == '-' || c == '.' || c == '@' || c == '/'))
                return false;
        }
        cells++;
    }
    if (cells < 2)
        return false;
    if (have1) {
        size_t c1 = 0;

        i = 0;
        more = true;
        while (more) {
            const char *p;
            size_t n, off;

            if (!csv_cell(NULL, l1, n1, d, &i, &p, &n, &off, &more))
                return false;
            c1++;
        }
        if (c1 != cells)
            return false;
    }
    return true;
}

#define DETECT_LINES 20

static void fmt_detect(struct scan_fmt_state *st, const char *head, size_t n)
{
    static const enum scan_fmt cands[] = {SCAN_FMT_SQUID, SCAN_FMT_COMBINED, SCAN_FMT_SYSLOG};
    size_t score[3] = {0, 0, 0};
    size_t n_data = 0, n_json = 0, n_hash = 0, i = 0;
    const char *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    bool fields = false, zsec = false;
    struct scan_rec r;

    st->detected = SCAN_FMT_PLAIN;
    scan_rec_init(&r);
    for (size_t k = 0; k < DETECT_LINES && i < n; k++) {
        const char *nl = memchr(head + i, '\n', n - i);
        size_t end = nl != NULL ? (size_t)(nl - head) : n;
        const char *l = head + i;
        size_t ll = end - i;

        /* a last line cut off by the end of head is only read when head has no newline */
        if (nl == NULL && i > 0)
            break;
        i = end + 1;
        if (ll > 0 && l[ll - 1] == '\r')
            ll--;
        if (is_blank(l, ll))
            continue;
        if (l[0] == '#') {
            n_hash++;
            if (has_prefix(l, ll, "#fields"))
                fields = zsec = true;
            else if (has_prefix(l, ll, "#close"))
                zsec = false;
            continue;
        }
        if (zsec && memchr(l, '\t', ll) != NULL)
            continue; /* a Zeek record: read by its header whatever the file's format */
        if (first == NULL) {
            first = l;
            first_len = ll;
        } else if (second == NULL) {
            second = l;
            second_len = ll;
        }
        n_data++;
        if (l[0] == '{') {
            n_json += line_is(st, SCAN_FMT_JSONL, l, ll, &r);
            continue;
        }
        for (size_t c = 0; c < 3; c++)
            score[c] += line_is(st, cands[c], l, ll, &r);
    }
    scan_rec_cleanup(&r);
    if (n_data == 0) {
        if (fields)
            st->detected = SCAN_FMT_ZEEK;
        goto out;
    }
    {
        /* the candidate that reads most of the non-JSON data lines */
        size_t best = 0;

        for (size_t c = 1; c < 3; c++) {
            if (score[c] > score[best])
                best = c;
        }
        if (score[best] > 0 && score[best] * 5 >= (n_data - n_json) * 4)
            st->detected = (uint8_t)cands[best];
    }
    if (st->detected != SCAN_FMT_PLAIN)
        goto out;
    if (n_json * 5 >= n_data * 4) {
        st->detected = SCAN_FMT_JSONL;
    } else if (fields) {
        st->detected = SCAN_FMT_ZEEK;
    } else if (n_hash == 0 && first[0] != '{' &&
               csv_header_like(first, first_len, second, second_len, second != NULL)) {
        st->detected = SCAN_FMT_CSV;
    }
out:
    return;
}

/* ---- the connection, worked out when an evaluation wants it ---- */

/* Column col (0-based) of a Zeek line split at sep; false when the line has fewer. */
static bool zeek_col(const char *line, size_t len, char sep, unsigned col, const char **p,
                     size_t *n)
{
    size_t s = 0;
    const char *e;

    for (unsigned k = 0; k < col; k++) {
        e = memchr(line + s, sep, len - s);
        if (e == NULL)
            return false;
        s = (size_t)(e - line) + 1;
    }
    e = memchr(line + s, sep, len - s);
    *p = line + s;
    *n = (e != NULL ? (size_t)(e - line) : len) - s;
    return true;
}

/* What c notes, read: the addresses, the spans of ports and transport, the URL's port, and the
 * Zeek columns of the line. */
static void conn_read(const struct scan_rec *r, const struct scan_conn *c,
                      struct scan_conn_info *out)
{
    out->src = c->src;
    out->dst = c->dst;
    if (c->sport != NULL)
        out->has_sport = port_parse(c->sport, c->sport_len, &out->sport);
    if (c->dport != NULL)
        out->has_dport = port_parse(c->dport, c->dport_len, &out->dport);
    else if (c->url != 0 && c->url <= r->n_obs && r->obs[c->url - 1].kind == SCAN_URL)
        out->has_dport = url_port(r->obs[c->url - 1].u.s.p, r->obs[c->url - 1].u.s.n, &out->dport);
    if (c->proto != NULL)
        conn_proto(c->proto, c->proto_len, out);
    if (c->zeek != 0 && c->line != NULL) {
        char sep = (char)(c->zeek >> 27 & 0xff);

        for (unsigned k = 0; k < 3; k++) {
            unsigned col = (unsigned)(c->zeek >> (9 * k) & 0x1ff);
            const char *p;
            size_t n;

            if (col == 0 || !zeek_col(c->line, c->line_len, sep, col - 1, &p, &n))
                continue;
            if (k == 0)
                out->has_sport = port_parse(p, n, &out->sport);
            else if (k == 1)
                out->has_dport = port_parse(p, n, &out->dport);
            else
                conn_proto(p, n, out);
        }
    }
}

bool scan_conn_get(const struct scan_rec *r, struct scan_conn_info *out)
{
    const struct scan_conn *c = &r->conn;
    struct scan_rec *t;
    const char *why;
    bool ok = true;

    memset(out, 0, sizeof(*out));
    if (c->reread == 0 || c->line == NULL) {
        conn_read(r, c, out);
        goto out;
    }
    /* Read again with the connection wanted. The same reader on the same line gives the same
     * observables in the same order, so its indexes hold for r. */
    t = malloc(sizeof(*t));
    if (t == NULL) {
        ok = false;
        goto out;
    }
    scan_rec_init(t);
    ok = scan_rec_reset(t, c->line_len);
    if (ok &&
        (c->reread == SCAN_FMT_JSONL
             ? json_line(c->line, c->line_len, t, &why, true)
             : squid_line(c->line, c->line_len, t, &why, true)) == SCAN_LINE_OK &&
        t->n_obs == r->n_obs)
        conn_read(t, &t->conn, out);
    scan_rec_cleanup(t);
    free(t);
out:
    return ok;
}

/* ---- the public entry points ---- */

void scan_fmt_init(struct scan_fmt_state *st, enum scan_fmt fmt, const char *head, size_t n,
                   unsigned year)
{
    memset(st, 0, sizeof(*st));
    st->fmt = (uint8_t)((unsigned)fmt < SCAN_FMT_N ? fmt : SCAN_FMT_PLAIN);
    st->detected = st->fmt;
    st->syslog_year = (uint16_t)(year > 0 && year < 10000 ? year : 1970);
    zeek_defaults(st);
    if (st->fmt == SCAN_FMT_AUTO)
        fmt_detect(st, head != NULL ? head : "", head != NULL ? n : 0);
    if (st->fmt == SCAN_FMT_CSV || st->detected == SCAN_FMT_CSV)
        st->zeek_sep = ',';
}

bool scan_fmt_state_eq(const struct scan_fmt_state *a, const struct scan_fmt_state *b)
{
    return a->fmt == b->fmt && a->detected == b->detected && a->in_zeek == b->in_zeek &&
           a->csv_header_seen == b->csv_header_seen && a->zeek_sep == b->zeek_sep &&
           a->zeek_set_sep == b->zeek_set_sep && a->n_fields == b->n_fields &&
           memcmp(a->role, b->role, sizeof(a->role)) == 0 &&
           memcmp(a->zeek_unset, b->zeek_unset, sizeof(a->zeek_unset)) == 0 &&
           memcmp(a->zeek_empty, b->zeek_empty, sizeof(a->zeek_empty)) == 0 &&
           a->zeek_conn == b->zeek_conn && a->syslog_year == b->syslog_year;
}

bool scan_fmt_header(struct scan_fmt_state *st, const char *line, size_t len)
{
    bool hdr = false;
    enum scan_fmt f = (enum scan_fmt)st->fmt;

    if (len == 0)
        goto out;
    if (f == SCAN_FMT_ZEEK || f == SCAN_FMT_AUTO) {
        if (line[0] == '#') {
            hdr = zeek_header_read(st, line, len);
            if (f == SCAN_FMT_ZEEK)
                hdr = true; /* any other '#' line of a Zeek log is a comment */
            if (hdr)
                goto out;
        }
    }
    if ((f == SCAN_FMT_CSV || (f == SCAN_FMT_AUTO && st->detected == SCAN_FMT_CSV)) &&
        !st->csv_header_seen && !is_blank(line, len) && line[0] != '#') {
        csv_header_read(st, line, len);
        hdr = true;
    }
out:
    return hdr;
}

static enum scan_line_rc auto_line(const struct scan_fmt_state *st, const char *line, size_t len,
                                   struct scan_rec *r, const char **why)
{
    enum scan_line_rc rc = SCAN_LINE_BAD;
    struct rec_mark m;

    if (st->in_zeek && st->n_fields > 0) {
        bool no_sep = false;

        rc = zeek_line(st, line, len, r, why, &no_sep); /* a lying record is BAD even here */
        if (!no_sep)
            goto out;
        rc = SCAN_LINE_BAD;
    }
    rec_mark(r, &m);
    if (line[0] == '{') {
        rc = json_line(line, len, r, why, false);
    } else {
        switch (st->detected) {
        case SCAN_FMT_SQUID:
            rc = squid_line(line, len, r, why, false);
            break;
        case SCAN_FMT_COMBINED:
            rc = combined_line(line, len, r, why);
            break;
        case SCAN_FMT_SYSLOG:
            rc = syslog_line(st, line, len, r, why);
            break;
        case SCAN_FMT_CSV:
            rc = csv_line(st, line, len, r, why);
            break;
        default:
            break;
        }
    }
    if (rc != SCAN_LINE_OK) {
        rec_rollback(r, &m);
        *why = NULL;
        scan_extract(r, line, len, 0);
        rc = SCAN_LINE_OK;
    }
out:
    return rc;
}

enum scan_line_rc scan_fmt_line(const struct scan_fmt_state *st, const char *line, size_t len,
                                struct scan_rec *r, const char **why)
{
    enum scan_line_rc rc = SCAN_LINE_OK;
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    *why = NULL;
    memset(&r->conn, 0, sizeof(r->conn));
    if (len == 0 || ((line[0] == ' ' || line[0] == '\t') && is_blank(line, len))) {
        rc = SCAN_LINE_SKIP;
        goto out;
    }
    switch ((enum scan_fmt)st->fmt) {
    case SCAN_FMT_AUTO:
        rc = auto_line(st, line, len, r, why);
        break;
    case SCAN_FMT_JSONL:
        rc = json_line(line, len, r, why, false);
        break;
    case SCAN_FMT_ZEEK:
        rc = zeek_line(st, line, len, r, why, NULL);
        break;
    case SCAN_FMT_CSV:
        rc = csv_line(st, line, len, r, why);
        break;
    case SCAN_FMT_SQUID:
        rc = squid_line(line, len, r, why, false);
        break;
    case SCAN_FMT_COMBINED:
        rc = combined_line(line, len, r, why);
        break;
    case SCAN_FMT_SYSLOG:
        rc = syslog_line(st, line, len, r, why);
        break;
    case SCAN_FMT_PLAIN:
    default:
        scan_extract(r, line, len, 0);
        break;
    }
    if (rc == SCAN_LINE_BAD) {
        /* nothing half-read reaches the caller */
        r->n_obs = 0;
        r->time_ms = SCAN_TIME_NONE;
        memset(&r->conn, 0, sizeof(r->conn));
    }
out:
    return rc;
}
