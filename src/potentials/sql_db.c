/* sql_db.c — the SQL critic's database side: a SQLite file opened read-only
 * behind an authorizer that allows only reads and a whitelist of pure
 * functions, hard limits on what one query may be and build (its length,
 * string sizes, expression depth, program size), a time budget enforced by
 * a progress handler and by a watchdog thread that interrupts the statement
 * (so it holds during prepare too), the schema (tables and columns), the
 * prefix check (sql_scope.c) and the complete check, which prepares and runs
 * the query. */
#include "potentials/sql_db.h"
#include "potentials/sql_scope.h"
#include "smcgen.h"
#include "util/error.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct smc_sql_db {
    sqlite3 *h;
    sql_schema schema;
    double budget_ms;
    struct timespec deadline;
    atomic_bool timed_out;
    /* the watchdog: interrupts the statement at the deadline, even inside
     * one long function call's successors or during prepare */
    pthread_t dog;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool dog_started, armed, quit;
};

/* What one query may be: the task's queries are a few hundred bytes and
 * their values short. SQLITE_LIMIT_LENGTH bounds every string a function
 * builds, and so the worst single call of a quadratic function (instr,
 * replace: about 80 ms at 64 KiB); the rest bound prepare. */
enum {
    SQL_MAX_TEXT = 16 << 10,
    SQL_MAX_VALUE = 64 << 10,
    SQL_MAX_LIKE_PATTERN = 1000,
    SQL_MAX_EXPR_DEPTH = 200,
    SQL_MAX_COMPOUND = 100,
    SQL_MAX_VDBE_OPS = 250000,
    SQL_MAX_FUNCTION_ARGS = 64,
};

static const char *const SAFE_FUNCTIONS[] = {
    "abs", "acos", "asin", "atan", "atan2", "avg", "cast", "ceil", "ceiling", "char", "coalesce", "concat",
    "concat_ws", "cos", "count", "degrees", "exp", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power",
    "radians", "sin", "sqrt", "tan", "trunc",
    "cume_dist", "date", "datetime", "dense_rank", "first_value", "floor", "format", "glob",
    "group_concat", "hex", "ifnull", "iif", "instr", "julianday", "lag", "last_value", "lead",
    "length", "like", "likelihood", "likely", "lower", "ltrim", "max", "min", "nth_value", "ntile",
    "nullif", "percent_rank", "printf", "quote", "rank", "replace", "round", "row_number", "rtrim",
    "sign", "strftime", "string_agg", "substr", "substring", "sum", "time", "total", "trim", "typeof",
    "unicode", "unixepoch", "unlikely", "upper"};

bool sql_function_allowed(const char *name)
{
    if (!name)
        return false;
    for (size_t i = 0; i < sizeof SAFE_FUNCTIONS / sizeof SAFE_FUNCTIONS[0]; i++)
        if (strcasecmp(name, SAFE_FUNCTIONS[i]) == 0)
            return true;
    return false;
}

/* Reads only: SELECT, reading columns, recursive CTEs, whitelisted
 * functions. Everything else (writes, ATTACH, PRAGMA, schema changes,
 * transactions, load_extension and any other function) is denied. */
static int authorize(void *ud, int action, const char *a1, const char *a2, const char *dbname, const char *trig)
{
    (void)ud; (void)a1; (void)dbname; (void)trig;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        return sql_function_allowed(a2) ? SQLITE_OK : SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}

static double ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(deadline->tv_sec - now.tv_sec) * 1e3 + (double)(deadline->tv_nsec - now.tv_nsec) / 1e6;
}

static int progress(void *ud)
{
    smc_sql_db *db = ud;
    if (ms_left(&db->deadline) < 0) {
        atomic_store(&db->timed_out, true);
        return 1; /* interrupt */
    }
    return 0;
}

