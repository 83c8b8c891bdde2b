/* smc_setup.c — builds model, context, LM, constraint, critic and prompt for
 * the sampling commands, with one error message naming what went wrong. */
#include "pipeline/smc_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smc/potential.h"
#include "util/error.h"
#include "util/file.h"
#include "util/paths.h"

void text_unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != '\\' || !r[1]) {
            *w++ = *r;
            continue;
        }
        r++;
        switch (*r) {
        case 'n': *w++ = '\n'; break;
        case 't': *w++ = '\t'; break;
        case 'r': *w++ = '\r'; break;
        case '\\': *w++ = '\\'; break;
        case '"': *w++ = '"'; break;
        case 'x':
            if (r[1] && r[2]) {
                char hex[3] = {r[1], r[2], 0};
                char *end;
                long v = strtol(hex, &end, 16);
                if (!*end) {
                    *w++ = (char)v;
                    r += 2;
                    break;
                }
            }
            *w++ = '\\';
            *w++ = 'x';
            break;
        default:
            *w++ = '\\';
            *w++ = *r;
        }
    }
    *w = 0;
}

/* The grammar: explicit (file, GBNF text, regex, JSON Schema) or the
 * critic's default, which is wrapped so its leading text may come first. */
static int build_grammar(const smc_setup_opts *o, smc_setup *s, smc_error *err)
{
    int n_sources = !!o->grammar_path + !!o->grammar_text + !!o->lark_text + !!o->regex +
                    !!o->json_schema_path + !!o->json_schema_text + !!o->grammar;
    if (n_sources > 1)
        return smc_fail(err, "give at most one of --grammar, --regex and --json-schema");
    if (o->grammar)
        return 0;
    if (o->grammar_path)
        return smc_grammar_from_file(o->grammar_path, &s->grammar, err);
    if (o->grammar_text)
        return smc_grammar_from_gbnf(o->grammar_text, strlen(o->grammar_text), NULL, &s->grammar, err);
    if (o->lark_text)
        return smc_grammar_from_lark(o->lark_text, strlen(o->lark_text), NULL, &s->grammar, err);
    if (o->json_schema_text) {
        int rc = smc_grammar_from_json_schema_ex(o->json_schema_text, strlen(o->json_schema_text),
                                                 o->json_schema_flags, &s->grammar, err);
        if (rc == 0 && *smc_grammar_warnings(s->grammar))
            fprintf(stderr, "json_schema: warning: %s", smc_grammar_warnings(s->grammar));
        return rc ? smc_fail_context(err, "json_schema") : 0;
    }
    if (o->regex)
        return smc_grammar_from_regex(o->regex, strlen(o->regex), &s->grammar, err);
    if (o->json_schema_path) {
        size_t len = 0;
        char *text = smc_read_file(o->json_schema_path, &len, err);
        if (!text)
            return -1;
        int rc = smc_grammar_from_json_schema_ex(text, len, o->json_schema_flags, &s->grammar, err);
        free(text);
        if (rc == 0 && *smc_grammar_warnings(s->grammar))
            fprintf(stderr, "%s: warning: %s", o->json_schema_path, smc_grammar_warnings(s->grammar));
        return rc ? smc_fail_context(err, "%s", o->json_schema_path) : 0;
    }
    const char *gbnf = s->critic.grammar_gbnf;
    if (!gbnf)
        return 0;
    const char *lead = s->critic.lead ? s->critic.lead : "";
    const char *start = s->critic.start ? s->critic.start : "root";
    size_t cap = strlen(gbnf) + strlen(lead) + strlen(start) + 64;
    char *wrapped = malloc(cap);
    if (!wrapped)
        return smc_fail(err, "out of memory");
    snprintf(wrapped, cap, "%s\nsmcgen-start ::= %s %s\n", gbnf, lead, start);
    int rc = smc_grammar_from_gbnf(wrapped, strlen(wrapped), "smcgen-start", &s->grammar, err);
    free(wrapped);
    return rc ? smc_fail_context(err, "the critic's grammar") : 0;
}

static int build_stops(const smc_setup_opts *o, smc_setup *s, smc_error *err)
{
    int32_t *all = NULL;
    size_t n_all = 0;
    const char *stops[17];
    int n = 0;
    for (int i = 0; i < o->n_stops; i++)
        stops[n++] = o->stops[i];
    if (o->default_stops && s->critic.stop)
        stops[n++] = s->critic.stop;
    for (int i = 0; i < n; i++) {
        int32_t *ids = NULL;
        size_t k = 0;
        if (!*stops[i]) {
            free(all);
            return smc_fail(err, "an empty --stop string");
        }
        if (smc_lm_tokens_containing(s->engine_lm, stops[i], strlen(stops[i]), &ids, &k, err)) {
            free(all);
            return -1;
        }
        int32_t *grown = realloc(all, (n_all + k + 1) * sizeof *all);
        if (!grown) {
            free(ids);
            free(all);
            return smc_fail(err, "out of memory");
        }
        all = grown;
        if (k)
            memcpy(all + n_all, ids, k * sizeof *ids);
        n_all += k;
        free(ids);
    }
    int rc = 0;
    if (n_all)
        rc = smc_lm_stops_new(s->engine_lm, all, n_all, &s->stop_lm, err);
    free(all);
    s->lm = s->stop_lm ? s->stop_lm : s->engine_lm;
    return rc;
}

/* Think-then-constrain: the constraint and the critic wait for the trigger.
 * A borrowed critic (the caller's) is wrapped without handing it over. */
