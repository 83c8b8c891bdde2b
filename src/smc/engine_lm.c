/* engine_lm.c — smc_lm over the inference engine: a state is a KV sequence
 * of an smc_ctx plus the tokens not yet evaluated; forks share the sequence
 * (reference count) and split it with smc_seq_fork (shared KV blocks) on
 * the first extend; next_logits evaluates every distinct state's pending
 * tokens in one smc_decode batch and caches each state's logits. */
#include "smcgen.h"

#include <stdlib.h>
#include <string.h>

#include "smc/logmath.h"
#include "util/error.h"

typedef struct eng_state {
    int refs;
    int32_t seq;
    int32_t *pending;       /* tokens appended but not yet decoded */
    int32_t n_pending, cap_pending;
    float *logits;          /* after the last decoded token; NULL until decoded */
    uint64_t stamp;         /* next_logits call that last listed it */
} eng_state;

typedef struct eng_lm {
    smc_lm iface;
    smc_ctx *ctx;
    const smc_vocab *vocab;
    int32_t n_vocab_text;   /* tokens the vocabulary knows (<= n_vocab) */
    smc_batch_entry *entries;
    int32_t cap_entries;
    eng_state **uniq;
    int32_t cap_uniq;
    uint64_t calls;
    int32_t *eog_more;      /* other end-of-generation ids, folded into EOS */
    size_t n_eog_more;
} eng_lm;

static smc_str eng_token_bytes(void *self, int32_t tok)
{
    eng_lm *e = self;
    if (tok < 0 || tok >= e->n_vocab_text || tok == e->iface.eos)
        return (smc_str){"", 0};
    return smc_vocab_token_bytes(e->vocab, tok);
}

static int push_pending(eng_state *s, int32_t tok)
{
    if (s->n_pending == s->cap_pending) {
        int32_t cap = s->cap_pending ? 2 * s->cap_pending : 8;
        int32_t *p = realloc(s->pending, sizeof *p * (size_t)cap);
        if (!p)
            return -1;
        s->pending = p;
        s->cap_pending = cap;
    }
    s->pending[s->n_pending++] = tok;
    return 0;
}

static void state_destroy(eng_lm *e, eng_state *s)
{
    if (s->seq >= 0)
        smc_seq_free(e->ctx, s->seq);
    free(s->pending);
    free(s->logits);
    free(s);
}

static int eng_root(void *self, const int32_t *prompt, size_t n, void **state, smc_error *err)
{
    eng_lm *e = self;
    if (n == 0)
        return smc_fail(err, "engine LM: the prompt is empty (start it with BOS)");
    eng_state *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    s->refs = 1;
    s->seq = smc_seq_new(e->ctx, err);
    if (s->seq < 0) {
        free(s);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (prompt[i] < 0 || prompt[i] >= e->iface.n_vocab) {
            state_destroy(e, s);
            return smc_fail(err, "engine LM: prompt token %d out of range", (int)prompt[i]);
        }
        if (push_pending(s, prompt[i]) < 0) {
            state_destroy(e, s);
            return smc_fail(err, "out of memory");
        }
    }
    *state = s;
    return 0;
}

static void *eng_fork(void *self, void *state)
{
    (void)self;
    ((eng_state *)state)->refs++;
    return state;
}

static void eng_release(void *self, void *state)
{
    eng_state *s = state;
    if (--s->refs == 0)
        state_destroy(self, s);
}

static int eng_extend(void *self, void **state, int32_t tok, smc_error *err)
{
    eng_lm *e = self;
    eng_state *s = *state;
    if (tok < 0 || tok >= e->iface.n_vocab)
        return smc_fail(err, "engine LM: token %d out of range", (int)tok);
    if (s->refs > 1) {
        /* Split: a new sequence sharing the decoded KV, same pending tokens. */
        eng_state *c = calloc(1, sizeof *c);
        if (!c)
            return smc_fail(err, "out of memory");
        c->refs = 1;
        c->seq = smc_seq_fork(e->ctx, s->seq, err);
        if (c->seq < 0) {
            free(c);
            return -1;
        }
        for (int32_t i = 0; i < s->n_pending; i++)
            if (push_pending(c, s->pending[i]) < 0) {
                state_destroy(e, c);
                return smc_fail(err, "out of memory");
            }
        s->refs--;
        s = c;
    }
    if (push_pending(s, tok) < 0)
        return smc_fail(err, "out of memory");
    free(s->logits);
    s->logits = NULL;
    *state = s;
    return 0;
}

