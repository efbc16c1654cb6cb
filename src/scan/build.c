/* Building the index on two cores: one thread reads indicators (SQLite rows or a bundle file, and
 * the JSON fields of each), the calling thread adds them to the index. Reading 1,000,000
 * indicators out of a store takes about as long as indexing them, so overlapping the two nearly
 * halves the time before the first log line is read.
 *
 * The reader copies each indicator's strings into a batch (they are borrowed only for the
 * callback) and hands over full batches through a queue of at most QUEUE_MAX, so memory stays
 * bounded whatever the collection's size. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"
#include "scan/scan_int.h"

#define BATCH_INDS  4096
#define BATCH_BYTES (1u << 20)
#define QUEUE_MAX   4

struct batch {
    struct batch *next;
    struct scan_ind_in v[BATCH_INDS];
    size_t n;
    char *bytes;
    size_t len, cap;
};

struct pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch *head, *tail, *cur;
    size_t queued;
    bool done, stop;
    enum ctix_rc load_rc;
    scan_loader_fn load;
    void *load_ctx;
    struct ctix_diag diag; /* the loader's */
};

static void batch_free(struct batch *b)
{
    if (b != NULL) {
        free(b->bytes);
        free(b);
    }
}

/* Copies s[0..n) into the batch; NULL stays NULL. */
static const char *keep(struct batch *b, const char *s, size_t n, bool *ok)
{
    char *p;

    if (s == NULL)
        return NULL;
    if (b->len + n + 1 > b->cap) {
        *ok = false;
        return NULL;
    }
    p = b->bytes + b->len;
    memcpy(p, s, n);
    p[n] = '\0';
    b->len += n + 1;
    return p;
}

static void push(struct pipe *pp, struct batch *b)
{
    pthread_mutex_lock(&pp->mu);
    while (pp->queued >= QUEUE_MAX && !pp->stop)
        pthread_cond_wait(&pp->cv, &pp->mu);
    b->next = NULL;
    if (pp->tail != NULL)
        pp->tail->next = b;
    else
        pp->head = b;
    pp->tail = b;
    pp->queued++;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

static enum ctix_rc batch_new(struct batch **out, size_t need)
{
    struct batch *b = calloc(1, sizeof(*b));
    size_t cap = need > BATCH_BYTES ? need : BATCH_BYTES;

    if (b == NULL || (b->bytes = malloc(cap)) == NULL) {
        free(b);
        return CTIX_ENOMEM;
    }
    b->cap = cap;
    *out = b;
    return CTIX_OK;
}

/* The loader's callback, on the reader thread. */
static enum ctix_rc take(void *arg, const struct scan_ind_in *in)
{
    struct pipe *pp = arg;
    size_t need = in->id_len + in->name_len + in->pattern_len + in->created_by_ref_len + 4;
    struct batch *b = pp->cur;
    bool ok = true;

    if (pp->stop)
        return CTIX_EIO; /* the adding side failed: stop reading (its error is the one reported) */
    if (b != NULL && (b->n == BATCH_INDS || b->len + need > b->cap)) {
        push(pp, b);
        b = pp->cur = NULL;
    }
    if (b == NULL) {
        enum ctix_rc rc = batch_new(&b, need);

        if (rc != CTIX_OK)
            return rc;
        pp->cur = b;
    }
    struct scan_ind_in *d = &b->v[b->n];
    *d = *in;
    d->id = keep(b, in->id, in->id_len, &ok);
    d->name = keep(b, in->name, in->name_len, &ok);
    d->pattern = keep(b, in->pattern, in->pattern_len, &ok);
    d->created_by_ref = keep(b, in->created_by_ref, in->created_by_ref_len, &ok);
    if (!ok)
        return CTIX_ENOMEM; /* cannot happen: need was reserved */
    b->n++;
    return CTIX_OK;
}

static void *reader_main(void *arg)
{
    struct pipe *pp = arg;
    enum ctix_rc rc = pp->load(pp->load_ctx, take, pp, &pp->diag);

    if (rc == CTIX_OK && pp->cur != NULL) {
        push(pp, pp->cur);
        pp->cur = NULL;
    }
    pthread_mutex_lock(&pp->mu);
    pp->load_rc = rc;
    pp->done = true;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

enum ctix_rc scan_index_build(struct scan_index *ix, scan_loader_fn load, void *load_ctx,
                              scan_bad_fn bad, void *bad_arg, struct ctix_diag *diag)
{
    struct pipe pp;
    struct ctix_diag d;
    pthread_t th;
    enum ctix_rc rc = CTIX_OK;

    memset(&pp, 0, sizeof(pp));
    pthread_mutex_init(&pp.mu, NULL);
    pthread_cond_init(&pp.cv, NULL);
    pp.load = load;
    pp.load_ctx = load_ctx;
    ctix_diag_clear(&pp.diag);
    ctix_diag_clear(&d);
    if (pthread_create(&th, NULL, reader_main, &pp) != 0) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    for (;;) {
        struct batch *b;

        pthread_mutex_lock(&pp.mu);
        while (pp.head == NULL && !pp.done)
            pthread_cond_wait(&pp.cv, &pp.mu);
        b = pp.head;
        if (b != NULL) {
            pp.head = b->next;
            if (pp.head == NULL)
                pp.tail = NULL;
            pp.queued--;
            pthread_cond_broadcast(&pp.cv);
        }
        pthread_mutex_unlock(&pp.mu);
        if (b == NULL)
            break;
        for (size_t i = 0; rc == CTIX_OK && i < b->n; i++) {
            enum ctix_rc arc = scan_index_add(ix, &b->v[i], &d);

            if (arc == CTIX_EINVAL && bad != NULL)
                bad(bad_arg, &b->v[i], &d);
            else if (arc != CTIX_OK && arc != CTIX_EINVAL)
                rc = arc;
            /* Cleared only after it was written: a memset of its ~400 bytes per indicator was
             * 2% of building a million. */
            if (arc != CTIX_OK)
                ctix_diag_clear(&d);
        }
        batch_free(b);
        if (rc != CTIX_OK) {
            pthread_mutex_lock(&pp.mu);
            pp.stop = true;
            pthread_cond_broadcast(&pp.cv);
            pthread_mutex_unlock(&pp.mu);
        }
    }
    pthread_join(th, NULL);
    /* Batches left when adding stopped early. */
    while (pp.head != NULL) {
        struct batch *b = pp.head;

        pp.head = b->next;
        batch_free(b);
    }
    batch_free(pp.cur);
    if (rc == CTIX_OK && pp.load_rc != CTIX_OK) {
        rc = pp.load_rc;
        *diag = pp.diag;
    }
out:
    pthread_mutex_destroy(&pp.mu);
    pthread_cond_destroy(&pp.cv);
    return rc;
}
