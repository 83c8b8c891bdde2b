/* cmd_eval.c — `smcgen eval`: the paper's comparison on our benchmarks
 * (spider, molecules, blocksworld, pydata) × methods × models, with
 * bootstrap CIs, written to results/<run>/. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/eval_report.h"
#include "pipeline/eval_run.h"
#include "pipeline/run_options.h"
#include "pipeline/smc_setup.h"
#include "util/paths.h"

/* The run-option table's options that eval takes, in --help order: they are
 * parsed, checked and described by the table, as in `smc`, and apply to
 * every unit (max_tokens: to every task, instead of its own default). */
static const char *const table_opts[] = {"particles", "ess_threshold", "resample", "resample_at", "temperature",
                                         "proposal", "max_tokens", "seed"};
#define N_TABLE_OPTS (int)(sizeof table_opts / sizeof *table_opts)
/* The table's model settings that eval takes: how every model is loaded. */
static const char *const model_opts[] = {"load", "mlock"};
#define N_MODEL_OPTS (int)(sizeof model_opts / sizeof *model_opts)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen eval [options]\n\n"
            "Runs the seven methods on the benchmark tasks of ../shared/data with one or more models and\n"
            "writes OUT/units.jsonl (one line per run, appended as it goes), OUT/results.json (every\n"
            "instance, particle, weight and score, plus aggregates), OUT/summary.md (methods x tasks with\n"
            "95%% bootstrap CIs, diagnostics, the particle sweep) and PNG plots (when gnuplot is installed).\n"
            "Score per run = posterior-weighted accuracy sum_i w_i * score(y_i).\n\n"
            "what to run:\n"
            "  --task T             spider | molecules | blocksworld | pydata | all, or a comma list (default all)\n"
            "  --methods LIST       comma list of plain,lcd,is,smc,rerank,is-full,smc-full (default all)\n"
            "  --models LIST        NAME=PATH,... (default small=../shared/models/small-q8_0.gguf and\n"
            "                       large=../shared/models/large-q8_0.gguf when present, else the bundled model)\n"
            "  -m FILE              one model (same as --models default=FILE)\n"
            "  --replicates R       runs per instance with seeds S..S+R-1 (default 5)\n"
            "  --limit K            the first K instances of each task (default all)\n"
            "  --limit-pydata K     pydata's own limit (its critic is the slowest)\n"
            "  --unsafe-no-sandbox  run pydata's generated code without the sandbox (docs/security.md)\n"
            "  --particle-sweep L   extra smc-full runs with these particle counts, e.g. 1,2,5,10,20,50\n"
            "  --sweep-limit K      instances per task for the sweep (default: --limit)\n"
            "  --sweep-tasks T      the tasks that get the sweep, a comma list (default all)\n"
            "  --ctx N              context length in tokens for every task (default: the model's, and 1024 for\n"
            "                       blocksworld, whose long problems leave too little of a 512 context; beyond\n"
            "                       the length it was trained on a RoPE model extrapolates, which may or may not work)\n"
            "sampling (the same options as `smcgen smc`, for every run):\n");
    for (int i = 0; i < N_TABLE_OPTS; i++) {
        const smc_opt_desc *d = smc_opt_find(table_opts[i]);
        run_opts_print_option(f, d, !strcmp(d->name, "max_tokens")
                                        ? "per task: spider 96, molecules 64, blocksworld 160, pydata 64"
                                        : NULL);
    }
    fprintf(f, "models (the same settings as `smcgen smc`, for every model):\n");
    for (int i = 0; i < N_MODEL_OPTS; i++)
        run_opts_print_option(f, smc_opt_find(model_opts[i]), NULL);
    fprintf(f,
            "output:\n"
            "  --out DIR            output folder (default results/run)\n"
            "  --resume             continue DIR: skip the units already in units.jsonl\n"
            "  --trace-dir DIR      write each run's trace to DIR/TASK-MODEL-METHOD-nN-INSTANCE-rR.json\n"
            "                       (see one with: smcgen view FILE)\n"
            "  --report-only        only rebuild results.json, summary.md and plots from DIR/units.jsonl\n"
            "  --shard I/N          run only shard I of N (0 <= I < N): every N-th instance of each task,\n"
            "                       with all its methods, particle counts and replicates (for job arrays)\n"
            "  --merge DIR...       combine the --out folders of all N shards (same options) into --out:\n"
            "                       the same units and report as one unsharded run; runs nothing\n"
            "  -t N                 threads (default: all cores)\n"
            "  -q, --quiet          no progress lines on stderr\n");
}

