/* test_smc_lookahead.c — forced tokens evaluated ahead (smc_config.lookahead,
 * smc_lm.lookahead): the engine LM's logits along a hinted run, after a
 * fork and after a token that leaves the run equal a fresh sequential
 * evaluation; smc runs under a JSON Schema (fixed keys: forced runs) give
 * the same particles, resamplings and forced-token counts with lookahead on
 * and off, and weights and log Z equal within 1e-3 (a chunked evaluation
 * may round differently). Lookahead saves passes over the weights: at N = 1
 * every forced token followed along an evaluated run is a step without a
 * decode (smc_engine_lm_passes), so the run with lookahead makes fewer
 * decodes, by at most its forced tokens. Needs ../shared (small model). */
#include "test.h"

#include <math.h>
#include <stdlib.h>

#include "smcgen.h"
#include "engine_fixture.h"

/* max |a - b| over n floats. */
static double max_diff(const float *a, const float *b, int32_t n)
{
    double m = 0;
    for (int32_t v = 0; v < n; v++)
        if (fabs((double)a[v] - b[v]) > m)
            m = fabs((double)a[v] - b[v]);
    return m;
}

/* The logits after toks[0..n), from a fresh sequence of ref. */
static void reference_logits(smc_ctx *ref, const int32_t *toks, int n, float *out, int32_t nv)
{
    smc_error err = {{0}};
    int32_t id = smc_seq_new(ref, &err);
    smc_batch_entry *e = malloc(sizeof *e * (size_t)n);
    for (int i = 0; i < n; i++)
        e[i] = (smc_batch_entry){id, toks[i], i == n - 1};
    smc_batch b = {e, n};
    CHECK_EQ_INT(smc_decode(ref, &b, &err), 0);
    memcpy(out, smc_logits(ref, 0), sizeof *out * (size_t)nv);
    smc_seq_free(ref, id);
    free(e);
}

/* Hint a run of 4 tokens after the prompt, evaluate, then: one fork follows
 * the run to its end, one leaves it after 2 tokens, the root stays. */
static void engine_runs(smc_lm *lm, smc_ctx *ctx, smc_ctx *ref, const int32_t *prompt, int np)
{
    smc_error err = {{0}};
    int32_t nv = lm->n_vocab;
    int32_t run[4] = {prompt[1], prompt[2], prompt[1], prompt[3]}, other = prompt[np - 1];
    int32_t *seq = malloc(sizeof *seq * (size_t)(np + 8));
    float *got = malloc(sizeof *got * (size_t)nv * 3), *want = malloc(sizeof *want * (size_t)nv);
    memcpy(seq, prompt, sizeof *seq * (size_t)np);
    void *root = NULL;
    CHECK_EQ_INT(lm->root(lm->self, prompt, (size_t)np, &root, &err), 0);
    CHECK_EQ_INT(lm->lookahead(lm->self, root, run, 4, &err), 0);
    void *a = lm->fork(lm->self, root), *b = lm->fork(lm->self, root);
    void *first[1] = {root};
    CHECK_EQ_INT(lm->next_logits(lm->self, first, 1, got, &err), 0);
    CHECK_EQ_INT(smc_seq_len(ctx, 0), np + 4); /* prompt and run in one batch */
    double worst = 0;
    for (int k = 0; k < 4; k++) { /* a follows the whole run: no decoding */
        CHECK_EQ_INT(lm->extend(lm->self, &a, run[k], &err), 0);
        if (k < 2)
            CHECK_EQ_INT(lm->extend(lm->self, &b, run[k], &err), 0);
        void *two[2] = {a, b};
        CHECK_EQ_INT(lm->next_logits(lm->self, two, 2, got, &err), 0);
        seq[np + k] = run[k];
        reference_logits(ref, seq, np + k + 1, want, nv);
        if (max_diff(got, want, nv) > worst)
            worst = max_diff(got, want, nv);
    }
    /* b leaves the run after 2 tokens: the rest is dropped from its KV. */
    CHECK_EQ_INT(lm->extend(lm->self, &b, other, &err), 0);
    void *one[1] = {b};
    CHECK_EQ_INT(lm->next_logits(lm->self, one, 1, got, &err), 0);
    seq[np + 2] = other;
    reference_logits(ref, seq, np + 3, want, nv);
    double leave = max_diff(got, want, nv);
    /* The root's own logits are still those after the prompt. */
    CHECK_EQ_INT(lm->next_logits(lm->self, first, 1, got + nv, &err), 0);
    reference_logits(ref, prompt, np, want, nv);
    double rootd = max_diff(got + nv, want, nv);
    printf("  engine LM run: max |logit diff| along %g, after leaving %g, root %g\n", worst, leave,
           rootd);
    CHECK_MSG(worst < 1e-3 && leave < 1e-3 && rootd < 1e-3, "lookahead logits differ");
    lm->release(lm->self, a);
    lm->release(lm->self, b);
    lm->release(lm->self, root);
    CHECK_EQ_INT(smc_ctx_kv_used_bytes(ctx), 0);
    free(seq);
    free(got);
    free(want);
}

