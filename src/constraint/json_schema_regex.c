/* json_schema_regex.c — translates a JSON Schema `pattern` (ECMA-262 subset)
 * into GBNF over the JSON text of a string's content, and code-point sets.
 *
 * Supported: literals, `.`, classes with ranges and negation, \d \w \s \D \W
 * \S, escapes (\n \t \r \f \v \xHH \uHHHH \u{H..} and escaped punctuation),
 * groups ( ), (?: ), (?<name> ), alternation, quantifiers * + ? {m} {m,}
 * {m,n} (lazy `?` suffix accepted: same language), `^` as the first and `$`
 * as the last character. An unanchored end matches any characters there.
 * Errors: lookaround, backreferences, \b \B, \p{..}, other anchors.
 * JSON text: `"` and `\` are written as \" and \\, tab/newline/CR/backspace/
 * form feed as their short escapes, other control characters are never
 * produced; other characters only unescaped. The output may reference the
 * rule `char` (any one JSON string character) defined by the converter. */
#include "constraint/json_schema_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

void js_cpset_add(js_cpset *s, uint32_t lo, uint32_t hi)
{
    if (s->oom || lo > hi)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        void *p = realloc(s->r, cap * sizeof *s->r);
        if (!p) {
            s->oom = true;
            return;
        }
        s->r = p;
        s->cap = cap;
    }
    s->r[s->n][0] = lo;
    s->r[s->n][1] = hi;
    s->n++;
}

static int cmp_range(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

void js_cpset_normalize(js_cpset *s)
{
    if (s->n == 0)
        return;
    qsort(s->r, s->n, sizeof *s->r, cmp_range);
    size_t k = 0;
    for (size_t i = 1; i < s->n; i++) {
        if (s->r[i][0] <= s->r[k][1] + 1) {
            if (s->r[i][1] > s->r[k][1])
                s->r[k][1] = s->r[i][1];
        } else {
            k++;
            s->r[k][0] = s->r[i][0];
            s->r[k][1] = s->r[i][1];
        }
    }
    s->n = k + 1;
}

void js_cpset_complement(js_cpset *s)
{
    js_cpset_normalize(s);
    js_cpset c = {0};
    uint32_t next = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->r[i][0] > next)
            js_cpset_add(&c, next, s->r[i][0] - 1);
        next = s->r[i][1] + 1;
    }
    if (next <= 0x10FFFF)
        js_cpset_add(&c, next, 0x10FFFF);
    bool oom = c.oom || s->oom;
    js_cpset_free(s);
    *s = c;
    s->oom = oom;
}

void js_cpset_free(js_cpset *s)
{
    free(s->r);
    memset(s, 0, sizeof *s);
}

static bool cpset_has(const js_cpset *s, uint32_t cp)
{
    for (size_t i = 0; i < s->n; i++)
        if (cp >= s->r[i][0] && cp <= s->r[i][1])
            return true;
    return false;
}

int js_cpset_json_expr(js_buf *out, const js_cpset *s)
{
    /* raw part: s minus controls, '"', '\\' and surrogates */
    js_cpset raw = {0};
    static const uint32_t holes[][2] = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}, {0xD800, 0xDFFF}};
    for (size_t i = 0; i < s->n; i++) {
        uint32_t lo = s->r[i][0], hi = s->r[i][1];
        /* subtract each hole (holes are sorted and disjoint) */
        for (size_t h = 0; h < 4 && lo <= hi; h++) {
            if (holes[h][1] < lo || holes[h][0] > hi)
                continue;
            if (holes[h][0] > lo)
                js_cpset_add(&raw, lo, holes[h][0] - 1);
            lo = holes[h][1] + 1;
        }
        if (lo <= hi)
            js_cpset_add(&raw, lo, hi);
    }
    js_cpset_normalize(&raw);
    static const struct {
        uint32_t cp;
        const char *lit;
    } esc[] = {{'"', "\"\\\\\\\"\""}, {'\\', "\"\\\\\\\\\""}, {'\t', "\"\\\\t\""},
               {'\n', "\"\\\\n\""}, {'\r', "\"\\\\r\""}, {'\b', "\"\\\\b\""}, {'\f', "\"\\\\f\""}};
    int alts = raw.n > 0;
    for (size_t e = 0; e < sizeof esc / sizeof esc[0]; e++)
        alts += cpset_has(s, esc[e].cp);
    if (alts == 0) {
        js_cpset_free(&raw);
        return -1;
    }
    if (alts > 1)
        js_put(out, "(");
    bool first = true;
    if (raw.n > 0) {
        js_put(out, "[");
        for (size_t i = 0; i < raw.n; i++) {
            js_gbnf_class_cp(out, raw.r[i][0]);
            if (raw.r[i][1] != raw.r[i][0]) {
                js_put(out, "-");
                js_gbnf_class_cp(out, raw.r[i][1]);
            }
        }
        js_put(out, "]");
        first = false;
    }
    for (size_t e = 0; e < sizeof esc / sizeof esc[0]; e++) {
        if (!cpset_has(s, esc[e].cp))
            continue;
        if (!first)
            js_put(out, " | ");
        js_put(out, esc[e].lit);
        first = false;
    }
    if (alts > 1)
        js_put(out, ")");
    js_cpset_free(&raw);
    return out->oom ? -1 : 0;
}

