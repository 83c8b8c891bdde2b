/* matmul_avx2_q.c — AVX2 matmul for Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 weights
 * against 8-bit activations (smc_act_q8). Per (row, column) and block of 32:
 * the integer dot product (maddubs/madd), converted to float and accumulated
 * with an FMA by d_w*d_x into one 8-lane accumulator; Q4_1/Q5_1 add
 * m_w * s_x in a scalar accumulator. Same arithmetic as matmul_scalar.c up to
 * float summation order. Q8_0/Q4_0 batch tiles are 4 rows x 4 columns, each
 * block's rows decoded before the columns are walked. */
#include "engine/kernels.h"
#include "engine/matmul_avx2.h"

#if defined(__x86_64__)

enum { K_Q8_0, K_Q4_0, K_Q4_1, K_Q5_0, K_Q5_1 };

static size_t block_bytes(int kind)
{
    switch (kind) {
    case K_Q8_0: return sizeof(smc_block_q8_0);
    case K_Q4_0: return sizeof(smc_block_q4_0);
    case K_Q4_1: return sizeof(smc_block_q4_1);
    case K_Q5_0: return sizeof(smc_block_q5_0);
    default: return sizeof(smc_block_q5_1);
    }
}

/* 0xFF in byte j where bit j of x is set. */
AVX2_INLINE __m256i bytes_from_bits(uint32_t x)
{
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202,
                                            0x0303030303030303);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), shuf);
    v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
}

