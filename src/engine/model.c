/* model.c — loading llama / qwen2 / qwen3 models from GGUF: hyperparameters,
 * weight views into the mapping, f32 copies of norms and biases, RoPE
 * frequencies (with llama3 rope_freqs), and the model getters. */
#include "engine/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"
#include "util/error.h"

int smc_model_own_vec(smc_model *m, float *v, smc_error *err)
{
    if (m->n_vecs == m->cap_vecs) {
        int32_t cap = m->cap_vecs ? m->cap_vecs * 2 : 64;
        float **p = realloc(m->vecs, (size_t)cap * sizeof *p);
        if (!p) {
            free(v);
            return smc_fail(err, "out of memory");
        }
        m->vecs = p;
        m->cap_vecs = cap;
    }
    m->vecs[m->n_vecs++] = v;
    return 0;
}

static const char *type_name(int type)
{
    const char *n = smc_type_name(type);
    return n ? n : "unknown";
}

static int check_weight(const smc_weight *w, const char *what, int64_t n_in, int64_t n_out, smc_error *err)
{
    if (!w->data)
        return smc_fail(err, "model is missing tensor %s", what);
    if (w->n_in != n_in || w->n_out != n_out)
        return smc_fail(err, "tensor %s has shape [%lld, %lld], expected [%lld, %lld]", what,
                        (long long)w->n_in, (long long)w->n_out, (long long)n_in, (long long)n_out);
    if (!smc_kernel_type_supported(w->type))
        return smc_fail(err, "tensor %s has unsupported type %s (id %d); supported: f32, f16, bf16, "
                        "q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k", what, type_name(w->type), w->type);
    if (n_in % smc_type_block_size(w->type))
        return smc_fail(err, "tensor %s: row length %lld is not a multiple of the %s block size",
                        what, (long long)n_in, type_name(w->type));
    return 0;
}

int smc_model_finish(smc_model *m, double rope_base, const float *rope_factors, smc_error *err)
{
    if (m->n_embd <= 0 || m->n_layer <= 0 || m->n_head <= 0 || m->n_head_kv <= 0 ||
        m->head_dim <= 0 || m->n_ff <= 0 || m->n_vocab <= 0)
        return smc_fail(err, "model has bad hyperparameters (n_embd %d, layers %d, heads %d/%d, "
                        "head_dim %d, n_ff %d, vocab %d)", m->n_embd, m->n_layer, m->n_head,
                        m->n_head_kv, m->head_dim, m->n_ff, m->n_vocab);
    if (m->n_head % m->n_head_kv)
        return smc_fail(err, "head count %d is not a multiple of the KV head count %d",
                        m->n_head, m->n_head_kv);
    if (m->n_rot <= 0 || m->n_rot > m->head_dim || m->n_rot % 2)
        return smc_fail(err, "bad RoPE dimension count %d (head dim %d)", m->n_rot, m->head_dim);
    if (!(rope_base > 0))
        return smc_fail(err, "bad RoPE base %g", rope_base);
    int64_t d = m->n_embd, q = (int64_t)m->n_head * m->head_dim, kvd = (int64_t)m->n_head_kv * m->head_dim;
    char name[64];
    if (check_weight(&m->tok_embd, "token_embd.weight", d, m->n_vocab, err) ||
        check_weight(&m->output, "output.weight", d, m->n_vocab, err))
        return -1;
    if (!m->output_norm)
        return smc_fail(err, "model is missing tensor output_norm.weight");
    for (int32_t l = 0; l < m->n_layer; l++) {
        smc_layer *L = &m->layers[l];
        static const char *const names[] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                            "ffn_gate", "ffn_up", "ffn_down"};
        const smc_weight *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down};
        int64_t ins[] = {d, d, d, q, d, d, m->n_ff};
        int64_t outs[] = {q, kvd, kvd, d, m->n_ff, m->n_ff, d};
        for (int i = 0; i < 7; i++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, names[i]);
            if (check_weight(ws[i], name, ins[i], outs[i], err))
                return -1;
        }
        if (!L->attn_norm || !L->ffn_norm)
            return smc_fail(err, "model is missing blk.%d.%s.weight", l,
                            L->attn_norm ? "ffn_norm" : "attn_norm");
        if (m->arch == SMC_ARCH_QWEN3 && (!L->q_norm || !L->k_norm))
            return smc_fail(err, "qwen3 model is missing blk.%d.attn_%s_norm.weight", l,
                            L->q_norm ? "k" : "q");
    }
    /* RoPE angles follow ggml's float evaluation (theta_i = pos * scale^i,
     * built by repeated float multiplication, then divided by the factor), so
     * that large angles round as they do in llama.cpp. */
    m->rope_base = rope_base;
    m->rope_theta_scale = powf((float)rope_base, -2.0f / (float)m->n_rot);
    if (rope_factors) {
        m->rope_factors = malloc((size_t)(m->n_rot / 2) * sizeof *m->rope_factors);
        if (!m->rope_factors)
            return smc_fail(err, "out of memory");
        memcpy(m->rope_factors, rope_factors, (size_t)(m->n_rot / 2) * sizeof *m->rope_factors);
    }
    return 0;
}

