/* engine_kernels.c — benchmark of the matmul kernels (not a test).
 *
 * For Q8_0, F16, Q4_0 (plain and q4_0r) and Q4_K it builds about MB megabytes of weights (SmolLM2-
 * shaped 576x1536 and 1536x576 matrices, repeated; Q4_K uses 768x2048 and
 * 2048x768 since its rows need multiples of 256), then reports:
 *  - batch 1: weight bytes read per second, and that as a fraction of the
 *    memcpy bandwidth measured in the same run (bytes copied / second);
 *  - batches 4, 16, 64: columns per second relative to batch 1 (the
 *    tokens/s-equivalent speedup of decoding that many sequences at once).
 * q4_0r is Q4_0 repacked in 16-row groups (quant_q4r16.h), as models are
 * loaded on CPUs with AVX512-VNNI.
 * Usage: bench_engine_kernels [-t THREADS] [-m MB] [--scalar] [TYPE...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "engine/kernels.h"
#include "engine/quant_q4r16.h"

static const bench_type TYPES[] = {
    {"q8_0", SMC_TYPE_Q8_0, 576, 1536},
    {"f16", SMC_TYPE_F16, 576, 1536},
    {"q4_0", SMC_TYPE_Q4_0, 576, 1536},
    {"q4_0r", SMC_TYPE_Q4_0_R16, 576, 1536},
    {"q4_k", SMC_TYPE_Q4_K, 768, 2048},
    {"q6_k", SMC_TYPE_Q6_K, 768, 2048},
    {"q5_k", SMC_TYPE_Q5_K, 768, 2048},
    {"f32", SMC_TYPE_F32, 576, 1536},
    {"bf16", SMC_TYPE_BF16, 576, 1536},
    {"q4_1", SMC_TYPE_Q4_1, 576, 1536},
    {"q5_0", SMC_TYPE_Q5_0, 576, 1536},
    {"q5_1", SMC_TYPE_Q5_1, 576, 1536},
};

/* Timings are "best of rounds" per piece (1 MB of memcpy, one matrix) and
 * summed over the pieces, so that preemption on a busy machine (a pass of
 * 100 MB takes longer than a scheduler time slice) does not distort them. */
#define PIECE ((size_t)1 << 20)

typedef struct {
    char *a, *b;
    size_t bytes;
    double *best_copy, *best_read; /* per piece */
} copy_bufs;

static void round_memcpy(copy_bufs *c)
{
    for (size_t i = 0, k = 0; i < c->bytes; i += PIECE, k++) {
        size_t n = c->bytes - i < PIECE ? c->bytes - i : PIECE;
        double t = bench_now();
        memcpy(c->b + i, c->a + i, n);
        t = bench_now() - t;
        c->best_copy[k] = bench_best(c->best_copy[k], t);
    }
    c->a[0]++; /* keep the copies from being optimised away */
}

static void round_read(copy_bufs *c)
{
    static volatile uint64_t sink;
    for (size_t i = 0, k = 0; i < c->bytes; i += PIECE, k++) {
        size_t n = c->bytes - i < PIECE ? c->bytes - i : PIECE;
        const uint64_t *p = (const uint64_t *)(c->b + i);
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        double t = bench_now();
        for (size_t j = 0; j + 4 <= n / 8; j += 4) {
            s0 += p[j];
            s1 += p[j + 1];
            s2 += p[j + 2];
            s3 += p[j + 3];
        }
        t = bench_now() - t;
        sink += s0 + s1 + s2 + s3;
        c->best_read[k] = bench_best(c->best_read[k], t);
    }
    (void)sink; /* read once: clang counts a store-only variable as unused */
}

