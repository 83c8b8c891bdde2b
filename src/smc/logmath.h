/* logmath.h — log-space helpers and a monotonic clock for the SMC module. */
#ifndef SMC_SMC_LOGMATH_H
#define SMC_SMC_LOGMATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* log Σ exp(x[i]); -inf when every x[i] is -inf (or n == 0). */
double smc_logsumexp_d(const double *x, size_t n);
double smc_logsumexp_f(const float *x, size_t n);
/* out[i] = x[i]/temp - log Σ exp(x/temp): a log-softmax in double. */
void smc_log_softmax(const float *x, size_t n, double temp, double *out);
/* Moves the probability mass of tokens ids[0..n) (distinct, none equal to
 * into) onto token `into` of one row of logits: row[into] becomes their
 * logsumexp with it, and theirs -inf. */
void smc_fold_logits(float *row, int32_t into, const int32_t *ids, size_t n);
/* Seconds on a monotonic clock (or of the process's CPU time, after
 * smc_clock_use_cpu(true): benchmarks on a shared machine, where wall
 * time is mostly other processes' preemption). */
double smc_now(void);
void smc_clock_use_cpu(bool on);

#endif
