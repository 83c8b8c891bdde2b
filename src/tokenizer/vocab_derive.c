/* vocab_derive.c — what smc_vocab_load computes from the raw vocabulary:
 * every token's exact byte string, the lone-byte tokens, end-of-generation
 * tokens and the special-token list (longest text first). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/byte_map.h"
#include "tokenizer/vocab_internal.h"
#include "util/error.h"

/* Parses "<0xNN>"; returns the byte or -1. */
static int parse_byte_token(smc_str t)
{
    if (t.len != 6 || memcmp(t.ptr, "<0x", 3) != 0 || t.ptr[5] != '>')
        return -1;
    int v = 0;
    for (int k = 3; k < 5; k++) {
        char c = t.ptr[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Writes token id's bytes to out (capacity >= 3 * text length) and returns
 * their count. */
static size_t token_bytes_of(const smc_vocab *v, int32_t id, const int16_t *inv_map, char *out)
{
    smc_str t = v->texts[id];
    switch (v->attr[id]) {
    case SMC_TOKEN_CONTROL:
    case SMC_TOKEN_UNKNOWN:
    case SMC_TOKEN_UNUSED:
        return 0;
    case SMC_TOKEN_USER_DEFINED:
        memcpy(out, t.ptr, t.len);
        return t.len;
    case SMC_TOKEN_BYTE:
        if (v->kind == VOCAB_SPM) {
            int b = parse_byte_token(t);
            if (b >= 0) {
                out[0] = (char)b;
                return 1;
            }
        }
        break;
    default:
        break;
    }
    size_t n = 0;
    if (v->kind == VOCAB_SPM) {
        for (size_t i = 0; i < t.len;) {
            if (i + 3 <= t.len && memcmp(t.ptr + i, "\xE2\x96\x81", 3) == 0) {
                out[n++] = ' ';
                i += 3;
            } else {
                out[n++] = t.ptr[i++];
            }
        }
        return n;
    }
    /* Byte-level BPE: each mapped character stands for one byte; anything
     * else is copied as it is. */
    for (size_t i = 0; i < t.len;) {
        uint32_t cpt;
        size_t k = utf8_decode((const unsigned char *)t.ptr + i, t.len - i, &cpt);
        if (k > 0 && cpt < 0x144 && inv_map[cpt] >= 0) {
            out[n++] = (char)inv_map[cpt];
            i += k;
        } else if (k > 0) {
            memcpy(out + n, t.ptr + i, k);
            n += k;
            i += k;
        } else {
            out[n++] = t.ptr[i++];
        }
    }
    return n;
}

static int cmp_special(const void *a, const void *b, void *ctx)
{
    const smc_vocab *v = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (v->texts[x].len != v->texts[y].len)
        return v->texts[x].len > v->texts[y].len ? -1 : 1;
    return (x > y) - (x < y);
}

int vocab_build_bytes(smc_vocab *v, smc_error *err)
{
    int16_t inv_map[0x144];
    for (int c = 0; c < 0x144; c++)
        inv_map[c] = (int16_t)cpt_to_byte((uint32_t)c);
    size_t total = 0;
    for (int32_t i = 0; i < v->n_tokens; i++)
        total += v->texts[i].len;
    /* SPM: "▁" (3 bytes) -> 1 byte; BPE: at most one output byte per input
     * byte. So the bytes never outgrow the texts. */
    v->bytes_arena = malloc(total + 1);
    if (!v->bytes_arena)
        return smc_fail(err, "out of memory");
    size_t pos = 0;
    for (int32_t i = 0; i < v->n_tokens; i++) {
        size_t n = token_bytes_of(v, i, inv_map, v->bytes_arena + pos);
        v->bytes[i].ptr = v->bytes_arena + pos;
        v->bytes[i].len = n;
        pos += n;
        if (n > v->max_bytes_len)
            v->max_bytes_len = n;
    }
    return 0;
}

void vocab_build_byte_tokens(smc_vocab *v)
{
    for (int b = 0; b < 256; b++) {
        int32_t id = -1;
        if (v->kind == VOCAB_SPM) {
            char hex[7];
            snprintf(hex, sizeof hex, "<0x%02X>", b);
            id = vocab_text_to_id(v, hex, 6);
            if (id < 0) {
                char one = (char)b;
                id = vocab_text_to_id(v, &one, 1);
            }
        } else {
            char enc[2];
            size_t k = byte_encode((unsigned char)b, enc);
            id = vocab_text_to_id(v, enc, k);
        }
        v->byte_token[b] = id;
    }
}

/* End-of-generation tokens: eos, eot, eom, plus the texts llama.cpp treats
 * as ending a turn (made control tokens, as llama.cpp does). */
int vocab_build_eog(smc_vocab *v, smc_error *err)
{
    static const char *const eog_texts[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
        "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>"};
    v->eog = calloc((size_t)v->n_tokens, 1);
    if (!v->eog)
        return smc_fail(err, "out of memory");
    for (size_t k = 0; k < sizeof eog_texts / sizeof eog_texts[0]; k++) {
        int32_t id = vocab_text_to_id(v, eog_texts[k], strlen(eog_texts[k]));
        if (id >= 0) {
            v->eog[id] = 1;
            v->attr[id] = SMC_TOKEN_CONTROL;
            if (v->eot < 0 && k < 5)
                v->eot = id;
        }
    }
    int32_t ids[3] = {v->eos, v->eot, v->eom};
    for (int k = 0; k < 3; k++)
        if (ids[k] >= 0)
            v->eog[ids[k]] = 1;
    return 0;
}

int vocab_build_special(smc_vocab *v, smc_error *err)
{
    v->special = malloc((size_t)v->n_tokens * sizeof *v->special);
    if (!v->special)
        return smc_fail(err, "out of memory");
    for (int32_t i = 0; i < v->n_tokens; i++) {
        int a = v->attr[i];
        if ((a == SMC_TOKEN_CONTROL || a == SMC_TOKEN_USER_DEFINED || a == SMC_TOKEN_UNKNOWN) &&
            v->texts[i].len > 0) {
            v->special[v->n_special++] = i;
            v->n_user_defined += a == SMC_TOKEN_USER_DEFINED;
        }
    }
    qsort_r(v->special, (size_t)v->n_special, sizeof *v->special, cmp_special, v);
    return 0;
}
