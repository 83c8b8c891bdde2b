/* run_options.c — the one table of run options (name, CLI flag, type, range,
 * default, help) and the functions that set them from command-line text and
 * from JSON, check them and print their help. The CLI, the server and the
 * Python package all go through here, so a knob is described exactly once. */
#include "pipeline/run_options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/smc_setup.h"
#include "util/error.h"

#define MAX_SEED 9007199254740991.0 /* 2^53 - 1: exact in a JSON number and a Python float */

/* In table order; run_opt_id indexes it. */
static const smc_opt_desc table[RUN_OPT_COUNT] = {
    [RUN_OPT_PROMPT] = {"prompt", "-p", NULL, "TEXT", SMC_OPT_STRING, SMC_OPT_CLI | SMC_OPT_JSON | SMC_OPT_CLI_ESCAPES,
                        SMC_OPT_GROUP_PROMPT, 0, 0, false, NULL, NULL,
                        "the prompt (C escapes like \\n are decoded on the command line)"},
    [RUN_OPT_NO_BOS] = {"no_bos", "--no-bos", NULL, NULL, SMC_OPT_BOOL, SMC_OPT_CLI | SMC_OPT_JSON,
                        SMC_OPT_GROUP_PROMPT, 0, 0, false, NULL, "false", "do not add BOS to the prompt"},
    [RUN_OPT_GRAMMAR] = {"grammar", "--grammar", NULL, "FILE", SMC_OPT_STRING,
                         SMC_OPT_CLI | SMC_OPT_JSON | SMC_OPT_CLI_FILE, SMC_OPT_GROUP_CONSTRAINT, 0, 0, false,
                         NULL, NULL,
                         "GBNF grammar the completion must match (on the command line: a .gbnf, .lark or .regex file)"},
    [RUN_OPT_LARK] = {"lark", NULL, NULL, NULL, SMC_OPT_STRING, SMC_OPT_JSON, SMC_OPT_GROUP_CONSTRAINT, 0, 0,
                      false, NULL, NULL, "Lark grammar"},
    [RUN_OPT_REGEX] = {"regex", "--regex", NULL, "REGEX", SMC_OPT_STRING, SMC_OPT_CLI | SMC_OPT_JSON,
                       SMC_OPT_GROUP_CONSTRAINT, 0, 0, false, NULL, NULL,
                       "regular expression the whole completion must match"},
    [RUN_OPT_JSON_SCHEMA] = {"json_schema", "--json-schema", NULL, "FILE", SMC_OPT_STRING,
                             SMC_OPT_CLI | SMC_OPT_JSON | SMC_OPT_CLI_FILE, SMC_OPT_GROUP_CONSTRAINT, 0, 0,
                             false, NULL, NULL,
                             "JSON Schema the completion must satisfy (on the command line: a file; in JSON: the schema object)"},
    [RUN_OPT_CRITIC] = {"critic", "--critic", NULL, "NAME[:ARG]", SMC_OPT_STRING, SMC_OPT_CLI | SMC_OPT_JSON,
                        SMC_OPT_GROUP_CRITIC, 0, 0, false, NULL, NULL,
                        "the expensive potential, one of:"},
    [RUN_OPT_METHOD] = {"method", "--method", NULL, "M", SMC_OPT_CHOICE, SMC_OPT_CLI | SMC_OPT_JSON,
                        SMC_OPT_GROUP_SAMPLING, 0, 0, false, "plain|lcd|is|smc|rerank|is-full|smc-full", NULL,
                        "sampling method; by default smc-full with a critic, smc with a constraint, "
                        "else plain"},
    [RUN_OPT_PARTICLES] = {"particles", "--particles", NULL, "N", SMC_OPT_INT, SMC_OPT_CLI | SMC_OPT_JSON,
                           SMC_OPT_GROUP_SAMPLING, 1, 100000, false, NULL, "10", "number of particles"},
    [RUN_OPT_ESS] = {"ess_threshold", "--ess", NULL, "T", SMC_OPT_FLOAT, SMC_OPT_CLI | SMC_OPT_JSON,
                     SMC_OPT_GROUP_SAMPLING, 0, 1, false, NULL, "0.5",
                     "resample when ESS < T*N (the default comes from the sweep in docs/results)"},
    [RUN_OPT_RESAMPLE] = {"resample", "--resample", NULL, "S", SMC_OPT_CHOICE, SMC_OPT_CLI | SMC_OPT_JSON,
                          SMC_OPT_GROUP_SAMPLING, 0, 0, false, "multinomial|stratified|systematic|residual",
                          "stratified", "resampling scheme"},
    [RUN_OPT_RESAMPLE_AT] = {"resample_at", "--resample-at", NULL, "W", SMC_OPT_CHOICE, SMC_OPT_CLI | SMC_OPT_JSON,
                             SMC_OPT_GROUP_SAMPLING, 0, 0, false, "step|critic", "step",
                             "when smc-full tests the ESS: after every token, or only after a step in which the "
                             "critic scored a particle (other methods: every step)"},
    [RUN_OPT_MAX_TOKENS] = {"max_tokens", "--max-tokens", "n_predict", "M", SMC_OPT_INT,
                            SMC_OPT_CLI | SMC_OPT_JSON, SMC_OPT_GROUP_SAMPLING, 1, 1000000, false, NULL, "64",
                            "tokens per particle before EOS is forced"},
    [RUN_OPT_TEMPERATURE] = {"temperature", "--temp", NULL, "T", SMC_OPT_FLOAT, SMC_OPT_CLI | SMC_OPT_JSON,
                             SMC_OPT_GROUP_SAMPLING, 0, 1e6, true, NULL, "1", "temperature of the LM"},
    [RUN_OPT_PROPOSAL] = {"proposal", "--proposal", NULL, "P", SMC_OPT_CHOICE, SMC_OPT_CLI | SMC_OPT_JSON,
                          SMC_OPT_GROUP_SAMPLING, 0, 0, false, "masked|awrs", "masked",
                          "proposal: the masked LM, or adaptive weighted rejection sampling"},
    [RUN_OPT_STOP] = {"stop", "--stop", NULL, "STR", SMC_OPT_STRINGS,
                      SMC_OPT_CLI | SMC_OPT_JSON | SMC_OPT_CLI_ESCAPES, SMC_OPT_GROUP_SAMPLING, 0, 0, false, NULL,
                      NULL,
                      "end a particle at any token containing STR (repeatable, at most 16; the critics add "
                      "their own, e.g. a newline for smiles)"},
    [RUN_OPT_NO_DEFAULT_STOP] = {"no_default_stop", "--no-default-stop", NULL, NULL, SMC_OPT_BOOL,
                                 SMC_OPT_CLI | SMC_OPT_JSON, SMC_OPT_GROUP_SAMPLING, 0, 0, false, NULL, "false",
                                 "do not add the critic's stop string"},
    [RUN_OPT_SEED] = {"seed", "--seed", NULL, "S", SMC_OPT_INT, SMC_OPT_CLI | SMC_OPT_JSON,
                      SMC_OPT_GROUP_SAMPLING, 0, MAX_SEED, false, NULL, "1", "random seed"},
    [RUN_OPT_JSON_WS] = {"json_ws", "--json-ws", NULL, "W", SMC_OPT_CHOICE, SMC_OPT_CLI | SMC_OPT_JSON,
                         SMC_OPT_GROUP_CONSTRAINT, 0, 0, false, "compact|flexible", "compact",
                         "whitespace in JSON Schema output: none (as OpenAI strict mode), or one bounded "
                         "run between tokens"},
    [RUN_OPT_STRICT_SCHEMA] = {"strict_schema", "--strict-schema", NULL, NULL, SMC_OPT_BOOL,
                               SMC_OPT_CLI | SMC_OPT_JSON, SMC_OPT_GROUP_CONSTRAINT, 0, 0, false, NULL,
                               "false", "refuse unknown JSON Schema keywords (default: ignore them with a "
                               "warning)"},
    [RUN_OPT_ANY_ORDER] = {"any_order", "--any-order", NULL, NULL, SMC_OPT_BOOL, SMC_OPT_CLI | SMC_OPT_JSON,
                           SMC_OPT_GROUP_CONSTRAINT, 0, 0, false, NULL, "false",
                           "JSON Schema objects: accept the properties in any order, as validators do "
                           "(default: schema order; objects with more than 10 properties keep it)"},
    [RUN_OPT_CONSTRAIN_AFTER] = {"constrain_after", "--constrain-after", NULL, "TEXT", SMC_OPT_STRING,
                                 SMC_OPT_CLI | SMC_OPT_JSON | SMC_OPT_CLI_ESCAPES, SMC_OPT_GROUP_CONSTRAINT, 0, 0,
                                 false, NULL, NULL,
                                 "think-then-constrain: the constraint and critic apply only to the text after "
                                 "the first occurrence of TEXT (e.g. 'Answer: '); before it the model writes freely"},
    [RUN_OPT_CONSTRAIN_AFTER_REGEX] = {"constrain_after_regex", "--constrain-after-regex", NULL, "REGEX",
                                       SMC_OPT_STRING, SMC_OPT_CLI | SMC_OPT_JSON, SMC_OPT_GROUP_CONSTRAINT, 0, 0,
                                       false, NULL, NULL,
                                       "the same with a regex trigger (its earliest-ending match, shorter than "
                                       "256 bytes)"},
    [RUN_OPT_TRIGGER_REQUIRED] = {"trigger_required", "--trigger-required", NULL, NULL, SMC_OPT_BOOL,
                                  SMC_OPT_CLI | SMC_OPT_JSON, SMC_OPT_GROUP_CONSTRAINT, 0, 0, false, NULL, "false",
                                  "an answer without the trigger has weight zero (default: it is accepted "
                                  "unconstrained)"},
    [RUN_OPT_CHAT] = {"chat", "--chat", NULL, "TEXT", SMC_OPT_STRING, SMC_OPT_CLI | SMC_OPT_JSON | SMC_OPT_CLI_ESCAPES,
                      SMC_OPT_GROUP_CHAT, 0, 0, false, NULL, NULL,
                      "the user's message; the model's chat template writes the prompt from it, ending with "
                      "the opening of the assistant's turn (instead of prompt)"},
    [RUN_OPT_SYSTEM] = {"system", "--system", NULL, "TEXT", SMC_OPT_STRING,
                        SMC_OPT_CLI | SMC_OPT_JSON | SMC_OPT_CLI_ESCAPES, SMC_OPT_GROUP_CHAT, 0, 0, false, NULL,
                        NULL, "a system message before the conversation"},
    [RUN_OPT_MESSAGES] = {"messages", "--messages", NULL, "FILE", SMC_OPT_STRING,
                          SMC_OPT_CLI | SMC_OPT_JSON | SMC_OPT_CLI_FILE, SMC_OPT_GROUP_CHAT, 0, 0, false, NULL,
                          NULL,
                          "the conversation, [{\"role\": \"user\", \"content\": \"...\"}, ...], written into "
                          "the prompt by the chat template (on the command line: a JSON file, which may also be "
                          "{\"messages\": [...]})"},
    [RUN_OPT_CHAT_TEMPLATE] = {"chat_template", "--chat-template", NULL, "NAME", SMC_OPT_STRING,
                               SMC_OPT_CLI | SMC_OPT_JSON, SMC_OPT_GROUP_CHAT, 0, 0, false, NULL, NULL,
                               "a built-in chat template instead of the model's own: chatml, llama2, llama3, "
                               "mistral-v1, mistral-v3, mistral-v7, phi3, phi4, gemma, deepseek, deepseek3, "
                               "command-r, ... (or a Jinja template text, recognised like the model's)"},
    [RUN_OPT_LOOKAHEAD] = {"lookahead", "--lookahead", NULL, "N", SMC_OPT_INT, SMC_OPT_CLI | SMC_OPT_JSON,
                           SMC_OPT_GROUP_SAMPLING, 0, 4096, false, NULL, "16",
                           "forced tokens (the constraint allows only one) evaluated ahead as one chunk, at most N "
                           "in a row; the samples are the same, only faster (0: off)"},
    [RUN_OPT_PROMPT_CACHE] = {"prompt_cache", "--prompt-cache", NULL, "N", SMC_OPT_INT,
                              SMC_OPT_CLI | SMC_OPT_MODEL, SMC_OPT_GROUP_MODEL, 0, 64, false, NULL, "4",
                              "keep the KV of the last N prompts across runs: a prompt sharing a prefix with "
                              "one of them computes only the rest (0: off; a setting of the loaded model)"},
    [RUN_OPT_LOAD] = {"load", "--load", NULL, "HOW", SMC_OPT_CHOICE, SMC_OPT_CLI | SMC_OPT_MODEL, SMC_OPT_GROUP_MODEL,
                      0, 0, false, "auto|mmap|read", "auto",
                      "how the model file is loaded: auto reads a file of 16 MB or more into memory backed by "
                      "transparent huge pages when the kernel offers them and it fits in half the RAM (faster "
                      "decode), else maps it; mmap maps it (its pages are shared with other processes through "
                      "the page cache, as llama.cpp does); read always reads it into memory"},
    [RUN_OPT_MLOCK] = {"mlock", "--mlock", NULL, NULL, SMC_OPT_BOOL, SMC_OPT_CLI | SMC_OPT_MODEL, SMC_OPT_GROUP_MODEL,
                       0, 0, false, NULL, "false",
                       "lock the model's weights in RAM (mlock) so they are never paged out or dropped from the "
                       "page cache; when the lock is refused (RLIMIT_MEMLOCK, see ulimit -l) a warning says so and "
                       "the model runs unlocked"},
};

