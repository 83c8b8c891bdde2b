/* eval_plots.c — gnuplot PNGs of the eval results: score by method (one
 * panel per model, bars per task with 95% CIs) and smc-full score vs
 * particles (one line per model and task). */
#include "pipeline/eval_plots.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

void eval_write_plots(const char *dir, const cJSON *config, const groups *g, const names *models, FILE *summary)
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
            fprintf(f, " %s lo hi", eval_task_order[t]);
        fprintf(f, "\n");
        for (int k = 0; k < 7; k++) {
            fprintf(f, "%s", eval_method_order[k]);
            for (int t = 0; t < 4; t++) {
                const group *x = group_find(g, models->v[m], eval_task_order[t], eval_method_order[k], np);
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
                const group *x = sweep_group(g, models->v[m], eval_task_order[t], n);
                if (x) {
                    if (!rows)
                        fprintf(f, "# %s %s\n", models->v[m], eval_task_order[t]);
                    fprintf(f, "%d %.4f %.4f %.4f\n", n, x->mean[S_SCORE], x->lo, x->hi);
                    rows++;
                }
            }
            if (rows > 1 && n_series < 32) {
                fprintf(f, "\n\n");
                snprintf(titles[n_series++], sizeof titles[0], "%s / %s", models->v[m], eval_task_order[t]);
            } else if (rows == 1)
                fprintf(f, "\n\n"), snprintf(titles[n_series++], sizeof titles[0], "%s / %s", models->v[m],
                                             eval_task_order[t]);
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
                present |= group_find(g, models->v[m], eval_task_order[t], eval_method_order[j], np) != NULL;
            if (!present)
                continue;
            fprintf(f, "%s'by_method.dat' index %d using %d:%d:%d%s title '%s'", k ? ", " : "", m, 2 + 3 * t,
                    3 + 3 * t, 4 + 3 * t, k ? "" : ":xtic(1)", eval_task_order[t]);
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
