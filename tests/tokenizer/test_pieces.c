/* test_pieces.c — unit tests of the tokenizer's parts: each pre-tokenizer's
 * splits (expected pieces worked out by hand from the regexes), special-token
 * parsing on and off, BOS/EOS, and errors for unusable vocabularies and ids. */
#include <string.h>

#include "test.h"
#include "tok_test_util.h"
#include "tokenizer/pretokenize.h"

/* Splits text with pre-tokenizer `name` and compares with the NULL-terminated
 * list of expected pieces. */
static void check_split(const char *name, const char *text, const char *const *want)
{
    smc_error err = {{0}};
    smc_pretok *p = NULL;
    CHECK_MSG(pretok_create(name, &p, &err) == 0, "%s: %s", name, err.msg);
    if (!p)
        return;
    piece_vec pieces = {0};
    CHECK(pretok_split(p, text, strlen(text), &pieces, &err) == 0);
    size_t n_want = 0;
    while (want[n_want])
        n_want++;
    bool same = pieces.n == n_want;
    for (size_t i = 0; same && i < n_want; i++)
        same = pieces.p[i].len == strlen(want[i]) &&
               !memcmp(text + pieces.p[i].off, want[i], pieces.p[i].len);
    if (!same) {
        fprintf(stderr, "%s split of \"%s\":", name, text);
        for (size_t i = 0; i < pieces.n; i++)
            fprintf(stderr, " [%.*s]", (int)pieces.p[i].len, text + pieces.p[i].off);
        fputc('\n', stderr);
    }
    CHECK_MSG(same, "pre-tokenizer %s", name);
    /* The pieces always tile the text. */
    size_t pos = 0;
    for (size_t i = 0; i < pieces.n; i++) {
        CHECK(pieces.p[i].off == pos && pieces.p[i].len > 0);
        pos += pieces.p[i].len;
    }
    CHECK_EQ_INT(pos, strlen(text));
    free(pieces.p);
    pretok_free(p);
}

