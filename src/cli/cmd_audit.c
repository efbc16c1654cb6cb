/* `ctix audit [verify]`: what provenance and policy recorded. Without a sub-command: the
 * quarantined object versions (bad signature or unknown publisher: kept for inspection, never
 * served onward) and the last entries of the audit log; `verify` checks the log's hash chain. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prov/prov.h"
#include "stix/stix.h"

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
    {"last", CLI_OPT_VALUE},
};

#define AUDIT_LAST_DEFAULT 20
#define AUDIT_LAST_MAX     100000
#define AUDIT_FILE_MAX     ((size_t)1 << 31)

struct quarantine_ctx {
    struct store *st;
    const char *coll_id;
    size_t n;
    int64_t last_us;
    size_t rows;
};

static enum ctix_rc quarantine_row(void *ctx, const struct store_row *row)
{
    struct quarantine_ctx *q = ctx;
    struct store_peer p;

    q->last_us = row->date_added_us;
    q->rows++;
    if (q->n == 0)
        printf("%-60s %-26s %-36s %s\n", "ID", "VERSION", "COLLECTION", "FROM PEER");
    q->n++;
    if (row->origin == 0 || store_peer_get_by_id(q->st, row->origin, &p) != CTIX_OK)
        snprintf(p.name, sizeof(p.name), row->origin == 0 ? "-" : "#%lld", (long long)row->origin);
    printf("%-60s %-26s %-36s %s\n", row->id, row->version, q->coll_id, p.name);
    memset(p.token, 0, sizeof(p.token));
    return CTIX_OK;
}

static int quarantine_list(struct store *st)
{
    struct store_collection *cs = NULL;
    struct quarantine_ctx q;
    size_t n = 0;
    enum ctix_rc rc;

    memset(&q, 0, sizeof(q));
    q.st = st;
    rc = store_collection_list(st, &cs, &n);
    for (size_t i = 0; i < n && rc == CTIX_OK; i++) {
        bool more = true;

        q.coll_id = cs[i].id;
        q.last_us = -1;
        while (more && rc == CTIX_OK) {
            struct store_query sq;

            memset(&sq, 0, sizeof(sq));
            sq.coll_id = cs[i].id;
            sq.added_after_us = q.last_us;
            sq.limit = 1000;
            sq.vsel = STORE_V_ALL;
            sq.prov_mask = 1u << STORE_PROV_QUARANTINED;
            q.rows = 0;
            rc = store_objs_query(st, &sq, quarantine_row, &q, &more);
            if (q.rows == 0)
                more = false;
        }
    }
    free(cs);
    if (rc != CTIX_OK) {
        cli_error("audit", "cannot list quarantined objects: %s", ctix_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    printf("%zu quarantined object versions\n", q.n);
    return CLI_EXIT_OK;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL && s[0] != '\0' ? s : "-";
}

/* The last `last` lines of DIR/audit.log, as a table. Lines are the log's own JSON; one that does
 * not parse is shown as such (`audit verify` says whether the chain holds). */
