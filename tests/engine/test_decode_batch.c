/* test_decode_batch.c — batched, forked evaluation against fresh
 * single-sequence runs (random fork / free / extend schedules over many
 * particles), decode errors (KV budget, context length, bad ids) leaving
 * state unchanged, and clear load errors for unsupported models. */
#include "test.h"

#include <unistd.h>

#include "smcgen.h"

#define TOL_BATCH 1e-4

typedef struct particle {
    int32_t seq;
    int32_t n;
    int32_t toks[128];
    float *last;             /* logits after its last token, from the batched run */
} particle;

static uint64_t rng_state = 88172645463325252ULL;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* Logits after the last of ids[0..n), from a fresh context. */
static double fresh_diff(const smc_model *m, const int32_t *ids, int32_t n, const float *want, int nthreads)
{
    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = nthreads;
    smc_ctx *c = NULL;
    smc_error err = {{0}};
    if (smc_ctx_new(m, &p, &c, &err))
        return INFINITY;
    int32_t s = smc_seq_new(c, &err);
    smc_batch_entry e[128];
    for (int32_t i = 0; i < n; i++)
        e[i] = (smc_batch_entry){s, ids[i], i == n - 1};
    smc_batch b = {e, n};
    double mx = INFINITY;
    if (smc_decode(c, &b, &err) == 0) {
        const float *lg = smc_logits(c, 0);
        int32_t nv = smc_model_n_vocab(m);
        mx = 0;
        for (int32_t i = 0; i < nv; i++)
            if (fabs(lg[i] - want[i]) > mx)
                mx = fabs(lg[i] - want[i]);
    }
    smc_ctx_free(c);
    return mx;
}

