/* matmul_vnni_q.c — Q8_0 and Q4_0 matmul kernels for CPUs with AVX512-VNNI
 * (on 256-bit vectors, so 32 vector registers but no wider loads). Integer
 * dot products of a block of 32 use vpdpbusd instead of maddubs + madd:
 *  - Q8_0: dpbusd(0, |w|, sign(x, w)) per (row, column), the same lane sums
 *    and float steps (convert, scale d_w*d_x, FMA into 8 lanes, hsum) as
 *    matmul_avx2_q.c, so bit-identical to the AVX2 kernel for any batch or
 *    tile. With one column two rows share one 512-bit vector.
 *  - Q4_0: w = n - 8 with nibbles n in [0, 15], so w·x = n·x - 8·x; per
 *    (row, column) and block the exact int32 sum S is formed first and then
 *    acc = fma((float)S, d_w*d_x, acc) (see the Q4_0 section). For 2+
 *    columns the activations are transposed once per matmul so that each
 *    vector lane is one column and no horizontal sums are needed. Results
 *    are the same for any batch width, tile or row range, and differ from
 *    the AVX2 kernel (which sums 8 float lanes) by float rounding only. */
#include <stdatomic.h>

#include "engine/kernels.h"
#include "engine/matmul_avx2.h"

#if defined(__x86_64__)

#define VNNI_TARGET "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"
#define VNNI_FN __attribute__((target(VNNI_TARGET)))
#define VNNI_INLINE static inline __attribute__((always_inline, target(VNNI_TARGET)))

/* 32 nibbles: low nibbles of qs[0..15] then high nibbles (ggml order). */
VNNI_INLINE __m256i vnni_nibbles(const uint8_t *qs)
{
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    v = _mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* Q8_0, R rows x C columns. */
VNNI_INLINE void tile_vnni(const uint8_t *W, size_t wrow, int64_t n, const uint8_t *A, size_t astride, float *Y,
                           int64_t ldy, const int R, const int C)
{
    __m256 acc[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            acc[r][c] = _mm256_setzero_ps();
    const int64_t nblk = n / SMC_QK;
    for (int64_t i = 0; i < nblk; i++) {
        __m256i xq[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const smc_act_q8 *x = (const smc_act_q8 *)(A + (size_t)c * astride) + i;
            xq[c] = _mm256_loadu_si256((const __m256i *)x->qs);
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            const smc_block_q8_0 *b = (const smc_block_q8_0 *)(W + (size_t)r * wrow) + i;
            const __m256i sgn = _mm256_loadu_si256((const __m256i *)b->qs);
            const __m256i u = _mm256_sign_epi8(sgn, sgn);
            const __m256 vd = _mm256_set1_ps(f16_to_f32_hw(b->d));
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                const smc_act_q8 *x = (const smc_act_q8 *)(A + (size_t)c * astride) + i;
                __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, _mm256_sign_epi8(xq[c], sgn));
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(vd, _mm256_broadcast_ss(&x->d)),
                                            acc[r][c]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            Y[c * ldy + r] = hsum_ps(acc[r][c]);
}

#define TILE_V_Q8_0(W, wrow, n, A, as, Y, ldy, R, C) tile_vnni(W, wrow, n, A, as, Y, ldy, R, C)

SMC_AVX2_DRIVER_ATTR(kv_q8_0_tiles, TILE_V_Q8_0, 4, 2, 4, 1, VNNI_FN)

/* Q8_0 with one column: rows 2p and 2p+1 share a 512-bit vector (their 8
 * lanes each, same per-lane arithmetic and final hsum as tile_vnni, so the
 * bits are the same), halving the vector instructions per weight byte. The
 * sign trick has no 512-bit vpsignb: x is negated where w < 0 via a mask.
 * Each row is software-prefetched Q8_PF_AHEAD bytes ahead of its loads
 * (once per block): reading one column is bound by memory bandwidth, and
 * this keeps more misses in flight than the hardware prefetchers do on
 * four interleaved short row streams (+7-10% measured over prefetching the
 * rows two tiles ahead in one burst). */
#define Q8_PF_AHEAD 6144
VNNI_INLINE void q8_0_rows4_col1(const uint8_t *W, size_t wrow, int64_t n, const uint8_t *A, float *Y)
{
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    const int64_t nblk = n / SMC_QK;
    for (int64_t i = 0; i < nblk; i++) {
        const smc_act_q8 *x = (const smc_act_q8 *)A + i;
        const __m512i xx = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x->qs));
        const __m512 vxd = _mm512_set1_ps(x->d);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++)
            _mm_prefetch((const char *)((const smc_block_q8_0 *)(W + (size_t)r * wrow) + i) + Q8_PF_AHEAD,
                         _MM_HINT_T0);
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++) {
            const smc_block_q8_0 *b0 = (const smc_block_q8_0 *)(W + (size_t)(2 * p) * wrow) + i;
            const smc_block_q8_0 *b1 = (const smc_block_q8_0 *)(W + (size_t)(2 * p + 1) * wrow) + i;
            __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)b0->qs)),
                                           _mm256_loadu_si256((const __m256i *)b1->qs), 1);
            __m512i u = _mm512_abs_epi8(w);
            __m512i sx = _mm512_mask_sub_epi8(xx, _mm512_movepi8_mask(w), _mm512_setzero_si512(), xx);
            __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, sx);
            __m512 vd = _mm512_castpd_ps(_mm512_insertf64x4(
                _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_set1_ps(f16_to_f32_hw(b0->d)))),
                _mm256_castps_pd(_mm256_set1_ps(f16_to_f32_hw(b1->d))), 1));
            acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(vd, vxd), acc[p]);
        }
    }
