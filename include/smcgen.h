/*
 * smcgen.h — the whole public API of libsmcgen.
 *
 * smcgen makes language models obey hard constraints and soft preferences by
 * sequential Monte Carlo. This header is organised by module, in dependency
 * order: errors, GGUF files, tokenizers, the inference engine, constraints,
 * SMC. Every function that can fail returns 0 on success and a negative value
 * on failure, and fills the caller's smc_error with a message naming the
 * problem. Nothing here prints or exits.
 */
#ifndef SMCGEN_H
#define SMCGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ===================================================================== */
/* Errors                                                                 */
/* ===================================================================== */

typedef struct smc_error {
    char msg[512];
} smc_error;

/* A byte string that is not NUL-terminated (e.g. a view into a GGUF file). */
typedef struct smc_str {
    const char *ptr;
    size_t len;
} smc_str;

/* ===================================================================== */
/* GGUF files (src/gguf)                                                  */
/* ===================================================================== */

typedef enum smc_gguf_vtype {
    SMC_GGUF_U8 = 0, SMC_GGUF_I8 = 1, SMC_GGUF_U16 = 2, SMC_GGUF_I16 = 3,
    SMC_GGUF_U32 = 4, SMC_GGUF_I32 = 5, SMC_GGUF_F32 = 6, SMC_GGUF_BOOL = 7,
    SMC_GGUF_STRING = 8, SMC_GGUF_ARRAY = 9, SMC_GGUF_U64 = 10,
    SMC_GGUF_I64 = 11, SMC_GGUF_F64 = 12
} smc_gguf_vtype;

/* ggml tensor types (ids as stored in GGUF). */
typedef enum smc_type {
    SMC_TYPE_F32 = 0, SMC_TYPE_F16 = 1, SMC_TYPE_Q4_0 = 2, SMC_TYPE_Q4_1 = 3,
    SMC_TYPE_Q5_0 = 6, SMC_TYPE_Q5_1 = 7, SMC_TYPE_Q8_0 = 8, SMC_TYPE_Q8_1 = 9,
    SMC_TYPE_Q2_K = 10, SMC_TYPE_Q3_K = 11, SMC_TYPE_Q4_K = 12,
    SMC_TYPE_Q5_K = 13, SMC_TYPE_Q6_K = 14, SMC_TYPE_Q8_K = 15,
    SMC_TYPE_I8 = 24, SMC_TYPE_I16 = 25, SMC_TYPE_I32 = 26, SMC_TYPE_I64 = 27,
    SMC_TYPE_F64 = 28, SMC_TYPE_BF16 = 30
} smc_type;

/* Name ("q8_0"), elements per block, bytes per block. Unknown types give
 * NULL / 0 / 0. */
const char *smc_type_name(int type);
int64_t smc_type_block_size(int type);
size_t smc_type_block_bytes(int type);

typedef struct smc_gguf smc_gguf;

typedef struct smc_gguf_tensor {
    const char *name;        /* NUL-terminated */
    uint32_t n_dims;         /* 1..4 */
    int64_t ne[4];           /* ne[0] innermost; unused dims are 1 */
    int type;                /* smc_type */
    uint64_t offset;         /* from the start of the data section */
    uint64_t nbytes;
    const void *data;        /* inside the mapping */
} smc_gguf_tensor;

/* Open a file (mmap) or a caller-owned buffer (kept alive by the caller). */
int smc_gguf_open(const char *path, smc_gguf **out, smc_error *err);
int smc_gguf_open_buffer(const void *data, size_t size, smc_gguf **out, smc_error *err);
void smc_gguf_close(smc_gguf *g);

uint32_t smc_gguf_version(const smc_gguf *g);
uint32_t smc_gguf_alignment(const smc_gguf *g);
uint64_t smc_gguf_data_offset(const smc_gguf *g);   /* file offset of the data section */
size_t smc_gguf_file_size(const smc_gguf *g);

/* Metadata: index-based access, and lookups by key (-1 when absent). */
int64_t smc_gguf_n_kv(const smc_gguf *g);
int64_t smc_gguf_find_kv(const smc_gguf *g, const char *key);
const char *smc_gguf_kv_key(const smc_gguf *g, int64_t i);
smc_gguf_vtype smc_gguf_kv_type(const smc_gguf *g, int64_t i);
/* For arrays: element type and count (count is 1 for scalars). */
smc_gguf_vtype smc_gguf_kv_arr_type(const smc_gguf *g, int64_t i);
uint64_t smc_gguf_kv_arr_len(const smc_gguf *g, int64_t i);
/* Raw little-endian data of a scalar or a numeric array (NULL for strings,
 * string arrays and nested arrays). */
