/* test_counted_spellings.c — one bounded repetition written the ways a user
 * would (GBNF `sK ::= (c sK+1)?`, `c sK+1 | ""`, `("" | c sK+1)`, `c{0,N}`,
 * c's group written out at every level, x a sequence `"x" [ab]`, Lark
 * `(c s)?` and `[c s]` with and without %ignore, and levels nested on the
 * left, `sK ::= "" | sK+1 c` and so on, or left and right in turn:
 * ir_flip.c) must compile to the same
 * counted chain as the form the chain finder reads, `sK ::= "" | c sK+1`
 * (ir_inline.c inlines the groups and optionals, ir_merge.c makes equal
 * groups one, earley_counted.c finds the chain; a level of another chain
 * inside x is no chain): each spelling's
 * chain must have every level (earley_chain_links), its deep positions must
 * share the canonical walk, and its masks, with the sharing at a low level
 * (most tokens longer than it) and at the vocabulary's own, must equal
 * token by token those of the reference spelling with the sharing off and
 * advancing a clone by each token's bytes, at every count 0..N+1. Then the
 * inlining and merging alone: nested groups, alternatives, recursive
 * groups, duplicate empty alternatives and equal groups keep their
 * languages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/earley.h"
#include "constraint/matcher_internal.h"
#include "constraint/token_index.h"
#include "smcgen.h"
#include "test.h"
#include "test_counted.h"
#include "test_vocab.h"

#define N 24   /* the repetition's bound */

/* Every string of 1..3 symbols over a small alphabet (the quote that ends
 * the literal among them), an empty control token, EOS. */
static void make_vocab(vocab *v)
{
    static const char *al[] = {"a", "b", "'", "\"", " ", "x"};
    enum { A = sizeof al / sizeof *al };
    size_t n = A + A * A + A * A * A + 2;
    v->bytes = calloc(n, sizeof *v->bytes);
    v->lens = calloc(n, sizeof *v->lens);
    int32_t k = 0;
    for (int len = 1; len <= 3; len++)
        for (int i = 0; i < (len == 1 ? A : len == 2 ? A * A : A * A * A); i++) {
            char s[8] = "";
            for (int j = 0, r = i; j < len; j++, r /= A)
                strcat(s, al[r % A]);
            v->bytes[k++] = strdup(s);
        }
    vocab_close(v, k);
}

/* The head of a grammar (root, c), then s1..sN as fmt says (fmt2, when
 * given, at the odd levels), where fmt takes (K, K+1) for the levels above
 * the last and last takes N. */
static char *chain_grammar(const char *head, const char *fmt, const char *fmt2, const char *last)
{
    size_t cap = 8192, n = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    n += (size_t)snprintf(s + n, cap - n, "%s", head);
    for (int k = 1; fmt && k < N; k++)
        n += (size_t)snprintf(s + n, cap - n, fmt2 && k % 2 ? fmt2 : fmt, k, k + 1, k + 1);   /* (next may appear twice) */
    n += (size_t)snprintf(s + n, cap - n, last, N);
    return s;
}

#define GBNF_HEAD "root ::= \"\\\"\" s1 \"\\\"\" \" \"\nc ::= [ab] | \"''\"\n"
#define LARK_HEAD "start: \"\\\"\" s1 \"\\\"\" \" \"\nc: /[ab]/ | \"''\"\n"
#define GBNF_HEAD2 "root ::= \"\\\"\" s1 \"\\\"\" \" \"\nc ::= \"x\" [ab]\n"
#define LARK_HEAD2 "start: \"\\\"\" s1 \"\\\"\" \" \"\n"

typedef struct spelling {
    const char *name;
    bool lark;
    const char *head, *fmt, *last;   /* NULL fmt: last is the rest */
    int ref;                         /* the spelling whose masks (sharing off) are the reference (-1: itself) */
    int links;                       /* the chain links it must have when not N - 1 (then no sharing) */
    const char *fmt2;                /* the odd levels' fmt, when not fmt */
} spelling;

