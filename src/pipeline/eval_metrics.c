/* eval_metrics.c — per-sample metrics of the eval tasks (SQL execution
 * match, Blocksworld goal equivalence, Python hidden tests, SMILES validity)
 * and the mean / bootstrap-interval statistics. */
#include "pipeline/eval_metrics.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

/* ---- SQL -------------------------------------------------------------- */

static int authorize(void *ud, int action, const char *a, const char *b, const char *c, const char *d)
{
    (void)ud, (void)a, (void)b, (void)c, (void)d;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    default:
        return SQLITE_DENY;
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int past_deadline(void *ud)
{
    return now_ms() > *(const double *)ud;
}

int eval_sql_open(const char *path, sqlite3 **out, smc_error *err)
{
    *out = NULL;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc = smc_fail(err, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_set_authorizer(db, authorize, NULL);
    *out = db;
    return 0;
}

/* The second database state: an in-memory copy of path where, in every
 * table, the rows whose rowid is 0 mod 3 (after a fixed hash) are deleted
 * and those that are 1 mod 3 inserted once more (ignored where a key
 * forbids it), so counts, maxima and orders shift while the schema and
 * every value's type stay. Spider's test-suite evaluation does the same
 * with many generated databases. Read-only afterwards. */
int eval_sql_open_perturbed(const char *path, sqlite3 **out, smc_error *err)
{
    *out = NULL;
    sqlite3 *src = NULL, *db = NULL;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_open(":memory:", &db) != SQLITE_OK) {
        int rc = smc_fail(err, "%s: %s", path, src ? sqlite3_errmsg(src) : "cannot open");
        sqlite3_close(src);
        sqlite3_close(db);
        return rc;
    }
    sqlite3_backup *b = sqlite3_backup_init(db, "main", src, "main");
    int brc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    sqlite3_backup_finish(b);
    sqlite3_close(src);
    if (brc != SQLITE_DONE) {
        sqlite3_close(db);
        return smc_fail(err, "%s: cannot copy the database", path);
    }
    sqlite3_stmt *st = NULL;
    char **names = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                               "ORDER BY name", -1, &st, NULL) == SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW) {
            char **g = realloc(names, (size_t)(n + 1) * sizeof *g);
            if (!g)
                break;
            names = g;
            names[n++] = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
        }
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++) {
        /* WITHOUT ROWID tables have no rowid: those statements fail and the
         * table stays as it was. */
        char *q = sqlite3_mprintf("DELETE FROM \"%w\" WHERE ((rowid * 2654435761) %% 1000003) %% 3 = 0;"
                                  "INSERT OR IGNORE INTO \"%w\" SELECT * FROM \"%w\" "
                                  "WHERE ((rowid * 2654435761) %% 1000003) %% 3 = 1;",
                                  names[i], names[i], names[i]);
        if (q)
            sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
        if (q)
            sqlite3_exec(db, q, NULL, NULL, NULL);
        sqlite3_free(q);
        sqlite3_free(names[i]);
    }
    free(names);
    sqlite3_set_authorizer(db, authorize, NULL);
    *out = db;
    return 0;
}

bool eval_sql_has_order_by(const char *sql)
{
    int depth = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            continue;
        }
        if (*p == '\'' || *p == '"' || *p == '`') {
            quote = *p;
            continue;
        }
        if (*p == '[') {
            quote = ']';
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth -= depth > 0;
        else if (depth == 0 && !strncasecmp(p, "order", 5) && (p == sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
            const char *q = p + 5;
            if (!isspace((unsigned char)*q))
                continue;
            while (isspace((unsigned char)*q))
                q++;
            if (!strncasecmp(q, "by", 2) && !(isalnum((unsigned char)q[2]) || q[2] == '_'))
                return true;
        }
    }
    return false;
}

typedef struct rows {
    char **v;
    size_t n, cap;
} rows;

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    free(r->v);
    memset(r, 0, sizeof *r);
}

/* A REAL at full precision: integral values within ±2^53 as integers (so
 * 5.0 equals the INTEGER 5, as in Spider's evaluation where 5 == 5.0), the
 * rest with 17 significant digits (the double round-trips exactly). */
static void put_real(FILE *m, double d)
{
    if (d == floor(d) && fabs(d) <= 9007199254740992.0)
        fprintf(m, "%lld", (long long)d);
    else
        fprintf(m, "%.17g", d);
}

/* Runs sql and collects each row as one string: exact integers, exact
 * reals (put_real), tagged text, NULL. 0 ok, -1 failure. */
