/* test_kernels_matmul.c — smc_matmul / smc_matmul_rows for every type against
 * double-precision references built from smc_dequantize_row:
 *  (1) W·X with the original float activations, within the error the 8-bit
 *      activation quantisation can cause (sum over blocks of d_x/2 * sum|w|)
 *      plus float rounding;
 *  (2) W·X' with the dequantised 8-bit activations X', within float rounding
 *      only (checks the integer kernels exactly);
 * plus AVX2 vs scalar, bit-identical results across batch sizes, row ranges
 * and thread counts, odd shapes, and weights made of random bytes. */
#include <stdint.h>

#include "engine/kernels.h"
#include "engine/quant_blocks.h"
#include "test.h"

#include "test_rng.h"

static bool quantised(int type)
{
    return smc_act_kind(type) != SMC_ACT_F32;
}

static void put_f16(uint8_t *p, float v)
{
    smc_fp16 h = smc_f32_to_fp16(v);
    memcpy(p, &h, 2);
}

/* Offsets of the fp16 scale fields of one block: main scale, min (or -1). */
static void scale_fields(int type, int *d_off, int *m_off)
{
    *d_off = 0;
    *m_off = -1;
    if (type == SMC_TYPE_Q4_1 || type == SMC_TYPE_Q5_1 || type == SMC_TYPE_Q4_K || type == SMC_TYPE_Q5_K)
        *m_off = 2;
    if (type == SMC_TYPE_Q6_K)
        *d_off = 208;
}

/* n_out rows. mode 0: quantise random floats; mode 1: random bytes with sane
 * scale fields (float types: random values). */
static uint8_t *make_weights(int type, int64_t n_in, int64_t n_out, int mode)
{
    size_t rb = smc_row_bytes(type, n_in);
    uint8_t *w = malloc(rb * (size_t)n_out);
    float *row = malloc(sizeof(float) * (size_t)n_in);
    for (int64_t o = 0; o < n_out; o++) {
        float scale = (o % 3 == 0) ? 0.05f : 1.0f;
        if (mode == 0 || !quantised(type)) {
            for (int64_t i = 0; i < n_in; i++)
                row[i] = rndf() * scale + (o % 5 == 1 ? 0.3f * scale : 0.0f);
            smc_quantize_row(type, row, w + (size_t)o * rb, n_in);
        } else {
            uint8_t *r = w + (size_t)o * rb;
            for (size_t i = 0; i < rb; i++)
                r[i] = (uint8_t)rnd32();
            int64_t bs = smc_kernel_block_size(type);
            size_t bb = smc_row_bytes(type, bs);
            int d_off, m_off;
            scale_fields(type, &d_off, &m_off);
            for (int64_t b = 0; b < n_in / bs; b++) {
                put_f16(r + b * bb + d_off, rndf() * 0.02f * scale);
                if (m_off >= 0)
                    put_f16(r + b * bb + m_off, rndf() * 0.05f * scale);
            }
        }
    }
    free(row);
    return w;
}

/* A per-element magnitude bound of the weight terms the kernel sums: |w|, or
 * for the types with mins |scale part| + |min part| (they cancel in float). */
static void weight_magnitude(int type, const uint8_t *wrow, int64_t n_in, double *mag)
{
    size_t rb = smc_row_bytes(type, n_in);
    float *a = malloc(sizeof(float) * (size_t)n_in), *b = malloc(sizeof(float) * (size_t)n_in);
    int d_off, m_off;
    scale_fields(type, &d_off, &m_off);
    if (!quantised(type) || m_off < 0) {
        smc_dequantize_row(type, wrow, a, n_in);
        for (int64_t i = 0; i < n_in; i++)
            mag[i] = fabs(a[i]);
    } else {
        uint8_t *c1 = malloc(rb), *c2 = malloc(rb);
        memcpy(c1, wrow, rb);
        memcpy(c2, wrow, rb);
        int64_t bs = smc_kernel_block_size(type);
        size_t bb = smc_row_bytes(type, bs);
        for (int64_t k = 0; k < n_in / bs; k++) {
            put_f16(c1 + k * bb + m_off, 0.0f);
            put_f16(c2 + k * bb + d_off, 0.0f);
        }
        smc_dequantize_row(type, c1, a, n_in);
        smc_dequantize_row(type, c2, b, n_in);
        for (int64_t i = 0; i < n_in; i++)
            mag[i] = fabs(a[i]) + fabs(b[i]);
        free(c1);
        free(c2);
    }
    free(a);
    free(b);
}

