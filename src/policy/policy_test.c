/* policy_may_send against an expectation written by hand from the rules (design.md's TLP table and
 * issue 5's onward-sharing rules), not derived from policy.c: every origin (local, received, each
 * quarantined) x every TLP (and unmarked under each default) x every kind of requester x every
 * channel, verdict and reason. */
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* ---- the requesters: one column of the expectation each ---- */

#define ORIGIN_PEER 7  /* the peer the received objects came from... */
#define ORIGIN_ORG  70 /* ...and its organisation on this node */
#define PUB_PEER    9  /* the node of the organisation that published them (relayed by peer 7) */
#define PUB_ORG     90

static const char *const named[] = {"alice", "carol", "dave", "erin"};

static const struct {
    const char *label;
    struct policy_requester req;
} requesters[] = {
    /* 0 */ {"anonymous", {POLICY_REL_ANONYMOUS, 0, 0, STIX_TLP_NONE, NULL}},
    /* 1 */ {"own org", {POLICY_REL_OWN_ORG, 1, 0, STIX_TLP_NONE, "bob"}},
    /* 2 */ {"own org, named", {POLICY_REL_OWN_ORG, 1, 0, STIX_TLP_NONE, "alice"}},
    /* 3 */ {"client", {POLICY_REL_CLIENT, 2, 0, STIX_TLP_NONE, "cliff"}},
    /* 4 */ {"client, named", {POLICY_REL_CLIENT, 2, 0, STIX_TLP_NONE, "carol"}},
    /* 5 */ {"community", {POLICY_REL_COMMUNITY, 3, 0, STIX_TLP_NONE, "mallory"}},
    /* 6 */ {"community, named", {POLICY_REL_COMMUNITY, 3, 0, STIX_TLP_NONE, "dave"}},
    /* 7 */ {"partner user, clear", {POLICY_REL_COMMUNITY, 41, 0, STIX_TLP_CLEAR, "ursula"}},
    /* 8 */ {"partner user, green", {POLICY_REL_COMMUNITY, 42, 0, STIX_TLP_GREEN, "ursula"}},
    /* 9 */ {"partner user, amber", {POLICY_REL_COMMUNITY, 43, 0, STIX_TLP_AMBER, "ursula"}},
    /* 10 */
    {"partner user, amber+strict", {POLICY_REL_COMMUNITY, 44, 0, STIX_TLP_AMBER_STRICT, "ursula"}},
    /* 11 */
    {"partner user, amber+strict, named",
     {POLICY_REL_COMMUNITY, 44, 0, STIX_TLP_AMBER_STRICT, "erin"}},
    /* 12 */ {"peer, no agreement", {POLICY_REL_PEER, 50, 10, STIX_TLP_NONE, NULL}},
    /* 13 */ {"peer, clear", {POLICY_REL_PEER, 51, 11, STIX_TLP_CLEAR, NULL}},
    /* 14 */ {"peer, green", {POLICY_REL_PEER, 52, 12, STIX_TLP_GREEN, NULL}},
    /* 15 */ {"peer, amber", {POLICY_REL_PEER, 53, 13, STIX_TLP_AMBER, NULL}},
    /* 16 */ {"peer, amber+strict", {POLICY_REL_PEER, 54, 14, STIX_TLP_AMBER_STRICT, NULL}},
    /* 17 */
    {"origin peer, amber+strict",
     {POLICY_REL_PEER, ORIGIN_ORG, ORIGIN_PEER, STIX_TLP_AMBER_STRICT, NULL}},
    /* 18 */
    {"origin org's user, amber+strict",
     {POLICY_REL_COMMUNITY, ORIGIN_ORG, 0, STIX_TLP_AMBER_STRICT, "jp-analyst"}},
    /* 19 */
    {"publisher's peer, amber+strict",
     {POLICY_REL_PEER, PUB_ORG, PUB_PEER, STIX_TLP_AMBER_STRICT, NULL}},
};
#define N_REQ 20

