/* test_gguf_malformed.c — malformed GGUF files built in memory: each must be
 * rejected with a message naming the problem (checked by fragments), never
 * crash or read out of bounds (run under ASan in CI). Also every truncation
 * and many byte corruptions of a valid file. */
#include "test.h"
#include "gguf_writer.h"
#include "smcgen.h"

#include <stdint.h>

static int test_line;

/* Opens b and checks failure with message fragments f1 and f2 (may be NULL). */
static void expect_fail_at(int line, gbuf *b, const char *f1, const char *f2)
{
    smc_gguf *g = NULL;
    smc_error err = {{0}};
    int rc = smc_gguf_open_buffer(b->p, b->n, &g, &err);
    if (rc == 0) {
        test_failed++;
        fprintf(stderr, "line %d: opened a malformed file (expected '%s')\n", line, f1);
        smc_gguf_close(g);
    } else {
        CHECK_MSG(g == NULL && strstr(err.msg, f1) && (!f2 || strstr(err.msg, f2)),
                  "line %d: message \"%s\" lacks \"%s\"%s%s", line, err.msg, f1, f2 ? " / " : "", f2 ? f2 : "");
    }
    gb_free(b);
}
#define EXPECT_FAIL(b, f1, f2) expect_fail_at(__LINE__, b, f1, f2)

static void expect_ok(int line, gbuf *b)
{
    smc_gguf *g = NULL;
    smc_error err = {{0}};
    int rc = smc_gguf_open_buffer(b->p, b->n, &g, &err);
    CHECK_MSG(rc == 0, "line %d: %s", line, err.msg);
    smc_gguf_close(g);
    gb_free(b);
}
#define EXPECT_OK(b) expect_ok(__LINE__, b)

static void header_cases(void)
{
    gbuf b = {0};
    EXPECT_FAIL(&b, "too small", NULL);                       /* empty */
    gb_bytes(&b, "GGU", 3);
    EXPECT_FAIL(&b, "too small", NULL);
    gb_bytes(&b, "GGML", 4); gb_u32(&b, 3); gb_u64(&b, 0); gb_u64(&b, 0);
    EXPECT_FAIL(&b, "not a GGUF file", NULL);
    gb_bytes(&b, "GGUF", 4); gb_u32(&b, 3); gb_u32(&b, 0);
    EXPECT_FAIL(&b, "truncated", "24-byte");
    gb_header(&b, 1, 0, 0);
    EXPECT_FAIL(&b, "version 1 is not supported", NULL);
    gb_header(&b, 4, 0, 0);
    EXPECT_FAIL(&b, "unknown GGUF version 4", NULL);
    gb_header(&b, 0x03000000u, 0, 0);
    EXPECT_FAIL(&b, "big-endian", NULL);
    gb_header(&b, 3, 0, 1ull << 60);
    EXPECT_FAIL(&b, "metadata kv count 1152921504606846976", "truncated");
    gb_header(&b, 3, UINT64_MAX, 0);
    EXPECT_FAIL(&b, "tensor count 18446744073709551615", NULL);
    gb_header(&b, 3, 0, 0);
    EXPECT_OK(&b);
    gb_header(&b, 2, 0, 0);
    EXPECT_OK(&b);
}

