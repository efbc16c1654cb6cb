/* `ctix scan` from outside: logs of every format, plain and compressed, against a bundle of
 * indicators of every kind — exact hits (file, line, indicator) and no hit on the decoys that fool
 * grep (11.2.3.45 for 1.2.3.4, notevil.example for evil.example); validity windows at the
 * record's time and revocation; bad input (a missing file, truncated gzip, a 2 MB line, binary
 * data, invalid UTF-8, a Zeek header that lies, an empty file) named with file and line while the
 * other inputs are still scanned and the exit code says so; sightings as a bundle and stored in a
 * collection of a node, read back over TAXII; network-traffic patterns (AND over the fields of
 * one connection) on a Zeek conn log and a JSON firewall log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

struct world {
    struct h_node node;
    char coll[H_UUID_MAX];    /* the indicators */
    char reports[H_UUID_MAX]; /* where sightings go */
    char token[H_TOKEN_MAX];
    char bundle[PATH_MAX + 32];
};

static struct world *W;

/* The indicators: id suffix, pattern, valid_from, and extra members. */
static const struct {
    const char *n, *pattern, *from, *extra;
} iocs[] = {
    {"01", "[ipv4-addr:value = '1.2.3.4']", NULL, ""},
    {"02", "[ipv4-addr:value = '10.20.0.0/16']", NULL, ""},
    {"03", "[ipv6-addr:value = '2001:db8::1']", NULL, ""},
    {"04", "[domain-name:value = 'evil.example']", NULL, ""},
    {"05", "[url:value = 'http://bad.example/x.php']", NULL, ""},
    {"06", "[url:value LIKE 'http://pre.example/dl/%']", NULL, ""},
    {"07",
     "[file:hashes.'SHA-256' = "
     "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']",
     NULL, ""},
    {"08", "[email-addr:value = 'phish@evil.example']", NULL, ""},
    {"09", "[url:value MATCHES '^https?://[a-z]+[.]tracker[.]example/']", NULL, ""},
    {"10", "[ipv4-addr:value = '9.9.9.9']", NULL, ",\"revoked\":true"},
    {"11", "[ipv4-addr:value = '8.8.4.4']", NULL, ",\"valid_until\":\"2024-02-01T00:00:00Z\""},
    {"12", "[domain-name:value = 'later.example']", "2030-01-01T00:00:00Z", ""},
    {"13", "[ipv4-addr:value ISSUBSET '172.16.5.0/24']", NULL, ""},
    {"14", "[process:command_line = 'evil.exe']", NULL, ""},
    {"15", "[file:hashes.MD5 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']", NULL, ""},
};

/* The bundle of iocs (malloc). */
static char *bundle_text(void)
{
    size_t cap = 16384, w = 0;
    char *b = malloc(cap);

    if (b == NULL)
        return NULL;
    w += (size_t)snprintf(b + w, cap - w,
                          "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-"
                          "000000000001\",\"objects\":[\n");
    for (size_t i = 0; i < sizeof(iocs) / sizeof(iocs[0]); i++)
        w += (size_t)snprintf(
            b + w, cap - w,
            "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-"
            "0000-4000-8000-0000000000%s\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":"
            "\"2024-01-01T00:00:00.000Z\",\"name\":\"ind %s\",\"pattern\":\"%s\",\"pattern_type\":"
            "\"stix\",\"valid_from\":\"%s\"%s}\n",
            i ? "," : "", iocs[i].n, iocs[i].n, iocs[i].pattern,
            iocs[i].from != NULL ? iocs[i].from : "2024-01-01T00:00:00Z", iocs[i].extra);
    snprintf(b + w, cap - w, "]}\n");
    return b;
}

/* The logs: name, content, and the hits expected as "line:indicator-suffix" in order. */
struct logcase {
    const char *name;
    const char *text;
    const char *want; /* "2:01 3:04" */
};

