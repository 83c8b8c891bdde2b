/* grammar_potential.c — a compiled grammar (the constraint module's
 * matcher) as a Boolean token-level potential: one O(1)-clonable matcher
 * per particle, token masks from the shared token index. */
#include "smc/potential.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

typedef struct gram_pot {
    const smc_grammar *g;
    const smc_token_index *ix;
    int32_t n_vocab, ix_tokens, eos;
    size_t lm_words, ix_words;
} gram_pot;

typedef struct gram_state {
    smc_matcher *m;
    bool dead;          /* some bytes were rejected */
} gram_state;

static int gp_state_new(void *self, void **state, smc_error *err)
{
    gram_pot *gp = self;
    gram_state *s = calloc(1, sizeof *s);
    if (!s || !(s->m = smc_matcher_new(gp->g))) {
        free(s);
        return smc_fail(err, "out of memory");
    }
    *state = s;
    return 0;
}

static int gp_state_clone(void *self, const void *state, void **out, smc_error *err)
{
    (void)self;
    const gram_state *src = state;
    gram_state *s = calloc(1, sizeof *s);
    if (!s || !(s->m = smc_matcher_clone(src->m))) {
        free(s);
        return smc_fail(err, "out of memory");
    }
    s->dead = src->dead;
    *out = s;
    return 0;
}

static void gp_state_free(void *self, void *state)
{
    (void)self;
    gram_state *s = state;
    if (!s)
        return;
    smc_matcher_free(s->m);
    free(s);
}

static int gp_advance(void *self, void *state, const char *text, size_t len, size_t n_new,
                      smc_error *err)
{
    (void)self, (void)err;
    gram_state *s = state;
    if (!s->dead && n_new > 0 && smc_matcher_advance_bytes(s->m, text + len - n_new, n_new) < 0)
        s->dead = true;
    return 0;
}

static double gp_prefix(void *self, void *state, const char *text, size_t len)
{
    (void)self, (void)text, (void)len;
    return ((gram_state *)state)->dead ? -INFINITY : 0.0;
}

static double gp_complete(void *self, void *state, const char *text, size_t len)
{
    (void)self, (void)text, (void)len;
    gram_state *s = state;
    return !s->dead && smc_matcher_is_accepting(s->m) ? 0.0 : -INFINITY;
}

static int gp_token_mask(void *self, void *state, const char *text, size_t len, uint32_t *bits,
                         smc_error *err)
{
    (void)text, (void)len;
    gram_pot *gp = self;
    gram_state *s = state;
    memset(bits, 0, sizeof *bits * gp->lm_words);
    if (s->dead)
        return 0;
    if (smc_matcher_token_mask(s->m, gp->ix, bits, err) < 0)
        return -1;
    /* The LM's EOS is the index's EOS (checked at creation). */
    return 0;
}

static int gp_token_allowed(void *self, void *state, const char *text, size_t len, int32_t tok,
                            smc_error *err)
{
    (void)text, (void)len;
    gram_pot *gp = self;
    gram_state *s = state;
    if (s->dead || tok < 0 || tok >= gp->ix_tokens)
        return 0;
    if (tok == gp->eos)
        return smc_matcher_is_accepting(s->m) ? 1 : 0;
    smc_matcher *m = smc_matcher_clone(s->m);
    if (!m)
        return smc_fail(err, "out of memory");
    int ok = smc_matcher_advance_token(m, gp->ix, tok) == 0;
    smc_matcher_free(m);
    return ok;
}

static void gp_destroy(void *self)
{
    free(self);
}

static const smc_potential_vtable gram_vt = {
    .state_new = gp_state_new, .state_clone = gp_state_clone, .state_free = gp_state_free,
    .advance = gp_advance, .prefix = gp_prefix, .complete = gp_complete,
    .token_mask = gp_token_mask, .token_allowed = gp_token_allowed, .destroy = gp_destroy};

int smc_potential_from_grammar(const smc_grammar *g, const smc_token_index *ix, const smc_lm *lm,
                               const char *name, smc_potential **out, smc_error *err)
{
    *out = NULL;
    if (!g || !ix || !lm)
        return smc_fail(err, "grammar potential: grammar, token index and model are required");
    int32_t n = smc_token_index_n_tokens(ix);
    if (n > lm->n_vocab)
        return smc_fail(err, "grammar potential: the token index has %d tokens, the model %d",
                        (int)n, (int)lm->n_vocab);
    if (smc_token_index_eos(ix) != lm->eos)
        return smc_fail(err, "grammar potential: the token index's EOS (%d) is not the model's (%d)",
                        (int)smc_token_index_eos(ix), (int)lm->eos);
    gram_pot *gp = calloc(1, sizeof *gp);
    if (!gp)
        return smc_fail(err, "out of memory");
    gp->g = g;
    gp->ix = ix;
    gp->n_vocab = lm->n_vocab;
    gp->ix_tokens = n;
    gp->eos = lm->eos;
    gp->lm_words = ((size_t)lm->n_vocab + 31) / 32;
    gp->ix_words = smc_token_mask_words(ix);
    smc_potential *p = smc_potential_new(&gram_vt, gp, name ? name : "grammar", lm->n_vocab, lm->eos);
    if (!p) {
        free(gp);
        return smc_fail(err, "out of memory");
    }
    *out = p;
    return 0;
}
