/* harness: temp dirs, CLI runs, `ctix serve` and HTTP for the integration tests (see harness.h). */
#include "harness.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

/* ---- what must go at exit: servers still running, temporary directories ---- */

#define MAX_TRACKED 256

static pid_t live_pids[MAX_TRACKED];
static char *tmp_dirs[MAX_TRACKED];
static size_t n_tmp_dirs;
static bool exit_hook_set;
static char scratch[PATH_MAX]; /* where CLI outputs go */
static unsigned file_seq;

static void at_exit_cleanup(void)
{
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        if (live_pids[i] > 0) {
            kill(live_pids[i], SIGKILL);
            waitpid(live_pids[i], NULL, 0);
            live_pids[i] = 0;
        }
    }
    /* CTIX_KEEP_TMP=1 keeps the directories to look at after a failure. */
    const char *keep = getenv("CTIX_KEEP_TMP");
    for (size_t i = 0; i < n_tmp_dirs; i++) {
        if (keep == NULL || *keep == '\0')
            h_rmtree(tmp_dirs[i]);
        else
            fprintf(stderr, "harness: kept %s\n", tmp_dirs[i]);
        free(tmp_dirs[i]);
    }
    n_tmp_dirs = 0;
}

static void hook(void)
{
    if (exit_hook_set)
        return;
    exit_hook_set = true;
    /* A server that dies while we write to it must not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    atexit(at_exit_cleanup);
    curl_global_init(CURL_GLOBAL_ALL);
}

static void pid_track(pid_t pid, bool live)
{
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        if (live && live_pids[i] == 0) {
            live_pids[i] = pid;
            return;
        }
        if (!live && live_pids[i] == pid) {
            live_pids[i] = 0;
            return;
        }
    }
}

/* ---- small growable buffer (always NUL-terminated) ---- */

struct gbuf {
    char *p;
    size_t len, cap;
};

static bool gbuf_add(struct gbuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL)
            return false;
        b->p = np;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

static bool gbuf_addf(struct gbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool gbuf_addf(struct gbuf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return false;
    return gbuf_add(b, tmp, (size_t)n);
}

/* ---- files and directories ---- */

bool h_tmpdir(char out[PATH_MAX])
{
    bool ok = false;
    hook();
    snprintf(out, PATH_MAX, "/tmp/ctix-itest-XXXXXX");
    if (mkdtemp(out) == NULL) {
        fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
        goto out;
    }
    if (n_tmp_dirs < MAX_TRACKED) {
        tmp_dirs[n_tmp_dirs] = strdup(out);
        if (tmp_dirs[n_tmp_dirs] != NULL)
            n_tmp_dirs++;
    }
    ok = true;
out:
    return ok;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void h_rmtree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *h_file_read(const char *path, size_t *len)
{
    struct gbuf b = {0};
    char chunk[65536];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        goto out;
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n == 0)
            break;
        if (!gbuf_add(&b, chunk, n)) {
            free(b.p);
            b.p = NULL;
            break;
        }
    }
    if (b.p == NULL && !ferror(f))
        gbuf_add(&b, "", 0);
    fclose(f);
out:
    if (len != NULL)
        *len = b.p ? b.len : 0;
    return b.p;
}

static const char *tree_needle;
static size_t tree_needle_len;
static bool tree_found;

static int tree_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(sb->st_mode))
        return 0;
    size_t len = 0;
    char *text = h_file_read(path, &len);
    if (text != NULL && memmem(text, len, tree_needle, tree_needle_len) != NULL) {
        fprintf(stderr, "harness: %s contains the searched bytes\n", path);
        tree_found = true;
    }
    free(text);
    return 0;
}

bool h_tree_contains(const char *dir, const char *needle, size_t len)
{
    tree_needle = needle;
    tree_needle_len = len;
    tree_found = false;
    nftw(dir, tree_one, 16, FTW_PHYS);
    return tree_found;
}

