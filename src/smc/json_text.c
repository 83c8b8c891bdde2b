/* json_text.c — JSON helpers shared by the result and trace writers: bytes
 * made valid UTF-8 (U+FFFD for invalid bytes and NULs), -inf as null. */
#include "smc/json_text.h"

#include <math.h>
#include <stdlib.h>

#include "util/utf8.h"

cJSON *smc_json_num(double x)
{
    /* JSON has no infinities: -inf is written as null. */
    return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

bool smc_json_add_text(cJSON *obj, const char *key, const char *s, size_t n)
{
    char *c = smc_utf8_clean(s, n);
    if (!c)
        return false;
    cJSON *v = cJSON_AddStringToObject(obj, key, c);
    free(c);
    return v != NULL;
}

