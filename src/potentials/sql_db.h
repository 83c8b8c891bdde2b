/* sql_db.h — internals shared by the SQL critic's files. */
#ifndef SMC_POTENTIALS_SQL_DB_H
#define SMC_POTENTIALS_SQL_DB_H

#include "potentials/sql_scope.h"
#include "smcgen.h"

const sql_schema *sql_db_schema(const smc_sql_db *db);
/* Whether the authorizer lets queries call this function. */
bool sql_function_allowed(const char *name);

#endif
