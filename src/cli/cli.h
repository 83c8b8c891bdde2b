/* cli.h — the smcgen subcommands and the helpers they share. */
#ifndef SMC_CLI_H
#define SMC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "smcgen.h"

/* Each subcommand gets argv with argv[0] = its own name; returns the exit
 * status (0 ok, 1 runtime failure, 2 usage error). */
int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_smc(int argc, char **argv);
int cmd_grammar(int argc, char **argv);
int cmd_smc(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_view(int argc, char **argv);

/* Prints "smcgen: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s (len bytes) as a JSON string literal, escaping as needed. */
void cli_json_string(FILE *f, const char *s, size_t len);

/* Parses a non-negative integer / a float option value, or reports which
 * option was malformed and returns -1. */
int cli_parse_long(const char *opt, const char *val, long min, long max, long *out);
int cli_parse_double(const char *opt, const char *val, double *out);

/* Tokenizes prompt with the model's vocabulary, BOS added. Prints why and
 * returns -1 on failure or an empty result. cmd names the command. */
int cli_tokenize_prompt(smc_model *m, const char *cmd, const char *prompt, int32_t **ids, size_t *n);

/* Tokenizes text like cli_tokenize_prompt, recognising special-token texts
 * (<|im_start|>, ...) when parse_special (a rendered chat). */
int cli_tokenize_text(smc_model *m, const char *cmd, const char *text, bool parse_special, int32_t **ids,
                      size_t *n);

/* Evaluates ids as a new sequence of c (logits at every position when
 * all_logits, else at the last). Prints why and returns -1 on failure
 * (including a prompt longer than the context). */
int cli_decode_prompt(smc_ctx *c, const char *cmd, const int32_t *ids, size_t n, bool all_logits,
                      int32_t *seq);

/* --trace FILE: cli_trace_start points cfg->trace at a new trace whose info
 * holds the prompt, the model (NULL: the bundled one) and the command line
 * (prints why and returns -1 on failure); cli_trace_finish writes it with
 * the result (NULL for a failed run, whose error goes into the info) to path
 * and frees it, printing where it
 * went or why it could not be written (-1). */
int cli_trace_start(smc_config *cfg, const char *prompt, const char *model, int argc, char **argv);
int cli_trace_finish(smc_config *cfg, const smc_result *res, const char *error, const char *path);

#endif
