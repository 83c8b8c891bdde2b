/* test_gguf_values.c — every metadata value type, string arrays, nested
 * arrays, typed lookups, versions 2 and 3, alignment and tensor placement,
 * checked on small GGUF files built in memory. */
#include "test.h"
#include "gguf_writer.h"
#include "smcgen.h"

#include <stdint.h>
#include <unistd.h>

/* One file with a key of every scalar type, arrays of each, strings. */
static void build_all_types(gbuf *b, uint32_t version)
{
    gb_header(b, version, 0, 22);
    gb_key(b, "t.u8", 0); gb_u8(b, 200);
    gb_key(b, "t.i8", 1); gb_u8(b, (uint8_t)-5);
    gb_key(b, "t.u16", 2); gb_u16(b, 60000);
    gb_key(b, "t.i16", 3); gb_u16(b, (uint16_t)-300);
    gb_key(b, "t.u32", 4); gb_u32(b, 4000000000u);
    gb_key(b, "t.i32", 5); gb_u32(b, (uint32_t)-2000000000);
    gb_key(b, "t.f32", 6); gb_f32(b, 1.5f);
    gb_key(b, "t.bool", 7); gb_u8(b, 1);
    gb_key(b, "t.str", 8); gb_str(b, "h\xc3\xa9llo");
    gb_key(b, "t.u64", 10); gb_u64(b, (1ull << 40) + 3);
    gb_key(b, "t.i64", 11); gb_u64(b, (uint64_t)-(int64_t)(1ll << 40));
    gb_key(b, "t.f64", 12); gb_f64(b, 3.25);
    gb_key(b, "a.i16", 9); gb_arr(b, 3, 3); gb_u16(b, 1); gb_u16(b, (uint16_t)-2); gb_u16(b, 3);
    gb_key(b, "a.f32", 9); gb_arr(b, 6, 2); gb_f32(b, 0.25f); gb_f32(b, -4.0f);
    gb_key(b, "a.bool", 9); gb_arr(b, 7, 3); gb_u8(b, 0); gb_u8(b, 1); gb_u8(b, 1);
    gb_key(b, "a.u64", 9); gb_arr(b, 10, 1); gb_u64(b, 123456789012ull);
    gb_key(b, "a.f64", 9); gb_arr(b, 12, 2); gb_f64(b, -0.5); gb_f64(b, 1e300);
    gb_key(b, "a.str", 9); gb_arr(b, 8, 3); gb_str(b, "a b"); gb_str(b, ""); gb_strn(b, "x\0y", 3);
    gb_key(b, "a.empty", 9); gb_arr(b, 5, 0);
    /* [[ "p", "q" ], [], [ [1, 2] ]]: arrays of arrays, nested twice. */
    gb_key(b, "a.nested", 9); gb_arr(b, 9, 3);
    gb_arr(b, 8, 2); gb_str(b, "p"); gb_str(b, "q");
    gb_arr(b, 4, 0);
    gb_arr(b, 9, 1); gb_arr(b, 4, 2); gb_u32(b, 1); gb_u32(b, 2);
    gb_key(b, "a.i8", 9); gb_arr(b, 1, 2); gb_u8(b, (uint8_t)-1); gb_u8(b, 127);
    gb_key(b, "t.str_empty", 8); gb_str(b, "");
}

