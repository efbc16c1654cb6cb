/* sync: the client — pull passes over a peer's collections (TAXII 2.1 objects GET, walked by
 * added_after), push passes (local collection -> policy -> durable outbox -> POST), and
 * sync_once, which runs both for one peer or all.
 *
 * Every answer of a peer is untrusted: status, media type, size, JSON shape and the date headers
 * are checked before anything is stored, and a page is stored whole with its cursor or not at
 * all. A failing peer is a logged error and a peer status, never a crash: the next peer runs.
 * The peer's token goes into one request header and nowhere else (no log, no diag, no status). */
#include "sync/sync.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sync/sync_int.h"

#define MEDIA_TAXII    "application/taxii+json;version=2.1"
#define PAGES_PER_PASS 10000
#define PUSH_PAGES     100
#define CLOCK_SKEW_MAX (5 * 60 * 1000000LL)
#define OUTBOX_BATCH   100
#define ERR_MAX        256

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- the page parser (sync_int.h; the fuzz target drives it) ---- */

bool sync__media_ok(const char *ctype)
{
    static const char base[] = "application/taxii+json";
    const char *p = ctype;
    size_t n = sizeof(base) - 1;

    if (p == NULL || strncasecmp(p, base, n) != 0)
        return false;
    p += n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return true; /* no version: "the latest the server supports" */
    if (*p != ';')
        return false;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "version=2.1", 11) != 0)
        return false;
    p += 11;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '\0';
}

enum ctix_rc sync__page_parse(const char *body, size_t len, const char *ctype,
                              const char *date_last, struct sync_page *out, struct ctix_diag *diag)
{
    json_t *root = NULL, *objs, *more;
    struct stix_span *spans = NULL;
    size_t n_spans = 0;
    enum ctix_rc rc = CTIX_EINVAL;

    memset(out, 0, sizeof(*out));
    out->last_us = -1;
    if (!sync__media_ok(ctype)) {
        ctix_diag_set(diag, "Content-Type", "not the TAXII 2.1 media type: %.80s",
                      ctype != NULL && ctype[0] != '\0' ? ctype : "(none)");
        goto out;
    }
    rc = stix_json_parse_spans(body != NULL ? body : "", body != NULL ? len : 0, &root, &spans,
                               &n_spans, diag);
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EINVAL;
    if (!json_is_object(root) || json_object_get(root, "type") != NULL) {
        ctix_diag_set(diag, NULL, "the body is not a TAXII envelope");
        goto out;
    }
    more = json_object_get(root, "more");
    if (more != NULL && !json_is_boolean(more)) {
        ctix_diag_set(diag, "more", "not a boolean");
        goto out;
    }
    objs = json_object_get(root, "objects");
    if (objs != NULL && !json_is_array(objs)) {
        ctix_diag_set(diag, "objects", "not an array");
        goto out;
    }
    if (date_last != NULL && date_last[0] != '\0') {
        struct ctix_ts ts;

        if (ctix_ts_parse(date_last, strlen(date_last), &ts) != CTIX_OK) {
            ctix_diag_set(diag, "X-TAXII-Date-Added-Last", "not a timestamp");
            goto out;
        }
        out->last_us = ctix_ts_to_us(&ts);
    }
    if (json_array_size(objs) > 0 && out->last_us < 0) {
        ctix_diag_set(diag, "X-TAXII-Date-Added-Last", "missing on a page with objects");
        goto out;
    }
    out->more = json_is_true(more);
    out->objects = objs != NULL ? json_incref(objs) : json_array();
    rc = out->objects != NULL ? CTIX_OK : CTIX_ENOMEM;
    if (rc == CTIX_OK && n_spans == json_array_size(out->objects) && n_spans > 0) {
        out->spans = spans; /* the parser records exactly the elements of "objects" */
        spans = NULL;
    }
out:
    free(spans);
    json_decref(root);
    return rc;
}

void sync__page_cleanup(struct sync_page *pg)
{
    json_decref(pg->objects);
    free(pg->spans);
    pg->objects = NULL;
    pg->spans = NULL;
}

/* ---- HTTP ---- */

struct http_res {
    long status;
    struct buf body;
    bool too_big;
    char ctype[128];
    char date_last[64];
    char date[64];
    char err[ERR_MAX]; /* a transport failure, for people */
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct http_res *r = ctx;
    size_t n = size * nmemb;

    if (buf_append(&r->body, p, n) != CTIX_OK) {
        r->too_big = true;
        return 0; /* aborts the transfer */
    }
    return n;
}

static void header_copy(const char *v, size_t n, char *out, size_t cap)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
    static const struct {
        const char *name;
        size_t off, cap;
    } want[] = {
        {"content-type:", offsetof(struct http_res, ctype), sizeof(((struct http_res *)0)->ctype)},
        {"x-taxii-date-added-last:", offsetof(struct http_res, date_last),
         sizeof(((struct http_res *)0)->date_last)},
        {"date:", offsetof(struct http_res, date), sizeof(((struct http_res *)0)->date)},
    };
    struct http_res *r = ctx;
    size_t n = size * nmemb;

    for (size_t i = 0; i < CTIX_ARRAY_LEN(want); i++) {
        size_t k = strlen(want[i].name);

        if (n >= k && strncasecmp(p, want[i].name, k) == 0)
            header_copy(p + k, n - k, (char *)r + want[i].off, want[i].cap);
    }
    return n;
}

