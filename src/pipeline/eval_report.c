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
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(config, "commands"), *cmd;
    if (cJSON_GetArraySize(cmds) > 0) {
        fprintf(f, "Made by (in order; later commands resumed the run):\n\n");
        cJSON_ArrayForEach(cmd, cmds) if (cJSON_IsString(cmd)) fprintf(f, "    %s\n", cmd->valuestring);
        fprintf(f, "\n");
    } else if (cJSON_IsString(cmd = cJSON_GetObjectItemCaseSensitive(config, "command")))
        fprintf(f, "Command: `%s`\n\n", cmd->valuestring);
    fprintf(f,
            "Score = posterior-weighted accuracy Σ w̄ᵢ·score(yᵢ) per instance and replicate, averaged over "
            "instances and replicates; [95%% bootstrap CI, %d resamples, fixed seed]. %d particles, ESS "
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
    fprintf(f, "## Claims, as measured\n\n(a) smc-full > smc > lcd > plain (means) per task and model:\n\n");
    for (int m = 0; m < models->n; m++)
        for (int t = 0; t < 4; t++) {
            const group *a = group_find(g, models->v[m], eval_task_order[t], "smc-full", np),
                        *b = group_find(g, models->v[m], eval_task_order[t], "smc", np),
                        *c = group_find(g, models->v[m], eval_task_order[t], "lcd", np),
                        *d = group_find(g, models->v[m], eval_task_order[t], "plain", np);
            if (!a || !b || !c || !d)
                continue;
            bool ok = a->mean[S_SCORE] > b->mean[S_SCORE] && b->mean[S_SCORE] > c->mean[S_SCORE] &&
                      c->mean[S_SCORE] > d->mean[S_SCORE];
            fprintf(f, "- %s / %s: %s (smc-full %.3f, smc %.3f, lcd %.3f, plain %.3f)\n", models->v[m],
                    eval_task_order[t], verdict(ok), a->mean[S_SCORE], b->mean[S_SCORE], c->mean[S_SCORE],
                    d->mean[S_SCORE]);
        }
    fprintf(f, "\n(b) model A with smc-full beats model B with plain (means; CI overlap noted):\n\n");
    for (int a = 0; a < models->n; a++)
        for (int b = 0; b < models->n; b++) {
            if (a == b)
                continue;
            for (int t = 0; t < 4; t++) {
                const group *x = group_find(g, models->v[a], eval_task_order[t], "smc-full", np),
                            *y = group_find(g, models->v[b], eval_task_order[t], "plain", np);
                if (!x || !y)
                    continue;
                bool sep = x->lo > y->hi || y->lo > x->hi;
                fprintf(f, "- %s+smc-full vs %s+plain on %s: %s (%.3f [%.3f, %.3f] vs %.3f [%.3f, %.3f]%s)\n",
                        models->v[a], models->v[b], eval_task_order[t], verdict(x->mean[S_SCORE] > y->mean[S_SCORE]),
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
        write_summary(f, config, &g, &models, rdkit);
        eval_write_plots(out_dir, config, &g, &models, f);
        fclose(f);
    }
    cJSON_Delete(root);
    cJSON_Delete(config);
    eval_groups_free(&g);
    return rc;
}