/* 2024-05-06T12:00:00Z = 1714996800 */
static const struct logcase logs[] = {
    {"squid.log",
     "1714996800.100     50 10.0.0.5 TCP_MISS/200 512 GET http://ok.example/ - HIER_DIRECT/1.2.3.4 "
     "text/html\n"
     "1714996800.200     50 10.0.0.5 TCP_MISS/200 512 GET http://ok.example/ - "
     "HIER_DIRECT/11.2.3.45 text/html\n"
     "1714996800.300     50 10.0.0.5 TCP_TUNNEL/200 512 CONNECT a.b.EVIL.example:443 - "
     "HIER_DIRECT/5.5.5.5 -\n"
     "1714996800.400     50 10.0.0.5 TCP_TUNNEL/200 512 CONNECT notevil.example:443 - "
     "HIER_DIRECT/5.5.5.5 -\n"
     "1714996800.500     50 10.0.0.5 TCP_MISS/200 512 GET HTTP://Bad.Example:80/x.php - "
     "HIER_DIRECT/5.5.5.6 text/html\n"
     "1714996800.600     50 10.0.0.5 TCP_MISS/200 512 GET http://bad.example/x.php?t=1 - "
     "HIER_DIRECT/5.5.5.6 text/html\n"
     "1714996800.700     50 10.20.3.4 TCP_MISS/200 512 GET http://pre.example/dl/a.exe - "
     "HIER_DIRECT/5.5.5.7 text/html\n"
     "1714996800.800     50 10.0.0.5 TCP_MISS/200 512 GET https://x.tracker.example/p - "
     "HIER_DIRECT/9.9.9.9 text/html\n"
     "1714996800.900     50 10.0.0.5 TCP_MISS/200 512 GET http://later.example/ - "
     "HIER_DIRECT/8.8.4.4 text/html\n",
     "1:01 3:04 5:05 7:02 7:06 8:09"},
    {"dns.log",
     "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
     "#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\n"
     "#types\ttime\tstring\taddr\taddr\tstring\tvector[string]\n"
     "1714996801.000000\tC1\t10.0.0.7\t10.0.0.53\twww.evil.example\t1.2.3.4,5.5.5.5\n"
     "1714996801.100000\tC2\t10.0.0.7\t10.0.0.53\tok.example\t2001:db8::1\n"
     "1714996801.200000\tC3\t10.0.0.7\t10.0.0.53\tok.example\t2001:db8::10\n"
     "1714996801.300000\tC4\t172.16.5.77\t10.0.0.53\tok.example\t-\n"
     "#close\t2024-05-06-12-00-02\n",
     "8:04 8:01 9:03 11:13"},
    {"fw.jsonl",
     "{\"timestamp\":\"2024-05-06T12:00:02.000Z\",\"src_ip\":\"10.0.0.8\",\"dst_ip\":\"1.2.3.4\"}\n"
     "{\"timestamp\":\"2024-05-06T12:00:02.100Z\",\"src_ip\":\"10.0.0.8\",\"dst_ip\":\"1.2.3.40\","
     "\"file_sha256\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}\n"
     "{\"timestamp\":\"2024-05-06T12:00:02.200Z\",\"from\":\"phish@evil.example\","
     "\"url\":\"http:\\/\\/bad.example\\/x.php\"}\n",
     "1:01 2:07 3:08 3:04 3:05"},
    {"access.csv",
     "time,client,host,md5\n"
     "2024-05-06T12:00:03Z,10.0.0.9,ok.example,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
     "2024-05-06T12:00:04Z,\"10.20.255.255\",\"notevil.example\",-\n",
     "2:15 3:02"},
    {"access.log",
     "10.20.1.1 - - [06/May/2024:12:00:05 +0000] \"GET /index.html HTTP/1.1\" 200 512 "
     "\"http://bad.example/x.php\" \"Mozilla/5.0\"\n"
     "11.2.3.45 - - [06/May/2024:12:00:06 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"curl/8\"\n",
     "1:02 1:05"},
    {"messages",
     "May  6 12:00:07 fw1 kernel: DROP SRC=1.2.3.4 DST=10.0.0.1 proto=TCP\n"
     "May  6 12:00:08 fw1 sshd[99]: Failed password for root from 11.2.3.45 port 22\n"
     "May  6 12:00:09 fw1 postfix[7]: reject: from=<phish@evil.example> to=<a@ok.example>\n",
     "1:01 3:08 3:04"},
    {"notes.txt",
     "seen 1.2.3.4, and (evil.example) plus 1.2.3.4.5 and v1.2.3.4\n"
     "nothing here: 11.2.3.45 notevil.example http://ok.example/evil.example\n",
     "1:01 1:04"},
};

static bool write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL && fwrite(text, 1, n, f) == n;

    if (f != NULL && fclose(f) != 0)
        ok = false;
    return ok;
}

static int setup(void **state)
{
    static struct world w;
    struct h_node *n = &w.node;

    memset(&w, 0, sizeof w);
    if (!h_node_init(n, "CSA Singapore") ||
        !h_node_collection(n, "Indicators", "iocs", NULL, w.coll) ||
        !h_node_collection(n, "Sightings", "sightings", NULL, w.reports) ||
        !h_node_grant(n, w.reports, "CSA Singapore", true, true) ||
        !h_node_key(n, "CSA Singapore", "analyst", w.token))
        return -1;
    snprintf(w.bundle, sizeof w.bundle, "%s/iocs.json", n->dir);
    char *bt = bundle_text();
    bool ok = bt != NULL && write_file(w.bundle, bt, strlen(bt));

    free(bt);
    if (!ok)
        return -1;
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        char p[PATH_MAX + 64];

        snprintf(p, sizeof p, "%s/%s", n->dir, logs[i].name);
        if (!write_file(p, logs[i].text, strlen(logs[i].text)))
            return -1;
    }
    W = &w;
    *state = &w;
    return 0;
}

/* The hits of out as "line:suffix" words for file (basename), in order. */
static void hits_of(const char *out, const char *file, char *dst, size_t cap)
{
    json_error_t e;
    size_t w = 0;

    dst[0] = '\0';
    for (const char *p = out; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        json_t *j = json_loadb(p, n, 0, &e);

        assert_non_null(j);
        const char *f = json_string_value(json_object_get(j, "file"));
        const char *ind = json_string_value(json_object_get(j, "indicator"));
        const char *base = f != NULL ? strrchr(f, '/') : NULL;

        assert_non_null(f);
        assert_non_null(ind);
        assert_true(json_is_integer(json_object_get(j, "line")));
        assert_non_null(json_object_get(j, "time"));
        assert_true(json_is_string(json_object_get(j, "observable")));
        assert_true(json_is_string(json_object_get(j, "name")));
        if (strcmp(base != NULL ? base + 1 : f, file) == 0 && w + 32 < cap)
            w += (size_t)snprintf(dst + w, cap - w, "%s%lld:%s", w ? " " : "",
                                  (long long)json_integer_value(json_object_get(j, "line")),
                                  ind + strlen(ind) - 2);
        json_decref(j);
        p = nl != NULL ? nl + 1 : NULL;
    }
}

