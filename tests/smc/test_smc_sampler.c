/* test_smc_sampler.c — statistical tests of smc_run on the toy bigram LM with
 * the toy DFA constraint and toy critic, against an exact enumeration of the
 * target: unbiased Ẑ for every weighted method and resampling scheme, a
 * chi-squared test of the weighted samples, bias of lcd (and of smc without
 * the weight correction), KL falling with particles, EOS forcing, all -inf
 * weights, critic boundaries, determinism, JSON, and batched critic calls
 * (score_batch) giving bit-identical runs. */
#include "test.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "smc/potential.h"
#include "smc/prng.h"
#include "smc/toy.h"
#include "smcgen.h"
#include "toy_target.h"
#include "util/error.h"

static toy_exact *E;          /* enumeration up to MAXT tokens */
static int *code_index;       /* toy_code -> index in E */
static smc_toy_lm *lm_obj;
static const smc_lm *lm;
static smc_toy_dfa *dfa;
static smc_potential *cheap, *cheap_slow, *critic;
static int64_t critic_calls;
static bool sanitized;

#define MAXT 4

static smc_result *run1(smc_method m, int n, smc_resample_scheme rs, uint64_t seed, int max_tokens,
                        bool slow, bool no_corr, smc_proposal prop)
{
    smc_config c;
    smc_config_default(&c);
    c.method = m;
    c.n_particles = n;
    c.resample = rs;
    c.seed = seed;
    c.max_tokens = max_tokens;
    c.no_weight_correction = no_corr;
    c.proposal = prop;
    smc_result *r = NULL;
    smc_error err = {{0}};
    if (smc_run(lm, NULL, 0, slow ? cheap_slow : cheap, critic, &c, &r, &err) != 0) {
        fprintf(stderr, "smc_run: %s\n", err.msg);
        return NULL;
    }
    if (smc_toy_lm_live_states(lm_obj) != 0) {
        fprintf(stderr, "LM states leaked: %lld\n", (long long)smc_toy_lm_live_states(lm_obj));
        smc_result_free(r);
        return NULL;
    }
    return r;
}

static const double *target_w(smc_method m)
{
    return (m == SMC_METHOD_IS_FULL || m == SMC_METHOD_SMC_FULL) ? E->w_full : E->w_cheap;
}
static double target_z(smc_method m)
{
    return (m == SMC_METHOD_IS_FULL || m == SMC_METHOD_SMC_FULL) ? E->z_full : E->z_cheap;
}

