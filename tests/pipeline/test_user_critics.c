/* test_user_critics.c — C plug-in critics (the example plug-in) and external
 * process critics: scores, text escaping, and every failure mode (missing
 * file, bad init, process that exits, hangs or answers nonsense) giving a
 * message instead of a crash or a hang. */
#include "test.h"

#include <time.h>

#include "smc/potential.h"
#include "smcgen.h"

static double prefix(smc_potential *p, const char *text)
{
    return p->vt->prefix(p->self, NULL, text, strlen(text));
}

static const char *failure(smc_potential *p)
{
    return p->vt->failure ? p->vt->failure(p->self) : NULL;
}

static void test_plugin(void)
{
    smc_error err = {{0}};
    smc_potential *p = NULL;
    CHECK_EQ_INT(smc_critic_from_plugin(SMC_EXAMPLE_PLUGIN, "Cl", &p, &err), 0);
    if (!p)
        return;
    CHECK(prefix(p, "CCO") == 0.0);
    CHECK(prefix(p, "CCCl") == -INFINITY);
    CHECK(p->vt->complete(p->self, NULL, "CClC", 4) == -INFINITY);
    CHECK(p->vt->prefix(p->self, NULL, "C\0C", 3) == INFINITY);
    CHECK(failure(p) != NULL);
    smc_potential_free(p);

    p = NULL;
    CHECK_EQ_INT(smc_critic_from_plugin(SMC_EXAMPLE_PLUGIN, NULL, &p, &err), -1);
    CHECK_MSG(strstr(err.msg, "initialisation failed") && strstr(err.msg, "forbidden substring"),
              "%s", err.msg);
    CHECK_EQ_INT(smc_critic_from_plugin("/nonexistent/plugin.so", "x", &p, &err), -1);
    CHECK_MSG(strstr(err.msg, "/nonexistent/plugin.so") != NULL, "%s", err.msg);
    CHECK(p == NULL);
}

static smc_potential *exec_critic(const char *cmd, double timeout_ms)
{
    smc_error err = {{0}};
    smc_potential *p = NULL;
    CHECK_MSG(smc_critic_from_exec(cmd, timeout_ms, &p, &err) == 0, "%s", err.msg);
    return p;
}

static void test_exec_scores(void)
{
    /* Scores minus the number of characters, as Python counts them: checks
     * that quotes, backslashes, control bytes and UTF-8 arrive intact. */
    smc_potential *p = exec_critic(
        "python3 -c 'import sys, json\n"
        "for line in sys.stdin:\n"
        "    r = json.loads(line)\n"
        "    w = None if r[\"text\"] == \"dead\" else -len(r[\"text\"]) - (0.5 if r[\"op\"] == \"complete\" else 0)\n"
        "    print(json.dumps({\"logw\": w}), flush=True)'",
        10000);
    if (!p)
        return;
    CHECK_NEAR(prefix(p, "abc"), -3, 0);
    CHECK_NEAR(prefix(p, "a\"b\\c\nd\te"), -9, 0);
    CHECK_NEAR(prefix(p, "\xc3\xa9t\xc3\xa9"), -3, 0);        /* "été": 3 characters */
    CHECK_NEAR(prefix(p, "x\xff"), -2, 0);                    /* invalid byte -> U+FFFD */
    CHECK(prefix(p, "dead") == -INFINITY);
    CHECK_NEAR(p->vt->complete(p->self, NULL, "ab", 2), -2.5, 0);
    CHECK(failure(p) == NULL);
    for (int i = 0; i < 200; i++)                              /* many round trips */
        if (prefix(p, "0123456789") != -10) {
            CHECK(0);
            break;
        }
    smc_potential_free(p);
}

static void expect_failure(const char *cmd, double timeout_ms, const char *fragment)
{
    smc_potential *p = exec_critic(cmd, timeout_ms);
    if (!p)
        return;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(prefix(p, "x") == INFINITY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK_MSG(secs < 5, "took %.1f s", secs);
    const char *why = failure(p);
    CHECK_MSG(why && strstr(why, fragment), "'%s' lacks '%s'", why ? why : "(none)", fragment);
    CHECK(prefix(p, "y") == INFINITY);                         /* stays failed */
    smc_potential_free(p);
}

static void test_exec_failures(void)
{
    expect_failure("exit 0", 2000, "exited without answering");
    expect_failure("sleep 30", 300, "did not answer within");
    expect_failure("read line; echo hello; cat >/dev/null", 2000, "answered something other");
    expect_failure("read line; echo '{\"logw\": \"high\"}'; cat >/dev/null", 2000,
                   "answered something other");
    expect_failure("/nonexistent-critic-binary", 2000, "exited without answering");
    smc_error err = {{0}};
    smc_potential *p = NULL;
    CHECK_EQ_INT(smc_critic_from_exec("", 0, &p, &err), -1);
    CHECK(strstr(err.msg, "empty command") != NULL);
}

void run_tests(void)
{
    test_plugin();
    test_exec_scores();
    test_exec_failures();
}
