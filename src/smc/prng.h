/* prng.h — the SMC module's own xoshiro256** generator (splitmix64 seeding),
 * acting on the public smc_rng struct so it does not depend on the engine. */
#ifndef SMC_SMC_PRNG_H
#define SMC_SMC_PRNG_H

#include "smcgen.h"

void smc_prng_seed(smc_rng *r, uint64_t seed);
uint64_t smc_prng_next(smc_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double smc_prng_uniform(smc_rng *r);
/* Uniform in (0, 1): never 0, safe for log(). */
double smc_prng_uniform_pos(smc_rng *r);

#endif
