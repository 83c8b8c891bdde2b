/* test_run_options.c — the run-option table: defaults agree with
 * smc_config_default and the CLI's documented values, CLI text and JSON set
 * the same fields, errors name the option and its range or choices, the
 * check settles the default method, and to_json round-trips. */
#include <cjson/cJSON.h>

#include "pipeline/run_options.h"
#include "test.h"

static bool contains(const char *s, const char *sub) { return s && strstr(s, sub) != NULL; }

static void test_table(void)
{
    int n = smc_opt_count();
    CHECK(n == RUN_OPT_COUNT);
    CHECK(smc_opt_at(-1) == NULL && smc_opt_at(n) == NULL);
    for (int i = 0; i < n; i++) {
        const smc_opt_desc *d = smc_opt_at(i);
        CHECK_MSG(d && d->name && d->help && *d->help, "option %d lacks a name or help", i);
        CHECK(smc_opt_find(d->name) == d);
        if (d->flag)
            CHECK(smc_opt_find(d->flag) == d);
        CHECK((int)run_opt_id_of(d) == i);
        /* Every default is itself accepted. */
        if (d->def) {
            smc_run_opts o;
            smc_run_opts_init(&o);
            smc_error err = {{0}};
            CHECK_MSG(smc_run_opts_set(&o, d->name, d->def, &err) == 0, "%s: %s", d->name, err.msg);
            smc_run_opts_free(&o);
        }
    }
    CHECK(smc_opt_find("n_predict") == smc_opt_find("--max-tokens"));
    CHECK(smc_opt_find("--nosuch") == NULL);
}

static void test_defaults(void)
{
    smc_run_opts o;
    smc_run_opts_init(&o);
    CHECK_EQ_INT(o.cfg.n_particles, 10);
    CHECK_NEAR(o.cfg.ess_threshold, 0.5, 0);
    CHECK_EQ_INT(o.cfg.resample, SMC_RESAMPLE_STRATIFIED);
    CHECK_EQ_INT(o.cfg.max_tokens, 64);
    CHECK_NEAR(o.cfg.temperature, 1, 0);
    CHECK_EQ_INT(o.cfg.seed, 1);
    CHECK_EQ_INT(o.cfg.proposal, SMC_PROPOSAL_MASKED);
    smc_config lib;
    smc_config_default(&lib);
    CHECK_EQ_INT(o.cfg.lookahead, lib.lookahead); /* the table's default is the library's */
    CHECK_EQ_INT(o.cfg.lookahead, 16);
    CHECK_EQ_INT(o.prompt_cache, 4);
    CHECK(!o.method_set && !o.no_bos && !o.no_default_stop && o.n_stops == 0 && !o.prompt);
    smc_run_opts_free(&o);
}

static void test_cli_and_json_agree(void)
{
    smc_run_opts a, b;
    smc_run_opts_init(&a);
    smc_run_opts_init(&b);
    smc_error err = {{0}};
    const char *argv[][2] = {{"--particles", "7"}, {"--ess", "0.25"}, {"--resample", "residual"},
                             {"--max-tokens", "33"}, {"--temp", "0.5"}, {"--proposal", "awrs"},
                             {"--seed", "42"}, {"--method", "is"}, {"--stop", "\\n"},
                             {"--stop", "END"}, {"--regex", "[a-z]+"}, {"--critic", "smiles"},
                             {"-p", "Q:\\tx"}, {"--no-bos", NULL}, {"--no-default-stop", NULL},
                             {"--lookahead", "3"}};
    for (size_t i = 0; i < sizeof argv / sizeof argv[0]; i++)
        CHECK_MSG(smc_run_opts_set(&a, argv[i][0], argv[i][1], &err) == 0, "%s: %s", argv[i][0], err.msg);
    const char *json = "{\"particles\":7,\"ess_threshold\":0.25,\"resample\":\"residual\",\"n_predict\":33,"
                       "\"temperature\":0.5,\"proposal\":\"awrs\",\"seed\":42,\"method\":\"is\","
                       "\"stop\":[\"\\n\",\"END\"],\"regex\":\"[a-z]+\",\"critic\":\"smiles\","
                       "\"prompt\":\"Q:\\tx\",\"no_bos\":true,\"no_default_stop\":true,\"model\":\"ignored\","
                       "\"lookahead\":3}";
    CHECK_MSG(smc_run_opts_set_json(&b, json, strlen(json), false, &err) == 0, "%s", err.msg);
    char *ja = smc_run_opts_to_json(&a), *jb = smc_run_opts_to_json(&b);
    CHECK_STR(ja, jb);
    CHECK_STR(a.prompt, "Q:\tx");    /* escapes decoded on the command line */
    CHECK_STR(a.stops[0], "\n");
    CHECK_EQ_INT(a.cfg.n_particles, 7);
    CHECK_EQ_INT(a.cfg.method, SMC_METHOD_IS);
    CHECK_EQ_INT(a.cfg.lookahead, 3);
    CHECK_EQ_INT(b.cfg.lookahead, 3);
    CHECK(a.method_set);
    /* to_json round-trips through set_json. */
    smc_run_opts c;
    smc_run_opts_init(&c);
    CHECK_MSG(smc_run_opts_set_json(&c, ja, strlen(ja), true, &err) == 0, "%s", err.msg);
    char *jc = smc_run_opts_to_json(&c);
    CHECK_STR(jc, ja);
    free(ja);
    free(jb);
    free(jc);
    smc_run_opts_free(&a);
    smc_run_opts_free(&b);
    smc_run_opts_free(&c);
}

