/* test_regex.c — regex constraints: classification compared with PCRE2 (an
 * independent implementation) on random strings — complete means a full
 * anchored match, prefix-or-complete means a partial (hard) match — plus the
 * rejected constructs and error positions. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"
#include "test.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *PATTERNS[] = {
    "a|b", "ab*c", "(ab)+", "a{2,4}", "[a-c]+x?", "[^ab]*", "\\d{3}-\\d{4}", "\\w+@\\w+\\.com", "(a|ab)(c|bcd)",
    "x(?:y|z)*", ".*a", "(?i)abc", "\\s*\\S+", "[\\d\\s]+", "\xc3\xa9+|\xe6\x97\xa5", "[^\xc3\xa9]", "a.c",
    "(foo|bar){1,2}baz?", "\\D\\W", "[a-]+", "[]a]+", "a??b+?", "^ab$", "[\\x41-\\x43]+", "\\x{e9}b", "(a*)*b",
    "(x?)*y", "(a*){3}b|c", "(|a)+c", "a{0}b", "(?P<n>a|b)c", "[\\w.-]+", "(a|b)*abb", "\\.\\*\\+\\?\\(\\)", "[^\\n]+\\n", "(?s).b",
    "\\t\\r?\\n", "[a-z]{1,3}[0-9]{0,2}", "((a|b)(c|d)){2}", "(xy?){2,}z", "[^a-z0-9]+", "a|(b|(c|(d)))",
};

static const char *ALPHABET[] = {"a", "b", "c", "d", "x", "y", "z", "0", "1", "5", "-", "@", ".", "\xc3\xa9",
                                 "\xe6\x97\xa5", "\n", " ", "_", "A", "B", "C", "f", "o", "r", "m", "\t", "*", "(",
                                 "\r"};

static void compare_with_pcre2(void)
{
    int n_strings = getenv("SMC_TEST_SANITIZED") ? 800 : 3000;
    int total = 0;
    for (size_t k = 0; k < sizeof PATTERNS / sizeof *PATTERNS; k++) {
        const char *pat = PATTERNS[k];
        smc_grammar *g = NULL;
        smc_error e = {{0}};
        int rc = smc_grammar_from_regex(pat, strlen(pat), &g, &e);
        CHECK_MSG(rc == 0, "/%s/: %s", pat, e.msg);
        int ecode;
        PCRE2_SIZE eoff;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ecode, &eoff, NULL);
        CHECK_MSG(re != NULL, "PCRE2 rejects /%s/", pat);
        if (!g || !re) {
            smc_grammar_free(g);
            pcre2_code_free(re);
            continue;
        }
        /* for partial matches, the pattern followed by \\z (PCRE2_ENDANCHORED
         * does not combine with partial matching the way we need) */
        char wrapped[300];
        snprintf(wrapped, sizeof wrapped, "(?:%s)\\z", pat[0] == '^' ? pat + 1 : pat);
        if (strncmp(pat, "(?", 2) == 0 && (pat[2] == 'i' || pat[2] == 's') && pat[3] == ')')
            snprintf(wrapped, sizeof wrapped, "%.4s(?:%s)\\z", pat, pat + 4);
        pcre2_code *re_part = pcre2_compile((PCRE2_SPTR)wrapped, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ecode, &eoff, NULL);
        CHECK_MSG(re_part != NULL, "PCRE2 rejects /%s/", wrapped);
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        /* letters of the pattern are likelier */
        int bad = 0;
        for (int t = 0; t < n_strings; t++) {
            char s[64];
            size_t len = 0;
            int nch = (int)rnd(9);
            for (int c = 0; c < nch; c++) {
                const char *piece;
                if (rnd(2) && strlen(pat) > 0) {
                    char ch = pat[rnd((uint32_t)strlen(pat))];
                    if ((unsigned char)ch >= 0x80 || ch == '\\')
                        continue;
                    s[len++] = ch;
                    continue;
                }
                piece = ALPHABET[rnd(sizeof ALPHABET / sizeof *ALPHABET)];
                memcpy(s + len, piece, strlen(piece));
                len += strlen(piece);
            }
            int full = pcre2_match(re, (PCRE2_SPTR)s, len, 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL);
            int part = re_part ? pcre2_match(re_part, (PCRE2_SPTR)s, len, 0, PCRE2_ANCHORED | PCRE2_PARTIAL_HARD, md, NULL) : -1;
            int want = full >= 0 ? SMC_MATCH_COMPLETE
                                 : (part >= 0 || part == PCRE2_ERROR_PARTIAL) ? SMC_MATCH_PREFIX : SMC_MATCH_INVALID;
            int got = (int)smc_grammar_classify(g, s, len);
            if (len == 0 && want != SMC_MATCH_COMPLETE)
                want = got == SMC_MATCH_COMPLETE ? -1 : got;   /* PCRE2 gives no partial match on "" */
            if (got != want && bad++ < 3)
                fprintf(stderr, "/%s/ on \"%.*s\": got %d, PCRE2 says %d\n", pat, (int)len, s, got, want);
            total++;
        }
        CHECK_MSG(bad == 0, "/%s/: %d disagreements with PCRE2", pat, bad);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        pcre2_code_free(re_part);
        smc_grammar_free(g);
    }
    CHECK(total > 50000 || getenv("SMC_TEST_SANITIZED"));
}

