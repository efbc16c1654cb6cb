/* What a log scanner needs of one pattern: the keys (property, value) that any matching
 * observation must satisfy in at least one SCO, and whether satisfying one is the whole test.
 *
 * The walk is iterative (an explicit frame stack and a result stack, like an RPN evaluator):
 * `a OR b OR c …` parses into a left-deep tree as deep as the pattern is long, so recursion could
 * run out of stack on a pattern with a long OR chain. Each subtree's result is a linked list of
 * comparisons (indexes into one array, so lists join in O(1) and the array may move), with its
 * count of keys and of ANY keys; AND and FOLLOWEDBY keep the list of one side, OR joins both.
 *
 * The path handed to the callback is built in a buffer owned by the walk: it is valid only during
 * the callback (the caller copies what it keeps). The key's value points into the pattern. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "stix/stix.h"

#define KS_NONE SIZE_MAX

/* One comparison in a subtree's list. */
struct kleaf {
    const struct pat_cmp *cmp;
    size_t next; /* KS_NONE at the end */
};

/* The keys of a subtree: the comparisons that give them, how many keys and how many are ANY. */
struct kset {
    size_t head, tail;
    size_t n_keys, n_any;
};

struct kframe {
    const struct pat_oexpr *o; /* exactly one of o and c */
    const struct pat_cexpr *c;
    int state; /* 0: not entered; 1: left done; 2: right done */
};

struct kwalk {
    struct kleaf *leaves;
    size_t n_leaves, cap_leaves;
    struct kframe *frames;
    size_t n_frames, cap_frames;
    struct kset *sets;
    size_t n_sets, cap_sets;
    bool exact;
    bool nomem;
};

static bool step_is(const struct pat_step *st, const char *key)
{
    size_t n = strlen(key);

    return st->kind == PAT_STEP_KEY && st->key != NULL && st->key_len == n &&
           memcmp(st->key, key, n) == 0;
}

/* network-traffic:src_ref.value or network-traffic:dst_ref.value: the address at one end of a
 * connection. Its keys are the address's (a scanner finds the records holding it), but never
 * exact: the address may be in a record at the other end of its connection, or outside it. */
static bool path_conn_addr(const struct pat_path *path)
{
    return strcmp(path->type, "network-traffic") == 0 && path->n_steps == 2 &&
           (step_is(&path->steps[0], "src_ref") || step_is(&path->steps[0], "dst_ref")) &&
           step_is(&path->steps[1], "value");
}

/* ipv4-addr:value or ipv6-addr:value, or a connection's address (path_conn_addr). */
static bool path_ip(const struct pat_path *path)
{
    return ((strcmp(path->type, "ipv4-addr") == 0 || strcmp(path->type, "ipv6-addr") == 0) &&
            path->n_steps == 1 && step_is(&path->steps[0], "value")) ||
           path_conn_addr(path);
}

/* A string literal in CIDR form ("10.0.0.0/8"): how indicators name a network with `=`. */
static bool lit_cidr(const struct pat_lit *l)
{
    struct pat_cidr c;

    return l->kind == PAT_LIT_STR && memchr(l->u.s.p, '/', l->u.s.n) != NULL &&
           memchr(l->u.s.p, '\0', l->u.s.n) == NULL && pattern__cidr_parse(l->u.s.p, l->u.s.n, &c);
}

/* LIKE 'abc%': the length of the prefix when the only wildcards are '%' at the end, else
 * SIZE_MAX. A LIKE without wildcards is equality: *eq is set. */
static size_t like_prefix(const struct pat_cmp *c, bool *eq)
{
    size_t n = c->like_len, k;

    *eq = false;
    if (c->like == NULL)
        return SIZE_MAX;
    k = n;
    while (k > 0 && c->like[k - 1] == '%')
        k--;
    for (size_t i = 0; i < k; i++) {
        if (c->like[i] == '%' || c->like[i] == '_')
            return SIZE_MAX;
    }
    *eq = k == n;
    return k;
}

enum kkind { KK_ANY, KK_SET, KK_CIDR, KK_PREFIX, KK_LIKE_EQ };

/* What one comparison gives; *n_keys the number of keys. */
static enum kkind cmp_kind(const struct pat_cmp *c, size_t *n_keys)
{
    bool eq;

