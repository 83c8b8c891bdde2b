/* test_gbnf.c — GBNF front end: every shared grammar loads and classifies
 * hand-written complete / prefix / invalid strings; left recursion, '_'
 * names, escapes, repetition, UTF-8 classes (checked exhaustively against a
 * direct membership test), and parse errors with line:column. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"
#include "test.h"

enum { C = SMC_MATCH_COMPLETE, P = SMC_MATCH_PREFIX, I = SMC_MATCH_INVALID };

typedef struct gcase {
    const char *s;
    int kind;
} gcase;

static smc_grammar *load_gbnf(const char *text)
{
    smc_grammar *g = NULL;
    smc_error e = {{0}};
    int rc = smc_grammar_from_gbnf(text, strlen(text), NULL, &g, &e);
    CHECK_MSG(rc == 0, "grammar failed: %s\n%s", e.msg, text);
    return rc == 0 ? g : NULL;
}

static void check_cases(const smc_grammar *g, const char *name, const gcase *cases, size_t n, int *n_pos, int *n_neg)
{
    for (size_t k = 0; k < n; k++) {
        int got = smc_grammar_classify(g, cases[k].s, strlen(cases[k].s));
        CHECK_MSG(got == cases[k].kind, "%s: \"%s\": got %d want %d", name, cases[k].s, got, cases[k].kind);
        if (cases[k].kind == C)
            ++*n_pos;
        else
            ++*n_neg;
    }
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const gcase ARITH[] = {
    {"1=1\n", C}, {"a+b=c\n", C}, {"x1 *2 = 3\n", C}, {"x1 * 2 = 3\n", I}, {"(a+b)*c=d\n", C}, {"1=2\n3=4\n", C},
    {"a_b=1\n", C}, {"( 1 )=2\n", C}, {"10/5-2=0\n", C}, {"a=b\n\n", C}, {"z = ( ( 1 ) )\n", C},
    {"", P}, {"1=1", P}, {"A=1\n", I}, {"1==1\n", I}, {"=1\n", I}, {"1=1+2\n", I}, {"(1=2\n", I},
    {"_a=1\n", I}, {"1 % 2=3\n", I}, {"1=2\n=", I}, {"a b=1\n", I}, {"1.5=2\n", I}, {"1=\xc3\xa9\n", I},
};

static const gcase CGR[] = {
    {"", C}, {"int main(){}", C}, {"int f(int x){return x;}", C}, {"float g(){x = 1;}", C},
    {"char c(){int y = 2+3*4;}", C}, {"int m(){while(a<b){a = a+1;}}", C}, {"int m(){if(a==b){}else{}}", C},
    {"int m(){for(int i = 0; i<10; i = i+1){}}", C}, {"int m(){// hi\n}", C}, {"int m(){/* a * b */}", C},
    {"int m(){f (1, 2);}", C}, {"int a(){}int b(){}", C}, {"int m(){return -( x+1 )*f(2);}", C},
    {"int main() {}", I}, {"intmain(){}", I}, {"int main(){", P}, {"int main(){x=1;}", I}, {"void f(){}", I},
    {"int 1a(){}", I}, {"int m(){return x}", I}, {"int m(){while(a){}}", I}, {"int m(){/* x */", P},
    {"int m(int a, int b){}", I}, {"int m(){if(a<b){}else}", I}, {"int m()", P},
};

static const gcase CHESS[] = {
    {"1. e4 e5\n2. Nf3 Nc6\n", C}, {"1. d4 d5\n2. c4 dxc4\n", C}, {"1. e4 c5\n2. Nf3 d6\n3. d4 cxd4\n", C},
    {"1. O-O O-O-O\n2. Kh1 Kb8\n", C}, {"1. e4 e5\n10. Qxf7# Ke7\n", C}, {"1. e8=Q+ a1=N\n2. Rae1 R1a3\n", C},
    {"1. Nbd2 Nge7\n2. Bxe5 Qh4+\n", C}, {"1. e4 e5\n99. a3 h6\n", C}, {"1. exd5 Qxd5\n2. Nc3 Qa5\n", C},
    {"1. g4 e5\n2. f3 Qh4#\n", C},
    {"1. e4 e5\n", P}, {"2. e4 e5\n3. d4 d5\n", I}, {"1. e9 e5\n", I}, {"1. e4  e5\n", I}, {"1. Pe4 e5\n", I},
    {"1. e4 e5\n0. d4 d5\n", I}, {"1. e4 e5\n100. d4 d5\n", I}, {"1. O-O-O-O e5\n", I},
    {"1. e4 e5\n2. Nf3 Nc6", P}, {"1. ex e5\n", I}, {"1. e4 e5 \n", I},
};

