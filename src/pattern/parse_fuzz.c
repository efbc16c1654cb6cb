/* Fuzz target: pattern_parse in both modes. Every refusal must say where; everything accepted
 * must print to a canonical text that parses again (same mode) and prints the same; what strict
 * mode accepts, syntax mode must accept too. Any violation aborts. */
#include "pattern/pattern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool parse_print(const char *s, size_t n, unsigned flags, struct buf *out)
{
    struct pattern *p = NULL;
    struct ctix_diag d;
    enum ctix_rc rc = pattern_parse(s, n, flags, &p, &d);

    if (rc != CTIX_OK) {
        if (rc != CTIX_EINVAL && rc != CTIX_ETOOBIG && rc != CTIX_ENOMEM)
            abort();
        if (d.line == 0 || d.col == 0 || strcmp(d.where, "pattern") != 0)
            abort();
        return false;
    }
    if (pattern_n_obs(p) == 0 || pattern__print(p, out) != CTIX_OK)
        abort();
    pattern_free(p);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool ok[2];

    for (unsigned i = 0; i < 2; i++) {
        unsigned flags = i ? PATTERN_STRICT : PATTERN_SYNTAX;
        struct buf a, b;

        buf_init(&a, 64u << 20);
        buf_init(&b, 64u << 20);
        ok[i] = parse_print((const char *)data, size, flags, &a);
        if (ok[i]) {
            if (!parse_print(a.data, a.len, flags, &b))
                abort();
            if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
                abort();
        }
        buf_cleanup(&a);
        buf_cleanup(&b);
    }
    if (ok[1] && !ok[0])
        abort();
    return 0;
}
