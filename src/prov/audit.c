/* The audit log: entries hash-chained (each hash covers the previous one), so that removing,
 * inserting, moving or altering an entry breaks the chain at that point. The hash is computed
 * over a canonical encoding of the fields, not over the file's bytes, so that the entries can
 * move to another storage (the store's database) and keep their hashes. */
#include "prov/prov.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "prov/prov_int.h"

#define AUDIT_DOMAIN    "ctix/audit/v1\n"
#define LINE_MAX_LEN    PROV_AUDIT_LINE_MAX
#define TAIL_FIRST      ((size_t)64 << 10) /* the first look for the last line; doubles up to max */
#define HASH_MEMBER_LEN 74                 /* ,"hash":"<64 hex>" */
#define SEQ_MAX         ((uint64_t)1 << 53)

/* ---- encoding ---- */

/* Appends a string to e's list: a, then '|' and b when b is not NULL. */
static enum ctix_rc list_add(struct prov_audit_entry *e, const char *a, size_t al, const char *b,
                             size_t bl)
{
    size_t n = al + (b != NULL ? bl + 1 : 0) + 1;
    char *p;
    enum ctix_rc rc;

    if (e->objects.cap == 0)
        e->objects.max = PROV_AUDIT_OBJECTS_MAX;
    if (n > e->objects.max - e->objects.len)
        return CTIX_ETOOBIG;
    rc = buf_grow(&e->objects, n);
    if (rc != CTIX_OK)
        return rc;
    p = e->objects.data + e->objects.len;
    memcpy(p, a, al);
    if (b != NULL) {
        p[al] = '|';
        memcpy(p + al + 1, b, bl);
    }
    p[n - 1] = '\0';
    e->objects.len += n;
    e->objects.data[e->objects.len] = '\0';
    e->n_objects++;
    return CTIX_OK;
}

enum ctix_rc prov_audit_entry_object_add(struct prov_audit_entry *e, const char *id,
                                         const char *version)
{
    return list_add(e, id, strlen(id), version, strlen(version));
}

void prov_audit_entry_cleanup(struct prov_audit_entry *e)
{
    buf_cleanup(&e->objects);
    e->n_objects = 0;
}

/* Appends s[0..n) as a JSON string; CTIX_EINVAL when it is not UTF-8. Ids and versions are
 * printable ASCII with nothing to escape: one pass over them and one copy, instead of a check
 * and an escaping pass byte by byte (those two were a tenth of a read's time). */
static enum ctix_rc put_str(struct buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    enum ctix_rc rc;

    while (i < n && u[i] >= 0x20 && u[i] < 0x7f && u[i] != '"' && u[i] != '\\')
        i++;
    if (i < n) {
        if (!ctix_utf8_valid(u, n))
            return CTIX_EINVAL;
        return buf_append_json_str(b, s, n);
    }
    rc = buf_grow(b, n + 2);
    if (rc == CTIX_OK) {
        b->data[b->len] = '"';
        memcpy(b->data + b->len + 1, s, n);
        b->data[b->len + n + 1] = '"';
        b->len += n + 2;
        b->data[b->len] = '\0';
    }
    return rc;
}

/* Appends ,"name":"value" (value a field of size bytes, which must hold UTF-8 and a NUL). */
static enum ctix_rc put_field(struct buf *b, const char *name, const char *v, size_t size)
{
    size_t len = strnlen(v, size);
    enum ctix_rc rc;

    if (len == size)
        return CTIX_EINVAL;
    rc = buf_appends(b, name);
    if (rc == CTIX_OK)
        rc = put_str(b, v, len);
    return rc;
}

/* The list, in the order added: each string is checked like a field. */
static enum ctix_rc put_objects(struct buf *b, const struct prov_audit_entry *e)
{
    const char *p = e->objects.data, *end = p + e->objects.len;
    enum ctix_rc rc = buf_appends(b, ",\"objects\":[");

    for (size_t i = 0; i < e->n_objects && rc == CTIX_OK; i++) {
        size_t len = p < end ? strnlen(p, (size_t)(end - p)) : 0;

        if (p >= end || len == (size_t)(end - p))
            return CTIX_EINVAL;
        if (i > 0)
            rc = buf_append(b, ",", 1);
        if (rc == CTIX_OK)
            rc = put_str(b, p, len);
        p += len + 1;
    }
    if (rc == CTIX_OK)
        rc = buf_append(b, "]", 1);
    return rc;
}

