/* gbnf.c — GBNF (llama.cpp grammar syntax) to the grammar IR.
 *
 * Accepts llama.cpp's syntax: `name ::= alternatives`, "literals", [classes]
 * with ranges and ^negation, `.`, rule references, ( groups ), * + ? {m}
 * {m,} {m,n} {,n}, # comments, escapes \xHH \uHHHH \UHHHHHHHH \t \r \n \\ \"
 * \' \[ \] \- \/ \^. Also '_' in names, left recursion, and rules spanning
 * lines anywhere (a rule ends where the next `name ::=` starts). Literals and
 * classes denote Unicode code points, matched as their UTF-8 bytes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/ir.h"
#include "constraint/text_pos.h"
#include "util/error.h"

#define GBNF_MAX_DEPTH 200

typedef struct gp {
    const char *s;
    size_t n, i;
    ir_builder *b;
    char err[400];
    int depth;
    text_cursor pos;     /* line:column of rule references */
} gp;

static void gfail(gp *p, size_t at, const char *fmt, const char *arg)
{
    text_fail_at(p->err, sizeof p->err, p->s, p->n, at, fmt, arg);
}

static bool failed(const gp *p) { return p->err[0] || ir_failed(p->b); }

static void skip_space(gp *p)
{
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            p->i++;
        } else if (c == '#') {
            while (p->i < p->n && p->s[p->i] != '\n')
                p->i++;
        } else {
            break;
        }
    }
}

static bool is_name_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-'; }

static size_t name_len(const gp *p, size_t at)
{
    size_t k = at;
    while (k < p->n && is_name_char(p->s[k]))
        k++;
    return k - at;
}

/* Is there `name ::=` at the current position? */
static bool at_rule_start(const gp *p)
{
    size_t l = name_len(p, p->i);
    if (!l)
        return false;
    size_t k = p->i + l;
    while (k < p->n && (p->s[k] == ' ' || p->s[k] == '\t' || p->s[k] == '\r' || p->s[k] == '\n'))
        k++;
    return k + 3 <= p->n && memcmp(p->s + k, "::=", 3) == 0;
}

static long hex_digits(gp *p, int count)
{
    long v = 0;
    for (int k = 0; k < count; k++) {
        if (p->i >= p->n || !isxdigit((unsigned char)p->s[p->i])) {
            gfail(p, p->i, "expected %s hex digits in escape", count == 2 ? "2" : count == 4 ? "4" : "8");
            return -1;
        }
        char c = p->s[p->i++];
        v = v * 16 + (isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10));
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        gfail(p, p->i, "escape is not a valid Unicode scalar value%s", NULL);
        return -1;
    }
    return v;
}

/* One character of a literal or class (escape or UTF-8). */
static long parse_char(gp *p)
{
    if (p->i >= p->n) {
        gfail(p, p->i, "unexpected end of input%s", NULL);
        return -1;
    }
    if (p->s[p->i] == '\\') {
        size_t at = p->i;
        p->i++;
        if (p->i >= p->n) {
            gfail(p, at, "unfinished escape%s", NULL);
            return -1;
        }
        char c = p->s[p->i++];
        switch (c) {
        case 'x': return hex_digits(p, 2);
        case 'u': return hex_digits(p, 4);
        case 'U': return hex_digits(p, 8);
        case 't': return '\t';
        case 'r': return '\r';
        case 'n': return '\n';
        case 'f': return '\f';
        case 'v': return '\v';
        case '0': return 0;
        case '\\': case '"': case '\'': case '[': case ']': case '-': case '/': case '^': case '.':
            return c;
        default: {
            char what[8] = {c, 0};
            gfail(p, at, "unknown escape \\%s", what);
            return -1;
        }
        }
    }
    size_t at = p->i;
    long cp = utf8_decode(p->s, p->n, &p->i);
    if (cp < 0)
        gfail(p, at, "invalid UTF-8%s", NULL);
    return cp;
}

static void parse_alternatives(gp *p, uint32_t lhs);

static int push(gp *p, ir_symvec *v, uint32_t sym)
{
    if (ir_symvec_push(v, sym) != 0) {
        gfail(p, p->i, "out of memory%s", NULL);
        return -1;
    }
    return 0;
}

