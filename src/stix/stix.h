/* stix: the STIX 2.1 object model — parse and validate every object type of the specification
 * (SDOs, SROs, SCOs, meta objects), identifiers, timestamps, markings (effective TLP), canonical
 * JSON (RFC 8785) and SCO deterministic ids, bundles and TAXII envelopes.
 *
 * stix/ knows nothing of HTTP or storage. Objects are jansson values; a struct stix_obj owns one
 * reference to its value and its string fields point into it. Unknown properties (custom x_
 * properties, extension properties) and custom object types are kept verbatim: validation rejects
 * what the specification forbids and lets through what it allows. */
#ifndef CTIX_STIX_H
#define CTIX_STIX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"

#define STIX_ID_MAX 300 /* type (≤250) + "--" + UUID (36) + NUL */

enum stix_kind {
    STIX_KIND_SDO,
    STIX_KIND_SRO,
    STIX_KIND_SCO,
    STIX_KIND_SMO,    /* marking-definition, language-content, extension-definition */
    STIX_KIND_CUSTOM, /* a type this spec does not define (x-mitre-tactic, a new-sdo extension…) */
};

/* Effective TLP: the strictest of the object's object markings and granular markings.
 * Ordered from least to most restrictive so that max() is "strictest wins". */
enum stix_tlp {
    STIX_TLP_NONE = 0, /* no TLP marking: policy applies the node's default */
    STIX_TLP_CLEAR,    /* TLP 2.0 CLEAR and TLP 1.0 WHITE */
    STIX_TLP_GREEN,
    STIX_TLP_AMBER,
    STIX_TLP_AMBER_STRICT,
    STIX_TLP_RED,
};

struct stix_obj {
    json_t *json;             /* owned reference */
    const char *type;         /* into json */
    const char *id;           /* into json */
    const char *version;      /* modified, else created, else NULL (the store assigns one) */
    const char *spec_version; /* "2.1", or "2.0" for SDOs/SROs without spec_version (TAXII rule) */
    enum stix_kind kind;
    enum stix_tlp tlp;
};

/* Validates j as one STIX 2.1 object: required properties, identifier form and its type,
 * timestamps (created/modified with millisecond precision, created <= modified), property types,
 * ranges, non-empty lists and dictionaries, reference properties pointing at ids of allowed types,
 * per-type constraints, custom properties and objects as the spec allows. On failure diag->where
 * names the property (a JSON-pointer-like path, e.g. "external_references/0/source_name") and
 * diag->msg the rule broken. Returns CTIX_OK or CTIX_EINVAL. */
CTIX_MUST_CHECK enum ctix_rc stix_validate(const json_t *j, struct ctix_diag *diag);

/* Parses JSON text (one object) and validates it. On success *out is a new object
 * (stix_obj_free); on failure *out is untouched and diag says what and where. */
CTIX_MUST_CHECK enum ctix_rc stix_obj_parse(const char *buf, size_t len, struct stix_obj **out,
                                            struct ctix_diag *diag);

/* Validates j and wraps it. On success takes a new reference to j (the caller keeps its own). */
CTIX_MUST_CHECK enum ctix_rc stix_obj_from_json(json_t *j, struct stix_obj **out,
                                                struct ctix_diag *diag);

void stix_obj_free(struct stix_obj *o);

/* Compact JSON of the object, keys in input order. Returns a new string (free()) or NULL when out
 * of memory; *len (if not NULL) gets its length. */
char *stix_obj_to_json(const struct stix_obj *o, size_t *len);

/* Normalised sort key of a STIX timestamp: "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (30 chars + NUL), so
 * that byte order is time order and "…12.1Z" equals "…12.100Z". CTIX_EINVAL if ts is not a
 * timestamp. */
CTIX_MUST_CHECK enum ctix_rc stix_version_key(const char *ts, char out[31]);

/* Reads a container of objects: a STIX bundle {"type":"bundle","id":…,"objects":[…]} or a TAXII
 * envelope {"objects":[…], "more":…}. *objects gets a new reference to the array (possibly empty).
 * CTIX_EINVAL with diag when the text is not JSON or not a container (line/col set for JSON
 * syntax errors). */
