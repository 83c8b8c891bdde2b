/* fuzz_gguf.c — libFuzzer target for the GGUF reader: opens the input as a
 * buffer, then walks every metadata value and tensor through the public
 * accessors (touching the first and last byte of each tensor's data). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"

static volatile uint64_t sink;

static void touch_str(smc_str s)
{
    if (s.len)
        sink += (unsigned char)s.ptr[0] + (unsigned char)s.ptr[s.len - 1];
}

/* Any value through the view API, arrays of arrays included. */
static void walk_value(const smc_gguf_value *v, int depth)
{
    if (depth > 16)
        abort();   /* deeper than the reader allows */
    uint64_t n = smc_gguf_value_len(v);
    sink += (uint64_t)smc_gguf_value_type(v) + (uint64_t)smc_gguf_value_arr_type(v);
    (void)smc_gguf_value_data(v);
    for (uint64_t j = 0; j <= n && j < 40; j++) {
        touch_str(smc_gguf_value_str(v, j));
        double x = smc_gguf_value_num(v, j);
        sink += x == x;
        const smc_gguf_value *e = smc_gguf_value_at(v, j);
        if (e)
            walk_value(e, depth + 1);
    }
}

static void walk(const smc_gguf *g)
{
    sink += smc_gguf_version(g) + smc_gguf_alignment(g) + smc_gguf_data_offset(g) + smc_gguf_file_size(g);
    for (int64_t i = -1; i <= smc_gguf_n_kv(g); i++) {
        const char *key = smc_gguf_kv_key(g, i);
        if (key) {
            sink += strlen(key);
            sink += (uint64_t)(smc_gguf_find_kv(g, key) == i);
            int64_t iv;
            double dv;
            bool bv;
            smc_str sv;
            sink += (uint64_t)(smc_gguf_get_int(g, key, &iv) + smc_gguf_get_float(g, key, &dv) +
                               smc_gguf_get_bool(g, key, &bv) + smc_gguf_get_str(g, key, &sv));
        }
        sink += (uint64_t)smc_gguf_kv_type(g, i) + (uint64_t)smc_gguf_kv_arr_type(g, i);
        const char *name = smc_gguf_vtype_name((uint32_t)smc_gguf_kv_arr_type(g, i));
        sink += name ? (uint64_t)name[0] : 0;
        touch_str(smc_gguf_kv_str(g, i));
        walk_value(smc_gguf_kv_value(g, i), 0);
        uint64_t n = smc_gguf_kv_arr_len(g, i);
        const unsigned char *data = smc_gguf_kv_data(g, i);
        size_t esz = 0;
        switch (smc_gguf_kv_arr_type(g, i)) {
        case SMC_GGUF_U8: case SMC_GGUF_I8: case SMC_GGUF_BOOL: esz = 1; break;
        case SMC_GGUF_U16: case SMC_GGUF_I16: esz = 2; break;
        case SMC_GGUF_U32: case SMC_GGUF_I32: case SMC_GGUF_F32: esz = 4; break;
        case SMC_GGUF_U64: case SMC_GGUF_I64: case SMC_GGUF_F64: esz = 8; break;
        default: break;
        }
        if (data && n && esz)
            sink += data[0] + data[n * esz - 1];
        /* Every element of short arrays, and the ends of long ones. */
        for (uint64_t j = 0; j < n + 1; j++) {
            if (j == 64 && n > 128)
                j = n - 64;
            touch_str(smc_gguf_kv_arr_str(g, i, j));
            double v = smc_gguf_kv_arr_num(g, i, j);
            sink += v == v;
        }
    }
    for (int64_t i = -1; i <= smc_gguf_n_tensors(g); i++) {
        const smc_gguf_tensor *t = smc_gguf_tensor_at(g, i);
        if (!t)
            continue;
        if (smc_gguf_find_tensor(g, t->name) != t)
            abort();
        if (t->n_dims < 1 || t->n_dims > 4 || !smc_type_name(t->type) || smc_type_block_size(t->type) <= 0)
            abort();
        if (t->nbytes) {
            const unsigned char *d = t->data;
            sink += d[0] + d[t->nbytes - 1];
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smc_gguf *g = NULL;
    smc_error err;
    if (smc_gguf_open_buffer(data, size, &g, &err) == 0) {
        walk(g);
        smc_gguf_close(g);
    } else if (!err.msg[0] || g) {
        abort();   /* a failure must say why and return no handle */
    }
    return 0;
}
