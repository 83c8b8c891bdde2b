/* test_kernels_vnni.c — the AVX512-VNNI kernels (matmul_vnni_q.c), for
 * random weights (quantised floats and raw random bytes, including the
 * Q8_0 value -128 the quantiser never writes), every batch width 1..19 and
 * odd row ranges:
 *  - Q8_0, Q4_0 and Q5_0 give bit-identical outputs to a scalar model of their
 *    documented arithmetic (exact int block sums S, acc = fmaf((float)S,
 *    d_w*d_x, acc) block after block), hence the same bits for every batch
 *    width and row range, and stay within float rounding of the AVX2 kernels.
 * Skipped on CPUs without AVX2 or AVX512-VNNI. */
#include <stdint.h>

#include "engine/kernels.h"
#include <math.h>

#include "engine/fp16.h"
#include "engine/quant_blocks.h"
#include "test.h"

#if defined(__x86_64__)
#include "engine/matmul_avx2.h"

#define TEST_RNG_SEED 0x2545F4914F6CDD1Dull
#include "test_rng.h"

/* n_out rows of type; raw: random bytes with a sane fp16 scale. */
static uint8_t *make_w(int type, int64_t n_in, int64_t n_out, bool raw)
{
    size_t rb = smc_row_bytes(type, n_in), bb = type == SMC_TYPE_Q8_0 ? 34 : type == SMC_TYPE_Q5_0 ? 22 : 18;
    uint8_t *w = malloc(rb * (size_t)n_out);
    float *row = malloc(sizeof(float) * (size_t)n_in);
    for (int64_t o = 0; o < n_out; o++) {
        uint8_t *p = w + (size_t)o * rb;
        if (raw) {
            for (size_t i = 0; i < rb; i++)
                p[i] = (uint8_t)rnd32();
            for (size_t b = 0; b < rb; b += bb) {
                smc_fp16 h = smc_f32_to_fp16(0.01f + 0.02f * (rndf() + 1.0f));
                memcpy(p + b, &h, 2);
            }
        } else {
            for (int64_t i = 0; i < n_in; i++)
                row[i] = rndf() * (o % 3 ? 1.0f : 0.05f);
            smc_quantize_row(type, row, p, n_in);
        }
    }
    free(row);
    return w;
}