/* The same run with lookahead 16 and 0. */
static void compare_runs(smc_lm *lm, smc_ctx *ctx, smc_potential *cheap, const int32_t *prompt,
                         size_t np, int n, uint64_t seed, int64_t *forced, int64_t *tokens)
{
    smc_error err = {{0}};
    smc_result *r[2] = {NULL, NULL};
    int64_t passes[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        int64_t before = smc_engine_lm_passes(lm);
        smc_config c;
        smc_config_default(&c);
        c.method = SMC_METHOD_SMC;
        c.n_particles = n;
        c.max_tokens = 40;
        c.seed = seed;
        c.lookahead = k ? 0 : 16;
        if (smc_run(lm, prompt, np, cheap, NULL, &c, &r[k], &err) != 0)
            CHECK_MSG(0, "smc_run: %s", err.msg);
        CHECK_EQ_INT(smc_ctx_kv_used_bytes(ctx), 0);
        passes[k] = smc_engine_lm_passes(lm) - before;
    }
    if (!r[0] || !r[1]) {
        smc_result_free(r[0]);
        smc_result_free(r[1]);
        return;
    }
    CHECK_EQ_INT(r[0]->n_steps, r[1]->n_steps);
    CHECK_EQ_INT(r[0]->n_resamples, r[1]->n_resamples);
    CHECK_EQ_INT((int)r[0]->n_forced, (int)r[1]->n_forced);
    CHECK_EQ_INT((int)r[0]->n_tokens, (int)r[1]->n_tokens);
    double dw = fabs(r[0]->log_z - r[1]->log_z);
    int same_text = 0;
    for (int i = 0; i < n; i++) {
        const smc_particle_out *a = &r[0]->particles[i], *b = &r[1]->particles[i];
        same_text += a->len == b->len && memcmp(a->text, b->text, a->len) == 0 &&
                     a->n_tokens == b->n_tokens;
        if (isfinite(a->log_weight) || isfinite(b->log_weight))
            dw = fmax(dw, fabs(a->log_weight - b->log_weight));
    }
    printf("  N=%d seed %d: %d forced of %d tokens, %d resamplings, log Z %.6f vs %.6f, "
           "max |weight diff| %.2g; decodes %lld with lookahead, %lld without\n",
           n, (int)seed, (int)r[0]->n_forced, (int)r[0]->n_tokens, r[0]->n_resamples,
           r[0]->log_z, r[1]->log_z, dw, (long long)passes[0], (long long)passes[1]);
    CHECK(passes[0] <= passes[1]);
    if (n == 1 && r[0]->n_forced > 0) /* (r[0] ran with lookahead) */
        CHECK_MSG(passes[0] < passes[1] && passes[1] - passes[0] <= r[0]->n_forced,
                  "N=1, %d forced tokens: %lld decodes with lookahead, %lld without",
                  (int)r[0]->n_forced, (long long)passes[0], (long long)passes[1]);
    CHECK_EQ_INT(same_text, n);
    CHECK_MSG(dw < 1e-3, "weights differ by %g with lookahead on and off", dw);
    *forced += r[0]->n_forced;
    *tokens += r[0]->n_tokens;
    smc_result_free(r[0]);
    smc_result_free(r[1]);
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
    CHECK(lm->lookahead != NULL);
    const char *ptext = "-- Person record as JSON:\n";
    int32_t *prompt = NULL;
    size_t np = 0;
    CHECK_EQ_INT(smc_tokenize(vocab, ptext, strlen(ptext), true, false, &prompt, &np, &err), 0);
    CHECK(np >= 4);
    engine_runs(lm, ctx, ref, prompt, (int)np);

    const char *schema = "{\"type\":\"object\",\"properties\":{"
                         "\"name\":{\"type\":\"string\",\"maxLength\":6},"
                         "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":99},"
                         "\"city\":{\"enum\":[\"Paris\",\"Oslo\"]}},"
                         "\"required\":[\"name\",\"age\",\"city\"],\"additionalProperties\":false}";
    smc_grammar *g = NULL;
    smc_token_index *ix = NULL;
    smc_potential *cheap = NULL;
    CHECK_EQ_INT(smc_grammar_from_json_schema(schema, strlen(schema), &g, &err), 0);
    CHECK_EQ_INT(smc_token_index_from_vocab(vocab, &ix, &err), 0);
    if (g && ix)
        CHECK_EQ_INT(smc_potential_from_grammar(g, ix, lm, "schema", &cheap, &err), 0);
    int64_t forced = 0, tokens = 0;
    for (int k = 0; cheap && k < 6; k++)
        compare_runs(lm, ctx, cheap, prompt, np, k < 2 ? 4 : k < 4 ? 10 : 1, (uint64_t)(k + 1), &forced,
                     &tokens);
    CHECK(forced > 0 && forced < tokens);

    smc_potential_free(cheap);
    smc_token_index_free(ix);
    smc_grammar_free(g);
    free(prompt);
    engine_fixture_close(&f);
}