/* Members in RFC 8785 order (all names are ASCII, so byte order is UTF-16 order). The file's
 * lines also have "hash", which sorts right after "event": *hash_at is where it goes in b. */
static enum ctix_rc encode(const struct prov_audit_entry *e, struct buf *b, size_t *hash_at)
{
    char hex[65], ts[28];
    enum ctix_rc rc;

    if (e->seq > SEQ_MAX)
        return CTIX_EINVAL;
    rc = put_field(b, "{\"actor\":", e->actor, sizeof(e->actor));
    if (rc == CTIX_OK)
        rc = put_field(b, ",\"channel\":", e->channel, sizeof(e->channel));
    if (rc == CTIX_OK)
        rc = put_field(b, ",\"event\":", e->event, sizeof(e->event));
    *hash_at = b->len;
    if (rc == CTIX_OK)
        rc = put_field(b, ",\"object_id\":", e->object_id, sizeof(e->object_id));
    if (rc == CTIX_OK && e->n_objects > 0)
        rc = put_objects(b, e);
    if (rc == CTIX_OK) {
        ctix_hex(e->prev, 32, hex);
        rc = buf_appendf(b, ",\"prev\":\"%s\"", hex);
    }
    if (rc == CTIX_OK)
        rc = put_field(b, ",\"reason\":", e->reason, sizeof(e->reason));
    if (rc == CTIX_OK) {
        ctix_ts_format_us(e->time_us, ts);
        rc = buf_appendf(b, ",\"seq\":%llu,\"time\":\"%s\"", (unsigned long long)e->seq, ts);
    }
    if (rc == CTIX_OK)
        rc = put_field(b, ",\"verdict\":", e->verdict, sizeof(e->verdict));
    if (rc == CTIX_OK)
        rc = put_field(b, ",\"version\":", e->version, sizeof(e->version));
    if (rc == CTIX_OK)
        rc = buf_append(b, "}", 1);
    return rc;
}

enum ctix_rc prov_audit_entry_encode(const struct prov_audit_entry *e, char **out, size_t *len)
{
    struct buf b;
    size_t at;
    enum ctix_rc rc;

    buf_init(&b, LINE_MAX_LEN);
    rc = encode(e, &b, &at);
    if (rc == CTIX_OK) {
        *len = b.len;
        *out = buf_steal(&b);
        if (*out == NULL)
            rc = CTIX_ENOMEM;
    }
    buf_cleanup(&b);
    return rc;
}

/* Encodes e after the domain prefix in b (b is reset first) and hashes it: b then holds the
 * prefix and the encoding, which the file's line reuses. */
static enum ctix_rc hash_into(const struct prov_audit_entry *e, struct buf *b, size_t *hash_at,
                              unsigned char out[32])
{
    enum ctix_rc rc;

    buf_reset(b);
    rc = buf_appends(b, AUDIT_DOMAIN);
    if (rc == CTIX_OK)
        rc = encode(e, b, hash_at);
    if (rc == CTIX_OK)
        rc = prov__sha256(b->data, b->len, out);
    return rc;
}

enum ctix_rc prov_audit_entry_hash(const struct prov_audit_entry *e, unsigned char out[32])
{
    struct buf b;
    size_t at;
    enum ctix_rc rc;

    buf_init(&b, LINE_MAX_LEN);
    rc = hash_into(e, &b, &at, out);
    buf_cleanup(&b);
    return rc;
}

static void seal_with(struct prov_audit_head *head, struct prov_audit_entry *e)
{
    e->seq = head->seq + 1;
    memcpy(e->prev, head->hash, 32);
}

enum ctix_rc prov_audit_entry_seal(struct prov_audit_head *head, struct prov_audit_entry *e)
{
    enum ctix_rc rc;

    seal_with(head, e);
    rc = prov_audit_entry_hash(e, e->hash);
    if (rc == CTIX_OK) {
        head->seq = e->seq;
        memcpy(head->hash, e->hash, 32);
    }
    return rc;
}

/* ---- checking a chain ---- */

void prov_audit_check_init(struct prov_audit_check *c)
{
    memset(c, 0, sizeof(*c));
}

