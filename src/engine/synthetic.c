/* synthetic.c — models with random weights and the exact shapes of real ones
 * (SmolLM2-135M, Qwen2.5-0.5B, Llama-3.2-1B), built in memory for benchmarks
 * and tests that need no download (smc_model_save writes them out). Weights
 * are quantised to the chosen type, or to llama.cpp's Q4_K_M mix. */
#include "engine/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"
#include "util/error.h"

typedef struct shape {
    const char *name;
    int arch;
    int32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    double rope_base, eps;
    double llama3_factor;     /* llama3 rope scaling factor, 0 when none */
} shape;

static const shape shapes[] = {
    {"smollm2-135m", SMC_ARCH_LLAMA, 576, 30, 9, 3, 1536, 49152, 8192, 100000.0, 1e-5, 0},
    {"qwen2.5-0.5b", SMC_ARCH_QWEN2, 896, 24, 14, 2, 4864, 151936, 32768, 1000000.0, 1e-6, 0},
    {"llama3.2-1b", SMC_ARCH_LLAMA, 2048, 16, 32, 8, 8192, 128256, 131072, 500000.0, 1e-5, 32.0},
};

/* A pool of random floats rows are cut from at random offsets. */
enum { POOL = 1 << 20 };

typedef struct gen {
    smc_rng rng;
    float *pool;
    char *mem;
    size_t used;
} gen;

enum role { ROLE_EMBD, ROLE_PLAIN, ROLE_V, ROLE_DOWN };

/* The type of one matrix: `type`, or for the Q4_K_M mix what llama.cpp's
 * quantizer picks (use_more_bits layers get Q6_K attn_v / ffn_down; rows
 * that are not whole 256-blocks fall back to Q5_0 / Q8_0). */
static int pick_type(int type, enum role role, int32_t layer, int32_t n_layer, int64_t n_in)
{
    if (type != SMC_SYNTHETIC_Q4_K_M)
        return type;
    bool more = layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
    int t = role == ROLE_EMBD || (role != ROLE_PLAIN && more) ? SMC_TYPE_Q6_K : SMC_TYPE_Q4_K;
    if (n_in % 256)
        t = t == SMC_TYPE_Q6_K ? SMC_TYPE_Q8_0 : SMC_TYPE_Q5_0;
    return t;
}

static int fill_weight(gen *g, int type, smc_weight *w, int64_t n_in, int64_t n_out, float scale)
{
    w->type = type;
    w->n_in = n_in;
    w->n_out = n_out;
    w->row_bytes = smc_row_bytes(type, n_in);
    w->data = g->mem + g->used;
    w->scale = 1.0f;
    w->bias = NULL;
    float *row = malloc((size_t)n_in * sizeof *row);
    if (!row)
        return -1;
    for (int64_t o = 0; o < n_out; o++) {
        size_t off = (size_t)(smc_rng_next(&g->rng) % (uint64_t)(POOL - n_in));
        for (int64_t i = 0; i < n_in; i++)
            row[i] = g->pool[off + (size_t)i] * scale;
        smc_quantize_row(type, row, g->mem + g->used + (size_t)o * w->row_bytes, n_in);
    }
    free(row);
    g->used += w->row_bytes * (size_t)n_out;
    return 0;
}