static void http_res_init(struct http_res *r, size_t body_max)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, body_max);
}

static void http_res_cleanup(struct http_res *r)
{
    buf_cleanup(&r->body);
}

static size_t body_max_of(const struct sync_opts *o)
{
    return o != NULL && o->body_max > 0 ? o->body_max : SYNC_BODY_MAX;
}

static int64_t timeout_of(const struct sync_opts *o)
{
    return o != NULL && o->timeout_us > 0 ? o->timeout_us : 30 * 1000000LL;
}

/* One request to the peer: GET (post == NULL) or POST of an envelope. CTIX_OK when an HTTP
 * answer came (r->status says which); CTIX_EIO with r->err for transport failures (refused,
 * timeout, TLS, too big). */
static enum ctix_rc http_do(const struct store_peer *p, const struct sync_opts *o, const char *url,
                            const char *post, size_t post_len, struct http_res *r)
{
    CURL *h = NULL;
    struct curl_slist *hdrs = NULL, *t;
    struct buf auth;
    char errbuf[CURL_ERROR_SIZE] = "";
    long ms = (long)(timeout_of(o) / 1000);
    CURLcode cc;
    enum ctix_rc rc = CTIX_ENOMEM;

    pthread_once(&curl_once, curl_init_once);
    buf_init(&auth, STORE_TOKEN_MAX + 64);
    h = curl_easy_init();
    if (h == NULL || buf_appends(&auth, "Authorization: Bearer ") != CTIX_OK ||
        buf_appends(&auth, p->token) != CTIX_OK)
        goto out;
    hdrs = curl_slist_append(NULL, "Accept: " MEDIA_TAXII);
    t = hdrs != NULL ? curl_slist_append(hdrs, auth.data) : NULL;
    if (t != NULL && post != NULL)
        t = curl_slist_append(hdrs, "Content-Type: " MEDIA_TAXII);
    if (t == NULL)
        goto out;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ctix-sync/1");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms > 0 && ms < 10000 ? ms : 10000L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o != NULL && o->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)body_max_of(o));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (post != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
    }
    cc = curl_easy_perform(h);
    rc = CTIX_OK;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    } else {
        rc = CTIX_EIO;
        if (r->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            r->too_big = true;
            snprintf(r->err, sizeof(r->err), "response larger than %zu bytes", body_max_of(o));
        } else if (cc == CURLE_OPERATION_TIMEDOUT) {
            snprintf(r->err, sizeof(r->err), "timeout after %ld ms", ms);
        } else if (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION ||
                   cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM) {
            snprintf(r->err, sizeof(r->err), "TLS: %.200s",
                     errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
        } else {
            snprintf(r->err, sizeof(r->err), "%.200s",
                     errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
        }
    }
out:
    curl_slist_free_all(hdrs);
    if (h != NULL)
        curl_easy_cleanup(h);
    /* The token was in this buffer: wipe it before freeing. */
    if (auth.data != NULL)
        memset(auth.data, 0, auth.cap);
    buf_cleanup(&auth);
    return rc;
}

/* "peer error: HTTP 503", "token refused (HTTP 401)"… for a status other than want. */
static void status_err(long status, long want, char *err, size_t n)
{
    if (status == 401 || status == 403)
        snprintf(err, n, "token refused (HTTP %ld)", status);
    else if (status >= 500)
        snprintf(err, n, "peer error (HTTP %ld)", status);
    else
        snprintf(err, n, "unexpected HTTP status %ld (expected %ld)", status, want);
}

/* The peer's HTTP Date against our clock: a warning text when off by more than 5 minutes. */
static void clock_check(const char *date, char *warn, size_t n)
{
    struct tm tm;
    const char *end;
    int64_t peer_us, skew;

    if (date == NULL || date[0] == '\0')
        return;
    memset(&tm, 0, sizeof(tm));
    end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL)
        return;
    peer_us = (int64_t)timegm(&tm) * 1000000LL;
    skew = peer_us - ctix_now_us();
    if (skew > CLOCK_SKEW_MAX || skew < -CLOCK_SKEW_MAX)
        snprintf(warn, n, "peer clock off by %lld s", (long long)(skew / 1000000));
}