static void kv_cases(void)
{
    gbuf b = {0};
    /* Key length past the end. */
    gb_header(&b, 3, 0, 1); gb_u64(&b, 1000); gb_bytes(&b, "abcdefghijklmnop", 16);
    EXPECT_FAIL(&b, "key length 1000 at byte 24", "truncated");
    /* Key longer than 65535 bytes (the bytes are there). */
    gb_header(&b, 3, 0, 1); gb_u64(&b, 70000);
    for (int k = 0; k < 70000; k++) gb_u8(&b, 'k');
    gb_u32(&b, 4); gb_u32(&b, 1);
    EXPECT_FAIL(&b, "key length 70000", "exceeds the limit of 65535");
    gb_header(&b, 3, 0, 1); gb_strn(&b, "a\0b", 3); gb_u32(&b, 4); gb_u32(&b, 1);
    EXPECT_FAIL(&b, "NUL", "kv #0");
    gb_header(&b, 3, 0, 2); gb_kv_u32(&b, "first", 1); gb_key(&b, "general.name", 13); gb_u32(&b, 0);
    EXPECT_FAIL(&b, "unknown value type 13", "'general.name'");
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.flag", 7); gb_u8(&b, 2);
    EXPECT_FAIL(&b, "bool value 2 at byte", "'t.flag'");
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.flags", 9); gb_arr(&b, 7, 4); gb_u8(&b, 0); gb_u8(&b, 1); gb_u8(&b, 1); gb_u8(&b, 7);
    EXPECT_FAIL(&b, "bool value 7", "'t.flags'");
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.s", 8); gb_u64(&b, 1ull << 62); gb_bytes(&b, "xy", 2);
    EXPECT_FAIL(&b, "string length 4611686018427387904", "'t.s'");
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.u32", 4); gb_u16(&b, 7);
    EXPECT_FAIL(&b, "truncated", "'t.u32'");
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.arr", 9); gb_arr(&b, 4, 1ull << 62); gb_u32(&b, 1);
    EXPECT_FAIL(&b, "array of 4611686018427387904 u32", "'t.arr'");
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.arr", 9); gb_arr(&b, 12, 3); gb_f64(&b, 1); gb_f64(&b, 2);
    EXPECT_FAIL(&b, "array of 3 f64", "truncated");
    gb_header(&b, 3, 0, 1); gb_key(&b, "tokenizer.ggml.tokens", 9); gb_arr(&b, 8, 1000000); gb_str(&b, "a");
    EXPECT_FAIL(&b, "array of 1000000 string", "'tokenizer.ggml.tokens'");
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.strs", 9); gb_arr(&b, 8, 3); gb_str(&b, "a"); gb_str(&b, "b");
    gb_u64(&b, 99); gb_bytes(&b, "0123456789", 10);
    EXPECT_FAIL(&b, "element 2 of the string array", "'t.strs'");
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.arr", 9); gb_arr(&b, 99, 1); gb_u64(&b, 0);
    EXPECT_FAIL(&b, "unknown array element type 99", "'t.arr'");
    /* Arrays nested 9 deep (8 is the limit). */
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.deep", 9);
    for (int d = 0; d < 9; d++) gb_arr(&b, 9, 1);
    gb_arr(&b, 4, 0);
    EXPECT_FAIL(&b, "nested more than 8 deep", "'t.deep'");
    gb_header(&b, 3, 0, 1); gb_key(&b, "t.nest", 9); gb_arr(&b, 9, 2); gb_arr(&b, 8, 1); gb_str(&b, "ok");
    gb_arr(&b, 7, 1); gb_u8(&b, 3);
    EXPECT_FAIL(&b, "bool value 3", "element 1 of the array");
    gb_header(&b, 3, 0, 3); gb_kv_u32(&b, "a", 1); gb_kv_u32(&b, "b", 2); gb_kv_str(&b, "a", "x");
    EXPECT_FAIL(&b, "duplicate metadata key 'a'", "kv #0 and kv #2");
    /* Key shown with escapes for unprintable bytes. */
    gb_header(&b, 3, 0, 1); gb_key(&b, "bad\x01key", 4); gb_u8(&b, 1);
    EXPECT_FAIL(&b, "'bad\\x01key'", "truncated");
}

static void alignment_case(uint32_t type, uint64_t value, const char *f1, int ok)
{
    gbuf b = {0};
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "general.alignment", type);
    if (type == 8)
        gb_str(&b, "32");
    else if (type == 10)
        gb_u64(&b, value);
    else
        gb_u32(&b, (uint32_t)value);
    if (ok)
        EXPECT_OK(&b);
    else
        EXPECT_FAIL(&b, f1, "general.alignment");
}

/* A file with one tensor described by the arguments, then `data` bytes. */
static void one_tensor(gbuf *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                       uint64_t offset, size_t data)
{
    gb_header(b, 3, 1, 1);
    gb_kv_str(b, "general.architecture", "x");
    gb_tensor(b, name, n_dims, ne, type, offset);
    gb_pad(b, 32);
    gb_fill(b, data, 0);
}

