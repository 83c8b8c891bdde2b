/* sql_lex.c — tokenizing SQLite SQL (identifiers, quoted identifiers,
 * strings, numbers, parameters, operators; comments skipped) for the SQL
 * critic, marking tokens that the end of a prefix may still extend. */
#include "potentials/sql_lex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const KEYWORDS[] = {
    "ABORT", "ACTION", "ADD", "AFTER", "ALL", "ALTER", "ALWAYS", "ANALYZE", "AND", "AS", "ASC", "ATTACH",
    "AUTOINCREMENT", "BEFORE", "BEGIN", "BETWEEN", "BY", "CASCADE", "CASE", "CAST", "CHECK", "COLLATE",
    "COLUMN", "COMMIT", "CONFLICT", "CONSTRAINT", "CREATE", "CROSS", "CURRENT", "CURRENT_DATE",
    "CURRENT_TIME", "CURRENT_TIMESTAMP", "DATABASE", "DEFAULT", "DEFERRABLE", "DEFERRED", "DELETE", "DESC",
    "DETACH", "DISTINCT", "DO", "DROP", "EACH", "ELSE", "END", "ESCAPE", "EXCEPT", "EXCLUDE", "EXCLUSIVE",
    "EXISTS", "EXPLAIN", "FAIL", "FALSE", "FILTER", "FIRST", "FOLLOWING", "FOR", "FOREIGN", "FROM", "FULL",
    "GENERATED", "GLOB", "GROUP", "GROUPS", "HAVING", "IF", "IGNORE", "IMMEDIATE", "IN", "INDEX", "INDEXED",
    "INITIALLY", "INNER", "INSERT", "INSTEAD", "INTERSECT", "INTO", "IS", "ISNULL", "JOIN", "KEY", "LAST",
    "LEFT", "LIKE", "LIMIT", "MATCH", "MATERIALIZED", "NATURAL", "NO", "NOT", "NOTHING", "NOTNULL", "NULL",
    "NULLS", "OF", "OFFSET", "ON", "OR", "ORDER", "OTHERS", "OUTER", "OVER", "PARTITION", "PLAN", "PRAGMA",
    "PRECEDING", "PRIMARY", "QUERY", "RAISE", "RANGE", "RECURSIVE", "REFERENCES", "REGEXP", "REINDEX",
    "RELEASE", "RENAME", "REPLACE", "RESTRICT", "RETURNING", "RIGHT", "ROLLBACK", "ROW", "ROWS", "SAVEPOINT",
    "SELECT", "SET", "TABLE", "TEMP", "TEMPORARY", "THEN", "TIES", "TO", "TRANSACTION", "TRIGGER", "TRUE",
    "UNBOUNDED", "UNION", "UNIQUE", "UPDATE", "USING", "VACUUM", "VALUES", "VIEW", "VIRTUAL", "WHEN", "WHERE",
    "WINDOW", "WITH", "WITHOUT"};

bool sql_tok_is(const sql_tok *t, const char *word)
{
    return t->len == strlen(word) && strncasecmp(t->p, word, t->len) == 0 &&
           (t->kind == SQL_IDENT || t->kind == SQL_PUNCT);
}

bool sql_is_keyword(const sql_tok *t)
{
    if (t->kind != SQL_IDENT)
        return false;
    for (size_t i = 0; i < sizeof KEYWORDS / sizeof KEYWORDS[0]; i++)
        if (sql_tok_is(t, KEYWORDS[i]))
            return true;
    return false;
}

void sql_ident_name(const sql_tok *t, char *buf, size_t cap)
{
    if (!cap)
        return;
    const char *p = t->p;
    size_t len = t->len;
    if (t->kind == SQL_QIDENT && len >= 1) {
        char close = p[0] == '[' ? ']' : p[0];
        p++;
        len--;
        if (!t->open && len >= 1)
            len--;
        size_t o = 0;
        for (size_t i = 0; i < len && o + 1 < cap; i++) {
            if (close != ']' && p[i] == close && i + 1 < len && p[i + 1] == close)
                i++; /* doubled quote */
            buf[o++] = p[i];
        }
        buf[o] = '\0';
        return;
    }
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
}

void sql_toks_free(sql_toks *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

static int push(sql_toks *out, int kind, const char *p, size_t len)
{
    if (out->n == out->cap) {
        int cap = out->cap ? out->cap * 2 : 64;
        sql_tok *v = realloc(out->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        out->v = v;
        out->cap = cap;
    }
    out->v[out->n++] = (sql_tok){kind, p, len, false, false};
    return 0;
}

static bool ident_start(unsigned char c) { return isalpha(c) || c == '_' || c >= 0x80; }
static bool ident_char(unsigned char c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

int sql_lex(const char *s, size_t n, sql_toks *out, char *why, size_t why_cap)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (isspace(c)) {
            i++;
            continue;
        }
        if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *e = NULL;
            for (size_t j = i + 2; j + 1 < n; j++)
                if (s[j] == '*' && s[j + 1] == '/') {
                    e = s + j;
                    break;
                }
            i = e ? (size_t)(e - s) + 2 : n;
            continue;
        }
        size_t start = i;
        int kind;
        bool open = false;
        if (ident_start(c)) {
            while (i < n && ident_char((unsigned char)s[i]))
                i++;
            kind = SQL_IDENT;
        } else if (isdigit(c) || (c == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
            while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '.' ||
                             ((s[i] == '+' || s[i] == '-') && (s[i - 1] == 'e' || s[i - 1] == 'E'))))
                i++;
            kind = SQL_NUMBER;
        } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : (char)c;
            i++;
            open = true;
            while (i < n) {
                if (s[i] == close) {
                    if (close != ']' && i + 1 < n && s[i + 1] == close) {
                        i += 2;
                        continue;
                    }
                    i++;
                    open = false;
                    break;
                }
                i++;
            }
            kind = c == '\'' ? SQL_STRING : SQL_QIDENT;
        } else if (c == '?' || c == ':' || c == '@' || c == '$') {
            i++;
            while (i < n && ident_char((unsigned char)s[i]))
                i++;
            kind = SQL_PARAM;
        } else if (strchr("(),;.*+-/%&~", c)) {
            i++;
            kind = SQL_PUNCT;
        } else if (strchr("=<>!|", c)) {
            i++;
            if (i < n && strchr("=<>|", s[i]))
                i++;
            kind = SQL_PUNCT;
        } else {
            if (why && why_cap)
                snprintf(why, why_cap, "unexpected byte 0x%02x at offset %zu", c, i);
            sql_toks_free(out);
            return -1;
        }
        if (push(out, kind, s + start, i - start) < 0) {
            sql_toks_free(out);
            if (why && why_cap)
                snprintf(why, why_cap, "out of memory");
            return -1;
        }
        out->v[out->n - 1].open = open;
        out->v[out->n - 1].final = i < n;
    }
    return 0;
}
