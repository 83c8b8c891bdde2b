/* constraint_mask.c — token-mask latency and grammar compile time on the
 * GPT-2 vocabulary (50,257 tokens) for json.gbnf, a nested JSON Schema,
 * c.gbnf and a small SQL grammar. Trajectories are realistic: valid
 * documents, tokenized with the GPT-2 tokenizer, are replayed token by token
 * and the mask is computed at every state visited. Pass 1 starts from a
 * freshly compiled grammar (cold caches); pass 2 replays the same documents
 * (the per-state mask cache is warm, as when many particles or requests share
 * a grammar). Prints p50/p99/p99.9/max per pass, in wall-clock time and in
 * thread CPU time (on a shared machine the wall-clock tail is preemption).
 * SMC_BENCH_SLOW=1 names the states whose mask took over 1 ms.
 *
 * usage: bench_constraint_mask [path/to/ggml-vocab-gpt-2.gguf] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smcgen.h"
#include "util/paths.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* CPU time of this thread: on a shared machine, wall-clock percentiles are
 * dominated by preemption; both are reported. */
static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char SQL_GBNF[] =
    "root ::= select ws? \";\"\n"
    "select ::= \"SELECT\" ws cols ws \"FROM\" ws ident (ws join)* (ws \"WHERE\" ws cond)? (ws \"GROUP BY\" ws idents)? "
    "(ws \"ORDER BY\" ws ident (ws (\"ASC\" | \"DESC\"))?)? (ws \"LIMIT\" ws num)?\n"
    "join ::= (\"JOIN\" | \"LEFT JOIN\") ws ident ws \"ON\" ws col ws? \"=\" ws? col\n"
    "cols ::= \"*\" | colexpr (ws? \",\" ws? colexpr)*\n"
    "colexpr ::= (col | agg \"(\" (col | \"*\") \")\") (ws \"AS\" ws ident)?\n"
    "agg ::= \"COUNT\" | \"SUM\" | \"AVG\" | \"MIN\" | \"MAX\"\n"
    "cond ::= pred (ws (\"AND\" | \"OR\") ws pred)*\n"
    "pred ::= col ws? op ws? value | col ws \"IN\" ws? \"(\" value (ws? \",\" ws? value)* \")\" | col ws \"IS\" ws (\"NOT\" ws)? \"NULL\"\n"
    "op ::= \"=\" | \"<>\" | \"!=\" | \"<\" | \"<=\" | \">\" | \">=\" | \"LIKE\"\n"
    "value ::= num | str | col\n"
    "col ::= ident (\".\" ident)?\n"
    "idents ::= col (ws? \",\" ws? col)*\n"
    "ident ::= [a-zA-Z_] [a-zA-Z0-9_]*\n"
    "num ::= \"-\"? [0-9]+ (\".\" [0-9]+)?\n"
    "str ::= \"'\" [^'\\n]* \"'\"\n"
    "ws ::= [ \\t\\n]+\n";

static const char *SQL_DOCS[] = {
    "SELECT name, age FROM users WHERE age > 30 ORDER BY name ASC LIMIT 10;",
    "SELECT COUNT(*) AS n FROM orders JOIN customers ON orders.customer_id = customers.id WHERE customers.country = 'France' GROUP BY customers.city;",
    "SELECT * FROM products WHERE price <= 19.99 AND category IN ('books', 'music') ORDER BY price DESC;",
    "SELECT AVG(salary) FROM employees LEFT JOIN departments ON employees.dept = departments.id WHERE departments.name LIKE 'R%' AND manager IS NOT NULL;",
};

static const char *JSON_DOCS[] = {
    "{\"name\": \"Alice\", \"age\": 30, \"email\": \"alice@example.com\", \"tags\": [\"admin\", \"dev\"], \"active\": true}",
    "{\"id\": 12345, \"items\": [{\"sku\": \"A-1\", \"qty\": 2, \"price\": 9.99}, {\"sku\": \"B-7\", \"qty\": 1, \"price\": 120.5}], \"shipping\": {\"address\": {\"street\": \"1 Main St\", \"city\": \"Springfield\", \"zip\": \"12345\"}, \"method\": \"express\"}, \"notes\": null}",
    "{\"title\": \"Quarterly report\", \"sections\": [{\"heading\": \"Summary\", \"body\": \"Revenue grew 12% year over year, driven by strong demand.\"}, {\"heading\": \"Outlook\", \"body\": \"We expect continued growth.\"}], \"year\": 2024}",
};

