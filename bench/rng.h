/* The benchmarks' deterministic generator (splitmix64): the same seed always gives the same
 * workload. Header-only, for the bench/ programs. */
#ifndef CTIX_BENCH_RNG_H
#define CTIX_BENCH_RNG_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"

struct rng {
    uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline unsigned rng_below(struct rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

/* A random (version 4) UUID. */
static inline void rng_uuid4(struct rng *r, char out[37])
{
    unsigned char b[16];
    uint64_t a = rng_next(r);
    uint64_t c = rng_next(r);

    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    ctix_uuid_format(b, out);
}

/* A lowercase word of min_len to min_len + 7 letters (cut to fit n bytes with its NUL). */
static inline void rng_word(struct rng *r, char *out, size_t n, size_t min_len)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
    size_t len = min_len + rng_below(r, 8);

    if (len >= n)
        len = n - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = letters[rng_below(r, 26)];
    out[len] = '\0';
}

#endif