/* ---- GGUF loading ---- */

static int get_req_int(const smc_gguf *g, const char *arch, const char *key, int32_t *out, smc_error *err)
{
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    int64_t v;
    int rc = smc_gguf_get_int(g, full, &v);
    if (rc == 1)
        return smc_fail(err, "model metadata lacks %s", full);
    if (rc < 0 || v <= 0 || v > INT32_MAX)
        return smc_fail(err, "model metadata %s is not a positive integer", full);
    *out = (int32_t)v;
    return 0;
}

/* 0 found, 1 absent (out untouched), -1 bad. */
static int get_opt_int(const smc_gguf *g, const char *arch, const char *key, int32_t *out, smc_error *err)
{
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    int64_t v;
    int rc = smc_gguf_get_int(g, full, &v);
    if (rc == 1)
        return 1;
    if (rc < 0 || v < 0 || v > INT32_MAX)
        return smc_fail(err, "model metadata %s is not a non-negative integer", full);
    *out = (int32_t)v;
    return 0;
}

static int get_opt_float(const smc_gguf *g, const char *arch, const char *key, double *out, smc_error *err)
{
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    int rc = smc_gguf_get_float(g, full, out);
    if (rc < 0)
        return smc_fail(err, "model metadata %s is not a number", full);
    return rc;
}

static void weight_from_tensor(smc_weight *w, const smc_gguf_tensor *t)
{
    w->type = t->type;
    w->data = t->data;
    w->n_in = t->ne[0];
    w->n_out = t->n_dims >= 2 ? t->ne[1] : 1;
    if (t->n_dims > 2 && (t->ne[2] != 1 || t->ne[3] != 1))
        w->n_out = -1;   /* rejected by the shape check */
    int64_t bs = smc_type_block_size(t->type);
    w->row_bytes = bs > 0 ? (size_t)(w->n_in / bs) * smc_type_block_bytes(t->type) : 0;
}

static int load_vector(smc_model *m, const char *name, int64_t n, const float **out, smc_error *err);

/* Loads "<base>.weight" with its optional "<base>.scale" and "<base>.bias".
 * Returns 1 when the weight exists, 0 when absent, -1 on a bad scale/bias. */
static int load_matrix(smc_model *m, const char *base, smc_weight *w, smc_error *err)
{
    char name[128];
    snprintf(name, sizeof name, "%s.weight", base);
    const smc_gguf_tensor *t = smc_gguf_find_tensor(m->gguf, name);
    memset(w, 0, sizeof *w);
    w->scale = 1.0f;
    if (!t)
        return 0;
    weight_from_tensor(w, t);
    snprintf(name, sizeof name, "%s.scale", base);
    const float *sc = NULL;
    if (load_vector(m, name, 1, &sc, err) < 0)
        return -1;
    if (sc)
        w->scale = sc[0];
    snprintf(name, sizeof name, "%s.bias", base);
    if (w->n_out > 0 && load_vector(m, name, w->n_out, &w->bias, err) < 0)
        return -1;
    return 1;
}

/* An f32 copy of a 1-D tensor of n elements; *out NULL when absent. */
static int load_vector(smc_model *m, const char *name, int64_t n, const float **out, smc_error *err)
{
    *out = NULL;
    const smc_gguf_tensor *t = smc_gguf_find_tensor(m->gguf, name);
    if (!t)
        return 0;
    if (t->ne[0] != n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1)
        return smc_fail(err, "tensor %s has %lld elements, expected %lld", name,
                        (long long)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]), (long long)n);
    if (t->type != SMC_TYPE_F32 && t->type != SMC_TYPE_F16 && t->type != SMC_TYPE_BF16)
        return smc_fail(err, "tensor %s has unsupported type %s for a vector (f32, f16, bf16 only)",
                        name, type_name(t->type));
    float *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return smc_fail(err, "out of memory");
    smc_dequantize_row(t->type, t->data, v, n);
    if (smc_model_own_vec(m, v, err))
        return -1;
    *out = v;
    return 0;
}

