/* critic_exec.c — user critics as external processes speaking JSON lines:
 * one request {"op":"prefix"|"complete","text":...} per line on the child's
 * stdin, one answer {"logw": x} per line on its stdout, with a timeout.
 * Batches (score_batch) go as one {"op":"batch","requests":[...]} line
 * answered by {"logws":[...]} when the process said {"batch": true} as its
 * first line; otherwise as single requests, pipelined: every line is written
 * while the answers are read (poll on one socket, so neither side can block
 * the other on a full buffer). A process that dies, hangs or answers nonsense
 * becomes an error message (the critic returns +inf and reports why through
 * the vtable's failure hook). */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "smcgen.h"
#include "util/error.h"

#define MAX_LINE (64u << 20)   /* longest answer line accepted */

/* Bytes [pos, len) are pending: not yet sent (requests) or not yet read
 * (answers). */
typedef struct buf {
    char *p;
    size_t len, cap, pos;
} buf;

typedef struct exec_critic {
    pid_t pid;
    int fd;                 /* our end of the socket pair */
    double timeout_ms;
    char *command;
    char failure[512];      /* set once the process is unusable */
    bool heard;             /* its first line was read (a hello comes first, if at all) */
    bool batch;             /* its first line was {"batch": true} */
    buf out, in;
} exec_critic;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Records why the process is unusable (the first reason wins) and kills it. */
static void fail(exec_critic *c, const char *fmt, ...)
{
    if (!c->failure[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->failure, sizeof c->failure, fmt, ap);
        va_end(ap);
    }
    if (c->pid > 0) {
        kill(-c->pid, SIGKILL);   /* the shell and whatever it started */
        waitpid(c->pid, NULL, 0);
        c->pid = -1;
    }
}

static bool buf_reserve(buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

static bool put(buf *b, const char *s)
{
    size_t n = strlen(s);
    if (!buf_reserve(b, n))
        return false;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return true;
}

/* Length of the valid UTF-8 sequence at s (0 when invalid). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t k = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (!k || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (k == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
        return 0;
    if (k == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
        return 0;
    return k;
}

/* Appends {"op":"prefix"|"complete","text":"..."}; invalid UTF-8 bytes
 * become U+FFFD. */
static bool put_request(buf *b, const smc_score_request *r)
{
    if (!buf_reserve(b, 40 + 6 * r->len))
        return false;
    char *w = b->p + b->len;
    w += sprintf(w, "{\"op\":\"%s\",\"text\":\"", r->complete ? "complete" : "prefix");
    const unsigned char *s = (const unsigned char *)r->text;
    for (size_t i = 0; i < r->len;) {
        unsigned char ch = s[i];
        if (ch == '"' || ch == '\\') {
            *w++ = '\\';
            *w++ = (char)ch;
            i++;
        } else if (ch < 0x20 || ch == 0x7f) {
            w += sprintf(w, "\\u%04x", ch);
            i++;
        } else {
            size_t k = utf8_len(s + i, r->len - i);
            if (!k) {
                w += sprintf(w, "\\ufffd");
                i++;
            } else {
                memcpy(w, s + i, k);
                w += k;
                i += k;
            }
        }
    }
    w += sprintf(w, "\"}");
    b->len = (size_t)(w - b->p);
    return true;
}

/* Sends what the socket takes of c->out and receives what has arrived,
 * waiting until deadline: 1 progress, 0 end of file, -1 timeout, -2 read
 * error, -3 the process stopped reading its input. */
static int pump(exec_critic *c, double deadline)
{
    for (;;) {
        double left = deadline - now_ms();
        if (left <= 0)
            return -1;
        bool sending = c->out.pos < c->out.len;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN | (sending ? POLLOUT : 0)};
        int r = poll(&pfd, 1, left > 1e9 ? 1000000000 : (int)ceil(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -2;
        if (r == 0)
            return -1;
        bool progress = false;
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!buf_reserve(&c->in, 65536))
                return -2;
            ssize_t k = recv(c->fd, c->in.p + c->in.len, 65536, MSG_DONTWAIT);
            if (k == 0 || (k < 0 && errno == ECONNRESET))
                return 0;
            if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return -2;
            if (k > 0) {
                c->in.len += (size_t)k;
                progress = true;
            }
        }
        if (sending && (pfd.revents & (POLLOUT | POLLERR))) {
            ssize_t k = send(c->fd, c->out.p + c->out.pos, c->out.len - c->out.pos,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
            if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return -3;
            if (k > 0) {
                c->out.pos += (size_t)k;
                progress = true;
            }
        }
        if (progress)
            return 1;
    }
}

/* The next line the process wrote (NUL-terminated, without its newline;
 * valid until the next call), sending the rest of c->out meanwhile. Returns
 * as pump. */
static int next_line(exec_critic *c, double deadline, char **line)
{
    for (;;) {
        size_t have = c->in.len - c->in.pos;
        char *start = have ? c->in.p + c->in.pos : NULL;
        char *nl = have ? memchr(start, '\n', have) : NULL;
        if (nl) {
            *nl = 0;
            *line = start;
            c->in.pos = (size_t)(nl + 1 - c->in.p);
            return 1;
        }
        if (have > MAX_LINE)
            return -2;
        if (c->in.pos) {
            if (have)
                memmove(c->in.p, start, have);
            c->in.len = have;
            c->in.pos = 0;
        }
        int r = pump(c, deadline);
        if (r != 1)
            return r;
    }
}

/* The next answer, parsed (cJSON_Parse's result: NULL when not JSON), after
 * the hello line a process may print first. Returns as pump. */
static int next_answer(exec_critic *c, double deadline, cJSON **json, char **line)
{
    for (;;) {
        int r = next_line(c, deadline, line);
        if (r != 1)
            return r;
        cJSON *j = cJSON_Parse(*line);
        if (!c->heard) {
            c->heard = true;
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "batch");
            if (cJSON_IsBool(b) && !cJSON_HasObjectItem(j, "logw")) {
                c->batch = cJSON_IsTrue(b);
                cJSON_Delete(j);
                continue;
            }
        }
        *json = j;
        return 1;
    }
}

