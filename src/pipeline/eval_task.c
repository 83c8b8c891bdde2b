/* eval_task.c — loads the eval tasks' instances (spider, molecules,
 * blocksworld, pydata) from the shared data and builds their prompts in the
 * formats of ../shared/models/README.md. */
#include "pipeline/eval_task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/error.h"

static const char *const task_names[EVAL_N_TASKS] = {"spider", "molecules", "blocksworld", "pydata"};
static const int task_max_tokens[EVAL_N_TASKS] = {96, 64, 160, 64};
/* Context length per task, 0: the model's. Blocksworld's long problem descriptions leave
 * fewer than its 160 tokens in the shared models' 512 (docs/results/README.md). */
static const int task_n_ctx[EVAL_N_TASKS] = {0, 0, 1024, 0};

const char *eval_task_name(eval_task_kind t)
{
    return (unsigned)t < EVAL_N_TASKS ? task_names[t] : "?";
}

int eval_task_parse(const char *name, eval_task_kind *out)
{
    for (int i = 0; i < EVAL_N_TASKS; i++)
        if (!strcmp(name, task_names[i])) {
            *out = (eval_task_kind)i;
            return 0;
        }
    return -1;
}

const char *const eval_pydata_critic_test =
    "if 'result' not in globals():\n    raise NameError('the program never assigns result')\n";

int eval_task_max_tokens(eval_task_kind t)
{
    return (unsigned)t < EVAL_N_TASKS ? task_max_tokens[t] : 64;
}

int eval_task_n_ctx(eval_task_kind t)
{
    return (unsigned)t < EVAL_N_TASKS ? task_n_ctx[t] : 0;
}

static char *read_all(const char *path, smc_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        smc_fail(err, "%s: cannot open", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[65536];
    size_t got;
    while (m && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, got, m);
    bool bad = ferror(f) || !m;
    fclose(f);
    if (m)
        fclose(m);
    if (bad) {
        free(buf);
        smc_fail(err, "%s: read error", path);
        return NULL;
    }
    return buf;
}

static char *dup_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

char *eval_spider_prompt(const cJSON *tables_entry, const char *question)
{
    const cJSON *db = cJSON_GetObjectItemCaseSensitive(tables_entry, "db_id");
    const cJSON *tabs = cJSON_GetObjectItemCaseSensitive(tables_entry, "table_names_original");
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(tables_entry, "column_names_original");
    if (!cJSON_IsString(db) || !cJSON_IsArray(tabs) || !cJSON_IsArray(cols))
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    fprintf(m, "-- Database: %s\n", db->valuestring);
    int t = 0;
    for (const cJSON *tn = tabs->child; tn; tn = tn->next, t++) {
        if (!cJSON_IsString(tn))
            continue;
        fprintf(m, "CREATE TABLE %s (", tn->valuestring);
        int k = 0;
        for (const cJSON *c = cols->child; c; c = c->next) {
            const cJSON *ti = cJSON_GetArrayItem(c, 0), *cn = cJSON_GetArrayItem(c, 1);
            if (cJSON_IsNumber(ti) && ti->valueint == t && cJSON_IsString(cn))
                fprintf(m, "%s%s", k++ ? ", " : "", cn->valuestring);
        }
        fprintf(m, ");\n");
    }
    fprintf(m, "\n-- Question: %s\n", question);
    fclose(m);
    return buf;
}

static int grow(eval_instance **v, int n, smc_error *err)
{
    eval_instance *g = realloc(*v, (size_t)(n + 1) * sizeof **v);
    if (!g)
        return smc_fail(err, "out of memory");
    memset(&g[n], 0, sizeof g[n]);
    *v = g;
    return 0;
}

static int load_spider(const char *dir, int limit, eval_instance **v, int *n, smc_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data/spider/tables.json", dir);
    char *tt = read_all(path, err);
    if (!tt)
        return -1;
    cJSON *tables = cJSON_Parse(tt);
    free(tt);
    snprintf(path, sizeof path, "%s/data/spider/dev.json", dir);
    char *dt = read_all(path, err);
    cJSON *dev = dt ? cJSON_Parse(dt) : NULL;
    free(dt);
    int rc = 0;
    if (!cJSON_IsArray(tables) || !cJSON_IsArray(dev)) {
        rc = smc_fail(err, "spider: tables.json or dev.json is not a JSON array");
        goto out;
    }
    for (const cJSON *q = dev->child; q && (limit <= 0 || *n < limit); q = q->next) {
        const cJSON *db = cJSON_GetObjectItemCaseSensitive(q, "db_id");
        const cJSON *qs = cJSON_GetObjectItemCaseSensitive(q, "question");
        const cJSON *gold = cJSON_GetObjectItemCaseSensitive(q, "query");
        if (!cJSON_IsString(db) || !cJSON_IsString(qs) || !cJSON_IsString(gold)) {
            rc = smc_fail(err, "spider: dev.json item %d lacks db_id/question/query", *n);
            goto out;
        }
        const cJSON *entry = NULL;
        for (const cJSON *t = tables->child; t && !entry; t = t->next) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "db_id");
            if (cJSON_IsString(id) && !strcmp(id->valuestring, db->valuestring))
                entry = t;
        }
        if (!entry) {
            rc = smc_fail(err, "spider: database %s is not in tables.json", db->valuestring);
            goto out;
        }
        if ((rc = grow(v, *n, err)))
            goto out;
        eval_instance *in = &(*v)[(*n)++];
        char id[64];
        snprintf(id, sizeof id, "spider-%03d", *n - 1);
        snprintf(path, sizeof path, "%s/data/spider/database/%s/%s.sqlite", dir, db->valuestring,
                 db->valuestring);
        in->id = strdup(id);
        in->prompt = eval_spider_prompt(entry, qs->valuestring);
        in->gold = strdup(gold->valuestring);
        in->db_path = strdup(path);
        if (!in->id || !in->prompt || !in->gold || !in->db_path) {
            rc = smc_fail(err, "spider: out of memory");
            goto out;
        }
    }
