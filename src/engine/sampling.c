/* sampling.c — a seeded xoshiro256** generator and temperature / top-k /
 * top-p (nucleus) sampling from a row of logits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "smcgen.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void smc_rng_seed(smc_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t smc_rng_next(smc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double smc_rng_uniform(smc_rng *r) { return (double)(smc_rng_next(r) >> 11) * 0x1.0p-53; }

int32_t smc_argmax(const float *logits, int32_t n)
{
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (logits[i] > logits[best])
            best = i;
    return best;
}

typedef struct cand {
    float logit;
    int32_t id;
} cand;

/* Order: higher logit first, then lower id. */
static int cand_before(const cand *x, const cand *y)
{
    return x->logit != y->logit ? x->logit > y->logit : x->id < y->id;
}

static int cand_desc(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return cand_before(x, y) ? -1 : cand_before(y, x) ? 1 : 0;
}

/* Sifts h[i] down a heap whose root is the candidate that comes last. */
static void sift_down(cand *h, int32_t k, int32_t i)
{
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < k && cand_before(&h[w], &h[l]))
            w = l;
        if (r < k && cand_before(&h[w], &h[r]))
            w = r;
        if (w == i)
            return;
        cand t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* The k best candidates, sorted best first, in c[0..k). */
static void top_candidates(const float *logits, int32_t n, int32_t k, cand *c)
{
    for (int32_t i = 0; i < k; i++)
        c[i] = (cand){logits[i], i};
    for (int32_t i = k / 2 - 1; i >= 0; i--)
        sift_down(c, k, i);
    for (int32_t i = k; i < n; i++) {
        cand x = {logits[i], i};
        if (cand_before(&x, &c[0])) {
            c[0] = x;
            sift_down(c, k, 0);
        }
    }
    qsort(c, (size_t)k, sizeof *c, cand_desc);
}

int32_t smc_sample(const float *logits, int32_t n, float temp, int32_t top_k, float top_p, smc_rng *rng)
{
    if (n <= 0)
        return -1;
    if (!(temp > 0))
        return smc_argmax(logits, n);
    int32_t keep = (top_k > 0 && top_k < n) ? top_k : n;
    if (keep == n && !(top_p < 1.0f)) {
        /* Plain softmax sampling: no sorting needed. */
        float mx = logits[smc_argmax(logits, n)];
        double sum = 0;
        for (int32_t i = 0; i < n; i++)
            sum += exp(((double)logits[i] - mx) / temp);
        double u = smc_rng_uniform(rng) * sum, acc = 0;
        for (int32_t i = 0; i < n; i++) {
            acc += exp(((double)logits[i] - mx) / temp);
            if (u < acc)
                return i;
        }
        return smc_argmax(logits, n);
    }
    cand *c = malloc((size_t)keep * sizeof *c);
    double *p = malloc((size_t)keep * sizeof *p);
    if (!c || !p) {
        free(c);
        free(p);
        return smc_argmax(logits, n);
    }
    top_candidates(logits, n, keep, c);
    /* Softmax at temperature over the kept candidates (best first). */
    double sum = 0;
    for (int32_t i = 0; i < keep; i++) {
        p[i] = exp(((double)c[i].logit - c[0].logit) / temp);
        sum += p[i];
    }
    if (top_p < 1.0f) {
        double acc = 0;
        int32_t k = 0;
        while (k < keep) {
            acc += p[k] / sum;
            k++;
            if (acc >= top_p)
                break;
        }
        keep = k;
        sum = 0;
        for (int32_t i = 0; i < keep; i++)
            sum += p[i];
    }
    double u = smc_rng_uniform(rng) * sum, acc = 0;
    int32_t id = c[keep - 1].id;
    for (int32_t i = 0; i < keep; i++) {
        acc += p[i];
        if (u < acc) {
            id = c[i].id;
            break;
        }
    }
    free(p);
    free(c);
    return id;
}
