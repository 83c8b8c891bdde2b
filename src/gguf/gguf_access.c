/* gguf_access.c — read-only accessors of an opened GGUF: file facts,
 * metadata by index or key (scalars, strings, arrays), typed lookups and
 * tensors. Out-of-range indices give NULL / empty / -1, never a crash. */
#include "gguf/gguf_internal.h"

#include <math.h>
#include <string.h>

uint32_t smc_gguf_version(const smc_gguf *g) { return g->version; }
uint32_t smc_gguf_alignment(const smc_gguf *g) { return g->alignment; }
uint64_t smc_gguf_data_offset(const smc_gguf *g) { return g->data_offset; }
size_t smc_gguf_file_size(const smc_gguf *g) { return g->size; }
int64_t smc_gguf_n_kv(const smc_gguf *g) { return g->n_kv; }
int64_t smc_gguf_n_tensors(const smc_gguf *g) { return g->n_tensors; }

static const gguf_value *value_at(const smc_gguf *g, int64_t i)
{
    return (g && i >= 0 && i < g->n_kv) ? &g->kv[i].v : NULL;
}

static const char *kv_name_of(const void *ctx, int64_t i)
{
    return ((const smc_gguf *)ctx)->kv[i].key;
}

static const char *tensor_name_of(const void *ctx, int64_t i)
{
    return ((const smc_gguf *)ctx)->tensors[i].name;
}

int64_t smc_gguf_find_kv(const smc_gguf *g, const char *key)
{
    return smc_gguf_index_find(&g->kv_index, key, kv_name_of, g);
}

const char *smc_gguf_kv_key(const smc_gguf *g, int64_t i)
{
    return value_at(g, i) ? g->kv[i].key : NULL;
}

/* ---- value views ---- */

const smc_gguf_value *smc_gguf_kv_value(const smc_gguf *g, int64_t i)
{
    return value_at(g, i);
}

const smc_gguf_value *smc_gguf_value_at(const smc_gguf_value *v, uint64_t j)
{
    if (!v || v->type != SMC_GGUF_ARRAY || v->arr_type != SMC_GGUF_ARRAY || j >= v->n)
        return NULL;
    return &v->u.sub[j];
}

smc_gguf_vtype smc_gguf_value_type(const smc_gguf_value *v)
{
    return v ? (smc_gguf_vtype)v->type : (smc_gguf_vtype)-1;
}

smc_gguf_vtype smc_gguf_value_arr_type(const smc_gguf_value *v)
{
    return v ? (smc_gguf_vtype)v->arr_type : (smc_gguf_vtype)-1;
}

uint64_t smc_gguf_value_len(const smc_gguf_value *v)
{
    return v ? v->n : 0;
}

const void *smc_gguf_value_data(const smc_gguf_value *v)
{
    if (!v || !smc_gguf_vtype_size(v->arr_type))
        return NULL;
    return v->type == SMC_GGUF_ARRAY ? v->u.num : &v->u.scalar;
}

smc_str smc_gguf_value_str(const smc_gguf_value *v, uint64_t j)
{
    if (v && v->type == SMC_GGUF_STRING && j == 0)
        return v->u.str;
    if (v && v->type == SMC_GGUF_ARRAY && v->arr_type == SMC_GGUF_STRING && j < v->n)
        return v->u.strs[j];
    return (smc_str){NULL, 0};
}

/* Element j of numeric data of type t as a double. */
static double num_at(const void *data, uint32_t t, uint64_t j)
{
    const unsigned char *p = (const unsigned char *)data + j * smc_gguf_vtype_size(t);
    switch (t) {
    case SMC_GGUF_U8: case SMC_GGUF_BOOL: return *p;
    case SMC_GGUF_I8: { int8_t x; memcpy(&x, p, 1); return x; }
    case SMC_GGUF_U16: { uint16_t x; memcpy(&x, p, 2); return x; }
    case SMC_GGUF_I16: { int16_t x; memcpy(&x, p, 2); return x; }
    case SMC_GGUF_U32: { uint32_t x; memcpy(&x, p, 4); return x; }
    case SMC_GGUF_I32: { int32_t x; memcpy(&x, p, 4); return x; }
    case SMC_GGUF_F32: { float x; memcpy(&x, p, 4); return x; }
    case SMC_GGUF_U64: { uint64_t x; memcpy(&x, p, 8); return (double)x; }
    case SMC_GGUF_I64: { int64_t x; memcpy(&x, p, 8); return (double)x; }
    case SMC_GGUF_F64: { double x; memcpy(&x, p, 8); return x; }
    default: return NAN;
    }
}