/* Scalar model of the VNNI Q4_0 / Q8_0 arithmetic for one (row, column). */
static float vnni_model(int type, const uint8_t *wrow, const uint8_t *arow, int64_t n_in, double *mag)
{
    *mag = 0;
    const smc_block_q4_0 *w = (const smc_block_q4_0 *)wrow;
    const smc_block_q8_0 *w8 = (const smc_block_q8_0 *)wrow;
    const smc_block_q5_0 *w5 = (const smc_block_q5_0 *)wrow;
    const smc_act_q8 *x = (const smc_act_q8 *)arow;
    float acc = 0.0f;
    for (int64_t i = 0; i < n_in / 32; i++) {
        int32_t s = 0;
        int32_t sa = 0;   /* sum of |w*x| */
        if (type == SMC_TYPE_Q8_0)
            for (int j = 0; j < 32; j++) {
                s += w8[i].qs[j] * x[i].qs[j];
                sa += abs(w8[i].qs[j] * x[i].qs[j]);
            }
        else if (type == SMC_TYPE_Q5_0) {
            uint32_t qh;
            memcpy(&qh, w5[i].qh, 4);
            for (int j = 0; j < 16; j++) {
                int lo = ((w5[i].qs[j] & 0x0F) | (int)((qh >> j) & 1) << 4) - 16;
                int hi = ((w5[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - 16;
                s += lo * x[i].qs[j] + hi * x[i].qs[j + 16];
                sa += abs(lo * x[i].qs[j]) + abs(hi * x[i].qs[j + 16]);
            }
        } else
            for (int j = 0; j < 16; j++) {
                s += ((w[i].qs[j] & 0x0F) - 8) * x[i].qs[j];
                s += ((w[i].qs[j] >> 4) - 8) * x[i].qs[j + 16];
                sa += abs(((w[i].qs[j] & 0x0F) - 8) * x[i].qs[j]) + abs(((w[i].qs[j] >> 4) - 8) * x[i].qs[j + 16]);
            }
        float dd = smc_fp16_to_f32(type == SMC_TYPE_Q8_0 ? w8[i].d : type == SMC_TYPE_Q5_0 ? w5[i].d : w[i].d) * x[i].d;
        *mag += (double)sa * fabs((double)dd);
        acc = fmaf((float)s, dd, acc);
    }
    return acc;
}

static void check_type(int type, int64_t n_in, int64_t n_out, bool raw)
{
    smc_mm_kernel ka = smc_mm_kernel_avx2_q(type), kv = smc_mm_kernel_vnni_q(type);
    smc_mm_kernel kp = smc_mm_kernel_vnni_q_prepared(type);
    CHECK(ka != NULL);
    CHECK(kv != NULL);
    CHECK(kp != NULL);
    if (!ka || !kv || !kp)
        return;
    /* activations prepared once (rows short enough): the same bits as kv */
    const size_t cb = smc_vnni_cols_bytes(n_in);
    CHECK((cb > 0) == (n_in / 32 <= 320));
    const int max_nb = 19;
    size_t rb = smc_row_bytes(type, n_in), ab = smc_act_row_bytes(SMC_ACT_Q8, n_in);
    uint8_t *W = make_w(type, n_in, n_out, raw);
    uint8_t *A = malloc(ab * max_nb);
    float *x = malloc(sizeof(float) * (size_t)n_in);
    for (int b = 0; b < max_nb; b++) {
        for (int64_t i = 0; i < n_in; i++)
            x[i] = rndf() * (b % 4 ? 1.0f : 30.0f);
        smc_quantize_act(SMC_ACT_Q8, x, A + (size_t)b * ab, n_in, 1);
    }
    float *ya = malloc(sizeof(float) * (size_t)(n_out * max_nb)), *yv = malloc(sizeof(float) * (size_t)(n_out * max_nb));
    float *yr = malloc(sizeof(float) * (size_t)(n_out * max_nb));
    float *yp = malloc(sizeof(float) * (size_t)(n_out * max_nb));
    uint8_t *P = cb ? aligned_alloc(64, smc_vnni_prepared_bytes(n_in, max_nb)) : NULL;
    CHECK(smc_vnni_prepared_bytes(n_in, 9) == 16 * cb);
    int mismatches = 0, far = 0, prep_mismatches = 0;
    for (int nb = 1; nb <= max_nb; nb++) {
        int64_t o0 = nb % 3, o1 = n_out - (nb % 5);
        for (int64_t i = 0; i < n_out * max_nb; i++)
            ya[i] = yv[i] = yr[i] = -7.0f;
        ka(W, rb, n_in, o0, o1, A, ab, nb, ya, n_out);
        kv(W, rb, n_in, o0, o1, A, ab, nb, yv, n_out);
        if (P) {
            for (int64_t i = 0; i < n_out * max_nb; i++)
                yp[i] = -7.0f;
            smc_vnni_prepare_cols(type, A, ab, n_in, nb, P);
            /* the whole batch, then (a chunk from column 8) the columns after the first 8 */
            kp(W, rb, n_in, o0, o1, P, cb, nb, yp, n_out);
            if (nb > 8)
                kp(W, rb, n_in, o0, o1, P + 8 * cb, cb, nb - 8, yp + 8 * n_out, n_out);
            if (memcmp(yp, yv, sizeof(float) * (size_t)(n_out * max_nb)) != 0)
                prep_mismatches++;
        }
        {
            for (int b = 0; b < nb; b++)
                for (int64_t o = o0; o < o1; o++) {
                    double mag;
                    yr[b * n_out + o] = vnni_model(type, W + (size_t)o * rb, A + (size_t)b * ab, n_in, &mag);
                    /* AVX2 sums 8 lanes per block, then the lanes: float
                     * rounding only (the int sums are exact in both), a few
                     * units of 2^-24 of the sum of |terms| per block. */
                    double tol = 4e-7 * (mag + 1e-3) * (double)(n_in / 32 + 8);
                    if (fabs((double)ya[b * n_out + o] - yr[b * n_out + o]) > tol)
                        far++;
                }
            if (memcmp(yr, yv, sizeof(float) * (size_t)(n_out * max_nb)) != 0)
                mismatches++;
        }
    }
    CHECK_MSG(mismatches == 0, "type %d n_in %lld n_out %lld raw %d: %d batch widths differ", type,
              (long long)n_in, (long long)n_out, raw, mismatches);
    CHECK_MSG(prep_mismatches == 0, "type %d n_in %lld n_out %lld raw %d: %d batch widths differ when prepared once",
              type, (long long)n_in, (long long)n_out, raw, prep_mismatches);
    CHECK_MSG(far == 0, "type %d n_in %lld n_out %lld raw %d: %d outputs beyond rounding of AVX2", type,
              (long long)n_in, (long long)n_out, raw, far);
    free(yr);
    free(yp);
    free(P);
    free(W);
    free(A);
    free(x);
    free(ya);
    free(yv);
}

void run_tests(void)
{
    if (!smc_cpu_has_avx2_fma() || !smc_mm_kernel_vnni_q(SMC_TYPE_Q8_0))
        SKIP_ALL("this CPU lacks AVX2 or AVX512-VNNI");
    smc_mm_kernel_avx2(SMC_TYPE_Q8_0); /* fills the fp16 table */
    static const int types[] = {SMC_TYPE_Q8_0, SMC_TYPE_Q4_0, SMC_TYPE_Q5_0};
    for (int t = 0; t < 3; t++)
        for (int raw = 0; raw < 2; raw++) {
            check_type(types[t], 32, 13, raw);
            check_type(types[t], 576, 37, raw);
            check_type(types[t], 1536, 11, raw);
            check_type(types[t], 64, 70, raw);   /* one column: 16-row tiles, 8, singles */
            check_type(types[t], 96, 250, raw);  /* one column: 15 rows per segment, 8, singles */
        }
    /* Q4_0 rows long enough that the prepared column groups take several
     * chunks (161 blocks), or go a column at a time (321 blocks). */
    check_type(SMC_TYPE_Q4_0, 32 * 161, 7, false);
    check_type(SMC_TYPE_Q4_0, 32 * 321, 5, true);
    check_type(SMC_TYPE_Q8_0, 32 * 161, 7, true);
    check_type(SMC_TYPE_Q8_0, 32 * 321, 5, false);
    check_type(SMC_TYPE_Q5_0, 32 * 161, 7, true);
    CHECK(smc_mm_kernel_vnni_q(SMC_TYPE_F16) == NULL);
}
#else
void run_tests(void)
{
    SKIP_ALL("x86-64 only");
}
#endif
