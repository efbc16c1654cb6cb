/* Markings: the TLP 1.0 and TLP 2.0 marking-definition ids (§A15) and the effective TLP of an
 * object, the strictest of its object and granular markings. */
#include "stix/stix.h"

#include <string.h>
#include <strings.h>

static const struct {
    const char *id;
    enum stix_tlp tlp;
} tlp_ids[] = {
    /* TLP 1.0, defined by STIX 2.1 itself */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", STIX_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", STIX_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", STIX_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", STIX_TLP_RED},
    /* TLP 2.0, the OASIS extension */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", STIX_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", STIX_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", STIX_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", STIX_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", STIX_TLP_RED},
};

enum stix_tlp stix_tlp_of_marking(const char *marking_id)
{
    size_t i;

    if (marking_id == NULL)
        return STIX_TLP_NONE;
    for (i = 0; i < CTIX_ARRAY_LEN(tlp_ids); i++) {
        /* UUIDs are valid in either case, so "…E828B379…" is TLP:RED too: a case-sensitive
         * compare would store it as unmarked and serve it under the (laxer) default. */
        if (strcasecmp(marking_id, tlp_ids[i].id) == 0)
            return tlp_ids[i].tlp;
    }
    return STIX_TLP_NONE;
}

const char *stix_tlp_name(enum stix_tlp tlp)
{
    switch (tlp) {
    case STIX_TLP_NONE:
        break;
    case STIX_TLP_CLEAR:
        return "clear";
    case STIX_TLP_GREEN:
        return "green";
    case STIX_TLP_AMBER:
        return "amber";
    case STIX_TLP_AMBER_STRICT:
        return "amber+strict";
    case STIX_TLP_RED:
        return "red";
    }
    return "none";
}

static enum stix_tlp stricter(enum stix_tlp a, const json_t *ref)
{
    enum stix_tlp b = stix_tlp_of_marking(json_string_value(ref));

    return b > a ? b : a;
}

enum stix_tlp stix_tlp_effective(const json_t *j)
{
    enum stix_tlp tlp = STIX_TLP_NONE;
    const json_t *v;
    size_t i;

    json_array_foreach(json_object_get(j, "object_marking_refs"), i, v)
    {
        tlp = stricter(tlp, v);
    }
    json_array_foreach(json_object_get(j, "granular_markings"), i, v)
    {
        tlp = stricter(tlp, json_object_get(v, "marking_ref"));
    }
    return tlp;
}
