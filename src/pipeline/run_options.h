/* run_options.h — the run-option table's internals shared by the front ends
 * in this repository (the public part is in smcgen.h): option ids, and
 * setting options from an already parsed cJSON object. */
#ifndef SMC_PIPELINE_RUN_OPTIONS_H
#define SMC_PIPELINE_RUN_OPTIONS_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "smcgen.h"

typedef enum run_opt_id {
    RUN_OPT_PROMPT, RUN_OPT_NO_BOS, RUN_OPT_GRAMMAR, RUN_OPT_LARK, RUN_OPT_REGEX, RUN_OPT_JSON_SCHEMA,
    RUN_OPT_CRITIC, RUN_OPT_METHOD, RUN_OPT_PARTICLES, RUN_OPT_ESS, RUN_OPT_RESAMPLE, RUN_OPT_RESAMPLE_AT,
    RUN_OPT_MAX_TOKENS,
    RUN_OPT_TEMPERATURE, RUN_OPT_PROPOSAL, RUN_OPT_STOP, RUN_OPT_NO_DEFAULT_STOP, RUN_OPT_SEED,
    RUN_OPT_JSON_WS, RUN_OPT_STRICT_SCHEMA, RUN_OPT_ANY_ORDER,
    RUN_OPT_CONSTRAIN_AFTER, RUN_OPT_CONSTRAIN_AFTER_REGEX, RUN_OPT_TRIGGER_REQUIRED,
    RUN_OPT_CHAT, RUN_OPT_SYSTEM, RUN_OPT_MESSAGES, RUN_OPT_CHAT_TEMPLATE,
    RUN_OPT_LOOKAHEAD, RUN_OPT_PROMPT_CACHE, RUN_OPT_LOAD, RUN_OPT_MLOCK,
    RUN_OPT_COUNT
} run_opt_id;

run_opt_id run_opt_id_of(const smc_opt_desc *d);
/* How an option is named where it was given: its flag (CLI) or its name. */
const char *run_opt_label(const smc_opt_desc *d, unsigned where);
/* Prints d's line of --help (flag, metavar, help, choices, default);
 * default_text replaces the table's default when not NULL. */
void run_opts_print_option(FILE *f, const smc_opt_desc *d, const char *default_text);
/* Sets d from text given at `where` (SMC_OPT_CLI: file and escape rules apply). */
int run_opts_set_desc(smc_run_opts *o, const smc_opt_desc *d, const char *value, unsigned where,
                      smc_error *err);
/* Sets the options named by obj's fields (names and JSON aliases; null
 * values are skipped). Unknown fields are errors when strict. `where`
 * ("smc") prefixes field names in messages, or NULL. */
int run_opts_set_json_object(smc_run_opts *o, const cJSON *obj, bool strict, const char *where, smc_error *err);

#endif