/* The activations the kernel really uses (dequantised 8-bit), and half the
 * quantisation step of each element's block. */
static void effective_x(int type, const float *x, int64_t n, double *xq, double *half_step)
{
    int kind = smc_act_kind(type);
    if (kind == SMC_ACT_F32) {
        for (int64_t i = 0; i < n; i++)
            xq[i] = x[i], half_step[i] = 0;
        return;
    }
    uint8_t *buf = malloc(smc_act_row_bytes(kind, n));
    smc_quantize_act(kind, x, buf, n, 0);
    for (int64_t i = 0; i < n; i++) {
        float d;
        int8_t q;
        if (kind == SMC_ACT_Q8) {
            const smc_act_q8 *a = (const smc_act_q8 *)buf + i / 32;
            d = a->d, q = a->qs[i % 32];
        } else {
            const smc_act_q8k *a = (const smc_act_q8k *)buf + i / 256;
            d = a->d, q = a->qs[i % 256];
        }
        xq[i] = (double)d * q;
        half_step[i] = d * 0.5;
    }
    free(buf);
}

typedef struct {
    int failures_ref1, failures_ref2;
    double worst_rel1;
} stats;

/* Compares Y (n_batch x n_out, ldy = n_out) with both references. */
static void check_against_refs(int type, const uint8_t *W, int64_t n_in, int64_t n_out, const float *X,
                               int64_t n_batch, const float *Y, stats *st, double *tol_out)
{
    size_t rb = smc_row_bytes(type, n_in);
    float *w = malloc(sizeof(float) * (size_t)n_in);
    double *mag = malloc(sizeof(double) * (size_t)n_in);
    double *xq = malloc(sizeof(double) * (size_t)n_in * (size_t)n_batch);
    double *hs = malloc(sizeof(double) * (size_t)n_in * (size_t)n_batch);
    for (int64_t b = 0; b < n_batch; b++)
        effective_x(type, X + b * n_in, n_in, xq + b * n_in, hs + b * n_in);
    for (int64_t o = 0; o < n_out; o++) {
        smc_dequantize_row(type, W + (size_t)o * rb, w, n_in);
        weight_magnitude(type, W + (size_t)o * rb, n_in, mag);
        for (int64_t b = 0; b < n_batch; b++) {
            const float *x = X + b * n_in;
            const double *q = xq + b * n_in, *h = hs + b * n_in;
            double r1 = 0, r2 = 0, qbound = 0, absq = 0;
            for (int64_t i = 0; i < n_in; i++) {
                r1 += (double)w[i] * x[i];
                r2 += (double)w[i] * q[i];
                qbound += fabs((double)w[i]) * h[i];
                absq += mag[i] * fabs(q[i]);
            }
            double y = Y[b * n_out + o];
            double tol2 = (double)(n_in + 8) * 1.2e-7 * absq + 1e-30;
            double tol1 = qbound * 1.0001 + tol2 + (double)n_in * 1.2e-7 * absq;
            if (tol_out)
                tol_out[b * n_out + o] = tol2;
            if (fabs(y - r2) > tol2) {
                if (st->failures_ref2++ < 3)
                    fprintf(stderr, "type %d n_in %lld row %lld col %lld: %.9g vs %.9g (tol %g)\n", type,
                            (long long)n_in, (long long)o, (long long)b, y, r2, tol2);
            }
            if (fabs(y - r1) > tol1)
                st->failures_ref1++;
            if (qbound > 0)
                st->worst_rel1 = fmax(st->worst_rel1, fabs(y - r1) / qbound);
        }
    }
    free(w);
    free(mag);
    free(xq);
    free(hs);
}

static const int TYPES[] = {SMC_TYPE_F32, SMC_TYPE_F16, SMC_TYPE_BF16, SMC_TYPE_Q8_0, SMC_TYPE_Q4_0, SMC_TYPE_Q4_1,
                            SMC_TYPE_Q5_0, SMC_TYPE_Q5_1, SMC_TYPE_Q4_K, SMC_TYPE_Q5_K, SMC_TYPE_Q6_K};