/* ---- the expectation: one character per requester ----
 * allow (upper case): C clear, G community, O own org, L client, A agreement, N named recipient
 * deny (lower case): g green needs the community, a amber needs an agreement, s amber+strict needs
 *   own org or an agreement, r received amber stays in org and clients, t received amber+strict
 *   stays in own org, n received amber(+strict) never to a node, d red only named, e red never to
 *   a node, k above the agreement, p peer without agreement, o back to origin, q quarantined,
 *   c node on the console, h person on a node channel */

struct row {
    const char *tlp_label;
    enum stix_tlp tlp;
    const char *want;
};

/* Rows per origin, in TLP order CLEAR, GREEN, AMBER, AMBER+STRICT, RED. Columns as above:
 *                          anon own ownN cli cliN com comN pC pG pA pS pSN peer0 P-C P-G P-A P-S
 *                          origP origU pubP */
static const char *const want_local[5] = {
    /* CLEAR  */ "CCCCCCCCCCCCpCCCCCCC",
    /* GREEN  */ "gGGGGGGkGGGGpkGGGGGG",
    /* AMBER  */ "aOOLLaaaaAAApaaAAAAA",
    /* STRICT */ "sOOsssssssAApsssAAAA",
    /* RED    */ "ddNdNdNddddkpeeeeede",
};
static const char *const want_received[5] = {
    /* CLEAR  */ "CCCCCCCCCCCCpCCCCooo",
    /* GREEN  */ "gGGGGGGkGGGGpkGGGooo",
    /* AMBER  */ "rOOLLrrrrrrrpnnnnooo",
    /* STRICT */ "tOOtttttttttpnnnnooo",
    /* RED    */ "ddNdNdNddddkpeeeeooo",
};
static const char *const want_local_q[5] = {
    /* CLEAR  */ "qCCqqqqqqqqqqqqqqqqq",
    /* GREEN  */ "qGGqqqqqqqqqqqqqqqqq",
    /* AMBER  */ "qOOqqqqqqqqqqqqqqqqq",
    /* STRICT */ "qOOqqqqqqqqqqqqqqqqq",
    /* RED    */ "qdNqqqqqqqqqqqqqqqqq",
};
static const char *const want_received_q[5] = {
    /* CLEAR  */ "qCCqqqqqqqqqqqqqqooo",
    /* GREEN  */ "qGGqqqqqqqqqqqqqqooo",
    /* AMBER  */ "qOOqqqqqqqqqqqqqqooo",
    /* STRICT */ "qOOqqqqqqqqqqqqqqooo",
    /* RED    */ "qdNqqqqqqqqqqqqqqooo",
};

/* Per channel: '.' keeps the row's expectation, a letter replaces it (the channel check comes
 * before everything but the facts). Nodes are columns 12-17 and 19. */
static const struct {
    enum policy_channel ch;
    const char *mask;
} channels[] = {
    {POLICY_CH_TAXII, "...................."},     {POLICY_CH_CONSOLE, "............cccccc.c"},
    {POLICY_CH_SYNC_PULL, "hhhhhhhhhhhh......h."}, {POLICY_CH_PUSH, "hhhhhhhhhhhh......h."},
    {POLICY_CH_EXPORT, "hhhhhhhhhhhh......h."},
};

