/* sql_scope.h — the schema model and the column-scope check of SQL prefixes
 * (internal to the SQL critic). */
#ifndef SMC_POTENTIALS_SQL_SCOPE_H
#define SMC_POTENTIALS_SQL_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sql_table_info {
    char *name;
    char **cols;
    int n_cols;
} sql_table_info;

typedef struct sql_schema {
    sql_table_info *tables;
    int n_tables;
    char **star_fns;      /* allowed functions SQLite accepts as f(*) */
    int n_star_fns;
} sql_schema;

void sql_schema_free(sql_schema *s);
int sql_schema_find_table(const sql_schema *s, const char *name);   /* case-insensitive, -1 */
bool sql_schema_has_column(const sql_schema *s, int table, const char *col);
bool sql_schema_star_ok(const sql_schema *s, const char *fn);     /* f(*) prepares */

/* Checks a prefix of one SELECT statement: the statement kind, table names,
 * and every column reference whose scope is settled (the FROM clauses of its
 * query and all enclosing queries are finished) must name a column of a
 * table in scope (aliases, derived tables, CTEs, correlated subqueries).
 * Also rejected as soon as they appear: an unknown table, a qualifier that
 * can no longer be bound (even before its column is finished), f(*) for a
 * function SQLite only calls with arguments, and an aggregate function in
 * the WHERE, GROUP BY or ON clause of the outermost query.
 * Returns 0 when no problem is found, -1 with a reason. */
int sql_scope_check(const sql_schema *sc, const char *s, size_t n, char *why, size_t why_cap);

#endif
