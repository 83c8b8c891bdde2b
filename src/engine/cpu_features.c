/* cpu_features.c — run-time detection of AVX2+FMA+F16C and the global
 * "force scalar" switch used by tests. */
#include <stdatomic.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "engine/kernels.h"

static atomic_int force_scalar;

bool smc_cpu_has_avx2_fma(void)
{
#if defined(__x86_64__) || defined(__i386__)
    static atomic_int cached = -1;
    int v = atomic_load(&cached);
    if (v < 0) {
        /* F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports
         * does not know the name. */
        unsigned a, b, c, d;
        bool f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
        atomic_store(&cached, v);
    }
    return v != 0;
#else
    return false;
#endif
}

void smc_kernels_force_scalar(bool on)
{
    atomic_store(&force_scalar, on ? 1 : 0);
}

const char *smc_kernels_isa(void)
{
    return (!atomic_load(&force_scalar) && smc_cpu_has_avx2_fma()) ? "avx2+fma" : "scalar";
}
