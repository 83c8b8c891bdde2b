/* fuzz_grammar.h — the body shared by the grammar parsers' libFuzzer targets:
 * any input either fails with a message or compiles; a compiled grammar is
 * then exercised (classify slices of the input, advance a matcher, clone it,
 * compute a token mask on a small vocabulary) to reach the recognizer with
 * arbitrary grammars. */
#ifndef SMC_FUZZ_GRAMMAR_H
#define SMC_FUZZ_GRAMMAR_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"

static smc_token_index *vocab_index(void)
{
    static smc_token_index *ix;
    if (!ix) {
        static const char *toks[] = {"a", "b", "ab", "{", "}", "\"", " ", "1", "12", "\xc3", "\xa9", "\xc3\xa9",
                                     "x", "-", "\n", "(", ")", "[", "]", ",", ":", "", "aaaa"};
        size_t n = sizeof toks / sizeof *toks, lens[32];
        for (size_t i = 0; i < n; i++)
            lens[i] = strlen(toks[i]);
        smc_error err;
        if (smc_token_index_from_arrays((int32_t)n, toks, lens, (int32_t)n - 2, &ix, &err) != 0)
            abort();
    }
    return ix;
}

/* Compiles data with `compile` and, when it compiles, exercises the grammar.
 * A failure must say why and return nothing. */
typedef int (*fuzz_compile_fn)(const char *text, size_t len, smc_grammar **out, smc_error *err);

static int fuzz_grammar_input(fuzz_compile_fn compile, const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    smc_grammar *g = NULL;
    smc_error err;
    err.msg[0] = 0;
    if (compile((const char *)data, size, &g, &err) != 0) {
        if (!err.msg[0] || g)
            abort();   /* a failure must say why and return nothing */
        return 0;
    }
    for (size_t k = 0; k < size && k < 64; k += 7)
        smc_grammar_classify(g, (const char *)data + k, size - k < 16 ? size - k : 16);
    smc_matcher *m = smc_matcher_new(g);
    smc_matcher_set_limit(m, 200000);
    smc_token_index *ix = vocab_index();
    uint32_t mask[1];
    for (size_t k = 0; k < size && k < 32; k++) {
        smc_matcher_token_mask(m, ix, mask, &err);
        smc_matcher *c = smc_matcher_clone(m);
        if (smc_matcher_advance_bytes(c, (const char *)data + k, 1) == 0) {
            smc_matcher_free(m);
            m = c;
        } else {
            smc_matcher_free(c);
        }
    }
    (void)smc_matcher_is_accepting(m);
    (void)smc_matcher_can_continue(m);
    smc_matcher_free(m);
    smc_grammar_free(g);
    return 0;
}

#endif
