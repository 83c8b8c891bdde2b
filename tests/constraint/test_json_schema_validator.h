/* test_json_schema_validator.h — an independent JSON Schema checker for the tests:
 * validates a cJSON instance against the schema rules directly (no grammar),
 * with PCRE2 for `pattern` and hand-written format checks. Header-only so
 * that any constraint test can include it. Covers the keywords the converter
 * supports: type, enum, const, numeric bounds, multipleOf, string lengths (code points),
 * pattern, format (date, time, date-time, uuid, email, ipv4, ipv6, hostname),
 * items/prefixItems (and the draft-7 tuple form), min/maxItems, properties,
 * required, additionalProperties, min/maxProperties, allOf, anyOf, oneOf
 * (exactly one, unless jv_oneof_as_anyof), local $ref, if/then/else,
 * unevaluatedProperties and unevaluatedItems (with the annotations of
 * properties, additionalProperties, prefixItems, items, additionalItems,
 * $ref, allOf, the successful anyOf/oneOf branches and if/then/else). */
#ifndef SMC_TEST_JSON_SCHEMA_VALIDATOR_H
#define SMC_TEST_JSON_SCHEMA_VALIDATOR_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cjson/cJSON.h>
#include <math.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const cJSON *jv_ref(const cJSON *root, const char *ref)
{
    if (ref[0] != '#')
        return NULL;
    const cJSON *cur = root;
    const char *p = ref + 1;
    while (*p == '/') {
        p++;
        char tok[256];
        size_t n = 0;
        while (*p && *p != '/' && n < 255) {
            if (p[0] == '~' && p[1] == '0')
                tok[n++] = '~', p += 2;
            else if (p[0] == '~' && p[1] == '1')
                tok[n++] = '/', p += 2;
            else if (p[0] == '%' && p[1] && p[2]) {          /* URI fragment escape */
                char hx[3] = {p[1], p[2], 0};
                tok[n++] = (char)strtol(hx, NULL, 16);
                p += 3;
            } else
                tok[n++] = *p++;
        }
        tok[n] = 0;
        cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, atoi(tok))
                                 : cJSON_GetObjectItemCaseSensitive(cur, tok);
        if (!cur)
            return NULL;
    }
    return *p ? NULL : cur;
}

static size_t jv_codepoints(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

static bool jv_digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int jv_num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool jv_date(const char *s, size_t len)
{
    if (len != 10 || s[4] != '-' || s[7] != '-' || !jv_digits(s, 4) || !jv_digits(s + 5, 2) ||
        !jv_digits(s + 8, 2))
        return false;
    int y = jv_num(s, 4), m = jv_num(s + 5, 2), d = jv_num(s + 8, 2);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

static bool jv_time(const char *s, size_t len)
{
    if (len < 9 || s[2] != ':' || s[5] != ':' || !jv_digits(s, 2) || !jv_digits(s + 3, 2) ||
        !jv_digits(s + 6, 2))
        return false;
    if (jv_num(s, 2) > 23 || jv_num(s + 3, 2) > 59 || jv_num(s + 6, 2) > 60)
        return false;
    size_t i = 8;
    if (s[i] == '.') {
        size_t k = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == k)
            return false;
    }
    if (i < len && (s[i] == 'Z' || s[i] == 'z'))
        return i + 1 == len;
    if (i + 6 != len || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':' ||
        !jv_digits(s + i + 1, 2) || !jv_digits(s + i + 4, 2))
        return false;
    return jv_num(s + i + 1, 2) <= 23 && jv_num(s + i + 4, 2) <= 59;
}

static bool jv_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* hostname: dot-separated labels of letters/digits/hyphens, no hyphen at a label's ends */
static bool jv_hostname(const char *s, size_t len, int min_labels)
{
    int labels = 0;
    size_t i = 0;
    while (i <= len) {
        size_t st = i;
        while (i < len && s[i] != '.') {
            if (!jv_alnum(s[i]) && s[i] != '-')
                return false;
            i++;
        }
        if (i == st || s[st] == '-' || s[i - 1] == '-')
            return false;
        labels++;
        if (i == len)
            break;
        i++;
        if (i == len)
            return false;
    }
    return labels >= min_labels;
}

static bool jv_ipv4(const char *s, size_t len);

/* ipv6: up to 8 groups of 1-4 hex digits (an IPv4 address last counts as
 * two), one "::" standing for one or more zero groups */
static bool jv_ipv6(const char *s, size_t len)
{
    int groups = 0;
    bool gap = false;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':')
        gap = true, i = 2;
    else if (len >= 1 && s[0] == ':')
        return false;
    while (i < len) {
        size_t st = i;
        while (i < len && strchr("0123456789abcdefABCDEF", s[i]) && s[i])
            i++;
        if (i < len && s[i] == '.') {           /* the rest is an IPv4 address */
            if (!jv_ipv4(s + st, len - st))
                return false;
            groups += 2;
            i = len;
            break;
        }
        if (i == st || i - st > 4)
            return false;
        groups++;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (gap)
                return false;
            gap = true, i++;
        } else if (i == len) {
            return false;                       /* a single ":" at the end */
        }
    }
    return gap ? groups <= 7 : groups == 8;
}

