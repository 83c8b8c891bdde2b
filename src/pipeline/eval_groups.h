/* eval_groups.h — the eval report's aggregates: one group per (model,
 * task, method, particles) with the mean of each statistic over its runs and
 * a bootstrap CI of the score. */
#ifndef SMC_PIPELINE_EVAL_GROUPS_H
#define SMC_PIPELINE_EVAL_GROUPS_H

#include <cjson/cJSON.h>

#include "smcgen.h"

#define EVAL_BOOT_RESAMPLES 10000
#define EVAL_BOOT_SEED 20250101u

/* Display orders. */
extern const char *const eval_method_order[7];
extern const char *const eval_task_order[4];

typedef struct stat_vec {
    double *v;
    int n, cap;
} stat_vec;

enum { S_SCORE, S_LOGZ, S_ESS, S_RESAMPLES, S_TIME, S_TLM, S_TMASK, S_TCRITIC, S_TRESAMPLE, S_VALIDITY,
       S_UNIQUE, S_NOVEL, S_DEAD, S_STRICT, S_N };   /* S_DEAD: all particles dead (0/1; its mean is the fraction); S_STRICT: spider's match on two database states */

typedef struct group {
    char model[64], task[32], method[16];
    int n_particles;
    stat_vec s[S_N];
    double mean[S_N], lo, hi;   /* lo, hi: 95% bootstrap CI of the score */
} group;

typedef struct groups {
    group *v;
    int n, cap;
} groups;

/* The model names in order of appearance (at most 8). */
typedef struct names {
    char v[8][64];
    int n;
} names;
void names_add(names *ns, const char *s);

/* Groups the units (see eval_groups.c for the "smc-full:sweep" group). */
void eval_groups_aggregate(const cJSON *units, groups *g, int main_np);
const group *group_find(const groups *g, const char *model, const char *task, const char *method, int np);
/* The particle sweep's group at n particles. */
const group *sweep_group(const groups *g, const char *model, const char *task, int n);
/* The main particle count: config's n_particles, else a non-sweep group's. */
int main_particles(const cJSON *config, const groups *g);
cJSON *eval_groups_json(const groups *g);
void eval_groups_free(groups *g);

#endif
