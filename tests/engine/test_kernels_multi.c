/* test_kernels_multi.c — smc_matmul_multi (several matrices sharing one
 * input, one pool run) gives bit-identical outputs to separate smc_matmul
 * calls, for mixed weight types (including ones with different activation
 * formats), batch widths across the 64-column step, with and without a
 * pool; and leaves Y untouched on invalid input. */
#include <stdint.h>

#include "engine/kernels.h"
#include "engine/threadpool.h"
#include "test.h"

static uint64_t rs = 0x853C49E6748FEA9Bull;
static float rndf(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((uint32_t)(rs >> 16) >> 8) / 8388608.0f - 1.0f;
}

static void *make_w(int type, int64_t n_in, int64_t n_out)
{
    size_t rb = smc_row_bytes(type, n_in);
    uint8_t *w = malloc(rb * (size_t)n_out);
    float *row = malloc(sizeof(float) * (size_t)n_in);
    for (int64_t o = 0; o < n_out; o++) {
        for (int64_t i = 0; i < n_in; i++)
            row[i] = rndf();
        smc_quantize_row(type, row, w + (size_t)o * rb, n_in);
    }
    free(row);
    return w;
}

static void check_group(smc_threadpool *pool, int n, const int *types, const int64_t *n_outs, int64_t n_in,
                        int64_t nb)
{
    smc_matmul_spec sp[SMC_MATMUL_MULTI_MAX];
    float *ref[SMC_MATMUL_MULTI_MAX];
    void *W[SMC_MATMUL_MULTI_MAX];
    float *X = malloc(sizeof(float) * (size_t)(n_in * nb));
    for (int64_t i = 0; i < n_in * nb; i++)
        X[i] = rndf();
    for (int i = 0; i < n; i++) {
        W[i] = make_w(types[i], n_in, n_outs[i]);
        ref[i] = malloc(sizeof(float) * (size_t)(n_outs[i] * nb));
        sp[i] = (smc_matmul_spec){types[i], W[i], n_outs[i], malloc(sizeof(float) * (size_t)(n_outs[i] * nb))};
        smc_matmul(NULL, types[i], W[i], n_in, n_outs[i], X, nb, ref[i]);
    }
    smc_matmul_multi(pool, n, sp, n_in, X, nb);
    for (int i = 0; i < n; i++) {
        CHECK_MSG(memcmp(ref[i], sp[i].Y, sizeof(float) * (size_t)(n_outs[i] * nb)) == 0,
                  "matrix %d of %d (type %d), n_in %lld, batch %lld, pool %d", i, n, types[i], (long long)n_in,
                  (long long)nb, pool != NULL);
        free(W[i]);
        free(ref[i]);
        free(sp[i].Y);
    }
    free(X);
}

void run_tests(void)
{
    smc_threadpool *pool = smc_threadpool_new(3);
    CHECK(pool != NULL);
    static const int qkv[3] = {SMC_TYPE_Q8_0, SMC_TYPE_Q8_0, SMC_TYPE_Q8_0};
    static const int mixed[4] = {SMC_TYPE_Q4_K, SMC_TYPE_Q8_0, SMC_TYPE_F16, SMC_TYPE_Q6_K};
    static const int q4[2] = {SMC_TYPE_Q4_0, SMC_TYPE_Q4_0};
    static const int64_t outs3[3] = {96, 32, 32}, outs4[4] = {40, 17, 256, 8}, outs2[2] = {200, 200};
    static const int64_t batches[] = {1, 3, 16, 70};
    for (int p = 0; p < 2; p++)
        for (int b = 0; b < 4; b++) {
            smc_threadpool *pl = p ? pool : NULL;
            check_group(pl, 3, qkv, outs3, 64, batches[b]);
            check_group(pl, 4, mixed, outs4, 256, batches[b]);
            check_group(pl, 2, q4, outs2, 96, batches[b]);
        }
    /* invalid: n_in not a block multiple, or too many matrices */
    float y = 5.0f, x[33] = {0};
    uint8_t w[64] = {0};
    smc_matmul_spec bad = {SMC_TYPE_Q8_0, w, 1, &y};
    smc_matmul_multi(pool, 1, &bad, 33, x, 1);
    CHECK(y == 5.0f);
    smc_matmul_multi(pool, SMC_MATMUL_MULTI_MAX + 1, &bad, 32, x, 1);
    CHECK(y == 5.0f);
    smc_threadpool_free(pool);
}
