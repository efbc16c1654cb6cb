/* Fuzz target: the syslog (RFC 3164 and 5424) reader. The checks are fmt_fuzz.h's. */
#include "scan/fmt_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fmt_fuzz_read(SCAN_FMT_SYSLOG, (const char *)data, size);
    return 0;
}