size_t h_count_lines(const char *text, const char *needle)
{
    size_t n = 0;
    size_t nl = strlen(needle);
    const char *p = text;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (memmem(p, len, needle, nl) != NULL)
            n++;
        p = end ? end + 1 : NULL;
    }
    return n;
}

int h_start_timeout(void)
{
    const char *t = getenv("CTIX_ITEST_TIMEOUT");
    if (t != NULL && *t != '\0') {
        int v = 0;
        for (const char *c = t; *c >= '0' && *c <= '9'; c++)
            v = v * 10 + (*c - '0');
        if (v > 0)
            return v;
    }
    return 20;
}

/* ---- processes ---- */

static const char *ctix_bin(void)
{
    const char *b = getenv("CTIX_BIN");
    return (b != NULL && *b != '\0') ? b : "build/rel/ctix";
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int decode_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

/* Waits for pid at most timeout_ms; -2 when it is still running. */
static int wait_for(pid_t pid, int64_t timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    long nap = 1;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return decode_status(st);
        if (r < 0 && errno != EINTR)
            return -1;
        if (mono_ms() >= deadline)
            return -2;
        sleep_ms(nap);
        if (nap < 20)
            nap *= 2;
    }
}

/* fork + exec of ctix with argv; the child dies with us (PR_SET_PDEATHSIG). */
static pid_t spawn(const char *const *argv, const char *out_path, const char *err_path)
{
    size_t n = 0;
    while (argv[n] != NULL)
        n++;
    const char **av = calloc(n + 2, sizeof *av);
    if (av == NULL)
        return -1;
    av[0] = ctix_bin();
    for (size_t i = 0; i < n; i++)
        av[i + 1] = argv[i];
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(125);
        signal(SIGPIPE, SIG_DFL);
        execv(av[0], (char *const *)av);
        _exit(127);
    }
    free(av);
    return pid;
}

static bool scratch_dir(void)
{
    if (scratch[0] != '\0')
        return true;
    return h_tmpdir(scratch);
}

bool h_ctixv(struct h_proc *p, int timeout_s, const char *const *argv)
{
    bool ok = false;
    char out_path[PATH_MAX + 32], err_path[PATH_MAX + 32];
    memset(p, 0, sizeof *p);
    p->code = -1;
    if (!scratch_dir())
        goto out;
    file_seq++;
    snprintf(out_path, sizeof out_path, "%s/run-%u.out", scratch, file_seq);
    snprintf(err_path, sizeof err_path, "%s/run-%u.err", scratch, file_seq);
    pid_t pid = spawn(argv, out_path, err_path);
    if (pid < 0) {
        fprintf(stderr, "harness: fork: %s\n", strerror(errno));
        goto out;
    }
    int code = wait_for(pid, (int64_t)timeout_s * 1000);
    if (code == -2) {
        fprintf(stderr, "harness: ctix %s did not finish in %d s: killed\n", argv[0], timeout_s);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        code = -1;
    }
    p->code = code;
    p->out = h_file_read(out_path, &p->out_len);
    p->err = h_file_read(err_path, &p->err_len);
    if (p->out == NULL)
        p->out = strdup("");
    if (p->err == NULL)
        p->err = strdup("");
    unlink(out_path);
    unlink(err_path);
    if (code == 127)
        fprintf(stderr, "harness: could not run %s (set CTIX_BIN)\n", ctix_bin());
    ok = code >= 0;
out:
    return ok;
}

bool h_ctix(struct h_proc *p, const char *arg, ...)
{
    const char *argv[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < 63; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return h_ctixv(p, 60, argv);
}

void h_proc_cleanup(struct h_proc *p)
{
    free(p->out);
    free(p->err);
    p->out = p->err = NULL;
}

bool h_sh(const char *cmdline)
{
    int st = system(cmdline);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "harness: `%s` failed\n", cmdline);
        return false;
    }
    return true;
}

