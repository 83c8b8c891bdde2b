/* json_schema_scalar.c — JSON Schema enum/const, strings (lengths,
 * patterns, formats), integers (exact ranges) and numbers → GBNF. */
#include "constraint/json_schema_ctx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* ---- constants (enum / const) ---- */

static int const_expr(js_ctx *c, js_buf *o, const cJSON *v, const char *path)
{
    if (cJSON_IsNull(v)) {
        js_put(o, "\"null\"");
    } else if (cJSON_IsTrue(v)) {
        js_put(o, "\"true\"");
    } else if (cJSON_IsFalse(v)) {
        js_put(o, "\"false\"");
    } else if (cJSON_IsNumber(v)) {
        js_dec d;
        if (!js_dec_of(v, &d))
            return smc_fail(c->err, "JSON Schema: a number in enum/const at %s has more than %d "
                            "significant digits", path, JS_DEC_DIGITS);
        js_buf t = {0};
        js_dec_text(&d, &t);
        js_gbnf_literal(o, t.p, t.len);
        js_buf_free(&t);
    } else if (cJSON_IsString(v)) {
        js_buf j = {0};
        js_json_string(&j, v->valuestring);
        int rc = js_gbnf_literal(o, j.p, j.len);
        js_buf_free(&j);
        if (rc < 0)
            return smc_fail(c->err, "JSON Schema: invalid UTF-8 in a string at %s", path);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        js_printf(o, "( \"%s\" %s ", obj ? "{" : "[", c->W);
        for (const cJSON *e = v->child; e; e = e->next) {
            if (e != v->child)
                js_printf(o, " \",\" %s ", c->W);
            if (obj) {
                js_buf j = {0};
                js_json_string(&j, e->string);
                int rc = js_gbnf_literal(o, j.p, j.len);
                js_buf_free(&j);
                if (rc < 0)
                    return smc_fail(c->err, "JSON Schema: invalid UTF-8 in a key at %s", path);
                js_printf(o, " %s \":\" %s ", c->W, c->W);
            }
            if (const_expr(c, o, e, path) < 0)
                return -1;
            js_printf(o, " %s", c->W);
        }
        js_printf(o, " \"%s\" )", obj ? "}" : "]");
    } else {
        return smc_fail(c->err, "JSON Schema: bad value in enum/const at %s", path);
    }
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        c->used[P_WS] |= c->W[0] != 0;
    return 0;
}

int js_value_types(const cJSON *v)
{
    if (cJSON_IsNull(v)) return T_NULL;
    if (cJSON_IsBool(v)) return T_BOOL;
    if (cJSON_IsObject(v)) return T_OBJECT;
    if (cJSON_IsArray(v)) return T_ARRAY;
    if (cJSON_IsString(v)) return T_STRING;
    if (cJSON_IsNumber(v)) {
        js_dec d;
        return js_dec_of(v, &d) && js_dec_is_int(&d) ? (T_NUMBER | T_INTEGER) : T_NUMBER;
    }
    return 0;
}

/* A grammar (compact) for s without enum/const, to filter the values by the
 * other keywords; NULL with err filled on failure. */
