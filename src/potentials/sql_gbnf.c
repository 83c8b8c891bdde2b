/* sql_gbnf.c — a GBNF grammar of SQLite SELECT queries whose table and
 * column names are those of one database: joins, aliases, subqueries,
 * GROUP BY / HAVING / ORDER BY / LIMIT, set operations, aggregates.
 * Keywords are accepted in any letter case; table and column names only as
 * the schema spells them (SQLite accepts any case, but a sampler offered
 * every casing wanders among them, poKeR_playeR, and the weights end up
 * correcting the casing instead of the meaning). To keep a sampler
 * from wandering in invented names and endless literals, aliases are a
 * letter and up to two digits (T1, t2, a: Spider's style), string literals
 * at most 48 characters, white space at most 4. As in llama.cpp's GBNF, a
 * rule continues on the next line only inside parentheses or after '|'.
 *
 * Scope in the grammar: the first SELECT of the statement has no enclosing
 * query, so when its FROM clause is one schema table T, every column it
 * names must be a column of T. The grammar spells that out: one copy of the
 * expression rules per table ("single-table" selects, whose column rule
 * lists only T's columns), and a general copy for FROM clauses of two or
 * more sources or a derived table. A sampler that wrote "SELECT Name FROM t"
 * where t lacks Name is thus steered to a JOIN instead of a WHERE that
 * SQLite would reject. Subqueries keep the general rules (a correlated
 * subquery may name outer columns), and so do the later SELECTs of a
 * compound (its ORDER BY names result columns). Only COUNT takes "*", an
 * aggregate's argument holds no aggregate, and a NATURAL JOIN has no ON. */
#include "potentials/sql_db.h"
#include "potentials/strbuf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const KEYWORDS[] = {
    "SELECT", "DISTINCT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "OFFSET", "AS",
    "JOIN", "INNER", "LEFT", "OUTER", "CROSS", "NATURAL", "ON", "AND", "OR", "NOT", "IN", "LIKE",
    "BETWEEN", "IS", "NULL", "EXISTS", "UNION", "ALL", "INTERSECT", "EXCEPT", "ASC", "DESC", "COUNT",
    "SUM", "AVG", "MIN", "MAX", "ABS", "LENGTH", "LOWER", "UPPER", "ROUND", "SUBSTR", "COALESCE",
    "IFNULL", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "INTEGER", "REAL", "TEXT"};

/* Rules shared by every copy. */
static const char *const GRAMMAR =
    "setop   ::= kUNION (ws kALL)? | kINTERSECT | kEXCEPT\n"
    "query   ::= select (ws setop ws select)*\n"
    "select  ::= kSELECT (ws kDISTINCT)? ws items ws kFROM ws from tail\n"
    "from    ::= source join*\n"
    "join    ::= ws joinkw ws source (ws kON ws expr)? | ws kNATURAL ws kJOIN ws source | sp \",\" sp source\n"
    "joinkw  ::= kJOIN | kINNER ws kJOIN | kLEFT ws (kOUTER ws)? kJOIN | kCROSS ws kJOIN\n"
    "source  ::= table asalias? | derived asalias?\n"
    "derived ::= \"(\" sp query sp \")\"\n"
    "asalias ::= ws (kAS ws)? alias\n"
    "limit   ::= ws kLIMIT ws int (ws kOFFSET ws int)?\n"
    "cmp     ::= \"=\" | \"==\" | \"!=\" | \"<>\" | \"<=\" | \">=\" | \"<\" | \">\"\n"
    "qual    ::= table | alias\n"
    "alias   ::= [A-Za-z] ([0-9] [0-9]?)?\n"
    "num     ::= [0-9]+ (\".\" [0-9]+)?\n"
    "int     ::= [0-9]+\n"
    "str     ::= \"'\" sq1 \"'\" | \"\\\"\" dq1 \"\\\"\"\n"
    "sqc     ::= [^'\\n] | \"''\"\n"
    "dqc     ::= [^\"\\n]\n"
    "ws      ::= wsc wsc? wsc? wsc?\n"
    "sp      ::= wsc? wsc? wsc? wsc?\n"
    "wsc     ::= [ \\t\\n]\n";

/* The clause and expression rules of one copy: "@" stands for the copy's
 * prefix, "%Q" for its qualifier rule, "%C" for its column rule and "%N" for
 * the prefix of its aggregate-free expressions (SQLite rejects an aggregate
 * inside an aggregate's argument; the grammar has no OVER or FILTER that
 * could make it a window function). */
