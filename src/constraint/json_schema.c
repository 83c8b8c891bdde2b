/* json_schema.c — JSON Schema → GBNF (smc_json_schema_to_gbnf).
 *
 * Walks a schema (cJSON) and writes llama.cpp-style GBNF rules. Policy:
 * - Whitespace: none before or after the root value; between tokens (after
 *   { [ , : and before } ] ,) at most one `ws` = "" | " " | "\n" followed by
 *   up to 20 spaces/tabs, so every document has one parse. With
 *   SMC_JSON_SCHEMA_COMPACT no whitespace at all.
 * - Objects: properties in the schema's order, required ones present,
 *   optional ones omissible; extra keys (additionalProperties, default true,
 *   or false with SMC_JSON_SCHEMA_NO_EXTRA_PROPERTIES) come after them, are
 *   written without escapes, differ from every declared name, and are not
 *   checked for uniqueness among themselves.
 * - Numbers: at most 16 integer digits, 16 fraction digits, 2 exponent
 *   digits; integers are written without fraction or exponent (and never
 *   as -0); numbers with bounds (integer-valued only) have no exponent. Integer
 *   minimum/maximum are exact; unbounded sides stop at 16 digits.
 * - Strings: any JSON string character; \u escapes of surrogates only as
 *   valid pairs, and never \u0000. minLength/maxLength count code points.
 * - enum/const: the values written compactly (with `ws` inside containers),
 *   objects with their keys in the given order; other keywords beside them
 *   filter the values (through the grammar of the schema without them).
 * - oneOf is compiled as anyOf when its alternatives provably exclude each
 *   other (json_schema_disjoint.c), else refused.
 * - unevaluatedProperties/unevaluatedItems: where the evaluated properties
 *   and items are static once allOf/$ref are merged and anyOf distributed
 *   (json_schema_merge.c); refused beside complements and contains.
 * Anything not supported is an error naming the keyword and JSON pointer. */
#include "constraint/json_schema_ctx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* ---- dispatch ---- */

static char *compile_ref(js_ctx *c, const cJSON *s, const char *path)
{
    const cJSON *ref = js_get(s, "$ref");
    if (!cJSON_IsString(ref)) {
        smc_fail(c->err, "JSON Schema: $ref at %s must be a string", path);
        return NULL;
    }
    const cJSON *t = js_resolve_ref(c->root, ref->valuestring);
    if (!t) {
        smc_fail(c->err, "JSON Schema: cannot resolve $ref \"%.200s\" at %s (only references "
                 "within the document: #/$defs/x, #anchor, or after the root's $id)", ref->valuestring, path);
        return NULL;
    }
    for (size_t i = 0; i < c->n_memo; i++)
        if (c->memo[i].node == t)
            return js_strdup(c->memo[i].name);
    if (c->n_memo == c->cap_memo) {
        size_t cap = c->cap_memo ? c->cap_memo * 2 : 16;
        js_memo *m = realloc(c->memo, cap * sizeof *m);
        if (!m) {
            smc_fail(c->err, "out of memory");
            return NULL;
        }
        c->memo = m;
        c->cap_memo = cap;
    }
    const char *hint = strrchr(ref->valuestring, '/');
    char *name = js_new_name(c, "ref", hint ? hint + 1 : "root");
    if (!name) {
        smc_fail(c->err, "out of memory");
        return NULL;
    }
    c->memo[c->n_memo].node = t;
    c->memo[c->n_memo].name = name;
    c->n_memo++;
    char *body = js_compile(c, t, ref->valuestring);
    if (!body)
        return NULL;
    if (js_add_rule(c, js_strdup(name), body) < 0)
        return NULL;
    return js_strdup(name);
}

/* Keeps a merged schema alive for the rest of the conversion. */
static const cJSON *own(js_ctx *c, cJSON *merged)
{
    cJSON_AddItemToArray(cJSON_GetObjectItem(c->owned, "keep"), merged);
    return merged;
}

/* Appends alternative e (consumed) to "(a | b ..." in o; n counts them. On
 * e == NULL (its compile failed) frees o and returns false. */
static bool put_alternative(js_buf *o, int *n, char *e)
{
    if (!e) {
        js_buf_free(o);
        return false;
    }
    if ((*n)++)
        js_put(o, " | ");
    js_put(o, e);
    free(e);
    return true;
}

