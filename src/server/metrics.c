/* metrics.c — GET /metrics in the Prometheus text format: requests,
 * errors, tokens, particle-tokens/s, queue, KV use, critic time and how
 * much the engine batches were shared between requests. */
#include <stdio.h>
#include <stdlib.h>

#include "server/server.h"

char *server_metrics_text(server *s)
{
    batcher_stats b;
    batcher_get_stats(s->batch, &b);
    pthread_mutex_lock(&s->mu);
    server_metrics m = s->m;
    int running = s->running, queued = s->queued;
    pthread_mutex_unlock(&s->mu);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
#define METRIC(name, type, help, fmt, value) \
    fprintf(f, "# HELP smcgen_" name " " help "\n# TYPE smcgen_" name " " type "\nsmcgen_" name " " fmt "\n", value)
    METRIC("requests_total", "counter", "Sampling requests received.", "%llu", (unsigned long long)m.requests);
    fprintf(f, "# HELP smcgen_request_errors_total Requests answered with an error, by class.\n"
               "# TYPE smcgen_request_errors_total counter\n"
               "smcgen_request_errors_total{class=\"4xx\"} %llu\nsmcgen_request_errors_total{class=\"5xx\"} %llu\n",
            (unsigned long long)m.errors_4xx, (unsigned long long)m.errors_5xx);
    METRIC("requests_rejected_total", "counter", "Requests refused with 503 because the queue was full.", "%llu",
           (unsigned long long)m.rejected);
    METRIC("requests_cancelled_total", "counter", "Requests stopped because the client went away.", "%llu",
           (unsigned long long)m.cancelled);
    METRIC("requests_timed_out_total", "counter", "Requests stopped by the per-request timeout.", "%llu",
           (unsigned long long)m.timeouts);
    METRIC("requests_running", "gauge", "Requests holding a slot.", "%d", running);
    METRIC("requests_queued", "gauge", "Requests waiting for a slot.", "%d", queued);
    METRIC("prompt_tokens_total", "counter", "Prompt tokens of finished requests.", "%llu",
           (unsigned long long)m.prompt_tokens);
    METRIC("particle_tokens_total", "counter", "Tokens evaluated for particles (all requests).", "%llu",
           (unsigned long long)b.states);
    METRIC("particle_tokens_per_second", "gauge", "Particle tokens per second of engine decoding.", "%.2f",
           b.decode_seconds > 0 ? (double)b.states / b.decode_seconds : 0.0);
    METRIC("engine_batches_total", "counter", "Engine decodes (one per step of the running requests).", "%llu",
           (unsigned long long)b.batches);
    METRIC("engine_shared_batches_total", "counter", "Engine decodes that served more than one request.", "%llu",
           (unsigned long long)b.multi_request_batches);
    METRIC("engine_batch_requests_max", "gauge", "Most requests served by one engine decode.", "%llu",
           (unsigned long long)b.max_requests);
    METRIC("prompt_cache_hits_total", "counter", "Prompts that reused a cached prompt (a running request's, or one kept across requests).", "%llu",
           (unsigned long long)b.prompt_hits);
    METRIC("prompt_tokens_saved_total", "counter", "Prompt tokens taken from those caches instead of being computed.", "%llu",
           (unsigned long long)b.prompt_tokens_saved);
    METRIC("prompt_cache_reliefs_total", "counter", "Failed decodes retried after emptying the prompt caches.",
           "%llu", (unsigned long long)b.reliefs);
    METRIC("engine_tokens_evaluated_total", "counter", "Tokens the engine evaluated (prompts and particles).",
           "%lld", (long long)b.tokens_evaluated);
    METRIC("engine_decode_seconds_total", "counter", "Seconds spent in engine decodes.", "%.4f", b.decode_seconds);
    METRIC("kv_used_bytes", "gauge", "KV cache memory held by live sequences.", "%zu", b.kv_used_bytes);
    METRIC("critic_seconds_total", "counter", "Seconds spent in critics.", "%.4f", m.critic_seconds);
    METRIC("sample_seconds_total", "counter", "Seconds spent sampling, summed over requests.", "%.4f", m.sample_seconds);
#undef METRIC
    fclose(f);
    return text;
}
