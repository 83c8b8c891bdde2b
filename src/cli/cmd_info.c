/* cmd_info.c — `smcgen info [FILE.gguf] [--json] [--no-tensors]`: a GGUF
 * file's architecture, hyperparameters, tokenizer summary (straight from the
 * metadata), parameter counts by type, the remaining metadata (long arrays
 * summarised) and the tensor table; as text or as one JSON object. */
#include "cli/cli.h"
#include "util/paths.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Hyperparameter keys, as suffixes of "<arch>.". */
static const char *const HPARAMS[] = {
    "context_length", "embedding_length", "block_count", "feed_forward_length",
    "attention.head_count", "attention.head_count_kv", "rope.freq_base",
    "attention.layer_norm_rms_epsilon", "rope.dimension_count",
    "attention.key_length", "attention.value_length", "attention.layer_norm_epsilon",
    "vocab_size", "rope.scaling.type", "rope.scaling.factor",
    "rope.scaling.original_context_length",
};
/* The first ones are shown as "(not set)" in text when absent. */
#define N_CORE_HPARAMS 9

static const char *const TOKENIZER_IDS[] = {
    "bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id",
    "eot_token_id", "seperator_token_id",
};
static const char *const TOKENIZER_FLAGS[] = {"add_bos_token", "add_eos_token", "add_space_prefix"};

#define ARRAY_PREVIEW 6      /* elements shown of a long array */
#define SHORT_ARRAY 16       /* arrays up to this length are shown whole in JSON */
#define STRING_PREVIEW 72    /* bytes of a string shown in text */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen info [FILE.gguf] [--json] [--no-tensors]\n"
            "       smcgen info --sandbox\n\n"
            "Shows a GGUF file: architecture, hyperparameters, tokenizer summary, parameter\n"
            "counts and bytes by tensor type, the other metadata keys (long arrays summarised)\n"
            "and the tensor table (name, type, shape, data offset, bytes).\n\n"
            "  FILE.gguf, -m FILE.gguf  the file (default: %s)\n"
            "  --json                   print everything as one JSON object\n"
            "  --no-tensors             leave out the tensor table\n"
            "  --sandbox                instead: how the Python critic would isolate generated code\n"
            "                           here (namespaces, seccomp, Landlock, and whether a cgroup\n"
            "                           or the pid namespace + rlimits limit the run as a whole)\n"
            "  -h, --help               this help\n\n"
            "A malformed file is reported as 'smcgen: FILE: <problem>' with exit status 1.\n",
            smc_default_model_path());
}

/* llama.cpp's general.file_type values (llama_ftype). */
static const char *file_type_name(int64_t ft)
{
    switch (ft) {
    case 0: return "all F32";
    case 1: return "mostly F16";
    case 2: return "mostly Q4_0";
    case 3: return "mostly Q4_1";
    case 7: return "mostly Q8_0";
    case 8: return "mostly Q5_0";
    case 9: return "mostly Q5_1";
    case 10: return "mostly Q2_K";
    case 11: return "mostly Q3_K_S";
    case 12: return "mostly Q3_K_M";
    case 13: return "mostly Q3_K_L";
    case 14: return "mostly Q4_K_S";
    case 15: return "mostly Q4_K_M";
    case 16: return "mostly Q5_K_S";
    case 17: return "mostly Q5_K_M";
    case 18: return "mostly Q6_K";
    case 32: return "mostly BF16";
    default: return NULL;
    }
}

/* ---- the facts gathered once, then printed as text or JSON ---- */

#define MAX_TYPES 64

typedef struct type_total {
    int64_t tensors;
    uint64_t params, bytes;
} type_total;

typedef struct info {
    const char *path;
    smc_gguf *g;
    char arch[128];
    bool *shown;             /* per kv: printed in a section above "other metadata" */
    type_total by_type[MAX_TYPES];
    uint64_t params, bytes;
} info;

/* A NUL-terminated, valid UTF-8 copy of s (bad bytes and NULs become
 * U+FFFD), cut after max bytes (0 = no limit) with "...". Caller frees. */