static void test_pretokenizers(void)
{
    check_split("gpt-2", "Hello world's  123 abc!!\n\n  x",
                (const char *[]){"Hello", " world", "'s", " ", " 123", " abc", "!!", "\n\n ", " x",
                                 NULL});
    /* Contractions are case-sensitive in gpt-2. */
    check_split("gpt-2", "IT'S", (const char *[]){"IT", "'", "S", NULL});
    check_split("gpt-2", "ab\xff" "cd", (const char *[]){"ab", "\xff", "cd", NULL});
    check_split("llama-bpe", "Hello WORLD'S 1234567 x\r\n\r\n  y",
                (const char *[]){"Hello", " WORLD", "'S", " ", "123", "456", "7", " x",
                                 "\r\n\r\n", " ", " y", NULL});
    check_split("llama3", "(x)", (const char *[]){"(x", ")", NULL});
    check_split("qwen2", "Hello 1234 x",
                (const char *[]){"Hello", " ", "1", "2", "3", "4", " x", NULL});
    check_split("starcoder", "a 12 xy", (const char *[]){"a", " ", "1", "2", " xy", NULL});
    check_split("smollm", "abc123 x", (const char *[]){"abc", "1", "2", "3", " x", NULL});
    check_split("deepseek-coder", "Hello, \xE4\xB8\x96\xE7\x95\x8C 42\nok",
                (const char *[]){"Hello", ",", " ", "\xE4\xB8\x96\xE7\x95\x8C", " ", "4", "2", "\n",
                                 "ok", NULL});
    check_split("default", "a+=12345 b", (const char *[]){"a", "+=", "123", "45", " b", NULL});
    /* Unicode classes: Cyrillic letters and a non-ASCII digit. */
    check_split("gpt-2", "\xD0\x9F\xD1\x80\xD0\xB8 \xD9\xA3\xD9\xA4",
                (const char *[]){"\xD0\x9F\xD1\x80\xD0\xB8", " \xD9\xA3\xD9\xA4", NULL});

    /* Every known pre-tokenizer compiles and tiles a mixed text. */
    const char *names[128];
    size_t n_names = pretok_names(names, 128);
    CHECK(n_names >= 20 && n_names <= 128);
    const char *mixed = "Hello WORLD's 12345 \xE4\xB8\x96 \xD0\x9F\xD1\x80\xD0\xB8!? x\r\n\t y\xFF";
    for (size_t i = 0; i < n_names && i < 128; i++) {
        smc_error e = {{0}};
        smc_pretok *q = NULL;
        CHECK_MSG(pretok_create(names[i], &q, &e) == 0, "%s: %s", names[i], e.msg);
        piece_vec pv = {0};
        CHECK(q && pretok_split(q, mixed, strlen(mixed), &pv, &e) == 0);
        size_t pos = 0;
        for (size_t k = 0; k < pv.n; k++)
            pos = pv.p[k].off == pos ? pos + pv.p[k].len : (size_t)-1;
        CHECK_MSG(pos == strlen(mixed), "%s does not tile the text", names[i]);
        free(pv.p);
        pretok_free(q);
    }
    /* tekken and gpt-4o split words at case changes. */
    check_split("tekken", "HelloWorld ABCdef", (const char *[]){"Hello", "World", " ABCdef", NULL});
    check_split("falcon", "a+=1234", (const char *[]){"a", "+=", "123", "4", NULL});

    /* The pre-tokenizers that had no test vectors: pieces worked out by hand
     * from llama.cpp's regex lists (llama-vocab.cpp). gpt-4o / llama4: case
     * splits, contractions glued to the word, digits in threes from the left. */
    static const char *const gpt4o[] = {"Hello", "World", " ", "123", "456", "7", " I'm", NULL};
    check_split("gpt-4o", "HelloWorld 1234567 I'm", gpt4o);
    check_split("llama4", "HelloWorld 1234567 I'm", gpt4o);
    check_split("gpt-4o", "a/b c", (const char *[]){"a", "/b", " c", NULL});
    check_split("gpt-4o", "x;/\n\ny", (const char *[]){"x", ";/\n\n", "y", NULL});
    /* seed-coder: single digits, and punctuation does not take the newlines. */
    check_split("seed-coder", "x=12;\n\n y", (const char *[]){"x", "=", "1", "2", ";", "\n\n", " y", NULL});
    /* dbrx is llama3's: digits in threes, punctuation takes newlines,
     * contractions in any case. */
    check_split("dbrx", "x 1234567 I'M!!\n\nok",
                (const char *[]){"x", " ", "123", "456", "7", " I", "'M", "!!\n\n", "ok", NULL});
    /* deepseek-v3: digits in threes first, then punctuation glued to the
     * ASCII word after it. */
    check_split("deepseek-v3", "abc 12345 a.Net",
                (const char *[]){"abc", " ", "123", "45", " a", ".Net", NULL});
    /* poro / viking: runs of anything but whitespace and . , ! ? ( | ) ...;
     * viking then splits digits apart. */
    check_split("poro-chat", "Hei, maailma 2024!",
                (const char *[]){"Hei", ",", " maailma", " 2024", "!", NULL});
    check_split("poro-chat", "(a|b)", (const char *[]){"(", "a", "|", "b", ")", NULL});
    check_split("viking", "Hei, maailma 2024!",
                (const char *[]){"Hei", ",", " maailma", " ", "2", "0", "2", "4", "!", NULL});

    smc_error err = {{0}};
    smc_pretok *p = NULL;
    CHECK(pretok_create("no-such-pre", &p, &err) < 0 && p == NULL);
    CHECK(strstr(err.msg, "no-such-pre") != NULL);
}

static int32_t *tok(smc_vocab *v, const char *text, bool add_special, bool parse_special,
                    size_t *n)
{
    smc_error err = {{0}};
    int32_t *ids = NULL;
    if (smc_tokenize(v, text, strlen(text), add_special, parse_special, &ids, n, &err) != 0) {
        fprintf(stderr, "tokenize \"%s\": %s\n", text, err.msg);
        *n = 0;
    }
    return ids;
}

