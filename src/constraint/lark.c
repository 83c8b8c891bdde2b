/* lark.c — Lark grammars (the dialect of lark / genlm-control / llguidance)
 * to the grammar IR.
 *
 * Supported: `rule: a b | c` with `|` continuation lines, ?rule / !rule / _rule
 * (same language), UPPERCASE terminals, "literal" and "literal"i, /regex/flags
 * (i, s; m u l x are rejected or harmless as noted below), "a".."z" ranges,
 * ( ) [ ] ? * + , item ~ n, item ~ n..m, item{m,n}, `-> alias`, // comments,
 * rule.N / TERM.N priorities (ignored, with a warning), %import common.X
 * [-> Y], %import common (X, Y), %ignore TERM|"lit"|/re/.
 *
 * Lexing is approximated by the CFG: %ignore'd terminals may appear before
 * every terminal of a rule and at the end of the input, and terminals are not
 * matched longest-first. The language accepted is therefore the language of
 * the grammar read as a CFG over characters — a superset of what Lark's
 * contextual lexer accepts when terminals collide. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/ir.h"
#include "constraint/regex.h"
#include "constraint/text_pos.h"
#include "util/error.h"

#define LARK_MAX_DEPTH 200

typedef struct lp {
    const char *s;
    size_t n, i;
    ir_builder *b;
    char err[400];
    int depth;
    bool in_terminal;       /* compiling a TERMINAL's body: no ignores */
    uint32_t ign;           /* the nonterminal of ignorable text */
    uint32_t *ignores;      /* symbols given to %ignore */
    size_t n_ignores, cap_ignores;
    text_cursor pos;     /* line:column of rule references */
} lp;

/* Common terminals (lark's common.lark), as regexes matching each token. */
static const struct {
    const char *name, *re;
} COMMON[] = {
    {"DIGIT", "[0-9]"},
    {"HEXDIGIT", "[a-fA-F0-9]"},
    {"INT", "[0-9]+"},
    {"SIGNED_INT", "[+-]?[0-9]+"},
    {"DECIMAL", "[0-9]+\\.[0-9]*|\\.[0-9]+"},
    {"_EXP", "[eE][+-]?[0-9]+"},
    {"FLOAT", "[0-9]+[eE][+-]?[0-9]+|([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?"},
    {"SIGNED_FLOAT", "[+-]?([0-9]+[eE][+-]?[0-9]+|([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?)"},
    {"NUMBER", "[0-9]+[eE][+-]?[0-9]+|([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+"},
    {"SIGNED_NUMBER", "[+-]?([0-9]+[eE][+-]?[0-9]+|([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+)"},
    {"ESCAPED_STRING", "\"([^\"\\\\\\n]|\\\\[^\\n])*\""},
    {"LCASE_LETTER", "[a-z]"},
    {"UCASE_LETTER", "[A-Z]"},
    {"LETTER", "[a-zA-Z]"},
    {"WORD", "[a-zA-Z]+"},
    {"CNAME", "[_a-zA-Z][_a-zA-Z0-9]*"},
    {"WS_INLINE", "[ \\t]+"},
    {"WS", "[ \\t\\f\\r\\n]+"},
    {"CR", "\\r"},
    {"LF", "\\n"},
    {"NEWLINE", "(\\r?\\n)+"},
    {"SH_COMMENT", "#[^\\n]*"},
    {"CPP_COMMENT", "//[^\\n]*"},
    {"C_COMMENT", "/\\*([^*]|\\*+[^*/])*\\*+/"},
    {"SQL_COMMENT", "--[^\\n]*"},
};

static void lfail(lp *p, size_t at, const char *fmt, const char *arg)
{
    text_fail_at(p->err, sizeof p->err, p->s, p->n, at, fmt, arg);
}

static bool lfailed(const lp *p) { return p->err[0] || ir_failed(p->b); }

/* Skips spaces, tabs and // comments; newlines too when nl. */
static void skip(lp *p, bool nl)
{
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c == ' ' || c == '\t' || c == '\r' || (nl && c == '\n')) {
            p->i++;
        } else if (c == '/' && p->i + 1 < p->n && p->s[p->i + 1] == '/') {
            while (p->i < p->n && p->s[p->i] != '\n')
                p->i++;
        } else if (c == '#') {   /* lark's grammar also treats # lines as comments */
            while (p->i < p->n && p->s[p->i] != '\n')
                p->i++;
        } else {
            break;
        }
    }
}

