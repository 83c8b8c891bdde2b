/* sql_scope.c — scope analysis of a SQL prefix for the SQL critic.
 *
 * One pass over the tokens tracks the SELECT scopes (nested by parentheses:
 * subqueries in expressions, derived tables in FROM, CTE bodies), each
 * scope's clause (select list, FROM with its tables and aliases, WHERE, ...),
 * its output column names, and every column reference with the scope it
 * appears in. A reference is judged only when it can no longer change (a
 * token follows it) and its scope is settled: the FROM clauses of its query
 * and of every enclosing query are finished, so no table can still come into
 * scope. Constructs the pass does not model make their scope "opaque" and
 * are left to the final prepare: the critic must never reject a prefix of a
 * query SQLite accepts.
 *
 * A qualified reference is judged as soon as its qualifier is the written-
 * out alias of a schema table in its own scope: "SELECT T1.nme FROM t AS T1"
 * fails when T1 is written, not at the end of FROM or at ';'. For that the
 * critic refuses a second source under an alias already given in the same
 * FROM clause (SQLite allows FROM a AS T, b AS T and looks T.z up in both;
 * Spider never does it). Other references wait for their scope to settle:
 * a derived table may supply any column name. What is
 * judged at once, because no completion can repair it: an unknown table or
 * function, a qualifier that cannot be bound once its scope is settled (even
 * before its column name is finished), f(*) for a function SQLite calls only
 * with arguments, an always-aggregate function in the WHERE, GROUP BY or ON
 * clause of the outermost query, ON/USING after a NATURAL join, and a bare
 * integer ORDER BY / GROUP BY term outside 1..number of result columns. At
 * settled scopes, an unqualified name that two sources surely have is
 * ambiguous (unless USING, NATURAL or an output alias may settle it). */
#include "potentials/sql_scope.h"
#include "potentials/sql_lex.h"
#include "potentials/sql_db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_CAP 128
/* Deeper parentheses are refused at once: SQLite's own parser stops far
 * earlier (3.40: about 60 levels; SQLITE_LIMIT_EXPR_DEPTH is 200 in
 * sql_db.c), and the walk must stay cheap on a hostile prefix. */
#define MAX_NESTING 100

void sql_schema_free(sql_schema *s)
{
    for (int t = 0; t < s->n_tables; t++) {
        free(s->tables[t].name);
        for (int c = 0; c < s->tables[t].n_cols; c++)
            free(s->tables[t].cols[c]);
        free(s->tables[t].cols);
    }
    free(s->tables);
    for (int k = 0; k < s->n_star_fns; k++)
        free(s->star_fns[k]);
    free(s->star_fns);
    memset(s, 0, sizeof *s);
}

int sql_schema_find_table(const sql_schema *s, const char *name)
{
    for (int t = 0; t < s->n_tables; t++)
        if (strcasecmp(s->tables[t].name, name) == 0)
            return t;
    return -1;
}

bool sql_schema_has_column(const sql_schema *s, int table, const char *col)
{
    if (table < 0 || table >= s->n_tables)
        return false;
    for (int c = 0; c < s->tables[table].n_cols; c++)
        if (strcasecmp(s->tables[table].cols[c], col) == 0)
            return true;
    return false;
}

bool sql_schema_star_ok(const sql_schema *s, const char *fn)
{
    for (int k = 0; k < s->n_star_fns; k++)
        if (strcasecmp(s->star_fns[k], fn) == 0)
            return true;
    return false;
}

/* Functions that are aggregates (or window functions) whatever their
 * arguments: SQLite rejects them in WHERE, GROUP BY and ON (min and max
 * with two or more arguments are scalar, so they are not listed). */
static bool always_aggregate(const char *fn)
{
    static const char *const A[] = {"count", "sum", "avg", "total", "group_concat", "string_agg"};
    for (size_t i = 0; i < sizeof A / sizeof A[0]; i++)
        if (strcasecmp(fn, A[i]) == 0)
            return true;
    return false;
}

enum { C_NONE, C_SELECT, C_FROM, C_WHERE, C_GROUP, C_HAVING, C_ORDER, C_LIMIT, C_WINDOW };
enum { F_TABLE, F_AFTER_TABLE, F_AFTER_AS, F_AFTER_ALIAS, F_ON, F_USING };

