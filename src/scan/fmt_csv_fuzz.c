/* Fuzz target: the CSV (header line, then rows) reader. The checks are fmt_fuzz.h's. */
#include "scan/fmt_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fmt_fuzz_read(SCAN_FMT_CSV, (const char *)data, size);
    return 0;
}
