/* json_schema_disjoint.c — exact oneOf. A grammar can express "at least one
 * alternative" (anyOf) but not "exactly one"; the two agree when no instance
 * satisfies two alternatives. This file proves that, conservatively: two
 * schemas are disjoint when their possible types do not meet, when every
 * enum/const value of one surely fails the other, when numeric ranges do
 * not meet, or when both admit only objects and a property both require has
 * disjoint schemas (a discriminator) or is required by one and forbidden by
 * the other. Anything not proven refuses the oneOf (never a false accept). */
#include "constraint/json_schema_ctx.h"

#include <string.h>

#include "util/error.h"

#define MAX_DEPTH 24
#define MAX_ALTERNATIVES 256

/* Follows "$ref"s of schemas that are only a reference. */
static const cJSON *deref(const cJSON *root, const cJSON *s)
{
    for (int i = 0; i < MAX_DEPTH && cJSON_IsObject(s); i++) {
        const cJSON *r = js_get(s, "$ref");
        if (!cJSON_IsString(r) || js_has_other_keywords(s, "$ref", NULL))
            return s;
        const cJSON *t = js_resolve_ref(root, r->valuestring);
        if (!t)
            return s;
        s = t;
    }
    return s;
}

/* The JSON types (T_*) an instance of s may have; T_ALL when unknown. */
static int types_of(const cJSON *root, const cJSON *s, int depth)
{
    s = deref(root, s);
    if (cJSON_IsFalse(s))
        return 0;
    if (!cJSON_IsObject(s) || depth > MAX_DEPTH)
        return T_ALL;
    int m = T_ALL;
    const cJSON *t = js_get(s, "type"), *k = js_get(s, "const"), *e = js_get(s, "enum");
    if (t) {
        int tm = js_type_mask(t);
        if (tm > 0)
            m &= tm;
    }
    if (k)
        m &= js_value_types(k);
    if (cJSON_IsArray(e)) {
        int em = 0;
        for (const cJSON *v = e->child; v; v = v->next)
            em |= js_value_types(v);
        m &= em;
    }
    const cJSON *r = js_get(s, "$ref");
    if (cJSON_IsString(r)) {
        const cJSON *target = js_resolve_ref(root, r->valuestring);
        if (target)
            m &= types_of(root, target, depth + 1);
    }
    const cJSON *all = js_get(s, "allOf");
    for (const cJSON *a = cJSON_IsArray(all) ? all->child : NULL; a; a = a->next)
        m &= types_of(root, a, depth + 1);
    static const char *const unions[] = {"anyOf", "oneOf"};
    for (int u = 0; u < 2; u++) {
        const cJSON *alts = js_get(s, unions[u]);
        if (!cJSON_IsArray(alts) || !alts->child)
            continue;
        int um = 0;
        for (const cJSON *a = alts->child; a; a = a->next)
            um |= types_of(root, a, depth + 1);
        m &= um;
    }
    return m;
}

static bool listed(const cJSON *arr, const char *name)
{
    for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e; e = e->next)
        if (cJSON_IsString(e) && !strcmp(e->valuestring, name))
            return true;
    return false;
}

/* Does s forbid property `name` outright (additionalProperties false)? */
static bool forbids(const cJSON *s, const char *name)
{
    if (!cJSON_IsFalse(js_get(s, "additionalProperties")) || js_get(s, "patternProperties"))
        return false;
    const cJSON *props = js_get(s, "properties");
    return !cJSON_GetObjectItemCaseSensitive(props, name);
}

/* Numeric bounds of s: lower/upper (NULL when none) and exclusiveness. */
typedef struct nbounds {
    bool has_lo, has_hi, lo_ex, hi_ex;
    js_dec lo, hi;
} nbounds;

static void tighten(nbounds *b, const cJSON *v, bool excl, bool is_lo)
{
    js_dec d;
    if (!cJSON_IsNumber(v) || !js_dec_of(v, &d))
        return;
    bool *has = is_lo ? &b->has_lo : &b->has_hi, *ex = is_lo ? &b->lo_ex : &b->hi_ex;
    js_dec *cur = is_lo ? &b->lo : &b->hi;
    int c = *has ? js_dec_cmp(&d, cur) : 0;
    if (!*has || (is_lo ? c > 0 : c < 0) || (c == 0 && excl)) {
        *cur = d;
        *has = true;
        *ex = excl;
    }
}

