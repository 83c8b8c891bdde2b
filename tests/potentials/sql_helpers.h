/* sql_helpers.h — shared by the SQL tests: whether plain SQLite runs a
 * query, and a Spider gold query with its table and column names spelled as
 * the database's schema spells them (the SQL grammar accepts names only in
 * that spelling; SQLite ignores case). */
#ifndef SMC_TEST_SQL_HELPERS_H
#define SMC_TEST_SQL_HELPERS_H

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>
#include <stdbool.h>

#include "smcgen.h"

/* Does SQLite prepare and run q on the database at path (read-only)? */
static inline bool plain_sqlite_ok(const char *path, const char *q)
{
    sqlite3 *h = NULL;
    bool ok = false;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK && st) {
            int rc;
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
            ok = rc == SQLITE_DONE;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return ok;
}

/* q with every bare or "quoted" table and column name spelled as the
 * schema spells it (a name after FROM/JOIN or before '.' as a table, else
 * as a column first); string literals and function names kept. */
static inline void recase_names(smc_sql_db *d, const char *q, char *out, size_t cap)
{
    size_t o = 0;
    char pw[16] = "";   /* the previous word */
    for (const char *p = q; *p && o + 1 < cap;) {
        if (*p == '\'') {
            const char *e = strchr(p + 1, '\'');
            size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
            for (size_t k = 0; k < len && o + 1 < cap; k++)
                out[o++] = p[k];
            p += len;
            continue;
        }
        bool quoted = *p == '"';
        if (quoted || isalpha((unsigned char)*p) || *p == '_') {
            const char *s = quoted ? p + 1 : p, *e = s;
            if (quoted)
                e = strchr(s, '"') ? strchr(s, '"') : s + strlen(s);
            else
                while (isalnum((unsigned char)*e) || *e == '_')
                    e++;
            size_t len = (size_t)(e - s);
            const char *after = quoted && *e ? e + 1 : e;
            bool as_table = !strcasecmp(pw, "FROM") || !strcasecmp(pw, "JOIN") || *after == '.';
            const char *hit = NULL;
            for (int pass = 0; pass < 2 && !hit; pass++)
                for (int t = 0; t < smc_sql_n_tables(d) && !hit; t++) {
                    if ((pass == 0) == as_table) {
                        const char *nm = smc_sql_table_name(d, t);
                        if (strlen(nm) == len && !strncasecmp(nm, s, len))
                            hit = nm;
                    } else
                        for (int c = 0; c < smc_sql_n_columns(d, t) && !hit; c++) {
                            const char *nm = smc_sql_column_name(d, t, c);
                            if (strlen(nm) == len && !strncasecmp(nm, s, len))
                                hit = nm;
                        }
                }
            if (*after == '(' && !quoted)
                hit = NULL; /* a function */
            if (quoted && o + 1 < cap)
                out[o++] = '"';
            for (size_t k = 0; k < len && o + 1 < cap; k++)
                out[o++] = hit ? hit[k] : s[k];
            if (quoted && *e && o + 1 < cap)
                out[o++] = '"';
            snprintf(pw, sizeof pw, "%.*s", (int)(len < 15 ? len : 15), s);
            p = after;
            continue;
        }
        if (!isspace((unsigned char)*p))
            pw[0] = 0;
        out[o++] = *p++;
    }
    out[o] = 0;
}

#endif