enum ctix_rc prov_audit_check_next(struct prov_audit_check *c, const struct prov_audit_entry *e,
                                   struct ctix_diag *diag)
{
    unsigned char h[32];
    uint64_t want = c->head.seq + 1;
    enum ctix_rc rc = CTIX_EINVAL;

    if (c->failed) {
        ctix_diag_set(diag, NULL, "the chain is already broken");
        goto out;
    }
    if (e->seq != want) {
        ctix_diag_set(diag, NULL,
                      "seq %llu: found seq %llu instead (entry removed, inserted or reordered)",
                      (unsigned long long)want, (unsigned long long)e->seq);
        goto out;
    }
    if (CRYPTO_memcmp(e->prev, c->head.hash, 32) != 0) {
        ctix_diag_set(diag, NULL,
                      "seq %llu: prev does not match the hash of seq %llu (entry removed, "
                      "inserted, reordered or altered)",
                      (unsigned long long)want, (unsigned long long)c->head.seq);
        goto out;
    }
    rc = prov_audit_entry_hash(e, h);
    if (rc == CTIX_EINVAL)
        ctix_diag_set(diag, NULL, "seq %llu: a field is not UTF-8", (unsigned long long)want);
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EINVAL;
    if (CRYPTO_memcmp(h, e->hash, 32) != 0) {
        ctix_diag_set(diag, NULL, "seq %llu: altered (its hash does not match its content)",
                      (unsigned long long)want);
        goto out;
    }
    c->head.seq = e->seq;
    memcpy(c->head.hash, e->hash, 32);
    c->n++;
    rc = CTIX_OK;
out:
    if (rc == CTIX_EINVAL)
        c->failed = true;
    return rc;
}

/* ---- file lines ---- */