#pragma GCC unroll 2
    for (int p = 0; p < 2; p++) {
        Y[2 * p] = hsum_ps(_mm512_castps512_ps256(acc[p]));
        Y[2 * p + 1] = hsum_ps(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[p]), 1)));
    }
}

VNNI_FN static void kv_q8_0(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1, const uint8_t *A,
                            size_t astride, int nb, float *Y, int64_t ldy)
{
    if (nb != 1) {
        kv_q8_0_tiles(W, wrow, n_in, o0, o1, A, astride, nb, Y, ldy);
        return;
    }
    int64_t o = o0;
    for (; o + 4 <= o1; o += 4)
        q8_0_rows4_col1(W + (size_t)o * wrow, wrow, n_in, A, Y + o);
    for (; o < o1; o++)
        tile_vnni(W + (size_t)o * wrow, wrow, n_in, A, astride, Y + o, ldy, 1, 1);
}

/* ---- Q4_0 ----
 * Every (row, column) is computed as: acc = 0; for each block of 32,
 * S = sum of (n - 8)*x (an exact int32), acc = fma((float)S, d_w*d_x, acc);
 * the output is acc. Each tile below does exactly this per vector lane, so
 * results do not depend on the batch width, the tile or the row range. */

/* Per 8 columns and block: dword k of the 8 columns' quants (XT[k], lane j
 * = column j), -8*(sum of x) per column (X0) and d_x per column (XD). */
typedef struct q4_xcols {
    __m256i xt[8];
    __m256i x0;
    __m256 xd;
} q4_xcols;

