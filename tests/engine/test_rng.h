/* test_rng.h — the engine tests' reproducible random numbers: a xorshift64
 * generator (seed TEST_RNG_SEED, which a test may define before including
 * this) and uniform floats in [-1, 1). */
#ifndef SMC_TEST_RNG_H
#define SMC_TEST_RNG_H

#include <stdint.h>

#ifndef TEST_RNG_SEED
#define TEST_RNG_SEED 0x9E3779B97F4A7C15ull
#endif

static uint64_t rs = TEST_RNG_SEED;

static inline uint32_t rnd32(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 16);
}

static inline float rndf(void) /* uniform [-1, 1) */
{
    return (float)(rnd32() >> 8) / 8388608.0f - 1.0f;
}

#endif
