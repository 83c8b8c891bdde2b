/* potentials_critics.c — per-call latency (p50, p99) of the domain critics
 * on realistic prefixes from ../shared/data, printed beside the paper's
 * per-token costs (SQL 31 ms, Python 7 ms, PDDL 11 ms, SMILES 0.3 ms).
 * Set SMC_BENCH_ONLY=python (or smiles, pddl, sql) to run one critic.
 *
 * SMILES: every prefix of the GDB-17 sample and the prompt molecules, plus
 * the complete check of each. PDDL: every prefix of the 100 gold goals of
 * data/blocksworld. SQL: every token-boundary prefix of the Spider dev gold
 * queries, and the complete check (prepare and run) of each. Python: syntax
 * of every prefix of the pydata reference solutions; then an SMC-like
 * trajectory per problem (8 particles growing programs line by line, some
 * sharing lines, each line end judged, then each complete program with the
 * test), with snapshots + verdict memo (the default) and with spare forks
 * too. "new text only": the checks of texts no particle had before. The
 * Python rows come twice, side by side in one run: inside the sandbox
 * (docs/security.md) and without it (--unsafe-no-sandbox, the worker as it
 * was before the sandbox), default reuse only for the latter. */
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
    printf("%-36s %8zu %12.2f %12.2f   %s\n", name, n, p50, p99, paper);
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

/* One particle's program: shared imports, lines of its own (as sampled
 * text differs between particles), the reference solution, a last look at
 * the result. */
static void particle_program(const char *lib, const char *sol, int p, char *out, size_t cap)
{
    size_t k = 0;
    k += (size_t)snprintf(out + k, cap - k, "import numpy as np\n");
    if (strcmp(lib, "pandas") == 0)
        k += (size_t)snprintf(out + k, cap - k, "import pandas as pd\n");
    if (p % 4 == 1)
        k += (size_t)snprintf(out + k, cap - k, "n_items = %d\n", p);
    if (p % 4 == 2)
        k += (size_t)snprintf(out + k, cap - k, "scale = np.arange(%d) * 2\ntotal = int(scale.sum())\n", p + 3);
    if (p % 4 == 3)
        k += (size_t)snprintf(out + k, cap - k, "helper = [i * i for i in range(%d)]\n", 10 * p);
    k += (size_t)snprintf(out + k, cap - k, "%s", sol);
    if (k < cap && k > 0 && out[k - 1] != '\n')
        k += (size_t)snprintf(out + k, cap - k, "\n");
    if (k < cap)
        snprintf(out + k, cap - k, "%s", p % 2 ? "check = result\n" : "");
}

/* An SMC-like trajectory over every pydata problem: 8 particles grow their
 * programs line by line in lock step (the critic judges each line end); the
 * first four share their first lines with the others as resampled copies
 * would; then each complete program is checked with the test. */
static void python_trajectory(smc_py_critic *c, FILE *f, samples *line_end, samples *fresh, samples *full,
                              int *problems)
{
    enum { PARTICLES = 8 };
    char *line = NULL, prog[PARTICLES][8192];
    size_t cap = 0;
    smc_error err;
    rewind(f);
    *problems = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        const char *lib = cJSON_GetStringValue(cJSON_GetObjectItem(o, "library"));
        const char *setup = cJSON_GetStringValue(cJSON_GetObjectItem(o, "context_setup"));
        const char *sol = cJSON_GetStringValue(cJSON_GetObjectItem(o, "reference_solution"));
        const char *test = cJSON_GetStringValue(cJSON_GetObjectItem(o, "test"));
        if (lib && setup && sol && test && smc_py_set_context(c, setup, test, &err) == 0) {
            (*problems)++;
            size_t longest = 0;
            for (int p = 0; p < PARTICLES; p++) {
                particle_program(lib, sol, p < 4 ? p : p - 4, prog[p], sizeof prog[p]);
                if (strlen(prog[p]) > longest)
                    longest = strlen(prog[p]);
            }
            /* lock step: after each character position, every particle
             * whose text has a line end there is judged */
            for (size_t k = 1; k <= longest; k++)
                for (int p = 0; p < PARTICLES; p++) {
                    if (k > strlen(prog[p]) || prog[p][k - 1] != '\n')
                        continue;
                    /* a text no particle had before (no memo can answer) */
                    bool seen = false;
                    for (int q = 0; q < p && !seen; q++)
                        seen = k <= strlen(prog[q]) && memcmp(prog[q], prog[p], k) == 0;
                    double t0 = now_us();
                    smc_py_check(c, prog[p], k, false, NULL, 0);
                    double us = now_us() - t0;
                    add(line_end, us);
                    if (!seen)
                        add(fresh, us);
                }
            for (int p = 0; p < PARTICLES; p++) {
                double t0 = now_us();
                smc_py_check(c, prog[p], strlen(prog[p]), true, NULL, 0);
                add(full, now_us() - t0);
            }
        }
        cJSON_Delete(o);
    }
    free(line);
}