static smc_grammar *rest_grammar(js_ctx *c, const cJSON *s, const char *path)
{
    cJSON *rest = cJSON_Duplicate(s, true);
    if (!rest) {
        smc_fail(c->err, "out of memory");
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(rest, "enum");
    cJSON_DeleteItemFromObjectCaseSensitive(rest, "const");
    char *gbnf = NULL;
    smc_grammar *g = NULL;
    int rc = js_convert(c->root, rest, path, c->flags & ~SMC_JSON_SCHEMA_FLEXIBLE_WS, c->depth + 1,
                        c->work, c->warn, &gbnf, c->err);
    if (rc == 0 && smc_grammar_from_gbnf(gbnf, strlen(gbnf), "root", &g, c->err) < 0)
        rc = -1;
    if (rc < 0)
        smc_fail_context(c->err, "JSON Schema: the keywords beside enum/const at %s", path);
    free(gbnf);
    cJSON_Delete(rest);
    return rc < 0 ? NULL : g;
}

char *js_compile_enum(js_ctx *c, const cJSON *s, int types, const char *path)
{
    /* other keywords filter the values: each value's compact text is
     * classified by the grammar of the schema without enum/const */
    smc_grammar *filter = NULL;
    for (const cJSON *k = s->child; k; k = k->next) {
        const char *key = k->string;
        if (js_is_annotation(key) || js_is_unknown(key) || !strcmp(key, "type") || !strcmp(key, "enum") ||
            !strcmp(key, "const") || !strcmp(key, "$defs") || !strcmp(key, "definitions"))
            continue;
        filter = rest_grammar(c, s, path);
        if (!filter)
            return NULL;
        break;
    }
    const cJSON *e = js_get(s, "enum"), *k = js_get(s, "const");
    if (e && (!cJSON_IsArray(e) || !e->child)) {
        smc_fail(c->err, "JSON Schema: \"enum\" at %s must be a non-empty array", path);
        smc_grammar_free(filter);
        return NULL;
    }
    js_buf o = {0};
    int n = 0;
    js_put(&o, "(");
    const cJSON *first = e ? e->child : k;
    for (const cJSON *v = first; v; v = e ? v->next : NULL) {
        if (e && k && !js_values_equal(v, k))
            continue;
        if (!(js_value_types(v) & types))
            continue;
        if (filter) {
            js_buf t = {0};
            bool keep = js_value_text(&t, v) == 0 && !t.oom &&
                        smc_grammar_classify(filter, t.p, t.len) == SMC_MATCH_COMPLETE;
            js_buf_free(&t);
            if (!keep)
                continue;
        }
        if (n++)
            js_put(&o, " | ");
        if (const_expr(c, &o, v, path) < 0) {
            js_buf_free(&o);
            smc_grammar_free(filter);
            return NULL;
        }
    }
    smc_grammar_free(filter);
    js_put(&o, ")");
    if (n == 0) {
        js_buf_free(&o);
        smc_fail(c->err, "JSON Schema: no \"enum\"/\"const\" value at %s satisfies the schema", path);
        return NULL;
    }
    return js_take(&o);
}

/* ---- strings ---- */

/* Strings other than the listed ones (a complement made by
 * json_schema_negate.c): written without escapes, a sound subset. */
static char *not_in_strings(js_ctx *c, const cJSON *s, bool other, const char *path)
{
    const cJSON *set = js_get(s, "$smcNotIn");
    if (other) {
        smc_fail(c->err, "JSON Schema: the complement of a string \"const\"/\"enum\" at %s together "
                 "with pattern, format or lengths is not supported", path);
        return NULL;
    }
    size_t n = (size_t)cJSON_GetArraySize(set), u = 0;
    const char **names = calloc(n + 1, sizeof *names);
    if (!names) {
        smc_fail(c->err, "out of memory");
        return NULL;
    }
    for (const cJSON *v = set->child; v; v = v->next) {
        bool plain = cJSON_IsString(v);
        for (const unsigned char *p = plain ? (const unsigned char *)v->valuestring : NULL; p && *p; p++)
            plain &= *p >= 0x20 && *p != '"' && *p != '\\';
        if (plain)               /* others cannot be spelt without escapes anyway */
            names[u++] = v->valuestring;
    }
    qsort(names, u, sizeof *names, js_cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < u; i++)
        if (k == 0 || strcmp(names[k - 1], names[i]))
            names[k++] = names[i];
    js_buf o = {0};
    js_put(&o, "( \"\\\"\" ");
    js_not_strings(c, &o, names, k, 0);
    js_put(&o, " \"\\\"\" )");
    free(names);
    return js_take(&o);
}

char *js_compile_string(js_ctx *c, const cJSON *s, const char *path)
{
    long long mn = js_get_count(c, s, "minLength", 0, path);
    long long mx = js_get_count(c, s, "maxLength", -1, path);
    if (mn == -2 || mx == -2)
        return NULL;
    const cJSON *pat = js_get(s, "pattern"), *fmt = js_get(s, "format");
    bool lengths = js_get(s, "minLength") || js_get(s, "maxLength");
    js_buf o = {0};
    if (js_get(s, "$smcNotIn"))
        return not_in_strings(c, s, pat || fmt || lengths, path);
    if (fmt) {
        if (!cJSON_IsString(fmt)) {
            smc_fail(c->err, "JSON Schema: \"format\" at %s must be a string", path);
            return NULL;
        }
        const char *e = js_format_expr(fmt->valuestring);
        if (!e) {
            smc_fail(c->err, "JSON Schema: unsupported format \"%.100s\" at %s (supported: date, uri, "
                     "time, date-time, uuid, email, ipv4, hostname)", fmt->valuestring, path);
            return NULL;
        }
        if (pat || lengths) {
            smc_fail(c->err, "JSON Schema: \"format\" together with \"%s\" at %s is not supported",
                     pat ? "pattern" : "minLength/maxLength", path);
            return NULL;
        }
        js_printf(&o, "( \"\\\"\" %s \"\\\"\" )", e);
        return js_take(&o);
    }
    if (pat) {
        if (!cJSON_IsString(pat)) {
            smc_fail(c->err, "JSON Schema: \"pattern\" at %s must be a string", path);
            return NULL;
        }
        if (lengths) {
            smc_fail(c->err, "JSON Schema: \"pattern\" together with minLength/maxLength at %s is "
                     "not supported", path);
            return NULL;
        }
        js_buf body = {0};
        if (js_regex_to_gbnf(pat->valuestring, &body, c->err) < 0) {
            js_buf_free(&body);
            smc_fail_context(c->err, "JSON Schema: at %s", path);
            return NULL;
        }
        js_prim(c, P_CHAR);
        js_printf(&o, "( \"\\\"\" %s \"\\\"\" )", body.p ? body.p : "");
        js_buf_free(&body);
        return js_take(&o);
    }
    if (mx >= 0 && mn > mx) {
        smc_fail(c->err, "JSON Schema: minLength > maxLength at %s", path);
        return NULL;
    }
    if (mn == 0 && mx < 0)
        return js_strdup(js_prim(c, P_STRING));
    const char *ch = js_prim(c, P_CHAR);
    if (mx < 0)
        js_printf(&o, "( \"\\\"\" %s{%lld,} \"\\\"\" )", ch, mn);
    else if (mx == 0)
        js_put(&o, "( \"\\\"\\\"\" )");
    else if (mn == mx)
        js_printf(&o, "( \"\\\"\" %s{%lld} \"\\\"\" )", ch, mn);
    else
        js_printf(&o, "( \"\\\"\" %s{%lld,%lld} \"\\\"\" )", ch, mn, mx);
    return js_take(&o);
}

/* ---- numbers ---- */

#define INT_DEFAULT_BOUND 9999999999999999LL     /* 16 digits */

static bool num_kw(const cJSON *s, const char *k, double *v)
{
    const cJSON *x = js_get(s, k);
    if (x && cJSON_IsNumber(x)) {
        *v = x->valuedouble;
        return true;
    }
    return false;
}

/* multipleOf m on integers: within two bounds, the multiples listed (at most
 * MOF_MAX_LIST); otherwise (no bound, or only a lower bound in 0..m) a
 * divisibility automaton over the decimal digits, one rule per remainder. */
#define MOF_MAX_LIST 2000
#define MOF_MAX_DFA 100

static char *multiple_of(js_ctx *c, double m, bool bounded, double lo, double hi, const char *path)
{
    if (m != floor(m) || m < 1 || m > 1e9) {
        smc_fail(c->err, "JSON Schema: \"multipleOf\" %g at %s: only positive integers are supported "
                 "on integers", m, path);
        return NULL;
    }
    int64_t k = (int64_t)m;
    js_buf o = {0};
    if (bounded && isfinite(lo) && isfinite(hi)) {
        if (fabs(lo) > 9e15 || fabs(hi) > 9e15) {
            smc_fail(c->err, "JSON Schema: integer bound at %s is out of the supported range", path);
            return NULL;
        }
        int64_t first = (int64_t)ceil(lo / m), last = (int64_t)floor(hi / m);
        if (first > last) {
            smc_fail(c->err, "JSON Schema: no integer satisfies the bounds and multipleOf at %s", path);
            return NULL;
        }
        if (last - first >= MOF_MAX_LIST) {
            smc_fail(c->err, "JSON Schema: \"multipleOf\" at %s: more than %d multiples within the "
                     "bounds (not supported)", path, MOF_MAX_LIST);
            return NULL;
        }
        js_put(&o, "(");
        for (int64_t q = first; q <= last; q++)
            js_printf(&o, "%s\"%lld\"", q == first ? "" : " | ", (long long)(q * k));
        js_put(&o, ")");
        return js_take(&o);
    }
    /* no upper bound: a lower bound of at most 0 (or none) or in 1..m */
    bool allow_neg = !bounded || !isfinite(lo) ? true : false;
    bool allow_zero = true;
    if (bounded) {
        if (isfinite(hi) || (isfinite(lo) && (lo < 0 || lo > m))) {
            smc_fail(c->err, "JSON Schema: \"multipleOf\" at %s with these bounds is not supported "
                     "(supported: both bounds, no bounds, or only a minimum in 0..multipleOf)", path);
            return NULL;
        }
        allow_neg = false;
        allow_zero = lo <= 0;
    }
    if (k > MOF_MAX_DFA) {
        smc_fail(c->err, "JSON Schema: \"multipleOf\" %lld at %s: above %d only with both bounds",
                 (long long)k, path, MOF_MAX_DFA);
        return NULL;
    }
    char **names = calloc((size_t)k, sizeof *names);
    if (!names) {
        smc_fail(c->err, "out of memory");
        return NULL;
    }
    bool ok = true;
    for (int64_t r = 0; r < k && ok; r++)
        ok = (names[r] = js_new_name(c, "mod", NULL)) != NULL;
    for (int64_t r = 0; r < k && ok; r++) {
        js_buf b = {0};
        js_put(&b, "(");
        for (int d = 0; d <= 9; d++)
            js_printf(&b, "%s\"%d\" %s", d ? " | " : "", d, names[(10 * r + d) % k]);
        js_put(&b, r == 0 ? ")?" : ")");
        ok = js_add_rule(c, js_strdup(names[r]), js_take(&b)) == 0;
    }
    if (ok) {
        js_put(&o, "(");
        if (allow_zero)
            js_put(&o, "\"0\" | ");
        if (allow_neg)
            js_put(&o, "\"-\"? ");
        js_put(&o, "(");
        for (int d = 1; d <= 9; d++)
            js_printf(&o, "%s\"%d\" %s", d > 1 ? " | " : "", d, names[d % k]);
        js_put(&o, "))");
    }
    for (int64_t r = 0; r < k; r++)
        free(names[r]);
    free(names);
    if (!ok) {
        js_buf_free(&o);
        return NULL;
    }
    return js_take(&o);
}

/* An integer bound from keyword k: the least (is_lo) or greatest integer
 * allowed by it, exactly (from the literal text), tightening *out (*has
 * tells whether set). 0 fine, -1 error. */
static int int_bound(js_ctx *c, const cJSON *s, const char *k, bool excl, bool is_lo, bool *has,
                     int64_t *out, const char *path)
{
    const cJSON *x = js_get(s, k);
    if (!x || !cJSON_IsNumber(x))
        return 0;
    js_dec d;
    int64_t r;
    if (!js_dec_of(x, &d) || !js_dec_round_i64(&d, is_lo, &r) || r <= -INT64_MAX || r >= INT64_MAX) {
        smc_fail(c->err, "JSON Schema: \"%s\" at %s is out of the supported range (|x| < 9.2e18)",
                 k, path);
        return -1;
    }
    if (excl && js_dec_is_int(&d))
        r += is_lo ? 1 : -1;
    if (!*has || (is_lo ? r > *out : r < *out))
        *out = r;
    *has = true;
    return 0;
}

char *js_compile_integer(js_ctx *c, const cJSON *s, const char *path)
{
    int64_t ilo = 0, ihi = 0;
    bool has_lo = false, has_hi = false;
    bool ex_min_bool = cJSON_IsTrue(js_get(s, "exclusiveMinimum"));
    bool ex_max_bool = cJSON_IsTrue(js_get(s, "exclusiveMaximum"));
    if (int_bound(c, s, "minimum", ex_min_bool, true, &has_lo, &ilo, path) < 0 ||
        int_bound(c, s, "exclusiveMinimum", true, true, &has_lo, &ilo, path) < 0 ||
        int_bound(c, s, "maximum", ex_max_bool, false, &has_hi, &ihi, path) < 0 ||
        int_bound(c, s, "exclusiveMaximum", true, false, &has_hi, &ihi, path) < 0)
        return NULL;
    bool any = has_lo || has_hi;
    double lo = has_lo ? (double)ilo : -INFINITY, hi = has_hi ? (double)ihi : INFINITY;
    const cJSON *mof = js_get(s, "multipleOf");
    if (mof && mof->valuedouble != 1)
        return multiple_of(c, mof->valuedouble, any, lo, hi, path);
    if (!any)
        return js_strdup(js_prim(c, P_INTEGER));
    if (!has_lo)
        ilo = ihi < INT_DEFAULT_BOUND ? -INT_DEFAULT_BOUND : ihi - INT_DEFAULT_BOUND;
    if (!has_hi)
        ihi = ilo > -INT_DEFAULT_BOUND ? INT_DEFAULT_BOUND : ilo + INT_DEFAULT_BOUND;
    js_buf o = {0};
    if (js_int_range(&o, ilo, ihi) < 0) {
        js_buf_free(&o);
        smc_fail(c->err, "JSON Schema: no integer satisfies the bounds at %s", path);
        return NULL;
    }
    return js_take(&o);
}

/* The tighter of two bounds (is_lo: larger value wins; equal: exclusive wins). */
static void tighten(bool *has, double *v, bool *excl, double nv, bool nexcl, bool is_lo)
{
    if (!*has || (is_lo ? nv > *v : nv < *v) || (nv == *v && nexcl)) {
        *has = true;
        *v = nv;
        *excl = nexcl;
    }
}

char *js_compile_number(js_ctx *c, const cJSON *s, const char *path)
{
    if (js_get(s, "multipleOf")) {
        smc_fail(c->err, "JSON Schema: \"multipleOf\" on type \"number\" at %s is not supported "
                 "(only on \"integer\")", path);
        return NULL;
    }
    bool has_lo = false, has_hi = false, lo_ex = false, hi_ex = false;
    double lo = 0, hi = 0, v;
    if (num_kw(s, "minimum", &v))
        tighten(&has_lo, &lo, &lo_ex, v, cJSON_IsTrue(js_get(s, "exclusiveMinimum")), true);
    if (num_kw(s, "exclusiveMinimum", &v))
        tighten(&has_lo, &lo, &lo_ex, v, true, true);
    if (num_kw(s, "maximum", &v))
        tighten(&has_hi, &hi, &hi_ex, v, cJSON_IsTrue(js_get(s, "exclusiveMaximum")), false);
    if (num_kw(s, "exclusiveMaximum", &v))
        tighten(&has_hi, &hi, &hi_ex, v, true, false);
    if (!has_lo && !has_hi)
        return js_strdup(js_prim(c, P_NUMBER));
    static const char *const bounds[] = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
    bool exact_ints = true;                  /* doubles round: check the literal text */
    for (int i = 0; i < 4; i++) {
        const cJSON *x = js_get(s, bounds[i]);
        js_dec d;
        if (cJSON_IsNumber(x) && (!js_dec_of(x, &d) || !js_dec_is_int(&d)))
            exact_ints = false;
    }
    js_buf o = {0};
    int rc = !exact_ints ? -2 : js_number_range(&o, has_lo, lo, lo_ex, has_hi, hi, hi_ex);
    if (rc == -2) {
        js_buf_free(&o);
        smc_fail(c->err, "JSON Schema: minimum/maximum on type \"number\" at %s must be integers "
                 "with |x| <= 1e15 (non-integer bounds are not supported)", path);
        return NULL;
    }
    if (rc < 0) {
        js_buf_free(&o);
        smc_fail(c->err, "JSON Schema: no number satisfies the bounds at %s", path);
        return NULL;
    }
    return js_take(&o);
}

