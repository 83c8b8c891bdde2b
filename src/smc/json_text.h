/* json_text.h — JSON helpers shared by the result and trace writers. */
#ifndef SMC_SMC_JSON_TEXT_H
#define SMC_SMC_JSON_TEXT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "smcgen.h"

/* A number, or null when x is not finite (JSON has no infinities). */
cJSON *smc_json_num(double x);
/* obj[key] = s[n] made valid UTF-8. false when out of memory. */
bool smc_json_add_text(cJSON *obj, const char *key, const char *s, size_t n);
/* The result as a cJSON object (smc_result_to_json's shape); NULL when out
 * of memory. */
cJSON *smc_result_json_object(const smc_result *r, bool with_particles);

#endif
