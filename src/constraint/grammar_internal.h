/* grammar_internal.h — the compiled grammar (struct smc_grammar) shared by
 * ir.c (which builds it), earley.c (which runs it) and grammar.c. */
#ifndef SMC_CONSTRAINT_GRAMMAR_INTERNAL_H
#define SMC_CONSTRAINT_GRAMMAR_INTERNAL_H

#include <pthread.h>

#include "constraint/ir.h"

/* pos_sym entries: a nonterminal id, IR_TERM | terminal id, or
 * POS_END | lhs at the end of each production. */
#define POS_END 0x40000000u
#define POS_IS_END(s) (((s) & POS_END) != 0 && !IR_IS_TERM(s))
#define POS_ID(s) ((s) & 0x3FFFFFFFu)

struct earley_cache;

struct smc_grammar {
    uint32_t n_nt, n_pos, n_terms;
    uint32_t *pos_sym;          /* n_pos */
    uint32_t *pos_lhs;          /* n_pos: the production's left-hand side */
    ir_byteset *terms;          /* n_terms */
    uint8_t *nullable;          /* n_nt */
    uint32_t **pred;            /* per nonterminal: positions predicted (closure, origin = here) */
    uint32_t *n_pred;
    uint32_t start_nt;          /* S' -> root */
    smc_grammar_stats stats;
    char *warnings;
    pthread_mutex_t lock;       /* guards cache */
    struct earley_cache *cache; /* interned Earley sets (earley.c) */
};

#endif
