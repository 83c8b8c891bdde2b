/* critic_exec.c — user critics as external processes speaking JSON lines:
 * one request {"op":"prefix"|"complete","text":...} per line on the child's
 * stdin, one answer {"logw": x} per line on its stdout, with a timeout. A
 * process that dies, hangs or answers nonsense becomes an error message (the
 * critic returns +inf and reports why through the vtable's failure hook). */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
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

typedef struct exec_critic {
    pid_t pid;
    int fd;                 /* our end of the socket pair */
    double timeout_ms;
    char *command;
    char failure[512];      /* set once the process is unusable */
    char *req;              /* request buffer */
    size_t req_cap;
    char *line;             /* reply line buffer */
    size_t line_len, line_cap;
} exec_critic;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double fail(exec_critic *c, const char *fmt, const char *detail)
{
    if (!c->failure[0])
        snprintf(c->failure, sizeof c->failure, fmt, c->command, detail ? detail : "");
    if (c->pid > 0) {
        kill(-c->pid, SIGKILL);   /* the shell and whatever it started */
        waitpid(c->pid, NULL, 0);
        c->pid = -1;
    }
    return INFINITY;
}

static bool req_reserve(exec_critic *c, size_t need)
{
    if (need <= c->req_cap)
        return true;
    size_t cap = c->req_cap ? c->req_cap : 256;
    while (cap < need)
        cap *= 2;
    char *b = realloc(c->req, cap);
    if (!b)
        return false;
    c->req = b;
    c->req_cap = cap;
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

/* {"op":"OP","text":"..."}\n — invalid UTF-8 bytes become U+FFFD. */
static bool build_request(exec_critic *c, const char *op, const char *text, size_t len, size_t *n)
{
    if (!req_reserve(c, 32 + strlen(op) + 6 * len + 4))
        return false;
    char *w = c->req;
    w += sprintf(w, "{\"op\":\"%s\",\"text\":\"", op);
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        unsigned char ch = s[i];
        if (ch == '"' || ch == '\\') {
            *w++ = '\\';
            *w++ = (char)ch;
            i++;
        } else if (ch < 0x20 || ch == 0x7f) {
            w += sprintf(w, "\\u%04x", ch);
            i++;
        } else {
            size_t k = utf8_len(s + i, len - i);
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
    w += sprintf(w, "\"}\n");
    *n = (size_t)(w - c->req);
    return true;
}

static bool send_all(exec_critic *c, const char *buf, size_t n)
{
    while (n) {
        ssize_t k = send(c->fd, buf, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        buf += k;
        n -= (size_t)k;
    }
    return true;
}

/* Reads one line (without its newline) into c->line within the timeout:
 * 1 ok, 0 end of file, -1 timeout, -2 error. */
static int read_line(exec_critic *c)
{
    c->line_len = 0;
    double deadline = now_ms() + c->timeout_ms;
    for (;;) {
        double left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)ceil(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -2;
        if (r == 0)
            return -1;
        if (c->line_len + 4096 + 1 > c->line_cap) {
            size_t cap = c->line_cap ? c->line_cap * 2 : 8192;
            char *b = realloc(c->line, cap);
            if (!b)
                return -2;
            c->line = b;
            c->line_cap = cap;
        }
        /* Peek so that bytes after the newline stay for the next answer. */
        ssize_t k = recv(c->fd, c->line + c->line_len, 4096, MSG_PEEK);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == ECONNRESET)
            return 0;
        if (k < 0)
            return -2;
        if (k == 0)
            return 0;
        char *nl = memchr(c->line + c->line_len, '\n', (size_t)k);
        size_t take = nl ? (size_t)(nl - (c->line + c->line_len)) + 1 : (size_t)k;
        if (recv(c->fd, c->line + c->line_len, take, 0) != (ssize_t)take)
            return -2;
        c->line_len += take;
        if (nl) {
            c->line[--c->line_len] = 0;
            return 1;
        }
        if (c->line_len > (64u << 20))
            return -2;
    }
}

static double ask(exec_critic *c, const char *op, const char *text, size_t len)
{
    if (c->failure[0])
        return INFINITY;
    size_t n;
    if (!build_request(c, op, text, len, &n))
        return fail(c, "critic process '%s': out of memory%s", NULL);
    if (!send_all(c, c->req, n))
        return fail(c, "critic process '%s' exited without answering (it stopped reading its input)%s", NULL);
    int r = read_line(c);
    if (r == 0)
        return fail(c, "critic process '%s' exited without answering%s", NULL);
    if (r == -1)
        return fail(c, "critic process '%s' did not answer within the timeout%s", NULL);
    if (r < 0)
        return fail(c, "critic process '%s': cannot read its answer%s", NULL);
    cJSON *j = cJSON_Parse(c->line);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "logw");
    double out;
    if (cJSON_IsNumber(v) && !isnan(v->valuedouble) && v->valuedouble != INFINITY)
        out = v->valuedouble;
    else if (cJSON_IsNull(v) || (cJSON_IsString(v) && !strcmp(v->valuestring, "-inf")))
        out = -INFINITY;
    else {
        char shown[96];
        snprintf(shown, sizeof shown, ": %.80s", c->line);
        cJSON_Delete(j);
        return fail(c, "critic process '%s' answered something other than {\"logw\": number}%s", shown);
    }
    cJSON_Delete(j);
    return out;
}

static double exec_prefix(void *self, void *state, const char *text, size_t len)
{
    (void)state;
    return ask(self, "prefix", text, len);
}

static double exec_complete(void *self, void *state, const char *text, size_t len)
{
    (void)state;
    return ask(self, "complete", text, len);
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
        /* Closing its input lets a well-behaved process exit; then make sure. */
        for (int i = 0; i < 50; i++) {
            if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
                c->pid = -1;
                break;
            }
            usleep(2000);
        }
        if (c->pid > 0) {
            kill(-c->pid, SIGKILL);
            waitpid(c->pid, NULL, 0);
        }
    }
    free(c->command);
    free(c->req);
    free(c->line);
    free(c);
}

static const smc_potential_vtable exec_vt = {
    .prefix = exec_prefix,
    .complete = exec_complete,
    .destroy = exec_destroy,
    .failure = exec_failure,
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
