/* matmul_vnni_q.c — Q8_0, Q4_0 and Q5_0 matmul kernels for CPUs with AVX512-VNNI
 * (mostly on 256-bit vectors: 32 vector registers; the one-column 16-row tile uses 512). vpdpbusd
 * multiplies unsigned by signed bytes, so a weight w is stored as u = w + z
 * (Q4_0: the nibble n = w + 8, z = 8; Q5_0: the nibble and its fifth bit,
 * w + 16, z = 16; Q8_0: w ^ 0x80 = w + 128, z = 128)
 * and w·x = u·x - z·(sum of x), the second term once per column and block.
 * Per (row, column) and block the exact int32 sum S is formed first and
 * then acc = fma((float)S, d_w*d_x, acc). For 2+ columns the activations
 * are transposed once per matmul so that each vector lane is one column and
 * no horizontal sums are needed (register tiles of 4 rows x 8 columns, one
 * unpacked weight dword broadcast to 8 columns per vpdpbusd). Results are
 * the same for any batch width, tile or row range (batched prefill gives
 * the logits of token-by-token decode), and differ from the AVX2 kernels
 * (which sum 8 float lanes per block) by float rounding only. */
#include <stdatomic.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/matmul_avx2.h"
#include "engine/quant_q4r16.h"

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

/* ---- Q4_0 and Q8_0 ----
 * Every (row, column) is computed as: acc = 0; for each block of 32,
 * S = sum of w*x (an exact int32), acc = fma((float)S, d_w*d_x, acc);
 * the output is acc. Each tile below does exactly this per vector lane, so
 * results do not depend on the batch width, the tile or the row range.
 * K (a compile-time constant after inlining: VQ_Q4_0, VQ_Q8_0, VQ_Q5_0)
 * picks the block format. */
enum { VQ_Q4_0, VQ_Q8_0, VQ_Q5_0, VQ_Q4_0R };   /* VQ_Q4_0R: Q4_0 in 16-row groups (quant_q4r16.h) */

/* Bytes per block, and the block's d (both formats start with it). */
#define VQ_BLK(K) ((K) == VQ_Q8_0 ? sizeof(smc_block_q8_0) : (K) == VQ_Q5_0 ? sizeof(smc_block_q5_0) \
                                                                        : sizeof(smc_block_q4_0))
#define VQ_ZERO(K) ((char)((K) == VQ_Q8_0 ? 0x80 : (K) == VQ_Q5_0 ? 16 : 8))
VNNI_INLINE float vq_d(const uint8_t *blk)
{
    return f16_to_f32_hw(((const smc_block_q4_0 *)(const void *)blk)->d);
}

/* The block's 32 weights as unsigned bytes u = w + z, in element order
 * (VQ_Q4_0R: blk points at the row's qs). */
VNNI_INLINE __m256i vq_unpack(const uint8_t *blk, const int K)
{
    if (K == VQ_Q4_0R)
        return vnni_nibbles(blk);
    if (K == VQ_Q8_0)
        return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(blk + 2)), _mm256_set1_epi8((char)0x80));
    if (K == VQ_Q5_0) {   /* nibble | (bit e of qh) << 4 = w + 16 */
        uint32_t qh;
        memcpy(&qh, blk + 2, 4);
        const __m256i n = vnni_nibbles(blk + 6);
        return _mm256_mask_add_epi8(n, (__mmask32)qh, n, _mm256_set1_epi8(0x10));
    }
    return vnni_nibbles(blk + 2);
}

/* Row o's block i of the matrix W: where its d is, its weights unpacked and
 * its d (plain layouts: the block at W + o * wrow + i * VQ_BLK). */
VNNI_INLINE const uint8_t *vq_dptr(const uint8_t *W, size_t wrow, int64_t o, int64_t i, const int K)
{
    if (K == VQ_Q4_0R)
        return smc_r16_group(W, wrow, o) + smc_r16_d_off(wrow, o, i);
    return W + (size_t)o * wrow + (size_t)i * VQ_BLK(K);
}

VNNI_INLINE __m256i vq_unpack_at(const uint8_t *W, size_t wrow, int64_t o, int64_t i, const int K)
{
    if (K == VQ_Q4_0R)
        return vq_unpack(smc_r16_group(W, wrow, o) + smc_r16_qs_off(o, i), K);
    return vq_unpack(vq_dptr(W, wrow, o, i, K), K);
}

/* Per 8 columns and block: dword k of the 8 columns' quants (XT[k], lane j
 * = column j), -z*(sum of x) per column (X0) and d_x per column (XD). */
typedef struct q4_xcols {
    __m256i xt[8];
    __m256i x0;
    __m256 xd;
} q4_xcols;

VNNI_INLINE void vq_prepare_cols8(const uint8_t *A, size_t astride, int ncol, int64_t nblk, q4_xcols *P,
                                  const int K)
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
            s[j] = -hsum_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(VQ_ZERO(K)), q[j]));
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

