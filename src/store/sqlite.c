/* sqlite.c: the embedded store backend, one SQLite file DATA_DIR/ctix.db in WAL mode.
 *
 * Concurrency: one write connection behind a mutex (SQLite allows one writer anyway, and the
 * per-collection date_added clock lives under the same mutex), and a pool of read-only
 * connections, handed out from a mutex-protected free list and opened on demand, so that reads
 * of several HTTP workers run in parallel on WAL snapshots. Every connection is used by one
 * thread at a time (SQLITE_OPEN_NOMUTEX) and keeps its prepared statements: the fixed ones in
 * an array indexed by enum stmt_id, the dynamic filter queries in a small cache keyed by SQL.
 * Every statement is reset right after use, so that no connection holds a read snapshot open.
 *
 * Objects: one row per stored version. is_last / is_first mark the versions with the greatest and
 * the smallest version_key of each (collection, id); they are kept right by every put and delete,
 * so that the default TAXII query is a keyset scan over a partial index. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store_int.h"

#define DB_FILE       "ctix.db"
#define BUSY_MS       10000
#define DYN_CACHE     16 /* dynamic query statements kept per connection */
#define CTIX_STR_(x)  #x
#define CTIX_STR(x)   CTIX_STR_(x)
#define CKPT_EVERY_MS 200        /* the background checkpointer's period */
#define WAL_AUTO_CKPT 16384      /* pages: the writer checkpoints itself only past 64 MB of WAL */
#define SQL_MAX       (1u << 20) /* cap of a built query text */
#define MAX_PARAMS    32000      /* SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32766 */
#define VKEY_LEN      30         /* stix_version_key() form: "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" */
#define READER_MMAP   0          /* see conn_open() */

/* ---- schema: migrations[i] brings user_version i to i + 1 ---- */

static const char *const migrations[] = {
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE orgs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " created_us INTEGER NOT NULL);"
    /* cid is the collection's compact key in every objects row and index. */
    "CREATE TABLE collections(cid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " title TEXT NOT NULL, alias TEXT UNIQUE, description TEXT NOT NULL,"
    " created_us INTEGER NOT NULL);"
    "CREATE TABLE grants(cid INTEGER NOT NULL REFERENCES collections(cid),"
    " org_id INTEGER NOT NULL REFERENCES orgs(id), can_read INTEGER NOT NULL,"
    " can_write INTEGER NOT NULL, PRIMARY KEY(cid, org_id)) WITHOUT ROWID;"
    "CREATE TABLE keys(id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id),"
    " role TEXT NOT NULL, name TEXT NOT NULL, created_us INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0, hash BLOB NOT NULL UNIQUE);"
    "CREATE TABLE objects(rid INTEGER PRIMARY KEY, cid INTEGER NOT NULL"
    " REFERENCES collections(cid), id TEXT NOT NULL, version TEXT NOT NULL,"
    " version_key TEXT NOT NULL, type TEXT NOT NULL, spec_version TEXT NOT NULL,"
    " date_added INTEGER NOT NULL, tlp INTEGER NOT NULL, is_last INTEGER NOT NULL,"
    " is_first INTEGER NOT NULL, idh INTEGER NOT NULL, json TEXT NOT NULL);"
    /* Objects are found by a keyed 64-bit hash of their id (idh, see id_hash()), then by the id
     * itself. Ids are random UUIDs, so every insert lands on a random leaf of this index: keys of
     * ~12 bytes instead of ~80 (id and version) dirty several times fewer pages per commit, and
     * the WAL writes of those pages were most of the cost of a put. (cid, id, version_key) is
     * unique by construction: obj_put() checks under the write lock before inserting. */
    "CREATE INDEX objects_id ON objects(cid, idh);"
    "CREATE UNIQUE INDEX objects_added ON objects(cid, date_added);"
    /* The default query (match[version]=last) scans this in date_added order. */
    "CREATE INDEX objects_last ON objects(cid, date_added) WHERE is_last = 1;"
    "CREATE INDEX objects_type ON objects(cid, type, date_added);"
    "CREATE TABLE status(id TEXT PRIMARY KEY, org_id INTEGER NOT NULL, json TEXT NOT NULL,"
    " updated_us INTEGER NOT NULL) WITHOUT ROWID;",

    /* 2: federation. Every stored version has an origin (0 = this node, else a peer id; not a
     * foreign key: objects outlive the peer they came from) and a prov (enum store_prov). */
    "ALTER TABLE objects ADD COLUMN origin INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE objects ADD COLUMN prov INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE orgs ADD COLUMN client INTEGER NOT NULL DEFAULT 0;"
    /* AUTOINCREMENT: a removed peer's id is never handed out again, so that the origin of the
     * objects it sent never names a newer peer. token is a secret: never logged. */
    "CREATE TABLE peers(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,"
    " org_id INTEGER NOT NULL REFERENCES orgs(id), url TEXT NOT NULL, token TEXT NOT NULL,"
    " pubkey TEXT NOT NULL, max_tlp INTEGER NOT NULL, created_us INTEGER NOT NULL,"
    " last_ok_us INTEGER NOT NULL DEFAULT 0, last_err_us INTEGER NOT NULL DEFAULT 0,"
    " last_err TEXT NOT NULL DEFAULT '', n_errors INTEGER NOT NULL DEFAULT 0,"
    " n_received INTEGER NOT NULL DEFAULT 0, n_sent INTEGER NOT NULL DEFAULT 0,"
    " n_quarantined INTEGER NOT NULL DEFAULT 0, lag_objects INTEGER NOT NULL DEFAULT 0,"
    " lag_us INTEGER NOT NULL DEFAULT 0);"
    /* coll_id is text, not a collections key: a pushed-to collection lives on the peer only. */
    "CREATE TABLE peer_colls(peer_id INTEGER NOT NULL REFERENCES peers(id),"
    " coll_id TEXT NOT NULL, dir INTEGER NOT NULL, cursor_us INTEGER NOT NULL DEFAULT -1,"
    " PRIMARY KEY(peer_id, coll_id, dir)) WITHOUT ROWID;"
    "CREATE TABLE trust(org TEXT NOT NULL, pubkey TEXT NOT NULL, created_us INTEGER NOT NULL,"
    " PRIMARY KEY(org, pubkey)) WITHOUT ROWID;"
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY, peer_id INTEGER NOT NULL REFERENCES peers(id),"
    " coll_id TEXT NOT NULL, json TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_us INTEGER NOT NULL DEFAULT 0, last_err TEXT NOT NULL DEFAULT '',"
    " created_us INTEGER NOT NULL);"
    "CREATE INDEX outbox_peer ON outbox(peer_id, id);",

    /* 3: the change log (store_changes_since): one row per object a write changed, in the
     * write's own transaction. seq is the rowid, so that "what changed since seq" is a range
     * scan of the table itself and an insert an append to its last page (no other index to
     * dirty). AUTOINCREMENT: a seq is never handed out twice, not even after a trim emptied the
     * table. The epoch names this log: a cache that remembers another epoch (another store, a
     * restored copy) cannot be followed. Changes at or below the floor were trimmed. */
    "CREATE TABLE changes(seq INTEGER PRIMARY KEY AUTOINCREMENT, cid INTEGER NOT NULL,"
    " id TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('changes_epoch', lower(hex(randomblob(16))));"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('changes_floor', '0');",
};
#define SCHEMA_VERSION ((int)CTIX_ARRAY_LEN(migrations))

/* ---- fixed statements, prepared once per connection on first use ---- */

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_META_GET,
    S_META_SET,
    S_ORG_ADD,
    S_ORG_GET,
    S_ORG_GET_ID,
    S_ORG_LIST,
    S_COLL_TAKEN,
    S_COLL_ADD,
    S_COLL_GET,
    S_COLL_LIST,
    S_COLL_CID,
    S_GRANT_SET,
    S_GRANT_DEL,
    S_GRANT_GET,
    S_ORG_EXISTS,
    S_KEY_ADD,
    S_KEY_FIND,
    S_KEY_LIST,
    S_KEY_REVOKE,
    S_OBJ_MAX_ADDED,
    S_OBJ_MINMAX,
    S_OBJ_FIND,
    S_OBJ_FIND_LAST,
    S_OBJ_CLEAR_LAST,
    S_OBJ_CLEAR_FIRST,
    S_OBJ_INSERT,
    S_OBJ_FLAGS,
    S_OBJ_EXISTS,
    S_OBJ_COUNT,
    S_STATUS_PUT,
    S_STATUS_GET,
    S_ORG_SET_CLIENT,
    S_OBJ_PROV_SET,
    S_OBJ_PROV_SETTLE,
    S_PEER_ADD,
    S_PEER_GET,
    S_PEER_GET_ID,
    S_PEER_LIST,
    S_PEER_ID,
    S_PEER_DEL_COLLS,
    S_PEER_DEL_OUTBOX,
    S_PEER_DEL,
    S_PEER_STATUS,
    S_PCOLL_ADD,
    S_PCOLL_LIST,
    S_PCOLL_CURSOR,
    S_TRUST_ADD,
    S_TRUST_LIST,
    S_OUTBOX_ADD,
    S_OUTBOX_DUE,
    S_OUTBOX_DONE,
    S_OUTBOX_RETRY,
    S_OUTBOX_COUNT,
    S_CHG_ADD,
    S_CHG_POS,
    S_CHG_SINCE,
    S_CHG_TRIM,
    S_CHG_FLOOR,
    S_COUNT
};

