/* test_attention_tiled.c — the tiled (flash-attention style) attention of
 * attention_tiled.c through smc_attention, on a hand-built context with a
 * paged cache of random K/V rows (two sequences, one of them a 203-token
 * chunk, the other interleaved in the same batch):
 *  - within 4e-6 (outputs are convex combinations of V rows in [-1, 1]) of
 *    a double-precision reference and of the one-row-at-a-time scalar path
 *    (smc_kernels_force_scalar), with soft and with sharp score ranges;
 *  - every entry evaluated alone (the decode path) gives its batched output
 *    bit for bit, so chunked prefill equals token-by-token evaluation;
 *  - the same with a 2-thread pool; the AVX-512 form gives the AVX2 bits;
 *  - shapes: SmolLM2 (9 heads / 3 K/V heads, head_dim 64), Qwen2.5-0.5B
 *    (14 / 2, 64), head_dim 40 (not a multiple of 32), 16 query heads per
 *    K/V head (a full tile) and 32 (too many: the reference path).
 * Skipped without AVX2+FMA (then there is only the scalar path). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/ctx.h"
#include "engine/kernels.h"
#include "attn_fixture.h"
#include "test.h"

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static float rndf(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((uint32_t)(rs >> 16) >> 8) / 8388608.0f - 1.0f;
}

/* Double-precision attention of entry e (batch-relative) of the context. */
static void reference(const smc_ctx *c, int32_t e, double *out)
{
    const smc_model *m = c->m;
    int hd = m->head_dim, kvd = m->n_head_kv * hd, g = m->n_head / m->n_head_kv;
    const smc_kv_seq *s = &c->kv.seqs[c->seq_ids[e]];
    int32_t npos = c->slots[e].pos + 1;
    double *w = malloc(sizeof(double) * (size_t)npos);
    for (int h = 0; h < m->n_head; h++) {
        const float *q = c->q + (size_t)e * m->n_head * hd + (size_t)h * hd;
        double mx = -INFINITY, sum = 0;
        for (int32_t p = 0; p < npos; p++) {
            const float *k = smc_kv_k(&c->kv, s->blocks[p / 16], 0) + (size_t)(p % 16) * kvd + (size_t)(h / g) * hd;
            double d = 0;
            for (int i = 0; i < hd; i++)
                d += (double)q[i] * k[i];
            w[p] = d * m->attn_scale;
            mx = w[p] > mx ? w[p] : mx;
        }
        for (int32_t p = 0; p < npos; p++)
            sum += (w[p] = exp(w[p] - mx));
        for (int i = 0; i < hd; i++)
            out[h * hd + i] = 0;
        for (int32_t p = 0; p < npos; p++) {
            const float *v = smc_kv_v(&c->kv, s->blocks[p / 16], 0) + (size_t)(p % 16) * kvd + (size_t)(h / g) * hd;
            for (int i = 0; i < hd; i++)
                out[h * hd + i] += w[p] / sum * v[i];
        }
    }
    free(w);
}

/* Random K and V rows (in [-1, 1]) at the slots. */
static void fill_kv(smc_kv *kv, const smc_kv_slot *slots, int n)
{
    for (int i = 0; i < n; i++) {
        float *k = smc_kv_k(kv, slots[i].block, 0) + (size_t)slots[i].row * kv->kv_dim;
        float *v = smc_kv_v(kv, slots[i].block, 0) + (size_t)slots[i].row * kv->kv_dim;
        for (int t = 0; t < kv->kv_dim; t++) {
            k[t] = rndf();
            v[t] = rndf();
        }
    }
}

