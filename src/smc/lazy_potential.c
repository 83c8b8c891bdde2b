/* lazy_potential.c — lazy constraints (think-then-constrain): a potential
 * that is 1 on text before the first occurrence of a trigger (a string or a
 * PCRE2 regex) and the inner potential on the text after it. Positions are
 * bytes of the generated text, so the target does not depend on where token
 * boundaries fall; a token that completes the trigger is allowed exactly
 * when the inner potential accepts the bytes it brings after the trigger. */
#include "smc/potential.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* A regex trigger sees the text from this many bytes before each new token
 * (matches must be shorter). */
#define REGEX_WINDOW 256

typedef struct lazy {
    smc_potential_vtable vt;
    smc_potential *inner;
    const smc_lm *lm;
    char *text;                  /* string trigger, or NULL */
    size_t text_len;
    pcre2_code *rx;              /* regex trigger, or NULL */
    pcre2_match_data *md;
    bool required;               /* a complete text must contain the trigger */
    bool own_inner;              /* inner is freed with this potential */
    int32_t *cands;              /* tokens that may complete the trigger */
    size_t n_cands;
    char *buf;                   /* window + one token */
    size_t buf_cap;
} lazy;

typedef struct lazy_state {
    bool on;                     /* the trigger has occurred */
    size_t start;                /* where the constrained text starts */
    void *inner;                 /* inner state once on */
} lazy_state;

static bool rx_matches(lazy *z, const char *s, size_t n)
{
    return pcre2_match(z->rx, (PCRE2_SPTR)s, n, 0, 0, z->md, NULL) >= 0;
}

/* The end of the earliest-ending trigger occurrence in s[0..n) that ends
 * after `from` (s[0..from) has none), or -1. */
static long find_trigger(lazy *z, const char *s, size_t n, size_t from)
{
    if (z->text) {
        size_t L = z->text_len, b = from + 1 >= L ? from + 1 - L : 0;
        if (n < b + L)
            return -1;
        const char *hit = memmem(s + b, n - b, z->text, L);
        return hit ? (long)(hit - s + (long)L) : -1;
    }
    size_t b = from > REGEX_WINDOW ? from - REGEX_WINDOW : 0;
    if (!rx_matches(z, s + b, n - b))
        return -1;
    /* "s[b..e) contains a match" is monotone in e: bisect for the first. */
    size_t lo = from, hi = n;    /* none at lo, one at hi */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (rx_matches(z, s + b, mid - b))
            hi = mid;
        else
            lo = mid;
    }
    return (long)hi;
}

/* log Φ_inner(rest as a prefix) from a fresh inner state. */
static double inner_fresh_prefix(lazy *z, const char *rest, size_t n, smc_error *err, int *rc)
{
    void *st = NULL;
    *rc = 0;
    if (smc_pot_state_new(z->inner, &st, err) < 0 ||
        (n && smc_pot_advance(z->inner, st, rest, n, n, err) < 0)) {
        smc_pot_state_free(z->inner, st);
        *rc = -1;
        return -INFINITY;
    }
    double w = z->inner->vt->prefix(z->inner->self, st, rest, n);
    smc_pot_state_free(z->inner, st);
    return w;
}

/* For a state before the trigger: the token's log weight, which is 0 unless
 * it completes the trigger (then the inner prefix score of what follows). */
static double token_weight(lazy *z, const char *text, size_t len, int32_t tok, smc_error *err, int *rc)
{
    *rc = 0;
    smc_str b = z->lm->token_bytes(z->lm->self, tok);
    if (b.len == 0)
        return 0;
    size_t keep = z->text ? (z->text_len > 0 ? z->text_len - 1 : 0) : REGEX_WINDOW;
    size_t tail = len < keep ? len : keep;
    if (tail + b.len > z->buf_cap) {
        char *nb = realloc(z->buf, tail + b.len);
        if (!nb) {
            *rc = -1;
            smc_fail(err, "out of memory");
            return -INFINITY;
        }
        z->buf = nb;
        z->buf_cap = tail + b.len;
    }
    memcpy(z->buf, text + len - tail, tail);
    memcpy(z->buf + tail, b.ptr, b.len);
    long e = find_trigger(z, z->buf, tail + b.len, tail);
    if (e < 0)
        return 0;
    return inner_fresh_prefix(z, z->buf + e, tail + b.len - (size_t)e, err, rc);
}

static int lz_state_new(void *self, void **state, smc_error *err)
{
    (void)self;
    *state = calloc(1, sizeof(lazy_state));
    return *state ? 0 : smc_fail(err, "out of memory");
}

