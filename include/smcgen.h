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
#include <stdio.h>

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

/* Name of a metadata value type ("u32", "string", "array", ...); NULL when
 * unknown. */
const char *smc_gguf_vtype_name(uint32_t type);

typedef struct smc_gguf smc_gguf;

typedef struct smc_gguf_tensor {
    const char *name;        /* NUL-terminated */
    uint32_t n_dims;         /* 1..4 */
    int64_t ne[4];           /* ne[0] innermost; unused dims are 1 */
    int type;                /* smc_type */
    uint64_t offset;         /* from the start of the data section */
    uint64_t nbytes;
    const void *data;        /* inside the mapping; for smc_gguf_open, aligned to
                                smc_gguf_alignment() (at least 8 bytes) */
} smc_gguf_tensor;

/* Open a file or a caller-owned buffer (kept alive by the caller).
 * smc_gguf_open is smc_gguf_open_ex(SMC_GGUF_AUTO): a file of 16 MB or more
 * is read into anonymous memory backed by transparent huge pages when the
 * kernel offers them (enabled = always or madvise) and it takes at most half
 * the RAM; otherwise it is mapped read-only (SMC_GGUF_MMAP). Huge pages spare
 * the TLB misses of walking every weight per token through 4 KB pages:
 * single-sequence decode ran 1.2-1.4x faster that way (docs/performance.md). */
enum { SMC_GGUF_AUTO, SMC_GGUF_MMAP, SMC_GGUF_READ };
/* OR'ed into how: lock the file's memory (mapped or read) in RAM with mlock,
 * as llama.cpp's --mlock does. When the kernel refuses (RLIMIT_MEMLOCK) a
 * warning naming the limit goes to stderr and the file stays open unlocked. */
#define SMC_GGUF_MLOCK 0x100
int smc_gguf_open(const char *path, smc_gguf **out, smc_error *err);
int smc_gguf_open_ex(const char *path, int how, smc_gguf **out, smc_error *err);
/* 1 when the file was read into memory (SMC_GGUF_READ), 0 when mapped or a buffer. */
int smc_gguf_in_memory(const smc_gguf *g);
/* Makes the memory of a file read into memory writable (on) or read-only
 * again (off), for repacking weights in place at load time; 0 on success, -1
 * for a mapped file or a buffer (nothing changed). */
int smc_gguf_set_writable(smc_gguf *g, int on);
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
/* For arrays: element type and count (for scalars: the scalar's own type and
 * 1). Out-of-range indices give (smc_gguf_vtype)-1 and 0. */
smc_gguf_vtype smc_gguf_kv_arr_type(const smc_gguf *g, int64_t i);
uint64_t smc_gguf_kv_arr_len(const smc_gguf *g, int64_t i);
/* Raw little-endian data of a scalar or a numeric/bool array (NULL for
 * strings, string arrays and nested arrays). It is an aligned copy owned by
 * g, so it may be cast to the element type (e.g. const float * for f32). */
const void *smc_gguf_kv_data(const smc_gguf *g, int64_t i);
/* String value, or element j of a string array. */
smc_str smc_gguf_kv_str(const smc_gguf *g, int64_t i);
smc_str smc_gguf_kv_arr_str(const smc_gguf *g, int64_t i, uint64_t j);
/* Numeric element j of a numeric array (any integer/float/bool type), or the
 * scalar itself for j = 0; NAN when not numeric or out of range. */
double smc_gguf_kv_arr_num(const smc_gguf *g, int64_t i, uint64_t j);

/* Typed lookups by key: 0 found, 1 absent, -1 present with an unusable type.
 * get_int accepts any integer type or bool; get_float any numeric type. */
int smc_gguf_get_int(const smc_gguf *g, const char *key, int64_t *out);
int smc_gguf_get_float(const smc_gguf *g, const char *key, double *out);
int smc_gguf_get_bool(const smc_gguf *g, const char *key, bool *out);
int smc_gguf_get_str(const smc_gguf *g, const char *key, smc_str *out);

/* Any value as a view, for arrays of arrays (nested to any depth the reader
 * accepts). smc_gguf_kv_value: kv i's value; smc_gguf_value_at: element j of
 * an array of arrays (NULL otherwise or out of range). The others mirror the
 * smc_gguf_kv_* functions above (NULL views give -1 / 0 / NULL / NAN). */
typedef struct smc_gguf_value smc_gguf_value;
const smc_gguf_value *smc_gguf_kv_value(const smc_gguf *g, int64_t i);
const smc_gguf_value *smc_gguf_value_at(const smc_gguf_value *v, uint64_t j);
smc_gguf_vtype smc_gguf_value_type(const smc_gguf_value *v);
smc_gguf_vtype smc_gguf_value_arr_type(const smc_gguf_value *v);
uint64_t smc_gguf_value_len(const smc_gguf_value *v);
const void *smc_gguf_value_data(const smc_gguf_value *v);
/* A string value (j = 0) or element j of a string array. */
smc_str smc_gguf_value_str(const smc_gguf_value *v, uint64_t j);
double smc_gguf_value_num(const smc_gguf_value *v, uint64_t j);

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
int32_t smc_vocab_eot(const smc_vocab *v);            /* -1 when none */
int32_t smc_vocab_unk(const smc_vocab *v);            /* -1 when none */
/* True for every end-of-generation id: eos, eot, eom, and (as llama.cpp)
 * tokens such as <|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>. */
bool smc_vocab_is_eog(const smc_vocab *v, int32_t id);
/* SPM: smc_tokenize puts one space before the text (and after each special
 * token), so detokenizing gives " " + text; false for BPE. */
bool smc_vocab_add_space_prefix(const smc_vocab *v);
/* Length of the longest smc_vocab_token_bytes over all ids. */
size_t smc_vocab_max_token_bytes(const smc_vocab *v);
/* SPM merge score (0 when the file has none). */
float smc_vocab_token_score(const smc_vocab *v, int32_t id);
int smc_vocab_token_attr(const smc_vocab *v, int32_t id);   /* enum smc_token_attr */
/* The token's text as stored in the vocabulary (e.g. "▁the", "Ġthe"). */
smc_str smc_vocab_token_text(const smc_vocab *v, int32_t id);
/* The exact bytes the token stands for in generated text: byte-level BPE
 * decoded, "▁" -> " ", "<0xNN>" -> one byte, user-defined tokens their text.
 * Control, unknown and unused tokens give empty bytes. Out-of-range ids give
 * empty bytes and attr 0. All are precomputed at load. */
smc_str smc_vocab_token_bytes(const smc_vocab *v, int32_t id);

/* Tokenize `len` bytes of text (any bytes: invalid UTF-8 is kept byte for
 * byte). add_special: prepend BOS / append EOS as the vocabulary asks.
 * User-defined tokens (e.g. added tokens) are always recognised in the text
 * before the normal tokenizer runs, as llama.cpp does; parse_special also
 * recognises control and unknown token texts. Longest text first. Byte-level BPE drops a
 * byte that no token spells (as llama.cpp); SPM falls back to <0xNN> tokens,
 * then to the unknown token. *ids is malloc'd (also when empty); caller
 * frees. Thread-safe on a shared vocab. */
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

/* A loaded model (llama, qwen2 or qwen3 architecture). Read-only once
 * loaded: several contexts may share one model. */
typedef struct smc_model smc_model;

/* Load a GGUF file (mmapped; weights are used in place). Unsupported
 * architectures or tensor types fail with a message naming them. */
int smc_model_load(const char *path, smc_model **out, smc_error *err);
/* The same, the file opened as smc_gguf_open_ex(how) does (SMC_GGUF_AUTO,
 * SMC_GGUF_MMAP or SMC_GGUF_READ, optionally | SMC_GGUF_MLOCK). */
int smc_model_load_ex(const char *path, int how, smc_model **out, smc_error *err);
/* A model with random weights and the shape of a real one, built in memory:
 * shape "smollm2-135m", "qwen2.5-0.5b" or "llama3.2-1b"; type SMC_TYPE_Q8_0,
 * SMC_TYPE_Q4_0, SMC_TYPE_F16 or SMC_TYPE_F32. It has no vocabulary. */
int smc_model_synthetic(const char *shape, int type, uint64_t seed,
                        smc_model **out, smc_error *err);
/* Pseudo-type for smc_model_synthetic: llama.cpp's Q4_K_M mix (Q4_K
 * matrices; Q6_K for the embedding/output and for attn_v and ffn_down in
 * the layers llama.cpp favours; rows not a multiple of 256 fall back to
 * Q5_0 / Q8_0 as llama.cpp does). */
