/* Tests of sync/: the receive path (two nodes' worth of state: a publisher key signs, the
 * receiving store knows it as a peer), the pending sweep, and the client against a small HTTP
 * server inside the test. */
#include "sync/sync.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"
#include "sync/sync_int.h"

#define COLL "6b6a7b1e-4a1c-4d2e-9f00-0000000000a1"

struct env {
    char dir[64];
    struct store *st;
    struct sync_node node;
    struct prov_key *pub_key;   /* the publisher: peer "sg" (CSA Singapore) */
    struct prov_key *other_key; /* peer "kr" (a third node) */
    struct prov_key *stranger;  /* nobody here knows it */
    int64_t sg, kr;             /* peer ids */
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int64_t peer_add_url(struct store *st, const char *name, const char *org,
                            const struct prov_key *k, const char *url)
{
    struct store_peer p;
    struct store_org o;
    int64_t org_id = 0, id = 0;

    if (store_org_get(st, org, &o) == CTIX_OK)
        org_id = o.id;
    else
        assert_int_equal(store_org_add(st, org, &org_id), CTIX_OK);
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    p.org_id = org_id;
    snprintf(p.url, sizeof(p.url), "%s", url);
    snprintf(p.token, sizeof(p.token), "secret-token-%s", name);
    prov_pubkey_format(prov_key_public(k), p.pubkey);
    p.max_tlp = STIX_TLP_AMBER;
    assert_int_equal(store_peer_add(st, &p, &id), CTIX_OK);
    assert_int_equal(store_peer_coll_add(st, id, COLL, STORE_DIR_PULL), CTIX_OK);
    return id;
}

static int64_t peer_add(struct store *st, const char *name, const char *org,
                        const struct prov_key *k)
{
    return peer_add_url(st, name, org, k, "http://127.0.0.1:1/api/");
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct store_collection c;
    struct ctix_diag d;
    char data[128];

    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/ctix-sync-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(data, sizeof(data), "%s/data", e->dir);
    assert_int_equal(store_open(data, true, &e->st, &d), CTIX_OK);
    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "%s", COLL);
    snprintf(c.title, sizeof(c.title), "shared");
    assert_int_equal(store_collection_add(e->st, &c), CTIX_OK);
    assert_int_equal(store_org_add(e->st, "NISC Japan", NULL), CTIX_OK);
    assert_int_equal(store_meta_set(e->st, "node_org", "NISC Japan"), CTIX_OK);
    assert_int_equal(sync_node_load(&e->node, e->st, &d), CTIX_OK);
    assert_int_equal(prov_key_generate(&e->pub_key), CTIX_OK);
    assert_int_equal(prov_key_generate(&e->other_key), CTIX_OK);
    assert_int_equal(prov_key_generate(&e->stranger), CTIX_OK);
    e->sg = peer_add(e->st, "sg", "CSA Singapore", e->pub_key);
    e->kr = peer_add(e->st, "kr", "KrCERT", e->other_key);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    store_close(e->st);
    prov_key_free(e->pub_key);
    prov_key_free(e->other_key);
    prov_key_free(e->stranger);
    nftw(e->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(e);
    return 0;
}

/* ---- fixtures ---- */

static json_t *indicator(unsigned i, const char *modified)
{
    char id[80], name[32];
    json_t *j;

    snprintf(id, sizeof(id), "indicator--%08x-1111-4111-8111-111111111111", i);
    snprintf(name, sizeof(name), "bad host %u", i);
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
                  "spec_version", "2.1", "id", id, "created", "2024-01-01T00:00:00.000Z",
                  "modified", modified != NULL ? modified : "2024-01-01T00:00:00.000Z", "name",
                  name, "pattern", "[ipv4-addr:value = '203.0.113.1']", "pattern_type", "stix",
                  "valid_from", "2024-01-01T00:00:00Z");
    assert_non_null(j);
    return j;
}

/* Signs objs[0..n) with k (publisher name pub) and returns a new array of the attestations. */
static json_t *sign(const struct prov_key *k, const char *pub, json_t **objs, size_t n)
{
    struct prov_sign_opts o = {.publisher = pub, .now_us = 1700000000000000LL};
    json_t *outs[16];
    json_t *arr = json_array();
    struct ctix_diag d;

    assert_true(n <= 16);
    assert_int_equal(prov_attest_sign((const json_t *const *)objs, n, k, &o, outs, &d), CTIX_OK);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, outs[i]);
    return arr;
}

static json_t *page_of(json_t **objs, size_t n, json_t *atts)
{
    json_t *p = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append(p, objs[i]);
    if (atts != NULL)
        json_array_extend(p, atts);
    return p;
}

struct seen {
    size_t n;
    char id[32][STIX_ID_MAX];
    int prov[32];
    int64_t origin[32];
};

static enum ctix_rc seen_cb(void *ctx, const struct store_row *row)
{
    struct seen *s = ctx;

    if (s->n < 32) {
        snprintf(s->id[s->n], STIX_ID_MAX, "%s", row->id);
        s->prov[s->n] = row->prov;
        s->origin[s->n] = row->origin;
    }
    s->n++;
    return CTIX_OK;
}

static void rows(struct env *e, struct seen *s)
{
    struct store_query q;
    bool more = false;

    memset(s, 0, sizeof(*s));
    memset(&q, 0, sizeof(q));
    q.coll_id = COLL;
    q.added_after_us = -1;
    q.limit = 1000;
    q.vsel = STORE_V_ALL;
    assert_int_equal(store_objs_query(e->st, &q, seen_cb, s, &more), CTIX_OK);
}

/* The prov of the stored (last) version of id, or -1 when absent. */
static int prov_of(struct env *e, const char *id)
{
    struct seen s;
    int p = -1;

    rows(e, &s);
    for (size_t i = 0; i < s.n && i < 32; i++) {
        if (strcmp(s.id[i], id) == 0)
            p = s.prov[i];
    }
    return p;
}

static const char *id_of(json_t *o)
{
    return json_string_value(json_object_get(o, "id"));
}

