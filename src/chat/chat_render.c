/* chat_render.c — the built-in chat templates: how each family writes a
 * conversation, as llama.cpp's llm_chat_apply_template writes it (same
 * bytes for the same messages). Most families are a prefix and a suffix per
 * role; the few with state across turns (Llama 2 and Mistral [INST] turns,
 * Gemma's and Orion's folded system prompt, Monarch's BOS) are functions. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat_internal.h"
#include "util/error.h"

void chat_put(chat_buf *b, const char *s, size_t n)
{
    if (n == (size_t)-1)
        n = strlen(s);
    if (b->oom || n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* Content without leading and trailing whitespace (as C's isspace). */
static void put_trimmed(chat_buf *b, const char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    chat_put(b, s, n);
}

static void put_content(chat_buf *b, const char *s, bool trim)
{
    if (trim)
        put_trimmed(b, s);
    else
        chat_put(b, s, (size_t)-1);
}

/* A prefix or suffix: "%r" is the message's role, "%R" the role with its
 * first letter in upper case. */
static void put_pattern(chat_buf *b, const char *pat, const char *role)
{
    for (const char *p = pat; *p;) {
        const char *pct = strchr(p, '%');
        if (!pct || (pct[1] != 'r' && pct[1] != 'R')) {
            chat_put(b, p, pct ? (size_t)(pct - p) + 1 : (size_t)-1);
            if (!pct)
                break;
            p = pct + 1;
            continue;
        }
        chat_put(b, p, (size_t)(pct - p));
        if (pct[1] == 'R' && *role) {
            char c = (char)toupper((unsigned char)*role);
            chat_put(b, &c, 1);
            chat_put(b, role + 1, (size_t)-1);
        } else {
            chat_put(b, role, (size_t)-1);
        }
        p = pct + 2;
    }
}

static bool is(const char *role, const char *what)
{
    return !strcmp(role, what);
}

typedef struct turn {
    const char *pre, *post;   /* pre NULL: messages of this role are left out */
} turn;

typedef void (*render_fn)(const char *name, const smc_chat_message *m, size_t n, bool add_ass,
                          chat_buf *b);

typedef struct chat_rule {
    const char *name;
    render_fn fn;            /* when not NULL, the rest is unused */
    const char *start;       /* written once, first */
    turn sys, user, asst, other;
    bool trim;               /* content without surrounding whitespace */
    const char *gen;         /* opens the assistant's turn (add_assistant) */
} chat_rule;

/* ---- templates with state across turns ---------------------------------- */

/* Llama 2: "[INST] " opens each user turn (after the first with BOS in the
 * -bos variant); the system prompt goes in a <<SYS>> block or, without
 * one, as a plain line. */
static void render_llama2(const char *name, const smc_chat_message *m, size_t n, bool add_ass,
                          chat_buf *b)
{
    (void)add_ass;
    bool sys_block = strcmp(name, "llama2") != 0;
    bool bos_inside = !strcmp(name, "llama2-sys-bos");
    bool strip = !strcmp(name, "llama2-sys-strip");
    bool inside = true;
    chat_put(b, "[INST] ", (size_t)-1);
    for (size_t i = 0; i < n; i++) {
        if (!inside) {
            inside = true;
            chat_put(b, bos_inside ? "<s>[INST] " : "[INST] ", (size_t)-1);
        }
        if (is(m[i].role, "system")) {
            chat_put(b, sys_block ? "<<SYS>>\n" : "", (size_t)-1);
            put_content(b, m[i].content, strip);
            chat_put(b, sys_block ? "\n<</SYS>>\n\n" : "\n", (size_t)-1);
        } else if (is(m[i].role, "user")) {
            put_content(b, m[i].content, strip);
            chat_put(b, " [/INST]", (size_t)-1);
        } else {
            put_content(b, m[i].content, strip);
            chat_put(b, "</s>", (size_t)-1);
            inside = false;
        }
    }
}

/* Mistral v1 / v3 / v3-tekken: one [INST] block holds the system prompt and
 * the user's message; they differ in spaces, and v3 trims the answers. */