#define SMC_SYNTHETIC_Q4_K_M 1000
/* The same with n_layer layers and a vocabulary of n_vocab ids instead of
 * the real ones (0: the shape's own), for small test models of a real
 * shape. */
int smc_model_synthetic_reduced(const char *shape, int type, uint64_t seed, int32_t n_layer,
                                int32_t n_vocab, smc_model **out, smc_error *err);
/* Writes the model (hyperparameters and weights in their stored types) as
 * a GGUF v3 file that smc_model_load and llama.cpp read; no tokenizer
 * (tokenizer.ggml.model = no_vocab). */
int smc_model_save(const smc_model *m, const char *path, smc_error *err);
void smc_model_free(smc_model *m);

const char *smc_model_arch(const smc_model *m);        /* "llama", "qwen2", "qwen3" */
int32_t smc_model_n_vocab(const smc_model *m);
int32_t smc_model_n_embd(const smc_model *m);
int32_t smc_model_n_layer(const smc_model *m);
int32_t smc_model_n_head(const smc_model *m);
int32_t smc_model_n_head_kv(const smc_model *m);
int32_t smc_model_head_dim(const smc_model *m);
int32_t smc_model_n_ff(const smc_model *m);
int32_t smc_model_n_ctx_train(const smc_model *m);
/* 1 when the model's file was read into memory (SMC_GGUF_READ, or AUTO's
 * choice), 0 when it is mapped or the model is synthetic. */
int smc_model_in_memory(const smc_model *m);
/* Bytes of weight matrices one token's forward pass reads (all layers plus
 * the output head). */
uint64_t smc_model_weight_bytes(const smc_model *m);
/* The model's tokenizer, loaded on first call (so not thread safe until that
 * first call returned); NULL when the file has none (tokenizer.ggml.model =
 * no_vocab) or it could not be loaded (then err, when given, says why).
 * Owned by the model. */
const smc_vocab *smc_model_vocab(smc_model *m, smc_error *err);

/* The library's version ("0.1.0"), and one line on CPU features: the SIMD
 * kernels this build carries, which of them this CPU supports and which are
 * in use. */
const char *smc_version(void);
const char *smc_cpu_features(void);

/* An evaluation context: a paged KV cache holding many sequences, scratch
 * buffers, a thread pool and the logits of the last smc_decode. Not thread
 * safe: one caller at a time. */
typedef struct smc_ctx smc_ctx;

typedef struct smc_ctx_params {
    int32_t n_threads;        /* 0: all cores */
    size_t kv_budget_bytes;   /* KV cache memory limit; 0: 512 MiB */
    int32_t n_ctx;            /* max tokens per sequence; 0: the model's context length */
    bool exact;               /* dequantise quantised weights to f32 before each dot
                               * product instead of quantising activations to 8 bits
                               * (slower; matches a float reference closely) */
} smc_ctx_params;

smc_ctx_params smc_ctx_default_params(void);
int smc_ctx_new(const smc_model *m, const smc_ctx_params *params, smc_ctx **out, smc_error *err);
void smc_ctx_free(smc_ctx *c);
int32_t smc_ctx_n_ctx(const smc_ctx *c);
int32_t smc_ctx_n_threads(const smc_ctx *c);
/* KV memory in use (blocks held by live sequences), in bytes. */
size_t smc_ctx_kv_used_bytes(const smc_ctx *c);

/* Sequences are small integer ids (>= 0) inside a context. A new sequence
 * is empty. A fork shares every KV block of its source (no copy: the
 * partly filled last block is copied only when one of them appends to it).
 * Return the new id, or -1 with err filled (e.g. too many sequences). */
int32_t smc_seq_new(smc_ctx *c, smc_error *err);
int32_t smc_seq_fork(smc_ctx *c, int32_t seq, smc_error *err);
void smc_seq_free(smc_ctx *c, int32_t seq);             /* unknown ids are ignored */
int32_t smc_seq_len(const smc_ctx *c, int32_t seq);     /* -1 for an unknown id */
/* Drops every token of seq after the first len (no-op when len >= its
 * length; unknown ids are ignored). Blocks still shared with forks stay
 * theirs; the next append copies a shared partial last block first. */
void smc_seq_truncate(smc_ctx *c, int32_t seq, int32_t len);

/* One batch entry appends `token` to sequence `seq` (at position
 * smc_seq_len + the number of earlier entries of the same seq in the batch).
 * Entries of many sequences, prompt chunks and single tokens, may be mixed. */
typedef struct smc_batch_entry {
    int32_t seq;
    int32_t token;
    bool want_logits;
} smc_batch_entry;

typedef struct smc_batch {
    const smc_batch_entry *entries;
    int32_t n;
} smc_batch;

/* Evaluates the batch; on failure (unknown seq, bad token, context length or
 * KV budget exceeded) nothing is appended. */
int smc_decode(smc_ctx *c, const smc_batch *batch, smc_error *err);
/* Number of entries of the last batch that asked for logits, and the n_vocab
 * logits of the i-th of them (in batch order); NULL when out of range. Valid
 * until the next smc_decode. */
int32_t smc_n_logits(const smc_ctx *c);
const float *smc_logits(const smc_ctx *c, int32_t i);

/* Sampling: a seeded generator (xoshiro256**) and temperature / top-k / top-p
 * sampling. temp <= 0 is greedy (argmax); top_k <= 0 and top_p >= 1 disable
 * those filters. */
typedef struct smc_rng {
    uint64_t s[4];
} smc_rng;

void smc_rng_seed(smc_rng *r, uint64_t seed);
uint64_t smc_rng_next(smc_rng *r);
double smc_rng_uniform(smc_rng *r);                     /* [0, 1) */
int32_t smc_argmax(const float *logits, int32_t n);
int32_t smc_sample(const float *logits, int32_t n, float temp, int32_t top_k, float top_p,
                   smc_rng *rng);

/* ===================================================================== */
/* Constraints (src/constraint)                                          */
/* ===================================================================== */
/* (section owned by the constraint module)
 *
 * Grammars (GBNF, Lark, regex; JSON Schema is converted to one of these) are
 * compiled to one IR: a context-free grammar whose terminals are byte sets,
 * UTF-8 character classes expanded to exact byte sequences. A matcher is an
 * Earley recognizer over bytes whose states (Earley sets) are interned and
 * memoised per grammar, so a matcher is one pointer: cloning is O(1), and
 * transitions and token masks are cached per state (a lazily built automaton).
 * The first mask of a state walks the vocabulary trie (tens to hundreds of
 * microseconds on 50k tokens); later masks of the same state are a copy.
 * The cache lives as long as the grammar (masks capped at 512 MiB).
 * A grammar may be shared by threads: its internal cache has a lock (mask
 * computations on one grammar are serialised).
 * Errors from the parsers name the line and column ("3:14: ..."). */

typedef struct smc_grammar smc_grammar;      /* compiled grammar (immutable to callers, shareable) */

/* Compile GBNF (llama.cpp syntax plus '_' in names and left recursion).
 * root_rule NULL means "root". */
int smc_grammar_from_gbnf(const char *text, size_t len, const char *root_rule,
                          smc_grammar **out, smc_error *err);
/* Compile a Lark grammar (lowercase rules, UPPERCASE terminals, %import
 * common.X, %ignore, "s"i, /re/flags, ~ and {m,n}). start NULL means "start".
 * Lark's contextual lexer is approximated: the language is the CFG with
 * %ignore'd terminals allowed before every terminal and at the end. */
int smc_grammar_from_lark(const char *text, size_t len, const char *start,
                          smc_grammar **out, smc_error *err);
/* Compile a regex (PCRE-like subset, whole-string match; ^ and $ allowed only
 * at the ends; no backreferences or lookaround). */
int smc_grammar_from_regex(const char *pattern, size_t len, smc_grammar **out, smc_error *err);
/* Load a file by extension: .gbnf, .lark, .regex/.re (whole file is the pattern,
 * a trailing newline stripped). */
int smc_grammar_from_file(const char *path, smc_grammar **out, smc_error *err);
void smc_grammar_free(smc_grammar *g);

/* Size of the compiled IR (for `smcgen grammar check`). */
typedef struct smc_grammar_stats {
    int n_rules;          /* rules as written in the source */
    int n_nonterminals;   /* after desugaring (repetitions, groups, UTF-8) */
    int n_productions;
    int n_terminals;      /* distinct byte sets */
} smc_grammar_stats;
void smc_grammar_get_stats(const smc_grammar *g, smc_grammar_stats *out);
/* Warnings from compilation (e.g. "Lark priority ignored"), "" when none. */
const char *smc_grammar_warnings(const smc_grammar *g);
/* The bounded repetitions whose token masks are walked with a counter
 * ("counted chains": x{m,n} with n > m + 1, JSON Schema maxLength strings,
 * rules nested as sK ::= "" | x sK+1 or "" | sK+1 x down to "" | x): their
 * number, and the first `cap` of their bounds (how many more copies of x
 * each allows), ascending, in bounds (NULL when cap is 0). */
