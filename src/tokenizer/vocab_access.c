/* vocab_access.c — the smc_vocab accessors and the text -> id lookup. */
#include "tokenizer/vocab_internal.h"

int32_t vocab_text_to_id(const smc_vocab *v, const char *s, size_t len)
{
    return strmap_get(&v->token_ids, s, len);
}

int32_t smc_vocab_n_tokens(const smc_vocab *v) { return v->n_tokens; }
const char *smc_vocab_model(const smc_vocab *v) { return v->model; }
const char *smc_vocab_pre(const smc_vocab *v) { return v->pre; }
int32_t smc_vocab_bos(const smc_vocab *v) { return v->bos; }
int32_t smc_vocab_eos(const smc_vocab *v) { return v->eos; }
int32_t smc_vocab_eot(const smc_vocab *v) { return v->eot; }
int32_t smc_vocab_unk(const smc_vocab *v) { return v->unk; }
bool smc_vocab_add_bos(const smc_vocab *v) { return v->add_bos; }
bool smc_vocab_add_eos(const smc_vocab *v) { return v->add_eos; }
bool smc_vocab_add_space_prefix(const smc_vocab *v) { return v->add_space_prefix; }
size_t smc_vocab_max_token_bytes(const smc_vocab *v) { return v->max_bytes_len; }

bool smc_vocab_is_eog(const smc_vocab *v, int32_t id)
{
    return id >= 0 && id < v->n_tokens && v->eog[id];
}

int smc_vocab_token_attr(const smc_vocab *v, int32_t id)
{
    return (id >= 0 && id < v->n_tokens) ? v->attr[id] : 0;
}

smc_str smc_vocab_token_text(const smc_vocab *v, int32_t id)
{
    if (id < 0 || id >= v->n_tokens)
        return (smc_str){"", 0};
    return v->texts[id];
}

smc_str smc_vocab_token_bytes(const smc_vocab *v, int32_t id)
{
    if (id < 0 || id >= v->n_tokens)
        return (smc_str){"", 0};
    return v->bytes[id];
}

float smc_vocab_token_score(const smc_vocab *v, int32_t id)
{
    return (id >= 0 && id < v->n_tokens) ? v->scores[id] : 0.0f;
}
