/* eval_metrics.h — the eval harness's per-sample metrics (execution
 * accuracy on SQLite, goal equivalence, hidden Python tests, SMILES
 * validity) and statistics (mean, bootstrap confidence interval). */
#ifndef SMC_PIPELINE_EVAL_METRICS_H
#define SMC_PIPELINE_EVAL_METRICS_H

#include <sqlite3.h>

#include "pipeline/eval_task.h"
#include "smcgen.h"

/* Execution match: whether pred returns the same rows as gold on db — the
 * same multiset of rows, or the same sequence when gold has an ORDER BY.
 * *same is false (rc 0) when pred fails to prepare or run; -1 only when the
 * gold query itself fails. Each query gets budget_ms of run time. */
int eval_sql_same_result(sqlite3 *db, const char *gold, const char *pred, double budget_ms, bool *same,
                         smc_error *err);
/* Whether the query's outermost level has ORDER BY (outside parentheses,
 * string literals and quoted names). */
bool eval_sql_has_order_by(const char *sql);
/* A second database state for execution match: an in-memory copy of path
 * with a fixed, hashed third of each table's rows deleted and another third
 * duplicated (where keys allow); read-only like eval_sql_open. */
int eval_sql_open_perturbed(const char *path, sqlite3 **out, smc_error *err);
/* Opens a database read-only, with an authorizer that allows reads only. */
int eval_sql_open(const char *path, sqlite3 **out, smc_error *err);

/* The posterior-weighted score Σ w̄ᵢ·scoreᵢ, w̄ᵢ = exp(logwᵢ) / Σⱼ exp(logwⱼ);
 * 0 when every log-weight is -inf (all particles dead). weights (may be
 * NULL) receives the w̄ᵢ. */
double eval_weighted_score(const double *logw, const double *score, int n, double *weights);
/* Mean of x[0..n) (0 when n == 0). */
double eval_mean(const double *x, int n);
/* Percentile bootstrap 95% interval of the mean: `resamples` resamples of
 * n values with replacement, with a fixed-seed generator. n == 0: 0, 0. */
void eval_bootstrap_ci(const double *x, int n, int resamples, uint64_t seed, double *lo, double *hi);

/* Scores samples of one task in [0, 1]; keeps per-instance state (gold
 * rows, parsed problem, the Python worker) and caches scores by text. */
typedef struct eval_scorer eval_scorer;
int eval_scorer_new(eval_task_kind t, eval_scorer **out, smc_error *err);
int eval_scorer_set_instance(eval_scorer *s, const eval_instance *in, smc_error *err);
/* The score of one generated text (its leading whitespace ignored); -1 on
 * an internal failure (err says why). */
int eval_scorer_score(eval_scorer *s, const char *text, size_t len, double *score, smc_error *err);
/* The same, and *strict: for spider, execution match on both the database
 * and its perturbed copy (eval_sql_open_perturbed); for the other tasks, the
 * score. */
int eval_scorer_score2(eval_scorer *s, const char *text, size_t len, double *score, double *strict,
                       smc_error *err);
void eval_scorer_free(eval_scorer *s);

/* The Python for pydata: $SMCGEN_PYTHON, else /usr/bin/python3 when present
 * (Debian's, with pandas), else NULL (the critic's default). */
const char *eval_python(void);

#endif