/* Up to Q4_MAX_PREP (group, block) pairs of prepared activations; the rows
 * of a tile, unpacked once (u = w + z, 32 bytes per block, and d) for all
 * the column groups, so that each weight dword is broadcast from memory (a
 * load, not a shuffle: shuffles all go to one port and were the limit). */
#define Q4_MAX_PREP 320
#define Q4_RB 4
typedef struct vq_rows {
    _Alignas(32) int32_t u[Q4_RB][Q4_MAX_PREP][8];
    float d[Q4_RB][Q4_MAX_PREP];
} vq_rows;

VNNI_INLINE void vq_unpack_rows(const uint8_t *W, size_t wrow, int64_t o, int64_t ys, int64_t nblk, int R,
                                vq_rows *U, const int K)
{
    if (K == VQ_Q4_0R) {   /* block by block: the R rows' quants share a line */
        for (int64_t i = 0; i < nblk; i++)
            for (int r = 0; r < R; r++) {
                _mm256_store_si256((__m256i *)U->u[r][i], vq_unpack_at(W, wrow, o + r * ys, i, K));
                U->d[r][i] = vq_d(vq_dptr(W, wrow, o + r * ys, i, K));
            }
        return;
    }
    for (int r = 0; r < R; r++)
        for (int64_t i = 0; i < nblk; i++) {
            _mm256_store_si256((__m256i *)U->u[r][i], vq_unpack_at(W, wrow, o + r * ys, i, K));
            U->d[r][i] = vq_d(vq_dptr(W, wrow, o + r * ys, i, K));
        }
}

/* R rows x 8 columns (lane j = column j): dword k of a row's unpacked
 * weights is broadcast and multiplied by XT[k], so the 8 dpbusd of a block
 * leave the block sums of the 8 columns in the 8 lanes (no horizontal
 * sums), and one convert/multiply/FMA serves 8 (row, column) pairs. */
VNNI_INLINE void vq_tile_cols8(const vq_rows *U, int64_t nblk, const q4_xcols *P, float *Y, int64_t ldy, int64_t ys, int ncol,
                               const int R)
{
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const q4_xcols *p = P + i;
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const int32_t *ub = U->u[r][i];
            __m256i sa = p->x0, sb = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                sa = _mm256_dpbusd_epi32(sa, _mm256_set1_epi32(ub[k]), p->xt[k]);
                sb = _mm256_dpbusd_epi32(sb, _mm256_set1_epi32(ub[k + 4]), p->xt[k + 4]);
            }
            const __m256 dd = _mm256_mul_ps(_mm256_set1_ps(U->d[r][i]), p->xd);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(sa, sb)), dd, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        _Alignas(32) float y[8];
        _mm256_store_ps(y, acc[r]);
#pragma GCC unroll 8
        for (int j = 0; j < ncol; j++)
            Y[j * ldy + r * ys] = y[j];
    }
}

/* Up to 4 columns: XT[k] (k < 4) holds dword k of columns 0-3 in lanes
 * 0-3 and dword k + 4 in lanes 4-7; X0 has -z*(sum of x) in lanes 0-3 and
 * 0 in lanes 4-7; XD d_x in lanes 0-3 and 4-7. */
VNNI_INLINE void vq_prepare_cols4(const uint8_t *A, size_t astride, int ncol, int64_t nblk, q4_xcols *P,
                                  const int K)
{
    for (int64_t i = 0; i < nblk; i++) {
        _Alignas(32) int32_t q[4][8];
        _Alignas(32) int32_t t[4][8], s[8] = {0};
        _Alignas(32) float d[8];
        for (int j = 0; j < 4; j++) {
            const smc_act_q8 *x = (const smc_act_q8 *)(A + (size_t)(j < ncol ? j : ncol - 1) * astride) + i;
            const __m256i v = _mm256_loadu_si256((const __m256i *)x->qs);
            _mm256_store_si256((__m256i *)q[j], v);
            s[j] = -hsum_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(VQ_ZERO(K)), v));
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
 * the same values as vq_tile_cols8). */
VNNI_INLINE void vq_tile_cols4(const vq_rows *U, int64_t nblk, const q4_xcols *P, float *Y, int64_t ldy, int64_t ys, int ncol,
                               const int R)
{
    __m256 acc[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const q4_xcols *p = P + i;
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const __m256i u = _mm256_load_si256((const __m256i *)U->u[r][i]);
            __m256i sa = _mm256_dpbusd_epi32(p->x0, _mm256_shuffle_epi32(u, 0x00), p->xt[0]);
            __m256i sb = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_shuffle_epi32(u, 0x55), p->xt[1]);
            sa = _mm256_dpbusd_epi32(sa, _mm256_shuffle_epi32(u, 0xAA), p->xt[2]);
            sb = _mm256_dpbusd_epi32(sb, _mm256_shuffle_epi32(u, 0xFF), p->xt[3]);
            sa = _mm256_add_epi32(sa, sb);
            sa = _mm256_add_epi32(sa, _mm256_permute2x128_si256(sa, sa, 0x01));
            const __m256 dd = _mm256_mul_ps(_mm256_set1_ps(U->d[r][i]), p->xd);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sa), dd, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        _Alignas(32) float y[8];
        _mm256_store_ps(y, acc[r]);
        for (int j = 0; j < ncol; j++)
            Y[j * ldy + r * ys] = y[j];
    }
}

