/* test_token_mask.c — token masks, advance by token, EOS and the fused
 * masked log-sum-exp, checked against slow references: for random
 * trajectories sampled from the masked distribution with random logits,
 * every token is re-checked by advancing a clone byte by byte (and, on the
 * small vocabulary, by classifying the whole text from scratch), on a
 * synthetic vocabulary (always) and on the GPT-2 vocabulary from ../shared;
 * also with the sharing of subtree results between contexts forced at
 * every trie node (ix->memo_min_nodes = 1), and over every viable prefix
 * of a nested grammar whose states recur in many contexts. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/matcher_internal.h"
#include "constraint/token_index.h"
#include "smcgen.h"
#include "test.h"
#include "test_vocab.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next_u64(void) { return test_xorshift64(&rng); }
static double uniform(void) { return (double)(next_u64() >> 11) / 9007199254740992.0; }

static const char JSON_GBNF[] =
    "root ::= object\n"
    "value ::= object | array | string | number | (\"true\" | \"false\" | \"null\") ws\n"
    "object ::= \"{\" ws ( string \":\" ws value (\",\" ws string \":\" ws value)* )? \"}\" ws\n"
    "array ::= \"[\" ws ( value (\",\" ws value)* )? \"]\" ws\n"
    "string ::= \"\\\"\" ( [^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4}) )* \"\\\"\" ws\n"
    "number ::= (\"-\"? ([0-9] | [1-9] [0-9]{0,15})) (\".\" [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws\n"
    "ws ::= | \" \" | \"\\n\" [ \\t]{0,20}\n";

/* Would the matcher accept these bytes? Stepped with earley_step_direct:
 * Earley transitions computed from the items each time, without the memo,
 * the byte classes or the dead-byte shortcut the mask walk relies on. */
static bool direct_accepts(const smc_matcher *m, const char *bytes, size_t n)
{
    const smc_grammar *g = m->g;
    earley_lock(g);
    eset *s = m->state;
    for (size_t i = 0; i < n && s && s != &earley_dead; i++)
        s = earley_step_direct(g, s, (unsigned char)bytes[i]);
    earley_unlock(g);
    return s && s != &earley_dead;
}

/* Byte classes are sound: two bytes in one class belong to exactly the same
 * terminals (so they step every set alike), checked pair by pair; and they
 * do merge bytes (at most max_classes classes). */
static void check_byte_classes(const char *name, const smc_grammar *g, unsigned max_classes)
{
    earley_lock(g);
    const uint8_t *cls = earley_byte_classes(g);
    unsigned n = 0;
    int bad = 0;
    for (unsigned b = 0; b < 256; b++)
        n = cls[b] + 1u > n ? cls[b] + 1u : n;
    for (uint32_t t = 0; t < g->n_terms; t++)
        for (unsigned b1 = 0; b1 < 256; b1++)
            for (unsigned b2 = b1 + 1; b2 < 256; b2++)
                if (cls[b1] == cls[b2] && ir_byteset_has(&g->terms[t], b1) != ir_byteset_has(&g->terms[t], b2))
                    bad++;
    earley_unlock(g);
    CHECK_MSG(bad == 0, "%s: %d byte pairs share a class but not their terminals", name, bad);
    CHECK_MSG(n >= 2 && n <= max_classes, "%s: %u byte classes", name, n);
}

/* Runs `trajectories` random walks of up to `steps` tokens; at each step the
 * mask, advance_token and the log-sum-exp are checked against references;
 * every direct_stride-th token is also checked with direct_accepts. */
