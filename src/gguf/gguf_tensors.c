/* gguf_tensors.c — tensor infos (name, dims, type, offset) and the layout
 * of their data: sizes with overflow checks, alignment, bounds, duplicates
 * and overlaps. */
#include "gguf/gguf_cursor.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *tensor_name_of(const void *ctx, int64_t i)
{
    return ((const smc_gguf *)ctx)->tensors[i].name;
}

int gguf_parse_tensor_info(gguf_cursor *c, smc_gguf *g, uint64_t i)
{
    char shown[128];
    smc_gguf_tensor *t = &g->tensors[i];
    size_t name_at = c->pos;
    smc_str name;
    if (gguf_read_str(c, &name, UINT64_MAX, "tensor name"))
        return smc_fail_context(c->err, "tensor #%" PRIu64, i);
    gguf_show(shown, sizeof shown, name.ptr, name.len);
    if (name.len > SMC_GGUF_MAX_NAME)
        return smc_fail(c->err, "tensor #%" PRIu64 ": name '%s' at byte %zu is %zu bytes long, more than the limit of %d",
                        i, shown, name_at, name.len, SMC_GGUF_MAX_NAME);
    if (memchr(name.ptr, 0, name.len))
        return smc_fail(c->err, "tensor #%" PRIu64 ": name '%s' at byte %zu contains a NUL byte", i, shown, name_at);
    char *copy = malloc(name.len + 1);
    if (!copy)
        return smc_fail(c->err, "out of memory for tensor name '%s'", shown);
    memcpy(copy, name.ptr, name.len);
    copy[name.len] = 0;
    t->name = copy;
    g->n_tensors = (int64_t)i + 1;
    int64_t dup = smc_gguf_index_insert(&g->tensor_index, t->name, (int64_t)i, tensor_name_of, g);
    if (dup >= 0)
        return smc_fail(c->err, "duplicate tensor name '%s' (tensors #%" PRId64 " and #%" PRIu64 ", byte %zu)",
                        shown, dup, i, name_at);

    size_t at = c->pos;
    if (gguf_read_u32(c, &t->n_dims, "n_dims"))
        return smc_fail_context(c->err, "tensor '%s'", shown);
    if (t->n_dims < 1 || t->n_dims > 4)
        return smc_fail(c->err, "tensor '%s': n_dims = %u at byte %zu is not in 1..4", shown, t->n_dims, at);
    for (int d = 0; d < 4; d++)
        t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        at = c->pos;
        uint64_t ne;
        if (gguf_read_u64(c, &ne, "dimension"))
            return smc_fail_context(c->err, "tensor '%s'", shown);
        if (ne > INT64_MAX)
            return smc_fail(c->err, "tensor '%s': ne[%u] = %" PRIu64 " at byte %zu is too large", shown, d, ne, at);
        t->ne[d] = (int64_t)ne;
    }
    at = c->pos;
    uint32_t type;
    if (gguf_read_u32(c, &type, "tensor type") || gguf_read_u64(c, &t->offset, "tensor offset"))
        return smc_fail_context(c->err, "tensor '%s'", shown);
    t->type = type > INT32_MAX ? -1 : (int)type;
    if (!smc_type_name(t->type))
        return smc_fail(c->err, "tensor '%s': unknown tensor type %u at byte %zu", shown, type, at);
    int64_t bs = smc_type_block_size(t->type);
    if (bs == 0)
        return smc_fail(c->err, "tensor '%s': tensor type %s (%u) at byte %zu is not supported",
                        shown, smc_type_name(t->type), type, at);
    if (t->ne[0] % bs != 0)
        return smc_fail(c->err, "tensor '%s': ne[0] = %" PRId64 " is not a multiple of the %s block size %" PRId64,
                        shown, t->ne[0], smc_type_name(t->type), bs);
    uint64_t rows, elems, nbytes;
    if (__builtin_mul_overflow((uint64_t)t->ne[1], (uint64_t)t->ne[2], &rows) ||
        __builtin_mul_overflow(rows, (uint64_t)t->ne[3], &rows) ||
        __builtin_mul_overflow(rows, (uint64_t)t->ne[0], &elems) || elems > INT64_MAX ||
        __builtin_mul_overflow((uint64_t)(t->ne[0] / bs), (uint64_t)smc_type_block_bytes(t->type), &nbytes) ||
        __builtin_mul_overflow(nbytes, rows, &nbytes) || nbytes > INT64_MAX)
        return smc_fail(c->err, "tensor '%s': shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                        "] of type %s is too large: its size overflows 64-bit arithmetic", shown, t->ne[0], t->ne[1], t->ne[2], t->ne[3],
                        smc_type_name(t->type));
    t->nbytes = nbytes;
    return 0;
}

typedef struct extent {
    uint64_t start, end;
    int64_t idx;
} extent;

static int cmp_extent(const void *a, const void *b)
{
    const extent *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

int gguf_check_tensor_data(smc_gguf *g, smc_error *err)
{
    uint64_t data_size = g->size - g->data_offset;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        smc_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return smc_fail(err, "tensor '%s': offset %" PRIu64 " is not a multiple of the alignment %u",
                            t->name, t->offset, g->alignment);
        if (t->offset > data_size || t->nbytes > data_size - t->offset)
            return smc_fail(err, "file truncated: tensor '%s' (%" PRIu64 " bytes at data offset %" PRIu64
                            ", file byte %" PRIu64 ") runs past the end of the file (%zu bytes)",
                            t->name, t->nbytes, t->offset, g->data_offset + t->offset, g->size);
        t->data = g->base + g->data_offset + t->offset;
    }
    extent *ex = malloc((size_t)(g->n_tensors ? g->n_tensors : 1) * sizeof *ex);
    if (!ex)
        return smc_fail(err, "out of memory for %" PRId64 " tensors", g->n_tensors);
    size_t n = 0;
    for (int64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].nbytes)
            ex[n++] = (extent){g->tensors[i].offset, g->tensors[i].offset + g->tensors[i].nbytes, i};
    qsort(ex, n, sizeof *ex, cmp_extent);
    int rc = 0;
    size_t widest = 0;
    for (size_t k = 1; k < n && rc == 0; k++) {
        if (ex[k].start < ex[widest].end) {
            const smc_gguf_tensor *a = &g->tensors[ex[widest].idx], *b = &g->tensors[ex[k].idx];
            rc = smc_fail(err, "tensors '%s' and '%s' overlap: '%s' covers data bytes [%" PRIu64 ", %" PRIu64
                          ") and '%s' starts at %" PRIu64, a->name, b->name, a->name, ex[widest].start,
                          ex[widest].end, b->name, ex[k].start);
        }
        if (ex[k].end > ex[widest].end)
            widest = k;
    }
    free(ex);
    return rc;
}
