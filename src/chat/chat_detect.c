/* chat_detect.c — which built-in chat template a GGUF tokenizer.chat_template
 * text (Jinja) stands for, recognised from marker strings in the text the
 * way llama.cpp's llm_chat_detect_template does, so a model gets the same
 * template in smcgen as in llama.cpp. Also accepts a built-in name. */
#include <string.h>

#include "chat/chat_internal.h"

static bool has(const char *text, const char *needle)
{
    return strstr(text, needle) != NULL;
}

/* Mistral's [INST] family: v7 has a system-prompt block; the official v1 and
 * v3 templates are told apart by their spacing; the rest are Llama 2 and its
 * variants (system block, BOS inside the history, stripped content). */
static const char *detect_inst(const char *t)
{
    if (has(t, "[SYSTEM_PROMPT]"))
        return "mistral-v7";
    if (has(t, "' [INST] ' + system_message") || has(t, "[AVAILABLE_TOOLS]")) {
        if (has(t, " [INST]"))
            return "mistral-v1";
        if (has(t, "\"[INST]\""))
            return "mistral-v3-tekken";
        return "mistral-v3";
    }
    if (has(t, "content.strip()"))
        return "llama2-sys-strip";
    if (has(t, "bos_token + '[INST]"))
        return "llama2-sys-bos";
    if (has(t, "<<SYS>>"))
        return "llama2-sys";
    return "llama2";
}

/* Markers checked in order after the ChatML and [INST] families: the first
 * template whose every marker occurs wins. Order matters where markers
 * overlap (phi3 before glmedge, zephyr after both). */
static const struct {
    const char *name;
    const char *markers[3];
} by_markers[] = {
    {"phi3", {"<|assistant|>", "<|end|>"}},
    {"chatglm4", {"[gMASK]<sop>"}},
    {"falcon3", {"<|assistant|>", "<|user|>", "</s>"}},
    {"glmedge", {"<|assistant|>", "<|user|>"}},
    {"glmedge", {"<|{{ item['role'] }}|>", "<|begin_of_image|>"}},
    {"zephyr", {"<|user|>", "<|endoftext|>"}},
    {"monarch", {"bos_token + message['role']"}},
    {"gemma", {"<start_of_turn>"}},
    {"orion", {"'\\n\\nAssistant: ' + eos_token"}},
    {"openchat", {"GPT4 Correct "}},
    {"vicuna-orca", {"USER: ", "ASSISTANT: ", "SYSTEM: "}},
    {"vicuna", {"USER: ", "ASSISTANT: "}},
    {"deepseek", {"### Instruction:", "<|EOT|>"}},
    {"command-r", {"<|START_OF_TURN_TOKEN|>", "<|USER_TOKEN|>"}},
    {"llama3", {"<|start_header_id|>", "<|end_header_id|>"}},
    {"chatglm3", {"[gMASK]sop"}},
    {"minicpm", {"<\xe7\x94\xa8\xe6\x88\xb7>"}},   /* <用户> */
    {"deepseek2", {"'Assistant: ' + message['content'] + eos_token"}},
    /* <｜Assistant｜>, <｜User｜>, <｜end▁of▁sentence｜> */
    {"deepseek3",
     {"<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>", "<\xef\xbd\x9c" "User\xef\xbd\x9c>",
      "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"}},
    {"exaone3", {"[|system|]", "[|assistant|]", "[|endofturn|]"}},
    {"granite", {"<|start_of_role|>"}},
    {"megrez", {"<|role_start|>"}},
    {"llama4", {"<|header_start|>", "<|header_end|>"}},
};

const char *smc_chat_template_detect(const char *t)
{
    if (!t)
        return NULL;
    const char *const *names = smc_chat_template_names();
    for (size_t i = 0; names[i]; i++)
        if (!strcmp(t, names[i]))
            return names[i];
    const char *found = NULL;
    if (has(t, "<|im_start|>"))
        found = has(t, "<|im_sep|>") ? "phi4" : has(t, "<end_of_utterance>") ? NULL : "chatml";
    else if (!strncmp(t, "mistral", 7) || has(t, "[INST]"))
        found = detect_inst(t);
    else
        for (size_t i = 0; !found && i < sizeof by_markers / sizeof by_markers[0]; i++) {
            bool all = true;
            for (int k = 0; k < 3 && by_markers[i].markers[k]; k++)
                all = all && has(t, by_markers[i].markers[k]);
            if (all)
                found = by_markers[i].name;
        }
    /* Return the table's own pointer, so callers may compare names. */
    for (size_t i = 0; found && names[i]; i++)
        if (!strcmp(found, names[i]))
            return names[i];
    return NULL;
}
