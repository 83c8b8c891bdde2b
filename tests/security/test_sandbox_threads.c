/* test_sandbox_threads.c — the Python sandbox starts while other threads of
 * the process come and go (smcgen's thread pool, a server's connections).
 * The sandbox's child is a raw clone of a threaded process: had it used
 * libc's set*id calls, which act on every thread libc knows of, a thread
 * being started at the clone would be waited for forever. Here one thread
 * starts and joins threads without pause while the sandbox is opened again
 * and again; with libc's calls the first few opens hung (seen 3 of 3 tries).
 * A hang fails the test after 120 s per open (SIGALRM). Skips (77) where
 * the kernel cannot provide the sandbox. */
#include "test.h"
#include "smcgen.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPENS 12

static atomic_int stop;
static atomic_long started;

static void *nothing(void *arg) { return arg; }

static void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) == 0) {
            pthread_join(t, NULL);
            atomic_fetch_add(&started, 1);
        }
    }
    return NULL;
}

static void hung(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: opening the sandbox hung while threads were being started\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(2);
    _exit(1);
}

void run_tests(void)
{
    char why[256];
    if (!smc_py_sandbox_available(why, sizeof why)) {
        fprintf(stderr, "skipped: no sandbox on this system: %s\n", why);
        exit(77);
    }
    signal(SIGALRM, hung);
    pthread_t c;
    CHECK(pthread_create(&c, NULL, churn, NULL) == 0);
    while (atomic_load(&started) == 0) /* the churn is under way */
        usleep(1000);
    int opened = 0;
    for (int i = 0; i < OPENS; i++) {
        alarm(120);
        smc_error err = {{0}};
        smc_py_critic *pc = NULL;
        if (smc_py_open(NULL, "X = 1\n", NULL, &pc, &err) < 0) {
            CHECK_MSG(false, "open %d: %s", i, err.msg);
            break;
        }
        char msg[256];
        smc_py_status st = SMC_PY_WORKER_FAILED;
        CHECK_MSG(smc_py_run(pc, "result = X + 1\n", 15, false, &st, msg, sizeof msg, &err) == 0 && st == SMC_PY_OK,
                  "open %d: %s %s", i, msg, err.msg);
        smc_py_close(pc);
        opened++;
    }
    alarm(0);
    atomic_store(&stop, 1);
    pthread_join(c, NULL);
    CHECK_EQ_INT(opened, OPENS);
    fprintf(stderr, "%d sandboxes opened while %ld threads were started\n", opened, atomic_load(&started));
}
