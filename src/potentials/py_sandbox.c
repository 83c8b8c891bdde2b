/* py_sandbox.c — the isolation layer of the Python critic's worker: the
 * kernel-support probe and the launcher that starts the worker inside new
 * user, pid, mount, network, ipc and uts namespaces.
 *
 * The worker (py_server.c) is pid 1 of its pid namespace, so killing it ends
 * everything it started. Its root is a read-only tmpfs holding read-only
 * binds of the system's programs and libraries (/usr, /lib*, /opt, a few
 * files of /etc, the interpreter's prefix), a few device nodes, a private
 * /proc (hidepid=2) and a size-capped tmpfs /tmp; nothing else of the host
 * (no /home, /root, /run, host /tmp, /etc/shadow). Its user namespace maps
 * one uid: the invoking user, or nobody (65534) when smcgen runs as root, so
 * even inside it the host's files are seen as that user. It has no network
 * (an empty network namespace), an empty environment but for a few
 * variables, rlimits on processes, file size and core dumps, no_new_privs,
 * and a seccomp filter (built here with libseccomp) that denies namespace
 * and mount system calls, ptrace and process_vm_*, bpf, kexec, modules,
 * io_uring, keyrings, pidfd_getfd and new namespaces through clone.
 *
 * A second, stricter filter is handed to the worker as an argument: each
 * process that runs problem or candidate code installs it after dropping its
 * capabilities (it denies every way to signal another process, execve,
 * F_SETOWN/F_SETSIG, which could make the kernel signal someone, and SysV
 * IPC and message queues, which outlive a run). Landlock rules, stacked at
 * each fork by the worker, confine writes, and reads in /tmp, to the
 * process's own directory (see py_server.c). */
#include "potentials/py_sandbox.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>

#define NS_FLAGS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
#define ROOT "/tmp" /* where the new root is built, in the new mount namespace */
#define MAX_BINDS 48

int py_sandbox_landlock_abi(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v > 0 ? (int)v : 0;
}

/* ---- seccomp filters, built once ---------------------------------------- */

typedef struct {
    struct sock_filter *ins;
    unsigned short n;
} bpf_prog;

static int deny(scmp_filter_ctx f, int err, const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* not a system call on this architecture */
    return seccomp_rule_add(f, SCMP_ACT_ERRNO(err), nr, 0) == 0 ? 0 : -1;
}

static int deny_arg(scmp_filter_ctx f, const char *name, unsigned arg, scmp_datum_t mask, scmp_datum_t value)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0;
    return seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), nr, 1, SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, value)) == 0
               ? 0
               : -1;
}