/* Mean of Ẑ over runs within 3 standard errors of the exact Z. */
static void check_unbiased(smc_method m, smc_resample_scheme rs, smc_proposal prop, int n, int runs)
{
    double s = 0, s2 = 0;
    int bad = 0;
    for (int k = 0; k < runs; k++) {
        smc_result *r = run1(m, n, rs, 90000 + (uint64_t)k * 7919 + (uint64_t)rs * 31 + (uint64_t)m,
                             MAXT, false, false, prop);
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
    double mean = s / runs, var = (s2 / runs - mean * mean) * runs / (runs - 1);
    double se = sqrt(var / runs), z = target_z(m);
    printf("  unbiased %-8s %-11s %s N=%d runs=%d: mean Zhat %.6f, Z %.6f, SE %.6f (%.2f SE)\n",
           smc_method_name(m), smc_resample_name(rs), prop == SMC_PROPOSAL_AWRS ? "awrs  " : "masked",
           n, runs, mean, z, se, (mean - z) / se);
    CHECK(se > 0);
    CHECK_MSG(fabs(mean - z) <= 3 * se, "%s/%s: mean Zhat %.6f vs Z %.6f (SE %.6f)",
              smc_method_name(m), smc_resample_name(rs), mean, z, se);
}

/* Chi-squared of one weighted draw per run against the exact target.
 * Returns the statistic; *threshold receives the 99.9% quantile. */
static double chi2_draws(smc_method m, int n, int runs, bool no_corr, smc_proposal prop,
                         const double *w, double zw, double *threshold, int *df_out, int *dead_out)
{
    /* Bins: strings with expected count >= 8, the rest pooled. */
    int *bin = malloc(sizeof *bin * (size_t)E->n);
    int nb = 0;
    for (int i = 0; i < E->n; i++) {
        double e = runs * w[i] / zw;
        if (e >= 8)
            bin[i] = nb++;
        else {
            bin[i] = -1;
        }
    }
    int pool_bin = nb++;
    double *expct = calloc((size_t)nb, sizeof *expct), *obs = calloc((size_t)nb, sizeof *obs);
    for (int i = 0; i < E->n; i++) {
        if (bin[i] < 0)
            bin[i] = pool_bin;
        expct[bin[i]] += runs * w[i] / zw;
    }
    smc_rng pick;
    smc_prng_seed(&pick, 4242 + (uint64_t)m + (no_corr ? 100 : 0));
    int failed = 0, outside = 0;
    for (int k = 0; k < runs; k++) {
        smc_result *r = run1(m, n, SMC_RESAMPLE_STRATIFIED, 500000 + (uint64_t)k * 104729 + (uint64_t)m,
                             MAXT, false, no_corr, prop);
        if (!r || r->all_dead) {
            failed++;
            smc_result_free(r);
            continue;
        }
        double u = smc_prng_uniform(&pick), c = 0;
        int j = 0;
        for (; j < r->n_posterior - 1; j++) {
            c += r->posterior[j].prob;
            if (u < c)
                break;
        }
        int idx = toy_find(E, code_index, r->posterior[j].text, r->posterior[j].len);
        if (idx < 0)
            outside++;
        else
            obs[bin[idx]] += 1;
        smc_result_free(r);
    }
    *dead_out = failed;
    CHECK_EQ_INT(outside, 0);
    /* Expected counts for the draws actually made (runs with a result). */
    double kept = (double)(runs - failed) / runs;
    for (int b = 0; b < nb; b++)
        expct[b] *= kept;
    double stat = 0;
    for (int b = 0; b < nb; b++)
        if (expct[b] > 0)
            stat += (obs[b] - expct[b]) * (obs[b] - expct[b]) / expct[b];
        else if (obs[b] > 0)
            stat = INFINITY;
    int df = nb - 1;
    /* Wilson-Hilferty: the 99.9% quantile of chi-squared(df). */
    double z = 3.090232, a = 2.0 / (9.0 * df);
    *threshold = df * pow(1 - a + z * sqrt(a), 3);
    *df_out = df;
    free(bin);
    free(expct);
    free(obs);
    return stat;
}

static void test_chi2(void)
{
    int runs = sanitized ? 300 : 3000, n = sanitized ? 16 : 64;
    struct {
        smc_method m;
        bool no_corr;
        smc_proposal prop;
        bool expect_pass;
        const char *what;
    } cases[] = {
        {SMC_METHOD_SMC_FULL, false, SMC_PROPOSAL_MASKED, true, "smc-full"},
        {SMC_METHOD_SMC, false, SMC_PROPOSAL_MASKED, true, "smc"},
        {SMC_METHOD_IS, false, SMC_PROPOSAL_MASKED, true, "is"},
        {SMC_METHOD_SMC, false, SMC_PROPOSAL_AWRS, true, "smc (awrs)"},
        {SMC_METHOD_LCD, false, SMC_PROPOSAL_MASKED, false, "lcd (must be biased)"},
        {SMC_METHOD_SMC, true, SMC_PROPOSAL_MASKED, false, "smc without weight correction"},
        {SMC_METHOD_SMC_FULL, true, SMC_PROPOSAL_MASKED, false, "smc-full without weight correction"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sanitized && i >= 2 && cases[i].expect_pass)
            continue;
        double thr;
        int df, dead;
        /* lcd is compared with the grammar-only target it approximates. */
        smc_method tm = cases[i].m == SMC_METHOD_LCD ? SMC_METHOD_SMC : cases[i].m;
        int nn = cases[i].m == SMC_METHOD_LCD ? 1 : n;
        double stat = chi2_draws(cases[i].m, nn, runs, cases[i].no_corr, cases[i].prop,
                                 target_w(tm), target_z(tm), &thr, &df, &dead);
        printf("  chi2 %-36s N=%d runs=%d: stat %.1f, df %d, 99.9%% threshold %.1f, %d runs dead\n",
               cases[i].what, nn, runs, stat, df, thr, dead);
        /* Only lcd (one particle, no weights) may end with nothing valid. */
        if (cases[i].m != SMC_METHOD_LCD)
            CHECK_EQ_INT(dead, 0);
        if (cases[i].expect_pass)
            CHECK_MSG(stat < thr, "%s: chi2 %.1f >= %.1f (df %d)", cases[i].what, stat, thr, df);
        else
            CHECK_MSG(stat > thr, "%s: chi2 %.1f <= %.1f (df %d): bias not detected", cases[i].what,
                      stat, thr, df);
    }
}

static void test_unbiased(void)
{
    int runs = sanitized ? 150 : 1500, n = 8;
    for (int rs = 0; rs <= SMC_RESAMPLE_RESIDUAL; rs++) {
        check_unbiased(SMC_METHOD_SMC, (smc_resample_scheme)rs, SMC_PROPOSAL_MASKED, n, runs);
        check_unbiased(SMC_METHOD_SMC_FULL, (smc_resample_scheme)rs, SMC_PROPOSAL_MASKED, n, runs);
    }
    check_unbiased(SMC_METHOD_IS, SMC_RESAMPLE_STRATIFIED, SMC_PROPOSAL_MASKED, n, runs);
    check_unbiased(SMC_METHOD_IS_FULL, SMC_RESAMPLE_STRATIFIED, SMC_PROPOSAL_MASKED, n, runs);
    check_unbiased(SMC_METHOD_SMC, SMC_RESAMPLE_STRATIFIED, SMC_PROPOSAL_AWRS, n, runs);
    check_unbiased(SMC_METHOD_SMC_FULL, SMC_RESAMPLE_MULTINOMIAL, SMC_PROPOSAL_AWRS, n, runs);

    /* Power: without the correction the mean of Ẑ is far from Z. */
    double s = 0;
    int runs2 = sanitized ? 100 : 400;
    for (int k = 0; k < runs2; k++) {
        smc_result *r = run1(SMC_METHOD_SMC, n, SMC_RESAMPLE_STRATIFIED, 77 + (uint64_t)k, MAXT,
                             false, true, SMC_PROPOSAL_MASKED);
        if (r)
            s += exp(r->log_z);
        smc_result_free(r);
    }
    CHECK(fabs(s / runs2 - E->z_cheap) > 0.2 * E->z_cheap);
}

/* KL(estimate || exact) of the posterior over distinct strings. */
static void test_kl(void)
{
    int ns[] = {2, 4, 8, 16, 32, 64};
    double kl[6];
    int runs = sanitized ? 40 : 300;
    printf("  KL(posterior estimate || exact), smc-full, mean over %d runs:\n", runs);
    for (int a = 0; a < 6; a++) {
        double s = 0;
        for (int k = 0; k < runs; k++) {
            smc_result *r = run1(SMC_METHOD_SMC_FULL, ns[a], SMC_RESAMPLE_STRATIFIED,
                                 31337 + (uint64_t)k * 13 + (uint64_t)ns[a] * 100003, MAXT, false,
                                 false, SMC_PROPOSAL_MASKED);
            if (!r)
                continue;
            double d = 0;
            for (int j = 0; j < r->n_posterior; j++) {
                int idx = toy_find(E, code_index, r->posterior[j].text, r->posterior[j].len);
                double g = idx < 0 ? 0 : E->w_full[idx] / E->z_full;
                d += r->posterior[j].prob * log(r->posterior[j].prob / g);
            }
            s += d;
            smc_result_free(r);
        }
        kl[a] = s / runs;
        printf("    N=%2d  KL=%.4f\n", ns[a], kl[a]);
    }
    CHECK(isfinite(kl[0]) && isfinite(kl[5]));
    CHECK_MSG(kl[5] < 0.5 * kl[0], "KL at N=64 (%.4f) not below half of N=2 (%.4f)", kl[5], kl[0]);
    for (int a = 1; a < 6; a++)
        CHECK_MSG(kl[a] < kl[a - 1] * 1.05, "KL did not fall from N=%d to N=%d", ns[a - 1], ns[a]);
}

/* Weights without resampling, checked particle by particle: the sum of the
 * per-step log masses plus the critic's complete score (twists telescope). */
static void test_weights_and_boundaries(void)
{
    smc_config c;
    smc_config_default(&c);
    c.method = SMC_METHOD_SMC_FULL;
    c.ess_threshold = 0; /* twist but never resample */
    c.n_particles = 200;
    c.max_tokens = 5;
    c.seed = 11;
    smc_result *r = NULL;
    smc_error err = {{0}};
    critic_calls = 0;
    CHECK_EQ_INT(smc_run(lm, NULL, 0, cheap, critic, &c, &r, &err), 0);
    if (!r)
        return;
    CHECK_EQ_INT(r->n_resamples, 0);
    int64_t expect_calls = 0;
    int bad_w = 0, bad_eos = 0, dead = 0;
    for (int i = 0; i < r->n_particles; i++) {
        const smc_particle_out *p = &r->particles[i];
        double lw = 0;
        int prev = -1;
        for (size_t t = 0; t < p->len; t++)
            expect_calls += p->text[t] == 'c' || p->text[t] == 'd';
        /* Σ_t log Σ_allowed p(v | prefix) over generated steps. */
        for (size_t t = 0; t <= p->len; t++) {
            char buf[TOY_MAXLEN + 2];
            memcpy(buf, p->text, t);
            double z = 0;
            bool forced = t == (size_t)c.max_tokens;
            for (int v = 0; v < TOY_V; v++) {
                bool ok;
                if (v == 6)
                    ok = toy_rules_ok(buf, (int)t);
                else {
                    buf[t] = (char)('a' + v);
                    ok = !forced && toy_rules_prefix_ok(buf, (int)t + 1);
                }
                if (ok)
                    z += exp(toy_logp(prev, v));
            }
            lw += log(z);
            if (t < p->len)
                prev = p->text[t] - 'a';
        }
        double expect = lw + toy_critic_exact(p->text, (int)p->len);
        if (p->log_weight == -INFINITY) {
            dead++;
            if (expect != -INFINITY && toy_critic_exact(p->text, (int)p->len) != -INFINITY &&
                smc_toy_critic_prefix_score(p->text, p->len) != -INFINITY)
                bad_w++;
        } else if (fabs(p->log_weight - expect) > 1e-6 /* float logits */) {
            if (bad_w < 3)
                fprintf(stderr, "weight of \"%s\": %.9f, expected %.9f\n", p->text, p->log_weight, expect);
            bad_w++;
        }
        if (p->n_tokens < 1 || p->tokens[p->n_tokens - 1] != lm->eos)
            if (p->log_weight != -INFINITY)
                bad_eos++;
        if (p->forced_eos != (p->n_tokens == c.max_tokens + 1) && p->log_weight != -INFINITY)
            bad_eos++;
    }
    CHECK_EQ_INT(bad_w, 0);
    CHECK_EQ_INT(bad_eos, 0);
    CHECK(dead > 0); /* some particles hit two 'e's: killed at a boundary or at EOS */
    CHECK_EQ_INT(critic_calls, expect_calls);
    printf("  boundaries: %lld critic prefix calls for %d particles (%d dead)\n",
           (long long)critic_calls, r->n_particles, dead);
    smc_result_free(r);

    /* is-full: the critic is only applied at the end: no prefix calls. */
    critic_calls = 0;
    c.method = SMC_METHOD_IS_FULL;
    CHECK_EQ_INT(smc_run(lm, NULL, 0, cheap, critic, &c, &r, &err), 0);
    CHECK_EQ_INT(critic_calls, 0);
    smc_result_free(r);
}

static void test_forcing_and_dead(void)
{
    /* max_tokens 2: every particle ends in EOS after at most 2 tokens, none
     * dropped; Ẑ still unbiased for the target truncated to 2 tokens. */
    toy_exact *E2 = malloc(sizeof *E2);
    toy_enumerate(E2, 2);
    int runs = sanitized ? 150 : 1500, forced = 0, total = 0;
    double s = 0, s2 = 0;
    for (int k = 0; k < runs; k++) {
        smc_result *r = run1(SMC_METHOD_SMC, 6, SMC_RESAMPLE_SYSTEMATIC, 5 + (uint64_t)k, 2, false,
                             false, SMC_PROPOSAL_MASKED);
        if (!r)
            continue;
        CHECK_EQ_INT(r->n_particles, 6);
        for (int i = 0; i < r->n_particles; i++) {
            const smc_particle_out *p = &r->particles[i];
            total++;
            forced += p->forced_eos;
            if (p->n_tokens > 3 || p->tokens[p->n_tokens - 1] != lm->eos || p->len > 2)
                CHECK(!"particle longer than max_tokens or without EOS");
        }
        double z = exp(r->log_z);
        s += z;
        s2 += z * z;
        smc_result_free(r);
    }
    double mean = s / runs, se = sqrt((s2 / runs - mean * mean) / (runs - 1));
    printf("  max_tokens=2: %d of %d particles forced; mean Zhat %.6f vs Z %.6f (SE %.6f)\n",
           forced, total, mean, E2->z_cheap, se);
    CHECK(forced > total / 10);
    CHECK_MSG(fabs(mean - E2->z_cheap) <= 3 * se, "truncated Z: %.6f vs %.6f", mean, E2->z_cheap);
    free(E2);

    /* max_tokens 0: the empty string is not in the language, so every
     * weight is -inf: a clear result, no NaN. */
    smc_result *r = run1(SMC_METHOD_SMC_FULL, 5, SMC_RESAMPLE_STRATIFIED, 1, 0, false, false,
                         SMC_PROPOSAL_MASKED);
    CHECK(r != NULL);
    if (r) {
        CHECK(r->all_dead);
        CHECK(r->log_z == -INFINITY);
        CHECK_EQ_INT(r->n_posterior, 0);
        CHECK(r->ess == 0 && !isnan(r->ess));
        for (int i = 0; i < r->n_particles; i++)
            CHECK(r->particles[i].log_weight == -INFINITY);
        char *json = NULL;
        smc_error err = {{0}};
        CHECK_EQ_INT(smc_result_to_json(r, true, &json, &err), 0);
        cJSON *j = json ? cJSON_Parse(json) : NULL;
        CHECK(j && cJSON_IsNull(cJSON_GetObjectItem(j, "log_z")));
        CHECK(j && cJSON_IsTrue(cJSON_GetObjectItem(j, "all_dead")));
        cJSON_Delete(j);
        free(json);
        smc_result_free(r);
    }
}

static void progress_cb(void *ud, int step, int n_active, double ess)
{
    int *calls = ud;
    calls[0]++;
    if (step != calls[0] || n_active < 0 || !(ess >= 0))
        calls[1]++;
}

static double inf_score(void *self, void *st, const char *t, size_t n)
{
    (void)self, (void)st, (void)t, (void)n;
    return INFINITY;
}
static const smc_potential_vtable inf_vt = {.prefix = inf_score, .complete = inf_score};

static void test_misc(void)
{
    /* Determinism and seeds. */
    smc_result *a = run1(SMC_METHOD_SMC_FULL, 16, SMC_RESAMPLE_STRATIFIED, 99, 5, false, false,
                         SMC_PROPOSAL_MASKED);
    smc_result *b = run1(SMC_METHOD_SMC_FULL, 16, SMC_RESAMPLE_STRATIFIED, 99, 5, false, false,
                         SMC_PROPOSAL_MASKED);
    smc_result *c = run1(SMC_METHOD_SMC_FULL, 16, SMC_RESAMPLE_STRATIFIED, 100, 5, false, false,
                         SMC_PROPOSAL_MASKED);
    CHECK(a && b && c);
    if (a && b && c) {
        int same = 1, same_c = 1;
        for (int i = 0; i < 16; i++) {
            same &= strcmp(a->particles[i].text, b->particles[i].text) == 0 &&
                    (a->particles[i].log_weight == b->particles[i].log_weight);
            same_c &= strcmp(a->particles[i].text, c->particles[i].text) == 0;
        }
        CHECK(same);
        CHECK(!same_c);
        CHECK(a->log_z == b->log_z);
        /* One batched LM call per step. */
        CHECK(a->n_steps > 0 && a->n_steps <= 6);
        double psum = 0;
        for (int i = 0; i < a->n_posterior; i++)
            psum += a->posterior[i].prob;
        CHECK_NEAR(psum, 1.0, 1e-9);
        for (int i = 1; i < a->n_posterior; i++)
            CHECK(a->posterior[i].prob <= a->posterior[i - 1].prob);
        /* JSON carries the posterior and the particles. */
        char *json = NULL;
        smc_error err = {{0}};
        CHECK_EQ_INT(smc_result_to_json(a, true, &json, &err), 0);
        cJSON *j = json ? cJSON_Parse(json) : NULL;
        CHECK(j != NULL);
        if (j) {
            CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "method")), "smc-full");
            CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "log_z")), a->log_z, 1e-9);
            CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "posterior")), a->n_posterior);
            CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "particle_list")), 16);
            CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "ess_trace")), a->n_steps);
            CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "tokens")), a->n_tokens);
            CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "forced_tokens")), a->n_forced);
            CHECK(a->n_tokens > 0);
            cJSON_Delete(j);
        }
        free(json);
    }
    smc_result_free(a);
    smc_result_free(b);
    smc_result_free(c);

    /* The slow mask path (per-token tries in the Boolean adapter) gives the
     * same particles as the precomputed mask. */
    a = run1(SMC_METHOD_SMC, 12, SMC_RESAMPLE_RESIDUAL, 3, 4, false, false, SMC_PROPOSAL_MASKED);
    b = run1(SMC_METHOD_SMC, 12, SMC_RESAMPLE_RESIDUAL, 3, 4, true, false, SMC_PROPOSAL_MASKED);
    CHECK(a && b);
    if (a && b) {
        int same = 1;
        for (int i = 0; i < 12; i++)
            same &= strcmp(a->particles[i].text, b->particles[i].text) == 0 &&
                    (a->particles[i].log_weight == b->particles[i].log_weight ||
                     fabs(a->particles[i].log_weight - b->particles[i].log_weight) < 1e-12);
        CHECK(same);
    }
    smc_result_free(a);
    smc_result_free(b);

    /* lcd, plain: weights ignored (0); plain ignores the constraint. */
    a = run1(SMC_METHOD_LCD, 20, SMC_RESAMPLE_STRATIFIED, 8, 4, false, false, SMC_PROPOSAL_MASKED);
    b = run1(SMC_METHOD_PLAIN, 200, SMC_RESAMPLE_STRATIFIED, 8, 4, false, false, SMC_PROPOSAL_MASKED);
    CHECK(a && b);
    if (a && b) {
        /* lcd particles are valid unless forced to end where EOS is not
         * allowed (then -inf). */
        int nonzero = 0, invalid_lcd = 0, invalid_plain = 0;
        for (int i = 0; i < 20; i++) {
            const smc_particle_out *p = &a->particles[i];
            bool ok = toy_rules_ok(p->text, (int)p->len);
            nonzero += p->log_weight != (ok ? 0.0 : -INFINITY);
            invalid_lcd += !ok && !(p->forced_eos && p->log_weight == -INFINITY);
        }
        for (int i = 0; i < 200; i++)
            invalid_plain += !toy_rules_ok(b->particles[i].text, (int)b->particles[i].len);
        CHECK_EQ_INT(nonzero, 0);
        CHECK_EQ_INT(invalid_lcd, 0);
        CHECK(invalid_plain > 0);
        CHECK_EQ_INT(a->n_resamples, 0);
    }
    smc_result_free(a);
    smc_result_free(b);

    /* The progress callback runs once per step with the step number. */
    {
        int calls[2] = {0, 0};
        smc_config pc;
        smc_config_default(&pc);
        pc.max_tokens = 4;
        pc.n_particles = 8;
        pc.progress = progress_cb;
        pc.progress_ud = calls;
        smc_result *pr = NULL;
        smc_error perr = {{0}};
        CHECK_EQ_INT(smc_run(lm, NULL, 0, cheap, critic, &pc, &pr, &perr), 0);
        if (pr) {
            CHECK_EQ_INT(calls[0], pr->n_steps);
            CHECK_EQ_INT(calls[1], 0);
            smc_result_free(pr);
        }
    }

    /* A critic returning +inf is an error, not a NaN. */
    {
        smc_potential *inf = smc_potential_new(&inf_vt, NULL, "inf", 0, -1);
        smc_config ic;
        smc_config_default(&ic);
        smc_result *ir = NULL;
        smc_error ierr = {{0}};
        CHECK_EQ_INT(smc_run(lm, NULL, 0, cheap, inf, &ic, &ir, &ierr), -1);
        CHECK(strstr(ierr.msg, "+inf") != NULL);
        CHECK_EQ_INT(smc_toy_lm_live_states(lm_obj), 0);
        smc_potential_free(inf);
    }

    /* Bad configurations fail with a message, not a crash. */
    smc_config cfg;
    smc_config_default(&cfg);
    smc_result *r = NULL;
    smc_error err = {{0}};
    cfg.n_particles = 0;
    CHECK_EQ_INT(smc_run(lm, NULL, 0, cheap, critic, &cfg, &r, &err), -1);
    CHECK(strstr(err.msg, "particles") != NULL);
    smc_config_default(&cfg);
    cfg.ess_threshold = 1.5;
    CHECK_EQ_INT(smc_run(lm, NULL, 0, cheap, critic, &cfg, &r, &err), -1);
    smc_config_default(&cfg);
    cfg.method = SMC_METHOD_SMC_FULL;
    CHECK_EQ_INT(smc_run(lm, NULL, 0, cheap, NULL, &cfg, &r, &err), -1);
    CHECK(strstr(err.msg, "critic") != NULL);
    cfg.temperature = 0;
    CHECK_EQ_INT(smc_run(lm, NULL, 0, cheap, critic, &cfg, &r, &err), -1);
    smc_config_default(&cfg);
    cfg.proposal = SMC_PROPOSAL_AWRS;
    cfg.method = SMC_METHOD_SMC;
    CHECK_EQ_INT(smc_run(lm, NULL, 0, critic, NULL, &cfg, &r, &err), -1); /* not token-level */
    int32_t bad_prompt = 99;
    smc_config_default(&cfg);
    CHECK_EQ_INT(smc_run(lm, &bad_prompt, 1, cheap, critic, &cfg, &r, &err), -1);
    CHECK(r == NULL);
    CHECK_EQ_INT(smc_toy_lm_live_states(lm_obj), 0);

    /* Method names round-trip. */
    for (int m = 0; m <= SMC_METHOD_SMC_FULL; m++) {
        smc_method o;
        CHECK_EQ_INT(smc_method_parse(smc_method_name((smc_method)m), &o), 0);
        CHECK_EQ_INT(o, m);
    }
    smc_method o;
    CHECK_EQ_INT(smc_method_parse("smcfull", &o), -1);
}

