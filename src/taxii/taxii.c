/* The TAXII 2.1 endpoints (§C2): routing, the checks of §C6 in order, and the resources. A request
 * is judged once in taxii_request_begin() (route, method, media types, key, collection, rights,
 * size, filters) and served in taxii_request_handle(); what begin learnt travels in resp->state.
 * Reads splice the stored JSON bytes into the envelope and parse nothing. */
#include "taxii/taxii.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/prov.h"
#include "taxii/taxii_int.h"

#define PATH_MAX_LEN 2048

enum route {
    R_HEALTH,
    R_DISCOVERY,
    R_ROOT,
    R_STATUS,
    R_COLLECTIONS,
    R_COLLECTION,
    R_OBJECTS,
    R_OBJECT,
    R_MANIFEST,
    R_VERSIONS,
    R_PEERS, /* ctix-specific, outside the API root: /ctix/peers/ */
};

enum { M_GET = 1, M_HEAD = 2, M_POST = 4, M_DELETE = 8 };

#define Q_LIST (TAXII_Q_ADDED_AFTER | TAXII_Q_LIMIT | TAXII_Q_NEXT)
#define Q_ALL  (Q_LIST | TAXII_Q_ID | TAXII_Q_TYPE | TAXII_Q_VERSION | TAXII_Q_SPEC_VERSION)

/* What each endpoint accepts (§C2 and §C4's per-endpoint filters). */
static const struct route_info {
    const char *name;
    unsigned methods;
    bool in_collection;
    unsigned q_get;    /* filters on GET/HEAD */
    unsigned q_delete; /* filters on DELETE */
    char endpoint;     /* cursor scope of the paginated endpoints */
} routes[] = {
    [R_HEALTH] = {"healthz", M_GET | M_HEAD, false, 0, 0, 0},
    [R_DISCOVERY] = {"discovery", M_GET | M_HEAD, false, 0, 0, 0},
    [R_ROOT] = {"api-root", M_GET | M_HEAD, false, 0, 0, 0},
    [R_STATUS] = {"status", M_GET | M_HEAD, false, 0, 0, 0},
    [R_COLLECTIONS] = {"collections", M_GET | M_HEAD, false, 0, 0, 0},
    [R_COLLECTION] = {"collection", M_GET | M_HEAD, true, 0, 0, 0},
    [R_OBJECTS] = {"objects", M_GET | M_HEAD | M_POST, true, Q_ALL, 0, 'o'},
    [R_OBJECT] = {"object", M_GET | M_HEAD | M_DELETE, true,
                  Q_LIST | TAXII_Q_VERSION | TAXII_Q_SPEC_VERSION,
                  TAXII_Q_VERSION | TAXII_Q_SPEC_VERSION, 'g'},
    [R_MANIFEST] = {"manifest", M_GET | M_HEAD, true, Q_ALL, 0, 'm'},
    [R_VERSIONS] = {"versions", M_GET | M_HEAD, true, Q_LIST | TAXII_Q_SPEC_VERSION, 0, 'v'},
    [R_PEERS] = {"peers", M_GET | M_HEAD, false, 0, 0, 0},
};

