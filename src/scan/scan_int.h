/* scan/ internals: the contract between the log readers, the extractor, the normalisers, the
 * match index, the loaders and the sightings. Nothing here is used outside src/scan and
 * src/cli/cmd_scan.c.
 *
 * Data flow (docs/ARCHITECTURE.md, "Scanning"): a file is read in blocks split at line ends; each
 * line goes to the reader of its format (fmt.c), which fills a struct scan_rec with the record's
 * time and its observables, normalised (norm.c; free text through extract.c); the index
 * (index.c) looks each observable up and reports the indicators it matches. */
#ifndef CTIX_SCAN_INT_H
#define CTIX_SCAN_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ---- observables ---- */

enum scan_kind {
    SCAN_IPV4,   /* u.v4 */
    SCAN_IPV6,   /* u.v6 */
    SCAN_DOMAIN, /* u.s: lower case, no trailing dot */
    SCAN_URL,    /* u.s: scan_url_norm() form */
    SCAN_EMAIL,  /* u.s: local part as written, domain lower case */
    SCAN_MD5,    /* u.s: 32 lower-case hex digits */
    SCAN_SHA1,   /* u.s: 40 */
    SCAN_SHA256, /* u.s: 64 */
    SCAN_KIND_N,
};

/* One observable of a record. u.s.p points into the record when the normalised form equals the
 * text there, else into the record's scratch (valid until the record is reset). */
struct scan_obs {
    uint8_t kind; /* enum scan_kind */
    uint32_t off; /* the raw text in the line: line[off, off+len) */
    uint32_t len;
    union {
        uint32_t v4; /* host order: 1.2.3.4 is 0x01020304 */
        uint8_t v6[16];
        struct {
            const char *p;
            uint32_t n;
        } s;
    } u;
};

#define SCAN_REC_MAX_OBS 256 /* more in one record are dropped and counted in n_dropped */
#define SCAN_TIME_NONE   INT64_MIN

#define SCAN_LINE_MAX (1u << 20) /* longer lines are skipped and reported (run.c) */

#define SCAN_PROTO_MAX 15 /* longer transport names are not kept */

/* The connection a record describes, as far as its format says (source and destination address,
 * ports, transport): what the network-traffic object of an evaluated observation is made of.
 * Readers only note where things are — an observable's index, a field's text, or just the line
 * for scan_conn_get() to read again — and scan_conn_get() works it out when an evaluation wants
 * it: most records are never evaluated, and reading a line must not get slower for them.
 * All zero is "nothing known" (scan_rec_init; scan_fmt_line empties it before each line). */
struct scan_conn {
    uint16_t src, dst; /* 1 + the index in obs of the source / destination address (an IPv4 or
                        * IPv6 observable); 0: unknown */
    uint16_t url;      /* 1 + the index in obs of the URL whose port (its own or its scheme's
                        * default) is the destination port when dport is NULL; 0: none */
    uint8_t sport_len, dport_len, proto_len;
    uint8_t reread; /* the format (SCAN_FMT_JSONL, SCAN_FMT_SQUID) whose reader finds the
                     * connection when line is read again (it is left aside the first time);
                     * 0: none */
    /* The fields' text as the line has it (in the line or the record's scratch, valid as long
     * as scan_obs.u.s.p): ports in decimal, the transport by name or IANA number; NULL:
     * not in the record. */
    const char *sport, *dport, *proto;
    /* The record's line (JSON, Squid, Zeek), valid as long as scan_obs.u.s.p, and for Zeek where
     * its ports and transport are (scan_fmt_state.zeek_conn) */
    const char *line;
    uint32_t line_len;
    uint64_t zeek;
};

/* A connection's values, as scan_conn_get() reads them. */
struct scan_conn_info {
    uint16_t src, dst; /* as scan_conn's */
    bool has_sport, has_dport;
    uint16_t sport, dport;
    uint8_t proto_len;              /* 0: unknown */
    char proto[SCAN_PROTO_MAX + 1]; /* lower case as STIX writes protocols ("tcp", "udp"…) */
};