static bool get_field(const json_t *j, const char *name, char *out, size_t size)
{
    const json_t *v = json_object_get(j, name);

    if (!json_is_string(v) || json_string_length(v) >= size ||
        strlen(json_string_value(v)) != json_string_length(v))
        return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

static bool get_hash(const json_t *j, const char *name, unsigned char out[32])
{
    const char *s = json_string_value(json_object_get(j, name));

    return s != NULL && strlen(s) == 64 && ctix_unhex(s, out, 32);
}

enum ctix_rc prov__audit_line_parse(const char *p, size_t n, struct prov_audit_entry *e,
                                    struct ctix_diag *diag)
{
    json_t *j = NULL;
    const json_t *seq;
    char ts[PROV_VERSION_MAX];
    struct ctix_ts t;
    const json_t *objs;
    struct buf keep = e->objects;
    enum ctix_rc rc = stix_json_parse(p, n, &j, diag);

    /* The list's memory is reused from line to line. */
    memset(e, 0, sizeof(*e));
    e->objects = keep;
    buf_reset(&e->objects);
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EINVAL;
    seq = json_object_get(j, "seq");
    objs = json_object_get(j, "objects");
    if (!json_is_object(j) || json_object_size(j) != (objs != NULL ? 12u : 11u) ||
        (objs != NULL && (!json_is_array(objs) || json_array_size(objs) == 0)) ||
        !json_is_integer(seq) || json_integer_value(seq) < 0 ||
        !get_field(j, "time", ts, sizeof(ts)) || ctix_ts_parse(ts, strlen(ts), &t) != CTIX_OK ||
        !get_field(j, "event", e->event, sizeof(e->event)) ||
        !get_field(j, "actor", e->actor, sizeof(e->actor)) ||
        !get_field(j, "object_id", e->object_id, sizeof(e->object_id)) ||
        !get_field(j, "version", e->version, sizeof(e->version)) ||
        !get_field(j, "channel", e->channel, sizeof(e->channel)) ||
        !get_field(j, "verdict", e->verdict, sizeof(e->verdict)) ||
        !get_field(j, "reason", e->reason, sizeof(e->reason)) || !get_hash(j, "prev", e->prev) ||
        !get_hash(j, "hash", e->hash)) {
        ctix_diag_set(diag, NULL, "not an audit entry (a member is missing or ill-formed)");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(objs); i++) {
        const json_t *o = json_array_get(objs, i);
        const char *v = json_string_value(o);

        if (v == NULL || strlen(v) != json_string_length(o) || strchr(v, '|') == NULL) {
            ctix_diag_set(diag, NULL, "not an audit entry (objects[%zu] is not \"id|version\")", i);
            goto out;
        }
        rc = list_add(e, v, strlen(v), NULL, 0);
        if (rc != CTIX_OK) {
            if (rc == CTIX_ETOOBIG)
                rc = CTIX_EINVAL;
            ctix_diag_set(diag, NULL, "not an audit entry (objects too long)");
            goto out;
        }
        rc = CTIX_EINVAL;
    }
    e->seq = (uint64_t)json_integer_value(seq);
    e->time_us = ctix_ts_to_us(&t);
    rc = CTIX_OK;
out:
    json_decref(j);
    return rc;
}

/* ---- the file-backed log ---- */

struct prov_audit_log {
    int fd;
    pthread_mutex_t mu;
    off_t known_size;        /* the file's size after our last look: another writer changes it */
    pthread_mutex_t sync_mu; /* one fdatasync at a time; held without mu, so appends go on */
    off_t synced_size;       /* the file is durable up to here (under sync_mu) */
    /* prov_audit_sync_soon's background syncer (started by its first call), under mu */
    pthread_t syncer;
    pthread_cond_t wake;
    bool syncer_on, dirty, stop;
    enum ctix_rc syncer_rc; /* its first failure, reported by the next prov_audit_sync_soon */
    struct prov_audit_head head;
    const struct prov_key *key; /* borrowed; signs the head at each sync when set */
    uint64_t head_written;      /* the seq of the head last written (under sync_mu) */
    char path[4096];
    char head_path[4096];
};

static enum ctix_rc audit_path(const char *dir, const char *name, char out[4096],
                               struct ctix_diag *diag)
{
    if (snprintf(out, 4096, "%s/%s", dir, name) >= 4096) {
        ctix_diag_set(diag, dir, "data directory path too long");
        return CTIX_EINVAL;
    }
    return CTIX_OK;
}

/* Reads the head from the file's last line: a window at the end of the file, doubled until it
 * holds the whole line (a response's entry can be large, most are small). */
static enum ctix_rc head_load(struct prov_audit_log *log, struct ctix_diag *diag)
{
    struct stat sb;
    struct prov_audit_entry e;
    unsigned char h[32];
    char *tail = NULL;
    size_t want = TAIL_FIRST;
    ssize_t got;
    off_t from;
    const char *line;
    enum ctix_rc rc = CTIX_EIO;

    memset(&e, 0, sizeof(e));
    if (fstat(log->fd, &sb) != 0) {
        ctix_diag_set(diag, log->path, "cannot stat: %s", strerror(errno));
        goto out;
    }
    log->known_size = sb.st_size;
    memset(&log->head, 0, sizeof(log->head));
    rc = CTIX_OK;
    if (sb.st_size == 0)
        goto out;
    for (;;) {
        char *t;

        if (want > LINE_MAX_LEN)
            want = LINE_MAX_LEN;
        if (sb.st_size < (off_t)want)
            want = (size_t)sb.st_size;
        from = sb.st_size - (off_t)want;
        rc = CTIX_ENOMEM;
        t = realloc(tail, want + 1);
        if (t == NULL)
            goto out;
        tail = t;
        rc = CTIX_EIO;
        got = pread(log->fd, tail, want, from);
        if (got != (ssize_t)want) {
            ctix_diag_set(diag, log->path, "cannot read: %s", got < 0 ? strerror(errno) : "short");
            goto out;
        }
        tail[want] = '\0';
        if (tail[want - 1] != '\n') {
            ctix_diag_set(diag, log->path,
                          "ends in a partial entry: check it with `ctix audit verify` before "
                          "appending");
            goto out;
        }
        tail[want - 1] = '\0';
        line = memrchr(tail, '\n', want - 1);
        line = line != NULL ? line + 1 : tail;
        if (line != tail || from == 0)
            break;
        if (want == LINE_MAX_LEN) {
            ctix_diag_set(diag, log->path, "last entry too long");
            goto out;
        }
        want *= 2;
    }
    if (prov__audit_line_parse(line, strlen(line), &e, diag) != CTIX_OK ||
        prov_audit_entry_hash(&e, h) != CTIX_OK || CRYPTO_memcmp(h, e.hash, 32) != 0) {
        ctix_diag_set(diag, log->path,
                      "the last entry is damaged: check it with `ctix audit verify`");
        rc = CTIX_EIO;
        goto out;
    }
    log->head.seq = e.seq;
    memcpy(log->head.hash, e.hash, 32);
    rc = CTIX_OK;
out:
    prov_audit_entry_cleanup(&e);
    free(tail);
    return rc;
}

enum ctix_rc prov_audit_open(const char *dir, struct prov_audit_log **out, struct ctix_diag *diag)
{
    struct prov_audit_log *log = calloc(1, sizeof(*log));
    enum ctix_rc rc = CTIX_ENOMEM;

    if (log == NULL)
        goto out;
    log->fd = -1;
    if (pthread_mutex_init(&log->mu, NULL) != 0) {
        free(log);
        log = NULL;
        goto out;
    }
    if (pthread_mutex_init(&log->sync_mu, NULL) != 0) {
        pthread_mutex_destroy(&log->mu);
        free(log);
        log = NULL;
        goto out;
    }
    if (pthread_cond_init(&log->wake, NULL) != 0) {
        pthread_mutex_destroy(&log->sync_mu);
        pthread_mutex_destroy(&log->mu);
        free(log);
        log = NULL;
        goto out;
    }
    rc = audit_path(dir, PROV_AUDIT_FILE, log->path, diag);
    if (rc == CTIX_OK)
        rc = audit_path(dir, PROV_AUDIT_HEAD, log->head_path, diag);
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EIO;
    log->fd = open(log->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log->fd < 0) {
        ctix_diag_set(diag, log->path, "cannot open the audit log: %s", strerror(errno));
        goto out;
    }
    if (flock(log->fd, LOCK_SH) != 0) {
        ctix_diag_set(diag, log->path, "cannot lock: %s", strerror(errno));
        goto out;
    }
    rc = head_load(log, diag);
    flock(log->fd, LOCK_UN);
    if (rc != CTIX_OK)
        goto out;
    *out = log;
    log = NULL;
out:
    prov_audit_close(log);
    return rc;
}

enum ctix_rc prov_audit_append(struct prov_audit_log *log, struct prov_audit_entry *e,
                               struct ctix_diag *diag)
{
    struct prov_audit_head head;
    struct stat sb;
    struct buf b;
    const char *line;
    size_t at, n;
    bool locked = false;
    enum ctix_rc rc = CTIX_EIO;

    buf_init(&b, LINE_MAX_LEN + sizeof(AUDIT_DOMAIN));
    pthread_mutex_lock(&log->mu);
    if (flock(log->fd, LOCK_EX) != 0) {
        ctix_diag_set(diag, log->path, "cannot lock: %s", strerror(errno));
        goto out;
    }
    locked = true;
    if (fstat(log->fd, &sb) != 0) {
        ctix_diag_set(diag, log->path, "cannot stat: %s", strerror(errno));
        goto out;
    }
    /* Another process appended since: continue its chain. */
    if (sb.st_size != log->known_size) {
        rc = head_load(log, diag);
        if (rc != CTIX_OK)
            goto out;
    }
    head = log->head;
    seal_with(&head, e);
    /* One encoding for both the hash and the line: the line is the encoding (after the domain
     * prefix) with "hash" spliced in, then a newline. */
    rc = hash_into(e, &b, &at, e->hash);
    if (rc == CTIX_OK)
        rc = buf_grow(&b, HASH_MEMBER_LEN + 1);
    if (rc == CTIX_EINVAL)
        ctix_diag_set(diag, NULL, "an audit field is not UTF-8");
    if (rc != CTIX_OK)
        goto out;
    {
        char member[HASH_MEMBER_LEN + 1], hex[65];

        ctix_hex(e->hash, 32, hex);
        snprintf(member, sizeof(member), ",\"hash\":\"%s\"", hex);
        memmove(b.data + at + HASH_MEMBER_LEN, b.data + at, b.len - at);
        memcpy(b.data + at, member, HASH_MEMBER_LEN);
        b.len += HASH_MEMBER_LEN;
        b.data[b.len++] = '\n';
    }
    line = b.data + strlen(AUDIT_DOMAIN);
    n = b.len - strlen(AUDIT_DOMAIN);
    rc = CTIX_EIO;
    if (!ctix_write_all(log->fd, line, n)) {
        ctix_diag_set(diag, log->path, "cannot append: %s", strerror(errno));
        goto out;
    }
    head.seq = e->seq;
    memcpy(head.hash, e->hash, 32);
    log->known_size = sb.st_size + (off_t)n;
    log->head = head;
    rc = CTIX_OK;
out:
    if (locked)
        flock(log->fd, LOCK_UN);
    pthread_mutex_unlock(&log->mu);
    buf_cleanup(&b);
    return rc;
}

/* Writes the signed head h to DIR/audit.head: a temporary file of this process, fsynced, renamed
 * over the old head, so that a reader (or a crash) sees the old head or the new one, whole. */
static enum ctix_rc head_write(struct prov_audit_log *log, const struct prov_audit_head *h,
                               struct ctix_diag *diag)
{
    char tmp[4096 + 32], line[512], sig[PROV__HEAD_SIG_TEXT], key[PROV_PUBKEY_TEXT], hex[65];
    int fd = -1, n;
    enum ctix_rc rc;

    rc = prov__audit_head_sign(log->key, h->seq, h->hash, sig);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, log->head_path, "cannot sign the audit head");
        goto out;
    }
    prov_pubkey_format(prov_key_public(log->key), key);
    ctix_hex(h->hash, 32, hex);
    n = snprintf(line, sizeof(line),
                 "{\"hash\":\"%s\",\"public_key\":\"%s\",\"seq\":%llu,\"signature\":\"%s\"}\n", hex,
                 key, (unsigned long long)h->seq, sig);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", log->head_path, (long)getpid());
    rc = CTIX_EIO;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        ctix_diag_set(diag, tmp, "cannot write the audit head: %s", strerror(errno));
        goto out;
    }
    if (!ctix_write_all(fd, line, (size_t)n) || fsync(fd) != 0) {
        ctix_diag_set(diag, tmp, "cannot write the audit head: %s", strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        ctix_diag_set(diag, tmp, "cannot write the audit head: %s", strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, log->head_path) != 0) {
        ctix_diag_set(diag, log->head_path, "cannot replace the audit head: %s", strerror(errno));
        goto out;
    }
    rc = CTIX_OK;
out:
    if (fd >= 0)
        close(fd);
    if (rc != CTIX_OK)
        (void)unlink(tmp);
    return rc;
}

