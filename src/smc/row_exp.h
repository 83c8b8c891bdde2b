/* row_exp.h — one vectorised pass over a row of next-token logits: its
 * log-sum-exp at a temperature and every token's exp(logit·inv − max), which
 * the sampler then sums and draws from over a mask without another exp. */
#ifndef SMC_SMC_ROW_EXP_H
#define SMC_SMC_ROW_EXP_H

#include <stdbool.h>
#include <stddef.h>

/* Over x[0..n) at inverse temperature inv > 0: *m = max x[v]·inv (in
 * double, as (double)x[v]·inv), e[v] = exp(x[v]·inv − *m) (0 where that is
 * below −708, i.e. under 1e-307 of the largest term), *sum = Σ e[v]; returns
 * log Σ exp(x[v]·inv) = *m + log *sum. NaN when some x[v] is NaN; +inf
 * or −inf (e left unset) when the largest logit is +inf or every one −inf.
 * The exp is a degree-13 polynomial after reduction by ln 2, within 2 ulp of
 * libm's; AVX-512F or AVX2+FMA where the CPU has them, the same steps in
 * scalar C elsewhere. */
double smc_row_exp(const float *x, size_t n, double inv, double *e, double *m, double *sum);

/* exp(t) for t <= 0 by the scalar path of smc_row_exp (0 below −708):
 * for tests. */
double smc_row_exp_scalar1(double t);
/* Caps the path taken: 0 the CPU's best, 1 AVX2 at most, 2 scalar (tests:
 * every path must agree with libm). */
void smc_row_exp_force(int level);

#endif