VNNI_INLINE void q4_0_prepare_cols8(const uint8_t *A, size_t astride, int ncol, int64_t nblk, q4_xcols *P)
{
    for (int64_t i = 0; i < nblk; i++) {
        __m256i q[8];
        float d[8];
        int32_t s[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            const smc_act_q8 *x = (const smc_act_q8 *)(A + (size_t)(j < ncol ? j : ncol - 1) * astride) + i;
            q[j] = _mm256_loadu_si256((const __m256i *)x->qs);
            d[j] = x->d;
            s[j] = -hsum_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(8), q[j]));
        }
        /* 8x8 dword transpose: xt[k] lane j = dword k of q[j]. */
        __m256i t0 = _mm256_unpacklo_epi32(q[0], q[1]), t1 = _mm256_unpackhi_epi32(q[0], q[1]);
        __m256i t2 = _mm256_unpacklo_epi32(q[2], q[3]), t3 = _mm256_unpackhi_epi32(q[2], q[3]);
        __m256i t4 = _mm256_unpacklo_epi32(q[4], q[5]), t5 = _mm256_unpackhi_epi32(q[4], q[5]);
        __m256i t6 = _mm256_unpacklo_epi32(q[6], q[7]), t7 = _mm256_unpackhi_epi32(q[6], q[7]);
        __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
        __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
        __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
        __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
        P[i].xt[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
        P[i].xt[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
        P[i].xt[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
        P[i].xt[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
        P[i].xt[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
        P[i].xt[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
        P[i].xt[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
        P[i].xt[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
        P[i].x0 = _mm256_loadu_si256((const __m256i *)s);
        P[i].xd = _mm256_loadu_ps(d);
    }
}

/* R rows x 8 columns (lane j = column j): dword k of a row's unpacked
 * nibbles is broadcast and multiplied by XT[k], so the 8 dpbusd of a block
 * leave the block sums of the 8 columns in the 8 lanes (no horizontal
 * sums), and one convert/multiply/FMA serves 8 (row, column) pairs. */
VNNI_INLINE void q4_0_tile_cols8(const uint8_t *W, size_t wrow, int64_t nblk, const q4_xcols *P, float *Y,
                                 int64_t ldy, int ncol, const int R)
{
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const q4_xcols *p = P + i;
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const smc_block_q4_0 *b = (const smc_block_q4_0 *)(W + (size_t)r * wrow) + i;
            _Alignas(32) int32_t ub[8];
            _mm256_store_si256((__m256i *)ub, vnni_nibbles(b->qs));
            __m256i sa = p->x0, sb = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                sa = _mm256_dpbusd_epi32(sa, _mm256_set1_epi32(ub[k]), p->xt[k]);
                sb = _mm256_dpbusd_epi32(sb, _mm256_set1_epi32(ub[k + 4]), p->xt[k + 4]);
            }
            const __m256 dd = _mm256_mul_ps(_mm256_set1_ps(f16_to_f32_hw(b->d)), p->xd);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(sa, sb)), dd, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        _Alignas(32) float y[8];
        _mm256_store_ps(y, acc[r]);
#pragma GCC unroll 8
        for (int j = 0; j < ncol; j++)
            Y[j * ldy + r] = y[j];
    }
}

/* Up to 4 columns: XT[k] (k < 4) holds dword k of columns 0-3 in lanes
 * 0-3 and dword k + 4 in lanes 4-7; X0 has -8*(sum of x) in lanes 0-3 and
 * 0 in lanes 4-7; XD d_x in lanes 0-3 and 4-7. */
VNNI_INLINE void q4_0_prepare_cols4(const uint8_t *A, size_t astride, int ncol, int64_t nblk, q4_xcols *P)
{
    for (int64_t i = 0; i < nblk; i++) {
        _Alignas(32) int32_t q[4][8];
        _Alignas(32) int32_t t[4][8], s[8] = {0};
        _Alignas(32) float d[8];
        for (int j = 0; j < 4; j++) {
            const smc_act_q8 *x = (const smc_act_q8 *)(A + (size_t)(j < ncol ? j : ncol - 1) * astride) + i;
            const __m256i v = _mm256_loadu_si256((const __m256i *)x->qs);
            _mm256_store_si256((__m256i *)q[j], v);
            s[j] = -hsum_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(8), v));
            d[j] = d[j + 4] = x->d;
        }
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 4; j++) {
                t[k][j] = q[j][k];
                t[k][j + 4] = q[j][k + 4];
            }
        for (int k = 0; k < 4; k++)
            P[i].xt[k] = _mm256_load_si256((const __m256i *)t[k]);
        P[i].x0 = _mm256_load_si256((const __m256i *)s);
        P[i].xd = _mm256_load_ps(d);
    }
}

/* R rows x up to 4 columns: dword k of the low and high nibbles of a row
 * go to lanes 0-3 and 4-7 by one in-lane shuffle, 4 dpbusd leave the low
 * and high halves of the block sums of the 4 columns in lanes j and j + 4,
 * and adding the swapped halves gives the block sums (exact integers, so
 * the same values as q4_0_tile_cols8). */
