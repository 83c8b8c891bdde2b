/* kernels.h — numeric kernels of the inference engine: row sizes, quantise /
 * dequantise rows of every supported ggml type, and the matmul
 * Y = W·X used by every projection (AVX2+FMA selected at run time, with a
 * portable scalar path).
 *
 * Types are ggml ids (smc_type in smcgen.h): F32 F16 BF16 Q8_0 Q4_0 Q4_1
 * Q5_0 Q5_1 Q4_K Q5_K Q6_K. Block layouts follow ggml-common.h exactly.
 *
 * Arithmetic, as in ggml's CPU backend: for quantised weights the
 * activations are first quantised to 8 bits (Q8_0/Q4_0/Q4_1/Q5_0/Q5_1:
 * blocks of 32 with a float scale; Q4_K/Q5_K/Q6_K: blocks of 256 with a float
 * scale), then integer dot products per block are scaled and summed in float.
 * F32/F16/BF16 weights use float activations. Accuracy: each activation is
 * off by at most d/2 = max|x over its block| / 254, so a quantised dot
 * product differs from the float one by at most sum over blocks of
 * (d/2) * sum|w| (tests/engine/test_kernels_matmul.c checks this bound and
 * prints how close the kernels come to it). The result for one (row, column)
 * pair does not depend on n_batch, on the row range, or on the thread count:
 * batched and single evaluations give bit-identical outputs. The scalar and
 * AVX2 paths differ only by float rounding (summation order, fused FMAs). */
#ifndef SMC_ENGINE_KERNELS_H
#define SMC_ENGINE_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smcgen.h"
#include "engine/fp16.h"
#include "engine/threadpool.h"

struct smc_threadpool;

/* True for F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K. */
bool smc_kernel_type_supported(int type);
/* Elements per block (1 for float types) of a supported type, else 0. */
int64_t smc_kernel_block_size(int type);
/* Bytes of a row of n elements; 0 when the type is unsupported or n is not
 * a multiple of the block size. */
size_t smc_row_bytes(int type, int64_t n);

/* n must be a multiple of the block size (the call does nothing otherwise). */
void smc_dequantize_row(int type, const void *src, float *dst, int64_t n);
/* Reference quantisers (all supported types). Returns 0, or -1 when the type
 * is unsupported or n is not a multiple of the block size. */
int smc_quantize_row(int type, const float *src, void *dst, int64_t n);

/* Y[b*ldy + o] = dot(row o of W, X + b*n_in) for b in [0, n_batch), o in
 * [o0, o1). W holds rows of smc_row_bytes(type, n_in) bytes. Every weight row
 * is read once for the whole batch (up to 64 columns; larger batches are
 * processed 64 columns at a time). Unsupported type: Y is left untouched. */
void smc_matmul_rows(int type, const void *W, int64_t n_in, int64_t o0, int64_t o1,
                     const float *X, int64_t n_batch, float *Y, int64_t ldy);
/* The whole matmul (Y[b*n_out + o]) split across the pool's threads by
 * output rows. pool may be NULL (single thread). */
void smc_matmul(struct smc_threadpool *pool, int type, const void *W, int64_t n_in, int64_t n_out,
                const float *X, int64_t n_batch, float *Y);

/* Several matrices applied to the same X in one pool run (e.g. Q, K and V of
 * one normalised input): the activations are prepared once per format and
 * threads claim rows of any of the matrices, so there is one
 * synchronisation instead of n. Y of spec i is [n_batch][n_out_i]; results
 * are bit-identical to n smc_matmul calls. Invalid input: nothing is done. */
#define SMC_MATMUL_MULTI_MAX 4
typedef struct smc_matmul_spec {
    int type;
    const void *W;
    int64_t n_out;
    float *Y;
} smc_matmul_spec;
void smc_matmul_multi(struct smc_threadpool *pool, int n, const smc_matmul_spec *specs, int64_t n_in,
                      const float *X, int64_t n_batch);

/* Force the portable scalar path (tests compare it with AVX2). Global. */
void smc_kernels_force_scalar(bool on);
/* Force the AVX2 path: no AVX-512 kernels (the float batch kernels and the
 * VNNI Q8_0/Q4_0 kernels). Global; $SMC_NO_AVX512=1 does the same. */
void smc_kernels_force_avx2(bool on);
/* "avx2+fma+avx512", "avx2+fma" or "scalar": the path matmul takes now. */
const char *smc_kernels_isa(void);
/* Whether this CPU has AVX2, FMA and F16C (independent of force_scalar). */
bool smc_cpu_has_avx2_fma(void);
/* Whether this CPU has AVX-512 F/DQ/VL/BW (and AVX2+FMA+F16C). */
bool smc_cpu_has_avx512(void);
/* Whether the AVX-512 kernels are in use now (CPU, switches, environment). */
bool smc_kernels_use_avx512(void);

#endif
