/* matmul_avx512_float.c — AVX-512 matmul for F32, F16 and BF16 weights over
 * batches of 2+ columns (prompt processing, batched decoding), bit-identical
 * to the AVX2 kernels of matmul_avx2_float.c.
 *
 * The AVX2 kernels keep one 8-lane accumulator per (row, column): lane l
 * sums w[k]*x[k] for k = l, l+8, l+16, ... in order (fused FMAs), then a
 * fixed-order horizontal sum. Here a 512-bit register holds the two 8-lane
 * accumulators of one row and a PAIR of columns: the activations are packed
 * once per matmul so that each 64-byte line holds 8 values of column 2p then
 * the same 8 k of column 2p+1 (smc_pack_pairs), and each row's 8 weights are
 * broadcast to both halves. Every lane does the same FMAs in the same order
 * as the AVX2 kernel, so outputs are the same bits for any batch width, tile
 * or row range, and equal to single-column (decode) results.
 *
 * Blocking: weights are converted to f32 once per block of ROWS rows and
 * KB columns of k (not once per column tile), then 4-row x 6-pair register
 * tiles (24 accumulators, 10 loads per 24 FMAs) run over that block for every
 * column pair; partial sums cross k blocks through memory (exact: a store
 * and reload of the same floats). */
#include <string.h>

#include "engine/kernels.h"
#include "engine/matmul_avx2.h"

#if defined(__x86_64__)

#define A512_TARGET "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512dq"
#define A512_FN __attribute__((target(A512_TARGET)))
#define A512_INLINE static inline __attribute__((always_inline, target(A512_TARGET)))

enum { WF32, WF16, WBF16 };

#define ROWS 16  /* rows whose weights are converted together */
#define KB 512   /* k per block: 16 rows x 512 x 4 B = 32 KB of f32 weights */
#define TR 4     /* register tile: rows */
#define TP 6     /* register tile: column pairs */

/* dst[r*KB + k] = weight (r, k0 + k) as f32, for r < nr, k < kn. */
A512_INLINE void convert_block(const uint8_t *W, size_t wrow, int nr, int64_t k0, int64_t kn, float *dst,
                               const int kind)
{
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = W + (size_t)r * wrow;
        float *d = dst + (size_t)r * KB;
        int64_t k = 0;
        if (kind == WF32) {
            memcpy(d, (const float *)row + k0, (size_t)kn * sizeof(float));
            continue;
        }
        for (; k + 16 <= kn; k += 16) {
            __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + k0 + k));
            __m512 v = kind == WF16 ? _mm512_cvtph_ps(h)
                                    : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
            _mm512_storeu_ps(d + k, v);
        }
        for (; k < kn; k += 8) {
            __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + k0 + k));
            __m256 v = kind == WF16 ? _mm256_cvtph_ps(h)
                                    : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
            _mm256_storeu_ps(d + k, v);
        }
    }
}

/* R rows x P pairs over k in [0, kn): w rows KB floats apart, pair p's
 * packed values at a + p*pstride (2*8 floats per 8 k). acc[r*TP + p] is
 * loaded from / stored to accbuf (first block: starts at zero). */
A512_INLINE void tile(const float *w, const float *a, size_t pstride, int64_t kn, __m512 *accbuf, int first,
                      const int R, const int P)
{
    __m512 acc[TR][TP];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int p = 0; p < P; p++)
            acc[r][p] = first ? _mm512_setzero_ps() : accbuf[r * TP + p];
    for (int64_t k = 0; k < kn; k += 8) {
        __m512 wv[TR];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            wv[r] = _mm512_broadcast_f32x8(_mm256_loadu_ps(w + (size_t)r * KB + k));
#pragma GCC unroll 6
        for (int p = 0; p < P; p++) {
            __m512 x = _mm512_loadu_ps(a + p * pstride + 2 * k);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++)
                acc[r][p] = _mm512_fmadd_ps(wv[r], x, acc[r][p]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int p = 0; p < P; p++)
            accbuf[r * TP + p] = acc[r][p];
}

