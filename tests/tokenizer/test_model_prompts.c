/* test_model_prompts.c — the project's models tokenize their prompts to the
 * reference ids (BOS first): small-f32.gguf (byte-level BPE, 8192 tokens)
 * against ../shared/models/ref/small-<prompt>.json, and stories260K.gguf
 * (SentencePiece, 512 tokens) against ref/stories260K-llamacpp.json. */
#include <cjson/cJSON.h>
#include <string.h>

#include "test.h"
#include "tok_test_util.h"

/* Tokenizes text with BOS and compares to the JSON's "ids"; also checks that
 * detokenizing (minus BOS, minus the SPM space) gives the text back. */
static void check_prompt(smc_vocab *v, const char *label, const char *text, const cJSON *ids)
{
    CHECK_MSG(cJSON_IsArray(ids), "%s: no ids array", label);
    if (!cJSON_IsArray(ids))
        return;
    smc_error err = {{0}};
    int32_t *got = NULL;
    size_t n = 0;
    int rc = smc_tokenize(v, text, strlen(text), true, false, &got, &n, &err);
    CHECK_MSG(rc == 0, "%s: %s", label, err.msg);
    size_t n_want = (size_t)cJSON_GetArraySize(ids);
    CHECK_MSG(n == n_want, "%s: %zu ids, want %zu", label, n, n_want);
    size_t bad = 0;
    for (size_t i = 0; i < n && i < n_want; i++) {
        int want = cJSON_GetArrayItem(ids, (int)i)->valueint;
        if (got[i] != want && bad++ < 5)
            fprintf(stderr, "%s: id %zu is %d, want %d\n", label, i, got[i], want);
    }
    CHECK_MSG(bad == 0, "%s: %zu ids differ", label, bad);

    CHECK(n > 0 && got[0] == smc_vocab_bos(v));
    char *back = NULL;
    size_t len = 0;
    if (n > 0 && smc_detokenize(v, got + 1, n - 1, false, &back, &len, &err) == 0) {
        size_t skip = smc_vocab_add_space_prefix(v) ? 1 : 0;
        CHECK_MSG(len >= skip && !strcmp(back + skip, text), "%s: detokenized to \"%s\"", label,
                  back);
    } else {
        CHECK_MSG(0, "%s: detokenize failed: %s", label, err.msg);
    }
    free(back);
    free(got);
}

static cJSON *load_json(const char *rel)
{
    char *s = test_read_file(test_shared_path(rel), NULL);
    CHECK_MSG(s != NULL, "cannot read %s", rel);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    CHECK_MSG(!s || j, "%s is not JSON", rel);
    free(s);
    return j;
}

static void test_small_model(void)
{
    smc_vocab *v = load_vocab(test_shared_path("models/small-f32.gguf"));
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_STR(smc_vocab_model(v), "gpt2");
    CHECK_STR(smc_vocab_pre(v), "gpt-2");
    CHECK_EQ_INT(smc_vocab_n_tokens(v), 8192);
    CHECK_EQ_INT(smc_vocab_bos(v), 8191);
    CHECK_EQ_INT(smc_vocab_eos(v), 8191);
    CHECK(smc_vocab_add_bos(v));
    CHECK(smc_vocab_is_eog(v, 8191));
    const char *prompts[] = {"python", "smiles", "pddl", "sql"};
    for (size_t i = 0; i < 4; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "models/ref/small-%s.json", prompts[i]);
        cJSON *j = load_json(rel);
        if (!j)
            continue;
        const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(j, "prompt");
        CHECK_MSG(cJSON_IsString(prompt), "%s: no prompt", rel);
        /* The reference's prompt is the prompt file's text. */
        snprintf(rel, sizeof rel, "models/prompts/%s.txt", prompts[i]);
        char *file_text = test_read_file(test_shared_path(rel), NULL);
        CHECK_MSG(file_text && cJSON_IsString(prompt) && !strcmp(file_text, prompt->valuestring),
                  "%s differs from the reference prompt", rel);
        free(file_text);
        if (cJSON_IsString(prompt))
            check_prompt(v, prompts[i], prompt->valuestring,
                         cJSON_GetObjectItemCaseSensitive(j, "ids"));
        cJSON_Delete(j);
    }
    smc_vocab_free(v);
}

static void test_stories(void)
{
    smc_vocab *v = load_vocab(test_shared_path("models/stories260K.gguf"));
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_STR(smc_vocab_model(v), "llama");
    CHECK_EQ_INT(smc_vocab_n_tokens(v), 512);
    CHECK_EQ_INT(smc_vocab_bos(v), 1);
    CHECK(smc_vocab_add_space_prefix(v));
    cJSON *j = load_json("models/ref/stories260K-llamacpp.json");
    char *text = test_read_file(test_shared_path("models/prompts/story.txt"), NULL);
    CHECK(text != NULL);
    if (j && text)
        check_prompt(v, "story", text, cJSON_GetObjectItemCaseSensitive(j, "ids"));
    free(text);
    cJSON_Delete(j);
    smc_vocab_free(v);
}

void run_tests(void)
{
    REQUIRE_SHARED();
    test_small_model();
    test_stories();
}