static int run_rows(sqlite3 *db, const char *sql, double budget_ms, rows *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK || !st) {
        sqlite3_finalize(st);
        return -1;
    }
    while (tail && (isspace((unsigned char)*tail) || *tail == ';'))
        tail++;
    if (tail && *tail) {   /* a second statement */
        sqlite3_finalize(st);
        return -1;
    }
    double deadline = now_ms() + budget_ms;
    sqlite3_progress_handler(db, 1000, past_deadline, &deadline);
    int rc, ncol = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
            break;
        for (int c = 0; c < ncol; c++) {
            if (c)
                fputc('\x1f', m);
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_NULL: fputs("\x01null", m); break;
            case SQLITE_INTEGER: fprintf(m, "%lld", (long long)sqlite3_column_int64(st, c)); break;
            case SQLITE_FLOAT: put_real(m, sqlite3_column_double(st, c)); break;
            default: /* text (and blobs): tagged, so '1' never equals 1 */
                fputc('\x02', m);
                fwrite(sqlite3_column_blob(st, c), 1, (size_t)sqlite3_column_bytes(st, c), m);
            }
        }
        fclose(m);
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            char **g = realloc(out->v, cap * sizeof *g);
            if (!g) {
                free(buf);
                break;
            }
            out->v = g;
            out->cap = cap;
        }
        out->v[out->n++] = buf;
    }
    sqlite3_progress_handler(db, 0, NULL, NULL);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        rows_free(out);
        return -1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int eval_sql_same_result(sqlite3 *db, const char *gold, const char *pred, double budget_ms, bool *same,
                         smc_error *err)
{
    *same = false;
    rows g, p;
    if (run_rows(db, gold, budget_ms, &g))
        return smc_fail(err, "the gold query fails: %s", sqlite3_errmsg(db));
    if (run_rows(db, pred, budget_ms, &p)) {
        rows_free(&g);
        return 0;
    }
    if (g.n == p.n) {
        if (!eval_sql_has_order_by(gold)) {
            if (g.n) {
                qsort(g.v, g.n, sizeof *g.v, cmp_str);
                qsort(p.v, p.n, sizeof *p.v, cmp_str);
            }
        }
        *same = true;
        for (size_t i = 0; i < g.n && *same; i++)
            *same = !strcmp(g.v[i], p.v[i]);
    }
    rows_free(&g);
    rows_free(&p);
    return 0;
}

/* ---- statistics ---------------------------------------------------------- */

double eval_weighted_score(const double *logw, const double *score, int n, double *weights)
{
    double m = -INFINITY;
    for (int i = 0; i < n; i++)
        if (logw[i] > m)
            m = logw[i];
    double z = 0;
    for (int i = 0; i < n; i++)
        z += isfinite(m) && isfinite(logw[i]) ? exp(logw[i] - m) : 0;
    double ws = 0;
    for (int i = 0; i < n; i++) {
        double w = z > 0 && isfinite(logw[i]) ? exp(logw[i] - m) / z : 0;
        if (weights)
            weights[i] = w;
        ws += w * score[i];
    }
    return ws;
}