int smc_opt_count(void) { return RUN_OPT_COUNT; }

const smc_opt_desc *smc_opt_at(int i) { return i >= 0 && i < RUN_OPT_COUNT ? &table[i] : NULL; }

const smc_opt_desc *smc_opt_find(const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < RUN_OPT_COUNT; i++) {
        const smc_opt_desc *d = &table[i];
        if (!strcmp(d->name, name) || (d->flag && !strcmp(d->flag, name)) ||
            (d->json_alias && !strcmp(d->json_alias, name)))
            return d;
    }
    return NULL;
}

run_opt_id run_opt_id_of(const smc_opt_desc *d) { return (run_opt_id)(d - table); }

const char *run_opt_label(const smc_opt_desc *d, unsigned where)
{
    return (where & SMC_OPT_CLI) && d->flag ? d->flag : d->name;
}

/* ---- values ---------------------------------------------------------- */

static void free_strings(smc_run_opts *o)
{
    char **fields[] = {&o->prompt, &o->grammar, &o->grammar_file, &o->lark, &o->regex,
                       &o->json_schema, &o->json_schema_file, &o->critic, &o->constrain_after,
                       &o->constrain_after_regex, &o->chat, &o->system,
                       &o->messages, &o->messages_file, &o->chat_template};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
    for (int i = 0; i < o->n_stops; i++)
        free(o->stops[i]);
    o->n_stops = 0;
}

