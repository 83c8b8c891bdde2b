/* result_json.c — an smc_result as JSON (cJSON), text made valid UTF-8. */
#include "smcgen.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* Length of the valid UTF-8 sequence at s (0 if invalid). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t k;
    unsigned min;
    unsigned c;
    if ((s[0] & 0xe0) == 0xc0) {
        k = 2, min = 0x80, c = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        k = 3, min = 0x800, c = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        k = 4, min = 0x10000, c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return k;
}

/* A NUL-terminated copy with invalid bytes (and NULs) as U+FFFD. */
static char *utf8_clean(const char *s, size_t n)
{
    char *o = malloc(3 * n + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        size_t k = s[i] ? utf8_seq((const unsigned char *)s + i, n - i) : 0;
        if (k == 0) {
            memcpy(o + j, "\xef\xbf\xbd", 3);
            j += 3;
            i++;
        } else {
            memcpy(o + j, s + i, k);
            j += k;
            i += k;
        }
    }
    o[j] = 0;
    return o;
}

static cJSON *num(double x)
{
    /* JSON has no infinities: -inf is written as null. */
    return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

static bool add_text(cJSON *obj, const char *key, const char *s, size_t n)
{
    char *c = utf8_clean(s, n);
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
