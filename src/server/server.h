/* server.h — `smcgen serve`: the HTTP server's configuration, shared state
 * and the pieces its files share (request parsing, responses, jobs,
 * metrics, the critic allow-list). */
#ifndef SMC_SERVER_SERVER_H
#define SMC_SERVER_SERVER_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>

#include "pipeline/smc_setup.h"
#include "server/batcher.h"
#include "smcgen.h"

#define SERVER_MAX_ALLOW 32

typedef struct server_config {
    const char *model_path;      /* NULL: the bundled model */
    const char *host;            /* default 127.0.0.1 */
    int port;                    /* 0: any free port (printed) */
    int n_threads;
    int parallel;                /* requests sampling at once */
    int queue;                   /* requests waiting for a slot before 503 */
    size_t max_body;             /* bytes; larger bodies get 413 */
    long max_work;               /* particles × max_tokens per request */
    int max_n;                   /* most choices (n) per request */
    double timeout_s;            /* per request, queueing included */
    size_t kv_budget;            /* bytes; 0: the engine's default */
    double gather_ms;            /* continuous batching: wait for the other requests */
    const char *api_key;         /* NULL: no authentication */
    const char *allow_critic[SERVER_MAX_ALLOW];
    int n_allow;
    const char *name;            /* model name reported; NULL: the file's base name */
    int prompt_cache;            /* prompts whose KV is kept across requests (the option table's
                                    prompt_cache; smc_engine_lm_set_prompt_cache) */
    int load;                    /* how the model file is loaded (the option table's load and mlock:
                                    SMC_GGUF_*, smc_setup_load_how) */
} server_config;

typedef struct server_metrics {
    uint64_t requests, errors_4xx, errors_5xx, rejected, cancelled, timeouts;
    uint64_t prompt_tokens, completion_tokens;
    double critic_seconds, sample_seconds;
} server_metrics;

typedef struct server {
    server_config cfg;
    smc_setup shared;            /* model, context, engine LM, token index */
    const smc_vocab *vocab;
    batcher *batch;
    char model_name[128];
    bool model_template;         /* the model's GGUF chat template is one smcgen recognises */
    pthread_mutex_t mu;
    pthread_cond_t slot_cv;
    int running, queued;
    server_metrics m;
    double started;
} server;

/* Starts the server and serves until SIGINT or SIGTERM. Prints the address
 * ("smcgen: listening on http://HOST:PORT") on stderr once it listens. */
int server_run(const server_config *cfg, smc_error *err);

/* ---- requests (api_request.c) ----------------------------------------- */
typedef enum api_kind { API_COMPLETIONS, API_CHAT, API_LLAMA } api_kind;

/* A request's outcome as HTTP: status, OpenAI error type and the field at
 * fault (param, may be ""). */
typedef struct api_error {
    int status;
    const char *type;
    char param[64];
    smc_error err;
} api_error;

typedef struct api_request {
    api_kind kind;
    smc_run_opts opts;
    int n;                       /* choices to return */
    bool stream;
    bool parse_special;          /* the prompt was written by a chat template */
    bool include_usage;          /* stream_options.include_usage: a last chunk with usage */
} api_request;

/* Fills r from a parsed body (options, prompt or chat messages,
 * response_format, the smc object, n, stream) and checks it against the
 * server's limits. Chat messages become the prompt through the request's
 * chat_template, else the model's own template when recognised (as the
 * CLI's --chat), else the plain fallback ("Role: content" lines, then
 * "Assistant:"). 0, or -1 with e filled. */
int api_request_parse(const server *s, api_kind kind, const cJSON *body, api_request *r, api_error *e);
void api_request_free(api_request *r);
/* Fills e (returns -1). */
int api_fail(api_error *e, int status, const char *type, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Is the critic spec allowed by the operator's --allow-critic patterns? */
bool critic_allowed(const server *s, const char *spec);

/* ---- jobs (job.c) ------------------------------------------------------ */
typedef struct job job;
/* Takes a slot (waiting in the queue up to the timeout) and builds the
 * request's constraint, critic and prompt. client_fd: the connection's
 * socket, polled for a disconnect (-1: none). On failure *out is NULL. */
int job_start(server *s, api_request *r, int client_fd, job **out, api_error *e);
/* Samples (blocking). For streams, SSE chunks are queued as the particles'
 * common prefix grows. */
int job_sample(job *j, api_error *e);
/* Response body for a finished job (malloc'd JSON). */
char *job_response(job *j);
/* Streams: runs job_sample in a thread; job_stream_read fills buf with the
 * next SSE bytes (blocking), returning 0 at the end, -1 on a disconnect. */
int job_stream_start(job *j, api_error *e);
ssize_t job_stream_read(job *j, char *buf, size_t max);
/* Drops the caller's reference (the stream thread holds another); the last
 * one frees the request and returns its slot. Marks it cancelled. */
void job_release(job *j);

/* ---- responses (api_response.c) --------------------------------------- */
/* The OpenAI error document. */
char *api_error_json(const api_error *e);
/* The response to a finished run: choices from the posterior, usage, smc.
 * n_cached: prompt tokens taken from the prompt cache (OpenAI's
 * usage.prompt_tokens_details.cached_tokens, llama.cpp's tokens_cached). */
char *api_result_json(const server *s, const api_request *r, const smc_result *res, size_t n_prompt,
                      size_t n_cached, const char *id, long created);
/* One SSE event ("data: ...\n\n") for a streamed delta or the final chunk
 * (res not NULL: finish reason, smc object). */
char *api_stream_chunk(const server *s, const api_request *r, const char *delta, size_t len,
                       const smc_result *res, const char *id, long created);

/* The usage chunk OpenAI streams before [DONE] when stream_options.include_usage:
 * no choices, the usage object of api_result_json. */
char *api_stream_usage_chunk(const server *s, const api_request *r, const smc_result *res, size_t n_prompt,
                             size_t n_cached, const char *id, long created);

/* ---- metrics (metrics.c) ---------------------------------------------- */
char *server_metrics_text(server *s);

#endif
