/* test_python_sandbox.c — attack programs against the Python critic, one per
 * class of docs/security.md: writes outside the run's directory, command
 * execution, network, signals to smcgen and the worker's snapshots,
 * processes that outlive their check, forged verdicts (its own and others'),
 * poisoned snapshots, reading secrets, memory, disk and process floods,
 * time bombs. Each attack first switches off the worker's audit hook (as
 * code written to escape would) so that the sandbox itself is tested; each
 * asserts the attack failed, the host is unchanged (a canary directory in
 * the host's /tmp, no process left behind) and verdicts are still right.
 * Skips (77) where the kernel cannot provide the sandbox or python3 with
 * pandas is missing. */
#include "procs.h"
#include "test.h"
#include "smcgen.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

static smc_py_critic *pc;
static char host[64];      /* the canary directory on the host */
static char canary[160];
static int tcp_fd = -1, unix_fd = -1, abstract_fd = -1, tcp_port;

#define SETUP "import os\nX = 1\n"
#define TEST "assert result == 2, 'wrong result %r' % (result,)\n"
/* what code written to escape does first: the audit hook off */
#define UNHOOK "import sys as _s\n_s.modules['__main__']._guard[0] = True\n"

/* The name the attacks give their processes, this test process's own. */
static char attack_name[16];

