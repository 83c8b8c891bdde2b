/* gguf_cursor.h — the parser's internal pieces: bounds-checked little-endian
 * reads from a GGUF image (each failure is a "file truncated" message naming
 * the field and byte offset), name rendering for messages, and the value and
 * tensor-info parsers shared by gguf_parse.c. */
#ifndef SMC_GGUF_CURSOR_H
#define SMC_GGUF_CURSOR_H

#include "gguf/gguf_internal.h"

typedef struct gguf_cursor {
    const uint8_t *p;
    size_t size;
    size_t pos;
    smc_error *err;
} gguf_cursor;

static inline size_t gguf_remaining(const gguf_cursor *c) { return c->size - c->pos; }

/* 0 when n more bytes are available, else fills c->err and returns -1. */
int gguf_need(gguf_cursor *c, size_t n, const char *what);
int gguf_read_u32(gguf_cursor *c, uint32_t *out, const char *what);
int gguf_read_u64(gguf_cursor *c, uint64_t *out, const char *what);
/* A GGUF string (u64 length, bytes) as a view into the image. */
int gguf_read_str(gguf_cursor *c, smc_str *out, uint64_t max_len, const char *what);
/* Printable rendering of a name for messages: escapes, cut at ~80 bytes. */
const char *gguf_show(char *buf, size_t cap, const char *s, size_t len);

/* Metadata values (gguf_values.c): parse one value of `type` (read at byte
 * type_at), and release what a parsed value owns. */
int gguf_parse_value(gguf_cursor *c, gguf_value *v, uint32_t type, size_t type_at, int depth);
void gguf_free_value(gguf_value *v);

/* Tensors (gguf_tensors.c): tensor info i, then bounds / alignment / overlap
 * of all tensors once the data offset is known. */
int gguf_parse_tensor_info(gguf_cursor *c, smc_gguf *g, uint64_t i);
int gguf_check_tensor_data(smc_gguf *g, smc_error *err);

#endif
