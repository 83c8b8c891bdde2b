/* quant_k.c — Q4_K, Q5_K, Q6_K rows (super-blocks of 256): ggml's reference
 * dequantisation and a simple min/max quantiser that writes valid ggml
 * blocks (used by tests and synthetic models). */
#include <math.h>
#include <string.h>

#include "engine/quant_blocks.h"

/* One super-block of Q4_K or Q5_K: 8 sub-blocks of 32 with 6-bit scales and
 * mins; qh (Q5_K only, else NULL) adds bit c of qh[l] as the fifth bit of
 * value l of sub-block c. */
static float *dequant_k_super(smc_fp16 d16, smc_fp16 dmin16, const uint8_t *scales, const uint8_t *qs,
                              const uint8_t *qh, float *dst)
{
    float d = smc_fp16_to_f32(d16), dmin = smc_fp16_to_f32(dmin16);
    for (int c = 0; c < 4; c++) {
        uint8_t sc0, m0, sc1, m1;
        smc_k_scale_min(scales, 2 * c, &sc0, &m0);
        smc_k_scale_min(scales, 2 * c + 1, &sc1, &m1);
        float d0 = d * sc0, mm0 = dmin * m0, d1 = d * sc1, mm1 = dmin * m1;
        const uint8_t *q = qs + 32 * c;
        for (int l = 0; l < 32; l++)
            *dst++ = d0 * (float)((q[l] & 0xF) + (qh ? ((qh[l] >> (2 * c)) & 1) * 16 : 0)) - mm0;
        for (int l = 0; l < 32; l++)
            *dst++ = d1 * (float)((q[l] >> 4) + (qh ? ((qh[l] >> (2 * c + 1)) & 1) * 16 : 0)) - mm1;
    }
    return dst;
}

void smc_dequant_q4_k(const void *src, float *dst, int64_t n)
{
    const smc_block_q4_k *b = src;
    for (int64_t i = 0; i < n / SMC_QKK; i++)
        dst = dequant_k_super(b[i].d, b[i].dmin, b[i].scales, b[i].qs, NULL, dst);
}

void smc_dequant_q5_k(const void *src, float *dst, int64_t n)
{
    const smc_block_q5_k *b = src;
    for (int64_t i = 0; i < n / SMC_QKK; i++)
        dst = dequant_k_super(b[i].d, b[i].dmin, b[i].scales, b[i].qs, b[i].qh, dst);
}

