/* toy_potentials.c — the toy DFA constraint (as a Boolean constraint, with an
 * optional precomputed token mask) and the toy critic with boundaries. */
#include "smc/toy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* ---- DFA ------------------------------------------------------------- */

smc_toy_dfa *smc_toy_dfa_default(void)
{
    smc_toy_dfa *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->n_states = 7; /* 0 start, 1+i: last symbol was 'a'+i */
    d->next = malloc(sizeof *d->next * 7 * 256);
    d->accepting = calloc(7, sizeof *d->accepting);
    if (!d->next || !d->accepting) {
        smc_toy_dfa_free(d);
        return NULL;
    }
    for (int s = 0; s < 7; s++) {
        for (int b = 0; b < 256; b++) {
            int sym = b - 'a';
            int nx = -1;
            if (sym >= 0 && sym < 6) {
                int last = s - 1; /* -1 at start */
                bool ok = sym != last;
                if (last == 0 && sym != 1)
                    ok = false; /* 'a' must be followed by 'b' */
                if (last == 4 && sym == 5)
                    ok = false; /* no "ef" */
                nx = ok ? 1 + sym : -1;
            }
            d->next[s * 256 + b] = nx;
        }
        d->accepting[s] = s != 0 && s != 1;
    }
    return d;
}

void smc_toy_dfa_free(smc_toy_dfa *d)
{
    if (!d)
        return;
    free(d->next);
    free(d->accepting);
    free(d);
}

static int dfa_step(const smc_toy_dfa *d, int s, const char *text, size_t len)
{
    for (size_t i = 0; i < len && s >= 0; i++)
        s = d->next[s * 256 + (unsigned char)text[i]];
    return s;
}

int smc_toy_dfa_run(const smc_toy_dfa *d, const char *text, size_t len)
{
    return dfa_step(d, 0, text, len);
}

static int dfa_state_new(void *self, void **state, smc_error *err)
{
    (void)self;
    int *s = malloc(sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    *s = 0;
    *state = s;
    return 0;
}

static int dfa_state_clone(void *self, const void *state, void **out, smc_error *err)
{
    (void)self;
    int *s = malloc(sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    *s = *(const int *)state;
    *out = s;
    return 0;
}

static void dfa_state_free(void *self, void *state)
{
    (void)self;
    free(state);
}

static bool dfa_advance(void *self, void *state, const char *bytes, size_t n)
{
    int *s = state;
    int nx = dfa_step(self, *s, bytes, n);
    if (nx < 0)
        return false;
    *s = nx;
    return true;
}

static bool dfa_accepting(void *self, const void *state)
{
    const smc_toy_dfa *d = self;
    return d->accepting[*(const int *)state];
}

const smc_bool_vtable smc_toy_dfa_vtable = {
    .state_new = dfa_state_new, .state_clone = dfa_state_clone, .state_free = dfa_state_free,
    .advance = dfa_advance, .is_accepting = dfa_accepting};

/* Fast variant: masks precomputed per DFA state (like a compiled matcher). */
typedef struct dfa_fast {
    smc_toy_dfa *d;
    int n_words;
    uint32_t *masks; /* n_states × n_words */
} dfa_fast;

static int dfa_fast_new(void *self, void **state, smc_error *err)
{
    return dfa_state_new(((dfa_fast *)self)->d, state, err);
}

static bool dfa_fast_advance(void *self, void *state, const char *bytes, size_t n)
{
    return dfa_advance(((dfa_fast *)self)->d, state, bytes, n);
}

static bool dfa_fast_accepting(void *self, const void *state)
{
    return dfa_accepting(((dfa_fast *)self)->d, state);
}

static int dfa_fast_mask(void *self, const void *state, uint32_t *bits, smc_error *err)
{
    (void)err;
    dfa_fast *f = self;
    memcpy(bits, f->masks + (size_t)*(const int *)state * (size_t)f->n_words,
           sizeof *bits * (size_t)f->n_words);
    return 0;
}

static void dfa_fast_destroy(void *self)
{
    dfa_fast *f = self;
    free(f->masks);
    free(f);
}

static const smc_bool_vtable dfa_fast_vtable = {
    .state_new = dfa_fast_new, .state_clone = dfa_state_clone, .state_free = dfa_state_free,
    .advance = dfa_fast_advance, .is_accepting = dfa_fast_accepting, .token_mask = dfa_fast_mask,
    .destroy = dfa_fast_destroy};

int smc_toy_dfa_potential(smc_toy_dfa *d, const smc_lm *lm, bool fast_mask, smc_potential **out,
                          smc_error *err)
{
    if (!fast_mask)
        return smc_potential_from_bool(&smc_toy_dfa_vtable, d, "toy-dfa", lm, out, err);
    dfa_fast *f = calloc(1, sizeof *f);
    if (!f)
        return smc_fail(err, "out of memory");
    f->d = d;
    f->n_words = (lm->n_vocab + 31) / 32;
    f->masks = calloc((size_t)d->n_states * (size_t)f->n_words, sizeof *f->masks);
    if (!f->masks) {
        free(f);
        return smc_fail(err, "out of memory");
    }
    for (int s = 0; s < d->n_states; s++)
        for (int32_t v = 0; v < lm->n_vocab; v++) {
            smc_str b = lm->token_bytes(lm->self, v);
            if (v != lm->eos && b.len > 0 && dfa_step(d, s, b.ptr, b.len) >= 0)
                f->masks[(size_t)s * (size_t)f->n_words + (size_t)(v >> 5)] |= 1u << (v & 31);
        }
    if (smc_potential_from_bool(&dfa_fast_vtable, f, "toy-dfa-fast", lm, out, err) < 0) {
        dfa_fast_destroy(f);
        return -1;
    }
    return 0;
}

/* ---- Critic ---------------------------------------------------------- */

double smc_toy_critic_prefix_score(const char *text, size_t len)
{
    int e = 0, f = 0;
    bool bc = false;
    for (size_t i = 0; i < len; i++) {
        e += text[i] == 'e';
        f += text[i] == 'f';
        if (i > 0 && text[i - 1] == 'b' && text[i] == 'c')
            bc = true;
    }
    if (e >= 2)
        return -INFINITY;
    return -0.4 * f + (bc ? 0.5 : 0.0);
}

double smc_toy_critic_complete_score(const char *text, size_t len)
{
    double p = smc_toy_critic_prefix_score(text, len);
    if (p == -INFINITY)
        return p;
    return p + (len > 0 && text[len - 1] == 'd' ? 0.7 : -0.2);
}

static double critic_prefix(void *self, void *state, const char *text, size_t len)
{
    (void)state;
    int64_t *counter = self;
    if (counter)
        (*counter)++;
    return smc_toy_critic_prefix_score(text, len);
}

static double critic_complete(void *self, void *state, const char *text, size_t len)
{
    (void)self, (void)state;
    return smc_toy_critic_complete_score(text, len);
}

static bool critic_boundary(void *self, const char *text, size_t len, size_t n_new)
{
    (void)self;
    return n_new > 0 && len > 0 && (text[len - 1] == 'c' || text[len - 1] == 'd');
}

static const smc_potential_vtable critic_vt = {
    .prefix = critic_prefix, .complete = critic_complete, .is_boundary = critic_boundary};

smc_potential *smc_toy_critic_new(int64_t *counter)
{
    return smc_potential_new(&critic_vt, counter, "toy-critic", 0, -1);
}
