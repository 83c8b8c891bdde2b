/* bpe.c — byte-level BPE for one raw-text fragment: pre-tokenize with the
 * vocabulary's regexes, map each piece's bytes through GPT-2's byte map, then
 * repeatedly merge the adjacent pair with the lowest merge rank (leftmost on
 * ties) using a priority queue over a linked list of symbols. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/byte_map.h"
#include "tokenizer/merge_heap.h"
#include "tokenizer/vocab_internal.h"
#include "util/error.h"

typedef struct bpe_sym {
    uint32_t enc;        /* start in the encoded piece */
    uint32_t n;          /* encoded length; 0 once merged into its left neighbour */
    uint32_t raw, raw_n; /* the raw bytes it stands for */
    int32_t prev, next;
} bpe_sym;

typedef struct bpe_work {
    char *enc;           /* the byte-encoded piece */
    char *key;           /* scratch for "left right" */
    bpe_sym *sym;
    size_t cap;          /* capacity in raw bytes */
    merge_heap heap;
} bpe_work;

static void work_free(bpe_work *w)
{
    free(w->enc);
    free(w->key);
    free(w->sym);
    free(w->heap.a);
}

static int work_reserve(bpe_work *w, size_t raw_len)
{
    if (raw_len <= w->cap)
        return 0;
    char *enc = realloc(w->enc, 2 * raw_len + 1);
    if (enc)
        w->enc = enc;
    char *key = realloc(w->key, 2 * raw_len + 2);
    if (key)
        w->key = key;
    bpe_sym *sym = realloc(w->sym, raw_len * sizeof *sym);
    if (sym)
        w->sym = sym;
    if (!enc || !key || !sym)
        return -1;
    w->cap = raw_len;
    return 0;
}

/* Offers the pair (left, right) when "left right" is a known merge. */
static int offer(const smc_vocab *v, bpe_work *w, int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return 0;
    const bpe_sym *l = &w->sym[left], *r = &w->sym[right];
    memcpy(w->key, w->enc + l->enc, l->n);
    w->key[l->n] = ' ';
    memcpy(w->key + l->n + 1, w->enc + r->enc, r->n);
    int32_t rank = strmap_get(&v->merge_ranks, w->key, (size_t)l->n + 1 + r->n);
    if (rank < 0)
        return 0;
    merge_cand c = {(double)rank, left, right, l->n, r->n};
    return merge_heap_push(&w->heap, c);
}

static int emit_bytes(const smc_vocab *v, const unsigned char *raw, size_t n, id_vec *out)
{
    for (size_t i = 0; i < n; i++) {
        /* A byte the vocabulary cannot spell is dropped, as llama.cpp does
         * (its unknown id is often <|endoftext|>, worse than nothing). */
        int32_t id = v->byte_token[raw[i]];
        if (id >= 0 && id_vec_push(out, id) != 0)
            return -1;
    }
    return 0;
}

static int bpe_piece(const smc_vocab *v, bpe_work *w, const unsigned char *raw, size_t len,
                     id_vec *out)
{
    if (work_reserve(w, len) != 0)
        return -1;
    size_t elen = 0;
    for (size_t i = 0; i < len; i++) {
        bpe_sym *s = &w->sym[i];
        s->enc = (uint32_t)elen;
        s->n = (uint32_t)byte_encode(raw[i], w->enc + elen);
        elen += s->n;
        s->raw = (uint32_t)i;
        s->raw_n = 1;
        s->prev = (int32_t)i - 1;
        s->next = i + 1 < len ? (int32_t)i + 1 : -1;
    }
    if (v->ignore_merges) {
        int32_t id = vocab_text_to_id(v, w->enc, elen);
        if (id >= 0)
            return id_vec_push(out, id);
    }
    w->heap.n = 0;
    for (size_t i = 1; i < len; i++)
        if (offer(v, w, (int32_t)i - 1, (int32_t)i) != 0)
            return -1;
    while (w->heap.n > 0) {
        merge_cand c = merge_heap_pop(&w->heap);
        bpe_sym *l = &w->sym[c.left], *r = &w->sym[c.right];
        if (l->n == 0 || r->n == 0 || l->n != c.left_n || r->n != c.right_n)
            continue; /* stale: one side has changed since the pair was offered */
        l->n += r->n;
        l->raw_n += r->raw_n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            w->sym[r->next].prev = c.left;
        if (offer(v, w, l->prev, c.left) != 0 || offer(v, w, c.left, l->next) != 0)
            return -1;
    }
    for (int32_t i = len ? 0 : -1; i >= 0; i = w->sym[i].next) {
        const bpe_sym *s = &w->sym[i];
        int32_t id = vocab_text_to_id(v, w->enc + s->enc, s->n);
        if (id >= 0) {
            if (id_vec_push(out, id) != 0)
                return -1;
        } else if (emit_bytes(v, raw + s->raw, s->raw_n, out) != 0) {
            return -1;
        }
    }
    return 0;
}

int bpe_tokenize_fragment(const smc_vocab *v, const char *text, size_t len, id_vec *out,
                          smc_error *err)
{
    if (len > (size_t)INT32_MAX / 2)
        return smc_fail(err, "text of %zu bytes is too long to tokenize", len);
    piece_vec pieces = {0};
    if (pretok_split(v->pretok, text, len, &pieces, err) != 0) {
        free(pieces.p);
        return -1;
    }
    bpe_work w = {0};
    int rc = 0;
    for (size_t i = 0; i < pieces.n && rc == 0; i++)
        rc = bpe_piece(v, &w, (const unsigned char *)text + pieces.p[i].off, pieces.p[i].len, out);
    work_free(&w);
    free(pieces.p);
    if (rc != 0)
        return smc_fail(err, "out of memory while tokenizing");
    return 0;
}
