/* token_mask.c — token-level operations: advance by a token, the allowed-token
 * mask (vocabulary trie walked against the memoised Earley automaton, dead
 * subtrees skipped, whole looping subtrees ORed in as memoised unions, the
 * context-independent part of a walk shared between states through their
 * abstract sets, result cached per state and index), and the fused masked
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

/* The walk is recursive over trie nodes. visit() steps the state at a
 * node's parent by the node's byte and sets the tokens ending there; a
 * subtree whose every byte loops back to the state reached is taken whole
 * (gathered per parent, see flush_taken); nodes with large subtrees go
 * through memo_visit, which shares their result between contexts.
 *
 * Sharing (see earley_abstract in earley.h): the tokens below a node that
 * are viable from a state depend on the state's context only through the
 * "pops" of its abstract set. memo_visit walks the subtree once from the
 * abstract set, keeping the tokens found viable and the nodes left
 * undecided (dead after a pop), memoised per (node, abstract set); every
 * state with that abstraction then ORs the tokens in and walks only the
 * undecided nodes from the real state. The walk from an abstract set marks
 * a node undecided when it dies with a pop anywhere on its path (`popped`),
 * and uses memo_visit itself only where nothing popped yet.
 *
 * Counted repetitions (earley_counted.c): inside x{m,n} with k >= C copies
 * still allowed (C = ix->counted_level), the abstract set is replaced by its
 * canonical shift to C copies (earley_canonical), so all those positions
 * share one memo: what is alive from the shift is alive from each of them,
 * what dies there without a pop dies alike, and a path that reads a whole
 * copy of x pops (see earley.h), leaving its death undecided. */

#define WALK_ROOT UINT32_MAX
/* Longest token the (recursive) walk accepts. */
#define WALK_MAX_DEPTH 4096u
/* The root goes through memo_visit when the trie has this many nodes (or
 * ix->memo_min_nodes, when smaller); other nodes from ix->memo_min_nodes. */
#define MEMO_ROOT_MIN_NODES 64u
/* Unions below this many tokens are set directly, not memoised. */
#define UNION_MEMO_MIN 256u

/* A memo whose subtree leaves more undecided nodes than this is not worth
 * keeping: that (node, abstract set) is walked from the real state when it
 * comes back. */
#define MEMO_MAX_UNDECIDED 256u
/* The same for the shared walk of a counted repetition's positions
 * (earley_canonical), which stands for many states, and for the walks of
 * its positions with fewer than C copies left (one abstract set per count,
 * met again in every literal): tokens that leave the repetition (a
 * string's closing quote and what follows) are undecided. */
#define MEMO_MAX_UNDECIDED_COUNTED 8192u

typedef struct ulist {
    uint32_t *v;
    size_t n, cap;
} ulist;

typedef struct walker {
    const smc_grammar *g;
    const smc_token_index *ix;
    const uint8_t *cls;
    size_t words;
    uint64_t limit, visited, work0;
    smc_error *err;
    uint32_t *taken;   /* whole subtrees taken, pending per parent (a stack) */
    size_t n_taken, cap_taken;
} walker;

