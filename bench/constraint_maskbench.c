/* constraint_maskbench.c — MaskBench's timing figures for smcgen's JSON
 * Schema grammars, measured as MaskBench measures them
 * (github.com/guidance-ai/jsonschemabench, maskbench/maskbench/runner.py):
 * for each schema file ({"schema": ..., "tests": [{"data": ..., "valid":
 * bool}, ...]}), TTFM (time to first mask) is the schema's compile time
 * (here: JSON Schema to grammar, grammar compiled, plus the first token mask
 * on the vocabulary) and TBM (time between masks) the time of one token
 * mask plus advancing by the instance's next token, over every token of
 * every test instance (valid and invalid, written compactly, tokenized with
 * the vocabulary; an instance stops at its first rejected token).
 * Percentiles are over all schemas that compile (TTFM) and all masks (TBM),
 * in wall-clock and in thread CPU time (on a shared machine the wall-clock
 * tail is other processes; MaskBench reports wall-clock on a quiet one).
 * Also printed: compile time alone, and the count of instances whose
 * acceptance disagrees with "valid" (token-level; 0 false accepts expected).
 * SMC_BENCH_SLOW=T names each mask over T us of CPU time (file, token).
 *
 * usage: bench_constraint_maskbench [--vocab FILE.gguf] FILE.json|DIR ...
 * (default vocabulary: ../shared/vocab/ggml-vocab-gpt-2.gguf, the largest
 * there). scripts/maskbench.py --bench runs it on the same sample. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "smcgen.h"
#include "util/file.h"
#include "util/paths.h"

typedef struct series {
    double *t;
    size_t n, cap;
} series;

static double clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void add(series *s, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->t = realloc(s->t, s->cap * sizeof *s->t);
    }
    s->t[s->n++] = v;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* nearest-rank quantile of a sorted series */
static double quant(const series *s, double q)
{
    size_t i = (size_t)(q * (double)s->n + 0.999999);
    return s->t[i == 0 ? 0 : i > s->n ? s->n - 1 : i - 1];
}

static void report(const char *name, series *s)
{
    if (!s->n) {
        printf("%-22s (none)\n", name);
        return;
    }
    qsort(s->t, s->n, sizeof *s->t, cmp_d);
    double mean = 0;
    for (size_t i = 0; i < s->n; i++)
        mean += s->t[i];
    mean /= (double)s->n;
    printf("%-22s n %7zu  mean %9.1f  p25 %8.1f  p50 %8.1f  p75 %8.1f  p90 %8.1f  p95 %9.1f  p99 %9.1f  "
           "p99.9 %9.1f  max %10.1f us\n", name, s->n, mean, quant(s, 0.25), quant(s, 0.5), quant(s, 0.75),
           quant(s, 0.9), quant(s, 0.95), quant(s, 0.99), quant(s, 0.999), s->t[s->n - 1]);
}

typedef struct bench {
    const smc_vocab *v;
    const smc_token_index *ix;
    uint32_t *mask;
    series ttfm_wall, ttfm_cpu, compile_wall, tbm_wall, tbm_cpu;
    int schemas, compiled, instances, disagree, false_accepts;
    double slow;        /* SMC_BENCH_SLOW: print masks over this many us of CPU time */
    const char *file;
} bench;

/* One instance replayed token by token; returns whether every token was allowed. */
static bool replay(bench *b, const smc_grammar *g, const char *text)
{
    int32_t *ids = NULL;
    size_t n_ids = 0;
    smc_error err = {{0}};
    if (smc_tokenize(b->v, text, strlen(text), false, false, &ids, &n_ids, &err) != 0)
        return false;
    smc_matcher *m = smc_matcher_new(g);
    smc_matcher_set_limit(m, 0);
    bool ok = true;
    for (size_t i = 0; i < n_ids && ok; i++) {
        double w0 = clock_us(CLOCK_MONOTONIC), c0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
        int32_t tok = ids[i];
        ok = smc_matcher_token_mask(m, b->ix, b->mask, &err) == 0 && (b->mask[tok >> 5] >> (tok & 31) & 1) &&
             smc_matcher_advance_token(m, b->ix, tok) == 0;
        add(&b->tbm_cpu, clock_us(CLOCK_THREAD_CPUTIME_ID) - c0);
        add(&b->tbm_wall, clock_us(CLOCK_MONOTONIC) - w0);
        if (b->slow > 0 && b->tbm_cpu.t[b->tbm_cpu.n - 1] > b->slow)
            fprintf(stderr, "slow mask %.0f us cpu: %s, token %zu of %zu\n", b->tbm_cpu.t[b->tbm_cpu.n - 1],
                    b->file, i, n_ids);
    }
    /* a complete document: the end-of-sequence token is allowed at the end */
    if (ok && smc_matcher_token_mask(m, b->ix, b->mask, &err) == 0) {
        int32_t eos = smc_token_index_eos(b->ix);
        ok = eos >= 0 && (b->mask[eos >> 5] >> (eos & 31) & 1);
    }
    smc_matcher_free(m);
    free(ids);
    return ok;
}

