/* bool_potential.c — adapts a Boolean constraint (advance by bytes, accepting,
 * optional token mask) to the potential interface: log scores 0 or -inf. */
#include "smc/potential.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

typedef struct bool_pot {
    smc_bool_vtable vt;
    void *self;
    const smc_lm *lm;
    int n_words;
} bool_pot;

/* The constraint's state, plus "dead": some bytes were rejected. */
typedef struct bool_state {
    void *inner;
    bool dead;
} bool_state;

static int bp_state_new(void *self, void **state, smc_error *err)
{
    bool_pot *bp = self;
    bool_state *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    if (bp->vt.state_new(bp->self, &s->inner, err) < 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int bp_state_clone(void *self, const void *state, void **out, smc_error *err)
{
    bool_pot *bp = self;
    const bool_state *src = state;
    bool_state *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    s->dead = src->dead;
    if (bp->vt.state_clone(bp->self, src->inner, &s->inner, err) < 0) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

static void bp_state_free(void *self, void *state)
{
    bool_pot *bp = self;
    bool_state *s = state;
    if (!s)
        return;
    if (s->inner)
        bp->vt.state_free(bp->self, s->inner);
    free(s);
}

static int bp_advance(void *self, void *state, const char *text, size_t len, size_t n_new,
                      smc_error *err)
{
    (void)err;
    bool_pot *bp = self;
    bool_state *s = state;
    if (!s->dead && n_new > 0 && !bp->vt.advance(bp->self, s->inner, text + len - n_new, n_new))
        s->dead = true;
    return 0;
}

static double bp_prefix(void *self, void *state, const char *text, size_t len)
{
    (void)self, (void)text, (void)len;
    return ((bool_state *)state)->dead ? -INFINITY : 0.0;
}

static double bp_complete(void *self, void *state, const char *text, size_t len)
{
    (void)text, (void)len;
    bool_pot *bp = self;
    bool_state *s = state;
    return !s->dead && bp->vt.is_accepting(bp->self, s->inner) ? 0.0 : -INFINITY;
}

/* Would this token's bytes be accepted? (On a scratch clone.) */
static int try_token(bool_pot *bp, bool_state *s, int32_t tok, smc_error *err)
{
    if (s->dead)
        return 0;
    if (tok == bp->lm->eos)
        return bp->vt.is_accepting(bp->self, s->inner) ? 1 : 0;
    smc_str b = bp->lm->token_bytes(bp->lm->self, tok);
    if (b.len == 0)
        return 0;
    void *tmp = NULL;
    if (bp->vt.state_clone(bp->self, s->inner, &tmp, err) < 0)
        return -1;
    int ok = bp->vt.advance(bp->self, tmp, b.ptr, b.len) ? 1 : 0;
    bp->vt.state_free(bp->self, tmp);
    return ok;
}

static int bp_token_allowed(void *self, void *state, const char *text, size_t len, int32_t tok,
                            smc_error *err)
{
    (void)text, (void)len;
    bool_pot *bp = self;
    if (tok < 0 || tok >= bp->lm->n_vocab)
        return smc_fail(err, "token %d out of range", (int)tok);
    return try_token(bp, state, tok, err);
}

static int bp_token_mask(void *self, void *state, const char *text, size_t len, uint32_t *bits,
                         smc_error *err)
{
    (void)text, (void)len;
    bool_pot *bp = self;
    bool_state *s = state;
    int32_t nv = bp->lm->n_vocab, eos = bp->lm->eos;
    if (s->dead) {
        memset(bits, 0, sizeof *bits * (size_t)bp->n_words);
        return 0;
    }
    if (bp->vt.token_mask) {
        if (bp->vt.token_mask(bp->self, s->inner, bits, err) < 0)
            return -1;
        /* Enforce the adapter's rules on top of the constraint's mask. */
        for (int32_t v = 0; v < nv; v++)
            if (v != eos && bp->lm->token_bytes(bp->lm->self, v).len == 0)
                bits[v >> 5] &= ~(1u << (v & 31));
    } else {
        memset(bits, 0, sizeof *bits * (size_t)bp->n_words);
        for (int32_t v = 0; v < nv; v++) {
            if (v == eos)
                continue;
            int r = try_token(bp, s, v, err);
            if (r < 0)
                return -1;
            if (r)
                bits[v >> 5] |= 1u << (v & 31);
        }
    }
    if (eos >= 0 && eos < nv) {
        if (bp->vt.is_accepting(bp->self, s->inner))
            bits[eos >> 5] |= 1u << (eos & 31);
        else
            bits[eos >> 5] &= ~(1u << (eos & 31));
    }
    return 0;
}

static void bp_destroy(void *self)
{
    bool_pot *bp = self;
    if (bp->vt.destroy)
        bp->vt.destroy(bp->self);
    free(bp);
}

static const smc_potential_vtable bool_pot_vt = {
    .state_new = bp_state_new, .state_clone = bp_state_clone, .state_free = bp_state_free,
    .advance = bp_advance, .prefix = bp_prefix, .complete = bp_complete,
    .token_mask = bp_token_mask, .token_allowed = bp_token_allowed, .destroy = bp_destroy};

int smc_potential_from_bool(const smc_bool_vtable *vt, void *self, const char *name,
                            const smc_lm *lm, smc_potential **out, smc_error *err)
{
    *out = NULL;
    if (!vt || !vt->state_new || !vt->state_clone || !vt->state_free || !vt->advance ||
        !vt->is_accepting)
        return smc_fail(err, "Boolean constraint %s: missing required methods", name ? name : "");
    if (!lm || lm->n_vocab <= 0 || !lm->token_bytes)
        return smc_fail(err, "Boolean constraint %s: no language model vocabulary", name ? name : "");
    bool_pot *bp = calloc(1, sizeof *bp);
    if (!bp)
        return smc_fail(err, "out of memory");
    bp->vt = *vt;
    bp->self = self;
    bp->lm = lm;
    bp->n_words = (lm->n_vocab + 31) / 32;
    smc_potential *p = smc_potential_new(&bool_pot_vt, bp, name ? name : "constraint", lm->n_vocab,
                                         lm->eos);
    if (!p) {
        free(bp);
        return smc_fail(err, "out of memory");
    }
    *out = p;
    return 0;
}
