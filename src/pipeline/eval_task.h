/* eval_task.h — the eval harness's four benchmark tasks: loading their
 * instances from ../shared/data and building prompts exactly in the formats
 * the domain models were trained on. */
#ifndef SMC_PIPELINE_EVAL_TASK_H
#define SMC_PIPELINE_EVAL_TASK_H

#include "smcgen.h"

typedef enum eval_task_kind {
    EVAL_SPIDER, EVAL_MOLECULES, EVAL_BLOCKSWORLD, EVAL_PYDATA, EVAL_N_TASKS
} eval_task_kind;

const char *eval_task_name(eval_task_kind t);           /* "spider", ... */
int eval_task_parse(const char *name, eval_task_kind *out); /* 0 ok, -1 unknown */
int eval_task_max_tokens(eval_task_kind t);             /* tokens per particle */
int eval_task_n_ctx(eval_task_kind t);                  /* context length; 0: the model's */

typedef struct eval_instance {
    char *id;
    char *prompt;        /* the text the model continues */
    char *gold;          /* spider: gold SQL; blocksworld: gold problem; pydata: reference */
    char *db_path;       /* spider: the SQLite file */
    char *problem;       /* blocksworld: the problem without its goal (for the critic) */
    char *setup, *test;  /* pydata: context setup and hidden test */
    int max_lines;       /* pydata: lines the answer may take */
    char **examples;     /* molecules: the few-shot SMILES */
    int n_examples;
} eval_instance;

/* The first `limit` instances (all when limit <= 0) of task t from the
 * shared data folder. */
int eval_task_load(eval_task_kind t, const char *shared_dir, int limit, eval_instance **out, int *n,
                   smc_error *err);
void eval_instances_free(eval_instance *v, int n);

/* The spider prompt: "-- Database: DB\n", one "CREATE TABLE t (c, ...);"
 * line per table (original names), "\n-- Question: Q\n". tables is the
 * parsed tables.json entry (a cJSON object) for the database. malloc'd. */
/* Python the pydata critic runs after a complete program: the task's test
 * reads `result`, so a program that never assigns it fails here. */
extern const char *const eval_pydata_critic_test;

struct cJSON;
char *eval_spider_prompt(const struct cJSON *tables_entry, const char *question);

#endif
