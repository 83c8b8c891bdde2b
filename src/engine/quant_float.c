/* quant_float.c — rows of F32, F16 and BF16: conversion to and from float. */
#include <string.h>

#include "engine/quant_blocks.h"

void smc_dequant_f32(const void *src, float *dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void smc_dequant_f16(const void *src, float *dst, int64_t n)
{
    const smc_fp16 *h = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = smc_fp16_to_f32(h[i]);
}

void smc_dequant_bf16(const void *src, float *dst, int64_t n)
{
    const smc_bf16 *h = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = smc_bf16_to_f32(h[i]);
}

void smc_quant_f32(const float *src, void *dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void smc_quant_f16(const float *src, void *dst, int64_t n)
{
    smc_fp16 *h = dst;
    for (int64_t i = 0; i < n; i++)
        h[i] = smc_f32_to_fp16(src[i]);
}

void smc_quant_bf16(const float *src, void *dst, int64_t n)
{
    smc_bf16 *h = dst;
    for (int64_t i = 0; i < n; i++)
        h[i] = smc_f32_to_bf16(src[i]);
}
