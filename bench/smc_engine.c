/* smc_engine.c — benchmark and demo on the real small model: the same
 * molecule prompt and SMILES-like grammar run with plain, lcd, smc and
 * smc-full (grammar + a ring-closure critic), reporting validity (grammar
 * and critic), posterior-weighted validity, and the time split (model, mask,
 * critic, resampling) per run. As in the paper's molecule domain, any token
 * containing a newline ends the molecule (smc_lm_stops_new).
 * Usage: bench_smc_engine [MODEL.gguf] [runs]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"
#include "util/paths.h"

static const char *grammar =
    "root ::= \" \" chain\n"
    "chain ::= atom ( bond? atom | branch | ring )*\n"
    "branch ::= \"(\" bond? chain \")\"\n"
    "atom ::= \"C\" | \"N\" | \"O\" | \"F\" | \"Cl\" | \"Br\" | \"S\" | \"c\" | \"n\" | \"o\"\n"
    "bond ::= \"=\" | \"#\"\n"
    "ring ::= [1-9]\n";

/* Critic: ring closures. A prefix with more than 3 open rings is hopeless
 * (-inf); a complete molecule must close every ring it opened. Boundaries:
 * after a ring digit. */
static int open_rings(const char *t, size_t n)
{
    int open = 0;
    bool seen[10] = {0};
    for (size_t i = 0; i < n; i++)
        if (t[i] >= '1' && t[i] <= '9') {
            int d = t[i] - '0';
            seen[d] = !seen[d];
            open += seen[d] ? 1 : -1;
        }
    return open;
}
static double ring_prefix(void *self, void *st, const char *t, size_t n)
{
    (void)self, (void)st;
    return open_rings(t, n) > 3 ? -INFINITY : 0.0;
}
static double ring_complete(void *self, void *st, const char *t, size_t n)
{
    (void)self, (void)st;
    return open_rings(t, n) == 0 ? 0.0 : -INFINITY;
}
static bool ring_boundary(void *self, const char *t, size_t n, size_t n_new)
{
    (void)self;
    for (size_t i = n - n_new; i < n; i++)
        if (t[i] >= '1' && t[i] <= '9')
            return true;
    return false;
}
static const smc_potential_vtable ring_vt = {
    .prefix = ring_prefix, .complete = ring_complete, .is_boundary = ring_boundary};

int main(int argc, char **argv)
{
    char path[4096];
    if (argc > 1)
        snprintf(path, sizeof path, "%s", argv[1]);
    else if (smc_shared_dir())
        snprintf(path, sizeof path, "%s/models/small-q8_0.gguf", smc_shared_dir());
    else {
        fprintf(stderr, "no model given and ../shared is absent\n");
        return 0;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 10;
    smc_error err = {{0}};
    smc_model *model = NULL;
    smc_ctx *ctx = NULL;
    smc_lm *base = NULL, *lm = NULL;
    int32_t *stops = NULL;
    size_t n_stops = 0;
    smc_grammar *g = NULL;
    smc_token_index *ix = NULL;
    smc_potential *cheap = NULL;
    if (smc_model_load(path, &model, &err) || !smc_model_vocab(model, &err) ||
        smc_ctx_new(model, NULL, &ctx, &err) ||
        smc_engine_lm_new(model, ctx, smc_model_vocab(model, NULL), -1, &base, &err) ||
        smc_lm_tokens_containing(base, "\n", 1, &stops, &n_stops, &err) ||
        smc_lm_stops_new(base, stops, n_stops, &lm, &err) ||
        smc_grammar_from_gbnf(grammar, strlen(grammar), NULL, &g, &err) ||
        smc_token_index_from_vocab(smc_model_vocab(model, NULL), &ix, &err) ||
        smc_potential_from_grammar(g, ix, lm, "smiles", &cheap, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    smc_potential *critic = smc_potential_new(&ring_vt, NULL, "rings", 0, -1);
    const char *ptext = "Molecule: CC(=O)Nc1ccccc1\nMolecule: CCOC(=O)C1CC1\nMolecule:";
    int32_t *prompt = NULL;
    size_t np = 0;
    smc_tokenize(smc_model_vocab(model, NULL), ptext, strlen(ptext), true, false, &prompt, &np,
                 &err);
    printf("model %s, %d runs of 10 particles, max 40 tokens\n", path, runs);
    printf("%-9s %9s %9s %10s %9s %9s %9s %9s %8s\n", "method", "valid", "wvalid", "ms/run",
           "model", "mask", "critic", "resample", "resamp#");
    smc_method methods[4] = {SMC_METHOD_PLAIN, SMC_METHOD_LCD, SMC_METHOD_SMC, SMC_METHOD_SMC_FULL};
    for (int mi = 0; mi < 4; mi++) {
        double valid = 0, wvalid = 0, t = 0, tl = 0, tm = 0, tc = 0, tr = 0;
        int total = 0, resamples = 0;
        char example[128] = "";
        for (int r = 0; r < runs; r++) {
            smc_config c;
            smc_config_default(&c);
            c.method = methods[mi];
            c.n_particles = 10;
            c.max_tokens = 40;
            c.seed = 1 + (uint64_t)r;
            smc_result *res = NULL;
            if (smc_run(lm, prompt, np, cheap, critic, &c, &res, &err)) {
                fprintf(stderr, "%s: %s\n", smc_method_name(methods[mi]), err.msg);
                return 1;
            }
            for (int i = 0; i < res->n_particles; i++) {
                const smc_particle_out *p = &res->particles[i];
                bool ok = smc_grammar_classify(g, p->text, p->len) == SMC_MATCH_COMPLETE &&
                          ring_complete(NULL, NULL, p->text, p->len) == 0;
                valid += ok;
                total++;
            }
            for (int i = 0; i < res->n_posterior; i++) {
                const smc_posterior_entry *e = &res->posterior[i];
                if (smc_grammar_classify(g, e->text, e->len) == SMC_MATCH_COMPLETE &&
                    ring_complete(NULL, NULL, e->text, e->len) == 0)
                    wvalid += e->prob;
            }
            if (r == 0 && res->n_posterior)
                snprintf(example, sizeof example, "%.*s", (int)strcspn(res->posterior[0].text, "\n"),
                         res->posterior[0].text);
            t += res->t_total;
            tl += res->t_lm;
            tm += res->t_mask;
            tc += res->t_critic;
            tr += res->t_resample;
            resamples += res->n_resamples;
            smc_result_free(res);
        }
        printf("%-9s %8.0f%% %8.0f%% %10.1f %8.1fms %7.1fms %7.2fms %7.2fms %8.1f   e.g.%s\n",
               smc_method_name(methods[mi]), 100 * valid / total, 100 * wvalid / runs,
               1e3 * t / runs, 1e3 * tl / runs, 1e3 * tm / runs, 1e3 * tc / runs, 1e3 * tr / runs,
               (double)resamples / runs, example);
    }
    free(prompt);
    smc_potential_free(critic);
    smc_potential_free(cheap);
    smc_token_index_free(ix);
    smc_grammar_free(g);
    smc_lm_stops_free(lm);
    smc_engine_lm_free(base);
    free(stops);
    smc_ctx_free(ctx);
    smc_model_free(model);
    return 0;
}