static char *clean_utf8(smc_str s, size_t max)
{
    size_t n = s.len;
    bool cut = max && n > max;
    if (cut)
        n = max;
    char *out = malloc(n * 3 + 4), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s.ptr;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = len > 0 && c != 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = (p[i + k] & 0xC0) == 0x80;
        if (ok && len == 2 && c < 0xC2)
            ok = false;   /* overlong */
        if (ok && len == 3) {
            unsigned cp = (c & 15u) << 12 | (p[i + 1] & 63u) << 6 | (p[i + 2] & 63u);
            ok = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
        }
        if (ok && len == 4) {
            unsigned cp = (c & 7u) << 18 | (p[i + 1] & 63u) << 12 | (p[i + 2] & 63u) << 6 | (p[i + 3] & 63u);
            ok = cp >= 0x10000 && cp <= 0x10FFFF;
        }
        if (ok) {
            memcpy(o, p + i, len);
            o += len;
            i += len;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    if (cut) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = 0;
    return out;
}

static bool is_int_vtype(int t)
{
    return (t >= SMC_GGUF_U8 && t <= SMC_GGUF_I32) || t == SMC_GGUF_U64 || t == SMC_GGUF_I64;
}

/* Scalar kv i (or element j of a numeric array) as text, exact for integers. */
static void format_number(char *buf, size_t cap, const smc_gguf *g, int64_t i, uint64_t j)
{
    int t = smc_gguf_kv_arr_type(g, i);
    const unsigned char *p = smc_gguf_kv_data(g, i);
    if (!p) {
        snprintf(buf, cap, "?");
        return;
    }
    if (t == SMC_GGUF_U64) {
        uint64_t v;
        memcpy(&v, p + 8 * j, 8);
        snprintf(buf, cap, "%" PRIu64, v);
    } else if (t == SMC_GGUF_I64) {
        int64_t v;
        memcpy(&v, p + 8 * j, 8);
        snprintf(buf, cap, "%" PRId64, v);
    } else if (t == SMC_GGUF_BOOL) {
        snprintf(buf, cap, "%s", p[j] ? "true" : "false");
    } else if (is_int_vtype(t)) {
        snprintf(buf, cap, "%.0f", smc_gguf_kv_arr_num(g, i, j));
    } else {
        snprintf(buf, cap, t == SMC_GGUF_F32 ? "%.7g" : "%.15g", smc_gguf_kv_arr_num(g, i, j));
    }
}

static void print_quoted(FILE *f, smc_str s, size_t max)
{
    cli_json_string(f, s.ptr, s.len > max ? max : s.len);
    if (s.len > max)
        fprintf(f, "... (%zu bytes)", s.len);
}

/* Compact text form of any value. */
static void print_value(FILE *f, const smc_gguf *g, int64_t i)
{
    int t = smc_gguf_kv_type(g, i);
    char num[64];
    if (t == SMC_GGUF_STRING) {
        print_quoted(f, smc_gguf_kv_str(g, i), STRING_PREVIEW);
        return;
    }
    if (t != SMC_GGUF_ARRAY) {
        format_number(num, sizeof num, g, i, 0);
        fputs(num, f);
        return;
    }
    int et = smc_gguf_kv_arr_type(g, i);
    uint64_t n = smc_gguf_kv_arr_len(g, i);
    fprintf(f, "[%s x %" PRIu64 "]", smc_gguf_vtype_name((uint32_t)et), n);
    if (n == 0)
        return;
    fputc(' ', f);
    for (uint64_t j = 0; j < n && j < ARRAY_PREVIEW; j++) {
        if (j)
            fputs(", ", f);
        if (et == SMC_GGUF_ARRAY) {   /* arrays of arrays: each element's type and length */
            const smc_gguf_value *e = smc_gguf_value_at(smc_gguf_kv_value(g, i), j);
            fprintf(f, "[%s x %" PRIu64 "]", smc_gguf_vtype_name((uint32_t)smc_gguf_value_arr_type(e)),
                    smc_gguf_value_len(e));
        } else if (et == SMC_GGUF_STRING) {
            print_quoted(f, smc_gguf_kv_arr_str(g, i, j), 24);
        } else {
            format_number(num, sizeof num, g, i, j);
            fputs(num, f);
        }
    }
    if (n > ARRAY_PREVIEW)
        fputs(", ...", f);
}

static int64_t kv_of(info *in, const char *key)
{
    int64_t i = smc_gguf_find_kv(in->g, key);
    if (i >= 0)
        in->shown[i] = true;
    return i;
}

static int64_t arch_kv(info *in, const char *suffix, char *key, size_t cap)
{
    snprintf(key, cap, "%s.%s", in->arch, suffix);
    return kv_of(in, key);
}

static int gather(info *in)
{
    smc_gguf *g = in->g;
    in->shown = calloc((size_t)smc_gguf_n_kv(g) + 1, sizeof *in->shown);
    if (!in->shown)
        return -1;
    smc_str a;
    in->arch[0] = 0;
    if (smc_gguf_get_str(g, "general.architecture", &a) == 0) {
        size_t n = a.len < sizeof in->arch - 1 ? a.len : sizeof in->arch - 1;
        memcpy(in->arch, a.ptr, n);
        in->arch[n] = 0;
        if (memchr(in->arch, 0, n))
            in->arch[0] = 0;
    }
    for (int64_t i = 0; i < smc_gguf_n_tensors(g); i++) {
        const smc_gguf_tensor *t = smc_gguf_tensor_at(g, i);
        uint64_t n = (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);   /* validated by the reader */
        in->params += n;
        in->bytes += t->nbytes;
        if (t->type >= 0 && t->type < MAX_TYPES) {
            in->by_type[t->type].tensors++;
            in->by_type[t->type].params += n;
            in->by_type[t->type].bytes += t->nbytes;
        }
    }
    return 0;
}

static void format_shape(char *buf, size_t cap, const smc_gguf_tensor *t)
{
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (uint32_t d = 0; d < t->n_dims && o < cap; d++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%" PRId64, d ? ", " : "", t->ne[d]);
    if (o < cap)
        snprintf(buf + o, cap - o, "]");
}

/* ---- text ---- */

static void text_kv_line(FILE *f, const smc_gguf *g, const char *label, int64_t i)
{
    fprintf(f, "  %-40s ", label);
    if (i < 0)
        fputs("(not set)", f);
    else
        print_value(f, g, i);
    fputc('\n', f);
}

static void print_text(FILE *f, info *in, bool tensors)
{
    smc_gguf *g = in->g;
    char key[256];
    fprintf(f, "file: %s\n", in->path);
    fprintf(f, "  GGUF v%u, %zu bytes, %" PRId64 " metadata keys, %" PRId64 " tensors, alignment %u, data at byte %" PRIu64 "\n",
            smc_gguf_version(g), smc_gguf_file_size(g), smc_gguf_n_kv(g), smc_gguf_n_tensors(g),
            smc_gguf_alignment(g), smc_gguf_data_offset(g));
    kv_of(in, "general.alignment");

    fprintf(f, "\ngeneral:\n");
    text_kv_line(f, g, "architecture", kv_of(in, "general.architecture"));
    text_kv_line(f, g, "name", kv_of(in, "general.name"));
    int64_t ft;
    int64_t fi = kv_of(in, "general.file_type");
    if (fi >= 0 && smc_gguf_get_int(g, "general.file_type", &ft) == 0)
        fprintf(f, "  %-40s %" PRId64 " (%s)\n", "file_type", ft, file_type_name(ft) ? file_type_name(ft) : "unknown");
    else
        text_kv_line(f, g, "file_type", fi);
    if (smc_gguf_find_kv(g, "general.quantization_version") >= 0)
        text_kv_line(f, g, "quantization_version", kv_of(in, "general.quantization_version"));

    if (in->arch[0]) {
        fprintf(f, "\nhyperparameters:\n");
        for (size_t k = 0; k < sizeof HPARAMS / sizeof HPARAMS[0]; k++) {
            int64_t i = arch_kv(in, HPARAMS[k], key, sizeof key);
            if (i >= 0 || k < N_CORE_HPARAMS)
                text_kv_line(f, g, key, i);
        }
    }

    fprintf(f, "\ntokenizer:\n");
    text_kv_line(f, g, "tokenizer.ggml.model", kv_of(in, "tokenizer.ggml.model"));
    text_kv_line(f, g, "tokenizer.ggml.pre", kv_of(in, "tokenizer.ggml.pre"));
    static const char *const arrays[] = {"tokens", "scores", "token_type", "merges"};
    for (size_t k = 0; k < 4; k++) {
        snprintf(key, sizeof key, "tokenizer.ggml.%s", arrays[k]);
        int64_t i = kv_of(in, key);
        if (i >= 0 || k == 0) {
            char label[300];
            snprintf(label, sizeof label, "%s count", key);
            if (i < 0)
                text_kv_line(f, g, label, -1);
            else
                fprintf(f, "  %-40s %" PRIu64 "\n", label, smc_gguf_kv_arr_len(g, i));
        }
    }
    for (size_t k = 0; k < sizeof TOKENIZER_IDS / sizeof TOKENIZER_IDS[0]; k++) {
        snprintf(key, sizeof key, "tokenizer.ggml.%s", TOKENIZER_IDS[k]);
        int64_t i = kv_of(in, key);
        if (i >= 0 || k < 2)
            text_kv_line(f, g, key, i);
    }
    for (size_t k = 0; k < sizeof TOKENIZER_FLAGS / sizeof TOKENIZER_FLAGS[0]; k++) {
        snprintf(key, sizeof key, "tokenizer.ggml.%s", TOKENIZER_FLAGS[k]);
        int64_t i = kv_of(in, key);
        if (i >= 0)
            text_kv_line(f, g, key, i);
    }

    fprintf(f, "\nparameters: %" PRIu64 " in %" PRId64 " tensors, %" PRIu64 " bytes (%.2f MiB)\n",
            in->params, smc_gguf_n_tensors(g), in->bytes, (double)in->bytes / 1048576.0);
    for (int t = 0; t < MAX_TYPES; t++)
        if (in->by_type[t].tensors)
            fprintf(f, "  %-6s %4" PRId64 " tensors %12" PRIu64 " params %12" PRIu64 " bytes\n", smc_type_name(t),
                    in->by_type[t].tensors, in->by_type[t].params, in->by_type[t].bytes);

    bool header = false;
    for (int64_t i = 0; i < smc_gguf_n_kv(g); i++) {
        if (in->shown[i])
            continue;
        if (!header)
            fprintf(f, "\nother metadata:\n");
        header = true;
        text_kv_line(f, g, smc_gguf_kv_key(g, i), i);
    }

    if (tensors && smc_gguf_n_tensors(g)) {
        fprintf(f, "\ntensors:\n  %-32s %-6s %-22s %12s %12s\n", "name", "type", "shape", "offset", "bytes");
        for (int64_t i = 0; i < smc_gguf_n_tensors(g); i++) {
            const smc_gguf_tensor *t = smc_gguf_tensor_at(g, i);
            char shape[128];
            format_shape(shape, sizeof shape, t);
            fprintf(f, "  %-32s %-6s %-22s %12" PRIu64 " %12" PRIu64 "\n", t->name, smc_type_name(t->type),
                    shape, t->offset, t->nbytes);
        }
    }
}

/* ---- JSON ---- */

static cJSON *json_string(smc_str s)
{
    char *c = clean_utf8(s, 0);
    cJSON *j = cJSON_CreateString(c ? c : "");
    free(c);
    return j;
}

static cJSON *json_element(const smc_gguf *g, int64_t i, uint64_t j)
{
    int t = smc_gguf_kv_arr_type(g, i);
    if (t == SMC_GGUF_STRING)
        return json_string(smc_gguf_kv_arr_str(g, i, j));
    if (t == SMC_GGUF_BOOL)
        return cJSON_CreateBool(smc_gguf_kv_arr_num(g, i, j) != 0);
    double v = smc_gguf_kv_arr_num(g, i, j);
    if (t == SMC_GGUF_F32 && isfinite(v)) {   /* shortest decimal of the float, not of the double */
        char buf[32];
        snprintf(buf, sizeof buf, "%.7g", v);
        v = strtod(buf, NULL);
    }
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

/* Scalars as values; arrays whole when short, else {"type","len","first"}. */
static cJSON *json_value(const smc_gguf *g, int64_t i)
{
    int t = smc_gguf_kv_type(g, i);
    if (t == SMC_GGUF_STRING)
        return json_string(smc_gguf_kv_str(g, i));
    if (t != SMC_GGUF_ARRAY)
        return json_element(g, i, 0);
    int et = smc_gguf_kv_arr_type(g, i);
    uint64_t n = smc_gguf_kv_arr_len(g, i);
    if (et != SMC_GGUF_ARRAY && n <= SHORT_ARRAY) {
        cJSON *arr = cJSON_CreateArray();
        for (uint64_t j = 0; j < n; j++)
            cJSON_AddItemToArray(arr, json_element(g, i, j));
        return arr;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "array_of", smc_gguf_vtype_name((uint32_t)et));
    cJSON_AddNumberToObject(o, "len", (double)n);
    if (et != SMC_GGUF_ARRAY) {
        cJSON *first = cJSON_AddArrayToObject(o, "first");
        for (uint64_t j = 0; j < n && j < ARRAY_PREVIEW; j++)
            cJSON_AddItemToArray(first, json_element(g, i, j));
    }
    return o;
}

static void json_add_kv(cJSON *obj, const char *name, const smc_gguf *g, int64_t i)
{
    if (i >= 0)
        cJSON_AddItemToObject(obj, name, json_value(g, i));
}

static cJSON *build_json(info *in, bool tensors)
{
    smc_gguf *g = in->g;
    char key[256];
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "file", json_string((smc_str){in->path, strlen(in->path)}));
    cJSON_AddNumberToObject(root, "version", smc_gguf_version(g));
    cJSON_AddNumberToObject(root, "file_size", (double)smc_gguf_file_size(g));
    cJSON_AddNumberToObject(root, "alignment", smc_gguf_alignment(g));
    cJSON_AddNumberToObject(root, "data_offset", (double)smc_gguf_data_offset(g));
    cJSON_AddNumberToObject(root, "n_kv", (double)smc_gguf_n_kv(g));
    cJSON_AddNumberToObject(root, "n_tensors", (double)smc_gguf_n_tensors(g));
    json_add_kv(root, "architecture", g, kv_of(in, "general.architecture"));
    json_add_kv(root, "name", g, kv_of(in, "general.name"));
    int64_t ft;
    if (smc_gguf_get_int(g, "general.file_type", &ft) == 0) {
        cJSON *o = cJSON_AddObjectToObject(root, "file_type");
        cJSON_AddNumberToObject(o, "id", (double)ft);
        cJSON_AddStringToObject(o, "name", file_type_name(ft) ? file_type_name(ft) : "unknown");
    }

    cJSON *hp = cJSON_AddObjectToObject(root, "hyperparameters");
    if (in->arch[0])
        for (size_t k = 0; k < sizeof HPARAMS / sizeof HPARAMS[0]; k++)
            json_add_kv(hp, HPARAMS[k], g, arch_kv(in, HPARAMS[k], key, sizeof key));

    cJSON *tok = cJSON_AddObjectToObject(root, "tokenizer");
    json_add_kv(tok, "model", g, kv_of(in, "tokenizer.ggml.model"));
    json_add_kv(tok, "pre", g, kv_of(in, "tokenizer.ggml.pre"));
    static const char *const arrays[] = {"tokens", "scores", "token_type", "merges"};
    static const char *const counts[] = {"n_tokens", "n_scores", "n_token_types", "n_merges"};
    for (size_t k = 0; k < 4; k++) {
        snprintf(key, sizeof key, "tokenizer.ggml.%s", arrays[k]);
        int64_t i = kv_of(in, key);
        if (i >= 0)
            cJSON_AddNumberToObject(tok, counts[k], (double)smc_gguf_kv_arr_len(g, i));
    }
    for (size_t k = 0; k < sizeof TOKENIZER_IDS / sizeof TOKENIZER_IDS[0]; k++) {
        snprintf(key, sizeof key, "tokenizer.ggml.%s", TOKENIZER_IDS[k]);
        json_add_kv(tok, TOKENIZER_IDS[k], g, kv_of(in, key));
    }
    for (size_t k = 0; k < sizeof TOKENIZER_FLAGS / sizeof TOKENIZER_FLAGS[0]; k++) {
        snprintf(key, sizeof key, "tokenizer.ggml.%s", TOKENIZER_FLAGS[k]);
        json_add_kv(tok, TOKENIZER_FLAGS[k], g, kv_of(in, key));
    }

    cJSON *par = cJSON_AddObjectToObject(root, "parameters");
    cJSON_AddNumberToObject(par, "total", (double)in->params);
    cJSON_AddNumberToObject(par, "bytes", (double)in->bytes);
    cJSON *bt = cJSON_AddObjectToObject(par, "by_type");
    for (int t = 0; t < MAX_TYPES; t++) {
        if (!in->by_type[t].tensors)
            continue;
        cJSON *o = cJSON_AddObjectToObject(bt, smc_type_name(t));
        cJSON_AddNumberToObject(o, "tensors", (double)in->by_type[t].tensors);
        cJSON_AddNumberToObject(o, "params", (double)in->by_type[t].params);
        cJSON_AddNumberToObject(o, "bytes", (double)in->by_type[t].bytes);
    }

    /* Every key, with its value (long arrays summarised). */
    cJSON *md = cJSON_AddObjectToObject(root, "metadata");
    for (int64_t i = 0; i < smc_gguf_n_kv(g); i++) {
        const char *k = smc_gguf_kv_key(g, i);
        char *clean = clean_utf8((smc_str){k, strlen(k)}, 0);   /* keys are copied by cJSON */
        cJSON_AddItemToObject(md, clean ? clean : "?", json_value(g, i));
        free(clean);
    }

    if (tensors) {
        cJSON *arr = cJSON_AddArrayToObject(root, "tensors");
        for (int64_t i = 0; i < smc_gguf_n_tensors(g); i++) {
            const smc_gguf_tensor *t = smc_gguf_tensor_at(g, i);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "name", json_string((smc_str){t->name, strlen(t->name)}));
            cJSON_AddStringToObject(o, "type", smc_type_name(t->type));
            cJSON *shape = cJSON_AddArrayToObject(o, "shape");
            for (uint32_t d = 0; d < t->n_dims; d++)
                cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->ne[d]));
            cJSON_AddNumberToObject(o, "offset", (double)t->offset);
            cJSON_AddNumberToObject(o, "bytes", (double)t->nbytes);
            cJSON_AddItemToArray(arr, o);
        }
    }
    return root;
}

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false, tensors = true;
    for (int a = 1; a < argc; a++) {
        const char *s = argv[a];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(s, "--json")) {
            json = true;
        } else if (!strcmp(s, "--no-tensors")) {
            tensors = false;
        } else if (!strcmp(s, "--sandbox")) {
            char line[2048];
            smc_py_isolation(NULL, line, sizeof line);
            printf("python critic: %s\n", line);
            return fflush(stdout) == 0 ? 0 : 1;
        } else if (!strcmp(s, "-m") || !strcmp(s, "--model")) {
            if (a + 1 >= argc) {
                cli_error("info: option %s needs a value", s);
                return 2;
            }
            path = argv[++a];
        } else if (s[0] == '-' && s[1]) {
            cli_error("info: unknown option '%s' (see 'smcgen info --help')", s);
            return 2;
        } else if (path) {
            cli_error("info: more than one file given ('%s' and '%s')", path, s);
            return 2;
        } else {
            path = s;
        }
    }
    if (!path)
        path = smc_default_model_path();

    smc_gguf *g = NULL;
    smc_error err = {{0}};
    if (smc_gguf_open(path, &g, &err)) {
        cli_error("%s", err.msg);   /* the message starts with the path */
        return 1;
    }
    info in = {.path = path, .g = g};
    int rc = 0;
    if (gather(&in)) {
        cli_error("%s: out of memory", path);
        rc = 1;
    } else if (json) {
        cJSON *root = build_json(&in, tensors);
        char *text = root ? cJSON_Print(root) : NULL;
        if (!text) {
            cli_error("%s: out of memory while building JSON", path);
            rc = 1;
        } else {
            printf("%s\n", text);
        }
        free(text);
        cJSON_Delete(root);
    } else {
        print_text(stdout, &in, tensors);
    }
    if (fflush(stdout) != 0) {
        cli_error("info: cannot write the output");
        rc = 1;
    }
    free(in.shown);
    smc_gguf_close(g);
    return rc;
}
