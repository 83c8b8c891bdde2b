/* test_sql_early.c — the SQL critic decides a qualified column as soon as
 * its qualifier is a written-out alias of a schema table in its own scope
 * (not when FROM ends or at ';'), refuses a reused alias, and still waits
 * where a later token could make the query valid (an alias being typed, a
 * correlated reference an inner FROM may shadow, a derived table). */
#include "test.h"
#include "smcgen.h"

#include <sqlite3.h>
#include <unistd.h>

static char db_path[256];
static smc_sql_db *db;

static smc_verdict pre(const char *q, char *why, size_t cap)
{
    return smc_sql_check(db, q, strlen(q), false, why, cap);
}

void run_tests(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/smc_test_sql_early_%d.sqlite", (int)getpid());
    unlink(db_path);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open(db_path, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h,
                       "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, age INTEGER);"
                       "CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, singer_id INTEGER, year INTEGER);",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(h);
    smc_error err = {{0}};
    if (smc_sql_open(db_path, &db, &err) < 0) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    char why[200];
    /* decided when the alias is written */
    const char *early[][2] = {
        {"SELECT T1.nme FROM singer AS T1 ", "no such column: T1.nme"},
        {"SELECT T1.year FROM singer T1 ", "no such column: T1.year"},
        {"SELECT T1.name, T2.age FROM singer AS T1 JOIN concert AS T2 ", "no such column: T2.age"},
        {"SELECT count(*) FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.name ", "no such column: T2.name"},
        {"SELECT T1.name FROM singer AS T1 JOIN concert AS T1 ", "names two sources"},
        {"SELECT a.name FROM singer AS a, concert AS A ", "names two sources"},
        {"SELECT T1.name FROM concert AS singer JOIN singer JOIN", "names two sources"},
    };
    for (size_t i = 0; i < sizeof early / sizeof early[0]; i++) {
        why[0] = 0;
        CHECK_MSG(pre(early[i][0], why, sizeof why) == SMC_VERDICT_INVALID, "not rejected: %s", early[i][0]);
        CHECK_MSG(strstr(why, early[i][1]) != NULL, "%s: reason '%s' lacks '%s'", early[i][0], why, early[i][1]);
    }
    /* not yet decidable: each has a valid completion */
    const char *wait[] = {
        "SELECT T1.year FROM singer AS T1",                    /* T1 may become T10 */
        "SELECT T10.year FROM singer AS T1 JOIN concert AS T10 ",
        "SELECT T2.year FROM singer AS T1 ",                   /* T2 may come */
        "SELECT name FROM singer AS T1 WHERE EXISTS (SELECT T1.year FROM concert AS T2 ", /* JOIN x AS T1 */
        "SELECT t.year FROM (SELECT year FROM concert) AS t ",
        "SELECT concert.name FROM singer AS concert ",         /* an alias hides the table */
        "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id ",
    };
    for (size_t i = 0; i < sizeof wait / sizeof wait[0]; i++)
        CHECK_MSG(pre(wait[i], why, sizeof why) == SMC_VERDICT_PREFIX, "rejected too early: %s (%s)", wait[i], why);
    smc_sql_close(db);
    unlink(db_path);
}
