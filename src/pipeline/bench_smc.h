/* bench_smc.h — the SMC-level speed figures (`smcgen bench --smc`,
 * bench/pipeline_smc_step.c): forced tokens and the whole SMC step on the
 * shared tasks. */
#ifndef SMC_PIPELINE_BENCH_SMC_H
#define SMC_PIPELINE_BENCH_SMC_H

#include <stdio.h>

#include "smcgen.h"

#define BENCH_SMC_MAX_N 8

typedef struct bench_smc_opts {
    const char *model_path;          /* NULL: SHARED/models/large-q8_0.gguf */
    const char *shared_dir;          /* the shared data folder */
    const char *tasks;               /* comma list of spider, blocksworld, json; NULL: all */
    int particles[BENCH_SMC_MAX_N];  /* particle counts (default 10, 64) */
    int n_particles;
    int instances;                   /* per task (default 2) */
    int max_tokens;                  /* > 0: instead of the tasks' own */
    int lookahead;                   /* the "on" setting (default 16) */
    int n_threads;                   /* default 1 */
    uint64_t seed;
    bool json;                       /* one JSON object instead of the table */
} bench_smc_opts;

void bench_smc_opts_default(bench_smc_opts *o);
/* Runs every task × particle count × instance with lookahead off and on
 * (interleaved, same seed) and raw batched decoding beside them; prints the
 * table (or JSON) to out. */
int bench_smc_run(const bench_smc_opts *o, FILE *out, smc_error *err);

#endif