static void test_formats(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        struct h_proc p;
        char path[PATH_MAX + 64], got[1024];

        snprintf(path, sizeof path, "%s/%s", W->node.dir, logs[i].name);
        assert_true(h_ctix(&p, "scan", "--indicators", W->bundle, path, NULL));
        if (p.code != 0)
            fprintf(stderr, "%s: %s", logs[i].name, p.err);
        assert_int_equal(p.code, 0);
        hits_of(p.out, logs[i].name, got, sizeof got);
        if (strcmp(got, logs[i].want) != 0)
            fprintf(stderr, "%s: got '%s', want '%s'\n", logs[i].name, got, logs[i].want);
        assert_string_equal(got, logs[i].want);
        h_proc_cleanup(&p);
    }
}

/* The same logs compressed, all in one run on two threads, and from stdin. */
static void test_compressed_and_stdin(void **state)
{
    char cmd[6 * PATH_MAX], got[1024];
    struct h_proc p;
    const char *d = W->node.dir;

    (void)state;
    snprintf(cmd, sizeof cmd,
             "gzip -c %s/squid.log > %s/squid.log.gz && zstd -q -c %s/dns.log > %s/dns.log.zst", d,
             d, d, d);
    assert_true(h_sh(cmd));
    snprintf(cmd, sizeof cmd, "%s/squid.log.gz", d);
    char zst[PATH_MAX + 32];
    snprintf(zst, sizeof zst, "%s/dns.log.zst", d);
    assert_true(h_ctix(&p, "scan", "--threads", "2", "--indicators", W->bundle, cmd, zst, NULL));
    assert_int_equal(p.code, 0);
    hits_of(p.out, "squid.log.gz", got, sizeof got);
    assert_string_equal(got, logs[0].want);
    hits_of(p.out, "dns.log.zst", got, sizeof got);
    assert_string_equal(got, logs[1].want);
    h_proc_cleanup(&p);

    /* stdin: h_ctix gives /dev/null, so a shell pipes the file in. */
    snprintf(cmd, sizeof cmd, "%s scan --quiet --indicators %s - < %s/notes.txt > %s/stdin.out",
             getenv("CTIX_BIN") ? getenv("CTIX_BIN") : "build/rel/ctix", W->bundle, d, d);
    assert_true(h_sh(cmd));
    snprintf(cmd, sizeof cmd, "%s/stdin.out", d);
    char *out = h_file_read(cmd, NULL);
    assert_non_null(out);
    hits_of(out, "(stdin)", got, sizeof got);
    assert_string_equal(got, logs[6].want);
    free(out);
}

/* A UTF-8 byte order mark before the first line (as spreadsheets write CSV files) is no part of
 * it: a Zeek header, a JSON line and a CSV header after one read as without it, whether the file
 * is mapped or read in blocks (decompressed; a pipe goes the same way). */
static void test_byte_order_mark(void **state)
{
    static const size_t which[] = {1, 2, 3}; /* dns.log, fw.jsonl, access.csv */
    const char *d = W->node.dir;

    (void)state;
    for (size_t k = 0; k < sizeof(which) / sizeof(which[0]); k++) {
        const struct logcase *lc = &logs[which[k]];
        size_t n = strlen(lc->text);
        char *text = malloc(n + 3), path[PATH_MAX + 64], name[64], cmd[4 * PATH_MAX], got[1024];
        struct h_proc p;

        assert_non_null(text);
        memcpy(text, "\xef\xbb\xbf", 3);
        memcpy(text + 3, lc->text, n);
        snprintf(name, sizeof name, "bom-%s", lc->name);
        snprintf(path, sizeof path, "%s/%s", d, name);
        assert_true(write_file(path, text, n + 3));
        free(text);
        /* mapped */
        assert_true(h_ctix(&p, "scan", "--indicators", W->bundle, path, NULL));
        if (p.code != 0)
            fprintf(stderr, "%s: %s", name, p.err);
        assert_int_equal(p.code, 0);
        hits_of(p.out, name, got, sizeof got);
        assert_string_equal(got, lc->want);
        /* each record's time read from its field: the JSON line and the CSV header (its first
         * column is the time's) taken as what they are, not as text after three odd bytes */
        assert_null(strstr(p.out, "\"time\":null"));
        h_proc_cleanup(&p);
        /* decompressed (read in blocks) */
        snprintf(cmd, sizeof cmd, "gzip -c %s > %s.gz", path, path);
        assert_true(h_sh(cmd));
        snprintf(cmd, sizeof cmd, "%s.gz", path);
        assert_true(h_ctix(&p, "scan", "--indicators", W->bundle, cmd, NULL));
        assert_int_equal(p.code, 0);
        snprintf(name, sizeof name, "bom-%s.gz", lc->name);
        hits_of(p.out, name, got, sizeof got);
        assert_string_equal(got, lc->want);
        assert_null(strstr(p.out, "\"time\":null"));
        h_proc_cleanup(&p);
    }
}