#define COLL_COLS "id, title, coalesce(alias, ''), description, created_us"
#define KEY_COLS  "id, org_id, role, name, created_us, revoked, hash"
#define ORG_COLS  "id, name, created_us, client"
#define PEER_COLS                                                                                  \
    "id, name, org_id, url, token, pubkey, max_tlp, created_us, last_ok_us, last_err_us,"          \
    " last_err, n_errors, n_received, n_sent, n_quarantined, lag_objects, lag_us"

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?",
    [S_META_SET] = "INSERT INTO meta(key, value) VALUES(?, ?)"
                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [S_ORG_ADD] = "INSERT INTO orgs(name, created_us) VALUES(?, ?)",
    [S_ORG_GET] = "SELECT " ORG_COLS " FROM orgs WHERE name = ?",
    [S_ORG_GET_ID] = "SELECT " ORG_COLS " FROM orgs WHERE id = ?",
    [S_ORG_LIST] = "SELECT " ORG_COLS " FROM orgs ORDER BY name",
    /* An alias must not shadow another collection's id, nor an id another's alias. */
    [S_COLL_TAKEN] = "SELECT 1 FROM collections WHERE id = ?1 OR alias = ?1"
                     " OR (?2 <> '' AND (id = ?2 OR alias = ?2))",
    [S_COLL_ADD] = "INSERT INTO collections(id, title, alias, description, created_us)"
                   " VALUES(?, ?, nullif(?, ''), ?, ?)",
    [S_COLL_GET] = "SELECT " COLL_COLS " FROM collections WHERE id = ?1"
                   " UNION ALL SELECT " COLL_COLS " FROM collections WHERE alias = ?1 LIMIT 1",
    [S_COLL_LIST] = "SELECT " COLL_COLS " FROM collections ORDER BY cid",
    [S_COLL_CID] = "SELECT cid FROM collections WHERE id = ?",
    [S_GRANT_SET] = "INSERT INTO grants(cid, org_id, can_read, can_write) VALUES(?, ?, ?, ?)"
                    " ON CONFLICT(cid, org_id) DO UPDATE SET can_read = excluded.can_read,"
                    " can_write = excluded.can_write",
    [S_GRANT_DEL] = "DELETE FROM grants WHERE cid = ? AND org_id = ?",
    [S_GRANT_GET] = "SELECT can_read, can_write FROM grants WHERE org_id = ?2"
                    " AND cid = (SELECT cid FROM collections WHERE id = ?1)",
    [S_ORG_EXISTS] = "SELECT 1 FROM orgs WHERE id = ?",
    [S_KEY_ADD] = "INSERT INTO keys(org_id, role, name, created_us, hash) VALUES(?, ?, ?, ?, ?)",
    [S_KEY_FIND] = "SELECT " KEY_COLS " FROM keys WHERE hash = ?",
    [S_KEY_LIST] = "SELECT " KEY_COLS " FROM keys ORDER BY id",
    [S_KEY_REVOKE] = "UPDATE keys SET revoked = 1 WHERE id = ?",
    [S_OBJ_MAX_ADDED] = "SELECT max(date_added) FROM objects WHERE cid = ?",
    /* Two index seeks: the smallest and the greatest version, with their rows. */
    [S_OBJ_MINMAX] = "SELECT rid, version_key FROM objects WHERE cid = ?1 AND idh = ?3"
                     " AND id = ?2",
    [S_OBJ_FIND] = "SELECT json, date_added FROM objects"
                   " WHERE cid = ?1 AND idh = ?4 AND id = ?2 AND version_key = ?3",
    [S_OBJ_FIND_LAST] = "SELECT json, date_added FROM objects"
                        " WHERE cid = ?1 AND idh = ?4 AND id = ?2 AND is_last = 1",
    [S_OBJ_CLEAR_LAST] = "UPDATE objects SET is_last = 0 WHERE rid = ?",
    [S_OBJ_CLEAR_FIRST] = "UPDATE objects SET is_first = 0 WHERE rid = ?",
    [S_OBJ_INSERT] = "INSERT INTO objects(cid, id, version, version_key, type, spec_version,"
                     " date_added, tlp, is_last, is_first, json, idh, origin, prov)"
                     " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    /* After a delete: only the rows whose flags change are written. */
    [S_OBJ_FLAGS] = "UPDATE objects SET is_last = (version_key = m.mx),"
                    " is_first = (version_key = m.mn)"
                    " FROM (SELECT max(version_key) AS mx, min(version_key) AS mn FROM objects"
                    "       WHERE cid = ?1 AND idh = ?3 AND id = ?2) AS m"
                    " WHERE cid = ?1 AND idh = ?3 AND id = ?2"
                    " AND (is_last <> (version_key = m.mx) OR is_first <> (version_key = m.mn))",
    [S_OBJ_EXISTS] = "SELECT 1 FROM objects WHERE cid = ?1 AND idh = ?3 AND id = ?2 LIMIT 1",
    [S_OBJ_COUNT] = "SELECT count(*) FROM objects WHERE cid = ?",
    [S_STATUS_PUT] = "INSERT INTO status(id, org_id, json, updated_us) VALUES(?, ?, ?, ?)"
                     " ON CONFLICT(id) DO UPDATE SET org_id = excluded.org_id,"
                     " json = excluded.json, updated_us = excluded.updated_us",
    [S_STATUS_GET] = "SELECT org_id, json FROM status WHERE id = ?",
    [S_ORG_SET_CLIENT] = "UPDATE orgs SET client = ? WHERE id = ?",
    /* ?4 NULL: every version of the object. */
    [S_OBJ_PROV_SET] = "UPDATE objects SET prov = ?5 WHERE cid = ?1 AND idh = ?3 AND id = ?2"
                       " AND (?4 IS NULL OR version_key = ?4)",
    /* ?6: the PENDING prov; only waiting versions are settled. */
    [S_OBJ_PROV_SETTLE] = "UPDATE objects SET prov = ?5 WHERE cid = ?1 AND idh = ?3 AND id = ?2"
                          " AND (?4 IS NULL OR version_key = ?4) AND prov = ?6",
    [S_PEER_ADD] = "INSERT INTO peers(name, org_id, url, token, pubkey, max_tlp, created_us)"
                   " VALUES(?, ?, ?, ?, ?, ?, ?)",
    [S_PEER_GET] = "SELECT " PEER_COLS " FROM peers WHERE name = ?",
    [S_PEER_GET_ID] = "SELECT " PEER_COLS " FROM peers WHERE id = ?",
    [S_PEER_LIST] = "SELECT " PEER_COLS " FROM peers ORDER BY name",
    [S_PEER_ID] = "SELECT id FROM peers WHERE name = ?",
    [S_PEER_DEL_COLLS] = "DELETE FROM peer_colls WHERE peer_id = ?",
    [S_PEER_DEL_OUTBOX] = "DELETE FROM outbox WHERE peer_id = ?",
    [S_PEER_DEL] = "DELETE FROM peers WHERE id = ?",
    [S_PEER_STATUS] = "UPDATE peers SET last_ok_us = ?2, last_err_us = ?3, last_err = ?4,"
                      " n_errors = ?5, n_received = ?6, n_sent = ?7, n_quarantined = ?8,"
                      " lag_objects = ?9, lag_us = ?10 WHERE id = ?1",
    [S_PCOLL_ADD] = "INSERT INTO peer_colls(peer_id, coll_id, dir) VALUES(?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
    [S_PCOLL_LIST] = "SELECT peer_id, coll_id, dir, cursor_us FROM peer_colls"
                     " WHERE ?1 = 0 OR peer_id = ?1 ORDER BY peer_id, coll_id, dir",
    [S_PCOLL_CURSOR] = "UPDATE peer_colls SET cursor_us = ?3"
                       " WHERE peer_id = ?1 AND coll_id = ?2 AND dir = ?4",
    [S_TRUST_ADD] = "INSERT INTO trust(org, pubkey, created_us) VALUES(?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
    [S_TRUST_LIST] = "SELECT org, pubkey, created_us FROM trust ORDER BY org, pubkey",
    [S_OUTBOX_ADD] = "INSERT INTO outbox(peer_id, coll_id, json, created_us) VALUES(?, ?, ?, ?)",
    [S_OUTBOX_DUE] = "SELECT id, peer_id, coll_id, json, attempts, next_us, last_err FROM outbox"
                     " WHERE (?1 = 0 OR peer_id = ?1) AND next_us <= ?2 ORDER BY id LIMIT ?3",
    [S_OUTBOX_DONE] = "DELETE FROM outbox WHERE id = ?",
    [S_OUTBOX_RETRY] = "UPDATE outbox SET attempts = attempts + 1, next_us = ?2, last_err = ?3"
                       " WHERE id = ?1",
    [S_OUTBOX_COUNT] = "SELECT count(*) FROM outbox WHERE ?1 = 0 OR peer_id = ?1",
    [S_CHG_ADD] = "INSERT INTO changes(cid, id) VALUES(?, ?)",
    /* epoch, floor, and the last seq handed out (the floor when the log is empty). */
    [S_CHG_POS] = "SELECT (SELECT value FROM meta WHERE key = 'changes_epoch'),"
                  " (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'changes_floor'),"
                  " (SELECT max(seq) FROM changes)",
    [S_CHG_SINCE] = "SELECT DISTINCT id FROM changes WHERE seq > ?1 AND cid = ?2",
    [S_CHG_TRIM] = "DELETE FROM changes WHERE seq <= ?1",
    [S_CHG_FLOOR] = "UPDATE meta SET value = CAST(?1 AS TEXT) WHERE key = 'changes_floor'"
                    " AND CAST(value AS INTEGER) < ?1",
};

struct dyn_stmt {
    char *sql;
    sqlite3_stmt *stmt;
};

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    struct dyn_stmt dyn[DYN_CACHE];
    unsigned dyn_next; /* round-robin victim */
    struct conn *next; /* free list */
};

/* What the writer knows of a collection: its key and the last date_added handed out. */
struct coll_clock {
    char id[37];
    int64_t cid;
    int64_t last_added;
};

struct sq_store {
    struct store base; /* first: store.c sees only this */
    char path[PATH_MAX];
    unsigned char idh_key[16]; /* id_hash()'s key, kept in meta: fixed for the store's life */

    pthread_mutex_t wlock; /* guards w, clocks, fail_put_at */
    struct conn *w;
    struct coll_clock *clocks;
    size_t n_clocks, cap_clocks;
    size_t fail_put_at;

    pthread_mutex_t rlock; /* guards readers */
    struct conn *readers;

    /* Checkpoints copy the WAL into the database and fsync it: done here, off the writer's path,
     * so that a commit costs one WAL fsync and no checkpoint. */
    pthread_t ckpt_thread;
    bool ckpt_running;
    bool ckpt_stop; /* guarded by ckpt_lock */
    pthread_mutex_t ckpt_lock;
    pthread_cond_t ckpt_cond;
};

static struct sq_store *sq(struct store *st)
{
    return (struct sq_store *)st;
}

/* ---- errors ---- */

static enum ctix_rc rc_from(int src)
{
    enum ctix_rc rc;

    switch (src & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        rc = CTIX_OK;
        break;
    case SQLITE_NOMEM:
        rc = CTIX_ENOMEM;
        break;
    case SQLITE_TOOBIG:
        rc = CTIX_ETOOBIG;
        break;
    case SQLITE_CONSTRAINT:
        if (src == SQLITE_CONSTRAINT_FOREIGNKEY) {
            rc = CTIX_ENOTFOUND;
        } else if (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY) {
            rc = CTIX_ECONFLICT;
        } else {
            rc = CTIX_EINVAL;
        }
        break;
    default:
        rc = CTIX_EIO;
        break;
    }
    return rc;
}

/* Logs a database failure that is not an expected outcome, and maps it. */
static enum ctix_rc db_fail(sqlite3 *db, int src, const char *what)
{
    enum ctix_rc rc = rc_from(src);

    if (rc == CTIX_EIO || rc == CTIX_ENOMEM) {
        ctix_log(CTIX_LOG_ERROR, "store", "op=%s err=\"%s\" code=%d", what,
                 db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(src), src);
    }
    return rc;
}

/* ---- connections and statements ---- */

static void conn_free(struct conn *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < S_COUNT; i++) {
        sqlite3_finalize(c->stmt[i]);
    }
    for (size_t i = 0; i < DYN_CACHE; i++) {
        sqlite3_finalize(c->dyn[i].stmt);
        free(c->dyn[i].sql);
    }
    sqlite3_close_v2(c->db);
    free(c);
}

static enum ctix_rc exec_sql(sqlite3 *db, const char *sql, const char *what)
{
    int src = sqlite3_exec(db, sql, NULL, NULL, NULL);

    return src == SQLITE_OK ? CTIX_OK : db_fail(db, src, what);
}

static enum ctix_rc conn_open(const char *path, bool writer, struct conn **out,
                              struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_ENOMEM;
    int flags = SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
    struct conn *c = calloc(1, sizeof(*c));
    int src;

    if (c == NULL) {
        goto out;
    }
    src = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(c->db, src, "open");
        ctix_diag_set(diag, path, "cannot open the store: %s",
                      c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(src));
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_MS);
    if (writer) {
        /* WAL: readers never block the writer nor each other; FULL: a commit that returned
         * is on disk. journal_mode is persistent in the file, the others are per connection. */
        rc = exec_sql(c->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                      " PRAGMA cache_size=-16384; PRAGMA mmap_size=0;"
                      " PRAGMA wal_autocheckpoint=" CTIX_STR(WAL_AUTO_CKPT) ";",
                      "pragma");
    } else {
        char sql[64];

        /* No mmap: mapped pages count in the server's resident size and a 1 GB store would
         * look like a 1 GB process. Reads copy pages through a 32 MB cache per connection (one
         * per worker thread) and the kernel's page cache instead: with 1,000,000 objects that
         * served 6,700-7,500 pages/s at 78 MB resident, where 8 MB caches gave 4,800-6,400
         * and a 1 GB mmap 5,900 at 490 MB. */
        snprintf(sql, sizeof(sql), "PRAGMA mmap_size=%d; PRAGMA cache_size=-32768;", READER_MMAP);
        rc = exec_sql(c->db, sql, "pragma");
    }
    if (rc != CTIX_OK) {
        ctix_diag_set(diag, path, "cannot set up the store: %s", sqlite3_errmsg(c->db));
        goto out;
    }
    *out = c;
    c = NULL;
out:
    conn_free(c);
    return rc;
}

static enum ctix_rc stmt_get(struct conn *c, enum stmt_id id, sqlite3_stmt **out)
{
    enum ctix_rc rc = CTIX_OK;

    if (c->stmt[id] == NULL) {
        int src = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                     &c->stmt[id], NULL);
        if (src != SQLITE_OK) {
            rc = db_fail(c->db, src, "prepare");
            goto out;
        }
    }
    *out = c->stmt[id];
out:
    return rc;
}

/* A dynamic query: reuses the statement of an identical SQL text (same filter shape). */
static enum ctix_rc stmt_get_dyn(struct conn *c, const char *sql, sqlite3_stmt **out)
{
    enum ctix_rc rc = CTIX_OK;
    struct dyn_stmt *d;
    int src;

    for (size_t i = 0; i < DYN_CACHE; i++) {
        if (c->dyn[i].sql != NULL && strcmp(c->dyn[i].sql, sql) == 0) {
            *out = c->dyn[i].stmt;
            goto out;
        }
    }
    d = &c->dyn[c->dyn_next];
    c->dyn_next = (c->dyn_next + 1) % DYN_CACHE;
    sqlite3_finalize(d->stmt);
    free(d->sql);
    d->stmt = NULL;
    d->sql = strdup(sql);
    if (d->sql == NULL) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    src = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &d->stmt, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(c->db, src, "prepare");
        free(d->sql);
        d->sql = NULL;
        goto out;
    }
    *out = d->stmt;