static void tensor_cases(void)
{
    gbuf b = {0};
    uint64_t ne[5] = {32, 2, 1, 1, 1};
    one_tensor(&b, "w", 2, ne, 0, 0, 256);
    EXPECT_OK(&b);
    one_tensor(&b, "w", 5, ne, 0, 0, 256);
    EXPECT_FAIL(&b, "tensor 'w': n_dims = 5", "not in 1..4");
    one_tensor(&b, "w", 0, ne, 0, 0, 256);
    EXPECT_FAIL(&b, "tensor 'w': n_dims = 0", NULL);
    one_tensor(&b, "blk.0.attn_q.weight", 2, ne, 4, 0, 256);
    EXPECT_FAIL(&b, "tensor 'blk.0.attn_q.weight': unknown tensor type 4", NULL);
    one_tensor(&b, "w", 2, ne, 0x80000000u, 0, 256);
    EXPECT_FAIL(&b, "unknown tensor type 2147483648", NULL);
    one_tensor(&b, "w", 2, ne, 16, 0, 256);
    EXPECT_FAIL(&b, "iq2_xxs", "not supported");
    uint64_t ne33[2] = {33, 1};
    one_tensor(&b, "w", 2, ne33, 8, 0, 256);
    EXPECT_FAIL(&b, "ne[0] = 33 is not a multiple of the q8_0 block size 32", "'w'");
    uint64_t big[3] = {1ull << 31, 1ull << 31, 1ull << 31};
    one_tensor(&b, "w", 3, big, 0, 0, 256);
    EXPECT_FAIL(&b, "is too large", "'w'");
    uint64_t bytes_ovf[2] = {1ull << 61, 1};   /* elements fit, bytes (x4) do not */
    one_tensor(&b, "w", 2, bytes_ovf, 0, 0, 256);
    EXPECT_FAIL(&b, "size overflows", NULL);
    uint64_t neg[2] = {1ull << 63, 1};
    one_tensor(&b, "w", 2, neg, 0, 0, 256);
    EXPECT_FAIL(&b, "ne[0] = 9223372036854775808", "too large");
    one_tensor(&b, "w", 2, ne, 0, 4, 256);
    EXPECT_FAIL(&b, "tensor 'w': offset 4 is not a multiple of the alignment 32", NULL);
    one_tensor(&b, "w", 2, ne, 0, 0, 255);
    EXPECT_FAIL(&b, "tensor 'w'", "runs past the end");
    one_tensor(&b, "w", 2, ne, 0, 1ull << 62, 256);
    EXPECT_FAIL(&b, "tensor 'w'", "runs past the end");
    one_tensor(&b, "w", 2, ne, 0, UINT64_MAX - 31, 256);
    EXPECT_FAIL(&b, "tensor 'w'", NULL);
    char longname[65];
    memset(longname, 'n', 64);
    longname[64] = 0;
    one_tensor(&b, longname, 2, ne, 0, 0, 256);
    EXPECT_FAIL(&b, "64 bytes long", "limit of 63");
    longname[63] = 0;
    one_tensor(&b, longname, 2, ne, 0, 0, 256);
    EXPECT_OK(&b);
    /* Name with a NUL inside. */
    gb_header(&b, 3, 1, 0); gb_strn(&b, "w\0x", 3); gb_u32(&b, 1); gb_u64(&b, 4); gb_u32(&b, 0); gb_u64(&b, 0);
    gb_pad(&b, 32); gb_fill(&b, 16, 0);
    EXPECT_FAIL(&b, "contains a NUL byte", "tensor #0");
    /* Tensor info truncated. */
    gb_header(&b, 3, 1, 0); gb_str(&b, "w"); gb_u32(&b, 2); gb_u64(&b, 4); gb_u64(&b, 4); gb_u32(&b, 0); gb_u32(&b, 0);
    gb_fill(&b, 28, 0);
    one_tensor(&b, "w", 2, ne, 0, 0, 256);
    b.n -= 256 + 8;   /* cut inside the padding / offset */
    EXPECT_FAIL(&b, "truncated", NULL);
    /* Data section start past the end: tensor infos end unaligned, file stops there. */
    gb_header(&b, 3, 1, 0);
    uint64_t zero[1] = {0};
    gb_tensor(&b, "empty", 1, zero, 0, 0);
    if (b.n % 32 == 0)
        gb_u8(&b, 0);
    EXPECT_FAIL(&b, "data section should start at byte", "truncated");
}

static void two_tensors(gbuf *b, const char *n1, uint64_t off1, const char *n2, uint64_t off2)
{
    uint64_t ne[1] = {16};   /* f32: 64 bytes */
    gb_header(b, 3, 2, 0);
    gb_tensor(b, n1, 1, ne, 0, off1);
    gb_tensor(b, n2, 1, ne, 0, off2);
    gb_pad(b, 32);
    gb_fill(b, 256, 0);
}

static void overlap_cases(void)
{
    gbuf b = {0};
    two_tensors(&b, "a", 0, "b", 64);
    EXPECT_OK(&b);
    two_tensors(&b, "a", 0, "b", 0);
    EXPECT_FAIL(&b, "tensors 'a' and 'b' overlap", NULL);
    two_tensors(&b, "a", 32, "b", 0);
    EXPECT_FAIL(&b, "overlap", "[0, 64)");
    two_tensors(&b, "a", 0, "a", 64);
    EXPECT_FAIL(&b, "duplicate tensor name 'a'", "tensors #0 and #1");
    /* Zero-size tensors overlap nothing. */
    uint64_t ne[1] = {16}, z[1] = {0};
    gb_header(&b, 3, 2, 0);
    gb_tensor(&b, "a", 1, ne, 0, 0);
    gb_tensor(&b, "e", 1, z, 0, 32);
    gb_pad(&b, 32);
    gb_fill(&b, 64, 0);
    EXPECT_OK(&b);
    /* A small tensor inside a large one, after a third that ends earlier. */
    uint64_t big[1] = {64};
    gb_header(&b, 3, 3, 0);
    gb_tensor(&b, "big", 1, big, 0, 0);      /* [0, 256) */
    gb_tensor(&b, "s1", 1, ne, 0, 64);       /* [64, 128) */
    gb_tensor(&b, "s2", 1, ne, 0, 192);      /* [192, 256) */
    gb_pad(&b, 32);
    gb_fill(&b, 256, 0);
    EXPECT_FAIL(&b, "'big' and 's1' overlap", NULL);
}