static int export_bpf(scmp_filter_ctx f, bpf_prog *out)
{
    int fd = memfd_create("smc-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = -1;
    if (seccomp_export_bpf(f, fd) == 0) {
        off_t n = lseek(fd, 0, SEEK_END);
        if (n > 0 && n % (off_t)sizeof(struct sock_filter) == 0 && n / 8 < 65536) {
            out->ins = malloc((size_t)n);
            if (out->ins && pread(fd, out->ins, (size_t)n, 0) == n) {
                out->n = (unsigned short)(n / (off_t)sizeof(struct sock_filter));
                r = 0;
            } else {
                free(out->ins);
                out->ins = NULL;
            }
        }
    }
    close(fd);
    return r;
}

/* A filter that allows all but the named system calls (EPERM); NULL when
 * out of memory, *r < 0 when a rule failed. */
static scmp_filter_ctx deny_list(const char *const *names, size_t n, int *r)
{
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
    *r = 0;
    for (size_t i = 0; f && i < n; i++)
        *r |= deny(f, EPERM, names[i]);
    return f;
}

/* Exports f (when every rule went in) and releases it. */
static int finish(scmp_filter_ctx f, int r, bpf_prog *out)
{
    if (r == 0)
        r = export_bpf(f, out);
    seccomp_release(f);
    return r;
}

/* The filter of the whole sandbox (the worker and everything it starts). */
static int build_outer(bpf_prog *out)
{
    static const char *const names[] = {
        "setns", "unshare", "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
        "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr", "ptrace", "process_vm_readv",
        "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp", "bpf", "perf_event_open", "kexec_load",
        "kexec_file_load", "init_module", "finit_module", "delete_module", "keyctl", "add_key", "request_key",
        "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "iopl", "ioperm", "swapon",
        "swapoff", "reboot", "acct", "quotactl", "quotactl_fd", "name_to_handle_at", "open_by_handle_at",
        "lookup_dcookie", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "syslog", "vhangup",
        "uselib", "nfsservctl", "fanotify_init", "setdomainname", "sethostname"};
    int r;
    scmp_filter_ctx f = deny_list(names, sizeof names / sizeof names[0], &r);
    if (!f)
        return -1;
    r |= deny(f, ENOSYS, "clone3"); /* its flags cannot be inspected: libc falls back to clone */
    static const scmp_datum_t ns[] = {CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNS,    CLONE_NEWNET,
                                      CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        r |= deny_arg(f, "clone", 0, ns[i], ns[i]);
    r |= deny_arg(f, "ioctl", 1, 0xffffffffu, TIOCSTI);
    return finish(f, r, out);
}

/* The filter of processes that run problem or candidate code, on top. */
static int build_inner(bpf_prog *out)
{
    /* SysV IPC and POSIX message queues outlive a run inside the sandbox's
     * ipc namespace: one program could leave what another reads */
    static const char *const names[] = {"kill",    "tkill",   "tgkill",  "rt_sigqueueinfo", "rt_tgsigqueueinfo",
                                        "pidfd_send_signal", "execve", "execveat", "shmget", "msgget",
                                        "semget",  "mq_open"};
    int r;
    scmp_filter_ctx f = deny_list(names, sizeof names / sizeof names[0], &r);
    if (!f)
        return -1;
    /* the kernel would send SIGIO (or any signal) to a pid of our choice */
    r |= deny_arg(f, "fcntl", 1, 0xffffffffu, F_SETOWN);
    r |= deny_arg(f, "fcntl", 1, 0xffffffffu, F_SETSIG);
    r |= deny_arg(f, "fcntl", 1, 0xffffffffu, F_SETOWN_EX);
    r |= deny_arg(f, "ioctl", 1, 0xffffffffu, FIOSETOWN);
    r |= deny_arg(f, "ioctl", 1, 0xffffffffu, SIOCSPGRP);
    /* PR_SET_PDEATHSIG names a signal the kernel sends us, harmless; but
     * PR_SET_DUMPABLE back to 1 would open this process's memory to others */
    r |= deny_arg(f, "prctl", 0, 0xffffffffu, PR_SET_DUMPABLE);
    return finish(f, r, out);
}

static bpf_prog outer_prog, inner_prog;
static char *inner_hex;

static int filters(smc_error *err)
{
    if (inner_hex)
        return 0;
    if (build_outer(&outer_prog) < 0 || build_inner(&inner_prog) < 0)
        return smc_fail(err, "sandbox: cannot build the seccomp filters");
    size_t nb = (size_t)inner_prog.n * sizeof(struct sock_filter);
    char *hex = malloc(nb * 2 + 1);
    if (!hex)
        return smc_fail(err, "out of memory");
    const unsigned char *b = (const unsigned char *)inner_prog.ins;
    for (size_t i = 0; i < nb; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    inner_hex = hex;
    return 0;
}

/* ---- kernel support ----------------------------------------------------- */

bool py_sandbox_supported(char *why, size_t why_cap)
{
    static int known = -1;
    static char reason[200];
    if (known < 0) {
        pid_t pid = fork();
        if (pid == 0) {
            if (unshare(NS_FLAGS) < 0)
                _exit(10);
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                _exit(11);
            struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
            struct sock_fprog p = {1, &allow};
            if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p, 0, 0) < 0)
                _exit(11);
            _exit(py_sandbox_landlock_abi() >= 1 ? 0 : 12);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
            snprintf(reason, sizeof reason, "cannot probe the kernel (fork failed)");
        else if (WEXITSTATUS(st) == 10)
            snprintf(reason, sizeof reason,
                     "the kernel refuses new user namespaces to this user (user.max_user_namespaces, "
                     "kernel.unprivileged_userns_clone or an AppArmor/container policy)");
        else if (WEXITSTATUS(st) == 11)
            snprintf(reason, sizeof reason, "the kernel has no seccomp filters");
        else if (WEXITSTATUS(st) == 12)
            snprintf(reason, sizeof reason, "the kernel has no Landlock (needs Linux 5.13+ with lsm=...,landlock)");
        else
            reason[0] = '\0';
        known = reason[0] == '\0';
    }
    if (why && why_cap)
        snprintf(why, why_cap, "%s", reason);
    return known == 1;
}

/* ---- the launcher ------------------------------------------------------- */

typedef struct {
    char src[PATH_MAX], dst[PATH_MAX + 8];
    bool dir, ro, link; /* link: dst is a symlink to src */
    unsigned long keep; /* mount flags the remount must keep */
} bind_t;

typedef struct {
    bind_t b[MAX_BINDS];
    int n;
    char python[PATH_MAX];
    char tmp_opts[64];
    long procs;
    unsigned outer_uid, outer_gid;
    bool root;
} plan_t;

static unsigned long locked_flags(const char *path)
{
    struct statvfs s;
    unsigned long f = MS_NOSUID;
    if (statvfs(path, &s) == 0) {
        if (s.f_flag & ST_NODEV)
            f |= MS_NODEV;
        if (s.f_flag & ST_NOEXEC)
            f |= MS_NOEXEC;
        if (s.f_flag & ST_NOATIME)
            f |= MS_NOATIME;
        if (s.f_flag & ST_NODIRATIME)
            f |= MS_NODIRATIME;
        if (s.f_flag & ST_RELATIME)
            f |= MS_RELATIME;
    }
    return f;
}

/* Adds host path `src` at the same place in the sandbox: a symlink stays a
 * symlink (its target is bound when listed too), a file or directory is
 * bound read-only (rw: device nodes). */
static void add(plan_t *p, const char *src, bool ro)
{
    struct stat st;
    if (p->n >= MAX_BINDS || lstat(src, &st) < 0)
        return;
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->b[i].src, src))
            return;
    bind_t *b = &p->b[p->n];
    memset(b, 0, sizeof *b);
    snprintf(b->dst, sizeof b->dst, "%s%s", ROOT, src);
    if (S_ISLNK(st.st_mode) && strncmp(src, "/etc/", 5) != 0) {
        ssize_t k = readlink(src, b->src, sizeof b->src - 1);
        if (k <= 0)
            return;
        b->src[k] = '\0';
        b->link = true;
    } else {
        if (stat(src, &st) < 0)
            return;
        snprintf(b->src, sizeof b->src, "%s", src);
        b->dir = S_ISDIR(st.st_mode);
        b->ro = ro;
        b->keep = locked_flags(src);
    }
    p->n++;
}

