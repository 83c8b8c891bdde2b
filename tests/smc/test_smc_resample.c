/* test_smc_resample.c — resampling schemes: unbiased offspring counts (mean
 * offspring = m·w̄ within 4 standard errors of the multinomial bound), the
 * variance of every particle's offspring count against each scheme's exact
 * value (so a stratified scheme with one shared or fixed offset fails),
 * floor/ceil properties, ESS and log-mean-exp against hand-computed values. */
#include "test.h"

#include "smc/prng.h"
#include "smcgen.h"

#define NW 7

/* Exact variance of particle i's offspring count for m draws from the
 * normalised weights w[0..n): multinomial m·w(1-w); stratified Σ_j p(1-p)
 * over strata j, p = the share of stratum j covered by particle i's CDF
 * interval; systematic f(1-f), f = frac(m·w) (the count is floor or ceil);
 * residual R·r(1-r) for the multinomial draw of the R leftover offspring. */
static double exact_var(smc_resample_scheme s, const double *w, int n, int m, int i)
{
    double mw = m * w[i], f = mw - floor(mw);
    switch (s) {
    case SMC_RESAMPLE_MULTINOMIAL:
        return mw * (1 - w[i]);
    case SMC_RESAMPLE_SYSTEMATIC:
        return f * (1 - f);
    case SMC_RESAMPLE_STRATIFIED: {
        double lo = 0;
        for (int k = 0; k < i; k++)
            lo += m * w[k];
        double hi = lo + mw, v = 0;
        for (int j = 0; j < m; j++) {
            double p = fmin(hi, j + 1.0) - fmax(lo, (double)j);
            if (p > 0)
                v += p * (1 - p);
        }
        return v;
    }
    case SMC_RESAMPLE_RESIDUAL: {
        double rest = m;
        for (int k = 0; k < n; k++)
            rest -= floor(m * w[k]);
        if (rest < 0.5)
            return 0;
        double r = f / rest;
        return rest * r * (1 - r);
    }
    }
    return NAN;
}

/* Draws with scheme s and checks it; the variances are compared with the
 * exact ones of scheme vs (= s, or another to show the check has power).
 * Returns the number of particles whose variance is off by > 5 SE. */
static int check_scheme(smc_resample_scheme s, smc_resample_scheme vs, int m, int trials)
{
    /* Weights include a zero and a dominant one; given as logs with an offset. */
    const double w[NW] = {0.31, 0.02, 0.0, 0.17, 0.26, 0.005, 0.235};
    double logw[NW];
    for (int i = 0; i < NW; i++)
        logw[i] = w[i] > 0 ? log(w[i]) + 123.0 : -INFINITY;
    smc_rng rng;
    smc_prng_seed(&rng, 1000 + (uint64_t)s * 17 + (uint64_t)m);
    double sum[NW] = {0}, sum2[NW] = {0}, sum3[NW] = {0}, sum4[NW] = {0};
    int anc[64];
    int var_bad = 0, floor_ceil_bad = 0, residual_bad = 0, strat_bad = 0, sorted_bad = 0, zero_hit = 0;
    for (int t = 0; t < trials; t++) {
        if (smc_resample(s, logw, NW, m, &rng, anc) != 0) {
            CHECK(!"smc_resample failed");
            return -1;
        }
        int cnt[NW] = {0};
        for (int j = 0; j < m; j++) {
            cnt[anc[j]]++;
            if (j && anc[j] < anc[j - 1])
                sorted_bad++;
        }
        zero_hit += cnt[2];
        for (int i = 0; i < NW; i++) {
            double mw = m * w[i];
            double c = cnt[i];
            sum[i] += c;
            sum2[i] += c * c;
            sum3[i] += c * c * c;
            sum4[i] += c * c * c * c;
            if (cnt[i] < floor(mw) - 1e-9 || cnt[i] > ceil(mw) + 1e-9)
                floor_ceil_bad++;
            if (cnt[i] < floor(mw + 1e-9))
                residual_bad++;
            if (fabs(cnt[i] - mw) >= 2)
                strat_bad++;
        }
    }
    CHECK_EQ_INT(sorted_bad, 0);
    CHECK_EQ_INT(zero_hit, 0);
    for (int i = 0; i < NW; i++) {
        double mean = sum[i] / trials, mw = m * w[i];
        double se = sqrt(m * w[i] * (1 - w[i]) / trials);
        CHECK_MSG(fabs(mean - mw) <= 4 * se + 1e-12, "%s m=%d particle %d: mean offspring %.4f, "
                  "expected %.4f (4 SE = %.4f)", smc_resample_name(s), m, i, mean, mw, 4 * se);
        /* Sample variance against the exact one, within 5 standard errors of
         * the variance estimate (from the sample's fourth central moment). */
        double m2 = sum2[i] / trials - mean * mean;
        double m4 = sum4[i] / trials - 4 * mean * sum3[i] / trials +
                    6 * mean * mean * sum2[i] / trials - 3 * mean * mean * mean * mean;
        double var = m2 * trials / (trials - 1), want = exact_var(vs, w, NW, m, i);
        double se_var = sqrt(fmax(m4 - m2 * m2, 0) / trials);
        /* + a second-order term: near f = 1/2 the delta-method SE vanishes
         * while the sample variance still moves by about var/trials */
        bool off = fabs(var - want) > 5 * se_var + 10 * want / trials + 1e-9;
        var_bad += off;
        if (s == vs)
            CHECK_MSG(!off, "%s m=%d particle %d: offspring variance %.4f, exact %.4f (5 SE = %.4f)",
                      smc_resample_name(s), m, i, var, want, 5 * se_var);
    }
    if (s == SMC_RESAMPLE_SYSTEMATIC)
        CHECK_EQ_INT(floor_ceil_bad, 0);
    if (s == SMC_RESAMPLE_RESIDUAL)
        CHECK_EQ_INT(residual_bad, 0);
    if (s == SMC_RESAMPLE_STRATIFIED || s == SMC_RESAMPLE_SYSTEMATIC)
        CHECK_EQ_INT(strat_bad, 0);
    return var_bad;
}

