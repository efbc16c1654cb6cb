/* The scan driver: files in, hits and totals out, on every core.
 *
 * One reader (the calling thread) turns each input — a file, stdin, gzip or zstd — into blocks of
 * whole lines (BLOCK bytes, cut after the last '\n'). Workers take blocks from a queue and run each
 * line through its format's reader and the index. Results are committed strictly in block order
 * by whichever thread finishes the next block due, so hits come out in input order per file and
 * line numbers are exact without a counting pass: a block counts its own lines and the committer
 * adds the lines before it.
 *
 * Header lines change how later lines read (Zeek "#fields", a CSV header), and a block may start
 * in the middle of a Zeek section whose header sits in an earlier block. A worker reads a block
 * from a state at its start and leaves the state at its end (its header lines applied). The
 * state a block starts from is exact when the block is an input's first, or when every block
 * before it is committed (always so with one worker): then it is the end state of the last one.
 * Otherwise the block is read from a guess (the end state of the latest block read from a known
 * state, or the state after the input's first block) and checked when it is committed: read from
 * the wrong state (a header in mid-input while other blocks were being read), it is read again
 * from the right one before anything of it is kept. The reader itself never looks for headers
 * past an input's first block: that was a whole extra pass over every byte (a memchr for '#',
 * 3-5 % of a one-core scan).
 *
 * A plain regular file is mapped rather than read: its blocks point into the mapping, which
 * spares copying every byte once (the copy cost as much as a tenth of a scan), and the pages of
 * committed blocks are given back, so the resident size stays bounded too. A mapped file that
 * shrinks while it is read would kill the process with SIGBUS. The reader and the workers say
 * which mapping they read; the handler puts a page of zeros where the lost page was (the read
 * goes on, nothing is unwound, nothing leaks) and notes it, and the block is then reported as the
 * file cut short instead of being committed.
 *
 * Memory is bounded: 2 × threads + 2 blocks in flight, whatever the input size; a line longer
 * than SCAN_LINE_MAX is skipped and reported, not buffered. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "scan/scan.h"
#include "scan/scan_int.h"
#include "scan/sieve.h"

#define BLOCK       (4u << 20) /* bytes of lines per block */
#define MAX_REPORTS 10         /* bad lines reported one by one per file; the rest counted */

enum blk_kind { BLK_DATA, BLK_LONG, BLK_ERROR };

struct input;

/* A hit as a worker found it: line relative to its block, observable text kept in the block. */
struct bhit {
    uint64_t line;
    int64_t time;
    uint32_t ind;
    uint8_t kind;
    uint32_t off, len; /* observable text in blk->text */
};

struct bbad {
    uint64_t line;
    bool note;         /* reported, not skipped */
    uint32_t off, len; /* why, in blk->text */
};

struct blk {
    struct blk *next; /* queue / free list */
    uint64_t seq;
    struct input *in;
    enum blk_kind kind;
    struct scan_fmt_state st;     /* at the block's start */
    bool st_exact;                /* st is known right (not a guess) */
    struct scan_fmt_state st_end; /* after its lines (its header lines applied) */
    char *buf;                    /* owned: BLOCK + SCAN_SIEVE_PAD bytes */
    const char *data;             /* the lines: buf, or a stretch of the input's mapping */
    size_t len;
    bool mapped;    /* of a mapped input (data may still be a copy in buf) */
    size_t map_end; /* mapped: where the block ends in the file */
    char msg[256];  /* BLK_ERROR */
    /* results */
    struct bhit *hits;
    size_t n_hits, cap_hits;
    struct bbad *bad;
    size_t n_bad, cap_bad;
    struct buf text;
    uint64_t n_lines, n_records;
    size_t n_notes; /* of n_bad: reported lines that were read */
    bool done;
    enum ctix_rc rc;
};

struct input {
    const char *name;
    uint64_t lines;   /* committed so far */
    uint64_t n_bad;   /* reported lines (skipped and notes) */
    uint64_t n_notes; /* … of which read anyway */
    bool skipped;     /* something of it was not scanned */
    bool cut_short;   /* a mapped file shrank: said once */
    char *map;        /* the file's mapping (or NULL), unmapped at the end of the run */
    size_t map_len;
    size_t map_given; /* pages before this offset given back */
    bool data_put;    /* a block of lines of it is queued (the reader's) */
    bool commit_ok;   /* a block of lines of it is committed: st_commit is its end state */
    struct scan_fmt_state st_commit;
    uint64_t guess_seq; /* st_guess: the end state of its latest block read from a known state */
    struct scan_fmt_state st_guess;
};

/* A hit line's end for one indicator (hit_tail), in a small table by indicator. */
#define HIT_TAILS 1024
struct hit_tail {
    uint32_t ind; /* the indicator + 1 (0: none) */
    struct buf s;
};

/* Per indicator: what the sightings need. */
struct agg_obs {
    uint8_t kind;
    char *val;
    size_t len;
    uint64_t count;
    int64_t first, last;
};

struct agg {
    uint64_t count;
    int64_t first, last;
    struct agg_obs *obs;
    size_t n_obs, cap_obs;
};

struct run {
    const struct scan_index *ix;
    const struct scan_sieve *sieve; /* NULL: every line goes to its reader */
    const struct scan_opts *o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct blk *queue, *queue_tail; /* for workers */
    struct blk *free_list;
    struct blk **done; /* ring by seq, committed in order */
    size_t ring;
    uint64_t next_seq, commit_seq;
    bool eof, failed;
    enum ctix_rc rc;
    struct scan_totals *tot;
    struct agg *aggs;            /* by indicator slot, when sightings are wanted */
    uint64_t *hitbits;           /* indicators hit so far, for the summary */
    struct buf out;              /* formatted hit lines */
    const struct input *file_of; /* whose name file_json holds */
    struct buf file_json;        /* `{"file":"NAME","line":` */
    struct hit_tail *tails;      /* HIT_TAILS, by indicator */
    bool ts_ok;                  /* ts_text holds ts_sec's second: `"…T12:00:00.mmmZ"` */
    int64_t ts_sec;
    char ts_text[28];
    int64_t progress_at;
    uint64_t bytes_total;
    bool map_ok; /* SIGBUS caught: inputs may be mapped */
};

/* ---- helpers ---- */

static int64_t now_ms_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum ctix_rc blk_text(struct blk *b, const char *p, size_t n, uint32_t *off)
{
    if (b->text.len + n > UINT32_MAX)
        return CTIX_ETOOBIG;
    *off = (uint32_t)b->text.len;
    return buf_append(&b->text, p, n);
}

static void obs_text(const struct scan_obs *o, char tmp[SCAN_ADDR_TEXT], const char **p, size_t *n)
{
    if (o->kind == SCAN_IPV4 || o->kind == SCAN_IPV6) {
        *n = scan_addr_text(o, tmp);
        *p = tmp;
    } else {
        *p = o->u.s.p;
        *n = o->u.s.n;
    }
}

/* ---- the worker's side ---- */

static enum ctix_rc blk_note(struct blk *b, uint64_t line, const char *why, bool note)
{
    enum ctix_rc rc;

