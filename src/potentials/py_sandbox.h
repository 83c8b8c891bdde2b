/* py_sandbox.h — the isolation layer the Python critic's worker runs in
 * (internal; py_sandbox.c). */
#ifndef SMC_POTENTIALS_PY_SANDBOX_H
#define SMC_POTENTIALS_PY_SANDBOX_H

#include "potentials/py_cgroup.h"
#include "smcgen.h"

#include <stdbool.h>
#include <sys/types.h>

/* Whether this kernel gives what the sandbox needs (user, pid, mount and
 * network namespaces without privilege, seccomp filters, Landlock); when
 * not, why (probed once per process). */
bool py_sandbox_supported(char *why, size_t why_cap);

/* The Landlock ABI version the kernel offers (0: none). */
int py_sandbox_landlock_abi(void);

/* Starts `python -u -I -c script <args>` inside a new sandbox with in_fd as
 * its stdin and out_fd as its stdout (stderr: /dev/null). The interpreter
 * is pid 1 of its own pid namespace: killing it ends everything it
 * started. It enters the cgroups of cg (when not NULL) before it runs
 * anything; at most procs processes run in it (RLIMIT_NPROC). Extra
 * arguments given to the script: "sandbox", the candidate seccomp filter as
 * hex, the Landlock ABI. Returns the pid, or -1. */
pid_t py_sandbox_spawn(const char *python, const char *script, int in_fd, int out_fd, long disk_mb, long procs,
                       py_cgroup *cg, smc_error *err);

#endif