static void test_fork_batch(const char *model_rel, int rounds)
{
    smc_model *m = NULL;
    smc_error err = {{0}};
    if (smc_model_load(test_shared_path(model_rel), &m, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    int32_t nv = smc_model_n_vocab(m);
    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = 2;
    p.n_ctx = 128;
    smc_ctx *c = NULL;
    CHECK_EQ_INT(smc_ctx_new(m, &p, &c, &err), 0);
    enum { MAXP = 24 };
    particle ps[MAXP];
    int np = 1;
    memset(ps, 0, sizeof ps);
    ps[0].seq = smc_seq_new(c, &err);
    /* A shared prompt of 21 tokens: crosses a KV block boundary (16). */
    ps[0].n = 21;
    for (int i = 0; i < ps[0].n; i++)
        ps[0].toks[i] = (int32_t)rnd((uint32_t)nv);
    smc_batch_entry e[512];
    for (int i = 0; i < ps[0].n; i++)
        e[i] = (smc_batch_entry){ps[0].seq, ps[0].toks[i], i == ps[0].n - 1};
    smc_batch b = {e, ps[0].n};
    CHECK_EQ_INT(smc_decode(c, &b, &err), 0);
    double worst = 0;
    int checked = 0;
    for (int r = 0; r < rounds; r++) {
        /* Resample-like step: forks (sharing everything) and frees. */
        int nf = (int)rnd(4);
        for (int f = 0; f < nf && np < MAXP; f++) {
            int src = (int)rnd((uint32_t)np);
            ps[np] = ps[src];
            ps[np].last = NULL;
            ps[np].seq = smc_seq_fork(c, ps[src].seq, &err);
            CHECK(ps[np].seq >= 0);
            np++;
        }
        int nd = np > 2 ? (int)rnd(3) : 0;
        for (int f = 0; f < nd && np > 1; f++) {
            int k = (int)rnd((uint32_t)np);
            smc_seq_free(c, ps[k].seq);
            ps[k] = ps[--np];
        }
        /* One batch extending every particle by 1..3 tokens (some by 0). */
        int ne = 0;
        for (int k = 0; k < np; k++) {
            int add = (int)rnd(4);
            if (ps[k].n + add > 100)
                add = 0;
            for (int a = 0; a < add; a++) {
                int32_t t = (int32_t)rnd((uint32_t)nv);
                ps[k].toks[ps[k].n++] = t;
                e[ne++] = (smc_batch_entry){ps[k].seq, t, a == add - 1};
            }
        }
        b.n = ne;
        if (smc_decode(c, &b, &err)) {
            CHECK_MSG(0, "decode: %s", err.msg);
            break;
        }
        /* Logits come back in batch order of the entries asking for them. */
        int li = 0;
        for (int i = 0; i < ne; i++) {
            if (!e[i].want_logits)
                continue;
            for (int k = 0; k < np; k++)
                if (ps[k].seq == e[i].seq) {
                    CHECK_EQ_INT(smc_seq_len(c, ps[k].seq), ps[k].n);
                    double d = fresh_diff(m, ps[k].toks, ps[k].n, smc_logits(c, li), (int)(1 + rnd(2)));
                    if (d > worst)
                        worst = d;
                    checked++;
                }
            li++;
        }
        CHECK_EQ_INT(li, smc_n_logits(c));
    }
    CHECK_MSG(worst <= TOL_BATCH, "%s: batched/forked logits differ from fresh runs by %g", model_rel, worst);
    CHECK(checked > rounds);
    fprintf(stderr, "  %s: %d batched/forked logit rows vs fresh single runs, worst diff %.3g\n", model_rel,
            checked, worst);
    for (int k = 0; k < np; k++)
        smc_seq_free(c, ps[k].seq);
    CHECK_EQ_INT(smc_ctx_kv_used_bytes(c), 0);
    smc_ctx_free(c);
    smc_model_free(m);
}

/* Batches larger than one micro-batch (64 entries), several sequences
 * interleaved, against one-token-at-a-time decoding. */
static void test_big_batch(void)
{
    smc_model *m = NULL;
    smc_error err = {{0}};
    if (smc_model_load(test_shared_path("models/stories260K.gguf"), &m, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    enum { NS = 3, LEN = 70 };
    int32_t nv = smc_model_n_vocab(m), toks[NS][LEN];
    for (int s = 0; s < NS; s++)
        for (int i = 0; i < LEN; i++)
            toks[s][i] = (int32_t)rnd((uint32_t)nv);
    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = 2;
    smc_ctx *big = NULL, *one = NULL;
    CHECK_EQ_INT(smc_ctx_new(m, &p, &big, &err), 0);
    CHECK_EQ_INT(smc_ctx_new(m, &p, &one, &err), 0);
    if (!big || !one) {
        smc_ctx_free(big);
        smc_ctx_free(one);
        smc_model_free(m);
        return;
    }
    static smc_batch_entry e[NS * LEN];
    int32_t ids[NS];
    for (int s = 0; s < NS; s++)
        ids[s] = smc_seq_new(big, &err);
    for (int i = 0; i < LEN; i++)
        for (int s = 0; s < NS; s++)
            e[i * NS + s] = (smc_batch_entry){ids[s], toks[s][i], true};
    smc_batch b = {e, NS * LEN};
    CHECK_EQ_INT(smc_decode(big, &b, &err), 0);
    CHECK_EQ_INT(smc_n_logits(big), NS * LEN);
    double worst = 0;
    for (int s = 0; s < NS; s++) {
        int32_t q = smc_seq_new(one, &err);
        for (int i = 0; i < LEN; i++) {
            smc_batch_entry x = {q, toks[s][i], true};
            smc_batch b1 = {&x, 1};
            if (smc_decode(one, &b1, &err)) {
                CHECK_MSG(0, "%s", err.msg);
                break;
            }
            const float *a = smc_logits(big, i * NS + s), *o = smc_logits(one, 0);
            for (int32_t t = 0; t < nv; t++)
                if (fabs(a[t] - o[t]) > worst)
                    worst = fabs(a[t] - o[t]);
        }
        CHECK_EQ_INT(smc_seq_len(one, q), LEN);
        CHECK_EQ_INT(smc_seq_len(big, ids[s]), LEN);
    }
    CHECK_MSG(worst <= TOL_BATCH, "batch of %d entries vs one at a time: %g", NS * LEN, worst);
    smc_ctx_free(big);
    smc_ctx_free(one);
    smc_model_free(m);
}

static void test_errors(void)
{
    smc_model *m = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_model_load(test_shared_path("models/small-q8_0.gguf"), &m, &err), 0);
    if (!m)
        return;
    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = 1;
    p.n_ctx = 40;
    /* Budget of exactly 2 KV blocks (16 tokens each). */
    size_t block = (size_t)smc_model_n_layer(m) * 2 * 16 * smc_model_n_head_kv(m) * smc_model_head_dim(m) * 4;
    p.kv_budget_bytes = 2 * block;
    smc_ctx *c = NULL;
    CHECK_EQ_INT(smc_ctx_new(m, &p, &c, &err), 0);
    int32_t s = smc_seq_new(c, &err);
    smc_batch_entry e[64];
    for (int i = 0; i < 64; i++)
        e[i] = (smc_batch_entry){s, 100 + i, i == 29};
    smc_batch b = {e, 30};
    CHECK_EQ_INT(smc_decode(c, &b, &err), 0);
    CHECK_EQ_INT(smc_seq_len(c, s), 30);
    /* A fork appending needs a copy of the shared partial block: over budget. */
    int32_t f = smc_seq_fork(c, s, &err);
    smc_batch_entry one = {f, 5, true};
    smc_batch b1 = {&one, 1};
    CHECK_EQ_INT(smc_decode(c, &b1, &err), -1);
    CHECK(strstr(err.msg, "KV cache budget exceeded") != NULL);
    CHECK_EQ_INT(smc_seq_len(c, f), 30);
    CHECK_EQ_INT(smc_n_logits(c), 0);
    CHECK(smc_logits(c, 0) == NULL);
    smc_seq_free(c, f);
    /* Context length: 30 + 11 > 40. */
    b.n = 11;
    CHECK_EQ_INT(smc_decode(c, &b, &err), -1);
    CHECK(strstr(err.msg, "more than the context size 40") != NULL);
    CHECK_EQ_INT(smc_seq_len(c, s), 30);
    /* Bad token and unknown sequence. */
    one = (smc_batch_entry){s, 8192, true};
    CHECK_EQ_INT(smc_decode(c, &b1, &err), -1);
    CHECK(strstr(err.msg, "outside the vocabulary") != NULL);
    one = (smc_batch_entry){77, 1, true};
    CHECK_EQ_INT(smc_decode(c, &b1, &err), -1);
    CHECK(strstr(err.msg, "sequence 77 does not exist") != NULL);
    one = (smc_batch_entry){s, 1, true};
    CHECK_EQ_INT(smc_decode(c, &b1, &err), 0);   /* still usable */
    CHECK_EQ_INT(smc_seq_len(c, s), 31);
    smc_ctx_free(c);
    /* A budget smaller than one block. */
    p.kv_budget_bytes = block / 2;
    CHECK_EQ_INT(smc_ctx_new(m, &p, &c, &err), -1);
    CHECK(strstr(err.msg, "smaller than one block") != NULL);
    smc_model_free(m);
}

/* ---- a tiny GGUF writer for malformed / unsupported models ---- */

typedef struct tinfo {
    const char *name;
    int type;
    int64_t ne0, ne1;
} tinfo;

static void put_u32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void put_u64(FILE *f, uint64_t v) { fwrite(&v, 8, 1, f); }
static void put_str(FILE *f, const char *s)
{
    put_u64(f, strlen(s));
    fwrite(s, 1, strlen(s), f);
}

static size_t tensor_bytes(const tinfo *t)
{
    return (size_t)(t->ne0 / smc_type_block_size(t->type)) * smc_type_block_bytes(t->type) * (size_t)t->ne1;
}

static void write_gguf(const char *path, const char *arch, const tinfo *ts, int nt)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite("GGUF", 1, 4, f);
    put_u32(f, 3);
    put_u64(f, (uint64_t)nt);
    put_u64(f, 5);
    put_str(f, "general.architecture");
    put_u32(f, SMC_GGUF_STRING);
    put_str(f, arch);
    const char *keys[] = {"embedding_length", "block_count", "attention.head_count", "feed_forward_length"};
    uint32_t vals[] = {256, 1, 4, 256};
    for (int i = 0; i < 4; i++) {
        char k[96];
        snprintf(k, sizeof k, "%s.%s", arch, keys[i]);
        put_str(f, k);
        put_u32(f, SMC_GGUF_U32);
        put_u32(f, vals[i]);
    }
    uint64_t off = 0;
    for (int i = 0; i < nt; i++) {
        put_str(f, ts[i].name);
        put_u32(f, 2);
        put_u64(f, (uint64_t)ts[i].ne0);
        put_u64(f, (uint64_t)ts[i].ne1);
        put_u32(f, (uint32_t)ts[i].type);
        put_u64(f, off);
        off += (tensor_bytes(&ts[i]) + 31) / 32 * 32;
    }
    long pos = ftell(f);
    for (; pos % 32; pos++)
        fputc(0, f);
    for (uint64_t i = 0; i < off; i++)
        fputc(0, f);
    fclose(f);
}

static void test_bad_models(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/smc_test_engine_%d.gguf", (int)getpid());
    tinfo ts[] = {
        {"token_embd.weight", SMC_TYPE_Q2_K, 256, 16}, {"output_norm.weight", SMC_TYPE_F32, 256, 1},
        {"blk.0.attn_norm.weight", SMC_TYPE_F32, 256, 1}, {"blk.0.ffn_norm.weight", SMC_TYPE_F32, 256, 1},
        {"blk.0.attn_q.weight", SMC_TYPE_F32, 256, 256}, {"blk.0.attn_k.weight", SMC_TYPE_F32, 256, 256},
        {"blk.0.attn_v.weight", SMC_TYPE_F32, 256, 256}, {"blk.0.attn_output.weight", SMC_TYPE_F32, 256, 256},
        {"blk.0.ffn_gate.weight", SMC_TYPE_F32, 256, 256}, {"blk.0.ffn_up.weight", SMC_TYPE_F32, 256, 256},
        {"blk.0.ffn_down.weight", SMC_TYPE_F32, 256, 256},
    };
    int nt = (int)(sizeof ts / sizeof ts[0]);
    smc_model *m = NULL;
    smc_error err = {{0}};

    write_gguf(path, "gpt2", ts, nt);
    CHECK_EQ_INT(smc_model_load(path, &m, &err), -1);
    CHECK_MSG(strstr(err.msg, "unsupported architecture 'gpt2'") != NULL, "%s", err.msg);

    write_gguf(path, "llama", ts, nt);
    CHECK_EQ_INT(smc_model_load(path, &m, &err), -1);
    CHECK_MSG(strstr(err.msg, "token_embd.weight has unsupported type q2_K") != NULL ||
              strstr(err.msg, "token_embd.weight has unsupported type q2_k") != NULL, "%s", err.msg);

    ts[0].type = SMC_TYPE_F32;
    write_gguf(path, "llama", ts, nt);
    CHECK_EQ_INT(smc_model_load(path, &m, &err), 0);   /* the same model with f32 loads */
    if (m) {
        CHECK_STR(smc_model_arch(m), "llama");
        CHECK_EQ_INT(smc_model_n_vocab(m), 16);
        CHECK_EQ_INT(smc_model_head_dim(m), 64);
        smc_model_free(m);
        m = NULL;
    }
    write_gguf(path, "llama", ts, nt - 1);              /* no ffn_down */
    CHECK_EQ_INT(smc_model_load(path, &m, &err), -1);
    CHECK_MSG(strstr(err.msg, "missing tensor blk.0.ffn_down.weight") != NULL, "%s", err.msg);
    remove(path);

    CHECK_EQ_INT(smc_model_load("/nonexistent/model.gguf", &m, &err), -1);
    CHECK(err.msg[0] != 0);
}

void run_tests(void)
{
    test_bad_models();
    REQUIRE_SHARED();
    test_errors();
    test_big_batch();
    int rounds = getenv("SMC_TEST_SANITIZED") ? 6 : 25;
    test_fork_batch("models/small-q8_0.gguf", rounds);
    test_fork_batch("models/stories260K.gguf", rounds);
    test_fork_batch("models/arch/qwen3-dense.gguf", rounds / 2);
}