void smc_run_opts_init(smc_run_opts *o)
{
    memset(o, 0, sizeof *o);
    smc_config_default(&o->cfg);
    for (int i = 0; i < RUN_OPT_COUNT; i++)
        if (table[i].def)
            smc_run_opts_set(o, table[i].name, table[i].def, NULL);
}

void smc_run_opts_free(smc_run_opts *o)
{
    if (o)
        free_strings(o);
}

smc_run_opts *smc_run_opts_new(void)
{
    smc_run_opts *o = malloc(sizeof *o);
    if (o)
        smc_run_opts_init(o);
    return o;
}

void smc_run_opts_delete(smc_run_opts *o)
{
    smc_run_opts_free(o);
    free(o);
}

/* Index of value in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *value)
{
    size_t n = strlen(value);
    int i = 0;
    for (const char *p = choices; *p; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !memcmp(p, value, n))
            return i;
        p += len + (bar ? 1 : 0);
    }
    return -1;
}

/* "a, b, c" from "a|b|c" into buf. */
static const char *choice_list(const char *choices, char *buf, size_t cap)
{
    size_t w = 0;
    for (const char *p = choices; *p && w + 3 < cap; p++) {
        if (*p == '|') {
            buf[w++] = ',';
            buf[w++] = ' ';
        } else
            buf[w++] = *p;
    }
    buf[w] = 0;
    return buf;
}

