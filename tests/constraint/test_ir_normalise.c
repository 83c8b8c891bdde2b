/* test_ir_normalise.c — the normalisations ir_finish runs before compiling
 * (ir_inline.c: groups and optionals used once inlined; ir_factor.c: an
 * optional's alternatives ending or starting with the same rule grouped; ir_merge.c:
 * equal anonymous nonterminals merged; ir_flip.c: repetitions nested on
 * the left nested on the right) keep every grammar's language: random GBNF
 * grammars (groups nested two deep, quantifiers, empty alternatives, one
 * group written out many times, recursion, optionals whose alternatives
 * end or start with the same rule, bounded repetitions nested on the left, on the
 * right or both, some with one level's element another) classify every
 * string over {a, b} up to 7 characters (complete, viable prefix, neither)
 * exactly as the tests' independent GBNF reader and Earley recognizer
 * (potentials/gbnf_earley.h) does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "potentials/gbnf_earley.h"
#include "smcgen.h"
#include "test.h"

#define N_RULES 5
#define N_GRAMMARS 300
#define MAX_LEN 7

static uint64_t rng = 0x243f6a8885a308d3ull;
static unsigned rnd(unsigned n) { return (unsigned)(test_xorshift64(&rng) % n); }

typedef struct buf {
    char s[4096];
    size_t n;
} buf;

static void put(buf *b, const char *t)
{
    size_t l = strlen(t);
    if (b->n + l < sizeof b->s) {
        memcpy(b->s + b->n, t, l);
        b->n += l;
        b->s[b->n] = 0;
    }
}

static void alternatives(buf *b, int rule, bool first, int depth);

/* One element: a literal, a class, "", a rule (one after this one in a
 * rule's first alternative, so every rule derives something), the shared
 * group, or a group; then maybe a quantifier. */
static void element(buf *b, int rule, bool first, int depth)
{
    unsigned k = rnd(depth < 2 ? 9 : 6);
    char t[32];
    switch (k) {
    case 0: put(b, "\"a\""); break;
    case 1: put(b, "\"b\""); break;
    case 2: put(b, "\"ab\""); break;
    case 3: put(b, "[ab]"); break;
    case 4: put(b, "\"\""); break;
    case 5:
        if (rule == N_RULES - 1 || (first && rule == N_RULES - 2)) {
            put(b, "[a]");
        } else {
            int lo = first ? rule + 1 : 0;
            snprintf(t, sizeof t, "r%d", lo + (int)rnd((unsigned)(N_RULES - lo)));
            put(b, t);
        }
        break;
    case 6:
        put(b, "(\"a\" | \"b\")");
        break;
    default:
        put(b, "(");
        alternatives(b, rule, first, depth + 1);
        put(b, ")");
        break;
    }
    static const char *quant[] = {"", "", "", "", "", "?", "?", "*", "+"};
    put(b, quant[rnd(9)]);
}

static void alternatives(buf *b, int rule, bool first, int depth)
{
    int n = 1 + (int)rnd(3);
    for (int a = 0; a < n; a++) {
        if (a)
            put(b, " | ");
        int n_el = (int)rnd(4);
        if (!n_el)
            put(b, "\"\"");
        for (int e = 0; e < n_el; e++) {
            if (e)
                put(b, " ");
            element(b, rule, first && a == 0, depth);
        }
    }
}

/* Rules r`from`..r4 as a bounded repetition of one x, each level nested
 * on the left (rK ::= "" | rK+1 x) or on the right ("" | x rK+1), maybe
 * as an optional, down to r4 ::= "" | x; x one or two elements (maybe
 * naming rules, these levels too), and at times one level's x another. */
static void chain(buf *b, int from)
{
    buf x = {{0}, 0}, y = {{0}, 0};
    for (int i = 0, n = 1 + (int)rnd(2); i < n; i++) {
        put(&x, i ? " " : "");
        element(&x, from, false, 1);
    }
    element(&y, from, false, 1);
    int odd = rnd(4) == 0 ? from + (int)rnd((unsigned)(N_RULES - from)) : -1;
    for (int r = from; r < N_RULES; r++) {
        const char *e = r == odd ? y.s : x.s;
        char t[32];
        snprintf(t, sizeof t, "r%d ::= ", r);
        put(b, t);
        snprintf(t, sizeof t, "r%d", r + 1);
        bool opt = rnd(2), left = rnd(3) != 0;
        put(b, opt ? "(" : "\"\" | ");
        if (r < N_RULES - 1 && left) {
            put(b, t);
            put(b, " ");
        }
        put(b, e);
        if (r < N_RULES - 1 && !left) {
            put(b, " ");
            put(b, t);
        }
        put(b, opt ? ")?\n" : "\n");
    }
}

static void make_grammar(buf *b)
{
    b->n = 0;
    b->s[0] = 0;
    put(b, "root ::= r0\n");
    int chain_from = rnd(2) == 0 ? 1 + (int)rnd(N_RULES - 2) : N_RULES;
    for (int r = 0; r < N_RULES; r++) {
        char t[32];
        if (r == chain_from) {
            chain(b, r);
            break;
        }
        snprintf(t, sizeof t, "r%d ::= ", r);
        put(b, t);
        if (r < N_RULES - 1 && rnd(3) == 0) {   /* "" | α rJ | β rJ (or rJ α | rJ β), maybe as (...)? */
            bool opt = rnd(2), head = rnd(2);
            snprintf(t, sizeof t, head ? "r%d " : " r%d", r + 1 + (int)rnd((unsigned)(N_RULES - 1 - r)));
            put(b, opt ? "(" : "\"\" | ");
            for (int a = 0, n = 2 + (int)rnd(2); a < n; a++) {
                put(b, a ? " | " : "");
                if (head)
                    put(b, t);
                element(b, r, true, 1);
                if (!head)
                    put(b, t);
            }
            put(b, opt ? ")?\n" : "\n");
            continue;
        }
        alternatives(b, r, true, 0);
        put(b, "\n");
    }
}

static void test_random_grammars(void)
{
    int compared = 0, failures = 0;
    for (int k = 0; k < N_GRAMMARS; k++) {
        buf b;
        make_grammar(&b);
        ge_grammar ref;
        if (ge_read(&ref, b.s) != 0) {
            CHECK_MSG(0, "the reference reader: %s in\n%s", ref.err, b.s);
            ge_free(&ref);
            continue;
        }
        smc_grammar *g = NULL;
        smc_error err = {{0}};
        if (smc_grammar_from_gbnf(b.s, b.n, NULL, &g, &err) != 0) {
            CHECK_MSG(0, "%s in\n%s", err.msg, b.s);
            ge_free(&ref);
            continue;
        }
        char s[MAX_LEN + 1];
        for (int len = 0; len <= MAX_LEN; len++)
            for (unsigned bits = 0; bits < 1u << len; bits++) {
                for (int i = 0; i < len; i++)
                    s[i] = bits >> i & 1 ? 'b' : 'a';
                int want = ge_match(&ref, "root", s, (size_t)len);
                int got = (int)smc_grammar_classify(g, s, (size_t)len);
                compared++;
                if (got != want && failures++ < 5)
                    fprintf(stderr, "\"%.*s\": %d, reference %d, in\n%s\n", len, s, got, want, b.s);
            }
        smc_grammar_free(g);
        ge_free(&ref);
    }
    CHECK_MSG(failures == 0, "%d of %d classifications differ", failures, compared);
    fprintf(stderr, "%d grammars, %d strings classified\n", N_GRAMMARS, compared);
}

void run_tests(void)
{
    test_random_grammars();
}
