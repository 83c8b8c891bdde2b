/* utf8.h — UTF-8 validity: sequence lengths, cleaned copies and the longest
 * prefix that ends on a whole character. */
#ifndef SMC_UTIL_UTF8_H
#define SMC_UTIL_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid. */
size_t smc_utf8_seq(const unsigned char *s, size_t n);
/* A NUL-terminated copy with invalid bytes (and NULs) as U+FFFD; NULL on no memory. */
char *smc_utf8_clean(const char *s, size_t n);
/* The largest m <= n such that s[0..m) does not end inside an incomplete
 * (but so far valid) character. */
size_t smc_utf8_whole_prefix(const char *s, size_t n);

#endif