static int set_string(char **slot, const char *value, smc_error *err)
{
    char *copy = strdup(value);
    if (!copy)
        return smc_fail(err, "out of memory");
    free(*slot);
    *slot = copy;
    return 0;
}

/* Stores an already validated value. num: INT/FLOAT/BOOL/CHOICE index. */
static int store(smc_run_opts *o, run_opt_id id, double num, const char *str, bool cli, smc_error *err)
{
    switch (id) {
    case RUN_OPT_PROMPT: return set_string(&o->prompt, str, err);
    case RUN_OPT_NO_BOS: o->no_bos = num != 0; return 0;
    case RUN_OPT_GRAMMAR: return set_string(cli ? &o->grammar_file : &o->grammar, str, err);
    case RUN_OPT_LARK: return set_string(&o->lark, str, err);
    case RUN_OPT_REGEX: return set_string(&o->regex, str, err);
    case RUN_OPT_JSON_SCHEMA: return set_string(cli ? &o->json_schema_file : &o->json_schema, str, err);
    case RUN_OPT_CRITIC: return set_string(&o->critic, str, err);
    case RUN_OPT_METHOD:
        o->cfg.method = (smc_method)(int)num;
        o->method_set = true;
        return 0;
    case RUN_OPT_PARTICLES: o->cfg.n_particles = (int)num; return 0;
    case RUN_OPT_ESS: o->cfg.ess_threshold = num; return 0;
    case RUN_OPT_RESAMPLE: o->cfg.resample = (smc_resample_scheme)(int)num; return 0;
    case RUN_OPT_RESAMPLE_AT: o->cfg.resample_at_critic = num != 0; return 0;
    case RUN_OPT_MAX_TOKENS: o->cfg.max_tokens = (int)num; return 0;
    case RUN_OPT_TEMPERATURE: o->cfg.temperature = num; return 0;
    case RUN_OPT_PROPOSAL: o->cfg.proposal = (smc_proposal)(int)num; return 0;
    case RUN_OPT_STOP:
        if (o->n_stops == (int)(sizeof o->stops / sizeof o->stops[0]))
            return smc_fail(err, "too many stop strings (at most %d)", o->n_stops);
        if (!*str)
            return smc_fail(err, "an empty stop string");
        if (!(o->stops[o->n_stops] = strdup(str)))
            return smc_fail(err, "out of memory");
        o->n_stops++;
        return 0;
    case RUN_OPT_NO_DEFAULT_STOP: o->no_default_stop = num != 0; return 0;
    case RUN_OPT_SEED: o->cfg.seed = (uint64_t)num; return 0;
    case RUN_OPT_JSON_WS:
        o->json_schema_flags = (o->json_schema_flags & ~SMC_JSON_SCHEMA_FLEXIBLE_WS) |
                               (num != 0 ? SMC_JSON_SCHEMA_FLEXIBLE_WS : 0);
        return 0;
    case RUN_OPT_STRICT_SCHEMA:
        o->json_schema_flags = (o->json_schema_flags & ~SMC_JSON_SCHEMA_STRICT) |
                               (num != 0 ? SMC_JSON_SCHEMA_STRICT : 0);
        return 0;
    case RUN_OPT_ANY_ORDER:
        o->json_schema_flags = (o->json_schema_flags & ~SMC_JSON_SCHEMA_ANY_ORDER) |
                               (num != 0 ? SMC_JSON_SCHEMA_ANY_ORDER : 0);
        return 0;
    case RUN_OPT_CONSTRAIN_AFTER:
        if (!*str)
            return smc_fail(err, "an empty trigger");
        return set_string(&o->constrain_after, str, err);
    case RUN_OPT_CONSTRAIN_AFTER_REGEX: return set_string(&o->constrain_after_regex, str, err);
    case RUN_OPT_TRIGGER_REQUIRED: o->trigger_required = num != 0; return 0;
    case RUN_OPT_CHAT: return set_string(&o->chat, str, err);
    case RUN_OPT_SYSTEM: return set_string(&o->system, str, err);
    case RUN_OPT_MESSAGES: return set_string(cli ? &o->messages_file : &o->messages, str, err);
    case RUN_OPT_CHAT_TEMPLATE: return set_string(&o->chat_template, str, err);
    case RUN_OPT_LOOKAHEAD: o->cfg.lookahead = (int)num; return 0;
    case RUN_OPT_PROMPT_CACHE: o->prompt_cache = (int)num; return 0;
    case RUN_OPT_LOAD: o->load = (int)num; return 0; /* the choices' order is SMC_GGUF_AUTO, _MMAP, _READ */
    case RUN_OPT_MLOCK: o->mlock = num != 0; return 0;
    case RUN_OPT_COUNT: break;
    }
    return smc_fail(err, "internal: option %d has no storage", (int)id);
}