/* Temperature: the target uses the locally tempered LM; Ẑ is unbiased for
 * its exact normaliser (and differs from the untempered one). rerank: lcd
 * samples weighted by the critic's complete score only. */
static void test_temperature_and_rerank(void)
{
    toy_exact *Et = malloc(sizeof *Et);
    toy_enumerate_t(Et, MAXT, 0.6);
    int runs = sanitized ? 150 : 1500;
    double s = 0, s2 = 0;
    for (int k = 0; k < runs; k++) {
        smc_config c;
        smc_config_default(&c);
        c.method = SMC_METHOD_SMC_FULL;
        c.n_particles = 8;
        c.max_tokens = MAXT;
        c.temperature = 0.6;
        c.seed = 600 + (uint64_t)k;
        smc_result *r = NULL;
        smc_error err = {{0}};
        if (smc_run(lm, NULL, 0, cheap, critic, &c, &r, &err) != 0) {
            CHECK_MSG(0, "%s", err.msg);
            break;
        }
        double z = exp(r->log_z);
        s += z;
        s2 += z * z;
        smc_result_free(r);
    }
    double mean = s / runs, se = sqrt((s2 / runs - mean * mean) / (runs - 1));
    printf("  temperature 0.6: mean Zhat %.6f vs Z_T %.6f (SE %.6f); Z at T=1 is %.6f\n", mean,
           Et->z_full, se, E->z_full);
    CHECK_MSG(fabs(mean - Et->z_full) <= 3 * se, "tempered Z: %.6f vs %.6f", mean, Et->z_full);
    CHECK(fabs(Et->z_full - E->z_full) > 6 * se);
    free(Et);

    smc_result *r = run1(SMC_METHOD_RERANK, 50, SMC_RESAMPLE_STRATIFIED, 4, MAXT, false, false,
                         SMC_PROPOSAL_MASKED);
    CHECK(r != NULL);
    if (r) {
        int bad = 0;
        for (int i = 0; i < r->n_particles; i++) {
            const smc_particle_out *p = &r->particles[i];
            double want = toy_rules_ok(p->text, (int)p->len)
                              ? toy_critic_exact(p->text, (int)p->len) : -INFINITY;
            bad += !(p->log_weight == want || fabs(p->log_weight - want) < 1e-12);
        }
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(r->n_resamples, 0);
        smc_result_free(r);
    }
}