/* Sets one CLI option; returns the error message ("" when accepted). */
static const char *cli_err(const char *key, const char *value)
{
    static smc_error err;
    smc_run_opts o;
    smc_run_opts_init(&o);
    memset(&err, 0, sizeof err);
    smc_run_opts_set(&o, key, value, &err);
    smc_run_opts_free(&o);
    return err.msg;
}

static const char *json_err(const char *json, bool strict)
{
    static smc_error err;
    smc_run_opts o;
    smc_run_opts_init(&o);
    memset(&err, 0, sizeof err);
    smc_run_opts_set_json(&o, json, strlen(json), strict, &err);
    smc_run_opts_free(&o);
    return err.msg;
}

static void test_errors(void)
{
    CHECK_STR(cli_err("--particles", "0"), "--particles: '0' is not an integer in [1, 100000]");
    CHECK_STR(cli_err("--particles", "2.5"), "--particles: '2.5' is not an integer in [1, 100000]");
    CHECK_STR(cli_err("--particles", "abc"), "--particles: 'abc' is not an integer in [1, 100000]");
    CHECK_STR(cli_err("--temp", "0"), "--temp: '0' is not a number in (0, 1e+06]");
    CHECK_STR(cli_err("--ess", "1.5"), "--ess: '1.5' is not a number in [0, 1]");
    CHECK_STR(cli_err("--lookahead", "-1"), "--lookahead: '-1' is not an integer in [0, 4096]");
    CHECK_STR(cli_err("--prompt-cache", "65"), "--prompt-cache: '65' is not an integer in [0, 64]");
    CHECK_STR(cli_err("prompt_cache", "2"), "");
    /* A model setting is not a request field: JSON requests cannot set it. */
    CHECK_STR(json_err("{\"prompt_cache\":2}", true),
              "prompt_cache: unknown field (see GET /v1/options for the fields)");
    CHECK_STR(json_err("{\"lookahead\":4097}", true), "lookahead: 4097 is not an integer in [0, 4096]");
    CHECK_STR(cli_err("--ess", "nan"), "--ess: 'nan' is not a number in [0, 1]");
    CHECK_STR(cli_err("--method", "beam"),
              "--method: unknown value 'beam' (plain, lcd, is, smc, rerank, is-full, smc-full)");
    CHECK_STR(cli_err("--resample", "x"), "--resample: unknown value 'x' (multinomial, stratified, systematic, residual)");
    CHECK_STR(cli_err("--proposal", "x"), "--proposal: unknown value 'x' (masked, awrs)");
    CHECK_STR(cli_err("--lark", "x"), "unknown option '--lark'");   /* JSON only */
    CHECK_STR(cli_err("--particles", NULL), "option --particles needs a value");
    CHECK_STR(cli_err("", "1"), "unknown option ''");
    CHECK_STR(json_err("{\"particles\":0}", false), "particles: 0 is not an integer in [1, 100000]");
    CHECK_STR(json_err("{\"particles\":\"8\"}", false), "particles: '8' is not an integer in [1, 100000]");
    CHECK_STR(json_err("{\"max_tokens\":1e300}", false), "max_tokens: 1.0000000000000001e+300 is not an integer in [1, 1000000]");
    CHECK_STR(json_err("{\"method\":3}", false),
              "method: unknown value 3 (plain, lcd, is, smc, rerank, is-full, smc-full)");
    CHECK_STR(json_err("{\"stop\":[\"a\",1]}", false), "stop: every element must be a string");
    CHECK_STR(json_err("{\"stop\":{}}", false), "stop: a JSON object is not a string or an array of strings");
    CHECK_STR(json_err("{\"stop\":\"\"}", false), "stop: an empty stop string");
    CHECK_STR(json_err("{\"no_bos\":1}", false), "no_bos: 1 is not true or false");
    CHECK_STR(json_err("{\"particles\":4,\"bogus\":1}", true),
              "bogus: unknown field (see GET /v1/options for the fields)");
    CHECK_STR(json_err("{\"bogus\":1}", false), "");
    CHECK_STR(json_err("[1]", false), "the options must be a JSON object");
    CHECK(contains(json_err("{\"particles\":", false), "malformed JSON"));
    /* 17 stop strings are one too many. */
    CHECK(contains(json_err("{\"stop\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\","
                            "\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}", false),
                   "too many stop strings"));
    /* A schema object is kept as its text. */
    smc_run_opts o;
    smc_run_opts_init(&o);
    smc_error err = {{0}};
    const char *js = "{\"json_schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}}";
    CHECK(smc_run_opts_set_json(&o, js, strlen(js), true, &err) == 0);
    CHECK_STR(o.json_schema, "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}");
    smc_run_opts_free(&o);
}

