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
#include <unistd.h>

#include <openssl/crypto.h>

#include "prov/prov_int.h"

#define AUDIT_DOMAIN "ctix/audit/v1\n"
#define LINE_MAX_LEN ((size_t)16 << 10) /* an entry's line is at most ~2 KiB */
#define SEQ_MAX      ((uint64_t)1 << 53)

/* ---- encoding ---- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], need, cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + need >= n)
            return false;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        /* overlong forms, surrogates and values past U+10FFFF */
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

/* A field's text: NUL-terminated inside its array and UTF-8. */
static bool field_ok(const char *f, size_t size, size_t *len)
{
    *len = strnlen(f, size);
    return *len < size && utf8_valid((const unsigned char *)f, *len);
}

/* Members in RFC 8785 order (all names are ASCII, so byte order is UTF-16 order); "hash" only in
 * the file's lines. */
static enum ctix_rc encode(const struct prov_audit_entry *e, bool with_hash, struct buf *b)
{
    struct field {
        const char *name;
        const char *v;
        size_t size;
    } before[] =
        {
            {"actor", e->actor, sizeof(e->actor)},
            {"channel", e->channel, sizeof(e->channel)},
            {"event", e->event, sizeof(e->event)},
        },
      after[] = {
          {"object_id", e->object_id, sizeof(e->object_id)},
      };
    char hex[65], ts[28];
    size_t len;
    enum ctix_rc rc = CTIX_OK;

    if (e->seq > SEQ_MAX)
        return CTIX_EINVAL;
    rc = buf_append(b, "{", 1);
    for (size_t i = 0; i < CTIX_ARRAY_LEN(before) && rc == CTIX_OK; i++) {
        if (!field_ok(before[i].v, before[i].size, &len))
            return CTIX_EINVAL;
        rc = buf_appendf(b, "%s\"%s\":", i > 0 ? "," : "", before[i].name);
        if (rc == CTIX_OK)
            rc = buf_append_json_str(b, before[i].v, len);
    }
    if (rc == CTIX_OK && with_hash) {
        ctix_hex(e->hash, 32, hex);
        rc = buf_appendf(b, ",\"hash\":\"%s\"", hex);
    }
    if (rc == CTIX_OK) {
        if (!field_ok(after[0].v, after[0].size, &len))
            return CTIX_EINVAL;
        rc = buf_appends(b, ",\"object_id\":");
        if (rc == CTIX_OK)
            rc = buf_append_json_str(b, after[0].v, len);
    }
    if (rc == CTIX_OK) {
        ctix_hex(e->prev, 32, hex);
        rc = buf_appendf(b, ",\"prev\":\"%s\",\"reason\":", hex);
    }
    if (rc == CTIX_OK) {
        if (!field_ok(e->reason, sizeof(e->reason), &len))
            return CTIX_EINVAL;
        rc = buf_append_json_str(b, e->reason, len);
    }
    if (rc == CTIX_OK) {
        ctix_ts_format_us(e->time_us, ts);
        rc = buf_appendf(
            b, ",\"seq\":%llu,\"time\":\"%s\",\"verdict\":", (unsigned long long)e->seq, ts);
    }
    if (rc == CTIX_OK) {
        if (!field_ok(e->verdict, sizeof(e->verdict), &len))
            return CTIX_EINVAL;
        rc = buf_append_json_str(b, e->verdict, len);
    }
    if (rc == CTIX_OK)
        rc = buf_appends(b, ",\"version\":");
    if (rc == CTIX_OK) {
        if (!field_ok(e->version, sizeof(e->version), &len))
            return CTIX_EINVAL;
        rc = buf_append_json_str(b, e->version, len);
    }
    if (rc == CTIX_OK)
        rc = buf_append(b, "}", 1);
    return rc;
}

enum ctix_rc prov_audit_entry_encode(const struct prov_audit_entry *e, char **out, size_t *len)
{
    struct buf b;
    enum ctix_rc rc;

    buf_init(&b, LINE_MAX_LEN);
    rc = encode(e, false, &b);
    if (rc == CTIX_OK) {
        *len = b.len;
        *out = buf_steal(&b);
        if (*out == NULL)
            rc = CTIX_ENOMEM;
    }
    buf_cleanup(&b);
    return rc;
}

enum ctix_rc prov_audit_entry_hash(const struct prov_audit_entry *e, unsigned char out[32])
{
    struct buf b;
    enum ctix_rc rc;

    buf_init(&b, LINE_MAX_LEN);
    rc = buf_appends(&b, AUDIT_DOMAIN);
    if (rc == CTIX_OK)
        rc = encode(e, false, &b);
    if (rc == CTIX_OK)
        rc = prov__sha256(b.data, b.len, out);
    buf_cleanup(&b);
    return rc;
}

enum ctix_rc prov_audit_entry_seal(struct prov_audit_head *head, struct prov_audit_entry *e)
{
    enum ctix_rc rc;

    e->seq = head->seq + 1;
    memcpy(e->prev, head->hash, 32);
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

/* One line of the file (without its newline) into e. */
static enum ctix_rc line_parse(const char *p, size_t n, struct prov_audit_entry *e,
                               struct ctix_diag *diag)
{
    json_t *j = NULL;
    const json_t *seq;
    char ts[PROV_VERSION_MAX];
    struct ctix_ts t;
    enum ctix_rc rc = stix_json_parse(p, n, &j, diag);

