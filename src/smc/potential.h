/* potential.h — the smc_potential struct, shared inside the SMC module. */
#ifndef SMC_SMC_POTENTIAL_H
#define SMC_SMC_POTENTIAL_H

#include "smcgen.h"

struct smc_potential {
    const smc_potential_vtable *vt;
    void *self;
    char *name;
    int32_t n_vocab;
    int32_t eos;
};

/* State helpers tolerant of a NULL state_new/clone/free (stateless). */
int smc_pot_state_new(smc_potential *p, void **st, smc_error *err);
int smc_pot_state_clone(smc_potential *p, const void *st, void **out, smc_error *err);
void smc_pot_state_free(smc_potential *p, void *st);
int smc_pot_advance(smc_potential *p, void *st, const char *text, size_t len, size_t n_new,
                    smc_error *err);
/* Fills out[n_vocab] with log weights: from logw_next, or 0/-inf from
 * token_mask (bits is scratch of (n_vocab+31)/32 words). */
int smc_pot_logw_next(smc_potential *p, void *st, const char *text, size_t len, double *out,
                      uint32_t *bits, smc_error *err);
bool smc_pot_is_boundary(smc_potential *p, const char *text, size_t len, size_t n_new);
/* out[i] = the complete or prefix score of reqs[i]: one score_batch call
 * when p has one, else one call per request. 0, or -1 with err. */
int smc_pot_score_batch(smc_potential *p, int n, const smc_score_request *reqs, double *out,
                        smc_error *err);

/* smc_potential_lazy, with inner borrowed (own_inner false: the caller
 * frees it after the result) or owned. */
int smc_potential_lazy_ex(smc_potential *inner, bool own_inner, const smc_lm *lm, const char *trigger, size_t len,
                          bool is_regex, bool required, smc_potential **out, smc_error *err);

#endif
