/* Fuzzes TAXII query strings: every parameter allowed, so every parser path is reachable. */
#include "taxii/taxii.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct taxii_query q;
    struct ctix_diag d;
    unsigned all = TAXII_Q_ADDED_AFTER | TAXII_Q_LIMIT | TAXII_Q_NEXT | TAXII_Q_ID | TAXII_Q_TYPE |
                   TAXII_Q_VERSION | TAXII_Q_SPEC_VERSION;

    if (taxii_query_parse((const char *)data, size, all, &q, &d) == CTIX_OK) {
        /* A parsed query is internally consistent: the counts match the lists. */
        if ((q.n_ids > 0) != (q.ids != NULL) || (q.n_types > 0) != (q.types != NULL) ||
            q.n_ids > TAXII_QUERY_MAX_VALUES)
            __builtin_trap();
    }
    taxii_query_cleanup(&q);
    return 0;
}
