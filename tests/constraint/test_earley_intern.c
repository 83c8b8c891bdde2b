/* test_earley_intern.c — the interning of Earley sets (earley.c): every set
 * is hash-consed, so equal item lists are one pointer. Walks the sets
 * reachable from a grammar's start (breadth first over every byte, and
 * their abstract sets) well past the intern table's first growth, then
 * checks independently of the table — by sorting copies of the sets'
 * contents — that no two distinct sets hold the same items, and that
 * stepping again without the memoised transitions (earley_step_direct,
 * which builds the set anew and interns it) finds the very set the
 * memoised step gave. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/earley.h"
#include "smcgen.h"
#include "test.h"

static int cmp_content(const void *a, const void *b)
{
    const eset *x = *(const eset *const *)a, *y = *(const eset *const *)b;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    if (x->accepting != y->accepting)
        return x->accepting < y->accepting ? -1 : 1;
    return memcmp(x->items, y->items, x->n * sizeof *x->items);
}

typedef struct {
    eset **v;
    size_t n, cap;
} set_list;

/* Adds s unless already there (a linear scan: small lists). */
static void add_set(set_list *l, eset *s)
{
    if (!s || s == &earley_dead)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == s)
            return;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = s;
}

static void check_grammar(const char *name, const char *gbnf, size_t want_at_least, size_t limit)
{
    smc_grammar *g = NULL;
    smc_error err = {{0}};
    if (smc_grammar_from_gbnf(gbnf, strlen(gbnf), NULL, &g, &err) != 0) {
        CHECK_MSG(0, "%s: %s", name, err.msg);
        return;
    }
    set_list l = {0};
    add_set(&l, earley_initial(g));
    size_t steps = 0, direct_same = 0, direct_other = 0;
    for (size_t i = 0; i < l.n && l.n < limit; i++) {
        eset *s = l.v[i];
        add_set(&l, earley_abstract(g, s));
        for (unsigned b = 0; b < 256; b++) {
            if (!ir_byteset_has(&s->first, b))
                continue;
            eset *t = earley_step(g, s, (unsigned char)b);
            if (!t) {
                CHECK_MSG(0, "%s: out of memory", name);
                break;
            }
            add_set(&l, t);
            steps++;
        }
    }
    /* re-stepping without the memo finds the interned set */
    for (size_t i = 0; i < l.n; i += 7)
        for (unsigned b = 0; b < 256; b += 3) {
            eset *s = l.v[i];
            if (!ir_byteset_has(&s->first, b))
                continue;
            eset *t = earley_step(g, s, (unsigned char)b), *u = earley_step_direct(g, s, (unsigned char)b);
            if (t == u)
                direct_same++;
            else if (direct_other++ == 0)
                fprintf(stderr, "%s: set %u byte %u: memoised %p, direct %p\n", name, s->id, b, (void *)t,
                        (void *)u);
        }
    CHECK_MSG(direct_other == 0 && direct_same > 0, "%s: %zu steps re-stepped to another set, %zu to the same",
              name, direct_other, direct_same);
    /* no two distinct sets with the same contents */
    eset **sorted = malloc(l.n * sizeof *sorted);
    memcpy(sorted, l.v, l.n * sizeof *sorted);
    qsort(sorted, l.n, sizeof *sorted, cmp_content);
    size_t dups = 0;
    for (size_t i = 1; i < l.n; i++)
        dups += cmp_content(&sorted[i - 1], &sorted[i]) == 0;
    CHECK_MSG(dups == 0, "%s: %zu sets duplicate another of %zu", name, dups, l.n);
    CHECK_MSG(l.n >= want_at_least, "%s: only %zu sets reached", name, l.n);
    CHECK(earley_n_sets(g) >= l.n);
    /* ids are distinct and index the sets */
    for (size_t i = 0; i < l.n; i++)
        CHECK(l.v[i]->id < earley_n_sets(g));
    printf("%s: %zu sets reached, %zu steps, %zu re-stepped, %zu interned in all\n", name, l.n, steps, direct_same,
           earley_n_sets(g));
    free(sorted);
    free(l.v);
    smc_grammar_free(g);
}

void run_tests(void)
{
    /* arithmetic with nesting: unboundedly many sets, cut at the limit */
    check_grammar("expr",
                  "root ::= expr\n"
                  "expr ::= term ((\"+\" | \"-\") term)*\n"
                  "term ::= factor ((\"*\" | \"/\") factor)*\n"
                  "factor ::= [0-9]+ | \"(\" ws expr ws \")\" | \"-\" factor\n"
                  "ws ::= \" \"?\n",
                  1500, 3000);
    /* a JSON-like value grammar with strings and nullable parts */
    check_grammar("json",
                  "root ::= value\n"
                  "value ::= object | array | string | [0-9]+ | \"true\" | \"null\"\n"
                  "object ::= \"{\" ws (pair (\",\" ws pair)*)? \"}\"\n"
                  "pair ::= string \":\" ws value ws\n"
                  "array ::= \"[\" ws (value (\",\" ws value)*)? \"]\"\n"
                  "string ::= \"\\\"\" [a-c]{0,6} \"\\\"\"\n"
                  "ws ::= [ \\n]*\n",
                  1500, 3000);
    /* a small grammar whose sets are all reached (no limit hit) */
    check_grammar("keywords", "root ::= (\"select\" | \"set\" | \"sort\") \" \" [a-z]{1,3} \";\"\n", 10, 100000);
}
