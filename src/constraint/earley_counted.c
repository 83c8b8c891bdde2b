/* earley_counted.c — counted repetitions as the Earley sets see them, for
 * token masks: the chains of a compiled grammar and the canonical shift of
 * an abstract set inside one (earley_canonical).
 *
 * x{m,n} compiles (ir_repeat) to n-m nested optionals O_k ::= "" | x O_(k-1),
 * O_1 ::= "" | x (and so do rules written A ::= (x B)?, B ::= x?, once
 * ir_inline.c has inlined their groups and optionals): inside such a repetition with k copies of x still allowed
 * every position is an Earley set of its own (a maxLength string: one set
 * per character left), so each first mask walks the whole trie.
 *
 * earley_canonical maps the abstract set (earley.h) of such a position,
 * lowest level k >= C, to the one with every chain level lowered by
 * d = k - C: its stacks are a's with the chain's frames moved down. Why its
 * mask walk stands for a's (x derives no empty string; nothing outside the
 * chain waits on one of its levels, checked):
 * - until a copy of x is complete the two walks are the same up to the
 *   shift (only x's own frames move): same deaths, no pop;
 * - completing a copy of x completes, through the nullable rest O_(k-1),
 *   every level up to the top one, whose origin is the unknown context: a
 *   pop, after which deaths are undecided (walked from the real state);
 * - what is alive from the shifted set is alive from a: at every level a's
 *   production allows what the shifted one does (O_(j+d) ::= x O_(j+d-1)
 *   where the shift may have reached O_1 ::= x).
 * C is chosen per vocabulary (token_index.h: counted_level) so that few
 * tokens are longer than C characters: theirs are the deaths left to the
 * real state. */
#include <stdlib.h>

#include "constraint/earley.h"

struct earley_chains {
    uint32_t *level;   /* per nonterminal: k for a link O_k, 0 otherwise */
    uint32_t *down;    /* per link: O_(k-1) */
    uint32_t *start;   /* per link: first position of its production x O_(k-1) (or x) */
    uint32_t *len;     /* per link: that production's length (2, or 1 for O_1) */
    uint32_t n_links;
    bool any;
};

void earley_chains_free(earley_chains *ch)
{
    if (!ch)
        return;
    free(ch->level);
    free(ch->down);
    free(ch->start);
    free(ch->len);
    free(ch);
}

static bool nullable_sym(const smc_grammar *g, uint32_t sym) { return !IR_IS_TERM(sym) && g->nullable[sym]; }

