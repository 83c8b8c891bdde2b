/* token_mask.c — token-level operations: advance by a token, the allowed-token
 * mask (vocabulary trie walked against the memoised Earley automaton, dead
 * subtrees skipped, whole looping subtrees ORed in as memoised unions,
 * result cached per state and index), and the fused masked log-sum-exp. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/matcher_internal.h"
#include "constraint/token_index.h"
#include "util/error.h"

int smc_matcher_advance_token(smc_matcher *m, const smc_token_index *ix, int32_t token_id)
{
    if (m->finished || token_id < 0 || token_id >= ix->n_tokens)
        return -1;
    if (token_id == ix->eos) {
        if (!m->state->accepting)
            return -1;
        m->finished = true;
        return 0;
    }
    size_t len = ix->tok_off[token_id + 1] - ix->tok_off[token_id];
    if (len == 0)
        return -1;
    return smc_matcher_advance_bytes(m, ix->blob + ix->tok_off[token_id], len);
}

/* dst |= src over n words, 16 bytes at a time (GCC vector extension: SSE2
 * on x86-64, generic code elsewhere). */
static void or_words(uint32_t *restrict dst, const uint32_t *restrict src, size_t n)
{
    typedef uint32_t v4 __attribute__((vector_size(16)));
    size_t w = 0;
    for (; w + 4 <= n; w += 4) {
        v4 a, b;
        memcpy(&a, dst + w, sizeof a);
        memcpy(&b, src + w, sizeof b);
        a |= b;
        memcpy(dst + w, &a, sizeof a);
    }
    for (; w < n; w++)
        dst[w] |= src[w];
}

/* Sets the bits of every token in node i's subtree. */
static void add_subtree(const smc_token_index *ix, uint32_t i, uint32_t *bits)
{
    if (ix->node_dense[i] != UINT32_MAX) {
        size_t words = smc_token_mask_words(ix);
        or_words(bits, ix->dense_bits + (size_t)ix->node_dense[i] * words, words);
        return;
    }
    for (uint32_t k = ix->node_tok[i], end = token_index_subtree_end(ix, i); k < end; k++) {
        int32_t t = ix->sorted[k];
        bits[t >> 5] |= 1u << (t & 31);
    }
}

/* Whole subtrees the walk takes under one parent node: the children's
 * bytes and token count, their nodes being taken[start ..] (a stack shared
 * by the nested parents of the current path). ORed in together when the
 * walk leaves the parent. */
typedef struct pending {
    uint32_t parent;          /* UINT32_MAX for the root */
    uint32_t start, n_tokens;
    uint64_t child_bytes[4];
} pending;

typedef struct walk_scratch {
    pending *pend;            /* per depth of the parent: max_depth + 1 */
    uint32_t *taken;
    size_t n_taken, cap_taken;
} walk_scratch;

/* Unions below this many tokens are set directly, not memoised. */
#define UNION_MEMO_MIN 256u

/* ORs the subtrees pending under one parent into bits, through the
 * grammar's memo of such unions when they are large, and pops them. Lock
 * held. */
static int flush_pending(const smc_grammar *g, const smc_token_index *ix, walk_scratch *ws, pending *p,
                         uint32_t *bits, smc_error *err)
{
    if (ws->n_taken == p->start)
        return 0;
    uint32_t *target = bits, *fresh = NULL;
    size_t words = smc_token_mask_words(ix);
    if (p->n_tokens >= UNION_MEMO_MIN) {
        const uint32_t *u = earley_subtree_union(g, ix->uid, p->parent, p->child_bytes);
        if (u) {
            or_words(bits, u, words);
            goto done;
        }
        fresh = calloc(words, sizeof *fresh);
        if (!fresh)
            return smc_fail(err, "out of memory computing a token mask");
        target = fresh;
    }
    for (size_t k = p->start; k < ws->n_taken; k++)
        add_subtree(ix, ws->taken[k], target);
    if (fresh) {
        or_words(bits, fresh, words);
        if (!earley_subtree_union_add(g, ix->uid, p->parent, p->child_bytes, fresh, words * sizeof *fresh))
            free(fresh);
    }
done:
    ws->n_taken = p->start;
    memset(p->child_bytes, 0, sizeof p->child_bytes);
    p->n_tokens = 0;
    return 0;
}

static void start_pending(walk_scratch *ws, uint32_t depth, uint32_t parent)
{
    pending *p = &ws->pend[depth];
    p->parent = parent;
    p->start = (uint32_t)ws->n_taken;
    p->n_tokens = 0;
    memset(p->child_bytes, 0, sizeof p->child_bytes);
}

