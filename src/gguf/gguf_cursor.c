/* gguf_cursor.c — bounds-checked reads from a GGUF image (see gguf_cursor.h). */
#include "gguf/gguf_cursor.h"
#include "util/error.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int gguf_need(gguf_cursor *c, size_t n, const char *what)
{
    if (gguf_remaining(c) >= n)
        return 0;
    return smc_fail(c->err, "file truncated: %s at byte %zu needs %zu bytes, only %zu remain (file is %zu bytes)",
                    what, c->pos, n, gguf_remaining(c), c->size);
}

int gguf_read_u32(gguf_cursor *c, uint32_t *out, const char *what)
{
    if (gguf_need(c, 4, what))
        return -1;
    memcpy(out, c->p + c->pos, 4);
    c->pos += 4;
    return 0;
}

int gguf_read_u64(gguf_cursor *c, uint64_t *out, const char *what)
{
    if (gguf_need(c, 8, what))
        return -1;
    memcpy(out, c->p + c->pos, 8);
    c->pos += 8;
    return 0;
}

int gguf_read_str(gguf_cursor *c, smc_str *out, uint64_t max_len, const char *what)
{
    size_t at = c->pos;
    uint64_t len;
    char lwhat[96];
    snprintf(lwhat, sizeof lwhat, "%s length", what);
    if (gguf_read_u64(c, &len, lwhat))
        return -1;
    if (len > gguf_remaining(c))
        return smc_fail(c->err, "file truncated: %s length %" PRIu64 " at byte %zu runs past the end of the file "
                        "(only %zu bytes remain, file is %zu bytes)", what, len, at, gguf_remaining(c), c->size);
    if (len > max_len)
        return smc_fail(c->err, "%s length %" PRIu64 " at byte %zu exceeds the limit of %" PRIu64 " bytes",
                        what, len, at, max_len);
    out->ptr = (const char *)c->p + c->pos;
    out->len = (size_t)len;
    c->pos += (size_t)len;
    return 0;
}

const char *gguf_show(char *buf, size_t cap, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o > 80) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (isprint(ch) && ch != '\\')
            buf[o++] = (char)ch;
        else
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", ch);
    }
    buf[o] = 0;
    return buf;
}
