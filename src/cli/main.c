/* main.c — the smcgen command: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"info", cmd_info, "show a GGUF file's metadata, tokenizer and tensors"},
    {"tokenize", cmd_tokenize, "turn text into token ids"},
    {"detokenize", cmd_detokenize, "turn token ids into text"},
    {"logits", cmd_logits, "print the model's raw logits for a prompt"},
    {"generate", cmd_generate, "sample text from the model (no constraint)"},
    {"bench", cmd_bench, "measure prompt and decode speed"},
    {"grammar", cmd_grammar, "check a grammar, or test a string against it"},
    {"smc", cmd_smc, "constrained generation by sequential Monte Carlo"},
    {"demo", cmd_demo, "plain vs. masked vs. SMC on a molecule prompt, side by side"},
    {"eval", cmd_eval, "the paper's comparison: methods x tasks x models, with CIs"},
    {"serve", cmd_serve, "an HTTP server (OpenAI and llama.cpp APIs) with SMC per request"},
    {"view", cmd_view, "a run's trace (smc --trace) as an interactive HTML page"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen COMMAND [OPTIONS]\n\n"
            "smcgen makes language models obey constraints by sequential Monte Carlo.\n"
            "Commands that take -m MODEL.gguf default to the bundled model.\n\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'smcgen COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("smcgen %s (%s build, %s %s)\n%s\n", smc_version(), SMC_BUILD_TYPE,
#if defined(__clang__)
               "clang",
#else
               "gcc",
#endif
               __VERSION__, smc_cpu_features());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (see 'smcgen --help')", argv[1]);
    return 2;
}