static char *compile_alternatives(js_ctx *c, const cJSON *alts, const char *kw, const char *path)
{
    if (!cJSON_IsArray(alts) || !alts->child) {
        smc_fail(c->err, "JSON Schema: \"%s\" at %s must be a non-empty array", kw, path);
        return NULL;
    }
    js_buf o = {0};
    int n = 0, i = 0;
    js_put(&o, "(");
    for (const cJSON *a = alts->child; a; a = a->next, i++) {
        if (cJSON_IsFalse(a))
            continue;
        char *sub = js_path_index(path, kw, i);
        char *e = sub ? js_compile(c, a, sub) : NULL;
        free(sub);
        if (!put_alternative(&o, &n, e))
            return NULL;
    }
    js_put(&o, ")");
    if (n == 0) {
        js_buf_free(&o);
        smc_fail(c->err, "JSON Schema: every alternative of \"%s\" at %s is false", kw, path);
        return NULL;
    }
    return js_take(&o);
}

static char *compile_typed(js_ctx *c, const cJSON *s, const char *path)
{
    int types = js_parse_types(c, js_get(s, "type"), path);
    if (types < 0)
        return NULL;
    if (js_get(s, "enum") || js_get(s, "const"))
        return js_compile_enum(c, s, types, path);
    if (!js_has_other_keywords(s, NULL, NULL))
        return js_strdup(js_prim(c, P_VALUE));
    js_buf o = {0};
    int n = 0;
    js_put(&o, "(");
    static const int order[] = {T_OBJECT, T_ARRAY, T_STRING, T_NUMBER, T_INTEGER, T_BOOL, T_NULL};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int t = order[i];
        if (!(types & t))
            continue;
        if (t == T_INTEGER && (types & T_NUMBER))
            continue;                   /* number already covers integers */
        char *e = NULL;
        switch (t) {
        case T_OBJECT: e = js_compile_object(c, s, path); break;
        case T_ARRAY: e = js_compile_array(c, s, path); break;
        case T_STRING: e = js_compile_string(c, s, path); break;
        case T_NUMBER: e = js_compile_number(c, s, path); break;
        case T_INTEGER: e = js_compile_integer(c, s, path); break;
        case T_BOOL: e = js_strdup(js_prim(c, P_BOOLEAN)); break;
        case T_NULL: e = js_strdup(js_prim(c, P_NULL)); break;
        }
        if (!put_alternative(&o, &n, e))
            return NULL;
    }
    js_put(&o, ")");
    return js_take(&o);
}

static char *compile_inner(js_ctx *c, const cJSON *s, const char *path);

/* unevaluatedProperties / unevaluatedItems: the schema's own allOf/$ref
 * merged and anyOf/oneOf distributed (js_merge closes a schema that has
 * them, json_schema_merge.c), so each alternative's evaluated properties
 * and items are static. */
static char *compile_unevaluated(js_ctx *c, const cJSON *s, const char *path)
{
    const cJSON *parts[1] = {s};
    cJSON *m = js_merge(c->root, parts, 1, path, c->work, c->err);
    if (!m)
        return NULL;
    own(c, m);
    if (cJSON_IsFalse(m)) {
        smc_fail(c->err, "JSON Schema: the combination at %s matches nothing", path);
        return NULL;
    }
    const cJSON *alts = js_get(m, "anyOf");
    if (alts && !js_has_other_keywords(m, "anyOf", NULL))
        return compile_alternatives(c, alts, "anyOf", path);
    return js_compile(c, m, path);
}

