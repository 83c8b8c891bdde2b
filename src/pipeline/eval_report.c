/* eval_report.c — the eval report: reads OUT/units.jsonl, rescores the
 * molecules with RDKit (one helper process per report), aggregates per
 * (model, task, method, particles) with bootstrap CIs and writes
 * results.json, summary.md and gnuplot PNGs. */
#include "pipeline/eval_report.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "pipeline/eval_metrics.h"
#include "pipeline/eval_task.h"
#include "util/error.h"

#define BOOT_RESAMPLES 10000
#define BOOT_SEED 20250101u

static const char *const method_order[] = {"plain", "lcd", "is", "smc", "rerank", "is-full", "smc-full"};
static const char *const task_order[] = {"spider", "molecules", "blocksworld", "pydata"};

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void set_num(cJSON *o, const char *key, double v)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(o, key);
    if (old)
        cJSON_SetNumberValue(old, v);
    else
        cJSON_AddNumberToObject(o, key, v);
}

static cJSON *read_units(const char *path, smc_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        smc_fail(err, "%s: cannot open", path);
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *u = cJSON_Parse(line);
        if (cJSON_IsObject(u))
            cJSON_AddItemToArray(arr, u);
        else
            cJSON_Delete(u);
    }
    free(line);
    fclose(f);
    return arr;
}

/* ---- molecules: RDKit validity, QED, uniqueness, novelty ----------------- */

typedef struct mol_info {
    char *smiles;
    bool valid;
    double qed;
    char *canon;
} mol_info;

typedef struct mol_table {
    mol_info *v;
    size_t n, cap;
} mol_table;

static void strip(const char *s, char *out, size_t cap)
{
    while (isspace((unsigned char)*s))
        s++;
    snprintf(out, cap, "%s", s);
    size_t n = strlen(out);
    while (n && isspace((unsigned char)out[n - 1]))
        out[--n] = 0;
}

static mol_info *mol_find(mol_table *t, const char *s)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].smiles, s))
            return &t->v[i];
    return NULL;
}

static void mol_add(mol_table *t, const char *raw)
{
    char s[1024];
    strip(raw, s, sizeof s);
    if (strchr(s, '\n') || mol_find(t, s))
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        mol_info *g = realloc(t->v, cap * sizeof *g);
        if (!g)
            return;
        t->v = g;
        t->cap = cap;
    }
    t->v[t->n++] = (mol_info){.smiles = strdup(s)};
}

static void mol_free(mol_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].smiles);
        free(t->v[i].canon);
    }
    free(t->v);
}

/* One helper process for all molecules: SMILES lines in, JSON lines out. */
static bool rdkit_score(mol_table *t, const char *out_dir, const char *script)
{
    if (!t->n)
        return true;
    char in_path[4096], out_path[4096], cmd[4096 * 3 + 64];
    snprintf(in_path, sizeof in_path, "%s/.molecules.txt", out_dir);
    snprintf(out_path, sizeof out_path, "%s/.molecules.jsonl", out_dir);
    FILE *f = fopen(in_path, "w");
    if (!f)
        return false;
    for (size_t i = 0; i < t->n; i++)
        fprintf(f, "%s\n", t->v[i].smiles);
    fclose(f);
    /* Debian's RDKit lives in the system interpreter, which may not be the
     * first python3 on PATH. */
    const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    snprintf(cmd, sizeof cmd, "%s '%s' < '%s' > '%s'", py, script, in_path, out_path);
    int rc = system(cmd);
    bool ok = rc == 0;
    FILE *g = ok ? fopen(out_path, "r") : NULL;
    size_t k = 0;
    if (g) {
        char *line = NULL;
        size_t cap = 0;
        while (k < t->n && getline(&line, &cap, g) > 0) {
            cJSON *o = cJSON_Parse(line);
            t->v[k].valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "valid"));
            t->v[k].qed = jnum(o, "qed", 0);
            const char *c = jstr(o, "canon");
            t->v[k].canon = strdup(*c ? c : t->v[k].smiles);
            cJSON_Delete(o);
            k++;
        }
        free(line);
        fclose(g);
    }
    unlink(in_path);
    unlink(out_path);
    return ok && k == t->n;
}