out:
    return rc;
}

static enum ctix_rc reader_get(struct sq_store *s, struct conn **out)
{
    enum ctix_rc rc = CTIX_OK;

    pthread_mutex_lock(&s->rlock);
    *out = s->readers;
    if (*out != NULL) {
        s->readers = (*out)->next;
    }
    pthread_mutex_unlock(&s->rlock);
    if (*out == NULL) {
        /* Opening takes a while: done outside the lock, the pool grows to the number of
         * threads that read at the same time. */
        rc = conn_open(s->path, false, out, NULL);
    }
    return rc;
}

static void reader_put(struct sq_store *s, struct conn *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&s->rlock);
    c->next = s->readers;
    s->readers = c;
    pthread_mutex_unlock(&s->rlock);
}

static struct conn *writer_get(struct sq_store *s)
{
    pthread_mutex_lock(&s->wlock);
    return s->w;
}

static void writer_put(struct sq_store *s)
{
    pthread_mutex_unlock(&s->wlock);
}

/* Steps a statement that returns no row (or whose row is not needed) and resets it. */
static enum ctix_rc stmt_run(struct conn *c, sqlite3_stmt *st, const char *what)
{
    int src = sqlite3_step(st);
    enum ctix_rc rc =
        (src == SQLITE_DONE || src == SQLITE_ROW) ? CTIX_OK : db_fail(c->db, src, what);

    sqlite3_reset(st);
    return rc;
}

static enum ctix_rc tx_begin(struct conn *c)
{
    sqlite3_stmt *st = NULL;
    enum ctix_rc rc = stmt_get(c, S_BEGIN, &st);

    if (rc == CTIX_OK) {
        rc = stmt_run(c, st, "begin");
    }
    return rc;
}

/* Commits when rc is CTIX_OK, else (or when the commit fails) rolls back. Returns the outcome. */
static enum ctix_rc tx_end(struct conn *c, enum ctix_rc rc)
{
    sqlite3_stmt *st = NULL;

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_COMMIT, &st);
        if (rc == CTIX_OK) {
            rc = stmt_run(c, st, "commit");
        }
    }
    if (rc != CTIX_OK && sqlite3_get_autocommit(c->db) == 0) {
        /* ROLLBACK through exec: it must work even when preparing failed for lack of memory. */
        (void)exec_sql(c->db, "ROLLBACK", "rollback");
    }
    return rc;
}

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t n)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    ctix_strlcpy(dst, s != NULL ? (const char *)s : "", n);
}

/* Steps st expecting at most one row; CTIX_ENOTFOUND when there is none. Does not reset. */
static enum ctix_rc step_one(struct conn *c, sqlite3_stmt *st, const char *what)
{
    int src = sqlite3_step(st);
    enum ctix_rc rc;

    if (src == SQLITE_ROW) {
        rc = CTIX_OK;
    } else if (src == SQLITE_DONE) {
        rc = CTIX_ENOTFOUND;
    } else {
        rc = db_fail(c->db, src, what);
    }
    return rc;
}

/* ---- open and close ---- */

/* mkdir -p with mode 0700 for every directory it creates. */
static enum ctix_rc dir_make(const char *dir, struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_OK;
    char p[PATH_MAX];
    size_t len = ctix_strlcpy(p, dir, sizeof(p));

    if (len >= sizeof(p)) {
        rc = CTIX_EINVAL;
        ctix_diag_set(diag, NULL, "data directory path too long");
        goto out;
    }
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0') {
            continue;
        }
        char saved = p[i];

        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            rc = CTIX_EIO;
            ctix_diag_set(diag, p, "cannot create directory: %s", strerror(errno));
            goto out;
        }
        p[i] = saved;
    }
out:
    return rc;
}

/* Creates the database file with mode 0600 before SQLite does (it would use 0644 & ~umask);
 * SQLite gives the -wal and -shm files the same mode as the database. */
static enum ctix_rc file_make(const char *path, struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_OK;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0 || fchmod(fd, 0600) != 0) {
        rc = CTIX_EIO;
        ctix_diag_set(diag, path, "cannot create the store: %s", strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

static enum ctix_rc user_version(struct conn *c, int *out)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    enum ctix_rc rc;

    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
    }
    if (src == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = CTIX_OK;
    } else {
        rc = db_fail(c->db, src, "user_version");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Brings the schema to SCHEMA_VERSION in one transaction (a new file starts at 0). */
/* The id hash key: made once, inside the schema transaction so that two processes opening a new
 * store at once cannot each pick their own. */
static enum ctix_rc idh_key_load(struct conn *c, unsigned char key[16])
{
    unsigned char fresh[16];
    char hex[33];
    sqlite3_stmt *q = NULL;
    const char *v;
    enum ctix_rc rc = ctix_random(fresh, sizeof(fresh));
    int src;

    if (rc != CTIX_OK)
        return rc;
    ctix_hex(fresh, sizeof(fresh), hex);
    src = sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO meta(key, value) VALUES('idh_key', ?)",
                             -1, &q, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(q, 1, hex, -1, SQLITE_STATIC);
        src = sqlite3_step(q);
        src = src == SQLITE_DONE ? SQLITE_OK : src;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (src == SQLITE_OK)
        src =
            sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = 'idh_key'", -1, &q, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(q);
    if (src != SQLITE_ROW) {
        rc = db_fail(c->db, src, "idh_key");
    } else {
        v = (const char *)sqlite3_column_text(q, 0);
        rc = v != NULL && ctix_unhex(v, key, 16) ? CTIX_OK : CTIX_EIO;
    }
    sqlite3_finalize(q);
    return rc;
}

static enum ctix_rc schema_migrate(struct conn *c, unsigned char idh_key[16],
                                   struct ctix_diag *diag)
{
    enum ctix_rc rc = tx_begin(c);
    int v = 0;
    char sql[64];

    if (rc == CTIX_OK) {
        rc = user_version(c, &v); /* read inside the transaction: another process may race */
    }
    if (rc == CTIX_OK && v > SCHEMA_VERSION) {
        rc = CTIX_EIO;
        ctix_diag_set(diag, NULL, "the store has schema version %d, newer than this ctix (%d)", v,
                      SCHEMA_VERSION);
    }
    for (; rc == CTIX_OK && v < SCHEMA_VERSION; v++) {
        rc = exec_sql(c->db, migrations[v], "migrate");
        if (rc == CTIX_OK) {
            snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
            rc = exec_sql(c->db, sql, "migrate");
        }
    }
    if (rc == CTIX_OK)
        rc = idh_key_load(c, idh_key);
    rc = tx_end(c, rc);
    if (rc != CTIX_OK && diag != NULL && diag->msg[0] == '\0') {
        ctix_diag_set(diag, NULL, "cannot read or set up the store schema: %s",
                      sqlite3_errmsg(c->db));
    }
    return rc;
}

static void *ckpt_main(void *arg)
{
    struct sq_store *s = arg;
    sqlite3 *db = NULL;
    bool stop = false;

    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        ctix_log(CTIX_LOG_WARN, "store", "event=checkpointer_off reason=\"%s\"",
                 db != NULL ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, BUSY_MS);
    /* The connection that checkpoints decides the sync level of the checkpoint. */
    sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    while (!stop) {
        struct timespec until;
        int64_t ns;

        clock_gettime(CLOCK_REALTIME, &until);
        ns = until.tv_nsec + (int64_t)CKPT_EVERY_MS * 1000000;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        pthread_mutex_lock(&s->ckpt_lock);
        if (!s->ckpt_stop)
            pthread_cond_timedwait(&s->ckpt_cond, &s->ckpt_lock, &until);
        stop = s->ckpt_stop;
        pthread_mutex_unlock(&s->ckpt_lock);
        /* PASSIVE never waits for readers or the writer; what it cannot copy now it copies on a
         * later round. A final one runs at close. */
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
out:
    sqlite3_close(db);
    return NULL;
}

static void sq_close(struct store *st)
{
    struct sq_store *s = sq(st);
    struct conn *c;

    if (s->ckpt_running) {
        pthread_mutex_lock(&s->ckpt_lock);
        s->ckpt_stop = true;
        pthread_cond_signal(&s->ckpt_cond);
        pthread_mutex_unlock(&s->ckpt_lock);
        pthread_join(s->ckpt_thread, NULL);
    }
    pthread_mutex_destroy(&s->ckpt_lock);
    pthread_cond_destroy(&s->ckpt_cond);

    while (s->readers != NULL) {
        c = s->readers;
        s->readers = c->next;
        conn_free(c);
    }
    conn_free(s->w);
    pthread_mutex_destroy(&s->wlock);
    pthread_mutex_destroy(&s->rlock);
    free(s->clocks);
    free(s);
}

static enum ctix_rc sq_open(const char *data_dir, bool create, struct store **out,
                            struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_ENOMEM;
    struct sq_store *s = calloc(1, sizeof(*s));
    struct stat sb;
    int n;

    ctix_diag_clear(diag);
    if (s == NULL) {
        goto out;
    }
    s->base.ops = &store__sqlite_ops;
    pthread_mutex_init(&s->wlock, NULL);
    pthread_mutex_init(&s->rlock, NULL);
    pthread_mutex_init(&s->ckpt_lock, NULL);
    pthread_cond_init(&s->ckpt_cond, NULL);
    n = snprintf(s->path, sizeof(s->path), "%s/%s", data_dir, DB_FILE);
    if (n < 0 || (size_t)n >= sizeof(s->path)) {
        rc = CTIX_EINVAL;
        ctix_diag_set(diag, NULL, "data directory path too long");
        goto out;
    }
    if (stat(s->path, &sb) != 0) {
        if (errno != ENOENT) {
            rc = CTIX_EIO;
            ctix_diag_set(diag, s->path, "cannot reach the store: %s", strerror(errno));
            goto out;
        }
        if (!create) {
            rc = CTIX_ENOTFOUND;
            ctix_diag_set(diag, s->path, "no store in %s (create it first, e.g. ctix init)",
                          data_dir);
            goto out;
        }
        rc = dir_make(data_dir, diag);
        if (rc == CTIX_OK) {
            rc = file_make(s->path, diag);
        }
        if (rc != CTIX_OK) {
            goto out;
        }
    }
    rc = conn_open(s->path, true, &s->w, diag);
    if (rc == CTIX_OK) {
        rc = schema_migrate(s->w, s->idh_key, diag);
    }
    if (rc != CTIX_OK) {
        goto out;
    }
    s->ckpt_running = pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) == 0;
    *out = &s->base;
    s = NULL;
out:
    if (s != NULL) {
        sq_close(&s->base);
    }
    return rc;
}

void store__sqlite_fail_put_at(struct store *st, size_t at)
{
    struct sq_store *s = sq(st);

    writer_get(s);
    s->fail_put_at = at;
    writer_put(s);
}

/* ---- meta ---- */

static enum ctix_rc sq_meta_set(struct store *st, const char *key, const char *value)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_META_SET, &q);

    if (rc == CTIX_OK) {
        bind_str(q, 1, key);
        bind_str(q, 2, value);
        rc = stmt_run(c, q, "meta_set");
    }
    writer_put(s);
    return rc;
}

static enum ctix_rc sq_meta_get(struct store *st, const char *key, char *out, size_t n)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = reader_get(s, &c);

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_META_GET, &q);
    }
    if (rc == CTIX_OK) {
        bind_str(q, 1, key);
        rc = step_one(c, q, "meta_get");
    }
    if (rc == CTIX_OK) {
        const unsigned char *v = sqlite3_column_text(q, 0);

        if (ctix_strlcpy(out, v != NULL ? (const char *)v : "", n) >= n) {
            rc = CTIX_ETOOBIG;
        }
    }
    if (q != NULL) {
        sqlite3_reset(q);
    }
    reader_put(s, c);
    return rc;
}

/* ---- organisations ---- */

static enum ctix_rc sq_org_add(struct store *st, const char *name, int64_t *id)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_ORG_ADD, &q);

    if (rc == CTIX_OK) {
        bind_str(q, 1, name);
        sqlite3_bind_int64(q, 2, ctix_now_us());
        rc = stmt_run(c, q, "org_add");
    }
    if (rc == CTIX_OK && id != NULL) {
        *id = sqlite3_last_insert_rowid(c->db);
    }
    writer_put(s);
    return rc;
}

static void org_row(sqlite3_stmt *q, struct store_org *out)
{
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(q, 0);
    col_copy(q, 1, out->name, sizeof(out->name));
    out->created_us = sqlite3_column_int64(q, 2);
    out->client = sqlite3_column_int(q, 3) != 0;
}

