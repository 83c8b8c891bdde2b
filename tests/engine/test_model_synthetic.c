/* test_model_synthetic.c — synthetic models: the real shapes (from the
 * models' published configurations), weight sizes computed independently
 * from the block layouts, a forward pass that gives finite, seed-dependent
 * logits, and errors for unknown shapes or types. */
#include "test.h"

#include "engine/model.h"
#include "smcgen.h"

/* Bytes of one layer's matrices plus the tied output head, for a type of
 * `bpb` bytes per 32-element block. */
static uint64_t expect_bytes(int64_t d, int64_t layers, int64_t nh, int64_t nkv, int64_t hd, int64_t ff,
                             int64_t vocab, int64_t bpb)
{
    int64_t per_layer = d * nh * hd + 2 * d * nkv * hd + nh * hd * d + 3 * d * ff;
    return (uint64_t)((per_layer * layers + d * vocab) / 32 * bpb);
}

/* The Q4_K_M mix: llama.cpp's choices per tensor (llama3.2-1b has rows of
 * whole 256-blocks; smollm2's 576-wide rows fall back to Q5_0 / Q8_0). */
static void check_q4_k_m(void)
{
    smc_model *m = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_model_synthetic_reduced("llama3.2-1b", SMC_SYNTHETIC_Q4_K_M, 3, 16, 256, &m, &err), 0);
    if (m) {
        CHECK_EQ_INT(m->n_layer, 16);
        CHECK_EQ_INT(m->n_vocab, 256);
        CHECK_EQ_INT(m->tok_embd.type, SMC_TYPE_Q6_K);
        /* use_more_bits: layers 0, 1, 4, 7, 10, 13, 14, 15 of 16. */
        for (int l = 0; l < 16; l++) {
            bool more = l < 2 || l >= 14 || (l - 2) % 3 == 2;
            CHECK_EQ_INT(m->layers[l].wv.type, more ? SMC_TYPE_Q6_K : SMC_TYPE_Q4_K);
            CHECK_EQ_INT(m->layers[l].down.type, more ? SMC_TYPE_Q6_K : SMC_TYPE_Q4_K);
            CHECK_EQ_INT(m->layers[l].wq.type, SMC_TYPE_Q4_K);
            CHECK_EQ_INT(m->layers[l].up.type, SMC_TYPE_Q4_K);
        }
        smc_model_free(m);
    }
    CHECK_EQ_INT(smc_model_synthetic_reduced("smollm2-135m", SMC_SYNTHETIC_Q4_K_M, 3, 2, 64, &m, &err), 0);
    if (m) {
        CHECK_EQ_INT(m->tok_embd.type, SMC_TYPE_Q8_0);
        CHECK_EQ_INT(m->layers[0].wq.type, SMC_TYPE_Q5_0);
        CHECK_EQ_INT(m->layers[1].wv.type, SMC_TYPE_Q8_0);
        CHECK_EQ_INT(m->layers[0].down.type, SMC_TYPE_Q4_K);   /* 1536-wide rows */
        CHECK_EQ_INT(m->layers[1].down.type, SMC_TYPE_Q6_K);
        smc_model_free(m);
    }
    CHECK_EQ_INT(smc_model_synthetic_reduced("smollm2-135m", SMC_TYPE_Q8_0, 3, -1, 64, &m, &err), -1);
}

