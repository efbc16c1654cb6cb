/* prov: provenance — the node's Ed25519 key pair, signed attestations of STIX objects (and of
 * their deletion), and the hash-chained audit log.
 *
 * prov/ knows nothing of HTTP, TAXII or the store: objects and keys in, attestations and verdicts
 * out. The only I/O is the key file and the audit log file in a data directory given by the
 * caller. A private key is never logged, printed or put in a diag.
 *
 * ---- What is signed ----
 * An attestation is a separate STIX object that plain TAXII clients ignore (a custom type):
 *
 *   {"type":"x-ctix-attestation","spec_version":"2.1","id":"x-ctix-attestation--<uuid5>",
 *    "created":T,"modified":T,"statement":"publish",
 *    "object_ref":"indicator--…","object_modified":"2024-…Z","object_sha256":"<hex>",
 *    "publisher":"CSA Singapore","public_key":"ed25519:<base64url>","algorithm":"ed25519",
 *    "object_marking_refs":[…the object's markings…],
 *    "batch_size":N,"batch_index":i,"batch_path":["<hex>",…],   (only when N > 1)
 *    "signature":"<base64 of 64 bytes>"}
 *
 *   object_sha256 = SHA-256(JCS(object))                         (RFC 8785 canonical JSON)
 *   leaf          = SHA-256(0x00 || "ctix/attestation/v1\n" || JCS(att without signature,
 *                                                                 batch_size/index/path))
 *   root          = RFC 6962 Merkle tree hash over the batch's leaves (node = SHA-256(0x01||L||R));
 *                   one object alone: root = leaf
 *   signature     = Ed25519(key, "ctix/attestation-root/v1\n" || u64be(N) || root)
 *
 * So everything in the attestation except the inclusion proof is signed: the publisher, the key,
 * the statement, the object's id and version, the digest of its canonical form and its markings.
 * A relay can neither alter the object (digest), nor move an attestation to another object or
 * version (object_ref, object_modified), nor change the publisher or statement (leaf). The prefixes
 * separate these signatures from any other thing a ctix key may sign later.
 *
 * Why batches: one Ed25519 verification costs 75-150 µs on the reference machine (6,500/s with
 * OpenSSL, 13,000/s with libsodium), below the 20,000 objects/s the federation needs. An envelope
 * of N objects is signed once; each attestation carries its own inclusion proof (log2 N hashes),
 * so a relay may forward any subset (policy filters per object) and each object still verifies
 * alone. A verifier remembers the roots it has checked (struct prov_verifier), so a page of one
 * batch costs one signature check plus a few hashes per object. Sibling hashes reveal nothing
 * about the other objects of the batch.
 *
 * The attestation copies the object's markings (object and granular marking refs, as object
 * markings), so policy/ treats it exactly as strictly as the object it speaks of. Its id is a
 * UUIDv5 of (public key, statement, object id, version): signing the same object again makes a
 * new version of the same attestation, not a new object.
 *
 * Deletion (tombstone): statement "delete", the same fields without object_sha256; object_modified
 * names the deleted version, or is absent when every version is deleted. A node applies it only
 * when its key is the key that signed the stored object (the caller compares prov_result.key).
 * Revocation needs nothing special: a revoked version is a new version, attested like any other.
 */
#ifndef CTIX_PROV_H
#define CTIX_PROV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "stix/stix.h"

#define PROV_ATTEST_TYPE   "x-ctix-attestation"
#define PROV_KEY_FILE      "node.key"   /* in the data directory, mode 0600 */
#define PROV_AUDIT_FILE    "audit.log"  /* in the data directory */
#define PROV_AUDIT_HEAD    "audit.head" /* in the data directory: the signed head of audit.log */
#define PROV_PUBKEY_TEXT   52           /* "ed25519:" + 43 base64url characters + NUL */
#define PROV_PUBLISHER_MAX 256          /* bytes of a publisher name, NUL included */
#define PROV_ORG_MAX       256          /* bytes of a local organisation name, NUL included */
#define PROV_VERSION_MAX   40           /* a STIX timestamp, NUL included */
#define PROV_BATCH_MAX     4096         /* objects under one signature: a path of ≤ 12 hashes */

