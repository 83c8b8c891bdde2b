/* test_python.c — the Python critic: syntax at line ends, lines that parse
 * but raise, the sandbox (writes outside the temp dir, sockets, subprocesses,
 * an endless loop, a memory bomb), worker reuse and restart, snapshots of
 * program prefixes (state carried over, extensions that raise, compound
 * statements extended, budgets and files carried, no process left behind),
 * the verdict memo, and the pydata problems' reference solutions (with
 * pandas, when the Python has it). */
#include "test.h"
#include "security/procs.h"
#include "smcgen.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static bool python_can(const char *py, const char *module)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -c 'import %s' >/dev/null 2>&1", py, module);
    return system(cmd) == 0;
}

static const char *pick_python(bool need_pandas)
{
    const char *env = getenv("SMCGEN_PYTHON");
    const char *cands[] = {env, "/usr/bin/python3", "python3"};
    for (int i = 0; i < 3; i++)
        if (cands[i] && python_can(cands[i], need_pandas ? "pandas" : "codeop"))
            return cands[i];
    return NULL;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static smc_py_critic *c;
static int descendants(int *pids, int cap);

/* A process's state letter and parent from /proc/PID/stat; false when it is
 * gone (or unreadable). */
static bool proc_stat(int pid, char *state, int *ppid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[k] = '\0';
    char *cp = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    return cp && sscanf(cp + 1, " %c %d", state, ppid) == 2;
}

/* The pid of this process's one direct child (the critic's worker), or -1. */
static int worker_pid(void)
{
    int pids[64], n = descendants(pids, 64), found = -1, count = 0;
    for (int i = 0; i < n && i < 64; i++) {
        char st;
        int ppid;
        if (proc_stat(pids[i], &st, &ppid) && ppid == (int)getpid()) {
            found = pids[i];
            count++;
        }
    }
    return count == 1 ? found : -1;
}

/* Waits (up to 60 s: hang detection, not a measurement) until pid is gone
 * or a zombie. */
static void wait_dead(int pid)
{
    char st = '?';
    int ppid;
    for (int tries = 0; tries < 6000 && proc_stat(pid, &st, &ppid) && st != 'Z'; tries++)
        usleep(10000);
}
static smc_verdict pre(const char *s) { return smc_py_check(c, s, strlen(s), false, NULL, 0); }
static smc_verdict full(const char *s) { return smc_py_check(c, s, strlen(s), true, NULL, 0); }

static void test_syntax_and_runs(void)
{
    /* syntax, judged at line ends */
    CHECK(pre("x = 1\n") == SMC_VERDICT_PREFIX);
    CHECK(pre("x = (1,\n") == SMC_VERDICT_PREFIX);          /* open parenthesis: incomplete */
    CHECK(pre("for i in range(3):\n") == SMC_VERDICT_PREFIX);
    CHECK(pre("x = 1 +") == SMC_VERDICT_PREFIX);            /* mid-line: not judged */
    CHECK(pre("x = = 1\n") == SMC_VERDICT_INVALID);
    CHECK(pre("def f(:\n") == SMC_VERDICT_INVALID);
    CHECK(pre("x = 1 +\n") == SMC_VERDICT_INVALID);
    int state = -1;
    smc_error err;
    CHECK(smc_py_syntax(c, "if x:\n", 6, &state, NULL, 0, &err) == 0 && state == 1);
    CHECK(smc_py_syntax(c, "y = 2\n", 6, &state, NULL, 0, &err) == 0 && state == 2);
    CHECK(smc_py_syntax(c, "y = )\n", 6, &state, NULL, 0, &err) == 0 && state == 0);
    /* lines that parse but raise */
    char why[300];
    CHECK(smc_py_check(c, "y = undefined_name\n", 19, false, why, sizeof why) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "NameError") != NULL, "reason: %s", why);
    CHECK(pre("x = 1 / 0\n") == SMC_VERDICT_INVALID);
    CHECK(pre("x = [1, 2][5]\n") == SMC_VERDICT_INVALID);
    CHECK(pre("assert 1 == 2\n") == SMC_VERDICT_PREFIX);     /* AssertionError is not a crash */
    CHECK(pre("import math\nr = math.sqrt(setup_value)\n") == SMC_VERDICT_PREFIX); /* setup ran */
    CHECK(full("r = setup_value * 2\n") == SMC_VERDICT_COMPLETE);
    CHECK(full("r = 1\n") == SMC_VERDICT_COMPLETE);         /* test fails by assertion only */
    CHECK(full("if True:\n") == SMC_VERDICT_INVALID);
    smc_py_status st;
    CHECK(smc_py_run(c, "r = setup_value * 2\n", 20, true, &st, NULL, 0, &err) == 0 && st == SMC_PY_OK);
    CHECK(smc_py_run(c, "r = 1\n", 6, true, &st, NULL, 0, &err) == 0 && st == SMC_PY_ASSERTION);
    CHECK(smc_py_run(c, "r = 1\nraise KeyError(3)\n", 23, false, &st, NULL, 0, &err) == 0 && st == SMC_PY_ERROR);
}

