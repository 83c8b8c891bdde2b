/* rope.c — rotary position embeddings (see rope.h). Angles follow ggml's
 * float evaluation: theta_i = pos * scale^i built by repeated float
 * multiplication, divided by the llama3 factor, times the linear scale, so
 * large angles round as they do in llama.cpp. */
#include "engine/rope.h"

#include <math.h>

void smc_rope_table(const smc_model *m, int32_t pos, float *cs)
{
    int half = m->n_rot / 2;
    float theta = (float)pos;
    for (int i = 0; i < half; i++) {
        float th = m->rope_pos_scale * (m->rope_factors ? theta / m->rope_factors[i] : theta);
        cs[2 * i] = cosf(th);
        cs[2 * i + 1] = sinf(th);
        theta *= m->rope_theta_scale;
    }
}

void smc_rope_apply(const smc_model *m, float *x, int n_heads, const float *cs)
{
    int half = m->n_rot / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * m->head_dim;
        for (int i = 0; i < half; i++) {
            float co = cs[2 * i], si = cs[2 * i + 1];
            int a = m->rope_neox ? i : 2 * i, b = m->rope_neox ? i + half : 2 * i + 1;
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * co - x1 * si;
            v[b] = x0 * si + x1 * co;
        }
    }
}
