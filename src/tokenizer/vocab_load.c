/* vocab_load.c — reading tokenizer.ggml.* metadata into an smc_vocab
 * (copied: the GGUF may be closed afterwards), and freeing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/vocab_internal.h"
#include "util/error.h"

#define KEY "tokenizer.ggml."

/* A string array of n elements under key, or -1 with an error. */
static int64_t find_str_array(const smc_gguf *g, const char *key, smc_error *err)
{
    int64_t i = smc_gguf_find_kv(g, key);
    if (i < 0)
        return -1;
    if (smc_gguf_kv_type(g, i) != SMC_GGUF_ARRAY || smc_gguf_kv_arr_type(g, i) != SMC_GGUF_STRING)
        return smc_fail(err, "%s is not an array of strings", key), -2;
    return i;
}

static int get_string(const smc_gguf *g, const char *key, char *buf, size_t cap, bool *found,
                      smc_error *err)
{
    smc_str s;
    int rc = smc_gguf_get_str(g, key, &s);
    *found = rc == 0;
    if (rc < 0)
        return smc_fail(err, "%s is not a string", key);
    if (rc == 0) {
        if (s.len >= cap || memchr(s.ptr, '\0', s.len))
            return smc_fail(err, "%s: unusable value of %zu bytes", key, s.len);
        memcpy(buf, s.ptr, s.len);
        buf[s.len] = '\0';
    }
    return 0;
}

/* Reads an optional token id key; keeps *id when absent. */
static int get_id(const smc_gguf *g, const char *name, int32_t n_tokens, int32_t *id,
                  smc_error *err)
{
    char key[96];
    snprintf(key, sizeof key, KEY "%s", name);
    int64_t x;
    int rc = smc_gguf_get_int(g, key, &x);
    if (rc < 0)
        return smc_fail(err, "%s is not an integer", key);
    if (rc == 0) {
        /* As llama.cpp: an id outside the vocabulary keeps the default. */
        if (x >= 0 && x < n_tokens)
            *id = (int32_t)x;
    }
    return 0;
}

static int get_flag(const smc_gguf *g, const char *name, bool *flag, smc_error *err)
{
    char key[96];
    snprintf(key, sizeof key, KEY "%s", name);
    bool b;
    int rc = smc_gguf_get_bool(g, key, &b);
    if (rc < 0)
        return smc_fail(err, "%s is not a bool", key);
    if (rc == 0)
        *flag = b;
    return 0;
}

static int load_tokens(const smc_gguf *g, smc_vocab *v, smc_error *err)
{
    int64_t ti = find_str_array(g, KEY "tokens", err);
    if (ti == -2)
        return -1;
    if (ti < 0)
        return smc_fail(err, KEY "tokens is missing");
    uint64_t n = smc_gguf_kv_arr_len(g, ti);
    if (n == 0 || n > INT32_MAX / 2)
        return smc_fail(err, KEY "tokens has %llu entries", (unsigned long long)n);
    v->n_tokens = (int32_t)n;
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++)
        total += smc_gguf_kv_arr_str(g, ti, i).len;
    v->texts = calloc(n, sizeof *v->texts);
    v->bytes = calloc(n, sizeof *v->bytes);
    v->text_arena = malloc(total + 1);
    v->scores = calloc(n, sizeof *v->scores);
    v->attr = malloc(n);
    if (!v->texts || !v->bytes || !v->text_arena || !v->scores || !v->attr ||
        strmap_init(&v->token_ids, n) != 0)
        return smc_fail(err, "out of memory for %llu tokens", (unsigned long long)n);
    size_t pos = 0;
    for (uint64_t i = 0; i < n; i++) {
        smc_str s = smc_gguf_kv_arr_str(g, ti, i);
        if (s.len)
            memcpy(v->text_arena + pos, s.ptr, s.len);
        v->texts[i].ptr = v->text_arena + pos;
        v->texts[i].len = s.len;
        pos += s.len;
        v->attr[i] = SMC_TOKEN_NORMAL;
        if (s.len && strmap_put(&v->token_ids, v->texts[i].ptr, s.len, (int32_t)i) != 0)
            return smc_fail(err, "out of memory");
    }

    int64_t si = smc_gguf_find_kv(g, KEY "scores");
    if (si >= 0) {
        smc_gguf_vtype et = smc_gguf_kv_arr_type(g, si);
        if (smc_gguf_kv_type(g, si) != SMC_GGUF_ARRAY || et == SMC_GGUF_STRING ||
            et == SMC_GGUF_ARRAY || smc_gguf_kv_arr_len(g, si) != n)
            return smc_fail(err, KEY "scores must be a numeric array of %llu entries",
                            (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++)
            v->scores[i] = (float)smc_gguf_kv_arr_num(g, si, i);
    }
    int64_t yi = smc_gguf_find_kv(g, KEY "token_type");
    if (yi >= 0) {
        smc_gguf_vtype et = smc_gguf_kv_arr_type(g, yi);
        if (smc_gguf_kv_type(g, yi) != SMC_GGUF_ARRAY || et == SMC_GGUF_STRING ||
            et == SMC_GGUF_ARRAY || smc_gguf_kv_arr_len(g, yi) != n)
            return smc_fail(err, KEY "token_type must be an integer array of %llu entries",
                            (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++) {
            double t = smc_gguf_kv_arr_num(g, yi, i);
            v->attr[i] = (t >= SMC_TOKEN_NORMAL && t <= SMC_TOKEN_BYTE) ? (uint8_t)t
                                                                       : SMC_TOKEN_NORMAL;
        }
    }
    return 0;
}

static int load_merges(const smc_gguf *g, smc_vocab *v, smc_error *err)
{
    int64_t mi = find_str_array(g, KEY "merges", err);
    if (mi == -2)
        return -1;
    if (mi < 0)
        return smc_fail(err, KEY "merges is missing (needed by the gpt2 tokenizer)");
    uint64_t n = smc_gguf_kv_arr_len(g, mi);
    if (n > INT32_MAX / 2)
        return smc_fail(err, KEY "merges has %llu entries", (unsigned long long)n);
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++)
        total += smc_gguf_kv_arr_str(g, mi, i).len;
    v->merge_arena = malloc(total + 1);
    if (!v->merge_arena || strmap_init(&v->merge_ranks, n) != 0)
        return smc_fail(err, "out of memory for %llu merges", (unsigned long long)n);
    size_t pos = 0;
    for (uint64_t i = 0; i < n; i++) {
        smc_str s = smc_gguf_kv_arr_str(g, mi, i);
        /* "left right": the separator is the first space after the first byte. */
        const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', s.len - 1) : NULL;
        if (!sp)
            return smc_fail(err, KEY "merges[%llu] is not of the form \"left right\"",
                            (unsigned long long)i);
        memcpy(v->merge_arena + pos, s.ptr, s.len);
        /* Keep the first rank of a merge listed twice. */
        if (strmap_get(&v->merge_ranks, v->merge_arena + pos, s.len) < 0 &&
            strmap_put(&v->merge_ranks, v->merge_arena + pos, s.len, (int32_t)i) != 0)
            return smc_fail(err, "out of memory");
        pos += s.len;
    }
    return 0;
}