static void render_mistral(const char *name, const smc_chat_message *m, size_t n, bool add_ass,
                           chat_buf *b)
{
    (void)add_ass;
    const char *lead = !strcmp(name, "mistral-v1") ? " " : "";
    const char *trail = !strcmp(name, "mistral-v3-tekken") ? "" : " ";
    bool trim_answers = !strcmp(name, "mistral-v3");
    bool inside = false;
    for (size_t i = 0; i < n; i++) {
        if (!inside) {
            chat_put(b, lead, (size_t)-1);
            chat_put(b, "[INST]", (size_t)-1);
            chat_put(b, trail, (size_t)-1);
            inside = true;
        }
        if (is(m[i].role, "system")) {
            chat_put(b, m[i].content, (size_t)-1);
            chat_put(b, "\n\n", (size_t)-1);
        } else if (is(m[i].role, "user")) {
            chat_put(b, m[i].content, (size_t)-1);
            chat_put(b, lead, (size_t)-1);
            chat_put(b, "[/INST]", (size_t)-1);
        } else {
            chat_put(b, trail, (size_t)-1);
            put_content(b, m[i].content, trim_answers);
            chat_put(b, "</s>", (size_t)-1);
            inside = false;
        }
    }
}

/* Gemma has no system role: system text (trimmed) opens the next user turn;
 * "assistant" is "model". */
static void render_gemma(const char *name, const smc_chat_message *m, size_t n, bool add_ass,
                         chat_buf *b)
{
    (void)name;
    chat_buf sys = {0};
    for (size_t i = 0; i < n; i++) {
        if (is(m[i].role, "system")) {
            put_trimmed(&sys, m[i].content);
            continue;
        }
        const char *role = is(m[i].role, "assistant") ? "model" : m[i].role;
        put_pattern(b, "<start_of_turn>%r\n", role);
        if (sys.len && !is(role, "model")) {
            chat_put(b, sys.p, sys.len);
            chat_put(b, "\n\n", (size_t)-1);
            sys.len = 0;
        }
        put_trimmed(b, m[i].content);
        chat_put(b, "<end_of_turn>\n", (size_t)-1);
    }
    if (add_ass)
        chat_put(b, "<start_of_turn>model\n", (size_t)-1);
    b->oom |= sys.oom;
    free(sys.p);
}

/* Orion: system text opens the next "Human: " turn. */
static void render_orion(const char *name, const smc_chat_message *m, size_t n, bool add_ass,
                         chat_buf *b)
{
    (void)name;
    (void)add_ass;
    chat_buf sys = {0};
    for (size_t i = 0; i < n; i++) {
        if (is(m[i].role, "system")) {
            chat_put(&sys, m[i].content, (size_t)-1);
        } else if (is(m[i].role, "user")) {
            chat_put(b, "Human: ", (size_t)-1);
            if (sys.len) {
                chat_put(b, sys.p, sys.len);
                chat_put(b, "\n\n", (size_t)-1);
                sys.len = 0;
            }
            chat_put(b, m[i].content, (size_t)-1);
            chat_put(b, "\n\nAssistant: </s>", (size_t)-1);
        } else {
            chat_put(b, m[i].content, (size_t)-1);
            chat_put(b, "</s>", (size_t)-1);
        }
    }
    b->oom |= sys.oom;
    free(sys.p);
}

/* Monarch: "<s>role\n...</s>\n", without the BOS on the first message. */
static void render_monarch(const char *name, const smc_chat_message *m, size_t n, bool add_ass,
                           chat_buf *b)
{
    (void)name;
    for (size_t i = 0; i < n; i++) {
        put_pattern(b, i ? "<s>%r\n" : "%r\n", m[i].role);
        chat_put(b, m[i].content, (size_t)-1);
        chat_put(b, "</s>\n", (size_t)-1);
    }
    if (add_ass)
        chat_put(b, "<s>assistant\n", (size_t)-1);
}

/* ---- the table ---------------------------------------------------------- */

