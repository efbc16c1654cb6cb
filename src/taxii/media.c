/* Media-type negotiation (§C1, §C8): Accept must offer application/taxii+json for version 2.1 (or
 * no version, meaning "the latest"), and a POST body must be declared as such. */
#include "taxii/taxii.h"

#include <string.h>
#include <strings.h>

#include "taxii/taxii_int.h"

/* memchr over [p, end), NULL when p >= end. */
static const char *find(const char *p, const char *end, char c)
{
    for (; p < end; p++) {
        if (*p == c)
            return p;
    }
    return NULL;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *trim_end(const char *p, const char *end)
{
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return end;
}

static bool span_eq(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    return (size_t)(end - p) == n && strncasecmp(p, lit, n) == 0;
}

/* One media range "type/sub;k=v;…" in [p, end): true when it is application/taxii+json and every
 * parameter is allowed: version=2.1, charset=utf-8 (Content-Type only), q (Accept only, not 0). */
static bool media_range_ok(const char *p, const char *end, bool is_accept)
{
    const char *semi = find(p, end, ';');
    const char *tend = trim_end(p, semi != NULL ? semi : end);
    bool ok;

    p = skip_ws(p, end);
    ok = span_eq(p, tend, "application/taxii+json");
    while (ok && semi != NULL) {
        const char *k = skip_ws(semi + 1, end), *eq, *v, *vend;

        semi = find(k, end, ';');
        vend = trim_end(k, semi != NULL ? semi : end);
        eq = find(k, vend, '=');
        if (eq == NULL) {
            ok = false;
            break;
        }
        v = skip_ws(eq + 1, vend);
        if (vend - v >= 2 && *v == '"' && vend[-1] == '"') {
            v++;
            vend--;
        }
        eq = trim_end(k, eq);
        if (span_eq(k, eq, "version"))
            ok = span_eq(v, vend, "2.1");
        else if (is_accept && span_eq(k, eq, "q"))
            ok = !(vend > v && strspn(v, "0.") == (size_t)(vend - v));
        else if (!is_accept && span_eq(k, eq, "charset"))
            ok = span_eq(v, vend, "utf-8");
        else
            ok = false;
    }
    return ok;
}

bool taxii__accept_ok(const char *accept)
{
    const char *p = accept, *end;

    if (accept == NULL)
        return false;
    end = accept + strlen(accept);
    while (p < end) {
        const char *comma = find(p, end, ',');
        const char *e = comma != NULL ? comma : end;

        if (media_range_ok(p, e, true))
            return true;
        p = e + 1;
    }
    return false;
}

bool taxii__content_type_ok(const char *ct)
{
    if (ct == NULL)
        return false;
    return media_range_ok(ct, ct + strlen(ct), false);
}
