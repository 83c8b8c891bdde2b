/* test_batcher.c — continuous batching across requests: two requests
 * sampled at once through the batcher give exactly the particles they give
 * alone, their steps share engine batches, every LM state is released, a
 * prompt shared (or extended) by running requests is computed once, with
 * the same results, and each request learns how many prompt tokens it reused
 * (also from the inner LM's own prompt cache); and smc_config.on_step sees
 * the particles and can stop a run cleanly. */
#include "test.h"

#include <pthread.h>

#include "server/batcher.h"
#include "smc/toy.h"

static smc_toy_lm *toy;
static smc_toy_dfa *dfa;

static const int32_t prompt_ab[2] = {3, 7};

typedef struct req {
    const smc_lm *lm;
    batcher *b;
    uint64_t seed;
    smc_result *res;
    int rc;
    smc_error err;
} req;

static int run_prompt(const smc_lm *lm, const int32_t *prompt, size_t n, uint64_t seed, smc_result **out,
                      smc_error *err)
{
    smc_potential *cheap = NULL;
    if (smc_toy_dfa_potential(dfa, lm, true, &cheap, err))
        return -1;
    smc_config c;
    smc_config_default(&c);
    c.method = SMC_METHOD_SMC;
    c.n_particles = 12;
    c.max_tokens = 10;
    c.seed = seed;
    int rc = smc_run(lm, prompt, n, cheap, NULL, &c, out, err);
    smc_potential_free(cheap);
    return rc;
}

static int run_one(const smc_lm *lm, uint64_t seed, smc_result **out, smc_error *err)
{
    return run_prompt(lm, prompt_ab, 2, seed, out, err);
}

static void *thread_main(void *arg)
{
    req *r = arg;
    r->rc = run_one(r->lm, r->seed, &r->res, &r->err);
    batcher_leave(r->b);
    return NULL;
}

static bool same_particles(const smc_result *a, const smc_result *b)
{
    if (!a || !b || a->n_particles != b->n_particles || a->n_steps != b->n_steps)
        return false;
    for (int i = 0; i < a->n_particles; i++)
        if (a->particles[i].len != b->particles[i].len ||
            memcmp(a->particles[i].text, b->particles[i].text, a->particles[i].len) ||
            a->particles[i].log_weight != b->particles[i].log_weight)
            return false;
    return a->log_z == b->log_z;
}

static void test_two_requests_share_batches(void)
{
    const smc_lm *inner = smc_toy_lm_iface(toy);
    smc_error err = {{0}};
    smc_result *alone[2] = {NULL, NULL};
    CHECK(run_one(inner, 11, &alone[0], &err) == 0);
    CHECK(run_one(inner, 22, &alone[1], &err) == 0);
    batcher *b = NULL;
    /* A long gather window: a step waits for both requests, so batches are
     * shared whatever the timing (the window only bounds a stall). */
    CHECK(batcher_new(inner, NULL, 60000, &b, &err) == 0);
    req r[2] = {{batcher_lm(b), b, 11, NULL, 0, {{0}}}, {batcher_lm(b), b, 22, NULL, 0, {{0}}}};
    pthread_t t[2];
    batcher_enter(b);
    batcher_enter(b);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, thread_main, &r[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        CHECK_MSG(r[i].rc == 0, "%s", r[i].err.msg);
        CHECK_MSG(same_particles(alone[i], r[i].res), "request %d differs when batched", i);
    }
    batcher_stats st;
    batcher_get_stats(b, &st);
    int steps = alone[0]->n_steps + alone[1]->n_steps;
    int shortest = alone[0]->n_steps < alone[1]->n_steps ? alone[0]->n_steps : alone[1]->n_steps;
    CHECK_MSG(st.multi_request_batches >= (uint64_t)shortest, "%llu shared batches, %d steps",
              (unsigned long long)st.multi_request_batches, shortest);
    CHECK_EQ_INT(st.batches, (uint64_t)(steps - st.multi_request_batches));
    CHECK_EQ_INT(st.max_requests, 2);
    CHECK_EQ_INT(st.prompt_hits, 1);   /* the same prompt, computed once */
    CHECK_EQ_INT(st.running, 0);
    CHECK_EQ_INT(smc_toy_lm_live_states(toy), 0);
    for (int i = 0; i < 2; i++) {
        smc_result_free(alone[i]);
        smc_result_free(r[i].res);
    }
    batcher_free(b);
}

