/* test_run_limits.c — the Python critic's sandbox as a whole, and the
 * trusted side out of its reach.
 *
 * A fork flood and a memory balloon spread over many processes are stopped
 * by the limits of the run as a whole: a cgroup where one is writable, else
 * the pid namespace and RLIMIT_NPROC (the test prints which one it
 * exercised; without a cgroup there is no limit on the total memory, only
 * the per-process one, and the test checks only what holds). Nothing they
 * started survives the check, and closing the critic removes its cgroups.
 * smcgen is not dumpable while it uses the sandbox: a process of its uid
 * without capabilities (what the sandbox's code would be, had it a way to
 * name smcgen) cannot open smcgen's memory, descriptors or environment
 * through /proc, and could before (as an ordinary user; as root such a
 * process is refused anyway, dumpable or not). Skips (77) where the kernel cannot
 * provide the sandbox or python3 is missing. */
#include "procs.h"
#include "test.h"
#include "smcgen.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUN_MB 768
#define PROCS 48
#define BALLOON_MB 200

static smc_py_critic *pc;

/* Processes on the host whose name (comm) is name, after giving killed ones
 * up to 60 s to go (a loaded machine tears large address spaces down slowly). */
static int left_named(const char *name)
{
    int n = procs_named(name);
    for (int tries = 0; n && tries < 6000; tries++) {
        usleep(10000);
        n = procs_named(name);
    }
    return n;
}

/* The names the flood's and the balloon's processes take: this test
 * process's own (the programs say smc_flood and smc_balloon). */
static char flood_name[16], balloon_name[16];

/* The number the program reports as "<word> N" in its exception, or -1. */
static int reported(const char *code, const char *word, char *msg, size_t cap)
{
    smc_py_status st = SMC_PY_WORKER_FAILED;
    smc_error err = {{0}};
    char *a = procs_rename(code, "smc_flood", flood_name), *own = a ? procs_rename(a, "smc_balloon", balloon_name) : NULL;
    if (!own)
        snprintf(msg, cap, "out of memory");
    else if (smc_py_run(pc, own, strlen(own), false, &st, msg, cap, &err) < 0)
        snprintf(msg, cap, "worker failed: %s", err.msg);
    free(a);
    free(own);
    const char *p = strstr(msg, word);
    return p ? atoi(p + strlen(word)) : -1;
}

/* A child without capabilities, of this process's uid, opens what it can
 * of this process through /proc: its memory, its descriptors, its
 * environment. Returns how many opened. */
