/* json_schema_keywords.c — which JSON Schema keywords the converter
 * supports, ignores (annotations) or rejects, and the shape each supported
 * keyword's value must have. */
#include "constraint/json_schema_ctx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static const char *const annotations[] = {
    "title", "description", "$schema", "$id", "id", "default", "examples", "example",
    "$comment", "deprecated", "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
    "$anchor", "$vocabulary", "$dynamicAnchor", "$recursiveAnchor", "contentSchema",
    "$smcNegated" /* a complement (json_schema_negate.c): evaluates no property */,
    "$smcNotEvaluated" /* properties only a complement declares (json_schema_merge.c) */,
    "$smcOpaque" /* a complement that evaluates by content (json_schema_merge.c) */, NULL};

bool js_is_annotation(const char *key)
{
    if (strncmp(key, "x-", 2) == 0)
        return true;
    for (int i = 0; annotations[i]; i++)
        if (strcmp(annotations[i], key) == 0)
            return true;
    return false;
}

/* Keywords of drafts 4 to 2020-12 the converter does not support: refused
 * (ignoring them would let invalid instances through). Any keyword in none
 * of the lists is unknown: ignored with a warning, as the specification
 * says, or refused with SMC_JSON_SCHEMA_STRICT. */
static const char *const known_unsupported[] = {
    "not", "if", "then", "else", "dependentRequired", "dependentSchemas", "dependencies",
    "$dynamicRef", "$recursiveRef", NULL};

static const char *const supported[] = {
    "type", "enum", "const", "properties", "required", "additionalProperties", "items",
    "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "minLength",
    "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions",
    "minProperties", "maxProperties", "unevaluatedProperties", "unevaluatedItems", "multipleOf",
    "patternProperties", "propertyNames", "contains", "minContains", "maxContains",
    "$smcNotIn" /* strings other than these (made by json_schema_negate.c) */,
    "$smcExtraKey" /* what undeclared keys must be (json_schema_keys.c) */, NULL};

static bool in_list(const char *const *list, const char *k)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], k) == 0)
            return true;
    return false;
}

/* ---- schema helpers ---- */

int js_parse_types(js_ctx *c, const cJSON *t, const char *path)
{
    static const struct { const char *n; int m; } names[] = {
        {"null", T_NULL}, {"boolean", T_BOOL}, {"object", T_OBJECT}, {"array", T_ARRAY},
        {"string", T_STRING}, {"number", T_NUMBER | T_INTEGER}, {"integer", T_INTEGER}};
    if (!t)
        return T_ALL;
    int mask = 0;
    const cJSON *one = cJSON_IsArray(t) ? t->child : t;
    for (; one; one = cJSON_IsArray(t) ? one->next : NULL) {
        int m = 0;
        if (cJSON_IsString(one))
            for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strcmp(names[i].n, one->valuestring) == 0)
                    m = names[i].m;
        if (!m)
            return smc_fail(c->err, "JSON Schema: bad \"type\" at %s", path);
        mask |= m;
    }
    if (!mask)
        return smc_fail(c->err, "JSON Schema: empty \"type\" at %s", path);
    return mask;
}

static bool is_schema(const cJSON *v)
{
    return cJSON_IsObject(v) || cJSON_IsBool(v);
}

static bool is_count(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble == floor(v->valuedouble) &&
           v->valuedouble <= 1e9;
}