    if (b->n_bad < MAX_REPORTS + 1) {
        if ((rc = ctix_array_reserve((void **)&b->bad, &b->cap_bad, b->n_bad + 1,
                                     sizeof(*b->bad))) != CTIX_OK)
            return rc;
        b->bad[b->n_bad].line = line;
        b->bad[b->n_bad].note = note;
        b->bad[b->n_bad].len = (uint32_t)strlen(why);
        if ((rc = blk_text(b, why, strlen(why), &b->bad[b->n_bad].off)) != CTIX_OK)
            return rc;
    }
    b->n_bad++;
    b->n_notes += note;
    return CTIX_OK;
}

static enum ctix_rc blk_bad(struct blk *b, uint64_t line, const char *why)
{
    return blk_note(b, line, why, false);
}

static enum ctix_rc blk_hit(struct blk *b, uint64_t line, const struct scan_rec *r,
                            const struct scan_hit *h)
{
    char tmp[SCAN_ADDR_TEXT];
    const char *p;
    size_t n;
    enum ctix_rc rc;

    if ((rc = ctix_array_reserve((void **)&b->hits, &b->cap_hits, b->n_hits + 1,
                                 sizeof(*b->hits))) != CTIX_OK)
        return rc;
    struct bhit *x = &b->hits[b->n_hits];
    const struct scan_obs *o = &r->obs[h->obs < r->n_obs ? h->obs : 0];
    obs_text(o, tmp, &p, &n);
    x->line = line;
    x->time = r->time_ms;
    x->ind = h->ind;
    x->kind = o->kind;
    x->len = (uint32_t)n;
    if ((rc = blk_text(b, p, n, &x->off)) != CTIX_OK)
        return rc;
    b->n_hits++;
    return CTIX_OK;
}

/* Whether p[0..n) holds a NUL byte or a byte >= 0x80, in one pass (16 bytes a step). */
static void block_flags(const char *p, size_t n, bool *nul, bool *high)
{
    size_t i = 0;
    unsigned hi = 0, z = 0;

#if defined(__SSE2__)
    __m128i acc = _mm_setzero_si128(), zero = _mm_setzero_si128(), zs = _mm_setzero_si128();

    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

        acc = _mm_or_si128(acc, x);
        zs = _mm_or_si128(zs, _mm_cmpeq_epi8(x, zero));
    }
    hi = (unsigned)_mm_movemask_epi8(acc);
    z = (unsigned)_mm_movemask_epi8(zs);
#endif
    for (; i < n; i++) {
        hi |= (unsigned char)p[i] & 0x80;
        z |= p[i] == 0;
    }
    *nul = z != 0;
    *high = hi != 0;
}

/* A worker overlaps three records: it reads record i while the big tables' lines for record i-1
 * and the small filters' lines for record i-2 are on their way (scan_index_stage1, stage2, then
 * resolve, one record apart), so memory latency hides behind parsing. */
#define PIPE 3

struct worker {
    struct run *run;
    struct scan_rec rec[PIPE];
    struct scan_matcher m[PIPE];
    struct scan_sieve_batch sb; /* the lines being read, sieved together */
};

/* Resolves the pending record k of w and keeps its hits. */
static enum ctix_rc pending_resolve(struct worker *w, struct blk *b, int k, uint64_t line)
{
    const struct scan_opts *o = w->run->o;
    enum ctix_rc rc =
        scan_index_resolve(w->run->ix, &w->rec[k], o->now_ms, o->valid_at_ms, &w->m[k]);

    for (size_t h = 0; rc == CTIX_OK && h < w->m[k].n_hits; h++)
        rc = blk_hit(b, line, &w->rec[k], &w->m[k].hits[h]);
    return rc;
}

static bool is_header_line(const struct scan_fmt_state *st, const char *p, size_t n)
{
    return (n > 0 && p[0] == '#') || ((st->fmt == SCAN_FMT_CSV || (st->fmt == SCAN_FMT_AUTO &&
                                                                   st->detected == SCAN_FMT_CSV)) &&
                                      !st->csv_header_seen);
}

/* Whether the sieve proves line p[0..n) (a non-header line) a record with nothing to match, so
 * that its reader need not run. The framing checks a reader would fail a line on and that cost
 * next to nothing stay: a blank line (not a record), a Zeek record whose field count differs from
 * its header, a JSON line without its closing brace, a CSV line with an odd number of quotes all
 * go on to their reader, which says what is wrong. The counts read past the line's end, within
 * the batch's readable bytes, as the sieve's count may. */
static bool sieved(const struct scan_sieve *sv, const struct scan_fmt_state *st, const char *p,
                   size_t n)
{
    enum scan_fmt f = (enum scan_fmt)st->fmt;

    if (n == 0 || p[0] == ' ' || p[0] == '\t')
        return false;
    if (f == SCAN_FMT_ZEEK || (f == SCAN_FMT_AUTO && st->in_zeek && p[0] != '{')) {
        size_t k = scan_sieve_count(sv, p, n, st->zeek_sep);

        if (st->n_fields == 0 || k + 1 != st->n_fields)
            return false;
    } else if (f == SCAN_FMT_JSONL || p[0] == '{') {
        if (p[0] != '{' || p[n - 1] != '}')
            return false;
    } else if (f == SCAN_FMT_CSV || (f == SCAN_FMT_AUTO && st->detected == SCAN_FMT_CSV)) {
        if (scan_sieve_count(sv, p, n, '"') % 2 != 0)
            return false;
    }
    return true;
}

static enum ctix_rc blk_process(struct worker *w, struct blk *b)
{
    const struct scan_index *ix = w->run->ix;
    const struct scan_sieve *sv = w->run->sieve;
    struct scan_fmt_state st = b->st;
    int cur = 0, s1 = -1, s2 = -1; /* being read; past stage one; past stage two */
    uint64_t line1 = 0, line2 = 0;
    const char *q = b->data, *end = b->data + b->len;
    uint64_t line = 0;
    enum ctix_rc rc = CTIX_OK;
    /* Most blocks have neither NUL bytes nor bytes >= 0x80: one vectorisable pass over the block
     * spares the per-line checks. */
    bool nul = false, high = false;