static bool contains(const int32_t *ids, size_t n, int32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void test_special_bpe(void)
{
    smc_vocab *v = load_vocab(test_shared_path("models/small-f32.gguf"));
    CHECK(v != NULL);
    if (!v)
        return;
    size_t n1, n2, n3;
    int32_t *a = tok(v, "x = 1<|endoftext|>y", false, true, &n1);
    int32_t *b = tok(v, "x = 1<|endoftext|>y", false, false, &n2);
    int32_t *c = tok(v, "x = 1", false, false, &n3);
    CHECK(a && contains(a, n1, 8191));
    CHECK(b && !contains(b, n2, 8191));
    /* Parsed: the text before the special token tokenizes on its own. */
    CHECK(a && c && n1 == n3 + 2 && !memcmp(a, c, n3 * sizeof *a) && a[n3] == 8191);
    free(a);
    free(b);
    free(c);
    /* BOS only when asked; empty text gives just BOS. */
    a = tok(v, "", true, false, &n1);
    CHECK(a && n1 == 1 && a[0] == 8191);
    free(a);
    a = tok(v, "", false, false, &n1);
    CHECK(a && n1 == 0);
    free(a);
    /* Control tokens have no bytes; rendering them gives their text. */
    CHECK_EQ_INT(smc_vocab_token_bytes(v, 8191).len, 0);
    CHECK_EQ_INT(smc_vocab_token_attr(v, 8191), SMC_TOKEN_CONTROL);
    int32_t ids[3] = {8191, 8191, 8191};
    smc_error err = {{0}};
    char *text = NULL;
    size_t len = 0;
    CHECK(smc_detokenize(v, ids, 2, true, &text, &len, &err) == 0);
    CHECK_STR(text, "<|endoftext|><|endoftext|>");
    free(text);
    CHECK(smc_detokenize(v, ids, 3, false, &text, &len, &err) == 0 && len == 0 && text &&
          text[0] == '\0');
    free(text);
    /* Out-of-range ids are errors, not crashes. */
    int32_t bad[2] = {5, 8192};
    text = NULL;
    CHECK(smc_detokenize(v, bad, 2, false, &text, &len, &err) < 0 && text == NULL);
    CHECK(strstr(err.msg, "8192") != NULL);
    bad[1] = -3;
    CHECK(smc_detokenize(v, bad, 2, false, &text, &len, &err) < 0);
    CHECK_EQ_INT(smc_vocab_token_bytes(v, -1).len, 0);
    CHECK_EQ_INT(smc_vocab_token_bytes(v, 9999).len, 0);
    smc_vocab_free(v);
}

static void test_special_spm(void)
{
    smc_vocab *v = load_vocab(test_shared_path("vocab/ggml-vocab-llama-spm.gguf"));
    CHECK(v != NULL);
    if (!v)
        return;
    /* The example in docs/gguf-and-inference.md §4.1. */
    size_t n;
    int32_t *ids = tok(v, "Once upon a time", true, false, &n);
    int32_t want[] = {1, 9038, 2501, 263, 931};
    CHECK(ids && n == 5 && !memcmp(ids, want, sizeof want));
    free(ids);
    /* A parsed "<s>" is BOS, and the text after it gets the leading space. */
    size_t n2;
    int32_t *a = tok(v, "<s>Once upon a time", false, true, &n2);
    CHECK(a && n2 == 5 && !memcmp(a, want, sizeof want));
    free(a);
    a = tok(v, "Once<s>", false, false, &n2);
    CHECK(a && !contains(a, n2, 1));
    free(a);
    /* Byte fallback: an emoji is four <0xNN> tokens. */
    a = tok(v, "\xF0\x9F\xA6\x99", false, false, &n2);
    CHECK(a && n2 == 5); /* "▁" then 4 bytes */
    for (size_t i = 1; a && i < n2; i++)
        CHECK_EQ_INT(smc_vocab_token_attr(v, a[i]), SMC_TOKEN_BYTE);
    free(a);
    CHECK_EQ_INT(smc_vocab_token_bytes(v, 3 + 0x41).len, 1); /* <0x41> */
    CHECK_EQ_INT(smc_vocab_token_bytes(v, 3 + 0x41).ptr[0], 'A');
    smc_vocab_free(v);
}

static void test_unusable_vocab(void)
{
    smc_error err = {{0}};
    smc_gguf *g = NULL;
    smc_vocab *v = NULL;
    if (smc_gguf_open(test_shared_path("models/arch/llama-dense.gguf"), &g, &err) == 0) {
        CHECK(smc_vocab_load(g, &v, &err) < 0 && v == NULL);
        CHECK_MSG(strstr(err.msg, "no_vocab") != NULL, "%s", err.msg);
        smc_gguf_close(g);
    }
    if (smc_gguf_open(test_shared_path("vocab/ggml-vocab-bert-bge.gguf"), &g, &err) == 0) {
        CHECK(smc_vocab_load(g, &v, &err) < 0 && v == NULL);
        CHECK_MSG(strstr(err.msg, "bert") != NULL, "%s", err.msg);
        smc_gguf_close(g);
    }
}

void run_tests(void)
{
    test_pretokenizers();
    REQUIRE_SHARED();
    test_special_bpe();
    test_special_spm();
    test_unusable_vocab();
}
