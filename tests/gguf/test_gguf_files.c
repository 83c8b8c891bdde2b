/* test_gguf_files.c — the reader on the real GGUF files in ../shared:
 * hyperparameters and tokenizer metadata stated in ../shared/models/README.md,
 * tensor sizes against an independent type table, bounds / alignment /
 * overlap of every tensor, and tensor data located correctly (the Q8_0 copy
 * of small-f32 dequantises to the F32 weights). */
#include "test.h"
#include "smcgen.h"

#include <stdint.h>

static smc_gguf *open_shared(const char *rel)
{
    smc_gguf *g = NULL;
    smc_error err = {{0}};
    int rc = smc_gguf_open(test_shared_path(rel), &g, &err);
    CHECK_MSG(rc == 0, "%s: %s", rel, err.msg);
    return rc ? NULL : g;
}

static int64_t get_int(const smc_gguf *g, const char *key)
{
    int64_t v = -12345;
    CHECK_MSG(smc_gguf_get_int(g, key, &v) == 0, "key %s", key);
    return v;
}

static int str_is(smc_str s, const char *want)
{
    return s.ptr && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* Bytes per block / elements per block, typed out from ggml-common.h. */
static uint64_t expected_nbytes(const smc_gguf_tensor *t)
{
    int64_t bs = 1, bb = 0;
    switch (t->type) {
    case 0: bb = 4; break;
    case 1: case 30: bb = 2; break;
    case 8: bs = 32; bb = 34; break;
    default: return 0;   /* the shared files only hold these types */
    }
    return (uint64_t)(t->ne[0] / bs * bb * t->ne[1] * t->ne[2] * t->ne[3]);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Every tensor: size, alignment, inside the file, no overlap. */
static void check_layout(const char *rel)
{
    smc_gguf *g = open_shared(rel);
    if (!g)
        return;
    uint64_t data = smc_gguf_data_offset(g), size = smc_gguf_file_size(g);
    int64_t n = smc_gguf_n_tensors(g);
    CHECK_MSG(data % smc_gguf_alignment(g) == 0 || n == 0, "%s data offset %llu", rel, (unsigned long long)data);
    uint64_t *spans = malloc(sizeof(uint64_t) * 2 * (size_t)(n ? n : 1));
    uint64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        const smc_gguf_tensor *t = smc_gguf_tensor_at(g, i);
        CHECK_MSG(t->nbytes == expected_nbytes(t), "%s %s: %llu bytes", rel, t->name, (unsigned long long)t->nbytes);
        CHECK(t->offset % smc_gguf_alignment(g) == 0);
        CHECK(data + t->offset + t->nbytes <= size);
        CHECK((const char *)t->data == (const char *)smc_gguf_tensor_at(g, 0)->data - smc_gguf_tensor_at(g, 0)->offset + t->offset);
        CHECK(smc_gguf_find_tensor(g, t->name) == t);
        spans[2 * i] = t->offset;
        spans[2 * i + 1] = t->offset + t->nbytes;
        total += t->nbytes;
    }
    qsort(spans, (size_t)n, 2 * sizeof(uint64_t), cmp_u64);
    for (int64_t i = 1; i < n; i++)
        CHECK_MSG(spans[2 * i] >= spans[2 * i - 1], "%s: tensors overlap", rel);
    /* Tensors fill the data section up to padding. */
    if (n)
        CHECK_MSG(size - data - total < (uint64_t)n * smc_gguf_alignment(g), "%s: %llu unaccounted bytes", rel,
                  (unsigned long long)(size - data - total));
    free(spans);
    smc_gguf_close(g);
}

static void check_stories(void)
{
    smc_gguf *g = open_shared("models/stories260K.gguf");
    if (!g)
        return;
    smc_str s;
    CHECK(smc_gguf_get_str(g, "general.architecture", &s) == 0 && str_is(s, "llama"));
    CHECK_EQ_INT(get_int(g, "llama.block_count"), 5);
    CHECK_EQ_INT(get_int(g, "llama.embedding_length"), 64);
    CHECK_EQ_INT(get_int(g, "llama.attention.head_count"), 8);
    CHECK_EQ_INT(get_int(g, "llama.attention.head_count_kv"), 4);
    CHECK(smc_gguf_get_str(g, "tokenizer.ggml.model", &s) == 0 && str_is(s, "llama"));
    int64_t i = smc_gguf_find_kv(g, "tokenizer.ggml.tokens");
    CHECK_EQ_INT(smc_gguf_kv_arr_type(g, i), SMC_GGUF_STRING);
    CHECK_EQ_INT(smc_gguf_kv_arr_len(g, i), 512);
    CHECK(str_is(smc_gguf_kv_arr_str(g, i, 0), "<unk>"));
    CHECK(str_is(smc_gguf_kv_arr_str(g, i, 1), "<s>"));
    CHECK(str_is(smc_gguf_kv_arr_str(g, i, 3), "<0x00>"));
    i = smc_gguf_find_kv(g, "tokenizer.ggml.scores");
    CHECK_EQ_INT(smc_gguf_kv_arr_type(g, i), SMC_GGUF_F32);
    CHECK_EQ_INT(smc_gguf_kv_arr_len(g, i), 512);
    CHECK_EQ_INT(get_int(g, "tokenizer.ggml.bos_token_id"), 1);
    CHECK_EQ_INT(get_int(g, "tokenizer.ggml.eos_token_id"), 2);
    const smc_gguf_tensor *t = smc_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t && t->type == SMC_TYPE_F32 && t->n_dims == 2 && t->ne[0] == 64 && t->ne[1] == 512);
    CHECK_EQ_INT(smc_gguf_n_tensors(g), 2 + 1 + 5 * 9);
    CHECK(smc_gguf_find_tensor(g, "blk.4.ffn_down.weight") != NULL);
    CHECK(smc_gguf_find_tensor(g, "blk.5.ffn_down.weight") == NULL);
    smc_gguf_close(g);
}

