/* bench_smc.c — the SMC-level speed figures of `smcgen bench --smc` and
 * bench/pipeline_smc_step.c. On Spider SQL (grammar + SQL critic, smc-full),
 * Blocksworld PDDL (goal grammar + goal critic, smc-full) and a JSON Schema
 * (smc), every instance runs with forced-token lookahead off and on,
 * interleaved, same seed: the forced-token fraction, the speed-up and
 * whether both runs gave the same particles and log Z. Beside them, raw
 * batched decoding of N sequences on the same model and context (the LM
 * alone at the run's batch size): particle-steps per second of the run
 * against it, and the share of the run's step time that is not the LM
 * (masks, critic, resampling, bookkeeping). The prompt's prefill is timed on
 * its own and left out of both. All times are process CPU time
 * (smc_clock_use_cpu): on a shared machine wall time is mostly waiting for a
 * core. Figures, not a test. */
#include "pipeline/bench_smc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/eval_run.h"
#include "pipeline/eval_task.h"
#include "pipeline/smc_setup.h"
#include "util/error.h"
#include "smc/logmath.h"

static const char *json_schema =
    "{\"type\":\"object\",\"properties\":{"
    "\"name\":{\"type\":\"string\",\"maxLength\":12},"
    "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":120},"
    "\"email\":{\"type\":\"string\",\"maxLength\":24},"
    "\"country\":{\"enum\":[\"France\",\"Norway\",\"Japan\",\"Chile\"]},"
    "\"active\":{\"type\":\"boolean\"}},"
    "\"required\":[\"name\",\"age\",\"email\",\"country\",\"active\"],"
    "\"additionalProperties\":false}";
static const char *json_prompt = "# One customer record as JSON\ncustomer = ";

enum { TASK_SPIDER, TASK_BLOCKSWORLD, TASK_JSON, N_BENCH_TASKS };
static const char *const task_names[N_BENCH_TASKS] = {"spider", "blocksworld", "json"};

void bench_smc_opts_default(bench_smc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->particles[0] = 10;
    o->particles[1] = 64;
    o->n_particles = 2;
    o->instances = 2;
    o->lookahead = 16;
    o->n_threads = 1;
    o->seed = 1;
}

/* Sums over the runs of one task and particle count, lookahead off [0] and
 * on [1]. */
typedef struct tally {
    int64_t tokens[2], forced[2], evals[2];
    int64_t passes[2];            /* engine decodes (passes over the weights) */
    double t_total[2], t_lm[2], t_mask[2], t_critic[2], t_resample[2];
    double t_prompt;              /* prefill of the prompts, once per run */
    int runs, same, steps;
} tally;

static void add_run(tally *t, int k, const smc_result *r, double t_prompt)
{
    t->tokens[k] += r->n_tokens;
    t->forced[k] += r->n_forced;
    t->evals[k] += r->n_lm_evals;
    t->t_total[k] += r->t_total - t_prompt;
    t->t_lm[k] += r->t_lm - t_prompt;
    t->t_mask[k] += r->t_mask;
    t->t_critic[k] += r->t_critic;
    t->t_resample[k] += r->t_resample;
}

/* Same particles (texts) and log Z within 1e-6. */
static bool same_result(const smc_result *a, const smc_result *b)
{
    if (a->n_particles != b->n_particles || a->n_resamples != b->n_resamples)
        return false;
    if (!(a->all_dead && b->all_dead) && fabs(a->log_z - b->log_z) > 1e-6)
        return false;
    for (int i = 0; i < a->n_particles; i++)
        if (a->particles[i].len != b->particles[i].len ||
            memcmp(a->particles[i].text, b->particles[i].text, a->particles[i].len) != 0)
            return false;
    return true;
}

