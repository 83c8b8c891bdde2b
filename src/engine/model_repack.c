/* model_repack.c — load-time repacking of a model's Q4_0 matrices into
 * 16-row groups (quant_q4r16.h) when the AVX512-VNNI kernels will run them:
 * in place (same bytes, same memory), so every later reader goes through
 * code that knows the layout (matmul.c, forward.c's exact path,
 * model_save.c). The token embedding (rows read one at a time) and an
 * output tied to it stay plain. */
#include "engine/model.h"

#include "engine/kernels.h"
#include "engine/matmul_avx2.h"
#include "engine/quant_q4r16.h"

/* Whether matmul would run Q4_0 on the VNNI kernel now. */
static bool vnni_runs_q4_0(void)
{
#if defined(__x86_64__)
    smc_mm_kernel k = smc_mm_kernel_vnni_q(SMC_TYPE_Q4_0);
    return k && smc_kernels_isa()[0] == 'a' && smc_mm_kernel_avx2(SMC_TYPE_Q4_0) == k;
#else
    return false;
#endif
}

static int repack(smc_weight *w)
{
    if (w->type != SMC_TYPE_Q4_0 || !w->data)
        return 0;
    int t = smc_r16_repack((uint8_t *)(uintptr_t)w->data, w->row_bytes, w->n_out);
    if (t < 0)
        return -1;
    w->type = t;
    return 0;
}

int smc_model_repack_q4_0(smc_model *m)
{
    if (!vnni_runs_q4_0())
        return 0;
    bool writable = !m->gguf;   /* synthetic weights: malloc'd */
    if (!writable) {
        if (smc_gguf_set_writable(m->gguf, 1) < 0)
            return 0;   /* mapped from the file: stays plain */
    }
    int rc = 0;
    if (m->output.data != m->tok_embd.data)
        rc |= repack(&m->output);
    for (int32_t l = 0; l < m->n_layer; l++) {
        smc_layer *L = &m->layers[l];
        smc_weight *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down};
        for (int i = 0; i < 7; i++)
            rc |= repack(ws[i]);
    }
    if (!writable)
        smc_gguf_set_writable(m->gguf, 0);
    return rc ? -1 : 0;
}