static int build_lazy(const smc_setup_opts *o, smc_setup *s, smc_error *err)
{
    const char *t = o->constrain_after;
    if (!s->cheap && !s->critic.critic)
        return smc_fail(err, "a constrain-after trigger needs a constraint or a critic to apply after it");
    smc_potential **ps[2] = {&s->cheap, &s->critic.critic};
    for (int i = 0; i < 2; i++) {
        if (!*ps[i])
            continue;
        smc_potential *inner = *ps[i];
        bool borrowed = i == 1 && s->critic.borrowed;
        *ps[i] = borrowed ? inner : NULL;
        smc_potential *lazy = NULL;
        if (smc_potential_lazy_ex(inner, !borrowed, s->lm, t, strlen(t), o->constrain_after_regex,
                                  o->trigger_required, &lazy, err))
            return smc_fail_context(err, "the constrain-after trigger");
        *ps[i] = lazy;
        if (borrowed)
            s->lazy_critic = lazy;
    }
    return 0;
}

int smc_setup_model(const smc_setup_opts *o, smc_setup *s, smc_error *err)
{
    memset(s, 0, sizeof *s);
    const char *path = o->model_path ? o->model_path : smc_default_model_path();
    if (smc_model_load_ex(path, o->load, &s->model, err))
        return -1;
    const smc_vocab *vocab = smc_model_vocab(s->model, err);
    if (!vocab)
        return smc_fail_context(err, "%s has no usable tokenizer", path);
    smc_ctx_params cp = smc_ctx_default_params();
    cp.n_threads = o->n_threads;
    cp.n_ctx = o->n_ctx;
    if (o->kv_budget_bytes)
        cp.kv_budget_bytes = o->kv_budget_bytes;
    if (smc_ctx_new(s->model, &cp, &s->ctx, err) ||
        smc_engine_lm_new(s->model, s->ctx, vocab, -1, &s->engine_lm, err))
        return -1;
    s->lm = s->engine_lm;
    return 0;
}

int smc_setup_instance(const smc_setup_opts *o, critic_spec *critic, smc_setup *s, smc_error *err)
{
    smc_setup_instance_free(s);
    if (critic) {
        s->critic = *critic;
        memset(critic, 0, sizeof *critic);
    } else if (critic_spec_parse(o->critic, &s->critic, err))
        return -1;
    const smc_vocab *vocab = smc_model_vocab(s->model, err);
    if (!vocab)
        return -1;
    if (build_stops(o, s, err) || build_grammar(o, s, err))
        return -1;
    const smc_grammar *g = o->grammar ? o->grammar : s->grammar;
    if (g) {
        if (!s->index && smc_token_index_from_vocab(vocab, &s->index, err))
            return -1;
        if (smc_potential_from_grammar(g, s->index, s->lm, "grammar", &s->cheap, err))
            return -1;
    }
    if (o->constrain_after && build_lazy(o, s, err))
        return -1;
    const char *prompt = o->prompt ? o->prompt : "";
    if (smc_tokenize(vocab, prompt, strlen(prompt), !o->no_bos, o->parse_special, &s->prompt,
                     &s->n_prompt, err))
        return smc_fail_context(err, "prompt");
    if (s->n_prompt == 0)
        return smc_fail(err, "the prompt is empty (and --no-bos was given): the model needs at least one token");
    if (s->n_prompt >= (size_t)smc_ctx_n_ctx(s->ctx))
        return smc_fail(err, "the prompt is %zu tokens, the context holds %d", s->n_prompt,
                        smc_ctx_n_ctx(s->ctx));
    return 0;
}

void smc_setup_instance_free(smc_setup *s)
{
    free(s->prompt);
    s->prompt = NULL;
    s->n_prompt = 0;
    smc_potential_free(s->cheap);
    s->cheap = NULL;
    if (s->lazy_critic) {   /* the borrowed critic goes back to the caller */
        smc_potential_free(s->lazy_critic);
        s->lazy_critic = NULL;
        s->critic.critic = NULL;
    }
    critic_spec_free(&s->critic);
    smc_grammar_free(s->grammar);
    s->grammar = NULL;
    if (s->stop_lm)
        smc_lm_stops_free(s->stop_lm);
    s->stop_lm = NULL;
    s->lm = s->engine_lm;
}

int smc_setup_build(const smc_setup_opts *o, smc_setup *s, smc_error *err)
{
    critic_spec critic;
    if (critic_spec_parse(o->critic, &critic, err)) {
        memset(s, 0, sizeof *s);
        return -1;
    }
    int rc = smc_setup_model(o, s, err);
    if (rc == 0)
        rc = smc_setup_instance(o, &critic, s, err);
    critic_spec_free(&critic);
    return rc;
}

void smc_setup_free(smc_setup *s)
{
    smc_setup_instance_free(s);
    smc_token_index_free(s->index);
    if (s->engine_lm)
        smc_engine_lm_free(s->engine_lm);
    smc_ctx_free(s->ctx);
    smc_model_free(s->model);
    memset(s, 0, sizeof *s);
}

const char *smc_setup_load_name(int load)
{
    return load == SMC_GGUF_READ ? "read" : load == SMC_GGUF_MMAP ? "mmap" : "auto";
}

int smc_setup_load_how(const smc_run_opts *o)
{
    return o ? o->load | (o->mlock ? SMC_GGUF_MLOCK : 0) : SMC_GGUF_AUTO;
}