static const char *SCHEMA =
    "{\"type\": \"object\", \"properties\": {"
    "\"name\": {\"type\": \"string\"}, \"age\": {\"type\": \"integer\"}, \"email\": {\"type\": \"string\"},"
    "\"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}, \"active\": {\"type\": \"boolean\"},"
    "\"address\": {\"type\": \"object\", \"properties\": {\"street\": {\"type\": \"string\"}, \"city\": {\"type\": \"string\"},"
    "\"zip\": {\"type\": \"string\"}}, \"required\": [\"street\", \"city\"]}},"
    "\"required\": [\"name\", \"age\"]}";

static const char *SCHEMA_DOCS[] = {
    "{\"name\": \"Alice\", \"age\": 30, \"email\": \"alice@example.com\", \"tags\": [\"admin\", \"dev\"], \"active\": true}",
    "{\"name\": \"Bob\", \"age\": 41, \"address\": {\"street\": \"1 Main St\", \"city\": \"Springfield\", \"zip\": \"12345\"}}",
    "{\"name\": \"Carol\", \"age\": 25, \"tags\": [], \"active\": false, \"address\": {\"street\": \"Rue de Rivoli 5\", \"city\": \"Paris\"}}",
};

static const char *C_DOCS[] = {
    "int main(){int x = 1;int y = x+2*3;while(x<10){x = x+1;}return y;}",
    "float area(float r){return r*r*3;}int fib(int n){if(n<2){return n;}return fib(n-1)+fib(n-2);}",
    "int sum(int n){int s = 0;for(int i = 0; i<n; i = i+1){s = s+i;}// done\nreturn s;}char c(){/* nothing * here */return 0;}",
};

typedef struct result {
    double *t;
    size_t n, cap;
} result;

static void add(result *r, double v)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->t = realloc(r->t, r->cap * sizeof *r->t);
    }
    r->t[r->n++] = v;
}

static void report(const char *name, const char *pass, const char *clock, result *r)
{
    if (!r->n)
        return;
    qsort(r->t, r->n, sizeof *r->t, cmp_d);
    double mean = 0;
    for (size_t i = 0; i < r->n; i++)
        mean += r->t[i];
    mean /= (double)r->n;
#define Q(q) r->t[(size_t)((q) * (double)(r->n - 1))]
    printf("%-12s %-4s %-4s masks %4zu  p50 %7.1f us  p99 %8.1f us  p99.9 %8.1f us  max %8.1f us  mean %7.1f us\n", name,
           pass, clock, r->n, Q(0.5), Q(0.99), Q(0.999), r->t[r->n - 1], mean);
}

/* Replays docs; returns -1 if a document is not accepted. */
static int replay(const smc_grammar *g, const smc_token_index *ix, const smc_vocab *v, const char **docs, size_t n_docs,
                  result *r, result *rc_cpu, size_t *n_allowed)
{
    size_t words = smc_token_mask_words(ix);
    uint32_t *mask = malloc(words * sizeof *mask);
    int rc = 0;
    for (size_t d = 0; d < n_docs && rc == 0; d++) {
        int32_t *ids = NULL;
        size_t n_ids = 0;
        smc_error err = {{0}};
        if (smc_tokenize(v, docs[d], strlen(docs[d]), false, false, &ids, &n_ids, &err) != 0) {
            fprintf(stderr, "tokenize: %s\n", err.msg);
            free(mask);
            return -1;
        }
        smc_matcher *m = smc_matcher_new(g);
        smc_matcher_set_limit(m, 0);
        for (size_t i = 0; i <= n_ids; i++) {
            double t0 = now_us(), c0 = cpu_us();
            if (smc_matcher_token_mask(m, ix, mask, &err) != 0) {
                fprintf(stderr, "mask: %s\n", err.msg);
                rc = -1;
                break;
            }
            add(r, now_us() - t0);
            add(rc_cpu, cpu_us() - c0);
            if (getenv("SMC_BENCH_SLOW") && r->t[r->n - 1] > 1000)
            {
                char *txt = NULL;
                size_t tl = 0;
                if (smc_detokenize(v, ids, i, false, &txt, &tl, &err) == 0)
                    fprintf(stderr, "slow mask %.0f us after \"%.*s\"\n", r->t[r->n - 1], (int)tl, txt);
                free(txt);
            }
            for (size_t w = 0; w < words; w++)
                *n_allowed += (size_t)__builtin_popcount(mask[w]);
            int32_t tok = i < n_ids ? ids[i] : smc_token_index_eos(ix);
            if (!(mask[tok >> 5] >> (tok & 31) & 1) || smc_matcher_advance_token(m, ix, tok) != 0) {
                fprintf(stderr, "document %zu rejected at token %zu\n", d, i);
                rc = -1;
                break;
            }
        }
        smc_matcher_free(m);
        free(ids);
    }
    free(mask);
    return rc;
}

