/* ctx.h — the evaluation context: model, KV cache, thread pool, scratch
 * buffers and the logits of the last batch (ctx.c creates it, forward.c
 * evaluates batches with it). */
#ifndef SMC_ENGINE_CTX_H
#define SMC_ENGINE_CTX_H

#include "engine/kv_cache.h"
#include "engine/model.h"
#include "engine/threadpool.h"

/* Entries evaluated together: a prompt goes through in micro-batches of
 * this many tokens, and the matmuls read each block of weight rows from
 * memory once per micro-batch (the kernels take 64 columns at a time, the
 * rows stay in cache across the column chunks). Results do not depend on it. */
#define SMC_UBATCH 256
/* Tokens per KV block. */
#define SMC_KV_BLOCK 16

struct smc_ctx {
    const smc_model *m;
    smc_threadpool *pool;
    int32_t n_threads;
    int32_t n_ctx;
    bool exact;               /* dequantise weights before dot products */
    smc_kv kv;

    /* Scratch for one micro-batch of SMC_UBATCH entries. */
    float *x, *h, *q, *k, *v, *att, *gate, *up, *tmp;
    float *rope_cs;           /* [SMC_UBATCH][n_rot/2][2] cos, sin */
    float *scores;            /* [n_threads][n_ctx] */
    float *attn_tiles;        /* [n_threads][smc_attention_tile_floats()], 64-byte aligned */
    float *deq;               /* [n_threads][16 * max n_in] for the exact path */
    size_t deq_stride;
    smc_kv_slot *slots;       /* [cap_entries] */
    int32_t *seq_ids;         /* [cap_entries] */
    int32_t cap_entries;

    float *logits;            /* [n_logits][n_vocab] */
    int32_t n_logits, cap_logits;
};

/* forward.c */
int smc_forward_batch(smc_ctx *c, const smc_batch *b, smc_error *err);
/* attention.c: c->att for entries [i0, i0+n) from c->q and the cache (whose
 * rows for those entries, c->slots, are already written) at this layer. */
void smc_attention(smc_ctx *c, int layer, int32_t i0, int32_t n);
/* attention_tiled.c: the same, flash-attention style (AVX2+FMA), for models
 * smc_attention_tiled_ok accepts (checked by smc_attention, which calls it);
 * scratch: c->attn_tiles. */
bool smc_attention_tiled_ok(const smc_model *m);
size_t smc_attention_tile_floats(void);   /* per thread; 0 where there is no tiled path */
void smc_attention_tiled(smc_ctx *c, int layer, int32_t i0, int32_t n, bool use_pool);

#endif