static bool name_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static size_t name_at(const lp *p, size_t at)
{
    size_t k = at;
    if (k < p->n && (isalpha((unsigned char)p->s[k]) || p->s[k] == '_'))
        while (k < p->n && name_char(p->s[k]))
            k++;
    return k - at;
}

/* A terminal name: the first letter (after leading '_') is uppercase. */
static bool is_terminal_name(const char *s, size_t l)
{
    size_t k = 0;
    while (k < l && s[k] == '_')
        k++;
    return k < l && isupper((unsigned char)s[k]);
}

static int push(lp *p, ir_symvec *v, uint32_t sym)
{
    if (ir_symvec_push(v, sym) != 0) {
        lfail(p, p->i, "out of memory%s", NULL);
        return -1;
    }
    return 0;
}

/* Emits IGN before a terminal in rule context. */
static void push_terminal(lp *p, ir_symvec *v, uint32_t sym)
{
    if (!p->in_terminal)
        push(p, v, p->ign);
    push(p, v, sym);
}

static long lark_hex(lp *p, int count)
{
    long v = 0;
    for (int k = 0; k < count; k++) {
        if (p->i >= p->n || !isxdigit((unsigned char)p->s[p->i])) {
            lfail(p, p->i, "bad hex escape%s", NULL);
            return -1;
        }
        char c = p->s[p->i++];
        v = v * 16 + (isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        lfail(p, p->i, "escape is not a Unicode scalar value%s", NULL);
        return -1;
    }
    return v;
}

/* Parses "..." (p->i at the quote) into code points; returns count, -1 on
 * error. *cps is malloc'd. */
static long parse_string(lp *p, uint32_t **cps)
{
    size_t start = p->i++;
    size_t cap = 16, n = 0;
    uint32_t *v = malloc(cap * sizeof *v);
    if (!v) {
        lfail(p, start, "out of memory%s", NULL);
        return -1;
    }
    for (;;) {
        if (p->i >= p->n || p->s[p->i] == '\n') {
            lfail(p, start, "unterminated string%s", NULL);
            free(v);
            return -1;
        }
        char c = p->s[p->i];
        if (c == '"') {
            p->i++;
            break;
        }
        long cp;
        if (c == '\\') {
            size_t at = p->i++;
            if (p->i >= p->n) {
                lfail(p, at, "unfinished escape%s", NULL);
                free(v);
                return -1;
            }
            char e = p->s[p->i++];
            switch (e) {
            case 'n': cp = '\n'; break;
            case 't': cp = '\t'; break;
            case 'r': cp = '\r'; break;
            case 'f': cp = '\f'; break;
            case 'v': cp = '\v'; break;
            case '0': cp = 0; break;
            case 'x': cp = lark_hex(p, 2); break;
            case 'u': cp = lark_hex(p, 4); break;
            case 'U': cp = lark_hex(p, 8); break;
            default:
                if (isalnum((unsigned char)e)) {
                    char w[2] = {e, 0};
                    lfail(p, at, "unknown escape \\%s", w);
                    cp = -1;
                } else {
                    p->i--;
                    cp = utf8_decode(p->s, p->n, &p->i);
                }
            }
        } else {
            cp = utf8_decode(p->s, p->n, &p->i);
        }
        if (cp < 0) {
            lfail(p, p->i, "invalid string character%s", NULL);
            free(v);
            return -1;
        }
        if (n == cap) {
            cap *= 2;
            uint32_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                lfail(p, start, "out of memory%s", NULL);
                return -1;
            }
            v = nv;
        }
        v[n++] = (uint32_t)cp;
    }
    *cps = v;
    return (long)n;
}

/* A literal (with i flag: letters either case) as one symbol. */
static uint32_t literal_symbol(lp *p, const uint32_t *cps, size_t n, bool icase)
{
    ir_symvec seq = {0};
    for (size_t k = 0; k < n && !lfailed(p); k++) {
        uint32_t c = cps[k];
        if (icase && c < 128 && isalpha((int)c)) {
            ir_byteset s = {{0}};
            ir_byteset_add(&s, (unsigned)tolower((int)c));
            ir_byteset_add(&s, (unsigned)toupper((int)c));
            push(p, &seq, ir_terminal(p->b, &s));
        } else {
            ir_append_cp(p->b, c, &seq.v, &seq.n, &seq.cap);
        }
    }
    uint32_t r = 0;
    if (!lfailed(p))
        r = seq.n == 0 ? ir_empty(p->b) : ir_seq(p->b, seq.v, seq.n);
    ir_symvec_free(&seq);
    return r;
}

