/* The scan cache (scan_cache.h): a compact binary copy of what the store loader hands to the
 * index, kept current through the store's change log.
 *
 * File layout, all integers little-endian:
 *   header, SCAN_CACHE_HDR_LEN (128) bytes:
 *     0 "CTIXSCAN"  8 u32 format  12 u32 header length  16 collection id (40, NUL-padded)
 *     56 change log epoch (40, NUL-padded)  96 i64 seq  104 u64 records  112 u64 file length
 *     120 u64 checksum of bytes 0..120
 *   chunks, up to the file length, each: u32 payload length, u32 records, u64 checksum of the
 *   payload (seeded with the two), then the payload: records back to back.
 *   record: u8 flags (1 revoked, 2 skipped, 4 has a name, 8 has a created_by_ref), u32 lengths of
 *     id, name, pattern, created_by_ref, i64 modified, valid_from, valid_until (ms), then each
 *     string present followed by a NUL. A skipped record (an object the loader skips: another
 *     pattern type, unreadable) has only its id: a change to it must still find it.
 *
 * Reading is sequential and checks everything before use: the header's checksum and its file
 * length against the file's size (a truncated file is refused before anything is handed over),
 * each chunk's checksum before its records are decoded, every length against what is left. A
 * chunk is ~1 MB, so memory stays small whatever the collection's size. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scan/scan.h"
#include "scan/scan_cache.h"
#include "scan/scan_int.h"
#include "store/store.h"

#define CACHE_MAGIC     "CTIXSCAN"
#define CACHE_FORMAT    1
#define CACHE_DIR       "scan-cache"
#define CHUNK_TARGET    (1u << 20)  /* a chunk is written once it holds this much */
#define CHUNK_MAX       (80u << 20) /* one record may be large (a pattern of up to 64 MB) */
#define REC_FIXED       41          /* flags, four lengths, three times */
#define STR_MAX         (70u << 20) /* one string */
#define CHANGES_MIN_MAX 1000        /* at most 1000 + records / 8 changes are applied to a cache */
#define STALE_TMP_S     600         /* a temporary file untouched this long was left by a crash */
#define ADVANCE_ROWS    20000       /* log rows past the cache that make it worth rewriting */
#define REWRITE_MIN     256         /* changed indicators that make it worth rewriting: this + 1% */

enum {
    RF_REVOKED = 1,
    RF_SKIPPED = 2,
    RF_NAME = 4,
    RF_CBR = 8,
    RF_ALL = 15,
};

enum {
    H_MAGIC = 0,
    H_FORMAT = 8,
    H_HDRLEN = 12,
    H_COLL = 16,
    H_EPOCH = 56,
    H_SEQ = 96,
    H_NREC = 104,
    H_FLEN = 112,
    H_HASH = 120,
};

/* ---- bytes ---- */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ---- the checksum: four independent 64-bit lanes over 32-byte blocks, so that the multiplies
 * of one block overlap; then the tail and a final avalanche. Several GB/s: the file is checked
 * at about the speed it is read. ---- */

#define HP1 0x9e3779b185ebca87ull
#define HP2 0xc2b2ae3d27d4eb4full
#define HP3 0x165667b19e3779f9ull

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t lane(uint64_t v, uint64_t w)
{
    return rotl(v + w * HP2, 31) * HP1;
}

static uint64_t ld64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8); /* the hash is of this machine's word order; see below */
    return v;
}

uint64_t scan__cache_hash(uint64_t seed, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t v0 = seed + HP1 + HP2, v1 = seed + HP2, v2 = seed, v3 = seed - HP1, h;
    size_t left = n;

    while (left >= 32) {
        v0 = lane(v0, ld64(p));
        v1 = lane(v1, ld64(p + 8));
        v2 = lane(v2, ld64(p + 16));
        v3 = lane(v3, ld64(p + 24));
        p += 32;
        left -= 32;
    }
    h = rotl(v0, 1) + rotl(v1, 7) + rotl(v2, 12) + rotl(v3, 18) + (uint64_t)n * HP3;
    while (left >= 8) {
        h = rotl(h ^ lane(0, ld64(p)), 27) * HP1 + HP3;
        p += 8;
        left -= 8;
    }
    while (left > 0) {
        h = rotl(h ^ (*p * HP3), 11) * HP1;
        p++;
        left--;
    }
    h ^= h >> 33;
    h *= HP2;
    h ^= h >> 29;
    h *= HP3;
    h ^= h >> 32;
    return h;
}

/* ---- records ---- */

struct rec {
    struct scan_ind_in in; /* in.id is the object id also for a skipped record */
    bool skipped;
    const unsigned char *raw; /* the encoded record, raw_len bytes */
    size_t raw_len;
};

/* One string of a record at *p: n bytes and a NUL, inside end. */
static const char *rec_str(const unsigned char **p, const unsigned char *end, uint32_t n,
                           const char **why)
{
    const char *s = (const char *)*p;

    if (n > STR_MAX || (size_t)(end - *p) < (size_t)n + 1) {
        *why = "a string runs past its chunk";
        return NULL;
    }
    if ((*p)[n] != '\0') {
        *why = "a string is not terminated";
        return NULL;
    }
    *p += (size_t)n + 1;
    return s;
}

