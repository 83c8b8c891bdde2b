/* potential.c — the generic potential wrapper and products of potentials. */
#include "smc/potential.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

smc_potential *smc_potential_new(const smc_potential_vtable *vt, void *self, const char *name,
                                 int32_t n_vocab, int32_t eos)
{
    if (!vt)
        return NULL;
    smc_potential *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->name = strdup(name ? name : "potential");
    if (!p->name) {
        free(p);
        return NULL;
    }
    p->vt = vt;
    p->self = self;
    p->n_vocab = n_vocab;
    p->eos = eos;
    return p;
}

void smc_potential_free(smc_potential *p)
{
    if (!p)
        return;
    if (p->vt->destroy)
        p->vt->destroy(p->self);
    free(p->name);
    free(p);
}

const char *smc_potential_name(const smc_potential *p)
{
    return p ? p->name : "(null)";
}

int smc_pot_state_new(smc_potential *p, void **st, smc_error *err)
{
    *st = NULL;
    return p->vt->state_new ? p->vt->state_new(p->self, st, err) : 0;
}

int smc_pot_state_clone(smc_potential *p, const void *st, void **out, smc_error *err)
{
    *out = NULL;
    return p->vt->state_clone ? p->vt->state_clone(p->self, st, out, err) : 0;
}

void smc_pot_state_free(smc_potential *p, void *st)
{
    if (p->vt->state_free && st)
        p->vt->state_free(p->self, st);
}

int smc_pot_advance(smc_potential *p, void *st, const char *text, size_t len, size_t n_new,
                    smc_error *err)
{
    return p->vt->advance ? p->vt->advance(p->self, st, text, len, n_new, err) : 0;
}

int smc_pot_logw_next(smc_potential *p, void *st, const char *text, size_t len, double *out,
                      uint32_t *bits, smc_error *err)
{
    if (p->vt->logw_next)
        return p->vt->logw_next(p->self, st, text, len, out, err);
    if (!p->vt->token_mask)
        return smc_fail(err, "potential %s has no token-level scores (logw_next or token_mask)",
                        p->name);
    if (p->vt->token_mask(p->self, st, text, len, bits, err) < 0)
        return -1;
    for (int32_t v = 0; v < p->n_vocab; v++)
        out[v] = (bits[v >> 5] >> (v & 31) & 1) ? 0.0 : -INFINITY;
    return 0;
}

bool smc_pot_is_boundary(smc_potential *p, const char *text, size_t len, size_t n_new)
{
    return p->vt->is_boundary ? p->vt->is_boundary(p->self, text, len, n_new) : true;
}

int smc_pot_score_batch(smc_potential *p, int n, const smc_score_request *reqs, double *out,
                        smc_error *err)
{
    if (n <= 0)
        return 0;
    if (p->vt->score_batch)
        return p->vt->score_batch(p->self, n, reqs, out, err);
    for (int i = 0; i < n; i++) {
        const smc_score_request *r = &reqs[i];
        out[i] = (r->complete ? p->vt->complete : p->vt->prefix)(p->self, r->state, r->text, r->len);
    }
    return 0;
}

/* ---- Products -------------------------------------------------------- */

typedef struct product {
    smc_potential_vtable vt;     /* this product's methods (depend on its factors) */
    smc_potential **parts;
    int n;
    int n_words;                 /* mask words */
    double *scratch;             /* n_vocab */
    uint32_t *bits;              /* n_words */
} product;

/* Per particle: each factor's state, its last prefix value, and whether a
 * boundary of that factor was crossed since that value was computed. */
typedef struct product_state {
    void **st;
    double *last;
    bool *dirty;
} product_state;

static void product_state_free(void *self, void *state)
{
    product *pr = self;
    product_state *ps = state;
    if (!ps)
        return;
    for (int i = 0; i < pr->n; i++)
        if (ps->st)
            smc_pot_state_free(pr->parts[i], ps->st[i]);
    free(ps->st);
    free(ps->last);
    free(ps->dirty);
    free(ps);
}

static product_state *product_state_alloc(product *pr)
{
    product_state *ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    ps->st = calloc((size_t)pr->n, sizeof *ps->st);
    ps->last = calloc((size_t)pr->n, sizeof *ps->last);
    ps->dirty = calloc((size_t)pr->n, sizeof *ps->dirty);
    if (!ps->st || !ps->last || !ps->dirty) {
        free(ps->st);
        free(ps->last);
        free(ps->dirty);
        free(ps);
        return NULL;
    }
    return ps;
}

static int product_state_new(void *self, void **state, smc_error *err)
{
    product *pr = self;
    product_state *ps = product_state_alloc(pr);
    if (!ps)
        return smc_fail(err, "out of memory");
    for (int i = 0; i < pr->n; i++) {
        if (smc_pot_state_new(pr->parts[i], &ps->st[i], err) < 0) {
            product_state_free(pr, ps);
            return -1;
        }
        ps->dirty[i] = true;
    }
    *state = ps;
    return 0;
}