static void parse_literal(gp *p, ir_symvec *out)
{
    size_t start = p->i;
    p->i++;   /* opening quote */
    while (!failed(p)) {
        if (p->i >= p->n) {
            gfail(p, start, "unterminated string literal%s", NULL);
            return;
        }
        if (p->s[p->i] == '"') {
            p->i++;
            return;
        }
        long cp = parse_char(p);
        if (cp < 0)
            return;
        if (ir_append_cp(p->b, (uint32_t)cp, &out->v, &out->n, &out->cap) != 0)
            return;
    }
}

static uint32_t parse_class(gp *p)
{
    size_t start = p->i;
    p->i++;   /* [ */
    bool negate = false;
    if (p->i < p->n && p->s[p->i] == '^') {
        negate = true;
        p->i++;
    }
    ir_cprange *r = NULL;
    size_t n = 0, cap = 0;
    while (!failed(p)) {
        if (p->i >= p->n) {
            gfail(p, start, "unterminated character class%s", NULL);
            break;
        }
        if (p->s[p->i] == ']') {
            p->i++;
            break;
        }
        long lo = parse_char(p);
        if (lo < 0)
            break;
        long hi = lo;
        if (p->i + 1 < p->n && p->s[p->i] == '-' && p->s[p->i + 1] != ']') {
            p->i++;
            size_t at = p->i;
            hi = parse_char(p);
            if (hi < 0)
                break;
            if (hi < lo) {
                gfail(p, at, "character range is backwards%s", NULL);
                break;
            }
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            ir_cprange *nr = realloc(r, cap * sizeof *nr);
            if (!nr) {
                gfail(p, p->i, "out of memory%s", NULL);
                break;
            }
            r = nr;
        }
        r[n++] = (ir_cprange){(uint32_t)lo, (uint32_t)hi};
    }
    uint32_t sym = 0;
    if (!failed(p))
        sym = ir_cpclass(p->b, r, n, negate);
    free(r);
    return sym;
}

static bool parse_int(gp *p, long *v)
{
    return text_scan_count(p->s, p->n, &p->i, v);
}

/* After a primary: quantifiers. */
static void parse_quantifiers(gp *p, ir_symvec *elem)
{
    for (;;) {
        size_t save = p->i;
        /* quantifiers may not be separated by newlines in llama.cpp, but
         * spaces are fine */
        while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t'))
            p->i++;
        if (p->i >= p->n) {
            p->i = save;
            return;
        }
        char c = p->s[p->i];
        if (c != '*' && c != '+' && c != '?' && c != '{') {
            p->i = save;
            return;
        }
        size_t at = p->i;
        p->i++;
        long min = 0, max = -1;
        if (c == '+')
            min = 1;
        else if (c == '?')
            max = 1;
        else if (c == '{') {
            skip_space(p);
            bool has_min = parse_int(p, &min);
            skip_space(p);
            if (p->i < p->n && p->s[p->i] == ',') {
                p->i++;
                skip_space(p);
                if (!parse_int(p, &max))
                    max = -1;
                if (!has_min)
                    min = 0;
            } else {
                if (!has_min) {
                    gfail(p, at, "expected a number in {}%s", NULL);
                    return;
                }
                max = min;
            }
            skip_space(p);
            if (p->i >= p->n || p->s[p->i] != '}') {
                gfail(p, at, "expected '}' to close the repetition%s", NULL);
                return;
            }
            p->i++;
            if (max >= 0 && max < min) {
                gfail(p, at, "repetition maximum is below its minimum%s", NULL);
                return;
            }
        }
        uint32_t sym = elem->n == 1 ? elem->v[0] : ir_seq(p->b, elem->v, elem->n);
        uint32_t q = ir_repeat(p->b, sym, min, max);
        if (ir_failed(p->b)) {
            gfail(p, at, "%s", ir_error(p->b));
            return;
        }
        elem->n = 0;
        if (push(p, elem, q) != 0)
            return;
    }
}

