/* quant_types.c — the table of supported weight types: block sizes, row
 * sizes, and dispatch of row quantise/dequantise. */
#include "engine/kernels.h"
#include "engine/quant_blocks.h"

typedef struct {
    int type;
    int64_t block;
    size_t bytes;
    void (*dequant)(const void *, float *, int64_t);
    void (*quant)(const float *, void *, int64_t);
} type_info;

static const type_info TYPES[] = {
    {SMC_TYPE_F32, 1, 4, smc_dequant_f32, smc_quant_f32},
    {SMC_TYPE_F16, 1, 2, smc_dequant_f16, smc_quant_f16},
    {SMC_TYPE_BF16, 1, 2, smc_dequant_bf16, smc_quant_bf16},
    {SMC_TYPE_Q8_0, SMC_QK, sizeof(smc_block_q8_0), smc_dequant_q8_0, smc_quant_q8_0},
    {SMC_TYPE_Q4_0, SMC_QK, sizeof(smc_block_q4_0), smc_dequant_q4_0, smc_quant_q4_0},
    {SMC_TYPE_Q4_1, SMC_QK, sizeof(smc_block_q4_1), smc_dequant_q4_1, smc_quant_q4_1},
    {SMC_TYPE_Q5_0, SMC_QK, sizeof(smc_block_q5_0), smc_dequant_q5_0, smc_quant_q5_0},
    {SMC_TYPE_Q5_1, SMC_QK, sizeof(smc_block_q5_1), smc_dequant_q5_1, smc_quant_q5_1},
    {SMC_TYPE_Q4_K, SMC_QKK, sizeof(smc_block_q4_k), smc_dequant_q4_k, smc_quant_q4_k},
    {SMC_TYPE_Q5_K, SMC_QKK, sizeof(smc_block_q5_k), smc_dequant_q5_k, smc_quant_q5_k},
    {SMC_TYPE_Q6_K, SMC_QKK, sizeof(smc_block_q6_k), smc_dequant_q6_k, smc_quant_q6_k},
};

static const type_info *find(int type)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].type == type)
            return &TYPES[i];
    return NULL;
}

bool smc_kernel_type_supported(int type)
{
    return find(type) != NULL;
}

int64_t smc_kernel_block_size(int type)
{
    const type_info *t = find(type);
    return t ? t->block : 0;
}

size_t smc_row_bytes(int type, int64_t n)
{
    const type_info *t = find(type);
    if (!t || n < 0 || n % t->block != 0)
        return 0;
    return (size_t)(n / t->block) * t->bytes;
}

void smc_dequantize_row(int type, const void *src, float *dst, int64_t n)
{
    const type_info *t = find(type);
    if (t && n > 0 && n % t->block == 0)
        t->dequant(src, dst, n);
}

int smc_quantize_row(int type, const float *src, void *dst, int64_t n)
{
    const type_info *t = find(type);
    if (!t || n < 0 || n % t->block != 0)
        return -1;
    if (n > 0)
        t->quant(src, dst, n);
    return 0;
}
