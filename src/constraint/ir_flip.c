/* ir_flip.c — the last normalisation ir_finish runs before compiling (after
 * ir_merge.c): bounded repetitions nested on the left,
 * sK ::= "" | sK+1 x down to sN ::= "" | x, are written nested on the
 * right, sK ::= "" | x sK+1: the form x{0,n} compiles to (ir_repeat), which
 * token masks walk with a counter (earley_counted.c). Levels nested either
 * way may be mixed in one chain.
 *
 * What is rewritten: a nonterminal A with exactly two productions, "" and
 * B x (B a nonterminal, x one or more symbols), such that B has exactly the
 * productions "" and x (a bottom), or "" and B' x, or "" and x B', with B'
 * such a level again over the same x (symbol for symbol), down to a
 * bottom; no cycles. Each such level derives x^0..x^k whichever way it is
 * nested, and A ::= "" | x B derives the same: replacing B in A's
 * production by B's productions (which keeps the language of every
 * nonterminal), level after level down to the bottom, gives both spellings
 * the same productions A ::= "" | x | x x | ... | x^k. Levels whose x
 * differs (sK ::= "" | sK+1 "a", sK+1 ::= "" | "b" derives "", "a", "b",
 * "ba": not the mirror image) are left as they are. A level already nested
 * on the right is kept. Each production is rotated in place.
 *
 * Why the languages are the same: every level's equation holds at the
 * grammar's least fixed point, so there a level of a chain over x derives
 * X^0..X^k (X: what x derives), by induction from the bottom; X commutes
 * with that, so the old grammar's languages satisfy the new equations, and
 * the other way round as long as every chain is still one after the
 * rotations. That is why a bottom is never rotated (B ::= "" | B' x' is
 * the bottom of a chain over B' x' when it is not one over x'): the
 * chains over x' would lose it. Each least fixed point is then at most the
 * other. */
#include <stdlib.h>
#include <string.h>

#include "constraint/ir_internal.h"

enum { LEFT, RIGHT };   /* where a level names the level below it: B x, x B */
enum { UNSEEN, ON_PATH, DONE };

typedef struct flip {
    const ir_builder *b;
    uint32_t *body;    /* per nonterminal: its non-empty production when it is "" | body, else UINT32_MAX */
    uint32_t *level;   /* per (nonterminal, side): its level (>= 2), 0 when none */
    uint8_t *state;    /* per (nonterminal, side) */
    uint32_t *path;
} flip;

static const uint32_t *body_syms(const flip *f, uint32_t nt) { return f->b->syms + f->b->prods[f->body[nt]].start; }
static uint32_t body_len(const flip *f, uint32_t nt) { return f->b->prods[f->body[nt]].len; }

/* Does nt name a level below it on `side` (B x or x B with |x| >= 1)? Its
 * x in *x, *xn; the level below is returned (UINT32_MAX when none). */
static uint32_t below(const flip *f, uint32_t nt, int side, const uint32_t **x, uint32_t *xn)
{
    if (f->body[nt] == UINT32_MAX || body_len(f, nt) < 2)
        return UINT32_MAX;
    const uint32_t *s = body_syms(f, nt);
    uint32_t n = body_len(f, nt), d = side == LEFT ? s[0] : s[n - 1];
    if (IR_IS_TERM(d))
        return UINT32_MAX;
    *x = side == LEFT ? s + 1 : s;
    *xn = n - 1;
    return d;
}

static bool same_seq(const uint32_t *a, uint32_t an, const uint32_t *c, uint32_t cn)
{
    return an == cn && memcmp(a, c, an * sizeof *a) == 0;
}

/* The state after (nt, side): the level below as a state (nt' * 2 + side'),
 * UINT32_MAX - 1 when it is a bottom over the same x, UINT32_MAX when it is
 * no level over that x. */