const void *smc_gguf_kv_data(const smc_gguf *g, int64_t i);
/* String value, or element j of a string array. */
smc_str smc_gguf_kv_str(const smc_gguf *g, int64_t i);
smc_str smc_gguf_kv_arr_str(const smc_gguf *g, int64_t i, uint64_t j);
/* Numeric element j of a numeric array (any integer/float/bool type). */
double smc_gguf_kv_arr_num(const smc_gguf *g, int64_t i, uint64_t j);

/* Typed lookups by key: 0 found, 1 absent, -1 present with an unusable type.
 * get_int accepts any integer type or bool; get_float any numeric type. */
int smc_gguf_get_int(const smc_gguf *g, const char *key, int64_t *out);
int smc_gguf_get_float(const smc_gguf *g, const char *key, double *out);
int smc_gguf_get_bool(const smc_gguf *g, const char *key, bool *out);
int smc_gguf_get_str(const smc_gguf *g, const char *key, smc_str *out);

int64_t smc_gguf_n_tensors(const smc_gguf *g);
const smc_gguf_tensor *smc_gguf_tensor_at(const smc_gguf *g, int64_t i);
const smc_gguf_tensor *smc_gguf_find_tensor(const smc_gguf *g, const char *name);

/* ===================================================================== */
/* Tokenizers (src/tokenizer)                                            */
/* ===================================================================== */

typedef struct smc_vocab smc_vocab;

enum smc_token_attr {
    SMC_TOKEN_NORMAL = 1, SMC_TOKEN_UNKNOWN = 2, SMC_TOKEN_CONTROL = 3,
    SMC_TOKEN_USER_DEFINED = 4, SMC_TOKEN_UNUSED = 5, SMC_TOKEN_BYTE = 6
};

/* Reads tokenizer.ggml.* metadata. The vocab copies what it needs: the GGUF
 * may be closed afterwards. */
int smc_vocab_load(const smc_gguf *g, smc_vocab **out, smc_error *err);
void smc_vocab_free(smc_vocab *v);

int32_t smc_vocab_n_tokens(const smc_vocab *v);
const char *smc_vocab_model(const smc_vocab *v);      /* "llama", "gpt2", ... */
const char *smc_vocab_pre(const smc_vocab *v);        /* pre-tokenizer name or "default" */
int32_t smc_vocab_bos(const smc_vocab *v);            /* -1 when none */
int32_t smc_vocab_eos(const smc_vocab *v);            /* -1 when none */
bool smc_vocab_add_bos(const smc_vocab *v);
bool smc_vocab_add_eos(const smc_vocab *v);
int smc_vocab_token_attr(const smc_vocab *v, int32_t id);   /* enum smc_token_attr */
/* The token's text as stored in the vocabulary (e.g. "▁the", "Ġthe"). */
smc_str smc_vocab_token_text(const smc_vocab *v, int32_t id);
/* The exact bytes the token stands for in generated text: byte-level BPE
 * decoded, "▁" -> " ", "<0xNN>" -> one byte. Control tokens give empty bytes. */
smc_str smc_vocab_token_bytes(const smc_vocab *v, int32_t id);

/* Tokenize `len` bytes of text. add_special: prepend BOS / append EOS as the
 * vocabulary asks. parse_special: recognise control/user-defined token texts
 * inside the text (never otherwise). *ids is malloc'd; caller frees. */
int smc_tokenize(const smc_vocab *v, const char *text, size_t len,
                 bool add_special, bool parse_special,
                 int32_t **ids, size_t *n_ids, smc_error *err);
/* Concatenation of smc_vocab_token_bytes (render_special: control tokens give
 * their text instead of nothing). *text is malloc'd and NUL-terminated. */
int smc_detokenize(const smc_vocab *v, const int32_t *ids, size_t n_ids,
                   bool render_special, char **text, size_t *len, smc_error *err);

/* ===================================================================== */
/* Inference engine (src/engine)                                         */
/* ===================================================================== */
/* (section owned by the engine module) */

/* ===================================================================== */
/* Constraints (src/constraint)                                          */
/* ===================================================================== */
/* (section owned by the constraint module) */

/* ===================================================================== */
/* Sequential Monte Carlo (src/smc)                                      */
/* ===================================================================== */
/* (section owned by the SMC module) */

#ifdef __cplusplus
}
#endif
#endif /* SMCGEN_H */