void run_tests(void)
{
    smc_model *m = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_model_synthetic("gpt-5", SMC_TYPE_Q8_0, 1, &m, &err), -1);
    CHECK(strstr(err.msg, "unknown synthetic model 'gpt-5'") != NULL);
    CHECK_EQ_INT(smc_model_synthetic("smollm2-135m", SMC_TYPE_Q6_K, 1, &m, &err), -1);
    CHECK(strstr(err.msg, "q8_0, q4_0, q4_k_m, f16, f32") != NULL);
    check_q4_k_m();

    CHECK_EQ_INT(smc_model_synthetic("smollm2-135m", SMC_TYPE_Q4_0, 1, &m, &err), 0);
    if (!m)
        return;
    CHECK_STR(smc_model_arch(m), "llama");
    CHECK_EQ_INT(smc_model_n_embd(m), 576);
    CHECK_EQ_INT(smc_model_n_layer(m), 30);
    CHECK_EQ_INT(smc_model_n_head(m), 9);
    CHECK_EQ_INT(smc_model_n_head_kv(m), 3);
    CHECK_EQ_INT(smc_model_head_dim(m), 64);
    CHECK_EQ_INT(smc_model_n_ff(m), 1536);
    CHECK_EQ_INT(smc_model_n_vocab(m), 49152);
    CHECK(smc_model_vocab(m, &err) == NULL);
    /* Q4_0: 18 bytes per 32 weights. */
    CHECK_EQ_INT(smc_model_weight_bytes(m), expect_bytes(576, 30, 9, 3, 64, 1536, 49152, 18));

    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = 2;
    p.n_ctx = 64;
    smc_ctx *c = NULL;
    CHECK_EQ_INT(smc_ctx_new(m, &p, &c, &err), 0);
    CHECK_EQ_INT(smc_ctx_n_ctx(c), 64);
    int32_t s = smc_seq_new(c, &err);
    smc_batch_entry e[4] = {{s, 1, false}, {s, 500, false}, {s, 40000, false}, {s, 7, true}};
    smc_batch b = {e, 4};
    CHECK_EQ_INT(smc_decode(c, &b, &err), 0);
    const float *lg = smc_logits(c, 0);
    int finite = 1;
    double mean = 0, var = 0;
    for (int i = 0; i < 49152; i++) {
        finite &= isfinite(lg[i]);
        mean += lg[i] / 49152.0;
    }
    for (int i = 0; i < 49152; i++)
        var += (lg[i] - mean) * (lg[i] - mean) / 49152.0;
    CHECK(finite);
    CHECK(var > 1e-6);   /* not a constant row */
    float first = lg[0];
    smc_ctx_free(c);
    smc_model_free(m);

    if (getenv("SMC_TEST_SANITIZED"))
        return;   /* the larger shapes take a while under sanitizers */
    /* Another seed gives other weights. */
    CHECK_EQ_INT(smc_model_synthetic("smollm2-135m", SMC_TYPE_Q4_0, 2, &m, &err), 0);
    if (m) {
        CHECK_EQ_INT(smc_ctx_new(m, &p, &c, &err), 0);
        s = smc_seq_new(c, &err);
        for (int i = 0; i < 4; i++)
            e[i].seq = s;
        CHECK_EQ_INT(smc_decode(c, &b, &err), 0);
        CHECK(smc_logits(c, 0)[0] != first);
        smc_ctx_free(c);
        smc_model_free(m);
    }
    CHECK_EQ_INT(smc_model_synthetic("qwen2.5-0.5b", SMC_TYPE_Q4_0, 1, &m, &err), 0);
    if (m) {
        CHECK_STR(smc_model_arch(m), "qwen2");
        CHECK_EQ_INT(smc_model_n_vocab(m), 151936);
        CHECK_EQ_INT(smc_model_head_dim(m), 64);
        CHECK_EQ_INT(smc_model_weight_bytes(m), expect_bytes(896, 24, 14, 2, 64, 4864, 151936, 18));
        CHECK_EQ_INT(smc_ctx_new(m, &p, &c, &err), 0);
        s = smc_seq_new(c, &err);
        smc_batch_entry one = {s, 151935, true};
        smc_batch b1 = {&one, 1};
        CHECK_EQ_INT(smc_decode(c, &b1, &err), 0);
        CHECK(isfinite(smc_logits(c, 0)[151935]));
        smc_ctx_free(c);
        smc_model_free(m);
    }
}
