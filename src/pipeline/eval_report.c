/* eval_report.c — the eval report: reads OUT/units.jsonl, rescores the
 * molecules with RDKit (eval_molecules), aggregates (eval_groups) and writes
 * results.json, summary.md (tables, diagnostics, the claims checked) and
 * the plots (eval_plots). */
#include "pipeline/eval_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pipeline/eval_groups.h"
#include "pipeline/eval_molecules.h"
#include "pipeline/eval_paired.h"
#include "pipeline/eval_plots.h"
#include "util/error.h"

static double jnum(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
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

/* ---- canonical unit order ------------------------------------------------ */

typedef struct unit_ord {
    cJSON *u;
    int model, task, method, np, replicate, pos;
    long instance;
} unit_ord;

static int order_in(const char *const *list, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i], s))
            return i;
    return n;
}

static const char *ustr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int cmp_unit(const void *pa, const void *pb)
{
    const unit_ord *a = pa, *b = pb;
    int d[7] = {a->model - b->model, a->task - b->task, (a->instance > b->instance) - (a->instance < b->instance),
                a->method - b->method, a->np - b->np, a->replicate - b->replicate, a->pos - b->pos};
    for (int i = 0; i < 7; i++)
        if (d[i])
            return d[i] < 0 ? -1 : 1;
    return 0;
}

/* Orders the units by model (config order), task, instance (its index in
 * the task), method, particles and replicate, so that a run made in shards
 * and merged gives the same report as one made in one go. Units without an
 * instance_index (older runs) keep their file order within a task. */
static void sort_units(cJSON *units, const cJSON *config)
{
    int n = cJSON_GetArraySize(units);
    unit_ord *v = n > 1 ? malloc((size_t)n * sizeof *v) : NULL;
    if (!v)
        return;
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(config, "models");
    for (int i = 0; i < n; i++) {
        cJSON *u = cJSON_DetachItemFromArray(units, 0);
        int mi = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, models)
        {
            if (m->string && !strcmp(m->string, ustr(u, "model")))
                break;
            mi++;
        }
        v[i] = (unit_ord){u, mi, order_in(eval_task_order, 4, ustr(u, "task")),
                          order_in(eval_method_order, 7, ustr(u, "method")),
                          (int)jnum(u, "n_particles", 0), (int)jnum(u, "replicate", 0), i,
                          (long)jnum(u, "instance_index", -1)};
        if (v[i].instance < 0)
            v[i].instance = i;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_unit);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(units, v[i].u);
    free(v);
}

static void cell(FILE *f, const group *x)
{
    if (x && x->s[S_DEAD].n)
        fprintf(f, " %.3f [%.3f, %.3f] · dead %.2f |", x->mean[S_SCORE], x->lo, x->hi, x->mean[S_DEAD]);
    else if (x)
        fprintf(f, " %.3f [%.3f, %.3f] |", x->mean[S_SCORE], x->lo, x->hi);
    else
        fprintf(f, " – |");
}

/* "+0.119 [0.050, 0.190] n=30" */
static void diff_text(char *buf, size_t cap, const paired_diff *d)
{
    if (d->n_inst)
        snprintf(buf, cap, "%+.3f [%+.3f, %+.3f] n=%d", d->mean, d->lo, d->hi, d->n_inst);
    else
        snprintf(buf, cap, "–");
}

/* Pairs shown in the paired table: A − B, same model. */
static const char *const paired_rows[][2] = {
    {"smc-full", "smc"}, {"smc", "lcd"}, {"lcd", "plain"}, {"smc", "is"}, {"smc-full", "is-full"},
    {"is-full", "is"}, {"rerank", "lcd"}, {"smc-full", "plain"},
};

