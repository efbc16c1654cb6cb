/* The libmicrohttpd glue. MHD runs a pool of polling threads (epoll); each request is handed to
 * taxii/ as plain data. The per-request state is created in the URI log callback, the only place
 * where MHD shows the raw request target, so that the query string reaches taxii/ unparsed (MHD
 * would otherwise split and unescape it), and freed in the completion callback.
 *
 * Order per request, as MHD calls the access handler:
 *   1st call: headers are in, no body byte read → taxii_request_begin() judges auth, rights, media
 *             types and the announced length; a refusal is queued at once and the body never read.
 *   next calls: body chunks (plain or chunked) are appended to a buffer capped at max_body.
 *   last call (*upload_data_size == 0): taxii_request_handle(), then the response is queued.
 * Even a request without a body is answered on that last call: libmicrohttpd 0.9.75 closes the
 * connection after any response queued on the first call, which would cost keep-alive. */
#include "http/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#define HTTP_CERT_MAX         (1024 * 1024) /* a PEM certificate chain or key file */
#define HTTP_CONN_TIMEOUT_S   30            /* an idle or trickling connection is dropped */
#define HTTP_CONN_LIMIT       4096
#define HTTP_PER_IP_LIMIT     0 /* 0 = none: the nodes of a partner often share one address */
#define HTTP_CONN_MEMORY      (64 * 1024) /* per connection: request line, headers, read buffer */
#define HTTP_BACKLOG          1024
#define HTTP_DISCARD_MAX      (64u * 1024 * 1024) /* past the cap, drop the connection after this */
#define HTTP_BODY_BUDGET      ((size_t)512 * 1024 * 1024)
#define HTTP_LOG_PATH_MAX     512
#define HTTP_TLS_PRIORITIES   "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1"
#define HTTP_WWW_AUTHENTICATE "Basic realm=\"ctix\", Bearer"

struct http_req;

struct http_server {
    struct MHD_Daemon *daemon;
    /* Bytes of request bodies reserved by requests in flight: without a bound, clients holding
     * thousands of connections open with large bodies would exhaust memory. */
    atomic_size_t body_bytes;
    size_t body_budget;
    struct taxii_server *taxii;
    uint16_t port;
    char *cert, *key; /* PEM text, kept for the daemon's lifetime */
    atomic_bool starting;
    char start_error[256]; /* MHD's last complaint while starting, "" if none */

    /* Requests with a body (POSTs: parse, validate, store, sync) run on these workers while
     * their connection is suspended, so that one MHD thread never carries two envelopes in a
     * row while the other sits idle: MHD hands connections to its threads as they come. */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    struct http_req *qhead, *qtail; /* guarded by qlock */
    bool stopping;                  /* guarded by qlock: no more queueing */
    pthread_t *workers;
    unsigned n_workers; /* written under qlock while MHD already runs */
};

struct http_req {
    int64_t start_us;
    struct MHD_Connection *conn;
    struct http_req *qnext; /* in the workers' queue */
    bool queued;            /* handed to a worker; its answer is in resp once resumed */
    bool begun;
    bool too_big;
    bool failed;      /* out of memory while buffering the body */
    bool refused;     /* taxii_request_begin() said no; resp is the answer */
    bool nul_in_path; /* "%00" in the raw path: MHD's decoding would cut the path there */
    bool busy;        /* the body budget was spent: answer 503 */
    struct http_server *srv;
    size_t reserved; /* bytes of srv->body_bytes this request holds */
    size_t max_body;
    size_t discarded;
    struct taxii_request treq;
    struct taxii_response resp;
    struct buf body;
    char query[]; /* the raw query string; treq.query points here or is NULL */
};