static void run_file(bench *b, const char *path)
{
    size_t len = 0;
    smc_error rerr = {{0}};
    char *text = smc_read_file(path, &len, &rerr);
    if (!text) {
        fprintf(stderr, "%s\n", rerr.msg);
        return;
    }
    cJSON *doc = cJSON_Parse(text);
    free(text);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (!schema) {
        cJSON_Delete(doc);
        return;
    }
    b->schemas++;
    b->file = path;
    char *st = cJSON_PrintUnformatted(schema);
    smc_grammar *g = NULL;
    smc_error err = {{0}};
    double w0 = clock_us(CLOCK_MONOTONIC), c0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
    int rc = smc_grammar_from_json_schema(st, strlen(st), &g, &err);
    double compiled_at = clock_us(CLOCK_MONOTONIC);
    if (rc == 0) {
        smc_matcher *m = smc_matcher_new(g);
        smc_matcher_set_limit(m, 0);
        rc = smc_matcher_token_mask(m, b->ix, b->mask, &err);
        smc_matcher_free(m);
    }
    if (rc == 0) {
        b->compiled++;
        add(&b->ttfm_cpu, clock_us(CLOCK_THREAD_CPUTIME_ID) - c0);
        add(&b->ttfm_wall, clock_us(CLOCK_MONOTONIC) - w0);
        add(&b->compile_wall, compiled_at - w0);
        const cJSON *tests = cJSON_GetObjectItemCaseSensitive(doc, "tests");
        for (const cJSON *t = tests ? tests->child : NULL; t; t = t->next) {
            char *inst = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(t, "data"));
            bool valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "valid"));
            bool acc = inst && replay(b, g, inst);
            b->instances++;
            b->disagree += acc != valid;
            if (acc && !valid) {
                b->false_accepts++;
                fprintf(stderr, "false accept: %s: %.200s\n", path, inst);
            }
            free(inst);
        }
    }
    smc_grammar_free(g);
    free(st);
    cJSON_Delete(doc);
}

static int cmp_s(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void run_path(bench *b, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        run_file(b, path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_s);
    for (size_t i = 0; i < n; i++) {
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        run_file(b, full);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    char def[4096];
    const char *shared = smc_shared_dir();
    snprintf(def, sizeof def, "%s/vocab/ggml-vocab-gpt-2.gguf", shared ? shared : "../shared");
    const char *vocab = def;
    int first = 1;
    if (argc > 2 && !strcmp(argv[1], "--vocab"))
        vocab = argv[2], first = 3;
    if (first >= argc) {
        fprintf(stderr, "usage: %s [--vocab FILE.gguf] FILE.json|DIR ...\n", argv[0]);
        return 2;
    }
    smc_error err = {{0}};
    smc_gguf *gg = NULL;
    smc_vocab *v = NULL;
    if (smc_gguf_open(vocab, &gg, &err) != 0 || smc_vocab_load(gg, &v, &err) != 0) {
        fprintf(stderr, "cannot load %s: %s\n", vocab, err.msg);
        return 1;
    }
    smc_gguf_close(gg);
    smc_token_index *ix = NULL;
    if (smc_token_index_from_vocab(v, &ix, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    bench b = {.v = v, .ix = ix, .slow = getenv("SMC_BENCH_SLOW") ? atof(getenv("SMC_BENCH_SLOW")) : 0};
    b.mask = malloc(smc_token_mask_words(ix) * sizeof *b.mask);
    for (int i = first; i < argc; i++)
        run_path(&b, argv[i]);
    printf("vocabulary %s: %d tokens\n", vocab, smc_vocab_n_tokens(v));
    printf("schemas %d, compiled %d; instances %d, disagreeing with \"valid\" %d, false accepts %d\n", b.schemas,
           b.compiled, b.instances, b.disagree, b.false_accepts);
    report("TTFM wall", &b.ttfm_wall);
    report("TTFM cpu", &b.ttfm_cpu);
    report("compile only wall", &b.compile_wall);
    report("TBM wall", &b.tbm_wall);
    report("TBM cpu", &b.tbm_cpu);
    free(b.ttfm_wall.t), free(b.ttfm_cpu.t), free(b.compile_wall.t), free(b.tbm_wall.t), free(b.tbm_cpu.t);
    free(b.mask);
    smc_token_index_free(ix);
    smc_vocab_free(v);
    return b.false_accepts ? 1 : 0;
}