/* An inner LM with its own prompt cache (as the engine LM's across
 * requests): what its counter says it reused during a root counts as the
 * request's reused prompt tokens, and its evaluated tokens reach the stats.
 * Here a stand-in: the toy LM whose root "reuses" all but the last token. */
static int (*toy_root)(void *self, const int32_t *prompt, size_t n, void **state, smc_error *err);
static int64_t fake_reused;
static int reusing_root(void *self, const int32_t *prompt, size_t n, void **state, smc_error *err)
{
    fake_reused += n > 0 ? (int64_t)n - 1 : 0;
    return toy_root(self, prompt, n, state, err);
}
static void fake_counts(const smc_lm *lm, int64_t *decoded, int64_t *reused)
{
    (void)lm;
    if (decoded)
        *decoded = 42;
    if (reused)
        *reused = fake_reused;
}

static void test_inner_cache_counts(void)
{
    smc_lm inner = *smc_toy_lm_iface(toy);
    toy_root = inner.root;
    inner.root = reusing_root;
    smc_error err = {{0}};
    batcher *b = NULL;
    CHECK(batcher_new(&inner, NULL, 1, &b, &err) == 0);
    batcher_set_counter(b, fake_counts);
    static const int32_t p3[3] = {3, 7, 3};
    smc_result *r = NULL;
    batcher_enter(b);
    CHECK(run_prompt(batcher_lm(b), p3, 3, 5, &r, &err) == 0);
    CHECK_EQ_INT(batcher_thread_prompt_reused(), 2);
    batcher_leave(b);
    batcher_stats st;
    batcher_get_stats(b, &st);
    CHECK_EQ_INT(st.prompt_hits, 1);
    CHECK_EQ_INT(st.prompt_tokens_saved, 2);
    CHECK_EQ_INT(st.tokens_evaluated, 42);
    smc_result_free(r);
    batcher_free(b);
    CHECK_EQ_INT(smc_toy_lm_live_states(toy), 0);
}

/* A decode that fails (as for a KV budget held by cached prompts) is tried
 * again once the relief has freed the caches; the result is unchanged. */
static int (*toy_next)(void *self, void *const *states, size_t n, float *logits, smc_error *err);
static bool relieved;
static int short_of_kv(void *self, void *const *states, size_t n, float *logits, smc_error *err)
{
    if (!relieved) {
        snprintf(err->msg, sizeof err->msg, "KV cache budget exceeded (simulated)");
        return -1;
    }
    return toy_next(self, states, n, logits, err);
}
static void relieve(void *ud) { *(bool *)ud = true; }

static void test_relief(void)
{
    smc_error err = {{0}};
    smc_result *alone = NULL, *r = NULL;
    CHECK(run_one(smc_toy_lm_iface(toy), 9, &alone, &err) == 0);
    smc_lm inner = *smc_toy_lm_iface(toy);
    toy_next = inner.next_logits;
    inner.next_logits = short_of_kv;
    batcher *b = NULL;
    CHECK(batcher_new(&inner, NULL, 1, &b, &err) == 0);
    relieved = false;
    batcher_enter(b);
    CHECK(run_one(batcher_lm(b), 9, &r, &err) != 0); /* no relief: the request fails */
    batcher_leave(b);
    batcher_set_relief(b, relieve, &relieved);
    batcher_enter(b);
    CHECK_MSG(run_one(batcher_lm(b), 9, &r, &err) == 0, "%s", err.msg);
    batcher_leave(b);
    batcher_stats st;
    batcher_get_stats(b, &st);
    CHECK(relieved);
    CHECK_EQ_INT(st.reliefs, 1);   /* the first decode, tried again */
    CHECK_MSG(same_particles(alone, r), "a relieved decode changes the result");
    smc_result_free(alone);
    smc_result_free(r);
    batcher_free(b);
    CHECK_EQ_INT(smc_toy_lm_live_states(toy), 0);
}