static enum policy_reason reason_of(char c)
{
    switch (c) {
    case 'C':
        return POLICY_R_CLEAR;
    case 'G':
        return POLICY_R_COMMUNITY;
    case 'O':
        return POLICY_R_OWN_ORG;
    case 'L':
        return POLICY_R_CLIENT;
    case 'A':
        return POLICY_R_AGREEMENT;
    case 'N':
        return POLICY_R_NAMED;
    case 'g':
        return POLICY_R_NEED_COMMUNITY;
    case 'a':
        return POLICY_R_AMBER_AGREEMENT;
    case 's':
        return POLICY_R_STRICT_AGREEMENT;
    case 'r':
        return POLICY_R_RECV_AMBER;
    case 't':
        return POLICY_R_RECV_STRICT;
    case 'n':
        return POLICY_R_RECV_NODE;
    case 'd':
        return POLICY_R_RED_NAMED;
    case 'e':
        return POLICY_R_RED_NODE;
    case 'k':
        return POLICY_R_CAP;
    case 'p':
        return POLICY_R_NO_AGREEMENT;
    case 'o':
        return POLICY_R_ORIGIN;
    case 'q':
        return POLICY_R_QUARANTINE;
    case 'c':
        return POLICY_R_NODE_CONSOLE;
    case 'h':
        return POLICY_R_NODE_CHANNEL;
    }
    fail_msg("bad expectation letter '%c'", c);
    return POLICY_R_BAD_FACTS;
}

static const struct {
    const char *label;
    enum policy_origin origin;
    bool quarantined;
    const char *const *want;
} origins[] = {
    {"local", POLICY_ORIGIN_LOCAL, false, want_local},
    {"received", POLICY_ORIGIN_PEER, false, want_received},
    {"local quarantined", POLICY_ORIGIN_LOCAL, true, want_local_q},
    {"received quarantined", POLICY_ORIGIN_PEER, true, want_received_q},
};

static const char *const tlp_labels[] = {"clear", "green", "amber", "amber+strict", "red"};

/* How unmarked objects read under each configured default: the index of the row they follow. */
static const struct {
    enum stix_tlp dflt;
    int row;
} defaults[] = {
    {STIX_TLP_NONE, 2}, /* not configured: AMBER */
    {STIX_TLP_CLEAR, 0},        {STIX_TLP_GREEN, 1}, {STIX_TLP_AMBER, 2},
    {STIX_TLP_AMBER_STRICT, 3}, {STIX_TLP_RED, 4},
};

static unsigned n_checked;

static struct policy_object object_for(int o, enum stix_tlp tlp)
{
    struct policy_object obj = {
        .tlp = tlp,
        .origin = origins[o].origin,
        .quarantined = origins[o].quarantined,
        .recipients = named,
        .n_recipients = CTIX_ARRAY_LEN(named),
    };

    if (obj.origin == POLICY_ORIGIN_PEER) {
        obj.from_peer = ORIGIN_PEER;
        obj.from_org = ORIGIN_ORG;
        obj.publisher_org = PUB_ORG;
    }
    return obj;
}

static void check_row(int o, const struct policy_config *cfg, enum stix_tlp tlp, int row,
                      const char *what)
{
    struct policy_object obj = object_for(o, tlp);
    const char *want = origins[o].want[row];
    enum policy_reason got, exp;
    enum policy_verdict v;
    size_t k, c;
    char m;

    assert_int_equal(strlen(want), N_REQ);
    for (c = 0; c < CTIX_ARRAY_LEN(channels); c++) {
        assert_int_equal(strlen(channels[c].mask), N_REQ);
        for (k = 0; k < N_REQ; k++) {
            m = channels[c].mask[k] == '.' ? want[k] : channels[c].mask[k];
            exp = reason_of(m);
            got = (enum policy_reason) - 1;
            v = policy_may_send(cfg, &obj, &requesters[k].req, channels[c].ch, &got);
            if (got != exp || v != (m >= 'A' && m <= 'Z' ? POLICY_ALLOW : POLICY_DENY))
                fail_msg("%s object, %s, to %s via %s: got %s (%s), want %s (%c)", origins[o].label,
                         what, requesters[k].label, policy_channel_name(channels[c].ch),
                         policy_verdict_name(v), policy_reason_name(got), policy_reason_name(exp),
                         m);
            n_checked++;
        }
    }
}

