/* pddl_bw.c — the Blocksworld goal critic: parsing a PDDL problem (objects,
 * init, goal), checking a goal prefix "(:goal (and (on b1 b2) ..." for
 * satisfiability by some reachable state (exact; see pddl_bw_sat.c), a GBNF
 * grammar of goals over the problem's objects, and goal equivalence. */
#include "potentials/pddl_bw.h"
#include "smcgen.h"
#include "util/error.h"
#include "potentials/strbuf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct smc_bw_problem {
    int n;
    char **names;
    bw_lit *init;
    int n_init;
    char *goal;          /* "(:goal ...)" as found, or NULL */
    size_t goal_len;
};

/* ---- tokens ------------------------------------------------------------ */

typedef struct {
    char kind;           /* '(' ')' or 'w' */
    const char *p;
    size_t len;
    bool at_end;         /* a word that reaches the end of the input */
} tok;

typedef struct {
    tok *v;
    int n, cap;
} tok_list;

static int tokenize(const char *s, size_t n, tok_list *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (isspace(c)) {
            i++;
            continue;
        }
        if (c == ';') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        if (out->n == out->cap) {
            int cap = out->cap ? out->cap * 2 : 64;
            tok *v = realloc(out->v, (size_t)cap * sizeof *v);
            if (!v)
                return -1;
            out->v = v;
            out->cap = cap;
        }
        tok *t = &out->v[out->n++];
        t->p = s + i;
        t->at_end = false;
        if (c == '(' || c == ')') {
            t->kind = (char)c;
            t->len = 1;
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !isspace((unsigned char)s[j]) && s[j] != '(' && s[j] != ')' && s[j] != ';')
            j++;
        t->kind = 'w';
        t->len = j - i;
        t->at_end = j == n;
        i = j;
    }
    return 0;
}

static bool word_is(const tok *t, const char *w)
{
    return t->kind == 'w' && t->len == strlen(w) && strncasecmp(t->p, w, t->len) == 0;
}

static bool word_prefix_of(const tok *t, const char *w)
{
    return t->kind == 'w' && t->len <= strlen(w) && strncasecmp(t->p, w, t->len) == 0;
}

static int find_object(const smc_bw_problem *p, const tok *t)
{
    for (int i = 0; i < p->n; i++)
        if (word_is(t, p->names[i]))
            return i;
    return -1;
}

static int find_pred(const tok *t)
{
    for (int k = 0; k < BW_N_PREDS; k++)
        if (word_is(t, bw_pred_name(k)))
            return k;
    return -1;
}

/* ---- problems ---------------------------------------------------------- */

void smc_bw_problem_free(smc_bw_problem *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        free(p->names[i]);
    free(p->names);
    free(p->init);
    free(p->goal);
    free(p);
}

static int add_object(smc_bw_problem *p, const tok *t, smc_error *err)
{
    if (find_object(p, t) >= 0)
        return smc_fail(err, "object %.*s is declared twice", (int)t->len, t->p);
    char **names = realloc(p->names, ((size_t)p->n + 1) * sizeof *names);
    if (!names)
        return smc_fail(err, "out of memory");
    p->names = names;
    char *s = malloc(t->len + 1);
    if (!s)
        return smc_fail(err, "out of memory");
    for (size_t i = 0; i < t->len; i++)
        s[i] = (char)tolower((unsigned char)t->p[i]);
    s[t->len] = '\0';
    p->names[p->n++] = s;
    return 0;
}

/* Index of the token closing the parenthesis opened at tokens[i], or -1. */
static int matching_paren(const tok_list *tl, int i)
{
    int depth = 0;
    for (int j = i; j < tl->n; j++) {
        if (tl->v[j].kind == '(')
            depth++;
        else if (tl->v[j].kind == ')' && --depth == 0)
            return j;
    }
    return -1;
}

