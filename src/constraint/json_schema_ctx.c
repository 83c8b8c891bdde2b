/* json_schema_ctx.c — rule bookkeeping, JSON pointers and keyword getters
 * for the JSON Schema converter. */
#include "constraint/json_schema_ctx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

const char *const js_prim_name[N_PRIM] = {
    "ws", "value", "object", "array", "string", "char", "uesc", "hex", "number",
    "integer", "boolean", "null", "kchar"};

/* ---- rules ---- */

const char *js_prim(js_ctx *c, enum prim p)
{
    c->used[p] = true;
    return js_prim_name[p];
}

char *js_new_name(js_ctx *c, const char *kind, const char *hint)
{
    char base[64];
    size_t n = 0;
    for (const char *k = kind; *k && n < 20; k++)
        base[n++] = *k;
    if (hint && *hint) {
        base[n++] = '-';
        for (const char *h = hint; *h && n < 44; h++) {
            char ch = *h;
            if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
                base[n++] = ch;
            else if (base[n - 1] != '-')
                base[n++] = '-';
        }
        while (n > 0 && base[n - 1] == '-')
            n--;
    }
    base[n] = 0;
    /* every generated name ends with "-N", N unique in this conversion, so
     * names never collide with each other or with the primitive rules */
    char name[96];
    snprintf(name, sizeof name, "%s-%u", base, ++c->n_names);
    return js_strdup(name);
}

/* Takes ownership of name and body. */
int js_add_rule(js_ctx *c, char *name, char *body)
{
    if (!name || !body)
        goto oom;
    if (c->n_rules == c->cap_rules) {
        size_t cap = c->cap_rules ? c->cap_rules * 2 : 32;
        js_rule *r = realloc(c->rules, cap * sizeof *r);
        if (!r)
            goto oom;
        c->rules = r;
        c->cap_rules = cap;
    }
    c->rules[c->n_rules].name = name;
    c->rules[c->n_rules].body = body;
    c->n_rules++;
    return 0;
oom:
    free(name);
    free(body);
    return smc_fail(c->err, "out of memory");
}

/* ---- paths ---- */

char *js_path_join(const char *path, const char *key)
{
    js_buf b = {0};
    js_put(&b, path);
    js_put(&b, "/");
    for (const char *k = key; *k; k++) {
        if (*k == '~')
            js_put(&b, "~0");
        else if (*k == '/')
            js_put(&b, "~1");
        else
            js_putn(&b, k, 1);
    }
    return js_take(&b);
}

char *js_path_index(const char *path, const char *key, int i)
{
    js_buf b = {0};
    js_printf(&b, "%s/%s/%d", path, key, i);
    return js_take(&b);
}

const cJSON *js_get(const cJSON *s, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(s, k);
}

/* Non-negative integer keyword; def when absent; -2 on a bad value. */
long long js_get_count(js_ctx *c, const cJSON *s, const char *k, long long def, const char *path)
{
    const cJSON *v = js_get(s, k);
    if (!v)
        return def;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble > 1e9) {
        smc_fail(c->err, "JSON Schema: \"%s\" at %s must be a non-negative integer", k, path);
        return -2;
    }
    if (v->valuedouble > JS_MAX_COUNT && strcmp(k, "minProperties") && strcmp(k, "maxProperties")) {
        smc_fail(c->err, "JSON Schema: \"%s\" %.0f at %s is above the supported %d", k,
                 v->valuedouble, path, JS_MAX_COUNT);
        return -2;
    }
    return (long long)v->valuedouble;
}


/* Walks the document (not into enum/const/default/examples values) for a
 * "$ref" inside a subschema that has its own "$id": such a reference is
 * relative to that subschema, which the resolver (always the document root)
 * would get wrong. */
static int nested_refs(const cJSON *v, bool nested, bool is_root, const char *path, smc_error *err)
{
    if (cJSON_IsObject(v)) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "$id");
        if (!is_root && cJSON_IsString(id) && id->valuestring[0] != '#')
            nested = true;
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(v, "$ref");
        if (nested && cJSON_IsString(ref))
            return smc_fail(err, "JSON Schema: \"$ref\" \"%.200s\" at %s is inside a subschema with its "
                            "own \"$id\" (references relative to a nested $id are not supported)",
                            ref->valuestring, path);
    }
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return 0;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (cJSON_IsObject(v) && (!strcmp(e->string, "enum") || !strcmp(e->string, "const") ||
                                  !strcmp(e->string, "default") || !strcmp(e->string, "examples")))
            continue;
        char *sub;
        if (cJSON_IsObject(v)) {
            sub = js_path_join(path, e->string);
        } else {
            js_buf b = {0};
            js_printf(&b, "%s/%d", path, i);
            sub = js_take(&b);
        }
        if (!sub)
            return smc_fail(err, "out of memory");
        int rc = nested_refs(e, nested, false, sub, err);
        free(sub);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int js_check_ref_bases(const cJSON *root, smc_error *err)
{
    return nested_refs(root, false, true, "#", err);
}