static void expect_error(const char *pat, const char *want)
{
    smc_grammar *g = NULL;
    smc_error e = {{0}};
    int rc = smc_grammar_from_regex(pat, strlen(pat), &g, &e);
    CHECK_MSG(rc != 0, "/%s/ should be rejected", pat);
    CHECK_MSG(strncmp(e.msg, want, strlen(want)) == 0, "/%s/: error \"%s\", want prefix \"%s\"", pat, e.msg, want);
    smc_grammar_free(g);
}

static void test_errors(void)
{
    expect_error("(a)\\1", "1:4: backreferences");
    expect_error("a(?=b)", "1:2: lookaround");
    expect_error("(?<!a)b", "1:1: lookaround");
    expect_error("a\\bc", "1:2: anchors and word boundaries");
    expect_error("a^b", "1:2: '^' and '$'");
    expect_error("a$b", "1:2: '^' and '$'");
    expect_error("a++", "1:3: possessive");
    expect_error("[[:alpha:]]", "1:2: POSIX");
    expect_error("(ab", "1:1: unclosed");
    expect_error("ab)", "1:3: unmatched ')'");
    expect_error("*a", "1:1: quantifier without");
    expect_error("[b-a]", "1:3: character range is backwards");
    expect_error("a{5,2}", "1:2: repetition maximum");
    expect_error("\\p{L}", "1:1: Unicode properties");
    expect_error("a\\", "1:2: pattern ends");
    expect_error("x{1,20000}", "1:2: repetition bound");
    expect_error("[^\\x00-\\x{10FFFF}]", "the root rule");
}

/* Nested nullable repetitions once made Earley sets quadratic (found by
 * fuzzing: 21 s for one input); they are now simplified algebraically. */
static void test_nested_nullable(void)
{
    const char *pat = ".???????*{526}";
    smc_grammar *g = NULL;
    smc_error e;
    CHECK_EQ_INT(smc_grammar_from_regex(pat, strlen(pat), &g, &e), 0);
    if (!g)
        return;
    char s[2000];
    memset(s, 'q', sizeof s);
    CHECK_EQ_INT(smc_grammar_classify(g, s, sizeof s), SMC_MATCH_COMPLETE);
    CHECK_EQ_INT(smc_grammar_classify(g, "", 0), SMC_MATCH_COMPLETE);
    CHECK_EQ_INT(smc_grammar_classify(g, "a\n", 2), SMC_MATCH_INVALID);
    smc_grammar_free(g);
}

void run_tests(void)
{
    test_nested_nullable();
    compare_with_pcre2();
    test_errors();
}
