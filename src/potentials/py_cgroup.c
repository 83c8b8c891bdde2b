/* py_cgroup.c — limits for the Python critic's sandbox as a whole: memory
 * and the number of processes of everything one worker starts, together,
 * and a way to end all of it at once.
 *
 * Where smcgen may create a cgroup beneath its own (root, a delegated
 * subtree), each worker gets one: in the cgroup v2 hierarchy (memory.max,
 * memory.swap.max 0, pids.max, cgroup.kill), and, for a limit the v2 cgroup
 * cannot hold (its controllers are bound to v1 or not delegated), in the v1
 * memory and pids hierarchies. Controllers are enabled in smcgen's own
 * cgroup only as far as the kernel allows without moving any process (a v2
 * cgroup with processes in it cannot hand memory to its children). The
 * worker is moved in before it runs anything; closing kills whatever is
 * left (cgroup.kill, or each listed process), waits for the cgroups to
 * empty and removes them. Where nothing is writable (an ordinary user, a
 * read-only cgroupfs in a container) the sandbox relies on its pid
 * namespace and rlimits (py_sandbox.c), and py_cgroup_describe says so. */
#include "potentials/py_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const KIND_NAME[PY_CG_N] = {"cgroup v2", "cgroup v1 memory", "cgroup v1 pids"};

/* Whether the comma-separated list has the word. */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strcspn(p, " \n");
        if (k == n && strncmp(p, word, n) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

/* The hierarchy's mount point and the root of the mount (for v1: the one
 * with the controller); false when it is not mounted. */
static bool find_mount(py_cg_kind kind, char *point, char *root, size_t cap)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char mroot[PATH_MAX], mpoint[PATH_MAX];
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", mroot, mpoint) != 2 || strchr(mpoint, '\\'))
            continue;
        char fstype[32], source[256], opts[1024] = "";
        if (sscanf(dash + 3, "%31s %255s %1023s", fstype, source, opts) < 2)
            continue;
        if (kind == PY_CG_V2)
            found = strcmp(fstype, "cgroup2") == 0;
        else
            found = strcmp(fstype, "cgroup") == 0 && has_word(opts, kind == PY_CG_V1_MEMORY ? "memory" : "pids");
        if (found) {
            snprintf(point, cap, "%s", mpoint);
            snprintf(root, cap, "%s", mroot);
        }
    }
    fclose(f);
    return found;
}

/* This process's cgroup in the hierarchy, as a directory; false when not
 * found. */
static bool own_dir(py_cg_kind kind, char *out, size_t cap)
{
    char point[PATH_MAX], root[PATH_MAX];
    if (!find_mount(kind, point, root, sizeof point))
        return false;
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *ctrls = c1 + 1, *path = c2 + 1;
        if (kind == PY_CG_V2 ? !(strncmp(line, "0:", 2) == 0 && ctrls[0] == '\0')
                             : !has_word(ctrls, kind == PY_CG_V1_MEMORY ? "memory" : "pids"))
            continue;
        size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
        if (rl && (strncmp(path, root, rl) != 0 || (path[rl] && path[rl] != '/')))
            break; /* our cgroup is outside this mount */
        const char *rest = strcmp(path + rl, "/") == 0 ? "" : path + rl;
        found = snprintf(out, cap, "%s%s", point, rest) < (int)cap;
    }
    fclose(f);
    return found;
}

static int write_text(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static bool read_text(const char *dir, const char *file, char *out, size_t cap)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    return n >= 0;
}

static bool exists(const char *dir, const char *file)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

/* Makes a cgroup beneath this process's own in the hierarchy; false (why
 * says why) when it cannot. */
static bool make(py_cgroup *g, py_cg_kind kind, char *why, size_t why_cap)
{
    static int seq;
    char base[PATH_MAX];
    if (!own_dir(kind, base, sizeof base)) {
        snprintf(why, why_cap, "no %s hierarchy", KIND_NAME[kind]);
        return false;
    }
    if (kind == PY_CG_V2) { /* hand memory and pids to our children where the kernel allows it */
        char avail[256], on[256];
        if (read_text(base, "cgroup.controllers", avail, sizeof avail) &&
            read_text(base, "cgroup.subtree_control", on, sizeof on))
            for (int i = 0; i < 2; i++) {
                const char *c = i ? "memory" : "pids";
                char word[16];
                snprintf(word, sizeof word, " %s ", c);
                char a[260], o[260];
                snprintf(a, sizeof a, " %s ", avail);
                snprintf(o, sizeof o, " %s ", on);
                a[strcspn(a, "\n")] = ' ', o[strcspn(o, "\n")] = ' ';
                if (strstr(a, word) && !strstr(o, word)) {
                    snprintf(word, sizeof word, "+%s", c);
                    (void)write_text(base, "cgroup.subtree_control", word); /* EBUSY where processes live */
                }
            }
    }
    char *dir = g->dir[kind];
    if (snprintf(dir, PATH_MAX, "%s/smcgen-%d-%d", base, (int)getpid(), seq++) >= PATH_MAX || mkdir(dir, 0755) < 0) {
        snprintf(why, why_cap, "cannot create a cgroup in %.100s: %s", base, strerror(errno));
        dir[0] = '\0';
        return false;
    }
    return true;
}

static void drop(py_cgroup *g, py_cg_kind kind)
{
    if (g->dir[kind][0])
        rmdir(g->dir[kind]);
    g->dir[kind][0] = '\0';
}

