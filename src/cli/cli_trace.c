/* cli_trace.c — the commands' --trace FILE: a trace with the run's prompt,
 * model and command line as its info, written next to the result. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* argv joined by spaces, arguments with spaces or quotes in '…'. */
static char *command_line(int argc, char **argv)
{
    size_t cap = 16;
    for (int i = 0; i < argc; i++)
        cap += 4 * strlen(argv[i]) + 3;
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    p += sprintf(p, "smcgen");
    for (int i = 0; i < argc; i++) {
        bool quote = !argv[i][0] || strpbrk(argv[i], " \t\n'\"\\$`*?;&|<>()") != NULL;
        *p++ = ' ';
        if (quote)
            *p++ = '\'';
        for (const char *c = argv[i]; *c; c++) {
            if (quote && *c == '\'')
                p += sprintf(p, "'\\''");
            else
                *p++ = *c;
        }
        if (quote)
            *p++ = '\'';
    }
    *p = 0;
    return s;
}

int cli_trace_start(smc_config *cfg, const char *prompt, const char *model, int argc, char **argv)
{
    smc_error err = {{0}};
    smc_trace *t = smc_trace_new();
    char *cmd = command_line(argc, argv);
    if (!t || !cmd || smc_trace_set_info(t, "prompt", prompt, &err) ||
        smc_trace_set_info(t, "model", model ? model : "bundled default", &err) ||
        smc_trace_set_info(t, "command", cmd, &err)) {
        cli_error("cannot start the trace: %s", err.msg[0] ? err.msg : "out of memory");
        smc_trace_free(t);
        free(cmd);
        return -1;
    }
    free(cmd);
    cfg->trace = t;
    return 0;
}

int cli_trace_finish(smc_config *cfg, const smc_result *res, const char *error, const char *path)
{
    smc_error err = {{0}};
    int rc = (!res && error && smc_trace_set_info(cfg->trace, "error", error, &err)) ||
                     smc_trace_write(cfg->trace, res, path, &err)
                 ? -1
                 : 0;
    if (rc)
        cli_error("%s", err.msg);
    else
        fprintf(stderr, "trace (%d steps) written to %s\n", smc_trace_n_steps(cfg->trace), path);
    smc_trace_free(cfg->trace);
    cfg->trace = NULL;
    return rc;
}