/* Runs a one-row lookup by name or id and fills an org. */
static enum ctix_rc org_lookup(struct sq_store *s, const char *name, int64_t id,
                               struct store_org *out)
{
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = reader_get(s, &c);

    if (rc == CTIX_OK) {
        rc = stmt_get(c, name != NULL ? S_ORG_GET : S_ORG_GET_ID, &q);
    }
    if (rc == CTIX_OK) {
        if (name != NULL) {
            bind_str(q, 1, name);
        } else {
            sqlite3_bind_int64(q, 1, id);
        }
        rc = step_one(c, q, "org_get");
    }
    if (rc == CTIX_OK) {
        org_row(q, out);
    }
    if (q != NULL) {
        sqlite3_reset(q);
    }
    reader_put(s, c);
    return rc;
}

static enum ctix_rc sq_org_get(struct store *st, const char *name, struct store_org *out)
{
    return org_lookup(sq(st), name, 0, out);
}

static enum ctix_rc sq_org_get_by_id(struct store *st, int64_t id, struct store_org *out)
{
    return org_lookup(sq(st), NULL, id, out);
}

/* Collects every row of a list statement into a new array of elem-sized entries. arg, if not
 * NULL, is bound to ?1. */
static enum ctix_rc list_rows(struct sq_store *s, enum stmt_id id, const int64_t *arg, size_t elem,
                              void (*fill)(sqlite3_stmt *q, void *dst), void **out, size_t *n)
{
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    char *arr = NULL;
    size_t len = 0, cap = 0;
    enum ctix_rc rc = reader_get(s, &c);
    int src = SQLITE_DONE;

    if (rc == CTIX_OK) {
        rc = stmt_get(c, id, &q);
    }
    if (rc == CTIX_OK && arg != NULL) {
        sqlite3_bind_int64(q, 1, *arg);
    }
    while (rc == CTIX_OK && (src = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            char *p = realloc(arr, ncap * elem);

            if (p == NULL) {
                rc = CTIX_ENOMEM;
                break;
            }
            arr = p;
            cap = ncap;
        }
        fill(q, arr + len * elem);
        len++;
    }
    if (rc == CTIX_OK && src != SQLITE_DONE) {
        rc = db_fail(c->db, src, "list");
    }
    if (q != NULL) {
        sqlite3_reset(q);
    }
    reader_put(s, c);
    if (rc == CTIX_OK) {
        *out = arr;
        *n = len;
        arr = NULL;
    }
    free(arr);
    return rc;
}

static void org_fill(sqlite3_stmt *q, void *dst)
{
    org_row(q, dst);
}

static enum ctix_rc sq_org_list(struct store *st, struct store_org **out, size_t *n)
{
    void *arr = NULL;
    enum ctix_rc rc = list_rows(sq(st), S_ORG_LIST, NULL, sizeof(**out), org_fill, &arr, n);

    if (rc == CTIX_OK) {
        *out = arr;
    }
    return rc;
}

static enum ctix_rc sq_org_set_client(struct store *st, int64_t org_id, bool client)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_ORG_SET_CLIENT, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int(q, 1, client);
        sqlite3_bind_int64(q, 2, org_id);
        rc = stmt_run(c, q, "org_set_client");
    }
    if (rc == CTIX_OK && sqlite3_changes(c->db) == 0) {
        rc = CTIX_ENOTFOUND;
    }
    writer_put(s);
    return rc;
}

/* ---- collections ---- */

static enum ctix_rc sq_collection_add(struct store *st, const struct store_collection *coll)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = tx_begin(c);

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_COLL_TAKEN, &q);
    }
    if (rc == CTIX_OK) {
        bind_str(q, 1, coll->id);
        bind_str(q, 2, coll->alias);
        rc = step_one(c, q, "collection_add");
        sqlite3_reset(q);
        rc = rc == CTIX_OK ? CTIX_ECONFLICT : rc == CTIX_ENOTFOUND ? CTIX_OK : rc;
    }
    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_COLL_ADD, &q);
    }
    if (rc == CTIX_OK) {
        bind_str(q, 1, coll->id);
        bind_str(q, 2, coll->title);
        bind_str(q, 3, coll->alias);
        bind_str(q, 4, coll->description);
        sqlite3_bind_int64(q, 5, ctix_now_us());
        rc = stmt_run(c, q, "collection_add");
    }
    rc = tx_end(c, rc);
    writer_put(s);
    return rc;
}

static void coll_row(sqlite3_stmt *q, void *dst)
{
    struct store_collection *out = dst;

    memset(out, 0, sizeof(*out));
    col_copy(q, 0, out->id, sizeof(out->id));
    col_copy(q, 1, out->title, sizeof(out->title));
    col_copy(q, 2, out->alias, sizeof(out->alias));
    col_copy(q, 3, out->description, sizeof(out->description));
    out->created_us = sqlite3_column_int64(q, 4);
}

static enum ctix_rc sq_collection_get(struct store *st, const char *id_or_alias,
                                      struct store_collection *out)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = reader_get(s, &c);

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_COLL_GET, &q);
    }
    if (rc == CTIX_OK) {
        bind_str(q, 1, id_or_alias);
        rc = step_one(c, q, "collection_get");
    }
    if (rc == CTIX_OK) {
        coll_row(q, out);
    }
    if (q != NULL) {
        sqlite3_reset(q);
    }
    reader_put(s, c);
    return rc;
}

static enum ctix_rc sq_collection_list(struct store *st, struct store_collection **out, size_t *n)
{
    void *arr = NULL;
    enum ctix_rc rc = list_rows(sq(st), S_COLL_LIST, NULL, sizeof(**out), coll_row, &arr, n);

    if (rc == CTIX_OK) {
        *out = arr;
    }
    return rc;
}

/* The compact key of a collection; CTIX_ENOTFOUND when it does not exist. */
static enum ctix_rc coll_cid(struct conn *c, const char *coll_id, int64_t *cid)
{
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_COLL_CID, &q);

    if (rc == CTIX_OK) {
        bind_str(q, 1, coll_id);
        rc = step_one(c, q, "collection_cid");
        if (rc == CTIX_OK) {
            *cid = sqlite3_column_int64(q, 0);
        }
        sqlite3_reset(q);
    }
    return rc;
}

/* ---- grants ---- */

static enum ctix_rc sq_grant_set(struct store *st, const char *coll_id, int64_t org_id,
                                 bool can_read, bool can_write)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int64_t cid = 0;
    enum ctix_rc rc = coll_cid(c, coll_id, &cid);

    /* The organisation is checked even for a removal, so that a typo is not a silent no-op. */
    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_ORG_EXISTS, &q);
    }
    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, org_id);
        rc = step_one(c, q, "grant_set");
        sqlite3_reset(q);
    }
    if (rc == CTIX_OK) {
        rc = stmt_get(c, can_read || can_write ? S_GRANT_SET : S_GRANT_DEL, &q);
    }
    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, cid);
        sqlite3_bind_int64(q, 2, org_id);
        if (can_read || can_write) {
            sqlite3_bind_int(q, 3, can_read);
            sqlite3_bind_int(q, 4, can_write);
        }
        rc = stmt_run(c, q, "grant_set");
    }
    writer_put(s);
    return rc;
}

static enum ctix_rc sq_grant_get(struct store *st, const char *coll_id, int64_t org_id,
                                 bool *can_read, bool *can_write)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = reader_get(s, &c);

    *can_read = false;
    *can_write = false;
    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_GRANT_GET, &q);
    }
    if (rc == CTIX_OK) {
        bind_str(q, 1, coll_id);
        sqlite3_bind_int64(q, 2, org_id);
        rc = step_one(c, q, "grant_get");
        if (rc == CTIX_OK) {
            *can_read = sqlite3_column_int(q, 0) != 0;
            *can_write = sqlite3_column_int(q, 1) != 0;
        }
        rc = rc == CTIX_ENOTFOUND ? CTIX_OK : rc; /* deny by default */
        sqlite3_reset(q);
    }
    reader_put(s, c);
    return rc;
}

/* ---- API keys ---- */

static enum ctix_rc sq_key_add(struct store *st, int64_t org_id, const char *role, const char *name,
                               const unsigned char hash[STORE_HASH_LEN], int64_t *id)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_KEY_ADD, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, org_id);
        bind_str(q, 2, role);
        bind_str(q, 3, name);
        sqlite3_bind_int64(q, 4, ctix_now_us());
        sqlite3_bind_blob(q, 5, hash, STORE_HASH_LEN, SQLITE_STATIC);
        rc = stmt_run(c, q, "key_add"); /* unknown org: FOREIGNKEY → CTIX_ENOTFOUND */
    }
    if (rc == CTIX_OK && id != NULL) {
        *id = sqlite3_last_insert_rowid(c->db);
    }
    writer_put(s);
    return rc;
}

static void key_row(sqlite3_stmt *q, void *dst)
{
    struct store_key *out = dst;
    const void *h = sqlite3_column_blob(q, 6);
    int h_len = sqlite3_column_bytes(q, 6);

    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(q, 0);
    out->org_id = sqlite3_column_int64(q, 1);
    col_copy(q, 2, out->role, sizeof(out->role));
    col_copy(q, 3, out->name, sizeof(out->name));
    out->created_us = sqlite3_column_int64(q, 4);
    out->revoked = sqlite3_column_int(q, 5) != 0;
    if (h != NULL && h_len == STORE_HASH_LEN) {
        memcpy(out->hash, h, STORE_HASH_LEN);
    }
}

static enum ctix_rc sq_key_find(struct store *st, const unsigned char hash[STORE_HASH_LEN],
                                struct store_key *out)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = reader_get(s, &c);

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_KEY_FIND, &q);
    }
    if (rc == CTIX_OK) {
        sqlite3_bind_blob(q, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
        rc = step_one(c, q, "key_find");
        if (rc == CTIX_OK) {
            key_row(q, out);
        }
        sqlite3_reset(q);
    }
    reader_put(s, c);
    return rc;
}

static enum ctix_rc sq_key_list(struct store *st, struct store_key **out, size_t *n)
{
    void *arr = NULL;
    enum ctix_rc rc = list_rows(sq(st), S_KEY_LIST, NULL, sizeof(**out), key_row, &arr, n);

    if (rc == CTIX_OK) {
        *out = arr;
    }
    return rc;
}

static enum ctix_rc sq_key_revoke(struct store *st, int64_t id)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_KEY_REVOKE, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, id);
        rc = stmt_run(c, q, "key_revoke");
    }
    if (rc == CTIX_OK && sqlite3_changes(c->db) == 0) {
        rc = CTIX_ENOTFOUND;
    }
    writer_put(s);
    return rc;
}

/* ---- objects: writing ---- */

/* The writer's clock of a collection, loaded on first use. Called under the write mutex. */
static enum ctix_rc clock_get(struct sq_store *s, const char *coll_id, struct coll_clock **out)
{
    enum ctix_rc rc = CTIX_OK;
    struct coll_clock *k;
    sqlite3_stmt *q = NULL;
    int64_t cid = 0;

    for (size_t i = 0; i < s->n_clocks; i++) {
        if (strcmp(s->clocks[i].id, coll_id) == 0) {
            *out = &s->clocks[i];
            goto out;
        }
    }
    rc = coll_cid(s->w, coll_id, &cid);
    if (rc != CTIX_OK) {
        goto out;
    }
    if (s->n_clocks == s->cap_clocks) {
        size_t ncap = s->cap_clocks == 0 ? 8 : s->cap_clocks * 2;
        struct coll_clock *p = realloc(s->clocks, ncap * sizeof(*p));

        if (p == NULL) {
            rc = CTIX_ENOMEM;
            goto out;
        }
        s->clocks = p;
        s->cap_clocks = ncap;
    }
    k = &s->clocks[s->n_clocks];
    memset(k, 0, sizeof(*k));
    ctix_strlcpy(k->id, coll_id, sizeof(k->id));
    k->cid = cid;
    rc = stmt_get(s->w, S_OBJ_MAX_ADDED, &q);
    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, cid);
        rc = step_one(s->w, q, "max_added");
        if (rc == CTIX_OK) {
            k->last_added = sqlite3_column_int64(q, 0); /* NULL (empty) reads as 0 */
        }
        sqlite3_reset(q);
    }
    if (rc == CTIX_OK) {
        s->n_clocks++;
        *out = k;
    }
out:
    return rc;
}

/* Checks the caller's fields of one object. */
/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash, so that nobody who does not know the store's
 * key can choose ids that all land on one idh and turn lookups into scans. */
