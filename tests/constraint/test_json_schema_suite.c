/* test_json_schema_suite.c — the official JSON-Schema-Test-Suite (vendored
 * under tests/constraint/json-schema-test-suite, its LICENSE beside it) run
 * against the converter, per draft: cases (schemas) compiled, tests on them
 * correct, false accepts (an instance the suite calls invalid that the
 * grammar accepts: must be 0, else this test fails) and false rejects (valid
 * instances the grammar refuses: counted per file; docs/json-schema.md
 * explains each category). An instance is written compactly (the default
 * whitespace policy, the short escapes as JSON.stringify writes them) with
 * its object keys in every order (up to 720
 * orderings; the grammar fixes one order, so for false accepts every order
 * must be refused). The table goes to stderr, and to $SMC_SUITE_REPORT
 * (markdown) when set. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "smcgen.h"
#include "test.h"

#define MAX_ORDERS 720

typedef struct tally {
    int cases, compiled, tests, correct, false_accepts, false_rejects, skipped_tests;
} tally;

/* ---- compact JSON text of an instance, keys in a chosen order ---- */

typedef struct out {
    char *p;
    size_t n, cap;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        o->cap = (o->n + n + 1) * 2;
        o->p = realloc(o->p, o->cap);
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = 0;
}

static void put_s(out *o, const char *s) { put(o, s, strlen(s)); }

static void put_string(out *o, const char *s)
{
    put_s(o, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char buf[8];
        if (*p == '"' || *p == '\\') {
            buf[0] = '\\', buf[1] = (char)*p, buf[2] = 0;
        } else if (*p == '\n') {
            strcpy(buf, "\\n");
        } else if (*p == '\t') {
            strcpy(buf, "\\t");
        } else if (*p == '\r') {
            strcpy(buf, "\\r");
        } else if (*p == '\b') {
            strcpy(buf, "\\b");
        } else if (*p == '\f') {
            strcpy(buf, "\\f");
        } else if (*p < 0x20) {
            snprintf(buf, sizeof buf, "\\u%04x", *p);
        } else {
            buf[0] = (char)*p, buf[1] = 0;
        }
        put_s(o, buf);
    }
    put_s(o, "\"");
}

