/* worksteal.h — work-stealing claims of a range of rows [0, n) by the nth
 * threads of a pool run. Each thread starts with its own contiguous share
 * and claims it from the front a grain at a time (so its reads stay one
 * sequential stream); a thread whose share is done takes the back half of
 * the largest-looking share still open (or its last grain), which becomes its
 * own share, stealable in turn. A thread that is slow or preempted therefore
 * holds up the run by at most the grain it is working on, and a worker that
 * never wakes loses its whole share to the others. Claims never cross the
 * given boundaries (e.g. the first rows of each of several matrices). */
#ifndef SMC_ENGINE_WORKSTEAL_H
#define SMC_ENGINE_WORKSTEAL_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SMC_STEAL_SLOTS 16      /* threads past this many only steal */
#define SMC_STEAL_MAX_BOUNDS 8  /* boundaries inside [0, n) */

typedef struct smc_steal_slot {
    alignas(64) atomic_ullong range; /* front << 32 | back: rows [front, back) */
} smc_steal_slot;

typedef struct smc_steal {
    int n_slots;
    int64_t n, grain;
    int n_bounds;
    int64_t bounds[SMC_STEAL_MAX_BOUNDS]; /* sorted, in (0, n) */
    atomic_int stealing;                  /* steals between their two steps */
    smc_steal_slot slots[SMC_STEAL_SLOTS];
} smc_steal;

/* Splits [0, n) (n < 2^31) into nth shares, borders on multiples of
 * `align`; claims are `grain` rows (a multiple of align, >= 1) or less at a
 * share's or boundary's end. bounds: n_bounds (<= SMC_STEAL_MAX_BOUNDS)
 * increasing row numbers claims must not cross (NULL when none). Returns
 * false when n is out of range (the caller then runs the rows itself). */
bool smc_steal_init(smc_steal *s, int64_t n, int nth, int64_t grain, int64_t align, const int64_t *bounds,
                    int n_bounds);
/* Next rows [*begin, *end) for thread ith; false when no row is left
 * unclaimed. Every row of [0, n) is claimed exactly once over all calls. */
bool smc_steal_claim(smc_steal *s, int ith, int64_t *begin, int64_t *end);

#endif
