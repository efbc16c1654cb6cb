/* `ctix pattern check|match|indicators`: the STIX patterning engine from the command line — is a
 * pattern valid (and where is it not), does it match a set of observations (as the OASIS
 * reference matcher is run: a pattern and bundles of observed-data), and which indicators of a
 * collection match them (through the match index, as the server and `ctix scan` use it).
 *
 * Exit codes follow grep: 0 valid / matched, 1 invalid / not matched, 2 an error (usage, file,
 * JSON, budget). */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"
#include "stix/stix.h"

#define OBS_FILE_MAX (1024u * 1024 * 1024) /* 1 GiB: each file is parsed in memory */
#define PATTERN_PAGE 1000                  /* indicators per store query */
#define PATTERN_CMD  "pattern"

static const char *const subs[] = {"check", "match", "indicators", NULL};

static const struct cli_opt opts[] = {
    {"syntax", CLI_OPT_FLAG},
    {"data", CLI_OPT_VALUE},
    {"collection", CLI_OPT_VALUE},
};

/* Prints "pattern:LINE:COL: message", then the offending line of text and a caret under the
 * column (col counts characters; a tab stays a tab so that the caret lines up). */
static void pattern_error_show(const char *text, size_t len, const struct ctix_diag *d)
{
    const char *p = text, *end = text + len, *eol;
    unsigned line = d->line > 0 ? d->line : 1;
    struct buf caret;

    cli_error_file("pattern", d->line, d->col, "%s",
                   d->msg[0] != '\0' ? d->msg : "invalid pattern");
    if (d->line == 0 || d->col == 0)
        return;
    for (unsigned l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        p = nl != NULL ? nl + 1 : end;
    }
    eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL)
        eol = end;
    if (eol > p && eol[-1] == '\r')
        eol--;
    buf_init(&caret, (size_t)(eol - p) + 2);
    /* One caret position per character: UTF-8 continuation bytes take no column. */
    for (const char *q = p; q < eol && caret.len + 1 < (size_t)d->col; q++) {
        unsigned char c = (unsigned char)*q;

        if ((c & 0xc0) == 0x80)
            continue;
        if (buf_append(&caret, c == '\t' ? "\t" : " ", 1) != CTIX_OK)
            break;
    }
    fprintf(stderr, "%.*s\n%.*s^\n", (int)(eol - p), p, (int)caret.len,
            caret.data != NULL ? caret.data : "");
    buf_cleanup(&caret);
}