    *n_keys = 1;
    if (c->negated || !(pattern__path_plain(&c->path) || path_conn_addr(&c->path)))
        return KK_ANY;
    switch (c->op) {
    case PAT_OP_EQ:
        return c->lit.kind == PAT_LIT_STR ? KK_SET : KK_ANY;
    case PAT_OP_IN:
        if (c->lit.kind != PAT_LIT_SET)
            return KK_ANY;
        for (size_t i = 0; i < c->lit.u.set.n; i++) {
            if (c->lit.u.set.v[i].kind != PAT_LIT_STR)
                return KK_ANY;
        }
        *n_keys = c->lit.u.set.n;
        return KK_SET;
    case PAT_OP_ISSUBSET:
        return path_ip(&c->path) && c->lit.kind == PAT_LIT_STR ? KK_CIDR : KK_ANY;
    case PAT_OP_LIKE:
        if (like_prefix(c, &eq) == SIZE_MAX)
            return KK_ANY;
        return eq ? KK_LIKE_EQ : KK_PREFIX;
    default:
        return KK_ANY;
    }
}

/* "type:key.key", quotes removed; list steps as [n] and [*] (no scanner path has them). */
static bool path_text(const struct pat_path *path, struct buf *b)
{
    enum ctix_rc rc;
    char idx[32];

    buf_reset(b);
    rc = buf_appends(b, path->type);
    if (rc == CTIX_OK)
        rc = buf_append(b, ":", 1);
    for (size_t i = 0; rc == CTIX_OK && i < path->n_steps; i++) {
        const struct pat_step *st = &path->steps[i];

        if (st->kind == PAT_STEP_INDEX) {
            snprintf(idx, sizeof(idx), "[%lld]", (long long)st->index);
            rc = buf_appends(b, idx);
        } else if (st->kind == PAT_STEP_ANY) {
            rc = buf_append(b, "[*]", 3);
        } else {
            if (i > 0)
                rc = buf_append(b, ".", 1);
            if (rc == CTIX_OK && st->key_len > 0)
                rc = buf_append(b, st->key, st->key_len);
        }
    }
    return rc == CTIX_OK;
}

static bool frame_push(struct kwalk *w, const struct pat_oexpr *o, const struct pat_cexpr *c)
{
    if (ctix_array_reserve((void **)&w->frames, &w->cap_frames, w->n_frames + 1,
                           sizeof(*w->frames)) != CTIX_OK)
        return false;
    w->frames[w->n_frames++] = (struct kframe){.o = o, .c = c, .state = 0};
    return true;
}

static bool set_push(struct kwalk *w, struct kset s)
{
    if (ctix_array_reserve((void **)&w->sets, &w->cap_sets, w->n_sets + 1, sizeof(*w->sets)) !=
        CTIX_OK)
        return false;
    w->sets[w->n_sets++] = s;
    return true;
}

static bool leaf_push(struct kwalk *w, const struct pat_cmp *c)
{
    struct kset s;
    size_t n;

    if (ctix_array_reserve((void **)&w->leaves, &w->cap_leaves, w->n_leaves + 1,
                           sizeof(*w->leaves)) != CTIX_OK)
        return false;
    w->leaves[w->n_leaves] = (struct kleaf){.cmp = c, .next = KS_NONE};
    s.head = s.tail = w->n_leaves++;
    s.n_any = cmp_kind(c, &n) == KK_ANY ? 1 : 0;
    s.n_keys = n;
    return set_push(w, s);
}

/* Pops the two top results and pushes their combination: both (OR) or the better one. */
static void sets_combine(struct kwalk *w, bool both)
{
    struct kset r = w->sets[--w->n_sets];
    struct kset *l = &w->sets[w->n_sets - 1];

    if (both) {
        if (l->head == KS_NONE) {
            *l = r;
        } else if (r.head != KS_NONE) {
            w->leaves[l->tail].next = r.head;
            l->tail = r.tail;
            l->n_keys += r.n_keys;
            l->n_any += r.n_any;
        }
        return;
    }
    /* One side suffices: fewer ANY keys first (they let whole record kinds through), then fewer
     * keys; the left side on a tie. */
    if (r.n_any < l->n_any || (r.n_any == l->n_any && r.n_keys < l->n_keys))
        *l = r;
}

