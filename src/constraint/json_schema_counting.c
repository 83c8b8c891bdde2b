/* json_schema_counting.c — array keywords that count items, as one rule per
 * count: contains/minContains/maxContains and uniqueItems over an
 * enumerable item set.
 * - contains C with items S: E_k ("an item is due, k matches so far") ::=
 *   S' ("," E_k) | S∧C ("," E_(k+1)), the rest optional once k >=
 *   minContains (states that cannot end are left out).
 *   Without maxContains, S' is S and k stops at minContains (ambiguous but
 *   exact: at least that many items match); with maxContains, S' is S∧not C
 *   (json_schema_negate.c) so every item is counted once, up to the maximum.
 *   minItems is allowed up to minContains; maxItems, prefixItems refused.
 * - uniqueItems true where the items take finitely many values (enum/const,
 *   boolean, null; at most JS_UNIQUE_MAX after the other keywords filter
 *   them): one rule per set of values used, so no value repeats; minItems
 *   and maxItems bound the set's size. Otherwise refused (maxItems <= 1
 *   makes it trivially true). */
#include "constraint/json_schema_ctx.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define JS_COUNT_MAX 200        /* minContains/maxContains compiled as states */
#define JS_UNIQUE_MAX 8         /* values of a uniqueItems item set: 2^8 states */

/* The items schema of s (true when absent); NULL (err filled) for tuples. */
static const cJSON *item_schema(js_ctx *c, const cJSON *s, const char *kw, const char *path)
{
    const cJSON *items = js_get(s, "items");
    if (js_get(s, "prefixItems") || cJSON_IsArray(items)) {
        smc_fail(c->err, "JSON Schema: \"%s\" together with prefixItems (or array items) at %s is "
                 "not supported", kw, path);
        return NULL;
    }
    return items ? items : cJSON_GetObjectItem(c->owned, "t");
}

/* Compiles the conjunction of a and b (b may be NULL); NULL with err filled;
 * *never set when nothing satisfies it. */
static char *compile_both(js_ctx *c, const cJSON *a, const cJSON *b, const char *path, bool *never)
{
    const cJSON *parts[2] = {a, b};
    cJSON *m = js_merge(c->root, parts, b ? 2 : 1, path, c->work, c->err);
    *never = false;
    if (!m)
        return NULL;
    cJSON_AddItemToArray(cJSON_GetObjectItem(c->owned, "keep"), m);
    if (cJSON_IsFalse(m)) {
        *never = true;
        return NULL;
    }
    return js_compile(c, m, path);
}

/* "[" first-state "]" (the state optional when empty arrays are allowed;
 * none: only []). */
static char *array_of(js_ctx *c, const char *first, bool may_be_empty)
{
    js_buf o = {0};
    if (!first)
        js_printf(&o, "( \"[\" %s \"]\" )", c->W);
    else
        js_printf(&o, "( \"[\" %s %s%s%s \"]\" )", c->W, may_be_empty ? "( " : "", first,
                  may_be_empty ? " )?" : "");
    if (c->W[0])
        c->used[P_WS] = true;
    char *r = js_take(&o);
    if (!r)
        smc_fail(c->err, "out of memory");
    return r;
}

static char *state_names(js_ctx *c, char **names, size_t n, const char *kind)
{
    for (size_t i = 0; i < n; i++)
        if (!(names[i] = js_new_name(c, kind, NULL)))
            return NULL;
    return names[0];
}

