/* trace.h — what smc_run tells a trace while it runs (src/smc/trace.c), and
 * the recorded data that trace_json.c writes out. The sampler calls these
 * only when smc_config.trace is set. */
#ifndef SMC_SMC_TRACE_H
#define SMC_SMC_TRACE_H

#include "smcgen.h"

enum {
    TRACE_EOS = 1,          /* the particle ended with EOS at this step */
    TRACE_FORCED = 2,       /* ... forced at max_tokens */
    TRACE_CRITIC = 4,       /* the critic scored it at this step */
    TRACE_COMPLETE = 8,     /* ... as a complete text (else as a prefix) */
};

typedef enum trace_death {
    TRACE_ALIVE,
    TRACE_DEAD_NO_TOKEN,    /* the constraint allowed no token */
    TRACE_DEAD_EOS,         /* the EOS forced at max_tokens is impossible */
    TRACE_DEAD_CRITIC       /* the critic's score was -inf */
} trace_death;

/* One particle's move at one step. */
typedef struct trace_event {
    int32_t slot, token;        /* token -1: none could be drawn */
    double mass;                /* log restricted mass (the weight increment) */
    double logw;                /* log-weight after the step (critic included) */
    double critic;              /* the critic's score when TRACE_CRITIC */
    unsigned flags;
    trace_death death;
    size_t text, text_len;      /* the token's bytes, in the trace's byte store */
    size_t why, why_len;        /* the death's reason (critic deaths), ditto */
} trace_event;

typedef struct trace_step {
    size_t first, n;            /* its events */
    double ess;
    int active;                 /* particles not finished after the step */
    int critic_calls;
    double critic_time;         /* seconds, the step's one batch */
    bool resampled;
    size_t parents;             /* into the trace's parent store (n_particles) */
    double resampled_logw;      /* every child's log-weight after resampling */
} trace_step;

typedef struct trace_info {
    char *key, *value;
} trace_info;

struct smc_trace {
    /* the run's settings */
    smc_method method;
    int n_particles;
    double ess_threshold, temperature;
    smc_resample_scheme resample;
    int max_tokens;
    uint64_t seed;
    smc_proposal proposal;
    bool correction;
    bool resample_at_critic;
    int lookahead;
    char *cheap_name, *critic_name;
    /* what happened */
    trace_step *steps;
    size_t n_steps, cap_steps;
    trace_event *events;
    size_t n_events, cap_events;
    char *bytes;
    size_t n_bytes, cap_bytes;
    int *parents;
    size_t n_parents, cap_parents;
    long *slot_event;           /* this step's event per slot, -1 none */
    bool oom;                   /* a record was lost: the run fails */
    /* set by the caller, kept across runs */
    trace_info *info;
    int n_info;
};

/* Clears t and records the run's settings. -1 when out of memory. */
int trace_begin(smc_trace *t, const smc_config *cfg, bool correction, const smc_potential *cheap,
                const smc_potential *critic);
void trace_step_begin(smc_trace *t);
/* Particle slot drew token (bytes b[n]) with log mass; logw after it. */
void trace_move(smc_trace *t, int slot, int32_t token, const char *b, size_t n, double mass,
                double logw, unsigned flags, trace_death death);
/* The critic scored slot's text: score, the log-weight after it, and for a
 * -inf score the reason (may be NULL). */
void trace_critic(smc_trace *t, int slot, bool complete, double score, double logw,
                  const char *why);
void trace_step_end(smc_trace *t, double ess, int active, int critic_calls, double critic_time);
/* The step's resampling: child j's parent is parents[j]; every child's
 * log-weight is logw. */
void trace_resample(smc_trace *t, const int *parents, int n, double logw);
/* 0, or -1 with err when a record was lost to a failed allocation. */
int trace_check(const smc_trace *t, smc_error *err);

#endif
