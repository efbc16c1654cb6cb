/* Fuzz target: the Squid native access.log reader. The checks are fmt_fuzz.h's. */
#include "scan/fmt_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fmt_fuzz_read(SCAN_FMT_SQUID, (const char *)data, size);
    return 0;
}