static void check_small_f32(void)
{
    smc_gguf *g = open_shared("models/small-f32.gguf");
    if (!g)
        return;
    CHECK_EQ_INT(get_int(g, "llama.embedding_length"), 192);
    CHECK_EQ_INT(get_int(g, "llama.block_count"), 4);
    CHECK_EQ_INT(get_int(g, "llama.attention.head_count"), 3);
    CHECK_EQ_INT(get_int(g, "llama.attention.head_count_kv"), 1);
    CHECK_EQ_INT(get_int(g, "llama.feed_forward_length"), 512);
    CHECK_EQ_INT(get_int(g, "llama.context_length"), 512);
    double eps = 0;
    CHECK(smc_gguf_get_float(g, "llama.attention.layer_norm_rms_epsilon", &eps) == 0);
    CHECK_NEAR(eps, 1e-5, 1e-12);
    smc_str s;
    CHECK(smc_gguf_get_str(g, "tokenizer.ggml.model", &s) == 0 && str_is(s, "gpt2"));
    CHECK(smc_gguf_get_str(g, "tokenizer.ggml.pre", &s) == 0 && str_is(s, "gpt-2"));
    int64_t i = smc_gguf_find_kv(g, "tokenizer.ggml.tokens");
    CHECK_EQ_INT(smc_gguf_kv_arr_len(g, i), 8192);
    CHECK(str_is(smc_gguf_kv_arr_str(g, i, 8191), "<|endoftext|>"));
    CHECK_EQ_INT(get_int(g, "tokenizer.ggml.bos_token_id"), 8191);
    CHECK_EQ_INT(get_int(g, "tokenizer.ggml.eos_token_id"), 8191);
    bool add_bos = false;
    CHECK(smc_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &add_bos) == 0 && add_bos);
    CHECK_EQ_INT(smc_gguf_n_tensors(g), 2 + 4 * 9);
    CHECK(smc_gguf_find_tensor(g, "output.weight") == NULL);   /* tied head */
    smc_gguf_close(g);
}

