/* earley.c — byte-level Earley steps over interned, memoised sets (see
 * earley.h for the design). */
#include "constraint/earley.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

eset earley_dead;

#define MASK_BUDGET_BYTES ((size_t)512 << 20)

typedef struct earley_cache {
    eset **sets;           /* by id */
    size_t n_sets, cap_sets;
    uint64_t *table;       /* intern hash table (open addressing; see table_slot) */
    size_t table_cap;
    eset *init;
    uint64_t work, memo_hits;
    size_t mask_bytes;
    /* scratch for one step */
    eitem *out;
    size_t n_out, cap_out;
    eitem *work_list;
    size_t n_work, cap_work;
    /* per nonterminal: the positions it predicts (no ends, sorted) and the
     * nonterminals among them (split_pred) */
    uint32_t **pred_pos, **pred_nts, *n_pred_pos, *n_pred_nts, *pred_store;
    uint32_t *pred_stamp;  /* per nonterminal: its predictions added this step */
    uint64_t *self_bits;   /* per position: predicted this step (words self_lo..self_hi) */
    size_t self_lo, self_hi, n_self;
    eitem *merged;         /* scratch of intern: a step's items in order */
    size_t cap_merged;
    uint32_t stamp;
    uint64_t *dedup_keys;  /* non-self items of the set being built */
    uint32_t *dedup_stamp;
    size_t dedup_cap, dedup_n;
    /* scratch for projections */
    eitem *pout;
    size_t cap_pout;
    uint32_t *nt_mark;     /* per nonterminal */
    uint32_t nt_stamp;
    uint32_t *nt_queue;
    uint32_t *nt_head, *nt_head_stamp;  /* per nonterminal: first item of its chain */
    uint32_t head_stamp;
    uint32_t *link;        /* per item of chain_set: next in its chain */
    size_t cap_link;
    const eset *chain_set; /* the set whose chains nt_head and link hold */
    uint64_t *pbits;       /* per item of the set projected: taken */
    size_t cap_pbits;
    eitem *sort_tmp;       /* scratch of sort_items */
    size_t cap_sort_tmp;
    size_t *runs;          /* sort_items: where each run ends */
    size_t cap_runs;
    /* byte classes: bytes that every terminal either contains or not step
     * every set to the same place, so one step serves the whole class;
     * class_bytes[class_start[k] .. class_start[k + 1]) are class k's bytes */
    uint8_t byte_class[256];
    uint8_t class_bytes[256];
    uint16_t class_start[257];
    unsigned n_classes;
    /* unions of whole trie subtrees, per token index, parent node and set
     * of child bytes (see earley_subtree_union), hashed into buckets */
    struct subtree_union *unions[64];
    size_t n_unions;
    /* sets, their items and transition arrays live in chunks, all
     * freed with the cache */
    struct arena_chunk *arena;
    earley_chains *chains; /* counted repetitions (earley_counted.c) */
} earley_cache;

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

#define ARENA_CHUNK_BYTES ((size_t)64 << 10)

/* Aligned memory that lives as long as the cache, not zeroed (items are
 * copied in whole); NULL when out of memory. */