    if (sv == NULL)
        block_flags(q, b->len, &nul, &high);
    while (q < end && rc == CTIX_OK) {
        struct scan_sieve_batch *sb = &w->sb;

        /* the next lines, sieved together (the sieve's pass over their bytes also says whether
         * they hold NUL bytes or bytes >= 0x80) */
        if (sv != NULL) {
            q += scan_sieve_block(sv, sb, q, (size_t)(end - q));
            nul = sb->nul;
            high = sb->high;
        } else {
            sb->k = 0;
            sb->maybe = ~(uint64_t)0;
            while (q < end && sb->k < SCAN_SIEVE_BATCH) {
                const char *nl = memchr(q, '\n', (size_t)(end - q));
                size_t n = (size_t)((nl != NULL ? nl : end) - q);

                if (n > 0 && q[n - 1] == '\r')
                    n--;
                sb->p[sb->k] = q;
                sb->n[sb->k] = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
                sb->k++;
                q = nl != NULL ? nl + 1 : end;
            }
        }
        for (unsigned i = 0; i < sb->k && rc == CTIX_OK; i++) {
            const char *p = sb->p[i];
            size_t n = sb->n[i];
            const char *why = NULL;

            line++;
            /* Reported, but read: the observables around a stray byte are still there. */
            if (high && n <= SCAN_LINE_MAX && !ctix_utf8_valid(p, n) &&
                (rc = blk_note(b, line, "invalid UTF-8 (read as bytes)", true)) != CTIX_OK)
                break;
            if (n > SCAN_LINE_MAX) {
                why = "line longer than 1 MiB, skipped";
            } else if (nul && memchr(p, 0, n) != NULL) {
                why = "binary data (NUL bytes), skipped";
            } else if (is_header_line(&st, p, n) && scan_fmt_header(&st, p, n)) {
                /* a header: not a record */
            } else if (!(sb->maybe >> i & 1) && sieved(sv, &st, p, n)) {
                b->n_records++;
            } else {
                struct scan_rec *r = &w->rec[cur];

                if (!scan_rec_reset(r, n)) {
                    rc = CTIX_ENOMEM;
                    break;
                }
                enum scan_line_rc lr = scan_fmt_line(&st, p, n, r, &why);

                if (lr == SCAN_LINE_OK) {
                    b->n_records++;
                    if (r->n_obs > 0) {
                        if ((rc = scan_index_stage1(ix, r, &w->m[cur])) != CTIX_OK)
                            break;
                        if (s2 >= 0 && (rc = pending_resolve(w, b, s2, line2)) != CTIX_OK)
                            break;
                        s2 = -1;
                        if (s1 >= 0) {
                            if ((rc = scan_index_stage2(ix, &w->rec[s1], &w->m[s1])) != CTIX_OK)
                                break;
                            s2 = s1;
                            line2 = line1;
                        }
                        s1 = cur;
                        line1 = line;
                        cur = (cur + 1) % PIPE;
                    }
                    why = NULL;
                } else if (lr == SCAN_LINE_SKIP) {
                    why = NULL;
                } else if (why == NULL) {
                    why = "not a record of this format";
                }
            }
            if (why != NULL && (rc = blk_bad(b, line, why)) != CTIX_OK)
                break;
        }
    }
    if (rc == CTIX_OK && s2 >= 0)
        rc = pending_resolve(w, b, s2, line2);
    if (rc == CTIX_OK && s1 >= 0 && (rc = scan_index_stage2(ix, &w->rec[s1], &w->m[s1])) == CTIX_OK)
        rc = pending_resolve(w, b, s1, line1);
    b->n_lines = line;
    b->st_end = st;
    return rc;
}

/* A block's results dropped (read again, or cut short). */
static void blk_results_reset(struct blk *b)
{
    b->n_hits = b->n_bad = b->n_notes = 0;
    b->n_lines = b->n_records = 0;
    buf_reset(&b->text);
}

/* ---- committing, in block order ---- */

static const char *kind_type(uint8_t k)
{
    static const char *const t[SCAN_KIND_N] = {
        "ipv4-addr:value",  "ipv6-addr:value", "domain-name:value",   "url:value",
        "email-addr:value", "file:hashes.MD5", "file:hashes.'SHA-1'", "file:hashes.'SHA-256'",
    };

    return k < SCAN_KIND_N ? t[k] : "?";
}

static enum ctix_rc agg_add(struct run *r, const struct bhit *h, const char *val, int64_t t)
{
    struct agg *a = &r->aggs[h->ind];

    if (a->count == 0 || t < a->first)
        a->first = t;
    if (a->count == 0 || t > a->last)
        a->last = t;
    a->count++;
    for (size_t i = 0; i < a->n_obs; i++) {
        struct agg_obs *x = &a->obs[i];

        if (x->kind == h->kind && x->len == h->len && memcmp(x->val, val, h->len) == 0) {
            x->count++;
            x->first = t < x->first ? t : x->first;
            x->last = t > x->last ? t : x->last;
            return CTIX_OK;
        }
    }
    if (a->n_obs >= SCAN_SIGHT_MAX_OBS) {
        return CTIX_OK; /* counted in the sighting, not listed */
    }
    if (ctix_array_reserve((void **)&a->obs, &a->cap_obs, a->n_obs + 1, sizeof(*a->obs)) != CTIX_OK)
        return CTIX_ENOMEM;
    struct agg_obs *x = &a->obs[a->n_obs];
    x->val = malloc(h->len + 1);
    if (x->val == NULL)
        return CTIX_ENOMEM;
    memcpy(x->val, val, h->len);
    x->val[h->len] = '\0';
    x->len = h->len;
    x->kind = h->kind;
    x->count = 1;
    x->first = x->last = t;
    a->n_obs++;
    return CTIX_OK;
}

/* Appends the decimal digits of v. */
static enum ctix_rc append_u64(struct buf *out, uint64_t v)
{
    char d[20];
    size_t i = sizeof(d);

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return buf_append(out, d + i, sizeof(d) - i);
}

/* The end of a hit's line for one indicator (`"indicator":"…","name":…}` and the newline), kept
 * for the indicators hit last: a scan's hits fall on few indicators, and escaping the same name
 * for each of them is work thrown away. */
static const struct buf *hit_tail(struct run *r, uint32_t ind)
{
    struct hit_tail *t = &r->tails[ind % HIT_TAILS];
    const char *name;

    if (t->ind == ind + 1)
        return &t->s;
    buf_reset(&t->s);
    t->ind = 0;
    name = scan_index_name(r->ix, ind);
    if (buf_appends(&t->s, "\"indicator\":\"") != CTIX_OK ||
        buf_appends(&t->s, scan_index_id(r->ix, ind)) != CTIX_OK ||
        buf_appends(&t->s, "\",\"name\":") != CTIX_OK ||
        (name != NULL ? buf_append_json_str(&t->s, name, strlen(name))
                      : buf_appends(&t->s, "null")) != CTIX_OK ||
        buf_appends(&t->s, "}\n") != CTIX_OK)
        return NULL;
    t->ind = ind + 1;
    return &t->s;
}

/* A hit's time as a JSON string ("…:SS.mmmZ": records carry milliseconds, not six digits of
 * which three are 0). Hits come in runs within one second: the second's text is made once. */
static enum ctix_rc append_time(struct run *r, int64_t t)
{
    int64_t sec = t / 1000 - (t % 1000 < 0), ms = t - sec * 1000;
    char ts[32];

    if (!r->ts_ok || sec != r->ts_sec) {
        ctix_ts_format_us(sec * 1000000, ts);
        r->ts_ok = strlen(ts) == 27;
        if (!r->ts_ok) {
            /* (a year of more than four digits: the time as it is) */
            enum ctix_rc rc;

            ctix_ts_format_us(t * 1000, ts);
            if ((rc = buf_append(&r->out, "\"", 1)) != CTIX_OK ||
                (rc = buf_appends(&r->out, ts)) != CTIX_OK)
                return rc;
            return buf_append(&r->out, "\"", 1);
        }
        /* `"` and "YYYY-MM-DDTHH:MM:SS." */
        r->ts_text[0] = '"';
        memcpy(r->ts_text + 1, ts, 20);
        memcpy(r->ts_text + 24, "Z\"", 2);
        r->ts_sec = sec;
    }
    r->ts_text[21] = (char)('0' + ms / 100);
    r->ts_text[22] = (char)('0' + ms / 10 % 10);
    r->ts_text[23] = (char)('0' + ms % 10);
    return buf_append(&r->out, r->ts_text, 26);
}

/* One hit's JSON line. Written piece by piece, not by printf: with half a million hits,
 * formatting them through vsnprintf was a tenth of a one-core scan. */
