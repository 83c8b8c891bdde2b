/* matmul_avx2_float.c — AVX2+FMA matmul for F32, F16 and BF16 weights with
 * float activations: per (row, column) one 8-lane FMA accumulator over the
 * row, a fixed-order horizontal sum, then the tail (n_in % 8) in order.
 *
 * One column (decoding one sequence) is bound by memory bandwidth: four
 * rows per tile (four FMA chains), taken from four segments of the row
 * range so that memory sees four long sequential streams (see column1);
 * the rows left over go one at a time.
 * The arithmetic per (row, column) is the same for every tile shape, so
 * batched and single evaluations stay bit-identical. */
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

/* R rows x C columns. */
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

/* Batches of 2+ columns (nb <= SMC_MM_MAX_COLS): 6-row x 2-column tiles
 * over whole rows, in blocks of rows whose weights take about BLOCK_BYTES
 * (at most BLOCK_ROWS): within a block each column pair passes over all of
 * the block's rows, so the block's weights are read from L2 and the pair's
 * activations from L1/L2.
 *
 * The old driver (4 x 3 tiles, every column over each 4 rows) lost on Zen 3
 * (no AVX-512; 1 thread, CPU time) in two ways: GCC gave one of the three
 * activation vectors' FMAs memory operands (16 registers: 12 accumulators,
 * 3 activations and the weights leave none spare), so a tile did 10 loads
 * per 12 FMAs, and it re-read all the batch's activations for every 4 rows
 * (from L3 past L2: 1.2 MB per 64 columns of Qwen2.5-0.5B's 4864-wide FFN
 * input). The 6 x 2 tile needs 15 registers (12 accumulators, 2 activations,
 * the weights): 8 loads, 6 of them 16-byte F16 conversions, per 12 FMAs.
 * This ran 1.03-1.17x the old driver at SmolLM2's and Qwen2.5-0.5B's FFN
 * shapes with 64 and 256 columns (0.76-0.87 of the 256-bit FMA peak); 5 x 2
 * tiles were a little slower, splitting k into blocks (partial sums stored
 * between them) gained nothing. Each tile is its own function (R rows, C
 * dispatched inside) so that its k loop is compiled alone. The arithmetic
 * per (row, column) is tile_float's, as for one column, so the bits are
 * those of every other batch width. */
#define BLOCK_BYTES (128 << 10)
#define BLOCK_ROWS 64
#define BR 6 /* tile rows */
#define BC 2 /* tile columns */

typedef void (*batch_tile)(const uint8_t *w, size_t wrow, int64_t n_in, const uint8_t *A, size_t astride, float *Y,
                           int64_t ldy, int C);

#define BATCH_TILE(NAME, KIND, R)                                                                          \
    AVX2_FN __attribute__((noinline)) static void NAME(const uint8_t *w, size_t wrow, int64_t n_in,        \
                                                       const uint8_t *A, size_t astride, float *Y,         \
                                                       int64_t ldy, int C)                                  \
    {                                                                                                       \
        if (C == 2)                                                                                         \
            tile_float(w, wrow, n_in, A, astride, Y, ldy, R, 2, KIND);                                      \
        else                                                                                                \
            tile_float(w, wrow, n_in, A, astride, Y, ldy, R, 1, KIND);                                      \
    }