/* What a reader makes of one line. scan_rec_reset() before each line. */

struct scan_rec {
    int64_t time_ms; /* the record's own time, Unix ms UTC; SCAN_TIME_NONE when it has none */
    struct scan_conn conn;
    size_t n_obs;
    size_t n_dropped;
    struct scan_obs obs[SCAN_REC_MAX_OBS];
    /* Normalised strings that differ from the raw text (upper-case hosts, decoded URLs, JSON
     * strings with escapes). Reserved at reset for the line's length, so it never moves while a
     * line is read and u.s.p into it stay valid; owned by the rec. */
    char *scratch;
    size_t scratch_len, scratch_cap;
};

void scan_rec_init(struct scan_rec *r);
/* Empties r for a line of line_len bytes (<= SCAN_LINE_MAX): n_obs = 0, time none, and a scratch
 * of at least 2 * line_len + 256 bytes — room for every normal form a reader writes, since each
 * is at most its raw text plus one byte and a JSON string's unescaped form is not longer than
 * its text. false on ENOMEM. */
bool scan_rec_reset(struct scan_rec *r, size_t line_len);
void scan_rec_cleanup(struct scan_rec *r);
/* n bytes at the end of the scratch (the caller writes them and adds what it used to
 * scratch_len); NULL when the reservation would be exceeded (a reader bug: treat as no room). */
char *scan_rec_scratch(struct scan_rec *r, size_t n);
/* Appends an observable; false (and n_dropped++) when the record is full. */
bool scan_rec_add(struct scan_rec *r, const struct scan_obs *o);
/* The connection r->conn notes (fmt.c): its addresses, and its ports and transport read — a port
 * is 1-5 digits up to 65535; the destination port is the URL's (its own or its scheme's default)
 * when the record names no other; the transport is a name of [A-Za-z0-9_-] lower-cased, or an
 * IANA number (1 icmp, 6 tcp, 17 udp, 58 ipv6-icmp, 132 sctp). What does not read so is left
 * unknown. A JSON or Squid record is read again for it (with the connection's fields, which those
 * readers leave aside for speed). false on ENOMEM. */
bool scan_conn_get(const struct scan_rec *r, struct scan_conn_info *out);

/* ---- normalisers: one form for a value whether it comes from a log or an indicator ---- */

/* Strict dotted quad: four decimal parts 0..255, 1-3 digits each, no sign or space; a part with a
 * leading zero ("01") is refused (it is octal to inet_aton and ambiguous). p[0..n) is the whole
 * candidate. */
bool scan_ipv4_parse(const char *p, size_t n, uint32_t *out);
/* RFC 4291 text forms, including "::" and an embedded dotted quad (::ffff:1.2.3.4); no zone
 * ("%eth0"), no brackets. Case-insensitive hex. */
bool scan_ipv6_parse(const char *p, size_t n, uint8_t out[16]);
/* A host name as DNS knows it: labels of [A-Za-z0-9_-] (not starting or ending with '-') 1..63
 * bytes, 1..253 bytes in all, at least two labels, a last label that is not all digits; one
 * trailing dot dropped. Writes the lower-case form to out (room for n bytes) and returns its
 * length, 0 when p[0..n) is not a host name. Bytes >= 0x80 are refused (IDNs arrive as xn--). */
size_t scan_domain_norm(const char *p, size_t n, char *out);
/* URL normal form, the one the index keys and log URLs are compared in:
 *   - scheme and host lower case; a trailing dot of the host dropped; IPv6 hosts in brackets kept
 *     as written but lower case;
 *   - the default port dropped (http 80, https 443, ftp 21, ws 80, wss 443);
 *   - userinfo kept as written;
 *   - percent-encoding: %XX of an unreserved character (A-Z a-z 0-9 - . _ ~) decoded, every other
 *     %xx written with upper-case hex digits; other bytes kept as they are;
 *   - an empty path becomes "/" when the URL has an authority;
 *   - query and fragment kept (the fragment never reaches a server, but an indicator may name it).
 * Only scheme "://" URLs (scheme: letter then letters, digits, + - .). Returns the normal form's
 * length written to out (room for n + 1 bytes: the "/" may be added), 0 when not a URL. *host and
 * *host_len (may be NULL) get the normalised host inside out (without brackets for IPv6). */