static enum ctix_rc hit_line(struct run *r, const struct blk *b, const struct bhit *h,
                             const char *val)
{
    struct buf *out = &r->out;
    const struct buf *tail;
    enum ctix_rc rc;

    if (r->file_of != b->in) {
        buf_reset(&r->file_json);
        if ((rc = buf_appends(&r->file_json, "{\"file\":")) != CTIX_OK ||
            (rc = buf_append_json_str(&r->file_json, b->in->name, strlen(b->in->name))) !=
                CTIX_OK ||
            (rc = buf_appends(&r->file_json, ",\"line\":")) != CTIX_OK)
            return rc;
        r->file_of = b->in;
    }
    if ((rc = buf_append(out, r->file_json.data, r->file_json.len)) != CTIX_OK ||
        (rc = append_u64(out, b->in->lines + h->line)) != CTIX_OK ||
        (rc = buf_appends(out, ",\"time\":")) != CTIX_OK ||
        (rc = h->time != SCAN_TIME_NONE ? append_time(r, h->time) : buf_appends(out, "null")) !=
            CTIX_OK ||
        (rc = buf_appends(out, ",\"observable\":")) != CTIX_OK ||
        (rc = buf_append_json_str(out, val, h->len)) != CTIX_OK ||
        (rc = buf_appends(out, ",\"type\":\"")) != CTIX_OK ||
        (rc = buf_appends(out, kind_type(h->kind))) != CTIX_OK ||
        (rc = buf_appends(out, "\",")) != CTIX_OK)
        return rc;
    if ((tail = hit_tail(r, h->ind)) == NULL)
        return CTIX_ENOMEM;
    return buf_append(out, tail->data, tail->len);
}

static enum ctix_rc commit_hits(struct run *r, struct blk *b)
{
    const struct scan_opts *o = r->o;
    struct buf *out = &r->out;
    enum ctix_rc rc = CTIX_OK;

    for (size_t i = 0; i < b->n_hits; i++) {
        const struct bhit *h = &b->hits[i];
        const char *val = b->text.data + h->off;
        int64_t t = h->time != SCAN_TIME_NONE ? h->time : o->now_ms;

        r->tot->hits++;
        if (!(r->hitbits[h->ind / 64] >> (h->ind % 64) & 1)) {
            r->hitbits[h->ind / 64] |= (uint64_t)1 << (h->ind % 64);
            r->tot->indicators_hit++;
        }
        if (r->aggs != NULL && (rc = agg_add(r, h, val, t)) != CTIX_OK)
            return rc;
        if (o->out == NULL)
            continue;
        if ((rc = hit_line(r, b, h, val)) != CTIX_OK)
            return rc;
    }
    if (o->out != NULL && out->len >= (1u << 20)) {
        if (fwrite(out->data, 1, out->len, o->out) != out->len)
            return CTIX_EIO;
        buf_reset(out);
    }
    return CTIX_OK;
}

static void progress(struct run *r, bool final)
{
    int64_t t = now_ms_mono();
    const struct scan_totals *tot = r->tot;

    if (!r->o->progress || (!final && t - r->progress_at < 250))
        return;
    r->progress_at = t;
    double secs = (double)(t - tot->start_mono_ms) / 1000.0;
    double rate = secs > 0 ? (double)tot->records / secs : 0;
    if (r->bytes_total > 0)
        fprintf(stderr, "\r%5.1f%%  %llu MB  %.0f records/s  %llu hits ",
                100.0 * (double)tot->bytes / (double)r->bytes_total,
                (unsigned long long)(tot->bytes >> 20), rate, (unsigned long long)tot->hits);
    else
        fprintf(stderr, "\r%llu MB  %.0f records/s  %llu hits ",
                (unsigned long long)(tot->bytes >> 20), rate, (unsigned long long)tot->hits);
    if (final)
        fputc('\n', stderr);
}

/* ---- mapped input ---- */

/* The mapping this thread reads (none: NULL), and whether a page of it was lost since it said
 * so. */
