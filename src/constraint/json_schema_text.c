/* json_schema_text.c — text helpers of the JSON Schema converter: a growable
 * buffer, UTF-8 decoding, and writers for GBNF literals, GBNF char-class
 * members and JSON string text. */
#include "constraint/json_schema_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool js_reserve(js_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void js_putn(js_buf *b, const char *s, size_t n)
{
    if (!js_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void js_put(js_buf *b, const char *s)
{
    js_putn(b, s, strlen(s));
}

void js_printf(js_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        js_putn(b, tmp, (size_t)n);
        return;
    }
    if (!js_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *js_take(js_buf *b)
{
    if (b->oom) {
        js_buf_free(b);
        return NULL;
    }
    if (!b->p && !js_reserve(b, 0))
        return NULL;
    char *p = b->p;
    p[b->len] = 0;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void js_buf_free(js_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

char *js_strdup(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

int32_t js_utf8_next(const char *s, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = *i;
    if (k >= n)
        return -1;
    uint32_t c = u[k];
    int len;
    uint32_t min;
    if (c < 0x80) {
        *i = k + 1;
        return (int32_t)c;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, c &= 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, c &= 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, c &= 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (k + (size_t)len > n)
        return -1;
    for (int j = 1; j < len; j++) {
        if ((u[k + j] & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (u[k + j] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *i = k + (size_t)len;
    return (int32_t)c;
}

static void js_put_cp_escape(js_buf *b, uint32_t cp)
{
    if (cp < 0x100)
        js_printf(b, "\\x%02X", cp);
    else if (cp < 0x10000)
        js_printf(b, "\\u%04X", cp);
    else
        js_printf(b, "\\U%08X", cp);
}

int js_gbnf_literal(js_buf *b, const char *s, size_t n)
{
    js_put(b, "\"");
    size_t i = 0;
    while (i < n) {
        int32_t c = js_utf8_next(s, n, &i);
        if (c < 0)
            return -1;
        if (c == '"')
            js_put(b, "\\\"");
        else if (c == '\\')
            js_put(b, "\\\\");
        else if (c == '\n')
            js_put(b, "\\n");
        else if (c == '\t')
            js_put(b, "\\t");
        else if (c == '\r')
            js_put(b, "\\r");
        else if (c >= 0x20 && c < 0x7F) {
            char ch = (char)c;
            js_putn(b, &ch, 1);
        } else
            js_put_cp_escape(b, (uint32_t)c);
    }
    js_put(b, "\"");
    return 0;
}

void js_gbnf_class_cp(js_buf *b, uint32_t cp)
{
    if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
        char ch = (char)cp;
        js_putn(b, &ch, 1);
    } else {
        js_put_cp_escape(b, cp);
    }
}

void js_json_string(js_buf *b, const char *s)
{
    js_put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': js_put(b, "\\\""); break;
        case '\\': js_put(b, "\\\\"); break;
        case '\n': js_put(b, "\\n"); break;
        case '\t': js_put(b, "\\t"); break;
        case '\r': js_put(b, "\\r"); break;
        case '\b': js_put(b, "\\b"); break;
        case '\f': js_put(b, "\\f"); break;
        default:
            if (*p < 0x20)
                js_printf(b, "\\u%04x", *p);
            else
                js_putn(b, (const char *)p, 1);
        }
    }
    js_put(b, "\"");
}
