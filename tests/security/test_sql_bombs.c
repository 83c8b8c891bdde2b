/* test_sql_bombs.c — time bombs in SQL: queries written to outlast the SQL
 * critic's budget (a quadratic function over the longest strings SQLite may
 * build, a prepare that names thousands of CTEs, a prefix nested thousands
 * of levels deep) are refused or stopped, each within a bound far below what
 * they cost without the limits (seconds to tens of seconds). The bound is on
 * this thread's CPU time, not the wall clock, so a loaded machine does not
 * make it fail. */
#include "test.h"
#include "potentials/sql_db.h"
#include "smcgen.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char db_path[256];

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* text = head + n copies of unit + tail, malloc'd */
static char *repeat(const char *head, const char *unit, int n, const char *tail)
{
    size_t hn = strlen(head), un = strlen(unit), tn = strlen(tail);
    char *s = malloc(hn + un * (size_t)n + tn + 1), *p = s;
    if (!s)
        return NULL;
    memcpy(p, head, hn), p += hn;
    for (int i = 0; i < n; i++)
        memcpy(p, unit, un), p += un;
    memcpy(p, tail, tn + 1);
    return s;
}

/* Checks q as a complete query; returns the verdict, its reason and the CPU
 * time it took. */
static smc_verdict timed(smc_sql_db *db, const char *q, bool complete, char *why, size_t cap, double *ms)
{
    double t0 = now_ms();
    smc_verdict v = smc_sql_check(db, q, strlen(q), complete, why, cap);
    *ms = now_ms() - t0;
    return v;
}

void run_tests(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/smc_test_sql_bombs_%d.sqlite", (int)getpid());
    unlink(db_path);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open(db_path, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "CREATE TABLE t(a TEXT); INSERT INTO t VALUES ('x'),('y');", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(h);
    smc_sql_db *db = NULL;
    smc_error err;
    if (smc_sql_open(db_path, &db, &err) < 0) {
        CHECK_MSG(false, "%s", err.msg);
        return;
    }
    smc_sql_set_budget_ms(db, 200);
    char why[256];
    double ms;

    /* one long function call: instr over strings longer than SQLite may
     * build (without the limits: 600 kB strings take seconds, 1 MB 16 s;
     * with them printf's result is cut short, so the call is quick) */
    const char *instr_bomb =
        "SELECT instr(replace(printf('%-600000s','a'),' ','a'), replace(printf('%-300000s','a'),' ','a')||'b')";
    CHECK(timed(db, instr_bomb, true, why, sizeof why, &ms) != SMC_VERDICT_PREFIX);
    CHECK_MSG(ms < 3000, "instr bomb took %.0f ms of CPU", ms);
    /* the same at the largest allowed size: still stopped close to budget */
    const char *instr_max =
        "SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c "
        "WHERE instr(replace(printf('%-60000s','a'),' ','a'), replace(printf('%-30000s','a'),' ','a')||'b') = 0)";
    CHECK(timed(db, instr_max, true, why, sizeof why, &ms) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "budget"), "reason: %s", why);
    CHECK_MSG(ms < 3000, "repeated instr took %.0f ms of CPU", ms);

    /* prepare: 30,000 CTEs (7 s in prepare without the limits) */
    char *ctes = repeat("WITH a0(x) AS (SELECT 1)", ", a(x) AS (SELECT 1)", 30000, " SELECT * FROM a0");
    CHECK(ctes && timed(db, ctes, true, why, sizeof why, &ms) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "longer than"), "reason: %s", why);
    CHECK_MSG(ms < 3000, "30000 CTEs took %.0f ms of CPU", ms);
    free(ctes);
    /* as many CTEs as fit under the length limit: prepare stays bounded */
    ctes = repeat("WITH a0(x) AS (SELECT 1)", ",a(x)AS(SELECT 1)", 900, " SELECT * FROM a0");
    CHECK(ctes && timed(db, ctes, true, why, sizeof why, &ms) != SMC_VERDICT_PREFIX);
    CHECK_MSG(ms < 3000, "900 CTEs took %.0f ms of CPU", ms);
    free(ctes);

    /* the prefix check: a 20,000-deep IN (SELECT ... (9.5 s per check
     * without the cap) is refused for its length; 500 levels (all that fit)
     * for their depth, at once; SQLite's parser refuses both */
    char *deep = repeat("SELECT a FROM t WHERE a IN (", "SELECT a FROM t WHERE a IN (", 20000, "");
    CHECK(deep && timed(db, deep, false, why, sizeof why, &ms) == SMC_VERDICT_INVALID);
    CHECK_MSG(ms < 3000, "deep prefix took %.0f ms of CPU", ms);
    free(deep);
    deep = repeat("SELECT a FROM t WHERE a IN (", "SELECT a FROM t WHERE a IN (", 500, "");
    CHECK(deep && timed(db, deep, false, why, sizeof why, &ms) == SMC_VERDICT_INVALID);
    CHECK_MSG(strstr(why, "nested deeper"), "reason: %s", why);
    CHECK_MSG(ms < 3000, "deep prefix took %.0f ms of CPU", ms);
    free(deep);
    char *fits = repeat("SELECT a FROM t WHERE a IN (", "SELECT a FROM t WHERE a IN (", 5, "SELECT 'x'))))))");
    CHECK(fits && timed(db, fits, true, why, sizeof why, &ms) == SMC_VERDICT_COMPLETE);
    free(fits);
    /* a LIKE pattern longer than the limit is an error, not a slow match */
    char *like = repeat("SELECT a FROM t WHERE a LIKE '", "%a", 1000, "b'");
    CHECK(like && timed(db, like, true, why, sizeof why, &ms) == SMC_VERDICT_INVALID);
    free(like);

    /* ordinary queries still work after the interruptions */
    CHECK(smc_sql_check(db, "SELECT a FROM t ORDER BY a", 26, true, why, sizeof why) == SMC_VERDICT_COMPLETE);
    CHECK_EQ_INT(smc_sql_count_rows(db, "SELECT group_concat(a) FROM t", 29, NULL, 0), 1);
    smc_sql_close(db);
    unlink(db_path);
}
