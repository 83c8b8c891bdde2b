/* chat_internal.h — what the chat-template files share: a growable output
 * string. */
#ifndef SMC_CHAT_INTERNAL_H
#define SMC_CHAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "smcgen.h"

typedef struct chat_buf {
    char *p;
    size_t len, cap;
    bool oom;
} chat_buf;

/* Appends n bytes of s (or strlen(s) when n is (size_t)-1); on failure sets
 * oom and keeps what it had. */
void chat_put(chat_buf *b, const char *s, size_t n);

#endif