/* One row, one column (the same steps on scalars). */
VNNI_INLINE float vq_row_col1(const uint8_t *W, size_t wrow, int64_t o, int64_t nblk, const uint8_t *A, const int K)
{
    __m128 acc = _mm_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const uint8_t *b = vq_dptr(W, wrow, o, i, K);
        const smc_act_q8 *x = (const smc_act_q8 *)A + i;
        const __m256i xq = _mm256_loadu_si256((const __m256i *)x->qs);
        const __m256i x0 = _mm256_sub_epi32(_mm256_setzero_si256(),
                                            _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(VQ_ZERO(K)), xq));
        const int s = hsum_epi32(_mm256_dpbusd_epi32(x0, vq_unpack_at(W, wrow, o, i, K), xq));
        const __m128 dd = _mm_mul_ss(_mm_set_ss(vq_d(b)), _mm_set_ss(x->d));
        acc = _mm_fmadd_ss(_mm_set_ss((float)s), dd, acc);
    }
    return _mm_cvtss_f32(acc);
}

/* Each row is prefetched VQ_PF_AHEAD bytes ahead of its loads, once per
 * block (Q4_0: -10% time per pass over 16 MB of weights vs prefetching the
 * next tile's rows in one burst; Q8_0: +7-10% over that). */
#define VQ_PF_AHEAD(K) ((K) == VQ_Q8_0 ? 6144 : 4096)
/* 8 rows x 1 column (lane r = row r): the 8 rows' dpbusd lane sums are
 * reduced to one vector of block sums, then one convert/multiply/FMA. */
VNNI_INLINE void vq_rows8_col1(const uint8_t *W, size_t wrow, int64_t o, int64_t nblk, const uint8_t *A, float *Y,
                               const int K)
{
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const smc_act_q8 *x = (const smc_act_q8 *)A + i;
        const __m256i xq = _mm256_loadu_si256((const __m256i *)x->qs);
        const __m256i x0 = _mm256_sub_epi32(_mm256_setzero_si256(),
                                            _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(VQ_ZERO(K)), xq));
        __m256i s[8];
        const uint8_t *b[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            b[r] = vq_dptr(W, wrow, o + r, i, K);
            _mm_prefetch((const char *)b[r] + VQ_PF_AHEAD(K), _MM_HINT_T0);
            s[r] = _mm256_dpbusd_epi32(x0, vq_unpack_at(W, wrow, o + r, i, K), xq);
        }
        const __m256 vd = _mm256_setr_ps(vq_d(b[0]), vq_d(b[1]), vq_d(b[2]), vq_d(b[3]), vq_d(b[4]), vq_d(b[5]),
                                          vq_d(b[6]), vq_d(b[7]));
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

/* Q4_0 / Q5_0: two rows' whole blocks (d, [qh,] qs), row r in the low and
 * row r + 4 in the high 256 bits; masked loads read no byte past a block. */
VNNI_INLINE __m512i vq_load2(const uint8_t *b0, const uint8_t *b1, const int K)
{
    const __mmask32 m = (__mmask32)((1u << VQ_BLK(K)) - 1);
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_maskz_loadu_epi8(m, b0)), _mm256_maskz_loadu_epi8(m, b1),
                              1);
}

/* The two rows' weights of vq_load2 as unsigned bytes u = w + z, element
 * order in each half: one word permutation puts a row's 16 qs bytes (at an
 * even offset) in two 128-bit lanes, shifted by 0 and 4 and masked. */
VNNI_INLINE __m512i vq_unpack2(__m512i raw, const uint8_t *b0, const uint8_t *b1, const int K)
{
    const short o = K == VQ_Q5_0 ? 3 : 1;   /* first word of qs */
    const __m512i idx = _mm512_set_epi16(
        16 + o + 7, 16 + o + 6, 16 + o + 5, 16 + o + 4, 16 + o + 3, 16 + o + 2, 16 + o + 1, 16 + o,
        16 + o + 7, 16 + o + 6, 16 + o + 5, 16 + o + 4, 16 + o + 3, 16 + o + 2, 16 + o + 1, 16 + o,
        o + 7, o + 6, o + 5, o + 4, o + 3, o + 2, o + 1, o, o + 7, o + 6, o + 5, o + 4, o + 3, o + 2, o + 1, o);
    const __m512i q = _mm512_permutexvar_epi16(idx, raw);
    const __m512i n = _mm512_and_si512(_mm512_srlv_epi64(q, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)),
                                       _mm512_set1_epi8(0x0F));
    if (K == VQ_Q5_0) {   /* nibble | (bit e of qh) << 4 = w + 16 */
        /* byte e of each half = qh byte e / 8 of its row (qh: bytes 2-5 of
         * the half's first 128-bit lane), tested against bit e % 8 */
        const __m512i l0 = _mm512_shuffle_i64x2(raw, raw, _MM_SHUFFLE(2, 2, 0, 0));
        const __m512i sel = _mm512_set_epi64(0x0505050505050505LL, 0x0404040404040404LL, 0x0303030303030303LL,
                                             0x0202020202020202LL, 0x0505050505050505LL, 0x0404040404040404LL,
                                             0x0303030303030303LL, 0x0202020202020202LL);
        const __m512i bits = _mm512_set1_epi64((long long)0x8040201008040201ULL);
        const __mmask64 h = _mm512_test_epi8_mask(_mm512_shuffle_epi8(l0, sel), bits);
        return _mm512_mask_add_epi8(n, h, n, _mm512_set1_epi8(0x10));
    }
    (void)b0, (void)b1;
    return n;
}

