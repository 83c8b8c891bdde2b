/* smc_setup.h — what `smcgen smc` and `smcgen demo` both build before
 * sampling: model, context, LM with stop strings, grammar constraint and
 * critic, and the tokenized prompt. */
#ifndef SMC_CLI_SMC_SETUP_H
#define SMC_CLI_SMC_SETUP_H

#include "pipeline/critic_spec.h"
#include "smcgen.h"

typedef struct smc_setup_opts {
    const char *model_path;     /* NULL: the bundled default */
    const char *prompt;         /* text */
    bool no_bos;
    bool parse_special;         /* special-token texts in the prompt are those tokens
                                   (a prompt written by a chat template) */
    const char *grammar_path;   /* .gbnf or .lark */
    const char *grammar_text;   /* GBNF text (alternative to grammar_path) */
    const char *lark_text;      /* Lark text */
    const char *regex;
    const char *json_schema_path;
    const char *json_schema_text;
    unsigned json_schema_flags; /* SMC_JSON_SCHEMA_* (whitespace, strict) */
    const char *critic;         /* critic spec, or NULL */
    const char *stops[16];      /* stop strings (escapes already decoded) */
    int n_stops;
    bool default_stops;         /* add the critic's default stop string */
    int n_threads;
    int load;                   /* SMC_GGUF_AUTO (0), SMC_GGUF_MMAP or SMC_GGUF_READ, | SMC_GGUF_MLOCK */
    int n_ctx;                  /* context length (tokens); 0: the model's */
    size_t kv_budget_bytes;     /* 0: the engine's default */
    const smc_grammar *grammar; /* compiled by the caller, who keeps it (the Python package) */
    /* Lazy constraint: constraint and critic apply only after the first
     * occurrence of this trigger (escapes already decoded), or NULL. */
    const char *constrain_after;
    bool constrain_after_regex; /* the trigger is a PCRE2 regex */
    bool trigger_required;      /* a complete answer must contain it */
} smc_setup_opts;

typedef struct smc_setup {
    smc_model *model;
    smc_ctx *ctx;
    smc_lm *engine_lm;          /* over the engine */
    smc_lm *stop_lm;            /* engine_lm with stop strings, or NULL */
    const smc_lm *lm;           /* the one to sample from */
    smc_grammar *grammar;       /* NULL when unconstrained */
    smc_token_index *index;
    smc_potential *cheap;       /* NULL when unconstrained */
    smc_potential *lazy_critic; /* a borrowed critic behind its trigger (freed here), or NULL */
    critic_spec critic;
    int32_t *prompt;
    size_t n_prompt;
} smc_setup;

int smc_setup_build(const smc_setup_opts *o, smc_setup *s, smc_error *err);
void smc_setup_free(smc_setup *s);

/* The same in two steps, so one model serves many prompts (the eval
 * harness): smc_setup_model loads model, context and LM (o->model_path,
 * o->n_threads); smc_setup_instance then builds the stop strings, grammar,
 * critic and prompt from o, replacing the previous instance's. The critic is
 * taken from *critic when not NULL (ownership moves; *critic is zeroed),
 * else parsed from o->critic. smc_setup_free frees both parts. */
int smc_setup_model(const smc_setup_opts *o, smc_setup *s, smc_error *err);
int smc_setup_instance(const smc_setup_opts *o, critic_spec *critic, smc_setup *s, smc_error *err);
void smc_setup_instance_free(smc_setup *s);

/* The setup options of a request's run options (pointers into o). */
void smc_setup_opts_from_run(const smc_run_opts *o, smc_setup_opts *so);
/* The model settings load and mlock of o as smc_setup_opts.load
 * (SMC_GGUF_AUTO, _MMAP or _READ, | SMC_GGUF_MLOCK); NULL: the defaults. */
int smc_setup_load_how(const smc_run_opts *o);
/* The option table's name of a load value (SMC_GGUF_AUTO, _MMAP, _READ): auto, mmap, read. */
const char *smc_setup_load_name(int load);

/* Decodes C escapes (\n \t \\ \" \xHH) of s in place. */
void text_unescape(char *s);

#endif
