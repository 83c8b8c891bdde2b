/* engine_attention.c — benchmark of attention over a prompt (not a test):
 * one sequence of N tokens (default 1024) whose K/V rows are in the paged
 * cache, its queries attended in micro-batches of SMC_UBATCH as prefill does
 * (smc_attention per micro-batch, one layer), with the kernel the CPU gets
 * (the tiled one, attention_tiled.c) and with the scalar reference path
 * (smc_kernels_force_scalar). Prints the best time of each over the rounds
 * (alternating) and GFLOP/s (2 FLOPs per multiply-add of Q.K and of P.V).
 * Shapes: SmolLM2-135M (9 query / 3 K/V heads, head_dim 64) and
 * Qwen2.5-0.5B (14 / 2, 64).
 * Usage: bench_engine_attention [-n TOKENS] [--rounds R] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/engine/attn_fixture.h"
#include "bench_util.h"

/* Seconds for attention of all n queries, micro-batch by micro-batch. */
static double run_prompt(smc_ctx *c, int32_t n)
{
    double t0 = bench_cpu_now(); /* one thread: its CPU time */
    for (int32_t i0 = 0; i0 < n; i0 += SMC_UBATCH)
        smc_attention(c, 0, i0, n - i0 < SMC_UBATCH ? n - i0 : SMC_UBATCH);
    return bench_cpu_now() - t0;
}

static int bench_shape(const char *name, int n_head, int n_head_kv, int hd, int32_t n, int rounds)
{
    int kvd = n_head_kv * hd, qd = n_head * hd;
    attn_fixture f;
    smc_error err = {{0}};
    int32_t *seqs = malloc(sizeof(int32_t) * (size_t)n);
    smc_kv_slot *slots = malloc(sizeof(smc_kv_slot) * (size_t)n);
    float *q = malloc(sizeof(float) * (size_t)SMC_UBATCH * qd), *att = malloc(sizeof(float) * (size_t)SMC_UBATCH * qd);
    if (attn_fixture_init(&f, n_head, n_head_kv, hd, 1, n, (size_t)n * kvd * 2 * sizeof(float) + (1 << 20), &err) ||
        !seqs || !slots || !q || !att) {
        fprintf(stderr, "%s\n", err.msg[0] ? err.msg : "out of memory");
        return 1;
    }
    smc_ctx *c = &f.c;
    int32_t s = smc_kv_seq_new(&c->kv, &err);
    for (int32_t i = 0; i < n; i++)
        seqs[i] = s;
    smc_kv_append(&c->kv, seqs, n, slots, &err);
    unsigned rs = 7;
    for (int32_t i = 0; i < n; i++)
        for (int t = 0; t < kvd; t++) {
            smc_kv_k(&c->kv, slots[i].block, 0)[(size_t)slots[i].row * kvd + t] = bench_frand(&rs);
            smc_kv_v(&c->kv, slots[i].block, 0)[(size_t)slots[i].row * kvd + t] = bench_frand(&rs);
        }
    for (size_t t = 0; t < (size_t)SMC_UBATCH * qd; t++)
        q[t] = bench_frand(&rs);
    c->q = q;   /* every micro-batch reuses the same queries: the cost does not depend on them */
    c->att = att;
    c->slots = slots;
    c->seq_ids = seqs;
    double best_t = INFINITY, best_s = INFINITY;
    for (int r = 0; r < rounds; r++) {
        double t = run_prompt(c, n);
        best_t = t < best_t ? t : best_t;
        smc_kernels_force_scalar(true);
        t = run_prompt(c, n);
        smc_kernels_force_scalar(false);
        best_s = t < best_s ? t : best_s;
    }
    double flops = 4.0 * hd * n_head * ((double)n * (n + 1) / 2);
    printf("%-14s %5d tokens: tiled %8.2f ms %6.1f GFLOP/s | reference path %8.2f ms %6.1f GFLOP/s | %.2fx\n", name,
           n, best_t * 1e3, flops / best_t * 1e-9, best_s * 1e3, flops / best_s * 1e-9, best_s / best_t);
    attn_fixture_free(&f);
    free(seqs);
    free(slots);
    free(q);
    free(att);
    return 0;
}

int main(int argc, char **argv)
{
    int32_t n = 1024;
    int rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_engine_attention [-n TOKENS] [--rounds R]\n");
            return 2;
        }
    }
    if (n < 1 || n > 65536 || rounds < 1) {
        fprintf(stderr, "bench_engine_attention: -n must be 1..65536 and --rounds >= 1\n");
        return 2;
    }
    printf("attention over a %d-token prompt, 1 thread, one layer, kernels: %s\n", n, smc_kernels_isa());
    return bench_shape("SmolLM2-135M", 9, 3, 64, n, rounds) || bench_shape("Qwen2.5-0.5B", 14, 2, 64, n, rounds);
}