static const gcase ENGLISH[] = {
    {"hello", C}, {"Hello, world!", C}, {"a b c", C}, {"x\ty", C}, {"1+1=2", C}, {"line1\nline2", C},
    {"[brackets]", C}, {"don't", C}, {"a_b-c", C}, {"~`|", C},
    {"", P}, {"hello ", P}, {"a  b", I}, {" a", I}, {"h\xc3\xa9llo", I}, {"a\rb", I},
    {"\xe6\x97\xa5\xe6\x9c\xac", I}, {"a\x01", I}, {"\tab", I}, {"ab\n\n", I},
};

static const gcase JAPANESE[] = {
    {"\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf", C},           /* こんにちは */
    {"\xe3\x82\xab\xe3\x82\xbf\xe3\x82\xab\xe3\x83\x8a", C},                         /* カタカナ */
    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", C},                                     /* 日本語 */
    {"\xe6\x9d\xb1\xe4\xba\xac\xe3\x80\x81\xe5\xa4\xa7\xe9\x98\xaa\xe3\x80\x82", C}, /* 東京、大阪。 */
    {"\xe3\x81\xb2\xe3\x82\x89 \xe3\x82\xab\xe3\x82\xbf", C},                        /* ひら カタ */
    {"\xe6\xbc\xa2\xe5\xad\x97\n\xe3\x81\x8b\xe3\x82\x93", C},                       /* 漢字\nかん */
    {"\xe4\xb8\x80", C},                                                             /* 一 U+4E00 */
    {"\xe9\xbf\xbf", C},                                                             /* U+9FFF */
    {"\xe3\x82\x9f", C},                                                             /* ゟ U+309F */
    {"\xe3\x82\xa2\t\xe3\x82\xa4", C},                                               /* ア\tイ */
    {"", P}, {"abc", I}, {"\xe6\x97\xa5\xe6\x9c\xac ", P}, {"\xe6\x97\xa5  \xe8\xaa\x9e", I},
    {"\xef\xbd\xb1", I},                   /* halfwidth katakana U+FF71 */
    {"\xed\x95\x9c", I},                   /* 한 */
    {"\xe6\x97\xa5\xc3\xa9", I}, {"\xe6\x97", P}, {"\xe6\x97\x41", I}, {"\xc4\x80", I},
    {"\xe3\x82\xa0", I},                   /* U+30A0: between ゟ U+309F and ァ U+30A1 */
};

static const gcase JSON[] = {
    {"{}", C}, {"{\"a\":1}", C}, {"{\"a\": [1, 2, 3]}", C}, {"{ \"k\": \"v\"}", C}, {"{\"a\":{\"b\":null}}", C},
    {"{\"x\":true,\"y\":false}", C}, {"{\"n\":-1.5e19}", C}, {"{\"s\":\"\\u00e9\\n\"}", C}, {"{\"a\":[]}", C},
    {"{\"a\":[{}]}", C}, {"{\"\xc3\xa9\":\"\xe6\x97\xa5\"}", C}, {"{}\n  ", C},
    {"", P}, {"[]", I}, {"{\"a\":01}", I}, {"{\"a\":1,}", I}, {"{'a':1}", I}, {"{\"a\" 1}", I},
    {"{\"a\":tru}", I}, {"{\"a\":\"\x01\"}", I}, {"{\"a\":\"\\x\"}", I}, {"{\"a\":1}}", I}, {"{\"a\":", P},
    {"{\"a\":1e10}", I}, {"{\"a\":1}  ", I},
};

