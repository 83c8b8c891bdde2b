/* sql_db.h — internals shared by the SQL critic's files. */
#ifndef SMC_POTENTIALS_SQL_DB_H
#define SMC_POTENTIALS_SQL_DB_H

#include "potentials/sql_scope.h"
#include "smcgen.h"

const sql_schema *sql_db_schema(const smc_sql_db *db);
/* Whether the authorizer lets queries call this function. */
bool sql_function_allowed(const char *name);
/* The SQL grammar (sql_gbnf.c); per_table false gives the general grammar
 * without the single-table copies (for tests: the two accept the same
 * valid queries). */
char *sql_gbnf_build(const smc_sql_db *db, bool per_table);

#endif
