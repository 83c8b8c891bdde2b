/* quant_blocks.h — internal: ggml block layouts (ggml-common.h), the 8-bit
 * activation formats the quantised matmuls use, and the per-type kernel
 * tables shared by quant_*.c and matmul*.c. */
#ifndef SMC_ENGINE_QUANT_BLOCKS_H
#define SMC_ENGINE_QUANT_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/fp16.h"

#define SMC_QK 32   /* elements per block of the simple quants */
#define SMC_QKK 256 /* elements per K-quant super-block */

typedef struct { smc_fp16 d; int8_t qs[32]; } smc_block_q8_0;
typedef struct { smc_fp16 d; uint8_t qs[16]; } smc_block_q4_0;
typedef struct { smc_fp16 d, m; uint8_t qs[16]; } smc_block_q4_1;
typedef struct { smc_fp16 d; uint8_t qh[4]; uint8_t qs[16]; } smc_block_q5_0;
typedef struct { smc_fp16 d, m; uint8_t qh[4]; uint8_t qs[16]; } smc_block_q5_1;
typedef struct { smc_fp16 d, dmin; uint8_t scales[12]; uint8_t qs[128]; } smc_block_q4_k;
typedef struct { smc_fp16 d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } smc_block_q5_k;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; smc_fp16 d; } smc_block_q6_k;

_Static_assert(sizeof(smc_block_q8_0) == 34, "q8_0 layout");
_Static_assert(sizeof(smc_block_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(smc_block_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(smc_block_q5_0) == 22, "q5_0 layout");
_Static_assert(sizeof(smc_block_q5_1) == 24, "q5_1 layout");
_Static_assert(sizeof(smc_block_q4_k) == 144, "q4_K layout");
_Static_assert(sizeof(smc_block_q5_k) == 176, "q5_K layout");
_Static_assert(sizeof(smc_block_q6_k) == 210, "q6_K layout");

/* Activations for the simple quants: x[j] ~ d * qs[j], qs in [-127, 127],
 * s = d * sum(qs) (used by the types with a min, Q4_1/Q5_1). */
typedef struct { float d; float s; int8_t qs[32]; } smc_act_q8;
/* Activations for the K-quants: x[j] ~ d * qs[j], bsums[i] = sum of
 * qs[16i .. 16i+15]. */
typedef struct { float d; int16_t bsums[16]; int8_t qs[256]; } smc_act_q8k;

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block. */
static inline void smc_k_scale_min(const uint8_t *s, int j, uint8_t *sc, uint8_t *m)
{
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

/* Row (de)quantisers of one family (quant_float.c, quant_simple.c, quant_k.c);
 * n is a multiple of the block size. */
void smc_dequant_f32(const void *src, float *dst, int64_t n);
void smc_dequant_f16(const void *src, float *dst, int64_t n);
void smc_dequant_bf16(const void *src, float *dst, int64_t n);
void smc_quant_f32(const float *src, void *dst, int64_t n);
void smc_quant_f16(const float *src, void *dst, int64_t n);
void smc_quant_bf16(const float *src, void *dst, int64_t n);
void smc_dequant_q8_0(const void *src, float *dst, int64_t n);
void smc_dequant_q4_0(const void *src, float *dst, int64_t n);
void smc_dequant_q4_1(const void *src, float *dst, int64_t n);
void smc_dequant_q5_0(const void *src, float *dst, int64_t n);
void smc_dequant_q5_1(const void *src, float *dst, int64_t n);
void smc_quant_q8_0(const float *src, void *dst, int64_t n);
void smc_quant_q4_0(const float *src, void *dst, int64_t n);
void smc_quant_q4_1(const float *src, void *dst, int64_t n);
void smc_quant_q5_0(const float *src, void *dst, int64_t n);
void smc_quant_q5_1(const float *src, void *dst, int64_t n);
void smc_dequant_q4_k(const void *src, float *dst, int64_t n);
void smc_dequant_q5_k(const void *src, float *dst, int64_t n);
void smc_dequant_q6_k(const void *src, float *dst, int64_t n);
void smc_quant_q4_k(const float *src, void *dst, int64_t n);
void smc_quant_q5_k(const float *src, void *dst, int64_t n);
void smc_quant_q6_k(const float *src, void *dst, int64_t n);

/* Activation formats (quant_act.c). */
enum smc_act_kind { SMC_ACT_F32 = 0, SMC_ACT_Q8 = 1, SMC_ACT_Q8K = 2 };
int smc_act_kind(int type);
/* Bytes of one activation column of n elements. */
size_t smc_act_row_bytes(int kind, int64_t n);
/* Quantise one column; the scalar and AVX2 versions (use_avx2, honoured
 * only on CPUs with AVX2) give identical bytes. */
void smc_quantize_act(int kind, const float *x, void *dst, int64_t n, int use_avx2);

/* A matmul kernel over rows [o0, o1) and nb <= SMC_MM_MAX_COLS columns of
 * prepared activations (column b at A + b*astride). */
#define SMC_MM_MAX_COLS 64
typedef void (*smc_mm_kernel)(const uint8_t *W, size_t wrow, int64_t n_in, int64_t o0, int64_t o1,
                              const uint8_t *A, size_t astride, int nb, float *Y, int64_t ldy);
smc_mm_kernel smc_mm_kernel_scalar(int type);
smc_mm_kernel smc_mm_kernel_avx2(int type); /* NULL when none */

/* AVX-512 F32/F16/BF16 kernel for 1+ columns of activations packed in pairs
 * by smc_pack_pairs (bit-identical to the AVX2 float kernels); unlike the
 * others it takes any nb (it walks 64-column chunks within each row block).
 * NULL when the CPU lacks AVX-512, n_in % 8 != 0, or for other types. */
smc_mm_kernel smc_mm_kernel_avx512_float(int type, int64_t n_in);
/* Packs columns X[c*n_in ...] in pairs: columns 2p and 2p+1 (2p again when
 * n_batch is odd) interleaved 8 floats at a time, pair p at dst + 2p*n_in;
 * dst holds (n_batch rounded up to even) * n_in floats; n_in % 8 == 0. */
void smc_pack_pairs(const float *X, int64_t n_in, int64_t n_batch, float *dst);

#endif
