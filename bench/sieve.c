/* The scan sieve alone (src/scan/sieve.c): of the lines of a log, how many it lets through to
 * their reader, and its time per line, by section (JSON lines, Zeek TSV, other), with the index
 * of a bundle's indicators.
 *
 *   make bench && [REPEAT=N] build/bench/sieve BUNDLE.json LOG [SHOW]
 * SHOW: print that many of the lines let through (to look at why). REPEAT: sieve the log N times
 * (the figures are per line sieved). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan/scan.h"
#include "scan/scan_int.h"
#include "scan/sieve.h"

static enum ctix_rc add_one(void *arg, const struct scan_ind_in *in)
{
    struct ctix_diag d;
    enum ctix_rc rc = scan_index_add(arg, in, &d);

    return rc == CTIX_EINVAL ? CTIX_OK : rc;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct scan_index *ix = scan_index_new();
    struct scan_load_stats ls;
    struct ctix_diag d;
    const struct scan_sieve *sv;
    FILE *f;
    char *buf;
    size_t len = 0, cap = (size_t)1 << 30, show = 0;
    int repeat = 1;
    static const char *const sec[3] = {"json", "zeek", "other"};
    size_t lines[3] = {0}, pass[3] = {0};
    double t[3] = {0};
    struct scan_sieve_batch b;

    if (argc < 3) {
        fprintf(stderr, "usage: %s BUNDLE.json LOG [SHOW]\n", argv[0]);
        return 2;
    }
    if (argc > 3)
        show = (size_t)strtoul(argv[3], NULL, 10);
    if (getenv("REPEAT") != NULL)
        repeat = atoi(getenv("REPEAT"));
    ctix_diag_clear(&d);
    if (ix == NULL || scan_load_bundle(argv[1], add_one, ix, &ls, &d) != CTIX_OK) {
        fprintf(stderr, "index: %s\n", d.msg);
        return 1;
    }
    {
        double t0 = now_s();
        struct scan_index_stats st;

        if (scan_index_finish(ix) != CTIX_OK)
            return 1;
        scan_index_stats(ix, &st);
        printf("index finished (with the sieve) in %.2f s, %.1f MB held\n", now_s() - t0,
               (double)st.mem / 1e6);
    }
    sv = scan_index_sieve(ix);
    if (sv == NULL) {
        fprintf(stderr, "this index has no sieve\n");
        return 1;
    }
    buf = malloc(cap + SCAN_SIEVE_PAD);
    f = fopen(argv[2], "rb");
    if (buf == NULL || f == NULL)
        return 1;
    len = fread(buf, 1, cap, f);
    fclose(f);
    memset(buf + len, 0, SCAN_SIEVE_PAD);
    if (!scan_sieve_batch_init(&b))
        return 1;
    /* batches of lines as a worker sieves them, counted by the section of their first line (the
     * whole log REPEAT times, for profiles) */
    for (char *p = buf, *end = buf + len; p < end || --repeat > 0;) {
        if (p >= end)
            p = buf;
        size_t rest = (size_t)(end - p);
        int k = p[0] == '{' ? 0 : memchr(p, '\t', rest < 512 ? rest : 512) != NULL ? 1 : 2;
        double t0 = now_s();

        p += scan_sieve_block(sv, &b, p, rest);
        t[k] += now_s() - t0;
        lines[k] += b.k;
        pass[k] += (size_t)__builtin_popcountll(b.maybe);
        for (unsigned i = 0; i < b.k && show > 0; i++) {
            if (b.maybe >> i & 1) {
                printf("%.*s\n", (int)b.n[i], b.p[i]);
                show--;
            }
        }
    }
    scan_sieve_batch_cleanup(&b);
    for (int k = 0; k < 3; k++) {
        if (lines[k] == 0)
            continue;
        printf("%-5s %9zu lines, %7zu let through (%.2f%%), %.0f ns/line \n", sec[k], lines[k],
               pass[k], 100.0 * (double)pass[k] / (double)lines[k], t[k] / (double)lines[k] * 1e9);
    }
    free(buf);
    scan_index_free(ix);
    return 0;
}
