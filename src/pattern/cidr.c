/* IPv4 and IPv6 networks for ISSUBSET and ISSUPERSET: parsed once per constant at parse time and
 * once per value at evaluation. inet_pton does the address forms (it rejects leading zeros in IPv4
 * octets, as the reference matcher's ipaddress module does); the prefix is ours. */
#include <arpa/inet.h>
#include <string.h>

#include "pattern/pattern_int.h"

bool pattern__cidr_parse(const char *s, size_t len, struct pat_cidr *out)
{
    char addr[64];
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    unsigned prefix = 0, max;
    bool ok = false;
    struct pat_cidr c;

    memset(&c, 0, sizeof(c));
    if (alen == 0 || alen >= sizeof(addr))
        goto out;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, c.addr) == 1) {
        c.family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, addr, c.addr) == 1) {
        c.family = 6;
        max = 128;
    } else {
        goto out;
    }
    if (slash) {
        const char *p = slash + 1, *end = s + len;
        /* Decimal, no sign, no leading zero, at most three digits. */
        if (p == end || end - p > 3 || (*p == '0' && end - p > 1))
            goto out;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                goto out;
            prefix = prefix * 10 + (unsigned)(*p - '0');
        }
        if (prefix > max)
            goto out;
    } else {
        prefix = max;
    }
    c.prefix = (uint8_t)prefix;
    for (unsigned bit = prefix; bit < max; bit++)
        c.addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    *out = c;
    ok = true;
out:
    return ok;
}

bool pattern__cidr_within(const struct pat_cidr *a, const struct pat_cidr *b)
{
    bool in = false;
    unsigned full, rest;

    if (a->family != b->family || a->prefix < b->prefix)
        goto out;
    full = b->prefix / 8;
    rest = b->prefix % 8;
    if (memcmp(a->addr, b->addr, full) != 0)
        goto out;
    if (rest) {
        uint8_t mask = (uint8_t)(0xffu << (8 - rest));
        if ((a->addr[full] & mask) != b->addr[full])
            goto out;
    }
    in = true;
out:
    return in;
}
