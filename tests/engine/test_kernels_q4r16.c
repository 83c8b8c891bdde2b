/* test_kernels_q4r16.c — Q4_0 in 16-row groups (quant_q4r16.h):
 *  - repacking moves every row's d and qs to the documented places and
 *    back (row by row and group by group); matrices of other row counts
 *    are left alone;
 *  - matmul of a repacked matrix gives the same bits as of the plain one on
 *    every path (VNNI where the CPU has it, AVX2 and scalar forced), for
 *    batch widths 1..19 and 70, odd row ranges, with and without a thread
 *    pool, alone and in a group with other types;
 *  - the VNNI kernel itself (its own column-group preparation, a column at
 *    a time for long rows), repacked against plain, bit for bit. */
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/quant_q4r16.h"
#include "test.h"

#include "test_rng.h"

static uint8_t *make_q4(int64_t n_in, int64_t n_out)
{
    size_t rb = smc_row_bytes(SMC_TYPE_Q4_0, n_in);
    uint8_t *w = malloc(rb * (size_t)n_out);
    float *row = malloc(sizeof(float) * (size_t)n_in);
    for (int64_t o = 0; o < n_out; o++) {
        for (int64_t i = 0; i < n_in; i++)
            row[i] = rndf() * (o % 3 ? 1.0f : 0.05f);
        smc_quantize_row(SMC_TYPE_Q4_0, row, w + (size_t)o * rb, n_in);
    }
    free(row);
    return w;
}

static void check_layout(int64_t n_in, int64_t n_out)
{
    size_t rb = smc_row_bytes(SMC_TYPE_Q4_0, n_in);
    int64_t nblk = n_in / SMC_QK;
    uint8_t *plain = make_q4(n_in, n_out), *w = malloc(rb * (size_t)n_out), *row = malloc(rb);
    memcpy(w, plain, rb * (size_t)n_out);
    CHECK_EQ_INT(smc_r16_repack(w, rb, n_out), SMC_TYPE_Q4_0_R16);
    int bad_place = 0, bad_row = 0;
    for (int64_t o = 0; o < n_out; o++) {
        const uint8_t *g = w + (size_t)(o / 16 * 16) * rb;
        for (int64_t i = 0; i < nblk; i++) {
            const uint8_t *b = plain + (size_t)o * rb + (size_t)i * 18;
            int r = (int)(o % 16);
            bad_place += memcmp(g + 256 * nblk + 32 * i + 2 * r, b, 2) != 0;
            bad_place += memcmp(g + 256 * i + 64 * (r % 4) + 16 * (r / 4), b + 2, 16) != 0;
        }
        smc_r16_row(w, rb, o, row);
        bad_row += memcmp(row, plain + (size_t)o * rb, rb) != 0;
    }
    CHECK_EQ_INT(bad_place, 0);
    CHECK_EQ_INT(bad_row, 0);
    uint8_t *back = malloc(rb * (size_t)n_out);
    for (int64_t o = 0; o < n_out; o += 16)
        smc_r16_unpack(w + (size_t)o * rb, rb, back + (size_t)o * rb);
    CHECK(memcmp(back, plain, rb * (size_t)n_out) == 0);
    free(back);
    free(row);
    free(w);
    free(plain);
}

static int64_t mismatches(const float *a, const float *b, size_t n)
{
    int64_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return bad;
}

/* Repacked against plain on the current path: smc_matmul_rows over a few
 * row ranges and widths, smc_matmul with and without the pool. */
static void check_matmul(smc_threadpool *pool, int64_t n_in, int64_t n_out)
{
    size_t rb = smc_row_bytes(SMC_TYPE_Q4_0, n_in);
    uint8_t *plain = make_q4(n_in, n_out), *w = malloc(rb * (size_t)n_out);
    memcpy(w, plain, rb * (size_t)n_out);
    CHECK_EQ_INT(smc_r16_repack(w, rb, n_out), SMC_TYPE_Q4_0_R16);
    enum { NB_MAX = 70 };
    float *X = malloc(sizeof(float) * (size_t)n_in * NB_MAX);
    for (int64_t i = 0; i < n_in * NB_MAX; i++)
        X[i] = rndf();
    size_t ny = (size_t)n_out * NB_MAX;
    float *ya = malloc(sizeof(float) * ny), *yb = malloc(sizeof(float) * ny);
    static const int64_t widths[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 19, 70};
    int64_t bad = 0;
    for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
        int64_t nb = widths[k];
        const int64_t ranges[][2] = {{0, n_out}, {3, n_out - 5}, {n_out - 16, n_out}, {5, 9}, {n_out - 1, n_out}};
        for (int r = 0; r < 5; r++) {
            memset(ya, 0, sizeof(float) * ny);
            memset(yb, 0, sizeof(float) * ny);
            smc_matmul_rows(SMC_TYPE_Q4_0, plain, n_in, ranges[r][0], ranges[r][1], X, nb, ya, n_out);
            smc_matmul_rows(SMC_TYPE_Q4_0_R16, w, n_in, ranges[r][0], ranges[r][1], X, nb, yb, n_out);
            bad += mismatches(ya, yb, (size_t)(n_out * nb));
        }
        smc_matmul(pool, SMC_TYPE_Q4_0, plain, n_in, n_out, X, nb, ya);
        smc_matmul(pool, SMC_TYPE_Q4_0_R16, w, n_in, n_out, X, nb, yb);
        bad += mismatches(ya, yb, (size_t)(n_out * nb));
        /* in a group with a plain Q8_0 matrix */
        uint8_t *q8 = malloc(smc_row_bytes(SMC_TYPE_Q8_0, n_in) * 24);
        memset(q8, 0x11, smc_row_bytes(SMC_TYPE_Q8_0, n_in) * 24);
        float *y8 = malloc(sizeof(float) * 24 * (size_t)nb);
        smc_matmul_spec sp[2] = {{SMC_TYPE_Q8_0, q8, 24, y8}, {SMC_TYPE_Q4_0_R16, w, n_out, yb}};
        smc_matmul_multi(pool, 2, sp, n_in, X, nb);
        bad += mismatches(ya, yb, (size_t)(n_out * nb));
        free(y8);
        free(q8);
    }
    CHECK_EQ_INT(bad, 0);
    free(ya);
    free(yb);
    free(X);
    free(w);
    free(plain);
}