/* The 16 rows' d (as floats, lane r = row r) from the 8 vectors of
 * vq_rows16_col1 (vector p: rows order[p] and order[p] + 4, d in words 0
 * and 16): one permutation picks, for every lane, word 0 or 16 of one of
 * two vectors; four of them and three blends put all 16 in row order. */
VNNI_INLINE __m512 vq_d16(const __m512i raw[8])
{
    const __m512i idx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         48, 16, 48, 16, 32, 0, 32, 0, 48, 16, 48, 16, 32, 0, 32, 0);
    __m512i d = _mm512_permutex2var_epi16(raw[0], idx, raw[1]);                         /* rows 0, 1, 4, 5 */
    d = _mm512_mask_mov_epi16(d, 0x00CC, _mm512_permutex2var_epi16(raw[2], idx, raw[3])); /* 2, 3, 6, 7 */
    d = _mm512_mask_mov_epi16(d, 0x3300, _mm512_permutex2var_epi16(raw[4], idx, raw[5])); /* 8, 9, 12, 13 */
    d = _mm512_mask_mov_epi16(d, 0xCC00, _mm512_permutex2var_epi16(raw[6], idx, raw[7])); /* 10, 11, 14, 15 */
    return _mm512_cvtph_ps(_mm512_castsi512_si256(d));
}

/* The same from 16 vectors with one row's block each (d in word 0): word
 * r of the permutation of rows 2k, 2k + 1 is d of row r for r = 2k, 2k + 1. */
VNNI_INLINE __m512 vq_d16_rows(const __m512i raw[16])
{
    const __m512i idx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         32, 0, 32, 0, 32, 0, 32, 0, 32, 0, 32, 0, 32, 0, 32, 0);
    __m512i d = _mm512_permutex2var_epi16(raw[0], idx, raw[1]);
#pragma GCC unroll 7
    for (int k = 1; k < 8; k++)
        d = _mm512_mask_mov_epi16(d, (__mmask32)3u << (2 * k), _mm512_permutex2var_epi16(raw[2 * k], idx, raw[2 * k + 1]));
    return _mm512_cvtph_ps(_mm512_castsi512_si256(d));
}

/* Lane-wise sums of pairs: the dword lanes of a and b, summed in pairs of
 * neighbouring dwords (a's sums in even lanes, b's in odd lanes). */
VNNI_INLINE __m512i vq_pairsum32(__m512i a, __m512i b)
{
    return _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
}

VNNI_INLINE __m512i vq_pairsum64(__m512i a, __m512i b)
{
    return _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
}

/* 16 rows x 1 column on 512-bit vectors (lane r = row r, row r at
 * W + r * rstride, its output at Y[r * ystride]): vector p holds
 * rows p (low half) and p + 4 (high half) of rows 0-7 or 8-15; the exact
 * int32 block sums of the 16 rows are gathered into lane order by three
 * levels of pairwise sums (integer sums: any order gives the same S), the
 * rows' d converted as one vector, then the same convert/multiply/FMA per
 * lane as every other tile, so the outputs are bit for bit those of the
 * 8-row and batch tiles. For Q8_0 kv_q gives a tile the i-th row of each
 * of 16 segments of the row range (rstride = the segment's length), so
 * memory sees 16 long sequential streams; each row is prefetched a row
 * further down its segment (wrow bytes ahead), a block at a time. On the
 * 2-core Zen 4 VM (1 thread, 48 MB of weights, load 6-9) this read Q8_0 at
 * ~19-28 GB/s where 16 consecutive rows per tile, the next 16 prefetched in
 * one linear sweep, read ~13.5-20; 2, 4 or 8 consecutive rows from each of
 * 8, 4 or 2 segments, no prefetch, or prefetches 1-4 KB ahead were slower.
 * Q4_0 / Q5_0 keep 16 consecutive rows (rstride = wrow) and the linear
 * sweep (on the Zen 5 VM it took Q4_0 from ~13 to ~21-24 GB/s against a
 * prefetch per row and block): they are near their speed in cache (the
 * unpacking, not memory, is their limit), segments gained 5-15% in the
 * kernel bench but SmolLM2 Q4_0 decode lost ~10% in two of three rounds.
 * Blocks are
 * read whole by masked loads (two rows per vector for Q4_0 / Q5_0, one for
 * Q8_0's 34 bytes) and the 16 d values gathered from those vectors by word
 * permutations: against 16 two-byte loads and inserts per block, one
 * column from memory went from ~20 to ~26 GB/s (Q4_0) and ~24 to ~30
 * (Q8_0; in cache Q8_0 is slower, ~33-43 against ~32-56 GB/s, but a
 * decode step reads its weights from memory); Q5_0, whose qh bits also
 * come from the loaded vector (a byte shuffle and a bit test, not two
 * scalar loads per row pair), from ~21 to ~26. */
