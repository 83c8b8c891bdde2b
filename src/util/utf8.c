/* utf8.c — UTF-8 validity checks shared by the JSON writers and the
 * server's streaming (which must not cut a character in two). */
#include "util/utf8.h"

#include <stdlib.h>
#include <string.h>

size_t smc_utf8_seq(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t k;
    unsigned min;
    unsigned c;
    if ((s[0] & 0xe0) == 0xc0) {
        k = 2, min = 0x80, c = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        k = 3, min = 0x800, c = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        k = 4, min = 0x10000, c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return k;
}

char *smc_utf8_clean(const char *s, size_t n)
{
    char *o = malloc(3 * n + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        size_t k = s[i] ? smc_utf8_seq((const unsigned char *)s + i, n - i) : 0;
        if (k == 0) {
            memcpy(o + j, "\xef\xbf\xbd", 3);
            j += 3;
            i++;
        } else {
            memcpy(o + j, s + i, k);
            j += k;
            i += k;
        }
    }
    o[j] = 0;
    return o;
}

size_t smc_utf8_whole_prefix(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    /* The last lead byte within 3 bytes of the end. */
    for (size_t back = 1; back <= 4 && back <= n; back++) {
        unsigned char c = u[n - back];
        if ((c & 0xc0) == 0x80)
            continue; /* a continuation byte */
        size_t need = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
        return back < need ? n - back : n;
    }
    return n;
}
