/* sql_lex.h — a small SQLite tokenizer for the SQL critic (internal). */
#ifndef SMC_POTENTIALS_SQL_LEX_H
#define SMC_POTENTIALS_SQL_LEX_H

#include <stdbool.h>
#include <stddef.h>

enum sql_tok_kind {
    SQL_IDENT,      /* bare identifier or keyword */
    SQL_QIDENT,     /* "quoted", `quoted` or [quoted] identifier */
    SQL_STRING,     /* 'literal' */
    SQL_NUMBER,
    SQL_PARAM,      /* ?, ?1, :name, @name, $name */
    SQL_PUNCT       /* operators and punctuation: ( ) , . ; * = <> ... */
};

typedef struct sql_tok {
    int kind;
    const char *p;  /* text in the input (quotes included) */
    size_t len;
    bool final;     /* something follows it in the input, so it cannot grow */
    bool open;      /* a quoted token or comment cut off by the end of input */
} sql_tok;

typedef struct sql_toks {
    sql_tok *v;
    int n, cap;
} sql_toks;

/* Tokenizes s[0..n); comments are skipped. Returns 0, or -1 on a byte that
 * can never start a token (reason in why). */
int sql_lex(const char *s, size_t n, sql_toks *out, char *why, size_t why_cap);
void sql_toks_free(sql_toks *t);

bool sql_tok_is(const sql_tok *t, const char *word);    /* keyword / punct, case-insensitive */
bool sql_is_keyword(const sql_tok *t);
/* Unquoted name of an identifier token into buf (NUL-terminated). */
void sql_ident_name(const sql_tok *t, char *buf, size_t cap);

#endif
