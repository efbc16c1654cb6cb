/* Fuzz target: the auto detection and per-line reading, then the plain text reader. The checks
 * are fmt_fuzz.h's. */
#include "scan/fmt_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fmt_fuzz_read(SCAN_FMT_AUTO, (const char *)data, size);
    fmt_fuzz_read(SCAN_FMT_PLAIN, (const char *)data, size);
    return 0;
}
