/* file.h — reading a whole file or stream into memory. */
#ifndef SMC_UTIL_FILE_H
#define SMC_UTIL_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "smcgen.h"

/* Reads the whole file into a malloc'd, NUL-terminated buffer (*len bytes,
 * not counting the NUL; len may be NULL). Returns NULL with err naming the
 * file and the problem. */
char *smc_read_file(const char *path, size_t *len, smc_error *err);

/* The same for an open stream (e.g. stdin), read to its end. */
char *smc_read_stream(FILE *f, size_t *len, smc_error *err);

#endif