typedef struct {
    int parent;
    int depth;            /* parenthesis depth of its SELECT */
    int clause, fstate;
    bool from_done;
    bool opaque;          /* something not modelled: never judge this scope */
    bool out_open;        /* output columns unknown */
    bool after_setop;
    bool merged;          /* USING or NATURAL: some columns merged, no ambiguity judged */
    bool natural;         /* the join being written is NATURAL */
    int n_items;          /* select items so far */
    bool star_item;       /* one of them is "*" or "t.*": the column count is unknown */
    int derived_for;      /* scope whose FROM this subquery is a table of, or -1 */
    int item_start;       /* first token of the current select item */
} scope;

typedef struct {
    int scope;
    char name[NAME_CAP], alias[NAME_CAP];
    int schema_idx;       /* -1 when not a schema table */
    int derived;          /* scope of a derived table's query, or -1 */
    bool open;            /* any column accepted (CTE, table function) */
    bool alias_final;     /* its alias is written out: it binds at once */
} src_table;

typedef struct {
    int scope;
    char name[NAME_CAP];
    bool is_alias;        /* an AS name, usable in WHERE/ORDER BY */
} out_name;

typedef struct {
    int scope;
    char qual[NAME_CAP], name[NAME_CAP];
    bool has_qual, star, dq, final;
} col_ref;

typedef struct {
    const sql_schema *sc;
    const sql_toks *tk;
    scope *sc_v; int n_sc;
    src_table *tb; int n_tb;
    out_name *out; int n_out;
    col_ref *refs; int n_refs;
    char (*ctes)[NAME_CAP]; int n_ctes;
    int *stack; int n_stack;
    int depth;
    bool in_values;       /* a VALUES list was seen: aggregates not judged */
    char *why; size_t why_cap;
} walker;