static int64_t cursor_of(struct env *e, int64_t peer)
{
    struct store_peer_coll *pc = NULL;
    size_t n = 0;
    int64_t c = -2;

    assert_int_equal(store_peer_coll_list(e->st, peer, &pc, &n), CTIX_OK);
    for (size_t i = 0; i < n; i++) {
        if (pc[i].dir == STORE_DIR_PULL && strcmp(pc[i].coll_id, COLL) == 0)
            c = pc[i].cursor_us;
    }
    free(pc);
    return c;
}

static void recv_ok(struct env *e, json_t *page, int64_t peer, int64_t cursor_us,
                    struct sync_recv_counts *c)
{
    struct store_cursor_in cur = {.peer_id = peer, .cursor_us = cursor_us};
    struct ctix_diag d;

    memset(&d, 0, sizeof(d));
    assert_int_equal(sync_receive(&e->node, COLL, page, peer, cursor_us >= 0 ? &cur : NULL, c, &d),
                     CTIX_OK);
}

/* ---- the receive path ---- */

static void test_att_id_agrees_with_prov(void **state)
{
    struct env *e = *state;
    json_t *o = indicator(1, "2024-02-02T00:00:00.123Z");
    json_t *atts = sign(e->pub_key, "CSA Singapore", &o, 1);
    char aid[STIX_ID_MAX];

    assert_int_equal(prov_att_id(prov_key_public(e->pub_key), PROV_PUBLISH, id_of(o),
                                 "2024-02-02T00:00:00.123Z", aid),
                     CTIX_OK);
    assert_string_equal(aid, id_of(json_array_get(atts, 0)));
    json_decref(o);
    json_decref(atts);
}

static void test_verified_then_duplicate(void **state)
{
    struct env *e = *state;
    json_t *o[3] = {indicator(1, NULL), indicator(2, NULL), indicator(3, NULL)};
    json_t *atts = sign(e->pub_key, "CSA Singapore", o, 3);
    json_t *page = page_of(o, 3, atts);
    struct sync_recv_counts c;
    struct seen s;

    recv_ok(e, page, e->sg, 5000, &c);
    assert_int_equal(c.total, 6);
    assert_int_equal(c.stored, 6);
    assert_int_equal(c.verified, 3);
    assert_int_equal(c.quarantined, 0);
    assert_int_equal(c.pending, 0);
    rows(e, &s);
    assert_int_equal(s.n, 6);
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.prov[i], STORE_PROV_VERIFIED);
        assert_int_equal(s.origin[i], e->sg);
    }
    assert_int_equal(cursor_of(e, e->sg), 5000);

    /* The same page again (a restart after the commit): duplicates, no new rows. */
    recv_ok(e, page, e->sg, 5000, &c);
    assert_int_equal(c.stored, 0);
    assert_int_equal(c.duplicate, 6);
    rows(e, &s);
    assert_int_equal(s.n, 6);
    for (int i = 0; i < 3; i++)
        json_decref(o[i]);
    json_decref(atts);
    json_decref(page);
}

static void test_tampered_and_unknown(void **state)
{
    struct env *e = *state;
    json_t *o[2] = {indicator(1, NULL), indicator(2, NULL)};
    json_t *atts = sign(e->pub_key, "CSA Singapore", o, 1);
    json_t *atts2 = sign(e->stranger, "Nobody", &o[1], 1);
    json_t *page;
    struct sync_recv_counts c;

    /* One byte changed on the way. */
    json_object_set_new(o[0], "name", json_string("bad host 9"));
    json_array_extend(atts, atts2);
    page = page_of(o, 2, atts);
    recv_ok(e, page, e->sg, -1, &c);
    assert_int_equal(c.stored, 4);
    assert_int_equal(c.verified, 0);
    assert_int_equal(c.quarantined, 2);
    assert_int_equal(prov_of(e, id_of(o[0])), STORE_PROV_QUARANTINED);
    assert_int_equal(prov_of(e, id_of(o[1])), STORE_PROV_QUARANTINED);
    assert_int_equal(prov_of(e, id_of(json_array_get(atts, 0))), STORE_PROV_QUARANTINED);
    json_decref(o[0]);
    json_decref(o[1]);
    json_decref(atts);
    json_decref(atts2);
    json_decref(page);
}

static void test_pending_then_verified(void **state)
{
    struct env *e = *state;
    json_t *o[2] = {indicator(1, NULL), indicator(2, NULL)};
    json_t *atts = sign(e->pub_key, "CSA Singapore", o, 2);
    json_t *p1 = page_of(o, 1, NULL);
    json_t *p2 = json_array();
    json_t *p3 = json_array();
    struct sync_recv_counts c;

    /* Page 1: o1 alone. Page 2: its attestation, and o2's (o2 comes after it: page 3). */
    json_array_append(p2, json_array_get(atts, 0));
    json_array_append(p2, json_array_get(atts, 1));
    json_array_append(p3, o[1]);
    recv_ok(e, p1, e->sg, 100, &c);
    assert_int_equal(c.pending, 1);
    assert_int_equal(prov_of(e, id_of(o[0])), STORE_PROV_PENDING);
    recv_ok(e, p2, e->sg, 200, &c);
    assert_int_equal(c.verified, 1);
    assert_int_equal(prov_of(e, id_of(o[0])), STORE_PROV_VERIFIED);
    assert_int_equal(prov_of(e, id_of(json_array_get(atts, 0))), STORE_PROV_VERIFIED);
    /* o2's attestation waits for its object. */
    assert_int_equal(prov_of(e, id_of(json_array_get(atts, 1))), STORE_PROV_PENDING);
    recv_ok(e, p3, e->sg, 300, &c);
    assert_int_equal(c.verified, 1);
    assert_int_equal(c.pending, 0);
    assert_int_equal(prov_of(e, id_of(o[1])), STORE_PROV_VERIFIED);
    assert_int_equal(prov_of(e, id_of(json_array_get(atts, 1))), STORE_PROV_VERIFIED);
    json_decref(o[0]);
    json_decref(o[1]);
    json_decref(atts);
    json_decref(p1);
    json_decref(p2);
    json_decref(p3);
}