size_t scan_url_norm(const char *p, size_t n, char *out, size_t *host_off, size_t *host_len);
/* local@domain: local part as written (printable ASCII except space, ( ) < > [ ] , ; : \ " @),
 * domain through scan_domain_norm. Returns the length written to out (room for n), 0 if not. */
size_t scan_email_norm(const char *p, size_t n, char *out);
/* 32, 40 or 64 hex digits: the kind (SCAN_MD5/SHA1/SHA256) and the lower-case form in out (room
 * for n); -1 when not a hash. */
int scan_hash_norm(const char *p, size_t n, char *out);

/* Adds the observable(s) a field holding exactly one value gives, classified by its content:
 * an IPv4 or IPv6 address; a URL (and its host as a domain or address); an e-mail address (and
 * its domain); a hash; a host name (optionally "host:port"). Nothing when it is none of them.
 * off is where p starts in the line (for scan_obs.off). Returns the number added. */
size_t scan_value_add(struct scan_rec *r, const char *p, size_t n, uint32_t off);

#define SCAN_ADDR_TEXT 48
/* The text form of an address observable into out: the dotted quad, or RFC 5952 for IPv6
 * (lower case, the longest run of two or more zero groups as "::"). Returns its length; 0 for
 * other kinds. What hits print and what evaluated patterns compare. */
size_t scan_addr_text(const struct scan_obs *o, char out[SCAN_ADDR_TEXT]);

/* ---- the free-text extractor ---- */

/* Finds every observable in free text p[0..n) and adds it to r (off: where p starts in the line):
 *   - IPv4 with exact boundaries: 1.2.3.4 is not found inside 11.2.3.45, 1.2.3.4.5 or v1.2.3.4;
 *   - IPv6 (at least two ':' groups, valid by scan_ipv6_parse, also inside [brackets]);
 *   - URLs ("scheme://" up to white space, quotes, '<', '>' or a control byte; a trailing '.',
 *     ',', ')', ';' or ':' is not part of it), with their host added as a domain or address;
 *     the text of a URL is not searched for further domains;
 *   - e-mail addresses (and their domain);
 *   - host names (scan_domain_norm, with a last label of letters only, so "file.exe" is found
 *     but 1.2 is not; "host:port" gives the host);
 *   - MD5/SHA-1/SHA-256: runs of exactly 32/40/64 hex digits not touching another
 *     alphanumeric.
 * Linear in n; never reads outside p[0..n). */
void scan_extract(struct scan_rec *r, const char *p, size_t n, uint32_t off);

/* ---- log formats ---- */

enum scan_fmt {
    SCAN_FMT_AUTO,
    SCAN_FMT_PLAIN,    /* free text: the extractor over the whole line */
    SCAN_FMT_JSONL,    /* one JSON object per line */
    SCAN_FMT_ZEEK,     /* Zeek TSV with #fields/#types headers (conn, dns, http, ssl, files, …) */
    SCAN_FMT_CSV,      /* comma-separated with a header line */
    SCAN_FMT_SQUID,    /* Squid native access.log */
    SCAN_FMT_COMBINED, /* Apache/nginx combined (and common) log format */
    SCAN_FMT_SYSLOG,   /* RFC 3164 and RFC 5424 */
    SCAN_FMT_N,
};

/* Name <-> format ("auto", "plain", "jsonl", "zeek", "csv", "squid", "combined", "syslog"). */
const char *scan_fmt_name(enum scan_fmt f);
bool scan_fmt_parse(const char *name, enum scan_fmt *out);

#define SCAN_MAX_FIELDS 256