static bool jv_email(const char *s, size_t len)
{
    const char *at = len && s[0] == '"' ? NULL : memchr(s, '@', len);
    if (len && s[0] == '"') {                   /* a quoted local part */
        size_t i = 1;
        while (i < len && s[i] != '"')
            i += s[i] == '\\' ? 2 : 1;
        if (i + 1 >= len || s[i + 1] != '@')
            return false;
        at = s + i + 1;
    }
    if (!at || at == s)
        return false;
    const char *dom = at + 1;
    size_t dl = len - (size_t)(dom - s);
    if (dl >= 2 && dom[0] == '[' && dom[dl - 1] == ']')     /* an address literal */
        return (dl > 7 && !strncasecmp(dom + 1, "IPv6:", 5)) ? jv_ipv6(dom + 6, dl - 7)
                                                             : jv_ipv4(dom + 1, dl - 2);
    if (s[0] == '"')
        return jv_hostname(dom, dl, 2);
    static const char atext[] = "!#$%&'*+/=?^_`{|}~-";
    size_t ll = (size_t)(at - s);
    if (s[0] == '.' || s[ll - 1] == '.')
        return false;
    for (size_t i = 0; i < ll; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!jv_alnum(s[i]) && !strchr(atext, s[i])) {
            return false;
        }
    }
    return jv_hostname(at + 1, len - ll - 1, 2);
}

static bool jv_ipv4(const char *s, size_t len)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t st = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        size_t n = i - st;
        if (n == 0 || n > 3 || (n > 1 && s[st] == '0') || jv_num(s + st, (int)n) > 255)
            return false;
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
    }
    return i == len;
}

static bool jv_format(const char *f, const char *s)
{
    size_t len = strlen(s);
    if (!strcmp(f, "date"))
        return jv_date(s, len);
    if (!strcmp(f, "time"))
        return jv_time(s, len);
    if (!strcmp(f, "date-time"))
        return len > 11 && (s[10] == 'T' || s[10] == 't') && jv_date(s, 10) && jv_time(s + 11, len - 11);
    if (!strcmp(f, "uuid")) {
        if (len != 36)
            return false;
        for (size_t i = 0; i < 36; i++) {
            bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
                return false;
        }
        return true;
    }
    if (!strcmp(f, "email"))
        return jv_email(s, len);
    if (!strcmp(f, "ipv4"))
        return jv_ipv4(s, len);
    if (!strcmp(f, "ipv6"))
        return jv_ipv6(s, len);
    if (!strcmp(f, "hostname"))
        return jv_hostname(s, len, 1);
    return true;   /* unknown formats are annotations */
}

static bool jv_pattern(const char *pat, const char *s)
{
    int ec;
    PCRE2_SIZE eo;
    /* ECMA-262 escapes: \uHHHH and \u{H...} (PCRE2's ALT_BSUX options) */
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_ALT_BSUX,
                                   &ec, &eo, cc);
    pcre2_compile_context_free(cc);
    if (!re)
        return false;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static bool jv_valid(const cJSON *root, const cJSON *s, const cJSON *x, int depth);

/* When set, oneOf is checked as anyOf (the converter's documented
 * approximation), for tests over schemas whose alternatives may overlap. */
static bool jv_oneof_as_anyof;

