/* batcher.h — continuous batching across requests: an smc_lm shared by every
 * request thread that forwards to one engine LM, and gathers the
 * next_logits calls of all running requests into one engine batch per step.
 * New requests join between steps (their prompts are decoded in the same
 * batch as the others' next tokens); a prompt shared by running requests is
 * computed once. Across requests (also when idle) prompts are kept by the
 * inner LM's own prompt cache (smc_engine_lm_set_prompt_cache); each
 * request learns how many of its prompt tokens were reused. */
#ifndef SMC_SERVER_BATCHER_H
#define SMC_SERVER_BATCHER_H

#include <stdint.h>

#include "smcgen.h"

typedef struct batcher batcher;

typedef struct batcher_stats {
    uint64_t batches;          /* engine decodes */
    uint64_t states;           /* particle states given logits (particle-tokens) */
    uint64_t max_requests;     /* most requests served by one decode */
    uint64_t multi_request_batches; /* decodes that served more than one request */
    uint64_t prompt_hits;      /* prompts that reused a cached one (running requests' or the inner LM's) */
    uint64_t prompt_tokens_saved;
    uint64_t reliefs;          /* failed decodes retried after freeing the prompt caches */
    int64_t tokens_evaluated;  /* by inner (with a counter; else 0) */
    double decode_seconds;
    size_t kv_used_bytes;
    int running;               /* requests inside smc_run */
} batcher_stats;

/* inner: the engine LM (not thread safe); ctx: its context (for KV use).
 * gather_ms: how long a step waits for the other running requests before
 * decoding without them. */
int batcher_new(const smc_lm *inner, smc_ctx *ctx, double gather_ms, batcher **out, smc_error *err);
void batcher_free(batcher *b);
/* The LM the requests sample from (thread safe; owned by b). */
const smc_lm *batcher_lm(batcher *b);
/* A request starts / ends sampling: the number of running requests decides
 * when a step's batch is complete. */
void batcher_enter(batcher *b);
void batcher_leave(batcher *b);
void batcher_get_stats(batcher *b, batcher_stats *out);
/* Optional: inner's counts of evaluated tokens and of prompt tokens taken
 * from its own prompt cache (smc_engine_lm_counts), read under the lock:
 * the latter count as reused, the former go into the stats. */
void batcher_set_counter(batcher *b, void (*counts)(const smc_lm *inner, int64_t *decoded, int64_t *reused));
/* Optional: called (under the lock) when a decode fails, before it is tried
 * again: frees what inner keeps for later (the engine LM's prompt cache), so
 * that KV memory held by cached prompts goes to the running requests. The
 * batcher's own prompt cache is emptied too. */
void batcher_set_relief(batcher *b, void (*relieve)(void *ud), void *ud);
/* The prompt tokens the last root (the prompt of smc_run) made by the
 * calling thread through any batcher took from a cache instead of
 * computing them: smc_run calls root once, in its own thread. */
size_t batcher_thread_prompt_reused(void);

#endif
