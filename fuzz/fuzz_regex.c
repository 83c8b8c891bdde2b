/* fuzz_regex.c — libFuzzer target for the regex parser (body in fuzz_grammar.h). */
#include "fuzz_grammar.h"

static int compile(const char *t, size_t n, smc_grammar **g, smc_error *e)
{
    return smc_grammar_from_regex(t, n, g, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_grammar_input(compile, data, size);
}