/* A deliberately wrong scheme (offspring ∝ sqrt(w)) must fail the same
 * statistic: shows the mean-offspring check has power. */
static void check_power(void)
{
    const double w[3] = {0.7, 0.2, 0.1};
    double lw[3];
    double z = sqrt(0.7) + sqrt(0.2) + sqrt(0.1);
    for (int i = 0; i < 3; i++)
        lw[i] = log(sqrt(w[i]) / z);
    smc_rng rng;
    smc_prng_seed(&rng, 5);
    int m = 10, trials = 4000, anc[10];
    double sum0 = 0;
    for (int t = 0; t < trials; t++) {
        smc_resample(SMC_RESAMPLE_MULTINOMIAL, lw, 3, m, &rng, anc);
        for (int j = 0; j < m; j++)
            sum0 += anc[j] == 0;
    }
    double se = sqrt(m * 0.7 * 0.3 / trials);
    CHECK(fabs(sum0 / trials - m * 0.7) > 4 * se);
}

void run_tests(void)
{
    int trials = getenv("SMC_TEST_SANITIZED") ? 3000 : 20000;
    for (int s = 0; s <= SMC_RESAMPLE_RESIDUAL; s++) {
        smc_resample_scheme rs = (smc_resample_scheme)s;
        check_scheme(rs, rs, NW, trials);
        check_scheme(rs, rs, 20, trials);
        check_scheme(rs, rs, 3, trials);
    }
    check_power();
    /* Power of the variance check: systematic draws (stratified with one
     * shared offset) and stratified draws must each fail the other's exact
     * variances, and multinomial must fail stratified's. */
    CHECK(check_scheme(SMC_RESAMPLE_SYSTEMATIC, SMC_RESAMPLE_STRATIFIED, NW, trials) >= 2);
    CHECK(check_scheme(SMC_RESAMPLE_STRATIFIED, SMC_RESAMPLE_SYSTEMATIC, NW, trials) >= 2);
    CHECK(check_scheme(SMC_RESAMPLE_MULTINOMIAL, SMC_RESAMPLE_STRATIFIED, NW, trials) >= 2);
    CHECK(check_scheme(SMC_RESAMPLE_MULTINOMIAL, SMC_RESAMPLE_RESIDUAL, NW, trials) >= 2);

    /* Names round-trip; unknown names fail. */
    for (int s = 0; s <= SMC_RESAMPLE_RESIDUAL; s++) {
        smc_resample_scheme o;
        CHECK_EQ_INT(smc_resample_parse(smc_resample_name((smc_resample_scheme)s), &o), 0);
        CHECK_EQ_INT(o, s);
    }
    smc_resample_scheme o;
    CHECK_EQ_INT(smc_resample_parse("bogus", &o), -1);

    /* All -inf: no resampling, ESS 0, log-mean-exp -inf (no NaN). */
    double dead[3] = {-INFINITY, -INFINITY, -INFINITY};
    int anc[3];
    smc_rng rng;
    smc_prng_seed(&rng, 1);
    CHECK_EQ_INT(smc_resample(SMC_RESAMPLE_STRATIFIED, dead, 3, 3, &rng, anc), -1);
    CHECK(smc_ess(dead, 3) == 0);
    CHECK(smc_log_mean_exp(dead, 3) == -INFINITY);

    /* ESS: equal weights give N, one live weight gives 1; (1,3) gives 1.6. */
    double eq[4] = {-2, -2, -2, -2}, one[4] = {0, -INFINITY, -INFINITY, -INFINITY};
    CHECK_NEAR(smc_ess(eq, 4), 4.0, 1e-12);
    CHECK_NEAR(smc_ess(one, 4), 1.0, 1e-12);
    double two[2] = {log(1.0), log(3.0)};
    CHECK_NEAR(smc_ess(two, 2), 1.0 / (0.0625 + 0.5625), 1e-12);
    CHECK_NEAR(smc_log_mean_exp(two, 2), log(2.0), 1e-12);
    double big[2] = {1000, 1000};
    CHECK_NEAR(smc_log_mean_exp(big, 2), 1000, 1e-9);

    /* The generator: uniform mean and range over many draws. */
    smc_prng_seed(&rng, 42);
    double s1 = 0;
    int n = 100000, out = 0;
    for (int i = 0; i < n; i++) {
        double u = smc_prng_uniform(&rng);
        out += u < 0 || u >= 1;
        s1 += u;
    }
    CHECK_EQ_INT(out, 0);
    CHECK_NEAR(s1 / n, 0.5, 4 * sqrt(1.0 / 12 / n));
    smc_rng a, b;
    smc_prng_seed(&a, 7);
    smc_prng_seed(&b, 7);
    CHECK(smc_prng_next(&a) == smc_prng_next(&b));
}
