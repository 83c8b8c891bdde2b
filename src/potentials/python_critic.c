/* python_critic.c — the Python critic: a reused worker process (the fork
 * server of py_server.c) answers whether a program prefix is valid Python so
 * far (CPython's own parser through codeop) and whether the program so far
 * runs with the problem's setup code (in sandboxed, rlimited processes that
 * the worker keeps as snapshots of setup and program prefixes). The C side
 * starts the worker, frames requests on pipes, enforces its own deadline,
 * kills and restarts a worker that dies or stops answering, and remembers
 * verdicts by program text so that the same text is never checked twice. */
#include "potentials/py_sandbox.h"
#include "potentials/py_worker.h"
#include "smcgen.h"
#include "util/error.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Run verdicts already known, by (program, with_test): particles share
 * prefixes, so the same program is often checked again. A slot is found by
 * hash and believed only when its stored text is the same. Cleared when the
 * context changes. */
#define PY_CACHE 512
typedef struct {
    uint64_t hash;
    char *text; /* the program, malloc'd; NULL: slot unused */
    size_t len;
    smc_py_status status;
    char msg[160];
} py_cache_entry;

/* smc_py_check verdicts by (program, complete), the same way. */
#define PY_CHECKS 1024
typedef struct {
    uint64_t hash;
    char *text;
    size_t len;
    smc_verdict verdict;
    char reason[256];
} py_check_entry;

struct smc_py_critic {
    py_cache_entry cache[PY_CACHE];
    py_check_entry checks[PY_CHECKS];
    char rbuf[256]; /* bytes read from the worker, not yet used */
    size_t rpos, rlen;
    int max_snapshots, spares;
    bool memo;
    char *python;
    char *setup, *test;
    size_t setup_len, test_len;
    pid_t pid;
    int to_fd, from_fd;
    double timeout_ms;
    long mem_mb, cpu_s;
    long run_mem_mb, run_procs; /* limits of the sandbox as a whole */
    py_cgroup cg;               /* the worker's cgroups (sandboxed) */
    bool unsafe; /* no sandbox (smc_py_allow_unsafe) */
};

static bool allow_unsafe;

void smc_py_allow_unsafe(bool allow) { allow_unsafe = allow; }

bool smc_py_sandbox_available(char *why, size_t why_cap) { return py_sandbox_supported(why, why_cap); }

/* The worker outside any sandbox (--unsafe-no-sandbox): only the rlimits,
 * network namespace and audit hook the server sets up itself. */
static pid_t spawn_unsandboxed(const char *python, int in_fd, int out_fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in_fd, 0);
        dup2(out_fd, 1);
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0)
            dup2(dn, 2);
        execlp(python, python, "-u", "-I", "-c", SMC_PY_SERVER_SCRIPT, (char *)NULL);
        _exit(127);
    }
    return pid;
}

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

static double now_ms(void);

/* Stops the worker. graceful: closing its stdin makes it kill its snapshots
 * and wait for them (so no orphan is left to init); it gets 3 s for that,
 * then it is killed. Otherwise (it misbehaved) it is killed at once; its
 * sandboxed processes then die with it or on their own when their sockets
 * close. */
