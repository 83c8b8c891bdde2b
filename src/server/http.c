/* http.c — the HTTP side of `smcgen serve` on libmicrohttpd (one thread per
 * connection): body collection with the size limit (413), the API key
 * (constant-time compare), routing, JSON and SSE responses, and the server's
 * start-up and shutdown. */
#include <arpa/inet.h>
#include <math.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/run_options.h"
#include "server/server.h"
#include "util/error.h"
#include "util/paths.h"
#include "util/utf8.h"

volatile int server_stopping;

typedef struct conn {
    char *body;
    size_t len, cap;
    bool too_big;
} conn;

static enum MHD_Result send_text(struct MHD_Connection *c, int status, char *text, const char *type)
{
    if (!text) {
        static char oom[] = "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"param\":null,\"code\":500}}";
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(oom), oom, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "application/json");
        enum MHD_Result rc = MHD_queue_response(c, 500, r);
        MHD_destroy_response(r);
        return rc;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    if (status == 503)
        MHD_add_response_header(r, "Retry-After", "1");
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, int status, char *json)
{
    return send_text(c, status, json, "application/json");
}

/* Sends doc (deleted here) with status 200. */
static enum MHD_Result send_doc(struct MHD_Connection *c, cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return send_json(c, 200, text);
}

static enum MHD_Result send_error(server *s, struct MHD_Connection *c, const api_error *e)
{
    pthread_mutex_lock(&s->mu);
    if (e->status >= 500)
        s->m.errors_5xx++;
    else
        s->m.errors_4xx++;
    pthread_mutex_unlock(&s->mu);
    return send_json(c, e->status, api_error_json(e));
}

static enum MHD_Result fail(server *s, struct MHD_Connection *c, int status, const char *type, const char *param,
                            const char *msg)
{
    api_error e = {0};
    api_fail(&e, status, type, param, "%s", msg);
    return send_error(s, c, &e);
}

/* Constant time in the length of the expected key. */
static bool key_matches(const char *expected, const char *given)
{
    size_t n = strlen(expected), m = strlen(given);
    volatile unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(expected[i] ^ (i < m ? given[i] : 0));
    return diff == 0;
}

static bool authorized(server *s, struct MHD_Connection *c)
{
    if (!s->cfg.api_key)
        return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7))
        return false;
    return key_matches(s->cfg.api_key, h + 7);
}

static enum MHD_Result get_models(server *s, struct MHD_Connection *c)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(root, "data");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", s->model_name);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", s->started);
    cJSON_AddStringToObject(m, "owned_by", "smcgen");
    cJSON_AddItemToArray(data, m);
    return send_doc(c, root);
}

/* The run-option table, for clients and docs. */
static enum MHD_Result get_options(struct MHD_Connection *c)
{
    static const char *const types[] = {"int", "float", "bool", "string", "choice", "strings"};
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < smc_opt_count(); i++) {
        const smc_opt_desc *d = smc_opt_at(i);
        if (!(d->where & SMC_OPT_JSON))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", d->name);
        cJSON_AddStringToObject(o, "type", types[d->type]);
        if (d->type == SMC_OPT_INT || d->type == SMC_OPT_FLOAT) {
            cJSON_AddNumberToObject(o, "min", d->min);
            cJSON_AddNumberToObject(o, "max", d->max);
            cJSON_AddBoolToObject(o, "min_exclusive", d->min_open);
        }
        if (d->choices)
            cJSON_AddStringToObject(o, "choices", d->choices);
        if (d->def)
            cJSON_AddStringToObject(o, "default", d->def);
        if (d->json_alias)
            cJSON_AddStringToObject(o, "alias", d->json_alias);
        cJSON_AddStringToObject(o, "help", d->help);
        cJSON_AddItemToArray(arr, o);
    }
    return send_doc(c, arr);
}

