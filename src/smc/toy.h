/* toy.h — small, exactly enumerable models for testing and benchmarking the
 * sampler without a real engine or grammar: a bigram LM over single-byte
 * tokens, a random LM over a large multi-byte vocabulary, a table DFA as a
 * Boolean constraint, and a byte-level critic with boundaries. */
#ifndef SMC_SMC_TOY_H
#define SMC_SMC_TOY_H

#include "smcgen.h"

typedef struct smc_toy_lm smc_toy_lm;

/* Bigram over n_sym single-byte tokens 'a'+i (ids 0..n_sym-1) and EOS (id
 * n_sym). logits has (n_sym+1) rows of (n_sym+1) columns: row 0 is the first
 * step, row 1+i follows token i. Copied. NULL on bad input / no memory. */
smc_toy_lm *smc_toy_bigram_new(int n_sym, const double *logits);
/* A random LM over n_vocab tokens (the last is EOS); the others are strings
 * of 1-3 bytes from 'a'..'f' (several ids may share bytes). The logit of v
 * after u is a hash of (seed, u, v) scaled by `scale`, plus eos_bias for EOS. */
smc_toy_lm *smc_toy_random_new(int32_t n_vocab, uint64_t seed, double scale, double eos_bias);
void smc_toy_lm_free(smc_toy_lm *t);
const smc_lm *smc_toy_lm_iface(smc_toy_lm *t);
/* States alive now (root/fork/extend minus release): 0 after a clean run. */
int64_t smc_toy_lm_live_states(const smc_toy_lm *t);
/* Batched next_logits calls made so far. */
int64_t smc_toy_lm_batches(const smc_toy_lm *t);

/* A DFA over bytes: next[s*256+b] is the next state or -1. State 0 starts. */
typedef struct smc_toy_dfa {
    int n_states;
    int *next;
    bool *accepting;
} smc_toy_dfa;
/* The test DFA over 'a'..'f': no symbol twice in a row, 'a' must be followed
 * by 'b', 'e' never by 'f'; accepts non-empty strings not ending in 'a'. */
smc_toy_dfa *smc_toy_dfa_default(void);
void smc_toy_dfa_free(smc_toy_dfa *d);
/* Final state after text, or -1 when rejected. */
int smc_toy_dfa_run(const smc_toy_dfa *d, const char *text, size_t len);
/* Boolean-constraint vtable for a DFA (self = the smc_toy_dfa, not owned). */
extern const smc_bool_vtable smc_toy_dfa_vtable;
/* The same, with a fast token mask: precomputed per DFA state for lm. */
int smc_toy_dfa_potential(smc_toy_dfa *d, const smc_lm *lm, bool fast_mask, smc_potential **out,
                          smc_error *err);

/* The test critic: prefix = -inf with two or more 'e', else -0.4 per 'f' and
 * +0.5 once "bc" occurs; complete = prefix + 0.7 when ending in 'd', else
 * -0.2. Boundaries: after a token ending in 'c' or 'd'. */
double smc_toy_critic_prefix_score(const char *text, size_t len);
double smc_toy_critic_complete_score(const char *text, size_t len);
/* counter (may be NULL) counts prefix() evaluations. */
smc_potential *smc_toy_critic_new(int64_t *counter);

#endif
