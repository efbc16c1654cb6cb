/* RFC 8785 JSON Canonicalization Scheme: members sorted by the UTF-16 code units of their names,
 * no whitespace, minimal string escapes, numbers in ECMAScript Number.prototype.toString form. */
#include "stix/stix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_int.h"

#define CANON_MAX ((size_t)1 << 30)

/* Next UTF-16 code unit of a UTF-8 string; *pending holds a low surrogate still to come. Jansson
 * has already checked the UTF-8, so a malformed byte cannot occur; it is taken as itself. */
static unsigned utf16_next(const unsigned char **p, unsigned *pending)
{
    const unsigned char *s = *p;
    unsigned cp;

    if (*pending != 0) {
        cp = *pending;
        *pending = 0;
        return cp;
    }
    if (s[0] < 0x80) {
        cp = s[0];
        *p = s + 1;
    } else if ((s[0] & 0xe0) == 0xc0 && s[1] != 0) {
        cp = ((unsigned)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
        *p = s + 2;
    } else if ((s[0] & 0xf0) == 0xe0 && s[1] != 0 && s[2] != 0) {
        cp = ((unsigned)(s[0] & 0x0f) << 12) | ((unsigned)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
        *p = s + 3;
    } else if ((s[0] & 0xf8) == 0xf0 && s[1] != 0 && s[2] != 0 && s[3] != 0) {
        cp = ((unsigned)(s[0] & 0x07) << 18) | ((unsigned)(s[1] & 0x3f) << 12) |
             ((unsigned)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
        *p = s + 4;
        cp -= 0x10000;
        *pending = 0xdc00 | (cp & 0x3ff);
        return 0xd800 | (cp >> 10);
    } else {
        cp = s[0];
        *p = s + 1;
    }
    return cp;
}

static int key_cmp(const void *a, const void *b)
{
    const unsigned char *p = *(const unsigned char *const *)a;
    const unsigned char *q = *(const unsigned char *const *)b;
    unsigned pp = 0, pq = 0;

    for (;;) {
        unsigned x, y;

        if ((*p == 0 && pp == 0) || (*q == 0 && pq == 0))
            break;
        x = utf16_next(&p, &pp);
        y = utf16_next(&q, &pq);
        if (x != y)
            return x < y ? -1 : 1;
    }
    if (*p == 0 && pp == 0)
        return (*q == 0 && pq == 0) ? 0 : -1;
    return 1;
}

/* ECMAScript Number::toString: the shortest digit string that reads back as d, then plain
 * notation for decimal exponents -7 < n <= 21 and exponential notation outside. */
static enum ctix_rc num_append(struct buf *b, double d)
{
    char tmp[40], digs[20], out[64];
    int prec, k = 0, n, i, o = 0;
    const char *e;

    if (!isfinite(d))
        return CTIX_EINVAL;
    if (d == 0)
        return buf_append(b, "0", 1);
    if (d < 0) {
        out[o++] = '-';
        d = -d;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp is "D.DDDDe±XX" */
    for (i = 0; tmp[i] != 'e' && tmp[i] != '\0'; i++) {
        if (tmp[i] >= '0' && tmp[i] <= '9')
            digs[k++] = tmp[i];
    }
    while (k > 1 && digs[k - 1] == '0')
        k--;
    e = strchr(tmp, 'e');
    if (e == NULL)
        return CTIX_EINVAL;
    n = (int)strtol(e + 1, NULL, 10) + 1;
    if (k <= n && n <= 21) {
        memcpy(out + o, digs, (size_t)k);
        o += k;
        for (i = k; i < n; i++)
            out[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + o, digs, (size_t)n);
        o += n;
        out[o++] = '.';
        memcpy(out + o, digs + n, (size_t)(k - n));
        o += k - n;
    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (i = 0; i < -n; i++)
            out[o++] = '0';
        memcpy(out + o, digs, (size_t)k);
        o += k;
    } else {
        out[o++] = digs[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, digs + 1, (size_t)(k - 1));
            o += k - 1;
        }
        o += snprintf(out + o, sizeof(out) - (size_t)o, "e%c%d", n - 1 >= 0 ? '+' : '-',
                      n - 1 >= 0 ? n - 1 : 1 - n);
    }
    return buf_append(b, out, (size_t)o);
}

static enum ctix_rc obj_append(struct buf *b, const json_t *j)
{
    size_t n = json_object_size(j), i = 0;
    const char **keys = NULL;
    const char *key;
    const json_t *v;
    enum ctix_rc rc = CTIX_ENOMEM;

    if (n > 0) {
        keys = malloc(n * sizeof(*keys));
        if (keys == NULL)
            goto out;
    }
    json_object_foreach((json_t *)j, key, v)
    {
        keys[i++] = key;
    }
    if (n > 1)
        qsort(keys, n, sizeof(*keys), key_cmp);
    rc = buf_append(b, "{", 1);
    for (i = 0; i < n && rc == CTIX_OK; i++) {
        if (i > 0)
            rc = buf_append(b, ",", 1);
        if (rc == CTIX_OK)
            rc = buf_append_json_str(b, keys[i], strlen(keys[i]));
        if (rc == CTIX_OK)
            rc = buf_append(b, ":", 1);
        if (rc == CTIX_OK)
            rc = stix__canonical_append(b, json_object_get(j, keys[i]));
    }
    if (rc == CTIX_OK)
        rc = buf_append(b, "}", 1);
out:
    free(keys);
    return rc;
}

enum ctix_rc stix__canonical_append(struct buf *b, const json_t *j)
{
    enum ctix_rc rc = CTIX_EINVAL;
    size_t i;

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        rc = obj_append(b, j);
        break;
    case JSON_ARRAY:
        rc = buf_append(b, "[", 1);
        for (i = 0; i < json_array_size(j) && rc == CTIX_OK; i++) {
            if (i > 0)
                rc = buf_append(b, ",", 1);
            if (rc == CTIX_OK)
                rc = stix__canonical_append(b, json_array_get(j, i));
        }
        if (rc == CTIX_OK)
            rc = buf_append(b, "]", 1);
        break;
    case JSON_STRING:
        rc = buf_append_json_str(b, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER: {
        json_int_t v = json_integer_value(j);

        /* Integers a double holds exactly print as themselves; larger ones as the double they
         * become, as ECMAScript would read them. */
        if (v >= -(((json_int_t)1) << 53) && v <= (((json_int_t)1) << 53))
            rc = buf_appendf(b, "%lld", (long long)v);
        else
            rc = num_append(b, (double)v);
        break;
    }
    case JSON_REAL:
        rc = num_append(b, json_real_value(j));
        break;
    case JSON_TRUE:
        rc = buf_append(b, "true", 4);
        break;
    case JSON_FALSE:
        rc = buf_append(b, "false", 5);
        break;
    case JSON_NULL:
        rc = buf_append(b, "null", 4);
        break;
    }
    return rc;
}

char *stix_canonical_json(const json_t *j, size_t *len)
{
    struct buf b;
    char *s = NULL;
    size_t n;

    buf_init(&b, CANON_MAX);
    if (j == NULL || stix__canonical_append(&b, j) != CTIX_OK)
        goto out;
    n = b.len;
    s = buf_steal(&b);
    if (s != NULL && len != NULL)
        *len = n;
out:
    buf_cleanup(&b);
    return s;
}
