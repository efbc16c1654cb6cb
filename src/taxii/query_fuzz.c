/* Fuzzes TAXII query strings: every parameter allowed, so every parser path is reachable. */
#include "taxii/taxii.h"

#include <stdint.h>
#include <string.h>

#include "taxii/taxii_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct taxii_query q;
    struct ctix_diag d;
    unsigned all = TAXII_Q_ADDED_AFTER | TAXII_Q_LIMIT | TAXII_Q_NEXT | TAXII_Q_ID | TAXII_Q_TYPE |
                   TAXII_Q_VERSION | TAXII_Q_SPEC_VERSION;

    if (taxii_query_parse((const char *)data, size, all, &q, &d) == CTIX_OK) {
        static const unsigned char key[TAXII_SECRET_LEN] = {1, 2, 3};
        struct taxii_cursor_scope scope = {"c0ffee00-0000-4000-8000-000000000000", 'o', "", &q};
        char tok[TAXII_NEXT_MAX];
        int64_t cur = 0;

        /* A parsed query is internally consistent: the counts match the lists. */
        if ((q.n_ids > 0) != (q.ids != NULL) || (q.n_types > 0) != (q.types != NULL) ||
            q.n_ids > TAXII_QUERY_MAX_VALUES)
            __builtin_trap();
        /* next is the other untrusted token: decoding anything is safe, and a token made for
         * these very filters reads back as the cursor it was made from. */
        if (q.next != NULL)
            (void)!taxii__cursor_decode(key, &scope, q.next, &cur);
        if (taxii__cursor_encode(key, &scope, 1234567, tok) == CTIX_OK &&
            (taxii__cursor_decode(key, &scope, tok, &cur) != CTIX_OK || cur != 1234567))
            __builtin_trap();
    }
    taxii_query_cleanup(&q);
    return 0;
}
