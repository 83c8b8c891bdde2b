/* regex.c — a PCRE-like regex subset to the grammar IR.
 *
 * Supported: alternation, groups ( ), (?: ), named groups (?P<n> ) (?<n> ),
 * a leading inline flag group (?i) (?s) (?is), classes [...] [^...] with
 * ranges and escapes, '.', \d \w \s \D \W \S (ASCII meanings, as PCRE2
 * without UCP), escapes \t \n \r \f \v \e \a \0 \xHH \x{H..} \uHHHH and escaped
 * punctuation, quantifiers * + ? {m} {m,} {m,n} {,n}, lazy forms (same
 * language, so treated as greedy), ^ only at the start and $ only at the end.
 * Rejected with an error: backreferences, lookaround, \b \B \A \z \Z \G,
 * possessive quantifiers, POSIX classes, \p{...}. Code points are matched as
 * their UTF-8 bytes. */
#include "constraint/regex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint/text_pos.h"

#define RX_MAX_DEPTH 200

typedef struct rx {
    const char *s;
    size_t n, i;
    ir_builder *b;
    regex_opts o;
    char *msg;
    size_t msg_len;
    size_t err_off;
    bool err;
    int depth;
} rx;

static void rfail(rx *p, size_t at, const char *m)
{
    if (p->err)
        return;
    p->err = true;
    p->err_off = at;
    snprintf(p->msg, p->msg_len, "%s", m);
}

static bool rfailed(const rx *p) { return p->err || ir_failed(p->b); }

typedef struct cpset {
    ir_cprange *r;
    size_t n, cap;
} cpset;

static void cps_add(rx *p, cpset *s, uint32_t lo, uint32_t hi)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        ir_cprange *r = realloc(s->r, cap * sizeof *r);
        if (!r) {
            rfail(p, p->i, "out of memory");
            return;
        }
        s->r = r;
        s->cap = cap;
    }
    s->r[s->n++] = (ir_cprange){lo, hi};
}

/* Adds the complement of the ranges in src (sorted or not) to dst. */
static void cps_add_complement(rx *p, cpset *dst, const ir_cprange *src, size_t n)
{
    /* simple O(n^2) for the tiny built-in sets */
    uint32_t next = 0;
    for (;;) {
        /* find the smallest range with lo >= next */
        uint32_t best_lo = 0x110000, best_hi = 0;
        for (size_t k = 0; k < n; k++) {
            if (src[k].hi >= next && src[k].lo < best_lo) {
                best_lo = src[k].lo < next ? next : src[k].lo;
                best_hi = src[k].hi;
            }
        }
        if (best_lo > next)
            cps_add(p, dst, next, best_lo - 1 > 0x10FFFF ? 0x10FFFF : best_lo - 1);
        if (best_lo >= 0x110000)
            return;
        next = best_hi + 1;
    }
}

static const ir_cprange DIGIT[] = {{'0', '9'}};
static const ir_cprange WORD[] = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
static const ir_cprange SPACE[] = {{'\t', '\r'}, {' ', ' '}};

static void add_icase(rx *p, cpset *s)
{
    if (!p->o.icase)
        return;
    size_t n = s->n;
    for (size_t k = 0; k < n; k++) {
        uint32_t lo = s->r[k].lo, hi = s->r[k].hi;
        uint32_t a = lo < 'a' ? 'a' : lo, z = hi > 'z' ? 'z' : hi;
        if (a <= z)
            cps_add(p, s, a - 32, z - 32);
        a = lo < 'A' ? 'A' : lo;
        z = hi > 'Z' ? 'Z' : hi;
        if (a <= z)
            cps_add(p, s, a + 32, z + 32);
    }
}

static long hexn(rx *p, int count)
{
    long v = 0;
    for (int k = 0; k < count; k++) {
        if (p->i >= p->n || !isxdigit((unsigned char)p->s[p->i])) {
            rfail(p, p->i, "bad hex escape");
            return -1;
        }
        char c = p->s[p->i++];
        v = v * 16 + (isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10);
    }
    return v;
}

/* An escape after '\\' (p->i at the char after the backslash). Returns a
 * code point, or -2 when it added a class to *cls (which must be non-NULL for
 * class escapes to be allowed). */
