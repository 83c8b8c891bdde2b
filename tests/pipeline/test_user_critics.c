/* test_user_critics.c — C plug-in critics (the example plug-in) and external
 * process critics: scores, text escaping, and every failure mode (missing
 * file, bad init, process that exits, hangs or answers nonsense) giving a
 * message instead of a crash or a hang. Batches: the batch op for a process
 * that says {"batch": true}, pipelined single requests for one that does
 * not, wrong-length answers, death mid-batch, and 64 texts of 4 KB with
 * large answers (a process blocked on a full output pipe must not deadlock
 * us while we are still writing). */
#include "test.h"

#include <unistd.h>

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

/* A timeout no healthy answer comes near, even on a loaded machine: only
 * the critics meant to be silent ever reach their timeout. */
#define LONG_MS 120000.0

/* score_batch with n requests on texts, complete where the index is a
 * multiple of complete_every (0: never). */
static int batch(smc_potential *p, int n, const char *const *texts, int complete_every, double *out)
{
    smc_score_request *r = calloc((size_t)n, sizeof *r);
    for (int i = 0; i < n; i++)
        r[i] = (smc_score_request){NULL, texts[i], strlen(texts[i]),
                                   complete_every > 0 && i % complete_every == 0};
    smc_error err = {{0}};
    int rc = p->vt->score_batch(p->self, n, r, out, &err);
    free(r);
    return rc;
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
    /* The batch entry point: the same values as one by one. */
    CHECK(p->vt->score_batch != NULL);
    if (p->vt->score_batch) {
        const char *texts[4] = {"CCO", "CCCl", "Cl", "N"};
        double out[4];
        CHECK_EQ_INT(batch(p, 4, texts, 2, out), 0);
        CHECK(out[0] == 0.0 && out[1] == -INFINITY && out[2] == -INFINITY && out[3] == 0.0);
    }
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
        LONG_MS);
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
    CHECK(prefix(p, "x") == INFINITY);
    const char *why = failure(p);
    CHECK_MSG(why && strstr(why, fragment), "'%s' lacks '%s'", why ? why : "(none)", fragment);
    CHECK(prefix(p, "y") == INFINITY);                         /* stays failed */
    smc_potential_free(p);
}

static void test_exec_failures(void)
{
    /* Failures found by content or end of file get a long timeout, so a
     * loaded machine cannot turn them into a timeout; the one that must time
     * out never answers at all, however fast or slow the machine is. */
    expect_failure("exit 0", LONG_MS, "exited without answering");
    expect_failure("exec sleep 600", 300, "did not answer within");
    expect_failure("read line; echo hello; cat >/dev/null", LONG_MS, "answered something other");
    expect_failure("read line; echo '{\"logw\": \"high\"}'; cat >/dev/null", LONG_MS,
                   "answered something other");
    expect_failure("/nonexistent-critic-binary", LONG_MS, "exited without answering");
    smc_error err = {{0}};
    smc_potential *p = NULL;
    CHECK_EQ_INT(smc_critic_from_exec("", 0, &p, &err), -1);
    CHECK(strstr(err.msg, "empty command") != NULL);
}

/* A Python critic in a temporary file; its command line, or NULL. */
static char *python_critic(const char *code, const char *args)
{
    char path[] = "/tmp/smcgen-critic-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    size_t n = strlen(code);
    bool ok = write(fd, code, n) == (ssize_t)n;
    close(fd);
    if (!ok)
        return NULL;
    char *cmd = malloc(strlen(path) + strlen(args) + 32);
    sprintf(cmd, "exec python3 %s %s", path, args);
    return cmd;
}

static void remove_critic(char *cmd)
{
    if (cmd)
        unlink(strchr(cmd + 5, '/') ? strtok(strchr(cmd, '/'), " ") : "");
    free(cmd);
}

/* Scores -(characters) - 0.5 for complete, -inf for "dead". Batch mode
 * (argv[1] != "line"): says {"batch": true} first and answers batch ops:
 * argv[1] "ok" correctly, "short" one score too few, "die" by exiting. argv[2] (optional): a log of the ops received. */
