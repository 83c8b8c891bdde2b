/* test_smc_row_exp.c — the sampler's vectorised pass over a row of logits
 * (smc_row_exp) against long-double references: its exp within 2 ulp over
 * the whole range it serves ([-708, 0]), every e[v], the sum and the
 * log-sum-exp of random rows on every path (AVX-512, AVX2, scalar; rows of
 * every length mod 8, so the tails run), and NaN / ±inf / -inf logits. */
#include "test.h"

#include <stdint.h>

#include "smc/prng.h"
#include "smc/row_exp.h"

/* The paths smc_row_exp_force(level) leaves (the CPU's best may be either
 * vector path, or scalar on a CPU without AVX2). */
static const char *const path_name[3] = {"best", "AVX2 at most", "scalar"};

/* |got - want| in units of want's last place (2^-52 relative). */
static double ulps(double got, long double want)
{
    if (want == 0)
        return got == 0 ? 0 : INFINITY;
    return (double)(fabsl((long double)got - want) / (fabsl(want) * 0x1p-52L));
}

static void check_scalar_exp(void)
{
    double worst = 0, at = 0;
    int n = 200000;
    for (int i = 0; i <= n; i++) {
        double t = -708.0 * i / n;
        double u = ulps(smc_row_exp_scalar1(t), expl((long double)t));
        if (u > worst)
            worst = u, at = t;
    }
    /* points near the reduction's switch-overs k·ln2/2 */
    for (int k = -2040; k <= 0; k++) {
        double t = k * 0.34657359027997264;
        for (int d = -2; d <= 2; d++) {
            double s = nextafter(t, d < 0 ? -INFINITY : INFINITY);
            if (d == 0)
                s = t;
            if (s < -708.0 || s > 0)
                continue;
            double u = ulps(smc_row_exp_scalar1(s), expl((long double)s));
            if (u > worst)
                worst = u, at = s;
        }
    }
    CHECK_MSG(worst <= 2.0, "scalar exp off by %.2f ulp at t = %.17g", worst, at);
    CHECK(smc_row_exp_scalar1(0.0) == 1.0);
    CHECK(smc_row_exp_scalar1(-708.5) == 0.0);
    CHECK(smc_row_exp_scalar1(-INFINITY) == 0.0);
}

/* One random row of n logits (spread over ~60 nats, a few -inf), both paths. */
static void check_row(smc_rng *rng, size_t n, double inv, int level)
{
    float *x = malloc(sizeof *x * (n ? n : 1));
    double *e = malloc(sizeof *e * (n ? n : 1));
    for (size_t v = 0; v < n; v++) {
        double u = smc_prng_uniform(rng);
        x[v] = u < 0.02 ? -INFINITY : (float)(60.0 * smc_prng_uniform(rng) - 45.0);
    }
    smc_row_exp_force(level);
    double m, sum, lse = smc_row_exp(x, n, inv, e, &m, &sum);
    smc_row_exp_force(0);
    float mx = -INFINITY;
    for (size_t v = 0; v < n; v++)
        mx = x[v] > mx ? x[v] : mx;
    CHECK(m == (double)mx * inv);
    long double ref = 0, esum = 0;
    double worst = 0;
    for (size_t v = 0; v < n; v++) {
        double t = (double)x[v] * inv - m;
        long double want = t >= -708.0 ? expl((long double)t) : 0.0L;
        double u = ulps(e[v], want);
        worst = u > worst ? u : worst;
        ref += expl((long double)x[v] * inv - m);
        esum += e[v];
    }
    CHECK_MSG(worst <= 2.0, "row of %zu (%s): an e[v] off by %.2f ulp", n, path_name[level], worst);
    /* a sum of n doubles: within n·2^-53 relative */
    CHECK_MSG(fabsl((long double)sum - esum) <= (long double)n * 0x1p-53L * esum, "row of %zu: sum %.17g vs %.17Lg", n, sum, esum);
    if (mx == -INFINITY)
        CHECK(lse == -INFINITY);
    else
        CHECK_MSG(fabsl((long double)lse - (m + logl(ref))) <= 1e-13L, "row of %zu (%s): lse %.17g vs %.17Lg", n,
                  path_name[level], lse, m + logl(ref));
    free(x);
    free(e);
}

static void check_specials(void)
{
    double e[16], m, sum;
    for (int level = 0; level < 3; level++) {
        bool scalar = level == 2;
        smc_row_exp_force(level);
        float x[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
        x[scalar ? 11 : 2] = NAN; /* in the vector body and in the tail */
        CHECK(isnan(smc_row_exp(x, 13, 1.0, e, &m, &sum)));
        x[scalar ? 11 : 2] = INFINITY;
        CHECK(smc_row_exp(x, 13, 1.0, e, &m, &sum) == INFINITY);
        for (int v = 0; v < 13; v++)
            x[v] = -INFINITY;
        CHECK(smc_row_exp(x, 13, 1.0, e, &m, &sum) == -INFINITY);
        /* far below the largest: exactly 0, and the largest exactly 1 */
        for (int v = 0; v < 13; v++)
            x[v] = v == 5 ? 100.0f : -900.0f;
        double lse = smc_row_exp(x, 13, 1.0, e, &m, &sum);
        CHECK(lse == 100.0 && sum == 1.0 && e[5] == 1.0 && e[0] == 0.0 && e[12] == 0.0);
    }
    smc_row_exp_force(0);
}

void run_tests(void)
{
    check_scalar_exp();
    smc_rng rng;
    smc_prng_seed(&rng, 17);
    for (int level = 0; level < 3; level++) {
        for (size_t n = 0; n <= 40; n++)
            check_row(&rng, n, 1.0, level);
        check_row(&rng, 8192, 1.0, level);
        check_row(&rng, 8192, 1.0 / 0.7, level);
        check_row(&rng, 50257, 1.0 / 1.3, level);
    }
    check_specials();
}
