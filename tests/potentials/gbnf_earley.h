/* gbnf_earley.h — a small, independent GBNF reader and Earley recognizer
 * for the grammar tests (header-only; test code, not the library's engine).
 *
 * Reading follows llama.cpp's grammar parser: a rule continues on the next
 * line only after "::=", after '|' or inside parentheses; literals and
 * classes take C-like escapes; postfix * + ? apply to the element before.
 * Groups and repetitions become fresh nonterminals. Matching is over bytes
 * (the grammars under test are ASCII). */
#ifndef SMC_TEST_GBNF_EARLEY_H
#define SMC_TEST_GBNF_EARLEY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint64_t bits[4]; } ge_set;          /* a byte class */
typedef struct { int lhs; int *rhs; int n; } ge_prod;  /* rhs: >= 0 nonterminal, < 0 class -(k+1) */

typedef struct {
    char (*names)[64];
    int n_nt, cap_nt;
    bool *defined;
    ge_prod *prods;
    int n_prods, cap_prods;
    ge_set *classes;
    int n_classes, cap_classes;
    bool *nullable;
    char err[160];
    const char *src;
} ge_grammar;

static int ge_nt(ge_grammar *g, const char *name, size_t len)
{
    for (int i = 0; i < g->n_nt; i++)
        if (strlen(g->names[i]) == len && strncmp(g->names[i], name, len) == 0)
            return i;
    if (g->n_nt == g->cap_nt) {
        g->cap_nt = g->cap_nt ? 2 * g->cap_nt : 64;
        g->names = realloc(g->names, (size_t)g->cap_nt * sizeof *g->names);
        g->defined = realloc(g->defined, (size_t)g->cap_nt * sizeof *g->defined);
    }
    snprintf(g->names[g->n_nt], 64, "%.*s", (int)(len < 63 ? len : 63), name);
    g->defined[g->n_nt] = false;
    return g->n_nt++;
}

static int ge_fresh(ge_grammar *g)
{
    char nm[32];
    snprintf(nm, sizeof nm, " %d", g->n_nt);
    int id = ge_nt(g, nm, strlen(nm));
    g->defined[id] = true;
    return id;
}

static void ge_add_prod(ge_grammar *g, int lhs, const int *rhs, int n)
{
    if (g->n_prods == g->cap_prods) {
        g->cap_prods = g->cap_prods ? 2 * g->cap_prods : 128;
        g->prods = realloc(g->prods, (size_t)g->cap_prods * sizeof *g->prods);
    }
    ge_prod *p = &g->prods[g->n_prods++];
    p->lhs = lhs;
    p->n = n;
    p->rhs = malloc(sizeof(int) * (size_t)(n + 1));
    if (n)
        memcpy(p->rhs, rhs, sizeof(int) * (size_t)n);
}

static int ge_class(ge_grammar *g, const ge_set *s)
{
    if (g->n_classes == g->cap_classes) {
        g->cap_classes = g->cap_classes ? 2 * g->cap_classes : 128;
        g->classes = realloc(g->classes, (size_t)g->cap_classes * sizeof *g->classes);
    }
    g->classes[g->n_classes] = *s;
    return -(g->n_classes++) - 1;
}

static void ge_set_add(ge_set *s, unsigned c) { s->bits[c >> 6] |= 1ULL << (c & 63); }
static bool ge_set_has(const ge_set *s, unsigned c) { return (s->bits[c >> 6] >> (c & 63)) & 1; }

static const char *ge_space(const char *p, bool newline_ok)
{
    for (;;) {
        if (*p == ' ' || *p == '\t' || ((*p == '\n' || *p == '\r') && newline_ok)) {
            p++;
        } else if (*p == '#') {
            while (*p && *p != '\n' && *p != '\r')
                p++;
        } else {
            return p;
        }
    }
}

static bool ge_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* One (possibly escaped) character; NULL on a bad escape. */
static const char *ge_char(const char *p, unsigned *out)
{
    if (*p != '\\') {
        *out = (unsigned char)*p;
        return *p ? p + 1 : NULL;
    }
    p++;
    switch (*p) {
    case 'n': *out = '\n'; return p + 1;
    case 't': *out = '\t'; return p + 1;
    case 'r': *out = '\r'; return p + 1;
    case '\\': case '"': case '[': case ']': case '-': case '\'': *out = (unsigned char)*p; return p + 1;
    case 'x': {
        unsigned v = 0;
        for (int i = 1; i <= 2; i++) {
            char h = p[i];
            int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (d < 0)
                return NULL;
            v = v * 16 + (unsigned)d;
        }
        *out = v;
        return p + 3;
    }
    default:
        return NULL;
    }
}

static const char *ge_alternates(ge_grammar *g, const char *p, int lhs, bool nested);

