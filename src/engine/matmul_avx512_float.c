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
 * Blocking: 4-row x 6-pair register tiles (24 accumulators; per 8 k, 4
 * weight loads and 6 activation loads per 24 FMAs) run over a block of rows
 * and k for every column pair: the activations of a column tile (k x 12
 * columns) stay in L1 while the block's rows pass, and the block's weights
 * in L2 while the column tiles pass. k is split only past KB (1024): up to
 * that each tile runs over the whole row and its sums go straight from the
 * registers to Y (through hsum16, four rows x four columns at a time), in
 * blocks of 64 rows; past it, blocks of 32 rows whose partial sums cross the
 * k blocks through accbuf (exact: a store and reload of the same floats).
 * On Zen 5 (1 thread, 64 columns, the FMA peak measured in the same run)
 * this took the kernel from ~0.75 to ~0.85 of the 512-bit peak against the
 * old 16-row x 512-k blocks, whose tiles were half as long and whose 36 KB
 * of partial sums shared L1 with the activations. The weights are read in
 * place and converted to f32 inside the tile (8 F16/BF16 values duplicated
 * into both halves of a register, then one conversion): on Zen 5 the
 * conversion runs beside the FMAs, where converting a block into an f32
 * buffer first cost ~8% of the GEMM and doubled the weights' cache
 * footprint. The next block's weights are prefetched into L2 while a block
 * runs. */
#include <string.h>

#include "engine/kernels.h"
#include "engine/matmul_avx2.h"

#if defined(__x86_64__)

#define A512_TARGET "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512dq"
#define A512_FN __attribute__((target(A512_TARGET)))
#define A512_INLINE static inline __attribute__((always_inline, target(A512_TARGET)))

enum { WF32, WF16, WBF16 };

#define ROWS 64    /* rows per block when k is whole (the unit of weight prefetch) */
#define ROWS_KB 32 /* rows per block when k is split (accbuf: 72 KB of partial sums) */
#define KB 1024    /* most k per block */
#define TR 4       /* register tile: rows */
#define TP 6       /* register tile: column pairs */

/* 8 weights of a row from k, as f32 in both halves of a register. */
A512_INLINE __m512 load_w(const uint8_t *row, int64_t k, const int kind)
{
    if (kind == WF32)
        return _mm512_broadcast_f32x8(_mm256_loadu_ps((const float *)row + k));
    __m256i h = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + k)));
    if (kind == WF16)
        return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* The horizontal sums of 8 accumulators at once: v[2i] and v[2i+1] are row
 * i of two pairs (columns c, c+1 and c+2, c+3); lane group g (4 floats) of
 * the result is column c+g, rows 0..3. Each result is summed exactly as
 * hsum_ps sums its 8 lanes (s_j = v_j + v_{j+4}, then (s0 + s2) + (s1 + s3),
 * the same operands in the same order); the shuffles only bring together the
 * lanes that meet, so 16 sums cost 14 shuffles and 7 adds instead of 96 ops. */
