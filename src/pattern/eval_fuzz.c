/* Fuzz target for evaluation: the input is a pattern, then (after the first NUL or newline) a JSON
 * bundle or list of STIX objects. Each pattern that parses (either mode) is evaluated over the
 * observations that build; nothing may crash, leak or run unbounded. The step budget is smaller
 * than pattern_eval's so that a slow input shows up as a slow unit, not a timeout. */
#include "pattern/pattern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void eval_one(const struct pattern *p, const struct pattern_obs *o)
{
    struct pattern_result res;
    struct ctix_diag diag;
    enum ctix_rc rc = pattern__eval_budget(p, o, 200000, &res, &diag);

    if (rc != CTIX_OK && res.matched)
        abort();
    for (size_t i = 0; i < res.n_bound; i++) {
        if (res.bound[i] >= pattern_obs_count(o))
            abort();
    }
    pattern_result_cleanup(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t plen = 0;
    json_t *doc = NULL;
    const json_t *objs;
    struct pattern_obs *o = NULL;
    struct pattern *ps[2] = {NULL, NULL};
    struct ctix_diag diag;

    while (plen < size && buf[plen] != '\0' && buf[plen] != '\n')
        plen++;
    if (plen == size || stix_json_parse(buf + plen + 1, size - plen - 1, &doc, &diag) != CTIX_OK)
        return 0;
    objs = json_is_array(doc) ? doc : json_object_get(doc, "objects");
    if (pattern_obs_new(objs, &o, &diag) != CTIX_OK)
        goto out;
    if (pattern_parse(buf, plen, PATTERN_SYNTAX, &ps[0], &diag) == CTIX_OK)
        eval_one(ps[0], o);
    if (pattern_parse(buf, plen, PATTERN_STRICT, &ps[1], &diag) == CTIX_OK)
        eval_one(ps[1], o);
out:
    pattern_free(ps[0]);
    pattern_free(ps[1]);
    pattern_obs_free(o);
    json_decref(doc);
    return 0;
}