static void check_all_types(uint32_t version)
{
    gbuf b = {0};
    build_all_types(&b, version);
    smc_gguf *g = NULL;
    smc_error err = {{0}};
    int rc = smc_gguf_open_buffer(b.p, b.n, &g, &err);
    CHECK_MSG(rc == 0, "v%u: %s", version, err.msg);
    if (rc) {
        gb_free(&b);
        return;
    }
    CHECK_EQ_INT(smc_gguf_version(g), version);
    CHECK_EQ_INT(smc_gguf_n_kv(g), 22);
    CHECK_EQ_INT(smc_gguf_n_tensors(g), 0);
    CHECK_EQ_INT(smc_gguf_alignment(g), 32);
    CHECK_EQ_INT(smc_gguf_file_size(g), b.n);

    int64_t v;
    double d;
    bool flag;
    smc_str s;
    CHECK(smc_gguf_get_int(g, "t.u8", &v) == 0 && v == 200);
    CHECK(smc_gguf_get_int(g, "t.i8", &v) == 0 && v == -5);
    CHECK(smc_gguf_get_int(g, "t.u16", &v) == 0 && v == 60000);
    CHECK(smc_gguf_get_int(g, "t.i16", &v) == 0 && v == -300);
    CHECK(smc_gguf_get_int(g, "t.u32", &v) == 0 && v == 4000000000ll);
    CHECK(smc_gguf_get_int(g, "t.i32", &v) == 0 && v == -2000000000ll);
    CHECK(smc_gguf_get_int(g, "t.u64", &v) == 0 && v == (1ll << 40) + 3);
    CHECK(smc_gguf_get_int(g, "t.i64", &v) == 0 && v == -(1ll << 40));
    CHECK(smc_gguf_get_int(g, "t.bool", &v) == 0 && v == 1);
    CHECK_EQ_INT(smc_gguf_get_int(g, "t.f32", &v), -1);
    CHECK_EQ_INT(smc_gguf_get_int(g, "t.str", &v), -1);
    CHECK_EQ_INT(smc_gguf_get_int(g, "a.i16", &v), -1);
    CHECK_EQ_INT(smc_gguf_get_int(g, "no.such.key", &v), 1);
    CHECK(smc_gguf_get_float(g, "t.f32", &d) == 0 && d == 1.5);
    CHECK(smc_gguf_get_float(g, "t.f64", &d) == 0 && d == 3.25);
    CHECK(smc_gguf_get_float(g, "t.i16", &d) == 0 && d == -300);
    CHECK_EQ_INT(smc_gguf_get_float(g, "t.str", &d), -1);
    CHECK(smc_gguf_get_bool(g, "t.bool", &flag) == 0 && flag);
    CHECK_EQ_INT(smc_gguf_get_bool(g, "t.f32", &flag), -1);
    CHECK_EQ_INT(smc_gguf_get_bool(g, "t.u8", &flag), -1);   /* 200 is not 0/1 */
    CHECK(smc_gguf_get_str(g, "t.str", &s) == 0 && s.len == 6 && memcmp(s.ptr, "h\xc3\xa9llo", 6) == 0);
    CHECK(smc_gguf_get_str(g, "t.str_empty", &s) == 0 && s.len == 0);
    CHECK_EQ_INT(smc_gguf_get_str(g, "t.u8", &s), -1);

    /* Index-based access. */
    int64_t i = smc_gguf_find_kv(g, "t.u16");
    CHECK_EQ_INT(i, 2);
    CHECK_STR(smc_gguf_kv_key(g, i), "t.u16");
    CHECK_EQ_INT(smc_gguf_kv_type(g, i), SMC_GGUF_U16);
    CHECK_EQ_INT(smc_gguf_kv_arr_len(g, i), 1);
    const uint16_t *u16 = smc_gguf_kv_data(g, i);
    CHECK(u16 && *u16 == 60000);
    CHECK_EQ_INT(smc_gguf_find_kv(g, "t.u1"), -1);
    CHECK_EQ_INT(smc_gguf_find_kv(g, ""), -1);
    CHECK(smc_gguf_kv_key(g, -1) == NULL && smc_gguf_kv_key(g, 22) == NULL);

    i = smc_gguf_find_kv(g, "a.i16");
    CHECK_EQ_INT(smc_gguf_kv_type(g, i), SMC_GGUF_ARRAY);
    CHECK_EQ_INT(smc_gguf_kv_arr_type(g, i), SMC_GGUF_I16);
    CHECK_EQ_INT(smc_gguf_kv_arr_len(g, i), 3);
    const int16_t *i16 = smc_gguf_kv_data(g, i);
    CHECK(i16 && i16[0] == 1 && i16[1] == -2 && i16[2] == 3);
    CHECK_NEAR(smc_gguf_kv_arr_num(g, i, 1), -2, 0);
    CHECK(isnan(smc_gguf_kv_arr_num(g, i, 3)));

    i = smc_gguf_find_kv(g, "a.f32");
    const float *f = smc_gguf_kv_data(g, i);
    CHECK(f && f[0] == 0.25f && f[1] == -4.0f);
    CHECK(((uintptr_t)f % sizeof(float)) == 0);
    i = smc_gguf_find_kv(g, "a.bool");
    CHECK_EQ_INT(smc_gguf_kv_arr_type(g, i), SMC_GGUF_BOOL);
    CHECK_NEAR(smc_gguf_kv_arr_num(g, i, 0), 0, 0);
    CHECK_NEAR(smc_gguf_kv_arr_num(g, i, 2), 1, 0);
    i = smc_gguf_find_kv(g, "a.u64");
    const uint64_t *u64 = smc_gguf_kv_data(g, i);
    CHECK(u64 && u64[0] == 123456789012ull && ((uintptr_t)u64 % 8) == 0);
    i = smc_gguf_find_kv(g, "a.f64");
    CHECK_NEAR(smc_gguf_kv_arr_num(g, i, 1), 1e300, 0);
    i = smc_gguf_find_kv(g, "a.i8");
    CHECK_NEAR(smc_gguf_kv_arr_num(g, i, 0), -1, 0);
    CHECK_NEAR(smc_gguf_kv_arr_num(g, i, 1), 127, 0);

    i = smc_gguf_find_kv(g, "a.str");
    CHECK_EQ_INT(smc_gguf_kv_arr_type(g, i), SMC_GGUF_STRING);
    CHECK_EQ_INT(smc_gguf_kv_arr_len(g, i), 3);
    CHECK(smc_gguf_kv_data(g, i) == NULL);
    s = smc_gguf_kv_arr_str(g, i, 0);
    CHECK(s.len == 3 && memcmp(s.ptr, "a b", 3) == 0);
    s = smc_gguf_kv_arr_str(g, i, 1);
    CHECK(s.ptr != NULL && s.len == 0);
    s = smc_gguf_kv_arr_str(g, i, 2);   /* NUL bytes inside values are kept */
    CHECK(s.len == 3 && memcmp(s.ptr, "x\0y", 3) == 0);
    CHECK(smc_gguf_kv_arr_str(g, i, 3).ptr == NULL);
    CHECK(isnan(smc_gguf_kv_arr_num(g, i, 0)));
    CHECK(smc_gguf_kv_str(g, i).ptr == NULL);

    i = smc_gguf_find_kv(g, "a.empty");
    CHECK_EQ_INT(smc_gguf_kv_arr_type(g, i), SMC_GGUF_I32);
    CHECK_EQ_INT(smc_gguf_kv_arr_len(g, i), 0);
    CHECK(isnan(smc_gguf_kv_arr_num(g, i, 0)));

    i = smc_gguf_find_kv(g, "a.nested");
    CHECK_EQ_INT(smc_gguf_kv_type(g, i), SMC_GGUF_ARRAY);
    CHECK_EQ_INT(smc_gguf_kv_arr_type(g, i), SMC_GGUF_ARRAY);
    CHECK_EQ_INT(smc_gguf_kv_arr_len(g, i), 3);
    CHECK(smc_gguf_kv_data(g, i) == NULL);
    CHECK(smc_gguf_kv_arr_str(g, i, 0).ptr == NULL);
    /* [[ "p", "q" ], [], [ [1, 2] ]] through the value views. */
    const smc_gguf_value *nv = smc_gguf_kv_value(g, i);
    CHECK(nv && smc_gguf_value_len(nv) == 3 && smc_gguf_value_arr_type(nv) == SMC_GGUF_ARRAY);
    const smc_gguf_value *e0 = smc_gguf_value_at(nv, 0), *e1 = smc_gguf_value_at(nv, 1),
                         *e2 = smc_gguf_value_at(nv, 2);
    CHECK(smc_gguf_value_at(nv, 3) == NULL);
    CHECK(e0 && smc_gguf_value_type(e0) == SMC_GGUF_ARRAY && smc_gguf_value_arr_type(e0) == SMC_GGUF_STRING);
    CHECK(smc_gguf_value_len(e0) == 2);
    s = smc_gguf_value_str(e0, 1);
    CHECK(s.len == 1 && s.ptr[0] == 'q');
    CHECK(e1 && smc_gguf_value_len(e1) == 0 && smc_gguf_value_arr_type(e1) == SMC_GGUF_U32);
    CHECK(smc_gguf_value_at(e0, 0) == NULL);   /* not an array of arrays */
    const smc_gguf_value *e20 = smc_gguf_value_at(e2, 0);
    CHECK(e20 && smc_gguf_value_len(e20) == 2 && smc_gguf_value_arr_type(e20) == SMC_GGUF_U32);
    const uint32_t *u32 = smc_gguf_value_data(e20);
    CHECK(u32 && u32[0] == 1 && u32[1] == 2);
    CHECK_NEAR(smc_gguf_value_num(e20, 1), 2, 0);
    CHECK(smc_gguf_value_type(NULL) == (smc_gguf_vtype)-1 && smc_gguf_value_len(NULL) == 0);
    CHECK(smc_gguf_value_data(NULL) == NULL && isnan(smc_gguf_value_num(NULL, 0)));
    /* Scalars through the views. */
    const smc_gguf_value *sv = smc_gguf_kv_value(g, smc_gguf_find_kv(g, "t.str"));
    s = smc_gguf_value_str(sv, 0);
    CHECK(s.len == 6 && smc_gguf_value_str(sv, 1).ptr == NULL);
    CHECK_NEAR(smc_gguf_value_num(smc_gguf_kv_value(g, smc_gguf_find_kv(g, "t.f64")), 0), 3.25, 0);
    CHECK(smc_gguf_kv_value(g, 22) == NULL);
    /* The key after the nested array was parsed at the right offset. */
    CHECK(smc_gguf_get_int(g, "a.i8", &v) == -1 && smc_gguf_find_kv(g, "a.i8") == 20);

    CHECK_STR(smc_gguf_vtype_name(SMC_GGUF_F64), "f64");
    CHECK(smc_gguf_vtype_name(13) == NULL);
    smc_gguf_close(g);
    gb_free(&b);
}