CTIX_MUST_CHECK enum ctix_rc stix_container_parse(const char *buf, size_t len, json_t **objects,
                                                  struct ctix_diag *diag);

/* ---- fast JSON (json.c) ---- */

/* Parses JSON text (RFC 8259, strict) into a jansson value. Accepts and rejects exactly what
 * json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) does: any top-level value,
 * duplicate member names, \u0000, invalid UTF-8, integers outside int64, reals that overflow and
 * nesting deeper than 2048 are errors. (Except that a NUL byte after a number or literal, which
 * jansson 2.14 silently skips, is an error here.) On success *out is a new reference; on failure
 * *out is untouched and diag gets "JSON syntax error at line L column C: what" with line and col
 * set (1-based, col in characters). CTIX_EINVAL, or CTIX_ENOMEM. */
CTIX_MUST_CHECK enum ctix_rc stix_json_parse(const char *buf, size_t len, json_t **out,
                                             struct ctix_diag *diag);

/* A byte range of the input text. */
struct stix_span {
    size_t off, len;
};

/* stix_container_parse, and when spans is not NULL *spans gets a new array (free()) with one
 * entry per element of *objects: where that element's text is in buf (NULL when there are none).
 * On failure *objects and *spans are untouched. */
CTIX_MUST_CHECK enum ctix_rc stix_container_parse_spans(const char *buf, size_t len,
                                                        json_t **objects, struct stix_span **spans,
                                                        struct ctix_diag *diag);

/* stix_json_parse that also gives, when spans is not NULL, where each element of the root object's
 * "objects" array is in buf: *spans (free(), NULL when there are none) and *n_spans, set on success
 * only. For a reader that needs the whole root (a TAXII envelope's "more") and the text of each
 * object (to store the sender's bytes compacted, without serialising the parsed tree again). */
CTIX_MUST_CHECK enum ctix_rc stix_json_parse_spans(const char *buf, size_t len, json_t **out,
                                                   struct stix_span **spans, size_t *n_spans,
                                                   struct ctix_diag *diag);

/* A copy of the valid JSON text p[0..len) without the whitespace outside strings; strings are
 * copied byte for byte (escapes untouched). Returns a new NUL-terminated string (free()) and its
 * length in *out_len (if not NULL), or NULL when out of memory. */
char *stix_json_compact(const char *p, size_t len, size_t *out_len);

/* ---- identifiers, types, timestamps ---- */

/* True when id is "<type>--<UUID>" with a well-formed type and RFC 4122 UUID; when type is not NULL
 * the prefix must equal it. */
bool stix_id_valid(const char *id, const char *type);
/* True for a well-formed type name: [a-z0-9-], starts with a letter, no "--", 3..250 chars. */
bool stix_type_valid(const char *type);
/* The kind of a type name; STIX_KIND_CUSTOM for any type the spec does not define. */
enum stix_kind stix_type_kind(const char *type);
/* Parses a STIX timestamp; need_ms requires at least 3 fractional digits (created/modified). */
CTIX_MUST_CHECK enum ctix_rc stix_ts_parse(const char *s, bool need_ms, struct ctix_ts *out);

/* ---- markings ---- */

/* TLP level of a TLP 1.0 or TLP 2.0 marking-definition id; STIX_TLP_NONE for any other id. */
enum stix_tlp stix_tlp_of_marking(const char *marking_id);
/* "clear", "green", "amber", "amber+strict", "red", or "none". */
const char *stix_tlp_name(enum stix_tlp tlp);
/* The strictest TLP among j's object_marking_refs and granular_markings[].marking_ref. */
enum stix_tlp stix_tlp_effective(const json_t *j);

/* ---- canonical JSON and deterministic ids ---- */

/* RFC 8785 (JCS) serialisation of j. Returns a new string (free()) or NULL when out of memory or
 * when j holds a number JCS cannot represent. */
char *stix_canonical_json(const json_t *j, size_t *len);

/* The UUIDv5 id an SCO gets from its ID-contributing properties (spec 2.9), or a UUIDv4 id when it
 * has none. out receives "<type>--<uuid>". CTIX_EINVAL if sco is not an object with an SCO type. */
CTIX_MUST_CHECK enum ctix_rc stix_sco_id(const json_t *sco, char out[STIX_ID_MAX]);

#endif
