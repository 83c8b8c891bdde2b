/* cmd_generate.c — `smcgen generate`: plain (unconstrained) sampling with
 * temperature / top-k / top-p, streaming tokens to stdout and timings to
 * stderr. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/paths.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen generate [-m MODEL.gguf] (-p PROMPT | --chat TEXT) [-n N] [--temp T] [--top-k K]\n"
            "                       [--top-p P] [--seed S] [-t N]\n\n"
            "Samples a continuation of PROMPT, printing tokens as they come (the prompt itself is not\n"
            "printed). Stops after N tokens or at the end-of-sequence token. Timings go to stderr.\n\n"
            "options:\n"
            "  -m MODEL.gguf  model (default: the bundled model or $SMCGEN_MODEL)\n"
            "  -p PROMPT      prompt text (BOS added when the vocabulary asks for it)\n"
            "  -n N           tokens to generate (default 64)\n"
            "  --temp T       temperature; 0 means greedy (default 0.8)\n"
            "  --top-k K      keep the K most likely tokens; 0 keeps all (default 40)\n"
            "  --top-p P      keep the smallest set of tokens with probability >= P; 1 keeps all (default 0.95)\n"
            "  --seed S       random seed (default 1)\n"
            "  -t N           threads (default: all cores)\n"
            "  -h, --help     this help\n"
            "chat (instead of -p):\n");
    smc_run_opts_print_help(f, SMC_OPT_GROUP_CHAT);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cmd_generate(int argc, char **argv)
{
    const char *model_path = smc_default_model_path(), *prompt = NULL;
    long n_gen = 64, top_k = 40, threads = 0, seed = 1;
    double temp = 0.8, top_p = 0.95;
    /* The chat options are the run options' (one description for smc,
     * generate, the server and Python). */
    smc_run_opts chat;
    smc_run_opts_init(&chat);
    smc_error err = {{0}};
    smc_model *m = NULL;
    smc_ctx *c = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    char *chat_prompt = NULL;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const smc_opt_desc *d = smc_opt_find(a);
        if (d && d->group == SMC_OPT_GROUP_CHAT && a[0] == '-') {
            if (smc_run_opts_set(&chat, a, v, &err)) {
                cli_error("generate: %s", err.msg);
                goto done;
            }
            i++;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "-m") && v) {
            model_path = argv[++i];
        } else if (!strcmp(a, "-p") && v) {
            prompt = argv[++i];
        } else if (!strcmp(a, "-n")) {
            if (cli_parse_long(a, v, 0, 1000000, &n_gen) < 0)
                goto done;
            i++;
        } else if (!strcmp(a, "--top-k")) {
            if (cli_parse_long(a, v, 0, 100000000, &top_k) < 0)
                goto done;
            i++;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_long(a, v, 0, 0x7fffffffL, &seed) < 0)
                goto done;
            i++;
        } else if (!strcmp(a, "-t")) {
            if (cli_parse_long(a, v, 0, 1024, &threads) < 0)
                goto done;
            i++;
        } else if (!strcmp(a, "--temp")) {
            if (cli_parse_double(a, v, &temp) < 0)
                goto done;
            i++;
        } else if (!strcmp(a, "--top-p")) {
            if (cli_parse_double(a, v, &top_p) < 0)
                goto done;
            if (!(top_p > 0 && top_p <= 1)) {
                cli_error("option --top-p: must be in (0, 1]");
                goto done;
            }
            i++;
        } else {
            cli_error("generate: unknown or incomplete option '%s' (see 'smcgen generate --help')", a);
            goto done;
        }
    }
    /* The prompt goes in by name, so no escapes are decoded (as before). */
    if (prompt && smc_run_opts_set(&chat, "prompt", prompt, &err)) {
        cli_error("generate: %s", err.msg);
        goto done;
    }
    if (!prompt && !chat.chat && !chat.messages_file) {
        cli_error("generate: -p PROMPT (or --chat TEXT) is required");
        goto done;
    }
    if (smc_run_opts_check(&chat, SMC_OPT_CLI, &err)) {
        cli_error("generate: %s", err.msg);
        goto done;
    }
    if (temp < 0) {
        cli_error("option --temp: must be >= 0");
        goto done;
    }

    rc = 1;
    if (smc_model_load(model_path, &m, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (smc_run_opts_chat_prompt(&chat, m, &chat_prompt, &err)) {
        cli_error("generate: %s", err.msg);
        rc = 2;
        goto done;
    }
    if (cli_tokenize_text(m, "generate", chat_prompt ? chat_prompt : prompt, chat_prompt != NULL, &ids, &n) < 0)
        goto done;
    const smc_vocab *v = smc_model_vocab(m, NULL);   /* loaded by the tokenizing */
    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = (int32_t)threads;
    if (smc_ctx_new(m, &p, &c, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    int32_t seq;
    double t0 = now_s();
    if (cli_decode_prompt(c, "generate", ids, n, false, &seq) < 0)
        goto done;
    double t1 = now_s();
    smc_rng rng;
    smc_rng_seed(&rng, (uint64_t)seed);
    int32_t nv = smc_model_n_vocab(m);
    long produced = 0;
    const char *stop = "length";
    for (long k = 0; k < n_gen; k++) {
        int32_t tok = smc_sample(smc_logits(c, 0), nv, (float)temp, (int32_t)top_k, (float)top_p, &rng);
        if (smc_vocab_is_eog(v, tok)) {
            stop = "end of sequence";
            break;
        }
        smc_str bytes = smc_vocab_token_bytes(v, tok);
        fwrite(bytes.ptr, 1, bytes.len, stdout);
        fflush(stdout);
        produced++;
        if (k + 1 == n_gen)
            break;
        if (smc_seq_len(c, seq) >= smc_ctx_n_ctx(c)) {
            stop = "context full";
            break;
        }
        smc_batch_entry one = {seq, tok, true};
        smc_batch b1 = {&one, 1};
        if (smc_decode(c, &b1, &err) < 0) {
            putchar('\n');
            cli_error("%s", err.msg);
            goto done;
        }
    }
    double t2 = now_s();
    putchar('\n');
    fprintf(stderr, "prompt: %zu tokens in %.3f s (%.1f tokens/s); generated: %ld tokens in %.3f s "
            "(%.1f tokens/s); stopped: %s\n", n, t1 - t0, (double)n / (t1 - t0), produced, t2 - t1,
            produced / (t2 - t1 > 0 ? t2 - t1 : 1e-9), stop);
    rc = 0;
done:
    free(chat_prompt);
    smc_run_opts_free(&chat);
    free(ids);
    smc_ctx_free(c);
    smc_model_free(m);
    return rc;
}
