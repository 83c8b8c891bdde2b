/* pddl_bw.h — Blocksworld goal literals and their satisfiability (internal). */
#ifndef SMC_POTENTIALS_PDDL_BW_H
#define SMC_POTENTIALS_PDDL_BW_H

#include <stdbool.h>
#include <stddef.h>

enum bw_pred { BW_ON, BW_ON_TABLE, BW_CLEAR, BW_HOLDING, BW_ARM_EMPTY, BW_N_PREDS };

typedef struct bw_lit {
    int pred;   /* enum bw_pred */
    int a, b;   /* object indices; -1 when the predicate takes fewer */
} bw_lit;

/* True when some Blocksworld state over n blocks makes every literal true.
 * When false and why != NULL, writes the conflict there. */
bool bw_satisfiable(int n, const bw_lit *lits, int n_lits, char *why, size_t why_cap);

/* True when every state over n blocks that satisfies lits also satisfies l
 * (lits assumed satisfiable). */
bool bw_entails(int n, const bw_lit *lits, int n_lits, bw_lit l);

const char *bw_pred_name(int pred);
int bw_pred_arity(int pred);

#endif