static void test_matrix_marked(void **state)
{
    size_t o;
    int t;

    (void)state;
    for (o = 0; o < CTIX_ARRAY_LEN(origins); o++) {
        for (t = 0; t < 5; t++)
            check_row((int)o, NULL, (enum stix_tlp)(STIX_TLP_CLEAR + t), t, tlp_labels[t]);
    }
}

static void test_matrix_unmarked(void **state)
{
    struct policy_config cfg;
    char what[64];
    size_t o, d;

    (void)state;
    for (o = 0; o < CTIX_ARRAY_LEN(origins); o++) {
        for (d = 0; d < CTIX_ARRAY_LEN(defaults); d++) {
            cfg.unmarked = defaults[d].dflt;
            snprintf(what, sizeof(what), "unmarked (default %s)", stix_tlp_name(defaults[d].dflt));
            check_row((int)o, &cfg, STIX_TLP_NONE, defaults[d].row, what);
        }
        /* No config at all is the design's default, AMBER. */
        check_row((int)o, NULL, STIX_TLP_NONE, 2, "unmarked (no config)");
    }
    /* A default never overrides a marking. */
    cfg.unmarked = STIX_TLP_RED;
    check_row(0, &cfg, STIX_TLP_CLEAR, 0, "clear under a red default");
}

/* ---- deny by default: each broken fact turns a plain allow into BAD_FACTS ---- */

struct facts {
    struct policy_config cfg;
    struct policy_object obj;
    struct policy_requester req;
    enum policy_channel ch;
    bool no_obj, no_req;
};

static struct facts baseline(void)
{
    /* A received GREEN object to a partner's node over sync: allowed. */
    struct facts f = {
        .obj = {.tlp = STIX_TLP_GREEN,
                .origin = POLICY_ORIGIN_PEER,
                .from_peer = ORIGIN_PEER,
                .from_org = ORIGIN_ORG},
        .req = {.rel = POLICY_REL_PEER, .org_id = 53, .peer_id = 13, .agreement = STIX_TLP_AMBER},
        .ch = POLICY_CH_SYNC_PULL,
    };
    return f;
}

static void break_none(struct facts *f)
{
    (void)f;
}
static void break_no_obj(struct facts *f)
{
    f->no_obj = true;
}
static void break_no_req(struct facts *f)
{
    f->no_req = true;
}
static void break_tlp_high(struct facts *f)
{
    f->obj.tlp = (enum stix_tlp)(STIX_TLP_RED + 1);
}
static void break_tlp_neg(struct facts *f)
{
    f->obj.tlp = (enum stix_tlp) - 1;
}
static void break_origin_zero(struct facts *f)
{
    f->obj.origin = (enum policy_origin)0;
}
static void break_origin_high(struct facts *f)
{
    f->obj.origin = (enum policy_origin)(POLICY_ORIGIN_PEER + 1);
}
static void break_rel_zero(struct facts *f)
{
    f->req.rel = (enum policy_rel)0;
}
static void break_rel_high(struct facts *f)
{
    f->req.rel = (enum policy_rel)(POLICY_REL_PEER + 1);
}
static void break_ch_zero(struct facts *f)
{
    f->ch = (enum policy_channel)0;
}
static void break_ch_high(struct facts *f)
{
    f->ch = (enum policy_channel)(POLICY_CH_EXPORT + 1);
}
static void break_agreement_red(struct facts *f)
{
    f->req.agreement = STIX_TLP_RED; /* no agreement may cover red */
}
static void break_agreement_neg(struct facts *f)
{
    f->req.agreement = (enum stix_tlp) - 3;
}
static void break_default(struct facts *f)
{
    f->cfg.unmarked = (enum stix_tlp)42;
}
static void break_from_peer(struct facts *f)
{
    f->obj.from_peer = 0;
}
static void break_from_org(struct facts *f)
{
    f->obj.from_org = -1;
}
static void break_recipients(struct facts *f)
{
    f->obj.n_recipients = 2; /* with recipients NULL */
}
static void break_peer_org(struct facts *f)
{
    f->req.org_id = 0;
}
static void break_peer_id(struct facts *f)
{
    f->req.peer_id = 0;
}
static void break_person_peer_id(struct facts *f)
{
    f->req.rel = POLICY_REL_COMMUNITY;
    f->ch = POLICY_CH_TAXII; /* would be allowed without the stray peer id */
}
static void break_anon_org(struct facts *f)
{
    f->req = (struct policy_requester){.rel = POLICY_REL_ANONYMOUS, .org_id = 3};
    f->obj.tlp = STIX_TLP_CLEAR;
    f->ch = POLICY_CH_TAXII;
}
static void break_anon_user(struct facts *f)
{
    f->req = (struct policy_requester){.rel = POLICY_REL_ANONYMOUS, .user = "alice"};
    f->obj.tlp = STIX_TLP_CLEAR;
    f->ch = POLICY_CH_TAXII;
}
static void break_anon_agreement(struct facts *f)
{
    f->req = (struct policy_requester){.rel = POLICY_REL_ANONYMOUS, .agreement = STIX_TLP_GREEN};
    f->obj.tlp = STIX_TLP_CLEAR;
    f->ch = POLICY_CH_TAXII;
}

