/* critic_spec.c — the built-in critics (SMILES, SQL on SQLite, Blocksworld
 * goals, Python that runs) wrapped as SMC potentials, each with its domain's
 * default grammar, leading text and stop string.
 *
 * Every critic scores the generated text with its leading whitespace removed
 * (the model writes " CC(=O)O" after "Molecule:"), and is evaluated on
 * prefixes only at the boundaries its domain declares. */
#include "pipeline/critic_spec.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/error.h"
#include "util/file.h"

const char *const critic_spec_help =
    "  smiles               SMILES chemistry (valences, rings, aromaticity); grammar: SMILES\n"
    "  sql:DB.sqlite        columns in scope at clause boundaries, query runs at the end;\n"
    "                       grammar: SELECT over DB's names\n"
    "  pddl:PROBLEM.pddl    Blocksworld goal satisfiable so far; grammar: goals over its objects\n"
    "  python:PROBLEM.json  Python prefix parses and runs (sandboxed worker); JSON object with\n"
    "                       optional \"setup\" (or \"context_setup\") and \"test\" strings; where\n"
    "                       the kernel cannot sandbox it, it refuses unless --unsafe-no-sandbox\n"
    "                       (docs/security.md)\n"
    "  plugin:PATH.so[:ARG] your C critic: a shared library exporting smcgen_critic_init\n"
    "                       (include/smcgen.h, examples/critic_plugin.c)\n"
    "  exec:COMMAND         your critic in any language: a process answering JSON lines\n"
    "                       {\"op\":\"prefix\"|\"complete\",\"text\":...} -> {\"logw\": x}\n";

typedef enum { CRITIC_SMILES, CRITIC_SQL, CRITIC_PDDL, CRITIC_PYTHON } critic_kind;

typedef struct critic_self {
    critic_kind kind;
    smc_sql_db *db;
    smc_bw_problem *bw;
    smc_py_critic *py;
} critic_self;

static void skip_lead(const char **t, size_t *n)
{
    while (*n && isspace((unsigned char)**t))
        (*t)++, (*n)--;
}

/* The domain's verdict; why[cap] receives the reason of an INVALID one
 * (cap 0: not wanted). */
static smc_verdict critic_check(critic_self *s, const char *t, size_t n, bool complete, char *why,
                                size_t cap)
{
    skip_lead(&t, &n);
    if (!complete && n == 0)
        return SMC_VERDICT_PREFIX;
    switch (s->kind) {
    case CRITIC_SMILES: return smc_smiles_check(t, n, complete, why, cap);
    case CRITIC_SQL: return smc_sql_check(s->db, t, n, complete, why, cap);
    case CRITIC_PDDL: return smc_bw_goal_check(s->bw, t, n, complete, why, cap);
    case CRITIC_PYTHON: return smc_py_check(s->py, t, n, complete, why, cap);
    }
    return SMC_VERDICT_INVALID;
}

static double critic_prefix(void *self, void *state, const char *t, size_t n)
{
    (void)state;
    return smc_verdict_logw(critic_check(self, t, n, false, NULL, 0));
}

static double critic_complete(void *self, void *state, const char *t, size_t n)
{
    (void)state;
    return smc_verdict_logw(critic_check(self, t, n, true, NULL, 0));
}

/* For traces: the domain checker's own reason for an impossible text. */
static void critic_explain(void *self, void *state, const char *t, size_t n, bool complete,
                           char *buf, size_t cap)
{
    (void)state;
    if (!cap)
        return;
    buf[0] = 0;
    if (critic_check(self, t, n, complete, buf, cap) != SMC_VERDICT_INVALID)
        snprintf(buf, cap, "rejected, but valid when checked again");
}

static bool new_bytes_contain(const char *t, size_t n, size_t n_new, const char *set)
{
    for (size_t i = n - n_new; i < n; i++)
        if (strchr(set, t[i]))
            return true;
    return false;
}

/* Boundaries: SMILES is cheap enough for every token; SQL after a word or
 * clause ends; PDDL after a literal closes; Python at line ends. */
static bool critic_boundary(void *self, const char *t, size_t n, size_t n_new)
{
    const critic_self *s = self;
    switch (s->kind) {
    case CRITIC_SMILES: return true;
    case CRITIC_SQL: return new_bytes_contain(t, n, n_new, " ,();.\n");
    case CRITIC_PDDL: return new_bytes_contain(t, n, n_new, ")");
    case CRITIC_PYTHON: return new_bytes_contain(t, n, n_new, "\n");
    }
    return true;
}

static void critic_destroy(void *self)
{
    critic_self *s = self;
    if (!s)
        return;
    smc_sql_close(s->db);
    smc_bw_problem_free(s->bw);
    smc_py_close(s->py);
    free(s);
}

static const smc_potential_vtable critic_vt = {
    .prefix = critic_prefix,
    .complete = critic_complete,
    .is_boundary = critic_boundary,
    .destroy = critic_destroy,
    .explain = critic_explain,
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int open_python(critic_self *s, const char *path, smc_error *err)
{
    size_t len;
    char *text = smc_read_file(path, &len, err);
    if (!text)
        return -1;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return smc_fail(err, "%s: not a JSON object (expected {\"setup\": ..., \"test\": ...})", path);
    }
    const cJSON *setup = cJSON_GetObjectItemCaseSensitive(j, "setup");
    if (!cJSON_IsString(setup))
        setup = cJSON_GetObjectItemCaseSensitive(j, "context_setup");
    const cJSON *test = cJSON_GetObjectItemCaseSensitive(j, "test");
    int rc = smc_py_open(NULL, cJSON_IsString(setup) ? setup->valuestring : NULL,
                         cJSON_IsString(test) ? test->valuestring : NULL, &s->py, err);
    cJSON_Delete(j);
    return rc;
}