/* Decodes the record at p (end: the end of its chunk). NULL why on success. */
static void rec_decode(const unsigned char *p, const unsigned char *end, struct rec *r,
                       const char **why)
{
    const unsigned char *start = p;
    uint32_t flags, id_len, name_len, pat_len, cbr_len;

    *why = NULL;
    memset(r, 0, sizeof(*r));
    if (end - p < REC_FIXED) {
        *why = "a record runs past its chunk";
        goto out;
    }
    flags = p[0];
    id_len = get32(p + 1);
    name_len = get32(p + 5);
    pat_len = get32(p + 9);
    cbr_len = get32(p + 13);
    r->in.modified_ms = (int64_t)get64(p + 17);
    r->in.valid_from_ms = (int64_t)get64(p + 25);
    r->in.valid_until_ms = (int64_t)get64(p + 33);
    p += REC_FIXED;
    r->skipped = (flags & RF_SKIPPED) != 0;
    r->in.revoked = (flags & RF_REVOKED) != 0;
    if ((flags & ~(uint32_t)RF_ALL) != 0 || id_len == 0 ||
        (r->skipped && (flags != RF_SKIPPED || name_len != 0 || pat_len != 0 || cbr_len != 0)) ||
        ((flags & RF_NAME) == 0 && name_len != 0) || ((flags & RF_CBR) == 0 && cbr_len != 0)) {
        *why = "a record's flags and lengths disagree";
        goto out;
    }
    r->in.id = rec_str(&p, end, id_len, why);
    r->in.id_len = id_len;
    if (*why == NULL && (flags & RF_NAME) != 0) {
        r->in.name = rec_str(&p, end, name_len, why);
        r->in.name_len = name_len;
    }
    if (*why == NULL && !r->skipped) {
        r->in.pattern = rec_str(&p, end, pat_len, why);
        r->in.pattern_len = pat_len;
    }
    if (*why == NULL && (flags & RF_CBR) != 0) {
        r->in.created_by_ref = rec_str(&p, end, cbr_len, why);
        r->in.created_by_ref_len = cbr_len;
    }
    r->raw = start;
    r->raw_len = (size_t)(p - start);
out:
    return;
}

/* ---- reading a file ---- */

struct rdr {
    int fd;
    const char *path;
    struct ctix_diag *diag;
    unsigned char *buf;
    size_t cap;
    uint64_t off, file_len, n_records, n_seen;
    char coll[41], epoch[41];
    int64_t seq;
    bool damaged;    /* the error returned is damage (diag says which) */
    size_t n_handed; /* records given to the callback */
};

typedef enum ctix_rc (*rec_fn)(void *arg, const struct rec *r);

static enum ctix_rc damage(struct rdr *r, const char *why)
{
    r->damaged = true;
    ctix_diag_set(r->diag, r->path, "damaged scan cache: %s", why);
    return CTIX_EINVAL;
}

/* Reads exactly n bytes; a short file is damage. */
static enum ctix_rc rd_full(struct rdr *r, unsigned char *p, size_t n)
{
    enum ctix_rc rc = CTIX_OK;

    while (n > 0) {
        ssize_t k = read(r->fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            ctix_diag_set(r->diag, r->path, "cannot read the scan cache: %s", strerror(errno));
            rc = CTIX_EIO;
            r->damaged = true; /* an unreadable cache is rebuilt like a damaged one */
            break;
        }
        if (k == 0) {
            rc = damage(r, "truncated");
            break;
        }
        p += k;
        n -= (size_t)k;
        r->off += (uint64_t)k;
    }
    return rc;
}

/* A NUL-padded text field of the header: printable, NUL-terminated inside its n bytes. */
static bool hdr_text(const unsigned char *p, size_t n, char *out)
{
    size_t len = 0;

    while (len < n && p[len] != '\0') {
        if (p[len] < 0x21 || p[len] > 0x7e)
            return false;
        len++;
    }
    if (len == n)
        return false;
    for (size_t i = len; i < n; i++) {
        if (p[i] != '\0')
            return false;
    }
    memcpy(out, p, len + 1);
    return true;
}

static enum ctix_rc rdr_open(struct rdr *r, int fd, const char *path, const char *coll_id,
                             struct ctix_diag *diag)
{
    unsigned char h[SCAN_CACHE_HDR_LEN];
    struct stat sb;
    enum ctix_rc rc;