int smc_grammar_counted_chains(const smc_grammar *g, uint32_t *bounds, int cap);

typedef enum smc_match_kind {
    SMC_MATCH_INVALID = 0,    /* not a prefix of any string of the language */
    SMC_MATCH_PREFIX = 1,     /* a proper prefix, not itself in the language */
    SMC_MATCH_COMPLETE = 2    /* in the language (it may also continue) */
} smc_match_kind;
smc_match_kind smc_grammar_classify(const smc_grammar *g, const char *bytes, size_t n);

/* Matcher: per-particle state. The grammar must outlive its matchers. */
typedef struct smc_matcher smc_matcher;
smc_matcher *smc_matcher_new(const smc_grammar *g);       /* NULL on out of memory */
smc_matcher *smc_matcher_clone(const smc_matcher *m);     /* O(1) */
void smc_matcher_free(smc_matcher *m);
/* Advance by bytes: 0 ok, -1 rejected (matcher unchanged). */
int smc_matcher_advance_bytes(smc_matcher *m, const char *bytes, size_t n);
bool smc_matcher_is_accepting(const smc_matcher *m);  /* the bytes so far are a complete string */
bool smc_matcher_can_continue(const smc_matcher *m);  /* some non-empty extension stays valid */
bool smc_matcher_is_finished(const smc_matcher *m);   /* EOS was advanced */
/* Work limit per mask: vocabulary-trie nodes visited plus Earley items
 * processed building new recognizer states (default 4,000,000; 0 =
 * unlimited). Exceeding it makes the mask functions fail with a message
 * saying so (nothing is cached; the matcher is unchanged). */
void smc_matcher_set_limit(smc_matcher *m, uint64_t max_work);

/* The vocabulary's byte strings in a trie, built once per vocabulary and
 * shared by any number of matchers and grammars (immutable). Tokens with
 * empty byte strings (control tokens) are never allowed, except eos. */
typedef struct smc_token_index smc_token_index;
/* get(user, id, &len) returns token id's bytes (valid until the call returns). */
typedef const char *(*smc_token_bytes_fn)(void *user, int32_t id, size_t *len);
int smc_token_index_new(int32_t n_tokens, smc_token_bytes_fn get, void *user,
                        int32_t eos_id /* -1 = none */, smc_token_index **out, smc_error *err);
/* Arrays: bytes[i] of lens[i] bytes for each token. */
int smc_token_index_from_arrays(int32_t n_tokens, const char *const *bytes, const size_t *lens,
                                int32_t eos_id, smc_token_index **out, smc_error *err);
/* From a vocabulary (smc_vocab_token_bytes, smc_vocab_eos). */
int smc_token_index_from_vocab(const smc_vocab *v, smc_token_index **out, smc_error *err);
void smc_token_index_free(smc_token_index *ix);
int32_t smc_token_index_n_tokens(const smc_token_index *ix);
int32_t smc_token_index_eos(const smc_token_index *ix);
/* Words of a mask: (n_tokens + 31) / 32. Bit i of the mask is
 * mask[i >> 5] >> (i & 31) & 1. */
size_t smc_token_mask_words(const smc_token_index *ix);

/* Advance by a token: its bytes, or EOS (allowed only when accepting; the
 * matcher is then finished). 0 ok, -1 rejected (matcher unchanged). */
int smc_matcher_advance_token(smc_matcher *m, const smc_token_index *ix, int32_t token_id);
/* Fill mask_bits (smc_token_mask_words words) with the allowed tokens: those
 * whose bytes can be advanced, plus EOS exactly when accepting. A finished
 * matcher allows nothing. 0 ok, -1 on error (work limit, out of memory, a
 * vocabulary token longer than 4096 bytes). */
int smc_matcher_token_mask(smc_matcher *m, const smc_token_index *ix, uint32_t *mask_bits,
                           smc_error *err);
/* Fused: log sum over allowed tokens of exp(logits[i]) (natural log; -INFINITY
 * when nothing is allowed), filling mask_bits_out (may be NULL) as
 * smc_matcher_token_mask does. Returns NAN on error (err filled). */
double smc_matcher_masked_logsumexp(smc_matcher *m, const smc_token_index *ix,
                                    const float *logits, uint32_t *mask_bits_out, smc_error *err);

/* JSON Schema (src/constraint/json_schema*.c): schema text → GBNF (root rule
 * "root"; *gbnf_out malloc'd, caller frees) or → compiled grammar. Output is
 * one JSON value, properties in schema order; docs/json-schema.md lists every
 * design choice. Keywords a grammar cannot enforce exactly are errors naming
 * the keyword and its JSON pointer; keywords of no draft are ignored with a
 * warning (smc_json_schema_convert's *warnings_out, or the compiled grammar's
 * smc_grammar_warnings) unless STRICT. Flags:
 *   COMPACT             no whitespace at all (the default; kept for old callers)
 *   NO_EXTRA_PROPERTIES an absent additionalProperties means false (llama.cpp)
 *   FLEXIBLE_WS         at most one bounded whitespace run between tokens
 *                       (" " or a newline + up to 20 spaces/tabs)
 *   STRICT              refuse unknown keywords instead of ignoring them
 *   ANY_ORDER           object properties in any order, as validators accept
 *                       them (objects with more than 10 declared properties
 *                       keep the schema's order, with a warning) */
#define SMC_JSON_SCHEMA_COMPACT 1u
#define SMC_JSON_SCHEMA_NO_EXTRA_PROPERTIES 2u
#define SMC_JSON_SCHEMA_FLEXIBLE_WS 4u
#define SMC_JSON_SCHEMA_STRICT 8u
#define SMC_JSON_SCHEMA_ANY_ORDER 16u
/* As smc_json_schema_to_gbnf_ex, also returning the warnings (one per line,
 * malloc'd; NULL when none) when warnings_out is not NULL. */
int smc_json_schema_convert(const char *schema_json, size_t len, unsigned flags, char **gbnf_out,
                            char **warnings_out, smc_error *err);
/* "compact" → 0, "flexible" → SMC_JSON_SCHEMA_FLEXIBLE_WS; -1 otherwise. */
int smc_json_schema_ws_flag(const char *name);
int smc_json_schema_to_gbnf(const char *schema_json, size_t len, char **gbnf_out, smc_error *err);
int smc_json_schema_to_gbnf_ex(const char *schema_json, size_t len, unsigned flags,
                               char **gbnf_out, smc_error *err);
int smc_grammar_from_json_schema(const char *schema_json, size_t len, smc_grammar **out,
                                 smc_error *err);
int smc_grammar_from_json_schema_ex(const char *schema_json, size_t len, unsigned flags,
                                    smc_grammar **out, smc_error *err);

/* ===================================================================== */
/* Sequential Monte Carlo (src/smc)                                      */
/* ===================================================================== */
/* (section owned by the SMC module)
 *
 * Target over complete (EOS-terminated) generations x of at most max_tokens
 * tokens:   g(x) ∝ p_LM(x) · Φ_cheap(x) · Φ_critic(x).
 * The proposal is the LM's next-token distribution restricted to what the
 * cheap (token-level) potential allows; each step's weight is the log mass of
 * that restricted distribution (the weight correction); the critic acts as a
 * twist at the boundaries it declares and by its complete score at EOS.
 * All scores are natural logarithms; -INFINITY means "impossible". */

/* Random numbers: smc_rng (declared with the engine) is driven here by the
 * SMC module's own xoshiro256** / splitmix64 code, seeded from smc_config. */

/* ---- Language models: the interface the sampler drives ---------------
 * States are opaque, reference-counted handles owned by the LM. */