static void bench_python(const char *shared, bool sandbox)
{
    const char *tag = sandbox ? "sandbox" : "no sandbox";
    smc_py_allow_unsafe(!sandbox);
    const char *py = pick_python();
    if (!py) {
        printf("%-36s %8s %12s %12s   %s\n", "Python", "-", "-", "-", "7 ms/token (no python3 with pandas here)");
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
        printf("Python critic unavailable (%s): %s\n", tag, f ? err.msg : "no pydata");
        return;
    }
    /* syntax of every prefix of the reference solutions */
    samples syn = {0};
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        const char *sol = cJSON_GetStringValue(cJSON_GetObjectItem(o, "reference_solution"));
        for (size_t k = 1; sol && k <= strlen(sol); k++) {
            int state;
            double t0 = now_us();
            smc_py_syntax(c, sol, k, &state, NULL, 0, &err);
            add(&syn, now_us() - t0);
        }
        cJSON_Delete(o);
    }
    free(line);
    char title[64];
    snprintf(title, sizeof title, "Py syntax [%s]", tag);
    row(title, &syn, "7 ms/token (line ends: codeop + run)");
    /* the trajectory, with the default reuse (snapshots + memo) and with
     * spare forks as well */
    const struct {
        const char *name;
        int snapshots;
        bool spares, memo;
    } modes[] = {
        {"default", 32, false, true},
        {"spares", 32, true, true},
    };
    for (size_t m = 0; m < (sandbox ? sizeof modes / sizeof modes[0] : 1); m++) {
        samples line_end = {0}, fresh = {0}, full = {0};
        int problems = 0;
        if (smc_py_set_reuse(c, modes[m].snapshots, modes[m].spares, modes[m].memo, &err) < 0) {
            printf("Python critic: %s\n", err.msg);
            continue;
        }
        double t0 = now_us();
        python_trajectory(c, f, &line_end, &fresh, &full, &problems);
        double total = (now_us() - t0) / 1e3;
        char note[128], name[3][64];
        snprintf(note, sizeof note, "%s: %d problems x 8 particles, %.0f ms in all", modes[m].name, problems, total);
        snprintf(name[0], sizeof name[0], "Py line end (%s) [%s]", modes[m].name, tag);
        snprintf(name[1], sizeof name[1], "  new text only");
        snprintf(name[2], sizeof name[2], "Py complete (%s) [%s]", modes[m].name, tag);
        row(name[0], &line_end, note);
        row(name[1], &fresh, "");
        row(name[2], &full, "");
        free(line_end.v);
        free(fresh.v);
        free(full.v);
    }
    fclose(f);
    smc_py_close(c);
    free(syn.v);
}

int main(void)
{
    const char *shared = smc_shared_dir();
    if (!shared) {
        fprintf(stderr, "../shared is absent (set SMCGEN_SHARED): nothing to measure\n");
        return 0;
    }
    printf("%-36s %8s %12s %12s   %s\n", "critic", "calls", "p50 (us)", "p99 (us)", "paper, per token");
    const char *only = getenv("SMC_BENCH_ONLY");
    if (!only || strcmp(only, "smiles") == 0)
        bench_smiles(shared);
    if (!only || strcmp(only, "pddl") == 0)
        bench_pddl(shared);
    if (!only || strcmp(only, "sql") == 0)
        bench_sql(shared);
    if (!only || strcmp(only, "python") == 0) {
        bench_python(shared, false);
        bench_python(shared, true);
    }
    return 0;
}
