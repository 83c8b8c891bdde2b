/* api_response.c — response bodies: the OpenAI completion and chat shapes,
 * llama.cpp's /completion shape, SSE chunks, and the OpenAI error document.
 * Every result carries the library's run JSON (smc_result_to_json) as its
 * "smc" object. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

char *api_error_json(const api_error *e)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *o = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(o, "message", e->err.msg[0] ? e->err.msg : "error");
    cJSON_AddStringToObject(o, "type", e->type ? e->type : "server_error");
    if (e->param[0])
        cJSON_AddStringToObject(o, "param", e->param);
    else
        cJSON_AddNullToObject(o, "param");
    cJSON_AddNumberToObject(o, "code", e->status);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

/* The run JSON as an object (NULL on failure). */
static cJSON *smc_object(const smc_result *res)
{
    char *text = NULL;
    smc_error err = {{0}};
    if (smc_result_to_json(res, false, &text, &err))
        return NULL;
    cJSON *o = cJSON_Parse(text);
    free(text);
    return o;
}

/* The first particle with this text: was it cut at max_tokens? */
static const smc_particle_out *particle_of(const smc_result *res, const smc_posterior_entry *p)
{
    for (int i = 0; i < res->n_particles; i++)
        if (res->particles[i].len == p->len && !memcmp(res->particles[i].text, p->text, p->len) &&
            res->particles[i].log_weight > -INFINITY)
            return &res->particles[i];
    return NULL;
}

static const char *finish_reason(const smc_result *res, const smc_posterior_entry *p)
{
    const smc_particle_out *q = particle_of(res, p);
    return q && q->forced_eos ? "length" : "stop";
}

static cJSON *string_n(const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = 0;
    cJSON *j = cJSON_CreateString(copy); /* smc_result texts are valid UTF-8 once the library wrote them */
    free(copy);
    return j;
}

static void add_common(cJSON *root, const server *s, const api_request *r, const char *id, long created,
                       bool chunk)
{
    cJSON_AddStringToObject(root, "id", id);
    cJSON_AddStringToObject(root, "object", r->kind == API_CHAT ? (chunk ? "chat.completion.chunk" : "chat.completion")
                                                                 : "text_completion");
    cJSON_AddNumberToObject(root, "created", (double)created);
    cJSON_AddStringToObject(root, "model", s->model_name);
}

/* Tokens of the most probable completion. */
static int completion_tokens_of(const smc_result *res)
{
    const smc_particle_out *q = res->n_posterior > 0 ? particle_of(res, &res->posterior[0]) : NULL;
    return q ? q->n_tokens : 0;
}

/* OpenAI's usage, with the particles' tokens and the prompt tokens reused. */
static void add_usage(cJSON *root, const smc_result *res, size_t n_prompt, size_t n_cached)
{
    int completion_tokens = completion_tokens_of(res);
    cJSON *u = cJSON_AddObjectToObject(root, "usage");
    if (!u)
        return;
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)n_prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", completion_tokens);
    cJSON_AddNumberToObject(u, "total_tokens", (double)n_prompt + completion_tokens);
    cJSON_AddNumberToObject(u, "particle_tokens", (double)res->n_lm_evals);
    cJSON *details = cJSON_AddObjectToObject(u, "prompt_tokens_details");
    if (details)
        cJSON_AddNumberToObject(details, "cached_tokens", (double)n_cached);
}

/* "data: BODY\n\n" (malloc'd) of a document, which is freed. */
static char *sse_event(cJSON *root)
{
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!body)
        return NULL;
    size_t n = strlen(body);
    char *ev = malloc(n + 9);
    if (ev)
        snprintf(ev, n + 9, "data: %s\n\n", body);
    free(body);
    return ev;
}

