/* TAXII 2.1 filter parameters (§C4): a raw query string in, a struct taxii_query out. Everything
 * here is untrusted input, so every value is checked and bounded before it is kept. */
#include "taxii/taxii.h"

#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"
#include "taxii/taxii_int.h"

#define QUERY_VALUE_MAX (1u << 20) /* a decoded parameter value; far above any sane filter */

enum param {
    P_ADDED_AFTER,
    P_LIMIT,
    P_NEXT,
    P_ID,
    P_TYPE,
    P_VERSION,
    P_SPEC_VERSION,
};

/* The parameters §C4 defines, with the bit an endpoint uses to accept each. */
static const struct {
    const char *name;
    unsigned bit;
} params[] = {
    [P_ADDED_AFTER] = {"added_after", TAXII_Q_ADDED_AFTER},
    [P_LIMIT] = {"limit", TAXII_Q_LIMIT},
    [P_NEXT] = {"next", TAXII_Q_NEXT},
    [P_ID] = {"match[id]", TAXII_Q_ID},
    [P_TYPE] = {"match[type]", TAXII_Q_TYPE},
    [P_VERSION] = {"match[version]", TAXII_Q_VERSION},
    [P_SPEC_VERSION] = {"match[spec_version]", TAXII_Q_SPEC_VERSION},
};

/* Percent-decodes s[0..n) into b ('+' is a space, as in HTML forms). A bad escape or a decoded
 * NUL is malformed. */
static enum ctix_rc pct_decode(const char *s, size_t n, struct buf *b)
{
    enum ctix_rc rc = CTIX_OK;
    size_t i = 0, run = 0;

    buf_reset(b);
    while (i < n && rc == CTIX_OK) {
        char c = s[i];
        int hi, lo;

        if (c != '%' && c != '+' && c != '\0') {
            run++;
            i++;
            continue;
        }
        rc = buf_append(b, s + i - run, run);
        run = 0;
        if (rc != CTIX_OK)
            break;
        if (c == '\0') {
            rc = CTIX_EINVAL;
            break;
        }
        if (c == '+') {
            rc = buf_append(b, " ", 1);
            i++;
            continue;
        }
        hi = i + 2 < n ? ctix_hexval(s[i + 1]) : -1;
        lo = i + 2 < n ? ctix_hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            rc = CTIX_EINVAL;
            break;
        }
        char d = (char)(hi << 4 | lo);
        rc = buf_append(b, &d, 1);
        i += 3;
    }
    if (rc == CTIX_OK)
        rc = buf_append(b, s + n - run, run);
    /* buf_append leaves data NULL for an empty value; callers want a string. */
    if (rc == CTIX_OK && b->data == NULL)
        rc = buf_append(b, "", 0);
    return rc;
}

/* Splits v on ',' into one allocation: the pointer array followed by the NUL-terminated values.
 * Empty entries and more than TAXII_QUERY_MAX_VALUES entries are malformed. */
static enum ctix_rc split_list(const char *v, size_t len, char ***out, size_t *n_out,
                               struct ctix_diag *diag, const char *name)
{
    size_t n = 1;
    char **arr = NULL, *text;
    enum ctix_rc rc = CTIX_OK;

    for (size_t i = 0; i < len; i++)
        n += v[i] == ',';
    if (n > TAXII_QUERY_MAX_VALUES) {
        ctix_diag_set(diag, name, "more than %d values", TAXII_QUERY_MAX_VALUES);
        rc = CTIX_EINVAL;
        goto out;
    }
    arr = malloc(n * sizeof(*arr) + len + 1);
    if (arr == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    text = (char *)(arr + n);
    memcpy(text, v, len);
    text[len] = '\0';
    for (size_t i = 0, k = 0, start = 0; i <= len; i++) {
        if (i < len && text[i] != ',')
            continue;
        text[i] = '\0';
        if (i == start) {
            ctix_diag_set(diag, name, "empty value in the list");
            rc = CTIX_EINVAL;
            goto out;
        }
        arr[k++] = text + start;
        start = i + 1;
    }
    *out = arr;
    *n_out = n;
    arr = NULL;
out:
    free(arr);
    return rc;
}

static bool spec_version_valid(const char *s)
{
    size_t i = 0, a = 0, b = 0;

    while (s[i] >= '0' && s[i] <= '9' && a < 3) {
        i++;
        a++;
    }
    if (a == 0 || s[i] != '.')
        return false;
    i++;
    while (s[i] >= '0' && s[i] <= '9' && b < 3) {
        i++;
        b++;
    }
    return b > 0 && s[i] == '\0';
}

static enum ctix_rc parse_added_after(const char *v, size_t len, struct taxii_query *q,
                                      struct ctix_diag *diag)
{
    struct ctix_ts ts;