#define BATCH_TILES(KIND, N)                                                                               \
    BATCH_TILE(N##1, KIND, 1)                                                                               \
    BATCH_TILE(N##2, KIND, 2)                                                                               \
    BATCH_TILE(N##3, KIND, 3)                                                                               \
    BATCH_TILE(N##4, KIND, 4)                                                                               \
    BATCH_TILE(N##5, KIND, 5)                                                                               \
    BATCH_TILE(N##6, KIND, 6)                                                                               \
    static const batch_tile N[BR + 1] = {NULL, N##1, N##2, N##3, N##4, N##5, N##6};
BATCH_TILES(WF32, bt_f32)
BATCH_TILES(WF16, bt_f16)
BATCH_TILES(WBF16, bt_bf16)

/* bt[R]: the R-row tile function of the weight kind. */
static void batch(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1, const uint8_t *A,
                  size_t astride, int nb, float *Y, int64_t ldy, const batch_tile *bt)
{
    int64_t rb = (int64_t)(BLOCK_BYTES / (wrow ? wrow : 1));
    rb = (rb > BLOCK_ROWS ? BLOCK_ROWS : rb) / BR * BR;
    rb = rb < BR ? BR : rb;
    for (int64_t ob = o0; ob < o1; ob += rb) {
        const int64_t oe = o1 - ob < rb ? o1 : ob + rb;
        for (int c = 0; c < nb; c += BC) {
            const int nc = nb - c < BC ? nb - c : BC;
            for (int64_t o = ob; o < oe; o += BR) {
                const int r = oe - o < BR ? (int)(oe - o) : BR;
                bt[r](W + (size_t)o * wrow, wrow, n_in, A + (size_t)c * astride, astride, Y + c * ldy + o, ldy, nc);
            }
        }
    }
}

/* One column: four FMA chains (rows) at a time, the rows of [o0, o1) cut
 * into four segments of consecutive rows and a tile taking the i-th row of
 * every segment, so that memory sees four long sequential streams, each
 * walking its segment row after row, which the hardware prefetchers follow.
 * Eight consecutive rows per tile (eight short streams one row long,
 * software-prefetched a tile ahead) read ~15-17 GB/s of F16 weights from
 * memory on a 2-core Zen 3 VM where eight segments read ~24-26. On the
 * 2-core Zen 4 VM (AVX-512) four segments read more than eight: F16 24.5-
 * 26.8 -> 29.1-31.7 GB/s, BF16 24.5-24.9 -> 27.4-28.2, F32 28.1-29.9 ->
 * 28.3-31.2 (bench_engine_kernels -t 1 -m 48), and SmolLM2-135M F16 decode
 * 1.15-1.2x the tokens per CPU-second; two segments (two chains, FMA
 * latency-bound), six, or eight consecutive rows software-prefetched into
 * L2 read less. Each row's arithmetic is tile_float's, whatever the tile,
 * so the bits do not depend on the row range. */
#define SEGS 4

AVX2_INLINE void column1(const uint8_t *W, size_t wrow, int64_t n, int64_t o0, int64_t o1, const uint8_t *A,
                         float *Y, const int kind)
{
    const int64_t seg = (o1 - o0) / SEGS;
    for (int64_t i = 0; i < seg; i++) {
        float y[SEGS];
        tile_float(W + (size_t)(o0 + i) * wrow, (size_t)seg * wrow, n, A, 0, y, 0, SEGS, 1, kind);
        for (int r = 0; r < SEGS; r++)
            Y[o0 + i + r * seg] = y[r];
    }
    for (int64_t o = o0 + SEGS * seg; o < o1; o++)
        tile_float(W + (size_t)o * wrow, wrow, n, A, 0, Y + o, 0, 1, 1, kind);
}

#define FLOAT_KERNEL(NAME, KIND, BT)                                                                        \
    AVX2_FN static void NAME(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1,           \
                             const uint8_t *A, size_t astride, int nb, float *Y, int64_t ldy)               \
    {                                                                                                       \
        if (nb == 1)                                                                                        \
            column1(W, wrow, n_in, o0, o1, A, Y, KIND);                                                     \
        else                                                                                                \
            batch(W, wrow, n_in, o0, o1, A, astride, nb, Y, ldy, BT);                                       \
    }

FLOAT_KERNEL(k_f32, WF32, bt_f32)
FLOAT_KERNEL(k_f16, WF16, bt_f16)
FLOAT_KERNEL(k_bf16, WBF16, bt_bf16)

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