/* ---- keys ---- */

struct prov_pubkey {
    unsigned char b[32];
};

/* A key pair. Opaque: the private half never leaves sign.c except into the key file. */
struct prov_key;

/* A new random key pair (kernel CSPRNG). CTIX_ENOMEM or CTIX_EIO. */
CTIX_MUST_CHECK enum ctix_rc prov_key_generate(struct prov_key **out);
/* Wipes and frees; NULL does nothing. */
void prov_key_free(struct prov_key *k);
/* Borrowed, valid as long as k. */
const struct prov_pubkey *prov_key_public(const struct prov_key *k);

/* Writes k to DIR/node.key as a PKCS#8 PEM file ("openssl pkey -in node.key -pubout" reads it):
 * mode 0600, written to a temporary file, fsynced, then linked into place so that a reader sees
 * the whole key or none. Never replaces an existing key: CTIX_ECONFLICT (a node's key is its
 * identity). CTIX_EIO with diag otherwise. */
CTIX_MUST_CHECK enum ctix_rc prov_key_save(const struct prov_key *k, const char *dir,
                                           struct ctix_diag *diag);
/* Reads DIR/node.key. CTIX_ENOTFOUND when absent, CTIX_EINVAL when it is not an Ed25519 key
 * written by prov_key_save, CTIX_EDENIED when the file is readable by group or others. */
CTIX_MUST_CHECK enum ctix_rc prov_key_load(const char *dir, struct prov_key **out,
                                           struct ctix_diag *diag);

/* The text form KEY of a public key: "ed25519:" + unpadded base64url of the 32 bytes, e.g.
 * "ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo". It is what `ctix node show` prints and
 * `ctix peer add --pubkey` and `ctix trust add --pubkey` take. */
void prov_pubkey_format(const struct prov_pubkey *pk, char out[PROV_PUBKEY_TEXT]);
/* Strict: the prefix, exactly 43 characters of [A-Za-z0-9_-], no padding, no spaces, and the last
 * character must carry no stray bits. CTIX_EINVAL with a diag for people otherwise. */
CTIX_MUST_CHECK enum ctix_rc prov_pubkey_parse(const char *s, struct prov_pubkey *out,
                                               struct ctix_diag *diag);
bool prov_pubkey_equal(const struct prov_pubkey *a, const struct prov_pubkey *b);

/* "openssl" or "libsodium": which library does the Ed25519 work (for benchmarks and logs). */
const char *prov_backend(void);

/* ---- trust: which keys this node believes, and whose they are ---- */

/* Answers whether key is trusted: CTIX_OK and org (PROV_ORG_MAX bytes) set to the local
 * organisation the key belongs to; CTIX_ENOTFOUND when the key is not trusted; anything else is a
 * failure of the lookup itself. publisher is the name the attestation claims (signed, but chosen
 * by the publisher): a lookup may require it to match, the table below does not. */
typedef enum ctix_rc (*prov_trust_fn)(void *ctx, const struct prov_pubkey *key,
                                      const char *publisher, char *org);

/* A simple in-memory trust table (peers' and `ctix trust add` keys, loaded from the store). */
struct prov_trust_table {
    struct prov_trust_entry {
        struct prov_pubkey key;
        char org[PROV_ORG_MAX];
    } * v;
    size_t n, cap;
};

void prov_trust_table_init(struct prov_trust_table *t);
void prov_trust_table_cleanup(struct prov_trust_table *t);
/* CTIX_EINVAL when org is empty or too long; CTIX_ECONFLICT when key is already there. */
CTIX_MUST_CHECK enum ctix_rc prov_trust_table_add(struct prov_trust_table *t, const char *org,
                                                  const struct prov_pubkey *key);
