/* matmul.c — the public matmul entry points: prepares the activations once
 * (8-bit quantisation for quantised weights; column groups transposed for
 * the VNNI batch kernels; column pairs for the AVX-512 float kernels),
 * picks the AVX-512, AVX2 or scalar kernel, processes the batch 64 columns
 * at a time, and splits output rows across the thread pool with work
 * stealing (worksteal.h). */
#include <stdatomic.h>
#include <stdlib.h>

#include "engine/kernels.h"
#include "engine/matmul_avx2.h"
#include "engine/quant_blocks.h"
#include "engine/quant_q4r16.h"
#include "engine/worksteal.h"

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
    int fmt;                 /* activation format: an smc_act_kind, FMT_PAIRS or FMT_VNNI + type */
    bool vnni;               /* the kernel is matmul_vnni_q.c's (16 row segments for one column) */
    bool r16;                /* Q4_0 in 16-row groups for a plain-Q4_0 kernel: unpacked a group at a time */
    int type;                /* the weights' type (as stored: SMC_TYPE_Q4_0_R16 for 16-row groups) */
} mm_job;

/* f32 columns packed in pairs (smc_pack_pairs); 8-bit columns prepared for
 * the VNNI batch kernels (FMT_VNNI + the weight type: the preparation
 * depends on the weights' zero point) */
enum { FMT_PAIRS = 16, FMT_VNNI = 32 };

static bool use_avx2(void)
{
    return smc_kernels_isa()[0] == 'a';
}

/* The job of W·X with its kernel and activation format (Y, ldy: output). */
static mm_job make_job(int type, const void *W, int64_t n_in, int64_t n_out, int64_t n_batch, float *Y, int64_t ldy,
                       bool avx2)
{
    const int base = smc_r16_base_type(type);
    mm_job j = {NULL, W, smc_row_bytes(base, n_in), n_in, n_out, NULL, 0, n_batch, Y, ldy, smc_act_kind(base), false,
                false, type};
    if (avx2 && n_batch >= 2 && smc_kernels_use_avx512())
        j.kernel = smc_mm_kernel_avx512_float(type, n_in);
    if (j.kernel)
        j.fmt = FMT_PAIRS;
    if (!j.kernel && avx2)
        j.kernel = smc_mm_kernel_avx2(type);
    if (!j.kernel)
        j.kernel = smc_mm_kernel_scalar(type);
    if (!j.kernel && type != base) {   /* the AVX2 and scalar kernels read plain rows */
        j.kernel = avx2 ? smc_mm_kernel_avx2(base) : NULL;
        if (!j.kernel)
            j.kernel = smc_mm_kernel_scalar(base);
        j.r16 = true;
    }
#if defined(__x86_64__)
    j.vnni = avx2 && j.kernel == smc_mm_kernel_vnni_q(type);
    /* two or more columns: the columns' activations are prepared once
     * here (prepare) instead of by every call of the kernel */
    if (j.vnni && n_batch >= 2 && smc_vnni_cols_bytes(n_in) > 0) {
        j.kernel = smc_mm_kernel_vnni_q_prepared(type);
        j.fmt = FMT_VNNI + type;
    }
#endif
    return j;
}

/* Rows per block when the batch has several 64-column chunks: every chunk
 * runs over a block before the next block, so the block's weights are read
 * from memory once (then from cache) instead of once per chunk. (The
 * AVX-512 float kernel does this itself, with the next block's weights
 * prefetched while a block runs.) */
#define ROW_BLOCK 64
#define ROW_BLOCK_F32 60

static void run_rows(const mm_job *j, int64_t o0, int64_t o1);

/* Rows [o0, o1) of a matrix in 16-row groups through a plain-layout kernel:
 * each group's rows copied out in plain Q4_0 layout first. */
