/* token_index.h — struct smc_token_index: the vocabulary's byte strings and
 * a trie of them stored in depth-first preorder (node i's subtree is
 * i+1 .. skip[i]-1), so a mask walk is a single forward loop that jumps over
 * dead subtrees. */
#ifndef SMC_CONSTRAINT_TOKEN_INDEX_H
#define SMC_CONSTRAINT_TOKEN_INDEX_H

#include <stdint.h>

#include "smcgen.h"

struct smc_token_index {
    uint64_t uid;             /* unique per index (keys the mask caches) */
    int32_t n_tokens, eos;
    char *blob;               /* all token bytes */
    uint64_t *tok_off;        /* n_tokens + 1 offsets into blob */
    uint32_t n_nodes, max_depth;
    uint8_t *node_byte;
    uint32_t *node_depth;     /* 1 for children of the root */
    uint32_t *node_skip;      /* first node after this subtree */
    uint32_t *node_tok;       /* tokens ending here: sorted[node_tok[i] .. node_tok_end[i]) */
    uint32_t *node_tok_end;
    int32_t *sorted;          /* token ids with non-empty bytes, sorted by bytes */
    uint32_t n_sorted;
    /* bytes occurring strictly below node i (its descendants' bytes), for
     * the self-loop shortcut; the tokens of node i's subtree are
     * sorted[node_tok[i] .. subtree_end(i)) */
    uint64_t (*node_sub)[4];
    uint32_t *node_parent;    /* UINT32_MAX for the root's children */
    /* Nodes whose subtree holds many tokens also keep those tokens as a
     * dense bitmap over token ids (ORed in a vectorisable loop instead of
     * setting thousands of scattered bits): node_dense[i] is the bitmap's
     * number in dense_bits (mask words each), or UINT32_MAX. */
    uint32_t *node_dense;
    uint32_t *dense_bits;
    uint32_t n_dense;
    uint32_t *all_bits;       /* every token with bytes (the root's subtree) */
    /* Mask walks share the results of subtrees of at least this many nodes
     * between contexts (token_mask.c; the root: from min(this, 64) nodes).
     * TOKEN_INDEX_MEMO_MIN_NODES by default; tests lower it to force the
     * sharing everywhere. */
    uint32_t memo_min_nodes;
    /* Inside a counted repetition, positions with at least this many copies
     * left share one mask walk (earley_canonical; token_mask.c): 2 + the
     * least depth with at most TOKEN_INDEX_COUNTED_MAX_NODES trie nodes one
     * byte below it, so that few tokens outrun it. Tests may change it; 0
     * turns the sharing off. */
    uint32_t counted_level;
};

#define TOKEN_INDEX_COUNTED_MAX_NODES 256u

#define TOKEN_INDEX_MEMO_MIN_NODES 16384u

/* Subtrees with at least this many tokens get a dense bitmap. */
#define TOKEN_INDEX_DENSE_MIN 256u

/* First sorted index after node i's subtree. */
static inline uint32_t token_index_subtree_end(const struct smc_token_index *ix, uint32_t i)
{
    uint32_t j = ix->node_skip[i];
    return j < ix->n_nodes ? ix->node_tok[j] : ix->n_sorted;
}

#endif
