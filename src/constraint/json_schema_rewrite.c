/* json_schema_rewrite.c — keywords compiled by rewriting the schema into
 * keywords the converter already handles exactly:
 * - dependentRequired {P: [Q...]}, dependentSchemas {P: S} and draft-7
 *   dependencies (either form) become allOf parts
 *   anyOf [ {properties: {P: false}}, {required: [P, Q...]} ]
 *   ("P absent, or P and its dependents present"; just the second half when
 *   the schema already requires P);
 * - not S becomes the complement of S (json_schema_negate.c) where it is
 *   expressible, and if/then/else becomes
 *   anyOf [allOf [if, then], allOf [not if, else]] (not if only where
 *   needed: without else, or when else may overlap if);
 * - then/else without if, minContains/maxContains without contains are
 *   dropped, as the specification ignores them;
 * - (js_normalize, once per document) subschemas with not: {} or not: true
 *   become false, so that properties, items and alternatives see them as
 *   the false schema. */
#include "constraint/json_schema_ctx.h"

#include <string.h>

static bool requires(const cJSON *s, const char *name)
{
    const cJSON *req = js_get(s, "required");
    for (const cJSON *r = cJSON_IsArray(req) ? req->child : NULL; r; r = r->next)
        if (cJSON_IsString(r) && !strcmp(r->valuestring, name))
            return true;
    return false;
}

/* The part for dependency P → v (array of names or a schema); NULL when v has
 * the wrong shape (the keyword then stays and is refused). */
static cJSON *dependency_part(const cJSON *s, const char *p, const cJSON *v)
{
    bool is_names = cJSON_IsArray(v);
    if (is_names) {
        for (const cJSON *e = v->child; e; e = e->next)
            if (!cJSON_IsString(e))
                return NULL;
    } else if (!cJSON_IsObject(v) && !cJSON_IsBool(v)) {
        return NULL;
    }
    cJSON *present = cJSON_CreateObject();
    cJSON *req = cJSON_AddArrayToObject(present, "required");
    cJSON_AddItemToArray(req, cJSON_CreateString(p));
    if (is_names) {
        for (const cJSON *e = v->child; e; e = e->next)
            cJSON_AddItemToArray(req, cJSON_CreateString(e->valuestring));
    } else {
        cJSON *all = cJSON_AddArrayToObject(present, "allOf");
        cJSON_AddItemToArray(all, cJSON_Duplicate(v, true));
    }
    if (requires(s, p))
        return present;
    cJSON *part = cJSON_CreateObject();
    cJSON *any = cJSON_AddArrayToObject(part, "anyOf");
    cJSON *absent = cJSON_CreateObject();
    cJSON *props = cJSON_AddObjectToObject(absent, "properties");
    cJSON_AddFalseToObject(props, p);
    cJSON_AddItemToArray(any, absent);
    cJSON_AddItemToArray(any, present);
    return part;
}

/* Adds part to copy's allOf (made when absent). */
static void add_part(cJSON *copy, cJSON *part)
{
    cJSON *all = cJSON_GetObjectItemCaseSensitive(copy, "allOf");
    if (!all || !cJSON_IsArray(all)) {
        if (all)
            return;                 /* a malformed allOf stays malformed and is refused */
        all = cJSON_AddArrayToObject(copy, "allOf");
    }
    cJSON_AddItemToArray(all, part);
}

static int rewrite_dependencies(const cJSON *s, cJSON *copy, const char *key)
{
    const cJSON *deps = js_get(s, key);
    if (!cJSON_IsObject(deps))
        return 0;
    for (const cJSON *d = deps->child; d; d = d->next) {
        bool names_ok = !strcmp(key, "dependentRequired") ? cJSON_IsArray(d)
                        : !strcmp(key, "dependentSchemas") ? !cJSON_IsArray(d)
                                                           : true;
        cJSON *part = names_ok ? dependency_part(s, d->string, d) : NULL;
        if (!part)
            return 0;
        add_part(copy, part);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(copy, key);
    return 1;
}

/* not S → its complement (json_schema_negate.c); kept (and refused) when
 * the complement is not expressible. */
static int rewrite_not(const cJSON *root, const cJSON *s, cJSON *copy)
{
    cJSON *part = js_negate(root, js_get(s, "not"), NULL);
    if (!part)
        return 0;
    add_part(copy, part);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "not");
    return 1;
}

