/* attention.c — causal grouped-query attention of a micro-batch's entries
 * over their sequences' K/V rows in the paged cache. Models the tiled
 * kernel takes (AVX2+FMA, head_dim % 8 == 0; attention_tiled.c) go there;
 * the rest, and the scalar switch, take the path here: one (entry, head)
 * at a time with a full score row, split across the thread pool, with
 * AVX2+FMA dot products when the CPU has them. It is also the reference
 * the tiled kernel is tested against. */
#include "engine/ctx.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "engine/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* Dot product and y += a*x over head_dim floats: AVX2+FMA when the CPU has
 * it (chosen once per context, so every sequence takes the same path and
 * batched results equal single ones), else plain C. */
static float dot_c(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static void axpy_c(float *y, float a, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a * x[i];
}

#if defined(__x86_64__) || defined(__i386__)
/* Dot product for n a multiple of 8; inlined into the attention loop. */
__attribute__((always_inline, target("avx2,fma"))) static inline float dot8_avx2(const float *a, const float *b,
                                                                                 int n)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

__attribute__((target("avx2,fma"))) static float dot_avx2(const float *a, const float *b, int n)
{
    int n8 = n & ~7;
    float s = dot8_avx2(a, b, n8);
    for (int i = n8; i < n; i++)
        s += a[i] * b[i];
    return s;
}

__attribute__((target("avx2,fma"))) static void axpy_avx2(float *y, float a, const float *x, int n)
{
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] += a * x[i];
}
#endif

typedef struct attn_fns {
    float (*dot)(const float *, const float *, int);
    void (*axpy)(float *, float, const float *, int);
} attn_fns;

static attn_fns pick_attn_fns(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (smc_cpu_has_avx2_fma() && strcmp(smc_kernels_isa(), "scalar") != 0)
        return (attn_fns){dot_avx2, axpy_avx2};
#endif
    return (attn_fns){dot_c, axpy_c};
}

typedef struct attn_job {
    smc_ctx *c;
    int layer;
    int32_t i0, n;            /* entries [i0, i0+n) of the batch */
    attn_fns f;
    int64_t chunk;            /* (entry, head) tasks claimed at a time */
    atomic_llong next;        /* first unclaimed task */
} attn_job;

/* Where task t (entry t / n_head, query head t % n_head) reads and writes. */
typedef struct attn_head {
    const smc_kv *kv;
    const smc_kv_seq *s;     /* the entry's sequence */
    const float *q;          /* its query */
    float *out;              /* its attention output */
    int hd, kvd, bs;         /* head size, K/V row size, block size */
    int kvh;                 /* the K/V head it reads */
    int32_t npos;            /* positions it attends to */
    float scale;
} attn_head;

static attn_head attn_head_at(const attn_job *j, int64_t t)
{
    const smc_ctx *c = j->c;
    const smc_model *m = c->m;
    int hd = m->head_dim;
    int32_t e = (int32_t)(t / m->n_head), h = (int32_t)(t % m->n_head);
    size_t qoff = (size_t)e * m->n_head * hd + (size_t)h * hd;
    return (attn_head){.kv = &c->kv, .s = &c->kv.seqs[c->seq_ids[j->i0 + e]], .q = c->q + qoff,
                       .out = c->att + qoff, .hd = hd, .kvd = m->n_head_kv * hd, .bs = c->kv.block_size,
                       .kvh = h / (m->n_head / m->n_head_kv), .npos = c->slots[j->i0 + e].pos + 1,
                       .scale = m->attn_scale};
}

/* scores[p] = exp(scores[p] - mx); returns 1 / their sum. */
static inline float softmax_unnormalised(float *scores, int32_t npos, float mx)
{
    double sum = 0;
    for (int32_t p = 0; p < npos; p++) {
        scores[p] = expf(scores[p] - mx);
        sum += scores[p];
    }
    return (float)(1.0 / sum);
}

/* Attention of one query head of one entry over its sequence's positions. */
static void attend_one(const attn_job *j, int64_t t, float *scores)
{
    const attn_head a = attn_head_at(j, t);
    const smc_kv *kv = a.kv;
    const smc_kv_seq *s = a.s;
    const float *q = a.q;
    int hd = a.hd, kvd = a.kvd, bs = a.bs, kvh = a.kvh;
    int32_t npos = a.npos;
    float mx = -INFINITY;
    for (int32_t p = 0; p < npos; p++) {
        const float *k = smc_kv_k(kv, s->blocks[p / bs], j->layer) + (size_t)(p % bs) * kvd + (size_t)kvh * hd;
        float dot = j->f.dot(q, k, hd) * a.scale;
        scores[p] = dot;
        if (dot > mx)
            mx = dot;
    }
    float inv = softmax_unnormalised(scores, npos, mx);
    float *out = a.out;
    memset(out, 0, (size_t)hd * sizeof *out);
    for (int32_t p = 0; p < npos; p++) {
        const float *v = smc_kv_v(kv, s->blocks[p / bs], j->layer) + (size_t)(p % bs) * kvd + (size_t)kvh * hd;
        j->f.axpy(out, scores[p] * inv, v, hd);
    }
}

/* Threads claim chunks of (entry, head) tasks until none are left. */
static void attn_worker(void *arg, int ith, int nth)
{
    attn_job *j = arg;
    float *scores = j->c->scores + (size_t)ith * j->c->n_ctx;
    int64_t total = (int64_t)j->n * j->c->m->n_head;
    (void)nth;
    for (;;) {
        int64_t t0 = atomic_fetch_add(&j->next, j->chunk);
        if (t0 >= total)
            break;
        int64_t t1 = t0 + j->chunk < total ? t0 + j->chunk : total;
        for (int64_t t = t0; t < t1; t++)
            attend_one(j, t, scores);
    }
}

void smc_attention(smc_ctx *c, int layer, int32_t i0, int32_t n)
{
    const smc_model *m = c->m;
    int64_t tasks = (int64_t)n * m->n_head, work = 0;   /* positions x heads attended */
    for (int32_t e = 0; e < n; e++)
        work += (int64_t)(c->slots[i0 + e].pos + 1) * m->n_head;
    bool small = work * m->head_dim < 32768;   /* too small to be worth waking the pool */
    if (c->attn_tiles && smc_attention_tiled_ok(m)) {
        smc_attention_tiled(c, layer, i0, n, !small);
        return;
    }
    int64_t chunk = tasks / (4 * (int64_t)c->n_threads);
    attn_job aj = {c, layer, i0, n, pick_attn_fns(), chunk < 1 ? 1 : chunk, 0};
    atomic_init(&aj.next, 0);
    if (small)
        attn_worker(&aj, 0, 1);
    else
        smc_threadpool_run_dynamic(c->pool, attn_worker, &aj);
}
