/* test_smc_resample.c — resampling schemes: unbiased offspring counts (mean
 * offspring = m·w̄ within 4 standard errors of the multinomial bound),
 * floor/ceil properties, ESS and log-mean-exp against hand-computed values. */
#include "test.h"

#include "smc/prng.h"
#include "smcgen.h"

#define NW 7

static void check_scheme(smc_resample_scheme s, int m, int trials)
{
    /* Weights include a zero and a dominant one; given as logs with an offset. */
    const double w[NW] = {0.31, 0.02, 0.0, 0.17, 0.26, 0.005, 0.235};
    double logw[NW];
    for (int i = 0; i < NW; i++)
        logw[i] = w[i] > 0 ? log(w[i]) + 123.0 : -INFINITY;
    smc_rng rng;
    smc_prng_seed(&rng, 1000 + (uint64_t)s * 17 + (uint64_t)m);
    double sum[NW] = {0};
    int anc[64];
    int floor_ceil_bad = 0, residual_bad = 0, strat_bad = 0, sorted_bad = 0, zero_hit = 0;
    for (int t = 0; t < trials; t++) {
        if (smc_resample(s, logw, NW, m, &rng, anc) != 0) {
            CHECK(!"smc_resample failed");
            return;
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
            sum[i] += cnt[i];
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
    }
    if (s == SMC_RESAMPLE_SYSTEMATIC)
        CHECK_EQ_INT(floor_ceil_bad, 0);
    if (s == SMC_RESAMPLE_RESIDUAL)
        CHECK_EQ_INT(residual_bad, 0);
    if (s == SMC_RESAMPLE_STRATIFIED || s == SMC_RESAMPLE_SYSTEMATIC)
        CHECK_EQ_INT(strat_bad, 0);
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
        check_scheme((smc_resample_scheme)s, NW, trials);
        check_scheme((smc_resample_scheme)s, 20, trials);
        check_scheme((smc_resample_scheme)s, 3, trials);
    }
    check_power();

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