/* One step of the walk on the top frame. */
static bool walk_step(struct kwalk *w)
{
    struct kframe *f = &w->frames[w->n_frames - 1];

    if (f->c != NULL) {
        const struct pat_cexpr *c = f->c;

        if (c->kind == PAT_C_CMP) {
            w->n_frames--;
            if (c->cmp == NULL)
                return set_push(w, (struct kset){KS_NONE, KS_NONE, 0, 0});
            return leaf_push(w, c->cmp);
        }
        if (f->state == 0) {
            f->state = 1;
            return frame_push(w, NULL, c->l);
        }
        if (f->state == 1) {
            f->state = 2;
            return frame_push(w, NULL, c->r);
        }
        if (c->kind == PAT_C_AND)
            w->exact = false;
        w->n_frames--;
        sets_combine(w, c->kind == PAT_C_OR);
        return true;
    }

    const struct pat_oexpr *o = f->o;

    switch (o->kind) {
    case PAT_O_OBS:
        if (f->state == 0) {
            f->state = 1;
            if (o->c == NULL) {
                w->n_frames--;
                return set_push(w, (struct kset){KS_NONE, KS_NONE, 0, 0});
            }
            return frame_push(w, NULL, o->c);
        }
        w->n_frames--;
        return true;
    case PAT_O_AND:
    case PAT_O_OR:
    case PAT_O_FOLLOWEDBY:
        w->exact = false;
        if (f->state == 0) {
            f->state = 1;
            return frame_push(w, o->l, NULL);
        }
        if (f->state == 1) {
            f->state = 2;
            return frame_push(w, o->r, NULL);
        }
        w->n_frames--;
        sets_combine(w, o->kind == PAT_O_OR);
        return true;
    case PAT_O_WITHIN:
    case PAT_O_REPEATS:
    case PAT_O_STARTSTOP:
        w->exact = false;
        if (f->state == 0) {
            f->state = 1;
            return frame_push(w, o->l, NULL);
        }
        w->n_frames--;
        return true;
    }
    return false;
}

/* Calls fn for each key of one comparison. */
static int cmp_emit(const struct pat_cmp *c, struct buf *path, pattern_key_fn fn, void *arg)
{
    struct pattern_key k;
    size_t n;
    enum kkind kind = cmp_kind(c, &n);
    bool eq;
    int r = 0;

    if (!path_text(&c->path, path))
        return -1;
    k.path = path->data;
    k.val = NULL;
    k.len = 0;
    switch (kind) {
    case KK_ANY:
        k.op = PATTERN_KEY_ANY;
        r = fn(&k, arg);
        break;
    case KK_CIDR:
        k.op = PATTERN_KEY_CIDR;
        k.val = c->lit.u.s.p;
        k.len = c->lit.u.s.n;
        r = fn(&k, arg);
        break;
    case KK_PREFIX:
    case KK_LIKE_EQ:
        k.op = kind == KK_PREFIX ? PATTERN_KEY_PREFIX : PATTERN_KEY_EQ;
        k.val = c->like;
        k.len = like_prefix(c, &eq);
        r = fn(&k, arg);
        break;
    case KK_SET: {
        const struct pat_lit *v = c->op == PAT_OP_IN ? c->lit.u.set.v : &c->lit;
        size_t nv = c->op == PAT_OP_IN ? c->lit.u.set.n : 1;
        bool ip = path_ip(&c->path);

        for (size_t i = 0; r == 0 && i < nv; i++) {
            k.op = ip && lit_cidr(&v[i]) ? PATTERN_KEY_CIDR : PATTERN_KEY_EQ;
            k.val = v[i].u.s.p;
            k.len = v[i].u.s.n;
            r = fn(&k, arg);
        }
        break;
    }
    }
    return r;
}

int pattern_scan_keys(const struct pattern *p, pattern_key_fn fn, void *arg, bool *exact)
{
    struct kwalk w;
    struct buf path;
    int r = 0;

    memset(&w, 0, sizeof(w));
    buf_init(&path, 1u << 20);
    *exact = false;
    if (p == NULL || p->root == NULL)
        goto out;
    w.exact = p->root->kind == PAT_O_OBS;
    if (!frame_push(&w, p->root, NULL))
        goto nomem;
    while (w.n_frames > 0) {
        if (!walk_step(&w))
            goto nomem;
    }
    if (w.n_sets != 1)
        goto nomem; /* cannot happen with a well-formed tree; treat as a failure */
    for (size_t i = w.sets[0].head; r == 0 && i != KS_NONE; i = w.leaves[i].next) {
        r = cmp_emit(w.leaves[i].cmp, &path, fn, arg);
        if (path_conn_addr(&w.leaves[i].cmp->path))
            w.exact = false;
    }
    *exact = r == 0 && w.exact && w.sets[0].n_any == 0;
    goto out;
nomem:
    /* No keys could be worked out: the one prefilter that is still right is "evaluate". The
     * caller learns it from the -1 (its own returns are its own business). */
    r = -1;
out:
    free(w.leaves);
    free(w.frames);
    free(w.sets);
    buf_cleanup(&path);
    return r;
}
