/* cmd_smc.c — `smcgen smc`: constrained generation by sequential Monte Carlo
 * (or one of the paper's baselines), printing the posterior, log Ẑ and the
 * time split, or the whole result as JSON. The run options come from the
 * library's option table (smc_opt_*); this file adds only what belongs to
 * the command line: the model, threads, -f, --top, --json, --trace, --quiet. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/critic_spec.h"
#include "util/file.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: smcgen smc [-m MODEL.gguf] (-p PROMPT | --chat TEXT) [constraint] [options]\n\n"
               "Samples completions of PROMPT that satisfy a constraint, by sequential Monte Carlo.\n\n"
               "prompt:\n");
    smc_run_opts_print_help(f, SMC_OPT_GROUP_PROMPT);
    fprintf(f, "  -f FILE              read the prompt from FILE (instead of -p)\n"
               "constraint (the cheap potential; at most one; none: the critic's own grammar, if any):\n");
    smc_run_opts_print_help(f, SMC_OPT_GROUP_CONSTRAINT);
    fprintf(f, "critic (the expensive potential):\n");
    smc_run_opts_print_help(f, SMC_OPT_GROUP_CRITIC);
    fprintf(f, "%s"
               "                       a step's requests come together, pipelined; a COMMAND whose\n"
               "                       first line is {\"batch\": true} gets them as one line\n"
               "                       {\"op\":\"batch\",\"requests\":[...]} -> {\"logws\":[x, ...]}\n"
               "sampling:\n",
            critic_spec_help);
    smc_run_opts_print_help(f, SMC_OPT_GROUP_SAMPLING);
    fprintf(f, "chat (instead of -p: the model's chat template writes the prompt):\n");
    smc_run_opts_print_help(f, SMC_OPT_GROUP_CHAT);
    fprintf(f, "model (kept across runs):\n");
    smc_run_opts_print_help(f, SMC_OPT_GROUP_MODEL);
    fprintf(f, "output and resources:\n"
               "  -m FILE              model (default: the bundled model)\n"
               "  -t N                 threads (default: all cores)\n"
               "  --top K              posterior strings to print (default 10)\n"
               "  --json               print the result as JSON (with every particle)\n"
               "  --trace FILE         write every step of the run to FILE (JSON, docs/trace.md);\n"
               "                       see it with: smcgen view FILE\n"
               "  -q, --quiet          no progress on stderr\n");
}

static void progress(void *ud, int step, int n_active, double ess)
{
    (void)ud;
    fprintf(stderr, "\rstep %4d  active %3d  ESS %6.2f ", step, n_active, ess);
    fflush(stderr);
}

static void print_text(const smc_result *r, int top, double secs)
{
    printf("method %s: %d particles, %d steps, %d resamples, log Z = %.4f, final ESS %.2f\n",
           smc_method_name(r->method), r->n_particles, r->n_steps, r->n_resamples, r->log_z, r->ess);
    if (r->all_dead)
        printf("every particle has weight zero: no string satisfies the constraints within the limits\n");
    else {
        printf("posterior (%d distinct):\n", r->n_posterior);
        for (int i = 0; i < r->n_posterior && i < top; i++) {
            printf("  %6.4f  ", r->posterior[i].prob);
            cli_json_string(stdout, r->posterior[i].text, r->posterior[i].len);
            printf("\n");
        }
    }
    printf("time %.3f s: model %.3f, mask %.3f, critic %.3f, resampling %.4f\n", secs, r->t_lm,
           r->t_mask, r->t_critic, r->t_resample);
}

/* Parses argv into o and the front end's own settings; 0, or the exit status. */
static int parse_args(int argc, char **argv, smc_run_opts *o, const char **model, const char **prompt_file,
                      long *threads, long *top, bool *json, bool *quiet, const char **trace)
{
    smc_error err = {{0}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const smc_opt_desc *d = smc_opt_find(a);
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "--json")) *json = true;
        else if (!strcmp(a, "--unsafe-no-sandbox")) smc_py_allow_unsafe(true); /* process-wide, CLI only */
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) *quiet = true;
        else if (!strcmp(a, "-m") && v) *model = argv[++i];
        else if (!strcmp(a, "-f") && v) *prompt_file = argv[++i];
        else if (!strcmp(a, "--trace") && v) *trace = argv[++i];
        else if (!strcmp(a, "-t")) {
            if (cli_parse_long(a, v, 0, 1024, threads)) return 2;
            i++;
        } else if (!strcmp(a, "--top")) {
            if (cli_parse_long(a, v, 0, 1000000, top)) return 2;
            i++;
        } else if (d && a[0] == '-' && (d->where & SMC_OPT_CLI)) {
            bool flag = d->type == SMC_OPT_BOOL;
            if (!flag && !v) {
                cli_error("smc: option %s needs a value", a);
                return 2;
            }
            if (smc_run_opts_set(o, a, flag ? NULL : v, &err)) {
                cli_error("%s", err.msg);
                return 2;
            }
            i += !flag;
        } else {
            cli_error(v || a[0] != '-' ? "smc: unknown argument '%s' (see --help)" : "smc: option %s needs a value", a);
            return 2;
        }
    }
    return 0;
}

int cmd_smc(int argc, char **argv)
{
    smc_run_opts o;
    smc_run_opts_init(&o);
    const char *model = NULL, *prompt_file = NULL, *trace = NULL;
    bool json = false, quiet = false;
    long top = 10, threads = 0;
    smc_error err = {{0}};
    smc_runner *runner = NULL;
    smc_result *res = NULL;
    int rc = parse_args(argc, argv, &o, &model, &prompt_file, &threads, &top, &json, &quiet, &trace);
    if (rc) {
        rc = rc < 0 ? 0 : rc;
        goto done;
    }
    rc = 2;
    if (smc_run_opts_check(&o, SMC_OPT_CLI, &err)) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (!!o.prompt + !!prompt_file + !!(o.chat || o.messages_file) != 1) {
        cli_error("give the prompt with exactly one of -p TEXT, -f FILE, --chat TEXT or --messages FILE");
        goto done;
    }
    rc = 1;
    if (prompt_file) {
        char *text = smc_read_file(prompt_file, NULL, &err);
        if (!text || smc_run_opts_set(&o, "prompt", text, &err)) {
            free(text);
            cli_error("%s", err.msg);
            goto done;
        }
        free(text);
    }
    if (smc_runner_new_ex(model, (int)threads, &o, &runner, &err)) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (!quiet && isatty(2))
        o.cfg.progress = progress;
    if (trace && cli_trace_start(&o.cfg, o.prompt, model, argc, argv) < 0)
        goto done;
    int run = smc_runner_run(runner, &o, &res, &err);
    if (o.cfg.progress)
        fputc('\n', stderr);
    /* A failed run's trace (result null) shows where it failed. */
    if (trace && cli_trace_finish(&o.cfg, res, err.msg, trace) < 0 && !run)
        goto done;
    if (run) {
        cli_error("%s", err.msg);
        rc = run == SMC_RUN_EOPTS ? 2 : 1;
        goto done;
    }
    if (json) {
        char *text = NULL;
        if (smc_result_to_json(res, true, &text, &err)) {
            cli_error("%s", err.msg);
            goto done;
        }
        printf("%s\n", text);
        free(text);
    } else
        print_text(res, (int)top, res->t_total);
    rc = 0;
done:
    smc_result_free(res);
    smc_runner_free(runner);
    smc_run_opts_free(&o);
    return rc;
}
