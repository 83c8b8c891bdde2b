/* eval_run.h — `smcgen eval`: runs every (task, model, method, particle
 * count, instance, replicate) unit, appending one JSON line per unit to
 * OUT/units.jsonl (so --resume skips finished units), then writes the
 * report (eval_report.h). */
#ifndef SMC_PIPELINE_EVAL_RUN_H
#define SMC_PIPELINE_EVAL_RUN_H

#include "pipeline/eval_task.h"
#include "smcgen.h"

#define EVAL_MAX_MODELS 8
#define EVAL_MAX_SWEEP 16

typedef struct eval_model_ref {
    const char *name;   /* "small" */
    const char *path;   /* GGUF file */
} eval_model_ref;

typedef struct eval_opts {
    bool tasks[EVAL_N_TASKS];
    bool methods[7];               /* indexed by smc_method */
    eval_model_ref models[EVAL_MAX_MODELS];
    int n_models;
    int n_particles;               /* default 10 */
    double ess_threshold;          /* default 0.9 */
    int replicates;                /* default 5 */
    int limit;                     /* instances per task; <= 0: all */
    int limit_pydata;              /* pydata's own limit when > 0 */
    int sweep[EVAL_MAX_SWEEP];     /* smc-full particle counts (besides n_particles) */
    int n_sweep;
    int sweep_limit;               /* instances per task for the sweep; <= 0: limit */
    uint64_t seed;                 /* replicate r uses seed + r */
    int max_tokens;                /* > 0 overrides the per-task defaults */
    int n_threads;
    const char *out_dir;
    const char *trace_dir;         /* when set, one trace per run (docs/trace.md) */
    const char *shared_dir;
    bool resume;
    bool quiet;
    const char *command;           /* the command line, for config.json */
} eval_opts;

void eval_opts_default(eval_opts *o);
int eval_run(const eval_opts *o, smc_error *err);

/* The key that identifies a unit in units.jsonl. */
void eval_unit_key(char *buf, size_t cap, const char *task, const char *model, const char *method,
                   int n_particles, const char *instance, int replicate);

#endif
