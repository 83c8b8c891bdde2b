/* potentials_sandbox_start.c — what it costs to start a sandbox: smcgen's
 * own launcher (py_sandbox.c: raw clone into new namespaces, binds,
 * pivot_root, seccomp) against bubblewrap (Debian's bwrap) with the same
 * namespaces and a like view of the filesystem, and against no sandbox
 * (fork + exec), each starting the same program. Rounds are interleaved
 * (launcher, bwrap, none, launcher, ...) so that a loaded machine weighs on
 * all three alike; p50 and p99 of the wall time from fork to exit.
 *
 * Programs: /bin/true (the sandbox alone), `python3 -I -c pass` (an
 * interpreter) and `python3 -I -c "import numpy, pandas"` (what the Python
 * critic's worker loads: the cost of a check if every check started a new
 * sandbox instead of forking a snapshot inside one).
 *
 *     SMC_BENCH_N=40 build/bench_potentials_sandbox_start
 *
 * bwrap gets no seccomp filter here (loading one costs microseconds), and
 * no --new-session: with sched_autogroup a new session is a new scheduling
 * group, which on a loaded machine gets a whole group's share of the CPU
 * and would make bwrap's runs look several times faster than the others. */
#include "potentials/py_sandbox.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

/* fork + exec argv with stdin/stdout/stderr on /dev/null; waits; ms, or -1. */
static double run_exec(char *const argv[])
{
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        int dn = open("/dev/null", O_RDWR);
        dup2(dn, 0), dup2(dn, 1), dup2(dn, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return now_ms() - t0;
}

/* smcgen's launcher; the program gets its arguments after the script. */
static double run_launcher(const char *prog, const char *script)
{
    int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
    double t0 = now_ms();
    smc_error err;
    pid_t pid = py_sandbox_spawn(prog, script, dn, dn, 64, 256, NULL, &err);
    close(dn);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (pid < 0)
            fprintf(stderr, "launcher: %s\n", err.msg);
        return -1;
    }
    return now_ms() - t0;
}

#define MAXN 1000

static void measure(const char *name, const char *prog, const char *script, int n)
{
    static double v[3][MAXN];
    char *bw[64];
    int k = 0;
    const char *fixed[] = {"/usr/bin/bwrap", "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                           "--unshare-uts", "--die-with-parent", "--cap-drop", "ALL",
                           "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib",
                           "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
                           "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache", "--ro-bind", "/etc/alternatives",
                           "/etc/alternatives", "--ro-bind-try", "/etc/python3", "/etc/python3", "--dev", "/dev", "--proc", "/proc", "--size", "268435456", "--tmpfs",
                           "/tmp", "--chdir", "/tmp", "--clearenv", "--setenv", "HOME", "/tmp", NULL};
    if (geteuid() == 0) /* like the launcher: nobody inside */
        bw[k++] = "/usr/bin/bwrap", bw[k++] = "--uid", bw[k++] = "65534", bw[k++] = "--gid", bw[k++] = "65534";
    for (int i = geteuid() == 0 ? 1 : 0; fixed[i]; i++)
        bw[k++] = (char *)fixed[i];
    bw[k++] = (char *)prog;
    if (script)
        bw[k++] = "-I", bw[k++] = "-c", bw[k++] = (char *)script;
    bw[k] = NULL;
    char *plain[] = {(char *)prog, script ? "-I" : NULL, "-c", (char *)script, NULL};
    int got[3] = {0, 0, 0};
    for (int r = 0; r < n; r++) {
        double t;
        if ((t = run_launcher(prog, script ? script : "")) >= 0)
            v[0][got[0]++] = t;
        if ((t = run_exec(bw)) >= 0)
            v[1][got[1]++] = t;
        if ((t = run_exec(plain)) >= 0)
            v[2][got[2]++] = t;
    }
    const char *who[3] = {"smcgen launcher", "bwrap", "no sandbox"};
    for (int i = 0; i < 3; i++) {
        if (got[i] == 0)
            printf("%-34s %-16s %5s %10s %10s   (failed)\n", name, who[i], "0", "-", "-");
        else
            printf("%-34s %-16s %5d %10.2f %10.2f\n", name, who[i], got[i], pct(v[i], got[i], 0.5),
                   pct(v[i], got[i], 0.99));
    }
}

int main(void)
{
    char why[256];
    if (!py_sandbox_supported(why, sizeof why)) {
        printf("no sandbox here: %s\n", why);
        return 0;
    }
    if (access("/usr/bin/bwrap", X_OK) != 0) {
        printf("no /usr/bin/bwrap (apt-get install bubblewrap): nothing to compare\n");
        return 0;
    }
    const char *e = getenv("SMC_BENCH_N");
    int n = e ? atoi(e) : 40;
    if (n < 1 || n > MAXN)
        n = 40;
    double load[3] = {0, 0, 0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(f);
    }
    printf("load average %.2f %.2f %.2f; %d rounds, interleaved; wall ms from start to exit\n", load[0], load[1],
           load[2], n);
    printf("%-34s %-16s %5s %10s %10s\n", "program", "sandbox", "runs", "p50 (ms)", "p99 (ms)");
    measure("/bin/true", "/usr/bin/true", NULL, n);
    measure("python3 -I -c pass", "/usr/bin/python3", "pass", n);
    measure("python3: import numpy, pandas", "/usr/bin/python3", "import numpy, pandas", n / 4 > 0 ? n / 4 : 1);
    return 0;
}
