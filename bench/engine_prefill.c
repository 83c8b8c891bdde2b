/* engine_prefill.c — benchmark of the prompt-processing matmuls against the
 * core's FMA peak measured in the same run (not a test).
 *
 * Peak: a loop of independent FMAs on 256-bit and on 512-bit registers
 * (12 accumulator chains, no loads) gives FLOP/s per thread.
 * GEMM: for each weight type, SmolLM2-shaped 576x1536 and 1536x576 matrices
 * times 64 activation columns (one micro-batch of a prompt), once with the
 * kernels the CPU gets (AVX-512 where it has it) and once with AVX2 forced.
 * Rounds alternate the peak loops and the GEMMs; every figure keeps the best
 * time of each piece over the rounds (robust to preemption on a busy
 * machine), and the ratios to peak come from the same rounds.
 * --cols N: N activation columns instead of 64 (e.g. 256, a prompt's
 * micro-batch: the 64-column chunks then share each 64-row block of weights).
 * --dims D,FF: D x FF and FF x D matrices instead of the type's (e.g.
 * 896,4864: Qwen2.5-0.5B's FFN).
 * A second line per type gives the default kernels per CPU-second (process
 * CPU time, best of the rounds): on a loaded machine the wall-clock best
 * of a GEMM that runs longer than a scheduler time slice (256 columns of
 * 896 x 4864: ~10-30 ms) still includes preemptions, the CPU time does not.
 * Usage: bench_engine_prefill [-t THREADS] [--time S] [--cols N] [--dims D,FF] [TYPE...]  (types:
 * f16 q8_0 q4_0 q4_k f32 bf16; default f16 q8_0 q4_0 q4_k) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "engine/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define PEAK_ITERS 20000
#define CHAINS 12

static volatile float sink;

/* FLOPs of one call: PEAK_ITERS x CHAINS FMAs of LANES lanes, 2 FLOPs each. */
#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void peak256(void)
{
    __m256 a[CHAINS], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++)
        a[i] = _mm256_set1_ps((float)i);
    for (int it = 0; it < PEAK_ITERS; it++)
#pragma GCC unroll 12
        for (int i = 0; i < CHAINS; i++)
            a[i] = _mm256_fmadd_ps(a[i], m, c);
    __m256 s = a[0];
    for (int i = 1; i < CHAINS; i++)
        s = _mm256_add_ps(s, a[i]);
    sink = _mm256_cvtss_f32(s);
}

__attribute__((target("avx512f"))) static void peak512(void)
{
    __m512 a[CHAINS], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++)
        a[i] = _mm512_set1_ps((float)i);
    for (int it = 0; it < PEAK_ITERS; it++)
#pragma GCC unroll 12
        for (int i = 0; i < CHAINS; i++)
            a[i] = _mm512_fmadd_ps(a[i], m, c);
    __m512 s = a[0];
    for (int i = 1; i < CHAINS; i++)
        s = _mm512_add_ps(s, a[i]);
    sink = _mm512_reduce_add_ps(s);
}
#endif

static const bench_type TYPES[] = {
    {"f16", SMC_TYPE_F16, 576, 1536},   {"q8_0", SMC_TYPE_Q8_0, 576, 1536}, {"q4_0", SMC_TYPE_Q4_0, 576, 1536},
    {"q4_k", SMC_TYPE_Q4_K, 768, 2048}, {"f32", SMC_TYPE_F32, 576, 1536},   {"bf16", SMC_TYPE_BF16, 576, 1536},
};

static int n_cols = 64;              /* activation columns (--cols) */
static int n_threads = 1;           /* -t */
static int64_t dims_model, dims_ff; /* --dims D,FF: matrix shapes instead of the type's */