static void test_sandbox(void)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/smc_py_forbidden_%d", (int)getpid());
    char prog[256];
    snprintf(prog, sizeof prog, "open('%s', 'w').write('x')\n", path);
    CHECK(pre(prog) == SMC_VERDICT_INVALID);
    CHECK(access(path, F_OK) != 0);
    unlink(path);
    CHECK(pre("open('inside.txt', 'w').write('fine')\nassert open('inside.txt').read() == 'fine'\n") ==
          SMC_VERDICT_PREFIX);
    CHECK(pre("import socket\ns = socket.socket()\n") == SMC_VERDICT_INVALID);
    CHECK(pre("import os\nos.system('true')\n") == SMC_VERDICT_INVALID);
    CHECK(pre("import subprocess\nsubprocess.run(['true'])\n") == SMC_VERDICT_INVALID);
    CHECK(pre("import os\nos.remove('/etc/hostname')\n") == SMC_VERDICT_INVALID);
    int state;
    smc_error err;
    /* an endless loop hits the wall clock; the worker survives and is
     * reused. The CPU limit is 600 s here, so only the wall clock can stop
     * the loop within the 60 s allowed (hang detection: it takes 300 ms). */
    int worker = worker_pid();
    CHECK_MSG(worker > 0, "no single worker process under the critic");
    smc_py_set_limits(c, 300, 0, 600);
    double t0 = now_ms();
    char why[300];
    CHECK(smc_py_check(c, "while True:\n    pass\n", 21, false, why, sizeof why) == SMC_VERDICT_INVALID);
    double took = now_ms() - t0;
    CHECK_MSG(strstr(why, "limit") != NULL, "reason: %s", why);
    CHECK_MSG(took < 60000, "endless loop took %.0f ms", took);
    smc_py_set_limits(c, 5000, 0, 10);
    /* a memory bomb fails fast */
    smc_py_set_limits(c, 0, 256, 0);
    CHECK(pre("x = bytearray(4 * 1024 ** 3)\n") == SMC_VERDICT_INVALID);
    smc_py_set_limits(c, 0, 1024, 0);
    /* reuse: syntax checks are answered by the same worker, not by a new
     * Python (checked by its pid, not by the clock; the time is printed) */
    t0 = now_ms();
    int answered = 0;
    for (int i = 0; i < 50; i++)
        answered += smc_py_syntax(c, "x = (1,\n", 8, &state, NULL, 0, &err) == 0 && state == 1;
    double per = (now_ms() - t0) / 50;
    CHECK_EQ_INT(answered, 50);
    CHECK_MSG(worker_pid() == worker, "the worker changed from %d to %d", worker, worker_pid());
    fprintf(stderr, "python critic: %.3f ms per syntax check\n", per);
    CHECK(pre("x = 1\n") == SMC_VERDICT_PREFIX);
}

/* Processes below this one (children, grandchildren, ...), from /proc;
 * their pids go to pids (up to cap). */
