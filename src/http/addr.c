/* Listen addresses: parsing "HOST:PORT" and telling loopback from the rest. Kept apart from the
 * libmicrohttpd glue so that `ctix serve` can judge an address (refuse plain HTTP off loopback)
 * before anything binds, and so that the rules are unit-tested without a socket. */
#include "http/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

enum ctix_rc http_listen_parse(const char *s, char host[HTTP_HOST_MAX], uint16_t *port,
                               struct ctix_diag *diag)
{
    enum ctix_rc rc = CTIX_EINVAL;
    const char *colon, *hstart, *hend;
    char tmp[HTTP_HOST_MAX];
    unsigned char bin[sizeof(struct in6_addr)];
    uint64_t p;
    size_t hlen;
    bool v6 = false;

    if (s == NULL || s[0] == '\0') {
        ctix_diag_set(diag, NULL, "empty address (want HOST:PORT)");
        goto out;
    }
    if (s[0] == '[') {
        hstart = s + 1;
        hend = strchr(hstart, ']');
        if (hend == NULL || hend[1] != ':') {
            ctix_diag_set(diag, NULL, "'%s': want [IPV6]:PORT", s);
            goto out;
        }
        colon = hend + 1;
        v6 = true;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            ctix_diag_set(diag, NULL, "'%s': missing :PORT", s);
            goto out;
        }
        hstart = s;
        hend = colon;
        if (memchr(hstart, ':', (size_t)(hend - hstart)) != NULL) {
            ctix_diag_set(diag, NULL, "'%s': write an IPv6 address in brackets, [::1]:PORT", s);
            goto out;
        }
    }
    hlen = (size_t)(hend - hstart);
    if (hlen == 0 || hlen >= sizeof(tmp)) {
        ctix_diag_set(diag, NULL, "'%s': bad host", s);
        goto out;
    }
    if (!ctix_parse_u64(colon + 1, 65535, &p)) {
        ctix_diag_set(diag, NULL, "'%s': port must be a number from 0 to 65535", s);
        goto out;
    }
    memcpy(tmp, hstart, hlen);
    tmp[hlen] = '\0';
    if (!v6 && strcmp(tmp, "localhost") == 0) {
        ctix_strlcpy(tmp, "127.0.0.1", sizeof(tmp));
    } else if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, bin) != 1) {
        ctix_diag_set(diag, NULL, "'%s': host must be a numeric %s address%s", s,
                      v6 ? "IPv6" : "IPv4", v6 ? "" : ", [IPv6] or localhost");
        goto out;
    }
    ctix_strlcpy(host, tmp, HTTP_HOST_MAX);
    *port = (uint16_t)p;
    rc = CTIX_OK;
out:
    return rc;
}

bool http_host_is_loopback(const char *host)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct in_addr a4;
    struct in6_addr a6;

    if (host == NULL)
        return false;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0)
            return true;
        return memcmp(a6.s6_addr, v4mapped, sizeof(v4mapped)) == 0 && a6.s6_addr[12] == 127;
    }
    return false;
}
