/* critic_spec.h — turning a `--critic NAME[:ARG]` spec into an expensive
 * potential, with the domain's default grammar and stop strings. */
#ifndef SMC_CLI_CRITIC_SPEC_H
#define SMC_CLI_CRITIC_SPEC_H

#include "smcgen.h"

typedef struct critic_spec {
    smc_potential *critic;     /* NULL when the spec is NULL */
    char *grammar_gbnf;        /* the domain's grammar (malloc'd), or NULL */
    const char *lead;          /* GBNF of what may precede the constrained text (" "?), or "" */
    const char *start;         /* the grammar rule the text starts at; NULL: "root" */
    const char *stop;          /* default stop string ("\n"), or NULL */
    bool borrowed;             /* critic and grammar_gbnf belong to the caller: critic_spec_free
                                  leaves them (a critic object reused across runs) */
} critic_spec;

/* Names: smiles | sql:DB.sqlite | pddl:PROBLEM.pddl | python:PROBLEM.json
 * (a JSON object with optional "setup" and "test" strings). */
int critic_spec_parse(const char *spec, critic_spec *out, smc_error *err);
void critic_spec_free(critic_spec *c);
/* The pddl and python critics from text instead of files (the eval
 * harness): a Blocksworld problem's PDDL text; Python setup and test code
 * (either may be NULL), run by the interpreter `python` (NULL: the default). */
int critic_spec_pddl_text(const char *problem, size_t n, critic_spec *out, smc_error *err);
int critic_spec_python_code(const char *python, const char *setup, const char *test, critic_spec *out,
                            smc_error *err);
/* One line per critic name, for --help. */
extern const char *const critic_spec_help;

#endif
