/* test_kernels_blocks.c — dequantisation of hand-made blocks of every type
 * against values computed by hand from the ggml layouts, row sizes, and the
 * quantisers' round-trip error bounds. */
#include <stdint.h>

#include "engine/kernels.h"
#include "test.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void test_sizes(void)
{
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_F32, 10), 40);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_F16, 10), 20);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_BF16, 10), 20);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q8_0, 64), 68);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q4_0, 64), 36);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q4_1, 64), 40);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q5_0, 64), 44);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q5_1, 64), 48);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q4_K, 512), 288);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q5_K, 512), 352);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q6_K, 512), 420);
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q8_0, 33), 0);   /* not a block multiple */
    CHECK_EQ_INT(smc_row_bytes(SMC_TYPE_Q2_K, 256), 0);  /* unsupported */
    CHECK(!smc_kernel_type_supported(SMC_TYPE_Q8_1));
    CHECK(!smc_kernel_type_supported(-1));
    CHECK(smc_kernel_type_supported(SMC_TYPE_Q6_K));
    float x[32] = {0};
    uint8_t buf[64];
    CHECK_EQ_INT(smc_quantize_row(SMC_TYPE_Q2_K, x, buf, 32), -1);
    CHECK_EQ_INT(smc_quantize_row(SMC_TYPE_Q8_0, x, buf, 31), -1);
}

static void test_float_types(void)
{
    uint8_t h[8];
    put16(h, 0x3c00), put16(h + 2, 0xc000), put16(h + 4, 0x0001), put16(h + 6, 0x7bff);
    float y[4];
    smc_dequantize_row(SMC_TYPE_F16, h, y, 4);
    CHECK(y[0] == 1.0f && y[1] == -2.0f && y[2] == 0x1p-24f && y[3] == 65504.0f);
    put16(h, 0x3f80), put16(h + 2, 0xc040), put16(h + 4, 0x4128), put16(h + 6, 0x0000);
    smc_dequantize_row(SMC_TYPE_BF16, h, y, 4);
    CHECK(y[0] == 1.0f && y[1] == -3.0f && y[2] == 10.5f && y[3] == 0.0f);
}

static void test_q8_0(void)
{
    uint8_t b[34];
    put16(b, 0x3800); /* d = 0.5 */
    for (int j = 0; j < 32; j++)
        b[2 + j] = (uint8_t)(int8_t)(j - 16);
    float y[32];
    smc_dequantize_row(SMC_TYPE_Q8_0, b, y, 32);
    CHECK(y[0] == -8.0f && y[16] == 0.0f && y[31] == 7.5f && y[5] == -5.5f);
}

static void test_q4_0(void)
{
    uint8_t b[18];
    put16(b, 0x4000); /* d = 2 */
    for (int j = 0; j < 16; j++)
        b[2 + j] = (uint8_t)(j | (15 - j) << 4);
    float y[32];
    smc_dequantize_row(SMC_TYPE_Q4_0, b, y, 32);
    /* x[j] = 2*(j-8), x[j+16] = 2*((15-j)-8) */
    CHECK(y[0] == -16.0f && y[3] == -10.0f && y[15] == 14.0f);
    CHECK(y[16] == 14.0f && y[19] == 8.0f && y[31] == -16.0f);
}

static void test_q4_1(void)
{
    uint8_t b[20];
    put16(b, 0x3c00), put16(b + 2, 0xbc00); /* d = 1, m = -1 */
    for (int j = 0; j < 16; j++)
        b[4 + j] = (uint8_t)(j | (15 - j) << 4);
    float y[32];
    smc_dequantize_row(SMC_TYPE_Q4_1, b, y, 32);
    CHECK(y[0] == -1.0f && y[7] == 6.0f && y[16] == 14.0f && y[31] == -1.0f);
}

