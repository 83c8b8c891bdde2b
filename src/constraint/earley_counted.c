/* earley_counted.c — counted repetitions as the Earley sets see them, for
 * token masks: the chains of a compiled grammar and the canonical shift of
 * an abstract set inside one (earley_canonical).
 *
 * x{m,n} compiles (ir_repeat) to n-m nested optionals O_k ::= "" | x O_(k-1),
 * O_1 ::= "" | x; so do rules written A ::= (x B)?, B ::= x? once
 * ir_inline.c has inlined their groups (and ir_merge.c has made one the
 * groups written out at every level), and levels nested on the left,
 * A ::= "" | B x, once ir_flip.c has nested them on the right. x may be a
 * sequence of symbols
 * (A ::= "" | "\\" [nt] B, or a Lark literal with its ignored text
 * before it), the same at every level, deriving no empty string and
 * holding no level of any chain (checked: its items would be shifted with
 * the other chain's while x still names the unshifted level). Inside such
 * a repetition with k copies of x still allowed every position is an
 * Earley set of its own (a maxLength string: one set per character left),
 * so each first mask walks the whole trie.
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
#include <string.h>

#include "constraint/earley.h"

struct earley_chains {
    uint32_t *level;   /* per nonterminal: k for a link O_k, 0 otherwise */
    uint32_t *down;    /* per link: O_(k-1) */
    uint32_t *start;   /* per link: first position of its production x O_(k-1) (or x) */
    uint32_t *len;     /* per link: that production's length (|x| + 1, or |x| for O_1) */
    uint32_t n_links, n_nt;
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

/* The scratch of the chain finder: per nonterminal. */
typedef struct finder {
    uint32_t *n_prod, *empty;
    uint32_t *xl;      /* a link's or bottom's x: its first xl symbols */
    uint8_t *state;    /* 0 none, 1 undecided link, 2 decided, 3 on the stack, 4 decided: no link */
    uint8_t *bottom;   /* "" | body may be a bottom (x = body) */
    uint8_t *up;       /* some link has it as its B */
    uint8_t *banned;
    uint32_t *stack;
} finder;

/* Does the sequence at pos, n symbols, derive no empty string? */
static bool seq_solid(const smc_grammar *g, uint32_t pos, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!nullable_sym(g, g->pos_sym[pos + i]))
            return true;
    return false;
}

static bool same_x(const earley_chains *ch, const smc_grammar *g, const finder *f, uint32_t t, uint32_t b)
{
    uint32_t n = ch->len[t] - 1;
    return f->xl[b] == n && memcmp(g->pos_sym + ch->start[t], g->pos_sym + ch->start[b], n * sizeof *g->pos_sym) == 0;
}

/* One round: every candidate's level (0 when none). */
static void find_levels(earley_chains *ch, const smc_grammar *g, finder *f)
{
    size_t n = g->n_nt;
    memset(ch->level, 0, n * sizeof *ch->level);
    memset(f->state, 0, n);
    memset(f->bottom, 0, n);
    memset(f->up, 0, n);
    /* candidates: "" | body, a link x B (body's last symbol a nonterminal
     * B, x the rest) or a bottom x (the whole body) */
    for (uint32_t a = 0; a < g->n_nt; a++) {
        if (f->n_prod[a] != 2 || f->empty[a] != 1 || !ch->len[a] || f->banned[a])
            continue;
        uint32_t s = ch->start[a], len = ch->len[a], last = g->pos_sym[s + len - 1];
        f->bottom[a] = seq_solid(g, s, len);
        if (len >= 2 && !IR_IS_TERM(last) && seq_solid(g, s, len - 1)) {
            ch->down[a] = last;
            f->state[a] = 1;   /* undecided */
        } else if (f->bottom[a]) {
            ch->level[a] = 1;
            f->xl[a] = len;
            f->state[a] = 2;
        }
    }
    /* a link's level: one more than its B's, where B is a link or bottom
     * over the same x (followed down iteratively; cycles are no chains);
     * one that is not may be a bottom itself */
    for (uint32_t a = 0; a < g->n_nt; a++) {
        size_t sp = 0;
        uint32_t b = a;
        while (f->state[b] == 1) {
            f->state[b] = 3;   /* on the stack */
            f->stack[sp++] = b;
            b = ch->down[b];
        }
        if (f->state[b] != 2)
            b = UINT32_MAX;
        while (sp) {
            uint32_t t = f->stack[--sp];
            if (b != UINT32_MAX && ch->level[b] && same_x(ch, g, f, t, b)) {
                ch->level[t] = ch->level[b] + 1;
                f->xl[t] = ch->len[t] - 1;
                f->up[b] = 1;
            } else if (f->bottom[t]) {
                ch->level[t] = 1;
                f->xl[t] = ch->len[t];
            }
            f->state[t] = ch->level[t] ? 2 : 4;
            b = t;
        }
    }
    /* a bottom of several symbols with no link above is no chain (as before
     * sequences were followed) */
    for (uint32_t a = 0; a < g->n_nt; a++)
        if (ch->level[a] == 1 && ch->len[a] >= 2 && !f->up[a])
            ch->level[a] = 0;
}

