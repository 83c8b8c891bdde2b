/* toy_lm.c — the toy language models behind smc_lm: a table bigram and a
 * hashed random LM with a large multi-byte vocabulary. States are
 * reference-counted (last token, length). */
#include "smc/toy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

typedef struct toy_state {
    int refs;
    int32_t last;     /* -1 at the start */
    int32_t len;
} toy_state;

struct smc_toy_lm {
    smc_lm iface;
    int32_t n_vocab;
    double *table;    /* bigram: (n_vocab+1) × n_vocab; NULL for random */
    uint64_t seed;
    double scale, eos_bias;
    char *bytes;      /* token bytes, 4 per token */
    uint8_t *blen;
    int64_t live, batches;
};

static smc_str toy_token_bytes(void *self, int32_t tok)
{
    smc_toy_lm *t = self;
    if (tok < 0 || tok >= t->n_vocab)
        return (smc_str){"", 0};
    return (smc_str){t->bytes + 4 * (size_t)tok, t->blen[tok]};
}

static int toy_root(void *self, const int32_t *prompt, size_t n, void **state, smc_error *err)
{
    smc_toy_lm *t = self;
    toy_state *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    s->refs = 1;
    s->last = -1;
    for (size_t i = 0; i < n; i++) {
        if (prompt[i] < 0 || prompt[i] >= t->n_vocab) {
            free(s);
            return smc_fail(err, "toy LM: prompt token %d out of range", (int)prompt[i]);
        }
        s->last = prompt[i];
    }
    t->live++;
    *state = s;
    return 0;
}

static void *toy_fork(void *self, void *state)
{
    smc_toy_lm *t = self;
    ((toy_state *)state)->refs++;
    t->live++;
    return state;
}

static void toy_release(void *self, void *state)
{
    smc_toy_lm *t = self;
    toy_state *s = state;
    t->live--;
    if (--s->refs == 0)
        free(s);
}

static int toy_extend(void *self, void **state, int32_t tok, smc_error *err)
{
    smc_toy_lm *t = self;
    toy_state *s = *state;
    if (tok < 0 || tok >= t->n_vocab)
        return smc_fail(err, "toy LM: token %d out of range", (int)tok);
    if (s->refs > 1) {
        toy_state *c = malloc(sizeof *c);
        if (!c)
            return smc_fail(err, "out of memory");
        *c = *s;
        c->refs = 1;
        s->refs--;
        s = c;
    }
    s->last = tok;
    s->len++;
    *state = s;
    return 0;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int toy_next_logits(void *self, void *const *states, size_t n, float *logits,
                           smc_error *err)
{
    (void)err;
    smc_toy_lm *t = self;
    int32_t V = t->n_vocab;
    t->batches++;
    for (size_t i = 0; i < n; i++) {
        const toy_state *s = states[i];
        float *out = logits + i * (size_t)V;
        if (t->table) {
            const double *row = t->table + (size_t)(s->last + 1) * (size_t)V;
            for (int32_t v = 0; v < V; v++)
                out[v] = (float)row[v];
        } else {
            uint64_t base = mix(t->seed ^ ((uint64_t)(s->last + 1) * 0x9e3779b97f4a7c15ULL));
            for (int32_t v = 0; v < V; v++) {
                double u = (double)(mix(base + (uint64_t)v) >> 11) * 0x1.0p-53;
                out[v] = (float)(t->scale * (u * u * u * 4.0 - 1.0));
            }
            out[V - 1] += (float)t->eos_bias;
        }
    }
    return 0;
}

static smc_toy_lm *toy_alloc(int32_t V)
{
    smc_toy_lm *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->n_vocab = V;
    t->bytes = calloc((size_t)V, 4);
    t->blen = calloc((size_t)V, 1);
    if (!t->bytes || !t->blen) {
        smc_toy_lm_free(t);
        return NULL;
    }
    t->iface = (smc_lm){.self = t, .n_vocab = V, .eos = V - 1, .token_bytes = toy_token_bytes,
                        .root = toy_root, .fork = toy_fork, .release = toy_release,
                        .extend = toy_extend, .next_logits = toy_next_logits};
    return t;
}

smc_toy_lm *smc_toy_bigram_new(int n_sym, const double *logits)
{
    if (n_sym < 1 || n_sym > 26 || !logits)
        return NULL;
    int32_t V = n_sym + 1;
    smc_toy_lm *t = toy_alloc(V);
    if (!t)
        return NULL;
    t->table = malloc(sizeof *t->table * (size_t)V * (size_t)V);
    if (!t->table) {
        smc_toy_lm_free(t);
        return NULL;
    }
    memcpy(t->table, logits, sizeof *t->table * (size_t)V * (size_t)V);
    for (int i = 0; i < n_sym; i++) {
        t->bytes[4 * i] = (char)('a' + i);
        t->blen[i] = 1;
    }
    return t;
}

smc_toy_lm *smc_toy_random_new(int32_t n_vocab, uint64_t seed, double scale, double eos_bias)
{
    if (n_vocab < 2)
        return NULL;
    smc_toy_lm *t = toy_alloc(n_vocab);
    if (!t)
        return NULL;
    t->seed = seed;
    t->scale = scale;
    t->eos_bias = eos_bias;
    for (int32_t v = 0; v + 1 < n_vocab; v++) {
        uint64_t h = mix(seed * 31 + (uint64_t)v + 1);
        int len = v < 6 ? 1 : 1 + (int)(h % 3);
        for (int k = 0; k < len; k++)
            t->bytes[4 * (size_t)v + (size_t)k] = v < 6 ? (char)('a' + v) : (char)('a' + (h >> (8 + 4 * k)) % 6);
        t->blen[v] = (uint8_t)len;
    }
    return t;
}

void smc_toy_lm_free(smc_toy_lm *t)
{
    if (!t)
        return;
    free(t->table);
    free(t->bytes);
    free(t->blen);
    free(t);
}

const smc_lm *smc_toy_lm_iface(smc_toy_lm *t)
{
    return &t->iface;
}

int64_t smc_toy_lm_live_states(const smc_toy_lm *t)
{
    return t->live;
}

int64_t smc_toy_lm_batches(const smc_toy_lm *t)
{
    return t->batches;
}