/* Group commit: a thread whose appends another thread's fdatasync already covered (it started
 * after they were written) returns at once, so N concurrent requests cost far fewer than N
 * syncs. */
enum ctix_rc prov_audit_sync(struct prov_audit_log *log, struct ctix_diag *diag)
{
    struct prov_audit_head head;
    off_t want, upto;
    enum ctix_rc rc = CTIX_OK;

    pthread_mutex_lock(&log->mu);
    want = log->known_size;
    pthread_mutex_unlock(&log->mu);
    pthread_mutex_lock(&log->sync_mu);
    if (log->synced_size >= want)
        goto out;
    pthread_mutex_lock(&log->mu);
    upto = log->known_size; /* written before the sync starts: covered by it */
    head = log->head;       /* the head of exactly those bytes */
    pthread_mutex_unlock(&log->mu);
    if (fdatasync(log->fd) != 0) {
        ctix_diag_set(diag, log->path, "cannot sync: %s", strerror(errno));
        rc = CTIX_EIO;
        goto out;
    }
    /* Signed only now: the head never names an entry a crash could still lose. */
    if (log->key != NULL && head.seq > 0 && head.seq != log->head_written) {
        rc = head_write(log, &head, diag);
        if (rc != CTIX_OK)
            goto out;
        log->head_written = head.seq;
    }
    log->synced_size = upto;
out:
    pthread_mutex_unlock(&log->sync_mu);
    return rc;
}