/* The state a file's lines are read in: the format and what its headers said. Header lines change
 * it (a Zeek "#fields" line, a CSV header), so a file split between threads is read with the
 * state in force at each block's start (run.c publishes it block by block). Plain data: copyable
 * with memcpy, no pointers into the file. */
struct scan_fmt_state {
    uint8_t fmt;      /* enum scan_fmt the file was opened with (AUTO allowed) */
    uint8_t detected; /* AUTO: the line format found in the first lines (SQUID, COMBINED, SYSLOG,
                       * PLAIN); JSON lines and Zeek sections are recognised line by line */
    bool in_zeek;     /* inside a Zeek section: after "#fields", until "#close" */
    bool csv_header_seen;
    char zeek_sep, zeek_set_sep;
    uint16_t n_fields;             /* Zeek or CSV columns */
    uint8_t role[SCAN_MAX_FIELDS]; /* what each column holds (fmt.c's enum) */
    char zeek_unset[16], zeek_empty[16];
    uint64_t zeek_conn;   /* where a Zeek record's ports and transport are: 9 bits each of 1 + the
                           * column of id.orig_p, id.resp_p, proto (0: none), then the separator;
                           * 0 when none (fmt.c, copied into scan_conn.zeek) */
    uint16_t syslog_year; /* RFC 3164 has no year: the file's (from its mtime) */
};

/* Starts a file's state. fmt may be SCAN_FMT_AUTO; head[0..n) is the start of the file (a few
 * KB, may be less or empty) for detection; year is the year for RFC 3164 times. */
void scan_fmt_init(struct scan_fmt_state *st, enum scan_fmt fmt, const char *head, size_t n,
                   unsigned year);

/* True when line[0..len) (no '\n'; a '\r' before it already removed) is a header or comment
 * line the state reads (a Zeek '#' line, the CSV header when none was seen) — it updates st and
 * is not a record. */
bool scan_fmt_header(struct scan_fmt_state *st, const char *line, size_t len);

/* Whether two states read every line alike (field by field: padding does not count). */
bool scan_fmt_state_eq(const struct scan_fmt_state *a, const struct scan_fmt_state *b);

enum scan_line_rc {
    SCAN_LINE_OK,   /* r holds the record (possibly with no observables) */
    SCAN_LINE_SKIP, /* blank line: not a record, not an error */
    SCAN_LINE_BAD,  /* not a record of the format: *why says what is wrong ("12 fields where the
                     * #fields header names 24", "invalid JSON at column 17"); the line was
                     * skipped (the caller reports file and line) */
};

/* Reads one non-header line into r (which the caller reset), r->conn included: what scan_conn_get
 * needs to work out the connection from the fields the readers know (Zeek id.orig_h/id.orig_p/
 * id.resp_h/id.resp_p/proto; top-level JSON keys and CSV columns src_ip, dst_ip, src_port,
 * dst_port, proto and their usual synonyms; Squid client -> server address and the URL's port;
 * combined: the client as source). Never reads outside
 * line[0..len); lines may hold any bytes (NUL, invalid UTF-8) and be hundreds of MB long.
 * *why is a static string or a string in r's scratch. */
enum scan_line_rc scan_fmt_line(const struct scan_fmt_state *st, const char *line, size_t len,
                                struct scan_rec *r, const char **why);

/* ---- time parsing for readers (Unix ms UTC; false when malformed) ---- */
bool scan_time_epoch(const char *p, size_t n, int64_t *ms); /* 1714996800.123 */
bool scan_time_iso(const char *p, size_t n, int64_t *ms);   /* RFC 3339, also without zone */
bool scan_time_clf(const char *p, size_t n, int64_t *ms);   /* 10/Oct/2000:13:55:36 -0700 */
bool scan_time_syslog(const char *p, size_t n, unsigned year, int64_t *ms); /* Oct 11 22:14:15 */

/* ---- indicators in ---- */

