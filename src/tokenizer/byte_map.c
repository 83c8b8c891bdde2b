/* byte_map.c — GPT-2's bytes_to_unicode and its inverse, plus a strict
 * UTF-8 decoder for one character. */
#include "tokenizer/byte_map.h"

#include <pthread.h>

/* Bytes that map to themselves: '!'..'~', 0xA1..0xAC, 0xAE..0xFF. */
static int is_direct(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

uint32_t byte_to_cpt(unsigned char b)
{
    if (is_direct(b))
        return b;
    /* The other 68 bytes map, in increasing order, to U+0100, U+0101, ... */
    uint32_t k = 0;
    for (unsigned x = 0; x < b; x++)
        if (!is_direct(x))
            k++;
    return 0x100 + k;
}

int cpt_to_byte(uint32_t cpt)
{
    if (cpt < 0x100)
        return is_direct(cpt) ? (int)cpt : -1;
    uint32_t k = 0;
    for (unsigned x = 0; x < 256; x++)
        if (!is_direct(x)) {
            if (0x100 + k == cpt)
                return (int)x;
            k++;
        }
    return -1;
}

static char enc_table[256][2];
static unsigned char enc_len[256];
static pthread_once_t enc_once = PTHREAD_ONCE_INIT;

static void build_enc_table(void)
{
    for (unsigned x = 0; x < 256; x++) {
        uint32_t c = byte_to_cpt((unsigned char)x);
        if (c < 0x80) {
            enc_table[x][0] = (char)c;
            enc_len[x] = 1;
        } else {
            enc_table[x][0] = (char)(0xC0 | (c >> 6));
            enc_table[x][1] = (char)(0x80 | (c & 0x3F));
            enc_len[x] = 2;
        }
    }
}

size_t byte_encode(unsigned char b, char out[2])
{
    pthread_once(&enc_once, build_enc_table);
    out[0] = enc_table[b][0];
    out[1] = enc_table[b][1];
    return enc_len[b];
}

size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cpt)
{
    if (avail == 0)
        return 0;
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cpt = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2; v = c & 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3; v = c & 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4; v = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cpt = v;
    return n;
}
