/* pipeline_smc_step.c — forced tokens and the whole SMC step on the shared
 * tasks (Spider SQL, Blocksworld PDDL, a JSON Schema): lookahead off and on
 * side by side, and particle-steps/s against raw batched decoding at the
 * same N (bench_smc_run; the same as `smcgen bench --smc`).
 * Usage: bench_pipeline_smc_step [MODEL.gguf [PARTICLES,... [INSTANCES]]]. */
#include <stdio.h>
#include <stdlib.h>

#include "pipeline/bench_smc.h"
#include "util/paths.h"

int main(int argc, char **argv)
{
    bench_smc_opts o;
    bench_smc_opts_default(&o);
    o.shared_dir = smc_shared_dir();
    if (!o.shared_dir) {
        fprintf(stderr, "the shared data folder (../shared or $SMCGEN_SHARED) was not found\n");
        return 1;
    }
    if (argc > 1)
        o.model_path = argv[1];
    if (argc > 2) {
        o.n_particles = 0;
        for (char *p = argv[2]; *p && o.n_particles < BENCH_SMC_MAX_N;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 1 || v > 4096) {
                fprintf(stderr, "bad particle list %s\n", argv[2]);
                return 2;
            }
            o.particles[o.n_particles++] = (int)v;
            p = *end == ',' ? end + 1 : end;
        }
    }
    if (argc > 3)
        o.instances = atoi(argv[3]) > 0 ? atoi(argv[3]) : 1;
    smc_error err = {{0}};
    if (bench_smc_run(&o, stdout, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    return 0;
}
