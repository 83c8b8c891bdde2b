/* test_chat_template.c — chat templates against llama.cpp: for each case in
 * tests/chat/chat_templates.json (copied from llama.cpp's
 * tests/test-chat-template.cpp) the template text is recognised as the same
 * built-in template llama.cpp picks, and renders the same conversation to
 * exactly llama.cpp's expected string, both from the text and from the
 * name. Also: unknown templates and bad messages give errors, messages
 * from JSON, and the template of a real GGUF file (phi-3's vocabulary). */
#include "test.h"

#include <cjson/cJSON.h>

#include "smcgen.h"

static smc_chat_message conv[16];
static size_t n_conv;

static void check_case(const cJSON *c)
{
    const cJSON *src = cJSON_GetObjectItem(c, "source");
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
    const char *tmpl = cJSON_GetStringValue(cJSON_GetObjectItem(c, "template"));
    const char *detects = cJSON_GetStringValue(cJSON_GetObjectItem(c, "detects"));
    const char *expected = cJSON_GetStringValue(cJSON_GetObjectItem(c, "expected"));
    const char *label = cJSON_GetStringValue(src);
    CHECK_MSG(expected && (name || (tmpl && detects)), "malformed case %s", label ? label : "?");
    if (!expected || !(name || (tmpl && detects)))
        return;
    if (tmpl) {
        const char *got = smc_chat_template_detect(tmpl);
        CHECK_MSG(got && !strcmp(got, detects), "%s: detected %s, llama.cpp: %s", label,
                  got ? got : "(none)", detects);
        name = detects;
    }
    const char *ways[2] = {tmpl, name};
    for (int w = 0; w < 2; w++) {
        if (!ways[w])
            continue;
        smc_error err = {{0}};
        char *out = NULL;
        int rc = smc_chat_apply(ways[w], conv, n_conv, true, &out, &err);
        CHECK_MSG(rc == 0, "%s: %s", label, err.msg);
        CHECK_MSG(out && !strcmp(out, expected), "%s (%s):\n got      [%s]\n expected [%s]", label,
                  w ? "by name" : "by text", out ? out : "(null)", expected);
        free(out);
    }
}

