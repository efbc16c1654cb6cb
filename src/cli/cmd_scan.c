/* `ctix scan`: match logs against every indicator of a collection (or a bundle file) and report
 * the hits as JSON lines and, on request, as STIX sightings — written to a bundle file and/or
 * stored in a collection of the node, signed, so that federation carries them back to the
 * indicators' producers.
 *
 * Exit codes: 0 the scan ran over everything; 1 it could not run (no indicators, unwritable
 * output); 2 usage; 3 it ran, but some input was skipped (a file missing or unreadable, a
 * truncated stream, lines that are not records of the format) — each named on stderr with its
 * file and line. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scan/scan.h"
#include "scan/scan_cache.h"
#include "scan/scan_int.h"

#define SCAN_EXIT_PARTIAL 3

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},       {"collection", CLI_OPT_VALUE}, {"indicators", CLI_OPT_LIST},
    {"format", CLI_OPT_VALUE},     {"out", CLI_OPT_VALUE},        {"sightings", CLI_OPT_VALUE},
    {"report-to", CLI_OPT_VALUE},  {"threads", CLI_OPT_VALUE},    {"tlp", CLI_OPT_VALUE},
    {"identity", CLI_OPT_VALUE},   {"quiet", CLI_OPT_FLAG},       {"progress", CLI_OPT_FLAG},
    {"no-progress", CLI_OPT_FLAG}, {"valid-at", CLI_OPT_VALUE},   {"no-cache", CLI_OPT_FLAG},
};

/* TLP 2.0 marking definitions for what the scan makes (a sighting tells where something was seen:
 * AMBER by default). */