static void test_q5_0(void)
{
    uint8_t b[22];
    put16(b, 0x3c00); /* d = 1 */
    b[2] = 0xAA, b[3] = 0x00, b[4] = 0xFF, b[5] = 0x01; /* qh */
    for (int j = 0; j < 16; j++)
        b[6 + j] = (uint8_t)(j | j << 4);
    float y[32];
    smc_dequantize_row(SMC_TYPE_Q5_0, b, y, 32);
    CHECK(y[0] == -16.0f); /* q = 0, bit 0 clear */
    CHECK(y[1] == 1.0f);   /* q = 1 + 16 */
    CHECK(y[9] == -7.0f);  /* byte 1 of qh is 0 */
    CHECK(y[16] == 0.0f);  /* q = 0 + 16 (bit 16) */
    CHECK(y[23] == 7.0f);  /* q = 7 + 16 (bit 23) */
    CHECK(y[24] == 8.0f);  /* q = 8 + 16 (bit 24) */
    CHECK(y[25] == -7.0f); /* q = 9 (bit 25 clear) */
}

static void test_q5_1(void)
{
    uint8_t b[24] = {0};
    put16(b, 0x3400), put16(b + 2, 0x3c00); /* d = 0.25, m = 1 */
    b[4] = 0x04;                            /* bit 2 of qh */
    b[8 + 2] = 0x31;                        /* qs[2]: lo 1, hi 3 */
    float y[32];
    smc_dequantize_row(SMC_TYPE_Q5_1, b, y, 32);
    CHECK(y[2] == 5.25f);  /* 0.25*(1+16) + 1 */
    CHECK(y[18] == 1.75f); /* 0.25*3 + 1 */
    CHECK(y[0] == 1.0f);
}

/* Q4_K / Q5_K block: d = 1, dmin = 0.5, scales chosen to exercise both halves
 * of the 6-bit packing. */
static void fill_k_header(uint8_t *b)
{
    put16(b, 0x3c00), put16(b + 2, 0x3800);
    uint8_t *s = b + 4;
    s[0] = 0x02; /* sc0 = 2 */
    s[4] = 0x03; /* m0 = 3 */
    s[1] = 0x41; /* sc1 = 1; top bits 01 -> high bits of sc5 */
    s[5] = 0x80; /* m1 = 0; top bits 10 -> high bits of m5 */
    s[9] = 0x53; /* sc5 low 3, m5 low 5 -> sc5 = 3+16 = 19, m5 = 5+32 = 37 */
}

static void test_q4_k(void)
{
    uint8_t b[144] = {0};
    fill_k_header(b);
    uint8_t *qs = b + 16;
    qs[0] = 0x7A;      /* x[0]: sub-block 0, q=10; x[32]: sub-block 1, q=7 */
    qs[64 + 3] = 0xC0; /* x[128+3]: sub-block 4 q=0; x[160+3]: sub-block 5 q=12 */
    float y[256];
    smc_dequantize_row(SMC_TYPE_Q4_K, b, y, 256);
    CHECK(y[0] == 18.5f);    /* 1*2*10 - 0.5*3 */
    CHECK(y[1] == -1.5f);    /* q=0: -0.5*3 */
    CHECK(y[32] == 7.0f);    /* 1*1*7 - 0 */
    CHECK(y[131] == 0.0f);   /* sub-block 4 has scale 0 and min 0 */
    CHECK(y[163] == 209.5f); /* 19*12 - 0.5*37 */
    CHECK(y[164] == -18.5f);
}

static void test_q5_k(void)
{
    uint8_t b[176] = {0};
    fill_k_header(b);
    uint8_t *qh = b + 16, *qs = b + 48;
    qs[0] = 0x7A;
    qs[64 + 3] = 0xC0;
    qh[0] = 0x03;  /* +16 for x[0] (bit 0) and x[32] (bit 1) */
    qh[3] = 0x20;  /* bit 5 = 2c+1 for c = 2: +16 for x[160+3] */
    float y[256];
    smc_dequantize_row(SMC_TYPE_Q5_K, b, y, 256);
    CHECK(y[0] == 50.5f);    /* 2*26 - 1.5 */
    CHECK(y[32] == 23.0f);   /* 1*(7+16) */
    CHECK(y[163] == 513.5f); /* 19*28 - 18.5 */
    CHECK(y[3] == -1.5f);    /* qh[3] bit 0 clear */
}

