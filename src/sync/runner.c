/* sync: the runner inside `ctix serve` — one thread per peer, so that a slow or dead peer never
 * blocks another, and a supervisor thread that follows the peer list (peers added or removed while
 * the server runs) and runs the pending sweep.
 *
 * Every wait is a timed wait on one condition variable (CLOCK_MONOTONIC), so sync_runner_stop()
 * wakes every thread at once and returns as soon as the requests in flight end (each bounded by
 * the request timeout). */
#include "sync/sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync/sync_int.h"

#define SUPERVISE_US (2 * 1000000LL)  /* how often the peer list is read again */
#define SWEEP_US     (60 * 1000000LL) /* how often the pending sweep runs */

struct worker {
    struct sync_runner *r;
    int64_t peer_id;
    char name[STORE_NAME_MAX];
    pthread_t th;
    bool stop; /* guarded by r->mu */
    bool done; /* guarded by r->mu */
    struct worker *next;
};

struct sync_runner {
    const struct sync_node *node;
    struct sync_opts opts;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop; /* guarded by mu */
    pthread_t sup;
    struct worker *workers; /* guarded by mu */
};

/* Waits up to us or until stop is set (or w->stop when w is not NULL). Call with mu held. */
static void wait_us(struct sync_runner *r, struct worker *w, int64_t us)
{
    struct timespec ts;
    int64_t ns;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ns = (int64_t)ts.tv_nsec + (us % 1000000) * 1000;
    ts.tv_sec += (time_t)(us / 1000000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    while (!r->stop && (w == NULL || !w->stop)) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
            break;
    }
}

static int64_t retry_delay(const struct sync_opts *o, unsigned fails)
{
    int64_t max = o->backoff_max_us > 0 ? o->backoff_max_us : 60 * 1000000LL;
    int64_t d = o->interval_us > 0 ? o->interval_us : 1000000LL;
    uint32_t rnd = 0;

    for (unsigned i = 0; i < fails && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    /* Jitter: [d/2, d], so that peers that failed together do not retry together. */
    if (ctix_random(&rnd, sizeof(rnd)) == CTIX_OK)
        d = d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
    return d;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sync_runner *r = w->r;
    unsigned fails = 0;
    bool stop = false;

    while (!stop) {
        struct store_peer p;
        enum ctix_rc rc = store_peer_get_by_id(r->node->st, w->peer_id, &p);
        int64_t delay;

        if (rc == CTIX_ENOTFOUND)
            break; /* removed */
        if (rc == CTIX_OK)
            rc = sync__peer_pass(r->node, &p, &r->opts, NULL);
        fails = rc == CTIX_OK ? 0 : fails + 1;
        delay = fails == 0 ? (r->opts.interval_us > 0 ? r->opts.interval_us : 1000000LL)
                           : retry_delay(&r->opts, fails);
        pthread_mutex_lock(&r->mu);
        wait_us(r, w, delay);
        stop = r->stop || w->stop;
        pthread_mutex_unlock(&r->mu);
    }
    pthread_mutex_lock(&r->mu);
    w->done = true;
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Starts a worker for each peer that has none, tells workers of removed peers to stop, and joins
 * the workers that have ended. Call with mu held. */
static void supervise(struct sync_runner *r, const struct store_peer *peers, size_t n)
{
    struct worker **pw = &r->workers;

    while (*pw != NULL) {
        struct worker *w = *pw;
        bool present = false;

        for (size_t i = 0; i < n; i++)
            present = present || peers[i].id == w->peer_id;
        if (!present && !w->stop) {
            w->stop = true;
            pthread_cond_broadcast(&r->cv);
        }
        if (w->done) {
            *pw = w->next;
            pthread_mutex_unlock(&r->mu);
            pthread_join(w->th, NULL); /* it has returned: no wait */
            pthread_mutex_lock(&r->mu);
            ctix_log(CTIX_LOG_INFO, "sync", "event=peer_stopped peer=%s", w->name);
            free(w);
            continue;
        }
        pw = &w->next;
    }
    for (size_t i = 0; i < n; i++) {
        struct worker *w;
        bool running = false;

        for (w = r->workers; w != NULL; w = w->next)
            running = running || (w->peer_id == peers[i].id && !w->stop);
        if (running)
            continue;
        w = calloc(1, sizeof(*w));
        if (w == NULL)
            continue; /* tried again at the next look */
        w->r = r;
        w->peer_id = peers[i].id;
        ctix_strlcpy(w->name, peers[i].name, sizeof(w->name));
        if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
            free(w);
            continue;
        }
        w->next = r->workers;
        r->workers = w;
        ctix_log(CTIX_LOG_INFO, "sync", "event=peer_started peer=%s", w->name);
    }
}

static void *sup_main(void *arg)
{
    struct sync_runner *r = arg;
    int64_t last_sweep = ctix_mono_us();
    bool stop = false;

    while (!stop) {
        struct store_peer *peers = NULL;
        size_t n = 0;
        bool listed = true;

        if (ctix_mono_us() - last_sweep >= SWEEP_US) {
            struct ctix_diag d;
            size_t nq = 0;

            if (sync_pending_sweep(r->node, 0, &nq, &d) != CTIX_OK)
                ctix_log(CTIX_LOG_ERROR, "sync", "event=sweep_failed reason=\"%s\"", d.msg);
            last_sweep = ctix_mono_us();
        }
        if (store_peer_list(r->node->st, &peers, &n) != CTIX_OK) {
            /* Not an empty list: the workers keep running until the next look. */
            ctix_log(CTIX_LOG_ERROR, "sync", "event=peer_list_failed");
            listed = false;
        }
        pthread_mutex_lock(&r->mu);
        if (listed)
            supervise(r, peers, n);
        wait_us(r, NULL, SUPERVISE_US);
        stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        free(peers);
    }
    return NULL;
}

enum ctix_rc sync_runner_start(const struct sync_node *node, const struct sync_opts *opts,
                               struct sync_runner **out)
{
    struct sync_runner *r = NULL;
    pthread_condattr_t ca;
    bool cv_ok = false, mu_ok = false;
    enum ctix_rc rc = CTIX_EINVAL;

    if (node == NULL || node->st == NULL || out == NULL)
        goto out;
    rc = CTIX_ENOMEM;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto out;
    r->node = node;
    if (opts != NULL)
        r->opts = *opts;
    if (pthread_condattr_init(&ca) != 0)
        goto out;
    cv_ok =
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&r->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    mu_ok = cv_ok && pthread_mutex_init(&r->mu, NULL) == 0;
    if (!mu_ok)
        goto out;
    if (pthread_create(&r->sup, NULL, sup_main, r) != 0)
        goto out;
    *out = r;
    r = NULL;
    rc = CTIX_OK;
out:
    if (r != NULL) {
        if (mu_ok)
            pthread_mutex_destroy(&r->mu);
        if (cv_ok)
            pthread_cond_destroy(&r->cv);
        free(r);
    }
    return rc;
}

void sync_runner_stop(struct sync_runner *r)
{
    struct worker *w;

    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->sup, NULL);
    /* The supervisor has ended: the list is ours alone now. */
    w = r->workers;
    while (w != NULL) {
        struct worker *next = w->next;

        pthread_join(w->th, NULL);
        free(w);
        w = next;
    }
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
