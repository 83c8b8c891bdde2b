/* kv_cache.c — paged KV cache with refcounted blocks, O(blocks) fork without
 * copying K/V data, copy-on-write of a shared partly filled last block, and a
 * memory budget. */
#include "engine/kv_cache.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

int smc_kv_init(smc_kv *kv, int32_t n_layer, int32_t kv_dim, int32_t block_size,
                size_t budget_bytes, smc_error *err)
{
    memset(kv, 0, sizeof *kv);
    if (n_layer <= 0 || kv_dim <= 0 || block_size <= 0)
        return smc_fail(err, "KV cache: bad shape (layers %d, kv dim %d, block %d)",
                        n_layer, kv_dim, block_size);
    kv->block_size = block_size;
    kv->n_layer = n_layer;
    kv->kv_dim = kv_dim;
    kv->block_bytes = (size_t)n_layer * 2 * (size_t)block_size * (size_t)kv_dim * sizeof(float);
    size_t max_blocks = budget_bytes / kv->block_bytes;
    if (max_blocks < 1)
        return smc_fail(err, "KV cache budget of %zu bytes is smaller than one block (%zu bytes)",
                        budget_bytes, kv->block_bytes);
    if (max_blocks > (size_t)INT32_MAX / 2)
        max_blocks = (size_t)INT32_MAX / 2;
    kv->max_blocks = (int32_t)max_blocks;
    /* Per-block bookkeeping grows on demand: start small. */
    kv->data = NULL;
    return 0;
}

void smc_kv_destroy(smc_kv *kv)
{
    for (int32_t i = 0; i < kv->n_alloc; i++)
        free(kv->data[i]);
    free(kv->data);
    free(kv->refs);
    free(kv->free_ids);
    for (int32_t i = 0; i < kv->n_seqs; i++)
        free(kv->seqs[i].blocks);
    free(kv->seqs);
    memset(kv, 0, sizeof *kv);
}

const smc_kv_seq *smc_kv_seq_get(const smc_kv *kv, int32_t seq)
{
    if (seq < 0 || seq >= kv->n_seqs || !kv->seqs[seq].live)
        return NULL;
    return &kv->seqs[seq];
}

/* A free sequence slot (reusing dead ones), or -1. */
static int32_t seq_slot(smc_kv *kv, smc_error *err)
{
    for (int32_t i = 0; i < kv->n_seqs; i++)
        if (!kv->seqs[i].live)
            return i;
    if (kv->n_seqs == kv->cap_seqs) {
        int32_t cap = kv->cap_seqs ? kv->cap_seqs * 2 : 16;
        smc_kv_seq *s = realloc(kv->seqs, (size_t)cap * sizeof *s);
        if (!s)
            return smc_fail(err, "out of memory for sequences");
        kv->seqs = s;
        kv->cap_seqs = cap;
    }
    memset(&kv->seqs[kv->n_seqs], 0, sizeof kv->seqs[0]);
    return kv->n_seqs++;
}

static int reserve_table(smc_kv_seq *s, int32_t n_blocks, smc_error *err)
{
    if (n_blocks <= s->cap_blocks)
        return 0;
    int32_t cap = s->cap_blocks ? s->cap_blocks : 8;
    while (cap < n_blocks)
        cap *= 2;
    int32_t *b = realloc(s->blocks, (size_t)cap * sizeof *b);
    if (!b)
        return smc_fail(err, "out of memory for a block table");
    s->blocks = b;
    s->cap_blocks = cap;
    return 0;
}

int32_t smc_kv_seq_new(smc_kv *kv, smc_error *err)
{
    int32_t id = seq_slot(kv, err);
    if (id < 0)
        return -1;
    smc_kv_seq *s = &kv->seqs[id];
    s->live = 1;
    s->len = 0;
    s->n_blocks = 0;
    return id;
}

int32_t smc_kv_seq_fork(smc_kv *kv, int32_t src, smc_error *err)
{
    if (!smc_kv_seq_get(kv, src))
        return smc_fail(err, "fork: sequence %d does not exist", src);
    int32_t id = seq_slot(kv, err);   /* may move kv->seqs */
    if (id < 0)
        return -1;
    smc_kv_seq *s = &kv->seqs[id], *from = &kv->seqs[src];
    if (reserve_table(s, from->n_blocks, err) < 0)
        return -1;
    memcpy(s->blocks, from->blocks, (size_t)from->n_blocks * sizeof *s->blocks);
    for (int32_t i = 0; i < from->n_blocks; i++)
        kv->refs[from->blocks[i]]++;
    s->n_blocks = from->n_blocks;
    s->len = from->len;
    s->live = 1;
    return id;
}

static void block_release(smc_kv *kv, int32_t b)
{
    if (--kv->refs[b] == 0) {
        kv->free_ids[kv->n_free++] = b;
        kv->n_used--;
    }
}

void smc_kv_seq_free(smc_kv *kv, int32_t seq)
{
    if (!smc_kv_seq_get(kv, seq))
        return;
    smc_kv_seq *s = &kv->seqs[seq];
    for (int32_t i = 0; i < s->n_blocks; i++)
        block_release(kv, s->blocks[i]);
    s->n_blocks = 0;
    s->len = 0;
    s->live = 0;
}

void smc_kv_seq_truncate(smc_kv *kv, int32_t seq, int32_t len)
{
    if (!smc_kv_seq_get(kv, seq) || len < 0 || len >= kv->seqs[seq].len)
        return;
    smc_kv_seq *s = &kv->seqs[seq];
    int32_t keep = (len + kv->block_size - 1) / kv->block_size;
    while (s->n_blocks > keep)
        block_release(kv, s->blocks[--s->n_blocks]);
    s->len = len; /* a kept partial tail shared with others is copied on the next append */
}