static enum ctix_rc url_make(struct buf *u, const struct store_peer *p, const char *coll_id,
                             int64_t cursor_us, size_t limit)
{
    size_t ul = strlen(p->url);
    enum ctix_rc rc = buf_appends(u, p->url);

    if (rc == CTIX_OK && (ul == 0 || p->url[ul - 1] != '/'))
        rc = buf_appends(u, "/");
    if (rc == CTIX_OK)
        rc = buf_appendf(u, "collections/%s/objects/", coll_id);
    if (rc == CTIX_OK && limit > 0)
        rc = buf_appendf(u, "?limit=%zu", limit);
    if (rc == CTIX_OK && cursor_us >= 0) {
        char ts[28];

        ctix_ts_format_us(cursor_us, ts);
        rc = buf_appendf(u, "&added_after=%s", ts);
    }
    return rc;
}

/* ---- peer status ---- */

struct tally {
    size_t pages, objects, stored, quarantined, pushed;
    int64_t lag_objects, lag_us;
    char warn[ERR_MAX]; /* a non-fatal finding (clock skew) */
};

/* Records a pass in the peer's status: err NULL for success. */
static void status_record(struct store *st, int64_t peer_id, const char *err, const struct tally *t)
{
    struct store_peer p;
    int64_t now = ctix_now_us();

    if (store_peer_get_by_id(st, peer_id, &p) != CTIX_OK)
        return; /* removed meanwhile */
    p.n_received += (int64_t)t->stored;
    p.n_quarantined += (int64_t)t->quarantined;
    p.n_sent += (int64_t)t->pushed;
    if (err != NULL) {
        p.last_err_us = now;
        ctix_strlcpy(p.last_err, err, sizeof(p.last_err));
        p.n_errors++;
    } else {
        p.last_ok_us = now;
        p.lag_objects = t->lag_objects;
        p.lag_us = t->lag_us;
        if (t->warn[0] != '\0') {
            p.last_err_us = now;
            snprintf(p.last_err, sizeof(p.last_err), "warning: %.200s", t->warn);
        }
    }
    if (store_peer_status_set(st, &p) != CTIX_OK)
        ctix_log(CTIX_LOG_ERROR, "sync", "event=status_failed peer=%s", p.name);
}

/* ---- pull ---- */

/* One page of a pull: its GET, and when the answer is a good page its parse and sync__prepare
 * (validation, texts, verification within the page), run in a thread of its own when started
 * ahead: page n+1 is fetched and checked while page n is stored, on another core. Only
 * sync__commit touches the store; it runs in the caller's thread, in page order. */
struct fetch {
    pthread_t th;
    bool threaded; /* th is to be joined */
    const struct store_peer *p;
    const struct sync_opts *o;
    const char *actor;
    struct prov_verifier *v; /* used by one fetch at a time */
    int64_t cursor;          /* added_after of the GET */
    struct buf url;
    struct http_res r;
    enum ctix_rc rc; /* of the GET */
    enum ctix_rc parse_rc;
    struct ctix_diag d; /* the parse failure */
    struct sync_page pg;
    enum ctix_rc prep_rc;
    struct sync__prep *prep; /* NULL when not prepared */
};

static void *fetch_main(void *arg)
{
    struct fetch *f = arg;

    f->rc = http_do(f->p, f->o, f->url.data, NULL, 0, &f->r);
    if (f->rc != CTIX_OK || f->r.status != 200)
        return NULL;
    ctix_diag_clear(&f->d);
    f->parse_rc =
        sync__page_parse(f->r.body.data, f->r.body.len, f->r.ctype, f->r.date_last, &f->pg, &f->d);
    /* A page the caller refuses (its cursor did not advance) is not even checked. */
    if (f->parse_rc == CTIX_OK && json_array_size(f->pg.objects) > 0 && f->pg.last_us > f->cursor)
        f->prep_rc =
            sync__prepare(f->pg.objects, f->r.body.data, f->pg.spans, f->actor, f->v, &f->prep);
    return NULL;
}

/* Starts the page after cursor: in a thread when ahead is set (synchronously when no thread can
 * be made), else now. fetch_wait gives the GET's outcome. */
static void fetch_start(struct fetch *f, const struct store_peer *p,
                        const struct store_peer_coll *pc, const struct sync_opts *o,
                        const char *actor, struct prov_verifier *v, int64_t cursor, size_t limit,
                        bool ahead)
{
    memset(f, 0, sizeof(*f));
    f->p = p;
    f->o = o;
    f->actor = actor;
    f->v = v;
    f->cursor = cursor;
    buf_init(&f->url, STORE_URL_MAX + 256);
    http_res_init(&f->r, body_max_of(o));
    f->rc = url_make(&f->url, p, pc->coll_id, cursor, limit);
    if (f->rc != CTIX_OK)
        return;
    if (ahead && pthread_create(&f->th, NULL, fetch_main, f) == 0) {
        f->threaded = true;
        return;
    }
    fetch_main(f);
}

static enum ctix_rc fetch_wait(struct fetch *f)
{
    if (f->threaded) {
        pthread_join(f->th, NULL);
        f->threaded = false;
    }
    return f->rc;
}

static void fetch_cleanup(struct fetch *f)
{
    (void)fetch_wait(f);
    sync__prep_free(f->prep);
    sync__page_cleanup(&f->pg);
    http_res_cleanup(&f->r);
    buf_cleanup(&f->url);
    memset(f, 0, sizeof(*f));
}