static __thread const char *bus_lo, *bus_hi;
static __thread volatile sig_atomic_t bus_hit;
static size_t page_size; /* (sysconf is no signal handler's call) */

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    const char *a = si->si_addr;

    (void)ctx;
    if (bus_lo != NULL && a >= bus_lo && a < bus_hi) {
        /* a page past the file's new end: zeros in its place, and the block is not committed */
        void *pg = (void *)((uintptr_t)a & ~(uintptr_t)(page_size - 1));

        if (mmap(pg, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
            MAP_FAILED) {
            bus_hit = 1;
            return;
        }
    }
    /* not ours: die of it as the default would */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void bus_watch(const struct input *in)
{
    bus_hit = 0;
    bus_lo = in != NULL ? in->map : NULL;
    bus_hi = in != NULL ? in->map + (in->map_len + page_size - 1) / page_size * page_size : NULL;
}

#define SHRANK "the file shrank while it was read; the rest of it is not scanned"

/* The input's mapping before the end of committed block b goes back, in whole 2 MB pieces of
 * the address space (the file's pages stay in the page cache; touching them again would map
 * them again). A file the page cache holds in 2 MB folios is mapped 2 MB at a fault; giving
 * back part of such a piece would split its mapping into 512 small ones first. */
#define MAP_PIECE ((size_t)2 << 20)
static void map_give_back(struct blk *b)
{
    struct input *in = b->in;
    uintptr_t lo, hi;

    if (b->kind != BLK_DATA || in->map == NULL)
        return;
    lo = (uintptr_t)in->map + in->map_given;
    hi = ((uintptr_t)in->map + b->map_end) & ~(uintptr_t)(MAP_PIECE - 1);
    if (hi <= lo)
        return;
    (void)madvise((char *)lo, hi - lo, MADV_DONTNEED);
    in->map_given = hi - (uintptr_t)in->map;
}

/* Commits every finished block that is due. Called with the lock held. */
static void commit_ready(struct run *r)
{
    for (;;) {
        struct blk *b = r->done[r->commit_seq % r->ring];

        if (b == NULL || !b->done || b->seq != r->commit_seq)
            return;
        if (b->kind == BLK_DATA && !b->st_exact && !r->failed && b->in->commit_ok &&
            !b->in->cut_short && !scan_fmt_state_eq(&b->st, &b->in->st_commit)) {
            /* read from a wrong guess: again, from the state the block before it left (first in
             * the queue: every later block waits for it) */
            b->st = b->in->st_commit;
            b->st_exact = true;
            blk_results_reset(b);
            b->done = false;
            b->rc = CTIX_OK;
            b->next = r->queue;
            r->queue = b;
            if (r->queue_tail == NULL)
                r->queue_tail = b;
            pthread_cond_broadcast(&r->cv);
            return;
        }
        r->done[r->commit_seq % r->ring] = NULL;
        r->commit_seq++;
        if (b->rc != CTIX_OK && r->rc == CTIX_OK) {
            r->rc = b->rc;
            r->failed = true;
        }
        if (b->in->cut_short) {
            /* the rest of a file that shrank: not scanned (its lines cannot be counted) */
        } else if (b->kind == BLK_ERROR) {
            fprintf(stderr, "ctix scan: %s: after line %llu: %s\n", b->in->name,
                    (unsigned long long)b->in->lines, b->msg);
            b->in->cut_short = b->mapped;
            b->in->skipped = true;
        } else if (b->kind == BLK_LONG) {
            b->in->lines++;
            b->in->n_bad++;
            r->tot->bad_lines++;
            if (b->in->n_bad <= MAX_REPORTS)
                fprintf(stderr, "ctix scan: %s:%llu: line longer than 1 MiB, skipped\n",
                        b->in->name, (unsigned long long)b->in->lines);
        } else if (r->rc == CTIX_OK) {
            enum ctix_rc rc = commit_hits(r, b);

            b->in->st_commit = b->st_end;
            b->in->commit_ok = true;

            if (rc != CTIX_OK) {
                r->rc = rc;
                r->failed = true;
            }
            for (size_t i = 0; i < b->n_bad && i < MAX_REPORTS + 1; i++) {
                b->in->n_bad++;
                if (b->in->n_bad <= MAX_REPORTS)
                    fprintf(stderr, "ctix scan: %s:%llu: %.*s\n", b->in->name,
                            (unsigned long long)(b->in->lines + b->bad[i].line), (int)b->bad[i].len,
                            b->text.data + b->bad[i].off);
            }
            if (b->n_bad > MAX_REPORTS + 1)
                b->in->n_bad += b->n_bad - (MAX_REPORTS + 1);
            r->tot->bad_lines += b->n_bad - b->n_notes;
            b->in->n_notes += b->n_notes;
            r->tot->records += b->n_records;
            r->tot->bytes += b->len;
            b->in->lines += b->n_lines;
        }
        if (b->mapped)
            map_give_back(b);
        /* recycle */
        b->mapped = false;
        blk_results_reset(b);
        b->next = r->free_list;
        r->free_list = b;
        pthread_cond_broadcast(&r->cv);
        progress(r, false);
    }
}

/* blk_process() with mapped bytes: a page lost under it (the file cut short) turns the block
 * into an error report. */
static enum ctix_rc blk_process_mapped(struct worker *w, struct blk *b)
{
    enum ctix_rc rc;

    bus_watch(b->in);
    rc = blk_process(w, b);
    if (bus_hit) {
        b->kind = BLK_ERROR;
        snprintf(b->msg, sizeof(b->msg), "%s", SHRANK);
        blk_results_reset(b);
        rc = CTIX_OK;
    }
    bus_watch(NULL);
    return rc;
}

static int64_t thread_cpu_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Block b, read from a known state, is done: its end state is where the next block starts, and
 * the best guess for later ones (those queued and not yet begun, and those still to be cut), so
 * that a header in mid-input costs a second reading only of the blocks already being read. Called
 * with the lock held. */
static void state_known(struct run *r, const struct blk *b)
{
    struct input *in = b->in;

    if (b->seq + 1 > in->guess_seq) {
        in->st_guess = b->st_end;
        in->guess_seq = b->seq + 1;
    }
    for (struct blk *q = r->queue; q != NULL; q = q->next) {
        if (q->in == in && q->kind == BLK_DATA && !q->st_exact && q->seq > b->seq) {
            q->st = b->st_end;
            q->st_exact = q->seq == b->seq + 1;
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    int64_t cpu0 = thread_cpu_us();

    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->queue == NULL && !r->eof)
            pthread_cond_wait(&r->cv, &r->mu);
        struct blk *b = r->queue;
        if (b == NULL)
            break;
        r->queue = b->next;
        if (r->queue == NULL)
            r->queue_tail = NULL;
        if (b->kind == BLK_DATA && !b->st_exact && r->commit_seq == b->seq && b->in->commit_ok) {
            /* every block before it committed: its state is known, no guess needed */
            b->st = b->in->st_commit;
            b->st_exact = true;
        }
        pthread_mutex_unlock(&r->mu);
        if (b->kind != BLK_DATA || r->failed)
            b->rc = CTIX_OK;
        else if (b->mapped)
            b->rc = blk_process_mapped(w, b);
        else
            b->rc = blk_process(w, b);
        pthread_mutex_lock(&r->mu);
        b->done = true;
        if (b->kind == BLK_DATA && b->st_exact)
            state_known(r, b);
        commit_ready(r);
    }
    r->tot->worker_cpu_us += thread_cpu_us() - cpu0;
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- the reader's side ---- */

static struct blk *blk_get(struct run *r)
{
    struct blk *b;

    pthread_mutex_lock(&r->mu);
    /* A free block whose seq slot in the ring is also free: bounded memory and ordering. */
    while (r->free_list == NULL || r->done[r->next_seq % r->ring] != NULL)
        pthread_cond_wait(&r->cv, &r->mu);
    b = r->free_list;
    r->free_list = b->next;
    pthread_mutex_unlock(&r->mu);
    b->done = false;
    b->rc = CTIX_OK;
    b->len = 0;
    b->data = b->buf;
    b->mapped = false;
    b->n_lines = b->n_records = 0;
    b->kind = BLK_DATA;
    b->st_exact = false;
    return b;
}

static void blk_put(struct run *r, struct blk *b)
{
    pthread_mutex_lock(&r->mu);
    if (b->kind == BLK_DATA) {
        /* An input's first block of lines starts from the state the reader made for it; any
         * later one from the latest known end state (a guess, checked when it is committed). */
        b->st_exact = !b->in->data_put;
        b->in->data_put = true;
        if (!b->st_exact && b->in->guess_seq > 0)
            b->st = b->in->st_guess;
    }
    b->seq = r->next_seq++;
    r->done[b->seq % r->ring] = b;
    b->next = NULL;
    if (r->queue_tail != NULL)
        r->queue_tail->next = b;
    else
        r->queue = b;
    r->queue_tail = b;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* A decompressing (or plain) byte source. */
struct src {
    int fd;
    enum { SRC_RAW, SRC_GZ, SRC_ZSTD } type;
    unsigned char *in;
    size_t in_len, in_pos;
    bool in_eof;
    z_stream z;
    bool z_init;
    bool in_member; /* gzip: inside a member, its end not seen */
    ZSTD_DCtx *zd;
    bool frame_done; /* zstd: the last frame was complete */
    char err[160];
};

#define SRC_IN (1u << 18)

static ssize_t src_fill_in(struct src *s)
{
    ssize_t k;

    if (s->in_pos < s->in_len || s->in_eof)
        return (ssize_t)(s->in_len - s->in_pos);
    do
        k = read(s->fd, s->in, SRC_IN);
    while (k < 0 && errno == EINTR);
    if (k < 0) {
        snprintf(s->err, sizeof(s->err), "read error: %s", strerror(errno));
        return -1;
    }
    s->in_len = (size_t)k;
    s->in_pos = 0;
    if (k == 0)
        s->in_eof = true;
    return k;
}

/* Up to cap bytes of content into p; 0 at the end; -1 with s->err. */
static ssize_t src_read(struct src *s, char *p, size_t cap)
{
    if (s->type == SRC_RAW) {
        if (s->in_pos < s->in_len) {
            size_t n = s->in_len - s->in_pos < cap ? s->in_len - s->in_pos : cap;

            memcpy(p, s->in + s->in_pos, n);
            s->in_pos += n;
            return (ssize_t)n;
        }
        ssize_t k;
        do
            k = read(s->fd, p, cap);
        while (k < 0 && errno == EINTR);
        if (k < 0)
            snprintf(s->err, sizeof(s->err), "read error: %s", strerror(errno));
        return k;
    }
    size_t got = 0;
    while (got < cap) {
        ssize_t avail = src_fill_in(s);

        if (avail < 0)
            return -1;
        if (s->type == SRC_GZ) {
            if (avail == 0) {
                if (s->in_member && got == 0) {
                    snprintf(s->err, sizeof(s->err), "truncated gzip stream");
                    return -1;
                }
                break;
            }
            s->z.next_in = s->in + s->in_pos;
            s->z.avail_in = (uInt)avail;
            s->z.next_out = (Bytef *)p + got;
            s->z.avail_out = (uInt)(cap - got);
            int zr = inflate(&s->z, Z_NO_FLUSH);
            s->in_pos = (size_t)(s->z.next_in - s->in);
            got = cap - s->z.avail_out;
            s->in_member = true;
            if (zr == Z_STREAM_END) {
                /* Concatenated members (gzip -c a >> f) are one stream to gzip -d. */
                inflateReset(&s->z);
                s->in_member = false;
                continue;
            }
            if (zr != Z_OK && zr != Z_BUF_ERROR) {
                snprintf(s->err, sizeof(s->err), "corrupt gzip data (%s)",
                         s->z.msg ? s->z.msg : "inflate failed");
                return -1;
            }
        } else {
            if (avail == 0) {
                if (!s->frame_done && got == 0) {
                    snprintf(s->err, sizeof(s->err), "truncated zstd stream");
                    return -1;
                }
                break;
            }
            ZSTD_inBuffer ib = {s->in + s->in_pos, (size_t)avail, 0};
            ZSTD_outBuffer ob = {p + got, cap - got, 0};
            size_t zr = ZSTD_decompressStream(s->zd, &ob, &ib);
            s->in_pos += ib.pos;
            got += ob.pos;
            if (ZSTD_isError(zr)) {
                snprintf(s->err, sizeof(s->err), "corrupt zstd data (%s)", ZSTD_getErrorName(zr));
                return -1;
            }
            s->frame_done = zr == 0;
        }
    }
    return (ssize_t)got;
}

static bool src_open(struct src *s, int fd)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->in = malloc(SRC_IN);
    if (s->in == NULL) {
        snprintf(s->err, sizeof(s->err), "out of memory");
        return false;
    }
    /* Sniff the magic: the first read may return fewer bytes than asked on pipes. */
    while (s->in_len < 4 && !s->in_eof) {
        ssize_t k = read(fd, s->in + s->in_len, SRC_IN - s->in_len);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            snprintf(s->err, sizeof(s->err), "read error: %s", strerror(errno));
            return false;
        }
        if (k == 0)
            s->in_eof = true;
        s->in_len += (size_t)k;
    }
    if (s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
        s->type = SRC_GZ;
        if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
            snprintf(s->err, sizeof(s->err), "cannot start gzip decoding");
            return false;
        }
        s->z_init = true;
    } else if (s->in_len >= 4 && s->in[0] == 0x28 && s->in[1] == 0xb5 && s->in[2] == 0x2f &&
               s->in[3] == 0xfd) {
        s->type = SRC_ZSTD;
        s->zd = ZSTD_createDCtx();
        if (s->zd == NULL) {
            snprintf(s->err, sizeof(s->err), "cannot start zstd decoding");
            return false;
        }
    }
    return true;
}