static void write_paired(FILE *f, const cJSON *units, const names *models, int np)
{
    fprintf(f, "## Paired differences (A − B per instance, 95%% instance-level bootstrap CI)\n\n"
               "Every method runs on the same instances with the same seeds: per instance, the mean over "
               "replicates of A's run scores minus B's; the CI resamples instances (%d resamples, fixed seed). "
               "n = instances with runs of both.\n\n",
            EVAL_BOOT_RESAMPLES);
    for (int m = 0; m < models->n; m++) {
        fprintf(f, "### Model `%s`\n\n| A − B |", models->v[m]);
        for (int t = 0; t < 4; t++)
            fprintf(f, " %s |", eval_task_order[t]);
        fprintf(f, "\n|---|---|---|---|---|\n");
        for (size_t r = 0; r < sizeof paired_rows / sizeof *paired_rows; r++) {
            paired_diff d[4];
            bool any = false;
            for (int t = 0; t < 4; t++) {
                eval_paired(units, eval_task_order[t], np, (paired_side){models->v[m], paired_rows[r][0]},
                            (paired_side){models->v[m], paired_rows[r][1]}, &d[t]);
                any |= d[t].n_inst > 0;
            }
            if (!any)
                continue;
            fprintf(f, "| %s − %s |", paired_rows[r][0], paired_rows[r][1]);
            for (int t = 0; t < 4; t++) {
                char b[96];
                diff_text(b, sizeof b, &d[t]);
                fprintf(f, " %s |", b);
            }
            fprintf(f, "\n");
        }
        fprintf(f, "\n");
    }
}

/* What each task needs that a model scoring 0 everywhere lacks. */
static const char *zero_why(const char *task)
{
    if (!strcmp(task, "pydata"))
        return "the hidden test needs pandas code that computes the right values; the constraints only make "
               "particles parse, run and assign `result`, so when the model cannot write the computation every "
               "particle fails the test whatever the method";
    if (!strcmp(task, "spider"))
        return "execution match needs the right rows; valid SQL over the right tables is not enough";
    if (!strcmp(task, "blocksworld"))
        return "goal equivalence needs every literal of the described goal; a satisfiable goal is not enough";
    return "the metric needs more than the constraints can enforce";
}

/* One paragraph per (model, task) whose every method scores 0 in every run:
 * how the particles ended, so the reader sees why no method can differ. */
static void write_zero_diagnosis(FILE *f, const cJSON *units, const groups *g, const names *models)
{
    bool header = false;
    for (int m = 0; m < models->n; m++)
        for (int t = 0; t < 4; t++) {
            int runs = 0, dead = 0, parts = 0, forced = 0, empty = 0;
            double best = 0;
            for (int i = 0; i < g->n; i++)
                if (!strcmp(g->v[i].model, models->v[m]) && !strcmp(g->v[i].task, eval_task_order[t]))
                    for (int k = 0; k < g->v[i].s[S_SCORE].n; k++)
                        best = fmax(best, g->v[i].s[S_SCORE].v[k]);
            const cJSON *u;
            cJSON_ArrayForEach(u, units)
            {
                if (strcmp(ustr(u, "model"), models->v[m]) || strcmp(ustr(u, "task"), eval_task_order[t]))
                    continue;
                runs++;
                dead += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "all_dead"));
                const cJSON *p;
                cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(u, "particles"))
                {
                    parts++;
                    forced += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "forced_eos"));
                    empty += !*ustr(p, "text");
                }
            }
            if (!runs || best > 0)
                continue;
            if (!header)
                fprintf(f, "\n## Tasks where every method scores 0\n\n");
            header = true;
            fprintf(f, "- %s / %s: all %d runs score 0, so no method can beat another here. %.0f%% of runs ended "
                       "with every particle dead; of %d particles %.0f%% were cut at the token limit and %.0f%% "
                       "were empty. Why: %s.\n",
                    models->v[m], eval_task_order[t], runs, 100.0 * dead / runs, parts,
                    parts ? 100.0 * forced / parts : 0, parts ? 100.0 * empty / parts : 0, zero_why(eval_task_order[t]));
        }
}

/* Claim (a) for one model and task: smc-full > smc > lcd > plain, from the
 * three paired differences: true when all are, false when any is, else
 * undecided. */