typedef struct smc_lm {
    void *self;
    int32_t n_vocab;
    int32_t eos;                                /* the token that ends a generation */
    /* Bytes the token contributes to the generated text (EOS: none). */
    smc_str (*token_bytes)(void *self, int32_t tok);
    /* A new state holding the prompt (an LM may refuse an empty one). */
    int (*root)(void *self, const int32_t *prompt, size_t n_prompt, void **state, smc_error *err);
    /* A new reference to the same state (cheap: resampling forks particles). */
    void *(*fork)(void *self, void *state);
    void (*release)(void *self, void *state);
    /* Appends tok; consumes the reference in *state and stores the extended
     * state there (in place when the caller held the only reference). */
    int (*extend)(void *self, void **state, int32_t tok, smc_error *err);
    /* Next-token scores for n states at once (one batch): logits[i*n_vocab+v]
     * are unnormalised log-probabilities (the sampler normalises them). */
    int (*next_logits)(void *self, void *const *states, size_t n, float *logits, smc_error *err);
    /* Optional (NULL: none): toks[0..n) are the tokens that will extend this
     * state next, in order (the constraint allows nothing else). The LM may
     * evaluate them in its next next_logits call, as one chunk with that
     * batch, so that extending by them later needs no evaluation of its own;
     * next_logits of the extended states then gives what it would have given
     * without the hint (up to the rounding of a chunked evaluation).
     * Extending by any other token stays correct. 0, or -1 with err. */
    int (*lookahead)(void *self, void *state, const int32_t *toks, size_t n, smc_error *err);
} smc_lm;

/* ---- Potentials ------------------------------------------------------
 * A potential scores the generated text (the bytes after the prompt).
 * Contract: if prefix(x) = -inf then complete(xy) = -inf for every y.
 * `text`/`len` is always the whole generated text so far. */

/* One request of a batch: a particle's potential state and whole text, as
 * complete (EOS reached) or as a prefix. */
typedef struct smc_score_request {
    void *state;
    const char *text;
    size_t len;
    bool complete;
} smc_score_request;

typedef struct smc_potential_vtable {
    /* Per-particle state. state_new/clone/free and advance may be NULL for
     * stateless potentials; prefix and complete are required. The vtable
     * must outlive the potential. */
    int (*state_new)(void *self, void **state, smc_error *err);
    int (*state_clone)(void *self, const void *state, void **out, smc_error *err);
    void (*state_free)(void *self, void *state);
    /* The text grew by its last n_new bytes (one token). */
    int (*advance)(void *self, void *state, const char *text, size_t len, size_t n_new,
                   smc_error *err);
    /* log Φ(text as a prefix) and log Φ(text as a complete string). */
    double (*prefix)(void *self, void *state, const char *text, size_t len);
    double (*complete)(void *self, void *state, const char *text, size_t len);
    /* Token level (optional; the cheap potential needs one of the two):
     * logw_next fills out[n_vocab] with log Φ(text+tok)/Φ(text), and at EOS
     * complete - prefix. token_mask (Boolean potentials) sets bit v of
     * bits[(n_vocab+31)/32] when token v is allowed (EOS: when complete). */
    int (*logw_next)(void *self, void *state, const char *text, size_t len, double *out,
                     smc_error *err);
    int (*token_mask)(void *self, void *state, const char *text, size_t len, uint32_t *bits,
                      smc_error *err);
    /* Boolean: is this one token allowed (1), not (0), error (-1). Used by the
     * AWRS proposal; optional. */
    int (*token_allowed)(void *self, void *state, const char *text, size_t len, int32_t tok,
                         smc_error *err);
    /* Critics: is the text, whose last n_new bytes just arrived, at a
     * boundary where prefix() is worth evaluating? NULL: every token is.
     * Between boundaries the last prefix value carries over. */
    bool (*is_boundary)(void *self, const char *text, size_t len, size_t n_new);
    void (*destroy)(void *self);
    /* Optional: a potential that cannot score (e.g. an external critic
     * process died) returns +INFINITY from prefix/complete, and this says
     * why; smc_run then fails with that message. */
    const char *(*failure)(void *self);
    /* Optional batch scoring (e.g. one round trip to an external critic for
     * all particles of a step): out[i] = complete(reqs[i]) when
     * reqs[i].complete, else prefix(reqs[i]), exactly the values the one-by-one
     * calls would give (+INFINITY included); the requests' states are
     * distinct. Returns 0, or -1 with err when the whole batch failed. NULL:
     * the sampler calls prefix/complete one by one. smc_run gathers, each
     * step, the particles that reached a critic boundary and those that ended,
     * and makes one call with all of them. */
    int (*score_batch)(void *self, int n, const smc_score_request *reqs, double *out,
                       smc_error *err);
    /* Optional, for traces: why text is impossible (its prefix or complete
     * score was -inf): a NUL-terminated reason in buf[cap]. smc_run calls it
     * only when it records a trace (smc_config.trace), for particles that
     * the potential just killed. */
    void (*explain)(void *self, void *state, const char *text, size_t len, bool complete,
                    char *buf, size_t cap);
} smc_potential_vtable;

typedef struct smc_potential smc_potential;
/* Wraps a vtable and its object (destroy(self) runs at smc_potential_free).
 * n_vocab/eos: the LM vocabulary the token-level methods index (0/-1 for a
 * pure byte-level critic). NULL on allocation failure (self not destroyed).
 * Methods are called from one thread at a time. */
smc_potential *smc_potential_new(const smc_potential_vtable *vt, void *self, const char *name,
                                 int32_t n_vocab, int32_t eos);
void smc_potential_free(smc_potential *p);
const char *smc_potential_name(const smc_potential *p);
/* Product of n potentials (it takes ownership of them, also on failure):
 * scores add; token masks intersect; it is at a boundary when any factor is,
 * and re-evaluates only the factors whose boundary was crossed. When a factor
 * has score_batch, so does the product: it hands each such factor one batch
 * of the requests that factor must score (the others are scored one by one). */
int smc_potential_product(smc_potential **parts, int n, smc_potential **out, smc_error *err);

/* Boolean constraints (e.g. a grammar matcher) as potentials: 0 / -inf. */
typedef struct smc_bool_vtable {
    int (*state_new)(void *self, void **state, smc_error *err);
    int (*state_clone)(void *self, const void *state, void **out, smc_error *err);
    void (*state_free)(void *self, void *state);
    /* Feed bytes; false when they cannot start any accepted string. */
    bool (*advance)(void *self, void *state, const char *bytes, size_t n);
    bool (*is_accepting)(void *self, const void *state);
    /* Optional fast mask over non-EOS tokens (bit v set = allowed); NULL: the
     * adapter tries each token on a cloned state. */
    int (*token_mask)(void *self, const void *state, uint32_t *bits, smc_error *err);
    void (*destroy)(void *self);                /* optional */
} smc_bool_vtable;
/* Tokens with no bytes other than EOS are never allowed. The LM must outlive
 * the potential (token bytes are read from it). vt->destroy(self) runs when
 * the potential is freed; on failure self is left to the caller. */
int smc_potential_from_bool(const smc_bool_vtable *vt, void *self, const char *name,
                            const smc_lm *lm, smc_potential **out, smc_error *err);

/* ---- Adapters to the engine and the constraint module ----------------- */
/* An smc_lm over the inference engine. Each state is a KV sequence of ctx
 * (forks share KV blocks via smc_seq_fork on the first diverging token);
 * next_logits evaluates all particles' new tokens in one smc_decode batch.
 * Token bytes come from vocab (ids it lacks have none); eos < 0 means the
 * vocabulary's EOS. Every other end-of-generation token of the vocabulary
 * (smc_vocab_is_eog: EOT, EOM, <|im_end|>, ...) also ends a particle: its
 * probability is added to EOS's and it is never proposed itself. The prompt
 * given to smc_run must be non-empty (BOS).
 * model, ctx and vocab must outlive it; free with smc_engine_lm_free. */
int smc_engine_lm_new(const smc_model *model, smc_ctx *ctx, const smc_vocab *vocab, int32_t eos,
                      smc_lm **out, smc_error *err);
void smc_engine_lm_free(smc_lm *lm);
/* Prompt reuse across runs: keep the root states (and KV) of the last n
 * prompts, so that a run whose prompt equals one of them computes none of
 * it, and one sharing a prefix with one computes only the rest (forked KV
 * blocks). 0 (the default) turns it off and frees what it held. The cache
 * holds KV memory between runs. 0, or -1 with err (n outside 0..64). */
int smc_engine_lm_set_prompt_cache(smc_lm *lm, int n, smc_error *err);
/* Tokens the engine LM has evaluated, and prompt tokens it took from the
 * prompt cache instead, since it was made. */
void smc_engine_lm_counts(const smc_lm *lm, int64_t *decoded, int64_t *reused);
/* Engine decodes (batches: passes over the weights) the engine LM has run
 * since it was made. Forced tokens evaluated ahead (smc_config.lookahead)
 * save passes: a step whose states all follow evaluated runs needs none. */
