/* tokenize.c — smc_tokenize (special-token splitting, BOS/EOS, the SPM
 * leading-space rule, then the vocabulary's tokenizer per fragment) and
 * smc_detokenize (exact concatenation of token bytes). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/vocab_internal.h"
#include "util/error.h"

int id_vec_push(id_vec *o, int32_t id)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        int32_t *ids = realloc(o->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        o->ids = ids;
        o->cap = cap;
    }
    o->ids[o->n++] = id;
    return 0;
}

static int raw_fragment(const smc_vocab *v, const char *text, size_t len, bool space_prefix,
                        id_vec *out, smc_error *err)
{
    if (v->kind == VOCAB_BPE)
        return bpe_tokenize_fragment(v, text, len, out, err);
    if (!space_prefix)
        return spm_tokenize_fragment(v, text, len, out, err);
    char *buf = malloc(len + 1);
    if (!buf)
        return smc_fail(err, "out of memory");
    buf[0] = ' ';
    if (len)
        memcpy(buf + 1, text, len);
    int rc = spm_tokenize_fragment(v, buf, len + 1, out, err);
    free(buf);
    return rc;
}

int smc_tokenize(const smc_vocab *v, const char *text, size_t len, bool add_special,
                 bool parse_special, int32_t **ids, size_t *n_ids, smc_error *err)
{
    if (ids)
        *ids = NULL;
    if (n_ids)
        *n_ids = 0;
    if (!v || !ids || !n_ids || (!text && len))
        return smc_fail(err, "smc_tokenize: NULL argument");
    fragment one = {0, len, -1};
    fragment *frags = len ? &one : NULL;
    size_t n_frags = len ? 1 : 0;
    if ((parse_special || v->n_user_defined > 0) && len &&
        special_partition(v, text, len, parse_special, &frags, &n_frags, err) != 0)
        return -1;

    id_vec out = {0};
    int rc = 0;
    if (add_special && v->add_bos) {
        if (v->bos < 0)
            rc = smc_fail(err, "the vocabulary asks for BOS but has no bos_token_id");
        else if (id_vec_push(&out, v->bos) != 0)
            rc = smc_fail(err, "out of memory");
    }
    bool prev_special = true; /* SPM: a space goes before the first fragment */
    for (size_t i = 0; i < n_frags && rc == 0; i++) {
        if (frags[i].id >= 0) {
            if (id_vec_push(&out, frags[i].id) != 0)
                rc = smc_fail(err, "out of memory");
            prev_special = true;
        } else {
            rc = raw_fragment(v, text + frags[i].off, frags[i].len,
                              v->add_space_prefix && prev_special, &out, err);
            prev_special = false;
        }
    }
    if (rc == 0 && add_special && v->add_eos) {
        if (v->eos < 0)
            rc = smc_fail(err, "the vocabulary asks for EOS but has no eos_token_id");
        else if (id_vec_push(&out, v->eos) != 0)
            rc = smc_fail(err, "out of memory");
    }
    if (frags != &one)
        free(frags);
    if (rc != 0) {
        free(out.ids);
        return -1;
    }
    if (!out.ids) /* always hand back a buffer the caller can free */
        out.ids = malloc(sizeof(int32_t));
    if (!out.ids)
        return smc_fail(err, "out of memory");
    *ids = out.ids;
    *n_ids = out.n;
    return 0;
}

static smc_str piece_of(const smc_vocab *v, int32_t id, bool render_special)
{
    if (render_special &&
        (v->attr[id] == SMC_TOKEN_CONTROL || v->attr[id] == SMC_TOKEN_UNKNOWN))
        return v->texts[id];
    return v->bytes[id];
}

int smc_detokenize(const smc_vocab *v, const int32_t *ids, size_t n_ids, bool render_special,
                   char **text, size_t *len, smc_error *err)
{
    if (text)
        *text = NULL;
    if (len)
        *len = 0;
    if (!v || !text || (!ids && n_ids))
        return smc_fail(err, "smc_detokenize: NULL argument");
    size_t total = 0;
    for (size_t i = 0; i < n_ids; i++) {
        if (ids[i] < 0 || ids[i] >= v->n_tokens)
            return smc_fail(err, "token id %ld (position %zu) is out of range [0, %d)",
                            (long)ids[i], i, (int)v->n_tokens);
        total += piece_of(v, ids[i], render_special).len;
    }
    char *out = malloc(total + 1);
    if (!out)
        return smc_fail(err, "out of memory");
    size_t pos = 0;
    for (size_t i = 0; i < n_ids; i++) {
        smc_str s = piece_of(v, ids[i], render_special);
        if (s.len)
            memcpy(out + pos, s.ptr, s.len);
        pos += s.len;
    }
    out[pos] = '\0';
    *text = out;
    if (len)
        *len = pos;
    return 0;
}
