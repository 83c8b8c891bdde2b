/* error.h — filling smc_error with formatted messages. */
#ifndef SMC_UTIL_ERROR_H
#define SMC_UTIL_ERROR_H

#include "smcgen.h"

/* Formats into err (when not NULL) and returns -1, so callers can write
 * `return smc_fail(err, "bad %s", what);`. */
int smc_fail(smc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "context: " to an existing message. Returns -1. */
int smc_fail_context(smc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
