/* ir_inline.c — the normalisation ir_finish runs before compiling: the
 * anonymous nonterminals the front ends make for groups and optionals are
 * inlined where they are used once, so that the compiled grammar's shape
 * does not depend on how a rule was spelled.
 * - an anonymous nonterminal with one production, used once, is spliced
 *   into the production that uses it: A ::= α G β, G ::= γ gives
 *   A ::= α γ β (a group `(x B)`);
 * - a production that is one anonymous nonterminal with several
 *   productions, used only there, is replaced by those productions:
 *   A ::= O, O ::= "" | γ gives A ::= "" | γ (an optional `(...)?`, a
 *   Lark `[...]`, a group of alternatives) — but not N in A ::= "" | N
 *   when N has no empty production: that optional of a group stays, the
 *   shape of a counted chain's last level;
 * applied inside what is inlined too, with a second empty production of a
 * left-hand side dropped. Nothing is copied (each inlined nonterminal had
 * one use), so the grammar only shrinks; the language is the same.
 * The point: `A ::= (x B)?` (A ::= O, O ::= "" | G, G ::= x B) becomes
 * A ::= "" | x B, the form x{0,n} compiles to (ir_repeat), which token
 * masks recognise as a counted chain (earley_counted.c); Earley sets also
 * get fewer items. The root stays a nonterminal of its own. */
#include <stdlib.h>
#include <string.h>

#include "constraint/ir_internal.h"

#define INLINE_MAX_DEPTH 256   /* deeper nests are left as they are */

enum { KEEP, SPLICE, FLATTEN };

typedef struct inl {
    const ir_builder *b;
    uint8_t *mode, *busy, *done, *has_empty;
    uint8_t *src_empty;     /* per nonterminal: one of its productions (as given) is empty */
    uint32_t *off, *list;   /* per nonterminal: its productions, list[off[nt]..off[nt+1]) */
    ir_prod *prods;         /* the result */
    uint32_t *syms;
    size_t n_prod, n_syms;
} inl;

static bool inlinable(const inl *c, uint32_t s, int mode, unsigned depth)
{
    return !IR_IS_TERM(s) && c->mode[s] == mode && !c->busy[s] && !c->done[s] && depth < INLINE_MAX_DEPTH;
}

/* Appends production p's body with its splices done. */
static void expand(inl *c, uint32_t p, unsigned depth)
{
    const ir_prod *pr = &c->b->prods[p];
    for (uint32_t i = 0; i < pr->len; i++) {
        uint32_t s = c->b->syms[pr->start + i];
        if (inlinable(c, s, SPLICE, depth)) {
            c->busy[s] = c->done[s] = 1;
            expand(c, c->list[c->off[s]], depth + 1);
            c->busy[s] = 0;
        } else {
            c->syms[c->n_syms++] = s;
        }
    }
}

/* Is nt "" | one other production (an optional)? */
static bool optional_pair(const inl *c, uint32_t nt)
{
    return c->off[nt + 1] - c->off[nt] == 2 && c->src_empty[nt];
}

/* Do all of nt's productions (as given) end with one nonterminal after
 * something (`α1 B | α2 B`), or all start with one before something
 * (`B α1 | B α2`), which ir_factor.c groups? */
static bool common_tail(const inl *c, uint32_t nt)
{
    uint32_t tail = IR_TERM, head = IR_TERM;
    bool tails = true, heads = true;
    for (uint32_t k = c->off[nt]; k < c->off[nt + 1]; k++) {
        const ir_prod *pr = &c->b->prods[c->list[k]];
        uint32_t s = pr->len >= 2 ? c->b->syms[pr->start + pr->len - 1] : IR_TERM;
        uint32_t h = pr->len >= 2 ? c->b->syms[pr->start] : IR_TERM;
        tails &= !IR_IS_TERM(s) && (k == c->off[nt] || s == tail);
        heads &= !IR_IS_TERM(h) && (k == c->off[nt] || h == head);
        tail = s;
        head = h;
    }
    return tails || heads;
}

/* Emits production p of owner under lhs with its splices done; when that
 * leaves one nonterminal N to flatten (A ::= N), N's productions instead,
 * but not in an optional of a group with no empty alternative (and not
 * of the form α1 B | α2 B or B α1 | B α2): A ::= "" | N stays the bottom of a counted
 * chain, x = N (ir_merge.c makes the N of every level one). */
