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

smc_grammar *js_schema_grammar(js_ctx *c, const cJSON *s, const char *path)
{
    char *gbnf = NULL;
    smc_grammar *g = NULL;
    int rc = js_convert(c->root, s, path, c->flags & ~SMC_JSON_SCHEMA_FLEXIBLE_WS, c->depth + 1,
                        c->work, c->warn, &gbnf, c->err);
    if (rc == 0 && smc_grammar_from_gbnf(gbnf, strlen(gbnf), "root", &g, c->err) < 0)
        rc = -1;
    free(gbnf);
    return rc < 0 ? NULL : g;
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
    smc_grammar *g = js_schema_grammar(c, rest, path);
    if (!g)
        smc_fail_context(c->err, "JSON Schema: the keywords beside enum/const at %s", path);
    cJSON_Delete(rest);
    return g;
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
    if (fmt && !cJSON_IsString(fmt)) {
        smc_fail(c->err, "JSON Schema: \"format\" at %s must be a string", path);
        return NULL;
    }
    const char *e = fmt ? js_format_expr(fmt->valuestring) : NULL;
    if (fmt && !e && !js_format_is_standard(fmt->valuestring) && !(c->flags & SMC_JSON_SCHEMA_STRICT)) {
        /* a name no draft defines (OpenAPI's "byte", "path", ...) is an
         * annotation, as validators treat it: ignored with a warning */
        js_buf w = {0};
        js_printf(&w, "ignored unknown format \"%.100s\"", fmt->valuestring);
        char *ws = js_take(&w);
        if (ws)
            js_warn(c, ws, path);
        free(ws);
        fmt = NULL;
    }
    if (fmt) {
        if (!e) {
            smc_fail(c->err, "JSON Schema: unsupported format \"%.100s\" at %s (supported: %s)",
                     fmt->valuestring, path, js_format_names());
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
#define MOF_MAX_DEC 1000        /* k of a decimal k x 10^-d: k x (d + 2) rules */

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

/* multipleOf m = k x 10^-d (a finite decimal) on numbers without bounds: the
 * number times 10^d is an integer divisible by k, read digit by digit: the
 * integer digits (rule I_r: remainder r so far), then up to d fraction
 * digits (G_j_r), the missing ones counted as zeros, then only zeros. No
 * exponent (a sound subset). One rule per (position, remainder). */
static char *decimal_multiple_of(js_ctx *c, const js_dec *m, const char *path)
{
    long k = 0, d = -m->exp;
    for (size_t i = 0; i < m->nd && i < 4; i++)
        k = k * 10 + (m->dig[i] - '0');
    if (m->nd > 4 || k > MOF_MAX_DEC || d > 16) {
        smc_fail(c->err, "JSON Schema: \"multipleOf\" at %s: on numbers only finite decimals k x 10^-d "
                 "with k <= %d and d <= 16 are supported", path, MOF_MAX_DEC);
        return NULL;
    }
    /* end_ok[j][r]: remainder r after j fraction digits is 0 once padded */
    size_t nr = (size_t)k, nj = (size_t)d + 1;
    bool *end_ok = calloc(nj * nr, 1), *live_g = calloc(nj * nr, 1), *live_i = calloc(nr, 1);
    char **g = calloc(nj * nr, sizeof *g), **in = calloc(nr, sizeof *in);
    char *result = NULL;
    if (!end_ok || !live_g || !live_i || !g || !in) {
        smc_fail(c->err, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < nj; j++)
        for (size_t r = 0; r < nr; r++) {
            long x = (long)r;
            for (size_t p = j; p < (size_t)d; p++)
                x = x * 10 % k;
            end_ok[j * nr + r] = x == 0;
        }
    for (size_t j = nj; j-- > 0;)
        for (size_t r = 0; r < nr; r++) {
            bool live = end_ok[j * nr + r];
            for (int dg = 0; dg <= 9 && !live && j + 1 < nj; dg++)
                live = live_g[(j + 1) * nr + (size_t)((10 * (long)r + dg) % k)];
            live_g[j * nr + r] = live;
        }
    for (bool changed = true; changed;) {       /* I_r: more digits or the point */
        changed = false;
        for (size_t r = 0; r < nr; r++) {
            bool live = live_g[r];
            for (int dg = 0; dg <= 9 && !live; dg++)
                live = live_i[(size_t)((10 * (long)r + dg) % k)];
            if (live && !live_i[r])
                live_i[r] = changed = true;
        }
    }
    for (size_t i = 0; i < nj * nr; i++)
        if (live_g[i] && !(g[i] = js_new_name(c, "mof-frac", NULL)))
            goto oom;
    for (size_t r = 0; r < nr; r++)
        if (live_i[r] && !(in[r] = js_new_name(c, "mof-int", NULL)))
            goto oom;
    for (size_t j = 0; j < nj; j++)
        for (size_t r = 0; r < nr; r++) {
            if (!live_g[j * nr + r])
                continue;
            js_buf b = {0};
            int n = 0;
            js_put(&b, j == 0 ? "( \".\" (" : "(");
            if (j + 1 == nj) {
                js_put(&b, " \"0\"* ");   /* r == 0: trailing zeros */
                n++;
            }
            for (int dg = 0; dg <= 9 && j + 1 < nj; dg++) {
                size_t t = (j + 1) * nr + (size_t)((10 * (long)r + dg) % k);
                if (live_g[t])
                    js_printf(&b, "%s\"%d\" %s", n++ ? " | " : " ", dg, g[t]);
            }
            js_put(&b, j == 0 ? ") )" : " )");
            if (end_ok[j * nr + r] && j + 1 < nj)
                js_put(&b, "?");
            if (js_add_rule(c, js_strdup(g[j * nr + r]), js_take(&b)) < 0)
                goto done;
        }
    for (size_t r = 0; r < nr; r++) {
        if (!live_i[r])
            continue;
        js_buf b = {0};
        int n = 0;
        js_put(&b, "(");
        for (int dg = 0; dg <= 9; dg++) {
            size_t t = (size_t)((10 * (long)r + dg) % k);
            if (live_i[t])
                js_printf(&b, "%s\"%d\" %s", n++ ? " | " : " ", dg, in[t]);
        }
        if (live_g[r])
            js_printf(&b, "%s%s", n++ ? " | " : " ", g[r]);
        js_put(&b, " )");
        if (js_add_rule(c, js_strdup(in[r]), js_take(&b)) < 0)
            goto done;
    }
    {
        js_buf o = {0};
        int n = 0;
        js_put(&o, "( \"-\"? (");
        if (live_g[0])
            js_printf(&o, " \"0\" %s", g[0]), n++;
        for (int dg = 1; dg <= 9; dg++)
            if (live_i[dg % k])
                js_printf(&o, "%s\"%d\" %s", n++ ? " | " : " ", dg, in[dg % k]);
        js_put(&o, " ) )");
        result = js_take(&o);
    }
    goto done;
oom:
    smc_fail(c->err, "out of memory");
done:
    for (size_t i = 0; g && i < nj * nr; i++)
        free(g[i]);
    for (size_t r = 0; in && r < nr; r++)
        free(in[r]);
    free(g), free(in), free(end_ok), free(live_g), free(live_i);
    return result;
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
    double mult = mof ? mof->valuedouble : 1;
    js_dec md;
    if (mof && js_dec_of(mof, &md) && !md.neg && md.nd && md.nd <= 9 && !js_dec_is_int(&md)) {
        /* x is a multiple of k x 10^-d when k / gcd(k, 10^d) divides it */
        long long k = 0;
        for (size_t i = 0; i < md.nd; i++)
            k = k * 10 + (md.dig[i] - '0');
        for (long i = 0; i < -md.exp && k % 2 == 0; i++)
            k /= 2;
        for (long i = 0; i < -md.exp && k % 5 == 0; i++)
            k /= 5;
        mult = (double)k;
    }
    if (mult != 1)
        return multiple_of(c, mult, any, lo, hi, path);
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
    const cJSON *mof = js_get(s, "multipleOf");
    js_dec m;
    int frac = 16;                           /* fraction digits allowed */
    if (mof) {
        if (!js_dec_of(mof, &m) || m.neg || !m.nd) {
            smc_fail(c->err, "JSON Schema: \"multipleOf\" at %s must be a positive number", path);
            return NULL;
        }
        if (js_dec_is_int(&m))               /* the multiples are integers */
            return js_compile_integer(c, s, path);
        if (m.nd == 1 && m.dig[0] == '1')    /* 10^-d: at most d fraction digits */
            frac = (int)-m.exp;
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
    if (mof && frac > 16) {
        smc_fail(c->err, "JSON Schema: \"multipleOf\" at %s: more than 16 fraction digits", path);
        return NULL;
    }
    if (mof && (!has_lo && !has_hi))
        return decimal_multiple_of(c, &m, path);
    if (mof && frac == 16) {
        smc_fail(c->err, "JSON Schema: \"multipleOf\" at %s on numbers with bounds is supported only "
                 "for powers of ten (0.1, 0.01, ...)", path);
        return NULL;
    }
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
    int rc = !exact_ints ? -2 : js_number_range(&o, has_lo, lo, lo_ex, has_hi, hi, hi_ex, frac);
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

