/* matmul_avx2_k.c — AVX2 matmul for Q4_K, Q5_K and Q6_K weights against
 * 8-bit activations (smc_act_q8k). Per (row, column) and super-block of 256:
 * the exact integer sum of scale * dot(q, x) over the sub-blocks (maddubs /
 * madd), converted to float and accumulated with an FMA by d_w*d_x into one
 * 8-lane accumulator; the Q4_K/Q5_K mins (dmin * m * sums of x) go to a scalar
 * accumulator. Same arithmetic as matmul_scalar.c up to float summation
 * order. */
#include "engine/kernels.h"
#include "engine/matmul_avx2.h"

#if defined(__x86_64__)

enum { K_Q4K, K_Q5K, K_Q6K };

/* Q4_K/Q5_K scales: bytes 0..7 of out = sc[0..7], bytes 8..15 = m[0..7]. */
static inline void unpack_k_scales(const uint8_t *s, uint32_t out[4])
{
    uint32_t u0, u1, u2;
    memcpy(&u0, s, 4);
    memcpy(&u1, s + 4, 4);
    memcpy(&u2, s + 8, 4);
    out[0] = u0 & 0x3f3f3f3fu;
    out[1] = (u2 & 0x0f0f0f0fu) | ((u0 >> 6) & 0x03030303u) << 4;
    out[2] = u1 & 0x3f3f3f3fu;
    out[3] = ((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 6) & 0x03030303u) << 4;
}

/* vpshufb controls: int16 lanes all equal to byte s of the source. */
AVX2_INLINE __m256i byte_bcast16(__m256i src, int s)
{
    const __m256i ctl = _mm256_set1_epi16((short)(0x8000 | s)); /* high byte 0x80 -> zero */
    return _mm256_shuffle_epi8(src, ctl);
}

/* bit `bit` of each byte of v moved to bit 4 (value 0 or 16). */
AVX2_INLINE __m256i bit_to_16(__m256i v, const int bit)
{
    __m256i t;
    switch (bit) {
    case 0: t = _mm256_slli_epi16(v, 4); break;
    case 1: t = _mm256_slli_epi16(v, 3); break;
    case 2: t = _mm256_slli_epi16(v, 2); break;
    case 3: t = _mm256_slli_epi16(v, 1); break;
    case 4: t = v; break;
    case 5: t = _mm256_srli_epi16(v, 1); break;
    case 6: t = _mm256_srli_epi16(v, 2); break;
    default: t = _mm256_srli_epi16(v, 3); break;
    }
    return _mm256_and_si256(t, _mm256_set1_epi8(0x10));
}

/* Q4_K / Q5_K tile */
AVX2_INLINE void tile_q45k(const uint8_t *W, size_t wrow, int64_t n, const uint8_t *A, size_t astride, float *Y,
                           int64_t ldy, const int R, const int C, const int kind)
{
    const size_t bb = kind == K_Q4K ? sizeof(smc_block_q4_k) : sizeof(smc_block_q5_k);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[8][4];
    float accm[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            acc[r][c] = _mm256_setzero_ps();
            accm[r][c] = 0.0f;
        }
    const int64_t nblk = n / SMC_QKK;
    for (int64_t i = 0; i < nblk; i++) {
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = W + (size_t)r * wrow + (size_t)i * bb;
            const uint8_t *scales, *qs, *qh = NULL;
            smc_fp16 hd, hdmin;
            if (kind == K_Q4K) {
                const smc_block_q4_k *b = (const smc_block_q4_k *)blk;
                hd = b->d, hdmin = b->dmin, scales = b->scales, qs = b->qs;
            } else {
                const smc_block_q5_k *b = (const smc_block_q5_k *)blk;
                hd = b->d, hdmin = b->dmin, scales = b->scales, qs = b->qs, qh = b->qh;
            }
            const __m256 vd = _mm256_set1_ps(f16_to_f32_hw(hd));
            const float dmin = f16_to_f32_hw(hdmin);
            uint32_t u[4];
            unpack_k_scales(scales, u);
            uint64_t sc8;
            memcpy(&sc8, u, 8);
            const __m256i scv = _mm256_set1_epi64x((long long)sc8);
            const __m128i mins16 = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(u + 2)));
            __m256i qhv = _mm256_setzero_si256();
            if (kind == K_Q5K)
                qhv = _mm256_loadu_si256((const __m256i *)qh);
            __m256i sumi[4];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                sumi[c] = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int ch = 0; ch < 4; ch++) {
                __m256i q4 = _mm256_loadu_si256((const __m256i *)(qs + 32 * ch));
                __m256i lo = _mm256_and_si256(q4, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
                if (kind == K_Q5K) {
                    lo = _mm256_or_si256(lo, bit_to_16(qhv, 2 * ch));
                    hi = _mm256_or_si256(hi, bit_to_16(qhv, 2 * ch + 1));
                }
                const __m256i s_lo = byte_bcast16(scv, 2 * ch), s_hi = byte_bcast16(scv, 2 * ch + 1);
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    const smc_act_q8k *x = (const smc_act_q8k *)(A + (size_t)c * astride) + i;
                    __m256i p_lo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(x->qs + 64 * ch)));
                    __m256i p_hi =
                        _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(x->qs + 64 * ch + 32)));
                    p_lo = _mm256_madd_epi16(p_lo, s_lo);
                    p_hi = _mm256_madd_epi16(p_hi, s_hi);
                    sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p_lo, p_hi));
                }
            }
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                const smc_act_q8k *x = (const smc_act_q8k *)(A + (size_t)c * astride) + i;
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[c]), _mm256_mul_ps(vd, _mm256_broadcast_ss(&x->d)),
                                            acc[r][c]);
                /* mins: sum over sub-blocks of m_s * (bsums[2s] + bsums[2s+1]) */
                __m128i b0 = _mm_loadu_si128((const __m128i *)x->bsums);
                __m128i b1 = _mm_loadu_si128((const __m128i *)(x->bsums + 8));
                __m128i pm = _mm_madd_epi16(mins16, _mm_hadd_epi16(b0, b1));
                pm = _mm_add_epi32(pm, _mm_unpackhi_epi64(pm, pm));
                pm = _mm_add_epi32(pm, _mm_shuffle_epi32(pm, 1));
                accm[r][c] += (float)_mm_cvtsi128_si32(pm) * (dmin * x->d);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            Y[c * ldy + r] = hsum_ps(acc[r][c]) - accm[r][c];
}