/* A prompt that extends a running request's prompt forks its state. */
static void test_prompt_extension(void)
{
    const smc_lm *inner = smc_toy_lm_iface(toy);
    smc_error err = {{0}};
    static const int32_t p1[1] = {3};
    smc_result *alone = NULL, *shared = NULL, *first = NULL;
    CHECK(run_prompt(inner, prompt_ab, 2, 5, &alone, &err) == 0);
    batcher *b = NULL;
    /* A short gather window: the holder below never asks for logits. */
    CHECK(batcher_new(inner, NULL, 1, &b, &err) == 0);
    batcher_enter(b); /* another request keeps running: the cache lives */
    batcher_enter(b);
    CHECK(run_prompt(batcher_lm(b), p1, 1, 4, &first, &err) == 0);
    CHECK_EQ_INT(batcher_thread_prompt_reused(), 0);
    batcher_leave(b);
    batcher_enter(b);
    CHECK(run_prompt(batcher_lm(b), prompt_ab, 2, 5, &shared, &err) == 0);
    CHECK_EQ_INT(batcher_thread_prompt_reused(), 1); /* this thread's run reused the cached token */
    batcher_leave(b);
    batcher_stats st;
    batcher_get_stats(b, &st);
    CHECK_EQ_INT(st.prompt_hits, 1);
    CHECK_EQ_INT(st.prompt_tokens_saved, 1);
    CHECK_MSG(same_particles(alone, shared), "an extended cached prompt changes the result");
    CHECK(smc_toy_lm_live_states(toy) > 0); /* the cache holds the prompts */
    batcher_leave(b);
    CHECK_EQ_INT(smc_toy_lm_live_states(toy), 0); /* idle: the cache is empty */
    smc_result_free(alone);
    smc_result_free(shared);
    smc_result_free(first);
    batcher_free(b);
}

static int stop_at;
static int steps_seen;
static int on_step(void *ud, int n, const char *const *texts, const size_t *lens, const double *logw)
{
    (void)ud;
    steps_seen++;
    for (int i = 0; i < n; i++)
        if (logw[i] > -INFINITY && lens[i] > 0 && !texts[i][0])
            return -1; /* texts must be real */
    return steps_seen >= stop_at;
}

static void test_on_step_stops(void)
{
    const smc_lm *lm = smc_toy_lm_iface(toy);
    smc_potential *cheap = NULL;
    smc_error err = {{0}};
    CHECK(smc_toy_dfa_potential(dfa, lm, true, &cheap, &err) == 0);
    smc_config c;
    smc_config_default(&c);
    c.method = SMC_METHOD_SMC;
    c.n_particles = 8;
    c.max_tokens = 10;
    c.seed = 3;
    c.on_step = on_step;
    smc_result *r = NULL;
    /* Never stopping: called once per step, the result unchanged. */
    stop_at = 1000;
    steps_seen = 0;
    CHECK(smc_run(lm, NULL, 0, cheap, NULL, &c, &r, &err) == 0);
    CHECK(r && steps_seen == r->n_steps);
    smc_result_free(r);
    r = NULL;
    stop_at = 2;
    steps_seen = 0;
    CHECK(smc_run(lm, NULL, 0, cheap, NULL, &c, &r, &err) == -1);
    CHECK(r == NULL);
    CHECK_STR(err.msg, "the run was stopped");
    CHECK_EQ_INT(steps_seen, 2);
    CHECK_EQ_INT(smc_toy_lm_live_states(toy), 0);
    smc_potential_free(cheap);
}

void run_tests(void)
{
    toy = smc_toy_random_new(60, 5, 1.5, -2.0);
    dfa = smc_toy_dfa_default();
    test_two_requests_share_batches();
    test_prompt_extension();
    test_inner_cache_counts();
    test_relief();
    test_on_step_stops();
    smc_toy_dfa_free(dfa);
    smc_toy_lm_free(toy);
}