/* One indicator as a loader hands it to the index: borrowed strings, valid for the call. */
struct scan_ind_in {
    const char *id; /* "indicator--<uuid>" */
    size_t id_len;
    const char *name; /* NULL when it has none */
    size_t name_len;
    const char *pattern; /* pattern_type "stix" only: loaders skip the others (and count them) */
    size_t pattern_len;
    const char *created_by_ref; /* NULL when none: the producer the sightings go back to */
    size_t created_by_ref_len;
    int64_t modified_ms;    /* for choosing the newest of several versions of one id */
    int64_t valid_from_ms;  /* SCAN_TIME_NONE when absent */
    int64_t valid_until_ms; /* INT64_MAX when absent */
    bool revoked;
};

/* Receives each indicator; a return other than CTIX_OK stops the load and is returned. */
typedef enum ctix_rc (*scan_ind_fn)(void *arg, const struct scan_ind_in *in);

struct scan_load_stats {
    size_t n_objects;    /* objects seen */
    size_t n_indicators; /* indicators handed to fn */
    size_t n_skipped;    /* indicators with another pattern_type, or missing id/pattern */
};

/* The fields of one STIX object's JSON text that the index needs, without building a JSON tree:
 * a validating single pass (malformed JSON is CTIX_EINVAL with diag->line/col relative to text
 * and a message like stix_json_parse's). *is_ind is false for any type other than "indicator"
 * (then *in is not filled). Strings with escapes are unescaped into *tmp (reset by the call);
 * the pointers in *in point into text or *tmp. */
CTIX_MUST_CHECK enum ctix_rc scan_obj_fields(const char *text, size_t len, struct buf *tmp,
                                             bool *is_ind, struct scan_ind_in *in,
                                             struct ctix_diag *diag);

/* Every indicator of a STIX bundle file (also a TAXII envelope or a bare list of objects), read in
 * blocks with bounded memory (not the whole file in a tree), in file order. Malformed JSON:
 * CTIX_EINVAL with diag naming the file (diag->where), line and column; nothing is handed to fn
 * after it. */
CTIX_MUST_CHECK enum ctix_rc scan_load_bundle(const char *path, scan_ind_fn fn, void *arg,
                                              struct scan_load_stats *stats,
                                              struct ctix_diag *diag);

struct store;
/* Every indicator of a collection of the node's store, the last version of each object, verified
 * or local only (quarantined and pending versions are not indicators anyone vouched for). */
CTIX_MUST_CHECK enum ctix_rc scan_load_store(struct store *st, const char *coll_id, scan_ind_fn fn,
                                             void *arg, struct scan_load_stats *stats,
                                             struct ctix_diag *diag);

/* ---- sightings out ---- */

/* One distinct observable behind a sighting. */
struct scan_sight_obs {
    uint8_t kind;    /* enum scan_kind */
    const char *val; /* the normalised text form (IPv4/IPv6 addresses as text) */
    size_t len;
    uint64_t count;
    int64_t first_ms, last_ms;
};

/* What a scan found for one indicator. */
struct scan_sight {
    const char *indicator_id;
    uint64_t count; /* hits */
    int64_t first_ms, last_ms;
    const struct scan_sight_obs *obs;
    size_t n_obs;
};

struct scan_sight_opts {
    const char *identity_name; /* our organisation: the identity is made from it */
    int64_t now_ms;            /* created/modified of what is made */
    const char *marking_ref;   /* marking-definition id put on every object made; NULL: none */
};

/* The STIX 2.1 objects that report s[0..n): our identity (deterministic id from its name), per
 * indicator one sighting (count, first_seen, last_seen, sighting_of_ref, where_sighted_refs =
 * [identity], observed_data_refs) and one observed-data per distinct observable with its SCO
 * (deterministic SCO ids, stix_sco_id). Each sighting id is UUIDv5 of (indicator, identity,
 * first_seen, last_seen, count) so that re-reporting the same scan stores nothing new. A JSON
 * array (new reference), or NULL on ENOMEM. */
json_t *scan_sightings(const struct scan_sight *s, size_t n, const struct scan_sight_opts *o);

#endif
