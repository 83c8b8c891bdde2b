/* spm.c — SentencePiece-style tokenization of one raw-text fragment, as
 * llama.cpp's SPM tokenizer does it: spaces become U+2581, the text is split
 * into UTF-8 characters, and the adjacent pair whose concatenation is the
 * vocabulary token with the highest score is merged first (leftmost on ties).
 * Symbols that are not tokens fall back to byte tokens <0xNN>. Unlike
 * llama.cpp, a byte of invalid UTF-8 is a symbol on its own, so that any
 * byte string round-trips (valid UTF-8 tokenizes exactly as in llama.cpp). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/byte_map.h"
#include "tokenizer/merge_heap.h"
#include "tokenizer/vocab_internal.h"
#include "util/error.h"

typedef struct spm_sym {
    uint32_t start, n;   /* in the escaped text; n = 0 once merged away */
    int32_t prev, next;
} spm_sym;

static const char SPACE_MARK[3] = {'\xE2', '\x96', '\x81'}; /* U+2581 */

static int offer(const smc_vocab *v, const char *s, const spm_sym *sym, merge_heap *h,
                 int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return 0;
    const spm_sym *l = &sym[left], *r = &sym[right];
    int32_t id = vocab_text_to_id(v, s + l->start, (size_t)l->n + r->n);
    if (id < 0)
        return 0;
    merge_cand c = {-(double)v->scores[id], left, right, l->n, r->n};
    return merge_heap_push(h, c);
}

int spm_tokenize_fragment(const smc_vocab *v, const char *text, size_t len, id_vec *out,
                          smc_error *err)
{
    if (len > (size_t)INT32_MAX / 4)
        return smc_fail(err, "text of %zu bytes is too long to tokenize", len);
    if (len == 0)
        return 0;
    size_t n_spaces = 0;
    for (size_t i = 0; i < len; i++)
        n_spaces += text[i] == ' ';
    size_t elen = len + 2 * n_spaces;
    char *s = malloc(elen);
    spm_sym *sym = malloc(len * sizeof *sym);
    merge_heap heap = {0};
    int rc = -1;
    if (!s || !sym)
        goto done;
    for (size_t i = 0, j = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(s + j, SPACE_MARK, 3);
            j += 3;
        } else {
            s[j++] = text[i];
        }
    }
    int32_t n_sym = 0;
    for (size_t off = 0; off < elen;) {
        /* One valid UTF-8 character, or one byte of an invalid sequence (so
         * that an escaped space is never swallowed by a broken character;
         * valid text splits exactly as llama.cpp splits it). */
        uint32_t cpt;
        size_t n = utf8_decode((const unsigned char *)s + off, elen - off, &cpt);
        if (n == 0)
            n = 1;
        sym[n_sym].start = (uint32_t)off;
        sym[n_sym].n = (uint32_t)n;
        sym[n_sym].prev = n_sym - 1;
        off += n;
        sym[n_sym].next = off < elen ? n_sym + 1 : -1;
        n_sym++;
    }
    for (int32_t i = 1; i < n_sym; i++)
        if (offer(v, s, sym, &heap, i - 1, i) != 0)
            goto done;
    while (heap.n > 0) {
        merge_cand c = merge_heap_pop(&heap);
        spm_sym *l = &sym[c.left], *r = &sym[c.right];
        if (l->n == 0 || r->n == 0 || l->n != c.left_n || r->n != c.right_n)
            continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            sym[r->next].prev = c.left;
        if (offer(v, s, sym, &heap, l->prev, c.left) != 0 ||
            offer(v, s, sym, &heap, c.left, l->next) != 0)
            goto done;
    }
    for (int32_t i = 0; i >= 0; i = sym[i].next) {
        int32_t id = vocab_text_to_id(v, s + sym[i].start, sym[i].n);
        if (id >= 0) {
            if (id_vec_push(out, id) != 0)
                goto done;
            continue;
        }
        /* Not a token: one byte token per byte. */
        for (uint32_t k = 0; k < sym[i].n; k++) {
            unsigned char b = (unsigned char)s[sym[i].start + k];
            int32_t bid = v->byte_token[b] >= 0 ? v->byte_token[b] : v->unk;
            if (bid < 0) {
                free(s);
                free(sym);
                free(heap.a);
                return smc_fail(err, "byte 0x%02X has no token (no <0x%02X> and no unknown token)",
                                b, b);
            }
            if (id_vec_push(out, bid) != 0)
                goto done;
        }
    }
    rc = 0;
done:
    free(s);
    free(sym);
    free(heap.a);
    if (rc != 0)
        return smc_fail(err, "out of memory while tokenizing");
    return 0;
}
