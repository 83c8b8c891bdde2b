/* batcher.c — one engine batch per step for all running requests. Every
 * call of the shared LM takes one lock (the engine context is not thread
 * safe). A next_logits call leaves a ticket and waits; when every running
 * request has a ticket waiting, or the oldest ticket has waited gather_ms
 * (a request may be busy in its critic), the thread that notices decodes all
 * tickets' states in one inner next_logits call (one smc_decode) and hands
 * each its rows. If that batch fails (e.g. one request overflows the KV
 * budget), the prompt caches are emptied (their KV may be what it lacked)
 * and it is tried again; if it fails still, each ticket is retried alone so
 * only the culprit fails.
 * Prompts are shared while requests run: a request whose prompt equals, or
 * extends, the prompt of one started earlier (still cached) forks that state
 * instead of computing the prompt again; this cache is emptied whenever no
 * request is running. Across idle periods the inner LM's own bounded prompt
 * cache (if any; counted through reuse_counter) keeps the last prompts. */
#include "server/batcher.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/error.h"

typedef struct ticket {
    void *const *states;
    size_t n;
    float *logits;
    bool done;
    int rc;
    smc_error err;
    double since;
    struct ticket *next;
} ticket;

#define PROMPT_CACHE 8

typedef struct cached_prompt {
    int32_t *tokens;
    size_t n;
    void *state;              /* a reference held by the cache */
    uint64_t used;
} cached_prompt;

struct batcher {
    smc_lm iface;
    cached_prompt cache[PROMPT_CACHE];
    uint64_t clock;
    const smc_lm *inner;
    smc_ctx *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ticket *pending;
    int n_pending;
    int running;
    bool deciding;
    double gather_s;
    void **all;
    size_t cap_all;
    float *buf;
    size_t cap_buf;
    batcher_stats st;
    void (*counts)(const smc_lm *inner, int64_t *decoded, int64_t *reused);
    void (*relieve)(void *ud);
    void *relieve_ud;
};

static int64_t inner_reused(const batcher *b)
{
    int64_t reused = 0;
    if (b->counts)
        b->counts(b->inner, NULL, &reused);
    return reused;
}

static _Thread_local size_t thread_prompt_reused;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static smc_str b_token_bytes(void *self, int32_t tok)
{
    batcher *b = self;
    return b->inner->token_bytes(b->inner->self, tok); /* read-only: no lock */
}

static void cache_clear(batcher *b)
{
    for (int i = 0; i < PROMPT_CACHE; i++) {
        cached_prompt *c = &b->cache[i];
        if (c->state)
            b->inner->release(b->inner->self, c->state);
        free(c->tokens);
        memset(c, 0, sizeof *c);
    }
}

/* Remembers state as the state after prompt (b->mu held). */
static void cache_put(batcher *b, const int32_t *prompt, size_t n, void *state)
{
    cached_prompt *slot = &b->cache[0];
    for (int i = 0; i < PROMPT_CACHE; i++) {
        if (!b->cache[i].state) {
            slot = &b->cache[i];
            break;
        }
        if (b->cache[i].used < slot->used)
            slot = &b->cache[i];
    }
    int32_t *copy = malloc(sizeof *copy * (n ? n : 1));
    if (!copy)
        return;
    if (slot->state)
        b->inner->release(b->inner->self, slot->state);
    free(slot->tokens);
    memcpy(copy, prompt, sizeof *copy * n);
    *slot = (cached_prompt){.tokens = copy, .n = n, .state = b->inner->fork(b->inner->self, state), .used = ++b->clock};
}