/* Runs a node command that must succeed; *out (if not NULL) gets stdout's first line. */
static bool node_run(char *first_line, size_t n, const char *const *argv)
{
    struct h_proc p;
    bool ok = h_ctixv(&p, 60, argv) && p.code == 0;
    if (!ok) {
        fprintf(stderr, "harness: ctix");
        for (size_t i = 0; argv[i] != NULL; i++)
            fprintf(stderr, " %s", argv[i]);
        fprintf(stderr, " → exit %d\nstdout: %s\nstderr: %s\n", p.code, p.out ? p.out : "",
                p.err ? p.err : "");
    } else if (first_line != NULL) {
        size_t len = strcspn(p.out, "\r\n");
        if (len == 0 || len >= n) {
            fprintf(stderr, "harness: unexpected output %s\n", p.out);
            ok = false;
        } else {
            memcpy(first_line, p.out, len);
            first_line[len] = '\0';
        }
    }
    h_proc_cleanup(&p);
    return ok;
}

bool h_node_init(struct h_node *n, const char *org)
{
    memset(n, 0, sizeof *n);
    if (!h_tmpdir(n->dir))
        return false;
    snprintf(n->data, sizeof n->data, "%.*s/data", PATH_MAX - 8, n->dir);
    if (mkdir(n->data, 0700) != 0)
        return false;
    const char *argv[] = {"init", "--data", n->data, "--org", org, NULL};
    return node_run(NULL, 0, argv);
}

bool h_node_org(struct h_node *n, const char *name)
{
    const char *argv[] = {"org", "add", "--data", n->data, name, NULL};
    return node_run(NULL, 0, argv);
}

bool h_node_collection(struct h_node *n, const char *title, const char *alias,
                       const char *description, char id_out[H_UUID_MAX])
{
    const char *argv[16] = {"collection", "add", "--data", n->data, "--title", title};
    size_t i = 6;
    if (alias != NULL) {
        argv[i++] = "--alias";
        argv[i++] = alias;
    }
    if (description != NULL) {
        argv[i++] = "--description";
        argv[i++] = description;
    }
    argv[i] = NULL;
    return node_run(id_out, H_UUID_MAX, argv);
}

bool h_node_grant(struct h_node *n, const char *coll, const char *org, bool rd, bool wr)
{
    const char *argv[16] = {"grant", "--data", n->data, "--collection", coll, "--org", org};
    size_t i = 7;
    if (rd)
        argv[i++] = "--read";
    if (wr)
        argv[i++] = "--write";
    argv[i] = NULL;
    return node_run(NULL, 0, argv);
}

bool h_node_key(struct h_node *n, const char *org, const char *role, char token_out[H_TOKEN_MAX])
{
    const char *argv[] = {"key", "add", "--data", n->data, "--org", org, "--role", role, NULL};
    return node_run(token_out, H_TOKEN_MAX, argv);
}

/* ---- the server ---- */

/* Looks for "ctix: listening on SCHEME://HOST:PORT/taxii2/\n" in text. */
static bool parse_listening(const char *text, struct h_server *s)
{
    static const char prefix[] = "ctix: listening on ";
    const char *p = strstr(text, prefix);
    if (p == NULL || strchr(p, '\n') == NULL)
        return false;
    p += sizeof prefix - 1;
    bool tls = strncmp(p, "https://", 8) == 0;
    if (!tls && strncmp(p, "http://", 7) != 0)
        return false;
    p += tls ? 8 : 7;
    const char *colon = strrchr(p, ':');
    const char *nl = strchr(p, '\n');
    if (colon == NULL || colon > nl)
        return false;
    int port = 0;
    const char *c = colon + 1;
    for (; *c >= '0' && *c <= '9'; c++)
        port = port * 10 + (*c - '0');
    if (port <= 0 || port > 65535 || strncmp(c, "/taxii2/\n", 9) != 0)
        return false;
    s->port = port;
    s->tls = tls;
    /* A wildcard address is reached through loopback. */
    snprintf(s->base, sizeof s->base, "%s://127.0.0.1:%d", tls ? "https" : "http", port);
    return true;
}