static bool jv_type_ok(const char *t, const cJSON *x)
{
    if (!strcmp(t, "null")) return cJSON_IsNull(x);
    if (!strcmp(t, "boolean")) return cJSON_IsBool(x);
    if (!strcmp(t, "object")) return cJSON_IsObject(x);
    if (!strcmp(t, "array")) return cJSON_IsArray(x);
    if (!strcmp(t, "string")) return cJSON_IsString(x);
    if (!strcmp(t, "number")) return cJSON_IsNumber(x);
    if (!strcmp(t, "integer")) return cJSON_IsNumber(x) && x->valuedouble == floor(x->valuedouble);
    return false;
}

#define JV_GET(k) cJSON_GetObjectItemCaseSensitive(s, k)

/* Whether schema s, applied to x (successfully), evaluates key k of object x
 * (k non-NULL) or item idx of array x: the annotations unevaluatedProperties
 * and unevaluatedItems depend on. */
static bool jv_evaluates(const cJSON *root, const cJSON *s, const cJSON *x, const char *k, int idx, int depth,
                         bool top)
{
    if (!cJSON_IsObject(s) || depth > 200)
        return false;
    if (k) {
        const cJSON *props = JV_GET("properties");
        if (props && cJSON_GetObjectItemCaseSensitive(props, k))
            return true;
        if (JV_GET("additionalProperties") || (!top && JV_GET("unevaluatedProperties")))
            return true;
    } else {
        const cJSON *prefix = JV_GET("prefixItems"), *items = JV_GET("items");
        if (cJSON_IsArray(items))
            prefix = items, items = JV_GET("additionalItems");
        if ((prefix && idx < cJSON_GetArraySize(prefix)) || items || (!top && JV_GET("unevaluatedItems")))
            return true;
    }
    const cJSON *r = JV_GET("$ref");
    if (r) {
        const cJSON *t = jv_ref(root, r->valuestring);
        if (t && jv_evaluates(root, t, x, k, idx, depth + 1, false))
            return true;
    }
    const cJSON *all = JV_GET("allOf");
    for (const cJSON *a = all ? all->child : NULL; a; a = a->next)
        if (jv_evaluates(root, a, x, k, idx, depth + 1, false))
            return true;
    static const char *const alt_kw[] = {"anyOf", "oneOf"};
    for (int i = 0; i < 2; i++) {
        const cJSON *alts = JV_GET(alt_kw[i]);
        for (const cJSON *a = alts ? alts->child : NULL; a; a = a->next)
            if (jv_valid(root, a, x, depth + 1) && jv_evaluates(root, a, x, k, idx, depth + 1, false))
                return true;
    }
    /* if: its annotations when it holds, with then's; else's when it fails */
    const cJSON *cond = JV_GET("if");
    if (cond) {
        bool holds = jv_valid(root, cond, x, depth + 1);
        const cJSON *br = holds ? JV_GET("then") : JV_GET("else");
        if ((holds && jv_evaluates(root, cond, x, k, idx, depth + 1, false)) ||
            (br && jv_evaluates(root, br, x, k, idx, depth + 1, false)))
            return true;
    }
    return false;
}

