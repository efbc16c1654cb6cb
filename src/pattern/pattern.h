/* pattern: the STIX 2.1 patterning language — lexer and parser to an AST, validation against the
 * STIX 2.1 SCO definitions, evaluation over observed-data, and compilation of many indicators into
 * one match index (what `ctix scan` and the server's "which indicators match" use).
 *
 * pattern/ knows nothing of HTTP or storage. Semantics follow the specification and, where it is
 * silent, the OASIS reference matcher (stix2-matcher 3.0.0); where the two disagree
 * (docs/ARCHITECTURE.md, "Patterning"), ctix follows the specification.
 *
 * Threads: a parsed pattern, an observation set and a built index are read-only and may be used
 * from several threads at once. */
#ifndef CTIX_PATTERN_H
#define CTIX_PATTERN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define PATTERN_MAX_LEN   (1u << 20) /* bytes; longer is CTIX_ETOOBIG */
#define PATTERN_MAX_DEPTH 256        /* nested parentheses and brackets */

struct pattern;     /* a parsed, validated pattern (AST in pattern_int.h) */
struct pattern_obs; /* a set of observations (observed-data and their SCOs) */
struct pattern_index;

/* ---- parse and validate ---- */

enum pattern_flags {
    /* The grammar and the reference validator's checks only (duplicate qualifiers, hash forms,
     * literal forms, WITHIN/REPEATS > 0, valid regular expressions and CIDR constants). What the
     * conformance vectors call a valid pattern. */
    PATTERN_SYNTAX = 0,
    /* Also: object types must be STIX 2.1 SCO types (custom types starting with "x-" allowed),
     * property names must exist on that type (custom "x_" properties, extensions and dictionary
     * keys allowed), operands must have a type compatible with the property, timestamps must be
     * real dates, START must be before STOP. Used on ingest and by `ctix pattern check`. */
    PATTERN_STRICT = 1u << 0,
};

/* Parses and validates text[0..len) (UTF-8). On success *out is a new pattern (pattern_free). On
 * failure *out is untouched; CTIX_EINVAL (CTIX_ETOOBIG past PATTERN_MAX_LEN or PATTERN_MAX_DEPTH)
 * and diag->msg says what was found and what was expected, e.g.
 *   "expected ']' or a comparison operator, found 'foo'"
 * with diag->line and diag->col (1-based, col counted in characters) at the offending token and
 * diag->where = "pattern". Linear in len; never recurses deeper than PATTERN_MAX_DEPTH. */
CTIX_MUST_CHECK enum ctix_rc pattern_parse(const char *text, size_t len, unsigned flags,
                                           struct pattern **out, struct ctix_diag *diag);
void pattern_free(struct pattern *p);

/* Number of observation expressions ("[...]") in p. */
size_t pattern_n_obs(const struct pattern *p);
/* Bytes of memory p holds (AST and compiled regular expressions), for accounting. */
size_t pattern_mem(const struct pattern *p);

/* ---- observations ---- */

/* Builds the observations of a set of STIX objects (the merged "objects" of one or more bundles):
 * each observed-data is one observation of number_observed instances sharing the interval
 * [first_observed, last_observed]; its SCOs are those its object_refs name among `objects` (2.1)
 * or its embedded "objects" dictionary (the deprecated 2.0 form). Other objects are only reference
 * targets. CTIX_EINVAL with diag naming the observed-data id when one lacks first_observed,
 * last_observed, number_observed >= 1 or both object_refs and objects, or has first_observed after
 * last_observed. Takes its own references to the JSON values it keeps. */
CTIX_MUST_CHECK enum ctix_rc pattern_obs_new(const json_t *objects, struct pattern_obs **out,
                                             struct ctix_diag *diag);
/* pattern_obs_new straight from the JSON text of a bundle, a TAXII envelope (an object whose
 * "objects" is the list; none means no observations) or a bare JSON list of objects, without
 * building jansson values: the text is read once into a compact tree in the observations' own
 * memory (text may be freed afterwards). Same results as stix_json_parse + pattern_obs_new on the
 * "objects" list: the same JSON is accepted, malformed JSON gives CTIX_EINVAL with the diag
 * stix_json_parse gives (line and column), and evaluation gives the same answers and bindings.
 * p (may be NULL) is the pattern the set is for: room for building less of the set for it. Today
 * every object is kept whatever p is, so the set serves any pattern; callers that evaluate one
 * pattern should still pass it. CTIX_ETOOBIG when len is 4 GiB or more. */
CTIX_MUST_CHECK enum ctix_rc pattern_obs_new_text(const char *text, size_t len,
                                                  const struct pattern *p, struct pattern_obs **out,
                                                  struct ctix_diag *diag);
void pattern_obs_free(struct pattern_obs *o);
size_t pattern_obs_count(const struct pattern_obs *o); /* observed-data objects */
/* The id of observed-data number i (valid while o lives). */
const char *pattern_obs_id(const struct pattern_obs *o, size_t i);

/* ---- evaluation ---- */

struct pattern_result {
    bool matched;
    /* Indexes (for pattern_obs_id) of the observed-data of the first binding found, in the order
     * of the pattern's observation expressions, without repeats; malloc'd, NULL when none. */
    size_t *bound;
    size_t n_bound;
};

