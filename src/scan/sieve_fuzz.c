/* libFuzzer target for the scan sieve: each line of the input through every log reader and the
 * index of sieve_check.h, and through the sieve — abort when a reader finds a listed value in a
 * line the sieve said "no" to, when the vector and portable passes classify a line differently,
 * or when the vector and portable parses of a dotted quad differ. Run under ASan+UBSan:
 *   make build/fuzz/scan/sieve_fuzz && build/fuzz/scan/sieve_fuzz fuzz/corpus/scan_sieve */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/sieve_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct scan_index *ix[2];
    const char *p = (const char *)data, *end = p + size;

    if (ix[0] == NULL) {
        ix[0] = sieve_check_index(false);
        ix[1] = sieve_check_index(true);
        if (ix[0] == NULL || ix[1] == NULL)
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
        for (int k = 0; k < 2; k++) {
            if (!sieve_check_maybe(ix[k], p, n) && sieve_check_hits(ix[k], p, n))
                abort(); /* a listed value the sieve let go by */
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return 0;
}
