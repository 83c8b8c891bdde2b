/* cmd_serve.c — `smcgen serve`: the HTTP server's command line (src/server
 * does the work). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"
#include "util/file.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen serve [-m MODEL.gguf] [--host 127.0.0.1] [--port 8080] [options]\n\n"
            "An HTTP server with SMC inside, speaking the OpenAI API (POST /v1/completions,\n"
            "/v1/chat/completions, GET /v1/models) and llama.cpp's (POST /completion, /tokenize,\n"
            "/detokenize), plus GET /health, GET /metrics (Prometheus) and GET /v1/options (the\n"
            "request fields). Constraints per request: grammar (GBNF), lark, regex, json_schema,\n"
            "response_format; SMC settings in an \"smc\" object: {\"method\", \"particles\", ...}.\n\n"
            "options:\n"
            "  -m FILE              model (default: the bundled model)\n"
            "  --host ADDR          address to listen on (default 127.0.0.1; 0.0.0.0 for all)\n"
            "  --port N             port (default 8080; 0: any free port, printed on stderr)\n"
            "  -t N                 threads for the engine (default: all cores)\n"
            "  --parallel N         requests sampled at once, their particles in one batch (default 4)\n"
            "  --queue N            requests waiting for a slot; beyond, 503 + Retry-After (default 16)\n"
            "  --timeout S          seconds per request, queueing included (default 300)\n"
            "  --max-body BYTES     largest request body; larger gets 413 (default 1048576)\n"
            "  --max-work N         largest particles x max_tokens of one request (default 65536)\n"
            "  --max-n N            most choices (n) per request (default 16)\n"
            "  --kv-budget MIB      KV cache memory for all requests together (default 512)\n"
            "  --gather-ms MS       how long a step waits for the other requests' particles before\n"
            "                       decoding without them (default 5)\n"
            "  --api-key KEY        require \"Authorization: Bearer KEY\" (not on /health)\n"
            "  --api-key-file FILE  the same, the key read from FILE (keeps it out of ps)\n"
            "  --allow-critic PAT   let requests use critics matching PAT (repeatable), e.g.\n"
            "                       'sql:/srv/db/*.sqlite', 'pddl:/srv/pddl/*.pddl',\n"
            "                       'exec:python3 /srv/critic.py'; * does not cross '/', '..' is\n"
            "                       refused; without it requests may use only 'smiles'\n"
            "  --name NAME          model name in responses (default: the file's name)\n"
            "model (kept across requests):\n");
    smc_run_opts_print_help(f, SMC_OPT_GROUP_MODEL);
}

int cmd_serve(int argc, char **argv)
{
    server_config c = {.host = "127.0.0.1", .port = 8080, .parallel = 4, .queue = 16, .timeout_s = 300,
                       .max_body = 1 << 20, .max_work = 65536, .max_n = 16, .gather_ms = 5};
    char *key_owned = NULL;
    smc_run_opts model_opts; /* the table's model settings (prompt_cache, load) */
    smc_run_opts_init(&model_opts);
    long n;
    double d;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const smc_opt_desc *opt = a[0] == '-' ? smc_opt_find(a) : NULL;
        if (opt && (opt->where & SMC_OPT_MODEL) && (opt->where & SMC_OPT_CLI)) {
            smc_error err = {{0}};
            bool flag = opt->type == SMC_OPT_BOOL;
            if (!flag && !v) {
                cli_error("serve: option %s needs a value", a);
                goto done;
            }
            if (smc_run_opts_set(&model_opts, a, flag ? NULL : v, &err)) {
                cli_error("%s", err.msg);
                goto done;
            }
            i += !flag;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "-m") && v) c.model_path = argv[++i];
        else if (!strcmp(a, "--host") && v) c.host = argv[++i];
        else if (!strcmp(a, "--name") && v) c.name = argv[++i];
        else if (!strcmp(a, "--api-key") && v) c.api_key = argv[++i];
        else if (!strcmp(a, "--api-key-file") && v) {
            smc_error err = {{0}};
            free(key_owned);
            if (!(key_owned = smc_read_file(argv[++i], NULL, &err))) {
                cli_error("%s", err.msg);
                goto done;
            }
            key_owned[strcspn(key_owned, "\r\n")] = 0;
            c.api_key = key_owned;
        } else if (!strcmp(a, "--allow-critic") && v) {
            if (c.n_allow == SERVER_MAX_ALLOW) {
                cli_error("too many --allow-critic patterns (at most %d)", SERVER_MAX_ALLOW);
                goto done;
            }
            c.allow_critic[c.n_allow++] = argv[++i];
        } else if (!strcmp(a, "--port")) {
            if (cli_parse_long(a, v, 0, 65535, &n)) goto done;
            c.port = (int)n, i++;
        } else if (!strcmp(a, "-t")) {
            if (cli_parse_long(a, v, 0, 1024, &n)) goto done;
            c.n_threads = (int)n, i++;
        } else if (!strcmp(a, "--parallel")) {
            if (cli_parse_long(a, v, 1, 1024, &n)) goto done;
            c.parallel = (int)n, i++;
        } else if (!strcmp(a, "--queue")) {
            if (cli_parse_long(a, v, 0, 100000, &n)) goto done;
            c.queue = (int)n, i++;
        } else if (!strcmp(a, "--max-body")) {
            if (cli_parse_long(a, v, 64, 1L << 30, &n)) goto done;
            c.max_body = (size_t)n, i++;
        } else if (!strcmp(a, "--max-work")) {
            if (cli_parse_long(a, v, 1, 1L << 40, &n)) goto done;
            c.max_work = n, i++;
        } else if (!strcmp(a, "--max-n")) {
            if (cli_parse_long(a, v, 1, 100000, &n)) goto done;
            c.max_n = (int)n, i++;
        } else if (!strcmp(a, "--kv-budget")) {
            if (cli_parse_long(a, v, 1, 1L << 20, &n)) goto done;
            c.kv_budget = (size_t)n << 20, i++;
        } else if (!strcmp(a, "--timeout") || !strcmp(a, "--gather-ms")) {
            if (cli_parse_double(a, v, &d)) goto done;
            if (!(d > 0 && d < 1e7)) {
                cli_error("option %s: '%s' is not a positive number", a, v);
                goto done;
            }
            *(!strcmp(a, "--timeout") ? &c.timeout_s : &c.gather_ms) = d, i++;
        } else {
            cli_error(v || a[0] != '-' ? "serve: unknown argument '%s' (see --help)" : "serve: option %s needs a value", a);
            goto done;
        }
    }
    if (c.api_key && !*c.api_key) {
        cli_error("the API key is empty");
        goto done;
    }
    c.prompt_cache = model_opts.prompt_cache;
    c.load = smc_setup_load_how(&model_opts);
    smc_error err = {{0}};
    rc = server_run(&c, &err) ? 1 : 0;
    if (rc)
        cli_error("%s", err.msg);
done:
    smc_run_opts_free(&model_opts);
    free(key_owned);
    return rc;
}