static long parse_escape(rx *p, cpset *cls)
{
    size_t at = p->i - 1;
    if (p->i >= p->n) {
        rfail(p, at, "pattern ends with a backslash");
        return -1;
    }
    char c = p->s[p->i++];
    switch (c) {
    case 'd': case 'D': case 'w': case 'W': case 's': case 'S': {
        const ir_cprange *r = c == 'd' || c == 'D' ? DIGIT : c == 'w' || c == 'W' ? WORD : SPACE;
        size_t n = c == 'd' || c == 'D' ? 1 : c == 'w' || c == 'W' ? 4 : 2;
        if (isupper((unsigned char)c))
            cps_add_complement(p, cls, r, n);
        else
            for (size_t k = 0; k < n; k++)
                cps_add(p, cls, r[k].lo, r[k].hi);
        return -2;
    }
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case 'e': return 27;
    case 'a': return 7;
    case '0': return 0;
    case 'x':
        if (p->i < p->n && p->s[p->i] == '{') {
            p->i++;
            long v = 0;
            int k = 0;
            while (p->i < p->n && isxdigit((unsigned char)p->s[p->i]) && k < 8) {
                char h = p->s[p->i++];
                v = v * 16 + (isdigit((unsigned char)h) ? h - '0' : tolower((unsigned char)h) - 'a' + 10);
                k++;
            }
            if (!k || p->i >= p->n || p->s[p->i] != '}') {
                rfail(p, at, "bad \\x{...} escape");
                return -1;
            }
            p->i++;
            if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
                rfail(p, at, "escape is not a Unicode scalar value");
                return -1;
            }
            return v;
        }
        return hexn(p, 2);
    case 'u': {
        long v = hexn(p, 4);
        if (v >= 0xD800 && v <= 0xDFFF) {
            rfail(p, at, "escape is a surrogate");
            return -1;
        }
        return v;
    }
    case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G':
        rfail(p, at, "anchors and word boundaries (\\b \\B \\A \\z \\Z \\G) are not supported");
        return -1;
    case 'p': case 'P':
        rfail(p, at, "Unicode properties (\\p{...}) are not supported");
        return -1;
    case 'k': case 'g':
        rfail(p, at, "backreferences are not supported");
        return -1;
    default:
        if (c >= '1' && c <= '9') {
            rfail(p, at, "backreferences are not supported");
            return -1;
        }
        if (isalnum((unsigned char)c)) {
            char m[64];
            snprintf(m, sizeof m, "unknown escape \\%c", c);
            rfail(p, at, m);
            return -1;
        }
        if ((unsigned char)c >= 0x80) {
            p->i--;
            long cp = utf8_decode(p->s, p->n, &p->i);
            if (cp < 0)
                rfail(p, at, "invalid UTF-8");
            return cp;
        }
        return (unsigned char)c;
    }
}

static long literal_cp(rx *p)
{
    size_t at = p->i;
    long cp = utf8_decode(p->s, p->n, &p->i);
    if (cp < 0)
        rfail(p, at, "invalid UTF-8 in the pattern");
    return cp;
}

static uint32_t cps_symbol(rx *p, cpset *s, bool negate)
{
    add_icase(p, s);
    if (rfailed(p))
        return 0;
    return ir_cpclass(p->b, s->r, s->n, negate);
}

static uint32_t parse_class(rx *p)
{
    size_t start = p->i;
    p->i++;
    bool negate = false;
    if (p->i < p->n && p->s[p->i] == '^') {
        negate = true;
        p->i++;
    }
    cpset s = {0};
    bool first = true;
    while (!rfailed(p)) {
        if (p->i >= p->n) {
            rfail(p, start, "unterminated character class");
            break;
        }
        char c = p->s[p->i];
        if (c == ']' && !first) {
            p->i++;
            break;
        }
        first = false;
        if (c == '[' && p->i + 1 < p->n && (p->s[p->i + 1] == ':' || p->s[p->i + 1] == '=' || p->s[p->i + 1] == '.')) {
            rfail(p, p->i, "POSIX classes ([:alpha:]) are not supported");
            break;
        }
        long lo;
        if (c == '\\') {
            p->i++;
            lo = parse_escape(p, &s);
            if (lo == -2)
                continue;
        } else {
            lo = literal_cp(p);
        }
        if (lo < 0)
            break;
        long hi = lo;
        if (p->i + 1 < p->n && p->s[p->i] == '-' && p->s[p->i + 1] != ']') {
            size_t at = p->i;
            p->i++;
            if (p->s[p->i] == '\\') {
                p->i++;
                cpset junk = {0};
                hi = parse_escape(p, &junk);
                free(junk.r);
                if (hi == -2) {
                    rfail(p, at, "a class escape cannot end a range");
                    break;
                }
            } else {
                hi = literal_cp(p);
            }
            if (hi < 0)
                break;
            if (hi < lo) {
                rfail(p, at, "character range is backwards");
                break;
            }
        }
        cps_add(p, &s, (uint32_t)lo, (uint32_t)hi);
    }
    uint32_t sym = 0;
    if (!rfailed(p))
        sym = cps_symbol(p, &s, negate);
    free(s.r);
    return sym;
}

