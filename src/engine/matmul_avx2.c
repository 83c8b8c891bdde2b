/* matmul_avx2.c — picks the AVX2+FMA matmul kernel of a type (kernels live in
 * matmul_avx2_float.c, matmul_avx2_q.c and matmul_avx2_k.c; Q8_0/Q4_0 use
 * matmul_vnni_q.c on CPUs with AVX512-VNNI unless $SMC_NO_VNNI is set or
 * the AVX-512 kernels are switched off, see smc_kernels_force_avx2). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "engine/kernels.h"
#include "engine/matmul_avx2.h"
#include "engine/quant_blocks.h"

#if defined(__x86_64__)
float smc_fp16_table[65536];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void fill_table(void)
{
    for (uint32_t h = 0; h < 65536; h++)
        smc_fp16_table[h] = smc_fp16_to_f32((smc_fp16)h);
}
#endif

smc_mm_kernel smc_mm_kernel_avx2(int type)
{
#if defined(__x86_64__)
    if (!smc_cpu_has_avx2_fma())
        return NULL;
    pthread_once(&table_once, fill_table);
    static atomic_int no_vnni = -1;   /* $SMC_NO_VNNI, read once (this runs for every matmul) */
    int nv = atomic_load(&no_vnni);
    if (nv < 0) {
        nv = getenv("SMC_NO_VNNI") != NULL;
        atomic_store(&no_vnni, nv);
    }
    smc_mm_kernel k = nv || !smc_kernels_use_avx512() ? NULL : smc_mm_kernel_vnni_q(type);
    if (!k)
        k = smc_mm_kernel_avx2_float(type);
    if (!k)
        k = smc_mm_kernel_avx2_q(type);
    if (!k)
        k = smc_mm_kernel_avx2_k(type);
    return k;
#else
    (void)type;
    return NULL;
#endif
}
