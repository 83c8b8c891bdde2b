/* eval_report.h — turns OUT/units.jsonl into OUT/results.json (every unit
 * with its particles, weights and scores, plus the aggregates),
 * OUT/summary.md (methods × tasks per model with bootstrap CIs, diagnostics,
 * the particle sweep) and PNG plots made with gnuplot when it is present. */
#ifndef SMC_PIPELINE_EVAL_REPORT_H
#define SMC_PIPELINE_EVAL_REPORT_H

#include "smcgen.h"

/* metrics_script: the RDKit helper (scripts/eval_metrics.py) or NULL for the
 * default; when python3/RDKit are missing, molecule scores stay the C
 * validity check and summary.md says so. */
int eval_report(const char *out_dir, const char *metrics_script, smc_error *err);

#endif
