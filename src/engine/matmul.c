/* matmul.c — the public matmul entry points: prepares the activations once
 * (8-bit quantisation for quantised weights), picks the AVX2 or scalar
 * kernel, processes the batch 64 columns at a time, and splits output rows
 * across the thread pool. */
#include <stdatomic.h>
#include <stdlib.h>

#include "engine/kernels.h"
#include "engine/quant_blocks.h"

typedef struct {
    smc_mm_kernel kernel;
    const uint8_t *W;
    size_t wrow;
    int64_t n_in, n_out;
    const uint8_t *A;
    size_t astride;
    int64_t n_batch;
    float *Y;
    int64_t ldy;
    int64_t chunk;           /* rows per work item (threaded runs) */
    atomic_llong next_row;   /* first row of the next unclaimed work item */
} mm_job;

static bool use_avx2(void)
{
    return smc_kernels_isa()[0] == 'a';
}

static smc_mm_kernel pick_kernel(int type, bool avx2)
{
    smc_mm_kernel k = avx2 ? smc_mm_kernel_avx2(type) : NULL;
    return k ? k : smc_mm_kernel_scalar(type);
}

static void run_rows(const mm_job *j, int64_t o0, int64_t o1)
{
    if (o0 >= o1)
        return;
    for (int64_t b0 = 0; b0 < j->n_batch; b0 += SMC_MM_MAX_COLS) {
        int64_t nb = j->n_batch - b0 < SMC_MM_MAX_COLS ? j->n_batch - b0 : SMC_MM_MAX_COLS;
        j->kernel(j->W, j->wrow, j->n_in, o0, o1, j->A + (size_t)b0 * j->astride, j->astride, (int)nb,
                  j->Y + b0 * j->ldy, j->ldy);
    }
}

/* Fills j->A/astride; returns the buffer to free (NULL when X is used as is
 * or on allocation failure, see *ok). */
static void *prepare(mm_job *j, int type, const float *X, bool avx2, bool *ok)
{
    int kind = smc_act_kind(type);
    *ok = true;
    if (kind == SMC_ACT_F32) {
        j->A = (const uint8_t *)X;
        j->astride = (size_t)j->n_in * sizeof(float);
        return NULL;
    }
    size_t rb = smc_act_row_bytes(kind, j->n_in);
    uint8_t *buf = malloc(rb * (size_t)j->n_batch + 1);
    if (!buf) {
        *ok = false;
        return NULL;
    }
    for (int64_t b = 0; b < j->n_batch; b++)
        smc_quantize_act(kind, X + b * j->n_in, buf + (size_t)b * rb, j->n_in, avx2);
    j->A = buf;
    j->astride = rb;
    return buf;
}

static bool valid(int type, int64_t n_in, int64_t n_batch)
{
    return smc_kernel_type_supported(type) && n_in > 0 && n_batch > 0 &&
           n_in % smc_kernel_block_size(type) == 0;
}

void smc_matmul_rows(int type, const void *W, int64_t n_in, int64_t o0, int64_t o1,
                     const float *X, int64_t n_batch, float *Y, int64_t ldy)
{
    if (!valid(type, n_in, n_batch) || o0 >= o1)
        return;
    bool avx2 = use_avx2(), ok;
    mm_job j = {pick_kernel(type, avx2), W, smc_row_bytes(type, n_in), n_in, o1, NULL, 0, n_batch, Y, ldy, 0, 0};
    void *buf = prepare(&j, type, X, avx2, &ok);
    if (ok)
        run_rows(&j, o0, o1);
    free(buf);
}

/* Threads claim chunks of rows until none are left, so a thread that is
 * preempted mid-run does not hold up a fixed share of the rows. */
static void mm_worker(void *arg, int ith, int nth)
{
    mm_job *j = arg;
    (void)ith;
    (void)nth;
    for (;;) {
        int64_t b = atomic_fetch_add(&j->next_row, j->chunk);
        if (b >= j->n_out)
            break;
        run_rows(j, b, b + j->chunk < j->n_out ? b + j->chunk : j->n_out);
    }
}

/* Rows per work item of a threaded run: about 8 items per thread, at least
 * 16 rows, multiples of 4. */
