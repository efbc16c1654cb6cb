/* prov: what sign.c and audit.c share, never included from outside src/prov/. */
#ifndef CTIX_PROV_INT_H
#define CTIX_PROV_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* SHA-256 of p[0..n) into out. CTIX_ENOMEM when OpenSSL cannot allocate. */
CTIX_MUST_CHECK enum ctix_rc prov__sha256(const void *p, size_t n, unsigned char out[32]);

struct prov_key;
struct prov_pubkey;

#define PROV__HEAD_SIG_TEXT 89 /* base64 of 64 bytes, padded, and a NUL */

/* Signs an audit log's head (seq, hash of entry seq) with the node key: Ed25519 over
 * "ctix/audit-head/v1\n" || u64be(seq) || hash, base64 (padded) into sig. */
CTIX_MUST_CHECK enum ctix_rc prov__audit_head_sign(const struct prov_key *k, uint64_t seq,
                                                   const unsigned char hash[32],
                                                   char sig[PROV__HEAD_SIG_TEXT]);
/* CTIX_OK when sig is pk's signature of that head, CTIX_EDENIED when not (or not base64),
 * CTIX_ENOMEM. */
CTIX_MUST_CHECK enum ctix_rc prov__audit_head_verify(const struct prov_pubkey *pk, uint64_t seq,
                                                     const unsigned char hash[32], const char *sig);

struct prov_audit_entry;

/* One line of audit.log (without its newline) into e, whose object list is reused (call
 * prov_audit_entry_cleanup once done). CTIX_EINVAL with diag when it is not an entry. The log is
 * read back on open and by `ctix audit verify`: a file anyone may have edited (audit_fuzz.c). */
CTIX_MUST_CHECK enum ctix_rc
prov__audit_line_parse(const char *p, size_t n, struct prov_audit_entry *e, struct ctix_diag *diag);

#endif
