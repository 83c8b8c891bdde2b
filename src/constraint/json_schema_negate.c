/* json_schema_negate.c — the complement of a schema, written with keywords
 * the converter compiles exactly, for `not` and for the `else` side of
 * `if`/`then`/`else`.
 *
 * A schema is a conjunction of keywords, so its complement is the union of
 * the keywords' complements; a keyword that constrains one type (minLength
 * on strings, required on objects, ...) is true for every other type, so its
 * complement is confined to that type:
 *   type T              → the other types (refused where that leaves "numbers
 *                          that are not integers": no exact grammar)
 *   const/enum          → the other types, the other boolean, strings not in
 *                          the set ("$smcNotIn", unescaped strings only: a
 *                          sound subset), numbers in the open intervals
 *                          between the values; objects, arrays refused
 *   required [P...]     → an object without P, for some P
 *   properties {P: S}   → an object with P whose value is in not-S
 *   min/max(Length|Items|Properties), minimum/maximum (and exclusive)
 *                       → the opposite bound on that type
 *   additionalProperties false without properties → an object with a key
 *   allOf/anyOf/oneOf   → De Morgan (oneOf only when provably disjoint)
 *   not S               → S
 *   if/then/else        → (if and not then) or (not if and not else)
 *   dependentRequired, dependentSchemas, dependencies → P present and the
 *                          dependency violated
 *   $ref                → the complement of the target (bounded depth)
 * Anything else (pattern, format, multipleOf, items, contains, ...) has no
 * complement here: js_negate returns NULL and names the keyword. */
#include "constraint/json_schema_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define MAX_NEG_DEPTH 16

typedef struct neg {
    const cJSON *root;
    const char *why;      /* the keyword that could not be negated */
    int depth;
} neg;

static cJSON *negate(neg *g, const cJSON *s);

/* {type: ...} for a T_* mask; NULL when the mask has non-integer numbers
 * without integers (no keyword says that). */
static cJSON *types_schema(int mask)
{
    if ((mask & T_NUMBER) && !(mask & T_INTEGER))
        return NULL;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, "type", js_type_json(mask));
    return s;
}

/* {type: t, key: value} (value consumed). */
static cJSON *typed(const char *t, const char *key, cJSON *value)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", t);
    cJSON_AddItemToObject(s, key, value);
    return s;
}

/* An object without property p. */
static cJSON *absent(const char *p)
{
    cJSON *props = cJSON_CreateObject();
    cJSON_AddFalseToObject(props, p);
    return typed("object", "properties", props);
}

/* An object with property p whose value satisfies v (consumed). */
static cJSON *present_with(const char *p, cJSON *v)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", "object");
    cJSON *req = cJSON_AddArrayToObject(s, "required");
    cJSON_AddItemToArray(req, cJSON_CreateString(p));
    if (v && !cJSON_IsTrue(v)) {
        cJSON *props = cJSON_AddObjectToObject(s, "properties");
        cJSON_AddItemToObject(props, p, v);
    } else {
        cJSON_Delete(v);
    }
    return s;
}

static void add(cJSON *alts, cJSON *s)
{
    if (s && !cJSON_IsFalse(s))
        cJSON_AddItemToArray(alts, s);
    else
        cJSON_Delete(s);
}

static int cmp_numbers(const void *a, const void *b)
{
    js_dec x, y;
    js_dec_of(*(const cJSON *const *)a, &x);
    js_dec_of(*(const cJSON *const *)b, &y);
    return js_dec_cmp(&x, &y);
}

/* Numbers other than vals' numbers: the open intervals between them. */
static bool negate_numbers(cJSON *alts, const cJSON *vals)
{
    const cJSON *nums[64];
    size_t n = 0;
    for (const cJSON *v = vals->child; v; v = v->next) {
        js_dec d;
        if (!cJSON_IsNumber(v))
            continue;
        if (n == 64 || !js_dec_of(v, &d))
            return false;
        nums[n++] = v;
    }
    qsort(nums, n, sizeof *nums, cmp_numbers);
    for (size_t i = 0; i <= n; i++) {
        if (i > 0 && i < n && cmp_numbers(&nums[i - 1], &nums[i]) == 0)
            continue;                           /* equal values: no interval */
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "type", "number");
        if (i > 0)
            cJSON_AddItemToObject(s, "exclusiveMinimum", cJSON_Duplicate(nums[i - 1], false));
        if (i < n)
            cJSON_AddItemToObject(s, "exclusiveMaximum", cJSON_Duplicate(nums[i], false));
        add(alts, s);
    }
    return true;
}

