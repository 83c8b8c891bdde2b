/* trace_json.c — a recorded smc_trace as the versioned JSON document of
 * docs/trace.schema.json, with the run's result in the one result shape
 * (smc_result_json_object), and written to a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smc/json_text.h"
#include "util/utf8.h"
#include "smc/trace.h"
#include "util/error.h"

static const char *const death_by[] = {NULL, "constraint", "constraint", "critic"};

static const char *death_reason(const smc_trace *t, const trace_event *e)
{
    switch (e->death) {
    case TRACE_DEAD_NO_TOKEN: return "the constraint allows no token here";
    case TRACE_DEAD_EOS: return "EOS forced at max_tokens, but the text is not complete";
    case TRACE_DEAD_CRITIC:
        if (e->why_len)
            return t->bytes + e->why;
        return e->flags & TRACE_COMPLETE ? "the critic rejected the complete text"
                                         : "the critic rejected this prefix";
    default: return NULL;
    }
}

/* "xx xx" hex of b[n] when it is not valid UTF-8 on its own (a character
 * split between tokens), so that a reader can join the exact bytes. */
static bool add_hex_if_split(cJSON *o, const char *b, size_t n)
{
    char *c = smc_utf8_clean(b, n);
    if (!c)
        return false;
    bool same = strlen(c) == n && memcmp(c, b, n) == 0;
    free(c);
    if (same)
        return true;
    char *h = malloc(3 * n + 1);
    if (!h)
        return false;
    for (size_t i = 0; i < n; i++)
        snprintf(h + 3 * i, 4, i + 1 < n ? "%02x " : "%02x", (unsigned char)b[i]);
    h[n ? 3 * n - 1 : 0] = 0;
    bool ok = cJSON_AddStringToObject(o, "hex", h) != NULL;
    free(h);
    return ok;
}

