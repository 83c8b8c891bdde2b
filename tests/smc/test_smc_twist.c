/* test_smc_twist.c — power against twist bookkeeping mistakes: a toy critic
 * whose prefix values (the twists) are large and differ strongly from its
 * complete values, so that a twist left in a weight at a boundary, at the
 * end, or across a resampling copy biases the target by factors of e² and
 * more. smc-full on the toy bigram LM + DFA must still give an unbiased Ẑ and
 * an unbiased Ẑ·π̂(B) for every bin B of strings (exact at any particle
 * count, unlike a χ² of one draw, whose O(1/N) bias strong weights expose)
 * against the exact enumeration; both checks are shown to have power by the
 * same runs scored against the twist-left-in target. */
#include "test.h"

#include <stdlib.h>

#include "smc/prng.h"
#include "smc/toy.h"
#include "smcgen.h"
#include "toy_target.h"

#define MAXT 4

/* Prefix: +2 per 'c', -1.5 per 'd', -inf with three or more 'c'. Complete:
 * +0.5 when the text ends in 'd', else 0 (no trace of the prefix value).
 * Boundaries: after a token ending in 'c' or 'd'. */
static double strong_prefix_score(const char *s, size_t n)
{
    int c = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        c += s[i] == 'c';
        d += s[i] == 'd';
    }
    return c >= 3 ? -INFINITY : 2.0 * c - 1.5 * d;
}
static double strong_complete_score(const char *s, size_t n)
{
    if (strong_prefix_score(s, n) == -INFINITY)
        return -INFINITY;
    return n && s[n - 1] == 'd' ? 0.5 : 0.0;
}
static double strong_prefix(void *self, void *st, const char *t, size_t n)
{
    (void)self, (void)st;
    return strong_prefix_score(t, n);
}
static double strong_complete(void *self, void *st, const char *t, size_t n)
{
    (void)self, (void)st;
    return strong_complete_score(t, n);
}
static bool strong_boundary(void *self, const char *t, size_t n, size_t n_new)
{
    (void)self;
    return n_new > 0 && n > 0 && (t[n - 1] == 'c' || t[n - 1] == 'd');
}
static const smc_potential_vtable strong_vt = {
    .prefix = strong_prefix, .complete = strong_complete, .is_boundary = strong_boundary};

static toy_exact *E;
static int *code_index;
static double *w_target, z_target; /* p_LM · Φ_cheap · exp(complete) */
static double *w_wrong, z_wrong;   /* the same times exp(last prefix): twist left in */
static const smc_lm *lm;
static smc_potential *cheap, *strong;
static bool at_critic; /* smc_config.resample_at_critic for run_smc */

static smc_result *run_smc(uint64_t seed, int n, smc_resample_scheme rs, double ess)
{
    smc_config c;
    smc_config_default(&c);
    c.method = SMC_METHOD_SMC_FULL;
    c.n_particles = n;
    c.resample = rs;
    c.ess_threshold = ess;
    c.seed = seed;
    c.max_tokens = MAXT;
    c.resample_at_critic = at_critic;
    smc_result *r = NULL;
    smc_error err = {{0}};
    if (smc_run(lm, NULL, 0, cheap, strong, &c, &r, &err) != 0)
        fprintf(stderr, "smc_run: %s\n", err.msg);
    return r;
}

/* Mean Ẑ over runs vs the exact Z (3 SE); vs the wrong Z it must be far. */
static void check_z(smc_resample_scheme rs, double ess, int runs)
{
    double s = 0, s2 = 0;
    int bad = 0;
    for (int k = 0; k < runs; k++) {
        smc_result *r = run_smc(7000 + (uint64_t)k * 131 + (uint64_t)rs, 8, rs, ess);
        if (!r) {
            bad++;
            continue;
        }
        double z = exp(r->log_z);
        s += z;
        s2 += z * z;
        smc_result_free(r);
    }
    CHECK_EQ_INT(bad, 0);
    double mean = s / runs, se = sqrt((s2 / runs - mean * mean) / (runs - 1));
    printf("  strong twists, %s ess %.1f%s, %d runs: mean Zhat %.6f, Z %.6f (SE %.6f, %.2f SE); "
           "Z with the twist left in %.6f\n", smc_resample_name(rs), ess, at_critic ? " at critic steps" : "", runs, mean, z_target, se,
           (mean - z_target) / se, z_wrong);
    CHECK_MSG(fabs(mean - z_target) <= 3 * se, "mean Zhat %.6f vs Z %.6f (SE %.6f)", mean,
              z_target, se);
    CHECK(fabs(z_wrong - z_target) > 20 * se);
}

/* Exact for any N: E[Ẑ · π̂(B)] = Z · π(B) for every set B of strings
 * (π̂ = the run's posterior). Bins: each string with at least 0.5% of the
 * target, the rest pooled. Returns the largest |z| of the bins' means over
 * runs against target w (unnormalised); *max_z2 the same against w2. */