static void test_relayed(void **state)
{
    struct env *e = *state;
    struct prov_key *a = NULL;
    char pk[PROV_PUBKEY_TEXT];
    json_t *o = indicator(7, NULL), *atts, *page;
    struct sync_recv_counts c;

    assert_int_equal(prov_key_generate(&a), CTIX_OK);
    atts = sign(a, "CERT-In", &o, 1);
    page = page_of(&o, 1, atts);
    /* Before the trust entry: unknown publisher. */
    recv_ok(e, page, e->kr, -1, &c);
    assert_int_equal(c.quarantined, 1);
    json_decref(page);
    json_decref(o);
    json_decref(atts);

    prov_pubkey_format(prov_key_public(a), pk);
    assert_int_equal(store_trust_add(e->st, "CERT-In", pk), CTIX_OK);
    o = indicator(8, NULL);
    atts = sign(a, "CERT-In", &o, 1);
    page = page_of(&o, 1, atts);
    recv_ok(e, page, e->kr, -1, &c);
    assert_int_equal(c.verified, 1);
    assert_int_equal(prov_of(e, id_of(o)), STORE_PROV_VERIFIED);
    json_decref(page);
    json_decref(o);
    json_decref(atts);
    prov_key_free(a);
}

static json_t *delete_stmt(const struct prov_key *k, const char *pub, json_t *o, bool all)
{
    struct prov_sign_opts so = {.publisher = pub, .now_us = 1700000001000000LL};
    struct ctix_diag d;
    json_t *out = NULL;

    assert_int_equal(prov_attest_sign_delete(o, all, k, &so, &out, &d), CTIX_OK);
    return out;
}

static void test_deletion(void **state)
{
    struct env *e = *state;
    json_t *v1 = indicator(1, "2024-01-01T00:00:00.000Z");
    json_t *v2 = indicator(1, "2024-03-01T00:00:00.000Z");
    json_t *o3 = indicator(3, NULL);
    json_t *objs[3] = {v1, v2, o3};
    json_t *atts = sign(e->pub_key, "CSA Singapore", objs, 3);
    json_t *page = page_of(objs, 3, atts);
    json_t *forged, *good, *p2;
    struct sync_recv_counts c;
    struct seen s;

    recv_ok(e, page, e->sg, -1, &c);
    assert_int_equal(c.verified, 3);

    /* Signed by another trusted key (kr): not applied, the statement quarantined, kept. */
    forged = delete_stmt(e->other_key, "KrCERT", o3, true);
    p2 = json_array();
    json_array_append(p2, forged);
    recv_ok(e, p2, e->kr, -1, &c);
    assert_int_equal(c.deleted, 0);
    assert_int_equal(c.quarantined, 1);
    assert_int_equal(prov_of(e, id_of(o3)), STORE_PROV_VERIFIED);
    assert_int_equal(prov_of(e, id_of(forged)), STORE_PROV_QUARANTINED);
    json_decref(p2);

    /* By the publisher, every version of indicator 1: both versions and their attestations go,
     * the statement stays. */
    good = delete_stmt(e->pub_key, "CSA Singapore", v2, true);
    p2 = json_array();
    json_array_append(p2, good);
    recv_ok(e, p2, e->sg, -1, &c);
    assert_int_equal(c.deleted, 2);
    assert_int_equal(prov_of(e, id_of(v1)), -1);
    assert_int_equal(prov_of(e, id_of(json_array_get(atts, 0))), -1);
    assert_int_equal(prov_of(e, id_of(good)), STORE_PROV_VERIFIED);
    assert_int_equal(prov_of(e, id_of(o3)), STORE_PROV_VERIFIED);
    rows(e, &s);
    assert_int_equal(s.n, 4); /* o3, its attestation, two statements */
    json_decref(p2);
    json_decref(forged);
    json_decref(good);
    json_decref(v1);
    json_decref(v2);
    json_decref(o3);
    json_decref(atts);
    json_decref(page);
}

static void test_invalid_rejected_rest_stored(void **state)
{
    struct env *e = *state;
    json_t *o[2] = {indicator(1, NULL), indicator(2, NULL)};
    json_t *atts = sign(e->pub_key, "CSA Singapore", o, 2);
    json_t *page = json_array();
    struct sync_recv_counts c;
    struct seen s;

    json_array_append(page, o[0]);
    json_array_append_new(page, json_pack("{s:s, s:s}", "type", "indicator", "id", "nope"));
    json_array_append_new(page, json_string("not an object"));
    json_array_append(page, o[1]);
    json_array_extend(page, atts);
    recv_ok(e, page, e->sg, -1, &c);
    assert_int_equal(c.total, 6);
    assert_int_equal(c.rejected, 2);
    assert_int_equal(c.stored, 4);
    assert_int_equal(c.verified, 2);
    rows(e, &s);
    assert_int_equal(s.n, 4);
    json_decref(o[0]);
    json_decref(o[1]);
    json_decref(atts);
    json_decref(page);
}