/* The interpreter's installation: the prefix of the path as given (a venv)
 * and of its real path. */
static void add_prefix(plan_t *p, const char *python)
{
    char real[PATH_MAX];
    const char *paths[2] = {python, realpath(python, real) ? real : NULL};
    for (int k = 0; k < 2; k++) {
        if (!paths[k])
            continue;
        char pre[PATH_MAX];
        snprintf(pre, sizeof pre, "%s", paths[k]);
        for (int up = 0; up < 2; up++) {
            char *s = strrchr(pre, '/');
            if (!s || s == pre)
                break;
            *s = '\0';
        }
        if (pre[0] == '/' && pre[1] && strncmp(pre, "/usr", 4) && strncmp(pre, "/opt", 4))
            add(p, pre, true);
    }
}

/* Finds a bare interpreter name on PATH (execve inside needs a path). */
static int resolve_python(const char *python, char *out, size_t cap)
{
    if (strchr(python, '/')) {
        snprintf(out, cap, "%s", python);
        return access(out, X_OK);
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        const char *e = strchr(path, ':');
        size_t n = e ? (size_t)(e - path) : strlen(path);
        snprintf(out, cap, "%.*s/%s", (int)n, path, python);
        if (n && access(out, X_OK) == 0)
            return 0;
        path += n + (e ? 1 : 0);
    }
    return -1;
}

