/* cmd_demo.c — `smcgen demo`: the point of smcgen on one screen. The same
 * molecule prompt runs with plain sampling, locally constrained decoding
 * (grammar mask, no weights) and SMC with the SMILES grammar and chemistry
 * critic; for each, the samples, their validity and the time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "pipeline/smc_setup.h"

static const char demo_prompt[] =
    "Molecule: CC(C)C(=O)O\n"
    "Molecule: c1ccccc1O\n"
    "Molecule: CC(=O)Nc1ccc(O)cc1\n"
    "Molecule: OC1CCCCC1\n"
    "Molecule: CCN(CC)CC\n"
    "Molecule:";

static bool molecule_valid(const char *text, size_t len)
{
    while (len && (*text == ' ' || *text == '\t'))
        text++, len--;
    return len && smc_smiles_check(text, len, true, NULL, 0) == SMC_VERDICT_COMPLETE;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen demo [-m MODEL.gguf] [--particles N] [--seed S] [--runs R] [-t N] [--json]\n\n"
            "Runs one molecule prompt three ways on the model (default: the bundled one):\n"
            "  plain     sample from the LM as is\n"
            "  lcd       locally constrained decoding: mask tokens the SMILES grammar forbids\n"
            "  smc-full  SMC with the SMILES grammar and the SMILES chemistry critic\n"
            "and prints the samples, the share that are valid molecules, and the time.\n");
}

typedef struct demo_tally {
    int valid, total;
    double weighted_valid, secs;
} demo_tally;

static void print_run(const smc_result *r, bool json, bool first_method, demo_tally *t)
{
    double wv = 0;
    int v = 0;
    for (int i = 0; i < r->n_particles; i++)
        v += molecule_valid(r->particles[i].text, r->particles[i].len);
    for (int i = 0; i < r->n_posterior; i++)
        if (molecule_valid(r->posterior[i].text, r->posterior[i].len))
            wv += r->posterior[i].prob;
    t->valid += v;
    t->total += r->n_particles;
    t->weighted_valid += wv;
    t->secs += r->t_total;
    if (json) {
        printf("%s{\"method\":\"%s\",\"valid\":%d,\"particles\":%d,\"weighted_valid\":%.6f,"
               "\"seconds\":%.4f,\"samples\":[",
               first_method ? "" : ",", smc_method_name(r->method), v, r->n_particles, wv,
               r->t_total);
        for (int i = 0; i < r->n_posterior; i++) {
            printf("%s{\"text\":", i ? "," : "");
            cli_json_string(stdout, r->posterior[i].text, r->posterior[i].len);
            printf(",\"prob\":%.6f,\"valid\":%s}", r->posterior[i].prob,
                   molecule_valid(r->posterior[i].text, r->posterior[i].len) ? "true" : "false");
        }
        printf("]}");
        return;
    }
    for (int i = 0; i < r->n_posterior && i < 6; i++) {
        const smc_posterior_entry *e = &r->posterior[i];
        printf("    %-5s %5.3f  ", molecule_valid(e->text, e->len) ? "ok" : "BAD", e->prob);
        cli_json_string(stdout, e->text, e->len);
        printf("\n");
    }
    if (r->n_posterior > 6)
        printf("    ... %d more distinct\n", r->n_posterior - 6);
}

int cmd_demo(int argc, char **argv)
{
    smc_setup_opts o = {.default_stops = true, .critic = "smiles", .prompt = demo_prompt};
    long particles = 10, runs = 3, seed = 1;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") && v) o.model_path = argv[++i];
        else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--particles")) {
            if (cli_parse_long(a, v, 1, 10000, &particles)) return 2;
            i++;
        } else if (!strcmp(a, "--runs")) {
            if (cli_parse_long(a, v, 1, 10000, &runs)) return 2;
            i++;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_long(a, v, 0, __LONG_MAX__, &seed)) return 2;
            i++;
        } else if (!strcmp(a, "-t")) {
            if (cli_parse_long(a, v, 0, 1024, &n)) return 2;
            o.n_threads = (int)n;
            i++;
        } else {
            cli_error("demo: unknown argument '%s' (see --help)", a);
            return 2;
        }
    }
    smc_error err = {{0}};
    smc_setup s;
    if (smc_setup_build(&o, &s, &err)) {
        cli_error("%s", err.msg);
        smc_setup_free(&s);
        return 1;
    }
    static const smc_method methods[] = {SMC_METHOD_PLAIN, SMC_METHOD_LCD, SMC_METHOD_SMC_FULL};
    static const char *const what[] = {
        "plain sampling from the LM",
        "locally constrained decoding (grammar mask, weights ignored)",
        "SMC: grammar + chemistry critic, weights and resampling",
    };
    if (json)
        printf("{\"prompt\":");
    else
        printf("Prompt (few-shot molecules, %zu tokens); %ld particles, %ld run(s) per method.\n"
               "A sample is valid when it is a whole, chemically valid SMILES molecule.\n",
               s.n_prompt, particles, runs);
    if (json) {
        cli_json_string(stdout, demo_prompt, strlen(demo_prompt));
        printf(",\"methods\":[");
    }
    int rc = 0;
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        demo_tally t = {0};
        if (!json)
            printf("\n== %s: %s\n", smc_method_name(methods[m]), what[m]);
        for (long r = 0; r < runs; r++) {
            smc_config cfg;
            smc_config_default(&cfg);
            cfg.method = methods[m];
            cfg.n_particles = (int)particles;
            cfg.max_tokens = 48;
            cfg.seed = (uint64_t)(seed + r);
            smc_result *res = NULL;
            if (smc_run(s.lm, s.prompt, s.n_prompt, s.cheap, s.critic.critic, &cfg, &res, &err)) {
                cli_error("%s: %s", smc_method_name(methods[m]), err.msg);
                rc = 1;
                break;
            }
            print_run(res, json, m == 0 && r == 0, &t);
            smc_result_free(res);
        }
        if (rc)
            break;
        if (!json)
            printf("  valid particles %d/%d (%.0f%%), posterior-weighted validity %.0f%%, %.2f s per run\n",
                   t.valid, t.total, 100.0 * t.valid / t.total, 100.0 * t.weighted_valid / runs,
                   t.secs / runs);
    }
    if (json && !rc)
        printf("]}\n");
    smc_setup_free(&s);
    return rc;
}
