/* bench_util.h — what the engine benchmarks share: a monotonic clock in
 * seconds, the "best of rounds" update, the rule for how many rounds to run,
 * a fixed pseudo-random fill, and the weight types with their SmolLM2-like
 * matrix shapes. Header-only; benchmarks are not tests. */
#ifndef SMC_BENCH_UTIL_H
#define SMC_BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* This process's CPU time in seconds: robust to a busy machine where the
 * measured code is single-threaded. */
static inline double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The best (smallest) time so far: robust to preemption on a busy machine. */
static inline double bench_best(double best, double t)
{
    return t < best ? t : best;
}

/* Whether to run round r: always the first min_rounds, then more while
 * under secs since start, never more than max_rounds. */
static inline bool bench_more_rounds(int r, int min_rounds, double start, double secs, int max_rounds)
{
    return r < min_rounds || (bench_now() - start < secs && r < max_rounds);
}

/* Uniform in [-1, 1) from a fixed LCG, so every run fills the same values. */
static inline float bench_frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 8388608.0f - 1.0f;
}

/* A weight type and the matrix shapes it is measured at (d_model x d_ff and
 * back; K-quants need rows in multiples of 256). */
typedef struct {
    const char *name;
    int type;
    int64_t d_model, d_ff;
} bench_type;

#endif