static void check_type_table(void)
{
    /* Block sizes and bytes from ggml-common.h (doc §1–2), written out here
     * independently of src/gguf/gguf_types.c. */
    static const struct { int id; const char *name; int64_t bs; size_t bytes; } T[] = {
        {0, "f32", 1, 4}, {1, "f16", 1, 2}, {30, "bf16", 1, 2}, {2, "q4_0", 32, 18},
        {3, "q4_1", 32, 20}, {6, "q5_0", 32, 22}, {7, "q5_1", 32, 24}, {8, "q8_0", 32, 34},
        {9, "q8_1", 32, 36}, {10, "q2_K", 256, 84}, {11, "q3_K", 256, 110}, {12, "q4_K", 256, 144},
        {13, "q5_K", 256, 176}, {14, "q6_K", 256, 210}, {15, "q8_K", 256, 292}, {24, "i8", 1, 1},
        {25, "i16", 1, 2}, {26, "i32", 1, 4}, {27, "i64", 1, 8}, {28, "f64", 1, 8},
    };
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        CHECK_STR(smc_type_name(T[k].id), T[k].name);
        CHECK_EQ_INT(smc_type_block_size(T[k].id), T[k].bs);
        CHECK_EQ_INT(smc_type_block_bytes(T[k].id), T[k].bytes);
    }
    CHECK(smc_type_name(4) == NULL && smc_type_block_size(4) == 0 && smc_type_block_bytes(4) == 0);
    CHECK(smc_type_name(-1) == NULL && smc_type_name(1000) == NULL);
}