static const spelling SPELLINGS[] = {
    /* x = c, one symbol */
    {"\"\" | c next", false, GBNF_HEAD, "s%d ::= \"\" | c s%d\n", "s%d ::= \"\" | c\n", 0, 0, NULL},
    {"(c next)?", false, GBNF_HEAD, "s%d ::= (c s%d)?\n", "s%d ::= c?\n", 0, 0, NULL},
    {"c next | \"\"", false, GBNF_HEAD, "s%d ::= c s%d | \"\"\n", "s%d ::= (c)?\n", 0, 0, NULL},
    {"(\"\" | c next)", false, GBNF_HEAD, "s%d ::= (\"\" | c s%d)\n", "s%d ::= (\"\" | c)\n", 0, 0, NULL},
    {"((c) (next))?", false, GBNF_HEAD, "s%d ::= ((c) (s%d))?\n", "s%d ::= (((c)))?\n", 0, 0, NULL},
    {"c{0,N}", false, "root ::= \"\\\"\" c{0,24} \"\\\"\" \" \"\nc ::= [ab] | \"''\"\n", NULL, "", 0, 0, NULL},
    {"lark (c next)?", true, LARK_HEAD, "s%d: (c s%d)?\n", "s%d: c?\n", 0, 0, NULL},
    {"lark [c next]", true, LARK_HEAD, "s%d: [c s%d]\n", "s%d: [c]\n", 0, 0, NULL},
    /* c written out at every level: a group per level, merged (ir_merge.c) */
    {"\"\" | ([ab] | \"''\") next", false, GBNF_HEAD, "s%d ::= \"\" | ([ab] | \"''\") s%d\n",
     "s%d ::= \"\" | ([ab] | \"''\")\n", 0, 0, NULL},
    {"(([ab] | \"''\") next)?", false, GBNF_HEAD, "s%d ::= ((\"''\" | [ab]) s%d)?\n", "s%d ::= ([ab] | \"''\")?\n", 0,
     0, NULL},
    /* c's alternatives spread over each level (ir_factor.c groups them) */
    {"\"\" | [ab] next | \"''\" next", false, GBNF_HEAD, "s%d ::= \"\" | [ab] s%d | \"''\" s%d\n",
     "s%d ::= \"\" | [ab] | \"''\"\n", 0, 0, NULL},
    {"([ab] next | \"''\" next)?", false, GBNF_HEAD, "s%d ::= (\"''\" s%d | [ab] s%d)?\n", "s%d ::= (\"''\" | [ab])?\n",
     0, 0, NULL},
    /* x = "x" [ab], a sequence of symbols (c names it in the reference) */
    {"\"\" | c next, c ::= \"x\" [ab]", false, GBNF_HEAD2, "s%d ::= \"\" | c s%d\n", "s%d ::= \"\" | c\n", 12, 0, NULL},
    {"\"\" | \"x\" [ab] next", false, GBNF_HEAD2, "s%d ::= \"\" | \"x\" [ab] s%d\n", "s%d ::= \"\" | \"x\" [ab]\n", 12, 0, NULL},
    {"(\"x\" [ab] next)?", false, GBNF_HEAD2, "s%d ::= (\"x\" [ab] s%d)?\n", "s%d ::= (\"x\" [ab])?\n", 12, 0, NULL},
    {"lark (\"x\" /[ab]/ next)?", true, LARK_HEAD2, "s%d: (\"x\" /[ab]/ s%d)?\n", "s%d: [\"x\" /[ab]/]\n", 12, 0, NULL},
    /* Lark with %ignore: x = IGN "x" IGN [ab], IGN ::= "" | IGN " " */
    {"lark %ignore", true, LARK_HEAD2 "%ignore \" \"\n", "s%d: (\"x\" /[ab]/ s%d)?\n", "s%d: [\"x\" /[ab]/]\n", -1, 0, NULL},
    /* nested on the left, sK ::= "" | sK+1 x (ir_flip.c nests them on the
     * right): the same language, x^0..N either way */
    {"\"\" | next c", false, GBNF_HEAD, "s%d ::= \"\" | s%d c\n", "s%d ::= \"\" | c\n", 0, 0, NULL},
    {"(next c)?", false, GBNF_HEAD, "s%d ::= (s%d c)?\n", "s%d ::= c?\n", 0, 0, NULL},
    {"next c | \"\"", false, GBNF_HEAD, "s%d ::= s%d c | \"\"\n", "s%d ::= (c)?\n", 0, 0, NULL},
    {"lark (next c)?", true, LARK_HEAD, "s%d: (s%d c)?\n", "s%d: c?\n", 0, 0, NULL},
    {"lark [next c]", true, LARK_HEAD, "s%d: [s%d c]\n", "s%d: [c]\n", 0, 0, NULL},
    {"\"\" | next ([ab] | \"''\")", false, GBNF_HEAD, "s%d ::= \"\" | s%d ([ab] | \"''\")\n",
     "s%d ::= \"\" | ([ab] | \"''\")\n", 0, 0, NULL},
    {"\"\" | next \"x\" [ab]", false, GBNF_HEAD2, "s%d ::= \"\" | s%d \"x\" [ab]\n", "s%d ::= \"\" | \"x\" [ab]\n", 12, 0, NULL},
    {"(next \"x\" [ab])?", false, GBNF_HEAD2, "s%d ::= (s%d \"x\" [ab])?\n", "s%d ::= (\"x\" [ab])?\n", 12, 0, NULL},
    {"lark [next \"x\" /[ab]/] %ignore", true, LARK_HEAD2 "%ignore \" \"\n", "s%d: [s%d \"x\" /[ab]/]\n",
     "s%d: [\"x\" /[ab]/]\n", 16, 0, NULL},
    {"\"\" | next [ab] | next \"''\"", false, GBNF_HEAD, "s%d ::= \"\" | s%d [ab] | s%d \"''\"\n",
     "s%d ::= \"\" | [ab] | \"''\"\n", 0, 0, NULL},
    {"(next [ab] | next \"''\")?", false, GBNF_HEAD, "s%d ::= (s%d \"''\" | s%d [ab])?\n",
     "s%d ::= (\"''\" | [ab])?\n", 0, 0, NULL},
    /* levels nested on the left and on the right in turn (fmt2) */
    {"mixed", false, GBNF_HEAD, "s%d ::= \"\" | c s%d\n", "s%d ::= \"\" | c\n", 0, 0, "s%d ::= \"\" | s%d c\n"},
    /* x = "(" in ")" holds the top of another chain (in ::= [a]{0,6}): the
     * outer levels are no chain (shifting both would leave x naming the
     * unshifted inner level), the inner one is */
    {"nested", false, "root ::= \"\\\"\" s1 \"\\\"\" \" \"\nin ::= [a]{0,6}\n", "s%d ::= \"\" | \"(\" in \")\" s%d\n",
     "s%d ::= \"\" | \"(\" in \")\"\n", -1, 5, NULL},
};
#define N_SPELL (sizeof SPELLINGS / sizeof *SPELLINGS)