/* What a keyword's value must be, or NULL when it is fine. */
const char *js_value_shape_error(const char *key, const cJSON *v)
{
    if (!strcmp(key, "multipleOf"))
        return cJSON_IsNumber(v) && v->valuedouble > 0 ? NULL : "a positive number";
    if (!strcmp(key, "minimum") || !strcmp(key, "maximum"))
        return cJSON_IsNumber(v) ? NULL : "a number";
    if (!strcmp(key, "exclusiveMinimum") || !strcmp(key, "exclusiveMaximum"))
        return cJSON_IsNumber(v) || cJSON_IsBool(v) ? NULL : "a number (or a draft-4 boolean)";
    if (!strcmp(key, "minLength") || !strcmp(key, "maxLength") || !strcmp(key, "minItems") ||
        !strcmp(key, "maxItems") || !strcmp(key, "minProperties") || !strcmp(key, "maxProperties") ||
        !strcmp(key, "minContains") || !strcmp(key, "maxContains"))
        return is_count(v) ? NULL : "a non-negative integer";
    if (!strcmp(key, "pattern") || !strcmp(key, "format") || !strcmp(key, "$ref"))
        return cJSON_IsString(v) ? NULL : "a string";
    if (!strcmp(key, "required") || !strcmp(key, "$smcNotIn")) {
        if (!cJSON_IsArray(v))
            return "an array of strings";
        for (const cJSON *e = v->child; e; e = e->next)
            if (!cJSON_IsString(e))
                return "an array of strings";
        return NULL;
    }
    if (!strcmp(key, "properties") || !strcmp(key, "$defs") || !strcmp(key, "definitions") ||
        !strcmp(key, "patternProperties")) {
        if (!cJSON_IsObject(v))
            return "an object of schemas";
        for (const cJSON *e = v->child; e; e = e->next)
            if (!is_schema(e))
                return "an object of schemas";
        return NULL;
    }
    if (!strcmp(key, "additionalProperties") || !strcmp(key, "additionalItems") ||
        !strcmp(key, "propertyNames") || !strcmp(key, "$smcExtraKey") || !strcmp(key, "contains") ||
        !strcmp(key, "unevaluatedProperties") || !strcmp(key, "unevaluatedItems"))
        return is_schema(v) ? NULL : "a schema (object or boolean)";
    if (!strcmp(key, "items") || !strcmp(key, "prefixItems") || !strcmp(key, "anyOf") ||
        !strcmp(key, "oneOf") || !strcmp(key, "allOf")) {
        if (!strcmp(key, "items") && is_schema(v))
            return NULL;
        if (!cJSON_IsArray(v) || (strcmp(key, "items") && strcmp(key, "prefixItems") && !v->child))
            return !strcmp(key, "items") ? "a schema or an array of schemas" : "a non-empty array of schemas";
        for (const cJSON *e = v->child; e; e = e->next)
            if (!is_schema(e))
                return "an array of schemas";
        return NULL;
    }
    if (!strcmp(key, "enum"))
        return cJSON_IsArray(v) && v->child ? NULL : "a non-empty array";
    if (!strcmp(key, "uniqueItems"))
        return cJSON_IsBool(v) ? NULL : "a boolean";
    if (!strcmp(key, "type")) {
        if (cJSON_IsString(v))
            return NULL;
        if (!cJSON_IsArray(v) || !v->child)
            return "a type name or a non-empty array of them";
        for (const cJSON *e = v->child; e; e = e->next)
            if (!cJSON_IsString(e))
                return "a type name or a non-empty array of them";
    }
    return NULL;
}

bool js_is_unknown(const char *key)
{
    return !js_is_annotation(key) && !in_list(supported, key) && !in_list(known_unsupported, key);
}

/* Records an ignored keyword once per (keyword, pointer). */
static void warn_unknown(js_ctx *c, const char *key, const char *path)
{
    js_buf what = {0};
    js_printf(&what, "ignored unknown keyword \"%.100s\"", key);
    char *w = js_take(&what);
    if (w)
        js_warn(c, w, path);
    free(w);
}

void js_warn(js_ctx *c, const char *what, const char *path)
{
    if (!c->warn)
        return;
    js_buf line = {0};
    js_printf(&line, "%s at %s\n", what, path);
    char *l = js_take(&line);
    if (!l)
        return;
    bool seen = false;
    size_t n = strlen(l);
    for (const char *p = c->warn->p; p && !seen && (p = strstr(p, l)); p++)
        seen = p == c->warn->p || p[-1] == '\n';
    if (!seen)
        js_putn(c->warn, l, n);
    free(l);
}

int js_check_keywords(js_ctx *c, const cJSON *s, const char *path)
{
    for (const cJSON *k = s->child; k; k = k->next) {
        const char *key = k->string;
        if (js_is_annotation(key))
            continue;
        if (js_is_unknown(key)) {
            if (c->flags & SMC_JSON_SCHEMA_STRICT)
                return smc_fail(c->err, "JSON Schema: unknown keyword \"%.100s\" at %s (refused in "
                                "strict mode)", key, path);
            warn_unknown(c, key, path);
            continue;
        }
        if ((!strcmp(key, "then") || !strcmp(key, "else")) && js_get(s, "if"))
            continue;           /* reported with "if" */
        if ((!strcmp(key, "not") || !strcmp(key, "if")) && !in_list(supported, key)) {
            const char *why = NULL;
            cJSON *n = !strcmp(key, "not") ? js_negate(c->root, k, &why)
                                           : js_if_then_else(c->root, s, &why);
            cJSON_Delete(n);
            return smc_fail(c->err, "JSON Schema: unsupported keyword \"%s\" at %s: %s%s%s", key,
                            path, why ? "no exact complement of \"" : "cannot be expressed",
                            why ? why : "", why ? "\" (its complement is needed)" : "");
        }
        if (!in_list(supported, key))
            return smc_fail(c->err, "JSON Schema: unsupported keyword \"%.100s\" at %s", key, path);
        const char *want = js_value_shape_error(key, k);
        if (want)
            return smc_fail(c->err, "JSON Schema: \"%s\" at %s must be %s", key, path, want);
    }
    return 0;
}

/* True when s has keys other than annotations, $defs/definitions and `except`. */
bool js_has_other_keywords(const cJSON *s, const char *except1, const char *except2)
{
    for (const cJSON *k = s->child; k; k = k->next) {
        const char *key = k->string;
        if (js_is_annotation(key) || js_is_unknown(key) || !strcmp(key, "$defs") ||
            !strcmp(key, "definitions"))
            continue;
        if ((except1 && !strcmp(key, except1)) || (except2 && !strcmp(key, except2)))
            continue;
        return true;
    }
    return false;
}