static void *arena_alloc_raw(earley_cache *c, size_t bytes)
{
    bytes = (bytes + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    arena_chunk *a = c->arena;
    if (!a || a->cap - a->used < bytes) {
        size_t cap = bytes > ARENA_CHUNK_BYTES ? bytes : ARENA_CHUNK_BYTES;
        a = malloc(sizeof *a + cap);
        if (!a)
            return NULL;
        a->used = 0;
        a->cap = cap;
        a->next = c->arena;
        c->arena = a;
    }
    void *p = (char *)a->data + a->used;
    a->used += bytes;
    return p;
}

/* The same, zeroed. */
static void *arena_alloc(earley_cache *c, size_t bytes)
{
    void *p = arena_alloc_raw(c, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

typedef struct subtree_union {
    uint64_t index_uid;
    uint32_t parent;
    uint64_t child_bytes[4];
    uint32_t *bits;
    struct subtree_union *next;
} subtree_union;

#define MAX_SUBTREE_UNIONS 1024

static unsigned union_bucket(uint64_t uid, uint32_t parent, const uint64_t child_bytes[4])
{
    uint64_t h = uid * 0x9E3779B97F4A7C15ull ^ parent;
    for (int w = 0; w < 4; w++)
        h = (h ^ child_bytes[w]) * 0xff51afd7ed558ccdull;
    return (unsigned)(h >> 58);
}

/* Splits the 256 bytes into classes no terminal tells apart. */
static void compute_byte_classes(const smc_grammar *g, earley_cache *c)
{
    unsigned n = 1;
    memset(c->byte_class, 0, sizeof c->byte_class);
    for (uint32_t t = 0; t < g->n_terms && n < 256; t++) {
        int16_t split[256][2];
        memset(split, -1, sizeof split);
        unsigned m = 0;
        for (unsigned b = 0; b < 256; b++) {
            int in = ir_byteset_has(&g->terms[t], b);
            int16_t *k = &split[c->byte_class[b]][in];
            if (*k < 0)
                *k = (int16_t)m++;
            c->byte_class[b] = (uint8_t)*k;
        }
        n = m;
    }
    c->n_classes = n;
    uint16_t count[257] = {0};
    for (unsigned b = 0; b < 256; b++)
        count[c->byte_class[b] + 1]++;
    for (unsigned k = 0; k < 256; k++)
        count[k + 1] += count[k];
    memcpy(c->class_start, count, sizeof count);
    for (unsigned b = 0; b < 256; b++)
        c->class_bytes[count[c->byte_class[b]]++] = (uint8_t)b;
}

/* Four independent chains over items 0, 4, 8, ... / 1, 5, ... (a step's
 * latency is one xor, rotate and multiply, so the chains overlap), folded
 * at the end. */
static inline uint64_t hash_lane(uint64_t h, eitem x)
{
    uint64_t v = h ^ ((uint64_t)x.pos << 32 | x.org);
    return (v << 29 | v >> 35) * 0xff51afd7ed558ccdull;
}

static uint64_t hash_items(const eitem *it, uint32_t n)
{
    uint64_t a = 0x9E3779B97F4A7C15ull ^ n, b = 0xC2B2AE3D27D4EB4Full, c = 0x165667B19E3779F9ull,
             d = 0x27D4EB2F165667C5ull;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a = hash_lane(a, it[i]);
        b = hash_lane(b, it[i + 1]);
        c = hash_lane(c, it[i + 2]);
        d = hash_lane(d, it[i + 3]);
    }
    for (; i < n; i++)
        a = hash_lane(a, it[i]);
    uint64_t h = a ^ (b << 17 | b >> 47) ^ (c << 31 | c >> 33) ^ (d << 47 | d >> 17);
    h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
    h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static int cmp_item(const void *a, const void *b)
{
    const eitem *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->org < y->org ? -1 : x->org > y->org;
}

static inline uint64_t item_key(eitem x) { return (uint64_t)x.pos << 32 | x.org; }

static void insertion_sort(eitem *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        eitem x = a[i];
        uint64_t kx = item_key(x);
        size_t j = i;
        while (j > 0 && item_key(a[j - 1]) > kx) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* p (an array of *cap elements of `size` bytes), grown to hold at least n;
 * NULL (p left as it was) when out of memory. */
static void *grow_scratch(void *p, size_t *cap, size_t n, size_t size)
{
    if (p && *cap >= n)
        return p;
    if (n < 16)
        n = 16;
    void *v = realloc(p, n * size);
    if (v)
        *cap = n;
    return v;
}

/* Sorts items by (pos, org), as cmp_item orders them, without a call per
 * comparison: a natural merge sort. The ascending runs already there are
 * kept (a step's predictions come in runs, pred lists being sorted;
 * projections and abstract sets come sorted), short ones extended to 8 items by
 * insertion, then merged pairwise through the cache's scratch (qsort when
 * that cannot grow). */
static void sort_items(earley_cache *c, eitem *items, size_t n)
{
    enum { MIN_RUN = 8 };
    if (n <= 16) {
        insertion_sort(items, n);
        return;
    }
    eitem *tmp = grow_scratch(c->sort_tmp, &c->cap_sort_tmp, n, sizeof *tmp);
    if (tmp)
        c->sort_tmp = tmp;
    size_t *ends = tmp ? grow_scratch(c->runs, &c->cap_runs, n / MIN_RUN + 2, sizeof *ends) : NULL;
    if (!ends) {
        qsort(items, n, sizeof *items, cmp_item);
        return;
    }
    c->runs = ends;
    size_t nr = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && item_key(items[j - 1]) <= item_key(items[j]))
            j++;
        if (j - i < MIN_RUN && j < n) {
            j = i + MIN_RUN < n ? i + MIN_RUN : n;
            insertion_sort(items + i, j - i);
            while (j < n && item_key(items[j - 1]) <= item_key(items[j]))
                j++;
        }
        ends[nr++] = j;
        i = j;
    }
    eitem *src = items, *dst = c->sort_tmp;
    while (nr > 1) {
        size_t w = 0, lo = 0;
        for (size_t r = 0; r < nr; r += 2) {
            size_t mid = ends[r], hi = r + 1 < nr ? ends[r + 1] : mid;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = item_key(src[j]) < item_key(src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
            ends[w++] = hi;
            lo = hi;
        }
        nr = w;
        eitem *t = src;
        src = dst;
        dst = t;
    }
    if (src != items)
        memcpy(items, src, n * sizeof *items);
}

/* A table slot: the set's id + 1 (0: empty) under the high half of its
 * hash, which also places it (so a probe passes other sets, and growing
 * rehashes, without loading them). */
static inline uint64_t table_slot(const eset *s) { return (s->hash >> 32) << 32 | (s->id + 1u); }

static int table_insert(earley_cache *c, eset *s)
{
    if ((c->n_sets + 1) * 2 > c->table_cap) {
        size_t cap = c->table_cap ? c->table_cap * 2 : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t)
            return -1;
        for (size_t i = 0; i < c->table_cap; i++) {
            uint64_t e = c->table[i];
            if (!e)
                continue;
            size_t j = (e >> 32) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = e;
        }
        free(c->table);
        c->table = t;
        c->table_cap = cap;
    }
    size_t j = (s->hash >> 32) & (c->table_cap - 1);
    while (c->table[j])
        j = (j + 1) & (c->table_cap - 1);
    c->table[j] = table_slot(s);
    return 0;
}

static eset *table_find(const earley_cache *c, const eitem *items, uint32_t n, uint64_t h)
{
    if (!c->table_cap)
        return NULL;
    uint64_t tag = h >> 32;
    size_t j = tag & (c->table_cap - 1);
    for (uint64_t e; (e = c->table[j]) != 0; j = (j + 1) & (c->table_cap - 1)) {
        if (e >> 32 != tag)
            continue;
        eset *x = c->sets[(uint32_t)e - 1];
        if (x->hash == h && x->n == n && memcmp(x->items, items, n * sizeof *items) == 0)
            return x;
    }
    return NULL;
}

/* Interns items (sorted here); NULL on out of memory. */
static eset *intern_items(const smc_grammar *g, earley_cache *c, eitem *items, size_t n_items, bool accepting);
static eset *intern_sorted(const smc_grammar *g, earley_cache *c, const eitem *items, size_t n_items,
                           bool accepting);

/* Interns the set a step built: its other items (c->out) sorted, merged
 * with its predicted ones (origin SELF, sorting after every other origin of
 * their position), which take the bits of their positions in self_bits
 * (cleared here, and counted in n_self). */
static eset *intern(const smc_grammar *g, earley_cache *c, bool accepting)
{
    size_t n = c->n_out + (c->self_lo < c->self_hi ? (c->self_hi - c->self_lo) * 64 : 0);   /* at most */
    if (c->cap_merged < n) {
        size_t cap = c->cap_merged ? c->cap_merged : 256;
        while (cap < n)
            cap *= 2;
        eitem *v = realloc(c->merged, cap * sizeof *v);
        if (!v)
            return NULL;
        c->merged = v;
        c->cap_merged = cap;
    }
    sort_items(c, c->out, c->n_out);
    size_t k = 0, o = 0;
    for (size_t w = c->self_lo; w < c->self_hi; w++) {
        for (uint64_t m = c->self_bits[w]; m; m &= m - 1) {
            uint32_t pos = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
            while (o < c->n_out && c->out[o].pos <= pos)
                c->merged[k++] = c->out[o++];
            c->merged[k++] = (eitem){pos, EORG_SELF};
            c->n_self++;
        }
        c->self_bits[w] = 0;
    }
    while (o < c->n_out)
        c->merged[k++] = c->out[o++];
    c->self_lo = SIZE_MAX;
    c->self_hi = 0;
    return intern_sorted(g, c, c->merged, k, accepting);
}

static eset *intern_items(const smc_grammar *g, earley_cache *c, eitem *items, size_t n_items, bool accepting)
{
    sort_items(c, items, n_items);
    return intern_sorted(g, c, items, n_items, accepting);
}

/* Interns items already sorted by (pos, org). */
static eset *intern_sorted(const smc_grammar *g, earley_cache *c, const eitem *items, size_t n_items,
                           bool accepting)
{
    uint32_t n = (uint32_t)n_items;
    uint64_t h = hash_items(items, n) ^ (accepting ? 0x5555 : 0);
    eset *s = table_find(c, items, n, h);
    if (s && s->accepting == accepting)
        return s;
    s = arena_alloc(c, sizeof *s);
    if (!s)
        return NULL;
    s->items = arena_alloc_raw(c, (n ? n : 1) * sizeof *s->items);
    if (!s->items)
        return NULL;
    memcpy(s->items, items, n * sizeof *s->items);
    s->n = n;
    s->hash = h;
    s->accepting = accepting;
    uint32_t n_scan = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t sym = g->pos_sym[s->items[i].pos];
        if (IR_IS_TERM(sym)) {
            n_scan++;
            for (int w = 0; w < 8; w++)
                s->first.w[w] |= g->terms[sym & ~IR_TERM].w[w];
        }
    }
    s->can_continue = n_scan > 0;
    s->scan = arena_alloc_raw(c, (n_scan ? n_scan : 1) * sizeof *s->scan);
    if (!s->scan)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        if (IR_IS_TERM(g->pos_sym[s->items[i].pos]))
            s->scan[s->n_scan++] = i;
    for (int w = 0; w < 4; w++)   /* dead bytes never loop */
        s->no_loop[w] = ~((uint64_t)s->first.w[2 * w] | (uint64_t)s->first.w[2 * w + 1] << 32);
    if (c->n_sets == c->cap_sets) {
        size_t cap = c->cap_sets ? c->cap_sets * 2 : 256;
        eset **v = realloc(c->sets, cap * sizeof *v);
        if (!v)
            return NULL;   /* (arena memory is released with the cache) */
        c->sets = v;
        c->cap_sets = cap;
    }
    s->id = (uint32_t)c->n_sets;
    if (table_insert(c, s) != 0)
        return NULL;
    c->sets[c->n_sets++] = s;
    return s;
}

static int push_out(earley_cache *c, uint32_t pos, uint32_t org)
{
    if (c->n_out == c->cap_out) {
        size_t cap = c->cap_out ? c->cap_out * 2 : 256;
        eitem *v = realloc(c->out, cap * sizeof *v);
        if (!v)
            return -1;
        c->out = v;
        c->cap_out = cap;
    }
    c->out[c->n_out++] = (eitem){pos, org};
    return 0;
}

/* Adds a non-self item once; queues it for processing. 1 added, 0 already
 * there, -1 out of memory. */
static int add_dyn(earley_cache *c, uint32_t pos, uint32_t org)
{
    if ((c->dedup_n + 1) * 2 > c->dedup_cap) {
        /* grow and rehash the live (current stamp) keys */
        size_t cap = c->dedup_cap ? c->dedup_cap * 2 : 1024;
        uint64_t *k = malloc(cap * sizeof *k);
        uint32_t *st = calloc(cap, sizeof *st);
        if (!k || !st) {
            free(k);
            free(st);
            return -1;
        }
        for (size_t i = 0; i < c->dedup_cap; i++) {
            if (c->dedup_stamp[i] != c->stamp)
                continue;
            uint64_t key = c->dedup_keys[i];
            size_t j = (key * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
            while (st[j] == c->stamp)
                j = (j + 1) & (cap - 1);
            k[j] = key;
            st[j] = c->stamp;
        }
        free(c->dedup_keys);
        free(c->dedup_stamp);
        c->dedup_keys = k;
        c->dedup_stamp = st;
        c->dedup_cap = cap;
    }
    uint64_t key = (uint64_t)pos << 32 | org;
    size_t j = (key * 0x9E3779B97F4A7C15ull >> 20) & (c->dedup_cap - 1);
    while (c->dedup_stamp[j] == c->stamp) {
        if (c->dedup_keys[j] == key)
            return 0;
        j = (j + 1) & (c->dedup_cap - 1);
    }
    c->dedup_stamp[j] = c->stamp;
    c->dedup_keys[j] = key;
    c->dedup_n++;
    if (c->n_work == c->cap_work) {
        size_t cap = c->cap_work ? c->cap_work * 2 : 256;
        eitem *v = realloc(c->work_list, cap * sizeof *v);
        if (!v)
            return -1;
        c->work_list = v;
        c->cap_work = cap;
    }
    c->work_list[c->n_work++] = (eitem){pos, org};
    return 1;
}

/* Adds the items nt predicts (g->pred[nt] less its ends, origin here) as
 * bits of self_bits. The nonterminals met among them predict subsets of
 * them (pred lists are closed under prediction), so they are marked done
 * for this step too. */
static void add_predicted(earley_cache *c, uint32_t nt)
{
    if (c->pred_stamp[nt] == c->stamp)
        return;
    const uint32_t *p = c->pred_pos[nt], np = c->n_pred_pos[nt];
    const uint32_t *y = c->pred_nts[nt], ny = c->n_pred_nts[nt];
    uint32_t st = c->stamp;
    c->pred_stamp[nt] = st;
    for (uint32_t i = 0; i < ny; i++)
        c->pred_stamp[y[i]] = st;
    if (np == 0)
        return;
    /* sorted: the words they touch */
    if (p[0] / 64 < c->self_lo)
        c->self_lo = p[0] / 64;
    if (p[np - 1] / 64 + 1 > c->self_hi)
        c->self_hi = p[np - 1] / 64 + 1;
    for (uint32_t i = 0; i < np; i++)
        c->self_bits[p[i] / 64] |= 1ull << (p[i] % 64);
}

/* Per nonterminal, from g->pred: the positions it predicts that are not
 * ends (empty completions are covered by nullable advances), and the
 * nonterminals after their dots. -1 when out of memory. */
static int split_pred(const smc_grammar *g, earley_cache *c)
{
    size_t total = 0;
    for (uint32_t a = 0; a < g->n_nt; a++)
        total += g->n_pred[a];
    c->pred_pos = calloc(g->n_nt ? g->n_nt : 1, sizeof *c->pred_pos);
    c->pred_nts = calloc(g->n_nt ? g->n_nt : 1, sizeof *c->pred_nts);
    c->n_pred_pos = calloc(g->n_nt ? g->n_nt : 1, sizeof *c->n_pred_pos);
    c->n_pred_nts = calloc(g->n_nt ? g->n_nt : 1, sizeof *c->n_pred_nts);
    c->pred_store = malloc((total ? total : 1) * 2 * sizeof *c->pred_store);
    if (!c->pred_pos || !c->pred_nts || !c->n_pred_pos || !c->n_pred_nts || !c->pred_store)
        return -1;
    uint32_t *at = c->pred_store;
    for (uint32_t a = 0; a < g->n_nt; a++) {
        c->pred_pos[a] = at;
        for (uint32_t i = 0; i < g->n_pred[a]; i++)
            if (!POS_IS_END(g->pos_sym[g->pred[a][i]]))
                at[c->n_pred_pos[a]++] = g->pred[a][i];
        at += c->n_pred_pos[a];
        c->pred_nts[a] = at;
        for (uint32_t i = 0; i < g->n_pred[a]; i++) {
            uint32_t sym = g->pos_sym[g->pred[a][i]];
            if (!POS_IS_END(sym) && !IR_IS_TERM(sym))
                at[c->n_pred_nts[a]++] = sym;
        }
        at += c->n_pred_nts[a];
    }
    return 0;
}

static void next_stamp(earley_cache *c, const smc_grammar *g)
{
    if (++c->stamp == 0) {
        memset(c->pred_stamp, 0, g->n_nt * sizeof *c->pred_stamp);
        if (c->dedup_stamp)
            memset(c->dedup_stamp, 0, c->dedup_cap * sizeof *c->dedup_stamp);
        c->stamp = 1;
    }
    if (c->self_lo < c->self_hi)   /* a step that failed before intern */
        memset(c->self_bits + c->self_lo, 0, (c->self_hi - c->self_lo) * sizeof *c->self_bits);
    c->self_lo = SIZE_MAX;
    c->self_hi = 0;
    c->n_out = c->n_work = c->dedup_n = c->n_self = 0;
}

int earley_cache_init(smc_grammar *g)
{
    earley_cache *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    g->cache = c;
    c->pred_stamp = calloc(g->n_nt ? g->n_nt : 1, sizeof *c->pred_stamp);
    c->self_bits = calloc(g->n_pos / 64 + 1, sizeof *c->self_bits);
    c->self_lo = SIZE_MAX;
    c->nt_mark = calloc(g->n_nt ? g->n_nt : 1, sizeof *c->nt_mark);
    c->nt_queue = malloc((g->n_nt ? g->n_nt : 1) * sizeof *c->nt_queue);
    c->nt_head = malloc((g->n_nt ? g->n_nt : 1) * sizeof *c->nt_head);
    c->nt_head_stamp = calloc(g->n_nt ? g->n_nt : 1, sizeof *c->nt_head_stamp);
    if (!c->pred_stamp || !c->self_bits || !c->nt_mark || !c->nt_queue || !c->nt_head || !c->nt_head_stamp)
        return -1;
    if (split_pred(g, c) != 0)
        return -1;
    compute_byte_classes(g, c);
    if (!(c->chains = earley_chains_new(g)))
        return -1;
    next_stamp(c, g);
    add_predicted(c, g->start_nt);
    c->init = intern(g, c, g->nullable[g->start_nt] != 0);
    return c->init ? 0 : -1;
}

void earley_cache_free(smc_grammar *g)
{
    earley_cache *c = g->cache;
    if (!c)
        return;
    for (size_t i = 0; i < c->n_sets; i++) {
        eset *s = c->sets[i];
        for (emask *m = s->masks, *nx; m; m = nx) {
            nx = m->next;
            free(m->bits);
            free(m);
        }
        for (enmemo *m = s->nmemo, *nx; m; m = nx) {
            nx = m->next;
            free(m->idx);
            free(m->bits);
            free(m->unc);
            free(m);
        }
        free(s->proj);
    }
    for (arena_chunk *a = c->arena, *nx; a; a = nx) {
        nx = a->next;
        free(a);
    }
    for (int k = 0; k < 64; k++)
        for (subtree_union *u = c->unions[k], *nx; u; u = nx) {
            nx = u->next;
            free(u->bits);
            free(u);
        }
    free(c->sets);
    free(c->table);
    free(c->out);
    free(c->work_list);
    free(c->pred_pos);
    free(c->pred_nts);
    free(c->n_pred_pos);
    free(c->n_pred_nts);
    free(c->pred_store);
    free(c->pred_stamp);
    free(c->self_bits);
    free(c->merged);
    free(c->dedup_keys);
    free(c->dedup_stamp);
    free(c->pout);
    free(c->nt_mark);
    free(c->nt_queue);
    free(c->nt_head);
    free(c->nt_head_stamp);
    free(c->link);
    free(c->pbits);
    free(c->sort_tmp);
    free(c->runs);
    earley_chains_free(c->chains);
    free(c);
    g->cache = NULL;
}

eset *earley_initial(const smc_grammar *g) { return g->cache->init; }
const earley_chains *earley_get_chains(const smc_grammar *g) { return g->cache->chains; }

eset *earley_intern_abstract(const smc_grammar *g, eitem *items, size_t n)
{
    eset *a = intern_items(g, g->cache, items, n, false);
    if (a)
        a->abs = a;
    return a;
}
const uint8_t *earley_byte_classes(const smc_grammar *g) { return g->cache->byte_class; }
uint64_t earley_work(const smc_grammar *g) { return g->cache->work; }
void earley_count_memo_hit(const smc_grammar *g) { g->cache->memo_hits++; }
uint64_t earley_memo_hits(const smc_grammar *g) { return g->cache->memo_hits; }
size_t earley_n_sets(const smc_grammar *g) { return g->cache->n_sets; }

bool earley_mask_budget(const smc_grammar *g, size_t bytes)
{
    earley_cache *c = g->cache;
    if (c->mask_bytes + bytes > MASK_BUDGET_BYTES)
        return false;
    c->mask_bytes += bytes;
    return true;
}

/* Chains s's items that wait on a nonterminal, per nonterminal x: nt_head[x],
 * then link[k]. Built
 * once per set and kept while the same set is projected again (the scans of
 * one step project it on every left-hand side they meet). -1 when out of
 * memory. */
static int build_chains(const smc_grammar *g, earley_cache *c, const eset *s)
{
    if (c->chain_set == s)
        return 0;
    uint32_t *link = grow_scratch(c->link, &c->cap_link, s->n, sizeof *link);
    if (!link)
        return -1;
    c->link = link;
    if (++c->head_stamp == 0) {
        memset(c->nt_head_stamp, 0, g->n_nt * sizeof *c->nt_head_stamp);
        c->head_stamp = 1;
    }
    uint32_t hs = c->head_stamp;
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t x = g->pos_sym[s->items[k].pos];
        if (IR_IS_TERM(x) || POS_IS_END(x))
            continue;
        c->link[k] = c->nt_head_stamp[x] == hs ? c->nt_head[x] : UINT32_MAX;
        c->nt_head[x] = k;
        c->nt_head_stamp[x] = hs;
    }
    c->chain_set = s;
    return 0;
}

/* The id of s projected on nonterminal a (see earley.h): the items of s
 * waiting on a nonterminal that completing a can reach (a itself, and the
 * left-hand sides of s's own items waiting on one reached, transitively).
 * UINT32_MAX when out of memory. */
static uint32_t project(const smc_grammar *g, earley_cache *c, eset *s, uint32_t a)
{
    for (uint32_t k = 0; k < s->n_proj; k++)
        if (s->proj[k].nt == a)
            return s->proj[k].id;
    if (++c->nt_stamp == 0) {
        memset(c->nt_mark, 0, g->n_nt * sizeof *c->nt_mark);
        c->nt_stamp = 1;
    }
    if (build_chains(g, c, s) != 0)
        return UINT32_MAX;
    eitem *pout = grow_scratch(c->pout, &c->cap_pout, s->n + 1, sizeof *pout);
    if (!pout)
        return UINT32_MAX;
    c->pout = pout;
    /* breadth first up from a, marking the items of every chain reached
     * (pbits, one bit per item of s), then those items in s's order */
    size_t nw = (s->n + 63) / 64;
    uint64_t *pbits = grow_scratch(c->pbits, &c->cap_pbits, nw, sizeof *pbits);
    if (!pbits)
        return UINT32_MAX;
    c->pbits = pbits;
    memset(c->pbits, 0, nw * sizeof *c->pbits);
    uint32_t hs = c->head_stamp, st = c->nt_stamp, nq = 0;
    c->nt_mark[a] = st;
    c->nt_queue[nq++] = a;
    for (uint32_t q = 0; q < nq; q++) {
        uint32_t x = c->nt_queue[q];
        if (c->nt_head_stamp[x] != hs)
            continue;
        for (uint32_t k = c->nt_head[x]; k != UINT32_MAX; k = c->link[k]) {
            c->pbits[k >> 6] |= 1ull << (k & 63);
            if (s->items[k].org != EORG_SELF)
                continue;   /* completes into its own origin, not into s */
            uint32_t b = g->pos_lhs[s->items[k].pos];
            if (c->nt_mark[b] != st) {
                c->nt_mark[b] = st;
                c->nt_queue[nq++] = b;
            }
        }
    }
    size_t n = 0;
    for (size_t w = 0; w < nw; w++)
        for (uint64_t m = c->pbits[w]; m; m &= m - 1)
            c->pout[n++] = s->items[w * 64 + (size_t)__builtin_ctzll(m)];
    eset *p = intern_items(g, c, c->pout, n, false);
    if (!p)
        return UINT32_MAX;
    uint32_t np = s->n_proj;
    if (np == 0 || (np >= 4 && (np & (np - 1)) == 0)) {   /* capacity 4, 8, 16, ... */
        eproj *v = realloc(s->proj, (np ? 2 * (size_t)np : 4) * sizeof *v);
        if (!v)
            return p->id;
        s->proj = v;
    }
    s->proj[s->n_proj++] = (eproj){a, p->id};
    return p->id;
}

static eset *compute_step(const smc_grammar *g, earley_cache *c, eset *s, unsigned char byte, bool *popped)
{
    *popped = false;
    next_stamp(c, g);
    c->work++;
    bool accepting = false;
    /* scan */
    for (uint32_t j = 0; j < s->n_scan; j++) {
        uint32_t i = s->scan[j], sym = g->pos_sym[s->items[i].pos];
        if (ir_byteset_has(&g->terms[sym & ~IR_TERM], byte)) {
            uint32_t org = s->items[i].org;
            if (org == EORG_SELF) {
                org = project(g, c, s, g->pos_lhs[s->items[i].pos]);
                if (org == UINT32_MAX)
                    return NULL;
            }
            if (add_dyn(c, s->items[i].pos + 1, org) < 0)
                return NULL;
        }
    }
    if (c->n_work == 0)
        return &earley_dead;
    /* closure; the work list only ever holds items whose origin is an
     * earlier set */
    for (size_t w = 0; w < c->n_work; w++) {
        eitem it = c->work_list[w];
        uint32_t sym = g->pos_sym[it.pos];
        if (POS_IS_END(sym)) {
            uint32_t lhs = POS_ID(sym);
            if (lhs == g->start_nt) {
                accepting = true;
                continue;
            }
            if (it.org == EORG_EXT) {
                *popped = true;   /* completes into the unknown context */
                continue;
            }
            const eset *o = c->sets[it.org];
            for (uint32_t k = 0; k < o->n; k++) {
                if (g->pos_sym[o->items[k].pos] != lhs)
                    continue;
                uint32_t org = o->items[k].org == EORG_SELF ? o->id : o->items[k].org;
                if (add_dyn(c, o->items[k].pos + 1, org) < 0)
                    return NULL;
            }
        } else {
            if (push_out(c, it.pos, it.org) != 0)
                return NULL;
            if (!IR_IS_TERM(sym)) {
                add_predicted(c, sym);
                if (g->nullable[sym] && add_dyn(c, it.pos + 1, it.org) < 0)
                    return NULL;
            }
        }
    }
    if (c->n_out == 0 && c->self_lo >= c->self_hi && !accepting)
        return &earley_dead;   /* cannot happen with a trimmed grammar */
    eset *t = intern(g, c, accepting);
    c->work += c->n_work + c->n_out + c->n_self;   /* items processed, for work limits */
    return t;
}

eset *earley_step(const smc_grammar *g, eset *s, unsigned char byte)
{
    bool popped;
    return earley_step_pop(g, s, byte, &popped);
}

eset *earley_step_pop(const smc_grammar *g, eset *s, unsigned char byte, bool *popped)
{
    *popped = false;
    if (s == &earley_dead)
        return s;
    earley_cache *c = g->cache;
    unsigned k = c->byte_class[byte];
    if (s->next && s->next[k]) {
        *popped = s->pop[k >> 6] >> (k & 63) & 1;
        return s->next[k];
    }
    if (!ir_byteset_has(&s->first, byte))
        return &earley_dead;   /* no item scans it: no need to memoise */
    eset *t = compute_step(g, c, s, byte, popped);
    if (!t)
        return NULL;
    if (!s->next) {
        s->next = arena_alloc(c, c->n_classes * sizeof *s->next);
        if (!s->next)
            return t;   /* works, just not memoised */
    }
    /* The step depends on the byte only through the terminals of s's
     * scanning items that hold it: every byte in exactly the same ones
     * (its local class in s, usually much coarser than the grammar-wide
     * byte class) steps s to t too. Memoise t for all of them, and record
     * whether they loop. */
    ir_byteset local;
    memset(&local, 0xFF, sizeof local);
    for (uint32_t j = 0; j < s->n_scan; j++) {
        uint32_t sym = g->pos_sym[s->items[s->scan[j]].pos];
        const ir_byteset *ts = &g->terms[sym & ~IR_TERM];
        uint32_t flip = ir_byteset_has(ts, byte) ? 0 : UINT32_MAX;
        for (int w = 0; w < 8; w++)
            local.w[w] &= ts->w[w] ^ flip;
    }
    uint64_t *known = t == s ? s->loop : s->no_loop;
    for (int w = 0; w < 8; w++)
        known[w >> 1] |= (uint64_t)local.w[w] << (32 * (w & 1));
    /* a local class is a union of byte classes: test one byte of each */
    for (unsigned k2 = 0; k2 < c->n_classes; k2++) {
        if (!ir_byteset_has(&local, c->class_bytes[c->class_start[k2]]))
            continue;
        s->next[k2] = t;
        if (*popped)
            s->pop[k2 >> 6] |= 1ull << (k2 & 63);
    }
    s->next[k] = t;
    if (*popped)
        s->pop[k >> 6] |= 1ull << (k & 63);
    return t;
}

eset *earley_abstract(const smc_grammar *g, eset *s)
{
    if (s->abs)
        return s->abs;
    if (s == &earley_dead)
        return s;
    earley_cache *c = g->cache;
    bool any = false;
    for (uint32_t i = 0; i < s->n && !any; i++)
        any = s->items[i].org != EORG_SELF && s->items[i].org != EORG_EXT;
    if (!any) {
        s->abs = s;
        return s;
    }
    eitem *pout = grow_scratch(c->pout, &c->cap_pout, s->n + 1, sizeof *pout);
    if (!pout)
        return NULL;
    c->pout = pout;
    /* s's items are sorted by (pos, org): EXT sorts after every set id and
     * before SELF, so equal positions stay adjacent for the dedup */
    size_t n = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        eitem it = s->items[i];
        if (it.org != EORG_SELF)
            it.org = EORG_EXT;
        bool dup = false;
        for (size_t j = n; j-- > 0 && c->pout[j].pos == it.pos;)
            if (c->pout[j].org == it.org)
                dup = true;
        if (!dup)
            c->pout[n++] = it;
    }
    eset *a = intern_items(g, c, c->pout, n, false);
    if (!a)
        return NULL;
    a->abs = a;
    s->abs = a;
    return a;
}