static enum MHD_Result post_tokenize(server *s, struct MHD_Connection *c, const cJSON *body)
{
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(body, "content");
    if (!cJSON_IsString(content))
        return fail(s, c, 400, "invalid_request_error", "content", "content: must be a string");
    bool add_special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "add_special"));
    bool pieces = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "with_pieces"));
    int32_t *ids = NULL;
    size_t n = 0;
    smc_error err = {{0}};
    if (smc_tokenize(s->vocab, content->valuestring, strlen(content->valuestring), add_special, false, &ids, &n,
                     &err))
        return fail(s, c, 400, "invalid_request_error", "content", err.msg);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "tokens");
    for (size_t i = 0; i < n; i++) {
        if (!pieces) {
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(ids[i]));
            continue;
        }
        smc_str b = smc_vocab_token_bytes(s->vocab, ids[i]);
        char *piece = malloc(b.len + 1);
        if (piece) {
            memcpy(piece, b.ptr, b.len);
            piece[b.len] = 0;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", ids[i]);
        cJSON_AddStringToObject(o, "piece", piece ? piece : "");
        free(piece);
        cJSON_AddItemToArray(arr, o);
    }
    free(ids);
    return send_doc(c, root);
}

static enum MHD_Result post_detokenize(server *s, struct MHD_Connection *c, const cJSON *body)
{
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(body, "tokens");
    if (!cJSON_IsArray(tokens))
        return fail(s, c, 400, "invalid_request_error", "tokens", "tokens: must be an array of token ids");
    int n = cJSON_GetArraySize(tokens), i = 0;
    int32_t *ids = malloc(sizeof *ids * (size_t)(n ? n : 1));
    if (!ids)
        return fail(s, c, 500, "server_error", NULL, "out of memory");
    int32_t nv = smc_vocab_n_tokens(s->vocab);
    for (const cJSON *t = tokens->child; t; t = t->next, i++) {
        double v = cJSON_IsNumber(t) ? t->valuedouble : -1;
        if (!(v >= 0 && v < nv) || v != floor(v)) {
            free(ids);
            char msg[96];
            snprintf(msg, sizeof msg, "tokens[%d]: not a token id in [0, %d)", i, (int)nv);
            return fail(s, c, 400, "invalid_request_error", "tokens", msg);
        }
        ids[i] = (int32_t)v;
    }
    char *text = NULL;
    size_t len = 0;
    smc_error err = {{0}};
    int rc = smc_detokenize(s->vocab, ids, (size_t)n, false, &text, &len, &err);
    free(ids);
    if (rc)
        return fail(s, c, 400, "invalid_request_error", "tokens", err.msg);
    cJSON *root = cJSON_CreateObject();
    /* Pieces of a character may end mid-sequence: keep the JSON valid. */
    char *clean = smc_utf8_clean(text, len);
    free(text);
    cJSON_AddStringToObject(root, "content", clean ? clean : "");
    free(clean);
    return send_doc(c, root);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    ssize_t n = job_stream_read(cls, buf, max);
    return n > 0 ? n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_done(void *cls) { job_release(cls); }

static enum MHD_Result post_sample(server *s, struct MHD_Connection *c, api_kind kind, const cJSON *body)
{
    pthread_mutex_lock(&s->mu);
    s->m.requests++;
    pthread_mutex_unlock(&s->mu);
    api_request r;
    api_error e = {0};
    if (api_request_parse(s, kind, body, &r, &e)) {
        api_request_free(&r);
        return send_error(s, c, &e);
    }
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    int fd = ci ? ci->connect_fd : -1;
    bool stream = r.stream;
    job *j = NULL;
    if (job_start(s, &r, fd, &j, &e))
        return send_error(s, c, &e);
    if (stream) {
        if (job_stream_start(j, &e)) {
            job_release(j);
            return send_error(s, c, &e);
        }
        struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, j,
                                                                      stream_done);
        if (!resp) {
            job_release(j);
            return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", "text/event-stream");
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        enum MHD_Result rc = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return rc;
    }
    enum MHD_Result rc;
    if (job_sample(j, &e))
        rc = e.status == 499 ? MHD_NO : send_error(s, c, &e);
    else
        rc = send_json(c, 200, job_response(j));
    job_release(j);
    return rc;
}

static enum MHD_Result route(server *s, struct MHD_Connection *c, const char *url, const char *method, conn *k)
{
    bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (!strcmp(url, "/health") || !strcmp(url, "/v1/health"))
        return get ? send_json(c, 200, strdup("{\"status\":\"ok\"}"))
                   : fail(s, c, 405, "invalid_request_error", NULL, "use GET");
    if (!authorized(s, c))
        return fail(s, c, 401, "authentication_error", NULL, "missing or wrong API key (Authorization: Bearer KEY)");
    if (get && !strcmp(url, "/v1/models"))
        return get_models(s, c);
    if (get && !strcmp(url, "/v1/options"))
        return get_options(c);
    if (get && !strcmp(url, "/metrics"))
        return send_text(c, 200, server_metrics_text(s), "text/plain; version=0.0.4");
    struct {
        const char *path;
        int what; /* 0..2 api_kind, 3 tokenize, 4 detokenize */
    } posts[] = {{"/v1/completions", API_COMPLETIONS}, {"/completions", API_COMPLETIONS},
                 {"/v1/chat/completions", API_CHAT}, {"/chat/completions", API_CHAT},
                 {"/completion", API_LLAMA}, {"/tokenize", 3}, {"/detokenize", 4}};
    int what = -1;
    for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++)
        if (!strcmp(url, posts[i].path))
            what = posts[i].what;
    if (what < 0) {
        bool known = !strcmp(url, "/v1/models") || !strcmp(url, "/v1/options") || !strcmp(url, "/metrics");
        return known ? fail(s, c, 405, "invalid_request_error", NULL, "use GET")
                     : fail(s, c, 404, "not_found_error", NULL, "no such endpoint");
    }
    if (!post)
        return fail(s, c, 405, "invalid_request_error", NULL, "use POST");
    if (k->too_big) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request body is over this server's limit of %zu bytes", s->cfg.max_body);
        return fail(s, c, 413, "invalid_request_error", NULL, msg);
    }
    const char *end = NULL;
    cJSON *body = cJSON_ParseWithLengthOpts(k->body ? k->body : "", k->len, &end, false);
    /* Only white space may follow the value. */
    for (const char *p = end; body && p && p < k->body + k->len; p++)
        if (!strchr(" \t\r\n", *p) || !*p) {
            cJSON_Delete(body);
            body = NULL;
            end = p;
        }
    if (!body) {
        char msg[96];
        snprintf(msg, sizeof msg, "malformed JSON in the request body near byte %zu",
                 end && k->body ? (size_t)(end - k->body) : (size_t)0);
        return fail(s, c, 400, "invalid_request_error", NULL, msg);
    }
    enum MHD_Result rc = what == 3   ? post_tokenize(s, c, body)
                         : what == 4 ? post_detokenize(s, c, body)
                                     : post_sample(s, c, (api_kind)what, body);
    cJSON_Delete(body);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    server *s = cls;
    conn *k = *con_cls;
    if (!k) {
        if (!(k = calloc(1, sizeof *k)))
            return MHD_NO;
        *con_cls = k;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body)
            k->too_big = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!k->too_big && k->len + *upload_size > s->cfg.max_body) {
            k->too_big = true;
            free(k->body);
            k->body = NULL;
            k->len = k->cap = 0;
        }
        if (!k->too_big) {
            if (k->len + *upload_size + 1 > k->cap) {
                size_t cap = k->cap ? k->cap : 4096;
                while (cap < k->len + *upload_size + 1)
                    cap *= 2;
                char *b = realloc(k->body, cap);
                if (!b)
                    return MHD_NO;
                k->body = b;
                k->cap = cap;
            }
            memcpy(k->body + k->len, upload, *upload_size);
            k->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return route(s, c, url, method, k);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    conn *k = *con_cls;
    if (k) {
        free(k->body);
        free(k);
        *con_cls = NULL;
    }
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("smcgen serve: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* The batcher's relief: the engine LM drops its cached prompts (same size). */
static void drop_prompt_cache(void *ud)
{
    server *s = ud;
    smc_engine_lm_set_prompt_cache(s->shared.engine_lm, s->cfg.prompt_cache, NULL);
}

static int load(server *s, const server_config *cfg, smc_error *err)
{
    s->cfg = *cfg;
    smc_setup_opts so = {.model_path = cfg->model_path, .n_threads = cfg->n_threads, .load = cfg->load,
                         .kv_budget_bytes = cfg->kv_budget};
    if (smc_setup_model(&so, &s->shared, err))
        return -1;
    if (!(s->vocab = smc_model_vocab(s->shared.model, err)))
        return -1;
    if (smc_token_index_from_vocab(s->vocab, &s->shared.index, err))
        return -1;
    if (smc_engine_lm_set_prompt_cache(s->shared.engine_lm, cfg->prompt_cache, err))
        return -1;
    if (batcher_new(s->shared.engine_lm, s->shared.ctx, cfg->gather_ms, &s->batch, err))
        return -1;
    batcher_set_counter(s->batch, smc_engine_lm_counts);
    batcher_set_relief(s->batch, drop_prompt_cache, s);
    smc_str tmpl = smc_model_chat_template(s->shared.model);
    char *tmpl_text = tmpl.ptr ? strndup(tmpl.ptr, tmpl.len) : NULL;
    s->model_template = tmpl_text && smc_chat_template_detect(tmpl_text);
    free(tmpl_text);
    const char *path = cfg->model_path ? cfg->model_path : smc_default_model_path();
    const char *base = strrchr(path, '/');
    snprintf(s->model_name, sizeof s->model_name, "%s", cfg->name ? cfg->name : base ? base + 1 : path);
    s->started = (double)time(NULL);
    return 0;
}

int server_run(const server_config *cfg, smc_error *err)
{
    server *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->slot_cv, NULL);
    int rc = -1;
    struct MHD_Daemon *d = NULL;
    union {
        struct sockaddr sa;
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } addr;
    memset(&addr, 0, sizeof addr);
    bool v6 = strchr(cfg->host, ':') != NULL;
    if (v6) {
        addr.v6.sin6_family = AF_INET6;
        addr.v6.sin6_port = htons((uint16_t)cfg->port);
        if (inet_pton(AF_INET6, cfg->host, &addr.v6.sin6_addr) != 1) {
            smc_fail(err, "--host '%s' is not an IPv6 address", cfg->host);
            goto done;
        }
    } else {
        addr.v4.sin_family = AF_INET;
        addr.v4.sin_port = htons((uint16_t)cfg->port);
        if (inet_pton(AF_INET, cfg->host, &addr.v4.sin_addr) != 1) {
            smc_fail(err, "--host '%s' is not an IPv4 address (e.g. 127.0.0.1 or 0.0.0.0)", cfg->host);
            goto done;
        }
    }
    if (load(s, cfg, err))
        goto done;
    /* Signals are taken by sigwait below; every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG |
                     (v6 ? MHD_USE_IPv6 : 0);
    unsigned limit = (unsigned)(cfg->parallel + cfg->queue + 64);
    d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
                         MHD_OPTION_SOCK_ADDR, &addr.sa,
                         MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!d) {
        smc_fail(err, "cannot listen on %s port %d (in use, or not an address of this machine?)", cfg->host, cfg->port);
        goto done;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "smcgen: listening on http://%s%s%s:%u (model %s, %d parallel, queue %d)\n", v6 ? "[" : "",
            cfg->host, v6 ? "]" : "", info ? info->port : (unsigned)cfg->port, s->model_name, cfg->parallel,
            cfg->queue);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "smcgen: %s: stopping (running requests are cancelled)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server_stopping = 1;
    pthread_mutex_lock(&s->mu);
    pthread_cond_broadcast(&s->slot_cv);
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(d);
    /* Streams run on in their own threads until they notice the stop. */
    pthread_mutex_lock(&s->mu);
    while (s->running > 0)
        pthread_cond_wait(&s->slot_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    rc = 0;
done:
    batcher_free(s->batch);
    smc_setup_free(&s->shared);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->slot_cv);
    free(s);
    return rc;
}