static void emit(inl *c, uint32_t lhs, uint32_t owner, uint32_t p, unsigned depth)
{
    size_t start = c->n_syms;
    expand(c, p, depth);
    uint32_t len = (uint32_t)(c->n_syms - start), s = len == 1 ? c->syms[start] : IR_TERM;
    if (s != lhs && inlinable(c, s, FLATTEN, depth) && !(optional_pair(c, owner) && !c->src_empty[s] && !common_tail(c, s))) {
        c->n_syms = start;
        c->busy[s] = c->done[s] = 1;
        for (uint32_t k = c->off[s]; k < c->off[s + 1]; k++)
            emit(c, lhs, s, c->list[k], depth + 1);
        c->busy[s] = 0;
        return;
    }
    if (len == 0 && c->has_empty[lhs])
        return;
    c->has_empty[lhs] |= len == 0;
    c->prods[c->n_prod++] = (ir_prod){lhs, (uint32_t)start, len};
}

int ir_inline(ir_builder *b, uint32_t root)
{
    size_t n_nt = b->n_nt, n_prod = b->n_prod;
    inl c = {.b = b};
    uint32_t *occ = calloc(n_nt + 1, sizeof *occ), *fill = calloc(n_nt + 1, sizeof *fill);
    c.mode = calloc(n_nt + 1, 1);
    c.busy = calloc(n_nt + 1, 1);
    c.done = calloc(n_nt + 1, 1);
    c.has_empty = calloc(n_nt + 1, 1);
    c.src_empty = calloc(n_nt + 1, 1);
    c.off = calloc(n_nt + 2, sizeof *c.off);
    c.list = malloc((n_prod ? n_prod : 1) * sizeof *c.list);
    c.prods = malloc((n_prod ? n_prod : 1) * sizeof *c.prods);
    c.syms = malloc((b->n_syms ? b->n_syms : 1) * sizeof *c.syms);
    int rc = -1;
    if (!occ || !fill || !c.mode || !c.busy || !c.done || !c.has_empty || !c.src_empty || !c.off || !c.list || !c.prods || !c.syms)
        goto out;
    for (size_t p = 0; p < n_prod; p++) {
        const ir_prod *pr = &b->prods[p];
        c.off[pr->lhs + 1]++;
        c.src_empty[pr->lhs] |= pr->len == 0;
        for (uint32_t i = 0; i < pr->len; i++)
            if (!IR_IS_TERM(b->syms[pr->start + i]))
                occ[b->syms[pr->start + i]]++;
    }
    occ[root]++;   /* used from outside */
    for (size_t i = 0; i < n_nt; i++)
        c.off[i + 1] += c.off[i];
    for (size_t p = 0; p < n_prod; p++)
        c.list[c.off[b->prods[p].lhs] + fill[b->prods[p].lhs]++] = (uint32_t)p;
    for (size_t nt = 0; nt < n_nt; nt++) {
        uint32_t np = c.off[nt + 1] - c.off[nt];
        if (!b->nts[nt].name && occ[nt] == 1 && np)
            c.mode[nt] = np == 1 ? SPLICE : FLATTEN;
    }
    for (size_t p = 0; p < n_prod; p++)
        if (c.mode[b->prods[p].lhs] == KEEP)
            emit(&c, b->prods[p].lhs, b->prods[p].lhs, (uint32_t)p, 0);
    /* what was not inlined after all (too deep, or on a cycle of its own) */
    for (size_t nt = 0; nt < n_nt; nt++)
        if (c.mode[nt] != KEEP && !c.done[nt]) {
            c.done[nt] = 1;
            for (uint32_t k = c.off[nt]; k < c.off[nt + 1]; k++)
                emit(&c, (uint32_t)nt, (uint32_t)nt, c.list[k], 0);
        }
    free(b->prods);
    free(b->syms);
    b->prods = c.prods;
    b->syms = c.syms;
    b->cap_prod = n_prod ? n_prod : 1;
    b->cap_syms = b->n_syms ? b->n_syms : 1;
    b->n_prod = c.n_prod;
    b->n_syms = c.n_syms;
    c.prods = NULL;
    c.syms = NULL;
    rc = 0;
out:
    free(occ);
    free(fill);
    free(c.mode);
    free(c.busy);
    free(c.done);
    free(c.has_empty);
    free(c.src_empty);
    free(c.off);
    free(c.list);
    free(c.prods);
    free(c.syms);
    return rc;
}
