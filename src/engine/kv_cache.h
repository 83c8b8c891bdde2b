/* kv_cache.h — the paged KV cache: fixed-size blocks of K/V rows with
 * reference counts, shared between sequences; fork copies a block table and
 * bumps refcounts, and appending to a shared, partly filled last block copies
 * that one block first (copy-on-write). */
#ifndef SMC_ENGINE_KV_CACHE_H
#define SMC_ENGINE_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "smcgen.h"

typedef struct smc_kv_seq {
    int32_t live;        /* 1 while the id is in use */
    int32_t len;         /* tokens stored */
    int32_t n_blocks;    /* entries used in blocks[] */
    int32_t cap_blocks;
    int32_t *blocks;     /* block ids, one per block_size tokens */
} smc_kv_seq;

typedef struct smc_kv {
    int32_t block_size;  /* tokens per block */
    int32_t n_layer;
    int32_t kv_dim;      /* floats per token per layer for K (and for V) */
    size_t block_bytes;  /* n_layer * 2 * block_size * kv_dim * sizeof(float) */
    int32_t max_blocks;  /* from the memory budget */
    int32_t n_alloc;     /* block slots with memory */
    int32_t n_used;      /* blocks with refcount > 0 */
    float **data;        /* [max_blocks], NULL until first used */
    int32_t *refs;       /* [max_blocks] */
    int32_t *free_ids;   /* stack of allocated blocks with refcount 0 */
    int32_t n_free;
    smc_kv_seq *seqs;
    int32_t n_seqs;      /* slots in seqs[] (live or not) */
    int32_t cap_seqs;
} smc_kv;

/* Where one new token's K/V rows go. */
typedef struct smc_kv_slot {
    int32_t block;
    int32_t row;         /* 0 .. block_size-1 */
    int32_t pos;         /* position in its sequence */
} smc_kv_slot;

int smc_kv_init(smc_kv *kv, int32_t n_layer, int32_t kv_dim, int32_t block_size,
                size_t budget_bytes, smc_error *err);
void smc_kv_destroy(smc_kv *kv);

int32_t smc_kv_seq_new(smc_kv *kv, smc_error *err);
int32_t smc_kv_seq_fork(smc_kv *kv, int32_t src, smc_error *err);
void smc_kv_seq_free(smc_kv *kv, int32_t seq);
/* Keeps the first len tokens (no-op when len >= the sequence's length). */
void smc_kv_seq_truncate(smc_kv *kv, int32_t seq, int32_t len);
/* NULL for ids that are not live. */
const smc_kv_seq *smc_kv_seq_get(const smc_kv *kv, int32_t seq);

/* Appends n tokens (seqs[i] is the sequence of the i-th; a sequence may
 * appear several times, in order) and fills slots[i]. Blocks are allocated
 * and shared last blocks copied first; when the budget cannot hold them,
 * fails and changes nothing. All seqs must be live (checked). */
int smc_kv_append(smc_kv *kv, const int32_t *seqs, int32_t n, smc_kv_slot *slots, smc_error *err);

/* Pointers to a block's K or V rows for one layer: block_size rows of
 * kv_dim floats. */
static inline float *smc_kv_k(const smc_kv *kv, int32_t block, int32_t layer)
{
    return kv->data[block] + (size_t)layer * 2 * kv->block_size * kv->kv_dim;
}
static inline float *smc_kv_v(const smc_kv *kv, int32_t block, int32_t layer)
{
    return smc_kv_k(kv, block, layer) + (size_t)kv->block_size * kv->kv_dim;
}

#endif
