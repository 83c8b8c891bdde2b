/* eval_run.c — the eval harness's main loop: per model (loaded once), task,
 * instance (grammar, critic and prompt built once) and method / particle
 * count / replicate, one SMC run scored by the task's metric and appended to
 * OUT/units.jsonl; finished units are skipped on --resume. */
#include "pipeline/eval_run.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "pipeline/eval_metrics.h"
#include "pipeline/eval_report.h"
#include "pipeline/smc_setup.h"
#include "util/error.h"

void eval_opts_default(eval_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int t = 0; t < EVAL_N_TASKS; t++)
        o->tasks[t] = o->sweep_tasks[t] = true;
    for (int m = 0; m < 7; m++)
        o->methods[m] = true;
    smc_config_default(&o->base);
    o->replicates = 5;
}

void eval_unit_key(char *buf, size_t cap, const char *task, const char *model, const char *method,
                   int n_particles, const char *instance, int replicate)
{
    snprintf(buf, cap, "%s|%s|%s|%d|%s|%d", task, model, method, n_particles, instance, replicate);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int jint(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

void eval_unit_key_json(const cJSON *u, char *buf, size_t cap)
{
    eval_unit_key(buf, cap, jstr(u, "task"), jstr(u, "model"), jstr(u, "method"), jint(u, "n_particles"),
                  jstr(u, "instance"), jint(u, "replicate"));
}

/* ---- the set of finished units ------------------------------------------ */

typedef struct keyset {
    char **v;
    size_t n, cap;
} keyset;

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool keyset_has(const keyset *k, const char *key)
{
    return k->n && bsearch(&key, k->v, k->n, sizeof *k->v, cmp_key);
}

static void keyset_free(keyset *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
}

/* Reads the keys of units.jsonl; a torn last line (an interrupted write) is
 * ignored. */
static int load_done(const char *path, keyset *k, smc_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        cJSON *u = cJSON_Parse(line);
        if (!u)
            continue;
        char key[1024];
        eval_unit_key_json(u, key, sizeof key);
        cJSON_Delete(u);
        if (k->n == k->cap) {
            size_t nc = k->cap ? k->cap * 2 : 256;
            char **g = realloc(k->v, nc * sizeof *g);
            if (!g) {
                rc = smc_fail(err, "out of memory");
                break;
            }
            k->v = g;
            k->cap = nc;
        }
        if (!(k->v[k->n] = strdup(key))) {
            rc = smc_fail(err, "out of memory");
            break;
        }
        k->n++;
    }
    free(line);
    fclose(f);
    if (k->n)
        qsort(k->v, k->n, sizeof *k->v, cmp_key);
    return rc;
}

int eval_mkdir_p(const char *path, smc_error *err)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return smc_fail(err, "%s: cannot create (%s)", buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return smc_fail(err, "%s: cannot create (%s)", buf, strerror(errno));
    return 0;
}

/* ---- JSON of one unit ---------------------------------------------------- */

/* Text as valid UTF-8 (invalid bytes become U+FFFD), for JSON. */
static char *utf8_clean(const char *s, size_t n)
{
    char *out = malloc(n * 3 + 1), *w = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        int k = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        bool ok = k > 0 && p + k <= end && *p != 0;
        for (int i = 1; ok && i < k; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (ok && k == 2 && *p < 0xC2)
            ok = false;
        if (ok) {
            memcpy(w, p, (size_t)k);
            w += k;
            p += k;
        } else {
            memcpy(w, "\xEF\xBF\xBD", 3);
            w += 3;
            p++;
        }
    }
    *w = 0;
    return out;
}

static void add_text(cJSON *o, const char *key, const char *s, size_t n)
{
    char *c = utf8_clean(s, n);
    cJSON_AddStringToObject(o, key, c ? c : "");
    free(c);
}

static void add_finite(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

typedef struct unit_info {
    const char *task, *model, *model_path, *method, *instance;
    int n_particles, replicate, max_tokens, instance_index;
    uint64_t seed;
    const eval_instance *in;
} unit_info;

/* Scores every particle, the posterior-weighted score, and writes the line. */
static int write_unit(FILE *f, const unit_info *u, const smc_result *r, eval_scorer *sc, double *wscore,
                      smc_error *err)
{
    int n = r->n_particles;
    double *logw = malloc((size_t)n * sizeof *logw), *score = malloc((size_t)n * sizeof *score);
    double *wt = malloc((size_t)n * sizeof *wt), *strict = malloc((size_t)n * sizeof *strict);
    if (!logw || !score || !wt || !strict) {
        free(logw);
        free(score);
        free(wt);
        free(strict);
        return smc_fail(err, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        logw[i] = r->particles[i].log_weight;
        if (eval_scorer_score2(sc, r->particles[i].text, r->particles[i].len, &score[i], &strict[i], err)) {
            free(logw);
            free(score);
            free(wt);
            free(strict);
            return -1;
        }
    }
    double ws = eval_weighted_score(logw, score, n, wt);
    double ws_strict = eval_weighted_score(logw, strict, n, NULL);
    bool dead = true;
    for (int i = 0; i < n; i++)
        dead &= wt[i] == 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "task", u->task);
    cJSON_AddStringToObject(o, "model", u->model);
    cJSON_AddStringToObject(o, "model_path", u->model_path);
    cJSON_AddStringToObject(o, "method", u->method);
    cJSON_AddNumberToObject(o, "n_particles", u->n_particles);
    cJSON_AddStringToObject(o, "instance", u->instance);
    cJSON_AddNumberToObject(o, "instance_index", u->instance_index);
    cJSON_AddNumberToObject(o, "replicate", u->replicate);
    cJSON_AddNumberToObject(o, "seed", (double)u->seed);
    cJSON_AddNumberToObject(o, "max_tokens", u->max_tokens);
    add_finite(o, "log_z", r->log_z);
    cJSON_AddNumberToObject(o, "ess", r->ess);
    cJSON_AddNumberToObject(o, "n_resamples", r->n_resamples);
    cJSON_AddNumberToObject(o, "n_steps", r->n_steps);
    cJSON_AddBoolToObject(o, "all_dead", r->all_dead || dead);
    cJSON_AddNumberToObject(o, "t_total", r->t_total);
    cJSON_AddNumberToObject(o, "t_lm", r->t_lm);
    cJSON_AddNumberToObject(o, "t_mask", r->t_mask);
    cJSON_AddNumberToObject(o, "t_critic", r->t_critic);
    cJSON_AddNumberToObject(o, "t_resample", r->t_resample);
    cJSON *ps = cJSON_AddArrayToObject(o, "particles");
    for (int i = 0; i < n; i++) {
        const smc_particle_out *p = &r->particles[i];
        double w = wt[i];
        cJSON *pj = cJSON_CreateObject();
        add_text(pj, "text", p->text, p->len);
        add_finite(pj, "log_weight", logw[i]);
        cJSON_AddNumberToObject(pj, "weight", w);
        cJSON_AddNumberToObject(pj, "score", score[i]);
        cJSON_AddNumberToObject(pj, "n_tokens", p->n_tokens);
        cJSON_AddBoolToObject(pj, "forced_eos", p->forced_eos);
        cJSON_AddItemToArray(ps, pj);
    }
    cJSON_AddNumberToObject(o, "score", ws);
    if (!strcmp(u->task, "spider"))   /* execution match on both database states */
        cJSON_AddNumberToObject(o, "score_strict", ws_strict);
    if (u->in->n_examples) {
        cJSON *ex = cJSON_AddArrayToObject(o, "reference");
        for (int i = 0; i < u->in->n_examples; i++)
            cJSON_AddItemToArray(ex, cJSON_CreateString(u->in->examples[i]));
    }
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(logw);
    free(score);
    free(wt);
    free(strict);
    if (!line)
        return smc_fail(err, "out of memory");
    int bad = fprintf(f, "%s\n", line) < 0 || fflush(f);
    free(line);
    if (bad)
        return smc_fail(err, "cannot write units.jsonl: %s", strerror(errno));
    *wscore = ws;
    return 0;
}

/* ---- the loop ------------------------------------------------------------ */

typedef struct run_spec {
    smc_method method;
    int n_particles;
} run_spec;

typedef struct progress {
    long done, total;
    double t0;
    bool quiet;
} progress;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show(progress *pg, const unit_info *u, int inst_i, int n_inst, int n_reps, double mean_score)
{
    if (pg->quiet)
        return;
    double el = wall() - pg->t0;
    double eta = pg->done ? el / pg->done * (pg->total - pg->done) : 0;
    fprintf(stderr,
            "eval %-11s %-6s %-8s N=%-3d instance %d/%d (%d reps) score %.3f | %ld/%ld units, %.0fs, ETA %dm%02ds\n",
            u->task, u->model, u->method, u->n_particles, inst_i + 1, n_inst, n_reps, mean_score, pg->done,
            pg->total, el, (int)eta / 60, (int)eta % 60);
}

static int task_limit(const eval_opts *o, eval_task_kind t)
{
    return t == EVAL_PYDATA && o->limit_pydata > 0 ? o->limit_pydata : o->limit;
}

/* Whether instance i (in the task's order) belongs to this shard: every
 * N-th instance, so each shard gets all methods, particle counts and
 * replicates of its instances (paired units stay together). */
static bool in_shard(const eval_opts *o, int i)
{
    return o->shard_n <= 1 || i % o->shard_n == o->shard_i;
}

static int specs_for(const eval_opts *o, eval_task_kind t, int inst_i, run_spec *sp)
{
    int k = 0;
    for (int m = 0; m < 7; m++)
        if (o->methods[m])
            sp[k++] = (run_spec){(smc_method)m, o->base.n_particles};
    int sl = o->sweep_limit > 0 ? o->sweep_limit : (1 << 30);
    if (inst_i < sl && o->sweep_tasks[t])
        for (int s = 0; s < o->n_sweep; s++)
            if (o->sweep[s] != o->base.n_particles || !o->methods[SMC_METHOD_SMC_FULL])
                sp[k++] = (run_spec){SMC_METHOD_SMC_FULL, o->sweep[s]};
    return k;
}

int eval_build_instance(eval_task_kind t, const eval_instance *in, int n_threads, smc_setup *s,
                        smc_error *err)
{
    smc_setup_opts so = {.default_stops = true, .prompt = in->prompt, .n_threads = n_threads};
    critic_spec cs;
    char spec[4200], regex[128];
    switch (t) {
    case EVAL_SPIDER:
        snprintf(spec, sizeof spec, "sql:%s", in->db_path);
        so.critic = spec;
        return smc_setup_instance(&so, NULL, s, err);
    case EVAL_MOLECULES:
        so.critic = "smiles";
        return smc_setup_instance(&so, NULL, s, err);
    case EVAL_BLOCKSWORLD:
        if (critic_spec_pddl_text(in->problem, strlen(in->problem), &cs, err))
            return -1;
        cs.start = "after-and";   /* the prompt ends with "(:goal (and" */
        cs.lead = "";
        return smc_setup_instance(&so, &cs, s, err);
    case EVAL_PYDATA: {
        /* Cheap potential: at most max_lines lines of code; a blank line
         * ends the answer. The critic runs the setup and the code so far. */
        snprintf(regex, sizeof regex, "[^\\n]+(\\n[^\\n]+){0,%d}\\n?", in->max_lines - 1);
        so.regex = regex;
        so.stops[so.n_stops++] = "\n\n";
        /* The task's test reads `result`: a program that never assigns it
         * can never score, so the critic's complete check refuses it (the
         * hidden test itself stays hidden). */
        if (critic_spec_python_code(eval_python(), in->setup, eval_pydata_critic_test, &cs, err))
            return -1;
        int rc = smc_setup_instance(&so, &cs, s, err);
        return rc;
    }
    default:
        return smc_fail(err, "unknown task");
    }
}

/* One run's trace, its info naming the unit. */
static smc_trace *unit_trace_new(const unit_info *u, smc_error *err)
{
    smc_trace *t = smc_trace_new();
    char rep[32];
    snprintf(rep, sizeof rep, "%d", u->replicate);
    if (!t || smc_trace_set_info(t, "task", u->task, err) || smc_trace_set_info(t, "model", u->model_path, err) ||
        smc_trace_set_info(t, "instance", u->instance, err) || smc_trace_set_info(t, "replicate", rep, err)) {
        smc_trace_free(t);
        smc_fail(err, "out of memory starting a trace");
        return NULL;
    }
    return t;
}

/* Writes the trace (result NULL for a failed run) to
 * DIR/TASK-MODEL-METHOD-nN-INSTANCE-rR.json (names made file-safe), frees
 * it. err NULL: a failure is not reported (the run's own error stands). */
static int unit_trace_write(const char *dir, const unit_info *u, smc_trace *t, const smc_result *res,
                            smc_error *err)
{
    char name[512], path[4096];
    snprintf(name, sizeof name, "%s-%s-%s-n%d-%s-r%d.json", u->task, u->model, u->method, u->n_particles,
             u->instance, u->replicate);
    for (char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("._-", *c))
            *c = '_';
    snprintf(path, sizeof path, "%s/%s", dir, name);
    smc_error scratch;
    int rc = smc_trace_write(t, res, path, err ? err : &scratch);
    smc_trace_free(t);
    return rc;
}

static int run_task(const eval_opts *o, const eval_model_ref *mr, smc_setup *s, eval_task_kind t, FILE *uf,
                    const keyset *done, progress *pg, smc_error *err)
{
    eval_instance *insts = NULL;
    int n_inst = 0;
    if (eval_task_load(t, o->shared_dir, task_limit(o, t), &insts, &n_inst, err))
        return -1;
    eval_scorer *sc = NULL;
    int rc = eval_scorer_new(t, &sc, err);
    run_spec specs[7 + EVAL_MAX_SWEEP];
    for (int i = 0; rc == 0 && i < n_inst; i++) {
        const eval_instance *in = &insts[i];
        if (!in_shard(o, i))
            continue;
        int n_specs = specs_for(o, t, i, specs);
        bool any = false;
        char key[1024];
        for (int k = 0; k < n_specs && !any; k++)
            for (int r = 0; r < o->replicates && !any; r++) {
                eval_unit_key(key, sizeof key, eval_task_name(t), mr->name, smc_method_name(specs[k].method),
                              specs[k].n_particles, in->id, r);
                any = !keyset_has(done, key);
            }
        if (!any)
            continue;
        if (eval_build_instance(t, in, o->n_threads, s, err) || eval_scorer_set_instance(sc, in, err)) {
            rc = smc_fail_context(err, "%s %s", eval_task_name(t), in->id);
            break;
        }
        /* The prompt and the generation must fit the context: long prompts
         * get fewer tokens (recorded as the unit's max_tokens). */
        int max_tokens = o->max_tokens > 0 ? o->max_tokens : eval_task_max_tokens(t);
        int room = smc_ctx_n_ctx(s->ctx) - (int)s->n_prompt - 1;
        if (room < 1) {
            fprintf(stderr, "smcgen eval: %s: the prompt fills the context; skipped\n", in->id);
            continue;
        }
        if (max_tokens > room)
            max_tokens = room;
        for (int k = 0; rc == 0 && k < n_specs; k++) {
            unit_info u = {.task = eval_task_name(t), .model = mr->name, .model_path = mr->path,
                           .method = smc_method_name(specs[k].method), .instance = in->id,
                           .n_particles = specs[k].n_particles, .max_tokens = max_tokens, .in = in,
                           .instance_index = i};
            double sum = 0;
            int ran = 0;
            for (int r = 0; r < o->replicates; r++) {
                eval_unit_key(key, sizeof key, u.task, u.model, u.method, u.n_particles, in->id, r);
                if (keyset_has(done, key))
                    continue;
                smc_config cfg = o->base;
                cfg.method = specs[k].method;
                cfg.n_particles = specs[k].n_particles;
                cfg.max_tokens = u.max_tokens;
                cfg.seed = o->base.seed + (uint64_t)r;
                u.replicate = r;
                u.seed = cfg.seed;
                smc_result *res = NULL;
                double ws = 0;
                if (o->trace_dir && !(cfg.trace = unit_trace_new(&u, err))) {
                    rc = -1;
                    break;
                }
                int run_rc = smc_run(s->lm, s->prompt, s->n_prompt, s->cheap, s->critic.critic, &cfg, &res, err);
                if (cfg.trace && unit_trace_write(o->trace_dir, &u, cfg.trace, res, run_rc ? NULL : err) && !run_rc)
                    run_rc = -1;
                if (run_rc || write_unit(uf, &u, res, sc, &ws, err)) {
                    smc_result_free(res);
                    rc = smc_fail_context(err, "%s %s %s %s", u.task, u.model, u.method, in->id);
                    break;
                }
                smc_result_free(res);
                sum += ws;
                ran++;
                pg->done++;
            }
            if (ran)
                show(pg, &u, i, n_inst, ran, sum / ran);
        }
    }
    smc_setup_instance_free(s);
    eval_scorer_free(sc);
    eval_instances_free(insts, n_inst);
    return rc;
}

static long count_units(const eval_opts *o, const keyset *done)
{
    long total = 0;
    (void)done;
    for (int t = 0; t < EVAL_N_TASKS; t++) {
        if (!o->tasks[t])
            continue;
        int lim = task_limit(o, (eval_task_kind)t);
        int n = lim > 0 ? lim : 250;
        run_spec sp[7 + EVAL_MAX_SWEEP];
        for (int i = 0; i < n; i++)
            if (in_shard(o, i))
                total += (long)specs_for(o, (eval_task_kind)t, i, sp) * o->replicates;
    }
    return total * o->n_models - (long)done->n;
}

/* config.json: this run's options, and every command that added to the run
 * folder (a resumed run keeps the earlier ones). */
static void write_config(const eval_opts *o)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", o->out_dir);
    cJSON *commands = NULL;
    FILE *old = o->resume ? fopen(path, "r") : NULL;
    if (old) {
        char buf[16384];
        size_t n = fread(buf, 1, sizeof buf - 1, old);
        buf[n] = 0;
        fclose(old);
        cJSON *prev = cJSON_Parse(buf);
        commands = cJSON_DetachItemFromObjectCaseSensitive(prev, "commands");
        if (!cJSON_IsArray(commands)) {
            cJSON_Delete(commands);
            commands = cJSON_CreateArray();
            const cJSON *c1 = cJSON_GetObjectItemCaseSensitive(prev, "command");
            if (cJSON_IsString(c1))
                cJSON_AddItemToArray(commands, cJSON_CreateString(c1->valuestring));
        }
        cJSON_Delete(prev);
    }
    if (!commands)
        commands = cJSON_CreateArray();
    if (o->command)
        cJSON_AddItemToArray(commands, cJSON_CreateString(o->command));
    cJSON *c = cJSON_CreateObject();
    if (o->command)
        cJSON_AddStringToObject(c, "command", o->command);
    cJSON_AddItemToObject(c, "commands", commands);
    cJSON_AddNumberToObject(c, "n_particles", o->base.n_particles);
    cJSON_AddNumberToObject(c, "ess_threshold", o->base.ess_threshold);
    cJSON_AddStringToObject(c, "resample", smc_resample_name(o->base.resample));
    cJSON_AddStringToObject(c, "resample_at", o->base.resample_at_critic ? "critic" : "step");
    cJSON_AddNumberToObject(c, "temperature", o->base.temperature);
    cJSON_AddStringToObject(c, "proposal", o->base.proposal == SMC_PROPOSAL_AWRS ? "awrs" : "masked");
    cJSON_AddNumberToObject(c, "limit_pydata", o->limit_pydata);
    cJSON_AddNumberToObject(c, "sweep_limit", o->sweep_limit);
    cJSON *sw = cJSON_AddArrayToObject(c, "particle_sweep");
    for (int i = 0; i < o->n_sweep; i++)
        cJSON_AddItemToArray(sw, cJSON_CreateNumber(o->sweep[i]));
    cJSON *st = cJSON_AddArrayToObject(c, "sweep_tasks");
    for (int t = 0; t < EVAL_N_TASKS; t++)
        if (o->tasks[t] && o->sweep_tasks[t] && o->n_sweep)
            cJSON_AddItemToArray(st, cJSON_CreateString(eval_task_name((eval_task_kind)t)));
    cJSON *nc = cJSON_AddObjectToObject(c, "n_ctx");   /* per task; 0: the model's */
    for (int t = 0; t < EVAL_N_TASKS; t++)
        if (o->tasks[t])
            cJSON_AddNumberToObject(nc, eval_task_name((eval_task_kind)t),
                                    o->n_ctx > 0 ? o->n_ctx : eval_task_n_ctx((eval_task_kind)t));
    cJSON *ts = cJSON_AddArrayToObject(c, "tasks");
    for (int t = 0; t < EVAL_N_TASKS; t++)
        if (o->tasks[t])
            cJSON_AddItemToArray(ts, cJSON_CreateString(eval_task_name((eval_task_kind)t)));
    cJSON *ms = cJSON_AddArrayToObject(c, "methods");
    for (int m = 0; m < 7; m++)
        if (o->methods[m])
            cJSON_AddItemToArray(ms, cJSON_CreateString(smc_method_name((smc_method)m)));
    if (o->shard_n > 1) {
        cJSON *sh = cJSON_AddObjectToObject(c, "shard");
        cJSON_AddNumberToObject(sh, "index", o->shard_i);
        cJSON_AddNumberToObject(sh, "count", o->shard_n);
    }
    cJSON_AddNumberToObject(c, "replicates", o->replicates);
    cJSON_AddNumberToObject(c, "limit", o->limit);
    cJSON_AddNumberToObject(c, "seed", (double)o->base.seed);
    cJSON *m = cJSON_AddObjectToObject(c, "models");
    for (int i = 0; i < o->n_models; i++)
        cJSON_AddStringToObject(m, o->models[i].name, o->models[i].path);
    cJSON *mt = cJSON_AddObjectToObject(c, "max_tokens");
    for (int t = 0; t < EVAL_N_TASKS; t++)
        cJSON_AddNumberToObject(mt, eval_task_name((eval_task_kind)t),
                                o->max_tokens > 0 ? o->max_tokens : eval_task_max_tokens((eval_task_kind)t));
    char *text = cJSON_Print(c);
    cJSON_Delete(c);
    FILE *f = text ? fopen(path, "w") : NULL;
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    free(text);
}

/* The option table's default prompt cache (--prompt-cache of smc and serve). */
static int default_prompt_cache(void)
{
    smc_run_opts d;
    smc_run_opts_init(&d);
    int n = d.prompt_cache;
    smc_run_opts_free(&d);
    return n;
}

/* The model for one context length, with the prompt cache (the option
 * table's default size): runs of one instance (methods, replicates) share its
 * prompt, and instances often share a prefix (a Spider database's schema), so
 * the engine LM keeps the last prompts' KV and computes only the rest. */
static int setup_model(const eval_opts *o, const eval_model_ref *mr, int n_ctx, smc_setup *s, smc_error *err)
{
    smc_setup_opts so = {.model_path = mr->path, .n_threads = o->n_threads, .n_ctx = n_ctx, .load = o->load};
    if (smc_setup_model(&so, s, err) ||
        smc_engine_lm_set_prompt_cache(s->engine_lm, default_prompt_cache(), err)) {
        smc_setup_free(s);
        return smc_fail_context(err, "model %s", mr->name);
    }
    return 0;
}

static void add_counts(const smc_setup *s, int64_t *decoded, int64_t *reused)
{
    int64_t d = 0, r = 0;
    smc_engine_lm_counts(s->engine_lm, &d, &r);
    *decoded += d;
    *reused += r;
}

int eval_run(const eval_opts *o, smc_error *err)
{
    if (o->n_models < 1)
        return smc_fail(err, "eval: no models");
    if (!o->shared_dir)
        return smc_fail(err, "eval: the shared data folder (../shared or $SMCGEN_SHARED) is missing");
    if (eval_mkdir_p(o->out_dir, err) || (o->trace_dir && eval_mkdir_p(o->trace_dir, err)))
        return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/units.jsonl", o->out_dir);
    struct stat st;
    if (!o->resume && stat(path, &st) == 0 && st.st_size > 0)
        return smc_fail(err, "%s already holds results: give --resume to continue it, or another --out", path);
    keyset done = {0};
    if (o->resume && load_done(path, &done, err))
        return -1;
    write_config(o);
    FILE *uf = fopen(path, "a");
    if (!uf) {
        keyset_free(&done);
        return smc_fail(err, "%s: cannot open for writing", path);
    }
    progress pg = {.total = count_units(o, &done), .t0 = wall(), .quiet = o->quiet};
    if (pg.total < 0)
        pg.total = 0;
    int rc = 0;
    for (int m = 0; rc == 0 && m < o->n_models; m++) {
        smc_setup s = {0};
        int cur_ctx = -1;
        int64_t decoded = 0, reused = 0;
        for (int t = 0; rc == 0 && t < EVAL_N_TASKS; t++) {
            if (!o->tasks[t])
                continue;
            /* A task with its own context length gets the model set up again with it;
             * runs that fit the shorter context are the same either way. */
            int n_ctx = o->n_ctx > 0 ? o->n_ctx : eval_task_n_ctx((eval_task_kind)t);
            if (n_ctx != cur_ctx) {
                if (cur_ctx >= 0) {
                    add_counts(&s, &decoded, &reused);
                    smc_setup_free(&s);
                }
                cur_ctx = -1;
                if ((rc = setup_model(o, &o->models[m], n_ctx, &s, err)))
                    break;
                cur_ctx = n_ctx;
            }
            rc = run_task(o, &o->models[m], &s, (eval_task_kind)t, uf, &done, &pg, err);
        }
        if (cur_ctx >= 0) {
            add_counts(&s, &decoded, &reused);
            smc_setup_free(&s);
        }
        if (!o->quiet && rc == 0)
            fprintf(stderr, "smcgen eval: model %s: %lld tokens evaluated, %lld prompt tokens reused from the cache\n",
                    o->models[m].name, (long long)decoded, (long long)reused);
    }
    fclose(uf);
    keyset_free(&done);
    if (rc)
        return rc;
    return eval_report(o->out_dir, NULL, err);
}