static int push_u32(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        uint32_t *nv = realloc(*v, c * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return 0;
}

static int oom(walker *w) { return smc_fail(w->err, "out of memory computing a token mask"); }

static int over_limit(walker *w)
{
    return smc_fail(w->err,
                    "token mask: work limit of %llu exceeded (trie nodes visited plus Earley items processed); "
                    "raise it with smc_matcher_set_limit",
                    (unsigned long long)w->limit);
}

static inline bool limit_hit(const walker *w)
{
    return w->limit && w->visited + (earley_work(w->g) - w->work0) > w->limit;
}

static uint32_t tokens_below(const smc_token_index *ix, uint32_t i)
{
    return token_index_subtree_end(ix, i) - ix->node_tok[i];
}

/* ORs the whole subtrees taken since `start` (all children of `parent`,
 * their bytes child_bytes) into bits, through the grammar's memo of such
 * unions when they are large, and pops them. */
static int flush_taken(walker *w, uint32_t parent, size_t start, const uint64_t child_bytes[4], uint32_t n_tokens,
                       uint32_t *bits)
{
    if (w->n_taken == start)
        return 0;
    const smc_token_index *ix = w->ix;
    uint32_t *target = bits, *fresh = NULL;
    if (n_tokens >= UNION_MEMO_MIN) {
        const uint32_t *u = earley_subtree_union(w->g, ix->uid, parent, child_bytes);
        if (u) {
            or_words(bits, u, w->words);
            w->n_taken = start;
            return 0;
        }
        fresh = malloc(w->words * sizeof *fresh);   /* filled below */
        if (!fresh)
            return oom(w);
        target = fresh;
    }
    const uint32_t *all = parent == WALK_ROOT                     ? ix->all_bits
                          : ix->node_dense[parent] != UINT32_MAX ? ix->dense_bits + (size_t)ix->node_dense[parent] * w->words
                                                                 : NULL;
    uint32_t total = parent == WALK_ROOT ? ix->n_sorted : tokens_below(ix, parent);
    if (fresh && all && (uint64_t)n_tokens * 2 > total) {
        /* most of the parent's tokens: its bitmap less the rest */
        memcpy(fresh, all, w->words * sizeof *fresh);
        uint32_t c = parent == WALK_ROOT ? 0 : parent + 1, end = parent == WALK_ROOT ? ix->n_nodes : ix->node_skip[parent];
        if (parent != WALK_ROOT)
            for (uint32_t t = ix->node_tok[parent]; t < ix->node_tok_end[parent]; t++)
                fresh[ix->sorted[t] >> 5] &= ~(1u << (ix->sorted[t] & 31));
        for (; c < end; c = ix->node_skip[c]) {
            if (child_bytes[ix->node_byte[c] >> 6] >> (ix->node_byte[c] & 63) & 1)
                continue;
            for (uint32_t t = ix->node_tok[c], e = token_index_subtree_end(ix, c); t < e; t++)
                fresh[ix->sorted[t] >> 5] &= ~(1u << (ix->sorted[t] & 31));
        }
    } else {
        if (fresh)
            memset(fresh, 0, w->words * sizeof *fresh);
        for (size_t k = start; k < w->n_taken; k++)
            add_subtree(ix, w->taken[k], target);
    }
    if (fresh) {
        or_words(bits, fresh, w->words);
        if (!earley_subtree_union_add(w->g, ix->uid, parent, child_bytes, fresh, w->words * sizeof *fresh))
            free(fresh);
    }
    w->n_taken = start;
    return 0;
}

static int visit(walker *w, uint32_t i, eset *from, bool popped, uint32_t *bits, ulist *unc);
static int memo_visit(walker *w, uint32_t i, eset *to, uint32_t *bits, ulist *unc);

/* Visits child c; when its whole subtree is allowed, records it as taken
 * (its byte in child_bytes, its tokens counted) for flush_taken. -1 on
 * error (the taken list rewound to start). */
static int visit_child(walker *w, uint32_t c, eset *from, bool popped, uint32_t *bits, ulist *unc, size_t start,
                       uint64_t child_bytes[4], uint32_t *n_tokens)
{
    const smc_token_index *ix = w->ix;
    int r = visit(w, c, from, popped, bits, unc);
    if (r < 0) {
        w->n_taken = start;
        return r;
    }
    if (r == 1) {
        if (push_u32(&w->taken, &w->n_taken, &w->cap_taken, c) != 0)
            return oom(w);
        child_bytes[ix->node_byte[c] >> 6] |= 1ull << (ix->node_byte[c] & 63);
        *n_tokens += tokens_below(ix, c);
    }
    return 0;
}

/* Visits the children of node i (WALK_ROOT: the top-level nodes) from state
 * `to`, the state at i. */
static int children(walker *w, uint32_t i, eset *to, bool popped, uint32_t *bits, ulist *unc)
{
    const smc_token_index *ix = w->ix;
    uint32_t c = i == WALK_ROOT ? 0 : i + 1, end = i == WALK_ROOT ? ix->n_nodes : ix->node_skip[i];
    size_t start = w->n_taken;
    uint64_t child_bytes[4] = {0};
    uint32_t n_tokens = 0;
    for (; c < end; c = ix->node_skip[c]) {
        if (!popped && !ir_byteset_has(&to->first, ix->node_byte[c])) {
            w->visited++;   /* no item scans the byte: dead (decided when nothing popped) */
            continue;
        }
        if (visit_child(w, c, to, popped, bits, unc, start, child_bytes, &n_tokens) != 0)
            return -1;
    }
    return flush_taken(w, i, start, child_bytes, n_tokens, bits);
}

/* Node i from its parent's state. 1: its whole subtree is viable (the
 * caller gathers it), 0: done, -1: error. */
static int visit(walker *w, uint32_t i, eset *from, bool popped, uint32_t *bits, ulist *unc)
{
    const smc_token_index *ix = w->ix;
    unsigned char byte = ix->node_byte[i];
    unsigned k = w->cls[byte];
    eset *to;
    w->visited++;
    if (from->next && from->next[k]) {
        to = from->next[k];
        popped |= from->pop[k >> 6] >> (k & 63) & 1;
    } else if (!ir_byteset_has(&from->first, byte)) {
        to = &earley_dead;
    } else {
        bool p = false;
        to = earley_step_pop(w->g, from, byte, &p);
        if (!to)
            return oom(w);
        popped |= p;
        if (limit_hit(w))
            return over_limit(w);
    }
    if ((w->visited & 1023) == 0 && limit_hit(w))
        return over_limit(w);
    if (to == &earley_dead) {
        if (!popped)
            return 0;
        if (push_u32(&unc->v, &unc->n, &unc->cap, i) != 0)
            return oom(w);
        return 0;
    }
    if (ix->node_skip[i] == i + 1) {   /* a leaf */
        for (uint32_t t = ix->node_tok[i]; t < ix->node_tok_end[i]; t++)
            bits[ix->sorted[t] >> 5] |= 1u << (ix->sorted[t] & 31);
        return 0;
    }
    /* Self-loop shortcut: when every byte below this node leads from the
     * state reached here back to itself (the body of a string or an
     * identifier), the whole subtree is viable. Loop answers are
     * remembered per state. */
    int loops = earley_loops_on(w->g, to, ix->node_sub[i]);
    if (loops < 0)
        return oom(w);
    if (loops) {
        w->visited += tokens_below(ix, i);
        return 1;
    }
    for (uint32_t t = ix->node_tok[i]; t < ix->node_tok_end[i]; t++)
        bits[ix->sorted[t] >> 5] |= 1u << (ix->sorted[t] & 31);
    if (!popped && ix->node_skip[i] - i >= ix->memo_min_nodes)
        return memo_visit(w, i, to, bits, unc);
    return children(w, i, to, popped, bits, unc);
}

/* Stores a memo for (node, abstract set a) from a dense result; false
 * (keeping nothing) when over budget. */
static bool memo_store(walker *w, eset *a, uint32_t node, const uint32_t *dense, const ulist *u)
{
    uint32_t nz = 0;
    for (size_t k = 0; k < w->words; k++)
        nz += dense[k] != 0;
    bool sparse = (size_t)nz * 3 < w->words;
    size_t bytes = sizeof(enmemo) + u->n * sizeof(uint32_t) + (sparse ? 2 * (size_t)nz : w->words) * sizeof(uint32_t);
    if (!earley_mask_budget(w->g, bytes))
        return false;
    enmemo *m = calloc(1, sizeof *m);
    if (!m)
        return false;
    m->index_uid = w->ix->uid;
    m->node = node;
    m->n_unc = (uint32_t)u->n;
    m->unc = malloc((u->n ? u->n : 1) * sizeof *m->unc);
    if (sparse) {
        m->n_words = nz;
        m->idx = malloc((nz ? nz : 1) * sizeof *m->idx);
        m->bits = malloc((nz ? nz : 1) * sizeof *m->bits);
    } else {
        m->n_words = (uint32_t)w->words;
        m->bits = malloc(w->words * sizeof *m->bits);
    }
    if (!m->unc || !m->bits || (sparse && !m->idx)) {
        free(m->unc);
        free(m->idx);
        free(m->bits);
        free(m);
        return false;
    }
    if (u->n)
        memcpy(m->unc, u->v, u->n * sizeof *m->unc);
    if (sparse) {
        uint32_t j = 0;
        for (size_t k = 0; k < w->words; k++)
            if (dense[k]) {
                m->idx[j] = (uint32_t)k;
                m->bits[j++] = dense[k];
            }
    } else {
        memcpy(m->bits, dense, w->words * sizeof *m->bits);
    }
    m->next = a->nmemo;
    a->nmemo = m;
    return true;
}

static void memo_store_useless(walker *w, eset *a, uint32_t node)
{
    if (!earley_mask_budget(w->g, sizeof(enmemo)))
        return;
    enmemo *m = calloc(1, sizeof *m);
    if (!m)
        return;
    m->index_uid = w->ix->uid;
    m->node = node;
    m->useless = true;
    m->next = a->nmemo;
    a->nmemo = m;
}

static const enmemo *memo_find(const eset *a, uint64_t uid, uint32_t node)
{
    for (const enmemo *m = a->nmemo; m; m = m->next)
        if (m->node == node && m->index_uid == uid)
            return m;
    return NULL;
}

/* Walks undecided nodes (in trie order) from `to`, the state at node i:
 * those sharing a parent from one state (stepped from `to` along the
 * parent's path), their whole subtrees gathered per parent. */
static int walk_undecided(walker *w, uint32_t i, eset *to, const uint32_t *nodes, size_t n, uint32_t *bits,
                          ulist *unc)
{
    const smc_token_index *ix = w->ix;
    uint32_t depth = i == WALK_ROOT ? 0 : ix->node_depth[i];
    /* the states along the last parent's path below i (st[j]: after j
     * bytes, pop[j]: a pop on the way): the nodes come in trie order, so
     * the next parent's path mostly starts the same */
    uint32_t span = ix->max_depth - depth + 1, have = 0;   /* st[0..have] known, for path_prev */
    eset **st = malloc(span * sizeof *st);
    bool *pop = malloc(span * sizeof *pop);
    const unsigned char *path_prev = NULL;
    int rc = 0;
    if (!st || !pop) {
        free(st);
        free(pop);
        return oom(w);
    }
    st[0] = to;
    pop[0] = false;
    for (size_t k = 0; k < n && rc == 0;) {
        uint32_t parent = ix->node_parent[nodes[k]];
        /* the state at the parent, from `to` along the parent's path */
        const unsigned char *path = (const unsigned char *)ix->blob + ix->tok_off[ix->sorted[ix->node_tok[nodes[k]]]];
        uint32_t len = ix->node_depth[nodes[k]] - 1 - depth, j = 0;   /* the parent's path below i */
        while (j < have && j < len && path_prev[depth + j] == path[depth + j])
            j++;
        for (; j < len && st[j] != &earley_dead; j++) {
            bool p = false;
            st[j + 1] = earley_step_pop(w->g, st[j], path[depth + j], &p);
            if (!st[j + 1]) {
                have = 0;
                rc = oom(w);
                break;
            }
            pop[j + 1] = pop[j] || p;
        }
        if (rc)
            break;
        have = j;
        path_prev = path;
        eset *s = st[j];
        bool popped = pop[j];
        if (s == &earley_dead) {
            rc = smc_fail(w->err, "token mask: internal error (an abstract path is dead in its context)");
            break;
        }
        size_t start = w->n_taken;
        uint64_t child_bytes[4] = {0};
        uint32_t n_tokens = 0;
        for (; k < n && ix->node_parent[nodes[k]] == parent && rc == 0; k++)
            rc = visit_child(w, nodes[k], s, popped, bits, unc, start, child_bytes, &n_tokens) != 0 ? -1 : 0;
        /* a union of only some of parent's children: keyed by their bytes */
        if (rc == 0)
            rc = flush_taken(w, parent, start, child_bytes, n_tokens, bits);
    }
    free(st);
    free(pop);
    return rc;
}

/* The tokens strictly below node i (or all, for WALK_ROOT), `to` being the
 * (real or abstract, with nothing popped on its path) state at i: the
 * viable ones from the memo of (i, abstract(to)), computed on first use,
 * then the undecided ones walked from `to`. */
static int memo_visit(walker *w, uint32_t i, eset *to, uint32_t *bits, ulist *unc)
{
    const smc_token_index *ix = w->ix;
    eset *a = earley_abstract(w->g, to);
    if (!a)
        return oom(w);
    size_t max_unc = MEMO_MAX_UNDECIDED;
    if (a != to && ix->counted_level) {   /* a real state in a counted repetition */
        eset *canon = NULL;
        int r = earley_canonical(w->g, a, ix->counted_level, &canon);
        if (r < 0)
            return oom(w);
        if (r) {
            a = canon;
            max_unc = MEMO_MAX_UNDECIDED_COUNTED;
        } else if (a->counted_low) {
            /* fewer than C copies left: a set of its own per count, but
             * shared by every context at that count (another literal,
             * another particle); its tokens that leave the repetition are
             * undecided, often more than MEMO_MAX_UNDECIDED */
            max_unc = MEMO_MAX_UNDECIDED_COUNTED;
        }
    }
    const enmemo *m = memo_find(a, ix->uid, i);
    if (m && m->useless)
        return children(w, i, to, false, bits, unc);
    if (a == to) {
        /* an abstract state (or one with no context): walk it; what is
         * undecided here is undecided for the caller too */
        if (m) {
            earley_count_memo_hit(w->g);
            if (m->idx) {
                for (uint32_t k = 0; k < m->n_words; k++)
                    bits[m->idx[k]] |= m->bits[k];
            } else {
                or_words(bits, m->bits, w->words);
            }
            for (uint32_t k = 0; k < m->n_unc; k++)
                if (push_u32(&unc->v, &unc->n, &unc->cap, m->unc[k]) != 0)
                    return oom(w);
            return 0;
        }
    }
    if (m) {
        earley_count_memo_hit(w->g);
        if (m->idx) {
            for (uint32_t k = 0; k < m->n_words; k++)
                bits[m->idx[k]] |= m->bits[k];
        } else {
            or_words(bits, m->bits, w->words);
        }
        return walk_undecided(w, i, to, m->unc, m->n_unc, bits, unc);
    }
    uint32_t *fresh = calloc(w->words, sizeof *fresh);
    ulist mu = {0};
    if (!fresh)
        return oom(w);
    int rc = children(w, i, a, false, fresh, &mu);
    if (rc == 0) {
        or_words(bits, fresh, w->words);
        if (mu.n > max_unc)
            memo_store_useless(w, a, i);   /* not worth it next time */
        else
            memo_store(w, a, i, fresh, &mu);
        if (a == to) {
            for (size_t k = 0; k < mu.n && rc == 0; k++)
                if (push_u32(&unc->v, &unc->n, &unc->cap, mu.v[k]) != 0)
                    rc = oom(w);
        } else {
            rc = walk_undecided(w, i, to, mu.v, mu.n, bits, unc);
        }
    }
    free(fresh);
    free(mu.v);
    return rc;
}

/* Walks the trie from state s; fills bits (zeroed by the caller). Lock held. */
static int walk(const smc_grammar *g, eset *s, const smc_token_index *ix, uint32_t *bits, uint64_t limit,
                smc_error *err)
{
    if (ix->max_depth > WALK_MAX_DEPTH)   /* the walk recurses once per byte */
        return smc_fail(err, "token mask: tokens longer than %u bytes are not supported (the vocabulary has one of %u)",
                        WALK_MAX_DEPTH, ix->max_depth);
    walker w = {.g = g,
                .ix = ix,
                .cls = earley_byte_classes(g),
                .words = smc_token_mask_words(ix),
                .limit = limit,
                .work0 = earley_work(g),
                .err = err};
    ulist unc = {0};
    bool memo_root = ix->n_nodes >= MEMO_ROOT_MIN_NODES || ix->n_nodes >= ix->memo_min_nodes;
    int rc = memo_root ? memo_visit(&w, WALK_ROOT, s, bits, &unc) : children(&w, WALK_ROOT, s, false, bits, &unc);
    if (rc == 0 && unc.n)   /* a real state has no unknown context */
        rc = smc_fail(err, "token mask: internal error (undecided tokens from a real state)");
    free(unc.v);
    free(w.taken);
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
