/* test_counted.h — for the tests of counted repetitions' shared mask walks:
 * whether a matcher's state has a canonical form (the one set the positions
 * of a counted chain share) under a token index. */
#ifndef SMC_TEST_COUNTED_H
#define SMC_TEST_COUNTED_H

#include <stdbool.h>

#include "constraint/earley.h"
#include "constraint/matcher_internal.h"
#include "constraint/token_index.h"

static inline bool test_is_canonical(const smc_matcher *m, const smc_token_index *ix)
{
    const smc_grammar *g = m->g;
    earley_lock(g);
    eset *a = earley_abstract(g, m->state), *c = NULL;
    int r = a && a != m->state && ix->counted_level ? earley_canonical(g, a, ix->counted_level, &c) : 0;
    earley_unlock(g);
    return r == 1;
}

#endif
