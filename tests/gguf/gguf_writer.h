/* gguf_writer.h — a tiny GGUF writer for the gguf tests: builds files byte by
 * byte in memory (valid ones and deliberately malformed ones). Header-only so
 * each test binary can include it. */
#ifndef SMC_TEST_GGUF_WRITER_H
#define SMC_TEST_GGUF_WRITER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct gbuf {
    uint8_t *p;
    size_t n, cap;
} gbuf;

static inline void gb_bytes(gbuf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
}

static inline void gb_u8(gbuf *b, uint8_t v) { gb_bytes(b, &v, 1); }
static inline void gb_u16(gbuf *b, uint16_t v) { gb_bytes(b, &v, 2); }
static inline void gb_u32(gbuf *b, uint32_t v) { gb_bytes(b, &v, 4); }
static inline void gb_u64(gbuf *b, uint64_t v) { gb_bytes(b, &v, 8); }
static inline void gb_f32(gbuf *b, float v) { gb_bytes(b, &v, 4); }
static inline void gb_f64(gbuf *b, double v) { gb_bytes(b, &v, 8); }

/* A GGUF string: u64 length + bytes. */
static inline void gb_strn(gbuf *b, const char *s, size_t n)
{
    gb_u64(b, n);
    gb_bytes(b, s, n);
}
static inline void gb_str(gbuf *b, const char *s) { gb_strn(b, s, strlen(s)); }

static inline void gb_header(gbuf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    gb_bytes(b, "GGUF", 4);
    gb_u32(b, version);
    gb_u64(b, n_tensors);
    gb_u64(b, n_kv);
}

/* Key and value type of one metadata pair; the caller writes the value. */
static inline void gb_key(gbuf *b, const char *key, uint32_t type)
{
    gb_str(b, key);
    gb_u32(b, type);
}

static inline void gb_kv_u32(gbuf *b, const char *key, uint32_t v) { gb_key(b, key, 4); gb_u32(b, v); }
static inline void gb_kv_str(gbuf *b, const char *key, const char *v) { gb_key(b, key, 8); gb_str(b, v); }

/* Array header after the key: element type and count. */
static inline void gb_arr(gbuf *b, uint32_t elem_type, uint64_t n)
{
    gb_u32(b, elem_type);
    gb_u64(b, n);
}

static inline void gb_tensor(gbuf *b, const char *name, uint32_t n_dims, const uint64_t *ne,
                      uint32_t type, uint64_t offset)
{
    gb_str(b, name);
    gb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++)
        gb_u64(b, ne[d]);
    gb_u32(b, type);
    gb_u64(b, offset);
}

/* Zero bytes up to the next multiple of align. */
static inline void gb_pad(gbuf *b, size_t align)
{
    while (b->n % align)
        gb_u8(b, 0);
}

/* Appends n bytes of a recognisable pattern (byte k = seed + k). */
static inline void gb_fill(gbuf *b, size_t n, uint8_t seed)
{
    for (size_t k = 0; k < n; k++)
        gb_u8(b, (uint8_t)(seed + k));
}

static inline void gb_free(gbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

#endif
