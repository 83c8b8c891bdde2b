/* json_schema_merge.c — local $ref resolution and allOf merging for the JSON
 * Schema converter. A conjunction of schemas becomes one schema: types are
 * intersected, properties/required united (a property absent from a part
 * with additionalProperties gets that part's additionalProperties), items
 * combined, bounds tightened, enums intersected; anyOf/oneOf inside a
 * conjunction are distributed over it. What cannot be merged exactly (two
 * different patterns or formats, prefixItems in several parts) is an error. */
#include "constraint/json_schema_ctx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static const cJSON *resolve_pointer(const cJSON *root, const char *ref);

/* The subschema named by plain-name fragment `name`: "$anchor" or
 * "$dynamicAnchor" (2020-12) or "$id": "#name" (draft 7), outside subschemas
 * with their own base URI; NULL unless exactly one. Counts into *found. */
static const cJSON *find_anchor(const cJSON *v, const char *name, bool is_root, int *found)
{
    const cJSON *hit = NULL;
    if (cJSON_IsObject(v)) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "$id");
        if (!is_root && cJSON_IsString(id) && id->valuestring[0] != '#')
            return NULL;                        /* another resource */
        static const char *const keys[] = {"$anchor", "$dynamicAnchor"};
        for (int k = 0; k < 2; k++) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(v, keys[k]);
            if (cJSON_IsString(a) && !strcmp(a->valuestring, name))
                hit = v, ++*found;
        }
        if (cJSON_IsString(id) && id->valuestring[0] == '#' && !strcmp(id->valuestring + 1, name))
            hit = v, ++*found;
    }
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return hit;
    for (const cJSON *e = v->child; e; e = e->next) {
        if (cJSON_IsObject(v) && (!strcmp(e->string, "enum") || !strcmp(e->string, "const") ||
                                  !strcmp(e->string, "default") || !strcmp(e->string, "examples")))
            continue;
        const cJSON *h = find_anchor(e, name, false, found);
        if (h)
            hit = h;
    }
    return hit;
}

const cJSON *js_resolve_ref(const cJSON *root, const char *ref)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "$id");
    if (ref[0] != '#' && cJSON_IsString(id)) {
        /* the document's own URI (its root $id), then a fragment or nothing */
        size_t n = strlen(id->valuestring);
        if (n && id->valuestring[n - 1] == '#')
            n--;
        if (n && strncmp(ref, id->valuestring, n) == 0 && (ref[n] == '#' || ref[n] == 0))
            ref = ref[n] ? ref + n : "#";
    }
    if (ref[0] != '#')
        return NULL;
    if (ref[1] == 0 || ref[1] == '/')
        return resolve_pointer(root, ref);
    int found = 0;
    const cJSON *hit = find_anchor(root, ref + 1, true, &found);
    return found == 1 ? hit : NULL;
}

/* A JSON pointer fragment ("#", "#/a/0", %- and ~-escapes) in root. */
static const cJSON *resolve_pointer(const cJSON *root, const char *ref)
{
    const cJSON *cur = root;
    const char *p = ref + 1;
    if (*p == 0)
        return root;
    if (*p != '/')
        return NULL;
    while (*p == '/') {
        p++;
        char tok[256];
        size_t n = 0;
        while (*p && *p != '/') {
            char ch = *p++;
            if (ch == '~') {
                if (*p == '0')
                    ch = '~';
                else if (*p == '1')
                    ch = '/';
                else
                    return NULL;
                p++;
            } else if (ch == '%' && p[0] && p[1]) {
                /* percent-encoded (URI fragment) */
                char hx[3] = {p[0], p[1], 0};
                char *end;
                long v = strtol(hx, &end, 16);
                if (*end)
                    return NULL;
                ch = (char)v;
                p += 2;
            }
            if (n + 1 >= sizeof tok)
                return NULL;
            tok[n++] = ch;
        }
        tok[n] = 0;
        if (cJSON_IsArray(cur)) {
            char *end;
            long idx = strtol(tok, &end, 10);
            if (*end || n == 0 || idx < 0)
                return NULL;
            cur = cJSON_GetArrayItem(cur, (int)idx);
        } else if (cJSON_IsObject(cur)) {
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        } else {
            return NULL;
        }
        if (!cur)
            return NULL;
    }
    return cur;
}


/* Type names → mask ("number" includes integers). -1 on a bad value. */
int js_type_mask(const cJSON *t)
{
    static const struct { const char *n; int m; } names[] = {
        {"null", T_NULL}, {"boolean", T_BOOL}, {"object", T_OBJECT}, {"array", T_ARRAY},
        {"string", T_STRING}, {"number", T_NUMBER | T_INTEGER}, {"integer", T_INTEGER}};
    int mask = 0;
    const cJSON *one = cJSON_IsArray(t) ? t->child : t;
    for (; one; one = cJSON_IsArray(t) ? one->next : NULL) {
        if (!cJSON_IsString(one))
            return -1;
        int m = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcmp(names[i].n, one->valuestring) == 0)
                m = names[i].m;
        if (!m)
            return -1;
        mask |= m;
    }
    return mask;
}

