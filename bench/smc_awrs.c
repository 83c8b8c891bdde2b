/* smc_awrs.c — benchmark: the AWRS proposal against the full-mask proposal
 * (a per-token mask built by trying every token, and a precomputed mask) on
 * the toy bigram LM and on random LMs with large vocabularies. Reports time
 * per run, constraint checks per particle-step, and the mean and standard
 * error of Ẑ over repeated runs (all three are unbiased for the same Z). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "smc/logmath.h"
#include "smc/toy.h"
#include "smcgen.h"

static const double bigram[49] = {
    2.0, 0.5, 0.3, 0.0, 0.2, -0.5, -1.0, 1.5, -1.5, 1.0, 0.5, 0.0, 0.3, 0.5,
    0.2, 0.1, 1.2, 0.4, -0.3, 0.0, 0.6, 0.5, 0.8, 0.2, 1.0, 0.1, -0.2, 0.9,
    0.1, 0.3, 0.6, 0.4, 0.9, 0.2, 1.1, 0.4, 0.2, 0.1, 0.3, 0.8, 1.3, 0.7,
    0.3, 0.5, 0.2, 0.6, 0.4, 0.1, 1.0};

static void bench(const char *name, const smc_lm *lm, smc_toy_dfa *dfa, smc_method method,
                  int particles, int max_tokens, int runs)
{
    smc_potential *slow = NULL, *fast = NULL;
    smc_error err = {{0}};
    if (smc_toy_dfa_potential(dfa, lm, false, &slow, &err) ||
        smc_toy_dfa_potential(dfa, lm, true, &fast, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    const char *label[3] = {"mask (try every token)", "mask (precomputed)", "awrs"};
    printf("%s: V=%d, %s, N=%d, max_tokens=%d, %d runs\n", name, (int)lm->n_vocab,
           smc_method_name(method), particles, max_tokens, runs);
    printf("  %-24s %12s %12s %14s %12s %12s\n", "proposal", "ms/run", "mask ms/run",
           "checks/step", "mean Zhat", "SE");
    double base = 0;
    for (int k = 0; k < 3; k++) {
        double s = 0, s2 = 0, tmask = 0;
        int64_t checks = 0, steps = 0;
        double t0 = smc_now();
        for (int r = 0; r < runs; r++) {
            smc_config c;
            smc_config_default(&c);
            c.method = method;
            c.n_particles = particles;
            c.max_tokens = max_tokens;
            c.seed = 12345 + (uint64_t)r;
            c.proposal = k == 2 ? SMC_PROPOSAL_AWRS : SMC_PROPOSAL_MASKED;
            smc_result *res = NULL;
            if (smc_run(lm, NULL, 0, k == 0 ? slow : fast, NULL, &c, &res, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                exit(1);
            }
            double z = exp(res->log_z);
            s += z;
            s2 += z * z;
            tmask += res->t_mask;
            checks += k == 2 ? res->n_constraint_checks : res->n_lm_evals * lm->n_vocab;
            steps += res->n_lm_evals;
            smc_result_free(res);
        }
        double ms = (smc_now() - t0) * 1e3 / runs;
        if (k == 0)
            base = ms;
        double mean = s / runs, se = sqrt(fmax(0, s2 / runs - mean * mean) / (runs - 1));
        printf("  %-24s %12.3f %12.3f %14.1f %12.6f %12.6f   (%.1fx vs try-every-token)\n",
               label[k], ms, tmask * 1e3 / runs, (double)checks / (double)steps, mean, se,
               base / ms);
    }
    smc_potential_free(slow);
    smc_potential_free(fast);
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1)
        scale = 1;
    smc_toy_dfa *dfa = smc_toy_dfa_default();
    smc_toy_lm *toy = smc_toy_bigram_new(6, bigram);
    bench("toy bigram", smc_toy_lm_iface(toy), dfa, SMC_METHOD_SMC, 16, 4, 400 * scale);
    smc_toy_lm_free(toy);
    int32_t sizes[2] = {5000, 32000};
    for (int i = 0; i < 2; i++) {
        smc_toy_lm *r = smc_toy_random_new(sizes[i], 17, 1.5, 3.0);
        bench("random LM", smc_toy_lm_iface(r), dfa, SMC_METHOD_SMC, 8, 4, (i ? 20 : 100) * scale);
        smc_toy_lm_free(r);
    }
    smc_toy_dfa_free(dfa);
    return 0;
}