static void test_enumeration(void)
{
    /* The toy DFA and critic agree with the rules written out here. */
    int bad = 0;
    for (int i = 0; i < E->n; i++) {
        int st = smc_toy_dfa_run(dfa, E->str[i], (size_t)E->len[i]);
        bool acc = st >= 0 && dfa->accepting[st];
        bad += acc != toy_rules_ok(E->str[i], E->len[i]);
        bad += (st >= 0) != toy_rules_prefix_ok(E->str[i], E->len[i]);
        double c = smc_toy_critic_complete_score(E->str[i], (size_t)E->len[i]);
        double x = toy_critic_exact(E->str[i], E->len[i]);
        bad += !(c == x || fabs(c - x) < 1e-12);
    }
    CHECK_EQ_INT(bad, 0);
    /* Sum over all strings up to length L of p_LM(x EOS) + P(len > L) = 1. */
    double tail = 0;
    /* P(no EOS in first MAXT+1 tokens)... checked through the normaliser of
     * the truncated target: z_lm < 1 and the full-length mass sums below 1. */
    tail = 1 - E->z_lm;
    CHECK(tail > 0 && tail < 0.5);
    printf("  exact (<= %d tokens): Z_lm %.6f, Z_cheap %.6f, Z_full %.6f over %d strings\n", MAXT,
           E->z_lm, E->z_cheap, E->z_full, E->n);
}