char *js_compile_contains(js_ctx *c, const cJSON *s, const char *path)
{
    const cJSON *item = item_schema(c, s, "contains", path);
    if (!item)
        return NULL;
    long long mn = js_get_count(c, s, "minContains", 1, path);
    long long mx = js_get_count(c, s, "maxContains", -1, path);
    long long min_items = js_get_count(c, s, "minItems", 0, path);
    if (mn == -2 || mx == -2 || min_items == -2)
        return NULL;
    if (js_get(s, "maxItems") || min_items > (mn > 0 ? mn : 0)) {
        smc_fail(c->err, "JSON Schema: \"contains\" together with maxItems (or minItems above "
                 "minContains) at %s is not supported", path);
        return NULL;
    }
    if (mx >= 0 && mn > mx) {
        smc_fail(c->err, "JSON Schema: minContains > maxContains at %s", path);
        return NULL;
    }
    if (mn > JS_COUNT_MAX || mx > JS_COUNT_MAX) {
        smc_fail(c->err, "JSON Schema: minContains/maxContains above %d at %s", JS_COUNT_MAX, path);
        return NULL;
    }
    char *sub = js_path_join(path, "contains");
    bool never_yes = false, never_no = false;
    char *yes = sub ? compile_both(c, item, js_get(s, "contains"), sub, &never_yes) : NULL;
    char *no = NULL;
    if (!yes && !never_yes) {
        free(sub);
        return NULL;
    }
    if (mx >= 0) {
        const char *why = NULL;
        cJSON *not_c = js_negate(c->root, js_get(s, "contains"), &why);
        if (!not_c) {
            smc_fail(c->err, "JSON Schema: \"maxContains\" at %s needs the complement of \"contains\", "
                     "and \"%s\" has none here", path, why ? why : "?");
            free(sub), free(yes);
            return NULL;
        }
        cJSON_AddItemToArray(cJSON_GetObjectItem(c->owned, "keep"), not_c);
        no = compile_both(c, item, not_c, sub, &never_no);
    } else {
        no = compile_both(c, item, NULL, sub, &never_no);
    }
    free(sub);
    if (!no && !never_no) {
        free(yes);
        return NULL;
    }
    /* states k = 0..top: matches so far (capped at mn without a maximum) */
    long long top = mx >= 0 ? mx : mn;
    bool has_yes = yes && !never_yes, has_no = !never_no;
    size_t n = (size_t)top + 1;
    char **e = calloc(n, sizeof *e);
    bool *alive = calloc(n, sizeof *alive);
    char *result = NULL;
    if (!e || !alive || !state_names(c, e, n, "has-item"))
        goto oom;
    for (size_t k = n; k-- > 0;)   /* E_k can end an array with >= mn matches */
        alive[k] = (long long)k >= mn ? has_no || (has_yes && (long long)k < top)
                                      : has_yes && alive[k + 1];
    if (mn > 0 && !alive[0]) {
        smc_fail(c->err, "JSON Schema: no array satisfies \"contains\"/minContains at %s", path);
        goto done;
    }
    const char *W = c->W;
    for (size_t k = 0; k < n; k++) {
        if (!alive[k])
            continue;
        js_buf b = {0};
        int alts = 0;
        for (int y = 0; y < 2; y++) {     /* an item that does not count, one that does */
            size_t to = k + (size_t)y;
            if (y ? !has_yes || (long long)k >= top : !has_no)
                continue;
            if ((long long)to < mn && !alive[to])
                continue;
            js_printf(&b, "%s%s %s ", alts++ ? " | " : "", y ? yes : no, W);
            if ((long long)to < mn)
                js_printf(&b, "\",\" %s %s", W, e[to]);
            else if (alive[to])
                js_printf(&b, "( \",\" %s %s )?", W, e[to]);
        }
        if (js_add_rule(c, js_strdup(e[k]), js_take(&b)) < 0)
            goto done;
    }
    result = array_of(c, alive[0] ? e[0] : NULL, mn == 0);
    goto done;
oom:
    smc_fail(c->err, "out of memory");
done:
    for (size_t k = 0; e && k < n; k++)
        free(e[k]);
    free(e), free(alive), free(yes), free(no);
    return result;
}

/* The values an item may take (deduplicated, filtered by the item schema),
 * or false when the set is not finite and small. */
static bool item_values(js_ctx *c, const cJSON *item, cJSON *out, const char *path, bool *failed)
{
    const cJSON *parts[1] = {item};
    cJSON *m = js_merge(c->root, parts, 1, path, c->work, c->err);
    *failed = !m;
    if (!m)
        return false;
    cJSON_AddItemToArray(cJSON_GetObjectItem(c->owned, "keep"), m);
    if (cJSON_IsFalse(m))
        return true;                   /* no value at all */
    if (!cJSON_IsObject(m) || js_get(m, "anyOf"))
        return false;
    const cJSON *e = js_get(m, "enum"), *k = js_get(m, "const");
    int types = js_type_mask(js_get(m, "type") ? js_get(m, "type") : NULL);
    cJSON *cand = cJSON_CreateArray();
    if (cJSON_IsArray(e)) {
        for (const cJSON *v = e->child; v; v = v->next)
            cJSON_AddItemToArray(cand, cJSON_Duplicate(v, true));
    } else if (k) {
        cJSON_AddItemToArray(cand, cJSON_Duplicate(k, true));
    } else if (js_get(m, "type") && types > 0 && !(types & ~(T_BOOL | T_NULL))) {
        if (types & T_BOOL)
            cJSON_AddItemToArray(cand, cJSON_CreateTrue()), cJSON_AddItemToArray(cand, cJSON_CreateFalse());
        if (types & T_NULL)
            cJSON_AddItemToArray(cand, cJSON_CreateNull());
    } else {
        cJSON_Delete(cand);
        return false;
    }
    smc_grammar *g = js_schema_grammar(c, m, path);
    if (!g) {
        cJSON_Delete(cand);
        *failed = true;
        return false;
    }
    for (cJSON *v = cand->child; v; v = v->next) {
        bool dup = false;
        for (const cJSON *w = out->child; w && !dup; w = w->next)
            dup = js_values_equal(v, w);
        js_buf t = {0};
        bool keep = !dup && js_value_text(&t, v) == 0 && !t.oom &&
                    smc_grammar_classify(g, t.p, t.len) == SMC_MATCH_COMPLETE;
        js_buf_free(&t);
        if (keep)
            cJSON_AddItemToArray(out, cJSON_Duplicate(v, true));
    }
    smc_grammar_free(g);
    cJSON_Delete(cand);
    return cJSON_GetArraySize(out) <= JS_UNIQUE_MAX;
}