static int descendants(int *pids, int cap)
{
    enum { MAXP = 4096 };
    static int pid_of[MAXP], ppid_of[MAXP];
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAXP) {
        int pid = atoi(e->d_name), ppid;
        char st;
        if (pid > 0 && proc_stat(pid, &st, &ppid)) {
            pid_of[n] = pid;
            ppid_of[n++] = ppid;
        }
    }
    closedir(d);
    /* grow the set from our pid until it stops growing */
    static int in[MAXP];
    memset(in, 0, sizeof in);
    int me = (int)getpid(), count = 0;
    for (bool grew = true; grew;) {
        grew = false;
        for (int i = 0; i < n; i++) {
            if (in[i])
                continue;
            bool parent_in = ppid_of[i] == me;
            for (int j = 0; j < n && !parent_in; j++)
                parent_in = in[j] && pid_of[j] == ppid_of[i];
            if (parent_in) {
                in[i] = 1;
                grew = true;
                if (pids && count < cap)
                    pids[count] = pid_of[i];
                count++;
            }
        }
    }
    return count;
}

static smc_py_status run_status(const char *prog, bool with_test, char *msg, size_t cap)
{
    smc_py_status st = SMC_PY_WORKER_FAILED;
    smc_error err;
    if (smc_py_run(c, prog, strlen(prog), with_test, &st, msg, cap, &err) < 0)
        fprintf(stderr, "run failed: %s\n", err.msg);
    return st;
}