/* Tile with run-time R (1..4) and P (1..6) dispatched to constant shapes. */
#define TILE_P(R)                                                                                     \
    switch (P) {                                                                                      \
    case 1: tile(w, a, pstride, kn, accbuf, first, R, 1); break;                                      \
    case 2: tile(w, a, pstride, kn, accbuf, first, R, 2); break;                                      \
    case 3: tile(w, a, pstride, kn, accbuf, first, R, 3); break;                                      \
    case 4: tile(w, a, pstride, kn, accbuf, first, R, 4); break;                                      \
    case 5: tile(w, a, pstride, kn, accbuf, first, R, 5); break;                                      \
    default: tile(w, a, pstride, kn, accbuf, first, R, 6); break;                                     \
    }

A512_FN static void tile_any(const float *w, const float *a, size_t pstride, int64_t kn, __m512 *accbuf, int first,
                             int R, int P)
{
    switch (R) {
    case 1: TILE_P(1) break;
    case 2: TILE_P(2) break;
    case 3: TILE_P(3) break;
    default: TILE_P(4) break;
    }
}

/* Y[c*ldy + r] from the finished accumulators of a row group (nr rows) and
 * np pairs, Y at the first pair's first column; ncol: columns left from
 * there. Each half gets the AVX2 kernels' hsum. */
A512_INLINE void store(const __m512 *accbuf, int nr, int np, int ncol, float *Y, int64_t ldy)
{
    for (int r = 0; r < nr; r++)
        for (int p = 0; p < np; p++) {
            __m512 v = accbuf[r * TP + p];
            Y[(int64_t)(2 * p) * ldy + r] = hsum_ps(_mm512_castps512_ps256(v));
            if (2 * p + 1 < ncol)
                Y[(int64_t)(2 * p + 1) * ldy + r] = hsum_ps(_mm512_extractf32x8_ps(v, 1));
        }
}

/* Software prefetch of the weights the next convert_block will read (the
 * next k block of these rows, or the next rows), a slice per register tile,
 * so reading weights from memory overlaps the FMAs instead of stalling the
 * conversion (weights of a model do not stay in cache between micro-batches). */
typedef struct {
    const uint8_t *row;   /* first row of the segment */
    size_t wrow, bytes;   /* row stride; bytes per row */
    int nrow, r;          /* rows; row being prefetched */
    size_t off;           /* next byte of that row */
    size_t per_call;      /* lines per prefetch_some call */
} pf_cursor;

A512_INLINE void prefetch_some(pf_cursor *pf)
{
    for (size_t i = 0; i < pf->per_call && pf->r < pf->nrow; i++) {
        _mm_prefetch((const char *)pf->row + (size_t)pf->r * pf->wrow + pf->off, _MM_HINT_T0);
        pf->off += 64;
        if (pf->off >= pf->bytes) {
            pf->off = 0;
            pf->r++;
        }
    }
}