static uint32_t parse_regex_literal(lp *p)
{
    size_t start = p->i++;
    size_t body = p->i;
    while (p->i < p->n && p->s[p->i] != '/') {
        if (p->s[p->i] == '\n') {
            lfail(p, start, "unterminated regex%s", NULL);
            return 0;
        }
        if (p->s[p->i] == '\\' && p->i + 1 < p->n)
            p->i++;
        p->i++;
    }
    if (p->i >= p->n) {
        lfail(p, start, "unterminated regex%s", NULL);
        return 0;
    }
    size_t body_end = p->i++;
    regex_opts o = {0};
    while (p->i < p->n && isalpha((unsigned char)p->s[p->i])) {
        char f = p->s[p->i];
        if (f == 'i')
            o.icase = true;
        else if (f == 's')
            o.dotall = true;
        else if (f == 'u' || f == 'l' || f == 'm') {
            /* u/l: unicode/locale — no effect here; m: only affects ^ $, which are rejected inside */
        } else {
            char w[2] = {f, 0};
            lfail(p, p->i, "unsupported regex flag '%s'", w);
            return 0;
        }
        p->i++;
    }
    /* the regex text with \/ turned into / */
    size_t len = body_end - body;
    char *re = malloc(len + 1);
    if (!re) {
        lfail(p, start, "out of memory%s", NULL);
        return 0;
    }
    size_t m = 0;
    for (size_t k = body; k < body_end; k++) {
        if (p->s[k] == '\\' && k + 1 < body_end && p->s[k + 1] == '/')
            continue;
        re[m++] = p->s[k];
    }
    char msg[300];
    size_t off = 0;
    uint32_t sym = 0;
    if (regex_to_ir(p->b, re, m, o, &sym, msg, sizeof msg, &off) != 0) {
        /* map the offset back roughly (escapes removed shift it by little) */
        lfail(p, body + off, "regex: %s", msg);
        sym = 0;
    }
    free(re);
    return sym;
}

static void parse_expansions(lp *p, uint32_t lhs);

static bool lark_int(lp *p, long *v)
{
    return text_scan_count(p->s, p->n, &p->i, v);
}

/* One atom into elem (may be several symbols). */
static void parse_atom(lp *p, ir_symvec *elem)
{
    size_t at = p->i;
    char c = p->s[p->i];
    if (c == '"') {
        uint32_t *cps = NULL;
        long n = parse_string(p, &cps);
        if (n < 0)
            return;
        /* range "a".."z" */
        size_t save = p->i;
        skip(p, false);
        if (p->i + 1 < p->n && p->s[p->i] == '.' && p->s[p->i + 1] == '.') {
            p->i += 2;
            skip(p, false);
            uint32_t *cps2 = NULL;
            long n2 = p->i < p->n && p->s[p->i] == '"' ? parse_string(p, &cps2) : -1;
            if (n != 1 || n2 != 1) {
                lfail(p, at, "a range needs two one-character strings (\"a\"..\"z\")%s", NULL);
            } else if (cps2[0] < cps[0]) {
                lfail(p, at, "range is backwards%s", NULL);
            } else {
                ir_cprange r = {cps[0], cps2[0]};
                push_terminal(p, elem, ir_cpclass(p->b, &r, 1, false));
            }
            free(cps);
            free(cps2);
            return;
        }
        p->i = save;
        bool icase = false;
        if (p->i < p->n && p->s[p->i] == 'i' && (p->i + 1 >= p->n || !name_char(p->s[p->i + 1]))) {
            icase = true;
            p->i++;
        }
        uint32_t sym = literal_symbol(p, cps, (size_t)n, icase);
        free(cps);
        if (!lfailed(p))
            push_terminal(p, elem, sym);
        return;
    }
    if (c == '/') {
        uint32_t sym = parse_regex_literal(p);
        if (!lfailed(p))
            push_terminal(p, elem, sym);
        return;
    }
    if (c == '(' || c == '[') {
        if (++p->depth > LARK_MAX_DEPTH) {
            lfail(p, at, "nested too deeply%s", NULL);
            return;
        }
        p->i++;
        uint32_t g = ir_fresh(p->b);
        parse_expansions(p, g);
        p->depth--;
        if (lfailed(p))
            return;
        skip(p, true);
        char close = c == '(' ? ')' : ']';
        if (p->i >= p->n || p->s[p->i] != close) {
            lfail(p, at, c == '(' ? "unclosed '('%s" : "unclosed '['%s", NULL);
            return;
        }
        p->i++;
        push(p, elem, c == '[' ? ir_opt(p->b, g) : g);
        return;
    }
    size_t l = name_at(p, p->i);
    if (l) {
        int line, col;
        text_pos_next(&p->pos, p->s, p->i, &line, &col);
        bool term = is_terminal_name(p->s + p->i, l);
        if (p->in_terminal && !term) {
            lfail(p, at, "terminals cannot refer to rules%s", NULL);
            return;
        }
        uint32_t nt = ir_named(p->b, p->s + p->i, l, line, col);
        p->i += l;
        if (p->i < p->n && p->s[p->i] == '{') {
            /* name{m,n} is repetition; templates (name{args}) are not supported */
            size_t k = p->i + 1;
            while (k < p->n && (p->s[k] == ' ' || p->s[k] == '\t'))
                k++;
            if (k >= p->n || (!isdigit((unsigned char)p->s[k]) && p->s[k] != ',')) {
                lfail(p, p->i, "rule templates are not supported%s", NULL);
                return;
            }
        }
        if (term)
            push_terminal(p, elem, nt);
        else
            push(p, elem, nt);
        return;
    }
    char w[2] = {c, 0};
    lfail(p, at, "unexpected '%s'", w);
}