static int product_state_clone(void *self, const void *state, void **out, smc_error *err)
{
    product *pr = self;
    const product_state *src = state;
    product_state *ps = product_state_alloc(pr);
    if (!ps)
        return smc_fail(err, "out of memory");
    for (int i = 0; i < pr->n; i++) {
        if (smc_pot_state_clone(pr->parts[i], src->st[i], &ps->st[i], err) < 0) {
            product_state_free(pr, ps);
            return -1;
        }
        ps->last[i] = src->last[i];
        ps->dirty[i] = src->dirty[i];
    }
    *out = ps;
    return 0;
}

static int product_advance(void *self, void *state, const char *text, size_t len, size_t n_new,
                           smc_error *err)
{
    product *pr = self;
    product_state *ps = state;
    for (int i = 0; i < pr->n; i++) {
        if (smc_pot_advance(pr->parts[i], ps->st[i], text, len, n_new, err) < 0)
            return smc_fail_context(err, "%s", pr->parts[i]->name);
        if (smc_pot_is_boundary(pr->parts[i], text, len, n_new))
            ps->dirty[i] = true;
    }
    return 0;
}

static double product_prefix(void *self, void *state, const char *text, size_t len)
{
    product *pr = self;
    product_state *ps = state;
    double s = 0;
    for (int i = 0; i < pr->n; i++) {
        if (ps->dirty[i]) {
            ps->last[i] = pr->parts[i]->vt->prefix(pr->parts[i]->self, ps->st[i], text, len);
            ps->dirty[i] = false;
        }
        s += ps->last[i];
    }
    return s;
}

static double product_complete(void *self, void *state, const char *text, size_t len)
{
    product *pr = self;
    product_state *ps = state;
    double s = 0;
    for (int i = 0; i < pr->n && s > -INFINITY; i++)
        s += pr->parts[i]->vt->complete(pr->parts[i]->self, ps->st[i], text, len);
    return s;
}

/* The batch form of product_prefix/product_complete, with the same sums in
 * the same order: per factor, one batch of the prefixes whose boundary was
 * crossed and of the complete strings not yet at -inf. */
static int product_score_batch(void *self, int n, const smc_score_request *reqs, double *out,
                               smc_error *err)
{
    product *pr = self;
    smc_score_request *sub = malloc(sizeof *sub * (size_t)n);
    double *val = malloc(sizeof *val * (size_t)n);
    int *idx = malloc(sizeof *idx * (size_t)n);
    int rc = 0;
    if (!sub || !val || !idx)
        rc = smc_fail(err, "out of memory");
    for (int k = 0; k < n; k++)
        out[k] = 0;
    for (int i = 0; i < pr->n && rc == 0; i++) {
        int m = 0;
        for (int k = 0; k < n; k++) {
            product_state *ps = reqs[k].state;
            if (reqs[k].complete ? out[k] > -INFINITY : ps->dirty[i]) {
                sub[m] = reqs[k];
                sub[m].state = ps->st[i];
                idx[m++] = k;
            }
        }
        if (smc_pot_score_batch(pr->parts[i], m, sub, val, err) < 0) {
            rc = smc_fail_context(err, "%s", pr->parts[i]->name);
            break;
        }
        for (int j = 0; j < m; j++) {
            product_state *ps = reqs[idx[j]].state;
            if (reqs[idx[j]].complete) {
                out[idx[j]] += val[j];
            } else {
                ps->last[i] = val[j];
                ps->dirty[i] = false;
            }
        }
        for (int k = 0; k < n; k++)
            if (!reqs[k].complete)
                out[k] += ((product_state *)reqs[k].state)->last[i];
    }
    free(sub);
    free(val);
    free(idx);
    return rc;
}

static int product_logw_next(void *self, void *state, const char *text, size_t len, double *out,
                             smc_error *err)
{
    product *pr = self;
    product_state *ps = state;
    int32_t nv = pr->parts[0]->n_vocab;
    for (int32_t v = 0; v < nv; v++)
        out[v] = 0;
    for (int i = 0; i < pr->n; i++) {
        if (smc_pot_logw_next(pr->parts[i], ps->st[i], text, len, pr->scratch, pr->bits, err) < 0)
            return smc_fail_context(err, "%s", pr->parts[i]->name);
        for (int32_t v = 0; v < nv; v++)
            out[v] += pr->scratch[v];
    }
    return 0;
}

static int product_token_mask(void *self, void *state, const char *text, size_t len,
                              uint32_t *bits, smc_error *err)
{
    product *pr = self;
    product_state *ps = state;
    for (int w = 0; w < pr->n_words; w++)
        bits[w] = 0xffffffffu;
    for (int i = 0; i < pr->n; i++) {
        smc_potential *p = pr->parts[i];
        if (p->vt->token_mask(p->self, ps->st[i], text, len, pr->bits, err) < 0)
            return smc_fail_context(err, "%s", p->name);
        for (int w = 0; w < pr->n_words; w++)
            bits[w] &= pr->bits[w];
    }
    return 0;
}