/* Pulls one collection until the peer says no more (or the page cap). err gets the reason of a
 * failure; nothing partial is ever stored (each page is one sync__commit). Page n+1 is fetched
 * and prepared (it needs only n's X-TAXII-Date-Added-Last) while page n is stored; when storing
 * n fails, n+1 is awaited and dropped, and the next pass asks for it again. */
static enum ctix_rc pull_coll(const struct sync_node *node, const struct store_peer *p,
                              const struct store_peer_coll *pc, const struct sync_opts *o,
                              struct tally *t, char *err, size_t errn)
{
    int64_t cursor = pc->cursor_us;
    size_t limit = o != NULL && o->page_limit > 0 ? o->page_limit : SYNC_PAGE_MAX;
    size_t max_pages = o != NULL && o->max_pages > 0 ? o->max_pages : PAGES_PER_PASS;
    size_t fetched = 0;
    bool more = true;
    char actor[STORE_NAME_MAX];
    struct fetch fa, fb, *cur = &fa, *next = &fb;
    /* Two verifiers: one for the pages prepared ahead (one at a time), one for the commits. */
    struct sync__verify vf, vf_ahead;
    enum ctix_rc rc = sync__verify_init(node->st, &vf);

    memset(&fa, 0, sizeof(fa));
    memset(&fb, 0, sizeof(fb));
    if (rc == CTIX_OK) {
        rc = sync__verify_init(node->st, &vf_ahead);
        if (rc != CTIX_OK)
            sync__verify_cleanup(&vf);
    }
    if (rc != CTIX_OK) {
        snprintf(err, errn, "loading the trusted keys: %s", ctix_strerror(rc));
        return rc;
    }
    sync__peer_name(node->st, p->id, actor, sizeof(actor));
    fetch_start(cur, p, pc, o, actor, vf_ahead.v, cursor, limit, false);
    for (size_t page = 0; rc == CTIX_OK && more && page < max_pages; page++) {
        struct http_res *r = &cur->r;
        struct sync_page *pg = &cur->pg;
        struct sync_recv_counts c;
        struct ctix_diag d;
        struct fetch *tmp;

        rc = fetch_wait(cur);
        if (rc == CTIX_EIO) {
            snprintf(err, errn, "%s", r->err);
        } else if (rc == CTIX_OK && r->status != 200) {
            status_err(r->status, 200, err, errn);
            rc = CTIX_EIO;
        } else if (rc == CTIX_OK) {
            if (t->warn[0] == '\0')
                clock_check(r->date, t->warn, sizeof(t->warn));
            rc = cur->parse_rc;
            if (rc != CTIX_OK)
                snprintf(err, errn, "bad page: %.60s%s%.150s", cur->d.where,
                         cur->d.where[0] != '\0' ? ": " : "", cur->d.msg);
        }
        if (rc == CTIX_OK && json_array_size(pg->objects) > 0 && pg->last_us <= cursor) {
            /* Every object of a page is added after the cursor: an unchanged or older last
             * date means the peer ignores added_after (an endless loop) or went back. */
            snprintf(err, errn,
                     pg->last_us < cursor ? "peer moved its cursor backwards"
                                          : "peer's cursor did not advance");
            rc = CTIX_EINVAL;
        }
        if (rc == CTIX_OK && json_array_size(pg->objects) > 0 && cur->prep_rc != CTIX_OK) {
            rc = cur->prep_rc;
            snprintf(err, errn, "storing a page: checking the page: %s", ctix_strerror(rc));
        }
        /* An empty page that says more (objects deleted meanwhile) cannot move added_after:
         * the rest waits for the next pass. */
        more = rc == CTIX_OK && pg->more && json_array_size(pg->objects) > 0;
        if (more && page + 1 < max_pages)
            fetch_start(next, p, pc, o, actor, vf_ahead.v, pg->last_us, limit, true);
        if (rc == CTIX_OK && json_array_size(pg->objects) > 0) {
            struct store_cursor_in cin = {.peer_id = p->id, .cursor_us = pg->last_us};

            rc = sync__commit(node, pc->coll_id, cur->prep, p->id, &cin, &vf, &c, &d);
            if (rc != CTIX_OK) {
                snprintf(err, errn, "storing a page: %.200s", d.msg);
            } else {
                t->pages++;
                t->objects += c.total;
                t->stored += c.stored;
                t->quarantined += c.quarantined;
                if (page > 0)
                    fetched += c.total;
                cursor = pg->last_us;
            }
        }
        more = more && rc == CTIX_OK;
        fetch_cleanup(cur);
        tmp = cur;
        cur = next;
        next = tmp;
    }
    fetch_cleanup(cur); /* a page fetched ahead and not stored (failure, page cap) */
    if (rc == CTIX_OK) {
        /* Lag: how many objects this pass fetched beyond its first page (how far behind it
         * started), and, when the page cap stopped it with more to come, how old the last
         * object stored is by the peer's date_added. */
        t->lag_objects += (int64_t)fetched;
        if (more && cursor >= 0 && ctix_now_us() - cursor > t->lag_us)
            t->lag_us = ctix_now_us() - cursor;
    }
    sync__verify_cleanup(&vf_ahead);
    sync__verify_cleanup(&vf);
    return rc;
}

