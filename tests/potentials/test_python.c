/* test_python.c — the Python critic: syntax at line ends, lines that parse
 * but raise, the sandbox (writes outside the temp dir, sockets, subprocesses,
 * an endless loop, a memory bomb), worker reuse and restart, and the pydata
 * problems' reference solutions (with pandas, when the Python has it). */
#include "test.h"
#include "smcgen.h"

#include <cjson/cJSON.h>
#include <time.h>
#include <unistd.h>

static bool python_can(const char *py, const char *module)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -c 'import %s' >/dev/null 2>&1", py, module);
    return system(cmd) == 0;
}

static const char *pick_python(bool need_pandas)
{
    const char *env = getenv("SMCGEN_PYTHON");
    const char *cands[] = {env, "/usr/bin/python3", "python3"};
    for (int i = 0; i < 3; i++)
        if (cands[i] && python_can(cands[i], need_pandas ? "pandas" : "codeop"))
            return cands[i];
    return NULL;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static smc_py_critic *c;
static smc_verdict pre(const char *s) { return smc_py_check(c, s, strlen(s), false, NULL, 0); }
static smc_verdict full(const char *s) { return smc_py_check(c, s, strlen(s), true, NULL, 0); }

static void test_syntax_and_runs(void)
{
    /* syntax, judged at line ends */
    CHECK(pre("x = 1\n") == SMC_VERDICT_PREFIX);
    CHECK(pre("x = (1,\n") == SMC_VERDICT_PREFIX);          /* open parenthesis: incomplete */
    CHECK(pre("for i in range(3):\n") == SMC_VERDICT_PREFIX);
    CHECK(pre("x = 1 +") == SMC_VERDICT_PREFIX);            /* mid-line: not judged */
    CHECK(pre("x = = 1\n") == SMC_VERDICT_INVALID);
    CHECK(pre("def f(:\n") == SMC_VERDICT_INVALID);
    CHECK(pre("x = 1 +\n") == SMC_VERDICT_INVALID);
    int state = -1;
    smc_error err;
    CHECK(smc_py_syntax(c, "if x:\n", 6, &state, NULL, 0, &err) == 0 && state == 1);
    CHECK(smc_py_syntax(c, "y = 2\n", 6, &state, NULL, 0, &err) == 0 && state == 2);
    CHECK(smc_py_syntax(c, "y = )\n", 6, &state, NULL, 0, &err) == 0 && state == 0);
    /* lines that parse but raise */
    char why[300];
    CHECK(smc_py_check(c, "y = undefined_name\n", 19, false, why, sizeof why) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "NameError") != NULL, "reason: %s", why);
    CHECK(pre("x = 1 / 0\n") == SMC_VERDICT_INVALID);
    CHECK(pre("x = [1, 2][5]\n") == SMC_VERDICT_INVALID);
    CHECK(pre("assert 1 == 2\n") == SMC_VERDICT_PREFIX);     /* AssertionError is not a crash */
    CHECK(pre("import math\nr = math.sqrt(setup_value)\n") == SMC_VERDICT_PREFIX); /* setup ran */
    CHECK(full("r = setup_value * 2\n") == SMC_VERDICT_COMPLETE);
    CHECK(full("r = 1\n") == SMC_VERDICT_COMPLETE);         /* test fails by assertion only */
    CHECK(full("if True:\n") == SMC_VERDICT_INVALID);
    smc_py_status st;
    CHECK(smc_py_run(c, "r = setup_value * 2\n", 20, true, &st, NULL, 0, &err) == 0 && st == SMC_PY_OK);
    CHECK(smc_py_run(c, "r = 1\n", 6, true, &st, NULL, 0, &err) == 0 && st == SMC_PY_ASSERTION);
    CHECK(smc_py_run(c, "r = 1\nraise KeyError(3)\n", 23, false, &st, NULL, 0, &err) == 0 && st == SMC_PY_ERROR);
}

static void test_sandbox(void)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/smc_py_forbidden_%d", (int)getpid());
    char prog[256];
    snprintf(prog, sizeof prog, "open('%s', 'w').write('x')\n", path);
    CHECK(pre(prog) == SMC_VERDICT_INVALID);
    CHECK(access(path, F_OK) != 0);
    unlink(path);
    CHECK(pre("open('inside.txt', 'w').write('fine')\nassert open('inside.txt').read() == 'fine'\n") ==
          SMC_VERDICT_PREFIX);
    CHECK(pre("import socket\ns = socket.socket()\n") == SMC_VERDICT_INVALID);
    CHECK(pre("import os\nos.system('true')\n") == SMC_VERDICT_INVALID);
    CHECK(pre("import subprocess\nsubprocess.run(['true'])\n") == SMC_VERDICT_INVALID);
    CHECK(pre("import os\nos.remove('/etc/hostname')\n") == SMC_VERDICT_INVALID);
    /* an endless loop hits the wall clock; the worker survives and is reused */
    smc_py_set_limits(c, 300, 0, 0);
    double t0 = now_ms();
    char why[300];
    CHECK(smc_py_check(c, "while True:\n    pass\n", 21, false, why, sizeof why) == SMC_VERDICT_INVALID);
    double took = now_ms() - t0;
    CHECK_MSG(strstr(why, "limit") != NULL, "reason: %s", why);
    CHECK_MSG(took < 3000, "endless loop took %.0f ms", took);
    smc_py_set_limits(c, 5000, 0, 0);
    /* a memory bomb fails fast */
    smc_py_set_limits(c, 0, 256, 0);
    CHECK(pre("x = bytearray(4 * 1024 ** 3)\n") == SMC_VERDICT_INVALID);
    smc_py_set_limits(c, 0, 1024, 0);
    /* reuse: syntax checks cost a pipe round trip, not a Python start */
    t0 = now_ms();
    for (int i = 0; i < 50; i++)
        pre("x = (1,\n");
    double per = (now_ms() - t0) / 50;
    CHECK_MSG(per < 20, "%.2f ms per syntax check", per);
    fprintf(stderr, "python critic: %.3f ms per syntax check\n", per);
    CHECK(pre("x = 1\n") == SMC_VERDICT_PREFIX);
}