static const char *ge_sequence(ge_grammar *g, const char *p, int *seq, int *n, bool nested)
{
    for (;;) {
        int start = *n;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                unsigned c;
                p = ge_char(p, &c);
                if (!p || c == '\n')
                    return NULL;
                ge_set s = {{0}};
                ge_set_add(&s, c);
                seq[(*n)++] = ge_class(g, &s);
            }
            if (*p != '"')
                return NULL;
            p = ge_space(p + 1, nested);
        } else if (*p == '[') {
            p++;
            bool neg = *p == '^';
            if (neg)
                p++;
            ge_set s = {{0}};
            while (*p && *p != ']') {
                unsigned a, b;
                p = ge_char(p, &a);
                if (!p)
                    return NULL;
                b = a;
                if (*p == '-' && p[1] != ']') {
                    p = ge_char(p + 1, &b);
                    if (!p)
                        return NULL;
                }
                for (unsigned c = a; c <= b && c < 256; c++)
                    ge_set_add(&s, c);
            }
            if (*p != ']')
                return NULL;
            if (neg)
                for (int k = 0; k < 4; k++)
                    s.bits[k] = ~s.bits[k];
            seq[(*n)++] = ge_class(g, &s);
            p = ge_space(p + 1, nested);
        } else if (ge_name_char(*p)) {
            const char *q = p;
            while (ge_name_char(*p))
                p++;
            seq[(*n)++] = ge_nt(g, q, (size_t)(p - q));
            p = ge_space(p, nested);
        } else if (*p == '(') {
            int sub = ge_fresh(g);
            p = ge_space(p + 1, true);
            p = ge_alternates(g, p, sub, true);
            if (!p || *p != ')')
                return NULL;
            seq[(*n)++] = sub;
            p = ge_space(p + 1, nested);
        } else if (*p == '.') {
            ge_set s;
            memset(&s, 0xff, sizeof s);
            seq[(*n)++] = ge_class(g, &s);
            p = ge_space(p + 1, nested);
        } else {
            return p;
        }
        if (*p == '*' || *p == '+' || *p == '?') {
            /* the last element (a literal may have produced several) */
            int elem = ge_fresh(g);
            ge_add_prod(g, elem, seq + start, *n - start);
            *n = start;
            int rep = ge_fresh(g);
            int one[2] = {rep, elem};
            if (*p == '*') {
                ge_add_prod(g, rep, NULL, 0);
                ge_add_prod(g, rep, one, 2);
            } else if (*p == '+') {
                ge_add_prod(g, rep, &elem, 1);
                ge_add_prod(g, rep, one, 2);
            } else {
                ge_add_prod(g, rep, NULL, 0);
                ge_add_prod(g, rep, &elem, 1);
            }
            seq[(*n)++] = rep;
            p = ge_space(p + 1, nested);
        }
    }
}

static const char *ge_alternates(ge_grammar *g, const char *p, int lhs, bool nested)
{
    int seq[4096];
    for (;;) {
        int n = 0;
        p = ge_sequence(g, p, seq, &n, nested);
        if (!p)
            return NULL;
        ge_add_prod(g, lhs, seq, n);
        if (*p != '|')
            return p;
        p = ge_space(p + 1, true);
    }
}

static void ge_free(ge_grammar *g)
{
    for (int i = 0; i < g->n_prods; i++)
        free(g->prods[i].rhs);
    free(g->prods);
    free(g->names);
    free(g->defined);
    free(g->classes);
    free(g->nullable);
    memset(g, 0, sizeof *g);
}

/* Reads a grammar; 0, or -1 with g->err set. */
static int ge_read(ge_grammar *g, const char *text)
{
    memset(g, 0, sizeof *g);
    const char *p = ge_space(text, true);
    while (*p) {
        const char *q = p;
        while (ge_name_char(*p))
            p++;
        if (p == q) {
            snprintf(g->err, sizeof g->err, "expecting a rule name at \"%.30s\"", q);
            return -1;
        }
        int lhs = ge_nt(g, q, (size_t)(p - q));
        if (g->defined[lhs]) {
            snprintf(g->err, sizeof g->err, "rule %s defined twice", g->names[lhs]);
            return -1;
        }
        g->defined[lhs] = true;
        p = ge_space(p, false);
        if (strncmp(p, "::=", 3) != 0) {
            snprintf(g->err, sizeof g->err, "expecting ::= at \"%.30s\"", p);
            return -1;
        }
        p = ge_alternates(g, ge_space(p + 3, true), lhs, false);
        if (!p) {
            snprintf(g->err, sizeof g->err, "syntax error in rule %s", g->names[lhs]);
            return -1;
        }
        if (*p == '\r')
            p++;
        if (*p == '\n')
            p++;
        else if (*p) {
            snprintf(g->err, sizeof g->err, "expecting newline or end at \"%.30s\"", p);
            return -1;
        }
        p = ge_space(p, true);
    }
    for (int i = 0; i < g->n_nt; i++)
        if (!g->defined[i]) {
            snprintf(g->err, sizeof g->err, "undefined rule %s", g->names[i]);
            return -1;
        }
    g->nullable = calloc((size_t)g->n_nt + 1, sizeof *g->nullable);
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < g->n_prods; i++) {
            const ge_prod *pr = &g->prods[i];
            if (g->nullable[pr->lhs])
                continue;
            bool all = true;
            for (int k = 0; k < pr->n && all; k++)
                all = pr->rhs[k] >= 0 && g->nullable[pr->rhs[k]];
            if (all)
                changed = g->nullable[pr->lhs] = true;
        }
    }
    return 0;
}