/* The pattern argument: the text itself, or "-" for standard input. *text is malloc'd. */
static int pattern_arg_read(const char *arg, char **text, size_t *len)
{
    struct ctix_diag d;
    enum ctix_rc rc;

    ctix_diag_clear(&d);
    if (strcmp(arg, "-") != 0) {
        *len = strlen(arg);
        *text = malloc(*len + 1);
        if (*text == NULL) {
            cli_error(PATTERN_CMD, "out of memory");
            return CLI_EXIT_USAGE;
        }
        memcpy(*text, arg, *len + 1);
        return CLI_EXIT_OK;
    }
    /* One byte past the limit, so that the parser is the one to say the pattern is too long. */
    rc = ctix_file_read("/dev/stdin", PATTERN_MAX_LEN + 1, text, len, &d);
    if (rc == CTIX_ETOOBIG) {
        cli_error_file("pattern", 0, 0, "longer than %u bytes", PATTERN_MAX_LEN);
        return CLI_EXIT_FAIL;
    }
    if (rc != CTIX_OK) {
        cli_error(PATTERN_CMD, "cannot read standard input: %s", d.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Parses the pattern argument; on failure prints why and returns bad_code (or 2 for I/O). */
static int pattern_arg_parse(const char *arg, unsigned flags, int bad_code, struct pattern **out)
{
    struct ctix_diag d;
    char *text = NULL;
    size_t len = 0;
    enum ctix_rc rc;
    int ret;

    ret = pattern_arg_read(arg, &text, &len);
    if (ret != CLI_EXIT_OK) {
        if (ret == CLI_EXIT_FAIL)
            ret = bad_code;
        goto out;
    }
    ctix_diag_clear(&d);
    rc = pattern_parse(text, len, flags, out, &d);
    if (rc == CTIX_ENOMEM) {
        cli_error(PATTERN_CMD, "out of memory");
        ret = CLI_EXIT_USAGE;
    } else if (rc != CTIX_OK) {
        pattern_error_show(text, len, &d);
        ret = bad_code;
    }
out:
    free(text);
    return ret;
}

static int pattern_check(const struct cli_args *a)
{
    struct pattern *p = NULL;
    int ret;

    if (a->n_pos != 1)
        return cli_usage_error(PATTERN_CMD, a->n_pos == 0 ? "missing PATTERN (\"-\" reads standard "
                                                            "input)"
                                                          : "check takes one PATTERN");
    if (cli_args_has(a, "data") || cli_args_has(a, "collection"))
        return cli_usage_error(PATTERN_CMD, "check takes no --data or --collection");
    ret = pattern_arg_parse(a->pos[0], cli_args_has(a, "syntax") ? PATTERN_SYNTAX : PATTERN_STRICT,
                            CLI_EXIT_FAIL, &p);
    if (ret == CLI_EXIT_OK)
        printf("valid\n");
    pattern_free(p);
    return ret;
}

/* Reads the observation files into one set of observations. Prints the error and returns false
 * when a file cannot be read, is not a bundle or envelope, or its observed-data are malformed. */
static bool obs_load(const char *const *files, size_t n, struct pattern_obs **out)
{
    json_t *all = json_array();
    struct ctix_diag d;
    bool ok = false;

    if (all == NULL) {
        cli_error(PATTERN_CMD, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *file = files[i];
        json_t *objects = NULL;
        char *text = NULL;
        size_t len = 0;
        enum ctix_rc rc;

        ctix_diag_clear(&d);
        rc = ctix_file_read(strcmp(file, "-") == 0 ? "/dev/stdin" : file, OBS_FILE_MAX, &text, &len,
                            &d);
        if (rc != CTIX_OK) {
            cli_error_file(file, 0, 0, "%s", rc == CTIX_ETOOBIG ? "larger than 1 GiB" : d.msg);
            goto out;
        }
        rc = stix_container_parse(text, len, &objects, &d);
        free(text);
        if (rc != CTIX_OK) {
            cli_error_file(file, d.line, d.col, "%s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
            goto out;
        }
        rc = json_array_extend(all, objects) == 0 ? CTIX_OK : CTIX_ENOMEM;
        json_decref(objects);
        if (rc != CTIX_OK) {
            cli_error(PATTERN_CMD, "out of memory");
            goto out;
        }
    }
    ctix_diag_clear(&d);
    if (pattern_obs_new(all, out, &d) != CTIX_OK) {
        cli_error(PATTERN_CMD, "%s%s%s", d.where, d.where[0] != '\0' ? ": " : "",
                  d.msg[0] != '\0' ? d.msg : "cannot build the observations");
        goto out;
    }
    ok = true;
out:
    json_decref(all);
    return ok;
}

static int pattern_match(const struct cli_args *a)
{
    struct pattern *p = NULL;
    struct pattern_obs *o = NULL;
    struct pattern_result res;
    struct ctix_diag d;
    enum ctix_rc rc;
    int ret;

    memset(&res, 0, sizeof(res));
    if (a->n_pos < 2) {
        ret = cli_usage_error(PATTERN_CMD, a->n_pos == 0 ? "missing PATTERN and OBSERVED.json"
                                                         : "missing OBSERVED.json");
        goto out;
    }
    if (cli_args_has(a, "data") || cli_args_has(a, "collection") || cli_args_has(a, "syntax")) {
        ret = cli_usage_error(PATTERN_CMD, "match takes no options");
        goto out;
    }
    /* The reference matcher's test data use custom object types freely: only the grammar. */
    ret = pattern_arg_parse(a->pos[0], PATTERN_SYNTAX, CLI_EXIT_USAGE, &p);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = CLI_EXIT_USAGE;
    if (!obs_load(a->pos + 1, a->n_pos - 1, &o))
        goto out;
    ctix_diag_clear(&d);
    rc = pattern_eval(p, o, &res, &d);
    if (rc != CTIX_OK) {
        cli_error(PATTERN_CMD, "%s",
                  rc == CTIX_ETOOBIG && d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    if (!res.matched) {
        printf("not matched\n");
        ret = CLI_EXIT_FAIL;
        goto out;
    }
    printf("matched\n");
    for (size_t i = 0; i < res.n_bound; i++)
        printf("%s\n", pattern_obs_id(o, res.bound[i]));
    ret = CLI_EXIT_OK;
out:
    pattern_result_cleanup(&res);
    pattern_obs_free(o);
    pattern_free(p);
    return ret;
}

/* ---- indicators: the collection's indicators through the match index ---- */

struct ind {
    char *id, *name, *pattern;
};

struct ind_ctx {
    struct pattern_index *ix;
    struct ind *v;
    size_t n, cap;
    size_t n_bad; /* stored patterns that do not parse */
    int64_t last_us;
    enum ctix_rc rc;
    uint32_t *hits;
    size_t n_hits, cap_hits;
};

static char *str_dup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);

    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

static enum ctix_rc ind_row(void *ctx, const struct store_row *row)
{
    struct ind_ctx *x = ctx;
    struct ctix_diag d;
    json_t *j = NULL;
    const json_t *pt, *pat, *name, *rev;
    enum ctix_rc rc;
    struct ind *in;

    x->last_us = row->date_added_us;
    if (row->json == NULL)
        return CTIX_EIO;
    ctix_diag_clear(&d);
    rc = stix_json_parse(row->json, row->json_len, &j, &d);
    if (rc != CTIX_OK)
        goto out;
    pt = json_object_get(j, "pattern_type");
    pat = json_object_get(j, "pattern");
    name = json_object_get(j, "name");
    rev = json_object_get(j, "revoked");
    /* A revoked indicator no longer says anything about what it once described. */
    if (!json_is_string(pt) || strcmp(json_string_value(pt), "stix") != 0 || !json_is_string(pat) ||
        json_is_true(rev))
        goto out;
    if (x->n == x->cap) {
        size_t ncap = x->cap != 0 ? x->cap * 2 : 64;
        struct ind *nv = realloc(x->v, ncap * sizeof(*nv));

        if (nv == NULL) {
            rc = CTIX_ENOMEM;
            goto out;
        }
        x->v = nv;
        x->cap = ncap;
    }
    if (x->n >= UINT32_MAX) {
        rc = CTIX_ETOOBIG;
        goto out;
    }
    ctix_diag_clear(&d);
    rc = pattern_index_add_text(x->ix, json_string_value(pat), json_string_length(pat),
                                (uint32_t)x->n, &d);
    if (rc == CTIX_EINVAL || rc == CTIX_ETOOBIG) {
        /* Stored before patterns were checked on ingest: say so, and go on without it. */
        cli_error(PATTERN_CMD, "%s: skipped, its pattern does not parse (column %u: %s)", row->id,
                  d.col, d.msg);
        x->n_bad++;
        rc = CTIX_OK;
        goto out;
    }
    if (rc != CTIX_OK)
        goto out;
    in = &x->v[x->n];
    in->id = str_dup(row->id);
    in->name = str_dup(json_is_string(name) ? json_string_value(name) : "");
    in->pattern = str_dup(json_string_value(pat));
    x->n++;
    if (in->id == NULL || in->name == NULL || in->pattern == NULL)
        rc = CTIX_ENOMEM;
out:
    json_decref(j);
    x->rc = rc;
    return rc;
}

static int ind_hit(uint32_t tag, void *arg)
{
    struct ind_ctx *x = arg;

    if (x->n_hits == x->cap_hits) {
        size_t ncap = x->cap_hits != 0 ? x->cap_hits * 2 : 64;
        uint32_t *nv = realloc(x->hits, ncap * sizeof(*nv));

        if (nv == NULL) {
            x->rc = CTIX_ENOMEM;
            return 1;
        }
        x->hits = nv;
        x->cap_hits = ncap;
    }
    x->hits[x->n_hits++] = tag;
    return 0;
}

/* One tab-separated field: a name or a pattern may hold tabs, line breaks (a pattern's whitespace
 * may be any) or a backslash; they are written as \t, \n, \r and \\ so that one indicator stays
 * one line of three fields. */
static void field_put(const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '\t':
            fputs("\\t", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        case '\r':
            fputs("\\r", stdout);
            break;
        case '\\':
            fputs("\\\\", stdout);
            break;
        default:
            putchar(*s);
        }
    }
}

static int tag_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Loads the latest version of every indicator of coll into x (index and table). */
static int ind_load(struct store *st, const char *coll, struct ind_ctx *x)
{
    static const char *const types[] = {"indicator"};
    struct store_collection *c = malloc(sizeof(*c));
    struct store_query q;
    bool more = true;
    enum ctix_rc rc;
    int ret = CLI_EXIT_USAGE;

    if (c == NULL) {
        cli_error(PATTERN_CMD, "out of memory");
        goto out;
    }
    rc = store_collection_get(st, coll, c);
    if (rc != CTIX_OK) {
        cli_error(PATTERN_CMD, "%s '%s'",
                  rc == CTIX_ENOTFOUND ? "no collection" : "cannot read collection", coll);
        goto out;
    }
    x->last_us = -1;
    while (more) {
        size_t before = x->n + x->n_bad;
        int64_t last = x->last_us;

        memset(&q, 0, sizeof(q));
        q.coll_id = c->id;
        q.added_after_us = x->last_us;
        q.limit = PATTERN_PAGE;
        q.types = types;
        q.n_types = 1;
        q.vsel = STORE_V_LAST;
        q.want_json = true;
        more = false;
        x->rc = CTIX_OK;
        rc = store_objs_query(st, &q, ind_row, x, &more);
        if (rc != CTIX_OK) {
            cli_error(PATTERN_CMD, "cannot read the indicators: %s", ctix_strerror(rc));
            goto out;
        }
        if (more && x->n + x->n_bad == before && x->last_us == last) {
            cli_error(PATTERN_CMD, "the store said more rows follow but returned none");
            goto out;
        }
    }
    ret = CLI_EXIT_OK;
out:
    free(c);
    return ret;
}

static int pattern_indicators(const struct cli_args *a, const char *dir)
{
    struct store *st = NULL;
    struct pattern_obs *o = NULL;
    struct ind_ctx x;
    struct ctix_diag d;
    const char *coll = cli_args_get(a, "collection");
    enum ctix_rc rc;
    int ret = CLI_EXIT_USAGE;

    memset(&x, 0, sizeof(x));
    if (coll == NULL) {
        ret = cli_usage_error(PATTERN_CMD, "missing --collection ID");
        goto out;
    }
    if (a->n_pos == 0) {
        ret = cli_usage_error(PATTERN_CMD, "missing OBSERVED.json");
        goto out;
    }
    if (cli_args_has(a, "syntax")) {
        ret = cli_usage_error(PATTERN_CMD, "indicators takes no --syntax");
        goto out;
    }
    /* The observations first: a typo in a file name should not cost loading the collection. */
    if (!obs_load(a->pos, a->n_pos, &o))
        goto out;
    if (cli_store_open(PATTERN_CMD, dir, &st) != CLI_EXIT_OK)
        goto out;
    x.ix = pattern_index_new();
    if (x.ix == NULL) {
        cli_error(PATTERN_CMD, "out of memory");
        goto out;
    }
    if (ind_load(st, coll, &x) != CLI_EXIT_OK)
        goto out;
    ctix_diag_clear(&d);
    x.rc = CTIX_OK;
    rc = pattern_index_match(x.ix, o, ind_hit, &x, &d);
    if (rc == CTIX_OK)
        rc = x.rc;
    if (rc != CTIX_OK) {
        cli_error(PATTERN_CMD, "cannot match: %s", ctix_strerror(rc));
        goto out;
    }
    /* In the order the collection received them, whatever order the index found them in. */
    if (x.n_hits > 0)
        qsort(x.hits, x.n_hits, sizeof(*x.hits), tag_cmp);
    for (size_t i = 0; i < x.n_hits; i++) {
        const struct ind *in = &x.v[x.hits[i]];

        printf("%s\t", in->id);
        field_put(in->name);
        putchar('\t');
        field_put(in->pattern);
        putchar('\n');
    }
    ret = x.n_hits > 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    for (size_t i = 0; i < x.n; i++) {
        free(x.v[i].id);
        free(x.v[i].name);
        free(x.v[i].pattern);
    }
    free(x.v);
    free(x.hits);
    pattern_index_free(x.ix);
    pattern_obs_free(o);
    store_close(st);
    return ret;
}

int cmd_pattern(int argc, char **argv)
{
    struct cli_args a;
    char err[256];
    int which = -1, ret = CLI_EXIT_USAGE;
    const char *dir;

    memset(&a, 0, sizeof(a));
    /* Not cli_subcommand_begin(): only `indicators` needs a data directory. */
    if (argc < 2) {
        ret = cli_usage_error(PATTERN_CMD, "missing sub-command (check, match or indicators)");
        goto out;
    }
    for (int i = 0; subs[i] != NULL && which < 0; i++) {
        if (strcmp(argv[1], subs[i]) == 0)
            which = i;
    }
    if (which < 0) {
        ret = cli_usage_error(PATTERN_CMD, "unknown sub-command '%s' (check, match or indicators)",
                              argv[1]);
        goto out;
    }
    if (cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc - 1, argv + 1, &a, err, sizeof(err)) !=
        CTIX_OK) {
        ret = cli_usage_error(PATTERN_CMD, "%s", err);
        goto out;
    }
    switch (which) {
    case 0:
        ret = pattern_check(&a);
        break;
    case 1:
        ret = pattern_match(&a);
        break;
    default:
        dir = cli_data_dir(&a);
        if (dir == NULL)
            ret = cli_usage_error(PATTERN_CMD, "missing --data DIR");
        else
            ret = pattern_indicators(&a, dir);
        break;
    }
out:
    cli_args_cleanup(&a);
    return ret;
}
