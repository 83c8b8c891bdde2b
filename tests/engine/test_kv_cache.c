/* test_kv_cache.c — the paged KV cache: block allocation, refcounts, fork
 * sharing, copy-on-write of the partly filled last block, budget errors,
 * and a random fork/free/append stress run checked against a plain model of
 * what each sequence should hold. */
#include "test.h"

#include "engine/kv_cache.h"

enum { LAYERS = 2, DIM = 3, BS = 4 };

/* Writes a recognisable value for (seq content id, pos, layer, k/v, j). */
static float tag(int32_t content, int32_t pos, int l, int kvsel, int j)
{
    return (float)(content * 100000 + pos * 100 + l * 10 + kvsel * 5 + j);
}

static void write_slot(smc_kv *kv, const smc_kv_slot *s, int32_t content)
{
    for (int l = 0; l < LAYERS; l++)
        for (int j = 0; j < DIM; j++) {
            smc_kv_k(kv, s->block, l)[s->row * DIM + j] = tag(content, s->pos, l, 0, j);
            smc_kv_v(kv, s->block, l)[s->row * DIM + j] = tag(content, s->pos, l, 1, j);
        }
}

/* Content id of each position of a sequence must match expect[pos]. */
static int seq_matches(const smc_kv *kv, int32_t seq, const int32_t *expect, int32_t len)
{
    const smc_kv_seq *s = smc_kv_seq_get(kv, seq);
    if (!s || s->len != len)
        return 0;
    for (int32_t p = 0; p < len; p++) {
        int32_t b = s->blocks[p / BS], r = p % BS;
        for (int l = 0; l < LAYERS; l++)
            for (int j = 0; j < DIM; j++)
                if (smc_kv_k(kv, b, l)[r * DIM + j] != tag(expect[p], p, l, 0, j) ||
                    smc_kv_v(kv, b, l)[r * DIM + j] != tag(expect[p], p, l, 1, j))
                    return 0;
    }
    return 1;
}

static void test_basic_fork_cow(void)
{
    smc_kv kv;
    smc_error err = {{0}};
    size_t block_bytes = (size_t)LAYERS * 2 * BS * DIM * sizeof(float);
    CHECK_EQ_INT(smc_kv_init(&kv, LAYERS, DIM, BS, 10 * block_bytes, &err), 0);
    CHECK_EQ_INT(kv.max_blocks, 10);

    int32_t a = smc_kv_seq_new(&kv, &err);
    CHECK(a >= 0);
    int32_t seqs[6] = {a, a, a, a, a, a};
    smc_kv_slot slots[6];
    CHECK_EQ_INT(smc_kv_append(&kv, seqs, 6, slots, &err), 0);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(slots[i].pos, i);
        write_slot(&kv, &slots[i], 1);
    }
    CHECK_EQ_INT(kv.n_used, 2);          /* 6 tokens in blocks of 4 */
    CHECK_EQ_INT(slots[5].row, 1);

    int32_t b = smc_kv_seq_fork(&kv, a, &err);
    CHECK(b >= 0 && b != a);
    CHECK_EQ_INT(kv.n_used, 2);          /* fork copies nothing */
    const smc_kv_seq *sa = smc_kv_seq_get(&kv, a), *sb = smc_kv_seq_get(&kv, b);
    CHECK_EQ_INT(sb->len, 6);
    CHECK_EQ_INT(kv.refs[sa->blocks[0]], 2);
    CHECK_EQ_INT(kv.refs[sa->blocks[1]], 2);
    int32_t shared_tail = sa->blocks[1];

    /* b appends: its shared partial tail is copied, a keeps the original. */
    CHECK_EQ_INT(smc_kv_append(&kv, &b, 1, slots, &err), 0);
    write_slot(&kv, &slots[0], 2);
    sa = smc_kv_seq_get(&kv, a);
    sb = smc_kv_seq_get(&kv, b);
    CHECK_EQ_INT(kv.n_used, 3);
    CHECK(sb->blocks[1] != shared_tail);
    CHECK_EQ_INT(sa->blocks[1], shared_tail);
    CHECK_EQ_INT(sb->blocks[0], sa->blocks[0]);   /* full block still shared */
    CHECK_EQ_INT(kv.refs[shared_tail], 1);
    CHECK_EQ_INT(kv.refs[sa->blocks[0]], 2);
    int32_t ea[7] = {1, 1, 1, 1, 1, 1, 0}, eb[7] = {1, 1, 1, 1, 1, 1, 2};
    CHECK(seq_matches(&kv, a, ea, 6));
    CHECK(seq_matches(&kv, b, eb, 7));

    /* a appends now: its tail is no longer shared, so no copy. */
    CHECK_EQ_INT(smc_kv_append(&kv, &a, 1, slots, &err), 0);
    write_slot(&kv, &slots[0], 3);
    CHECK_EQ_INT(kv.n_used, 3);
    ea[6] = 3;
    CHECK(seq_matches(&kv, a, ea, 7));
    CHECK(seq_matches(&kv, b, eb, 7));

    /* Fork at a block boundary then append: no copy, a fresh block. */
    int32_t c = smc_kv_seq_fork(&kv, a, &err);
    int32_t one = c;
    CHECK_EQ_INT(smc_kv_append(&kv, &one, 1, slots, &err), 0);  /* len 8: fills block 1 of c */
    CHECK_EQ_INT(kv.n_used, 4);                                   /* copy of a's partial tail */

    smc_kv_seq_free(&kv, a);
    smc_kv_seq_free(&kv, a);            /* twice: ignored */
    smc_kv_seq_free(&kv, 12345);        /* unknown: ignored */
    CHECK(smc_kv_seq_get(&kv, a) == NULL);
    CHECK_EQ_INT(smc_kv_seq_fork(&kv, a, &err), -1);
    CHECK(strstr(err.msg, "does not exist") != NULL);
    smc_kv_seq_free(&kv, b);
    smc_kv_seq_free(&kv, c);
    CHECK_EQ_INT(kv.n_used, 0);
    CHECK_EQ_INT(kv.n_free, kv.n_alloc);

    /* Freed ids are reused. */
    CHECK_EQ_INT(smc_kv_seq_new(&kv, &err), a < b ? (a < c ? a : c) : (b < c ? b : c));
    smc_kv_destroy(&kv);
}