A512_INLINE __m512 hsum16(const __m512 v[8])
{
    __m512 s[4], t[2];
    for (int i = 0; i < 4; i++) /* group g: row i, column c+g; lanes s0..s3 */
        s[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    for (int i = 0; i < 2; i++) /* group g: s0+s2, s1+s3 of row 2i, then of row 2i+1 */
        t[i] = _mm512_add_ps(_mm512_shuffle_ps(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    return _mm512_add_ps(_mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

/* Y[c*ldy + r] from the finished accumulators of a row group (nr rows) and
 * np pairs, Y at the first pair's first column; ncol: columns left from
 * there. Two pairs (4 columns x 4 rows) at a time through hsum16; rows past
 * nr and a missing second pair are summed as zeros and not stored. */
A512_INLINE void store(const __m512 *accbuf, int nr, int np, int ncol, float *Y, int64_t ldy)
{
    const __mmask8 rows = (__mmask8)((1u << nr) - 1);
    const __m512 zero = _mm512_setzero_ps();
    if (ncol > 2 * np)
        ncol = 2 * np;
#pragma GCC unroll 3
    for (int p = 0; p < np; p += 2, Y += 4 * ldy, ncol -= 4) {
        const __m512 *a = accbuf + p;
        const bool two = p + 1 < np;
        __m512 v[8] = {a[0],
                       two ? a[1] : zero,
                       nr > 1 ? a[TP] : zero,
                       nr > 1 && two ? a[TP + 1] : zero,
                       nr > 2 ? a[2 * TP] : zero,
                       nr > 2 && two ? a[2 * TP + 1] : zero,
                       nr > 3 ? a[3 * TP] : zero,
                       nr > 3 && two ? a[3 * TP + 1] : zero};
        __m512 sums = hsum16(v);
        if (nr == TR && ncol >= 4) {
            _mm_storeu_ps(Y, _mm512_castps512_ps128(sums));
            _mm_storeu_ps(Y + ldy, _mm512_extractf32x4_ps(sums, 1));
            _mm_storeu_ps(Y + 2 * ldy, _mm512_extractf32x4_ps(sums, 2));
            _mm_storeu_ps(Y + 3 * ldy, _mm512_extractf32x4_ps(sums, 3));
            continue;
        }
        _mm_mask_storeu_ps(Y, rows, _mm512_castps512_ps128(sums));
        if (ncol > 1)
            _mm_mask_storeu_ps(Y + ldy, rows, _mm512_extractf32x4_ps(sums, 1));
        if (ncol > 2)
            _mm_mask_storeu_ps(Y + 2 * ldy, rows, _mm512_extractf32x4_ps(sums, 2));
        if (ncol > 3)
            _mm_mask_storeu_ps(Y + 3 * ldy, rows, _mm512_extractf32x4_ps(sums, 3));
    }
}

/* R rows x P pairs over k in [k0, k0 + kn): w at row 0 (rows wrow bytes
 * apart), pair p's packed values at a + p*pstride (2*8 floats per 8 k, a at
 * k0). Unless first, acc[r*TP + p] starts from accbuf (else from zero).
 * After the last k block the sums go from the registers to Y (store: ncol
 * columns left from the tile's first); before it, the accumulators go to
 * accbuf for the next block. */
A512_INLINE void tile(const uint8_t *w, size_t wrow, int64_t k0, const float *a, size_t pstride, int64_t kn,
                      __m512 *accbuf, int first, int last, float *Y, int64_t ldy, int ncol, const int R, const int P,
                      const int kind)
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
            wv[r] = load_w(w + (size_t)r * wrow, k0 + k, kind);
#pragma GCC unroll 6
        for (int p = 0; p < P; p++) {
            __m512 x = _mm512_loadu_ps(a + p * pstride + 2 * k);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++)
                acc[r][p] = _mm512_fmadd_ps(wv[r], x, acc[r][p]);
        }
    }
    if (last) {
        store(&acc[0][0], R, P, ncol, Y, ldy);
        return;
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 6
        for (int p = 0; p < P; p++)
            accbuf[r * TP + p] = acc[r][p];
}

/* Tile with run-time R (1..4) and P (1..6) dispatched to constant shapes,
 * one function per weight kind. */
#define TILE_ARGS w, wrow, k0, a, pstride, kn, accbuf, first, last, Y, ldy, ncol
#define TILE_P(R, KIND)                                                                               \
    switch (P) {                                                                                      \
    case 1: tile(TILE_ARGS, R, 1, KIND); break;                                                       \
    case 2: tile(TILE_ARGS, R, 2, KIND); break;                                                       \
    case 3: tile(TILE_ARGS, R, 3, KIND); break;                                                       \
    case 4: tile(TILE_ARGS, R, 4, KIND); break;                                                       \
    case 5: tile(TILE_ARGS, R, 5, KIND); break;                                                       \
    default: tile(TILE_ARGS, R, 6, KIND); break;                                                      \
    }

#define TILE_ANY(NAME, KIND)                                                                          \
    A512_FN static void NAME(const uint8_t *w, size_t wrow, int64_t k0, const float *a, size_t pstride, \
                             int64_t kn, __m512 *accbuf, int first, int last, float *Y, int64_t ldy,  \
                             int ncol, int R, int P)                                                  \
    {                                                                                                 \
        switch (R) {                                                                                  \
        case 1: TILE_P(1, KIND) break;                                                                \
        case 2: TILE_P(2, KIND) break;                                                                \
        case 3: TILE_P(3, KIND) break;                                                                \
        default: TILE_P(4, KIND) break;                                                               \
        }                                                                                             \
    }
TILE_ANY(tile_f32, WF32)
TILE_ANY(tile_f16, WF16)
TILE_ANY(tile_bf16, WBF16)

/* Software prefetch (into L2) of the weights of the next row block, a slice
 * per register tile, so reading weights from memory overlaps the FMAs
 * instead of stalling the first tiles of a block (weights of a model do not
 * stay in cache between micro-batches). */
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
        _mm_prefetch((const char *)pf->row + (size_t)pf->r * pf->wrow + pf->off, _MM_HINT_T1);
        pf->off += 64;
        if (pf->off >= pf->bytes) {
            pf->off = 0;
            pf->r++;
        }
    }
}

typedef void (*tile_fn)(const uint8_t *w, size_t wrow, int64_t k0, const float *a, size_t pstride, int64_t kn,
                        __m512 *accbuf, int first, int last, float *Y, int64_t ldy, int ncol, int R, int P);

/* The kernel; A holds packed pairs (smc_pack_pairs): pair p at A + 2p*astride.
 * Any nb: each row block runs through the columns 64 at a time (accbuf and
 * the column tiles are sized for 64), so a block's weights are read from
 * memory once for the whole batch, and the next block's weights are
 * prefetched over all of this block's tiles. */
A512_INLINE void kernel(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1, const uint8_t *A,
                        size_t astride, int nb, float *Y, int64_t ldy, const int kind)
{
    __m512 accbuf[ROWS_KB / TR][(SMC_MM_MAX_COLS / 2 + TP - 1) / TP][TR * TP];
    const tile_fn tile_any = kind == WF32 ? tile_f32 : kind == WF16 ? tile_f16 : tile_bf16;
    const float *Af = (const float *)A;
    const size_t pstride = 2 * astride / sizeof(float), esize = kind == WF32 ? 4 : 2;
    /* k blocks of equal size (a multiple of 8, at most KB): no short last
     * block whose accumulator reload and store would cost as much as its FMAs */
    const int64_t nkb = (n_in + KB - 1) / KB, kstep = ((n_in + nkb - 1) / nkb + 7) / 8 * 8;
    const int rows = nkb > 1 ? ROWS_KB : ROWS;
    /* column tiles per row group and k block, over all 64-column chunks */
    int col_tiles = 0;
    for (int c0 = 0; c0 < nb; c0 += SMC_MM_MAX_COLS)
        col_tiles += (((nb - c0 < SMC_MM_MAX_COLS ? nb - c0 : SMC_MM_MAX_COLS) + 1) / 2 + TP - 1) / TP;
    for (int64_t ob = o0; ob < o1; ob += rows) {
        int nrow = o1 - ob < rows ? (int)(o1 - ob) : rows;
        int64_t nob = ob + rows;
        int nnrow = nob >= o1 ? 0 : (o1 - nob < rows ? (int)(o1 - nob) : rows);
        size_t lines = (size_t)nnrow * (((size_t)n_in * esize + 63) / 64);
        size_t tiles = (size_t)col_tiles * (size_t)nkb * (size_t)((nrow + TR - 1) / TR);
        pf_cursor pf = {W + (size_t)nob * wrow, wrow, (size_t)n_in * esize, nnrow, 0, 0, (lines + tiles - 1) / tiles};
        for (int c0 = 0; c0 < nb; c0 += SMC_MM_MAX_COLS) {
            const int nc = nb - c0 < SMC_MM_MAX_COLS ? nb - c0 : SMC_MM_MAX_COLS;
            const int npairs = (nc + 1) / 2, ntiles = (npairs + TP - 1) / TP;
            const float *Ac = Af + (size_t)c0 * (astride / sizeof(float));
            float *Yc = Y + c0 * ldy;
            for (int64_t k0 = 0; k0 < n_in; k0 += kstep) {
                int64_t kn = n_in - k0 < kstep ? n_in - k0 : kstep;
                int first = k0 == 0, last = k0 + kn >= n_in;
                /* column tiles of nearly equal width (32 pairs: 6,6,5,5,5,5
                 * rather than 6,6,6,6,6,2, whose narrow tile has too few FMA
                 * chains) */
                for (int p0 = 0, t = 0, np; p0 < npairs; p0 += np, t++) {
                    np = (npairs - p0 + ntiles - t - 1) / (ntiles - t);
                    for (int r0 = 0; r0 < nrow; r0 += TR) {
                        int nr = nrow - r0 < TR ? nrow - r0 : TR;
                        /* (accbuf holds ROWS_KB rows: used only when k is split) */
                        __m512 *acc = nkb > 1 ? accbuf[r0 / TR][t] : accbuf[0][0];
                        prefetch_some(&pf);
                        tile_any(W + (size_t)(ob + r0) * wrow, wrow, k0, Ac + p0 * pstride + 2 * k0, pstride, kn,
                                 acc, first, last, Yc + ob + r0 + (int64_t)2 * p0 * ldy, ldy, nc - 2 * p0, nr, np);
                    }
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
