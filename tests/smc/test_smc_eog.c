/* test_smc_eog.c — several end-of-generation tokens: with a vocabulary whose
 * EOS, EOT (tokenizer.ggml.eot_token_id) and EOM (eom_token_id) are distinct,
 * the engine LM gives EOS the summed probability of all three, never
 * proposes EOT or EOM, and every particle ends at EOS. The vocabulary is an
 * SPM one written in memory for the small model's 8192 ids. */
#include "test.h"

#include "../tokenizer/mem_vocab.h"
#include "smcgen.h"

enum { NV = 8192, EOS = 2, EOT = 3, EOM = 4 };

static smc_vocab *make_vocab(void)
{
    static char store[NV][16];
    const char *texts[NV];
    int types[NV];
    static const char *const named[] = {"<unk>", "<s>", "</s>", "<|eot|>", "<|eom|>"};
    for (int i = 0; i < NV; i++) {
        if (i < 5)
            snprintf(store[i], sizeof store[i], "%s", named[i]);
        else if (i < 5 + 256)
            snprintf(store[i], sizeof store[i], "<0x%02X>", i - 5);
        else
            snprintf(store[i], sizeof store[i], "\xE2\x96\x81w%d", i);
        texts[i] = store[i];
        types[i] = i == 0 ? SMC_TOKEN_UNKNOWN : i < 5 ? SMC_TOKEN_CONTROL : i < 5 + 256 ? SMC_TOKEN_BYTE
                                                                              : SMC_TOKEN_NORMAL;
    }
    smc_vocab *v = mem_spm_vocab(NV, texts, types, EOT, EOM);
    CHECK(v != NULL);
    return v;
}

static double lse3(double a, double b, double c)
{
    double m = fmax(a, fmax(b, c));
    return m + log(exp(a - m) + exp(b - m) + exp(c - m));
}

void run_tests(void)
{
    REQUIRE_SHARED();
    smc_vocab *v = make_vocab();
    if (!v)
        return;
    CHECK_EQ_INT(smc_vocab_eos(v), EOS);
    CHECK_EQ_INT(smc_vocab_eot(v), EOT);
    CHECK(smc_vocab_is_eog(v, EOS) && smc_vocab_is_eog(v, EOT) && smc_vocab_is_eog(v, EOM));
    CHECK(!smc_vocab_is_eog(v, 1) && !smc_vocab_is_eog(v, 300));

    smc_error err = {{0}};
    smc_model *model = NULL;
    smc_ctx *ctx = NULL, *ref = NULL;
    smc_lm *lm = NULL;
    smc_ctx_params cp = smc_ctx_default_params();
    cp.n_threads = 1;
    int rc = smc_model_load(test_shared_path("models/small-q8_0.gguf"), &model, &err);
    if (rc == 0)
        rc = smc_ctx_new(model, &cp, &ctx, &err) || smc_ctx_new(model, &cp, &ref, &err) ||
             smc_engine_lm_new(model, ctx, v, -1, &lm, &err);
    CHECK_MSG(rc == 0, "setup: %s", err.msg);
    if (rc)
        goto done;
    CHECK_EQ_INT(lm->eos, EOS);

    /* Logits after a short prompt, against the raw model's. */
    const int32_t prompt[] = {8191, 300, 301};
    void *st = NULL;
    float *row = malloc(sizeof *row * NV);
    CHECK_EQ_INT(lm->root(lm->self, prompt, 3, &st, &err), 0);
    CHECK_EQ_INT(lm->next_logits(lm->self, &st, 1, row, &err), 0);
    smc_batch_entry e[3];
    for (int i = 0; i < 3; i++)
        e[i] = (smc_batch_entry){smc_seq_new(ref, &err), prompt[i], i == 2};
    for (int i = 1; i < 3; i++)
        e[i].seq = e[0].seq;
    smc_batch batch = {e, 3};
    CHECK_EQ_INT(smc_decode(ref, &batch, &err), 0);
    const float *raw = smc_logits(ref, 0);
    CHECK(row[EOT] == -INFINITY && row[EOM] == -INFINITY);
    CHECK_NEAR(row[EOS], lse3(raw[EOS], raw[EOT], raw[EOM]), 1e-5);
    CHECK(row[EOS] > raw[EOS] + 1e-4);   /* the other two did add mass */
    for (int i = 0; i < NV; i++)
        if (i != EOS && i != EOT && i != EOM && row[i] != raw[i]) {
            CHECK_MSG(0, "logit %d changed", i);
            break;
        }
    lm->release(lm->self, st);
    free(row);

    /* Unconstrained sampling: particles end at EOS, never at EOT/EOM. */
    smc_config cfg;
    smc_config_default(&cfg);
    cfg.method = SMC_METHOD_PLAIN;
    cfg.n_particles = 8;
    cfg.max_tokens = 6;
    cfg.seed = 5;
    smc_result *res = NULL;
    CHECK_EQ_INT(smc_run(lm, prompt, 3, NULL, NULL, &cfg, &res, &err), 0);
    for (int p = 0; res && p < res->n_particles; p++)
        for (int k = 0; k < res->particles[p].n_tokens; k++) {
            int32_t t = res->particles[p].tokens[k];
            CHECK_MSG(t != EOT && t != EOM, "particle %d proposed end token %d", p, t);
        }
    smc_result_free(res);
done:
    smc_engine_lm_free(lm);
    smc_ctx_free(ctx);
    smc_ctx_free(ref);
    smc_model_free(model);
    smc_vocab_free(v);
}