static void test_budget(void)
{
    smc_kv kv;
    smc_error err = {{0}};
    size_t block_bytes = (size_t)LAYERS * 2 * BS * DIM * sizeof(float);
    CHECK_EQ_INT(smc_kv_init(&kv, LAYERS, DIM, BS, block_bytes / 2, &err), -1);
    CHECK(strstr(err.msg, "smaller than one block") != NULL);

    CHECK_EQ_INT(smc_kv_init(&kv, LAYERS, DIM, BS, 3 * block_bytes, &err), 0);
    int32_t a = smc_kv_seq_new(&kv, &err);
    int32_t seqs[13];
    smc_kv_slot slots[13];
    for (int i = 0; i < 13; i++)
        seqs[i] = a;
    err.msg[0] = 0;
    CHECK_EQ_INT(smc_kv_append(&kv, seqs, 13, slots, &err), -1);   /* needs 4 blocks */
    CHECK(strstr(err.msg, "KV cache budget exceeded") != NULL);
    CHECK_EQ_INT(smc_kv_seq_get(&kv, a)->len, 0);                    /* nothing appended */
    CHECK_EQ_INT(smc_kv_append(&kv, seqs, 10, slots, &err), 0);     /* 3 blocks, last partial */
    int32_t b = smc_kv_seq_fork(&kv, a, &err);
    /* b's append needs a copy of the shared tail: over budget, b unchanged. */
    CHECK_EQ_INT(smc_kv_append(&kv, &b, 1, slots, &err), -1);
    CHECK_EQ_INT(smc_kv_seq_get(&kv, b)->len, 10);
    CHECK_EQ_INT(kv.n_used, 3);
    /* Unknown sequence in a batch: error, nothing appended. */
    int32_t bad[2] = {a, 99};
    CHECK_EQ_INT(smc_kv_append(&kv, bad, 2, slots, &err), -1);
    CHECK(strstr(err.msg, "sequence 99") != NULL);
    CHECK_EQ_INT(smc_kv_seq_get(&kv, a)->len, 10);
    smc_kv_seq_free(&kv, a);
    /* a's blocks are still held by b. */
    CHECK_EQ_INT(kv.n_used, 3);
    smc_kv_seq_free(&kv, b);
    CHECK_EQ_INT(kv.n_used, 0);
    smc_kv_destroy(&kv);
}

/* Every holder of a shared partial tail appending in one batch: one copy
 * fewer than holders is enough (the last writes in place). */