#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL64(v1, 13);                                                                       \
        v1 ^= v0;                                                                                  \
        v0 = ROTL64(v0, 32);                                                                       \
        v2 += v3;                                                                                  \
        v3 = ROTL64(v3, 16);                                                                       \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL64(v3, 21);                                                                       \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL64(v1, 17);                                                                       \
        v1 ^= v2;                                                                                  \
        v2 = ROTL64(v2, 32);                                                                       \
    } while (0)

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t siphash24(const unsigned char key[16], const unsigned char *m, size_t len)
{
    uint64_t k0 = le64(key), k1 = le64(key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint64_t b = (uint64_t)len << 56, w;
    size_t i, tail = len & 7;

    for (i = 0; i + 8 <= len; i += 8) {
        w = le64(m + i);
        v3 ^= w;
        SIPROUND;
        SIPROUND;
        v0 ^= w;
    }
    for (size_t t = 0; t < tail; t++)
        b |= (uint64_t)m[i + t] << (8 * t);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static int64_t id_hash(const struct sq_store *s, const char *id)
{
    return (int64_t)siphash24(s->idh_key, (const unsigned char *)id, strlen(id));
}

static bool obj_in_ok(const struct store_obj_in *o)
{
    bool versioned = o->version != NULL;

    return o->id != NULL && o->id[0] != '\0' && o->type != NULL && o->type[0] != '\0' &&
           o->spec_version != NULL && o->json != NULL && o->json_len > 0 &&
           o->json_len <= INT_MAX && (o->version_key != NULL) == versioned && o->origin >= 0 &&
           o->prov >= STORE_PROV_LOCAL && o->prov <= STORE_PROV_QUARANTINED &&
           (!versioned ||
            (strlen(o->version) < STORE_VER_MAX && strlen(o->version_key) < STORE_VER_MAX));
}

struct existing {
    bool any;                    /* the id has at least one version */
    int64_t min_rid, max_rid;    /* their rows */
    char min[STORE_VER_MAX + 1]; /* smallest and greatest version_key when any */
    char max[STORE_VER_MAX + 1];
};

static enum ctix_rc obj_minmax(struct conn *c, int64_t cid, const char *id, int64_t idh,
                               struct existing *e)
{
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_OBJ_MINMAX, &q);
    int src = SQLITE_DONE;

    memset(e, 0, sizeof(e[0]));
    if (rc != CTIX_OK)
        return rc;
    sqlite3_bind_int64(q, 1, cid);
    bind_str(q, 2, id);
    sqlite3_bind_int64(q, 3, idh);
    /* Every version of the id: an object has few, and most ids are new (no row). */
    while ((src = sqlite3_step(q)) == SQLITE_ROW) {
        const char *vk = (const char *)sqlite3_column_text(q, 1);
        int64_t rid = sqlite3_column_int64(q, 0);

        if (vk == NULL) {
            rc = CTIX_ENOMEM;
            break;
        }
        if (!e->any || strcmp(vk, e->min) < 0) {
            e->min_rid = rid;
            ctix_strlcpy(e->min, vk, sizeof(e->min));
        }
        if (!e->any || strcmp(vk, e->max) > 0) {
            e->max_rid = rid;
            ctix_strlcpy(e->max, vk, sizeof(e->max));
        }
        e->any = true;
    }
    if (rc == CTIX_OK && src != SQLITE_DONE)
        rc = db_fail(c->db, src, "obj_minmax");
    sqlite3_reset(q);
    return rc;
}

/* Compares o with the stored version it collides with, if there is one: *found tells. */
static enum ctix_rc obj_compare(struct conn *c, int64_t cid, int64_t idh,
                                const struct store_obj_in *o, bool *found,
                                enum store_put_result *res, int64_t *added)
{
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, o->version != NULL ? S_OBJ_FIND : S_OBJ_FIND_LAST, &q);

    *found = false;
    if (rc != CTIX_OK) {
        goto out;
    }
    sqlite3_bind_int64(q, 1, cid);
    bind_str(q, 2, o->id);
    if (o->version != NULL) {
        bind_str(q, 3, o->version_key);
    }
    sqlite3_bind_int64(q, 4, idh);
    rc = step_one(c, q, "obj_find");
    if (rc == CTIX_OK) {
        const char *json = (const char *)sqlite3_column_text(q, 0);
        size_t len = (size_t)sqlite3_column_bytes(q, 0);

        *found = true;
        *added = sqlite3_column_int64(q, 1);
        *res = json != NULL && store__json_same(json, len, o->json, o->json_len)
                   ? STORE_PUT_DUPLICATE
                   : STORE_PUT_CONFLICT;
    }
    rc = rc == CTIX_ENOTFOUND ? CTIX_OK : rc;
    sqlite3_reset(q);
out:
    return rc;
}

static enum ctix_rc flag_clear(struct conn *c, enum stmt_id id, int64_t rid)
{
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, id, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, rid);
        rc = stmt_run(c, q, "obj_flags");
    }
    return rc;
}

/* Notes in the change log that a write of this transaction changed object id of collection cid. */
static enum ctix_rc change_add(struct conn *c, int64_t cid, const char *id)
{
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_CHG_ADD, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, cid);
        bind_str(q, 2, id);
        rc = stmt_run(c, q, "change_add");
        sqlite3_clear_bindings(q); /* drop the pointer to the caller's string */
    }
    return rc;
}

static enum ctix_rc obj_put(struct sq_store *s, struct coll_clock *k, const struct store_obj_in *o,
                            enum store_put_result *res, int64_t *added)
{
    struct conn *c = s->w;
    struct existing e;
    sqlite3_stmt *q = NULL;
    char vstr[28];
    char vkey[VKEY_LEN + 1];
    const char *version = o->version;
    const char *version_key = o->version_key;
    bool found = false;
    bool is_last, is_first;
    int64_t idh;
    enum ctix_rc rc = CTIX_EINVAL;

    if (!obj_in_ok(o)) {
        goto out;
    }
    idh = id_hash(s, o->id);
    rc = obj_minmax(c, k->cid, o->id, idh, &e);
    /* Only a key inside [min, max] can collide with a stored version (one lookup saved for
     * the common case of a new object or a newer version). */
    if (rc == CTIX_OK && e.any &&
        (version_key == NULL ||
         (strcmp(version_key, e.min) >= 0 && strcmp(version_key, e.max) <= 0))) {
        rc = obj_compare(c, k->cid, idh, o, &found, res, added);
    }
    if (rc != CTIX_OK || found) {
        goto out;
    }
    *added = ctix_now_us();
    if (*added <= k->last_added) {
        *added = k->last_added + 1;
    }
    k->last_added = *added; /* kept even on rollback: a gap in date_added is harmless */
    if (version == NULL) {
        /* "…SS.ffffffZ" → "…SS.ffffff000Z": the stix_version_key() form. */
        ctix_ts_format_us(*added, vstr);
        memcpy(vkey, vstr, 26);
        memcpy(vkey + 26, "000Z", 5);
        version = vstr;
        version_key = vkey;
    }
    is_last = !e.any || strcmp(version_key, e.max) > 0;
    is_first = !e.any || strcmp(version_key, e.min) < 0;
    if (e.any && is_last) {
        rc = flag_clear(c, S_OBJ_CLEAR_LAST, e.max_rid);
    }
    if (rc == CTIX_OK && e.any && is_first) {
        rc = flag_clear(c, S_OBJ_CLEAR_FIRST, e.min_rid);
    }
    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_OBJ_INSERT, &q);
    }
    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, k->cid);
        bind_str(q, 2, o->id);
        bind_str(q, 3, version);
        bind_str(q, 4, version_key);
        bind_str(q, 5, o->type);
        bind_str(q, 6, o->spec_version);
        sqlite3_bind_int64(q, 7, *added);
        sqlite3_bind_int(q, 8, o->tlp);
        sqlite3_bind_int(q, 9, is_last);
        sqlite3_bind_int(q, 10, is_first);
        sqlite3_bind_text(q, 11, o->json, (int)o->json_len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 12, idh);
        sqlite3_bind_int64(q, 13, o->origin);
        sqlite3_bind_int(q, 14, o->prov);
        rc = stmt_run(c, q, "obj_insert");
        *res = STORE_PUT_STORED;
    }
    if (rc == CTIX_OK) {
        rc = change_add(c, k->cid, o->id);
    }
out:
    return rc;
}

/* Makes the WAL durable: fdatasync() of its file, as a commit under synchronous=FULL would do.
 * A WAL that is gone was checkpointed and removed, and a checkpoint syncs the database file
 * before it lets the WAL go, so there is nothing left to sync. */
static enum ctix_rc wal_sync(struct sq_store *s)
{
    char wal[PATH_MAX + 8];
    enum ctix_rc rc = CTIX_OK;
    int fd;

    snprintf(wal, sizeof(wal), "%s-wal", s->path);
    fd = open(wal, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CTIX_OK : CTIX_EIO;
    if (fdatasync(fd) != 0) {
        ctix_log(CTIX_LOG_ERROR, "store", "event=wal_sync_failed errno=%d", errno);
        rc = CTIX_EIO;
    }
    close(fd);
    return rc;
}

/* Group commit. The transaction commits under synchronous=NORMAL (its WAL frames are written, not
 * synced) while the write lock is held, then the WAL is synced after the lock is released and
 * before the caller hears CTIX_OK. The guarantee is that of FULL — nothing is acknowledged before
 * it is on disk — but the next envelope's writes no longer wait behind this one's fsync, and
 * concurrent envelopes share one. Measured: the lock is held ~17% less per envelope. The price:
 * a reader may see an envelope some milliseconds before it is on disk (never one that is
 * acknowledged and not on disk). */
static enum ctix_rc status_insert(struct conn *c, const char *status_id, int64_t org_id,
                                  const char *json, size_t len)
{
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = len > INT_MAX ? CTIX_ETOOBIG : stmt_get(c, S_STATUS_PUT, &q);

    if (rc == CTIX_OK) {
        bind_str(q, 1, status_id);
        sqlite3_bind_int64(q, 2, org_id);
        sqlite3_bind_text(q, 3, json, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, ctix_now_us());
        rc = stmt_run(c, q, "status_put");
    }
    return rc;
}

/* The pull cursor of (peer, coll_id); CTIX_ENOTFOUND when the peer does not pull that
 * collection (a page of a peer removed meanwhile is not stored). */
static enum ctix_rc cursor_move(struct conn *c, const char *coll_id,
                                const struct store_cursor_in *cursor)
{
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_PCOLL_CURSOR, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, cursor->peer_id);
        bind_str(q, 2, coll_id);
        sqlite3_bind_int64(q, 3, cursor->cursor_us);
        sqlite3_bind_int(q, 4, STORE_DIR_PULL);
        rc = stmt_run(c, q, "cursor_move");
    }
    if (rc == CTIX_OK && sqlite3_changes(c->db) == 0) {
        rc = CTIX_ENOTFOUND;
    }
    return rc;
}

static enum ctix_rc sq_objs_put(struct store *st, const char *coll_id,
                                const struct store_obj_in *objs, size_t n,
                                enum store_put_result *results, int64_t *date_added,
                                const struct store_status_in *status,
                                const struct store_cursor_in *cursor)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    struct coll_clock *k = NULL;
    enum ctix_rc rc = clock_get(s, coll_id, &k);
    bool stored = false;

    if (rc == CTIX_OK) {
        rc = exec_sql(c->db, "PRAGMA synchronous=NORMAL", "pragma");
    }
    if (rc == CTIX_OK) {
        rc = tx_begin(c);
    }
    /* The cursor first: a failure at any later point rolls it back with the objects, and the
     * commit must be synced even when the whole page was duplicates. */
    if (rc == CTIX_OK && cursor != NULL) {
        rc = cursor_move(c, coll_id, cursor);
        stored = true;
    }
    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        enum store_put_result res = STORE_PUT_STORED;
        int64_t added = 0;

        if (s->fail_put_at != 0 && i + 1 == s->fail_put_at) {
            rc = CTIX_EIO;
            break;
        }
        rc = obj_put(s, k, &objs[i], &res, &added);
        stored |= rc == CTIX_OK && res == STORE_PUT_STORED;
        if (results != NULL) {
            results[i] = res;
        }
        if (date_added != NULL) {
            date_added[i] = added;
        }
    }
    if (rc == CTIX_OK && status != NULL) {
        const char *json = NULL;
        size_t len = 0;

        rc = status->fn(status->ctx, results, date_added, &json, &len);
        if (rc == CTIX_OK) {
            rc = json != NULL ? status_insert(c, status->status_id, status->org_id, json, len)
                              : CTIX_EINVAL;
        }
        stored = true; /* the status must be durable with the reply too */
    }
    if (k != NULL) {
        rc = tx_end(c, rc);
    }
    if (exec_sql(c->db, "PRAGMA synchronous=FULL", "pragma") != CTIX_OK && rc == CTIX_OK) {
        rc = CTIX_EIO;
    }
    writer_put(s);
    if (rc == CTIX_OK && stored) {
        rc = wal_sync(s);
    }
    return rc;
}