static bool in_list(char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

static void rescore_molecules(cJSON *units, mol_table *t)
{
    cJSON *u;
    cJSON_ArrayForEach(u, units)
    {
        if (strcmp(jstr(u, "task"), "molecules"))
            continue;
        char *refs[64];
        int n_refs = 0;
        cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(u, "reference"))
        {
            char s[1024];
            strip(cJSON_IsString(r) ? r->valuestring : "", s, sizeof s);
            mol_info *m = mol_find(t, s);
            if (m && m->valid && n_refs < 64)
                refs[n_refs++] = m->canon;
        }
        double score = 0, validity = 0;
        int n_valid = 0, n_unique = 0, n_novel = 0;
        char *seen[1024];
        int n_seen = 0;
        cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(u, "particles"))
        {
            char s[1024];
            strip(jstr(p, "text"), s, sizeof s);
            mol_info *m = mol_find(t, s);
            bool valid = m && m->valid;
            double q = valid ? m->qed : 0, w = jnum(p, "weight", 0);
            set_num(p, "score", q);
            cJSON_DeleteItemFromObjectCaseSensitive(p, "valid");
            cJSON_AddBoolToObject(p, "valid", valid);
            score += w * q;
            validity += w * valid;
            if (valid) {
                n_valid++;
                if (!in_list(seen, n_seen, m->canon)) {
                    if (n_seen < 1024)
                        seen[n_seen++] = m->canon;
                    n_unique++;
                }
                n_novel += !in_list(refs, n_refs, m->canon);
            }
        }
        set_num(u, "score", score);
        set_num(u, "validity", validity);
        set_num(u, "uniqueness", n_valid ? (double)n_unique / n_valid : 0);
        set_num(u, "novelty", n_valid ? (double)n_novel / n_valid : 0);
    }
}

/* ---- aggregation ---------------------------------------------------------- */

typedef struct stat_vec {
    double *v;
    int n, cap;
} stat_vec;

static void sv_push(stat_vec *s, double x)
{
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        double *g = realloc(s->v, (size_t)cap * sizeof *g);
        if (!g)
            return;
        s->v = g;
        s->cap = cap;
    }
    s->v[s->n++] = x;
}

enum { S_SCORE, S_LOGZ, S_ESS, S_RESAMPLES, S_TIME, S_TLM, S_TMASK, S_TCRITIC, S_TRESAMPLE, S_VALIDITY,
       S_UNIQUE, S_NOVEL, S_N };
static const char *const stat_names[S_N] = {"score", "log_z", "ess", "n_resamples", "t_total", "t_lm",
                                            "t_mask", "t_critic", "t_resample", "validity",
                                            "uniqueness", "novelty"};

typedef struct group {
    char model[64], task[32], method[16];
    int n_particles;
    stat_vec s[S_N];
    double mean[S_N], lo, hi;
} group;

typedef struct groups {
    group *v;
    int n, cap;
} groups;

static group *group_get(groups *g, const char *model, const char *task, const char *method, int np)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->v[i].model, model) && !strcmp(g->v[i].task, task) && !strcmp(g->v[i].method, method) &&
            g->v[i].n_particles == np)
            return &g->v[i];
    if (g->n == g->cap) {
        int cap = g->cap ? g->cap * 2 : 32;
        group *n = realloc(g->v, (size_t)cap * sizeof *n);
        if (!n)
            return NULL;
        g->v = n;
        g->cap = cap;
    }
    group *x = &g->v[g->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->model, sizeof x->model, "%s", model);
    snprintf(x->task, sizeof x->task, "%s", task);
    snprintf(x->method, sizeof x->method, "%s", method);
    x->n_particles = np;
    return x;
}

static const group *group_find(const groups *g, const char *model, const char *task, const char *method,
                               int np)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->v[i].model, model) && !strcmp(g->v[i].task, task) && !strcmp(g->v[i].method, method) &&
            g->v[i].n_particles == np)
            return &g->v[i];
    return NULL;
}