out:
    cJSON_Delete(tables);
    cJSON_Delete(dev);
    return rc;
}

/* One JSON object per line; calls fill for each of the first `limit`. */
static int load_jsonl(const char *path, int limit, eval_instance **v, int *n,
                      int (*fill)(const cJSON *o, eval_instance *in, smc_error *err), smc_error *err)
{
    char *text = read_all(path, err);
    if (!text)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && (limit <= 0 || *n < limit);
         line = strtok_r(NULL, "\n", &save)) {
        if (!*line)
            continue;
        cJSON *o = cJSON_Parse(line);
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            rc = smc_fail(err, "%s: line %d is not a JSON object", path, *n + 1);
            break;
        }
        if ((rc = grow(v, *n, err))) {
            cJSON_Delete(o);
            break;
        }
        eval_instance *in = &(*v)[(*n)++];
        in->id = dup_str(o, "id");
        rc = fill(o, in, err);
        if (!rc && !in->id)
            rc = smc_fail(err, "an item without \"id\"");
        cJSON_Delete(o);
        if (rc) {
            smc_fail_context(err, "%s", path);
            break;
        }
    }
    free(text);
    return rc;
}

static int fill_molecules(const cJSON *o, eval_instance *in, smc_error *err)
{
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "examples");
    int k = cJSON_GetArraySize(ex);
    if (!cJSON_IsArray(ex) || k == 0)
        return smc_fail(err, "an item without \"examples\"");
    in->examples = calloc((size_t)k, sizeof *in->examples);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!in->examples || !m) {
        if (m)
            fclose(m);
        free(buf);
        return smc_fail(err, "out of memory");
    }
    for (const cJSON *e = ex->child; e; e = e->next)
        if (cJSON_IsString(e)) {
            in->examples[in->n_examples++] = strdup(e->valuestring);
            fprintf(m, "Molecule: %s\n", e->valuestring);
        }
    fprintf(m, "Molecule:");
    fclose(m);
    in->prompt = buf;
    return 0;
}

static int fill_blocksworld(const cJSON *o, eval_instance *in, smc_error *err)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "description");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "problem_prefix");
    in->gold = dup_str(o, "gold_problem");
    if (!cJSON_IsString(d) || !cJSON_IsString(p) || !in->gold)
        return smc_fail(err, "an item without description/problem_prefix/gold_problem");
    /* The prompt ends inside the goal, as the gold problem spells it up to
     * "(and" (the training format): the model writes only the literals and
     * the closing parentheses, never the boilerplate. */
    size_t np = strlen(p->valuestring);
    const char *and_kw = strncmp(in->gold, p->valuestring, np) ? NULL : strstr(in->gold + np, "(and");
    if (!and_kw)
        return smc_fail(err, "the gold problem does not continue problem_prefix with \"(:goal ... (and\"");
    int head = (int)(and_kw + 4 - (in->gold + np));
    size_t n = strlen(d->valuestring) + np + (size_t)head + 8;
    in->prompt = malloc(n);
    in->problem = malloc(n);
    if (!in->prompt || !in->problem)
        return smc_fail(err, "out of memory");
    snprintf(in->prompt, n, "%s\n\n%s%.*s", d->valuestring, p->valuestring, head, in->gold + np);
    snprintf(in->problem, n, "%s)\n", p->valuestring);
    return 0;
}

static int fill_pydata(const cJSON *o, eval_instance *in, smc_error *err)
{
    in->prompt = dup_str(o, "prompt");
    in->setup = dup_str(o, "context_setup");
    in->test = dup_str(o, "test");
    in->gold = dup_str(o, "reference_solution");
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(o, "max_lines");
    in->max_lines = cJSON_IsNumber(ml) && ml->valueint > 0 ? ml->valueint : 3;
    if (in->max_lines > 20)
        in->max_lines = 20;
    if (!in->prompt || !in->test)
        return smc_fail(err, "an item without prompt/test");
    return 0;
}

int eval_task_load(eval_task_kind t, const char *shared_dir, int limit, eval_instance **out, int *n,
                   smc_error *err)
{
    *out = NULL;
    *n = 0;
    char path[4096];
    int rc;
    switch (t) {
    case EVAL_SPIDER:
        rc = load_spider(shared_dir, limit, out, n, err);
        break;
    case EVAL_MOLECULES:
        snprintf(path, sizeof path, "%s/data/molecules/prompts_dev.jsonl", shared_dir);
        rc = load_jsonl(path, limit, out, n, fill_molecules, err);
        break;
    case EVAL_BLOCKSWORLD:
        snprintf(path, sizeof path, "%s/data/blocksworld/dev.jsonl", shared_dir);
        rc = load_jsonl(path, limit, out, n, fill_blocksworld, err);
        break;
    case EVAL_PYDATA:
        snprintf(path, sizeof path, "%s/data/pydata/dev.jsonl", shared_dir);
        rc = load_jsonl(path, limit, out, n, fill_pydata, err);
        break;
    default:
        return smc_fail(err, "unknown task %d", (int)t);
    }
    if (rc) {
        eval_instances_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void eval_instances_free(eval_instance *v, int n)
{
    for (int i = 0; v && i < n; i++) {
        eval_instance *in = &v[i];
        free(in->id);
        free(in->prompt);
        free(in->gold);
        free(in->db_path);
        free(in->problem);
        free(in->setup);
        free(in->test);
        for (int k = 0; k < in->n_examples; k++)
            free(in->examples[k]);
        free(in->examples);
    }
    free(v);
}