static int64_t chunk_rows(int64_t n_out, int nth)
{
    int64_t chunk = (n_out + 8 * nth - 1) / (8 * nth);
    chunk = (chunk + 3) / 4 * 4;
    return chunk < 16 ? 16 : chunk;
}

void smc_matmul(struct smc_threadpool *pool, int type, const void *W, int64_t n_in, int64_t n_out,
                const float *X, int64_t n_batch, float *Y)
{
    if (!valid(type, n_in, n_batch) || n_out <= 0)
        return;
    bool avx2 = use_avx2(), ok;
    mm_job j = {pick_kernel(type, avx2), W, smc_row_bytes(type, n_in), n_in, n_out, NULL, 0, n_batch, Y, n_out, 0, 0};
    void *buf = prepare(&j, type, X, avx2, &ok);
    if (ok) {
        int nth = smc_threadpool_size(pool);
        if (pool && nth > 1 && n_out >= 8) {
            j.chunk = chunk_rows(n_out, nth);
            atomic_init(&j.next_row, 0);
            smc_threadpool_run_dynamic(pool, mm_worker, &j);
        }
        else
            run_rows(&j, 0, n_out);
    }
    free(buf);
}

/* ---- several matrices, one input, one pool run ---- */

typedef struct {
    mm_job jobs[SMC_MATMUL_MULTI_MAX];
    int n;
    int64_t first_item[SMC_MATMUL_MULTI_MAX + 1]; /* work items before matrix i */
    atomic_llong next_item;
} multi_job;

static void multi_worker(void *arg, int ith, int nth)
{
    multi_job *mj = arg;
    (void)ith;
    (void)nth;
    for (;;) {
        int64_t k = atomic_fetch_add(&mj->next_item, 1);
        if (k >= mj->first_item[mj->n])
            break;
        int i = 0;
        while (k >= mj->first_item[i + 1])
            i++;
        const mm_job *j = &mj->jobs[i];
        int64_t b = (k - mj->first_item[i]) * j->chunk;
        run_rows(j, b, b + j->chunk < j->n_out ? b + j->chunk : j->n_out);
    }
}

void smc_matmul_multi(struct smc_threadpool *pool, int n, const smc_matmul_spec *specs, int64_t n_in,
                      const float *X, int64_t n_batch)
{
    if (n <= 0 || n > SMC_MATMUL_MULTI_MAX)
        return;
    for (int i = 0; i < n; i++)
        if (!valid(specs[i].type, n_in, n_batch) || specs[i].n_out <= 0)
            return;
    bool avx2 = use_avx2(), ok = true;
    multi_job mj;
    void *bufs[SMC_MATMUL_MULTI_MAX] = {0};
    int nth = smc_threadpool_size(pool);
    mj.n = n;
    mj.first_item[0] = 0;
    for (int i = 0; i < n && ok; i++) {
        const smc_matmul_spec *sp = &specs[i];
        mm_job *j = &mj.jobs[i];
        *j = (mm_job){pick_kernel(sp->type, avx2), sp->W, smc_row_bytes(sp->type, n_in), n_in, sp->n_out, NULL, 0,
                      n_batch, sp->Y, sp->n_out, 0, 0};
        /* reuse the activations of an earlier matrix with the same format */
        int same = -1;
        for (int k = 0; k < i && same < 0; k++)
            if (smc_act_kind(specs[k].type) == smc_act_kind(sp->type))
                same = k;
        if (same >= 0) {
            j->A = mj.jobs[same].A;
            j->astride = mj.jobs[same].astride;
        } else {
            bufs[i] = prepare(j, sp->type, X, avx2, &ok);
        }
        j->chunk = nth > 1 ? chunk_rows(sp->n_out, nth) : sp->n_out;
        mj.first_item[i + 1] = mj.first_item[i] + (sp->n_out + j->chunk - 1) / j->chunk;
    }
    if (ok) {
        if (pool && nth > 1) {
            atomic_init(&mj.next_item, 0);
            smc_threadpool_run_dynamic(pool, multi_worker, &mj);
        } else {
            for (int i = 0; i < n; i++)
                run_rows(&mj.jobs[i], 0, mj.jobs[i].n_out);
        }
    }
    for (int i = 0; i < n; i++)
        free(bufs[i]);
}
