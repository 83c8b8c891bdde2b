/* test_kernels_fp16.c — fp16/bf16 conversions: every fp16 value round trips,
 * fp16->f32 matches an ldexp formula, f32->fp16 matches the F16C hardware
 * instruction (when present) and a nearest-value search; bf16 likewise. */
#include <stdint.h>

#include "engine/fp16.h"
#include "engine/kernels.h"
#include "test.h"

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("f16c"))) static uint16_t hw_f32_to_fp16(float f)
{
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}
#endif

/* Independent decoding of binary16 from its definition. */
static double ref_fp16(uint16_t h)
{
    int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0)
        v = ldexp((double)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexp(1024.0 + m, e - 25);
    return sign ? -v : v;
}

static uint32_t rng_state = 12345u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Nearest finite-or-infinite fp16 to f by search among neighbours of a
 * candidate, ties to even mantissa, overflow per IEEE (>= 65520 -> inf). */
static uint16_t ref_nearest_fp16(float f)
{
    double x = fabs((double)f);
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    if (x >= 65520.0)
        return sign | 0x7c00;
    /* binary search on the monotone positive codes 0..0x7bff */
    int lo = 0, hi = 0x7bff;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (ref_fp16((uint16_t)mid) <= x)
            lo = mid;
        else
            hi = mid - 1;
    }
    int best = lo;
    if (lo < 0x7bff) {
        double dl = x - ref_fp16((uint16_t)lo), dh = ref_fp16((uint16_t)(lo + 1)) - x;
        if (dh < dl || (dh == dl && (lo & 1)))
            best = lo + 1;
    } else if (x > 65504.0) {
        best = 0x7bff; /* 65504 <= x < 65520 rounds down */
    }
    return (uint16_t)(sign | best);
}

void run_tests(void)
{
    /* all 65536 fp16 values: decode matches the definition, round trip exact */
    int bad_decode = 0, bad_trip = 0, bad_nan = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = smc_fp16_to_f32((uint16_t)h);
        double r = ref_fp16((uint16_t)h);
        if (isnan(r)) {
            if (!isnan(f) || !isnan(smc_fp16_to_f32(smc_f32_to_fp16(f))))
                bad_nan++;
            continue;
        }
        if ((double)f != r || !!signbit(f) != !!signbit(r))
            bad_decode++;
        if (smc_f32_to_fp16(f) != h)
            bad_trip++;
    }
    CHECK_EQ_INT(bad_decode, 0);
    CHECK_EQ_INT(bad_trip, 0);
    CHECK_EQ_INT(bad_nan, 0);

    /* hand-picked values */
    CHECK(smc_fp16_to_f32(0x3c00) == 1.0f);
    CHECK(smc_fp16_to_f32(0xc000) == -2.0f);
    CHECK(smc_fp16_to_f32(0x0001) == 0x1p-24f);
    CHECK(smc_fp16_to_f32(0x7bff) == 65504.0f);
    CHECK_EQ_INT(smc_f32_to_fp16(65519.0f), 0x7bff);
    CHECK_EQ_INT(smc_f32_to_fp16(65520.0f), 0x7c00);
    CHECK_EQ_INT(smc_f32_to_fp16(0x1p-25f), 0x0000);          /* tie -> even (0) */
    CHECK_EQ_INT(smc_f32_to_fp16(0x1.8p-24f), 0x0002);        /* 1.5 ulp -> 2 */
    CHECK_EQ_INT(smc_f32_to_fp16(1.0f + 0x1p-11f), 0x3c00);   /* tie -> even */
    CHECK_EQ_INT(smc_f32_to_fp16(1.0f + 0x1.8p-11f), 0x3c01);
    CHECK_EQ_INT(smc_f32_to_fp16(-0.0f), 0x8000);

    /* random floats: nearest search, and the F16C instruction when present */
    int n = getenv("SMC_TEST_SANITIZED") ? 20000 : 200000;
    int bad_ref = 0, bad_hw = 0;
    bool hw = smc_cpu_has_avx2_fma();
    for (int i = 0; i < n; i++) {
        uint32_t bits = rnd();
        if (i % 2) /* concentrate on the fp16 range */
            bits = (bits & 0x80ffffffu) | ((uint32_t)(98 + rnd() % 48) << 23);
        float f = smc_bits_to_f32(bits);
        if (isnan(f))
            continue;
        uint16_t got = smc_f32_to_fp16(f);
        if (got != ref_nearest_fp16(f))
            bad_ref++;
#if defined(__x86_64__)
        if (hw && got != hw_f32_to_fp16(f))
            bad_hw++;
#endif
    }
    CHECK_EQ_INT(bad_ref, 0);
    CHECK_EQ_INT(bad_hw, 0);
    (void)hw;

    /* bf16: all values round trip; conversion rounds to the nearest, ties even */
    int bad_bf = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = smc_bf16_to_f32((uint16_t)h);
        if (isnan(f))
            bad_bf += !isnan(smc_bf16_to_f32(smc_f32_to_bf16(f)));
        else
            bad_bf += smc_f32_to_bf16(f) != h;
    }
    CHECK_EQ_INT(bad_bf, 0);
    int bad_bfr = 0;
    for (int i = 0; i < n; i++) {
        float f = smc_bits_to_f32(rnd());
        if (isnan(f) || isinf(f))
            continue;
        uint16_t b = smc_f32_to_bf16(f);
        uint16_t t = (uint16_t)(smc_f32_to_bits(f) >> 16); /* truncation */
        if ((t & 0x7fff) == 0x7f7f)
            continue; /* rounding up overflows to infinity: checked below */
        double lo = smc_bf16_to_f32(t), hi = smc_bf16_to_f32((uint16_t)(t + 1));
        double dl = fabs((double)f - lo), dh = fabs(hi - (double)f);
        uint16_t want = (dh < dl || (dh == dl && (t & 1))) ? (uint16_t)(t + 1) : t;
        bad_bfr += b != want;
    }
    CHECK_EQ_INT(bad_bfr, 0);
    CHECK(smc_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(smc_bf16_to_f32(0xc040) == -3.0f);
    CHECK_EQ_INT(smc_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80); /* tie -> even */
    CHECK_EQ_INT(smc_f32_to_bf16(smc_bits_to_f32(0x7f7f8000u)), 0x7f80); /* tie at max -> inf */
    CHECK_EQ_INT(smc_f32_to_bf16(smc_bits_to_f32(0x7f7f7fffu)), 0x7f7f);
    CHECK(isnan(smc_bf16_to_f32(smc_f32_to_bf16(NAN))));
}
