/* test_exec_leftovers.c — an exec: critic that starts a background process
 * (a daemon in its own session, and a plain child) and then exits cleanly:
 * once the critic is freed, nothing it started is left running. */
#include "test.h"
#include "smc/potential.h"
#include "smcgen.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

static bool alive(long pid)
{
    if (pid <= 0 || kill((pid_t)pid, 0) != 0)
        return false;
    char path[64], st = '?';
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
            st = '?';
        fclose(f);
    }
    return st != 'Z';
}

void run_tests(void)
{
    char child[128], cmd[512];
    snprintf(child, sizeof child, "/tmp/smc_test_exec_child_%d", (int)getpid());
    unlink(child);
    /* the background child keeps the critic's group; it answers one request
     * and exits 0 when its input closes */
    snprintf(cmd, sizeof cmd,
             "sleep 300 </dev/null >/dev/null 2>&1 & echo $! > %s; "
             "read a; echo '{\"logw\": 0}'; cat >/dev/null; exit 0",
             child);
    smc_potential *p = NULL;
    smc_error err = {{0}};
    CHECK_MSG(smc_critic_from_exec(cmd, 5000, &p, &err) == 0, "%s", err.msg);
    if (!p)
        return;
    CHECK(p->vt->prefix(p->self, NULL, "x", 1) == 0);
    long pid = -1;
    for (int i = 0; i < 500 && (pid = read_pid(child)) <= 0; i++)
        usleep(10000);
    CHECK_MSG(alive(pid), "the background child %ld was not started", pid);
    smc_potential_free(p);
    /* the kill lands at once, but a loaded machine may take a while to
     * tear the child down: up to 60 s (hang detection, not a measurement) */
    for (int i = 0; i < 6000 && alive(pid); i++)
        usleep(10000);
    CHECK_MSG(!alive(pid), "the critic's child %ld outlived it", pid);
    if (alive(pid))
        kill((pid_t)pid, SIGKILL);
    unlink(child);
}