/* A prov_trust_fn whose ctx is a struct prov_trust_table. */
enum ctix_rc prov_trust_table_lookup(void *ctx, const struct prov_pubkey *key,
                                     const char *publisher, char *org);

/* ---- attestations ---- */

enum prov_statement {
    PROV_PUBLISH, /* the publisher vouches for this version of the object, byte for byte */
    PROV_DELETE,  /* the publisher deleted this version (or every version) of the object */
};

/* When attestations are made: 0 for now, or microseconds since the epoch (tests, replays). */
struct prov_sign_opts {
    const char *publisher; /* the publishing organisation's name, 1..255 bytes of UTF-8 */
    int64_t now_us;
};

/* Signs objs[0..n) (valid STIX objects, 1 ≤ n ≤ PROV_BATCH_MAX) with one signature and makes one
 * attestation per object: outs[i] is a new reference (json_decref) that stix_validate accepts.
 * On failure no outs are set. CTIX_EINVAL with diag when an object has no id, is not canonical-
 * izable or n is out of range; CTIX_ENOMEM. */
CTIX_MUST_CHECK enum ctix_rc prov_attest_sign(const json_t *const *objs, size_t n,
                                              const struct prov_key *key,
                                              const struct prov_sign_opts *opts, json_t **outs,
                                              struct ctix_diag *diag);

/* Where prov_attest_sign_text put one attestation, and what the store needs to know of it. */
struct prov_att_text {
    size_t off, len;                 /* the attestation's JSON text: texts->data + off, len bytes */
    char id[STIX_ID_MAX];            /* its id */
    char modified[PROV_VERSION_MAX]; /* its version (created = modified) */
};

/* prov_attest_sign, with the attestations as JSON text instead of jansson values (the same
 * attestations: the same members and values, signed alike), for the ingest path, which stores
 * text. Appends the n texts to texts (outs[i] says where each is; texts->data may move as it
 * grows). On failure texts is as it was. Same errors as prov_attest_sign. */
CTIX_MUST_CHECK enum ctix_rc prov_attest_sign_text(const json_t *const *objs, size_t n,
                                                   const struct prov_key *key,
                                                   const struct prov_sign_opts *opts,
                                                   struct buf *texts, struct prov_att_text *outs,
                                                   struct ctix_diag *diag);

/* A signed deletion statement for obj (the stored object being deleted: its id, version and
 * markings are taken from it); all_versions leaves object_modified out. *out is a new reference. */
CTIX_MUST_CHECK enum ctix_rc prov_attest_sign_delete(const json_t *obj, bool all_versions,
                                                     const struct prov_key *key,
                                                     const struct prov_sign_opts *opts,
                                                     json_t **out, struct ctix_diag *diag);

/* The id of key's attestation making statement st about object_id at version (NULL: every
 * version): a UUIDv5, so the same statement by the same key about the same version always has the
 * same id, and a receiver can tell which attestation an object should have. */
CTIX_MUST_CHECK enum ctix_rc prov_att_id(const struct prov_pubkey *key, enum prov_statement st,
                                         const char *object_id, const char *version,
                                         char out[STIX_ID_MAX]);

/* True when j is an object of type PROV_ATTEST_TYPE (whether well-formed or not). */
bool prov_is_attestation(const json_t *j);

enum prov_verdict {
    PROV_VALID = 0,
    PROV_MALFORMED,         /* not a well-formed attestation (missing or ill-typed property) */
    PROV_MISMATCH,          /* about another object, version or statement than the one given */
    PROV_BAD_SIGNATURE,     /* object altered (digest), attestation altered, or forged */
    PROV_UNKNOWN_PUBLISHER, /* well-formed, but its key is not one this node trusts */
};

/* "valid", "malformed", "mismatch", "bad-signature", "unknown-publisher" (never NULL). */
const char *prov_verdict_name(enum prov_verdict v);