/* The value's problem, in the same words for every front end. */
static int range_error(const smc_opt_desc *d, const char *label, const char *shown, smc_error *err)
{
    char buf[256];
    switch (d->type) {
    case SMC_OPT_INT:
        return smc_fail(err, "%s: %s is not an integer in [%.0f, %.0f]", label, shown, d->min, d->max);
    case SMC_OPT_FLOAT:
        return smc_fail(err, "%s: %s is not a number in %c%g, %g]", label, shown, d->min_open ? '(' : '[',
                        d->min, d->max);
    case SMC_OPT_CHOICE:
        return smc_fail(err, "%s: unknown value %s (%s)", label, shown, choice_list(d->choices, buf, sizeof buf));
    case SMC_OPT_BOOL: return smc_fail(err, "%s: %s is not true or false", label, shown);
    default: return smc_fail(err, "%s: %s is not a string", label, shown);
    }
}

static bool in_range(const smc_opt_desc *d, double v)
{
    if (!isfinite(v) || v > d->max || v < d->min || (d->min_open && v == d->min))
        return false;
    return d->type != SMC_OPT_INT || v == floor(v);
}

int run_opts_set_desc(smc_run_opts *o, const smc_opt_desc *d, const char *value, unsigned where,
                      smc_error *err)
{
    const char *label = run_opt_label(d, where);
    run_opt_id id = run_opt_id_of(d);
    bool cli = where & SMC_OPT_CLI;
    char shown[96];
    snprintf(shown, sizeof shown, "'%.80s'", value ? value : "");
    if (d->type == SMC_OPT_BOOL) {
        double v;
        if (!value || !strcmp(value, "true") || !strcmp(value, "1"))
            v = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "0"))
            v = 0;
        else
            return range_error(d, label, shown, err);
        return store(o, id, v, NULL, cli, err);
    }
    if (!value)
        return smc_fail(err, "option %s needs a value", label);
    if (d->type == SMC_OPT_INT || d->type == SMC_OPT_FLOAT) {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !in_range(d, v))
            return range_error(d, label, shown, err);
        return store(o, id, v, NULL, cli, err);
    }
    if (d->type == SMC_OPT_CHOICE) {
        int k = choice_index(d->choices, value);
        if (k < 0)
            return range_error(d, label, shown, err);
        return store(o, id, k, NULL, cli, err);
    }
    if (!cli || !(d->where & SMC_OPT_CLI_ESCAPES))
        return store(o, id, 0, value, cli, err);
    char *decoded = strdup(value);
    if (!decoded)
        return smc_fail(err, "out of memory");
    text_unescape(decoded);
    int rc = store(o, id, 0, decoded, cli, err);
    free(decoded);
    return rc;
}

