/* matcher_internal.h — struct smc_matcher, shared by matcher.c and the token
 * mask code (token_mask.c). */
#ifndef SMC_CONSTRAINT_MATCHER_INTERNAL_H
#define SMC_CONSTRAINT_MATCHER_INTERNAL_H

#include "constraint/earley.h"

#define SMC_MATCHER_DEFAULT_LIMIT 4000000u

struct smc_matcher {
    const smc_grammar *g;
    eset *state;        /* interned; owned by g's cache */
    bool finished;      /* EOS was advanced */
    uint64_t limit;     /* work limit per mask, 0 = none */
};

#endif