static void check_shape(int n_head, int n_head_kv, int hd, float qscale, int threads)
{
    attn_fixture f;
    smc_error err = {{0}};
    CHECK_MSG(attn_fixture_init(&f, n_head, n_head_kv, hd, threads, 512, (size_t)64 << 20, &err) == 0, "%s",
              err.msg);
    smc_ctx *c = &f.c;
    int qd = n_head * hd;
    int32_t a = smc_kv_seq_new(&c->kv, &err), b = smc_kv_seq_new(&c->kv, &err);
    /* Sequence b first gets 21 tokens of its own; then one batch: 203 tokens
     * of a with 9 more of b in the middle. */
    enum { NB0 = 21, NA = 203, NB = 9, N = NA + NB };
    int32_t seqs[N];
    smc_kv_slot slots[N];
    for (int i = 0; i < NB0; i++)
        seqs[i] = b;
    CHECK(smc_kv_append(&c->kv, seqs, NB0, slots, &err) == 0);
    fill_kv(&c->kv, slots, NB0);
    for (int i = 0; i < N; i++)
        seqs[i] = i >= 100 && i < 100 + NB ? b : a;
    CHECK(smc_kv_append(&c->kv, seqs, N, slots, &err) == 0);
    float *q = malloc(sizeof(float) * (size_t)N * qd), *att = malloc(sizeof(float) * (size_t)N * qd);
    float *ref_f = malloc(sizeof(float) * (size_t)N * qd);
    fill_kv(&c->kv, slots, N);
    for (size_t t = 0; t < (size_t)N * qd; t++)
        q[t] = rndf() * qscale;
    c->q = q;
    c->att = att;
    c->slots = slots;
    c->seq_ids = seqs;

    /* The scalar path first (the reference this kernel replaces). */
    smc_kernels_force_scalar(true);
    smc_attention(c, 0, 0, N);
    memcpy(ref_f, att, sizeof(float) * (size_t)N * qd);
    smc_kernels_force_scalar(false);
    memset(att, 0, sizeof(float) * (size_t)N * qd);
    smc_attention(c, 0, 0, N);

    double worst_d = 0, worst_f = 0, *ref = malloc(sizeof(double) * (size_t)qd);
    for (int i = 0; i < N; i++) {
        reference(c, i, ref);
        for (int t = 0; t < qd; t++) {
            double x = att[(size_t)i * qd + t];
            worst_d = fmax(worst_d, fabs(x - ref[t]));
            worst_f = fmax(worst_f, fabs(x - ref_f[(size_t)i * qd + t]));
        }
    }
    CHECK_MSG(worst_d <= 4e-6 && worst_f <= 4e-6,
              "heads %d/%d hd %d qscale %g: tiled vs double %g, vs scalar path %g (tolerance 4e-6)", n_head,
              n_head_kv, hd, qscale, worst_d, worst_f);

    /* The 512-bit kernels give the 256-bit ones' bits. */
    if (smc_cpu_has_avx512()) {
        float *a2 = malloc(sizeof(float) * (size_t)N * qd);
        memcpy(a2, att, sizeof(float) * (size_t)N * qd);
        smc_kernels_force_avx2(true);
        smc_attention(c, 0, 0, N);
        smc_kernels_force_avx2(false);
        CHECK_MSG(memcmp(a2, att, sizeof(float) * (size_t)N * qd) == 0, "heads %d/%d hd %d: AVX-512 != AVX2",
                  n_head, n_head_kv, hd);
        free(a2);
    }

    /* Each entry alone equals its batched result bit for bit. */
    float *batched = malloc(sizeof(float) * (size_t)N * qd);
    memcpy(batched, att, sizeof(float) * (size_t)N * qd);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        /* Entry i alone: its query in row 0 (batch-relative), as decode has it. */
        float keep[4096];
        memcpy(keep, q, sizeof(float) * (size_t)qd);
        memmove(q, q + (size_t)i * qd, sizeof(float) * (size_t)qd);
        smc_attention(c, 0, i, 1);
        if (memcmp(att, batched + (size_t)i * qd, sizeof(float) * (size_t)qd) != 0)
            bad++;
        memcpy(q, keep, sizeof(float) * (size_t)qd);
        memcpy(att, batched, sizeof(float) * (size_t)qd);
    }
    CHECK_MSG(bad == 0, "heads %d/%d hd %d: %d entries differ alone from batched", n_head, n_head_kv, hd, bad);
    fprintf(stderr, "  heads %2d/%d hd %3d qscale %g threads %d: worst vs double %.3g, vs scalar %.3g\n", n_head,
            n_head_kv, hd, qscale, threads, worst_d, worst_f);

    free(batched);
    free(ref);
    free(q);
    free(att);
    free(ref_f);
    attn_fixture_free(&f);
}

void run_tests(void)
{
    if (!smc_cpu_has_avx2_fma()) {
        fprintf(stderr, "SKIP: no AVX2+FMA, only the scalar attention path\n");
        exit(77);
    }
    check_shape(9, 3, 64, 1.0f, 1);
    check_shape(9, 3, 64, 8.0f, 1);   /* sharp softmax: scores up to ~64 */
    check_shape(9, 3, 64, 1.0f, 2);
    check_shape(14, 2, 64, 2.0f, 2);
    check_shape(4, 4, 40, 3.0f, 1);
    check_shape(6, 2, 80, 2.0f, 1);    /* head_dim % 64 != 0 on the 512-bit path */
    check_shape(16, 1, 32, 2.0f, 2);
    check_shape(32, 1, 64, 1.0f, 1);
}