static void aggregate(const cJSON *units, groups *g)
{
    const cJSON *u;
    cJSON_ArrayForEach(u, units)
    {
        group *x = group_get(g, jstr(u, "model"), jstr(u, "task"), jstr(u, "method"),
                             (int)jnum(u, "n_particles", 0));
        if (!x)
            continue;
        for (int k = 0; k < S_N; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, stat_names[k]);
            if (cJSON_IsNumber(v))
                sv_push(&x->s[k], v->valuedouble);
        }
    }
    for (int i = 0; i < g->n; i++) {
        group *x = &g->v[i];
        for (int k = 0; k < S_N; k++)
            x->mean[k] = x->s[k].n ? eval_mean(x->s[k].v, x->s[k].n) : NAN;
        eval_bootstrap_ci(x->s[S_SCORE].v, x->s[S_SCORE].n, BOOT_RESAMPLES, BOOT_SEED, &x->lo, &x->hi);
    }
}

static void groups_free(groups *g)
{
    for (int i = 0; i < g->n; i++)
        for (int k = 0; k < S_N; k++)
            free(g->v[i].s[k].v);
    free(g->v);
}

/* ---- outputs -------------------------------------------------------------- */

typedef struct names {
    char v[EVAL_N_TASKS > 8 ? EVAL_N_TASKS : 8][64];
    int n;
} names;

static void names_add(names *ns, const char *s)
{
    for (int i = 0; i < ns->n; i++)
        if (!strcmp(ns->v[i], s))
            return;
    if (ns->n < 8)
        snprintf(ns->v[ns->n++], sizeof ns->v[0], "%s", s);
}

static int main_particles(const cJSON *config, const groups *g)
{
    double np = jnum(config, "n_particles", -1);
    if (np > 0)
        return (int)np;
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->v[i].method, "smc-full"))
            return g->v[i].n_particles;
    return g->n ? g->v[0].n_particles : 10;
}

static void cell(FILE *f, const group *x)
{
    if (x)
        fprintf(f, " %.3f [%.3f, %.3f] |", x->mean[S_SCORE], x->lo, x->hi);
    else
        fprintf(f, " – |");
}

static const char *verdict(bool b)
{
    return b ? "**true**" : "**false**";
}