static void *watchdog(void *ud)
{
    smc_sql_db *db = ud;
    pthread_mutex_lock(&db->mu);
    while (!db->quit) {
        if (!db->armed) {
            pthread_cond_wait(&db->cv, &db->mu);
            continue;
        }
        if (ms_left(&db->deadline) > 0) {
            pthread_cond_timedwait(&db->cv, &db->mu, &db->deadline);
            continue;
        }
        atomic_store(&db->timed_out, true);
        sqlite3_interrupt(db->h);
        db->armed = false;
    }
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

static int start_watchdog(smc_sql_db *db)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&db->cv, &a);
    pthread_condattr_destroy(&a);
    if (rc != 0)
        return -1;
    pthread_mutex_init(&db->mu, NULL);
    if (pthread_create(&db->dog, NULL, watchdog, db) != 0) {
        pthread_cond_destroy(&db->cv);
        pthread_mutex_destroy(&db->mu);
        return -1;
    }
    db->dog_started = true;
    return 0;
}

static void stop_clock(smc_sql_db *db)
{
    pthread_mutex_lock(&db->mu);
    db->armed = false;
    pthread_mutex_unlock(&db->mu);
}

static void start_clock(smc_sql_db *db)
{
    pthread_mutex_lock(&db->mu);
    clock_gettime(CLOCK_MONOTONIC, &db->deadline);
    long long ns = (long long)(db->budget_ms * 1e6);
    db->deadline.tv_sec += (time_t)(ns / 1000000000LL);
    db->deadline.tv_nsec += (long)(ns % 1000000000LL);
    if (db->deadline.tv_nsec >= 1000000000L) {
        db->deadline.tv_sec++;
        db->deadline.tv_nsec -= 1000000000L;
    }
    atomic_store(&db->timed_out, false);
    db->armed = true;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static int load_schema(smc_sql_db *db, smc_error *err)
{
    sqlite3_stmt *tables = NULL, *cols = NULL;
    int r = -1;
    if (sqlite3_prepare_v2(db->h,
                           "SELECT name FROM sqlite_master WHERE type IN ('table','view') "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
                           -1, &tables, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->h, "SELECT name FROM pragma_table_info(?)", -1, &cols, NULL) != SQLITE_OK) {
        smc_fail(err, "reading the schema: %s", sqlite3_errmsg(db->h));
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(tables)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        if (!name)
            continue;
        sql_table_info *v = realloc(db->schema.tables, ((size_t)db->schema.n_tables + 1) * sizeof *v);
        if (!v) {
            smc_fail(err, "out of memory");
            goto out;
        }
        db->schema.tables = v;
        sql_table_info *t = &v[db->schema.n_tables++];
        memset(t, 0, sizeof *t);
        t->name = dupstr(name);
        if (!t->name) {
            smc_fail(err, "out of memory");
            goto out;
        }
        sqlite3_reset(cols);
        sqlite3_bind_text(cols, 1, name, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            const char *c = (const char *)sqlite3_column_text(cols, 0);
            if (!c)
                continue;
            char **cv = realloc(t->cols, ((size_t)t->n_cols + 1) * sizeof *cv);
            if (!cv || !(cv[t->n_cols] = dupstr(c))) {
                if (cv)
                    t->cols = cv;
                smc_fail(err, "out of memory");
                goto out;
            }
            t->cols = cv;
            t->n_cols++;
        }
    }
    if (rc != SQLITE_DONE) {
        smc_fail(err, "reading the schema: %s", sqlite3_errmsg(db->h));
        goto out;
    }
    r = 0;
out:
    sqlite3_finalize(tables);
    sqlite3_finalize(cols);
    return r;
}

/* Which allowed functions this SQLite accepts as f(*) (count, and the
 * functions that may take no argument): asked of SQLite itself, so the
 * prefix check agrees with prepare() whatever the library's version. */
static int load_star_functions(smc_sql_db *db, smc_error *err)
{
    for (size_t i = 0; i < sizeof SAFE_FUNCTIONS / sizeof SAFE_FUNCTIONS[0]; i++) {
        bool ok = false;
        for (int form = 0; form < 2 && !ok; form++) {
            char q[96];
            snprintf(q, sizeof q, form ? "SELECT %s(*) OVER ()" : "SELECT %s(*)", SAFE_FUNCTIONS[i]);
            sqlite3_stmt *st = NULL;
            ok = sqlite3_prepare_v2(db->h, q, -1, &st, NULL) == SQLITE_OK && st;
            sqlite3_finalize(st);
        }
        if (!ok)
            continue;
        char **v = realloc(db->schema.star_fns, ((size_t)db->schema.n_star_fns + 1) * sizeof *v);
        if (!v)
            return smc_fail(err, "out of memory");
        db->schema.star_fns = v;
        if (!(v[db->schema.n_star_fns] = dupstr(SAFE_FUNCTIONS[i])))
            return smc_fail(err, "out of memory");
        db->schema.n_star_fns++;
    }
    return 0;
}

int smc_sql_open(const char *path, smc_sql_db **out, smc_error *err)
{
    *out = NULL;
    if (!path)
        return smc_fail(err, "no database path");
    smc_sql_db *db = calloc(1, sizeof *db);
    if (!db)
        return smc_fail(err, "out of memory");
    db->budget_ms = 1000.0;
    int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        smc_fail(err, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        smc_sql_close(db);
        return -1;
    }
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
#endif
    sqlite3_limit(db->h, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(db->h, SQLITE_LIMIT_SQL_LENGTH, SQL_MAX_TEXT);
    sqlite3_limit(db->h, SQLITE_LIMIT_LENGTH, SQL_MAX_VALUE);
    sqlite3_limit(db->h, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, SQL_MAX_LIKE_PATTERN);
    sqlite3_limit(db->h, SQLITE_LIMIT_EXPR_DEPTH, SQL_MAX_EXPR_DEPTH);
    sqlite3_limit(db->h, SQLITE_LIMIT_COMPOUND_SELECT, SQL_MAX_COMPOUND);
    sqlite3_limit(db->h, SQLITE_LIMIT_VDBE_OP, SQL_MAX_VDBE_OPS);
    sqlite3_limit(db->h, SQLITE_LIMIT_FUNCTION_ARG, SQL_MAX_FUNCTION_ARGS);
    if (load_schema(db, err) < 0 || load_star_functions(db, err) < 0) {
        smc_fail_context(err, "%s", path);
        smc_sql_close(db);
        return -1;
    }
    sqlite3_set_authorizer(db->h, authorize, db);
    sqlite3_progress_handler(db->h, 1000, progress, db);
    if (start_watchdog(db) < 0) {
        smc_sql_close(db);
        return smc_fail(err, "%s: cannot start the query watchdog", path);
    }
    *out = db;
    return 0;
}

void smc_sql_close(smc_sql_db *db)
{
    if (!db)
        return;
    if (db->dog_started) {
        pthread_mutex_lock(&db->mu);
        db->quit = true;
        pthread_cond_signal(&db->cv);
        pthread_mutex_unlock(&db->mu);
        pthread_join(db->dog, NULL);
        pthread_cond_destroy(&db->cv);
        pthread_mutex_destroy(&db->mu);
    }
    sqlite3_close_v2(db->h);
    sql_schema_free(&db->schema);
    free(db);
}

void smc_sql_set_budget_ms(smc_sql_db *db, double ms)
{
    if (db)
        db->budget_ms = ms > 0 ? ms : 0;
}

int smc_sql_n_tables(const smc_sql_db *db) { return db ? db->schema.n_tables : 0; }

const char *smc_sql_table_name(const smc_sql_db *db, int t)
{
    return db && t >= 0 && t < db->schema.n_tables ? db->schema.tables[t].name : NULL;
}

int smc_sql_n_columns(const smc_sql_db *db, int t)
{
    return db && t >= 0 && t < db->schema.n_tables ? db->schema.tables[t].n_cols : 0;
}

const char *smc_sql_column_name(const smc_sql_db *db, int t, int c)
{
    if (!db || t < 0 || t >= db->schema.n_tables || c < 0 || c >= db->schema.tables[t].n_cols)
        return NULL;
    return db->schema.tables[t].cols[c];
}

const sql_schema *sql_db_schema(const smc_sql_db *db) { return db ? &db->schema : NULL; }

static void set_reason(char *reason, size_t cap, const char *fmt, const char *arg)
{
    if (reason && cap)
        snprintf(reason, cap, fmt, arg ? arg : "");
}

static bool too_long(size_t n, char *reason, size_t cap)
{
    if (n <= (size_t)SQL_MAX_TEXT)
        return false;
    char msg[64];
    snprintf(msg, sizeof msg, "query longer than %d bytes", SQL_MAX_TEXT);
    set_reason(reason, cap, "%s", msg);
    return true;
}

/* Only whitespace, ';' and comments after the statement. */
static bool only_trailer(const char *p, const char *end)
{
    while (p < end) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';' || *p == '\f' || *p == '\v') {
            p++;
        } else if (p + 1 < end && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n')
                p++;
        } else if (p + 1 < end && p[0] == '/' && p[1] == '*') {
            const char *q = p + 2;
            while (q + 1 < end && !(q[0] == '*' && q[1] == '/'))
                q++;
            if (q + 1 >= end)
                return true; /* unterminated comment: SQLite ignores it */
            p = q + 2;
        } else {
            return false;
        }
    }
    return true;
}