/* The kernel; A holds packed pairs (smc_pack_pairs): pair p at A + 2p*astride. */
A512_INLINE void kernel(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1, const uint8_t *A,
                        size_t astride, int nb, float *Y, int64_t ldy, const int kind)
{
    float wbuf[ROWS * KB] __attribute__((aligned(64)));
    __m512 accbuf[ROWS / TR][(SMC_MM_MAX_COLS / 2 + TP - 1) / TP][TR * TP];
    const float *Af = (const float *)A;
    const size_t pstride = 2 * astride / sizeof(float), esize = kind == WF32 ? 4 : 2;
    const int npairs = (nb + 1) / 2;
    for (int64_t ob = o0; ob < o1; ob += ROWS) {
        int nrow = o1 - ob < ROWS ? (int)(o1 - ob) : ROWS;
        for (int64_t k0 = 0; k0 < n_in; k0 += KB) {
            int64_t kn = n_in - k0 < KB ? n_in - k0 : KB;
            int first = k0 == 0, last = k0 + kn >= n_in;
            convert_block(W + (size_t)ob * wrow, wrow, nrow, k0, kn, wbuf, kind);
            /* the segment after this one */
            int64_t nk0 = last ? 0 : k0 + KB, nob = last ? ob + ROWS : ob;
            int nnrow = nob >= o1 ? 0 : (o1 - nob < ROWS ? (int)(o1 - nob) : ROWS);
            int64_t nkn = n_in - nk0 < KB ? n_in - nk0 : KB;
            int tiles = ((npairs + TP - 1) / TP) * ((nrow + TR - 1) / TR);
            size_t lines = (size_t)nnrow * (((size_t)nkn * esize + 63) / 64);
            pf_cursor pf = {W + (size_t)nob * wrow + (size_t)nk0 * esize, wrow, (size_t)nkn * esize, nnrow, 0, 0,
                            (lines + (size_t)tiles - 1) / (size_t)tiles};
            for (int p0 = 0, t = 0; p0 < npairs; p0 += TP, t++) {
                int np = npairs - p0 < TP ? npairs - p0 : TP;
                for (int r0 = 0; r0 < nrow; r0 += TR) {
                    int nr = nrow - r0 < TR ? nrow - r0 : TR;
                    __m512 *acc = accbuf[r0 / TR][t];
                    prefetch_some(&pf);
                    tile_any(wbuf + (size_t)r0 * KB, Af + p0 * pstride + 2 * k0, pstride, kn, acc, first, nr, np);
                    if (last)
                        store(acc, nr, np, nb - 2 * p0, Y + ob + r0 + (int64_t)2 * p0 * ldy, ldy);
                }
            }
        }
    }
}

A512_FN static void k512_f32(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1, const uint8_t *A,
                             size_t astride, int nb, float *Y, int64_t ldy)
{
    kernel(W, wrow, n_in, o0, o1, A, astride, nb, Y, ldy, WF32);
}

A512_FN static void k512_f16(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1, const uint8_t *A,
                             size_t astride, int nb, float *Y, int64_t ldy)
{
    kernel(W, wrow, n_in, o0, o1, A, astride, nb, Y, ldy, WF16);
}

A512_FN static void k512_bf16(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1,
                              const uint8_t *A, size_t astride, int nb, float *Y, int64_t ldy)
{
    kernel(W, wrow, n_in, o0, o1, A, astride, nb, Y, ldy, WBF16);
}

void smc_pack_pairs(const float *X, int64_t n_in, int64_t n_batch, float *dst)
{
    for (int64_t c = 0; c < n_batch; c += 2) {
        const float *x0 = X + c * n_in, *x1 = c + 1 < n_batch ? x0 + n_in : x0;
        float *d = dst + c * n_in;
        for (int64_t k = 0; k < n_in; k += 8, d += 16) {
            memcpy(d, x0 + k, 8 * sizeof(float));
            memcpy(d + 8, x1 + k, 8 * sizeof(float));
        }
    }
}

smc_mm_kernel smc_mm_kernel_avx512_float(int type, int64_t n_in)
{
    if (n_in % 8 != 0 || !smc_cpu_has_avx512())
        return NULL;
    switch (type) {
    case SMC_TYPE_F32: return k512_f32;
    case SMC_TYPE_F16: return k512_f16;
    case SMC_TYPE_BF16: return k512_bf16;
    default: return NULL;
    }
}

#else

void smc_pack_pairs(const float *X, int64_t n_in, int64_t n_batch, float *dst)
{
    (void)X, (void)n_in, (void)n_batch, (void)dst;
}

smc_mm_kernel smc_mm_kernel_avx512_float(int type, int64_t n_in)
{
    (void)type, (void)n_in;
    return NULL;
}

#endif
