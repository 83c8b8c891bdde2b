/* strmap.h — an open-addressing hash map from byte strings to int32 values.
 * Keys are views: the caller keeps their bytes alive as long as the map. */
#ifndef SMC_TOKENIZER_STRMAP_H
#define SMC_TOKENIZER_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct strmap_slot {
    const char *key;   /* NULL when the slot is empty */
    uint32_t len;
    uint32_t hash;
    int32_t val;
} strmap_slot;

typedef struct strmap {
    strmap_slot *slots;
    size_t cap;        /* power of two */
    size_t n;
} strmap;

/* Prepares a map for about `expected` keys. Returns -1 when out of memory. */
int strmap_init(strmap *m, size_t expected);
void strmap_free(strmap *m);
/* Inserts or overwrites. Returns -1 when out of memory. */
int strmap_put(strmap *m, const char *key, size_t len, int32_t val);
/* The value, or -1 when absent. */
int32_t strmap_get(const strmap *m, const char *key, size_t len);

#endif
