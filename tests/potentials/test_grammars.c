/* test_grammars.c — the generated GBNF grammars are well formed: literals
 * and character classes close, every rule used is defined once, "root" is
 * defined, and names are llama.cpp rule names ([A-Za-z0-9-]). An
 * independent lint, not a GBNF engine. */
#include "test.h"
#include "smcgen.h"
#include "gbnf_earley.h"
#include "sql_helpers.h"

#include <cjson/cJSON.h>

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

/* The reader enforces llama.cpp's layout rules, and matching works. */
static void test_reader(void)
{
    ge_grammar g;
    CHECK(ge_read(&g, "root ::= \"a\"\n  | \"b\"\n") < 0); /* continuation outside parentheses */
    ge_free(&g);
    CHECK(ge_read(&g, "root ::= \"a\" |\n  \"b\" (\"c\"\n \"d\")*\n") == 0);
    CHECK_EQ_INT(ge_match(&g, "root", "a", 1), 2);
    CHECK_EQ_INT(ge_match(&g, "root", "bcdcd", 5), 2);
    CHECK_EQ_INT(ge_match(&g, "root", "bcdc", 4), 1);
    CHECK_EQ_INT(ge_match(&g, "root", "ab", 2), 0);
    ge_free(&g);
}

static void test_smiles_grammar(void)
{
    ge_grammar g;
    CHECK_MSG(ge_read(&g, smc_smiles_gbnf()) == 0, "smiles grammar: %s", g.err);
    const char *bad[] = {"C)", "(C)", "C((C))", "C=", "[C", "C%1", "C..C", "1CC1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(ge_match(&g, "root", bad[i], strlen(bad[i])) != 2, "grammar accepts %s", bad[i]);
    CHECK_EQ_INT(ge_match(&g, "root", "C(", 2), 1);
    const char *files[] = {"data/molecules/GDB17_sample.txt", "data/molecules/zinc_jtnn_valid.txt",
                           "data/molecules/qm9_smiles_selfies.csv"};
    int per_file = getenv("SMC_TEST_SANITIZED") ? 100 : 1500, total = 0, accepted = 0;
    for (int f = 0; f < 3; f++) {
        char *text = test_read_file(test_shared_path(files[f]), NULL);
        CHECK(text != NULL);
        int count = 0;
        for (char *line = text; line && *line && count < per_file;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            if (f == 2 && line == text) { /* csv header */
                line = nl ? nl + 1 : NULL;
                continue;
            }
            char *comma = memchr(line, ',', len);
            if (comma)
                len = (size_t)(comma - line);
            total++;
            count++;
            int m = ge_match(&g, "root", line, len);
            accepted += m == 2;
            if (m != 2)
                fprintf(stderr, "  smiles grammar rejects %.*s\n", (int)len, line);
            line = nl ? nl + 1 : NULL;
        }
        free(text);
    }
    fprintf(stderr, "smiles grammar: %d of %d reference molecules accepted\n", accepted, total);
    CHECK_EQ_INT(accepted, total);
    ge_free(&g);
}

static void test_pddl_grammar(void)
{
    char *text = test_read_file(test_shared_path("data/blocksworld/dev.jsonl"), NULL);
    CHECK(text != NULL);
    int n = 0, ok_root = 0, ok_after = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        cJSON *o = cJSON_Parse(line);
        const char *pp = cJSON_GetStringValue(cJSON_GetObjectItem(o, "problem_prefix"));
        const char *gold = cJSON_GetStringValue(cJSON_GetObjectItem(o, "gold_problem"));
        smc_bw_problem *p = NULL;
        smc_error err;
        if (pp && gold && smc_bw_problem_parse(pp, strlen(pp), &p, &err) == 0) {
            char *gr = smc_bw_goal_gbnf(p);
            ge_grammar g;
            if (gr && ge_read(&g, gr) == 0) {
                const char *goal = gold + strlen(pp);
                n++;
                ok_root += ge_match(&g, "root", goal, strlen(goal)) == 2;
                const char *and_kw = strstr(goal, "(and");
                if (and_kw)
                    ok_after += ge_match(&g, "after-and", and_kw + 4, strlen(and_kw + 4)) == 2;
                /* and an impossible object is not in the grammar */
                CHECK(ge_match(&g, "root", "(:goal (and (on b1 b99)))", 25) != 2);
                /* nor an empty goal, nor padding after the natural end */
                CHECK(ge_match(&g, "root", "(:goal (and))", 13) != 2);
                const char *empty = "\n        )\n    )\n)\n";
                CHECK(ge_match(&g, "after-and", empty, strlen(empty)) != 2);
                if (and_kw) {
                    char padded[4096];
                    snprintf(padded, sizeof padded, "%s\n", and_kw + 4);
                    CHECK(ge_match(&g, "after-and", padded, strlen(padded)) != 2);
                }
            } else {
                CHECK_MSG(0, "pddl grammar: %s", g.err);
            }
            ge_free(&g);
            free(gr);
            smc_bw_problem_free(p);
        }
        cJSON_Delete(o);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    fprintf(stderr, "pddl grammar: %d gold goals, root accepts %d, after-and accepts %d\n", n, ok_root, ok_after);
    CHECK_EQ_INT(n, 100);
    CHECK_EQ_INT(ok_root, n);
    CHECK_EQ_INT(ok_after, n);
}

static void test_sql_grammar(void)
{
    const char *files[] = {"data/spider/dev.json", "data/spider/train.json"};
    int n = 0, ok = 0;
    int step = getenv("SMC_TEST_SANITIZED") ? 10 : 1;
    for (int f = 0; f < 2; f++) {
        char *text = test_read_file(test_shared_path(files[f]), NULL);
        cJSON *arr = text ? cJSON_Parse(text) : NULL;
        free(text);
        const cJSON *item;
        int i = 0;
        cJSON_ArrayForEach(item, arr) {
            if (i++ % step)
                continue;
            const char *dbid = cJSON_GetStringValue(cJSON_GetObjectItem(item, "db_id"));
            const char *q = cJSON_GetStringValue(cJSON_GetObjectItem(item, "query"));
            char rel[256];
            snprintf(rel, sizeof rel, "data/spider/database/%s/%s.sqlite", dbid, dbid);
            smc_sql_db *db = NULL;
            smc_error err;
            if (!q || smc_sql_open(test_shared_path(rel), &db, &err) < 0)
                continue;
            char *gr = smc_sql_gbnf(db);
            ge_grammar g;
            if (gr && ge_read(&g, gr) == 0) {
                n++;
                char rq[2048];
                recase_names(db, q, rq, sizeof rq);   /* names as the schema spells them */
                int m = ge_match(&g, "root", rq, strlen(rq));
                ok += m == 2;
                if (m != 2)
                    fprintf(stderr, "  sql grammar rejects [%s] %s\n", dbid, rq);
            } else {
                CHECK_MSG(0, "sql grammar: %s", g.err);
            }
            ge_free(&g);
            free(gr);
            smc_sql_close(db);
        }
        cJSON_Delete(arr);
    }
    fprintf(stderr, "sql grammar: %d of %d Spider gold queries accepted\n", ok, n);
    CHECK(n > 0);
    CHECK_MSG(ok * 100 >= n * 95, "only %d of %d", ok, n);
}

void run_tests(void)
{
    test_reader();
    if (test_shared_path("")) {
        test_smiles_grammar();
        test_pddl_grammar();
        test_sql_grammar();
    }
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
    ge_grammar eg;
    if (g && ge_read(&eg, g) == 0) {
        const char *q1 = "SELECT \"a\"\"b\", c, \"select\" FROM \"my table\" WHERE c = 'x' ;";
        CHECK_EQ_INT(ge_match(&eg, "root", q1, strlen(q1)), 2);
        /* names only as the schema spells them; keywords in any case */
        const char *q1b = "SELECT \"a\"\"b\", C FROM \"my table\"", *q1c = "SELECT c FROM \"My Table\"";
        const char *q1d = "select c from \"my table\" Where c = 'x'";
        CHECK(ge_match(&eg, "root", q1b, strlen(q1b)) != 2);
        CHECK(ge_match(&eg, "root", q1c, strlen(q1c)) != 2);
        CHECK_EQ_INT(ge_match(&eg, "root", q1d, strlen(q1d)), 2);
        const char *q2 = "select select from t2"; /* a keyword is not a bare column */
        CHECK(ge_match(&eg, "root", q2, strlen(q2)) != 2);
        const char *q3 = "SELECT nosuch FROM t2";
        CHECK(ge_match(&eg, "root", q3, strlen(q3)) != 2);
    } else {
        CHECK_MSG(0, "sql grammar does not read: %s", eg.err);
    }
    ge_free(&eg);
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
