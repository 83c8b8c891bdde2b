/* forward.c — the llama / qwen2 / qwen3 forward pass over a batch of
 * (sequence, token) entries: embedding, RMSNorm, Q/K/V projections (qwen2
 * biases, qwen3 per-head q/k norms), RoPE (adjacent pairs or NeoX halves),
 * attention (attention.c), SwiGLU FFN and the output head for the entries
 * that want logits. Entries go through in micro-batches
 * of SMC_UBATCH so each weight matrix is read once per micro-batch. */
#include "engine/ctx.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/quant_q4r16.h"
#include "engine/rope.h"
#include "util/error.h"

/* ---- matmul: fast kernels, or dequantise-then-f32 ("exact") ---- */

typedef struct exact_job {
    smc_ctx *c;
    const smc_weight *w;
    const float *X;
    int64_t nb;
    float *Y;
    atomic_llong next;        /* first row of the next unclaimed 16 */
} exact_job;

/* Row o of w as floats (Q4_0 in 16-row groups: block by block). */
static void dequantize_row(const smc_weight *w, int64_t o, float *out)
{
    if (w->type != SMC_TYPE_Q4_0_R16) {
        smc_dequantize_row(w->type, (const char *)w->data + (size_t)o * w->row_bytes, out, w->n_in);
        return;
    }
    for (int64_t i = 0; i < w->n_in / SMC_QK; i++) {
        smc_block_q4_0 b;
        smc_r16_block(w->data, w->row_bytes, o, i, &b);
        smc_dequantize_row(SMC_TYPE_Q4_0, &b, out + i * SMC_QK, SMC_QK);
    }
}

/* Threads claim 16 rows at a time (a preempted thread holds up nobody). */
static void exact_worker(void *arg, int ith, int nth)
{
    exact_job *j = arg;
    const smc_weight *w = j->w;
    (void)nth;
    float *deq = j->c->deq + (size_t)ith * j->c->deq_stride;
    for (;;) {
        int64_t o = atomic_fetch_add(&j->next, 16);
        if (o >= w->n_out)
            break;
        int64_t cnt = w->n_out - o < 16 ? w->n_out - o : 16;
        for (int64_t r = 0; r < cnt; r++)
            dequantize_row(w, o + r, deq + r * w->n_in);
        smc_matmul_rows(SMC_TYPE_F32, deq, w->n_in, 0, cnt, j->X, j->nb, j->Y + o, w->n_out);
    }
}

/* Y[nb][n_out] = scale * Y + bias, or scale * (Y + bias). */
static void epilogue(const smc_weight *w, int64_t nb, float *Y)
{
    float s = w->scale;
    const float *b = w->bias;
    for (int64_t r = 0; r < nb; r++) {
        float *y = Y + r * w->n_out;
        if (b && w->bias_first)
            for (int64_t i = 0; i < w->n_out; i++)
                y[i] = (y[i] + b[i]) * s;
        else if (b)
            for (int64_t i = 0; i < w->n_out; i++)
                y[i] = y[i] * s + b[i];
        else if (s != 1.0f)
            for (int64_t i = 0; i < w->n_out; i++)
                y[i] *= s;
    }
}

static bool exact_path(const smc_ctx *c, const smc_weight *w)
{
    return c->exact && w->type != SMC_TYPE_F32 && w->type != SMC_TYPE_F16 && w->type != SMC_TYPE_BF16;
}

/* Y[nb][n_out] = scale * (X[nb][n_in] · Wᵀ) + bias */
static void matmul(smc_ctx *c, const smc_weight *w, const float *X, int64_t nb, float *Y)
{
    if (exact_path(c, w)) {
        exact_job j = {c, w, X, nb, Y, 0};
        atomic_init(&j.next, 0);
        smc_threadpool_run_dynamic(c->pool, exact_worker, &j);
    } else {
        /* Small products are not worth waking the pool for. */
        bool small = (double)w->n_in * (double)w->n_out * (double)nb < 65536.0;
        smc_matmul(small ? NULL : c->pool, w->type, w->data, w->n_in, w->n_out, X, nb, Y);
    }
    epilogue(w, nb, Y);
}

/* n (<= SMC_MATMUL_MULTI_MAX) weights with the same input X, in one pool run
 * (one synchronisation, activations quantised once); same results as n
 * matmul() calls. */