static const struct {
    const char *label;
    void (*apply)(struct facts *f);
    bool allowed;
} breaks[] = {
    {"baseline", break_none, true},
    {"no object", break_no_obj, false},
    {"no requester", break_no_req, false},
    {"tlp past red", break_tlp_high, false},
    {"negative tlp", break_tlp_neg, false},
    {"origin 0", break_origin_zero, false},
    {"origin past peer", break_origin_high, false},
    {"relation 0", break_rel_zero, false},
    {"relation past peer", break_rel_high, false},
    {"channel 0", break_ch_zero, false},
    {"channel past export", break_ch_high, false},
    {"agreement red", break_agreement_red, false},
    {"negative agreement", break_agreement_neg, false},
    {"unknown default", break_default, false},
    {"received without from_peer", break_from_peer, false},
    {"received without from_org", break_from_org, false},
    {"recipients NULL with a count", break_recipients, false},
    {"peer without org", break_peer_org, false},
    {"peer without peer id", break_peer_id, false},
    {"person with a peer id", break_person_peer_id, false},
    {"anonymous with an org", break_anon_org, false},
    {"anonymous with a user", break_anon_user, false},
    {"anonymous with an agreement", break_anon_agreement, false},
};

static void test_bad_facts(void **state)
{
    enum policy_reason r;
    enum policy_verdict v;
    struct facts f;
    size_t i;

    (void)state;
    for (i = 0; i < CTIX_ARRAY_LEN(breaks); i++) {
        f = baseline();
        breaks[i].apply(&f);
        r = POLICY_R_COUNT_;
        v = policy_may_send(&f.cfg, f.no_obj ? NULL : &f.obj, f.no_req ? NULL : &f.req, f.ch, &r);
        if (breaks[i].allowed) {
            if (v != POLICY_ALLOW || r != POLICY_R_COMMUNITY)
                fail_msg("%s: %s (%s)", breaks[i].label, policy_verdict_name(v),
                         policy_reason_name(r));
        } else if (v != POLICY_DENY || r != POLICY_R_BAD_FACTS) {
            fail_msg("%s: %s (%s), want deny (bad_facts)", breaks[i].label, policy_verdict_name(v),
                     policy_reason_name(r));
        }
        /* reason is optional. */
        assert_int_equal(
            policy_may_send(&f.cfg, f.no_obj ? NULL : &f.obj, f.no_req ? NULL : &f.req, f.ch, NULL),
            v);
    }
}