/* if/then/else → anyOf [allOf [if, then], allOf [not if, else]]. */
static int rewrite_if(const cJSON *root, const cJSON *s, cJSON *copy)
{
    cJSON *part = js_if_then_else(root, s, NULL);
    if (!part)
        return 0;
    add_part(copy, part);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "if");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "then");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "else");
    return 1;
}

cJSON *js_rewrite_schema(const cJSON *root, const cJSON *s)
{
    if (!cJSON_IsObject(s))
        return NULL;
    bool dep = js_get(s, "dependentRequired") || js_get(s, "dependentSchemas") ||
               js_get(s, "dependencies");
    bool cond = !js_get(s, "if") && (js_get(s, "then") || js_get(s, "else"));
    bool cont = !js_get(s, "contains") && (js_get(s, "minContains") || js_get(s, "maxContains"));
    bool neg = js_get(s, "not") != NULL;
    bool ite = js_get(s, "if") != NULL;
    if (!dep && !cond && !cont && !neg && !ite)
        return NULL;
    cJSON *copy = cJSON_Duplicate(s, true);
    if (!copy)
        return NULL;
    int changed = 0;
    changed += rewrite_dependencies(s, copy, "dependentRequired");
    changed += rewrite_dependencies(s, copy, "dependentSchemas");
    changed += rewrite_dependencies(s, copy, "dependencies");
    if (neg)
        changed += rewrite_not(root, s, copy);
    if (ite)
        changed += rewrite_if(root, s, copy);
    static const char *const dropped_cond[] = {"then", "else"};
    static const char *const dropped_cont[] = {"minContains", "maxContains"};
    for (int i = 0; i < 2; i++) {
        if (cond && js_get(copy, dropped_cond[i]))
            cJSON_DeleteItemFromObjectCaseSensitive(copy, dropped_cond[i]), changed++;
        if (cont && js_get(copy, dropped_cont[i]))
            cJSON_DeleteItemFromObjectCaseSensitive(copy, dropped_cont[i]), changed++;
    }
    if (!changed) {
        cJSON_Delete(copy);
        return NULL;
    }
    return copy;
}

/* ---- whole-document normalisation ---- */

static bool only_annotations(const cJSON *s)
{
    return cJSON_IsObject(s) && !js_has_other_keywords(s, NULL, NULL);
}

/* A schema that no instance satisfies: false, or anything with not: {} / true. */
static bool never(const cJSON *s)
{
    if (cJSON_IsFalse(s))
        return true;
    const cJSON *n = cJSON_IsObject(s) ? js_get(s, "not") : NULL;
    return n && (cJSON_IsTrue(n) || only_annotations(n));
}

static void normalize_at(cJSON *parent, cJSON *s);

static void normalize_members(cJSON *s)
{
    static const char *const single[] = {"items", "additionalProperties", "additionalItems", "not", "if",
                                         "then", "else", "contains", "propertyNames",
                                         "unevaluatedProperties", "unevaluatedItems", NULL};
    static const char *const maps[] = {"properties", "patternProperties", "$defs", "definitions",
                                       "dependentSchemas", "dependencies", NULL};
    static const char *const lists[] = {"allOf", "anyOf", "oneOf", "prefixItems", "items", NULL};
    for (int i = 0; single[i]; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(s, single[i]);
        if (cJSON_IsObject(v))
            normalize_at(s, v);
    }
    for (int i = 0; maps[i]; i++) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(s, maps[i]);
        for (cJSON *v = cJSON_IsObject(m) ? m->child : NULL; v;) {
            cJSON *next = v->next;
            if (cJSON_IsObject(v))
                normalize_at(m, v);
            v = next;
        }
    }
    for (int i = 0; lists[i]; i++) {
        cJSON *a = cJSON_GetObjectItemCaseSensitive(s, lists[i]);
        for (cJSON *v = cJSON_IsArray(a) ? a->child : NULL; v;) {
            cJSON *next = v->next;
            if (cJSON_IsObject(v))
                normalize_at(a, v);
            v = next;
        }
    }
}

/* Replaces never-satisfiable subschema s (a member of parent) by false. */
static void normalize_at(cJSON *parent, cJSON *s)
{
    if (never(s)) {
        cJSON *f = cJSON_CreateFalse();
        bool ok = f && (cJSON_IsObject(parent) ? cJSON_ReplaceItemInObjectCaseSensitive(parent, s->string, f)
                                               : cJSON_ReplaceItemViaPointer(parent, s, f));
        if (f && !ok)
            cJSON_Delete(f);
        return;
    }
    normalize_members(s);
}

void js_normalize(cJSON *root)
{
    if (cJSON_IsObject(root))
        normalize_members(root);
}
