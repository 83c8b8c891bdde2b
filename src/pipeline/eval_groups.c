/* eval_groups.c — aggregates of the eval runs per (model, task, method,
 * particles): means of every statistic and a percentile-bootstrap CI of the
 * score, plus the sweep's like-for-like group. */
#include "pipeline/eval_groups.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/eval_metrics.h"

const char *const eval_method_order[7] = {"plain", "lcd", "is", "smc", "rerank", "is-full", "smc-full"};
const char *const eval_task_order[4] = {"spider", "molecules", "blocksworld", "pydata"};

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

static const char *const stat_names[S_N] = {"score", "log_z", "ess", "n_resamples", "t_total", "t_lm",
                                            "t_mask", "t_critic", "t_resample", "validity",
                                            "uniqueness", "novelty", "all_dead", "score_strict"};



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

const group *group_find(const groups *g, const char *model, const char *task, const char *method,
                               int np)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->v[i].model, model) && !strcmp(g->v[i].task, task) && !strcmp(g->v[i].method, method) &&
            g->v[i].n_particles == np)
            return &g->v[i];
    return NULL;
}

static void push_unit(group *x, const cJSON *u)
{
    for (int k = 0; x && k < S_N; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, stat_names[k]);
        if (cJSON_IsNumber(v))
            sv_push(&x->s[k], v->valuedouble);
        else if (cJSON_IsBool(v))
            sv_push(&x->s[k], cJSON_IsTrue(v));
    }
}

/* Groups per (model, task, method, particles). The particle sweep may cover
 * fewer instances than the main runs: "smc-full:sweep" at the main particle
 * count holds the main smc-full runs on just the sweep's instances, so the
 * sweep compares like with like. */
void eval_groups_aggregate(const cJSON *units, groups *g, int main_np)
{
    char (*swept)[256] = NULL;
    int n_swept = 0;
    const cJSON *u;
    cJSON_ArrayForEach(u, units)
    {
        int np = (int)jnum(u, "n_particles", 0);
        if (strcmp(jstr(u, "method"), "smc-full") || np == main_np)
            continue;
        char key[256];
        snprintf(key, sizeof key, "%s|%s|%s", jstr(u, "model"), jstr(u, "task"), jstr(u, "instance"));
        bool have = false;
        for (int i = 0; i < n_swept && !have; i++)
            have = !strcmp(swept[i], key);
        if (have)
            continue;
        char (*grown)[256] = realloc(swept, (size_t)(n_swept + 1) * sizeof *swept);
        if (!grown)
            continue;
        swept = grown;
        memcpy(swept[n_swept++], key, sizeof key);
    }
    cJSON_ArrayForEach(u, units)
    {
        int np = (int)jnum(u, "n_particles", 0);
        push_unit(group_get(g, jstr(u, "model"), jstr(u, "task"), jstr(u, "method"), np), u);
        if (strcmp(jstr(u, "method"), "smc-full") || np != main_np)
            continue;
        char key[256];
        snprintf(key, sizeof key, "%s|%s|%s", jstr(u, "model"), jstr(u, "task"), jstr(u, "instance"));
        for (int i = 0; i < n_swept; i++)
            if (!strcmp(swept[i], key)) {
                push_unit(group_get(g, jstr(u, "model"), jstr(u, "task"), "smc-full:sweep", np), u);
                break;
            }
    }
    free(swept);
    for (int i = 0; i < g->n; i++) {
        group *x = &g->v[i];
        for (int k = 0; k < S_N; k++)
            x->mean[k] = x->s[k].n ? eval_mean(x->s[k].v, x->s[k].n) : NAN;
        eval_bootstrap_ci(x->s[S_SCORE].v, x->s[S_SCORE].n, EVAL_BOOT_RESAMPLES, EVAL_BOOT_SEED, &x->lo, &x->hi);
    }
}

/* The sweep's group at n particles (see aggregate). */
const group *sweep_group(const groups *g, const char *model, const char *task, int n)
{
    const group *x = group_find(g, model, task, "smc-full:sweep", n);
    return x ? x : group_find(g, model, task, "smc-full", n);
}

void eval_groups_free(groups *g)
{
    for (int i = 0; i < g->n; i++)
        for (int k = 0; k < S_N; k++)
            free(g->v[i].s[k].v);
    free(g->v);
}

void names_add(names *ns, const char *s)
{
    for (int i = 0; i < ns->n; i++)
        if (!strcmp(ns->v[i], s))
            return;
    if (ns->n < 8)
        snprintf(ns->v[ns->n++], sizeof ns->v[0], "%s", s);
}

int main_particles(const cJSON *config, const groups *g)
{
    double np = jnum(config, "n_particles", -1);
    if (np > 0)
        return (int)np;
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->v[i].method, "smc-full"))
            return g->v[i].n_particles;
    return g->n ? g->v[0].n_particles : 10;
}

cJSON *eval_groups_json(const groups *g)
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