earley_chains *earley_chains_new(const smc_grammar *g)
{
    earley_chains *ch = calloc(1, sizeof *ch);
    size_t n = g->n_nt ? g->n_nt : 1;
    uint32_t *n_prod = calloc(n, sizeof *n_prod), *empty = calloc(n, sizeof *empty), *x = calloc(n, sizeof *x);
    uint8_t *state = calloc(n, 1);
    uint32_t *stack = malloc(n * sizeof *stack);
    if (!ch || !n_prod || !empty || !x || !state || !stack)
        goto fail;
    ch->level = calloc(n, sizeof *ch->level);
    ch->down = calloc(n, sizeof *ch->down);
    ch->start = calloc(n, sizeof *ch->start);
    ch->len = calloc(n, sizeof *ch->len);
    if (!ch->level || !ch->down || !ch->start || !ch->len)
        goto fail;
    /* productions: consecutive positions ending with POS_END | lhs */
    for (uint32_t p = 0, s = 0; p < g->n_pos; p++) {
        if (!POS_IS_END(g->pos_sym[p]))
            continue;
        uint32_t lhs = POS_ID(g->pos_sym[p]), len = p - s;
        n_prod[lhs]++;
        if (len == 0) {
            empty[lhs]++;
        } else {
            ch->start[lhs] = s;
            ch->len[lhs] = len;
        }
        s = p + 1;
    }
    /* candidates: "" | x (a bottom, state 2 with level 1) or "" | x B */
    for (uint32_t a = 0; a < g->n_nt; a++) {
        if (n_prod[a] != 2 || empty[a] != 1 || (ch->len[a] != 1 && ch->len[a] != 2))
            continue;
        x[a] = g->pos_sym[ch->start[a]];
        if (nullable_sym(g, x[a]))
            continue;
        if (ch->len[a] == 1) {
            ch->level[a] = 1;
            state[a] = 2;
        } else if (!IR_IS_TERM(g->pos_sym[ch->start[a] + 1])) {
            ch->down[a] = g->pos_sym[ch->start[a] + 1];
            state[a] = 1;   /* undecided */
        }
    }
    /* a link's level: one more than its B's, where B is a link over the
     * same x (followed down iteratively; cycles are no chains) */
    for (uint32_t a = 0; a < g->n_nt; a++) {
        size_t sp = 0;
        uint32_t b = a;
        while (state[b] == 1) {
            state[b] = 3;   /* on the stack */
            stack[sp++] = b;
            b = ch->down[b];
        }
        uint32_t below = state[b] == 2 ? ch->level[b] : 0;
        uint32_t xb = below ? x[b] : 0;
        while (sp) {
            uint32_t t = stack[--sp];
            bool ok = below && x[t] == xb;
            ch->level[t] = ok ? below + 1 : 0;
            state[t] = ok ? 2 : 4;   /* 4: decided, not a link */
            below = ch->level[t];
            if (ok)
                ch->any = true, ch->n_links++;
        }
    }
    free(n_prod);
    free(empty);
    free(x);
    free(state);
    free(stack);
    return ch;
fail:
    free(n_prod);
    free(empty);
    free(x);
    free(state);
    free(stack);
    earley_chains_free(ch);
    return NULL;
}

uint32_t earley_chain_links(const earley_chains *ch) { return ch ? ch->n_links : 0; }

/* Is position pos inside a link's production (before its end)? */
static bool in_link(const earley_chains *ch, const smc_grammar *g, uint32_t pos)
{
    uint32_t a = g->pos_lhs[pos];
    return ch->level[a] && pos >= ch->start[a] && pos < ch->start[a] + ch->len[a];
}

int earley_canonical(const smc_grammar *g, eset *a, uint32_t c_min, eset **out)
{
    const earley_chains *ch = earley_get_chains(g);
    if (a->canon_c == c_min) {   /* (a->counted_low stays as computed) */
        *out = a->canon;
        return a->canon != NULL;
    }
    uint32_t kmin = UINT32_MAX;
    bool ok = ch->any && c_min >= 2 && a != &earley_dead;
    for (uint32_t i = 0; ok && i < a->n; i++) {
        uint32_t pos = a->items[i].pos, sym = g->pos_sym[pos];
        if (in_link(ch, g, pos)) {
            uint32_t k = ch->level[g->pos_lhs[pos]];
            kmin = k < kmin ? k : kmin;
        } else if (!IR_IS_TERM(sym) && !POS_IS_END(sym) && ch->level[sym]) {
            ok = false;   /* a rule outside the chain waits on one of its levels */
        }
    }
    eset *r = NULL;
    if (ok && kmin != UINT32_MAX && kmin >= c_min) {
        uint32_t d = kmin - c_min;
        if (d == 0) {
            r = a;
        } else {
            eitem *items = malloc((a->n ? a->n : 1) * sizeof *items);
            if (!items)
                return -1;
            for (uint32_t i = 0; i < a->n; i++) {
                items[i] = a->items[i];
                uint32_t pos = items[i].pos;
                if (!in_link(ch, g, pos))
                    continue;
                uint32_t from = g->pos_lhs[pos], to = from;
                for (uint32_t s = 0; s < d; s++)
                    to = ch->down[to];
                items[i].pos = ch->start[to] + (pos - ch->start[from]);
            }
            r = earley_intern_abstract(g, items, a->n);
            free(items);
            if (!r)
                return -1;
            r->canon = r;
            r->canon_c = c_min;
        }
    }
    a->canon = r;
    a->canon_c = c_min;
    a->counted_low = ok && kmin < c_min;
    *out = r;
    return r != NULL;
}
