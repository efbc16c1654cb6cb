/* Fuzz target: the scan cache reader (scan__cache_read) on arbitrary file contents. The first
 * input byte picks a mode: even — the rest is the file as it is (header and chunk checks see
 * garbage); odd — the harness first makes the rest look intact, writing the real file length
 * into the header and the right checksums into the header and every chunk it can walk, so that
 * the record decoder behind them is reached with hostile lengths and flags. Every record handed
 * over must have NUL-terminated strings of the lengths given, an id, and a pattern unless
 * skipped; any violation aborts, and ASan catches a read outside the buffer. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scan/scan_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mfd = -1;
static unsigned char *copy;
static size_t copy_cap;
static volatile unsigned sink;

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads every byte of s[0..n] (the NUL included) so that ASan sees any overrun. */
static void touch(const char *s, size_t n)
{
    unsigned acc = 0;

    if (s == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        acc += (unsigned char)s[i];
    if (s[n] != '\0')
        abort();
    sink += acc;
}

static enum ctix_rc on_ind(void *arg, const struct scan_ind_in *in)
{
    (void)arg;
    if (in->id == NULL || in->id_len == 0 || in->pattern == NULL)
        abort();
    touch(in->id, in->id_len);
    touch(in->pattern, in->pattern_len);
    if (in->name != NULL)
        touch(in->name, in->name_len);
    else if (in->name_len != 0)
        abort();
    if (in->created_by_ref != NULL)
        touch(in->created_by_ref, in->created_by_ref_len);
    else if (in->created_by_ref_len != 0)
        abort();
    return CTIX_OK;
}

static enum ctix_rc on_skip(void *arg, const char *id)
{
    (void)arg;
    if (id == NULL)
        abort();
    touch(id, strlen(id));
    return CTIX_OK;
}

/* Makes p[0..n) pass the length and checksum checks (see the file layout in cache.c). */
static void make_intact(unsigned char *p, size_t n)
{
    size_t off = SCAN_CACHE_HDR_LEN;

    if (n < SCAN_CACHE_HDR_LEN)
        return;
    put64(p + 112, n);
    put64(p + 120, scan__cache_hash(0, p, 120));
    while (n - off >= SCAN_CACHE_CHUNK_HDR) {
        uint32_t len = get32(p + off), cnt = get32(p + off + 4);

        if (len > n - off - SCAN_CACHE_CHUNK_HDR)
            break;
        put64(p + off + 8,
              scan__cache_hash(((uint64_t)len << 32) | cnt, p + off + SCAN_CACHE_CHUNK_HDR, len));
        off += SCAN_CACHE_CHUNK_HDR + len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctix_diag d;
    char epoch[33];
    int64_t seq = 0;
    size_t n;

    if (size == 0)
        return 0;
    n = size - 1;
    if (mfd < 0) {
        mfd = memfd_create("scan-cache-fuzz", MFD_CLOEXEC);
        if (mfd < 0)
            abort();
    }
    if (n > copy_cap) {
        unsigned char *nc = realloc(copy, n);

        if (nc == NULL)
            return 0;
        copy = nc;
        copy_cap = n;
    }
    if (n > 0)
        memcpy(copy, data + 1, n);
    if ((data[0] & 1) != 0)
        make_intact(copy, n);
    if (ftruncate(mfd, 0) != 0 || (n > 0 && pwrite(mfd, copy, n, 0) != (ssize_t)n) ||
        lseek(mfd, 0, SEEK_SET) != 0)
        abort();
    ctix_diag_clear(&d);
    /* A file read to the end has a sane point; a refused one says why. */
    if (scan__cache_read(mfd, "fuzz.cache", NULL, on_ind, on_skip, NULL, epoch, &seq, &d) ==
        CTIX_OK) {
        if (seq < 0 || memchr(epoch, '\0', sizeof(epoch)) == NULL)
            abort();
    } else if (d.msg[0] == '\0') {
        abort();
    }
    return 0;
}