static void write_chain_claim(FILE *f, const cJSON *units, const char *model, const char *task, int np)
{
    static const char *const chain[4] = {"smc-full", "smc", "lcd", "plain"};
    paired_diff d[3];
    bool all_true = true, any_false = false, any_data = true;
    char parts[3][160];
    for (int k = 0; k < 3; k++) {
        eval_paired(units, task, np, (paired_side){model, chain[k]}, (paired_side){model, chain[k + 1]}, &d[k]);
        const char *v = eval_paired_verdict(&d[k]);
        any_data &= d[k].n_inst > 0;
        all_true &= !strcmp(v, "true");
        any_false |= !strcmp(v, "false");
        char b[96];
        diff_text(b, sizeof b, &d[k]);
        snprintf(parts[k], sizeof parts[k], "%s − %s %s: %s", chain[k], chain[k + 1], b, v);
    }
    if (!any_data)
        return;
    fprintf(f, "- %s / %s: **%s** (%s; %s; %s)\n", model, task,
            all_true ? "true" : any_false ? "false" : "undecided", parts[0], parts[1], parts[2]);
}

static void write_summary(FILE *f, const cJSON *config, const cJSON *units, const groups *g, const names *models,
                          bool rdkit)
{
    int np = main_particles(config, g);
    fprintf(f, "# smcgen eval\n\n");
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(config, "commands"), *cmd;
    if (cJSON_GetArraySize(cmds) > 0) {
        fprintf(f, "Made by (in order; later commands resumed the run):\n\n");
        cJSON_ArrayForEach(cmd, cmds) if (cJSON_IsString(cmd)) fprintf(f, "    %s\n", cmd->valuestring);
        fprintf(f, "\n");
    } else if (cJSON_IsString(cmd = cJSON_GetObjectItemCaseSensitive(config, "command")))
        fprintf(f, "Command: `%s`\n\n", cmd->valuestring);
    fprintf(f,
            "Score = posterior-weighted accuracy Σ w̄ᵢ·score(yᵢ) per instance and replicate, averaged over "
            "instances and replicates; [95%% bootstrap CI over runs, %d resamples, fixed seed]; "
            "dead = fraction of runs whose particles all died (score 0). %d particles, ESS "
            "threshold %.2f. Metrics: spider = execution match on SQLite, molecules = QED (0 when invalid; %s), "
            "blocksworld = goal equivalent to the gold goal, pydata = hidden test passes.\n\n",
            EVAL_BOOT_RESAMPLES, np, jnum(config, "ess_threshold", 0.9),
            rdkit ? "RDKit" : "**RDKit unavailable: C validity check used instead of QED**");
    for (int m = 0; m < models->n; m++) {
        fprintf(f, "## Model `%s`\n\n| method |", models->v[m]);
        for (int t = 0; t < 4; t++)
            fprintf(f, " %s |", eval_task_order[t]);
        fprintf(f, "\n|---|---|---|---|---|\n");
        for (int k = 0; k < 7; k++) {
            bool any = false;
            for (int t = 0; t < 4; t++)
                any |= group_find(g, models->v[m], eval_task_order[t], eval_method_order[k], np) != NULL;
            if (!any)
                continue;
            fprintf(f, "| %s |", eval_method_order[k]);
            for (int t = 0; t < 4; t++)
                cell(f, group_find(g, models->v[m], eval_task_order[t], eval_method_order[k], np));
            fprintf(f, "\n");
        }
        fprintf(f, "\n");
    }
    write_paired(f, units, models, np);
    fprintf(f, "## Claims, from the paired differences\n\n"
               "Each claim A > B is **true** when the 95%% CI of the paired difference A − B lies above 0, "
               "**false** when it lies at or below 0, **undecided** when it crosses 0.\n\n"
               "(a) smc-full > smc > lcd > plain per task and model (true when all three steps are, "
               "false when any is):\n\n");
    for (int m = 0; m < models->n; m++)
        for (int t = 0; t < 4; t++)
            write_chain_claim(f, units, models->v[m], eval_task_order[t], np);
    fprintf(f, "\n(b) model A with smc-full beats model B with plain (paired over the instances both ran):\n\n");
    if (models->n < 2)
        fprintf(f, "- (one model only: nothing to compare)\n");
    for (int a = 0; a < models->n; a++)
        for (int b = 0; b < models->n; b++) {
            if (a == b)
                continue;
            for (int t = 0; t < 4; t++) {
                paired_diff d;
                eval_paired(units, eval_task_order[t], np, (paired_side){models->v[a], "smc-full"},
                            (paired_side){models->v[b], "plain"}, &d);
                if (!d.n_inst)
                    continue;
                char buf[96];
                diff_text(buf, sizeof buf, &d);
                fprintf(f, "- %s+smc-full vs %s+plain on %s: **%s** (difference %s)\n", models->v[a],
                        models->v[b], eval_task_order[t], eval_paired_verdict(&d), buf);
            }
        }
    write_zero_diagnosis(f, units, g, models);
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
    bool strict = false;
    for (int i = 0; i < g->n; i++)
        strict |= g->v[i].s[S_STRICT].n > 0;
    if (strict) {
        fprintf(f, "\n## Spider: execution match on two database states\n\n"
                   "A query scores in the second column only when its rows also match the gold query's on a "
                   "perturbed copy of the database (a hashed third of each table's rows deleted, another third "
                   "duplicated where keys allow), in the spirit of Spider's test-suite evaluation: it catches "
                   "queries whose rows match by accident.\n\n"
                   "| model | method | N | execution match | on both states |\n|---|---|---|---|---|\n");
        for (int i = 0; i < g->n; i++)
            if (g->v[i].s[S_STRICT].n)
                fprintf(f, "| %s | %s | %d | %.3f | %.3f |\n", g->v[i].model, g->v[i].method, g->v[i].n_particles,
                        g->v[i].mean[S_SCORE], g->v[i].mean[S_STRICT]);
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
                const group *x = sweep_group(g, models->v[m], eval_task_order[t], n);
                if (!x)
                    continue;
                fprintf(f, "| %s | %s | %d | %.3f [%.3f, %.3f] | %d |\n", x->model, x->task, n, x->mean[S_SCORE],
                        x->lo, x->hi, x->s[S_SCORE].n);
                if (n > 1000)
                    break;
            }
    fprintf(f, "\nThe sweep may cover fewer instances than the main table (`runs`); its row at the main "
               "particle count uses the main smc-full runs on the sweep's instances only (group "
               "`smc-full:sweep` in results.json).\n");
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
        char buf[16384];
        size_t n = fread(buf, 1, sizeof buf - 1, cf);
        buf[n] = 0;
        fclose(cf);
        config = cJSON_Parse(buf);
    }
    if (!config)
        config = cJSON_CreateObject();
    sort_units(units, config);
    char script[4096];
    const char *env = getenv("SMCGEN_EVAL_METRICS");
    snprintf(script, sizeof script, "%s",
             metrics_script ? metrics_script : env ? env : SMC_SOURCE_DIR "/scripts/eval_metrics.py");
    bool rdkit = eval_molecules_rescore(units, out_dir, script);
    if (!rdkit)
        fprintf(stderr, "smcgen eval: the RDKit helper (%s) failed: molecule scores are the C validity check\n",
                script);
    groups g = {0};
    eval_groups_aggregate(units, &g, (int)jnum(config, "n_particles", -1));
    names models = {0};
    for (int i = 0; i < g.n; i++)
        names_add(&models, g.v[i].model);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "config", cJSON_Duplicate(config, true));
    cJSON_AddBoolToObject(root, "rdkit", rdkit);
    cJSON_AddNumberToObject(root, "bootstrap_resamples", EVAL_BOOT_RESAMPLES);
    cJSON_AddNumberToObject(root, "bootstrap_seed", EVAL_BOOT_SEED);
    cJSON_AddItemToObject(root, "groups", eval_groups_json(&g));
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
        write_summary(f, config, units, &g, &models, rdkit);
        eval_write_plots(out_dir, config, &g, &models, f);
        fclose(f);
    }
    cJSON_Delete(root);
    cJSON_Delete(config);
    eval_groups_free(&g);
    return rc;
}