static void run_rows_r16(const mm_job *j, int64_t o0, int64_t o1)
{
    uint8_t *buf = malloc(SMC_R16_ROWS * j->wrow);
    if (!buf)
        return;
    mm_job g = *j;
    g.W = buf;
    g.r16 = false;
    for (int64_t g0 = o0 & ~(int64_t)(SMC_R16_ROWS - 1); g0 < o1; g0 += SMC_R16_ROWS) {
        smc_r16_unpack(j->W + (size_t)g0 * j->wrow, j->wrow, buf);
        g.Y = j->Y + g0;
        run_rows(&g, (o0 > g0 ? o0 : g0) - g0, (o1 < g0 + SMC_R16_ROWS ? o1 : g0 + SMC_R16_ROWS) - g0);
    }
    free(buf);
}

static void run_rows(const mm_job *j, int64_t o0, int64_t o1)
{
    if (j->r16) {
        run_rows_r16(j, o0, o1);
        return;
    }
    if (j->fmt == FMT_PAIRS) { /* the AVX-512 float kernel walks the chunks itself, block by block */
        j->kernel(j->W, j->wrow, j->n_in, o0, o1, j->A, j->astride, (int)j->n_batch, j->Y, j->ldy);
        return;
    }
    /* (float weights: a multiple of the AVX2 batch kernel's 6-row tile) */
    const int64_t rblock = j->fmt == SMC_ACT_F32 ? ROW_BLOCK_F32 : ROW_BLOCK;
    for (int64_t r0 = o0; r0 < o1; r0 += rblock) {
        int64_t r1 = j->n_batch <= SMC_MM_MAX_COLS || o1 - r0 < rblock ? o1 : r0 + rblock;
        for (int64_t b0 = 0; b0 < j->n_batch; b0 += SMC_MM_MAX_COLS) {
            int64_t nb = j->n_batch - b0 < SMC_MM_MAX_COLS ? j->n_batch - b0 : SMC_MM_MAX_COLS;
            j->kernel(j->W, j->wrow, j->n_in, r0, r1, j->A + (size_t)b0 * j->astride, j->astride, (int)nb,
                      j->Y + b0 * j->ldy, j->ldy);
        }
        r0 = r1 - rblock;
    }
}

/* Fills j->A/astride; returns the buffer to free (NULL when X is used as is
 * or on allocation failure, see *ok). */
static void *prepare(mm_job *j, const float *X, bool avx2, bool *ok)
{
    int kind = j->fmt;
    *ok = true;
    if (kind == SMC_ACT_F32) {
        j->A = (const uint8_t *)X;
        j->astride = (size_t)j->n_in * sizeof(float);
        return NULL;
    }
    if (kind == FMT_PAIRS) {
        float *buf = malloc(sizeof(float) * (size_t)j->n_in * (size_t)(j->n_batch + 1));
        *ok = buf != NULL;
        if (buf)
            smc_pack_pairs(X, j->n_in, j->n_batch, buf);
        j->A = (const uint8_t *)buf;
        j->astride = (size_t)j->n_in * sizeof(float);
        return buf;
    }
    if (kind >= FMT_VNNI)
        kind = smc_act_kind(smc_r16_base_type(j->type));
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
#if defined(__x86_64__)
    if (j->fmt >= FMT_VNNI) {
        size_t cb = smc_vnni_cols_bytes(j->n_in);
        uint8_t *cols = aligned_alloc(64, smc_vnni_prepared_bytes(j->n_in, j->n_batch));
        if (cols)
            smc_vnni_prepare_cols(j->type, buf, rb, j->n_in, (int)j->n_batch, cols);
        free(buf);
        *ok = cols != NULL;
        j->A = cols;
        j->astride = cb;
        return cols;
    }
#endif
    return buf;
}

static bool valid(int type, int64_t n_in, int64_t n_batch)
{
    type = smc_r16_base_type(type);
    return smc_kernel_type_supported(type) && n_in > 0 && n_batch > 0 &&
           n_in % smc_kernel_block_size(type) == 0;
}