static void make_plan(plan_t *p, long disk_mb, long procs)
{
    p->procs = procs > 0 ? procs : 256;
    static const char *const top[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt"};
    static const char *const etc[] = {"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                                      "/etc/localtime",   "/etc/alternatives", "/etc/matplotlibrc",
                                      "/etc/python3"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        add(p, top[i], true);
    for (size_t i = 0; i < sizeof etc / sizeof etc[0]; i++)
        add(p, etc[i], true);
    char ver[64];
    for (int minor = 6; minor < 30; minor++) { /* /etc/python3.N (Debian's sitecustomize) */
        snprintf(ver, sizeof ver, "/etc/python3.%d", minor);
        add(p, ver, true);
    }
    add_prefix(p, p->python);
    static const char *const dev[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        add(p, dev[i], false);
    snprintf(p->tmp_opts, sizeof p->tmp_opts, "size=%ldm,nr_inodes=65536,mode=1777", disk_mb > 0 ? disk_mb : 64);
    p->root = geteuid() == 0;
    p->outer_uid = p->root ? 65534 : (unsigned)geteuid();
    p->outer_gid = p->root ? 65534 : (unsigned)getegid();
}

/* In the child: reports what failed (with errno) and exits. */
static _Noreturn void die(int fd, const char *what)
{
    char msg[512];
    int e = errno;
    int n = snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
    if (n > 0 && write(fd, msg, (size_t)n) < 0)
        _exit(126);
    _exit(127);
}

static int mkdirs(char *path)
{
    for (char *s = path + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            int r = mkdir(path, 0755);
            *s = '/';
            if (r < 0 && errno != EEXIST)
                return -1;
        }
    return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static void bind_one(const bind_t *b, int err_fd)
{
    char dst[sizeof b->dst];
    memcpy(dst, b->dst, sizeof dst);
    char *slash = strrchr(dst, '/');
    *slash = '\0';
    if (mkdirs(dst) < 0)
        die(err_fd, b->dst);
    *slash = '/';
    if (b->link) {
        if (symlink(b->src, dst) < 0 && errno != EEXIST)
            die(err_fd, b->dst);
        return;
    }
    if (b->dir) {
        if (mkdirs(dst) < 0)
            die(err_fd, b->dst);
    } else {
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            die(err_fd, b->dst);
        close(fd);
    }
    if (mount(b->src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
        die(err_fd, b->src);
    if (b->ro && mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV | b->keep, NULL) < 0)
        die(err_fd, b->src);
}

static _Noreturn void child(const plan_t *p, const char *script, int sync_fd, int err_fd, int in_fd, int out_fd)
{
    char c;
    if (read(sync_fd, &c, 1) != 1) /* the parent writes our uid map first */
        _exit(125);
    close(sync_fd);
    /* Raw system calls, not libc's set*id: those make every thread of the
     * process change ids too, walking the thread list this copy inherited
     * from smcgen. None of those threads exists here, and one that smcgen was
     * starting at the clone is waited for forever (a hang seen under load). */
    if (syscall(SYS_setresgid, 0, 0, 0) < 0 || (p->root && syscall(SYS_setgroups, 0, NULL) < 0) ||
        syscall(SYS_setresuid, 0, 0, 0) < 0)
        die(err_fd, "take the sandbox's uid");
    if (sethostname("smc-sandbox", 11) < 0)
        die(err_fd, "sethostname");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        die(err_fd, "make the mounts private");
    if (mount("tmpfs", ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=0755") < 0)
        die(err_fd, "mount the new root");
    for (int i = 0; i < p->n; i++)
        bind_one(&p->b[i], err_fd);
    static const char *const dirs[] = {ROOT "/proc", ROOT "/tmp", ROOT "/dev/shm", ROOT "/etc"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char d[64];
        snprintf(d, sizeof d, "%s", dirs[i]);
        if (mkdirs(d) < 0)
            die(err_fd, dirs[i]);
    }
    if (symlink("/proc/self/fd", ROOT "/dev/fd") < 0)
        die(err_fd, "/dev/fd");
    unsigned long nsd = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount("proc", ROOT "/proc", "proc", nsd, "hidepid=2,subset=pid") < 0 &&
        mount("proc", ROOT "/proc", "proc", nsd, "hidepid=2") < 0)
        die(err_fd, "mount a private /proc");
    if (mount("tmpfs", ROOT "/tmp", "tmpfs", nsd, p->tmp_opts) < 0)
        die(err_fd, "mount /tmp");
    if (mount("tmpfs", ROOT "/dev/shm", "tmpfs", nsd, "size=16m,mode=1777") < 0)
        die(err_fd, "mount /dev/shm");
    if (chdir(ROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        die(err_fd, "pivot_root");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        die(err_fd, "make the root read-only");
    if (chdir("/tmp") < 0)
        die(err_fd, "chdir /tmp");
    int dn = open("/dev/null", O_RDWR);
    if (dn < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(dn, 2) < 0)
        die(err_fd, "set up stdin/stdout");
    struct rlimit nproc = {(rlim_t)p->procs, (rlim_t)p->procs}, fsize = {64 << 20, 64 << 20}, core = {0, 0},
                  nofile = {1024, 1024};
    if (setrlimit(RLIMIT_NPROC, &nproc) < 0 || setrlimit(RLIMIT_FSIZE, &fsize) < 0 ||
        setrlimit(RLIMIT_CORE, &core) < 0 || setrlimit(RLIMIT_NOFILE, &nofile) < 0)
        die(err_fd, "setrlimit");
    /* every other descriptor closes at exec (err_fd too: EOF tells success) */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != err_fd)
            close(fd);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die(err_fd, "no_new_privs");
    struct sock_fprog prog = {outer_prog.n, outer_prog.ins};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
        die(err_fd, "install the seccomp filter");
    char abi[16];
    snprintf(abi, sizeof abi, "%d", py_sandbox_landlock_abi());
    char *const argv[] = {(char *)p->python, "-u", "-I", "-c", (char *)script, "sandbox", inner_hex, abi, NULL};
    char *const envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8",
                          "MPLBACKEND=Agg", "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1",
                          "PYTHONDONTWRITEBYTECODE=1", NULL};
    execve(p->python, argv, envp);
    die(err_fd, "exec the Python interpreter");
}

static int write_file(pid_t pid, const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

pid_t py_sandbox_spawn(const char *python, const char *script, int in_fd, int out_fd, long disk_mb, long procs,
                       py_cgroup *cg, smc_error *err)
{
    if (filters(err) < 0)
        return -1;
    plan_t *p = calloc(1, sizeof *p);
    if (!p)
        return smc_fail(err, "out of memory");
    if (resolve_python(python, p->python, sizeof p->python) < 0) {
        free(p);
        return smc_fail(err, "sandbox: no Python interpreter \"%s\"", python);
    }
    make_plan(p, disk_mb, procs);
    int sync_p[2], err_p[2];
    if (pipe2(sync_p, O_CLOEXEC) < 0) {
        free(p);
        return smc_fail(err, "pipe: %s", strerror(errno));
    }
    if (pipe2(err_p, O_CLOEXEC) < 0) {
        close(sync_p[0]), close(sync_p[1]);
        free(p);
        return smc_fail(err, "pipe: %s", strerror(errno));
    }
    /* clone without a new stack behaves like fork; the child only makes
     * system calls until it execs. It must be dumpable until then (it is a
     * copy of us, and smcgen is not dumpable while it uses the sandbox):
     * else only root could write its uid map. */
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if (dumpable == 0)
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(NS_FLAGS | SIGCHLD), NULL, NULL, NULL, 0);
    if (pid != 0 && dumpable == 0)
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (pid == 0) {
        close(sync_p[1]);
        close(err_p[0]);
        child(p, script, sync_p[0], err_p[1], in_fd, out_fd);
    }
    int e = errno;
    close(sync_p[0]);
    close(err_p[1]);
    if (pid < 0) {
        close(sync_p[1]), close(err_p[0]);
        free(p);
        return smc_fail(err, "sandbox: cannot create the namespaces: %s", strerror(e));
    }
    if (cg)
        py_cgroup_enter(cg, pid); /* before it runs anything: it waits for the sync byte */
    char map[64];
    int r = 0;
    if (!p->root)
        r |= write_file(pid, "setgroups", "deny");
    snprintf(map, sizeof map, "0 %u 1\n", p->outer_uid);
    r |= write_file(pid, "uid_map", map);
    snprintf(map, sizeof map, "0 %u 1\n", p->outer_gid);
    r |= write_file(pid, "gid_map", map);
    e = errno;
    if (r == 0 && write(sync_p[1], "x", 1) != 1)
        r = -1;
    close(sync_p[1]);
    char msg[512];
    ssize_t k, got = 0;
    while ((k = read(err_p[0], msg + got, sizeof msg - 1 - (size_t)got)) > 0 || (k < 0 && errno == EINTR))
        if (k > 0)
            got += k;
    close(err_p[0]);
    free(p);
    if (r < 0 || got > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (r < 0)
            return smc_fail(err, "sandbox: cannot write the uid map: %s", strerror(e));
        msg[got] = '\0';
        return smc_fail(err, "sandbox: %s", msg);
    }
    return pid;
}