static int load_from_gguf(smc_model *m, smc_error *err)
{
    const smc_gguf *g = m->gguf;
    smc_str archs;
    if (smc_gguf_get_str(g, "general.architecture", &archs) != 0)
        return smc_fail(err, "model has no general.architecture");
    char arch[64];
    snprintf(arch, sizeof arch, "%.*s", (int)(archs.len < 63 ? archs.len : 63), archs.ptr);
    if (!strcmp(arch, "llama")) {
        m->arch = SMC_ARCH_LLAMA;
        m->arch_name = "llama";
    } else if (!strcmp(arch, "qwen2")) {
        m->arch = SMC_ARCH_QWEN2;
        m->arch_name = "qwen2";
    } else if (!strcmp(arch, "qwen3")) {
        m->arch = SMC_ARCH_QWEN3;
        m->arch_name = "qwen3";
    } else {
        return smc_fail(err, "unsupported architecture '%s' (supported: llama, qwen2, qwen3)", arch);
    }
    m->rope_neox = m->arch != SMC_ARCH_LLAMA;
    if (get_req_int(g, arch, "embedding_length", &m->n_embd, err) ||
        get_req_int(g, arch, "block_count", &m->n_layer, err) ||
        get_req_int(g, arch, "attention.head_count", &m->n_head, err) ||
        get_req_int(g, arch, "feed_forward_length", &m->n_ff, err))
        return -1;
    if (m->n_layer > 4096)
        return smc_fail(err, "model has %d layers: too many", m->n_layer);
    m->n_head_kv = m->n_head;
    m->head_dim = m->n_embd / m->n_head;
    m->n_ctx_train = 2048;
    if (get_opt_int(g, arch, "attention.head_count_kv", &m->n_head_kv, err) < 0 ||
        get_opt_int(g, arch, "attention.key_length", &m->head_dim, err) < 0 ||
        get_opt_int(g, arch, "context_length", &m->n_ctx_train, err) < 0)
        return -1;
    int32_t vlen = m->head_dim;
    if (get_opt_int(g, arch, "attention.value_length", &vlen, err) < 0)
        return -1;
    if (vlen != m->head_dim)
        return smc_fail(err, "unsupported: value head dim %d differs from key head dim %d", vlen, m->head_dim);
    m->n_rot = m->head_dim;
    if (get_opt_int(g, arch, "rope.dimension_count", &m->n_rot, err) < 0)
        return -1;
    double eps = m->arch == SMC_ARCH_LLAMA ? 1e-5 : 1e-6, base = 10000.0, scale = 0.0;
    if (get_opt_float(g, arch, "attention.layer_norm_rms_epsilon", &eps, err) < 0 ||
        get_opt_float(g, arch, "rope.freq_base", &base, err) < 0 ||
        get_opt_float(g, arch, "attention.scale", &scale, err) < 0)
        return -1;
    m->eps = (float)eps;
    m->attn_scale = scale != 0.0 ? (float)scale : (float)(1.0 / sqrt((double)m->head_dim));
    m->rope_pos_scale = 1.0f;
    char key[128];
    smc_str stype;
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    if (smc_gguf_get_str(g, key, &stype) == 0) {
        double factor = 1.0;
        if (get_opt_float(g, arch, "rope.scaling.factor", &factor, err) < 0)
            return -1;
        if (stype.len == 6 && !memcmp(stype.ptr, "linear", 6)) {
            if (factor > 0)
                m->rope_pos_scale = (float)(1.0 / factor);
        } else if (!(stype.len == 4 && !memcmp(stype.ptr, "none", 4)) &&
                   !(stype.len == 6 && !memcmp(stype.ptr, "llama3", 6))) {
            return smc_fail(err, "unsupported RoPE scaling type '%.*s' (supported: none, linear, llama3)",
                            (int)stype.len, stype.ptr);
        }
    } else {
        double lin = 0;
        if (get_opt_float(g, arch, "rope.scale_linear", &lin, err) < 0)
            return -1;
        if (lin > 0)
            m->rope_pos_scale = (float)(1.0 / lin);
    }

    if (smc_gguf_find_tensor(g, "blk.0.attn_qkv.weight"))
        return smc_fail(err, "unsupported: fused attn_qkv tensors");
    int rc = load_matrix(m, "token_embd", &m->tok_embd, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return smc_fail(err, "model is missing tensor token_embd.weight");
    if (m->tok_embd.n_out <= 0 || m->tok_embd.n_out > INT32_MAX)
        return smc_fail(err, "token_embd.weight has a bad shape");
    m->n_vocab = (int32_t)m->tok_embd.n_out;
    rc = load_matrix(m, "output", &m->output, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        m->output = m->tok_embd;   /* tied embeddings */
        m->output.scale = 1.0f;
        m->output.bias = NULL;
    }
    if (load_vector(m, "output_norm.weight", m->n_embd, &m->output_norm, err))
        return -1;
    m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
    if (!m->layers)
        return smc_fail(err, "out of memory");
    for (int32_t l = 0; l < m->n_layer; l++) {
        smc_layer *L = &m->layers[l];
        char name[96];
#define MAT(field, tname) do { \
        snprintf(name, sizeof name, "blk.%d." tname, l); \
        if (load_matrix(m, name, &L->field, err) < 0) return -1; } while (0)
#define VEC(field, tname, n, suffix) do { \
        snprintf(name, sizeof name, "blk.%d." tname "." suffix, l); \
        if (load_vector(m, name, n, &L->field, err)) return -1; } while (0)
        MAT(wq, "attn_q");
        MAT(wk, "attn_k");
        MAT(wv, "attn_v");
        MAT(wo, "attn_output");
        MAT(gate, "ffn_gate");
        MAT(up, "ffn_up");
        MAT(down, "ffn_down");
        L->down.bias_first = true;
        VEC(attn_norm, "attn_norm", m->n_embd, "weight");
        VEC(ffn_norm, "ffn_norm", m->n_embd, "weight");
        VEC(q_norm, "attn_q_norm", m->head_dim, "weight");
        VEC(k_norm, "attn_k_norm", m->head_dim, "weight");
#undef MAT
#undef VEC
    }
    const float *rope_factors = NULL;
    if (m->n_rot % 2 == 0 && m->n_rot > 0 &&
        load_vector(m, "rope_freqs.weight", m->n_rot / 2, &rope_factors, err))
        return -1;
    return smc_model_finish(m, base, rope_factors, err);
}

