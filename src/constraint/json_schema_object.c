/* json_schema_object.c — JSON Schema objects → GBNF: properties in schema
 * order, required/optional, additionalProperties (extra keys differ from the
 * declared names), min/maxProperties when implied by required/properties or
 * on maps (objects with only additionalProperties). */
#include "constraint/json_schema_ctx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* ---- objects ---- */

typedef struct prop_entry {
    const char *name;
    const cJSON *schema;
    bool required;
} prop_entry;

int js_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool plain_key(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == '"' || *p == '\\')
            return false;
    return true;
}

void js_not_strings(js_ctx *c, js_buf *o, const char **names, size_t n, size_t d)
{
    bool final = false;
    size_t i = 0;
    if (i < n && names[0][d] == 0) {
        final = true;
        i = 1;
    }
    js_put(o, "(");
    js_cpset seen = {0};
    bool first = true;
    while (i < n) {
        size_t at = d;
        int32_t cp = js_utf8_next(names[i], strlen(names[i]), &at);
        size_t j = i + 1;
        while (j < n && strncmp(names[j] + d, names[i] + d, at - d) == 0)
            j++;
        if (!first)
            js_put(o, " | ");
        first = false;
        js_gbnf_literal(o, names[i] + d, at - d);
        js_put(o, " ");
        js_not_strings(c, o, names + i, j - i, at);
        if (cp >= 0)
            js_cpset_add(&seen, (uint32_t)cp, (uint32_t)cp);
        i = j;
    }
    /* any other first character, then anything */
    js_cpset_add(&seen, 0, 0x1F);
    js_cpset_add(&seen, '"', '"');
    js_cpset_add(&seen, '\\', '\\');
    js_cpset_add(&seen, 0xD800, 0xDFFF);
    js_cpset_complement(&seen);
    if (seen.n) {
        if (!first)
            js_put(o, " | ");
        js_put(o, "[");
        for (size_t k = 0; k < seen.n; k++) {
            js_gbnf_class_cp(o, seen.r[k][0]);
            if (seen.r[k][1] != seen.r[k][0]) {
                js_put(o, "-");
                js_gbnf_class_cp(o, seen.r[k][1]);
            }
        }
        js_put(o, "] ");
        js_put(o, js_prim(c, P_KCHAR));
        js_put(o, "*");
    }
    js_cpset_free(&seen);
    js_put(o, final ? ")" : ")?");
}

/* A_k (the rest from property k, nothing written yet) is reached from A_0
 * only through optional properties 0..k-1: k <= the first required index. */
static size_t first_required(const prop_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].required)
            return i;
    return n;
}

/* Properties in any order: one rule per set of declared properties written
 * (E_set: a key/value is due), extra keys anywhere; the object may end once
 * every required property is written. */
#define JS_ANY_ORDER_MAX 10

static char *any_order(js_ctx *c, const prop_entry *e, char *const *exprs, size_t n, const char *extra,
                       const char *path)
{
    unsigned ns = 1u << n, req = 0, full = ns - 1;
    for (size_t k = 0; k < n; k++)
        req |= e[k].required ? 1u << k : 0;
    char **names = calloc(ns, sizeof *names);
    char *result = NULL;
    if (!names) {
        smc_fail(c->err, "out of memory");
        return NULL;
    }
    const char *hint = strrchr(path, '/') ? strrchr(path, '/') + 1 : "";
    bool ok = true;
    for (unsigned t = 0; t < ns && ok; t++)
        ok = (names[t] = js_new_name(c, "obj-any", hint)) != NULL;
    for (unsigned set = 0; set < ns && ok; set++) {
        if (set == full && !extra)
            continue;                        /* nothing left to write: never referenced */
        js_buf b = {0};
        int alts = 0;
        for (size_t k = 0; k <= n; k++) {
            if (k < n && (set & (1u << k)))
                continue;
            if (k == n && !extra)
                break;
            unsigned to = k < n ? set | (1u << k) : set;
            js_printf(&b, "%s%s ", alts++ ? " | " : "", k < n ? exprs[k] : extra);
            bool more = to != full || extra;
            if ((to & req) != req)
                js_printf(&b, "\",\" %s %s", c->W, names[to]);
            else if (more)
                js_printf(&b, "( \",\" %s %s )?", c->W, names[to]);
        }
        ok = js_add_rule(c, js_strdup(names[set]), js_take(&b)) == 0;
    }
    if (ok) {
        js_buf o = {0};
        js_printf(&o, "( \"{\" %s %s%s%s \"}\" )", c->W, req ? "" : "( ", names[0], req ? "" : " )?");
        result = js_take(&o);
    }
    for (unsigned t = 0; t < ns; t++)
        free(names[t]);
    free(names);
    return result;
}

