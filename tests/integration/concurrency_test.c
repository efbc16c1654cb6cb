/* Several clients at once against the real server: POSTs run on the worker pool with their
 * connection suspended while GETs keep being answered on MHD's threads. Every object must be
 * stored exactly once, every status must report what it stored, concurrent duplicates must be
 * successes, and the server must stop cleanly afterwards. Each object is signed as it is stored:
 * exactly one attestation names it, however often it is posted. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "base/base.h"
#include "harness.h"

#define WRITERS   4
#define ENVELOPES 5
#define PER       100

struct fx {
    struct h_node node;
    struct h_server srv;
    char coll[H_UUID_MAX];
    char token[H_TOKEN_MAX];
    char *bodies[WRITERS][ENVELOPES];
    char ids[WRITERS * ENVELOPES * PER][80];
};

struct writer {
    struct fx *f;
    int w;
    atomic_int *failures;
    long stored; /* success_count summed over this writer's statuses */
};

static char *envelope(struct fx *f, int w, int e)
{
    struct buf b;
    char *out;

    buf_init(&b, 1 << 24);
    assert_int_equal(buf_appends(&b, "{\"objects\":["), CTIX_OK);
    for (int i = 0; i < PER; i++) {
        char *o = h_indicator(f->ids[(w * ENVELOPES + e) * PER + i], "2021-03-04T05:06:07.000Z",
                              "concurrent");

        assert_non_null(o);
        assert_int_equal(buf_appendf(&b, "%s%s", i > 0 ? "," : "", o), CTIX_OK);
        free(o);
    }
    assert_int_equal(buf_appends(&b, "]}"), CTIX_OK);
    out = buf_steal(&b);
    assert_non_null(out);
    return out;
}

static void *writer_main(void *arg)
{
    struct writer *wr = arg;
    struct fx *f = wr->f;
    char path[256];

    snprintf(path, sizeof(path), "/api/collections/%s/objects/", f->coll);
    for (int e = 0; e < ENVELOPES; e++) {
        struct h_resp r;
        json_t *succ;

        if (!h_post(&f->srv, f->token, path, f->bodies[wr->w][e], &r) || r.status != 202 ||
            r.json == NULL) {
            fprintf(stderr, "writer %d envelope %d: status %ld\n", wr->w, e, r.status);
            atomic_fetch_add(wr->failures, 1);
        } else {
            succ = json_object_get(r.json, "success_count");
            wr->stored += json_integer_value(succ);
            if (json_integer_value(json_object_get(r.json, "failure_count")) != 0)
                atomic_fetch_add(wr->failures, 1);
        }
        h_resp_cleanup(&r);
    }
    return NULL;
}

struct reader {
    struct fx *f;
    atomic_bool *stop;
    atomic_int *failures;
    int pages;
};

static void *reader_main(void *arg)
{
    struct reader *rd = arg;

    while (!atomic_load(rd->stop)) {
        struct h_resp r;

        if (!h_getf(&rd->f->srv, rd->f->token, &r, "/api/collections/%s/objects/?limit=50",
                    rd->f->coll) ||
            r.status != 200)
            atomic_fetch_add(rd->failures, 1);
        rd->pages++;
        h_resp_cleanup(&r);
    }
    return NULL;
}

enum walk_check {
    W_ID,      /* each record is one of the posted objects */
    W_NAMES,   /* each record is an attestation naming one of them (objects endpoint only) */
    W_NOCHECK, /* only count */
};

/* Walks endpoint ("manifest" or "objects") filtered by match[type]=type (NULL: all) with next;
 * returns how many records, and checks that each posted id shows at most once as chk says. */
static size_t walk_count(struct fx *f, size_t n_ids, const char *endpoint, const char *type,
                         enum walk_check chk)
{
    char next[256] = "";
    size_t total = 0;
    unsigned char *seen = calloc(n_ids, 1);