static int b_root(void *self, const int32_t *prompt, size_t n, void **state, smc_error *err)
{
    batcher *b = self;
    pthread_mutex_lock(&b->mu);
    /* The longest cached prompt that this one starts with. */
    cached_prompt *best = NULL;
    for (int i = 0; i < PROMPT_CACHE; i++) {
        cached_prompt *c = &b->cache[i];
        if (c->state && c->n <= n && (!best || c->n > best->n) && !memcmp(c->tokens, prompt, sizeof *prompt * c->n))
            best = c;
    }
    int rc = 0;
    size_t reused = 0;
    if (best && (best->n > 0 || n == 0)) {
        void *s = b->inner->fork(b->inner->self, best->state);
        for (size_t i = best->n; i < n && rc == 0; i++)
            rc = b->inner->extend(b->inner->self, &s, prompt[i], err);
        if (rc)
            b->inner->release(b->inner->self, s);
        else {
            best->used = ++b->clock;
            b->st.prompt_hits++;
            b->st.prompt_tokens_saved += best->n;
            reused = best->n;
            *state = s;
        }
    } else {
        int64_t before = inner_reused(b);
        rc = b->inner->root(b->inner->self, prompt, n, state, err);
        int64_t from_inner = inner_reused(b) - before;
        if (rc == 0 && from_inner > 0) {
            b->st.prompt_hits++;
            b->st.prompt_tokens_saved += (uint64_t)from_inner;
            reused = (size_t)from_inner;
        }
    }
    thread_prompt_reused = rc == 0 ? reused : 0;
    if (rc == 0 && (!best || best->n < n))
        cache_put(b, prompt, n, *state);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

static void *b_fork(void *self, void *state)
{
    batcher *b = self;
    pthread_mutex_lock(&b->mu);
    void *s = b->inner->fork(b->inner->self, state);
    pthread_mutex_unlock(&b->mu);
    return s;
}

static void b_release(void *self, void *state)
{
    batcher *b = self;
    pthread_mutex_lock(&b->mu);
    b->inner->release(b->inner->self, state);
    pthread_mutex_unlock(&b->mu);
}

static int b_extend(void *self, void **state, int32_t tok, smc_error *err)
{
    batcher *b = self;
    pthread_mutex_lock(&b->mu);
    int rc = b->inner->extend(b->inner->self, state, tok, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

static int b_lookahead(void *self, void *state, const int32_t *toks, size_t n, smc_error *err)
{
    batcher *b = self;
    if (!b->inner->lookahead)
        return 0;
    pthread_mutex_lock(&b->mu);
    int rc = b->inner->lookahead(b->inner->self, state, toks, n, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* Decodes every pending ticket (b->mu held). */
static void decode_pending(batcher *b)
{
    ticket *list = b->pending;
    int n_tickets = b->n_pending;
    b->pending = NULL;
    b->n_pending = 0;
    size_t total = 0;
    for (ticket *t = list; t; t = t->next)
        total += t->n;
    size_t nv = (size_t)b->inner->n_vocab;
    double t0 = now_s();
    bool ok = true;
    if (total > b->cap_all) {
        void **a = realloc(b->all, sizeof *a * total);
        float *f = a ? realloc(b->buf, sizeof *f * total * nv) : NULL;
        if (a)
            b->all = a;
        if (f) {
            b->buf = f;
            b->cap_all = b->cap_buf = total;
        } else
            ok = false;
    }
    smc_error err = {{0}};
    if (ok) {
        size_t k = 0;
        for (ticket *t = list; t; t = t->next)
            for (size_t i = 0; i < t->n; i++)
                b->all[k++] = t->states[i];
        ok = b->inner->next_logits(b->inner->self, b->all, total, b->buf, &err) == 0;
        if (!ok && b->relieve) {
            /* Perhaps cached prompts hold the KV memory it needed. */
            b->relieve(b->relieve_ud);
            cache_clear(b);
            b->st.reliefs++;
            memset(&err, 0, sizeof err);
            ok = b->inner->next_logits(b->inner->self, b->all, total, b->buf, &err) == 0;
        }
    }
    if (ok) {
        size_t k = 0;
        for (ticket *t = list; t; t = t->next) {
            memcpy(t->logits, b->buf + k * nv, sizeof *b->buf * t->n * nv);
            k += t->n;
        }
        b->st.batches++;
        b->st.states += total;
        if ((uint64_t)n_tickets > b->st.max_requests)
            b->st.max_requests = (uint64_t)n_tickets;
        b->st.multi_request_batches += n_tickets > 1;
    } else if (n_tickets == 1 || !b->all || b->cap_all < total) {
        for (ticket *t = list; t; t = t->next) {
            t->rc = -1;
            t->err = err;
            if (!err.msg[0])
                smc_fail(&t->err, "out of memory");
        }
    } else {
        /* Alone, so that only the request at fault fails. */
        for (ticket *t = list; t; t = t->next) {
            t->rc = b->inner->next_logits(b->inner->self, t->states, t->n, t->logits, &t->err);
            b->st.batches++;
            b->st.states += t->rc == 0 ? t->n : 0;
        }
    }
    b->st.decode_seconds += now_s() - t0;
    for (ticket *t = list; t; t = t->next)
        t->done = true;
    pthread_cond_broadcast(&b->cv);
}

static int b_next_logits(void *self, void *const *states, size_t n, float *logits, smc_error *err)
{
    batcher *b = self;
    ticket t = {.states = states, .n = n, .logits = logits, .since = now_s()};
    pthread_mutex_lock(&b->mu);
    t.next = b->pending;
    b->pending = &t;
    b->n_pending++;
    while (!t.done) {
        double oldest = t.since;
        for (ticket *p = b->pending; p; p = p->next)
            if (p->since < oldest)
                oldest = p->since;
        double deadline = oldest + b->gather_s;
        if (!b->deciding && (b->n_pending >= b->running || now_s() >= deadline)) {
            b->deciding = true;
            decode_pending(b);
            b->deciding = false;
            break;
        }
        struct timespec ts;
        double wake = b->deciding ? now_s() + 0.05 : deadline;
        ts.tv_sec = (time_t)wake;
        ts.tv_nsec = (long)((wake - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
    pthread_mutex_unlock(&b->mu);
    if (t.rc && err)
        *err = t.err;
    return t.rc;
}

int batcher_new(const smc_lm *inner, smc_ctx *ctx, double gather_ms, batcher **out, smc_error *err)
{
    *out = NULL;
    batcher *b = calloc(1, sizeof *b);
    if (!b)
        return smc_fail(err, "out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&b->mu, NULL);
    b->inner = inner;
    b->ctx = ctx;
    b->gather_s = gather_ms / 1000.0;
    b->iface = (smc_lm){.self = b, .n_vocab = inner->n_vocab, .eos = inner->eos, .token_bytes = b_token_bytes,
                        .root = b_root, .fork = b_fork, .release = b_release, .extend = b_extend,
                        .next_logits = b_next_logits, .lookahead = b_lookahead};
    *out = b;
    return 0;
}

void batcher_free(batcher *b)
{
    if (!b)
        return;
    cache_clear(b);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b->all);
    free(b->buf);
    free(b);
}

const smc_lm *batcher_lm(batcher *b) { return &b->iface; }

void batcher_set_counter(batcher *b, void (*counts)(const smc_lm *inner, int64_t *decoded, int64_t *reused))
{
    pthread_mutex_lock(&b->mu);
    b->counts = counts;
    pthread_mutex_unlock(&b->mu);
}

void batcher_set_relief(batcher *b, void (*relieve)(void *ud), void *ud)
{
    pthread_mutex_lock(&b->mu);
    b->relieve = relieve;
    b->relieve_ud = ud;
    pthread_mutex_unlock(&b->mu);
}

size_t batcher_thread_prompt_reused(void) { return thread_prompt_reused; }

void batcher_enter(batcher *b)
{
    pthread_mutex_lock(&b->mu);
    b->running++;
    pthread_mutex_unlock(&b->mu);
}

void batcher_leave(batcher *b)
{
    pthread_mutex_lock(&b->mu);
    if (--b->running == 0)
        cache_clear(b); /* idle: hold no KV memory */
    pthread_cond_broadcast(&b->cv); /* the others may now be complete */
    pthread_mutex_unlock(&b->mu);
}

void batcher_get_stats(batcher *b, batcher_stats *out)
{
    pthread_mutex_lock(&b->mu);
    *out = b->st;
    out->running = b->running;
    out->kv_used_bytes = b->ctx ? smc_ctx_kv_used_bytes(b->ctx) : 0;
    if (b->counts)
        b->counts(b->inner, &out->tokens_evaluated, NULL);
    pthread_mutex_unlock(&b->mu);
}