char *js_compile_object(js_ctx *c, const cJSON *s, const char *path)
{
    cJSON *rewritten = NULL;
    s = js_object_keys(c, s, path, &rewritten);
    if (rewritten)
        cJSON_AddItemToArray(cJSON_GetObjectItem(c->owned, "keep"), rewritten);
    if (!s)
        return NULL;
    const cJSON *props = js_get(s, "properties"), *req = js_get(s, "required");
    const cJSON *ap = js_get(s, "additionalProperties");
    if (props && !cJSON_IsObject(props)) {
        smc_fail(c->err, "JSON Schema: \"properties\" at %s must be an object", path);
        return NULL;
    }
    if (req && !cJSON_IsArray(req)) {
        smc_fail(c->err, "JSON Schema: \"required\" at %s must be an array", path);
        return NULL;
    }
    for (const cJSON *r = req ? req->child : NULL; r; r = r->next)
        if (!cJSON_IsString(r)) {
            smc_fail(c->err, "JSON Schema: \"required\" at %s must hold strings", path);
            return NULL;
        }
    bool extra = ap ? !cJSON_IsFalse(ap) : !(c->flags & SMC_JSON_SCHEMA_NO_EXTRA_PROPERTIES);
    size_t n_props = (size_t)cJSON_GetArraySize(props) + (size_t)cJSON_GetArraySize(req);
    prop_entry *e = calloc(n_props + 1, sizeof *e);
    const char **declared = calloc(n_props + 1, sizeof *declared);
    char **exprs = calloc(n_props + 2, sizeof *exprs);
    js_buf o = {0};
    char *result = NULL, *add_expr = NULL;
    char **a_names = NULL, **b_names = NULL;
    size_t n = 0, n_decl = 0;
    if (!e || !declared || !exprs)
        goto oom;
    for (const cJSON *p = props ? props->child : NULL; p; p = p->next) {
        bool is_req = false;
        for (const cJSON *r = req ? req->child : NULL; r; r = r->next)
            is_req |= !strcmp(r->valuestring, p->string);
        bool dup = false;
        for (size_t k = 0; k < n_decl; k++)
            dup |= !strcmp(declared[k], p->string);
        if (dup)
            continue;
        if (plain_key(p->string))
            declared[n_decl++] = p->string;
        if (cJSON_IsFalse(p)) {
            if (is_req) {
                smc_fail(c->err, "JSON Schema: required property \"%.100s\" has schema false at %s",
                         p->string, path);
                goto fail;
            }
            continue;
        }
        e[n++] = (prop_entry){p->string, p, is_req};
    }
    for (const cJSON *r = req ? req->child : NULL; r; r = r->next) {
        bool found = props && js_get(props, r->valuestring);
        for (size_t k = 0; k < n && !found; k++)
            found = !strcmp(e[k].name, r->valuestring);
        if (found)
            continue;
        if (!extra) {
            smc_fail(c->err, "JSON Schema: required property \"%.100s\" is not allowed "
                     "(additionalProperties false) at %s", r->valuestring, path);
            goto fail;
        }
        e[n++] = (prop_entry){r->valuestring, ap ? ap : NULL, true};
        if (plain_key(r->valuestring))
            declared[n_decl++] = r->valuestring;
    }
    size_t n_req = 0;
    for (size_t k = 0; k < n; k++)
        n_req += e[k].required;
    long long minp = js_get_count(c, s, "minProperties", 0, path);
    long long maxp = js_get_count(c, s, "maxProperties", -1, path);
    if (minp == -2 || maxp == -2)
        goto fail;
    /* a map (only additionalProperties): property counts are repetitions */
    bool map_counts = n == 0 && extra && (minp > 0 || maxp >= 0);
    if (map_counts && maxp >= 0 && minp > maxp) {
        smc_fail(c->err, "JSON Schema: minProperties > maxProperties at %s", path);
        goto fail;
    }
    if (!map_counts && (unsigned long long)minp > n_req) {
        smc_fail(c->err, "JSON Schema: unsupported keyword \"minProperties\" at %s (supported only "
                 "when implied by \"required\", or on objects without \"properties\")", path);
        goto fail;
    }
    if (!map_counts && maxp >= 0 && (extra || (unsigned long long)maxp < n)) {
        smc_fail(c->err, "JSON Schema: unsupported keyword \"maxProperties\" at %s (supported only "
                 "when implied by the properties and additionalProperties false, or on objects "
                 "without \"properties\")", path);
        goto fail;
    }
    /* key/value expressions */
    for (size_t k = 0; k < n; k++) {
        char *sub = js_path_join(path, "properties");
        char *sub2 = sub ? js_path_join(sub, e[k].name) : NULL;
        free(sub);
        char *v = sub2 ? js_compile(c, e[k].schema ? e[k].schema : cJSON_GetObjectItem(c->owned, "t"),
                                 sub2) : NULL;
        free(sub2);
        if (!v)
            goto fail;
        js_buf j = {0}, kv = {0};
        js_json_string(&j, e[k].name);
        if (js_gbnf_literal(&kv, j.p, j.len) < 0) {
            js_buf_free(&j);
            js_buf_free(&kv);
            free(v);
            smc_fail(c->err, "JSON Schema: invalid UTF-8 in a property name at %s", path);
            goto fail;
        }
        js_buf_free(&j);
        js_printf(&kv, " %s \":\" %s %s %s", c->W, c->W, v, c->W);
        free(v);
        exprs[k] = js_take(&kv);
        if (!exprs[k])
            goto oom;
    }
    if (extra) {
        char *sub = js_path_join(path, "additionalProperties");
        char *v = sub ? js_compile(c, ap ? ap : cJSON_GetObjectItem(c->owned, "t"), sub) : NULL;
        free(sub);
        if (!v)
            goto fail;
        qsort(declared, n_decl, sizeof *declared, js_cmp_str);
        size_t u = 0;
        for (size_t k = 0; k < n_decl; k++)
            if (u == 0 || strcmp(declared[u - 1], declared[k]) != 0)
                declared[u++] = declared[k];
        n_decl = u;
        js_buf kv = {0};
        const cJSON *key = js_get(s, "$smcExtraKey");
        if (key) {              /* keys constrained, none a declared name */
            char *ksub = js_path_join(path, "propertyNames");
            char *k = ksub ? js_compile(c, key, ksub) : NULL;
            free(ksub);
            if (!k) {
                free(v);
                goto fail;
            }
            js_put(&kv, k);
            free(k);
        } else {
            js_put(&kv, "\"\\\"\" ");
            js_not_strings(c, &kv, declared, n_decl, 0);
            js_put(&kv, " \"\\\"\"");
        }
        js_printf(&kv, " %s \":\" %s %s %s", c->W, c->W, v, c->W);
        free(v);
        /* one rule for the extra key/value, referenced from A_n and B_n */
        char *kv_name = js_new_name(c, "obj-kv", strrchr(path, '/') ? strrchr(path, '/') + 1 : "");
        add_expr = kv_name ? js_strdup(kv_name) : NULL;
        if (!add_expr || js_add_rule(c, kv_name, js_take(&kv)) < 0)
            goto oom;
    }
    if (map_counts) {
        if (maxp == 0) {
            js_printf(&o, "( \"{\" %s \"}\" )", c->W);
        } else {
            long long lo = minp > 0 ? minp - 1 : 0, hi = maxp > 0 ? maxp - 1 : -1;
            js_printf(&o, "( \"{\" %s %s%s ( \",\" %s %s )", c->W, minp == 0 ? "( " : "", add_expr,
                      c->W, add_expr);
            if (hi < 0)
                js_printf(&o, "{%lld,}", lo);
            else
                js_printf(&o, "{%lld,%lld}", lo, hi);
            js_printf(&o, "%s \"}\" )", minp == 0 ? " )?" : "");
        }
        result = js_take(&o);
        if (!result)
            goto oom;
        goto done;
    }
    if ((c->flags & SMC_JSON_SCHEMA_ANY_ORDER) && n > 1) {
        if (n <= JS_ANY_ORDER_MAX) {
            result = any_order(c, e, exprs, n, add_expr, path);
            if (!result)
                goto fail;
            goto done;
        }
        js_warn(c, "properties in schema order (--any-order: more than 10 properties)", path);
    }
    /* A_i: the rest from property i, nothing written yet; B_i: something was */
    a_names = calloc(n + 1, sizeof *a_names);
    b_names = calloc(n + 1, sizeof *b_names);
    if (!a_names || !b_names)
        goto oom;
    const char *hint = strrchr(path, '/');
    hint = hint ? hint + 1 : "";
    if (extra) {
        js_buf b = {0};
        js_printf(&b, "( \",\" %s %s )*", c->W, add_expr);
        b_names[n] = js_new_name(c, "obj-b", hint);
        if (js_add_rule(c, js_strdup(b_names[n]), js_take(&b)) < 0)
            goto fail;
        if (first_required(e, n) == n) {
            js_printf(&b, "( %s %s )?", add_expr, b_names[n]);
            a_names[n] = js_new_name(c, "obj-a", hint);
            if (js_add_rule(c, js_strdup(a_names[n]), js_take(&b)) < 0)
                goto fail;
        }
    }
    size_t first_req = first_required(e, n);
    for (size_t k = n; k-- > 0;) {
        const char *bn = b_names[k + 1] ? b_names[k + 1] : "";
        js_buf b = {0};
        if (e[k].required)
            js_printf(&b, "\",\" %s %s %s", c->W, exprs[k], bn);
        else
            js_printf(&b, "( \",\" %s %s )? %s", c->W, exprs[k], bn);
        if (k > 0) {   /* B_0 is never used */
            b_names[k] = js_new_name(c, "obj-b", hint);
            if (js_add_rule(c, js_strdup(b_names[k]), js_take(&b)) < 0)
                goto fail;
        }
        js_buf_free(&b);
        if (k > first_req)
            continue;
        if (e[k].required)
            js_printf(&b, "%s %s", exprs[k], bn);
        else if (a_names[k + 1])
            js_printf(&b, "( %s %s | %s )", exprs[k], bn, a_names[k + 1]);
        else
            js_printf(&b, "( %s %s )?", exprs[k], bn);
        a_names[k] = js_new_name(c, "obj-a", hint);
        if (js_add_rule(c, js_strdup(a_names[k]), js_take(&b)) < 0)
            goto fail;
    }
    js_printf(&o, "( \"{\" %s %s \"}\" )", c->W, a_names[0] ? a_names[0] : "");
    result = js_take(&o);
    if (!result)
        goto oom;
    goto done;
oom:
    smc_fail(c->err, "out of memory");
fail:
    result = NULL;
done:
    for (size_t k = 0; exprs && k < n_props + 2; k++)
        free(exprs[k]);
    for (size_t k = 0; a_names && k <= n; k++)
        free(a_names[k]);
    for (size_t k = 0; b_names && k <= n; k++)
        free(b_names[k]);
    free(a_names);
    free(b_names);
    free(exprs);
    free(e);
    free(declared);
    free(add_expr);
    js_buf_free(&o);
    if (result && c->W[0])
        c->used[P_WS] = true;
    return result;
}

