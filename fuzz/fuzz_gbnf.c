/* fuzz_gbnf.c — libFuzzer target for the GBNF parser (body in fuzz_grammar.h). */
#include "fuzz_grammar.h"

static int compile(const char *t, size_t n, smc_grammar **g, smc_error *e)
{
    return smc_grammar_from_gbnf(t, n, NULL, g, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_grammar_input(compile, data, size);
}
