/* cli_util.c — error printing, JSON string output and option parsing shared
 * by the subcommands. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("smcgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_json_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

int cli_parse_long(const char *opt, const char *val, long min, long max, long *out)
{
    if (!val) {
        cli_error("option %s needs a value", opt);
        return -1;
    }
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < min || v > max) {
        cli_error("option %s: '%s' is not an integer in [%ld, %ld]", opt, val, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *opt, const char *val, double *out)
{
    if (!val) {
        cli_error("option %s needs a value", opt);
        return -1;
    }
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end) {
        cli_error("option %s: '%s' is not a number", opt, val);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_tokenize_prompt(smc_model *m, const char *cmd, const char *prompt, int32_t **ids, size_t *n)
{
    return cli_tokenize_text(m, cmd, prompt, false, ids, n);
}

int cli_tokenize_text(smc_model *m, const char *cmd, const char *prompt, bool parse_special, int32_t **ids,
                      size_t *n)
{
    smc_error err = {{0}};
    const smc_vocab *v = smc_model_vocab(m, &err);
    if (!v || smc_tokenize(v, prompt, strlen(prompt), true, parse_special, ids, n, &err) < 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    if (*n == 0) {
        cli_error("%s: the prompt has no tokens", cmd);
        return -1;
    }
    return 0;
}

int cli_decode_prompt(smc_ctx *c, const char *cmd, const int32_t *ids, size_t n, bool all_logits,
                      int32_t *seq)
{
    if ((int64_t)n > smc_ctx_n_ctx(c)) {
        cli_error("%s: the prompt has %zu tokens, more than the context size %d", cmd, n,
                  smc_ctx_n_ctx(c));
        return -1;
    }
    smc_error err = {{0}};
    *seq = smc_seq_new(c, &err);
    if (*seq < 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    smc_batch_entry *e = malloc(n * sizeof *e);
    if (!e) {
        cli_error("out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        e[i] = (smc_batch_entry){*seq, ids[i], all_logits || i + 1 == n};
    smc_batch b = {e, (int32_t)n};
    int rc = smc_decode(c, &b, &err);
    free(e);
    if (rc < 0)
        cli_error("%s", err.msg);
    return rc < 0 ? -1 : 0;
}
