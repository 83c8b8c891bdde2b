/* matmul_avx2.h — internal helpers shared by the AVX2+FMA matmul kernels:
 * the target attributes, horizontal sums, and the tile driver that walks
 * rows in groups (weights stay in L1 while every batch column is processed)
 * and calls a type's R-rows x C-columns tile function. */
#ifndef SMC_ENGINE_MATMUL_AVX2_H
#define SMC_ENGINE_MATMUL_AVX2_H

#if defined(__x86_64__)
#include <immintrin.h>

#include "engine/quant_blocks.h"

#define AVX2_FN __attribute__((target("avx2,fma,f16c")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/* Fixed-order horizontal sum (the same for every tile shape). */
AVX2_INLINE float hsum_ps(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2_INLINE int hsum_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

/* fp16 -> f32 of every fp16 value (exact; filled once by
 * smc_mm_kernel_avx2). A table load keeps the per-block scale conversion off
 * the vector ALUs. */
extern float smc_fp16_table[65536];

AVX2_INLINE float f16_to_f32_hw(smc_fp16 h)
{
    return smc_fp16_table[h];
}

/* Prefetches rows [o, min(o + n, end)) into L1. */
AVX2_INLINE void smc_prefetch_rows(const uint8_t *W, size_t wrow, int64_t o, int64_t end, int n)
{
    if (o + n > end)
        n = (int)(end - o);
    if (n <= 0)
        return;
    const uint8_t *p = W + (size_t)o * wrow, *e = p + (size_t)n * wrow;
    for (; p < e; p += 64)
        _mm_prefetch((const char *)p, _MM_HINT_T0);
}

/* Defines `static void NAME(...)` (an smc_mm_kernel) from a tile function
 * TILE(W_rows, wrow, n_in, A_cols, astride, Y, ldy, R, C) with R <= 8 and
 * C <= 4 constants. nb == 1 uses R1 rows per tile: the row range is cut
 * into R1 segments of consecutive rows and a tile takes the i-th row of
 * every segment (row stride seg * wrow), so memory sees R1 long sequential
 * streams that the hardware prefetchers follow; the rows left over (fewer
 * than R1) go one at a time. (Consecutive rows per tile, R1
 * short streams prefetched two tiles ahead, read Q8_0 at ~11 GB/s from
 * memory on a 2-core Zen 3 VM, segments at ~22-24; Q6_K ~10 -> ~18,
 * Q4_K ~10 -> ~14.5, Q4_0 ~11 -> ~13.) Larger batches use RB x CB tiles.
 * PF: software-prefetch the rows a tile or two ahead (helps the integer
 * kernels keep memory busy). The F16/F32/BF16 and VNNI kernels handle one
 * column with their own loops. */
#define SMC_AVX2_DRIVER(NAME, TILE, R1, RB, CB, PF) SMC_AVX2_DRIVER_ATTR(NAME, TILE, R1, RB, CB, PF, AVX2_FN)
/* The same driver for kernels compiled for a wider target (ATTR). */
#define SMC_AVX2_DRIVER_ATTR(NAME, TILE, R1, RB, CB, PF, ATTR)                                              \
    ATTR static void NAME(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1,        \
                             const uint8_t *A, size_t astride, int nb, float *Y, int64_t ldy)            \
    {                                                                                                    \
        int64_t o = o0;                                                                                  \
        if (nb == 1) {                                                                                   \
            const int64_t seg_ = (o1 - o0) / (R1);                                                       \
            for (int64_t i_ = 0; i_ < seg_; i_++) {                                                       \
                float y_[R1];                                                                            \
                TILE(W + (size_t)(o0 + i_) * wrow, (size_t)seg_ * wrow, n_in, A, astride, y_, 0, R1, 1);  \
                for (int r_ = 0; r_ < (R1); r_++)                                                        \
                    Y[o0 + i_ + r_ * seg_] = y_[r_];                                                     \
            }                                                                                            \
            o += (R1) * seg_;                                                                            \
            for (; o < o1; o++)                                                                          \
                TILE(W + (size_t)o * wrow, wrow, n_in, A, astride, Y + o, ldy, 1, 1);                    \
            return;                                                                                      \
        }                                                                                                \
        for (; o + (RB) <= o1; o += (RB)) {                                                              \
            int c = 0;                                                                                   \
            if (PF)                                                                                      \
                smc_prefetch_rows(W, wrow, o + (RB), o1, RB);                                            \
            for (; c + (CB) <= nb; c += (CB))                                                            \
                TILE(W + (size_t)o * wrow, wrow, n_in, A + (size_t)c * astride, astride, Y + c * ldy + o, \
                     ldy, RB, CB);                                                                       \
            for (; c < nb; c++)                                                                          \
                TILE(W + (size_t)o * wrow, wrow, n_in, A + (size_t)c * astride, astride, Y + c * ldy + o, \
                     ldy, RB, 1);                                                                        \
        }                                                                                                \
        for (; o < o1; o++) {                                                                            \
            int c = 0;                                                                                   \
            for (; c + (CB) <= nb; c += (CB))                                                            \
                TILE(W + (size_t)o * wrow, wrow, n_in, A + (size_t)c * astride, astride, Y + c * ldy + o, \
                     ldy, 1, CB);                                                                        \
            for (; c < nb; c++)                                                                          \
                TILE(W + (size_t)o * wrow, wrow, n_in, A + (size_t)c * astride, astride, Y + c * ldy + o, \
                     ldy, 1, 1);                                                                         \
        }                                                                                                \
    }

smc_mm_kernel smc_mm_kernel_avx2_float(int type);
smc_mm_kernel smc_mm_kernel_avx2_q(int type);
smc_mm_kernel smc_mm_kernel_avx2_k(int type);
/* Q8_0/Q4_0 kernels using AVX512-VNNI on 256-bit vectors (Q8_0
 * bit-identical to the AVX2 kernel, Q4_0 within float rounding of it, both
 * independent of batch width and tiling); NULL when the CPU lacks
 * AVX512-VNNI/VL/BW or for other types. */
smc_mm_kernel smc_mm_kernel_vnni_q(int type);
/* The same kernels over activations prepared once per matmul (column
 * groups transposed for the VNNI tiles; the same results bit for bit):
 * smc_vnni_cols_bytes is a column's share of the prepared buffer (0 when
 * rows of n_in inputs are too long for it), smc_vnni_prepare_cols fills
 * smc_vnni_prepared_bytes(n_in, nb) bytes (whole groups of 8 columns, a multiple of 64; the buffer must be 32-byte aligned)
 * from nb quantised activation rows,
 * and the kernel takes that buffer as its A (any chunk of columns that
 * starts at a multiple of 8, stepped by smc_vnni_cols_bytes). */
size_t smc_vnni_cols_bytes(int64_t n_in);
size_t smc_vnni_prepared_bytes(int64_t n_in, int64_t nb);
void smc_vnni_prepare_cols(int type, const uint8_t *A, size_t astride, int64_t n_in, int nb, uint8_t *out);
smc_mm_kernel smc_mm_kernel_vnni_q_prepared(int type);

#endif
#endif