typedef struct { int prod, dot, origin; } ge_item;
typedef struct {
    ge_item *v;
    int n, cap;
    int *slots;   /* open addressing over item indices + 1 */
    int n_slots;
} ge_column;

static uint32_t ge_hash(ge_item it)
{
    uint32_t h = (uint32_t)it.prod * 2654435761u ^ (uint32_t)it.dot * 40503u ^ (uint32_t)it.origin * 2246822519u;
    return h ^ (h >> 15);
}

static void ge_col_add(ge_column *c, ge_item it)
{
    if (2 * (c->n + 1) > c->n_slots) {
        int ns = c->n_slots ? 2 * c->n_slots : 256;
        int *sl = calloc((size_t)ns, sizeof *sl);
        for (int i = 0; i < c->n; i++) {
            uint32_t h = ge_hash(c->v[i]) % (uint32_t)ns;
            while (sl[h])
                h = (h + 1) % (uint32_t)ns;
            sl[h] = i + 1;
        }
        free(c->slots);
        c->slots = sl;
        c->n_slots = ns;
    }
    uint32_t h = ge_hash(it) % (uint32_t)c->n_slots;
    while (c->slots[h]) {
        ge_item *o = &c->v[c->slots[h] - 1];
        if (o->prod == it.prod && o->dot == it.dot && o->origin == it.origin)
            return;
        h = (h + 1) % (uint32_t)c->n_slots;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->v = realloc(c->v, (size_t)c->cap * sizeof *c->v);
    }
    c->v[c->n] = it;
    c->slots[h] = ++c->n;
}

/* 2: s is in the language of rule `start`; 1: a viable prefix; 0: neither. */
static int ge_match(const ge_grammar *g, const char *start, const char *s, size_t n)
{
    int root = -1;
    for (int i = 0; i < g->n_nt; i++)
        if (strcmp(g->names[i], start) == 0)
            root = i;
    if (root < 0)
        return 0;
    ge_column *cols = calloc(n + 1, sizeof *cols);
    for (int i = 0; i < g->n_prods; i++)
        if (g->prods[i].lhs == root)
            ge_col_add(&cols[0], (ge_item){i, 0, 0});
    size_t last = 0;
    for (size_t pos = 0; pos <= n; pos++) {
        ge_column *c = &cols[pos];
        if (c->n)
            last = pos;
        for (int k = 0; k < c->n; k++) {
            ge_item it = c->v[k];
            const ge_prod *pr = &g->prods[it.prod];
            if (it.dot < pr->n) {
                int sym = pr->rhs[it.dot];
                if (sym >= 0) {
                    for (int q = 0; q < g->n_prods; q++)
                        if (g->prods[q].lhs == sym)
                            ge_col_add(c, (ge_item){q, 0, (int)pos});
                    if (g->nullable[sym])
                        ge_col_add(c, (ge_item){it.prod, it.dot + 1, it.origin});
                } else if (pos < n && ge_set_has(&g->classes[-sym - 1], (unsigned char)s[pos])) {
                    ge_col_add(&cols[pos + 1], (ge_item){it.prod, it.dot + 1, it.origin});
                }
            } else {
                ge_column *o = &cols[it.origin];
                for (int j = 0; j < o->n; j++) {
                    ge_item w = o->v[j];
                    const ge_prod *wp = &g->prods[w.prod];
                    if (w.dot < wp->n && wp->rhs[w.dot] == pr->lhs)
                        ge_col_add(c, (ge_item){w.prod, w.dot + 1, w.origin});
                }
            }
        }
    }
    int r = 0;
    if (last == n) {
        r = 1;
        for (int k = 0; k < cols[n].n; k++) {
            ge_item it = cols[n].v[k];
            if (it.origin == 0 && g->prods[it.prod].lhs == root && it.dot == g->prods[it.prod].n)
                r = 2;
        }
    }
    for (size_t pos = 0; pos <= n; pos++) {
        free(cols[pos].v);
        free(cols[pos].slots);
    }
    free(cols);
    return r;
}

#endif