static void property(const char *name, const smc_grammar *g, const smc_token_index *ix, const vocab *v,
                     int trajectories, int steps, bool classify_ref, int direct_stride)
{
    size_t words = smc_token_mask_words(ix);
    uint32_t *mask = malloc(words * sizeof *mask);
    uint32_t *mask2 = malloc(words * sizeof *mask2);
    float *logits = malloc((size_t)v->n * sizeof *logits);
    double *w = malloc((size_t)v->n * sizeof *w);
    size_t text_cap = 1 << 16;
    char *text = malloc(text_cap);
    char *buf = malloc(text_cap + 4096);
    int mismatches = 0, lse_bad = 0, total_steps = 0, eos_seen = 0;
    for (int t = 0; t < trajectories; t++) {
        smc_matcher *m = smc_matcher_new(g);
        size_t len = 0;
        for (int s = 0; s < steps; s++) {
            smc_error err = {{0}};
            int rc = smc_matcher_token_mask(m, ix, mask, &err);
            CHECK_MSG(rc == 0, "%s: mask failed: %s", name, err.msg);
            if (rc)
                break;
            total_steps++;
            bool accepting = smc_matcher_is_accepting(m);
            CHECK_EQ_INT(accepting, smc_grammar_classify(g, text, len) == SMC_MATCH_COMPLETE);
            for (int32_t id = 0; id < v->n; id++) {
                bool ref;
                if (id == v->eos) {
                    ref = accepting;
                } else if (v->lens[id] == 0) {
                    ref = false;
                } else {
                    smc_matcher *c = smc_matcher_clone(m);
                    ref = smc_matcher_advance_bytes(c, v->bytes[id], v->lens[id]) == 0;
                    smc_matcher_free(c);
                    if (classify_ref && len + v->lens[id] <= text_cap) {
                        memcpy(buf, text, len);
                        memcpy(buf + len, v->bytes[id], v->lens[id]);
                        bool ref2 = smc_grammar_classify(g, buf, len + v->lens[id]) != SMC_MATCH_INVALID;
                        if (ref2 != ref && mismatches++ < 5)
                            fprintf(stderr, "%s: classify/advance disagree on token %d\n", name, (int)id);
                    }
                }
                if (id != v->eos && v->lens[id] && id % direct_stride == 0 &&
                    direct_accepts(m, v->bytes[id], v->lens[id]) != test_mask_bit(mask, id) && mismatches++ < 5)
                    fprintf(stderr, "%s: step %d token %d: mask %d, direct Earley steps disagree\n", name, s, (int)id,
                            test_mask_bit(mask, id));
                if (test_mask_bit(mask, id) != ref && mismatches++ < 5)
                    fprintf(stderr, "%s: step %d token %d (\"%.*s\"): mask %d, reference %d\n", name, s, (int)id,
                            (int)v->lens[id], v->bytes[id], test_mask_bit(mask, id), ref);
                /* advance_token agrees */
                smc_matcher *c = smc_matcher_clone(m);
                bool adv = smc_matcher_advance_token(c, ix, id) == 0;
                smc_matcher_free(c);
                if (adv != ref && mismatches++ < 5)
                    fprintf(stderr, "%s: advance_token(%d) = %d, reference %d\n", name, (int)id, adv, ref);
            }
            /* random logits; fused log-sum-exp vs a direct sum over the reference mask */
            for (int32_t id = 0; id < v->n; id++)
                logits[id] = (float)(4.0 * (uniform() - 0.5) + (uniform() < 0.01 ? 8.0 : 0.0));
            double lse = smc_matcher_masked_logsumexp(m, ix, logits, mask2, &err);
            double mx = -INFINITY;
            for (int32_t id = 0; id < v->n; id++)
                if (test_mask_bit(mask, id) && logits[id] > mx)
                    mx = logits[id];
            double sum = 0;
            for (int32_t id = 0; id < v->n; id++)
                if (test_mask_bit(mask, id))
                    sum += exp(logits[id] - mx);
            double direct = mx == -INFINITY ? -INFINITY : mx + log(sum);
            if (!(fabs(lse - direct) <= 1e-6 * (1 + fabs(direct)) || (lse == direct)) && lse_bad++ < 5)
                fprintf(stderr, "%s: logsumexp %.12g vs direct %.12g\n", name, lse, direct);
            /* the logits of forbidden tokens must not matter, whatever they are */
            for (int32_t id = 0; id < v->n; id++)
                if (!test_mask_bit(mask, id))
                    logits[id] = id % 2 ? INFINITY : NAN;
            double lse2 = smc_matcher_masked_logsumexp(m, ix, logits, NULL, &err);
            if (lse2 != lse && lse_bad++ < 5)
                fprintf(stderr, "%s: logsumexp depends on forbidden logits: %.12g vs %.12g\n", name, lse2, lse);
            if (memcmp(mask, mask2, words * sizeof *mask) != 0 && lse_bad++ < 5)
                fprintf(stderr, "%s: logsumexp mask differs from token_mask\n", name);
            if (direct == -INFINITY)
                break;
            /* sample from the masked softmax; EOS ends the trajectory */
            double u = uniform() * sum, acc = 0;
            int32_t pick = -1;
            for (int32_t id = 0; id < v->n; id++) {
                if (!test_mask_bit(mask, id))
                    continue;
                pick = id;
                acc += exp(logits[id] - mx);
                if (acc >= u)
                    break;
            }
            if (pick == v->eos) {
                CHECK_EQ_INT(smc_matcher_advance_token(m, ix, pick), 0);
                CHECK(smc_matcher_is_finished(m));
                eos_seen++;
                break;
            }
            CHECK_EQ_INT(smc_matcher_advance_token(m, ix, pick), 0);
            if (len + v->lens[pick] > text_cap)
                break;
            memcpy(text + len, v->bytes[pick], v->lens[pick]);
            len += v->lens[pick];
        }
        smc_matcher_free(m);
    }
    CHECK_MSG(mismatches == 0, "%s: %d mask mismatches", name, mismatches);
    CHECK_MSG(lse_bad == 0, "%s: %d log-sum-exp mismatches", name, lse_bad);
    CHECK_MSG(total_steps >= trajectories, "%s: only %d steps", name, total_steps);
    fprintf(stderr, "%s: %d steps checked, %d trajectories ended by EOS\n", name, total_steps, eos_seen);
    free(mask);
    free(mask2);
    free(logits);
    free(w);
    free(text);
    free(buf);
}

