/* row_exp.c — the sampler's pass over a row of logits (see row_exp.h): the
 * largest logit, then exp(x·inv − max) of every token and their sum, with a
 * polynomial exp that vectorises (AVX-512F, 8 doubles at a time, or AVX2+FMA,
 * 4) instead of
 * one libm call per token. */
#include "smc/row_exp.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ROW_EXP_X86 1
#endif

/* exp(t) = 2^k · exp(r), k = round(t / ln 2), r = t − k·ln 2 (ln 2 split in
 * two so k·LN2_HI is exact), |r| <= 0.347; exp(r) by its Taylor series to
 * r^13 (truncation < 5e-18 relative). */
#define EXP_MIN (-708.0)
static const double LOG2E = 1.4426950408889634;
static const double SHIFT = 0x1.8p52;              /* adding it rounds to an integer */
static const double LN2_HI = 0x1.62e42feep-1;
static const double LN2_LO = 0x1.a39ef35793c76p-33;
#define C2 (1.0 / 2)
#define C3 (1.0 / 6)
#define C4 (1.0 / 24)
#define C5 (1.0 / 120)
#define C6 (1.0 / 720)
#define C7 (1.0 / 5040)
#define C8 (1.0 / 40320)
#define C9 (1.0 / 362880)
#define C10 (1.0 / 3628800)
#define C11 (1.0 / 39916800)
#define C12 (1.0 / 479001600)
#define C13 (1.0 / 6227020800.0)
/* Horner's steps after C13: exp(r) = (((C13·r + C12)·r + ...)·r + 1)·r + 1. */
static const double COEF[] = {C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, 1.0, 1.0};
#define N_COEF ((int)(sizeof COEF / sizeof *COEF))

static atomic_int forced; /* 0: the best the CPU has; 1: AVX2 at most; 2: scalar */

void smc_row_exp_force(int level) { atomic_store(&forced, level < 0 ? 0 : level > 2 ? 2 : level); }

static inline double bits_to_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

double smc_row_exp_scalar1(double t)
{
    if (!(t >= EXP_MIN))
        return 0.0;
    double kd = (t * LOG2E + SHIFT) - SHIFT;
    double r = t - kd * LN2_HI;
    r = r - kd * LN2_LO;
    double p = C13;
#pragma GCC unroll 16
    for (int i = 0; i < N_COEF; i++)
        p = p * r + COEF[i];
    return p * bits_to_double((uint64_t)((int64_t)kd + 1023) << 52);
}

/* Σ e[v] with e[v] = exp(x[v]·inv − m) for v in [i0, n). */
static double row_scalar(const float *x, size_t i0, size_t n, double inv, double m, double *e)
{
    double s = 0;
    for (size_t v = i0; v < n; v++) {
        double t = (double)x[v] * inv;
        e[v] = smc_row_exp_scalar1(t - m);
        s += e[v];
    }
    return s;
}

#ifdef ROW_EXP_X86
__attribute__((target("avx2,fma"))) static double row_avx2(const float *x, size_t n, double inv, double m,
                                                           double *e)
{
    const __m256d vinv = _mm256_set1_pd(inv), vm = _mm256_set1_pd(m), lo = _mm256_set1_pd(EXP_MIN),
                  log2e = _mm256_set1_pd(LOG2E), shift = _mm256_set1_pd(SHIFT),
                  hi2 = _mm256_set1_pd(LN2_HI), lo2 = _mm256_set1_pd(LN2_LO);
    const __m256i bias = _mm256_set1_epi64x(1023 - (int64_t)0x4338000000000000); /* bits of SHIFT */
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    size_t v = 0;
    for (; v + 4 <= n; v += 4) {
        __m256d t = _mm256_sub_pd(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + v)), vinv), vm);
        __m256d live = _mm256_cmp_pd(t, lo, _CMP_GE_OQ);
        t = _mm256_max_pd(t, lo);
        __m256d y = _mm256_fmadd_pd(t, log2e, shift);
        __m256d kd = _mm256_sub_pd(y, shift);
        __m256d r = _mm256_fnmadd_pd(kd, hi2, t);
        r = _mm256_fnmadd_pd(kd, lo2, r);
        __m256d p = _mm256_set1_pd(C13);
#pragma GCC unroll 16
        for (int i = 0; i < N_COEF; i++)
            p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(COEF[i]));
        __m256i k = _mm256_add_epi64(_mm256_castpd_si256(y), bias);
        __m256d res = _mm256_mul_pd(p, _mm256_castsi256_pd(_mm256_slli_epi64(k, 52)));
        res = _mm256_and_pd(res, live);
        _mm256_storeu_pd(e + v, res);
        if (v & 4)
            s1 = _mm256_add_pd(s1, res);
        else
            s0 = _mm256_add_pd(s0, res);
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + row_scalar(x, v, n, inv, m, e);
}