/* A program grown line by line, as a particle grows, checked at each line. */
static void test_snapshots(bool spares)
{
    smc_error err;
    CHECK(smc_py_set_reuse(c, 8, spares, true, &err) == 0);
    char msg[300];
    /* line 2 runs in a fork of the process that ran line 1 (white box: that
     * is what makes a check cost one statement) */
    const char *p1 = "import os\np1 = os.getpid()\n";
    const char *p2 = "import os\np1 = os.getpid()\nassert os.getppid() == p1, 'not forked from the snapshot'\n";
    CHECK(run_status(p1, false, msg, sizeof msg) == SMC_PY_OK);
    CHECK_MSG(run_status(p2, false, msg, sizeof msg) == SMC_PY_OK, "%s", msg);
    /* state of earlier statements carries over: a list mutated line by line */
    const char *grow[] = {"xs = [setup_value]\n", "xs = [setup_value]\nxs.append(1)\n",
                          "xs = [setup_value]\nxs.append(1)\nxs.append(2)\n",
                          "xs = [setup_value]\nxs.append(1)\nxs.append(2)\nassert xs == [21, 1, 2], xs\n"};
    for (int i = 0; i < 4; i++)
        CHECK_MSG(run_status(grow[i], false, msg, sizeof msg) == SMC_PY_OK, "line %d: %s", i + 1, msg);
    /* a sibling branch from the same prefix does not see the other's state */
    CHECK_MSG(run_status("xs = [setup_value]\nxs.append(1)\nassert xs == [21, 1], xs\n", false, msg, sizeof msg) ==
                  SMC_PY_OK, "%s", msg);
    /* random's state survives the fork (each line runs in a fork of the
     * snapshot of the lines before) */
    CHECK(run_status("import random\nrandom.seed(7); want = random.random(); random.seed(7)\n", false, NULL, 0) ==
          SMC_PY_OK);
    CHECK(run_status("import random\nrandom.seed(7); want = random.random(); random.seed(7)\ngot = random.random()\n",
                     false, NULL, 0) == SMC_PY_OK);
    CHECK_MSG(run_status("import random\nrandom.seed(7); want = random.random(); random.seed(7)\n"
                         "got = random.random()\nassert got == want, (got, want)\n", false, msg, sizeof msg) ==
                  SMC_PY_OK, "%s", msg);
    /* a prefix that raises once extended, and extensions of it */
    CHECK(pre("a = 1\n") == SMC_VERDICT_PREFIX);
    char why[300];
    CHECK(smc_py_check(c, "a = 1\nb = a / 0\n", 16, false, why, sizeof why) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "ZeroDivisionError") != NULL, "reason: %s", why);
    CHECK(smc_py_check(c, "a = 1\nb = a / 0\nc = 3\n", 22, false, why, sizeof why) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "ZeroDivisionError") != NULL, "reason: %s", why);
    CHECK(run_status("a = 1\nb = a / 0\nc = 3\n", false, msg, sizeof msg) == SMC_PY_ERROR);
    CHECK(run_status("a = 1\nb = a / 0\nr = 42\n", true, msg, sizeof msg) == SMC_PY_ERROR);
    CHECK(run_status("a = 1\nb = a + 1\nr = 42\n", true, msg, sizeof msg) == SMC_PY_OK);
    /* an assertion in the prefix: kept as a prefix, and its extensions fail
     * the same way (the prefix stops there) */
    CHECK(pre("a = 1\nassert a == 2, 'a is one'\n") == SMC_VERDICT_PREFIX);
    CHECK(run_status("a = 1\nassert a == 2, 'a is one'\nr = 42\n", true, msg, sizeof msg) == SMC_PY_ASSERTION);
    CHECK_MSG(strstr(msg, "a is one") != NULL, "message: %s", msg);
    /* a compound statement extended by the next line: the first version's
     * snapshot is not a prefix of the second */
    CHECK(pre("for i in range(3):\n    s = i\n") == SMC_VERDICT_PREFIX);
    const char *loop = "for i in range(3):\n    s = i\n    t = 1 / (i - 2)\n";
    CHECK(smc_py_check(c, loop, strlen(loop), false, why, sizeof why) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "ZeroDivisionError") != NULL, "reason: %s", why);
    CHECK(run_status("for i in range(3):\n    s = i\nassert s == 2 and i == 2\n", false, msg, sizeof msg) == SMC_PY_OK);
    /* two statements on a line, and line numbers kept in the rest */
    CHECK(run_status("a = 1; b = 2\n", false, NULL, 0) == SMC_PY_OK);
    CHECK(run_status("a = 1; b = 2\nimport sys\nassert sys._getframe().f_lineno == 3\n", false, msg, sizeof msg) ==
          SMC_PY_OK);
    /* files: what the prefix wrote is there, what a sibling wrote is not */
    CHECK(run_status("open('f.txt', 'w').write('a')\n", false, NULL, 0) == SMC_PY_OK);
    CHECK_MSG(run_status("open('f.txt', 'w').write('a')\nassert open('f.txt').read() == 'a'\n", false, msg,
                         sizeof msg) == SMC_PY_OK, "%s", msg);
    CHECK_MSG(run_status("import os\nassert not os.path.exists('f.txt')\n", false, msg, sizeof msg) == SMC_PY_OK,
              "%s", msg);
    /* the sandbox holds in forks of snapshots too */
    CHECK(pre("import os\nv = 1\n") == SMC_VERDICT_PREFIX);
    CHECK(pre("import os\nv = 1\nos.system('true')\n") == SMC_VERDICT_INVALID);
    CHECK(pre("import os\nv = 1\nimport socket\ns = socket.socket()\n") == SMC_VERDICT_INVALID);
    /* the wall clock counts the prefix's time too, and kills an endless
     * loop added to a kept prefix. Each sleep (3 s) fits the 4.5 s limit
     * with 1.5 s to spare for a loaded machine; the two together exceed it
     * by as much. The CPU limit is 600 s, so only the wall clock can stop
     * the loop within the 60 s allowed (hang detection). */
    smc_py_set_limits(c, 4500, 0, 600);
    CHECK_MSG(run_status("import time\ntime.sleep(3.0)\n", false, msg, sizeof msg) == SMC_PY_OK, "%s", msg);
    CHECK_MSG(run_status("import time\ntime.sleep(3.0)\ntime.sleep(3.0)\n", false, msg, sizeof msg) ==
                  SMC_PY_TIMEOUT, "%s", msg);
    CHECK(run_status("import time\nv = 2\n", false, NULL, 0) == SMC_PY_OK);
    double t0 = now_ms();
    CHECK(run_status("import time\nv = 2\nwhile True:\n    pass\n", false, msg, sizeof msg) == SMC_PY_TIMEOUT);
    CHECK_MSG(now_ms() - t0 < 60000, "endless loop took %.0f ms", now_ms() - t0);
    CHECK(run_status("import time\nv = 2\nw = v\n", false, NULL, 0) == SMC_PY_OK); /* the worker survives */
    smc_py_set_limits(c, 5000, 0, 10);
    /* without snapshots the program runs in one process from the setup */
    CHECK(smc_py_set_reuse(c, 0, false, true, &err) == 0);
    CHECK(run_status(p2, false, msg, sizeof msg) == SMC_PY_ASSERTION);
    CHECK(run_status(grow[3], false, msg, sizeof msg) == SMC_PY_OK);
    CHECK(smc_py_set_reuse(c, 32, false, true, &err) == 0);
    CHECK(smc_py_set_reuse(c, -1, false, true, &err) < 0);
}

