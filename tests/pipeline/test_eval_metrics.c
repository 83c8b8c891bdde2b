/* test_eval_metrics.c — the eval harness's metrics: SQL execution match
 * (multisets, ORDER BY, full numeric precision, text vs numbers, failures,
 * read-only), the posterior-weighted score, ORDER BY detection, bootstrap
 * CIs on known data, and the per-task scorers and prompts on ../shared. */
#include <sqlite3.h>
#include <unistd.h>

#include "pipeline/eval_metrics.h"
#include "pipeline/eval_task.h"
#include "test.h"

static char db_path[64];

static void make_db(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/smc_test_eval_%d.sqlite", (int)getpid());
    unlink(db_path);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "CREATE TABLE t (a INT, b TEXT);"
                       "INSERT INTO t VALUES (1,'x'),(2,'y'),(2,'y'),(3,'z'),(NULL,'w');"
                       /* most common x == max x here, not on the perturbed copy */
                       "CREATE TABLE u (x INT);"
                       "INSERT INTO u VALUES (9),(5),(9),(5),(9),(5),(9),(1),(9),(5);",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

static int same(sqlite3 *db, const char *gold, const char *pred)
{
    bool s = false;
    smc_error err = {{0}};
    if (eval_sql_same_result(db, gold, pred, 1000, &s, &err))
        return -1;
    return s;
}

static void test_sql(void)
{
    make_db();
    sqlite3 *db = NULL;
    smc_error err = {{0}};
    CHECK(eval_sql_open(db_path, &db, &err) == 0);
    if (!db)
        return;
    /* Unordered gold: the same multiset in any order matches. */
    CHECK_EQ_INT(same(db, "SELECT a FROM t", "SELECT a FROM t ORDER BY a DESC"), 1);
    CHECK_EQ_INT(same(db, "SELECT a, b FROM t", "SELECT a, b FROM t ORDER BY b"), 1);
    /* Multiplicities count. */
    CHECK_EQ_INT(same(db, "SELECT b FROM t", "SELECT DISTINCT b FROM t"), 0);
    CHECK_EQ_INT(same(db, "SELECT b FROM t WHERE a = 2", "SELECT 'y'"), 0);
    CHECK_EQ_INT(same(db, "SELECT b FROM t WHERE a = 2", "SELECT 'y' UNION ALL SELECT 'y'"), 1);
    /* Ordered gold: the order matters. */
    CHECK_EQ_INT(same(db, "SELECT a FROM t ORDER BY a", "SELECT a FROM t ORDER BY a DESC"), 0);
    CHECK_EQ_INT(same(db, "SELECT a FROM t ORDER BY a", "SELECT a FROM t ORDER BY a ASC"), 1);
    CHECK_EQ_INT(same(db, "select a from t where a > 0 order by a desc", "SELECT a FROM t WHERE a > 0 ORDER BY -a"), 1);
    /* Numbers compare by value; NULLs are values. */
    CHECK_EQ_INT(same(db, "SELECT count(*) FROM t", "SELECT 5.0"), 1);
    CHECK_EQ_INT(same(db, "SELECT a FROM t WHERE b = 'w'", "SELECT NULL"), 1);
    CHECK_EQ_INT(same(db, "SELECT a FROM t WHERE b = 'w'", "SELECT 'null'"), 0);
    /* Different widths, empty results. */
    CHECK_EQ_INT(same(db, "SELECT a FROM t", "SELECT a, a FROM t"), 0);
    CHECK_EQ_INT(same(db, "SELECT a FROM t WHERE a > 9", "SELECT b FROM t WHERE a < 0"), 1);
    /* Full numeric precision: numbers that agree to 6 or 12 digits differ. */
    CHECK_EQ_INT(same(db, "SELECT 1234567", "SELECT 1234568"), 0);
    CHECK_EQ_INT(same(db, "SELECT 1234567", "SELECT 1234567"), 1);
    CHECK_EQ_INT(same(db, "SELECT 123456789012345678", "SELECT 123456789012345679"), 0);
    CHECK_EQ_INT(same(db, "SELECT 9007199254740993", "SELECT 9007199254740992"), 0);
    CHECK_EQ_INT(same(db, "SELECT 0.1 + 0.2", "SELECT 0.3"), 0);   /* as Spider: exact values */
    CHECK_EQ_INT(same(db, "SELECT 1.0000000000001", "SELECT 1.0"), 0);
    CHECK_EQ_INT(same(db, "SELECT 2.5", "SELECT 5 / 2.0"), 1);
    CHECK_EQ_INT(same(db, "SELECT 3", "SELECT 3.0"), 1);           /* 3 == 3.0 */
    CHECK_EQ_INT(same(db, "SELECT -0.0", "SELECT 0"), 1);
    /* Text is not a number: '1' differs from 1, '1.0' from 1.0. */
    CHECK_EQ_INT(same(db, "SELECT 1", "SELECT '1'"), 0);
    CHECK_EQ_INT(same(db, "SELECT 1.5", "SELECT '1.5'"), 0);
    CHECK_EQ_INT(same(db, "SELECT 'a', 'b'", "SELECT 'a', 'b'"), 1);
    CHECK_EQ_INT(same(db, "SELECT 'a' || 'b'", "SELECT 'a', 'b'"), 0);
    /* A failing prediction is a mismatch, a failing gold an error. */
    CHECK_EQ_INT(same(db, "SELECT a FROM t", "SELEC a FROM t"), 0);
    CHECK_EQ_INT(same(db, "SELECT a FROM t", "SELECT nope FROM t"), 0);
    CHECK_EQ_INT(same(db, "SELECT a FROM t", "SELECT a FROM t; SELECT 1"), 0);
    CHECK_EQ_INT(same(db, "SELECT a FROM t", "SELECT a FROM t;"), 1);
    CHECK_EQ_INT(same(db, "SELECT nope FROM t", "SELECT a FROM t"), -1);
    /* Read only: writes are refused and change nothing. */
    CHECK_EQ_INT(same(db, "SELECT count(*) FROM t", "DELETE FROM t"), 0);
    CHECK_EQ_INT(same(db, "SELECT count(*) FROM t", "SELECT 5"), 1);
    /* A runaway query stops at the budget. */
    bool s = true;
    CHECK(eval_sql_same_result(db, "SELECT 1",
                               "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
                               "SELECT max(x) FROM c",
                               50, &s, &err) == 0);
    CHECK(!s);
    /* The second database state: rowids 0 mod 3 after the hash (7, 9 here)
     * deleted, 1 mod 3 (2, 4, 6, 8, 10) duplicated: counts 9:3, 5:8, 1:2. */
    sqlite3 *db2 = NULL;
    CHECK(eval_sql_open_perturbed(db_path, &db2, &err) == 0);
    if (db2) {
        const char *mode = "SELECT x FROM u GROUP BY x ORDER BY count(*) DESC LIMIT 1";
        CHECK_EQ_INT(same(db, mode, "SELECT max(x) FROM u"), 1);     /* rows match by accident */
        CHECK_EQ_INT(same(db2, mode, "SELECT max(x) FROM u"), 0);    /* caught on the copy */
        CHECK_EQ_INT(same(db2, mode, "SELECT 5"), 1);
        CHECK_EQ_INT(same(db2, "SELECT count(*) FROM u", "SELECT 13"), 1);
        CHECK_EQ_INT(same(db2, "SELECT count(*) FROM u WHERE x = 9", "SELECT 3"), 1);
        CHECK_EQ_INT(same(db2, "SELECT count(*) FROM u", "DELETE FROM u"), 0);   /* still read-only */
        CHECK_EQ_INT(same(db, "SELECT count(*) FROM u", "SELECT 10"), 1);       /* the file is untouched */
        sqlite3_close(db2);
        /* The scorer reports both: execution match 1, on both states 0. */
        eval_instance in = {.id = "u", .gold = (char *)mode, .db_path = db_path};
        eval_scorer *sc = NULL;
        double s1 = -1, s2 = -1;
        CHECK(eval_scorer_new(EVAL_SPIDER, &sc, &err) == 0 && eval_scorer_set_instance(sc, &in, &err) == 0);
        CHECK(eval_scorer_score2(sc, "SELECT max(x) FROM u;", 21, &s1, &s2, &err) == 0);
        CHECK(s1 == 1 && s2 == 0);
        CHECK(eval_scorer_score2(sc, "SELECT x FROM u GROUP BY x ORDER BY count(*) DESC LIMIT 1", 57, &s1, &s2, &err) == 0);
        CHECK(s1 == 1 && s2 == 1);
        CHECK(eval_scorer_score2(sc, "SELECT max(x) FROM u;", 21, &s1, &s2, &err) == 0);   /* cached */
        CHECK(s1 == 1 && s2 == 0);
        eval_scorer_free(sc);
    }
    sqlite3_close(db);
    unlink(db_path);
    CHECK(eval_sql_open("/nonexistent/x.sqlite", &db, &err) == -1);
    CHECK(eval_sql_open_perturbed("/nonexistent/x.sqlite", &db2, &err) == -1);
}

static void test_order_by(void)
{
    CHECK(eval_sql_has_order_by("SELECT a FROM t ORDER BY a"));
    CHECK(eval_sql_has_order_by("select a from t order\n  by a desc limit 3"));
    CHECK(!eval_sql_has_order_by("SELECT a FROM t"));
    CHECK(!eval_sql_has_order_by("SELECT * FROM (SELECT a FROM t ORDER BY a LIMIT 2)"));
    CHECK(!eval_sql_has_order_by("SELECT 'order by' FROM t"));
    CHECK(!eval_sql_has_order_by("SELECT border_by FROM t"));
    CHECK(!eval_sql_has_order_by("SELECT \"order by\" FROM t"));
    CHECK(eval_sql_has_order_by("SELECT a FROM t WHERE a IN (SELECT a FROM u) ORDER BY a"));
}

/* The posterior-weighted score: weights and scores that both vary, so a
 * plain mean of the scores (0.5) or a weighting by log-weights fails. */
static void test_weighted_score(void)
{
    double lw[2] = {0, log(3.0)}, sc[2] = {1, 0}, w[3];
    CHECK_NEAR(eval_weighted_score(lw, sc, 2, w), 0.25, 1e-12);
    CHECK_NEAR(w[0], 0.25, 1e-12);
    CHECK_NEAR(w[1], 0.75, 1e-12);
    /* Offsets cancel; -inf particles weigh 0; huge log-weights do not overflow. */
    double lw3[3] = {1000 + log(2.0), -INFINITY, 1000}, sc3[3] = {0.5, 1, 1};
    CHECK_NEAR(eval_weighted_score(lw3, sc3, 3, w), (2 * 0.5 + 1) / 3.0, 1e-12);
    double lw4[4] = {-5, -5 + log(4.0), -INFINITY, -5 + log(5.0)}, sc4[4] = {0.2, 0.7, 1, 0};
    CHECK_NEAR(eval_weighted_score(lw4, sc4, 4, NULL), (0.2 + 4 * 0.7) / 10, 1e-12);
    /* All dead: 0, every weight 0, no NaN. */
    double dead[2] = {-INFINITY, -INFINITY};
    CHECK(eval_weighted_score(dead, sc, 2, w) == 0);
    CHECK(w[0] == 0 && w[1] == 0);
}

static void test_stats(void)
{
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = 0.5;
    double lo, hi;
    eval_bootstrap_ci(x, 100, 2000, 7, &lo, &hi);
    CHECK_NEAR(lo, 0.5, 1e-12);
    CHECK_NEAR(hi, 0.5, 1e-12);
    CHECK_NEAR(eval_mean(x, 100), 0.5, 1e-12);
    CHECK_NEAR(eval_mean(x, 0), 0, 0);
    /* 50 zeros and 50 ones: the bootstrap distribution of the mean is
     * Binomial(100, 0.5)/100, whose 2.5% and 97.5% quantiles are 0.40 and
     * 0.60 (exact binomial quantiles). */
    for (int i = 0; i < 100; i++)
        x[i] = i < 50 ? 0 : 1;
    eval_bootstrap_ci(x, 100, 10000, 12345, &lo, &hi);
    CHECK_NEAR(lo, 0.40, 0.011);
    CHECK_NEAR(hi, 0.60, 0.011);
    double lo2, hi2;
    eval_bootstrap_ci(x, 100, 10000, 12345, &lo2, &hi2);
    CHECK(lo == lo2 && hi == hi2);   /* fixed seed: reproducible */
    /* Skewed data: 10 ones in 100 → quantiles of Binomial(100, 0.1)/100
     * are 0.05 and 0.16. */
    for (int i = 0; i < 100; i++)
        x[i] = i < 10;
    eval_bootstrap_ci(x, 100, 10000, 3, &lo, &hi);
    CHECK_NEAR(lo, 0.05, 0.011);
    CHECK_NEAR(hi, 0.16, 0.011);
    CHECK(lo <= eval_mean(x, 100) && eval_mean(x, 100) <= hi);
    eval_bootstrap_ci(x, 0, 100, 1, &lo, &hi);
    CHECK(lo == 0 && hi == 0);
}

static double score_of(eval_scorer *s, const char *text)
{
    double v = -1;
    smc_error err = {{0}};
    if (eval_scorer_score(s, text, strlen(text), &v, &err)) {
        fprintf(stderr, "score error: %s\n", err.msg);
        return -1;
    }
    return v;
}

static void test_tasks(void)
{
    const char *shared = test_shared_path("");
    if (!shared) {
        fprintf(stderr, "SKIP: task tests (../shared absent)\n");
        return;
    }
    smc_error err = {{0}};
    eval_instance *v = NULL;
    int n = 0;
    /* spider: prompt format and execution match */
    CHECK(eval_task_load(EVAL_SPIDER, shared, 3, &v, &n, &err) == 0);
    CHECK_EQ_INT(n, 3);
    if (n == 3) {
        CHECK_STR(v[0].prompt,
                  "-- Database: poker_player\n"
                  "CREATE TABLE poker_player (Poker_Player_ID, People_ID, Final_Table_Made, Best_Finish, "
                  "Money_Rank, Earnings);\n"
                  "CREATE TABLE people (People_ID, Nationality, Name, Birth_Date, Height);\n"
                  "\n-- Question: How many poker players are there?\n");
        eval_scorer *s = NULL;
        CHECK(eval_scorer_new(EVAL_SPIDER, &s, &err) == 0);
        CHECK(eval_scorer_set_instance(s, &v[0], &err) == 0);
        CHECK_NEAR(score_of(s, " SELECT count(*) FROM poker_player;"), 1, 0);
        CHECK_NEAR(score_of(s, "SELECT count(*) FROM people WHERE 0"), 0, 0);
        CHECK_NEAR(score_of(s, "garbage"), 0, 0);
        CHECK_NEAR(score_of(s, " SELECT count(*) FROM poker_player;"), 1, 0);   /* cached */
        for (int i = 1; i < n; i++) {
            CHECK(eval_scorer_set_instance(s, &v[i], &err) == 0);
            CHECK_NEAR(score_of(s, v[i].gold), 1, 0);
        }
        eval_scorer_free(s);
    }
    eval_instances_free(v, n);
    /* molecules */
    CHECK(eval_task_load(EVAL_MOLECULES, shared, 2, &v, &n, &err) == 0);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_INT(v[0].n_examples, 10);
        char head[256];
        snprintf(head, sizeof head, "Molecule: %s\nMolecule: %s\n", v[0].examples[0], v[0].examples[1]);
        CHECK(!strncmp(v[0].prompt, head, strlen(head)));
        size_t L = strlen(v[0].prompt);
        CHECK(L > 10 && !strcmp(v[0].prompt + L - 10, "\nMolecule:"));
        eval_scorer *s = NULL;
        CHECK(eval_scorer_new(EVAL_MOLECULES, &s, &err) == 0);
        CHECK(eval_scorer_set_instance(s, &v[0], &err) == 0);
        CHECK_NEAR(score_of(s, " CCO"), 1, 0);
        CHECK_NEAR(score_of(s, " C1CC"), 0, 0);
        eval_scorer_free(s);
    }
    eval_instances_free(v, n);
    /* blocksworld: the gold goal, and a reordering of it, are equivalent */
    CHECK(eval_task_load(EVAL_BLOCKSWORLD, shared, 3, &v, &n, &err) == 0);
    CHECK_EQ_INT(n, 3);
    eval_scorer *s = NULL;
    CHECK(eval_scorer_new(EVAL_BLOCKSWORLD, &s, &err) == 0);
    for (int i = 0; i < n; i++) {
        /* The prompt ends inside the goal, spelled as in the gold problem
         * (the training format): "<problem_prefix>    (:goal\n        (and". */
        const char *tail = "    (:goal\n        (and";
        size_t lp = strlen(v[i].prompt), lt = strlen(tail), lpb = strlen(v[i].problem) - 2;
        CHECK(lp > lt + lpb && !strcmp(v[i].prompt + lp - lt, tail));
        CHECK(!strncmp(v[i].prompt + lp - lt - lpb, v[i].problem, lpb));
        CHECK(eval_scorer_set_instance(s, &v[i], &err) == 0);
        const char *goal = strstr(v[i].gold, "(:goal"), *and_kw = strstr(v[i].gold, "(and");
        CHECK(goal != NULL && and_kw != NULL);
        if (goal)
            CHECK_NEAR(score_of(s, goal), 1, 0);
        if (and_kw)   /* what the model writes after the prompt */
            CHECK_NEAR(score_of(s, and_kw + 4), 1, 0);
    }
    if (n >= 1) {
        /* bw-dev-000's gold: b1 on the table, b3 on b1, b2 on b3, b2 clear. */
        CHECK(eval_scorer_set_instance(s, &v[0], &err) == 0);
        CHECK_NEAR(score_of(s, "\n    (:goal (and (clear b2) (on b2 b3) (on b3 b1) (on-table b1)))\n)\n"), 1, 0);
        CHECK_NEAR(score_of(s, "    (:goal (and (on b2 b3) (on b3 b1) (on-table b1)))\n)\n"), 1, 0);
        CHECK_NEAR(score_of(s, "    (:goal (and (on-table b1)))\n)\n"), 0, 0);
        CHECK_NEAR(score_of(s, "    (:goal (and (on b2 b1"), 0, 0);
        CHECK_NEAR(score_of(s, "\n        (on b2 b3) (on b3 b1) (on-table b1))\n    )\n)\n"), 1, 0);
        CHECK_NEAR(score_of(s, "\n        )\n    )\n)\n"), 0, 0);   /* an empty goal */
    }
    eval_scorer_free(s);
    eval_instances_free(v, n);
    /* pydata: the reference solution passes the hidden test, a wrong one fails */
    if (getenv("SMC_TEST_SANITIZED"))
        return;
    /* pydata: the critic refuses a complete program that never assigns result */
    smc_py_critic *py = NULL;
    if (eval_python() && smc_py_open(eval_python(), "import math\n", eval_pydata_critic_test, &py, &err) == 0) {
        CHECK(smc_py_check(py, "x = math.pi\n", 12, true, NULL, 0) == SMC_VERDICT_INVALID);
        CHECK(smc_py_check(py, "x = math.pi\n", 12, false, NULL, 0) == SMC_VERDICT_PREFIX);
        CHECK(smc_py_check(py, "result = math.pi\n", 17, true, NULL, 0) == SMC_VERDICT_COMPLETE);
        CHECK(smc_py_check(py, "def f():\n    result = 1\nf()\n", 28, true, NULL, 0) == SMC_VERDICT_INVALID);
        smc_py_close(py);
    } else
        fprintf(stderr, "SKIP: pydata critic (no python3)\n");
    CHECK(eval_task_load(EVAL_PYDATA, shared, 1, &v, &n, &err) == 0);
    if (n == 1) {
        CHECK(eval_scorer_new(EVAL_PYDATA, &s, &err) == 0);
        if (eval_scorer_set_instance(s, &v[0], &err) == 0) {
            CHECK_NEAR(score_of(s, v[0].gold), 1, 0);
            CHECK_NEAR(score_of(s, "result = 0\n"), 0, 0);
            CHECK_NEAR(score_of(s, "result = ("), 0, 0);
        } else
            fprintf(stderr, "SKIP: pydata scorer (%s)\n", err.msg);
        eval_scorer_free(s);
    }
    eval_instances_free(v, n);
}

void run_tests(void)
{
    test_sql();
    test_order_by();
    test_weighted_score();
    test_stats();
    test_tasks();
}