/* The toy critic's scores through a batch hook, computed from the last
 * request to the first, counting calls and requests. */
static int64_t batch_calls, batch_prefixes, batch_completes;
static int toy_batch(void *self, int n, const smc_score_request *reqs, double *out, smc_error *err)
{
    (void)self, (void)err;
    batch_calls++;
    for (int i = n - 1; i >= 0; i--) {
        const smc_score_request *r = &reqs[i];
        batch_completes += r->complete;
        batch_prefixes += !r->complete;
        out[i] = r->complete ? smc_toy_critic_complete_score(r->text, r->len)
                             : smc_toy_critic_prefix_score(r->text, r->len);
    }
    return 0;
}

static int failing_batch(void *self, int n, const smc_score_request *reqs, double *out,
                         smc_error *err)
{
    (void)self, (void)n, (void)reqs, (void)out;
    return smc_fail(err, "the batch service is down");
}

static smc_result *run_critic(smc_potential *crit, smc_method m, uint64_t seed, int n)
{
    smc_config c;
    smc_config_default(&c);
    c.method = m;
    c.n_particles = n;
    c.seed = seed;
    c.max_tokens = 6;
    smc_result *r = NULL;
    smc_error err = {{0}};
    if (smc_run(lm, NULL, 0, cheap, crit, &c, &r, &err) != 0)
        fprintf(stderr, "smc_run: %s\n", err.msg);
    return r;
}

