/* eval_merge.c — `smcgen eval --merge DIR...`: checks that the folders are
 * the shards of one run (same options, each shard once, none missing, no
 * unit twice), writes their units and a combined config.json into the output
 * folder, and builds the report from them (the report orders units
 * canonically, so it equals an unsharded run's). */
#include "pipeline/eval_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "pipeline/eval_report.h"
#include "util/error.h"
#include "util/file.h"

/* Options that must agree between the shards of one run. */
static const char *const same_keys[] = {"n_particles", "ess_threshold", "resample", "temperature", "proposal",
                                        "resample_at", "replicates", "limit",
                                        "limit_pydata", "seed", "models", "max_tokens", "particle_sweep",
                                        "sweep_limit", "sweep_tasks", "n_ctx", "tasks", "methods"};

static cJSON *read_config(const char *dir, smc_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *text = smc_read_file(path, NULL, err);
    if (!text)
        return NULL;
    cJSON *c = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(c)) {
        cJSON_Delete(c);
        smc_fail(err, "%s: not a JSON object", path);
        return NULL;
    }
    return c;
}

static int shard_of(const cJSON *c, int *index, int *count)
{
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(c, "shard");
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(sh, "index"), *n = cJSON_GetObjectItemCaseSensitive(sh, "count");
    *index = cJSON_IsNumber(i) ? i->valueint : 0;
    *count = cJSON_IsNumber(n) ? n->valueint : 1;
    return *count >= 1 && *index >= 0 && *index < *count ? 0 : -1;
}

/* Checks the configs against the first one and the shard set; returns the
 * combined config (first config, no shard, every folder's commands). */
static cJSON *combine_configs(cJSON **cfg, const char *const *dirs, int n, smc_error *err)
{
    int i0, count;
    if (shard_of(cfg[0], &i0, &count))
        return smc_fail(err, "%s/config.json: bad shard entry", dirs[0]), NULL;
    char *seen = calloc((size_t)count, 1);
    if (!seen)
        return smc_fail(err, "out of memory"), NULL;
    int rc = 0;
    for (int d = 0; d < n && !rc; d++) {
        int idx, cnt;
        if (shard_of(cfg[d], &idx, &cnt) || cnt != count)
            rc = smc_fail(err, "%s is shard %d of %d, %s of %d: not shards of one run", dirs[d], idx, cnt,
                          dirs[0], count);
        else if (seen[idx]++)
            rc = smc_fail(err, "%s: shard %d/%d is given twice", dirs[d], idx, count);
        for (size_t k = 0; !rc && k < sizeof same_keys / sizeof *same_keys; k++) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg[0], same_keys[k]),
                        *b = cJSON_GetObjectItemCaseSensitive(cfg[d], same_keys[k]);
            if ((a || b) && !(a && b && cJSON_Compare(a, b, true)))
                rc = smc_fail(err, "%s and %s differ in %s: not shards of one run", dirs[0], dirs[d],
                              same_keys[k]);
        }
    }
    for (int k = 0; !rc && k < count; k++)
        if (!seen[k])
            rc = smc_fail(err, "shard %d/%d is missing", k, count);
    free(seen);
    if (rc)
        return NULL;
    cJSON *out = cJSON_Duplicate(cfg[0], true);
    cJSON_DeleteItemFromObjectCaseSensitive(out, "shard");
    cJSON_DeleteItemFromObjectCaseSensitive(out, "command");
    cJSON_DeleteItemFromObjectCaseSensitive(out, "commands");
    cJSON *cmds = cJSON_AddArrayToObject(out, "commands"), *from = cJSON_AddArrayToObject(out, "merged_from");
    for (int d = 0; d < n; d++) {
        const cJSON *c, *list = cJSON_GetObjectItemCaseSensitive(cfg[d], "commands");
        cJSON_ArrayForEach(c, list) cJSON_AddItemToArray(cmds, cJSON_Duplicate(c, false));
        cJSON_AddItemToArray(from, cJSON_CreateString(dirs[d]));
    }
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends every unit line of dir to f; keys collected for the duplicate check. */
static int copy_units(const char *dir, FILE *f, char ***keys, size_t *n, size_t *cap, smc_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/units.jsonl", dir);
    FILE *in = fopen(path, "r");
    if (!in)
        return smc_fail(err, "%s: cannot open (%s)", path, strerror(errno));
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0;
    while (!rc && (len = getline(&line, &lcap, in)) > 0) {
        cJSON *u = cJSON_Parse(line);
        if (!cJSON_IsObject(u)) {   /* a torn last line (an interrupted write) */
            cJSON_Delete(u);
            continue;
        }
        char key[1024];
        eval_unit_key_json(u, key, sizeof key);
        cJSON_Delete(u);
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 1024;
            char **g = realloc(*keys, nc * sizeof *g);
            if (!g) {
                rc = smc_fail(err, "out of memory");
                break;
            }
            *keys = g;
            *cap = nc;
        }
        if (!((*keys)[*n] = strdup(key)))
            rc = smc_fail(err, "out of memory");
        else
            (*n)++;
        if (!rc && (fwrite(line, 1, (size_t)len, f) != (size_t)len || (line[len - 1] != '\n' && fputc('\n', f) < 0)))
            rc = smc_fail(err, "cannot write the merged units.jsonl");
    }
    free(line);
    fclose(in);
    return rc;
}