static const struct {
    const char *name, *id;
} tlps[] = {
    {"clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
    {"green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
    {"amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
    {"amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
    {"red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
};

/* Where the indicators come from, for scan_index_build's reader thread. */
struct load_ctx {
    struct store *st;
    const char *coll;   /* or */
    const char *bundle; /* one file */
    struct scan_load_stats stats;
    size_t n_bad_reported;
};

static enum ctix_rc load_src(void *ctx, scan_ind_fn fn, void *arg, struct ctix_diag *diag)
{
    struct load_ctx *lc = ctx;

    if (lc->coll != NULL)
        return scan_load_store(lc->st, lc->coll, fn, arg, &lc->stats, diag);
    return scan_load_bundle(lc->bundle, fn, arg, &lc->stats, diag);
}

/* A bad pattern is that indicator's problem, not the scan's: say so and go on. */
static void bad_pattern(void *arg, const struct scan_ind_in *in, const struct ctix_diag *d)
{
    struct load_ctx *lc = arg;

    if (lc->n_bad_reported++ < 10)
        cli_error_file(lc->coll != NULL ? lc->coll : lc->bundle, 0, 0,
                       "%.*s: pattern does not parse: %s", (int)in->id_len, in->id, d->msg);
}

static double secs_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The sightings as a bundle's text (malloc), NULL on ENOMEM. */
static char *sightings_text(const struct scan_result *res, const char *identity, const char *tlp,
                            size_t *len)
{
    struct scan_sight_opts so;
    json_t *objs, *bundle;
    char id[64], uuid[37], *text = NULL;

    so.identity_name = identity;
    so.now_ms = ctix_now_us() / 1000;
    so.marking_ref = tlp;
    objs = scan_sightings(res->sights, res->n_sights, &so);
    if (objs == NULL)
        return NULL;
    if (ctix_uuid4(uuid) != CTIX_OK) {
        json_decref(objs);
        return NULL;
    }
    snprintf(id, sizeof(id), "bundle--%s", uuid);
    bundle = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", id, "objects", objs);
    if (bundle != NULL) {
        text = json_dumps(bundle, JSON_COMPACT);
        *len = text != NULL ? strlen(text) : 0;
    }
    json_decref(bundle);
    return text;
}

int cmd_scan(int argc, char **argv)
{
    struct cli_args a;
    struct store *st = NULL;
    struct scan_index *ix = NULL;
    struct scan_cache *sc = NULL;
    struct scan_result res;
    struct scan_opts so;
    struct scan_load_stats ls;
    struct scan_index_stats is;
    struct load_ctx lc;
    struct ctix_diag d;
    struct timespec t0;
    const char *const *bundles = NULL;
    const char *dir, *coll, *fmt_name, *outp, *sightp, *report, *tlp = NULL, *identity;
    char err[256], org[STORE_NAME_MAX];
    size_t n_bundles;
    FILE *out = NULL;
    char *stext = NULL;
    size_t slen = 0;
    enum scan_fmt fmt = SCAN_FMT_AUTO;
    enum ctix_rc rc;
    int ret = CLI_EXIT_USAGE;
    bool quiet;

    memset(&res, 0, sizeof(res));
    memset(&ls, 0, sizeof(ls));
    if (cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, err, sizeof(err)) != CTIX_OK) {
        ret = cli_usage_error("scan", "%s", err);
        goto out;
    }
    dir = cli_data_dir(&a);
    coll = cli_args_get(&a, "collection");
    n_bundles = cli_args_list(&a, "indicators", &bundles);
    fmt_name = cli_args_get(&a, "format");
    outp = cli_args_get(&a, "out");
    sightp = cli_args_get(&a, "sightings");
    report = cli_args_get(&a, "report-to");
    identity = cli_args_get(&a, "identity");
    quiet = cli_args_has(&a, "quiet");
    if (coll == NULL && n_bundles == 0) {
        ret = cli_usage_error("scan", "missing --collection ID (with --data DIR) or --indicators "
                                      "BUNDLE.json");
        goto out;
    }
    if ((coll != NULL || report != NULL) && dir == NULL) {
        ret = cli_usage_error("scan", "missing --data DIR");
        goto out;
    }
    if (a.n_pos == 0) {
        ret = cli_usage_error("scan", "missing FILE (\"-\" reads standard input)");
        goto out;
    }
    if (fmt_name != NULL && !scan_fmt_parse(fmt_name, &fmt)) {
        ret = cli_usage_error("scan",
                              "unknown --format '%s' (auto, plain, jsonl, zeek, csv, squid, "
                              "combined, syslog)",
                              fmt_name);
        goto out;
    }
    memset(&so, 0, sizeof(so));
    so.valid_at_ms = SCAN_TIME_NONE;
    if (cli_args_get(&a, "valid-at") != NULL) {
        const char *v = cli_args_get(&a, "valid-at");
        struct ctix_ts ts;

        if (strcmp(v, "now") == 0) {
            so.valid_at_ms = ctix_now_us() / 1000;
        } else if (ctix_ts_parse(v, strlen(v), &ts) == CTIX_OK) {
            so.valid_at_ms = ctix_ts_to_us(&ts) / 1000;
        } else {
            ret = cli_usage_error("scan",
                                  "--valid-at takes \"now\" or a timestamp "
                                  "(2024-05-06T12:00:00Z), not '%s'",
                                  v);
            goto out;
        }
    }
    {
        long nproc = sysconf(_SC_NPROCESSORS_ONLN);

        so.threads = nproc >= 1 && nproc <= 64 ? (unsigned)nproc : 2;
    }
    if (cli_args_get(&a, "threads") != NULL) {
        uint64_t v;

        if (!ctix_parse_u64(cli_args_get(&a, "threads"), 64, &v) || v < 1) {
            ret = cli_usage_error("scan", "--threads takes a number from 1 to 64");
            goto out;
        }
        so.threads = (unsigned)v;
    }
    {
        const char *t = cli_args_get(&a, "tlp");

        tlp = tlps[2].id;
        if (t != NULL) {
            tlp = NULL;
            for (size_t i = 0; i < CTIX_ARRAY_LEN(tlps); i++) {
                if (strcmp(t, tlps[i].name) == 0)
                    tlp = tlps[i].id;
            }
            if (tlp == NULL) {
                ret = cli_usage_error("scan",
                                      "unknown --tlp '%s' (clear, green, amber, "
                                      "amber+strict, red)",
                                      t);
                goto out;
            }
        }
    }
    ret = CLI_EXIT_FAIL;
    if (dir != NULL && (coll != NULL || report != NULL)) {
        ret = cli_store_open("scan", dir, &st);
        if (ret != CLI_EXIT_OK)
            goto out;
        ret = CLI_EXIT_FAIL;
    }
    if (identity == NULL && st != NULL &&
        store_meta_get(st, "node_org", org, sizeof(org)) == CTIX_OK)
        identity = org;
    if (identity == NULL)
        identity = "ctix scan";

    /* ---- the index ---- */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&lc, 0, sizeof(lc));
    lc.st = st;
    ctix_diag_clear(&d);
    if (coll != NULL && !cli_args_has(&a, "no-cache")) {
        /* Through the scan cache: the index from a compact copy kept current by the store's
         * change log, instead of every indicator's JSON read out of the database. */
        lc.coll = coll;
        rc = scan_cache_new(st, dir, coll, &sc, &d);
        if (rc == CTIX_OK)
            rc = scan_cache_index_build(sc, bad_pattern, &lc, &ix, &d);
        if (rc != CTIX_OK) {
            cli_error("scan", "collection %s: %s", coll, d.msg[0] ? d.msg : ctix_strerror(rc));
            goto out;
        }
        ls = *scan_cache_stats(sc);
    }
    if (ix == NULL && (ix = scan_index_new()) == NULL) {
        cli_error("scan", "out of memory");
        goto out;
    }
    if (coll != NULL && sc == NULL) {
        lc.coll = coll;
        rc = scan_index_build(ix, load_src, &lc, bad_pattern, &lc, &d);
        if (rc != CTIX_OK) {
            cli_error("scan", "collection %s: %s", coll, d.msg[0] ? d.msg : ctix_strerror(rc));
            goto out;
        }
        ls = lc.stats;
    }
    for (size_t i = 0; i < n_bundles; i++) {
        lc.coll = NULL;
        lc.bundle = bundles[i];
        memset(&lc.stats, 0, sizeof(lc.stats));
        ctix_diag_clear(&d);
        rc = scan_index_build(ix, load_src, &lc, bad_pattern, &lc, &d);
        if (rc != CTIX_OK) {
            cli_error_file(bundles[i], d.line, d.col, "%s", d.msg[0] ? d.msg : ctix_strerror(rc));
            goto out;
        }
        ls.n_objects += lc.stats.n_objects;
        ls.n_indicators += lc.stats.n_indicators;
        ls.n_skipped += lc.stats.n_skipped;
    }
    if ((rc = scan_index_finish(ix)) != CTIX_OK) {
        cli_error("scan", "cannot build the index: %s", ctix_strerror(rc));
        goto out;
    }
    scan_index_stats(ix, &is);
    if (!quiet)
        fprintf(stderr,
                "ctix scan: index: %zu indicators (%zu evaluated on prefilter hits; %zu bad "
                "patterns, %zu revoked, %zu superseded, %zu on nothing a log shows, %zu other "
                "pattern types) in %.2f s, %.1f MB\n",
                is.n_live, is.n_eval, is.n_bad, is.n_revoked, is.n_versions, is.n_unscannable,
                ls.n_skipped, secs_since(&t0), (double)is.mem / 1e6);
    if (sc != NULL) {
        const struct scan_cache_info *ci = scan_cache_info(sc);

        if (ci->warning[0] != '\0')
            cli_error("scan", "warning: %s; the index was built from the store", ci->warning);
        if (!quiet && ci->how == SCAN_CACHE_CURRENT)
            fprintf(stderr, "ctix scan: indicators: scan cache current (%s)\n", ci->path);
        else if (!quiet && ci->how == SCAN_CACHE_UPDATED)
            fprintf(stderr,
                    "ctix scan: indicators: scan cache + %zu changed objects from the store; "
                    "cache %s (%s)\n",
                    ci->n_changes, ci->written ? "rewritten" : "kept until more change", ci->path);
        else if (!quiet)
            fprintf(stderr, "ctix scan: indicators: read from the store (%s); cache %s (%s)\n",
                    ci->why, ci->written ? "written" : "not written", ci->path);
    } else if (!quiet && coll != NULL) {
        fprintf(stderr, "ctix scan: indicators: read from the store (--no-cache)\n");
    }
    if (is.n_live == 0)
        cli_error("scan", "no indicator can match: the scan reports nothing");

    /* ---- the scan ---- */
    if (outp != NULL && strcmp(outp, "-") != 0) {
        out = fopen(outp, "w");
        if (out == NULL) {
            cli_error_file(outp, 0, 0, "cannot create: %s", strerror(errno));
            goto out;
        }
    }
    so.fmt = (int)fmt;
    so.out = out != NULL ? out : stdout;
    so.progress = !cli_args_has(&a, "no-progress") &&
                  (cli_args_has(&a, "progress") || isatty(STDERR_FILENO) == 1);
    so.sightings = sightp != NULL || report != NULL;
    so.now_ms = ctix_now_us() / 1000;
    rc = scan_run(ix, &so, a.pos, a.n_pos, &res);
    if (rc != CTIX_OK) {
        cli_error("scan", "%s", rc == CTIX_EIO ? "cannot write the hits" : ctix_strerror(rc));
        goto out;
    }
    if (!quiet) {
        double s = (double)res.tot.elapsed_ms / 1000.0;

        fprintf(stderr,
                "ctix scan: %llu files, %llu lines, %.1f MB in %.2f s (%.0f MB/s; workers' CPU "
                "%.2f s, %.0f MB/s of CPU); %llu hits on %llu indicators; %llu lines skipped\n",
                (unsigned long long)res.tot.files, (unsigned long long)res.tot.lines,
                (double)res.tot.bytes / 1e6, s, s > 0 ? (double)res.tot.bytes / 1e6 / s : 0.0,
                (double)res.tot.worker_cpu_us / 1e6,
                res.tot.worker_cpu_us > 0 ? (double)res.tot.bytes / (double)res.tot.worker_cpu_us
                                          : 0.0,
                (unsigned long long)res.tot.hits, (unsigned long long)res.tot.indicators_hit,
                (unsigned long long)res.tot.bad_lines);
    }

    /* ---- sightings ---- */
    if (so.sightings && res.n_sights > 0) {
        stext = sightings_text(&res, identity, tlp, &slen);
        if (stext == NULL) {
            cli_error("scan", "out of memory");
            goto out;
        }
        if (sightp != NULL) {
            FILE *f = fopen(sightp, "w");

            if (f == NULL || fwrite(stext, 1, slen, f) != slen || fputc('\n', f) == EOF) {
                cli_error_file(sightp, 0, 0, "cannot write: %s", strerror(errno));
                if (f != NULL)
                    fclose(f);
                goto out;
            }
            if (fclose(f) != 0) {
                cli_error_file(sightp, 0, 0, "cannot write: %s", strerror(errno));
                goto out;
            }
        }
        if (report != NULL &&
            cli_import_text("scan", dir, st, report, "sightings", stext, slen) != CLI_EXIT_OK)
            goto out;
    } else if (sightp != NULL) {
        /* No hits: an empty bundle, so that a pipeline reading the file finds one. */
        FILE *f = fopen(sightp, "w");

        if (f == NULL || fputs("{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-"
                               "000000000000\",\"objects\":[]}\n",
                               f) == EOF) {
            cli_error_file(sightp, 0, 0, "cannot write: %s", strerror(errno));
            if (f != NULL)
                fclose(f);
            goto out;
        }
        fclose(f);
    }
    ret = res.tot.inputs_skipped > 0 ? SCAN_EXIT_PARTIAL : CLI_EXIT_OK;
out:
    if (out != NULL && fclose(out) != 0 && ret == CLI_EXIT_OK) {
        cli_error_file(outp, 0, 0, "cannot write: %s", strerror(errno));
        ret = CLI_EXIT_FAIL;
    }
    free(stext);
    scan_result_cleanup(&res);
    scan_index_free(ix);
    scan_cache_free(sc);
    store_close(st);
    cli_args_cleanup(&a);
    return ret;
}