/* 32 nibbles: low nibbles of qs[0..15] then high nibbles. */
AVX2_INLINE __m256i nibbles(const uint8_t *qs)
{
    /* the 16 bytes in both lanes; the high lane shifted right by 4 */
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    v = _mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

typedef struct {
    __m256i v;     /* unsigned weights (kinds with a min) or |w| */
    __m256i sgn;   /* signed weights (sign source), symmetric kinds */
    float d, m;
} wblock;

AVX2_INLINE void load_w(const uint8_t *p, const int kind, wblock *w)
{
    uint32_t qh;
    switch (kind) {
    case K_Q8_0: {
        const smc_block_q8_0 *b = (const smc_block_q8_0 *)p;
        w->sgn = _mm256_loadu_si256((const __m256i *)b->qs);
        w->d = f16_to_f32_hw(b->d);
        break;
    }
    case K_Q4_0: {
        const smc_block_q4_0 *b = (const smc_block_q4_0 *)p;
        w->sgn = _mm256_sub_epi8(nibbles(b->qs), _mm256_set1_epi8(8));
        w->d = f16_to_f32_hw(b->d);
        break;
    }
    case K_Q5_0: {
        const smc_block_q5_0 *b = (const smc_block_q5_0 *)p;
        memcpy(&qh, b->qh, 4);
        /* q - 16 = nibble | (bit ? 0 : 0xF0) as int8 */
        __m256i hi = _mm256_andnot_si256(bytes_from_bits(qh), _mm256_set1_epi8((char)0xF0));
        w->sgn = _mm256_or_si256(nibbles(b->qs), hi);
        w->d = f16_to_f32_hw(b->d);
        break;
    }
    case K_Q4_1: {
        const smc_block_q4_1 *b = (const smc_block_q4_1 *)p;
        w->v = nibbles(b->qs);
        w->d = f16_to_f32_hw(b->d);
        w->m = f16_to_f32_hw(b->m);
        break;
    }
    default: {
        const smc_block_q5_1 *b = (const smc_block_q5_1 *)p;
        memcpy(&qh, b->qh, 4);
        __m256i hi = _mm256_and_si256(bytes_from_bits(qh), _mm256_set1_epi8(0x10));
        w->v = _mm256_or_si256(nibbles(b->qs), hi);
        w->d = f16_to_f32_hw(b->d);
        w->m = f16_to_f32_hw(b->m);
        break;
    }
    }
    if (kind == K_Q8_0 || kind == K_Q4_0 || kind == K_Q5_0)
        w->v = _mm256_sign_epi8(w->sgn, w->sgn);
}

/* 8 int32 partial sums of w·x over a block of 32. */
AVX2_INLINE __m256i block_dot(const wblock *w, const smc_act_q8 *x, const int kind)
{
    __m256i xv = _mm256_loadu_si256((const __m256i *)x->qs);
    if (kind == K_Q8_0 || kind == K_Q4_0 || kind == K_Q5_0)
        xv = _mm256_sign_epi8(xv, w->sgn);
    __m256i p16 = _mm256_maddubs_epi16(w->v, xv);
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

AVX2_INLINE void tile_q(const uint8_t *W, size_t wrow, int64_t n, const uint8_t *A, size_t astride, float *Y,
                        int64_t ldy, const int R, const int C, const int kind)
{
    const size_t bb = block_bytes(kind);
    const bool has_min = kind == K_Q4_1 || kind == K_Q5_1;
    __m256 acc[8][4];
    float accm[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            acc[r][c] = _mm256_setzero_ps();
            accm[r][c] = 0.0f;
        }
    const int64_t nblk = n / SMC_QK;
    const bool col_outer = (kind == K_Q8_0 || kind == K_Q4_0) && C > 1;
    if (col_outer) {
        /* rows' weights decoded first, then each column's activations loaded
         * once for all rows: the same products and sums as the row-major
         * loop below, with fewer loads and spills (4 x 4 tiles: +10% on Zen 3;
         * one column keeps the row-major loop, faster for decode) */
        for (int64_t i = 0; i < nblk; i++) {
            wblock w[8];
            __m256 vd[8];
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                load_w(W + (size_t)r * wrow + (size_t)i * bb, kind, &w[r]);
                vd[r] = _mm256_set1_ps(w[r].d);
            }
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                const smc_act_q8 *x = (const smc_act_q8 *)(A + (size_t)c * astride) + i;
                const __m256 xd = _mm256_broadcast_ss(&x->d);
#pragma GCC unroll 8
                for (int r = 0; r < R; r++) {
                    __m256 p = _mm256_cvtepi32_ps(block_dot(&w[r], x, kind));
                    acc[r][c] = _mm256_fmadd_ps(p, _mm256_mul_ps(vd[r], xd), acc[r][c]);
                }
            }
        }
    }
    for (int64_t i = col_outer ? nblk : 0; i < nblk; i++) {
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            wblock w;
            load_w(W + (size_t)r * wrow + (size_t)i * bb, kind, &w);
            const __m256 vd = _mm256_set1_ps(w.d); /* a broadcast load from the table */
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                const smc_act_q8 *x = (const smc_act_q8 *)(A + (size_t)c * astride) + i;
                __m256 p = _mm256_cvtepi32_ps(block_dot(&w, x, kind));
                acc[r][c] = _mm256_fmadd_ps(p, _mm256_mul_ps(vd, _mm256_broadcast_ss(&x->d)), acc[r][c]);
                if (has_min)
                    accm[r][c] += w.m * x->s;
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            Y[c * ldy + r] = has_min ? hsum_ps(acc[r][c]) + accm[r][c] : hsum_ps(acc[r][c]);
}

#define TILE_Q8_0(W, wrow, n, A, as, Y, ldy, R, C) tile_q(W, wrow, n, A, as, Y, ldy, R, C, K_Q8_0)
#define TILE_Q4_0(W, wrow, n, A, as, Y, ldy, R, C) tile_q(W, wrow, n, A, as, Y, ldy, R, C, K_Q4_0)
#define TILE_Q4_1(W, wrow, n, A, as, Y, ldy, R, C) tile_q(W, wrow, n, A, as, Y, ldy, R, C, K_Q4_1)
#define TILE_Q5_0(W, wrow, n, A, as, Y, ldy, R, C) tile_q(W, wrow, n, A, as, Y, ldy, R, C, K_Q5_0)
#define TILE_Q5_1(W, wrow, n, A, as, Y, ldy, R, C) tile_q(W, wrow, n, A, as, Y, ldy, R, C, K_Q5_1)

SMC_AVX2_DRIVER(k_q8_0, TILE_Q8_0, 4, 4, 4, 1)
SMC_AVX2_DRIVER(k_q4_0, TILE_Q4_0, 4, 4, 4, 1)
SMC_AVX2_DRIVER(k_q4_1, TILE_Q4_1, 4, 2, 4, 1)
SMC_AVX2_DRIVER(k_q5_0, TILE_Q5_0, 4, 2, 4, 1)
SMC_AVX2_DRIVER(k_q5_1, TILE_Q5_1, 4, 2, 4, 1)

smc_mm_kernel smc_mm_kernel_avx2_q(int type)
{
    switch (type) {
    case SMC_TYPE_Q8_0: return k_q8_0;
    case SMC_TYPE_Q4_0: return k_q4_0;
    case SMC_TYPE_Q4_1: return k_q4_1;
    case SMC_TYPE_Q5_0: return k_q5_0;
    case SMC_TYPE_Q5_1: return k_q5_1;
    default: return NULL;
    }
}

#endif