int64_t smc_engine_lm_passes(const smc_lm *lm);
/* A grammar as a Boolean cheap potential over lm's tokens (matcher per
 * particle, masks from ix, whose EOS must be lm's). g, ix and lm must outlive
 * the potential. */
int smc_potential_from_grammar(const smc_grammar *g, const smc_token_index *ix, const smc_lm *lm,
                               const char *name, smc_potential **out, smc_error *err);

/* An LM whose EOS also stands for the given stop tokens (genlm's
 * eos_byte_strings, e.g. every token containing "\n"): their probability
 * mass is added to EOS's and they are never proposed (a stop token's bytes
 * are not part of the text). base must outlive it. */
int smc_lm_stops_new(const smc_lm *base, const int32_t *stop, size_t n_stop, smc_lm **out,
                     smc_error *err);
void smc_lm_stops_free(smc_lm *lm);
/* Lazy constraints (think-then-constrain): a potential that is 1 on the
 * text before the first occurrence of a trigger and inner's score of the
 * text after it (the bytes following the trigger's end). The trigger is a
 * string, or (is_regex) a PCRE2 pattern whose earliest-ending match counts
 * (matches are looked for within 256 bytes before each new token and must
 * be shorter). Token level: before the trigger every token is allowed (the
 * proposal is the plain model) except one that completes the trigger with
 * bytes inner rejects after it; EOS is allowed there unless `required`
 * (then a complete text must contain the trigger). Works for a cheap
 * potential (mask, logw_next, AWRS) and for a critic (boundaries: the
 * trigger's end and inner's boundaries after it). Takes ownership of inner,
 * also on failure; lm (token bytes) must outlive the result. */
int smc_potential_lazy(smc_potential *inner, const smc_lm *lm, const char *trigger, size_t len,
                       bool is_regex, bool required, smc_potential **out, smc_error *err);

/* Ids of lm's tokens whose bytes contain needle (*ids malloc'd). */
int smc_lm_tokens_containing(const smc_lm *lm, const char *needle, size_t len, int32_t **ids,
                             size_t *n, smc_error *err);

/* ---- Resampling ------------------------------------------------------ */
typedef enum smc_resample_scheme {
    SMC_RESAMPLE_MULTINOMIAL, SMC_RESAMPLE_STRATIFIED, SMC_RESAMPLE_SYSTEMATIC,
    SMC_RESAMPLE_RESIDUAL
} smc_resample_scheme;
const char *smc_resample_name(smc_resample_scheme s);
int smc_resample_parse(const char *name, smc_resample_scheme *out);   /* 0 ok, -1 unknown */
/* Draws m ancestor indices (sorted ascending) for n particles with log
 * weights logw. -1 when no weight is finite. */
int smc_resample(smc_resample_scheme s, const double *logw, int n, int m, smc_rng *rng,
                 int *ancestors);
/* 1 / Σ w̄², with w̄ the normalised weights (0 when all are -inf). */
double smc_ess(const double *logw, int n);
double smc_log_mean_exp(const double *logw, int n);     /* -inf when all are */

/* ---- The sampler ----------------------------------------------------- */
typedef enum smc_method {
    SMC_METHOD_PLAIN,     /* LM only: no constraint, no critic */
    SMC_METHOD_LCD,       /* masked proposal, weights ignored */
    SMC_METHOD_IS,        /* masked proposal + weight correction, no resampling */
    SMC_METHOD_SMC,       /* ... + adaptive resampling */
    SMC_METHOD_RERANK,    /* lcd samples reweighted by the critic's complete score */
    SMC_METHOD_IS_FULL,   /* is + critic at EOS */
    SMC_METHOD_SMC_FULL   /* smc + critic twist at boundaries and at EOS */
} smc_method;
const char *smc_method_name(smc_method m);             /* "plain", "lcd", "is", "smc", "rerank", "is-full", "smc-full" */
int smc_method_parse(const char *name, smc_method *out);

typedef enum smc_proposal {
    SMC_PROPOSAL_MASKED,  /* full mask / logw_next over the vocabulary */
    SMC_PROPOSAL_AWRS     /* adaptive weighted rejection sampling (Boolean cheap potential) */
} smc_proposal;

typedef struct smc_config {
    smc_method method;
    int n_particles;               /* default 10 */
    double ess_threshold;          /* resample when ESS < threshold·N; default 0.5 */
    smc_resample_scheme resample;  /* default stratified */
    int max_tokens;                /* EOS is forced after this many tokens; default 64 */
    double temperature;            /* > 0; the target uses the tempered LM; default 1 */
    uint64_t seed;
    /* Forced tokens (masked proposal): when the cheap potential's mask
     * allows a single token, up to this many such tokens in a row are handed
     * to the LM (smc_lm.lookahead) to be evaluated as one chunk with the next
     * batch; the steps, weights and random draws stay the same. 0: off;
     * default 16. */
    int lookahead;
    smc_proposal proposal;         /* default masked */
    int awrs_max_accepts;          /* >= 2; default 2 */
    bool no_weight_correction;     /* testing only: drop the correction (biased) */
    /* smc-full: test the ESS (and maybe resample) only after a step in which
     * the critic scored some particle (a boundary or an end), not after every
     * token; other methods test after every step. Default false. */
    bool resample_at_critic;
    /* Called after every step when not NULL (e.g. progress on stderr). */
    void (*progress)(void *ud, int step, int n_active, double ess);
    void *progress_ud;
    /* Called after every step (after resampling) when not NULL, with every
     * particle's text so far and log weight (-inf: dead). A non-zero return
     * stops the run, which then fails with "the run was stopped" (the server
     * cancels requests this way and streams the particles' common prefix). */
    int (*on_step)(void *ud, int n, const char *const *texts, const size_t *lens, const double *logw);
    void *on_step_ud;
    /* Records every step into this trace when not NULL (see smc_trace);
     * NULL (the default) records nothing. */
    struct smc_trace *trace;
} smc_config;
void smc_config_default(smc_config *c);

typedef struct smc_particle_out {
    char *text;                    /* generated bytes, NUL-terminated */
    size_t len;
    int32_t *tokens;               /* generated token ids, EOS included */
    int32_t n_tokens;              /* EOS included */
    double log_weight;             /* -inf for dead particles */
    bool forced_eos;               /* ended at max_tokens */
} smc_particle_out;

typedef struct smc_posterior_entry {
    char *text;                    /* NUL-terminated */
    size_t len;
    double prob;                   /* normalised over distinct strings */
    int count;                     /* particles with this text */
} smc_posterior_entry;

typedef struct smc_result {
    smc_method method;
    int n_particles;
    smc_particle_out *particles;
    int n_posterior;               /* distinct strings with nonzero weight, by prob desc */
    smc_posterior_entry *posterior;
    double log_z;                  /* log mean weight: the log Ẑ estimate */
    double ess;                    /* of the final weights */
    bool all_dead;                 /* every weight is -inf: no posterior, log_z = -inf */
    int n_steps;
    double *ess_trace;             /* ESS after each step's weighting (before resampling) */
    int n_resamples;
    int64_t n_lm_evals;            /* particle-steps evaluated by the LM */
    int64_t n_constraint_checks;   /* token checks by the AWRS proposal */
    int64_t n_forced;              /* tokens (not EOS) the masked proposal's constraint
                                    * allowed alone; n_tokens: all sampled tokens */
    int64_t n_tokens;
    double t_lm, t_mask, t_critic, t_resample, t_total;   /* seconds */
} smc_result;

/* Runs one SMC (or baseline) sweep. cheap: token-level potential or NULL
 * (ignored by plain); critic: byte-level potential, required by rerank,
 * is-full and smc-full, ignored by the others. */
int smc_run(const smc_lm *lm, const int32_t *prompt, size_t n_prompt, smc_potential *cheap,
            smc_potential *critic, const smc_config *cfg, smc_result **out, smc_error *err);
void smc_result_free(smc_result *r);
/* The result as JSON (malloc'd string; invalid UTF-8 replaced by U+FFFD). */
int smc_result_to_json(const smc_result *r, bool with_particles, char **json, smc_error *err);

/* ---- Traces ------------------------------------------------------------ */
/* A trace records a whole run, step by step: for each particle that moved,
 * its new token and text, its log-weight, the proposal's log restricted mass,
 * the critic's score (prefix or complete), EOS (forced or not) and its death
 * with the reason; for each step the ESS, the critic's time and the
 * resampling, with each child's parent. Point smc_config.trace at one to
 * record; smc_run clears it first, so one trace serves many runs in turn.
 * smc_trace_to_json writes it with the run's result (smc_result_to_json,
 * with particles) in the versioned format of docs/trace.schema.json; it
 * holds enough to recompute every weight, the posterior and log Ẑ. */