static void put_number(out *o, double d)
{
    char buf[64];
    if (d == floor(d) && fabs(d) < 1e17) {
        snprintf(buf, sizeof buf, "%.0f", d);
    } else {
        for (int prec = 1; prec <= 17; prec++) {        /* the shortest that reads back */
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
    }
    put_s(o, buf);
}

/* Orders: each object with k keys takes its ordering number from *sel
 * (mixed radix, k! choices), so every combination is one number. */
static void write_value(out *o, const cJSON *v, unsigned long *sel)
{
    if (cJSON_IsNull(v)) {
        put_s(o, "null");
    } else if (cJSON_IsTrue(v)) {
        put_s(o, "true");
    } else if (cJSON_IsFalse(v)) {
        put_s(o, "false");
    } else if (cJSON_IsNumber(v)) {
        put_number(o, v->valuedouble);
    } else if (cJSON_IsString(v)) {
        put_string(o, v->valuestring);
    } else if (cJSON_IsArray(v)) {
        put_s(o, "[");
        for (const cJSON *e = v->child; e; e = e->next) {
            if (e != v->child)
                put_s(o, ",");
            write_value(o, e, sel);
        }
        put_s(o, "]");
    } else if (cJSON_IsObject(v)) {
        const cJSON *keys[16];
        int k = 0;
        for (const cJSON *e = v->child; e && k < 16; e = e->next)
            keys[k++] = e;
        /* the *sel-th permutation (Lehmer code), digits taken from *sel */
        unsigned long choice = *sel;
        const cJSON *perm[16];
        bool used[16] = {0};
        for (int i = 0; i < k; i++) {
            int left = k - i, pick = (int)(choice % (unsigned long)left);
            choice /= (unsigned long)left;
            for (int j = 0; j < k; j++)
                if (!used[j] && pick-- == 0) {
                    used[j] = true;
                    perm[i] = keys[j];
                    break;
                }
        }
        *sel = choice;
        put_s(o, "{");
        for (int i = 0; i < k; i++) {
            if (i)
                put_s(o, ",");
            put_string(o, perm[i]->string);
            put_s(o, ":");
            write_value(o, perm[i], sel);
        }
        put_s(o, "}");
    }
}

/* The number of key orderings of v (capped above MAX_ORDERS). */
static unsigned long orderings(const cJSON *v)
{
    unsigned long n = 1;
    if (cJSON_IsObject(v)) {
        int k = 0;
        for (const cJSON *e = v->child; e; e = e->next)
            k++;
        for (int i = 2; i <= k && n <= MAX_ORDERS; i++)
            n *= (unsigned long)i;
    }
    for (const cJSON *e = (cJSON_IsObject(v) || cJSON_IsArray(v)) ? v->child : NULL; e && n <= MAX_ORDERS;
         e = e->next)
        n *= orderings(e);
    return n;
}

/* Does the grammar accept v in some key order? (-1: too many orders to try) */
static int accepts_some_order(const smc_grammar *g, const cJSON *v)
{
    unsigned long n = orderings(v);
    if (n > MAX_ORDERS)
        return -1;
    for (unsigned long s = 0; s < n; s++) {
        out o = {0};
        unsigned long sel = s;
        write_value(&o, v, &sel);
        bool ok = smc_grammar_classify(g, o.p, o.n) == SMC_MATCH_COMPLETE;
        free(o.p);
        if (ok)
            return 1;
    }
    return 0;
}

static void run_file(const char *dir, const char *name, tally *t, FILE *report)
{
    char path[8192];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return;
    size_t len;
    char *text = test_read_file(path, &len);
    CHECK_MSG(text != NULL, "cannot read %s", path);
    /* cJSON ends a string at an escaped NUL ("2022-01-01\u0000x" would read as
     * a valid date): every \u0000 becomes \u0001, unused elsewhere in the
     * suite, so instances keep their meaning (a control character still there) */
    for (char *q = text; q && (q = strstr(q, "\\u0000")); q += 6)
        q[5] = '1';
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK_MSG(cJSON_IsArray(doc), "%s: not a test-suite file", path);
    tally f = {0};
    for (const cJSON *c = doc ? doc->child : NULL; c; c = c->next) {
        const cJSON *schema = cJSON_GetObjectItem(c, "schema"), *tests = cJSON_GetObjectItem(c, "tests");
        out so = {0};                      /* not cJSON_Print: it rounds 2^53 to 15 digits */
        unsigned long first = 0;
        write_value(&so, schema, &first);
        char *st = so.p ? so.p : strdup("");
        smc_grammar *g = NULL;
        smc_error err = {{0}};
        f.cases++;
        if (smc_grammar_from_json_schema(st, strlen(st), &g, &err) == 0)
            f.compiled++;
        else if (getenv("SMC_SUITE_VERBOSE"))
            fprintf(stderr, "refused %s: %s\n", name, err.msg);
        free(st);
        for (const cJSON *tc = tests ? tests->child : NULL; tc && g; tc = tc->next) {
            bool valid = cJSON_IsTrue(cJSON_GetObjectItem(tc, "valid"));
            int acc = accepts_some_order(g, cJSON_GetObjectItem(tc, "data"));
            if (acc < 0) {
                f.skipped_tests++;
                continue;
            }
            f.tests++;
            if (acc == valid) {
                f.correct++;
            } else if (acc) {
                f.false_accepts++;
                CHECK_MSG(0, "FALSE ACCEPT %s: \"%s\" / \"%s\"", path,
                          cJSON_GetStringValue(cJSON_GetObjectItem(c, "description")),
                          cJSON_GetStringValue(cJSON_GetObjectItem(tc, "description")));
            } else {
                f.false_rejects++;
                if (getenv("SMC_SUITE_VERBOSE"))
                    fprintf(stderr, "false reject %s: %s / %s\n", name,
                            cJSON_GetStringValue(cJSON_GetObjectItem(c, "description")),
                            cJSON_GetStringValue(cJSON_GetObjectItem(tc, "description")));
            }
        }
        smc_grammar_free(g);
    }
    cJSON_Delete(doc);
    if (report)
        fprintf(report, "| %s | %d | %d | %d | %d | %d | %d |\n", name, f.cases, f.compiled, f.tests,
                f.correct, f.false_accepts, f.false_rejects);
    t->cases += f.cases, t->compiled += f.compiled, t->tests += f.tests, t->correct += f.correct;
    t->false_accepts += f.false_accepts, t->false_rejects += f.false_rejects;
    t->skipped_tests += f.skipped_tests;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_draft(const char *draft, int min_compiled, FILE *report)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/constraint/json-schema-test-suite/%s", SMC_SOURCE_DIR, draft);
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (!d)
        return;
    char *names[128];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 128) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json"))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    if (report)
        fprintf(report, "\n### %s\n\n| file | cases | compiled | tests run | correct | false accepts | "
                        "false rejects |\n|---|---|---|---|---|---|---|\n", draft);
    tally t = {0};
    for (int i = 0; i < n; i++) {
        run_file(dir, names[i], &t, report);
        free(names[i]);
    }
    if (report)
        fprintf(report, "| **all** | %d | %d | %d | %d | %d | %d |\n", t.cases, t.compiled, t.tests,
                t.correct, t.false_accepts, t.false_rejects);
    fprintf(stderr, "%s: %d cases, %d compiled (%.0f%%); %d tests on them: %d correct, %d false accepts, "
            "%d false rejects (%d with too many key orders, not run)\n", draft, t.cases, t.compiled,
            100.0 * t.compiled / (t.cases ? t.cases : 1), t.tests, t.correct, t.false_accepts,
            t.false_rejects, t.skipped_tests);
    CHECK_EQ_INT(t.false_accepts, 0);
    CHECK_MSG(t.compiled >= min_compiled, "%s: only %d cases compiled (was %d)", draft, t.compiled,
              min_compiled);
}

void run_tests(void)
{
    const char *rp = getenv("SMC_SUITE_REPORT");
    FILE *report = rp ? fopen(rp, "w") : NULL;
    run_draft("draft2020-12", 279, report);
    run_draft("draft7", 201, report);
    run_draft("draft2020-12/optional/format", 21, report);
    if (report)
        fclose(report);
}
