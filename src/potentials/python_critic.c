/* python_critic.c — the Python critic: a reused worker process (the fork
 * server of py_server.c) answers whether a program prefix is valid Python so
 * far (CPython's own parser through codeop) and whether the program so far
 * runs with the problem's setup code (in a sandboxed, rlimited child). The C
 * side starts the worker, frames requests on pipes, enforces its own
 * deadline, and kills and restarts a worker that dies or stops answering. */
#include "potentials/py_worker.h"
#include "smcgen.h"
#include "util/error.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Run verdicts already known, by hash of (program, with_test): particles
 * share prefixes, so the same program is often checked again. Cleared when
 * the context changes. */
#define PY_CACHE 512
typedef struct {
    uint64_t hash;
    size_t len;
    bool used;
    smc_py_status status;
    char msg[160];
} py_cache_entry;

struct smc_py_critic {
    py_cache_entry cache[PY_CACHE];
    char *python;
    char *setup, *test;
    size_t setup_len, test_len;
    pid_t pid;
    int to_fd, from_fd;
    double timeout_ms;
    long mem_mb, cpu_s;
};

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void stop_worker(smc_py_critic *c)
{
    if (c->to_fd >= 0)
        close(c->to_fd);
    if (c->from_fd >= 0)
        close(c->from_fd);
    c->to_fd = c->from_fd = -1;
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    c->pid = -1;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Writes all bytes; SIGPIPE from a dead worker is blocked and discarded. */
static int write_all(int fd, const char *p, size_t n)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int r = 0;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            r = -1;
            break;
        }
        p += k;
        n -= (size_t)k;
    }
    if (r < 0) {
        struct timespec zero = {0, 0};
        sigtimedwait(&block, NULL, &zero); /* consume a pending SIGPIPE */
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

/* Reads exactly n bytes before the deadline. */
static int read_exact(int fd, char *p, size_t n, double deadline)
{
    while (n > 0) {
        double left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pf = {fd, POLLIN, 0};
        int pr = poll(&pf, 1, (int)(left + 1));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return -1;
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* One request, one reply: status word and message. */
static int request(smc_py_critic *c, const char *hdr, const char *const *parts, const size_t *lens, int n_parts,
                   double wait_ms, char *status, size_t status_cap, char *msg, size_t msg_cap, smc_error *err);

static int start_worker(smc_py_critic *c, smc_error *err)
{
    int in_pipe[2], out_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) < 0)
        return smc_fail(err, "pipe: %s", strerror(errno));
    if (pipe2(out_pipe, O_CLOEXEC) < 0) {
        close(in_pipe[0]);
        close(in_pipe[1]);
        return smc_fail(err, "pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in_pipe[0]); close(in_pipe[1]); close(out_pipe[0]); close(out_pipe[1]);
        return smc_fail(err, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0)
            dup2(dn, 2);
        execlp(c->python, c->python, "-u", "-I", "-c", SMC_PY_SERVER_SCRIPT, (char *)NULL);
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    c->pid = pid;
    c->to_fd = in_pipe[1];
    c->from_fd = out_pipe[0];
    char st[16], msg[64];
    /* numpy/pandas are imported at start: allow a slow first answer */
    if (request(c, "PING 0\n", NULL, NULL, 0, 30000, st, sizeof st, msg, sizeof msg, err) < 0 ||
        strcmp(st, "OK") != 0) {
        stop_worker(c);
        return smc_fail(err, "cannot start the Python worker \"%s\"", c->python);
    }
    return 0;
}

static int request(smc_py_critic *c, const char *hdr, const char *const *parts, const size_t *lens, int n_parts,
                   double wait_ms, char *status, size_t status_cap, char *msg, size_t msg_cap, smc_error *err)
{
    if (c->pid <= 0 && start_worker(c, err) < 0)
        return -1;
    if (write_all(c->to_fd, hdr, strlen(hdr)) < 0)
        goto dead;
    for (int i = 0; i < n_parts; i++)
        if (lens[i] && write_all(c->to_fd, parts[i], lens[i]) < 0)
            goto dead;
    double deadline = now_ms() + wait_ms;
    char line[64];
    size_t k = 0;
    for (;;) {
        if (k + 1 >= sizeof line || read_exact(c->from_fd, line + k, 1, deadline) < 0)
            goto dead;
        if (line[k] == '\n')
            break;
        k++;
    }
    line[k] = '\0';
    unsigned long len = 0;
    char word[16] = "";
    if (sscanf(line, "%15s %lu", word, &len) != 2 || len > 1 << 20)
        goto dead;
    char *body = malloc(len + 1);
    if (!body || read_exact(c->from_fd, body, len, deadline) < 0) {
        free(body);
        goto dead;
    }
    body[len] = '\0';
    snprintf(status, status_cap, "%s", word);
    snprintf(msg, msg_cap, "%s", body);
    free(body);
    return 0;
dead:
    stop_worker(c);
    return smc_fail(err, "the Python worker died or did not answer within %.0f ms", wait_ms);
}

int smc_py_open(const char *python, const char *setup, const char *test, smc_py_critic **out, smc_error *err)
{
    *out = NULL;
    smc_py_critic *c = calloc(1, sizeof *c);
    if (!c)
        return smc_fail(err, "out of memory");
    c->pid = -1;
    c->to_fd = c->from_fd = -1;
    c->timeout_ms = 5000;
    c->mem_mb = 1024;
    c->cpu_s = 10;
    if (!python)
        python = getenv("SMCGEN_PYTHON");
    /* Debian's interpreter, where the data-science packages smcgen installs
     * live, before whatever python3 comes first on PATH. */
    if (!python)
        python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    c->python = dup_n(python, strlen(python));
    c->setup_len = setup ? strlen(setup) : 0;
    c->test_len = test ? strlen(test) : 0;
    c->setup = dup_n(setup ? setup : "", c->setup_len);
    c->test = dup_n(test ? test : "", c->test_len);
    if (!c->python || !c->setup || !c->test) {
        smc_py_close(c);
        return smc_fail(err, "out of memory");
    }
    if (start_worker(c, err) < 0) {
        smc_py_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

int smc_py_set_context(smc_py_critic *c, const char *setup, const char *test, smc_error *err)
{
    if (!c)
        return smc_fail(err, "no Python critic");
    size_t ns = setup ? strlen(setup) : 0, nt = test ? strlen(test) : 0;
    char *s = dup_n(setup ? setup : "", ns), *t = dup_n(test ? test : "", nt);
    if (!s || !t) {
        free(s);
        free(t);
        return smc_fail(err, "out of memory");
    }
    free(c->setup);
    free(c->test);
    memset(c->cache, 0, sizeof c->cache);
    c->setup = s;
    c->test = t;
    c->setup_len = ns;
    c->test_len = nt;
    return 0;
}

void smc_py_close(smc_py_critic *c)
{
    if (!c)
        return;
    stop_worker(c);
    free(c->python);
    free(c->setup);
    free(c->test);
    free(c);
}

void smc_py_set_limits(smc_py_critic *c, double timeout_ms, long mem_mb, long cpu_s)
{
    if (!c)
        return;
    memset(c->cache, 0, sizeof c->cache); /* verdicts depend on the limits */
    if (timeout_ms > 0)
        c->timeout_ms = timeout_ms;
    if (mem_mb > 0)
        c->mem_mb = mem_mb;
    if (cpu_s > 0)
        c->cpu_s = cpu_s;
}

int smc_py_syntax(smc_py_critic *c, const char *code, size_t n, int *state, char *msg, size_t msg_cap,
                  smc_error *err)
{
    char hdr[64], st[16], m[512];
    if (!c || (!code && n))
        return smc_fail(err, "no Python critic or no code");
    snprintf(hdr, sizeof hdr, "SYN %zu\n", n);
    const char *parts[1] = {code};
    size_t lens[1] = {n};
    if (request(c, hdr, parts, lens, 1, 10000, st, sizeof st, m, sizeof m, err) < 0)
        return -1;
    *state = strcmp(st, "OK") == 0 ? 2 : strcmp(st, "MORE") == 0 ? 1 : 0;
    if (msg && msg_cap)
        snprintf(msg, msg_cap, "%s", m);
    return 0;
}

static uint64_t fnv1a(const char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int smc_py_run(smc_py_critic *c, const char *code, size_t n, bool with_test, smc_py_status *status, char *msg,
               size_t msg_cap, smc_error *err)
{
    char hdr[160], st[16], m[512];
    if (!c || (!code && n)) {
        *status = SMC_PY_WORKER_FAILED;
        return smc_fail(err, "no Python critic or no code");
    }
    uint64_t h = fnv1a(code, n, with_test ? 14695981039346656037ULL : 1469598103934665603ULL);
    py_cache_entry *ce = &c->cache[h % PY_CACHE];
    if (ce->used && ce->hash == h && ce->len == n) {
        *status = ce->status;
        if (msg && msg_cap)
            snprintf(msg, msg_cap, "%s", ce->msg);
        return 0;
    }
    size_t nt = with_test ? c->test_len : 0;
    snprintf(hdr, sizeof hdr, "RUN %ld %ld %ld %zu %zu %zu\n", (long)c->timeout_ms, c->mem_mb, c->cpu_s,
             c->setup_len, n, nt);
    const char *parts[3] = {c->setup, code, c->test};
    size_t lens[3] = {c->setup_len, n, nt};
    if (request(c, hdr, parts, lens, 3, c->timeout_ms + 10000, st, sizeof st, m, sizeof m, err) < 0) {
        *status = SMC_PY_WORKER_FAILED;
        return -1;
    }
    if (strcmp(st, "OK") == 0)
        *status = SMC_PY_OK;
    else if (strcmp(st, "ASSERT") == 0)
        *status = SMC_PY_ASSERTION;
    else if (strcmp(st, "TIMEOUT") == 0)
        *status = SMC_PY_TIMEOUT;
    else if (strcmp(st, "SETUP") == 0)
        *status = SMC_PY_SETUP_FAILED;
    else
        *status = SMC_PY_ERROR;
    if (msg && msg_cap)
        snprintf(msg, msg_cap, "%s", m);
    ce->used = true;
    ce->hash = h;
    ce->len = n;
    ce->status = *status;
    snprintf(ce->msg, sizeof ce->msg, "%.159s", m);
    return 0;
}

static void put(char *reason, size_t cap, const char *what, const char *msg)
{
    if (reason && cap)
        snprintf(reason, cap, "%s%s", what, msg);
}

smc_verdict smc_py_check(smc_py_critic *c, const char *code, size_t n, bool complete, char *reason,
                         size_t reason_cap)
{
    put(reason, reason_cap, "", "");
    if (!c) {
        put(reason, reason_cap, "no Python critic", "");
        return SMC_VERDICT_INVALID;
    }
    if (!code)
        code = "", n = 0;
    /* Prefixes are judged at line ends only: mid-line, any text may still
     * become valid. */
    if (!complete && (n == 0 || code[n - 1] != '\n'))
        return SMC_VERDICT_PREFIX;
    smc_error err;
    char msg[400];
    int state;
    if (memchr(code, '\0', n)) {
        put(reason, reason_cap, "NUL byte in the program", "");
        return SMC_VERDICT_INVALID;
    }
    if (smc_py_syntax(c, code, n, &state, msg, sizeof msg, &err) < 0) {
        put(reason, reason_cap, "", err.msg);
        return SMC_VERDICT_INVALID;
    }
    if (state == 0) {
        put(reason, reason_cap, "syntax: ", msg);
        return SMC_VERDICT_INVALID;
    }
    if (state == 1) {
        if (!complete)
            return SMC_VERDICT_PREFIX;
        put(reason, reason_cap, "the program is not finished", "");
        return SMC_VERDICT_INVALID;
    }
    smc_py_status st;
    if (smc_py_run(c, code, n, complete, &st, msg, sizeof msg, &err) < 0) {
        put(reason, reason_cap, "", err.msg);
        return SMC_VERDICT_INVALID;
    }
    switch (st) {
    case SMC_PY_OK:
        break;
    case SMC_PY_ASSERTION:
        put(reason, reason_cap, "", msg); /* a wrong answer, not a crash: kept */
        break;
    case SMC_PY_TIMEOUT:
        put(reason, reason_cap, "", msg);
        return SMC_VERDICT_INVALID;
    default:
        put(reason, reason_cap, "runtime: ", msg);
        return SMC_VERDICT_INVALID;
    }
    return complete ? SMC_VERDICT_COMPLETE : SMC_VERDICT_PREFIX;
}
