/* particles.c — particle text/token buffers and turning the final particles
 * into a result (per-particle output, posterior over distinct strings). */
#include "smc/particles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "smc/logmath.h"
#include "util/error.h"

int smc_particle_push(smc_particle *p, int32_t tok, const char *bytes, size_t n)
{
    if (p->n_toks + 1 > p->cap_toks) {
        int32_t cap = p->cap_toks ? p->cap_toks * 2 : 16;
        int32_t *t = realloc(p->toks, sizeof *t * (size_t)cap);
        if (!t)
            return -1;
        p->toks = t;
        p->cap_toks = cap;
    }
    p->toks[p->n_toks++] = tok;
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        while (cap < p->len + n + 1)
            cap *= 2;
        char *t = realloc(p->text, cap);
        if (!t)
            return -1;
        p->text = t;
        p->cap = cap;
    }
    if (n)
        memcpy(p->text + p->len, bytes, n);
    p->len += n;
    p->text[p->len] = 0;
    return 0;
}

/* A malloc'd copy of n bytes at src (NULL when src is). */
static void *dup_bytes(const void *src, size_t n, bool *failed)
{
    if (!src)
        return NULL;
    void *d = malloc(n ? n : 1);
    if (!d)
        *failed = true;
    else if (n)
        memcpy(d, src, n);
    return d;
}

int smc_particle_copy_data(smc_particle *dst, const smc_particle *src)
{
    *dst = *src;
    dst->lm_state = dst->cheap_st = dst->critic_st = NULL;
    dst->text = malloc(src->cap ? src->cap : 1);
    dst->toks = malloc(sizeof *dst->toks * (size_t)(src->cap_toks ? src->cap_toks : 1));
    bool failed = false;
    dst->fq = dup_bytes(src->fq, sizeof *src->fq * (size_t)src->n_fq, &failed);
    dst->cap_fq = src->n_fq;
    dst->mask = dup_bytes(src->mask, sizeof *src->mask * (size_t)src->mask_words, &failed);
    if (!dst->text || !dst->toks || failed) {
        smc_particle_free_data(dst);
        return -1;
    }
    if (src->text)
        memcpy(dst->text, src->text, src->len + 1);
    else
        dst->text[0] = 0;
    if (src->n_toks)
        memcpy(dst->toks, src->toks, sizeof *dst->toks * (size_t)src->n_toks);
    return 0;
}

void smc_particle_free_data(smc_particle *p)
{
    free(p->text);
    free(p->toks);
    free(p->fq);
    free(p->mask);
    p->text = NULL;
    p->toks = NULL;
    p->fq = NULL;
    p->mask = NULL;
}

static int cmp_text(const void *a, const void *b)
{
    const smc_particle *x = *(const smc_particle *const *)a, *y = *(const smc_particle *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->text, y->text, n) : 0;
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int cmp_prob(const void *a, const void *b)
{
    const smc_posterior_entry *x = a, *y = b;
    if (x->prob != y->prob)
        return x->prob < y->prob ? 1 : -1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->text, y->text, n) : 0;
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

int smc_result_fill(smc_result *r, const smc_particle *ps, int n, smc_error *err)
{
    double *lw = malloc(sizeof *lw * (size_t)n);
    const smc_particle **idx = malloc(sizeof *idx * (size_t)n);
    r->particles = calloc((size_t)n, sizeof *r->particles);
    if (!lw || !idx || !r->particles)
        goto oom;
    r->n_particles = n;
    for (int i = 0; i < n; i++) {
        smc_particle_out *o = &r->particles[i];
        o->text = malloc(ps[i].len + 1);
        o->tokens = malloc(sizeof *o->tokens * (size_t)(ps[i].n_toks ? ps[i].n_toks : 1));
        if (!o->text || !o->tokens)
            goto oom;
        if (ps[i].len)
            memcpy(o->text, ps[i].text, ps[i].len);
        o->text[ps[i].len] = 0;
        o->len = ps[i].len;
        if (ps[i].n_toks)
            memcpy(o->tokens, ps[i].toks, sizeof *o->tokens * (size_t)ps[i].n_toks);
        o->n_tokens = ps[i].n_toks;
        o->log_weight = ps[i].logw;
        o->forced_eos = ps[i].forced;
        lw[i] = ps[i].logw;
        idx[i] = &ps[i];
    }
    r->log_z = smc_log_mean_exp(lw, n);
    r->ess = smc_ess(lw, n);
    r->all_dead = r->log_z == -INFINITY;
    double lse = smc_logsumexp_d(lw, (size_t)n);
    if (!r->all_dead) {
        qsort(idx, (size_t)n, sizeof *idx, cmp_text);
        r->posterior = calloc((size_t)n, sizeof *r->posterior);
        if (!r->posterior)
            goto oom;
        for (int k = 0; k < n;) {
            int j = k;
            double prob = 0;
            while (j < n && cmp_text(&idx[k], &idx[j]) == 0) {
                prob += exp(idx[j]->logw - lse);
                j++;
            }
            if (prob > 0) {
                smc_posterior_entry *e = &r->posterior[r->n_posterior++];
                const smc_particle *p = idx[k];
                e->text = malloc(p->len + 1);
                if (!e->text)
                    goto oom;
                if (p->len)
                    memcpy(e->text, p->text, p->len);
                e->text[p->len] = 0;
                e->len = p->len;
                e->prob = prob;
                e->count = j - k;
            }
            k = j;
        }
        qsort(r->posterior, (size_t)r->n_posterior, sizeof *r->posterior, cmp_prob);
    }
    free(lw);
    free(idx);
    return 0;
oom:
    free(lw);
    free(idx);
    return smc_fail(err, "out of memory");
}

void smc_result_free(smc_result *r)
{
    if (!r)
        return;
    for (int i = 0; r->particles && i < r->n_particles; i++) {
        free(r->particles[i].text);
        free(r->particles[i].tokens);
    }
    free(r->particles);
    for (int i = 0; i < r->n_posterior; i++)
        free(r->posterior[i].text);
    free(r->posterior);
    free(r->ess_trace);
    free(r);
}
