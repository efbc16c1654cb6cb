/* Replays fuzz inputs through a target's LLVMFuzzerTestOneInput() without libFuzzer, so that
 * `make test` (gcc, optionally with sanitizers) checks every corpus and regression file: a crash
 * that was fixed once stays fixed. Arguments are files or directories (read one level deep). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned *n)
{
    struct ctix_diag diag;
    char *data = NULL;
    size_t len = 0;

    if (ctix_file_read(path, 64u << 20, &data, &len, &diag) != CTIX_OK) {
        fprintf(stderr, "%s: %s\n", path, diag.msg);
        return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    free(data);
    (*n)++;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned n = 0;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        struct stat sb;
        DIR *d;
        struct dirent *e;

        if (stat(argv[i], &sb) != 0)
            continue; /* a target may have no regress/ folder yet */
        if (!S_ISDIR(sb.st_mode)) {
            rc |= run_file(argv[i], &n);
            continue;
        }
        d = opendir(argv[i]);
        if (d == NULL)
            continue;
        while ((e = readdir(d)) != NULL) {
            char path[4096];

            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            rc |= run_file(path, &n);
        }
        closedir(d);
    }
    printf("fuzzcheck: %u inputs replayed\n", n);
    return rc;
}
