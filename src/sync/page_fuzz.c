/* Fuzz target: arbitrary bytes as a peer's answer to an objects GET — optional header lines
 * ("Content-Type: …", "X-TAXII-Date-Added-Last: …") up to an empty line, then the body — through
 * the strict page parser and, when it passes, sync__receive (with the body's spans) into a
 * temporary store (one peer, one pulled collection, its key trusted). Whatever the input: never a
 * crash, and either the page is refused or it is stored whole with its cursor. */
#include "sync/sync.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sync/sync_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COLL "6b6a7b1e-4a1c-4d2e-9f00-0000000000f1"

static char dir[64];
static struct store *st;
static struct sync_node node;
static int64_t peer_id;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    store_close(st);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void init(void)
{
    struct store_collection c;
    struct store_peer p;
    struct prov_key *k = NULL;
    struct ctix_diag d;
    char data_dir[128];
    int64_t org = 0;

    snprintf(dir, sizeof(dir), "/tmp/ctix-syncfuzz-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(data_dir, sizeof(data_dir), "%s/data", dir);
    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "%s", COLL);
    snprintf(c.title, sizeof(c.title), "fuzz");
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "sg");
    snprintf(p.url, sizeof(p.url), "http://127.0.0.1:1/");
    if (store_open(data_dir, true, &st, &d) != CTIX_OK || store_collection_add(st, &c) != CTIX_OK ||
        store_org_add(st, "NISC Japan", NULL) != CTIX_OK ||
        store_meta_set(st, "node_org", "NISC Japan") != CTIX_OK ||
        store_org_add(st, "CSA Singapore", &org) != CTIX_OK || prov_key_generate(&k) != CTIX_OK)
        abort();
    p.org_id = org;
    prov_pubkey_format(prov_key_public(k), p.pubkey);
    prov_key_free(k);
    if (store_peer_add(st, &p, &peer_id) != CTIX_OK ||
        store_peer_coll_add(st, peer_id, COLL, STORE_DIR_PULL) != CTIX_OK ||
        sync_node_load(&node, st, &d) != CTIX_OK)
        abort();
    ctix_log_set_level(CTIX_LOG_OFF);
    atexit(cleanup);
}

/* Copies the value of header name from the head (lines up to the empty one) into out. */
static void header_get(const char *head, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name), i = 0;

    out[0] = '\0';
    while (i < len) {
        const char *line = head + i;
        const char *eol = memchr(line, '\n', len - i);
        size_t ll = eol != NULL ? (size_t)(eol - line) : len - i;

        if (ll > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            size_t vl = ll - nl - 1;
            const char *v = line + nl + 1;

            while (vl > 0 && *v == ' ') {
                v++;
                vl--;
            }
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
        }
        i += ll + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    const char *text = (const char *)data;
    const char *sep = NULL;
    char ctype[128] = "application/taxii+json;version=2.1", last[64] = "";
    struct sync_page pg;
    struct sync_recv_counts c;
    struct ctix_diag d;
    size_t body_off = 0;

    if (!ready) {
        init();
        ready = 1;
    }
    /* Headers only when the input starts with one: "X…: " or "C…: ". */
    if (size > 2 && (text[0] == 'C' || text[0] == 'X'))
        sep = memmem(text, size, "\n\n", 2);
    if (sep != NULL) {
        header_get(text, (size_t)(sep - text), "Content-Type", ctype, sizeof(ctype));
        header_get(text, (size_t)(sep - text), "X-TAXII-Date-Added-Last", last, sizeof(last));
        body_off = (size_t)(sep - text) + 2;
    }
    if (sync__page_parse(text + body_off, size - body_off, ctype, last, &pg, &d) == CTIX_OK) {
        struct store_cursor_in cur = {.peer_id = peer_id, .cursor_us = pg.last_us};
        struct sync__verify vf;
        enum ctix_rc rc = sync__verify_init(st, &vf);

        /* As the pull does: the body's own text of each object is what is stored. */
        if (rc == CTIX_OK)
            rc = sync__receive(&node, COLL, pg.objects, text + body_off, pg.spans, peer_id,
                               pg.last_us >= 0 ? &cur : NULL, &vf, &c, &d);
        sync__verify_cleanup(&vf);

        if (rc == CTIX_OK && c.total != json_array_size(pg.objects))
            abort();
        if (rc == CTIX_OK && c.stored + c.duplicate + c.rejected > c.total)
            abort();
        sync__page_cleanup(&pg);
    }
    return 0;
}
