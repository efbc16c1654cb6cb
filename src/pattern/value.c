/* Value-level helpers of evaluation that need no observation: decoding *_hex and *_bin values and
 * SQL LIKE over code points. */
#include <string.h>

#include "pattern/pattern_int.h"

bool pattern__unhex(const char *s, size_t n, uint8_t *out, size_t *out_len)
{
    if (n % 2 != 0)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = ctix_hexval(s[i]), lo = ctix_hexval(s[i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = n / 2;
    return true;
}

/* RFC 4648 base64 with padding; the empty string is the empty value. */
bool pattern__unbase64(const char *s, size_t n, uint8_t *out, size_t *out_len)
{
    size_t k = 0;

    if (n % 4 != 0)
        return false;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;

        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)s[i + j];

            if (c == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
                continue;
            }
            if (pad > 0)
                return false; /* data after '=' */
            v[j] = ctix_b64val(c);
            if (v[j] < 0)
                return false;
        }
        out[k++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
        if (pad < 2)
            out[k++] = (uint8_t)((v[1] & 0xf) << 4 | v[2] >> 2);
        if (pad < 1)
            out[k++] = (uint8_t)((v[2] & 0x3) << 6 | v[3]);
    }
    *out_len = k;
    return true;
}

/* Length of the UTF-8 sequence starting at s[0] (input is valid UTF-8; 1 for a stray byte so
 * that we always advance). */
static size_t u8len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t l = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

    return l <= n ? l : n;
}

/* The classic wildcard match with one backtracking point (the last '%'): correct for patterns
 * made of literals, '_' and '%', and O(n * m) at worst, without recursion. */
bool pattern__like(const char *s, size_t n, const char *pat, size_t pn)
{
    size_t si = 0, pi = 0;
    size_t star_p = SIZE_MAX, star_s = 0;

    while (si < n) {
        if (pi < pn && pat[pi] == '%') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < pn && pat[pi] == '_') {
            si += u8len(s + si, n - si);
            pi++;
            continue;
        }
        if (pi < pn) {
            size_t l = u8len(pat + pi, pn - pi);

            if (l <= n - si && memcmp(s + si, pat + pi, l) == 0) {
                si += l;
                pi += l;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        /* Let the last '%' swallow one more code point and retry from there. */
        star_s += u8len(s + star_s, n - star_s);
        si = star_s;
        pi = star_p;
    }
    while (pi < pn && pat[pi] == '%')
        pi++;
    return pi == pn;
}