/* The table option named by flag a, when eval takes it; else NULL. */
static const smc_opt_desc *table_opt(const char *a)
{
    const smc_opt_desc *d = a[0] == '-' ? smc_opt_find(a) : NULL;
    for (int i = 0; d && i < N_TABLE_OPTS + N_MODEL_OPTS; i++)
        if (!strcmp(d->name, i < N_TABLE_OPTS ? table_opts[i] : model_opts[i - N_TABLE_OPTS]))
            return d;
    return NULL;
}

static int parse_list(const char *s, const char *what, bool *flags, int n, const char *const *names)
{
    char *copy = strdup(s), *save = NULL;
    if (!copy)
        return -1;
    memset(flags, 0, (size_t)n * sizeof *flags);
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "all")) {
            for (int i = 0; i < n; i++)
                flags[i] = true;
            continue;
        }
        int found = -1;
        for (int i = 0; i < n; i++)
            if (!strcmp(tok, names[i]))
                found = i;
        if (found < 0) {
            cli_error("unknown %s '%s'", what, tok);
            rc = -1;
            break;
        }
        flags[found] = true;
    }
    free(copy);
    return rc;
}

static char model_paths[2][4096];

static void default_models(eval_opts *o)
{
    const char *shared = smc_shared_dir();
    static const char *const names[2] = {"small", "large"};
    static const char *const files[2] = {"small-q8_0.gguf", "large-q8_0.gguf"};
    for (int i = 0; shared && i < 2; i++) {
        snprintf(model_paths[i], sizeof model_paths[i], "%s/models/%s", shared, files[i]);
        if (access(model_paths[i], R_OK) == 0)
            o->models[o->n_models++] = (eval_model_ref){names[i], model_paths[i]};
    }
    if (!o->n_models)
        o->models[o->n_models++] = (eval_model_ref){"default", smc_default_model_path()};
}

static int parse_models(char *spec, eval_opts *o)
{
    char *save = NULL;
    for (char *tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1]) {
            cli_error("--models wants NAME=PATH items, got '%s'", tok);
            return -1;
        }
        if (o->n_models == EVAL_MAX_MODELS) {
            cli_error("at most %d models", EVAL_MAX_MODELS);
            return -1;
        }
        *eq = 0;
        for (int i = 0; i < o->n_models; i++)
            if (!strcmp(o->models[i].name, tok)) {
                cli_error("--models: the name '%s' is given twice", tok);
                return -1;
            }
        if (strchr(tok, '|')) {
            cli_error("--models: a name may not contain '|'");
            return -1;
        }
        o->models[o->n_models++] = (eval_model_ref){tok, eq + 1};
    }
    return 0;
}

