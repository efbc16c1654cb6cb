/* libFuzzer target for the scan sieve: each line of the input through every log reader and the
 * index of sieve_check.h, and through the sieve — abort when a reader finds a listed value in a
 * line the sieve said "no" to, when the vector and portable passes classify a line differently,
 * or when the vector and portable parses of a dotted quad differ; then the whole input in batches
 * (lines cut as the input's, tab counts, nothing listed let go by). Run under ASan+UBSan:
 *   make build/fuzz/scan/sieve_fuzz && build/fuzz/scan/sieve_fuzz fuzz/corpus/scan_sieve */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/sieve_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole input in batches, as a worker sieves a block: the lines it cuts are the input's,
 * a line it lets go by holds no listed value, and its tab count is the line's. */
static void check_batches(struct scan_index *ix, const char *data, size_t size)
{
    const struct scan_sieve *sv = scan_index_sieve(ix);
    static struct scan_sieve_batch b;
    static bool init;
    char *copy;
    const char *want = data, *end = data + size;
    size_t pos = 0;

    if (sv == NULL)
        return;
    if (!init && !scan_sieve_batch_init(&b))
        abort();
    init = true;
    copy = malloc(size + SCAN_SIEVE_PAD);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    memset(copy + size, '.', SCAN_SIEVE_PAD);
    while (pos < size) {
        size_t took = scan_sieve_block(sv, &b, copy + pos, size - pos);

        if (took == 0 || b.k == 0)
            abort();
        for (unsigned i = 0; i < b.k; i++) {
            const char *nl = memchr(want, '\n', (size_t)(end - want));
            size_t n = (size_t)((nl != NULL ? nl : end) - want), tabs = 0;

            if (n > 0 && want[n - 1] == '\r')
                n--;
            if (b.p[i] != copy + (want - data) || b.n[i] != n)
                abort(); /* not the input's line */
            if (!(b.maybe >> i & 1)) {
                for (size_t j = 0; j < n; j++)
                    tabs += want[j] == '\t';
                if (scan_sieve_count(sv, b.p[i], b.n[i], '\t') != tabs)
                    abort();
                if (sieve_check_hits(ix, want, n))
                    abort(); /* a listed value the batch let go by */
            }
            want = nl != NULL ? nl + 1 : end;
        }
        pos += took;
    }
    if (want != end)
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct scan_index *ix[3];
    const char *p = (const char *)data, *end = p + size;

    if (ix[0] == NULL) {
        ix[0] = sieve_check_index(SIEVE_CHECK_BASE);
        ix[1] = sieve_check_index(SIEVE_CHECK_EXTRA);
        ix[2] = sieve_check_index(SIEVE_CHECK_V6ADDR);
        if (ix[0] == NULL || ix[1] == NULL || ix[2] == NULL)
            abort();
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl != NULL ? nl : end) - p);
        /* the vector passes read whole vectors past the line: a padded copy */
        static char pad[4096 + SCAN_SIEVE_PAD];

        if (n <= 4096) {
            memcpy(pad, p, n);
            memset(pad + n, 0, SCAN_SIEVE_PAD);
            if (!scan_sieve__classify_agree(pad, n) ||
                !scan_sieve__quad_agree(scan_index_sieve(ix[0]), pad, n))
                abort();
        }
        for (int k = 0; k < 3; k++) {
            if (!sieve_check_maybe(ix[k], p, n) && sieve_check_hits(ix[k], p, n))
                abort(); /* a listed value the sieve let go by */
        }
        p = nl != NULL ? nl + 1 : end;
    }
    for (int k = 0; k < 3; k++)
        check_batches(ix[k], (const char *)data, size);
    return 0;
}
