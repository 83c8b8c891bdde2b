/* test_sql_literal_masks.c — token masks inside the string literals of the
 * Spider SQL grammar (smc_sql_gbnf), whose chains sq1..sq48 / dq1..dq48 are
 * spelled `"" | x next` so that positions with at least C characters left
 * share one mask walk (earley_canonical, token_mask.c). At every count of
 * characters read (0..48, then past the limit), with quotes, '' escapes,
 * double quotes and multibyte characters inside, on the domain models'
 * 8,192-token vocabulary: the masks with the sharing at the vocabulary's own
 * C and at C = 2 and 5 (most tokens longer than C, so undecided tokens must
 * be walked per state) must equal, token by token, the masks of the same
 * language spelled `(x next)?` (since ir_inline.c the same compiled chain)
 * with the sharing off, and advancing a clone by each token's bytes; then a
 * second literal in another context, whose positions below C meet the
 * walks (and their undecided tokens) kept from the first. The sharing must
 * happen (canonical walks at the deep positions). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/earley.h"
#include "constraint/matcher_internal.h"
#include "constraint/token_index.h"
#include "potentials/sql_helpers.h"
#include "smcgen.h"
#include "test.h"
#include "constraint/test_counted.h"

/* The grammar with each chain rule "NAME ::= "" | REST" written as
 * "NAME ::= (REST)?" (the spelling before the chains were recognised;
 * test_counted_spellings checks that both now compile to one chain). */
static char *old_spelling(const char *gbnf)
{
    size_t n = strlen(gbnf);
    char *out = malloc(n * 2 + 1), *o = out;
    if (!out)
        return NULL;
    const char *p = gbnf;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *eq = strstr(p, " ::= \"\" | ");
        if ((p[0] == 's' || p[0] == 'd') && p[1] == 'q' && p[2] >= '1' && p[2] <= '9' && eq && eq < p + len) {
            size_t head = (size_t)(eq - p), rest = len - head - strlen(" ::= \"\" | ");
            o += sprintf(o, "%.*s ::= (%.*s)?", (int)head, p, (int)rest, eq + strlen(" ::= \"\" | "));
        } else {
            memcpy(o, p, len);
            o += len;
        }
        if (eol)
            *o++ = '\n';
        p += len + (eol != NULL);
    }
    *o = 0;
    return out;
}

enum { N_CONF = 4 };

typedef struct conf {
    smc_token_index *ix;
    smc_grammar *g;
    smc_matcher *m;
    uint32_t *mask;
    int canonical;
} conf;

/* One literal: open, then pieces one by one, masks compared at every count. */
static void check_literal(conf *cf, const smc_vocab *voc, const char *open, const char *const *pieces, int n_pieces,
                          int stride, int *states, int *mismatches)
{
    for (int c = 0; c < N_CONF; c++) {
        cf[c].m = smc_matcher_new(cf[c].g);
        CHECK_MSG(cf[c].m && smc_matcher_advance_bytes(cf[c].m, open, strlen(open)) == 0, "prefix \"%s\" rejected",
                  open);
    }
    char text[1024];
    size_t len = (size_t)snprintf(text, sizeof text, "%s", open);
    int32_t n = smc_token_index_n_tokens(cf[0].ix), eos = smc_token_index_eos(cf[0].ix);
    for (int j = 0; j <= 52; j++) {
        smc_error err = {{0}};
        for (int c = 0; c < N_CONF; c++) {
            CHECK_EQ_INT(smc_matcher_token_mask(cf[c].m, cf[c].ix, cf[c].mask, &err), 0);
            cf[c].canonical += test_is_canonical(cf[c].m, cf[c].ix);
        }
        (*states)++;
        for (int32_t id = 0; id < n; id++) {
            bool ref = test_mask_bit(cf[0].mask, id);   /* the old spelling, no sharing */
            if (id % stride == 0) {
                smc_str b = smc_vocab_token_bytes(voc, id);
                if (id == eos)
                    ref = smc_matcher_is_accepting(cf[0].m);
                else if (b.len == 0)
                    ref = false;
                else {
                    smc_matcher *cl = smc_matcher_clone(cf[0].m);
                    ref = smc_matcher_advance_bytes(cl, b.ptr, b.len) == 0;
                    smc_matcher_free(cl);
                }
            }
            for (int c = 0; c < N_CONF; c++)
                if (test_mask_bit(cf[c].mask, id) != ref && (*mismatches)++ < 8) {
                    smc_str b = smc_vocab_token_bytes(voc, id);
                    fprintf(stderr, "conf %d (C=%u), after \"%.*s\": token %d \"%.*s\": mask %d, reference %d\n", c,
                            cf[c].ix->counted_level, (int)len, text, (int)id, (int)b.len, b.ptr,
                            test_mask_bit(cf[c].mask, id), ref);
                }
        }
        /* the next piece: past 48 characters the literal must be closed */
        const char *piece = pieces[j % n_pieces];
        int ok = 0;
        for (int c = 0; c < N_CONF; c++)
            ok += smc_matcher_advance_bytes(cf[c].m, piece, strlen(piece)) == 0;
        CHECK_MSG(ok == 0 || ok == N_CONF, "configurations disagree on \"%s\" after \"%.*s\"", piece, (int)len, text);
        if (ok != N_CONF)
            break;
        len += (size_t)snprintf(text + len, sizeof text - len, "%s", piece);
    }
    for (int c = 0; c < N_CONF; c++) {
        smc_matcher_free(cf[c].m);
        cf[c].m = NULL;
    }
}