#define N_TYPES (int)(sizeof TYPES / sizeof TYPES[0])

static float *make_x(int64_t n_in, int64_t n_batch)
{
    float *x = malloc(sizeof(float) * (size_t)(n_in * n_batch));
    for (int64_t b = 0; b < n_batch; b++) {
        float s = (b % 4 == 3) ? 40.0f : 1.0f;
        for (int64_t i = 0; i < n_in; i++)
            x[b * n_in + i] = rndf() * s * (i % 97 == 5 ? 8.0f : 1.0f);
    }
    return x;
}

/* One type, one shape: both ISAs vs references, AVX2 vs scalar, batch and
 * row-range independence. */
static void check_shape(int type, int64_t n_in, int64_t n_out, int64_t n_batch, int mode, stats *st)
{
    uint8_t *W = make_weights(type, n_in, n_out, mode);
    float *X = make_x(n_in, n_batch);
    size_t ny = (size_t)(n_out * n_batch);
    float *Ys = malloc(sizeof(float) * ny), *Yv = malloc(sizeof(float) * ny), *Y1 = malloc(sizeof(float) * ny);
    double *tol = malloc(sizeof(double) * ny);

    smc_kernels_force_scalar(true);
    smc_matmul(NULL, type, W, n_in, n_out, X, n_batch, Ys);
    check_against_refs(type, W, n_in, n_out, X, n_batch, Ys, st, tol);
    smc_kernels_force_scalar(false);
    smc_matmul(NULL, type, W, n_in, n_out, X, n_batch, Yv);
    if (smc_cpu_has_avx2_fma())
        check_against_refs(type, W, n_in, n_out, X, n_batch, Yv, st, NULL);

    /* AVX2 vs scalar: both within float rounding of the same sum */
    int bad = 0;
    for (size_t i = 0; i < ny; i++)
        if (fabs((double)Ys[i] - Yv[i]) > 2 * tol[i])
            bad++;
    CHECK_MSG(bad == 0, "type %d n_in %lld n_out %lld nb %lld: %d AVX2/scalar mismatches", type, (long long)n_in,
              (long long)n_out, (long long)n_batch, bad);

    /* each column alone, and odd row ranges, give the same bits */
    int diff = 0;
    for (int64_t b = 0; b < n_batch; b++) {
        int64_t mid = n_out / 3;
        smc_matmul_rows(type, W, n_in, 0, mid, X + b * n_in, 1, Y1, n_out);
        smc_matmul_rows(type, W, n_in, mid, n_out, X + b * n_in, 1, Y1, n_out);
        diff += memcmp(Y1, Yv + b * n_out, sizeof(float) * (size_t)n_out) != 0;
    }
    CHECK_MSG(diff == 0, "type %d: %d columns differ between batched and single evaluation", type, diff);

    free(W);
    free(X);
    free(Ys);
    free(Yv);
    free(Y1);
    free(tol);
}

static void test_all_types(void)
{
    bool small = getenv("SMC_TEST_SANITIZED") != NULL;
    for (int t = 0; t < N_TYPES; t++) {
        int type = TYPES[t];
        int64_t bs = smc_kernel_block_size(type);
        int64_t n_ins[3];
        if (bs == 1)
            n_ins[0] = 37, n_ins[1] = 64, n_ins[2] = 203;
        else if (bs == 32)
            n_ins[0] = 32, n_ins[1] = 96, n_ins[2] = 576;
        else
            n_ins[0] = 256, n_ins[1] = 512, n_ins[2] = 1536;
        stats st = {0, 0, 0};
        int shapes = 0;
        for (int mode = 0; mode < 2; mode++)
            for (int k = 0; k < 3; k++) {
                int64_t outs[] = {1, 5, 13};
                for (int a = 0; a < 3; a++)
                    for (int64_t nb = 1; nb <= 17; nb++) {
                        /* every batch 1..17 for one row count, a sample for the others */
                        bool full = a == (mode + k) % 3;
                        if ((small && nb % 4 != 1) || (!full && nb % 3 != 1))
                            continue;
                        check_shape(type, n_ins[k], outs[a] + k, nb, mode, &st);
                        shapes++;
                    }
            }
        /* batches over the 64-column chunk */
        check_shape(type, n_ins[1], 6, small ? 65 : 70, 0, &st);
        CHECK_MSG(st.failures_ref2 == 0, "type %d: %d outputs off the dequantised-activation reference", type,
                  st.failures_ref2);
        CHECK_MSG(st.failures_ref1 == 0, "type %d: %d outputs off the float reference", type, st.failures_ref1);
        if (quantised(type))
            printf("type %-2d: %d shapes; worst error vs float-activation reference = %.3f of the 8-bit bound\n",
                   type, shapes, st.worst_rel1);
    }
}