/* Tensors of several types, custom alignment, data pointers. */
static void check_tensors(uint32_t align, int set_alignment)
{
    gbuf b = {0};
    gb_header(&b, 3, 3, set_alignment ? 2 : 1);
    gb_kv_str(&b, "general.architecture", "test");
    if (set_alignment)
        gb_kv_u32(&b, "general.alignment", align);
    uint64_t ne_a[2] = {64, 3}, ne_b[1] = {5}, ne_c[4] = {256, 1, 2, 1};
    /* a: q8_0 64x3 = 2 blocks * 34 * 3 = 204 bytes; b: f16 5 = 10; c: q4_K 256*2 = 288. */
    uint64_t off_a = 0, off_b = (204 + align - 1) / align * align, off_c = off_b + (10 + align - 1) / align * align;
    gb_tensor(&b, "a", 2, ne_a, 8, off_a);
    gb_tensor(&b, "b.weight", 1, ne_b, 1, off_b);
    gb_tensor(&b, "c", 4, ne_c, 12, off_c);
    gb_pad(&b, align);
    size_t data_start = b.n;
    gb_fill(&b, 204, 1);
    gb_pad(&b, align);
    gb_fill(&b, 10, 2);
    gb_pad(&b, align);
    gb_fill(&b, 288, 3);

    smc_gguf *g = NULL;
    smc_error err = {{0}};
    int rc = smc_gguf_open_buffer(b.p, b.n, &g, &err);
    CHECK_MSG(rc == 0, "align %u: %s", align, err.msg);
    if (rc == 0) {
        CHECK_EQ_INT(smc_gguf_alignment(g), align);
        CHECK_EQ_INT(smc_gguf_data_offset(g), data_start);
        CHECK_EQ_INT(smc_gguf_n_tensors(g), 3);
        const smc_gguf_tensor *t = smc_gguf_find_tensor(g, "a");
        CHECK(t && t->nbytes == 204 && t->n_dims == 2 && t->ne[0] == 64 && t->ne[1] == 3 && t->ne[2] == 1 &&
              t->ne[3] == 1 && t->type == SMC_TYPE_Q8_0);
        CHECK(t && t->data == b.p + data_start && ((const uint8_t *)t->data)[5] == 6);
        t = smc_gguf_find_tensor(g, "b.weight");
        CHECK(t && t->nbytes == 10 && t->offset == off_b && ((const uint8_t *)t->data)[0] == 2);
        t = smc_gguf_find_tensor(g, "c");
        CHECK(t && t->nbytes == 288 && t->n_dims == 4 && t->ne[2] == 2 && t->type == SMC_TYPE_Q4_K);
        CHECK(t && (const uint8_t *)t->data + t->nbytes == b.p + b.n);
        CHECK(smc_gguf_tensor_at(g, 1) == smc_gguf_find_tensor(g, "b.weight"));
        CHECK(smc_gguf_tensor_at(g, 3) == NULL && smc_gguf_tensor_at(g, -1) == NULL);
        CHECK(smc_gguf_find_tensor(g, "b") == NULL);
        smc_gguf_close(g);
    }
    gb_free(&b);
}

