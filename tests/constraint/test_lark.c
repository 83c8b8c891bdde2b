/* test_lark.c — the Lark front end: rules and terminals, ?rule, "x"i,
 * /regex/flags, ranges, [optional], ~ and {m,n} repetition, %import common,
 * %ignore, aliases, priorities (warned), and errors with line:column. The
 * common terminals are checked against hand-written cases. */
#include <stdio.h>
#include <string.h>

#include "smcgen.h"
#include "test.h"

enum { C = SMC_MATCH_COMPLETE, P = SMC_MATCH_PREFIX, I = SMC_MATCH_INVALID };
typedef struct lcase {
    const char *s;
    int kind;
} lcase;
#define N(a) (sizeof(a) / sizeof((a)[0]))

static smc_grammar *load(const char *text)
{
    smc_grammar *g = NULL;
    smc_error e = {{0}};
    int rc = smc_grammar_from_lark(text, strlen(text), NULL, &g, &e);
    CHECK_MSG(rc == 0, "lark failed: %s\n%s", e.msg, text);
    return g;
}

static void expect(const char *text, const lcase *cases, size_t n)
{
    smc_grammar *g = load(text);
    if (!g)
        return;
    for (size_t k = 0; k < n; k++) {
        int got = (int)smc_grammar_classify(g, cases[k].s, strlen(cases[k].s));
        CHECK_MSG(got == cases[k].kind, "\"%s\": got %d want %d in\n%s", cases[k].s, got, cases[k].kind, text);
    }
    smc_grammar_free(g);
}

static const char CALC[] =
    "// a calculator\n"
    "?start: sum\n"
    "?sum: product\n"
    "    | sum \"+\" product   -> add\n"
    "    | sum \"-\" product\n"
    "?product: atom ((\"*\"|\"/\") atom)*\n"
    "?atom: NUMBER | \"-\" atom | \"(\" sum \")\" | NAME\n"
    "      | \"select\"i NAME\n"
    "NAME.2: /[a-z_][a-z0-9_]*/\n"
    "%import common.NUMBER\n"
    "%import common.WS\n"
    "%ignore WS\n";

static void test_calc(void)
{
    lcase c[] = {{"1+2", C}, {" 1 + 2 * ( x - 3.5 ) ", C}, {"SeLeCt foo", C}, {"-(-1)", C}, {"1e5/2", C},
                 {"a_1*b", C}, {"\n1\n", C}, {"1+", P}, {"1+*2", I}, {"(", P}, {"1 2", I}, {"", P},
                 {"A", I}, {"1+2)", I}, {"select", C}, {"select ", C}, {"select 1", I}};
    expect(CALC, c, N(c));
    smc_grammar *g = load(CALC);
    if (g) {
        CHECK(strstr(smc_grammar_warnings(g), "9:1: priority of 'NAME' ignored") != NULL);
        smc_grammar_stats st;
        smc_grammar_get_stats(g, &st);
        CHECK_EQ_INT(st.n_rules, 5);
    }
    smc_grammar_free(g);
}

