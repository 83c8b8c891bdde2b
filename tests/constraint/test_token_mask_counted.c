/* test_token_mask_counted.c — token masks inside counted repetitions
 * (x{m,n}, maxLength strings), where positions with many copies left share
 * one walk from a canonical set (earley_counted.c, token_mask.c). Every mask
 * is compared with the plain computation (a second grammar and index with
 * the sharing off) and, token by token, with advancing a clone byte by
 * byte; on grammars whose chains are named from outside (recursion through
 * the repeated element), nested chains, multi-byte characters, a minimum
 * part, and JSON Schema strings with maxLength/minLength; at every count k
 * of the counted strings, with the level from which positions share
 * lowered so that many tokens are longer than it (a share of whole masks
 * from that level on would differ), and on the GPT-2 vocabulary with the
 * default level. The sharing must actually happen (earley_canonical holds
 * at the deep positions). */
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

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_u64(void) { return test_xorshift64(&rng); }

static const char *ALPHA[] = {"\"", " ", "a", "b", "c", "!", ".", "[", "]", "(", ")", "\xc3\xa9", "\xe6\x97\xa5",
                              "\\", "n", "{", "}", ":", ",", "s", "t", "\xc3"};
#define N_ALPHA (sizeof ALPHA / sizeof *ALPHA)

/* Every string of 1..2 symbols, 400 random ones of 3..14 symbols (many of
 * them letters only, some closing a string), an empty control token, EOS. */
static void make_vocab(vocab *v)
{
    size_t n = N_ALPHA + N_ALPHA * N_ALPHA + 400 + 2;
    v->bytes = calloc(n, sizeof *v->bytes);
    v->lens = calloc(n, sizeof *v->lens);
    int32_t k = 0;
    for (size_t i = 0; i < N_ALPHA; i++)
        v->bytes[k++] = strdup(ALPHA[i]);
    for (size_t i = 0; i < N_ALPHA; i++)
        for (size_t j = 0; j < N_ALPHA; j++) {
            char s[16];
            snprintf(s, sizeof s, "%s%s", ALPHA[i], ALPHA[j]);
            v->bytes[k++] = strdup(s);
        }
    for (int r = 0; r < 400; r++) {
        char s[64] = "";
        int len = 3 + (int)(next_u64() % 12);
        bool letters = r % 3 != 0;
        for (int i = 0; i < len; i++) {
            const char *sym = letters ? ALPHA[2 + next_u64() % 3] : ALPHA[next_u64() % N_ALPHA];
            if (letters && i == len - 1 && r % 5 == 1)
                sym = "\"";
            strcat(s, sym);
        }
        v->bytes[k++] = strdup(s);
    }
    vocab_close(v, k);
}

typedef struct counts {
    int states, canonical, mismatches;
} counts;

/* Compares the mask of m (index ix) with that of m0 (plain index ix0), and
 * with advancing clones, every token (or every stride-th). */
static void check_state(const char *name, smc_matcher *m, smc_matcher *m0, const smc_token_index *ix,
                        const smc_token_index *ix0, const vocab *v, int stride, counts *c, const char *text,
                        size_t len)
{
    size_t words = smc_token_mask_words(ix);
    uint32_t *mask = malloc(words * sizeof *mask), *mask0 = malloc(words * sizeof *mask0);
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_matcher_token_mask(m, ix, mask, &err), 0);
    CHECK_EQ_INT(smc_matcher_token_mask(m0, ix0, mask0, &err), 0);
    c->states++;
    c->canonical += test_is_canonical(m, ix);
    for (int32_t id = 0; id < v->n; id++) {
        bool ref = test_mask_bit(mask0, id);
        if (id % stride == 0) {
            if (id == v->eos) {
                ref = smc_matcher_is_accepting(m);
            } else {
                smc_matcher *cl = smc_matcher_clone(m);
                ref = v->lens[id] && smc_matcher_advance_bytes(cl, v->bytes[id], v->lens[id]) == 0;
                smc_matcher_free(cl);
            }
        }
        if ((test_mask_bit(mask, id) != ref || test_mask_bit(mask0, id) != ref) && c->mismatches++ < 5)
            fprintf(stderr, "%s: after \"%.*s\" token \"%s\": mask %d, plain mask %d, reference %d\n", name,
                    (int)len, text, v->bytes[id], test_mask_bit(mask, id), test_mask_bit(mask0, id), ref);
    }
    free(mask);
    free(mask0);
}

/* Walks the given prefixes byte string by byte string (each prefix's masks
 * at its end), then `trajectories` random ones of up to `steps` tokens
 * (mostly one-symbol tokens, so every count is visited). */