/* add_assistant false leaves out exactly the opening of the assistant turn. */
static void test_without_assistant(void)
{
    smc_error err = {{0}};
    char *with = NULL, *without = NULL;
    CHECK_EQ_INT(smc_chat_apply("chatml", conv, n_conv, true, &with, &err), 0);
    CHECK_EQ_INT(smc_chat_apply("chatml", conv, n_conv, false, &without, &err), 0);
    if (with && without) {
        size_t a = strlen(with), b = strlen(without);
        CHECK(a > b && !strncmp(with, without, b) && !strcmp(with + b, "<|im_start|>assistant\n"));
    }
    free(with);
    free(without);
    char *one = NULL;
    smc_chat_message u = {"user", "Hi"};
    CHECK_EQ_INT(smc_chat_apply("llama3", &u, 1, true, &one, &err), 0);
    CHECK_STR(one, "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                   "<|start_header_id|>assistant<|end_header_id|>\n\n");
    free(one);
}

static void expect_error(const char *tmpl, const smc_chat_message *m, size_t n, const char *fragment)
{
    smc_error err = {{0}};
    char *out = (char *)"untouched";
    CHECK_EQ_INT(smc_chat_apply(tmpl, m, n, true, &out, &err), -1);
    CHECK(out == NULL);
    CHECK_MSG(strstr(err.msg, fragment) != NULL, "'%s' lacks '%s'", err.msg, fragment);
}

static void test_errors(void)
{
    /* llama.cpp's own "INVALID TEMPLATE" case, a Jinja text of no known
     * family, and a misspelt name. */
    expect_error("INVALID TEMPLATE", conv, n_conv, "unknown chat template 'INVALID TEMPLATE'");
    expect_error("{% for m in messages %}{{ m['content'] }}{% endfor %}", conv, n_conv,
                 "not one smcgen recognises");
    expect_error("chatml2", conv, n_conv, "llama3");   /* the message lists the names */
    expect_error(NULL, conv, n_conv, "no chat template given");
    expect_error("chatml", conv, 0, "at least one message");
    smc_chat_message bad[2] = {{"user", "Hi"}, {"assistant", NULL}};
    expect_error("chatml", bad, 2, "message 2 has no content");
    bad[1] = (smc_chat_message){NULL, "x"};
    expect_error("chatml", bad, 2, "message 2 has no role");
    /* SmolVLM's template looks like ChatML but is not; llama.cpp has a
     * separate rule for it, smcgen refuses it rather than render ChatML. */
    CHECK(smc_chat_template_detect("<|im_start|>{{ 'User: ' }}<end_of_utterance>") == NULL);
    CHECK(smc_chat_template_detect("mistral") != NULL);   /* "mistral..." is the [INST] family */
}

static void test_messages_json(void)
{
    smc_error err = {{0}};
    smc_chat_message *m = NULL;
    size_t n = 0;
    CHECK_EQ_INT(smc_chat_messages_parse("{\"model\": \"x\", \"messages\": [{\"role\": \"system\", "
                                         "\"content\": \"Be brief.\"}, {\"role\": \"user\", "
                                         "\"content\": \"caf\\u00e9 \\\"1\\\"\\n\"}]}",
                                         &m, &n, &err),
                 0);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_STR(m[0].role, "system");
        CHECK_STR(m[1].content, "caf\xc3\xa9 \"1\"\n");
    }
    char *out = NULL;
    CHECK_EQ_INT(smc_chat_apply("chatml", m, n, true, &out, &err), 0);
    CHECK_STR(out, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\ncaf\xc3\xa9 \"1\"\n"
                   "<|im_end|>\n<|im_start|>assistant\n");
    free(out);
    smc_chat_messages_free(m, n);

    static const struct {
        const char *json, *fragment;
    } bad[] = {{"[{\"role\": \"user\"", "not valid JSON"},
               {"{\"messages\": 3}", "JSON array"},
               {"[]", "empty"},
               {"[{\"role\": \"user\", \"content\": 7}]", "message 1 needs"},
               {"[{\"role\": \"user\", \"content\": \"a\"}, \"hi\"]", "message 2 needs"},
               {"\"x\"", "JSON array"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = (smc_chat_message *)&err;
        n = 99;
        CHECK_EQ_INT(smc_chat_messages_parse(bad[i].json, &m, &n, &err), -1);
        CHECK(m == NULL && n == 0);
        CHECK_MSG(strstr(err.msg, bad[i].fragment) != NULL, "%s: '%s' lacks '%s'", bad[i].json, err.msg,
                  bad[i].fragment);
    }
}

/* A real file's template: phi-3's vocabulary GGUF carries Phi-3's Jinja
 * template, which llama.cpp recognises as phi3. */
static void test_real_gguf(void)
{
    const char *path = test_shared_path("vocab/ggml-vocab-phi-3.gguf");
    if (!path) {
        fprintf(stderr, "note: ../shared is absent, skipping the GGUF template check\n");
        return;
    }
    smc_error err = {{0}};
    smc_gguf *g = NULL;
    CHECK_MSG(smc_gguf_open(path, &g, &err) == 0, "%s", err.msg);
    if (!g)
        return;
    smc_str t = {0};
    CHECK_EQ_INT(smc_gguf_get_str(g, "tokenizer.chat_template", &t), 0);
    char *text = t.ptr ? strndup(t.ptr, t.len) : NULL;
    const char *name = smc_chat_template_detect(text);
    CHECK_STR(name, "phi3");
    free(text);
    smc_gguf_close(g);
}

void run_tests(void)
{
    char *json = test_read_file("tests/chat/chat_templates.json", NULL);
    CHECK(json != NULL);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    CHECK(root != NULL);
    free(json);
    if (!root)
        return;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(root, "conversation"))
    {
        if (n_conv < 16)
            conv[n_conv++] = (smc_chat_message){cJSON_GetStringValue(cJSON_GetObjectItem(m, "role")),
                                                cJSON_GetStringValue(cJSON_GetObjectItem(m, "content"))};
    }
    CHECK_EQ_INT(n_conv, 6);
    int n_cases = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases"))
    {
        check_case(c);
        n_cases++;
    }
    CHECK(n_cases >= 30);
    /* Every built-in template is exercised by some case. */
    for (const char *const *nm = smc_chat_template_names(); *nm; nm++) {
        bool seen = false;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases"))
        {
            const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(c, "detects"));
            const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
            seen = seen || (d && !strcmp(d, *nm)) || (n && !strcmp(n, *nm));
        }
        CHECK_MSG(seen, "no case renders '%s'", *nm);
    }
    test_without_assistant();
    test_errors();
    test_messages_json();
    test_real_gguf();
    cJSON_Delete(root);
}