static char *compile_inner(js_ctx *c, const cJSON *s, const char *path)
{
    if (cJSON_IsTrue(s))
        return js_strdup(js_prim(c, P_VALUE));
    if (cJSON_IsFalse(s)) {
        smc_fail(c->err, "JSON Schema: schema false at %s matches nothing", path);
        return NULL;
    }
    if (!cJSON_IsObject(s)) {
        smc_fail(c->err, "JSON Schema: the schema at %s is not an object or boolean", path);
        return NULL;
    }
    cJSON *rewritten = js_rewrite_schema(c->root, s);
    if (rewritten)
        s = own(c, rewritten);
    if (js_check_keywords(c, s, path) < 0)
        return NULL;
    if (js_get(s, "unevaluatedProperties") || js_get(s, "unevaluatedItems"))
        return compile_unevaluated(c, s, path);
    const cJSON *ref = js_get(s, "$ref"), *all = js_get(s, "allOf");
    const cJSON *any = js_get(s, "anyOf"), *one = js_get(s, "oneOf");
    if (ref && !all && !any && !one && !js_has_other_keywords(s, "$ref", NULL))
        return compile_ref(c, s, path);
    if (!ref && !all && any && !one && !js_has_other_keywords(s, "anyOf", NULL))
        return compile_alternatives(c, any, "anyOf", path);
    if (one && cJSON_IsArray(one) && js_oneof_check(c->root, one, path, c->err) < 0)
        return NULL;
    if (!ref && !all && !any && one && !js_has_other_keywords(s, "oneOf", NULL))
        return compile_alternatives(c, one, "oneOf", path);
    if (ref || all || any || one) {
        const cJSON *parts[1] = {s};
        cJSON *m = js_merge(c->root, parts, 1, path, c->work, c->err);
        if (!m)
            return NULL;
        own(c, m);
        if (cJSON_IsFalse(m)) {
            smc_fail(c->err, "JSON Schema: the combination at %s matches nothing", path);
            return NULL;
        }
        const cJSON *alts = js_get(m, "anyOf");
        if (alts && !js_has_other_keywords(m, "anyOf", NULL))
            return compile_alternatives(c, alts, "anyOf", path);
        return js_compile(c, m, path);
    }
    return compile_typed(c, s, path);
}

char *js_compile(js_ctx *c, const cJSON *s, const char *path)
{
    if (++*c->work > JS_MAX_WORK) {
        smc_fail(c->err, "JSON Schema: the schema expands too much (more than %lu subschemas "
                 "after resolving allOf/$ref/anyOf) at %s", JS_MAX_WORK, path);
        return NULL;
    }
    if (++c->depth > 200) {
        smc_fail(c->err, "JSON Schema: nesting too deep at %s", path);
        c->depth--;
        return NULL;
    }
    char *r = compile_inner(c, s, path);
    c->depth--;
    return r;
}

/* ---- output ---- */

static void emit_prims(js_ctx *c, js_buf *o)
{
    bool *u = c->used;
    const char *W = c->W;
    if (u[P_VALUE])
        u[P_OBJECT] = u[P_ARRAY] = u[P_STRING] = u[P_NUMBER] = u[P_BOOLEAN] = u[P_NULL] = true;
    if (u[P_OBJECT] || u[P_ARRAY])
        u[P_VALUE] = u[P_STRING] = true, u[P_WS] |= W[0] != 0;
    if (u[P_VALUE])
        u[P_OBJECT] = u[P_ARRAY] = u[P_STRING] = u[P_NUMBER] = u[P_BOOLEAN] = u[P_NULL] = true;
    if (u[P_STRING])
        u[P_CHAR] = true;
    if (u[P_CHAR])
        u[P_UESC] = true;
    if (u[P_UESC])
        u[P_HEX] = true;
    if (u[P_VALUE])
        js_put(o, "value ::= object | array | string | number | boolean | null\n");
    if (u[P_OBJECT])
        js_printf(o, "object ::= \"{\" %s ( string %s \":\" %s value %s ( \",\" %s string %s \":\" %s "
                  "value %s )* )? \"}\"\n", W, W, W, W, W, W, W, W);
    if (u[P_ARRAY])
        js_printf(o, "array ::= \"[\" %s ( value %s ( \",\" %s value %s )* )? \"]\"\n", W, W, W, W);
    if (u[P_STRING])
        js_put(o, "string ::= \"\\\"\" char* \"\\\"\"\n");
    if (u[P_CHAR])
        js_put(o, "char ::= [^\"\\\\\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" uesc )\n");
    if (u[P_UESC])
        js_put(o, "uesc ::= \"0\" ( [1-9a-fA-F] hex hex | \"0\" ( [1-9a-fA-F] hex | \"0\" [1-9a-fA-F] ) )"
                  " | [1-9a-cA-Ce-fE-F] hex hex hex | [dD] [0-7] hex hex"
                  " | [dD] [89abAB] hex hex \"\\\\u\" [dD] [c-fC-F] hex hex\n");
    if (u[P_HEX])
        js_put(o, "hex ::= [0-9a-fA-F]\n");
    if (u[P_NUMBER])
        js_put(o, "number ::= \"-\"? ( \"0\" | [1-9] [0-9]{0,15} ) ( \".\" [0-9]{1,16} )? "
                  "( [eE] [+\\-]? [0-9]{1,2} )?\n");
    if (u[P_INTEGER])
        js_put(o, "integer ::= \"0\" | \"-\"? [1-9] [0-9]{0,15}\n");
    if (u[P_BOOLEAN])
        js_put(o, "boolean ::= \"true\" | \"false\"\n");
    if (u[P_NULL])
        js_put(o, "null ::= \"null\"\n");
    if (u[P_KCHAR])
        js_put(o, "kchar ::= [^\"\\\\\\x00-\\x1F]\n");
    if (u[P_WS] && W[0])
        js_put(o, "ws ::= ( \" \" | \"\\n\" [ \\t]{0,20} )?\n");
}

