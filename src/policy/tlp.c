/* The TLP side of policy: which TLP an object carries (TLP 1.0 and 2.0, object and granular
 * markings, strictest wins), the configured default for unmarked objects, and the RED recipients.
 * The marking ids themselves are stix/'s one table (stix_tlp_of_marking, which compares them
 * without regard to case: a UUID may be written in upper case, and a TLP:RED marking read as
 * "unmarked" would fall to the default and leak). */
#include "policy/policy.h"

#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    enum stix_tlp tlp;
} tlp_names[] = {
    {"clear", STIX_TLP_CLEAR},
    {"white", STIX_TLP_CLEAR},
    {"green", STIX_TLP_GREEN},
    {"amber", STIX_TLP_AMBER},
    {"amber+strict", STIX_TLP_AMBER_STRICT},
    {"red", STIX_TLP_RED},
};

static bool tlp_valid(enum stix_tlp t)
{
    /* Through unsigned so that a negative value from a stored int is out of range too. */
    return (unsigned)t <= (unsigned)STIX_TLP_RED;
}

enum stix_tlp policy_tlp_of_marking(const char *marking_id)
{
    return stix_tlp_of_marking(marking_id);
}

static enum stix_tlp stricter(enum stix_tlp a, const json_t *ref)
{
    enum stix_tlp b = policy_tlp_of_marking(json_string_value(ref));

    return b > a ? b : a;
}

enum stix_tlp policy_tlp_marked(const json_t *j)
{
    enum stix_tlp tlp = STIX_TLP_NONE;
    const json_t *v;
    const char *type;
    size_t i;

    if (!json_is_object(j))
        goto out;
    /* json_array_foreach on a non-array (or NULL) runs no iteration. */
    json_array_foreach(json_object_get(j, "object_marking_refs"), i, v)
    {
        tlp = stricter(tlp, v);
    }
    json_array_foreach(json_object_get(j, "granular_markings"), i, v)
    {
        tlp = stricter(tlp, json_object_get(v, "marking_ref"));
    }
    /* The TLP definitions are public and every bundle may carry them: with an AMBER default they
     * would be withheld from the very readers who need them to read the markings. */
    type = json_string_value(json_object_get(j, "type"));
    if (tlp == STIX_TLP_NONE && type != NULL && strcmp(type, "marking-definition") == 0 &&
        policy_tlp_of_marking(json_string_value(json_object_get(j, "id"))) != STIX_TLP_NONE)
        tlp = STIX_TLP_CLEAR;
out:
    return tlp;
}

enum stix_tlp policy_tlp_effective(enum stix_tlp marked, const struct policy_config *cfg)
{
    enum stix_tlp tlp = marked;

    if (!tlp_valid(tlp)) {
        tlp = STIX_TLP_RED;
        goto out;
    }
    if (tlp != STIX_TLP_NONE)
        goto out;
    tlp = cfg != NULL ? cfg->unmarked : STIX_TLP_NONE;
    if (!tlp_valid(tlp))
        tlp = STIX_TLP_RED;
    else if (tlp == STIX_TLP_NONE)
        tlp = STIX_TLP_AMBER;
out:
    return tlp;
}

bool policy_tlp_parse(const char *s, enum stix_tlp *out)
{
    bool ok = false;
    size_t i;

    if (s == NULL || out == NULL)
        goto out;
    if (strncasecmp(s, "tlp:", 4) == 0)
        s += 4;
    for (i = 0; i < CTIX_ARRAY_LEN(tlp_names); i++) {
        if (strcasecmp(s, tlp_names[i].name) == 0) {
            *out = tlp_names[i].tlp;
            ok = true;
            break;
        }
    }
out:
    return ok;
}

size_t policy_recipients_get(const json_t *j, const char **out, size_t cap)
{
    const json_t *v;
    const char *s;
    size_t i, n = 0;

    json_array_foreach(json_object_get(j, POLICY_RECIPIENTS_PROP), i, v)
    {
        if (n == cap)
            break;
        s = json_string_value(v);
        if (s != NULL && s[0] != '\0')
            out[n++] = s;
    }
    return n;
}