static void src_close(struct src *s)
{
    if (s->z_init)
        inflateEnd(&s->z);
    ZSTD_freeDCtx(s->zd);
    free(s->in);
}

/* Applies the header lines of an input's first block (Zeek '#' lines; the CSV header as the
 * file's first line) to st: the guess the next blocks start from when several workers read ahead
 * of the commits (a header further on makes a block be read again). */
static void state_advance(struct scan_fmt_state *st, const char *p, size_t n, bool file_start)
{
    const char *end = p + n;

    if (file_start && n > 0 && is_header_line(st, p, n)) {
        const char *nl = memchr(p, '\n', n);
        size_t ln = nl ? (size_t)(nl - p) : n;

        if (ln > 0 && p[ln - 1] == '\r')
            ln--;
        (void)scan_fmt_header(st, p, ln);
    }
    if (st->fmt != SCAN_FMT_AUTO && st->fmt != SCAN_FMT_ZEEK)
        return;
    for (const char *q = p; q < end;) {
        const char *h = memchr(q, '#', (size_t)(end - q));

        if (h == NULL)
            break;
        if (h == p || h[-1] == '\n') {
            const char *nl = memchr(h, '\n', (size_t)(end - h));
            size_t ln = nl ? (size_t)(nl - h) : (size_t)(end - h);

            if (ln > 0 && h[ln - 1] == '\r')
                ln--;
            if (!(file_start && h == p)) /* the first line was applied above */
                (void)scan_fmt_header(st, h, ln);
            q = nl ? nl + 1 : end;
        } else {
            q = h + 1;
        }
    }
}

/* The length of a UTF-8 byte order mark at the start of p[0..n): 3 or 0. Spreadsheets write one
 * before a CSV file's header; it is no part of the first line (its first column's name, a JSON
 * line's brace, a Zeek header's '#'). */
