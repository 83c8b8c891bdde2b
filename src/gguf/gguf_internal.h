/* gguf_internal.h — the in-memory form of an opened GGUF file, shared by the
 * parser (gguf_parse.c), the lookup index (gguf_index.c), the accessors
 * (gguf_access.c) and open/close (gguf_open.c). */
#ifndef SMC_GGUF_INTERNAL_H
#define SMC_GGUF_INTERNAL_H

#include "smcgen.h"

/* Deepest nesting of arrays inside arrays that the parser accepts. */
#define SMC_GGUF_MAX_NEST 8
/* Longest key (GGUF spec) and longest tensor name (ggml's GGML_MAX_NAME - 1). */
#define SMC_GGUF_MAX_KEY 65535
#define SMC_GGUF_MAX_NAME 63

/* One metadata value: a scalar, a string, or an array (possibly nested). */
typedef struct smc_gguf_value gguf_value;
struct smc_gguf_value {
    uint32_t type;       /* smc_gguf_vtype */
    uint32_t arr_type;   /* element type for arrays; == type for scalars */
    uint64_t n;          /* element count; 1 for scalars */
    union {
        uint64_t scalar;          /* numeric/bool scalar bits (little-endian copy) */
        void *num;                /* numeric/bool array: aligned copy, n elements */
        smc_str str;              /* string: view into the file */
        smc_str *strs;            /* string array: n views into the file */
        struct smc_gguf_value *sub;   /* array of arrays: n values */
    } u;
};

typedef struct gguf_kv {
    char *key;           /* NUL-terminated copy */
    gguf_value v;
} gguf_kv;

/* Open-addressing hash from NUL-terminated names to indices. */
typedef struct gguf_index {
    int64_t *slots;      /* index + 1, 0 = empty */
    size_t cap;          /* power of two */
} gguf_index;

struct smc_gguf {
    const uint8_t *base;
    size_t size;
    int mapped;          /* munmap base (map_size bytes) on close */
    size_t map_size;
    int in_memory;       /* read into anonymous memory (SMC_GGUF_READ), not mapped */
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    gguf_kv *kv;
    int64_t n_tensors;
    smc_gguf_tensor *tensors;
    gguf_index kv_index, tensor_index;
};

/* Parses g->base / g->size into the rest of *g. On failure the partially
 * filled *g is still safe to release with smc_gguf_free_parsed. */
int smc_gguf_parse(smc_gguf *g, smc_error *err);
void smc_gguf_free_parsed(smc_gguf *g);

/* Byte size of one element of a numeric/bool value type; 0 for others. */
size_t smc_gguf_vtype_size(uint32_t type);

/* Index: init with room for n names (-1 when out of memory); insert returns
 * the existing index when the name is already present, -1 when inserted. */
int smc_gguf_index_init(gguf_index *ix, int64_t n);
int64_t smc_gguf_index_insert(gguf_index *ix, const char *name, int64_t idx,
                              const char *(*name_of)(const void *ctx, int64_t i), const void *ctx);
int64_t smc_gguf_index_find(const gguf_index *ix, const char *name,
                            const char *(*name_of)(const void *ctx, int64_t i), const void *ctx);
void smc_gguf_index_free(gguf_index *ix);

#endif