#define ALL(pre, post) {pre, post}, {pre, post}, {pre, post}, {pre, post}
#define FN(name, fn) {name, fn, NULL, {0}, {0}, {0}, {0}, false, NULL}
#define SKIP {NULL, NULL}
/* UTF-8 of DeepSeek's fullwidth bars and MiniCPM's <用户>. */
#define DS_USER "<\xef\xbd\x9cUser\xef\xbd\x9c>"
#define DS_ASSISTANT "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>"
#define DS_EOS "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"
#define CMDR(who) "<|START_OF_TURN_TOKEN|><|" who "_TOKEN|>"

static const chat_rule rules[] = {
    {"chatml", NULL, "", ALL("<|im_start|>%r\n", "<|im_end|>\n"), false, "<|im_start|>assistant\n"},
    FN("llama2", render_llama2),
    FN("llama2-sys", render_llama2),
    FN("llama2-sys-bos", render_llama2),
    FN("llama2-sys-strip", render_llama2),
    FN("mistral-v1", render_mistral),
    FN("mistral-v3", render_mistral),
    FN("mistral-v3-tekken", render_mistral),
    {"mistral-v7", NULL, "", {"[SYSTEM_PROMPT] ", "[/SYSTEM_PROMPT]"}, {"[INST] ", "[/INST]"},
     {" ", "</s>"}, {" ", "</s>"}, false, ""},
    {"mistral-v7-tekken", NULL, "", {"[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]"}, {"[INST]", "[/INST]"},
     {"", "</s>"}, {"", "</s>"}, false, ""},
    {"phi3", NULL, "", ALL("<|%r|>\n", "<|end|>\n"), false, "<|assistant|>\n"},
    {"phi4", NULL, "", ALL("<|im_start|>%r<|im_sep|>", "<|im_end|>"), false,
     "<|im_start|>assistant<|im_sep|>"},
    {"falcon3", NULL, "", ALL("<|%r|>\n", "\n"), false, "<|assistant|>\n"},
    {"zephyr", NULL, "", ALL("<|%r|>\n", "<|endoftext|>\n"), false, "<|assistant|>\n"},
    FN("monarch", render_monarch),
    FN("gemma", render_gemma),
    FN("orion", render_orion),
    {"openchat", NULL, "", {"", "<|end_of_turn|>"}, {"GPT4 Correct User: ", "<|end_of_turn|>"},
     {"GPT4 Correct Assistant: ", "<|end_of_turn|>"}, {"GPT4 Correct %R: ", "<|end_of_turn|>"},
     false, "GPT4 Correct Assistant:"},
    {"vicuna", NULL, "", {"", "\n\n"}, {"USER: ", "\n"}, {"ASSISTANT: ", "</s>\n"}, SKIP, false,
     "ASSISTANT:"},
    {"vicuna-orca", NULL, "", {"SYSTEM: ", "\n"}, {"USER: ", "\n"}, {"ASSISTANT: ", "</s>\n"}, SKIP,
     false, "ASSISTANT:"},
    {"deepseek", NULL, "", {"", ""}, {"### Instruction:\n", "\n"}, {"### Response:\n", "\n<|EOT|>\n"},
     SKIP, false, "### Response:\n"},
    {"deepseek2", NULL, "", {"", "\n\n"}, {"User: ", "\n\n"}, {"Assistant: ", DS_EOS}, SKIP, false,
     "Assistant:"},
    {"deepseek3", NULL, "", {"", "\n\n"}, {DS_USER, ""}, {DS_ASSISTANT, DS_EOS}, SKIP, false,
     DS_ASSISTANT},
    {"command-r", NULL, "", {CMDR("SYSTEM"), "<|END_OF_TURN_TOKEN|>"},
     {CMDR("USER"), "<|END_OF_TURN_TOKEN|>"}, {CMDR("CHATBOT"), "<|END_OF_TURN_TOKEN|>"}, SKIP, true,
     CMDR("CHATBOT")},
    {"llama3", NULL, "", ALL("<|start_header_id|>%r<|end_header_id|>\n\n", "<|eot_id|>"), true,
     "<|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"llama4", NULL, "", ALL("<|header_start|>%r<|header_end|>\n\n", "<|eot|>"), true,
     "<|header_start|>assistant<|header_end|>\n\n"},
    {"chatglm3", NULL, "[gMASK]sop", ALL("<|%r|>\n ", ""), false, "<|assistant|>"},
    {"chatglm4", NULL, "[gMASK]<sop>", ALL("<|%r|>\n", ""), false, "<|assistant|>\n"},
    {"glmedge", NULL, "", ALL("<|%r|>\n", ""), false, "<|assistant|>"},
    {"minicpm", NULL, "", {"", ""}, {"<\xe7\x94\xa8\xe6\x88\xb7>", "<AI>"}, {"", ""}, {"", ""}, true,
     ""},
    {"exaone3", NULL, "", {"[|system|]", "[|endofturn|]\n"}, {"[|user|]", "\n"},
     {"[|assistant|]", "[|endofturn|]\n"}, SKIP, true, "[|assistant|]"},
    {"granite", NULL, "", ALL("<|start_of_role|>%r<|end_of_role|>", "<|end_of_text|>\n"), false,
     "<|start_of_role|>assistant<|end_of_role|>"},
    {"megrez", NULL, "", ALL("<|role_start|>%r<|role_end|>", "<|turn_end|>"), false,
     "<|role_start|>assistant<|role_end|>"},
};