/* Walks the trie from state s; fills bits (zeroed by the caller). Lock held. */
static int walk(const smc_grammar *g, eset *s, const smc_token_index *ix, uint32_t *bits, uint64_t limit,
                smc_error *err)
{
    eset *stack_small[256];
    eset **stack = stack_small;
    if (ix->max_depth + 1 > 256) {
        stack = malloc((ix->max_depth + 1) * sizeof *stack);
        if (!stack)
            return smc_fail(err, "out of memory");
    }
    stack[0] = s;
    walk_scratch ws = {0};
    ws.pend = malloc((ix->max_depth + 1) * sizeof *ws.pend);
    ws.cap_taken = 1024;
    ws.taken = malloc(ws.cap_taken * sizeof *ws.taken);
    if (!ws.pend || !ws.taken) {
        free(ws.pend);
        free(ws.taken);
        if (stack != stack_small)
            free(stack);
        return smc_fail(err, "out of memory");
    }
    start_pending(&ws, 0, UINT32_MAX);
    uint32_t deepest = 0;   /* pend[0 .. deepest] are open */
    uint64_t work0 = earley_work(g), visited = 0;
    int rc = 0;
    const uint8_t *nb = ix->node_byte;
    const uint8_t *cls = earley_byte_classes(g);
    const uint32_t *nd = ix->node_depth;
    for (uint32_t i = 0; i < ix->n_nodes;) {
        /* parents at depth >= nd[i] are done: flush, deepest first */
        for (; deepest >= nd[i]; deepest--)
            if ((rc = flush_pending(g, ix, &ws, &ws.pend[deepest], bits, err)) != 0)
                break;
        if (rc)
            break;
        eset *from = stack[nd[i] - 1];
        eset *to = from->next ? from->next[cls[nb[i]]] : NULL;
        if (!to && !ir_byteset_has(&from->first, nb[i]))
            to = &earley_dead;   /* no item of `from` scans this byte */
        if (!to) {
            to = earley_step(g, from, nb[i]);
            if (!to) {
                rc = smc_fail(err, "out of memory computing a token mask");
                break;
            }
            if (limit && visited + (earley_work(g) - work0) > limit) {
                rc = smc_fail(err, "token mask: work limit of %llu exceeded (trie nodes visited plus Earley "
                                   "items processed); raise it with smc_matcher_set_limit",
                              (unsigned long long)limit);
                break;
            }
        }
        visited++;
        if (to == &earley_dead) {
            i = ix->node_skip[i];
            continue;
        }
        stack[nd[i]] = to;
        /* Self-loop shortcut: when every byte below this node leads from
         * the state reached here back to itself (e.g. the body of a string
         * or an identifier), the whole subtree is allowed: its tokens are a
         * contiguous run of the sorted list, collected per parent node and
         * ORed in when the walk leaves the parent (see flush_pending). Loop
         * answers are remembered per state, so this costs at most one step
         * per byte class per state ever. */
        if (ix->node_skip[i] > i + 1) {
            int loops = earley_loops_on(g, to, ix->node_sub[i]);
            if (loops < 0) {
                rc = smc_fail(err, "out of memory computing a token mask");
                break;
            }
            if (loops) {
                uint32_t end = token_index_subtree_end(ix, i);
                /* unioned per parent when the walk leaves it */
                if (ws.n_taken == ws.cap_taken) {
                    uint32_t *v = realloc(ws.taken, 2 * ws.cap_taken * sizeof *v);
                    if (!v) {
                        rc = smc_fail(err, "out of memory computing a token mask");
                        break;
                    }
                    ws.taken = v;
                    ws.cap_taken *= 2;
                }
                pending *p = &ws.pend[nd[i] - 1];
                ws.taken[ws.n_taken++] = i;
                p->child_bytes[nb[i] >> 6] |= 1ull << (nb[i] & 63);
                p->n_tokens += end - ix->node_tok[i];
                visited += end - ix->node_tok[i];
                i = ix->node_skip[i];
                continue;
            }
        }
        for (uint32_t k = ix->node_tok[i]; k < ix->node_tok_end[i]; k++) {
            int32_t t = ix->sorted[k];
            bits[t >> 5] |= 1u << (t & 31);
        }
        if (ix->node_skip[i] > i + 1) {   /* its children come next */
            deepest = nd[i];
            start_pending(&ws, nd[i], i);
        }
        i++;
        if (limit && (visited & 1023) == 0 && visited + (earley_work(g) - work0) > limit) {
            rc = smc_fail(err, "token mask: work limit of %llu exceeded (trie nodes visited plus Earley "
                               "items processed); raise it with smc_matcher_set_limit",
                          (unsigned long long)limit);
            break;
        }
    }
    for (uint32_t d = deepest + 1; rc == 0 && d-- > 0;)
        rc = flush_pending(g, ix, &ws, &ws.pend[d], bits, err);
    free(ws.pend);
    free(ws.taken);
    if (stack != stack_small)
        free(stack);
    return rc;
}