static size_t bom_len(const char *p, size_t n)
{
    return n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

static void blk_error(struct run *r, struct input *in, const char *msg)
{
    struct blk *b = blk_get(r);

    b->kind = BLK_ERROR;
    b->in = in;
    snprintf(b->msg, sizeof(b->msg), "%s", msg);
    blk_put(r, b);
}

/* Cuts a mapped input into blocks that point into the mapping (the last one, and any that ends
 * too near the end for the sieve's whole-vector reads, is copied into its block's buffer). */
static void read_mapped(struct run *r, struct input *in, unsigned year)
{
    const char *map = in->map;
    size_t size = in->map_len;
    struct scan_fmt_state st;
    size_t pos;
    struct blk *b = NULL; /* taken, not yet queued */

    bus_watch(in);
    pos = bom_len(map, size);
    scan_fmt_init(&st, (enum scan_fmt)r->o->fmt, map + pos, size - pos < 65536 ? size - pos : 65536,
                  year);
    while (pos < size && !bus_hit) {
        size_t end = size - pos > BLOCK ? pos + BLOCK : size, cut = end;
        struct scan_fmt_state at = st;
        bool first = !in->data_put;

        if (end < size) {
            const char *nl = memrchr(map + pos, '\n', end - pos);

            if (nl == NULL) {
                /* A line longer than a block (so than SCAN_LINE_MAX): skipped to its end. */
                nl = memchr(map + end, '\n', size - end);
                pos = nl != NULL ? (size_t)(nl - map) + 1 : size;
                b = blk_get(r);
                b->kind = BLK_LONG;
                b->in = in;
                blk_put(r, b);
                b = NULL;
                continue;
            }
            cut = (size_t)(nl - map) + 1;
        }
        if (first && r->o->threads > 1)
            state_advance(&st, map + pos, cut - pos, pos == 0);
        if (bus_hit)
            break;
        b = blk_get(r);
        b->in = in;
        b->st = at;
        b->len = cut - pos;
        b->mapped = true;
        b->map_end = cut;
        if (cut + SCAN_SIEVE_PAD > size) {
            memcpy(b->buf, map + pos, b->len);
        } else {
            b->data = map + pos;
        }
        if (bus_hit)
            break; /* (the block goes out as the error) */
        blk_put(r, b);
        b = NULL;
        pos = cut;
    }
    if (bus_hit) {
        if (b == NULL)
            b = blk_get(r);
        b->in = in;
        b->kind = BLK_ERROR;
        b->mapped = true;
        snprintf(b->msg, sizeof(b->msg), "%s", SHRANK);
        blk_put(r, b);
    }
    bus_watch(NULL);
}

/* Maps a plain regular file (not compressed) for read_mapped(); false: read it instead. */
static bool map_input(struct input *in, int fd)
{
    struct stat sb;
    unsigned char magic[4];
    ssize_t k;
    void *m;

    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
        (uint64_t)sb.st_size > (uint64_t)SIZE_MAX / 2)
        return false;
    k = pread(fd, magic, sizeof(magic), 0);
    if (k >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        return false; /* gzip */
    if (k >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        return false; /* zstd */
    m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return false;
    /* what the scan brings into the page cache comes in 2 MB folios, mapped 2 MB at a fault (a
     * 1 GB log: 500 faults instead of thousands, and the sieve's reads of the text miss the TLB
     * less); pages cached already are mapped as they are */
    (void)madvise(m, (size_t)sb.st_size, MADV_HUGEPAGE);
    in->map = m;
    in->map_len = (size_t)sb.st_size;
    in->map_given = 0;
    return true;
}

/* Cuts one input into blocks. */
static void read_input(struct run *r, struct input *in, int fd, const char *path)
{
    struct src s;
    struct scan_fmt_state st;
    struct stat sb;
    char *carry = NULL;
    size_t carry_len = 0;
    bool first = true, skipping = false, at_start = true;
    unsigned year;
    time_t mt = time(NULL);
    struct tm tmv;

    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
        mt = sb.st_mtime;
    gmtime_r(&mt, &tmv);
    year = (unsigned)tmv.tm_year + 1900;
    if (r->map_ok && map_input(in, fd)) {
        read_mapped(r, in, year);
        return;
    }
    if (!src_open(&s, fd)) {
        fprintf(stderr, "ctix scan: %s: %s\n", path, s.err);
        in->skipped = true;
        src_close(&s);
        return;
    }
    carry = malloc(BLOCK);
    if (carry == NULL) {
        fprintf(stderr, "ctix scan: %s: out of memory\n", path);
        in->skipped = true;
        src_close(&s);
        return;
    }
    for (;;) {
        struct blk *b = blk_get(r);
        bool eof = false, err = false;

        b->in = in;
        memcpy(b->buf, carry, carry_len);
        b->len = carry_len;
        carry_len = 0;
        while (b->len < BLOCK) {
            ssize_t k = src_read(&s, b->buf + b->len, BLOCK - b->len);

            if (k <= 0) {
                eof = k == 0;
                err = k < 0;
                break;
            }
            b->len += (size_t)k;
            if (at_start && b->len >= 3) {
                /* (the file's first bytes, however few each read brought) */
                at_start = false;
                if (bom_len(b->buf, b->len) > 0) {
                    memmove(b->buf, b->buf + 3, b->len - 3);
                    b->len -= 3;
                }
            }
        }
        if (first) {
            scan_fmt_init(&st, (enum scan_fmt)r->o->fmt, b->buf, b->len < 65536 ? b->len : 65536,
                          year);
        }
        if (skipping) {
            /* Inside an over-long line: drop its bytes up to its end. */
            const char *nl = memchr(b->buf, '\n', b->len);
            size_t drop = nl != NULL ? (size_t)(nl - b->buf) + 1 : b->len;

            memmove(b->buf, b->buf + drop, b->len - drop);
            b->len -= drop;
            if (nl != NULL || eof || err) {
                skipping = false;
                struct blk *lb = blk_get(r);
                lb->kind = BLK_LONG;
                lb->in = in;
                blk_put(r, lb);
            }
        }
        size_t cut = b->len;
        if (!eof) {
            /* Not the end (or an error): cut after the last newline. The rest is carried to the
             * next block, or, after an error, dropped: a cut-off line is not a line. */
            const char *nl = memrchr(b->buf, '\n', b->len);

            cut = nl != NULL ? (size_t)(nl - b->buf) + 1 : 0;
            if (nl == NULL && !err && !skipping && b->len == BLOCK) {
                /* A line longer than a block (so than SCAN_LINE_MAX): skip to its end. */
                skipping = true;
                b->len = 0;
            }
        }
        carry_len = err || skipping ? 0 : b->len - cut;
        memcpy(carry, b->buf + cut, carry_len);
        b->len = cut;
        b->st = st;
        if (!in->data_put && b->len > 0 && r->o->threads > 1)
            state_advance(&st, b->buf, b->len, first);
        first = first && b->len == 0;
        if (b->len > 0) {
            blk_put(r, b);
        } else {
            pthread_mutex_lock(&r->mu);
            b->next = r->free_list;
            r->free_list = b;
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
        }
        if (err) {
            blk_error(r, in, s.err);
            break;
        }
        if (eof)
            break;
    }
    free(carry);
    src_close(&s);
}

/* ---- the run ---- */

void scan_result_cleanup(struct scan_result *res)
{
    for (size_t i = 0; i < res->n_sights; i++) {
        for (size_t j = 0; j < res->sights[i].n_obs; j++)
            free((void *)res->sights[i].obs[j].val);
        free((void *)res->sights[i].obs);
    }
    free(res->sights);
    memset(res, 0, sizeof(*res));
}

/* The aggregates as struct scan_sight, for scan_sightings(). */
static enum ctix_rc build_sights(struct run *r, struct scan_result *res)
{
    size_t n = scan_index_count(r->ix), k = 0;

    for (size_t i = 0; i < n; i++)
        k += r->aggs[i].count > 0;
    res->sights = calloc(k ? k : 1, sizeof(*res->sights));
    if (res->sights == NULL)
        return CTIX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct agg *a = &r->aggs[i];

        if (a->count == 0)
            continue;
        struct scan_sight *s = &res->sights[res->n_sights++];
        struct scan_sight_obs *so = calloc(a->n_obs ? a->n_obs : 1, sizeof(*so));
        if (so == NULL)
            return CTIX_ENOMEM;
        s->indicator_id = scan_index_id(r->ix, (uint32_t)i);
        s->count = a->count;
        s->first_ms = a->first;
        s->last_ms = a->last;
        for (size_t j = 0; j < a->n_obs; j++) {
            so[j].kind = a->obs[j].kind;
            char *v = malloc(a->obs[j].len + 1);

            if (v != NULL)
                memcpy(v, a->obs[j].val, a->obs[j].len + 1);
            so[j].val = v;
            if (v == NULL) {
                s->obs = so;
                s->n_obs = j;
                return CTIX_ENOMEM;
            }
            so[j].len = a->obs[j].len;
            so[j].count = a->obs[j].count;
            so[j].first_ms = a->obs[j].first;
            so[j].last_ms = a->obs[j].last;
        }
        s->obs = so;
        s->n_obs = a->n_obs;
    }
    return CTIX_OK;
}

enum ctix_rc scan_run(const struct scan_index *ix, const struct scan_opts *o,
                      const char *const *files, size_t n_files, struct scan_result *res)
{
    struct run r;
    struct worker *ws = NULL;
    pthread_t *th = NULL;
    struct blk *blks = NULL;
    struct input *ins = NULL;
    unsigned nt = o->threads ? o->threads : 1;
    size_t nblk = 2 * (size_t)nt + 2, started = 0;
    enum ctix_rc rc = CTIX_ENOMEM;
    struct sigaction sa, old_bus;

    memset(res, 0, sizeof(*res));
    memset(&r, 0, sizeof(r));
    r.ix = ix;
    /* CTIX_SCAN_NOSIEVE: every line read in full (bench/scan.sh compares both) */
    r.sieve = getenv("CTIX_SCAN_NOSIEVE") == NULL ? scan_index_sieve(ix) : NULL;
    r.o = o;
    r.tot = &res->tot;
    r.ring = nblk + 1;
    /* CTIX_SCAN_NOMAP: plain files read, not mapped (bench/scan.sh compares both) */
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    r.map_ok = getenv("CTIX_SCAN_NOMAP") == NULL && sigaction(SIGBUS, &sa, &old_bus) == 0;
    res->tot.start_mono_ms = now_ms_mono();
    buf_init(&r.out, (size_t)1 << 40);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.done = calloc(r.ring, sizeof(*r.done));
    blks = calloc(nblk, sizeof(*blks));
    ins = calloc(n_files ? n_files : 1, sizeof(*ins));
    ws = calloc(nt, sizeof(*ws));
    th = calloc(nt, sizeof(*th));
    if (r.done == NULL || blks == NULL || ins == NULL || ws == NULL || th == NULL)
        goto out;
    r.hitbits = calloc(scan_index_count(ix) / 64 + 1, sizeof(uint64_t));
    r.tails = calloc(HIT_TAILS, sizeof(*r.tails));
    if (r.hitbits == NULL || r.tails == NULL)
        goto out;
    buf_init(&r.file_json, (size_t)1 << 20);
    for (size_t i = 0; i < HIT_TAILS; i++)
        buf_init(&r.tails[i].s, (size_t)1 << 20);
    if (o->sightings) {
        r.aggs = calloc(scan_index_count(ix) ? scan_index_count(ix) : 1, sizeof(*r.aggs));
        if (r.aggs == NULL)
            goto out;
    }
    for (size_t i = 0; i < nblk; i++) {
        /* the sieve reads whole vectors: room past the last line */
        blks[i].buf = calloc(1, BLOCK + SCAN_SIEVE_PAD);
        if (blks[i].buf == NULL)
            goto out;
        buf_init(&blks[i].text, (size_t)1 << 40);
        blks[i].next = r.free_list;
        r.free_list = &blks[i];
    }
    for (size_t i = 0; i < n_files; i++) {
        struct stat sb;

        if (strcmp(files[i], "-") != 0 && stat(files[i], &sb) == 0 && S_ISREG(sb.st_mode))
            r.bytes_total += (uint64_t)sb.st_size;
    }
    for (unsigned i = 0; i < nt; i++) {
        ws[i].run = &r;
        for (int k = 0; k < PIPE; k++)
            scan_rec_init(&ws[i].rec[k]);
        if (!scan_sieve_batch_init(&ws[i].sb))
            break;
        /* One memory of absent hosts per worker, shared by its pipeline's matchers. */
        ws[i].m[0].hostcache = calloc(SCAN_HOSTCACHE, sizeof(uint64_t));
        if (ws[i].m[0].hostcache == NULL)
            break;
        for (int k = 1; k < PIPE; k++)
            ws[i].m[k].hostcache = ws[i].m[0].hostcache;
        if (pthread_create(&th[i], NULL, worker_main, &ws[i]) != 0)
            break;
        started++;
    }
    if (started == 0)
        goto out;
    for (size_t i = 0; i < n_files && !r.failed; i++) {
        struct input *in = &ins[i];
        bool is_stdin = strcmp(files[i], "-") == 0;
        int fd = is_stdin ? 0 : open(files[i], O_RDONLY | O_CLOEXEC);

        in->name = is_stdin ? "(stdin)" : files[i];
        if (fd < 0) {
            fprintf(stderr, "ctix scan: %s: %s\n", files[i], strerror(errno));
            in->skipped = true;
        } else {
            struct stat sb;

            if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
                fprintf(stderr, "ctix scan: %s: is a directory\n", files[i]);
                in->skipped = true;
            } else {
                read_input(&r, in, fd, in->name);
            }
            if (!is_stdin)
                close(fd);
        }
    }
    pthread_mutex_lock(&r.mu);
    r.eof = true;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    started = 0;
    rc = r.rc;
    if (rc == CTIX_OK && o->out != NULL && r.out.len > 0 &&
        fwrite(r.out.data, 1, r.out.len, o->out) != r.out.len)
        rc = CTIX_EIO;
    if (o->out != NULL && fflush(o->out) != 0)
        rc = CTIX_EIO;
    progress(&r, true);
    for (size_t i = 0; i < n_files; i++) {
        if (ins[i].n_bad > MAX_REPORTS)
            fprintf(stderr, "ctix scan: %s: %llu lines reported in all (the first %d listed)\n",
                    ins[i].name, (unsigned long long)ins[i].n_bad, MAX_REPORTS);
        if (ins[i].skipped || ins[i].n_bad > ins[i].n_notes)
            res->tot.inputs_skipped++;
        res->tot.lines += ins[i].lines;
    }
    res->tot.files = n_files;
    res->tot.elapsed_ms = now_ms_mono() - res->tot.start_mono_ms;
    if (rc == CTIX_OK && r.aggs != NULL)
        rc = build_sights(&r, res);
out:
    if (started > 0) {
        pthread_mutex_lock(&r.mu);
        r.eof = true;
        r.failed = true;
        pthread_cond_broadcast(&r.cv);
        pthread_mutex_unlock(&r.mu);
        for (size_t i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    }
    if (r.aggs != NULL) {
        for (size_t i = 0; i < scan_index_count(ix); i++) {
            for (size_t j = 0; j < r.aggs[i].n_obs; j++)
                free(r.aggs[i].obs[j].val);
            free(r.aggs[i].obs);
        }
        free(r.aggs);
    }
    for (size_t i = 0; ins != NULL && i < n_files; i++) {
        if (ins[i].map != NULL)
            munmap(ins[i].map, ins[i].map_len);
    }
    if (r.map_ok)
        sigaction(SIGBUS, &old_bus, NULL);
    for (size_t i = 0; blks != NULL && i < nblk; i++) {
        free(blks[i].buf);
        free(blks[i].hits);
        free(blks[i].bad);
        buf_cleanup(&blks[i].text);
    }
    for (unsigned i = 0; ws != NULL && i < nt; i++) {
        for (int k = 1; k < PIPE; k++)
            ws[i].m[k].hostcache = NULL; /* m[0]'s */
        for (int k = 0; k < PIPE; k++) {
            scan_rec_cleanup(&ws[i].rec[k]);
            scan_matcher_cleanup(&ws[i].m[k]);
        }
        scan_sieve_batch_cleanup(&ws[i].sb);
    }
    buf_cleanup(&r.out);
    buf_cleanup(&r.file_json);
    for (size_t i = 0; r.tails != NULL && i < HIT_TAILS; i++)
        buf_cleanup(&r.tails[i].s);
    free(r.tails);
    free(r.hitbits);
    free(blks);
    free(ins);
    free(ws);
    free(th);
    free(r.done);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return rc;
}