/* A new context's setup starts when the context is set, not at its first
 * run: the setup notes the time and then renames its process; the test
 * waits for that name to appear (up to 60 s, hang detection) before it asks
 * for any run, and the run then sees the setup's time before the moment the
 * run was asked for (a setup run at the first run would note a later one). */
static void test_background_setup(const char *setup, const char *test)
{
    smc_error err;
    char msg[300], name[16], ctx[256];
    snprintf(name, sizeof name, "smcset%d", (int)getpid() % 1000000);
    snprintf(ctx, sizeof ctx,
             "import time, ctypes\nt_setup = time.time()\nctypes.CDLL(None).prctl(15, b'%s', 0, 0, 0)\n", name);
    CHECK(smc_py_set_context(c, ctx, NULL, &err) == 0);
    int seen = 0;
    for (int tries = 0; tries < 6000 && !(seen = procs_named(name)); tries++)
        usleep(10000);
    CHECK_MSG(seen > 0, "the setup did not run before the first run was asked for");
    struct timespec asked;
    clock_gettime(CLOCK_REALTIME, &asked);
    char prog[256];
    snprintf(prog, sizeof prog, "import time\nassert t_setup < %lld.%09ld, t_setup\n", (long long)asked.tv_sec,
             asked.tv_nsec);
    CHECK_MSG(run_status(prog, false, msg, sizeof msg) == SMC_PY_OK, "%s", msg);
    CHECK(smc_py_set_context(c, setup, test, &err) == 0);
    CHECK(full("r = setup_value * 2\n") == SMC_VERDICT_COMPLETE);
}

/* Verdicts are remembered by text: a program whose outcome is a coin toss
 * gets one answer however often it is asked; without the memo, both. (With
 * snapshots, forks of one snapshot share random's state, so the toss is run
 * without them here: each run then starts from a freshly seeded fork.) */
static void test_memo(void)
{
    smc_error err;
    CHECK(smc_py_set_reuse(c, 0, false, true, &err) == 0);
    const char *coin = "import random\nassert random.random() < 0.5\n";
    smc_py_status first = run_status(coin, false, NULL, 0);
    CHECK(first == SMC_PY_OK || first == SMC_PY_ASSERTION);
    bool same = true;
    for (int i = 0; i < 12; i++)
        same = same && run_status(coin, false, NULL, 0) == first;
    CHECK(same);
    char r1[300], r2[300];
    smc_verdict v1 = smc_py_check(c, "q = 1\nq = q.nope\n", 17, false, r1, sizeof r1);
    smc_verdict v2 = smc_py_check(c, "q = 1\nq = q.nope\n", 17, false, r2, sizeof r2);
    CHECK(v1 == SMC_VERDICT_INVALID && v2 == v1);
    CHECK_STR(r1, r2);
    CHECK_MSG(strstr(r1, "AttributeError") != NULL, "reason: %s", r1);
    CHECK(smc_py_set_reuse(c, 0, false, false, &err) == 0);
    int seen[2] = {0, 0};
    for (int i = 0; i < 24; i++) {
        smc_py_status st = run_status(coin, false, NULL, 0);
        seen[st == SMC_PY_OK ? 0 : 1]++;
    }
    CHECK_MSG(seen[0] > 0 && seen[1] > 0, "ok %d, assert %d", seen[0], seen[1]);
    CHECK(smc_py_set_reuse(c, 32, false, true, &err) == 0);
}

