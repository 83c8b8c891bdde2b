/* matmul_avx2_float.c — AVX2+FMA matmul for F32, F16 and BF16 weights with
 * float activations: per (row, column) one 8-lane FMA accumulator over the
 * row, a fixed-order horizontal sum, then the tail (n_in % 8) in order.
 *
 * One column (decoding one sequence) is bound by memory bandwidth: rows go
 * eight at a time (eight FMA chains, nearly sequential read streams) and
 * each row is software-prefetched PF_ROWS rows ahead of its loads, which
 * keeps enough cache-line misses in flight for one core to read at close to
 * its streaming bandwidth (8 interleaved rows without prefetch reached only
 * ~80% of it: the hardware prefetchers lose track of the short row streams).
 * The arithmetic per (row, column) is the same for every tile shape, so
 * batched and single evaluations stay bit-identical. */
#include "engine/kernels.h"
#include "engine/matmul_avx2.h"

#if defined(__x86_64__)

enum { WF32, WF16, WBF16 };

/* Prefetch distance of the one-column kernels: the same place in the row
 * PF_ROWS rows further, i.e. in the next 8-row tile. (A fixed 5 KB ahead,
 * tuned for 2-row tiles, fell inside the current tile for half its rows:
 * 8 rows ahead read ~12% faster, 27.8-28.1 against 24.4-25.4 GB/s of F16
 * weights, 1 thread, 2-core Zen 5 VM.) */
#define PF_ROWS 8

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

/* R rows x C columns. PF: prefetch each row PF_ROWS rows ahead, one
 * prefetch per 64-byte line of weights (the k loop then goes a line at a
 * time; the order of the FMAs into each accumulator does not change). */
AVX2_INLINE void tile_float(const uint8_t *W, size_t wrow, int64_t n, const uint8_t *A, size_t astride, float *Y,
                            int64_t ldy, const int R, const int C, const int kind, const int PF)
{
    __m256 acc[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            acc[r][c] = _mm256_setzero_ps();
    int64_t k = 0;
    /* elements per 64-byte line */
    const int64_t line = kind == WF32 ? 16 : 32;
    if (PF) {
        for (; k + line <= n; k += line) {
#pragma GCC unroll 8
            for (int r = 0; r < R; r++)
                _mm_prefetch((const char *)(W + (size_t)(r + PF_ROWS) * wrow + (size_t)k * (kind == WF32 ? 4 : 2)),
                             _MM_HINT_T0);
#pragma GCC unroll 4
            for (int64_t s = 0; s < line; s += 8) {
                __m256 x[4];
#pragma GCC unroll 4
                for (int c = 0; c < C; c++)
                    x[c] = _mm256_loadu_ps((const float *)(A + (size_t)c * astride) + k + s);
#pragma GCC unroll 8
                for (int r = 0; r < R; r++) {
                    __m256 w = load8(W + (size_t)r * wrow, k + s, kind);
#pragma GCC unroll 4
                    for (int c = 0; c < C; c++)
                        acc[r][c] = _mm256_fmadd_ps(w, x[c], acc[r][c]);
                }
            }
        }
    }
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

#define TILE_F32(W, wrow, n, A, as, Y, ldy, R, C) tile_float(W, wrow, n, A, as, Y, ldy, R, C, WF32, 0)
#define TILE_F16(W, wrow, n, A, as, Y, ldy, R, C) tile_float(W, wrow, n, A, as, Y, ldy, R, C, WF16, 0)
#define TILE_BF16(W, wrow, n, A, as, Y, ldy, R, C) tile_float(W, wrow, n, A, as, Y, ldy, R, C, WBF16, 0)

/* Batches of 2+ columns: 4 rows x 3 columns per tile (the nb == 1 branch
 * of these drivers is not used, see column1 below). */
SMC_AVX2_DRIVER(k_f32_batch, TILE_F32, 8, 4, 3, 0)
SMC_AVX2_DRIVER(k_f16_batch, TILE_F16, 8, 4, 3, 0)
SMC_AVX2_DRIVER(k_bf16_batch, TILE_BF16, 8, 4, 3, 0)

/* One column: rows eight at a time (eight independent FMA chains: two
 * chains left the core waiting on FMA latency, half the speed of eight on
 * weights in cache), then two, then one; prefetching ahead. */
AVX2_INLINE void column1(const uint8_t *W, size_t wrow, int64_t n, int64_t o0, int64_t o1, const uint8_t *A,
                         float *Y, const int kind)
{
    int64_t o = o0;
    for (; o + 8 <= o1; o += 8)
        tile_float(W + (size_t)o * wrow, wrow, n, A, 0, Y + o, 0, 8, 1, kind, 1);
    for (; o + 2 <= o1; o += 2)
        tile_float(W + (size_t)o * wrow, wrow, n, A, 0, Y + o, 0, 2, 1, kind, 1);
    if (o < o1)
        tile_float(W + (size_t)o * wrow, wrow, n, A, 0, Y + o, 0, 1, 1, kind, 1);
}

#define FLOAT_KERNEL(NAME, KIND)                                                                            \
    AVX2_FN static void NAME(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1,           \
                             const uint8_t *A, size_t astride, int nb, float *Y, int64_t ldy)               \
    {                                                                                                       \
        if (nb == 1)                                                                                        \
            column1(W, wrow, n_in, o0, o1, A, Y, KIND);                                                     \
        else                                                                                                \
            NAME##_batch(W, wrow, n_in, o0, o1, A, astride, nb, Y, ldy);                                    \
    }

FLOAT_KERNEL(k_f32, WF32)
FLOAT_KERNEL(k_f16, WF16)
FLOAT_KERNEL(k_bf16, WBF16)

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