/* ---- push ---- */

static void push_requester(const struct store_peer *p, struct policy_requester *req)
{
    memset(req, 0, sizeof(*req));
    req->rel = POLICY_REL_PEER;
    req->org_id = p->org_id;
    req->peer_id = p->id;
    req->agreement = p->max_tlp >= STIX_TLP_NONE && p->max_tlp <= STIX_TLP_RED
                         ? (enum stix_tlp)p->max_tlp
                         : STIX_TLP_NONE;
}

/* The objects of one push envelope: one "sent" audit entry lists them all, appended once the
 * envelope is queued (an entry per object made pushing cost a hash and a write per object). */
struct push_audit {
    struct prov_audit_entry e;
    uint32_t reasons; /* bit r: some object went for policy reason r */
};

static void push_audit_append(const struct sync_node *node, struct prov_audit_entry *e)
{
    struct ctix_diag d;

    ctix_diag_clear(&d);
    if (prov_audit_append(node->audit, e, &d) != CTIX_OK)
        ctix_log(CTIX_LOG_ERROR, "sync", "event=audit_failed what=\"%s\"", d.msg);
}

/* Appends the "sent" entry of the objects listed so far (if any) and empties the list. */
static void push_audit_flush(const struct sync_node *node, const char *peer, struct push_audit *a)
{
    size_t len = 0;

    if (node->audit == NULL || a->e.n_objects == 0)
        goto out;
    a->e.time_us = ctix_now_us();
    ctix_strlcpy(a->e.event, "sent", sizeof(a->e.event));
    ctix_strlcpy(a->e.actor, peer != NULL ? peer : "", sizeof(a->e.actor));
    ctix_strlcpy(a->e.channel, "push", sizeof(a->e.channel));
    ctix_strlcpy(a->e.verdict, "allow", sizeof(a->e.verdict));
    a->e.reason[0] = '\0';
    for (unsigned r = 0; r < 32 && r < POLICY_R_COUNT_; r++) {
        if (a->reasons & (1u << r)) {
            int k = snprintf(a->e.reason + len, sizeof(a->e.reason) - len, "%s%s",
                             len > 0 ? "," : "", policy_reason_name((enum policy_reason)r));

            if (k > 0 && (size_t)k < sizeof(a->e.reason) - len)
                len += (size_t)k;
        }
    }
    push_audit_append(node, &a->e);
out:
    prov_audit_entry_cleanup(&a->e);
    a->reasons = 0;
}

static void push_audit_add(const struct sync_node *node, const char *peer, struct push_audit *a,
                           const char *id, const char *ver, enum policy_reason why)
{
    enum ctix_rc rc;

    if (node->audit == NULL)
        return;
    if ((unsigned)why < 32)
        a->reasons |= 1u << why;
    rc = prov_audit_entry_object_add(&a->e, id, ver != NULL ? ver : "");
    if (rc == CTIX_ETOOBIG) {
        push_audit_flush(node, peer, a); /* a list that big takes more than one entry */
        rc = prov_audit_entry_object_add(&a->e, id, ver != NULL ? ver : "");
    }
    if (rc != CTIX_OK)
        ctix_log(CTIX_LOG_ERROR, "sync", "event=audit_failed what=\"%s\"", ctix_strerror(rc));
}

struct push_walk {
    const struct sync_node *node;
    const struct store_peer *p;
    struct policy_requester req;
    struct buf env; /* the objects of the envelope, comma-separated */
    size_t n_allowed;
    int64_t last_us; /* date_added of the last row walked past */
    bool blocked;    /* stopped at a PENDING row: it may still verify */
    struct push_audit sent;
};

static enum ctix_rc push_cb(void *ctx, const struct store_row *row)
{
    struct push_walk *w = ctx;
    struct policy_object obj;
    enum policy_reason why = POLICY_R_BAD_FACTS;
    enum ctix_rc rc = CTIX_OK;

    if (row->origin == w->p->id) {
        w->last_us = row->date_added_us; /* it came from there: not a send, not a denial */
        goto out;
    }
    if (row->prov == STORE_PROV_PENDING) {
        w->blocked = true;
        rc = CTIX_ECONFLICT; /* stops the walk here: the cursor must not pass it */
        goto out;
    }
    sync_row_object(w->node, row, &obj);
    if (policy_may_send(&w->node->policy, &obj, &w->req, POLICY_CH_PUSH, &why) != POLICY_ALLOW) {
        sync__audit(w->node, "denied", w->p->name, row->id, row->version, "push", "deny",
                    policy_reason_name(why));
        w->last_us = row->date_added_us;
        goto out;
    }
    if (w->n_allowed > 0)
        rc = buf_append(&w->env, ",", 1);
    if (rc == CTIX_OK)
        rc = buf_append(&w->env, row->json, row->json_len);
    if (rc != CTIX_OK)
        goto out;
    w->n_allowed++;
    w->last_us = row->date_added_us;
    push_audit_add(w->node, w->p->name, &w->sent, row->id, row->version, why);
out:
    return rc;
}

