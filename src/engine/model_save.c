/* model_save.c — smc_model_save: writes a model's hyperparameters and
 * weights (in their stored types) as a GGUF v3 file that smc_model_load and
 * llama.cpp read back: llama-family keys, tensors named as llama.cpp names
 * them, no tokenizer (tokenizer.ggml.model = no_vocab). */
#include "engine/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/quant_q4r16.h"
#include "util/error.h"

#define ALIGN 32

typedef struct tensor_out {
    char name[64];
    int64_t ne[2];
    uint32_t n_dims;
    int type;
    const void *data;
    size_t bytes;
} tensor_out;

typedef struct saver {
    FILE *f;
    bool bad;
    tensor_out *t;
    size_t n, cap;
    const char *arch;
} saver;

static void put(saver *s, const void *p, size_t n)
{
    if (!s->bad && n && fwrite(p, 1, n, s->f) != n)
        s->bad = true;
}
static void put_u32(saver *s, uint32_t v) { put(s, &v, 4); }
static void put_u64(saver *s, uint64_t v) { put(s, &v, 8); }
static void put_str(saver *s, const char *str)
{
    put_u64(s, strlen(str));
    put(s, str, strlen(str));
}
static void key(saver *s, const char *k, uint32_t type)
{
    char full[128];
    snprintf(full, sizeof full, k[0] == '.' ? "%s%s" : "%.0s%s", s->arch, k);
    put_str(s, full);
    put_u32(s, type);
}
static void kv_u32(saver *s, const char *k, uint32_t v) { key(s, k, 4); put_u32(s, v); }
static void kv_f32(saver *s, const char *k, float v) { key(s, k, 6); put(s, &v, 4); }
static void kv_str(saver *s, const char *k, const char *v) { key(s, k, 8); put_str(s, v); }

static int add(saver *s, const char *name, int64_t ne0, int64_t ne1, int type, const void *data, size_t bytes)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        tensor_out *t = realloc(s->t, cap * sizeof *t);
        if (!t)
            return -1;
        s->t = t;
        s->cap = cap;
    }
    tensor_out *t = &s->t[s->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->n_dims = ne1 > 0 ? 2 : 1;
    t->type = type;
    t->data = data;
    t->bytes = bytes;
    return 0;
}

/* A tensor's data as stored in a file: Q4_0 in 16-row groups (quant_q4r16.h)
 * back in plain rows, a group at a time. */
static void put_data(saver *s, const tensor_out *t)
{
    if (t->type != SMC_TYPE_Q4_0_R16) {
        put(s, t->data, t->bytes);
        return;
    }
    size_t wrow = smc_row_bytes(SMC_TYPE_Q4_0, t->ne[0]);
    uint8_t *buf = malloc(SMC_R16_ROWS * wrow);
    if (!buf) {
        s->bad = true;
        return;
    }
    for (int64_t o = 0; o < t->ne[1]; o += SMC_R16_ROWS) {
        smc_r16_unpack((const uint8_t *)t->data + (size_t)o * wrow, wrow, buf);
        put(s, buf, SMC_R16_ROWS * wrow);
    }
    free(buf);
}

static int add_vec(saver *s, const char *name, const float *v, int64_t n)
{
    return v ? add(s, name, n, 0, SMC_TYPE_F32, v, (size_t)n * sizeof *v) : 0;
}

/* base.weight, and base.bias / base.scale when the matrix has them. */
static int add_matrix(saver *s, const char *base, const smc_weight *w)
{
    char name[64];
    snprintf(name, sizeof name, "%s.weight", base);
    if (add(s, name, w->n_in, w->n_out, w->type, w->data, w->row_bytes * (size_t)w->n_out) < 0)
        return -1;
    snprintf(name, sizeof name, "%s.bias", base);
    if (add_vec(s, name, w->bias, w->n_out) < 0)
        return -1;
    snprintf(name, sizeof name, "%s.scale", base);
    return w->scale != 1.0f ? add_vec(s, name, &w->scale, 1) : 0;
}