/* Bit for bit: texts, tokens, weights, log Z, ESS trace, resamples. */
static bool same_run(const smc_result *a, const smc_result *b)
{
    if (!a || !b || a->n_particles != b->n_particles || a->n_steps != b->n_steps ||
        a->n_resamples != b->n_resamples || memcmp(&a->log_z, &b->log_z, sizeof a->log_z) ||
        memcmp(a->ess_trace, b->ess_trace, sizeof *a->ess_trace * (size_t)a->n_steps))
        return false;
    for (int i = 0; i < a->n_particles; i++) {
        const smc_particle_out *p = &a->particles[i], *q = &b->particles[i];
        if (p->len != q->len || memcmp(p->text, q->text, p->len) || p->n_tokens != q->n_tokens ||
            memcmp(p->tokens, q->tokens, sizeof *p->tokens * (size_t)p->n_tokens) ||
            memcmp(&p->log_weight, &q->log_weight, sizeof p->log_weight) ||
            p->forced_eos != q->forced_eos)
            return false;
    }
    return true;
}

/* A critic with score_batch gives the same runs as the same critic without
 * it; the sampler makes at most one batch call per step, with every prefix
 * the one-by-one run evaluated. Also through a product. */
static void test_batched_critic(void)
{
    static smc_potential_vtable batch_vt;
    batch_vt = *critic->vt;
    batch_vt.score_batch = toy_batch;
    smc_potential *bcritic = smc_potential_new(&batch_vt, critic->self, "toy-critic-batch", 0, -1);
    smc_potential *pa[2] = {smc_potential_new(&batch_vt, NULL, "b", 0, -1), smc_toy_critic_new(NULL)};
    smc_potential *pb[2] = {smc_toy_critic_new(NULL), smc_toy_critic_new(NULL)};
    smc_potential *prod_batch = NULL, *prod_plain = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_potential_product(pa, 2, &prod_batch, &err), 0);
    CHECK_EQ_INT(smc_potential_product(pb, 2, &prod_plain, &err), 0);
    if (!bcritic || !prod_batch || !prod_plain)
        return;
    CHECK(prod_batch->vt->score_batch != NULL && prod_plain->vt->score_batch == NULL);
    const smc_method methods[3] = {SMC_METHOD_SMC_FULL, SMC_METHOD_IS_FULL, SMC_METHOD_RERANK};
    int runs = 0, same = 0, same_prod = 0, differ = 0;
    int64_t steps = 0, calls = 0;
    for (int mi = 0; mi < 3; mi++)
        for (uint64_t seed = 1; seed <= 6; seed++) {
            critic_calls = batch_calls = batch_prefixes = batch_completes = 0;
            smc_result *a = run_critic(critic, methods[mi], seed, 24);
            int64_t plain_prefixes = critic_calls;
            smc_result *b = run_critic(bcritic, methods[mi], seed, 24);
            CHECK_EQ_INT(batch_prefixes, plain_prefixes);
            CHECK_EQ_INT(critic_calls, plain_prefixes);   /* none one by one */
            CHECK(batch_completes > 0);
            if (a && b) {
                steps += a->n_steps;
                calls += batch_calls;
                CHECK(batch_calls <= a->n_steps);
            }
            batch_calls = 0;
            smc_result *c = run_critic(prod_plain, methods[mi], seed, 24);
            smc_result *d = run_critic(prod_batch, methods[mi], seed, 24);
            smc_result *e = run_critic(critic, methods[mi], seed + 100, 24);
            runs++;
            same += same_run(a, b);
            same_prod += same_run(c, d) && batch_calls > 0;
            differ += !same_run(a, e);
            smc_result_free(a);
            smc_result_free(b);
            smc_result_free(c);
            smc_result_free(d);
            smc_result_free(e);
        }
    CHECK_EQ_INT(same, runs);
    CHECK_EQ_INT(same_prod, runs);
    CHECK(differ > 0);   /* same_run can tell runs apart */
    printf("  batched critic: %lld batch calls over %lld steps, %d runs identical\n",
           (long long)calls, (long long)steps, same);
    /* A batch that fails as a whole fails the run with its message. */
    static smc_potential_vtable fail_vt;
    fail_vt = *critic->vt;
    fail_vt.score_batch = failing_batch;
    smc_potential *fcritic = smc_potential_new(&fail_vt, NULL, "down", 0, -1);
    smc_config c;
    smc_config_default(&c);
    c.method = SMC_METHOD_SMC_FULL;
    smc_result *r = NULL;
    CHECK_EQ_INT(smc_run(lm, NULL, 0, cheap, fcritic, &c, &r, &err), -1);
    CHECK_MSG(strstr(err.msg, "down") && strstr(err.msg, "batch service"), "%s", err.msg);
    CHECK(r == NULL);
    smc_potential_free(fcritic);
    smc_potential_free(bcritic);
    smc_potential_free(prod_batch);
    smc_potential_free(prod_plain);
}