#define SMC_TRACE_FORMAT "smcgen-trace"
#define SMC_TRACE_VERSION 1
typedef struct smc_trace smc_trace;
smc_trace *smc_trace_new(void);                 /* NULL when out of memory */
void smc_trace_free(smc_trace *t);
/* Sets a string in the trace's "info" object (e.g. "prompt", "model"; a
 * NULL value removes the key). Kept across runs. */
int smc_trace_set_info(smc_trace *t, const char *key, const char *value, smc_error *err);
int smc_trace_n_steps(const smc_trace *t);
/* The trace as JSON (malloc'd); r is the run's result, or NULL for a run
 * that failed (written as "result": null). */
int smc_trace_to_json(const smc_trace *t, const smc_result *r, char **json, smc_error *err);
/* The same, written to path (replaced). */
int smc_trace_write(const smc_trace *t, const smc_result *r, const char *path, smc_error *err);
/* A trace document (JSON text as smc_trace_to_json writes it) as one
 * self-contained HTML page (inline script and style, nothing fetched): the
 * genealogy over steps, particle texts, ESS and log-weight curves with the
 * resampling steps, the posterior. Fails on text that is not a trace of a
 * known version. *html is malloc'd and NUL-terminated. */
int smc_trace_render_html(const char *json, size_t len, char **html, size_t *html_len,
                          smc_error *err);

/* ===================================================================== */
/* Run options and one request (src/pipeline/run_options*.c, runner.c)    */
/* ===================================================================== */
/* Every knob of a run is described once, in one table: its name (the JSON
 * field of the HTTP API and the Python keyword), its command-line flag, type,
 * range or choices, default and help. The CLI flags, the JSON fields and the
 * Python keyword arguments are all derived from it, so names, defaults and
 * error messages cannot drift apart. */

typedef enum smc_opt_type {
    SMC_OPT_INT,          /* integer in [min, max] */
    SMC_OPT_FLOAT,        /* number in [min, max] ((min, max] when min_open) */
    SMC_OPT_BOOL,         /* CLI: a flag without a value sets it */
    SMC_OPT_STRING,
    SMC_OPT_CHOICE,       /* one of `choices` */
    SMC_OPT_STRINGS       /* repeatable CLI flag; JSON: a string or an array of strings */
} smc_opt_type;

/* Where an option appears. */
#define SMC_OPT_CLI 1u        /* a command-line flag */
#define SMC_OPT_JSON 2u       /* a JSON field of a request and a Python keyword */
#define SMC_OPT_CLI_FILE 4u   /* on the command line the value names a file holding it */
#define SMC_OPT_CLI_ESCAPES 8u /* on the command line C escapes (\n, \t, \xHH) are decoded */
#define SMC_OPT_MODEL 16u     /* a setting of the loaded model, kept across its runs, not of one request:
                                 a flag of the commands that load a model (smc, serve), a keyword of
                                 Python's Model(); never a request field of the HTTP API */

typedef enum smc_opt_group {
    SMC_OPT_GROUP_PROMPT, SMC_OPT_GROUP_CONSTRAINT, SMC_OPT_GROUP_CRITIC, SMC_OPT_GROUP_SAMPLING,
    SMC_OPT_GROUP_CHAT,
    SMC_OPT_GROUP_MODEL   /* SMC_OPT_MODEL settings */
} smc_opt_group;

typedef struct smc_opt_desc {
    const char *name;         /* JSON field / Python keyword: "ess_threshold" */
    const char *flag;         /* CLI flag: "--ess"; NULL when JSON only */
    const char *json_alias;   /* another accepted JSON name (llama.cpp's "n_predict"), or NULL */
    const char *metavar;      /* "N", "FILE", ... (CLI help) */
    smc_opt_type type;
    unsigned where;           /* SMC_OPT_* bits */
    smc_opt_group group;
    double min, max;          /* INT / FLOAT range, inclusive */
    bool min_open;            /* FLOAT: min itself excluded */
    const char *choices;      /* CHOICE: "a|b|c" */
    const char *def;          /* the default, as text; NULL when there is none */
    const char *help;         /* one sentence, for --help, the API docs and Python docstrings */
} smc_opt_desc;

int smc_opt_count(void);
const smc_opt_desc *smc_opt_at(int i);                  /* NULL out of range */
/* By name, JSON alias or CLI flag; NULL when unknown. */
const smc_opt_desc *smc_opt_find(const char *name);

/* The values of one request. Strings are malloc'd and owned. */
typedef struct smc_run_opts {
    smc_config cfg;           /* method, particles, ess_threshold, resample, max_tokens,
                                 temperature, seed, proposal */
    bool method_set;          /* else smc-full with a critic, smc with a constraint, plain with neither */
    char *prompt;
    char *grammar;            /* GBNF text */
    char *grammar_file;       /* CLI: a .gbnf, .lark or .regex file */
    char *lark;               /* Lark text */
    char *regex;
    char *json_schema;        /* schema text */
    char *json_schema_file;   /* CLI */
    unsigned json_schema_flags; /* json_ws, strict_schema, any_order: SMC_JSON_SCHEMA_FLEXIBLE_WS,
                                   _STRICT, _ANY_ORDER */
    char *critic;             /* critic spec (smiles, sql:DB, exec:COMMAND, ...) */
    char *stops[16];
    int n_stops;
    bool no_default_stop;
    bool no_bos;
    char *constrain_after;    /* think-then-constrain trigger text, or NULL */
    char *constrain_after_regex;  /* ... as a regex, or NULL */
    bool trigger_required;    /* an answer must contain the trigger */
    /* A chat instead of a prompt: the model's chat template (or
     * chat_template) writes the prompt from these (smc_run_opts_chat_prompt). */
    char *chat;               /* the user's message */
    char *system;             /* a system message first */
    char *messages;           /* JSON array of {"role", "content"} */
    char *messages_file;      /* CLI: a file holding that JSON */
    char *chat_template;      /* a built-in name or a template text */
    int prompt_cache;         /* SMC_OPT_MODEL: prompts whose KV the model keeps across runs
                                 (smc_engine_lm_set_prompt_cache); smc_runner_run applies it */
    int load;                 /* SMC_OPT_MODEL: how the file is loaded (SMC_GGUF_AUTO, _MMAP, _READ);
                                 smc_runner_new_ex applies it */
    bool mlock;               /* SMC_OPT_MODEL: lock the weights in RAM (SMC_GGUF_MLOCK) */
} smc_run_opts;

/* Sets every option to its default (the table's). */
void smc_run_opts_init(smc_run_opts *o);
void smc_run_opts_free(smc_run_opts *o);                 /* frees the strings; o itself is the caller's */
/* Heap-allocated, for bindings (ctypes): NULL on out of memory. */
smc_run_opts *smc_run_opts_new(void);
void smc_run_opts_delete(smc_run_opts *o);
/* Sets one option from command-line text: `key` is a flag ("--particles")
 * or a name ("particles"); BOOL options take NULL or "true"/"false"/"1"/"0".
 * Errors name the option as given and its range or choices. */
int smc_run_opts_set(smc_run_opts *o, const char *key, const char *value, smc_error *err);
/* Sets options from the fields of a JSON object (text). Fields that name no
 * option are errors when strict, else ignored. Errors name the field and its
 * range or choices. */
int smc_run_opts_set_json(smc_run_opts *o, const char *json, size_t len, bool strict, smc_error *err);
/* Checks what can be checked before loading anything (a method that needs a
 * critic has one, at most one constraint, ...) and settles the default
 * method. `where` (SMC_OPT_CLI or SMC_OPT_JSON) picks how options are named
 * in the message. */
int smc_run_opts_check(smc_run_opts *o, unsigned where, smc_error *err);
/* Writes the help lines of one group's CLI options (aligned, wrapped). */
void smc_run_opts_print_help(FILE *f, smc_opt_group group);
/* The options' values as a JSON object (malloc'd), with every JSON option. */
char *smc_run_opts_to_json(const smc_run_opts *o);

/* The prompt a chat asks for (chat, system, messages, chat_template),
 * written by the model's chat template or chat_template: *prompt (malloc'd)
 * is to be tokenized with special tokens parsed. *prompt is NULL when the
 * options hold no chat. messages_file is read here (set only from the
 * command line). */
int smc_run_opts_chat_prompt(const smc_run_opts *o, const smc_model *m, char **prompt, smc_error *err);