int smc_model_load(const char *path, smc_model **out, smc_error *err)
{
    return smc_model_load_ex(path, SMC_GGUF_AUTO, out, err);
}

int smc_model_load_ex(const char *path, int how, smc_model **out, smc_error *err)
{
    *out = NULL;
    smc_model *m = calloc(1, sizeof *m);
    if (!m)
        return smc_fail(err, "out of memory");
    if (smc_gguf_open_ex(path, how, &m->gguf, err) < 0) {
        free(m);
        return -1;
    }
    if (load_from_gguf(m, err) < 0) {
        smc_fail_context(err, "%s", path);
        smc_model_free(m);
        return -1;
    }
    smc_model_repack_q4_0(m);
    *out = m;
    return 0;
}

void smc_model_free(smc_model *m)
{
    if (!m)
        return;
    if (m->vocab && m->vocab_free)
        m->vocab_free(m->vocab);
    for (int32_t i = 0; i < m->n_vecs; i++)
        free(m->vecs[i]);
    free(m->vecs);
    free(m->layers);
    free(m->rope_factors);
    free(m->weight_mem);
    if (m->gguf)
        smc_gguf_close(m->gguf);
    free(m);
}

const char *smc_model_arch(const smc_model *m) { return m->arch_name; }
int32_t smc_model_n_vocab(const smc_model *m) { return m->n_vocab; }
int32_t smc_model_n_embd(const smc_model *m) { return m->n_embd; }
int32_t smc_model_n_layer(const smc_model *m) { return m->n_layer; }
int32_t smc_model_n_head(const smc_model *m) { return m->n_head; }
int32_t smc_model_n_head_kv(const smc_model *m) { return m->n_head_kv; }
int32_t smc_model_head_dim(const smc_model *m) { return m->head_dim; }
int32_t smc_model_n_ff(const smc_model *m) { return m->n_ff; }
int32_t smc_model_n_ctx_train(const smc_model *m) { return m->n_ctx_train; }
int smc_model_in_memory(const smc_model *m) { return m->gguf && smc_gguf_in_memory(m->gguf); }

uint64_t smc_model_weight_bytes(const smc_model *m)
{
    uint64_t total = (uint64_t)m->output.row_bytes * (uint64_t)m->output.n_out;
    for (int32_t l = 0; l < m->n_layer; l++) {
        const smc_layer *L = &m->layers[l];
        const smc_weight *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down};
        for (int i = 0; i < 7; i++)
            total += (uint64_t)ws[i]->row_bytes * (uint64_t)ws[i]->n_out;
    }
    return total;
}