void smc_matmul_rows(int type, const void *W, int64_t n_in, int64_t o0, int64_t o1,
                     const float *X, int64_t n_batch, float *Y, int64_t ldy)
{
    if (!valid(type, n_in, n_batch) || o0 >= o1)
        return;
    bool avx2 = use_avx2(), ok;
    mm_job j = make_job(type, W, n_in, o1, n_batch, Y, ldy, avx2);
    void *buf = prepare(&j, X, avx2, &ok);
    if (ok)
        run_rows(&j, o0, o1);
    free(buf);
}

/* Rows per claim of a threaded run: a few µs of work — about 32 KB of
 * weights for one column, fewer rows as the batch makes each row costlier —
 * a multiple of 4 rows (the batch tiles' height). Small enough that a thread
 * that is preempted or slow holds up the others by little (and the caller's
 * final wait is short), large enough that claims cost nothing next to the
 * work. */
#ifndef SMC_VNNI_BATCH_MIN_ROWS
#define SMC_VNNI_BATCH_MIN_ROWS 16
#endif
static int64_t grain_rows(size_t row_bytes, int64_t n_batch, int fmt, bool vnni)
{
    int64_t cols = n_batch < SMC_MM_MAX_COLS ? n_batch : SMC_MM_MAX_COLS;
    int64_t g = (int64_t)(((size_t)32 << 10) / (row_bytes ? row_bytes : 1)) / (1 + cols / 8) / 4 * 4;
    /* the AVX-512 float kernel works (and prefetches) in blocks of 64 rows;
     * one column goes 16 rows (VNNI) or 8 rows (float) at a time; the AVX2
     * float batch kernel goes 6 rows at a time and reuses a column pair's
     * activations over a block of rows (4-row claims left it 4-row tiles) */
    int64_t min = fmt == FMT_PAIRS ? 64 : n_batch == 1 ? 16 : fmt == SMC_ACT_F32 ? 48 : 4;
    /* one column: the kernels cut a claim into row segments read as long
     * streams (matmul_avx2.h, matmul_avx2_float.c, matmul_vnni_q.c), so
     * claims are large: 256 KB of weights (~10 us), 512 KB for the VNNI
     * kernels (Q8_0's 16 segments; Q4_0 measured level or better too). On the 2-core Zen 4 VM (2 threads, load 5-16,
     * tokens per CPU-second of decode) 128 KB against 256 KB read SmolLM2
     * Q8_0 at 75-83 against 84-94, and 512 KB at 100-102; Qwen2.5-0.5B Q8_0
     * 26-29, 28-32, 30-34; F16 and the Q4_K_M mix were level at 128 and
     * 256 KB; 64 KB lost 15-25% everywhere. */
    if (n_batch == 1)
        g = (int64_t)(((size_t)(vnni ? 512 : 256) << 10) / (row_bytes ? row_bytes : 1)) / 16 * 16;
    /* the VNNI batch kernel: claims of 16 rows or more. It used to prepare
     * (transpose) all the columns' activations on every call, and 4-row
     * claims spent as long preparing as computing (2 threads ran quantised
     * prompts no faster than 1), so claims were raised to 64 rows; now the
     * activations are prepared once per matmul (make_job, prepare), and 4,
     * 16 and 64 rows were level per CPU-second at 2 threads (Zen 4 VM,
     * SmolLM2 Q8_0 and Qwen2.5-0.5B Q4_K_M mix, pp128 and pp1024, two
     * interleaved rounds, load 5-7) */
    else if (vnni && min < SMC_VNNI_BATCH_MIN_ROWS)
        min = SMC_VNNI_BATCH_MIN_ROWS;
    if (vnni)   /* whole 16-row groups of repacked Q4_0 (quant_q4r16.h); claims are split on multiples of 16 */
        g = (g + 15) / 16 * 16;
    return g < min ? min : g;
}