int smc_bw_problem_parse(const char *text, size_t n, smc_bw_problem **out, smc_error *err)
{
    *out = NULL;
    if (!text)
        return smc_fail(err, "no problem text");
    tok_list tl;
    if (tokenize(text, n, &tl) < 0) {
        free(tl.v);
        return smc_fail(err, "out of memory");
    }
    smc_bw_problem *p = calloc(1, sizeof *p);
    int r = -1;
    if (!p) {
        smc_fail(err, "out of memory");
        goto out;
    }
    bool saw_objects = false;
    for (int i = 0; i + 1 < tl.n; i++) {
        if (tl.v[i].kind != '(')
            continue;
        const tok *head = &tl.v[i + 1];
        if (word_is(head, ":objects")) {
            int end = matching_paren(&tl, i);
            if (end < 0) {
                smc_fail(err, "(:objects is not closed");
                goto out;
            }
            for (int j = i + 2; j < end; j++) {
                if (tl.v[j].kind != 'w') {
                    smc_fail(err, "unexpected parenthesis in (:objects");
                    goto out;
                }
                if (word_is(&tl.v[j], "-")) { /* typed list: skip the type */
                    j++;
                    continue;
                }
                if (add_object(p, &tl.v[j], err) < 0)
                    goto out;
            }
            saw_objects = true;
            i = end;
        } else if (word_is(head, ":init")) {
            int end = matching_paren(&tl, i);
            if (end < 0) {
                smc_fail(err, "(:init is not closed");
                goto out;
            }
            for (int j = i + 2; j < end;) {
                int lend = tl.v[j].kind == '(' ? matching_paren(&tl, j) : -1;
                if (lend < 0 || lend > end || lend < j + 2) {
                    smc_fail(err, "malformed literal in (:init");
                    goto out;
                }
                int pred = find_pred(&tl.v[j + 1]);
                int nargs = lend - j - 2;
                if (pred >= 0 && nargs == bw_pred_arity(pred)) {
                    bw_lit l = {pred, -1, -1};
                    if (nargs >= 1)
                        l.a = find_object(p, &tl.v[j + 2]);
                    if (nargs >= 2)
                        l.b = find_object(p, &tl.v[j + 3]);
                    if ((nargs >= 1 && l.a < 0) || (nargs >= 2 && l.b < 0)) {
                        smc_fail(err, "(:init names an undeclared object");
                        goto out;
                    }
                    bw_lit *v = realloc(p->init, ((size_t)p->n_init + 1) * sizeof *v);
                    if (!v) {
                        smc_fail(err, "out of memory");
                        goto out;
                    }
                    p->init = v;
                    p->init[p->n_init++] = l;
                } else if (pred >= 0) {
                    smc_fail(err, "%s takes %d argument(s)", bw_pred_name(pred), bw_pred_arity(pred));
                    goto out;
                }
                j = lend + 1;
            }
            i = end;
        } else if (word_is(head, ":goal")) {
            int end = matching_paren(&tl, i);
            if (end < 0) {
                smc_fail(err, "(:goal is not closed");
                goto out;
            }
            size_t len = (size_t)(tl.v[end].p + 1 - tl.v[i].p);
            p->goal = malloc(len + 1);
            if (!p->goal) {
                smc_fail(err, "out of memory");
                goto out;
            }
            memcpy(p->goal, tl.v[i].p, len);
            p->goal[len] = '\0';
            p->goal_len = len;
            i = end;
        }
    }
    if (!saw_objects || p->n == 0) {
        smc_fail(err, "the problem declares no (:objects");
        goto out;
    }
    *out = p;
    p = NULL;
    r = 0;
out:
    smc_bw_problem_free(p);
    free(tl.v);
    return r;
}

int smc_bw_problem_n_objects(const smc_bw_problem *p) { return p ? p->n : 0; }

const char *smc_bw_problem_object(const smc_bw_problem *p, int i)
{
    return p && i >= 0 && i < p->n ? p->names[i] : NULL;
}

smc_str smc_bw_problem_goal(const smc_bw_problem *p)
{
    smc_str s = {NULL, 0};
    if (p && p->goal) {
        s.ptr = p->goal;
        s.len = p->goal_len;
    }
    return s;
}

bool smc_bw_problem_init_valid(const smc_bw_problem *p)
{
    return p && bw_satisfiable(p->n, p->init, p->n_init, NULL, 0);
}

/* ---- goals --------------------------------------------------------------- */