int eval_merge(const char *const *dirs, int n, const char *out_dir, smc_error *err)
{
    if (n < 1)
        return smc_fail(err, "eval --merge: no folders given");
    char path[4096];
    snprintf(path, sizeof path, "%s/units.jsonl", out_dir);
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size > 0)
        return smc_fail(err, "%s already holds results: merge into another --out", path);
    cJSON **cfg = calloc((size_t)n, sizeof *cfg);
    if (!cfg)
        return smc_fail(err, "out of memory");
    int rc = 0;
    for (int d = 0; d < n && !rc; d++)
        if (!(cfg[d] = read_config(dirs[d], err)))
            rc = smc_fail_context(err, "eval --merge");
    cJSON *merged = rc ? NULL : combine_configs(cfg, dirs, n, err);
    for (int d = 0; d < n; d++)
        cJSON_Delete(cfg[d]);
    free(cfg);
    if (!merged)
        return -1;
    char **keys = NULL;
    size_t nk = 0, ck = 0;
    FILE *f = NULL;
    if (eval_mkdir_p(out_dir, err) == 0 && !(f = fopen(path, "w")))
        smc_fail(err, "%s: cannot open for writing", path);
    rc = f ? 0 : -1;
    for (int d = 0; d < n && !rc; d++)
        rc = copy_units(dirs[d], f, &keys, &nk, &ck, err);
    if (f && fclose(f) && !rc)
        rc = smc_fail(err, "%s: cannot write", path);
    if (!rc && nk > 1) {
        qsort(keys, nk, sizeof *keys, cmp_str);
        for (size_t i = 1; i < nk && !rc; i++)
            if (!strcmp(keys[i], keys[i - 1]))
                rc = smc_fail(err, "eval --merge: unit %s appears twice", keys[i]);
    }
    for (size_t i = 0; i < nk; i++)
        free(keys[i]);
    free(keys);
    if (!rc) {
        snprintf(path, sizeof path, "%s/config.json", out_dir);
        char *text = cJSON_Print(merged);
        FILE *cf = text ? fopen(path, "w") : NULL;
        if (!cf || fputs(text, cf) < 0)
            rc = smc_fail(err, "%s: cannot write", path);
        if (cf && fclose(cf) && !rc)
            rc = smc_fail(err, "%s: cannot write", path);
        free(text);
    }
    cJSON_Delete(merged);
    if (rc) {
        snprintf(path, sizeof path, "%s/units.jsonl", out_dir);
        remove(path);   /* no half-merged folder that --merge would then refuse */
        return -1;
    }
    return eval_report(out_dir, NULL, err);
}
