/* test_sql_masks.c — token masks of the Spider SQL grammars (smc_sql_gbnf:
 * per-table copies of the expression rules, case-free keywords, counted
 * string literals) on the domain models' 8,192-token vocabulary, where SMC
 * pays for most masks on their first visit. Particles walk random
 * trajectories over one shared grammar, as in a run (later masks meet
 * states, abstract sets and subtree memos built from other contexts), and
 * every mask is checked token by token against advancing a clone of the
 * matcher by the token's bytes, and a sample of tokens against an
 * independent Earley recognizer (gbnf_earley.h). Spider's gold queries on the
 * same databases, tokenized by the model's tokenizer, must be allowed token
 * by token and end in an accepting state. */
#include "test.h"
#include "smcgen.h"
#include "potentials/gbnf_earley.h"
#include "potentials/sql_helpers.h"

#include <cjson/cJSON.h>

#include <stdint.h>

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t next_u64(void) { return test_xorshift64(&rng); }

static bool ascii(smc_str b)
{
    for (size_t i = 0; i < b.len; i++)
        if ((unsigned char)b.ptr[i] >= 0x80)
            return false;
    return true;
}

typedef struct walk_ctx {
    const smc_grammar *g;
    const smc_token_index *ix;
    const smc_vocab *voc;
    ge_grammar ref;
    int32_t n, eos;
    size_t words;
    int steps, mismatches, ref_checked;
} walk_ctx;

/* One particle: up to `steps` tokens drawn from its masks (longer tokens
 * favoured, so it gets past keywords into names, literals and clauses). */
static void particle(walk_ctx *w, int steps, int ref_every)
{
    smc_matcher *m = smc_matcher_new(w->g);
    uint32_t *mask = calloc(w->words, sizeof *mask);
    char text[2048];
    size_t len = 0;
    int32_t *allowed = malloc(sizeof *allowed * (size_t)w->n);
    for (int s = 0; s < steps && m && mask && allowed; s++) {
        smc_error err = {{0}};
        int rc = smc_matcher_token_mask(m, w->ix, mask, &err);
        CHECK_MSG(rc == 0, "mask failed: %s", err.msg);
        if (rc)
            break;
        w->steps++;
        int n_allowed = 0;
        for (int32_t id = 0; id < w->n; id++) {
            bool ref;
            smc_str b = smc_vocab_token_bytes(w->voc, id);
            if (id == w->eos)
                ref = smc_matcher_is_accepting(m);
            else if (b.len == 0)
                ref = false;
            else {
                smc_matcher *c = smc_matcher_clone(m);
                ref = smc_matcher_advance_bytes(c, b.ptr, b.len) == 0;
                smc_matcher_free(c);
            }
            if (test_mask_bit(mask, id) != ref && w->mismatches++ < 5)
                fprintf(stderr, "after \"%.*s\": token %d \"%.*s\": mask %d, advance %d\n", (int)len, text, (int)id,
                        (int)b.len, b.ptr, test_mask_bit(mask, id), ref);
            /* an independent recognizer (byte-level, ASCII classes) on a
             * sample of the ASCII tokens: 1 in ref_every of the allowed ones,
             * 1 in 4001 of the others */
            if (id != w->eos && b.len && len + b.len < sizeof text && ascii(b) &&
                (test_mask_bit(mask, id) ? (id + s) % ref_every == 0 : (id + s) % 4001 == 0)) {
                char buf[2048];
                memcpy(buf, text, len);
                memcpy(buf + len, b.ptr, b.len);
                bool viable = ge_match(&w->ref, "root", buf, len + b.len) > 0;
                w->ref_checked++;
                if (viable != test_mask_bit(mask, id) && w->mismatches++ < 5)
                    fprintf(stderr, "after \"%.*s\": token %d \"%.*s\": mask %d, independent recognizer %d\n",
                            (int)len, text, (int)id, (int)b.len, b.ptr, test_mask_bit(mask, id), viable);
            }
            if (test_mask_bit(mask, id) && id != w->eos)
                allowed[n_allowed++] = id;
        }
        if (n_allowed == 0)
            break;
        /* two draws, keep the longer token */
        int32_t a = allowed[next_u64() % (uint64_t)n_allowed], b2 = allowed[next_u64() % (uint64_t)n_allowed];
        int32_t pick = smc_vocab_token_bytes(w->voc, b2).len > smc_vocab_token_bytes(w->voc, a).len ? b2 : a;
        smc_str pb = smc_vocab_token_bytes(w->voc, pick);
        if (len + pb.len >= sizeof text)
            break;
        CHECK_EQ_INT(smc_matcher_advance_token(m, w->ix, pick), 0);
        memcpy(text + len, pb.ptr, pb.len);
        len += pb.len;
    }
    free(allowed);
    free(mask);
    smc_matcher_free(m);
}

