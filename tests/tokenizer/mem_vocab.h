/* mem_vocab.h — a SentencePiece vocabulary written as GGUF in memory and
 * loaded (for tests that need particular token types or end-of-generation
 * ids). Header-only. */
#ifndef SMC_TEST_MEM_VOCAB_H
#define SMC_TEST_MEM_VOCAB_H

#include <stdio.h>

#include "../gguf/gguf_writer.h"
#include "smcgen.h"

/* n tokens with these texts and types (enum smc_token_attr); eot/eom < 0:
 * absent. BOS 1, EOS 2 (the SPM defaults). NULL on failure (printed). */
static inline smc_vocab *mem_spm_vocab(int n, const char *const *texts, const int *types, int eot, int eom)
{
    gbuf b = {0};
    gb_header(&b, 3, 0, 3 + (eot >= 0) + (eom >= 0));
    gb_kv_str(&b, "tokenizer.ggml.model", "llama");
    gb_key(&b, "tokenizer.ggml.tokens", 9);
    gb_arr(&b, 8, (uint64_t)n);
    for (int i = 0; i < n; i++)
        gb_str(&b, texts[i]);
    gb_key(&b, "tokenizer.ggml.token_type", 9);
    gb_arr(&b, 5, (uint64_t)n);
    for (int i = 0; i < n; i++)
        gb_u32(&b, (uint32_t)types[i]);
    if (eot >= 0)
        gb_kv_u32(&b, "tokenizer.ggml.eot_token_id", (uint32_t)eot);
    if (eom >= 0)
        gb_kv_u32(&b, "tokenizer.ggml.eom_token_id", (uint32_t)eom);
    smc_gguf *g = NULL;
    smc_vocab *v = NULL;
    smc_error err = {{0}};
    int rc = smc_gguf_open_buffer(b.p, b.n, &g, &err);
    if (rc == 0)
        rc = smc_vocab_load(g, &v, &err);
    if (rc)
        fprintf(stderr, "in-memory vocabulary: %s\n", err.msg);
    smc_gguf_close(g);
    gb_free(&b);
    return v;
}

#endif