static const gcase JSON_ARR[] = {
    {"[\n]", C}, {"[\n1]", C}, {"[\n1,\n2]", C}, {"[\n{\"a\":1},\n[]]", C}, {"[\n\"x\"]", C}, {"[\n true]", C},
    {"[\ntrue,\nfalse,\nnull]", C}, {"[\n-0.5]", C}, {"[\n[1, 2]]", C}, {"[\n{}]", C}, {"[\n\"a\\\"b\"]", C},
    {"[]", I}, {"[\n1,2]", I}, {"[\n1]\n", I}, {"[\n", P}, {"[\n1,", P}, {"{}", I}, {"[\n,]", I},
    {"[\n01]", I}, {"[\n\"a]", P}, {"[\nnul]", I},
};

static const gcase LIST[] = {
    {"- a\n", C}, {"- hello world\n", C}, {"- a\n- b\n", C}, {"- \xe6\x97\xa5\xe6\x9c\xac\n", C}, {"- \t\n", C},
    {"- -\n", C}, {"- \xc3\xa9\n- x\n", C}, {"- 1. 2.\n", C}, {"- a b c\n- d\n- e\n", C}, {"- \xc2\x84\n", C},
    {"", P}, {"- \n", I}, {"-a\n", I}, {"- a", P}, {"- a\r\n", I}, {"- \xc2\x85\n", I}, {"- \xe2\x80\xa8\n", I},
    {"* a\n", I}, {"- a\n\n", I}, {"- a\x0b\n", I}, {"- \xc2\n", I}, {"- \xe2\x80\xa9", I},
};

static void test_shared_grammars(void)
{
    if (!test_shared_path("")) {
        fprintf(stderr, "note: ../shared absent, shared grammar cases skipped\n");
        return;
    }
    struct {
        const char *file;
        const gcase *cases;
        size_t n;
    } sets[] = {
        {"grammars/arithmetic.gbnf", ARITH, N(ARITH)}, {"grammars/c.gbnf", CGR, N(CGR)},
        {"grammars/chess.gbnf", CHESS, N(CHESS)},      {"grammars/english.gbnf", ENGLISH, N(ENGLISH)},
        {"grammars/japanese.gbnf", JAPANESE, N(JAPANESE)}, {"grammars/json.gbnf", JSON, N(JSON)},
        {"grammars/json_arr.gbnf", JSON_ARR, N(JSON_ARR)}, {"grammars/list.gbnf", LIST, N(LIST)},
    };
    for (size_t k = 0; k < N(sets); k++) {
        size_t n;
        char *text = test_read_file(test_shared_path(sets[k].file), &n);
        CHECK_MSG(text != NULL, "cannot read %s", sets[k].file);
        if (!text)
            continue;
        smc_grammar *g = NULL;
        smc_error e = {{0}};
        int rc = smc_grammar_from_gbnf(text, n, NULL, &g, &e);
        CHECK_MSG(rc == 0, "%s: %s", sets[k].file, e.msg);
        if (rc == 0) {
            int pos = 0, neg = 0;
            check_cases(g, sets[k].file, sets[k].cases, sets[k].n, &pos, &neg);
            CHECK_MSG(pos >= 10 && neg >= 10, "%s: %d positive, %d negative cases", sets[k].file, pos, neg);
            smc_grammar_free(g);
        }
        free(text);
    }
}

static void expect(const char *grammar, const gcase *cases, size_t n)
{
    smc_grammar *g = load_gbnf(grammar);
    if (!g)
        return;
    for (size_t k = 0; k < n; k++) {
        int got = smc_grammar_classify(g, cases[k].s, strlen(cases[k].s));
        CHECK_MSG(got == cases[k].kind, "grammar %s: \"%s\": got %d want %d", grammar, cases[k].s, got, cases[k].kind);
    }
    smc_grammar_free(g);
}