/* MHD's own error messages: kept during start (for the caller's diag), logged afterwards. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct http_server *s = cls;
    char msg[256];
    size_t n;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (atomic_load(&s->starting))
        ctix_strlcpy(s->start_error, msg, sizeof(s->start_error));
    else
        ctix_log(CTIX_LOG_WARN, "http", "mhd=\"%s\"", msg);
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const char *q = strchr(uri, '?');
    size_t qlen = q != NULL ? strlen(q + 1) : 0;
    struct http_req *r = calloc(1, sizeof(*r) + qlen + 1);

    (void)cls;
    (void)conn;
    if (r == NULL)
        return NULL;
    r->start_us = ctix_mono_us();
    if (q != NULL) {
        memcpy(r->query, q + 1, qlen + 1);
        r->treq.query = r->query;
    }
    for (const char *p = uri; *p != '\0' && *p != '?'; p++) {
        if (p[0] == '%' && p[1] == '0' && p[2] == '0') {
            r->nul_in_path = true;
            break;
        }
    }
    taxii_response_init(&r->resp);
    buf_init(&r->body, 0);
    return r;
}

/* Gives the body's reservation back and frees the body as soon as the request has been handled:
 * the answer no longer needs it, and a client that sends its next body the moment it reads this
 * answer must not find the budget still held until libmicrohttpd reports completion (a spurious
 * 503 under a small --body-budget). Runs once per request, before the answer is queued. */
static void body_release(struct http_req *r)
{
    if (r->srv != NULL && r->reserved != 0)
        atomic_fetch_sub(&r->srv->body_bytes, r->reserved);
    r->reserved = 0;
    r->treq.body = NULL;
    r->treq.body_len = 0;
    buf_cleanup(&r->body);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct http_req *r = *req_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (r == NULL)
        return;
    if (r->srv != NULL)
        atomic_fetch_sub(&r->srv->body_bytes, r->reserved);
    taxii_response_cleanup(&r->resp);
    buf_cleanup(&r->body);
    free(r);
    *req_cls = NULL;
}

/* Copies s into out with anything that could forge a log line or a key=value pair escaped. */
static void log_sanitize(const char *s, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (; s != NULL && *s != '\0' && o + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x21 || c == 0x7f || c == '"' || c == '\\' || c == '%') {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

static enum MHD_Result reply(struct MHD_Connection *conn, struct http_req *r)
{
    struct taxii_response *resp = &r->resp;
    struct MHD_Response *mr;
    enum MHD_Result ret = MHD_NO;
    int status = resp->status >= 100 && resp->status <= 599 ? resp->status : 500;
    size_t len = resp->body.len;
    char method[16], path[HTTP_LOG_PATH_MAX], org[STORE_NAME_MAX];

    if (len > 0) {
        char *data = buf_steal(&resp->body);

        if (data == NULL)
            goto out;
        /* The body is handed over: MHD frees it after sending, no copy is made. */
        mr = MHD_create_response_from_buffer_with_free_callback(len, data, &free);
        if (mr == NULL) {
            free(data);
            goto out;
        }
    } else {
        mr = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (mr == NULL)
            goto out;
    }
    if ((resp->content_type != NULL && MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                               resp->content_type) != MHD_YES) ||
        (resp->date_first[0] != '\0' &&
         MHD_add_response_header(mr, "X-TAXII-Date-Added-First", resp->date_first) != MHD_YES) ||
        (resp->date_last[0] != '\0' &&
         MHD_add_response_header(mr, "X-TAXII-Date-Added-Last", resp->date_last) != MHD_YES) ||
        (resp->www_authenticate && MHD_add_response_header(mr, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                                           HTTP_WWW_AUTHENTICATE) != MHD_YES) ||
        (resp->allow[0] != '\0' &&
         MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, resp->allow) != MHD_YES)) {
        MHD_destroy_response(mr);
        goto out;
    }
    ret = MHD_queue_response(conn, (unsigned)status, mr);
    MHD_destroy_response(mr);
out:
    log_sanitize(r->treq.method, method, sizeof(method));
    log_sanitize(r->treq.path, path, sizeof(path));
    log_sanitize(resp->org[0] != '\0' ? resp->org : "-", org, sizeof(org));
    ctix_log(CTIX_LOG_INFO, "http", "method=%s path=%s status=%d bytes=%zu us=%lld org=%s", method,
             path, ret == MHD_YES ? status : 0, len, (long long)(ctix_mono_us() - r->start_us),
             org);
    return ret;
}

/* Fills r->treq from the request line and headers. False when Content-Length is malformed.
 * *has_body tells whether a body follows (a positive length, or chunked). */