static double gamma_test(const double *w, const double *w2, int runs, int n, double *max_z2)
{
    int *bin = malloc(sizeof *bin * (size_t)E->n);
    int nb = 0;
    for (int i = 0; i < E->n; i++)
        bin[i] = w[i] / z_target >= 0.005 ? nb++ : -1;
    int pool = nb++;
    double *want = calloc((size_t)nb, sizeof *want), *want2 = calloc((size_t)nb, sizeof *want2);
    double *sum = calloc((size_t)nb, sizeof *sum), *sum2 = calloc((size_t)nb, sizeof *sum2);
    double *g = calloc((size_t)nb, sizeof *g);
    for (int i = 0; i < E->n; i++) {
        if (bin[i] < 0)
            bin[i] = pool;
        want[bin[i]] += w[i];
        want2[bin[i]] += w2[i];
    }
    int bad = 0, outside = 0;
    for (int k = 0; k < runs; k++) {
        smc_result *r = run_smc(300000 + (uint64_t)k * 7919, n, SMC_RESAMPLE_STRATIFIED, 0.5);
        if (!r) {
            bad++;
            continue;
        }
        memset(g, 0, sizeof *g * (size_t)nb);
        double z = exp(r->log_z);
        for (int j = 0; j < r->n_posterior; j++) {
            int idx = toy_find(E, code_index, r->posterior[j].text, r->posterior[j].len);
            if (idx < 0)
                outside++;
            else
                g[bin[idx]] += z * r->posterior[j].prob;
        }
        for (int b = 0; b < nb; b++) {
            sum[b] += g[b];
            sum2[b] += g[b] * g[b];
        }
        smc_result_free(r);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(outside, 0);
    double max_z = 0;
    *max_z2 = 0;
    for (int b = 0; b < nb; b++) {
        double mean = sum[b] / runs, var = (sum2[b] / runs - mean * mean) * runs / (runs - 1);
        double se = sqrt(fmax(var, 0) / runs) + 1e-300;
        max_z = fmax(max_z, fabs(mean - want[b]) / se);
        *max_z2 = fmax(*max_z2, fabs(mean - want2[b]) / se);
    }
    printf("  E[Zhat * posterior(bin)] over %d runs, N=%d, %d bins: largest |z| %.2f (against the "
           "twist-left-in target %.1f)\n", runs, n, nb, max_z, *max_z2);
    free(bin);
    free(want);
    free(want2);
    free(sum);
    free(sum2);
    free(g);
    return max_z;
}

void run_tests(void)
{
    E = malloc(sizeof *E);
    code_index = malloc(sizeof *code_index * 117650);
    w_target = malloc(sizeof *w_target * 20000);
    w_wrong = malloc(sizeof *w_wrong * 20000);
    for (int i = 0; i < 117650; i++)
        code_index[i] = -1;
    toy_enumerate(E, MAXT);
    z_target = z_wrong = 0;
    for (int i = 0; i < E->n; i++) {
        code_index[toy_code(E->str[i], E->len[i])] = i;
        double cs = strong_complete_score(E->str[i], (size_t)E->len[i]);
        double ps = strong_prefix_score(E->str[i], (size_t)E->len[i]);
        w_target[i] = E->w_cheap[i] * exp(cs);
        w_wrong[i] = cs == -INFINITY ? 0 : w_target[i] * exp(ps);
        z_target += w_target[i];
        z_wrong += w_wrong[i];
    }
    smc_toy_lm *lm_obj = smc_toy_bigram_new(TOY_NSYM, toy_logits);
    lm = smc_toy_lm_iface(lm_obj);
    smc_toy_dfa *dfa = smc_toy_dfa_default();
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_toy_dfa_potential(dfa, lm, true, &cheap, &err), 0);
    strong = smc_potential_new(&strong_vt, NULL, "strong-twist", 0, -1);
    if (!cheap || !strong)
        return;

    /* The prefix and complete values really do differ strongly. */
    CHECK(z_wrong > 1.5 * z_target);

    int runs = 2000;   /* cheap (toy LM), also under sanitizers: the tails need the runs */
    check_z(SMC_RESAMPLE_STRATIFIED, 0.5, runs);
    check_z(SMC_RESAMPLE_MULTINOMIAL, 1.0, runs);  /* resample at every step */
    check_z(SMC_RESAMPLE_SYSTEMATIC, 0.0, runs);   /* never resample: pure twisting */
    /* Resampling only after steps where the critic scored: still exact, and
     * it does skip steps (fewer resamples than testing after every token). */
    long n_step = 0, n_critic = 0;
    for (int k = 0; k < 300; k++)
        for (int a = 0; a < 2; a++) {
            at_critic = a;
            smc_result *r = run_smc(9100 + (uint64_t)k, 8, SMC_RESAMPLE_STRATIFIED, 1.0);
            CHECK(r != NULL);
            if (r)
                *(a ? &n_critic : &n_step) += r->n_resamples;
            smc_result_free(r);
        }
    printf("  resamples over 300 runs at ESS threshold 1: %ld after every step, %ld at critic steps\n", n_step,
           n_critic);
    CHECK(n_critic > 0 && n_critic < n_step);
    at_critic = true;
    check_z(SMC_RESAMPLE_STRATIFIED, 1.0, runs);
    at_critic = false;

    /* Every bin's Ẑ-weighted posterior mass is unbiased (4 SE: about 40
     * bins, fixed seeds); the twist-left-in target is far off. */
    double other;
    double zmax = gamma_test(w_target, w_wrong, 3000, 8, &other);
    CHECK_MSG(zmax < 4, "a bin's E[Zhat * posterior] is %.2f SE from the exact value", zmax);
    CHECK_MSG(other > 10, "the twist-left-in target is only %.2f SE away", other);

    smc_potential_free(cheap);
    smc_potential_free(strong);
    smc_toy_dfa_free(dfa);
    smc_toy_lm_free(lm_obj);
    free(code_index);
    free(w_target);
    free(w_wrong);
    free(E);
}