static const char *const CLAUSE_RULES =
    "@tail    ::= (ws kWHERE ws @expr)? (ws kGROUP ws kBY ws @exprs (ws kHAVING ws @expr)?)? "
    "(ws kORDER ws kBY ws @orders)? limit?\n"
    "@items   ::= @item (sp \",\" sp @item)*\n"
    "@item    ::= \"*\" | %Q \".*\" | @expr (ws kAS ws alias)?\n"
    "@orders  ::= @order (sp \",\" sp @order)*\n"
    "@order   ::= @expr (ws (kASC | kDESC))?\n"
    "@agg     ::= kCOUNT sp \"(\" sp (kDISTINCT ws)? (%Nexpr | \"*\") sp \")\""
    " | (kSUM | kAVG | kMIN | kMAX) sp \"(\" sp (kDISTINCT ws)? %Nexpr sp \")\"\n"
    "@colref  ::= (%Q \".\")? %C\n";

/* Expressions, written twice per copy: with aggregates ("%A" is " | @agg"
 * of the copy) and without ("%A" empty); "%R" is the copy's column
 * reference rule. */
static const char *const EXPR_RULES =
    "@exprs   ::= @expr (sp \",\" sp @expr)*\n"
    "@expr    ::= @conj (ws kOR ws @conj)*\n"
    "@conj    ::= @neg (ws kAND ws @neg)*\n"
    "@neg     ::= (kNOT ws)? @pred\n"
    "@pred    ::= @sum (sp cmp sp @sum | ws (kNOT ws)? kLIKE ws @sum"
    " | ws (kNOT ws)? kIN sp \"(\" sp (query | @exprs) sp \")\""
    " | ws (kNOT ws)? kBETWEEN ws @sum ws kAND ws @sum | ws kIS ws (kNOT ws)? kNULL)?\n"
    "@sum     ::= @term (sp [-+*/%] sp @term)*\n"
    "@term    ::= %R | num | str | kNULL%A | @func | @case | @cast | \"-\" sp @term"
    " | \"(\" sp query sp \")\" | \"(\" sp @expr sp \")\" | kEXISTS sp \"(\" sp query sp \")\"\n"
    "@func    ::= (kABS | kLENGTH | kLOWER | kUPPER | kROUND | kSUBSTR | kCOALESCE | kIFNULL) sp \"(\" sp @exprs sp \")\"\n"
    "@case    ::= kCASE (ws @expr)? (ws kWHEN ws @expr ws kTHEN ws @expr)+ (ws kELSE ws @expr)? ws kEND\n"
    "@cast    ::= kCAST sp \"(\" sp @expr ws kAS ws (kINTEGER | kREAL | kTEXT) sp \")\"\n";

typedef struct {
    const char *at, *qual, *col, *noagg, *agg_alt, *colref;
} tmpl_args;

static void add_rules(strbuf *b, const char *tmpl, const tmpl_args *a)
{
    for (const char *c = tmpl; *c; c++) {
        const char *sub = NULL;
        if (*c == '@')
            sub = a->at;
        else if (c[0] == '%' && c[1] == 'Q')
            sub = a->qual;
        else if (c[0] == '%' && c[1] == 'C')
            sub = a->col;
        else if (c[0] == '%' && c[1] == 'N')
            sub = a->noagg;
        else if (c[0] == '%' && c[1] == 'A')
            sub = a->agg_alt;
        else if (c[0] == '%' && c[1] == 'R')
            sub = a->colref;
        if (!sub) {
            sb_add(b, "%c", *c);
            continue;
        }
        sb_add(b, "%s", sub);
        if (*c == '%')
            c++;
    }
}

/* One copy of the clause and expression rules under a prefix. */
static void add_copy(strbuf *b, const char *prefix, const char *qual, const char *col)
{
    char noagg[48], agg_alt[64], colref[48];
    snprintf(noagg, sizeof noagg, "%sna-", prefix);
    snprintf(agg_alt, sizeof agg_alt, " | %sagg", prefix);
    snprintf(colref, sizeof colref, "%scolref", prefix);
    tmpl_args a = {prefix, qual, col, noagg, agg_alt, colref};
    add_rules(b, CLAUSE_RULES, &a);
    add_rules(b, EXPR_RULES, &a);
    a.at = noagg;
    a.agg_alt = "";
    add_rules(b, EXPR_RULES, &a);
}

