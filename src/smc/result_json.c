/* result_json.c — an smc_result as JSON (cJSON), text made valid UTF-8. */
#include "smcgen.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/utf8.h"

static cJSON *num(double x)
{
    /* JSON has no infinities: -inf is written as null. */
    return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

static bool add_text(cJSON *obj, const char *key, const char *s, size_t n)
{
    char *c = smc_utf8_clean(s, n);
    if (!c)
        return false;
    cJSON *v = cJSON_AddStringToObject(obj, key, c);
    free(c);
    return v != NULL;
}

int smc_result_to_json(const smc_result *r, bool with_particles, char **json, smc_error *err)
{
    *json = NULL;
    if (!r)
        return smc_fail(err, "no result");
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    ok = ok && cJSON_AddStringToObject(root, "method", smc_method_name(r->method));
    ok = ok && cJSON_AddNumberToObject(root, "particles", r->n_particles);
    ok = ok && cJSON_AddItemToObject(root, "log_z", num(r->log_z));
    ok = ok && cJSON_AddItemToObject(root, "ess", num(r->ess));
    ok = ok && cJSON_AddBoolToObject(root, "all_dead", r->all_dead);
    ok = ok && cJSON_AddNumberToObject(root, "steps", r->n_steps);
    ok = ok && cJSON_AddNumberToObject(root, "resamples", r->n_resamples);
    ok = ok && cJSON_AddNumberToObject(root, "lm_evals", (double)r->n_lm_evals);
    ok = ok && cJSON_AddNumberToObject(root, "constraint_checks", (double)r->n_constraint_checks);
    cJSON *t = ok ? cJSON_AddObjectToObject(root, "time_s") : NULL;
    ok = ok && t && cJSON_AddNumberToObject(t, "lm", r->t_lm) &&
         cJSON_AddNumberToObject(t, "mask", r->t_mask) &&
         cJSON_AddNumberToObject(t, "critic", r->t_critic) &&
         cJSON_AddNumberToObject(t, "resample", r->t_resample) &&
         cJSON_AddNumberToObject(t, "total", r->t_total);
    cJSON *post = ok ? cJSON_AddArrayToObject(root, "posterior") : NULL;
    ok = ok && post;
    for (int i = 0; ok && i < r->n_posterior; i++) {
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddItemToArray(post, e);
        ok = ok && add_text(e, "text", r->posterior[i].text, r->posterior[i].len);
        ok = ok && cJSON_AddNumberToObject(e, "prob", r->posterior[i].prob);
        ok = ok && cJSON_AddNumberToObject(e, "count", r->posterior[i].count);
    }
    cJSON *tr = ok ? cJSON_AddArrayToObject(root, "ess_trace") : NULL;
    ok = ok && tr;
    for (int i = 0; ok && i < r->n_steps; i++)
        ok = cJSON_AddItemToArray(tr, num(r->ess_trace[i]));
    if (ok && with_particles) {
        cJSON *ps = cJSON_AddArrayToObject(root, "particle_list");
        ok = ps != NULL;
        for (int i = 0; ok && i < r->n_particles; i++) {
            const smc_particle_out *p = &r->particles[i];
            cJSON *e = cJSON_CreateObject();
            ok = e && cJSON_AddItemToArray(ps, e);
            ok = ok && add_text(e, "text", p->text, p->len);
            ok = ok && cJSON_AddNumberToObject(e, "tokens", p->n_tokens);
            ok = ok && cJSON_AddItemToObject(e, "log_weight", num(p->log_weight));
            ok = ok && cJSON_AddBoolToObject(e, "forced_eos", p->forced_eos);
        }
    }
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s)
        return smc_fail(err, "out of memory writing JSON");
    *json = s;
    return 0;
}
