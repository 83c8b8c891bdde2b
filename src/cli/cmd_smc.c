/* cmd_smc.c — `smcgen smc`: constrained generation by sequential Monte Carlo
 * (or one of the paper's baselines), printing the posterior, log Ẑ and the
 * time split, or the whole result as JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/smc_setup.h"
#include "util/file.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen smc [-m MODEL.gguf] -p PROMPT [constraint] [options]\n\n"
            "Samples completions of PROMPT that satisfy a constraint, by sequential Monte Carlo.\n\n"
            "constraint (the cheap potential; at most one):\n"
            "  --grammar FILE        GBNF (.gbnf) or Lark (.lark) grammar\n"
            "  --regex REGEX         regular expression the whole completion must match\n"
            "  --json-schema FILE    JSON Schema the completion must satisfy\n"
            "  (none)                the critic's own grammar, if it has one\n"
            "critic (the expensive potential), --critic NAME[:ARG]:\n"
            "%s"
            "                       a step's requests come together, pipelined; a COMMAND whose\n"
            "                       first line is {\"batch\": true} gets them as one line\n"
            "                       {\"op\":\"batch\",\"requests\":[...]} -> {\"logws\":[x, ...]}\n"
            "options:\n"
            "  -m FILE               model (default: the bundled model)\n"
            "  -p TEXT | -f FILE     the prompt (C escapes like \\n are decoded in -p)\n"
            "  --method M            plain | lcd | is | smc | rerank | is-full | smc-full\n"
            "                        (default: smc-full with a critic, else smc)\n"
            "  --particles N         number of particles (default 10)\n"
            "  --ess T               resample when ESS < T*N (default 0.9)\n"
            "  --resample S          multinomial | stratified | systematic | residual (default stratified)\n"
            "  --max-tokens M        tokens per particle before EOS is forced (default 64)\n"
            "  --temp T              temperature of the LM (default 1)\n"
            "  --proposal P          masked (default) | awrs (adaptive weighted rejection sampling)\n"
            "  --stop STR            end a particle at any token containing STR (repeatable;\n"
            "                        the critics add their own, e.g. a newline for smiles)\n"
            "  --no-default-stop     do not add the critic's stop string\n"
            "  --seed S              random seed (default 1)\n"
            "  --top K               posterior strings to print (default 10)\n"
            "  --no-bos              do not add BOS to the prompt\n"
            "  -t N                  threads (default: all cores)\n"
            "  --json                print the result as JSON (with every particle)\n"
            "  -q, --quiet           no progress on stderr\n",
            critic_spec_help);
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

int cmd_smc(int argc, char **argv)
{
    smc_setup_opts o = {.default_stops = true};
    smc_config cfg;
    smc_config_default(&cfg);
    cfg.seed = 1;
    const char *method = NULL, *prompt_file = NULL;
    char *prompt_owned = NULL;
    bool json = false, quiet = false;
    long top = 10;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        double d;
#define TAKE() (i++, v)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") && v) o.model_path = TAKE();
        else if (!strcmp(a, "-p") && v) o.prompt = TAKE();
        else if (!strcmp(a, "-f") && v) prompt_file = TAKE();
        else if (!strcmp(a, "--grammar") && v) o.grammar_path = TAKE();
        else if (!strcmp(a, "--regex") && v) o.regex = TAKE();
        else if (!strcmp(a, "--json-schema") && v) o.json_schema_path = TAKE();
        else if (!strcmp(a, "--critic") && v) o.critic = TAKE();
        else if (!strcmp(a, "--method") && v) method = TAKE();
        else if (!strcmp(a, "--stop") && v) {
            if (o.n_stops == (int)(sizeof o.stops / sizeof o.stops[0])) {
                cli_error("too many --stop strings");
                return 2;
            }
            o.stops[o.n_stops++] = TAKE();
        } else if (!strcmp(a, "--no-default-stop")) o.default_stops = false;
        else if (!strcmp(a, "--no-bos")) o.no_bos = true;
        else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = true;
        else if (!strcmp(a, "--particles")) {
            if (cli_parse_long(a, TAKE(), 1, 100000, &n)) return 2;
            cfg.n_particles = (int)n;
        } else if (!strcmp(a, "--max-tokens")) {
            if (cli_parse_long(a, TAKE(), 1, 1000000, &n)) return 2;
            cfg.max_tokens = (int)n;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_long(a, TAKE(), 0, __LONG_MAX__, &n)) return 2;
            cfg.seed = (uint64_t)n;
        } else if (!strcmp(a, "--top")) {
            if (cli_parse_long(a, TAKE(), 0, 1000000, &top)) return 2;
        } else if (!strcmp(a, "-t")) {
            if (cli_parse_long(a, TAKE(), 0, 1024, &n)) return 2;
            o.n_threads = (int)n;
        } else if (!strcmp(a, "--ess")) {
            if (cli_parse_double(a, TAKE(), &d)) return 2;
            if (!(d >= 0 && d <= 1)) {
                cli_error("--ess must be in [0, 1], got %s", v);
                return 2;
            }
            cfg.ess_threshold = d;
        } else if (!strcmp(a, "--temp")) {
            if (cli_parse_double(a, TAKE(), &d)) return 2;
            if (!(d > 0 && isfinite(d))) {
                cli_error("--temp must be a positive number, got %s", v);
                return 2;
            }
            cfg.temperature = d;
        } else if (!strcmp(a, "--resample") && v) {
            if (smc_resample_parse(TAKE(), &cfg.resample)) {
                cli_error("unknown --resample '%s' (multinomial, stratified, systematic, residual)", v);
                return 2;
            }
        } else if (!strcmp(a, "--proposal") && v) {
            i++;
            if (!strcmp(v, "masked")) cfg.proposal = SMC_PROPOSAL_MASKED;
            else if (!strcmp(v, "awrs")) cfg.proposal = SMC_PROPOSAL_AWRS;
            else {
                cli_error("unknown --proposal '%s' (masked, awrs)", v);
                return 2;
            }
        } else {
            cli_error(v || a[0] != '-' ? "smc: unknown argument '%s' (see --help)"
                                       : "smc: option %s needs a value", a);
            return 2;
        }
#undef TAKE
    }
    if (method) {
        if (smc_method_parse(method, &cfg.method)) {
            cli_error("unknown --method '%s' (plain, lcd, is, smc, rerank, is-full, smc-full)", method);
            return 2;
        }
    } else
        cfg.method = o.critic ? SMC_METHOD_SMC_FULL : SMC_METHOD_SMC;
    bool needs_critic = cfg.method == SMC_METHOD_RERANK || cfg.method == SMC_METHOD_IS_FULL ||
                        cfg.method == SMC_METHOD_SMC_FULL;
    if (needs_critic && !o.critic) {
        cli_error("--method %s needs a --critic", smc_method_name(cfg.method));
        return 2;
    }
    if (!!o.prompt + !!prompt_file != 1) {
        cli_error("give the prompt with exactly one of -p TEXT or -f FILE");
        return 2;
    }
    if (prompt_file) {
        smc_error ferr = {{0}};
        prompt_owned = smc_read_file(prompt_file, NULL, &ferr);
        if (!prompt_owned) {
            cli_error("%s", ferr.msg);
            return 1;
        }
        o.prompt = prompt_owned;
    } else {
        prompt_owned = strdup(o.prompt);
        if (!prompt_owned)
            return 1;
        text_unescape(prompt_owned);
        o.prompt = prompt_owned;
    }
    char *stops_owned[16];
    for (int i = 0; i < o.n_stops; i++) {
        stops_owned[i] = strdup(o.stops[i]);
        text_unescape(stops_owned[i]);
        o.stops[i] = stops_owned[i];
    }
    smc_error err = {{0}};
    smc_setup s;
    smc_result *res = NULL;
    if (smc_setup_build(&o, &s, &err)) {
        cli_error("%s", err.msg);
        rc = 1;
        goto done;
    }
    if (!s.cheap && cfg.method != SMC_METHOD_PLAIN) {
        cli_error("--method %s needs a constraint: --grammar, --regex, --json-schema, or a critic with a grammar",
                  smc_method_name(cfg.method));
        rc = 2;
        goto done;
    }
    if (!quiet && isatty(2)) {
        cfg.progress = progress;
        cfg.progress_ud = NULL;
    }
    if (smc_run(s.lm, s.prompt, s.n_prompt, s.cheap, s.critic.critic, &cfg, &res, &err)) {
        if (cfg.progress)
            fputc('\n', stderr);
        cli_error("%s", err.msg);
        rc = 1;
        goto done;
    }
    if (cfg.progress)
        fputc('\n', stderr);
    if (json) {
        char *text = NULL;
        if (smc_result_to_json(res, true, &text, &err)) {
            cli_error("%s", err.msg);
            rc = 1;
            goto done;
        }
        printf("%s\n", text);
        free(text);
    } else
        print_text(res, (int)top, res->t_total);
    rc = 0;
done:
    smc_result_free(res);
    smc_setup_free(&s);
    for (int i = 0; i < o.n_stops; i++)
        free(stops_owned[i]);
    free(prompt_owned);
    return rc;
}