/* A file with no tensors may end right after the metadata (no padding). */
static void check_no_padding_without_tensors(void)
{
    gbuf b = {0};
    gb_header(&b, 3, 0, 1);
    gb_kv_str(&b, "k", "abc");   /* 24 + 8+1+4 + 8+3 = 48 bytes: pad to 64 omitted */
    gb_u8(&b, 0);                /* 49 bytes: not aligned */
    smc_gguf *g = NULL;
    smc_error err = {{0}};
    CHECK_MSG(smc_gguf_open_buffer(b.p, b.n, &g, &err) == 0, "%s", err.msg);
    if (g) {
        CHECK(smc_gguf_data_offset(g) <= smc_gguf_file_size(g));
        smc_gguf_close(g);
    }
    gb_free(&b);
}

/* smc_gguf_open on a file written to disk (the mmap path) and its errors. */
static void check_open_file(void)
{
    gbuf b = {0};
    build_all_types(&b, 3);
    char path[] = "/tmp/smc_gguf_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "wb");
    fwrite(b.p, 1, b.n, f);
    fclose(f);
    smc_gguf *g = NULL;
    smc_error err = {{0}};
    CHECK_MSG(smc_gguf_open(path, &g, &err) == 0, "%s", err.msg);
    if (g) {
        CHECK_EQ_INT(smc_gguf_n_kv(g), 22);
        CHECK_EQ_INT(smc_gguf_file_size(g), b.n);
        smc_gguf_close(g);
    }
    /* Truncated on disk: the message names the path and the problem. */
    if (truncate(path, 30) == 0) {
        CHECK(smc_gguf_open(path, &g, &err) == -1 && g == NULL);
        CHECK_MSG(strstr(err.msg, path) && strstr(err.msg, "truncated"), "%s", err.msg);
    }
    unlink(path);
    CHECK(smc_gguf_open(path, &g, &err) == -1 && strstr(err.msg, "cannot open"));
    CHECK(smc_gguf_open("/tmp", &g, &err) == -1 && strstr(err.msg, "not a regular file"));
    gb_free(&b);
}

void run_tests(void)
{
    check_all_types(3);
    check_all_types(2);
    check_type_table();
    check_tensors(32, 0);
    check_tensors(32, 1);
    check_tensors(64, 1);
    check_tensors(8, 1);
    check_no_padding_without_tensors();
    check_open_file();
}