static void check_grammar(const char *name, smc_grammar *g, smc_grammar *g0, const smc_token_index *ix,
                          const smc_token_index *ix0, const vocab *v, const char *const *prefixes, int trajectories,
                          int steps, int stride, int min_canonical)
{
    counts c = {0};
    for (size_t p = 0; prefixes && prefixes[p]; p++) {
        smc_matcher *m = smc_matcher_new(g), *m0 = smc_matcher_new(g0);
        size_t len = strlen(prefixes[p]);
        CHECK_MSG(smc_matcher_advance_bytes(m, prefixes[p], len) == 0, "%s: prefix \"%s\" rejected", name,
                  prefixes[p]);
        CHECK_EQ_INT(smc_matcher_advance_bytes(m0, prefixes[p], len), 0);
        check_state(name, m, m0, ix, ix0, v, stride, &c, prefixes[p], len);
        smc_matcher_free(m);
        smc_matcher_free(m0);
    }
    size_t words = smc_token_mask_words(ix);
    uint32_t *mask = malloc(words * sizeof *mask);
    int32_t *allowed = malloc((size_t)v->n * sizeof *allowed), *short_ones = malloc((size_t)v->n * sizeof *allowed);
    char text[1024];
    for (int t = 0; t < trajectories; t++) {
        smc_matcher *m = smc_matcher_new(g), *m0 = smc_matcher_new(g0);
        size_t len = 0;
        for (int s = 0; s < steps; s++) {
            check_state(name, m, m0, ix, ix0, v, stride, &c, text, len);
            smc_error err = {{0}};
            if (smc_matcher_token_mask(m, ix, mask, &err) != 0)
                break;
            int n = 0, n_short = 0;
            for (int32_t id = 0; id < v->n; id++)
                if (test_mask_bit(mask, id) && id != v->eos && v->lens[id]) {
                    allowed[n++] = id;
                    if (id < (int32_t)N_ALPHA)   /* one-symbol tokens */
                        short_ones[n_short++] = id;
                }
            if (!n)
                break;
            int32_t pick = n_short && next_u64() % 4 != 0 ? short_ones[next_u64() % (uint64_t)n_short]
                                                           : allowed[next_u64() % (uint64_t)n];
            if (len + v->lens[pick] >= sizeof text)
                break;
            CHECK_EQ_INT(smc_matcher_advance_token(m, ix, pick), 0);
            CHECK_EQ_INT(smc_matcher_advance_token(m0, ix0, pick), 0);
            memcpy(text + len, v->bytes[pick], v->lens[pick]);
            len += v->lens[pick];
        }
        smc_matcher_free(m);
        smc_matcher_free(m0);
    }
    free(mask);
    free(allowed);
    free(short_ones);
    CHECK_MSG(c.mismatches == 0, "%s: %d mask mismatches", name, c.mismatches);
    CHECK_MSG(c.canonical >= min_canonical, "%s: only %d of %d states shared a canonical walk", name, c.canonical,
              c.states);
    fprintf(stderr, "%s: %d states checked, %d canonical\n", name, c.states, c.canonical);
}

/* open followed by j copies of sym, j = 0, step, 2 step, ... and n;
 * NULL-terminated, malloc'd. */
static char **counted_prefixes(const char *open, const char *sym, int n, int step)
{
    char **p = calloc((size_t)n + 2, sizeof *p);
    int k = 0;
    for (int j = 0; j <= n; j++) {
        if (j % step && j != n)
            continue;
        p[k] = calloc(strlen(open) + (size_t)j * strlen(sym) + 1, 1);
        strcpy(p[k], open);
        for (int i = 0; i < j; i++)
            strcat(p[k], sym);
        k++;
    }
    return p;
}

static void free_prefixes(char **p)
{
    for (size_t i = 0; p && p[i]; i++)
        free(p[i]);
    free(p);
}

typedef struct gcase {
    const char *name;
    int kind;   /* 0 GBNF, 1 JSON Schema */
    const char *src;
    const char *open, *sym;   /* counted prefixes: open + sym * j */
    int n;
    int min_canonical;        /* at level 4 */
} gcase;

static int compile(const gcase *gc, smc_grammar **g)
{
    smc_error err = {{0}};
    int rc = gc->kind == 0 ? smc_grammar_from_gbnf(gc->src, strlen(gc->src), NULL, g, &err)
                           : smc_grammar_from_json_schema(gc->src, strlen(gc->src), g, &err);
    CHECK_MSG(rc == 0, "%s: %s", gc->name, err.msg);
    return rc;
}

