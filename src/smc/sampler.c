/* sampler.c — smc_run: the one code path behind every method (plain, lcd,
 * is, smc, rerank, is-full, smc-full): propose from the LM restricted by the
 * cheap potential, weight by the restricted mass, twist by the critic at its
 * boundaries, force EOS at max_tokens, resample adaptively. The critic's
 * scores of a step are gathered and asked for in one batch (score_batch). */
#include "smcgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smc/awrs.h"
#include "smc/logmath.h"
#include "smc/particles.h"
#include "smc/potential.h"
#include "smc/prng.h"
#include "smc/row_exp.h"
#include "smc/trace.h"
#include "util/error.h"

enum critic_mode { CRITIC_NONE, CRITIC_END, CRITIC_TWIST };

typedef struct run {
    const smc_lm *lm;
    const smc_config *cfg;
    smc_potential *cheap;      /* NULL: unconstrained */
    smc_potential *critic;     /* NULL unless the method uses it */
    enum critic_mode cmode;
    bool correction;           /* add the restricted mass to the weight */
    bool resampling;
    int n;
    smc_particle *ps;
    smc_rng rng;
    smc_awrs *awrs;
    float *logits;             /* n × n_vocab */
    double *lp, *w;            /* n_vocab each */
    double *ex;                /* n_vocab: the masked path's exp(logit·inv - max) */
    uint32_t *bits;
    smc_result *res;
    smc_trace *trace;          /* NULL: not tracing */
    int trace_critic_calls;    /* this step's batch, for the trace */
    double trace_critic_time;
    /* Critic scores owed by this step's particles (at most one each). */
    int n_owed;
    bool critic_scored;        /* this step's settle_critic scored a particle */
    smc_particle **owed;
    smc_score_request *reqs;
    double *scores;
    bool lookahead;            /* plan forced tokens ahead (masked proposal) */
    char *ahead_text;          /* scratch: a particle's text plus forced tokens */
    size_t cap_ahead_text;
} run;

static int validate(const smc_lm *lm, smc_potential *cheap, smc_potential *critic,
                    const smc_config *c, smc_error *err)
{
    if (!lm || !lm->token_bytes || !lm->root || !lm->fork || !lm->release || !lm->extend ||
        !lm->next_logits)
        return smc_fail(err, "smc: language model interface incomplete");
    if (lm->n_vocab <= 0 || lm->eos < 0 || lm->eos >= lm->n_vocab)
        return smc_fail(err, "smc: language model has n_vocab %d and eos %d", (int)lm->n_vocab,
                        (int)lm->eos);
    if (!c)
        return smc_fail(err, "smc: no configuration");
    if ((int)c->method < 0 || c->method > SMC_METHOD_SMC_FULL)
        return smc_fail(err, "smc: unknown method %d", (int)c->method);
    if (c->n_particles < 1 || c->n_particles > 1000000)
        return smc_fail(err, "smc: particles must be in 1..1000000 (got %d)", c->n_particles);
    if (!(c->ess_threshold >= 0 && c->ess_threshold <= 1))
        return smc_fail(err, "smc: ESS threshold must be in [0, 1] (got %g)", c->ess_threshold);
    if (c->max_tokens < 0)
        return smc_fail(err, "smc: max_tokens must be >= 0 (got %d)", c->max_tokens);
    if (!(c->temperature > 0) || !isfinite(c->temperature))
        return smc_fail(err, "smc: temperature must be positive (got %g)", c->temperature);
    if ((int)c->resample < 0 || c->resample > SMC_RESAMPLE_RESIDUAL)
        return smc_fail(err, "smc: unknown resampling scheme %d", (int)c->resample);
    if (c->lookahead < 0 || c->lookahead > 4096)
        return smc_fail(err, "smc: lookahead must be in 0..4096 (got %d)", c->lookahead);
    if (c->proposal != SMC_PROPOSAL_MASKED && c->proposal != SMC_PROPOSAL_AWRS)
        return smc_fail(err, "smc: unknown proposal %d", (int)c->proposal);
    bool needs_critic = c->method == SMC_METHOD_RERANK || c->method == SMC_METHOD_IS_FULL ||
                        c->method == SMC_METHOD_SMC_FULL;
    if (needs_critic && !critic)
        return smc_fail(err, "smc: method %s needs a critic", smc_method_name(c->method));
    if (critic && needs_critic && (!critic->vt->prefix || !critic->vt->complete))
        return smc_fail(err, "smc: critic %s lacks prefix/complete", critic->name);
    if (cheap && c->method != SMC_METHOD_PLAIN) {
        if (!cheap->vt->logw_next && !cheap->vt->token_mask)
            return smc_fail(err, "smc: potential %s is not token-level (no logw_next or token_mask)",
                            cheap->name);
        if (cheap->n_vocab != lm->n_vocab)
            return smc_fail(err, "smc: potential %s has %d tokens, the model %d", cheap->name,
                            (int)cheap->n_vocab, (int)lm->n_vocab);
        if (!cheap->vt->prefix || !cheap->vt->complete)
            return smc_fail(err, "smc: potential %s lacks prefix/complete", cheap->name);
        if (c->proposal == SMC_PROPOSAL_AWRS && !cheap->vt->token_allowed)
            return smc_fail(err, "smc: the AWRS proposal needs a Boolean constraint; %s is not one",
                            cheap->name);
    }
    return 0;
}