static void test_features(void)
{
    /* left recursion, direct and indirect */
    gcase lr[] = {{"b", C}, {"baaa", C}, {"a", I}, {"", P}, {"bab", I}};
    expect("root ::= root \"a\" | \"b\"", lr, N(lr));
    gcase lr2[] = {{"1", C}, {"1+2*3-4", C}, {"1+", P}, {"+1", I}, {"1**2", I}};
    expect("root ::= expr\nexpr ::= expr [+-] term | term\nterm ::= term \"*\" num | num\nnum ::= [0-9]", lr2, N(lr2));
    gcase ind[] = {{"x", C}, {"xyzyz", C}, {"xy", P}, {"xzy", I}};
    expect("root ::= a\na ::= b \"z\" | \"x\"\nb ::= a \"y\"", ind, N(ind));
    /* '_' and '-' in names, comments, rules spanning lines */
    gcase names[] = {{"ab", C}, {"a", P}, {"b", I}};
    expect("# comment\nroot ::= my_rule\n  other-rule # trailing\nmy_rule ::= \"a\"\nother-rule ::=\n  \"b\"", names, N(names));
    /* escapes */
    gcase esc[] = {{"A\t\r\n\\\"[]-\xc3\xa9\xf0\x9f\x98\x80", C}, {"A", P}, {"B", I}};
    expect("root ::= \"\\x41\\t\\r\\n\\\\\\\"\\[\\]\\-\\u00e9\\U0001F600\"", esc, N(esc));
    /* repetition */
    gcase rep[] = {{"aa", C}, {"aaa", C}, {"a", P}, {"aaaa", I}, {"", P}};
    expect("root ::= \"a\"{2,3}", rep, N(rep));
    gcase rep2[] = {{"ab", C}, {"abab", I}, {"", P}};
    expect("root ::= (\"a\" \"b\"){1}", rep2, N(rep2));
    gcase rep3[] = {{"xx", C}, {"xxxxxxxx", C}, {"x", P}, {"xy", I}};
    expect("root ::= \"x\"{2,}", rep3, N(rep3));
    gcase rep4[] = {{"", C}, {"z", C}, {"zz", C}, {"zzz", I}};
    expect("root ::= \"z\"{,2}", rep4, N(rep4));
    gcase opt[] = {{"", C}, {"ab", C}, {"abab", C}, {"a", P}, {"b", I}};
    expect("root ::= (\"a\" \"b\")* ", opt, N(opt));
    /* nested repetitions (simplified algebraically, see ir.c) keep their meaning */
    gcase nest[] = {{"abd", P}, {"aacd", I}, {"bd", I}, {"aaaabcccdeeeffff", C}, {"abdff", C}, {"abdfffg", C},
                    {"abdfg", I}, {"abdffggg", C}};
    expect("root ::= (\"a\"+)+ \"b\" (\"c\"+)? \"d\" (\"e\"+)* (\"f\"+){2} ((\"g\"?)+)+", nest, N(nest));
    gcase nest2[] = {{"", C}, {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", C}, {"y", I}};
    expect("root ::= ((((\"x\"*)*)+)?){3,7}", nest2, N(nest2));
    /* '.' is one code point of any length; invalid UTF-8 is rejected */
    gcase dot[] = {{"a", C}, {"\xc3\xa9", C}, {"\xe6\x97\xa5", C}, {"\xf0\x9f\x98\x80", C}, {"\n", C},
                   {"\xc3", P}, {"\xf0\x9f\x98", P}, {"\xff", I}, {"\xc0\x80", I}, {"\xed\xa0\x80", I},
                   {"\xf4\x90\x80\x80", I}, {"ab", I}, {"\x80", I}};
    expect("root ::= .", dot, N(dot));
    gcase neg[] = {{"A", C}, {"b", I}, {"\xc3\xa9", C}, {"\xf0\x9f\x98\x80", C}, {"a", I}, {"z", I}, {"\xe6\x97\xa5", I}, {"", P}};
    expect("root ::= [^a-z\\u4e00-\\u9fff]", neg, N(neg));
    /* empty alternatives, nested groups */
    gcase alt[] = {{"", C}, {"x", C}, {"xyz", C}, {"xz", I}, {"xy", P}};
    expect("root ::= | \"x\" ( | \"y\" \"z\" )", alt, N(alt));
}

/* Exhaustive check of UTF-8 class expansion: every code point, encoded,
 * is accepted exactly when it is in the class. */
static bool in_class(uint32_t cp)
{
    if (cp >= 'a' && cp <= 'z')
        return false;
    if (cp == 0xE9 || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x1F600 && cp <= 0x1F64F) || cp == 0x7FF || cp == 0x10000)
        return false;
    return true;   /* negated class */
}

static size_t enc(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 63));
        o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 63));
    o[2] = (char)(0x80 | (cp >> 6 & 63));
    o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