/* Allowed tokens far below the row's largest logit (temperature 0.002: the
 * allowed mass is e^-1000 of the largest term, which underflows when taken
 * from the row's maximum): the sampler must still weight them exactly
 * (its fallback from the allowed tokens' own maximum). A bigram whose first
 * token is surely 'a'; after it the DFA allows only 'b' (logit -2, the
 * largest is 0); after "ab" EOS is forced (logit -3, largest 0). Exact
 * log weight: 500·(-2) + 500·(-3) = -2500. */
static void test_far_below_max(void)
{
    enum { NS = 6, NV = NS + 1 };
    double lg[NV * NV];
    for (int i = 0; i < NV * NV; i++)
        lg[i] = -100;
    lg[0 * NV + 0] = 0;                    /* first: 'a' */
    lg[1 * NV + 2] = 0, lg[1 * NV + 1] = -2; /* after 'a': 'c' largest, 'b' allowed */
    lg[2 * NV + 0] = 0, lg[2 * NV + NS] = -3; /* after 'b': 'a' largest, EOS -3 */
    smc_toy_lm *t = smc_toy_bigram_new(NS, lg);
    smc_potential *pot = NULL;
    smc_error err = {{0}};
    CHECK(t && smc_toy_dfa_potential(dfa, smc_toy_lm_iface(t), true, &pot, &err) == 0);
    if (!t || !pot) {
        smc_toy_lm_free(t);
        return;
    }
    smc_config c;
    smc_config_default(&c);
    c.method = SMC_METHOD_IS;
    c.n_particles = 3;
    c.max_tokens = 2;
    c.temperature = 0.002;
    smc_result *r = NULL;
    CHECK_MSG(smc_run(smc_toy_lm_iface(t), NULL, 0, pot, NULL, &c, &r, &err) == 0, "%s", err.msg);
    for (int i = 0; r && i < r->n_particles; i++) {
        CHECK(r->particles[i].len == 2 && memcmp(r->particles[i].text, "ab", 2) == 0);
        CHECK_NEAR(r->particles[i].log_weight, -2500.0, 1e-9);
    }
    smc_result_free(r);
    smc_potential_free(pot);
    smc_toy_lm_free(t);
}

