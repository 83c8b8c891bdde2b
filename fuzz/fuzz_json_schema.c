/* fuzz_json_schema.c — libFuzzer target for the JSON Schema converter and the
 * compiler behind smc_grammar_from_json_schema: any input either fails with a
 * message or compiles. (Adversarial schemas can convert to GBNF the compiler
 * then refuses, e.g. nesting too deep or no finite instance: a message, which
 * is all that is asked of bad input.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *gbnf = NULL;
    smc_error err;
    err.msg[0] = 0;
    if (smc_json_schema_to_gbnf((const char *)data, size, &gbnf, &err) != 0) {
        if (!err.msg[0] || gbnf)
            abort();   /* a failure must say why and return nothing */
        return 0;
    }
    smc_grammar *g = NULL;
    if (strlen(gbnf) < 200000) {
        err.msg[0] = 0;
        if (smc_grammar_from_json_schema((const char *)data, size, &g, &err) != 0) {
            if (!err.msg[0] || g)
                abort();
        } else {
            smc_grammar_classify(g, "{}", 2);
            smc_grammar_free(g);
        }
    }
    free(gbnf);
    return 0;
}