static void test_failed_put_stores_nothing(void **state)
{
    struct env *e = *state;
    json_t *o[2] = {indicator(1, NULL), indicator(2, NULL)};
    json_t *atts = sign(e->pub_key, "CSA Singapore", o, 2);
    json_t *page = page_of(o, 2, atts);
    struct store_cursor_in cur = {.peer_id = e->sg, .cursor_us = 777};
    struct sync_recv_counts c;
    struct ctix_diag d;
    struct seen s;

    store__sqlite_fail_put_at(e->st, 3);
    assert_int_not_equal(sync_receive(&e->node, COLL, page, e->sg, &cur, &c, &d), CTIX_OK);
    rows(e, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(cursor_of(e, e->sg), -1);
    store__sqlite_fail_put_at(e->st, 0);
    recv_ok(e, page, e->sg, 777, &c);
    assert_int_equal(c.stored, 4);
    assert_int_equal(cursor_of(e, e->sg), 777);
    json_decref(o[0]);
    json_decref(o[1]);
    json_decref(atts);
    json_decref(page);
}

static void test_local_not_overwritten(void **state)
{
    struct env *e = *state;
    json_t *o = indicator(5, NULL);
    char *txt = json_dumps(o, JSON_COMPACT);
    char vkey[31];
    struct store_obj_in in = {.id = id_of(o),
                              .type = "indicator",
                              .spec_version = "2.1",
                              .version = "2024-01-01T00:00:00.000Z",
                              .version_key = vkey,
                              .json = txt,
                              .json_len = strlen(txt)};
    enum store_put_result r;
    json_t *o2 = indicator(5, NULL), *page;
    struct sync_recv_counts c;

    assert_int_equal(stix_version_key(in.version, vkey), CTIX_OK);
    assert_int_equal(store_objs_put(e->st, COLL, &in, 1, &r, NULL), CTIX_OK);
    json_object_set_new(o2, "name", json_string("changed by a peer"));
    page = page_of(&o2, 1, NULL);
    recv_ok(e, page, e->sg, -1, &c);
    assert_int_equal(c.stored, 0);
    assert_int_equal(prov_of(e, id_of(o)), STORE_PROV_LOCAL);
    free(txt);
    json_decref(o);
    json_decref(o2);
    json_decref(page);
}

static void test_sweep(void **state)
{
    struct env *e = *state;
    json_t *o = indicator(1, NULL);
    json_t *page = page_of(&o, 1, NULL);
    struct sync_recv_counts c;
    struct ctix_diag d;
    size_t nq = 99;

    recv_ok(e, page, e->sg, -1, &c);
    assert_int_equal(prov_of(e, id_of(o)), STORE_PROV_PENDING);
    /* Not yet old: stays. */
    assert_int_equal(sync_pending_sweep(&e->node, 0, &nq, &d), CTIX_OK);
    assert_int_equal(nq, 0);
    assert_int_equal(prov_of(e, id_of(o)), STORE_PROV_PENDING);
    assert_int_equal(
        sync_pending_sweep(&e->node, ctix_now_us() + SYNC_PENDING_AFTER + 1000000, &nq, &d),
        CTIX_OK);
    assert_int_equal(nq, 1);
    assert_int_equal(prov_of(e, id_of(o)), STORE_PROV_QUARANTINED);
    json_decref(o);
    json_decref(page);
}

/* ---- the client, against a tiny HTTP server ---- */

struct canned {
    int status;
    const char *ctype;
    const char *last; /* X-TAXII-Date-Added-Last, or NULL */
    const char *date; /* Date, or NULL */
    char *body;       /* owned */
    int delay_ms;
};

struct srv {
    int fd, port;
    pthread_t th;
    volatile int stop;
    struct canned resp[8];
    size_t n_resp, next; /* the last one repeats */
    size_t n_req;
    char path[8][512];
    char auth[300];
    char post[8192];
};

static void srv_answer(struct srv *s, int c)
{
    char req[16384];
    size_t len = 0;
    ssize_t r;
    char *end = NULL;
    struct canned *k;
    char head[1024];
    int hl;

    while (len < sizeof(req) - 1) {
        r = recv(c, req + len, sizeof(req) - 1 - len, 0);
        if (r <= 0)
            return;
        len += (size_t)r;
        req[len] = '\0';
        end = strstr(req, "\r\n\r\n");
        if (end != NULL) {
            const char *cl = strcasestr(req, "Content-Length:");
            size_t want = cl != NULL ? strtoul(cl + 15, NULL, 10) : 0;

            if (len - (size_t)(end + 4 - req) >= want)
                break;
        }
    }
    if (end == NULL)
        return;
    if (s->n_req < 8)
        sscanf(req, "%*s %511s", s->path[s->n_req]);
    {
        const char *a = strcasestr(req, "Authorization:");

        if (a != NULL)
            sscanf(a + 14, " %299[^\r]", s->auth);
    }
    snprintf(s->post, sizeof(s->post), "%s", end + 4);
    s->n_req++;
    k = &s->resp[s->next < s->n_resp ? s->next : s->n_resp - 1];
    s->next++;
    if (k->delay_ms > 0)
        usleep((useconds_t)k->delay_ms * 1000);
    hl = snprintf(head, sizeof(head),
                  "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s%s%s%s%s"
                  "Connection: close\r\n\r\n",
                  k->status, k->ctype, strlen(k->body), k->last ? "X-TAXII-Date-Added-Last: " : "",
                  k->last ? k->last : "", k->last ? "\r\n" : "", k->date ? "Date: " : "",
                  k->date ? k->date : "", k->date ? "\r\n" : "");
    (void)!send(c, head, (size_t)hl, MSG_NOSIGNAL);
    (void)!send(c, k->body, strlen(k->body), MSG_NOSIGNAL);
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;

    while (!s->stop) {
        struct pollfd pf = {.fd = s->fd, .events = POLLIN};
        int c;

        if (poll(&pf, 1, 50) <= 0)
            continue;
        c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        srv_answer(s, c);
        close(c);
    }
    return NULL;
}

static void srv_start(struct srv *s)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int one = 1;

    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 8), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->n_resp; i++)
        free(s->resp[i].body);
}

static void srv_add(struct srv *s, int status, const char *ctype, const char *last, char *body)
{
    assert_true(s->n_resp < 8);
    s->resp[s->n_resp++] =
        (struct canned){.status = status, .ctype = ctype, .last = last, .body = body};
}

#define TAXII "application/taxii+json;version=2.1"

/* An envelope of objs (and their attestations) with more. */
static char *envelope(json_t *page, bool more)
{
    json_t *env = json_pack("{s:b, s:O}", "more", more, "objects", page);
    char *txt = json_dumps(env, JSON_COMPACT);

    json_decref(env);
    return txt;
}

/* A peer "t" at the test server, pulling COLL. */
static int64_t srv_peer(struct env *e, struct srv *s)
{
    char url[128];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api1/", s->port);
    return peer_add_url(e->st, "t", "CSA Singapore", e->pub_key, url);
}