/* What a verification found; the strings are copies. */
struct prov_result {
    enum prov_verdict verdict;
    enum prov_statement statement;
    bool all_versions;                  /* PROV_DELETE without object_modified */
    struct prov_pubkey key;             /* the signing key (set from MISMATCH on) */
    char org[PROV_ORG_MAX];             /* the local organisation of a trusted key, else "" */
    char publisher[PROV_PUBLISHER_MAX]; /* as claimed in the attestation */
    char object_ref[STIX_ID_MAX];
    char object_modified[PROV_VERSION_MAX]; /* "" when absent */
};

/* Checks attestations against a trust lookup, remembering the batch roots whose signature it has
 * already checked. Not thread-safe: one per thread (or per sync pass). */
struct prov_verifier;

CTIX_MUST_CHECK enum ctix_rc prov_verifier_new(prov_trust_fn trust, void *trust_ctx,
                                               struct prov_verifier **out);
void prov_verifier_free(struct prov_verifier *v);

/* Verifies that att is a valid publish attestation of obj (same id, same version, same canonical
 * JSON) by a trusted key. Returns CTIX_OK when the check ran: res->verdict says how it ended and,
 * unless PROV_VALID, diag (if not NULL) says why in words. Other rcs (CTIX_ENOMEM, a failing
 * trust lookup) mean no verdict. */
CTIX_MUST_CHECK enum ctix_rc prov_attest_verify(struct prov_verifier *v, const json_t *obj,
                                                const json_t *att, struct prov_result *res,
                                                struct ctix_diag *diag);

/* Verifies a deletion statement on its own: res says which object and version it deletes and
 * who signed it. The caller applies it only when PROV_VALID and res->key is the key of the stored
 * object's publisher. Same return convention as prov_attest_verify. */
CTIX_MUST_CHECK enum ctix_rc prov_attest_verify_delete(struct prov_verifier *v, const json_t *att,
                                                       struct prov_result *res,
                                                       struct ctix_diag *diag);

/* ---- the audit log: append-only, hash-chained ---- */

#define PROV_AUDIT_FIELD 256 /* bytes of each text field, NUL included (longer is truncated) */

#define PROV_AUDIT_OBJECTS_MAX ((size_t)1 << 20) /* bytes of one entry's object list */
#define PROV_AUDIT_LINE_MAX                                                                        \
    ((size_t)8 << 20) /* bytes of one line of the file, escapes included                           \
                       */

/* One entry. The caller fills the text fields (UTF-8; empty is allowed) and time; seq, prev and
 * hash are set by prov_audit_entry_seal / prov_audit_append.
 *
 * An entry speaks of one object (object_id, version), or of every object one response sent (one
 * TAXII page, one push envelope, one export page): then the caller adds each with
 * prov_audit_entry_object_add, object_id and version stay empty, and the hash covers the whole
 * list. One entry per response keeps the log's cost per request, not per object. A zeroed entry
 * has no list; one with a list needs prov_audit_entry_cleanup. */
struct prov_audit_entry {
    uint64_t seq;                 /* 1, 2, 3… */
    int64_t time_us;              /* microseconds since the epoch */
    char event[32];               /* "sent", "denied", "received", "quarantined", "deleted"… */
    char actor[PROV_AUDIT_FIELD]; /* the peer or organisation on the other side */
    char object_id[STIX_ID_MAX];
    char version[PROV_VERSION_MAX];
    char channel[64]; /* "taxii", "sync", "push", "export", "console"… */
    char verdict[32]; /* "allow", "deny", "valid", "bad-signature"… */
    char reason[PROV_AUDIT_FIELD];
    unsigned char prev[32]; /* hash of entry seq-1; all zero for seq 1 */
    unsigned char hash[32];
    /* The objects of a response: n_objects strings "<id>|<version>", each NUL-terminated, back to
     * back (at most PROV_AUDIT_OBJECTS_MAX bytes). Filled by prov_audit_entry_object_add. */
    struct buf objects;
    size_t n_objects;
};

/* Adds "<id>|<version>" to e's object list. CTIX_ETOOBIG when the list is full (append e and
 * start another), CTIX_ENOMEM. */
