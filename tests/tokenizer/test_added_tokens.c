/* test_added_tokens.c — added and special tokens in text, for every
 * vocabulary of ../shared/vocab (and the bundled-style models): each
 * USER_DEFINED token's text is matched as that token inside ordinary text
 * without --parse-special (as llama.cpp and HF tokenizers do) and round-trips
 * byte for byte; each CONTROL token's text is that one token only with
 * parse_special, ordinary text otherwise; ordinary text round-trips. An
 * in-memory vocabulary checks longest-first matching of nested texts. */
#include <string.h>

#include "mem_vocab.h"
#include "test.h"
#include "tok_test_util.h"

static int32_t *tok(const smc_vocab *v, const char *s, size_t n, bool parse, size_t *n_ids)
{
    smc_error err = {{0}};
    int32_t *ids = NULL;
    if (smc_tokenize(v, s, n, false, parse, &ids, n_ids, &err) != 0) {
        CHECK_MSG(0, "tokenize: %s", err.msg);
        *n_ids = 0;
    }
    return ids;
}

/* detokenize(tokenize(s)) == s (SPM: " " + s). */
static bool round_trips(const smc_vocab *v, const char *s, size_t n, bool parse)
{
    size_t k = 0, len = 0;
    int32_t *ids = tok(v, s, n, parse, &k);
    char *back = NULL;
    smc_error err = {{0}};
    bool ok = ids && smc_detokenize(v, ids, k, parse, &back, &len, &err) == 0;
    size_t skip = smc_vocab_add_space_prefix(v) && n > 0 ? 1 : 0;
    ok = ok && len == n + skip && (!skip || back[0] == ' ') && !memcmp(back + skip, s, n);
    free(ids);
    free(back);
    return ok;
}

static bool has_text(const smc_vocab *v, const int32_t *ids, size_t k, smc_str t, int attr)
{
    for (size_t i = 0; i < k; i++) {
        smc_str x = smc_vocab_token_text(v, ids[i]);
        if (smc_vocab_token_attr(v, ids[i]) == attr && x.len == t.len && !memcmp(x.ptr, t.ptr, t.len))
            return true;
    }
    return false;
}

static void check_vocab(const char *rel)
{
    smc_vocab *v = load_vocab(test_shared_path(rel));
    CHECK_MSG(v != NULL, "cannot load %s", rel);
    if (!v)
        return;
    int n_user = 0, n_ctrl = 0, user_bad = 0, user_rt = 0, ctrl_bad = 0;
    char buf[512];
    for (int32_t id = 0; id < smc_vocab_n_tokens(v); id++) {
        int a = smc_vocab_token_attr(v, id);
        smc_str t = smc_vocab_token_text(v, id);
        if (t.len == 0 || t.len > 400 || (a != SMC_TOKEN_USER_DEFINED && a != SMC_TOKEN_CONTROL))
            continue;
        size_t k = 0;
        if (a == SMC_TOKEN_USER_DEFINED) {
            n_user++;
            int n = snprintf(buf, sizeof buf, "x = %.*s(1)\n", (int)t.len, t.ptr);
            int32_t *ids = tok(v, buf, (size_t)n, false, &k);
            if (!has_text(v, ids, k, t, SMC_TOKEN_USER_DEFINED)) {
                if (user_bad++ < 3)
                    fprintf(stderr, "  %s: added token %d \"%.*s\" not matched in text\n", rel, id, (int)t.len,
                            t.ptr);
            }
            /* Back to the text; SPM puts its space before each raw piece
             * after a token, as llama.cpp does. */
            char *back = NULL, want[520];
            size_t len = 0;
            bool spm = smc_vocab_add_space_prefix(v);
            int wn = snprintf(want, sizeof want, "%sx = %.*s%s(1)\n", spm ? " " : "", (int)t.len, t.ptr,
                              spm ? " " : "");
            smc_error err = {{0}};
            bool ok = ids && smc_detokenize(v, ids, k, false, &back, &len, &err) == 0 && len == (size_t)wn &&
                      !memcmp(back, want, len);
            user_rt += !ok;
            free(back);
            free(ids);
        } else if (n_ctrl++ < 400) {
            /* Alone: one token with parse_special, ordinary pieces without. */
            int32_t *ids = tok(v, t.ptr, t.len, true, &k);
            bool one = k == 1 && has_text(v, ids, k, t, SMC_TOKEN_CONTROL);
            free(ids);
            ids = tok(v, t.ptr, t.len, false, &k);
            bool plain = !has_text(v, ids, k, t, SMC_TOKEN_CONTROL);
            free(ids);
            if (!one || !plain) {
                if (ctrl_bad++ < 3)
                    fprintf(stderr, "  %s: control token %d \"%.*s\": alone %s, unparsed %s\n", rel, id,
                            (int)t.len, t.ptr, one ? "ok" : "WRONG", plain ? "ok" : "WRONG");
            }
        }
    }
    static const char *const texts[] = {
        "Hello world", "  leading spaces\tand\ttabs\n\nnew lines", "caf\xC3\xA9 \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\xA6\x99",
        "def f(x):\n    return x**2  # 3.14159", "",
    };
    int plain_rt = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        plain_rt += !round_trips(v, texts[i], strlen(texts[i]), false);
    fprintf(stderr, "  %-40s %5d added tokens (%d unmatched, %d not round-tripping), %4d control (%d wrong), "
            "ordinary text %d not round-tripping\n", rel, n_user, user_bad, user_rt, n_ctrl, ctrl_bad, plain_rt);
    CHECK_EQ_INT(user_bad, 0);
    CHECK_EQ_INT(user_rt, 0);
    CHECK_EQ_INT(ctrl_bad, 0);
    CHECK_EQ_INT(plain_rt, 0);
    smc_vocab_free(v);
}