static void matmul_group(smc_ctx *c, int n, const smc_weight *const *ws, const float *X, int64_t nb,
                         float *const *Ys)
{
    smc_matmul_spec sp[SMC_MATMUL_MULTI_MAX];
    double work = 0;
    for (int i = 0; i < n; i++) {
        if (exact_path(c, ws[i]) || ws[i]->n_in != ws[0]->n_in) {
            for (int k = 0; k < n; k++)
                matmul(c, ws[k], X, nb, Ys[k]);
            return;
        }
        sp[i] = (smc_matmul_spec){ws[i]->type, ws[i]->data, ws[i]->n_out, Ys[i]};
        work += (double)ws[i]->n_in * (double)ws[i]->n_out * (double)nb;
    }
    smc_matmul_multi(work < 65536.0 ? NULL : c->pool, n, sp, ws[0]->n_in, X, nb);
    for (int i = 0; i < n; i++)
        epilogue(ws[i], nb, Ys[i]);
}

/* ---- element-wise pieces ---- */

static void rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps)
{
    double ss = 0;
    for (int64_t i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (int64_t i = 0; i < n; i++)
        out[i] = x[i] * scale * w[i];
}

/* g[i] = silu(g[i]) * up[i] = g / (1 + exp(-g)) * up. The exponentials
 * first (libm's expf, a call per element), then the division and product
 * over a fixed-size chunk, which the compiler vectorises: the same
 * operations per element as one loop, ~half the time of it. */
static void silu_mul(float *restrict g, const float *restrict up, int64_t n)
{
    enum { CHUNK = 64 };
    float e[CHUNK];
    int64_t i = 0;
    for (; i + CHUNK <= n; i += CHUNK) {
        for (int j = 0; j < CHUNK; j++)
            e[j] = expf(-g[i + j]);
        for (int j = 0; j < CHUNK; j++)
            g[i + j] = g[i + j] / (1.0f + e[j]) * up[i + j];
    }
    for (; i < n; i++)
        g[i] = g[i] / (1.0f + expf(-g[i])) * up[i];
}

/* ---- one micro-batch: entries [i0, i0+n) ---- */

static void run_ubatch(smc_ctx *c, const smc_batch_entry *ent, int32_t i0, int32_t n, int32_t out0)
{
    const smc_model *m = c->m;
    int64_t d = m->n_embd, hd = m->head_dim, qd = (int64_t)m->n_head * hd, kvd = (int64_t)m->n_head_kv * hd;
    int64_t ff = m->n_ff;

    for (int32_t e = 0; e < n; e++) {
        const smc_weight *te = &m->tok_embd;
        smc_dequantize_row(te->type, (const char *)te->data + (size_t)ent[i0 + e].token * te->row_bytes,
                           c->x + e * d, d);
        smc_rope_table(m, c->slots[i0 + e].pos, c->rope_cs + (size_t)e * m->n_rot);
    }

    for (int l = 0; l < m->n_layer; l++) {
        const smc_layer *L = &m->layers[l];
        for (int32_t e = 0; e < n; e++)
            rmsnorm(c->h + e * d, c->x + e * d, L->attn_norm, d, m->eps);
        {
            const smc_weight *ws[3] = {&L->wq, &L->wk, &L->wv};
            float *ys[3] = {c->q, c->k, c->v};
            matmul_group(c, 3, ws, c->h, n, ys);
        }
        for (int32_t e = 0; e < n; e++) {
            float *q = c->q + e * qd, *k = c->k + e * kvd;
            if (L->q_norm) {
                for (int h = 0; h < m->n_head; h++)
                    rmsnorm(q + h * hd, q + h * hd, L->q_norm, hd, m->eps);
                for (int h = 0; h < m->n_head_kv; h++)
                    rmsnorm(k + h * hd, k + h * hd, L->k_norm, hd, m->eps);
            }
            const float *cs = c->rope_cs + (size_t)e * m->n_rot;
            smc_rope_apply(m, q, m->n_head, cs);
            smc_rope_apply(m, k, m->n_head_kv, cs);
            const smc_kv_slot *s = &c->slots[i0 + e];
            memcpy(smc_kv_k(&c->kv, s->block, l) + (size_t)s->row * kvd, k, (size_t)kvd * sizeof(float));
            memcpy(smc_kv_v(&c->kv, s->block, l) + (size_t)s->row * kvd, c->v + e * kvd,
                   (size_t)kvd * sizeof(float));
        }
        smc_attention(c, l, i0, n);
        matmul(c, &L->wo, c->att, n, c->tmp);
        for (int64_t i = 0; i < n * d; i++)
            c->x[i] += c->tmp[i];

        for (int32_t e = 0; e < n; e++)
            rmsnorm(c->h + e * d, c->x + e * d, L->ffn_norm, d, m->eps);
        {
            const smc_weight *ws[2] = {&L->gate, &L->up};
            float *ys[2] = {c->gate, c->up};
            matmul_group(c, 2, ws, c->h, n, ys);
        }
        silu_mul(c->gate, c->up, n * ff);
        matmul(c, &L->down, c->gate, n, c->tmp);
        for (int64_t i = 0; i < n * d; i++)
            c->x[i] += c->tmp[i];
    }

    /* Output head for the entries that want logits. */
    int32_t nout = 0;
    for (int32_t e = 0; e < n; e++)
        if (ent[i0 + e].want_logits)
            rmsnorm(c->h + (nout++) * d, c->x + e * d, m->output_norm, d, m->eps);
    if (nout)
        matmul(c, &m->output, c->h, nout, c->logits + (size_t)out0 * m->n_vocab);
}

int smc_forward_batch(smc_ctx *c, const smc_batch *b, smc_error *err)
{
    const smc_model *m = c->m;
    int32_t n = b->n;
    if (n > c->cap_entries) {
        smc_kv_slot *s = realloc(c->slots, (size_t)n * sizeof *s);
        if (s)
            c->slots = s;
        int32_t *q = realloc(c->seq_ids, (size_t)n * sizeof *q);
        if (q)
            c->seq_ids = q;
        if (!s || !q)
            return smc_fail(err, "out of memory for a batch of %d entries", n);
        c->cap_entries = n;
    }
    int32_t n_out = 0;
    for (int32_t i = 0; i < n; i++) {
        const smc_batch_entry *e = &b->entries[i];
        if (e->token < 0 || e->token >= m->n_vocab)
            return smc_fail(err, "batch entry %d: token %d is outside the vocabulary [0, %d)", i,
                            e->token, m->n_vocab);
        if (!smc_kv_seq_get(&c->kv, e->seq))
            return smc_fail(err, "batch entry %d: sequence %d does not exist", i, e->seq);
        c->seq_ids[i] = e->seq;
        n_out += e->want_logits ? 1 : 0;
    }
    /* Context length: count each sequence's new tokens. */
    int32_t *count = calloc((size_t)c->kv.n_seqs + 1, sizeof *count);
    if (!count)
        return smc_fail(err, "out of memory");
    for (int32_t i = 0; i < n; i++) {
        int32_t s = c->seq_ids[i];
        if (c->kv.seqs[s].len + ++count[s] > c->n_ctx) {
            int32_t total = c->kv.seqs[s].len;
            for (int32_t j = 0; j < n; j++)
                total += c->seq_ids[j] == s;
            free(count);
            return smc_fail(err, "sequence %d would hold %d tokens, more than the context size %d",
                            s, total, c->n_ctx);
        }
    }
    free(count);
    if (n_out > c->cap_logits) {
        float *lg = realloc(c->logits, (size_t)n_out * (size_t)m->n_vocab * sizeof *lg);
        if (!lg)
            return smc_fail(err, "out of memory for %d rows of logits", n_out);
        c->logits = lg;
        c->cap_logits = n_out;
    }
    if (smc_kv_append(&c->kv, c->seq_ids, n, c->slots, err) < 0)
        return -1;
    int32_t out0 = 0;
    for (int32_t i0 = 0; i0 < n; i0 += SMC_UBATCH) {
        int32_t nb = n - i0 < SMC_UBATCH ? n - i0 : SMC_UBATCH;
        run_ubatch(c, b->entries, i0, nb, out0);
        for (int32_t e = 0; e < nb; e++)
            out0 += b->entries[i0 + e].want_logits ? 1 : 0;
    }
    c->n_logits = n_out;
    return 0;
}