static void set_limits(py_cgroup *g, long mem_mb, long procs)
{
    char mem[32], n[32];
    snprintf(mem, sizeof mem, "%lld", (long long)mem_mb << 20);
    snprintf(n, sizeof n, "%ld", procs);
    const char *d = g->dir[PY_CG_V2];
    if (d[0] && exists(d, "memory.max") && write_text(d, "memory.max", mem) == 0) {
        (void)write_text(d, "memory.swap.max", "0"); /* absent without swap accounting */
        g->mem_at = PY_CG_V2;
    }
    if (d[0] && exists(d, "pids.max") && write_text(d, "pids.max", n) == 0)
        g->pids_at = PY_CG_V2;
    d = g->dir[PY_CG_V1_MEMORY];
    if (d[0] && write_text(d, "memory.limit_in_bytes", mem) == 0) {
        (void)write_text(d, "memory.memsw.limit_in_bytes", mem); /* absent without swap accounting */
        g->mem_at = PY_CG_V1_MEMORY;
    }
    d = g->dir[PY_CG_V1_PIDS];
    if (d[0] && write_text(d, "pids.max", n) == 0)
        g->pids_at = PY_CG_V1_PIDS;
}

bool py_cgroup_open(py_cgroup *g, long mem_mb, long procs)
{
    memset(g, 0, sizeof *g);
    g->mem_at = g->pids_at = -1;
    char why[160] = "";
    if (make(g, PY_CG_V2, why, sizeof why)) {
        g->kill = exists(g->dir[PY_CG_V2], "cgroup.kill");
        set_limits(g, mem_mb, procs);
    }
    char why1[160];
    if (g->mem_at < 0 && make(g, PY_CG_V1_MEMORY, why1, sizeof why1)) {
        set_limits(g, mem_mb, procs);
        if (g->mem_at < 0)
            drop(g, PY_CG_V1_MEMORY);
    }
    if (g->pids_at < 0 && make(g, PY_CG_V1_PIDS, why1, sizeof why1)) {
        set_limits(g, mem_mb, procs);
        if (g->pids_at < 0)
            drop(g, PY_CG_V1_PIDS);
    }
    if (g->dir[PY_CG_V2][0] && !g->kill && g->mem_at != PY_CG_V2 && g->pids_at != PY_CG_V2)
        drop(g, PY_CG_V2); /* of no use */
    if (g->dir[PY_CG_V2][0] || !why[0])
        snprintf(why, sizeof why, "no memory or pids controller is delegated to smcgen's cgroup");
    snprintf(g->why, sizeof g->why, "%s", why);
    return g->mem_at >= 0 && g->pids_at >= 0;
}

void py_cgroup_set(py_cgroup *g, long mem_mb, long procs) { set_limits(g, mem_mb, procs); }

void py_cgroup_enter(py_cgroup *g, pid_t pid)
{
    char text[32];
    snprintf(text, sizeof text, "%d", (int)pid);
    for (int k = 0; k < PY_CG_N; k++)
        if (g->dir[k][0] && write_text(g->dir[k], "cgroup.procs", text) < 0) {
            drop(g, (py_cg_kind)k);
            g->kill = g->kill && k != PY_CG_V2;
            g->mem_at = g->mem_at == k ? -1 : g->mem_at;
            g->pids_at = g->pids_at == k ? -1 : g->pids_at;
        }
}

/* SIGKILL to every process listed in the cgroup. */
static void kill_listed(const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *f = fopen(path, "r");
    int pid;
    while (f && fscanf(f, "%d", &pid) == 1)
        if (pid > 0)
            kill(pid, SIGKILL);
    if (f)
        fclose(f);
}

void py_cgroup_close(py_cgroup *g)
{
    for (int k = 0; k < PY_CG_N; k++) {
        const char *d = g->dir[k];
        if (!d[0])
            continue;
        if (!(k == PY_CG_V2 && g->kill && write_text(d, "cgroup.kill", "1") == 0))
            kill_listed(d);
        /* killed processes take a moment to go (large address spaces): up
         * to 10 s, then the empty cgroup is left behind */
        for (int i = 0; i < 10000 && rmdir(d) < 0 && errno == EBUSY; i++) {
            struct timespec ms = {0, 1000000};
            if (i % 100 == 99)
                kill_listed(d);
            nanosleep(&ms, NULL);
        }
        g->dir[k][0] = '\0';
    }
    g->mem_at = g->pids_at = -1;
    g->kill = false;
}

void py_cgroup_describe(const py_cgroup *g, long mem_mb, long procs, char *out, size_t cap)
{
    char mem[PATH_MAX + 96], pids[PATH_MAX + 96];
    if (g->mem_at >= 0)
        snprintf(mem, sizeof mem, "memory %ld MB (%s %s)", mem_mb, KIND_NAME[g->mem_at], g->dir[g->mem_at]);
    else
        snprintf(mem, sizeof mem, "memory per process only (address-space rlimit)");
    if (g->pids_at >= 0)
        snprintf(pids, sizeof pids, "%ld processes (%s %s)", procs, KIND_NAME[g->pids_at], g->dir[g->pids_at]);
    else
        snprintf(pids, sizeof pids, "%ld processes (RLIMIT_NPROC in the sandbox's user namespace)", procs);
    const char *mode = g->mem_at >= 0 && g->pids_at >= 0 ? "cgroup"
                       : g->mem_at >= 0 || g->pids_at >= 0 ? "cgroup and rlimits"
                                                           : "pid namespace and rlimits";
    snprintf(out, cap, "whole-run limits by %s: %s, %s; at the end the pid namespace%s end%s every process%s%s%s",
             mode, mem, pids, g->kill ? " and cgroup.kill" : "", g->kill ? "" : "s", g->mem_at < 0 || g->pids_at < 0 ? " (no cgroup: " : "",
             g->mem_at < 0 || g->pids_at < 0 ? g->why : "", g->mem_at < 0 || g->pids_at < 0 ? ")" : "");
}