/* A synthetic vocabulary: every string of 1..2 symbols from an alphabet that
 * exercises JSON and multi-byte UTF-8 (including bytes that split a
 * character), some longer pieces, an empty control token and EOS. */
static void make_synthetic(vocab *v)
{
    static const char *alpha[] = {"{", "}", "[", "]", "\"", ":", ",", " ", "\n", "a", "1", "0", "-", ".", "e",
                                  "\\", "u", "t", "\xc3", "\xa9", "\xc3\xa9", "\xe6\x97\xa5", "\x01", "x"};
    static const char *extra[] = {"true", "false", "null", "\"key\"", "\": ", "\", \"", "{\"", "}]", "1e5",
                                  "\\u00e9", "       ", "\n  ", "\xe6\x97", "\xa5\"", "},{"};
    size_t na = sizeof alpha / sizeof *alpha, ne = sizeof extra / sizeof *extra;
    size_t n = na + na * na + ne + 2;
    v->bytes = calloc(n, sizeof *v->bytes);
    v->lens = calloc(n, sizeof *v->lens);
    int32_t k = 0;
    for (size_t i = 0; i < na; i++)
        v->bytes[k++] = strdup(alpha[i]);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < na; j++) {
            char s[16];
            snprintf(s, sizeof s, "%s%s", alpha[i], alpha[j]);
            v->bytes[k++] = strdup(s);
        }
    for (size_t i = 0; i < ne; i++)
        v->bytes[k++] = strdup(extra[i]);
    vocab_close(v, k);
}

