/* quant_simple.c — Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 rows: ggml's reference
 * dequantisation and quantisation (blocks of 32). */
#include <math.h>
#include <string.h>

#include "engine/quant_blocks.h"

void smc_dequant_q8_0(const void *src, float *dst, int64_t n)
{
    const smc_block_q8_0 *b = src;
    for (int64_t i = 0; i < n / SMC_QK; i++, dst += SMC_QK) {
        float d = smc_fp16_to_f32(b[i].d);
        for (int j = 0; j < SMC_QK; j++)
            dst[j] = d * (float)b[i].qs[j];
    }
}

void smc_dequant_q4_0(const void *src, float *dst, int64_t n)
{
    const smc_block_q4_0 *b = src;
    for (int64_t i = 0; i < n / SMC_QK; i++, dst += SMC_QK) {
        float d = smc_fp16_to_f32(b[i].d);
        for (int j = 0; j < 16; j++) {
            dst[j] = d * (float)((b[i].qs[j] & 0xF) - 8);
            dst[j + 16] = d * (float)((b[i].qs[j] >> 4) - 8);
        }
    }
}

void smc_dequant_q4_1(const void *src, float *dst, int64_t n)
{
    const smc_block_q4_1 *b = src;
    for (int64_t i = 0; i < n / SMC_QK; i++, dst += SMC_QK) {
        float d = smc_fp16_to_f32(b[i].d), m = smc_fp16_to_f32(b[i].m);
        for (int j = 0; j < 16; j++) {
            dst[j] = d * (float)(b[i].qs[j] & 0xF) + m;
            dst[j + 16] = d * (float)(b[i].qs[j] >> 4) + m;
        }
    }
}

static uint32_t load_qh(const uint8_t qh[4])
{
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

static void store_qh(uint8_t qh[4], uint32_t v)
{
    for (int i = 0; i < 4; i++)
        qh[i] = (uint8_t)(v >> (8 * i));
}

void smc_dequant_q5_0(const void *src, float *dst, int64_t n)
{
    const smc_block_q5_0 *b = src;
    for (int64_t i = 0; i < n / SMC_QK; i++, dst += SMC_QK) {
        float d = smc_fp16_to_f32(b[i].d);
        uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < 16; j++) {
            int lo = (b[i].qs[j] & 0xF) | (int)((qh >> j) & 1) << 4;
            int hi = (b[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            dst[j] = d * (float)(lo - 16);
            dst[j + 16] = d * (float)(hi - 16);
        }
    }
}

void smc_dequant_q5_1(const void *src, float *dst, int64_t n)
{
    const smc_block_q5_1 *b = src;
    for (int64_t i = 0; i < n / SMC_QK; i++, dst += SMC_QK) {
        float d = smc_fp16_to_f32(b[i].d), m = smc_fp16_to_f32(b[i].m);
        uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < 16; j++) {
            int lo = (b[i].qs[j] & 0xF) | (int)((qh >> j) & 1) << 4;
            int hi = (b[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            dst[j] = d * (float)lo + m;
            dst[j + 16] = d * (float)hi + m;
        }
    }
}

void smc_quant_q8_0(const float *src, void *dst, int64_t n)
{
    smc_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / SMC_QK; i++, src += SMC_QK) {
        float amax = 0.0f;
        for (int j = 0; j < SMC_QK; j++)
            amax = fmaxf(amax, fabsf(src[j]));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = smc_f32_to_fp16(d);
        for (int j = 0; j < SMC_QK; j++)
            b[i].qs[j] = (int8_t)roundf(src[j] * id);
    }
}

/* The value of largest magnitude, with its sign. */
static float signed_absmax(const float *x, int n)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    return max;
}

void smc_quant_q4_0(const float *src, void *dst, int64_t n)
{
    smc_block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / SMC_QK; i++, src += SMC_QK) {
        float d = signed_absmax(src, SMC_QK) / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = smc_f32_to_fp16(d);
        for (int j = 0; j < 16; j++) {
            int lo = (int)(src[j] * id + 8.5f), hi = (int)(src[j + 16] * id + 8.5f);
            lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
            hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
            b[i].qs[j] = (uint8_t)(lo | hi << 4);
        }
    }
}

static void minmax(const float *x, int n, float *mn, float *mx)
{
    *mn = x[0];
    *mx = x[0];
    for (int j = 1; j < n; j++) {
        *mn = fminf(*mn, x[j]);
        *mx = fmaxf(*mx, x[j]);
    }
}

void smc_quant_q4_1(const float *src, void *dst, int64_t n)
{
    smc_block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / SMC_QK; i++, src += SMC_QK) {
        float mn, mx;
        minmax(src, SMC_QK, &mn, &mx);
        float d = (mx - mn) / 15.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = smc_f32_to_fp16(d);
        b[i].m = smc_f32_to_fp16(mn);
        for (int j = 0; j < 16; j++) {
            int lo = (int)((src[j] - mn) * id + 0.5f), hi = (int)((src[j + 16] - mn) * id + 0.5f);
            lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
            hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
            b[i].qs[j] = (uint8_t)(lo | hi << 4);
        }
    }
}

void smc_quant_q5_0(const float *src, void *dst, int64_t n)
{
    smc_block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / SMC_QK; i++, src += SMC_QK) {
        float d = signed_absmax(src, SMC_QK) / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = smc_f32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (int)(src[j] * id + 16.5f), hi = (int)(src[j + 16] * id + 16.5f);
            lo = lo < 0 ? 0 : lo > 31 ? 31 : lo;
            hi = hi < 0 ? 0 : hi > 31 ? 31 : hi;
            b[i].qs[j] = (uint8_t)((lo & 0xF) | (hi & 0xF) << 4);
            qh |= (uint32_t)(lo >> 4) << j | (uint32_t)(hi >> 4) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}

void smc_quant_q5_1(const float *src, void *dst, int64_t n)
{
    smc_block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / SMC_QK; i++, src += SMC_QK) {
        float mn, mx;
        minmax(src, SMC_QK, &mn, &mx);
        float d = (mx - mn) / 31.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = smc_f32_to_fp16(d);
        b[i].m = smc_f32_to_fp16(mn);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (int)((src[j] - mn) * id + 0.5f), hi = (int)((src[j + 16] - mn) * id + 0.5f);
            lo = lo < 0 ? 0 : lo > 31 ? 31 : lo;
            hi = hi < 0 ? 0 : hi > 31 ? 31 : hi;
            b[i].qs[j] = (uint8_t)((lo & 0xF) | (hi & 0xF) << 4);
            qh |= (uint32_t)(lo >> 4) << j | (uint32_t)(hi >> 4) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}
