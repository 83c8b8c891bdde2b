/* rope.h — rotary position embeddings: the per-position (cos, sin) table and
 * the rotation of query/key heads, adjacent pairs (llama) or NeoX halves
 * (qwen), with linear and llama3 frequency scaling. */
#ifndef SMC_ENGINE_ROPE_H
#define SMC_ENGINE_ROPE_H

#include "engine/model.h"

/* cs[n_rot/2][2]: cos and sin of the angle of each rotated pair at pos. */
void smc_rope_table(const smc_model *m, int32_t pos, float *cs);
/* Rotates the first n_rot dims of n_heads heads of head_dim floats at x. */
void smc_rope_apply(const smc_model *m, float *x, int n_heads, const float *cs);

#endif