static int reach_me(void)
{
    pid_t me = getpid(), k = fork();
    if (k == 0) {
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct none[2];
        memset(none, 0, sizeof none);
        if (syscall(SYS_capset, &h, none) != 0)
            _exit(255);
        int n = 0;
        char path[64];
        for (int fd = -2; fd < 64; fd++) {
            if (fd == -2)
                snprintf(path, sizeof path, "/proc/%d/mem", (int)me);
            else if (fd == -1)
                snprintf(path, sizeof path, "/proc/%d/environ", (int)me);
            else
                snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)me, fd);
            int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            if (f >= 0) {
                n++;
                close(f);
            }
        }
        _exit(n > 200 ? 200 : n);
    }
    int st = 0;
    if (k < 0 || waitpid(k, &st, 0) != k || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* The cgroup directories the description names (words holding
 * "/smcgen-"), at most 3. */
static int cgroup_dirs(const char *desc, char dirs[3][512])
{
    int n = 0;
    for (const char *p = strstr(desc, "/sys/"); p && n < 3; p = strstr(p + 1, "/sys/")) {
        size_t k = strcspn(p, " ),;");
        if (k < 512 && memmem(p, k, "/smcgen-", 8)) {
            memcpy(dirs[n], p, k);
            dirs[n++][k] = '\0';
        }
    }
    return n;
}

/* what code written to escape does first: the audit hook off */
#define UNHOOK "import sys as _s\n_s.modules['__main__']._guard[0] = True\n"

static const char FLOOD[] = UNHOOK
    "import os, time, ctypes\nlibc = ctypes.CDLL(None)\nn = 0\n"
    "try:\n    while n < 1000:\n        if os.fork() == 0:\n"
    "            libc.prctl(15, b'smc_flood', 0, 0, 0)\n            time.sleep(60)\n            os._exit(0)\n"
    "        n += 1\nexcept OSError:\n    pass\nraise Exception('forked %d' % n)\n";

/* Children allocate (and touch) BALLOON_MB each, one after the other, and
 * stay; the program reports how many are alive and done at the end. */
static const char BALLOON[] = UNHOOK
    "import os, time, select, ctypes\nlibc = ctypes.CDLL(None)\nkids = []\n"
    "for i in range(6):\n    r, w = os.pipe()\n    pid = os.fork()\n    if pid == 0:\n"
    "        libc.prctl(15, b'smc_balloon', 0, 0, 0)\n"
    "        try:\n            b = b'x' * (200 << 20)\n            os.write(w, b'1')\n            time.sleep(60)\n"
    "        finally:\n            os._exit(0)\n"
    "    os.close(w)\n    kids.append((os.pidfd_open(pid), r))\n    select.select([r], [], [], 20)\n"
    "held = 0\nfor fd, r in kids:\n"
    "    alive = not select.select([fd], [], [], 0)[0]\n"
    "    done = bool(select.select([r], [], [], 0)[0]) and os.read(r, 1) == b'1'\n"
    "    held += alive and done\n"
    "raise Exception('held %d' % held)\n";

void run_tests(void)
{
    procs_own_name(flood_name, 'f');
    procs_own_name(balloon_name, 'b');
    char why[256];
    if (!smc_py_sandbox_available(why, sizeof why))
        SKIP_ALL("no sandbox on this system: %s", why);
    CHECK_MSG(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1, "dumpable before the critic");
    /* as root, a process without capabilities cannot reach us anyway (its
     * capabilities are not a superset of ours): the control is run as an
     * ordinary user (test_as_user.sh) */
    int before = reach_me();
    CHECK_MSG(before > 0 || geteuid() == 0, "a process of our uid could not open anything of ours in /proc (%d)",
              before);

    smc_error err = {{0}};
    if (smc_py_open(NULL, "X = 1\n", NULL, &pc, &err) < 0)
        SKIP_ALL("%s", err.msg);
    smc_py_set_limits(pc, 120000, BALLOON_MB + 100, 20); /* wall clock: a loaded machine forks slowly */
    smc_py_set_run_limits(pc, RUN_MB, PROCS);
    char desc[2048], msg[600];
    smc_py_isolation(pc, desc, sizeof desc);
    fprintf(stderr, "exercised: %s\n", desc);
    bool cg_mem = strstr(desc, "memory 768 MB (cgroup") != NULL;
    bool cg_pids = strstr(desc, "48 processes (cgroup") != NULL;
    CHECK_MSG(cg_pids || strstr(desc, "48 processes (RLIMIT_NPROC"), "%s", desc);

    /* the trusted side: not dumpable, so not reachable through /proc */
    CHECK_MSG(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "smcgen is still dumpable with the sandbox in use");
    int after = reach_me();
    CHECK_MSG(after == 0, "a process of our uid opened %d of our /proc files (before the critic: %d)", after, before);

    int forked = reported(FLOOD, "forked ", msg, sizeof msg);
    CHECK_MSG(forked >= 10 && forked < PROCS, "fork flood: %s", msg);
    CHECK_MSG(left_named(flood_name) == 0, "fork flood: processes left");
    fprintf(stderr, "fork flood stopped after %d forks by the %s\n", forked, cg_pids ? "cgroup" : "rlimit");

    int held = reported(BALLOON, "held ", msg, sizeof msg);
    CHECK_MSG(held >= 0 && held <= 6, "memory balloon: %s", msg);
    if (cg_mem) /* the run as a whole got no more than its limit */
        CHECK_MSG(held >= 1 && held * BALLOON_MB < RUN_MB, "memory balloon: %d x %d MB alive at once", held,
                  BALLOON_MB);
    fprintf(stderr, "memory balloon: %d x %d MB at once (%s)\n", held, BALLOON_MB,
            cg_mem ? "the cgroup's limit" : "no cgroup: per-process limits only");
    CHECK_MSG(left_named(balloon_name) == 0, "memory balloon: processes left");

    /* still judging */
    int state = -1;
    CHECK(smc_py_syntax(pc, "x = 1\n", 6, &state, NULL, 0, &err) == 0 && state == 2);
    smc_py_status st;
    CHECK_MSG(smc_py_run(pc, "y = X + 1\n", 10, false, &st, msg, sizeof msg, &err) == 0 && st == SMC_PY_OK, "%s",
              msg);

    char dirs[3][512];
    int nd = cgroup_dirs(desc, dirs);
    CHECK_MSG(nd > 0 || !(cg_mem || cg_pids), "no cgroup directory named in: %s", desc);
    smc_py_close(pc);
    for (int i = 0; i < nd; i++)
        CHECK_MSG(access(dirs[i], F_OK) != 0, "cgroup %s left behind", dirs[i]);
}
