/* logmath.h — log-space helpers and a monotonic clock for the SMC module. */
#ifndef SMC_SMC_LOGMATH_H
#define SMC_SMC_LOGMATH_H

#include <stddef.h>

/* log Σ exp(x[i]); -inf when every x[i] is -inf (or n == 0). */
double smc_logsumexp_d(const double *x, size_t n);
double smc_logsumexp_f(const float *x, size_t n);
/* out[i] = x[i]/temp - log Σ exp(x/temp): a log-softmax in double. */
void smc_log_softmax(const float *x, size_t n, double temp, double *out);
/* Seconds on a monotonic clock. */
double smc_now(void);

#endif