static void write_summary(FILE *f, const cJSON *config, const groups *g, const names *models, bool rdkit)
{
    int np = main_particles(config, g);
    fprintf(f, "# smcgen eval\n\n");
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(config, "command");
    if (cJSON_IsString(cmd))
        fprintf(f, "Command: `%s`\n\n", cmd->valuestring);
    fprintf(f,
            "Score = posterior-weighted accuracy Σ w̄ᵢ·score(yᵢ) per instance and replicate, averaged over "
            "instances and replicates; [95%% bootstrap CI, %d resamples, fixed seed]. %d particles, ESS "
            "threshold %.2f. Metrics: spider = execution match on SQLite, molecules = QED (0 when invalid; %s), "
            "blocksworld = goal equivalent to the gold goal, pydata = hidden test passes.\n\n",
            BOOT_RESAMPLES, np, jnum(config, "ess_threshold", 0.9),
            rdkit ? "RDKit" : "**RDKit unavailable: C validity check used instead of QED**");
    for (int m = 0; m < models->n; m++) {
        fprintf(f, "## Model `%s`\n\n| method |", models->v[m]);
        for (int t = 0; t < 4; t++)
            fprintf(f, " %s |", task_order[t]);
        fprintf(f, "\n|---|---|---|---|---|\n");
        for (int k = 0; k < 7; k++) {
            bool any = false;
            for (int t = 0; t < 4; t++)
                any |= group_find(g, models->v[m], task_order[t], method_order[k], np) != NULL;
            if (!any)
                continue;
            fprintf(f, "| %s |", method_order[k]);
            for (int t = 0; t < 4; t++)
                cell(f, group_find(g, models->v[m], task_order[t], method_order[k], np));
            fprintf(f, "\n");
        }
        fprintf(f, "\n");
    }
    fprintf(f, "## Claims, as measured\n\n(a) smc-full > smc > lcd > plain (means) per task and model:\n\n");
    for (int m = 0; m < models->n; m++)
        for (int t = 0; t < 4; t++) {
            const group *a = group_find(g, models->v[m], task_order[t], "smc-full", np),
                        *b = group_find(g, models->v[m], task_order[t], "smc", np),
                        *c = group_find(g, models->v[m], task_order[t], "lcd", np),
                        *d = group_find(g, models->v[m], task_order[t], "plain", np);
            if (!a || !b || !c || !d)
                continue;
            bool ok = a->mean[S_SCORE] > b->mean[S_SCORE] && b->mean[S_SCORE] > c->mean[S_SCORE] &&
                      c->mean[S_SCORE] > d->mean[S_SCORE];
            fprintf(f, "- %s / %s: %s (smc-full %.3f, smc %.3f, lcd %.3f, plain %.3f)\n", models->v[m],
                    task_order[t], verdict(ok), a->mean[S_SCORE], b->mean[S_SCORE], c->mean[S_SCORE],
                    d->mean[S_SCORE]);
        }
    fprintf(f, "\n(b) model A with smc-full beats model B with plain (means; CI overlap noted):\n\n");
    for (int a = 0; a < models->n; a++)
        for (int b = 0; b < models->n; b++) {
            if (a == b)
                continue;
            for (int t = 0; t < 4; t++) {
                const group *x = group_find(g, models->v[a], task_order[t], "smc-full", np),
                            *y = group_find(g, models->v[b], task_order[t], "plain", np);
                if (!x || !y)
                    continue;
                bool sep = x->lo > y->hi || y->lo > x->hi;
                fprintf(f, "- %s+smc-full vs %s+plain on %s: %s (%.3f [%.3f, %.3f] vs %.3f [%.3f, %.3f]%s)\n",
                        models->v[a], models->v[b], task_order[t], verdict(x->mean[S_SCORE] > y->mean[S_SCORE]),
                        x->mean[S_SCORE], x->lo, x->hi, y->mean[S_SCORE], y->lo, y->hi,
                        sep ? "; CIs disjoint" : "; CIs overlap");
            }
        }
    fprintf(f, "\n## Diagnostics (means per run)\n\n"
               "| model | task | method | N | runs | log Ẑ | ESS | resamples | wall s | LM s | mask s | critic s | resample s |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < g->n; i++) {
        const group *x = &g->v[i];
        fprintf(f, "| %s | %s | %s | %d | %d | %.3f (%d finite) | %.2f | %.2f | %.3f | %.3f | %.3f | %.3f | %.4f |\n",
                x->model, x->task, x->method, x->n_particles, x->s[S_SCORE].n, x->mean[S_LOGZ], x->s[S_LOGZ].n,
                x->mean[S_ESS], x->mean[S_RESAMPLES], x->mean[S_TIME], x->mean[S_TLM], x->mean[S_TMASK],
                x->mean[S_TCRITIC], x->mean[S_TRESAMPLE]);
    }
    bool mol = false;
    for (int i = 0; i < g->n; i++)
        mol |= !strcmp(g->v[i].task, "molecules") && g->v[i].s[S_VALIDITY].n > 0;
    if (mol) {
        fprintf(f, "\n## Molecules\n\nPer run: QED and validity are posterior-weighted; uniqueness = distinct valid "
                   "molecules (canonical SMILES) / valid particles; novelty = valid particles not among the prompt's "
                   "examples / valid particles.\n\n");
        fprintf(f, "| model | method | N | QED (score) | validity (weighted) | uniqueness | novelty |\n"
                   "|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < g->n; i++) {
            const group *x = &g->v[i];
            if (strcmp(x->task, "molecules"))
                continue;
            fprintf(f, "| %s | %s | %d | %.3f | %.3f | %.3f | %.3f |\n", x->model, x->method, x->n_particles,
                    x->mean[S_SCORE], x->mean[S_VALIDITY], x->mean[S_UNIQUE], x->mean[S_NOVEL]);
        }
    }
    fprintf(f, "\n## smc-full: score vs particles\n\n| model | task | N | score [95%% CI] | runs |\n|---|---|---|---|---|\n");
    for (int m = 0; m < models->n; m++)
        for (int t = 0; t < 4; t++)
            for (int n = 1; n <= 100000; n++) {
                const group *x = group_find(g, models->v[m], task_order[t], "smc-full", n);
                if (!x)
                    continue;
                fprintf(f, "| %s | %s | %d | %.3f [%.3f, %.3f] | %d |\n", x->model, x->task, n, x->mean[S_SCORE],
                        x->lo, x->hi, x->s[S_SCORE].n);
                if (n > 1000)
                    break;
            }
    fprintf(f, "\nThe sweep rows may use fewer instances than the main table (see `runs`).\n");
}