static void parse_quantifiers(lp *p, ir_symvec *elem)
{
    for (;;) {
        size_t save = p->i;
        skip(p, false);
        if (p->i >= p->n) {
            p->i = save;
            return;
        }
        char c = p->s[p->i];
        size_t at = p->i;
        long min = 0, max = -1;
        if (c == '*' || c == '+' || c == '?') {
            p->i++;
            if (c == '+')
                min = 1;
            if (c == '?')
                max = 1;
        } else if (c == '~') {
            p->i++;
            skip(p, false);
            if (!lark_int(p, &min)) {
                lfail(p, at, "expected a number after '~'%s", NULL);
                return;
            }
            max = min;
            skip(p, false);
            if (p->i + 1 < p->n && p->s[p->i] == '.' && p->s[p->i + 1] == '.') {
                p->i += 2;
                skip(p, false);
                if (!lark_int(p, &max)) {
                    lfail(p, at, "expected a number after '..'%s", NULL);
                    return;
                }
            }
        } else if (c == '{') {
            p->i++;
            skip(p, false);
            bool has_min = lark_int(p, &min);
            skip(p, false);
            if (p->i < p->n && p->s[p->i] == ',') {
                p->i++;
                skip(p, false);
                if (!lark_int(p, &max))
                    max = -1;
                if (!has_min)
                    min = 0;
            } else if (has_min) {
                max = min;
            } else {
                lfail(p, at, "expected a number in {}%s", NULL);
                return;
            }
            skip(p, false);
            if (p->i >= p->n || p->s[p->i] != '}') {
                lfail(p, at, "expected '}'%s", NULL);
                return;
            }
            p->i++;
        } else {
            p->i = save;
            return;
        }
        if (max >= 0 && max < min) {
            lfail(p, at, "repetition maximum is below its minimum%s", NULL);
            return;
        }
        uint32_t sym = elem->n == 1 ? elem->v[0] : ir_seq(p->b, elem->v, elem->n);
        uint32_t q = ir_repeat(p->b, sym, min, max);
        if (ir_failed(p->b)) {
            lfail(p, at, "%s", ir_error(p->b));
            return;
        }
        elem->n = 0;
        push(p, elem, q);
    }
}

/* One alternative, up to '|', ')', ']', a newline at the top level, or the end. */
static void parse_sequence(lp *p, ir_symvec *seq)
{
    for (;;) {
        skip(p, p->depth > 0);
        if (lfailed(p) || p->i >= p->n)
            return;
        char c = p->s[p->i];
        if (c == '|' || c == ')' || c == ']' || c == '\n')
            return;
        if (c == '-' && p->i + 1 < p->n && p->s[p->i + 1] == '>') {
            /* alias: skip the name */
            p->i += 2;
            skip(p, false);
            p->i += name_at(p, p->i);
            continue;
        }
        ir_symvec elem = {0};
        parse_atom(p, &elem);
        if (!lfailed(p))
            parse_quantifiers(p, &elem);
        for (size_t k = 0; k < elem.n && !lfailed(p); k++)
            push(p, seq, elem.v[k]);
        ir_symvec_free(&elem);
    }
}

