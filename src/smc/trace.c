/* trace.c — the smc_trace object and its recording during smc_run: growable
 * stores of steps, per-particle events, token bytes and resampling parents.
 * A failed allocation marks the trace (trace_check), so that the sampler's
 * hot loop needs no error paths for it. */
#include "smc/trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "smc/potential.h"
#include "util/error.h"

smc_trace *smc_trace_new(void)
{
    return calloc(1, sizeof(smc_trace));
}

static void clear_run(smc_trace *t)
{
    free(t->cheap_name);
    free(t->critic_name);
    t->cheap_name = t->critic_name = NULL;
    t->n_steps = t->n_events = t->n_bytes = t->n_parents = 0;
    t->oom = false;
}

void smc_trace_free(smc_trace *t)
{
    if (!t)
        return;
    clear_run(t);
    free(t->steps);
    free(t->events);
    free(t->bytes);
    free(t->parents);
    free(t->slot_event);
    for (int i = 0; i < t->n_info; i++) {
        free(t->info[i].key);
        free(t->info[i].value);
    }
    free(t->info);
    free(t);
}

int smc_trace_set_info(smc_trace *t, const char *key, const char *value, smc_error *err)
{
    if (!t || !key)
        return smc_fail(err, "trace info: no trace or key");
    for (int i = 0; i < t->n_info; i++)
        if (!strcmp(t->info[i].key, key)) {
            char *v = value ? strdup(value) : NULL;
            if (value && !v)
                return smc_fail(err, "out of memory");
            free(t->info[i].value);
            t->info[i].value = v;
            if (!v) {
                free(t->info[i].key);
                t->info[i] = t->info[--t->n_info];
            }
            return 0;
        }
    if (!value)
        return 0;
    trace_info *a = realloc(t->info, sizeof *a * (size_t)(t->n_info + 1));
    if (!a)
        return smc_fail(err, "out of memory");
    t->info = a;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return smc_fail(err, "out of memory");
    }
    t->info[t->n_info++] = (trace_info){k, v};
    return 0;
}

int smc_trace_n_steps(const smc_trace *t)
{
    return t ? (int)t->n_steps : 0;
}

/* Makes room for one more element of size sz in *a (n used, *cap held). */
static bool grow(smc_trace *t, void **a, size_t n, size_t *cap, size_t more, size_t sz)
{
    if (n + more <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < n + more)
        c *= 2;
    void *p = realloc(*a, c * sz);
    if (!p) {
        t->oom = true;
        return false;
    }
    *a = p;
    *cap = c;
    return true;
}

/* Copies s[n] into the byte store; its offset, or (size_t)-1. */
static size_t store_bytes(smc_trace *t, const char *s, size_t n)
{
    if (!grow(t, (void **)&t->bytes, t->n_bytes, &t->cap_bytes, n + 1, 1))
        return (size_t)-1;
    size_t off = t->n_bytes;
    if (n)
        memcpy(t->bytes + off, s, n);
    t->bytes[off + n] = 0;
    t->n_bytes += n + 1;
    return off;
}

int trace_begin(smc_trace *t, const smc_config *cfg, bool correction, const smc_potential *cheap,
                const smc_potential *critic)
{
    clear_run(t);
    t->method = cfg->method;
    t->n_particles = cfg->n_particles;
    t->ess_threshold = cfg->ess_threshold;
    t->temperature = cfg->temperature;
    t->resample = cfg->resample;
    t->max_tokens = cfg->max_tokens;
    t->seed = cfg->seed;
    t->proposal = cfg->proposal;
    t->correction = correction;
    t->resample_at_critic = cfg->resample_at_critic;
    t->lookahead = cfg->lookahead;
    t->cheap_name = cheap ? strdup(cheap->name ? cheap->name : "constraint") : NULL;
    t->critic_name = critic ? strdup(critic->name ? critic->name : "critic") : NULL;
    free(t->slot_event);
    t->slot_event = malloc(sizeof *t->slot_event * (size_t)cfg->n_particles);
    if (!t->slot_event || (cheap && !t->cheap_name) || (critic && !t->critic_name))
        return -1;
    return 0;
}

void trace_step_begin(smc_trace *t)
{
    if (!grow(t, (void **)&t->steps, t->n_steps, &t->cap_steps, 1, sizeof *t->steps))
        return;
    t->steps[t->n_steps] = (trace_step){.first = t->n_events};
    for (int i = 0; i < t->n_particles; i++)
        t->slot_event[i] = -1;
}

void trace_move(smc_trace *t, int slot, int32_t token, const char *b, size_t n, double mass,
                double logw, unsigned flags, trace_death death)
{
    if (t->oom || !grow(t, (void **)&t->events, t->n_events, &t->cap_events, 1, sizeof *t->events))
        return;
    size_t off = store_bytes(t, b, n);
    if (off == (size_t)-1)
        return;
    t->slot_event[slot] = (long)t->n_events;
    t->events[t->n_events++] = (trace_event){.slot = slot, .token = token, .mass = mass,
                                             .logw = logw, .flags = flags, .death = death,
                                             .text = off, .text_len = n};
}

void trace_critic(smc_trace *t, int slot, bool complete, double score, double logw,
                  const char *why)
{
    if (t->oom || t->slot_event[slot] < 0)
        return;
    trace_event *e = &t->events[t->slot_event[slot]];
    e->flags |= TRACE_CRITIC | (complete ? TRACE_COMPLETE : 0);
    e->critic = score;
    e->logw = logw;
    if (logw == -INFINITY && e->death == TRACE_ALIVE) {
        e->death = TRACE_DEAD_CRITIC;
        if (why) {
            size_t off = store_bytes(t, why, strlen(why));
            if (off != (size_t)-1) {
                e = &t->events[t->slot_event[slot]];
                e->why = off;
                e->why_len = strlen(why);
            }
        }
    }
}

void trace_step_end(smc_trace *t, double ess, int active, int critic_calls, double critic_time)
{
    if (t->oom)
        return;
    trace_step *s = &t->steps[t->n_steps++];
    s->n = t->n_events - s->first;
    s->ess = ess;
    s->active = active;
    s->critic_calls = critic_calls;
    s->critic_time = critic_time;
}

void trace_resample(smc_trace *t, const int *parents, int n, double logw)
{
    if (t->oom || t->n_steps == 0 ||
        !grow(t, (void **)&t->parents, t->n_parents, &t->cap_parents, (size_t)n, sizeof *t->parents))
        return;
    trace_step *s = &t->steps[t->n_steps - 1];
    s->resampled = true;
    s->parents = t->n_parents;
    s->resampled_logw = logw;
    memcpy(t->parents + t->n_parents, parents, sizeof *parents * (size_t)n);
    t->n_parents += (size_t)n;
}

int trace_check(const smc_trace *t, smc_error *err)
{
    return t->oom ? smc_fail(err, "smc: out of memory recording the trace") : 0;
}