static nbounds bounds_of(const cJSON *s)
{
    nbounds b = {0};
    bool emn = cJSON_IsTrue(js_get(s, "exclusiveMinimum")), emx = cJSON_IsTrue(js_get(s, "exclusiveMaximum"));
    tighten(&b, js_get(s, "minimum"), emn, true);
    tighten(&b, js_get(s, "exclusiveMinimum"), true, true);
    tighten(&b, js_get(s, "maximum"), emx, false);
    tighten(&b, js_get(s, "exclusiveMaximum"), true, false);
    return b;
}

/* Is there no number above lo and below hi? */
static bool empty_between(bool has_lo, const js_dec *lo, bool lo_ex, bool has_hi, const js_dec *hi,
                          bool hi_ex)
{
    if (!has_lo || !has_hi)
        return false;
    int c = js_dec_cmp(lo, hi);
    return c > 0 || (c == 0 && (lo_ex || hi_ex));
}

static bool surely_fails(const cJSON *root, const cJSON *s, const cJSON *v, int depth);

static bool surely_fails_props(const cJSON *root, const cJSON *s, const cJSON *v, int depth)
{
    const cJSON *props = js_get(s, "properties");
    for (const cJSON *r = js_get(s, "required") ? js_get(s, "required")->child : NULL; r; r = r->next)
        if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(v, r->valuestring))
            return true;
    for (const cJSON *p = v->child; p; p = p->next) {
        const cJSON *ps = cJSON_IsObject(props) ? cJSON_GetObjectItemCaseSensitive(props, p->string) : NULL;
        if (ps && surely_fails(root, ps, p, depth + 1))
            return true;
        if (!ps && forbids(s, p->string))
            return true;
    }
    return false;
}

/* True only when the value v is certainly not an instance of s. */
static bool surely_fails(const cJSON *root, const cJSON *s, const cJSON *v, int depth)
{
    s = deref(root, s);
    if (cJSON_IsFalse(s))
        return true;
    if (!cJSON_IsObject(s) || depth > MAX_DEPTH)
        return false;
    if (!(js_value_types(v) & types_of(root, s, depth)))
        return true;
    const cJSON *k = js_get(s, "const"), *e = js_get(s, "enum");
    if (k && !js_values_equal(k, v))
        return true;
    if (cJSON_IsArray(e)) {
        bool found = false;
        for (const cJSON *x = e->child; x && !found; x = x->next)
            found = js_values_equal(x, v);
        if (!found)
            return true;
    }
    if (cJSON_IsObject(v) && surely_fails_props(root, s, v, depth))
        return true;
    js_dec d;
    if (cJSON_IsNumber(v) && js_dec_of(v, &d)) {
        nbounds b = bounds_of(s);
        if (empty_between(b.has_lo, &b.lo, b.lo_ex, true, &d, false) ||
            empty_between(true, &d, false, b.has_hi, &b.hi, b.hi_ex))
            return true;
    }
    const cJSON *r = js_get(s, "$ref");
    const cJSON *target = cJSON_IsString(r) ? js_resolve_ref(root, r->valuestring) : NULL;
    if (target && target != s && surely_fails(root, target, v, depth + 1))
        return true;
    const cJSON *all = js_get(s, "allOf");
    for (const cJSON *a = cJSON_IsArray(all) ? all->child : NULL; a; a = a->next)
        if (surely_fails(root, a, v, depth + 1))
            return true;
    static const char *const unions[] = {"anyOf", "oneOf"};
    for (int u = 0; u < 2; u++) {
        const cJSON *alts = js_get(s, unions[u]);
        if (!cJSON_IsArray(alts) || !alts->child)
            continue;
        bool all_fail = true;
        for (const cJSON *a = alts->child; a && all_fail; a = a->next)
            all_fail = surely_fails(root, a, v, depth + 1);
        if (all_fail)
            return true;
    }
    return false;
}

/* Every enum/const value of a surely fails b. */
static bool values_exclude(const cJSON *root, const cJSON *a, const cJSON *b, int depth)
{
    const cJSON *k = js_get(a, "const"), *e = js_get(a, "enum");
    if (k)
        return surely_fails(root, b, k, depth + 1);
    if (!cJSON_IsArray(e))
        return false;
    for (const cJSON *x = e->child; x; x = x->next)
        if (!surely_fails(root, b, x, depth + 1))
            return false;
    return true;
}

static bool disjoint(const cJSON *root, const cJSON *a, const cJSON *b, int depth);

/* Some part of a (allOf, $ref) or every alternative of a (anyOf, oneOf)
 * excludes b. */