/* The error titles, one per status this API answers with. */
static const struct {
    int status;
    const char *title;
} error_titles[] = {
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {413, "Payload Too Large"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Entity"},
    {500, "Internal Server Error"},
};

/* Recently judged (collection reference, key) pairs: the collection and the key's rights on it. */
#define RIGHTS_SLOTS 64

struct rights_slot {
    char coll_ref[STORE_NAME_MAX];
    int64_t key_id;
    int64_t expires_us; /* 0: empty */
    struct store_collection coll;
    bool can_read, can_write;
};

struct taxii_server {
    struct store *st;
    struct taxii_config cfg; /* strings below are owned copies */
    unsigned char secret[TAXII_SECRET_LEN];
    struct auth_cache *keys;
    pthread_mutex_t rights_lock;
    struct rights_slot rights[RIGHTS_SLOTS];
    const struct sync_node *node; /* cfg.node, or own */
    struct sync_node own;         /* without cfg.node: the organisation from the store */
    struct taxii__deny_cache denied;
};

struct taxii_req_state {
    enum route route;
    unsigned method;
    bool ready; /* begin() accepted the request */
    struct auth_principal who;
    struct store_collection coll;
    bool can_read, can_write;
    char coll_ref[STORE_NAME_MAX];
    char object_id[STIX_ID_MAX];
    char status_id[40];
    struct taxii_query q;
    int64_t after_us; /* lower bound from added_after or next, -1 for none */
    size_t limit;
};

/* ---- responses ---- */

void taxii_response_init(struct taxii_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    buf_init(&resp->body, TAXII_RESP_MAX);
    ctix_strlcpy(resp->org, "-", sizeof(resp->org));
}

static void state_free(struct taxii_req_state *s)
{
    if (s == NULL)
        return;
    taxii_query_cleanup(&s->q);
    free(s);
}

void taxii_response_cleanup(struct taxii_response *resp)
{
    buf_cleanup(&resp->body);
    state_free(resp->state);
    resp->state = NULL;
}

void taxii_error_reply(struct taxii_response *resp, int status, const char *title,
                       const char *description)
{
    char code[8];
    enum ctix_rc rc;

    snprintf(code, sizeof(code), "%d", status);
    buf_reset(&resp->body);
    resp->status = status;
    resp->date_first[0] = '\0';
    resp->date_last[0] = '\0';
    resp->www_authenticate = status == 401;
    rc = buf_appends(&resp->body, "{\"title\":");
    if (rc == CTIX_OK)
        rc = buf_append_json_str(&resp->body, title, strlen(title));
    if (rc == CTIX_OK && description != NULL) {
        rc = buf_appends(&resp->body, ",\"description\":");
        if (rc == CTIX_OK)
            rc = buf_append_json_str(&resp->body, description, strlen(description));
    }
    if (rc == CTIX_OK)
        rc = buf_appendf(&resp->body, ",\"http_status\":\"%s\"}", code);
    if (rc != CTIX_OK) {
        /* Out of memory while reporting: the status line alone still tells the truth. */
        buf_cleanup(&resp->body);
        resp->content_type = NULL;
        return;
    }
    resp->content_type = TAXII_MEDIA_TYPE;
}

/* taxii_error_reply() with the title every response of that status carries. */
static void reply_error(struct taxii_response *resp, int status, const char *description)
{
    const char *title = "Error";

    for (size_t i = 0; i < CTIX_ARRAY_LEN(error_titles); i++) {
        if (error_titles[i].status == status)
            title = error_titles[i].title;
    }
    taxii_error_reply(resp, status, title, description);
}

/* An unexpected failure of a lower layer: never leak its details to the client. */
static void reply_rc(struct taxii_response *resp, enum ctix_rc rc)
{
    if (rc == CTIX_ENOTFOUND)
        reply_error(resp, 404, "no such resource");
    else if (rc == CTIX_ETOOBIG)
        reply_error(resp, 413, "the response or request is too large");
    else
        reply_error(resp, 500, ctix_strerror(rc));
}

void taxii_error_too_big(struct taxii_server *srv, struct taxii_response *resp)
{
    char desc[128];

    snprintf(desc, sizeof(desc), "the body is larger than max_content_length (%zu bytes)",
             srv->cfg.max_content_length);
    reply_error(resp, 413, desc);
}

static void reply_json(struct taxii_response *resp, int status)
{
    resp->status = status;
    resp->content_type = TAXII_MEDIA_TYPE;
}

/* ---- server ---- */

/* The HMAC key of next tokens: made once per node and kept, so tokens survive a restart and
 * every process serving the same store accepts the others' tokens. */
static enum ctix_rc secret_load(struct store *st, unsigned char key[TAXII_SECRET_LEN])
{
    char hex[2 * TAXII_SECRET_LEN + 1];
    enum ctix_rc rc = store_meta_get(st, "next_secret", hex, sizeof(hex));

    if (rc == CTIX_OK && ctix_unhex(hex, key, TAXII_SECRET_LEN))
        goto out;
    if (rc != CTIX_OK && rc != CTIX_ENOTFOUND && rc != CTIX_ETOOBIG)
        goto out;
    rc = ctix_random(key, TAXII_SECRET_LEN);
    if (rc != CTIX_OK)
        goto out;
    ctix_hex(key, TAXII_SECRET_LEN, hex);
    rc = store_meta_set(st, "next_secret", hex);
out:
    return rc;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void config_free(struct taxii_config *c)
{
    free((char *)c->title);
    free((char *)c->description);
    free((char *)c->contact);
    free((char *)c->api_root);
}

/* The node whose policy every read obeys. Without one from the caller: this store's node
 * organisation (none on a store that was never initialised: then nobody is the own
 * organisation, which only ever withholds more). */
static enum ctix_rc node_setup(struct taxii_server *srv, struct store *st,
                               const struct sync_node *node)
{
    struct store_org org;
    enum ctix_rc rc = CTIX_OK;

    if (node != NULL) {
        srv->node = node;
        goto out;
    }
    srv->node = &srv->own;
    srv->own.st = st;
    rc = store_meta_get(st, "node_org", srv->own.org, sizeof(srv->own.org));
    if (rc == CTIX_ENOTFOUND) {
        srv->own.org[0] = '\0';
        rc = CTIX_OK;
        goto out;
    }
    if (rc == CTIX_OK)
        rc = store_org_get(st, srv->own.org, &org);
    if (rc == CTIX_OK)
        srv->own.org_id = org.id;
    if (rc == CTIX_ENOTFOUND)
        rc = CTIX_OK;
out:
    return rc;
}

enum ctix_rc taxii_server_new(struct store *st, const struct taxii_config *cfg,
                              struct taxii_server **out)
{
    struct taxii_server *srv = NULL;
    enum ctix_rc rc = CTIX_EINVAL;

    if (st == NULL || cfg == NULL || cfg->title == NULL || cfg->api_root == NULL ||
        cfg->api_root[0] == '\0' || strchr(cfg->api_root, '/') != NULL ||
        strcmp(cfg->api_root, "taxii2") == 0 || cfg->max_content_length == 0 || cfg->max_page == 0)
        goto out;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    srv->st = st;
    srv->cfg = *cfg;
    pthread_mutex_init(&srv->rights_lock, NULL);
    taxii__deny_cache_init(&srv->denied);
    srv->cfg.title = dup_or_null(cfg->title);
    srv->cfg.description = dup_or_null(cfg->description);
    srv->cfg.contact = dup_or_null(cfg->contact);
    srv->cfg.api_root = dup_or_null(cfg->api_root);
    if (srv->cfg.title == NULL || srv->cfg.api_root == NULL ||
        (cfg->description != NULL && srv->cfg.description == NULL) ||
        (cfg->contact != NULL && srv->cfg.contact == NULL)) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    if (srv->cfg.default_page == 0 || srv->cfg.default_page > srv->cfg.max_page)
        srv->cfg.default_page = srv->cfg.max_page;
    rc = secret_load(st, srv->secret);
    if (rc == CTIX_OK)
        rc = auth_cache_new(cfg->cache_ttl_us, &srv->keys);
    if (rc == CTIX_OK)
        rc = node_setup(srv, st, cfg->node);
    if (rc != CTIX_OK)
        goto out;
    *out = srv;
    srv = NULL;
out:
    taxii_server_free(srv);
    return rc;
}

void taxii_server_free(struct taxii_server *srv)
{
    if (srv == NULL)
        return;
    config_free(&srv->cfg);
    auth_cache_free(srv->keys);
    pthread_mutex_destroy(&srv->rights_lock);
    taxii__deny_cache_cleanup(&srv->denied);
    free(srv);
}

/* ---- routing ---- */

static unsigned method_bit(const char *m)
{
    if (m == NULL)
        return 0;
    if (strcmp(m, "GET") == 0)
        return M_GET;
    if (strcmp(m, "HEAD") == 0)
        return M_HEAD;
    if (strcmp(m, "POST") == 0)
        return M_POST;
    if (strcmp(m, "DELETE") == 0)
        return M_DELETE;
    return 0;
}

/* Maps a path to a route and its parameters. Every TAXII URL ends with '/' (§C1). */
static bool route_parse(const struct taxii_server *srv, const char *path, struct taxii_req_state *s)
{
    char copy[PATH_MAX_LEN], *seg[8];
    size_t len, n = 0;
    bool ok = false;

    if (path == NULL || path[0] != '/')
        goto out;
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/healthz/") == 0) {
        s->route = R_HEALTH;
        ok = true;
        goto out;
    }
    len = strlen(path);
    if (len < 2 || len >= sizeof(copy) || path[len - 1] != '/')
        goto out;
    memcpy(copy, path + 1, len - 1);
    copy[len - 2] = '\0'; /* drop the trailing '/' */
    for (char *p = copy;;) {
        char *slash = strchr(p, '/');

        if (*p == '/' || *p == '\0' || n == CTIX_ARRAY_LEN(seg))
            goto out; /* empty segment, or deeper than any endpoint */
        seg[n++] = p;
        if (slash == NULL)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    if (n == 1 && strcmp(seg[0], "taxii2") == 0) {
        s->route = R_DISCOVERY;
        ok = true;
        goto out;
    }
    if (n == 2 && strcmp(seg[0], "ctix") == 0 && strcmp(seg[1], "peers") == 0) {
        s->route = R_PEERS;
        ok = true;
        goto out;
    }
    if (strcmp(seg[0], srv->cfg.api_root) != 0)
        goto out;
    if (n == 1) {
        s->route = R_ROOT;
        ok = true;
    } else if (n == 3 && strcmp(seg[1], "status") == 0) {
        s->route = R_STATUS;
        ok = strlen(seg[2]) < sizeof(s->status_id);
        ctix_strlcpy(s->status_id, seg[2], sizeof(s->status_id));
    } else if (strcmp(seg[1], "collections") == 0) {
        if (n >= 3) {
            if (strlen(seg[2]) >= sizeof(s->coll_ref))
                goto out;
            ctix_strlcpy(s->coll_ref, seg[2], sizeof(s->coll_ref));
        }
        if (n >= 5) {
            if (strlen(seg[4]) >= sizeof(s->object_id))
                goto out;
            ctix_strlcpy(s->object_id, seg[4], sizeof(s->object_id));
        }
        ok = true;
        if (n == 2)
            s->route = R_COLLECTIONS;
        else if (n == 3)
            s->route = R_COLLECTION;
        else if (n == 4 && strcmp(seg[3], "objects") == 0)
            s->route = R_OBJECTS;
        else if (n == 4 && strcmp(seg[3], "manifest") == 0)
            s->route = R_MANIFEST;
        else if (n == 5 && strcmp(seg[3], "objects") == 0)
            s->route = R_OBJECT;
        else if (n == 6 && strcmp(seg[3], "objects") == 0 && strcmp(seg[5], "versions") == 0)
            s->route = R_VERSIONS;
        else
            ok = false;
    }
out:
    return ok;
}

/* ---- begin: every check that needs no body, in the order of §C6 ---- */

static unsigned rights_slot_of(const char *coll_ref, int64_t key_id)
{
    unsigned h = 2166136261u;

    for (const char *p = coll_ref; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ (unsigned)key_id) * 16777619u;
    return h % RIGHTS_SLOTS;
}

/* The collection s->coll_ref and the requester's rights on it, from the cache when fresh. */
static enum ctix_rc collection_rights(struct taxii_server *srv, struct taxii_req_state *s)
{
    struct rights_slot *sl = &srv->rights[rights_slot_of(s->coll_ref, s->who.key_id)];
    int64_t now = ctix_mono_us();
    bool hit = false;
    enum ctix_rc rc;

    if (srv->cfg.cache_ttl_us > 0) {
        pthread_mutex_lock(&srv->rights_lock);
        if (sl->expires_us > now && sl->key_id == s->who.key_id &&
            strcmp(sl->coll_ref, s->coll_ref) == 0) {
            s->coll = sl->coll;
            s->can_read = sl->can_read;
            s->can_write = sl->can_write;
            hit = true;
        }
        pthread_mutex_unlock(&srv->rights_lock);
        if (hit)
            return CTIX_OK;
    }
    rc = store_collection_get(srv->st, s->coll_ref, &s->coll);
    if (rc == CTIX_OK) {
        rc = auth_rights(srv->st, &s->who, s->coll.id, &s->can_read, &s->can_write);
        if (rc == CTIX_ENOTFOUND)
            rc = CTIX_EIO; /* the collection vanished under us */
    }
    if (rc == CTIX_OK && srv->cfg.cache_ttl_us > 0) {
        pthread_mutex_lock(&srv->rights_lock);
        ctix_strlcpy(sl->coll_ref, s->coll_ref, sizeof(sl->coll_ref));
        sl->key_id = s->who.key_id;
        sl->coll = s->coll;
        sl->can_read = s->can_read;
        sl->can_write = s->can_write;
        sl->expires_us = now + srv->cfg.cache_ttl_us;
        pthread_mutex_unlock(&srv->rights_lock);
    }
    return rc;
}

static bool check_collection(struct taxii_server *srv, struct taxii_req_state *s,
                             struct taxii_response *resp)
{
    enum ctix_rc rc = collection_rights(srv, s);
    bool ok = false;

    if (rc == CTIX_ENOTFOUND) {
        reply_error(resp, 404, "no such collection");
        goto out;
    }
    if (rc != CTIX_OK) {
        reply_rc(resp, rc);
        goto out;
    }
    /* Without any right the requester may not learn that the collection exists. */
    if (!s->can_read && !s->can_write) {
        reply_error(resp, 404, "no such collection");
        goto out;
    }
    if (s->method == M_POST && !s->can_write) {
        reply_error(resp, 403, "no write access to this collection");
        goto out;
    }
    if (s->method == M_DELETE) {
        if (!s->can_read || !s->can_write || !auth_may_delete(&s->who, s->can_read, s->can_write)) {
            reply_error(resp, 403, "may not delete from this collection");
            goto out;
        }
    }
    if ((s->method & (M_GET | M_HEAD)) && !s->can_read && s->route != R_COLLECTION) {
        reply_error(resp, 403, "no read access to this collection");
        goto out;
    }
    ok = true;
out:
    return ok;
}

static bool check_query(struct taxii_server *srv, const struct taxii_request *req,
                        struct taxii_req_state *s, struct taxii_response *resp)
{
    const struct route_info *ri = &routes[s->route];
    unsigned allowed = s->method == M_DELETE ? ri->q_delete : s->method == M_POST ? 0 : ri->q_get;
    struct ctix_diag d;
    char desc[400];
    enum ctix_rc rc;
    bool ok = false;

    ctix_diag_clear(&d);
    rc = taxii_query_parse(req->query, req->query != NULL ? strlen(req->query) : 0, allowed, &s->q,
                           &d);
    if (rc == CTIX_EINVAL) {
        snprintf(desc, sizeof(desc), "%s%s%s", d.where, d.where[0] != '\0' ? ": " : "", d.msg);
        reply_error(resp, 400, desc);
        goto out;
    }
    if (rc != CTIX_OK) {
        reply_rc(resp, rc);
        goto out;
    }
    s->after_us = s->q.has_added_after ? s->q.added_after_us : -1;
    if (s->q.next != NULL) {
        struct taxii_cursor_scope scope = {s->coll.id, ri->endpoint, s->object_id, &s->q};
        int64_t cur;

        if (taxii__cursor_decode(srv->secret, &scope, s->q.next, &cur) != CTIX_OK) {
            reply_error(resp, 400, "next: not a token issued for this request and its filters");
            goto out;
        }
        if (cur > s->after_us)
            s->after_us = cur;
    }
    s->limit = srv->cfg.default_page;
    if (s->q.has_limit)
        s->limit = s->q.limit < srv->cfg.max_page ? (size_t)s->q.limit : srv->cfg.max_page;
    ok = true;
out:
    return ok;
}

bool taxii_request_begin(struct taxii_server *srv, const struct taxii_request *req,
                         struct taxii_response *resp, size_t *max_body)
{
    struct taxii_req_state *s;
    enum ctix_rc rc;
    bool ok = false;

    *max_body = 0;
    state_free(resp->state);
    resp->state = s = calloc(1, sizeof(*s));
    if (s == NULL) {
        reply_rc(resp, CTIX_ENOMEM);
        goto out;
    }
    if (!route_parse(srv, req->path, s)) {
        reply_error(resp, 404, "no such endpoint");
        goto out;
    }
    s->method = method_bit(req->method);
    if (!(routes[s->route].methods & s->method)) {
        unsigned m = routes[s->route].methods;

        snprintf(resp->allow, sizeof(resp->allow), "%s%s%s%s", m & M_GET ? "GET, " : "",
                 m & M_HEAD ? "HEAD, " : "", m & M_POST ? "POST, " : "",
                 m & M_DELETE ? "DELETE, " : "");
        resp->allow[strlen(resp->allow) - 2] = '\0'; /* every route allows some method */
        reply_error(resp, 405, "method not allowed on this endpoint");
        goto out;
    }
    if (s->route == R_HEALTH) {
        ok = true;
        goto out;
    }
    /* ctix's own JSON endpoints are not TAXII: any Accept will do. */
    if (s->route != R_PEERS && !taxii__accept_ok(req->accept)) {
        reply_error(resp, 406, "Accept must include " TAXII_MEDIA_TYPE);
        goto out;
    }
    rc = auth_authenticate_cached(srv->keys, srv->st, req->authorization, &s->who);
    if (rc == CTIX_EDENIED) {
        reply_error(resp, 401, "a valid API key is required");
        goto out;
    }
    if (rc != CTIX_OK) {
        reply_rc(resp, rc);
        goto out;
    }
    ctix_strlcpy(resp->org, s->who.org_name, sizeof(resp->org));
    if (s->route == R_PEERS && s->who.role != AUTH_ROLE_ADMIN) {
        reply_error(resp, 403, "the node's operators only");
        goto out;
    }
    if (routes[s->route].in_collection && !check_collection(srv, s, resp))
        goto out;
    if (s->method == M_POST) {
        if (!taxii__content_type_ok(req->content_type)) {
            reply_error(resp, 415, "Content-Type must be " TAXII_MEDIA_TYPE);
            goto out;
        }
        if (req->content_length >= 0 &&
            (uint64_t)req->content_length > srv->cfg.max_content_length) {
            taxii_error_too_big(srv, resp);
            goto out;
        }
        *max_body = srv->cfg.max_content_length;
    }
    if (!check_query(srv, req, s, resp))
        goto out;
    ok = true;
out:
    if (s != NULL)
        s->ready = ok;
    return ok;
}

/* ---- resources ---- */

static enum ctix_rc put_str_field(struct buf *b, const char *sep_name, const char *v)
{
    enum ctix_rc rc = buf_appends(b, sep_name);

    if (rc == CTIX_OK)
        rc = buf_append_json_str(b, v, strlen(v));
    return rc;
}

static enum ctix_rc serve_discovery(struct taxii_server *srv, struct buf *b)
{
    const struct taxii_config *c = &srv->cfg;
    enum ctix_rc rc = put_str_field(b, "{\"title\":", c->title);

    if (rc == CTIX_OK && c->description != NULL)
        rc = put_str_field(b, ",\"description\":", c->description);
    if (rc == CTIX_OK && c->contact != NULL)
        rc = put_str_field(b, ",\"contact\":", c->contact);
    if (rc == CTIX_OK)
        rc = buf_appendf(b, ",\"default\":\"/%s/\",\"api_roots\":[\"/%s/\"]}", c->api_root,
                         c->api_root);
    return rc;
}

static enum ctix_rc serve_root(struct taxii_server *srv, struct buf *b)
{
    const struct taxii_config *c = &srv->cfg;
    enum ctix_rc rc = put_str_field(b, "{\"title\":", c->title);

    if (rc == CTIX_OK && c->description != NULL)
        rc = put_str_field(b, ",\"description\":", c->description);
    if (rc == CTIX_OK)
        rc = buf_appendf(b, ",\"versions\":[\"" TAXII_MEDIA_TYPE "\"],\"max_content_length\":%zu}",
                         c->max_content_length);
    return rc;
}

static enum ctix_rc put_collection(struct buf *b, const struct store_collection *c, bool r, bool w)
{
    enum ctix_rc rc = put_str_field(b, "{\"id\":", c->id);

    if (rc == CTIX_OK)
        rc = put_str_field(b, ",\"title\":", c->title);
    if (rc == CTIX_OK && c->description[0] != '\0')
        rc = put_str_field(b, ",\"description\":", c->description);
    if (rc == CTIX_OK && c->alias[0] != '\0')
        rc = put_str_field(b, ",\"alias\":", c->alias);
    if (rc == CTIX_OK)
        rc = buf_appendf(
            b, ",\"can_read\":%s,\"can_write\":%s,\"media_types\":[\"" TAXII_STIX_MEDIA_TYPE "\"]}",
            r ? "true" : "false", w ? "true" : "false");
    return rc;
}

static enum ctix_rc serve_collections(struct taxii_server *srv, struct taxii_req_state *s,
                                      struct buf *b)
{
    struct store_collection *list = NULL;
    size_t n = 0, shown = 0;
    enum ctix_rc rc = store_collection_list(srv->st, &list, &n);

    if (rc != CTIX_OK)
        goto out;
    rc = buf_append(b, "{", 1);
    for (size_t i = 0; i < n && rc == CTIX_OK; i++) {
        bool r, w;

        rc = auth_rights(srv->st, &s->who, list[i].id, &r, &w);
        if (rc != CTIX_OK || (!r && !w))
            continue;
        rc = buf_appends(b, shown == 0 ? "\"collections\":[" : ",");
        if (rc == CTIX_OK)
            rc = put_collection(b, &list[i], r, w);
        shown++;
    }
    if (rc == CTIX_OK)
        rc = buf_appends(b, shown > 0 ? "]}" : "}");
out:
    free(list);
    return rc;
}

static enum ctix_rc serve_status(struct taxii_server *srv, struct taxii_req_state *s,
                                 struct taxii_response *resp)
{
    char *json = NULL;
    size_t len = 0;
    int64_t org = 0;
    enum ctix_rc rc = CTIX_ENOTFOUND;

    if (!ctix_uuid_valid(s->status_id, false))
        goto out;
    rc = store_status_get(srv->st, s->status_id, &org, &json, &len);
    if (rc != CTIX_OK)
        goto out;
    /* Another organisation's status would tell what it posted: it does not exist for them. */
    if (org != s->who.org_id && s->who.role != AUTH_ROLE_ADMIN) {
        rc = CTIX_ENOTFOUND;
        goto out;
    }
    rc = buf_append(&resp->body, json, len);
out:
    free(json);
    return rc;
}

/* GET /ctix/peers/: every peer's status for the node's operators (never its token). */
static enum ctix_rc serve_peers(struct taxii_server *srv, struct buf *b)
{
    struct store_peer *peers = NULL;
    size_t n = 0;
    enum ctix_rc rc = store_peer_list(srv->st, &peers, &n);

    if (rc == CTIX_OK)
        rc = buf_appends(b, "{\"peers\":[");
    for (size_t i = 0; i < n && rc == CTIX_OK; i++) {
        const struct store_peer *p = &peers[i];
        struct store_org org;
        const char *tlp[] = {"none", "clear", "green", "amber", "amber+strict", "red"};
        char ok_ts[28], err_ts[28];

        if (store_org_get_by_id(srv->st, p->org_id, &org) != CTIX_OK)
            org.name[0] = '\0';
        ctix_ts_format_us(p->last_ok_us, ok_ts);
        ctix_ts_format_us(p->last_err_us, err_ts);
        rc = put_str_field(b, i == 0 ? "{\"name\":" : ",{\"name\":", p->name);
        if (rc == CTIX_OK)
            rc = put_str_field(b, ",\"org\":", org.name);
        if (rc == CTIX_OK)
            rc = put_str_field(b, ",\"url\":", p->url);
        if (rc == CTIX_OK)
            rc = put_str_field(b, ",\"max_tlp\":",
                               p->max_tlp >= 0 && p->max_tlp <= STIX_TLP_RED ? tlp[p->max_tlp]
                                                                             : "none");
        if (rc == CTIX_OK)
            rc = buf_appendf(b, ",\"last_ok\":%s%s%s,\"last_err_time\":%s%s%s",
                             p->last_ok_us > 0 ? "\"" : "", p->last_ok_us > 0 ? ok_ts : "null",
                             p->last_ok_us > 0 ? "\"" : "", p->last_err_us > 0 ? "\"" : "",
                             p->last_err_us > 0 ? err_ts : "null", p->last_err_us > 0 ? "\"" : "");
        if (rc == CTIX_OK)
            rc = put_str_field(b, ",\"last_err\":", p->last_err);
        if (rc == CTIX_OK)
            rc = buf_appendf(b,
                             ",\"errors\":%lld,\"received\":%lld,\"sent\":%lld,"
                             "\"quarantined\":%lld,\"lag\":{\"objects\":%lld,\"seconds\":%.3f}}",
                             (long long)p->n_errors, (long long)p->n_received, (long long)p->n_sent,
                             (long long)p->n_quarantined, (long long)p->lag_objects,
                             (double)p->lag_us / 1e6);
    }
    if (rc == CTIX_OK)
        rc = buf_appends(b, "]}");
    free(peers);
    return rc;
}

/* One page of a list endpoint, built row by row while the store walks its index. */
struct page {
    struct buf *b;
    enum route route;
    size_t n;
    int64_t first_us, last_us;
    struct taxii__egress *eg;
};

static enum ctix_rc page_row(void *ctx, const struct store_row *row)
{
    struct page *p = ctx;
    struct buf *b = p->b;
    enum ctix_rc rc;

    if (p->n == 0) {
        p->first_us = row->date_added_us;
        rc = buf_appends(b, p->route == R_VERSIONS ? "\"versions\":[" : "\"objects\":[");
    } else {
        rc = buf_append(b, ",", 1);
    }
    p->n++;
    p->last_us = row->date_added_us;
    if (rc != CTIX_OK)
        goto out;
    switch (p->route) {
    case R_OBJECTS:
    case R_OBJECT:
        /* The object itself leaves the node: audited before it goes into the page. */
        rc = taxii__egress_sent(p->eg, row);
        if (rc == CTIX_OK)
            rc = row->json != NULL ? buf_append(b, row->json, row->json_len) : CTIX_EIO;
        break;
    case R_VERSIONS:
        rc = buf_append_json_str(b, row->version, strlen(row->version));
        break;
    default: {
        char ts[28];

        ctix_ts_format_us(row->date_added_us, ts);
        rc = put_str_field(b, "{\"id\":", row->id);
        if (rc == CTIX_OK)
            rc = buf_appendf(b, ",\"date_added\":\"%s\"", ts);
        if (rc == CTIX_OK)
            rc = put_str_field(b, ",\"version\":", row->version);
        if (rc == CTIX_OK)
            rc = buf_appendf(b, ",\"media_type\":\"application/stix+json;version=%s\"}",
                             row->spec_version != NULL ? row->spec_version : "2.1");
        break;
    }
    }
out:
    return rc;
}

static enum ctix_rc serve_page(struct taxii_server *srv, struct taxii_req_state *s,
                               struct taxii_response *resp)
{
    const struct taxii_query *q = &s->q;
    struct taxii__egress eg;
    struct page p = {&resp->body, s->route, 0, 0, 0, &eg};
    struct store_query sq = {
        .coll_id = s->coll.id,
        .object_id = s->route == R_OBJECT || s->route == R_VERSIONS ? s->object_id : NULL,
        .added_after_us = s->after_us,
        .limit = s->limit,
        .ids = (const char *const *)q->ids,
        .n_ids = q->n_ids,
        .types = (const char *const *)q->types,
        .n_types = q->n_types,
        .spec_versions = (const char *const *)q->spec_versions,
        .n_spec_versions = q->n_spec_versions,
        .vsel = s->route == R_VERSIONS ? STORE_V_ALL : q->vsel,
        .version_keys = (const char *const *)q->version_keys,
        .n_versions = q->n_versions,
        .want_json = s->route == R_OBJECTS || s->route == R_OBJECT,
        .filter = taxii__egress_filter,
        .filter_ctx = &eg,
    };
    bool more = false;
    /* Room for a typical page up front: growing by doubling copies a 60 KB page twice over. */
    enum ctix_rc rc = taxii__egress_init(&eg, srv->node, &srv->denied, &s->who);

    if (rc != CTIX_OK)
        goto out;
    /* A person may be a named recipient of a RED object, which only its JSON says: manifest and
     * versions then read bodies too, so that they show exactly what objects would. */
    if (eg.req.rel != POLICY_REL_PEER)
        sq.want_json = true;
    rc = buf_grow(&resp->body,
                  s->route == R_OBJECTS || s->route == R_OBJECT ? s->limit * 768 : s->limit * 160);
    if (rc == CTIX_OK)
        rc = buf_append(&resp->body, "{", 1);
    if (rc == CTIX_OK)
        rc = store_objs_query(srv->st, &sq, page_row, &p, &more);
    {
        /* The denials are recorded even when the page failed. */
        enum ctix_rc frc = taxii__egress_finish(&eg);

        if (rc == CTIX_OK)
            rc = frc;
    }
    if (rc != CTIX_OK)
        goto out;
    /* One object's endpoints: an object with no matching version does not exist, except on a
     * later page, where "more, then an empty page" is legal (objects deleted meanwhile). */
    if (p.n == 0 && q->next == NULL && (s->route == R_OBJECT || s->route == R_VERSIONS)) {
        rc = CTIX_ENOTFOUND;
        goto out;
    }
    if (p.n > 0)
        rc = buf_append(&resp->body, "],", 2);
    if (rc == CTIX_OK)
        rc = buf_appendf(&resp->body, "\"more\":%s", more ? "true" : "false");
    if (rc == CTIX_OK && more && p.n > 0) {
        struct taxii_cursor_scope scope = {s->coll.id, routes[s->route].endpoint, s->object_id, q};
        char tok[TAXII_NEXT_MAX];

        rc = taxii__cursor_encode(srv->secret, &scope, p.last_us, tok);
        if (rc == CTIX_OK)
            rc = buf_appendf(&resp->body, ",\"next\":\"%s\"", tok);
    }
    if (rc == CTIX_OK)
        rc = buf_append(&resp->body, "}", 1);
    if (rc == CTIX_OK && p.n > 0) {
        ctix_ts_format_us(p.first_us, resp->date_first);
        ctix_ts_format_us(p.last_us, resp->date_last);
    }
out:
    return rc;
}

/* The versions a DELETE selects, as the requester may see them. */
#define DELETE_SIGN_MAX 64 /* local versions whose deletion is signed one by one */

struct del_scan {
    struct taxii__egress *eg;
    size_t n_sel, n_visible, n_local;
    json_t *local[DELETE_SIGN_MAX]; /* the deleted local versions, for their statements */
    int tlp[DELETE_SIGN_MAX];
    enum ctix_rc rc;
};

static enum ctix_rc del_row(void *ctx, const struct store_row *row)
{
    struct del_scan *ds = ctx;

    ds->n_sel++;
    if (!taxii__egress_filter(ds->eg, row))
        return CTIX_OK;
    ds->n_visible++;
    if (row->origin != 0 || row->json == NULL || ds->n_local == DELETE_SIGN_MAX)
        return CTIX_OK;
    ds->local[ds->n_local] = json_loadb(row->json, row->json_len, 0, NULL);
    if (ds->local[ds->n_local] == NULL)
        return CTIX_EIO;
    ds->tlp[ds->n_local++] = row->tlp;
    return CTIX_OK;
}

/* Stores the node's signed deletion statements for the local versions deleted: one for every
 * version when all went, else one per version. Peers pull them and apply them. */
static enum ctix_rc delete_statements(struct taxii_server *srv, const char *coll_id,
                                      struct del_scan *ds, bool all_versions)
{
    struct prov_sign_opts opts = {srv->node->org, 0};
    struct store_obj_in in[DELETE_SIGN_MAX];
    enum store_put_result res[DELETE_SIGN_MAX];
    json_t *att[DELETE_SIGN_MAX];
    char *texts[DELETE_SIGN_MAX], keys[DELETE_SIGN_MAX][31];
    size_t n = all_versions ? 1 : ds->n_local, made = 0;
    struct ctix_diag d;
    enum ctix_rc rc = CTIX_OK;

    memset(texts, 0, sizeof(texts));
    for (size_t i = 0; i < n && rc == CTIX_OK; i++) {
        const char *id, *ver;

        ctix_diag_clear(&d);
        rc =
            prov_attest_sign_delete(ds->local[i], all_versions, srv->node->key, &opts, &att[i], &d);
        if (rc != CTIX_OK)
            break;
        made++;
        id = json_string_value(json_object_get(att[i], "id"));
        ver = json_string_value(json_object_get(att[i], "modified"));
        texts[i] = json_dumps(att[i], JSON_COMPACT);
        if (id == NULL || ver == NULL || texts[i] == NULL ||
            stix_version_key(ver, keys[i]) != CTIX_OK) {
            rc = texts[i] == NULL ? CTIX_ENOMEM : CTIX_EINVAL;
            break;
        }
        in[i] = (struct store_obj_in){.id = id,
                                      .type = PROV_ATTEST_TYPE,
                                      .spec_version = "2.1",
                                      .version = ver,
                                      .version_key = keys[i],
                                      .json = texts[i],
                                      .json_len = strlen(texts[i]),
                                      .tlp = ds->tlp[i]};
    }
    if (rc == CTIX_OK && n > 0)
        rc = store_objs_put(srv->st, coll_id, in, n, res, NULL);
    if (rc != CTIX_OK)
        ctix_log(CTIX_LOG_ERROR, "taxii", "event=delete_statement_failed coll=%s rc=%s msg=\"%s\"",
                 coll_id, ctix_strerror(rc), d.msg);
    for (size_t i = 0; i < made; i++) {
        json_decref(att[i]);
        free(texts[i]);
    }
    return rc;
}

/* DELETE: only versions the requester may see exist for it (a withheld object answers 404 like
 * an unknown one). Deleting this node's own versions also leaves a signed deletion statement in
 * the collection, so that peers that pulled them delete them too; a received object is deleted
 * here only. */
static enum ctix_rc serve_delete(struct taxii_server *srv, struct taxii_req_state *s)
{
    const struct taxii_query *q = &s->q;
    struct store_query sq = {
        .coll_id = s->coll.id,
        .added_after_us = -1,
        .limit = 1,
        .spec_versions = (const char *const *)q->spec_versions,
        .n_spec_versions = q->n_spec_versions,
        .vsel = q->vsel,
        .version_keys = (const char *const *)q->version_keys,
        .n_versions = q->n_versions,
    };
    struct store_query scan = sq, every = sq;
    struct taxii__egress eg;
    struct del_scan ds;
    struct del_scan all;
    size_t n = 0;
    bool more = false;
    enum ctix_rc rc;

    memset(&ds, 0, sizeof(ds));
    memset(&all, 0, sizeof(all));
    rc = taxii__egress_init(&eg, srv->node, &srv->denied, &s->who);
    if (rc != CTIX_OK)
        goto out;
    ds.eg = &eg;
    scan.object_id = s->object_id;
    scan.limit = 100000;
    scan.want_json = true;
    if (scan.vsel == 0 && scan.n_versions == 0)
        scan.vsel = STORE_V_ALL; /* a DELETE without match[version] deletes every version */
    rc = store_objs_query(srv->st, &scan, del_row, &ds, &more);
    if (rc == CTIX_OK && ds.n_visible == 0)
        rc = CTIX_ENOTFOUND;
    if (rc != CTIX_OK)
        goto out;
    /* Does the DELETE take every version? Then one statement says so. */
    every.object_id = s->object_id;
    every.limit = 100000;
    every.vsel = STORE_V_ALL;
    every.n_versions = 0;
    every.version_keys = NULL;
    every.n_spec_versions = 0;
    every.spec_versions = NULL;
    all.eg = &eg;
    rc = store_objs_query(srv->st, &every, del_row, &all, &more);
    for (size_t i = 0; i < all.n_local; i++)
        json_decref(all.local[i]);
    if (rc != CTIX_OK)
        goto out;
    rc = store_obj_delete(srv->st, s->coll.id, s->object_id, &sq, &n);
    if (rc == CTIX_OK && ds.n_local > 0 && srv->node->key != NULL)
        rc = delete_statements(srv, s->coll.id, &ds, ds.n_sel == all.n_sel);
out:
    for (size_t i = 0; i < ds.n_local; i++)
        json_decref(ds.local[i]);
    if (ds.eg != NULL) {
        enum ctix_rc frc = taxii__egress_finish(&eg);

        if (rc == CTIX_OK)
            rc = frc;
    }
    return rc;
}

/* A POST by a peer node's key: the envelope goes through the receive path (provenance checked,
 * quarantine, deletion statements), like a page pulled from that peer; the status resource
 * gives the counts, the objects sync/ rejected as failures. */
static void serve_post_peer(struct taxii_server *srv, struct taxii_req_state *s, json_t *objects,
                            const char *status_id, const char *ts, struct taxii_response *resp)
{
    struct policy_requester req;
    struct sync_recv_counts c;
    struct ctix_diag d;
    enum ctix_rc rc;

    memset(&c, 0, sizeof(c));
    ctix_diag_clear(&d);
    rc = sync_requester(srv->node, s->who.org_id, "peer", NULL, &req);
    if (rc != CTIX_OK) {
        reply_rc(resp, rc == CTIX_ENOTFOUND ? CTIX_EIO : rc);
        goto out;
    }
    if (req.peer_id <= 0) {
        reply_error(resp, 403, "this node's organisation is not a peer of ours");
        goto out;
    }
    rc = sync_receive(srv->node, s->coll.id, objects, req.peer_id, NULL, &c, &d);
    if (rc != CTIX_OK) {
        ctix_log(CTIX_LOG_WARN, "taxii", "event=push_failed coll=%s org=%s rc=%s msg=\"%s\"",
                 s->coll.id, s->who.org_name, ctix_strerror(rc), d.msg);
        reply_rc(resp, rc == CTIX_ENOTFOUND ? CTIX_EIO : rc);
        goto out;
    }
    buf_reset(&resp->body);
    rc = buf_appendf(&resp->body,
                     "{\"id\":\"%s\",\"status\":\"complete\",\"request_timestamp\":\"%s\","
                     "\"total_count\":%zu,\"success_count\":%zu,\"failure_count\":%zu,"
                     "\"pending_count\":0}",
                     status_id, ts, c.total,
                     c.total - (c.rejected < c.total ? c.rejected : c.total), c.rejected);
    if (rc == CTIX_OK)
        rc = store_status_put(srv->st, status_id, s->who.org_id, resp->body.data, resp->body.len);
    if (rc != CTIX_OK) {
        reply_rc(resp, rc);
        goto out;
    }
    ctix_log(CTIX_LOG_INFO, "taxii",
             "event=push coll=%s org=%s total=%zu stored=%zu duplicates=%zu verified=%zu "
             "pending=%zu quarantined=%zu deleted=%zu rejected=%zu",
             s->coll.id, s->who.org_name, c.total, c.stored, c.duplicate, c.verified, c.pending,
             c.quarantined, c.deleted, c.rejected);
    reply_json(resp, 202);
out:
    return;
}

/* POST: parse the envelope, store, answer 202 with a complete status resource. */
static void serve_post(struct taxii_server *srv, struct taxii_req_state *s,
                       const struct taxii_request *req, struct taxii_response *resp)
{
    struct taxii_add_item *items = NULL;
    struct taxii_add_counts cnt;
    struct stix_span *spans = NULL;
    struct ctix_diag d;
    json_t *objects = NULL;
    const char *body;
    char status_id[37], ts[28], desc[400];
    size_t n;
    enum ctix_rc rc;

    if (req->body_len > srv->cfg.max_content_length) {
        taxii_error_too_big(srv, resp);
        goto out;
    }
    ctix_diag_clear(&d);
    body = req->body != NULL ? req->body : "";
    rc = stix_container_parse_spans(body, req->body_len, &objects, &spans, &d);
    if (rc == CTIX_ENOMEM) {
        reply_rc(resp, rc);
        goto out;
    }
    if (rc != CTIX_OK) {
        /* Not JSON, or not a JSON object: a bad request. JSON of the wrong shape (objects not a
         * list, a single object instead of an envelope): unprocessable. */
        bool shape = d.line == 0 && d.where[0] != '\0';

        snprintf(desc, sizeof(desc), "the body is not a TAXII envelope: %s", d.msg);
        reply_error(resp, shape ? 422 : 400, desc);
        goto out;
    }
    n = json_array_size(objects);
    for (size_t i = 0; i < n; i++) {
        if (!json_is_object(json_array_get(objects, i))) {
            snprintf(desc, sizeof(desc), "objects/%zu is not a JSON object", i);
            reply_error(resp, 422, desc);
            goto out;
        }
    }
    if (n > TAXII_POST_MAX_OBJ) {
        snprintf(desc, sizeof(desc), "more than %d objects in one envelope", TAXII_POST_MAX_OBJ);
        reply_error(resp, 413, desc);
        goto out;
    }
    items = malloc((n > 0 ? n : 1) * sizeof(*items)); /* taxii_objects_add fills each */
    if (items == NULL) {
        reply_rc(resp, CTIX_ENOMEM);
        goto out;
    }
    ctix_ts_format_us(ctix_now_us(), ts);
    rc = ctix_uuid4(status_id);
    if (rc == CTIX_OK && s->who.role == AUTH_ROLE_PEER) {
        /* Another node pushes: its objects are received, not originated here. */
        serve_post_peer(srv, s, objects, status_id, ts, resp);
        goto out;
    }
    if (rc == CTIX_OK) {
        struct taxii__status_req sreq = {status_id, s->who.org_id, ts, &resp->body};

        /* Objects our own requesters post are this node's: signed as they are stored. */
        rc = taxii__objects_add(srv->st, srv->node->key != NULL ? srv->node : NULL, s->coll.id,
                                objects, body, spans, items, &cnt, &sreq);
    }
    if (rc != CTIX_OK) {
        buf_reset(&resp->body);
        reply_rc(resp, rc == CTIX_ENOTFOUND ? CTIX_EIO : rc);
        goto out;
    }
    ctix_log(CTIX_LOG_INFO, "taxii",
             "event=add coll=%s org=%s total=%zu stored=%zu duplicates=%zu failed=%zu", s->coll.id,
             s->who.org_name, cnt.total, cnt.stored, cnt.duplicates, cnt.failed);
    reply_json(resp, 202);
out:
    free(items);
    free(spans);
    json_decref(objects);
}

void taxii_request_handle(struct taxii_server *srv, const struct taxii_request *req,
                          struct taxii_response *resp)
{
    struct taxii_req_state *s = resp->state;
    enum ctix_rc rc = CTIX_OK;
    size_t max_body;

    /* A caller that skipped begin() gets the same judgement here. */
    if (s == NULL || !s->ready) {
        if (s != NULL || !taxii_request_begin(srv, req, resp, &max_body))
            return;
        s = resp->state;
    }
    buf_reset(&resp->body);
    switch (s->route) {
    case R_HEALTH:
        rc = buf_appends(&resp->body, "{\"status\":\"ok\"}");
        resp->status = 200;
        resp->content_type = "application/json";
        break;
    case R_DISCOVERY:
        rc = serve_discovery(srv, &resp->body);
        reply_json(resp, 200);
        break;
    case R_ROOT:
        rc = serve_root(srv, &resp->body);
        reply_json(resp, 200);
        break;
    case R_STATUS:
        rc = serve_status(srv, s, resp);
        reply_json(resp, 200);
        break;
    case R_COLLECTIONS:
        rc = serve_collections(srv, s, &resp->body);
        reply_json(resp, 200);
        break;
    case R_COLLECTION:
        rc = put_collection(&resp->body, &s->coll, s->can_read, s->can_write);
        reply_json(resp, 200);
        break;
    case R_PEERS:
        rc = serve_peers(srv, &resp->body);
        resp->status = 200;
        resp->content_type = "application/json";
        break;
    case R_OBJECTS:
        if (s->method == M_POST) {
            serve_post(srv, s, req, resp);
            goto out;
        }
        /* fall through */
    case R_MANIFEST:
    case R_VERSIONS:
        rc = serve_page(srv, s, resp);
        reply_json(resp, 200);
        break;
    case R_OBJECT:
        if (s->method == M_DELETE) {
            rc = serve_delete(srv, s);
            resp->status = 200;
            resp->content_type = NULL;
            break;
        }
        rc = serve_page(srv, s, resp);
        reply_json(resp, 200);
        break;
    }
    if (rc != CTIX_OK)
        reply_rc(resp, rc);
out:
    return;
}
