/* eval_run.h — `smcgen eval`: runs every (task, model, method, particle
 * count, instance, replicate) unit, or one shard of them, appending one JSON
 * line per unit to OUT/units.jsonl (so --resume skips finished units), then
 * writes the report (eval_report.h); merges shard folders. */
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
    /* Every unit's sampling options (the run-option table's particles, ESS
     * threshold, resampling, temperature, proposal, seed...); a unit sets
     * its method, particle count (the sweep), max_tokens and seed + r. */
    smc_config base;
    int replicates;                /* default 5 */
    int limit;                     /* instances per task; <= 0: all */
    int limit_pydata;              /* pydata's own limit when > 0 */
    int sweep[EVAL_MAX_SWEEP];     /* smc-full particle counts (besides n_particles) */
    int n_sweep;
    int sweep_limit;               /* instances per task for the sweep; <= 0: limit */
    bool sweep_tasks[EVAL_N_TASKS]; /* the tasks that get the sweep (default all) */
    int n_ctx;                     /* context length (tokens); 0: the model's */
    int max_tokens;                /* > 0 overrides the per-task defaults */
    int n_threads;
    int load;                      /* how models are loaded: SMC_GGUF_AUTO/_MMAP/_READ | SMC_GGUF_MLOCK */
    const char *out_dir;
    const char *trace_dir;         /* when set, one trace per run (docs/trace.md) */
    const char *shared_dir;
    int shard_i, shard_n;          /* run only instances i with i % shard_n == shard_i (shard_n 0: all) */
    bool resume;
    bool quiet;
    const char *command;           /* the command line, for config.json */
} eval_opts;

void eval_opts_default(eval_opts *o);
int eval_run(const eval_opts *o, smc_error *err);
/* Combines the run folders of a sharded run (each made with --shard I/N,
 * same options) into out_dir: config.json, units.jsonl and the report, the
 * same as one unsharded run's. Refuses folders whose options differ, a
 * shard given twice or missing, and a unit found twice. */
int eval_merge(const char *const *dirs, int n_dirs, const char *out_dir, smc_error *err);

/* Builds instance `in` of task t into s (after smc_setup_model): its
 * prompt, grammar, stop strings and critic, as eval runs it. */
struct smc_setup;
int eval_build_instance(eval_task_kind t, const eval_instance *in, int n_threads, struct smc_setup *s,
                        smc_error *err);

/* The key that identifies a unit in units.jsonl. */
void eval_unit_key(char *buf, size_t cap, const char *task, const char *model, const char *method,
                   int n_particles, const char *instance, int replicate);
/* The same key from a unit's JSON object. */
struct cJSON;
void eval_unit_key_json(const struct cJSON *u, char *buf, size_t cap);
/* mkdir -p. */
int eval_mkdir_p(const char *path, smc_error *err);

#endif