    memset(e, 0, sizeof(*e));
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EINVAL;
    seq = json_object_get(j, "seq");
    if (!json_is_object(j) || json_object_size(j) != 11 || !json_is_integer(seq) ||
        json_integer_value(seq) < 0 || !get_field(j, "time", ts, sizeof(ts)) ||
        ctix_ts_parse(ts, strlen(ts), &t) != CTIX_OK ||
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
    off_t known_size; /* the file's size after our last look: another writer changes it */
    struct prov_audit_head head;
    char path[4096];
};

static enum ctix_rc audit_path(const char *dir, char out[4096], struct ctix_diag *diag)
{
    if (snprintf(out, 4096, "%s/" PROV_AUDIT_FILE, dir) >= 4096) {
        ctix_diag_set(diag, dir, "data directory path too long");
        return CTIX_EINVAL;
    }
    return CTIX_OK;
}

/* Reads the head from the file's last line. */
static enum ctix_rc head_load(struct prov_audit_log *log, struct ctix_diag *diag)
{
    struct stat sb;
    struct prov_audit_entry e;
    unsigned char h[32];
    char *tail = NULL;
    size_t want;
    ssize_t got;
    off_t from;
    const char *line;
    enum ctix_rc rc = CTIX_EIO;

    if (fstat(log->fd, &sb) != 0) {
        ctix_diag_set(diag, log->path, "cannot stat: %s", strerror(errno));
        goto out;
    }
    log->known_size = sb.st_size;
    memset(&log->head, 0, sizeof(log->head));
    rc = CTIX_OK;
    if (sb.st_size == 0)
        goto out;
    rc = CTIX_ENOMEM;
    want = sb.st_size < (off_t)LINE_MAX_LEN ? (size_t)sb.st_size : LINE_MAX_LEN;
    from = sb.st_size - (off_t)want;
    tail = malloc(want + 1);
    if (tail == NULL)
        goto out;
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
    line = strrchr(tail, '\n');
    line = line != NULL ? line + 1 : tail;
    if (line == tail && from != 0) {
        ctix_diag_set(diag, log->path, "last entry too long");
        goto out;
    }
    if (line_parse(line, strlen(line), &e, diag) != CTIX_OK ||
        prov_audit_entry_hash(&e, h) != CTIX_OK || CRYPTO_memcmp(h, e.hash, 32) != 0) {
        ctix_diag_set(diag, log->path,
                      "the last entry is damaged: check it with `ctix audit verify`");
        goto out;
    }
    log->head.seq = e.seq;
    memcpy(log->head.hash, e.hash, 32);
    rc = CTIX_OK;
out:
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
    rc = audit_path(dir, log->path, diag);
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

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

enum ctix_rc prov_audit_append(struct prov_audit_log *log, struct prov_audit_entry *e,
                               struct ctix_diag *diag)
{
    struct prov_audit_head head;
    struct stat sb;
    struct buf b;
    bool locked = false;
    enum ctix_rc rc = CTIX_EIO;

    buf_init(&b, LINE_MAX_LEN);
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
    rc = prov_audit_entry_seal(&head, e);
    if (rc == CTIX_OK)
        rc = encode(e, true, &b);
    if (rc == CTIX_OK)
        rc = buf_append(&b, "\n", 1);
    if (rc == CTIX_EINVAL)
        ctix_diag_set(diag, NULL, "an audit field is not UTF-8");
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EIO;
    if (!write_all(log->fd, b.data, b.len)) {
        ctix_diag_set(diag, log->path, "cannot append: %s", strerror(errno));
        goto out;
    }
    log->known_size = sb.st_size + (off_t)b.len;
    log->head = head;
    rc = CTIX_OK;
out:
    if (locked)
        flock(log->fd, LOCK_UN);
    pthread_mutex_unlock(&log->mu);
    buf_cleanup(&b);
    return rc;
}

enum ctix_rc prov_audit_sync(struct prov_audit_log *log, struct ctix_diag *diag)
{
    if (fdatasync(log->fd) != 0) {
        ctix_diag_set(diag, log->path, "cannot sync: %s", strerror(errno));
        return CTIX_EIO;
    }
    return CTIX_OK;
}

void prov_audit_head_get(struct prov_audit_log *log, struct prov_audit_head *out)
{
    pthread_mutex_lock(&log->mu);
    *out = log->head;
    pthread_mutex_unlock(&log->mu);
}

void prov_audit_close(struct prov_audit_log *log)
{
    if (log == NULL)
        return;
    if (log->fd >= 0) {
        (void)fdatasync(log->fd);
        close(log->fd);
    }
    pthread_mutex_destroy(&log->mu);
    free(log);
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
    prov_audit_check_init(&chk);
    rc = audit_path(dir, path, diag);
    if (rc != CTIX_OK)
        goto out;
    f = fopen(path, "re");
    if (f == NULL) {
        rc = errno == ENOENT ? CTIX_ENOTFOUND : CTIX_EIO;
        ctix_diag_set(diag, path, "cannot open the audit log: %s", strerror(errno));
        goto out;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        rc = CTIX_EINVAL;
        ctix_diag_clear(&d);
        if (n == 0 || line[n - 1] != '\n') {
            ctix_diag_set(&d, NULL, "a partial entry (the file was cut)");
        } else if ((size_t)n > LINE_MAX_LEN) {
            ctix_diag_set(&d, NULL, "line too long");
        } else if (line_parse(line, (size_t)n - 1, &e, &d) == CTIX_OK) {
            rc = prov_audit_check_next(&chk, &e, &d);
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
    }
out:
    report->n_entries = chk.n;
    report->head = chk.head;
    free(line);
    if (f != NULL)
        fclose(f);
    return rc;
}
