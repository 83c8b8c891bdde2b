/* smc_trace.c — what tracing costs: the same smc-full runs (the toy random
 * LM over 2048 multi-byte tokens, the toy DFA constraint and the toy critic,
 * 64 particles, 64 tokens) with smc_config.trace off and on, interleaved, in
 * one process; prints the median time per run of each and their ratio, and
 * the size of the trace JSON. `bench_smc_trace off N` runs only the traced-
 * off runs (for instruction counts under valgrind --tool=callgrind, to set
 * beside a build without the trace hooks).
 * Usage: bench_smc_trace [off|both] [runs]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smc/logmath.h"
#include "smc/toy.h"
#include "smcgen.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    bool only_off = argc > 1 && !strcmp(argv[1], "off");
    int runs = argc > 2 ? atoi(argv[2]) : 20;
    if (runs < 1)
        runs = 1;
    smc_toy_lm *tl = smc_toy_random_new(2048, 7, 2.0, 3.0);
    const smc_lm *lm = smc_toy_lm_iface(tl);
    smc_toy_dfa *dfa = smc_toy_dfa_default();
    smc_potential *cheap = NULL, *critic = smc_toy_critic_new(NULL);
    smc_error err = {{0}};
    if (!tl || !dfa || !critic || smc_toy_dfa_potential(dfa, lm, true, &cheap, &err)) {
        fprintf(stderr, "setup failed: %s\n", err.msg);
        return 1;
    }
    smc_trace *trace = smc_trace_new();
    double *t_off = malloc(sizeof *t_off * (size_t)runs), *t_on = malloc(sizeof *t_on * (size_t)runs);
    size_t json_bytes = 0;
    int steps = 0;
    for (int r = 0; r < runs; r++)
        for (int on = 0; on <= (only_off ? 0 : 1); on++) {
            smc_config c;
            smc_config_default(&c);
            c.method = SMC_METHOD_SMC_FULL;
            c.n_particles = 64;
            c.max_tokens = 64;
            c.seed = 100 + (uint64_t)r;
            c.trace = on ? trace : NULL;
            smc_result *res = NULL;
            double t0 = smc_now();
            if (smc_run(lm, NULL, 0, cheap, critic, &c, &res, &err)) {
                fprintf(stderr, "smc_run: %s\n", err.msg);
                return 1;
            }
            (on ? t_on : t_off)[r] = smc_now() - t0;
            if (on && r == 0) {
                char *json = NULL;
                if (smc_trace_to_json(trace, res, &json, &err) == 0)
                    json_bytes = strlen(json);
                free(json);
                steps = res->n_steps;
            }
            smc_result_free(res);
        }
    qsort(t_off, (size_t)runs, sizeof *t_off, cmp_double);
    printf("smc-full, 64 particles x 64 tokens, toy LM (2048 tokens), %d runs each, interleaved\n", runs);
    printf("  trace off: median %.3f ms/run\n", 1e3 * t_off[runs / 2]);
    if (!only_off) {
        qsort(t_on, (size_t)runs, sizeof *t_on, cmp_double);
        printf("  trace on:  median %.3f ms/run (ratio on/off %.3f); %d steps, trace JSON %zu KB\n",
               1e3 * t_on[runs / 2], t_on[runs / 2] / t_off[runs / 2], steps, json_bytes / 1024);
    }
    free(t_off);
    free(t_on);
    smc_trace_free(trace);
    smc_potential_free(cheap);
    smc_potential_free(critic);
    smc_toy_dfa_free(dfa);
    smc_toy_lm_free(tl);
    return 0;
}
