/* The policy facts of requesters and stored rows (sync.h: sync_requester, sync_row_object), for
 * taxii/ and the CLI. policy/ decides; this file only looks up what it needs: the requester's
 * organisation (own, client, community), the peer node behind a "peer" key and its agreement, and
 * for a received row the organisation of the peer it came from.
 *
 * sync_requester() runs once per request and reads the store each time (a peer list and an
 * organisation: cheap, and never stale). sync_row_object() runs once per row of a page, so the
 * peer -> organisation map it needs is cached per process, refreshed every few seconds and at
 * once when a row names a peer the cache does not know (rate-limited, so that rows of a removed
 * peer do not reload it for every row). A failed lookup fails closed: a received row whose peer is
 * unknown gets from_org 0, which policy/ denies as bad facts. */
#include "sync/sync.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PEER_CACHE_TTL_US (3 * 1000000LL)
#define PEER_MISS_RELOAD_US                                                                        \
    (100 * 1000LL) /* at most one reload per this when a peer is missing                           \
                    */
#define RECIPIENTS_MAX 64

struct peer_org {
    int64_t peer_id, org_id;
};

static struct {
    pthread_mutex_t lock;
    const struct store *st; /* whose peers these are */
    struct peer_org *v;
    size_t n;
    int64_t loaded_us; /* monotonic; 0: never */
} cache = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0};

/* The RED recipients of the last row this thread looked at: the pointers that
 * struct policy_object.recipients borrows stay valid until the thread's next call. The names are
 * copied into this thread's own buffer and the parsed row freed at once: a jansson value kept
 * per thread leaked when the thread ended (an HTTP server thread at shutdown; LSan saw it). */
#define RECIPIENTS_BYTES 8192
static _Thread_local const char *tl_names[RECIPIENTS_MAX];
static _Thread_local char tl_buf[RECIPIENTS_BYTES];

/* Copies the n names into tl_buf and points tl_names at them; a name that no longer fits is
 * left out (it then matches no user: the object is withheld from that one, never shown to
 * another). Returns how many were kept. */
static size_t names_keep(const char *const *names, size_t n)
{
    size_t used = 0, kept = 0;

    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]) + 1;

        if (len > RECIPIENTS_BYTES - used)
            continue;
        memcpy(tl_buf + used, names[i], len);
        tl_names[kept++] = tl_buf + used;
        used += len;
    }
    return kept;
}

static bool role_is_peer(const char *role)
{
    return role != NULL && strcmp(role, "peer") == 0;
}

enum ctix_rc sync_requester(const struct sync_node *node, int64_t org_id, const char *role,
                            const char *user, struct policy_requester *out)
{
    struct store_peer *peers = NULL;
    struct store_org org;
    size_t n = 0;
    enum ctix_rc rc = CTIX_OK;

    memset(out, 0, sizeof(*out));
    if (node == NULL || node->st == NULL || org_id <= 0) {
        rc = CTIX_EINVAL;
        goto out;
    }
    out->org_id = org_id;
    rc = store_peer_list(node->st, &peers, &n);
    if (rc != CTIX_OK)
        goto out;
    if (role_is_peer(role)) {
        /* A node: the first peer entry of its organisation (by name) speaks for it. Without one
         * it has no peer id and no agreement: policy/ then sends it nothing. */
        out->rel = POLICY_REL_PEER;
        for (size_t i = 0; i < n; i++) {
            if (peers[i].org_id == org_id) {
                out->peer_id = peers[i].id;
                out->agreement = (enum stix_tlp)peers[i].max_tlp;
                break;
            }
        }
        goto out;
    }
    out->user = user;
    if (org_id == node->org_id) {
        out->rel = POLICY_REL_OWN_ORG;
        goto out;
    }
    rc = store_org_get_by_id(node->st, org_id, &org);
    if (rc != CTIX_OK)
        goto out;
    out->rel = org.client ? POLICY_REL_CLIENT : POLICY_REL_COMMUNITY;
    /* People of a partner organisation: the agreement with their organisation opens AMBER and
     * caps the rest. Several nodes of one organisation: the strictest agreement holds. */
    for (size_t i = 0; i < n; i++) {
        if (peers[i].org_id != org_id)
            continue;
        if (out->agreement == STIX_TLP_NONE || peers[i].max_tlp < (int)out->agreement)
            out->agreement = (enum stix_tlp)peers[i].max_tlp;
    }
out:
    if (rc != CTIX_OK)
        memset(out, 0, sizeof(*out)); /* zeroed facts deny */
    free(peers);
    return rc;
}

/* Reloads the cache from st. Called with the lock held. */
static void cache_load(struct store *st, int64_t now)
{
    struct store_peer *peers = NULL;
    struct peer_org *v = NULL;
    size_t n = 0;

    cache.loaded_us = now;
    if (store_peer_list(st, &peers, &n) != CTIX_OK)
        goto out; /* keep what we had: it was right a moment ago */
    v = calloc(n > 0 ? n : 1, sizeof(*v));
    if (v == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        v[i].peer_id = peers[i].id;
        v[i].org_id = peers[i].org_id;
    }
    free(cache.v);
    cache.v = v;
    cache.n = n;
    cache.st = st;
out:
    free(peers);
}

static int64_t cache_find(int64_t peer_id)
{
    for (size_t i = 0; i < cache.n; i++) {
        if (cache.v[i].peer_id == peer_id)
            return cache.v[i].org_id;
    }
    return 0;
}

static int64_t peer_org_of(struct store *st, int64_t peer_id)
{
    int64_t now = ctix_mono_us(), org = 0;

    pthread_mutex_lock(&cache.lock);
    if (cache.st != st || cache.loaded_us == 0 || now - cache.loaded_us > PEER_CACHE_TTL_US) {
        free(cache.v);
        cache.v = NULL;
        cache.n = 0;
        cache_load(st, now);
    }
    org = cache.st == st ? cache_find(peer_id) : 0;
    if (org == 0 && now - cache.loaded_us > PEER_MISS_RELOAD_US) {
        cache_load(st, now);
        org = cache.st == st ? cache_find(peer_id) : 0;
    }
    pthread_mutex_unlock(&cache.lock);
    return org;
}

void sync_row_object(const struct sync_node *node, const struct store_row *row,
                     struct policy_object *out)
{
    memset(out, 0, sizeof(*out));
    out->tlp = row->tlp >= STIX_TLP_NONE && row->tlp <= STIX_TLP_RED ? (enum stix_tlp)row->tlp
                                                                     : STIX_TLP_RED;
    if (row->origin == 0) {
        out->origin = POLICY_ORIGIN_LOCAL;
    } else {
        out->origin = POLICY_ORIGIN_PEER;
        out->from_peer = row->origin;
        out->from_org = node != NULL && node->st != NULL ? peer_org_of(node->st, row->origin) : 0;
    }
    /* Pending rows are not yet verified: withheld from other nodes like quarantined ones. */
    out->quarantined = row->prov == STORE_PROV_QUARANTINED || row->prov == STORE_PROV_PENDING;
    if (out->tlp == STIX_TLP_RED && row->json != NULL) {
        const char *names[RECIPIENTS_MAX];
        json_t *j = json_loadb(row->json, row->json_len, 0, NULL);
        size_t n = policy_recipients_get(j, names, RECIPIENTS_MAX);

        out->n_recipients = names_keep(names, n);
        out->recipients = out->n_recipients > 0 ? tl_names : NULL;
        json_decref(j);
    }
}