static int lz_state_clone(void *self, const void *state, void **out, smc_error *err)
{
    lazy *z = self;
    const lazy_state *s = state;
    lazy_state *c = malloc(sizeof *c);
    if (!c)
        return smc_fail(err, "out of memory");
    *c = *s;
    c->inner = NULL;
    if (s->on && smc_pot_state_clone(z->inner, s->inner, &c->inner, err) < 0) {
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static void lz_state_free(void *self, void *state)
{
    lazy *z = self;
    lazy_state *s = state;
    if (!s)
        return;
    if (s->on)
        smc_pot_state_free(z->inner, s->inner);
    free(s);
}

static int lz_advance(void *self, void *state, const char *text, size_t len, size_t n_new, smc_error *err)
{
    lazy *z = self;
    lazy_state *s = state;
    if (s->on)
        return smc_pot_advance(z->inner, s->inner, text + s->start, len - s->start, n_new, err);
    long e = find_trigger(z, text, len, len - n_new);
    if (e < 0)
        return 0;
    if (smc_pot_state_new(z->inner, &s->inner, err) < 0)
        return -1;
    s->on = true;
    s->start = (size_t)e;
    size_t rest = len - s->start;
    return rest ? smc_pot_advance(z->inner, s->inner, text + s->start, rest, rest, err) : 0;
}

static double lz_prefix(void *self, void *state, const char *text, size_t len)
{
    lazy *z = self;
    lazy_state *s = state;
    return s->on ? z->inner->vt->prefix(z->inner->self, s->inner, text + s->start, len - s->start) : 0;
}

static double lz_complete(void *self, void *state, const char *text, size_t len)
{
    lazy *z = self;
    lazy_state *s = state;
    if (!s->on)
        return z->required ? -INFINITY : 0;
    return z->inner->vt->complete(z->inner->self, s->inner, text + s->start, len - s->start);
}

static int lz_logw_next(void *self, void *state, const char *text, size_t len, double *out, smc_error *err)
{
    lazy *z = self;
    lazy_state *s = state;
    if (s->on)
        return z->inner->vt->logw_next(z->inner->self, s->inner, text + s->start, len - s->start, out, err);
    for (int32_t v = 0; v < z->inner->n_vocab; v++)
        out[v] = 0;
    out[z->inner->eos] = z->required ? -INFINITY : 0;
    for (size_t k = 0; k < z->n_cands; k++) {
        int rc;
        out[z->cands[k]] = token_weight(z, text, len, z->cands[k], err, &rc);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int lz_token_mask(void *self, void *state, const char *text, size_t len, uint32_t *bits, smc_error *err)
{
    lazy *z = self;
    lazy_state *s = state;
    if (s->on)
        return z->inner->vt->token_mask(z->inner->self, s->inner, text + s->start, len - s->start, bits, err);
    int32_t nv = z->inner->n_vocab, eos = z->inner->eos;
    size_t words = ((size_t)nv + 31) / 32;
    memset(bits, 0xff, words * sizeof *bits);
    if (nv % 32)
        bits[words - 1] = (1u << (nv % 32)) - 1;
    if (z->required)
        bits[eos >> 5] &= ~(1u << (eos & 31));
    for (size_t k = 0; k < z->n_cands; k++) {
        int rc;
        int32_t v = z->cands[k];
        if (token_weight(z, text, len, v, err, &rc) == -INFINITY)
            bits[v >> 5] &= ~(1u << (v & 31));
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int lz_token_allowed(void *self, void *state, const char *text, size_t len, int32_t tok, smc_error *err)
{
    lazy *z = self;
    lazy_state *s = state;
    if (s->on)
        return z->inner->vt->token_allowed(z->inner->self, s->inner, text + s->start, len - s->start, tok, err);
    if (tok == z->inner->eos)
        return !z->required;
    int rc;
    double w = token_weight(z, text, len, tok, err, &rc);
    return rc < 0 ? -1 : w != -INFINITY;
}

static bool lz_is_boundary(void *self, const char *text, size_t len, size_t n_new)
{
    lazy *z = self;
    long e = find_trigger(z, text, len, 0);
    if (e < 0)
        return false;
    if ((size_t)e > len - n_new)
        return true;   /* it has just occurred */
    return smc_pot_is_boundary(z->inner, text + e, len - (size_t)e, n_new);
}

static int lz_score_batch(void *self, int n, const smc_score_request *reqs, double *out, smc_error *err)
{
    lazy *z = self;
    smc_score_request *sub = calloc((size_t)n, sizeof *sub);
    int *where = malloc(sizeof *where * (size_t)n);
    double *sub_out = malloc(sizeof *sub_out * (size_t)n);
    if (!sub || !where || !sub_out) {
        free(sub);
        free(where);
        free(sub_out);
        return smc_fail(err, "out of memory");
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        const lazy_state *s = reqs[i].state;
        if (!s->on) {
            out[i] = reqs[i].complete && z->required ? -INFINITY : 0;
            continue;
        }
        sub[m] = (smc_score_request){s->inner, reqs[i].text + s->start, reqs[i].len - s->start,
                                     reqs[i].complete};
        where[m++] = i;
    }
    int rc = smc_pot_score_batch(z->inner, m, sub, sub_out, err);
    for (int k = 0; rc == 0 && k < m; k++)
        out[where[k]] = sub_out[k];
    free(sub);
    free(where);
    free(sub_out);
    return rc;
}

static const char *lz_failure(void *self)
{
    lazy *z = self;
    return z->inner->vt->failure ? z->inner->vt->failure(z->inner->self) : NULL;
}

static void lz_destroy(void *self)
{
    lazy *z = self;
    if (z->own_inner)
        smc_potential_free(z->inner);
    free(z->text);
    pcre2_match_data_free(z->md);
    pcre2_code_free(z->rx);
    free(z->cands);
    free(z->buf);
    free(z);
}

/* Tokens worth checking before the trigger: for a string, those containing
 * its last byte (a token that completes it must); for a regex, every token
 * with bytes. */
static int collect_candidates(lazy *z, smc_error *err)
{
    int32_t nv = z->lm->n_vocab;
    z->cands = malloc(sizeof *z->cands * (size_t)(nv > 0 ? nv : 1));
    if (!z->cands)
        return smc_fail(err, "out of memory");
    for (int32_t v = 0; v < nv; v++) {
        if (v == z->lm->eos)
            continue;
        smc_str b = z->lm->token_bytes(z->lm->self, v);
        if (b.len && (!z->text || memchr(b.ptr, (unsigned char)z->text[z->text_len - 1], b.len)))
            z->cands[z->n_cands++] = v;
    }
    return 0;
}

int smc_potential_lazy(smc_potential *inner, const smc_lm *lm, const char *trigger, size_t len,
                       bool is_regex, bool required, smc_potential **out, smc_error *err)
{
    return smc_potential_lazy_ex(inner, true, lm, trigger, len, is_regex, required, out, err);
}

int smc_potential_lazy_ex(smc_potential *inner, bool own_inner, const smc_lm *lm, const char *trigger, size_t len,
                          bool is_regex, bool required, smc_potential **out, smc_error *err)
{
    *out = NULL;
    if (!inner || !lm || !trigger || len == 0) {
        if (own_inner)
            smc_potential_free(inner);
        return smc_fail(err, len == 0 && trigger ? "lazy constraint: the trigger is empty"
                                                 : "lazy constraint: no potential, model or trigger");
    }
    lazy *z = calloc(1, sizeof *z);
    if (!z) {
        if (own_inner)
            smc_potential_free(inner);
        return smc_fail(err, "out of memory");
    }
    z->own_inner = own_inner;
    z->inner = inner;
    z->lm = lm;
    z->required = required;
    if (is_regex) {
        int code;
        PCRE2_SIZE off;
        z->rx = pcre2_compile((PCRE2_SPTR)trigger, len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
        if (!z->rx) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(code, msg, sizeof msg);
            lz_destroy(z);
            return smc_fail(err, "trigger regex: %s at offset %zu", (const char *)msg, (size_t)off);
        }
        pcre2_jit_compile(z->rx, PCRE2_JIT_COMPLETE);   /* optional: falls back to the interpreter */
        z->md = pcre2_match_data_create(1, NULL);
        if (!z->md) {
            lz_destroy(z);
            return smc_fail(err, "out of memory");
        }
        if (rx_matches(z, "", 0)) {
            lz_destroy(z);
            return smc_fail(err, "trigger regex matches the empty string");
        }
    } else {
        z->text = malloc(len);
        if (!z->text) {
            lz_destroy(z);
            return smc_fail(err, "out of memory");
        }
        memcpy(z->text, trigger, len);
        z->text_len = len;
    }
    if (collect_candidates(z, err) < 0) {
        lz_destroy(z);
        return -1;
    }
    const smc_potential_vtable *iv = inner->vt;
    z->vt = (smc_potential_vtable){
        .state_new = lz_state_new, .state_clone = lz_state_clone, .state_free = lz_state_free,
        .advance = lz_advance, .prefix = lz_prefix, .complete = lz_complete,
        .logw_next = iv->logw_next ? lz_logw_next : NULL,
        .token_mask = iv->token_mask ? lz_token_mask : NULL,
        .token_allowed = iv->token_allowed ? lz_token_allowed : NULL,
        .is_boundary = lz_is_boundary, .destroy = lz_destroy,
        .failure = iv->failure ? lz_failure : NULL,
        .score_batch = iv->score_batch ? lz_score_batch : NULL};
    char name[160];
    snprintf(name, sizeof name, "%s after trigger", inner->name);
    *out = smc_potential_new(&z->vt, z, name, inner->n_vocab, inner->eos);
    if (!*out) {
        lz_destroy(z);
        return smc_fail(err, "out of memory");
    }
    return 0;
}