    memset(r, 0, sizeof(*r));
    r->fd = fd;
    r->path = path;
    r->diag = diag;
    if (fstat(fd, &sb) != 0) {
        ctix_diag_set(diag, path, "cannot read the scan cache: %s", strerror(errno));
        r->damaged = true;
        rc = CTIX_EIO;
        goto out;
    }
    rc = rd_full(r, h, sizeof(h));
    if (rc != CTIX_OK)
        goto out;
    if (memcmp(h + H_MAGIC, CACHE_MAGIC, 8) != 0) {
        rc = damage(r, "not a scan cache (bad magic)");
        goto out;
    }
    if (get32(h + H_FORMAT) != CACHE_FORMAT || get32(h + H_HDRLEN) != SCAN_CACHE_HDR_LEN) {
        rc = damage(r, "written by another version of ctix (format)");
        goto out;
    }
    if (scan__cache_hash(0, h, H_HASH) != get64(h + H_HASH)) {
        rc = damage(r, "header checksum mismatch");
        goto out;
    }
    r->file_len = get64(h + H_FLEN);
    r->n_records = get64(h + H_NREC);
    r->seq = (int64_t)get64(h + H_SEQ);
    if (!hdr_text(h + H_COLL, 40, r->coll) || !hdr_text(h + H_EPOCH, 40, r->epoch) ||
        strlen(r->epoch) > 32 || r->seq < 0) {
        rc = damage(r, "bad header fields");
        goto out;
    }
    if ((uint64_t)sb.st_size != r->file_len || r->file_len < SCAN_CACHE_HDR_LEN) {
        rc = damage(r, (uint64_t)sb.st_size < r->file_len ? "truncated" : "longer than written");
        goto out;
    }
    if (coll_id != NULL && strcmp(coll_id, r->coll) != 0) {
        rc = damage(r, "of another collection");
        goto out;
    }
    /* Each record takes at least REC_FIXED + 2 bytes: a count beyond that is a lie. */
    if (r->n_records > (r->file_len - SCAN_CACHE_HDR_LEN) / (REC_FIXED + 2)) {
        rc = damage(r, "record count does not fit the file");
        goto out;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
out:
    return rc;
}

/* Calls fn for every record, chunk by chunk, each chunk checked before it is decoded. */
static enum ctix_rc rdr_each(struct rdr *r, rec_fn fn, void *arg)
{
    unsigned char ch[SCAN_CACHE_CHUNK_HDR];
    enum ctix_rc rc = CTIX_OK;