VNNI_INLINE void vq_rows16_col1(const uint8_t *W, size_t wrow, size_t rstride, int64_t nblk, const uint8_t *A,
                                float *Y, int64_t ystride, const int K)
{
    static const int8_t order[8] = {0, 1, 2, 3, 8, 9, 10, 11};
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const smc_act_q8 *x = (const smc_act_q8 *)A + i;
        const __m512i xq = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x->qs));
        const __m512i x0 = _mm512_sub_epi32(_mm512_setzero_si512(),
                                            _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(VQ_ZERO(K)), xq));
        const uint8_t *blk = W + (size_t)i * VQ_BLK(K);
        if (K == VQ_Q8_0) { /* each row's block in the next row of its segment */
#pragma GCC unroll 16
            for (int r = 0; r < 16; r++)
                _mm_prefetch((const char *)blk + (size_t)r * rstride + wrow, _MM_HINT_T0);
        } else { /* the next tile (the next 16 rows, contiguous) a block's share at a time */
            const char *pf = (const char *)W + 16 * wrow + (size_t)i * 16 * VQ_BLK(K);
            for (size_t l = 0; l < 16 * VQ_BLK(K); l += 64)
                _mm_prefetch(pf + l, _MM_HINT_T0);
        }
        __m512i s[8];
        __m512 vd;
        if (K == VQ_Q8_0) {
            __m512i raw[16];
#pragma GCC unroll 16
            for (int r = 0; r < 16; r++)
                raw[r] = _mm512_maskz_loadu_epi8((__mmask64)0x3FFFFFFFFULL, blk + (size_t)r * rstride);
            /* words 1-16 (qs) of row r low, of row r + 4 high */
            const __m512i qidx = _mm512_set_epi16(48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33,
                                                  16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
#pragma GCC unroll 8
            for (int p = 0; p < 8; p++) {
                const __m512i u = _mm512_xor_si512(_mm512_permutex2var_epi16(raw[order[p]], qidx, raw[order[p] + 4]),
                                                   _mm512_set1_epi8((char)0x80));
                s[p] = _mm512_dpbusd_epi32(x0, u, xq);
            }
            vd = vq_d16_rows(raw);
        } else {
            __m512i raw[8];
#pragma GCC unroll 8
            for (int p = 0; p < 8; p++) {
                const uint8_t *b0 = blk + (size_t)order[p] * rstride, *b1 = b0 + 4 * rstride;
                raw[p] = vq_load2(b0, b1, K);
                s[p] = _mm512_dpbusd_epi32(x0, vq_unpack2(raw[p], b0, b1, K), xq);
            }
            vd = vq_d16(raw);
        }
        /* 128-bit lane l of a level-2 vector: rows 0-3 (lanes 0, 1) and 4-7
         * (lanes 2, 3), each lane a partial sum of the rows' 8 dwords */
        const __m512i a = vq_pairsum64(vq_pairsum32(s[0], s[1]), vq_pairsum32(s[2], s[3]));
        const __m512i b = vq_pairsum64(vq_pairsum32(s[4], s[5]), vq_pairsum32(s[6], s[7]));
        const __m512i sum = _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                                             _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
        const __m512 dd = _mm512_mul_ps(vd, _mm512_set1_ps(x->d));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), dd, acc);
    }
    _Alignas(64) float y[16];
    _mm512_store_ps(y, acc);
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++)
        Y[r * ystride] = y[r];
}

/* Q4_0 in 16-row groups (quant_q4r16.h), 16 rows x 1 column, the group at
 * G: per block one load of the 16 d values and four 64-byte loads of
 * quants, vector k holding rows k, k + 4, k + 8, k + 12 in its 128-bit
 * lanes; the low nibbles (elements 0-15) and the high ones (16-31) go to
 * two dpbusd against the column's elements 0-15 and 16-31 broadcast to
 * every lane. Two levels of pairwise sums leave row 4l + k's exact int32
 * block sum in lane 4l + k (row order), then the same convert/multiply/FMA
 * per lane as vq_rows16_col1: the same bits, with no shuffle for the
 * unpacking and none for the d values (vq_unpack2 and vq_d16). The next
 * group is prefetched a block's share at a time, as vq_rows16_col1 does. */