typedef struct {
    const mm_job *j;
    smc_steal steal;
} single_job;

static void mm_worker(void *arg, int ith, int nth)
{
    single_job *sj = arg;
    int64_t b, e;
    (void)nth;
    while (smc_steal_claim(&sj->steal, ith, &b, &e))
        run_rows(sj->j, b, e);
}

void smc_matmul(struct smc_threadpool *pool, int type, const void *W, int64_t n_in, int64_t n_out,
                const float *X, int64_t n_batch, float *Y)
{
    if (!valid(type, n_in, n_batch) || n_out <= 0)
        return;
    bool avx2 = use_avx2(), ok;
    mm_job j = make_job(type, W, n_in, n_out, n_batch, Y, n_out, avx2);
    void *buf = prepare(&j, X, avx2, &ok);
    if (ok) {
        int nth = smc_threadpool_size(pool);
        single_job sj = {&j, {0}};
        int64_t grain = grain_rows(j.wrow, n_batch, j.fmt, j.vnni);
        if (pool && nth > 1 && n_out >= 8 && smc_steal_init(&sj.steal, n_out, nth, grain, j.vnni ? 16 : 4, NULL, 0))
            smc_threadpool_run_dynamic(pool, mm_worker, &sj);
        else
            run_rows(&j, 0, n_out);
    }
    free(buf);
}

/* ---- several matrices, one input, one pool run ---- */

typedef struct {
    mm_job jobs[SMC_MATMUL_MULTI_MAX];
    int n;
    int64_t first_row[SMC_MATMUL_MULTI_MAX + 1]; /* rows of the matrices before matrix i */
    smc_steal steal;                              /* over all matrices' rows, one after another */
} multi_job;

static void multi_worker(void *arg, int ith, int nth)
{
    multi_job *mj = arg;
    int64_t b, e;
    (void)nth;
    while (smc_steal_claim(&mj->steal, ith, &b, &e)) {
        int i = 0;   /* claims never cross from one matrix into the next */
        while (b >= mj->first_row[i + 1])
            i++;
        run_rows(&mj->jobs[i], b - mj->first_row[i], e - mj->first_row[i]);
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
    mj.first_row[0] = 0;
    size_t max_row_bytes = 0;
    bool any_vnni = false;
    for (int i = 0; i < n && ok; i++) {
        const smc_matmul_spec *sp = &specs[i];
        mm_job *j = &mj.jobs[i];
        *j = make_job(sp->type, sp->W, n_in, sp->n_out, n_batch, sp->Y, sp->n_out, avx2);
        /* reuse the activations of an earlier matrix with the same format */
        int same = -1;
        for (int k = 0; k < i && same < 0; k++)
            if (mj.jobs[k].fmt == j->fmt)
                same = k;
        if (same >= 0) {
            j->A = mj.jobs[same].A;
            j->astride = mj.jobs[same].astride;
        } else {
            bufs[i] = prepare(j, X, avx2, &ok);
        }
        mj.first_row[i + 1] = mj.first_row[i] + sp->n_out;
        if (j->wrow > max_row_bytes)
            max_row_bytes = j->wrow;
        any_vnni |= j->vnni;   /* a mixed group (a K-quant mix) claims as its VNNI matrices need */
    }
    if (ok) {
        int64_t grain = grain_rows(max_row_bytes, n_batch, mj.jobs[0].fmt, any_vnni);
        if (pool && nth > 1 &&
            smc_steal_init(&mj.steal, mj.first_row[n], nth, grain, any_vnni ? 16 : 4, mj.first_row + 1, n - 1)) {
            smc_threadpool_run_dynamic(pool, multi_worker, &mj);
        } else {
            for (int i = 0; i < n; i++)
                run_rows(&mj.jobs[i], 0, mj.jobs[i].n_out);
        }
    }
    for (int i = 0; i < n; i++)
        free(bufs[i]);
}
