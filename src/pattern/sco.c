/* STIX 2.1 SCO definitions for PATTERN_STRICT (filled in next). */
#include "pattern/pattern_int.h"

bool pattern__sco_check(const struct pat_cmp *cmp, bool *at_lit, char *msg, size_t msg_len)
{
    (void)cmp;
    (void)at_lit;
    (void)msg;
    (void)msg_len;
    return true;
}