#define BOTTOM (UINT32_MAX - 1)
static uint32_t next_state(const flip *f, uint32_t st)
{
    const uint32_t *x, *y;
    uint32_t xn, yn, d = below(f, st / 2, (int)(st % 2), &x, &xn);
    if (d == UINT32_MAX || f->body[d] == UINT32_MAX)
        return UINT32_MAX;
    if (same_seq(body_syms(f, d), body_len(f, d), x, xn))
        return BOTTOM;
    for (int side = LEFT; side <= RIGHT; side++)
        if (below(f, d, side, &y, &yn) != UINT32_MAX && same_seq(y, yn, x, xn))
            return d * 2 + (uint32_t)side;
    return UINT32_MAX;
}

/* Every state's level, following each chain down once (iteratively: a
 * chain may have thousands of levels). */
static void find_levels(flip *f, size_t n_states)
{
    for (uint32_t s0 = 0; s0 < n_states; s0++) {
        size_t sp = 0;
        uint32_t st = s0, base = 0;   /* the level of what the path ends on */
        while (st != UINT32_MAX && st != BOTTOM && f->state[st] == UNSEEN) {
            f->state[st] = ON_PATH;
            f->path[sp++] = st;
            st = next_state(f, st);
        }
        if (st == BOTTOM)
            base = 1;
        else if (st != UINT32_MAX && f->state[st] == DONE)
            base = f->level[st];   /* (ON_PATH: a cycle, no chain) */
        while (sp) {
            uint32_t t = f->path[--sp];
            base = base ? base + 1 : 0;
            f->level[t] = base;
            f->state[t] = DONE;
        }
    }
}

int ir_flip(ir_builder *b)
{
    size_t n_nt = b->n_nt, n_prod = b->n_prod;
    flip f = {.b = b};
    uint32_t *n_prods = calloc(n_nt + 1, sizeof *n_prods);
    uint8_t *has_empty = calloc(n_nt + 1, 1), *is_bottom = calloc(n_nt + 1, 1);
    f.body = malloc((n_nt + 1) * sizeof *f.body);
    f.level = calloc(2 * n_nt + 1, sizeof *f.level);
    f.state = calloc(2 * n_nt + 1, 1);
    f.path = malloc((2 * n_nt + 1) * sizeof *f.path);
    int rc = -1;
    if (!n_prods || !has_empty || !is_bottom || !f.body || !f.level || !f.state || !f.path)
        goto out;
    for (size_t i = 0; i < n_nt; i++)
        f.body[i] = UINT32_MAX;
    for (size_t p = 0; p < n_prod; p++) {
        const ir_prod *pr = &b->prods[p];
        n_prods[pr->lhs]++;
        if (pr->len)
            f.body[pr->lhs] = (uint32_t)p;
        else
            has_empty[pr->lhs] = 1;
    }
    for (size_t i = 0; i < n_nt; i++)
        if (n_prods[i] != 2 || !has_empty[i])
            f.body[i] = UINT32_MAX;
    find_levels(&f, 2 * n_nt);
    for (uint32_t st = 0; st < 2 * n_nt; st++) {   /* bottoms stay as they are */
        const uint32_t *x;
        uint32_t xn;
        if (f.level[st] == 2 && next_state(&f, st) == BOTTOM)
            is_bottom[below(&f, st / 2, (int)(st % 2), &x, &xn)] = 1;
    }
    for (size_t a = 0; a < n_nt; a++) {
        if (f.level[2 * a + RIGHT] || !f.level[2 * a + LEFT] || is_bottom[a])
            continue;
        uint32_t *s = b->syms + b->prods[f.body[a]].start, n = b->prods[f.body[a]].len, d = s[0];
        memmove(s, s + 1, (n - 1) * sizeof *s);   /* B x -> x B */
        s[n - 1] = d;
    }
    rc = 0;
out:
    free(n_prods);
    free(has_empty);
    free(is_bottom);
    free(f.body);
    free(f.level);
    free(f.state);
    free(f.path);
    return rc;
}
