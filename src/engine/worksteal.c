/* worksteal.c — work-stealing row claims (see worksteal.h): per-thread
 * shares packed as (front, back) in one 64-bit atomic, claimed from the
 * front by their owner and halved from the back by thieves, all with CAS. */
#include "engine/worksteal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define PACK(f, b) (((unsigned long long)(f) << 32) | (unsigned long long)(b))
#define FRONT(v) ((int64_t)((v) >> 32))
#define BACK(v) ((int64_t)((v)&0xffffffffULL))

bool smc_steal_init(smc_steal *s, int64_t n, int nth, int64_t grain, int64_t align, const int64_t *bounds,
                    int n_bounds)
{
    if (n < 0 || n >= ((int64_t)1 << 31) || n_bounds < 0 || n_bounds > SMC_STEAL_MAX_BOUNDS)
        return false;
    if (nth < 1)
        nth = 1;
    if (align < 1)
        align = 1;
    if (grain < align)
        grain = align;
    s->n = n;
    s->grain = grain / align * align;
    s->n_slots = nth < SMC_STEAL_SLOTS ? nth : SMC_STEAL_SLOTS;
    s->n_bounds = 0;
    for (int i = 0; i < n_bounds; i++)
        if (bounds[i] > 0 && bounds[i] < n && (s->n_bounds == 0 || bounds[i] > s->bounds[s->n_bounds - 1]))
            s->bounds[s->n_bounds++] = bounds[i];
    atomic_init(&s->stealing, 0);
    int64_t units = (n + align - 1) / align;
    for (int i = 0; i < s->n_slots; i++) {
        int64_t f = units * i / s->n_slots * align, b = units * (i + 1) / s->n_slots * align;
        atomic_init(&s->slots[i].range, PACK(f < n ? f : n, b < n ? b : n));
    }
    return true;
}

/* First boundary after row r (n when none). */
static int64_t bound_after(const smc_steal *s, int64_t r)
{
    for (int i = 0; i < s->n_bounds; i++)
        if (s->bounds[i] > r)
            return s->bounds[i];
    return s->n;
}

/* Last boundary at or before row r (0 when none). */
static int64_t bound_upto(const smc_steal *s, int64_t r)
{
    int64_t b = 0;
    for (int i = 0; i < s->n_bounds && s->bounds[i] <= r; i++)
        b = s->bounds[i];
    return b;
}

/* A grain from the front of slot k. */
static bool claim_front(smc_steal *s, int k, int64_t *begin, int64_t *end)
{
    atomic_ullong *r = &s->slots[k].range;
    unsigned long long v = atomic_load(r);
    for (;;) {
        int64_t f = FRONT(v), b = BACK(v);
        if (f >= b)
            return false;
        int64_t e = f + s->grain < b ? f + s->grain : b, lim = bound_after(s, f);
        if (e > lim)
            e = lim;
        if (atomic_compare_exchange_weak(r, &v, PACK(e, b))) {
            *begin = f;
            *end = e;
            return true;
        }
    }
}

/* Takes work from slot k's back: its last grain when little is left, into
 * [*begin, *end) (true); else the back half, which becomes slot `own`'s
 * share (false: the caller claims from it). own < 0 (no slot of its own):
 * always a grain. False too when slot k is empty. */
static bool steal_from(smc_steal *s, int k, int own, int64_t *begin, int64_t *end)
{
    atomic_ullong *r = &s->slots[k].range;
    unsigned long long v = atomic_load(r);
    for (;;) {
        int64_t f = FRONT(v), b = BACK(v);
        if (f >= b)
            return false;
        if (own < 0 || b - f <= 2 * s->grain) {
            int64_t st = b - s->grain > f ? b - s->grain : f, lim = bound_upto(s, b - 1);
            if (st < lim)
                st = lim;
            if (atomic_compare_exchange_weak(r, &v, PACK(f, st))) {
                *begin = st;
                *end = b;
                return true;
            }
            continue;
        }
        int64_t mid = f + (b - f) / 2 / s->grain * s->grain;
        /* between the CAS and the store the stolen rows are in no slot:
         * `stealing` tells the others not to give up meanwhile */
        atomic_fetch_add(&s->stealing, 1);
        bool ok = atomic_compare_exchange_weak(r, &v, PACK(f, mid));
        if (ok)
            atomic_store(&s->slots[own].range, PACK(mid, b));
        atomic_fetch_sub(&s->stealing, 1);
        if (ok)
            return false;
    }
}

bool smc_steal_claim(smc_steal *s, int ith, int64_t *begin, int64_t *end)
{
    int own = ith < s->n_slots ? ith : -1;
    for (;;) {
        if (own >= 0 && claim_front(s, own, begin, end))
            return true;
        /* the other share with the most rows left */
        int best = -1;
        int64_t most = 0;
        for (int i = 0; i < s->n_slots; i++) {
            unsigned long long v = atomic_load(&s->slots[i].range);
            if (i != own && BACK(v) - FRONT(v) > most) {
                most = BACK(v) - FRONT(v);
                best = i;
            }
        }
        if (best >= 0) {
            if (steal_from(s, best, own, begin, end))
                return true;
            continue;
        }
        if (atomic_load(&s->stealing) == 0)
            return false;
        CPU_RELAX(); /* a steal is moving rows into its thief's share */
    }
}
