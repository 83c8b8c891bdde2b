/* token_index_vocab.c — smc_token_index_from_vocab (kept apart so programs
 * that build indexes from arrays do not link the tokenizer). */
#include "constraint/token_index.h"

#include "util/error.h"

static const char *vocab_get(void *user, int32_t id, size_t *len)
{
    smc_str s = smc_vocab_token_bytes(user, id);
    *len = s.len;
    return s.ptr;
}

int smc_token_index_from_vocab(const smc_vocab *v, smc_token_index **out, smc_error *err)
{
    return smc_token_index_new(smc_vocab_n_tokens(v), vocab_get, (void *)v, smc_vocab_eos(v), out, err);
}