int smc_matcher_token_mask(smc_matcher *m, const smc_token_index *ix, uint32_t *mask_bits, smc_error *err)
{
    size_t words = smc_token_mask_words(ix);
    if (m->finished) {
        memset(mask_bits, 0, words * sizeof *mask_bits);
        return 0;
    }
    const smc_grammar *g = m->g;
    eset *s = m->state;
    earley_lock(g);
    for (emask *e = s->masks; e; e = e->next) {
        if (e->index_uid == ix->uid) {
            memcpy(mask_bits, e->bits, words * sizeof *mask_bits);
            earley_unlock(g);
            return 0;
        }
    }
    memset(mask_bits, 0, words * sizeof *mask_bits);
    int rc = walk(g, s, ix, mask_bits, m->limit, err);
    if (rc == 0) {
        if (ix->eos >= 0 && s->accepting)
            mask_bits[ix->eos >> 5] |= 1u << (ix->eos & 31);
        if (earley_mask_budget(g, words * sizeof *mask_bits)) {
            emask *e = malloc(sizeof *e);
            uint32_t *copy = malloc(words * sizeof *copy);
            if (e && copy) {
                memcpy(copy, mask_bits, words * sizeof *copy);
                e->index_uid = ix->uid;
                e->bits = copy;
                e->next = s->masks;
                s->masks = e;
            } else {
                free(e);
                free(copy);
            }
        }
    } else {
        memset(mask_bits, 0, words * sizeof *mask_bits);
    }
    earley_unlock(g);
    return rc;
}

double smc_matcher_masked_logsumexp(smc_matcher *m, const smc_token_index *ix, const float *logits,
                                    uint32_t *mask_bits_out, smc_error *err)
{
    size_t words = smc_token_mask_words(ix);
    uint32_t small[2048];
    uint32_t *bits = mask_bits_out;
    if (!bits) {
        bits = words <= 2048 ? small : malloc(words * sizeof *bits);
        if (!bits) {
            smc_fail(err, "out of memory");
            return NAN;
        }
    }
    double result = NAN;
    if (smc_matcher_token_mask(m, ix, bits, err) == 0) {
        /* Over the mask: the largest allowed logit, then the sum of
         * expf(l - max) (relative error ~1e-7, the precision of float
         * logits), summed per mask word in float and across words in double.
         * Words with most bits set run densely (masked terms selected
         * away); sparse words and the last, partial word (whose logits end
         * early) go bit by bit. */
        size_t full_words = (size_t)ix->n_tokens / 32;
        float mx = -INFINITY;
        for (size_t w = 0; w < words; w++) {
            uint32_t x = bits[w];
            if (!x)
                continue;
            const float *l = logits + w * 32;
            if (w < full_words) {
                float m = mx;
                for (int b = 0; b < 32; b++) {
                    float v = (x >> b & 1) ? l[b] : -INFINITY;
                    m = v > m ? v : m;
                }
                mx = m;
            } else {
                while (x) {
                    int b = __builtin_ctz(x);
                    x &= x - 1;
                    if (l[b] > mx)
                        mx = l[b];
                }
            }
        }
        double sum = 0.0;
        if (mx > -INFINITY) {
            for (size_t w = 0; w < words; w++) {
                uint32_t x = bits[w];
                if (!x)
                    continue;
                const float *l = logits + w * 32;
                float part = 0.0f;
                if (w < full_words && __builtin_popcount(x) >= 24) {
                    float p0 = 0.0f, p1 = 0.0f;
                    for (int b = 0; b < 32; b += 2) {
                        float e0 = expf(l[b] - mx), e1 = expf(l[b + 1] - mx);
                        p0 += (x >> b & 1) ? e0 : 0.0f;   /* a select: masked-out logits may be anything */
                        p1 += (x >> (b + 1) & 1) ? e1 : 0.0f;
                    }
                    part = p0 + p1;
                } else {
                    while (x) {
                        int b = __builtin_ctz(x);
                        x &= x - 1;
                        part += expf(l[b] - mx);
                    }
                }
                sum += part;
            }
        }
        result = mx == -INFINITY ? -INFINITY : mx + log(sum);
    }
    if (bits != mask_bits_out && bits != small)
        free(bits);
    return result;
}
