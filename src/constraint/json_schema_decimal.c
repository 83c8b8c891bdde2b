/* json_schema_decimal.c — numbers in schemas kept exact. cJSON stores a
 * number as a double, which rounds integers past 2^53 and decimals such as
 * 0.1; the converter instead keeps each number's literal text (attached to
 * its cJSON node as valuestring when the schema is parsed) and reads it as
 * sign × digits × 10^exp: exact comparison, the integer test, floor/ceil to
 * int64 and the canonical JSON spelling written into grammars. */
#include "constraint/json_schema_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a JSON number literal; false when it is not one or has more than
 * JS_DEC_DIGITS significant digits. */
static bool dec_parse_text(const char *s, js_dec *d)
{
    memset(d, 0, sizeof *d);
    const char *p = s;
    if (*p == '-')
        d->neg = true, p++;
    if (*p < '0' || *p > '9')
        return false;
    long exp = 0;
    size_t nd = 0;
    bool lead = true;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (lead && *p == '0')
            continue;
        lead = false;
        if (nd == JS_DEC_DIGITS)
            return false;
        d->dig[nd++] = *p;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            exp--;
            if (lead && *p == '0')
                continue;
            lead = false;
            if (nd == JS_DEC_DIGITS)
                return false;
            d->dig[nd++] = *p;
        }
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        bool eneg = *p == '-';
        if (*p == '-' || *p == '+')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        long e = 0;
        for (; *p >= '0' && *p <= '9'; p++)
            if (e < 100000000)
                e = e * 10 + (*p - '0');
        exp += eneg ? -e : e;
    }
    if (*p)
        return false;
    while (nd && d->dig[nd - 1] == '0')
        nd--, exp++;
    d->nd = nd;
    d->exp = nd ? exp : 0;
    if (!nd)
        d->neg = false;
    d->dig[nd] = 0;
    return true;
}

bool js_dec_of(const cJSON *v, js_dec *d)
{
    if (!cJSON_IsNumber(v))
        return false;
    if (v->valuestring)
        return dec_parse_text(v->valuestring, d);
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
    return dec_parse_text(buf, d);
}

bool js_dec_is_int(const js_dec *d)
{
    return d->exp >= 0;
}