/* Each bad input is named with its file (and line), the others are scanned, exit 3. */
static void test_bad_input(void **state)
{
    char cmd[6 * PATH_MAX], got[1024];
    char trunc[PATH_MAX + 32], longl[PATH_MAX + 32], bin[PATH_MAX + 32], lies[PATH_MAX + 32];
    char empty[PATH_MAX + 32], gone[PATH_MAX + 32], good[PATH_MAX + 32], utf[PATH_MAX + 32];
    char huge[PATH_MAX + 32];
    struct h_proc p;
    const char *d = W->node.dir;

    (void)state;
    snprintf(trunc, sizeof trunc, "%s/trunc.log.gz", d);
    snprintf(cmd, sizeof cmd,
             "seq 1 200000 | sed 's/$/ 1.2.3.4/' | gzip -c 2>/dev/null | head -c 30000 > %s",
             trunc);
    assert_true(h_sh(cmd));
    snprintf(longl, sizeof longl, "%s/long.log", d);
    snprintf(cmd, sizeof cmd,
             "(echo 'first 1.2.3.4'; head -c 2000000 /dev/zero | tr '\\0' a; echo; "
             "echo 'after 1.2.3.4') > %s",
             longl);
    assert_true(h_sh(cmd));
    /* a line longer than the reader's 4 MB blocks, and one at the very end without a newline */
    snprintf(huge, sizeof huge, "%s/huge.log", d);
    snprintf(cmd, sizeof cmd,
             "(echo 'first 1.2.3.4'; head -c 9000000 /dev/zero | tr '\\0' a; echo; "
             "echo 'after 1.2.3.4'; head -c 5000000 /dev/zero | tr '\\0' b) > %s",
             huge);
    assert_true(h_sh(cmd));
    snprintf(bin, sizeof bin, "%s/bin.log", d);
    static const char binary[] = "ok 1.2.3.4\n\x00\x01\x02 1.2.3.4\x00\n\x7f"
                                 "ELF\n";
    assert_true(write_file(bin, binary, sizeof binary - 1));
    snprintf(utf, sizeof utf, "%s/utf.log", d);
    static const char badutf[] = "caf\xc3\xa9 1.2.3.4\nbad \xff\xfe 1.2.3.4\n";
    assert_true(write_file(utf, badutf, sizeof badutf - 1));
    snprintf(lies, sizeof lies, "%s/lies.log", d);
    static const char liar[] = "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tquery\n"
                               "#types\ttime\taddr\taddr\tstring\n"
                               "1714996801.0\t10.0.0.1\t1.2.3.4\n"
                               "1714996802.0\t10.0.0.1\t1.2.3.4\tx.example\n";
    assert_true(write_file(lies, liar, sizeof liar - 1));
    snprintf(empty, sizeof empty, "%s/empty.log", d);
    assert_true(write_file(empty, "", 0));
    snprintf(gone, sizeof gone, "%s/no-such.log", d);
    snprintf(good, sizeof good, "%s/notes.txt", d);
    /* plain files mapped, then read (CTIX_SCAN_NOMAP): the same outcome */
    for (int mode = 0; mode < 2; mode++) {
        if (mode == 1)
            setenv("CTIX_SCAN_NOMAP", "1", 1);
        assert_true(h_ctix(&p, "scan", "--indicators", W->bundle, trunc, longl, bin, utf, lies,
                           empty, gone, good, huge, NULL));
        assert_int_equal(p.code, 3);
        fprintf(stderr, "%s", p.err);
        /* the good file and the good parts of the bad ones are scanned */
        hits_of(p.out, "notes.txt", got, sizeof got);
        assert_string_equal(got, logs[6].want);
        hits_of(p.out, "long.log", got, sizeof got);
        assert_string_equal(got, "1:01 3:01");
        hits_of(p.out, "huge.log", got, sizeof got);
        assert_string_equal(got, "1:01 3:01");
        snprintf(cmd, sizeof cmd, "%s:2: line longer than 1 MiB", huge);
        assert_non_null(strstr(p.err, cmd));
        snprintf(cmd, sizeof cmd, "%s:4: line longer than 1 MiB", huge);
        assert_non_null(strstr(p.err, cmd));
        hits_of(p.out, "bin.log", got, sizeof got);
        assert_string_equal(got, "1:01");
        hits_of(p.out, "utf.log", got, sizeof got);
        assert_string_equal(got, "1:01 2:01");
        hits_of(p.out, "lies.log", got, sizeof got);
        assert_string_equal(got, "5:01");
        hits_of(p.out, "trunc.log.gz", got, sizeof got);
        assert_true(strncmp(got, "1:01 2:01 3:01", 14) == 0);
        /* and each problem is named */
        snprintf(cmd, sizeof cmd, "%s: after line", trunc);
        assert_non_null(strstr(p.err, cmd));
        assert_non_null(strstr(p.err, "truncated gzip"));
        snprintf(cmd, sizeof cmd, "%s:2: line longer than 1 MiB", longl);
        assert_non_null(strstr(p.err, cmd));
        snprintf(cmd, sizeof cmd, "%s:2: binary data", bin);
        assert_non_null(strstr(p.err, cmd));
        snprintf(cmd, sizeof cmd, "%s:2: invalid UTF-8", utf);
        assert_non_null(strstr(p.err, cmd));
        snprintf(cmd, sizeof cmd, "%s:4: 3 fields where the #fields header names 4", lies);
        if (strstr(p.err, cmd) == NULL) {
            snprintf(cmd, sizeof cmd, "%s:4: ", lies);
            assert_non_null(strstr(p.err, cmd));
        }
        snprintf(cmd, sizeof cmd, "%s: No such file or directory", gone);
        assert_non_null(strstr(p.err, cmd));
        h_proc_cleanup(&p);
    }
    unsetenv("CTIX_SCAN_NOMAP");

    /* a CSV line with nothing listed but an odd number of quotes: the sieve lets it go only
     * when its quotes pair up, so its reader still names it (an index of plain values: the
     * bundle above has patterns no sieve can take, and every line is read) */
    {
        char csv[PATH_MAX + 32], one[PATH_MAX + 32];
        static const char quoted[] = "time,src,host\n"
                                     "2024-05-06T12:00:00Z,1.2.3.4,a.example\n"
                                     "2024-05-06T12:00:01Z,\"10.9.9.9,b.example\n"
                                     "2024-05-06T12:00:02Z,10.9.9.7,\"c.example\"\n";
        static const char plain[] =
            "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000002\","
            "\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
            "\"indicator--00000000-0000-4000-8000-000000000001\",\"created\":"
            "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
            "\"name\":\"ind 01\",\"pattern\":\"[ipv4-addr:value = "
            "'1.2.3.4']\",\"pattern_type\":\"stix\","
            "\"valid_from\":\"2024-01-01T00:00:00Z\"}]}\n";

        snprintf(csv, sizeof csv, "%s/quoted.csv", d);
        assert_true(write_file(csv, quoted, sizeof quoted - 1));
        snprintf(one, sizeof one, "%s/one.json", d);
        assert_true(write_file(one, plain, sizeof plain - 1));
        assert_true(h_ctix(&p, "scan", "--format", "csv", "--indicators", one, csv, NULL));
        assert_int_equal(p.code, 3);
        hits_of(p.out, "quoted.csv", got, sizeof got);
        assert_string_equal(got, "2:01");
        snprintf(cmd, sizeof cmd, "%s:3: unterminated quoted CSV field 2", csv);
        assert_non_null(strstr(p.err, cmd));
        snprintf(cmd, sizeof cmd, "%s:4:", csv);
        assert_null(strstr(p.err, cmd));
        h_proc_cleanup(&p);
        /* the same for a Zeek line whose field count is not its header's */
        static const char zeek[] = "#separator \\x09\n#fields\tts\tid.orig_h\tquery\n"
                                   "1714996801.0\t10.0.0.1\n"
                                   "1714996802.0\t10.0.0.1\tx.example\n";

        snprintf(csv, sizeof csv, "%s/short.log", d);
        assert_true(write_file(csv, zeek, sizeof zeek - 1));
        assert_true(h_ctix(&p, "scan", "--indicators", one, csv, NULL));
        assert_int_equal(p.code, 3);
        snprintf(cmd, sizeof cmd, "%s:3: 2 fields where the #fields header names 3", csv);
        assert_non_null(strstr(p.err, cmd));
        snprintf(cmd, sizeof cmd, "%s:4:", csv);
        assert_null(strstr(p.err, cmd));
        h_proc_cleanup(&p);
    }

    /* nothing bad: exit 0; an unknown format or no indicators: usage */
    assert_true(h_ctix(&p, "scan", "--indicators", W->bundle, empty, NULL));
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);
    assert_true(h_ctix(&p, "scan", "--format", "nope", "--indicators", W->bundle, good, NULL));
    assert_int_equal(p.code, 2);
    h_proc_cleanup(&p);
    assert_true(h_ctix(&p, "scan", good, NULL));
    assert_int_equal(p.code, 2);
    h_proc_cleanup(&p);
    /* a bundle that is not JSON: named with its line, nothing scanned */
    assert_true(h_ctix(&p, "scan", "--indicators", good, good, NULL));
    assert_int_equal(p.code, 1);
    assert_non_null(strstr(p.err, good));
    h_proc_cleanup(&p);
}

