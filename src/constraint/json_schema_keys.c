/* json_schema_keys.c — patternProperties and propertyNames, rewritten into
 * what the object compiler knows (properties, additionalProperties) plus
 * "$smcExtraKey", the string schema every undeclared key must satisfy:
 * - a declared property (in properties or required) whose name matches a
 *   pattern gets that pattern's schema too (allOf); one whose name fails
 *   propertyNames becomes false (absent; an error when required);
 * - propertyNames false allows no key; propertyNames {enum/const: names}
 *   turns the names into declared properties (each with the schemas of the
 *   patterns it matches, or additionalProperties) and closes the object;
 * - undeclared keys: where every pattern's schema is additionalProperties'
 *   (or both are true) the patterns change nothing; otherwise undeclared
 *   keys must match some pattern and take the patterns' one schema (several
 *   patterns must share one schema: a key matching two would need both),
 *   and keys matching no pattern are refused even where
 *   additionalProperties allows them (a sound subset: the complement of a
 *   regex is not built); with propertyNames they must satisfy it (not
 *   together with such patterns: no intersection of two regexes).
 * Name tests use the grammar of the pattern (so keys and names agree), and
 * an undeclared key may not spell a declared name: refused when a declared
 * name satisfies "$smcExtraKey". */
#include "constraint/json_schema_ctx.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static const cJSON false_schema = {.type = cJSON_False};

/* Does the grammar of string schema k accept name (as JSON text)? -1 error. */
static int name_matches(js_ctx *c, const cJSON *k, const char *name, const char *path)
{
    smc_grammar *g = js_schema_grammar(c, k, path);
    if (!g)
        return -1;
    js_buf t = {0};
    js_json_string(&t, name);
    int r = !t.oom && smc_grammar_classify(g, t.p, t.len) == SMC_MATCH_COMPLETE;
    js_buf_free(&t);
    smc_grammar_free(g);
    return r;
}

static cJSON *string_schema(const cJSON *extra)
{
    cJSON *s = cJSON_CreateObject();
    cJSON *all = cJSON_AddArrayToObject(s, "allOf");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", "string");
    cJSON_AddItemToArray(all, t);
    cJSON_AddItemToArray(all, cJSON_Duplicate(extra, true));
    return s;
}

static cJSON *pattern_schema(const char *re)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", "string");
    cJSON_AddStringToObject(s, "pattern", re);
    return s;
}

/* props[name] := allOf [props[name], extra] (true/absent replaced); the
 * member is replaced in place: callers iterating props save ->next first. */
static void conjoin(cJSON *props, const char *name, const cJSON *extra)
{
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(props, name);
    if (cJSON_IsTrue(extra) || cJSON_IsFalse(cur))
        return;
    if (!cur) {
        cJSON_AddItemToObject(props, name, cJSON_Duplicate(extra, true));
        return;
    }
    if (cJSON_IsTrue(cur)) {
        cJSON_ReplaceItemInObjectCaseSensitive(props, name, cJSON_Duplicate(extra, true));
        return;
    }
    cJSON *s = cJSON_CreateObject();
    cJSON *all = cJSON_AddArrayToObject(s, "allOf");
    cJSON_AddItemToArray(all, cJSON_Duplicate(cur, true));
    cJSON_AddItemToArray(all, cJSON_Duplicate(extra, true));
    cJSON_ReplaceItemInObjectCaseSensitive(props, name, s);
}

static bool trivial(const cJSON *s)
{
    return !s || cJSON_IsTrue(s) || (cJSON_IsObject(s) && !js_has_other_keywords(s, NULL, NULL));
}

/* Every pattern's schema applied to the declared names it matches; 0 ok. */
static int apply_patterns(js_ctx *c, cJSON *props, const cJSON *pp, const char *path)
{
    for (const cJSON *r = pp->child; r; r = r->next) {
        cJSON *k = pattern_schema(r->string);
        for (cJSON *p = props->child, *next; p; p = next) {
            next = p->next;
            int m = name_matches(c, k, p->string, path);
            if (m < 0) {
                cJSON_Delete(k);
                return -1;
            }
            if (m)
                conjoin(props, p->string, r);
        }
        cJSON_Delete(k);
    }
    return 0;
}

