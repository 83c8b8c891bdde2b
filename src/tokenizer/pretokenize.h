/* pretokenize.h — the byte-level BPE pre-tokenizers: for each
 * tokenizer.ggml.pre name, a list of PCRE2 regexes applied in sequence, each
 * splitting further the pieces the previous one produced. */
#ifndef SMC_TOKENIZER_PRETOKENIZE_H
#define SMC_TOKENIZER_PRETOKENIZE_H

#include "smcgen.h"

typedef struct smc_pretok smc_pretok;

typedef struct text_piece {
    size_t off, len;
} text_piece;

typedef struct piece_vec {
    text_piece *p;
    size_t n, cap;
} piece_vec;

/* Compiles the regexes of pre-tokenizer `name` ("gpt-2", "llama-bpe",
 * "qwen2", "starcoder", "smollm", "deepseek-coder", "default", ...). An
 * unknown name fails with an error naming it. */
int pretok_create(const char *name, smc_pretok **out, smc_error *err);
void pretok_free(smc_pretok *p);

/* Every supported name: fills up to max entries, returns the total. */
size_t pretok_names(const char **names, size_t max);

/* llama3-style pre-tokenizers take a piece that is a whole vocab token as is,
 * and force add_bos. */
bool pretok_ignore_merges(const smc_pretok *p);
bool pretok_forces_bos(const smc_pretok *p);

/* Splits text[0..len) into pieces covering it exactly, in order (matches and
 * the gaps between them). Invalid UTF-8 never matches and so ends up in the
 * gaps, byte for byte. out is reset first; the caller frees out->p. */
int pretok_split(const smc_pretok *p, const char *text, size_t len, piece_vec *out,
                 smc_error *err);

#endif
