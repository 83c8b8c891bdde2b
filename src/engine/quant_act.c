/* quant_act.c — quantisation of activation columns to 8 bits for the
 * quantised matmuls (smc_act_q8 for the simple quants, smc_act_q8k for the
 * K-quants). The scalar and AVX2 versions produce identical bytes: both
 * compute d = amax/127, id = 1/d and round x*id to nearest even. */
#include <math.h>

#include "engine/kernels.h"
#include "engine/quant_blocks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

int smc_act_kind(int type)
{
    switch (type) {
    case SMC_TYPE_Q8_0: case SMC_TYPE_Q4_0: case SMC_TYPE_Q4_1: case SMC_TYPE_Q5_0: case SMC_TYPE_Q5_1:
        return SMC_ACT_Q8;
    case SMC_TYPE_Q4_K: case SMC_TYPE_Q5_K: case SMC_TYPE_Q6_K:
        return SMC_ACT_Q8K;
    default:
        return SMC_ACT_F32;
    }
}

size_t smc_act_row_bytes(int kind, int64_t n)
{
    switch (kind) {
    case SMC_ACT_Q8: return (size_t)(n / SMC_QK) * sizeof(smc_act_q8);
    case SMC_ACT_Q8K: return (size_t)(n / SMC_QKK) * sizeof(smc_act_q8k);
    default: return (size_t)n * sizeof(float);
    }
}

/* Quantises k values to qs[] with a symmetric scale; returns the scale d. */
static float quant_block_scalar(const float *x, int k, int8_t *qs)
{
    float amax = 0.0f;
    for (int j = 0; j < k; j++)
        amax = fmaxf(amax, fabsf(x[j]));
    float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < k; j++) {
        float v = nearbyintf(x[j] * id);
        v = fminf(fmaxf(v, -127.0f), 127.0f);
        qs[j] = (int8_t)v;
    }
    return d;
}

#ifdef HAVE_X86
__attribute__((target("avx2,fma"))) static float quant_block_avx2(const float *x, int k, int8_t *qs)
{
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    __m256 vmax = _mm256_setzero_ps();
    for (int j = 0; j < k; j += 8)
        vmax = _mm256_max_ps(_mm256_andnot_ps(signbit, _mm256_loadu_ps(x + j)), vmax);
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    float amax = _mm_cvtss_f32(m);
    float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    for (int j = 0; j < k; j += 32) {
        __m256i q[4];
        for (int t = 0; t < 4; t++) {
            __m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * t), vid),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
            q[t] = _mm256_cvtps_epi32(v);
        }
        /* pack 32 int32 -> 32 int8 and undo the lane interleave of the packs */
        __m256i p16a = _mm256_packs_epi32(q[0], q[1]), p16b = _mm256_packs_epi32(q[2], q[3]);
        __m256i p8 = _mm256_packs_epi16(p16a, p16b);
        p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(qs + j), p8);
    }
    return d;
}
#endif

static float quant_block(const float *x, int k, int8_t *qs, int use_avx2)
{
#ifdef HAVE_X86
    if (use_avx2 && smc_cpu_has_avx2_fma())
        return quant_block_avx2(x, k, qs);
#endif
    (void)use_avx2;
    return quant_block_scalar(x, k, qs);
}

void smc_quantize_act(int kind, const float *x, void *dst, int64_t n, int use_avx2)
{
    if (kind == SMC_ACT_Q8) {
        smc_act_q8 *a = dst;
        for (int64_t i = 0; i < n / SMC_QK; i++) {
            a[i].d = quant_block(x + i * SMC_QK, SMC_QK, a[i].qs, use_avx2);
            int sum = 0;
            for (int j = 0; j < SMC_QK; j++)
                sum += a[i].qs[j];
            a[i].s = a[i].d * (float)sum;
        }
    } else if (kind == SMC_ACT_Q8K) {
        smc_act_q8k *a = dst;
        for (int64_t i = 0; i < n / SMC_QKK; i++) {
            a[i].d = quant_block(x + i * SMC_QKK, SMC_QKK, a[i].qs, use_avx2);
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 0; j < 16; j++)
                    sum += a[i].qs[16 * g + j];
                a[i].bsums[g] = (int16_t)sum;
            }
        }
    } else {
        const float *s = x;
        float *d = dst;
        for (int64_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}