static void parse_expansions(lp *p, uint32_t lhs)
{
    for (;;) {
        ir_symvec seq = {0};
        parse_sequence(p, &seq);
        if (!lfailed(p))
            ir_add_prod(p->b, lhs, seq.v, seq.n);
        ir_symvec_free(&seq);
        if (lfailed(p))
            return;
        size_t save = p->i;
        skip(p, true);
        if (p->i < p->n && p->s[p->i] == '|') {
            p->i++;
            continue;
        }
        p->i = save;
        return;
    }
}

static int find_common(const char *name, size_t l)
{
    for (size_t k = 0; k < sizeof COMMON / sizeof COMMON[0]; k++)
        if (strlen(COMMON[k].name) == l && memcmp(COMMON[k].name, name, l) == 0)
            return (int)k;
    return -1;
}

static void import_common(lp *p, size_t at, const char *name, size_t l, const char *as, size_t as_l)
{
    int k = find_common(name, l);
    if (k < 0) {
        char nm[64];
        snprintf(nm, sizeof nm, "%.*s", (int)(l < 60 ? l : 60), name);
        lfail(p, at, "unknown terminal common.%s", nm);
        return;
    }
    int line, col;
    text_pos_next(&p->pos, p->s, at, &line, &col);
    uint32_t nt = ir_named(p->b, as, as_l, line, col);
    if (!ir_define(p->b, nt))
        return;   /* imported twice or defined: keep the first */
    char msg[200];
    size_t off;
    uint32_t sym;
    regex_opts o = {0};
    if (regex_to_ir(p->b, COMMON[k].re, strlen(COMMON[k].re), o, &sym, msg, sizeof msg, &off) != 0) {
        lfail(p, at, "internal: %s", msg);
        return;
    }
    ir_add_prod(p->b, nt, &sym, 1);
}

static void parse_directive(lp *p)
{
    size_t at = p->i++;
    size_t l = name_at(p, p->i);
    const char *d = p->s + p->i;
    p->i += l;
    skip(p, false);
    if (l == 6 && memcmp(d, "import", 6) == 0) {
        /* common.NAME [-> ALIAS] | common (A, B) */
        size_t ml = name_at(p, p->i);
        if (ml != 6 || memcmp(p->s + p->i, "common", 6) != 0) {
            lfail(p, at, "only %%import common.X is supported%s", NULL);
            return;
        }
        p->i += 6;
        if (p->i < p->n && p->s[p->i] == '.') {
            p->i++;
            size_t nl = name_at(p, p->i);
            const char *nm = p->s + p->i;
            size_t nat = p->i;
            p->i += nl;
            skip(p, false);
            const char *as = nm;
            size_t as_l = nl;
            if (p->i + 1 < p->n && p->s[p->i] == '-' && p->s[p->i + 1] == '>') {
                p->i += 2;
                skip(p, false);
                as_l = name_at(p, p->i);
                as = p->s + p->i;
                p->i += as_l;
            }
            if (!nl || !as_l) {
                lfail(p, nat, "expected a terminal name%s", NULL);
                return;
            }
            import_common(p, nat, nm, nl, as, as_l);
            return;
        }
        skip(p, false);
        if (p->i >= p->n || p->s[p->i] != '(') {
            lfail(p, p->i, "expected '.' or '(' after %%import common%s", NULL);
            return;
        }
        p->i++;
        for (;;) {
            skip(p, true);
            size_t nl = name_at(p, p->i);
            if (!nl) {
                lfail(p, p->i, "expected a terminal name%s", NULL);
                return;
            }
            import_common(p, p->i, p->s + p->i, nl, p->s + p->i, nl);
            p->i += nl;
            skip(p, true);
            if (p->i < p->n && p->s[p->i] == ',') {
                p->i++;
                continue;
            }
            if (p->i < p->n && p->s[p->i] == ')') {
                p->i++;
                return;
            }
            lfail(p, p->i, "expected ',' or ')'%s", NULL);
            return;
        }
    }
    if (l == 6 && memcmp(d, "ignore", 6) == 0) {
        bool saved = p->in_terminal;
        p->in_terminal = true;
        uint32_t g = ir_fresh(p->b);
        parse_expansions(p, g);
        p->in_terminal = saved;
        if (lfailed(p))
            return;
        if (p->n_ignores == p->cap_ignores) {
            size_t cap = p->cap_ignores ? p->cap_ignores * 2 : 4;
            uint32_t *v = realloc(p->ignores, cap * sizeof *v);
            if (!v) {
                lfail(p, at, "out of memory%s", NULL);
                return;
            }
            p->ignores = v;
            p->cap_ignores = cap;
        }
        p->ignores[p->n_ignores++] = g;
        return;
    }
    char w[40];
    snprintf(w, sizeof w, "%.*s", (int)(l < 30 ? l : 30), d);
    lfail(p, at, "unsupported directive %%%s", w);
}