int smc_run_opts_set(smc_run_opts *o, const char *key, const char *value, smc_error *err)
{
    const smc_opt_desc *d = smc_opt_find(key);
    if (!d || (!(d->where & SMC_OPT_CLI) && key[0] == '-'))
        return smc_fail(err, "unknown option '%s'", key ? key : "");
    /* A flag is named as a flag in errors; a name as a name (bindings). */
    return run_opts_set_desc(o, d, value, key[0] == '-' ? SMC_OPT_CLI : SMC_OPT_JSON, err);
}

/* ---- checks ---------------------------------------------------------- */

/* A prompt, or a chat (chat or messages), not both; system and
 * chat_template only with a chat. */
static int check_chat(const smc_run_opts *o, unsigned where, smc_error *err)
{
    bool cli = where & SMC_OPT_CLI;
    bool chat = o->chat || o->messages || o->messages_file;
    if (chat && o->prompt)
        return smc_fail(err, cli ? "give the prompt either as -p/-f or as a chat (--chat or --messages), not both"
                                 : "give either prompt or a chat (chat or messages), not both");
    if (o->chat && (o->messages || o->messages_file))
        return smc_fail(err, cli ? "give the chat with --chat TEXT or --messages FILE, not both"
                                 : "give either chat or messages, not both");
    if (!chat && (o->system || o->chat_template))
        return smc_fail(err, "%s needs a chat: %s", run_opt_label(&table[o->system ? RUN_OPT_SYSTEM : RUN_OPT_CHAT_TEMPLATE], where),
                        cli ? "--chat TEXT or --messages FILE" : "chat or messages");
    return 0;
}

int smc_run_opts_check(smc_run_opts *o, unsigned where, smc_error *err)
{
    if (check_chat(o, where, err))
        return -1;
    const char *src[] = {o->grammar, o->grammar_file, o->lark, o->regex, o->json_schema, o->json_schema_file};
    int n_sources = 0;
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
        n_sources += src[i] != NULL;
    if (n_sources > 1)
        return smc_fail(err, (where & SMC_OPT_CLI) ? "give at most one of --grammar, --regex and --json-schema"
                                                   : "give at most one of grammar, lark, regex and json_schema");
    if (!o->method_set)
        o->cfg.method = o->critic ? SMC_METHOD_SMC_FULL : n_sources ? SMC_METHOD_SMC : SMC_METHOD_PLAIN;
    smc_method m = o->cfg.method;
    bool needs_critic = m == SMC_METHOD_RERANK || m == SMC_METHOD_IS_FULL || m == SMC_METHOD_SMC_FULL;
    const char *critic_label = run_opt_label(&table[RUN_OPT_CRITIC], where);
    const char *method_label = run_opt_label(&table[RUN_OPT_METHOD], where);
    if (needs_critic && !o->critic)
        return smc_fail(err, "%s %s needs a %s", method_label, smc_method_name(m), critic_label);
    const char *ca = run_opt_label(&table[RUN_OPT_CONSTRAIN_AFTER], where),
               *car = run_opt_label(&table[RUN_OPT_CONSTRAIN_AFTER_REGEX], where);
    if (o->constrain_after && o->constrain_after_regex)
        return smc_fail(err, "give at most one of %s and %s", ca, car);
    if (o->trigger_required && !o->constrain_after && !o->constrain_after_regex)
        return smc_fail(err, "%s needs %s or %s", run_opt_label(&table[RUN_OPT_TRIGGER_REQUIRED], where), ca, car);
    if ((o->constrain_after || o->constrain_after_regex) && !n_sources && !o->critic)
        return smc_fail(err, "%s needs a constraint or a critic to apply after the trigger",
                        o->constrain_after ? ca : car);
    if (m != SMC_METHOD_PLAIN && !n_sources && !o->critic)
        return smc_fail(err, "%s %s needs a constraint: %s", method_label, smc_method_name(m),
                        (where & SMC_OPT_CLI) ? "--grammar, --regex, --json-schema, or a critic with a grammar"
                                              : "grammar, lark, regex, json_schema, or a critic with a grammar");
    return 0;
}

/* ---- help ------------------------------------------------------------ */

