/* ctix demo-data: generates a joint-operation scenario — CSA Singapore and NISC Japan take down the
 * C2 network of a fictional intrusion set — and stores it through taxii_objects_add(), the same
 * ingest path as POST …/objects/, so the demo exercises validation and the store exactly as a
 * client would.
 *
 * Everything is invented here: no third-party data. Network indicators use only the documentation
 * ranges (RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849: 2001:db8::/32) and
 * names only the reserved RFC 2606 domains (.example, example.org, …), so nothing the demo prints
 * can ever point at a real host. Output is deterministic for a seed: ids come from our own seeded
 * generator (formatted as UUIDv4), timestamps from a fixed 2026 timeline. */
#include "cli/cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/base.h"
#include "prov/prov.h"
#include "stix/stix.h"
#include "store/store.h"
#include "sync/sync.h"
#include "taxii/taxii.h"

/* Shared with demo_test.c (the one other file that calls it): generates the whole scenario for
 * seed and n_servers and hands each object to sink, which takes ownership of it (also on failure).
 * Stops at the first error sink returns, or CTIX_ENOMEM. */
typedef enum ctix_rc (*cli__demo_sink)(void *ctx, json_t *obj);
CTIX_MUST_CHECK enum ctix_rc cli__demo_generate(uint64_t seed, size_t n_servers,
                                                cli__demo_sink sink, void *ctx);

#define DEMO_SERVERS_DEFAULT 9000
#define DEMO_SERVERS_MAX     1000000
#define DEMO_SEED_DEFAULT    2026
#define DEMO_BATCH           1000 /* objects per taxii_objects_add() call: one transaction each */
#define DEMO_CLUSTERS        12   /* C2 clusters, one infrastructure object each */
#define DEMO_SITES           320  /* compromised websites and government-portal lookalikes */
#define DEMO_LOOKALIKES      80   /* of which lookalikes */

/* 2026-01-01T00:00:00Z: every generated timestamp falls in 2026. */
#define DEMO_T0_MS INT64_C(1767225600000)
#define DEMO_DAY   INT64_C(86400000)
#define DEMO_HOUR  INT64_C(3600000)

/* TLP 2.0 marking definitions (OASIS cti-stix-common-objects), written from the standard's text:
 * identical apart from id, name and value. */
#define TLP2_EXT_ID "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
enum demo_tlp { DEMO_CLEAR, DEMO_GREEN, DEMO_AMBER, DEMO_AMBER_STRICT, DEMO_RED, DEMO_N_TLP };
static const struct {
    const char *id, *name, *value;
} tlp2[DEMO_N_TLP] = {
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT",
     "amber+strict"},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"},
};

/* The organisations of the scenario. The CII owners are fictional. */
enum demo_org { ORG_CSA, ORG_NISC, ORG_POWER, ORG_BANK, ORG_TELCO, DEMO_N_ORG };
static const struct {
    const char *name, *description, *sector, *country;
    enum demo_tlp tlp;
} orgs[DEMO_N_ORG] = {
    {"CSA Singapore", "Cyber Security Agency of Singapore, national CERT (SingCERT).",
     "government-national", "SG", DEMO_CLEAR},
    {"NISC Japan", "National center of Incident readiness and Strategy for Cybersecurity, Japan.",
     "government-national", "JP", DEMO_CLEAR},
    {"Merlion Power Grid", "Electricity transmission and distribution operator (CII owner).",
     "utilities", "SG", DEMO_GREEN},
    {"Straits Harbour Bank", "Retail and corporate bank (CII owner).", "financial-services", "SG",
     DEMO_GREEN},
    {"Sakura Link Telecom", "Mobile and fixed-line telecommunications operator (CII owner).",
     "telecommunications", "JP", DEMO_GREEN},
};

enum demo_mw { MW_RAT, MW_LOADER, MW_SHELL, DEMO_N_MW };
static const struct {
    const char *name, *description, *type1, *type2, *lang, *cap1, *cap2;
} malwares[DEMO_N_MW] = {
    {"LanternRAT",
     "Modular remote-access trojan of CORAL LANTERN; beacons over HTTPS to rotating C2 servers.",
     "remote-access-trojan", "backdoor", "c++", "communicates-with-c2", "exfiltrates-data"},
    {"KelpLoader",
     "First-stage downloader delivered from compromised websites; fetches LanternRAT.",
     "downloader", "dropper", "go", "installs-other-components", "evades-av"},
    {"DriftShell", "PHP web shell planted on compromised web servers to serve KelpLoader.",
     "webshell", "backdoor", "php", "accesses-remote-machines", "hides-artifacts"},
};

/* Word lists for the websites: names under RFC 2606 reserved domains only. */
static const char *const site_words[] = {
    "harbour", "lantern", "orchid", "tanjong", "kampong", "sakura",  "kyoto",  "marina",
    "garden",  "bakery",  "travel", "clinic",  "school",  "library", "museum", "ferry",
    "market",  "hawker",  "temple", "studio",  "tennis",  "cycling", "ramen",  "sushi",
    "kopi",    "river",   "island", "summit",  "bridge",  "harvest", "pearl",  "jade",
};
static const char *const site_suffixes[] = {".example", ".example.org", ".example.com",
                                            ".example.net"};
static const char *const site_paths[] = {
    "/wp-content/plugins/cache/jquery.min.js",
    "/assets/js/analytics.js",
    "/images/banner/update.php",
    "/includes/lib/loader.js",
    "/static/fonts/font-loader.js",
    "/news/2026/02/notice.html",
};
static const char *const gov_services[] = {"portal",   "eservices", "tax",     "immigration",
                                           "benefits", "health",    "permits", "visa",
                                           "pension",  "customs",   "license", "grants"};
static const char *const gov_paths[] = {"/login", "/auth/verify", "/account/update",
                                        "/payment/confirm", "/sso/start"};

/* ---- a seeded generator: xoshiro256** seeded through splitmix64 ---- */

