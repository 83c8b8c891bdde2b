/* token_mask.c — token-level operations: advance by a token, the allowed-token
 * mask (vocabulary trie walked against the memoised Earley automaton, dead
 * subtrees skipped, result cached per state and index), and the fused masked
 * log-sum-exp. */
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
    uint64_t work0 = earley_work(g), visited = 0;
    int rc = 0;
    const uint8_t *nb = ix->node_byte;
    const uint32_t *nd = ix->node_depth;
    for (uint32_t i = 0; i < ix->n_nodes;) {
        eset *from = stack[nd[i] - 1];
        eset *to = from->next ? from->next[nb[i]] : NULL;
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
         * contiguous run of the sorted list. Loop answers are remembered per
         * state, so this costs at most 256 steps per state ever. */
        if (ix->node_skip[i] > i + 1) {
            int loops = earley_loops_on(g, to, ix->node_sub[i]);
            if (loops < 0) {
                rc = smc_fail(err, "out of memory computing a token mask");
                break;
            }
            if (loops) {
                uint32_t end = token_index_subtree_end(ix, i);
                for (uint32_t k = ix->node_tok[i]; k < end; k++) {
                    int32_t t = ix->sorted[k];
                    bits[t >> 5] |= 1u << (t & 31);
                }
                visited += end - ix->node_tok[i];
                i = ix->node_skip[i];
                continue;
            }
        }
        for (uint32_t k = ix->node_tok[i]; k < ix->node_tok_end[i]; k++) {
            int32_t t = ix->sorted[k];
            bits[t >> 5] |= 1u << (t & 31);
        }
        i++;
        if (limit && (visited & 1023) == 0 && visited + (earley_work(g) - work0) > limit) {
            rc = smc_fail(err, "token mask: work limit of %llu exceeded (trie nodes visited plus Earley "
                               "items processed); raise it with smc_matcher_set_limit",
                          (unsigned long long)limit);
            break;
        }
    }
    if (stack != stack_small)
        free(stack);
    return rc;
}

int smc_matcher_token_mask(smc_matcher *m, const smc_token_index *ix, uint32_t *mask_bits, smc_error *err)
{
    size_t words = smc_token_mask_words(ix);
    memset(mask_bits, 0, words * sizeof *mask_bits);
    if (m->finished)
        return 0;
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