/* LRU eviction kills what it drops; closing leaves no process behind, not
 * even a zombie. */
static void test_no_leak(const char *py)
{
    smc_py_critic *pc = NULL;
    smc_error err;
    int before = descendants(NULL, 0);
    if (smc_py_open(py, "base = 1\n", NULL, &pc, &err) < 0) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    CHECK(smc_py_set_reuse(pc, 2, true, true, &err) == 0);
    char prog[128];
    for (int i = 0; i < 10; i++) {
        snprintf(prog, sizeof prog, "v%d = base + %d\n", i, i);
        CHECK(smc_py_check(pc, prog, strlen(prog), false, NULL, 0) == SMC_VERDICT_PREFIX);
        snprintf(prog, sizeof prog, "v%d = base + %d\nw = v%d\n", i, i, i);
        CHECK(smc_py_check(pc, prog, strlen(prog), false, NULL, 0) == SMC_VERDICT_PREFIX);
    }
    /* the worker, 2 snapshots, their spares; killed ones go away soon (up
     * to 60 s allowed: hang detection, a loaded machine tears down slowly) */
    int during = 0;
    for (int tries = 0; tries < 6000; tries++) {
        during = descendants(NULL, 0) - before;
        if (during <= 5)
            break;
        usleep(10000);
    }
    CHECK_MSG(during >= 2 && during <= 5, "%d processes under the critic", during);
    int pids[64];
    int n = descendants(pids, 64);
    /* the worker holds a socket and a pidfd per live process, not one per
     * process it ever had */
    int fds = -1;
    for (int i = 0; i < n && i < 64; i++) {
        char path[64], st;
        int ppid;
        if (!proc_stat(pids[i], &st, &ppid) || ppid != (int)getpid())
            continue;
        snprintf(path, sizeof path, "/proc/%d/fd", pids[i]);
        DIR *d = opendir(path);
        fds = 0;
        for (struct dirent *e; d && (e = readdir(d));)
            fds += e->d_name[0] != '.';
        if (d)
            closedir(d);
    }
    CHECK_MSG(fds > 0 && fds <= 4 + 2 * 5 + 2, "the worker has %d descriptors open", fds);
    /* snapshots that die (here: killed, all of them) are noticed and
     * replaced: the verdicts stay right */
    for (int i = 0; i < n && i < 64; i++) {
        char st;
        int ppid;
        if (proc_stat(pids[i], &st, &ppid) && ppid != (int)getpid())
            kill(pids[i], SIGKILL); /* one of the critic's sandboxed processes */
    }
    int w = worker_pid();
    for (int i = 0; i < n && i < 64; i++) /* the kills have landed: dead or zombies */
        if (pids[i] != w)
            wait_dead(pids[i]);
    const char *healed = "v9 = base + 9\nw = v9\nassert w == 10, w\n";
    smc_py_status st = SMC_PY_WORKER_FAILED;
    CHECK(smc_py_run(pc, healed, strlen(healed), false, &st, NULL, 0, &err) == 0 && st == SMC_PY_OK);
    const char *bad = "v9 = base + 9\nw = v9\nz = w.nope\n";
    CHECK(smc_py_run(pc, bad, strlen(bad), false, &st, NULL, 0, &err) == 0 && st == SMC_PY_ERROR);
    n = descendants(pids, 64);
    smc_py_close(pc);
    int after = descendants(NULL, 0);
    CHECK_MSG(after == before, "%d processes left after close (%d before open)", after - before, 0);
    int alive = 0;
    for (int i = 0; i < n && i < 64; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d", pids[i]);
        alive += access(path, F_OK) == 0; /* a zombie still has its /proc entry */
    }
    CHECK_MSG(alive == 0, "%d of the critic's %d processes still exist after close", alive, n);
}