cJSON *js_type_json(int mask)
{
    cJSON *a = cJSON_CreateArray();
    if (mask & T_NULL) cJSON_AddItemToArray(a, cJSON_CreateString("null"));
    if (mask & T_BOOL) cJSON_AddItemToArray(a, cJSON_CreateString("boolean"));
    if (mask & T_OBJECT) cJSON_AddItemToArray(a, cJSON_CreateString("object"));
    if (mask & T_ARRAY) cJSON_AddItemToArray(a, cJSON_CreateString("array"));
    if (mask & T_STRING) cJSON_AddItemToArray(a, cJSON_CreateString("string"));
    if (mask & T_NUMBER) cJSON_AddItemToArray(a, cJSON_CreateString("number"));
    else if (mask & T_INTEGER) cJSON_AddItemToArray(a, cJSON_CreateString("integer"));
    return a;
}

typedef struct part_list {
    const cJSON **p;
    bool *neg;            /* per part: inside a complement (not, a failed if): evaluates nothing */
    size_t n, cap;
} part_list;

typedef struct merger {
    const cJSON *root;
    const char *path;
    smc_error *err;
    cJSON *keep;          /* array owning copies made while flattening */
    int depth;
    unsigned long *work;  /* the conversion's step counter, against JS_MAX_WORK */
} merger;

static int push(merger *m, part_list *l, const cJSON *s, bool neg)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const cJSON **p = realloc(l->p, cap * sizeof *p);
        bool *ng = p ? realloc(l->neg, cap * sizeof *ng) : NULL;
        if (p)
            l->p = p;
        if (!p || !ng)
            return smc_fail(m->err, "out of memory");
        l->neg = ng;
        l->cap = cap;
    }
    l->neg[l->n] = neg;
    l->p[l->n++] = s;
    return 0;
}

static void parts_free(part_list *l)
{
    free(l->p);
    free(l->neg);
}

/* A copy of object s without the listed keys, owned by m->keep. */
static cJSON *copy_without(merger *m, const cJSON *s, const char *k1, const char *k2)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (const cJSON *c = s->child; c; c = c->next) {
        if ((k1 && strcmp(c->string, k1) == 0) || (k2 && strcmp(c->string, k2) == 0))
            continue;
        cJSON_AddItemToObject(o, c->string, cJSON_Duplicate(c, true));
    }
    cJSON_AddItemToArray(m->keep, o);
    return o;
}

static cJSON *merge_list(merger *m, const part_list *l);
static int flatten(merger *m, part_list *l, const cJSON *s, bool neg);

/* Applies unevaluatedProperties `up` / unevaluatedItems `ui` (either may be
 * NULL) to m, a merged schema (one alternative, or anyOf of them): in each
 * alternative the evaluated properties are its properties and patterns (its
 * additionalProperties, if any, evaluates the rest; names only complements
 * declare are not evaluated: mark_evaluated), the evaluated items its
 * prefix (items or additionalItems, if any, evaluate the rest); the rest
 * gets the schema. Fails (naming the reason in *why) where a validator
 * would count differently: a complement (not, the else side of if) whose
 * keywords evaluate by content, or contains. Returns 1 when m matches
 * nothing once closed. */