VNNI_INLINE void q4_0_tile_cols4(const uint8_t *W, size_t wrow, int64_t nblk, const q4_xcols *P, float *Y,
                                 int64_t ldy, int ncol, const int R)
{
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const q4_xcols *p = P + i;
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const smc_block_q4_0 *b = (const smc_block_q4_0 *)(W + (size_t)r * wrow) + i;
            const __m256i u = vnni_nibbles(b->qs);
            __m256i sa = _mm256_dpbusd_epi32(p->x0, _mm256_shuffle_epi32(u, 0x00), p->xt[0]);
            __m256i sb = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_shuffle_epi32(u, 0x55), p->xt[1]);
            sa = _mm256_dpbusd_epi32(sa, _mm256_shuffle_epi32(u, 0xAA), p->xt[2]);
            sb = _mm256_dpbusd_epi32(sb, _mm256_shuffle_epi32(u, 0xFF), p->xt[3]);
            sa = _mm256_add_epi32(sa, sb);
            sa = _mm256_add_epi32(sa, _mm256_permute2x128_si256(sa, sa, 0x01));
            const __m256 dd = _mm256_mul_ps(_mm256_set1_ps(f16_to_f32_hw(b->d)), p->xd);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sa), dd, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        _Alignas(32) float y[8];
        _mm256_store_ps(y, acc[r]);
        for (int j = 0; j < ncol; j++)
            Y[j * ldy + r] = y[j];
    }
}

/* One row, one column (the same steps on scalars). */
VNNI_INLINE float q4_0_row_col1(const uint8_t *W, int64_t nblk, const uint8_t *A)
{
    __m128 acc = _mm_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const smc_block_q4_0 *b = (const smc_block_q4_0 *)W + i;
        const smc_act_q8 *x = (const smc_act_q8 *)A + i;
        const __m256i xq = _mm256_loadu_si256((const __m256i *)x->qs);
        const __m256i x0 = _mm256_sub_epi32(_mm256_setzero_si256(),
                                            _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(8), xq));
        const int s = hsum_epi32(_mm256_dpbusd_epi32(x0, vnni_nibbles(b->qs), xq));
        const __m128 dd = _mm_mul_ss(_mm_set_ss(f16_to_f32_hw(b->d)), _mm_set_ss(x->d));
        acc = _mm_fmadd_ss(_mm_set_ss((float)s), dd, acc);
    }
    return _mm_cvtss_f32(acc);
}

/* Each row is prefetched Q4_PF_AHEAD bytes ahead of its loads, once per
 * block (-10% time per pass over 16 MB of weights vs prefetching the next
 * tile's rows in one burst). */
#define Q4_PF_AHEAD 4096
/* 8 rows x 1 column (lane r = row r): the 8 rows' dpbusd lane sums are
 * reduced to one vector of block sums, then one convert/multiply/FMA. */
VNNI_INLINE void q4_0_rows8_col1(const uint8_t *W, size_t wrow, int64_t nblk, const uint8_t *A, float *Y)
{
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const smc_act_q8 *x = (const smc_act_q8 *)A + i;
        const __m256i xq = _mm256_loadu_si256((const __m256i *)x->qs);
        const __m256i x0 = _mm256_sub_epi32(_mm256_setzero_si256(),
                                            _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(8), xq));
        __m256i s[8];
        const smc_block_q4_0 *b[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            b[r] = (const smc_block_q4_0 *)(W + (size_t)r * wrow) + i;
            _mm_prefetch((const char *)b[r] + Q4_PF_AHEAD, _MM_HINT_T0);
            s[r] = _mm256_dpbusd_epi32(x0, vnni_nibbles(b[r]->qs), xq);
        }
        const __m256 vd = _mm256_setr_ps(f16_to_f32_hw(b[0]->d), f16_to_f32_hw(b[1]->d), f16_to_f32_hw(b[2]->d),
                                          f16_to_f32_hw(b[3]->d), f16_to_f32_hw(b[4]->d), f16_to_f32_hw(b[5]->d),
                                          f16_to_f32_hw(b[6]->d), f16_to_f32_hw(b[7]->d));
        const __m256i h01 = _mm256_hadd_epi32(s[0], s[1]), h23 = _mm256_hadd_epi32(s[2], s[3]);
        const __m256i h45 = _mm256_hadd_epi32(s[4], s[5]), h67 = _mm256_hadd_epi32(s[6], s[7]);
        const __m256i h03 = _mm256_hadd_epi32(h01, h23), h47 = _mm256_hadd_epi32(h45, h67);
        const __m256i sum = _mm256_add_epi32(_mm256_permute2x128_si256(h03, h47, 0x20),
                                             _mm256_permute2x128_si256(h03, h47, 0x31));
        const __m256 dd = _mm256_mul_ps(vd, _mm256_set1_ps(x->d));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), dd, acc);
    }
    _mm256_storeu_ps(Y, acc);
}

