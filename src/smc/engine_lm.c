/* engine_lm.c — smc_lm over the inference engine: a state is a KV sequence
 * of an smc_ctx plus the tokens not yet evaluated; forks share the sequence
 * (reference count) and split it with smc_seq_fork (shared KV blocks) on
 * the first extend; next_logits evaluates every distinct state's pending
 * tokens in one smc_decode batch and caches each state's logits. Tokens
 * hinted by lookahead (forced by the constraint) go into that same batch
 * as a chunk with logits at every position; extending by them later just
 * moves along the evaluated run. An optional prompt cache keeps the roots of
 * the last prompts: a prompt equal to one of them shares its state, one
 * sharing a prefix forks its KV and evaluates only the rest. */
#include "smcgen.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "smc/logmath.h"
#include "util/error.h"

/* Tokens hinted to follow a state (smc_lm.lookahead), shared by its forks.
 * Once evaluated, they sit in the KV sequence after the state's own tokens
 * and rows[j] holds the logits after toks[j]. */
typedef struct ahead_run {
    int refs;
    int32_t n;
    int32_t *toks;
    float *rows;            /* n × n_vocab; NULL until evaluated */
} ahead_run;

typedef struct eng_state {
    int refs;
    int32_t seq;
    int32_t *pending;       /* tokens appended but not yet decoded */
    int32_t n_pending, cap_pending;
    float *logits;          /* after the last decoded token; NULL until decoded */
    ahead_run *ahead;       /* NULL, or hinted tokens (ahead_pos < ahead->n) */
    int32_t ahead_pos;      /* of them, already part of this state (evaluated runs) */
    uint64_t stamp;         /* next_logits call that last listed it */
} eng_state;

/* Each state's evaluated lookahead rows are capped at this many bytes. */
#define AHEAD_BYTES ((size_t)8 << 20)

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
    /* Prompt cache: the roots of the last prompts, each with a reference. */
    struct cached_root {
        int32_t *toks;
        size_t n;
        eng_state *st;
        uint64_t used;
    } *cache;
    int n_cache;
    uint64_t clock;
    int64_t n_decoded, n_reused;
    int64_t n_passes;       /* smc_decode calls */
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

static void ahead_release(eng_state *s)
{
    ahead_run *a = s->ahead;
    s->ahead = NULL;
    s->ahead_pos = 0;
    if (a && --a->refs == 0) {
        free(a->toks);
        free(a->rows);
        free(a);
    }
}

static bool ahead_evaluated(const eng_state *s) { return s->ahead && s->ahead->rows; }

/* The logits after the state's last token (NULL: not decoded yet). */
static const float *current_row(const eng_lm *e, const eng_state *s)
{
    if (s->ahead_pos > 0)
        return s->ahead->rows + (size_t)(s->ahead_pos - 1) * (size_t)e->iface.n_vocab;
    return s->logits;
}

static void state_destroy(eng_lm *e, eng_state *s)
{
    if (s->seq >= 0)
        smc_seq_free(e->ctx, s->seq);
    ahead_release(s);
    free(s->pending);
    free(s->logits);
    free(s);
}

static void cache_drop(eng_lm *e, struct cached_root *c)
{
    if (c->st && --c->st->refs == 0)
        state_destroy(e, c->st);
    free(c->toks);
    memset(c, 0, sizeof *c);
}

/* The cached root sharing the longest prefix with prompt[0..n) whose KV
 * holds it, and that length (*len; *full: the same prompt). */
static struct cached_root *cache_find(eng_lm *e, const int32_t *prompt, size_t n, size_t *len,
                                      bool *full)
{
    struct cached_root *best = NULL;
    *len = 0;
    *full = false;
    for (int i = 0; i < e->n_cache; i++) {
        struct cached_root *c = &e->cache[i];
        if (!c->st)
            continue;
        size_t k = 0;
        while (k < n && k < c->n && c->toks[k] == prompt[k])
            k++;
        if (k == n && c->n == n) {
            *len = n;
            *full = true;
            return c;
        }
        size_t in_kv = c->n - (size_t)c->st->n_pending;
        if (k > in_kv)
            k = in_kv;
        if (k >= n)
            k = n - 1; /* the last prompt token is evaluated again for its logits */
        if (k > *len) {
            *len = k;
            best = c;
        }
    }
    return best;
}

/* Keeps a reference to the root of prompt[0..n) in place of the least
 * recently used entry. */
static void cache_put(eng_lm *e, const int32_t *prompt, size_t n, eng_state *st)
{
    struct cached_root *slot = &e->cache[0];
    for (int i = 0; i < e->n_cache; i++)
        if (!e->cache[i].st || e->cache[i].used < slot->used)
            slot = &e->cache[i];
    cache_drop(e, slot);
    if (!(slot->toks = malloc(sizeof *slot->toks * n)))
        return; /* not cached: no harm */
    memcpy(slot->toks, prompt, sizeof *slot->toks * n);
    slot->n = n;
    slot->st = st;
    st->refs++;
    slot->used = ++e->clock;
}

