/* fp16.h — exact IEEE binary16 and bfloat16 <-> float conversions (scalar,
 * inline). fp16 -> f32 handles subnormals, infinities and NaNs; f32 -> fp16
 * and f32 -> bf16 round to nearest even (NaNs stay NaN, made quiet). */
#ifndef SMC_ENGINE_FP16_H
#define SMC_ENGINE_FP16_H

#include <stdint.h>
#include <string.h>

typedef uint16_t smc_fp16;
typedef uint16_t smc_bf16;

static inline float smc_bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t smc_f32_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float smc_fp16_to_f32(smc_fp16 h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24, exact in float */
        float f = (float)man * 0x1p-24f;
        return smc_bits_to_f32(smc_f32_to_bits(f) | sign);
    }
    if (exp == 31)
        return smc_bits_to_f32(sign | 0x7f800000u | (man << 13));
    return smc_bits_to_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

static inline smc_fp16 smc_f32_to_fp16(float f)
{
    uint32_t x = smc_f32_to_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* NaN: keep the top payload bits, force quiet */
        return (smc_fp16)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    if (ax >= 0x477ff000u) /* >= 65520 rounds to infinity */
        return (smc_fp16)(sign | 0x7c00u);
    if (ax < 0x38800000u) {
        /* below 2^-14: subnormal result. Adding 0.5 makes the FPU round at
         * 2^-24 granularity (round to nearest even). */
        float r = smc_bits_to_f32(ax) + 0.5f;
        return (smc_fp16)(sign | (uint16_t)(smc_f32_to_bits(r) - 0x3f000000u));
    }
    uint32_t b = ax - (112u << 23);
    b = (b + 0xfffu + ((b >> 13) & 1u)) >> 13;
    return (smc_fp16)(sign | (uint16_t)b);
}

static inline float smc_bf16_to_f32(smc_bf16 h)
{
    return smc_bits_to_f32((uint32_t)h << 16);
}

static inline smc_bf16 smc_f32_to_bf16(float f)
{
    uint32_t x = smc_f32_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (smc_bf16)((x >> 16) | 0x40u);
    return (smc_bf16)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

#endif