static int collect(saver *s, const smc_model *m)
{
    char base[64];
    if (add_matrix(s, "token_embd", &m->tok_embd) < 0 || add_vec(s, "output_norm.weight", m->output_norm, m->n_embd) < 0)
        return -1;
    bool tied = m->output.data == m->tok_embd.data && m->output.type == m->tok_embd.type && !m->output.bias &&
                m->output.scale == 1.0f;
    if (!tied && add_matrix(s, "output", &m->output) < 0)
        return -1;
    if (m->rope_factors && add_vec(s, "rope_freqs.weight", m->rope_factors, m->n_rot / 2) < 0)
        return -1;
    for (int32_t l = 0; l < m->n_layer; l++) {
        const smc_layer *L = &m->layers[l];
        static const char *const names[] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                            "ffn_gate", "ffn_up", "ffn_down"};
        const smc_weight *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down};
        for (int i = 0; i < 7; i++) {
            snprintf(base, sizeof base, "blk.%d.%s", l, names[i]);
            if (add_matrix(s, base, ws[i]) < 0)
                return -1;
        }
        static const char *const vnames[] = {"attn_norm", "ffn_norm", "attn_q_norm", "attn_k_norm"};
        const float *vs[] = {L->attn_norm, L->ffn_norm, L->q_norm, L->k_norm};
        for (int i = 0; i < 4; i++) {
            snprintf(base, sizeof base, "blk.%d.%s.weight", l, vnames[i]);
            if (add_vec(s, base, vs[i], i < 2 ? m->n_embd : m->head_dim) < 0)
                return -1;
        }
    }
    return 0;
}

int smc_model_save(const smc_model *m, const char *path, smc_error *err)
{
    if (!m || !path)
        return smc_fail(err, "save: no model or path");
    for (int32_t l = 0; l < m->n_layer; l++) {
        const smc_layer *L = &m->layers[l];
        const smc_weight *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up};
        for (int i = 0; i < 6; i++)
            if (ws[i]->bias && ws[i]->bias_first)
                return smc_fail(err, "save: layer %d has a bias GGUF cannot express", l);
    }
    saver s = {.arch = m->arch_name};
    if (collect(&s, m) < 0) {
        free(s.t);
        return smc_fail(err, "out of memory");
    }
    s.f = fopen(path, "wb");
    if (!s.f) {
        free(s.t);
        return smc_fail(err, "cannot create %s: %s", path, strerror(errno));
    }
    bool linear = m->rope_pos_scale != 1.0f;
    bool own_scale = fabsf(m->attn_scale - (float)(1.0 / sqrt((double)m->head_dim))) > 1e-9f;
    uint64_t n_kv = 14 + 2 * linear + own_scale;
    put(&s, "GGUF", 4);
    put_u32(&s, 3);
    put_u64(&s, s.n);
    put_u64(&s, n_kv);
    kv_str(&s, "general.architecture", m->arch_name);
    kv_str(&s, "general.name", "smcgen model");
    kv_u32(&s, "general.alignment", ALIGN);
    kv_str(&s, "tokenizer.ggml.model", "no_vocab");
    kv_u32(&s, ".context_length", (uint32_t)m->n_ctx_train);
    kv_u32(&s, ".embedding_length", (uint32_t)m->n_embd);
    kv_u32(&s, ".block_count", (uint32_t)m->n_layer);
    kv_u32(&s, ".feed_forward_length", (uint32_t)m->n_ff);
    kv_u32(&s, ".attention.head_count", (uint32_t)m->n_head);
    kv_u32(&s, ".attention.head_count_kv", (uint32_t)m->n_head_kv);
    kv_u32(&s, ".attention.key_length", (uint32_t)m->head_dim);
    kv_u32(&s, ".rope.dimension_count", (uint32_t)m->n_rot);
    kv_f32(&s, ".rope.freq_base", (float)m->rope_base);
    kv_f32(&s, ".attention.layer_norm_rms_epsilon", m->eps);
    if (linear) {
        kv_str(&s, ".rope.scaling.type", "linear");
        kv_f32(&s, ".rope.scaling.factor", 1.0f / m->rope_pos_scale);
    }
    if (own_scale)
        kv_f32(&s, ".attention.scale", m->attn_scale);
    uint64_t off = 0;
    for (size_t i = 0; i < s.n; i++) {
        put_str(&s, s.t[i].name);
        put_u32(&s, s.t[i].n_dims);
        for (uint32_t d = 0; d < s.t[i].n_dims; d++)
            put_u64(&s, (uint64_t)s.t[i].ne[d]);
        put_u32(&s, (uint32_t)smc_r16_base_type(s.t[i].type));
        put_u64(&s, off);
        off += (s.t[i].bytes + ALIGN - 1) / ALIGN * ALIGN;
    }
    static const char zeros[ALIGN];
    long pos = s.bad ? 0 : ftell(s.f);
    put(&s, zeros, pos < 0 ? 0 : (size_t)((ALIGN - pos % ALIGN) % ALIGN));
    for (size_t i = 0; i < s.n; i++) {
        put_data(&s, &s.t[i]);
        put(&s, zeros, (ALIGN - s.t[i].bytes % ALIGN) % ALIGN);
    }
    bool bad = s.bad || pos < 0;
    if (fclose(s.f) != 0)
        bad = true;
    free(s.t);
    if (bad) {
        remove(path);
        return smc_fail(err, "cannot write %s (disk full?)", path);
    }
    return 0;
}
