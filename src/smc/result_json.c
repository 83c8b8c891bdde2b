/* result_json.c — an smc_result as JSON (cJSON), text made valid UTF-8:
 * the one JSON shape of a run's result (smc --json, traces, the server). */
#include "smcgen.h"

#include <stdlib.h>

#include "smc/json_text.h"
#include "util/error.h"

cJSON *smc_result_json_object(const smc_result *r, bool with_particles)
{
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    ok = ok && cJSON_AddStringToObject(root, "method", smc_method_name(r->method));
    ok = ok && cJSON_AddNumberToObject(root, "particles", r->n_particles);
    ok = ok && cJSON_AddItemToObject(root, "log_z", smc_json_num(r->log_z));
    ok = ok && cJSON_AddItemToObject(root, "ess", smc_json_num(r->ess));
    ok = ok && cJSON_AddBoolToObject(root, "all_dead", r->all_dead);
    ok = ok && cJSON_AddNumberToObject(root, "steps", r->n_steps);
    ok = ok && cJSON_AddNumberToObject(root, "resamples", r->n_resamples);
    ok = ok && cJSON_AddNumberToObject(root, "lm_evals", (double)r->n_lm_evals);
    ok = ok && cJSON_AddNumberToObject(root, "constraint_checks", (double)r->n_constraint_checks);
    ok = ok && cJSON_AddNumberToObject(root, "tokens", (double)r->n_tokens);
    ok = ok && cJSON_AddNumberToObject(root, "forced_tokens", (double)r->n_forced);
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
        ok = ok && smc_json_add_text(e, "text", r->posterior[i].text, r->posterior[i].len);
        ok = ok && cJSON_AddNumberToObject(e, "prob", r->posterior[i].prob);
        ok = ok && cJSON_AddNumberToObject(e, "count", r->posterior[i].count);
    }
    cJSON *tr = ok ? cJSON_AddArrayToObject(root, "ess_trace") : NULL;
    ok = ok && tr;
    for (int i = 0; ok && i < r->n_steps; i++)
        ok = cJSON_AddItemToArray(tr, smc_json_num(r->ess_trace[i]));
    if (ok && with_particles) {
        cJSON *ps = cJSON_AddArrayToObject(root, "particle_list");
        ok = ps != NULL;
        for (int i = 0; ok && i < r->n_particles; i++) {
            const smc_particle_out *p = &r->particles[i];
            cJSON *e = cJSON_CreateObject();
            ok = e && cJSON_AddItemToArray(ps, e);
            ok = ok && smc_json_add_text(e, "text", p->text, p->len);
            ok = ok && cJSON_AddNumberToObject(e, "tokens", p->n_tokens);
            ok = ok && cJSON_AddItemToObject(e, "log_weight", smc_json_num(p->log_weight));
            ok = ok && cJSON_AddBoolToObject(e, "forced_eos", p->forced_eos);
        }
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

int smc_result_to_json(const smc_result *r, bool with_particles, char **json, smc_error *err)
{
    *json = NULL;
    if (!r)
        return smc_fail(err, "no result");
    cJSON *root = smc_result_json_object(r, with_particles);
    char *s = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s)
        return smc_fail(err, "out of memory writing JSON");
    *json = s;
    return 0;
}