/* Makes sure `need` blocks are available on the free list, allocating their
 * memory now (so that later steps cannot fail). */
static int ensure_free_blocks(smc_kv *kv, int32_t need, smc_error *err)
{
    if (need <= kv->n_free)
        return 0;
    int32_t more = need - kv->n_free;
    if (more > kv->max_blocks - kv->n_alloc)
        return smc_fail(err,
                        "KV cache budget exceeded: %d more blocks of %zu bytes needed, budget holds %d "
                        "blocks (%d in use); raise the KV budget or use fewer/shorter sequences",
                        need, kv->block_bytes, kv->max_blocks, kv->n_used);
    /* Grow the bookkeeping arrays to cover n_alloc + more. */
    int32_t new_alloc = kv->n_alloc + more;
    float **d = realloc(kv->data, (size_t)new_alloc * sizeof *d);
    if (!d)
        return smc_fail(err, "out of memory for the KV cache");
    kv->data = d;
    int32_t *r = realloc(kv->refs, (size_t)new_alloc * sizeof *r);
    if (!r)
        return smc_fail(err, "out of memory for the KV cache");
    kv->refs = r;
    int32_t *f = realloc(kv->free_ids, (size_t)new_alloc * sizeof *f);
    if (!f)
        return smc_fail(err, "out of memory for the KV cache");
    kv->free_ids = f;
    while (kv->n_alloc < new_alloc) {
        float *blk = malloc(kv->block_bytes);
        if (!blk)
            return smc_fail(err, "out of memory for a KV block (%zu bytes)", kv->block_bytes);
        int32_t id = kv->n_alloc++;
        kv->data[id] = blk;
        kv->refs[id] = 0;
        kv->free_ids[kv->n_free++] = id;
    }
    return 0;
}

static int32_t block_take(smc_kv *kv)
{
    int32_t b = kv->free_ids[--kv->n_free];
    kv->refs[b] = 1;
    kv->n_used++;
    return b;
}

int smc_kv_append(smc_kv *kv, const int32_t *seqs, int32_t n, smc_kv_slot *slots, smc_error *err)
{
    if (n <= 0)
        return 0;
    int32_t *count = calloc((size_t)kv->n_seqs + 1, sizeof *count);
    if (!count)
        return smc_fail(err, "out of memory");
    for (int32_t i = 0; i < n; i++) {
        if (!smc_kv_seq_get(kv, seqs[i])) {
            free(count);
            return smc_fail(err, "batch entry %d: sequence %d does not exist", i, seqs[i]);
        }
        count[seqs[i]]++;
    }
    /* Blocks needed: new tail blocks, plus copies of shared partial tails.
     * k of the r holders of a partial tail appending need k copies, or k-1
     * when all r append (the last one then writes in place). */
    int64_t need = 0;
    const int32_t bs = kv->block_size;
    int32_t *tail_appenders = calloc((size_t)kv->n_alloc + 1, sizeof *tail_appenders);
    if (!tail_appenders) {
        free(count);
        return smc_fail(err, "out of memory");
    }
    for (int32_t q = 0; q < kv->n_seqs; q++)
        if (count[q] && kv->seqs[q].len % bs)
            tail_appenders[kv->seqs[q].blocks[kv->seqs[q].n_blocks - 1]]++;
    for (int32_t q = 0; q < kv->n_seqs; q++) {
        if (!count[q])
            continue;
        smc_kv_seq *s = &kv->seqs[q];
        int32_t total = (s->len + count[q] + bs - 1) / bs;
        need += total - s->n_blocks;
        if (s->len % bs) {
            int32_t tail = s->blocks[s->n_blocks - 1], k = tail_appenders[tail];
            need += k < kv->refs[tail] ? k : k - 1;
            tail_appenders[tail] = 0;   /* counted once per block */
        }
        if (reserve_table(s, total, err) < 0) {
            free(count);
            free(tail_appenders);
            return -1;
        }
    }
    free(tail_appenders);
    if (need > INT32_MAX || ensure_free_blocks(kv, (int32_t)need, err) < 0) {
        free(count);
        if (need > INT32_MAX)
            return smc_fail(err, "KV cache budget exceeded");
        return -1;
    }
    for (int32_t q = 0; q < kv->n_seqs; q++) {
        if (!count[q])
            continue;
        smc_kv_seq *s = &kv->seqs[q];
        int32_t filled = s->len % bs;
        if (filled) {
            int32_t old = s->blocks[s->n_blocks - 1];
            if (kv->refs[old] > 1) {
                int32_t b = block_take(kv);
                for (int32_t l = 0; l < kv->n_layer; l++) {
                    memcpy(smc_kv_k(kv, b, l), smc_kv_k(kv, old, l),
                           (size_t)filled * kv->kv_dim * sizeof(float));
                    memcpy(smc_kv_v(kv, b, l), smc_kv_v(kv, old, l),
                           (size_t)filled * kv->kv_dim * sizeof(float));
                }
                block_release(kv, old);
                s->blocks[s->n_blocks - 1] = b;
            }
        }
        int32_t total = (s->len + count[q] + bs - 1) / bs;
        while (s->n_blocks < total)
            s->blocks[s->n_blocks++] = block_take(kv);
    }
    free(count);
    for (int32_t i = 0; i < n; i++) {
        smc_kv_seq *s = &kv->seqs[seqs[i]];
        int32_t pos = s->len++;
        slots[i].block = s->blocks[pos / bs];
        slots[i].row = pos % bs;
        slots[i].pos = pos;
    }
    return 0;
}
