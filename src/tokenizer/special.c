/* special.c — splitting text around special-token texts before the normal
 * tokenizer runs: user-defined tokens always, control and unknown tokens
 * when the caller asks to parse them. Like llama.cpp, tokens are tried
 * longest first over the whole text, each one splitting the raw-text
 * fragments left by the longer ones. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/vocab_internal.h"
#include "util/error.h"

typedef struct frag_vec {
    fragment *f;
    size_t n, cap;
} frag_vec;

static int frag_push(frag_vec *v, size_t off, size_t len, int32_t id)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        fragment *f = realloc(v->f, cap * sizeof *f);
        if (!f)
            return -1;
        v->f = f;
        v->cap = cap;
    }
    v->f[v->n++] = (fragment){off, len, id};
    return 0;
}

int special_partition(const smc_vocab *v, const char *text, size_t len, bool parse_special,
                      fragment **frags, size_t *n_frags, smc_error *err)
{
    frag_vec cur = {0}, next = {0};
    *frags = NULL;
    *n_frags = 0;
    if (len > 0 && frag_push(&cur, 0, len, -1) != 0)
        goto oom;
    for (int32_t k = 0; k < v->n_special && cur.n > 0; k++) {
        int32_t id = v->special[k];
        if (!parse_special && v->attr[id] != SMC_TOKEN_USER_DEFINED)
            continue;
        smc_str t = v->texts[id];
        next.n = 0;
        for (size_t i = 0; i < cur.n; i++) {
            fragment f = cur.f[i];
            if (f.id >= 0 || f.len < t.len) {
                if (frag_push(&next, f.off, f.len, f.id) != 0)
                    goto oom;
                continue;
            }
            size_t pos = f.off, end = f.off + f.len;
            for (;;) {
                const char *hit = memmem(text + pos, end - pos, t.ptr, t.len);
                if (!hit)
                    break;
                size_t h = (size_t)(hit - text);
                if (h > pos && frag_push(&next, pos, h - pos, -1) != 0)
                    goto oom;
                if (frag_push(&next, h, t.len, id) != 0)
                    goto oom;
                pos = h + t.len;
            }
            if (end > pos && frag_push(&next, pos, end - pos, -1) != 0)
                goto oom;
        }
        frag_vec tmp = cur;
        cur = next;
        next = tmp;
    }
    free(next.f);
    *frags = cur.f;
    *n_frags = cur.n;
    return 0;
oom:
    free(cur.f);
    free(next.f);
    return smc_fail(err, "out of memory while splitting special tokens");
}
