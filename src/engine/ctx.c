/* ctx.c — creating and freeing evaluation contexts, the sequence API
 * (new / fork / free / len) over the KV cache, and access to logits. */
#include "engine/ctx.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

smc_ctx_params smc_ctx_default_params(void)
{
    smc_ctx_params p;
    memset(&p, 0, sizeof p);
    return p;
}

static int max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

int smc_ctx_new(const smc_model *m, const smc_ctx_params *params, smc_ctx **out, smc_error *err)
{
    *out = NULL;
    smc_ctx_params p = params ? *params : smc_ctx_default_params();
    if (p.n_threads < 0 || p.n_ctx < 0)
        return smc_fail(err, "bad context parameters (threads %d, n_ctx %d)", p.n_threads, p.n_ctx);
    smc_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return smc_fail(err, "out of memory");
    c->m = m;
    c->n_ctx = p.n_ctx ? p.n_ctx : m->n_ctx_train;
    c->exact = p.exact;
    size_t budget = p.kv_budget_bytes ? p.kv_budget_bytes : (size_t)512 << 20;
    if (smc_kv_init(&c->kv, m->n_layer, m->n_head_kv * m->head_dim, SMC_KV_BLOCK, budget, err) < 0) {
        free(c);
        return -1;
    }
    c->pool = smc_threadpool_new(p.n_threads);
    if (!c->pool) {
        smc_ctx_free(c);
        return smc_fail(err, "could not start the thread pool");
    }
    c->n_threads = smc_threadpool_size(c->pool);
    size_t U = SMC_UBATCH, d = (size_t)m->n_embd, qd = (size_t)m->n_head * m->head_dim;
    size_t kvd = (size_t)m->n_head_kv * m->head_dim, ff = (size_t)m->n_ff;
    c->x = malloc(U * d * sizeof(float));
    c->h = malloc(U * d * sizeof(float));
    c->tmp = malloc(U * d * sizeof(float));
    c->q = malloc(U * qd * sizeof(float));
    c->att = malloc(U * qd * sizeof(float));
    c->k = malloc(U * kvd * sizeof(float));
    c->v = malloc(U * kvd * sizeof(float));
    c->gate = malloc(U * ff * sizeof(float));
    c->up = malloc(U * ff * sizeof(float));
    c->rope_cs = malloc(U * (size_t)m->n_rot * sizeof(float));
    c->scores = malloc((size_t)c->n_threads * (size_t)c->n_ctx * sizeof(float));
    size_t tile_bytes = (smc_attention_tile_floats() * sizeof(float) + 63) & ~(size_t)63;
    if (tile_bytes && !(c->attn_tiles = aligned_alloc(64, (size_t)c->n_threads * tile_bytes))) {
        smc_ctx_free(c);
        return smc_fail(err, "out of memory for attention scratch");
    }
    if (!c->x || !c->h || !c->tmp || !c->q || !c->att || !c->k || !c->v || !c->gate || !c->up ||
        !c->rope_cs || !c->scores) {
        smc_ctx_free(c);
        return smc_fail(err, "out of memory for context scratch buffers (n_ctx %d)", c->n_ctx);
    }
    if (c->exact) {
        c->deq_stride = 16 * (size_t)max_i32(m->n_embd, max_i32(m->n_ff, m->n_head * m->head_dim));
        c->deq = malloc((size_t)c->n_threads * c->deq_stride * sizeof(float));
        if (!c->deq) {
            smc_ctx_free(c);
            return smc_fail(err, "out of memory");
        }
    }
    *out = c;
    return 0;
}

void smc_ctx_free(smc_ctx *c)
{
    if (!c)
        return;
    if (c->pool)
        smc_threadpool_free(c->pool);
    smc_kv_destroy(&c->kv);
    free(c->x);
    free(c->h);
    free(c->tmp);
    free(c->q);
    free(c->att);
    free(c->k);
    free(c->v);
    free(c->gate);
    free(c->up);
    free(c->rope_cs);
    free(c->scores);
    free(c->attn_tiles);
    free(c->deq);
    free(c->slots);
    free(c->seq_ids);
    free(c->logits);
    free(c);
}

int32_t smc_ctx_n_ctx(const smc_ctx *c) { return c->n_ctx; }

int32_t smc_ctx_n_threads(const smc_ctx *c) { return c->n_threads; }

size_t smc_ctx_kv_used_bytes(const smc_ctx *c) { return (size_t)c->kv.n_used * c->kv.block_bytes; }

int32_t smc_seq_new(smc_ctx *c, smc_error *err) { return smc_kv_seq_new(&c->kv, err); }

int32_t smc_seq_fork(smc_ctx *c, int32_t seq, smc_error *err) { return smc_kv_seq_fork(&c->kv, seq, err); }

void smc_seq_free(smc_ctx *c, int32_t seq) { smc_kv_seq_free(&c->kv, seq); }

void smc_seq_truncate(smc_ctx *c, int32_t seq, int32_t len) { smc_kv_seq_truncate(&c->kv, seq, len); }

int32_t smc_seq_len(const smc_ctx *c, int32_t seq)
{
    const smc_kv_seq *s = smc_kv_seq_get(&c->kv, seq);
    return s ? s->len : -1;
}

int smc_decode(smc_ctx *c, const smc_batch *batch, smc_error *err)
{
    c->n_logits = 0;
    if (!batch || batch->n < 0 || (batch->n > 0 && !batch->entries))
        return smc_fail(err, "decode: bad batch");
    if (batch->n == 0)
        return 0;
    return smc_forward_batch(c, batch, err);
}

int32_t smc_n_logits(const smc_ctx *c) { return c->n_logits; }

const float *smc_logits(const smc_ctx *c, int32_t i)
{
    if (i < 0 || i >= c->n_logits)
        return NULL;
    return c->logits + (size_t)i * c->m->n_vocab;
}
