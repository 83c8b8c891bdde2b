/* earley.h — the byte-level Earley recognizer with interned states.
 *
 * Design: an Earley set after closure keeps only the items still waiting for
 * something (completed items have done their work), each item being
 * (position, origin) with origin the id of an earlier interned set, or SELF
 * for items predicted in this set. Two sets with the same items (and the same
 * origin sets, themselves interned) have the same future, so sets are
 * hash-consed per grammar: a recognizer state is one pointer, clones are O(1),
 * and transitions (256 per set, filled lazily) and token masks are memoised
 * per set. This is a lazily built automaton over a general CFG: left
 * recursion is fine (repetitions are desugared left-recursively, so loops such
 * as string bodies return to the same set and stay cached); deep or
 * right-recursive nesting just makes more distinct sets.
 *
 * Origins are projected: an item of lhs A that started in set O keeps as its
 * origin not O but O's projection on A — the items of O that completing A
 * can reach (those waiting on A, and, for those predicted in O, the items
 * waiting on their left-hand sides, transitively). That is all a completion
 * ever looks at, so recognition is unchanged, but states that differ only in
 * irrelevant history (e.g. the second and the third key of a JSON object)
 * become the same interned set and share their cached masks.
 *
 * All functions here need g->lock held by the caller (except init/free). */
#ifndef SMC_CONSTRAINT_EARLEY_H
#define SMC_CONSTRAINT_EARLEY_H

#include <stdbool.h>
#include <stdint.h>

#include "constraint/grammar_internal.h"

#define EORG_SELF UINT32_MAX

typedef struct eitem {
    uint32_t pos, org;
} eitem;

typedef struct emask {
    uint64_t index_uid;
    uint32_t *bits;
    struct emask *next;
} emask;

typedef struct eproj {
    uint32_t nt, id;
} eproj;

typedef struct eset {
    uint32_t id, n;
    eitem *items;          /* sorted by (pos, org) */
    uint64_t hash;
    bool accepting;        /* the bytes so far form a complete string */
    bool can_continue;     /* some item waits for a byte */
    struct eset **next;    /* 256 memoised transitions, NULL = not computed yet */
    emask *masks;          /* token masks per token index */
    eproj *proj;           /* memoised projections of this set, per nonterminal */
    uint32_t n_proj;
    ir_byteset loop_tested; /* bytes whose self-loop status is known */
    ir_byteset loop;       /* of those, the bytes b with step(this, b) == this */
} eset;

/* The state with no future (rejected). */
extern eset earley_dead;

int earley_cache_init(smc_grammar *g);
void earley_cache_free(smc_grammar *g);
eset *earley_initial(const smc_grammar *g);
/* Transition on one byte (memoised): a set, &earley_dead, or NULL when out of
 * memory. */
eset *earley_step(const smc_grammar *g, eset *s, unsigned char byte);
/* Does every byte in `bytes` lead from s back to s? Steps on demand and
 * remembers the answers per byte (at most 256 steps per set over its life).
 * -1 when out of memory. */
int earley_loops_on(const smc_grammar *g, eset *s, const uint32_t bytes[8]);
/* Work done computing new sets (items processed) since creation. */
uint64_t earley_work(const smc_grammar *g);
/* Mask cache accounting: true if another mask of this many bytes may be kept. */
bool earley_mask_budget(const smc_grammar *g, size_t bytes);
size_t earley_n_sets(const smc_grammar *g);

static inline void earley_lock(const smc_grammar *g) { pthread_mutex_lock((pthread_mutex_t *)&g->lock); }
static inline void earley_unlock(const smc_grammar *g) { pthread_mutex_unlock((pthread_mutex_t *)&g->lock); }

#endif