/* The syncer: sleeps until an append asks for durability, waits the delay (the appends of that
 * window share one fdatasync), syncs, and again. */
static void *syncer_main(void *arg)
{
    struct prov_audit_log *log = arg;
    struct ctix_diag d;

    pthread_mutex_lock(&log->mu);
    while (!log->stop) {
        struct timespec until;
        enum ctix_rc rc;

        if (!log->dirty) {
            pthread_cond_wait(&log->wake, &log->mu);
            continue;
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += PROV_AUDIT_SYNC_DELAY_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!log->stop && pthread_cond_timedwait(&log->wake, &log->mu, &until) == 0)
            ;
        log->dirty = false;
        pthread_mutex_unlock(&log->mu);
        ctix_diag_clear(&d);
        rc = prov_audit_sync(log, &d);
        if (rc != CTIX_OK)
            ctix_log(CTIX_LOG_ERROR, "audit", "event=sync_failed msg=\"%s\"", d.msg);
        pthread_mutex_lock(&log->mu);
        if (rc != CTIX_OK && log->syncer_rc == CTIX_OK)
            log->syncer_rc = rc;
    }
    pthread_mutex_unlock(&log->mu);
    return NULL;
}

enum ctix_rc prov_audit_sync_soon(struct prov_audit_log *log, struct ctix_diag *diag)
{
    enum ctix_rc rc;