static float half_to_float(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v;
    if (exp == 0)
        v = ldexpf((float)man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexpf((float)(man | 1024), exp - 25);
    return sign ? -v : v;
}

/* The Q8_0 file stores the F32 file's weights rounded: each dequantised
 * value is within half a quantisation step of the F32 value. Checks the first
 * and the last tensor of the file (offsets at both ends of the data). */
static void check_q8_matches_f32(const char *name)
{
    smc_gguf *gf = open_shared("models/small-f32.gguf"), *gq = open_shared("models/small-q8_0.gguf");
    if (gf && gq) {
        const smc_gguf_tensor *tf = smc_gguf_find_tensor(gf, name), *tq = smc_gguf_find_tensor(gq, name);
        CHECK(tf && tq && tf->type == SMC_TYPE_F32 && tq->type == SMC_TYPE_Q8_0);
        if (tf && tq && tf->ne[0] == tq->ne[0] && tf->ne[1] == tq->ne[1]) {
            int64_t n = tf->ne[0] * tf->ne[1], bad = 0;
            const uint8_t *q = tq->data;
            for (int64_t b = 0; b < n / 32; b++, q += 34) {
                uint16_t dh;
                memcpy(&dh, q, 2);
                float d = half_to_float(dh);
                for (int j = 0; j < 32; j++) {
                    float x;
                    memcpy(&x, (const char *)tf->data + 4 * (b * 32 + j), 4);
                    float y = d * (float)(int8_t)q[2 + j];
                    if (!(fabsf(x - y) <= fabsf(d) * 0.5f + 1e-6f + fabsf(x) * 1e-3f))
                        bad++;
                }
            }
            CHECK_MSG(bad == 0, "%s: %lld values off", name, (long long)bad);
        }
    }
    smc_gguf_close(gf);
    smc_gguf_close(gq);
}

static void check_vocab_files(void)
{
    static const struct { const char *file, *model; int64_t n_tokens, n_merges; } V[] = {
        {"vocab/ggml-vocab-gpt-2.gguf", "gpt2", 50257, 50000},
        {"vocab/ggml-vocab-llama-spm.gguf", "llama", 32000, -1},
        {"vocab/ggml-vocab-phi-3.gguf", "llama", 32064, -1},
        {"vocab/ggml-vocab-starcoder.gguf", "gpt2", 49152, 48872},
        {"vocab/ggml-vocab-deepseek-coder.gguf", "gpt2", 32256, 31757},
        {"vocab/ggml-vocab-bert-bge.gguf", "bert", 30522, -1},
    };
    for (size_t k = 0; k < sizeof V / sizeof V[0]; k++) {
        smc_gguf *g = open_shared(V[k].file);
        if (!g)
            continue;
        smc_str s;
        CHECK_MSG(smc_gguf_get_str(g, "tokenizer.ggml.model", &s) == 0 && str_is(s, V[k].model), "%s", V[k].file);
        int64_t i = smc_gguf_find_kv(g, "tokenizer.ggml.tokens");
        CHECK_EQ_INT(smc_gguf_kv_arr_len(g, i), V[k].n_tokens);
        /* Every token string is there. */
        int64_t out = 0;
        for (uint64_t j = 0; j < smc_gguf_kv_arr_len(g, i); j++) {
            smc_str t = smc_gguf_kv_arr_str(g, i, j);
            if (!t.ptr || t.len > smc_gguf_file_size(g))
                out++;
        }
        CHECK_EQ_INT(out, 0);
        int64_t m = smc_gguf_find_kv(g, "tokenizer.ggml.merges");
        CHECK_EQ_INT(m < 0 ? -1 : (int64_t)smc_gguf_kv_arr_len(g, m), V[k].n_merges);
        CHECK_EQ_INT(smc_gguf_n_tensors(g), 0);
        smc_gguf_close(g);
    }
}

void run_tests(void)
{
    REQUIRE_SHARED();
    check_stories();
    check_small_f32();
    check_q8_matches_f32("token_embd.weight");
    check_q8_matches_f32("blk.3.ffn_down.weight");
    static const char *files[] = {
        "models/stories260K.gguf", "models/small-f32.gguf", "models/small-q8_0.gguf",
        "models/large-f16.gguf", "models/large-q8_0.gguf", "models/arch/llama-dense.gguf",
        "models/arch/qwen2-dense.gguf", "models/arch/qwen3-dense.gguf",
        "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-llama-spm.gguf",
    };
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++)
        check_layout(files[k]);
    check_vocab_files();
}
