/* earley.h — the byte-level Earley recognizer with interned states.
 *
 * Design: an Earley set after closure keeps only the items still waiting for
 * something (completed items have done their work), each item being
 * (position, origin) with origin the id of an earlier interned set, or SELF
 * for items predicted in this set. Two sets with the same items (and the same
 * origin sets, themselves interned) have the same future, so sets are
 * hash-consed per grammar: a recognizer state is one pointer, clones are O(1),
 * and transitions (one per byte class, filled lazily) and token masks are memoised
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
 * Token masks (token_mask.c) lean on three things kept here: byte classes
 * (bytes no terminal tells apart share one transition, so a new set costs
 * one step per class, not per byte), each set's `first` bytes (any other
 * byte is dead without a step) and its per-byte self-loop knowledge, and a
 * memo of unions of whole trie subtrees (a string body or an identifier
 * takes the same subtrees in every context, so the thousands of tokens they
 * hold are ORed in as one bitmap after the first time).
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
    ir_byteset first;      /* bytes some item can scan: any other byte is dead */
    struct eset **next;    /* memoised transitions per byte class (see
                              earley_byte_classes), NULL = not computed yet */
    emask *masks;          /* token masks per token index */
    eproj *proj;           /* memoised projections of this set, per nonterminal */
    uint32_t n_proj;
    /* Self-loop knowledge, per byte, as 64-bit words for quick tests:
     * loop = known to step this set to itself; no_loop = known not to
     * (dead bytes, outside `first`, from the start). Untested bytes are in
     * neither. */
    uint64_t loop[4], no_loop[4];
} eset;

/* The state with no future (rejected). */
extern eset earley_dead;

int earley_cache_init(smc_grammar *g);
void earley_cache_free(smc_grammar *g);
eset *earley_initial(const smc_grammar *g);
/* The grammar's byte classes: bytes that no terminal tells apart step every
 * set alike, so transitions are memoised per class (next[class[b]]). */
const uint8_t *earley_byte_classes(const smc_grammar *g);
/* Transition on one byte (memoised): a set, &earley_dead, or NULL when out of
 * memory. */
eset *earley_step(const smc_grammar *g, eset *s, unsigned char byte);
/* The same transition computed from the items alone, bypassing the memo,
 * the byte classes and the `first` shortcut (a reference for tests). */
eset *earley_step_direct(const smc_grammar *g, eset *s, unsigned char byte);
/* Does every byte in `bytes` lead from s back to s? Steps on demand and
 * remembers the answers per byte class (at most one step per byte class
 * per set over its life). -1 when out of memory. */
int earley_loops_slow(const smc_grammar *g, eset *s, const uint64_t bytes[4]);
static inline int earley_loops_on(const smc_grammar *g, eset *s, const uint64_t bytes[4])
{
    uint64_t bad = 0, unknown = 0;
    for (int w = 0; w < 4; w++) {
        bad |= bytes[w] & s->no_loop[w];
        unknown |= bytes[w] & ~s->loop[w];
    }
    if (bad)
        return 0;
    if (!unknown)
        return 1;
    return earley_loops_slow(g, s, bytes);
}
/* Token-mask walks share this memo: for a token index, a trie node
 * (`parent`, UINT32_MAX for the root) and a set of its children's bytes,
 * the union of the tokens of those children's whole subtrees (subtrees a
 * walk takes in one piece because every byte below them loops: string
 * bodies and identifiers give the same few sets in every context). NULL
 * when not cached. _add takes ownership of bits (a malloc'd mask of
 * n_bytes) and returns false, keeping nothing, when the memo is full. */
const uint32_t *earley_subtree_union(const smc_grammar *g, uint64_t index_uid, uint32_t parent,
                                     const uint64_t child_bytes[4]);
bool earley_subtree_union_add(const smc_grammar *g, uint64_t index_uid, uint32_t parent, const uint64_t child_bytes[4],
                              uint32_t *bits, size_t n_bytes);
/* Work done computing new sets (items processed) since creation. */
uint64_t earley_work(const smc_grammar *g);
/* Mask cache accounting: true if another mask of this many bytes may be kept. */
bool earley_mask_budget(const smc_grammar *g, size_t bytes);
size_t earley_n_sets(const smc_grammar *g);

static inline void earley_lock(const smc_grammar *g) { pthread_mutex_lock((pthread_mutex_t *)&g->lock); }
static inline void earley_unlock(const smc_grammar *g) { pthread_mutex_unlock((pthread_mutex_t *)&g->lock); }

#endif