/* One column: the AVX2 kernels cut the row range into four segments (float
 * and quantised weights) and take a row of each per tile,
 * then the rows left over (matmul_avx2.h, matmul_avx2_float.c); with
 * AVX512-VNNI, Q8_0 takes 16 segments (Q4_0/Q5_0 16 consecutive rows), then
 * 8 consecutive rows, then single rows (matmul_vnni_q.c), against the
 * batch's 4-row tiles. Row counts
 * from one row per segment to many, with leftovers of every kind: each
 * column alone (and in two odd row ranges) gives the bits of the batched
 * evaluation, and both are checked against the references. */
static void test_one_column_segments(void)
{
    int64_t outs[] = {8, 9, 16, 23, 67, 250};
    for (int t = 0; t < N_TYPES; t++) {
        int type = TYPES[t];
        int64_t bs = smc_kernel_block_size(type);
        int64_t n_in = bs == 1 ? 203 : bs == 32 ? 96 : 512;
        stats st = {0, 0, 0};
        for (int a = 0; a < 6; a++)
            check_shape(type, n_in, outs[a], 2, 0, &st);
        CHECK_MSG(st.failures_ref1 == 0 && st.failures_ref2 == 0, "type %d: outputs off the references", type);
    }
}

static void test_threads(void)
{
    smc_threadpool *pool = smc_threadpool_new(3);
    CHECK(pool != NULL);
    int types[] = {SMC_TYPE_Q8_0, SMC_TYPE_F16, SMC_TYPE_Q4_K};
    for (int t = 0; t < 3; t++) {
        int64_t n_in = 512, n_out = 37, nb = 5;
        uint8_t *W = make_weights(types[t], n_in, n_out, 0);
        float *X = make_x(n_in, nb);
        float Y0[37 * 5], Y1[37 * 5];
        smc_matmul(NULL, types[t], W, n_in, n_out, X, nb, Y0);
        smc_matmul(pool, types[t], W, n_in, n_out, X, nb, Y1);
        CHECK(memcmp(Y0, Y1, sizeof Y0) == 0);
        free(W);
        free(X);
    }
    /* many work-stealing claims (small rows, thousands of them), repeated:
     * every row is computed once, with the same bits as one thread */
    int reps = getenv("SMC_TEST_SANITIZED") ? 3 : 20, bad = 0;
    for (int nb = 1; nb <= 3; nb += 2) {
        int64_t n_in = 64, n_out = 3001;
        uint8_t *W = make_weights(SMC_TYPE_F16, n_in, n_out, 0);
        float *X = make_x(n_in, nb);
        float *Y0 = malloc(sizeof(float) * (size_t)(n_out * nb)), *Y1 = malloc(sizeof(float) * (size_t)(n_out * nb));
        smc_matmul(NULL, SMC_TYPE_F16, W, n_in, n_out, X, nb, Y0);
        for (int r = 0; r < reps; r++) {
            for (int64_t i = 0; i < n_out * nb; i++)
                Y1[i] = NAN;
            smc_matmul(pool, SMC_TYPE_F16, W, n_in, n_out, X, nb, Y1);
            bad += memcmp(Y0, Y1, sizeof(float) * (size_t)(n_out * nb)) != 0;
        }
        free(W);
        free(X);
        free(Y0);
        free(Y1);
    }
    CHECK_MSG(bad == 0, "%d threaded runs differ from the single-thread result", bad);
    smc_threadpool_free(pool);
}

/* The scalar and AVX2 activation quantisers give the same bytes, including
 * ties (x*id exactly k+0.5), zeros and huge values. */