static int popcount(unsigned x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* NULL with err empty: not handled here (the caller compiles without
 * uniqueItems when that is exact, else refuses). */
char *js_compile_unique(js_ctx *c, const cJSON *s, const char *path)
{
    long long mn = js_get_count(c, s, "minItems", 0, path);
    long long mx = js_get_count(c, s, "maxItems", -1, path);
    if (mn == -2 || mx == -2)
        return NULL;
    const cJSON *item = item_schema(c, s, "uniqueItems", path);
    if (!item)
        return NULL;
    cJSON *vals = cJSON_CreateArray();
    cJSON_AddItemToArray(cJSON_GetObjectItem(c->owned, "keep"), vals);
    bool failed = false;
    char *sub = js_path_join(path, "items");
    bool finite = sub && item_values(c, item, vals, sub, &failed);
    if (!finite) {
        if (!failed)
            smc_fail(c->err, "JSON Schema: unsupported keyword \"uniqueItems\" (true) at %s: supported "
                     "only for items with at most %d values (enum, const, boolean, null)", path,
                     JS_UNIQUE_MAX);
        free(sub);
        return NULL;
    }
    size_t nv = (size_t)cJSON_GetArraySize(vals);
    char **ve = calloc(nv + 1, sizeof *ve);
    size_t i = 0;
    for (const cJSON *v = vals->child; v && ve; v = v->next, i++) {
        cJSON *one = cJSON_CreateObject();
        cJSON_AddItemToObject(one, "const", cJSON_Duplicate(v, true));
        cJSON_AddItemToArray(cJSON_GetObjectItem(c->owned, "keep"), one);
        if (!(ve[i] = js_compile(c, one, sub))) {
            for (size_t j = 0; j < i; j++)
                free(ve[j]);
            free(ve), free(sub);
            return NULL;
        }
    }
    free(sub);
    if (!ve) {
        smc_fail(c->err, "out of memory");
        return NULL;
    }
    unsigned ns = 1u << nv;
    long long cap = mx < 0 || mx > (long long)nv ? (long long)nv : mx;
    char *result = NULL;
    char **e = calloc(ns, sizeof *e);
    if (!e || !state_names(c, e, ns, "uniq-item")) {
        smc_fail(c->err, "out of memory");
        goto done;
    }
    if (mn > cap) {
        smc_fail(c->err, "JSON Schema: uniqueItems at %s: fewer distinct item values than minItems", path);
        goto done;
    }
    const char *W = c->W;
    for (unsigned set = 0; set < ns; set++) {
        if (popcount(set) >= cap)
            continue;                 /* no further item: never referenced */
        js_buf b = {0};
        int alts = 0;
        for (size_t v = 0; v < nv; v++) {
            unsigned to = set | (1u << v);
            if (to == set)
                continue;
            int used = popcount(to);
            js_printf(&b, "%s%s %s ", alts++ ? " | " : "", ve[v], W);
            if (used < mn)
                js_printf(&b, "\",\" %s %s", W, e[to]);
            else if (used < cap)
                js_printf(&b, "( \",\" %s %s )?", W, e[to]);
        }
        if (js_add_rule(c, js_strdup(e[set]), js_take(&b)) < 0)
            goto done;
    }
    result = array_of(c, cap > 0 ? e[0] : NULL, mn == 0);
done:
    for (unsigned k = 0; e && k < ns; k++)
        free(e[k]);
    for (size_t k = 0; k < nv; k++)
        free(ve[k]);
    free(e), free(ve);
    return result;
}
