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
 * Token masks (token_mask.c) lean on what is kept here: byte classes
 * (bytes no terminal tells apart share one transition, so a new set costs
 * one step per class, not per byte), and per set the finer local classes
 * (bytes its own scanning items do not tell apart: one step serves them
 * all), its `first` bytes (any other byte is dead without a step), its
 * per-byte self-loop knowledge, a memo of unions of whole trie subtrees (a string body or an identifier
 * takes the same subtrees in every context, so the thousands of tokens they
 * hold are ORed in as one bitmap after the first time), and abstract sets
 * with their "pops" (earley_abstract): the part of a mask that does not
 * depend on the context is computed once per abstract set, as XGrammar
 * precomputes context-independent tokens, and only the rest is walked per
 * state.
 *
 * All functions here need g->lock held by the caller (except init/free). */
#ifndef SMC_CONSTRAINT_EARLEY_H
#define SMC_CONSTRAINT_EARLEY_H

#include <stdbool.h>
#include <stdint.h>

#include "constraint/grammar_internal.h"

#define EORG_SELF UINT32_MAX
/* Origin of the items of an abstract set (see earley_abstract): an
 * unknown context. */
#define EORG_EXT (UINT32_MAX - 1)

typedef struct eitem {
    uint32_t pos, org;
} eitem;

typedef struct emask {
    uint64_t index_uid;
    uint32_t *bits;
    struct emask *next;
} emask;

/* A token-mask walk result shared between contexts (token_mask.c): for a
 * token index, a trie node (UINT32_MAX: the root) and the abstract set
 * holding it, the tokens strictly below the node found viable from the
 * abstract set (as token-id words: n_words pairs idx[k], bits[k], or a
 * dense bitmap when idx is NULL) and the undecided nodes (see
 * earley_abstract), in trie order; or just the mark that the node's
 * subtree is too context-dependent to be worth sharing. */
typedef struct enmemo {
    uint64_t index_uid;
    uint32_t node;
    uint32_t n_words, n_unc;
    uint32_t *idx, *bits, *unc;
    bool useless;   /* too many undecided nodes: walk from the real state */
    struct enmemo *next;
} enmemo;

typedef struct eproj {
    uint32_t nt, id;
} eproj;

typedef struct eset {
    uint32_t id, n;
    eitem *items;          /* sorted by (pos, org) */
    uint32_t *scan;        /* the items waiting on a terminal (indices) */
    uint32_t n_scan;
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
    /* per byte class: the memoised transition completed an item whose
     * origin is the unknown context (EORG_EXT; abstract sets only) */
    uint64_t pop[4];
    struct eset *abs;      /* earley_abstract(s), once computed */
    enmemo *nmemo;         /* subtree results from this (abstract) set */
    struct eset *canon;    /* earley_canonical(s, canon_c), once computed (NULL: none) */
    uint32_t canon_c;      /* 0: not computed */
    bool counted_low;      /* with canon_c: inside a counted chain, lowest level below canon_c */
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
/* Abstract states. earley_abstract(s) is s with the origin of every item
 * not predicted in s replaced by EORG_EXT, an unknown context: the set
 * s would be if it were reached from any context with the same positions.
 * Stepping an abstract set computes only what does not depend on the
 * context (completing an item whose origin is EORG_EXT is skipped and
 * reported as a "pop"), so along a path of bytes the abstract sets are,
 * position for position, subsets of the sets the real state reaches, and
 * equal to them until the first pop. Hence, from an abstract state: a
 * prefix whose abstract set is alive is viable from every real state with
 * that abstraction; one that dies with no pop on its path is dead from all
 * of them; one that dies after a pop is undecided. Token masks use this to
 * share subtree results between contexts (token_mask.c). NULL when out of
 * memory. */
eset *earley_abstract(const smc_grammar *g, eset *s);
/* earley_step, also telling whether the step popped (abstract sets). */
eset *earley_step_pop(const smc_grammar *g, eset *s, unsigned char byte, bool *popped);
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
/* Counted repetitions (earley_counted.c): the chains of nested optionals
 * O_k ::= "" | x O_(k-1) that x{m,n} compiles to, found once per grammar.
 * earley_canonical(a, C): for an abstract set a inside such chains whose
 * lowest level is k >= C, the abstract set with every chain level shifted
 * down by k - C (a itself when k == C). Every prefix alive from it is alive
 * from a, and every prefix dead from it without a pop is dead from a
 * without a pop, so its token-mask walk stands for a's (token_mask.c).
 * 1 with *out set, 0 when a has no such form, -1 when out of memory;
 * remembered per set for one C. When it returns 0 because a's lowest
 * level is below C (a position near the end of a counted string),
 * a->counted_low is set. */
typedef struct earley_chains earley_chains;
earley_chains *earley_chains_new(const smc_grammar *g);
void earley_chains_free(earley_chains *ch);
const earley_chains *earley_get_chains(const smc_grammar *g);
/* How many links (levels O_k, k >= 2) the chains have: what tests and
 * `smcgen grammar` read to see that a repetition was recognised. */
uint32_t earley_chain_links(const earley_chains *ch);
/* The chains' tops (levels no link names as the one below; chains may share
 * their lower levels): how many, and the first cap of their levels (the
 * most copies of x each allows), ascending, in bounds. */
uint32_t earley_chain_tops(const earley_chains *ch, uint32_t *bounds, uint32_t cap);
int earley_canonical(const smc_grammar *g, eset *a, uint32_t c_min, eset **out);
/* Interns an abstract set (origins EORG_EXT or EORG_SELF) from its items
 * (sorted here); NULL when out of memory. */
eset *earley_intern_abstract(const smc_grammar *g, eitem *items, size_t n);
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
/* Token masks count the subtree results they reuse (for tests). */
void earley_count_memo_hit(const smc_grammar *g);
uint64_t earley_memo_hits(const smc_grammar *g);
/* Work done computing new sets (items processed) since creation. */
uint64_t earley_work(const smc_grammar *g);
/* Mask cache accounting: true if another mask of this many bytes may be kept. */
bool earley_mask_budget(const smc_grammar *g, size_t bytes);
size_t earley_n_sets(const smc_grammar *g);

static inline void earley_lock(const smc_grammar *g) { pthread_mutex_lock((pthread_mutex_t *)&g->lock); }
static inline void earley_unlock(const smc_grammar *g) { pthread_mutex_unlock((pthread_mutex_t *)&g->lock); }

#endif