static smc_verdict prepare_and_run(smc_sql_db *db, const char *text, size_t n, char *reason, size_t cap,
                                   long *rows);

static smc_verdict run_query(smc_sql_db *db, const char *text, size_t n, char *reason, size_t cap, long *rows)
{
    *rows = 0;
    if (too_long(n, reason, cap))
        return SMC_VERDICT_INVALID;
    start_clock(db);
    smc_verdict v = prepare_and_run(db, text, n, reason, cap, rows);
    stop_clock(db);
    return v;
}

static void budget_reason(smc_sql_db *db, char *reason, size_t cap)
{
    char msg[96];
    snprintf(msg, sizeof msg, "time budget of %.0f ms exceeded", db->budget_ms);
    set_reason(reason, cap, "%s", msg);
}

static smc_verdict prepare_and_run(smc_sql_db *db, const char *text, size_t n, char *reason, size_t cap, long *rows)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(db->h, text, (int)n, &st, &tail);
    if (rc != SQLITE_OK) {
        if (atomic_load(&db->timed_out) || rc == SQLITE_INTERRUPT)
            budget_reason(db, reason, cap);
        else
            set_reason(reason, cap, "%s", sqlite3_errmsg(db->h));
        sqlite3_finalize(st);
        return SMC_VERDICT_INVALID;
    }
    if (!st) {
        set_reason(reason, cap, "no statement%s", NULL);
        return SMC_VERDICT_INVALID;
    }
    if (tail && !only_trailer(tail, text + n)) {
        sqlite3_finalize(st);
        set_reason(reason, cap, "only one statement is allowed%s", NULL);
        return SMC_VERDICT_INVALID;
    }
    if (!sqlite3_stmt_readonly(st)) {
        sqlite3_finalize(st);
        set_reason(reason, cap, "not a read-only query%s", NULL);
        return SMC_VERDICT_INVALID;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        (*rows)++;
    smc_verdict v = SMC_VERDICT_COMPLETE;
    if (rc != SQLITE_DONE) {
        if (atomic_load(&db->timed_out) || rc == SQLITE_INTERRUPT) {
            budget_reason(db, reason, cap);
        } else {
            set_reason(reason, cap, "%s", sqlite3_errmsg(db->h));
        }
        v = SMC_VERDICT_INVALID;
    }
    sqlite3_finalize(st);
    return v;
}

smc_verdict smc_sql_check(smc_sql_db *db, const char *text, size_t n, bool complete, char *reason, size_t reason_cap)
{
    if (reason && reason_cap)
        reason[0] = '\0';
    if (!db) {
        set_reason(reason, reason_cap, "no database%s", NULL);
        return SMC_VERDICT_INVALID;
    }
    if (!text)
        text = "", n = 0;
    if (too_long(n, reason, reason_cap)) /* no completion can be short enough */
        return SMC_VERDICT_INVALID;
    if (sql_scope_check(&db->schema, text, n, reason, reason_cap) < 0)
        return SMC_VERDICT_INVALID;
    if (!complete)
        return SMC_VERDICT_PREFIX;
    long rows;
    return run_query(db, text, n, reason, reason_cap, &rows);
}

long smc_sql_count_rows(smc_sql_db *db, const char *text, size_t n, char *reason, size_t reason_cap)
{
    long rows = 0;
    if (!db || !text)
        return -1;
    return run_query(db, text, n, reason, reason_cap, &rows) == SMC_VERDICT_COMPLETE ? rows : -1;
}