/* A name SQLite accepts unquoted: [A-Za-z_][A-Za-z0-9_]*, not a keyword. */
static bool bare_ok(const char *name)
{
    if (!name[0] || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return false;
    for (const char *c = name; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '_'))
            return false;
    static const char *const reserved[] = {"select", "from", "where", "group", "order", "by", "limit",
                                           "join", "on", "as", "and", "or", "not", "in", "is", "null",
                                           "union", "table", "index", "case", "when", "then", "else", "end"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return false;
    return true;
}

/* Could the grammar's alias rule spell this name (a letter and up to two
 * digits)? Such a column name may also be an output alias in ORDER BY. */
static bool alias_shaped(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 3 || !isalpha((unsigned char)name[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isdigit((unsigned char)name[i]))
            return false;
    return true;
}

/* text as a case-insensitive GBNF sequence: letters as [xX], runs of other
 * bytes as literals (SQL names and keywords ignore ASCII case). */
static void add_nocase(strbuf *b, const char *text, bool dq_doubled)
{
    bool in_lit = false;
    for (const char *c = text; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (isalpha(ch)) {
            if (in_lit)
                sb_add(b, "\" ");
            in_lit = false;
            sb_add(b, "[%c%c] ", tolower(ch), toupper(ch));
        } else {
            if (!in_lit)
                sb_add(b, "\"");
            in_lit = true;
            char one[2] = {*c, 0};
            if (*c == '"' && dq_doubled)
                sb_add(b, "\\\"\\\"");
            else
                sb_add_gbnf_literal(b, one);
        }
    }
    if (in_lit)
        sb_add(b, "\" ");
}

/* name as a GBNF literal, exactly as spelled ('"' doubled inside a quoted
 * name when dq_doubled). */
static void add_exact(strbuf *b, const char *name, bool dq_doubled)
{
    sb_add(b, "\"");
    for (const char *c = name; *c; c++) {
        char one[2] = {*c, 0};
        if (*c == '"' && dq_doubled)
            sb_add(b, "\\\"\\\"");
        else
            sb_add_gbnf_literal(b, one);
    }
    sb_add(b, "\" ");
}

/* One alternative per spelling: bare when possible, always "quoted"; the
 * schema's letter case. */
static void add_name(strbuf *b, const char *name, bool *first)
{
    if (bare_ok(name)) {
        sb_add(b, "%s(", *first ? "" : " | ");
        add_exact(b, name, false);
        sb_add(b, ")");
        *first = false;
    }
    sb_add(b, "%s(\"\\\"\" ", *first ? "" : " | ");
    add_exact(b, name, true);
    sb_add(b, "\"\\\"\")");
    *first = false;
}

/* Has an earlier column (tables [0, t], columns before c in table t, or
 * only in table t when `within`) the same name, spelled the same? */
static bool seen_before(const sql_schema *sc, int t, int c, bool within)
{
    for (int t2 = within ? t : 0; t2 <= t; t2++)
        for (int c2 = 0; c2 < (t2 == t ? c : sc->tables[t2].n_cols); c2++)
            if (strcmp(sc->tables[t2].cols[c2], sc->tables[t].cols[c]) == 0)
                return true;
    return false;
}

/* The column rule of the single-table copy of table t: its columns, and
 * alias-shaped names of other tables (ORDER BY may name an output alias). */
static void add_table_columns(strbuf *b, const sql_schema *sc, int t)
{
    sb_add(b, "col%d ::= ", t);
    bool first = true;
    for (int c = 0; c < sc->tables[t].n_cols; c++)
        if (!seen_before(sc, t, c, true))
            add_name(b, sc->tables[t].cols[c], &first);
    for (int t2 = 0; t2 < sc->n_tables; t2++)
        for (int c = 0; c < sc->tables[t2].n_cols; c++) {
            const char *name = sc->tables[t2].cols[c];
            if (t2 == t || !alias_shaped(name) || seen_before(sc, t2, c, false) ||
                sql_schema_has_column(sc, t, name))
                continue;
            add_name(b, name, &first);
        }
    if (first)
        sb_add(b, "\"\\\"\\\"\"");
    sb_add(b, "\n");
}

enum { STR_MAX = 48 };

char *sql_gbnf_build(const smc_sql_db *db, bool per_table)
{
    const sql_schema *sc = sql_db_schema(db);
    if (!sc)
        return NULL;
    strbuf b = {0};
    sb_add(&b, "# SQLite SELECT queries over this database's tables and columns (generated).\n");
    sb_add(&b, "root    ::= sp top sp (\";\" sp)?\n");
    if (per_table && sc->n_tables > 0) {
        /* The statement's first SELECT: one schema table (a single-table
         * copy, with or without an alias) or the general form with two or
         * more sources or a derived table first. */
        sb_add(&b, "top     ::= first (ws setop ws select)*\n");
        sb_add(&b, "first   ::= multi");
        for (int t = 0; t < sc->n_tables; t++)
            sb_add(&b, " | t%dp | t%da", t, t);
        sb_add(&b, "\nmulti   ::= kSELECT (ws kDISTINCT)? ws items ws kFROM ws mfrom tail\n");
        sb_add(&b, "mfrom   ::= table asalias? join+ | derived asalias? join*\n");
        for (int t = 0; t < sc->n_tables; t++) {
            char prefix[32], qual[32], col[32];
            sb_add(&b, "tbl%d ::= ", t);
            bool first = true;
            add_name(&b, sc->tables[t].name, &first);
            sb_add(&b, "\n");
            add_table_columns(&b, sc, t);
            /* without an alias: columns qualified by the table's name */
            snprintf(prefix, sizeof prefix, "t%dp-", t);
            snprintf(qual, sizeof qual, "tbl%d", t);
            snprintf(col, sizeof col, "col%d", t);
            sb_add(&b, "t%dp ::= kSELECT (ws kDISTINCT)? ws %sitems ws kFROM ws tbl%d %stail\n", t, prefix, t, prefix);
            add_copy(&b, prefix, qual, col);
            /* with an alias: columns qualified by an alias */
            snprintf(prefix, sizeof prefix, "t%da-", t);
            sb_add(&b, "t%da ::= kSELECT (ws kDISTINCT)? ws %sitems ws kFROM ws tbl%d asalias %stail\n", t, prefix, t,
                   prefix);
            add_copy(&b, prefix, "alias", col);
        }
    } else {
        sb_add(&b, "top     ::= query\n");
    }
    sb_add(&b, "%s", GRAMMAR);
    add_copy(&b, "", "qual", "column");
    sb_add(&b, "table   ::= ");
    bool first = true;
    for (int t = 0; t < sc->n_tables; t++)
        add_name(&b, sc->tables[t].name, &first);
    if (first)
        sb_add(&b, "\"\\\"\\\"\"");
    sb_add(&b, "\ncolumn  ::= ");
    first = true;
    for (int t = 0; t < sc->n_tables; t++)
        for (int c = 0; c < sc->tables[t].n_cols; c++)
            if (!seen_before(sc, t, c, false))
                add_name(&b, sc->tables[t].cols[c], &first);
    if (first)
        sb_add(&b, "\"\\\"\\\"\"");
    sb_add(&b, "\n");
    /* String literals of at most STR_MAX characters, as a chain of optional
     * rules (unambiguous, unlike x? x? x?): an unbounded literal lets a
     * sampler wander inside a string, where no critic boundary comes. Each
     * rule is spelled "" | x next, the form x{0,n} compiles to, so that
     * token masks recognise the chain and share one walk between its
     * positions (earley_counted.c; `(x next)?` compiles to the same since
     * ir_inline.c inlines its group and optional). */
    for (int k = 1; k <= STR_MAX; k++) {
        sb_add(&b, "sq%d ::= \"\" | sqc", k);
        if (k < STR_MAX)
            sb_add(&b, " sq%d", k + 1);
        sb_add(&b, "\ndq%d ::= \"\" | dqc", k);
        if (k < STR_MAX)
            sb_add(&b, " dq%d", k + 1);
        sb_add(&b, "\n");
    }
    for (size_t k = 0; k < sizeof KEYWORDS / sizeof KEYWORDS[0]; k++) {
        sb_add(&b, "k%s ::= ", KEYWORDS[k]);
        add_nocase(&b, KEYWORDS[k], false);
        sb_add(&b, "\n");
    }
    return sb_take(&b);
}

char *smc_sql_gbnf(const smc_sql_db *db)
{
    return sql_gbnf_build(db, true);
}