static void test_bad_worker(void)
{
    smc_py_critic *bad = NULL;
    smc_error err;
    CHECK(smc_py_open("/nonexistent/python3", NULL, NULL, &bad, &err) < 0 && bad == NULL);
    CHECK(smc_py_check(NULL, "x\n", 2, false, NULL, 0) == SMC_VERDICT_INVALID);
    smc_py_status st;
    CHECK(smc_py_run(NULL, "x", 1, false, &st, NULL, 0, &err) < 0);
}

static void test_pydata(const char *py)
{
    FILE *f = fopen(test_shared_path("data/pydata/dev.jsonl"), "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    int n = 0, ok_full = 0, ok_prefixes = 0, broken_caught = 0, skipped = 0;
    /* every second problem keeps the binary fast; SMC_TEST_FULL=1 runs all */
    int limit = getenv("SMC_TEST_SANITIZED") ? 5 : 40, step = getenv("SMC_TEST_FULL") ? 1 : 2, index = 0;
    smc_py_critic *pc = NULL;
    smc_error err;
    if (smc_py_open(py, NULL, NULL, &pc, &err) < 0) {
        CHECK_MSG(0, "%s", err.msg);
        fclose(f);
        return;
    }
    /* The references must pass however loaded the machine is: a wall-clock
     * limit far above their run time (CPU time stays limited). */
    smc_py_set_limits(pc, 120000, 0, 0);
    while (getline(&line, &cap, f) > 0 && n < limit) {
        cJSON *o = cJSON_Parse(line);
        const char *lib = cJSON_GetStringValue(cJSON_GetObjectItem(o, "library"));
        const char *setup = cJSON_GetStringValue(cJSON_GetObjectItem(o, "context_setup"));
        const char *sol = cJSON_GetStringValue(cJSON_GetObjectItem(o, "reference_solution"));
        const char *test = cJSON_GetStringValue(cJSON_GetObjectItem(o, "test"));
        if (index++ % step) {
            /* not this time */
        } else if (lib && !python_can(py, strcmp(lib, "plotting") == 0 ? "matplotlib" : lib)) {
            skipped++;
        } else if (setup && sol && test && smc_py_set_context(pc, setup, test, &err) == 0) {
            n++;
            char why[300];
            bool good = smc_py_check(pc, sol, strlen(sol), true, why, sizeof why) == SMC_VERDICT_COMPLETE;
            if (!good)
                fprintf(stderr, "  reference fails: %s\n", why);
            ok_full += good;
            bool all = true;
            for (size_t k = 1; k <= strlen(sol) && all; k++)
                all = smc_py_check(pc, sol, k, false, why, sizeof why) == SMC_VERDICT_PREFIX;
            ok_prefixes += all;
            const char *broken = "result = df.no_such_method()\n";
            broken_caught += smc_py_check(pc, broken, strlen(broken), false, NULL, 0) == SMC_VERDICT_INVALID;
        }
        cJSON_Delete(o);
    }
    smc_py_close(pc);
    free(line);
    fclose(f);
    fprintf(stderr, "pydata: %d problems (%d skipped: library missing), reference complete %d, all prefixes kept %d, "
            "broken line caught %d\n", n, skipped, ok_full, ok_prefixes, broken_caught);
    CHECK(n > 0);
    CHECK_EQ_INT(ok_full, n);
    CHECK_EQ_INT(ok_prefixes, n);
    CHECK_EQ_INT(broken_caught, n);
}

void run_tests(void)
{
    const char *py = pick_python(false);
    if (!py)
        SKIP_ALL("no python3 on this machine");
    smc_error err;
    const char *setup = "setup_value = 21\n";
    const char *test = "assert r == 42, r\n";
    if (smc_py_open(py, setup, test, &c, &err) < 0) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    test_syntax_and_runs();
    test_sandbox();
    test_snapshots(false);
    test_snapshots(true);
    test_memo();
    test_background_setup(setup, test);
    smc_py_close(c);
    test_no_leak(py);
    test_bad_worker();
    const char *pd = pick_python(true);
    if (pd && test_shared_path(""))
        test_pydata(pd);
    else
        fprintf(stderr, "note: no Python with pandas (or no ../shared): pydata problems skipped\n");
}