    /* Liberal on input (§C1): any number of fractional digits, or none. */
    if (ctix_ts_parse(v, len, &ts) != CTIX_OK) {
        ctix_diag_set(diag, "added_after", "not an RFC 3339 UTC timestamp");
        return CTIX_EINVAL;
    }
    q->has_added_after = true;
    q->added_after_us = ctix_ts_to_us(&ts);
    return CTIX_OK;
}

static enum ctix_rc parse_limit(const char *v, size_t len, struct taxii_query *q,
                                struct ctix_diag *diag)
{
    uint64_t n = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            break;
    }
    if (len == 0 || i != len) {
        ctix_diag_set(diag, "limit", "not a positive integer");
        return CTIX_EINVAL;
    }
    /* Any positive integer is a valid limit; one too big for 64 bits is clamped later anyway. */
    if (!ctix_parse_u64(v, UINT64_MAX, &n))
        n = UINT64_MAX;
    if (n == 0) {
        ctix_diag_set(diag, "limit", "must be greater than 0");
        return CTIX_EINVAL;
    }
    q->has_limit = true;
    q->limit = n;
    return CTIX_OK;
}

static enum ctix_rc parse_version(const char *v, size_t len, struct taxii_query *q,
                                  struct ctix_diag *diag)
{
    char **vals = NULL, **keys = NULL;
    size_t n = 0, n_keys = 0;
    enum ctix_rc rc = split_list(v, len, &vals, &n, diag, "match[version]");

    if (rc != CTIX_OK)
        goto out;
    keys = malloc(n * (sizeof(*keys) + 31));
    if (keys == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned bit = 0;

        if (strcmp(vals[i], "first") == 0)
            bit = STORE_V_FIRST;
        else if (strcmp(vals[i], "last") == 0)
            bit = STORE_V_LAST;
        else if (strcmp(vals[i], "all") == 0)
            bit = STORE_V_ALL;
        if (bit != 0) {
            if (q->vsel & bit) {
                ctix_diag_set(diag, "match[version]", "'%s' is repeated", vals[i]);
                rc = CTIX_EINVAL;
                goto out;
            }
            q->vsel |= bit;
            continue;
        }
        char *key = (char *)(keys + n) + n_keys * 31;
        if (stix_version_key(vals[i], key) != CTIX_OK) {
            ctix_diag_set(diag, "match[version]",
                          "value %zu is not first, last, all or a STIX timestamp", i + 1);
            rc = CTIX_EINVAL;
            goto out;
        }
        for (size_t k = 0; k < n_keys; k++) {
            if (strcmp(keys[k], key) == 0) {
                ctix_diag_set(diag, "match[version]", "a timestamp is repeated");
                rc = CTIX_EINVAL;
                goto out;
            }
        }
        keys[n_keys++] = key;
    }
    if ((q->vsel & STORE_V_ALL) && n > 1) {
        ctix_diag_set(diag, "match[version]", "'all' cannot be combined with other values");
        rc = CTIX_EINVAL;
        goto out;
    }
    q->has_version = true;
    if (n_keys > 0) {
        q->version_keys = keys;
        q->n_versions = n_keys;
        keys = NULL;
    }
out:
    free(vals);
    free(keys);
    return rc;
}

/* Checks each value of a list with valid(). */
static enum ctix_rc parse_checked_list(const char *v, size_t len, const char *name,
                                       bool (*valid)(const char *), char ***out, size_t *n_out,
                                       struct ctix_diag *diag)
{
    char **vals = NULL;
    size_t n = 0;
    enum ctix_rc rc = split_list(v, len, &vals, &n, diag, name);

    if (rc != CTIX_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (!valid(vals[i])) {
            ctix_diag_set(diag, name, "value %zu is malformed", i + 1);
            rc = CTIX_EINVAL;
            goto out;
        }
    }
    *out = vals;
    *n_out = n;
    vals = NULL;
out:
    free(vals);
    return rc;
}

