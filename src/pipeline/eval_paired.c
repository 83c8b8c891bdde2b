/* eval_paired.c — per-instance paired differences between two eval
 * configurations (model, method) and their instance-level bootstrap CI. */
#include "pipeline/eval_paired.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline/eval_groups.h"
#include "pipeline/eval_metrics.h"

typedef struct inst_score {
    const char *id;
    double score;
} inst_score;

static int cmp_inst(const void *a, const void *b)
{
    return strcmp(((const inst_score *)a)->id, ((const inst_score *)b)->id);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The runs of one side on task at np, sorted by instance id. */
static inst_score *collect(const cJSON *units, const char *task, int np, paired_side s, int *n)
{
    int cap = 0;
    inst_score *v = NULL;
    *n = 0;
    const cJSON *u;
    cJSON_ArrayForEach(u, units)
    {
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(u, "score"),
                    *p = cJSON_GetObjectItemCaseSensitive(u, "n_particles");
        if (!cJSON_IsNumber(sc) || !cJSON_IsNumber(p) || p->valueint != np || strcmp(jstr(u, "task"), task) ||
            strcmp(jstr(u, "model"), s.model) || strcmp(jstr(u, "method"), s.method))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            inst_score *g = realloc(v, (size_t)cap * sizeof *g);
            if (!g)
                break;
            v = g;
        }
        v[(*n)++] = (inst_score){jstr(u, "instance"), sc->valuedouble};
    }
    if (*n > 1)
        qsort(v, (size_t)*n, sizeof *v, cmp_inst);
    return v;
}

/* Mean over the run of equal ids starting at *i (advances *i past it). */
static double run_mean(const inst_score *v, int n, int *i)
{
    int j = *i;
    double s = 0;
    while (*i < n && !strcmp(v[*i].id, v[j].id))
        s += v[(*i)++].score;
    return s / (*i - j);
}

void eval_paired(const cJSON *units, const char *task, int np, paired_side a, paired_side b, paired_diff *out)
{
    memset(out, 0, sizeof *out);
    int na, nb;
    inst_score *va = collect(units, task, np, a, &na), *vb = collect(units, task, np, b, &nb);
    double *d = malloc((size_t)(na < nb ? na : nb) * sizeof *d + 1);
    int i = 0, j = 0, k = 0;
    while (d && i < na && j < nb) {
        int c = strcmp(va[i].id, vb[j].id);
        if (c < 0)
            run_mean(va, na, &i);
        else if (c > 0)
            run_mean(vb, nb, &j);
        else {
            double ma = run_mean(va, na, &i);
            d[k++] = ma - run_mean(vb, nb, &j);
        }
    }
    out->n_inst = k;
    out->mean = eval_mean(d, k);
    eval_bootstrap_ci(d, k, EVAL_BOOT_RESAMPLES, EVAL_BOOT_SEED, &out->lo, &out->hi);
    free(d);
    free(va);
    free(vb);
}

const char *eval_paired_verdict(const paired_diff *d)
{
    if (d->n_inst == 0)
        return "no data";
    if (d->n_inst < 2)
        return "undecided";
    if (d->lo > 0)
        return "true";
    if (d->hi <= 0)
        return "false";
    return "undecided";
}