static void test_budget_all_holders(void)
{
    smc_kv kv;
    smc_error err = {{0}};
    size_t block_bytes = (size_t)LAYERS * 2 * BS * DIM * sizeof(float);
    CHECK_EQ_INT(smc_kv_init(&kv, LAYERS, DIM, BS, 4 * block_bytes, &err), 0);
    int32_t a = smc_kv_seq_new(&kv, &err), seqs[10];
    smc_kv_slot slots[10];
    for (int i = 0; i < 10; i++)
        seqs[i] = a;
    CHECK_EQ_INT(smc_kv_append(&kv, seqs, 10, slots, &err), 0);   /* 3 blocks */
    for (int i = 0; i < 10; i++)
        write_slot(&kv, &slots[i], 1);
    int32_t b = smc_kv_seq_fork(&kv, a, &err);
    int32_t both[2] = {b, a};
    CHECK_MSG(smc_kv_append(&kv, both, 2, slots, &err) == 0, "%s", err.msg);
    write_slot(&kv, &slots[0], 2);
    write_slot(&kv, &slots[1], 3);
    CHECK_EQ_INT(kv.n_used, 4);
    int32_t eb[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2}, ea[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3};
    CHECK(seq_matches(&kv, a, ea, 11));
    CHECK(seq_matches(&kv, b, eb, 11));
    smc_kv_seq_free(&kv, a);
    smc_kv_seq_free(&kv, b);
    CHECK_EQ_INT(kv.n_used, 0);
    smc_kv_destroy(&kv);
}

/* Random forks, frees and batched appends; every sequence's content is
 * tracked in plain arrays and compared with what the cache returns. */
static void test_random(void)
{
    enum { MAXS = 24, MAXLEN = 40 };
    smc_kv kv;
    smc_error err = {{0}};
    size_t block_bytes = (size_t)LAYERS * 2 * BS * DIM * sizeof(float);
    CHECK_EQ_INT(smc_kv_init(&kv, LAYERS, DIM, BS, 100000 * block_bytes, &err), 0);
    int32_t ids[MAXS], n = 0;
    static int32_t content[MAXS][MAXLEN];
    int32_t lens[MAXS];
    uint64_t rng = 12345;
    int32_t next_content = 10;
    int ok = 1;
    int steps = getenv("SMC_TEST_SANITIZED") ? 300 : 3000;
    for (int step = 0; step < steps; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int op = (int)((rng >> 33) % 4), k = n ? (int)((rng >> 40) % (uint64_t)n) : 0;
        if (n == 0 || (op == 0 && n < MAXS)) {
            ids[n] = smc_kv_seq_new(&kv, &err);
            lens[n++] = 0;
        } else if (op == 1 && n < MAXS) {
            ids[n] = smc_kv_seq_fork(&kv, ids[k], &err);
            memcpy(content[n], content[k], sizeof content[0]);
            lens[n++] = lens[k];
        } else if (op == 2 && n > 1) {
            smc_kv_seq_free(&kv, ids[k]);
            ids[k] = ids[n - 1];
            lens[k] = lens[n - 1];
            memcpy(content[k], content[n - 1], sizeof content[0]);
            n--;
        } else {
            /* A batch over a few sequences, several tokens each. */
            int32_t bseq[16], nb = 0;
            for (int t = 0; t < 16; t++) {
                rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
                int j = (int)((rng >> 35) % (uint64_t)n);
                if ((rng >> 20) % 3 == 0)
                    continue;
                if (lens[j] >= MAXLEN)
                    continue;
                bseq[nb] = ids[j];
                nb++;
                content[j][lens[j]] = next_content;
                lens[j]++;
            }
            smc_kv_slot slots[16];
            if (smc_kv_append(&kv, bseq, nb, slots, &err) != 0) {
                ok = 0;
                break;
            }
            for (int t = 0; t < nb; t++)
                write_slot(&kv, &slots[t], next_content);
            next_content++;
        }
        for (int j = 0; j < n; j++)
            if (!seq_matches(&kv, ids[j], content[j], lens[j]))
                ok = 0;
        if (!ok)
            break;
        /* Refcounts equal the number of tables holding each block. */
        int32_t held = 0;
        for (int32_t b = 0; b < kv.n_alloc; b++) {
            int32_t r = 0;
            for (int j = 0; j < n; j++) {
                const smc_kv_seq *s = smc_kv_seq_get(&kv, ids[j]);
                for (int32_t i = 0; i < s->n_blocks; i++)
                    r += s->blocks[i] == b;
            }
            if (r != kv.refs[b])
                ok = 0;
            held += r > 0;
        }
        if (held != kv.n_used)
            ok = 0;
        if (!ok)
            break;
    }
    CHECK_MSG(ok, "random fork/free/append diverged: %s", err.msg);
    for (int j = 0; j < n; j++)
        smc_kv_seq_free(&kv, ids[j]);
    CHECK_EQ_INT(kv.n_used, 0);
    smc_kv_destroy(&kv);
}

void run_tests(void)
{
    test_basic_fork_cow();
    test_budget();
    test_budget_all_holders();
    test_random();
}
