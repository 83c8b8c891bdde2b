/* logmath.c — log-sum-exp, log-softmax and timing. */
#include "smc/logmath.h"

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

double smc_logsumexp_d(const double *x, size_t n)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (x[i] > m)
            m = x[i];
    if (m == -INFINITY || isnan(m))
        return m;
    if (m == INFINITY)
        return INFINITY;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += exp(x[i] - m);
    return m + log(s);
}

double smc_logsumexp_f(const float *x, size_t n)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (x[i] > m)
            m = x[i];
    if (m == -INFINITY || isnan(m) || m == INFINITY)
        return m;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += exp((double)x[i] - m);
    return m + log(s);
}

void smc_log_softmax(const float *x, size_t n, double temp, double *out)
{
    double inv = 1.0 / temp;
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        out[i] = (double)x[i] * inv;
        if (out[i] > m)
            m = out[i];
    }
    if (m == -INFINITY) {
        for (size_t i = 0; i < n; i++)
            out[i] = -INFINITY;
        return;
    }
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += exp(out[i] - m);
    double lz = m + log(s);
    for (size_t i = 0; i < n; i++)
        out[i] -= lz;
}

static _Atomic bool clock_cpu;

void smc_clock_use_cpu(bool on) { clock_cpu = on; }

double smc_now(void)
{
    struct timespec ts;
    clock_gettime(clock_cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void smc_fold_logits(float *row, int32_t into, const int32_t *ids, size_t n)
{
    double m = row[into];
    for (size_t k = 0; k < n; k++)
        if (row[ids[k]] > m)
            m = row[ids[k]];
    if (m == -INFINITY)
        return;
    double sum = exp(row[into] - m);
    for (size_t k = 0; k < n; k++) {
        sum += exp(row[ids[k]] - m);
        row[ids[k]] = -INFINITY;
    }
    row[into] = (float)(m + log(sum));
}