/* n floats uniform in [center - spread, center + spread], owned by m. */
static float *rand_vec(smc_model *m, gen *g, int64_t n, float center, float spread, smc_error *err)
{
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) {
        smc_fail(err, "out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        v[i] = center + spread * (float)(smc_rng_uniform(&g->rng) * 2.0 - 1.0);
    if (smc_model_own_vec(m, v, err) < 0)
        return NULL;
    return v;
}

int smc_model_synthetic(const char *name, int type, uint64_t seed, smc_model **out, smc_error *err)
{
    return smc_model_synthetic_reduced(name, type, seed, 0, 0, out, err);
}

int smc_model_synthetic_reduced(const char *name, int type, uint64_t seed, int32_t n_layer, int32_t n_vocab,
                                smc_model **out, smc_error *err)
{
    *out = NULL;
    const shape *sh = NULL;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (name && !strcmp(name, shapes[i].name))
            sh = &shapes[i];
    if (!sh)
        return smc_fail(err, "unknown synthetic model '%s' (known: smollm2-135m, qwen2.5-0.5b, llama3.2-1b)",
                        name ? name : "(null)");
    if (type != SMC_TYPE_Q8_0 && type != SMC_TYPE_Q4_0 && type != SMC_TYPE_F16 && type != SMC_TYPE_F32 &&
        type != SMC_SYNTHETIC_Q4_K_M)
        return smc_fail(err, "synthetic models support types q8_0, q4_0, q4_k_m, f16, f32 (not %s)",
                        smc_type_name(type) ? smc_type_name(type) : "unknown");
    if (n_layer < 0 || n_layer > 4096 || n_vocab < 0 || n_vocab > (1 << 24))
        return smc_fail(err, "synthetic model: bad layer count %d or vocabulary size %d", n_layer, n_vocab);
    smc_model *m = calloc(1, sizeof *m);
    if (!m)
        return smc_fail(err, "out of memory");
    m->arch = sh->arch;
    m->arch_name = sh->arch == SMC_ARCH_QWEN2 ? "qwen2" : "llama";
    m->rope_neox = sh->arch != SMC_ARCH_LLAMA;
    m->n_embd = sh->n_embd;
    m->n_layer = n_layer ? n_layer : sh->n_layer;
    m->n_head = sh->n_head;
    m->n_head_kv = sh->n_head_kv;
    m->head_dim = sh->n_embd / sh->n_head;
    m->n_rot = m->head_dim;
    m->n_ff = sh->n_ff;
    m->n_vocab = n_vocab ? n_vocab : sh->n_vocab;
    m->n_ctx_train = sh->n_ctx;
    m->eps = (float)sh->eps;
    m->attn_scale = (float)(1.0 / sqrt((double)m->head_dim));
    m->rope_pos_scale = 1.0f;

    int64_t d = m->n_embd, qd = (int64_t)m->n_head * m->head_dim, kvd = (int64_t)m->n_head_kv * m->head_dim;
    int64_t ff = m->n_ff;
    int32_t nl = m->n_layer;
    size_t total = smc_row_bytes(pick_type(type, ROLE_EMBD, 0, nl, d), d) * (size_t)m->n_vocab;
    for (int32_t l = 0; l < nl; l++)
        total += smc_row_bytes(pick_type(type, ROLE_PLAIN, l, nl, d), d) * (size_t)(qd + kvd + 2 * ff) +
                 smc_row_bytes(pick_type(type, ROLE_V, l, nl, d), d) * (size_t)kvd +
                 smc_row_bytes(pick_type(type, ROLE_PLAIN, l, nl, qd), qd) * (size_t)d +
                 smc_row_bytes(pick_type(type, ROLE_DOWN, l, nl, ff), ff) * (size_t)d;
    gen g = {0};
    smc_rng_seed(&g.rng, seed);
    g.mem = malloc(total);
    g.pool = malloc((size_t)POOL * sizeof *g.pool);
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    if (!g.mem || !g.pool || !m->layers) {
        free(g.mem);
        free(g.pool);
        smc_model_free(m);
        return smc_fail(err, "out of memory for a synthetic model of %zu bytes", total);
    }
    m->weight_mem = g.mem;
    /* Uniform in [-sqrt(3), sqrt(3)]: unit variance, scaled per matrix. */
    for (size_t i = 0; i < POOL; i++)
        g.pool[i] = (float)((smc_rng_uniform(&g.rng) * 2.0 - 1.0) * 1.7320508);

    if (fill_weight(&g, pick_type(type, ROLE_EMBD, 0, nl, d), &m->tok_embd, d, m->n_vocab, 1.0f) < 0) {
        smc_fail(err, "out of memory");
        goto fail;
    }
    m->output = m->tok_embd;   /* tied, as in the real models */
    if (!(m->output_norm = rand_vec(m, &g, d, 1.0f, 0.5f, err)))
        goto fail;
    for (int32_t l = 0; l < m->n_layer; l++) {
        smc_layer *L = &m->layers[l];
        float s_in = (float)(1.0 / sqrt((double)d)), s_ff = (float)(1.0 / sqrt((double)ff));
        int tp = pick_type(type, ROLE_PLAIN, l, nl, d);
        if (fill_weight(&g, tp, &L->wq, d, qd, s_in) || fill_weight(&g, tp, &L->wk, d, kvd, s_in) ||
            fill_weight(&g, pick_type(type, ROLE_V, l, nl, d), &L->wv, d, kvd, s_in) ||
            fill_weight(&g, pick_type(type, ROLE_PLAIN, l, nl, qd), &L->wo, qd, d, (float)(1.0 / sqrt((double)qd))) ||
            fill_weight(&g, tp, &L->gate, d, ff, s_in) || fill_weight(&g, tp, &L->up, d, ff, s_in) ||
            fill_weight(&g, pick_type(type, ROLE_DOWN, l, nl, ff), &L->down, ff, d, s_ff)) {
            smc_fail(err, "out of memory");
            goto fail;
        }
        if (!(L->attn_norm = rand_vec(m, &g, d, 1.0f, 0.5f, err)) || !(L->ffn_norm = rand_vec(m, &g, d, 1.0f, 0.5f, err)))
            goto fail;
        if (sh->arch == SMC_ARCH_QWEN2) {
            if (!(L->wq.bias = rand_vec(m, &g, qd, 0.0f, 0.1f, err)) || !(L->wk.bias = rand_vec(m, &g, kvd, 0.0f, 0.1f, err)) ||
                !(L->wv.bias = rand_vec(m, &g, kvd, 0.0f, 0.1f, err)))
                goto fail;
        }
    }
    free(g.pool);
    g.pool = NULL;

    float *factors = NULL;
    if (sh->llama3_factor > 0) {
        /* llama3 scaling: low frequencies divided by the factor, a smooth
         * blend between the original context's wavelength bounds. */
        factors = malloc((size_t)(m->n_rot / 2) * sizeof *factors);
        if (!factors) {
            smc_fail(err, "out of memory");
            goto fail;
        }
        double orig = 8192, lo = 1.0, hi = 4.0, f = sh->llama3_factor;
        for (int i = 0; i < m->n_rot / 2; i++) {
            double freq = pow(sh->rope_base, -2.0 * i / m->n_rot), wavelen = 2 * M_PI / freq;
            if (wavelen < orig / hi)
                factors[i] = 1.0f;
            else if (wavelen > orig / lo)
                factors[i] = (float)f;
            else {
                double smooth = (orig / wavelen - lo) / (hi - lo);
                factors[i] = (float)(1.0 / ((1 - smooth) / f + smooth));
            }
        }
    }
    int rc = smc_model_finish(m, sh->rope_base, factors, err);
    free(factors);
    if (rc < 0)
        goto fail;
    smc_model_repack_q4_0(m);
    *out = m;
    return 0;
fail:
    free(g.pool);
    smc_model_free(m);
    return -1;
}