static void test_zeroed_denies(void **state)
{
    struct policy_object obj;
    struct policy_requester req;
    enum policy_reason r = POLICY_R_CLEAR;

    (void)state;
    memset(&obj, 0, sizeof(obj));
    memset(&req, 0, sizeof(req));
    assert_int_equal(policy_may_send(NULL, &obj, &req, (enum policy_channel)0, &r), POLICY_DENY);
    assert_int_equal(r, POLICY_R_BAD_FACTS);
}

/* ---- red recipients: exact names only ---- */

static void test_red_names(void **state)
{
    static const char *const with_null[] = {NULL, "alice", ""};
    struct policy_object obj = {.tlp = STIX_TLP_RED,
                                .origin = POLICY_ORIGIN_LOCAL,
                                .recipients = with_null,
                                .n_recipients = 3};
    struct policy_requester req = {.rel = POLICY_REL_OWN_ORG, .org_id = 1, .user = "alice"};
    enum policy_reason r;

    (void)state;
    assert_int_equal(policy_may_send(NULL, &obj, &req, POLICY_CH_CONSOLE, &r), POLICY_ALLOW);
    assert_int_equal(r, POLICY_R_NAMED);
    req.user = "Alice"; /* names are compared exactly */
    assert_int_equal(policy_may_send(NULL, &obj, &req, POLICY_CH_CONSOLE, &r), POLICY_DENY);
    assert_int_equal(r, POLICY_R_RED_NAMED);
    req.user = "alic";
    assert_int_equal(policy_may_send(NULL, &obj, &req, POLICY_CH_CONSOLE, &r), POLICY_DENY);
    req.user = ""; /* an empty name never matches, not even an empty entry */
    assert_int_equal(policy_may_send(NULL, &obj, &req, POLICY_CH_CONSOLE, &r), POLICY_DENY);
    req.user = NULL;
    assert_int_equal(policy_may_send(NULL, &obj, &req, POLICY_CH_CONSOLE, &r), POLICY_DENY);
    obj.n_recipients = 0; /* red without recipients reaches nobody */
    obj.recipients = NULL;
    req.user = "alice";
    assert_int_equal(policy_may_send(NULL, &obj, &req, POLICY_CH_TAXII, &r), POLICY_DENY);
    assert_int_equal(r, POLICY_R_RED_NAMED);
}

/* ---- the relayed case of the design's story: SG -> JP -> third country ---- */

static void test_relay(void **state)
{
    /* We are JP. An SG indicator reached us through peer 7 (SG's node, org 70). */
    struct policy_object obj = {.tlp = STIX_TLP_GREEN,
                                .origin = POLICY_ORIGIN_PEER,
                                .from_peer = 7,
                                .from_org = 70,
                                .publisher_org = 70};
    struct policy_requester third = {
        .rel = POLICY_REL_PEER, .org_id = 80, .peer_id = 8, .agreement = STIX_TLP_AMBER};
    struct policy_requester back = {
        .rel = POLICY_REL_PEER, .org_id = 70, .peer_id = 7, .agreement = STIX_TLP_AMBER};
    enum policy_reason r;

    (void)state;
    assert_int_equal(policy_may_send(NULL, &obj, &third, POLICY_CH_PUSH, &r), POLICY_ALLOW);
    assert_int_equal(policy_may_send(NULL, &obj, &back, POLICY_CH_PUSH, &r), POLICY_DENY);
    assert_int_equal(r, POLICY_R_ORIGIN);
    /* SG's AMBER C2 list: JP keeps it inside JP and its clients, never to the third node. */
    obj.tlp = STIX_TLP_AMBER;
    assert_int_equal(policy_may_send(NULL, &obj, &third, POLICY_CH_SYNC_PULL, &r), POLICY_DENY);
    assert_int_equal(r, POLICY_R_RECV_NODE);
    /* Even a new peer id of the same origin organisation is the origin. */
    back.peer_id = 99;
    obj.tlp = STIX_TLP_CLEAR;
    assert_int_equal(policy_may_send(NULL, &obj, &back, POLICY_CH_EXPORT, &r), POLICY_DENY);
    assert_int_equal(r, POLICY_R_ORIGIN);
}