static int wfail(walker *w, const char *fmt, ...)
{
    if (w->why && w->why_cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->why, w->why_cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool is_name_tok(const sql_tok *t)
{
    return (t->kind == SQL_IDENT && !sql_is_keyword(t)) || t->kind == SQL_QIDENT;
}

static void tok_name(const sql_tok *t, char *buf)
{
    sql_ident_name(t, buf, NAME_CAP);
}

static scope *top(walker *w) { return w->n_stack ? &w->sc_v[w->stack[w->n_stack - 1]] : NULL; }
static int top_id(walker *w) { return w->n_stack ? w->stack[w->n_stack - 1] : -1; }

static const sql_tok *tok_at(walker *w, int i) { return i >= 0 && i < w->tk->n ? &w->tk->v[i] : NULL; }

/* Records the output name of the select item tokens [a, b). */
static void finish_item(walker *w, int sid, int a, int b)
{
    scope *s = &w->sc_v[sid];
    if (b <= a)
        return;
    const sql_tok *t = w->tk->v;
    int end = b;
    s->n_items++;
    if (sql_tok_is(&t[end - 1], "*") && (end - a == 1 || (end - a == 3 && sql_tok_is(&t[a + 1], "."))))
        s->star_item = true;
    /* trailing alias: "AS x" or an implicit "x" after an expression */
    if (end - a >= 2 && is_name_tok(&t[end - 1])) {
        bool as = sql_tok_is(&t[end - 2], "AS");
        const sql_tok *pv = &t[end - 2];
        bool expr_end = as || pv->kind == SQL_NUMBER || pv->kind == SQL_STRING || pv->kind == SQL_QIDENT ||
                        (pv->kind == SQL_IDENT && !sql_is_keyword(pv)) || sql_tok_is(pv, ")") ||
                        sql_tok_is(pv, "END") || sql_tok_is(pv, "NULL");
        if (expr_end && !sql_tok_is(pv, ".")) {
            out_name *o = &w->out[w->n_out++];
            o->scope = sid;
            o->is_alias = true;
            tok_name(&t[end - 1], o->name);
            return;
        }
    }
    if (end - a == 1 && is_name_tok(&t[a])) {
        out_name *o = &w->out[w->n_out++];
        o->scope = sid;
        o->is_alias = false;
        tok_name(&t[a], o->name);
        return;
    }
    if (end - a == 3 && is_name_tok(&t[a]) && sql_tok_is(&t[a + 1], ".") && is_name_tok(&t[a + 2])) {
        out_name *o = &w->out[w->n_out++];
        o->scope = sid;
        o->is_alias = false;
        tok_name(&t[a + 2], o->name);
        return;
    }
    s->out_open = true; /* "*", "t.*" or an expression without a name */
}

static void end_from(walker *w, scope *s)
{
    (void)w;
    s->from_done = true;
}

/* The scope on top ends (its ')' came, or the statement ended). */
static void close_scope(walker *w, int end_tok)
{
    int sid = top_id(w);
    scope *s = top(w);
    if (!s)
        return;
    if (s->clause == C_SELECT)
        finish_item(w, sid, s->item_start, end_tok);
    end_from(w, s);
    w->n_stack--;
    if (s->derived_for >= 0) {
        scope *p = &w->sc_v[s->derived_for];
        src_table *t = &w->tb[w->n_tb++];
        memset(t, 0, sizeof *t);
        t->scope = s->derived_for;
        t->schema_idx = -1;
        t->derived = sid;
        t->open = s->out_open || s->after_setop;
        p->fstate = F_AFTER_TABLE;
    }
}

static int new_scope(walker *w, int parent, int derived_for)
{
    int id = w->n_sc++;
    scope *s = &w->sc_v[id];
    memset(s, 0, sizeof *s);
    s->parent = parent;
    s->depth = w->depth;
    s->clause = C_SELECT;
    s->derived_for = derived_for;
    w->stack[w->n_stack++] = id;
    return id;
}

static bool is_cte(walker *w, const char *name)
{
    for (int i = 0; i < w->n_ctes; i++)
        if (strcasecmp(w->ctes[i], name) == 0)
            return true;
    return false;
}

static void add_ref(walker *w, int sid, const sql_tok *q, const sql_tok *name, bool star)
{
    col_ref *r = &w->refs[w->n_refs++];
    memset(r, 0, sizeof *r);
    r->scope = sid;
    r->star = star;
    if (q) {
        r->has_qual = true;
        tok_name(q, r->qual);
    }
    if (name) {
        tok_name(name, r->name);
        r->dq = name->kind == SQL_QIDENT && name->p[0] == '"';
        r->final = name->final && !name->open && name->len < NAME_CAP - 1;
    } else {
        r->final = q && q->final && q->len < NAME_CAP - 1;
    }
    if (q && q->len >= NAME_CAP - 1)
        r->final = false;
}

static bool clause_keyword(const sql_tok *t, int *clause)
{
    static const struct { const char *kw; int c; } K[] = {
        {"WHERE", C_WHERE}, {"GROUP", C_GROUP}, {"HAVING", C_HAVING}, {"ORDER", C_ORDER},
        {"LIMIT", C_LIMIT}, {"WINDOW", C_WINDOW}};
    if (!t->final)
        return false; /* "group" may still become group_concat */
    for (size_t i = 0; i < sizeof K / sizeof K[0]; i++)
        if (sql_tok_is(t, K[i].kw)) {
            *clause = K[i].c;
            return true;
        }
    return false;
}

/* Can this token follow a whole ORDER BY or GROUP BY term? */
static bool term_ends(const sql_tok *t)
{
    static const char *const E[] = {"ASC", "DESC", ",", "LIMIT", ";", ")", "COLLATE", "NULLS", "HAVING", "ORDER",
                                    "WINDOW", "UNION", "INTERSECT", "EXCEPT"};
    for (size_t i = 0; i < sizeof E / sizeof E[0]; i++)
        if (sql_tok_is(t, E[i]))
            return t->final || t->kind == SQL_PUNCT;
    return false;
}

static bool join_word(const sql_tok *t)
{
    return sql_tok_is(t, "JOIN") || sql_tok_is(t, "LEFT") || sql_tok_is(t, "RIGHT") || sql_tok_is(t, "FULL") ||
           sql_tok_is(t, "INNER") || sql_tok_is(t, "OUTER") || sql_tok_is(t, "CROSS") ||
           sql_tok_is(t, "NATURAL");
}

static int walk(walker *w)
{
    const sql_toks *tk = w->tk;
    bool statement_over = false;
    for (int i = 0; i < tk->n; i++) {
        const sql_tok *t = &tk->v[i];
        const sql_tok *nx = tok_at(w, i + 1);
        const sql_tok *pv = tok_at(w, i - 1);
        scope *s = top(w);
        if (statement_over)
            return wfail(w, "only one statement is allowed");
        if (i == 0) {
            /* a SELECT statement (or WITH ... SELECT, or VALUES) */
            static const char *const starts[] = {"SELECT", "WITH", "VALUES"};
            bool ok = false;
            for (int k = 0; k < 3 && !ok; k++)
                ok = t->kind == SQL_IDENT && t->len <= strlen(starts[k]) &&
                     strncasecmp(t->p, starts[k], t->len) == 0 && (!t->final || t->len == strlen(starts[k]));
            if (!ok)
                return wfail(w, "only SELECT queries are allowed");
        }
        if (sql_tok_is(t, "VALUES"))
            w->in_values = true;
        if (sql_tok_is(t, ";")) {
            while (w->n_stack)
                close_scope(w, i);
            statement_over = true;
            continue;
        }
        if (sql_tok_is(t, "(")) {
            if (++w->depth > MAX_NESTING)
                return wfail(w, "parentheses nested deeper than %d levels", MAX_NESTING);
            if (s && s->clause == C_FROM && s->depth == w->depth - 1 && s->fstate == F_TABLE &&
                !(nx && (sql_tok_is(nx, "SELECT") || sql_tok_is(nx, "WITH") || sql_tok_is(nx, "VALUES")))) {
                if (nx)
                    s->opaque = true; /* a parenthesised join: not modelled */
            }
            continue;
        }
        if (sql_tok_is(t, ")")) {
            if (s && s->depth == w->depth)
                close_scope(w, i);
            w->depth--;
            if (w->depth < 0)
                return wfail(w, "unbalanced ')'");
            continue;
        }
        if (sql_tok_is(t, "WITH") && (!s || s->depth < w->depth || i == 0)) {
            /* CTE names: WITH [RECURSIVE] name [(cols)] AS ( ... ), ... */
            int j = i + 1;
            if (tok_at(w, j) && sql_tok_is(tok_at(w, j), "RECURSIVE"))
                j++;
            for (;;) {
                const sql_tok *nm = tok_at(w, j);
                if (!nm || !is_name_tok(nm))
                    break;
                tok_name(nm, w->ctes[w->n_ctes++]);
                /* skip to the matching ')' of the body, then look for ',' */
                int d = 0, k = j + 1;
                bool body = false;
                for (; k < tk->n; k++) {
                    if (sql_tok_is(&tk->v[k], "("))
                        d++;
                    else if (sql_tok_is(&tk->v[k], ")") && --d == 0 && body)
                        break;
                    if (sql_tok_is(&tk->v[k], "AS") && d == 0)
                        body = true;
                }
                if (k + 1 < tk->n && sql_tok_is(&tk->v[k + 1], ","))
                    j = k + 2;
                else
                    break;
            }
            continue;
        }
        if (sql_tok_is(t, "SELECT")) {
            if (s && s->depth == w->depth && s->after_setop) {
                /* the next SELECT of a compound: replaces the finished one */
                int parent = s->parent, df = s->derived_for;
                s->derived_for = -1;
                w->n_stack--;
                int id = new_scope(w, parent, df);
                w->sc_v[id].after_setop = true;
            } else {
                int df = s && s->clause == C_FROM && s->depth == w->depth - 1 && s->fstate == F_TABLE ? top_id(w) : -1;
                new_scope(w, top_id(w), df);
            }
            top(w)->item_start = i + 1;
            if (nx && (sql_tok_is(nx, "DISTINCT") || sql_tok_is(nx, "ALL")))
                top(w)->item_start = i + 2;
            continue;
        }
        if (!s)
            continue; /* VALUES lists and CTE headers: nothing to check */
        bool at_level = s->depth == w->depth;
        if (at_level && t->final &&
            (sql_tok_is(t, "UNION") || sql_tok_is(t, "INTERSECT") || sql_tok_is(t, "EXCEPT"))) {
            if (s->clause == C_SELECT)
                finish_item(w, top_id(w), s->item_start, i);
            end_from(w, s);
            s->after_setop = true;
            s->clause = C_NONE;
            continue;
        }
        int cl;
        if (at_level && clause_keyword(t, &cl)) {
            if (s->clause == C_SELECT)
                finish_item(w, top_id(w), s->item_start, i);
            end_from(w, s);
            s->clause = cl;
            if (s->after_setop && (cl == C_ORDER || cl == C_LIMIT))
                s->opaque = true; /* ORDER BY of a compound: names of its first SELECT */
            continue;
        }
        if (at_level && sql_tok_is(t, "FROM") && s->clause == C_SELECT) {
            finish_item(w, top_id(w), s->item_start, i);
            s->clause = C_FROM;
            s->fstate = F_TABLE;
            continue;
        }
        if (at_level && s->clause == C_SELECT && sql_tok_is(t, ",")) {
            finish_item(w, top_id(w), s->item_start, i);
            s->item_start = i + 1;
            continue;
        }
        if (at_level && s->clause == C_FROM) {
            if (sql_tok_is(t, ",") || join_word(t)) {
                if (sql_tok_is(t, "NATURAL"))
                    s->merged = s->natural = true;
                else if (!(pv && join_word(pv)))
                    s->natural = false; /* a new join operator begins */
                if (sql_tok_is(t, ",") || sql_tok_is(t, "JOIN"))
                    s->fstate = F_TABLE;
                continue;
            }
            if ((sql_tok_is(t, "ON") || sql_tok_is(t, "USING")) && s->natural && t->final)
                return wfail(w, "a NATURAL join may not have an ON or USING clause");
            if (sql_tok_is(t, "ON")) {
                s->fstate = F_ON;
                continue;
            }
            if (sql_tok_is(t, "USING")) {
                s->merged = true;
                s->fstate = F_USING;
                continue;
            }
            if (sql_tok_is(t, "AS") && s->fstate == F_AFTER_TABLE) {
                s->fstate = F_AFTER_AS;
                continue;
            }
            if (sql_tok_is(t, "INDEXED") || sql_tok_is(t, "NOT")) {
                if (s->fstate != F_ON)
                    s->opaque = true;
            }
            if (s->fstate == F_TABLE && is_name_tok(t)) {
                const sql_tok *name = t;
                if (nx && sql_tok_is(nx, ".")) { /* schema.table */
                    const sql_tok *n2 = tok_at(w, i + 2);
                    if (!n2)
                        continue;
                    name = n2;
                    i += 2;
                    nx = tok_at(w, i + 1);
                }
                src_table *tb = &w->tb[w->n_tb++];
                memset(tb, 0, sizeof *tb);
                tb->scope = top_id(w);
                tb->derived = -1;
                tok_name(name, tb->name);
                tb->schema_idx = sql_schema_find_table(w->sc, tb->name);
                if (nx && sql_tok_is(nx, "(")) {
                    tb->open = true; /* table-valued function */
                } else if (is_cte(w, tb->name)) {
                    tb->open = true;
                    tb->schema_idx = -1;
                } else if (tb->schema_idx < 0 && name->final && !name->open && name->len < NAME_CAP - 1) {
                    return wfail(w, "no such table: %s", tb->name);
                }
                s->fstate = F_AFTER_TABLE;
                continue;
            }
            if ((s->fstate == F_AFTER_TABLE || s->fstate == F_AFTER_AS) && is_name_tok(t)) {
                /* alias of the last table of this scope */
                for (int k = w->n_tb - 1; k >= 0; k--)
                    if (w->tb[k].scope == top_id(w)) {
                        tok_name(t, w->tb[k].alias);
                        w->tb[k].alias_final = t->final && !t->open && t->len < NAME_CAP - 1;
                        break;
                    }
                s->fstate = F_AFTER_ALIAS;
                continue;
            }
            if (s->fstate == F_USING)
                continue;
            if (s->fstate != F_ON) {
                if (t->kind != SQL_PUNCT || !sql_tok_is(t, ")"))
                    s->opaque = s->opaque || (t->final && !is_name_tok(t) && !sql_is_keyword(t));
                continue;
            }
        }
        if (at_level && s->clause == C_FROM && s->fstate == F_USING)
            continue;
        if (at_level && (s->clause == C_ORDER || s->clause == C_GROUP) && t->kind == SQL_NUMBER && pv &&
            (sql_tok_is(pv, "BY") || sql_tok_is(pv, ",")) && nx && term_ends(nx) && !s->star_item && !s->opaque &&
            s->n_items > 0) {
            /* a bare integer term names a result column by its number */
            long v = 0;
            bool digits = t->len <= 9;
            for (size_t k = 0; k < t->len && digits; k++) {
                digits = t->p[k] >= '0' && t->p[k] <= '9';
                v = v * 10 + (t->p[k] - '0');
            }
            if (digits && (v < 1 || v > s->n_items))
                return wfail(w, "%s BY term out of range - should be between 1 and %d",
                             s->clause == C_ORDER ? "ORDER" : "GROUP", s->n_items);
        }
        /* expressions: column references */
        if (!is_name_tok(t))
            continue;
        if (pv && (sql_tok_is(pv, "AS") || sql_tok_is(pv, "COLLATE") || sql_tok_is(pv, "OVER")))
            continue; /* alias, type name, collation or window name */
        if (s->clause == C_WINDOW && at_level && pv && (sql_tok_is(pv, "WINDOW") || sql_tok_is(pv, ",")))
            continue; /* WINDOW w AS (...), w2 AS (...) */
        const sql_tok *p2w = tok_at(w, i - 2);
        if (pv && p2w && sql_tok_is(pv, "(") && sql_tok_is(p2w, "OVER") && nx && !sql_tok_is(nx, "."))
            continue; /* OVER (w ORDER BY ...): a base window */
        if (nx && sql_tok_is(nx, "(")) {
            /* a function call, unless "name(cols) AS (" of a CTE */
            int d = 0, k = i + 1;
            for (; k < tk->n; k++) {
                if (sql_tok_is(&tk->v[k], "("))
                    d++;
                else if (sql_tok_is(&tk->v[k], ")") && --d == 0)
                    break;
            }
            bool cte_header = k + 1 < tk->n && sql_tok_is(&tk->v[k + 1], "AS");
            /* where a CTE name can stand: after WITH [RECURSIVE], or after
             * "), " outside any SELECT of this parenthesis level */
            const sql_tok *p2 = tok_at(w, i - 2);
            bool cte_place = pv && (sql_tok_is(pv, "WITH") || sql_tok_is(pv, "RECURSIVE") ||
                                    (sql_tok_is(pv, ",") && p2 && sql_tok_is(p2, ")") && s->depth < w->depth));
            if (t->kind == SQL_IDENT && !cte_header && !cte_place) {
                char fname[NAME_CAP];
                tok_name(t, fname);
                if (!sql_function_allowed(fname))
                    return wfail(w, "function %s is unknown to SQLite or not allowed", fname);
                const sql_tok *arg = tok_at(w, i + 2);
                if (arg && sql_tok_is(arg, "*") && !sql_schema_star_ok(w->sc, fname))
                    return wfail(w, "wrong number of arguments to function %s()", fname);
                /* the outermost query: no enclosing query an aggregate
                 * could belong to */
                bool outer = s->parent < 0 && s->derived_for < 0 && !w->in_values;
                if (outer && always_aggregate(fname) &&
                    (s->clause == C_WHERE || s->clause == C_GROUP || (s->clause == C_FROM && s->fstate == F_ON)))
                    return wfail(w, "misuse of aggregate function %s() in %s", fname,
                                 s->clause == C_WHERE ? "WHERE" : s->clause == C_GROUP ? "GROUP BY" : "ON");
            }
            continue;
        }
        if (!nx && t->kind == SQL_IDENT) {
            char fname[NAME_CAP];
            tok_name(t, fname);
            if (sql_function_allowed(fname))
                continue; /* "COUNT " may still become "COUNT (*)" */
        }
        if (s->clause == C_SELECT && at_level && pv && i > s->item_start) {
            /* implicit alias after an expression */
            bool expr_end = pv->kind == SQL_NUMBER || pv->kind == SQL_STRING || pv->kind == SQL_QIDENT ||
                            (pv->kind == SQL_IDENT && !sql_is_keyword(pv)) || sql_tok_is(pv, ")") ||
                            sql_tok_is(pv, "END");
            if (expr_end && !sql_tok_is(pv, "."))
                continue;
        }
        if (nx && sql_tok_is(nx, ".")) {
            const sql_tok *col = tok_at(w, i + 2);
            if (!col) {
                add_ref(w, top_id(w), t, NULL, true); /* "t." : the qualifier must exist */
            } else if (sql_tok_is(col, "*")) {
                add_ref(w, top_id(w), t, NULL, true);
            } else if (is_name_tok(col) || col->kind == SQL_IDENT) {
                add_ref(w, top_id(w), t, col, false);
                if (!col->final || col->open)
                    add_ref(w, top_id(w), t, NULL, true); /* the qualifier alone */
            }
            i += col ? 2 : 1;
            continue;
        }
        if (pv && sql_tok_is(pv, "."))
            continue;
        add_ref(w, top_id(w), NULL, t, false);
    }
    return 0;
}

/* Has source k's name (its alias, or its table name once no alias can
 * follow) been taken by an earlier aliased source of the same scope? The
 * critic refuses that (SQLite allows FROM a AS T, b AS T), so that an alias
 * binds its qualifier as soon as it is written. */
static int check_alias_reuse(walker *w)
{
    for (int k = 0; k < w->n_tb; k++) {
        const src_table *b = &w->tb[k];
        bool last = true;
        for (int j = k + 1; j < w->n_tb && last; j++)
            last = w->tb[j].scope != b->scope;
        const scope *sb = &w->sc_v[b->scope];
        bool closed = !last || sb->from_done || (sb->fstate != F_AFTER_TABLE && sb->fstate != F_AFTER_AS);
        bool named = b->alias_final || (!b->alias[0] && closed);
        if (!named)
            continue;
        const char *nm = b->alias[0] ? b->alias : b->name;
        for (int j = 0; j < k; j++) {
            const src_table *a = &w->tb[j];
            if (a->scope == b->scope && a->alias_final && strcasecmp(a->alias, nm) == 0)
                return wfail(w, "the alias %s names two sources of one FROM clause", a->alias);
        }
    }
    return 0;
}

/* A qualified reference whose qualifier is the written-out alias of a
 * schema table of its own scope: decided now, before the scope settles
 * (aliases are not reused, inner scopes cannot rebind it for this scope). */
static bool bound_early(walker *w, const col_ref *r)
{
    if (!r->has_qual || r->star || w->sc_v[r->scope].opaque)
        return false;
    for (int k = 0; k < w->n_tb; k++) {
        const src_table *t = &w->tb[k];
        if (t->scope == r->scope && t->alias_final && strcasecmp(t->alias, r->qual) == 0)
            return t->schema_idx >= 0 && !t->open && t->derived < 0;
    }
    return false;
}

/* Is this scope and every enclosing one settled? */
static bool settled(walker *w, int sid)
{
    for (int s = sid; s >= 0; s = w->sc_v[s].parent)
        if (!w->sc_v[s].from_done || w->sc_v[s].opaque)
            return false;
    return true;
}

static bool table_has(walker *w, const src_table *t, const char *col)
{
    if (t->open)
        return true;
    if (t->derived >= 0) {
        if (w->sc_v[t->derived].out_open || w->sc_v[t->derived].opaque)
            return true;
        for (int k = 0; k < w->n_out; k++)
            if (w->out[k].scope == t->derived && strcasecmp(w->out[k].name, col) == 0)
                return true;
        return false;
    }
    if (t->schema_idx < 0)
        return true; /* unknown table: reported elsewhere, or still being typed */
    return sql_schema_has_column(w->sc, t->schema_idx, col);
}

/* Does the source have the column for certain (a schema table, or a
 * derived table with that output name)? */
static bool table_surely_has(walker *w, const src_table *t, const char *col)
{
    if (t->open)
        return false;
    if (t->derived >= 0) {
        const scope *d = &w->sc_v[t->derived];
        if (d->opaque || d->out_open || d->after_setop)
            return false;
        int hits = 0;
        for (int k = 0; k < w->n_out; k++)
            if (w->out[k].scope == t->derived && strcasecmp(w->out[k].name, col) == 0)
                hits++;
        return hits == 1;
    }
    return t->schema_idx >= 0 && sql_schema_has_column(w->sc, t->schema_idx, col);
}

static bool rowid_name(const char *c)
{
    return strcasecmp(c, "rowid") == 0 || strcasecmp(c, "oid") == 0 || strcasecmp(c, "_rowid_") == 0;
}

static bool qual_matches(const src_table *t, const char *qual)
{
    /* an alias hides the table's own name (SQLite: "a.x FROM a AS T" fails) */
    return strcasecmp(t->alias[0] ? t->alias : t->name, qual) == 0;
}

static int resolve(walker *w, const col_ref *r)
{
    if (r->has_qual) {
        /* the innermost scope with a source of that name decides; SQLite
         * lets two sources share an alias (FROM a AS T, b AS T) and looks
         * the column up in each */
        for (int s = r->scope; s >= 0; s = w->sc_v[s].parent) {
            bool found = false;
            for (int k = 0; k < w->n_tb; k++) {
                const src_table *t = &w->tb[k];
                if (t->scope != s || !qual_matches(t, r->qual))
                    continue;
                found = true;
                if (r->star || rowid_name(r->name) || table_has(w, t, r->name))
                    return 0;
            }
            if (found)
                return wfail(w, "no such column: %s.%s", r->qual, r->name);
        }
        return wfail(w, "no such table or alias: %s", r->qual);
    }
    if (rowid_name(r->name) || r->dq)
        return 0; /* "x" that names no column is a string in SQLite */
    for (int s = r->scope; s >= 0; s = w->sc_v[s].parent) {
        /* the innermost scope with the name decides; two sources there
         * that surely have it make it ambiguous (unless an output alias,
         * USING or NATURAL may settle it) */
        int sure = 0;
        bool any = false;
        for (int k = 0; k < w->n_tb; k++)
            if (w->tb[k].scope == s && table_has(w, &w->tb[k], r->name)) {
                any = true;
                sure += table_surely_has(w, &w->tb[k], r->name);
            }
        bool alias = false;
        for (int k = 0; k < w->n_out; k++)
            if (w->out[k].scope == s && w->out[k].is_alias && strcasecmp(w->out[k].name, r->name) == 0)
                alias = true;
        if (any && sure >= 2 && !alias && !w->sc_v[s].merged)
            return wfail(w, "ambiguous column name: %s", r->name);
        if (any || alias)
            return 0;
    }
    return wfail(w, "no such column: %s", r->name);
}

int sql_scope_check(const sql_schema *sc, const char *s, size_t n, char *why, size_t why_cap)
{
    if (why && why_cap)
        why[0] = '\0';
    sql_toks tk;
    if (sql_lex(s ? s : "", s ? n : 0, &tk, why, why_cap) < 0)
        return -1;
    size_t m = (size_t)tk.n + 2;
    walker w = {0};
    w.sc = sc;
    w.tk = &tk;
    w.why = why;
    w.why_cap = why_cap;
    w.sc_v = calloc(m, sizeof *w.sc_v);
    w.tb = calloc(m, sizeof *w.tb);
    w.out = calloc(m, sizeof *w.out);
    w.refs = calloc(m, sizeof *w.refs);
    w.ctes = calloc(m, sizeof *w.ctes);
    w.stack = calloc(m, sizeof *w.stack);
    int r = -1;
    if (!w.sc_v || !w.tb || !w.out || !w.refs || !w.ctes || !w.stack) {
        wfail(&w, "out of memory");
        goto out;
    }
    if (walk(&w) < 0 || check_alias_reuse(&w) < 0)
        goto out;
    for (int k = 0; k < w.n_refs; k++) {
        const col_ref *ref = &w.refs[k];
        if (ref->scope < 0 || !ref->final || !(settled(&w, ref->scope) || bound_early(&w, ref)))
            continue;
        if (resolve(&w, ref) < 0)
            goto out;
    }
    r = 0;
out:
    free(w.sc_v); free(w.tb); free(w.out); free(w.refs); free(w.ctes); free(w.stack);
    sql_toks_free(&tk);
    return r;
}
