/* Fuzz target: one line of audit.log, as `ctix audit verify` and prov_audit_open read it back from
 * a file anyone with access may have edited. Whatever the bytes: a parsed entry or CTIX_EINVAL with
 * a message, never a crash. A line that parses must survive the rest of what verify does with it
 * (its encoding, its hash, the chain check), and its encoding must parse back to the same hash. */
#include "prov/prov.h"
#include "prov/prov_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct prov_audit_entry e, back;
    struct prov_audit_check chk;
    struct ctix_diag d;
    unsigned char h1[32], h2[32];
    char *text = NULL;
    size_t len = 0;

    memset(&e, 0, sizeof(e));
    memset(&back, 0, sizeof(back));
    ctix_diag_clear(&d);
    if (prov__audit_line_parse((const char *)data, size, &e, &d) != CTIX_OK) {
        if (d.msg[0] == '\0')
            abort(); /* a refusal always says why */
        goto out;
    }
    prov_audit_check_init(&chk);
    if (prov_audit_check_next(&chk, &e, &d) != CTIX_OK && d.msg[0] == '\0')
        abort(); /* a broken chain (any seq but 1, a non-zero prev) is reported, with a reason */
    /* Text fields may be cut to their buffers or hold what the encoder refuses (not UTF-8): then
     * there is nothing to round-trip. */
    if (prov_audit_entry_hash(&e, h1) != CTIX_OK ||
        prov_audit_entry_encode(&e, &text, &len) != CTIX_OK)
        goto out;
    /* The encoding has no "hash" member: add the stored one so that it parses as a line. */
    {
        char hex[65], *line = malloc(len + 80);

        if (line == NULL)
            abort();
        ctix_hex(e.hash, 32, hex);
        memcpy(line, text, len - 1); /* without the closing brace */
        len = (size_t)(len - 1) + (size_t)snprintf(line + len - 1, 80, ",\"hash\":\"%s\"}", hex);
        if (prov__audit_line_parse(line, len, &back, &d) != CTIX_OK ||
            prov_audit_entry_hash(&back, h2) != CTIX_OK || memcmp(h1, h2, 32) != 0)
            abort();
        free(line);
    }
out:
    free(text);
    prov_audit_entry_cleanup(&e);
    prov_audit_entry_cleanup(&back);
    return 0;
}