/* Turns a transport failure (pump's codes) while waiting for answer `got` of
 * `want` into the critic's failure. */
static void io_fail(exec_critic *c, int r, int got, int want)
{
    char after[64] = "";
    if (want > 1)
        snprintf(after, sizeof after, " (after %d of %d answers)", got, want);
    if (r == 0)
        fail(c, "critic process '%s' exited without answering%s", c->command, after);
    else if (r == -1)
        fail(c, "critic process '%s' did not answer within the timeout%s", c->command, after);
    else if (r == -3)
        fail(c, "critic process '%s' exited without answering (it stopped reading its input)%s",
             c->command, after);
    else
        fail(c, "critic process '%s': cannot read its answer%s", c->command, after);
}

static void bad_answer(exec_critic *c, const char *line, const char *expected)
{
    fail(c, "critic process '%s' answered something other than %s: %.80s", c->command, expected,
         line);
}

/* A score: a number (not NaN or +inf), or null / "-inf" for impossible. */
static bool logw_value(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v) && !isnan(v->valuedouble) && v->valuedouble != INFINITY) {
        *out = v->valuedouble;
        return true;
    }
    if (cJSON_IsNull(v) || (cJSON_IsString(v) && !strcmp(v->valuestring, "-inf"))) {
        *out = -INFINITY;
        return true;
    }
    return false;
}

/* Between exchanges nothing may be left to send or to read (after the
 * first line, which may be a hello): that would be a process answering
 * before it read its requests, or too often. */
static bool in_step(exec_critic *c)
{
    char b;
    bool extra = c->heard && (c->in.pos < c->in.len ||
                              recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1);
    if (c->out.pos == c->out.len && !extra)
        return true;
    fail(c, "critic process '%s' answered more lines than it was asked for", c->command);
    return false;
}

/* n single requests: all lines written while the n answers are read, each
 * within the timeout. false on failure. */
static bool ask_each(exec_critic *c, int n, const smc_score_request *reqs, double *out)
{
    for (int i = 0; i < n; i++)
        if (!put_request(&c->out, &reqs[i]) || !put(&c->out, "\n")) {
            fail(c, "critic process '%s': out of memory", c->command);
            return false;
        }
    for (int i = 0; i < n; i++) {
        cJSON *j;
        char *line;
        int r = next_answer(c, now_ms() + c->timeout_ms, &j, &line);
        if (r != 1) {
            io_fail(c, r, i, n);
            return false;
        }
        bool ok = logw_value(cJSON_GetObjectItemCaseSensitive(j, "logw"), &out[i]);
        if (!ok)
            bad_answer(c, line, "{\"logw\": number}");
        cJSON_Delete(j);
        if (!ok)
            return false;
    }
    return in_step(c);
}

