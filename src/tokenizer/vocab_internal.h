/* vocab_internal.h — the in-memory vocabulary shared by the loader
 * (vocab_load.c), the tokenizers (bpe.c, spm.c, special.c, tokenize.c) and the
 * pre-tokenizer (pretokenize.c). */
#ifndef SMC_TOKENIZER_VOCAB_INTERNAL_H
#define SMC_TOKENIZER_VOCAB_INTERNAL_H

#include "smcgen.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/strmap.h"

typedef enum vocab_kind { VOCAB_SPM = 1, VOCAB_BPE = 2 } vocab_kind;

struct smc_vocab {
    vocab_kind kind;
    int32_t n_tokens;
    char model[32];
    char pre[64];

    char *text_arena;        /* all token texts, back to back */
    smc_str *texts;          /* n_tokens views into text_arena */
    char *bytes_arena;       /* all token byte strings */
    smc_str *bytes;          /* n_tokens views into bytes_arena */
    size_t max_bytes_len;    /* longest token byte string */
    float *scores;           /* n_tokens (0 when the file has none) */
    uint8_t *attr;           /* n_tokens, enum smc_token_attr */
    uint8_t *eog;            /* n_tokens, 1 for end-of-generation tokens */

    strmap token_ids;        /* token text -> id (last id wins, as llama.cpp) */
    char *merge_arena;       /* BPE merges "a b", back to back */
    strmap merge_ranks;      /* "a b" -> rank */

    int32_t byte_token[256]; /* token for a lone byte (SPM <0xNN>, BPE mapped char), -1 if none */

    int32_t *special;        /* control/user-defined/unknown ids, longest text first */
    int32_t n_special;
    int32_t n_user_defined;  /* of them, USER_DEFINED (matched without parse_special) */

    int32_t bos, eos, eot, eom, unk, pad, sep;
    bool add_bos, add_eos, add_space_prefix, ignore_merges;

    smc_pretok *pretok;      /* BPE only */
};

/* Looks up a token by its vocabulary text; -1 when absent. */
int32_t vocab_text_to_id(const smc_vocab *v, const char *s, size_t len);

/* Load steps (vocab_derive.c), run after the tokens, attributes and ids are
 * read: end-of-generation flags (may turn tokens into control tokens), then
 * token bytes, the special-token list and the lone-byte tokens. */
int vocab_build_eog(smc_vocab *v, smc_error *err);
int vocab_build_bytes(smc_vocab *v, smc_error *err);
int vocab_build_special(smc_vocab *v, smc_error *err);
void vocab_build_byte_tokens(smc_vocab *v);

/* A growable array of token ids. */
typedef struct id_vec {
    int32_t *ids;
    size_t n, cap;
} id_vec;

int id_vec_push(id_vec *o, int32_t id);

/* Appends the tokens of one raw-text fragment (no special tokens inside).
 * bpe: pre-tokenizes, byte-encodes and merges. spm: the caller has already
 * added the leading space; this escapes spaces and merges by score. */
int bpe_tokenize_fragment(const smc_vocab *v, const char *text, size_t len, id_vec *out,
                          smc_error *err);
int spm_tokenize_fragment(const smc_vocab *v, const char *text, size_t len, id_vec *out,
                          smc_error *err);

/* Splits text into raw-text pieces and special-token pieces (ids), trying
 * special tokens longest first as llama.cpp does: user-defined tokens
 * always, control and unknown ones only when parse_special. */
typedef struct fragment {
    size_t off, len;   /* raw text when id < 0 */
    int32_t id;        /* special token id, or -1 */
} fragment;

int special_partition(const smc_vocab *v, const char *text, size_t len, bool parse_special,
                      fragment **frags, size_t *n_frags, smc_error *err);

#endif