void run_opts_print_option(FILE *f, const smc_opt_desc *d, const char *default_text)
{
    char head[64];
    snprintf(head, sizeof head, "%s%s%s", d->flag, d->metavar ? " " : "", d->metavar ? d->metavar : "");
    char tail[160] = "";
    char buf[128];
    const char *def = default_text ? default_text : d->def;
    if (d->type == SMC_OPT_CHOICE && def)
        snprintf(tail, sizeof tail, " (%s; default %s)", choice_list(d->choices, buf, sizeof buf), def);
    else if (d->type == SMC_OPT_CHOICE)
        snprintf(tail, sizeof tail, " (%s)", choice_list(d->choices, buf, sizeof buf));
    else if (def && d->type != SMC_OPT_BOOL)
        snprintf(tail, sizeof tail, " (default %s)", def);
    /* Wrap the description at about 100 columns, continuing under it. */
    char text[512];
    snprintf(text, sizeof text, "%s%s", d->help, tail);
    fprintf(f, "  %-20s ", head);
    int col = 23;
    bool first = true;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        int wlen = (int)strcspn(p, " ");
        if (!wlen)
            break;
        if (!first && col + 1 + wlen > 100) {
            fprintf(f, "\n%23s", "");
            col = 23;
        } else if (!first) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", wlen, p);
        col += wlen;
        p += wlen;
        first = false;
    }
    fputc('\n', f);
}

void smc_run_opts_print_help(FILE *f, smc_opt_group group)
{
    for (int i = 0; i < RUN_OPT_COUNT; i++) {
        const smc_opt_desc *d = &table[i];
        if (d->group == group && (d->where & SMC_OPT_CLI) && d->flag)
            run_opts_print_option(f, d, NULL);
    }
}

/* ---- JSON ------------------------------------------------------------ */

static int set_json_value(smc_run_opts *o, const smc_opt_desc *d, const char *field, const cJSON *v,
                          smc_error *err)
{
    run_opt_id id = run_opt_id_of(d);
    char shown[96];
    if (cJSON_IsNumber(v))
        snprintf(shown, sizeof shown, "%.17g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(shown, sizeof shown, "'%.80s'", v->valuestring);
    else
        snprintf(shown, sizeof shown, "a JSON %s",
                 cJSON_IsBool(v) ? "boolean" : cJSON_IsArray(v) ? "array" : cJSON_IsObject(v) ? "object" : "value");
    switch (d->type) {
    case SMC_OPT_INT:
    case SMC_OPT_FLOAT:
        if (!cJSON_IsNumber(v) || !in_range(d, v->valuedouble))
            return range_error(d, field, shown, err);
        return store(o, id, v->valuedouble, NULL, false, err);
    case SMC_OPT_BOOL:
        if (!cJSON_IsBool(v))
            return range_error(d, field, shown, err);
        return store(o, id, cJSON_IsTrue(v), NULL, false, err);
    case SMC_OPT_CHOICE: {
        int k = cJSON_IsString(v) ? choice_index(d->choices, v->valuestring) : -1;
        if (k < 0)
            return range_error(d, field, shown, err);
        return store(o, id, k, NULL, false, err);
    }
    case SMC_OPT_STRING:
        if ((id == RUN_OPT_JSON_SCHEMA && (cJSON_IsObject(v) || cJSON_IsBool(v))) ||
            (id == RUN_OPT_MESSAGES && cJSON_IsArray(v))) {
            char *text = cJSON_PrintUnformatted(v);
            if (!text)
                return smc_fail(err, "out of memory");
            char **slot = id == RUN_OPT_MESSAGES ? &o->messages : &o->json_schema;
            free(*slot);
            *slot = text;
            return 0;
        }
        if (!cJSON_IsString(v))
            return range_error(d, field, shown, err);
        return store(o, id, 0, v->valuestring, false, err);
    case SMC_OPT_STRINGS:
        if (cJSON_IsString(v))
            return store(o, id, 0, v->valuestring, false, err) ? smc_fail_context(err, "%s", field) : 0;
        if (!cJSON_IsArray(v))
            return smc_fail(err, "%s: %s is not a string or an array of strings", field, shown);
        for (const cJSON *e = v->child; e; e = e->next) {
            if (!cJSON_IsString(e))
                return smc_fail(err, "%s: every element must be a string", field);
            if (store(o, id, 0, e->valuestring, false, err))
                return smc_fail_context(err, "%s", field);
        }
        return 0;
    }
    return smc_fail(err, "internal: option %s has no type", d->name);
}

int run_opts_set_json_object(smc_run_opts *o, const cJSON *obj, bool strict, const char *where, smc_error *err)
{
    if (!cJSON_IsObject(obj))
        return smc_fail(err, "%s must be a JSON object", where ? where : "the options");
    char field[160];
    for (const cJSON *v = obj->child; v; v = v->next) {
        const char *key = v->string ? v->string : "";
        const smc_opt_desc *d = NULL;
        for (int i = 0; i < RUN_OPT_COUNT && !d; i++)
            if ((table[i].where & SMC_OPT_JSON) &&
                (!strcmp(table[i].name, key) || (table[i].json_alias && !strcmp(table[i].json_alias, key))))
                d = &table[i];
        snprintf(field, sizeof field, "%s%s%.100s", where ? where : "", where ? "." : "", key);
        if (!d) {
            if (strict)
                return smc_fail(err, "%s: unknown field (see GET /v1/options for the fields)", field);
            continue;
        }
        if (cJSON_IsNull(v))
            continue;
        if (set_json_value(o, d, field, v, err))
            return -1;
    }
    return 0;
}

int smc_run_opts_set_json(smc_run_opts *o, const char *json, size_t len, bool strict, smc_error *err)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (!root)
        return smc_fail(err, "malformed JSON near byte %zu", end ? (size_t)(end - json) : (size_t)0);
    int rc = run_opts_set_json_object(o, root, strict, NULL, err);
    cJSON_Delete(root);
    return rc;
}