void smc_dequant_q6_k(const void *src, float *dst, int64_t n)
{
    const smc_block_q6_k *b = src;
    for (int64_t i = 0; i < n / SMC_QKK; i++) {
        float d = smc_fp16_to_f32(b[i].d);
        for (int h = 0; h < 2; h++, dst += 128) {
            const uint8_t *L = b[i].ql + 64 * h, *H = b[i].qh + 32 * h;
            const int8_t *S = b[i].scales + 8 * h;
            for (int l = 0; l < 32; l++) {
                int q1 = (L[l] & 0xF) | ((H[l] >> 0) & 3) << 4;
                int q2 = (L[l + 32] & 0xF) | ((H[l] >> 2) & 3) << 4;
                int q3 = (L[l] >> 4) | ((H[l] >> 4) & 3) << 4;
                int q4 = (L[l + 32] >> 4) | ((H[l] >> 6) & 3) << 4;
                dst[l] = d * (float)S[l / 16] * (float)(q1 - 32);
                dst[l + 32] = d * (float)S[l / 16 + 2] * (float)(q2 - 32);
                dst[l + 64] = d * (float)S[l / 16 + 4] * (float)(q3 - 32);
                dst[l + 96] = d * (float)S[l / 16 + 6] * (float)(q4 - 32);
            }
        }
    }
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Sub-block scales/mins for Q4_K/Q5_K: x ~ d*sc*q - dmin*m, q in [0, qmax]. */
static void quant_k_scales(const float *x, int qmax, float *d_out, float *dmin_out,
                           uint8_t sc[8], uint8_t m[8], uint8_t packed[12])
{
    float scale[8], minv[8], maxscale = 0.0f, maxmin = 0.0f;
    for (int s = 0; s < 8; s++) {
        float mn = 0.0f, mx = 0.0f;
        for (int l = 0; l < 32; l++) {
            mn = fminf(mn, x[32 * s + l]);
            mx = fmaxf(mx, x[32 * s + l]);
        }
        scale[s] = (mx - mn) / (float)qmax;
        minv[s] = -mn;
        maxscale = fmaxf(maxscale, scale[s]);
        maxmin = fmaxf(maxmin, minv[s]);
    }
    float d = smc_fp16_to_f32(smc_f32_to_fp16(maxscale / 63.0f));
    float dmin = smc_fp16_to_f32(smc_f32_to_fp16(maxmin / 63.0f));
    for (int s = 0; s < 8; s++) {
        /* round the scale up so the top value still fits */
        sc[s] = (uint8_t)(d > 0.0f ? clampi((int)ceilf(scale[s] / d), 0, 63) : 0);
        m[s] = (uint8_t)(dmin > 0.0f ? clampi((int)lrintf(minv[s] / dmin), 0, 63) : 0);
    }
    for (int j = 0; j < 4; j++) {
        packed[j] = (uint8_t)((sc[j] & 63) | (sc[j + 4] >> 4) << 6);
        packed[j + 4] = (uint8_t)((m[j] & 63) | (m[j + 4] >> 4) << 6);
        packed[j + 8] = (uint8_t)((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4);
    }
    *d_out = d;
    *dmin_out = dmin;
}

static void quant_k_values(const float *x, int qmax, float d, float dmin, const uint8_t sc[8],
                           const uint8_t m[8], uint8_t q[256])
{
    for (int s = 0; s < 8; s++) {
        float ds = d * sc[s], ms = dmin * m[s];
        for (int l = 0; l < 32; l++)
            q[32 * s + l] = (uint8_t)(ds > 0.0f ? clampi((int)lrintf((x[32 * s + l] + ms) / ds), 0, qmax) : 0);
    }
}

void smc_quant_q4_k(const float *src, void *dst, int64_t n)
{
    smc_block_q4_k *b = dst;
    for (int64_t i = 0; i < n / SMC_QKK; i++, src += SMC_QKK) {
        float d, dmin;
        uint8_t sc[8], m[8], q[256];
        quant_k_scales(src, 15, &d, &dmin, sc, m, b[i].scales);
        quant_k_values(src, 15, d, dmin, sc, m, q);
        b[i].d = smc_f32_to_fp16(d);
        b[i].dmin = smc_f32_to_fp16(dmin);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                b[i].qs[32 * c + l] = (uint8_t)(q[64 * c + l] | q[64 * c + 32 + l] << 4);
    }
}

void smc_quant_q5_k(const float *src, void *dst, int64_t n)
{
    smc_block_q5_k *b = dst;
    for (int64_t i = 0; i < n / SMC_QKK; i++, src += SMC_QKK) {
        float d, dmin;
        uint8_t sc[8], m[8], q[256];
        quant_k_scales(src, 31, &d, &dmin, sc, m, b[i].scales);
        quant_k_values(src, 31, d, dmin, sc, m, q);
        b[i].d = smc_f32_to_fp16(d);
        b[i].dmin = smc_f32_to_fp16(dmin);
        memset(b[i].qh, 0, sizeof b[i].qh);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                b[i].qs[32 * c + l] = (uint8_t)((lo & 0xF) | (hi & 0xF) << 4);
                b[i].qh[l] |= (uint8_t)((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
            }
    }
}

void smc_quant_q6_k(const float *src, void *dst, int64_t n)
{
    smc_block_q6_k *b = dst;
    for (int64_t i = 0; i < n / SMC_QKK; i++, src += SMC_QKK) {
        float scale[16], maxabs = 0.0f;
        for (int s = 0; s < 16; s++) {
            float amax = 0.0f;
            for (int l = 0; l < 16; l++)
                amax = fmaxf(amax, fabsf(src[16 * s + l]));
            scale[s] = amax / 31.0f;
            maxabs = fmaxf(maxabs, scale[s]);
        }
        float d = smc_fp16_to_f32(smc_f32_to_fp16(maxabs / 127.0f));
        b[i].d = smc_f32_to_fp16(d);
        uint8_t q[256];
        for (int s = 0; s < 16; s++) {
            int sc = d > 0.0f ? clampi((int)ceilf(scale[s] / d), 0, 127) : 0;
            b[i].scales[s] = (int8_t)sc;
            float ds = d * (float)sc;
            for (int l = 0; l < 16; l++)
                q[16 * s + l] = (uint8_t)(ds > 0.0f ? clampi((int)lrintf(src[16 * s + l] / ds) + 32, 0, 63) : 32);
        }
        for (int h = 0; h < 2; h++) {
            uint8_t *L = b[i].ql + 64 * h, *H = b[i].qh + 32 * h;
            const uint8_t *y = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                L[l] = (uint8_t)((y[l] & 0xF) | (y[l + 64] & 0xF) << 4);
                L[l + 32] = (uint8_t)((y[l + 32] & 0xF) | (y[l + 96] & 0xF) << 4);
                H[l] = (uint8_t)((y[l] >> 4) | (y[l + 32] >> 4) << 2 | (y[l + 64] >> 4) << 4 | (y[l + 96] >> 4) << 6);
            }
        }
    }
}
