/* model_vocab.c — the model's tokenizer, loaded from its GGUF on first use
 * (kept apart so that programs not tokenizing do not link the tokenizer). */
#include "engine/model.h"

#include <string.h>

#include "util/error.h"

const smc_vocab *smc_model_vocab(smc_model *m, smc_error *err)
{
    if (m->vocab)
        return m->vocab;
    if (!m->gguf) {
        smc_fail(err, "this model has no tokenizer (synthetic model)");
        return NULL;
    }
    smc_str model;
    if (smc_gguf_get_str(m->gguf, "tokenizer.ggml.model", &model) != 0 ||
        (model.len == 8 && !memcmp(model.ptr, "no_vocab", 8)) ||
        (model.len == 4 && !memcmp(model.ptr, "none", 4))) {
        smc_fail(err, "this model has no tokenizer; give token ids instead");
        return NULL;
    }
    if (smc_vocab_load(m->gguf, &m->vocab, err) < 0) {
        m->vocab = NULL;
        return NULL;
    }
    m->vocab_free = smc_vocab_free;
    return m->vocab;
}