static void test_bad_worker(void)
{
    smc_py_critic *bad = NULL;
    smc_error err;
    CHECK(smc_py_open("/nonexistent/python3", NULL, NULL, &bad, &err) < 0 && bad == NULL);
    CHECK(smc_py_check(NULL, "x\n", 2, false, NULL, 0) == SMC_VERDICT_INVALID);
    smc_py_status st;
    CHECK(smc_py_run(NULL, "x", 1, false, &st, NULL, 0, &err) < 0);
}

static void test_pydata(const char *py)
{
    FILE *f = fopen(test_shared_path("data/pydata/dev.jsonl"), "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    int n = 0, ok_full = 0, ok_prefixes = 0, broken_caught = 0, skipped = 0;
    /* every second problem keeps the binary fast; SMC_TEST_FULL=1 runs all */
    int limit = getenv("SMC_TEST_SANITIZED") ? 5 : 40, step = getenv("SMC_TEST_FULL") ? 1 : 2, index = 0;
    smc_py_critic *pc = NULL;
    smc_error err;
    if (smc_py_open(py, NULL, NULL, &pc, &err) < 0) {
        CHECK_MSG(0, "%s", err.msg);
        fclose(f);
        return;
    }
    while (getline(&line, &cap, f) > 0 && n < limit) {
        cJSON *o = cJSON_Parse(line);
        const char *lib = cJSON_GetStringValue(cJSON_GetObjectItem(o, "library"));
        const char *setup = cJSON_GetStringValue(cJSON_GetObjectItem(o, "context_setup"));
        const char *sol = cJSON_GetStringValue(cJSON_GetObjectItem(o, "reference_solution"));
        const char *test = cJSON_GetStringValue(cJSON_GetObjectItem(o, "test"));
        if (index++ % step) {
            /* not this time */
        } else if (lib && !python_can(py, strcmp(lib, "plotting") == 0 ? "matplotlib" : lib)) {
            skipped++;
        } else if (setup && sol && test && smc_py_set_context(pc, setup, test, &err) == 0) {
            n++;
            char why[300];
            bool good = smc_py_check(pc, sol, strlen(sol), true, why, sizeof why) == SMC_VERDICT_COMPLETE;
            if (!good)
                fprintf(stderr, "  reference fails: %s\n", why);
            ok_full += good;
            bool all = true;
            for (size_t k = 1; k <= strlen(sol) && all; k++)
                all = smc_py_check(pc, sol, k, false, why, sizeof why) == SMC_VERDICT_PREFIX;
            ok_prefixes += all;
            const char *broken = "result = df.no_such_method()\n";
            broken_caught += smc_py_check(pc, broken, strlen(broken), false, NULL, 0) == SMC_VERDICT_INVALID;
        }
        cJSON_Delete(o);
    }
    smc_py_close(pc);
    free(line);
    fclose(f);
    fprintf(stderr, "pydata: %d problems (%d skipped: library missing), reference complete %d, all prefixes kept %d, "
            "broken line caught %d\n", n, skipped, ok_full, ok_prefixes, broken_caught);
    CHECK(n > 0);
    CHECK_EQ_INT(ok_full, n);
    CHECK_EQ_INT(ok_prefixes, n);
    CHECK_EQ_INT(broken_caught, n);
}

void run_tests(void)
{
    const char *py = pick_python(false);
    if (!py)
        SKIP_ALL("no python3 on this machine");
    smc_error err;
    const char *setup = "setup_value = 21\n";
    const char *test = "assert r == 42, r\n";
    if (smc_py_open(py, setup, test, &c, &err) < 0) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    test_syntax_and_runs();
    test_sandbox();
    smc_py_close(c);
    test_bad_worker();
    const char *pd = pick_python(true);
    if (pd && test_shared_path(""))
        test_pydata(pd);
    else
        fprintf(stderr, "note: no Python with pandas (or no ../shared): pydata problems skipped\n");
}