/* Runs code, its processes named attack_name where it says smc_attack. */
static smc_py_status run(const char *code, bool with_test, char *msg, size_t cap)
{
    smc_py_status st = SMC_PY_WORKER_FAILED;
    smc_error err = {{0}};
    char *own = procs_rename(code, "smc_attack", attack_name);
    if (!own)
        snprintf(msg, cap, "out of memory");
    else if (smc_py_run(pc, own, strlen(own), with_test, &st, msg, cap, &err) < 0)
        snprintf(msg, cap, "worker failed: %s", err.msg);
    free(own);
    return st;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

/* The host after an attack: canary intact, nothing new in its directory,
 * no connection reached our sockets, no process of the attack left, and
 * the critic still judges a right and a wrong program correctly. */
static void host_unchanged(const char *attack)
{
    char buf[64] = "", msg[600];
    FILE *f = fopen(canary, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = '\0';
        fclose(f);
    }
    CHECK_MSG(strcmp(buf, "canary\n") == 0, "%s: canary changed to '%s'", attack, buf);
    struct stat st;
    CHECK_MSG(stat(canary, &st) == 0 && (st.st_mode & 0777) == 0644, "%s: canary's mode changed", attack);
    CHECK_MSG(getxattr(canary, "user.x", buf, sizeof buf) < 0, "%s: canary got an xattr", attack);
    CHECK_MSG(count_entries(host) == 2, "%s: %d entries in %s (expected 2)", attack, count_entries(host), host);
    int c1 = accept(tcp_fd, NULL, NULL), c2 = accept(unix_fd, NULL, NULL), c3 = accept(abstract_fd, NULL, NULL);
    CHECK_MSG(c1 < 0 && c2 < 0 && c3 < 0, "%s: a connection reached the host (%d %d %d)", attack, c1, c2, c3);
    int state;
    smc_error err;
    CHECK(smc_py_syntax(pc, "x = 1\n", 6, &state, NULL, 0, &err) == 0); /* after the worker's sweep */
    /* killed processes may take a moment to be torn down (large address
     * spaces, a loaded machine): wait for that, up to 60 s */
    int left = procs_named(attack_name);
    for (int i = 0; i < 6000 && left; i++) {
        usleep(10000);
        left = procs_named(attack_name);
    }
    CHECK_MSG(left == 0, "%s: %d processes left", attack, left);
    char ps[128];
    snprintf(ps, sizeof ps, "ps -eo pid,ppid,stat,wchan:24,comm | grep %s | head -5 >&2", attack_name);
    if (left && system(ps) != 0)
        fprintf(stderr, "(ps failed)\n");
    CHECK_MSG(run("result = 1 + 1\n", true, msg, sizeof msg) == SMC_PY_OK, "%s: right program: %s", attack, msg);
    CHECK_MSG(run("result = 3\n", true, msg, sizeof msg) == SMC_PY_ASSERTION, "%s: wrong program: %s", attack, msg);
    CHECK_MSG(smc_py_check(pc, "result = 2\n", 11, true, msg, sizeof msg) == SMC_VERDICT_COMPLETE, "%s: %s",
              attack, msg);
}

/* Runs an attack (its text with %s for the host directory) and checks that
 * its report (the message of the exception it raises at the end) says
 * nothing got through: it starts with "held". */
static void attack_or(const char *name, const char *fmt, bool with_test, const char *also)
{
    char *code = malloc(strlen(fmt) + 8 * sizeof host);
    char msg[600];
    snprintf(code, strlen(fmt) + 8 * sizeof host, fmt, host, host, host, host, host, host, host, host);
    smc_py_status st = run(code, with_test, msg, sizeof msg);
    CHECK_MSG(strstr(msg, "held") != NULL || (also && strstr(msg, also)), "%s: status %d, %s", name, (int)st, msg);
    free(code);
    host_unchanged(name);
}

static void attack(const char *name, const char *fmt, bool with_test) { attack_or(name, fmt, with_test, NULL); }

static void listen_sockets(void)
{
    tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK(bind(tcp_fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(tcp_fd, 4) == 0);
    getsockname(tcp_fd, (struct sockaddr *)&a, &al);
    tcp_port = ntohs(a.sin_port);
    struct sockaddr_un u = {.sun_family = AF_UNIX};
    unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    snprintf(u.sun_path, sizeof u.sun_path, "%s/sock", host);
    CHECK(bind(unix_fd, (struct sockaddr *)&u, sizeof u) == 0 && listen(unix_fd, 4) == 0);
    abstract_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    memset(u.sun_path, 0, sizeof u.sun_path);
    snprintf(u.sun_path + 1, sizeof u.sun_path - 1, "smc_sec_%d", (int)getpid());
    CHECK(bind(abstract_fd, (struct sockaddr *)&u, sizeof u) == 0 && listen(abstract_fd, 4) == 0);
}

static void test_confinement(void)
{
    char msg[600];
    /* what the code sees of itself: no capabilities, no_new_privs, a
     * seccomp filter, only itself in /proc, no host files */
    run(UNHOOK "import os\n"
               "st = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
               "raise Exception('caps=%s nnp=%s seccomp=%s procs=%d shadow=%s home=%s' % (st['CapEff'].strip(), "
               "st['NoNewPrivs'].strip(), st['Seccomp'].strip(), len([d for d in os.listdir('/proc') if d.isdigit()]), "
               "os.path.exists('/etc/shadow'), os.path.exists('/home') or os.path.exists('/root')))\n",
        false, msg, sizeof msg);
    CHECK_MSG(strstr(msg, "caps=0000000000000000 nnp=1 seccomp=2 procs=1 shadow=False home=False"), "%s", msg);
}

void run_tests(void)
{
    procs_own_name(attack_name, 'a');
    char why[256];
    if (!smc_py_sandbox_available(why, sizeof why)) {
        fprintf(stderr, "skipped: no sandbox on this system: %s\n", why);
        exit(77);
    }
    setenv("SMC_SECRET_TOKEN", "s3cr3t-token", 1);
    snprintf(host, sizeof host, "/tmp/smc_sec_%d", (int)getpid());
    snprintf(canary, sizeof canary, "%s/canary", host);
    mkdir(host, 0755);
    chmod(host, 0777);
    FILE *f = fopen(canary, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("canary\n", f);
    fclose(f);
    chmod(canary, 0644);
    listen_sockets();
    smc_error err = {{0}};
    if (smc_py_open(NULL, SETUP, TEST, &pc, &err) < 0) {
        fprintf(stderr, "skipped: %s\n", err.msg);
        exit(77);
    }
    smc_py_set_limits(pc, 4000, 512, 5);
    char msg[600];
    CHECK_MSG(run("result = 2\n", true, msg, sizeof msg) == SMC_PY_OK, "%s", msg);
    test_confinement();

    attack("writes outside the run's directory",
           UNHOOK "import os\nH = '%s'\ndone = []\n"
                  "tries = [lambda: open(H + '/new', 'w').write('x'), lambda: open(H + '/canary', 'w').write('pwned'),\n"
                  "  lambda: os.open('new2', os.O_CREAT | os.O_WRONLY, dir_fd=os.open(H, os.O_RDONLY)),\n"
                  "  lambda: os.chmod(H + '/canary', 0o777), lambda: os.fchmod(os.open(H + '/canary', os.O_RDONLY), 0o777),\n"
                  "  lambda: os.setxattr(H + '/canary', 'user.x', b'1'), lambda: os.symlink('/', H + '/link'),\n"
                  "  lambda: open('/usr/smc_pwned', 'w'), lambda: open('/etc/smc_pwned', 'w'),\n"
                  "  lambda: open('/proc/1/root/tmp/smc_pwned', 'w')]\n"
                  "for i, t in enumerate(tries):\n"
                  "    try:\n        t()\n        done.append(i)\n    except Exception:\n        pass\n"
                  "raise Exception('held' if not done else 'wrote %%r' %% done)\n",
           false);
    attack("command execution",
           UNHOOK "import os, ctypes, subprocess\nran = []\n"
                  "def t(name, f):\n    try:\n        f()\n    except Exception:\n        pass\n"
                  "    if os.path.exists('/tmp/' + name):\n        ran.append(name)\n"
                  "t('sys', lambda: os.system('touch /tmp/sys'))\n"
                  "t('sub', lambda: subprocess.run(['/usr/bin/touch', '/tmp/sub']))\n"
                  "t('ctypes', lambda: ctypes.CDLL(None).system(b'touch /tmp/ctypes'))\n"
                  "t('spawn', lambda: os.waitpid(os.posix_spawn('/usr/bin/touch', ['touch', '/tmp/spawn'], {}), 0))\n"
                  "def forkexec():\n    p = os.fork()\n    if p == 0:\n"
                  "        try:\n            os.execv('/usr/bin/touch', ['touch', '/tmp/fe'])\n        finally:\n"
                  "            os._exit(0)\n    os.waitpid(p, 0)\n"
                  "t('fe', forkexec)\n"
                  "raise Exception('held' if not ran else 'ran %%r' %% ran)\n",
           false);
    char net[2048];
    snprintf(net, sizeof net,
             UNHOOK "import os, socket\ngot = []\n"
                    "def t(name, f):\n    try:\n        f()\n        got.append(name)\n    except Exception:\n        pass\n"
                    "t('tcp', lambda: socket.create_connection(('127.0.0.1', %d), timeout=1))\n"
                    "t('unix', lambda: socket.socket(socket.AF_UNIX).connect('%%s/sock'))\n"
                    "t('abstract', lambda: socket.socket(socket.AF_UNIX).connect('\\0smc_sec_%d'))\n"
                    "t('dns', lambda: socket.getaddrinfo('debian.org', 80))\n"
                    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                    "for p in ('/proc/1/ns/net', '/proc/self/ns/net'):\n"
                    "    try:\n        fd = os.open(p, os.O_RDONLY)\n"
                    "        if libc.setns(fd, 0) == 0:\n            got.append('setns ' + p)\n"
                    "    except OSError:\n        pass\n"
                    "raise Exception('held' if not got else 'reached %%%%r' %%%% got)\n",
             tcp_port, (int)getpid());
    attack("network", net, false);
    attack("signals to smcgen and the snapshots",
           UNHOOK "import os, signal\nhit = []\n"
                  "for pid in list(range(1, 300)) + [-1]:\n"
                  "    for sig in (signal.SIGSTOP, signal.SIGKILL):\n"
                  "        try:\n            os.kill(pid, sig)\n            hit.append(pid)\n        except OSError:\n"
                  "            pass\n"
                  "        try:\n            signal.pidfd_send_signal(os.pidfd_open(pid), sig)\n"
                  "            hit.append(pid)\n        except (OSError, ValueError):\n            pass\n"
                  "raise Exception('held' if not hit else 'signalled %%r' %% hit)\n",
           false);
    /* a flood may be stopped by the wall clock (forking is slow on a loaded
     * machine) rather than by the process limit: either way it held */
    attack_or("processes that outlive the check",
           UNHOOK "import os, time, ctypes\nlibc = ctypes.CDLL(None)\n"
                  "for i in range(3):\n    if os.fork() == 0:\n        os.setsid()\n"
                  "        libc.prctl(15, b'smc_attack', 0, 0, 0)\n"
                  "        if os.fork() == 0:\n            libc.prctl(15, b'smc_attack', 0, 0, 0)\n            time.sleep(60)\n"
                  "        os._exit(0)\n"
                  "n = 0\ntry:\n    while n < 5000:\n        if os.fork() == 0:\n"
                  "            libc.prctl(15, b'smc_attack', 0, 0, 0)\n            time.sleep(60)\n            os._exit(0)\n"
                  "        n += 1\nexcept OSError:\n    pass\n"
                  "time.sleep(0.2)\nraise Exception('held: the check ends now (%%d forks)' %% n)\n",
           false, "wall-clock limit");
    /* forging its own verdict by replacing the builtins the test would use:
     * the test was compiled, and exec bound, before the program ran */
    CHECK_MSG(run(UNHOOK "import builtins\n_c = compile\nbuiltins.compile = lambda *a, **k: _c('pass', '<x>', 'exec')\n"
                         "builtins.exec = lambda *a, **k: None\nbuiltins.AssertionError = KeyError\n"
                         "builtins.repr = None\nresult = 3\n",
                  true, msg, sizeof msg) == SMC_PY_ASSERTION,
              "own verdict forged: %s (status %d)", msg, (int)run("result = 3\n", true, msg, sizeof msg));
    host_unchanged("forging its own verdict");
    attack("forging other programs' verdicts",
           UNHOOK "import os\nw = []\n"
                  "me = str(os.getpid())\n"
                  "for pid in [p for p in ['1', '2', '3', '4'] + os.listdir('/proc') if p.isdigit() and p != me]:\n"
                  "    for fd in range(0, 8):\n"
                  "        try:\n            f = os.open('/proc/%%s/fd/%%d' %% (pid, fd), os.O_WRONLY)\n"
                  "            os.write(f, b'OK 0\\nOK 0\\nOK 0\\n')\n            w.append((pid, fd))\n"
                  "        except OSError:\n            pass\n"
                  "raise Exception('held' if not w else 'wrote to %%r' %% w)\n",
           false);
    /* its own socket to the worker: it may lie about itself, and nothing more */
    run(UNHOOK "import os\nfor fd in range(3, 64):\n    try:\n"
               "        os.write(fd, b'RES 12\\nOK\\tprogram\\t0\\t')\n        os.write(fd, b'PID 1\\n1')\n"
               "    except OSError:\n        pass\nresult = 3\n",
        true, msg, sizeof msg);
    host_unchanged("lying on its own socket");

    /* poisoned snapshots: a prefix that plants files above its directory,
     * replaces the worker's functions and stops processes; then a
     * different program of the same problem is judged as usual */
    const char *poison =
        UNHOOK "import os, signal\nfor up in range(1, 6):\n"
               "    try:\n        open(os.path.join(os.getcwd(), *['..'] * up, 'planted'), 'w').write('x')\n"
               "    except OSError:\n        pass\n"
               "import __main__ as m\nm._run_user = lambda *a, **k: ('OK', '', 'program')\n"
               "for pid in range(1, 300):\n    try:\n        os.kill(pid, signal.SIGSTOP)\n    except OSError:\n"
               "        pass\n";
    CHECK_MSG(smc_py_check(pc, poison, strlen(poison), false, msg, sizeof msg) == SMC_VERDICT_PREFIX, "%s", msg);
    const char *victim = "import os\n"
                         "found = [up for up in range(1, 6) if os.path.exists(os.path.join(os.getcwd(), *['..'] * up, "
                         "'planted'))]\nresult = 2 if not found else found\n";
    CHECK_MSG(run(victim, true, msg, sizeof msg) == SMC_PY_OK, "planted files seen: %s", msg);
    CHECK_MSG(smc_py_check(pc, "y = 5\nresult = 3\n", 17, true, msg, sizeof msg) == SMC_VERDICT_COMPLETE &&
                  strstr(msg, "AssertionError"),
              "after a poisoned prefix: %s", msg);
    host_unchanged("poisoned snapshots");

    /* another program's files and IPC: a prefix kept as a snapshot leaves a
     * file in its directory and tries SysV IPC; a different program of the
     * same problem looks for that file beside its own directory (by name,
     * through every pid) and in /tmp, and for the IPC objects */
    const char *leave = UNHOOK "import ctypes\nopen('smc_mine', 'w').write('left by A')\n"
                               "libc = ctypes.CDLL(None)\nmade = [libc.shmget(0x5eed, 4096, 0o1666), "
                               "libc.msgget(0x5eed, 0o1666), libc.semget(0x5eed, 1, 0o1666)]\n";
    CHECK_MSG(smc_py_check(pc, leave, strlen(leave), false, msg, sizeof msg) == SMC_VERDICT_PREFIX, "%s", msg);
    attack("reading another program's files and IPC",
           UNHOOK "import os, ctypes\nfound = []\nforks = os.path.dirname(os.getcwd())\n"
                  "for pid in range(1, 1000):\n"
                  "    try:\n        found.append(open(os.path.join(forks, str(pid), 'smc_mine')).read())\n"
                  "    except OSError:\n        pass\n"
                  "for root, dirs, files in os.walk('/tmp'):\n"
                  "    if 'smc_mine' in files and not root.startswith(os.getcwd()):\n"
                  "        try:\n            found.append(open(os.path.join(root, 'smc_mine')).read())\n"
                  "        except OSError:\n            pass\n"
                  "libc = ctypes.CDLL(None)\n"
                  "for name, r in (('shm', libc.shmget(0x5eed, 0, 0)), ('msg', libc.msgget(0x5eed, 0)),\n"
                  "                ('sem', libc.semget(0x5eed, 0, 0))):\n"
                  "    if r >= 0:\n        found.append(name)\n"
                  "raise Exception('held' if not found else 'read %%r' %% found)\n",
           false);
    attack("reading secrets",
           UNHOOK "import os, glob\nfound = []\n"
                  "for p in ['/etc/shadow', '/etc/passwd', '/root', '/home'] + glob.glob('/proc/*/environ'):\n"
                  "    try:\n        t = open(p, 'rb').read() if not os.path.isdir(p) else str(os.listdir(p)).encode()\n"
                  "        if b'SMC_SECRET' in t or b'root:' in t or p in ('/root', '/home'):\n"
                  "            found.append(p)\n    except OSError:\n        pass\n"
                  "if 'SMC_SECRET_TOKEN' in os.environ:\n    found.append('environ')\n"
                  "raise Exception('held' if not found else 'read %%r' %% found)\n",
           false);
    attack("memory flood",
           UNHOOK "import os\nkids = []\nfor i in range(8):\n    p = os.fork()\n    if p == 0:\n"
                  "        try:\n            x = bytearray(600 << 20)\n        finally:\n            os._exit(0)\n"
                  "    kids.append(p)\n"
                  "try:\n    x = bytearray(8 << 30)\n    raise Exception('allocated 8 GiB')\n"
                  "except MemoryError:\n    raise Exception('held')\n",
           false);
    attack("disk flood",
           UNHOOK "import os\nn = 0\ntry:\n    for i in range(64):\n"
                  "        with open('f%%d' %% i, 'wb') as f:\n            f.write(b'x' * (15 << 20))\n        n += 1\n"
                  "except OSError:\n    pass\nraise Exception('held' if n < 64 else 'wrote 960 MiB')\n",
           false);
    /* a prefix that fills its directory is not kept as a snapshot: the next
     * program can still write */
    const char *fill = UNHOOK "for i in range(3):\n    open('g%d' % i, 'wb').write(b'x' * (15 << 20))\n";
    smc_py_check(pc, fill, strlen(fill), false, msg, sizeof msg);
    CHECK_MSG(run("open('h', 'wb').write(b'y' * (10 << 20))\nresult = 2\n", true, msg, sizeof msg) == SMC_PY_OK,
              "after a disk-filling prefix: %s", msg);
    CHECK_MSG(run(UNHOOK "while True:\n    pass\n", false, msg, sizeof msg) == SMC_PY_TIMEOUT, "time bomb: %s", msg);
    host_unchanged("time bomb");

    smc_py_close(pc);
    unlink(canary);
    char sock[200];
    snprintf(sock, sizeof sock, "%s/sock", host);
    unlink(sock);
    rmdir(host);
    close(tcp_fd);
    close(unix_fd);
    close(abstract_fd);
}