static void test_q6_k(void)
{
    uint8_t b[210] = {0};
    uint8_t *ql = b, *qh = b + 128;
    int8_t *sc = (int8_t *)(b + 192);
    put16(b + 208, 0x3800); /* d = 0.5 (last field) */
    sc[0] = 2, sc[2] = -1, sc[4] = 3, sc[6] = 1, sc[9] = -4;
    ql[0] = 0x35;
    qh[0] = 0x9E; /* bits 0-1 = 2, 2-3 = 3, 4-5 = 1, 6-7 = 2 */
    ql[32] = 0x0F;
    ql[64 + 17] = 0x0C;
    qh[32 + 17] = 0x03;
    float y[256];
    smc_dequantize_row(SMC_TYPE_Q6_K, b, y, 256);
    CHECK(y[0] == 5.0f);      /* q = 5 | 2<<4 = 37; 0.5*2*5 */
    CHECK(y[32] == -15.5f);   /* q = 15 | 3<<4 = 63; 0.5*(-1)*31 */
    CHECK(y[64] == -19.5f);   /* q = 3 | 1<<4 = 19; 0.5*3*(-13) */
    CHECK(y[96] == 0.0f);     /* q = 0 | 2<<4 = 32 */
    CHECK(y[1] == -32.0f);    /* q = 0; 0.5*2*(-32) */
    CHECK(y[145] == -56.0f);  /* second half, l = 17: q = 12 | 3<<4 = 60; 0.5*(-4)*28 */
    CHECK(y[144] == 64.0f);   /* l = 16 in half 1: q = 0, scale -4: 0.5*(-4)*(-32) */
}

/* quantise -> dequantise error within what each format can represent */
static void test_roundtrip(void)
{
    enum { N = 1024 };
    static float x[N], y[N];
    static uint8_t q[N * 4];
    uint32_t s = 7;
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * (i < 512 ? 2.0f : 50.0f);
    }
    struct { int type; double rel; } cases[] = {
        {SMC_TYPE_F32, 0}, {SMC_TYPE_F16, 1.0 / 1024}, {SMC_TYPE_BF16, 1.0 / 128},
        {SMC_TYPE_Q8_0, 0.5 / 127 + 1e-3}, {SMC_TYPE_Q4_0, 1.0 / 8 + 1e-3} /* the -max end clamps to q=15 */, {SMC_TYPE_Q4_1, 0.5 / 15 * 2 + 1e-3},
        {SMC_TYPE_Q5_0, 1.0 / 16 + 1e-3}, {SMC_TYPE_Q5_1, 0.5 / 31 * 2 + 1e-3},
        {SMC_TYPE_Q4_K, 2.0 / 15 + 0.01}, {SMC_TYPE_Q5_K, 2.0 / 31 + 0.01}, {SMC_TYPE_Q6_K, 1.0 / 31 + 0.01},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        CHECK_EQ_INT(smc_quantize_row(cases[c].type, x, q, N), 0);
        smc_dequantize_row(cases[c].type, q, y, N);
        /* error relative to the largest magnitude of the 256-element group */
        double worst = 0;
        for (int g = 0; g < N / 256; g++) {
            double amax = 0;
            for (int i = 0; i < 256; i++)
                amax = fmax(amax, fabs(x[256 * g + i]));
            for (int i = 0; i < 256; i++)
                worst = fmax(worst, fabs((double)y[256 * g + i] - x[256 * g + i]) / amax);
        }
        CHECK_MSG(worst <= cases[c].rel, "type %d: relative error %g > %g", cases[c].type, worst, cases[c].rel);
    }
}

void run_tests(void)
{
    test_sizes();
    test_float_types();
    test_q8_0();
    test_q4_0();
    test_q4_1();
    test_q5_0();
    test_q5_1();
    test_q4_k();
    test_q5_k();
    test_q6_k();
    test_roundtrip();
}