/* NUL bytes and invalid UTF-8 far from a block's start (the sieve tells the reader which
 * batches of lines hold such bytes): reported at their lines, the rest read. */
static void test_bad_bytes_later(void **state)
{
    char path[PATH_MAX + 32], cmd[2 * PATH_MAX + 256], got[256];
    struct h_proc p;

    (void)state;
    snprintf(path, sizeof path, "%s/later.log", W->node.dir);
    snprintf(cmd, sizeof cmd,
             "awk 'BEGIN { for (i = 1; i <= 300; i++) {"
             " if (i == 150) printf \"x %%c y 1.2.3.4\\n\", 0;"
             " else if (i == 170) printf \"z \\303( 1.2.3.4\\n\";"
             " else if (i == 290) printf \"w \\342\\202 tail\\n\";"
             " else printf \"line %%d 10.0.0.%%d ok.example.com\\n\", i, i %% 250 } }' > %s",
             path);
    assert_true(h_sh(cmd));
    assert_true(h_ctix(&p, "scan", "--indicators", W->bundle, path, NULL));
    assert_int_equal(p.code, 3);
    hits_of(p.out, "later.log", got, sizeof got);
    assert_string_equal(got, "170:01");
    snprintf(cmd, sizeof cmd, "%s:150: binary data", path);
    assert_non_null(strstr(p.err, cmd));
    snprintf(cmd, sizeof cmd, "%s:170: invalid UTF-8", path);
    assert_non_null(strstr(p.err, cmd));
    snprintf(cmd, sizeof cmd, "%s:290: invalid UTF-8", path);
    assert_non_null(strstr(p.err, cmd));
    h_proc_cleanup(&p);
}