static void check_db(const char *dbid, const char *select, const char *column, const smc_vocab *voc)
{
    char rel[256];
    snprintf(rel, sizeof rel, "data/spider/database/%s/%s.sqlite", dbid, dbid);
    smc_sql_db *db = NULL;
    smc_error err = {{0}};
    if (smc_sql_open(test_shared_path(rel), &db, &err) != 0) {
        CHECK_MSG(0, "%s: %s", dbid, err.msg);
        return;
    }
    char *gbnf = smc_sql_gbnf(db), *old = gbnf ? old_spelling(gbnf) : NULL;
    CHECK(old != NULL && strstr(gbnf, "sq1 ::= \"\" | sqc sq2\n") && strstr(old, "sq1 ::= (sqc sq2)?\n") &&
          strstr(old, "dq48 ::= (dqc)?\n"));
    conf cf[N_CONF] = {{0}};
    uint32_t levels[N_CONF] = {0, 0, 2, 5};   /* [1]: the vocabulary's own C */
    bool built = old != NULL;
    for (int c = 0; c < N_CONF && built; c++) {
        built = smc_token_index_from_vocab(voc, &cf[c].ix, &err) == 0;
        if (!built)
            break;
        if (c != 1)
            cf[c].ix->counted_level = levels[c];
        levels[c] = cf[c].ix->counted_level;
        const char *src = c == 0 ? old : gbnf;
        built = smc_grammar_from_gbnf(src, strlen(src), NULL, &cf[c].g, &err) == 0;
        cf[c].mask = calloc(smc_token_mask_words(cf[c].ix), sizeof *cf[c].mask);
        built = built && cf[c].mask;
    }
    CHECK_MSG(built, "%s: %s", dbid, err.msg);
    if (built) {
        CHECK_MSG(levels[1] >= 6, "%s: the vocabulary's counted level is %u", dbid, levels[1]);
        bool san = getenv("SMC_TEST_SANITIZED") != NULL;
        int stride = san ? 7 : 1, states = 0, mismatches = 0;
        static const char *const sq[] = {"a", " ", "''", "\xc3\xa9", "\"", "%", "\xe6\x97\xa5", "1", "x", ";", "_",
                                          ")"};
        static const char *const dq[] = {"b", "'", " ", "\xc3\xa9", "''", "\xe6\x97\xa5", "(", "2", "%"};
        char open[256];
        snprintf(open, sizeof open, "%s'", select);
        check_literal(cf, voc, open, sq, sizeof sq / sizeof *sq, stride, &states, &mismatches);
        snprintf(open, sizeof open, "%s\"", select);
        check_literal(cf, voc, open, dq, sizeof dq / sizeof *dq, stride, &states, &mismatches);
        /* a second literal in another context: the walks of the levels
         * below C (kept with their undecided tokens) are met again */
        snprintf(open, sizeof open, "%s'b''c' OR %s'", select, column);
        check_literal(cf, voc, open, sq + 3, sizeof sq / sizeof *sq - 3, stride, &states, &mismatches);
        fprintf(stderr, "%s: %d literal states, C = %u / 2 / 5: %d / %d / %d canonical walks, %d mismatches\n", dbid,
                states, levels[1], cf[1].canonical, cf[2].canonical, cf[3].canonical, mismatches);
        CHECK_MSG(mismatches == 0, "%s: %d mask mismatches", dbid, mismatches);
        CHECK_EQ_INT(cf[0].canonical, 0);
        /* positions with at least C characters left of 48: all in the
         * single-quoted literal, most in the other (its '' are two) */
        int want = 48 - (int)levels[1];
        CHECK_MSG(cf[1].canonical >= want + want / 2, "%s: %d canonical walks at C = %u", dbid, cf[1].canonical,
                  levels[1]);
        CHECK_MSG(cf[2].canonical >= 46 + 23, "%s: %d canonical walks at C = 2", dbid, cf[2].canonical);
    }
    for (int c = 0; c < N_CONF; c++) {
        smc_grammar_free(cf[c].g);
        smc_token_index_free(cf[c].ix);
        free(cf[c].mask);
    }
    free(old);
    free(gbnf);
    smc_sql_close(db);
}

void run_tests(void)
{
    REQUIRE_SHARED();
    smc_gguf *gg = NULL;
    smc_vocab *voc = NULL;
    smc_error err = {{0}};
    if (smc_gguf_open(test_shared_path("models/small-q8_0.gguf"), &gg, &err) != 0 ||
        smc_vocab_load(gg, &voc, &err) != 0) {
        CHECK_MSG(0, "the small model's vocabulary: %s", err.msg);
    } else {
        check_db("poker_player", "SELECT Name FROM people WHERE Nationality = ", "Name = ", voc);
        check_db("world_1", "SELECT Name FROM country WHERE Continent != ", "Region LIKE ", voc);
    }
    smc_vocab_free(voc);
    smc_gguf_close(gg);
}