CTIX_MUST_CHECK enum ctix_rc prov_audit_entry_object_add(struct prov_audit_entry *e, const char *id,
                                                         const char *version);
/* Frees e's object list; e is then an entry without one (its other fields are kept). */
void prov_audit_entry_cleanup(struct prov_audit_entry *e);

/* The canonical encoding hashed: the JCS form of
 *   {"actor":…,"channel":…,"event":…,"object_id":…,"objects":["<id>|<version>",…],
 *    "prev":"<hex>","reason":…,"seq":N,"time":"YYYY-MM-DDTHH:MM:SS.ffffffZ","verdict":…,
 *    "version":…}
 * where "objects" is present only when the entry has a list (in the order added; an entry
 * without one encodes exactly as before lists existed), and hash = SHA-256("ctix/audit/v1\n" ||
 * that). Independent of how entries are stored. On success *out is a new string (free()).
 * CTIX_EINVAL when a field is not UTF-8 or seq > 2^53. */
CTIX_MUST_CHECK enum ctix_rc prov_audit_entry_encode(const struct prov_audit_entry *e, char **out,
                                                     size_t *len);
CTIX_MUST_CHECK enum ctix_rc prov_audit_entry_hash(const struct prov_audit_entry *e,
                                                   unsigned char out[32]);

/* The head of a chain: the last entry's seq and hash (seq 0 and zeros when empty). Keep a copy
 * elsewhere (the store, a print-out): the chain alone cannot show that its last entries were cut
 * off. */
struct prov_audit_head {
    uint64_t seq;
    unsigned char hash[32];
};

/* Sets e->seq = head->seq + 1, e->prev = head->hash, e->hash, and advances head. */
CTIX_MUST_CHECK enum ctix_rc prov_audit_entry_seal(struct prov_audit_head *head,
                                                   struct prov_audit_entry *e);

/* Walks a chain in order. Feed entries one by one to prov_audit_check_next: CTIX_OK while the
 * chain holds; CTIX_EINVAL at the first entry that was removed before, inserted, moved or altered
 * (diag says which seq was expected and what is wrong; the checker keeps failing after that). */
struct prov_audit_check {
    struct prov_audit_head head; /* of the entries accepted so far */
    uint64_t n;
    bool failed;
};

void prov_audit_check_init(struct prov_audit_check *c);
CTIX_MUST_CHECK enum ctix_rc prov_audit_check_next(struct prov_audit_check *c,
                                                   const struct prov_audit_entry *e,
                                                   struct ctix_diag *diag);

/* ---- the file-backed log: DIR/audit.log, one JSON line per entry ---- */

/* Each line is the canonical encoding plus "hash":"<hex>" (keys still sorted), e.g.
 *   {"actor":"ACME","channel":"taxii","event":"sent","hash":"…","object_id":"",
 *    "objects":["indicator--…|2024-01-01T00:00:00.000Z",…],"prev":"…","reason":"tlp-clear",
 *    "seq":7,"time":"…","verdict":"allow","version":""}
 * A line is at most PROV_AUDIT_LINE_MAX bytes. Appends take an
 * exclusive flock, so that two processes (ctix serve, ctix export) append to one chain; within a
 * process a mutex does the same for threads. */
struct prov_audit_log;

/* The signed head, DIR/audit.head: the chain alone cannot show that entries were cut off its end,
 * and anyone who can edit the file can recompute every hash (the chain has no secret). So when a
 * log knows the node key (prov_audit_set_key), each sync (prov_audit_sync, the background sync of
 * prov_audit_sync_soon, prov_audit_close) also writes one JSON line
 *   {"hash":"<hex>","public_key":"ed25519:…","seq":N,"signature":"<base64>"}
 * with signature = Ed25519(node key, "ctix/audit-head/v1\n" || u64be(seq) || hash), after the
 * log's fdatasync (the head never names an entry that is not durable), to a temporary file,
 * fsynced and renamed into place. prov_audit_file_verify checks it against DIR/node.key: entry
 * seq must be in the chain with exactly that hash; entries after it (appended since the last
 * sync) are allowed and counted. Two processes appending to one log each write the head they
 * know, so the file may name an earlier seq than the newest synced entry: it still anchors the
 * chain up to there. Removing audit.head itself is not detected (a node from before heads has
 * none): `ctix audit verify` says when there is no head. */

