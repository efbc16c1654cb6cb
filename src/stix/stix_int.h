/* stix_int.h: things shared between the files of src/stix/ and never included from outside. */
#ifndef CTIX_STIX_INT_H
#define CTIX_STIX_INT_H

#include "stix/stix.h"

/* A type the specification defines, found by bsearch in a table sorted by name (id.c). */
struct stix__type_info {
    const char *name;
    enum stix_kind kind;
};

/* NULL for a type the specification does not define. */
const struct stix__type_info *stix__type_find(const char *type, size_t len);

/* The kind of the type prefix of an id ("identity--…" → SDO); false when id has no "--". */
bool stix__id_kind(const char *id, enum stix_kind *kind, size_t *type_len);

/* Lowercase hex only, even length (the _hex data type). */
bool stix__hex_valid(const char *s);
/* RFC 4648 base64 with padding (the _bin data type). */
bool stix__base64_valid(const char *s);

/* Appends the RFC 8785 form of j to b. */
CTIX_MUST_CHECK enum ctix_rc stix__canonical_append(struct buf *b, const json_t *j);

/* True when validate.c's type table is sorted for bsearch and complete (the unit test asks). */
bool stix__tspecs_sorted(void);

/* stix_json_parse that also records the spans of the elements of the root object's "objects"
 * array when spans is not NULL: *spans (free()) and *n_spans are set on success only (json.c). */
CTIX_MUST_CHECK enum ctix_rc stix__json_parse(const char *buf, size_t len, json_t **out,
                                              struct stix_span **spans, size_t *n_spans,
                                              struct ctix_diag *diag);

#endif