/* One request, start to end: a runner holds a model, its context, LM and
 * token index; smc_runner_run builds the request's constraint, critic, stop
 * strings and prompt from the options and runs smc_run. The CLI, the server
 * and the Python package all call it. Returns 0, -1 on failure, or
 * SMC_RUN_EOPTS when the options are inconsistent (e.g. a method that needs a
 * constraint and none was given). */
#define SMC_RUN_EOPTS (-2)
typedef struct smc_runner smc_runner;
int smc_runner_new(const char *model_path /* NULL: bundled */, int n_threads /* 0: all cores */,
                   smc_runner **out, smc_error *err);
/* The same, with the model settings (SMC_OPT_MODEL) of model_opts that act
 * at load (load); NULL: the table's defaults. */
int smc_runner_new_ex(const char *model_path, int n_threads, const smc_run_opts *model_opts, smc_runner **out,
                      smc_error *err);
void smc_runner_free(smc_runner *r);
int smc_runner_run(smc_runner *r, const smc_run_opts *o, smc_result **out, smc_error *err);

/* ===================================================================== */
/* User critics (src/pipeline)                                           */
/* ===================================================================== */
/* A C plug-in is a shared library exporting
 *     int smcgen_critic_init(const char *arg, smc_critic_plugin *out,
 *                            char *errbuf, size_t errcap);
 * which fills *out (abi = SMC_CRITIC_PLUGIN_ABI) and returns 0, or writes a
 * message into errbuf and returns non-zero. Scores are natural logs; return
 * -INFINITY for "impossible", +INFINITY for "could not score" (an error).
 * See examples/critic_plugin.c. */
#define SMC_CRITIC_PLUGIN_ABI 1
#define SMC_CRITIC_PLUGIN_ENTRY "smcgen_critic_init"
typedef struct smc_critic_plugin {
    int abi;
    void *self;
    double (*prefix)(void *self, const char *text, size_t len);
    double (*complete)(void *self, const char *text, size_t len);
    /* Optional: evaluate prefix() only where this says so (default: every token). */
    bool (*is_boundary)(void *self, const char *text, size_t len, size_t n_new);
    void (*destroy)(void *self);                    /* optional */
    /* Optional: scores n texts at once (out[i] = complete(texts[i]) when
     * complete[i], else prefix(texts[i]), the same values). smcgen calls it
     * once per SMC step with every particle that needs a score. (Added after
     * ABI 1 was fixed, at the end: plug-ins built without it still load.) */
    void (*score_batch)(void *self, int n, const char *const *texts, const size_t *lens,
                        const bool *complete, double *out);
} smc_critic_plugin;
typedef int (*smc_critic_plugin_init_fn)(const char *arg, smc_critic_plugin *out, char *errbuf,
                                         size_t errcap);
/* Loads PATH (dlopen) and calls its entry point with arg (may be NULL). */
int smc_critic_from_plugin(const char *path, const char *arg, smc_potential **out, smc_error *err);

/* An external process (`sh -c COMMAND`) speaking JSON lines on its stdin and
 * stdout: for each request {"op":"prefix"|"complete","text":"..."} it writes
 * one line {"logw": NUMBER} (null or "-inf" for impossible), in order.
 * Batches: smc_run asks for all the particles of a step at once (score_batch).
 * By default these go as single request lines, pipelined (all written before
 * the answers are awaited, so a line-at-a-time process answers them without
 * a round trip each). A process that prints {"batch": true} as its very first
 * line, before reading anything, instead gets one line
 *     {"op":"batch","requests":[{"op":"prefix","text":"..."}, ...]}
 * and must answer one line {"logws":[NUMBER, ...]} with a score per request,
 * in order; it must still answer single requests (smcgen sends those for
 * one text, and until it has read that first line). A process that exits,
 * writes something else or a wrong number of scores, or takes longer than
 * timeout_ms (<= 0: 10 s) per answer (a batch of n: n × timeout_ms) is an
 * error naming what happened; smc_run then fails with it. */
int smc_critic_from_exec(const char *command, double timeout_ms, smc_potential **out,
                         smc_error *err);

/* ===================================================================== */
/* Domain critics (src/potentials)                                       */
/* ===================================================================== */
/* Self-contained checkers for the paper's domains. Each takes bytes (a
 * prefix or a complete string), never crashes on any input, and gives a
 * verdict whose log-weight is 0 (possible) or -INFINITY (impossible). */

typedef enum smc_verdict {
    SMC_VERDICT_INVALID = 0,   /* no continuation can make it valid */
    SMC_VERDICT_PREFIX = 1,    /* a valid prefix (complete == false) */
    SMC_VERDICT_COMPLETE = 2   /* a valid complete string (complete == true) */
} smc_verdict;

/* 0 for a valid verdict, -INFINITY for SMC_VERDICT_INVALID. */
double smc_verdict_logw(smc_verdict v);

/* SMILES: with complete == false, is s[0..n) a prefix of some valid molecule
 * (syntax, ring numbers, branches, valence lower bounds)? With complete ==
 * true, is it a whole valid molecule (rings and branches closed, aromatic
 * atoms in rings, kekulizable, valences as RDKit allows)? When reason is not
 * NULL it receives why a string is invalid (NUL-terminated, truncated). */
smc_verdict smc_smiles_check(const char *s, size_t n, bool complete, char *reason, size_t reason_cap);
/* A GBNF grammar (root rule "root") of SMILES syntax: the cheap constraint. */
const char *smc_smiles_gbnf(void);

/* PDDL Blocksworld goals (predicates on, on-table, clear, holding, arm-empty).
 * A problem is parsed for its (:objects ...), (:init ...) and, when present,
 * its (:goal ...). */
typedef struct smc_bw_problem smc_bw_problem;
int smc_bw_problem_parse(const char *text, size_t n, smc_bw_problem **out, smc_error *err);
void smc_bw_problem_free(smc_bw_problem *p);
int smc_bw_problem_n_objects(const smc_bw_problem *p);
const char *smc_bw_problem_object(const smc_bw_problem *p, int i);   /* lower-cased */
/* The problem's "(:goal ...)" text, or {NULL, 0} when it has none. */
smc_str smc_bw_problem_goal(const smc_bw_problem *p);
/* True when the (:init ...) literals describe a possible state. */
bool smc_bw_problem_init_valid(const smc_bw_problem *p);
/* Goal text as a model writes it after the problem prefix:
 * "(:goal (and (on b1 b2) ... ) )" optionally followed by the ")" closing
 * (define ...); when the prompt already ends with "(:goal" or "(:goal (and",
 * the text may start at "(and" or at the first literal. Prefix mode: syntax so far, and some reachable state
 * satisfies every literal so far and some completion of an unfinished
 * literal (exact). Complete mode: a finished, satisfiable goal. */
smc_verdict smc_bw_goal_check(const smc_bw_problem *p, const char *text, size_t n, bool complete,
                              char *reason, size_t reason_cap);
/* GBNF grammar of goals over the problem's objects (start rule "root", or
 * "after-and" when the prompt ends with "(:goal (and"); malloc'd. */
char *smc_bw_goal_gbnf(const smc_bw_problem *p);
/* Whether two finished goals have the same set of satisfying states over the
 * problem's objects (two unsatisfiable goals are equivalent). -1 on a
 * malformed goal. */
int smc_bw_goals_equivalent(const smc_bw_problem *p, const char *g1, size_t n1, const char *g2, size_t n2,
                            bool *equivalent, smc_error *err);

/* SQL on SQLite. The database is opened read-only; an authorizer allows
 * only reads (SELECT, column reads, recursive CTEs, a whitelist of pure
 * functions) and denies ATTACH, PRAGMA, writes, load_extension and every
 * other function; a progress handler stops a query past its time budget
 * (default 1000 ms). One handle is for one thread at a time. */
typedef struct smc_sql_db smc_sql_db;
int smc_sql_open(const char *path, smc_sql_db **out, smc_error *err);
void smc_sql_close(smc_sql_db *db);
void smc_sql_set_budget_ms(smc_sql_db *db, double ms);
/* The schema: tables and views (not sqlite_*) and their columns. */
int smc_sql_n_tables(const smc_sql_db *db);
const char *smc_sql_table_name(const smc_sql_db *db, int t);
int smc_sql_n_columns(const smc_sql_db *db, int t);
const char *smc_sql_column_name(const smc_sql_db *db, int t, int c);
/* Prefix mode: a SELECT (or WITH/VALUES) statement so far whose table names
 * exist and whose column references, once their scope is settled (FROM/JOIN
 * tables and aliases, derived tables, CTEs, enclosing queries), name columns
 * in scope. Complete mode: also prepares the query and runs it to the end
 * within the time budget (too slow, an error or a denied action: INVALID). */