static void test_synthetic(void)
{
    vocab v;
    make_synthetic(&v);
    smc_token_index *ix = NULL;
    smc_error err;
    CHECK_EQ_INT(smc_token_index_from_arrays(v.n, (const char *const *)v.bytes, v.lens, v.eos, &ix, &err), 0);
    CHECK_EQ_INT(smc_token_index_n_tokens(ix), v.n);
    CHECK_EQ_INT(smc_token_index_eos(ix), v.eos);
    bool san = getenv("SMC_TEST_SANITIZED") != NULL;
    smc_grammar *g = NULL;
    CHECK_EQ_INT(smc_grammar_from_gbnf(JSON_GBNF, strlen(JSON_GBNF), NULL, &g, &err), 0);
    if (g)
        {
        check_byte_classes("synthetic/json", g, 64);
        property("synthetic/json", g, ix, &v, san ? 4 : 12, 40, true, 1);
    }
    smc_grammar_free(g);
    const char *re = "(\\{\"a\": ?[0-9]{1,3}\\}|\xc3\xa9+|x*\\\\u[0-9a-f]{4})(, ?(true|null))*";
    CHECK_EQ_INT(smc_grammar_from_regex(re, strlen(re), &g, &err), 0);
    if (g)
        property("synthetic/regex", g, ix, &v, san ? 4 : 12, 30, true, 1);
    smc_grammar_free(g);
    const char *lark = "start: pair (\",\" pair)*\npair: KEY \":\" value\nKEY: ESCAPED_STRING\n"
                       "?value: NUMBER | \"true\" | \"null\" | \"[\" [value (\",\" value)*] \"]\"\n"
                       "%import common.ESCAPED_STRING\n%import common.NUMBER\n%import common.WS\n%ignore WS\n";
    CHECK_EQ_INT(smc_grammar_from_lark(lark, strlen(lark), NULL, &g, &err), 0);
    if (g)
        property("synthetic/lark", g, ix, &v, san ? 4 : 12, 30, true, 1);
    smc_grammar_free(g);

    /* the same with subtree results shared between contexts at every trie
     * node (abstract walks nested in abstract walks) */
    ix->memo_min_nodes = 1;
    CHECK_EQ_INT(smc_grammar_from_gbnf(JSON_GBNF, strlen(JSON_GBNF), NULL, &g, &err), 0);
    if (g)
        property("synthetic/json/memo-everywhere", g, ix, &v, san ? 4 : 12, 40, true, 1);
    smc_grammar_free(g);
    CHECK_EQ_INT(smc_grammar_from_regex(re, strlen(re), &g, &err), 0);
    if (g)
        property("synthetic/regex/memo-everywhere", g, ix, &v, san ? 4 : 12, 30, true, 1);
    smc_grammar_free(g);
    CHECK_EQ_INT(smc_grammar_from_lark(lark, strlen(lark), NULL, &g, &err), 0);
    if (g)
        property("synthetic/lark/memo-everywhere", g, ix, &v, san ? 4 : 12, 30, true, 1);
    smc_grammar_free(g);
    ix->memo_min_nodes = TOKEN_INDEX_MEMO_MIN_NODES;

    /* the work limit: a fresh grammar (nothing cached) and a tiny limit */
    CHECK_EQ_INT(smc_grammar_from_gbnf(JSON_GBNF, strlen(JSON_GBNF), NULL, &g, &err), 0);
    if (g) {
        smc_matcher *m = smc_matcher_new(g);
        smc_matcher_advance_bytes(m, "{\"", 2);
        smc_matcher_set_limit(m, 5);
        uint32_t *mask = calloc(smc_token_mask_words(ix), sizeof *mask);
        err.msg[0] = 0;
        CHECK_EQ_INT(smc_matcher_token_mask(m, ix, mask, &err), -1);
        CHECK(strstr(err.msg, "work limit") != NULL);
        CHECK(isnan(smc_matcher_masked_logsumexp(m, ix, NULL == mask ? NULL : (float[1]){0}, NULL, &err)) || 1);
        smc_matcher_set_limit(m, 0);
        CHECK_EQ_INT(smc_matcher_token_mask(m, ix, mask, &err), 0);
        /* finished matchers allow nothing */
        smc_matcher *f = smc_matcher_new(g);
        smc_matcher_advance_bytes(f, "{}", 2);
        CHECK(smc_matcher_is_accepting(f));
        CHECK_EQ_INT(smc_matcher_advance_token(f, ix, v.eos), 0);
        CHECK(smc_matcher_is_finished(f));
        CHECK(!smc_matcher_can_continue(f));
        CHECK_EQ_INT(smc_matcher_token_mask(f, ix, mask, &err), 0);
        int any = 0;
        for (size_t i = 0; i < smc_token_mask_words(ix); i++)
            any |= mask[i] != 0;
        CHECK_EQ_INT(any, 0);
        CHECK_EQ_INT(smc_matcher_advance_token(f, ix, 0), -1);
        /* EOS refused when not accepting; matcher unchanged after a rejection */
        CHECK_EQ_INT(smc_matcher_advance_token(m, ix, v.eos), -1);
        CHECK_EQ_INT(smc_matcher_advance_bytes(m, "a\x01", 2), -1);
        CHECK_EQ_INT(smc_matcher_advance_bytes(m, "a\":1}", 5), 0);
        CHECK(smc_matcher_is_accepting(m));
        free(mask);
        smc_matcher_free(m);
        smc_matcher_free(f);
        smc_grammar_free(g);
    }
    smc_token_index_free(ix);
    free_vocab(&v);
}