/* ---- objects: queries ---- */

/* The parameter lists of a built query, in binding order. */
struct binds {
    const char *const *v[5];
    const int64_t *iv[5]; /* instead of v[i] for a list of integers */
    size_t n[5];
    size_t n_lists;
    size_t total;
};

static enum ctix_rc sql_in(struct buf *sql, struct binds *b, const char *col, const char *const *v,
                           size_t n, bool with_and)
{
    enum ctix_rc rc = buf_appendf(sql, "%s%s IN (", with_and ? " AND " : "", col);

    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        rc = buf_appends(sql, i == 0 ? "?" : ",?");
    }
    if (rc == CTIX_OK) {
        rc = buf_appends(sql, ")");
    }
    b->v[b->n_lists] = v;
    b->iv[b->n_lists] = NULL;
    b->n[b->n_lists] = n;
    b->n_lists++;
    b->total += n;
    return rc;
}

/* Appends the filters shared by queries and deletes (after "cid = ?" and the optional ones the
 * caller bound first): ids, types, spec_versions, then the version selection. all_default: what
 * vsel 0 without versions means (ALL for deletes, LAST for queries). */
/* idhs holds id_hash() of each of q->ids (the index finds them; the ids themselves confirm). */
static enum ctix_rc sql_filters(const struct store_query *q, const int64_t *idhs, bool all_default,
                                struct buf *sql, struct binds *b)
{
    enum ctix_rc rc = CTIX_OK;
    unsigned vsel = q->vsel;
    size_t n_parts;

    if (q->n_ids > 0) {
        rc = sql_in(sql, b, "idh", NULL, q->n_ids, true);
        b->iv[b->n_lists - 1] = idhs;
        if (rc == CTIX_OK)
            rc = sql_in(sql, b, "id", q->ids, q->n_ids, true);
    }
    if (rc == CTIX_OK && q->n_types > 0) {
        rc = sql_in(sql, b, "type", q->types, q->n_types, true);
    }
    if (rc == CTIX_OK && q->n_spec_versions > 0) {
        rc = sql_in(sql, b, "spec_version", q->spec_versions, q->n_spec_versions, true);
    }
    if (vsel == 0 && q->n_versions == 0) {
        vsel = all_default ? STORE_V_ALL : STORE_V_LAST;
    }
    if (rc != CTIX_OK || (vsel & STORE_V_ALL) != 0) {
        goto out;
    }
    /* The union of the selected versions. "is_last = 1" alone lets the planner use the partial
     * index objects_last, which a bound parameter would not. */
    n_parts = ((vsel & STORE_V_LAST) != 0) + ((vsel & STORE_V_FIRST) != 0) + (q->n_versions > 0);
    rc = buf_appends(sql, n_parts > 1 ? " AND (" : " AND ");
    if (rc == CTIX_OK && (vsel & STORE_V_LAST) != 0) {
        rc = buf_appends(sql, "is_last = 1 OR ");
    }
    if (rc == CTIX_OK && (vsel & STORE_V_FIRST) != 0) {
        rc = buf_appends(sql, "is_first = 1 OR ");
    }
    if (rc == CTIX_OK && q->n_versions > 0) {
        rc = sql_in(sql, b, "version_key", q->version_keys, q->n_versions, false);
    } else if (rc == CTIX_OK) {
        sql->len -= 4; /* the last " OR " */
        sql->data[sql->len] = '\0';
    }
    if (rc == CTIX_OK && n_parts > 1) {
        rc = buf_appends(sql, ")");
    }
out:
    if (rc == CTIX_OK && b->total > MAX_PARAMS) {
        rc = CTIX_ETOOBIG;
    }
    return rc;
}

/* " AND prov IN (…)" for a mask that excludes something. The values are inlined (they are ours,
 * not the caller's text): each mask is one cached statement, and at most 15 exist. */
static enum ctix_rc sql_prov(struct buf *sql, unsigned mask)
{
    const unsigned all = (1u << (STORE_PROV_QUARANTINED + 1)) - 1;
    enum ctix_rc rc = CTIX_OK;
    const char *sep = " AND prov IN (";

    if ((mask & all) == 0 || (mask & all) == all) {
        goto out;
    }
    for (int p = STORE_PROV_LOCAL; rc == CTIX_OK && p <= STORE_PROV_QUARANTINED; p++) {
        if ((mask & (1u << p)) != 0) {
            rc = buf_appendf(sql, "%s%d", sep, p);
            sep = ",";
        }
    }
    if (rc == CTIX_OK) {
        rc = buf_appends(sql, ")");
    }
out:
    return rc;
}

static void bind_lists(sqlite3_stmt *st, const struct binds *b, int *idx)
{
    for (size_t l = 0; l < b->n_lists; l++) {
        for (size_t i = 0; i < b->n[l]; i++) {
            if (b->iv[l] != NULL)
                sqlite3_bind_int64(st, (*idx)++, b->iv[l][i]);
            else
                bind_str(st, (*idx)++, b->v[l][i]);
        }
    }
}

static enum ctix_rc sq_objs_query(struct store *st, const struct store_query *q, store_row_cb cb,
                                  void *ctx, bool *more)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *qs = NULL;
    struct buf sql;
    struct binds b;
    int64_t cid = 0;
    int64_t limit = q->limit >= (size_t)INT64_MAX ? INT64_MAX - 1 : (int64_t)q->limit;
    int64_t n_rows = 0;
    int64_t *idhs = NULL;
    int idx = 1;
    int src = SQLITE_DONE;
    enum ctix_rc rc;

    *more = false;
    memset(&b, 0, sizeof(b));
    buf_init(&sql, SQL_MAX);
    if (q->n_ids > 0) {
        idhs = calloc(q->n_ids, sizeof(*idhs));
        if (idhs == NULL) {
            rc = CTIX_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < q->n_ids; i++)
            idhs[i] = id_hash(s, q->ids[i]);
    }
    rc = buf_appendf(&sql,
                     "SELECT id, type, version, spec_version, date_added, tlp, origin, prov, %s"
                     " FROM objects%s WHERE cid = (SELECT cid FROM collections WHERE id = ?)%s%s",
                     q->want_json ? "json" : "NULL",
                     q->object_id != NULL || q->n_ids > 0 ? " INDEXED BY objects_id" : "",
                     q->object_id != NULL ? " AND idh = ? AND id = ?" : "",
                     q->added_after_us >= 0 ? " AND date_added > ?" : "");
    if (rc == CTIX_OK) {
        rc = sql_filters(q, idhs, false, &sql, &b);
    }
    if (rc == CTIX_OK) {
        rc = sql_prov(&sql, q->prov_mask);
    }
    if (rc == CTIX_OK) {
        rc = buf_appends(&sql, " ORDER BY date_added LIMIT ?");
    }
    if (rc == CTIX_OK) {
        rc = reader_get(s, &c);
    }
    if (rc == CTIX_OK) {
        rc = stmt_get_dyn(c, sql.data, &qs);
    }
    if (rc != CTIX_OK) {
        goto out;
    }
    /* The collection is looked up inside the query: one read transaction (each costs file
     * locks) instead of two. */
    bind_str(qs, idx++, q->coll_id);
    if (q->object_id != NULL) {
        sqlite3_bind_int64(qs, idx++, id_hash(s, q->object_id));
        bind_str(qs, idx++, q->object_id);
    }
    if (q->added_after_us >= 0) {
        sqlite3_bind_int64(qs, idx++, q->added_after_us);
    }
    bind_lists(qs, &b, &idx);
    /* One more row tells whether there is more. With a filter, rows it hides do not count, so
     * the scan goes on (SQLite steps lazily: no bound costs nothing) until limit visible rows
     * and one more were seen, or the end. */
    sqlite3_bind_int64(qs, idx, q->filter != NULL ? -1 : limit + 1);
    while (rc == CTIX_OK && (src = sqlite3_step(qs)) == SQLITE_ROW) {
        struct store_row row;

        if (q->filter == NULL && n_rows == limit) {
            *more = true; /* known without reading the row */
            break;
        }
        row.id = (const char *)sqlite3_column_text(qs, 0);
        row.type = (const char *)sqlite3_column_text(qs, 1);
        row.version = (const char *)sqlite3_column_text(qs, 2);
        row.spec_version = (const char *)sqlite3_column_text(qs, 3);
        row.date_added_us = sqlite3_column_int64(qs, 4);
        row.tlp = sqlite3_column_int(qs, 5);
        row.origin = sqlite3_column_int64(qs, 6);
        row.prov = sqlite3_column_int(qs, 7);
        row.json = q->want_json ? (const char *)sqlite3_column_text(qs, 8) : NULL;
        row.json_len = row.json != NULL ? (size_t)sqlite3_column_bytes(qs, 8) : 0;
        if (row.id == NULL || row.type == NULL || row.version == NULL || row.spec_version == NULL ||
            (q->want_json && row.json == NULL)) {
            rc = CTIX_ENOMEM; /* sqlite returns NULL text only when a conversion ran out */
            break;
        }
        if (q->filter != NULL && !q->filter(q->filter_ctx, &row)) {
            continue; /* withheld: as if absent */
        }
        if (n_rows == limit) {
            *more = true;
            break;
        }
        n_rows++;
        rc = cb(ctx, &row);
    }
    if (rc == CTIX_OK && src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_fail(c->db, src, "objs_query");
    }
    sqlite3_reset(qs);
    sqlite3_clear_bindings(qs); /* drop pointers to the caller's strings */
    if (rc == CTIX_OK && n_rows == 0) {
        rc = coll_cid(c, q->coll_id, &cid); /* no row: was it an unknown collection? */
    }
out:
    reader_put(s, c);
    buf_cleanup(&sql);
    free(idhs);
    return rc;
}

static enum ctix_rc sq_obj_delete(struct store *st, const char *coll_id, const char *object_id,
                                  const struct store_query *q, size_t *n_deleted)
{
    static const struct store_query all = {.vsel = STORE_V_ALL};
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *qs = NULL;
    struct buf sql;
    struct binds b;
    int64_t cid = 0;
    int64_t idh = id_hash(s, object_id);
    int idx = 1;
    enum ctix_rc rc;

    *n_deleted = 0;
    memset(&b, 0, sizeof(b));
    buf_init(&sql, SQL_MAX);
    rc = buf_appends(&sql, "DELETE FROM objects WHERE cid = ? AND idh = ? AND id = ?");
    if (rc == CTIX_OK) {
        /* q->ids do not apply here: the path names the one object. */
        struct store_query one = q != NULL ? *q : all;

        one.ids = NULL;
        one.n_ids = 0;
        rc = sql_filters(&one, NULL, true, &sql, &b);
    }
    if (rc == CTIX_OK) {
        rc = coll_cid(c, coll_id, &cid);
    }
    if (rc == CTIX_OK) {
        rc = stmt_get_dyn(c, sql.data, &qs);
    }
    if (rc == CTIX_OK) {
        rc = tx_begin(c);
    }
    if (rc != CTIX_OK) {
        goto out;
    }
    sqlite3_bind_int64(qs, idx++, cid);
    sqlite3_bind_int64(qs, idx++, idh);
    bind_str(qs, idx++, object_id);
    bind_lists(qs, &b, &idx);
    rc = stmt_run(c, qs, "obj_delete");
    sqlite3_clear_bindings(qs);
    if (rc == CTIX_OK) {
        *n_deleted = (size_t)sqlite3_changes(c->db);
        rc = stmt_get(c, *n_deleted > 0 ? S_OBJ_FLAGS : S_OBJ_EXISTS, &qs);
    }
    if (rc == CTIX_OK) {
        sqlite3_bind_int64(qs, 1, cid);
        bind_str(qs, 2, object_id);
        sqlite3_bind_int64(qs, 3, idh);
        /* Nothing deleted: CTIX_ENOTFOUND only when the object has no version at all. */
        rc = *n_deleted > 0 ? stmt_run(c, qs, "obj_flags") : step_one(c, qs, "obj_exists");
        sqlite3_reset(qs);
    }
    if (rc == CTIX_OK && *n_deleted > 0) {
        rc = change_add(c, cid, object_id);
    }
    rc = tx_end(c, rc);
out:
    writer_put(s);
    buf_cleanup(&sql);
    return rc;
}

