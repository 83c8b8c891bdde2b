/* matmul_avx2_float.c — AVX2+FMA matmul for F32, F16 and BF16 weights with
 * float activations: per (row, column) one 8-lane FMA accumulator over the
 * row, a fixed-order horizontal sum, then the tail (n_in % 8) in order. */
#include "engine/kernels.h"
#include "engine/matmul_avx2.h"

#if defined(__x86_64__)

enum { WF32, WF16, WBF16 };

AVX2_INLINE __m256 load8(const uint8_t *row, int64_t k, const int kind)
{
    if (kind == WF32)
        return _mm256_loadu_ps((const float *)row + k);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + k));
    if (kind == WF16)
        return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

AVX2_INLINE float load1(const uint8_t *row, int64_t k, const int kind)
{
    if (kind == WF32)
        return ((const float *)row)[k];
    uint16_t h;
    memcpy(&h, row + 2 * k, 2);
    return kind == WF16 ? smc_fp16_to_f32(h) : smc_bf16_to_f32(h);
}

AVX2_INLINE void tile_float(const uint8_t *W, size_t wrow, int64_t n, const uint8_t *A, size_t astride, float *Y,
                            int64_t ldy, const int R, const int C, const int kind)
{
    __m256 acc[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            acc[r][c] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 x[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            x[c] = _mm256_loadu_ps((const float *)(A + (size_t)c * astride) + k);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m256 w = load8(W + (size_t)r * wrow, k, kind);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                acc[r][c] = _mm256_fmadd_ps(w, x[c], acc[r][c]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            float s = hsum_ps(acc[r][c]);
            const float *x = (const float *)(A + (size_t)c * astride);
            for (int64_t t = k; t < n; t++)
                s += load1(W + (size_t)r * wrow, t, kind) * x[t];
            Y[c * ldy + r] = s;
        }
}

#define TILE_F32(W, wrow, n, A, as, Y, ldy, R, C) tile_float(W, wrow, n, A, as, Y, ldy, R, C, WF32)
#define TILE_F16(W, wrow, n, A, as, Y, ldy, R, C) tile_float(W, wrow, n, A, as, Y, ldy, R, C, WF16)
#define TILE_BF16(W, wrow, n, A, as, Y, ldy, R, C) tile_float(W, wrow, n, A, as, Y, ldy, R, C, WBF16)

SMC_AVX2_DRIVER(k_f32, TILE_F32, 8, 4, 3, 0)
SMC_AVX2_DRIVER(k_f16, TILE_F16, 8, 4, 3, 0)
SMC_AVX2_DRIVER(k_bf16, TILE_BF16, 8, 4, 3, 0)

smc_mm_kernel smc_mm_kernel_avx2_float(int type)
{
    switch (type) {
    case SMC_TYPE_F32: return k_f32;
    case SMC_TYPE_F16: return k_f16;
    case SMC_TYPE_BF16: return k_bf16;
    default: return NULL;
    }
}

#endif