static int close_unevaluated(cJSON *m, const cJSON *up, const cJSON *ui, const char **why)
{
    if (!cJSON_IsObject(m))
        return 0;
    cJSON *alts = cJSON_GetObjectItemCaseSensitive(m, "anyOf");
    if (alts && !js_has_other_keywords(m, "anyOf", NULL)) {
        for (cJSON *a = alts->child, *next; a; a = next) {
            next = a->next;
            int rc = close_unevaluated(a, up, ui, why);
            if (rc < 0)
                return -1;
            if (rc == 1)        /* this alternative matches nothing now */
                cJSON_Delete(cJSON_DetachItemViaPointer(alts, a));
        }
        return alts->child ? 0 : 1;
    }
    if (cJSON_GetObjectItemCaseSensitive(m, "$smcOpaque") || cJSON_GetObjectItemCaseSensitive(m, "$smcNegated")) {
        *why = "together with \"not\" or the else side of \"if\" whose keywords evaluate properties or "
               "items by their content (a validator does not count them as evaluated)";
        return -1;
    }
    cJSON *props = cJSON_GetObjectItemCaseSensitive(m, "properties");
    const cJSON *not_evaluated = cJSON_GetObjectItemCaseSensitive(m, "$smcNotEvaluated");
    if (up && !cJSON_GetObjectItemCaseSensitive(m, "additionalProperties")) {
        cJSON_AddItemToObject(m, "additionalProperties", cJSON_Duplicate(up, true));
        /* declared only by complements: unevaluated, so also under up */
        for (const cJSON *n = not_evaluated && !cJSON_IsTrue(up) ? not_evaluated->child : NULL; n; n = n->next) {
            cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(props, n->valuestring);
            cJSON *both = cJSON_IsFalse(up) || cJSON_IsFalse(old) ? cJSON_CreateFalse() : cJSON_CreateObject();
            if (cJSON_IsObject(both)) {
                cJSON *all = cJSON_AddArrayToObject(both, "allOf");
                cJSON_AddItemToArray(all, old ? old : cJSON_CreateTrue());
                cJSON_AddItemToArray(all, cJSON_Duplicate(up, true));
            } else {
                cJSON_Delete(old);
                const cJSON *req = cJSON_GetObjectItemCaseSensitive(m, "required");
                for (const cJSON *r = req ? req->child : NULL; r; r = r->next)
                    if (cJSON_IsString(r) && !strcmp(r->valuestring, n->valuestring)) {
                        cJSON_Delete(both);
                        return 1;   /* a required property that may not appear */
                    }
            }
            cJSON_AddItemToObject(props, n->valuestring, both);
        }
    }
    if (up)             /* every property is evaluated now */
        cJSON_DeleteItemFromObjectCaseSensitive(m, "$smcNotEvaluated");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(m, "items");
    if (!ui || (items && !cJSON_IsArray(items)))
        return 0;
    if (cJSON_GetObjectItemCaseSensitive(m, "contains")) {
        *why = "together with \"contains\" (which evaluates the items it matches)";
        return -1;
    }
    if (cJSON_IsArray(items)) {             /* draft-7 tuple */
        if (!cJSON_GetObjectItemCaseSensitive(m, "additionalItems"))
            cJSON_AddItemToObject(m, "additionalItems", cJSON_Duplicate(ui, true));
    } else {
        cJSON_AddItemToObject(m, "items", cJSON_Duplicate(ui, true));
    }
    return 0;
}

/* s with unevaluatedProperties/unevaluatedItems: its own subtree merged
 * (allOf, $ref; anyOf/oneOf distributed), then closed, so that as a part of
 * a larger conjunction it evaluates every property/item it closed. Returns
 * as flatten does. */
static int flatten_unevaluated(merger *m, part_list *l, const cJSON *s, bool neg)
{
    const cJSON *up = cJSON_GetObjectItemCaseSensitive(s, "unevaluatedProperties");
    const cJSON *ui = cJSON_GetObjectItemCaseSensitive(s, "unevaluatedItems");
    cJSON *rest = copy_without(m, s, "unevaluatedProperties", "unevaluatedItems");
    if (!rest)
        return smc_fail(m->err, "out of memory");
    part_list sub = {0};
    int rc = flatten(m, &sub, rest, false);
    cJSON *merged = rc == 0 ? merge_list(m, &sub) : NULL;
    parts_free(&sub);
    if (rc != 0)
        return rc;
    if (!merged)
        return -1;
    cJSON_AddItemToArray(m->keep, merged);
    if (cJSON_IsFalse(merged))
        return 1;
    const char *why = NULL;
    int closed = close_unevaluated(merged, up, ui, &why);
    if (closed < 0)
        return smc_fail(m->err, "JSON Schema: \"%s\" at %s %s", up ? "unevaluatedProperties" :
                        "unevaluatedItems", m->path, why);
    if (closed == 1)
        return 1;
    return push(m, l, merged, neg);
}

/* Flattens s into l: $ref resolved, allOf expanded; parts of a complement
 * (neg, or marked $smcNegated) are marked. Returns 1 if s is false
 * (unsatisfiable), 0 ok, -1 error. */
