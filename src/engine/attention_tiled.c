/* attention_tiled.c — causal grouped-query attention, flash-attention style
 * (AVX2+FMA): a task is a tile of up to 16 query rows (consecutive batch
 * entries of one sequence x the query heads that share one K/V head) and
 * walks that K/V head's cache block by block (16 positions), keeping a
 * running maximum, sum and weighted sum of V rows per query row (online
 * softmax). No score row over the whole context is stored: per tile only a
 * transposed K block (16 x head_dim), 16 x 16 scores and the rows' outputs.
 *
 * Each query row's arithmetic depends only on that row (its q, its position
 * and the cache): the same FMAs in the same order whichever other rows
 * share its tile, so a prompt evaluated as one chunk gives bit for bit the
 * logits of the same tokens evaluated one at a time. Masked positions
 * (after the row's own) get weight exactly 0 and leave its state unchanged.
 * Against attention.c's scalar path the results differ by float rounding
 * (summation order, a polynomial exp): tests/engine/test_attention_tiled. */
#include "engine/ctx.h"

#include <math.h>
#include <stdatomic.h>

#include "engine/kernels.h"

#define TILE_ROWS 16           /* query rows per tile */
#define MAX_HD 256             /* largest head_dim handled here */

bool smc_attention_tiled_ok(const smc_model *m)
{
#if defined(__x86_64__) || defined(__i386__)
    int g = m->n_head_kv > 0 ? m->n_head / m->n_head_kv : 0;
    return smc_cpu_has_avx2_fma() && smc_kernels_isa()[0] == 'a' && m->head_dim % 8 == 0 &&
           m->head_dim <= MAX_HD && g >= 1 && g <= TILE_ROWS && SMC_KV_BLOCK == 16;
#else
    (void)m;
    return false;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/* exp(x) for 8 floats (Cephes' expf polynomial, ~1 ulp over the range that
 * matters here); x below -87 gives a tiny positive number, exp(0) is
 * exactly 1. */
__attribute__((always_inline, target("avx2,fma"))) static inline __m256 exp8(__m256 x)
{
    x = _mm256_min_ps(x, _mm256_set1_ps(88.3762626647949f));
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

__attribute__((always_inline, target("avx2,fma"))) static inline float hmax8(__m256 v)
{
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

__attribute__((always_inline, target("avx2,fma"))) static inline float hsum8(__m256 v)
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* One tile's state: query rows, their positions and running softmax. */
typedef struct tile {
    const float *q[TILE_ROWS];
    float *out[TILE_ROWS];
    int32_t pos[TILE_ROWS];
    int nr, hd;
    float scale;
    bool avx512;               /* 512-bit scores and V sums (the same bits as the 256-bit ones) */
    float m[TILE_ROWS], l[TILE_ROWS], alpha[TILE_ROWS];
    _Alignas(64) float kt[MAX_HD * 16];            /* K block transposed: [d][16] */
    _Alignas(64) float p[TILE_ROWS * 16];          /* scores, then weights */
    _Alignas(64) float o[TILE_ROWS * MAX_HD];      /* weighted sums of V rows */
} tile;

/* kt[d][j] = K row j, element d, for j < rows; zero for the rest. FULL:
 * rows == 16, so the 8 rows of a step are loaded unconditionally and stay
 * in registers (conditional loads went through an array on the stack). */
__attribute__((always_inline, target("avx2,fma"))) static inline void transpose_k_rows(float *kt, const float *k,
                                                                                      int kvd, int rows, int hd,
                                                                                      const int FULL)
{
    for (int d0 = 0; d0 < hd; d0 += 8) {
#pragma GCC unroll 2
        for (int j0 = 0; j0 < 16; j0 += 8) {
            __m256 r[8];
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
                r[j] = FULL || j0 + j < rows ? _mm256_loadu_ps(k + (size_t)(j0 + j) * kvd + d0) : _mm256_setzero_ps();
            __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
            __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
            __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
            __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
            __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *dst = kt + (size_t)d0 * 16 + j0;
            _mm256_store_ps(dst + 0 * 16, _mm256_permute2f128_ps(s0, s4, 0x20));
            _mm256_store_ps(dst + 1 * 16, _mm256_permute2f128_ps(s1, s5, 0x20));
            _mm256_store_ps(dst + 2 * 16, _mm256_permute2f128_ps(s2, s6, 0x20));
            _mm256_store_ps(dst + 3 * 16, _mm256_permute2f128_ps(s3, s7, 0x20));
            _mm256_store_ps(dst + 4 * 16, _mm256_permute2f128_ps(s0, s4, 0x31));
            _mm256_store_ps(dst + 5 * 16, _mm256_permute2f128_ps(s1, s5, 0x31));
            _mm256_store_ps(dst + 6 * 16, _mm256_permute2f128_ps(s2, s6, 0x31));
            _mm256_store_ps(dst + 7 * 16, _mm256_permute2f128_ps(s3, s7, 0x31));
        }
    }
}

__attribute__((target("avx2,fma"))) static void transpose_k(float *kt, const float *k, int kvd, int rows, int hd)
{
    if (rows == 16)
        transpose_k_rows(kt, k, kvd, 16, hd, 1);
    else
        transpose_k_rows(kt, k, kvd, rows, hd, 0);
}

/* Scores of rows [r0, r0+NR) against the 16 transposed K rows: per lane
 * one FMA chain over d in order. */
__attribute__((always_inline, target("avx2,fma"))) static inline void scores_rows(tile *t, int r0, const int NR)
{
    __m256 a0[4], a1[4];
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++)
        a0[i] = a1[i] = _mm256_setzero_ps();
    const float *kt = t->kt;
    for (int d = 0; d < t->hd; d++, kt += 16) {
        __m256 k0 = _mm256_load_ps(kt), k1 = _mm256_load_ps(kt + 8);
#pragma GCC unroll 4
        for (int i = 0; i < NR; i++) {
            __m256 qd = _mm256_broadcast_ss(t->q[r0 + i] + d);
            a0[i] = _mm256_fmadd_ps(qd, k0, a0[i]);
            a1[i] = _mm256_fmadd_ps(qd, k1, a1[i]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++) {
        _mm256_store_ps(t->p + (r0 + i) * 16, a0[i]);
        _mm256_store_ps(t->p + (r0 + i) * 16 + 8, a1[i]);
    }
}

/* Online softmax step for every row over positions p0 .. p0+15: masks
 * positions after the row's own, updates m and l, leaves the weights
 * exp(s - m) in p and the factor for the old sums in alpha. */
__attribute__((target("avx2,fma"))) static void softmax_step(tile *t, int32_t p0)
{
    const __m256 ninf = _mm256_set1_ps(-INFINITY), vs = _mm256_set1_ps(t->scale);
    const __m256i j0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), j1 = _mm256_add_epi32(j0, _mm256_set1_epi32(8));
    for (int r = 0; r < t->nr; r++) {
        float *p = t->p + r * 16;
        __m256i lim = _mm256_set1_epi32(t->pos[r] - p0);     /* last allowed j */
        __m256 keep0 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_add_epi32(lim, _mm256_set1_epi32(1)), j0));
        __m256 keep1 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_add_epi32(lim, _mm256_set1_epi32(1)), j1));
        __m256 s0 = _mm256_blendv_ps(ninf, _mm256_mul_ps(_mm256_load_ps(p), vs), keep0);
        __m256 s1 = _mm256_blendv_ps(ninf, _mm256_mul_ps(_mm256_load_ps(p + 8), vs), keep1);
        float bmax = hmax8(_mm256_max_ps(s0, s1));
        float mold = t->m[r], mnew = bmax > mold ? bmax : mold;
        float alpha = mnew == mold ? 1.0f : expf(mold - mnew);
        __m256 vm = _mm256_set1_ps(mnew);
        __m256 e0 = _mm256_and_ps(exp8(_mm256_sub_ps(s0, vm)), keep0);
        __m256 e1 = _mm256_and_ps(exp8(_mm256_sub_ps(s1, vm)), keep1);
        _mm256_store_ps(p, e0);
        _mm256_store_ps(p + 8, e1);
        t->l[r] = t->l[r] * alpha + hsum8(_mm256_add_ps(e0, e1));
        t->m[r] = mnew;
        t->alpha[r] = alpha;
    }
}