/* Wraps the comma-separated objects in an envelope and queues it. */
static enum ctix_rc outbox_queue(struct store *st, int64_t peer_id, const char *coll_id,
                                 const struct buf *objs)
{
    struct buf env;
    int64_t id = 0;
    enum ctix_rc rc;

    buf_init(&env, objs->len + 64);
    rc = buf_appends(&env, "{\"objects\":[");
    if (rc == CTIX_OK && objs->len > 0)
        rc = buf_append(&env, objs->data, objs->len);
    if (rc == CTIX_OK)
        rc = buf_appends(&env, "]}");
    if (rc == CTIX_OK)
        rc = store_outbox_add(st, peer_id, coll_id, env.data, env.len, &id);
    buf_cleanup(&env);
    return rc;
}

/* Walks the local collection from the push cursor: what policy allows goes to the outbox, and
 * the cursor moves past what was walked (queue first, then cursor: a crash in between queues
 * twice, and the peer takes the second copy as a duplicate). */
static enum ctix_rc push_coll(const struct sync_node *node, const struct store_peer *p,
                              const struct store_peer_coll *pc, char *err, size_t errn)
{
    int64_t cursor = pc->cursor_us;
    bool more = true;
    enum ctix_rc rc = CTIX_OK;

    for (size_t page = 0; rc == CTIX_OK && more && page < PUSH_PAGES; page++) {
        struct push_walk w;
        struct store_query q;

        memset(&w, 0, sizeof(w));
        w.node = node;
        w.p = p;
        w.last_us = cursor;
        push_requester(p, &w.req);
        buf_init(&w.env, SYNC_BODY_MAX / 2);
        memset(&q, 0, sizeof(q));
        q.coll_id = pc->coll_id;
        q.added_after_us = cursor;
        q.limit = SYNC_PAGE_MAX;
        q.vsel = STORE_V_ALL;
        q.want_json = true;
        rc = store_objs_query(node->st, &q, push_cb, &w, &more);
        if (rc == CTIX_ECONFLICT && w.blocked) {
            rc = CTIX_OK;
            more = false;
        }
        if (rc == CTIX_OK && w.n_allowed > 0)
            rc = outbox_queue(node->st, p->id, pc->coll_id, &w.env);
        /* Queued: the envelope's objects are as good as sent. Not queued: none are. */
        if (rc == CTIX_OK)
            push_audit_flush(node, p->name, &w.sent);
        prov_audit_entry_cleanup(&w.sent.e);
        if (rc == CTIX_OK && w.last_us != cursor) {
            rc =
                store_peer_coll_cursor_set(node->st, p->id, pc->coll_id, STORE_DIR_PUSH, w.last_us);
            cursor = w.last_us;
        }
        if (rc != CTIX_OK)
            snprintf(err, errn, "push walk of %s: %s", pc->coll_id, ctix_strerror(rc));
        buf_cleanup(&w.env);
    }
    sync__audit_sync(node);
    return rc;
}

static int64_t backoff_us(int attempts, const struct sync_opts *o)
{
    int64_t max = o != NULL && o->backoff_max_us > 0 ? o->backoff_max_us : 60 * 1000000LL;
    int64_t d = 1000000LL;
    uint32_t r = 0;

    for (int i = 0; i < attempts && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    if (ctix_random(&r, sizeof(r)) == CTIX_OK)
        d = d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1)); /* jitter: [d/2, d] */
    return d;
}

/* POSTs the due envelopes of the peer's outbox, oldest first. */
static enum ctix_rc outbox_deliver(const struct sync_node *node, const struct store_peer *p,
                                   const struct sync_opts *o, struct tally *t, char *err,
                                   size_t errn)
{
    struct store_outbox *due = NULL;
    size_t n = 0;
    bool failed = false;
    enum ctix_rc rc = store_outbox_due(node->st, p->id, ctix_now_us(), OUTBOX_BATCH, &due, &n);

    for (size_t i = 0; rc == CTIX_OK && i < n && !failed; i++) {
        struct http_res r;
        struct buf url;
        char why[ERR_MAX] = "";
        enum ctix_rc hr;

        buf_init(&url, STORE_URL_MAX + 256);
        http_res_init(&r, 1u << 20);
        hr = url_make(&url, p, due[i].coll_id, -1, 0);
        if (hr == CTIX_OK)
            hr = http_do(p, o, url.data, due[i].json, due[i].json_len, &r);
        if (hr == CTIX_EIO)
            snprintf(why, sizeof(why), "%s", r.err);
        else if (hr == CTIX_OK && r.status != 202)
            status_err(r.status, 202, why, sizeof(why));
        else if (hr != CTIX_OK)
            snprintf(why, sizeof(why), "%s", ctix_strerror(hr));
        if (why[0] == '\0') {
            json_t *env = json_loadb(due[i].json, due[i].json_len, 0, NULL);

            t->pushed += json_array_size(json_object_get(env, "objects"));
            json_decref(env);
            rc = store_outbox_done(node->st, due[i].id);
        } else {
            /* The queue keeps its order: after one failure the rest waits for the retry. */
            failed = true;
            snprintf(err, errn, "push: %s", why);
            rc = store_outbox_retry(node->st, due[i].id,
                                    ctix_now_us() + backoff_us(due[i].attempts, o), why);
        }
        http_res_cleanup(&r);
        buf_cleanup(&url);
    }
    store_outbox_free(due, n);
    if (rc == CTIX_OK && failed)
        rc = CTIX_EIO;
    return rc;
}