static void free_particle(run *R, smc_particle *p)
{
    if (p->lm_state)
        R->lm->release(R->lm->self, p->lm_state);
    if (R->cheap)
        smc_pot_state_free(R->cheap, p->cheap_st);
    if (R->critic)
        smc_pot_state_free(R->critic, p->critic_st);
    smc_particle_free_data(p);
    memset(p, 0, sizeof *p);
}

/* A child of src sharing its LM state (forked) and cloned potential states. */
static int fork_particle(run *R, smc_particle *dst, const smc_particle *src, smc_error *err)
{
    if (smc_particle_copy_data(dst, src) < 0)
        return smc_fail(err, "out of memory");
    dst->lm_state = R->lm->fork(R->lm->self, src->lm_state);
    if ((R->cheap && smc_pot_state_clone(R->cheap, src->cheap_st, &dst->cheap_st, err) < 0) ||
        (R->critic && smc_pot_state_clone(R->critic, src->critic_st, &dst->critic_st, err) < 0)) {
        free_particle(R, dst);
        return -1;
    }
    return 0;
}

/* Samples v with probability exp(w[v] - logz). */
static int32_t sample_index(const double *w, int32_t n, double logz, smc_rng *rng)
{
    double u = smc_prng_uniform(rng), c = 0;
    int32_t last = -1;
    for (int32_t v = 0; v < n; v++) {
        if (w[v] == -INFINITY)
            continue;
        c += exp(w[v] - logz);
        last = v;
        if (u < c)
            return v;
    }
    return last;
}

/* Boolean path, exactly: sample among the allowed tokens of the mask only,
 * lp(v) = logits[v]*inv - lse, shifted by the largest allowed logit. The
 * fallback of sample_masked when every allowed token is ~1e-280 or less of
 * the row's largest (or none is allowed: returns -1). The log allowed mass
 * in *inc. */
static int32_t sample_masked_shifted(const float *logits, double inv, double lse, const uint32_t *bits,
                                     int32_t nv, smc_rng *rng, double *inc)
{
    int32_t words = (nv + 31) / 32;
    double m = -INFINITY;
    for (int32_t w = 0; w < words; w++)
        for (uint32_t b = bits[w]; b; b &= b - 1) {
            int32_t v = w * 32 + __builtin_ctz(b);
            if (v < nv && logits[v] * inv > m)
                m = logits[v] * inv;
        }
    if (m == -INFINITY) {
        *inc = -INFINITY;
        return -1;
    }
    double s = 0;
    for (int32_t w = 0; w < words; w++)
        for (uint32_t b = bits[w]; b; b &= b - 1) {
            int32_t v = w * 32 + __builtin_ctz(b);
            if (v < nv)
                s += exp(logits[v] * inv - m);
        }
    *inc = m + log(s) - lse;
    double u = smc_prng_uniform(rng) * s, c = 0;
    int32_t last = -1;
    for (int32_t w = 0; w < words; w++)
        for (uint32_t b = bits[w]; b; b &= b - 1) {
            int32_t v = w * 32 + __builtin_ctz(b);
            if (v >= nv)
                break;
            double e = exp(logits[v] * inv - m);
            if (e <= 0)
                continue;
            c += e;
            last = v;
            if (u < c)
                return v;
        }
    return last;
}

/* Allowed mass (relative to the row's largest term, 1) below which
 * sample_masked falls back to sample_masked_shifted: the exps of such
 * tokens, taken from the row's maximum, would be near underflow. */
