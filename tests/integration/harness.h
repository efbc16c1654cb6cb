/* harness: what every integration test needs to drive the real ctix binary from outside, the way
 * a user or a TAXII client would — temporary data directories, CLI runs with their exit code and
 * output, `ctix serve` started on 127.0.0.1 and stopped with a signal, and HTTP requests through
 * libcurl.
 *
 * The binary is getenv("CTIX_BIN"), default build/rel/ctix; tests run from the repository root.
 * Nothing here outlives the test process: every server is started with a parent-death signal and
 * killed at exit if still running, and every temporary directory is removed at exit. Functions
 * that can fail return false after printing why on stderr; the tests assert on that result, so a
 * failure points at the test's line and the log says what happened. */
#ifndef CTIX_ITEST_HARNESS_H
#define CTIX_ITEST_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define H_TAXII     "application/taxii+json;version=2.1"
#define H_TOKEN_MAX 128
#define H_UUID_MAX  64

/* ---- temporary directories ---- */

/* Makes a new empty directory /tmp/ctix-itest-XXXXXX into out[PATH_MAX], removed at exit. */
bool h_tmpdir(char out[PATH_MAX]);
/* Removes a directory tree (best effort). */
void h_rmtree(const char *path);

/* ---- running the CLI ---- */

struct h_proc {
    int code; /* exit status; 128+N when killed by signal N; -1 when it could not run */
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
};

/* Runs ctix with argv (NULL-terminated, without the program name), stdin from /dev/null, and
 * waits at most timeout_s seconds (then kills it: code -1). Always fills p; h_proc_cleanup(). */
bool h_ctixv(struct h_proc *p, int timeout_s, const char *const *argv);
/* The same with the arguments listed, NULL last; timeout 60 s. */
bool h_ctix(struct h_proc *p, const char *arg, ...) __attribute__((sentinel));
void h_proc_cleanup(struct h_proc *p);
/* Runs a shell command line (for openssl, zstd); true when it exits 0. */
bool h_sh(const char *cmdline);

/* ---- a node: one data directory with organisations, collections and keys ---- */

struct h_node {
    char dir[PATH_MAX];  /* the temporary directory (logs, certificates…) */
    char data[PATH_MAX]; /* dir/data: the ctix data directory */
};

/* Makes the temp dir and runs `ctix init --data DIR --org org`. */
bool h_node_init(struct h_node *n, const char *org);
bool h_node_org(struct h_node *n, const char *name);
/* alias and description may be NULL; id_out[H_UUID_MAX] gets the printed id. */
bool h_node_collection(struct h_node *n, const char *title, const char *alias,
                       const char *description, char id_out[H_UUID_MAX]);
bool h_node_grant(struct h_node *n, const char *coll, const char *org, bool rd, bool wr);
/* role is admin, analyst, reader, peer or reporter; token_out[H_TOKEN_MAX] gets the token. */
bool h_node_key(struct h_node *n, const char *org, const char *role, char token_out[H_TOKEN_MAX]);

/* ---- the server ---- */

struct h_server {
    pid_t pid; /* 0 when not running */
    int port;
    bool tls;
    char base[128];        /* "http://127.0.0.1:PORT" */
    char cafile[PATH_MAX]; /* the CA for https, "" for http */
    char out_path[PATH_MAX];
    char err_path[PATH_MAX]; /* the server's stderr: the access log */
};

/* Starts `ctix serve --data DATA --listen 127.0.0.1:0 EXTRA...` (extra NULL-terminated or NULL;
 * it may hold its own --listen, which then replaces the default) and waits for the listening
 * line. cafile is the CA to trust for https or NULL. */
bool h_server_start(struct h_server *s, const struct h_node *n, const char *const *extra,
                    const char *cafile);
/* Sends sig and waits (10 s, then SIGKILL). Returns the exit status as in h_proc.code. */
int h_server_stop(struct h_server *s, int sig);
/* SIGKILL and reap; no-op when not running. */
void h_server_kill(struct h_server *s);
/* The server's stderr so far (free()). */
char *h_server_log(const struct h_server *s);

/* ---- HTTP ---- */

struct h_req {
    const char *method; /* default GET, or POST when body is set */
    const char *path;   /* with the query, e.g. "/api/collections/?x=y" */
    const char *token;  /* sent as "Authorization: Bearer TOKEN" unless auth is set */
    const char *auth;   /* the whole Authorization value, e.g. "Basic …" */
    const char *accept; /* NULL: the TAXII media type; "": no Accept header at all */
    const char *ctype;  /* NULL: the TAXII media type when there is a body; "": none */
    const char *body;
    size_t body_len; /* 0: strlen(body) */
    bool chunked;    /* send the body with Transfer-Encoding: chunked, no Content-Length */
    bool no_expect;  /* do not send Expect: 100-continue */
    const char *const *headers; /* more "Name: value" lines, NULL-terminated */
};

struct h_resp {
    long status; /* 0 when the transfer failed */
    char *body;
    size_t body_len;
    char *headers; /* the last response's header block */
    json_t *json;  /* the body parsed as JSON, or NULL */
    char error[256];
};

bool h_http(const struct h_server *s, const struct h_req *q, struct h_resp *r);
void h_resp_cleanup(struct h_resp *r);
/* Finds a response header (case-insensitive name); value copied without surrounding spaces. */
bool h_header(const struct h_resp *r, const char *name, char *out, size_t n);

/* Shorthands: GET / DELETE with the TAXII Accept; POST body with the TAXII Content-Type. */
bool h_get(const struct h_server *s, const char *token, const char *path, struct h_resp *r);
bool h_post(const struct h_server *s, const char *token, const char *path, const char *body,
            struct h_resp *r);
bool h_delete(const struct h_server *s, const char *token, const char *path, struct h_resp *r);
/* GET path with a printf-built path. */
bool h_getf(const struct h_server *s, const char *token, struct h_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- checks: each prints what differs on stderr and returns false ---- */

/* status equals want (or, when want2 > 0, either), Content-Type is the TAXII media type and the
 * body is the TAXII error resource {"title": string, "http_status": "<status>", …}. */
bool h_is_error(const struct h_resp *r, long want, long want2);
/* status equals want and Content-Type is the TAXII media type with a JSON object body. */
bool h_is_taxii(const struct h_resp *r, long want);

/* ---- small helpers ---- */

/* A new object JSON text (free()): an indicator with the given id and modified time; name is
 * used in "name". */
char *h_indicator(const char *id, const char *modified, const char *name);
/* Writes "type--<random uuid4>" into out[80]. */
void h_stix_id(const char *type, char out[80]);
/* {"objects":[o1, o2, …]} from JSON texts, NULL-terminated (free()). */
char *h_envelope(const char *first, ...) __attribute__((sentinel));
/* Reads a whole file (free()); NULL if it cannot. */
char *h_file_read(const char *path, size_t *len);
/* True when any file under dir contains the bytes needle. */
bool h_tree_contains(const char *dir, const char *needle, size_t len);
/* Number of lines of text that contain needle. */
size_t h_count_lines(const char *text, const char *needle);
/* Seconds to wait for a server to come up (longer under sanitizers). */
int h_start_timeout(void);

#define H_ASSERT_ERROR(r, st)    assert_true(h_is_error((r), (st), 0))
#define H_ASSERT_ERROR2(r, a, b) assert_true(h_is_error((r), (a), (b)))
#define H_ASSERT_TAXII(r, st)    assert_true(h_is_taxii((r), (st)))

#endif