/* One {"op":"batch"} line, answered within n timeouts. false on failure. */
static bool ask_batch(exec_critic *c, int n, const smc_score_request *reqs, double *out)
{
    bool ok = put(&c->out, "{\"op\":\"batch\",\"requests\":[");
    for (int i = 0; i < n && ok; i++)
        ok = put_request(&c->out, &reqs[i]) && put(&c->out, i + 1 < n ? "," : "]}\n");
    if (!ok) {
        fail(c, "critic process '%s': out of memory", c->command);
        return false;
    }
    cJSON *j;
    char *line;
    int r = next_answer(c, now_ms() + c->timeout_ms * n, &j, &line);
    if (r != 1) {
        io_fail(c, r, 0, 1);
        return false;
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "logws");
    ok = cJSON_IsArray(a);
    if (!ok)
        bad_answer(c, line, "{\"logws\": [numbers]}");
    else if (cJSON_GetArraySize(a) != n) {
        fail(c, "critic process '%s' answered %d scores to a batch of %d requests", c->command,
             cJSON_GetArraySize(a), n);
        ok = false;
    }
    int i = 0;
    for (const cJSON *v = ok ? a->child : NULL; v && ok; v = v->next)
        if (!logw_value(v, &out[i++])) {
            bad_answer(c, line, "{\"logws\": [numbers]}");
            ok = false;
        }
    cJSON_Delete(j);
    return ok && in_step(c);
}

static int exec_score_batch(void *self, int n, const smc_score_request *reqs, double *out,
                            smc_error *err)
{
    (void)err;
    exec_critic *c = self;
    c->out.len = c->out.pos = 0;
    bool ok = !c->failure[0] && in_step(c) && (n >= 2 && c->batch ? ask_batch(c, n, reqs, out)
                                                     : ask_each(c, n, reqs, out));
    if (!ok)
        for (int i = 0; i < n; i++)
            out[i] = INFINITY;
    return 0;
}

static double ask_one(void *self, const char *text, size_t len, bool complete)
{
    smc_score_request r = {NULL, text, len, complete};
    double v;
    exec_score_batch(self, 1, &r, &v, NULL);
    return v;
}

static double exec_prefix(void *self, void *state, const char *text, size_t len)
{
    (void)state;
    return ask_one(self, text, len, false);
}

static double exec_complete(void *self, void *state, const char *text, size_t len)
{
    (void)state;
    return ask_one(self, text, len, true);
}

static const char *exec_failure(void *self)
{
    exec_critic *c = self;
    return c->failure[0] ? c->failure : NULL;
}

static void exec_destroy(void *self)
{
    exec_critic *c = self;
    if (c->fd >= 0)
        close(c->fd);
    if (c->pid > 0) {
        /* Closing its input lets a well-behaved process exit (waited for
         * without reaping it, so that its pid, the group's id, cannot be
         * reused); then whatever it started is killed with it, always. */
        for (int i = 0; i < 50; i++) {
            siginfo_t si;
            si.si_pid = 0;
            if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == c->pid)
                break;
            usleep(2000);
        }
        kill(-c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    free(c->command);
    free(c->out.p);
    free(c->in.p);
    free(c);
}

static const smc_potential_vtable exec_vt = {
    .prefix = exec_prefix,
    .complete = exec_complete,
    .destroy = exec_destroy,
    .failure = exec_failure,
    .score_batch = exec_score_batch,
};

int smc_critic_from_exec(const char *command, double timeout_ms, smc_potential **out,
                         smc_error *err)
{
    *out = NULL;
    if (!command || !*command)
        return smc_fail(err, "exec critic: empty command");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return smc_fail(err, "exec critic: socketpair: %s", strerror(errno));
    exec_critic *c = calloc(1, sizeof *c);
    if (!c || !(c->command = strdup(command))) {
        free(c);
        close(sv[0]);
        close(sv[1]);
        return smc_fail(err, "out of memory");
    }
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    c->fd = sv[0];
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[1]);
        exec_destroy(c);
        return smc_fail(err, "exec critic: fork: %s", strerror(e));
    }
    if (pid == 0) {
        setpgid(0, 0);   /* its own group, so a timeout kills all of it */
        dup2(sv[1], 0);
        dup2(sv[1], 1);
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);   /* also here: whichever of the two runs first */
    close(sv[1]);
    c->pid = pid;
    *out = smc_potential_new(&exec_vt, c, command, 0, -1);
    if (!*out) {
        exec_destroy(c);
        return smc_fail(err, "out of memory");
    }
    return 0;
}
