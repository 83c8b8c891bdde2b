/* awrs.c — adaptive weighted rejection sampling (after Lipkin et al., 2025).
 *
 * Model: a with-replacement rejection sampler drawing x ~ p_LM until it has
 * seen r accepted draws; with n draws in all, (r-1)/(n-1) is an unbiased
 * estimate of Z = p(allowed), and the first accepted draw is distributed as
 * the masked distribution, independently of n. We simulate it cheaply: a
 * rejected token is removed from the pool (its later draws would be rejects
 * anyway), and the draws that would have hit removed tokens before each real
 * draw are added as a geometric count. Accepted tokens stay in the pool. */
#include "smc/awrs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "smc/prng.h"
#include "util/error.h"

struct smc_awrs {
    int32_t n_vocab;
    double *cdf;          /* cdf[v] = Σ_{i<=v} p_i */
    int8_t *status;       /* 0 unknown, 1 accepted, -1 rejected */
    int32_t *touched;     /* tokens whose status is set (to reset) */
    int32_t n_touched;
    int32_t *rej;         /* rejected tokens, ascending */
    int32_t n_rej;
};

smc_awrs *smc_awrs_new(int32_t n_vocab)
{
    smc_awrs *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->n_vocab = n_vocab;
    a->cdf = malloc(sizeof *a->cdf * (size_t)n_vocab);
    a->status = calloc((size_t)n_vocab, 1);
    a->touched = malloc(sizeof *a->touched * (size_t)n_vocab);
    a->rej = malloc(sizeof *a->rej * (size_t)n_vocab);
    if (!a->cdf || !a->status || !a->touched || !a->rej) {
        smc_awrs_free(a);
        return NULL;
    }
    return a;
}

void smc_awrs_free(smc_awrs *a)
{
    if (!a)
        return;
    free(a->cdf);
    free(a->status);
    free(a->touched);
    free(a->rej);
    free(a);
}

static double prob(const smc_awrs *a, int32_t v)
{
    return a->cdf[v] - (v ? a->cdf[v - 1] : 0.0);
}

/* A token drawn from p restricted to the non-rejected pool of mass pool. */
static int32_t draw_from_pool(const smc_awrs *a, double pool, smc_rng *rng)
{
    double t = smc_prng_uniform(rng) * pool;
    for (int32_t k = 0; k < a->n_rej; k++) {
        int32_t r = a->rej[k];
        double start = r ? a->cdf[r - 1] : 0.0;
        if (start <= t)
            t += prob(a, r);
        else
            break;
    }
    int32_t lo = 0, hi = a->n_vocab - 1;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (a->cdf[mid] > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void add_rejected(smc_awrs *a, int32_t v)
{
    int32_t k = a->n_rej++;
    while (k > 0 && a->rej[k - 1] > v) {
        a->rej[k] = a->rej[k - 1];
        k--;
    }
    a->rej[k] = v;
}

int smc_awrs_sample(smc_awrs *a, const double *lp, smc_potential *pot, void *st, const char *text,
                    size_t len, int max_accepts, smc_rng *rng, int32_t *tok, double *log_zhat,
                    int64_t *n_checks, smc_error *err)
{
    *tok = -1;
    *log_zhat = -INFINITY;
    if (!pot->vt->token_allowed)
        return smc_fail(err, "AWRS needs a Boolean potential (token_allowed); %s has none",
                        pot->name);
    if (max_accepts < 2)
        max_accepts = 2;
    double c = 0;
    for (int32_t v = 0; v < a->n_vocab; v++) {
        c += exp(lp[v]);
        a->cdf[v] = c;
    }
    double total = c;
    double rejected = 0;
    double draws = 0;
    int accepts = 0, rc = 0;
    int32_t first = -1;
    a->n_rej = 0;
    a->n_touched = 0;
    int64_t guard = 0, guard_max = (int64_t)a->n_vocab + 100000;
    while (accepts < max_accepts) {
        double pool = total - rejected;
        if (!(pool > 1e-300 * total) || a->n_rej == a->n_vocab)
            break; /* everything with mass was rejected */
        if (++guard > guard_max) {
            rc = smc_fail(err, "AWRS did not terminate (probabilities degenerate?)");
            break;
        }
        /* Draws of the with-replacement sampler that hit rejected tokens. */
        double frac = pool / total;
        if (frac < 1) {
            double g = floor(log(smc_prng_uniform_pos(rng)) / log1p(-frac));
            draws += g;
        }
        int32_t v = draw_from_pool(a, pool, rng);
        draws += 1;
        if (a->status[v] == 0) {
            int r = pot->vt->token_allowed(pot->self, st, text, len, v, err);
            (*n_checks)++;
            if (r < 0) {
                rc = -1;
                break;
            }
            a->status[v] = r ? 1 : -1;
            a->touched[a->n_touched++] = v;
            if (!r) {
                add_rejected(a, v);
                rejected += prob(a, v);
            }
        }
        if (a->status[v] == 1) {
            accepts++;
            if (first < 0)
                first = v;
        }
    }
    for (int32_t k = 0; k < a->n_touched; k++)
        a->status[a->touched[k]] = 0;
    if (rc < 0 || accepts == 0)
        return rc;
    if (accepts < max_accepts) {
        /* Unreachable unless pool rounding ended the loop early. */
        return smc_fail(err, "AWRS stopped after %d of %d accepts", accepts, max_accepts);
    }
    *tok = first;
    *log_zhat = log((double)(max_accepts - 1)) - log(draws - 1);
    return 0;
}