static const char critic_py[] =
    "import sys, json\n"
    "mode = sys.argv[1]\n"
    "log = open(sys.argv[2], 'a') if len(sys.argv) > 2 else None\n"
    "def score(r):\n"
    "    t = r['text']\n"
    "    return None if t == 'dead' else -len(t) - (0.5 if r['op'] == 'complete' else 0)\n"
    "def note(s):\n"
    "    if log: log.write(s + '\\n'); log.flush()\n"
    "if mode != 'line':\n"
    "    print(json.dumps({'batch': True}), flush=True)\n"
    "for line in sys.stdin:\n"
    "    r = json.loads(line)\n"
    "    if r['op'] == 'batch':\n"
    "        note('batch %d' % len(r['requests']))\n"
    "        if mode == 'die': sys.exit(0)\n"
    "        ws = [score(q) for q in r['requests']]\n"
    "        if mode == 'short': ws = ws[:-1]\n"
    "        print(json.dumps({'logws': ws}), flush=True)\n"
    "    else:\n"
    "        note(r['op'])\n"
    "        print(json.dumps({'logw': score(r)}), flush=True)\n";

static const char *const mixed[6] = {"abc", "dead", "\xc3\xa9t\xc3\xa9", "x\"y\\z", "", "0123456789"};
static const double mixed_chars[6] = {3, -1, 3, 5, 0, 10};

/* Expected score of mixed[i] as critic_py computes it. */
static double mixed_expect(int i, bool complete)
{
    return mixed_chars[i] < 0 ? -INFINITY : -mixed_chars[i] - (complete ? 0.5 : 0);
}

static int check_mixed(const double *out, int complete_every)
{
    int bad = 0;
    for (int i = 0; i < 6; i++)
        bad += out[i] != mixed_expect(i, complete_every > 0 && i % complete_every == 0);
    return bad;
}

static void test_exec_batches(void)
{
    char logpath[] = "/tmp/smcgen-critic-log-XXXXXX";
    int lfd = mkstemp(logpath);
    if (lfd >= 0)
        close(lfd);
    char args[128];
    snprintf(args, sizeof args, "ok %s", logpath);
    char *ok_cmd = python_critic(critic_py, args);
    char *line_cmd = python_critic(critic_py, "line");
    CHECK(ok_cmd && line_cmd && lfd >= 0);
    if (!ok_cmd || !line_cmd || lfd < 0)
        return;
    double out[6];

    /* A line-at-a-time critic: batches arrive as pipelined single requests. */
    smc_potential *p = exec_critic(line_cmd, LONG_MS);
    if (p) {
        CHECK_EQ_INT(batch(p, 6, mixed, 2, out), 0);
        CHECK_EQ_INT(check_mixed(out, 2), 0);
        CHECK_EQ_INT(batch(p, 6, mixed, 0, out), 0);
        CHECK_EQ_INT(check_mixed(out, 0), 0);
        CHECK(prefix(p, "abcd") == -4);
        CHECK(failure(p) == NULL);
        smc_potential_free(p);
    }

    /* A batch critic: the first batch goes pipelined (its hello is not read
     * yet), later ones as one batch op; a single text stays a single line. */
    p = exec_critic(ok_cmd, LONG_MS);
    if (p) {
        CHECK_EQ_INT(batch(p, 6, mixed, 3, out), 0);
        CHECK_EQ_INT(check_mixed(out, 3), 0);
        CHECK_EQ_INT(batch(p, 6, mixed, 1, out), 0);
        CHECK_EQ_INT(check_mixed(out, 1), 0);
        CHECK_EQ_INT(batch(p, 1, mixed, 0, out), 0);
        CHECK(out[0] == -3);
        CHECK(p->vt->complete(p->self, NULL, "ab", 2) == -2.5);
        CHECK(failure(p) == NULL);
        smc_potential_free(p);
        char *log = test_read_file(logpath, NULL);
        CHECK_STR(log, "complete\nprefix\nprefix\ncomplete\nprefix\nprefix\n"
                       "batch 6\nprefix\ncomplete\n");
        free(log);
    }
    unlink(logpath);

    /* Wrong length, death and silence in the middle of a batch: an error
     * with a message, quickly. */
    struct {
        const char *mode;
        const char *fragment;
    } bad[3] = {{"short", "answered 5 scores to a batch of 6"},
                {"die", "exited without answering"},
                {"slow", "did not answer within the timeout"}};
    for (int b = 0; b < 3; b++) {
        /* "short" and "die" fail by what they answer, so they get a timeout
         * python3's start-up never reaches. "slow" is a shell critic that
         * says hello, answers one text and then never answers again: whether
         * its first answer beats the short timeout or not (a loaded
         * machine), the verdict is the same timeout failure. */
        bool slow = !strcmp(bad[b].mode, "slow");
        char *cmd = slow ? strdup("echo '{\"batch\": true}'; read a; echo '{\"logw\": -3}'; "
                                  "exec sleep 600")
                         : python_critic(critic_py, bad[b].mode);
        p = cmd ? exec_critic(cmd, slow ? 300 : LONG_MS) : NULL;
        if (p) {
            double first = prefix(p, "abc");   /* reads the hello */
            CHECK(first == -3 || (slow && first == INFINITY));
            CHECK_EQ_INT(batch(p, 6, mixed, 0, out), 0);
            CHECK(out[0] == INFINITY && out[5] == INFINITY);
            const char *why = failure(p);
            CHECK_MSG(why && strstr(why, bad[b].fragment), "'%s' lacks '%s'", why ? why : "(none)",
                      bad[b].fragment);
            CHECK(prefix(p, "y") == INFINITY);   /* stays failed */
            smc_potential_free(p);
        }
        if (slow)
            free(cmd);
        else
            remove_critic(cmd);
    }

    /* A line-at-a-time critic that dies after two answers. */
    p = exec_critic("read a; echo '{\"logw\": 1}'; read b; echo '{\"logw\": 2}'", LONG_MS);
    if (p) {
        CHECK_EQ_INT(batch(p, 6, mixed, 0, out), 0);
        CHECK(out[0] == INFINITY);
        const char *why = failure(p);
        CHECK_MSG(why && strstr(why, "exited without answering") && strstr(why, "of 6 answers"),
                  "%s", why ? why : "(none)");
        smc_potential_free(p);
    }
    /* Answering more lines than asked is caught: both lines come in one
     * write, so the extra one is there when the first answer is read. */
    p = exec_critic("read a; printf '{\"logw\": 1}\\n{\"logw\": 2}\\n'; cat >/dev/null", LONG_MS);
    if (p) {
        CHECK(prefix(p, "a") == INFINITY);
        CHECK(failure(p) && strstr(failure(p), "more lines"));
        smc_potential_free(p);
    }
    remove_critic(ok_cmd);
    remove_critic(line_cmd);
}

