/* token_index.c — building the vocabulary trie (smc_token_index) from a
 * callback or arrays of token byte strings. */
#include "constraint/token_index.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static atomic_uint_fast64_t next_uid = 1;

static int cmp_tok(const void *a, const void *b, void *user)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    const smc_token_index *ix = user;
    size_t lx = ix->tok_off[x + 1] - ix->tok_off[x], ly = ix->tok_off[y + 1] - ix->tok_off[y];
    size_t l = lx < ly ? lx : ly;
    int c = memcmp(ix->blob + ix->tok_off[x], ix->blob + ix->tok_off[y], l);
    if (c)
        return c;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* 2 + the least depth r with at most TOKEN_INDEX_COUNTED_MAX_NODES nodes at
 * depth r + 1 (see counted_level in token_index.h); 0 when out of memory. */
static uint32_t counted_level(const smc_token_index *ix)
{
    uint32_t *at = calloc((size_t)ix->max_depth + 2, sizeof *at);
    if (!at)
        return 0;
    for (uint32_t i = 0; i < ix->n_nodes; i++)
        at[ix->node_depth[i]]++;
    uint32_t r = 1;
    while (r < ix->max_depth && at[r + 1] > TOKEN_INDEX_COUNTED_MAX_NODES)
        r++;
    free(at);
    return r + 2;
}

/* Dense bitmaps for the subtrees with at least TOKEN_INDEX_DENSE_MIN
 * tokens (a few hundred nodes on a 50k vocabulary, one bitmap each). */
static int build_dense(smc_token_index *ix)
{
    ix->node_dense = malloc((ix->n_nodes ? ix->n_nodes : 1) * sizeof *ix->node_dense);
    if (!ix->node_dense)
        return -1;
    uint32_t n_dense = 0;
    for (uint32_t i = 0; i < ix->n_nodes; i++) {
        bool big = token_index_subtree_end(ix, i) - ix->node_tok[i] >= TOKEN_INDEX_DENSE_MIN;
        ix->node_dense[i] = big ? n_dense++ : UINT32_MAX;
    }
    size_t words = ((size_t)ix->n_tokens + 31) / 32;
    ix->n_dense = n_dense;
    ix->dense_bits = calloc(n_dense ? (size_t)n_dense * words : 1, sizeof *ix->dense_bits);
    if (!ix->dense_bits)
        return -1;
    ix->all_bits = calloc(words ? words : 1, sizeof *ix->all_bits);
    if (!ix->all_bits)
        return -1;
    for (uint32_t k = 0; k < ix->n_sorted; k++)
        ix->all_bits[ix->sorted[k] >> 5] |= 1u << (ix->sorted[k] & 31);
    for (uint32_t i = 0; i < ix->n_nodes; i++) {
        if (ix->node_dense[i] == UINT32_MAX)
            continue;
        uint32_t *bits = ix->dense_bits + (size_t)ix->node_dense[i] * words;
        for (uint32_t k = ix->node_tok[i], end = token_index_subtree_end(ix, i); k < end; k++)
            bits[ix->sorted[k] >> 5] |= 1u << (ix->sorted[k] & 31);
    }
    return 0;
}

void smc_token_index_free(smc_token_index *ix)
{
    if (!ix)
        return;
    free(ix->blob);
    free(ix->tok_off);
    free(ix->node_byte);
    free(ix->node_depth);
    free(ix->node_skip);
    free(ix->node_tok);
    free(ix->node_tok_end);
    free(ix->sorted);
    free(ix->node_sub);
    free(ix->node_parent);
    free(ix->node_dense);
    free(ix->dense_bits);
    free(ix->all_bits);
    free(ix);
}