/* Seconds to prefill toks[0..n) into a fresh sequence. */
static double time_prefill(smc_ctx *ctx, const int32_t *toks, size_t n, smc_error *err)
{
    smc_batch_entry *e = malloc(sizeof *e * (n ? n : 1));
    if (!e)
        return smc_fail(err, "out of memory");
    for (size_t i = 0; i < n; i++)
        e[i] = (smc_batch_entry){0, toks[i], i + 1 == n};
    int32_t seq = smc_seq_new(ctx, err);
    double t = -1;
    if (seq >= 0) {
        for (size_t i = 0; i < n; i++)
            e[i].seq = seq;
        smc_batch b = {e, (int32_t)n};
        double t0 = smc_now();
        if (smc_decode(ctx, &b, err) == 0)
            t = smc_now() - t0;
        smc_seq_free(ctx, seq);
    }
    free(e);
    return t;
}

/* Sequence-steps per second of raw batched decoding: n sequences sharing
 * the prompt, one token each per step, for `steps` steps. */
static double raw_decode_rate(smc_ctx *ctx, const int32_t *prompt, size_t np, int n, int steps,
                              smc_error *err)
{
    int32_t *seqs = malloc(sizeof *seqs * (size_t)n);
    smc_batch_entry *e = malloc(sizeof *e * (np > (size_t)n ? np : (size_t)n));
    double rate = -1, t = 0;
    int made = 0;
    if (!seqs || !e)
        goto out;
    seqs[0] = smc_seq_new(ctx, err);
    if (seqs[0] < 0)
        goto out;
    made = 1;
    for (size_t i = 0; i < np; i++)
        e[i] = (smc_batch_entry){seqs[0], prompt[i], i + 1 == np};
    smc_batch pb = {e, (int32_t)np};
    if (smc_decode(ctx, &pb, err) < 0)
        goto out;
    for (; made < n; made++)
        if ((seqs[made] = smc_seq_fork(ctx, seqs[0], err)) < 0)
            goto out;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n; i++)
            e[i] = (smc_batch_entry){seqs[i], prompt[(size_t)(s + i) % np], true};
        smc_batch b = {e, n};
        double t0 = smc_now();
        if (smc_decode(ctx, &b, err) < 0)
            goto out;
        t += smc_now() - t0;
    }
    rate = t > 0 ? (double)n * steps / t : -1;
out:
    for (int i = 0; i < made; i++)
        smc_seq_free(ctx, seqs[i]);
    free(seqs);
    free(e);
    return rate;
}

static int build(int task, const eval_instance *in, const bench_smc_opts *o, smc_setup *s,
                 smc_error *err)
{
    if (task == TASK_JSON) {
        smc_setup_opts so = {.prompt = json_prompt, .json_schema_text = json_schema,
                             .n_threads = o->n_threads};
        return smc_setup_instance(&so, NULL, s, err);
    }
    return eval_build_instance(task == TASK_SPIDER ? EVAL_SPIDER : EVAL_BLOCKSWORLD, in,
                               o->n_threads, s, err);
}

/* One task at particle count n: every instance off and on, then raw
 * decoding at n. */