static int compile(const spelling *sp, smc_grammar **g)
{
    char *src = chain_grammar(sp->head, sp->fmt, sp->fmt2, sp->last);
    smc_error err = {{0}};
    int rc = !src ? -1
             : sp->lark ? smc_grammar_from_lark(src, strlen(src), NULL, g, &err)
                        : smc_grammar_from_gbnf(src, strlen(src), NULL, g, &err);
    CHECK_MSG(rc == 0, "%s: %s", sp->name, err.msg);
    free(src);
    return rc;
}

/* The masks of one spelling at counted level c_level, along the literal
 * "\"" + j pieces for j = 0..N+1 (the last one past the bound), against the
 * reference (sp->ref's spelling, sharing off) and clones. */
static void check_spelling(const spelling *sp, const vocab *v, smc_token_index *ix, smc_token_index *ix0,
                           uint32_t c_level)
{
    smc_grammar *g = NULL, *g0 = NULL;
    if (compile(sp, &g) != 0 || compile(sp->ref < 0 ? sp : &SPELLINGS[sp->ref], &g0) != 0) {
        smc_grammar_free(g);
        return;
    }
    earley_lock(g);
    uint32_t links = earley_chain_links(earley_get_chains(g));
    earley_unlock(g);
    int want = sp->links ? sp->links : N - 1;
    CHECK_MSG(links == (uint32_t)want, "%s: %u chain links, want %d (the repetition is not seen as counted)",
              sp->name, links, want);
    ix->counted_level = c_level;
    ix0->counted_level = 0;   /* the plain computation */
    smc_matcher *m = smc_matcher_new(g), *m0 = smc_matcher_new(g0);
    size_t words = smc_token_mask_words(ix);
    uint32_t *mask = calloc(words, sizeof *mask), *mask0 = calloc(words, sizeof *mask0);
    static const char *pieces1[] = {"a", "''", "b", "b", "''", "a", "a"}, *pieces2[] = {"xa", "xb", "xb"},
                      *pieces3[] = {"xa", " xb", "x b", "xa "},   /* one x each */
                      *pieces4[] = {"(a", "a)", "(", ")", "(aa", "a", "a)", "(aaaaaa)"};   /* 4 x's */
    bool two = strstr(sp->head, "\"x\"") || strstr(sp->last, "\"x\""), ign = strstr(sp->head, "%ignore");
    bool nested = strstr(sp->head, "in ::=") != NULL;
    const char *const *pieces = nested ? pieces4 : ign ? pieces3 : two ? pieces2 : pieces1;
    size_t n_pieces = nested ? 8 : ign ? 4 : two ? 3 : 7;
    CHECK_EQ_INT(smc_matcher_advance_bytes(m, "\"", 1), 0);
    CHECK_EQ_INT(smc_matcher_advance_bytes(m0, "\"", 1), 0);
    int mismatches = 0, canonical = 0;
    for (int j = 0; j <= N + 1; j++) {
        smc_error err = {{0}};
        CHECK_EQ_INT(smc_matcher_token_mask(m, ix, mask, &err), 0);
        CHECK_EQ_INT(smc_matcher_token_mask(m0, ix0, mask0, &err), 0);
        bool canon = test_is_canonical(m, ix);
        canonical += canon;
        /* with k = N - j characters left, the positions k >= C share (not
         * before the first: there root waits on s1) */
        if (j >= 1 && j <= N && !sp->links)
            CHECK_MSG(canon == (N - j >= (int)c_level), "%s (C=%u): %d left, canonical %d", sp->name, c_level,
                      N - j, canon);
        for (int32_t id = 0; id < v->n; id++) {
            bool ref;
            if (id == v->eos) {
                ref = smc_matcher_is_accepting(m0);
            } else {
                smc_matcher *cl = smc_matcher_clone(m0);
                ref = v->lens[id] && smc_matcher_advance_bytes(cl, v->bytes[id], v->lens[id]) == 0;
                smc_matcher_free(cl);
            }
            bool a = test_mask_bit(mask, id), b = test_mask_bit(mask0, id);
            if ((a != ref || b != ref) && mismatches++ < 5)
                fprintf(stderr, "%s (C=%u), %d read: token \"%s\": mask %d, reference mask %d, clone %d\n", sp->name,
                        c_level, j, v->bytes[id], a, b, ref);
        }
        if (j == N + 1)
            break;
        const char *p = pieces[(size_t)j % n_pieces];
        int ok = smc_matcher_advance_bytes(m, p, strlen(p)) == 0, ok0 = smc_matcher_advance_bytes(m0, p, strlen(p)) == 0;
        CHECK_MSG(ok == ok0 && ok == (nested || j < N), "%s: piece %d \"%s\": %d, reference %d", sp->name, j, p, ok,
                  ok0);
        if (!ok)
            break;
    }
    CHECK_MSG(mismatches == 0, "%s (C=%u): %d mask mismatches", sp->name, c_level, mismatches);
    fprintf(stderr, "%s (C=%u): %u links, %d canonical states\n", sp->name, c_level, links, canonical);
    free(mask);
    free(mask0);
    smc_matcher_free(m);
    smc_matcher_free(m0);
    smc_grammar_free(g);
    smc_grammar_free(g0);
}

