/* eval_molecules.c — RDKit metrics of the molecules task: every distinct
 * SMILES of a run goes through scripts/eval_metrics.py in one process; the
 * units' particle scores become QED (0 when invalid) and each unit gets
 * validity, uniqueness and novelty. */
#include "pipeline/eval_molecules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void set_num(cJSON *o, const char *key, double v)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(o, key);
    if (old)
        cJSON_SetNumberValue(old, v);
    else
        cJSON_AddNumberToObject(o, key, v);
}

typedef struct mol_info {
    char *smiles;
    bool valid;
    double qed;
    char *canon;
} mol_info;

typedef struct mol_table {
    mol_info *v;
    size_t n, cap;
} mol_table;

static void strip(const char *s, char *out, size_t cap)
{
    while (isspace((unsigned char)*s))
        s++;
    snprintf(out, cap, "%s", s);
    size_t n = strlen(out);
    while (n && isspace((unsigned char)out[n - 1]))
        out[--n] = 0;
}

static mol_info *mol_find(mol_table *t, const char *s)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].smiles, s))
            return &t->v[i];
    return NULL;
}

static void mol_add(mol_table *t, const char *raw)
{
    char s[1024];
    strip(raw, s, sizeof s);
    if (strchr(s, '\n') || mol_find(t, s))
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        mol_info *g = realloc(t->v, cap * sizeof *g);
        if (!g)
            return;
        t->v = g;
        t->cap = cap;
    }
    t->v[t->n++] = (mol_info){.smiles = strdup(s)};
}

static void mol_free(mol_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].smiles);
        free(t->v[i].canon);
    }
    free(t->v);
}

/* One helper process for all molecules: SMILES lines in, JSON lines out. */
static bool rdkit_score(mol_table *t, const char *out_dir, const char *script)
{
    if (!t->n)
        return true;
    char in_path[4096], out_path[4096], cmd[4096 * 3 + 64];
    snprintf(in_path, sizeof in_path, "%s/.molecules.txt", out_dir);
    snprintf(out_path, sizeof out_path, "%s/.molecules.jsonl", out_dir);
    FILE *f = fopen(in_path, "w");
    if (!f)
        return false;
    for (size_t i = 0; i < t->n; i++)
        fprintf(f, "%s\n", t->v[i].smiles);
    fclose(f);
    /* Debian's RDKit lives in the system interpreter, which may not be the
     * first python3 on PATH. */
    const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    snprintf(cmd, sizeof cmd, "%s '%s' < '%s' > '%s'", py, script, in_path, out_path);
    int rc = system(cmd);
    bool ok = rc == 0;
    FILE *g = ok ? fopen(out_path, "r") : NULL;
    size_t k = 0;
    if (g) {
        char *line = NULL;
        size_t cap = 0;
        while (k < t->n && getline(&line, &cap, g) > 0) {
            cJSON *o = cJSON_Parse(line);
            t->v[k].valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "valid"));
            t->v[k].qed = jnum(o, "qed", 0);
            const char *c = jstr(o, "canon");
            t->v[k].canon = strdup(*c ? c : t->v[k].smiles);
            cJSON_Delete(o);
            k++;
        }
        free(line);
        fclose(g);
    }
    unlink(in_path);
    unlink(out_path);
    return ok && k == t->n;
}

static bool in_list(char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

static void rescore_molecules(cJSON *units, mol_table *t)
{
    cJSON *u;
    cJSON_ArrayForEach(u, units)
    {
        if (strcmp(jstr(u, "task"), "molecules"))
            continue;
        char *refs[64];
        int n_refs = 0;
        cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(u, "reference"))
        {
            char s[1024];
            strip(cJSON_IsString(r) ? r->valuestring : "", s, sizeof s);
            mol_info *m = mol_find(t, s);
            if (m && m->valid && n_refs < 64)
                refs[n_refs++] = m->canon;
        }
        double score = 0, validity = 0;
        int n_valid = 0, n_unique = 0, n_novel = 0;
        char *seen[1024];
        int n_seen = 0;
        cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(u, "particles"))
        {
            char s[1024];
            strip(jstr(p, "text"), s, sizeof s);
            mol_info *m = mol_find(t, s);
            bool valid = m && m->valid;
            double q = valid ? m->qed : 0, w = jnum(p, "weight", 0);
            set_num(p, "score", q);
            cJSON_DeleteItemFromObjectCaseSensitive(p, "valid");
            cJSON_AddBoolToObject(p, "valid", valid);
            score += w * q;
            validity += w * valid;
            if (valid) {
                n_valid++;
                if (!in_list(seen, n_seen, m->canon)) {
                    if (n_seen < 1024)
                        seen[n_seen++] = m->canon;
                    n_unique++;
                }
                n_novel += !in_list(refs, n_refs, m->canon);
            }
        }
        set_num(u, "score", score);
        set_num(u, "validity", validity);
        set_num(u, "uniqueness", n_valid ? (double)n_unique / n_valid : 0);
        set_num(u, "novelty", n_valid ? (double)n_novel / n_valid : 0);
    }
}

bool eval_molecules_rescore(cJSON *units, const char *out_dir, const char *script)
{
    mol_table mt = {0};
    const cJSON *u;
    cJSON_ArrayForEach(u, units)
    {
        if (strcmp(jstr(u, "task"), "molecules"))
            continue;
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(u, "particles")) mol_add(&mt, jstr(p, "text"));
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(u, "reference")) if (cJSON_IsString(p))
            mol_add(&mt, p->valuestring);
    }
    bool ok = mt.n == 0 || rdkit_score(&mt, out_dir, script);
    if (ok)
        rescore_molecules(units, &mt);
    mol_free(&mt);
    return ok;
}
