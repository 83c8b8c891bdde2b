/* runner.c — one request start to end (smc_runner_*): a loaded model with
 * its context, LM and token index, and the run of one smc_run_opts on it.
 * The CLI, the server and the Python package call this; the request's
 * constraint, critic, stops and prompt are built by smc_setup. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/smc_setup.h"
#include "util/error.h"

struct smc_runner {
    smc_setup s;
    int prompt_cache;         /* the engine LM's prompt cache size now; -1: never set */
};

int smc_runner_new(const char *model_path, int n_threads, smc_runner **out, smc_error *err)
{
    return smc_runner_new_ex(model_path, n_threads, NULL, out, err);
}

int smc_runner_new_ex(const char *model_path, int n_threads, const smc_run_opts *model_opts, smc_runner **out,
                      smc_error *err)
{
    *out = NULL;
    smc_runner *r = calloc(1, sizeof *r);
    if (!r)
        return smc_fail(err, "out of memory");
    r->prompt_cache = -1;
    smc_setup_opts so = {.model_path = model_path, .n_threads = n_threads, .load = smc_setup_load_how(model_opts)};
    if (smc_setup_model(&so, &r->s, err)) {
        smc_runner_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void smc_runner_free(smc_runner *r)
{
    if (!r)
        return;
    smc_setup_free(&r->s);
    free(r);
}

void smc_setup_opts_from_run(const smc_run_opts *o, smc_setup_opts *so)
{
    memset(so, 0, sizeof *so);
    so->prompt = o->prompt;
    so->no_bos = o->no_bos;
    so->load = smc_setup_load_how(o);
    so->grammar_path = o->grammar_file;
    so->grammar_text = o->grammar;
    so->lark_text = o->lark;
    so->regex = o->regex;
    so->json_schema_path = o->json_schema_file;
    so->json_schema_text = o->json_schema;
    so->json_schema_flags = o->json_schema_flags;
    so->critic = o->critic;
    for (int i = 0; i < o->n_stops; i++)
        so->stops[i] = o->stops[i];
    so->n_stops = o->n_stops;
    so->default_stops = !o->no_default_stop;
    so->constrain_after = o->constrain_after ? o->constrain_after : o->constrain_after_regex;
    so->constrain_after_regex = !o->constrain_after && o->constrain_after_regex;
    so->trigger_required = o->trigger_required;
}

int smc_runner_run(smc_runner *r, const smc_run_opts *o, smc_result **out, smc_error *err)
{
    *out = NULL;
    smc_run_opts checked = *o; /* shallow: only cfg is settled by the check */
    if (smc_run_opts_check(&checked, SMC_OPT_JSON, err))
        return SMC_RUN_EOPTS;
    /* A model setting: changing it drops what the cache held. */
    if (o->prompt_cache != r->prompt_cache) {
        if (smc_engine_lm_set_prompt_cache(r->s.engine_lm, o->prompt_cache, err))
            return SMC_RUN_EOPTS;
        r->prompt_cache = o->prompt_cache;
    }
    smc_setup_opts so;
    smc_setup_opts_from_run(o, &so);
    char *chat_prompt = NULL;
    if (smc_run_opts_chat_prompt(o, r->s.model, &chat_prompt, err))
        return SMC_RUN_EOPTS;
    if (chat_prompt) {
        so.prompt = chat_prompt;
        so.parse_special = true;
    }
    int built = smc_setup_instance(&so, NULL, &r->s, err);
    free(chat_prompt);
    if (built)
        return -1;
    int rc;
    if (!r->s.cheap && checked.cfg.method != SMC_METHOD_PLAIN)
        rc = smc_fail(err, "method %s needs a constraint: a grammar, a regex, a JSON Schema, or a critic with a grammar",
                      smc_method_name(checked.cfg.method)) ? SMC_RUN_EOPTS : 0;
    else
        rc = smc_run(r->s.lm, r->s.prompt, r->s.n_prompt, r->s.cheap, r->s.critic.critic, &checked.cfg, out, err);
    smc_setup_instance_free(&r->s);
    return rc;
}