/* Indicators from the node's store; sightings as a bundle and into a collection, over TAXII. */
static void test_sightings(void **state)
{
    char path[PATH_MAX + 64], sfile[PATH_MAX + 64];
    struct h_proc p;
    struct h_server srv;
    struct h_resp r;
    json_error_t e;

    (void)state;
    assert_true(
        h_ctix(&p, "import", "--data", W->node.data, "--collection", W->coll, W->bundle, NULL));
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);
    snprintf(path, sizeof path, "%s/squid.log", W->node.dir);
    snprintf(sfile, sizeof sfile, "%s/sightings.json", W->node.dir);
    assert_true(h_ctix(&p, "scan", "--data", W->node.data, "--collection", "iocs", "--sightings",
                       sfile, "--report-to", "sightings", path, NULL));
    if (p.code != 0)
        fprintf(stderr, "%s", p.err);
    assert_int_equal(p.code, 0);
    h_proc_cleanup(&p);

    json_t *b = json_load_file(sfile, 0, &e);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "type")), "bundle");
    json_t *objs = json_object_get(b, "objects"), *o;
    size_t i, n_sight = 0, n_od = 0, n_ident = 0;
    json_array_foreach(objs, i, o)
    {
        const char *t = json_string_value(json_object_get(o, "type"));

        n_ident += strcmp(t, "identity") == 0;
        n_od += strcmp(t, "observed-data") == 0;
        if (strcmp(t, "sighting") == 0) {
            n_sight++;
            assert_true(json_integer_value(json_object_get(o, "count")) >= 1);
            assert_non_null(json_object_get(o, "first_seen"));
            assert_non_null(json_object_get(o, "last_seen"));
            assert_true(json_array_size(json_object_get(o, "where_sighted_refs")) == 1);
            assert_true(json_array_size(json_object_get(o, "observed_data_refs")) >= 1);
            assert_non_null(strstr(json_string_value(json_object_get(o, "sighting_of_ref")),
                                   "indicator--00000000-0000-4000-8000-0000000000"));
        }
    }
    assert_int_equal(n_ident, 1);
    assert_int_equal(n_sight, 6); /* 01 04 05 02 06 09, 09 evaluated */
    (void)n_od;
    json_decref(b);

    assert_true(h_server_start(&srv, &W->node, NULL, NULL));
    assert_true(h_getf(&srv, W->token, &r, "/api/collections/%s/objects/?match[type]=sighting",
                       W->reports));
    H_ASSERT_TAXII(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "objects")), 6);
    h_resp_cleanup(&r);
    h_server_stop(&srv, 15);
}

/* Patterns over a record's connection: each hits exactly the lines whose connection shows it —
 * not a line with the address on the other side, with the port at the other end, or with the
 * address elsewhere in the record. */