static void test_features(void)
{
    lcase rng[] = {{"b", C}, {"z", C}, {"a", I}, {"bb", I}};
    expect("start: \"b\"..\"z\"", rng, N(rng));
    lcase opt[] = {{"ab", C}, {"a", C}, {"abb", I}};
    expect("start: \"a\" [\"b\"]", opt, N(opt));
    lcase tilde[] = {{"xx", C}, {"xxx", C}, {"xxxx", C}, {"x", P}, {"xxxxx", I}};
    expect("start: X~2..4\nX: \"x\"", tilde, N(tilde));
    lcase tilde1[] = {{"yyy", C}, {"yy", P}, {"yyyy", I}};
    expect("start: \"y\" ~ 3", tilde1, N(tilde1));
    lcase brace[] = {{"zz", C}, {"zzz", C}, {"z", P}, {"zzzz", I}};
    expect("start: \"z\"{2,3}", brace, N(brace));
    lcase re[] = {{"ABC", C}, {"abc", C}, {"aBc", C}, {"ab", P}, {"abd", I}};
    expect("start: /abc/i", re, N(re));
    lcase re2[] = {{"a\nb", C}, {"a/b", C}, {"ab", P}, {"abc", I}};
    expect("start: /a.b/s | /a\\/b/", re2, N(re2));
    lcase term_ref[] = {{"ab1", C}, {"ab", P}, {"b1", I}};
    expect("start: A\nA: \"a\" B\nB: \"b\" DIGIT\n%import common.DIGIT", term_ref, N(term_ref));
    lcase alias[] = {{"ab", C}, {"x", C}};
    expect("start: \"a\" \"b\" -> ab_alias\n     | \"x\" -> x_alias", alias, N(alias));
    lcase multi[] = {{"hello world", C}, {"hello   world", C}, {"helloworld", C}, {"hello\tworld", I}};
    expect("start: \"hello\" \"world\"\n%ignore \" \"", multi, N(multi));
    lcase imp[] = {{"foo=1", C}, {"x_1 = -2.5", C}, {"A=\"s\\\"q\"", C}, {"1=1", I}, {"a=\"x", P}};
    expect("start: CNAME \"=\" (SIGNED_NUMBER | ESCAPED_STRING)\n%import common (CNAME, SIGNED_NUMBER, "
           "ESCAPED_STRING, WS_INLINE)\n%ignore WS_INLINE",
           imp, N(imp));
    lcase as[] = {{"12", C}, {"1a", I}};
    expect("start: N\n%import common.INT -> N", as, N(as));
    /* recursion, left and right */
    lcase rec[] = {{"()", C}, {"(())()", C}, {"(()", P}, {")", I}, {"", C}};
    expect("start: start \"(\" start \")\" |", rec, N(rec));
    /* common terminals */
    lcase num[] = {{"1", C}, {"1.5", C}, {".5", C}, {"1.", C}, {"1e3", C}, {"2.5E-3", C}, {"e3", I}, {"1e", P}};
    expect("start: NUMBER\n%import common.NUMBER", num, N(num));
    lcase ws[] = {{"a\n\nb", C}, {"a\r\nb", C}, {"ab", I}};
    expect("start: \"a\" NEWLINE \"b\"\n%import common.NEWLINE", ws, N(ws));
    lcase cm[] = {{"x/* a * b */", C}, {"x/**/", C}, {"x/* */ */", I}, {"x/* ", P}};
    expect("start: \"x\" C_COMMENT\n%import common.C_COMMENT", cm, N(cm));
    lcase st[] = {{"s", C}, {"t", C}};
    smc_grammar *g = NULL;
    smc_error e;
    const char *two = "a: \"s\"\nb: \"t\"";
    CHECK_EQ_INT(smc_grammar_from_lark(two, strlen(two), "b", &g, &e), 0);
    if (g) {
        CHECK_EQ_INT(smc_grammar_classify(g, st[1].s, 1), C);
        CHECK_EQ_INT(smc_grammar_classify(g, st[0].s, 1), I);
    }
    smc_grammar_free(g);
}

static void expect_error(const char *text, const char *want)
{
    smc_grammar *g = NULL;
    smc_error e = {{0}};
    int rc = smc_grammar_from_lark(text, strlen(text), NULL, &g, &e);
    CHECK_MSG(rc != 0, "should fail: %s", text);
    CHECK_MSG(strncmp(e.msg, want, strlen(want)) == 0, "error \"%s\", want prefix \"%s\"", e.msg, want);
    smc_grammar_free(g);
}

static void test_errors(void)
{
    expect_error("start: foo", "1:8: undefined rule 'foo'");
    expect_error("start: \"a\"\nstart: \"b\"", "2:1: 'start' is defined twice");
    expect_error("start: (\"a\"", "1:8: unclosed '('");
    expect_error("start: \"a", "1:8: unterminated string");
    expect_error("start: /a(/", "1:10: regex: unclosed");
    expect_error("start: /a/q", "1:11: unsupported regex flag");
    expect_error("start: A\nA: b\nb: \"x\"", "2:4: terminals cannot refer to rules");
    expect_error("%import common.NOPE\nstart: \"a\"", "1:16: unknown terminal common.NOPE");
    expect_error("%declare X\nstart: \"a\"", "1:1: unsupported directive %declare");
    expect_error("%import other.X\nstart: \"a\"", "1:1: only %import common.X");
    expect_error("start \"a\"", "1:7: expected ':'");
    expect_error("x: \"a\"", "no rule named 'start'");
    expect_error("start: \"a\"..\"zz\"", "1:8: a range needs");
    expect_error("start: sep{x, y}\nx: \"a\"\ny: \"b\"", "1:11: rule templates");
    expect_error("start: \"a\" ~ ", "1:12: expected a number");
}

void run_tests(void)
{
    test_calc();
    test_features();
    test_errors();
}