#define MASKED_MIN_MASS 1e-280

/* Boolean fast path: sample among the allowed tokens of the mask in
 * proportion to ex[v] = exp(logits[v]*inv - max) (smc_row_exp; their sum
 * over the vocabulary is ex_sum), no exp per token. Returns the token (-1:
 * nothing allowed) and the log allowed mass in *inc. */
static int32_t sample_masked(const float *logits, double inv, double lse, const double *ex, double ex_sum,
                             const uint32_t *bits, int32_t nv, smc_rng *rng, double *inc)
{
    int32_t words = (nv + 31) / 32;
    double a = 0;
    for (int32_t w = 0; w < words; w++)
        for (uint32_t b = bits[w]; b; b &= b - 1) {
            int32_t v = w * 32 + __builtin_ctz(b);
            if (v < nv)
                a += ex[v];
        }
    if (!(a >= MASKED_MIN_MASS))
        return sample_masked_shifted(logits, inv, lse, bits, nv, rng, inc);
    *inc = log(a / ex_sum);
    double u = smc_prng_uniform(rng) * a, c = 0;
    int32_t last = -1;
    for (int32_t w = 0; w < words; w++)
        for (uint32_t b = bits[w]; b; b &= b - 1) {
            int32_t v = w * 32 + __builtin_ctz(b);
            if (v >= nv)
                break;
            if (ex[v] <= 0)
                continue;
            c += ex[v];
            last = v;
            if (u < c)
                return v;
        }
    return last;
}

/* The one token a mask allows, when it allows exactly one and that is not
 * EOS; else -1. */
static int32_t single_token(const uint32_t *bits, int32_t nv, int32_t eos)
{
    int32_t words = (nv + 31) / 32, found = -1;
    for (int32_t w = 0; w < words; w++) {
        uint32_t b = bits[w];
        if (!b)
            continue;
        if (found >= 0 || (b & (b - 1)))
            return -1;
        found = w * 32 + __builtin_ctz(b);
    }
    return found >= nv || found == eos ? -1 : found;
}

static int grow_ahead_text(run *R, size_t need)
{
    if (need <= R->cap_ahead_text)
        return 0;
    size_t cap = R->cap_ahead_text ? R->cap_ahead_text : 256;
    while (cap < need)
        cap *= 2;
    char *t = realloc(R->ahead_text, cap);
    if (!t)
        return -1;
    R->ahead_text = t;
    R->cap_ahead_text = cap;
    return 0;
}

/* Follows the tokens the constraint forces after p's text (masks allowing
 * one token) on a clone of its cheap state: queues them in p->fq and
 * leaves the mask after them in p->mask. Every mask it computes is one the
 * coming steps would compute, so it adds only the clone's advances. */
static int forced_run(run *R, smc_particle *p, int32_t f, smc_error *err)
{
    const smc_lm *lm = R->lm;
    smc_potential *c = R->cheap;
    void *st = NULL;
    if (smc_pot_state_clone(c, p->cheap_st, &st, err) < 0)
        return -1;
    size_t len = p->len;
    int rc = grow_ahead_text(R, len + 1);
    if (rc == 0 && len)
        memcpy(R->ahead_text, p->text, len);
    while (rc == 0) {
        p->fq[p->n_fq++] = f;
        smc_str b = lm->token_bytes(lm->self, f);
        if (grow_ahead_text(R, len + b.len + 1) < 0) {
            rc = smc_fail(err, "out of memory");
            break;
        }
        memcpy(R->ahead_text + len, b.ptr, b.len);
        len += b.len;
        if (smc_pot_advance(c, st, R->ahead_text, len, b.len, err) < 0) {
            rc = smc_fail_context(err, "potential %s", c->name);
            break;
        }
        p->mask_ok = false; /* the step after a full queue or at max_tokens computes its own */
        if (p->n_fq == R->cfg->lookahead || p->n_toks + p->n_fq >= R->cfg->max_tokens)
            break;
        if (c->vt->token_mask(c->self, st, R->ahead_text, len, p->mask, err) < 0) {
            rc = smc_fail_context(err, "potential %s", c->name);
            break;
        }
        p->mask_ok = true;
        if ((f = single_token(p->mask, lm->n_vocab, lm->eos)) < 0)
            break;
    }
    smc_pot_state_free(c, st);
    if (rc == 0 && lm->lookahead && lm->lookahead(lm->self, p->lm_state, p->fq, (size_t)p->n_fq, err) < 0)
        return smc_fail_context(err, "language model lookahead");
    return rc;
}