void run_tests(void)
{
    sanitized = getenv("SMC_TEST_SANITIZED") != NULL;
    E = malloc(sizeof *E);
    code_index = malloc(sizeof *code_index * 117650);
    for (int i = 0; i < 117650; i++)
        code_index[i] = -1;
    toy_enumerate(E, MAXT);
    for (int i = 0; i < E->n; i++)
        code_index[toy_code(E->str[i], E->len[i])] = i;
    lm_obj = smc_toy_bigram_new(TOY_NSYM, toy_logits);
    lm = smc_toy_lm_iface(lm_obj);
    dfa = smc_toy_dfa_default();
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_toy_dfa_potential(dfa, lm, true, &cheap, &err), 0);
    CHECK_EQ_INT(smc_toy_dfa_potential(dfa, lm, false, &cheap_slow, &err), 0);
    critic = smc_toy_critic_new(&critic_calls);
    if (!cheap || !cheap_slow || !critic)
        return;

    test_enumeration();
    test_misc();
    test_far_below_max();
    test_batched_critic();
    test_temperature_and_rerank();
    test_weights_and_boundaries();
    test_forcing_and_dead();
    test_unbiased();
    test_chi2();
    test_kl();

    smc_potential_free(cheap);
    smc_potential_free(cheap_slow);
    smc_potential_free(critic);
    smc_toy_dfa_free(dfa);
    smc_toy_lm_free(lm_obj);
    free(code_index);
    free(E);
}