static uint32_t parse_alt(rx *p);

static bool rx_int(rx *p, long *v)
{
    return text_scan_count(p->s, p->n, &p->i, v);
}

/* Is there a valid {m}, {m,}, {m,n} or {,n} at p->i? (Otherwise '{' is a
 * literal, as in PCRE.) */
static bool brace_quantifier(rx *p, long *min, long *max)
{
    size_t save = p->i;
    p->i++;
    long a = 0, b = -1;
    bool has_a = rx_int(p, &a);
    if (p->i < p->n && p->s[p->i] == ',') {
        p->i++;
        bool has_b = rx_int(p, &b);
        if (!has_b)
            b = -1;
        if (!has_a && !has_b) {
            p->i = save;
            return false;
        }
    } else {
        if (!has_a) {
            p->i = save;
            return false;
        }
        b = a;
    }
    if (p->i >= p->n || p->s[p->i] != '}') {
        p->i = save;
        return false;
    }
    p->i++;
    *min = a;
    *max = b;
    return true;
}

static uint32_t parse_atom(rx *p, bool *ok)
{
    *ok = true;
    char c = p->s[p->i];
    size_t at = p->i;
    if (c == '(') {
        p->i++;
        if (p->i < p->n && p->s[p->i] == '?') {
            p->i++;
            if (p->i < p->n && p->s[p->i] == ':') {
                p->i++;
            } else if (p->i < p->n && (p->s[p->i] == 'P' || p->s[p->i] == '<') &&
                       !(p->s[p->i] == '<' && p->i + 1 < p->n && (p->s[p->i + 1] == '=' || p->s[p->i + 1] == '!'))) {
                if (p->s[p->i] == 'P')
                    p->i++;
                if (p->i >= p->n || p->s[p->i] != '<') {
                    rfail(p, at, "unsupported group syntax");
                    return 0;
                }
                while (p->i < p->n && p->s[p->i] != '>')
                    p->i++;
                if (p->i >= p->n) {
                    rfail(p, at, "unterminated group name");
                    return 0;
                }
                p->i++;
            } else {
                rfail(p, at, "lookaround, inline flags inside the pattern and other (?...) groups are not supported");
                return 0;
            }
        }
        if (++p->depth > RX_MAX_DEPTH) {
            rfail(p, at, "groups nested too deeply");
            return 0;
        }
        uint32_t s = parse_alt(p);
        p->depth--;
        if (rfailed(p))
            return 0;
        if (p->i >= p->n || p->s[p->i] != ')') {
            rfail(p, at, "unclosed '('");
            return 0;
        }
        p->i++;
        return s;
    }
    if (c == '[')
        return parse_class(p);
    if (c == '.') {
        p->i++;
        cpset s = {0};
        if (!p->o.dotall)
            cps_add(p, &s, '\n', '\n');
        uint32_t sym = rfailed(p) ? 0 : ir_cpclass(p->b, s.r, s.n, true);
        free(s.r);
        return sym;
    }
    if (c == '^' || c == '$') {
        rfail(p, at, "'^' and '$' are only allowed at the start and end of the pattern");
        return 0;
    }
    if (c == '*' || c == '+' || c == '?') {
        rfail(p, at, "quantifier without anything to repeat");
        return 0;
    }
    if (c == ')') {
        rfail(p, at, "unmatched ')'");
        return 0;
    }
    long cp;
    cpset s = {0};
    if (c == '\\') {
        p->i++;
        cp = parse_escape(p, &s);
        if (cp == -2) {
            uint32_t sym = cps_symbol(p, &s, false);
            free(s.r);
            return sym;
        }
    } else {
        cp = literal_cp(p);
    }
    if (cp < 0) {
        free(s.r);
        return 0;
    }
    cps_add(p, &s, (uint32_t)cp, (uint32_t)cp);
    uint32_t sym = cps_symbol(p, &s, false);
    free(s.r);
    return sym;
}