    while (rc == CTIX_OK && r->off < r->file_len) {
        uint32_t len, n;
        const unsigned char *p, *end;
        const char *why = NULL;

        if (r->file_len - r->off < sizeof(ch)) {
            rc = damage(r, "a chunk header runs past the end");
            break;
        }
        rc = rd_full(r, ch, sizeof(ch));
        if (rc != CTIX_OK)
            break;
        len = get32(ch);
        n = get32(ch + 4);
        if (len > CHUNK_MAX || len > r->file_len - r->off || n == 0 || n > len / (REC_FIXED + 2) ||
            n > r->n_records - r->n_seen) {
            rc = damage(r, "bad chunk length or count");
            break;
        }
        if (len > r->cap) {
            unsigned char *nb = realloc(r->buf, len);

            if (nb == NULL) {
                ctix_diag_set(r->diag, r->path, "out of memory");
                rc = CTIX_ENOMEM;
                break;
            }
            r->buf = nb;
            r->cap = len;
        }
        rc = rd_full(r, r->buf, len);
        if (rc != CTIX_OK)
            break;
        if (scan__cache_hash(((uint64_t)len << 32) | n, r->buf, len) != get64(ch + 8)) {
            rc = damage(r, "chunk checksum mismatch");
            break;
        }
        p = r->buf;
        end = r->buf + len;
        for (uint32_t i = 0; rc == CTIX_OK && i < n; i++) {
            struct rec rec;

            rec_decode(p, end, &rec, &why);
            if (why != NULL) {
                rc = damage(r, why);
                break;
            }
            p += rec.raw_len;
            r->n_seen++;
            r->n_handed++;
            rc = fn(arg, &rec);
        }
        if (rc == CTIX_OK && p != end)
            rc = damage(r, "a chunk holds more than its records");
    }
    if (rc == CTIX_OK && r->n_seen != r->n_records)
        rc = damage(r, "fewer records than the header says");
    return rc;
}

static void rdr_cleanup(struct rdr *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* For the fuzz target and tests: the whole file through fn and skip. */
struct each_simple {
    scan_ind_fn fn;
    enum ctix_rc (*skip)(void *arg, const char *id);
    void *arg;
};

static enum ctix_rc each_simple_rec(void *arg, const struct rec *r)
{
    struct each_simple *es = arg;

    if (r->skipped)
        return es->skip != NULL ? es->skip(es->arg, r->in.id) : CTIX_OK;
    return es->fn != NULL ? es->fn(es->arg, &r->in) : CTIX_OK;
}

enum ctix_rc scan__cache_read(int fd, const char *path, const char *coll_id, scan_ind_fn fn,
                              enum ctix_rc (*skip)(void *arg, const char *id), void *arg,
                              char *epoch, int64_t *seq, struct ctix_diag *diag)
{
    struct rdr r;
    struct each_simple es = {fn, skip, arg};
    enum ctix_rc rc = rdr_open(&r, fd, path, coll_id, diag);

    if (rc == CTIX_OK) {
        if (epoch != NULL)
            ctix_strlcpy(epoch, r.epoch, 33);
        if (seq != NULL)
            *seq = r.seq;
        rc = rdr_each(&r, each_simple_rec, &es);
    }
    rdr_cleanup(&r);
    return rc;
}

/* ---- writing a file ---- */

struct wtr {
    int fd; /* -1: not writing (never opened, or failed) */
    char tmp[PATH_MAX], path[PATH_MAX];
    unsigned char *chunk; /* SCAN_CACHE_CHUNK_HDR bytes reserved, then records */
    size_t len, cap;
    uint32_t n; /* records in chunk */
    uint64_t n_records, off;
    char err[200]; /* why the writing stopped */
};

static void wtr_fail(struct wtr *w, const char *what, int err)
{
    if (w->err[0] == '\0')
        snprintf(w->err, sizeof(w->err), "cannot write the scan cache: %s",
                 err != 0 ? strerror(err) : what);
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
        w->fd = -1;
    }
}

static bool write_full(int fd, const unsigned char *p, size_t n, int *err)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            *err = k < 0 ? errno : EIO;
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Removes the temporary files of coll that a scan killed while writing left behind (each as large
 * as the cache). One being written now was touched seconds ago and stays. */
static void stale_remove(const char *dir, const char *coll)
{
    char prefix[48];
    DIR *d = opendir(dir);
    struct dirent *e;
    time_t now = time(NULL);
    size_t plen = (size_t)snprintf(prefix, sizeof(prefix), ".%s.", coll);

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        struct stat sb;

        if (strncmp(e->d_name, prefix, plen) == 0 &&
            fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
            now - sb.st_mtime > STALE_TMP_S)
            (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* Starts DIR/scan-cache/.<coll>.XXXXXX (mode 0600); w->fd stays -1 when it cannot. */
static void wtr_open(struct wtr *w, const char *data_dir, const char *coll, const char *path)
{
    unsigned char zero[SCAN_CACHE_HDR_LEN];
    char dir[PATH_MAX];
    int err = 0, n;

    w->err[0] = '\0';
    w->fd = -1;
    w->off = 0;
    w->len = SCAN_CACHE_CHUNK_HDR;
    w->n = 0;
    w->n_records = 0;
    ctix_strlcpy(w->path, path, sizeof(w->path));
    n = snprintf(dir, sizeof(dir), "%s/%s", data_dir, CACHE_DIR);
    if (n < 0 || (size_t)n >= sizeof(dir) ||
        snprintf(w->tmp, sizeof(w->tmp), "%s/.%s.XXXXXX", dir, coll) >= (int)sizeof(w->tmp)) {
        wtr_fail(w, "path too long", 0);
        goto out;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        wtr_fail(w, NULL, errno);
        goto out;
    }
    stale_remove(dir, coll);
    w->fd = mkostemp(w->tmp, O_CLOEXEC);
    if (w->fd < 0) {
        wtr_fail(w, NULL, errno);
        goto out;
    }
    memset(zero, 0, sizeof(zero));
    if (!write_full(w->fd, zero, sizeof(zero), &err)) {
        wtr_fail(w, NULL, err);
        goto out;
    }
    w->off = sizeof(zero);
out:
    return;
}

static void wtr_flush(struct wtr *w)
{
    uint32_t plen = (uint32_t)(w->len - SCAN_CACHE_CHUNK_HDR);
    int err = 0;

    if (w->fd < 0 || w->n == 0)
        return;
    put32(w->chunk, plen);
    put32(w->chunk + 4, w->n);
    put64(w->chunk + 8,
          scan__cache_hash(((uint64_t)plen << 32) | w->n, w->chunk + SCAN_CACHE_CHUNK_HDR, plen));
    if (!write_full(w->fd, w->chunk, w->len, &err)) {
        wtr_fail(w, NULL, err);
        return;
    }
    w->off += w->len;
    w->len = SCAN_CACHE_CHUNK_HDR;
    w->n = 0;
}

/* Room for need more bytes in the chunk (flushing it first when it is full enough). */
static unsigned char *wtr_room(struct wtr *w, size_t need)
{
    if (w->fd < 0)
        return NULL;
    if (w->n > 0 && w->len + need > SCAN_CACHE_CHUNK_HDR + CHUNK_TARGET)
        wtr_flush(w);
    if (w->fd >= 0 && need > CHUNK_MAX) {
        wtr_fail(w, "a record too large for the cache", 0);
    } else if (w->fd >= 0 && w->len + need > w->cap) {
        size_t ncap = w->len + need > SCAN_CACHE_CHUNK_HDR + CHUNK_TARGET
                          ? w->len + need
                          : SCAN_CACHE_CHUNK_HDR + CHUNK_TARGET + 4096;
        unsigned char *nb = realloc(w->chunk, ncap);

        if (nb == NULL) {
            wtr_fail(w, "out of memory", 0);
        } else {
            w->chunk = nb;
            w->cap = ncap;
        }
    }
    return w->fd >= 0 ? w->chunk + w->len : NULL;
}

static void wtr_done(struct wtr *w, size_t n)
{
    w->len += n;
    w->n++;
    w->n_records++;
}

static void wtr_raw(struct wtr *w, const unsigned char *raw, size_t n)
{
    unsigned char *p = wtr_room(w, n);

    if (p != NULL) {
        memcpy(p, raw, n);
        wtr_done(w, n);
    }
}

static unsigned char *put_str(unsigned char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    p[n] = '\0';
    return p + n + 1;
}

/* An indicator (in), or the id of a skipped object (in NULL). */
static void wtr_rec(struct wtr *w, const struct scan_ind_in *in, const char *skip_id)
{
    size_t id_len = in != NULL ? in->id_len : strlen(skip_id);
    size_t need = REC_FIXED + id_len + 1;
    unsigned flags = in != NULL ? 0 : RF_SKIPPED;
    unsigned char *p, *q;

    if (in != NULL) {
        need += in->pattern_len + 1;
        if (in->name != NULL)
            need += in->name_len + 1;
        if (in->created_by_ref != NULL)
            need += in->created_by_ref_len + 1;
        if (id_len == 0 || id_len > STR_MAX || in->name_len > STR_MAX ||
            in->pattern_len > STR_MAX || in->created_by_ref_len > STR_MAX) {
            wtr_fail(w, "a string too long for the cache", 0);
            return;
        }
        flags |= (in->revoked ? RF_REVOKED : 0) | (in->name != NULL ? RF_NAME : 0) |
                 (in->created_by_ref != NULL ? RF_CBR : 0);
    }
    p = wtr_room(w, need);
    if (p == NULL)
        return;
    q = p;
    q[0] = (unsigned char)flags;
    put32(q + 1, (uint32_t)id_len);
    put32(q + 5, in != NULL && in->name != NULL ? (uint32_t)in->name_len : 0);
    put32(q + 9, in != NULL ? (uint32_t)in->pattern_len : 0);
    put32(q + 13, in != NULL && in->created_by_ref != NULL ? (uint32_t)in->created_by_ref_len : 0);
    put64(q + 17, in != NULL ? (uint64_t)in->modified_ms : 0);
    put64(q + 25, in != NULL ? (uint64_t)in->valid_from_ms : 0);
    put64(q + 33, in != NULL ? (uint64_t)in->valid_until_ms : 0);
    q += REC_FIXED;
    q = put_str(q, in != NULL ? in->id : skip_id, id_len);
    if (in != NULL && in->name != NULL)
        q = put_str(q, in->name, in->name_len);
    if (in != NULL)
        q = put_str(q, in->pattern, in->pattern_len);
    if (in != NULL && in->created_by_ref != NULL)
        q = put_str(q, in->created_by_ref, in->created_by_ref_len);
    wtr_done(w, (size_t)(q - p));
}

/* Writes the header and renames the file into place. No fsync: a cache lost in a crash is
 * rebuilt, and one half written is refused by its length and checksums. */
static bool wtr_finish(struct wtr *w, const char *coll, const struct store_changes_pos *pos)
{
    unsigned char h[SCAN_CACHE_HDR_LEN];
    bool ok = false;
    int err = 0;

    wtr_flush(w);
    if (w->fd < 0)
        goto out;
    memset(h, 0, sizeof(h));
    memcpy(h + H_MAGIC, CACHE_MAGIC, 8);
    put32(h + H_FORMAT, CACHE_FORMAT);
    put32(h + H_HDRLEN, SCAN_CACHE_HDR_LEN);
    ctix_strlcpy((char *)h + H_COLL, coll, 40);
    ctix_strlcpy((char *)h + H_EPOCH, pos->epoch, 40);
    put64(h + H_SEQ, (uint64_t)pos->seq);
    put64(h + H_NREC, w->n_records);
    put64(h + H_FLEN, w->off);
    put64(h + H_HASH, scan__cache_hash(0, h, H_HASH));
    if (pwrite(w->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
        wtr_fail(w, "short write", errno);
        goto out;
    }
    if (close(w->fd) != 0) {
        err = errno;
        w->fd = -1;
        unlink(w->tmp);
        wtr_fail(w, NULL, err);
        goto out;
    }
    w->fd = -1;
    if (rename(w->tmp, w->path) != 0) {
        err = errno;
        unlink(w->tmp);
        wtr_fail(w, NULL, err);
        goto out;
    }
    ok = true;
out:
    return ok;
}

static void wtr_cleanup(struct wtr *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
        w->fd = -1;
    }
    free(w->chunk);
    w->chunk = NULL;
    w->cap = 0;
}

/* ---- the set of changed ids ---- */

struct idset {
    char **ids; /* in the order told */
    size_t n, cap;
    char **slots;     /* open addressing, a power of two, at most half full */
    uint64_t *hashes; /* of each slot's id: most probes are decided without a string compare */
    size_t n_slots;
    size_t max; /* more than this: ETOOBIG */
};

static uint64_t id_hash(const char *id, size_t len)
{
    return scan__cache_hash(7, id, len);
}

static bool idset_has(const struct idset *s, const char *id, size_t len)
{
    uint64_t h;

    if (s->n == 0)
        return false;
    h = id_hash(id, len);
    for (size_t i = (size_t)h & (s->n_slots - 1);; i = (i + 1) & (s->n_slots - 1)) {
        const char *e = s->slots[i];

        if (e == NULL)
            return false;
        if (s->hashes[i] == h && strncmp(e, id, len) == 0 && e[len] == '\0')
            return true;
    }
}

static void idset_place(struct idset *s, char *id)
{
    uint64_t h = id_hash(id, strlen(id));
    size_t i = (size_t)h & (s->n_slots - 1);

    while (s->slots[i] != NULL)
        i = (i + 1) & (s->n_slots - 1);
    s->slots[i] = id;
    s->hashes[i] = h;
}

static enum ctix_rc idset_grow(struct idset *s)
{
    size_t nn = s->n_slots == 0 ? 64 : s->n_slots * 2;
    char **ns = calloc(nn, sizeof(*ns));
    uint64_t *nh = calloc(nn, sizeof(*nh));
    char **ni = realloc(s->ids, nn / 2 * sizeof(*ni));

    if (ns == NULL || nh == NULL || ni == NULL) {
        free(ns);
        free(nh);
        if (ni != NULL)
            s->ids = ni;
        return CTIX_ENOMEM;
    }
    s->ids = ni;
    s->cap = nn / 2;
    free(s->slots);
    free(s->hashes);
    s->slots = ns;
    s->hashes = nh;
    s->n_slots = nn;
    for (size_t k = 0; k < s->n; k++)
        idset_place(s, s->ids[k]);
    return CTIX_OK;
}

static enum ctix_rc idset_add(void *ctx, const char *id)
{
    struct idset *s = ctx;
    size_t len = strlen(id);
    enum ctix_rc rc = CTIX_OK;
    char *copy;

    if (idset_has(s, id, len))
        goto out;
    if (s->n >= s->max) {
        rc = CTIX_ETOOBIG;
        goto out;
    }
    if (s->n + 1 > s->cap && (rc = idset_grow(s)) != CTIX_OK)
        goto out;
    copy = strdup(id);
    if (copy == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    idset_place(s, copy);
    s->ids[s->n++] = copy;
out:
    return rc;
}

/* A change the cache must apply: only indicators are in it (the loader asks the store for that
 * type, and a STIX id begins with its type), so the attestations and other objects a write
 * changes alongside are passed over. */
static enum ctix_rc change_seen(void *ctx, const char *id)
{
    return strncmp(id, "indicator--", 11) == 0 ? idset_add(ctx, id) : CTIX_OK;
}

static void idset_cleanup(struct idset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
    free(s->slots);
    free(s->hashes);
    memset(s, 0, sizeof(*s));
}

/* ---- the cache of one collection ---- */

struct scan_cache {
    struct store *st;
    char data_dir[PATH_MAX];
    char coll[37];
    struct scan_cache_info info;
    struct scan_load_stats stats;
    bool retry; /* the file failed after indicators were handed over: the next load reads the store
                 */
};

enum ctix_rc scan_cache_new(struct store *st, const char *data_dir, const char *coll,
                            struct scan_cache **out, struct ctix_diag *diag)
{
    struct store_collection c;
    struct scan_cache *sc = NULL;
    enum ctix_rc rc = store_collection_get(st, coll, &c);
    int n;

    if (rc != CTIX_OK) {
        ctix_diag_set(diag, coll, rc == CTIX_ENOTFOUND ? "no such collection" : "%s",
                      ctix_strerror(rc));
        goto out;
    }
    sc = calloc(1, sizeof(*sc));
    if (sc == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    sc->st = st;
    ctix_strlcpy(sc->coll, c.id, sizeof(sc->coll));
    n = snprintf(sc->info.path, sizeof(sc->info.path), "%s/%s/%s.cache", data_dir, CACHE_DIR, c.id);
    if (n < 0 || (size_t)n >= sizeof(sc->info.path) ||
        ctix_strlcpy(sc->data_dir, data_dir, sizeof(sc->data_dir)) >= sizeof(sc->data_dir)) {
        ctix_diag_set(diag, data_dir, "data directory path too long");
        rc = CTIX_EINVAL;
        goto out;
    }
    *out = sc;
    sc = NULL;
out:
    free(sc);
    return rc;
}

void scan_cache_free(struct scan_cache *sc)
{
    free(sc);
}

bool scan_cache_retry(const struct scan_cache *sc)
{
    return sc->retry;
}

const struct scan_cache_info *scan_cache_info(const struct scan_cache *sc)
{
    return &sc->info;
}

const struct scan_load_stats *scan_cache_stats(const struct scan_cache *sc)
{
    return &sc->stats;
}

/* What the loaders see: the consumer's fn, the writer, and the changed ids to leave out. */
struct pass {
    struct scan_cache *sc;
    scan_ind_fn fn;
    void *arg;
    struct wtr *w;
    const struct idset *changed;
    size_t n_ind, n_skip; /* records handed over / skipped, from the file */
};

static enum ctix_rc pass_ind(void *arg, const struct scan_ind_in *in)
{
    struct pass *ps = arg;

    wtr_rec(ps->w, in, NULL);
    return ps->fn(ps->arg, in);
}

static enum ctix_rc pass_skip(void *arg, const char *id)
{
    struct pass *ps = arg;

    wtr_rec(ps->w, NULL, id);
    return CTIX_OK;
}

static enum ctix_rc pass_rec(void *arg, const struct rec *r)
{
    struct pass *ps = arg;
    enum ctix_rc rc = CTIX_OK;

    if (ps->changed != NULL && idset_has(ps->changed, r->in.id, r->in.id_len))
        goto out; /* its current state comes from the store */
    wtr_raw(ps->w, r->raw, r->raw_len);
    if (r->skipped) {
        ps->n_skip++;
    } else {
        ps->n_ind++;
        rc = ps->fn(ps->arg, &r->in);
    }
out:
    return rc;
}

/* The problems with the file, as one line "PATH: what; what". */
static void set_warning(struct scan_cache *sc, const char *what)
{
    char *w = sc->info.warning;
    size_t len = strlen(w);

    if (len == 0 && snprintf(w, sizeof(sc->info.warning), "%s: %s", sc->info.path, what) < 0)
        w[0] = '\0';
    else if (len > 0 && snprintf(w + len, sizeof(sc->info.warning) - len, "; %s", what) < 0)
        w[len] = '\0';
}

/* Everything from the store, written to a new cache marked with the point read first. */
static enum ctix_rc load_store(struct scan_cache *sc, struct pass *ps, struct ctix_diag *diag)
{
    struct scan_store_sel sel = {NULL, 0, pass_skip};
    struct store_changes_pos pos;
    enum ctix_rc rc = store_changes_pos(sc->st, &pos);

    if (rc != CTIX_OK) {
        ctix_diag_set(diag, sc->coll, "store change log: %s", ctix_strerror(rc));
        goto out;
    }
    wtr_open(ps->w, sc->data_dir, sc->coll, sc->info.path);
    rc = scan_load_store_sel(sc->st, sc->coll, &sel, pass_ind, ps, &sc->stats, diag);
    if (rc == CTIX_OK)
        sc->info.written = wtr_finish(ps->w, sc->coll, &pos);
    sc->info.how = SCAN_CACHE_REBUILT;
out:
    return rc;
}

/* The file, less the changed objects, then the changed objects' current state from the store.
 * *fallback when the file is unusable and nothing was handed over yet. */
static enum ctix_rc load_file(struct scan_cache *sc, struct pass *ps, bool *fallback,
                              struct ctix_diag *diag)
{
    struct store_changes_pos since, now;
    struct idset changed;
    struct ctix_diag fd_diag;
    struct scan_load_stats st2;
    struct rdr r;
    enum ctix_rc rc;
    bool advance = false;
    int fd;

    memset(&changed, 0, sizeof(changed));
    memset(&r, 0, sizeof(r));
    ctix_diag_clear(&fd_diag);
    *fallback = true;
    fd = open(sc->info.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            snprintf(sc->info.why, sizeof(sc->info.why), "no cache yet");
        } else {
            char msg[160];

            snprintf(msg, sizeof(msg), "cannot open the scan cache: %s", strerror(errno));
            set_warning(sc, msg);
            snprintf(sc->info.why, sizeof(sc->info.why), "the cache could not be read");
        }
        rc = CTIX_OK;
        goto out;
    }
    rc = rdr_open(&r, fd, sc->info.path, sc->coll, &fd_diag);
    if (rc != CTIX_OK) {
        set_warning(sc, fd_diag.msg);
        snprintf(sc->info.why, sizeof(sc->info.why), "the cache was unusable");
        rc = CTIX_OK;
        goto out;
    }
    ctix_strlcpy(since.epoch, r.epoch, sizeof(since.epoch));
    since.seq = r.seq;
    changed.max = CHANGES_MIN_MAX + r.n_records / 8;
    rc = store_changes_since(sc->st, sc->coll, &since, change_seen, &changed, &now);
    if (rc == CTIX_ECONFLICT || rc == CTIX_ETOOBIG) {
        snprintf(sc->info.why, sizeof(sc->info.why), "%s",
                 rc == CTIX_ETOOBIG ? "more objects changed than a cache update is worth"
                                    : "the store's change log cannot tell what changed since the "
                                      "cache");
        rc = CTIX_OK;
        goto out;
    }
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, sc->coll, "store change log: %s", ctix_strerror(rc));
        *fallback = false;
        goto out;
    }
    /* The file is rewritten at the new point only when that pays: rewriting costs about 0.3 us a
     * record, applying a change again at each scan ~30 us (a store lookup) — so past a hundredth
     * of the records. Changes to other objects (attestations, reports…) leave the indicators as
     * they are but are read from the log again by each scan: past ADVANCE_ROWS, rewrite too. */
    advance = changed.n > REWRITE_MIN + r.n_records / 100 || now.seq - since.seq > ADVANCE_ROWS;
    if (advance)
        wtr_open(ps->w, sc->data_dir, sc->coll, sc->info.path);
    ps->changed = &changed;
    rc = rdr_each(&r, pass_rec, ps);
    ps->changed = NULL;
    if (rc != CTIX_OK && r.damaged) {
        set_warning(sc, fd_diag.msg);
        snprintf(sc->info.why, sizeof(sc->info.why), "the cache was unusable");
        /* Nothing handed over: the store can take over at once. Else the caller starts again. */
        *fallback = ps->n_ind == 0;
        if (!*fallback) {
            sc->retry = true;
            ctix_diag_set(diag, sc->info.path, "%s", fd_diag.msg);
        } else {
            rc = CTIX_OK;
        }
        wtr_cleanup(ps->w);
        goto out;
    }
    *fallback = false;
    if (rc != CTIX_OK)
        goto out;
    sc->stats.n_indicators = ps->n_ind;
    sc->stats.n_skipped = ps->n_skip;
    sc->stats.n_objects = ps->n_ind + ps->n_skip;
    sc->info.how = SCAN_CACHE_CURRENT;
    if (changed.n > 0) {
        struct scan_store_sel sel = {(const char *const *)changed.ids, changed.n, pass_skip};

        rc = scan_load_store_sel(sc->st, sc->coll, &sel, pass_ind, ps, &st2, diag);
        if (rc != CTIX_OK)
            goto out;
        sc->stats.n_indicators += st2.n_indicators;
        sc->stats.n_skipped += st2.n_skipped;
        sc->stats.n_objects += st2.n_objects;
        sc->info.how = SCAN_CACHE_UPDATED;
        sc->info.n_changes = changed.n;
    }
    if (advance)
        sc->info.written = wtr_finish(ps->w, sc->coll, &now);
out:
    if (fd >= 0)
        close(fd);
    rdr_cleanup(&r);
    idset_cleanup(&changed);
    return rc;
}

enum ctix_rc scan_cache_load(void *ctx, scan_ind_fn fn, void *arg, struct ctix_diag *diag)
{
    struct scan_cache *sc = ctx;
    struct wtr w;
    struct pass ps;
    bool fallback = true;
    bool from_file = !sc->retry; /* after a file failed midway: the store, this once */
    enum ctix_rc rc = CTIX_OK;

    memset(&w, 0, sizeof(w));
    w.fd = -1;
    memset(&ps, 0, sizeof(ps));
    ps.sc = sc;
    ps.fn = fn;
    ps.arg = arg;
    ps.w = &w;
    memset(&sc->stats, 0, sizeof(sc->stats));
    sc->info.how = 0;
    sc->info.n_changes = 0;
    sc->info.written = false;
    sc->info.why[0] = '\0';
    if (from_file)
        sc->info.warning[0] = '\0'; /* a retry keeps the warning that caused it */
    sc->retry = false;
    if (from_file) {
        rc = load_file(sc, &ps, &fallback, diag);
        if (rc != CTIX_OK || !fallback)
            goto out;
    }
    memset(&ps, 0, sizeof(ps));
    ps.sc = sc;
    ps.fn = fn;
    ps.arg = arg;
    ps.w = &w;
    if (sc->info.why[0] == '\0')
        snprintf(sc->info.why, sizeof(sc->info.why), "the cache was unusable");
    rc = load_store(sc, &ps, diag);
out:
    if (w.err[0] != '\0')
        set_warning(sc, w.err);
    wtr_cleanup(&w);
    return rc;
}

enum ctix_rc scan_cache_index_build(struct scan_cache *sc, scan_bad_fn bad, void *bad_arg,
                                    struct scan_index **out, struct ctix_diag *diag)
{
    struct scan_index *ix = NULL;
    enum ctix_rc rc = CTIX_OK;

    for (int attempt = 0; attempt < 2; attempt++) {
        ix = scan_index_new();
        if (ix == NULL) {
            rc = CTIX_ENOMEM;
            break;
        }
        ctix_diag_clear(diag);
        rc = scan_index_build(ix, scan_cache_load, sc, bad, bad_arg, diag);
        if (rc == CTIX_OK || !scan_cache_retry(sc))
            break;
        scan_index_free(ix); /* it holds part of a bad file: start again from the store */
        ix = NULL;
    }
    if (rc == CTIX_OK) {
        *out = ix;
        ix = NULL;
    }
    scan_index_free(ix);
    return rc;
}
