/* tok_test_util.h — helpers shared by the tokenizer tests: reading files,
 * loading a vocabulary from a GGUF path. Header-only (static functions). */
#ifndef SMC_TOK_TEST_UTIL_H
#define SMC_TOK_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "smcgen.h"

/* Reads a whole file (NUL-terminated); NULL when unreadable. */
static inline char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *b = realloc(buf, 2 * cap + 1);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

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