bool h_server_start(struct h_server *s, const struct h_node *n, const char *const *extra,
                    const char *cafile)
{
    bool ok = false;
    const char *argv[64];
    size_t i = 0;
    bool own_listen = false;
    memset(s, 0, sizeof *s);
    hook();
    for (size_t k = 0; extra != NULL && extra[k] != NULL; k++)
        if (strcmp(extra[k], "--listen") == 0)
            own_listen = true;
    argv[i++] = "serve";
    argv[i++] = "--data";
    argv[i++] = n->data;
    if (!own_listen) {
        argv[i++] = "--listen";
        argv[i++] = "127.0.0.1:0";
    }
    for (size_t k = 0; extra != NULL && extra[k] != NULL && i < 62; k++)
        argv[i++] = extra[k];
    argv[i] = NULL;
    file_seq++;
    snprintf(s->out_path, sizeof s->out_path, "%.*s/serve-%u.out", PATH_MAX - 32, n->dir, file_seq);
    snprintf(s->err_path, sizeof s->err_path, "%.*s/serve-%u.err", PATH_MAX - 32, n->dir, file_seq);
    if (cafile != NULL)
        snprintf(s->cafile, sizeof s->cafile, "%s", cafile);
    pid_t pid = spawn(argv, s->out_path, s->err_path);
    if (pid < 0)
        goto out;
    s->pid = pid;
    pid_track(pid, true);
    int64_t deadline = mono_ms() + (int64_t)h_start_timeout() * 1000;
    for (;;) {
        char *text = h_file_read(s->out_path, NULL);
        bool up = text != NULL && parse_listening(text, s);
        free(text);
        if (up) {
            ok = true;
            break;
        }
        int code = wait_for(pid, 0);
        if (code != -2) {
            char *err = h_file_read(s->err_path, NULL);
            fprintf(stderr, "harness: ctix serve exited with %d before listening\nstderr: %s\n",
                    code, err ? err : "");
            free(err);
            pid_track(pid, false);
            s->pid = 0;
            break;
        }
        if (mono_ms() > deadline) {
            fprintf(stderr, "harness: ctix serve did not print its listening line\n");
            h_server_kill(s);
            break;
        }
        sleep_ms(10);
    }
out:
    return ok;
}

int h_server_stop(struct h_server *s, int sig)
{
    int code = -1;
    if (s->pid <= 0)
        goto out;
    kill(s->pid, sig);
    code = wait_for(s->pid, 10000);
    if (code == -2) {
        fprintf(stderr, "harness: ctix serve ignored signal %d for 10 s: killed\n", sig);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        code = -1;
    }
    pid_track(s->pid, false);
    s->pid = 0;
    if (code != 0) {
        char *err = h_file_read(s->err_path, NULL);
        fprintf(stderr, "harness: ctix serve stopped with %d\nstderr (tail): %s\n", code,
                err ? (strlen(err) > 3000 ? err + strlen(err) - 3000 : err) : "");
        free(err);
    }
out:
    return code;
}

void h_server_kill(struct h_server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    pid_track(s->pid, false);
    s->pid = 0;
}

char *h_server_log(const struct h_server *s)
{
    char *t = h_file_read(s->err_path, NULL);
    return t ? t : strdup("");
}

/* ---- HTTP ---- */

struct upload {
    const char *p;
    size_t len, off;
};

static size_t on_read(char *dst, size_t size, size_t nitems, void *ud)
{
    struct upload *u = ud;
    /* Small pieces, so that a chunked body really is several chunks. */
    size_t n = size * nitems;
    if (n > 1000)
        n = 1000;
    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(dst, u->p + u->off, n);
    u->off += n;
    return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    return gbuf_add(ud, p, size * nmemb) ? size * nmemb : 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct gbuf *b = ud;
    /* Keep only the last response's headers (not those of a 100 Continue). */
    if (size * nmemb >= 5 && strncmp(p, "HTTP/", 5) == 0)
        b->len = 0;
    return gbuf_add(b, p, size * nmemb) ? size * nmemb : 0;
}