static void status_of(struct env *e, struct store_peer *p)
{
    assert_int_equal(store_peer_get(e->st, "t", p), CTIX_OK);
}

static void test_client_paging(void **state)
{
    struct env *e = *state;
    json_t *o[2] = {indicator(1, NULL), indicator(2, NULL)};
    json_t *atts = sign(e->pub_key, "CSA Singapore", o, 2);
    json_t *p1 = json_array(), *p2 = json_array();
    struct srv s = {0};
    struct sync_opts opts = {.timeout_us = 5000000};
    struct sync_pass pass;
    struct store_peer p;
    struct ctix_diag d;
    struct seen rs;
    int64_t id;

    json_array_append(p1, o[0]);
    json_array_append(p1, json_array_get(atts, 0));
    json_array_append(p2, o[1]);
    json_array_append(p2, json_array_get(atts, 1));
    srv_add(&s, 200, TAXII, "2024-05-01T00:00:00.000001Z", envelope(p1, true));
    srv_add(&s, 200, TAXII, "2024-05-01T00:00:00.000002Z", envelope(p2, false));
    srv_start(&s);
    id = srv_peer(e, &s);
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    srv_stop(&s);
    assert_int_equal(pass.errors, 0);
    assert_int_equal(pass.pages, 2);
    assert_int_equal(pass.stored, 4);
    rows(e, &rs);
    assert_int_equal(rs.n, 4);
    for (size_t i = 0; i < rs.n; i++)
        assert_int_equal(rs.prov[i], STORE_PROV_VERIFIED);
    assert_int_equal(cursor_of(e, id), 1714521600000002LL);
    assert_int_equal(s.n_req, 2);
    assert_string_equal(s.path[0], "/api1/collections/" COLL "/objects/?limit=1000");
    assert_string_equal(s.path[1], "/api1/collections/" COLL
                                   "/objects/?limit=1000&added_after=2024-05-01T00:00:00.000001Z");
    assert_string_equal(s.auth, "Bearer secret-token-t");
    status_of(e, &p);
    assert_true(p.last_ok_us > 0);
    assert_int_equal(p.n_errors, 0);
    assert_int_equal(p.n_received, 4);
    assert_int_equal(p.lag_objects, 2); /* the second page */
    assert_int_equal(sync_once(&e->node, "nobody", &opts, &pass, &d), CTIX_ENOTFOUND);
    json_decref(o[0]);
    json_decref(o[1]);
    json_decref(atts);
    json_decref(p1);
    json_decref(p2);
}

static enum ctix_rc text_cb(void *ctx, const struct store_row *row)
{
    char **out = ctx;

    free(*out);
    *out = strndup(row->json, row->json_len);
    return *out != NULL ? CTIX_OK : CTIX_ENOMEM;
}

/* A pulled object is stored as the sender's text compacted (escapes as sent, whitespace between
 * tokens gone), not as the parsed tree serialised again; its attestation still verifies. */
static void test_client_keeps_sender_text(void **state)
{
    struct env *e = *state;
    json_t *o[1] = {indicator(3, NULL)};
    json_t *atts, *page = json_array(), *env;
    struct srv s = {0};
    struct sync_opts opts = {.timeout_us = 5000000};
    struct sync_pass pass;
    struct store_query q;
    struct ctix_diag d;
    struct seen rs;
    char *body, *b2, *at, *stored = NULL;
    size_t cap;
    bool more = false;

    json_object_set_new(o[0], "name", json_string("cafe/x"));
    atts = sign(e->pub_key, "CSA Singapore", o, 1);
    json_array_append(page, o[0]);
    json_array_append(page, json_array_get(atts, 0));
    env = json_pack("{s:b, s:O}", "more", false, "objects", page);
    body = json_dumps(env, JSON_INDENT(2));
    json_decref(env);
    /* The same string written with escapes jansson would not use. */
    at = strstr(body, "\"cafe/x\"");
    assert_non_null(at);
    cap = strlen(body) + 16;
    b2 = malloc(cap);
    assert_non_null(b2);
    snprintf(b2, cap, "%.*s\"caf\\u0065\\/x\"%s", (int)(at - body), body, at + 8);
    free(body);
    srv_add(&s, 200, TAXII, "2024-05-01T00:00:00.000001Z", b2);
    srv_start(&s);
    (void)srv_peer(e, &s);
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    srv_stop(&s);
    assert_int_equal(pass.errors, 0);
    assert_int_equal(pass.stored, 2);
    rows(e, &rs);
    assert_int_equal(rs.n, 2);
    for (size_t i = 0; i < rs.n; i++)
        assert_int_equal(rs.prov[i], STORE_PROV_VERIFIED);
    memset(&q, 0, sizeof(q));
    q.coll_id = COLL;
    q.object_id = json_string_value(json_object_get(o[0], "id"));
    q.added_after_us = -1;
    q.limit = 1;
    q.want_json = true;
    assert_int_equal(store_objs_query(e->st, &q, text_cb, &stored, &more), CTIX_OK);
    assert_non_null(stored);
    assert_non_null(strstr(stored, "\"name\":\"caf\\u0065\\/x\""));
    assert_null(strchr(stored, '\n'));
    assert_null(strstr(stored, "\": "));
    free(stored);
    json_decref(o[0]);
    json_decref(atts);
    json_decref(page);
}

/* The page cap with more to come: the page after the last one allowed is not even asked for
 * (pages are fetched one ahead of the one being stored, never beyond the cap). */