/* Before p's next step: its mask, and when the constraint forces the next
 * tokens, the run of them, handed to the LM to evaluate with the next batch. */
static int plan_ahead(run *R, smc_particle *p, smc_error *err)
{
    if (p->fq_head < p->n_fq || p->mask_ok || p->n_toks >= R->cfg->max_tokens)
        return 0;
    int32_t words = (R->lm->n_vocab + 31) / 32;
    if (!p->mask && !(p->mask = malloc(sizeof *p->mask * (size_t)words)))
        return smc_fail(err, "out of memory");
    p->mask_words = words;
    if (p->cap_fq < R->cfg->lookahead) {
        int32_t *q = realloc(p->fq, sizeof *q * (size_t)R->cfg->lookahead);
        if (!q)
            return smc_fail(err, "out of memory");
        p->fq = q;
        p->cap_fq = R->cfg->lookahead;
    }
    p->fq_head = p->n_fq = 0;
    double t1 = smc_now();
    if (R->cheap->vt->token_mask(R->cheap->self, p->cheap_st, p->text, p->len, p->mask, err) < 0)
        return smc_fail_context(err, "potential %s", R->cheap->name);
    p->mask_ok = true;
    int32_t f = single_token(p->mask, R->lm->n_vocab, R->lm->eos);
    int rc = f >= 0 ? forced_run(R, p, f, err) : 0;
    R->res->t_mask += smc_now() - t1;
    return rc;
}

/* The mask of p's step into R->bits or p->mask: the next queued forced
 * token, the mask planned ahead, or computed now. */
static int step_mask(run *R, smc_particle *p, const uint32_t **bits, smc_error *err)
{
    int32_t nv = R->lm->n_vocab;
    if (p->fq_head < p->n_fq) {
        int32_t f = p->fq[p->fq_head++];
        memset(R->bits, 0, sizeof *R->bits * (size_t)((nv + 31) / 32));
        R->bits[f / 32] = 1u << (f % 32);
        *bits = R->bits;
        R->res->n_forced++;
        return 0;
    }
    if (p->mask_ok) {
        p->mask_ok = false;
        *bits = p->mask;
    } else {
        double t1 = smc_now();
        if (R->cheap->vt->token_mask(R->cheap->self, p->cheap_st, p->text, p->len, R->bits, err) < 0)
            return smc_fail_context(err, "potential %s", R->cheap->name);
        R->res->t_mask += smc_now() - t1;
        *bits = R->bits;
    }
    R->res->n_forced += single_token(*bits, nv, R->lm->eos) >= 0;
    return 0;
}

/* A critic returned +inf: it could not score (see smc_potential_vtable). */
static int critic_failed(const smc_potential *c, smc_error *err)
{
    const char *why = c->vt->failure ? c->vt->failure(c->self) : NULL;
    return smc_fail(err, "smc: critic %s failed: %s", c->name, why ? why : "it returned +inf");
}

/* Particle p owes the critic its complete or prefix score (asked for by
 * settle_critic once every particle has stepped). */
static void owe_critic(run *R, smc_particle *p, bool complete)
{
    R->owed[R->n_owed] = p;
    R->reqs[R->n_owed++] = (smc_score_request){p->critic_st, p->text, p->len, complete};
}

/* Tells the trace how the critic scored p (and why it is impossible). */
static void trace_critic_score(run *R, smc_particle *p, const smc_score_request *q, double v)
{
    char why[256];
    bool explain = p->logw == -INFINITY && R->critic->vt->explain;
    why[0] = 0;
    if (explain)
        R->critic->vt->explain(R->critic->self, q->state, q->text, q->len, q->complete, why,
                               sizeof why);
    else if (isnan(v))
        snprintf(why, sizeof why, "the critic's score is NaN");
    trace_critic(R->trace, (int)(p - R->ps), q->complete, v, p->logw, why[0] ? why : NULL);
}

/* Asks for the owed scores in one batch and applies them: a complete score
 * replaces the twist inside the weight, a prefix score becomes the new twist;
 * -inf (or NaN) kills the particle. */