bool h_http(const struct h_server *s, const struct h_req *q, struct h_resp *r)
{
    bool ok = false;
    struct gbuf body = {0}, hdrs = {0}, url = {0};
    struct curl_slist *hl = NULL;
    struct upload up = {0};
    char line[4200];
    CURL *c = NULL;
    memset(r, 0, sizeof *r);
    hook();
    c = curl_easy_init();
    if (c == NULL || !gbuf_addf(&url, "%s%s", s->base, q->path))
        goto out;
    const char *method = q->method ? q->method : (q->body ? "POST" : "GET");
    size_t blen = q->body ? (q->body_len ? q->body_len : strlen(q->body)) : 0;

    if (q->accept == NULL)
        hl = curl_slist_append(hl, "Accept: " H_TAXII);
    else if (q->accept[0] == '\0')
        hl = curl_slist_append(hl, "Accept:");
    else {
        snprintf(line, sizeof line, "Accept: %s", q->accept);
        hl = curl_slist_append(hl, line);
    }
    if (q->body != NULL) {
        if (q->ctype == NULL)
            hl = curl_slist_append(hl, "Content-Type: " H_TAXII);
        else if (q->ctype[0] == '\0')
            hl = curl_slist_append(hl, "Content-Type:");
        else {
            snprintf(line, sizeof line, "Content-Type: %s", q->ctype);
            hl = curl_slist_append(hl, line);
        }
    }
    if (q->auth != NULL) {
        snprintf(line, sizeof line, "Authorization: %s", q->auth);
        hl = curl_slist_append(hl, line);
    } else if (q->token != NULL) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", q->token);
        hl = curl_slist_append(hl, line);
    }
    if (q->no_expect)
        hl = curl_slist_append(hl, "Expect:");
    for (size_t i = 0; q->headers != NULL && q->headers[i] != NULL; i++)
        hl = curl_slist_append(hl, q->headers[i]);

    curl_easy_setopt(c, CURLOPT_URL, url.p);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdrs);
    if (s->cafile[0] != '\0')
        curl_easy_setopt(c, CURLOPT_CAINFO, s->cafile);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (q->body != NULL && q->chunked) {
        up.p = q->body;
        up.len = blen;
        hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    } else if (q->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(rc));
        fprintf(stderr, "harness: %s %s: %s\n", method, q->path, r->error);
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (!gbuf_add(&body, "", 0) || !gbuf_add(&hdrs, "", 0))
        goto out;
    r->body = body.p;
    r->body_len = body.len;
    r->headers = hdrs.p;
    body.p = hdrs.p = NULL;
    if (r->body_len > 0)
        r->json = json_loadb(r->body, r->body_len, 0, NULL);
    ok = true;
out:
    if (!ok && r->body == NULL) {
        r->body = strdup("");
        r->headers = strdup("");
    }
    free(body.p);
    free(hdrs.p);
    free(url.p);
    curl_slist_free_all(hl);
    if (c != NULL)
        curl_easy_cleanup(c);
    return ok;
}

void h_resp_cleanup(struct h_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

bool h_header(const struct h_resp *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    const char *p = r->headers;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '\n');
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            const char *e = end ? end : p + strlen(p);
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            size_t len = (size_t)(e - v);
            if (len >= n)
                len = n - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    if (n > 0)
        out[0] = '\0';
    return false;
}

bool h_get(const struct h_server *s, const char *token, const char *path, struct h_resp *r)
{
    struct h_req q = {.method = "GET", .path = path, .token = token};
    return h_http(s, &q, r);
}

bool h_getf(const struct h_server *s, const char *token, struct h_resp *r, const char *fmt, ...)
{
    char path[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof path) {
        memset(r, 0, sizeof *r);
        return false;
    }
    return h_get(s, token, path, r);
}

