/* chat_messages.c — a conversation from JSON (an array of role/content
 * objects, or OpenAI's {"messages": [...]}), and rendering with the
 * template a model carries in its GGUF file. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "engine/model.h"
#include "util/error.h"

void smc_chat_messages_free(smc_chat_message *msgs, size_t n)
{
    if (!msgs)
        return;
    for (size_t i = 0; i < n; i++) {
        free((char *)msgs[i].role);
        free((char *)msgs[i].content);
    }
    free(msgs);
}

static const char *string_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int smc_chat_messages_parse(const char *json, smc_chat_message **msgs, size_t *n, smc_error *err)
{
    *msgs = NULL;
    *n = 0;
    cJSON *root = cJSON_Parse(json ? json : "");
    if (!root)
        return smc_fail(err, "the messages are not valid JSON");
    const cJSON *arr = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "messages") : root;
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(root);
        return smc_fail(err, "the messages must be a JSON array of {\"role\", \"content\"} objects "
                             "(or an object with such an array under \"messages\")");
    }
    size_t count = (size_t)cJSON_GetArraySize(arr);
    smc_chat_message *out = calloc(count ? count : 1, sizeof *out);
    if (!out) {
        cJSON_Delete(root);
        return smc_fail(err, "out of memory");
    }
    size_t i = 0;
    int rc = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, arr)
    {
        const char *role = cJSON_IsObject(m) ? string_field(m, "role") : NULL;
        const char *content = cJSON_IsObject(m) ? string_field(m, "content") : NULL;
        if (!role || !content) {
            rc = smc_fail(err, "message %zu needs a string \"role\" and a string \"content\"", i + 1);
            break;
        }
        out[i].role = strdup(role);
        out[i].content = strdup(content);
        i++;
        if (!out[i - 1].role || !out[i - 1].content) {
            rc = smc_fail(err, "out of memory");
            break;
        }
    }
    cJSON_Delete(root);
    if (rc == 0 && i == 0)
        rc = smc_fail(err, "the messages array is empty");
    if (rc) {
        smc_chat_messages_free(out, i);
        return rc;
    }
    *msgs = out;
    *n = i;
    return 0;
}

smc_str smc_model_chat_template(const smc_model *m)
{
    smc_str s = {NULL, 0};
    if (m && m->gguf && smc_gguf_get_str(m->gguf, "tokenizer.chat_template", &s) != 0)
        s = (smc_str){NULL, 0};
    return s;
}

int smc_chat_apply_model(const smc_model *m, const char *override, const smc_chat_message *msgs,
                         size_t n, bool add_assistant, char **out, smc_error *err)
{
    *out = NULL;
    if (override)
        return smc_chat_apply(override, msgs, n, add_assistant, out, err);
    smc_str t = smc_model_chat_template(m);
    if (!t.ptr)
        return smc_fail(err, "the model has no chat template (no tokenizer.chat_template in its "
                             "GGUF file): name a built-in one (chat_template, --chat-template NAME: "
                             "chatml, llama3, mistral-v7, ...)");
    char *text = malloc(t.len + 1);
    if (!text)
        return smc_fail(err, "out of memory");
    memcpy(text, t.ptr, t.len);
    text[t.len] = 0;
    int rc = smc_chat_apply(text, msgs, n, add_assistant, out, err);
    free(text);
    if (rc)
        smc_fail_context(err, "the model's chat template");
    return rc;
}