/* A level's x may not hold a level (of any chain): its items would be
 * shifted with the other chain's while the x still names the unshifted
 * level. Bans such links and bottoms; false when all is well. */
static bool ban_nested(const earley_chains *ch, const smc_grammar *g, finder *f)
{
    bool any = false;
    for (uint32_t a = 0; a < g->n_nt; a++) {
        if (!ch->level[a])
            continue;
        for (uint32_t i = 0; i < f->xl[a]; i++) {
            uint32_t sym = g->pos_sym[ch->start[a] + i];
            if (!IR_IS_TERM(sym) && ch->level[sym]) {
                f->banned[a] = 1;
                any = true;
                break;
            }
        }
    }
    return any;
}

earley_chains *earley_chains_new(const smc_grammar *g)
{
    earley_chains *ch = calloc(1, sizeof *ch);
    size_t n = g->n_nt ? g->n_nt : 1;
    if (ch)
        ch->n_nt = g->n_nt;
    finder f = {0};
    f.n_prod = calloc(n, sizeof *f.n_prod);
    f.empty = calloc(n, sizeof *f.empty);
    f.xl = calloc(n, sizeof *f.xl);
    f.state = calloc(n, 1);
    f.bottom = calloc(n, 1);
    f.up = calloc(n, 1);
    f.banned = calloc(n, 1);
    f.stack = malloc(n * sizeof *f.stack);
    bool ok = ch && f.n_prod && f.empty && f.xl && f.state && f.bottom && f.up && f.banned && f.stack;
    if (ok) {
        ch->level = calloc(n, sizeof *ch->level);
        ch->down = calloc(n, sizeof *ch->down);
        ch->start = calloc(n, sizeof *ch->start);
        ch->len = calloc(n, sizeof *ch->len);
        ok = ch->level && ch->down && ch->start && ch->len;
    }
    if (ok) {
        /* productions: consecutive positions ending with POS_END | lhs */
        for (uint32_t p = 0, s = 0; p < g->n_pos; p++) {
            if (!POS_IS_END(g->pos_sym[p]))
                continue;
            uint32_t lhs = POS_ID(g->pos_sym[p]), len = p - s;
            f.n_prod[lhs]++;
            if (len == 0) {
                f.empty[lhs]++;
            } else {
                ch->start[lhs] = s;
                ch->len[lhs] = len;
            }
            s = p + 1;
        }
        /* each round bans at least one nonterminal; rarely more than one */
        int rounds = 0;
        do
            find_levels(ch, g, &f);
        while (ban_nested(ch, g, &f) && ++rounds < 16);
        if (rounds == 16)
            memset(ch->level, 0, n * sizeof *ch->level);
        for (uint32_t a = 0; a < g->n_nt; a++)
            ch->n_links += ch->level[a] >= 2;
        ch->any = ch->n_links > 0;
    }
    free(f.n_prod);
    free(f.empty);
    free(f.xl);
    free(f.state);
    free(f.bottom);
    free(f.up);
    free(f.banned);
    free(f.stack);
    if (!ok) {
        earley_chains_free(ch);
        return NULL;
    }
    return ch;
}

uint32_t earley_chain_links(const earley_chains *ch) { return ch ? ch->n_links : 0; }

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

uint32_t earley_chain_tops(const earley_chains *ch, uint32_t *bounds, uint32_t cap)
{
    if (!ch || !ch->any)
        return 0;
    uint8_t *below = calloc(ch->n_nt, 1);   /* some link names it as the level below */
    uint32_t *tops = malloc(ch->n_nt * sizeof *tops), n = 0;
    if (below && tops) {
        for (uint32_t a = 0; a < ch->n_nt; a++)
            if (ch->level[a] >= 2)
                below[ch->down[a]] = 1;
        for (uint32_t a = 0; a < ch->n_nt; a++)
            if (ch->level[a] >= 2 && !below[a])
                tops[n++] = ch->level[a];
        qsort(tops, n, sizeof *tops, cmp_u32);
        if (cap)
            memcpy(bounds, tops, (n < cap ? n : cap) * sizeof *bounds);
    }
    free(below);
    free(tops);
    return n;
}

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