static cJSON *groups_json(const groups *g)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < g->n; i++) {
        const group *x = &g->v[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", x->model);
        cJSON_AddStringToObject(o, "task", x->task);
        cJSON_AddStringToObject(o, "method", x->method);
        cJSON_AddNumberToObject(o, "n_particles", x->n_particles);
        cJSON_AddNumberToObject(o, "n_runs", x->s[S_SCORE].n);
        cJSON_AddNumberToObject(o, "score_ci_lo", x->lo);
        cJSON_AddNumberToObject(o, "score_ci_hi", x->hi);
        for (int k = 0; k < S_N; k++)
            if (x->s[k].n)
                cJSON_AddNumberToObject(o, stat_names[k], x->mean[k]);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static bool have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static void write_plots(const char *dir, const cJSON *config, const groups *g, const names *models, FILE *summary)
{
    int np = main_particles(config, g);
    char path[4096];
    snprintf(path, sizeof path, "%s/by_method.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    /* One block per model: rows = methods, columns = mean lo hi per task. */
    for (int m = 0; m < models->n; m++) {
        fprintf(f, "# model %s\n# method", models->v[m]);
        for (int t = 0; t < 4; t++)
            fprintf(f, " %s lo hi", task_order[t]);
        fprintf(f, "\n");
        for (int k = 0; k < 7; k++) {
            fprintf(f, "%s", method_order[k]);
            for (int t = 0; t < 4; t++) {
                const group *x = group_find(g, models->v[m], task_order[t], method_order[k], np);
                if (x)
                    fprintf(f, " %.4f %.4f %.4f", x->mean[S_SCORE], x->lo, x->hi);
                else
                    fprintf(f, " NaN NaN NaN");
            }
            fprintf(f, "\n");
        }
        fprintf(f, "\n\n");
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/vs_particles.dat", dir);
    f = fopen(path, "w");
    if (!f)
        return;
    int n_series = 0;
    char titles[32][96];
    for (int m = 0; m < models->n; m++)
        for (int t = 0; t < 4; t++) {
            int rows = 0;
            for (int n = 1; n <= 1000; n++) {
                const group *x = group_find(g, models->v[m], task_order[t], "smc-full", n);
                if (x) {
                    if (!rows)
                        fprintf(f, "# %s %s\n", models->v[m], task_order[t]);
                    fprintf(f, "%d %.4f %.4f %.4f\n", n, x->mean[S_SCORE], x->lo, x->hi);
                    rows++;
                }
            }
            if (rows > 1 && n_series < 32) {
                fprintf(f, "\n\n");
                snprintf(titles[n_series++], sizeof titles[0], "%s / %s", models->v[m], task_order[t]);
            } else if (rows == 1)
                fprintf(f, "\n\n"), snprintf(titles[n_series++], sizeof titles[0], "%s / %s", models->v[m],
                                             task_order[t]);
        }
    fclose(f);
    snprintf(path, sizeof path, "%s/plots.gp", dir);
    f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "set terminal pngcairo size 1100,%d noenhanced\nset output 'accuracy_by_method.png'\n"
               "set multiplot layout %d,1\nset style data histogram\nset style histogram errorbars gap 1 lw 1\n"
               "set style fill solid 0.8 border -1\nset yrange [0:1.05]\nset ylabel 'score'\nset key outside right\n"
               "set grid ytics\n", 360 * models->n, models->n);
    for (int m = 0; m < models->n; m++) {
        fprintf(f, "set title 'model %s: score by method (%d particles; 95%% CI)'\nplot ", models->v[m], np);
        int k = 0;
        for (int t = 0; t < 4; t++) {
            bool present = false;
            for (int j = 0; j < 7; j++)
                present |= group_find(g, models->v[m], task_order[t], method_order[j], np) != NULL;
            if (!present)
                continue;
            fprintf(f, "%s'by_method.dat' index %d using %d:%d:%d%s title '%s'", k ? ", " : "", m, 2 + 3 * t,
                    3 + 3 * t, 4 + 3 * t, k ? "" : ":xtic(1)", task_order[t]);
            k++;
        }
        fprintf(f, "%s\n", k ? "" : "NaN notitle");
    }
    fprintf(f, "unset multiplot\n");
    if (n_series) {
        fprintf(f, "set terminal pngcairo size 900,560 noenhanced\nset output 'accuracy_vs_particles.png'\n"
                   "set style data linespoints\nset logscale x 2\nset xlabel 'particles'\nset ylabel 'score'\n"
                   "set yrange [0:1.05]\nset title 'smc-full: score vs particles (95%% CI)'\nplot ");
        for (int s = 0; s < n_series; s++)
            fprintf(f, "%s'vs_particles.dat' index %d using 1:2:3:4 with yerrorlines title '%s'", s ? ", " : "", s,
                    titles[s]);
        fprintf(f, "\n");
    }
    fclose(f);
    if (!have_gnuplot()) {
        fprintf(summary, "\nPlots skipped: gnuplot is not installed (the data and plots.gp are in this folder).\n");
        return;
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot plots.gp 2>/dev/null", dir);
    if (system(cmd) == 0)
        fprintf(summary, "\nPlots: `accuracy_by_method.png`%s.\n",
                n_series ? ", `accuracy_vs_particles.png`" : "");
    else
        fprintf(summary, "\nPlots: gnuplot failed (plots.gp is in this folder).\n");
}

int eval_report(const char *out_dir, const char *metrics_script, smc_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/units.jsonl", out_dir);
    cJSON *units = read_units(path, err);
    if (!units)
        return -1;
    snprintf(path, sizeof path, "%s/config.json", out_dir);
    cJSON *config = NULL;
    FILE *cf = fopen(path, "r");
    if (cf) {
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf - 1, cf);
        buf[n] = 0;
        fclose(cf);
        config = cJSON_Parse(buf);
    }
    if (!config)
        config = cJSON_CreateObject();
    mol_table mt = {0};
    const cJSON *u;
    cJSON_ArrayForEach(u, units)
    {
        if (strcmp(jstr(u, "task"), "molecules"))
            continue;
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(u, "particles")) mol_add(&mt, jstr(p, "text"));
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(u, "reference")) if (cJSON_IsString(p))
            mol_add(&mt, p->valuestring);
    }
    char script[4096];
    const char *env = getenv("SMCGEN_EVAL_METRICS");
    snprintf(script, sizeof script, "%s",
             metrics_script ? metrics_script : env ? env : SMC_SOURCE_DIR "/scripts/eval_metrics.py");
    bool rdkit = mt.n == 0 || rdkit_score(&mt, out_dir, script);
    if (rdkit)
        rescore_molecules(units, &mt);
    else
        fprintf(stderr, "smcgen eval: the RDKit helper (%s) failed: molecule scores are the C validity check\n",
                script);
    mol_free(&mt);
    groups g = {0};
    aggregate(units, &g);
    names models = {0};
    for (int i = 0; i < g.n; i++)
        names_add(&models, g.v[i].model);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "config", cJSON_Duplicate(config, true));
    cJSON_AddBoolToObject(root, "rdkit", rdkit);
    cJSON_AddNumberToObject(root, "bootstrap_resamples", BOOT_RESAMPLES);
    cJSON_AddNumberToObject(root, "bootstrap_seed", BOOT_SEED);
    cJSON_AddItemToObject(root, "groups", groups_json(&g));
    cJSON_AddItemToObject(root, "units", units);
    char *text = cJSON_PrintUnformatted(root);
    int rc = 0;
    snprintf(path, sizeof path, "%s/results.json", out_dir);
    FILE *f = fopen(path, "w");
    if (!text || !f || fputs(text, f) < 0)
        rc = smc_fail(err, "%s: cannot write", path);
    if (f)
        fclose(f);
    free(text);
    snprintf(path, sizeof path, "%s/summary.md", out_dir);
    f = rc ? NULL : fopen(path, "w");
    if (!rc && !f)
        rc = smc_fail(err, "%s: cannot write", path);
    if (f) {
        write_summary(f, config, &g, &models, rdkit);
        write_plots(out_dir, config, &g, &models, f);
        fclose(f);
    }
    cJSON_Delete(root);
    cJSON_Delete(config);
    groups_free(&g);
    return rc;
}