static int flatten(merger *m, part_list *l, const cJSON *s, bool neg)
{
    if (cJSON_IsTrue(s))
        return 0;
    if (cJSON_IsFalse(s))
        return 1;
    if (!cJSON_IsObject(s))
        return smc_fail(m->err, "JSON Schema: a schema inside allOf at %s is not an object or boolean",
                        m->path);
    if (++m->depth > 48)
        return smc_fail(m->err, "JSON Schema: allOf/$ref nesting too deep (a cycle?) at %s", m->path);
    cJSON *rewritten = js_rewrite_schema(m->root, s);
    if (rewritten) {
        cJSON_AddItemToArray(m->keep, rewritten);
        s = rewritten;
    }
    neg |= cJSON_GetObjectItemCaseSensitive(s, "$smcNegated") != NULL;
    if (cJSON_GetObjectItemCaseSensitive(s, "unevaluatedProperties") ||
        cJSON_GetObjectItemCaseSensitive(s, "unevaluatedItems")) {
        int rc = flatten_unevaluated(m, l, s, neg);
        m->depth--;
        return rc;
    }
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(s, "$ref");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(s, "allOf");
    int rc = 0;
    if (ref || all) {
        if (ref) {
            if (!cJSON_IsString(ref))
                return smc_fail(m->err, "JSON Schema: $ref at %s is not a string", m->path);
            const cJSON *t = js_resolve_ref(m->root, ref->valuestring);
            if (!t)
                return smc_fail(m->err, "JSON Schema: cannot resolve $ref \"%.200s\" at %s "
                                "(only references within the document are supported)", ref->valuestring, m->path);
            rc = flatten(m, l, t, neg);
        }
        if (rc == 0 && all) {
            if (!cJSON_IsArray(all) || !all->child)
                return smc_fail(m->err, "JSON Schema: allOf at %s must be a non-empty array", m->path);
            for (const cJSON *a = all->child; a && rc == 0; a = a->next)
                rc = flatten(m, l, a, neg);
        }
        if (rc == 0) {
            cJSON *rest = copy_without(m, s, "$ref", "allOf");
            if (!rest)
                return smc_fail(m->err, "out of memory");
            rc = push(m, l, rest, neg);
        }
    } else {
        rc = push(m, l, s, neg);
    }
    m->depth--;
    return rc;
}

static cJSON *make_all_of(cJSON **items, size_t n)
{
    if (n == 1)
        return items[0];
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "allOf");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, items[i]);
    return o;
}

static bool is_number_bound(const char *k)
{
    return !strcmp(k, "minimum") || !strcmp(k, "maximum") || !strcmp(k, "exclusiveMinimum") ||
           !strcmp(k, "exclusiveMaximum");
}

static cJSON *merge_flat(merger *m, const part_list *l);

/* anyOf distributed over allOf multiplies out: merge steps count against
 * the conversion's JS_MAX_WORK. */

static cJSON *merge_list(merger *m, const part_list *l)
{
    /* distribute the first anyOf/oneOf over the conjunction */
    for (size_t i = 0; i < l->n; i++) {
        const char *key = NULL;
        const cJSON *alts = cJSON_GetObjectItemCaseSensitive(l->p[i], "anyOf");
        if (alts)
            key = "anyOf";
        else if ((alts = cJSON_GetObjectItemCaseSensitive(l->p[i], "oneOf")))
            key = "oneOf";
        if (!key)
            continue;
        if (!cJSON_IsArray(alts) || !alts->child) {
            smc_fail(m->err, "JSON Schema: %s at %s must be a non-empty array", key, m->path);
            return NULL;
        }
        if (!strcmp(key, "oneOf") && js_oneof_check(m->root, alts, m->path, m->err) < 0)
            return NULL;
        if (++m->depth > 48) {
            smc_fail(m->err, "JSON Schema: anyOf/allOf/$ref nesting too deep (a cycle?) at %s", m->path);
            return NULL;
        }
        cJSON *rest = copy_without(m, l->p[i], key, NULL);
        cJSON *out = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(out, "anyOf");
        for (const cJSON *a = alts->child; a; a = a->next) {
            if (++*m->work > JS_MAX_WORK) {
                cJSON_Delete(out);
                smc_fail(m->err, "JSON Schema: allOf at %s expands too much (more than %lu steps)",
                         m->path, JS_MAX_WORK);
                return NULL;
            }
            part_list sub = {0};
            int rc = 0;
            for (size_t j = 0; j < l->n && rc == 0; j++)
                rc = push(m, &sub, j == i ? rest : l->p[j], l->neg[j]);
            if (rc == 0)
                rc = flatten(m, &sub, a, l->neg[i]);
            cJSON *r = NULL;
            if (rc == 0)
                r = merge_list(m, &sub);
            parts_free(&sub);
            if (rc < 0 || (rc == 0 && !r)) {
                cJSON_Delete(out);
                return NULL;
            }
            if (rc == 1 || cJSON_IsFalse(r)) {
                cJSON_Delete(r);
                continue;
            }
            cJSON_AddItemToArray(arr, r);
        }
        m->depth--;
        if (!arr->child) {
            cJSON_Delete(out);
            return cJSON_CreateFalse();
        }
        return out;
    }
    return merge_flat(m, l);
}

static cJSON *fail_null(merger *m, const char *what)
{
    smc_fail(m->err, "JSON Schema: allOf at %s: %s", m->path, what);
    return NULL;
}

/* A part's array keywords as a tuple and a tail: prefixItems and items
 * (2020-12), array items and additionalItems (draft 7), or items alone. */
static void part_tuple(const cJSON *p, const cJSON **tuple, const cJSON **tail)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(p, "items");
    *tuple = cJSON_GetObjectItemCaseSensitive(p, "prefixItems");
    *tail = items;
    if (!*tuple && cJSON_IsArray(items)) {
        *tuple = items;
        *tail = cJSON_GetObjectItemCaseSensitive(p, "additionalItems");
    }
}

