/* strbuf.h — a growing text buffer for the grammar generators (internal). */
#ifndef SMC_POTENTIALS_STRBUF_H
#define SMC_POTENTIALS_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool oom;
} strbuf;

void sb_add(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends text as the inside of a GBNF "..." literal (escaping quotes,
 * backslashes and control bytes). */
void sb_add_gbnf_literal(strbuf *b, const char *text);
/* Returns the text (caller frees), or NULL after an allocation failure. */
char *sb_take(strbuf *b);

#endif