/* Nested texts: the longest wins wherever it occurs; user-defined ones
 * always, control ones with parse_special. */
static void check_nested(void)
{
    static const char *const texts[] = {"<unk>", "<s>", "</s>", "<|im|>", "<|im|>_start", "[INST]",
                                        "[INST][INST]", "\xE2\x96\x81", "x", "y", "_", "s", "t", "a", "r"};
    static const int types[] = {SMC_TOKEN_UNKNOWN, SMC_TOKEN_CONTROL, SMC_TOKEN_CONTROL,
                                SMC_TOKEN_USER_DEFINED, SMC_TOKEN_USER_DEFINED, SMC_TOKEN_CONTROL,
                                SMC_TOKEN_CONTROL, 1, 1, 1, 1, 1, 1, 1, 1};
    smc_vocab *v = mem_spm_vocab(15, texts, types, -1, -1);
    CHECK(v != NULL);
    if (!v)
        return;
    size_t k = 0;
    int32_t *ids = tok(v, "x<|im|>_starty<|im|>", 20, false, &k);
    /* SPM: " x" -> ▁ x, the longer added token, " y" (a space after each
     * token, as llama.cpp), then the shorter one. */
    static const int32_t want1[] = {7, 8, 4, 7, 9, 3};
    CHECK_MSG(k == 6 && !memcmp(ids, want1, sizeof want1), "nested added tokens: %zu ids", k);
    free(ids);
    ids = tok(v, "[INST][INST][INST]x", 19, true, &k);
    static const int32_t want2[] = {6, 5, 7, 8};
    CHECK_MSG(k == 4 && !memcmp(ids, want2, sizeof want2), "nested control tokens: %zu ids", k);
    free(ids);
    ids = tok(v, "[INST]", 6, false, &k);
    CHECK(k > 1);
    for (size_t i = 0; i < k; i++)
        CHECK(ids[i] != 5 && ids[i] != 6);
    free(ids);
    smc_vocab_free(v);
}

void run_tests(void)
{
    check_nested();
    REQUIRE_SHARED();
    static const char *const vocabs[] = {
        "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-phi-3.gguf", "vocab/ggml-vocab-gpt-2.gguf",
        "vocab/ggml-vocab-starcoder.gguf", "vocab/ggml-vocab-deepseek-coder.gguf", "models/small-f32.gguf",
        "models/stories260K.gguf",
    };
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++)
        check_vocab(vocabs[i]);
    /* WordPiece (bert-bge) is not supported: a clear error, no crash. */
    smc_gguf *g = NULL;
    smc_vocab *v = NULL;
    smc_error err = {{0}};
    CHECK_EQ_INT(smc_gguf_open(test_shared_path("vocab/ggml-vocab-bert-bge.gguf"), &g, &err), 0);
    CHECK_EQ_INT(smc_vocab_load(g, &v, &err), -1);
    CHECK(strstr(err.msg, "bert") != NULL);
    smc_gguf_close(g);
}