enum { G_OPEN, G_KEY, G_OPEN_AND, G_AND, G_LIST, G_LIT, G_CLOSE_GOAL, G_DONE, G_DEFINE_CLOSED };

typedef struct {
    bw_lit *lits;
    int n_lits;
    int state;
    /* an unfinished literal at the end of the input */
    bool in_lit;
    int lit_tok;         /* index of its '(' */
    char reason[160];
} goal_parse;

static int gfail(goal_parse *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->reason, sizeof g->reason, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *const KEYWORDS[] = {"(", ":goal", "(", "and"};

/* Reads a goal. Literals complete so far go to g->lits; an unfinished one is
 * left for the caller (g->in_lit, g->lit_tok). Returns -1 on a syntax error. */
static int parse_goal(const smc_bw_problem *p, const tok_list *tl, goal_parse *g)
{
    memset(g, 0, sizeof *g);
    g->lits = malloc(((size_t)tl->n + 1) * sizeof *g->lits);
    if (!g->lits)
        return gfail(g, "out of memory");
    for (int i = 0; i < tl->n; i++) {
        const tok *t = &tl->v[i];
        switch (g->state) {
        case G_KEY:
            /* The prompt may already hold "(:goal" or "(:goal (and": accept
             * "(and ..." and "(on ..." starts too. */
            if (t->kind == 'w' && !(t->at_end ? word_prefix_of(t, ":goal") : word_is(t, ":goal"))) {
                if (word_is(t, "and")) {
                    g->state = G_LIST;
                    break;
                }
                if (t->at_end && word_prefix_of(t, "and"))
                    return 0; /* "(a" / "(an": still open */
                g->state = G_LIST;
                i -= 2; /* read the '(' again as a literal's */
                break;
            }
            /* fall through */
        case G_OPEN: case G_OPEN_AND: case G_AND: {
            const char *want = KEYWORDS[g->state];
            bool ok = want[0] == '(' ? t->kind == '(' : (t->at_end ? word_prefix_of(t, want) : word_is(t, want));
            if (!ok)
                return gfail(g, "expected \"%s\" at \"%.*s\"", want, (int)t->len, t->p);
            g->state++;
            break;
        }
        case G_LIST:
            if (t->kind == ')') {
                g->state = G_CLOSE_GOAL;
            } else if (t->kind == '(') {
                /* find the literal's end */
                int j = i + 1;
                while (j < tl->n && tl->v[j].kind == 'w')
                    j++;
                if (j == tl->n) {
                    g->in_lit = true;
                    g->lit_tok = i;
                    return 0;
                }
                if (tl->v[j].kind != ')')
                    return gfail(g, "nested parenthesis inside a goal literal");
                if (j == i + 1)
                    return gfail(g, "empty literal");
                int pred = find_pred(&tl->v[i + 1]);
                if (pred < 0)
                    return gfail(g, "unknown predicate \"%.*s\"", (int)tl->v[i + 1].len, tl->v[i + 1].p);
                int nargs = j - i - 2;
                if (nargs != bw_pred_arity(pred))
                    return gfail(g, "%s takes %d argument(s), not %d", bw_pred_name(pred), bw_pred_arity(pred), nargs);
                bw_lit l = {pred, -1, -1};
                for (int k = 0; k < nargs; k++) {
                    int o = find_object(p, &tl->v[i + 2 + k]);
                    if (o < 0)
                        return gfail(g, "unknown object \"%.*s\"", (int)tl->v[i + 2 + k].len, tl->v[i + 2 + k].p);
                    if (k == 0)
                        l.a = o;
                    else
                        l.b = o;
                }
                g->lits[g->n_lits++] = l;
                i = j;
            } else {
                return gfail(g, "expected a literal or ')' at \"%.*s\"", (int)t->len, t->p);
            }
            break;
        case G_CLOSE_GOAL:
            if (t->kind != ')')
                return gfail(g, "expected ')' closing (:goal");
            g->state = G_DONE;
            break;
        case G_DONE:
            if (t->kind != ')')
                return gfail(g, "text after the goal");
            g->state = G_DEFINE_CLOSED;
            break;
        default:
            return gfail(g, "text after the problem");
        }
    }
    return 0;
}

/* Can the unfinished literal starting at tokens[start] be completed so that
 * the literal set stays satisfiable? Tries every completion. */
static bool partial_literal_viable(const smc_bw_problem *p, const tok_list *tl, int start, goal_parse *g)
{
    const tok *words = &tl->v[start + 1];
    int n_words = tl->n - start - 1;
    int n = p->n;
    bool any_syntax = false;
    for (int pred = 0; pred < BW_N_PREDS; pred++) {
        if (n_words >= 1) {
            bool ok = words[0].at_end ? word_prefix_of(&words[0], bw_pred_name(pred)) : word_is(&words[0], bw_pred_name(pred));
            if (!ok)
                continue;
        }
        int ar = bw_pred_arity(pred);
        int given = n_words > 0 ? n_words - 1 : 0;
        if (given > ar)
            continue;
        /* candidate objects per argument */
        int lo[2] = {0, 0}, hi[2] = {1, 1};
        bool fixed_ok = true;
        for (int k = 0; k < ar; k++) {
            lo[k] = 0;
            hi[k] = n;
            if (k < given) {
                const tok *w = &words[1 + k];
                if (!w->at_end) {
                    int o = find_object(p, w);
                    if (o < 0)
                        fixed_ok = false;
                    lo[k] = o;
                    hi[k] = o + 1;
                }
            }
        }
        if (!fixed_ok)
            continue;
        any_syntax = true;
        if (n > 64) /* too many completions to try: be lenient */
            return true;
        for (int a = lo[0]; a < hi[0]; a++)
            for (int b = lo[1]; b < hi[1]; b++) {
                bw_lit l = {pred, ar >= 1 ? a : -1, ar >= 2 ? b : -1};
                bool names_ok = true;
                for (int k = 0; k < given && names_ok; k++) {
                    const tok *w = &words[1 + k];
                    if (w->at_end)
                        names_ok = word_prefix_of(w, p->names[k == 0 ? a : b]);
                }
                if (!names_ok)
                    continue;
                g->lits[g->n_lits] = l;
                if (bw_satisfiable(n, g->lits, g->n_lits + 1, NULL, 0))
                    return true;
            }
    }
    if (!any_syntax)
        snprintf(g->reason, sizeof g->reason, "no predicate or object starts like this literal");
    else
        snprintf(g->reason, sizeof g->reason, "no way to finish this literal keeps the goal satisfiable");
    return false;
}

static void copy_reason(char *reason, size_t cap, const char *msg)
{
    if (reason && cap)
        snprintf(reason, cap, "%s", msg);
}

smc_verdict smc_bw_goal_check(const smc_bw_problem *p, const char *text, size_t n, bool complete, char *reason,
                              size_t reason_cap)
{
    copy_reason(reason, reason_cap, "");
    if (!p) {
        copy_reason(reason, reason_cap, "no problem");
        return SMC_VERDICT_INVALID;
    }
    tok_list tl;
    goal_parse g;
    smc_verdict v = SMC_VERDICT_INVALID;
    memset(&g, 0, sizeof g);
    if (tokenize(text ? text : "", text ? n : 0, &tl) < 0) {
        copy_reason(reason, reason_cap, "out of memory");
        goto out;
    }
    if (parse_goal(p, &tl, &g) < 0) {
        copy_reason(reason, reason_cap, g.reason);
        goto out;
    }
    if (g.state >= G_CLOSE_GOAL && g.n_lits == 0) {
        /* valid PDDL, but never the answer to a task: the critic refuses it
         * (goal equivalence still reads it) */
        copy_reason(reason, reason_cap, "an empty goal");
        goto out;
    }
    char why[120] = "";
    if (!bw_satisfiable(p->n, g.lits, g.n_lits, why, sizeof why)) {
        snprintf(g.reason, sizeof g.reason, "unsatisfiable goal: %s", why);
        copy_reason(reason, reason_cap, g.reason);
        goto out;
    }
    if (complete) {
        if (g.in_lit || (g.state != G_DONE && g.state != G_DEFINE_CLOSED)) {
            copy_reason(reason, reason_cap, "the goal is not finished");
            goto out;
        }
        v = SMC_VERDICT_COMPLETE;
        goto out;
    }
    if (g.in_lit && !partial_literal_viable(p, &tl, g.lit_tok, &g)) {
        copy_reason(reason, reason_cap, g.reason);
        goto out;
    }
    v = SMC_VERDICT_PREFIX;
out:
    free(tl.v);
    free(g.lits);
    return v;
}

/* Parses a whole goal into literals (*lits malloc'd). */
static int parse_full_goal(const smc_bw_problem *p, const char *text, size_t n, bw_lit **lits, int *n_lits,
                           smc_error *err)
{
    tok_list tl;
    goal_parse g;
    memset(&g, 0, sizeof g);
    if (tokenize(text ? text : "", text ? n : 0, &tl) < 0) {
        free(tl.v);
        return smc_fail(err, "out of memory");
    }
    int r = parse_goal(p, &tl, &g);
    if (r == 0 && (g.in_lit || (g.state != G_DONE && g.state != G_DEFINE_CLOSED)))
        r = gfail(&g, "the goal is not finished");
    free(tl.v);
    if (r < 0) {
        free(g.lits);
        return smc_fail(err, "goal: %s", g.reason);
    }
    *lits = g.lits;
    *n_lits = g.n_lits;
    return 0;
}

int smc_bw_goals_equivalent(const smc_bw_problem *p, const char *g1, size_t n1, const char *g2, size_t n2,
                            bool *equivalent, smc_error *err)
{
    *equivalent = false;
    if (!p)
        return smc_fail(err, "no problem");
    bw_lit *a = NULL, *b = NULL;
    int na = 0, nb = 0;
    if (parse_full_goal(p, g1, n1, &a, &na, err) < 0)
        return -1;
    if (parse_full_goal(p, g2, n2, &b, &nb, err) < 0) {
        free(a);
        return -1;
    }
    bool sa = bw_satisfiable(p->n, a, na, NULL, 0), sb = bw_satisfiable(p->n, b, nb, NULL, 0);
    bool eq = sa == sb;
    if (sa && sb) {
        for (int i = 0; i < na && eq; i++)
            eq = bw_entails(p->n, b, nb, a[i]);
        for (int i = 0; i < nb && eq; i++)
            eq = bw_entails(p->n, a, na, b[i]);
    }
    *equivalent = eq;
    free(a);
    free(b);
    return 0;
}

/* ---- grammar ------------------------------------------------------------ */

char *smc_bw_goal_gbnf(const smc_bw_problem *p)
{
    if (!p)
        return NULL;
    strbuf b = {0};
    sb_add(&b, "# Blocksworld goals over this problem's objects (generated).\n");
    /* At least one literal (an empty goal can never be right); the text ends
     * at the closing parenthesis and at most one newline, its natural end
     * in the training format, so particles do not pay for padding. */
    sb_add(&b, "root    ::= ws \"(:goal\" ws \"(and\" after-and\n");
    sb_add(&b, "# start here when the prompt already ends with \"(:goal (and\"\n");
    sb_add(&b, "after-and ::= (ws literal)+ ws \")\" ws \")\" (ws \")\")? [\\n]?\n");
    sb_add(&b, "literal ::= \"(on \" obj \" \" obj \")\" | \"(on-table \" obj \")\" | \"(clear \" obj \")\" |\n");
    sb_add(&b, "            \"(holding \" obj \")\" | \"(arm-empty)\"\n");
    sb_add(&b, "obj     ::= ");
    for (int i = 0; i < p->n; i++) {
        sb_add(&b, "%s\"", i ? " | " : "");
        sb_add_gbnf_literal(&b, p->names[i]);
        sb_add(&b, "\"");
    }
    /* Bounded, so that a sampler cannot spend its tokens on white space. */
    sb_add(&b, "\nws      ::= wsc? wsc? wsc? wsc? wsc? wsc? wsc? wsc? wsc? wsc? wsc? wsc?\n"
               "wsc     ::= [ \\t\\n]\n");
    return sb_take(&b);
}
