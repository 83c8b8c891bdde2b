/* quant_q4r16.h — Q4_0 weights repacked in groups of 16 rows
 * (SMC_TYPE_Q4_0_R16, an engine-internal type, never in a file): the
 * one-column VNNI kernel reads a group's block with one load of the 16 d
 * values and four 64-byte loads of quants that need only a shift and a mask,
 * no shuffles. Same bytes and size as Q4_0, only moved: a group of 16 rows
 * of nblk blocks holds first the quants, 256 bytes per block (block i at
 * 256 * i), row r's 16 qs bytes (unchanged, ggml nibble order) at
 * 64 * (r % 4) + 16 * (r / 4), so that 64-byte vector k holds rows k, k + 4,
 * k + 8, k + 12 in its 128-bit lanes; then the d values, 32 bytes per block
 * (block i at 256 * nblk + 32 * i, row order). The batch kernel's 4-row
 * tiles take rows k, k + 4, k + 8, k + 12, so a tile reads its own 64 bytes
 * of each block's quants (and the shared d values). A group of rows starts at
 * W + first_row * row_bytes (row_bytes as Q4_0's); rows are no longer
 * contiguous, so only code that knows the layout may read them. Matrices of
 * a multiple of 16 rows only. */
#ifndef SMC_ENGINE_QUANT_Q4R16_H
#define SMC_ENGINE_QUANT_Q4R16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smcgen.h"
#include "engine/quant_blocks.h"

#define SMC_TYPE_Q4_0_R16 (0x100 | SMC_TYPE_Q4_0)
#define SMC_R16_ROWS 16
#define SMC_R16_BLK (SMC_R16_ROWS * sizeof(smc_block_q4_0))   /* 288 bytes */

/* The 16-row group of row o, and the d and qs of row o's block i in it. */
static inline const uint8_t *smc_r16_group(const uint8_t *W, size_t wrow, int64_t o)
{
    return W + (size_t)(o & ~(int64_t)(SMC_R16_ROWS - 1)) * wrow;
}
static inline size_t smc_r16_d_off(size_t wrow, int64_t o, int64_t i)
{
    return wrow / sizeof(smc_block_q4_0) * 256 + 32 * (size_t)i + 2 * (size_t)(o & 15);
}
static inline size_t smc_r16_qs_off(int64_t o, int64_t i)
{
    return 256 * (size_t)i + 64 * (size_t)(o & 3) + 16 * (size_t)((o & 15) >> 2);
}

/* Row o's block i of the repacked matrix W in plain Q4_0 layout. */
static inline void smc_r16_block(const uint8_t *W, size_t wrow, int64_t o, int64_t i, smc_block_q4_0 *out)
{
    const uint8_t *g = smc_r16_group(W, wrow, o);
    memcpy(&out->d, g + smc_r16_d_off(wrow, o, i), sizeof out->d);
    memcpy(out->qs, g + smc_r16_qs_off(o, i), sizeof out->qs);
}

/* The type matmul and dequantisation treat a weight type as: Q4_0 for
 * SMC_TYPE_Q4_0_R16, else the type itself. */
static inline int smc_r16_base_type(int type)
{
    return type == SMC_TYPE_Q4_0_R16 ? SMC_TYPE_Q4_0 : type;
}

/* Repacks the 16 Q4_0 rows at g (wrow bytes each) in place; tmp: 16 * wrow
 * bytes of scratch. */
void smc_r16_pack(uint8_t *g, size_t wrow, uint8_t *tmp);
/* The 16 rows of the group at g in plain Q4_0 layout, into out (16 * wrow bytes). */
void smc_r16_unpack(const uint8_t *g, size_t wrow, uint8_t *out);
/* Row o of the repacked matrix W in plain Q4_0 layout, into out (wrow bytes). */
void smc_r16_row(const uint8_t *W, size_t wrow, int64_t o, uint8_t *out);
/* Repacks a Q4_0 matrix of n_out rows at W in place when n_out is a multiple
 * of 16 (returns SMC_TYPE_Q4_0_R16), else leaves it (returns SMC_TYPE_Q4_0);
 * -1 when out of memory (W untouched). */
int smc_r16_repack(uint8_t *W, size_t wrow, int64_t n_out);

#endif
