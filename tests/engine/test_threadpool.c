/* test_threadpool.c — every ith runs exactly once per run over many runs,
 * with pool sizes 1..4 and the default; split_range covers [0, n) exactly. */
#include <stdatomic.h>
#include <unistd.h>

#include "engine/threadpool.h"
#include "test.h"

typedef struct {
    atomic_int count[8];
    atomic_int nth_seen_bad;
    int expect_nth;
    int sleep_us;
} run_state;

static void job(void *arg, int ith, int nth)
{
    run_state *s = arg;
    if (nth != s->expect_nth || ith < 0 || ith >= nth)
        atomic_fetch_add(&s->nth_seen_bad, 1);
    else
        atomic_fetch_add(&s->count[ith], 1);
    if (s->sleep_us)
        usleep((useconds_t)s->sleep_us);
}

static void test_runs(int n_threads, int runs)
{
    smc_threadpool *p = smc_threadpool_new(n_threads);
    CHECK(p != NULL);
    if (!p)
        return;
    int n = smc_threadpool_size(p);
    if (n_threads > 0)
        CHECK_EQ_INT(n, n_threads);
    else
        CHECK_EQ_INT(n, smc_cpu_count());
    int bad = 0;
    for (int r = 0; r < runs; r++) {
        run_state s;
        memset(&s, 0, sizeof s);
        s.expect_nth = n;
        s.sleep_us = (r % 50 == 0) ? 2000 : 0; /* let workers fall asleep sometimes */
        smc_threadpool_run(p, job, &s);
        for (int i = 0; i < n && i < 8; i++)
            bad += atomic_load(&s.count[i]) != 1;
        bad += atomic_load(&s.nth_seen_bad);
        if (r % 200 == 199)
            usleep(3000); /* idle gap: workers go to the condition variable */
    }
    CHECK_MSG(bad == 0, "%d threads: %d bad runs", n, bad);
    smc_threadpool_free(p);
}

/* Dynamic runs: items claimed from a counter are each done exactly once, the
 * caller always takes part as ith 0, workers at most once each. */
typedef struct {
    atomic_int next, done[64], calls[8], bad;
    int n_items, sleep_every;
} dyn_state;

static void dyn_job(void *arg, int ith, int nth)
{
    dyn_state *s = arg;
    if (ith < 0 || ith >= nth || ith >= 8) {
        atomic_fetch_add(&s->bad, 1);
        return;
    }
    atomic_fetch_add(&s->calls[ith], 1);
    for (;;) {
        int i = atomic_fetch_add(&s->next, 1);
        if (i >= s->n_items)
            break;
        atomic_fetch_add(&s->done[i], 1);
        if (s->sleep_every && i % s->sleep_every == 0)
            usleep(200);
    }
}

static void test_dynamic(int n_threads, int runs)
{
    smc_threadpool *p = smc_threadpool_new(n_threads);
    CHECK(p != NULL);
    if (!p)
        return;
    int bad = 0, worker_calls = 0;
    for (int r = 0; r < runs; r++) {
        dyn_state s;
        memset(&s, 0, sizeof s);
        s.n_items = 1 + r % 64;
        s.sleep_every = (r % 7 == 0) ? 5 : 0;
        if (r % 3 == 0)
            smc_threadpool_run(p, job, &(run_state){.expect_nth = smc_threadpool_size(p)}); /* mix run kinds */
        smc_threadpool_run_dynamic(p, dyn_job, &s);
        for (int i = 0; i < 64; i++)
            bad += atomic_load(&s.done[i]) != (i < s.n_items ? 1 : 0);
        bad += atomic_load(&s.calls[0]) != 1;
        for (int i = 1; i < 8; i++) {
            bad += atomic_load(&s.calls[i]) > 1;
            worker_calls += atomic_load(&s.calls[i]);
        }
        bad += atomic_load(&s.bad);
    }
    CHECK_MSG(bad == 0, "dynamic runs with %d threads: %d errors", n_threads, bad);
    printf("dynamic runs, %d threads: workers joined %d of %d runs\n", n_threads, worker_calls, runs);
    smc_threadpool_free(p);
}

static void test_split(void)
{
    int64_t ns[] = {0, 1, 7, 64, 576, 1001};
    int bad = 0;
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int nth = 1; nth <= 5; nth++)
            for (int64_t align = 1; align <= 8; align *= 2) {
                int64_t expect = 0;
                for (int ith = 0; ith < nth; ith++) {
                    int64_t b, e;
                    smc_split_range_aligned(ns[k], align, ith, nth, &b, &e);
                    if (b != expect || e < b || (b % align != 0 && b != ns[k]))
                        bad++;
                    expect = e;
                }
                bad += expect != ns[k];
            }
    CHECK_EQ_INT(bad, 0);
    int64_t b, e;
    smc_split_range(10, 1, 3, &b, &e);
    CHECK(b == 3 && e == 6);
}

void run_tests(void)
{
    int runs = getenv("SMC_TEST_SANITIZED") ? 300 : 2000;
    for (int n = 1; n <= 4; n++)
        test_runs(n, runs);
    test_runs(0, runs);
    for (int n = 1; n <= 3; n++)
        test_dynamic(n, runs / 2);
    test_split();
    run_state s; /* NULL pool: runs inline as ith 0 of 1 */
    memset(&s, 0, sizeof s);
    s.expect_nth = 1;
    smc_threadpool_run(NULL, job, &s);
    CHECK(atomic_load(&s.count[0]) == 1 && atomic_load(&s.nth_seen_bad) == 0);
    smc_threadpool_free(NULL);
}