static bool parts_exclude(const cJSON *root, const cJSON *a, const cJSON *b, int depth)
{
    const cJSON *r = js_get(a, "$ref");
    const cJSON *target = cJSON_IsString(r) ? js_resolve_ref(root, r->valuestring) : NULL;
    if (target && target != a && disjoint(root, target, b, depth + 1))
        return true;
    const cJSON *all = js_get(a, "allOf");
    for (const cJSON *x = cJSON_IsArray(all) ? all->child : NULL; x; x = x->next)
        if (disjoint(root, x, b, depth + 1))
            return true;
    static const char *const unions[] = {"anyOf", "oneOf"};
    for (int u = 0; u < 2; u++) {
        const cJSON *alts = js_get(a, unions[u]);
        if (!cJSON_IsArray(alts) || !alts->child)
            continue;
        bool all_disjoint = true;
        for (const cJSON *x = alts->child; x && all_disjoint; x = x->next)
            all_disjoint = disjoint(root, x, b, depth + 1);
        if (all_disjoint)
            return true;
    }
    return false;
}

/* Both admit only objects: a property both require with disjoint schemas,
 * or one required by a and forbidden by b. */
static bool objects_exclude(const cJSON *root, const cJSON *a, const cJSON *b, int depth)
{
    const cJSON *ra = js_get(a, "required"), *rb = js_get(b, "required");
    const cJSON *pa = js_get(a, "properties"), *pb = js_get(b, "properties");
    for (const cJSON *r = cJSON_IsArray(ra) ? ra->child : NULL; r; r = r->next) {
        if (!cJSON_IsString(r))
            continue;
        if (forbids(b, r->valuestring))
            return true;
        const cJSON *sa = cJSON_IsObject(pa) ? cJSON_GetObjectItemCaseSensitive(pa, r->valuestring) : NULL;
        const cJSON *sb = cJSON_IsObject(pb) ? cJSON_GetObjectItemCaseSensitive(pb, r->valuestring) : NULL;
        if (sa && sb && listed(rb, r->valuestring) && disjoint(root, sa, sb, depth + 1))
            return true;
    }
    for (const cJSON *r = cJSON_IsArray(rb) ? rb->child : NULL; r; r = r->next)
        if (cJSON_IsString(r) && forbids(a, r->valuestring))
            return true;
    return false;
}

static bool disjoint(const cJSON *root, const cJSON *a, const cJSON *b, int depth)
{
    a = deref(root, a);
    b = deref(root, b);
    if (cJSON_IsFalse(a) || cJSON_IsFalse(b))
        return true;
    if (!cJSON_IsObject(a) || !cJSON_IsObject(b) || depth > MAX_DEPTH)
        return false;
    int ta = types_of(root, a, depth), tb = types_of(root, b, depth);
    if (!(ta & tb))
        return true;
    if (values_exclude(root, a, b, depth) || values_exclude(root, b, a, depth))
        return true;
    if ((ta & tb) == T_OBJECT && objects_exclude(root, a, b, depth))
        return true;
    if (!((ta & tb) & ~(T_NUMBER | T_INTEGER))) {
        nbounds x = bounds_of(a), y = bounds_of(b);
        if (empty_between(x.has_lo, &x.lo, x.lo_ex, y.has_hi, &y.hi, y.hi_ex) ||
            empty_between(y.has_lo, &y.lo, y.lo_ex, x.has_hi, &x.hi, x.hi_ex))
            return true;
    }
    return parts_exclude(root, a, b, depth) || parts_exclude(root, b, a, depth);
}

int js_oneof_check(const cJSON *root, const cJSON *alts, const char *path, smc_error *err)
{
    int n = 0;
    for (const cJSON *a = alts->child; a; a = a->next)
        n++;
    if (n > MAX_ALTERNATIVES)
        return smc_fail(err, "JSON Schema: \"oneOf\" at %s has more than %d alternatives (not "
                        "supported)", path, MAX_ALTERNATIVES);
    int i = 0;
    for (const cJSON *a = alts->child; a; a = a->next, i++) {
        int j = i + 1;
        for (const cJSON *b = a->next; b; b = b->next, j++)
            if (!disjoint(root, a, b, 0))
                return smc_fail(err, "JSON Schema: \"oneOf\" at %s: alternatives %d and %d may both "
                                "match one instance, and a grammar cannot exclude such instances "
                                "(make them disjoint, e.g. by type, const or a required "
                                "discriminator property, or use anyOf)", path, i, j);
    }
    return 0;
}
