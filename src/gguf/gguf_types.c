/* gguf_types.c — the ggml tensor type table (names, block sizes, block
 * bytes) and the GGUF metadata value type table. */
#include "gguf/gguf_internal.h"

typedef struct type_info {
    const char *name;
    int64_t block;       /* elements per block; 0 = known name, unsupported layout */
    size_t bytes;        /* bytes per block */
} type_info;

/* Indexed by ggml type id. Layouts from ggml-common.h (see
 * ../shared/docs/gguf-and-inference.md §1–2). */
static const type_info TYPES[] = {
    [SMC_TYPE_F32]  = {"f32", 1, 4},
    [SMC_TYPE_F16]  = {"f16", 1, 2},
    [SMC_TYPE_Q4_0] = {"q4_0", 32, 18},
    [SMC_TYPE_Q4_1] = {"q4_1", 32, 20},
    [SMC_TYPE_Q5_0] = {"q5_0", 32, 22},
    [SMC_TYPE_Q5_1] = {"q5_1", 32, 24},
    [SMC_TYPE_Q8_0] = {"q8_0", 32, 34},
    [SMC_TYPE_Q8_1] = {"q8_1", 32, 36},   /* half d, half s, int8 qs[32] */
    [SMC_TYPE_Q2_K] = {"q2_K", 256, 84},  /* u8 scales[16], qs[64], half d, dmin */
    [SMC_TYPE_Q3_K] = {"q3_K", 256, 110}, /* hmask[32], qs[64], scales[12], half d */
    [SMC_TYPE_Q4_K] = {"q4_K", 256, 144},
    [SMC_TYPE_Q5_K] = {"q5_K", 256, 176},
    [SMC_TYPE_Q6_K] = {"q6_K", 256, 210},
    [SMC_TYPE_Q8_K] = {"q8_K", 256, 292},
    [16] = {"iq2_xxs", 0, 0}, [17] = {"iq2_xs", 0, 0}, [18] = {"iq3_xxs", 0, 0},
    [19] = {"iq1_s", 0, 0},   [20] = {"iq4_nl", 0, 0}, [21] = {"iq3_s", 0, 0},
    [22] = {"iq2_s", 0, 0},   [23] = {"iq4_xs", 0, 0},
    [SMC_TYPE_I8]   = {"i8", 1, 1},
    [SMC_TYPE_I16]  = {"i16", 1, 2},
    [SMC_TYPE_I32]  = {"i32", 1, 4},
    [SMC_TYPE_I64]  = {"i64", 1, 8},
    [SMC_TYPE_F64]  = {"f64", 1, 8},
    [29] = {"iq1_m", 0, 0},
    [SMC_TYPE_BF16] = {"bf16", 1, 2},
    [34] = {"tq1_0", 0, 0}, [35] = {"tq2_0", 0, 0}, [39] = {"mxfp4", 0, 0},
};
#define N_TYPES ((int)(sizeof TYPES / sizeof TYPES[0]))

static const type_info *info_of(int type)
{
    if (type < 0 || type >= N_TYPES || !TYPES[type].name)
        return NULL;
    return &TYPES[type];
}

const char *smc_type_name(int type)
{
    const type_info *t = info_of(type);
    return t ? t->name : NULL;
}

int64_t smc_type_block_size(int type)
{
    const type_info *t = info_of(type);
    return t ? t->block : 0;
}

size_t smc_type_block_bytes(int type)
{
    const type_info *t = info_of(type);
    return t ? t->bytes : 0;
}

static const char *const VTYPE_NAMES[] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
    "string", "array", "u64", "i64", "f64",
};
static const unsigned char VTYPE_SIZES[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

size_t smc_gguf_vtype_size(uint32_t type)
{
    return type < sizeof VTYPE_SIZES ? VTYPE_SIZES[type] : 0;
}

const char *smc_gguf_vtype_name(uint32_t type)
{
    return type < sizeof VTYPE_SIZES ? VTYPE_NAMES[type] : NULL;
}
