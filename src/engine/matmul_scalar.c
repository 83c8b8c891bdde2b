/* matmul_scalar.c — the portable matmul kernels: one (row, column) dot
 * product at a time, defining the arithmetic the AVX2 kernels reproduce
 * (integer dot per block, scaled and summed in float). */
#include "engine/kernels.h"
#include "engine/quant_blocks.h"

typedef float (*pair_dot)(const uint8_t *w, const uint8_t *a, int64_t n);

static float dot_f32(const uint8_t *w, const uint8_t *a, int64_t n)
{
    const float *x = (const float *)a, *y = (const float *)w;
    float acc = 0.0f;
    for (int64_t i = 0; i < n; i++)
        acc += y[i] * x[i];
    return acc;
}

static float dot_f16(const uint8_t *w, const uint8_t *a, int64_t n)
{
    const float *x = (const float *)a;
    const smc_fp16 *y = (const smc_fp16 *)w;
    float acc = 0.0f;
    for (int64_t i = 0; i < n; i++)
        acc += smc_fp16_to_f32(y[i]) * x[i];
    return acc;
}

static float dot_bf16(const uint8_t *w, const uint8_t *a, int64_t n)
{
    const float *x = (const float *)a;
    const smc_bf16 *y = (const smc_bf16 *)w;
    float acc = 0.0f;
    for (int64_t i = 0; i < n; i++)
        acc += smc_bf16_to_f32(y[i]) * x[i];
    return acc;
}

static float dot_q8_0(const uint8_t *w, const uint8_t *a, int64_t n)
{
    const smc_block_q8_0 *b = (const smc_block_q8_0 *)w;
    const smc_act_q8 *x = (const smc_act_q8 *)a;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / SMC_QK; i++) {
        int sum = 0;
        for (int j = 0; j < 32; j++)
            sum += b[i].qs[j] * x[i].qs[j];
        acc += (float)sum * (smc_fp16_to_f32(b[i].d) * x[i].d);
    }
    return acc;
}

static float dot_q4_0(const uint8_t *w, const uint8_t *a, int64_t n)
{
    const smc_block_q4_0 *b = (const smc_block_q4_0 *)w;
    const smc_act_q8 *x = (const smc_act_q8 *)a;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / SMC_QK; i++) {
        int sum = 0;
        for (int j = 0; j < 16; j++)
            sum += ((b[i].qs[j] & 0xF) - 8) * x[i].qs[j] + ((b[i].qs[j] >> 4) - 8) * x[i].qs[j + 16];
        acc += (float)sum * (smc_fp16_to_f32(b[i].d) * x[i].d);
    }
    return acc;
}

static float dot_q4_1(const uint8_t *w, const uint8_t *a, int64_t n)
{
    const smc_block_q4_1 *b = (const smc_block_q4_1 *)w;
    const smc_act_q8 *x = (const smc_act_q8 *)a;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / SMC_QK; i++) {
        int sum = 0;
        for (int j = 0; j < 16; j++)
            sum += (b[i].qs[j] & 0xF) * x[i].qs[j] + (b[i].qs[j] >> 4) * x[i].qs[j + 16];
        acc += (float)sum * (smc_fp16_to_f32(b[i].d) * x[i].d);
        accm += smc_fp16_to_f32(b[i].m) * x[i].s;
    }
    return acc + accm;
}

static uint32_t qh32(const uint8_t *qh)
{
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

static float dot_q5_0(const uint8_t *w, const uint8_t *a, int64_t n)
{
    const smc_block_q5_0 *b = (const smc_block_q5_0 *)w;
    const smc_act_q8 *x = (const smc_act_q8 *)a;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / SMC_QK; i++) {
        uint32_t qh = qh32(b[i].qh);
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (b[i].qs[j] & 0xF) | (int)((qh >> j) & 1) << 4;
            int hi = (b[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            sum += (lo - 16) * x[i].qs[j] + (hi - 16) * x[i].qs[j + 16];
        }
        acc += (float)sum * (smc_fp16_to_f32(b[i].d) * x[i].d);
    }
    return acc;
}

static float dot_q5_1(const uint8_t *w, const uint8_t *a, int64_t n)
{
    const smc_block_q5_1 *b = (const smc_block_q5_1 *)w;
    const smc_act_q8 *x = (const smc_act_q8 *)a;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / SMC_QK; i++) {
        uint32_t qh = qh32(b[i].qh);
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (b[i].qs[j] & 0xF) | (int)((qh >> j) & 1) << 4;
            int hi = (b[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            sum += lo * x[i].qs[j] + hi * x[i].qs[j + 16];
        }
        acc += (float)sum * (smc_fp16_to_f32(b[i].d) * x[i].d);
        accm += smc_fp16_to_f32(b[i].m) * x[i].s;
    }
    return acc + accm;
}

/* Q4_K/Q5_K: sum over sub-blocks of sc*dot(q, x) (integers), the mins via
 * the activation's 16-element sums. */
static float dot_q45_k(const uint8_t *w, const uint8_t *a, int64_t n, int five)
{
    const smc_act_q8k *x = (const smc_act_q8k *)a;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / SMC_QKK; i++) {
        const uint8_t *scales, *qs, *qh = NULL;
        float d, dmin;
        if (five) {
            const smc_block_q5_k *b = (const smc_block_q5_k *)w + i;
            scales = b->scales, qs = b->qs, qh = b->qh;
            d = smc_fp16_to_f32(b->d), dmin = smc_fp16_to_f32(b->dmin);
        } else {
            const smc_block_q4_k *b = (const smc_block_q4_k *)w + i;
            scales = b->scales, qs = b->qs;
            d = smc_fp16_to_f32(b->d), dmin = smc_fp16_to_f32(b->dmin);
        }
        int sumi = 0, summ = 0;
        for (int s = 0; s < 8; s++) {
            uint8_t sc, m;
            smc_k_scale_min(scales, s, &sc, &m);
            const uint8_t *q = qs + 32 * (s / 2);
            const int8_t *y = x[i].qs + 32 * s;
            int shift = (s & 1) * 4, dot = 0;
            for (int l = 0; l < 32; l++) {
                int v = (q[l] >> shift) & 0xF;
                if (qh)
                    v += ((qh[l] >> s) & 1) << 4;
                dot += v * y[l];
            }
            sumi += sc * dot;
            summ += m * (x[i].bsums[2 * s] + x[i].bsums[2 * s + 1]);
        }
        acc += (float)sumi * (d * x[i].d);
        accm += (float)summ * (dmin * x[i].d);
    }
    return acc - accm;
}