double smc_gguf_value_num(const smc_gguf_value *v, uint64_t j)
{
    const void *data = smc_gguf_value_data(v);
    if (!data || j >= v->n)
        return NAN;
    return num_at(data, v->arr_type, j);
}

/* ---- metadata by index ---- */

smc_gguf_vtype smc_gguf_kv_type(const smc_gguf *g, int64_t i) { return smc_gguf_value_type(value_at(g, i)); }
smc_gguf_vtype smc_gguf_kv_arr_type(const smc_gguf *g, int64_t i) { return smc_gguf_value_arr_type(value_at(g, i)); }
uint64_t smc_gguf_kv_arr_len(const smc_gguf *g, int64_t i) { return smc_gguf_value_len(value_at(g, i)); }
const void *smc_gguf_kv_data(const smc_gguf *g, int64_t i) { return smc_gguf_value_data(value_at(g, i)); }
double smc_gguf_kv_arr_num(const smc_gguf *g, int64_t i, uint64_t j) { return smc_gguf_value_num(value_at(g, i), j); }

smc_str smc_gguf_kv_str(const smc_gguf *g, int64_t i)
{
    const gguf_value *v = value_at(g, i);
    return v && v->type == SMC_GGUF_STRING ? v->u.str : (smc_str){NULL, 0};
}

smc_str smc_gguf_kv_arr_str(const smc_gguf *g, int64_t i, uint64_t j)
{
    const gguf_value *v = value_at(g, i);
    return v && v->type == SMC_GGUF_ARRAY ? smc_gguf_value_str(v, j) : (smc_str){NULL, 0};
}

/* ---- typed lookups by key ---- */

static bool is_int_type(uint32_t t)
{
    return t <= SMC_GGUF_I32 || t == SMC_GGUF_U64 || t == SMC_GGUF_I64;
}

/* The scalar value of `key`, or NULL when absent (*absent set). */
static const gguf_value *scalar(const smc_gguf *g, const char *key, int *rc)
{
    int64_t i = smc_gguf_find_kv(g, key);
    *rc = i < 0 ? 1 : 0;
    return i < 0 ? NULL : &g->kv[i].v;
}

int smc_gguf_get_int(const smc_gguf *g, const char *key, int64_t *out)
{
    int rc;
    const gguf_value *v = scalar(g, key, &rc);
    if (!v)
        return rc;
    if (v->type == SMC_GGUF_BOOL) {
        *out = (int64_t)(v->u.scalar & 1);
        return 0;
    }
    if (!is_int_type(v->type))
        return -1;
    if (v->type == SMC_GGUF_U64) {
        if (v->u.scalar > INT64_MAX)
            return -1;
        *out = (int64_t)v->u.scalar;
        return 0;
    }
    if (v->type == SMC_GGUF_I64) {
        memcpy(out, &v->u.scalar, 8);
        return 0;
    }
    *out = (int64_t)num_at(&v->u.scalar, v->type, 0);   /* exact for <= 32-bit ints */
    return 0;
}

int smc_gguf_get_float(const smc_gguf *g, const char *key, double *out)
{
    int rc;
    const gguf_value *v = scalar(g, key, &rc);
    if (!v)
        return rc;
    if (!is_int_type(v->type) && v->type != SMC_GGUF_F32 && v->type != SMC_GGUF_F64)
        return -1;
    *out = num_at(&v->u.scalar, v->type, 0);
    return 0;
}

int smc_gguf_get_bool(const smc_gguf *g, const char *key, bool *out)
{
    int rc;
    const gguf_value *v = scalar(g, key, &rc);
    if (!v)
        return rc;
    if (v->type == SMC_GGUF_BOOL) {
        *out = v->u.scalar & 1;
        return 0;
    }
    if (is_int_type(v->type) && (v->u.scalar == 0 || v->u.scalar == 1)) {
        *out = v->u.scalar == 1;
        return 0;
    }
    return -1;
}

int smc_gguf_get_str(const smc_gguf *g, const char *key, smc_str *out)
{
    int rc;
    const gguf_value *v = scalar(g, key, &rc);
    if (!v)
        return rc;
    if (v->type != SMC_GGUF_STRING)
        return -1;
    *out = v->u.str;
    return 0;
}

const smc_gguf_tensor *smc_gguf_tensor_at(const smc_gguf *g, int64_t i)
{
    return (g && i >= 0 && i < g->n_tensors) ? &g->tensors[i] : NULL;
}

const smc_gguf_tensor *smc_gguf_find_tensor(const smc_gguf *g, const char *name)
{
    int64_t i = smc_gguf_index_find(&g->tensor_index, name, tensor_name_of, g);
    return i < 0 ? NULL : &g->tensors[i];
}