    pthread_mutex_lock(&log->mu);
    rc = log->syncer_rc;
    if (rc == CTIX_OK && !log->syncer_on) {
        if (pthread_create(&log->syncer, NULL, syncer_main, log) == 0)
            log->syncer_on = true;
    }
    if (rc == CTIX_OK && log->syncer_on) {
        log->dirty = true;
        pthread_cond_signal(&log->wake);
    }
    pthread_mutex_unlock(&log->mu);
    if (rc != CTIX_OK)
        ctix_diag_set(diag, log->path, "a background sync of the audit log failed");
    else if (!log->syncer_on)
        rc = prov_audit_sync(log, diag); /* no thread: durable now instead */
    return rc;
}

void prov_audit_head_get(struct prov_audit_log *log, struct prov_audit_head *out)
{
    pthread_mutex_lock(&log->mu);
    *out = log->head;
    pthread_mutex_unlock(&log->mu);
}

void prov_audit_set_key(struct prov_audit_log *log, const struct prov_key *key)
{
    pthread_mutex_lock(&log->sync_mu);
    log->key = key;
    pthread_mutex_unlock(&log->sync_mu);
}

void prov_audit_close(struct prov_audit_log *log)
{
    if (log == NULL)
        return;
    if (log->syncer_on) {
        pthread_mutex_lock(&log->mu);
        log->stop = true;
        pthread_cond_signal(&log->wake);
        pthread_mutex_unlock(&log->mu);
        pthread_join(log->syncer, NULL);
    }
    if (log->fd >= 0) {
        struct ctix_diag d;

        ctix_diag_clear(&d);
        /* With a key, the last appends get their signed head too. */
        if (log->key != NULL && prov_audit_sync(log, &d) != CTIX_OK)
            ctix_log(CTIX_LOG_ERROR, "audit", "event=sync_failed msg=\"%s\"", d.msg);
        (void)fdatasync(log->fd);
        close(log->fd);
    }
    pthread_cond_destroy(&log->wake);
    pthread_mutex_destroy(&log->mu);
    pthread_mutex_destroy(&log->sync_mu);
    free(log);
}

/* Reads DIR/audit.head and checks its signature against DIR/node.key. CTIX_ENOTFOUND when there
 * is no head; CTIX_EINVAL with diag when it is ill-formed or not signed by the node key. */
static enum ctix_rc head_read(const char *dir, struct prov_audit_head *out, struct ctix_diag *diag)
{
    struct prov_key *k = NULL;
    struct ctix_diag d;
    char path[4096];
    json_t *j = NULL, *seq;
    const char *sig;
    enum ctix_rc rc;

    rc = audit_path(dir, PROV_AUDIT_HEAD, path, diag);
    if (rc != CTIX_OK)
        goto out;
    j = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    if (j == NULL) {
        rc = access(path, F_OK) != 0 && errno == ENOENT ? CTIX_ENOTFOUND : CTIX_EINVAL;
        if (rc == CTIX_EINVAL)
            ctix_diag_set(diag, path, "audit.head is unreadable or not JSON");
        goto out;
    }
    rc = CTIX_EINVAL;
    seq = json_object_get(j, "seq");
    sig = json_string_value(json_object_get(j, "signature"));
    if (!json_is_integer(seq) || json_integer_value(seq) < 1 ||
        (uint64_t)json_integer_value(seq) > SEQ_MAX || sig == NULL ||
        !get_hash(j, "hash", out->hash)) {
        ctix_diag_set(diag, path, "audit.head is ill-formed");
        goto out;
    }
    out->seq = (uint64_t)json_integer_value(seq);
    ctix_diag_clear(&d);
    rc = prov_key_load(dir, &k, &d);
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, path, "cannot check audit.head against the node key: %s",
                      d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        if (rc == CTIX_ENOTFOUND)
            rc = CTIX_EINVAL; /* a head without its key: as good as a forged one */
        goto out;
    }
    /* Only the signature counts: the head's public_key member is there for people. */
    rc = prov__audit_head_verify(prov_key_public(k), out->seq, out->hash, sig);
    if (rc == CTIX_EDENIED) {
        rc = CTIX_EINVAL;
        ctix_diag_set(diag, path, "audit.head is not signed by this node's key");
    }
