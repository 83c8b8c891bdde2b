/* stop_lm.c — an smc_lm wrapper whose EOS also stands for a set of stop
 * tokens (genlm's eos_byte_strings, e.g. "any token containing a newline"):
 * their probability mass is added to EOS and they are never proposed. */
#include "smcgen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "smc/logmath.h"
#include "util/error.h"

typedef struct stop_lm {
    smc_lm iface;
    const smc_lm *base;
    int32_t *stop;
    size_t n_stop;
} stop_lm;

static smc_str sl_bytes(void *self, int32_t tok)
{
    stop_lm *s = self;
    return s->base->token_bytes(s->base->self, tok);
}
static int sl_root(void *self, const int32_t *p, size_t n, void **st, smc_error *err)
{
    stop_lm *s = self;
    return s->base->root(s->base->self, p, n, st, err);
}
static void *sl_fork(void *self, void *st)
{
    stop_lm *s = self;
    return s->base->fork(s->base->self, st);
}
static void sl_release(void *self, void *st)
{
    stop_lm *s = self;
    s->base->release(s->base->self, st);
}
static int sl_extend(void *self, void **st, int32_t tok, smc_error *err)
{
    stop_lm *s = self;
    return s->base->extend(s->base->self, st, tok, err);
}
static int sl_lookahead(void *self, void *st, const int32_t *toks, size_t n, smc_error *err)
{
    stop_lm *s = self;
    return s->base->lookahead ? s->base->lookahead(s->base->self, st, toks, n, err) : 0;
}
static int sl_next_logits(void *self, void *const *states, size_t n, float *logits, smc_error *err)
{
    stop_lm *s = self;
    if (s->base->next_logits(s->base->self, states, n, logits, err) < 0)
        return -1;
    size_t nv = (size_t)s->iface.n_vocab;
    for (size_t i = 0; i < n; i++)
        smc_fold_logits(logits + i * nv, s->iface.eos, s->stop, s->n_stop);
    return 0;
}

int smc_lm_stops_new(const smc_lm *base, const int32_t *stop, size_t n_stop, smc_lm **out,
                     smc_error *err)
{
    *out = NULL;
    if (!base || (n_stop && !stop))
        return smc_fail(err, "stop LM: no base model or stop list");
    stop_lm *s = calloc(1, sizeof *s);
    if (!s || !(s->stop = malloc(sizeof *s->stop * (n_stop ? n_stop : 1)))) {
        free(s);
        return smc_fail(err, "out of memory");
    }
    for (size_t k = 0; k < n_stop; k++) {
        if (stop[k] < 0 || stop[k] >= base->n_vocab) {
            free(s->stop);
            free(s);
            return smc_fail(err, "stop LM: stop token %d out of range", (int)stop[k]);
        }
        if (stop[k] != base->eos)
            s->stop[s->n_stop++] = stop[k];
    }
    s->base = base;
    s->iface = (smc_lm){.self = s, .n_vocab = base->n_vocab, .eos = base->eos,
                        .token_bytes = sl_bytes, .root = sl_root, .fork = sl_fork,
                        .release = sl_release, .extend = sl_extend, .next_logits = sl_next_logits,
                        .lookahead = sl_lookahead};
    *out = &s->iface;
    return 0;
}

void smc_lm_stops_free(smc_lm *lm)
{
    if (!lm)
        return;
    stop_lm *s = lm->self;
    free(s->stop);
    free(s);
}

int smc_lm_tokens_containing(const smc_lm *lm, const char *needle, size_t len, int32_t **ids,
                             size_t *n, smc_error *err)
{
    *ids = NULL;
    *n = 0;
    if (!lm || !needle || len == 0)
        return smc_fail(err, "tokens containing: empty needle");
    int32_t *out = malloc(sizeof *out * (size_t)lm->n_vocab);
    if (!out)
        return smc_fail(err, "out of memory");
    size_t k = 0;
    for (int32_t v = 0; v < lm->n_vocab; v++) {
        smc_str b = lm->token_bytes(lm->self, v);
        if (b.len >= len && memmem(b.ptr, b.len, needle, len))
            out[k++] = v;
    }
    *ids = out;
    *n = k;
    return 0;
}