static void test_synthetic(void)
{
    static const gcase cases[] = {
        {"string{0,20}", 0, "root ::= \"\\\"\" [a-c]{0,20} \"\\\"\" \" \" [a-c]{3,12} \"!\"", "\"", "a", 20, 20},
        {"utf8{0,16}", 0, "root ::= [a-c\\u00e9\\u65e5]{0,16} \".\"", "", "\xc3\xa9", 16, 10},
        {"group{0,15}", 0, "root ::= (\"ab\" | \"c\" | \"\\u00e9\"){0,15} \".\"", "", "ab", 15, 10},
        {"nested", 0, "root ::= (\"(\" [a]{0,6} \")\"){0,12} \".\"", "", "()", 12, 8},
        {"recursive", 0, "root ::= e\ne ::= \"[\" e{0,9} \"]\" | \"a\"", "[", "a", 9, 0},
        {"schema", 1,
         "{\"type\": \"object\", \"properties\": {\"s\": {\"type\": \"string\", \"maxLength\": 18}, "
         "\"t\": {\"type\": \"string\", \"minLength\": 2, \"maxLength\": 9}}, \"required\": [\"s\", \"t\"], "
         "\"additionalProperties\": false}",
         "{\"s\":\"", "b", 18, 10},
    };
    vocab v;
    make_vocab(&v);
    smc_token_index *ix = NULL, *ix0 = NULL;
    smc_error err;
    CHECK_EQ_INT(smc_token_index_from_arrays(v.n, (const char *const *)v.bytes, v.lens, v.eos, &ix, &err), 0);
    CHECK_EQ_INT(smc_token_index_from_arrays(v.n, (const char *const *)v.bytes, v.lens, v.eos, &ix0, &err), 0);
    bool san = getenv("SMC_TEST_SANITIZED") != NULL;
    if (ix && ix0) {
        ix0->counted_level = 0;   /* the plain computation */
        uint32_t levels[] = {4, 2, 3, 10, 0, 3};   /* the last with memos at every node */
        levels[4] = ix->counted_level;
        for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
            for (size_t ci = 0; ci < 6; ci++) {
                ix->counted_level = levels[ci];
                ix->memo_min_nodes = ix0->memo_min_nodes = ci == 5 ? 1 : TOKEN_INDEX_MEMO_MIN_NODES;
                smc_grammar *g = NULL, *g0 = NULL;
                if (compile(&cases[k], &g) == 0 && compile(&cases[k], &g0) == 0) {
                    char **pre = counted_prefixes(cases[k].open, cases[k].sym, cases[k].n, 1);
                    char name[96];
                    snprintf(name, sizeof name, "%s/level %u", cases[k].name, levels[ci]);
                    check_grammar(name, g, g0, ix, ix0, &v, (const char *const *)pre, san ? 3 : 8, 30,
                                  san ? 3 : 1, ci == 0 ? cases[k].min_canonical : 0);
                    if (ci == 0 && cases[k].min_canonical) {   /* the shared walks are used */
                        earley_lock(g);
                        uint64_t hits = earley_memo_hits(g);
                        earley_unlock(g);
                        earley_lock(g0);
                        uint64_t hits0 = earley_memo_hits(g0);
                        earley_unlock(g0);
                        CHECK_MSG(hits >= hits0 + (uint64_t)cases[k].min_canonical / 2,
                                  "%s: %llu shared walks reused, %llu without the sharing", name,
                                  (unsigned long long)hits, (unsigned long long)hits0);
                    }
                    free_prefixes(pre);
                }
                smc_grammar_free(g);
                smc_grammar_free(g0);
            }
        }
    }
    smc_token_index_free(ix);
    smc_token_index_free(ix0);
    free_vocab(&v);
}

/* GPT-2's vocabulary (tokens up to 128 bytes) with the default level: a
 * maxLength 40 string replayed character by character and token by token. */
static void test_gpt2(void)
{
    vocab v;
    smc_vocab *voc = NULL;
    smc_error err = {{0}};
    if (!load_gpt2(&v, &voc, "the GPT-2 counted-string test"))
        return;
    smc_token_index *ix = NULL, *ix0 = NULL;
    CHECK_EQ_INT(smc_token_index_from_vocab(voc, &ix, &err), 0);
    CHECK_EQ_INT(smc_token_index_from_vocab(voc, &ix0, &err), 0);
    bool san = getenv("SMC_TEST_SANITIZED") != NULL;
    static const gcase gc = {"gpt2/maxLength 40", 1,
                             "{\"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\", \"maxLength\": 40}},"
                             " \"required\": [\"name\"]}",
                             "{\"name\":\"", "e", 40, 10};
    smc_grammar *g = NULL, *g0 = NULL;
    if (ix && ix0 && compile(&gc, &g) == 0 && compile(&gc, &g0) == 0) {
        ix0->counted_level = 0;
        CHECK_MSG(ix->counted_level >= 4 && ix->counted_level < 32, "GPT-2 counted level %u", ix->counted_level);
        char **pre = counted_prefixes(gc.open, gc.sym, gc.n, san ? 3 : 1);
        check_grammar(gc.name, g, g0, ix, ix0, &v, (const char *const *)pre, san ? 1 : 3, 12, san ? 7 : 1,
                      gc.min_canonical / (san ? 3 : 1));
        free_prefixes(pre);
    }
    smc_grammar_free(g);
    smc_grammar_free(g0);
    smc_token_index_free(ix);
    smc_token_index_free(ix0);
    free_vocab(&v);
    smc_vocab_free(voc);
}

void run_tests(void)
{
    test_synthetic();
    test_gpt2();
}
