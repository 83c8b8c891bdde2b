/* pddl_bw_sat.c — exact satisfiability and entailment of conjunctions of
 * Blocksworld goal literals.
 *
 * Why this is exact. A Blocksworld state over blocks B assigns each block one
 * position: the table, the hand, or another block; no block is under two
 * blocks; the "on" relation has no cycles; at most one block is held;
 * (arm-empty) holds iff none is held; (clear x) holds iff no block is on x and
 * x is not held. Every such state is reachable from every other (unstack all
 * towers onto the table, then build the target towers bottom-up, then pick up
 * the block to be held, which is clear and on the table at that point), so
 * "reachable" adds nothing beyond "valid".
 *
 * A conjunction of positive literals fixes some positions (on, on-table,
 * holding) and forbids some things (clear x: nothing on x and x not held;
 * arm-empty: nothing held). It is satisfiable iff the fixed positions are
 * consistent (one position per block, no block on itself, at most one block
 * on each block, at most one held, nothing on a held block, no cycle) and no
 * prohibition is violated by them: then putting every unplaced block on the
 * table gives a valid state (unplaced blocks add nothing on top of anything
 * and are not held), which satisfies every literal. Conversely each listed
 * conflict rules out every state.
 *
 * Entailment of a literal l by a satisfiable G: G entails l iff G and not-l is
 * unsatisfiable. Each negated literal is a disjunction of positive ones over
 * the block's possible positions (not on(x,y) = x on the table, held, or on
 * some z != y; not clear(x) = x held or some z on x; not arm-empty = some z
 * held), so entailment is a handful of satisfiability checks. */
#include "potentials/pddl_bw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const PRED_NAMES[BW_N_PREDS] = {"on", "on-table", "clear", "holding", "arm-empty"};
static const int PRED_ARITY[BW_N_PREDS] = {2, 1, 1, 1, 0};

const char *bw_pred_name(int pred) { return pred >= 0 && pred < BW_N_PREDS ? PRED_NAMES[pred] : "?"; }
int bw_pred_arity(int pred) { return pred >= 0 && pred < BW_N_PREDS ? PRED_ARITY[pred] : -1; }

enum { POS_NONE = -1, POS_TABLE = -2, POS_HAND = -3 };

#define WHY(...) do { if (why && why_cap) snprintf(why, why_cap, __VA_ARGS__); } while (0)

bool bw_satisfiable(int n, const bw_lit *lits, int n_lits, char *why, size_t why_cap)
{
    if (n <= 0)
        return n_lits == 0;
    int stack_pos[64], stack_above[64];
    int *pos = n <= 64 ? stack_pos : malloc((size_t)n * sizeof *pos);
    int *above = n <= 64 ? stack_above : malloc((size_t)n * sizeof *above);
    bool ok = false;
    if (!pos || !above) {
        WHY("out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        pos[i] = above[i] = POS_NONE;
    int held = -1;
    bool arm_empty = false;
    /* fixed positions */
    for (int k = 0; k < n_lits; k++) {
        const bw_lit *l = &lits[k];
        int want;
        if (l->pred == BW_ARM_EMPTY) {
            arm_empty = true;
            continue;
        }
        if (l->a < 0 || l->a >= n || (l->pred == BW_ON && (l->b < 0 || l->b >= n))) {
            WHY("literal names an unknown object");
            goto out;
        }
        if (l->pred == BW_ON)
            want = l->b;
        else if (l->pred == BW_ON_TABLE)
            want = POS_TABLE;
        else if (l->pred == BW_HOLDING)
            want = POS_HAND;
        else
            continue;
        if (want == l->a) {
            WHY("block %d cannot be on itself", l->a);
            goto out;
        }
        if (pos[l->a] != POS_NONE && pos[l->a] != want) {
            WHY("block %d is given two positions", l->a);
            goto out;
        }
        pos[l->a] = want;
        if (want >= 0) {
            if (above[want] != POS_NONE && above[want] != l->a) {
                WHY("two blocks on block %d", want);
                goto out;
            }
            above[want] = l->a;
        }
        if (want == POS_HAND) {
            if (held >= 0 && held != l->a) {
                WHY("holding two blocks");
                goto out;
            }
            held = l->a;
        }
    }
    if (arm_empty && held >= 0) {
        WHY("holding a block with the arm empty");
        goto out;
    }
    if (held >= 0 && above[held] != POS_NONE) {
        WHY("a block is on the held block");
        goto out;
    }
    /* clear: nothing on it, not held */
    for (int k = 0; k < n_lits; k++)
        if (lits[k].pred == BW_CLEAR) {
            int x = lits[k].a;
            if (x < 0 || x >= n) {
                WHY("literal names an unknown object");
                goto out;
            }
            if (above[x] != POS_NONE || pos[x] == POS_HAND) {
                WHY("block %d cannot be clear", x);
                goto out;
            }
        }
    /* cycles: follow pos from each block; a chain longer than n loops */
    for (int i = 0; i < n; i++) {
        int x = i, steps = 0;
        while (x >= 0 && steps <= n) {
            x = pos[x];
            steps++;
        }
        if (x >= 0) {
            WHY("the blocks form a cycle");
            goto out;
        }
    }
    ok = true;
out:
    if (pos != stack_pos)
        free(pos);
    if (above != stack_above)
        free(above);
    return ok;
}

/* Is lits + extra satisfiable? */
static bool sat_with(int n, const bw_lit *lits, int n_lits, bw_lit extra, bw_lit *scratch)
{
    memcpy(scratch, lits, (size_t)n_lits * sizeof *lits);
    scratch[n_lits] = extra;
    return bw_satisfiable(n, scratch, n_lits + 1, NULL, 0);
}

bool bw_entails(int n, const bw_lit *lits, int n_lits, bw_lit l)
{
    bw_lit *scratch = malloc(((size_t)n_lits + 1) * sizeof *scratch);
    if (!scratch)
        return false;
    bool counter = false; /* a state of lits where l is false exists */
    int x = l.a;
    switch (l.pred) {
    case BW_ON: case BW_ON_TABLE: case BW_HOLDING:
        /* x somewhere else */
        if (l.pred != BW_ON_TABLE)
            counter = counter || sat_with(n, lits, n_lits, (bw_lit){BW_ON_TABLE, x, -1}, scratch);
        if (l.pred != BW_HOLDING)
            counter = counter || sat_with(n, lits, n_lits, (bw_lit){BW_HOLDING, x, -1}, scratch);
        for (int z = 0; z < n && !counter; z++)
            if (z != x && !(l.pred == BW_ON && z == l.b))
                counter = sat_with(n, lits, n_lits, (bw_lit){BW_ON, x, z}, scratch);
        break;
    case BW_CLEAR:
        counter = sat_with(n, lits, n_lits, (bw_lit){BW_HOLDING, x, -1}, scratch);
        for (int z = 0; z < n && !counter; z++)
            if (z != x)
                counter = sat_with(n, lits, n_lits, (bw_lit){BW_ON, z, x}, scratch);
        break;
    case BW_ARM_EMPTY:
        for (int z = 0; z < n && !counter; z++)
            counter = sat_with(n, lits, n_lits, (bw_lit){BW_HOLDING, z, -1}, scratch);
        break;
    default:
        break;
    }
    free(scratch);
    return !counter;
}
