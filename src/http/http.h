/* http: the libmicrohttpd glue — listening socket, TLS, thread pool, request limits, reading
 * bodies under the API root's max_content_length, routing every request to taxii/, one access-log
 * line per request (method, path, status, bytes, duration, organisation: never a token or a body),
 * and a clean stop that lets in-flight requests finish. */
#ifndef CTIX_HTTP_H
#define CTIX_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "taxii/taxii.h"

struct http_config {
    const char *host;          /* numeric address to bind, e.g. "127.0.0.1" or "::1" */
    uint16_t port;             /* 0 picks a free port (tests) */
    const char *tls_cert_file; /* PEM; both NULL for plain HTTP */
    const char *tls_key_file;
    unsigned threads; /* worker threads; 0 = one per core */
    /* Request bodies held in memory at once, all connections together (0: 512 MiB). A body that
     * would pass it gets 503 before it is read, unless it is the only one: each body is also
     * capped by the API root's max_content_length. */
    size_t body_budget;
};

struct http_server;

/* taxii is borrowed and must outlive the server. */
CTIX_MUST_CHECK enum ctix_rc http_server_start(const struct http_config *cfg,
                                               struct taxii_server *taxii, struct http_server **out,
                                               struct ctix_diag *diag);
/* The port actually bound. */
uint16_t http_server_port(const struct http_server *s);
/* Stops accepting, lets running requests finish, frees s. NULL is a no-op. */
void http_server_stop(struct http_server *s);

/* ---- listen addresses (shared by `ctix serve` and tests) ---- */

#define HTTP_HOST_MAX 46 /* INET6_ADDRSTRLEN: the longest numeric address + NUL */

/* Splits "HOST:PORT" or "[IPV6]:PORT" into a numeric host and a port (0..65535). HOST is an IPv4
 * or IPv6 literal, or "localhost", which becomes "127.0.0.1". CTIX_EINVAL with diag otherwise. */
CTIX_MUST_CHECK enum ctix_rc http_listen_parse(const char *s, char host[HTTP_HOST_MAX],
                                               uint16_t *port, struct ctix_diag *diag);

/* True when host (numeric) is a loopback address: 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool http_host_is_loopback(const char *host);

#endif