    assert_non_null(seen);
    for (;;) {
        struct h_resp r;
        json_t *objs;
        size_t i;
        json_t *rec;

        if (next[0] == '\0')
            assert_true(h_getf(&f->srv, f->token, &r, "/api/collections/%s/%s/?%s%s%slimit=300",
                               f->coll, endpoint, type ? "match[type]=" : "", type ? type : "",
                               type ? "&" : ""));
        else
            assert_true(h_getf(
                &f->srv, f->token, &r, "/api/collections/%s/%s/?%s%s%slimit=300&next=%s", f->coll,
                endpoint, type ? "match[type]=" : "", type ? type : "", type ? "&" : "", next));
        assert_true(h_is_taxii(&r, 200));
        objs = json_object_get(r.json, "objects");
        json_array_foreach(objs, i, rec)
        {
            const char *id =
                json_string_value(json_object_get(rec, chk == W_NAMES ? "object_ref" : "id"));
            size_t k;

            assert_non_null(id);
            total++;
            if (chk == W_NOCHECK)
                continue;
            for (k = 0; k < n_ids && strcmp(f->ids[k], id) != 0; k++)
                ;
            assert_true(k < n_ids);
            assert_int_equal(seen[k], 0);
            seen[k] = 1;
        }
        if (!json_is_true(json_object_get(r.json, "more"))) {
            h_resp_cleanup(&r);
            break;
        }
        ctix_strlcpy(next, json_string_value(json_object_get(r.json, "next")), sizeof(next));
        h_resp_cleanup(&r);
    }
    free(seen);
    return total;
}

static void run_round(struct fx *f, long want_stored)
{
    pthread_t wt[WRITERS], rt;
    struct writer w[WRITERS];
    struct reader rd;
    atomic_int failures = 0;
    atomic_bool stop = false;
    long stored = 0;

    rd = (struct reader){f, &stop, &failures, 0};
    assert_int_equal(pthread_create(&rt, NULL, reader_main, &rd), 0);
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (struct writer){f, i, &failures, 0};
        assert_int_equal(pthread_create(&wt[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(wt[i], NULL);
        stored += w[i].stored;
    }
    atomic_store(&stop, true);
    pthread_join(rt, NULL);
    assert_int_equal(atomic_load(&failures), 0);
    /* success_count counts duplicates too: every object of every envelope is a success */
    assert_int_equal(stored, want_stored);
    assert_true(rd.pages > 0);
}

static void test_concurrent_posts_and_reads(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const size_t n_ids = WRITERS * ENVELOPES * PER;
    const char *extra[] = {"--threads", "2", NULL};
    struct h_resp r;

    (void)state;
    assert_non_null(f);
    for (size_t i = 0; i < n_ids; i++) {
        char u[37];

        assert_int_equal(ctix_uuid4(u), CTIX_OK);
        snprintf(f->ids[i], sizeof(f->ids[i]), "indicator--%s", u);
    }
    assert_true(h_node_init(&f->node, "CSA Singapore"));
    assert_true(h_node_collection(&f->node, "busy", NULL, NULL, f->coll));
    assert_true(h_node_grant(&f->node, f->coll, "CSA Singapore", true, true));
    assert_true(h_node_key(&f->node, "CSA Singapore", "analyst", f->token));
    assert_true(h_server_start(&f->srv, &f->node, extra, NULL));
    /* one request first: libcurl's global state is set up before the threads start */
    assert_true(h_get(&f->srv, f->token, "/taxii2/", &r));
    h_resp_cleanup(&r);
    for (int w = 0; w < WRITERS; w++)
        for (int e = 0; e < ENVELOPES; e++)
            f->bodies[w][e] = envelope(f, w, e);

    run_round(f, (long)n_ids);
    assert_int_equal(walk_count(f, n_ids, "manifest", "indicator", W_ID), n_ids);
    assert_int_equal(walk_count(f, n_ids, "objects", "x-ctix-attestation", W_NAMES), n_ids);
    /* the same envelopes again, all at once: duplicates are successes and nothing doubles (a
     * re-signed object's attestation gets a new version, not a second attestation) */
    run_round(f, (long)n_ids);
    assert_int_equal(walk_count(f, n_ids, "manifest", "indicator", W_ID), n_ids);
    assert_int_equal(walk_count(f, n_ids, "objects", "x-ctix-attestation", W_NAMES), n_ids);
    /* and nothing else is in the collection */
    assert_int_equal(walk_count(f, n_ids, "manifest", NULL, W_NOCHECK), 2 * n_ids);

    assert_int_equal(h_server_stop(&f->srv, SIGTERM), 0);
    for (int w = 0; w < WRITERS; w++)
        for (int e = 0; e < ENVELOPES; e++)
            free(f->bodies[w][e]);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_posts_and_reads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