out:
    prov_key_free(k);
    json_decref(j);
    return rc;
}

enum ctix_rc prov_audit_file_verify(const char *dir, struct prov_audit_report *report,
                                    struct ctix_diag *diag)
{
    struct prov_audit_check chk;
    struct prov_audit_entry e;
    struct ctix_diag d;
    char path[4096];
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t lineno = 0;
    FILE *f = NULL;
    enum ctix_rc rc;

    memset(report, 0, sizeof(*report));
    memset(&e, 0, sizeof(e));
    prov_audit_check_init(&chk);
    rc = audit_path(dir, PROV_AUDIT_FILE, path, diag);
    if (rc != CTIX_OK)
        goto out;
    f = fopen(path, "re");
    if (f == NULL) {
        rc = errno == ENOENT ? CTIX_ENOTFOUND : CTIX_EIO;
        ctix_diag_set(diag, path, "cannot open the audit log: %s", strerror(errno));
        goto out;
    }
    rc = head_read(dir, &report->anchor, diag);
    if (rc != CTIX_OK && rc != CTIX_ENOTFOUND)
        goto out;
    report->signed_head = rc == CTIX_OK;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        rc = CTIX_EINVAL;
        ctix_diag_clear(&d);
        if (n == 0 || line[n - 1] != '\n') {
            ctix_diag_set(&d, NULL, "a partial entry (the file was cut)");
        } else if ((size_t)n > LINE_MAX_LEN) {
            ctix_diag_set(&d, NULL, "line too long");
        } else if (prov__audit_line_parse(line, (size_t)n - 1, &e, &d) == CTIX_OK) {
            rc = prov_audit_check_next(&chk, &e, &d);
        }
        /* The chain holds up to here, yet its hashes may all have been recomputed: the signed
         * head is the one hash an editor of the file cannot make. */
        if (rc == CTIX_OK && report->signed_head && chk.n == report->anchor.seq &&
            CRYPTO_memcmp(chk.head.hash, report->anchor.hash, 32) != 0) {
            rc = CTIX_EINVAL;
            ctix_diag_set(&d, NULL,
                          "seq %llu: its hash is not the one in the signed audit.head (the log "
                          "was rewritten)",
                          (unsigned long long)report->anchor.seq);
            report->n_entries = chk.n - 1;
            report->bad_seq = chk.n;
            report->bad_line = lineno;
            ctix_diag_set(diag, path, "line %llu: %s", (unsigned long long)lineno, d.msg);
            goto out_anchor;
        }
        if (rc != CTIX_OK) {
            if (rc == CTIX_EINVAL) {
                report->bad_seq = chk.head.seq + 1;
                report->bad_line = lineno;
                ctix_diag_set(diag, path, "line %llu: %s", (unsigned long long)lineno, d.msg);
            }
            goto out;
        }
    }
    rc = CTIX_OK;
    if (ferror(f)) {
        rc = CTIX_EIO;
        ctix_diag_set(diag, path, "cannot read the audit log");
    } else if (report->signed_head && chk.n < report->anchor.seq) {
        rc = CTIX_EINVAL;
        report->bad_seq = chk.n + 1;
        ctix_diag_set(diag, path,
                      "entries removed from the end (log ends at seq %llu, the signed head is at "
                      "seq %llu)",
                      (unsigned long long)chk.n, (unsigned long long)report->anchor.seq);
    } else if (report->signed_head) {
        report->unanchored = chk.n - report->anchor.seq;
    }
out:
    report->n_entries = chk.n;
out_anchor:
    report->head = chk.head;
    prov_audit_entry_cleanup(&e);
    free(line);
    if (f != NULL)
        fclose(f);
    return rc;
}
