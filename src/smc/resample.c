/* resample.c — multinomial, stratified, systematic and residual resampling,
 * ESS and log-mean-exp of a weight vector. */
#include "smcgen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "smc/logmath.h"
#include "smc/prng.h"

static const char *const scheme_names[] = {"multinomial", "stratified", "systematic", "residual"};

const char *smc_resample_name(smc_resample_scheme s)
{
    if ((int)s < 0 || (int)s > SMC_RESAMPLE_RESIDUAL)
        return "?";
    return scheme_names[s];
}

int smc_resample_parse(const char *name, smc_resample_scheme *out)
{
    for (int i = 0; name && i <= SMC_RESAMPLE_RESIDUAL; i++)
        if (strcmp(name, scheme_names[i]) == 0) {
            *out = (smc_resample_scheme)i;
            return 0;
        }
    return -1;
}

double smc_log_mean_exp(const double *logw, int n)
{
    if (n <= 0)
        return -INFINITY;
    double l = smc_logsumexp_d(logw, (size_t)n);
    return l == -INFINITY ? l : l - log((double)n);
}

double smc_ess(const double *logw, int n)
{
    double l = smc_logsumexp_d(logw, (size_t)n);
    if (n <= 0 || !isfinite(l))
        return 0;
    double s2 = 0;
    for (int i = 0; i < n; i++) {
        double w = exp(logw[i] - l);
        s2 += w * w;
    }
    return s2 > 0 ? 1.0 / s2 : 0;
}

/* Maps sorted positions u[0..m) in [0,1) onto the CDF of w (never picking a
 * zero weight). */
static void walk_cdf(const double *w, int n, const double *u, int m, int *anc)
{
    int last = n - 1;
    while (last > 0 && w[last] <= 0)
        last--;
    int i = 0;
    double c = w[0];
    for (int j = 0; j < m; j++) {
        while ((u[j] >= c || w[i] <= 0) && i < last) {
            i++;
            c += w[i];
        }
        anc[j] = i;
    }
}

/* m sorted uniforms in O(m): normalised cumulative exponential spacings. */
static void sorted_uniforms(smc_rng *rng, double *u, int m)
{
    double s = 0;
    for (int j = 0; j < m; j++) {
        s += -log(smc_prng_uniform_pos(rng));
        u[j] = s;
    }
    s += -log(smc_prng_uniform_pos(rng));
    for (int j = 0; j < m; j++)
        u[j] /= s;
}

int smc_resample(smc_resample_scheme s, const double *logw, int n, int m, smc_rng *rng,
                 int *ancestors)
{
    if (n <= 0 || m <= 0 || !logw || !rng || !ancestors)
        return -1;
    double l = smc_logsumexp_d(logw, (size_t)n);
    if (!isfinite(l))
        return -1;
    double *w = malloc(sizeof *w * (size_t)n);
    double *u = malloc(sizeof *u * (size_t)m);
    if (!w || !u) {
        free(w);
        free(u);
        return -1;
    }
    double tot = 0;
    for (int i = 0; i < n; i++)
        tot += (w[i] = exp(logw[i] - l));
    for (int i = 0; i < n; i++)
        w[i] /= tot;

    int rc = 0;
    switch (s) {
    case SMC_RESAMPLE_MULTINOMIAL:
        sorted_uniforms(rng, u, m);
        walk_cdf(w, n, u, m, ancestors);
        break;
    case SMC_RESAMPLE_STRATIFIED:
        for (int j = 0; j < m; j++)
            u[j] = ((double)j + smc_prng_uniform(rng)) / m;
        walk_cdf(w, n, u, m, ancestors);
        break;
    case SMC_RESAMPLE_SYSTEMATIC: {
        double u0 = smc_prng_uniform(rng);
        for (int j = 0; j < m; j++)
            u[j] = ((double)j + u0) / m;
        walk_cdf(w, n, u, m, ancestors);
        break;
    }
    case SMC_RESAMPLE_RESIDUAL: {
        /* floor(m w_i) copies each, the remaining R by multinomial on the
         * residuals m w_i - floor(m w_i); then merged in index order. */
        int *cnt = calloc((size_t)n, sizeof *cnt);
        if (!cnt) {
            rc = -1;
            break;
        }
        int k = 0;
        double rtot = 0;
        for (int i = 0; i < n; i++) {
            double mw = m * w[i];
            cnt[i] = (int)floor(mw);
            if (k + cnt[i] > m)
                cnt[i] = m - k;
            k += cnt[i];
            w[i] = mw - floor(mw);
            rtot += w[i];
        }
        int r = m - k;
        if (r > 0) {
            if (rtot <= 0) {
                for (int i = 0; i < n; i++)
                    w[i] = exp(logw[i] - l);
                rtot = 1;
            }
            for (int i = 0; i < n; i++)
                w[i] /= rtot;
            sorted_uniforms(rng, u, r);
            walk_cdf(w, n, u, r, ancestors);
            for (int j = 0; j < r; j++)
                cnt[ancestors[j]]++;
        }
        int j = 0;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < cnt[i]; c++)
                ancestors[j++] = i;
        free(cnt);
        break;
    }
    default:
        rc = -1;
    }
    free(w);
    free(u);
    return rc;
}
