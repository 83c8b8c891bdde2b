/* test_smc_engine.c — the adapters to the real engine and grammar: the
 * engine LM's batched, forked logits equal a fresh sequential evaluation;
 * smc/awrs runs with a regex constraint give only strings of the language,
 * and every KV block is released afterwards. Needs ../shared (small model). */
#include "test.h"

#include <stdlib.h>

#include "smcgen.h"
#include "engine_fixture.h"

static int decode_all(smc_ctx *c, int32_t seq, const int32_t *t, int n, smc_error *err)
{
    smc_batch_entry *e = malloc(sizeof *e * (size_t)n);
    for (int i = 0; i < n; i++)
        e[i] = (smc_batch_entry){seq, t[i], i == n - 1};
    smc_batch b = {e, n};
    int rc = smc_decode(c, &b, err);
    free(e);
    return rc;
}

void run_tests(void)
{
    REQUIRE_SHARED();
    smc_error err = {{0}};
    engine_fixture f;
    if (engine_fixture_open(&f) != 0)
        return;
    const smc_vocab *vocab = f.vocab;
    smc_ctx *ctx = f.ctx, *ref = f.ref;
    smc_lm *lm = f.lm;
    int32_t nv = lm->n_vocab;
    CHECK_EQ_INT(lm->eos, smc_vocab_eos(vocab));

    int32_t *prompt = NULL;
    size_t np = 0;
    const char *ptext = "Molecule: CC\nMolecule:";
    CHECK_EQ_INT(smc_tokenize(vocab, ptext, strlen(ptext), true, false, &prompt, &np, &err), 0);

    /* Root, two forks extended by different tokens, one shared: batched. */
    int32_t ta = prompt[np - 1], tb = prompt[1];
    void *root = NULL;
    CHECK_EQ_INT(lm->root(lm->self, prompt, np, &root, &err), 0);
    void *s1 = lm->fork(lm->self, root), *s2 = lm->fork(lm->self, root);
    float *lg = malloc(sizeof *lg * (size_t)nv * 4);
    void *batch0[1] = {root};
    CHECK_EQ_INT(lm->next_logits(lm->self, batch0, 1, lg, &err), 0);
    CHECK_EQ_INT(lm->extend(lm->self, &s1, ta, &err), 0);
    CHECK_EQ_INT(lm->extend(lm->self, &s2, tb, &err), 0);
    void *batch[4] = {s1, s2, s1, root};
    CHECK_EQ_INT(lm->next_logits(lm->self, batch, 4, lg, &err), 0);
    /* The reference: fresh sequences evaluated one at a time. */
    int32_t *seq = malloc(sizeof *seq * (np + 1));
    memcpy(seq, prompt, sizeof *seq * np);
    double maxdiff = 0;
    for (int k = 0; k < 3; k++) {
        int32_t id = smc_seq_new(ref, &err);
        int n = (int)np;
        if (k < 2)
            seq[n++] = k == 0 ? ta : tb;
        CHECK_EQ_INT(decode_all(ref, id, seq, n, &err), 0);
        const float *want = smc_logits(ref, 0);
        const float *got = lg + (size_t)(k == 0 ? 0 : k == 1 ? 1 : 3) * (size_t)nv;
        for (int32_t v = 0; v < nv; v++)
            if (fabs(want[v] - got[v]) > maxdiff)
                maxdiff = fabs(want[v] - got[v]);
        smc_seq_free(ref, id);
    }
    CHECK_MSG(maxdiff < 1e-3, "batched/forked logits differ from sequential by %g", maxdiff);
    CHECK(memcmp(lg, lg + 2 * (size_t)nv, sizeof *lg * (size_t)nv) == 0); /* shared state */
    lm->release(lm->self, s1);
    lm->release(lm->self, s2);
    lm->release(lm->self, root);
    CHECK_EQ_INT(smc_ctx_kv_used_bytes(ctx), 0);
    free(seq);
    free(lg);

    /* SMC with a regex constraint: every surviving particle is in the
     * language; the KV cache is empty again afterwards. */
    const char *re = " C(C|O|N|=|\\(|\\))*\n";
    smc_grammar *g = NULL;
    smc_token_index *ix = NULL;
    smc_potential *cheap = NULL;
    CHECK_EQ_INT(smc_grammar_from_regex(re, strlen(re), &g, &err), 0);
    CHECK_EQ_INT(smc_token_index_from_vocab(vocab, &ix, &err), 0);
    if (!g || !ix) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_EQ_INT(smc_potential_from_grammar(g, ix, lm, "regex", &cheap, &err), 0);
    for (int prop = 0; prop < 2 && cheap; prop++) {
        smc_config c;
        smc_config_default(&c);
        c.method = SMC_METHOD_SMC;
        c.n_particles = 6;
        c.max_tokens = 12;
        c.seed = 3;
        c.proposal = prop ? SMC_PROPOSAL_AWRS : SMC_PROPOSAL_MASKED;
        smc_result *r = NULL;
        if (smc_run(lm, prompt, np, cheap, NULL, &c, &r, &err) != 0) {
            CHECK_MSG(0, "smc_run: %s", err.msg);
            continue;
        }
        int valid = 0, live = 0;
        for (int i = 0; i < r->n_particles; i++) {
            const smc_particle_out *p = &r->particles[i];
            if (p->log_weight == -INFINITY)
                continue;
            live++;
            valid += smc_grammar_classify(g, p->text, p->len) == SMC_MATCH_COMPLETE;
        }
        printf("  %s: %d live particles, %d valid; top: \"%s\" (%.3f); log Z %.3f; lm %.3fs mask %.3fs\n",
               prop ? "awrs" : "masked", live, valid, r->n_posterior ? r->posterior[0].text : "",
               r->n_posterior ? r->posterior[0].prob : 0.0, r->log_z, r->t_lm, r->t_mask);
        CHECK(live > 0);
        CHECK_EQ_INT(valid, live);
        CHECK(r->n_lm_evals > 0);
        smc_result_free(r);
        CHECK_EQ_INT(smc_ctx_kv_used_bytes(ctx), 0);
    }
    /* Newline tokens as EOS (the paper's molecule setup): smc-full with a
     * critic; no particle text contains a newline, all are in the language
     * "C(...)*" without the newline. */
    {
        const char *re2 = " C(C|O|N|=|\\(|\\))*";
        smc_grammar *g2 = NULL;
        int32_t *stops = NULL;
        size_t n_stops = 0;
        smc_lm *slm = NULL;
        smc_potential *c2 = NULL;
        CHECK_EQ_INT(smc_grammar_from_regex(re2, strlen(re2), &g2, &err), 0);
        CHECK_EQ_INT(smc_lm_tokens_containing(lm, "\n", 1, &stops, &n_stops, &err), 0);
        CHECK(n_stops > 0);
        CHECK_EQ_INT(smc_lm_stops_new(lm, stops, n_stops, &slm, &err), 0);
        if (g2 && slm)
            CHECK_EQ_INT(smc_potential_from_grammar(g2, ix, slm, "regex2", &c2, &err), 0);
        if (c2) {
            smc_config c;
            smc_config_default(&c);
            c.method = SMC_METHOD_SMC;
            c.n_particles = 6;
            c.max_tokens = 16;
            c.seed = 5;
            smc_result *r = NULL;
            CHECK_EQ_INT(smc_run(slm, prompt, np, c2, NULL, &c, &r, &err), 0);
            if (r) {
                int bad = 0, live = 0;
                for (int i = 0; i < r->n_particles; i++) {
                    const smc_particle_out *p = &r->particles[i];
                    if (p->log_weight == -INFINITY)
                        continue;
                    live++;
                    bad += memchr(p->text, '\n', p->len) != NULL ||
                           smc_grammar_classify(g2, p->text, p->len) != SMC_MATCH_COMPLETE;
                }
                printf("  newline stops: %d live, top \"%s\" (%.3f)\n", live,
                       r->n_posterior ? r->posterior[0].text : "",
                       r->n_posterior ? r->posterior[0].prob : 0.0);
                CHECK(live > 0);
                CHECK_EQ_INT(bad, 0);
                smc_result_free(r);
            }
        }
        CHECK_EQ_INT(smc_ctx_kv_used_bytes(ctx), 0);
        smc_potential_free(c2);
        smc_lm_stops_free(slm);
        free(stops);
        smc_grammar_free(g2);
    }

    /* An EOS mismatch between index and model is refused. */
    smc_lm fake = *lm;
    fake.eos = 0;
    smc_potential *badp = NULL;
    CHECK_EQ_INT(smc_potential_from_grammar(g, ix, &fake, "x", &badp, &err), -1);

    smc_potential_free(cheap);
    smc_token_index_free(ix);
    smc_grammar_free(g);
    free(prompt);
    engine_fixture_close(&f);
}