static enum ctix_rc sq_objs_count(struct store *st, const char *coll_id, int64_t *n)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    int64_t cid = 0;
    enum ctix_rc rc = reader_get(s, &c);

    if (rc == CTIX_OK) {
        rc = coll_cid(c, coll_id, &cid);
    }
    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_OBJ_COUNT, &q);
    }
    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, cid);
        rc = step_one(c, q, "objs_count");
        if (rc == CTIX_OK) {
            *n = sqlite3_column_int64(q, 0);
        }
        sqlite3_reset(q);
    }
    reader_put(s, c);
    return rc;
}

/* ---- status ---- */

static enum ctix_rc sq_status_put(struct store *st, const char *status_id, int64_t org_id,
                                  const char *json, size_t len)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    enum ctix_rc rc = status_insert(c, status_id, org_id, json, len);

    writer_put(s);
    return rc;
}

static enum ctix_rc sq_status_get(struct store *st, const char *status_id, int64_t *org_id,
                                  char **json, size_t *len)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = reader_get(s, &c);

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_STATUS_GET, &q);
    }
    if (rc == CTIX_OK) {
        bind_str(q, 1, status_id);
        rc = step_one(c, q, "status_get");
    }
    if (rc == CTIX_OK) {
        const char *text = (const char *)sqlite3_column_text(q, 1);
        size_t n = (size_t)sqlite3_column_bytes(q, 1);
        char *copy = text != NULL ? malloc(n + 1) : NULL;

        if (copy == NULL) {
            rc = CTIX_ENOMEM;
        } else {
            memcpy(copy, text, n + 1);
            *org_id = sqlite3_column_int64(q, 0);
            *json = copy;
            *len = n;
        }
    }
    if (q != NULL) {
        sqlite3_reset(q);
    }
    reader_put(s, c);
    return rc;
}

/* ---- provenance ---- */

static enum ctix_rc sq_obj_prov_set(struct store *st, const char *coll_id, const char *object_id,
                                    const char *version_key, int prov)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int64_t cid = 0;
    bool began = false;
    enum ctix_rc rc = coll_cid(c, coll_id, &cid);

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_OBJ_PROV_SET, &q);
    }
    /* A transaction: the change log row commits with the update or not at all. */
    if (rc == CTIX_OK) {
        rc = tx_begin(c);
        began = rc == CTIX_OK;
    }
    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, cid);
        bind_str(q, 2, object_id);
        sqlite3_bind_int64(q, 3, id_hash(s, object_id));
        if (version_key != NULL) {
            bind_str(q, 4, version_key);
        } else {
            sqlite3_bind_null(q, 4);
        }
        sqlite3_bind_int(q, 5, prov);
        rc = stmt_run(c, q, "obj_prov_set");
        sqlite3_clear_bindings(q); /* drop pointers to the caller's strings */
    }
    /* changes() counts the rows matched, also those whose prov was already prov. */
    if (rc == CTIX_OK && sqlite3_changes(c->db) == 0) {
        rc = CTIX_ENOTFOUND;
    }
    if (rc == CTIX_OK) {
        rc = change_add(c, cid, object_id);
    }
    if (began) {
        rc = tx_end(c, rc);
    }
    writer_put(s);
    return rc;
}

/* One transaction under synchronous=NORMAL, then the group commit's WAL sync (see sq_objs_put):
 * a page's settles cost one fsync, not one each. */
static enum ctix_rc sq_objs_prov_settle(struct store *st, const char *coll_id,
                                        struct store_prov_settle *v, size_t n)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int64_t cid = 0;
    bool began = false, changed = false;
    enum ctix_rc rc = coll_cid(c, coll_id, &cid);

    if (rc == CTIX_OK && n > 0) {
        rc = stmt_get(c, S_OBJ_PROV_SETTLE, &q);
    }
    if (rc == CTIX_OK && n > 0) {
        rc = exec_sql(c->db, "PRAGMA synchronous=NORMAL", "pragma");
        if (rc == CTIX_OK) {
            rc = tx_begin(c);
            began = rc == CTIX_OK;
        }
    }
    for (size_t i = 0; rc == CTIX_OK && i < n; i++) {
        sqlite3_bind_int64(q, 1, cid);
        bind_str(q, 2, v[i].object_id);
        sqlite3_bind_int64(q, 3, id_hash(s, v[i].object_id));
        if (v[i].version_key != NULL) {
            bind_str(q, 4, v[i].version_key);
        } else {
            sqlite3_bind_null(q, 4);
        }
        sqlite3_bind_int(q, 5, v[i].prov);
        sqlite3_bind_int(q, 6, STORE_PROV_PENDING);
        rc = stmt_run(c, q, "objs_prov_settle");
        if (rc == CTIX_OK) {
            v[i].changed = sqlite3_changes(c->db) > 0;
            changed |= v[i].changed;
        }
        if (rc == CTIX_OK && v[i].changed) {
            rc = change_add(c, cid, v[i].object_id);
        }
    }
    if (q != NULL) {
        sqlite3_clear_bindings(q); /* drop pointers to the caller's strings */
    }
    if (began) {
        rc = tx_end(c, rc);
    }
    if (began && exec_sql(c->db, "PRAGMA synchronous=FULL", "pragma") != CTIX_OK && rc == CTIX_OK) {
        rc = CTIX_EIO;
    }
    if (rc != CTIX_OK) {
        for (size_t i = 0; i < n; i++)
            v[i].changed = false;
    }
    writer_put(s);
    if (rc == CTIX_OK && changed) {
        rc = wal_sync(s);
    }
    return rc;
}

/* ---- change log ---- */

static enum ctix_rc run_id(struct conn *c, enum stmt_id id, int64_t v, const char *what);

/* Reads epoch, floor and the last seq on c, inside the caller's read transaction. */
static enum ctix_rc chg_pos(struct conn *c, struct store_changes_pos *pos, int64_t *floor)
{
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_CHG_POS, &q);

    if (rc == CTIX_OK) {
        rc = step_one(c, q, "changes_pos");
    }
    if (rc == CTIX_OK) {
        const char *epoch = (const char *)sqlite3_column_text(q, 0);

        if (epoch == NULL || sqlite3_column_type(q, 1) == SQLITE_NULL) {
            rc = CTIX_EIO; /* the migration writes both: the store is damaged */
        } else {
            ctix_strlcpy(pos->epoch, epoch, sizeof(pos->epoch));
            *floor = sqlite3_column_int64(q, 1);
            /* An empty log (new, or trimmed to nothing) is at its floor. */
            pos->seq =
                sqlite3_column_type(q, 2) == SQLITE_NULL ? *floor : sqlite3_column_int64(q, 2);
            if (pos->seq < *floor)
                pos->seq = *floor;
        }
    }
    if (q != NULL) {
        sqlite3_reset(q);
    }
    return rc;
}

static enum ctix_rc sq_changes_pos(struct store *st, struct store_changes_pos *out)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    int64_t floor = 0;
    enum ctix_rc rc = reader_get(s, &c);

    if (rc == CTIX_OK) {
        rc = chg_pos(c, out, &floor);
    }
    reader_put(s, c);
    return rc;
}

static enum ctix_rc sq_changes_since(struct store *st, const char *coll_id,
                                     const struct store_changes_pos *since, store_change_cb cb,
                                     void *ctx, struct store_changes_pos *now)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    struct store_changes_pos pos;
    int64_t cid = 0, floor = 0;
    bool began = false;
    int src = SQLITE_DONE;
    enum ctix_rc rc = reader_get(s, &c);

    /* One read transaction: the ids and the position they reach come from one snapshot, so no
     * change can fall between the two. */
    if (rc == CTIX_OK) {
        rc = exec_sql(c->db, "BEGIN", "changes_since");
        began = rc == CTIX_OK;
    }
    if (rc == CTIX_OK) {
        rc = coll_cid(c, coll_id, &cid);
    }
    if (rc == CTIX_OK) {
        rc = chg_pos(c, &pos, &floor);
    }
    /* Another log, changes trimmed, or a position this log never reached (a store restored
     * from an older copy): what changed cannot be told. */
    if (rc == CTIX_OK &&
        (strcmp(pos.epoch, since->epoch) != 0 || since->seq < floor || since->seq > pos.seq)) {
        rc = CTIX_ECONFLICT;
    }
    if (rc == CTIX_OK && since->seq < pos.seq) {
        rc = stmt_get(c, S_CHG_SINCE, &q);
        if (rc == CTIX_OK) {
            sqlite3_bind_int64(q, 1, since->seq);
            sqlite3_bind_int64(q, 2, cid);
            while (rc == CTIX_OK && (src = sqlite3_step(q)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(q, 0);

                rc = id != NULL ? cb(ctx, id) : CTIX_ENOMEM;
            }
            if (rc == CTIX_OK && src != SQLITE_DONE) {
                rc = db_fail(c->db, src, "changes_since");
            }
            sqlite3_reset(q);
        }
    }
    if (began) {
        (void)exec_sql(c->db, "COMMIT", "changes_since"); /* read only: nothing to lose */
    }
    if (rc == CTIX_OK) {
        *now = pos;
    }
    reader_put(s, c);
    return rc;
}

static enum ctix_rc sq_changes_trim(struct store *st, int64_t upto_seq)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    struct store_changes_pos pos;
    int64_t floor = 0;
    enum ctix_rc rc = tx_begin(c);
    bool began = rc == CTIX_OK;

    if (rc == CTIX_OK) {
        rc = chg_pos(c, &pos, &floor);
    }
    /* Never past the last seq: a floor above it would refuse positions the log did reach. */
    if (rc == CTIX_OK && upto_seq > pos.seq) {
        upto_seq = pos.seq;
    }
    if (rc == CTIX_OK && upto_seq > floor) {
        rc = run_id(c, S_CHG_TRIM, upto_seq, "changes_trim");
        if (rc == CTIX_OK) {
            rc = run_id(c, S_CHG_FLOOR, upto_seq, "changes_trim");
        }
    }
    if (began) {
        rc = tx_end(c, rc);
    }
    writer_put(s);
    return rc;
}

/* ---- peers ---- */

static enum ctix_rc sq_peer_add(struct store *st, const struct store_peer *p, int64_t *id)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_PEER_ADD, &q);

    if (rc == CTIX_OK) {
        bind_str(q, 1, p->name);
        sqlite3_bind_int64(q, 2, p->org_id);
        bind_str(q, 3, p->url);
        bind_str(q, 4, p->token);
        bind_str(q, 5, p->pubkey);
        sqlite3_bind_int(q, 6, p->max_tlp);
        sqlite3_bind_int64(q, 7, ctix_now_us());
        rc = stmt_run(c, q, "peer_add"); /* name taken: ECONFLICT; unknown org: ENOTFOUND */
        sqlite3_clear_bindings(q);       /* the token is not kept referenced */
    }
    if (rc == CTIX_OK && id != NULL) {
        *id = sqlite3_last_insert_rowid(c->db);
    }
    writer_put(s);
    return rc;
}

static void peer_row(sqlite3_stmt *q, void *dst)
{
    struct store_peer *out = dst;

    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(q, 0);
    col_copy(q, 1, out->name, sizeof(out->name));
    out->org_id = sqlite3_column_int64(q, 2);
    col_copy(q, 3, out->url, sizeof(out->url));
    col_copy(q, 4, out->token, sizeof(out->token));
    col_copy(q, 5, out->pubkey, sizeof(out->pubkey));
    out->max_tlp = sqlite3_column_int(q, 6);
    out->created_us = sqlite3_column_int64(q, 7);
    out->last_ok_us = sqlite3_column_int64(q, 8);
    out->last_err_us = sqlite3_column_int64(q, 9);
    col_copy(q, 10, out->last_err, sizeof(out->last_err));
    out->n_errors = sqlite3_column_int64(q, 11);
    out->n_received = sqlite3_column_int64(q, 12);
    out->n_sent = sqlite3_column_int64(q, 13);
    out->n_quarantined = sqlite3_column_int64(q, 14);
    out->lag_objects = sqlite3_column_int64(q, 15);
    out->lag_us = sqlite3_column_int64(q, 16);
}

static enum ctix_rc sq_peer_get(struct store *st, const char *name, int64_t id,
                                struct store_peer *out)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = reader_get(s, &c);

    if (rc == CTIX_OK) {
        rc = stmt_get(c, name != NULL ? S_PEER_GET : S_PEER_GET_ID, &q);
    }
    if (rc == CTIX_OK) {
        if (name != NULL) {
            bind_str(q, 1, name);
        } else {
            sqlite3_bind_int64(q, 1, id);
        }
        rc = step_one(c, q, "peer_get");
        if (rc == CTIX_OK) {
            peer_row(q, out);
        }
        sqlite3_reset(q);
    }
    reader_put(s, c);
    return rc;
}

