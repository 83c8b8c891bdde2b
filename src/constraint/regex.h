/* regex.h — regex (PCRE-like subset) to grammar IR, used for regex
 * constraints and Lark /regex/ terminals. */
#ifndef SMC_CONSTRAINT_REGEX_H
#define SMC_CONSTRAINT_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#include "constraint/ir.h"

typedef struct regex_opts {
    bool icase;       /* i: ASCII letters match either case */
    bool dotall;      /* s: '.' also matches '\n' */
    bool allow_anchors; /* ^ at the start and $ at the end are accepted (and mean nothing) */
} regex_opts;

/* Compiles pattern into one IR symbol (*sym) matching exactly the strings the
 * pattern matches as a whole. On error returns -1 with msg and *err_off (byte
 * offset in the pattern). */
int regex_to_ir(ir_builder *b, const char *pat, size_t len, regex_opts opts, uint32_t *sym, char *msg,
                size_t msg_len, size_t *err_off);

#endif
