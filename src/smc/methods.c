/* methods.c — method names, their parsing, and the default configuration. */
#include "smcgen.h"

#include <string.h>

static const char *const method_names[] = {"plain", "lcd", "is", "smc", "rerank", "is-full",
                                           "smc-full"};

const char *smc_method_name(smc_method m)
{
    if ((int)m < 0 || (int)m > SMC_METHOD_SMC_FULL)
        return "?";
    return method_names[m];
}

int smc_method_parse(const char *name, smc_method *out)
{
    for (int i = 0; name && i <= SMC_METHOD_SMC_FULL; i++)
        if (strcmp(name, method_names[i]) == 0) {
            *out = (smc_method)i;
            return 0;
        }
    return -1;
}

void smc_config_default(smc_config *c)
{
    memset(c, 0, sizeof *c);
    c->method = SMC_METHOD_SMC_FULL;
    c->n_particles = 10;
    c->ess_threshold = 0.5;
    c->resample = SMC_RESAMPLE_STRATIFIED;
    c->max_tokens = 64;
    c->temperature = 1.0;
    c->seed = 0;
    c->proposal = SMC_PROPOSAL_MASKED;
    c->awrs_max_accepts = 2;
    c->lookahead = 16;
}
