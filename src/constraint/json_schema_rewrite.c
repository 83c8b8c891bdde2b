/* json_schema_rewrite.c — keywords compiled by rewriting the schema into
 * keywords the converter already handles exactly:
 * - dependentRequired {P: [Q...]}, dependentSchemas {P: S} and draft-7
 *   dependencies (either form) become allOf parts
 *   anyOf [ {properties: {P: false}}, {required: [P, Q...]} ]
 *   ("P absent, or P and its dependents present"; just the second half when
 *   the schema already requires P);
 * - not {type: T} becomes the complementary type list (refused when the
 *   complement is "numbers that are not integers");
 * - not {required: [P...]} becomes "some P absent";
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

/* not {required: [P...]} (nothing else) → anyOf of "P absent" for each P. */
static int rewrite_not_required(const cJSON *s, cJSON *copy)
{
    const cJSON *n = js_get(s, "not");
    const cJSON *req = cJSON_IsObject(n) ? js_get(n, "required") : NULL;
    if (!cJSON_IsArray(req) || !req->child || js_has_other_keywords(n, "required", NULL))
        return 0;
    for (const cJSON *r = req->child; r; r = r->next)
        if (!cJSON_IsString(r))
            return 0;
    cJSON *part = cJSON_CreateObject();
    cJSON *any = cJSON_AddArrayToObject(part, "anyOf");
    for (const cJSON *r = req->child; r; r = r->next) {
        cJSON *absent = cJSON_CreateObject();
        cJSON_AddFalseToObject(cJSON_AddObjectToObject(absent, "properties"), r->valuestring);
        cJSON_AddItemToArray(any, absent);
    }
    add_part(copy, part);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "not");
    return 1;
}

/* not {type: T} (nothing else but annotations) → the other types. */
static int rewrite_not_type(const cJSON *s, cJSON *copy)
{
    const cJSON *n = js_get(s, "not");
    if (!cJSON_IsObject(n) || !js_get(n, "type") || js_has_other_keywords(n, "type", NULL))
        return 0;
    int tm = js_type_mask(js_get(n, "type"));
    if (tm <= 0)
        return 0;
    int rest = T_ALL & ~tm;
    if ((rest & T_NUMBER) && !(rest & T_INTEGER))
        return 0;                   /* "not an integer" has no exact grammar here */
    static const struct { int m; const char *n; } names[] = {
        {T_NULL, "null"}, {T_BOOL, "boolean"}, {T_OBJECT, "object"}, {T_ARRAY, "array"},
        {T_STRING, "string"}};
    cJSON *part = cJSON_CreateObject();
    cJSON *types = cJSON_AddArrayToObject(part, "type");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (rest & names[i].m)
            cJSON_AddItemToArray(types, cJSON_CreateString(names[i].n));
    if (rest & T_NUMBER)
        cJSON_AddItemToArray(types, cJSON_CreateString("number"));
    else if (rest & T_INTEGER)
        cJSON_AddItemToArray(types, cJSON_CreateString("integer"));
    if (!types->child) {            /* not every type: nothing matches; refused as "not" */
        cJSON_Delete(part);
        return 0;
    }
    add_part(copy, part);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "not");
    return 1;
}

cJSON *js_rewrite_schema(const cJSON *s)
{
    if (!cJSON_IsObject(s))
        return NULL;
    bool dep = js_get(s, "dependentRequired") || js_get(s, "dependentSchemas") ||
               js_get(s, "dependencies");
    bool cond = !js_get(s, "if") && (js_get(s, "then") || js_get(s, "else"));
    bool cont = !js_get(s, "contains") && (js_get(s, "minContains") || js_get(s, "maxContains"));
    bool neg = js_get(s, "not") != NULL;
    if (!dep && !cond && !cont && !neg)
        return NULL;
    cJSON *copy = cJSON_Duplicate(s, true);
    if (!copy)
        return NULL;
    int changed = 0;
    changed += rewrite_dependencies(s, copy, "dependentRequired");
    changed += rewrite_dependencies(s, copy, "dependentSchemas");
    changed += rewrite_dependencies(s, copy, "dependencies");
    if (neg)
        changed += rewrite_not_type(s, copy) || rewrite_not_required(s, copy);
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