/* ---- reasons and names ---- */

static void test_reasons(void **state)
{
    static const enum policy_reason allows[] = {POLICY_R_CLEAR,     POLICY_R_COMMUNITY,
                                                POLICY_R_OWN_ORG,   POLICY_R_CLIENT,
                                                POLICY_R_AGREEMENT, POLICY_R_NAMED};
    int i, j;
    size_t k;
    bool allow;

    (void)state;
    for (i = 0; i < POLICY_R_COUNT_; i++) {
        allow = false;
        for (k = 0; k < CTIX_ARRAY_LEN(allows); k++)
            allow = allow || allows[k] == (enum policy_reason)i;
        assert_int_equal(policy_reason_verdict((enum policy_reason)i),
                         allow ? POLICY_ALLOW : POLICY_DENY);
        assert_non_null(policy_reason_name((enum policy_reason)i));
        assert_true(strlen(policy_reason_text((enum policy_reason)i)) > 10);
        assert_string_not_equal(policy_reason_name((enum policy_reason)i), "unknown");
        for (j = 0; j < i; j++)
            assert_string_not_equal(policy_reason_name((enum policy_reason)i),
                                    policy_reason_name((enum policy_reason)j));
    }
    assert_int_equal(policy_reason_verdict(POLICY_R_COUNT_), POLICY_DENY);
    assert_int_equal(policy_reason_verdict((enum policy_reason) - 1), POLICY_DENY);
    assert_string_equal(policy_reason_name(POLICY_R_COUNT_), "unknown");
    assert_string_equal(policy_reason_text((enum policy_reason) - 1), "unknown reason");
    /* The sentences the audit log and messages quote. */
    assert_string_equal(policy_reason_text(POLICY_R_AMBER_AGREEMENT),
                        "amber requires an agreement reaching amber");
    assert_string_equal(policy_reason_text(POLICY_R_RECV_NODE),
                        "received amber is never forwarded to another node");
    assert_string_equal(policy_reason_text(POLICY_R_ORIGIN), "never sent back to its origin");
    assert_string_equal(policy_reason_text(POLICY_R_RED_NAMED),
                        "red goes only to named recipients");
    assert_string_equal(policy_reason_text(POLICY_R_QUARANTINE),
                        "quarantined objects are not served onward");
    assert_string_equal(policy_verdict_name(POLICY_ALLOW), "allow");
    assert_string_equal(policy_verdict_name(POLICY_DENY), "deny");
    assert_string_equal(policy_channel_name(POLICY_CH_TAXII), "taxii");
    assert_string_equal(policy_channel_name(POLICY_CH_CONSOLE), "console");
    assert_string_equal(policy_channel_name(POLICY_CH_SYNC_PULL), "sync-pull");
    assert_string_equal(policy_channel_name(POLICY_CH_PUSH), "push");
    assert_string_equal(policy_channel_name(POLICY_CH_EXPORT), "export");
    assert_string_equal(policy_channel_name((enum policy_channel)0), "unknown");
    assert_string_equal(policy_channel_name((enum policy_channel)6), "unknown");
    assert_string_equal(policy_channel_name((enum policy_channel) - 1), "unknown");
}

static void test_count(void **state)
{
    (void)state;
    /* 4 origins x (5 TLPs + 6 defaults + no config) x 20 requesters x 5 channels, + 1 row. */
    assert_int_equal(n_checked, 4 * (5 + 6 + 1) * N_REQ * 5 + N_REQ * 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_marked), cmocka_unit_test(test_matrix_unmarked),
        cmocka_unit_test(test_bad_facts),     cmocka_unit_test(test_zeroed_denies),
        cmocka_unit_test(test_red_names),     cmocka_unit_test(test_relay),
        cmocka_unit_test(test_reasons),       cmocka_unit_test(test_count),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