static void test_utf8_exhaustive(void)
{
    smc_grammar *g = load_gbnf("root ::= [^a-z\\u00e9\\u4e00-\\u9fff\\U0001F600-\\U0001F64F\\u07ff\\U00010000]");
    smc_grammar *h = load_gbnf("root ::= [\\u0080-\\u07ff\\u0800-\\uffff] | [\\U00010000-\\U0010FFFF] | [\\x00-\\x7f]");
    if (!g || !h) {
        smc_grammar_free(g);
        smc_grammar_free(h);
        return;
    }
    int bad = 0, bad_all = 0;
    uint32_t step = getenv("SMC_TEST_SANITIZED") ? 7 : 1;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp += step) {
        char b[4];
        size_t n = enc(cp, b);
        int want = (cp >= 0xD800 && cp <= 0xDFFF) ? I : (in_class(cp) ? C : I);
        if ((int)smc_grammar_classify(g, b, n) != want && bad++ < 5)
            fprintf(stderr, "class: U+%04X wrong\n", cp);
        int want_all = (cp >= 0xD800 && cp <= 0xDFFF) ? I : C;
        if ((int)smc_grammar_classify(h, b, n) != want_all && bad_all++ < 5)
            fprintf(stderr, "all: U+%04X wrong\n", cp);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(bad_all, 0);
    /* every 2-byte string: valid UTF-8 of one code point <=> accepted by h */
    int bad2 = 0;
    for (unsigned a = 0; a < 256; a++)
        for (unsigned c = 0; c < 256; c++) {
            char s[2] = {(char)a, (char)c};
            bool valid = a >= 0xC2 && a <= 0xDF && (c & 0xC0) == 0x80;
            int got = (int)smc_grammar_classify(h, s, 2);
            if ((got == C) != valid)
                bad2++;
        }
    CHECK_EQ_INT(bad2, 0);
    smc_grammar_free(g);
    smc_grammar_free(h);
}

static void expect_error(const char *text, const char *want_prefix)
{
    smc_grammar *g = NULL;
    smc_error e = {{0}};
    int rc = smc_grammar_from_gbnf(text, strlen(text), NULL, &g, &e);
    CHECK_MSG(rc != 0, "grammar should fail: %s", text);
    CHECK_MSG(strncmp(e.msg, want_prefix, strlen(want_prefix)) == 0, "error \"%s\" does not start with \"%s\"", e.msg,
              want_prefix);
    smc_grammar_free(g);
}

static void test_errors(void)
{
    expect_error("root ::= foo\n", "1:10: undefined rule 'foo'");
    expect_error("root ::= \"a\"\n\nx ::= \"abc\n", "3:7: unterminated");
    expect_error("root ::= [a-", "1:10: unterminated character class");
    expect_error("root ::= (\"a\"", "1:10: unclosed");
    expect_error("root := x", "1:6: expected '::='");
    expect_error("root ::= \"\\q\"", "1:11: unknown escape");
    expect_error("root ::= \"a\"{3,2}", "1:13:");
    expect_error("root ::= [z-a]", "1:13: character range is backwards");
    expect_error("root ::= \"a\"\nroot ::= \"b\"", "2:1: rule 'root' is defined twice");
    expect_error("x ::= \"a\"", "no rule named 'root'");
    expect_error("root ::= [^\\x00-\\U0010FFFF]", "the root rule");
    expect_error("root ::= \"\xff\"", "1:11: invalid UTF-8");
    expect_error("root ::= \"a\" ) ", "1:14:");
    /* a custom root rule */
    smc_grammar *g = NULL;
    smc_error e;
    CHECK_EQ_INT(smc_grammar_from_gbnf("start ::= \"s\"", 13, "start", &g, &e), 0);
    if (g)
        CHECK_EQ_INT(smc_grammar_classify(g, "s", 1), C);
    smc_grammar_free(g);
}

void run_tests(void)
{
    test_shared_grammars();
    test_features();
    test_utf8_exhaustive();
    test_errors();
}
