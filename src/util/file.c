/* file.c — reading a whole file or stream into memory. */
#include "util/file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

char *smc_read_stream(FILE *f, size_t *len, smc_error *err)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        smc_fail(err, "out of memory");
        return NULL;
    }
    for (;;) {
        if (cap - n < 2) {
            char *grown = cap > ((size_t)-1) / 2 ? NULL : realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                smc_fail(err, "out of memory");
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        smc_fail(err, "read error: %s", strerror(errno));
        return NULL;
    }
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

char *smc_read_file(const char *path, size_t *len, smc_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        smc_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = smc_read_stream(f, len, err);
    fclose(f);
    if (!buf)
        smc_fail_context(err, "%s", path);
    return buf;
}
