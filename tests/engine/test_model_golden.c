/* test_model_golden.c — stories260K greedy decoding from a BOS-only prompt
 * reproduces the text llama2.c's run.c printed (200 steps), detokenized with
 * the model's own tokenizer; and the public model getters on that model. */
#include "test.h"

#include <cjson/cJSON.h>

#include "smcgen.h"

void run_tests(void)
{
    REQUIRE_SHARED();
    char *js = test_read_file(test_shared_path("models/stories260K_llama2c_argmax_golden.json"), NULL);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    free(js);
    CHECK(j != NULL);
    if (!j)
        return;
    const char *golden = cJSON_GetStringValue(cJSON_GetObjectItem(j, "expected_output"));
    int steps = (int)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "settings"), "steps")->valuedouble;
    CHECK(golden != NULL);

    smc_model *m = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_model_load(test_shared_path("models/stories260K.gguf"), &m, &err), 0);
    if (!m) {
        cJSON_Delete(j);
        return;
    }
    /* The shape the README documents. */
    CHECK_STR(smc_model_arch(m), "llama");
    CHECK_EQ_INT(smc_model_n_embd(m), 64);
    CHECK_EQ_INT(smc_model_n_layer(m), 5);
    CHECK_EQ_INT(smc_model_n_head(m), 8);
    CHECK_EQ_INT(smc_model_n_head_kv(m), 4);
    CHECK_EQ_INT(smc_model_n_vocab(m), 512);
    CHECK_EQ_INT(smc_model_head_dim(m), 8);

    const smc_vocab *v = smc_model_vocab(m, &err);
    CHECK_MSG(v != NULL, "tokenizer: %s", err.msg);
    smc_ctx *c = NULL;
    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = 1;
    CHECK_EQ_INT(smc_ctx_new(m, &p, &c, &err), 0);
    if (v && c) {
        /* run.c: forwards BOS at position 0, then one greedy token per step up
         * to `steps` positions, printing each sampled token (it stops early
         * on BOS, its end marker). */
        int32_t seq = smc_seq_new(c, &err), tok = smc_vocab_bos(v);
        CHECK_EQ_INT(tok, 1);
        int32_t out[512];
        int n = 0;
        for (int pos = 0; pos < steps; pos++) {
            smc_batch_entry e = {seq, tok, true};
            smc_batch b = {&e, 1};
            if (smc_decode(c, &b, &err)) {
                CHECK_MSG(0, "decode: %s", err.msg);
                break;
            }
            tok = smc_argmax(smc_logits(c, 0), smc_model_n_vocab(m));
            if (tok == 1)
                break;
            out[n++] = tok;
        }
        char *text = NULL;
        size_t len = 0;
        CHECK_EQ_INT(smc_detokenize(v, out, (size_t)n, false, &text, &len, &err), 0);
        if (text) {
            /* run.c drops the leading space of the first piece after BOS. */
            const char *t = text[0] == ' ' ? text + 1 : text;
            CHECK_MSG(strcmp(t, golden) == 0, "greedy text differs:\n got: %s\nwant: %s", t, golden);
            free(text);
        }
    }
    smc_ctx_free(c);
    smc_model_free(m);
    cJSON_Delete(j);
}