bool h_post(const struct h_server *s, const char *token, const char *path, const char *body,
            struct h_resp *r)
{
    struct h_req q = {.method = "POST", .path = path, .token = token, .body = body};
    return h_http(s, &q, r);
}

bool h_delete(const struct h_server *s, const char *token, const char *path, struct h_resp *r)
{
    struct h_req q = {.method = "DELETE", .path = path, .token = token};
    return h_http(s, &q, r);
}

/* ---- checks ---- */

/* The media type with spaces removed and lowercased equals the TAXII 2.1 one. */
static bool is_taxii_ctype(const struct h_resp *r)
{
    char v[256], norm[256];
    size_t j = 0;
    if (!h_header(r, "Content-Type", v, sizeof v))
        return false;
    for (size_t i = 0; v[i] != '\0' && j + 1 < sizeof norm; i++)
        if (v[i] != ' ')
            norm[j++] = (char)tolower((unsigned char)v[i]);
    norm[j] = '\0';
    return strcmp(norm, H_TAXII) == 0;
}

static void show(const struct h_resp *r, const char *why)
{
    fprintf(stderr, "harness: %s\n  status %ld\n  headers: %s\n  body: %.2000s\n", why, r->status,
            r->headers ? r->headers : "", r->body ? r->body : "");
}

bool h_is_error(const struct h_resp *r, long want, long want2)
{
    char st[16];
    if (r->status != want && !(want2 > 0 && r->status == want2)) {
        char why[64];
        snprintf(why, sizeof why, "expected status %ld%s", want, want2 > 0 ? " (or other)" : "");
        show(r, why);
        return false;
    }
    if (!is_taxii_ctype(r)) {
        show(r, "error without the TAXII Content-Type");
        return false;
    }
    json_t *title = json_object_get(r->json, "title");
    json_t *hs = json_object_get(r->json, "http_status");
    snprintf(st, sizeof st, "%ld", r->status);
    if (!json_is_object(r->json) || !json_is_string(title) || json_string_length(title) == 0 ||
        !json_is_string(hs) || strcmp(json_string_value(hs), st) != 0) {
        show(r, "body is not the TAXII error resource with http_status = status");
        return false;
    }
    json_t *desc = json_object_get(r->json, "description");
    if (desc != NULL && !json_is_string(desc)) {
        show(r, "error description is not a string");
        return false;
    }
    return true;
}

bool h_is_taxii(const struct h_resp *r, long want)
{
    if (r->status != want) {
        char why[64];
        snprintf(why, sizeof why, "expected status %ld", want);
        show(r, why);
        return false;
    }
    if (!is_taxii_ctype(r)) {
        show(r, "response without the TAXII Content-Type");
        return false;
    }
    if (!json_is_object(r->json)) {
        show(r, "body is not a JSON object");
        return false;
    }
    return true;
}

/* ---- objects ---- */

void h_stix_id(const char *type, char out[80])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* Unreachable in practice; a fixed fallback keeps the id well formed. */
        memset(b, 0x5a, sizeof b);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 80, "%s--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             type, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

char *h_indicator(const char *id, const char *modified, const char *name)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
                          "spec_version", "2.1", "id", id, "created", "2020-01-01T00:00:00.000Z",
                          "modified", modified, "name", name, "pattern",
                          "[ipv4-addr:value = '198.51.100.7']", "pattern_type", "stix",
                          "valid_from", "2020-01-01T00:00:00Z");
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

char *h_envelope(const char *first, ...)
{
    struct gbuf b = {0};
    va_list ap;
    bool ok = gbuf_add(&b, "{\"objects\":[", 12);
    va_start(ap, first);
    size_t i = 0;
    for (const char *o = first; ok && o != NULL; o = va_arg(ap, const char *), i++) {
        if (i > 0)
            ok = gbuf_add(&b, ",", 1);
        ok = ok && gbuf_add(&b, o, strlen(o));
    }
    va_end(ap);
    ok = ok && gbuf_add(&b, "]}", 2);
    if (!ok) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
