/* gguf_parse.c — parsing and validating a GGUF v2/v3 image held in memory:
 * header, metadata key/values, alignment, tensor infos and the data section.
 * Every count and length read from the file is checked against the bytes
 * that remain before anything is allocated, and every failure names the key
 * / tensor and the byte offset. Values: gguf_values.c; tensors:
 * gguf_tensors.c; bounds-checked reads: gguf_cursor.c. */
#include "gguf/gguf_cursor.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GGUF reader assumes a little-endian host"
#endif

#define HEADER_BYTES 24
/* Smallest encodings: a kv is key length + type + 1-byte value; a tensor
 * info is name length + n_dims + one ne + type + offset. */
#define MIN_KV_BYTES 13
#define MIN_TENSOR_BYTES 32

static const char *kv_name_of(const void *ctx, int64_t i)
{
    return ((const smc_gguf *)ctx)->kv[i].key;
}

static int parse_header(gguf_cursor *c, smc_gguf *g, uint64_t *n_tensors, uint64_t *n_kv)
{
    if (c->size < 4)
        return smc_fail(c->err, "file is %zu bytes: too small for a GGUF header (24 bytes)", c->size);
    if (memcmp(c->p, "GGUF", 4) != 0)
        return smc_fail(c->err, "not a GGUF file: magic bytes at byte 0 are %02x %02x %02x %02x, expected \"GGUF\"",
                        c->p[0], c->p[1], c->p[2], c->p[3]);
    if (c->size < HEADER_BYTES)
        return smc_fail(c->err, "file truncated: %zu bytes is too small for the 24-byte GGUF header", c->size);
    c->pos = 4;
    uint32_t version;
    gguf_read_u32(c, &version, "version");
    if (version != 2 && version != 3) {
        uint32_t swapped = __builtin_bswap32(version);
        if (swapped >= 1 && swapped <= 3)
            return smc_fail(c->err, "big-endian GGUF files are not supported (version field at byte 4)");
        if (version == 1)
            return smc_fail(c->err, "GGUF version 1 is not supported (only versions 2 and 3)");
        return smc_fail(c->err, "unknown GGUF version %u at byte 4 (only versions 2 and 3)", version);
    }
    g->version = version;
    gguf_read_u64(c, n_tensors, "tensor count");
    gguf_read_u64(c, n_kv, "metadata kv count");
    if (*n_kv > gguf_remaining(c) / MIN_KV_BYTES)
        return smc_fail(c->err, "metadata kv count %" PRIu64 " at byte 16 is impossible: that many keys need at least "
                        "%d bytes each, only %zu bytes remain (file truncated or count corrupt)",
                        *n_kv, MIN_KV_BYTES, gguf_remaining(c));
    if (*n_tensors > gguf_remaining(c) / MIN_TENSOR_BYTES)
        return smc_fail(c->err, "tensor count %" PRIu64 " at byte 8 is impossible: that many tensor infos need at least "
                        "%d bytes each, only %zu bytes remain (file truncated or count corrupt)",
                        *n_tensors, MIN_TENSOR_BYTES, gguf_remaining(c));
    return 0;
}

static int parse_kvs(gguf_cursor *c, smc_gguf *g, uint64_t n_kv)
{
    char shown[128];
    if (!(g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv)) || smc_gguf_index_init(&g->kv_index, (int64_t)n_kv))
        return smc_fail(c->err, "out of memory for %" PRIu64 " metadata keys", n_kv);
    for (uint64_t i = 0; i < n_kv; i++) {
        size_t key_at = c->pos;
        smc_str key;
        if (gguf_read_str(c, &key, SMC_GGUF_MAX_KEY, "key"))
            return smc_fail_context(c->err, "metadata kv #%" PRIu64, i);
        gguf_show(shown, sizeof shown, key.ptr, key.len);
        if (memchr(key.ptr, 0, key.len))
            return smc_fail(c->err, "metadata kv #%" PRIu64 ": key '%s' at byte %zu contains a NUL byte", i, shown, key_at);
        gguf_kv *kv = &g->kv[i];
        if (!(kv->key = malloc(key.len + 1)))
            return smc_fail(c->err, "out of memory for metadata key '%s'", shown);
        memcpy(kv->key, key.ptr, key.len);
        kv->key[key.len] = 0;
        g->n_kv = (int64_t)i + 1;
        int64_t dup = smc_gguf_index_insert(&g->kv_index, kv->key, (int64_t)i, kv_name_of, g);
        if (dup >= 0)
            return smc_fail(c->err, "duplicate metadata key '%s' (kv #%" PRId64 " and kv #%" PRIu64 ", byte %zu)",
                            shown, dup, i, key_at);
        size_t type_at = c->pos;
        uint32_t type;
        if (gguf_read_u32(c, &type, "value type") || gguf_parse_value(c, &kv->v, type, type_at, 0))
            return smc_fail_context(c->err, "metadata key '%s' (kv #%" PRIu64 ")", shown, i);
    }
    return 0;
}

