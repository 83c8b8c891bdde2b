/* eval_paired.h — paired comparisons for the eval report: every method runs
 * on the same instances and seeds, so the difference of two configurations
 * is measured per instance (mean over replicates of A's run scores minus
 * B's) and its mean gets a percentile bootstrap CI over instances. */
#ifndef SMC_PIPELINE_EVAL_PAIRED_H
#define SMC_PIPELINE_EVAL_PAIRED_H

#include <cjson/cJSON.h>

typedef struct paired_side {
    const char *model, *method;
} paired_side;

typedef struct paired_diff {
    int n_inst;         /* instances both A and B have runs for */
    double mean;        /* mean over them of (A - B) */
    double lo, hi;      /* 95% bootstrap CI of the mean (instances resampled) */
} paired_diff;

/* A - B on task at np particles, from the units (an array of unit objects).
 * n_inst 0 when no instance has both. */
void eval_paired(const cJSON *units, const char *task, int np, paired_side a, paired_side b, paired_diff *out);

/* The claim "A > B" from the CI of the paired difference: "true" when it
 * lies above 0, "false" when it lies at or below 0, else "undecided"
 * (it crosses 0). "no data" when n_inst is 0. */
const char *eval_paired_verdict(const paired_diff *d);

#endif