/* ---- one peer, every peer ---- */

static enum ctix_rc peer_pass(const struct sync_node *node, const struct store_peer *p,
                              const struct sync_opts *o, struct sync_pass *pass)
{
    struct store_peer_coll *pcs = NULL;
    size_t n = 0;
    struct tally t;
    char err[ERR_MAX] = "";
    enum ctix_rc rc = store_peer_coll_list(node->st, p->id, &pcs, &n);

    memset(&t, 0, sizeof(t));
    if (rc != CTIX_OK)
        snprintf(err, sizeof(err), "listing collections: %s", ctix_strerror(rc));
    /* The outbox first: what failed before goes before anything new. */
    if (rc == CTIX_OK)
        rc = outbox_deliver(node, p, o, &t, err, sizeof(err));
    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        if (pcs[i].dir == STORE_DIR_PULL)
            rc = pull_coll(node, p, &pcs[i], o, &t, err, sizeof(err));
    }
    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        if (pcs[i].dir == STORE_DIR_PUSH)
            rc = push_coll(node, p, &pcs[i], err, sizeof(err));
    }
    if (rc == CTIX_OK)
        rc = outbox_deliver(node, p, o, &t, err, sizeof(err));
    if (rc != CTIX_OK) {
        if (err[0] == '\0')
            snprintf(err, sizeof(err), "%s", ctix_strerror(rc));
        ctix_log(CTIX_LOG_ERROR, "sync", "event=sync_failed peer=%s reason=\"%s\"", p->name, err);
    } else if (t.warn[0] != '\0') {
        ctix_log(CTIX_LOG_WARN, "sync", "event=clock_skew peer=%s reason=\"%s\"", p->name, t.warn);
    }
    status_record(node->st, p->id, rc != CTIX_OK ? err : NULL, &t);
    if (pass != NULL) {
        pass->pages += t.pages;
        pass->objects += t.objects;
        pass->stored += t.stored;
        pass->quarantined += t.quarantined;
        pass->pushed += t.pushed;
        pass->errors += rc != CTIX_OK;
    }
    free(pcs);
    return rc;
}

enum ctix_rc sync__peer_pass(const struct sync_node *node, const struct store_peer *p,
                             const struct sync_opts *opts, struct sync_pass *pass)
{
    return peer_pass(node, p, opts, pass);
}

enum ctix_rc sync_once(const struct sync_node *node, const char *peer_name,
                       const struct sync_opts *opts, struct sync_pass *pass, struct ctix_diag *diag)
{
    struct store_peer *peers = NULL;
    size_t n = 0;
    size_t nq = 0;
    enum ctix_rc rc = CTIX_EINVAL;

    if (pass != NULL)
        memset(pass, 0, sizeof(*pass));
    if (node == NULL || node->st == NULL)
        goto out;
    rc = store_peer_list(node->st, &peers, &n);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, NULL, "listing peers: %s", ctix_strerror(rc));
        goto out;
    }
    if (peer_name != NULL) {
        bool found = false;

        for (size_t i = 0; i < n; i++) {
            if (strcmp(peers[i].name, peer_name) == 0) {
                found = true;
                (void)peer_pass(node, &peers[i], opts, pass);
            }
        }
        if (!found) {
            rc = CTIX_ENOTFOUND;
            ctix_diag_set(diag, NULL, "no peer named \"%.100s\"", peer_name);
            goto out;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            (void)peer_pass(node, &peers[i], opts, pass);
    }
    rc = sync_pending_sweep(node, 0, &nq, diag);
    if (pass != NULL)
        pass->quarantined += nq;
out:
    free(peers);
    return rc;
}

/* ---- explicit pushes ---- */

struct one_row {
    bool found;
    struct policy_object obj;
    const struct sync_node *node;
};

static enum ctix_rc one_row_cb(void *ctx, const struct store_row *row)
{
    struct one_row *r = ctx;

    r->found = true;
    sync_row_object(r->node, row, &r->obj);
    return CTIX_OK;
}

static enum ctix_rc att_text_cb(void *ctx, const struct store_row *row)
{
    return buf_append(ctx, row->json, row->json_len);
}