/* o[r] = o[r] * alpha[r] + sum over j < rows of p[r][j] * V row j, for rows
 * [r0, r0+NR) and columns [c0, c0+16): per element the same operations in
 * the same order whatever the tiling (8 accumulators: no register spills). */
__attribute__((always_inline, target("avx2,fma"))) static inline void
update_rows(tile *t, const float *v, int kvd, int rows, int r0, const int NR, int c0)
{
    __m256 acc[4][2];
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++) {
        __m256 al = _mm256_set1_ps(t->alpha[r0 + i]);
        for (int c = 0; c < 2; c++)
            acc[i][c] = _mm256_mul_ps(_mm256_load_ps(t->o + (r0 + i) * MAX_HD + c0 + 8 * c), al);
    }
    for (int j = 0; j < rows; j++, v += kvd) {
        __m256 v0 = _mm256_loadu_ps(v + c0), v1 = _mm256_loadu_ps(v + c0 + 8);
#pragma GCC unroll 4
        for (int i = 0; i < NR; i++) {
            __m256 pj = _mm256_broadcast_ss(t->p + (r0 + i) * 16 + j);
            acc[i][0] = _mm256_fmadd_ps(pj, v0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(pj, v1, acc[i][1]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++)
        for (int c = 0; c < 2; c++)
            _mm256_store_ps(t->o + (r0 + i) * MAX_HD + c0 + 8 * c, acc[i][c]);
}

/* The same for a last 8-column strip (head_dim % 16 != 0). */
__attribute__((always_inline, target("avx2,fma"))) static inline void
update_rows8(tile *t, const float *v, int kvd, int rows, int r, int c0)
{
    __m256 acc = _mm256_mul_ps(_mm256_load_ps(t->o + r * MAX_HD + c0), _mm256_set1_ps(t->alpha[r]));
    for (int j = 0; j < rows; j++, v += kvd)
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(t->p + r * 16 + j), _mm256_loadu_ps(v + c0), acc);
    _mm256_store_ps(t->o + r * MAX_HD + c0, acc);
}

__attribute__((target("avx2,fma"))) static void update_o(tile *t, const float *v, int kvd, int rows)
{
    int c0 = 0;
    for (; c0 + 16 <= t->hd; c0 += 16) {
        int r0 = 0;
        for (; r0 + 4 <= t->nr; r0 += 4)
            update_rows(t, v, kvd, rows, r0, 4, c0);
        switch (t->nr - r0) {
        case 3: update_rows(t, v, kvd, rows, r0, 3, c0); break;
        case 2: update_rows(t, v, kvd, rows, r0, 2, c0); break;
        case 1: update_rows(t, v, kvd, rows, r0, 1, c0); break;
        default: break;
        }
    }
    for (; c0 < t->hd; c0 += 8)
        for (int r = 0; r < t->nr; r++)
            update_rows8(t, v, kvd, rows, r, c0);
}

__attribute__((target("avx2,fma"))) static void scores(tile *t)
{
    int r0 = 0;
    for (; r0 + 4 <= t->nr; r0 += 4)
        scores_rows(t, r0, 4);
    switch (t->nr - r0) {
    case 3: scores_rows(t, r0, 3); break;
    case 2: scores_rows(t, r0, 2); break;
    case 1: scores_rows(t, r0, 1); break;
    default: break;
    }
}

/* AVX-512 forms of scores and update_o: a row's 16 scores in one register
 * (8 rows at a time), V sums 64 columns x 4 rows at a time. Every lane does
 * the FMAs of the 256-bit code in the same order: bit-identical results. */
#define AVX512_FN __attribute__((target("avx2,fma,avx512f")))
__attribute__((always_inline, target("avx2,fma,avx512f"))) static inline void scores_rows512(tile *t, int r0,
                                                                                             const int NR)
{
    __m512 a[8];
#pragma GCC unroll 8
    for (int i = 0; i < NR; i++)
        a[i] = _mm512_setzero_ps();
    const float *kt = t->kt;
    for (int d = 0; d < t->hd; d++, kt += 16) {
        __m512 k = _mm512_load_ps(kt);
#pragma GCC unroll 8
        for (int i = 0; i < NR; i++)
            a[i] = _mm512_fmadd_ps(_mm512_set1_ps(t->q[r0 + i][d]), k, a[i]);
    }
#pragma GCC unroll 8
    for (int i = 0; i < NR; i++)
        _mm512_store_ps(t->p + (r0 + i) * 16, a[i]);
}

AVX512_FN static void scores512(tile *t)
{
    int r0 = 0;
    for (; r0 + 8 <= t->nr; r0 += 8)
        scores_rows512(t, r0, 8);
    switch (t->nr - r0) {
    case 7: scores_rows512(t, r0, 7); break;
    case 6: scores_rows512(t, r0, 6); break;
    case 5: scores_rows512(t, r0, 5); break;
    case 4: scores_rows512(t, r0, 4); break;
    case 3: scores_rows512(t, r0, 3); break;
    case 2: scores_rows512(t, r0, 2); break;
    case 1: scores_rows512(t, r0, 1); break;
    default: break;
    }
}

__attribute__((always_inline, target("avx2,fma,avx512f"))) static inline void
update_rows512(tile *t, const float *v, int kvd, int rows, int r0, const int NR, int c0, const int NC)
{
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++) {
        __m512 al = _mm512_set1_ps(t->alpha[r0 + i]);
#pragma GCC unroll 4
        for (int c = 0; c < NC; c++)
            acc[i][c] = _mm512_mul_ps(_mm512_load_ps(t->o + (r0 + i) * MAX_HD + c0 + 16 * c), al);
    }
    for (int j = 0; j < rows; j++, v += kvd) {
        __m512 vr[4];
#pragma GCC unroll 4
        for (int c = 0; c < NC; c++)
            vr[c] = _mm512_loadu_ps(v + c0 + 16 * c);
#pragma GCC unroll 4
        for (int i = 0; i < NR; i++) {
            __m512 pj = _mm512_set1_ps(t->p[(r0 + i) * 16 + j]);
#pragma GCC unroll 4
            for (int c = 0; c < NC; c++)
                acc[i][c] = _mm512_fmadd_ps(pj, vr[c], acc[i][c]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++)
#pragma GCC unroll 4
        for (int c = 0; c < NC; c++)
            _mm512_store_ps(t->o + (r0 + i) * MAX_HD + c0 + 16 * c, acc[i][c]);
}

/* Rows [0, nr) for columns [c0, c0 + 16*NC). */
__attribute__((always_inline, target("avx2,fma,avx512f"))) static inline void
update_cols512(tile *t, const float *v, int kvd, int rows, int c0, const int NC)
{
    int r0 = 0;
    for (; r0 + 4 <= t->nr; r0 += 4)
        update_rows512(t, v, kvd, rows, r0, 4, c0, NC);
    switch (t->nr - r0) {
    case 3: update_rows512(t, v, kvd, rows, r0, 3, c0, NC); break;
    case 2: update_rows512(t, v, kvd, rows, r0, 2, c0, NC); break;
    case 1: update_rows512(t, v, kvd, rows, r0, 1, c0, NC); break;
    default: break;
    }
}

AVX512_FN static void update_o512(tile *t, const float *v, int kvd, int rows)
{
    int c0 = 0;
    for (; c0 + 64 <= t->hd; c0 += 64)
        update_cols512(t, v, kvd, rows, c0, 4);
    for (; c0 < t->hd; c0 += 16)
        update_cols512(t, v, kvd, rows, c0, 1);
}

/* Attention of the tile's rows over their sequence s, K/V head kvh. */
__attribute__((target("avx2,fma"))) static void run_tile(tile *t, const smc_kv *kv, const smc_kv_seq *s, int layer,
                                                         int kvh)
{
    int hd = t->hd, kvd = kv->kv_dim;
    int32_t maxpos = 0;
    for (int r = 0; r < t->nr; r++) {
        t->m[r] = -INFINITY;
        t->l[r] = 0;
        for (int d = 0; d < hd; d++)
            t->o[r * MAX_HD + d] = 0;
        if (t->pos[r] > maxpos)
            maxpos = t->pos[r];
    }
    for (int32_t p0 = 0, b = 0; p0 <= maxpos; p0 += 16, b++) {
        int rows = maxpos + 1 - p0 < 16 ? (int)(maxpos + 1 - p0) : 16;
        const float *k = smc_kv_k(kv, s->blocks[b], layer) + (size_t)kvh * hd;
        const float *v = smc_kv_v(kv, s->blocks[b], layer) + (size_t)kvh * hd;
        transpose_k(t->kt, k, kvd, rows, hd);
        if (t->avx512)
            scores512(t);
        else
            scores(t);
        softmax_step(t, p0);
        if (t->avx512)
            update_o512(t, v, kvd, rows);
        else
            update_o(t, v, kvd, rows);
    }
    for (int r = 0; r < t->nr; r++) {
        __m256 inv = _mm256_set1_ps(1.0f / t->l[r]);
        for (int d = 0; d < hd; d += 8)
            _mm256_storeu_ps(t->out[r] + d, _mm256_mul_ps(_mm256_load_ps(t->o + r * MAX_HD + d), inv));
    }
}

typedef struct tiled_job {
    smc_ctx *c;
    int layer;
    int32_t i0;
    int32_t n_tiles;
    const int32_t *tile_e;    /* tile i: entries [tile_e[i], tile_e[i+1]) of the micro-batch */
    bool avx512;
    atomic_llong next;        /* tasks claimed so far (task = tile x K/V head, heaviest first) */
} tiled_job;

static void tiled_worker(void *arg, int ith, int nth)
{
    tiled_job *j = arg;
    const smc_ctx *c = j->c;
    const smc_model *m = c->m;
    int hd = m->head_dim, g = m->n_head / m->n_head_kv;
    int64_t total = (int64_t)j->n_tiles * m->n_head_kv;
    tile *t = (tile *)(c->attn_tiles + (size_t)ith * smc_attention_tile_floats());
    (void)nth;
    for (;;) {
        int64_t k = atomic_fetch_add(&j->next, 1);
        if (k >= total)
            break;
        int64_t task = total - 1 - k;   /* later tiles attend to more positions */
        int32_t ti = (int32_t)(task / m->n_head_kv);
        int kvh = (int)(task % m->n_head_kv);
        int32_t e0 = j->tile_e[ti], e1 = j->tile_e[ti + 1];
        t->nr = 0;
        t->hd = hd;
        t->scale = m->attn_scale;
        t->avx512 = j->avx512;
        for (int32_t e = e0; e < e1; e++)
            for (int h = kvh * g; h < (kvh + 1) * g; h++) {
                size_t off = (size_t)e * m->n_head * hd + (size_t)h * hd;
                t->q[t->nr] = c->q + off;
                t->out[t->nr] = c->att + off;
                t->pos[t->nr] = c->slots[j->i0 + e].pos;
                t->nr++;
            }
        run_tile(t, &c->kv, &c->kv.seqs[c->seq_ids[j->i0 + e0]], j->layer, kvh);
    }
}

size_t smc_attention_tile_floats(void)
{
    return (sizeof(tile) + 63) / 64 * 16;   /* whole 64-byte lines */
}

void smc_attention_tiled(smc_ctx *c, int layer, int32_t i0, int32_t n, bool use_pool)
{
    const smc_model *m = c->m;
    int g = m->n_head / m->n_head_kv, per_tile = TILE_ROWS / g;
    int32_t tile_e[SMC_UBATCH + 1], nt = 0;
    for (int32_t e = 0; e < n;) {
        int32_t e1 = e + 1;
        while (e1 < n && e1 - e < per_tile && c->seq_ids[i0 + e1] == c->seq_ids[i0 + e])
            e1++;
        tile_e[nt++] = e;
        e = e1;
    }
    tile_e[nt] = n;
    tiled_job j = {c, layer, i0, nt, tile_e, smc_kernels_use_avx512() && m->head_dim % 16 == 0, 0};
    atomic_init(&j.next, 0);
    if (use_pool)
        smc_threadpool_run_dynamic(c->pool, tiled_worker, &j);
    else
        tiled_worker(&j, 0, 1);
}
#else
size_t smc_attention_tile_floats(void)
{
    return 0;
}

void smc_attention_tiled(smc_ctx *c, int layer, int32_t i0, int32_t n, bool use_pool)
{
    (void)c, (void)layer, (void)i0, (void)n, (void)use_pool;
}
#endif