static void bench(smc_threadpool *pool, const bench_type *bt0, double secs, double peak512, double peak256)
{
    unsigned s = 7;
    bench_type dims = *bt0;
    if (dims_model > 0)
        dims.d_model = dims_model, dims.d_ff = dims_ff;
    const bench_type *bt = &dims;
    uint8_t *W[2];
    for (int m = 0; m < 2; m++) {
        int64_t n_in = m ? bt->d_ff : bt->d_model, n_out = m ? bt->d_model : bt->d_ff;
        size_t rb = smc_row_bytes(bt->type, n_in);
        float *row = malloc(sizeof(float) * (size_t)n_in);
        W[m] = malloc(rb * (size_t)n_out);
        for (int64_t o = 0; o < n_out; o++) {
            for (int64_t i = 0; i < n_in; i++)
                row[i] = bench_frand(&s) * 0.05f;
            smc_quantize_row(bt->type, row, W[m] + (size_t)o * rb, n_in);
        }
        free(row);
    }
    float *X = malloc(sizeof(float) * (size_t)(n_cols * bt->d_ff));
    float *Y = malloc(sizeof(float) * (size_t)(n_cols * bt->d_ff));
    for (int64_t i = 0; i < n_cols * bt->d_ff; i++)
        X[i] = bench_frand(&s);
    /* [path][matrix]: 0 = default kernels, 1 = AVX2 forced */
    double best[2][2] = {{1e30, 1e30}, {1e30, 1e30}}, cpu[2] = {1e30, 1e30};
    double start = bench_now();
    for (int r = 0; bench_more_rounds(r, 3, start, secs, 200); r++)
        for (int path = 0; path < 2; path++) {
            smc_kernels_force_avx2(path == 1);
            for (int m = 0; m < 2; m++) {
                int64_t n_in = m ? bt->d_ff : bt->d_model, n_out = m ? bt->d_model : bt->d_ff;
                double t = bench_now(), c = bench_cpu_now();
                smc_matmul(pool, bt->type, W[m], n_in, n_out, X, n_cols, Y);
                best[path][m] = bench_best(best[path][m], bench_now() - t);
                if (path == 0)
                    cpu[m] = bench_best(cpu[m], bench_cpu_now() - c);
            }
        }
    smc_kernels_force_avx2(false);
    double flops = 2.0 * 2.0 * (double)bt->d_model * (double)bt->d_ff * n_cols;
    double g0 = flops / (best[0][0] + best[0][1]), g1 = flops / (best[1][0] + best[1][1]);
    printf("%-5s %-16s %6.1f GFLOP/s = %.2f of 512-bit peak, %.2f of 256-bit | avx2 forced %6.1f = %.2f, %.2f | "
           "%.2fx\n",
           bt->name, smc_kernels_isa(), g0 / 1e9, g0 / peak512, g0 / peak256, g1 / 1e9, g1 / peak512, g1 / peak256,
           g0 / g1);
    /* per CPU-second (the process's CPU time, best of the rounds): what a
     * busy machine leaves of the kernel's speed when it preempts a long
     * GEMM (wall-clock rounds of ~10 ms rarely run unpreempted at a load of
     * 8 on 2 cores), against one thread's peak */
    double gc = flops / (cpu[0] + cpu[1]);
    printf("      per CPU-second     %6.1f GFLOP/s = %.2f of one thread's %s peak\n", gc / 1e9,
           gc / (peak512 / n_threads), smc_cpu_has_avx512() ? "512-bit" : "256-bit");
    free(W[0]);
    free(W[1]);
    free(X);
    free(Y);
}

int main(int argc, char **argv)
{
    int threads = 1;
    double secs = 2.0;
    const char *want[16];
    int n_want = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc)
            threads = n_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--time") && i + 1 < argc)
            secs = atof(argv[++i]);
        else if (!strcmp(argv[i], "--cols") && i + 1 < argc)
            n_cols = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 64;
        else if (!strcmp(argv[i], "--dims") && i + 1 < argc) {
            long long d, f;
            if (sscanf(argv[++i], "%lld,%lld", &d, &f) != 2 || d <= 0 || f <= 0) {
                fprintf(stderr, "--dims wants D,FF (e.g. 896,4864)\n");
                return 2;
            }
            dims_model = d, dims_ff = f;
        } else if (n_want < 16)
            want[n_want++] = argv[i];
    }
#if defined(__x86_64__)
    if (!smc_cpu_has_avx2_fma()) {
        printf("this CPU lacks AVX2+FMA: no peak to compare with\n");
        return 0;
    }
    bool has512 = smc_cpu_has_avx512();
    double b256 = 1e30, b512 = 1e30;
    double start = bench_now();
    for (int r = 0; bench_more_rounds(r, 5, start, 0.5, 500); r++) {
        double t = bench_now();
        peak256();
        b256 = bench_best(b256, bench_now() - t);
        if (has512) {
            t = bench_now();
            peak512();
            b512 = bench_best(b512, bench_now() - t);
        }
    }
    double f256 = 2.0 * 8 * CHAINS * PEAK_ITERS / b256, f512 = has512 ? 2.0 * 16 * CHAINS * PEAK_ITERS / b512 : 0;
    smc_threadpool *pool = threads > 1 ? smc_threadpool_new(threads) : NULL;
    printf("FMA peak of one thread: %.1f GFLOP/s on 256-bit registers, %.1f GFLOP/s on 512-bit (%s)\n", f256 / 1e9,
           f512 / 1e9, has512 ? "measured" : "no AVX-512");
    printf("prefill GEMM, %d columns, %d thread(s)%s; fractions of the peaks x threads:\n", n_cols, threads,
           dims_model > 0 ? ", --dims" : "");
    for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
        bool on = n_want == 0 ? t < 4 : false;
        for (int i = 0; i < n_want; i++)
            on |= !strcmp(want[i], TYPES[t].name);
        if (on)
            bench(pool, &TYPES[t], secs, (has512 ? f512 : f256) * threads, f256 * threads);
    }
    smc_threadpool_free(pool);
#else
    (void)secs, (void)want, (void)n_want, (void)threads, (void)bench;
    printf("no x86-64: no FMA peak loop\n");
#endif
    return 0;
}