char *api_result_json(const server *s, const api_request *r, const smc_result *res, size_t n_prompt,
                      size_t n_cached, const char *id, long created)
{
    cJSON *root = cJSON_CreateObject();
    int n = res->n_posterior < r->n ? res->n_posterior : r->n;
    int completion_tokens = completion_tokens_of(res);
    if (r->kind == API_LLAMA) {
        const smc_posterior_entry *top = n > 0 ? &res->posterior[0] : NULL;
        cJSON_AddItemToObject(root, "content", top ? string_n(top->text, top->len) : cJSON_CreateString(""));
        cJSON_AddBoolToObject(root, "stop", true);
        cJSON_AddStringToObject(root, "model", s->model_name);
        cJSON_AddNumberToObject(root, "tokens_predicted", completion_tokens);
        cJSON_AddNumberToObject(root, "tokens_evaluated", (double)n_prompt);
        cJSON_AddNumberToObject(root, "tokens_cached", (double)n_cached);
        cJSON_AddStringToObject(root, "stop_type", top && !strcmp(finish_reason(res, top), "length") ? "limit" : "eos");
        cJSON_AddNumberToObject(root, "posterior_probability", top ? top->prob : 0);
    } else {
        add_common(root, s, r, id, created, false);
        cJSON *choices = cJSON_AddArrayToObject(root, "choices");
        for (int i = 0; i < n; i++) {
            const smc_posterior_entry *p = &res->posterior[i];
            cJSON *c = cJSON_CreateObject();
            cJSON_AddNumberToObject(c, "index", i);
            if (r->kind == API_CHAT) {
                cJSON *m = cJSON_AddObjectToObject(c, "message");
                cJSON_AddStringToObject(m, "role", "assistant");
                cJSON_AddItemToObject(m, "content", string_n(p->text, p->len));
            } else {
                cJSON_AddItemToObject(c, "text", string_n(p->text, p->len));
                cJSON_AddNullToObject(c, "logprobs");
            }
            cJSON_AddStringToObject(c, "finish_reason", finish_reason(res, p));
            cJSON_AddNumberToObject(c, "posterior_probability", p->prob);
            cJSON_AddItemToArray(choices, c);
        }
        add_usage(root, res, n_prompt, n_cached);
    }
    cJSON *smc = smc_object(res);
    if (smc)
        cJSON_AddItemToObject(root, "smc", smc);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

char *api_stream_chunk(const server *s, const api_request *r, const char *delta, size_t len,
                       const smc_result *res, const char *id, long created)
{
    cJSON *root = cJSON_CreateObject();
    const smc_posterior_entry *top = res && res->n_posterior > 0 ? &res->posterior[0] : NULL;
    if (r->kind == API_LLAMA) {
        cJSON_AddItemToObject(root, "content", string_n(delta, len));
        cJSON_AddBoolToObject(root, "stop", res != NULL);
        if (res) {
            cJSON_AddStringToObject(root, "model", s->model_name);
            cJSON_AddStringToObject(root, "stop_type", top && !strcmp(finish_reason(res, top), "length") ? "limit" : "eos");
        }
    } else {
        add_common(root, s, r, id, created, true);
        cJSON *choices = cJSON_AddArrayToObject(root, "choices");
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "index", 0);
        if (r->kind == API_CHAT) {
            cJSON *d = cJSON_AddObjectToObject(c, "delta");
            cJSON_AddItemToObject(d, "content", string_n(delta, len));
        } else {
            cJSON_AddItemToObject(c, "text", string_n(delta, len));
            cJSON_AddNullToObject(c, "logprobs");
        }
        if (res && top) {
            cJSON_AddStringToObject(c, "finish_reason", finish_reason(res, top));
            cJSON_AddNumberToObject(c, "posterior_probability", top->prob);
        } else if (res)
            cJSON_AddStringToObject(c, "finish_reason", "stop");
        else
            cJSON_AddNullToObject(c, "finish_reason");
        cJSON_AddItemToArray(choices, c);
    }
    if (res) {
        cJSON *smc = smc_object(res);
        if (smc)
            cJSON_AddItemToObject(root, "smc", smc);
    }
    return sse_event(root);
}

char *api_stream_usage_chunk(const server *s, const api_request *r, const smc_result *res, size_t n_prompt,
                             size_t n_cached, const char *id, long created)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    add_common(root, s, r, id, created, true);
    cJSON_AddArrayToObject(root, "choices");
    add_usage(root, res, n_prompt, n_cached);
    return sse_event(root);
}