static bool id_valid(const char *s)
{
    return stix_id_valid(s, NULL);
}

static bool type_valid(const char *s)
{
    return stix_type_valid(s);
}

static enum ctix_rc parse_one(enum param p, const char *v, size_t len, struct taxii_query *q,
                              struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_EINVAL;

    switch (p) {
    case P_ADDED_AFTER:
        rc = parse_added_after(v, len, q, diag);
        break;
    case P_LIMIT:
        rc = parse_limit(v, len, q, diag);
        break;
    case P_NEXT:
        if (len == 0 || len >= TAXII_NEXT_MAX) {
            ctix_diag_set(diag, "next", "not a token this server issued");
            break;
        }
        q->next = strdup(v);
        rc = q->next != NULL ? CTIX_OK : CTIX_ENOMEM;
        break;
    case P_ID:
        rc = parse_checked_list(v, len, "match[id]", id_valid, &q->ids, &q->n_ids, diag);
        break;
    case P_TYPE:
        rc = parse_checked_list(v, len, "match[type]", type_valid, &q->types, &q->n_types, diag);
        break;
    case P_VERSION:
        rc = parse_version(v, len, q, diag);
        break;
    case P_SPEC_VERSION:
        rc = parse_checked_list(v, len, "match[spec_version]", spec_version_valid,
                                &q->spec_versions, &q->n_spec_versions, diag);
        break;
    }
    return rc;
}

enum ctix_rc taxii_query_parse(const char *query, size_t len, unsigned allowed,
                               struct taxii_query *out, struct ctix_diag *diag)
{
    struct buf key, val;
    unsigned seen = 0;
    size_t pos = 0;
    enum ctix_rc rc = CTIX_OK;

    memset(out, 0, sizeof(*out));
    buf_init(&key, 256);
    buf_init(&val, QUERY_VALUE_MAX);
    while (query != NULL && pos < len && rc == CTIX_OK) {
        const char *seg = query + pos, *amp = memchr(seg, '&', len - pos), *eq;
        size_t slen = amp != NULL ? (size_t)(amp - seg) : len - pos;
        size_t klen;
        int p = -1;

        pos += slen + 1;
        if (slen == 0)
            continue; /* "a=1&&b=2" or a trailing '&' carries nothing */
        eq = memchr(seg, '=', slen);
        klen = eq != NULL ? (size_t)(eq - seg) : slen;
        rc = pct_decode(seg, klen, &key);
        if (rc == CTIX_ETOOBIG)
            rc = CTIX_EINVAL;
        if (rc != CTIX_OK) {
            ctix_diag_set(diag, NULL, "malformed parameter name");
            break;
        }
        for (size_t i = 0; i < CTIX_ARRAY_LEN(params); i++) {
            if (key.len == strlen(params[i].name) && strcmp(key.data, params[i].name) == 0)
                p = (int)i;
        }
        if (p < 0) {
            /* §C4: unknown match[...] fields may be ignored; any other name is an error. */
            if (key.len > 7 && memcmp(key.data, "match[", 6) == 0 && key.data[key.len - 1] == ']')
                continue;
            ctix_diag_set(diag, key.data, "unknown parameter");
            rc = CTIX_EINVAL;
            break;
        }
        if (!(allowed & params[p].bit)) {
            ctix_diag_set(diag, params[p].name, "not supported by this endpoint");
            rc = CTIX_EINVAL;
            break;
        }
        if (seen & params[p].bit) {
            ctix_diag_set(diag, params[p].name, "given more than once");
            rc = CTIX_EINVAL;
            break;
        }
        seen |= params[p].bit;
        rc = eq != NULL ? pct_decode(eq + 1, slen - klen - 1, &val) : pct_decode("", 0, &val);
        if (rc == CTIX_ETOOBIG)
            rc = CTIX_EINVAL;
        if (rc != CTIX_OK) {
            ctix_diag_set(diag, params[p].name, "malformed percent-encoding");
            break;
        }
        rc = parse_one((enum param)p, val.data, val.len, out, diag);
    }
    buf_cleanup(&key);
    buf_cleanup(&val);
    return rc;
}

void taxii_query_cleanup(struct taxii_query *q)
{
    if (q == NULL)
        return;
    free(q->next);
    free(q->ids);
    free(q->types);
    free(q->spec_versions);
    free(q->version_keys);
    memset(q, 0, sizeof(*q));
}
