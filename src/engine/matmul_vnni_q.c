/* matmul_vnni_q.c — Q8_0 and Q4_0 matmul kernels for CPUs with AVX512-VNNI
 * (on 256-bit vectors, so 32 vector registers but no wider loads). Integer
 * dot products of a block of 32 use one vpdpbusd per (row, column) instead
 * of maddubs + madd:
 *  - Q8_0: dpbusd(0, |w|, sign(x, w)), the same lane sums as the AVX2 kernel;
 *  - Q4_0: w = n - 8 with nibbles n in [0, 15], so w·x = n·x - 8·x per lane:
 *    the lanes start from -8·(lane sums of x), computed once per (column,
 *    block) and shared by every row of the tile, and the unpacked nibbles
 *    are used directly as the unsigned operand (no sign tricks per column).
 * The int32 lane sums are exact and equal those of matmul_avx2_q.c, and the
 * float steps (convert, scale d_w*d_x, FMA into 8 lanes, hsum) are the same,
 * so results are bit-identical to the AVX2 kernels for any batch or tile.
 * With one column (decoding one sequence) Q8_0 puts two rows in one 512-bit
 * vector, half the instructions per weight byte (the same for Q4_0 measured
 * no faster, so it keeps the 256-bit tiles). */
#include <stdatomic.h>

#include "engine/kernels.h"
#include "engine/matmul_avx2.h"

#if defined(__x86_64__)

#define VNNI_TARGET "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"
#define VNNI_FN __attribute__((target(VNNI_TARGET)))
#define VNNI_INLINE static inline __attribute__((always_inline, target(VNNI_TARGET)))

enum { V_Q8_0, V_Q4_0 };

/* 32 nibbles: low nibbles of qs[0..15] then high nibbles (ggml order). */
VNNI_INLINE __m256i vnni_nibbles(const uint8_t *qs)
{
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    v = _mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

VNNI_INLINE void tile_vnni(const uint8_t *W, size_t wrow, int64_t n, const uint8_t *A, size_t astride, float *Y,
                           int64_t ldy, const int R, const int C, const int kind)
{
    const size_t bb = kind == V_Q8_0 ? sizeof(smc_block_q8_0) : sizeof(smc_block_q4_0);
    __m256 acc[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            acc[r][c] = _mm256_setzero_ps();
    const int64_t nblk = n / SMC_QK;
    for (int64_t i = 0; i < nblk; i++) {
        __m256i xq[4], x0[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const smc_act_q8 *x = (const smc_act_q8 *)(A + (size_t)c * astride) + i;
            xq[c] = _mm256_loadu_si256((const __m256i *)x->qs);
            if (kind == V_Q4_0)
                x0[c] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                         _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(8), xq[c]));
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            const uint8_t *p = W + (size_t)r * wrow + (size_t)i * bb;
            __m256i u, sgn = _mm256_setzero_si256();
            float d;
            if (kind == V_Q8_0) {
                const smc_block_q8_0 *b = (const smc_block_q8_0 *)p;
                sgn = _mm256_loadu_si256((const __m256i *)b->qs);
                u = _mm256_sign_epi8(sgn, sgn);
                d = f16_to_f32_hw(b->d);
            } else {
                const smc_block_q4_0 *b = (const smc_block_q4_0 *)p;
                u = vnni_nibbles(b->qs);
                d = f16_to_f32_hw(b->d);
            }
            const __m256 vd = _mm256_set1_ps(d);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                const smc_act_q8 *x = (const smc_act_q8 *)(A + (size_t)c * astride) + i;
                __m256i s = kind == V_Q8_0
                                ? _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, _mm256_sign_epi8(xq[c], sgn))
                                : _mm256_dpbusd_epi32(x0[c], u, xq[c]);
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

#define TILE_V_Q8_0(W, wrow, n, A, as, Y, ldy, R, C) tile_vnni(W, wrow, n, A, as, Y, ldy, R, C, V_Q8_0)
#define TILE_V_Q4_0(W, wrow, n, A, as, Y, ldy, R, C) tile_vnni(W, wrow, n, A, as, Y, ldy, R, C, V_Q4_0)

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
        tile_vnni(W + (size_t)o * wrow, wrow, n_in, A, astride, Y + o, ldy, 1, 1, V_Q8_0);
}
SMC_AVX2_DRIVER_ATTR(kv_q4_0, TILE_V_Q4_0, 4, 4, 4, 1, VNNI_FN)

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