/* The conjunction of the schemas (NULL or true: none) as one schema; NULL
 * when every one is true; -1 beyond 64. */
static int conjoin(const cJSON *const *xs, size_t n, cJSON **out)
{
    cJSON *items[64];
    size_t k = 0;
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!xs[i] || cJSON_IsTrue(xs[i]))
            continue;
        if (cJSON_IsFalse(xs[i])) {
            for (size_t j = 0; j < k; j++)
                cJSON_Delete(items[j]);
            *out = cJSON_CreateFalse();
            return 0;
        }
        if (k == 64) {
            for (size_t j = 0; j < k; j++)
                cJSON_Delete(items[j]);
            return -1;
        }
        items[k++] = cJSON_Duplicate(xs[i], true);
    }
    if (k)
        *out = make_all_of(items, k);
    return 0;
}

/* items of the parts merged into R: position i of the merged tuple (as long
 * as the longest) is under every part's schema for position i (its tuple's
 * entry, else its tail); the tail under every tail. A tail of true is kept
 * when some part had one: every item is then evaluated (unevaluatedItems). */
static int merge_items(cJSON *R, const part_list *l)
{
    const cJSON *at[64];
    size_t len = 0, np = l->n > 64 ? 64 : l->n;
    bool any_tail = false;
    for (size_t i = 0; i < l->n; i++) {
        const cJSON *tuple, *tail;
        part_tuple(l->p[i], &tuple, &tail);
        size_t n = (size_t)cJSON_GetArraySize(tuple);
        len = n > len ? n : len;
        any_tail |= tail != NULL;
    }
    if (l->n > 64)
        return -1;
    if (len) {
        cJSON *pre = cJSON_AddArrayToObject(R, "prefixItems");
        for (size_t k = 0; k < len; k++) {
            for (size_t i = 0; i < np; i++) {
                const cJSON *tuple, *tail;
                part_tuple(l->p[i], &tuple, &tail);
                at[i] = (size_t)cJSON_GetArraySize(tuple) > k ? cJSON_GetArrayItem(tuple, (int)k) : tail;
            }
            cJSON *x;
            if (conjoin(at, np, &x) < 0)
                return -1;
            cJSON_AddItemToArray(pre, x ? x : cJSON_CreateTrue());
        }
    }
    for (size_t i = 0; i < np; i++) {
        const cJSON *tuple;
        part_tuple(l->p[i], &tuple, &at[i]);
    }
    cJSON *x;
    if (conjoin(at, np, &x) < 0)
        return -1;
    if (x || any_tail)
        cJSON_AddItemToObject(R, "items", x ? x : cJSON_CreateTrue());
    return 0;
}

/* What R, merged from l, evaluates for unevaluatedProperties/Items: a part
 * inside a complement evaluates nothing (a validator drops the annotations
 * of not and of a failed if), so R's properties that only such parts (or a
 * part's own $smcNotEvaluated) declare are listed in $smcNotEvaluated; where
 * such a part has keywords that evaluate keys or items by their content
 * (additionalProperties, patterns, items, contains, ...), R is $smcOpaque. */
static void mark_evaluated(cJSON *R, const part_list *l)
{
    static const char *const opaque[] = {"additionalProperties", "patternProperties", "propertyNames",
                                         "$smcExtraKey", "prefixItems", "items", "additionalItems",
                                         "contains", "unevaluatedProperties", "unevaluatedItems", NULL};
    bool is_opaque = false;
    for (size_t i = 0; i < l->n && !is_opaque; i++) {
        is_opaque = cJSON_GetObjectItemCaseSensitive(l->p[i], "$smcOpaque") != NULL;
        for (int k = 0; l->neg[i] && opaque[k] && !is_opaque; k++)
            is_opaque = cJSON_GetObjectItemCaseSensitive(l->p[i], opaque[k]) != NULL;
    }
    if (is_opaque)
        cJSON_AddTrueToObject(R, "$smcOpaque");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(R, "properties");
    cJSON *not_evaluated = NULL;
    for (const cJSON *n = props ? props->child : NULL; n; n = n->next) {
        bool evaluated = false;
        for (size_t i = 0; i < l->n && !evaluated; i++) {
            const cJSON *pp = cJSON_GetObjectItemCaseSensitive(l->p[i], "properties");
            const cJSON *ne = cJSON_GetObjectItemCaseSensitive(l->p[i], "$smcNotEvaluated");
            bool listed = false;
            for (const cJSON *x = ne ? ne->child : NULL; x && !listed; x = x->next)
                listed = cJSON_IsString(x) && !strcmp(x->valuestring, n->string);
            evaluated = !l->neg[i] && pp && cJSON_GetObjectItemCaseSensitive(pp, n->string) && !listed;
        }
        if (!evaluated) {
            if (!not_evaluated)
                not_evaluated = cJSON_AddArrayToObject(R, "$smcNotEvaluated");
            cJSON_AddItemToArray(not_evaluated, cJSON_CreateString(n->string));
        }
    }
}

