/* gguf_index.c — a small open-addressing hash from names (metadata keys,
 * tensor names) to their indices, for O(1) lookups and duplicate checks. */
#include "gguf/gguf_internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

int smc_gguf_index_init(gguf_index *ix, int64_t n)
{
    size_t cap = 16;
    while (cap < (size_t)n * 2)
        cap *= 2;
    ix->slots = calloc(cap, sizeof *ix->slots);
    ix->cap = ix->slots ? cap : 0;
    return ix->slots ? 0 : -1;
}

int64_t smc_gguf_index_insert(gguf_index *ix, const char *name, int64_t idx,
                              const char *(*name_of)(const void *ctx, int64_t i), const void *ctx)
{
    size_t mask = ix->cap - 1;
    for (size_t p = hash_name(name) & mask;; p = (p + 1) & mask) {
        int64_t s = ix->slots[p];
        if (s == 0) {
            ix->slots[p] = idx + 1;
            return -1;
        }
        if (strcmp(name_of(ctx, s - 1), name) == 0)
            return s - 1;
    }
}

int64_t smc_gguf_index_find(const gguf_index *ix, const char *name,
                            const char *(*name_of)(const void *ctx, int64_t i), const void *ctx)
{
    if (!ix->cap || !name)
        return -1;
    size_t mask = ix->cap - 1;
    for (size_t p = hash_name(name) & mask;; p = (p + 1) & mask) {
        int64_t s = ix->slots[p];
        if (s == 0)
            return -1;
        if (strcmp(name_of(ctx, s - 1), name) == 0)
            return s - 1;
    }
}

void smc_gguf_index_free(gguf_index *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->cap = 0;
}
