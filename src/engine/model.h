/* model.h — the in-memory model: hyperparameters and weight views shared by
 * the loader (model.c), the synthetic builder (synthetic.c) and the forward
 * pass (forward.c). */
#ifndef SMC_ENGINE_MODEL_H
#define SMC_ENGINE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smcgen.h"

enum smc_arch_id { SMC_ARCH_LLAMA, SMC_ARCH_QWEN2, SMC_ARCH_QWEN3 };

/* A weight matrix of n_out rows of n_in elements of `type`, row-major, with
 * an optional output scale (a 1-element ".scale" tensor; 1 when absent) and
 * bias (".bias"; NULL when absent): y = scale * (W x) + bias. */
typedef struct smc_weight {
    int type;
    const void *data;
    int64_t n_in, n_out;
    size_t row_bytes;
    float scale;
    const float *bias;
    bool bias_first;     /* y = scale * (W x + bias), as llama.cpp does for ffn_down */
} smc_weight;

typedef struct smc_layer {
    const float *attn_norm, *ffn_norm;   /* [n_embd] */
    const float *q_norm, *k_norm;        /* qwen3 [head_dim], else NULL */
    smc_weight wq, wk, wv, wo, gate, up, down;
} smc_layer;

struct smc_model {
    int arch;
    const char *arch_name;
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx_train;
    int32_t n_rot;            /* rotated dims per head (<= head_dim) */
    bool rope_neox;           /* NeoX halves (qwen) vs adjacent pairs (llama) */
    float eps;
    float attn_scale;
    float rope_pos_scale;     /* linear RoPE scaling: positions times this */
    float rope_theta_scale;   /* base^(-2/n_rot) */
    double rope_base;
    float *rope_factors;      /* [n_rot/2] divisors (llama3 rope_freqs), or NULL */
    smc_weight tok_embd, output;   /* output aliases tok_embd when tied */
    const float *output_norm;
    smc_layer *layers;

    /* Ownership. */
    smc_gguf *gguf;           /* the mapped file, or NULL (synthetic) */
    void *weight_mem;         /* synthetic weights, or NULL */
    float **vecs;             /* f32 copies of norms and biases */
    int32_t n_vecs, cap_vecs;
    smc_vocab *vocab;
    void (*vocab_free)(smc_vocab *);
};

/* Repacks the Q4_0 layer matrices (and an untied output) of a model read
 * into memory or built in memory into 16-row groups (quant_q4r16.h) when
 * the AVX512-VNNI kernels will run them (model_repack.c); a mapped file's
 * stay plain. 0, or -1 when out of memory (the matrices not yet repacked
 * stay plain: the model still works). */
int smc_model_repack_q4_0(smc_model *m);

/* Fills derived fields (rope_inv_freq from base and optional factors) and
 * checks the shapes of every weight against the hyperparameters. */
int smc_model_finish(smc_model *m, double rope_base, const float *rope_factors, smc_error *err);
/* Keeps a malloc'd vector for the model's lifetime. */
int smc_model_own_vec(smc_model *m, float *v, smc_error *err);

#endif