/* 64 texts of 4 KB (text i: 4000 + i bytes), both ways; the line critic
 * echoes each text twice in its answer, so its answers (512 KB) fill the
 * socket buffer long before we finish writing the requests (256 KB). */
static void test_exec_large_batch(void)
{
    static const char echo_py[] =
        "import sys, json\n"
        "for line in sys.stdin:\n"
        "    t = json.loads(line)['text']\n"
        "    print(json.dumps({'logw': -len(t), 'echo': t + t}), flush=True)\n";
    char *cmds[2] = {python_critic(echo_py, ""), python_critic(critic_py, "ok")};
    enum { N = 64 };
    char *texts[N];
    for (int i = 0; i < N; i++) {
        texts[i] = malloc(4000 + (size_t)i + 1);
        for (int k = 0; k < 4000 + i; k++)
            texts[i][k] = (char)('a' + (i + k) % 26);
        texts[i][4000 + i] = 0;
    }
    for (int c = 0; c < 2; c++) {
        /* A deadlock would show as a timeout (30 s), not as a slow pass. */
        smc_potential *p = cmds[c] ? exec_critic(cmds[c], 30000) : NULL;
        if (!p)
            continue;
        double out[N];
        int bad = 0;
        for (int round = 0; round < 2; round++) {   /* batch critic: pipelined, then batch op */
            CHECK_EQ_INT(batch(p, N, (const char *const *)texts, 0, out), 0);
            for (int i = 0; i < N; i++)
                bad += out[i] != -(4000.0 + i);
        }
        CHECK_EQ_INT(bad, 0);
        CHECK_MSG(failure(p) == NULL, "%s", failure(p));
        smc_potential_free(p);
    }
    for (int i = 0; i < N; i++)
        free(texts[i]);
    remove_critic(cmds[0]);
    remove_critic(cmds[1]);
}

void run_tests(void)
{
    test_plugin();
    test_exec_scores();
    test_exec_failures();
    test_exec_batches();
    test_exec_large_batch();
}