static bool request_fill(struct MHD_Connection *conn, struct http_req *r, const char *url,
                         const char *method, bool *has_body)
{
    const char *cl;
    uint64_t n;

    r->treq.method = method;
    r->treq.path = url;
    r->treq.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    r->treq.content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    r->treq.authorization =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    r->treq.content_length = -1;
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    *has_body = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                            MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
    if (cl != NULL) {
        if (!ctix_parse_u64(cl, INT64_MAX, &n))
            return false;
        r->treq.content_length = (int64_t)n;
        *has_body = *has_body || n > 0;
    }
    return true;
}

/* Suspends r's connection and queues r for a worker; false (nothing done) when the server is
 * stopping or has no workers: the caller then handles r itself. */
static bool work_queue(struct http_server *s, struct http_req *r, struct MHD_Connection *conn)
{
    bool queued = false;

    pthread_mutex_lock(&s->qlock);
    if (!s->stopping && s->n_workers > 0) {
        /* Suspended before a worker can see it, so that its resume always finds it suspended. */
        r->conn = conn;
        r->queued = true;
        MHD_suspend_connection(conn);
        r->qnext = NULL;
        if (s->qtail != NULL)
            s->qtail->qnext = r;
        else
            s->qhead = r;
        s->qtail = r;
        queued = true;
        pthread_cond_signal(&s->qcond);
    }
    pthread_mutex_unlock(&s->qlock);
    return queued;
}

static void *worker_main(void *arg)
{
    struct http_server *s = arg;

    for (;;) {
        struct http_req *r;

        pthread_mutex_lock(&s->qlock);
        while (s->qhead == NULL && !s->stopping)
            pthread_cond_wait(&s->qcond, &s->qlock);
        r = s->qhead;
        if (r != NULL) {
            s->qhead = r->qnext;
            if (s->qhead == NULL)
                s->qtail = NULL;
        }
        pthread_mutex_unlock(&s->qlock);
        if (r == NULL)
            break; /* stopping, and the queue is drained */
        taxii_request_handle(s->taxii, &r->treq, &r->resp);
        body_release(r);
        /* MHD calls on_request() again for this connection, which sends resp. */
        MHD_resume_connection(r->conn);
    }
    return NULL;
}

/* Reserves n more body bytes for r; false when that would pass the budget while other bodies
 * are in flight (one body alone is always allowed: max_content_length caps it). */