static int settle_critic(run *R, smc_error *err)
{
    int n = R->n_owed;
    R->n_owed = 0;
    R->critic_scored = n > 0;
    if (n == 0)
        return 0;
    double t1 = smc_now();
    int rc = smc_pot_score_batch(R->critic, n, R->reqs, R->scores, err);
    double dt = smc_now() - t1;
    R->res->t_critic += dt;
    if (rc < 0)
        return smc_fail_context(err, "smc: critic %s", R->critic->name);
    if (R->trace)
        R->trace_critic_time = dt, R->trace_critic_calls = n;
    for (int k = 0; k < n; k++) {
        smc_particle *p = R->owed[k];
        double v = R->scores[k];
        if (v == INFINITY)
            return critic_failed(R->critic, err);
        if (R->reqs[k].complete) {
            p->logw = v == -INFINITY || isnan(v) ? -INFINITY : p->logw - p->twist + v;
            p->twist = 0;
        } else if (v == -INFINITY || isnan(v)) {
            p->logw = -INFINITY;
            p->done = true;
        } else {
            p->logw += v - p->twist;
            p->twist = v;
        }
        if (R->trace)
            trace_critic_score(R, p, &R->reqs[k], v);
    }
    return 0;
}

/* One step of particle p, whose next-token scores are in logits. */
static int step_particle(run *R, smc_particle *p, const float *logits, smc_error *err)
{
    const smc_lm *lm = R->lm;
    int32_t nv = lm->n_vocab, eos = lm->eos;
    smc_result *res = R->res;
    double inv = 1.0 / R->cfg->temperature;
    int32_t tok;
    double inc;
    bool forced = p->n_toks >= R->cfg->max_tokens;
    bool mask_path = R->cheap && R->cheap->vt->token_mask && R->cfg->proposal == SMC_PROPOSAL_MASKED;
    if (forced || mask_path) {
        double m, ex_sum, lse = smc_row_exp(logits, (size_t)nv, inv, R->ex, &m, &ex_sum);
        if (isnan(lse) || lse == INFINITY)
            return smc_fail(err, "smc: NaN or infinite next-token scores");
        if (lse == -INFINITY) {
            tok = -1;
            inc = -INFINITY;
        } else if (forced) {
            /* Forced EOS: weight by the target's EOS weight (genlm-control #145). */
            tok = eos;
            inc = logits[eos] * inv - lse;
            if (R->cheap) {
                double t1 = smc_now();
                inc += R->cheap->vt->complete(R->cheap->self, p->cheap_st, p->text, p->len) -
                       R->cheap->vt->prefix(R->cheap->self, p->cheap_st, p->text, p->len);
                res->t_mask += smc_now() - t1;
            }
            if (isnan(inc))
                inc = -INFINITY;
            p->forced = true;
        } else {
            const uint32_t *bits = NULL;
            if (step_mask(R, p, &bits, err) < 0)
                return -1;
            tok = sample_masked(logits, inv, lse, R->ex, ex_sum, bits, nv, &R->rng, &inc);
        }
    } else if (R->cheap && R->cfg->proposal == SMC_PROPOSAL_AWRS) {
        smc_log_softmax(logits, (size_t)nv, R->cfg->temperature, R->lp);
        double t1 = smc_now();
        int rc = smc_awrs_sample(R->awrs, R->lp, R->cheap, p->cheap_st, p->text, p->len,
                                 R->cfg->awrs_max_accepts, &R->rng, &tok, &inc,
                                 &res->n_constraint_checks, err);
        res->t_mask += smc_now() - t1;
        if (rc < 0)
            return -1;
    } else {
        smc_log_softmax(logits, (size_t)nv, R->cfg->temperature, R->lp);
        const double *w = R->lp;
        if (R->cheap) {
            double t1 = smc_now();
            if (smc_pot_logw_next(R->cheap, p->cheap_st, p->text, p->len, R->w, R->bits, err) < 0)
                return smc_fail_context(err, "potential %s", R->cheap->name);
            for (int32_t v = 0; v < nv; v++)
                R->w[v] += R->lp[v];
            w = R->w;
            res->t_mask += smc_now() - t1;
        }
        inc = smc_logsumexp_d(w, (size_t)nv);
        if (isnan(inc))
            return smc_fail(err, "smc: NaN in next-token scores");
        tok = inc == -INFINITY ? -1 : sample_index(w, nv, inc, &R->rng);
    }
    if (inc == INFINITY || isnan(inc))
        return smc_fail(err, "smc: a potential returned +inf or NaN (cheap potential %s)",
                        R->cheap ? R->cheap->name : "none");
    if (tok < 0) {
        p->logw = -INFINITY; /* dead end: nothing allowed */
        p->done = true;
        if (R->trace)
            trace_move(R->trace, (int)(p - R->ps), -1, "", 0, inc, p->logw, 0, TRACE_DEAD_NO_TOKEN);
        return 0;
    }
    if (inc == -INFINITY) {
        /* A forced EOS the constraint rejects: the particle ends, dead. */
        p->logw = -INFINITY;
        p->done = true;
        if (R->trace)
            trace_move(R->trace, (int)(p - R->ps), tok, "", 0, inc, p->logw,
                       TRACE_EOS | TRACE_FORCED, TRACE_DEAD_EOS);
        return smc_particle_push(p, tok, "", 0) < 0 ? smc_fail(err, "out of memory") : 0;
    }
    if (R->correction)
        p->logw += inc;
    res->n_tokens++;
    smc_str b = tok == eos ? (smc_str){"", 0} : lm->token_bytes(lm->self, tok);
    if (smc_particle_push(p, tok, b.ptr, b.len) < 0)
        return smc_fail(err, "out of memory");
    if (R->trace)
        trace_move(R->trace, (int)(p - R->ps), tok, b.ptr, b.len, inc, p->logw,
                   tok == eos ? TRACE_EOS | (forced ? TRACE_FORCED : 0u) : 0u, TRACE_ALIVE);
    if (tok == eos) {
        p->done = true;
        if (R->cmode != CRITIC_NONE)
            owe_critic(R, p, true);
        return 0;
    }
    double t1 = smc_now();
    if (lm->extend(lm->self, &p->lm_state, tok, err) < 0)
        return smc_fail_context(err, "language model");
    double t2 = smc_now();
    res->t_lm += t2 - t1;
    if (R->cheap && smc_pot_advance(R->cheap, p->cheap_st, p->text, p->len, b.len, err) < 0)
        return smc_fail_context(err, "potential %s", R->cheap->name);
    double t3 = smc_now();
    res->t_mask += t3 - t2;
    if (R->cmode != CRITIC_NONE) {
        if (smc_pot_advance(R->critic, p->critic_st, p->text, p->len, b.len, err) < 0)
            return smc_fail_context(err, "critic %s", R->critic->name);
        if (R->cmode == CRITIC_TWIST && smc_pot_is_boundary(R->critic, p->text, p->len, b.len))
            owe_critic(R, p, false);
        res->t_critic += smc_now() - t3;
    }
    return R->lookahead ? plan_ahead(R, p, err) : 0;
}