static void test_spellings(void)
{
    vocab v;
    make_vocab(&v);
    smc_token_index *ix = NULL, *ix0 = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_token_index_from_arrays(v.n, (const char *const *)v.bytes, v.lens, v.eos, &ix, &err), 0);
    CHECK_EQ_INT(smc_token_index_from_arrays(v.n, (const char *const *)v.bytes, v.lens, v.eos, &ix0, &err), 0);
    if (ix && ix0) {
        uint32_t own = ix->counted_level;
        CHECK_MSG(own >= 2 && own < N, "the vocabulary's own level %u", own);
        for (size_t s = 0; s < N_SPELL; s++) {
            check_spelling(&SPELLINGS[s], &v, ix, ix0, 2);
            check_spelling(&SPELLINGS[s], &v, ix, ix0, own);
        }
    }
    smc_token_index_free(ix);
    smc_token_index_free(ix0);
    free_vocab(&v);
}

/* The inlining on grammars without chains: each must accept exactly the
 * strings listed (classify), spelled with groups and without. */
static void test_inline_languages(void)
{
    static const struct {
        const char *grouped, *plain;
    } pairs[] = {
        {"root ::= ((\"a\" (\"b\" | \"c\")) \"d\")? \"e\"", "root ::= \"e\" | \"a\" b \"d\" \"e\"\nb ::= \"b\" | \"c\""},
        {"root ::= x x\nx ::= (\"a\" | \"b\")", "root ::= x x\nx ::= \"a\" | \"b\""},
        {"root ::= g\ng ::= (\"a\" g)? | (\"\")", "root ::= g\ng ::= \"\" | \"a\" g"},
        {"root ::= (\"a\" | \"\" | (\"\" | \"b\"))+ \"c\"", "root ::= r \"c\"\nr ::= x | r x\nx ::= \"a\" | \"b\" | \"\""},
        {"root ::= (((\"a\")))", "root ::= \"a\""},
        {"root ::= (\"a\" | \"b\") (\"b\" | \"a\") (\"a\" | \"b\")* (\"c\" | \"\")",
         "root ::= x x y z\nx ::= \"a\" | \"b\"\ny ::= \"\" | y x\nz ::= \"c\" | \"\""},
        {"root ::= a b\na ::= (\"a\" | \"b\")?\nb ::= (\"b\" | \"a\") | \"c\"",
         "root ::= a b\na ::= \"\" | \"a\" | \"b\"\nb ::= \"a\" | \"b\" | \"c\""},
    };
    static const char *texts[] = {"", "e", "ade", "abde", "acde", "ad", "aa", "ab", "ba", "b", "a", "aaa", "c",
                                  "ac", "bc", "abc", "aabbc", "cc", "de"};
    for (size_t p = 0; p < sizeof pairs / sizeof *pairs; p++) {
        smc_grammar *g = NULL, *h = NULL;
        smc_error err = {{0}};
        CHECK_EQ_INT(smc_grammar_from_gbnf(pairs[p].grouped, strlen(pairs[p].grouped), NULL, &g, &err), 0);
        CHECK_EQ_INT(smc_grammar_from_gbnf(pairs[p].plain, strlen(pairs[p].plain), NULL, &h, &err), 0);
        for (size_t t = 0; g && h && t < sizeof texts / sizeof *texts; t++)
            CHECK_MSG(smc_grammar_classify(g, texts[t], strlen(texts[t])) ==
                          smc_grammar_classify(h, texts[t], strlen(texts[t])),
                      "\"%s\" on \"%s\" classified %d, plain %d", texts[t], pairs[p].grouped,
                      smc_grammar_classify(g, texts[t], strlen(texts[t])),
                      smc_grammar_classify(h, texts[t], strlen(texts[t])));
        smc_grammar_free(g);
        smc_grammar_free(h);
    }
}

void run_tests(void)
{
    test_spellings();
    test_inline_languages();
}