static void test_act_quant(void)
{
    if (!smc_cpu_has_avx2_fma())
        return;
    enum { N = 1024 };
    static float x[N];
    static uint8_t a[8192], b[8192];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++) {
            x[i] = rndf() * (round % 2 ? 1000.0f : 1.0f);
            if (round % 3 == 0)
                x[i] = (float)((int)(x[i] * 127.0f)) + 0.5f; /* ties after scaling by 127/127 */
        }
        if (round % 3 == 0)
            for (int g = 0; g < N / 32; g++)
                x[32 * g] = 127.0f; /* block max 127 -> d = 1, id = 1: exact .5 ties */
        if (round == 5)
            memset(x, 0, sizeof x);
        for (int kind = SMC_ACT_Q8; kind <= SMC_ACT_Q8K; kind++) {
            size_t rb = smc_act_row_bytes(kind, N);
            memset(a, 0, rb);
            memset(b, 0xAB, rb);
            smc_quantize_act(kind, x, a, N, 0);
            smc_quantize_act(kind, x, b, N, 1);
            CHECK_MSG(memcmp(a, b, rb) == 0, "round %d kind %d: scalar and AVX2 activations differ", round, kind);
        }
    }
    /* a tie rounds to even: x = 2.5 with d = 1 -> 2, x = 3.5 -> 4 */
    float t[32] = {127.0f, 2.5f, 3.5f, -2.5f};
    smc_act_q8 q;
    smc_quantize_act(SMC_ACT_Q8, t, &q, 32, 1);
    CHECK(q.d == 1.0f && q.qs[0] == 127 && q.qs[1] == 2 && q.qs[2] == 4 && q.qs[3] == -2);
    CHECK(q.s == 131.0f);
}

static void test_unsupported(void)
{
    float X[32] = {0}, Y[2] = {123.0f, 456.0f};
    uint8_t W[128] = {0};
    smc_matmul(NULL, SMC_TYPE_Q2_K, W, 32, 2, X, 1, Y);
    CHECK(Y[0] == 123.0f && Y[1] == 456.0f);
    smc_matmul(NULL, SMC_TYPE_Q8_0, W, 31, 2, X, 1, Y); /* not a block multiple */
    CHECK(Y[0] == 123.0f);
}

/* The float kernels' batch path walks rows in blocks sized by the row
 * length and 6-row x 2-column tiles: rows past a block and a tile (1..5
 * rows left), an odd column, k with a tail past the last 8, batches over
 * the 64-column chunk, and threads; every output against the references
 * and, bit for bit, against one column at a time. */
static void test_float_blocks(void)
{
    static const int types[] = {SMC_TYPE_F16, SMC_TYPE_F32, SMC_TYPE_BF16};
    static const int64_t shapes[][3] = {{1547, 151, 13}, {1547, 151, 70}, {200, 700, 5}, {37, 23, 3}, {4864, 50, 7}};
    smc_threadpool *pool = smc_threadpool_new(3);
    CHECK(pool != NULL);
    for (int t = 0; t < 3; t++) {
        stats st = {0, 0, 0};
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            check_shape(types[t], shapes[i][0], shapes[i][1], shapes[i][2], 0, &st);
        CHECK_MSG(st.failures_ref1 == 0, "type %d: %d outputs off the float reference", types[t], st.failures_ref1);
        int64_t n_in = 1547, n_out = 151, nb = 13;
        uint8_t *W = make_weights(types[t], n_in, n_out, 0);
        float *X = make_x(n_in, nb);
        float *Y0 = malloc(sizeof(float) * (size_t)(n_out * nb)), *Y1 = malloc(sizeof(float) * (size_t)(n_out * nb));
        smc_matmul(NULL, types[t], W, n_in, n_out, X, nb, Y0);
        smc_matmul(pool, types[t], W, n_in, n_out, X, nb, Y1);
        CHECK_MSG(memcmp(Y0, Y1, sizeof(float) * (size_t)(n_out * nb)) == 0, "type %d: threaded batch differs",
                  types[t]);
        free(W);
        free(X);
        free(Y0);
        free(Y1);
    }
    smc_threadpool_free(pool);
}

void run_tests(void)
{
    printf("isa: %s\n", smc_kernels_isa());
    test_all_types();
    test_one_column_segments();
    test_threads();
    test_float_blocks();
    test_act_quant();
    test_unsupported();
}