/* dword lanes of -8 * (the column's elements 0-15 + 16-31) of each block
 * (what the 16-row tile starts its sums from), once per column */
#define VQ_X0_MAX 256
VNNI_INLINE void vq_x0_r16(const uint8_t *A, int64_t nblk, __m128i *x0)
{
    const __m128i z = _mm_set1_epi8(8);
    for (int64_t i = 0; i < nblk; i++) {
        const smc_act_q8 *x = (const smc_act_q8 *)A + i;
        const __m128i xl = _mm_loadu_si128((const __m128i *)x->qs), xh = _mm_loadu_si128((const __m128i *)(x->qs + 16));
        x0[i] = _mm_sub_epi32(_mm_setzero_si128(), _mm_dpbusd_epi32(_mm_dpbusd_epi32(_mm_setzero_si128(), z, xl), z, xh));
    }
}

VNNI_INLINE void vq_rows16_col1_r16(const uint8_t *G, size_t wrow, int64_t nblk, const uint8_t *A, const __m128i *x0,
                                    float *Y)
{
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < nblk; i++) {
        const smc_act_q8 *x = (const smc_act_q8 *)A + i;
        const __m128i xl = _mm_loadu_si128((const __m128i *)x->qs), xh = _mm_loadu_si128((const __m128i *)(x->qs + 16));
        const __m512i x0v = _mm512_broadcast_i32x4(x0[i]), xlo = _mm512_broadcast_i32x4(xl),
                      xhi = _mm512_broadcast_i32x4(xh);
        const uint8_t *blk = G + (size_t)i * 256, *bd = G + smc_r16_d_off(wrow, 0, i);
        const char *pf = (const char *)G + SMC_R16_ROWS * wrow + (size_t)i * SMC_R16_BLK;
        for (size_t l = 0; l < SMC_R16_BLK; l += 64)
            _mm_prefetch(pf + l, _MM_HINT_T0);
        __m512i s[4];
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            const __m512i v = _mm512_loadu_si512((const void *)(blk + 64 * k));
            const __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            s[k] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(x0v, lo, xlo), hi, xhi);
        }
        const __m512 vd = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)bd));
        const __m512i sum = vq_pairsum64(vq_pairsum32(s[0], s[1]), vq_pairsum32(s[2], s[3]));
        const __m512 dd = _mm512_mul_ps(vd, _mm512_set1_ps(x->d));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), dd, acc);
    }
    _mm512_storeu_ps(Y, acc);
}

/* R rows o, o + ys, ... of W against the g prepared column groups P
 * (ncol[j] columns each): unpacked once, then a tile per group. */
VNNI_INLINE void vq_batch_rows(const uint8_t *W, size_t wrow, int64_t o, int64_t ys, int64_t nblk, vq_rows *U,
                               const q4_xcols *P, int64_t g, const int *ncol, float *Yc, int64_t ldy, const int R,
                               const int K)
{
    vq_unpack_rows(W, wrow, o, ys, nblk, R, U, K);
    for (int64_t j = 0; j < g; j++)
        if (ncol[j] <= 4)
            vq_tile_cols4(U, nblk, P + j * nblk, Yc + 8 * j * ldy + o, ldy, ys, ncol[j], R);
        else
            vq_tile_cols8(U, nblk, P + j * nblk, Yc + 8 * j * ldy + o, ldy, ys, ncol[j], R);
}

/* Rows o0..o1 against G prepared column groups (group j: NCOL[j] columns
 * from column 8j, its blocks at P + j * nblk; Yc: the first column's
 * outputs): each tile of Q4_RB rows is read and unpacked once for all the
 * groups. */
VNNI_INLINE void vq_groups(const uint8_t *W, size_t wrow, int64_t nblk, int64_t o0, int64_t o1, const q4_xcols *P,
                           const int *ncol, int64_t g, float *Yc, int64_t ldy, const int K)
{
    vq_rows U;
    int64_t o = o0;
    if (K == VQ_Q4_0R) {
        for (; o < o1 && (o & 15); o++)
            vq_batch_rows(W, wrow, o, 1, nblk, &U, P, g, ncol, Yc, ldy, 1, K);
        /* a group as 4 tiles of rows k, k + 4, k + 8, k + 12: each reads
         * its own 64 bytes of every block's quants; each tile
         * prefetches a quarter of the next group's bytes (Zen 4 VM,
         * 40 MB of SmolLM2-shaped matrices, batch 4: ~7.1-7.5 ms per
         * pass, plain Q4_0 ~7.0-7.1; prefetching what the next tile
         * reads, ~8.5, two groups ahead ~7.3-7.6) */
        for (; o + 16 <= o1; o += 16)
            for (int k = 0; k < 4; k++) {
                smc_prefetch_rows(W, wrow, o + 16 + 4 * k, o1, Q4_RB);
                vq_batch_rows(W, wrow, o + k, 4, nblk, &U, P, g, ncol, Yc, ldy, Q4_RB, K);
            }
    }
    for (; o + Q4_RB <= o1; o += Q4_RB) {
        smc_prefetch_rows(W, wrow, o + Q4_RB, o1, Q4_RB);
        vq_batch_rows(W, wrow, o, 1, nblk, &U, P, g, ncol, Yc, ldy, Q4_RB, K);
    }
    for (; o < o1; o++)
        vq_batch_rows(W, wrow, o, 1, nblk, &U, P, g, ncol, Yc, ldy, 1, K);
}