struct demo_rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A bijection of 64-bit values (splitmix64's finaliser): distinct inputs give distinct outputs,
 * which is what makes the IPv6 interface ids unique without a set. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void rng_seed(struct demo_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (size_t i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct demo_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform enough in [0, n) for a demo (n is small; the modulo bias is below 2^-40). */
static uint64_t rng_below(struct demo_rng *r, uint64_t n)
{
    return n == 0 ? 0 : rng_next(r) % n;
}

/* ---- the generator ---- */

struct demo_gen {
    struct demo_rng rng;
    cli__demo_sink sink;
    void *ctx;
    enum ctix_rc rc; /* sticky: the first failure */
    uint64_t addr_key;
    char org_id[DEMO_N_ORG][STIX_ID_MAX];
    char mw_id[DEMO_N_MW][STIX_ID_MAX];
    char cluster_id[DEMO_CLUSTERS][STIX_ID_MAX];
    uint16_t cluster_net[DEMO_CLUSTERS]; /* third group of each cluster's IPv6 prefix */
    char infra_web_id[STIX_ID_MAX], infra_gov_id[STIX_ID_MAX];
    char actor_id[STIX_ID_MAX], set_id[STIX_ID_MAX], campaign_id[STIX_ID_MAX];
    json_t *key_refs; /* ids the joint report lists */
    json_t *c2_inds;  /* ids of the C2 indicators, to pick sightings from */
    json_t *gov_inds; /* ids of the lookalike indicators, for the public advisory */
};

static void gen_fail(struct demo_gen *g, enum ctix_rc rc)
{
    if (g->rc == CTIX_OK) {
        g->rc = rc;
    }
}

/* A fresh id: type--UUID with the version 4 and RFC 4122 variant bits set. */
static void gen_id(struct demo_gen *g, const char *type, char out[STIX_ID_MAX])
{
    unsigned char b[16];
    uint64_t hi = rng_next(&g->rng);
    uint64_t lo = rng_next(&g->rng);
    for (size_t i = 0; i < 8; i++) {
        b[i] = (unsigned char)(hi >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char h[33];
    ctix_hex(b, sizeof b, h);
    snprintf(out, STIX_ID_MAX, "%s--%.8s-%.4s-%.4s-%.4s-%.12s", type, h, h + 8, h + 12, h + 16,
             h + 20);
}

/* A STIX timestamp with millisecond precision: "2026-03-02T08:15:30.123Z". */
static void ts_ms(int64_t ms, char out[28])
{
    char full[28];
    ctix_ts_format_us(ms * 1000, full); /* "…SS.ffffffZ": keep the milliseconds */
    snprintf(out, 28, "%.23sZ", full);
}

/* A moment in the publication window (2–27 March 2026), to the millisecond. */
static int64_t gen_pub_time(struct demo_gen *g)
{
    return DEMO_T0_MS + 60 * DEMO_DAY + (int64_t)rng_below(&g->rng, (uint64_t)(25 * DEMO_DAY));
}

static void put(struct demo_gen *g, json_t *o, const char *key, json_t *v)
{
    if (json_object_set_new(o, key, v) != 0) {
        gen_fail(g, CTIX_ENOMEM);
    }
}

static void put_str(struct demo_gen *g, json_t *o, const char *key, const char *s)
{
    put(g, o, key, json_string(s));
}

static void put_ts(struct demo_gen *g, json_t *o, const char *key, int64_t ms)
{
    char ts[28];
    ts_ms(ms, ts);
    put_str(g, o, key, ts);
}

/* A list of one or two strings (b may be NULL). */
static json_t *strs(const char *a, const char *b)
{
    json_t *l = json_array();
    if (l != NULL && a != NULL && json_array_append_new(l, json_string(a)) != 0) {
        json_decref(l);
        l = NULL;
    }
    if (l != NULL && b != NULL && json_array_append_new(l, json_string(b)) != 0) {
        json_decref(l);
        l = NULL;
    }
    return l;
}

static void push_id(struct demo_gen *g, json_t *list, const char *id)
{
    if (json_array_append_new(list, json_string(id)) != 0) {
        gen_fail(g, CTIX_ENOMEM);
    }
}

/* The common properties of an SDO or SRO, first in the object so the JSON reads well. */
static json_t *obj_new(struct demo_gen *g, const char *type, const char *id, const char *creator,
                       int64_t created_ms)
{
    json_t *o = json_object();
    if (o == NULL) {
        gen_fail(g, CTIX_ENOMEM);
        return NULL;
    }
    put_str(g, o, "type", type);
    put_str(g, o, "spec_version", "2.1");
    put_str(g, o, "id", id);
    if (creator != NULL) {
        put_str(g, o, "created_by_ref", creator);
    }
    put_ts(g, o, "created", created_ms);
    put_ts(g, o, "modified", created_ms);
    return o;
}

/* Adds the marking and hands the object to the sink, which owns it from here. */
static void emit(struct demo_gen *g, json_t *o, enum demo_tlp tlp)
{
    if (o == NULL) {
        gen_fail(g, CTIX_ENOMEM);
        return;
    }
    put(g, o, "object_marking_refs", strs(tlp2[tlp].id, NULL));
    if (g->rc != CTIX_OK) {
        json_decref(o);
        return;
    }
    gen_fail(g, g->sink(g->ctx, o));
}

static void emit_rel(struct demo_gen *g, const char *creator, int64_t ms, const char *rtype,
                     const char *src, const char *dst, enum demo_tlp tlp, bool key)
{
    char id[STIX_ID_MAX];
    gen_id(g, "relationship", id);
    json_t *o = obj_new(g, "relationship", id, creator, ms);
    if (o != NULL) {
        put_str(g, o, "relationship_type", rtype);
        put_str(g, o, "source_ref", src);
        put_str(g, o, "target_ref", dst);
    }
    if (key) {
        push_id(g, g->key_refs, id);
    }
    emit(g, o, tlp);
}

static void gen_markings(struct demo_gen *g)
{
    for (size_t i = 0; i < DEMO_N_TLP && g->rc == CTIX_OK; i++) {
        json_t *o = json_object();
        json_t *exts = json_object();
        json_t *ext = json_object();
        if (o == NULL || exts == NULL || ext == NULL) {
            json_decref(o);
            json_decref(exts);
            json_decref(ext);
            gen_fail(g, CTIX_ENOMEM);
            break;
        }
        put_str(g, o, "type", "marking-definition");
        put_str(g, o, "spec_version", "2.1");
        put_str(g, o, "id", tlp2[i].id);
        put_str(g, o, "created", "2022-10-01T00:00:00.000Z");
        put_str(g, o, "name", tlp2[i].name);
        put_str(g, ext, "extension_type", "property-extension");
        put_str(g, ext, "tlp_2_0", tlp2[i].value);
        put(g, exts, TLP2_EXT_ID, ext);
        put(g, o, "extensions", exts);
        /* A marking definition carries no marking of its own here. */
        if (g->rc != CTIX_OK) {
            json_decref(o);
            break;
        }
        gen_fail(g, g->sink(g->ctx, o));
    }
}

static void gen_identities(struct demo_gen *g)
{
    for (size_t i = 0; i < DEMO_N_ORG; i++) {
        gen_id(g, "identity", g->org_id[i]);
    }
    for (size_t i = 0; i < DEMO_N_ORG && g->rc == CTIX_OK; i++) {
        /* The agencies describe themselves; each CII owner is described by its national CERT. */
        const char *creator = g->org_id[i];
        if (i == ORG_POWER || i == ORG_BANK) {
            creator = g->org_id[ORG_CSA];
        } else if (i == ORG_TELCO) {
            creator = g->org_id[ORG_NISC];
        }
        json_t *o = obj_new(g, "identity", g->org_id[i], creator, DEMO_T0_MS + 2 * DEMO_DAY);
        if (o != NULL) {
            put_str(g, o, "name", orgs[i].name);
            put_str(g, o, "description", orgs[i].description);
            put(g, o, "roles", strs(i <= ORG_NISC ? "national-cert" : "cii-owner", NULL));
            put_str(g, o, "identity_class", "organization");
            put(g, o, "sectors", strs(orgs[i].sector, NULL));
            put_str(g, o, "contact_information",
                    orgs[i].country[0] == 'S' ? "Country: SG" : "Country: JP");
        }
        emit(g, o, orgs[i].tlp);
    }
}

static void gen_actors(struct demo_gen *g)
{
    const char *csa = g->org_id[ORG_CSA];
    int64_t t = DEMO_T0_MS + 58 * DEMO_DAY;
    json_t *o;

    gen_id(g, "threat-actor", g->actor_id);
    o = obj_new(g, "threat-actor", g->actor_id, csa, t);
    if (o != NULL) {
        put_str(g, o, "name", "Coral Lantern");
        put_str(g, o, "description",
                "Fictional state-aligned actor targeting energy, finance and telecommunications "
                "operators in South-East and East Asia (demo data).");
        put(g, o, "threat_actor_types", strs("nation-state", "spy"));
        put(g, o, "aliases", strs("CORAL LANTERN", "TA-SGJP-01"));
        put_ts(g, o, "first_seen", DEMO_T0_MS + 5 * DEMO_DAY);
        put(g, o, "roles", strs("director", "sponsor"));
        put(g, o, "goals", strs("Pre-position in critical infrastructure", NULL));
        put_str(g, o, "sophistication", "advanced");
        put_str(g, o, "resource_level", "government");
        put_str(g, o, "primary_motivation", "organizational-gain");
    }
    push_id(g, g->key_refs, g->actor_id);
    emit(g, o, DEMO_GREEN);

    gen_id(g, "intrusion-set", g->set_id);
    o = obj_new(g, "intrusion-set", g->set_id, csa, t + DEMO_HOUR);
    if (o != NULL) {
        put_str(g, o, "name", "CORAL LANTERN");
        put_str(g, o, "description",
                "Activity cluster using LanternRAT, KelpLoader and DriftShell with a large, "
                "fast-rotating C2 network (demo data).");
        put(g, o, "aliases", strs("Lantern cluster", NULL));
        put_ts(g, o, "first_seen", DEMO_T0_MS + 5 * DEMO_DAY);
        put(g, o, "goals", strs("Espionage", "Access to operational technology"));
        put_str(g, o, "resource_level", "government");
        put_str(g, o, "primary_motivation", "organizational-gain");
    }
    push_id(g, g->key_refs, g->set_id);
    emit(g, o, DEMO_GREEN);

    gen_id(g, "campaign", g->campaign_id);
    o = obj_new(g, "campaign", g->campaign_id, csa, t + 2 * DEMO_HOUR);
    if (o != NULL) {
        put_str(g, o, "name", "Operation Tidal Lantern");
        put_str(g, o, "description",
                "Joint CSA Singapore / NISC Japan operation against the CORAL LANTERN C2 "
                "network and the websites it compromised (demo data).");
        put(g, o, "aliases", strs("TIDAL LANTERN", NULL));
        put_ts(g, o, "first_seen", DEMO_T0_MS + 11 * DEMO_DAY);
        put_ts(g, o, "last_seen", DEMO_T0_MS + 78 * DEMO_DAY);
        put_str(g, o, "objective", "Dismantle the C2 network and warn affected CII owners.");
    }
    push_id(g, g->key_refs, g->campaign_id);
    emit(g, o, DEMO_AMBER);

    for (size_t i = 0; i < DEMO_N_MW && g->rc == CTIX_OK; i++) {
        gen_id(g, "malware", g->mw_id[i]);
        o = obj_new(g, "malware", g->mw_id[i], csa, t + (int64_t)(3 + i) * DEMO_HOUR);
        if (o != NULL) {
            put_str(g, o, "name", malwares[i].name);
            put_str(g, o, "description", malwares[i].description);
            put(g, o, "malware_types", strs(malwares[i].type1, malwares[i].type2));
            put(g, o, "is_family", json_true());
            put_ts(g, o, "first_seen", DEMO_T0_MS + (int64_t)(6 + 3 * i) * DEMO_DAY);
            put(g, o, "implementation_languages", strs(malwares[i].lang, NULL));
            put(g, o, "capabilities", strs(malwares[i].cap1, malwares[i].cap2));
        }
        push_id(g, g->key_refs, g->mw_id[i]);
        emit(g, o, DEMO_GREEN);
    }
}

static void gen_infrastructure(struct demo_gen *g)
{
    const char *csa = g->org_id[ORG_CSA];
    int64_t t = DEMO_T0_MS + 59 * DEMO_DAY;
    char name[128];

    for (size_t c = 0; c < DEMO_CLUSTERS && g->rc == CTIX_OK; c++) {
        /* Distinct by construction: the cluster number sits in the low bits. */
        g->cluster_net[c] = (uint16_t)(0x1000 + (rng_below(&g->rng, 0xe0) << 4) + c);
        gen_id(g, "infrastructure", g->cluster_id[c]);
        json_t *o = obj_new(g, "infrastructure", g->cluster_id[c], csa, t + (int64_t)c * 7 * 60000);
        if (o != NULL) {
            snprintf(name, sizeof name, "LanternRAT C2 cluster %02zu", c + 1);
            put_str(g, o, "name", name);
            snprintf(name, sizeof name,
                     "C2 servers sharing certificates and panel layout; IPv6 prefix "
                     "2001:db8:%x::/48.",
                     (unsigned)g->cluster_net[c]);
            put_str(g, o, "description", name);
            put(g, o, "infrastructure_types", strs("command-and-control", "botnet"));
            put_ts(g, o, "first_seen",
                   DEMO_T0_MS + (int64_t)(11 + rng_below(&g->rng, 30)) * DEMO_DAY);
        }
        push_id(g, g->key_refs, g->cluster_id[c]);
        emit(g, o, DEMO_AMBER);
    }

    gen_id(g, "infrastructure", g->infra_web_id);
    json_t *o = obj_new(g, "infrastructure", g->infra_web_id, csa, t + 2 * DEMO_HOUR);
    if (o != NULL) {
        put_str(g, o, "name", "Compromised websites serving KelpLoader");
        put(g, o, "infrastructure_types", strs("hosting-malware", NULL));
    }
    push_id(g, g->key_refs, g->infra_web_id);
    emit(g, o, DEMO_GREEN);

    gen_id(g, "infrastructure", g->infra_gov_id);
    o = obj_new(g, "infrastructure", g->infra_gov_id, g->org_id[ORG_NISC], t + 3 * DEMO_HOUR);
    if (o != NULL) {
        put_str(g, o, "name", "Government portal lookalikes");
        put_str(g, o, "description", "Phishing sites imitating government e-service portals.");
        put(g, o, "infrastructure_types", strs("phishing", NULL));
    }
    push_id(g, g->key_refs, g->infra_gov_id);
    emit(g, o, DEMO_CLEAR);
}

/* Writes the eight groups of an IPv6 address in RFC 5952 form (lowercase, no leading zeros, the
 * longest run of two or more zero groups — the first on a tie — written "::"). */
static void ipv6_format(const uint16_t grp[8], char *out, size_t n)
{
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && grp[j] == 0) {
            j++;
        }
        if (j - i > best_len && j - i >= 2) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < 8 && len < n; i++) {
        if (i == best) {
            len += (size_t)snprintf(out + len, n - len, "::");
            i += best_len - 1;
            continue;
        }
        bool colon = i > 0 && i != best + best_len;
        len += (size_t)snprintf(out + len, n - len, "%s%x", colon ? ":" : "", (unsigned)grp[i]);
    }
}

/* The address of C2 server i: the 762 usable IPv4 documentation addresses first (in a shuffled
 * order), then IPv6 addresses in 2001:db8::/32 under the server's cluster prefix. */
static void c2_address(struct demo_gen *g, const uint16_t *v4order, size_t i, size_t cluster,
                       char *out, size_t n, bool *is_v4)
{
    static const char *const nets[] = {"192.0.2", "198.51.100", "203.0.113"};
    if (i < 762) {
        unsigned k = v4order[i];
        snprintf(out, n, "%s.%u", nets[k / 254], k % 254 + 1);
        *is_v4 = true;
        return;
    }
    uint64_t iid = mix64(g->addr_key + i); /* unique per server: mix64 is a bijection */
    uint16_t grp[8] = {0x2001,
                       0x0db8,
                       g->cluster_net[cluster],
                       (uint16_t)(rng_below(&g->rng, 0x100)),
                       (uint16_t)(iid >> 48),
                       (uint16_t)(iid >> 32),
                       (uint16_t)(iid >> 16),
                       (uint16_t)iid};
    ipv6_format(grp, out, n);
    *is_v4 = false;
}

static void gen_c2(struct demo_gen *g, size_t n_servers)
{
    uint16_t v4order[762];
    char addr[64], name[160], pattern[200];

    for (size_t i = 0; i < 762; i++) {
        v4order[i] = (uint16_t)i;
    }
    for (size_t i = 761; i > 0; i--) { /* Fisher–Yates */
        size_t j = (size_t)rng_below(&g->rng, i + 1);
        uint16_t t = v4order[i];
        v4order[i] = v4order[j];
        v4order[j] = t;
    }
    g->addr_key = rng_next(&g->rng);

    for (size_t i = 0; i < n_servers && g->rc == CTIX_OK; i++) {
        size_t cluster = (size_t)rng_below(&g->rng, DEMO_CLUSTERS);
        bool v4;
        c2_address(g, v4order, i, cluster, addr, sizeof addr, &v4);
        /* Both agencies found servers: Singapore most of the IPv4 ones, Japan most of the rest. */
        bool by_nisc = rng_below(&g->rng, 100) < (v4 ? 25 : 60);
        const char *creator = g->org_id[by_nisc ? ORG_NISC : ORG_CSA];
        uint64_t r = rng_below(&g->rng, 1000);
        enum demo_tlp tlp = r < 10 ? DEMO_RED : r < 60 ? DEMO_AMBER_STRICT : DEMO_AMBER;
        int64_t created = gen_pub_time(g);
        int64_t valid_from =
            DEMO_T0_MS + 11 * DEMO_DAY + (int64_t)rng_below(&g->rng, (uint64_t)(45 * DEMO_DAY));

        char id[STIX_ID_MAX];
        gen_id(g, "indicator", id);
        json_t *o = obj_new(g, "indicator", id, creator, created);
        if (o != NULL) {
            snprintf(name, sizeof name, "LanternRAT C2 server %s", addr);
            put_str(g, o, "name", name);
            put(g, o, "indicator_types", strs("malicious-activity", NULL));
            snprintf(pattern, sizeof pattern, "[%s:value = '%s']", v4 ? "ipv4-addr" : "ipv6-addr",
                     addr);
            put_str(g, o, "pattern", pattern);
            put_str(g, o, "pattern_type", "stix");
            put_str(g, o, "pattern_version", "2.1");
            put_ts(g, o, "valid_from", valid_from);
            put_ts(g, o, "valid_until", valid_from + 180 * DEMO_DAY);
            json_t *kc =
                json_pack("[{s:s,s:s}]", "kill_chain_name", "lockheed-martin-cyber-kill-chain",
                          "phase_name", "command-and-control");
            put(g, o, "kill_chain_phases", kc);
            put(g, o, "confidence", json_integer(60 + (json_int_t)rng_below(&g->rng, 36)));
        }
        push_id(g, g->c2_inds, id);
        emit(g, o, tlp);
        emit_rel(g, creator, created, "indicates", id, g->mw_id[MW_RAT], tlp, false);
    }
}

/* A site name not used before (linear search: there are a few hundred). */
static bool site_taken(json_t *seen, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(seen, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0) {
            return true;
        }
    }
    return false;
}

static void site_name(struct demo_gen *g, json_t *seen, bool gov, char *out, size_t n)
{
    for (unsigned attempt = 0;; attempt++) {
        const char *suffix = site_suffixes[rng_below(&g->rng, CTIX_ARRAY_LEN(site_suffixes))];
        if (gov && json_array_size(seen) == 0) {
            /* The classic: the real portal's name under a parent that is not the government's. */
            snprintf(out, n, "portal.gov.example");
        } else if (gov) {
            const char *svc = gov_services[rng_below(&g->rng, CTIX_ARRAY_LEN(gov_services))];
            switch (rng_below(&g->rng, 4)) {
            case 0: /* portal.gov.example: the real one's shape under the wrong parent */
                snprintf(out, n, "%s.gov%s", svc, suffix);
                break;
            case 1:
                snprintf(out, n, "%s-gov%s", svc, suffix);
                break;
            case 2:
                snprintf(out, n, "gov-%s-login%s", svc, suffix);
                break;
            default:
                snprintf(out, n, "my%s-gov%u%s", svc, (unsigned)rng_below(&g->rng, 100), suffix);
                break;
            }
        } else {
            const char *a = site_words[rng_below(&g->rng, CTIX_ARRAY_LEN(site_words))];
            const char *b = site_words[rng_below(&g->rng, CTIX_ARRAY_LEN(site_words))];
            snprintf(out, n, "www.%s-%s%s", a, b, suffix);
        }
        if (attempt >= 20) { /* the lists ran dry for this shape: number it */
            size_t len = strlen(out);
            const char *dot = strchr(out + (gov ? 0 : 4), '.');
            size_t cut = dot != NULL ? (size_t)(dot - out) : len;
            char tail[64];
            ctix_strlcpy(tail, out + cut, sizeof tail);
            snprintf(out + cut, n - cut, "-%u%s", attempt, tail);
        }
        if (!site_taken(seen, out)) {
            break;
        }
    }
    if (json_array_append_new(seen, json_string(out)) != 0) {
        gen_fail(g, CTIX_ENOMEM);
    }
}

static void gen_sites(struct demo_gen *g)
{
    char host[160], value[320], pattern[400], name[400];
    json_t *seen = json_array();
    if (seen == NULL) {
        gen_fail(g, CTIX_ENOMEM);
        return;
    }
    for (size_t i = 0; i < DEMO_SITES && g->rc == CTIX_OK; i++) {
        bool gov = i < DEMO_LOOKALIKES;
        site_name(g, seen, gov, host, sizeof host);
        int64_t created = gen_pub_time(g);
        const char *creator = g->org_id[gov || rng_below(&g->rng, 3) == 0 ? ORG_NISC : ORG_CSA];
        char id[STIX_ID_MAX];
        gen_id(g, "indicator", id);
        json_t *o = obj_new(g, "indicator", id, creator, created);
        enum demo_tlp tlp;
        if (gov) {
            /* Lookalikes are published to everyone: the public must be warned. */
            tlp = DEMO_CLEAR;
            snprintf(name, sizeof name, "Government portal lookalike %s", host);
            if (i % 2 == 0) {
                snprintf(pattern, sizeof pattern, "[domain-name:value = '%s']", host);
            } else {
                snprintf(value, sizeof value, "https://%s%s", host,
                         gov_paths[rng_below(&g->rng, CTIX_ARRAY_LEN(gov_paths))]);
                snprintf(pattern, sizeof pattern, "[url:value = '%s']", value);
            }
        } else {
            tlp = rng_below(&g->rng, 4) == 0 ? DEMO_AMBER : DEMO_GREEN;
            snprintf(value, sizeof value, "https://%s%s", host,
                     site_paths[rng_below(&g->rng, CTIX_ARRAY_LEN(site_paths))]);
            snprintf(name, sizeof name, "Compromised website serving KelpLoader: %s", host);
            snprintf(pattern, sizeof pattern, "[url:value = '%s']", value);
        }
        if (o != NULL) {
            put_str(g, o, "name", name);
            put(g, o, "indicator_types", strs(gov ? "malicious-activity" : "compromised", NULL));
            put_str(g, o, "pattern", pattern);
            put_str(g, o, "pattern_type", "stix");
            put_str(g, o, "pattern_version", "2.1");
            put_ts(g, o, "valid_from", created - (int64_t)rng_below(&g->rng, 20) * DEMO_DAY);
            put(g, o, "confidence", json_integer(70 + (json_int_t)rng_below(&g->rng, 30)));
        }
        if (gov) {
            push_id(g, g->gov_inds, id);
        }
        emit(g, o, tlp);
        emit_rel(g, creator, created, "indicates", id, gov ? g->infra_gov_id : g->mw_id[MW_LOADER],
                 tlp, false);
    }
    json_decref(seen);
}

static void gen_relationships(struct demo_gen *g)
{
    const char *csa = g->org_id[ORG_CSA];
    int64_t t = DEMO_T0_MS + 61 * DEMO_DAY;
    emit_rel(g, csa, t, "attributed-to", g->campaign_id, g->set_id, DEMO_AMBER, true);
    emit_rel(g, csa, t, "attributed-to", g->set_id, g->actor_id, DEMO_GREEN, true);
    for (size_t i = 0; i < DEMO_N_MW; i++) {
        emit_rel(g, csa, t, "uses", g->campaign_id, g->mw_id[i], DEMO_AMBER, true);
        emit_rel(g, csa, t, "uses", g->set_id, g->mw_id[i], DEMO_GREEN, true);
        emit_rel(g, csa, t, "authored-by", g->mw_id[i], g->set_id, DEMO_GREEN, true);
    }
    emit_rel(g, csa, t, "downloads", g->mw_id[MW_LOADER], g->mw_id[MW_RAT], DEMO_GREEN, true);
    emit_rel(g, csa, t, "drops", g->mw_id[MW_SHELL], g->mw_id[MW_LOADER], DEMO_GREEN, true);
    for (size_t c = 0; c < DEMO_CLUSTERS; c++) {
        emit_rel(g, csa, t, "uses", g->mw_id[MW_RAT], g->cluster_id[c], DEMO_AMBER, true);
        emit_rel(g, csa, t, "beacons-to", g->mw_id[MW_RAT], g->cluster_id[c], DEMO_AMBER, true);
        emit_rel(g, csa, t, "uses", g->set_id, g->cluster_id[c], DEMO_AMBER, true);
    }
    emit_rel(g, csa, t, "compromises", g->campaign_id, g->infra_web_id, DEMO_GREEN, true);
    emit_rel(g, csa, t, "hosts", g->infra_web_id, g->mw_id[MW_LOADER], DEMO_GREEN, true);
    emit_rel(g, g->org_id[ORG_NISC], t, "uses", g->campaign_id, g->infra_gov_id, DEMO_CLEAR, true);
    for (size_t i = ORG_POWER; i < DEMO_N_ORG; i++) {
        /* Naming the victims is more sensitive than the rest of the picture. */
        emit_rel(g, csa, t, "targets", g->campaign_id, g->org_id[i], DEMO_AMBER_STRICT, true);
        push_id(g, g->key_refs, g->org_id[i]);
    }
}

/* Sightings the CII owners reported: the telco's proxy hits (as in the design's story), the
 * bank's and the utility's. */
static void gen_sightings(struct demo_gen *g)
{
    static const struct {
        enum demo_org who, via;
        unsigned n;
        enum demo_tlp tlp;
    } reports[] = {
        {ORG_TELCO, ORG_NISC, 14, DEMO_AMBER_STRICT},
        {ORG_BANK, ORG_CSA, 6, DEMO_RED},
        {ORG_POWER, ORG_CSA, 5, DEMO_AMBER_STRICT},
    };
    size_t n_ind = json_array_size(g->c2_inds);
    for (size_t r = 0; r < CTIX_ARRAY_LEN(reports) && n_ind > 0; r++) {
        for (unsigned k = 0; k < reports[r].n && g->rc == CTIX_OK; k++) {
            const char *target =
                json_string_value(json_array_get(g->c2_inds, (size_t)rng_below(&g->rng, n_ind)));
            int64_t first =
                DEMO_T0_MS + 79 * DEMO_DAY + (int64_t)rng_below(&g->rng, 96) * DEMO_HOUR;
            int64_t last = first + (int64_t)rng_below(&g->rng, 48 * 60) * 60000;
            char id[STIX_ID_MAX];
            gen_id(g, "sighting", id);
            json_t *o = obj_new(g, "sighting", id, g->org_id[reports[r].via], last + DEMO_HOUR);
            if (o != NULL) {
                put_ts(g, o, "first_seen", first);
                put_ts(g, o, "last_seen", last);
                put(g, o, "count", json_integer(1 + (json_int_t)rng_below(&g->rng, 40)));
                put_str(g, o, "sighting_of_ref", target);
                put(g, o, "where_sighted_refs", strs(g->org_id[reports[r].who], NULL));
                put_str(g, o, "description", "Outbound connections seen in proxy logs.");
            }
            emit(g, o, reports[r].tlp);
        }
    }
}

static void gen_reports(struct demo_gen *g)
{
    char id[STIX_ID_MAX];
    int64_t t = DEMO_T0_MS + 88 * DEMO_DAY + 9 * DEMO_HOUR;

    gen_id(g, "report", id);
    json_t *o = obj_new(g, "report", id, g->org_id[ORG_CSA], t);
    if (o != NULL) {
        put_str(g, o, "name", "Operation Tidal Lantern: joint CSA-NISC assessment");
        put_str(g, o, "description",
                "The CORAL LANTERN intrusion set, its malware, its C2 clusters and the CII "
                "owners it targeted in Singapore and Japan (demo data).");
        put(g, o, "report_types", strs("campaign", "threat-report"));
        put_ts(g, o, "published", t);
        put(g, o, "object_refs", json_incref(g->key_refs));
    }
    emit(g, o, DEMO_AMBER);

    if (json_array_size(g->gov_inds) == 0) {
        return;
    }
    gen_id(g, "report", id);
    o = obj_new(g, "report", id, g->org_id[ORG_NISC], t + DEMO_HOUR);
    if (o != NULL) {
        put_str(g, o, "name", "Public advisory: government portal lookalikes");
        put_str(g, o, "description",
                "Phishing sites imitating government e-service portals. Never enter credentials "
                "on a site reached from a link in a message (demo data).");
        put(g, o, "report_types", strs("indicator", NULL));
        put_ts(g, o, "published", t + DEMO_HOUR);
        json_t *refs = json_copy(g->gov_inds);
        if (refs != NULL && json_array_append_new(refs, json_string(g->infra_gov_id)) != 0) {
            gen_fail(g, CTIX_ENOMEM);
        }
        put(g, o, "object_refs", refs);
    }
    emit(g, o, DEMO_CLEAR);
}

enum ctix_rc cli__demo_generate(uint64_t seed, size_t n_servers, cli__demo_sink sink, void *ctx)
{
    struct demo_gen *g = calloc(1, sizeof *g);
    enum ctix_rc rc = CTIX_ENOMEM;
    if (g == NULL) {
        goto out;
    }
    rng_seed(&g->rng, seed);
    g->sink = sink;
    g->ctx = ctx;
    g->key_refs = json_array();
    g->c2_inds = json_array();
    g->gov_inds = json_array();
    if (g->key_refs == NULL || g->c2_inds == NULL || g->gov_inds == NULL) {
        goto out;
    }
    /* Each step stops at once when an earlier one failed (g->rc is sticky). */
    gen_markings(g);
    gen_identities(g);
    gen_actors(g);
    gen_infrastructure(g);
    gen_relationships(g);
    gen_c2(g, n_servers);
    gen_sites(g);
    gen_sightings(g);
    gen_reports(g);
    rc = g->rc;
out:
    if (g != NULL) {
        json_decref(g->key_refs);
        json_decref(g->c2_inds);
        json_decref(g->gov_inds);
        free(g);
    }
    return rc;
}

/* ---- the command: batches of DEMO_BATCH objects through taxii_objects_add() ---- */

struct demo_ingest {
    struct store *st;
    struct sync_node node; /* with its key: the objects are this node's, signed as stored */
    bool signing;
    const char *coll_id;
    json_t *batch;
    struct taxii_add_item *items; /* DEMO_BATCH entries */
    struct taxii_add_counts total;
    size_t by_tlp[STIX_TLP_RED + 1];
    char failure[600]; /* the first object that did not validate */
};

static enum ctix_rc ingest_flush(struct demo_ingest *in)
{
    struct taxii_add_counts c;
    enum ctix_rc rc = CTIX_OK;
    size_t n = json_array_size(in->batch);

    if (n == 0) {
        goto out;
    }
    if (in->signing)
        rc = taxii_objects_add_signed(&in->node, in->coll_id, in->batch, NULL, NULL, in->items, &c);
    else
        rc = taxii_objects_add(in->st, in->coll_id, in->batch, in->items, &c);
    if (rc != CTIX_OK) {
        goto out;
    }
    in->total.total += c.total;
    in->total.stored += c.stored;
    in->total.duplicates += c.duplicates;
    in->total.failed += c.failed;
    for (size_t i = 0; i < n; i++) {
        const struct taxii_add_item *it = &in->items[i];
        if (it->outcome == TAXII_ADD_FAILED && in->failure[0] == '\0') {
            snprintf(in->failure, sizeof in->failure, "%s: %s", it->id, it->message);
        }
        if (it->outcome != TAXII_ADD_FAILED) {
            in->by_tlp[stix_tlp_effective(json_array_get(in->batch, i))]++;
        }
    }
    /* The generator's objects must all be valid: one that is not is a bug here. */
    if (c.failed > 0) {
        rc = CTIX_EINVAL;
    }
    json_array_clear(in->batch);
out:
    return rc;
}

static enum ctix_rc ingest_sink(void *ctx, json_t *obj)
{
    struct demo_ingest *in = ctx;
    enum ctix_rc rc = CTIX_OK;

    if (json_array_append_new(in->batch, obj) != 0) {
        rc = CTIX_ENOMEM;
        goto out;
    }
    if (json_array_size(in->batch) >= DEMO_BATCH) {
        rc = ingest_flush(in);
    }
out:
    return rc;
}

static const struct cli_opt demo_opts[] = {
    {"data", CLI_OPT_VALUE},
    {"collection", CLI_OPT_VALUE},
    {"seed", CLI_OPT_VALUE},
    {"servers", CLI_OPT_VALUE},
};

static const char demo_help[] =
    "usage: ctix demo-data --data DIR --collection ID [--seed N] [--servers N]\n"
    "\n"
    "Fill a collection with a generated joint-operation scenario (Operation Tidal Lantern):\n"
    "CSA Singapore, NISC Japan and three CII owners, the TLP 2.0 marking definitions, a threat\n"
    "actor, an intrusion set, a campaign, three malware families, C2 clusters, N C2 servers as\n"
    "indicators (IPv4 and IPv6 documentation ranges only), a few hundred compromised websites\n"
    "and government-portal lookalikes (RFC 2606 names only), relationships, sightings and\n"
    "reports, marked TLP:CLEAR to TLP:RED. Objects go through the same validation and ingest\n"
    "path as POST .../objects/, in batches of 1000 (one transaction each).\n"
    "\n"
    "  --data DIR        the data directory (default: $CTIX_DATA)\n"
    "  --collection ID   the collection's id or alias\n"
    "  --seed N          seed of the generator (default 2026): same seed, same objects\n"
    "  --servers N       number of C2 servers, 0 to 1000000 (default 9000)\n";

/* The node and its key, so that the demo objects are signed like any this node publishes. A
 * store that `ctix init` never set up has no node: its objects are stored unsigned. A node
 * initialised before keys existed gets its key now. */
static enum ctix_rc node_signer(const char *dir, struct demo_ingest *in)
{
    struct ctix_diag d;
    enum ctix_rc rc;

    ctix_diag_clear(&d);
    if (sync_node_load(&in->node, in->st, &d) != CTIX_OK) {
        rc = CTIX_OK;
        goto out;
    }
    rc = prov_key_load(dir, &in->node.key, &d);
    if (rc == CTIX_ENOTFOUND) {
        char pub[PROV_PUBKEY_TEXT];

        rc = prov_key_generate(&in->node.key);
        if (rc == CTIX_OK)
            rc = prov_key_save(in->node.key, dir, &d);
        if (rc == CTIX_OK) {
            prov_pubkey_format(prov_key_public(in->node.key), pub);
            ctix_log(CTIX_LOG_WARN, "cli", "event=node_key_created pubkey=%s", pub);
        }
    }
    if (rc != CTIX_OK) {
        cli_error("demo-data", "node key: %s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    in->signing = true;
out:
    return rc;
}

int cmd_demo_data(int argc, char **argv)
{
    static const char *const cmd = "demo-data";
    const char *data_dir, *coll, *v;
    uint64_t seed = DEMO_SEED_DEFAULT, n_servers = DEMO_SERVERS_DEFAULT;
    struct cli_args a;
    struct demo_ingest in = {0};
    struct store_collection sc;
    char err[256];
    enum ctix_rc rc;
    int status = CLI_EXIT_FAIL;
    int64_t start = ctix_mono_us();

    rc = cli_args_parse(demo_opts, CTIX_ARRAY_LEN(demo_opts), argc, argv, &a, err, sizeof err);
    if (rc == CTIX_ENOMEM) {
        cli_error(cmd, "%s", err);
        goto out;
    }
    if (rc != CTIX_OK) {
        status = cli_usage_error(cmd, "%s", err);
        goto out;
    }
    if (a.help) {
        fputs(demo_help, stdout);
        status = CLI_EXIT_OK;
        goto out;
    }
    data_dir = cli_data_dir(&a);
    coll = cli_args_get(&a, "collection");
    if (a.n_pos > 0) {
        status = cli_usage_error(cmd, "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    if (data_dir == NULL || coll == NULL) {
        status =
            cli_usage_error(cmd, "missing %s", data_dir == NULL ? "--data DIR" : "--collection ID");
        goto out;
    }
    v = cli_args_get(&a, "seed");
    if (v != NULL && !ctix_parse_u64(v, UINT64_MAX, &seed)) {
        status = cli_usage_error(cmd, "--seed: not a whole number: '%s'", v);
        goto out;
    }
    v = cli_args_get(&a, "servers");
    if (v != NULL && !ctix_parse_u64(v, DEMO_SERVERS_MAX, &n_servers)) {
        status =
            cli_usage_error(cmd, "--servers: a number from 0 to %d, not '%s'", DEMO_SERVERS_MAX, v);
        goto out;
    }
    status = cli_store_open(cmd, data_dir, &in.st);
    if (status != CLI_EXIT_OK) {
        goto out;
    }
    status = CLI_EXIT_FAIL;
    if (node_signer(data_dir, &in) != CTIX_OK) {
        goto out;
    }
    rc = store_collection_get(in.st, coll, &sc);
    if (rc != CTIX_OK) {
        cli_error(cmd, "collection '%s': %s", coll,
                  rc == CTIX_ENOTFOUND ? "no collection has this id or alias" : ctix_strerror(rc));
        goto out;
    }
    in.coll_id = sc.id;
    in.batch = json_array();
    in.items = calloc(DEMO_BATCH, sizeof *in.items);
    if (in.batch == NULL || in.items == NULL) {
        rc = CTIX_ENOMEM;
    } else {
        rc = cli__demo_generate(seed, (size_t)n_servers, ingest_sink, &in);
    }
    if (rc == CTIX_OK) {
        rc = ingest_flush(&in);
    }
    if (rc != CTIX_OK) {
        /* Earlier batches stay stored: each batch is its own transaction. */
        cli_error(cmd, "%s%s%s (%zu objects stored before this)", ctix_strerror(rc),
                  in.failure[0] != '\0' ? ": " : "", in.failure, in.total.stored);
        goto out;
    }
    fprintf(stderr,
            "demo-data: %zu objects stored in collection %s%s%s, %zu already there; seed %" PRIu64
            ", %" PRIu64 " C2 servers, %.1f s\n",
            in.total.stored, sc.id, sc.alias[0] != '\0' ? " alias " : "", sc.alias,
            in.total.duplicates, seed, n_servers, (double)(ctix_mono_us() - start) / 1e6);
    fprintf(stderr,
            "demo-data: by TLP: clear %zu, green %zu, amber %zu, amber+strict %zu, red %zu; "
            "%zu marking definitions\n",
            in.by_tlp[STIX_TLP_CLEAR], in.by_tlp[STIX_TLP_GREEN], in.by_tlp[STIX_TLP_AMBER],
            in.by_tlp[STIX_TLP_AMBER_STRICT], in.by_tlp[STIX_TLP_RED], in.by_tlp[STIX_TLP_NONE]);
    status = CLI_EXIT_OK;
out:
    cli_args_cleanup(&a);
    json_decref(in.batch);
    free(in.items);
    prov_key_free(in.node.key);
    store_close(in.st);
    return status;
}