/* A valid file whose last tensor ends at the end of the file. */
static void build_valid(gbuf *b)
{
    uint64_t ne[2] = {32, 2};
    gb_header(b, 3, 2, 4);
    gb_kv_str(b, "general.architecture", "llama");
    gb_kv_u32(b, "llama.block_count", 1);
    gb_key(b, "tokenizer.ggml.tokens", 9); gb_arr(b, 8, 3); gb_str(b, "a"); gb_str(b, "bc"); gb_str(b, "");
    gb_key(b, "tokenizer.ggml.scores", 9); gb_arr(b, 6, 3); gb_f32(b, 0); gb_f32(b, -1); gb_f32(b, -2);
    gb_tensor(b, "token_embd.weight", 2, ne, 8, 0);
    gb_tensor(b, "output_norm.weight", 1, ne, 0, 96);
    gb_pad(b, 32);
    gb_fill(b, 68, 0);
    gb_pad(b, 32);
    gb_fill(b, 128, 0);
}

static void truncation_sweep(void)
{
    gbuf b = {0};
    build_valid(&b);
    smc_gguf *g = NULL;
    smc_error err = {{0}};
    CHECK_MSG(smc_gguf_open_buffer(b.p, b.n, &g, &err) == 0, "%s", err.msg);
    smc_gguf_close(g);
    int bad = 0;
    for (size_t n = 0; n < b.n; n++) {
        uint8_t *copy = malloc(n ? n : 1);   /* exact size, so ASan sees overreads */
        memcpy(copy, b.p, n);
        g = NULL;
        int rc = smc_gguf_open_buffer(copy, n, &g, &err);
        const char *want = n < 4 ? "too small" : "truncated";
        if (rc == 0 || g || !strstr(err.msg, want)) {
            if (bad++ < 5)
                fprintf(stderr, "prefix of %zu bytes: rc %d, \"%s\"\n", n, rc, rc ? err.msg : "");
        }
        smc_gguf_close(g);
        free(copy);
    }
    CHECK_EQ_INT(bad, 0);
    gb_free(&b);
}

/* Each byte set to a few values: the reader either opens the file and every
 * accessor works, or fails with a message. */
static void corruption_sweep(void)
{
    gbuf b = {0};
    build_valid(&b);
    static const uint8_t vals[] = {0x00, 0x01, 0x07, 0x20, 0x80, 0xff};
    int silent = 0;
    for (size_t k = 0; k < b.n; k++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            uint8_t *copy = malloc(b.n);
            memcpy(copy, b.p, b.n);
            copy[k] = vals[v];
            smc_gguf *g = NULL;
            smc_error err = {{0}};
            if (smc_gguf_open_buffer(copy, b.n, &g, &err) == 0) {
                for (int64_t i = 0; i < smc_gguf_n_kv(g); i++) {
                    (void)smc_gguf_kv_str(g, i);
                    for (uint64_t j = 0; j < smc_gguf_kv_arr_len(g, i) && j < 8; j++) {
                        (void)smc_gguf_kv_arr_str(g, i, j);
                        (void)smc_gguf_kv_arr_num(g, i, j);
                    }
                }
                for (int64_t i = 0; i < smc_gguf_n_tensors(g); i++) {
                    const smc_gguf_tensor *t = smc_gguf_tensor_at(g, i);
                    if (t->nbytes) {
                        volatile uint8_t last = ((const uint8_t *)t->data)[t->nbytes - 1];
                        (void)last;
                    }
                }
                smc_gguf_close(g);
            } else if (err.msg[0] == 0) {
                silent++;
            }
            free(copy);
        }
    }
    CHECK_EQ_INT(silent, 0);
    gb_free(&b);
}

void run_tests(void)
{
    (void)test_line;
    header_cases();
    kv_cases();
    alignment_case(4, 32, NULL, 1);
    alignment_case(4, 64, NULL, 1);
    alignment_case(10, 16, NULL, 1);     /* any integer width is accepted */
    alignment_case(4, 0, "= 0 is invalid", 0);
    alignment_case(4, 4, "= 4 is invalid", 0);
    alignment_case(4, 24, "= 24 is invalid", 0);
    alignment_case(10, 1ull << 40, "is invalid", 0);
    alignment_case(8, 0, "has type string", 0);
    tensor_cases();
    overlap_cases();
    truncation_sweep();
    corruption_sweep();
}
