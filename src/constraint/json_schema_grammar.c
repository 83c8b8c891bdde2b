/* json_schema_grammar.c — JSON Schema → compiled grammar: converts to GBNF
 * (json_schema.c) and compiles it with smc_grammar_from_gbnf; the schema's
 * warnings (ignored keywords) join the grammar's (smc_grammar_warnings). */
#include <stdlib.h>
#include <string.h>

#include "constraint/grammar_internal.h"
#include "smcgen.h"
#include "util/error.h"

int smc_grammar_from_json_schema_ex(const char *schema_json, size_t len, unsigned flags,
                                    smc_grammar **out, smc_error *err)
{
    if (!out)
        return smc_fail(err, "JSON Schema: NULL argument");
    *out = NULL;
    char *gbnf = NULL, *warnings = NULL;
    if (smc_json_schema_convert(schema_json, len, flags, &gbnf, &warnings, err) < 0)
        return -1;
    smc_error local = {{0}};
    if (!err)
        err = &local;
    int rc = smc_grammar_from_gbnf(gbnf, strlen(gbnf), "root", out, err);
    free(gbnf);
    if (rc == 0 && warnings) {
        /* the schema's warnings (ignored keywords) first, then the grammar's */
        smc_grammar *g = *out;
        size_t a = strlen(warnings), b = g->warnings ? strlen(g->warnings) : 0;
        char *w = realloc(warnings, a + b + 1);
        if (w) {
            memcpy(w + a, g->warnings ? g->warnings : "", b + 1);
            free(g->warnings);
            g->warnings = w;
            warnings = NULL;
        }
    }
    free(warnings);
    /* A schema whose every instance would be infinite (a required property
     * that refers back to its own object, say) has no JSON value at all. */
    if (rc < 0 && strstr(err->msg, "matches no string"))
        return smc_fail(err, "JSON Schema: no finite JSON value satisfies this schema "
                             "(e.g. a required property that refers back to its own object)");
    if (rc < 0)
        return smc_fail_context(err, "JSON Schema: compiling the generated grammar");
    return 0;
}

int smc_grammar_from_json_schema(const char *schema_json, size_t len, smc_grammar **out,
                                 smc_error *err)
{
    return smc_grammar_from_json_schema_ex(schema_json, len, 0, out, err);
}

int smc_json_schema_ws_flag(const char *name)
{
    if (!name)
        return -1;
    if (!strcmp(name, "compact"))
        return 0;
    if (!strcmp(name, "flexible"))
        return (int)SMC_JSON_SCHEMA_FLEXIBLE_WS;
    return -1;
}