static void test_check(void)
{
    smc_error err = {{0}};
    smc_run_opts o;
    smc_run_opts_init(&o);
    CHECK(smc_run_opts_check(&o, SMC_OPT_JSON, &err) == 0);
    CHECK_EQ_INT(o.cfg.method, SMC_METHOD_PLAIN);
    smc_run_opts_set(&o, "regex", "a+", &err);
    CHECK(smc_run_opts_check(&o, SMC_OPT_JSON, &err) == 0);
    CHECK_EQ_INT(o.cfg.method, SMC_METHOD_SMC);
    smc_run_opts_set(&o, "critic", "smiles", &err);
    CHECK(smc_run_opts_check(&o, SMC_OPT_JSON, &err) == 0);
    CHECK_EQ_INT(o.cfg.method, SMC_METHOD_SMC_FULL);
    smc_run_opts_set(&o, "grammar", "root ::= \"a\"", &err);
    CHECK(smc_run_opts_check(&o, SMC_OPT_JSON, &err) != 0);
    CHECK_STR(err.msg, "give at most one of grammar, lark, regex and json_schema");
    smc_run_opts_free(&o);

    smc_run_opts_init(&o);
    smc_run_opts_set(&o, "--method", "rerank", &err);
    CHECK(smc_run_opts_check(&o, SMC_OPT_CLI, &err) != 0);
    CHECK_STR(err.msg, "--method rerank needs a --critic");
    CHECK(smc_run_opts_check(&o, SMC_OPT_JSON, &err) != 0);
    CHECK_STR(err.msg, "method rerank needs a critic");
    smc_run_opts_set(&o, "--method", "smc", &err);
    CHECK(smc_run_opts_check(&o, SMC_OPT_JSON, &err) != 0);
    CHECK(contains(err.msg, "method smc needs a constraint"));
    smc_run_opts_free(&o);
}

static void test_help(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (int g = SMC_OPT_GROUP_PROMPT; g <= SMC_OPT_GROUP_MODEL; g++)
        smc_run_opts_print_help(f, (smc_opt_group)g);
    fclose(f);
    /* Lines are wrapped: compare with the wrapping undone. */
    size_t w = 0;
    for (size_t r = 0; r < len; r++) {
        if (buf[r] == '\n' && r + 1 < len && buf[r + 1] == ' ' && r + 3 < len && buf[r + 3] == ' ') {
            while (r + 1 < len && buf[r + 1] == ' ')
                r++;
            buf[w++] = ' ';
        } else
            buf[w++] = buf[r];
    }
    buf[w] = 0;
    /* Every CLI flag appears once, with its default. */
    for (int i = 0; i < smc_opt_count(); i++) {
        const smc_opt_desc *d = smc_opt_at(i);
        if (!d->flag)
            continue;
        char line[64];
        snprintf(line, sizeof line, "  %s ", d->flag);
        CHECK_MSG(contains(buf, line), "help lacks %s", d->flag);
    }
    CHECK(contains(buf, "(default 10)"));
    CHECK(contains(buf, "multinomial, stratified, systematic, residual; default stratified"));
    CHECK(!contains(buf, "Lark grammar"));   /* JSON-only options are not CLI flags */
    free(buf);
}

void run_tests(void)
{
    test_table();
    test_defaults();
    test_cli_and_json_agree();
    test_errors();
    test_check();
    test_help();
}