/* Q6_K tile */
AVX2_INLINE void tile_q6k(const uint8_t *W, size_t wrow, int64_t n, const uint8_t *A, size_t astride, float *Y,
                          int64_t ldy, const int R, const int C)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    const __m256i lane_pick = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2,
                                               3, 2, 3, 2, 3, 2, 3, 2, 3);
    __m256 acc[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            acc[r][c] = _mm256_setzero_ps();
    const int64_t nblk = n / SMC_QKK;
    for (int64_t i = 0; i < nblk; i++) {
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            const smc_block_q6_k *b = (const smc_block_q6_k *)(W + (size_t)r * wrow) + i;
            const __m256 vd = _mm256_set1_ps(f16_to_f32_hw(b->d));
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
            __m256i sumi[4];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                /* the -32 offset: sum over sub-blocks of scale * 32 * bsum */
                const smc_act_q8k *x = (const smc_act_q8k *)(A + (size_t)c * astride) + i;
                __m256i corr = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x->bsums));
                sumi[c] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));
            }
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                const __m256i L0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
                const __m256i L1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
                const __m256i H = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(L0, m4), _mm256_and_si256(_mm256_slli_epi16(H, 4), m30));
                q[1] = _mm256_or_si256(_mm256_and_si256(L1, m4), _mm256_and_si256(_mm256_slli_epi16(H, 2), m30));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(L0, 4), m4), _mm256_and_si256(H, m30));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(L1, 4), m4),
                                       _mm256_and_si256(_mm256_srli_epi16(H, 2), m30));
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++) {
                    /* low lane: scale of sub-block 8h+2k, high lane: 8h+2k+1 */
                    __m256i sv = _mm256_permutevar8x32_epi32(sc16, _mm256_set1_epi32(4 * h + k));
                    sv = _mm256_shuffle_epi8(sv, lane_pick);
#pragma GCC unroll 4
                    for (int c = 0; c < C; c++) {
                        const smc_act_q8k *x = (const smc_act_q8k *)(A + (size_t)c * astride) + i;
                        __m256i p = _mm256_maddubs_epi16(
                            q[k], _mm256_loadu_si256((const __m256i *)(x->qs + 128 * h + 32 * k)));
                        sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(p, sv));
                    }
                }
            }
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                const smc_act_q8k *x = (const smc_act_q8k *)(A + (size_t)c * astride) + i;
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[c]), _mm256_mul_ps(vd, _mm256_broadcast_ss(&x->d)),
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

#define TILE_Q4K(W, wrow, n, A, as, Y, ldy, R, C) tile_q45k(W, wrow, n, A, as, Y, ldy, R, C, K_Q4K)
#define TILE_Q5K(W, wrow, n, A, as, Y, ldy, R, C) tile_q45k(W, wrow, n, A, as, Y, ldy, R, C, K_Q5K)
#define TILE_Q6K(W, wrow, n, A, as, Y, ldy, R, C) tile_q6k(W, wrow, n, A, as, Y, ldy, R, C)

SMC_AVX2_DRIVER(k_q4_k, TILE_Q4K, 4, 1, 4, 1)
SMC_AVX2_DRIVER(k_q5_k, TILE_Q5K, 4, 1, 4, 1)
SMC_AVX2_DRIVER(k_q6_k, TILE_Q6K, 4, 1, 4, 1)

smc_mm_kernel smc_mm_kernel_avx2_k(int type)
{
    switch (type) {
    case SMC_TYPE_Q4_K: return k_q4_k;
    case SMC_TYPE_Q5_K: return k_q5_k;
    case SMC_TYPE_Q6_K: return k_q6_k;
    default: return NULL;
    }
}

#endif