/* Columns c.. of a batch of NB in groups of 8 (the last group: the rest;
 * 4 or fewer columns use the 4-column layout): the group sizes. */
VNNI_INLINE int64_t vq_group_cols(int nb, int c, int64_t g, int *ncol)
{
    for (int64_t j = 0; j < g; j++)
        ncol[j] = nb - c - 8 * (int)j < 8 ? nb - c - 8 * (int)j : 8;
    return g;
}

VNNI_INLINE void vq_prepare_group(const uint8_t *A, size_t astride, int ncol, int64_t nblk, q4_xcols *P, const int K)
{
    if (ncol <= 4)
        vq_prepare_cols4(A, astride, ncol, nblk, P, K);
    else
        vq_prepare_cols8(A, astride, ncol, nblk, P, K);
}

/* Two or more columns: in groups of 8 (a last group of fewer repeats its
 * last column in the spare lanes). The prepared activations of up to
 * Q4_MAX_PREP (group, block) pairs sit in a stack buffer (102 KB: both
 * groups of 16 columns for rows of up to 5120 inputs), and each tile of
 * Q4_RB rows is read and unpacked once (45 KB) for all the groups
 * prepared. (smc_matmul prepares a batch's groups once per matmul instead
 * and calls the kv_p kernels below: this preparation, repeated by every
 * call, cost as much as the tiles at 4 rows per call.) One column (or rows
 * too long for one group) goes a column at a time, 16 rows per tile (Q8_0:
 * from 16 segments of the row range), then 8 consecutive rows, then single
 * rows. */
VNNI_INLINE void kv_q(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1, const uint8_t *A,
                      size_t astride, int nb, float *Y, int64_t ldy, const int K)
{
    const int64_t nblk = n_in / SMC_QK;
    const int64_t g_max = nblk > 0 ? Q4_MAX_PREP / nblk : 0;
    int c = 0;
    if (g_max > 0 && nb >= 2) {
        q4_xcols P[Q4_MAX_PREP];
        while (c < nb) {
            int ncol[Q4_MAX_PREP];
            int64_t g = vq_group_cols(nb, c, (nb - c + 7) / 8 < g_max ? (nb - c + 7) / 8 : g_max, ncol);
            for (int64_t j = 0; j < g; j++)
                vq_prepare_group(A + (size_t)(c + 8 * j) * astride, astride, ncol[j], nblk, P + j * nblk, K);
            vq_groups(W, wrow, nblk, o0, o1, P, ncol, g, Y + (size_t)c * (size_t)ldy, ldy, K);
            for (int64_t j = 0; j < g; j++)
                c += ncol[j];
        }
    }
    for (; c < nb; c++) {
        const uint8_t *Ac = A + (size_t)c * astride;
        float *Yc = Y + (size_t)c * (size_t)ldy;
        int64_t o = o0;
        if (K == VQ_Q8_0) {
            const int64_t seg = (o1 - o0) / 16;   /* rows per segment */
            for (int64_t i = 0; i < seg; i++)
                vq_rows16_col1(W + (size_t)(o0 + i) * wrow, wrow, (size_t)seg * wrow, nblk, Ac, Yc + o0 + i, seg, K);
            o += 16 * seg;
        }
        if (K == VQ_Q4_0R) {   /* whole 16-row groups */
            for (; o < o1 && (o & 15); o++)
                Yc[o] = vq_row_col1(W, wrow, o, nblk, Ac, K);
            __m128i x0[VQ_X0_MAX];
            if (nblk <= VQ_X0_MAX) {
                vq_x0_r16(Ac, nblk, x0);
                for (; o + 16 <= o1; o += 16)
                    vq_rows16_col1_r16(W + (size_t)o * wrow, wrow, nblk, Ac, x0, Yc + o);
            }
        } else {
            for (; o + 16 <= o1; o += 16)   /* Q4_0, Q5_0: 16 consecutive rows */
                vq_rows16_col1(W + (size_t)o * wrow, wrow, wrow, nblk, Ac, Yc + o, 1, K);
        }
        for (; o + 8 <= o1; o += 8)
            vq_rows8_col1(W, wrow, o, nblk, Ac, Yc + o, K);
        for (; o < o1; o++)
            Yc[o] = vq_row_col1(W, wrow, o, nblk, Ac, K);
    }
}

