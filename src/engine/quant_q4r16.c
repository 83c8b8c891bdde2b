/* quant_q4r16.c — moving Q4_0 rows into and out of the 16-row repacked
 * layout of quant_q4r16.h (load-time repack, save and the non-VNNI paths). */
#include "engine/quant_q4r16.h"

#include <stdlib.h>
#include <string.h>

void smc_r16_row(const uint8_t *W, size_t wrow, int64_t o, uint8_t *out)
{
    const int64_t nblk = (int64_t)(wrow / sizeof(smc_block_q4_0));
    for (int64_t i = 0; i < nblk; i++) {
        smc_block_q4_0 b;
        smc_r16_block(W, wrow, o, i, &b);
        memcpy(out + (size_t)i * sizeof b, &b, sizeof b);
    }
}

void smc_r16_unpack(const uint8_t *g, size_t wrow, uint8_t *out)
{
    for (int64_t r = 0; r < SMC_R16_ROWS; r++)
        smc_r16_row(g, wrow, r, out + (size_t)r * wrow);
}

void smc_r16_pack(uint8_t *g, size_t wrow, uint8_t *tmp)
{
    const int64_t nblk = (int64_t)(wrow / sizeof(smc_block_q4_0));
    memcpy(tmp, g, SMC_R16_ROWS * wrow);
    for (int64_t r = 0; r < SMC_R16_ROWS; r++)
        for (int64_t i = 0; i < nblk; i++) {
            const uint8_t *b = tmp + (size_t)r * wrow + (size_t)i * sizeof(smc_block_q4_0);
            memcpy(g + smc_r16_d_off(wrow, r, i), b, 2);
            memcpy(g + smc_r16_qs_off(r, i), b + 2, 16);
        }
}

int smc_r16_repack(uint8_t *W, size_t wrow, int64_t n_out)
{
    if (n_out <= 0 || n_out % SMC_R16_ROWS != 0 || wrow == 0)
        return SMC_TYPE_Q4_0;
    uint8_t *tmp = malloc(SMC_R16_ROWS * wrow);
    if (!tmp)
        return -1;
    for (int64_t o = 0; o < n_out; o += SMC_R16_ROWS)
        smc_r16_pack(W + (size_t)o * wrow, wrow, tmp);
    free(tmp);
    return SMC_TYPE_Q4_0_R16;
}