int smc_vocab_load(const smc_gguf *g, smc_vocab **out, smc_error *err)
{
    if (out)
        *out = NULL;
    if (!g || !out)
        return smc_fail(err, "smc_vocab_load: NULL argument");
    smc_vocab *v = calloc(1, sizeof *v);
    if (!v)
        return smc_fail(err, "out of memory");
    bool found;
    if (get_string(g, KEY "model", v->model, sizeof v->model, &found, err) != 0)
        goto fail;
    if (!found) {
        smc_fail(err, KEY "model is missing: the file has no tokenizer");
        goto fail;
    }
    if (!strcmp(v->model, "llama")) {
        v->kind = VOCAB_SPM;
    } else if (!strcmp(v->model, "gpt2")) {
        v->kind = VOCAB_BPE;
    } else {
        smc_fail(err, "unsupported tokenizer model '%s' (" KEY "model); supported: llama, gpt2",
                 v->model);
        goto fail;
    }
    if (get_string(g, KEY "pre", v->pre, sizeof v->pre, &found, err) != 0)
        goto fail;
    if (!found || !v->pre[0])
        strcpy(v->pre, "default");
    if (load_tokens(g, v, err) != 0)
        goto fail;

    v->bos = v->eos = v->eot = v->eom = v->unk = v->pad = v->sep = -1;
    if (v->kind == VOCAB_SPM) {
        /* llama.cpp's defaults for SPM files that do not say. */
        v->bos = v->n_tokens > 1 ? 1 : -1;
        v->eos = v->n_tokens > 2 ? 2 : -1;
        v->unk = 0;
        v->add_bos = true;
        v->add_space_prefix = true;
    }
    if (get_id(g, "bos_token_id", v->n_tokens, &v->bos, err) ||
        get_id(g, "eos_token_id", v->n_tokens, &v->eos, err) ||
        get_id(g, "eot_token_id", v->n_tokens, &v->eot, err) ||
        get_id(g, "eom_token_id", v->n_tokens, &v->eom, err) ||
        get_id(g, "unknown_token_id", v->n_tokens, &v->unk, err) ||
        get_id(g, "padding_token_id", v->n_tokens, &v->pad, err) ||
        get_id(g, "seperator_token_id", v->n_tokens, &v->sep, err) ||
        get_flag(g, "add_bos_token", &v->add_bos, err) ||
        get_flag(g, "add_eos_token", &v->add_eos, err))
        goto fail;
    if (v->kind == VOCAB_SPM) {
        if (get_flag(g, "add_space_prefix", &v->add_space_prefix, err) != 0)
            goto fail;
    } else {
        if (load_merges(g, v, err) != 0 || pretok_create(v->pre, &v->pretok, err) != 0)
            goto fail;
        v->ignore_merges = pretok_ignore_merges(v->pretok);
        if (pretok_forces_bos(v->pretok))
            v->add_bos = true;
    }
    if (vocab_build_eog(v, err) != 0 || vocab_build_bytes(v, err) != 0 || vocab_build_special(v, err) != 0)
        goto fail;
    vocab_build_byte_tokens(v);
    *out = v;
    return 0;
fail:
    smc_vocab_free(v);
    return -1;
}

void smc_vocab_free(smc_vocab *v)
{
    if (!v)
        return;
    free(v->text_arena);
    free(v->texts);
    free(v->bytes_arena);
    free(v->bytes);
    free(v->scores);
    free(v->attr);
    strmap_free(&v->token_ids);
    free(v->merge_arena);
    strmap_free(&v->merge_ranks);
    free(v->special);
    free(v->eog);
    pretok_free(v->pretok);
    free(v);
}