#define N_RULES (sizeof rules / sizeof rules[0])

const char *const *smc_chat_template_names(void)
{
    static const char *names[N_RULES + 1];
    if (!names[0])
        for (size_t i = 0; i < N_RULES; i++)
            names[i] = rules[i].name;
    return names;
}

static const chat_rule *rule_named(const char *name)
{
    for (size_t i = 0; i < N_RULES; i++)
        if (!strcmp(rules[i].name, name))
            return &rules[i];
    return NULL;
}

static void render_rule(const chat_rule *r, const smc_chat_message *m, size_t n, bool add_ass,
                        chat_buf *b)
{
    chat_put(b, r->start, (size_t)-1);
    for (size_t i = 0; i < n; i++) {
        const turn *t = is(m[i].role, "system")      ? &r->sys
                        : is(m[i].role, "user")      ? &r->user
                        : is(m[i].role, "assistant") ? &r->asst
                                                     : &r->other;
        if (!t->pre)
            continue;
        put_pattern(b, t->pre, m[i].role);
        put_content(b, m[i].content, r->trim);
        put_pattern(b, t->post, m[i].role);
    }
    if (add_ass)
        chat_put(b, r->gen, (size_t)-1);
}

/* "chatml, llama2, ..." */
static void list_names(char *out, size_t cap)
{
    size_t w = 0;
    out[0] = 0;
    for (size_t i = 0; i < N_RULES && w < cap; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%s", i ? ", " : "", rules[i].name);
}

int smc_chat_apply(const char *tmpl, const smc_chat_message *msgs, size_t n, bool add_assistant,
                   char **out, smc_error *err)
{
    *out = NULL;
    const char *name = smc_chat_template_detect(tmpl);
    if (!name) {
        char names[512];
        list_names(names, sizeof names);
        if (!tmpl)
            return smc_fail(err, "no chat template given (built-in: %s)", names);
        if (!strchr(tmpl, '{') && strlen(tmpl) < 64)
            return smc_fail(err, "unknown chat template '%s' (built-in: %s)", tmpl, names);
        return smc_fail(err, "the chat template is not one smcgen recognises (it matches none of "
                             "the built-in families); name one of: %s",
                        names);
    }
    if (n == 0)
        return smc_fail(err, "a chat needs at least one message");
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return smc_fail(err, "chat message %zu has no %s", i + 1, msgs[i].role ? "content" : "role");
    const chat_rule *r = rule_named(name);
    chat_buf b = {0};
    if (r->fn)
        r->fn(name, msgs, n, add_assistant, &b);
    else
        render_rule(r, msgs, n, add_assistant, &b);
    if (!b.oom && !b.p)
        b.p = calloc(1, 1);   /* an empty rendering */
    if (b.oom || !b.p) {
        free(b.p);
        return smc_fail(err, "out of memory rendering the chat");
    }
    *out = b.p;
    return 0;
}