static int bench_task(const bench_smc_opts *o, smc_setup *s, int task, const eval_instance *insts,
                      int n_inst, int n, tally *t, double *raw, smc_error *err)
{
    memset(t, 0, sizeof *t);
    int max_steps = 0;
    for (int i = 0; i < n_inst; i++) {
        const eval_instance *in = task == TASK_JSON ? NULL : &insts[i];
        if (build(task, in, o, s, err) < 0)
            return -1;
        int max_tokens = o->max_tokens > 0 ? o->max_tokens
                         : task == TASK_JSON ? 96
                                             : eval_task_max_tokens(task == TASK_SPIDER ? EVAL_SPIDER
                                                                                        : EVAL_BLOCKSWORLD);
        int room = smc_ctx_n_ctx(s->ctx) - (int)s->n_prompt - 1;
        if (max_tokens > room)
            max_tokens = room;
        if (max_tokens < 1)
            continue;
        double tp = time_prefill(s->ctx, s->prompt, s->n_prompt, err);
        if (tp < 0)
            return -1;
        smc_result *r[2] = {NULL, NULL};
        /* Off and on, in alternating order (the first run of a pair may
         * pay for memory the second reuses), each with a fresh grammar and
         * critic (the second must not find the masks and scores of the
         * first cached); the very first pair after a warm-up run. */
        int first = i == 0 ? -1 : 0;
        for (int j = first; j < 2; j++) {
            int k = j < 0 ? 0 : i % 2 ? 1 - j : j;
            if (j != first && build(task, in, o, s, err) < 0) {
                smc_result_free(r[0]);
                smc_result_free(r[1]);
                return -1;
            }
            smc_config c;
            smc_config_default(&c);
            c.method = task == TASK_JSON ? SMC_METHOD_SMC : SMC_METHOD_SMC_FULL;
            c.n_particles = n;
            c.max_tokens = max_tokens;
            c.seed = o->seed + (uint64_t)i;
            c.lookahead = k ? o->lookahead : 0;
            smc_result_free(r[k]);
            r[k] = NULL;
            int64_t passes = smc_engine_lm_passes(s->engine_lm);
            if (smc_run(s->lm, s->prompt, s->n_prompt, s->cheap, s->critic.critic, &c, &r[k], err) < 0) {
                smc_result_free(r[0]);
                smc_result_free(r[1]);
                return smc_fail_context(err, "%s instance %d", task_names[task], i);
            }
            if (j >= 0) {
                add_run(t, k, r[k], tp);
                t->passes[k] += smc_engine_lm_passes(s->engine_lm) - passes;
            }
        }
        t->t_prompt += tp;
        t->runs++;
        t->same += same_result(r[0], r[1]);
        t->steps += r[0]->n_steps;
        if (r[0]->n_steps > max_steps)
            max_steps = r[0]->n_steps;
        smc_result_free(r[0]);
        smc_result_free(r[1]);
    }
    *raw = t->runs ? raw_decode_rate(s->ctx, s->prompt, s->n_prompt, n,
                                     max_steps < 8 ? 8 : max_steps > 64 ? 64 : max_steps, err)
                   : -1;
    return t->runs && *raw < 0 ? -1 : 0;
}

static double share(double part, double whole) { return whole > 0 ? part / whole : 0; }

static void print_header(FILE *out)
{
    fprintf(out, "%-12s %4s %5s %7s %8s %7s | %8s %8s %6s | %9s %9s %6s | %6s %6s %6s %6s | %s\n",
            "task", "N", "runs", "tokens", "forced", "passes", "off s", "on s", "x", "smc ps/s", "raw ps/s",
            "ratio", "!lm", "mask", "critic", "resamp", "same");
}

static void print_row(FILE *out, int task, int n, const tally *t, double raw)
{
    /* Step figures from the lookahead-off runs: the same LM work as raw
     * decoding, one token per particle and step. */
    double step = t->t_total[0], lm = t->t_lm[0];
    double rate = step > 0 ? (double)t->evals[0] / step : 0;
    fprintf(out,
            "%-12s %4d %5d %7lld %7.1f%% %6.1f%% | %8.3f %8.3f %6.2f | %9.1f %9.1f %6.2f | %5.1f%% %5.1f%% "
            "%5.1f%% %5.1f%% | %d/%d\n",
            task_names[task], n, t->runs, (long long)t->tokens[0],
            100 * share((double)t->forced[0], (double)t->tokens[0]),
            -100 * share((double)(t->passes[0] - t->passes[1]), (double)t->passes[0]), t->t_total[0], t->t_total[1],
            share(t->t_total[0], t->t_total[1]), rate, raw, share(rate, raw),
            100 * share(step - lm, step), 100 * share(t->t_mask[0], step),
            100 * share(t->t_critic[0], step), 100 * share(t->t_resample[0], step), t->same, t->runs);
}