static const cJSON *fail_msg(js_ctx *c, const char *path, const char *what)
{
    smc_fail(c->err, "JSON Schema: %s at %s", what, path);
    return NULL;
}

/* Declared names: properties plus required ones (with additionalProperties'
 * schema, or true when a pattern may match them: patterns are applied next). */
static cJSON *declared(cJSON *copy, const cJSON *ap, const cJSON *pp)
{
    cJSON *props = cJSON_GetObjectItemCaseSensitive(copy, "properties");
    if (!props)
        props = cJSON_AddObjectToObject(copy, "properties");
    const cJSON *req = js_get(copy, "required");
    for (const cJSON *r = cJSON_IsArray(req) ? req->child : NULL; r; r = r->next)
        if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(props, r->valuestring))
            cJSON_AddItemToObject(props, r->valuestring,
                                  pp || !ap ? cJSON_CreateTrue() : cJSON_Duplicate(ap, true));
    return props;
}

const cJSON *js_object_keys(js_ctx *c, const cJSON *s, const char *path, cJSON **owned)
{
    const cJSON *pp = js_get(s, "patternProperties"), *pn = js_get(s, "propertyNames");
    *owned = NULL;
    if (!pp && !pn)
        return s;
    if (pp && !cJSON_IsObject(pp))
        return fail_msg(c, path, "\"patternProperties\" must be an object of schemas");
    if (pn && !cJSON_IsObject(pn) && !cJSON_IsBool(pn))
        return fail_msg(c, path, "\"propertyNames\" must be a schema");
    cJSON *copy = cJSON_Duplicate(s, true);
    *owned = copy;
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "patternProperties");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "propertyNames");
    const cJSON *ap = js_get(s, "additionalProperties");
    bool closed = cJSON_IsFalse(ap) || (!ap && (c->flags & SMC_JSON_SCHEMA_NO_EXTRA_PROPERTIES));
    cJSON *props = declared(copy, ap, pp);
    /* patterns a required name (not in properties) does not match: additionalProperties */
    if (pp && apply_patterns(c, props, pp, path) < 0)
        return NULL;
    if (pp && (ap || closed)) {
        const cJSON *sp = js_get(s, "properties");
        for (cJSON *p = props->child, *next; p; p = next) {
            next = p->next;
            if (sp && cJSON_GetObjectItemCaseSensitive(sp, p->string))
                continue;
            bool matched = false;
            for (const cJSON *r = pp->child; r && !matched; r = r->next) {
                cJSON *k = pattern_schema(r->string);
                int m = name_matches(c, k, p->string, path);
                cJSON_Delete(k);
                if (m < 0)
                    return NULL;
                matched = m;
            }
            if (!matched)
                conjoin(props, p->string, closed ? &false_schema : ap);
        }
    }
    cJSON *key = NULL;               /* what an undeclared key must satisfy */
    if (pn) {
        const cJSON *names = js_get(pn, "enum"), *one = js_get(pn, "const");
        if (cJSON_IsFalse(pn) || (cJSON_IsObject(pn) && (names || one) &&
                                  !js_has_other_keywords(pn, "enum", "const"))) {
            /* a finite set of names: each one declared, the object closed */
            for (cJSON *p = props->child, *next; p; p = next) {
                next = p->next;
                bool in = false;
                for (const cJSON *v = cJSON_IsArray(names) ? names->child : NULL; v && !in; v = v->next)
                    in = cJSON_IsString(v) && !strcmp(v->valuestring, p->string);
                in |= cJSON_IsString(one) && !strcmp(one->valuestring, p->string);
                if (!in)
                    cJSON_ReplaceItemInObjectCaseSensitive(props, p->string, cJSON_CreateFalse());
            }
            cJSON *list = cJSON_CreateArray();
            for (const cJSON *v = cJSON_IsArray(names) ? names->child : NULL; v; v = v->next)
                cJSON_AddItemToArray(list, cJSON_Duplicate(v, false));
            if (one)
                cJSON_AddItemToArray(list, cJSON_Duplicate(one, false));
            for (const cJSON *v = list->child; v; v = v->next) {
                if (!cJSON_IsString(v) || cJSON_GetObjectItemCaseSensitive(props, v->valuestring))
                    continue;
                cJSON *np = cJSON_CreateObject();
                cJSON_AddItemToObject(np, v->valuestring, cJSON_CreateTrue());
                bool matched = false;
                for (const cJSON *r = pp ? pp->child : NULL; r; r = r->next) {
                    cJSON *k = pattern_schema(r->string);
                    int m = name_matches(c, k, v->valuestring, path);
                    cJSON_Delete(k);
                    if (m < 0) {
                        cJSON_Delete(np), cJSON_Delete(list);
                        return NULL;
                    }
                    if (m)
                        conjoin(np, v->valuestring, r), matched = true;
                }
                if (!matched && (closed || ap))
                    conjoin(np, v->valuestring, closed ? &false_schema : ap);
                cJSON_AddItemToObject(props, v->valuestring, cJSON_DetachItemFromObject(np, v->valuestring));
                cJSON_Delete(np);
            }
            cJSON_Delete(list);
            cJSON_DeleteItemFromObjectCaseSensitive(copy, "additionalProperties");
            cJSON_AddFalseToObject(copy, "additionalProperties");
            return copy;
        }
        key = string_schema(pn);
        for (cJSON *p = props->child, *next; p; p = next) {
            next = p->next;
            if (cJSON_IsFalse(p))
                continue;
            int m = name_matches(c, key, p->string, path);
            if (m < 0) {
                cJSON_Delete(key);
                return NULL;
            }
            if (!m)
                cJSON_ReplaceItemInObjectCaseSensitive(props, p->string, cJSON_CreateFalse());
        }
    }
    if (pp && pp->child) {
        const cJSON *shared = pp->child;
        for (const cJSON *r = pp->child->next; r; r = r->next)
            if (!js_values_equal(r, shared)) {
                cJSON_Delete(key);
                return fail_msg(c, path, "\"patternProperties\" with different schemas for different "
                                "patterns is not supported (a key matching two would need both)");
            }
        bool same = !closed && (trivial(shared) ? trivial(ap) : ap && js_values_equal(ap, shared));
        if (!same) {
            if (key) {
                cJSON_Delete(key);
                return fail_msg(c, path, "\"propertyNames\" together with \"patternProperties\" "
                                "is not supported");
            }
            key = cJSON_CreateObject();
            cJSON *any = cJSON_AddArrayToObject(key, "anyOf");
            for (const cJSON *r = pp->child; r; r = r->next)
                cJSON_AddItemToArray(any, pattern_schema(r->string));
            cJSON_DeleteItemFromObjectCaseSensitive(copy, "additionalProperties");
            cJSON_AddItemToObject(copy, "additionalProperties", cJSON_Duplicate(shared, true));
            closed = cJSON_IsFalse(shared);
        }
    }
    if (key && !closed) {
        for (cJSON *p = props->child; p; p = p->next) {
            int m = cJSON_IsFalse(p) ? 0 : name_matches(c, key, p->string, path);
            if (m) {
                cJSON_Delete(key);
                if (m > 0)
                    smc_fail(c->err, "JSON Schema: declared property \"%.100s\" at %s also matches "
                             "patternProperties/propertyNames, and undeclared keys cannot exclude it "
                             "(not supported)", p->string, path);
                return NULL;
            }
        }
        cJSON_AddItemToObject(copy, "$smcExtraKey", key);
    } else {
        cJSON_Delete(key);
    }
    return copy;
}