int smc_token_index_new(int32_t n_tokens, smc_token_bytes_fn get, void *user, int32_t eos_id,
                        smc_token_index **out, smc_error *err)
{
    *out = NULL;
    if (n_tokens <= 0 || !get)
        return smc_fail(err, "token index: need at least one token and a byte-string callback");
    if (eos_id >= n_tokens)
        return smc_fail(err, "token index: eos id %d out of range (n_tokens %d)", (int)eos_id, (int)n_tokens);
    smc_token_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return smc_fail(err, "out of memory");
    ix->n_tokens = n_tokens;
    ix->eos = eos_id < 0 ? -1 : eos_id;
    ix->uid = atomic_fetch_add(&next_uid, 1);
    ix->memo_min_nodes = TOKEN_INDEX_MEMO_MIN_NODES;
    ix->tok_off = malloc(((size_t)n_tokens + 1) * sizeof *ix->tok_off);
    size_t cap = (size_t)n_tokens * 8 + 16, used = 0;
    ix->blob = malloc(cap);
    if (!ix->tok_off || !ix->blob)
        goto oom;
    for (int32_t i = 0; i < n_tokens; i++) {
        size_t len = 0;
        const char *b = get(user, i, &len);
        if (!b || i == ix->eos)
            len = 0;
        ix->tok_off[i] = used;
        if (used + len > cap) {
            while (used + len > cap)
                cap *= 2;
            char *nb = realloc(ix->blob, cap);
            if (!nb)
                goto oom;
            ix->blob = nb;
        }
        if (len)
            memcpy(ix->blob + used, b, len);
        used += len;
    }
    ix->tok_off[n_tokens] = used;
    /* sort tokens with bytes */
    ix->sorted = malloc((size_t)n_tokens * sizeof *ix->sorted);
    if (!ix->sorted)
        goto oom;
    size_t n_sorted = 0;
    for (int32_t i = 0; i < n_tokens; i++)
        if (ix->tok_off[i + 1] > ix->tok_off[i])
            ix->sorted[n_sorted++] = i;
    qsort_r(ix->sorted, n_sorted, sizeof *ix->sorted, cmp_tok, ix);   /* GNU qsort_r (_GNU_SOURCE) */
    /* nodes: at most the total bytes */
    size_t max_nodes = used + 1;
    ix->node_byte = malloc(max_nodes);
    ix->node_depth = malloc(max_nodes * sizeof *ix->node_depth);
    ix->node_skip = malloc(max_nodes * sizeof *ix->node_skip);
    ix->node_tok = malloc(max_nodes * sizeof *ix->node_tok);
    ix->node_tok_end = malloc(max_nodes * sizeof *ix->node_tok_end);
    size_t max_len = 0;
    for (size_t k = 0; k < n_sorted; k++) {
        int32_t t = ix->sorted[k];
        size_t l = ix->tok_off[t + 1] - ix->tok_off[t];
        if (l > max_len)
            max_len = l;
    }
    uint32_t *path = malloc((max_len + 1) * sizeof *path);
    if (!ix->node_byte || !ix->node_depth || !ix->node_skip || !ix->node_tok || !ix->node_tok_end || !path) {
        free(path);
        goto oom;
    }
    uint32_t n_nodes = 0;
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t k = 0; k < n_sorted; k++) {
        int32_t t = ix->sorted[k];
        const char *s = ix->blob + ix->tok_off[t];
        size_t l = ix->tok_off[t + 1] - ix->tok_off[t];
        size_t lcp = 0;
        while (prev && lcp < l && lcp < prev_len && s[lcp] == prev[lcp])
            lcp++;
        for (size_t d = lcp; d < l; d++) {
            uint32_t i = n_nodes++;
            ix->node_byte[i] = (uint8_t)s[d];
            ix->node_depth[i] = (uint32_t)d + 1;
            ix->node_tok[i] = ix->node_tok_end[i] = (uint32_t)k;
            path[d + 1] = i;
        }
        /* the token ends at the node of depth l on the current path */
        uint32_t end = path[l];
        if (ix->node_tok_end[end] == ix->node_tok[end])
            ix->node_tok[end] = (uint32_t)k;
        ix->node_tok_end[end] = (uint32_t)k + 1;
        prev = s;
        prev_len = l;
    }
    /* skip pointers: a node's subtree ends at the next node not deeper */
    {
        uint32_t sp = 0;
        for (uint32_t i = 0; i < n_nodes; i++) {
            while (sp && ix->node_depth[path[sp - 1]] >= ix->node_depth[i])
                ix->node_skip[path[--sp]] = i;
            if (sp <= max_len)
                path[sp++] = i;
        }
        while (sp)
            ix->node_skip[path[--sp]] = n_nodes;
    }
    ix->n_nodes = n_nodes;
    ix->n_sorted = (uint32_t)n_sorted;
    /* descendants' bytes, bottom-up: parent of i is the last node before i
     * with a smaller depth (found with a stack in one forward pass) */
    ix->node_sub = calloc(n_nodes ? n_nodes : 1, sizeof *ix->node_sub);
    uint32_t *parent = malloc((n_nodes ? n_nodes : 1) * sizeof *parent);
    ix->node_parent = parent;
    if (!ix->node_sub || !parent) {
        free(path);
        goto oom;
    }
    {
        uint32_t sp = 0;
        for (uint32_t i = 0; i < n_nodes; i++) {
            while (sp && ix->node_depth[path[sp - 1]] >= ix->node_depth[i])
                sp--;
            parent[i] = sp ? path[sp - 1] : UINT32_MAX;
            if (sp <= max_len)
                path[sp++] = i;
        }
        for (uint32_t i = n_nodes; i-- > 0;) {
            uint32_t p = parent[i];
            if (p == UINT32_MAX)
                continue;
            for (int w = 0; w < 4; w++)
                ix->node_sub[p][w] |= ix->node_sub[i][w];
            ix->node_sub[p][ix->node_byte[i] >> 6] |= 1ull << (ix->node_byte[i] & 63);
        }
    }
    free(path);
    ix->max_depth = (uint32_t)max_len;
    ix->counted_level = counted_level(ix);
    if (build_dense(ix) != 0)
        goto oom;
    *out = ix;
    return 0;
oom:
    smc_token_index_free(ix);
    return smc_fail(err, "out of memory building the token index");
}

typedef struct arrays_user {
    const char *const *bytes;
    const size_t *lens;
} arrays_user;

static const char *arrays_get(void *user, int32_t id, size_t *len)
{
    const arrays_user *a = user;
    *len = a->lens[id];
    return a->bytes[id];
}

int smc_token_index_from_arrays(int32_t n_tokens, const char *const *bytes, const size_t *lens,
                                int32_t eos_id, smc_token_index **out, smc_error *err)
{
    arrays_user a = {bytes, lens};
    return smc_token_index_new(n_tokens, arrays_get, &a, eos_id, out, err);
}

int32_t smc_token_index_n_tokens(const smc_token_index *ix) { return ix->n_tokens; }
int32_t smc_token_index_eos(const smc_token_index *ix) { return ix->eos; }
size_t smc_token_mask_words(const smc_token_index *ix) { return ((size_t)ix->n_tokens + 31) / 32; }