static void add_json(cJSON *arr, int task, int n, const tally *t, double raw)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "task", task_names[task]);
    cJSON_AddNumberToObject(o, "particles", n);
    cJSON_AddNumberToObject(o, "runs", t->runs);
    cJSON_AddNumberToObject(o, "same_results", t->same);
    const char *mode[2] = {"lookahead_off", "lookahead_on"};
    for (int k = 0; k < 2; k++) {
        cJSON *m = cJSON_AddObjectToObject(o, mode[k]);
        cJSON_AddNumberToObject(m, "tokens", (double)t->tokens[k]);
        cJSON_AddNumberToObject(m, "forced", (double)t->forced[k]);
        cJSON_AddNumberToObject(m, "particle_steps", (double)t->evals[k]);
        cJSON_AddNumberToObject(m, "lm_passes", (double)t->passes[k]);
        cJSON_AddNumberToObject(m, "t_steps", t->t_total[k]);
        cJSON_AddNumberToObject(m, "t_lm", t->t_lm[k]);
        cJSON_AddNumberToObject(m, "t_mask", t->t_mask[k]);
        cJSON_AddNumberToObject(m, "t_critic", t->t_critic[k]);
        cJSON_AddNumberToObject(m, "t_resample", t->t_resample[k]);
    }
    cJSON_AddNumberToObject(o, "t_prompt", t->t_prompt);
    cJSON_AddNumberToObject(o, "raw_decode_particle_steps_per_s", raw);
    cJSON_AddItemToArray(arr, o);
}

static bool task_wanted(const char *list, const char *name)
{
    if (!list)
        return true;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return true;
    return false;
}

int bench_smc_run(const bench_smc_opts *o, FILE *out, smc_error *err)
{
    char model[4096];
    if (o->model_path)
        snprintf(model, sizeof model, "%s", o->model_path);
    else
        snprintf(model, sizeof model, "%s/models/large-q8_0.gguf", o->shared_dir);
    smc_setup s;
    smc_setup_opts so = {.model_path = model, .n_threads = o->n_threads};
    if (smc_setup_model(&so, &s, err) < 0) {
        smc_setup_free(&s);
        return smc_fail_context(err, "model %s", model);
    }
    cJSON *rows = o->json ? cJSON_CreateArray() : NULL;
    smc_clock_use_cpu(true);
    if (!o->json) {
        fprintf(out, "model %s, %d thread(s), times in process CPU seconds; off = lookahead 0, on = lookahead %d\n",
                model, o->n_threads, o->lookahead);
        print_header(out);
    }
    int rc = 0;
    for (int task = 0; rc == 0 && task < N_BENCH_TASKS; task++) {
        if (!task_wanted(o->tasks, task_names[task]))
            continue;
        eval_instance *insts = NULL;
        int n_inst = o->instances;
        if (task != TASK_JSON &&
            eval_task_load(task == TASK_SPIDER ? EVAL_SPIDER : EVAL_BLOCKSWORLD, o->shared_dir,
                           o->instances, &insts, &n_inst, err) < 0) {
            rc = -1;
            break;
        }
        for (int k = 0; rc == 0 && k < o->n_particles; k++) {
            tally t;
            double raw = -1;
            rc = bench_task(o, &s, task, insts, n_inst, o->particles[k], &t, &raw, err);
            if (rc == 0 && rows)
                add_json(rows, task, o->particles[k], &t, raw);
            else if (rc == 0)
                print_row(out, task, o->particles[k], &t, raw);
            fflush(out);
        }
        eval_instances_free(insts, task == TASK_JSON ? 0 : n_inst);
    }
    if (rc == 0 && rows) {
        cJSON *top = cJSON_CreateObject();
        cJSON_AddStringToObject(top, "model", model);
        cJSON_AddNumberToObject(top, "threads", o->n_threads);
        cJSON_AddNumberToObject(top, "lookahead", o->lookahead);
        cJSON_AddStringToObject(top, "clock", "process CPU seconds");
        cJSON_AddItemToObject(top, "rows", rows);
        rows = NULL;
        char *text = cJSON_Print(top);
        if (text)
            fprintf(out, "%s\n", text);
        free(text);
        cJSON_Delete(top);
    }
    cJSON_Delete(rows);
    if (rc == 0 && !o->json)
        fprintf(out,
                "forced: tokens the constraint allowed alone; passes: engine decodes (passes over the\n"
                "weights) of the on runs against the off runs; x = off s / on s (step time without the\n"
                "prompt); smc ps/s: particle-steps per second of the off runs; raw: batched decoding\n"
                "of N sequences alone; !lm: share of the step that is not the LM (mask, critic,\n"
                "resampling, bookkeeping); same: runs whose particles and log Z agree on and off.\n");
    smc_clock_use_cpu(false);
    smc_setup_free(&s);
    return rc;
}
