/* threadpool.h — a small low-latency pthread pool. smc_threadpool_run calls
 * fn(arg, ith, nth) once for every ith in [0, nth) and returns when all are
 * done; the calling thread takes part as ith 0. Workers spin briefly between
 * runs, then sleep on a condition variable. One run at a time per pool, and
 * not reentrant: fn must not call smc_threadpool_run on the same pool. */
#ifndef SMC_ENGINE_THREADPOOL_H
#define SMC_ENGINE_THREADPOOL_H

#include <stdint.h>

typedef struct smc_threadpool smc_threadpool;

/* n_threads <= 0: one thread per online core. Returns NULL on failure. */
smc_threadpool *smc_threadpool_new(int n_threads);
void smc_threadpool_run(smc_threadpool *p, void (*fn)(void *arg, int ith, int nth), void *arg);
/* Dynamic run, for work that fn splits itself (e.g. claiming chunks from an
 * atomic counter): the caller runs fn as ith 0; a worker runs fn (once, with
 * its own ith) only if it wakes before the caller's call returns. Returns when
 * every call that started has returned. Under CPU contention the caller does
 * not wait for workers that are not scheduled. */
void smc_threadpool_run_dynamic(smc_threadpool *p, void (*fn)(void *arg, int ith, int nth), void *arg);
int smc_threadpool_size(const smc_threadpool *p);
void smc_threadpool_free(smc_threadpool *p);

/* Number of online cores (at least 1). */
int smc_cpu_count(void);

/* Chunk ith of nth of [0, n): near-equal contiguous pieces covering [0, n)
 * exactly once. With align > 1 chunk borders fall on multiples of align
 * (except the final end, n). */
void smc_split_range(int64_t n, int ith, int nth, int64_t *begin, int64_t *end);
void smc_split_range_aligned(int64_t n, int64_t align, int ith, int nth, int64_t *begin, int64_t *end);

#endif
