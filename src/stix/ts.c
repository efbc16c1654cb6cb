/* STIX timestamps: the strict RFC 3339 form of base/ plus the millisecond rule of created and
 * modified, and the normalised version key that makes byte order time order. */
#include "stix/stix.h"

#include <string.h>

enum ctix_rc stix_ts_parse(const char *s, bool need_ms, struct ctix_ts *out)
{
    struct ctix_ts t;
    enum ctix_rc rc;

    if (s == NULL)
        return CTIX_EINVAL;
    rc = ctix_ts_parse(s, strlen(s), &t);
    if (rc != CTIX_OK)
        return rc;
    if (need_ms && t.frac_digits < 3)
        return CTIX_EINVAL;
    *out = t;
    return CTIX_OK;
}

enum ctix_rc stix_version_key(const char *ts, char out[31])
{
    struct ctix_ts t;
    char head[28];
    int32_t ns;
    int i;

    if (stix_ts_parse(ts, false, &t) != CTIX_OK)
        return CTIX_EINVAL;
    /* Formatted from the instant, not copied, so that a leap second ":60" gets the key of the
     * second it counts as and "…12.1Z" equals "…12.100Z". */
    ctix_ts_format_us(t.sec * 1000000, head);
    memcpy(out, head, 20); /* "YYYY-MM-DDTHH:MM:SS." */
    ns = t.nsec;
    for (i = 28; i >= 20; i--) {
        out[i] = (char)('0' + ns % 10);
        ns /= 10;
    }
    out[29] = 'Z';
    out[30] = '\0';
    return CTIX_OK;
}
