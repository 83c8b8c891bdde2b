/* potentials_critics.c — per-call latency (p50, p99) of the domain critics
 * on realistic prefixes from ../shared/data, printed beside the paper's
 * per-token costs (SQL 31 ms, Python 7 ms, PDDL 11 ms, SMILES 0.3 ms).
 *
 * SMILES: every prefix of the GDB-17 sample and the prompt molecules, plus
 * the complete check of each. PDDL: every prefix of the 100 gold goals of
 * data/blocksworld. SQL: every token-boundary prefix of the Spider dev gold
 * queries, and the complete check (prepare and run) of each. Python: syntax
 * of every prefix of the pydata reference solutions, the line-end check
 * (syntax + sandboxed run) and the complete check with the test. */
#include "smcgen.h"
#include "util/paths.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    double *v;
    size_t n, cap;
} samples;

static void add(samples *s, double us)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    s->v[s->n++] = us;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(samples *s, double p)
{
    if (!s->n)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, cmp);
    size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s)
        s[fread(s, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return s;
}

static void row(const char *name, samples *s, const char *paper)
{
    size_t n = s->n;
    double p50 = pct(s, 0.50), p99 = pct(s, 0.99);
    printf("%-26s %8zu %12.2f %12.2f   %s\n", name, n, p50, p99, paper);
}

static void bench_smiles(const char *shared)
{
    char path[4096];
    samples pre = {0}, full = {0};
    snprintf(path, sizeof path, "%s/data/molecules/GDB17_sample.txt", shared);
    char *text = slurp(path);
    snprintf(path, sizeof path, "%s/data/molecules/zinc_jtnn_valid.txt", shared);
    char *zinc = slurp(path);
    char *sources[2] = {text, zinc};
    for (int src = 0; src < 2; src++) {
        int count = 0;
        for (char *line = sources[src]; line && *line && count < 500; count++) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            for (size_t k = 1; k <= len; k++) {
                double t0 = now_us();
                smc_smiles_check(line, k, false, NULL, 0);
                add(&pre, now_us() - t0);
            }
            double t0 = now_us();
            smc_smiles_check(line, len, true, NULL, 0);
            add(&full, now_us() - t0);
            line = nl ? nl + 1 : NULL;
        }
    }
    row("SMILES prefix", &pre, "0.3 ms/token (partialsmiles)");
    row("SMILES complete", &full, "");
    free(text);
    free(zinc);
    free(pre.v);
    free(full.v);
}

static void bench_pddl(const char *shared)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data/blocksworld/dev.jsonl", shared);
    char *text = slurp(path);
    samples pre = {0}, full = {0}, eq = {0};
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        cJSON *o = cJSON_Parse(line);
        const char *pp = cJSON_GetStringValue(cJSON_GetObjectItem(o, "problem_prefix"));
        const char *gold = cJSON_GetStringValue(cJSON_GetObjectItem(o, "gold_problem"));
        smc_bw_problem *p = NULL;
        smc_error err;
        if (pp && gold && strlen(gold) > strlen(pp) && smc_bw_problem_parse(pp, strlen(pp), &p, &err) == 0) {
            const char *goal = gold + strlen(pp);
            size_t gl = strlen(goal);
            for (size_t k = 1; k <= gl; k++) {
                double t0 = now_us();
                smc_bw_goal_check(p, goal, k, false, NULL, 0);
                add(&pre, now_us() - t0);
            }
            double t0 = now_us();
            smc_bw_goal_check(p, goal, gl, true, NULL, 0);
            add(&full, now_us() - t0);
            bool same;
            t0 = now_us();
            smc_bw_goals_equivalent(p, goal, gl, goal, gl, &same, &err);
            add(&eq, now_us() - t0);
            smc_bw_problem_free(p);
        }
        cJSON_Delete(o);
        line = nl ? nl + 1 : NULL;
    }
    row("PDDL goal prefix", &pre, "11 ms/token (plan + VAL)");
    row("PDDL goal complete", &full, "");
    row("PDDL goal equivalence", &eq, "");
    free(text);
    free(pre.v);
    free(full.v);
    free(eq.v);
}