/* ---- activations prepared once per matmul ----
 * Column group j of a batch (columns 8j..8j+7, or the rest) sits at
 * P + j * nblk, laid out as vq_prepare_group leaves it. A column's share of
 * that, SMC_VNNI_COL_BYTES(n_in), is the "row stride" the matmul driver
 * steps by, so a chunk of columns starting at a multiple of 8 starts at its
 * own first group. */
#define VQ_COL_BYTES(nblk) ((size_t)(nblk) * sizeof(q4_xcols) / 8)

size_t smc_vnni_cols_bytes(int64_t n_in)
{
    const int64_t nblk = n_in / SMC_QK;
    return nblk > 0 && nblk <= Q4_MAX_PREP ? VQ_COL_BYTES(nblk) : 0;
}

size_t smc_vnni_prepared_bytes(int64_t n_in, int64_t nb)
{
    return smc_vnni_cols_bytes(n_in) * (size_t)((nb + 7) / 8 * 8);
}

static int vq_kind(int type)
{
    return type == SMC_TYPE_Q8_0 ? VQ_Q8_0 : type == SMC_TYPE_Q5_0 ? VQ_Q5_0 : type == SMC_TYPE_Q4_0_R16 ? VQ_Q4_0R
                                                                                                   : VQ_Q4_0;
}

VNNI_FN void smc_vnni_prepare_cols(int type, const uint8_t *A, size_t astride, int64_t n_in, int nb, uint8_t *out)
{
    const int64_t nblk = n_in / SMC_QK;
    q4_xcols *P = (q4_xcols *)(void *)out;
    for (int c = 0; c < nb; c += 8) {
        const int ncol = nb - c < 8 ? nb - c : 8;
        switch (vq_kind(type)) {   /* K must be a constant for the inlined steps */
        case VQ_Q8_0: vq_prepare_group(A + (size_t)c * astride, astride, ncol, nblk, P + c / 8 * nblk, VQ_Q8_0); break;
        case VQ_Q5_0: vq_prepare_group(A + (size_t)c * astride, astride, ncol, nblk, P + c / 8 * nblk, VQ_Q5_0); break;
        default: vq_prepare_group(A + (size_t)c * astride, astride, ncol, nblk, P + c / 8 * nblk, VQ_Q4_0); break;
        }
    }
}

/* A: the prepared groups of NB columns (astride: VQ_COL_BYTES). */
VNNI_INLINE void kv_p(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1, const uint8_t *A,
                      size_t astride, int nb, float *Y, int64_t ldy, const int K)
{
    const int64_t nblk = n_in / SMC_QK;
    const q4_xcols *P = (const q4_xcols *)(const void *)A;
    int ncol[(SMC_MM_MAX_COLS + 7) / 8];
    (void)astride;
    for (int c = 0; c < nb; c += 8 * (SMC_MM_MAX_COLS / 8)) {
        int64_t g = (nb - c + 7) / 8;
        if (g > SMC_MM_MAX_COLS / 8)
            g = SMC_MM_MAX_COLS / 8;
        vq_group_cols(nb, c, g, ncol);
        vq_groups(W, wrow, nblk, o0, o1, P + c / 8 * nblk, ncol, g, Y + (size_t)c * (size_t)ldy, ldy, K);
    }
}

/* The kernels of each block format K: kv_NAME over 8-bit activation rows,
 * kp_NAME over activations prepared once per matmul. */
#define VQ_KERNELS(NAME, K)                                                                                        \
    VNNI_FN static void kv_##NAME(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1,             \
                                  const uint8_t *A, size_t astride, int nb, float *Y, int64_t ldy)                 \
    {                                                                                                              \
        kv_q(W, wrow, n_in, o0, o1, A, astride, nb, Y, ldy, K);                                                    \
    }                                                                                                              \
    VNNI_FN static void kp_##NAME(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1,             \
                                  const uint8_t *A, size_t astride, int nb, float *Y, int64_t ldy)                 \
    {                                                                                                              \
        kv_p(W, wrow, n_in, o0, o1, A, astride, nb, Y, ldy, K);                                                    \
    }
VQ_KERNELS(q4_0, VQ_Q4_0)
VQ_KERNELS(q4_0r, VQ_Q4_0R)
VQ_KERNELS(q8_0, VQ_Q8_0)
VQ_KERNELS(q5_0, VQ_Q5_0)

smc_mm_kernel smc_mm_kernel_vnni_q_prepared(int type)
{
    if (!smc_mm_kernel_vnni_q(type))
        return NULL;
    switch (vq_kind(type)) {
    case VQ_Q8_0: return kp_q8_0;
    case VQ_Q5_0: return kp_q5_0;
    case VQ_Q4_0R: return kp_q4_0r;
    default: return kp_q4_0;
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
    case SMC_TYPE_Q5_0: return kv_q5_0;
    case SMC_TYPE_Q4_0_R16: return kv_q4_0r;
    default: return NULL;
    }
}

#endif
