/* test_worksteal.c — work-stealing row claims: over many shapes, thread
 * counts and boundaries, every row is claimed exactly once, no claim
 * crosses a boundary or exceeds the grain, an owner's claims run front to
 * back; a thread that stalls (or never starts) has its share taken over.
 * The stall is a gate, not a sleep: the stalled thread holds its first
 * claim until the others have run out of claims, however the threads are
 * scheduled, so the verdict does not depend on the machine's load. */
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>

#include "engine/worksteal.h"
#include "test.h"

enum { MAX_ROWS = 5000 };

typedef struct {
    smc_steal *s;
    int ith, stall, skip;
    atomic_int *others_done;      /* set once thread 0 has no more claims */
    atomic_int *hits;             /* per row */
    const int64_t *bounds;
    int n_bounds;
    int bad, claims;
} claimer;

static void *claim_all(void *arg)
{
    claimer *c = arg;
    if (c->skip)
        return NULL;
    int64_t b, e;
    while (smc_steal_claim(c->s, c->ith, &b, &e)) {
        c->claims++;
        if (b < 0 || e > c->s->n || b >= e || e - b > c->s->grain)
            c->bad++;
        for (int k = 0; k < c->n_bounds; k++)
            if (b < c->bounds[k] && e > c->bounds[k])
                c->bad++;
        for (int64_t r = b; r < e && r >= 0 && r < MAX_ROWS; r++)
            atomic_fetch_add(&c->hits[r], 1);
        if (c->stall && c->claims == 1) /* preempted holding a claim, until the others are done */
            while (!atomic_load(c->others_done))
                sched_yield();
    }
    return NULL;
}

/* nth threads claim rows of [0, n); thread `stall` (not 0) waits after its
 * first claim until thread 0 has no more claims, thread `skip` never claims.
 * Returns the number of errors. */
static int run_case(int64_t n, int nth, int64_t grain, const int64_t *bounds, int n_bounds, int stall, int skip,
                    int *claims_of_stalled)
{
    static atomic_int hits[MAX_ROWS];
    atomic_int others_done;
    atomic_init(&others_done, 0);
    for (int i = 0; i < MAX_ROWS; i++)
        atomic_init(&hits[i], 0);
    smc_steal s;
    if (!smc_steal_init(&s, n, nth, grain, 4, bounds, n_bounds))
        return 1;
    claimer cl[8];
    pthread_t tid[8];
    for (int t = 0; t < nth; t++)
        cl[t] = (claimer){&s, t, t == stall && t != 0, t == skip, &others_done, hits, bounds, n_bounds, 0, 0};
    int started = 0;
    for (int t = 1; t < nth; t++, started++)
        if (pthread_create(&tid[t], NULL, claim_all, &cl[t]) != 0)
            break;
    claim_all(&cl[0]);
    atomic_store(&others_done, 1);
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    for (int t = started + 1; t < nth; t++)
        claim_all(&cl[t]);
    int bad = 0;
    for (int t = 0; t < nth; t++)
        bad += cl[t].bad;
    for (int64_t r = 0; r < n; r++)
        bad += atomic_load(&hits[r]) != 1;
    if (claims_of_stalled && stall >= 0)
        *claims_of_stalled = cl[stall].claims;
    return bad;
}

static void test_exactly_once(void)
{
    bool small = getenv("SMC_TEST_SANITIZED") != NULL;
    int64_t ns[] = {1, 3, 8, 37, 576, 1000, 4999};
    int bad = 0, cases = 0;
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int nth = 1; nth <= 5; nth++)
            for (int64_t grain = 4; grain <= 64; grain *= 4) {
                int64_t bounds[3] = {ns[k] / 3, ns[k] / 3 + 1, ns[k] * 2 / 3};
                for (int nb = 0; nb <= 3; nb += small ? 3 : 1) {
                    bad += run_case(ns[k], nth, grain, bounds, nb, -1, -1, NULL);
                    cases++;
                }
            }
    CHECK_MSG(bad == 0, "%d errors over %d cases", bad, cases);
}

/* One thread alone claims its share front to back, then the others'. */
static void test_single_order(void)
{
    smc_steal s;
    CHECK(smc_steal_init(&s, 100, 2, 8, 4, NULL, 0));
    int64_t b, e, expect = 0;
    int bad = 0;
    while (smc_steal_claim(&s, 0, &b, &e)) {
        if (expect < 48 && (b != expect || e != expect + 8))
            bad++;   /* own share [0, 48) (12 of 25 units of 4): in order, grain by grain */
        expect = e;
        if (b >= 48)
            break;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(b >= 48 && e <= 100);
    CHECK(!smc_steal_init(&s, (int64_t)1 << 40, 2, 8, 4, NULL, 0)); /* too many rows */
}

/* A stalled thread holds only its first claim; one that never starts loses
 * its whole share; rows are still claimed exactly once. */
static void test_stall(void)
{
    int claims = 0;
    CHECK_EQ_INT(run_case(4000, 2, 8, NULL, 0, 1, -1, &claims), 0);
    CHECK_MSG(claims <= 2, "stalled thread made %d claims of 500", claims);
    CHECK_EQ_INT(run_case(4000, 3, 8, NULL, 0, -1, 1, NULL), 0);
    CHECK_EQ_INT(run_case(4000, 2, 8, NULL, 0, -1, 1, NULL), 0);
}

void run_tests(void)
{
    test_exactly_once();
    test_single_order();
    test_stall();
}
