/* test_vocab.h — the token byte strings the token-mask tests
 * (test_token_mask*.c) check masks against: struct vocab, and GPT-2's
 * vocabulary from ../shared. Header-only: each test file is its own binary. */
#ifndef SMC_TEST_VOCAB_H
#define SMC_TEST_VOCAB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"
#include "test.h"

typedef struct vocab {
    int32_t n;
    char **bytes;   /* NUL-terminated copies */
    size_t *lens;   /* 0 for EOS */
    int32_t eos;
} vocab;

static inline void free_vocab(vocab *v)
{
    for (int32_t i = 0; i < v->n; i++)
        free(v->bytes[i]);
    free(v->bytes);
    free(v->lens);
}

/* Ends a synthetic vocabulary whose first k tokens are made (room for two
 * more): an empty control token, then EOS; sets n and the lengths. */
static inline void vocab_close(vocab *v, int32_t k)
{
    v->bytes[k++] = strdup("");   /* a control token */
    v->eos = k;
    v->bytes[k++] = strdup("");
    v->n = k;
    for (int32_t i = 0; i < k; i++)
        v->lens[i] = strlen(v->bytes[i]);
}

/* Loads ../shared's GPT-2 vocabulary (*voc, freed by the caller) and its
 * token strings (*v); false with a note when ../shared is absent, or a
 * failed check when the file cannot be read. */
static inline bool load_gpt2(vocab *v, smc_vocab **voc, const char *test)
{
    const char *path = test_shared_path("vocab/ggml-vocab-gpt-2.gguf");
    if (!path) {
        fprintf(stderr, "note: ../shared absent, %s skipped\n", test);
        return false;
    }
    smc_gguf *gg = NULL;
    smc_error err = {{0}};
    *voc = NULL;
    if (smc_gguf_open(path, &gg, &err) != 0 || smc_vocab_load(gg, voc, &err) != 0) {
        CHECK_MSG(0, "cannot load the GPT-2 vocabulary: %s", err.msg);
        smc_gguf_close(gg);
        return false;
    }
    smc_gguf_close(gg);
    v->n = smc_vocab_n_tokens(*voc);
    v->eos = smc_vocab_eos(*voc);
    v->bytes = calloc((size_t)v->n, sizeof *v->bytes);
    v->lens = calloc((size_t)v->n, sizeof *v->lens);
    for (int32_t i = 0; i < v->n; i++) {
        smc_str s = smc_vocab_token_bytes(*voc, i);
        v->bytes[i] = malloc(s.len + 1);
        memcpy(v->bytes[i], s.ptr, s.len);
        v->bytes[i][s.len] = 0;
        v->lens[i] = i == v->eos ? 0 : s.len;
    }
    return true;
}

#endif
