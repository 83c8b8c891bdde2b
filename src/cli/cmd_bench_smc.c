/* cmd_bench_smc.c — `smcgen bench --smc`: forced tokens and the whole SMC
 * step on the shared tasks (the work is bench_smc_run in the pipeline). */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline/bench_smc.h"
#include "util/paths.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen bench --smc [-m MODEL.gguf] [--tasks LIST] [--particles LIST] [--instances K]\n"
            "                    [--max-tokens M] [--lookahead L] [-t N] [--seed S] [--json]\n\n"
            "SMC-level figures on the shared tasks: Spider SQL (grammar + SQL critic, smc-full),\n"
            "Blocksworld PDDL (goal grammar + critic, smc-full) and a JSON Schema (smc). Each instance\n"
            "runs with forced-token lookahead off and on (interleaved, same seed): the fraction of\n"
            "tokens the constraint forced, the speed-up, and whether both gave the same particles and\n"
            "log Z. Beside them, raw batched decoding of N sequences on the same model: particle-steps\n"
            "per second of the run against it, and the share of the step that is not the LM (masks,\n"
            "critic, resampling, bookkeeping). Prompt prefill is left out. Figures, not a test; on a\n"
            "shared machine compare the ratios of one run.\n\n"
            "options:\n"
            "  -m MODEL.gguf       model (default: ../shared/models/large-q8_0.gguf)\n"
            "  --tasks LIST        spider,blocksworld,json (default all)\n"
            "  --particles LIST    particle counts (default 10,64)\n"
            "  --instances K       instances (seeds for json) per task (default 2)\n"
            "  --max-tokens M      tokens per particle (default: the task's own; json 96)\n"
            "  --lookahead L       forced tokens evaluated ahead in the 'on' runs (default 16)\n"
            "  -t N                threads (default 1)\n"
            "  --seed S            first seed (default 1)\n"
            "  --json              machine-readable output\n"
            "  -h, --help          this help\n");
}

static int parse_list(const char *s, int *out, int cap)
{
    int n = 0;
    while (*s && n < cap) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 4096 || (*end && *end != ','))
            return -1;
        out[n++] = (int)v;
        s = *end ? end + 1 : end;
    }
    return *s ? -1 : n;
}

int cmd_bench_smc(int argc, char **argv)
{
    bench_smc_opts o;
    bench_smc_opts_default(&o);
    o.shared_dir = smc_shared_dir();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--smc")) {
            continue;
        } else if (!strcmp(a, "-m") && v) {
            o.model_path = argv[++i];
        } else if (!strcmp(a, "--tasks") && v) {
            o.tasks = argv[++i];
        } else if (!strcmp(a, "--particles") && v) {
            if ((o.n_particles = parse_list(v, o.particles, BENCH_SMC_MAX_N)) <= 0) {
                cli_error("bench: --particles wants up to %d counts in 1..4096, e.g. 10,64", BENCH_SMC_MAX_N);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--instances") || !strcmp(a, "--max-tokens") || !strcmp(a, "--lookahead") ||
                   !strcmp(a, "-t") || !strcmp(a, "--seed")) {
            bool la = !strcmp(a, "--lookahead"), seed = !strcmp(a, "--seed");
            if (cli_parse_long(a, v, seed ? 0 : 1, la ? 4096 : seed ? __LONG_MAX__ : 1000000, &x) < 0)
                return 2;
            i++;
            if (!strcmp(a, "--instances"))
                o.instances = (int)x;
            else if (!strcmp(a, "--max-tokens"))
                o.max_tokens = (int)x;
            else if (la)
                o.lookahead = (int)x;
            else if (seed)
                o.seed = (uint64_t)x;
            else
                o.n_threads = (int)x;
        } else if (!strcmp(a, "--json")) {
            o.json = true;
        } else {
            cli_error("bench: unknown or incomplete option '%s' (see 'smcgen bench --smc --help')", a);
            return 2;
        }
    }
    if (!o.shared_dir) {
        cli_error("bench --smc: the shared data folder (../shared or $SMCGEN_SHARED) was not found");
        return 1;
    }
    smc_error err = {{0}};
    if (bench_smc_run(&o, stdout, &err) < 0) {
        cli_error("bench --smc: %s", err.msg);
        return 1;
    }
    return 0;
}