static void test_client_page_cap(void **state)
{
    struct env *e = *state;
    json_t *o[2] = {indicator(1, NULL), indicator(2, NULL)};
    json_t *atts = sign(e->pub_key, "CSA Singapore", o, 2);
    json_t *p1 = json_array(), *p2 = json_array();
    struct srv s = {0};
    struct sync_opts opts = {.timeout_us = 5000000, .max_pages = 1};
    struct sync_pass pass;
    struct ctix_diag d;
    struct seen rs;
    int64_t id;

    json_array_append(p1, o[0]);
    json_array_append(p1, json_array_get(atts, 0));
    json_array_append(p2, o[1]);
    json_array_append(p2, json_array_get(atts, 1));
    srv_add(&s, 200, TAXII, "2024-05-01T00:00:00.000001Z", envelope(p1, true));
    srv_add(&s, 200, TAXII, "2024-05-01T00:00:00.000002Z", envelope(p2, false));
    srv_start(&s);
    id = srv_peer(e, &s);
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    assert_int_equal(s.n_req, 1);
    assert_int_equal(pass.pages, 1);
    assert_int_equal(cursor_of(e, id), 1714521600000001LL);
    /* The next pass goes on from there. */
    opts.max_pages = 0;
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    srv_stop(&s);
    assert_int_equal(s.n_req, 2);
    assert_string_equal(s.path[1], "/api1/collections/" COLL
                                   "/objects/?limit=1000&added_after=2024-05-01T00:00:00.000001Z");
    rows(e, &rs);
    assert_int_equal(rs.n, 4);
    assert_int_equal(cursor_of(e, id), 1714521600000002LL);
    json_decref(o[0]);
    json_decref(o[1]);
    json_decref(atts);
    json_decref(p1);
    json_decref(p2);
}

/* One bad answer: an error in the peer status, nothing stored, the cursor where it was. */
struct bad_case {
    const char *name;
    int status;
    const char *ctype;
    const char *last;
    const char *body; /* NULL: a valid page of one object */
    int delay_ms;
    size_t body_max;
    int64_t timeout_us;
    int64_t cursor_before;
    bool no_server;
    const char *err; /* expected in last_err */
};

static const struct bad_case bad_cases[] = {
    {"garbage", 200, TAXII, NULL, "garbage{]", 0, 0, 0, -1, false, "bad page"},
    {"media type", 200, "application/json", "2024-05-01T00:00:00.000001Z", NULL, 0, 0, 0, -1, false,
     "Content-Type"},
    {"bundle", 200, TAXII, NULL, "{\"type\":\"bundle\",\"objects\":[]}", 0, 0, 0, -1, false,
     "not a TAXII envelope"},
    {"more not boolean", 200, TAXII, NULL, "{\"more\":1}", 0, 0, 0, -1, false, "more"},
    {"no date header", 200, TAXII, NULL, NULL, 0, 0, 0, -1, false, "X-TAXII-Date-Added-Last"},
    {"huge", 200, TAXII, "2024-05-01T00:00:00.000001Z", NULL, 0, 200, 0, -1, false, "larger than"},
    {"401", 401, TAXII, NULL, "{}", 0, 0, 0, -1, false, "token refused (HTTP 401)"},
    {"503", 503, TAXII, NULL, "{}", 0, 0, 0, -1, false, "peer error (HTTP 503)"},
    {"backwards", 200, TAXII, "2024-05-01T00:00:00.000001Z", NULL, 0, 0, 0, 1714521600000005LL,
     false, "backwards"},
    {"timeout", 200, TAXII, "2024-05-01T00:00:00.000001Z", NULL, 1500, 0, 300000, -1, false,
     "timeout"},
    {"refused", 0, NULL, NULL, NULL, 0, 0, 0, -1, true, ""},
};

static void test_client_bad_answers(void **state)
{
    struct env *e = *state;

    for (size_t i = 0; i < CTIX_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *bc = &bad_cases[i];
        json_t *o = indicator(1, NULL), *page = page_of(&o, 1, NULL);
        struct srv s = {0};
        struct sync_opts opts = {.timeout_us = bc->timeout_us > 0 ? bc->timeout_us : 5000000,
                                 .body_max = bc->body_max};
        struct sync_pass pass;
        struct store_peer p;
        struct ctix_diag d;
        struct seen rs;
        int64_t id;

        print_message("case %s\n", bc->name);
        if (!bc->no_server) {
            srv_add(&s, bc->status, bc->ctype, bc->last,
                    bc->body != NULL ? strdup(bc->body) : envelope(page, false));
            s.resp[0].delay_ms = bc->delay_ms;
            srv_start(&s);
            id = srv_peer(e, &s);
        } else {
            id = peer_add_url(e->st, "t", "CSA Singapore", e->pub_key, "http://127.0.0.1:1/");
        }
        if (bc->cursor_before >= 0) {
            struct store_cursor_in cur = {.peer_id = id, .cursor_us = bc->cursor_before};

            assert_int_equal(store_objs_put_pull(e->st, COLL, NULL, 0, NULL, NULL, &cur), CTIX_OK);
        }
        assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
        if (!bc->no_server)
            srv_stop(&s);
        assert_int_equal(pass.errors, 1);
        status_of(e, &p);
        assert_int_equal(p.n_errors, 1);
        assert_int_equal(p.last_ok_us, 0);
        assert_true(p.last_err_us > 0);
        assert_non_null(strstr(p.last_err, bc->err));
        assert_null(strstr(p.last_err, "secret"));
        rows(e, &rs);
        assert_int_equal(rs.n, 0);
        assert_int_equal(cursor_of(e, id), bc->cursor_before);
        assert_int_equal(store_peer_remove(e->st, "t"), CTIX_OK);
        json_decref(o);
        json_decref(page);
    }
}

/* A peer whose port answers a TLS ClientHello with plain HTTP at once, as a misconfigured proxy
 * would: the handshake fails with "wrong version number". */