/* Opens (creating, mode 0600) DIR/audit.log and reads its last entry for the head. CTIX_EIO with
 * diag when the file ends in a partial or unreadable line: appending after it would hide it. */
CTIX_MUST_CHECK enum ctix_rc prov_audit_open(const char *dir, struct prov_audit_log **out,
                                             struct ctix_diag *diag);
/* Seals e (seq, prev, hash are set) and appends it with one write(); not yet durable. */
CTIX_MUST_CHECK enum ctix_rc prov_audit_append(struct prov_audit_log *log,
                                               struct prov_audit_entry *e, struct ctix_diag *diag);
/* fdatasync: call once per batch of appends, before reporting them done. Concurrent callers
 * share syncs (one that started after a caller's appends covers them). */
CTIX_MUST_CHECK enum ctix_rc prov_audit_sync(struct prov_audit_log *log, struct ctix_diag *diag);

#define PROV_AUDIT_SYNC_DELAY_MS 50
/* Durable within about PROV_AUDIT_SYNC_DELAY_MS instead of now: a background thread of the log
 * (started by the first call, stopped by prov_audit_close) runs one fdatasync for all the appends
 * of that window. For the read path, where a sync per response capped one connection at ~140
 * pages/s on the reference box: the entries are already written (a crash of the process loses
 * none), only a crash of the machine within the window can. Returns the first failure of an
 * earlier background sync (then the log must be looked at), else CTIX_OK; when the thread cannot
 * start it syncs now. */
CTIX_MUST_CHECK enum ctix_rc prov_audit_sync_soon(struct prov_audit_log *log,
                                                  struct ctix_diag *diag);
void prov_audit_head_get(struct prov_audit_log *log, struct prov_audit_head *out);
/* From now on every sync also writes the signed head DIR/audit.head (above). key is borrowed:
 * it must outlive the log (close the log first). Call it before the first append. */
void prov_audit_set_key(struct prov_audit_log *log, const struct prov_key *key);
/* Syncs (writing the signed head when the log has a key) and closes; NULL does nothing. */
void prov_audit_close(struct prov_audit_log *log);

/* What `ctix audit verify` prints. */
struct prov_audit_report {
    uint64_t n_entries; /* entries that verified, in order */
    struct prov_audit_head head;
    uint64_t bad_seq;              /* the seq expected where the chain broke; 0 when it holds */
    uint64_t bad_line;             /* 1-based line of the file where it broke; 0 when it holds */
    bool signed_head;              /* DIR/audit.head exists and is signed by the node key */
    struct prov_audit_head anchor; /* the signed head (when signed_head) */
    uint64_t unanchored;           /* entries after anchor.seq (appended since the last sync) */
};

/* Reads DIR/audit.log from the start and checks the whole chain. CTIX_OK when it holds (diag
 * untouched); CTIX_EINVAL when it does not, with report->bad_seq/bad_line and diag ("line 12:
 * seq 12: prev does not match the hash of seq 11 (entry removed, inserted or reordered)");
 * CTIX_ENOTFOUND when there is no log; CTIX_EIO. An empty log holds.
 * When DIR/audit.head exists it must be signed by DIR/node.key ("audit.head is not signed by this
 * node's key"), and the chain must hold entry anchor.seq with exactly anchor.hash ("the log was
 * rewritten") and end no earlier ("entries removed from the end (log ends at seq X, the signed
 * head is at seq N)"): all CTIX_EINVAL. Without audit.head the chain alone is checked. */
CTIX_MUST_CHECK enum ctix_rc
prov_audit_file_verify(const char *dir, struct prov_audit_report *report, struct ctix_diag *diag);

#endif
