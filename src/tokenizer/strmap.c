/* strmap.c — open-addressing (linear probing) hash map from byte strings to
 * int32, used for token text -> id and BPE merge -> rank. */
#include "tokenizer/strmap.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash_bytes(const char *s, size_t len)
{
    /* FNV-1a, then a final mix so that the low bits are well spread. */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    return h;
}

int strmap_init(strmap *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2 + 1)
        cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    m->cap = m->slots ? cap : 0;
    m->n = 0;
    return m->slots ? 0 : -1;
}

void strmap_free(strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static strmap_slot *find_slot(const strmap *m, const char *key, size_t len, uint32_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        strmap_slot *s = &m->slots[i];
        if (!s->key)
            return s;
        if (s->hash == h && s->len == len && (len == 0 || memcmp(s->key, key, len) == 0))
            return s;
    }
}

static int grow(strmap *m)
{
    strmap bigger;
    bigger.cap = m->cap * 2;
    bigger.n = m->n;
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        const strmap_slot *s = &m->slots[i];
        if (s->key)
            *find_slot(&bigger, s->key, s->len, s->hash) = *s;
    }
    free(m->slots);
    *m = bigger;
    return 0;
}

int strmap_put(strmap *m, const char *key, size_t len, int32_t val)
{
    if (len > UINT32_MAX || !m->slots)
        return -1;
    if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
        return -1;
    uint32_t h = hash_bytes(key, len);
    strmap_slot *s = find_slot(m, key, len, h);
    if (!s->key) {
        s->key = key ? key : "";
        s->len = (uint32_t)len;
        s->hash = h;
        m->n++;
    }
    s->val = val;
    return 0;
}

int32_t strmap_get(const strmap *m, const char *key, size_t len)
{
    if (!m->slots || len > UINT32_MAX)
        return -1;
    const strmap_slot *s = find_slot(m, key, len, hash_bytes(key, len));
    return s->key ? s->val : -1;
}