static void *plain_answer(void *arg)
{
    int fd = *(int *)arg, c = accept(fd, NULL, NULL);
    static const char r[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

    if (c >= 0) {
        if (write(c, r, sizeof(r) - 1) < 0) {
            /* the client may already be gone */
        }
        close(c);
    }
    return NULL;
}

/* A TLS error: the peer is configured as https:// but the other end speaks plain HTTP, so the
 * handshake fails. A logged error and a visible status, nothing stored, the cursor unmoved, and
 * never the token in the message. */
static void test_client_tls_error(void **state)
{
    struct env *e = *state;
    struct sync_opts opts = {.timeout_us = 5000000};
    struct sync_pass pass;
    struct store_peer p;
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    struct ctix_diag d;
    struct seen rs;
    pthread_t th;
    char url[128];
    int64_t id;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    assert_int_equal(pthread_create(&th, NULL, plain_answer, &fd), 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/api1/", ntohs(a.sin_port));
    id = peer_add_url(e->st, "t", "CSA Singapore", e->pub_key, url);
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    pthread_join(th, NULL);
    close(fd);
    assert_int_equal(pass.errors, 1);
    status_of(e, &p);
    assert_int_equal(p.n_errors, 1);
    assert_int_equal(p.last_ok_us, 0);
    assert_non_null(strstr(p.last_err, "TLS"));
    assert_null(strstr(p.last_err, "secret"));
    rows(e, &rs);
    assert_int_equal(rs.n, 0);
    assert_int_equal(cursor_of(e, id), -1);
    assert_int_equal(store_peer_remove(e->st, "t"), CTIX_OK);
}

static void test_client_endless_more(void **state)
{
    struct env *e = *state;
    json_t *o = indicator(1, NULL), *page = page_of(&o, 1, NULL);
    struct srv s = {0};
    struct sync_opts opts = {.timeout_us = 5000000};
    struct sync_pass pass;
    struct store_peer p;
    struct ctix_diag d;
    int64_t id;

    /* The same page, more: true, the same date, forever. */
    srv_add(&s, 200, TAXII, "2024-05-01T00:00:00.000001Z", envelope(page, true));
    srv_start(&s);
    id = srv_peer(e, &s);
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    srv_stop(&s);
    assert_int_equal(s.n_req, 2); /* stopped at the second page, not a loop */
    status_of(e, &p);
    assert_int_equal(p.n_errors, 1);
    assert_non_null(strstr(p.last_err, "did not advance"));
    /* The first page was whole: it is stored with its cursor. */
    assert_int_equal(cursor_of(e, id), 1714521600000001LL);
    assert_int_equal(prov_of(e, id_of(o)), STORE_PROV_PENDING);
    json_decref(o);
    json_decref(page);
}

static void test_client_clock_skew(void **state)
{
    struct env *e = *state;
    struct srv s = {0};
    struct sync_opts opts = {.timeout_us = 5000000};
    struct sync_pass pass;
    struct store_peer p;
    struct ctix_diag d;

    srv_add(&s, 200, TAXII, NULL, strdup("{}"));
    s.resp[0].date = "Mon, 01 Jan 2001 00:00:00 GMT";
    srv_start(&s);
    (void)srv_peer(e, &s);
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    srv_stop(&s);
    status_of(e, &p);
    assert_int_equal(p.n_errors, 0);
    assert_true(p.last_ok_us > 0);
    assert_non_null(strstr(p.last_err, "clock off"));
}

/* ---- push ---- */

static void local_put(struct env *e, json_t *o)
{
    char *txt = json_dumps(o, JSON_COMPACT);
    char vkey[31];
    const char *ver = json_string_value(json_object_get(o, "modified"));
    struct store_obj_in in = {.id = id_of(o),
                              .type = "indicator",
                              .spec_version = "2.1",
                              .version = ver,
                              .version_key = vkey,
                              .json = txt,
                              .json_len = strlen(txt),
                              .tlp = (int)policy_tlp_marked(o)};
    enum store_put_result r;

    assert_int_equal(stix_version_key(ver, vkey), CTIX_OK);
    assert_int_equal(store_objs_put(e->st, COLL, &in, 1, &r, NULL), CTIX_OK);
    free(txt);
}

static void test_push(void **state)
{
    struct env *e = *state;
    json_t *amber = indicator(1, NULL), *red = indicator(2, NULL), *recv = indicator(3, NULL);
    json_t *page = page_of(&recv, 1, NULL);
    struct srv s = {0};
    struct sync_opts opts = {.timeout_us = 5000000};
    struct sync_pass pass;
    struct sync_recv_counts c;
    struct store_peer p;
    struct ctix_diag d;
    int64_t id, n_out = -1;

    json_object_set_new(
        red, "object_marking_refs",
        json_pack("[s]", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"));
    local_put(e, amber);
    local_put(e, red);
    srv_add(&s, 503, TAXII, NULL, strdup("{}"));
    srv_add(&s, 200, TAXII, NULL, strdup("{}"));
    srv_add(&s, 202, TAXII, NULL, strdup("{\"id\":\"x\",\"status\":\"complete\"}"));
    srv_start(&s);
    id = srv_peer(e, &s);
    assert_int_equal(store_peer_coll_add(e->st, id, COLL, STORE_DIR_PUSH), CTIX_OK);
    /* Received from this very peer: never sent back. */
    recv_ok(e, page, id, -1, &c);
    /* Pass 1: pull (503: the pass stops there), nothing pushed. */
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    status_of(e, &p);
    assert_int_equal(p.n_errors, 1);
    /* Pass 2: pull ok ({}), push: amber allowed by the agreement, red denied, ours only. */
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    srv_stop(&s);
    assert_int_equal(pass.errors, 0);
    assert_int_equal(pass.pushed, 1);
    assert_int_equal(s.n_req, 3);
    assert_string_equal(s.path[2], "/api1/collections/" COLL "/objects/");
    assert_non_null(strstr(s.post, id_of(amber)));
    assert_null(strstr(s.post, id_of(red)));
    assert_null(strstr(s.post, id_of(recv)));
    assert_int_equal(store_outbox_count(e->st, id, &n_out), CTIX_OK);
    assert_int_equal(n_out, 0);
    status_of(e, &p);
    assert_int_equal(p.n_sent, 1);
    json_decref(amber);
    json_decref(red);
    json_decref(recv);
    json_decref(page);
}

static void test_push_fails_to_outbox(void **state)
{
    struct env *e = *state;
    json_t *o = indicator(1, NULL), *arr = json_array();
    struct store_outbox *due = NULL;
    size_t n_due = 0, nq = 0;
    struct ctix_diag d;
    struct sync_pass pass;
    struct sync_opts opts = {.timeout_us = 2000000};
    int64_t id;

    id = peer_add_url(e->st, "t", "CSA Singapore", e->pub_key, "http://127.0.0.1:1/");
    json_array_append(arr, o);
    assert_int_equal(sync_push(&e->node, "t", COLL, arr, &nq, &d), CTIX_OK);
    assert_int_equal(nq, 1);
    assert_int_equal(sync_push(&e->node, "nobody", COLL, arr, &nq, &d), CTIX_ENOTFOUND);
    assert_int_equal(sync_once(&e->node, "t", &opts, &pass, &d), CTIX_OK);
    assert_int_equal(pass.errors, 1);
    /* Still queued, not due before its backoff. */
    assert_int_equal(store_outbox_due(e->st, id, ctix_now_us(), 10, &due, &n_due), CTIX_OK);
    assert_int_equal(n_due, 0);
    store_outbox_free(due, n_due);
    assert_int_equal(store_outbox_due(e->st, id, ctix_now_us() + 3600000000LL, 10, &due, &n_due),
                     CTIX_OK);
    assert_int_equal(n_due, 1);
    assert_int_equal(due[0].attempts, 1);
    assert_non_null(strstr(due[0].json, id_of(o)));
    store_outbox_free(due, n_due);
    json_decref(o);
    json_decref(arr);
}

/* ---- the runner ---- */

static void wait_for(volatile size_t *n, size_t want, int64_t max_us)
{
    int64_t t0 = ctix_mono_us();

    while (*n < want && ctix_mono_us() - t0 < max_us)
        usleep(20000);
}

static void test_runner(void **state)
{
    struct env *e = *state;
    struct srv a = {0}, b = {0};
    struct sync_opts opts = {.interval_us = 100000, .timeout_us = 2000000};
    struct sync_runner *r = NULL;
    char url[128];
    size_t seen_a;
    int64_t t0;

    srv_add(&a, 200, TAXII, NULL, strdup("{}"));
    srv_add(&b, 503, TAXII, NULL, strdup("{}"));
    srv_start(&a);
    srv_start(&b);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", a.port);
    (void)peer_add_url(e->st, "a", "CSA Singapore", e->pub_key, url);
    assert_int_equal(sync_runner_start(&e->node, &opts, &r), CTIX_OK);
    /* Polled every interval. */
    wait_for((volatile size_t *)&a.n_req, 3, 5000000);
    assert_true(a.n_req >= 3);
    /* A peer added while it runs is picked up; a failing one backs off (fewer requests). */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", b.port);
    (void)peer_add_url(e->st, "b", "KrCERT", e->other_key, url);
    wait_for((volatile size_t *)&b.n_req, 1, 5000000);
    assert_true(b.n_req >= 1);
    /* A removed peer is dropped. */
    assert_int_equal(store_peer_remove(e->st, "a"), CTIX_OK);
    usleep(2500000);
    seen_a = a.n_req;
    usleep(500000);
    assert_int_equal(a.n_req, seen_a);
    assert_true(b.n_req < 12); /* 3 s at 0.1 s would be 30: backoff */
    t0 = ctix_mono_us();
    sync_runner_stop(r);
    assert_true(ctix_mono_us() - t0 < 1500000);
    srv_stop(&a);
    srv_stop(&b);
}

/* A RED row's recipients, read on a thread that then ends: the names stay valid until the
 * thread's next call, and nothing of them outlives the thread (under ASan the old per-thread
 * jansson value leaked here). */
struct red_call {
    const char *json;
    struct policy_object po;
    char first[64];
};

static void *red_main(void *arg)
{
    struct red_call *rc = arg;
    struct store_row row;

    memset(&row, 0, sizeof(row));
    row.tlp = STIX_TLP_RED;
    row.json = rc->json;
    row.json_len = strlen(rc->json);
    sync_row_object(NULL, &row, &rc->po);
    if (rc->po.n_recipients > 0)
        snprintf(rc->first, sizeof(rc->first), "%s", rc->po.recipients[0]);
    return NULL;
}

static void test_row_red_recipients(void **state)
{
    struct red_call rc = {.json =
                              "{\"type\":\"indicator\",\"x_ctix_recipients\":[\"alice\",\"bob\"]}"};
    struct store_row row;
    struct policy_object po;
    pthread_t th;

    (void)state;
    assert_int_equal(pthread_create(&th, NULL, red_main, &rc), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(rc.po.n_recipients, 2);
    assert_string_equal(rc.first, "alice");
    /* On this thread: both names, then another row's replace them. */
    memset(&row, 0, sizeof(row));
    row.tlp = STIX_TLP_RED;
    row.json = rc.json;
    row.json_len = strlen(rc.json);
    sync_row_object(NULL, &row, &po);
    assert_int_equal(po.n_recipients, 2);
    assert_string_equal(po.recipients[0], "alice");
    assert_string_equal(po.recipients[1], "bob");
    row.json = "{\"x_ctix_recipients\":[\"carol\"]}";
    row.json_len = strlen(row.json);
    sync_row_object(NULL, &row, &po);
    assert_int_equal(po.n_recipients, 1);
    assert_string_equal(po.recipients[0], "carol");
    /* Not RED: no recipients, even when the JSON names some. */
    row.tlp = STIX_TLP_AMBER;
    sync_row_object(NULL, &row, &po);
    assert_int_equal(po.n_recipients, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_att_id_agrees_with_prov),
        T(test_verified_then_duplicate),
        T(test_tampered_and_unknown),
        T(test_pending_then_verified),
        T(test_relayed),
        T(test_deletion),
        T(test_invalid_rejected_rest_stored),
        T(test_failed_put_stores_nothing),
        T(test_local_not_overwritten),
        T(test_sweep),
        T(test_client_paging),
        T(test_client_keeps_sender_text),
        T(test_client_page_cap),
        T(test_client_bad_answers),
        T(test_client_tls_error),
        T(test_client_endless_more),
        T(test_client_clock_skew),
        T(test_push),
        T(test_push_fails_to_outbox),
        T(test_runner),
        cmocka_unit_test(test_row_red_recipients),
    };

    ctix_log_set_level(CTIX_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