static void stop_worker(smc_py_critic *c, bool graceful)
{
    if (c->to_fd >= 0)
        close(c->to_fd);
    c->to_fd = -1;
    if (c->pid > 0 && graceful && c->from_fd >= 0) {
        double end = now_ms() + 3000;
        for (;;) {
            double left = end - now_ms();
            if (left <= 0)
                break;
            struct pollfd pf = {c->from_fd, POLLIN, 0};
            int pr = poll(&pf, 1, (int)left + 1);
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr <= 0)
                break;
            char junk[256];
            ssize_t k = read(c->from_fd, junk, sizeof junk);
            if (k == 0) { /* its stdout closed: it is exiting */
                for (int i = 0; i < 3000 && waitpid(c->pid, NULL, WNOHANG) == 0; i++)
                    usleep(1000);
                break;
            }
            if (k < 0 && errno != EINTR)
                break;
        }
    }
    if (c->from_fd >= 0)
        close(c->from_fd);
    c->from_fd = -1;
    c->rpos = c->rlen = 0;
    if (c->pid > 0 && waitpid(c->pid, NULL, WNOHANG) == 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    c->pid = -1;
    py_cgroup_close(&c->cg); /* whatever is left in it, and the cgroup */
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

/* Reads exactly n bytes before the deadline, through c->rbuf (replies are
 * short: one read usually brings a whole one). */
static int read_exact(smc_py_critic *c, char *p, size_t n, double deadline)
{
    while (n > 0) {
        if (c->rpos < c->rlen) {
            size_t k = c->rlen - c->rpos < n ? c->rlen - c->rpos : n;
            memcpy(p, c->rbuf + c->rpos, k);
            c->rpos += k;
            p += k;
            n -= k;
            continue;
        }
        double left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pf = {c->from_fd, POLLIN, 0};
        int pr = poll(&pf, 1, (int)(left + 1));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return -1;
        ssize_t k = read(c->from_fd, c->rbuf, sizeof c->rbuf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c->rpos = 0;
        c->rlen = (size_t)k;
    }
    return 0;
}

/* Whether the worker has written bytes beyond the reply just read (or
 * before a request): exactly one reply per request, anything more means
 * something else writes on its output. */
static bool surplus(smc_py_critic *c)
{
    if (c->rpos < c->rlen)
        return true;
    struct pollfd pf = {c->from_fd, POLLIN, 0};
    return c->from_fd >= 0 && poll(&pf, 1, 0) > 0;
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
    if (!c->unsafe)
        py_cgroup_open(&c->cg, c->run_mem_mb, c->run_procs);
    pid_t pid = c->unsafe ? spawn_unsandboxed(c->python, in_pipe[0], out_pipe[1])
                          : py_sandbox_spawn(c->python, SMC_PY_SERVER_SCRIPT, in_pipe[0], out_pipe[1], 256,
                                             c->run_procs, &c->cg, err);
    if (pid < 0) {
        int e = errno;
        close(in_pipe[0]); close(in_pipe[1]); close(out_pipe[0]); close(out_pipe[1]);
        py_cgroup_close(&c->cg);
        return c->unsafe ? smc_fail(err, "fork: %s", strerror(e)) : -1;
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    c->pid = pid;
    c->to_fd = in_pipe[1];
    c->from_fd = out_pipe[0];
    c->rpos = c->rlen = 0;
    char st[16], msg[64], cfg[64];
    snprintf(cfg, sizeof cfg, "CFG %d %d %d\n", c->max_snapshots, c->spares, (int)c->memo);
    /* numpy/pandas are imported at start: allow a slow first answer */
    if (request(c, "PING 0\n", NULL, NULL, 0, 30000, st, sizeof st, msg, sizeof msg, err) < 0 ||
        strcmp(st, "OK") != 0 || request(c, cfg, NULL, NULL, 0, 10000, st, sizeof st, msg, sizeof msg, err) < 0) {
        stop_worker(c, false);
        return smc_fail(err, "cannot start the Python worker \"%s\"", c->python);
    }
    return 0;
}

static int request(smc_py_critic *c, const char *hdr, const char *const *parts, const size_t *lens, int n_parts,
                   double wait_ms, char *status, size_t status_cap, char *msg, size_t msg_cap, smc_error *err)
{
    if (c->pid > 0 && surplus(c)) /* bytes nobody asked for: never believed */
        stop_worker(c, false);
    if (c->pid <= 0 && start_worker(c, err) < 0)
        return -1;
    /* the header gets a fresh random tag that the reply must repeat: bytes
     * written by anyone who has not read this request are never taken for
     * its reply */
    uint64_t tag = 0;
    if (getrandom(&tag, sizeof tag, 0) != (ssize_t)sizeof tag)
        tag ^= (uint64_t)now_ms() * 0x9e3779b97f4a7c15ULL + (uint64_t)c->pid;
    char tagged[256], want[24];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)tag);
    size_t hl = strcspn(hdr, "\n");
    snprintf(tagged, sizeof tagged, "%.*s %s\n", (int)(hl < 200 ? hl : 200), hdr, want);
    if (write_all(c->to_fd, tagged, strlen(tagged)) < 0)
        goto dead;
    for (int i = 0; i < n_parts; i++)
        if (lens[i] && write_all(c->to_fd, parts[i], lens[i]) < 0)
            goto dead;
    double deadline = now_ms() + wait_ms;
    char line[64];
    size_t k = 0;
    for (;;) {
        if (k + 1 >= sizeof line || read_exact(c, line + k, 1, deadline) < 0)
            goto dead;
        if (line[k] == '\n')
            break;
        k++;
    }
    line[k] = '\0';
    unsigned long len = 0;
    char word[16] = "", got[24] = "";
    if (sscanf(line, "%15s %lu %23s", word, &len, got) != 3 || len > 1 << 20)
        goto dead;
    if (strcmp(got, want) != 0) { /* not the reply to this request */
        stop_worker(c, false);
        return smc_fail(err, "the Python worker's reply was not tagged for this request; it was replaced");
    }
    char *body = malloc(len + 1);
    if (!body || read_exact(c, body, len, deadline) < 0) {
        free(body);
        goto dead;
    }
    body[len] = '\0';
    if (surplus(c)) { /* more than one reply to one request */
        free(body);
        stop_worker(c, false);
        return smc_fail(err, "the Python worker wrote more than one reply; it was replaced");
    }
    snprintf(status, status_cap, "%s", word);
    snprintf(msg, msg_cap, "%s", body);
    free(body);
    return 0;
dead:
    stop_worker(c, false);
    return smc_fail(err, "the Python worker died or did not answer within %.0f ms", wait_ms);
}

/* Asks the worker to run the setup now, in the background, so that the
 * first check of a problem finds it done (the model is busy writing the
 * first line meanwhile). Only a head start: a failure here is left for the
 * next request to meet (and restart the worker). */
static void prepare_context(smc_py_critic *c)
{
    char hdr[160], st[16], m[64];
    smc_error err;
    snprintf(hdr, sizeof hdr, "CTX %ld %ld %ld %zu\n", (long)c->timeout_ms, c->mem_mb, c->cpu_s, c->setup_len);
    const char *parts[1] = {c->setup};
    size_t lens[1] = {c->setup_len};
    (void)request(c, hdr, parts, lens, 1, 10000, st, sizeof st, m, sizeof m, &err);
}

static void forget_verdicts(smc_py_critic *c)
{
    for (int i = 0; i < PY_CACHE; i++)
        free(c->cache[i].text);
    for (int i = 0; i < PY_CHECKS; i++)
        free(c->checks[i].text);
    memset(c->cache, 0, sizeof c->cache);
    memset(c->checks, 0, sizeof c->checks);
}

/* Whether a memo slot holds exactly this text. */
static bool same_text(const char *stored, size_t stored_len, uint64_t stored_hash, const char *code, size_t n,
                      uint64_t h)
{
    return stored && stored_hash == h && stored_len == n && memcmp(stored, code, n) == 0;
}

/* Stores a copy of the text in a memo slot; false (slot left unused) when
 * out of memory. */
static bool store_text(char **slot, size_t *slot_len, uint64_t *slot_hash, const char *code, size_t n, uint64_t h)
{
    free(*slot);
    *slot = dup_n(code, n);
    *slot_len = n;
    *slot_hash = h;
    return *slot != NULL;
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
    c->run_mem_mb = 4096;
    c->run_procs = 256;
    c->cg.mem_at = c->cg.pids_at = -1;
    c->max_snapshots = 32;
    c->spares = 0;
    c->memo = true;
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
    char why[256];
    c->unsafe = allow_unsafe;
    if (c->unsafe) {
        static bool warned;
        if (!warned)
            fprintf(stderr, "smcgen: warning: the Python critic runs generated code WITHOUT a sandbox "
                            "(--unsafe-no-sandbox): it can read, change and send anything this user can\n");
        warned = true;
    } else if (!py_sandbox_supported(why, sizeof why)) {
        smc_py_close(c);
        return smc_fail(err,
                        "the Python critic runs generated code only inside a sandbox, and this system cannot "
                        "provide one: %s; see docs/security.md, or pass --unsafe-no-sandbox to run it without "
                        "(only where losing the machine's data would not matter)",
                        why);
    } else {
        /* the trusted side out of reach: no other process of this user may
         * read our memory or open our descriptors through /proc (the sandbox
         * runs as this user when smcgen is not root) */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    if (start_worker(c, err) < 0) {
        smc_py_close(c);
        return -1;
    }
    prepare_context(c);
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
    forget_verdicts(c);
    c->setup = s;
    c->test = t;
    c->setup_len = ns;
    c->test_len = nt;
    prepare_context(c);
    return 0;
}

void smc_py_close(smc_py_critic *c)
{
    if (!c)
        return;
    stop_worker(c, true);
    forget_verdicts(c);
    free(c->python);
    free(c->setup);
    free(c->test);
    free(c);
}

void smc_py_set_run_limits(smc_py_critic *c, long mem_mb, long procs)
{
    if (!c)
        return;
    if (mem_mb > 0)
        c->run_mem_mb = mem_mb;
    bool restart = procs > 0 && procs != c->run_procs && c->cg.pids_at < 0 && c->pid > 0;
    if (procs > 0)
        c->run_procs = procs;
    /* the cgroup's limits change at once; RLIMIT_NPROC with a new worker */
    py_cgroup_set(&c->cg, c->run_mem_mb, c->run_procs);
    if (restart)
        stop_worker(c, true); /* the next request starts it again */
}

void smc_py_isolation(const smc_py_critic *c, char *out, size_t cap)
{
    if (!out || !cap)
        return;
    char why[256], limits[PATH_MAX * 2 + 400];
    if (c && c->unsafe) {
        snprintf(out, cap, "no sandbox (--unsafe-no-sandbox): rlimits per process, a network namespace where "
                           "the kernel allows one, an audit hook");
        return;
    }
    if (!py_sandbox_supported(why, sizeof why)) {
        snprintf(out, cap, "no sandbox on this system: %s", why);
        return;
    }
    if (c && c->pid > 0) {
        py_cgroup_describe(&c->cg, c->run_mem_mb, c->run_procs, limits, sizeof limits);
    } else { /* what a worker would get: a cgroup made and removed */
        py_cgroup g;
        py_cgroup_open(&g, c ? c->run_mem_mb : 4096, c ? c->run_procs : 256);
        py_cgroup_describe(&g, c ? c->run_mem_mb : 4096, c ? c->run_procs : 256, limits, sizeof limits);
        py_cgroup_close(&g);
    }
    snprintf(out, cap, "sandbox: user, pid, mount, network, ipc and uts namespaces, seccomp, Landlock ABI %d; %s",
             py_sandbox_landlock_abi(), limits);
}

void smc_py_set_limits(smc_py_critic *c, double timeout_ms, long mem_mb, long cpu_s)
{
    if (!c)
        return;
    forget_verdicts(c); /* verdicts depend on the limits */
    if (timeout_ms > 0)
        c->timeout_ms = timeout_ms;
    if (mem_mb > 0)
        c->mem_mb = mem_mb;
    if (cpu_s > 0)
        c->cpu_s = cpu_s;
}

int smc_py_set_reuse(smc_py_critic *c, int max_snapshots, bool spares, bool memo, smc_error *err)
{
    if (!c)
        return smc_fail(err, "no Python critic");
    if (max_snapshots < 0 || max_snapshots > 4096)
        return smc_fail(err, "max_snapshots %d is out of range (0..4096)", max_snapshots);
    c->max_snapshots = max_snapshots;
    c->spares = spares;
    c->memo = memo;
    forget_verdicts(c);
    char hdr[64], st[16], m[64];
    snprintf(hdr, sizeof hdr, "CFG %d %d %d\n", max_snapshots, (int)spares, (int)memo);
    if (request(c, hdr, NULL, NULL, 0, 10000, st, sizeof st, m, sizeof m, err) < 0)
        return -1;
    return strcmp(st, "OK") == 0 ? 0 : smc_fail(err, "the Python worker refused \"%s\": %s", hdr, m);
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
    if (c->memo && same_text(ce->text, ce->len, ce->hash, code, n, h)) {
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
    if (store_text(&ce->text, &ce->len, &ce->hash, code, n, h)) {
        ce->status = *status;
        snprintf(ce->msg, sizeof ce->msg, "%.159s", m);
    }
    return 0;
}

/* reason = what + msg, cut to fit. */
static void put(char *reason, size_t cap, const char *what, const char *msg)
{
    if (!reason || !cap)
        return;
    size_t k = 0;
    for (const char *p = what; *p && k + 1 < cap; p++)
        reason[k++] = *p;
    for (const char *p = msg; *p && k + 1 < cap; p++)
        reason[k++] = *p;
    reason[k] = '\0';
}

/* The verdict of a line-end or complete check, in one request: the worker
 * checks the syntax and, for a complete statement list, runs it (with the
 * test in complete mode). *keep false when the verdict came from a failure
 * of the worker rather than from the program. */
static smc_verdict check_uncached(smc_py_critic *c, const char *code, size_t n, bool complete, char *reason,
                                  size_t reason_cap, bool *keep)
{
    smc_error err;
    char hdr[192], st[16], msg[512];
    size_t nt = complete ? c->test_len : 0;
    snprintf(hdr, sizeof hdr, "CHK %d %ld %ld %ld %zu %zu %zu\n", (int)complete, (long)c->timeout_ms, c->mem_mb,
             c->cpu_s, c->setup_len, n, nt);
    const char *parts[3] = {c->setup, code, c->test};
    size_t lens[3] = {c->setup_len, n, nt};
    *keep = false;
    if (request(c, hdr, parts, lens, 3, c->timeout_ms + 10000, st, sizeof st, msg, sizeof msg, &err) < 0) {
        put(reason, reason_cap, "", err.msg);
        return SMC_VERDICT_INVALID;
    }
    *keep = true;
    if (strcmp(st, "BAD") == 0) {
        put(reason, reason_cap, "syntax: ", msg);
        return SMC_VERDICT_INVALID;
    }
    if (strcmp(st, "MORE") == 0) {
        if (!complete)
            return SMC_VERDICT_PREFIX;
        put(reason, reason_cap, "the program is not finished", "");
        return SMC_VERDICT_INVALID;
    }
    if (strcmp(st, "OK") == 0)
        return complete ? SMC_VERDICT_COMPLETE : SMC_VERDICT_PREFIX;
    if (strcmp(st, "ASSERT") == 0) { /* a wrong answer, not a crash: kept */
        put(reason, reason_cap, "", msg);
        return complete ? SMC_VERDICT_COMPLETE : SMC_VERDICT_PREFIX;
    }
    if (strcmp(st, "TIMEOUT") == 0) {
        put(reason, reason_cap, "", msg);
        return SMC_VERDICT_INVALID;
    }
    put(reason, reason_cap, "runtime: ", msg);
    return SMC_VERDICT_INVALID;
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
    if (memchr(code, '\0', n)) {
        put(reason, reason_cap, "NUL byte in the program", "");
        return SMC_VERDICT_INVALID;
    }
    /* resampled particles share their text: a verdict is worked out once */
    uint64_t h = fnv1a(code, n, complete ? 0x84222325cbf29ce4ULL : 0xcbf29ce484222325ULL);
    py_check_entry *e = &c->checks[h % PY_CHECKS];
    if (c->memo && same_text(e->text, e->len, e->hash, code, n, h)) {
        put(reason, reason_cap, "", e->reason);
        return e->verdict;
    }
    char why[256] = "";
    bool keep;
    smc_verdict v = check_uncached(c, code, n, complete, why, sizeof why, &keep);
    put(reason, reason_cap, "", why);
    if (keep && c->memo && store_text(&e->text, &e->len, &e->hash, code, n, h)) {
        e->verdict = v;
        put(e->reason, sizeof e->reason, "", why);
    }
    return v;
}
