/* scan: `ctix scan` — match logs against every indicator of a collection or bundle at memory
 * speed and report the hits and sightings. Readers, extractor, normalisers and the record model
 * are in scan_int.h; this is what the CLI drives. */
#ifndef CTIX_SCAN_H
#define CTIX_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"
#include "scan/scan_int.h"

struct scan_index;

/* ---- the index ---- */

struct scan_index *scan_index_new(void);
void scan_index_free(struct scan_index *ix);

/* Adds one indicator (copies what it keeps). A pattern that does not parse is counted in n_bad
 * and CTIX_EINVAL returned with diag (the caller reports it and goes on); CTIX_ENOMEM,
 * CTIX_ETOOBIG stop. Not after scan_index_finish. */
CTIX_MUST_CHECK enum ctix_rc scan_index_add(struct scan_index *ix, const struct scan_ind_in *in,
                                            struct ctix_diag *diag);
/* A loader (scan_load_store, scan_load_bundle behind a small adapter): calls fn for each
 * indicator; diag says what failed. */
typedef enum ctix_rc (*scan_loader_fn)(void *ctx, scan_ind_fn fn, void *arg,
                                       struct ctix_diag *diag);
/* Told about each indicator whose pattern does not parse (the build goes on). */
typedef void (*scan_bad_fn)(void *arg, const struct scan_ind_in *in, const struct ctix_diag *d);

/* scan_index_add of everything load hands over, with the loading on a second thread (build.c).
 * The loader's error (with its diag) or the index's (ENOMEM, ETOOBIG) is returned; bad patterns
 * go to bad and are counted in the stats. */
CTIX_MUST_CHECK enum ctix_rc scan_index_build(struct scan_index *ix, scan_loader_fn load,
                                              void *load_ctx, scan_bad_fn bad, void *bad_arg,
                                              struct ctix_diag *diag);
/* Builds the lookup structures; then the index is read-only and may be shared by threads. */
CTIX_MUST_CHECK enum ctix_rc scan_index_finish(struct scan_index *ix);

struct scan_index_stats {
    size_t n_live;        /* indicators that can match */
    size_t n_eval;        /* … of which evaluated on prefilter hits */
    size_t n_bad;         /* patterns that do not parse */
    size_t n_revoked;     /* revoked (their id is kept out) */
    size_t n_versions;    /* older versions superseded */
    size_t n_unscannable; /* patterns on nothing a log shows (process:name, …) */
    size_t n_v4_segments, n_v6_keys, n_str_keys, n_url_prefixes;
    size_t mem; /* bytes held */
};
void scan_index_stats(const struct scan_index *ix, struct scan_index_stats *st);

size_t scan_index_count(const struct scan_index *ix); /* indicator slots (ids) */
const char *scan_index_id(const struct scan_index *ix, uint32_t ind);
const char *scan_index_name(const struct scan_index *ix, uint32_t ind); /* NULL: none */
/* The created_by_ref of the indicator (its producer), NULL when none. */
const char *scan_index_producer(const struct scan_index *ix, uint32_t ind);

/* ---- matching one record ---- */

struct scan_hit {
    uint32_t ind; /* indicator slot */
    uint32_t obs; /* the record's observable that matched (for evaluated patterns: the one
                   * whose prefilter key hit) */
};

#define SCAN_HOSTCACHE 8192

/* Per-thread state of scan_index_match. Zero-initialise; scan_matcher_cleanup at the end. */
struct scan_matcher {
    struct scan_hit *hits;
    size_t n_hits, cap_hits;
    struct scan_hit *cand; /* indicators to evaluate, each with the observable whose prefilter
                            * key hit (what a hit on it reports) */
    size_t n_cand, cap_cand;
    void *probes; /* the table probes scan_index_stage2 computed (index.c's type) */
    size_t n_probes, cap_probes;
    uint64_t *hostcache; /* SCAN_HOSTCACHE hosts known to match no key (index.c); allocated
                          * when NULL, may be shared by the matchers of one thread */
    uint64_t *oh;        /* stage one's hash per observable */
    size_t n_evals;      /* pattern_eval calls made (statistics) */
};
void scan_matcher_cleanup(struct scan_matcher *m);

/* The indicators r matches, each once, into m->hits (in the order of r's observables): those
 * not revoked and valid (valid_from <= t < valid_until) at t = at_ms when it is not
 * SCAN_TIME_NONE, else the record's own time, else now_ms. CTIX_ENOMEM. */
CTIX_MUST_CHECK enum ctix_rc scan_index_match(const struct scan_index *ix, const struct scan_rec *r,
                                              int64_t now_ms, int64_t at_ms,
                                              struct scan_matcher *m);
/* scan_index_match in three steps, for software pipelining: stage1 hashes what decides whether
 * an observable needs the big tables and prefetches the small filters' lines; stage2 (a record
 * later) consults them and prefetches the big tables' slots; resolve (a record later again) does
 * the lookups and fills m->hits as scan_index_match does. Each step needs the one before on the
 * same r and m, and r must stay unchanged until resolve. A caller that reads the next records
 * between the steps hides the memory latency of this one. */
CTIX_MUST_CHECK enum ctix_rc scan_index_stage1(const struct scan_index *ix,
                                               const struct scan_rec *r, struct scan_matcher *m);
CTIX_MUST_CHECK enum ctix_rc scan_index_stage2(const struct scan_index *ix,
                                               const struct scan_rec *r, struct scan_matcher *m);
CTIX_MUST_CHECK enum ctix_rc scan_index_resolve(const struct scan_index *ix,
                                                const struct scan_rec *r, int64_t now_ms,
                                                int64_t at_ms, struct scan_matcher *m);

/* ---- a scan ---- */

#define SCAN_SIGHT_MAX_OBS 1000 /* distinct observables listed per indicator; the rest counted */

struct scan_opts {
    int fmt;             /* enum scan_fmt */
    unsigned threads;    /* workers (>= 1); the calling thread reads and decompresses */
    FILE *out;           /* one JSON line per hit, or NULL */
    bool progress;       /* a progress line on stderr */
    bool sightings;      /* gather what scan_sightings() needs */
    int64_t now_ms;      /* the time of records that carry none */
    int64_t valid_at_ms; /* indicators' validity judged at this time for every record (a
                          * retro-hunt with today's indicators); SCAN_TIME_NONE (INT64_MIN): at
                          * each record's own time */
};

struct scan_totals {
    uint64_t files, lines, records, bytes, hits, bad_lines, indicators_hit;
    uint64_t inputs_skipped; /* inputs not read, cut short, or with lines skipped */
    int64_t start_mono_ms, elapsed_ms;
    int64_t worker_cpu_us; /* CPU time of the workers (reading and matching, not I/O) */
};

struct scan_result {
    struct scan_totals tot;
    struct scan_sight *sights; /* one per indicator hit, when opts.sightings */
    size_t n_sights;
};

/* Scans files[0..n) ("-" is stdin; gzip and zstd are recognised by their magic) with ix. Inputs
 * that cannot be opened or read, and lines that cannot be read as the format, are reported on
 * stderr naming the file and line and counted in tot.inputs_skipped / tot.bad_lines; the scan goes
 * on. CTIX_OK unless memory ran out or the output could not be written. res is filled in every
 * case; release it with scan_result_cleanup(). */
CTIX_MUST_CHECK enum ctix_rc scan_run(const struct scan_index *ix, const struct scan_opts *o,
                                      const char *const *files, size_t n_files,
                                      struct scan_result *res);
void scan_result_cleanup(struct scan_result *res);

#endif