/* Two or more columns: in groups of 8 (a last group of fewer repeats its
 * last column in the spare lanes). The prepared activations of up to
 * Q4_MAX_PREP (group, block) pairs sit in a stack buffer (102 KB: both
 * groups of 16 columns for rows of up to 5120 inputs), and each tile of
 * Q4_RB rows is read once for all the groups prepared. One column (or rows
 * too long for one group) goes a column at a time, 8 rows per tile. */
#define Q4_MAX_PREP 320
#define Q4_RB 4
VNNI_FN static void kv_q4_0(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1, const uint8_t *A,
                            size_t astride, int nb, float *Y, int64_t ldy)
{
    const int64_t nblk = n_in / SMC_QK;
    const int64_t g_max = nblk > 0 ? Q4_MAX_PREP / nblk : 0;
    int c = 0;
    if (g_max > 0 && nb >= 2) {
        q4_xcols P[Q4_MAX_PREP];
        while (c < nb) {
            int64_t g = (nb - c + 7) / 8;
            if (g > g_max)
                g = g_max;
            int ncol[Q4_MAX_PREP];
            for (int64_t j = 0; j < g; j++) {
                ncol[j] = nb - c - 8 * (int)j < 8 ? nb - c - 8 * (int)j : 8;
                if (ncol[j] <= 4)
                    q4_0_prepare_cols4(A + (size_t)(c + 8 * j) * astride, astride, ncol[j], nblk, P + j * nblk);
                else
                    q4_0_prepare_cols8(A + (size_t)(c + 8 * j) * astride, astride, ncol[j], nblk, P + j * nblk);
            }
            float *Yc = Y + (size_t)c * (size_t)ldy;
            int64_t o = o0;
            for (; o + Q4_RB <= o1; o += Q4_RB) {
                smc_prefetch_rows(W, wrow, o + Q4_RB, o1, Q4_RB);
                for (int64_t j = 0; j < g; j++)
                    if (ncol[j] <= 4)
                        q4_0_tile_cols4(W + (size_t)o * wrow, wrow, nblk, P + j * nblk, Yc + 8 * j * ldy + o, ldy,
                                        ncol[j], Q4_RB);
                    else
                        q4_0_tile_cols8(W + (size_t)o * wrow, wrow, nblk, P + j * nblk, Yc + 8 * j * ldy + o, ldy,
                                        ncol[j], Q4_RB);
            }
            for (; o < o1; o++)
                for (int64_t j = 0; j < g; j++)
                    if (ncol[j] <= 4)
                        q4_0_tile_cols4(W + (size_t)o * wrow, wrow, nblk, P + j * nblk, Yc + 8 * j * ldy + o, ldy,
                                        ncol[j], 1);
                    else
                        q4_0_tile_cols8(W + (size_t)o * wrow, wrow, nblk, P + j * nblk, Yc + 8 * j * ldy + o, ldy,
                                        ncol[j], 1);
            for (int64_t j = 0; j < g; j++)
                c += ncol[j];
        }
    }
    for (; c < nb; c++) {
        const uint8_t *Ac = A + (size_t)c * astride;
        float *Yc = Y + (size_t)c * (size_t)ldy;
        int64_t o = o0;
        for (; o + 8 <= o1; o += 8)
            q4_0_rows8_col1(W + (size_t)o * wrow, wrow, nblk, Ac, Yc + o);
        for (; o < o1; o++)
            Yc[o] = q4_0_row_col1(W + (size_t)o * wrow, nblk, Ac);
    }
}

smc_mm_kernel smc_mm_kernel_vnni_q(int type)
{
    static atomic_int have = -1;
    int h = atomic_load(&have);
    if (h < 0) {
        __builtin_cpu_init();
        h = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f");
        atomic_store(&have, h);
    }
    if (!h || !smc_cpu_has_avx2_fma())
        return NULL;
    switch (type) {
    case SMC_TYPE_Q8_0: return kv_q8_0;
    case SMC_TYPE_Q4_0: return kv_q4_0;
    default: return NULL;
    }
}

#endif
