/* test_run_chat.c — chat requests through the run options (the path of the
 * CLI, the server and Python): messages as a JSON array, chat + system,
 * the template by name, and the combinations that are refused. */
#include "test.h"

#include "smcgen.h"

static char *prompt_of(const char *json, smc_error *err)
{
    smc_run_opts o;
    smc_run_opts_init(&o);
    char *out = NULL;
    if (smc_run_opts_set_json(&o, json, strlen(json), true, err) == 0 &&
        smc_run_opts_check(&o, SMC_OPT_JSON, err) == 0)
        smc_run_opts_chat_prompt(&o, NULL, &out, err);
    smc_run_opts_free(&o);
    return out;
}

void run_tests(void)
{
    smc_error err = {{0}};
    char *p = prompt_of("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", "
                        "\"content\": \"Yo\"}, {\"role\": \"user\", \"content\": \"2+2?\"}], "
                        "\"system\": \"Be brief.\", \"chat_template\": \"llama3\"}",
                        &err);
    CHECK_MSG(p != NULL, "%s", err.msg);
    CHECK_STR(p, "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\nYo<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n");
    free(p);
    p = prompt_of("{\"chat\": \"Hi\", \"chat_template\": \"gemma\", \"system\": \"S\"}", &err);
    CHECK_STR(p, "<start_of_turn>user\nS\n\nHi<end_of_turn>\n<start_of_turn>model\n");
    free(p);

    /* No chat: no prompt, no error. */
    smc_run_opts o;
    smc_run_opts_init(&o);
    p = (char *)"x";
    CHECK_EQ_INT(smc_run_opts_chat_prompt(&o, NULL, &p, &err), 0);
    CHECK(p == NULL);
    /* The options round-trip through JSON with the chat fields. */
    CHECK_EQ_INT(smc_run_opts_set(&o, "--chat", "a\\tb", &err), 0);   /* escapes decoded on the CLI */
    CHECK_STR(o.chat, "a\tb");
    char *json = smc_run_opts_to_json(&o);
    CHECK_MSG(json && strstr(json, "\"chat\":\"a\\tb\"") && strstr(json, "\"chat_template\":null"), "%s",
              json ? json : "(null)");
    free(json);
    smc_run_opts_free(&o);

    static const struct {
        const char *json, *fragment;
    } bad[] = {
        {"{\"prompt\": \"x\", \"chat\": \"y\"}", "not both"},
        {"{\"chat\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"y\"}]}", "either chat or messages"},
        {"{\"system\": \"x\"}", "system needs a chat"},
        {"{\"prompt\": \"x\", \"chat_template\": \"chatml\"}", "chat_template needs a chat"},
        {"{\"messages\": [{\"role\": \"user\"}], \"chat_template\": \"chatml\"}", "message 1 needs"},
        {"{\"messages\": \"[]\", \"chat_template\": \"chatml\"}", "empty"},
        {"{\"chat\": \"x\", \"chat_template\": \"nope\"}", "unknown chat template 'nope'"},
        {"{\"chat\": \"x\"}", "no chat template"},   /* no model, no template */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        p = prompt_of(bad[i].json, &err);
        CHECK(p == NULL);
        CHECK_MSG(strstr(err.msg, bad[i].fragment) != NULL, "%s: '%s' lacks '%s'", bad[i].json, err.msg,
                  bad[i].fragment);
        free(p);
    }
}
