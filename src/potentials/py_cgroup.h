/* py_cgroup.h — limits for the Python critic's sandbox as a whole (one
 * cgroup per worker, where one is writable; internal, py_cgroup.c). */
#ifndef SMC_POTENTIALS_PY_CGROUP_H
#define SMC_POTENTIALS_PY_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The cgroups made for one worker: one in the cgroup v2 hierarchy and, for
 * what it cannot limit, in the v1 memory and pids hierarchies. */
typedef enum { PY_CG_V2, PY_CG_V1_MEMORY, PY_CG_V1_PIDS, PY_CG_N } py_cg_kind;

typedef struct {
    char dir[PY_CG_N][PATH_MAX]; /* "" where none was made */
    int mem_at, pids_at;         /* the cgroup (a py_cg_kind) holding that limit; -1 none */
    bool kill;                   /* cgroup.kill exists (v2, Linux 5.14+) */
    char why[160];               /* where no cgroup limits: why */
} py_cgroup;

/* Makes the cgroups (nothing when none is writable: g->why says why) and
 * sets their limits: mem_mb of memory (no swap) and procs processes for
 * everything in them together. Returns whether memory and pids are both
 * limited by a cgroup. */
bool py_cgroup_open(py_cgroup *g, long mem_mb, long procs);

/* Changes the limits of open cgroups. */
void py_cgroup_set(py_cgroup *g, long mem_mb, long procs);

/* Moves pid into every cgroup made; a cgroup it cannot enter is dropped
 * (its limit no longer counts). */
void py_cgroup_enter(py_cgroup *g, pid_t pid);

/* Kills everything in the cgroups (cgroup.kill, or each listed process),
 * waits until they are empty and removes them. */
void py_cgroup_close(py_cgroup *g);

/* What limits the sandbox as a whole: the cgroups and their limits, or the
 * fallback (the pid namespace and rlimits) and why. */
void py_cgroup_describe(const py_cgroup *g, long mem_mb, long procs, char *out, size_t cap);

#endif