static int read_alignment(smc_gguf *g, smc_error *err)
{
    g->alignment = 32;
    int64_t i = smc_gguf_find_kv(g, "general.alignment");
    if (i < 0)
        return 0;
    uint32_t type = g->kv[i].v.type;
    if (type == SMC_GGUF_BOOL || type == SMC_GGUF_STRING || type == SMC_GGUF_ARRAY || type == SMC_GGUF_F32 ||
        type == SMC_GGUF_F64)
        return smc_fail(err, "general.alignment has type %s, expected an unsigned integer (u32)",
                        smc_gguf_vtype_name(type));
    int64_t a = -1;
    if (smc_gguf_get_int(g, "general.alignment", &a) != 0)
        a = -1;   /* a u64 above INT64_MAX */
    if (a < 8 || a > (1 << 30) || (a & (a - 1)) != 0)
        return smc_fail(err, "general.alignment = %" PRId64 " is invalid: it must be a power of two, a multiple of 8 "
                        "and at most 2^30", a);
    g->alignment = (uint32_t)a;
    return 0;
}

int smc_gguf_parse(smc_gguf *g, smc_error *err)
{
    gguf_cursor c = {g->base, g->size, 0, err};
    uint64_t n_tensors, n_kv;
    if (parse_header(&c, g, &n_tensors, &n_kv) || parse_kvs(&c, g, n_kv) || read_alignment(g, err))
        return -1;
    if (n_tensors > gguf_remaining(&c) / MIN_TENSOR_BYTES)
        return smc_fail(err, "tensor count %" PRIu64 " is impossible: that many tensor infos need at least %d bytes "
                        "each, only %zu bytes remain after the metadata ends at byte %zu (file truncated or count corrupt)",
                        n_tensors, MIN_TENSOR_BYTES, gguf_remaining(&c), c.pos);
    if (!(g->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors)) ||
        smc_gguf_index_init(&g->tensor_index, (int64_t)n_tensors))
        return smc_fail(err, "out of memory for %" PRIu64 " tensors", n_tensors);
    for (uint64_t i = 0; i < n_tensors; i++)
        if (gguf_parse_tensor_info(&c, g, i))
            return -1;
    uint64_t a = g->alignment;
    g->data_offset = (c.pos + a - 1) / a * a;
    if (g->data_offset > g->size) {
        if (n_tensors > 0)
            return smc_fail(err, "file truncated: the data section should start at byte %" PRIu64
                            " (tensor infos end at byte %zu, aligned to %u) but the file is %zu bytes",
                            g->data_offset, c.pos, g->alignment, g->size);
        g->data_offset = g->size;   /* no tensors: the padding may be omitted */
    }
    return gguf_check_tensor_data(g, err);
}

void smc_gguf_free_parsed(smc_gguf *g)
{
    for (int64_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        gguf_free_value(&g->kv[i].v);
    }
    free(g->kv);
    for (int64_t i = 0; i < g->n_tensors; i++)
        free((char *)g->tensors[i].name);
    free(g->tensors);
    smc_gguf_index_free(&g->kv_index);
    smc_gguf_index_free(&g->tensor_index);
    g->kv = NULL;
    g->tensors = NULL;
    g->n_kv = g->n_tensors = 0;
}