const uint32_t *earley_subtree_union(const smc_grammar *g, uint64_t index_uid, uint32_t parent,
                                     const uint64_t child_bytes[4])
{
    const earley_cache *c = g->cache;
    for (const subtree_union *u = c->unions[union_bucket(index_uid, parent, child_bytes)]; u; u = u->next)
        if (u->index_uid == index_uid && u->parent == parent &&
            memcmp(u->child_bytes, child_bytes, sizeof u->child_bytes) == 0)
            return u->bits;
    return NULL;
}

bool earley_subtree_union_add(const smc_grammar *g, uint64_t index_uid, uint32_t parent, const uint64_t child_bytes[4],
                              uint32_t *bits, size_t n_bytes)
{
    earley_cache *c = g->cache;
    if (c->n_unions >= MAX_SUBTREE_UNIONS || !earley_mask_budget(g, n_bytes))
        return false;
    subtree_union *u = malloc(sizeof *u);
    if (!u)
        return false;
    u->index_uid = index_uid;
    u->parent = parent;
    memcpy(u->child_bytes, child_bytes, sizeof u->child_bytes);
    u->bits = bits;
    unsigned k = union_bucket(index_uid, parent, child_bytes);
    u->next = c->unions[k];
    c->unions[k] = u;
    c->n_unions++;
    return true;
}

eset *earley_step_direct(const smc_grammar *g, eset *s, unsigned char byte)
{
    if (s == &earley_dead)
        return s;
    bool popped;
    return compute_step(g, g->cache, s, byte, &popped);
}

int earley_loops_slow(const smc_grammar *g, eset *s, const uint64_t bytes[4])
{
    earley_cache *c = g->cache;
    for (int w = 0; w < 4; w++) {
        uint64_t need = bytes[w] & ~s->loop[w] & ~s->no_loop[w];
        while (need) {
            unsigned byte = (unsigned)(w * 64 + __builtin_ctzll(need));
            eset *t = earley_step(g, s, (unsigned char)byte);
            if (!t)
                return -1;
            /* the answer holds for the byte's whole class */
            unsigned k = c->byte_class[byte];
            for (unsigned j = c->class_start[k]; j < c->class_start[k + 1]; j++) {
                unsigned b2 = c->class_bytes[j];
                uint64_t *known = t == s ? s->loop : s->no_loop;
                known[b2 >> 6] |= 1ull << (b2 & 63);
            }
            if (t != s)
                return 0;
            need &= ~s->loop[w];   /* earley_step marked the byte's local class */
        }
    }
    return 1;
}