char *smc_run_opts_to_json(const smc_run_opts *o)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    const char *strs[RUN_OPT_COUNT] = {
        [RUN_OPT_PROMPT] = o->prompt, [RUN_OPT_GRAMMAR] = o->grammar, [RUN_OPT_LARK] = o->lark,
        [RUN_OPT_REGEX] = o->regex, [RUN_OPT_JSON_SCHEMA] = o->json_schema, [RUN_OPT_CRITIC] = o->critic,
        [RUN_OPT_CHAT] = o->chat, [RUN_OPT_SYSTEM] = o->system, [RUN_OPT_MESSAGES] = o->messages,
        [RUN_OPT_CHAT_TEMPLATE] = o->chat_template,
        [RUN_OPT_METHOD] = o->method_set ? smc_method_name(o->cfg.method) : NULL,
        [RUN_OPT_RESAMPLE] = smc_resample_name(o->cfg.resample),
        [RUN_OPT_RESAMPLE_AT] = o->cfg.resample_at_critic ? "critic" : "step",
        [RUN_OPT_PROPOSAL] = o->cfg.proposal == SMC_PROPOSAL_AWRS ? "awrs" : "masked",
        [RUN_OPT_JSON_WS] = (o->json_schema_flags & SMC_JSON_SCHEMA_FLEXIBLE_WS) ? "flexible" : "compact",
        [RUN_OPT_CONSTRAIN_AFTER] = o->constrain_after, [RUN_OPT_CONSTRAIN_AFTER_REGEX] = o->constrain_after_regex,
        [RUN_OPT_LOAD] = smc_setup_load_name(o->load),
    };
    double nums[RUN_OPT_COUNT] = {
        [RUN_OPT_PARTICLES] = o->cfg.n_particles, [RUN_OPT_ESS] = o->cfg.ess_threshold,
        [RUN_OPT_MAX_TOKENS] = o->cfg.max_tokens, [RUN_OPT_TEMPERATURE] = o->cfg.temperature,
        [RUN_OPT_SEED] = (double)o->cfg.seed, [RUN_OPT_LOOKAHEAD] = o->cfg.lookahead,
        [RUN_OPT_PROMPT_CACHE] = o->prompt_cache,
    };
    bool bools[RUN_OPT_COUNT] = {[RUN_OPT_NO_BOS] = o->no_bos, [RUN_OPT_NO_DEFAULT_STOP] = o->no_default_stop,
                                 [RUN_OPT_STRICT_SCHEMA] = (o->json_schema_flags & SMC_JSON_SCHEMA_STRICT) != 0,
                                 [RUN_OPT_ANY_ORDER] = (o->json_schema_flags & SMC_JSON_SCHEMA_ANY_ORDER) != 0,
                                 [RUN_OPT_TRIGGER_REQUIRED] = o->trigger_required};
    bool ok = true;
    for (int i = 0; i < RUN_OPT_COUNT && ok; i++) {
        const smc_opt_desc *d = &table[i];
        if (!(d->where & SMC_OPT_JSON))
            continue;
        cJSON *v = NULL;
        if (d->type == SMC_OPT_INT || d->type == SMC_OPT_FLOAT)
            v = cJSON_CreateNumber(nums[i]);
        else if (d->type == SMC_OPT_BOOL)
            v = cJSON_CreateBool(bools[i]);
        else if (d->type == SMC_OPT_STRINGS)
            v = cJSON_CreateStringArray((const char *const *)o->stops, o->n_stops);
        else
            v = strs[i] ? cJSON_CreateString(strs[i]) : cJSON_CreateNull();
        ok = v && cJSON_AddItemToObject(j, d->name, v);
    }
    char *text = ok ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return text;
}