/* Context sharing: a nested grammar (parentheses, brackets, right-recursive
 * unary minus, left-recursive sums, identifiers) over a vocabulary of every
 * string of 1..3 of its symbols, so that the same abstract states recur
 * under many contexts and tokens cross rule boundaries ("))", "a)+", "-(").
 * The masks of every viable prefix of up to 4 symbols, computed in turn on
 * one grammar (later ones reusing the subtree results of earlier ones), are
 * checked token by token against advancing a clone byte by byte and, for a
 * sample of tokens, against direct Earley steps; reuse must happen. */
static void check_nested(int memo_min_nodes)
{
    static const char NEST[] = "root ::= e\n"
                               "e ::= \"(\" ws e ws \")\" | \"[\" e \"]\" | \"-\" e | id | e ws \"+\" ws e\n"
                               "id ::= [a-b]+\n"
                               "ws ::= \" \"*\n";
    static const char alpha[] = "()[]-ab+ ";
    enum { NA = 9, MAXLEN = 4 };
    vocab v;
    v.n = NA + NA * NA + NA * NA * NA + 1;
    v.bytes = calloc((size_t)v.n, sizeof *v.bytes);
    v.lens = calloc((size_t)v.n, sizeof *v.lens);
    int32_t k = 0;
    for (int len = 1; len <= 3; len++) {
        int total = len == 1 ? NA : len == 2 ? NA * NA : NA * NA * NA;
        for (int x = 0; x < total; x++) {
            char *b = malloc(4);
            for (int d = len - 1, y = x; d >= 0; d--, y /= NA)
                b[d] = alpha[y % NA];
            b[len] = 0;
            v.bytes[k] = b;
            v.lens[k++] = (size_t)len;
        }
    }
    v.eos = k;
    v.bytes[k] = strdup("");
    v.lens[k++] = 0;
    smc_token_index *ix = NULL;
    smc_grammar *g = NULL;
    smc_error err;
    CHECK_EQ_INT(smc_token_index_from_arrays(v.n, (const char *const *)v.bytes, v.lens, v.eos, &ix, &err), 0);
    CHECK_EQ_INT(smc_grammar_from_gbnf(NEST, strlen(NEST), NULL, &g, &err), 0);
    if (!ix || !g)
        goto out;
    ix->memo_min_nodes = (uint32_t)memo_min_nodes;
    bool san = getenv("SMC_TEST_SANITIZED") != NULL;
    size_t words = smc_token_mask_words(ix);
    uint32_t *mask = malloc(words * sizeof *mask);
    int checked = 0, mismatches = 0;
    long total = 0;
    for (int len = 0; len <= MAXLEN; len++) {
        long n = 1;
        for (int d = 0; d < len; d++)
            n *= NA;
        for (long x = 0; x < n; x++, total++) {
            char text[MAXLEN + 1];
            for (long d = len - 1, y = x; d >= 0; d--, y /= NA)
                text[d] = alpha[y % NA];
            if (san && total % 5 != 0)
                continue;
            smc_matcher *m = smc_matcher_new(g);
            if (smc_matcher_advance_bytes(m, text, (size_t)len) != 0) {
                smc_matcher_free(m);
                continue;
            }
            CHECK_EQ_INT(smc_matcher_token_mask(m, ix, mask, &err), 0);
            checked++;
            for (int32_t id = 0; id < v.n; id++) {
                bool ref;
                if (id == v.eos) {
                    ref = smc_matcher_is_accepting(m);
                } else {
                    smc_matcher *c = smc_matcher_clone(m);
                    ref = smc_matcher_advance_bytes(c, v.bytes[id], v.lens[id]) == 0;
                    smc_matcher_free(c);
                    if (id % 11 == x % 11 && direct_accepts(m, v.bytes[id], v.lens[id]) != ref && mismatches++ < 5)
                        fprintf(stderr, "nested: \"%.*s\" + \"%s\": direct steps disagree\n", len, text, v.bytes[id]);
                }
                if (test_mask_bit(mask, id) != ref && mismatches++ < 5)
                    fprintf(stderr, "nested (memo from %d nodes): after \"%.*s\" token \"%s\": mask %d, reference %d\n",
                            memo_min_nodes, len, text, v.bytes[id], test_mask_bit(mask, id), ref);
            }
            smc_matcher_free(m);
        }
    }
    CHECK_MSG(mismatches == 0, "nested: %d mask mismatches", mismatches);
    CHECK_MSG(checked >= (san ? 30 : 150), "nested: only %d prefixes", checked);
    earley_lock(g);
    uint64_t hits = earley_memo_hits(g);
    earley_unlock(g);
    CHECK_MSG(hits >= 10, "nested: subtree results reused only %llu times", (unsigned long long)hits);
    fprintf(stderr, "nested (memo from %d nodes): %d prefixes checked, %llu reuses\n", memo_min_nodes, checked,
            (unsigned long long)hits);
    free(mask);
out:
    smc_grammar_free(g);
    smc_token_index_free(ix);
    free_vocab(&v);
}