static int eng_next_logits(void *self, void *const *states, size_t n, float *logits,
                           smc_error *err)
{
    eng_lm *e = self;
    size_t nv = (size_t)e->iface.n_vocab;
    /* Distinct states that need decoding (several particles may share one). */
    if ((int32_t)n > e->cap_uniq) {
        eng_state **u = realloc(e->uniq, sizeof *u * n);
        if (!u)
            return smc_fail(err, "out of memory");
        e->uniq = u;
        e->cap_uniq = (int32_t)n;
    }
    uint64_t stamp = ++e->calls;
    int32_t nu = 0, n_entries = 0;
    for (size_t i = 0; i < n; i++) {
        /* (stamp marks the states already listed in this call) */
        eng_state *s = states[i];
        if (s->n_pending == 0 && !s->logits)
            return smc_fail(err, "engine LM: a state has no token to predict from");
        if (s->n_pending == 0)
            continue;
        if (s->stamp != stamp) {
            s->stamp = stamp;
            e->uniq[nu++] = s;
            n_entries += s->n_pending;
        }
    }
    if (nu > 0) {
        if (n_entries > e->cap_entries) {
            smc_batch_entry *b = realloc(e->entries, sizeof *b * (size_t)n_entries);
            if (!b)
                return smc_fail(err, "out of memory");
            e->entries = b;
            e->cap_entries = n_entries;
        }
        int32_t k = 0;
        for (int32_t u = 0; u < nu; u++)
            for (int32_t j = 0; j < e->uniq[u]->n_pending; j++)
                e->entries[k++] = (smc_batch_entry){.seq = e->uniq[u]->seq,
                                                    .token = e->uniq[u]->pending[j],
                                                    .want_logits = j == e->uniq[u]->n_pending - 1};
        smc_batch batch = {e->entries, k};
        if (smc_decode(e->ctx, &batch, err) < 0)
            return -1;
        if (smc_n_logits(e->ctx) != nu)
            return smc_fail(err, "engine LM: decode returned %d logit rows for %d sequences",
                            (int)smc_n_logits(e->ctx), (int)nu);
        for (int32_t u = 0; u < nu; u++) {
            eng_state *s = e->uniq[u];
            if (!s->logits && !(s->logits = malloc(sizeof *s->logits * nv)))
                return smc_fail(err, "out of memory");
            memcpy(s->logits, smc_logits(e->ctx, u), sizeof *s->logits * nv);
            s->n_pending = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(logits + i * nv, ((eng_state *)states[i])->logits, sizeof *logits * nv);
        smc_fold_logits(logits + i * nv, e->iface.eos, e->eog_more, e->n_eog_more);
    }
    return 0;
}

int smc_engine_lm_new(const smc_model *model, smc_ctx *ctx, const smc_vocab *vocab, int32_t eos,
                      smc_lm **out, smc_error *err)
{
    *out = NULL;
    if (!model || !ctx || !vocab)
        return smc_fail(err, "engine LM: model, context and vocabulary are required");
    int32_t nv = smc_model_n_vocab(model);
    if (eos < 0)
        eos = smc_vocab_eos(vocab);
    if (eos < 0 || eos >= nv)
        return smc_fail(err, "engine LM: no usable EOS token (%d of %d)", (int)eos, (int)nv);
    eng_lm *e = calloc(1, sizeof *e);
    if (!e)
        return smc_fail(err, "out of memory");
    e->ctx = ctx;
    e->vocab = vocab;
    /* Every end-of-generation token (EOT, EOM, <|im_end|>, ...) ends a
     * particle: its mass goes to EOS. */
    for (int32_t v = 0; v < nv && v < smc_vocab_n_tokens(vocab); v++) {
        if (v == eos || !smc_vocab_is_eog(vocab, v))
            continue;
        int32_t *grown = realloc(e->eog_more, sizeof *grown * (e->n_eog_more + 1));
        if (!grown) {
            free(e->eog_more);
            free(e);
            return smc_fail(err, "out of memory");
        }
        e->eog_more = grown;
        e->eog_more[e->n_eog_more++] = v;
    }
    e->n_vocab_text = smc_vocab_n_tokens(vocab);
    if (e->n_vocab_text > nv)
        e->n_vocab_text = nv;
    e->iface = (smc_lm){.self = e, .n_vocab = nv, .eos = eos, .token_bytes = eng_token_bytes,
                        .root = eng_root, .fork = eng_fork, .release = eng_release,
                        .extend = eng_extend, .next_logits = eng_next_logits};
    *out = &e->iface;
    return 0;
}

void smc_engine_lm_free(smc_lm *lm)
{
    if (!lm)
        return;
    eng_lm *e = lm->self;
    free(e->entries);
    free(e->uniq);
    free(e->eog_more);
    free(e);
}
