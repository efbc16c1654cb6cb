/* base: the project-wide small things every module shares — result codes and diagnostics,
 * logging, bounded growable buffers, time and timestamps, random ids and bounded string helpers.
 *
 * base/ depends on libc only and knows nothing of STIX, HTTP or storage. Nothing here exits the
 * process or prints to a terminal except ctix_log(), which writes one line per event to stderr.
 * Every buffer that grows has a cap: going past it is CTIX_ETOOBIG, never an abort. */
#ifndef CTIX_BASE_H
#define CTIX_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTIX_MUST_CHECK    __attribute__((warn_unused_result))
#define CTIX_PRINTF(fi, a) __attribute__((format(printf, fi, a)))
#define CTIX_ARRAY_LEN(a)  (sizeof(a) / sizeof((a)[0]))

enum ctix_rc {
    CTIX_OK = 0,
    CTIX_ENOMEM,
    CTIX_EINVAL,    /* malformed input */
    CTIX_ENOTFOUND, /* no such thing (or the caller may not know it exists) */
    CTIX_ECONFLICT, /* already exists / contradicts stored state */
    CTIX_EDENIED,   /* authentication, authorisation or policy said no */
    CTIX_ETOOBIG,   /* a cap was reached */
    CTIX_EIO,       /* file, socket or database failure */
};

/* Never NULL. */
const char *ctix_strerror(enum ctix_rc rc);

/* What went wrong and where: msg is for people, where is a JSON pointer, property name, file or
 * column label. line/col are 1-based, 0 when unknown. */
struct ctix_diag {
    char msg[256];
    char where[128];
    unsigned line, col;
};

/* Sets d (if not NULL). where may be NULL. */
void ctix_diag_set(struct ctix_diag *d, const char *where, const char *fmt, ...) CTIX_PRINTF(3, 4);
void ctix_diag_clear(struct ctix_diag *d);

/* ---- logging: one "ts level=… comp=… key=value …" line per event on stderr ---- */
enum ctix_log_level { CTIX_LOG_DEBUG, CTIX_LOG_INFO, CTIX_LOG_WARN, CTIX_LOG_ERROR, CTIX_LOG_OFF };

void ctix_log_set_level(enum ctix_log_level lvl);
/* filter is a comma list of components, "all" and "-comp" (curl's "all,-ssl"); NULL = all. */
void ctix_log_set_filter(const char *filter);
/* Never pass a key, a token or a request body: the log is read by operators. */
void ctix_log(enum ctix_log_level lvl, const char *comp, const char *fmt, ...) CTIX_PRINTF(3, 4);

/* ---- bounded growable buffer (curl's dynbuf): data is always NUL-terminated when len > 0 ---- */
struct buf {
    char *data;
    size_t len, cap, max;
};

