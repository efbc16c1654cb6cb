/* Fuzzes the Authorization header parser (Bearer and Basic with strict base64): whatever a client
 * sends, it answers true or false and never reads past the value. */
#include "auth/auth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char hash[STORE_HASH_LEN];
    char *v = malloc(size + 1);

    if (v == NULL)
        return 0;
    memcpy(v, data, size);
    v[size] = '\0'; /* a header value is a C string by the time it reaches auth/ */
    if (auth_header_parse(v, hash) && strlen(v) < 7)
        __builtin_trap(); /* nothing shorter than "Basic x" can carry a token */
    free(v);
    return 0;
}
