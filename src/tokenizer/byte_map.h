/* byte_map.h — GPT-2's bytes_to_unicode: each byte maps to one printable
 * code point, so byte-level BPE vocabularies are written as UTF-8 text. */
#ifndef SMC_TOKENIZER_BYTE_MAP_H
#define SMC_TOKENIZER_BYTE_MAP_H

#include <stddef.h>
#include <stdint.h>

/* The code point byte b maps to (U+0021..U+00FF or U+0100..U+0143). */
uint32_t byte_to_cpt(unsigned char b);
/* The byte a code point stands for, or -1 when it is not in the map. */
int cpt_to_byte(uint32_t cpt);
/* Writes the UTF-8 of byte_to_cpt(b) to out (1 or 2 bytes); returns its length. */
size_t byte_encode(unsigned char b, char out[2]);
/* Decodes one UTF-8 character of s (at most avail bytes): sets *cpt and
 * returns its length, or returns 0 when s does not start with valid UTF-8. */
size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cpt);

#endif