void buf_init(struct buf *b, size_t max);
/* Frees the memory; b can be reused after buf_init() or directly (it is left empty, same max). */
void buf_cleanup(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
/* Makes room for n more bytes at once (CTIX_ETOOBIG past max), so that a known size costs one
 * allocation instead of a series of doublings and copies. */
CTIX_MUST_CHECK enum ctix_rc buf_grow(struct buf *b, size_t n);
CTIX_MUST_CHECK enum ctix_rc buf_append(struct buf *b, const void *p, size_t n);
CTIX_MUST_CHECK enum ctix_rc buf_appends(struct buf *b, const char *s);
CTIX_MUST_CHECK enum ctix_rc buf_appendf(struct buf *b, const char *fmt, ...) CTIX_PRINTF(2, 3);
/* Appends s[0..n) as a JSON string literal, quotes included, escaped as RFC 8785 (JCS) wants:
 * \" \\ \b \f \n \r \t, other control characters as \u00xx, everything else as it is. */
CTIX_MUST_CHECK enum ctix_rc buf_append_json_str(struct buf *b, const char *s, size_t n);
/* Returns the data (NUL-terminated, free() it) and leaves b empty; NULL when out of memory. */
char *buf_steal(struct buf *b);

/* ---- time ---- */
/* A parsed RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SS[.f+]Z". */
struct ctix_ts {
    int64_t sec;     /* seconds since the epoch; a leap second :60 counts as the next second */
    int32_t nsec;    /* 0..999999999, digits past the ninth are dropped */
    int frac_digits; /* digits written after the '.', 0 if none */
};

/* Strict form: uppercase T and Z, no offsets, a '.' only when digits follow. Years 0000-9999. */
CTIX_MUST_CHECK enum ctix_rc ctix_ts_parse(const char *s, size_t len, struct ctix_ts *out);
int ctix_ts_cmp(const struct ctix_ts *a, const struct ctix_ts *b);
int64_t ctix_ts_to_us(const struct ctix_ts *t); /* truncates to microseconds */
/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (m 1..12, d 1..31; not
 * checked), as ctix_ts_parse counts them. */
int64_t ctix_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Writes "YYYY-MM-DDTHH:MM:SS.ffffffZ" (27 chars + NUL) into out[28]. */
void ctix_ts_format_us(int64_t us, char out[28]);
/* Wall clock in microseconds since the epoch. */
int64_t ctix_now_us(void);
/* Monotonic clock in microseconds, for durations. */
int64_t ctix_mono_us(void);

/* ---- random ---- */
/* Fills p with n bytes from the kernel CSPRNG. */
CTIX_MUST_CHECK enum ctix_rc ctix_random(void *p, size_t n);
/* Writes a lowercase RFC 4122 version 4 UUID (36 chars + NUL). */
CTIX_MUST_CHECK enum ctix_rc ctix_uuid4(char out[37]);
/* ---- growable arrays ---- */

/* Makes *arr (elem-byte items, room for *cap) hold need items, doubling; CTIX_ENOMEM when it
 * cannot (also when the size would overflow). Call as ctix_array_reserve((void **)&a, &cap, n,
 * sizeof(*a)). */
CTIX_MUST_CHECK enum ctix_rc ctix_array_reserve(void **arr, size_t *cap, size_t need, size_t elem);
/* Zeroed memory for a big table probed at random (n elements of elem bytes), on transparent huge
 * pages where the kernel allows: with 4 KB pages nearly every probe of a large table also misses
 * the TLB. NULL on overflow or ENOMEM; free() releases it. */
void *ctix_calloc_big(size_t n, size_t elem);

/* ---- arenas ---- */
/* A region allocator for things that live and die together (a parsed pattern, one request's
 * scratch): allocation is a pointer bump, freeing is one call. Chunks grow geometrically from
 * 256 bytes up to 64 KiB; a request larger than a chunk gets a chunk of its own. */
struct arena {
    struct arena_chunk *head;
    size_t used; /* bytes handed out, for memory accounting */
};

void arena_init(struct arena *a);
void arena_cleanup(struct arena *a); /* frees every allocation; a can be used again */
/* n bytes aligned for any type, or NULL when out of memory (or n is absurd). Not zeroed. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
/* A NUL-terminated copy of s[0..n), or NULL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Writes the 16 bytes b as a lowercase 8-4-4-4-12 UUID (36 chars + NUL). */
void ctix_uuid_format(const unsigned char b[16], char out[37]);
/* True when s is a UUID in 8-4-4-4-12 hex form (any case); v4only also checks version and variant.
 */
bool ctix_uuid_valid(const char *s, bool v4only);

/* ---- strings and files ---- */
/* Copies at most n-1 bytes and NUL-terminates (n > 0). Returns strlen(src). */
size_t ctix_strlcpy(char *dst, const char *src, size_t n);
/* Parses a whole decimal string (no sign, no spaces) into *out; false if malformed or > max. */
bool ctix_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Reads a whole file, at most max bytes (CTIX_ETOOBIG past it). *out is NUL-terminated, free(). */
CTIX_MUST_CHECK enum ctix_rc ctix_file_read(const char *path, size_t max, char **out, size_t *len,
                                            struct ctix_diag *diag);
/* Writes all n bytes to fd (retrying short writes and EINTR); false on an error. */
bool ctix_write_all(int fd, const void *p, size_t n);
/* The value of one hex digit (either case), or -1. */
int ctix_hexval(char c);
/* The value of the 4 hex digits at p (p + 4 <= end), or -1: a JSON "\uXXXX" escape. */
long ctix_hex4(const char *p, const char *end);
/* Decodes the body p[0..q) of a JSON string already checked to be valid (escapes well-formed,
 * surrogates paired) into out and returns the decoded length, never more than q - p. out may be
 * p itself: each escape is read whole before its UTF-8 is written. */
size_t ctix_json_unescape(const char *p, const char *q, char *out);
/* Where the run of bytes at p[0..end) that need no attention inside a JSON string ends: the first
 * quote, backslash, control byte or byte >= 0x80 (end when none). Eight bytes a step. */
const char *ctix_json_plain_end(const char *p, const char *end);
/* Decodes the one UTF-8 sequence at p (p < end) into *cp and returns its length (1 to 4), or 0 when
 * it is malformed: truncated, overlong, a surrogate or past U+10FFFF (RFC 3629). */
size_t ctix_utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp);
/* True when s[0..n) is well-formed UTF-8. */
bool ctix_utf8_valid(const void *s, size_t n);
/* The value of one standard (RFC 4648 §4) base64 digit, or -1 (also for '='). */
int ctix_b64val(char c);
/* Reads exactly 2n hex digits (either case) and a NUL into out[n]; false otherwise. */
bool ctix_unhex(const char *h, unsigned char *out, size_t n);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void ctix_hex(const void *p, size_t n, char *out);

#endif
