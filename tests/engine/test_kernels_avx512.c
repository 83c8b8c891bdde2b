/* test_kernels_avx512.c — the AVX-512 F32/F16/BF16 batch kernels
 * (matmul_avx512_float.c) through smc_matmul / smc_matmul_rows:
 *  - bit-identical to the AVX2 path (smc_kernels_force_avx2) for every batch
 *    width 1..19 and 63..70 (odd widths, the 64-column step), row counts that
 *    are not multiples of the tiles, n_in across the 512-wide k blocks, and
 *    odd row ranges, with and without a 2-thread pool;
 *  - every column of a batch equals the same column evaluated alone (the
 *    decode path), bit for bit;
 *  - n_in % 8 != 0 falls back to the AVX2 kernel (same bits as forced AVX2);
 *  - k blocks of odd multiples of 8 and row counts off the 4-row tiles and
 *    the 64-row (32 when k is split) blocks;
 *  - within float rounding of a double-precision reference.
 * Skipped on CPUs without AVX-512. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/threadpool.h"
#include "test.h"

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static float rndf(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((uint32_t)(rs >> 16) >> 8) / 8388608.0f - 1.0f;
}

static void check(smc_threadpool *pool, int type, int64_t n_in, int64_t n_out)
{
    const int64_t max_nb = 70;
    size_t rb = smc_row_bytes(type, n_in);
    uint8_t *W = malloc(rb * (size_t)n_out);
    float *row = malloc(sizeof(float) * (size_t)n_in), *wf = malloc(sizeof(float) * (size_t)(n_in * n_out));
    for (int64_t o = 0; o < n_out; o++) {
        for (int64_t i = 0; i < n_in; i++)
            row[i] = rndf() * (o % 5 ? 1.0f : 40.0f);
        smc_quantize_row(type, row, W + (size_t)o * rb, n_in);
        smc_dequantize_row(type, W + (size_t)o * rb, wf + o * n_in, n_in);
    }
    float *X = malloc(sizeof(float) * (size_t)(n_in * max_nb));
    for (int64_t i = 0; i < n_in * max_nb; i++)
        X[i] = rndf();
    size_t ny = sizeof(float) * (size_t)(n_out * max_nb);
    float *y512 = malloc(ny), *y2 = malloc(ny), *y1 = malloc(ny);
    int diff_avx2 = 0, diff_single = 0, diff_rows = 0, far = 0;
    for (int64_t nb = 1; nb <= max_nb; nb = nb == 19 ? 63 : nb + 1) {
        smc_kernels_force_avx2(true);
        smc_matmul(pool, type, W, n_in, n_out, X, nb, y2);
        smc_kernels_force_avx2(false);
        smc_matmul(pool, type, W, n_in, n_out, X, nb, y512);
        if (memcmp(y2, y512, sizeof(float) * (size_t)(n_out * nb)) != 0)
            diff_avx2++;
        for (int64_t b = 0; b < nb; b += 7) {
            smc_matmul(NULL, type, W, n_in, n_out, X + b * n_in, 1, y1);
            if (memcmp(y1, y512 + b * n_out, sizeof(float) * (size_t)n_out) != 0)
                diff_single++;
        }
        /* odd row range, written into a buffer prefilled with a marker */
        int64_t o0 = nb % 3, o1 = n_out - nb % 4;
        for (int64_t i = 0; i < n_out * nb; i++)
            y1[i] = -7.0f;
        smc_matmul_rows(type, W, n_in, o0, o1, X, nb, y1, n_out);
        for (int64_t b = 0; b < nb; b++)
            for (int64_t o = 0; o < n_out; o++) {
                float want = o >= o0 && o < o1 ? y512[b * n_out + o] : -7.0f;
                if (memcmp(&want, &y1[b * n_out + o], sizeof want) != 0)
                    diff_rows++;
            }
        for (int64_t b = 0; b < nb; b++)
            for (int64_t o = 0; o < n_out; o++) {
                double ref = 0, mag = 0;
                for (int64_t i = 0; i < n_in; i++) {
                    ref += (double)wf[o * n_in + i] * X[b * n_in + i];
                    mag += fabs((double)wf[o * n_in + i] * X[b * n_in + i]);
                }
                if (fabs(y512[b * n_out + o] - ref) > (double)(n_in / 8 + 4) * 6e-8 * mag + 1e-30)
                    far++;
            }
    }
    CHECK_MSG(diff_avx2 == 0, "type %d n_in %lld n_out %lld pool %d: %d batch widths differ from AVX2", type,
              (long long)n_in, (long long)n_out, pool != NULL, diff_avx2);
    CHECK_MSG(diff_single == 0, "type %d n_in %lld: %d columns differ from their single evaluation", type,
              (long long)n_in, diff_single);
    CHECK_MSG(diff_rows == 0, "type %d n_in %lld: %d outputs of row ranges differ", type, (long long)n_in, diff_rows);
    CHECK_MSG(far == 0, "type %d n_in %lld: %d outputs beyond float rounding of the reference", type,
              (long long)n_in, far);
    free(W);
    free(row);
    free(wf);
    free(X);
    free(y512);
    free(y2);
    free(y1);
}

void run_tests(void)
{
    if (!smc_cpu_has_avx512())
        SKIP_ALL("this CPU lacks AVX-512");
    CHECK(smc_kernels_use_avx512() || getenv("SMC_NO_AVX512"));
    if (!smc_kernels_use_avx512())
        SKIP_ALL("$SMC_NO_AVX512 is set");
    smc_threadpool *pool = smc_threadpool_new(2);
    static const int types[] = {SMC_TYPE_F16, SMC_TYPE_F32, SMC_TYPE_BF16};
    for (int t = 0; t < 3; t++) {
        check(NULL, types[t], 8, 5);
        check(NULL, types[t], 64, 37);
        check(pool, types[t], 1032, 23); /* two k blocks (520 and 512) */
        check(NULL, types[t], 36, 9);    /* n_in % 8 != 0: the AVX2 kernel */
    }
    check(pool, SMC_TYPE_F16, 576, 50);
    /* k blocks that are not multiples of 16 (1544: 776 + 768, 200), row
     * counts that are not multiples of the 4-row tile or the row blocks */
    check(pool, SMC_TYPE_F16, 1544, 45);
    /* several 64-row blocks with k whole (64 + 64 + 22 rows), and several
     * 32-row blocks with k split in three (688 + 688 + 680; 32 + 13) */
    check(NULL, SMC_TYPE_F16, 576, 150);
    check(NULL, SMC_TYPE_F16, 2056, 45);
    check(NULL, SMC_TYPE_BF16, 200, 18);
    check(NULL, SMC_TYPE_F32, 776, 21);
    smc_kernels_force_avx2(true);
    CHECK_STR(smc_kernels_isa(), "avx2+fma");
    smc_kernels_force_avx2(false);
    CHECK_STR(smc_kernels_isa(), "avx2+fma+avx512");
    smc_threadpool_free(pool);
}