/* ---- the pattern parser ---- */

typedef struct rx {
    const char *s;
    size_t n, i;
    smc_error *err;
    const char *pattern;
    int depth;
} rx;

static int rx_fail(rx *r, const char *what)
{
    return smc_fail(r->err, "pattern \"%.200s\": %s at offset %zu", r->pattern, what, r->i);
}

static void add_class_escape(js_cpset *set, char c)
{
    switch (c) {
    case 'd': js_cpset_add(set, '0', '9'); break;
    case 'w':
        js_cpset_add(set, '0', '9');
        js_cpset_add(set, 'A', 'Z');
        js_cpset_add(set, '_', '_');
        js_cpset_add(set, 'a', 'z');
        break;
    case 's': {
        static const uint32_t sp[][2] = {{9, 13}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680},
                                         {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F},
                                         {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
        for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++)
            js_cpset_add(set, sp[i][0], sp[i][1]);
        break;
    }
    default: {
        js_cpset tmp = {0};
        add_class_escape(&tmp, (char)(c - 'A' + 'a'));   /* D W S */
        js_cpset_complement(&tmp);
        for (size_t i = 0; i < tmp.n; i++)
            js_cpset_add(set, tmp.r[i][0], tmp.r[i][1]);
        js_cpset_free(&tmp);
    }
    }
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex(rx *r, int digits, uint32_t *cp)
{
    uint32_t v = 0;
    for (int k = 0; k < digits; k++) {
        if (r->i >= r->n || hex_val(r->s[r->i]) < 0)
            return rx_fail(r, "bad hexadecimal escape");
        v = v * 16 + (uint32_t)hex_val(r->s[r->i++]);
    }
    *cp = v;
    return 0;
}

/* After a backslash: either a single code point (*cp, returns 0) or a class
 * escape letter (*cls, returns 1). -1 on error. in_class: \b is backspace. */
static int parse_escape(rx *r, bool in_class, uint32_t *cp, char *cls)
{
    if (r->i >= r->n)
        return rx_fail(r, "pattern ends with a backslash");
    char c = r->s[r->i++];
    switch (c) {
    case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
        *cls = c;
        return 1;
    case 'n': *cp = '\n'; return 0;
    case 't': *cp = '\t'; return 0;
    case 'r': *cp = '\r'; return 0;
    case 'f': *cp = '\f'; return 0;
    case 'v': *cp = '\v'; return 0;
    case '0': *cp = 0; return 0;
    case 'x': return read_hex(r, 2, cp);
    case 'u':
        if (r->i < r->n && r->s[r->i] == '{') {
            r->i++;
            uint32_t v = 0;
            int nd = 0;
            while (r->i < r->n && hex_val(r->s[r->i]) >= 0 && nd < 7)
                v = v * 16 + (uint32_t)hex_val(r->s[r->i++]), nd++;
            if (nd == 0 || r->i >= r->n || r->s[r->i] != '}' || v > 0x10FFFF)
                return rx_fail(r, "bad \\u{...} escape");
            r->i++;
            *cp = v;
            return 0;
        }
        if (read_hex(r, 4, cp) < 0)
            return -1;
        if (*cp >= 0xD800 && *cp <= 0xDFFF)
            return rx_fail(r, "surrogate escapes are not supported");
        return 0;
    case 'b':
        if (in_class) {
            *cp = '\b';
            return 0;
        }
        return rx_fail(r, "word boundaries (\\b) are not supported");
    case 'B': return rx_fail(r, "word boundaries (\\B) are not supported");
    case 'p': case 'P': return rx_fail(r, "Unicode property escapes (\\p) are not supported");
    case 'k': return rx_fail(r, "named backreferences are not supported");
    case 'c': return rx_fail(r, "control escapes (\\c) are not supported");
    default:
        if (c >= '1' && c <= '9')
            return rx_fail(r, "backreferences are not supported");
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return rx_fail(r, "unknown escape");
        r->i--;
        {
            int32_t u = js_utf8_next(r->s, r->n, &r->i);
            if (u < 0)
                return rx_fail(r, "invalid UTF-8");
            *cp = (uint32_t)u;
        }
        return 0;
    }
}

static int emit_set(rx *r, js_buf *out, js_cpset *set)
{
    if (set->oom)
        return rx_fail(r, "out of memory");
    js_cpset_normalize(set);
    if (js_cpset_json_expr(out, set) < 0)
        return rx_fail(r, "character set matches no character the grammar can produce");
    return 0;
}

static int parse_class(rx *r, js_buf *out)
{
    js_cpset set = {0};
    bool neg = false;
    if (r->i < r->n && r->s[r->i] == '^') {
        neg = true;
        r->i++;
    }
    for (;;) {
        if (r->i >= r->n) {
            js_cpset_free(&set);
            return rx_fail(r, "unterminated character class");
        }
        if (r->s[r->i] == ']') {
            r->i++;
            break;
        }
        uint32_t lo;
        char cls = 0;
        if (r->s[r->i] == '\\') {
            r->i++;
            int k = parse_escape(r, true, &lo, &cls);
            if (k < 0) {
                js_cpset_free(&set);
                return -1;
            }
            if (k == 1) {
                add_class_escape(&set, cls);
                continue;
            }
        } else {
            int32_t u = js_utf8_next(r->s, r->n, &r->i);
            if (u < 0) {
                js_cpset_free(&set);
                return rx_fail(r, "invalid UTF-8");
            }
            lo = (uint32_t)u;
        }
        uint32_t hi = lo;
        if (r->i + 1 < r->n && r->s[r->i] == '-' && r->s[r->i + 1] != ']') {
            r->i++;
            if (r->s[r->i] == '\\') {
                r->i++;
                int k = parse_escape(r, true, &hi, &cls);
                if (k != 0) {
                    js_cpset_free(&set);
                    return k < 0 ? -1 : rx_fail(r, "class escape as a range end");
                }
            } else {
                int32_t u = js_utf8_next(r->s, r->n, &r->i);
                if (u < 0) {
                    js_cpset_free(&set);
                    return rx_fail(r, "invalid UTF-8");
                }
                hi = (uint32_t)u;
            }
            if (hi < lo) {
                js_cpset_free(&set);
                return rx_fail(r, "range out of order in character class");
            }
        }
        js_cpset_add(&set, lo, hi);
    }
    if (neg)
        js_cpset_complement(&set);
    int rc = emit_set(r, out, &set);
    js_cpset_free(&set);
    return rc;
}

static int emit_char(rx *r, js_buf *out, uint32_t cp)
{
    js_cpset set = {0};
    js_cpset_add(&set, cp, cp);
    if (cp >= 0x20 && cp != '"' && cp != '\\' && !(cp >= 0xD800 && cp <= 0xDFFF)) {
        char u8[5];
        size_t n;
        if (cp < 0x80) u8[0] = (char)cp, n = 1;
        else if (cp < 0x800) u8[0] = (char)(0xC0 | (cp >> 6)), u8[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
        else if (cp < 0x10000)
            u8[0] = (char)(0xE0 | (cp >> 12)), u8[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
            u8[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
        else
            u8[0] = (char)(0xF0 | (cp >> 18)), u8[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
            u8[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u8[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
        js_cpset_free(&set);
        js_gbnf_literal(out, u8, n);
        return 0;
    }
    int rc = emit_set(r, out, &set);
    js_cpset_free(&set);
    return rc;
}

static int parse_alt(rx *r, js_buf *out, int *n_alts);

static int read_int(rx *r, long *v)
{
    if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9')
        return -1;
    long x = 0;
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') {
        x = x * 10 + (r->s[r->i++] - '0');
        if (x > 100000)
            x = 100000;
    }
    *v = x;
    return 0;
}

/* Tries to read {m}, {m,} or {m,n} at r->i; returns 1 if found, 0 if the
 * brace is a literal, -1 on error. */
static int parse_braces(rx *r, long *m, long *n)
{
    size_t save = r->i;
    r->i++;
    if (read_int(r, m) < 0) {
        r->i = save;
        return 0;
    }
    *n = *m;
    if (r->i < r->n && r->s[r->i] == ',') {
        r->i++;
        if (r->i < r->n && r->s[r->i] == '}')
            *n = -1;
        else if (read_int(r, n) < 0) {
            r->i = save;
            return 0;
        }
    }
    if (r->i >= r->n || r->s[r->i] != '}') {
        r->i = save;
        return 0;
    }
    r->i++;
    if (*n >= 0 && *n < *m)
        return rx_fail(r, "repetition {m,n} with n < m");
    if (*m > 1000 || *n > 1000)
        return rx_fail(r, "repetition counts above 1000 are not supported");
    return 1;
}

static int parse_seq(rx *r, js_buf *out)
{
    bool first = true;
    while (r->i < r->n && r->s[r->i] != '|' && r->s[r->i] != ')') {
        js_buf atom = {0};
        char c = r->s[r->i];
        int rc = 0;
        if (c == '(') {
            r->i++;
            if (r->i < r->n && r->s[r->i] == '?') {
                if (r->i + 1 < r->n && r->s[r->i + 1] == ':')
                    r->i += 2;
                else if (r->i + 2 < r->n && r->s[r->i + 1] == '<' && r->s[r->i + 2] != '=' &&
                         r->s[r->i + 2] != '!') {
                    while (r->i < r->n && r->s[r->i] != '>')
                        r->i++;
                    r->i++;
                } else {
                    rc = rx_fail(r, "lookaround and other (?...) groups are not supported");
                }
            }
            int n_alts = 0;
            if (rc == 0 && ++r->depth > 100)
                rc = rx_fail(r, "groups nested too deeply");
            if (rc == 0)
                rc = parse_alt(r, &atom, &n_alts);
            r->depth--;
            if (rc == 0 && (r->i >= r->n || r->s[r->i] != ')'))
                rc = rx_fail(r, "missing )");
            r->i++;
        } else if (c == '[') {
            r->i++;
            rc = parse_class(r, &atom);
        } else if (c == '.') {
            r->i++;
            js_cpset set = {0};
            js_cpset_add(&set, '\n', '\n');
            js_cpset_add(&set, '\r', '\r');
            js_cpset_add(&set, 0x2028, 0x2029);
            js_cpset_complement(&set);
            rc = emit_set(r, &atom, &set);
            js_cpset_free(&set);
        } else if (c == '\\') {
            r->i++;
            uint32_t cp;
            char cls;
            int k = parse_escape(r, false, &cp, &cls);
            if (k < 0)
                rc = -1;
            else if (k == 1) {
                js_cpset set = {0};
                add_class_escape(&set, cls);
                rc = emit_set(r, &atom, &set);
                js_cpset_free(&set);
            } else
                rc = emit_char(r, &atom, cp);
        } else if (c == '^' || c == '$') {
            rc = rx_fail(r, "anchors are supported only at the start (^) and the end ($)");
        } else if (c == '*' || c == '+' || c == '?') {
            rc = rx_fail(r, "nothing to repeat");
        } else {
            int32_t u = js_utf8_next(r->s, r->n, &r->i);
            rc = u < 0 ? rx_fail(r, "invalid UTF-8") : emit_char(r, &atom, (uint32_t)u);
        }
        if (rc < 0) {
            js_buf_free(&atom);
            return -1;
        }
        /* quantifier */
        const char *q = NULL;
        char qbuf[48];
        if (r->i < r->n) {
            char d = r->s[r->i];
            if (d == '*' || d == '+' || d == '?') {
                qbuf[0] = d, qbuf[1] = 0, q = qbuf;
                r->i++;
            } else if (d == '{') {
                long m, n;
                int k = parse_braces(r, &m, &n);
                if (k < 0) {
                    js_buf_free(&atom);
                    return -1;
                }
                if (k == 1) {
                    if (n < 0)
                        snprintf(qbuf, sizeof qbuf, "{%ld,}", m);
                    else if (n == m)
                        snprintf(qbuf, sizeof qbuf, "{%ld}", m);
                    else
                        snprintf(qbuf, sizeof qbuf, "{%ld,%ld}", m, n);
                    q = qbuf;
                }
            }
            if (q && r->i < r->n && r->s[r->i] == '?')
                r->i++;                        /* lazy: same language */
            if (q && r->i < r->n && (r->s[r->i] == '*' || r->s[r->i] == '+' ||
                                     (r->s[r->i] == '{' && r->i + 1 < r->n &&
                                      r->s[r->i + 1] >= '0' && r->s[r->i + 1] <= '9'))) {
                js_buf_free(&atom);
                return rx_fail(r, "nothing to repeat");
            }
        }
        if (atom.len == 0) {                   /* empty group */
            js_buf_free(&atom);
            continue;
        }
        if (!first)
            js_put(out, " ");
        first = false;
        if (q && strcmp(q, "{0}") == 0) {
            /* x{0} matches the empty string: drop it */
            js_buf_free(&atom);
            continue;
        }
        if (q)
            js_put(out, "(");
        js_putn(out, atom.p, atom.len);
        if (q) {
            js_put(out, ")");
            js_put(out, q);
        }
        js_buf_free(&atom);
    }
    return 0;
}

/* Writes "( a | b )" (or just "a" for one alternative); empty alternatives
 * make the group optional; all-empty writes nothing. */
static int parse_alt(rx *r, js_buf *out, int *n_alts)
{
    js_buf alts = {0};
    int count = 0, nonempty = 0;
    bool has_empty = false;
    for (;;) {
        js_buf seq = {0};
        if (parse_seq(r, &seq) < 0) {
            js_buf_free(&seq);
            js_buf_free(&alts);
            return -1;
        }
        count++;
        if (seq.len == 0)
            has_empty = true;
        else {
            if (nonempty++)
                js_put(&alts, " | ");
            js_putn(&alts, seq.p, seq.len);
        }
        js_buf_free(&seq);
        if (r->i < r->n && r->s[r->i] == '|') {
            r->i++;
            continue;
        }
        break;
    }
    *n_alts = count;
    if (nonempty > 0) {
        js_put(out, "(");
        js_putn(out, alts.p, alts.len);
        js_put(out, has_empty ? ")?" : ")");
    }
    bool oom = alts.oom;
    js_buf_free(&alts);
    return oom ? rx_fail(r, "out of memory") : 0;
}

int js_regex_to_gbnf(const char *pattern, js_buf *out, smc_error *err)
{
    rx r = {.s = pattern, .n = strlen(pattern), .i = 0, .err = err, .pattern = pattern};
    bool start = false, end = false;
    if (r.n > 0 && r.s[0] == '^') {
        start = true;
        r.i = 1;
    }
    if (r.n > r.i && r.s[r.n - 1] == '$') {
        size_t bs = 0;
        while (r.n >= 2 + bs && r.s[r.n - 2 - bs] == '\\')
            bs++;
        if (bs % 2 == 0) {
            end = true;
            r.n--;
        }
    }
    js_buf body = {0};
    int n_alts = 0;
    if (parse_alt(&r, &body, &n_alts) < 0) {
        js_buf_free(&body);
        return -1;
    }
    if (r.i < r.n) {
        js_buf_free(&body);
        return rx_fail(&r, "unbalanced )");
    }
    if (n_alts > 1 && (start || end)) {
        js_buf_free(&body);
        return smc_fail(err, "pattern \"%.200s\": anchors with a top-level | are not supported; "
                        "write ^(a|b)$", pattern);
    }
    /* parts joined by spaces; an empty result matches only the empty string */
    bool any = false;
    if (!start) {
        js_put(out, "char*");
        any = true;
    }
    if (body.len) {
        if (any)
            js_put(out, " ");
        js_putn(out, body.p, body.len);
        any = true;
    }
    if (!end) {
        if (any)
            js_put(out, " ");
        js_put(out, "char*");
    }
    js_buf_free(&body);
    if (body.oom || out->oom)
        return smc_fail(err, "out of memory");
    return 0;
}
