/* fedproxy: see fedproxy.h. Sequential on purpose: the sync client uses one connection per peer,
 * and a simple loop makes the bytes it changes easy to reason about. */
#include "fedproxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct fedproxy {
    int lfd;
    int port, upstream;
    const char *find, *repl;
    size_t len;
    atomic_size_t flips;
    atomic_bool stop;
    pthread_t th;
};

struct pbuf {
    char *p;
    size_t n, cap;
};

static bool pbuf_add(struct pbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (q == NULL)
            return false;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return true;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads one request (headers and Content-Length body) into b; false at EOF or error. */
static bool read_request(int fd, struct pbuf *b, size_t *head_len)
{
    char chunk[16384];
    char *end = NULL;
    size_t body = 0;
    while ((end = b->p ? strstr(b->p, "\r\n\r\n") : NULL) == NULL) {
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r <= 0)
            return false;
        if (!pbuf_add(b, chunk, (size_t)r))
            return false;
    }
    *head_len = (size_t)(end - b->p) + 4;
    for (char *l = b->p; l < end; l = strstr(l, "\r\n") + 2) {
        if (strncasecmp(l, "Content-Length:", 15) == 0)
            body = strtoul(l + 15, NULL, 10);
    }
    while (b->n < *head_len + body) {
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r <= 0)
            return false;
        if (!pbuf_add(b, chunk, (size_t)r))
            return false;
    }
    return true;
}

static void handle(struct fedproxy *px, int cfd)
{
    struct pbuf req = {0}, fwd = {0}, resp = {0};
    size_t head_len = 0;
    int ufd = -1;
    char chunk[65536];

    if (!read_request(cfd, &req, &head_len))
        goto out;
    /* The request line and headers, minus those that would keep the upstream connection open
     * or compress the body. */
    char *line = req.p, *hend = req.p + head_len - 2;
    while (line < hend) {
        char *nl = strstr(line, "\r\n");
        size_t n = (size_t)(nl - line) + 2;
        if (strncasecmp(line, "Connection:", 11) != 0 &&
            strncasecmp(line, "Accept-Encoding:", 16) != 0 &&
            strncasecmp(line, "Keep-Alive:", 11) != 0)
            pbuf_add(&fwd, line, n);
        line = nl + 2;
    }
    pbuf_add(&fwd, "Connection: close\r\n\r\n", 21);
    pbuf_add(&fwd, req.p + head_len, req.n - head_len);

    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)px->upstream)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ufd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ufd < 0 || connect(ufd, (struct sockaddr *)&a, sizeof a) != 0)
        goto out;
    if (!send_all(ufd, fwd.p, fwd.n))
        goto out;
    for (;;) {
        ssize_t r = recv(ufd, chunk, sizeof chunk, 0);
        if (r <= 0)
            break;
        if (!pbuf_add(&resp, chunk, (size_t)r))
            goto out;
    }
    for (char *hit = resp.p; hit != NULL && resp.n >= px->len;) {
        hit = memmem(hit, resp.n - (size_t)(hit - resp.p), px->find, px->len);
        if (hit != NULL) {
            memcpy(hit, px->repl, px->len);
            atomic_fetch_add(&px->flips, 1);
            hit += px->len;
        }
    }
    if (resp.n > 0)
        send_all(cfd, resp.p, resp.n);
out:
    if (ufd >= 0)
        close(ufd);
    free(req.p);
    free(fwd.p);
    free(resp.p);
}

static void *run(void *arg)
{
    struct fedproxy *px = arg;
    while (!atomic_load(&px->stop)) {
        int c = accept(px->lfd, NULL, NULL);
        if (c < 0)
            break;
        handle(px, c);
        close(c);
    }
    return NULL;
}

bool fedproxy_start(struct fedproxy **out, int upstream_port, const char *find, const char *repl)
{
    struct fedproxy *px = calloc(1, sizeof *px);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;

    *out = NULL;
    if (px == NULL || strlen(find) != strlen(repl) || strlen(find) == 0) {
        free(px);
        return false;
    }
    px->upstream = upstream_port;
    px->find = find;
    px->repl = repl;
    px->len = strlen(find);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    px->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (px->lfd < 0 || bind(px->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(px->lfd, 16) != 0 || getsockname(px->lfd, (struct sockaddr *)&a, &alen) != 0) {
        fprintf(stderr, "fedproxy: cannot listen\n");
        if (px->lfd >= 0)
            close(px->lfd);
        free(px);
        return false;
    }
    px->port = ntohs(a.sin_port);
    if (pthread_create(&px->th, NULL, run, px) != 0) {
        close(px->lfd);
        free(px);
        return false;
    }
    *out = px;
    return true;
}

int fedproxy_port(const struct fedproxy *p)
{
    return p->port;
}

size_t fedproxy_flips(const struct fedproxy *p)
{
    return atomic_load(&((struct fedproxy *)p)->flips);
}

void fedproxy_stop(struct fedproxy *p)
{
    if (p == NULL)
        return;
    atomic_store(&p->stop, true);
    shutdown(p->lfd, SHUT_RDWR);
    pthread_join(p->th, NULL);
    close(p->lfd);
    free(p);
}
