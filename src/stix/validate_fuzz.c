/* Fuzz target: STIX JSON through the container reader, validation of each element, and the
 * single-object parser on the raw bytes. Everything allocated is freed. */
#include "stix/stix.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctix_diag diag;
    struct stix_obj *o = NULL;
    json_t *objs = NULL, *e;
    size_t i;

    if (stix_container_parse((const char *)data, size, &objs, &diag) == CTIX_OK) {
        json_array_foreach(objs, i, e)
        {
            if (stix_obj_from_json(e, &o, &diag) == CTIX_OK) {
                char *s = stix_obj_to_json(o, NULL);
                char id[STIX_ID_MAX];

                free(stix_canonical_json(o->json, NULL));
                if (stix_sco_id(o->json, id) != CTIX_OK)
                    id[0] = '\0';
                free(s);
                stix_obj_free(o);
            }
        }
        json_decref(objs);
    }
    if (stix_obj_parse((const char *)data, size, &o, &diag) == CTIX_OK)
        stix_obj_free(o);
    return 0;
}