static cJSON *event_json(const smc_trace *t, const trace_event *e)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddNumberToObject(o, "i", e->slot) &&
              cJSON_AddNumberToObject(o, "token", e->token) &&
              smc_json_add_text(o, "text", t->bytes + e->text, e->text_len) &&
              add_hex_if_split(o, t->bytes + e->text, e->text_len) &&
              cJSON_AddItemToObject(o, "mass", smc_json_num(e->mass)) &&
              cJSON_AddItemToObject(o, "logw", smc_json_num(e->logw));
    if (ok && (e->flags & TRACE_EOS))
        ok = cJSON_AddBoolToObject(o, "eos", true) != NULL;
    if (ok && (e->flags & TRACE_FORCED))
        ok = cJSON_AddBoolToObject(o, "forced_eos", true) != NULL;
    if (ok && (e->flags & TRACE_CRITIC)) {
        cJSON *c = cJSON_AddObjectToObject(o, "critic");
        ok = c && cJSON_AddStringToObject(c, "mode", e->flags & TRACE_COMPLETE ? "complete" : "prefix") &&
             cJSON_AddItemToObject(c, "score", smc_json_num(e->critic));
    }
    if (ok && e->death != TRACE_ALIVE) {
        cJSON *d = cJSON_AddObjectToObject(o, "death");
        const char *why = death_reason(t, e);
        ok = d && cJSON_AddStringToObject(d, "by", death_by[e->death]) &&
             smc_json_add_text(d, "reason", why, strlen(why));
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *step_json(const smc_trace *t, const trace_step *s)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddItemToObject(o, "ess", smc_json_num(s->ess)) &&
              cJSON_AddNumberToObject(o, "active", s->active) &&
              cJSON_AddNumberToObject(o, "critic_calls", s->critic_calls) &&
              cJSON_AddNumberToObject(o, "critic_time_s", s->critic_time);
    cJSON *ps = ok ? cJSON_AddArrayToObject(o, "particles") : NULL;
    ok = ok && ps;
    for (size_t k = 0; ok && k < s->n; k++) {
        cJSON *e = event_json(t, &t->events[s->first + k]);
        ok = e && cJSON_AddItemToArray(ps, e);
    }
    if (ok && s->resampled) {
        cJSON *r = cJSON_AddObjectToObject(o, "resample");
        cJSON *par = r ? cJSON_AddArrayToObject(r, "parents") : NULL;
        ok = par && cJSON_AddItemToObject(r, "logw", smc_json_num(s->resampled_logw));
        for (int j = 0; ok && j < t->n_particles; j++)
            ok = cJSON_AddItemToArray(par, cJSON_CreateNumber(t->parents[s->parents + (size_t)j]));
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool add_str_or_null(cJSON *o, const char *key, const char *v)
{
    return v ? cJSON_AddStringToObject(o, key, v) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

static cJSON *config_json(const smc_trace *t)
{
    cJSON *c = cJSON_CreateObject();
    bool ok = c && cJSON_AddStringToObject(c, "method", smc_method_name(t->method)) &&
              cJSON_AddNumberToObject(c, "particles", t->n_particles) &&
              cJSON_AddNumberToObject(c, "ess_threshold", t->ess_threshold) &&
              cJSON_AddStringToObject(c, "resample", smc_resample_name(t->resample)) &&
              cJSON_AddStringToObject(c, "resample_at", t->resample_at_critic ? "critic" : "step") &&
              cJSON_AddNumberToObject(c, "max_tokens", t->max_tokens) &&
              cJSON_AddNumberToObject(c, "temperature", t->temperature) &&
              cJSON_AddNumberToObject(c, "seed", (double)t->seed) &&
              cJSON_AddStringToObject(c, "proposal",
                                      t->proposal == SMC_PROPOSAL_AWRS ? "awrs" : "masked") &&
              cJSON_AddBoolToObject(c, "weight_correction", t->correction) &&
              cJSON_AddNumberToObject(c, "lookahead", t->lookahead) &&
              add_str_or_null(c, "constraint", t->cheap_name) &&
              add_str_or_null(c, "critic", t->critic_name);
    if (!ok) {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

int smc_trace_to_json(const smc_trace *t, const smc_result *r, char **json, smc_error *err)
{
    *json = NULL;
    if (!t)
        return smc_fail(err, "no trace");
    cJSON *root = cJSON_CreateObject();
    bool ok = root && cJSON_AddStringToObject(root, "format", SMC_TRACE_FORMAT) &&
              cJSON_AddNumberToObject(root, "version", SMC_TRACE_VERSION);
    cJSON *info = ok ? cJSON_AddObjectToObject(root, "info") : NULL;
    ok = ok && info;
    for (int i = 0; ok && i < t->n_info; i++)
        ok = smc_json_add_text(info, t->info[i].key, t->info[i].value, strlen(t->info[i].value));
    cJSON *cfg = ok ? config_json(t) : NULL;
    ok = ok && cfg && cJSON_AddItemToObject(root, "config", cfg);
    cJSON *steps = ok ? cJSON_AddArrayToObject(root, "steps") : NULL;
    ok = ok && steps;
    for (size_t s = 0; ok && s < t->n_steps; s++) {
        cJSON *st = step_json(t, &t->steps[s]);
        ok = st && cJSON_AddItemToArray(steps, st);
    }
    if (ok) {
        cJSON *res = r ? smc_result_json_object(r, true) : cJSON_CreateNull();
        ok = res && cJSON_AddItemToObject(root, "result", res);
    }
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s)
        return smc_fail(err, "out of memory writing the trace");
    *json = s;
    return 0;
}

int smc_trace_write(const smc_trace *t, const smc_result *r, const char *path, smc_error *err)
{
    char *json;
    if (smc_trace_to_json(t, r, &json, err) < 0)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(json);
        return smc_fail(err, "cannot write trace %s: %s", path, strerror(errno));
    }
    size_t n = strlen(json);
    bool ok = fwrite(json, 1, n, f) == n && fputc('\n', f) != EOF;
    ok = fclose(f) == 0 && ok;
    free(json);
    return ok ? 0 : smc_fail(err, "cannot write trace %s: %s", path, strerror(errno));
}