/* The first `limit` gold queries of dev.json on db (names spelled as the
 * schema spells them): every token allowed by the mask where it comes,
 * and the query complete at the end. Returns how many were checked. */
static int gold_queries(walk_ctx *w, smc_sql_db *db, const char *dbid, int limit)
{
    char *text = test_read_file(test_shared_path("data/spider/dev.json"), NULL);
    cJSON *arr = text ? cJSON_Parse(text) : NULL;
    free(text);
    uint32_t *mask = calloc(w->words, sizeof *mask);
    int checked = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(item, "db_id"));
        const char *q = cJSON_GetStringValue(cJSON_GetObjectItem(item, "query"));
        if (!id || !q || strcmp(id, dbid) != 0 || checked == limit)
            continue;
        char rq[2048];
        recase_names(db, q, rq, sizeof rq);
        if (ge_match(&w->ref, "root", rq, strlen(rq)) != 2)
            continue;   /* outside the grammar (a few gold queries are) */
        int32_t *ids = NULL;
        size_t n = 0;
        smc_error err = {{0}};
        CHECK_EQ_INT(smc_tokenize(w->voc, rq, strlen(rq), false, false, &ids, &n, &err), 0);
        smc_matcher *m = smc_matcher_new(w->g);
        bool ok = m != NULL;
        for (size_t k = 0; k < n && ok; k++) {
            ok = smc_matcher_token_mask(m, w->ix, mask, &err) == 0 && test_mask_bit(mask, ids[k]) &&
                 smc_matcher_advance_token(m, w->ix, ids[k]) == 0;
            if (!ok)
                fprintf(stderr, "%s: gold query [%s]: token %zu (%d) not allowed\n", dbid, rq, k, (int)ids[k]);
        }
        CHECK_MSG(ok && smc_matcher_is_accepting(m), "%s: gold query [%s]", dbid, rq);
        smc_matcher_free(m);
        free(ids);
        checked++;
    }
    free(mask);
    cJSON_Delete(arr);
    return checked;
}

static void check_db(const char *dbid, const smc_token_index *ix, const smc_vocab *voc, int particles, int steps)
{
    char rel[256];
    snprintf(rel, sizeof rel, "data/spider/database/%s/%s.sqlite", dbid, dbid);
    smc_sql_db *db = NULL;
    smc_error err = {{0}};
    if (smc_sql_open(test_shared_path(rel), &db, &err) != 0) {
        CHECK_MSG(0, "%s: %s", dbid, err.msg);
        return;
    }
    char *gbnf = smc_sql_gbnf(db);
    walk_ctx w = {.ix = ix, .voc = voc, .n = smc_token_index_n_tokens(ix), .eos = smc_token_index_eos(ix),
                  .words = smc_token_mask_words(ix)};
    smc_grammar *g = NULL;
    CHECK(gbnf != NULL);
    if (gbnf && smc_grammar_from_gbnf(gbnf, strlen(gbnf), NULL, &g, &err) == 0 && ge_read(&w.ref, gbnf) == 0) {
        w.g = g;
        for (int p = 0; p < particles; p++)
            particle(&w, steps, 499);
        int gold = gold_queries(&w, db, dbid, particles);
        fprintf(stderr, "%s: %d gold queries allowed token by token\n", dbid, gold);
        CHECK(gold > 0);
        ge_free(&w.ref);
    } else {
        CHECK_MSG(0, "%s: the SQL grammar does not compile: %s", dbid, err.msg);
    }
    fprintf(stderr, "%s: %d masks checked (%d tokens against the independent recognizer), %d mismatches\n", dbid,
            w.steps, w.ref_checked, w.mismatches);
    CHECK_MSG(w.mismatches == 0, "%s: %d mask mismatches", dbid, w.mismatches);
    CHECK_MSG(w.steps >= particles * 4, "%s: only %d masks", dbid, w.steps);
    smc_grammar_free(g);
    free(gbnf);
    smc_sql_close(db);
}

void run_tests(void)
{
    REQUIRE_SHARED();
    smc_gguf *gg = NULL;
    smc_vocab *voc = NULL;
    smc_token_index *ix = NULL;
    smc_error err = {{0}};
    if (smc_gguf_open(test_shared_path("models/small-q8_0.gguf"), &gg, &err) != 0 ||
        smc_vocab_load(gg, &voc, &err) != 0 || smc_token_index_from_vocab(voc, &ix, &err) != 0) {
        CHECK_MSG(0, "the small model's vocabulary: %s", err.msg);
    } else {
        bool san = getenv("SMC_TEST_SANITIZED") != NULL;
        check_db("poker_player", ix, voc, san ? 3 : 8, san ? 8 : 20);
        check_db("world_1", ix, voc, san ? 2 : 6, san ? 8 : 20);
    }
    smc_token_index_free(ix);
    smc_vocab_free(voc);
    smc_gguf_close(gg);
}