/* The complement of enum/const values. */
static bool negate_values(cJSON *alts, const cJSON *vals)
{
    int seen = 0;
    bool has_true = false, has_false = false;
    cJSON *strings = cJSON_CreateArray();
    for (const cJSON *v = vals->child; v; v = v->next) {
        int t = js_value_types(v);
        if (t & (T_OBJECT | T_ARRAY)) {
            cJSON_Delete(strings);
            return false;
        }
        if (t & T_NUMBER)
            t |= T_INTEGER;
        seen |= t;
        has_true |= cJSON_IsTrue(v);
        has_false |= cJSON_IsFalse(v);
        if (cJSON_IsString(v))
            cJSON_AddItemToArray(strings, cJSON_CreateString(v->valuestring));
    }
    add(alts, types_schema(T_ALL & ~seen));
    if ((seen & T_BOOL) && !(has_true && has_false)) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddBoolToObject(s, "const", !has_true);
        add(alts, s);
    }
    if (seen & T_STRING)
        add(alts, typed("string", "$smcNotIn", strings));
    else
        cJSON_Delete(strings);
    return !(seen & T_NUMBER) || negate_numbers(alts, vals);
}

/* The opposite bound: minLength n → maxLength n-1 on strings, and so on. */
static bool negate_count(cJSON *alts, const char *k, const cJSON *v)
{
    static const struct { const char *kw, *type, *opposite; int delta; } counts[] = {
        {"minLength", "string", "maxLength", -1}, {"maxLength", "string", "minLength", 1},
        {"minItems", "array", "maxItems", -1}, {"maxItems", "array", "minItems", 1},
        {"minProperties", "object", "maxProperties", -1},
        {"maxProperties", "object", "minProperties", 1},
        {"minimum", "number", "exclusiveMaximum", 0}, {"maximum", "number", "exclusiveMinimum", 0},
        {"exclusiveMinimum", "number", "maximum", 0}, {"exclusiveMaximum", "number", "minimum", 0}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        if (strcmp(counts[i].kw, k))
            continue;
        if (!cJSON_IsNumber(v))
            return false;          /* draft-4 boolean exclusive flags */
        if (counts[i].delta == 0) {
            add(alts, typed(counts[i].type, counts[i].opposite, cJSON_Duplicate(v, false)));
        } else if (counts[i].delta > 0 || v->valuedouble > 0) {
            add(alts, typed(counts[i].type, counts[i].opposite,
                            cJSON_CreateNumber(v->valuedouble + counts[i].delta)));
        }
        return true;
    }
    return false;
}

/* All of the list's complements (the complement of anyOf). */
static cJSON *negate_all(neg *g, const cJSON *list)
{
    cJSON *all = cJSON_CreateArray();
    for (const cJSON *a = list->child; a; a = a->next) {
        cJSON *n = negate(g, a);
        if (!n) {
            cJSON_Delete(all);
            return NULL;
        }
        if (cJSON_IsFalse(n)) {
            cJSON_Delete(all);
            return n;
        }
        cJSON_AddItemToArray(all, n);
    }
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, "allOf", all);
    return s;
}

/* Both of a and b (consumed), false when either is false. */
static cJSON *both(cJSON *a, cJSON *b)
{
    if (!a || !b || cJSON_IsFalse(a) || cJSON_IsFalse(b)) {
        bool ok = a && b;
        cJSON_Delete(a);
        cJSON_Delete(b);
        return ok ? cJSON_CreateFalse() : NULL;
    }
    cJSON *s = cJSON_CreateObject();
    cJSON *all = cJSON_AddArrayToObject(s, "allOf");
    cJSON_AddItemToArray(all, a);
    cJSON_AddItemToArray(all, b);
    return s;
}

static cJSON *dup_or_true(const cJSON *s)
{
    return s ? cJSON_Duplicate(s, true) : cJSON_CreateTrue();
}

/* Complement of one dependency P → v (names or a schema). */
static bool negate_dependency(neg *g, cJSON *alts, const char *p, const cJSON *v)
{
    if (cJSON_IsArray(v)) {
        for (const cJSON *q = v->child; q; q = q->next) {
            if (!cJSON_IsString(q))
                return false;
            cJSON *s = present_with(p, NULL);
            cJSON_AddFalseToObject(cJSON_AddObjectToObject(s, "properties"), q->valuestring);
            add(alts, s);
        }
        return true;
    }
    cJSON *n = negate(g, v);
    if (!n)
        return false;
    add(alts, both(present_with(p, NULL), n));
    return true;
}