/* row_avx2 on 8 doubles at a time (AVX-512F), the same steps. */
__attribute__((target("avx512f"))) static double row_avx512(const float *x, size_t n, double inv, double m,
                                                            double *e)
{
    const __m512d vinv = _mm512_set1_pd(inv), vm = _mm512_set1_pd(m), lo = _mm512_set1_pd(EXP_MIN),
                  log2e = _mm512_set1_pd(LOG2E), shift = _mm512_set1_pd(SHIFT),
                  hi2 = _mm512_set1_pd(LN2_HI), lo2 = _mm512_set1_pd(LN2_LO);
    const __m512i bias = _mm512_set1_epi64(1023 - (int64_t)0x4338000000000000); /* bits of SHIFT */
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    size_t v = 0;
    for (; v + 8 <= n; v += 8) {
        __m512d t = _mm512_sub_pd(_mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + v)), vinv), vm);
        __mmask8 live = _mm512_cmp_pd_mask(t, lo, _CMP_GE_OQ);
        t = _mm512_max_pd(t, lo);
        __m512d y = _mm512_fmadd_pd(t, log2e, shift);
        __m512d kd = _mm512_sub_pd(y, shift);
        __m512d r = _mm512_fnmadd_pd(kd, hi2, t);
        r = _mm512_fnmadd_pd(kd, lo2, r);
        __m512d p = _mm512_set1_pd(C13);
#pragma GCC unroll 16
        for (int i = 0; i < N_COEF; i++)
            p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(COEF[i]));
        __m512i k = _mm512_add_epi64(_mm512_castpd_si512(y), bias);
        __m512d res = _mm512_maskz_mul_pd(live, p, _mm512_castsi512_pd(_mm512_slli_epi64(k, 52)));
        _mm512_storeu_pd(e + v, res);
        if (v & 8)
            s1 = _mm512_add_pd(s1, res);
        else
            s0 = _mm512_add_pd(s0, res);
    }
    double lanes[8];
    _mm512_storeu_pd(lanes, _mm512_add_pd(s0, s1));
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])) +
           row_scalar(x, v, n, inv, m, e);
}

/* The largest of x[0..n); NaN when one is NaN. */
__attribute__((target("avx2"))) static float max_avx2(const float *x, size_t n)
{
    __m256 mx = _mm256_set1_ps(-INFINITY), nan = _mm256_setzero_ps();
    size_t v = 0;
    for (; v + 8 <= n; v += 8) {
        __m256 a = _mm256_loadu_ps(x + v);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
        mx = _mm256_max_ps(mx, a);
    }
    float lanes[8], m = -INFINITY;
    _mm256_storeu_ps(lanes, mx);
    bool has_nan = _mm256_movemask_ps(nan) != 0;
    for (int k = 0; k < 8; k++)
        m = lanes[k] > m ? lanes[k] : m;
    for (; v < n; v++) {
        has_nan |= x[v] != x[v];
        m = x[v] > m ? x[v] : m;
    }
    return has_nan ? NAN : m;
}

/* 2: AVX-512F, 1: AVX2+FMA, 0: scalar (the CPU's best, less what
 * smc_row_exp_force takes away). */
static int vector_level(void)
{
    static atomic_int cached = -1;
    int c = atomic_load(&cached);
    if (c < 0) {
        __builtin_cpu_init();
        c = !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 0
            : __builtin_cpu_supports("avx512f")                                ? 2
                                                                               : 1;
        atomic_store(&cached, c);
    }
    int cap = 2 - atomic_load(&forced);
    return c < cap ? c : cap;
}
#endif

static float max_scalar(const float *x, size_t n)
{
    float m = -INFINITY;
    bool has_nan = false;
    for (size_t v = 0; v < n; v++) {
        has_nan |= x[v] != x[v];
        m = x[v] > m ? x[v] : m;
    }
    return has_nan ? NAN : m;
}

double smc_row_exp(const float *x, size_t n, double inv, double *e, double *m, double *sum)
{
    *sum = 0;
#ifdef ROW_EXP_X86
    int level = vector_level();
    float mx = level ? max_avx2(x, n) : max_scalar(x, n);
#else
    float mx = max_scalar(x, n);
#endif
    *m = (double)mx * inv; /* x·inv is monotone in x: the largest x·inv */
    if (isnan(*m) || isinf(*m))
        return *m;
#ifdef ROW_EXP_X86
    double s = level == 2 ? row_avx512(x, n, inv, *m, e)
               : level    ? row_avx2(x, n, inv, *m, e)
                          : row_scalar(x, 0, n, inv, *m, e);
#else
    double s = row_scalar(x, 0, n, inv, *m, e);
#endif
    *sum = s;
    return *m + log(s);
}
