/* particles.h — one particle's state during a run, and the result builder. */
#ifndef SMC_SMC_PARTICLES_H
#define SMC_SMC_PARTICLES_H

#include "smc/potential.h"

typedef struct smc_particle {
    void *lm_state;
    void *cheap_st, *critic_st;
    char *text;
    size_t len, cap;
    int32_t *toks;             /* generated tokens, EOS included */
    int32_t n_toks, cap_toks;
    double logw;
    double twist;              /* the critic prefix value currently inside logw */
    /* Lookahead (masked proposal): fq[fq_head..n_fq) are the tokens the
     * constraint forces at the next steps; mask (when mask_ok) is the mask
     * of the step after them. */
    int32_t *fq;
    int32_t fq_head, n_fq, cap_fq;
    uint32_t *mask;
    int32_t mask_words;
    bool mask_ok;
    bool done, forced;
} smc_particle;

/* Appends a token and its bytes. 0 ok, -1 out of memory. */
int smc_particle_push(smc_particle *p, int32_t tok, const char *bytes, size_t n);
/* Copies the text, tokens and weights of src (not the LM/potential states). */
int smc_particle_copy_data(smc_particle *dst, const smc_particle *src);
void smc_particle_free_data(smc_particle *p);

/* Fills r->particles, the posterior, log_z, ess and all_dead from the final
 * particles. */
int smc_result_fill(smc_result *r, const smc_particle *ps, int n, smc_error *err);

#endif
