/* sql_gbnf.c — a GBNF grammar of SQLite SELECT queries whose table and
 * column names are those of one database: joins, aliases, subqueries,
 * GROUP BY / HAVING / ORDER BY / LIMIT, set operations, aggregates.
 * Keywords and names are accepted in any letter case. To keep a sampler
 * from wandering in invented names and endless literals, aliases are a
 * letter and up to two digits (T1, t2, a: Spider's style), string literals
 * at most 48 characters, white space at most 4. As in llama.cpp's GBNF, a
 * rule continues on the next line only inside parentheses or after '|'. */
#include "potentials/sql_db.h"
#include "potentials/strbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const KEYWORDS[] = {
    "SELECT", "DISTINCT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "OFFSET", "AS",
    "JOIN", "INNER", "LEFT", "OUTER", "CROSS", "NATURAL", "ON", "AND", "OR", "NOT", "IN", "LIKE",
    "BETWEEN", "IS", "NULL", "EXISTS", "UNION", "ALL", "INTERSECT", "EXCEPT", "ASC", "DESC", "COUNT",
    "SUM", "AVG", "MIN", "MAX", "ABS", "LENGTH", "LOWER", "UPPER", "ROUND", "SUBSTR", "COALESCE",
    "IFNULL", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "INTEGER", "REAL", "TEXT"};

static const char *const GRAMMAR =
    "root    ::= sp query sp (\";\" sp)?\n"
    "query   ::= select (ws setop ws select)*\n"
    "setop   ::= kUNION (ws kALL)? | kINTERSECT | kEXCEPT\n"
    "select  ::= kSELECT (ws kDISTINCT)? ws items ws kFROM ws from (ws kWHERE ws expr)? groupby? orderby? limit?\n"
    "groupby ::= ws kGROUP ws kBY ws exprs (ws kHAVING ws expr)?\n"
    "orderby ::= ws kORDER ws kBY ws orders\n"
    "limit   ::= ws kLIMIT ws int (ws kOFFSET ws int)?\n"
    "items   ::= item (sp \",\" sp item)*\n"
    "item    ::= \"*\" | qual \".*\" | expr (ws kAS ws alias)?\n"
    "from    ::= source join*\n"
    "join    ::= ws joinkw ws source (ws kON ws expr)? | sp \",\" sp source\n"
    "joinkw  ::= kJOIN | kINNER ws kJOIN | kLEFT ws (kOUTER ws)? kJOIN | kCROSS ws kJOIN | kNATURAL ws kJOIN\n"
    "source  ::= table (ws (kAS ws)? alias)? | \"(\" sp query sp \")\" (ws (kAS ws)? alias)?\n"
    "exprs   ::= expr (sp \",\" sp expr)*\n"
    "orders  ::= order (sp \",\" sp order)*\n"
    "order   ::= expr (ws (kASC | kDESC))?\n"
    "expr    ::= conj (ws kOR ws conj)*\n"
    "conj    ::= neg (ws kAND ws neg)*\n"
    "neg     ::= (kNOT ws)? pred\n"
    "pred    ::= sum (sp cmp sp sum | ws (kNOT ws)? kLIKE ws sum\n"
    "            | ws (kNOT ws)? kIN sp \"(\" sp (query | exprs) sp \")\"\n"
    "            | ws (kNOT ws)? kBETWEEN ws sum ws kAND ws sum | ws kIS ws (kNOT ws)? kNULL)?\n"
    "cmp     ::= \"=\" | \"==\" | \"!=\" | \"<>\" | \"<=\" | \">=\" | \"<\" | \">\"\n"
    "sum     ::= term (sp [-+*/%] sp term)*\n"
    "term    ::= colref | num | str | kNULL | agg | func | case | cast | \"-\" sp term |\n"
    "            \"(\" sp query sp \")\" | \"(\" sp expr sp \")\" | kEXISTS sp \"(\" sp query sp \")\"\n"
    "agg     ::= (kCOUNT | kSUM | kAVG | kMIN | kMAX) sp \"(\" sp (kDISTINCT ws)? (expr | \"*\") sp \")\"\n"
    "func    ::= (kABS | kLENGTH | kLOWER | kUPPER | kROUND | kSUBSTR | kCOALESCE | kIFNULL) sp \"(\" sp exprs sp \")\"\n"
    "case    ::= kCASE (ws expr)? (ws kWHEN ws expr ws kTHEN ws expr)+ (ws kELSE ws expr)? ws kEND\n"
    "cast    ::= kCAST sp \"(\" sp expr ws kAS ws (kINTEGER | kREAL | kTEXT) sp \")\"\n"
    "colref  ::= (qual \".\")? column\n"
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

/* One alternative per spelling: bare when possible, always "quoted"; any
 * letter case. */
static void add_name(strbuf *b, const char *name, bool *first)
{
    if (bare_ok(name)) {
        sb_add(b, "%s(", *first ? "" : " | ");
        add_nocase(b, name, false);
        sb_add(b, ")");
        *first = false;
    }
    sb_add(b, "%s(\"\\\"\" ", *first ? "" : " | ");
    add_nocase(b, name, true);
    sb_add(b, "\"\\\"\")");
    *first = false;
}

enum { STR_MAX = 48 };

char *smc_sql_gbnf(const smc_sql_db *db)
{
    const sql_schema *sc = sql_db_schema(db);
    if (!sc)
        return NULL;
    strbuf b = {0};
    sb_add(&b, "# SQLite SELECT queries over this database's tables and columns (generated).\n");
    sb_add(&b, "%s", GRAMMAR);
    sb_add(&b, "table   ::= ");
    bool first = true;
    for (int t = 0; t < sc->n_tables; t++)
        add_name(&b, sc->tables[t].name, &first);
    if (first)
        sb_add(&b, "\"\\\"\\\"\"");
    sb_add(&b, "\ncolumn  ::= ");
    first = true;
    for (int t = 0; t < sc->n_tables; t++)
        for (int c = 0; c < sc->tables[t].n_cols; c++) {
            /* each distinct name once */
            bool seen = false;
            for (int t2 = 0; t2 <= t && !seen; t2++)
                for (int c2 = 0; c2 < (t2 == t ? c : sc->tables[t2].n_cols) && !seen; c2++)
                    seen = strcmp(sc->tables[t2].cols[c2], sc->tables[t].cols[c]) == 0;
            if (!seen)
                add_name(&b, sc->tables[t].cols[c], &first);
        }
    if (first)
        sb_add(&b, "\"\\\"\\\"\"");
    sb_add(&b, "\n");
    /* String literals of at most STR_MAX characters, as a chain of optional
     * rules (unambiguous, unlike x? x? x?): an unbounded literal lets a
     * sampler wander inside a string, where no critic boundary comes. */
    for (int k = 1; k <= STR_MAX; k++) {
        sb_add(&b, "sq%d ::= (sqc", k);
        if (k < STR_MAX)
            sb_add(&b, " sq%d", k + 1);
        sb_add(&b, ")?\ndq%d ::= (dqc", k);
        if (k < STR_MAX)
            sb_add(&b, " dq%d", k + 1);
        sb_add(&b, ")?\n");
    }
    for (size_t k = 0; k < sizeof KEYWORDS / sizeof KEYWORDS[0]; k++) {
        sb_add(&b, "k%s ::= ", KEYWORDS[k]);
        add_nocase(&b, KEYWORDS[k], false);
        sb_add(&b, "\n");
    }
    return sb_take(&b);
}
