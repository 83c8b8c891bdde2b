/* job.c — one request's life on the server: a slot among --parallel (or a
 * place in the bounded queue), its constraint, critic and prompt built on
 * the shared model, sampling through the batcher, cancellation (timeout,
 * client gone, shutdown), and for streams the growing common prefix of the
 * live particles as SSE chunks. */
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "server/server.h"
#include "util/error.h"
#include "util/utf8.h"

extern volatile int server_stopping;

struct job {
    server *srv;
    api_request req;
    smc_setup inst;           /* the shared model with this request's instance */
    bool have_inst;
    int client_fd;
    double deadline;
    char id[48];
    long created;
    smc_result *res;
    size_t prompt_reused;     /* prompt tokens taken from a cache */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    bool cancelled, timed_out, disconnected, finished;
    /* streams */
    char *out;
    size_t out_len, out_cap, out_off;
    size_t streamed;          /* bytes of the common prefix already sent */
    pthread_t thread;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool peer_closed(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL))
        return true;
    char c;
    return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Takes a slot, or a place in the queue until one frees. */
static int take_slot(server *s, double deadline, api_error *e)
{
    pthread_mutex_lock(&s->mu);
    if (s->running >= s->cfg.parallel) {
        if (s->queued >= s->cfg.queue) {
            s->m.rejected++;
            pthread_mutex_unlock(&s->mu);
            return api_fail(e, 503, "unavailable_error", NULL,
                            "the server is busy (%d requests running, %d queued); retry later", s->cfg.parallel,
                            s->cfg.queue);
        }
        s->queued++;
        while (s->running >= s->cfg.parallel && !server_stopping) {
            double left = deadline - mono_now();
            if (left <= 0)
                break;
            double wake = mono_now() + (left < 0.5 ? left : 0.5);
            struct timespec ts = {.tv_sec = (time_t)wake, .tv_nsec = (long)((wake - (double)(time_t)wake) * 1e9)};
            pthread_cond_timedwait(&s->slot_cv, &s->mu, &ts);
        }
        s->queued--;
        if (s->running >= s->cfg.parallel || server_stopping) {
            s->m.timeouts++;
            pthread_mutex_unlock(&s->mu);
            return api_fail(e, 503, "unavailable_error", NULL, "no slot freed within the request timeout (%g s)",
                            s->cfg.timeout_s);
        }
    }
    s->running++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void give_slot(server *s)
{
    pthread_mutex_lock(&s->mu);
    s->running--;
    pthread_cond_broadcast(&s->slot_cv);
    pthread_mutex_unlock(&s->mu);
}

static void job_free(job *j)
{
    if (j->have_inst) {
        smc_setup_instance_free(&j->inst);
        give_slot(j->srv);
    }
    smc_result_free(j->res);
    api_request_free(&j->req);
    free(j->out);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

void job_release(job *j)
{
    pthread_mutex_lock(&j->mu);
    j->cancelled = true;
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (last)
        job_free(j);
}

int job_start(server *s, api_request *r, int client_fd, job **out, api_error *e)
{
    *out = NULL;
    job *j = calloc(1, sizeof *j);
    if (!j) {
        api_request_free(r);
        return api_fail(e, 500, "server_error", NULL, "out of memory");
    }
    j->srv = s;
    j->req = *r; /* ownership moves */
    memset(r, 0, sizeof *r);
    j->client_fd = client_fd;
    j->refs = 1;
    j->deadline = mono_now() + s->cfg.timeout_s;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    static uint64_t counter;
    snprintf(j->id, sizeof j->id, "%s-%lx%04lx", j->req.kind == API_CHAT ? "chatcmpl" : "cmpl", (long)time(NULL),
             (long)(__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) & 0xffff));
    j->created = (long)time(NULL);
    if (take_slot(s, j->deadline, e)) {
        job_free(j);
        return -1;
    }
    /* The shared model, context and index; this request's own instance. */
    j->inst = s->shared;
    j->inst.engine_lm = (smc_lm *)batcher_lm(s->batch);
    j->inst.lm = j->inst.engine_lm;
    j->inst.stop_lm = NULL;
    j->inst.grammar = NULL;
    j->inst.cheap = NULL;
    memset(&j->inst.critic, 0, sizeof j->inst.critic);
    j->inst.prompt = NULL;
    j->inst.n_prompt = 0;
    j->have_inst = true;
    smc_setup_opts so;
    smc_setup_opts_from_run(&j->req.opts, &so);
    so.parse_special = j->req.parse_special;
    smc_error err = {{0}};
    if (smc_setup_instance(&so, NULL, &j->inst, &err)) {
        api_fail(e, 400, "invalid_request_error", NULL, "%s", err.msg);
        job_free(j);
        return -1;
    }
    if (!j->inst.cheap && j->req.opts.cfg.method != SMC_METHOD_PLAIN) {
        api_fail(e, 400, "invalid_request_error", "smc.method",
                 "method %s needs a constraint: grammar, lark, regex, json_schema, response_format, or a critic "
                 "with a grammar",
                 smc_method_name(j->req.opts.cfg.method));
        job_free(j);
        return -1;
    }
    *out = j;
    return 0;
}

/* Queues SSE bytes for the reader (j->mu held). */
static void push_out(job *j, char *ev)
{
    if (!ev)
        return;
    size_t n = strlen(ev);
    if (j->out_len + n > j->out_cap) {
        size_t cap = j->out_cap ? j->out_cap : 4096;
        while (cap < j->out_len + n)
            cap *= 2;
        char *b = realloc(j->out, cap);
        if (!b) {
            free(ev);
            return;
        }
        j->out = b;
        j->out_cap = cap;
    }
    memcpy(j->out + j->out_len, ev, n);
    j->out_len += n;
    free(ev);
    pthread_cond_broadcast(&j->cv);
}

static int on_step(void *ud, int n, const char *const *texts, const size_t *lens, const double *logw)
{
    job *j = ud;
    if (server_stopping)
        return 1;
    if (mono_now() > j->deadline) {
        j->timed_out = true;
        return 1;
    }
    if (peer_closed(j->client_fd)) {
        j->disconnected = true;
        return 1;
    }
    pthread_mutex_lock(&j->mu);
    bool cancelled = j->cancelled;
    pthread_mutex_unlock(&j->mu);
    if (cancelled)
        return 1;
    if (!j->req.stream)
        return 0;
    /* The longest common prefix of the live particles: no resampling can
     * change it any more. */
    int first = -1;
    size_t lcp = 0;
    for (int i = 0; i < n; i++) {
        if (!(logw[i] > -INFINITY))
            continue;
        if (first < 0) {
            first = i;
            lcp = lens[i];
            continue;
        }
        size_t k = 0;
        size_t m = lcp < lens[i] ? lcp : lens[i];
        while (k < m && texts[i][k] == texts[first][k])
            k++;
        lcp = k;
    }
    if (first < 0)
        return 0;
    lcp = smc_utf8_whole_prefix(texts[first], lcp);
    if (lcp > j->streamed) {
        char *ev = api_stream_chunk(j->srv, &j->req, texts[first] + j->streamed, lcp - j->streamed, NULL, j->id,
                                    j->created);
        pthread_mutex_lock(&j->mu);
        push_out(j, ev);
        pthread_mutex_unlock(&j->mu);
        j->streamed = lcp;
    }
    return 0;
}

int job_sample(job *j, api_error *e)
{
    server *s = j->srv;
    smc_config cfg = j->req.opts.cfg;
    cfg.on_step = on_step;
    cfg.on_step_ud = j;
    smc_error err = {{0}};
    batcher_enter(s->batch);
    int rc = smc_run(j->inst.lm, j->inst.prompt, j->inst.n_prompt, j->inst.cheap, j->inst.critic.critic, &cfg,
                     &j->res, &err);
    j->prompt_reused = batcher_thread_prompt_reused(); /* smc_run's root, made in this thread */
    batcher_leave(s->batch);
    pthread_mutex_lock(&s->mu);
    s->m.prompt_tokens += j->inst.n_prompt;
    if (j->res) {
        s->m.completion_tokens += (uint64_t)j->res->n_lm_evals;
        s->m.critic_seconds += j->res->t_critic;
        s->m.sample_seconds += j->res->t_total;
    }
    if (rc && (j->disconnected || j->cancelled))
        s->m.cancelled++;
    if (rc && j->timed_out)
        s->m.timeouts++;
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        return 0;
    smc_result_free(j->res);
    j->res = NULL;
    if (j->timed_out)
        return api_fail(e, 503, "timeout_error", NULL, "the request ran past this server's timeout (%g s)",
                        s->cfg.timeout_s);
    if (j->disconnected || j->cancelled)
        return api_fail(e, 499, "cancelled", NULL, "the client went away");
    if (server_stopping)
        return api_fail(e, 503, "unavailable_error", NULL, "the server is shutting down");
    return api_fail(e, 500, "server_error", NULL, "%s", err.msg);
}

char *job_response(job *j)
{
    return api_result_json(j->srv, &j->req, j->res, j->inst.n_prompt, j->prompt_reused, j->id, j->created);
}

static void *stream_main(void *arg)
{
    job *j = arg;
    api_error e = {0};
    int rc = job_sample(j, &e);
    char *ev;
    if (rc == 0) {
        const smc_posterior_entry *top = j->res->n_posterior > 0 ? &j->res->posterior[0] : NULL;
        size_t from = top && top->len >= j->streamed ? j->streamed : 0;
        ev = api_stream_chunk(j->srv, &j->req, top ? top->text + from : "", top ? top->len - from : 0, j->res, j->id,
                              j->created);
    } else {
        char *body = api_error_json(&e);
        size_t n = body ? strlen(body) : 0;
        ev = body ? malloc(n + 9) : NULL;
        if (ev)
            snprintf(ev, n + 9, "data: %s\n\n", body);
        free(body);
    }
    char *usage = rc == 0 && j->req.include_usage && j->req.kind != API_LLAMA
                      ? api_stream_usage_chunk(j->srv, &j->req, j->res, j->inst.n_prompt, j->prompt_reused, j->id,
                                               j->created)
                      : NULL;
    pthread_mutex_lock(&j->mu);
    push_out(j, ev);
    push_out(j, usage);
    if (j->req.kind != API_LLAMA)
        push_out(j, strdup("data: [DONE]\n\n"));
    j->finished = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    job_release(j);
    return NULL;
}

int job_stream_start(job *j, api_error *e)
{
    pthread_mutex_lock(&j->mu);
    j->refs++;
    pthread_mutex_unlock(&j->mu);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&j->thread, &a, stream_main, j);
    pthread_attr_destroy(&a);
    if (rc) {
        pthread_mutex_lock(&j->mu);
        j->refs--;
        pthread_mutex_unlock(&j->mu);
        return api_fail(e, 500, "server_error", NULL, "could not start a thread");
    }
    return 0;
}

ssize_t job_stream_read(job *j, char *buf, size_t max)
{
    pthread_mutex_lock(&j->mu);
    for (;;) {
        if (j->out_off < j->out_len) {
            size_t n = j->out_len - j->out_off;
            if (n > max)
                n = max;
            memcpy(buf, j->out + j->out_off, n);
            j->out_off += n;
            pthread_mutex_unlock(&j->mu);
            return (ssize_t)n;
        }
        if (j->finished) {
            pthread_mutex_unlock(&j->mu);
            return 0;
        }
        if (peer_closed(j->client_fd)) {
            j->cancelled = true;
            pthread_mutex_unlock(&j->mu);
            return -1;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    }
}