/* Compares magnitudes. */
static int mag_cmp(const js_dec *a, const js_dec *b)
{
    if (!a->nd || !b->nd)
        return (a->nd != 0) - (b->nd != 0);
    long ea = (long)a->nd + a->exp, eb = (long)b->nd + b->exp;   /* position of the point */
    if (ea != eb)
        return ea < eb ? -1 : 1;
    size_t n = a->nd > b->nd ? a->nd : b->nd;
    for (size_t i = 0; i < n; i++) {
        char x = i < a->nd ? a->dig[i] : '0', y = i < b->nd ? b->dig[i] : '0';
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

int js_dec_cmp(const js_dec *a, const js_dec *b)
{
    if (a->neg != b->neg)
        return a->neg ? -1 : 1;
    int m = mag_cmp(a, b);
    return a->neg ? -m : m;
}

/* floor (up = false) or ceiling (up = true) as int64; false when out of range. */
bool js_dec_round_i64(const js_dec *d, bool up, int64_t *out)
{
    long ip = (long)d->nd + d->exp;                 /* integer digits */
    if (ip > 19)
        return false;
    unsigned long long m = 0;
    bool frac = false;
    for (long i = 0; i < ip; i++) {
        int dig = (size_t)i < d->nd ? d->dig[i] - '0' : 0;
        if (m > (9223372036854775807ULL - (unsigned)dig) / 10)
            return false;
        m = m * 10 + (unsigned)dig;
    }
    frac = d->exp < 0;
    if (frac && (d->neg ? !up : up)) {              /* away from zero */
        if (m >= 9223372036854775807ULL)
            return false;
        m++;
    }
    if (m > 9223372036854775807ULL)
        return false;
    *out = d->neg ? -(int64_t)m : (int64_t)m;
    return true;
}

void js_dec_text(const js_dec *d, js_buf *b)
{
    if (!d->nd) {
        js_put(b, "0");
        return;
    }
    if (d->neg)
        js_put(b, "-");
    long ip = (long)d->nd + d->exp;
    if (d->exp >= 0 && ip <= 40) {
        js_put(b, d->dig);
        for (long i = 0; i < d->exp; i++)
            js_put(b, "0");
    } else if (d->exp < 0 && ip > 0) {
        js_putn(b, d->dig, (size_t)ip);
        js_put(b, ".");
        js_put(b, d->dig + ip);
    } else if (d->exp < 0 && ip > -40) {
        js_put(b, "0.");
        for (long i = 0; i < -ip; i++)
            js_put(b, "0");
        js_put(b, d->dig);
    } else {
        js_putn(b, d->dig, 1);
        if (d->nd > 1) {
            js_put(b, ".");
            js_put(b, d->dig + 1);
        }
        js_printf(b, "e%ld", ip - 1);
    }
}

/* ---- literal text attached to the parsed schema ---- */

typedef struct lit_scan {
    const char *p, *end;
} lit_scan;

/* The next number token's extent in the text (strings skipped). */
static bool next_number(lit_scan *s, const char **at, size_t *n)
{
    while (s->p < s->end) {
        char ch = *s->p;
        if (ch == '"') {
            for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
                if (*s->p == '\\')
                    s->p++;
            s->p++;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            const char *st = s->p;
            while (s->p < s->end && (strchr("+-.eE", *s->p) || (*s->p >= '0' && *s->p <= '9')))
                s->p++;
            *at = st;
            *n = (size_t)(s->p - st);
            return true;
        } else {
            s->p++;
        }
    }
    return false;
}

static int attach(cJSON *v, lit_scan *s)
{
    for (; v; v = v->next) {
        if (cJSON_IsNumber(v)) {
            const char *at;
            size_t n;
            if (!next_number(s, &at, &n))
                return -1;
            char *t = malloc(n + 1);
            if (!t)
                return -1;
            memcpy(t, at, n);
            t[n] = 0;
            free(v->valuestring);
            v->valuestring = t;
        } else if ((cJSON_IsArray(v) || cJSON_IsObject(v)) && attach(v->child, s) < 0) {
            return -1;
        }
    }
    return 0;
}

int js_attach_literals(cJSON *root, const char *text, size_t len)
{
    lit_scan s = {text, text + len};
    cJSON *save = root->next;
    root->next = NULL;                       /* the root alone */
    int rc = attach(root, &s);
    root->next = save;
    return rc;
}

void js_set_number(cJSON *v, double x)
{
    free(v->valuestring);
    v->valuestring = NULL;
    cJSON_SetNumberValue(v, x);
}

bool js_values_equal(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
        js_dec x, y;
        if (js_dec_of(a, &x) && js_dec_of(b, &y))
            return js_dec_cmp(&x, &y) == 0;
        return a->valuedouble == b->valuedouble;
    }
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return false;
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!js_values_equal(x, y))
                return false;
        return !x && !y;
    }
    if (cJSON_IsObject(a)) {
        size_t na = 0, nb = 0;
        for (const cJSON *x = a->child; x; x = x->next, na++) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !js_values_equal(x, y))
                return false;
        }
        for (const cJSON *y = b->child; y; y = y->next)
            nb++;
        return na == nb;
    }
    return true;                             /* null, true, false */
}

int js_value_text(js_buf *b, const cJSON *v)
{
    if (cJSON_IsNull(v)) {
        js_put(b, "null");
    } else if (cJSON_IsTrue(v)) {
        js_put(b, "true");
    } else if (cJSON_IsFalse(v)) {
        js_put(b, "false");
    } else if (cJSON_IsNumber(v)) {
        js_dec d;
        if (!js_dec_of(v, &d))
            return -1;
        js_dec_text(&d, b);
    } else if (cJSON_IsString(v)) {
        js_json_string(b, v->valuestring);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        js_put(b, obj ? "{" : "[");
        for (const cJSON *e = v->child; e; e = e->next) {
            if (e != v->child)
                js_put(b, ",");
            if (obj) {
                js_json_string(b, e->string);
                js_put(b, ":");
            }
            if (js_value_text(b, e) < 0)
                return -1;
        }
        js_put(b, obj ? "}" : "]");
    } else {
        return -1;
    }
    return 0;
}