int critic_spec_parse(const char *spec, critic_spec *out, smc_error *err)
{
    memset(out, 0, sizeof *out);
    out->lead = "";
    if (!spec)
        return 0;
    const char *colon = strchr(spec, ':');
    size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *arg = colon ? colon + 1 : NULL;
#define NAME_IS(lit) (name_len == strlen(lit) && !strncmp(spec, lit, name_len))
    if (NAME_IS("exec")) {
        if (!arg || !*arg)
            return smc_fail(err, "critic 'exec' needs a command: --critic exec:COMMAND");
        return smc_critic_from_exec(arg, 0, &out->critic, err);
    }
    if (NAME_IS("plugin")) {
        if (!arg || !*arg)
            return smc_fail(err, "critic 'plugin' needs a file: --critic plugin:PATH.so[:ARG]");
        const char *colon2 = strchr(arg, ':');
        char *path = colon2 ? strndup(arg, (size_t)(colon2 - arg)) : strdup(arg);
        if (!path)
            return smc_fail(err, "out of memory");
        int rc = smc_critic_from_plugin(path, colon2 ? colon2 + 1 : NULL, &out->critic, err);
        free(path);
        return rc;
    }
#undef NAME_IS
    critic_self *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
#define NAME_IS(lit) (name_len == strlen(lit) && !strncmp(spec, lit, name_len))
    int rc = 0;
    if (NAME_IS("smiles")) {
        s->kind = CRITIC_SMILES;
        out->grammar_gbnf = dup_or_null(smc_smiles_gbnf());
        out->lead = "\" \"?";
        out->stop = "\n";
    } else if (NAME_IS("sql") || NAME_IS("pddl") || NAME_IS("python")) {
        if (!arg || !*arg) {
            free(s);
            return smc_fail(err, "critic '%.*s' needs a file: --critic %.*s:PATH", (int)name_len,
                            spec, (int)name_len, spec);
        }
        if (NAME_IS("sql")) {
            s->kind = CRITIC_SQL;
            rc = smc_sql_open(arg, &s->db, err);
            if (!rc)
                out->grammar_gbnf = smc_sql_gbnf(s->db);
            out->lead = "\" \"?";
            out->stop = "\n";
        } else if (NAME_IS("pddl")) {
            s->kind = CRITIC_PDDL;
            size_t len;
            char *text = smc_read_file(arg, &len, err);
            rc = text ? smc_bw_problem_parse(text, len, &s->bw, err) : -1;
            free(text);
            if (!rc)
                out->grammar_gbnf = smc_bw_goal_gbnf(s->bw);
            out->lead = "[ \\t\\n]*";
        } else {
            s->kind = CRITIC_PYTHON;
            rc = open_python(s, arg, err);
        }
    } else {
        free(s);
        return smc_fail(err, "unknown critic '%.*s' (known: smiles, sql:DB, pddl:PROBLEM, python:PROBLEM, "
                        "plugin:PATH.so, exec:COMMAND)",
                        (int)name_len, spec);
    }
#undef NAME_IS
    if (rc) {
        critic_destroy(s);
        free(out->grammar_gbnf);
        out->grammar_gbnf = NULL;
        return smc_fail_context(err, "critic %s", spec);
    }
    out->critic = smc_potential_new(&critic_vt, s, spec, 0, -1);
    if (!out->critic) {
        critic_destroy(s);
        free(out->grammar_gbnf);
        out->grammar_gbnf = NULL;
        return smc_fail(err, "out of memory");
    }
    return 0;
}

/* Wraps a filled critic_self (ownership moves, also on failure). */
static int wrap_critic(critic_self *s, const char *name, critic_spec *out, smc_error *err)
{
    out->critic = smc_potential_new(&critic_vt, s, name, 0, -1);
    if (!out->critic) {
        critic_destroy(s);
        free(out->grammar_gbnf);
        out->grammar_gbnf = NULL;
        return smc_fail(err, "out of memory");
    }
    return 0;
}

int critic_spec_pddl_text(const char *problem, size_t n, critic_spec *out, smc_error *err)
{
    memset(out, 0, sizeof *out);
    critic_self *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    s->kind = CRITIC_PDDL;
    if (smc_bw_problem_parse(problem, n, &s->bw, err)) {
        critic_destroy(s);
        return smc_fail_context(err, "critic pddl");
    }
    out->grammar_gbnf = smc_bw_goal_gbnf(s->bw);
    out->lead = "[ \\t\\n]*";
    return wrap_critic(s, "pddl", out, err);
}

int critic_spec_python_code(const char *python, const char *setup, const char *test, critic_spec *out,
                            smc_error *err)
{
    memset(out, 0, sizeof *out);
    out->lead = "";
    critic_self *s = calloc(1, sizeof *s);
    if (!s)
        return smc_fail(err, "out of memory");
    s->kind = CRITIC_PYTHON;
    if (smc_py_open(python, setup, test, &s->py, err)) {
        critic_destroy(s);
        return smc_fail_context(err, "critic python");
    }
    return wrap_critic(s, "python", out, err);
}

void critic_spec_free(critic_spec *c)
{
    if (!c->borrowed) {
        smc_potential_free(c->critic);
        free(c->grammar_gbnf);
    }
    memset(c, 0, sizeof *c);
}
