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
            /* about 8 work items per thread, at least 16 rows, multiples of 4 */
            int64_t chunk = (n_out + 8 * nth - 1) / (8 * nth);
            chunk = (chunk + 3) / 4 * 4;
            j.chunk = chunk < 16 ? 16 : chunk;
            atomic_init(&j.next_row, 0);
            smc_threadpool_run_dynamic(pool, mm_worker, &j);
        }
        else
            run_rows(&j, 0, n_out);
    }
    free(buf);
}
