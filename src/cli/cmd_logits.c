/* cmd_logits.c — `smcgen logits`: the model's raw logits for a prompt (text
 * or token ids), at the last position or at every position, as text or
 * JSON, so the engine can be compared with other implementations. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "util/paths.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen logits [-m MODEL.gguf] (-p TEXT | --ids 1,2,3) [--all-positions] [--json]\n"
            "                     [--exact] [-t N]\n\n"
            "Runs the prompt through the model and prints the raw logits (n_vocab floats) after the\n"
            "last token, or after every token.\n\n"
            "options:\n"
            "  -m MODEL.gguf     model (default: the bundled model or $SMCGEN_MODEL)\n"
            "  -p TEXT           prompt text, tokenized with the model's tokenizer (BOS added when the\n"
            "                    vocabulary asks for it)\n"
            "  --ids LIST        prompt as comma-separated token ids (used as given, no BOS added)\n"
            "  --all-positions   logits after every prompt token, not only the last\n"
            "  --json            JSON: {\"model\", \"n_vocab\", \"ids\", \"positions\": [{\"pos\", \"argmax\", \"logits\"}]}\n"
            "                    (text output: one line per position: POS ARGMAX then the logits)\n"
            "  --exact           dequantise weights to f32 before dot products (no 8-bit activations)\n"
            "  -t N              threads (default: all cores)\n"
            "  -h, --help        this help\n");
}

/* Parses "1,2,3" into a malloc'd array. */
static int parse_ids(const char *s, int32_t **out, size_t *n)
{
    size_t cap = 16, k = 0;
    int32_t *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    const char *p = s;
    while (*p) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x > INT32_MAX || (*end && *end != ',')) {
            free(v);
            cli_error("--ids: '%s' is not a comma-separated list of token ids", s);
            return -1;
        }
        if (k == cap) {
            int32_t *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
        }
        v[k++] = (int32_t)x;
        p = *end ? end + 1 : end;
    }
    if (!k) {
        free(v);
        cli_error("--ids: no token ids given");
        return -1;
    }
    *out = v;
    *n = k;
    return 0;
}

int cmd_logits(int argc, char **argv)
{
    const char *model_path = smc_default_model_path(), *prompt = NULL, *ids_arg = NULL;
    bool all = false, json = false, exact = false;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") && i + 1 < argc) {
            model_path = argv[++i];
        } else if (!strcmp(a, "-p") && i + 1 < argc) {
            prompt = argv[++i];
        } else if (!strcmp(a, "--ids") && i + 1 < argc) {
            ids_arg = argv[++i];
        } else if (!strcmp(a, "--all-positions")) {
            all = true;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--exact")) {
            exact = true;
        } else if (!strcmp(a, "-t")) {
            if (cli_parse_long("-t", i + 1 < argc ? argv[++i] : NULL, 0, 1024, &threads) < 0)
                return 2;
        } else {
            cli_error("logits: unknown or incomplete option '%s' (see 'smcgen logits --help')", a);
            return 2;
        }
    }
    if (!prompt == !ids_arg) {
        cli_error("logits: give exactly one of -p TEXT or --ids LIST");
        return 2;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    if (ids_arg && parse_ids(ids_arg, &ids, &n) < 0)
        return 2;

    smc_error err = {{0}};
    smc_model *m = NULL;
    smc_ctx *c = NULL;
    int rc = 1;
    if (smc_model_load(model_path, &m, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (prompt && cli_tokenize_prompt(m, "logits", prompt, &ids, &n) < 0)
        goto done;
    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = (int32_t)threads;
    p.exact = exact;
    if (smc_ctx_new(m, &p, &c, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    int32_t seq;
    if (cli_decode_prompt(c, "logits", ids, n, all, &seq) < 0)
        goto done;
    int32_t nv = smc_model_n_vocab(m);
    if (json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model_path, strlen(model_path));
        printf(", \"n_vocab\": %d, \"ids\": [", nv);
        for (size_t i = 0; i < n; i++)
            printf("%s%d", i ? ", " : "", ids[i]);
        printf("], \"positions\": [");
    }
    for (int32_t k = 0; k < smc_n_logits(c); k++) {
        size_t pos = all ? (size_t)k : n - 1;
        const float *lg = smc_logits(c, k);
        if (json) {
            printf("%s\n  {\"pos\": %zu, \"argmax\": %d, \"logits\": [", k ? "," : "", pos, smc_argmax(lg, nv));
            for (int32_t j = 0; j < nv; j++)
                printf("%s%.9g", j ? ", " : "", lg[j]);
            printf("]}");
        } else {
            printf("%zu %d", pos, smc_argmax(lg, nv));
            for (int32_t j = 0; j < nv; j++)
                printf(" %.9g", lg[j]);
            putchar('\n');
        }
    }
    if (json)
        printf("\n]}\n");
    rc = 0;
done:
    free(ids);
    smc_ctx_free(c);
    smc_model_free(m);
    return rc;
}