double eval_mean(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return n ? s / n : 0;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void eval_bootstrap_ci(const double *x, int n, int resamples, uint64_t seed, double *lo, double *hi)
{
    *lo = *hi = n ? x[0] : 0;
    if (n <= 1 || resamples < 2)
        return;
    double *means = malloc((size_t)resamples * sizeof *means);
    if (!means) {
        *lo = *hi = eval_mean(x, n);
        return;
    }
    uint64_t st = seed;
    for (int b = 0; b < resamples; b++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += x[splitmix64(&st) % (uint64_t)n];
        means[b] = s / n;
    }
    qsort(means, (size_t)resamples, sizeof *means, cmp_double);
    int il = (int)(0.025 * (resamples - 1) + 0.5), ih = (int)(0.975 * (resamples - 1) + 0.5);
    *lo = means[il];
    *hi = means[ih];
    free(means);
}

const char *eval_python(void)
{
    const char *env = getenv("SMCGEN_PYTHON");
    if (env && *env)
        return env;
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : NULL;
}

/* ---- scorers ------------------------------------------------------------- */

typedef struct cached {
    char *text;
    double score, strict;
} cached;

struct eval_scorer {
    eval_task_kind task;
    const eval_instance *in;
    sqlite3 *db, *db2;  /* spider: the database and its perturbed copy */
    char *db_path;
    bool gold_failed;
    smc_bw_problem *bw;
    smc_py_critic *py;
    cached *cache;
    size_t n_cache, cap_cache;
};

int eval_scorer_new(eval_task_kind t, eval_scorer **out, smc_error *err)
{
    eval_scorer *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    s->task = t;
    *out = s;
    return 0;
}

static void clear_cache(eval_scorer *s)
{
    for (size_t i = 0; i < s->n_cache; i++)
        free(s->cache[i].text);
    s->n_cache = 0;
}

int eval_scorer_set_instance(eval_scorer *s, const eval_instance *in, smc_error *err)
{
    clear_cache(s);
    s->in = in;
    s->gold_failed = false;
    switch (s->task) {
    case EVAL_SPIDER:
        if (!s->db_path || strcmp(s->db_path, in->db_path)) {
            sqlite3_close(s->db);
            sqlite3_close(s->db2);
            s->db = s->db2 = NULL;
            free(s->db_path);
            s->db_path = strdup(in->db_path);
            if (!s->db_path)
                return smc_fail(err, "out of memory");
            if (eval_sql_open(in->db_path, &s->db, err) || eval_sql_open_perturbed(in->db_path, &s->db2, err))
                return -1;
        }
        return 0;
    case EVAL_BLOCKSWORLD:
        smc_bw_problem_free(s->bw);
        s->bw = NULL;
        if (smc_bw_problem_parse(in->gold, strlen(in->gold), &s->bw, err))
            return smc_fail_context(err, "%s: gold problem", in->id);
        if (!smc_bw_problem_goal(s->bw).ptr)
            return smc_fail(err, "%s: the gold problem has no goal", in->id);
        return 0;
    case EVAL_PYDATA:
        if (!s->py && smc_py_open(eval_python(), NULL, NULL, &s->py, err))
            return -1;
        return smc_py_set_context(s->py, in->setup, in->test, err);
    default:
        return 0;
    }
}

static int score_uncached(eval_scorer *s, const char *t, size_t n, double *score, double *strict,
                          smc_error *err)
{
    *score = *strict = 0;
    switch (s->task) {
    case EVAL_SPIDER: {
        if (s->gold_failed)
            return 0;
        while (n && (isspace((unsigned char)t[n - 1]) || t[n - 1] == ';'))
            n--;
        if (!n || memchr(t, 0, n))
            return 0;
        char *q = strndup(t, n);
        if (!q)
            return smc_fail(err, "out of memory");
        bool same = false;
        smc_error e2 = {{0}};
        if (eval_sql_same_result(s->db, s->in->gold, q, 2000, &same, &e2)) {
            fprintf(stderr, "smcgen eval: %s: %s (the instance scores 0)\n", s->in->id, e2.msg);
            s->gold_failed = true;
        }
        bool same2 = false;
        if (same && eval_sql_same_result(s->db2, s->in->gold, q, 2000, &same2, &e2))
            same2 = true;   /* the gold fails on the copy: no second opinion */
        free(q);
        *score = same;
        *strict = same && same2;
        return 0;
    }
    case EVAL_MOLECULES:
        while (n && isspace((unsigned char)t[n - 1]))
            n--;
        *score = n && smc_smiles_check(t, n, true, NULL, 0) == SMC_VERDICT_COMPLETE;
        return 0;
    case EVAL_BLOCKSWORLD: {
        smc_str g = smc_bw_problem_goal(s->bw);
        bool eq = false;
        smc_error e2 = {{0}};
        if (smc_bw_goals_equivalent(s->bw, t, n, g.ptr, g.len, &eq, &e2))
            eq = false;   /* a malformed goal scores 0 */
        *score = eq;
        return 0;
    }
    case EVAL_PYDATA: {
        smc_py_status st;
        char msg[256];
        if (smc_py_run(s->py, t, n, true, &st, msg, sizeof msg, err))
            return -1;
        *score = st == SMC_PY_OK;
        if (getenv("SMCGEN_EVAL_DEBUG"))
            fprintf(stderr, "pydata %s: status %d: %s\n", s->in->id, (int)st, msg);
        return 0;
    }
    default:
        return smc_fail(err, "unknown task");
    }
}

int eval_scorer_score(eval_scorer *s, const char *text, size_t len, double *score, smc_error *err)
{
    double strict;
    return eval_scorer_score2(s, text, len, score, &strict, err);
}

int eval_scorer_score2(eval_scorer *s, const char *text, size_t len, double *score, double *strict,
                       smc_error *err)
{
    while (len && isspace((unsigned char)*text))
        text++, len--;
    for (size_t i = 0; i < s->n_cache; i++)
        if (strlen(s->cache[i].text) == len && !memcmp(s->cache[i].text, text, len)) {
            *score = s->cache[i].score;
            *strict = s->cache[i].strict;
            return 0;
        }
    if (score_uncached(s, text, len, score, strict, err))
        return -1;
    if (s->task != EVAL_SPIDER)
        *strict = *score;
    if (s->n_cache == s->cap_cache) {
        size_t cap = s->cap_cache ? s->cap_cache * 2 : 32;
        cached *g = realloc(s->cache, cap * sizeof *g);
        if (!g)
            return 0;
        s->cache = g;
        s->cap_cache = cap;
    }
    char *copy = strndup(text, len);
    if (copy)
        s->cache[s->n_cache++] = (cached){copy, *score, *strict};
    return 0;
}

void eval_scorer_free(eval_scorer *s)
{
    if (!s)
        return;
    clear_cache(s);
    free(s->cache);
    sqlite3_close(s->db);
    sqlite3_close(s->db2);
    free(s->db_path);
    smc_bw_problem_free(s->bw);
    smc_py_close(s->py);
    free(s);
}