static bool body_reserve(struct http_server *s, struct http_req *r, size_t n)
{
    size_t cur = atomic_load(&s->body_bytes);

    do {
        if (cur != 0 && cur != r->reserved && (cur > s->body_budget || n > s->body_budget - cur))
            return false;
    } while (!atomic_compare_exchange_weak(&s->body_bytes, &cur, cur + n));
    r->srv = s;
    r->reserved += n;
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct http_server *s = cls;
    struct http_req *r = *req_cls;
    bool has_body = false;

    (void)version;
    if (r == NULL)
        return MHD_NO; /* out of memory in uri_logger: drop the connection */
    if (!r->begun) {
        r->begun = true;
        if (!request_fill(conn, r, url, method, &has_body)) {
            taxii_error_reply(&r->resp, 400, "Bad Request", "malformed Content-Length header");
            return reply(conn, r);
        }
        if (r->nul_in_path) {
            taxii_error_reply(&r->resp, 400, "Bad Request", "the path holds an encoded NUL (%00)");
            r->refused = true;
        } else if (!taxii_request_begin(s->taxii, &r->treq, &r->resp, &r->max_body)) {
            /* With a body coming, answer now so it is never read (MHD then closes the
             * connection); without one, answer on the last call and keep the connection. */
            r->refused = true;
        }
        if (!r->refused && has_body && r->max_body > 0 && r->treq.content_length > 0 &&
            (uint64_t)r->treq.content_length <= r->max_body &&
            !body_reserve(s, r, (size_t)r->treq.content_length)) {
            taxii_error_reply(&r->resp, 503, "Service Unavailable",
                              "too many request bodies in flight: retry shortly");
            r->refused = true;
        }
        if (r->refused && has_body)
            return reply(conn, r);
        buf_init(&r->body, r->max_body);
        if (r->treq.content_length > 0 && (uint64_t)r->treq.content_length <= r->max_body) {
            /* A declared length is allocated once; a wrong one is caught by the appends. */
            enum ctix_rc grown = buf_grow(&r->body, (size_t)r->treq.content_length);

            (void)grown;
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        if (!r->too_big && !r->failed && !r->refused && !r->busy && r->body.len + n > r->reserved &&
            r->body.len + n <= r->max_body && !body_reserve(s, r, r->body.len + n - r->reserved)) {
            /* A chunked body (no Content-Length) reserves as it comes. */
            r->busy = true;
            buf_cleanup(&r->body);
        }
        if (!r->too_big && !r->failed && !r->refused && !r->busy) {
            enum ctix_rc rc = buf_append(&r->body, upload_data, n);

            if (rc == CTIX_ETOOBIG) {
                r->too_big = true;
                buf_cleanup(&r->body);
            } else if (rc != CTIX_OK) {
                r->failed = true;
                buf_cleanup(&r->body);
            }
            return MHD_YES;
        }
        /* MHD can only answer once the body is read: swallow the rest, but not without end. */
        r->discarded += n;
        return r->discarded > HTTP_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (r->refused || r->queued)
        return reply(conn, r); /* resp holds taxii_request_begin()'s or a worker's answer */
    if (r->busy) {
        taxii_error_reply(&r->resp, 503, "Service Unavailable",
                          "too many request bodies in flight: retry shortly");
    } else if (r->too_big) {
        taxii_error_too_big(s->taxii, &r->resp);
    } else if (r->failed) {
        taxii_error_reply(&r->resp, 500, "Internal Server Error", "out of memory");
    } else {
        r->treq.body = r->body.data != NULL ? r->body.data : "";
        r->treq.body_len = r->body.len;
        if (r->body.len > 0 && work_queue(s, r, conn))
            return MHD_YES;
        taxii_request_handle(s->taxii, &r->treq, &r->resp);
    }
    body_release(r);
    return reply(conn, r);
}

static enum ctix_rc read_pem(const char *path, const char *what, char **out, struct ctix_diag *diag)
{
    struct ctix_diag d;
    enum ctix_rc rc;
    size_t len;

    ctix_diag_clear(&d);
    rc = ctix_file_read(path, HTTP_CERT_MAX, out, &len, &d);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, path, "cannot read TLS %s %s: %s", what, path,
                      d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        return rc;
    }
    if (strstr(*out, "-----BEGIN ") == NULL) {
        ctix_diag_set(diag, path, "TLS %s %s is not PEM (no -----BEGIN line)", what, path);
        free(*out);
        *out = NULL;
        return CTIX_EINVAL;
    }
    return CTIX_OK;
}

static unsigned cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n >= 1 && n <= 1024 ? (unsigned)n : 1;
}