static cJSON *merge_flat(merger *m, const part_list *l)
{
    if (++*m->work > JS_MAX_WORK) {
        smc_fail(m->err, "JSON Schema: allOf at %s expands too much (more than %lu steps)",
                 m->path, JS_MAX_WORK);
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++)
        for (const cJSON *c = l->p[i]->child; c; c = c->next) {
            const char *want = js_value_shape_error(c->string, c);
            if (want) {
                smc_fail(m->err, "JSON Schema: \"%s\" inside allOf at %s must be %s", c->string,
                         m->path, want);
                return NULL;
            }
        }
    {   /* a part's patterns would apply to another part's properties */
        size_t keyed = 0, patterned = 0;
        for (size_t i = 0; i < l->n; i++) {
            bool pat = cJSON_GetObjectItemCaseSensitive(l->p[i], "patternProperties") ||
                       cJSON_GetObjectItemCaseSensitive(l->p[i], "propertyNames");
            patterned += pat;
            keyed += pat || cJSON_GetObjectItemCaseSensitive(l->p[i], "properties") ||
                     cJSON_GetObjectItemCaseSensitive(l->p[i], "additionalProperties");
        }
        if (patterned && keyed > 1)
            return fail_null(m, "patternProperties/propertyNames beside properties or "
                             "additionalProperties of another part cannot be merged");
    }
    cJSON *R = cJSON_CreateObject();
    int mask = T_ALL;
    bool typed = false;
    cJSON *enum_vals = NULL;             /* intersection so far (owned) */
    cJSON *required = NULL;
    /* tightest minimum, exclusiveMinimum, maximum, exclusiveMaximum so far,
     * compared exactly (literal text) */
    const cJSON *bound[4] = {0};
    for (size_t i = 0; i < l->n; i++) {
        const cJSON *p = l->p[i];
        bool ex_min_bool = false, ex_max_bool = false;
        const cJSON *emn = cJSON_GetObjectItemCaseSensitive(p, "exclusiveMinimum");
        const cJSON *emx = cJSON_GetObjectItemCaseSensitive(p, "exclusiveMaximum");
        ex_min_bool = cJSON_IsTrue(emn);
        ex_max_bool = cJSON_IsTrue(emx);
        for (const cJSON *c = p->child; c; c = c->next) {
            const char *k = c->string;
            if (js_is_annotation(k) || !strcmp(k, "$defs") || !strcmp(k, "definitions") ||
                !strcmp(k, "properties") || !strcmp(k, "additionalProperties") ||
                !strcmp(k, "items") || !strcmp(k, "prefixItems") || !strcmp(k, "additionalItems") ||
                !strcmp(k, "unevaluatedProperties") || !strcmp(k, "unevaluatedItems"))
                continue;
            if (!strcmp(k, "type")) {
                int t = js_type_mask(c);
                if (t < 0) {
                    cJSON_Delete(R), cJSON_Delete(enum_vals), cJSON_Delete(required);
                    return fail_null(m, "bad \"type\" value");
                }
                mask &= t;
                typed = true;
            } else if (!strcmp(k, "enum") || !strcmp(k, "const")) {
                cJSON *vals = !strcmp(k, "enum") ? cJSON_Duplicate(c, true) : cJSON_CreateArray();
                if (!strcmp(k, "const"))
                    cJSON_AddItemToArray(vals, cJSON_Duplicate(c, true));
                if (!cJSON_IsArray(vals)) {
                    cJSON_Delete(vals), cJSON_Delete(R), cJSON_Delete(enum_vals), cJSON_Delete(required);
                    return fail_null(m, "\"enum\" is not an array");
                }
                if (!enum_vals) {
                    enum_vals = vals;
                } else {
                    cJSON *keep = cJSON_CreateArray();
                    for (cJSON *v = enum_vals->child; v; v = v->next) {
                        bool found = false;
                        for (cJSON *w = vals->child; w && !found; w = w->next)
                            found = js_values_equal(v, w);
                        if (found)
                            cJSON_AddItemToArray(keep, cJSON_Duplicate(v, true));
                    }
                    cJSON_Delete(enum_vals);
                    cJSON_Delete(vals);
                    enum_vals = keep;
                }
            } else if (!strcmp(k, "required")) {
                if (!required)
                    required = cJSON_CreateArray();
                for (const cJSON *r = c->child; r; r = r->next) {
                    bool dup = false;
                    for (const cJSON *q = required->child; q && !dup; q = q->next)
                        dup = cJSON_Compare(q, r, true);
                    if (!dup)
                        cJSON_AddItemToArray(required, cJSON_Duplicate(r, true));
                }
            } else if (is_number_bound(k) && cJSON_IsNumber(c)) {
                int b = !strcmp(k, "minimum") ? (ex_min_bool ? 1 : 0)
                        : !strcmp(k, "maximum") ? (ex_max_bool ? 3 : 2)
                        : !strcmp(k, "exclusiveMinimum") ? 1 : 3;
                js_dec x, y;
                if (!js_dec_of(c, &x)) {
                    cJSON_Delete(R), cJSON_Delete(enum_vals), cJSON_Delete(required);
                    return fail_null(m, "a bound has too many digits");
                }
                if (!bound[b] || (js_dec_of(bound[b], &y) && js_dec_cmp(&x, &y) * (b < 2 ? 1 : -1) > 0))
                    bound[b] = c;
            } else if (is_number_bound(k) && cJSON_IsBool(c)) {
                continue;             /* draft-4 flags, folded above */
            } else if (!strcmp(k, "minLength") || !strcmp(k, "minItems") ||
                       !strcmp(k, "minProperties") || !strcmp(k, "maxLength") ||
                       !strcmp(k, "maxItems") || !strcmp(k, "maxProperties")) {
                cJSON *old = cJSON_GetObjectItemCaseSensitive(R, k);
                if (!old || !cJSON_IsNumber(c)) {
                    cJSON_DeleteItemFromObjectCaseSensitive(R, k);
                    cJSON_AddItemToObject(R, k, cJSON_Duplicate(c, true));
                } else {
                    bool is_min = k[1] == 'i' && k[2] == 'n';
                    double v = is_min ? fmax(old->valuedouble, c->valuedouble)
                                      : fmin(old->valuedouble, c->valuedouble);
                    js_set_number(old, v);
                }
            } else if (!strcmp(k, "pattern") || !strcmp(k, "format")) {
                cJSON *old = cJSON_GetObjectItemCaseSensitive(R, k);
                if (old && !cJSON_Compare(old, c, true)) {
                    cJSON_Delete(R), cJSON_Delete(enum_vals), cJSON_Delete(required);
                    return fail_null(m, !strcmp(k, "pattern")
                                            ? "two different \"pattern\"s cannot be intersected"
                                            : "two different \"format\"s cannot be intersected");
                }
                if (!old)
                    cJSON_AddItemToObject(R, k, cJSON_Duplicate(c, true));
            } else if (!strcmp(k, "multipleOf")) {
                cJSON *old = cJSON_GetObjectItemCaseSensitive(R, k);
                if (!old) {
                    cJSON_AddItemToObject(R, k, cJSON_Duplicate(c, true));
                } else if (old->valuedouble != c->valuedouble) {
                    double a = old->valuedouble, b = c->valuedouble;
                    if (a != floor(a) || b != floor(b) || a > 1e9 || b > 1e9) {
                        cJSON_Delete(R), cJSON_Delete(enum_vals), cJSON_Delete(required);
                        return fail_null(m, "two different non-integer \"multipleOf\"s");
                    }
                    double x = a, y = b;          /* lcm */
                    while (y > 0) {
                        double t = fmod(x, y);
                        x = y;
                        y = t;
                    }
                    js_set_number(old, a / x * b);
                }
            } else if (!strcmp(k, "uniqueItems")) {
                cJSON *old = cJSON_GetObjectItemCaseSensitive(R, k);
                if (!old)
                    cJSON_AddItemToObject(R, k, cJSON_Duplicate(c, true));
                else if (cJSON_IsTrue(c))
                    cJSON_ReplaceItemInObjectCaseSensitive(R, k, cJSON_CreateTrue());
            } else if (!strcmp(k, "$smcNotIn")) {
                cJSON *old = cJSON_GetObjectItemCaseSensitive(R, k);
                if (!old)
                    old = cJSON_AddArrayToObject(R, k);
                for (const cJSON *v = c->child; v; v = v->next)
                    cJSON_AddItemToArray(old, cJSON_Duplicate(v, false));
            } else {
                /* anything else is kept once (so that compiling reports what is
                 * unsupported); two different values cannot be merged */
                const cJSON *old = cJSON_GetObjectItemCaseSensitive(R, k);
                if (!old) {
                    cJSON_AddItemToObject(R, k, cJSON_Duplicate(c, true));
                } else if (!js_values_equal(old, c)) {
                    smc_fail(m->err, "JSON Schema: allOf at %s: two different \"%.60s\" cannot be "
                             "merged", m->path, k);
                    cJSON_Delete(R), cJSON_Delete(enum_vals), cJSON_Delete(required);
                    return NULL;
                }
            }
        }
    }
    if (typed) {
        if (mask == 0) {
            cJSON_Delete(R), cJSON_Delete(enum_vals), cJSON_Delete(required);
            return cJSON_CreateFalse();
        }
        cJSON_AddItemToObject(R, "type", js_type_json(mask));
    }
    if (enum_vals) {
        /* values of other types, or excluded by a complement, are dropped */
        const cJSON *not_in = cJSON_GetObjectItemCaseSensitive(R, "$smcNotIn");
        for (cJSON *v = enum_vals->child; v;) {
            cJSON *next = v->next;
            bool drop = typed && !(js_value_types(v) & mask);
            for (const cJSON *x = not_in ? not_in->child : NULL; x && !drop; x = x->next)
                drop = js_values_equal(v, x);
            if (drop)
                cJSON_Delete(cJSON_DetachItemViaPointer(enum_vals, v));
            v = next;
        }
        if (!enum_vals->child) {
            cJSON_Delete(R), cJSON_Delete(enum_vals), cJSON_Delete(required);
            return cJSON_CreateFalse();
        }
        cJSON_AddItemToObject(R, "enum", enum_vals);
    }
    if (required)
        cJSON_AddItemToObject(R, "required", required);
    static const char *const bound_names[4] = {"minimum", "exclusiveMinimum", "maximum",
                                               "exclusiveMaximum"};
    for (int b = 0; b < 4; b++)
        if (bound[b])
            cJSON_AddItemToObject(R, bound_names[b], cJSON_Duplicate(bound[b], false));

    /* properties: union in order of first appearance */
    cJSON *props = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const cJSON *pp = cJSON_GetObjectItemCaseSensitive(l->p[i], "properties");
        for (const cJSON *c = pp ? pp->child : NULL; c; c = c->next) {
            if (props && cJSON_GetObjectItemCaseSensitive(props, c->string))
                continue;
            cJSON *items[64];
            size_t n = 0;
            bool is_false = false;
            for (size_t j = 0; j < l->n; j++) {
                const cJSON *pj = cJSON_GetObjectItemCaseSensitive(l->p[j], "properties");
                const cJSON *s = pj ? cJSON_GetObjectItemCaseSensitive(pj, c->string) : NULL;
                if (!s)
                    s = cJSON_GetObjectItemCaseSensitive(l->p[j], "additionalProperties");
                if (!s || cJSON_IsTrue(s))
                    continue;
                if (cJSON_IsFalse(s))
                    is_false = true;
                else if (n < 64)
                    items[n++] = cJSON_Duplicate(s, true);
            }
            if (!props)
                props = cJSON_AddObjectToObject(R, "properties");
            if (is_false) {
                for (size_t j = 0; j < n; j++)
                    cJSON_Delete(items[j]);
                cJSON_AddItemToObject(props, c->string, cJSON_CreateFalse());
            } else if (n == 0) {
                cJSON_AddItemToObject(props, c->string, cJSON_CreateTrue());
            } else {
                cJSON_AddItemToObject(props, c->string, make_all_of(items, n));
            }
        }
    }
    {
        cJSON *items[64];
        size_t n = 0;
        bool is_false = false;
        bool any_additional = false;
        for (size_t i = 0; i < l->n; i++) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(l->p[i], "additionalProperties");
            any_additional |= s != NULL;
            if (!s || cJSON_IsTrue(s))
                continue;
            if (cJSON_IsFalse(s))
                is_false = true;
            else if (n < 64)
                items[n++] = cJSON_Duplicate(s, true);
        }
        if (is_false) {
            for (size_t j = 0; j < n; j++)
                cJSON_Delete(items[j]);
            cJSON_AddItemToObject(R, "additionalProperties", cJSON_CreateFalse());
        } else if (n) {
            cJSON_AddItemToObject(R, "additionalProperties", make_all_of(items, n));
        } else if (any_additional) {    /* true: no constraint, but every property evaluated */
            cJSON_AddItemToObject(R, "additionalProperties", cJSON_CreateTrue());
        }
    }

    if (merge_items(R, l) < 0) {
        cJSON_Delete(R);
        return fail_null(m, "too many parts with items to merge");
    }
    mark_evaluated(R, l);
    return R;
}

cJSON *js_merge(const cJSON *root, const cJSON *const *parts, size_t n, const char *path,
                unsigned long *work, smc_error *err)
{
    merger m = {.root = root, .path = path, .err = err, .keep = cJSON_CreateArray(), .work = work};
    if (!m.keep) {
        smc_fail(err, "out of memory");
        return NULL;
    }
    part_list l = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = flatten(&m, &l, parts[i], false);
    cJSON *out = NULL;
    if (rc == 1)
        out = cJSON_CreateFalse();
    else if (rc == 0)
        out = merge_list(&m, &l);
    parts_free(&l);
    cJSON_Delete(m.keep);
    return out;
}
