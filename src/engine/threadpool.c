/* threadpool.c — the engine's pthread pool: workers spin briefly on a run
 * counter, then sleep on a condition variable; the caller runs ith 0 and
 * waits for the others the same way. Dynamic runs let the caller close the
 * run once its own share is done: a worker "enters" a run (counter) before
 * touching the job and skips runs already closed, so the caller waits only
 * for workers that actually started. A caller that still waits after a
 * short spin and a short while of yielding sleeps until the last worker
 * leaves: the usual cause of a long wait is a worker preempted by another
 * process, and a sleeping caller frees its core for it (or for that
 * process) instead of burning its own share of CPU time. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "engine/threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_ITERS 4000 /* ~0.1-0.5 ms of _mm_pause */
/* The caller of a dynamic run spins this long for workers still busy with
 * their last claim (work-stealing claims are a few µs of work), then yields
 * for up to WAIT_YIELD_S seconds (a worker briefly interrupted), then
 * sleeps (a worker preempted for a time slice, milliseconds). */
#define WAIT_SPIN_ITERS 1000
#define WAIT_YIELD_S 200e-6

struct smc_threadpool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_start, cv_done;
    atomic_uint generation; /* bumped once per run */
    atomic_int pending;     /* workers still running the current job */
    atomic_int sleepers;    /* workers blocked (or about to block) on cv_start */
    atomic_bool stop;
    atomic_uint closed;     /* generation of the last closed dynamic run */
    atomic_int entered;     /* workers inside (or entering) the current run */
    atomic_bool caller_sleeps; /* a dynamic run's caller waits on cv_done */
    void (*fn)(void *, int, int);
    void *arg;
    bool dynamic;
};

typedef struct {
    smc_threadpool *p;
    int ith;
} worker_arg;

static worker_arg *worker_args_of(smc_threadpool *p)
{
    return (worker_arg *)(p->threads + p->n);
}

/* A worker is done with a run; wakes the caller if it sleeps waiting for
 * the last one (seq_cst: either this sees caller_sleeps set or the caller
 * sees entered == 0 before sleeping). */
static void leave_run(smc_threadpool *p)
{
    if (atomic_fetch_sub(&p->entered, 1) == 1 && atomic_load(&p->caller_sleeps)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->cv_done);
        pthread_mutex_unlock(&p->mu);
    }
}

static void *worker_main(void *varg)
{
    worker_arg *wa = varg;
    smc_threadpool *p = wa->p;
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load(&p->generation);
        for (int i = 0; g == seen && i < SPIN_ITERS; i++) {
            CPU_RELAX();
            g = atomic_load(&p->generation);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->generation)) == seen)
                pthread_cond_wait(&p->cv_start, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        seen = g;
        if (atomic_load(&p->stop))
            return NULL;
        atomic_fetch_add(&p->entered, 1);
        if (atomic_load(&p->generation) != g || atomic_load(&p->closed) == g) {
            leave_run(p); /* a dynamic run that is over */
            continue;
        }
        bool dynamic = p->dynamic;
        p->fn(p->arg, wa->ith, p->n);
        leave_run(p);
        if (!dynamic && atomic_fetch_sub(&p->pending, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int smc_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Starts a run; returns its generation. */
static unsigned wake_workers(smc_threadpool *p)
{
    unsigned g = atomic_fetch_add(&p->generation, 1) + 1;
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv_start);
        pthread_mutex_unlock(&p->mu);
    }
    return g;
}

smc_threadpool *smc_threadpool_new(int n_threads)
{
    if (n_threads <= 0)
        n_threads = smc_cpu_count();
    if (n_threads > 1024)
        n_threads = 1024;
    smc_threadpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n_threads;
    p->threads = calloc((size_t)n_threads, sizeof(pthread_t) + sizeof(worker_arg));
    if (!p->threads) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_start, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    worker_arg *wa = worker_args_of(p);
    for (int i = 1; i < n_threads; i++) {
        wa[i].p = p;
        wa[i].ith = i;
        if (pthread_create(&p->threads[i], NULL, worker_main, &wa[i]) != 0) {
            p->n = i; /* run with the threads we have */
            break;
        }
    }
    return p;
}

void smc_threadpool_run(smc_threadpool *p, void (*fn)(void *arg, int ith, int nth), void *arg)
{
    if (!p || p->n <= 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->dynamic = false;
    atomic_store(&p->pending, p->n - 1);
    wake_workers(p);
    fn(arg, 0, p->n);
    for (int i = 0; i < SPIN_ITERS && atomic_load(&p->pending) > 0; i++)
        CPU_RELAX();
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending) > 0)
            pthread_cond_wait(&p->cv_done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void smc_threadpool_run_dynamic(smc_threadpool *p, void (*fn)(void *arg, int ith, int nth), void *arg)
{
    if (!p || p->n <= 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->dynamic = true;
    unsigned g = wake_workers(p);
    fn(arg, 0, p->n);
    atomic_store(&p->closed, g);
    /* workers that entered finish their current piece of work */
    for (int i = 0; i < WAIT_SPIN_ITERS && atomic_load(&p->entered) > 0; i++)
        CPU_RELAX();
    if (atomic_load(&p->entered) > 0) {
        double t0 = now_s();
        while (atomic_load(&p->entered) > 0 && now_s() - t0 < WAIT_YIELD_S)
            sched_yield();
    }
    if (atomic_load(&p->entered) > 0) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_sleeps, true);
        while (atomic_load(&p->entered) > 0)
            pthread_cond_wait(&p->cv_done, &p->mu);
        atomic_store(&p->caller_sleeps, false);
        pthread_mutex_unlock(&p->mu);
    }
}

int smc_threadpool_size(const smc_threadpool *p)
{
    return p ? p->n : 1;
}

void smc_threadpool_free(smc_threadpool *p)
{
    if (!p)
        return;
    if (p->n > 1) {
        atomic_store(&p->stop, true);
        wake_workers(p);
        for (int i = 1; i < p->n; i++)
            pthread_join(p->threads[i], NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_start);
    pthread_cond_destroy(&p->cv_done);
    free(p->threads);
    free(p);
}

void smc_split_range(int64_t n, int ith, int nth, int64_t *begin, int64_t *end)
{
    smc_split_range_aligned(n, 1, ith, nth, begin, end);
}

void smc_split_range_aligned(int64_t n, int64_t align, int ith, int nth, int64_t *begin, int64_t *end)
{
    if (align < 1)
        align = 1;
    if (nth < 1)
        nth = 1;
    int64_t units = (n + align - 1) / align;
    int64_t b = units * ith / nth, e = units * (ith + 1) / nth;
    b *= align;
    e *= align;
    *begin = b < n ? b : n;
    *end = e < n ? e : n;
}