static enum ctix_rc sq_peer_list(struct store *st, struct store_peer **out, size_t *n)
{
    void *arr = NULL;
    enum ctix_rc rc = list_rows(sq(st), S_PEER_LIST, NULL, sizeof(**out), peer_row, &arr, n);

    if (rc == CTIX_OK) {
        *out = arr;
    }
    return rc;
}

/* Runs the fixed statement id with ?1 = v (a DELETE or UPDATE). */
static enum ctix_rc run_id(struct conn *c, enum stmt_id id, int64_t v, const char *what)
{
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, id, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, v);
        rc = stmt_run(c, q, what);
    }
    return rc;
}

static enum ctix_rc sq_peer_remove(struct store *st, const char *name)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int64_t id = 0;
    enum ctix_rc rc = tx_begin(c);
    bool in_tx = rc == CTIX_OK;

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_PEER_ID, &q);
    }
    if (rc == CTIX_OK) {
        bind_str(q, 1, name);
        rc = step_one(c, q, "peer_remove");
        if (rc == CTIX_OK) {
            id = sqlite3_column_int64(q, 0);
        }
        sqlite3_reset(q);
    }
    /* Its collections and queued pushes go with it; its objects stay (their origin keeps the
     * id, which AUTOINCREMENT never gives to another peer). */
    if (rc == CTIX_OK) {
        rc = run_id(c, S_PEER_DEL_COLLS, id, "peer_remove");
    }
    if (rc == CTIX_OK) {
        rc = run_id(c, S_PEER_DEL_OUTBOX, id, "peer_remove");
    }
    if (rc == CTIX_OK) {
        rc = run_id(c, S_PEER_DEL, id, "peer_remove");
    }
    if (in_tx) {
        rc = tx_end(c, rc);
    }
    writer_put(s);
    return rc;
}

static enum ctix_rc sq_peer_status_set(struct store *st, const struct store_peer *p)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_PEER_STATUS, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, p->id);
        sqlite3_bind_int64(q, 2, p->last_ok_us);
        sqlite3_bind_int64(q, 3, p->last_err_us);
        bind_str(q, 4, p->last_err);
        sqlite3_bind_int64(q, 5, p->n_errors);
        sqlite3_bind_int64(q, 6, p->n_received);
        sqlite3_bind_int64(q, 7, p->n_sent);
        sqlite3_bind_int64(q, 8, p->n_quarantined);
        sqlite3_bind_int64(q, 9, p->lag_objects);
        sqlite3_bind_int64(q, 10, p->lag_us);
        rc = stmt_run(c, q, "peer_status_set");
        sqlite3_clear_bindings(q);
    }
    if (rc == CTIX_OK && sqlite3_changes(c->db) == 0) {
        rc = CTIX_ENOTFOUND;
    }
    writer_put(s);
    return rc;
}

static enum ctix_rc sq_peer_coll_add(struct store *st, int64_t peer_id, const char *coll_id,
                                     int dir)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_PCOLL_ADD, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, peer_id);
        bind_str(q, 2, coll_id);
        sqlite3_bind_int(q, 3, dir);
        rc = stmt_run(c, q, "peer_coll_add"); /* unknown peer: FOREIGNKEY → CTIX_ENOTFOUND */
    }
    writer_put(s);
    return rc;
}

static enum ctix_rc sq_peer_coll_cursor_set(struct store *st, int64_t peer_id, const char *coll_id,
                                            int dir, int64_t cursor_us)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_PCOLL_CURSOR, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, peer_id);
        bind_str(q, 2, coll_id);
        sqlite3_bind_int64(q, 3, cursor_us);
        sqlite3_bind_int(q, 4, dir);
        rc = stmt_run(c, q, "peer_coll_cursor_set");
        sqlite3_clear_bindings(q);
    }
    if (rc == CTIX_OK && sqlite3_changes(c->db) == 0) {
        rc = CTIX_ENOTFOUND;
    }
    writer_put(s);
    return rc;
}

static void peer_coll_row(sqlite3_stmt *q, void *dst)
{
    struct store_peer_coll *out = dst;

    memset(out, 0, sizeof(*out));
    out->peer_id = sqlite3_column_int64(q, 0);
    col_copy(q, 1, out->coll_id, sizeof(out->coll_id));
    out->dir = sqlite3_column_int(q, 2);
    out->cursor_us = sqlite3_column_int64(q, 3);
}

static enum ctix_rc sq_peer_coll_list(struct store *st, int64_t peer_id,
                                      struct store_peer_coll **out, size_t *n)
{
    void *arr = NULL;
    enum ctix_rc rc =
        list_rows(sq(st), S_PCOLL_LIST, &peer_id, sizeof(**out), peer_coll_row, &arr, n);

    if (rc == CTIX_OK) {
        *out = arr;
    }
    return rc;
}

/* ---- trust ---- */

static enum ctix_rc sq_trust_add(struct store *st, const char *org, const char *pubkey)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = stmt_get(c, S_TRUST_ADD, &q);

    if (rc == CTIX_OK) {
        bind_str(q, 1, org);
        bind_str(q, 2, pubkey);
        sqlite3_bind_int64(q, 3, ctix_now_us());
        rc = stmt_run(c, q, "trust_add");
    }
    writer_put(s);
    return rc;
}

static void trust_row(sqlite3_stmt *q, void *dst)
{
    struct store_trust *out = dst;

    memset(out, 0, sizeof(*out));
    col_copy(q, 0, out->org, sizeof(out->org));
    col_copy(q, 1, out->pubkey, sizeof(out->pubkey));
    out->created_us = sqlite3_column_int64(q, 2);
}

static enum ctix_rc sq_trust_list(struct store *st, struct store_trust **out, size_t *n)
{
    void *arr = NULL;
    enum ctix_rc rc = list_rows(sq(st), S_TRUST_LIST, NULL, sizeof(**out), trust_row, &arr, n);

    if (rc == CTIX_OK) {
        *out = arr;
    }
    return rc;
}

/* ---- outbox ---- */

static enum ctix_rc sq_outbox_add(struct store *st, int64_t peer_id, const char *coll_id,
                                  const char *json, size_t len, int64_t *id)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = len > INT_MAX ? CTIX_ETOOBIG : stmt_get(c, S_OUTBOX_ADD, &q);

    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, peer_id);
        bind_str(q, 2, coll_id);
        sqlite3_bind_text(q, 3, json, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, ctix_now_us());
        rc = stmt_run(c, q, "outbox_add"); /* unknown peer: FOREIGNKEY → CTIX_ENOTFOUND */
        sqlite3_clear_bindings(q);
    }
    if (rc == CTIX_OK && id != NULL) {
        *id = sqlite3_last_insert_rowid(c->db);
    }
    writer_put(s);
    return rc;
}

static enum ctix_rc sq_outbox_due(struct store *st, int64_t peer_id, int64_t now_us, size_t limit,
                                  struct store_outbox **out, size_t *n)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    struct store_outbox *arr = NULL;
    size_t len = 0, cap = 0;
    enum ctix_rc rc = reader_get(s, &c);
    int src = SQLITE_DONE;

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_OUTBOX_DUE, &q);
    }
    if (rc != CTIX_OK) {
        goto out;
    }
    sqlite3_bind_int64(q, 1, peer_id);
    sqlite3_bind_int64(q, 2, now_us);
    sqlite3_bind_int64(q, 3, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    while ((src = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_outbox *e;
        const char *json = (const char *)sqlite3_column_text(q, 3);
        size_t json_len = (size_t)sqlite3_column_bytes(q, 3);

        if (len == cap) {
            size_t ncap = cap == 0 ? 8 : cap * 2;
            struct store_outbox *p = realloc(arr, ncap * sizeof(*p));

            if (p == NULL) {
                rc = CTIX_ENOMEM;
                break;
            }
            arr = p;
            cap = ncap;
        }
        e = &arr[len];
        memset(e, 0, sizeof(*e));
        e->json = json != NULL ? malloc(json_len + 1) : NULL;
        if (e->json == NULL) {
            rc = CTIX_ENOMEM;
            break;
        }
        len++;
        memcpy(e->json, json, json_len + 1);
        e->json_len = json_len;
        e->id = sqlite3_column_int64(q, 0);
        e->peer_id = sqlite3_column_int64(q, 1);
        col_copy(q, 2, e->coll_id, sizeof(e->coll_id));
        e->attempts = sqlite3_column_int(q, 4);
        e->next_us = sqlite3_column_int64(q, 5);
        col_copy(q, 6, e->last_err, sizeof(e->last_err));
    }
    if (rc == CTIX_OK && src != SQLITE_DONE) {
        rc = db_fail(c->db, src, "outbox_due");
    }
    sqlite3_reset(q);
out:
    reader_put(s, c);
    if (rc == CTIX_OK) {
        *out = arr;
        *n = len;
        arr = NULL;
    }
    store_outbox_free(arr, len);
    return rc;
}

static enum ctix_rc sq_outbox_done(struct store *st, int64_t id)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    enum ctix_rc rc = run_id(c, S_OUTBOX_DONE, id, "outbox_done");

    if (rc == CTIX_OK && sqlite3_changes(c->db) == 0) {
        rc = CTIX_ENOTFOUND;
    }
    writer_put(s);
    return rc;
}

static enum ctix_rc sq_outbox_retry(struct store *st, int64_t id, int64_t next_us, const char *err)
{
    struct sq_store *s = sq(st);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    char msg[sizeof(((struct store_outbox *)0)->last_err)];
    enum ctix_rc rc = stmt_get(c, S_OUTBOX_RETRY, &q);

    /* Kept as long as the struct can show it: a peer's error text is its to make long. */
    ctix_strlcpy(msg, err, sizeof(msg));
    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, next_us);
        sqlite3_bind_text(q, 3, msg, -1, SQLITE_TRANSIENT);
        rc = stmt_run(c, q, "outbox_retry");
    }
    if (rc == CTIX_OK && sqlite3_changes(c->db) == 0) {
        rc = CTIX_ENOTFOUND;
    }
    writer_put(s);
    return rc;
}

static enum ctix_rc sq_outbox_count(struct store *st, int64_t peer_id, int64_t *n)
{
    struct sq_store *s = sq(st);
    struct conn *c = NULL;
    sqlite3_stmt *q = NULL;
    enum ctix_rc rc = reader_get(s, &c);

    if (rc == CTIX_OK) {
        rc = stmt_get(c, S_OUTBOX_COUNT, &q);
    }
    if (rc == CTIX_OK) {
        sqlite3_bind_int64(q, 1, peer_id);
        rc = step_one(c, q, "outbox_count");
        if (rc == CTIX_OK) {
            *n = sqlite3_column_int64(q, 0);
        }
        sqlite3_reset(q);
    }
    reader_put(s, c);
    return rc;
}

const char *store__sqlite_migration(size_t v)
{
    return v < CTIX_ARRAY_LEN(migrations) ? migrations[v] : NULL;
}

const struct store_ops store__sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .meta_set = sq_meta_set,
    .meta_get = sq_meta_get,
    .org_add = sq_org_add,
    .org_get = sq_org_get,
    .org_get_by_id = sq_org_get_by_id,
    .org_list = sq_org_list,
    .collection_add = sq_collection_add,
    .collection_get = sq_collection_get,
    .collection_list = sq_collection_list,
    .grant_set = sq_grant_set,
    .grant_get = sq_grant_get,
    .key_add = sq_key_add,
    .key_find = sq_key_find,
    .key_list = sq_key_list,
    .key_revoke = sq_key_revoke,
    .objs_put = sq_objs_put,
    .objs_query = sq_objs_query,
    .obj_delete = sq_obj_delete,
    .objs_count = sq_objs_count,
    .status_put = sq_status_put,
    .status_get = sq_status_get,
    .org_set_client = sq_org_set_client,
    .obj_prov_set = sq_obj_prov_set,
    .objs_prov_settle = sq_objs_prov_settle,
    .peer_add = sq_peer_add,
    .peer_get = sq_peer_get,
    .peer_list = sq_peer_list,
    .peer_remove = sq_peer_remove,
    .peer_status_set = sq_peer_status_set,
    .peer_coll_add = sq_peer_coll_add,
    .peer_coll_list = sq_peer_coll_list,
    .peer_coll_cursor_set = sq_peer_coll_cursor_set,
    .trust_add = sq_trust_add,
    .trust_list = sq_trust_list,
    .outbox_add = sq_outbox_add,
    .outbox_due = sq_outbox_due,
    .outbox_done = sq_outbox_done,
    .outbox_retry = sq_outbox_retry,
    .outbox_count = sq_outbox_count,
    .changes_pos = sq_changes_pos,
    .changes_since = sq_changes_since,
    .changes_trim = sq_changes_trim,
};
