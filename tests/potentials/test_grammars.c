/* test_grammars.c — the generated GBNF grammars are well formed: literals
 * and character classes close, every rule used is defined once, "root" is
 * defined, and names are llama.cpp rule names ([A-Za-z0-9-]). An
 * independent lint, not a GBNF engine. */
#include "test.h"
#include "smcgen.h"

#include <ctype.h>
#include <sqlite3.h>
#include <unistd.h>

#define MAX_NAMES 512

/* Returns NULL when fine, else a message (static buffer). */
static const char *lint(const char *g)
{
    static char msg[256];
    static char defs[MAX_NAMES][64], uses[MAX_NAMES * 4][64];
    int n_defs = 0, n_uses = 0;
    const char *p = g;
    char last[64] = "";
    while (*p) {
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (*p == '"' || *p == '[') {
            char close = *p == '"' ? '"' : ']';
            p++;
            while (*p && *p != close) {
                if (*p == '\n' && close == '"') {
                    snprintf(msg, sizeof msg, "newline inside a literal");
                    return msg;
                }
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (!*p) {
                snprintf(msg, sizeof msg, "unterminated %s", close == '"' ? "literal" : "class");
                return msg;
            }
            p++;
            last[0] = '\0';
            continue;
        }
        if (isalnum((unsigned char)*p) || *p == '-' || *p == '_') {
            const char *s = p;
            while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
                p++;
            size_t len = (size_t)(p - s);
            if (len >= 64) {
                snprintf(msg, sizeof msg, "name too long");
                return msg;
            }
            if (memchr(s, '_', len)) {
                snprintf(msg, sizeof msg, "'_' in rule name %.*s", (int)len, s);
                return msg;
            }
            memcpy(last, s, len);
            last[len] = '\0';
            const char *q = p;
            while (*q == ' ' || *q == '\t')
                q++;
            if (strncmp(q, "::=", 3) == 0) {
                for (int i = 0; i < n_defs; i++)
                    if (strcmp(defs[i], last) == 0) {
                        snprintf(msg, sizeof msg, "rule %.60s defined twice", last);
                        return msg;
                    }
                if (n_defs < MAX_NAMES)
                    strcpy(defs[n_defs++], last);
                p = q + 3;
            } else if (n_uses < MAX_NAMES * 4) {
                strcpy(uses[n_uses++], last);
            }
            continue;
        }
        p++;
    }
    bool root = false;
    for (int i = 0; i < n_defs; i++)
        root = root || strcmp(defs[i], "root") == 0;
    if (!root) {
        snprintf(msg, sizeof msg, "no root rule");
        return msg;
    }
    for (int u = 0; u < n_uses; u++) {
        bool found = false;
        for (int i = 0; i < n_defs && !found; i++)
            found = strcmp(defs[i], uses[u]) == 0;
        if (!found) {
            snprintf(msg, sizeof msg, "rule %.60s is used but not defined", uses[u]);
            return msg;
        }
    }
    return NULL;
}

void run_tests(void)
{
    /* the lint itself can fail */
    CHECK(lint("root ::= a\n") != NULL);
    CHECK(lint("root ::= \"x\n") != NULL);
    CHECK(lint("root ::= [a-z\n") != NULL);
    CHECK(lint("root ::= b\nb ::= \"x\"\n") == NULL);
    CHECK(lint("root ::= a_b\na_b ::= \"x\"\n") != NULL);

    const char *e = lint(smc_smiles_gbnf());
    CHECK_MSG(e == NULL, "smiles: %s", e);

    const char *prob = "(define (problem p) (:objects b1 b2 \"odd\\name) (:init (arm-empty)))";
    smc_bw_problem *p = NULL;
    smc_error err;
    CHECK(smc_bw_problem_parse(prob, strlen(prob), &p, &err) == 0);
    char *g = smc_bw_goal_gbnf(p);
    e = g ? lint(g) : "no grammar";
    CHECK_MSG(e == NULL, "pddl: %s", e);
    CHECK(g && strstr(g, "after-and ::=") != NULL);
    free(g);
    smc_bw_problem_free(p);

    char path[128];
    snprintf(path, sizeof path, "/tmp/smc_test_grammars_%d.sqlite", (int)getpid());
    unlink(path);
    sqlite3 *h = NULL;
    sqlite3_open(path, &h);
    sqlite3_exec(h, "CREATE TABLE \"my table\" (\"a\"\"b\" INT, c TEXT, \"select\" INT); CREATE TABLE t2 (c INT);",
                 NULL, NULL, NULL);
    sqlite3_close(h);
    smc_sql_db *db = NULL;
    CHECK(smc_sql_open(path, &db, &err) == 0);
    g = db ? smc_sql_gbnf(db) : NULL;
    e = g ? lint(g) : "no grammar";
    CHECK_MSG(e == NULL, "sql: %s", e);
    CHECK(g && strstr(g, "\"\\\"a\\\"\\\"b\\\"\"") != NULL); /* "a""b" as a GBNF literal */
    free(g);
    smc_sql_close(db);
    unlink(path);
    if (test_shared_path("")) {
        const char *rel = test_shared_path("data/spider/database/world_1/world_1.sqlite");
        if (smc_sql_open(rel, &db, &err) == 0) {
            g = smc_sql_gbnf(db);
            e = g ? lint(g) : "no grammar";
            CHECK_MSG(e == NULL, "world_1: %s", e);
            free(g);
            smc_sql_close(db);
        }
    }
}
