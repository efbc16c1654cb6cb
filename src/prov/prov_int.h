/* prov: what sign.c and audit.c share, never included from outside src/prov/. */
#ifndef CTIX_PROV_INT_H
#define CTIX_PROV_INT_H

#include <stddef.h>

#include "base/base.h"

/* SHA-256 of p[0..n) into out. CTIX_ENOMEM when OpenSSL cannot allocate. */
CTIX_MUST_CHECK enum ctix_rc prov__sha256(const void *p, size_t n, unsigned char out[32]);

#endif
