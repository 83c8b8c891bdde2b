/* test_smc_prompt_cache.c — prompt reuse across runs
 * (smc_engine_lm_set_prompt_cache), checked by counts of evaluated tokens,
 * not timings: a run repeated with the same prompt evaluates none of it and
 * gives the same result; a prompt sharing a prefix evaluates only the rest,
 * and its logits equal a fresh evaluation; a prompt that is a prefix of a
 * cached one evaluates its last token only; turning the cache off frees
 * every KV block. Needs ../shared (small model). */
#include "test.h"

#include <math.h>
#include <stdlib.h>

#include "smcgen.h"
#include "engine_fixture.h"

static int32_t *tokens(const smc_vocab *v, const char *text, size_t *n)
{
    smc_error err = {{0}};
    int32_t *ids = NULL;
    CHECK_EQ_INT(smc_tokenize(v, text, strlen(text), true, false, &ids, n, &err), 0);
    return ids;
}

static smc_result *run(smc_lm *lm, smc_potential *cheap, const int32_t *p, size_t n)
{
    smc_error err = {{0}};
    smc_config c;
    smc_config_default(&c);
    c.method = SMC_METHOD_SMC;
    c.n_particles = 4;
    c.max_tokens = 8;
    c.seed = 7;
    c.lookahead = 0; /* counts below: only prompts and sampled tokens */
    smc_result *r = NULL;
    if (smc_run(lm, p, n, cheap, NULL, &c, &r, &err) != 0)
        CHECK_MSG(0, "smc_run: %s", err.msg);
    return r;
}

/* Tokens evaluated since the last call. */
static int64_t decoded_since(const smc_lm *lm, int64_t *last)
{
    int64_t d = 0;
    smc_engine_lm_counts(lm, &d, NULL);
    int64_t delta = d - *last;
    *last = d;
    return delta;
}

void run_tests(void)
{
    REQUIRE_SHARED();
    smc_error err = {{0}};
    engine_fixture f;
    if (engine_fixture_open(&f) != 0)
        return;
    const smc_vocab *vocab = f.vocab;
    smc_ctx *ctx = f.ctx, *ref = f.ref;
    smc_lm *lm = f.lm;
    CHECK_EQ_INT(smc_engine_lm_set_prompt_cache(lm, 65, &err), -1);
    CHECK_EQ_INT(smc_engine_lm_set_prompt_cache(lm, 2, &err), 0);
    const char *re = " (SELECT|WITH) [a-z]+;";
    smc_grammar *g = NULL;
    smc_token_index *ix = NULL;
    smc_potential *cheap = NULL;
    CHECK_EQ_INT(smc_grammar_from_regex(re, strlen(re), &g, &err), 0);
    CHECK_EQ_INT(smc_token_index_from_vocab(vocab, &ix, &err), 0);
    if (g && ix)
        CHECK_EQ_INT(smc_potential_from_grammar(g, ix, lm, "sql", &cheap, &err), 0);
    size_t na = 0, nb = 0;
    int32_t *a = tokens(vocab, "-- Database: concert_singer\nCREATE TABLE singer (id, name, age);\n-- Question: How many singers are there?\n", &na);
    int32_t *b = tokens(vocab, "-- Database: concert_singer\nCREATE TABLE singer (id, name, age);\n-- Question: What is the oldest age?\n", &nb);
    size_t common = 0;
    while (common < na && common < nb && a[common] == b[common])
        common++;
    CHECK(common > 4 && common < na && common < nb);
    int64_t last = 0, reused = 0;

    /* The first run evaluates the prompt; the same run again does not, and
     * gives the same particles. */
    smc_result *r1 = run(lm, cheap, a, na);
    int64_t d1 = decoded_since(lm, &last);
    smc_result *r2 = run(lm, cheap, a, na);
    int64_t d2 = decoded_since(lm, &last);
    smc_engine_lm_counts(lm, NULL, &reused);
    printf("  same prompt (%zu tokens): %lld then %lld tokens evaluated, %lld reused\n", na,
           (long long)d1, (long long)d2, (long long)reused);
    CHECK_EQ_INT((int)(d1 - d2), (int)na);
    CHECK_EQ_INT((int)reused, (int)na);
    if (r1 && r2) {
        CHECK_EQ_INT((int)r1->n_tokens, (int)r2->n_tokens);
        CHECK(fabs(r1->log_z - r2->log_z) < 1e-9 || (r1->all_dead && r2->all_dead));
        for (int i = 0; i < r1->n_particles; i++)
            CHECK(r1->particles[i].len == r2->particles[i].len &&
                  memcmp(r1->particles[i].text, r2->particles[i].text, r1->particles[i].len) == 0);
    }

    /* A prompt sharing a prefix: only the rest is evaluated, and its logits
     * are those of a fresh sequence. */
    void *root = NULL;
    int32_t nv = lm->n_vocab;
    float *got = malloc(sizeof *got * (size_t)nv);
    CHECK_EQ_INT(lm->root(lm->self, b, nb, &root, &err), 0);
    void *one[1] = {root};
    CHECK_EQ_INT(lm->next_logits(lm->self, one, 1, got, &err), 0);
    int64_t db = decoded_since(lm, &last);
    smc_engine_lm_counts(lm, NULL, &reused);
    printf("  shared prefix: %zu of %zu prompt tokens evaluated (%zu in common)\n", (size_t)db, nb,
           common);
    CHECK_EQ_INT((int)db, (int)(nb - common));
    CHECK_EQ_INT((int)reused, (int)(na + common));
    int32_t seq = smc_seq_new(ref, &err);
    smc_batch_entry *e = malloc(sizeof *e * nb);
    for (size_t i = 0; i < nb; i++)
        e[i] = (smc_batch_entry){seq, b[i], i + 1 == nb};
    smc_batch batch = {e, (int32_t)nb};
    CHECK_EQ_INT(smc_decode(ref, &batch, &err), 0);
    const float *want = smc_logits(ref, 0);
    double diff = 0;
    for (int32_t v = 0; want && v < nv; v++)
        diff = fmax(diff, fabs((double)want[v] - got[v]));
    CHECK_MSG(diff < 1e-3, "logits after a reused prefix differ by %g", diff);
    lm->release(lm->self, root);

    /* A prefix of a cached prompt: its last token is evaluated again. */
    CHECK_EQ_INT(lm->root(lm->self, a, common, &root, &err), 0);
    one[0] = root;
    CHECK_EQ_INT(lm->next_logits(lm->self, one, 1, got, &err), 0);
    CHECK_EQ_INT((int)decoded_since(lm, &last), 1);
    lm->release(lm->self, root);

    CHECK(smc_ctx_kv_used_bytes(ctx) > 0); /* the cache holds its prompts */
    CHECK_EQ_INT(smc_engine_lm_set_prompt_cache(lm, 0, &err), 0);
    CHECK_EQ_INT(smc_ctx_kv_used_bytes(ctx), 0);

    free(e);
    free(got);
    free(a);
    free(b);
    smc_result_free(r1);
    smc_result_free(r2);
    smc_potential_free(cheap);
    smc_token_index_free(ix);
    smc_grammar_free(g);
    engine_fixture_close(&f);
}