enum ctix_rc http_server_start(const struct http_config *cfg, struct taxii_server *taxii,
                               struct http_server **out, struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_EINVAL;
    struct http_server *s = NULL;
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    /* One per core. More threads than cores let ingest overlap its WAL fsyncs (4 threads on 2
     * cores: ~50,000 objects/s over 4 connections instead of ~44,000), but preempted readers then
     * queue behind each other: reads fell from 8,700 to 7,100 pages/s and p99 rose from 8 to
     * 38 ms. Reads are the common load; a node that mostly ingests can ask for --threads. */
    unsigned threads = cfg->threads != 0 ? cfg->threads : cores();
    bool tls = cfg->tls_cert_file != NULL || cfg->tls_key_file != NULL;
    const union MHD_DaemonInfo *info;

    memset(&ss, 0, sizeof(ss));
    if (cfg->host != NULL && inet_pton(AF_INET, cfg->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(cfg->port);
    } else if (cfg->host != NULL && inet_pton(AF_INET6, cfg->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        ctix_diag_set(diag, "host", "'%s' is not a numeric IPv4 or IPv6 address",
                      cfg->host != NULL ? cfg->host : "");
        goto out;
    }
    if (tls && (cfg->tls_cert_file == NULL || cfg->tls_key_file == NULL)) {
        ctix_diag_set(diag, NULL, "TLS needs both a certificate and a key file");
        goto out;
    }
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        ctix_diag_set(diag, NULL, "this libmicrohttpd was built without TLS support");
        goto out;
    }
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_AUTO;
    if (tls)
        flags |= MHD_USE_TLS;

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    s->taxii = taxii;
    s->body_budget = cfg->body_budget != 0 ? cfg->body_budget : HTTP_BODY_BUDGET;
    atomic_init(&s->body_bytes, 0);
    pthread_mutex_init(&s->qlock, NULL);
    pthread_cond_init(&s->qcond, NULL);
    atomic_init(&s->starting, true);
    if (tls) {
        rc = read_pem(cfg->tls_cert_file, "certificate", &s->cert, diag);
        if (rc == CTIX_OK)
            rc = read_pem(cfg->tls_key_file, "key", &s->key, diag);
        if (rc != CTIX_OK)
            goto out;
    }

    /* MHD reads the option list up to MHD_OPTION_END; the TLS pair is appended only with TLS. */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)&mhd_logger, s},
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)&uri_logger, s},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)&request_completed, s},
        {MHD_OPTION_CONNECTION_TIMEOUT, HTTP_CONN_TIMEOUT_S, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, HTTP_CONN_LIMIT, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, HTTP_PER_IP_LIMIT, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, HTTP_BACKLOG, NULL},
        {MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL},
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, s->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)HTTP_TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL},
    };

    s->daemon = MHD_start_daemon(flags, cfg->port, NULL, NULL, &on_request, s, MHD_OPTION_ARRAY,
                                 opts, MHD_OPTION_END);
    atomic_store(&s->starting, false);
    if (s->daemon == NULL) {
        bool v6 = (flags & MHD_USE_IPv6) != 0;

        rc = CTIX_EIO;
        /* MHD's own words, plus what usually causes them. */
        ctix_diag_set(diag, NULL, "cannot serve on %s%s%s:%u: %s%s%s%s", v6 ? "[" : "", cfg->host,
                      v6 ? "]" : "", (unsigned)cfg->port,
                      s->start_error[0] != '\0' ? s->start_error
                                                : "address in use or not available",
                      tls ? " (is " : "", tls ? cfg->tls_cert_file : "",
                      tls ? " a PEM certificate and the key file its private key?)" : "");
        goto out;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL && info->port != 0 ? info->port : cfg->port;
    /* As many workers as MHD threads; without any, requests are handled on MHD's threads. */
    s->workers = calloc(threads, sizeof(*s->workers));
    for (unsigned i = 0; s->workers != NULL && i < threads; i++) {
        if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
            break;
        /* MHD's threads already run and read this in work_queue(). */
        pthread_mutex_lock(&s->qlock);
        s->n_workers++;
        pthread_mutex_unlock(&s->qlock);
    }
    rc = CTIX_OK;
out:
    if (rc != CTIX_OK) {
        if (s != NULL) {
            pthread_mutex_destroy(&s->qlock);
            pthread_cond_destroy(&s->qcond);
            free(s->cert);
            free(s->key);
            free(s);
        }
        s = NULL;
    }
    if (rc == CTIX_OK)
        *out = s;
    return rc;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s != NULL ? s->port : 0;
}

void http_server_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    /* No more queueing; the workers finish what is queued and resume those connections (MHD
     * must not be stopped with a connection suspended), then MHD_stop_daemon joins the pool's
     * threads, each finishing the request it is running. */
    pthread_mutex_lock(&s->qlock);
    s->stopping = true;
    pthread_cond_broadcast(&s->qcond);
    pthread_mutex_unlock(&s->qlock);
    for (unsigned i = 0; i < s->n_workers; i++)
        pthread_join(s->workers[i], NULL);
    MHD_stop_daemon(s->daemon);
    pthread_mutex_destroy(&s->qlock);
    pthread_cond_destroy(&s->qcond);
    free(s->workers);
    if (s->key != NULL)
        memset(s->key, 0, strlen(s->key)); /* the private key leaves no copy behind */
    free(s->cert);
    free(s->key);
    free(s);
}