smc_verdict smc_sql_check(smc_sql_db *db, const char *text, size_t n, bool complete,
                          char *reason, size_t reason_cap);
/* Prefix mode also rejects, as soon as they appear: a qualifier that can no
 * longer be bound (even before its column name is finished), f(*) for a
 * function SQLite calls only with arguments, an aggregate in the outermost
 * query's WHERE, GROUP BY or ON, ON/USING after NATURAL, an integer ORDER BY
 * or GROUP BY term past the result columns, and (settled) ambiguous names. */
/* Rows the query returns within the budget, or -1 (reason filled). */
long smc_sql_count_rows(smc_sql_db *db, const char *text, size_t n, char *reason, size_t reason_cap);
/* GBNF grammar of SELECT queries over this database's names; malloc'd.
 * When the statement's first SELECT reads one table, its column names are
 * that table's (one copy of the expression rules per table), so a sampler
 * that picked the wrong table is steered to a JOIN; no aggregate inside an
 * aggregate, "*" only in COUNT, no ON after NATURAL JOIN. */
char *smc_sql_gbnf(const smc_sql_db *db);

/* Python (data science). A worker process (python3, or $SMCGEN_PYTHON, or
 * the path given) is started once and reused: a fork server that checks
 * syntax with CPython's codeop and runs setup + program (+ test) in forked
 * children. It runs inside a sandbox (docs/security.md): its own user, pid,
 * mount, network, ipc and uts namespaces, a read-only view of the system
 * with a size-capped private /tmp, a seccomp filter, no capabilities for
 * the processes that run code, Landlock rules that confine each run's
 * writes to its own directory, and CPU-time, address-space, file-size and
 * process-count rlimits plus a wall-clock timeout; whatever a run started
 * is killed when it ends. Where the kernel cannot provide the sandbox,
 * smc_py_open fails unless smc_py_allow_unsafe(true) was called (then only
 * the rlimits, a network namespace and an audit hook remain: a guard
 * against accidents, not against code written to escape). A worker that
 * dies, stops answering or answers more than it was asked is killed and
 * restarted on the next call.
 * Runs reuse work: the setup runs once per context in a process kept as a
 * fork server (a snapshot), and so does each program that ran without error;
 * a run forks the snapshot of its longest prefix ending at a top-level
 * statement boundary and executes only the statements after it. For
 * deterministic code the verdict equals a run from scratch (random's state,
 * files written and the time budgets carry over). Caveats: code that reads
 * the clock or pids, keeps a file open across statements (its writes reach
 * the snapshot's copy) or leaves threads running may behave otherwise, and
 * unseeded random numbers repeat between forks of one snapshot. Verdicts are
 * also remembered by program text (smc_py_set_reuse turns both off). */
typedef struct smc_py_critic smc_py_critic;
typedef enum smc_py_status {
    SMC_PY_OK, SMC_PY_ASSERTION, SMC_PY_ERROR, SMC_PY_TIMEOUT, SMC_PY_SETUP_FAILED, SMC_PY_WORKER_FAILED
} smc_py_status;
/* Whether this kernel provides the Python critic's sandbox; why not, when
 * not. */
bool smc_py_sandbox_available(char *why, size_t why_cap);
/* true: later smc_py_open calls run the worker without the sandbox (the
 * CLI's --unsafe-no-sandbox), with a warning on stderr. Process-wide. */
void smc_py_allow_unsafe(bool allow);
/* setup runs before the program, test after it (complete checks); either
 * may be NULL. Fails when the sandbox is unavailable and unsafe runs were
 * not allowed. */
int smc_py_open(const char *python, const char *setup, const char *test, smc_py_critic **out, smc_error *err);
void smc_py_close(smc_py_critic *c);
/* Replaces the setup and test code, keeping the worker (one worker can
 * serve many problems). */
int smc_py_set_context(smc_py_critic *c, const char *setup, const char *test, smc_error *err);
/* Defaults: 5000 ms wall clock, 1024 MB of address space beyond the
 * worker's, 10 s of CPU. Values <= 0 keep the current one. */
void smc_py_set_limits(smc_py_critic *c, double timeout_ms, long mem_mb, long cpu_s);
/* Limits of the sandbox as a whole (the worker, its snapshots and whatever
 * they start, together): memory (held by a cgroup where one is writable)
 * and processes (a cgroup, else RLIMIT_NPROC, from the next worker on).
 * Defaults 4096 MB, 256. Values <= 0 keep the current one. */
void smc_py_set_run_limits(smc_py_critic *c, long mem_mb, long procs);
/* One line saying how generated code is isolated: the sandbox's parts and
 * what limits the run as a whole (cgroup or pid namespace + rlimits, and
 * why). c NULL: what a new critic would get (probes by making and removing
 * a cgroup). Where smcgen uses the sandbox it is not dumpable. */
void smc_py_isolation(const smc_py_critic *c, char *out, size_t cap);
/* Reuse between runs: at most max_snapshots kept processes (default 32,
 * least recently used killed first; 0: every run starts from the setup in a
 * fresh fork, as a plain sandbox would); spares: each snapshot keeps one
 * fork ready so that a run does not wait for the fork (default off: it costs
 * a fork that may go unused); memo: verdicts remembered by program text
 * (default on). Forgets the verdicts known so far. */
int smc_py_set_reuse(smc_py_critic *c, int max_snapshots, bool spares, bool memo, smc_error *err);
/* *state: 2 complete program, 1 valid but incomplete, 0 invalid. */
int smc_py_syntax(smc_py_critic *c, const char *code, size_t n, int *state, char *msg, size_t msg_cap,
                  smc_error *err);
/* Runs setup + code (+ the test when with_test). */
int smc_py_run(smc_py_critic *c, const char *code, size_t n, bool with_test, smc_py_status *status, char *msg,
               size_t msg_cap, smc_error *err);
/* Prefix mode, judged at line ends (elsewhere PREFIX): invalid syntax or,
 * when the lines so far form complete statements, a run that raises anything
 * but AssertionError (or times out) is INVALID. Complete mode: a finished
 * program whose run with the test raises nothing but AssertionError. */
smc_verdict smc_py_check(smc_py_critic *c, const char *code, size_t n, bool complete, char *reason,
                         size_t reason_cap);

/* ===================================================================== */
/* Chat templates (src/chat)                                             */
/* ===================================================================== */
/* Instruct models carry a Jinja chat template (GGUF key
 * tokenizer.chat_template). smcgen does not run Jinja: like llama.cpp's
 * llama_chat_apply_template it recognises the common families from the
 * template text and renders them with built-in rules, giving byte for byte
 * the text llama.cpp gives. The rendered text holds special-token texts
 * (<|im_start|>, [INST], ...): tokenize it with parse_special, and let the
 * tokenizer add BOS as usual (templates do not write it). */

typedef struct smc_chat_message {
    const char *role;        /* "system", "user", "assistant" (others pass through
                                where the template has a place for them) */
    const char *content;
} smc_chat_message;

/* The built-in template names ("chatml", "llama3", ...), NULL-terminated. */
const char *const *smc_chat_template_names(void);
/* The built-in template a name or a Jinja template text stands for; NULL
 * when it is neither a built-in name nor a template recognised from its
 * text. */
const char *smc_chat_template_detect(const char *name_or_text);
/* Render msgs[0..n) with a template given by name or by its text. With
 * add_assistant the text ends with the opening of the assistant's turn.
 * *out: a malloc'd NUL-terminated string. Fails on a template it does not
 * recognise (the message lists the names), on a message without role or
 * content, and on n == 0. */
int smc_chat_apply(const char *template_name_or_text, const smc_chat_message *msgs, size_t n,
                   bool add_assistant, char **out, smc_error *err);
/* The same with the model's own tokenizer.chat_template, or with
 * template_override (a name or a template text) when not NULL. A model
 * without a template and no override fails with a message saying so. */
int smc_chat_apply_model(const smc_model *m, const char *template_override,
                         const smc_chat_message *msgs, size_t n, bool add_assistant, char **out,
                         smc_error *err);
/* The model's tokenizer.chat_template text (a view into the file; ptr NULL
 * when it has none). */
smc_str smc_model_chat_template(const smc_model *m);

/* Messages from JSON: an array of {"role": ..., "content": ...} objects, or
 * an object with such an array under "messages" (OpenAI's request shape).
 * Content must be a string. *msgs (strings included) is freed with
 * smc_chat_messages_free. */
int smc_chat_messages_parse(const char *json, smc_chat_message **msgs, size_t *n, smc_error *err);
void smc_chat_messages_free(smc_chat_message *msgs, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* SMCGEN_H */
