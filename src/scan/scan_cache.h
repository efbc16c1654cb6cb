/* scan cache: the indicators of a collection of the node's store, kept compiled to the fields the
 * index needs in DATA_DIR/scan-cache/<collection id>.cache, so that `ctix scan --data` builds its
 * index at memory speed instead of reading every indicator's JSON out of SQLite.
 *
 * The cache remembers the point of the store's change log (store_changes_pos) it reflects. A scan
 * asks the store what changed since then: nothing — the cache is used as it is; some indicators —
 * their current versions are read from the store and take the place of theirs (the file is
 * rewritten at the new point once more than 256 + 1% of its indicators changed, or the log moved
 * on by 20,000 rows: until then each scan applies the changes again, which costs less than
 * writing the file); many changes, a point the log cannot follow, or a cache file that is missing,
 * truncated, corrupt or of another format — everything is read from the store and the cache
 * rewritten. A cache that cannot be proved current is never used.
 *
 * The file is written to a temporary name and renamed into place, so a concurrent scan sees the
 * old file or the new one, never half of one; two scans writing at once each rename a complete
 * file (the last one stays). */
#ifndef CTIX_SCAN_CACHE_H
#define CTIX_SCAN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "scan/scan.h"
#include "scan/scan_int.h"

struct store;
struct scan_cache;

enum scan_cache_how {
    SCAN_CACHE_CURRENT = 1, /* the cache was current: the store gave nothing but the log */
    SCAN_CACHE_UPDATED,     /* the cache plus n_changes objects read from the store */
    SCAN_CACHE_REBUILT,     /* everything read from the store (why says why) */
};

struct scan_cache_info {
    int how;            /* enum scan_cache_how */
    size_t n_changes;   /* objects changed since the cache (UPDATED) */
    bool written;       /* a new cache file was written */
    char path[512];     /* the cache file */
    char why[160];      /* REBUILT: why ("no cache yet", "the store changed too much", …) */
    char warning[1024]; /* a problem with the file (corrupt, unwritable), "" when none */
};

/* Prepares loading the indicators of collection coll (id or alias) of st through the cache kept
 * under data_dir. CTIX_ENOTFOUND (diag) for an unknown collection. */
CTIX_MUST_CHECK enum ctix_rc scan_cache_new(struct store *st, const char *data_dir,
                                            const char *coll, struct scan_cache **out,
                                            struct ctix_diag *diag);
void scan_cache_free(struct scan_cache *sc);

/* A scan_loader_fn (ctx is the struct scan_cache): hands every indicator of the collection to fn,
 * exactly those scan_load_store would, reading the cache, the store or both, and writes the new
 * cache. If the cache proves bad after some indicators were handed over, it returns CTIX_EINVAL
 * and scan_cache_retry() is true: the caller drops what it got and calls it again (it then reads
 * the store). */
CTIX_MUST_CHECK enum ctix_rc scan_cache_load(void *ctx, scan_ind_fn fn, void *arg,
                                             struct ctix_diag *diag);
bool scan_cache_retry(const struct scan_cache *sc);

/* scan_index_build of a new index (*out, not finished: scan_index_finish) through
 * scan_cache_load, with its retry. */
CTIX_MUST_CHECK enum ctix_rc scan_cache_index_build(struct scan_cache *sc, scan_bad_fn bad,
                                                    void *bad_arg, struct scan_index **out,
                                                    struct ctix_diag *diag);

/* What the last scan_cache_load did, and the counts scan_load_store would have given. */
const struct scan_cache_info *scan_cache_info(const struct scan_cache *sc);
const struct scan_load_stats *scan_cache_stats(const struct scan_cache *sc);

/* ---- module internals, for cache.c, load.c, the tests and the fuzz target ---- */

/* scan_load_store with a selection: only the objects ids[0..n_ids) when n_ids > 0, and skip
 * (when not NULL) told the store id of every row it does not hand to fn (not an indicator the
 * index can use, or unreadable) — a cache must know those too, to tell a change to them. */
struct scan_store_sel {
    const char *const *ids;
    size_t n_ids;
    enum ctix_rc (*skip)(void *arg, const char *object_id);
};
CTIX_MUST_CHECK enum ctix_rc scan_load_store_sel(struct store *st, const char *coll_id,
                                                 const struct scan_store_sel *sel, scan_ind_fn fn,
                                                 void *arg, struct scan_load_stats *stats,
                                                 struct ctix_diag *diag);

/* The file's checksum: 64 bits, for damage, not for an attacker (the file is the node's own, mode
 * 0600 beside its database). */
uint64_t scan__cache_hash(uint64_t seed, const void *p, size_t n);

#define SCAN_CACHE_HDR_LEN   128
#define SCAN_CACHE_CHUNK_HDR 16

/* Reads a whole cache file from fd (path names it in diag) and calls fn for each indicator and
 * skip (may be NULL) for each skipped object, checking everything: CTIX_EINVAL with diag for any
 * damage (records already handed over stay handed over). *seq and epoch (33 bytes) get the
 * header's point, when not NULL. coll_id: the collection the file must be of (NULL: any). */
CTIX_MUST_CHECK enum ctix_rc scan__cache_read(int fd, const char *path, const char *coll_id,
                                              scan_ind_fn fn,
                                              enum ctix_rc (*skip)(void *arg, const char *id),
                                              void *arg, char *epoch, int64_t *seq,
                                              struct ctix_diag *diag);

#endif