/* Evaluates p over o. CTIX_OK with res filled (matched or not); CTIX_ETOOBIG when the search for a
 * binding passed its step budget (a pattern like "([a] AND [b]) REPEATS 1000 TIMES" over many
 * observations) — then res says not matched and diag says why; CTIX_ENOMEM. Bad values in the data
 * (a timestamp that does not parse, a malformed address) make that comparison false, never an
 * error. res must be released with pattern_result_cleanup() whatever the result. */
CTIX_MUST_CHECK enum ctix_rc pattern_eval(const struct pattern *p, const struct pattern_obs *o,
                                          struct pattern_result *res, struct ctix_diag *diag);
void pattern_result_cleanup(struct pattern_result *res);

/* ---- the match index: many indicators compiled once ---- */

/* Called for each indicator that matches; a non-zero return stops the walk (and is returned). */
typedef int (*pattern_hit_fn)(uint32_t tag, void *arg);

struct pattern_index *pattern_index_new(void);
void pattern_index_free(struct pattern_index *ix);

/* Adds one indicator's pattern under the caller's tag (e.g. its position in an id array). Patterns
 * of the common form — one observation expression without qualifiers whose comparisons are `=`
 * or `IN` over plain string properties (ipv4-addr:value, domain-name:value, url:value,
 * file:hashes.'SHA-256', mutex:name, windows-registry-key:key…) joined by OR — go into a hash table
 * and are found by lookup; every other pattern is kept and evaluated one by one. Takes ownership
 * of p, also on failure. Not thread-safe against lookups. */
CTIX_MUST_CHECK enum ctix_rc pattern_index_add(struct pattern_index *ix, struct pattern *p,
                                               uint32_t tag);
/* pattern_parse (PATTERN_SYNTAX) then pattern_index_add. */
CTIX_MUST_CHECK enum ctix_rc pattern_index_add_text(struct pattern_index *ix, const char *text,
                                                    size_t len, uint32_t tag,
                                                    struct ctix_diag *diag);

struct pattern_index_stats {
    size_t n_patterns; /* added */
    size_t n_lookup;   /* answered by the hash table */
    size_t n_eval;     /* evaluated one by one */
    size_t n_keys;     /* distinct (property, value) keys */
    size_t mem;        /* bytes held */
};
void pattern_index_stats(const struct pattern_index *ix, struct pattern_index_stats *st);

/* The indexed indicators whose pattern is satisfied by one SCO property having this value:
 * `path` is the property as the pattern names it without quotes ("ipv4-addr:value",
 * "file:hashes.SHA-256"), val[0..len) the exact string. Calls fn once per (indicator, key). Only
 * the lookup part: indicators that need evaluation are not seen here. */
int pattern_index_lookup(const struct pattern_index *ix, const char *path, const char *val,
                         size_t len, pattern_hit_fn fn, void *arg);

/* Every indicator of ix satisfied by the observations o — lookups for the indexed ones,
 * pattern_eval for the rest — each reported once, in no particular order. A non-zero return of fn
 * ends the walk early (still CTIX_OK). CTIX_ENOMEM. An indicator whose evaluation runs out of its
 * step budget counts as not matched (and is logged). */
CTIX_MUST_CHECK enum ctix_rc pattern_index_match(const struct pattern_index *ix,
                                                 const struct pattern_obs *o, pattern_hit_fn fn,
                                                 void *arg, struct ctix_diag *diag);

/* ---- what a log scanner needs of one pattern (`ctix scan`) ---- */

enum pattern_key_op {
    PATTERN_KEY_EQ,     /* the property's value equals val */
    PATTERN_KEY_CIDR,   /* ipv4-addr:value or ipv6-addr:value (or network-traffic:src_ref.value
                         * or dst_ref.value) lies in the CIDR block val: from ISSUBSET, and from
                         * `=` with a literal in CIDR form ("10.0.0.0/8"), which is how
                         * indicators name a network */
    PATTERN_KEY_PREFIX, /* the value starts with val: LIKE 'val%' with no other wildcard */
    PATTERN_KEY_ANY,    /* any value of the property (val NULL, len 0): the prefilter a
                         * comparison gives when it yields no key (MATCHES, LIKE '%x', !=, >) */
};

struct pattern_key {
    const char *path; /* "ipv4-addr:value", "file:hashes.SHA-256": quotes removed */
    const char *val;  /* the literal's string (valid while the pattern lives) */
    size_t len;
    enum pattern_key_op op;
};

typedef int (*pattern_key_fn)(const struct pattern_key *k, void *arg);

/* Calls fn with keys such that any observation p matches has an SCO satisfying at least one of
 * them (a prefilter: AND keeps the keys of one side, OR joins both sides' keys). The one path
 * through a reference that gives keys is network-traffic:src_ref.value / dst_ref.value (EQ, IN,
 * ISSUBSET, LIKE as for ipv4-addr:value): its keys are satisfied by the referenced address SCO,
 * and they never make p exact (the address may be at the other end, or outside the connection).
 * *exact is set when p needs no evaluation beyond them: one observation expression, no qualifiers,
 * an OR of EQ/CIDR/PREFIX comparisons (IN gives one key per member) on string properties reached by
 * object keys only — then p matches a one-record observation exactly when one key is satisfied.
 * Otherwise the caller runs pattern_eval on what the prefilter lets through. A non-zero return of
 * fn stops the walk and is returned; else 0. Keys may repeat. */
int pattern_scan_keys(const struct pattern *p, pattern_key_fn fn, void *arg, bool *exact);

#endif
