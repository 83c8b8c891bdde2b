/* ir_factor.c — a normalisation ir_finish runs between ir_inline.c and
 * ir_merge.c: the alternatives of an optional that all end with the same
 * rule are written as one group before it, A ::= "" | α1 B | α2 B | ...
 * gives A ::= "" | X B with X ::= α1 | α2 | ... (B not A; every αi
 * non-empty), and so are those that all start with the same rule,
 * A ::= "" | B α1 | B α2 | ... gives A ::= "" | B X; the B of such a
 * rule, when it is "" | β1 | β2 | ... itself, gives B ::= "" | Y with
 * Y ::= β1 | β2 | .... A bounded repetition whose x has alternatives spread
 * over each level, sK ::= "" | [ab] sK+1 | "''" sK+1 (or sK+1 [ab] |
 * sK+1 "''"), so becomes sK ::= "" | X sK+1 (sK+1 X), and with ir_merge.c
 * making the X of every level one, a counted chain (earley_counted.c;
 * ir_flip.c nests the second on the right). Same language. */
#include <stdlib.h>
#include <string.h>

#include "constraint/ir_internal.h"

typedef struct factor {
    ir_builder *b;
    uint32_t *off, *list;   /* per nonterminal: its productions (as given), list[off[nt]..off[nt+1]) */
    uint8_t *dead;          /* per production (as given): replaced */
    uint32_t *tmp;          /* a body being copied (ir_add_prod may move b->syms) */
} factor;

/* nt's productions: "" once, then at least two others; the common last
 * and first symbols of those (IR_TERM when none, or one is too short) in
 * *last and *first. */
static bool optional_alts(const factor *f, uint32_t nt, uint32_t *last, uint32_t *first)
{
    const ir_builder *b = f->b;
    uint32_t n = f->off[nt + 1] - f->off[nt], empty = 0, common = UINT32_MAX, head = UINT32_MAX;
    for (uint32_t k = f->off[nt]; k < f->off[nt + 1]; k++) {
        const ir_prod *pr = &b->prods[f->list[k]];
        if (!pr->len) {
            empty++;
            continue;
        }
        uint32_t s = pr->len >= 2 ? b->syms[pr->start + pr->len - 1] : IR_TERM;
        uint32_t h = pr->len >= 2 ? b->syms[pr->start] : IR_TERM;
        common = common == UINT32_MAX || common == s ? s : IR_TERM;
        head = head == UINT32_MAX || head == h ? h : IR_TERM;
    }
    *last = common == UINT32_MAX ? IR_TERM : common;
    *first = head == UINT32_MAX ? IR_TERM : head;
    return empty == 1 && n >= 3;
}

/* nt ::= "" | head X tail (head, tail: IR_TERM or the common first or last
 * symbol), X ::= the other bodies without them. */
static void group(factor *f, uint32_t nt, uint32_t head, uint32_t tail)
{
    ir_builder *b = f->b;
    uint32_t x = ir_fresh(b);
    for (uint32_t k = f->off[nt]; k < f->off[nt + 1] && !ir_failed(b); k++) {
        uint32_t p = f->list[k];
        ir_prod pr = b->prods[p];
        if (!pr.len)
            continue;
        uint32_t skip = head != IR_TERM, n = pr.len - skip - (tail != IR_TERM);
        memcpy(f->tmp, b->syms + pr.start + skip, n * sizeof *f->tmp);
        ir_add_prod(b, x, f->tmp, n);
        f->dead[p] = 1;
    }
    uint32_t rhs[3], n = 0;
    if (head != IR_TERM)
        rhs[n++] = head;
    rhs[n++] = x;
    if (tail != IR_TERM)
        rhs[n++] = tail;
    ir_add_prod(b, nt, rhs, n);
}

int ir_factor(ir_builder *b)
{
    size_t n_nt = b->n_nt, n_prod = b->n_prod;
    uint32_t max_len = 1;
    for (size_t p = 0; p < n_prod; p++)
        max_len = b->prods[p].len > max_len ? b->prods[p].len : max_len;
    factor f = {.b = b};
    f.off = calloc(n_nt + 2, sizeof *f.off);
    f.list = malloc((n_prod ? n_prod : 1) * sizeof *f.list);
    f.dead = calloc(n_prod ? n_prod : 1, 1);
    f.tmp = malloc(max_len * sizeof *f.tmp);
    uint32_t *fill = calloc(n_nt + 1, sizeof *fill), *tails = malloc((n_nt ? n_nt : 1) * sizeof *tails);
    uint8_t *linked = calloc(n_nt + 1, 1);
    int rc = -1;
    if (!f.off || !f.list || !f.dead || !f.tmp || !fill || !tails || !linked)
        goto out;
    for (size_t p = 0; p < n_prod; p++)
        f.off[b->prods[p].lhs + 1]++;
    for (size_t i = 0; i < n_nt; i++)
        f.off[i + 1] += f.off[i];
    for (size_t p = 0; p < n_prod; p++)
        f.list[f.off[b->prods[p].lhs] + fill[b->prods[p].lhs]++] = (uint32_t)p;
    size_t n_tails = 0;
    for (uint32_t a = 0; a < n_nt; a++) {   /* A ::= "" | α1 B | α2 B | ... (or B α1 | B α2 | ...) */
        uint32_t last, first;
        if (!optional_alts(&f, a, &last, &first))
            continue;
        if (last != IR_TERM && last != a && !IR_IS_TERM(last)) {
            group(&f, a, IR_TERM, last);
        } else if (first != IR_TERM && first != a && !IR_IS_TERM(first)) {
            group(&f, a, first, IR_TERM);
            last = first;
        } else {
            continue;
        }
        linked[a] = 1;
        tails[n_tails++] = last;
    }
    for (size_t i = 0; i < n_tails; i++) {   /* its B ::= "" | β1 | β2 | ... */
        uint32_t t = tails[i], last, first;
        if (!linked[t] && optional_alts(&f, t, &last, &first)) {
            group(&f, t, IR_TERM, IR_TERM);
            linked[t] = 1;
        }
    }
    if (ir_failed(b))
        goto out;
    size_t w = 0;
    for (size_t p = 0; p < b->n_prod; p++)
        if (p >= n_prod || !f.dead[p])
            b->prods[w++] = b->prods[p];
    b->n_prod = w;
    rc = 0;
out:
    free(f.off);
    free(f.list);
    free(f.dead);
    free(f.tmp);
    free(fill);
    free(tails);
    free(linked);
    return rc;
}
