/* test_worker_replies.c — smcgen believes exactly one reply per request
 * from the Python critic's worker, the one tagged for that request. A fake
 * worker (a Python script given as the interpreter, run without the sandbox
 * since it is ours) answers twice at once, answers a later request with the
 * tag of an earlier one (what a forger who cannot read the requests would
 * manage at best), and answers without a tag: each time the request fails,
 * the forged answer is not used, and the next request is served by a new
 * worker (counted by the fake through a file). */
#include "test.h"
#include "smcgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char FAKE[] =
    "import sys\n"
    "with open(sys.argv[1], 'a') as f:\n    f.write('x\\n')\n"
    "n = len(open(sys.argv[1]).read().split())\n"
    "inp, out = sys.stdin.buffer, sys.stdout.buffer\n"
    "def reply(st, msg, tag):\n    return b'%s %d %s\\n%s' % (st, len(msg), tag, msg)\n"
    "def request():\n    p = inp.readline().split()\n"
    "    return p, inp.read(int(p[1])) if p and p[0] == b'SYN' else b''\n"
    "while True:\n    p, body = request()\n    if not p:\n        break\n    tag = p[-1]\n"
    "    if b'twice' in body:\n        out.write(reply(b'BAD', b'first', tag) + reply(b'OK', b'forged', tag))\n"
    "    elif b'later' in body:\n        out.write(reply(b'BAD', b'first', tag))\n        out.flush()\n"
    "        request()\n        out.write(reply(b'OK', b'forged', tag))\n"
    "    elif b'untagged' in body:\n        out.write(b'OK 6\\nforged')\n"
    "    elif p[0] == b'SYN':\n        out.write(reply(b'MORE', b'worker %d' % n, tag))\n"
    "    else:\n        out.write(reply(b'OK', b'', tag))\n"
    "    out.flush()\n";

static smc_py_critic *pc;

/* smc_py_syntax's return, *state and message. */
static int syntax(const char *code, int *state, char *msg, size_t cap)
{
    smc_error err = {{0}};
    *state = -1;
    msg[0] = '\0';
    int r = smc_py_syntax(pc, code, strlen(code), state, msg, cap, &err);
    if (r < 0)
        snprintf(msg, cap, "%.*s", (int)(cap > 1 ? cap - 1 : 0), err.msg);
    return r;
}

static void served_by(int worker)
{
    char msg[600], want[32];
    int state;
    snprintf(want, sizeof want, "worker %d", worker);
    CHECK_MSG(syntax("x = 1\n", &state, msg, sizeof msg) == 0 && state == 1 && strcmp(msg, want) == 0,
              "expected %s: state %d, %s", want, state, msg);
}

void run_tests(void)
{
    if (system("python3 -c pass") != 0)
        SKIP_ALL("no python3");
    char dir[] = "/tmp/smc_replies_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char fake[64], wrapper[64], starts[64];
    snprintf(fake, sizeof fake, "%s/fake.py", dir);
    snprintf(wrapper, sizeof wrapper, "%s/python", dir);
    snprintf(starts, sizeof starts, "%s/starts", dir);
    FILE *f = fopen(fake, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(FAKE, f);
    fclose(f);
    f = fopen(wrapper, "w");
    fprintf(f, "#!/bin/sh\nexec python3 %s %s\n", fake, starts);
    fclose(f);
    chmod(wrapper, 0755);

    smc_py_allow_unsafe(true);
    smc_error err = {{0}};
    CHECK_MSG(smc_py_open(wrapper, NULL, NULL, &pc, &err) == 0, "%s", err.msg);
    if (!pc)
        return;
    char msg[300];
    int state;
    served_by(1);
    CHECK_MSG(syntax("twice\n", &state, msg, sizeof msg) < 0 && strstr(msg, "more than one reply"),
              "two replies at once: state %d, %s", state, msg);
    served_by(2);
    CHECK_MSG(syntax("later\n", &state, msg, sizeof msg) == 0 && state == 0 && strcmp(msg, "first") == 0,
              "state %d, %s", state, msg);
    CHECK_MSG(syntax("x = 1\n", &state, msg, sizeof msg) < 0 && strstr(msg, "not tagged for this request"),
              "a reply tagged for an earlier request: state %d, %s", state, msg);
    served_by(3);
    CHECK_MSG(syntax("untagged\n", &state, msg, sizeof msg) < 0 && state != 2, "an untagged reply: state %d, %s",
              state, msg);
    served_by(4);
    smc_py_close(pc);

    unlink(fake);
    unlink(wrapper);
    unlink(starts);
    rmdir(dir);
}
