/* matcher.c — smc_matcher: one pointer to an interned Earley set (so clones
 * are O(1)), advanced byte by byte through the grammar's memoised
 * transitions. */
#include "constraint/matcher_internal.h"

#include <stdlib.h>

smc_matcher *smc_matcher_new(const smc_grammar *g)
{
    smc_matcher *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->g = g;
    m->state = earley_initial(g);
    m->limit = SMC_MATCHER_DEFAULT_LIMIT;
    return m;
}

smc_matcher *smc_matcher_clone(const smc_matcher *m)
{
    smc_matcher *c = malloc(sizeof *c);
    if (c)
        *c = *m;
    return c;
}

void smc_matcher_free(smc_matcher *m) { free(m); }

void smc_matcher_set_limit(smc_matcher *m, uint64_t max_work) { m->limit = max_work; }

int smc_matcher_advance_bytes(smc_matcher *m, const char *bytes, size_t n)
{
    if (m->finished)
        return n ? -1 : 0;
    earley_lock(m->g);
    eset *s = m->state;
    for (size_t i = 0; i < n && s && s != &earley_dead; i++)
        s = earley_step(m->g, s, (unsigned char)bytes[i]);
    earley_unlock(m->g);
    if (!s || s == &earley_dead)
        return -1;
    m->state = s;
    return 0;
}

bool smc_matcher_is_accepting(const smc_matcher *m) { return !m->finished && m->state->accepting; }
bool smc_matcher_can_continue(const smc_matcher *m) { return !m->finished && m->state->can_continue; }
bool smc_matcher_is_finished(const smc_matcher *m) { return m->finished; }