static double sum(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

/* One pass over every matrix, keeping each matrix's best time. */
static void round_matmul(smc_threadpool *pool, const bench_type *bt, uint8_t **mats, int n_mats, const float *X,
                         int64_t nb, float *Y, double *best)
{
    for (int m = 0; m < n_mats; m++) {
        int64_t n_in = (m & 1) ? bt->d_ff : bt->d_model, n_out = (m & 1) ? bt->d_model : bt->d_ff;
        double t = bench_now();
        smc_matmul(pool, bt->type, mats[m], n_in, n_out, X, nb, Y);
        t = bench_now() - t;
        best[m] = bench_best(best[m], t);
    }
}

static void reset(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = 1e30;
}

int main(int argc, char **argv)
{
    int threads = 0;
    double mb = 100;
    const char *want[32];
    int n_want = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-m") && i + 1 < argc)
            mb = atof(argv[++i]);
        else if (!strcmp(argv[i], "--scalar"))
            smc_kernels_force_scalar(true);
        else if (n_want < 32)
            want[n_want++] = argv[i];
    }
    smc_threadpool *pool = smc_threadpool_new(threads);
    if (!pool)
        return 1;
    size_t total = (size_t)(mb * 1e6);
    size_t n_pieces = (total + PIECE - 1) / PIECE;
    copy_bufs cb = {malloc(total), malloc(total), total, malloc(n_pieces * sizeof(double)),
                    malloc(n_pieces * sizeof(double))};
    if (!cb.a || !cb.b || !cb.best_copy || !cb.best_read)
        return 1;
    memset(cb.a, 1, total);
    memset(cb.b, 2, total);
    printf("kernels: %s, %d threads, %.0f MB of weights per type\n", smc_kernels_isa(), smc_threadpool_size(pool), mb);
    printf("memcpy: bytes copied per second by memcpy over %.0f MB (1 thread); read: one thread summing them.\n"
           "Rounds alternate memcpy, read and one pass over the matrices; figures sum the best time of each\n"
           "1 MB piece / each matrix over the rounds (robust to preemption on a busy machine).\n",
           mb);

    for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
        const bench_type *bt = &TYPES[t];
        bool on = n_want == 0 ? t < 5 : false;
        for (int i = 0; i < n_want; i++)
            on |= !strcmp(want[i], bt->name) || !strcmp(want[i], "all");
        if (!on)
            continue;
        int64_t n_el = bt->d_model * bt->d_ff;
        const int qt = smc_r16_base_type(bt->type);   /* the type quantised (q4_0r: Q4_0, then repacked) */
        size_t mat_bytes = smc_row_bytes(qt, bt->d_model) * (size_t)bt->d_ff;
        size_t mat_bytes2 = smc_row_bytes(qt, bt->d_ff) * (size_t)bt->d_model;
        int n_mats = (int)(total / (mat_bytes + mat_bytes2)) * 2;
        if (n_mats < 2)
            n_mats = 2;
        /* one pair quantised from random floats, copied to fill the rest */
        float *f = malloc(sizeof(float) * (size_t)n_el);
        unsigned s = 1;
        for (int64_t i = 0; i < n_el; i++)
            f[i] = bench_frand(&s) * 0.05f;
        uint8_t **mats = malloc(sizeof(uint8_t *) * (size_t)n_mats);
        for (int m = 0; m < n_mats; m++) {
            int64_t n_in = (m & 1) ? bt->d_ff : bt->d_model, n_out = (m & 1) ? bt->d_model : bt->d_ff;
            size_t rb = smc_row_bytes(qt, n_in);
            mats[m] = malloc(rb * (size_t)n_out);
            if (m < 2) {
                for (int64_t o = 0; o < n_out; o++)
                    smc_quantize_row(qt, f + o * n_in, mats[m] + (size_t)o * rb, n_in);
                if (bt->type == SMC_TYPE_Q4_0_R16)
                    smc_r16_repack(mats[m], rb, n_out);
            } else
                memcpy(mats[m], mats[m & 1], rb * (size_t)n_out);
        }
        free(f);
        size_t bytes = (size_t)(n_mats / 2) * (mat_bytes + mat_bytes2);
        int64_t maxb = 64, dmax = bt->d_ff;
        float *X = malloc(sizeof(float) * (size_t)(maxb * dmax)), *Y = malloc(sizeof(float) * (size_t)(maxb * dmax));
        for (int64_t i = 0; i < maxb * dmax; i++)
            X[i] = bench_frand(&s);
        double *best = malloc(sizeof(double) * (size_t)n_mats);
        reset(best, (size_t)n_mats);
        reset(cb.best_copy, n_pieces);
        reset(cb.best_read, n_pieces);
        round_matmul(pool, bt, mats, n_mats, X, 1, Y, best); /* warm up */
        reset(best, (size_t)n_mats);
        double start = bench_now();
        for (int r = 0; bench_more_rounds(r, 5, start, 3.0, 100); r++) {
            round_memcpy(&cb);
            round_read(&cb);
            round_matmul(pool, bt, mats, n_mats, X, 1, Y, best);
        }
        double t1 = sum(best, (size_t)n_mats);
        double gbps = (double)bytes / t1 / 1e9;
        double cp = (double)total / sum(cb.best_copy, n_pieces) / 1e9;
        double rd = (double)total / sum(cb.best_read, n_pieces) / 1e9;
        printf("%-5s batch  1: %6.2f GB/s of weights = %.2f x memcpy %.2f GB/s (%.2f x read %.2f GB/s), "
               "%.2f ms per %.0f MB pass\n",
               bt->name, gbps, gbps / cp, cp, gbps / rd, rd, t1 * 1e3, (double)bytes / 1e6);
        int64_t batches[] = {4, 16, 64};
        for (int b = 0; b < 3; b++) {
            reset(best, (size_t)n_mats);
            start = bench_now();
            for (int r = 0; bench_more_rounds(r, 3, start, 1.5, 50); r++)
                round_matmul(pool, bt, mats, n_mats, X, batches[b], Y, best);
            double tb = sum(best, (size_t)n_mats);
            printf("%-5s batch %2lld: %.2f x the columns/s of batch 1 (%.2f ms per pass)\n", bt->name,
                   (long long)batches[b], (double)batches[b] * t1 / tb, tb * 1e3);
        }
        free(best);
        for (int m = 0; m < n_mats; m++)
            free(mats[m]);
        free(mats);
        free(X);
        free(Y);
    }
    free(cb.a);
    free(cb.b);
    free(cb.best_copy);
    free(cb.best_read);
    smc_threadpool_free(pool);
    return 0;
}