static void bench_sql(const char *shared)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data/spider/dev.json", shared);
    char *text = slurp(path);
    cJSON *arr = text ? cJSON_Parse(text) : NULL;
    samples pre = {0}, full = {0};
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        const char *dbid = cJSON_GetStringValue(cJSON_GetObjectItem(item, "db_id"));
        const char *q = cJSON_GetStringValue(cJSON_GetObjectItem(item, "query"));
        if (!dbid || !q)
            continue;
        snprintf(path, sizeof path, "%s/data/spider/database/%s/%s.sqlite", shared, dbid, dbid);
        smc_sql_db *db = NULL;
        smc_error err;
        if (smc_sql_open(path, &db, &err) < 0)
            continue;
        size_t len = strlen(q);
        for (size_t k = 1; k <= len; k++) {
            if (k < len && q[k] != ' ')
                continue; /* token boundaries, as a model's tokens end */
            double t0 = now_us();
            smc_sql_check(db, q, k, false, NULL, 0);
            add(&pre, now_us() - t0);
        }
        double t0 = now_us();
        smc_sql_check(db, q, len, true, NULL, 0);
        add(&full, now_us() - t0);
        smc_sql_close(db);
    }
    row("SQL prefix (scope)", &pre, "31 ms/token (Lark column verifier)");
    row("SQL complete (run query)", &full, "");
    cJSON_Delete(arr);
    free(text);
    free(pre.v);
    free(full.v);
}

static const char *pick_python(void)
{
    const char *env = getenv("SMCGEN_PYTHON");
    const char *cands[] = {env, "/usr/bin/python3", "python3"};
    for (int i = 0; i < 3; i++) {
        char cmd[512];
        if (!cands[i])
            continue;
        snprintf(cmd, sizeof cmd, "%s -c 'import pandas' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0)
            return cands[i];
    }
    return NULL;
}

static void bench_python(const char *shared)
{
    const char *py = pick_python();
    if (!py) {
        printf("%-26s %8s %12s %12s   %s\n", "Python", "-", "-", "-", "7 ms/token (no python3 with pandas here)");
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/data/pydata/dev.jsonl", shared);
    FILE *f = fopen(path, "rb");
    smc_py_critic *c = NULL;
    smc_error err;
    if (!f || smc_py_open(py, NULL, NULL, &c, &err) < 0) {
        if (f)
            fclose(f);
        printf("Python critic unavailable\n");
        return;
    }
    samples syn = {0}, line_end = {0}, full = {0};
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        const char *setup = cJSON_GetStringValue(cJSON_GetObjectItem(o, "context_setup"));
        const char *sol = cJSON_GetStringValue(cJSON_GetObjectItem(o, "reference_solution"));
        const char *test = cJSON_GetStringValue(cJSON_GetObjectItem(o, "test"));
        if (setup && sol && test && smc_py_set_context(c, setup, test, &err) == 0) {
            size_t len = strlen(sol);
            for (size_t k = 1; k <= len; k++) {
                int state;
                double t0 = now_us();
                smc_py_syntax(c, sol, k, &state, NULL, 0, &err);
                add(&syn, now_us() - t0);
                if (sol[k - 1] == '\n') {
                    t0 = now_us();
                    smc_py_check(c, sol, k, false, NULL, 0);
                    add(&line_end, now_us() - t0);
                }
            }
            double t0 = now_us();
            smc_py_check(c, sol, len, true, NULL, 0);
            add(&full, now_us() - t0);
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    smc_py_close(c);
    row("Python syntax (codeop)", &syn, "7 ms/token (line ends: codeop + run)");
    row("Python line end (run)", &line_end, "");
    row("Python complete (+test)", &full, "");
    free(syn.v);
    free(line_end.v);
    free(full.v);
}

int main(void)
{
    const char *shared = smc_shared_dir();
    if (!shared) {
        fprintf(stderr, "../shared is absent (set SMCGEN_SHARED): nothing to measure\n");
        return 0;
    }
    printf("%-26s %8s %12s %12s   %s\n", "critic", "calls", "p50 (us)", "p99 (us)", "paper, per token");
    bench_smiles(shared);
    bench_pddl(shared);
    bench_sql(shared);
    bench_python(shared);
    return 0;
}