static void test_conn(void **state)
{
    static const char bundle[] =
        "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000002\","
        "\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
        "00000000-0000-4000-8000-0000000000c1\",\"name\":\"c1\",\"created\":\"2024-01-01T00:00:00."
        "000Z\","
        "\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"[network-traffic:dst_ref.value "
        "= '198.51.100.7' AND network-traffic:dst_port = 4444]\",\"pattern_type\":\"stix\","
        "\"valid_from\":\"2024-01-01T00:00:00Z\"},{\"type\":\"indicator\",\"spec_version\":"
        "\"2.1\",\"id\":\"indicator--00000000-0000-4000-8000-0000000000c2\",\"name\":\"c2\","
        "\"created\":\"2024-"
        "01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"["
        "network-traffic:src_ref.value = '10.0.0.5' AND network-traffic:dst_ref.value ISSUBSET "
        "'203.0.113.0/24' AND network-traffic:protocols[*] = 'tcp']\",\"pattern_type\":\"stix\","
        "\"valid_from\":\"2024-01-01T00:00:00Z\"}]}\n";
    static const char conn_log[] =
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        "#path\tconn\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\n"
        "1714996801.000000\tC1\t10.0.0.5\t51000\t198.51.100.7\t4444\ttcp\t-\n"
        "1714996801.100000\tC2\t198.51.100.7\t4444\t10.0.0.5\t51000\ttcp\t-\n"
        "1714996801.200000\tC3\t10.0.0.5\t4444\t198.51.100.7\t443\ttcp\tssl\n"
        "1714996801.300000\tC4\t10.0.0.5\t51001\t203.0.113.80\t53\ttcp\tdns\n"
        "1714996801.400000\tC5\t10.0.0.5\t51001\t203.0.113.80\t53\tudp\tdns\n"
        "1714996801.500000\tC6\t10.0.0.6\t51001\t203.0.113.80\t53\ttcp\tdns\n"
        "#close\t2024-05-06-12-00-02\n";
    static const char fw_log[] =
        "{\"timestamp\":\"2024-05-06T12:00:02.000Z\",\"src_ip\":\"10.0.0.8\",\"src_port\":1,"
        "\"dst_ip\":\"198.51.100.7\",\"dst_port\":4444,\"proto\":\"tcp\"}\n"
        "{\"timestamp\":\"2024-05-06T12:00:02.100Z\",\"src_ip\":\"10.0.0.8\",\"src_port\":1,"
        "\"dst_ip\":\"198.51.100.8\",\"dst_port\":4444,\"note\":\"198.51.100.7\"}\n"
        "{\"timestamp\":\"2024-05-06T12:00:02.200Z\",\"src_ip\":\"10.0.0.5\",\"src_port\":1,"
        "\"dst_ip\":\"203.0.113.1\",\"dst_port\":443,\"proto\":6}\n"
        "{\"timestamp\":\"2024-05-06T12:00:02.300Z\",\"src_ip\":\"203.0.113.1\",\"dst_ip\":"
        "\"10.0.0.5\",\"proto\":\"tcp\"}\n";
    char bpath[PATH_MAX + 64], cpath[PATH_MAX + 64], fpath[PATH_MAX + 64], got[256];
    struct h_proc p;

    (void)state;
    snprintf(bpath, sizeof bpath, "%s/conn-iocs.json", W->node.dir);
    snprintf(cpath, sizeof cpath, "%s/conn.log", W->node.dir);
    snprintf(fpath, sizeof fpath, "%s/conn-fw.jsonl", W->node.dir);
    assert_true(write_file(bpath, bundle, strlen(bundle)));
    assert_true(write_file(cpath, conn_log, strlen(conn_log)));
    assert_true(write_file(fpath, fw_log, strlen(fw_log)));
    assert_true(h_ctix(&p, "scan", "--indicators", bpath, cpath, fpath, NULL));
    if (p.code != 0)
        fprintf(stderr, "%s", p.err);
    assert_int_equal(p.code, 0);
    hits_of(p.out, "conn.log", got, sizeof got);
    assert_string_equal(got, "8:c1 11:c2");
    hits_of(p.out, "conn-fw.jsonl", got, sizeof got);
    assert_string_equal(got, "1:c1 3:c2");
    h_proc_cleanup(&p);
}

/* A mapped file that shrinks while it is scanned (its lost pages raise SIGBUS): named with the
 * line scanned up to, the rest of it left, the next input scanned. The indicator is a port only,
 * which makes every record a full evaluation (slow), so the file is still being scanned when it
 * shrinks: the second input is a FIFO, and the reader opens it only after cutting the first. */
static void test_shrinking_file(void **state)
{
    static const char bundle[] =
        "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000003\","
        "\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
        "00000000-0000-4000-8000-0000000000d1\",\"name\":\"d1\",\"created\":\"2024-01-01T00:00:"
        "00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"[network-traffic:"
        "dst_port = 4444]\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}]}"
        "\n";
    static const char line[] = "{\"timestamp\":\"2024-05-06T12:00:02.000Z\",\"src_ip\":"
                               "\"10.0.0.8\",\"dst_ip\":\"198.51.100.7\",\"dst_port\":4444}\n";
    char bpath[PATH_MAX + 64], big[PATH_MAX + 64], fifo[PATH_MAX + 64], cmd[2 * PATH_MAX + 256];
    char got[256];
    const char *argv[] = {"scan", "--threads", "1", "--indicators", bpath, big, fifo, NULL};
    struct h_proc p;
    pid_t pid;
    int st = 0;

    (void)state;
    snprintf(bpath, sizeof bpath, "%s/port-iocs.json", W->node.dir);
    snprintf(big, sizeof big, "%s/shrinking.jsonl", W->node.dir);
    snprintf(fifo, sizeof fifo, "%s/after.fifo", W->node.dir);
    assert_true(write_file(bpath, bundle, strlen(bundle)));
    snprintf(cmd, sizeof cmd,
             "awk 'BEGIN { for (i = 0; i < 100000; i++) printf \"{\\\"timestamp\\\":"
             "\\\"2024-05-06T12:00:02.000Z\\\",\\\"src_ip\\\":\\\"10.0.%%d.%%d\\\","
             "\\\"src_port\\\":%%d,\\\"dst_ip\\\":\\\"198.51.100.7\\\",\\\"dst_port\\\":443}\\n\", "
             "i %% 250, i %% 200, i %% 60000 }' > %s",
             big);
    assert_true(h_sh(cmd));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = -1;

        /* the FIFO opens for writing once ctix has it open for reading */
        for (int i = 0; i < 60000 && fd < 0; i++) {
            fd = open(fifo, O_WRONLY | O_NONBLOCK);
            if (fd < 0)
                usleep(1000);
        }
        if (fd < 0)
            _exit(1);
        if (truncate(big, 4096) != 0)
            _exit(2);
        if (fcntl(fd, F_SETFL, 0) != 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
            _exit(3);
        close(fd);
        _exit(0);
    }
    assert_true(h_ctixv(&p, 120, argv));
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (p.code != 3)
        fprintf(stderr, "%s", p.err);
    assert_int_equal(p.code, 3); /* something skipped, and not killed by SIGBUS */
    snprintf(cmd, sizeof cmd, "%s: after line ", big);
    assert_non_null(strstr(p.err, cmd));
    assert_non_null(strstr(p.err, "the file shrank while it was read"));
    hits_of(p.out, "after.fifo", got, sizeof got);
    assert_string_equal(got, "1:d1");
    h_proc_cleanup(&p);
}

/* Header lines far into an input (a Zeek section opening and closing, a second one with other
 * columns, after a squid log and before JSON lines): blocks past the first are read from the state
 * the blocks before them leave, guessed when several workers read ahead and read again when the
 * guess was wrong. Every way of reading (one to three workers, mapped, read, from a pipe) gives
 * the same hits and no line read as the wrong format. A hit every 2,000 lines: a block read from
 * a wrong state and kept would show (lines with a hit are read in full; a Zeek line read as
 * squid, or with the other section's columns, is reported and the exit code is 3). */
static void test_headers_mid_input(void **state)
{
    enum {
        SECTION = 40000
    }; /* lines a section: each about 3 MB, so changes fall in several
        * of the reader's 4 MB blocks */
    char path[PATH_MAX + 64], cmd[4 * PATH_MAX], want[2048], got[2048];
    const char *bin = getenv("CTIX_BIN") ? getenv("CTIX_BIN") : "build/rel/ctix";
    size_t w = 0;
    unsigned long line = 0;
    FILE *f;
    char *first = NULL;

    (void)state;
    snprintf(path, sizeof path, "%s/sections.log", W->node.dir);
    f = fopen(path, "w");
    assert_non_null(f);
#define WANT(ind)                                                                                  \
    (w += (size_t)snprintf(want + w, sizeof want - w, "%s%lu:%s", w ? " " : "", line, ind))
    for (int i = 0; i < SECTION; i++) {
        line++;
        fprintf(f,
                "1714996800.%03d     50 10.0.%d.%d TCP_MISS/200 512 GET http://ok.example/p%d - "
                "HIER_DIRECT/%s text/html\n",
                i % 1000, i % 250, i % 200, i, i % 2000 == 7 ? "1.2.3.4" : "5.5.5.5");
        if (i % 2000 == 7)
            WANT("01");
    }
    fputs(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
        "#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\n"
        "#types\ttime\tstring\taddr\taddr\tstring\tvector[string]\n",
        f);
    line += 7;
    for (int i = 0; i < SECTION; i++) {
        line++;
        fprintf(f, "1714996801.%06d\tC%d\t10.0.0.7\t10.0.0.53\t%s\t5.5.5.%d,%s\n", i, i,
                i % 2000 == 0 ? "www.evil.example" : "ok.example", i % 200,
                i == SECTION - 1 ? "1.2.3.4" : "5.5.5.5");
        if (i % 2000 == 0)
            WANT("04");
        if (i == SECTION - 1)
            WANT("01");
    }
    fputs("#close\t2024-05-06-12-00-02\n#separator \\x09\n#path\tdns\n"
          "#fields\tts\tuid\tid.orig_h\tquery\n#types\ttime\tstring\taddr\tstring\n",
          f);
    line += 5;
    for (int i = 0; i < SECTION; i++) {
        line++;
        fprintf(f, "1714996802.%06d\tD%d\t10.0.1.%d\t%s\n", i, i, i % 200,
                i % 2000 == 1000 ? "a.evil.example" : "ok.example");
        if (i % 2000 == 1000)
            WANT("04");
    }
    fputs("#close\t2024-05-06-12-00-03\n", f);
    line++;
    for (int i = 0; i < SECTION; i++) {
        line++;
        fprintf(f,
                "{\"timestamp\":\"2024-05-06T12:00:03.%03dZ\",\"src_ip\":\"10.0.2.%d\","
                "\"dst_ip\":\"%s\",\"bytes\":%d}\n",
                i % 1000, i % 200, i % 2000 == 1999 ? "1.2.3.4" : "5.5.5.5", i);
        if (i % 2000 == 1999)
            WANT("01");
    }
#undef WANT
    assert_int_equal(fclose(f), 0);

    for (int way = 0; way < 5; way++) {
        char out[PATH_MAX + 64];
        char *text;

        snprintf(out, sizeof out, "%s/sections.out", W->node.dir);
        if (way < 3)
            snprintf(cmd, sizeof cmd, "%s scan --quiet --threads %d --indicators %s %s > %s", bin,
                     way + 1, W->bundle, path, out);
        else if (way == 3)
            snprintf(cmd, sizeof cmd,
                     "CTIX_SCAN_NOMAP=1 %s scan --quiet --threads 2 --indicators %s %s > %s", bin,
                     W->bundle, path, out);
        else
            snprintf(cmd, sizeof cmd, "cat %s | %s scan --quiet --threads 3 --indicators %s - > %s",
                     path, bin, W->bundle, out);
        /* (exit 0: no line was read as something it is not) */
        assert_true(h_sh(cmd));
        text = h_file_read(out, NULL);
        assert_non_null(text);
        hits_of(text, way == 4 ? "(stdin)" : "sections.log", got, sizeof got);
        if (strcmp(got, want) != 0)
            fprintf(stderr, "way %d: got '%s', want '%s'\n", way, got, want);
        assert_string_equal(got, want);
        /* every line has its time (a Zeek line read as another format has none) */
        assert_null(strstr(text, "\"time\":null"));
        if (way == 0)
            first = text;
        else if (way < 4)
            assert_string_equal(text, first); /* the same, byte for byte */
        if (way > 0)
            free(text);
    }
    free(first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),         cmocka_unit_test(test_compressed_and_stdin),
        cmocka_unit_test(test_bad_input),       cmocka_unit_test(test_bad_bytes_later),
        cmocka_unit_test(test_sightings),       cmocka_unit_test(test_conn),
        cmocka_unit_test(test_shrinking_file),  cmocka_unit_test(test_headers_mid_input),
        cmocka_unit_test(test_byte_order_mark),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
