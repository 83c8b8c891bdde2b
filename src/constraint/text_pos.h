/* text_pos.h — scanning helpers the grammar parsers share: line:column of a
 * byte offset and the first-error message built from it, UTF-8 decoding, decimal counts. */
#ifndef SMC_CONSTRAINT_TEXT_POS_H
#define SMC_CONSTRAINT_TEXT_POS_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Reads the decimal number at s[*i] (n bytes in all), advancing *i; values
 * saturate at 1,000,000 (repetition counts). False when no digit is there. */
static inline bool text_scan_count(const char *s, size_t n, size_t *i, long *v)
{
    if (*i >= n || !isdigit((unsigned char)s[*i]))
        return false;
    long x = 0;
    while (*i < n && isdigit((unsigned char)s[*i])) {
        x = x * 10 + (s[(*i)++] - '0');
        if (x > 1000000)
            x = 1000000;
    }
    *v = x;
    return true;
}

/* 1-based line and column (column counts bytes) of offset off in text. */
static inline void text_pos(const char *text, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* text_pos for offsets visited mostly in increasing order (a parser
 * naming every rule reference): continues from the previous answer. */
typedef struct text_cursor {
    size_t off;
    int line, col;
} text_cursor;

static inline void text_pos_next(text_cursor *cur, const char *text, size_t off, int *line, int *col)
{
    if (cur->line == 0 || off < cur->off)
        *cur = (text_cursor){0, 1, 1};
    for (size_t i = cur->off; i < off; i++) {
        if (text[i] == '\n') {
            cur->line++;
            cur->col = 1;
        } else {
            cur->col++;
        }
    }
    cur->off = off;
    *line = cur->line;
    *col = cur->col;
}

/* The first error of a parse: writes "line:col: " + fmt (one %s: arg) into
 * err[cap] at offset `at` of text (n bytes), unless err already holds one. */
static inline void text_fail_at(char *err, size_t cap, const char *text, size_t n, size_t at, const char *fmt,
                                const char *arg)
{
    if (err[0])
        return;
    int line, col;
    text_pos(text, at > n ? n : at, &line, &col);
    char msg[300];
    /* long arguments are cut short on purpose (the results are checked only
     * so that the compiler does not warn about that) */
    if (snprintf(msg, sizeof msg, fmt, arg ? arg : "") < 0)
        msg[0] = '\0';
    if (snprintf(err, cap, "%d:%d: %s", line, col, msg) < 0)
        err[0] = '\0';
}

/* Decodes one UTF-8 code point at s[*i] (n bytes available); advances *i.
 * Returns -1 on invalid UTF-8. */
static inline long utf8_decode(const char *s, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = *i;
    if (k >= n)
        return -1;
    unsigned c = u[k];
    if (c < 0x80) {
        *i = k + 1;
        return c;
    }
    size_t len;
    unsigned long cp, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if (k + len > n)
        return -1;
    for (size_t j = 1; j < len; j++) {
        if ((u[k + j] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (u[k + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i = k + len;
    return (long)cp;
}

#endif