#if defined(__x86_64__)
#include "engine/matmul_avx2.h"

/* The VNNI kernel on 8-bit activations as its own callers hand them over
 * (kv_q: every batch width, the column groups prepared by the kernel),
 * repacked against plain, bit for bit. */
static void check_kernel(int64_t n_in, int64_t n_out)
{
    smc_mm_kernel kp = smc_mm_kernel_vnni_q(SMC_TYPE_Q4_0), kr = smc_mm_kernel_vnni_q(SMC_TYPE_Q4_0_R16);
    if (!kp || !kr)
        return;
    size_t rb = smc_row_bytes(SMC_TYPE_Q4_0, n_in), ab = smc_act_row_bytes(SMC_ACT_Q8, n_in);
    uint8_t *plain = make_q4(n_in, n_out), *w = malloc(rb * (size_t)n_out);
    memcpy(w, plain, rb * (size_t)n_out);
    CHECK_EQ_INT(smc_r16_repack(w, rb, n_out), SMC_TYPE_Q4_0_R16);
    enum { NB = 19 };
    uint8_t *A = malloc(ab * NB);
    float *x = malloc(sizeof(float) * (size_t)n_in);
    for (int b = 0; b < NB; b++) {
        for (int64_t i = 0; i < n_in; i++)
            x[i] = rndf();
        smc_quantize_act(SMC_ACT_Q8, x, A + (size_t)b * ab, n_in, 1);
    }
    float *ya = calloc((size_t)n_out * NB, sizeof(float)), *yb = calloc((size_t)n_out * NB, sizeof(float));
    int64_t bad = 0;
    for (int nb = 1; nb <= NB; nb += 3) {
        const int64_t ranges[][2] = {{0, n_out}, {3, n_out - 5}, {n_out - 16, n_out}, {5, 9}};
        for (int r = 0; r < 4; r++) {
            kp(plain, rb, n_in, ranges[r][0], ranges[r][1], A, ab, nb, ya, n_out);
            kr(w, rb, n_in, ranges[r][0], ranges[r][1], A, ab, nb, yb, n_out);
            bad += mismatches(ya, yb, (size_t)(n_out * nb));
        }
    }
    CHECK_EQ_INT(bad, 0);
    free(ya);
    free(yb);
    free(x);
    free(A);
    free(w);
    free(plain);
}
#else
static void check_kernel(int64_t n_in, int64_t n_out)
{
    (void)n_in, (void)n_out;
}
#endif

static void check_paths(smc_threadpool *pool, int64_t n_in, int64_t n_out)
{
    check_matmul(pool, n_in, n_out);   /* VNNI where the CPU has it */
    smc_kernels_force_avx2(true);
    check_matmul(pool, n_in, n_out);
    smc_kernels_force_avx2(false);
    smc_kernels_force_scalar(true);
    check_matmul(pool, n_in, n_out);
    smc_kernels_force_scalar(false);
}

void run_tests(void)
{
    check_layout(32, 16);
    check_layout(576, 48);
    check_layout(1536 + 32, 32);
    /* not a multiple of 16 rows: left as it is */
    size_t rb = smc_row_bytes(SMC_TYPE_Q4_0, 64);
    uint8_t *w = make_q4(64, 24), *copy = malloc(rb * 24);
    memcpy(copy, w, rb * 24);
    CHECK_EQ_INT(smc_r16_repack(w, rb, 24), SMC_TYPE_Q4_0);
    CHECK(memcmp(w, copy, rb * 24) == 0);
    free(copy);
    free(w);

    smc_threadpool *pool = smc_threadpool_new(3);
    CHECK(pool != NULL);
    check_paths(NULL, 64, 16);
    check_paths(pool, 576, 64);
    check_paths(pool, 32 * 161, 32);   /* prepared column groups in several chunks */
    check_paths(NULL, 96, 256);
    check_kernel(576, 64);
    check_kernel(32 * 161, 48);   /* several chunks of prepared column groups */
    check_kernel(32 * 321, 32);   /* too long for one group: a column at a time */
    smc_threadpool_free(pool);
}
