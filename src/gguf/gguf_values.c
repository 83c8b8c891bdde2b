/* gguf_values.c — parsing metadata values: scalars, strings, arrays of any
 * element type and arrays of arrays. Counts are checked against the bytes
 * that remain before anything is allocated; numeric arrays are copied to
 * aligned memory, strings stay views into the image. */
#include "gguf/gguf_cursor.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Smallest encodings of a string and of an array (type + count). */
#define MIN_STRING_BYTES 8
#define MIN_ARRAY_BYTES 12

void gguf_free_value(gguf_value *v)
{
    if (v->type != SMC_GGUF_ARRAY)
        return;
    if (v->arr_type == SMC_GGUF_STRING) {
        free(v->u.strs);
    } else if (v->arr_type == SMC_GGUF_ARRAY) {
        if (v->u.sub)
            for (uint64_t j = 0; j < v->n; j++)
                gguf_free_value(&v->u.sub[j]);
        free(v->u.sub);
    } else {
        free(v->u.num);
    }
    v->type = SMC_GGUF_U8;
    v->u.num = NULL;
}

static int check_bools(gguf_cursor *c, const uint8_t *b, uint64_t n, size_t at)
{
    for (uint64_t j = 0; j < n; j++)
        if (b[j] > 1)
            return smc_fail(c->err, "bool value %u at byte %zu is not 0 or 1", b[j], at + (size_t)j);
    return 0;
}

/* The body of an array: u32 element type, u64 count, elements. */
static int parse_array(gguf_cursor *c, gguf_value *v, int depth)
{
    size_t at = c->pos;
    uint32_t et;
    uint64_t n;
    if (gguf_read_u32(c, &et, "array element type") || gguf_read_u64(c, &n, "array length"))
        return -1;
    if (!smc_gguf_vtype_name(et))
        return smc_fail(c->err, "unknown array element type %u at byte %zu", et, at);
    v->type = SMC_GGUF_ARRAY;
    v->arr_type = et;
    v->n = 0;
    v->u.num = NULL;
    size_t esz = smc_gguf_vtype_size(et);
    size_t min = esz ? esz : et == SMC_GGUF_STRING ? MIN_STRING_BYTES : MIN_ARRAY_BYTES;
    if (n > gguf_remaining(c) / min)
        return smc_fail(c->err, "file truncated: array of %" PRIu64 " %s values at byte %zu needs at least %" PRIu64
                        " bytes, only %zu remain (file is %zu bytes)",
                        n, smc_gguf_vtype_name(et), at, n > UINT64_MAX / min ? UINT64_MAX : n * min,
                        gguf_remaining(c), c->size);
    if (n == 0)
        return 0;
    if (esz) {
        size_t bytes = (size_t)n * esz;
        if (et == SMC_GGUF_BOOL && check_bools(c, c->p + c->pos, n, c->pos))
            return -1;
        if (!(v->u.num = malloc(bytes)))
            return smc_fail(c->err, "out of memory for an array of %" PRIu64 " %s", n, smc_gguf_vtype_name(et));
        memcpy(v->u.num, c->p + c->pos, bytes);
        v->n = n;
        c->pos += bytes;
        return 0;
    }
    if (et == SMC_GGUF_STRING) {
        if (!(v->u.strs = malloc((size_t)n * sizeof *v->u.strs)))
            return smc_fail(c->err, "out of memory for an array of %" PRIu64 " strings", n);
        v->n = n;
        for (uint64_t j = 0; j < n; j++) {
            if (gguf_read_str(c, &v->u.strs[j], UINT64_MAX, "string"))
                return smc_fail_context(c->err, "element %" PRIu64 " of the string array at byte %zu", j, at);
        }
        return 0;
    }
    /* Array of arrays. */
    if (depth + 1 >= SMC_GGUF_MAX_NEST)
        return smc_fail(c->err, "arrays nested more than %d deep at byte %zu", SMC_GGUF_MAX_NEST, at);
    if (!(v->u.sub = calloc((size_t)n, sizeof *v->u.sub)))
        return smc_fail(c->err, "out of memory for an array of %" PRIu64 " arrays", n);
    v->n = n;
    for (uint64_t j = 0; j < n; j++) {
        if (gguf_parse_value(c, &v->u.sub[j], SMC_GGUF_ARRAY, at, depth + 1))
            return smc_fail_context(c->err, "element %" PRIu64 " of the array at byte %zu", j, at);
    }
    return 0;
}

int gguf_parse_value(gguf_cursor *c, gguf_value *v, uint32_t type, size_t type_at, int depth)
{
    v->type = SMC_GGUF_U8;   /* nothing owned until filled */
    v->arr_type = type;
    v->n = 1;
    v->u.scalar = 0;
    if (!smc_gguf_vtype_name(type))
        return smc_fail(c->err, "unknown value type %u at byte %zu", type, type_at);
    if (type == SMC_GGUF_ARRAY)
        return parse_array(c, v, depth);
    v->type = type;
    if (type == SMC_GGUF_STRING)
        return gguf_read_str(c, &v->u.str, UINT64_MAX, "string");
    size_t esz = smc_gguf_vtype_size(type);
    if (gguf_need(c, esz, smc_gguf_vtype_name(type)))
        return -1;
    if (type == SMC_GGUF_BOOL && check_bools(c, c->p + c->pos, 1, c->pos))
        return -1;
    memcpy(&v->u.scalar, c->p + c->pos, esz);
    c->pos += esz;
    return 0;
}
