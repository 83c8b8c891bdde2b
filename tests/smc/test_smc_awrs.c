/* test_smc_awrs.c — the AWRS proposal: for a fixed next-token distribution
 * and allowed set, the mean weight estimate is the allowed mass (within 3
 * SE), the tokens follow the masked distribution (chi-squared), far fewer
 * checks than the vocabulary; and on a 5000-token random LM, importance
 * sampling with AWRS and with the full mask estimate the same Z. */
#include "test.h"

#include <stdlib.h>

#include "smc/awrs.h"
#include "smc/potential.h"
#include "smc/prng.h"
#include "smc/toy.h"
#include "smcgen.h"

#define V 50

static bool allowed[V];
static int allowed_fn(void *self, void *st, const char *t, size_t n, int32_t tok, smc_error *e)
{
    (void)self, (void)st, (void)t, (void)n, (void)e;
    return allowed[tok];
}
static double zero(void *self, void *st, const char *t, size_t n)
{
    (void)self, (void)st, (void)t, (void)n;
    return 0;
}
static const smc_potential_vtable allow_vt = {.prefix = zero, .complete = zero,
                                              .token_allowed = allowed_fn};

static void single_step(double top, int max_accepts, double allowed_frac, int trials, uint64_t seed)
{
    /* A peaked distribution: token 0 has mass `top`, the rest geometric. */
    double lp[V], p[V], s = 0;
    for (int v = 1; v < V; v++)
        s += (p[v] = pow(0.93, v));
    for (int v = 1; v < V; v++)
        p[v] *= (1 - top) / s;
    p[0] = top;
    double z = 0;
    smc_rng rng;
    smc_prng_seed(&rng, seed);
    for (int v = 0; v < V; v++) {
        allowed[v] = smc_prng_uniform(&rng) < allowed_frac;
        lp[v] = log(p[v]);
        z += allowed[v] ? p[v] : 0;
    }
    smc_potential *pot = smc_potential_new(&allow_vt, NULL, "allow", V, V - 1);
    smc_awrs *a = smc_awrs_new(V);
    double sum = 0, sum2 = 0;
    int counts[V] = {0};
    int64_t checks = 0;
    int bad = 0;
    for (int t = 0; t < trials; t++) {
        int32_t tok;
        double lz;
        smc_error err;
        if (smc_awrs_sample(a, lp, pot, NULL, "", 0, max_accepts, &rng, &tok, &lz, &checks, &err)) {
            bad++;
            continue;
        }
        if (z == 0) {
            bad += tok != -1 || lz != -INFINITY;
            continue;
        }
        if (tok < 0 || !allowed[tok]) {
            bad++;
            continue;
        }
        counts[tok]++;
        sum += exp(lz);
        sum2 += exp(2 * lz);
    }
    CHECK_EQ_INT(bad, 0);
    if (z > 0) {
        double mean = sum / trials, se = sqrt((sum2 / trials - mean * mean) / (trials - 1));
        double stat = 0;
        int df = -1;
        double pooled_e = 0, pooled_o = 0;
        for (int v = 0; v < V; v++) {
            if (!allowed[v])
                continue;
            double e = trials * p[v] / z;
            if (e < 5) {
                pooled_e += e;
                pooled_o += counts[v];
                continue;
            }
            stat += (counts[v] - e) * (counts[v] - e) / e;
            df++;
        }
        if (pooled_e > 0) {
            stat += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
            df++;
        }
        double zq = 3.090232, aa = 2.0 / (9.0 * (df > 0 ? df : 1));
        double thr = df > 0 ? df * pow(1 - aa + zq * sqrt(aa), 3) : 10.83;
        printf("  awrs top=%.2f r=%d allowed mass %.4f: mean Zhat %.4f (SE %.4f), chi2 %.1f "
               "(df %d, 99.9%% %.1f), %.2f checks/draw\n", top, max_accepts, z, mean, se, stat, df,
               thr, (double)checks / trials);
        CHECK_MSG(fabs(mean - z) <= 3 * se, "mean %.5f vs %.5f (SE %.5f)", mean, z, se);
        CHECK_MSG(stat < thr, "chi2 %.1f >= %.1f", stat, thr);
        CHECK((double)checks / trials < V);
    }
    smc_awrs_free(a);
    smc_potential_free(pot);
}

void run_tests(void)
{
    bool san = getenv("SMC_TEST_SANITIZED") != NULL;
    int trials = san ? 4000 : 40000;
    single_step(0.5, 2, 0.5, trials, 1);
    single_step(0.9, 2, 0.3, trials, 2);
    single_step(0.05, 3, 0.6, trials, 3);
    single_step(0.2, 2, 0.05, trials, 4);
    single_step(0.97, 2, 0.06, trials, 6); /* tiny allowed mass */
    single_step(0.3, 2, 0.0, 100, 5); /* nothing allowed: -inf, token -1 */

    /* A 5000-token random LM with the toy DFA: IS with AWRS and with the
     * full mask are both unbiased for the same Z. */
    smc_toy_lm *t = smc_toy_random_new(5000, 17, 1.5, 3.0);
    const smc_lm *lm = smc_toy_lm_iface(t);
    smc_toy_dfa *dfa = smc_toy_dfa_default();
    smc_potential *cheap = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_toy_dfa_potential(dfa, lm, true, &cheap, &err), 0);
    int runs = san ? 60 : 400;
    double m[2], se[2];
    int64_t checks = 0, steps = 0;
    for (int prop = 0; prop < 2; prop++) {
        double s = 0, s2 = 0;
        for (int k = 0; k < runs; k++) {
            smc_config c;
            smc_config_default(&c);
            c.method = SMC_METHOD_IS;
            c.n_particles = 8;
            c.max_tokens = 3;
            c.seed = 1000 + (uint64_t)k * 2 + (uint64_t)prop;
            c.proposal = prop ? SMC_PROPOSAL_AWRS : SMC_PROPOSAL_MASKED;
            smc_result *r = NULL;
            if (smc_run(lm, NULL, 0, cheap, NULL, &c, &r, &err) != 0) {
                CHECK_MSG(0, "%s", err.msg);
                break;
            }
            double z = exp(r->log_z);
            s += z;
            s2 += z * z;
            if (prop) {
                checks += r->n_constraint_checks;
                steps += r->n_lm_evals;
            }
            smc_result_free(r);
        }
        m[prop] = s / runs;
        se[prop] = sqrt((s2 / runs - m[prop] * m[prop]) / (runs - 1));
    }
    double d = fabs(m[0] - m[1]), sd = sqrt(se[0] * se[0] + se[1] * se[1]);
    printf("  V=5000 IS: masked mean Zhat %.5f (SE %.5f), awrs %.5f (SE %.5f); awrs %.2f checks "
           "per particle-step\n", m[0], se[0], m[1], se[1], (double)checks / (double)steps);
    CHECK_MSG(d <= 3 * sd, "masked vs awrs: %.5f vs %.5f (combined SE %.5f)", m[0], m[1], sd);
    CHECK((double)checks / (double)steps < 50);
    CHECK_EQ_INT(smc_toy_lm_live_states(t), 0);
    smc_potential_free(cheap);
    smc_toy_dfa_free(dfa);
    smc_toy_lm_free(t);
}