int smc_grammar_from_lark(const char *text, size_t len, const char *start, smc_grammar **out, smc_error *err)
{
    *out = NULL;
    lp p = {.s = text, .n = len};
    p.b = ir_new();
    if (!p.b)
        return smc_fail(err, "out of memory");
    p.ign = ir_fresh(p.b);
    int n_rules = 0;
    for (;;) {
        skip(&p, true);
        if (lfailed(&p) || p.i >= p.n)
            break;
        if (p.s[p.i] == '%') {
            parse_directive(&p);
            continue;
        }
        size_t def_at = p.i;
        while (p.i < p.n && (p.s[p.i] == '?' || p.s[p.i] == '!'))
            p.i++;
        size_t l = name_at(&p, p.i);
        if (!l) {
            lfail(&p, p.i, "expected a rule or terminal definition%s", NULL);
            break;
        }
        const char *nm = p.s + p.i;
        int line, col;
        text_pos_next(&p.pos, text, p.i, &line, &col);
        p.i += l;
        if (p.i < p.n && p.s[p.i] == '.') {
            p.i++;
            if (p.i < p.n && p.s[p.i] == '-')
                p.i++;
            long pr;
            if (!lark_int(&p, &pr)) {
                lfail(&p, p.i, "expected a priority number%s", NULL);
                break;
            }
            ir_warn(p.b, "%d:%d: priority of '%.*s' ignored", line, col, (int)(l < 60 ? l : 60), nm);
        }
        skip(&p, false);
        if (p.i < p.n && p.s[p.i] == '{') {
            lfail(&p, p.i, "rule templates are not supported%s", NULL);
            break;
        }
        if (p.i >= p.n || p.s[p.i] != ':') {
            lfail(&p, p.i, "expected ':' after the name%s", NULL);
            break;
        }
        p.i++;
        uint32_t nt = ir_named(p.b, nm, l, line, col);
        if (!ir_define(p.b, nt)) {
            lfail(&p, def_at, "'%s' is defined twice", ir_name(p.b, nt));
            break;
        }
        n_rules++;
        p.in_terminal = is_terminal_name(nm, l);
        parse_expansions(&p, nt);
        p.in_terminal = false;
        if (lfailed(&p))
            break;
        skip(&p, false);
        if (p.i < p.n && p.s[p.i] != '\n') {
            char w[2] = {p.s[p.i], 0};
            lfail(&p, p.i, "unexpected '%s'", w);
            break;
        }
    }
    if (!p.err[0] && ir_failed(p.b))
        snprintf(p.err, sizeof p.err, "%s", ir_error(p.b));
    if (!p.err[0]) {
        /* IGN ::= "" | IGN ignore_k */
        ir_add_prod(p.b, p.ign, NULL, 0);
        for (size_t k = 0; k < p.n_ignores; k++) {
            uint32_t rhs[2] = {p.ign, p.ignores[k]};
            ir_add_prod(p.b, p.ign, rhs, 2);
        }
    }
    free(p.ignores);
    if (p.err[0]) {
        ir_free(p.b);
        return smc_fail(err, "%s", p.err);
    }
    const char *st = start ? start : "start";
    int r = ir_find_named(p.b, st);
    if (r < 0 || !ir_is_defined(p.b, (uint32_t)r)) {
        ir_free(p.b);
        return smc_fail(err, "no rule named '%s'", st);
    }
    /* S -> start IGN (ignorable text at the end) */
    uint32_t top = ir_fresh(p.b);
    uint32_t rhs[2] = {(uint32_t)r, p.ign};
    ir_add_prod(p.b, top, rhs, 2);
    return ir_finish(p.b, top, n_rules, out, err);
}
