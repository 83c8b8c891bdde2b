/* tok_test_util.h — helpers shared by the tokenizer tests: loading a
 * vocabulary from a GGUF path. Header-only (static functions). */
#ifndef SMC_TOK_TEST_UTIL_H
#define SMC_TOK_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "smcgen.h"

/* Opens a GGUF, loads its vocabulary and closes the file. NULL on failure
 * (message printed). */
static inline smc_vocab *load_vocab(const char *path)
{
    smc_error err = {{0}};
    smc_gguf *g = NULL;
    if (smc_gguf_open(path, &g, &err) != 0) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return NULL;
    }
    smc_vocab *v = NULL;
    if (smc_vocab_load(g, &v, &err) != 0)
        fprintf(stderr, "%s: %s\n", path, err.msg);
    smc_gguf_close(g);
    return v;
}

#endif
