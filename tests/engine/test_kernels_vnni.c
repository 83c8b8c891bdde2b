/* test_kernels_vnni.c — the AVX512-VNNI Q8_0/Q4_0 kernels (matmul_vnni_q.c)
 * give bit-identical outputs to the AVX2 kernels (matmul_avx2_q.c) for
 * random weights (quantised floats and raw random bytes, including the
 * Q8_0 value -128 the quantiser never writes), every batch width 1..19 and
 * odd row ranges. Skipped on CPUs without AVX2 or AVX512-VNNI. */
#include <stdint.h>

#include "engine/kernels.h"
#include "engine/quant_blocks.h"
#include "test.h"

#if defined(__x86_64__)
#include "engine/matmul_avx2.h"

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint32_t rnd32(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 16);
}
static float rndf(void)
{
    return (float)(rnd32() >> 8) / 8388608.0f - 1.0f;
}

/* n_out rows of type; raw: random bytes with a sane fp16 scale. */
static uint8_t *make_w(int type, int64_t n_in, int64_t n_out, bool raw)
{
    size_t rb = smc_row_bytes(type, n_in), bb = type == SMC_TYPE_Q8_0 ? 34 : 18;
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

static void check_type(int type, int64_t n_in, int64_t n_out, bool raw)
{
    smc_mm_kernel ka = smc_mm_kernel_avx2_q(type), kv = smc_mm_kernel_vnni_q(type);
    CHECK(ka != NULL);
    CHECK(kv != NULL);
    if (!ka || !kv)
        return;
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
    int mismatches = 0;
    for (int nb = 1; nb <= max_nb; nb++) {
        int64_t o0 = nb % 3, o1 = n_out - (nb % 5);
        for (int64_t i = 0; i < n_out * max_nb; i++)
            ya[i] = yv[i] = -7.0f;
        ka(W, rb, n_in, o0, o1, A, ab, nb, ya, n_out);
        kv(W, rb, n_in, o0, o1, A, ab, nb, yv, n_out);
        if (memcmp(ya, yv, sizeof(float) * (size_t)(n_out * max_nb)) != 0)
            mismatches++;
    }
    CHECK_MSG(mismatches == 0, "type %d n_in %lld n_out %lld raw %d: %d batch widths differ", type,
              (long long)n_in, (long long)n_out, raw, mismatches);
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
    static const int types[] = {SMC_TYPE_Q8_0, SMC_TYPE_Q4_0};
    for (int t = 0; t < 2; t++)
        for (int raw = 0; raw < 2; raw++) {
            check_type(types[t], 32, 13, raw);
            check_type(types[t], 576, 37, raw);
            check_type(types[t], 1536, 11, raw);
        }
    CHECK(smc_mm_kernel_vnni_q(SMC_TYPE_F16) == NULL);
}
#else
void run_tests(void)
{
    SKIP_ALL("x86-64 only");
}
#endif