static void test_nested(void)
{
    check_nested(TOKEN_INDEX_MEMO_MIN_NODES);
    check_nested(1);
    check_nested(8);
}

/* Threads sharing one grammar (its cache is locked): each walks its own
 * random trajectory; every mask must equal the one a fresh single-threaded
 * grammar gives for the same text. */
typedef struct thread_arg {
    const smc_grammar *g;
    const smc_token_index *ix;
    const vocab *v;
    uint64_t seed;
    int bad, steps;
    char text[512];
    size_t len;
    uint32_t masks[24][32];
    size_t lens[24];
} thread_arg;

static void *thread_walk(void *p)
{
    thread_arg *a = p;
    smc_matcher *m = smc_matcher_new(a->g);
    uint64_t r = a->seed;
    size_t words = smc_token_mask_words(a->ix);
    for (int s = 0; s < 24 && words <= 32; s++) {
        smc_error err;
        if (smc_matcher_token_mask(m, a->ix, a->masks[s], &err) != 0) {
            a->bad++;
            break;
        }
        a->lens[s] = a->len;
        a->steps = s + 1;
        /* a random allowed non-EOS token */
        int32_t pick = -1, seen = 0;
        for (int32_t id = 0; id < a->v->n; id++) {
            if (id == a->v->eos || !test_mask_bit(a->masks[s], id))
                continue;
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            if (r % (uint64_t)(++seen) == 0)
                pick = id;
        }
        if (pick < 0 || a->len + a->v->lens[pick] >= sizeof a->text)
            break;
        smc_matcher *c = smc_matcher_clone(m);   /* advance a clone, drop the original */
        if (smc_matcher_advance_token(c, a->ix, pick) != 0)
            a->bad++;
        smc_matcher_free(m);
        m = c;
        memcpy(a->text + a->len, a->v->bytes[pick], a->v->lens[pick]);
        a->len += a->v->lens[pick];
    }
    smc_matcher_free(m);
    return NULL;
}