static int parse_sweep(const char *s, eval_opts *o)
{
    char *copy = strdup(s), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        long n;
        if (o->n_sweep == EVAL_MAX_SWEEP) {
            cli_error("--particle-sweep: at most %d values", EVAL_MAX_SWEEP);
            rc = -1;
        } else if (cli_parse_long("--particle-sweep", tok, 1, 10000, &n))
            rc = -1;
        else
            o->sweep[o->n_sweep++] = (int)n;
    }
    free(copy);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o;
    eval_opts_default(&o);
    o.out_dir = "results/run";
    smc_run_opts ro; /* the table options' values, defaults from the table */
    smc_run_opts_init(&ro);
    bool max_tokens_given = false;
    smc_error err = {{0}};
    static const char *const task_names[] = {"spider", "molecules", "blocksworld", "pydata"};
    static const char *const method_names[] = {"plain", "lcd", "is", "smc", "rerank", "is-full", "smc-full"};
    bool report_only = false;
    const char **merge = NULL;
    int n_merge = 0;
    char *models_spec = NULL;
    const char *single_model = NULL;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        const smc_opt_desc *d = table_opt(a);
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "--resume")) o.resume = true;
        else if (!strcmp(a, "--unsafe-no-sandbox")) smc_py_allow_unsafe(true);
        else if (!strcmp(a, "--report-only")) report_only = true;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o.quiet = true;
        else if (d && d->type == SMC_OPT_BOOL) {
            if (run_opts_set_desc(&ro, d, NULL, SMC_OPT_CLI, &err)) {
                cli_error("%s", err.msg);
                goto done;
            }
        } else if (!v) {
            cli_error(a[0] == '-' ? "eval: option %s needs a value" : "eval: unknown argument '%s' (see --help)", a);
            goto done;
        } else if (d) {
            if (run_opts_set_desc(&ro, d, v, SMC_OPT_CLI, &err)) {
                cli_error("%s", err.msg);
                goto done;
            }
            max_tokens_given |= !strcmp(d->name, "max_tokens");
            i++;
        } else if (!strcmp(a, "--task")) {
            if (parse_list(v, "task", o.tasks, EVAL_N_TASKS, task_names)) goto done;
            i++;
        } else if (!strcmp(a, "--sweep-tasks")) {
            if (parse_list(v, "task", o.sweep_tasks, EVAL_N_TASKS, task_names)) goto done;
            i++;
        } else if (!strcmp(a, "--methods")) {
            if (parse_list(v, "method", o.methods, 7, method_names)) goto done;
            i++;
        } else if (!strcmp(a, "--models")) {
            free(models_spec);
            models_spec = strdup(v);
            i++;
        } else if (!strcmp(a, "-m")) {
            single_model = v;
            i++;
        } else if (!strcmp(a, "--particle-sweep")) {
            if (parse_sweep(v, &o)) goto done;
            i++;
        } else if (!strcmp(a, "--out")) {
            o.out_dir = v;
            i++;
        } else if (!strcmp(a, "--trace-dir")) {
            o.trace_dir = v;
            i++;
        } else if (!strcmp(a, "--shard")) {
            char *slash = strchr(v, '/'), *end = NULL;
            long si = slash ? strtol(v, &end, 10) : -1, sn = -1;
            if (slash && end == slash)
                sn = strtol(slash + 1, &end, 10);
            if (!slash || *end || sn < 1 || sn > 100000 || si < 0 || si >= sn) {
                cli_error("--shard wants I/N with 0 <= I < N, got '%s'", v);
                goto done;
            }
            o.shard_i = (int)si;
            o.shard_n = (int)sn;
            i++;
        } else if (!strcmp(a, "--merge")) {
            free(merge);
            merge = malloc((size_t)argc * sizeof *merge);
            n_merge = 0;
            if (!merge) goto done;
            while (i + 1 < argc && argv[i + 1][0] != '-')
                merge[n_merge++] = argv[++i];
        } else {
            long lo = 0, hi = 1000000;
            int *dst = NULL;
            if (!strcmp(a, "--replicates")) dst = &o.replicates, lo = 1;
            else if (!strcmp(a, "--limit")) dst = &o.limit, lo = 1;
            else if (!strcmp(a, "--limit-pydata")) dst = &o.limit_pydata, lo = 1;
            else if (!strcmp(a, "--sweep-limit")) dst = &o.sweep_limit, lo = 1;
            else if (!strcmp(a, "--ctx")) dst = &o.n_ctx, lo = 8;
            else if (!strcmp(a, "-t")) dst = &o.n_threads, hi = 1024;
            else {
                cli_error("eval: unknown argument '%s' (see --help)", a);
                goto done;
            }
            if (cli_parse_long(a, v, lo, hi, &n)) goto done;
            *dst = (int)n;
            i++;
        }
    }
    o.base = ro.cfg;
    o.max_tokens = max_tokens_given ? ro.cfg.max_tokens : 0;
    o.load = smc_setup_load_how(&ro);
    if (models_spec && single_model) {
        cli_error("give either --models or -m, not both");
        goto done;
    }
    if (models_spec) {
        if (parse_models(models_spec, &o)) goto done;
    } else if (single_model)
        o.models[o.n_models++] = (eval_model_ref){"default", single_model};
    else
        default_models(&o);
    if (merge && (report_only || o.shard_n || o.resume)) {
        cli_error("--merge does not go with --report-only, --shard or --resume");
        goto done;
    }
    if (merge || report_only) {
        if (merge ? eval_merge(merge, n_merge, o.out_dir, &err) : eval_report(o.out_dir, NULL, &err)) {
            cli_error("%s", err.msg);
            rc = 1;
        } else {
            printf("%s/summary.md\n", o.out_dir);
            rc = 0;
        }
        goto done;
    }
    bool any_task = false, any_method = false;
    for (int t = 0; t < EVAL_N_TASKS; t++) any_task |= o.tasks[t];
    for (int m = 0; m < 7; m++) any_method |= o.methods[m];
    if (!any_task || !any_method) {
        cli_error("no task or no method selected");
        goto done;
    }
    o.shared_dir = smc_shared_dir();
    if (!o.shared_dir) {
        cli_error("eval needs the shared data folder (../shared or $SMCGEN_SHARED)");
        rc = 1;
        goto done;
    }
    char command[4096];
    size_t len = 0;
    command[0] = 0;
    snprintf(command, sizeof command, "smcgen");
    len = strlen(command);
    for (int i = 0; i < argc && len + 2 < sizeof command; i++) {
        snprintf(command + len, sizeof command - len, " %s", argv[i]);
        len = strlen(command);
    }
    o.command = command;
    if (eval_run(&o, &err)) {
        cli_error("%s", err.msg);
        rc = 1;
        goto done;
    }
    printf("%s/summary.md\n", o.out_dir);
    rc = 0;
done:
    smc_run_opts_free(&ro);
    free(models_spec);
    free(merge);
    return rc;
}