static bool jv_valid(const cJSON *root, const cJSON *s, const cJSON *x, int depth)
{
    if (depth > 200)
        return false;
    if (cJSON_IsBool(s))
        return cJSON_IsTrue(s);
    const cJSON *k;
    if ((k = JV_GET("$ref"))) {
        const cJSON *t = jv_ref(root, k->valuestring);
        if (!t || !jv_valid(root, t, x, depth + 1))
            return false;
    }
    if ((k = JV_GET("type"))) {
        bool ok = false;
        if (cJSON_IsString(k))
            ok = jv_type_ok(k->valuestring, x);
        for (const cJSON *t = cJSON_IsArray(k) ? k->child : NULL; t; t = t->next)
            ok |= jv_type_ok(t->valuestring, x);
        if (!ok)
            return false;
    }
    if ((k = JV_GET("enum"))) {
        bool ok = false;
        for (const cJSON *e = k->child; e; e = e->next)
            ok |= cJSON_Compare(e, x, true);
        if (!ok)
            return false;
    }
    if ((k = JV_GET("const")) && !cJSON_Compare(k, x, true))
        return false;
    if (cJSON_IsNumber(x)) {
        double v = x->valuedouble;
        const cJSON *emin = JV_GET("exclusiveMinimum"), *emax = JV_GET("exclusiveMaximum");
        if ((k = JV_GET("minimum")) && (cJSON_IsTrue(emin) ? v <= k->valuedouble : v < k->valuedouble))
            return false;
        if ((k = JV_GET("maximum")) && (cJSON_IsTrue(emax) ? v >= k->valuedouble : v > k->valuedouble))
            return false;
        if ((k = JV_GET("multipleOf")) && fmod(v, k->valuedouble) != 0)
            return false;
        if (cJSON_IsNumber(emin) && v <= emin->valuedouble)
            return false;
        if (cJSON_IsNumber(emax) && v >= emax->valuedouble)
            return false;
    }
    if (cJSON_IsString(x)) {
        size_t n = jv_codepoints(x->valuestring);
        if ((k = JV_GET("minLength")) && n < (size_t)k->valuedouble)
            return false;
        if ((k = JV_GET("maxLength")) && n > (size_t)k->valuedouble)
            return false;
        if ((k = JV_GET("pattern")) && !jv_pattern(k->valuestring, x->valuestring))
            return false;
        if ((k = JV_GET("format")) && !jv_format(k->valuestring, x->valuestring))
            return false;
    }
    if (cJSON_IsArray(x)) {
        int n = cJSON_GetArraySize(x);
        if ((k = JV_GET("minItems")) && n < k->valuedouble)
            return false;
        if ((k = JV_GET("maxItems")) && n > k->valuedouble)
            return false;
        const cJSON *prefix = JV_GET("prefixItems"), *items = JV_GET("items");
        if (cJSON_IsArray(items)) {
            prefix = items;
            items = JV_GET("additionalItems");
        }
        int i = 0;
        const cJSON *p = prefix ? prefix->child : NULL;
        for (const cJSON *e = x->child; e; e = e->next, i++) {
            if (p) {
                if (!jv_valid(root, p, e, depth + 1))
                    return false;
                p = p->next;
            } else if (items && !jv_valid(root, items, e, depth + 1)) {
                return false;
            }
        }
        const cJSON *uneval = JV_GET("unevaluatedItems");
        i = 0;
        for (const cJSON *e = uneval ? x->child : NULL; e; e = e->next, i++)
            if (!jv_evaluates(root, s, x, NULL, i, depth + 1, true) && !jv_valid(root, uneval, e, depth + 1))
                return false;
    }
    if (cJSON_IsObject(x)) {
        const cJSON *props = JV_GET("properties"), *ap = JV_GET("additionalProperties");
        int n = 0;
        for (const cJSON *e = x->child; e; e = e->next, n++) {
            const cJSON *ps = props ? cJSON_GetObjectItemCaseSensitive(props, e->string) : NULL;
            if (ps) {
                if (!jv_valid(root, ps, e, depth + 1))
                    return false;
            } else if (ap && !jv_valid(root, ap, e, depth + 1)) {
                return false;
            }
        }
        for (const cJSON *r = (k = JV_GET("required")) ? k->child : NULL; r; r = r->next)
            if (!cJSON_GetObjectItemCaseSensitive(x, r->valuestring))
                return false;
        if ((k = JV_GET("minProperties")) && n < k->valuedouble)
            return false;
        const cJSON *uneval = JV_GET("unevaluatedProperties");
        for (const cJSON *e = uneval ? x->child : NULL; e; e = e->next)
            if (!jv_evaluates(root, s, x, e->string, 0, depth + 1, true) &&
                !jv_valid(root, uneval, e, depth + 1))
                return false;
        if ((k = JV_GET("maxProperties")) && n > k->valuedouble)
            return false;
    }
    if ((k = JV_GET("allOf")))
        for (const cJSON *a = k->child; a; a = a->next)
            if (!jv_valid(root, a, x, depth + 1))
                return false;
    if ((k = JV_GET("anyOf"))) {
        bool ok = false;
        for (const cJSON *a = k->child; a && !ok; a = a->next)
            ok = jv_valid(root, a, x, depth + 1);
        if (!ok)
            return false;
    }
    if ((k = JV_GET("if")) && (JV_GET("then") || JV_GET("else"))) {
        const cJSON *br = jv_valid(root, k, x, depth + 1) ? JV_GET("then") : JV_GET("else");
        if (br && !jv_valid(root, br, x, depth + 1))
            return false;
    }
    if ((k = JV_GET("oneOf"))) {
        int hits = 0;
        for (const cJSON *a = k->child; a; a = a->next)
            hits += jv_valid(root, a, x, depth + 1);
        if (jv_oneof_as_anyof ? hits < 1 : hits != 1)
            return false;
    }
    return true;
}

#undef JV_GET

#endif
