/* merge_heap.h — the priority queue of candidate merges shared by the BPE
 * (lowest rank first) and SPM (highest score first) tokenizers: smaller
 * `prio` first, ties to the leftmost pair. */
#ifndef SMC_TOKENIZER_MERGE_HEAP_H
#define SMC_TOKENIZER_MERGE_HEAP_H

#include <stdint.h>
#include <stdlib.h>

typedef struct merge_cand {
    double prio;
    int32_t left, right;
    uint32_t left_n, right_n;   /* symbol lengths when the pair was offered */
} merge_cand;

typedef struct merge_heap {
    merge_cand *a;
    size_t n, cap;
} merge_heap;

static inline int merge_before(const merge_cand *x, const merge_cand *y)
{
    return x->prio < y->prio || (x->prio == y->prio && x->left < y->left);
}

static inline int merge_heap_push(merge_heap *h, merge_cand c)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        merge_cand *a = realloc(h->a, cap * sizeof *a);
        if (!a)
            return -1;
        h->a = a;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!merge_before(&c, &h->a[parent]))
            break;
        h->a[i] = h->a[parent];
        i = parent;
    }
    h->a[i] = c;
    return 0;
}

static inline merge_cand merge_heap_pop(merge_heap *h)
{
    merge_cand top = h->a[0];
    merge_cand last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        const merge_cand *bc = &last;
        if (l < h->n && merge_before(&h->a[l], bc)) {
            best = l;
            bc = &h->a[l];
        }
        if (r < h->n && merge_before(&h->a[r], bc))
            best = r;
        if (best == i)
            break;
        h->a[i] = h->a[best];
        i = best;
    }
    if (h->n > 0)
        h->a[i] = last;
    return top;
}

#endif
