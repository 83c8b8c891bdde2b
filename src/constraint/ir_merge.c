/* ir_merge.c — the second normalisation ir_finish runs before compiling
 * (after ir_inline.c): anonymous nonterminals with the same productions
 * (the same bodies, in any order) are merged into one. A group written out
 * at every level of a bounded repetition, sK ::= "" | ([ab] | "''") sK+1,
 * makes a fresh nonterminal per level; merged, the levels share one x and
 * form a counted chain (earley_counted.c). Rounds repeat while merging
 * makes more bodies equal (a few at most). Same language; the root and the
 * start symbol are kept. */
#include <stdlib.h>
#include <string.h>

#include "constraint/ir_internal.h"

#define MERGE_MAX_ROUNDS 4

typedef struct keyed {
    uint64_t h;
    uint32_t id;   /* a production, or a nonterminal */
} keyed;

static int cmp_keyed(const void *x, const void *y)
{
    const keyed *a = x, *c = y;
    if (a->h != c->h)
        return a->h < c->h ? -1 : 1;
    return a->id < c->id ? -1 : a->id > c->id;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ h >> 33;
}

static bool same_prod(const ir_builder *b, uint32_t p, uint32_t q)
{
    const ir_prod *x = &b->prods[p], *y = &b->prods[q];
    return x->len == y->len && memcmp(b->syms + x->start, b->syms + y->start, x->len * sizeof *b->syms) == 0;
}

/* Same productions: each nonterminal's are sorted by their hash, so equal
 * multisets line up (but for hash collisions inside one, which only miss a
 * merge). */
static bool same_prods(const ir_builder *b, const uint32_t *off, const keyed *pk, uint32_t a, uint32_t c)
{
    uint32_t n = off[a + 1] - off[a];
    if (n != off[c + 1] - off[c])
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (pk[off[a] + i].h != pk[off[c] + i].h || !same_prod(b, pk[off[a] + i].id, pk[off[c] + i].id))
            return false;
    return true;
}

/* One round; the number of nonterminals merged away, or -1 (out of memory). */
static long merge_round(ir_builder *b, uint32_t root, uint32_t start)
{
    size_t n_nt = b->n_nt, n_prod = b->n_prod;
    uint32_t *off = calloc(n_nt + 2, sizeof *off), *fill = calloc(n_nt + 1, sizeof *fill);
    uint32_t *rep = malloc((n_nt ? n_nt : 1) * sizeof *rep);
    keyed *pk = malloc((n_prod ? n_prod : 1) * sizeof *pk), *nk = malloc((n_nt ? n_nt : 1) * sizeof *nk);
    long merged = -1;
    if (!off || !fill || !rep || !pk || !nk)
        goto out;
    for (size_t p = 0; p < n_prod; p++)
        off[b->prods[p].lhs + 1]++;
    for (size_t i = 0; i < n_nt; i++)
        off[i + 1] += off[i];
    for (size_t p = 0; p < n_prod; p++) {   /* per nonterminal: its productions with their hashes */
        const ir_prod *pr = &b->prods[p];
        uint64_t h = mix(pr->len + 1);
        for (uint32_t i = 0; i < pr->len; i++)
            h = mix(h ^ b->syms[pr->start + i]);
        pk[off[pr->lhs] + fill[pr->lhs]++] = (keyed){h, (uint32_t)p};
    }
    size_t n_ids = 0;
    for (uint32_t a = 0; a < n_nt; a++) {
        rep[a] = a;
        if (b->nts[a].name || a == root || a == start || off[a + 1] == off[a])
            continue;
        qsort(pk + off[a], off[a + 1] - off[a], sizeof *pk, cmp_keyed);
        uint64_t h = off[a + 1] - off[a];
        for (uint32_t k = off[a]; k < off[a + 1]; k++)
            h = mix(h ^ pk[k].h);
        nk[n_ids++] = (keyed){h, a};
    }
    qsort(nk, n_ids, sizeof *nk, cmp_keyed);
    merged = 0;
    for (size_t i = 0; i < n_ids;) {
        size_t j = i;
        while (j < n_ids && nk[j].h == nk[i].h)
            j++;
        for (size_t k = i + 1; k < j; k++)   /* the first equal one before it stands for it */
            for (size_t r = i; r < k; r++)
                if (rep[nk[r].id] == nk[r].id && same_prods(b, off, pk, nk[k].id, nk[r].id)) {
                    rep[nk[k].id] = nk[r].id;
                    merged++;
                    break;
                }
        i = j;
    }
    if (merged) {
        size_t w = 0;
        for (size_t p = 0; p < n_prod; p++) {
            ir_prod pr = b->prods[p];
            if (rep[pr.lhs] != pr.lhs)
                continue;
            for (uint32_t i = 0; i < pr.len; i++) {
                uint32_t s = b->syms[pr.start + i];
                if (!IR_IS_TERM(s) && s < n_nt)
                    b->syms[pr.start + i] = rep[s];
            }
            b->prods[w++] = pr;
        }
        b->n_prod = w;
    }
out:
    free(off);
    free(fill);
    free(rep);
    free(pk);
    free(nk);
    return merged;
}

int ir_merge(ir_builder *b, uint32_t root, uint32_t start)
{
    for (int r = 0; r < MERGE_MAX_ROUNDS; r++) {
        long n = merge_round(b, root, start);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
    }
    return 0;
}
