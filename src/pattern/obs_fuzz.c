/* Fuzz target for pattern_obs_new_text: the input is the text of a bundle (or any bytes). It must
 * be accepted exactly when stix_json_parse accepts it (with the same diag otherwise), its value
 * tree must equal the jansson one, and the observations built both ways must give the same
 * answers and bindings for a fixed set of patterns. Any difference aborts. */
#include "pattern/pattern.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const patterns[] = {
    "[x-a:v = 1]",
    "[ipv4-addr:value = '1.2.3.4']",
    "[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8' AND network-traffic:dst_port = 443]",
    "[file:hashes.'SHA-256' = '10ec3784841679ee0f52f4b783156a171f8c2cd947f1f56ee17725d7d85630cf' "
    "OR file:name MATCHES '^a.*\\\\.exe$']",
    "[x-a:s LIKE 'a%'] FOLLOWEDBY [x-b:n > 2]",
    "[x-a:b_refs[*].v = 'x']",
    "[x-a:o.k[0] != 'z'] AND [x-b:n <= 3.5]",
    "[EXISTS x-a:v]",
    "[x-a:d_hex = h'00ff']",
    "([x-a:v = 1] OR [x-b:v = true]) REPEATS 2 TIMES WITHIN 10 SECONDS",
    "[x-a:t > t'2020-01-01T00:00:00Z'] START t'2019-01-01T00:00:00Z' STOP t'2030-01-01T00:00:00Z'",
};

#define N_PAT (sizeof(patterns) / sizeof(patterns[0]))

static struct pattern *pats[N_PAT];

/* True when the scanner's tree v equals jansson's j. */
static bool same_value(const struct pval *v, const json_t *j)
{
    switch (v->kind) {
    case PV_NULL:
        return json_is_null(j);
    case PV_TRUE:
        return json_is_true(j);
    case PV_FALSE:
        return json_is_false(j);
    case PV_INT:
        return json_is_integer(j) && json_integer_value(j) == v->u.i;
    case PV_REAL:
        return json_is_real(j) &&
               (json_real_value(j) == v->u.f || (isnan(v->u.f) && isnan(json_real_value(j))));
    case PV_STR:
        return json_is_string(j) && json_string_length(j) == v->n &&
               memcmp(json_string_value(j), v->u.s, v->n) == 0 && v->u.s[v->n] == '\0';
    case PV_ARR:
        if (!json_is_array(j) || json_array_size(j) != v->n)
            return false;
        for (uint32_t i = 0; i < v->n; i++)
            if (!same_value(&v->u.items[i], json_array_get(j, i)))
                return false;
        return true;
    case PV_OBJ:
        if (!json_is_object(j) || json_object_size(j) != v->n)
            return false;
        for (uint32_t i = 0; i < v->n; i++) {
            const struct pmember *m = &v->u.members[i];
            const json_t *c = json_object_getn(j, m->key, m->key_len);

            if (c == NULL || m->key[m->key_len] != '\0' || !same_value(&m->v, c) ||
                pattern__pval_get(v, m->key, m->key_len) != &m->v)
                return false;
        }
        return true;
    }
    return false;
}

static void same_answer(const struct pattern *p, const struct pattern_obs *a,
                        const struct pattern_obs *b)
{
    struct pattern_result ra, rb;
    struct ctix_diag d;
    enum ctix_rc rca = pattern__eval_budget(p, a, 200000, &ra, &d);
    enum ctix_rc rcb = pattern__eval_budget(p, b, 200000, &rb, &d);

    if (rca != rcb || ra.matched != rb.matched || ra.n_bound != rb.n_bound)
        abort();
    for (size_t i = 0; i < ra.n_bound; i++)
        if (strcmp(pattern_obs_id(a, ra.bound[i]), pattern_obs_id(b, rb.bound[i])) != 0)
            abort();
    pattern_result_cleanup(&ra);
    pattern_result_cleanup(&rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_t *doc = NULL, *empty = NULL;
    const json_t *objs;
    struct pattern_obs *oj = NULL, *ot = NULL;
    struct ctix_diag dj, dt;
    struct arena a;
    const struct pval *root = NULL;
    enum ctix_rc rj, rt;

    if (pats[0] == NULL) {
        for (size_t i = 0; i < N_PAT; i++)
            if (pattern_parse(patterns[i], strlen(patterns[i]), PATTERN_SYNTAX, &pats[i], &dj) !=
                CTIX_OK)
                abort();
    }
    memset(&dj, 0, sizeof(dj));
    memset(&dt, 0, sizeof(dt));
    rj = stix_json_parse(text, size, &doc, &dj);
    arena_init(&a);
    rt = pattern__json_scan(&a, text, size, &root, &dt);
    if (rj != rt)
        abort();
    if (rj != CTIX_OK) {
        if (dj.line != dt.line || dj.col != dt.col || strcmp(dj.msg, dt.msg) != 0)
            abort();
        goto out;
    }
    if (!same_value(root, doc))
        abort();
    /* The observations, the jansson way and from the text (for each pattern and for none). */
    objs = json_is_array(doc) ? doc : json_object_get(doc, "objects");
    if (json_is_object(doc) && objs == NULL)
        objs = empty = json_array();
    rj = pattern_obs_new(objs, &oj, &dj);
    rt = pattern_obs_new_text(text, size, NULL, &ot, &dt);
    if (rj != rt || (rj != CTIX_OK && rj != CTIX_ENOMEM && strcmp(dj.msg, dt.msg) != 0))
        abort();
    if (rj != CTIX_OK)
        goto out;
    if (pattern_obs_count(oj) != pattern_obs_count(ot))
        abort();
    for (size_t i = 0; i < N_PAT; i++) {
        struct pattern_obs *op = NULL;

        same_answer(pats[i], oj, ot);
        if (pattern_obs_new_text(text, size, pats[i], &op, &dt) != CTIX_OK)
            abort();
        same_answer(pats[i], oj, op);
        pattern_obs_free(op);
    }
out:
    arena_cleanup(&a);
    pattern_obs_free(oj);
    pattern_obs_free(ot);
    json_decref(doc);
    json_decref(empty);
    return 0;
}
