/* cpu_features.c — run-time detection of AVX2+FMA+F16C and AVX-512, the
 * global "force scalar" / "force AVX2" switches used by tests and benches
 * ($SMC_NO_AVX512 does the latter too), and the version and CPU-feature line
 * `smcgen --version` prints. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "engine/kernels.h"
#include "engine/matmul_avx2.h"   /* the VNNI kernels' own check */

static atomic_int force_scalar, force_avx2;

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

bool smc_cpu_has_avx512(void)
{
#if defined(__x86_64__)
    static atomic_int cached = -1;
    int v = atomic_load(&cached);
    if (v < 0) {
        __builtin_cpu_init();
        v = smc_cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
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

void smc_kernels_force_avx2(bool on)
{
    atomic_store(&force_avx2, on ? 1 : 0);
}

bool smc_kernels_use_avx512(void)
{
    static atomic_int env = -1;
    int e = atomic_load(&env);
    if (e < 0) {
        const char *s = getenv("SMC_NO_AVX512");
        e = s && *s && strcmp(s, "0") != 0;
        atomic_store(&env, e);
    }
    return !e && !atomic_load(&force_avx2) && !atomic_load(&force_scalar) && smc_cpu_has_avx512();
}

const char *smc_kernels_isa(void)
{
    if (atomic_load(&force_scalar) || !smc_cpu_has_avx2_fma())
        return "scalar";
    return smc_kernels_use_avx512() ? "avx2+fma+avx512" : "avx2+fma";
}

const char *smc_cpu_features(void)
{
    static char line[256];
#if defined(__x86_64__)
    bool avx2 = smc_cpu_has_avx2_fma(), vnni = smc_mm_kernel_vnni_q(SMC_TYPE_Q8_0) != NULL;
    snprintf(line, sizeof line,
             "kernels built: scalar, avx2+fma+f16c, avx512 (f32/f16/bf16 batches), avx512-vnni (q8_0, q4_0)%s; "
             "this CPU: avx2+fma+f16c %s, avx512 %s, avx512-vnni %s; in use: %s%s",
#if defined(__AVX2__)
             ", compiled for AVX2 (-march)",
#else
             "",
#endif
             avx2 ? "yes" : "no", smc_cpu_has_avx512() ? "yes" : "no", vnni ? "yes" : "no", smc_kernels_isa(),
             vnni && avx2 && !getenv("SMC_NO_VNNI") && smc_kernels_use_avx512() ? " + avx512-vnni" : "");
#else
    snprintf(line, sizeof line, "kernels built: scalar (no SIMD kernels for this architecture)");
#endif
    return line;
}

const char *smc_version(void)
{
    return SMC_VERSION;
}