static uint32_t parse_concat(rx *p)
{
    ir_symvec seq = {0};
    while (!rfailed(p) && p->i < p->n && p->s[p->i] != '|' && p->s[p->i] != ')') {
        if (p->s[p->i] == '$' && p->i + 1 == p->n && p->o.allow_anchors && p->depth == 0) {
            p->i++;
            break;
        }
        bool ok;
        uint32_t a = parse_atom(p, &ok);
        if (rfailed(p))
            break;
        for (;;) {
            if (p->i >= p->n)
                break;
            char c = p->s[p->i];
            long min, max;
            size_t at = p->i;
            if (c == '*') {
                min = 0, max = -1;
                p->i++;
            } else if (c == '+') {
                min = 1, max = -1;
                p->i++;
            } else if (c == '?') {
                min = 0, max = 1;
                p->i++;
            } else if (c == '{' && brace_quantifier(p, &min, &max)) {
                if (max >= 0 && max < min) {
                    rfail(p, at, "repetition maximum is below its minimum");
                    break;
                }
            } else {
                break;
            }
            if (p->i < p->n && p->s[p->i] == '?')
                p->i++;   /* lazy: same language */
            else if (p->i < p->n && p->s[p->i] == '+') {
                rfail(p, p->i, "possessive quantifiers are not supported");
                break;
            }
            a = ir_repeat(p->b, a, min, max);
            if (ir_failed(p->b)) {
                rfail(p, at, ir_error(p->b));
                break;
            }
        }
        if (ir_symvec_push(&seq, a) != 0)
            rfail(p, p->i, "out of memory");
    }
    uint32_t r = 0;
    if (!rfailed(p))
        r = seq.n == 0 ? ir_empty(p->b) : ir_seq(p->b, seq.v, seq.n);
    ir_symvec_free(&seq);
    return r;
}

static uint32_t parse_alt(rx *p)
{
    uint32_t first = parse_concat(p);
    if (rfailed(p) || p->i >= p->n || p->s[p->i] != '|')
        return first;
    uint32_t nt = ir_fresh(p->b);
    ir_add_prod(p->b, nt, &first, 1);
    while (!rfailed(p) && p->i < p->n && p->s[p->i] == '|') {
        p->i++;
        uint32_t s = parse_concat(p);
        if (!rfailed(p))
            ir_add_prod(p->b, nt, &s, 1);
    }
    return nt;
}

int regex_to_ir(ir_builder *b, const char *pat, size_t len, regex_opts opts, uint32_t *sym, char *msg,
                size_t msg_len, size_t *err_off)
{
    rx p = {.s = pat, .n = len, .b = b, .o = opts, .msg = msg, .msg_len = msg_len};
    if (opts.allow_anchors && p.n && p.s[0] == '^')
        p.i++;
    /* a leading inline flag group */
    if (p.i + 2 < p.n && p.s[p.i] == '(' && p.s[p.i + 1] == '?') {
        size_t k = p.i + 2;
        bool i = false, s = false, good = true;
        while (k < p.n && p.s[k] != ')' && p.s[k] != ':') {
            if (p.s[k] == 'i')
                i = true;
            else if (p.s[k] == 's')
                s = true;
            else
                good = false;
            k++;
        }
        if (good && k < p.n && p.s[k] == ')' && k > p.i + 2) {
            p.o.icase |= i;
            p.o.dotall |= s;
            p.i = k + 1;
        }
    }
    uint32_t r = parse_alt(&p);
    if (!rfailed(&p) && p.i < p.n)
        rfail(&p, p.i, p.s[p.i] == ')' ? "unmatched ')'" : "unexpected character");
    if (!p.err && ir_failed(b))
        rfail(&p, p.i, ir_error(b));
    if (p.err) {
        *err_off = p.err_off;
        return -1;
    }
    *sym = r;
    return 0;
}

int smc_grammar_from_regex(const char *pattern, size_t len, smc_grammar **out, smc_error *err)
{
    *out = NULL;
    ir_builder *b = ir_new();
    if (!b) {
        if (err)
            snprintf(err->msg, sizeof err->msg, "out of memory");
        return -1;
    }
    char msg[300];
    size_t off = 0;
    uint32_t sym;
    regex_opts o = {.allow_anchors = true};
    if (regex_to_ir(b, pattern, len, o, &sym, msg, sizeof msg, &off) != 0) {
        ir_free(b);
        int line, col;
        text_pos(pattern, off, &line, &col);
        if (err)
            snprintf(err->msg, sizeof err->msg, "%d:%d: %s", line, col, msg);
        return -1;
    }
    /* root must be a nonterminal */
    uint32_t root = ir_fresh(b);
    ir_add_prod(b, root, &sym, 1);
    return ir_finish(b, root, 1, out, err);
}