static int log_tail(const char *dir, size_t last)
{
    struct ctix_diag d;
    char path[4200], *text = NULL;
    size_t len = 0, n_lines = 0, start = 0;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    snprintf(path, sizeof(path), "%s/%s", dir, PROV_AUDIT_FILE);
    if (access(path, F_OK) != 0) {
        printf("no audit log (%s)\n", path);
        ret = CLI_EXIT_OK;
        goto out;
    }
    ctix_diag_clear(&d);
    rc = ctix_file_read(path, AUDIT_FILE_MAX, &text, &len, &d);
    if (rc != CTIX_OK) {
        cli_error("audit", "%s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < len; i++)
        n_lines += text[i] == '\n';
    /* Skip to the first of the last `last` lines. */
    for (size_t skip = n_lines > last ? n_lines - last : 0; skip > 0 && start < len; start++) {
        if (text[start] == '\n')
            skip--;
    }
    printf("last %zu of %zu audit entries:\n", n_lines - (n_lines > last ? n_lines - last : 0),
           n_lines);
    printf("%-7s %-27s %-12s %-8s %-10s %-20s %s\n", "SEQ", "TIME", "EVENT", "VERDICT", "CHANNEL",
           "ACTOR", "OBJECT VERSION REASON");
    while (start < len) {
        char *nl = memchr(text + start, '\n', len - start);
        size_t l = nl != NULL ? (size_t)(nl - (text + start)) : len - start;
        json_t *e = json_loadb(text + start, l, 0, NULL);

        json_t *objs = json_object_get(e, "objects");
        char what[STIX_ID_MAX + PROV_VERSION_MAX + 64];

        /* An entry for a whole response lists its objects: the count and the first one. */
        if (json_array_size(objs) > 0)
            snprintf(what, sizeof(what), "%zu objects (%s, ...)", json_array_size(objs),
                     json_string_value(json_array_get(objs, 0)) != NULL
                         ? json_string_value(json_array_get(objs, 0))
                         : "?");
        else
            snprintf(what, sizeof(what), "%s %s", jstr(e, "object_id"), jstr(e, "version"));
        if (e == NULL)
            printf("(unreadable line)\n");
        else
            printf("%-7lld %-27s %-12s %-8s %-10s %-20s %s %s\n",
                   (long long)json_integer_value(json_object_get(e, "seq")), jstr(e, "time"),
                   jstr(e, "event"), jstr(e, "verdict"), jstr(e, "channel"), jstr(e, "actor"), what,
                   jstr(e, "reason"));
        json_decref(e);
        start += l + 1;
    }
    ret = CLI_EXIT_OK;
out:
    free(text);
    return ret;
}

static int audit_verify(const char *dir)
{
    struct prov_audit_report rep;
    struct ctix_diag d;
    char hex[65];
    enum ctix_rc rc;

    memset(&rep, 0, sizeof(rep));
    ctix_diag_clear(&d);
    rc = prov_audit_file_verify(dir, &rep, &d);
    if (rc == CTIX_OK) {
        ctix_hex(rep.head.hash, sizeof(rep.head.hash), hex);
        printf("ok: %llu entries, head %s\n", (unsigned long long)rep.n_entries, hex);
        /* On standard error: the ok line stays what scripts compare. */
        if (!rep.signed_head)
            fprintf(stderr,
                    "no signed head (%s): the end of the log is not anchored; a node writes one "
                    "at its next sync\n",
                    PROV_AUDIT_HEAD);
        else if (rep.unanchored == 0)
            fprintf(stderr, "signed head at seq %llu: anchors the whole log\n",
                    (unsigned long long)rep.anchor.seq);
        else
            fprintf(stderr,
                    "signed head at seq %llu; %llu later entries not yet anchored (appended since "
                    "the last sync)\n",
                    (unsigned long long)rep.anchor.seq, (unsigned long long)rep.unanchored);
        return CLI_EXIT_OK;
    }
    if (rc == CTIX_ENOTFOUND)
        cli_error("audit", "no audit log in %s (removed? 'ctix init' creates one)", dir);
    else if (rc == CTIX_EINVAL)
        cli_error("audit", "broken: %s (%llu entries verified before it)",
                  d.msg[0] != '\0' ? d.msg : "the chain does not hold",
                  (unsigned long long)rep.n_entries);
    else
        cli_error("audit", "cannot verify the audit log: %s",
                  d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
    return CLI_EXIT_FAIL;
}

int cmd_audit(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    const char *dir, *last_s;
    char err[256];
    uint64_t last = AUDIT_LAST_DEFAULT;
    bool verify;
    int ret = CLI_EXIT_USAGE;

    if (cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, err, sizeof(err)) != CTIX_OK) {
        ret = cli_usage_error("audit", "%s", err);
        goto out;
    }
    dir = cli_data_dir(&a);
    last_s = cli_args_get(&a, "last");
    verify = a.n_pos == 1 && strcmp(a.pos[0], "verify") == 0;
    if (a.n_pos > 1 || (a.n_pos == 1 && !verify)) {
        ret = cli_usage_error("audit", "unknown sub-command '%s' (verify, or none)", a.pos[0]);
        goto out;
    }
    if (dir == NULL) {
        ret = cli_usage_error("audit", "missing --data DIR");
        goto out;
    }
    if (last_s != NULL && verify) {
        ret = cli_usage_error("audit", "audit verify takes no --last");
        goto out;
    }
    if (last_s != NULL && !ctix_parse_u64(last_s, AUDIT_LAST_MAX, &last)) {
        ret = cli_usage_error("audit", "--last: a number of entries from 0 to %d", AUDIT_LAST_MAX);
        goto out;
    }
    ret = cli_store_open("audit", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (verify)
        ret = audit_verify(dir);
    else if ((ret = quarantine_list(st)) == CLI_EXIT_OK)
        ret = log_tail(dir, (size_t)last);
out:
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
