/* awrs.h — adaptive weighted rejection sampling of one token (Boolean
 * constraints): sample from the LM, reject disallowed tokens, estimate the
 * allowed mass without computing the whole mask. */
#ifndef SMC_SMC_AWRS_H
#define SMC_SMC_AWRS_H

#include "smc/potential.h"

typedef struct smc_awrs smc_awrs;

smc_awrs *smc_awrs_new(int32_t n_vocab);
void smc_awrs_free(smc_awrs *a);

/* lp: normalised log-probabilities over n_vocab. Asks pot->token_allowed
 * (fewer calls than a mask) until max_accepts (>= 2) accepted draws of the
 * with-replacement rejection sampler are seen, reconstructing the draws that
 * would have hit already-rejected tokens. *tok is the first accepted token
 * (distributed exactly as the masked distribution) and *log_zhat the log of
 * an unbiased estimate of the allowed mass, (max_accepts-1)/(draws-1);
 * independent of *tok given the context. Nothing allowed: *tok = -1,
 * *log_zhat = -inf. *n_checks counts token_allowed calls. */
int smc_awrs_sample(smc_awrs *a, const double *lp, smc_potential *pot, void *st, const char *text,
                    size_t len, int max_accepts, smc_rng *rng, int32_t *tok, double *log_zhat,
                    int64_t *n_checks, smc_error *err);

#endif
