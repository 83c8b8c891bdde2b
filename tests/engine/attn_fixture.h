/* attn_fixture.h — a hand-built one-layer attention context for
 * smc_attention: the model's head shape, a thread pool, an empty paged K/V
 * cache and the per-thread score and tile scratch. Shared by
 * test_attention_tiled.c and bench/engine_attention.c; the caller adds
 * sequences, rows, queries and outputs (c.q, c.att, c.slots, c.seq_ids). */
#ifndef SMC_TEST_ATTN_FIXTURE_H
#define SMC_TEST_ATTN_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ctx.h"
#include "engine/kernels.h"

typedef struct {
    smc_model m;
    smc_ctx c; /* c.m points at m: keep the fixture where it was set up */
} attn_fixture;

/* 0, or -1 with err set (out of memory or a cache that cannot be made);
 * either way attn_fixture_free releases what was made. */
static inline int attn_fixture_init(attn_fixture *f, int n_head, int n_head_kv, int hd, int threads, int32_t n_ctx,
                                    size_t kv_bytes, smc_error *err)
{
    memset(f, 0, sizeof *f);
    f->m.n_head = n_head;
    f->m.n_head_kv = n_head_kv;
    f->m.head_dim = hd;
    f->m.attn_scale = 1.0f / sqrtf((float)hd);
    smc_ctx *c = &f->c;
    c->m = &f->m;
    c->pool = smc_threadpool_new(threads);
    c->n_threads = smc_threadpool_size(c->pool);
    c->n_ctx = n_ctx;
    size_t tb = smc_attention_tile_floats() * sizeof(float);
    c->scores = malloc(sizeof(float) * (size_t)c->n_threads * (size_t)n_ctx);
    c->attn_tiles = tb ? aligned_alloc(64, (size_t)c->n_threads * tb) : NULL;
    if (!c->scores || (tb && !c->attn_tiles)) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return -1;
    }
    return smc_kv_init(&c->kv, 1, n_head_kv * hd, SMC_KV_BLOCK, kv_bytes, err) ? -1 : 0;
}

static inline void attn_fixture_free(attn_fixture *f)
{
    free(f->c.scores);
    free(f->c.attn_tiles);
    smc_kv_destroy(&f->c.kv);
    smc_threadpool_free(f->c.pool);
}

#endif
