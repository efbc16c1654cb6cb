/* The scan sieve: a line-level test, run before a line is parsed, that proves most lines of a log
 * hold no value any indicator could match, so that only the few others are read by their format's
 * reader, normalised and looked up.
 *
 * Every observable a reader can find is, in the line's text, a run of host bytes
 * [A-Za-z0-9._-] (a host name, a URL's host, an e-mail address's domain, a dotted quad, a hash)
 * or a run of IPv6 bytes [0-9A-Fa-f:.] — up to letter case, and unless the line escapes it (a
 * backslash: JSON and Zeek escapes) or percent-encodes it (a URL's %XX of an unreserved byte).
 * The sieve finds those runs with a vector pass over the line and looks each up in filters built
 * from the index's keys: host names by each parent domain (a listed domain matches its
 * subdomains) in a blocked Bloom filter, dotted quads in a /16 map and the same filter, hashes and
 * IPv6 addresses and networks in it too. "No" is exact: the line holds nothing the index can
 * match. "Maybe" sends the line on to its reader. The filter is keyed by the index's secret seed.
 *
 * What the index matches only through evaluation of "any value" prefilters (MATCHES on every
 * domain, …) cannot be sieved: then the index has no sieve and every line is read. */
#ifndef CTIX_SCAN_SIEVE_H
#define CTIX_SCAN_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "scan/scan_int.h"

struct scan_index;
struct scan_sieve;

/* Readable bytes the sieve may load past a line's end (it reads whole vectors). */
#define SCAN_SIEVE_PAD 64
/* Longer lines are not sieved (they go to their reader). */
#define SCAN_SIEVE_LINE_MAX 4096

/* Built from a finished index; NULL with CTIX_OK in *rc when the index cannot be sieved (see
 * above), NULL with CTIX_ENOMEM when memory ran out. */
struct scan_sieve *scan_sieve_build(const struct scan_index *ix, enum ctix_rc *rc);
void scan_sieve_free(struct scan_sieve *sv);
/* The sieve scan_index_finish built (NULL: none; every line is read). */
const struct scan_sieve *scan_index_sieve(const struct scan_index *ix);
size_t scan_sieve_mem(const struct scan_sieve *sv);

/* Lines are sieved in batches: a stretch of a block is classified in one vector pass, and the
 * filter lookups of all its lines are issued before any is answered, so that their memory
 * latencies overlap (one line alone waits for each in turn). */
#define SCAN_SIEVE_BATCH 64

struct scan_sieve_batch {
    const char *p[SCAN_SIEVE_BATCH]; /* out: the lines (no '\n', no '\r' before it) */
    uint32_t n[SCAN_SIEVE_BATCH];
    unsigned k;     /* out: lines in the batch (>= 1 unless the text is empty) */
    uint64_t maybe; /* out: bit i set when line i may hold something the index
                     * matches (lines longer than SCAN_SIEVE_LINE_MAX always) */
    bool nul, high; /* out: the lines may hold a NUL byte, a byte >= 0x80 (false:
                     * they hold none; the reader's checks can be skipped) */
    void *in;       /* the masks' and probes' room */
};

bool scan_sieve_batch_init(struct scan_sieve_batch *b); /* false on ENOMEM */
void scan_sieve_batch_cleanup(struct scan_sieve_batch *b);
/* Takes the next lines of p[0..len) (up to SCAN_SIEVE_BATCH, fewer when they are long) into b
 * and sieves them. p[len..len+SCAN_SIEVE_PAD) must be readable (its bytes are ignored). Returns
 * how many bytes of p the batch took (its lines and their '\n'). */
size_t scan_sieve_block(const struct scan_sieve *sv, struct scan_sieve_batch *b, const char *p,
                        size_t len);
/* How many bytes of p[0..n) are c (for a line the sieve let go: a Zeek line's separators, its
 * field count; a CSV line's quotes). Reads whole vectors: p[n..n+SCAN_SIEVE_PAD) must be
 * readable, as for a batch. */
size_t scan_sieve_count(const struct scan_sieve *sv, const char *p, size_t n, char c);
/* One line (tests): false when it holds nothing the index could match. */
bool scan_sieve_line(const struct scan_sieve *sv, const char *line, size_t n);

/* Tests: whether the vector passes the CPU has classify p[0..n) (padded as above) exactly as the
 * portable one does, and thin the dotted walk's dots as the portable rule says. */
bool scan_sieve__classify_agree(const char *p, size_t n);
/* Tests: whether the vector parse of a dotted quad p[0..n) (digits and three dots) agrees with
 * the portable one (true for other text). */
bool scan_sieve__quad_agree(const struct scan_sieve *sv, const char *p, size_t n);

/* ---- what index.c tells the sieve (implemented in index.c) ---- */

/* Whether every match goes through a key the sieve can see (no "any value" prefilters, no URL
 * prefix shorter than its host, no URL key whose host is not a host name or address). */
bool scan_index__sievable(const struct scan_index *ix);
/* Calls fn for each string key: kind (enum scan_kind) and its normal form. URL prefixes come as
 * SCAN_URL with their "scheme://[userinfo@]host". */
void scan_index__each_str(const struct scan_index *ix,
                          void (*fn)(void *arg, int kind, const char *p, size_t n), void *arg);
/* Calls fn for each listed IPv4 range [lo, hi] (indicators' networks and addresses, merged into
 * segments). */
void scan_index__each_v4(const struct scan_index *ix,
                         void (*fn)(void *arg, uint32_t lo, uint32_t hi), void *arg);
/* Whether some IPv6 key (address or network) holds a. */
bool scan_index__v6_listed(const struct scan_index *ix, const uint8_t a[16]);
/* Calls fn for each IPv6 key: an address (plen 128) or a network. */
void scan_index__each_v6(const struct scan_index *ix,
                         void (*fn)(void *arg, const uint8_t a[16], unsigned plen), void *arg);
/* Domain keys of one label ("zip") exist: a host's last label alone is looked up too. */
bool scan_index__tld_keys(const struct scan_index *ix);
uint64_t scan_index__seed(const struct scan_index *ix);
/* The end of the host in a URL's authority p[a..e) ("host:8080" without ":8080"; an IPv6 host in
 * brackets as it is): how the index keys URL hosts, and the sieve with it. */
size_t scan_index__port_cut(const char *p, size_t a, size_t e);

#endif