/* A sequence up to '|', ')', the end, or the next rule. */
static void parse_sequence(gp *p, ir_symvec *seq, bool nested)
{
    for (;;) {
        skip_space(p);
        if (failed(p) || p->i >= p->n)
            return;
        char c = p->s[p->i];
        if (c == '|' || c == ')')
            return;
        if (!nested && at_rule_start(p))
            return;
        ir_symvec elem = {0};
        size_t at = p->i;
        if (c == '"') {
            parse_literal(p, &elem);
        } else if (c == '[') {
            uint32_t s = parse_class(p);
            if (!failed(p))
                push(p, &elem, s);
        } else if (c == '.') {
            p->i++;
            uint32_t s = ir_cpclass(p->b, NULL, 0, true);
            push(p, &elem, s);
        } else if (c == '(') {
            if (++p->depth > GBNF_MAX_DEPTH) {
                gfail(p, at, "groups nested too deeply%s", NULL);
                ir_symvec_free(&elem);
                return;
            }
            p->i++;
            uint32_t g = ir_fresh(p->b);
            parse_alternatives(p, g);
            p->depth--;
            if (!failed(p)) {
                skip_space(p);
                if (p->i >= p->n || p->s[p->i] != ')')
                    gfail(p, at, "unclosed '('%s", NULL);
                else
                    p->i++;
                push(p, &elem, g);
            }
        } else if (is_name_char(c)) {
            size_t l = name_len(p, p->i);
            int line, col;
            text_pos_next(&p->pos, p->s, p->i, &line, &col);
            uint32_t nt = ir_named(p->b, p->s + p->i, l, line, col);
            p->i += l;
            push(p, &elem, nt);
        } else if (c == '<') {
            gfail(p, at, "token references (<...>) are not supported%s", NULL);
        } else {
            char what[2] = {c, 0};
            gfail(p, at, "unexpected character '%s'", what);
        }
        if (!failed(p))
            parse_quantifiers(p, &elem);
        for (size_t k = 0; k < elem.n && !failed(p); k++)
            push(p, seq, elem.v[k]);
        ir_symvec_free(&elem);
        if (failed(p))
            return;
    }
}

static void parse_alternatives(gp *p, uint32_t lhs)
{
    bool nested = p->depth > 0;
    for (;;) {
        ir_symvec seq = {0};
        parse_sequence(p, &seq, nested);
        if (!failed(p))
            ir_add_prod(p->b, lhs, seq.v, seq.n);
        ir_symvec_free(&seq);
        if (failed(p))
            return;
        skip_space(p);
        if (p->i < p->n && p->s[p->i] == '|') {
            p->i++;
            continue;
        }
        return;
    }
}

int smc_grammar_from_gbnf(const char *text, size_t len, const char *root_rule, smc_grammar **out,
                          smc_error *err)
{
    *out = NULL;
    gp p = {.s = text, .n = len};
    p.b = ir_new();
    if (!p.b)
        return smc_fail(err, "out of memory");
    int n_rules = 0;
    for (;;) {
        skip_space(&p);
        if (failed(&p) || p.i >= p.n)
            break;
        size_t l = name_len(&p, p.i);
        if (!l) {
            gfail(&p, p.i, "expected a rule name%s", NULL);
            break;
        }
        int line, col;
        text_pos_next(&p.pos, text, p.i, &line, &col);
        uint32_t nt = ir_named(p.b, text + p.i, l, line, col);
        size_t name_at = p.i;
        p.i += l;
        skip_space(&p);
        if (p.i + 3 > p.n || memcmp(text + p.i, "::=", 3) != 0) {
            gfail(&p, p.i, "expected '::=' after the rule name%s", NULL);
            break;
        }
        p.i += 3;
        if (!ir_define(p.b, nt)) {
            gfail(&p, name_at, "rule '%s' is defined twice", ir_name(p.b, nt));
            break;
        }
        n_rules++;
        parse_alternatives(&p, nt);
        if (failed(&p))
            break;
        skip_space(&p);
        if (p.i < p.n && !at_rule_start(&p)) {
            char what[2] = {text[p.i], 0};
            gfail(&p, p.i, "unexpected '%s'", what);
            break;
        }
    }
    if (!p.err[0] && ir_failed(p.b))
        snprintf(p.err, sizeof p.err, "%s", ir_error(p.b));
    if (p.err[0]) {
        ir_free(p.b);
        return smc_fail(err, "%s", p.err);
    }
    const char *root = root_rule ? root_rule : "root";
    int r = ir_find_named(p.b, root);
    if (r < 0 || !ir_is_defined(p.b, (uint32_t)r)) {
        ir_free(p.b);
        return smc_fail(err, "no rule named '%s'", root);
    }
    return ir_finish(p.b, (uint32_t)r, n_rules, out, err);
}
