/* eval_plots.h — the eval report's PNG plots (score by method per model;
 * smc-full score vs particles) via gnuplot, with their data files and
 * script written beside them. */
#ifndef SMC_PIPELINE_EVAL_PLOTS_H
#define SMC_PIPELINE_EVAL_PLOTS_H

#include <stdio.h>

#include "pipeline/eval_groups.h"

/* Writes by_method.dat, vs_particles.dat and plots.gp into dir and runs
 * gnuplot when installed; says what happened in a line of summary. */
void eval_write_plots(const char *dir, const cJSON *config, const groups *g, const names *models, FILE *summary);

#endif