static bool negate_keyword(neg *g, cJSON *alts, const cJSON *s, const cJSON *k)
{
    const char *key = k->string;
    if (!strcmp(key, "type")) {
        int m = js_type_mask(k);
        if (m < 0)
            return false;
        if (m != T_ALL) {
            cJSON *t = types_schema(T_ALL & ~m);
            if (!t)
                return false;
            add(alts, t);
        }
        return true;
    }
    if (!strcmp(key, "const") || !strcmp(key, "enum")) {
        if (!strcmp(key, "const")) {
            cJSON *one = cJSON_CreateArray();
            cJSON_AddItemToArray(one, cJSON_Duplicate(k, true));
            bool ok = negate_values(alts, one);
            cJSON_Delete(one);
            return ok;
        }
        return cJSON_IsArray(k) && k->child && negate_values(alts, k);
    }
    if (!strcmp(key, "required")) {
        for (const cJSON *r = cJSON_IsArray(k) ? k->child : NULL; r; r = r->next) {
            if (!cJSON_IsString(r))
                return false;
            add(alts, absent(r->valuestring));
        }
        return cJSON_IsArray(k);
    }
    if (!strcmp(key, "properties")) {
        if (!cJSON_IsObject(k))
            return false;
        for (const cJSON *p = k->child; p; p = p->next) {
            cJSON *n = negate(g, p);
            if (!n)
                return false;
            if (!cJSON_IsFalse(n))
                add(alts, present_with(p->string, n));
            else
                cJSON_Delete(n);
        }
        return true;
    }
    if (!strcmp(key, "additionalProperties")) {
        if (cJSON_IsTrue(k) || (cJSON_IsObject(k) && !js_has_other_keywords(k, NULL, NULL)))
            return true;
        if (!cJSON_IsFalse(k) || js_get(s, "properties") || js_get(s, "patternProperties"))
            return false;
        add(alts, typed("object", "minProperties", cJSON_CreateNumber(1)));
        return true;
    }
    if (negate_count(alts, key, k))
        return true;
    if (!strcmp(key, "uniqueItems"))
        return cJSON_IsFalse(k);
    if (!strcmp(key, "allOf")) {
        for (const cJSON *a = cJSON_IsArray(k) ? k->child : NULL; a; a = a->next) {
            cJSON *n = negate(g, a);
            if (!n)
                return false;
            add(alts, n);
        }
        return cJSON_IsArray(k);
    }
    if (!strcmp(key, "anyOf") || !strcmp(key, "oneOf")) {
        if (!cJSON_IsArray(k) || !k->child)
            return false;
        if (!strcmp(key, "oneOf") && js_oneof_check(g->root, k, "#", NULL) < 0)
            return false;
        cJSON *n = negate_all(g, k);
        if (!n)
            return false;
        add(alts, n);
        return true;
    }
    if (!strcmp(key, "not")) {
        if (!cJSON_IsObject(k) && !cJSON_IsBool(k))
            return false;
        add(alts, cJSON_Duplicate(k, true));
        return true;
    }
    if (!strcmp(key, "if")) {
        const cJSON *t = js_get(s, "then"), *e = js_get(s, "else");
        if (t) {               /* if and not then */
            cJSON *nt = negate(g, t);
            if (!nt)
                return false;
            add(alts, both(dup_or_true(k), nt));
        }
        if (e) {               /* not if and not else */
            cJSON *ni = negate(g, k);
            cJSON *ne = ni ? negate(g, e) : NULL;
            if (!ne) {
                cJSON_Delete(ni);
                return false;
            }
            add(alts, both(ni, ne));
        }
        return true;
    }
    if (!strcmp(key, "then") || !strcmp(key, "else"))
        return true;           /* with "if" above; alone they mean nothing */
    if (!strcmp(key, "dependentRequired") || !strcmp(key, "dependentSchemas") ||
        !strcmp(key, "dependencies")) {
        for (const cJSON *d = cJSON_IsObject(k) ? k->child : NULL; d; d = d->next)
            if (!negate_dependency(g, alts, d->string, d))
                return false;
        return cJSON_IsObject(k);
    }
    if (!strcmp(key, "$ref")) {
        const cJSON *t = cJSON_IsString(k) ? js_resolve_ref(g->root, k->valuestring) : NULL;
        cJSON *n = t ? negate(g, t) : NULL;
        if (!n)
            return false;
        add(alts, n);
        return true;
    }
    if (!strcmp(key, "$smcNotIn")) {
        cJSON *s2 = cJSON_CreateObject();
        cJSON_AddItemToObject(s2, "enum", cJSON_Duplicate(k, true));
        add(alts, s2);
        add(alts, types_schema(T_ALL & ~T_STRING));
        return cJSON_IsArray(k) && k->child;
    }
    if (!strcmp(key, "minContains") || !strcmp(key, "maxContains"))
        return !js_get(s, "contains");
    return false;
}