static int product_token_allowed(void *self, void *state, const char *text, size_t len,
                                 int32_t tok, smc_error *err)
{
    product *pr = self;
    product_state *ps = state;
    for (int i = 0; i < pr->n; i++) {
        smc_potential *p = pr->parts[i];
        int r = p->vt->token_allowed(p->self, ps->st[i], text, len, tok, err);
        if (r <= 0)
            return r;
    }
    return 1;
}

static bool product_is_boundary(void *self, const char *text, size_t len, size_t n_new)
{
    product *pr = self;
    for (int i = 0; i < pr->n; i++)
        if (smc_pot_is_boundary(pr->parts[i], text, len, n_new))
            return true;
    return false;
}

static const char *product_failure(void *self)
{
    product *pr = self;
    for (int i = 0; i < pr->n; i++) {
        const smc_potential *p = pr->parts[i];
        const char *why = p->vt->failure ? p->vt->failure(p->self) : NULL;
        if (why)
            return why;
    }
    return NULL;
}

static void product_destroy(void *self)
{
    product *pr = self;
    for (int i = 0; i < pr->n; i++)
        smc_potential_free(pr->parts[i]);
    free(pr->parts);
    free(pr->scratch);
    free(pr->bits);
    free(pr);
}

int smc_potential_product(smc_potential **parts, int n, smc_potential **out, smc_error *err)
{
    *out = NULL;
    if (!parts || n <= 0)
        return smc_fail(err, "potential product: no factors");
    int32_t nv = 0, eos = -1;
    int bad = -1;
    for (int i = 0; i < n; i++) {
        if (!parts[i]) {
            bad = i;
            continue;
        }
        if (parts[i]->n_vocab && nv && parts[i]->n_vocab != nv)
            bad = i;
        if (parts[i]->n_vocab) {
            nv = parts[i]->n_vocab;
            eos = parts[i]->eos;
        }
    }
    product *pr = bad < 0 ? calloc(1, sizeof *pr) : NULL;
    if (pr) {
        pr->parts = malloc(sizeof *pr->parts * (size_t)n);
        pr->n_words = (nv + 31) / 32;
        pr->scratch = malloc(sizeof *pr->scratch * (size_t)(nv > 0 ? nv : 1));
        pr->bits = malloc(sizeof *pr->bits * (size_t)(pr->n_words > 0 ? pr->n_words : 1));
    }
    if (!pr || !pr->parts || !pr->scratch || !pr->bits) {
        for (int i = 0; i < n; i++)
            smc_potential_free(parts[i]);
        if (pr)
            product_destroy(pr);
        return bad >= 0 ? smc_fail(err, "potential product: factor %d is missing or has another "
                                        "vocabulary size", bad)
                        : smc_fail(err, "out of memory");
    }
    memcpy(pr->parts, parts, sizeof *parts * (size_t)n);
    pr->n = n;
    bool token_level = true, all_mask = true, all_allowed = true, any_boundary = false;
    bool any_batch = false;
    for (int i = 0; i < n; i++) {
        any_batch |= parts[i]->vt->score_batch != NULL;
        token_level &= parts[i]->vt->logw_next || parts[i]->vt->token_mask;
        all_mask &= parts[i]->vt->token_mask != NULL;
        all_allowed &= parts[i]->vt->token_allowed != NULL;
        any_boundary |= parts[i]->vt->is_boundary != NULL;
    }
    smc_potential_vtable *vt = &pr->vt;
    vt->state_new = product_state_new;
    vt->state_clone = product_state_clone;
    vt->state_free = product_state_free;
    vt->advance = product_advance;
    vt->prefix = product_prefix;
    vt->complete = product_complete;
    vt->destroy = product_destroy;
    vt->failure = product_failure;
    if (token_level && nv > 0) {
        vt->logw_next = product_logw_next;
        if (all_mask)
            vt->token_mask = product_token_mask;
        if (all_allowed)
            vt->token_allowed = product_token_allowed;
    }
    if (any_boundary)
        vt->is_boundary = product_is_boundary;
    if (any_batch)
        vt->score_batch = product_score_batch;
    char name[256] = "";
    for (int i = 0; i < n; i++) {
        size_t k = strlen(name);
        snprintf(name + k, sizeof name - k, "%s%s", i ? "*" : "", parts[i]->name);
    }
    smc_potential *p = smc_potential_new(vt, pr, name, nv, eos);
    if (!p) {
        product_destroy(pr);
        return smc_fail(err, "out of memory");
    }
    *out = p;
    return 0;
}