int js_convert(const cJSON *root, const cJSON *top_schema, const char *top_path, unsigned flags,
               int depth, unsigned long *work, js_buf *warn, char **gbnf_out, smc_error *err)
{
    bool flexible = (flags & SMC_JSON_SCHEMA_FLEXIBLE_WS) && !(flags & SMC_JSON_SCHEMA_COMPACT);
    js_ctx c = {.root = root, .err = err, .W = flexible ? "ws" : "", .flags = flags, .depth = depth,
                .warn = warn};
    c.work = work ? work : &c.own_work;
    c.owned = cJSON_CreateObject();
    int rc = -1;
    bool ok = c.owned && cJSON_AddTrueToObject(c.owned, "t") && cJSON_AddArrayToObject(c.owned, "keep");
    if (ok && top_schema == root) {
        /* "$ref": "#" refers to the root rule itself */
        c.memo = malloc(sizeof *c.memo);
        ok = c.memo != NULL;
        if (ok) {
            c.cap_memo = c.n_memo = 1;
            c.memo[0].node = root;
            c.memo[0].name = js_strdup("root");
            ok = c.memo[0].name != NULL;
        }
    }
    if (ok) {
        char *top = js_compile(&c, top_schema, top_path);
        if (top) {
            js_buf o = {0};
            js_printf(&o, "root ::= %s\n", top);
            free(top);
            for (size_t i = 0; i < c.n_rules; i++)
                js_printf(&o, "%s ::= %s\n", c.rules[i].name, c.rules[i].body);
            emit_prims(&c, &o);
            *gbnf_out = js_take(&o);
            rc = *gbnf_out ? 0 : smc_fail(err, "out of memory");
        }
    } else {
        smc_fail(err, "out of memory");
    }
    for (size_t i = 0; i < c.n_rules; i++) {
        free(c.rules[i].name);
        free(c.rules[i].body);
    }
    for (size_t i = 0; i < c.n_memo; i++)
        free(c.memo[i].name);
    free(c.rules);
    free(c.memo);
    cJSON_Delete(c.owned);
    return rc;
}

int smc_json_schema_convert(const char *schema_json, size_t len, unsigned flags, char **gbnf_out,
                            char **warnings_out, smc_error *err)
{
    if (warnings_out)
        *warnings_out = NULL;
    if (!schema_json || !gbnf_out)
        return smc_fail(err, "JSON Schema: NULL argument");
    *gbnf_out = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(schema_json, len, &end, false);
    if (!root) {
        size_t off = end ? (size_t)(end - schema_json) : 0;
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
            if (schema_json[i] == '\n')
                line++, col = 1;
            else
                col++;
        }
        return smc_fail(err, "JSON Schema: invalid JSON at %zu:%zu", line, col);
    }
    for (const char *p = end; p && p < schema_json + len; p++)
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != 0) {
            cJSON_Delete(root);
            return smc_fail(err, "JSON Schema: trailing text after the schema");
        }
    if (js_attach_literals(root, schema_json, (size_t)(end - schema_json)) < 0) {
        cJSON_Delete(root);
        return smc_fail(err, "JSON Schema: out of memory reading numbers");
    }
    js_normalize(root);
    if (js_check_ref_bases(root, err) < 0) {
        cJSON_Delete(root);
        return -1;
    }
    js_buf warn = {0};
    int rc = js_convert(root, root, "#", flags, 0, NULL, &warn, gbnf_out, err);
    cJSON_Delete(root);
    if (rc == 0 && warnings_out && warn.len)
        *warnings_out = js_take(&warn);
    js_buf_free(&warn);
    return rc;
}

int smc_json_schema_to_gbnf_ex(const char *schema_json, size_t len, unsigned flags,
                               char **gbnf_out, smc_error *err)
{
    return smc_json_schema_convert(schema_json, len, flags, gbnf_out, NULL, err);
}

int smc_json_schema_to_gbnf(const char *schema_json, size_t len, char **gbnf_out, smc_error *err)
{
    return smc_json_schema_to_gbnf_ex(schema_json, len, 0, gbnf_out, err);
}