static cJSON *negate(neg *g, const cJSON *s)
{
    if (cJSON_IsBool(s))
        return cJSON_CreateBool(!cJSON_IsTrue(s));
    if (!cJSON_IsObject(s) || g->depth >= MAX_NEG_DEPTH) {
        g->why = "$ref";
        return NULL;
    }
    g->depth++;
    cJSON *alts = cJSON_CreateArray();
    for (const cJSON *k = s->child; k; k = k->next) {
        const char *key = k->string;
        if (js_is_annotation(key) || js_is_unknown(key) || !strcmp(key, "$defs") ||
            !strcmp(key, "definitions"))
            continue;
        if (!negate_keyword(g, alts, s, k)) {
            if (!g->why)
                g->why = key;
            cJSON_Delete(alts);
            g->depth--;
            return NULL;
        }
    }
    g->depth--;
    if (!alts->child) {
        cJSON_Delete(alts);
        return cJSON_CreateFalse();
    }
    if (!alts->child->next) {
        cJSON *one = cJSON_DetachItemViaPointer(alts, alts->child);
        cJSON_Delete(alts);
        return one;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "anyOf", alts);
    return out;
}

cJSON *js_negate(const cJSON *root, const cJSON *s, const char **why)
{
    neg g = {.root = root};
    cJSON *n = negate(&g, s);
    if (cJSON_IsObject(n))      /* evaluates no property (unevaluatedProperties) */
        cJSON_AddTrueToObject(n, "$smcNegated");
    if (why)
        *why = n ? NULL : g.why;
    return n;
}

cJSON *js_if_then_else(const cJSON *root, const cJSON *s, const char **why)
{
    const cJSON *i = js_get(s, "if"), *t = js_get(s, "then"), *e = js_get(s, "else");
    if (why)
        *why = NULL;
    if (!t && !e)
        return cJSON_CreateTrue();
    if (!e || cJSON_IsTrue(e)) {
        /* (if and then) or not if */
        cJSON *ni = js_negate(root, i, why);
        if (!ni)
            return NULL;
        cJSON *any = cJSON_CreateObject();
        cJSON *alts = cJSON_AddArrayToObject(any, "anyOf");
        add(alts, both(cJSON_Duplicate(i, true), dup_or_true(t)));
        add(alts, ni);
        if (!alts->child) {
            cJSON_Delete(any);
            return cJSON_CreateFalse();
        }
        return any;
    }
    cJSON *any = cJSON_CreateObject();
    cJSON *alts = cJSON_AddArrayToObject(any, "anyOf");
    add(alts, both(cJSON_Duplicate(i, true), dup_or_true(t)));
    if (!t || cJSON_IsTrue(t)) {
        /* if or else: no complement needed. But where else does not exclude
         * if, an instance matching both has the annotations of if (then
         * applies), not of else: the else branch is marked as a complement
         * so that unevaluatedProperties/Items beside it are refused. */
        cJSON *ec = cJSON_Duplicate(e, true);
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_Duplicate(i, true));
        cJSON_AddItemToArray(pair, cJSON_Duplicate(e, true));
        bool disjoint = js_oneof_check(root, pair, "#", NULL) == 0;
        cJSON_Delete(pair);
        if (!disjoint && cJSON_IsObject(ec))
            cJSON_AddTrueToObject(ec, "$smcNegated");
        add(alts, ec);
    } else {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_Duplicate(i, true));
        cJSON_AddItemToArray(pair, cJSON_Duplicate(e, true));
        bool disjoint = js_oneof_check(root, pair, "#", NULL) == 0;
        cJSON_Delete(pair);
        if (disjoint) {
            /* else excludes if: not-if and else is else */
            add(alts, cJSON_Duplicate(e, true));
        } else {
            cJSON *ni = js_negate(root, i, why);
            if (!ni) {
                cJSON_Delete(any);
                return NULL;
            }
            add(alts, both(ni, cJSON_Duplicate(e, true)));
        }
    }
    if (!alts->child) {
        cJSON_Delete(any);
        return cJSON_CreateFalse();
    }
    return any;
}