int main(int argc, char **argv)
{
    char def[4096];
    const char *shared = smc_shared_dir();
    snprintf(def, sizeof def, "%s/vocab/ggml-vocab-gpt-2.gguf", shared ? shared : "../shared");
    const char *path = argc > 1 ? argv[1] : def;
    smc_error err = {{0}};
    smc_gguf *gg = NULL;
    smc_vocab *v = NULL;
    if (smc_gguf_open(path, &gg, &err) != 0 || smc_vocab_load(gg, &v, &err) != 0) {
        fprintf(stderr, "cannot load %s: %s\n", path, err.msg);
        return 1;
    }
    smc_gguf_close(gg);
    double t0 = now_us();
    smc_token_index *ix = NULL;
    if (smc_token_index_from_vocab(v, &ix, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("vocabulary: %d tokens, trie built in %.1f ms\n", smc_vocab_n_tokens(v), (now_us() - t0) / 1e3);
    char json_path[4096], c_path[4096];
    snprintf(json_path, sizeof json_path, "%s/grammars/json.gbnf", shared ? shared : "../shared");
    snprintf(c_path, sizeof c_path, "%s/grammars/c.gbnf", shared ? shared : "../shared");
    struct {
        const char *name;
        int kind;   /* 0 file, 1 gbnf text, 2 schema */
        const char *src;
        const char **docs;
        size_t n_docs;
    } cases[] = {
        {"json.gbnf", 0, json_path, JSON_DOCS, 3},
        {"json-schema", 2, SCHEMA, SCHEMA_DOCS, 3},
        {"c.gbnf", 0, c_path, C_DOCS, 3},
        {"sql", 1, SQL_GBNF, SQL_DOCS, 4},
    };
    int status = 0;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        smc_grammar *g = NULL;
        t0 = now_us();
        int rc = cases[k].kind == 0   ? smc_grammar_from_file(cases[k].src, &g, &err)
                 : cases[k].kind == 1 ? smc_grammar_from_gbnf(cases[k].src, strlen(cases[k].src), NULL, &g, &err)
                                      : smc_grammar_from_json_schema(cases[k].src, strlen(cases[k].src), &g, &err);
        double compile = now_us() - t0;
        if (rc != 0) {
            fprintf(stderr, "%s: %s\n", cases[k].name, err.msg);
            status = 1;
            continue;
        }
        printf("%-12s compile %.2f ms\n", cases[k].name, compile / 1e3);
        for (int pass = 1; pass <= 2; pass++) {
            result r = {0}, rc = {0};
            size_t allowed = 0;
            if (replay(g, ix, v, cases[k].docs, cases[k].n_docs, &r, &rc, &allowed) != 0)
                status = 1;
            report(cases[k].name, pass == 1 ? "cold" : "warm", "wall", &r);
            report(cases[k].name, pass == 1 ? "cold" : "warm", "cpu", &rc);
            free(rc.t);
            if (pass == 1 && r.n)
                printf("%-12s       mean allowed tokens per mask: %.0f\n", cases[k].name, (double)allowed / (double)r.n);
            free(r.t);
        }
        smc_grammar_free(g);
    }
    smc_token_index_free(ix);
    smc_vocab_free(v);
    return status;
}