/* Hands the particles' texts and weights to cfg->on_step; -1 when it asks
 * to stop. */
static int call_on_step(run *R, int n, smc_error *err)
{
    const char **texts = malloc(sizeof *texts * (size_t)n);
    size_t *lens = malloc(sizeof *lens * (size_t)n);
    double *lw = malloc(sizeof *lw * (size_t)n);
    int rc = 0;
    if (!texts || !lens || !lw)
        rc = smc_fail(err, "out of memory");
    else {
        for (int i = 0; i < n; i++) {
            texts[i] = R->ps[i].text ? R->ps[i].text : "";
            lens[i] = R->ps[i].len;
            lw[i] = R->ps[i].logw;
        }
        if (R->cfg->on_step(R->cfg->on_step_ud, n, texts, lens, lw))
            rc = smc_fail(err, "the run was stopped");
    }
    free(texts);
    free(lens);
    free(lw);
    return rc;
}

static int resample(run *R, smc_error *err)
{
    int n = R->n;
    double *lw = malloc(sizeof *lw * (size_t)n);
    int *anc = malloc(sizeof *anc * (size_t)n);
    smc_particle *next = calloc((size_t)n, sizeof *next);
    int rc = 0;
    if (!lw || !anc || !next) {
        rc = smc_fail(err, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        lw[i] = R->ps[i].logw;
    double mean = smc_log_mean_exp(lw, n);
    if (smc_resample(R->cfg->resample, lw, n, n, &R->rng, anc) < 0) {
        rc = smc_fail(err, "resampling failed");
        goto out;
    }
    if (R->trace)
        trace_resample(R->trace, anc, n, mean);
    for (int j = 0; j < n; j++) {
        if (fork_particle(R, &next[j], &R->ps[anc[j]], err) < 0) {
            for (int k = 0; k < j; k++)
                free_particle(R, &next[k]);
            rc = -1;
            goto out;
        }
        next[j].logw = mean;
    }
    for (int i = 0; i < n; i++)
        free_particle(R, &R->ps[i]);
    free(R->ps);
    R->ps = next;
    next = NULL;
    R->res->n_resamples++;
out:
    free(lw);
    free(anc);
    free(next);
    return rc;
}

static int run_loop(run *R, const int32_t *prompt, size_t n_prompt, smc_error *err)
{
    const smc_lm *lm = R->lm;
    int n = R->n;
    int32_t nv = lm->n_vocab;
    smc_result *res = R->res;
    double t0 = smc_now();
    void *root = NULL;
    if (lm->root(lm->self, prompt, n_prompt, &root, err) < 0)
        return smc_fail_context(err, "language model prompt");
    res->t_lm += smc_now() - t0;
    for (int i = 0; i < n; i++) {
        smc_particle *p = &R->ps[i];
        p->lm_state = lm->fork(lm->self, root);
        if ((R->cheap && smc_pot_state_new(R->cheap, &p->cheap_st, err) < 0) ||
            (R->critic && smc_pot_state_new(R->critic, &p->critic_st, err) < 0))
            return lm->release(lm->self, root), smc_fail_context(err, "potential state");
        if (smc_particle_push(p, 0, "", 0) < 0)
            return lm->release(lm->self, root), smc_fail(err, "out of memory");
        p->n_toks = 0; /* allocate buffers only */
        if (R->lookahead && plan_ahead(R, p, err) < 0)
            return lm->release(lm->self, root), -1;
    }
    lm->release(lm->self, root);
    void **states = malloc(sizeof *states * (size_t)n);
    int *active = malloc(sizeof *active * (size_t)n);
    double *lw = malloc(sizeof *lw * (size_t)n);
    int cap_trace = 64;
    res->ess_trace = malloc(sizeof *res->ess_trace * (size_t)cap_trace);
    if (!states || !active || !lw || !res->ess_trace) {
        free(states);
        free(active);
        free(lw);
        return smc_fail(err, "out of memory");
    }
    int rc = 0;
    for (;;) {
        int na = 0;
        for (int i = 0; i < n; i++)
            if (!R->ps[i].done) {
                active[na] = i;
                states[na++] = R->ps[i].lm_state;
            }
        if (na == 0)
            break;
        if (R->trace) {
            trace_step_begin(R->trace);
            R->trace_critic_calls = 0;
            R->trace_critic_time = 0;
        }
        double t1 = smc_now();
        if (lm->next_logits(lm->self, states, (size_t)na, R->logits, err) < 0) {
            rc = smc_fail_context(err, "language model");
            break;
        }
        res->t_lm += smc_now() - t1;
        res->n_lm_evals += na;
        for (int k = 0; k < na && rc == 0; k++)
            rc = step_particle(R, &R->ps[active[k]], R->logits + (size_t)k * (size_t)nv, err);
        if (rc == 0)
            rc = settle_critic(R, err);
        if (rc < 0) {
            if (R->trace) /* the failed step, as far as it went */
                trace_step_end(R->trace, NAN, na, R->trace_critic_calls, R->trace_critic_time);
            break;
        }
        for (int i = 0; i < n; i++)
            lw[i] = R->ps[i].logw;
        double ess = smc_ess(lw, n);
        if (res->n_steps == cap_trace) {
            cap_trace *= 2;
            double *t = realloc(res->ess_trace, sizeof *t * (size_t)cap_trace);
            if (!t) {
                rc = smc_fail(err, "out of memory");
                break;
            }
            res->ess_trace = t;
        }
        res->ess_trace[res->n_steps++] = ess;
        int still = 0;
        for (int i = 0; i < n; i++)
            still += !R->ps[i].done;
        if (R->trace) {
            trace_step_end(R->trace, ess, still, R->trace_critic_calls, R->trace_critic_time);
            if ((rc = trace_check(R->trace, err)) < 0)
                break;
        }
        bool at_critic = !R->cfg->resample_at_critic || R->cmode != CRITIC_TWIST || R->critic_scored;
        if (R->resampling && at_critic && still > 0 && ess > 0 && ess < R->cfg->ess_threshold * n) {
            double t2 = smc_now();
            rc = resample(R, err);
            res->t_resample += smc_now() - t2;
            if (rc < 0)
                break;
        }
        if (R->cfg->progress)
            R->cfg->progress(R->cfg->progress_ud, res->n_steps, still, ess);
        if (R->cfg->on_step && (rc = call_on_step(R, n, err)) < 0)
            break;
    }
    free(states);
    free(active);
    free(lw);
    return rc;
}

int smc_run(const smc_lm *lm, const int32_t *prompt, size_t n_prompt, smc_potential *cheap,
            smc_potential *critic, const smc_config *cfg, smc_result **out, smc_error *err)
{
    if (!out)
        return smc_fail(err, "smc: no output pointer");
    *out = NULL;
    if (validate(lm, cheap, critic, cfg, err) < 0)
        return -1;
    if (n_prompt > 0 && !prompt)
        return smc_fail(err, "smc: prompt of %zu tokens is NULL", n_prompt);
    double t_start = smc_now();
    run R = {0};
    R.lm = lm;
    R.cfg = cfg;
    R.n = cfg->n_particles;
    smc_method m = cfg->method;
    R.cheap = m == SMC_METHOD_PLAIN ? NULL : cheap;
    R.cmode = m == SMC_METHOD_SMC_FULL ? CRITIC_TWIST
            : (m == SMC_METHOD_RERANK || m == SMC_METHOD_IS_FULL) ? CRITIC_END
                                                                   : CRITIC_NONE;
    R.critic = R.cmode == CRITIC_NONE ? NULL : critic;
    R.correction = !cfg->no_weight_correction &&
                   (m == SMC_METHOD_IS || m == SMC_METHOD_SMC || m == SMC_METHOD_IS_FULL ||
                    m == SMC_METHOD_SMC_FULL);
    R.resampling = m == SMC_METHOD_SMC || m == SMC_METHOD_SMC_FULL;
    R.trace = cfg->trace;
    R.lookahead = cfg->lookahead > 0 && R.cheap && R.cheap->vt->token_mask &&
                  cfg->proposal == SMC_PROPOSAL_MASKED;
    smc_prng_seed(&R.rng, cfg->seed);
    size_t nv = (size_t)lm->n_vocab;
    R.ps = calloc((size_t)R.n, sizeof *R.ps);
    R.logits = malloc(sizeof *R.logits * nv * (size_t)R.n);
    R.lp = malloc(sizeof *R.lp * nv);
    R.w = malloc(sizeof *R.w * nv);
    R.ex = malloc(sizeof *R.ex * nv);
    R.bits = malloc(sizeof *R.bits * ((nv + 31) / 32));
    R.res = calloc(1, sizeof *R.res);
    R.owed = malloc(sizeof *R.owed * (size_t)R.n);
    R.reqs = malloc(sizeof *R.reqs * (size_t)R.n);
    R.scores = malloc(sizeof *R.scores * (size_t)R.n);
    if (R.cheap && cfg->proposal == SMC_PROPOSAL_AWRS)
        R.awrs = smc_awrs_new(lm->n_vocab);
    int rc = 0;
    if (!R.ps || !R.logits || !R.lp || !R.w || !R.ex || !R.bits || !R.res || !R.owed || !R.reqs || !R.scores ||
        (R.cheap && cfg->proposal == SMC_PROPOSAL_AWRS && !R.awrs))
        rc = smc_fail(err, "smc: out of memory (%d particles × %zu tokens)", R.n, nv);
    if (rc == 0 && R.trace && trace_begin(R.trace, cfg, R.correction, R.cheap, R.critic) < 0)
        rc = smc_fail(err, "smc: out of memory starting the trace");
    if (rc == 0) {
        R.res->method = m;
        rc = run_loop(&R, prompt, n_prompt, err);
    }
    if (rc == 0 && R.trace)
        rc = trace_check(R.trace, err);
    if (rc == 0)
        rc = smc_result_fill(R.res, R.ps, R.n, err);
    for (int i = 0; R.ps && i < R.n; i++)
        free_particle(&R, &R.ps[i]);
    free(R.ps);
    free(R.logits);
    free(R.lp);
    free(R.w);
    free(R.ex);
    free(R.bits);
    free(R.owed);
    free(R.reqs);
    free(R.scores);
    free(R.ahead_text);
    smc_awrs_free(R.awrs);
    if (rc < 0) {
        smc_result_free(R.res);
        return -1;
    }
    R.res->t_total = smc_now() - t_start;
    *out = R.res;
    return 0;
}
