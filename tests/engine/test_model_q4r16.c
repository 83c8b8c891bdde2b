/* test_model_q4r16.c — load-time repacking of Q4_0 matrices (model_repack.c):
 * a synthetic Q4_0 model, saved (back in plain Q4_0 rows) and loaded again
 * read into memory (repacked where the VNNI kernels run) and mapped (plain),
 * gives the same bits in all three for a prompt (every position's logits)
 * and decode steps, on the default path, with AVX2 forced and with the
 * exact (dequantising) path; the saved file loads back with the bytes the
 * synthetic model was built with. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/kernels.h"
#include "engine/model.h"
#include "engine/quant_q4r16.h"
#include "test.h"

enum { NV = 512, NP = 6, NSTEP = 3 };

/* The logits of a 6-token prompt (every position) and 3 decode steps. */
static void run(const smc_model *m, bool exact, float *out)
{
    smc_error err = {{0}};
    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = 2;
    p.n_ctx = 32;
    p.exact = exact;
    smc_ctx *c = NULL;
    CHECK_EQ_INT(smc_ctx_new(m, &p, &c, &err), 0);
    if (!c)
        return;
    int32_t s = smc_seq_new(c, &err);
    smc_batch_entry e[NP];
    for (int i = 0; i < NP; i++)
        e[i] = (smc_batch_entry){s, (int32_t)(7 + 61 * i) % NV, true};
    smc_batch b = {e, NP};
    CHECK_EQ_INT(smc_decode(c, &b, &err), 0);
    for (int i = 0; i < NP; i++)
        memcpy(out + (size_t)i * NV, smc_logits(c, i), NV * sizeof(float));
    for (int k = 0; k < NSTEP; k++) {
        smc_batch_entry one = {s, (int32_t)(100 + 37 * k), true};
        smc_batch b1 = {&one, 1};
        CHECK_EQ_INT(smc_decode(c, &b1, &err), 0);
        memcpy(out + (size_t)(NP + k) * NV, smc_logits(c, 0), NV * sizeof(float));
    }
    smc_ctx_free(c);
}

static void compare(smc_model *const ms[3], bool exact)
{
    float *y[3];
    for (int i = 0; i < 3; i++) {
        y[i] = calloc((size_t)(NP + NSTEP) * NV, sizeof(float));
        run(ms[i], exact, y[i]);
    }
    CHECK(memcmp(y[0], y[1], (size_t)(NP + NSTEP) * NV * sizeof(float)) == 0);
    CHECK(memcmp(y[0], y[2], (size_t)(NP + NSTEP) * NV * sizeof(float)) == 0);
    for (int i = 0; i < 3; i++)
        free(y[i]);
}

void run_tests(void)
{
    smc_error err = {{0}};
    smc_model *syn = NULL, *rd = NULL, *mp = NULL;
    CHECK_EQ_INT(smc_model_synthetic_reduced("smollm2-135m", SMC_TYPE_Q4_0, 5, 2, NV, &syn, &err), 0);
    if (!syn)
        return;
    char path[64];
    snprintf(path, sizeof path, "/tmp/smc_test_q4r16_%d.gguf", (int)getpid());
    CHECK_EQ_INT(smc_model_save(syn, path, &err), 0);
    CHECK_EQ_INT(smc_model_load_ex(path, SMC_GGUF_READ, &rd, &err), 0);
    CHECK_EQ_INT(smc_model_load_ex(path, SMC_GGUF_MMAP, &mp, &err), 0);
    remove(path);
    if (!rd || !mp) {
        smc_model_free(syn);
        smc_model_free(rd);
        smc_model_free(mp);
        return;
    }
    /* mapped: plain; read and synthetic: repacked when the VNNI kernel runs Q4_0 */
    const smc_weight *wm = &mp->layers[1].gate, *wr = &rd->layers[1].gate, *ws = &syn->layers[1].gate;
    CHECK_EQ_INT(wm->type, SMC_TYPE_Q4_0);
    CHECK_EQ_INT(wr->type, ws->type);
    CHECK_EQ_INT(rd->tok_embd.type, SMC_TYPE_Q4_0);   /* rows read one at a time: plain */
    bool repacked = wr->type == SMC_TYPE_Q4_0_R16;
    if (!repacked)
        fprintf(stderr, "note: Q4_0 not repacked here (no AVX512-VNNI): plain layouts only\n");
    CHECK(memcmp(wr->data, ws->data, wr->row_bytes * (size_t)wr->n_out) == 0);
    if (repacked) {   /* the mapped file holds plain rows: row 21 of the repacked gate */
        uint8_t *row = malloc(wr->row_bytes);
        smc_r16_row(wr->data, wr->row_bytes, 21, row);
        CHECK(memcmp(row, (const uint8_t *)wm->data + 21 * wm->row_bytes, wr->row_bytes) == 0);
        free(row);
    }
    smc_model *const ms[3] = {mp, rd, syn};
    compare(ms, false);
    smc_kernels_force_avx2(true);
    compare(ms, false);
    smc_kernels_force_avx2(false);
    compare(ms, true);
    smc_model_free(syn);
    smc_model_free(rd);
    smc_model_free(mp);
}