enum ctix_rc sync_push(const struct sync_node *node, const char *peer_name, const char *coll_id,
                       const json_t *objects, size_t *n_queued, struct ctix_diag *diag)
{
    struct store_peer p;
    struct policy_requester req;
    struct push_audit sent;
    struct buf env;
    size_t n_ok = 0;
    enum ctix_rc rc = CTIX_EINVAL;

    memset(&sent, 0, sizeof(sent));
    buf_init(&env, SYNC_BODY_MAX / 2);
    ctix_diag_clear(diag);
    if (n_queued != NULL)
        *n_queued = 0;
    if (node == NULL || node->st == NULL || peer_name == NULL || coll_id == NULL ||
        !json_is_array(objects))
        goto out;
    rc = store_peer_get(node->st, peer_name, &p);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, NULL, "no peer named \"%.100s\"", peer_name);
        goto out;
    }
    push_requester(&p, &req);
    for (size_t i = 0; rc == CTIX_OK && i < json_array_size(objects); i++) {
        const json_t *j = json_array_get(objects, i);
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *ver = json_string_value(json_object_get(j, "modified"));
        const char *names[64];
        char vkey[31] = "";
        const char *keys[1] = {vkey};
        struct one_row r;
        struct store_query q;
        enum policy_reason why = POLICY_R_BAD_FACTS;
        bool more = false;
        char *text;
        size_t len = 0;

        if (ver == NULL)
            ver = json_string_value(json_object_get(j, "created"));
        if (id == NULL || !json_is_object(j)) {
            rc = CTIX_EINVAL;
            ctix_diag_set(diag, NULL, "element %zu is not an object with an id", i);
            break;
        }
        /* A stored object's facts are the store's (origin, prov); a new one is ours. */
        memset(&r, 0, sizeof(r));
        r.node = node;
        memset(&q, 0, sizeof(q));
        q.coll_id = coll_id;
        q.object_id = id;
        q.added_after_us = -1;
        q.limit = 1;
        q.want_json = true;
        if (ver != NULL && stix_version_key(ver, vkey) == CTIX_OK) {
            q.version_keys = keys;
            q.n_versions = 1;
        }
        rc = store_objs_query(node->st, &q, one_row_cb, &r, &more);
        if (rc == CTIX_ENOTFOUND)
            rc = CTIX_OK;
        if (rc != CTIX_OK)
            break;
        if (!r.found) {
            r.obj.tlp = policy_tlp_marked(j);
            r.obj.origin = POLICY_ORIGIN_LOCAL;
            r.obj.n_recipients = policy_recipients_get(j, names, CTIX_ARRAY_LEN(names));
            r.obj.recipients = r.obj.n_recipients > 0 ? names : NULL;
        }
        if (policy_may_send(&node->policy, &r.obj, &req, POLICY_CH_PUSH, &why) != POLICY_ALLOW) {
            sync__audit(node, "denied", p.name, id, ver, "push", "deny", policy_reason_name(why));
            continue;
        }
        text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text == NULL) {
            rc = CTIX_ENOMEM;
            break;
        }
        len = strlen(text);
        rc = n_ok > 0 ? buf_append(&env, ",", 1) : CTIX_OK;
        if (rc == CTIX_OK)
            rc = buf_append(&env, text, len);
        free(text);
        /* Its attestation by this node goes with it, when there is one. */
        if (rc == CTIX_OK && node->key != NULL) {
            char aid[STIX_ID_MAX];
            size_t before = env.len;

            rc = prov_att_id(prov_key_public(node->key), PROV_PUBLISH, id, ver, aid);
            if (rc == CTIX_OK)
                rc = buf_append(&env, ",", 1);
            if (rc == CTIX_OK) {
                memset(&q, 0, sizeof(q));
                q.coll_id = coll_id;
                q.object_id = aid;
                q.added_after_us = -1;
                q.limit = 1;
                q.vsel = STORE_V_LAST;
                q.want_json = true;
                rc = store_objs_query(node->st, &q, att_text_cb, &env, &more);
                if (rc == CTIX_ENOTFOUND)
                    rc = CTIX_OK;
            }
            if (rc == CTIX_OK && env.len == before + 1)
                env.len = before; /* none: drop the comma */
        }
        if (rc != CTIX_OK)
            break;
        n_ok++;
        push_audit_add(node, p.name, &sent, id, ver, why);
    }
    if (rc == CTIX_OK && n_ok > 0)
        rc = outbox_queue(node->st, p.id, coll_id, &env);
    if (rc == CTIX_OK)
        push_audit_flush(node, p.name, &sent);
    if (rc == CTIX_OK && n_queued != NULL)
        *n_queued = n_ok;
    if (rc != CTIX_OK && diag != NULL && diag->msg[0] == '\0')
        ctix_diag_set(diag, NULL, "queueing a push to %.100s: %s", peer_name, ctix_strerror(rc));
    sync__audit_sync(node);
out:
    prov_audit_entry_cleanup(&sent.e);
    buf_cleanup(&env);
    return rc;
}
