/* Differential fuzz target: stix_json_parse against json_loadb(JSON_REJECT_DUPLICATES |
 * JSON_DECODE_ANY). Any difference in verdict or value aborts. Then the container reader with
 * spans: each span must parse to its element, and its compact text to an equal value without
 * whitespace outside strings. */
#include "stix/stix.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_span(const char *p, size_t len, const json_t *elem)
{
    json_t *e = NULL, *c = NULL;
    size_t clen = 0;
    char *comp;

    if (stix_json_parse(p, len, &e, NULL) != CTIX_OK || !json_equal(e, elem))
        abort();
    comp = stix_json_compact(p, len, &clen);
    if (comp == NULL)
        abort();
    if (clen > len || stix_json_parse(comp, clen, &c, NULL) != CTIX_OK || !json_equal(c, e))
        abort();
    for (size_t i = 0, in_str = 0; i < clen; i++) {
        if (in_str && comp[i] == '\\')
            i++;
        else if (comp[i] == '"')
            in_str = !in_str;
        else if (!in_str && strchr(" \t\r\n", comp[i]) != NULL)
            abort();
    }
    json_decref(e);
    json_decref(c);
    free(comp);
}

/* jansson 2.14 loses a NUL byte that its lexer reads and puts back (stream_unget: a 0 in its
 * look-ahead buffer means "empty"), so it accepts "7\0", "true\0" and "[1\0]": a NUL directly after
 * a number or literal vanishes. RFC 8259 allows no NUL outside strings and stix_json_parse rejects
 * it. Tolerated here exactly: jansson accepted, we did not, and without every NUL that follows
 * [0-9A-Za-z] we accept the same value. */
static bool jansson_nul_quirk(const char *buf, size_t size, const json_t *ref)
{
    char *clean = malloc(size + 1);
    size_t n = 0;
    json_t *j = NULL;
    bool ok = false;

    if (clean == NULL || memchr(buf, '\0', size) == NULL)
        goto out;
    for (size_t i = 0; i < size; i++) {
        unsigned char prev = i > 0 ? (unsigned char)buf[i - 1] : 0;

        if (buf[i] == '\0' && i > 0 && isalnum(prev))
            continue;
        clean[n++] = buf[i];
    }
    ok = stix_json_parse(clean, n, &j, NULL) == CTIX_OK && json_equal(j, ref);
    json_decref(j);
out:
    free(clean);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    json_t *ref = json_loadb(buf, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    json_t *mine = NULL, *objs = NULL;
    struct stix_span *sp = NULL;
    struct ctix_diag diag;
    enum ctix_rc rc = stix_json_parse(buf, size, &mine, &diag);
    bool quirk = ref != NULL && rc != CTIX_OK && jansson_nul_quirk(buf, size, ref);

    if (!quirk && (ref != NULL) != (rc == CTIX_OK))
        abort();
    if (!quirk && ref != NULL && !json_equal(ref, mine))
        abort();
    if (rc != CTIX_OK && (diag.line == 0 || diag.col == 0))
        abort();
    if (stix_container_parse_spans(buf, size, &objs, &sp, &diag) == CTIX_OK) {
        for (size_t i = 0; i < json_array_size(objs); i++) {
            if (sp[i].off + sp[i].len > size)
                abort();
            check_span(buf + sp[i].off, sp[i].len, json_array_get(objs, i));
        }
        json_decref(objs);
        free(sp);
    }
    json_decref(ref);
    json_decref(mine);
    return 0;
}