static int eng_root(void *self, const int32_t *prompt, size_t n, void **state, smc_error *err)
{
    eng_lm *e = self;
    if (n == 0)
        return smc_fail(err, "engine LM: the prompt is empty (start it with BOS)");
    for (size_t i = 0; i < n; i++)
        if (prompt[i] < 0 || prompt[i] >= e->iface.n_vocab)
            return smc_fail(err, "engine LM: prompt token %d out of range", (int)prompt[i]);
    size_t reuse = 0;
    bool full = false;
    struct cached_root *hit = e->n_cache ? cache_find(e, prompt, n, &reuse, &full) : NULL;
    if (hit && full) {
        hit->used = ++e->clock;
        hit->st->refs++;
        e->n_reused += (int64_t)n;
        *state = hit->st;
        return 0;
    }
    eng_state *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    s->refs = 1;
    s->seq = hit ? smc_seq_fork(e->ctx, hit->st->seq, err) : smc_seq_new(e->ctx, err);
    if (s->seq < 0) {
        free(s);
        return -1;
    }
    if (hit) {
        smc_seq_truncate(e->ctx, s->seq, (int32_t)reuse);
        hit->used = ++e->clock;
        e->n_reused += (int64_t)reuse;
    }
    for (size_t i = reuse; i < n; i++)
        if (push_pending(s, prompt[i]) < 0) {
            state_destroy(e, s);
            return smc_fail(err, "out of memory");
        }
    if (e->n_cache)
        cache_put(e, prompt, n, s);
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

/* A state of its own for one holder of the shared state *sp: a new
 * sequence sharing the KV (and the evaluated lookahead run, if any), the
 * same pending tokens. */
static int split_state(eng_lm *e, eng_state **sp, smc_error *err)
{
    eng_state *s = *sp;
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
    if (ahead_evaluated(s)) {
        c->ahead = s->ahead;
        c->ahead->refs++;
        c->ahead_pos = s->ahead_pos;
    }
    s->refs--;
    *sp = c;
    return 0;
}

/* Extends s (held only by the caller) along its evaluated lookahead run:
 * matching token, no evaluation; another token drops the rest of the run
 * from the KV. 1: done; 0: tok still has to be appended. */
static int follow_ahead(eng_lm *e, eng_state *s, int32_t tok, smc_error *err)
{
    ahead_run *a = s->ahead;
    size_t nv = (size_t)e->iface.n_vocab;
    if (tok != a->toks[s->ahead_pos]) {
        smc_seq_truncate(e->ctx, s->seq, smc_seq_len(e->ctx, s->seq) - (a->n - s->ahead_pos));
        ahead_release(s);
        return 0;
    }
    if (++s->ahead_pos < a->n) {
        free(s->logits);
        s->logits = NULL;
        return 1;
    }
    /* The run is used up: its last row becomes the state's own. */
    if (!s->logits && !(s->logits = malloc(sizeof *s->logits * nv)))
        return smc_fail(err, "out of memory");
    memcpy(s->logits, a->rows + (size_t)(a->n - 1) * nv, sizeof *s->logits * nv);
    ahead_release(s);
    return 1;
}

static int eng_extend(void *self, void **state, int32_t tok, smc_error *err)
{
    eng_lm *e = self;
    eng_state *s = *state;
    if (tok < 0 || tok >= e->iface.n_vocab)
        return smc_fail(err, "engine LM: token %d out of range", (int)tok);
    if (s->refs > 1 && split_state(e, &s, err) < 0)
        return -1;
    *state = s;
    if (ahead_evaluated(s)) {
        int rc = follow_ahead(e, s, tok, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    } else {
        ahead_release(s); /* an unevaluated hint was for the state before tok */
    }
    if (push_pending(s, tok) < 0)
        return smc_fail(err, "out of memory");
    free(s->logits);
    s->logits = NULL;
    return 0;
}

static int eng_lookahead(void *self, void *state, const int32_t *toks, size_t n, smc_error *err)
{
    eng_lm *e = self;
    eng_state *s = state;
    size_t cap = AHEAD_BYTES / (sizeof(float) * (size_t)e->iface.n_vocab);
    if (n > cap)
        n = cap > 0 ? cap : 1;
    if (n == 0 || s->ahead)
        return 0; /* no hint, or one already given (the same tokens) */
    for (size_t i = 0; i < n; i++)
        if (toks[i] < 0 || toks[i] >= e->iface.n_vocab)
            return smc_fail(err, "engine LM: lookahead token %d out of range", (int)toks[i]);
    ahead_run *a = calloc(1, sizeof *a);
    if (!a || !(a->toks = malloc(sizeof *a->toks * n))) {
        free(a);
        return smc_fail(err, "out of memory");
    }
    memcpy(a->toks, toks, sizeof *a->toks * n);
    a->n = (int32_t)n;
    a->refs = 1;
    s->ahead = a;
    s->ahead_pos = 0;
    return 0;
}

/* Does s need evaluating: pending tokens, or a hint not yet evaluated. */
static bool needs_decode(const eng_state *s) { return s->n_pending > 0 || (s->ahead && !s->ahead->rows); }

static int grow_entries(eng_lm *e, int32_t n, smc_error *err)
{
    if (n <= e->cap_entries)
        return 0;
    smc_batch_entry *b = realloc(e->entries, sizeof *b * (size_t)n);
    if (!b)
        return smc_fail(err, "out of memory");
    e->entries = b;
    e->cap_entries = n;
    return 0;
}

/* One smc_decode of the listed states' pending tokens (logits after the
 * last) and hinted runs (logits after each). */
static int decode_states(eng_lm *e, int32_t nu, smc_error *err)
{
    size_t nv = (size_t)e->iface.n_vocab;
    int32_t n_entries = 0, n_rows = 0;
    for (int32_t u = 0; u < nu; u++) {
        eng_state *s = e->uniq[u];
        int32_t na = s->ahead && !s->ahead->rows ? s->ahead->n : 0;
        n_entries += s->n_pending + na;
        n_rows += (s->n_pending > 0) + na;
    }
    if (grow_entries(e, n_entries, err) < 0)
        return -1;
    int32_t k = 0;
    for (int32_t u = 0; u < nu; u++) {
        eng_state *s = e->uniq[u];
        for (int32_t j = 0; j < s->n_pending; j++)
            e->entries[k++] = (smc_batch_entry){.seq = s->seq, .token = s->pending[j],
                                                .want_logits = j == s->n_pending - 1};
        for (int32_t j = 0; s->ahead && !s->ahead->rows && j < s->ahead->n; j++)
            e->entries[k++] = (smc_batch_entry){.seq = s->seq, .token = s->ahead->toks[j],
                                                .want_logits = true};
    }
    smc_batch batch = {e->entries, k};
    if (smc_decode(e->ctx, &batch, err) < 0)
        return -1;
    e->n_decoded += k;
    e->n_passes++;
    if (smc_n_logits(e->ctx) != n_rows)
        return smc_fail(err, "engine LM: decode returned %d logit rows, %d expected",
                        (int)smc_n_logits(e->ctx), (int)n_rows);
    int32_t r = 0;
    for (int32_t u = 0; u < nu; u++) {
        eng_state *s = e->uniq[u];
        if (s->n_pending > 0) {
            if (!s->logits && !(s->logits = malloc(sizeof *s->logits * nv)))
                return smc_fail(err, "out of memory");
            memcpy(s->logits, smc_logits(e->ctx, r++), sizeof *s->logits * nv);
            s->n_pending = 0;
        }
        ahead_run *a = s->ahead;
        if (a && !a->rows) {
            if (!(a->rows = malloc(sizeof *a->rows * nv * (size_t)a->n)))
                return smc_fail(err, "out of memory");
            for (int32_t j = 0; j < a->n; j++)
                memcpy(a->rows + (size_t)j * nv, smc_logits(e->ctx, r++), sizeof *a->rows * nv);
        }
    }
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
    int32_t nu = 0;
    for (size_t i = 0; i < n; i++) {
        /* (stamp marks the states already listed in this call) */
        eng_state *s = states[i];
        if (s->n_pending == 0 && !current_row(e, s))
            return smc_fail(err, "engine LM: a state has no token to predict from");
        if (needs_decode(s) && s->stamp != stamp) {
            s->stamp = stamp;
            e->uniq[nu++] = s;
        }
    }
    if (nu > 0 && decode_states(e, nu, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        memcpy(logits + i * nv, current_row(e, states[i]), sizeof *logits * nv);
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
                        .extend = eng_extend, .next_logits = eng_next_logits,
                        .lookahead = eng_lookahead};
    *out = &e->iface;
    return 0;
}

int smc_engine_lm_set_prompt_cache(smc_lm *lm, int n, smc_error *err)
{
    eng_lm *e = lm->self;
    if (n < 0 || n > 64)
        return smc_fail(err, "engine LM: prompt cache of %d entries (0..64)", n);
    for (int i = 0; i < e->n_cache; i++)
        cache_drop(e, &e->cache[i]);
    free(e->cache);
    e->cache = NULL;
    e->n_cache = 0;
    if (n > 0 && !(e->cache = calloc((size_t)n, sizeof *e->cache)))
        return smc_fail(err, "out of memory");
    e->n_cache = n;
    return 0;
}

void smc_engine_lm_counts(const smc_lm *lm, int64_t *decoded, int64_t *reused)
{
    const eng_lm *e = lm->self;
    if (decoded)
        *decoded = e->n_decoded;
    if (reused)
        *reused = e->n_reused;
}

int64_t smc_engine_lm_passes(const smc_lm *lm) { return ((const eng_lm *)lm->self)->n_passes; }

void smc_engine_lm_free(smc_lm *lm)
{
    if (!lm)
        return;
    eng_lm *e = lm->self;
    smc_engine_lm_set_prompt_cache(lm, 0, NULL);
    free(e->entries);
    free(e->uniq);
    free(e->eog_more);
    free(e);
}