static float dot_q4_k(const uint8_t *w, const uint8_t *a, int64_t n)
{
    return dot_q45_k(w, a, n, 0);
}

static float dot_q5_k(const uint8_t *w, const uint8_t *a, int64_t n)
{
    return dot_q45_k(w, a, n, 1);
}

static float dot_q6_k(const uint8_t *w, const uint8_t *a, int64_t n)
{
    const smc_block_q6_k *b = (const smc_block_q6_k *)w;
    const smc_act_q8k *x = (const smc_act_q8k *)a;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / SMC_QKK; i++) {
        int sumi = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *L = b[i].ql + 64 * h, *H = b[i].qh + 32 * h;
            const int8_t *y = x[i].qs + 128 * h;
            int dot[8] = {0};
            for (int l = 0; l < 32; l++) {
                int q1 = (L[l] & 0xF) | ((H[l] >> 0) & 3) << 4;
                int q2 = (L[l + 32] & 0xF) | ((H[l] >> 2) & 3) << 4;
                int q3 = (L[l] >> 4) | ((H[l] >> 4) & 3) << 4;
                int q4 = (L[l + 32] >> 4) | ((H[l] >> 6) & 3) << 4;
                dot[l / 16] += q1 * y[l];
                dot[l / 16 + 2] += q2 * y[l + 32];
                dot[l / 16 + 4] += q3 * y[l + 64];
                dot[l / 16 + 6] += q4 * y[l + 96];
            }
            for (int s = 0; s < 8; s++)
                sumi += b[i].scales[8 * h + s] * (dot[s] - 32 * x[i].bsums[8 * h + s]);
        }
        acc += (float)sumi * (smc_fp16_to_f32(b[i].d) * x[i].d);
    }
    return acc;
}

#define SCALAR_KERNEL(name, dotfn)                                                                   \
    static void name(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1,          \
                     const uint8_t *A, size_t astride, int nb, float *Y, int64_t ldy)             \
    {                                                                                               \
        for (int64_t o = o0; o < o1; o++)                                                           \
            for (int b = 0; b < nb; b++)                                                            \
                Y[b * ldy + o] = dotfn(W + (size_t)o * wrow, A + (size_t)b * astride, n_in);       \
    }

SCALAR_KERNEL(k_f32, dot_f32)
SCALAR_KERNEL(k_f16, dot_f16)
SCALAR_KERNEL(k_bf16, dot_bf16)
SCALAR_KERNEL(k_q8_0, dot_q8_0)
SCALAR_KERNEL(k_q4_0, dot_q4_0)
SCALAR_KERNEL(k_q4_1, dot_q4_1)
SCALAR_KERNEL(k_q5_0, dot_q5_0)
SCALAR_KERNEL(k_q5_1, dot_q5_1)
SCALAR_KERNEL(k_q4_k, dot_q4_k)
SCALAR_KERNEL(k_q5_k, dot_q5_k)
SCALAR_KERNEL(k_q6_k, dot_q6_k)

smc_mm_kernel smc_mm_kernel_scalar(int type)
{
    switch (type) {
    case SMC_TYPE_F32: return k_f32;
    case SMC_TYPE_F16: return k_f16;
    case SMC_TYPE_BF16: return k_bf16;
    case SMC_TYPE_Q8_0: return k_q8_0;
    case SMC_TYPE_Q4_0: return k_q4_0;
    case SMC_TYPE_Q4_1: return k_q4_1;
    case SMC_TYPE_Q5_0: return k_q5_0;
    case SMC_TYPE_Q5_1: return k_q5_1;
    case SMC_TYPE_Q4_K: return k_q4_k;
    case SMC_TYPE_Q5_K: return k_q5_k;
    case SMC_TYPE_Q6_K: return k_q6_k;
    default: return NULL;
    }
}
