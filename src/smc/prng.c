/* prng.c — xoshiro256** (Blackman & Vigna) seeded through splitmix64. */
#include "smc/prng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void smc_prng_seed(smc_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t smc_prng_next(smc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double smc_prng_uniform(smc_rng *r)
{
    return (double)(smc_prng_next(r) >> 11) * 0x1.0p-53;
}

double smc_prng_uniform_pos(smc_rng *r)
{
    return ((double)(smc_prng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}
