/* What the sub-commands share: the error printers (the one place that formats an error for a
 * person), the usage line, the data directory and the store. */
#include "cli/cli.h"
#include "prov/prov.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_text;

static void verror(const char *prefix, const char *fmt, va_list ap)
{
    char msg[1024], line[5400];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    snprintf(line, sizeof(line), "%s%s\n", prefix, msg);
    /* stdout first, so that results and errors keep their order on a shared terminal; then one
     * fputs on unbuffered stderr, so the line does not interleave with log lines of threads. */
    fflush(stdout);
    fputs(line, stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    char prefix[128];
    va_list ap;

    snprintf(prefix, sizeof(prefix), "ctix%s%s: ", cmd != NULL ? " " : "", cmd != NULL ? cmd : "");
    va_start(ap, fmt);
    verror(prefix, fmt, ap);
    va_end(ap);
}

void cli_error_file(const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
    char prefix[4200];
    va_list ap;

    if (line > 0 && col > 0)
        snprintf(prefix, sizeof(prefix), "%s:%u:%u: ", file, line, col);
    else if (line > 0)
        snprintf(prefix, sizeof(prefix), "%s:%u: ", file, line);
    else
        snprintf(prefix, sizeof(prefix), "%s: ", file);
    va_start(ap, fmt);
    verror(prefix, fmt, ap);
    va_end(ap);
}

void cli_usage_set(const char *usage)
{
    usage_text = usage;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char prefix[128];
    va_list ap;

    snprintf(prefix, sizeof(prefix), "ctix %s: ", cmd);
    va_start(ap, fmt);
    verror(prefix, fmt, ap);
    va_end(ap);
    if (usage_text != NULL)
        fprintf(stderr, "usage: %s\n", usage_text);
    fprintf(stderr, "Try 'ctix help %s' for more.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_subcommand_begin(const char *cmd, const char *const *subs, const struct cli_opt *opts,
                         size_t n_opts, int argc, char **argv, struct cli_args *a, const char **dir)
{
    char names[128] = "", err[256];
    int n = 0, which = -1;

    memset(a, 0, sizeof(*a));
    while (subs[n] != NULL)
        n++;
    /* "add or list", "add, list or revoke" */
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names);

        snprintf(names + len, sizeof(names) - len, "%s%s",
                 i == 0       ? ""
                 : i == n - 1 ? " or "
                              : ", ",
                 subs[i]);
    }
    if (argc < 2) {
        cli_usage_error(cmd, "missing sub-command (%s)", names);
        return -1;
    }
    for (int i = 0; i < n && which < 0; i++) {
        if (strcmp(argv[1], subs[i]) == 0)
            which = i;
    }
    if (which < 0) {
        cli_usage_error(cmd, "unknown sub-command '%s' (%s)", argv[1], names);
        return -1;
    }
    if (cli_args_parse(opts, n_opts, argc - 1, argv + 1, a, err, sizeof(err)) != CTIX_OK) {
        cli_usage_error(cmd, "%s", err);
        return -1;
    }
    *dir = cli_data_dir(a);
    if (*dir == NULL) {
        cli_usage_error(cmd, "missing --data DIR");
        return -1;
    }
    return which;
}

const char *cli_data_dir(const struct cli_args *a)
{
    const char *d = cli_args_get(a, "data");

    if (d == NULL || d[0] == '\0')
        d = getenv("CTIX_DATA");
    return d != NULL && d[0] != '\0' ? d : NULL;
}

int cli_store_open(const char *cmd, const char *dir, struct store **out)
{
    struct ctix_diag d;
    enum ctix_rc rc;

    ctix_diag_clear(&d);
    rc = store_open(dir, false, out, &d);
    if (rc == CTIX_OK)
        return CLI_EXIT_OK;
    if (rc == CTIX_ENOTFOUND)
        cli_error(cmd, "%s is not a ctix data directory (create one with 'ctix init')", dir);
    else
        cli_error(cmd, "cannot open the store in %s: %s", dir,
                  d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
    return CLI_EXIT_FAIL;
}

bool cli_name_valid(const char *s)
{
    size_t n = 0;

    for (; s != NULL && s[n] != '\0'; n++) {
        unsigned char c = (unsigned char)s[n];

        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return n > 0 && n < STORE_NAME_MAX;
}

void cli_time_format(int64_t us, char out[21])
{
    char full[28];

    ctix_ts_format_us(us, full);
    memcpy(out, full, 19);
    out[19] = 'Z';
    out[20] = '\0';
}

int cli_node_key_create(const char *cmd, const char *dir, bool keep)
{
    struct prov_key *k = NULL;
    struct prov_audit_log *log = NULL;
    struct ctix_diag d;
    char text[PROV_PUBKEY_TEXT];
    enum ctix_rc rc = CTIX_ENOTFOUND;
    int ret = CLI_EXIT_FAIL;

    ctix_diag_clear(&d);
    if (keep)
        rc = prov_key_load(dir, &k, &d);
    if (rc == CTIX_ENOTFOUND) {
        ctix_diag_clear(&d);
        rc = prov_key_generate(&k);
        if (rc == CTIX_OK)
            rc = prov_key_save(k, dir, &d);
    }
    if (rc == CTIX_ECONFLICT) {
        cli_error(cmd, "%s already has a node key: a key is the node's identity, never replaced",
                  dir);
        goto out;
    }
    if (rc != CTIX_OK) {
        cli_error(cmd, "cannot create the node key in %s: %s", dir,
                  d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    /* Nodes that predate keys predate the audit log too. */
    rc = prov_audit_open(dir, &log, &d);
    if (rc != CTIX_OK) {
        cli_error(cmd, "cannot create the audit log in %s: %s", dir,
                  d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    prov_pubkey_format(prov_key_public(k), text);
    printf("pubkey: %s\n", text);
    ret = CLI_EXIT_OK;
out:
    prov_audit_close(log);
    prov_key_free(k);
    return ret;
}