static void test_threads(void)
{
    vocab v;
    make_synthetic(&v);
    smc_token_index *ix = NULL;
    smc_error err;
    smc_grammar *g = NULL, *g1 = NULL;
    CHECK_EQ_INT(smc_token_index_from_arrays(v.n, (const char *const *)v.bytes, v.lens, v.eos, &ix, &err), 0);
    CHECK_EQ_INT(smc_grammar_from_gbnf(JSON_GBNF, strlen(JSON_GBNF), NULL, &g, &err), 0);
    CHECK_EQ_INT(smc_grammar_from_gbnf(JSON_GBNF, strlen(JSON_GBNF), NULL, &g1, &err), 0);
    if (!ix || !g || !g1 || smc_token_mask_words(ix) > 32)
        goto out;
    enum { NT = 4 };
    static thread_arg args[NT];
    pthread_t th[NT];
    for (int t = 0; t < NT; t++) {
        memset(&args[t], 0, sizeof args[t]);
        args[t] = (thread_arg){.g = g, .ix = ix, .v = &v, .seed = 1234567u + 7919u * (uint64_t)t};
        pthread_create(&th[t], NULL, thread_walk, &args[t]);
    }
    for (int t = 0; t < NT; t++)
        pthread_join(th[t], NULL);
    int mismatch = 0, total = 0;
    for (int t = 0; t < NT; t++) {
        CHECK_EQ_INT(args[t].bad, 0);
        for (int s = 0; s < args[t].steps; s++) {
            smc_matcher *m = smc_matcher_new(g1);
            uint32_t mask[32];
            CHECK_EQ_INT(smc_matcher_advance_bytes(m, args[t].text, args[t].lens[s]), 0);
            CHECK_EQ_INT(smc_matcher_token_mask(m, ix, mask, &err), 0);
            mismatch += memcmp(mask, args[t].masks[s], smc_token_mask_words(ix) * sizeof *mask) != 0;
            total++;
            smc_matcher_free(m);
        }
    }
    CHECK_EQ_INT(mismatch, 0);
    CHECK(total >= NT * 5);
out:
    smc_grammar_free(g);
    smc_grammar_free(g1);
    smc_token_index_free(ix);
    free_vocab(&v);
}

static void test_gpt2(void)
{
    vocab v;
    smc_vocab *voc = NULL;
    smc_error err = {{0}};
    if (!load_gpt2(&v, &voc, "the GPT-2 property test"))
        return;
    CHECK(v.n == 50257);
    smc_token_index *ix = NULL;
    CHECK_EQ_INT(smc_token_index_from_vocab(voc, &ix, &err), 0);
    bool san = getenv("SMC_TEST_SANITIZED") != NULL;
    const char *files[] = {"grammars/json.gbnf", "grammars/c.gbnf", "grammars/japanese.gbnf"};
    for (size_t k = 0; k < 3 && ix; k++) {
        smc_grammar *g = NULL;
        smc_error e;
        CHECK_EQ_INT(smc_grammar_from_file(test_shared_path(files[k]), &g, &e), 0);
        if (g) {
            check_byte_classes(files[k], g, 255);
            property(files[k], g, ix, &v, san ? 1 : 3, san ? 6 : 15, false, san ? 97 : 13);
        }
        smc_grammar_free(g);
    }
    /* subtree results shared between contexts at many more nodes */
    const char *memo_files[] = {"grammars/json.gbnf", "grammars/c.gbnf"};
    for (size_t k = 0; k < 2 && ix; k++) {
        smc_grammar *g = NULL;
        smc_error e;
        ix->memo_min_nodes = 256;
        CHECK_EQ_INT(smc_grammar_from_file(test_shared_path(memo_files[k]), &g, &e), 0);
        if (g)
            property(memo_files[k], g, ix, &v, san ? 1 : 2, san ? 5 : 12, false, san ? 97 : 13);
        smc_grammar_free(g);
        ix->memo_min_nodes = TOKEN_INDEX_MEMO_MIN_NODES;
    }
    smc_token_index_free(ix);
    free_vocab(&v);
    smc_vocab_free(voc);
}

void run_tests(void)
{
    test_synthetic();
    test_nested();
    test_threads();
    test_gpt2();
}
