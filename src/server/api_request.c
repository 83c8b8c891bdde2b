/* api_request.c — turning an HTTP request body (OpenAI completions and chat,
 * llama.cpp /completion) into run options, with the server's limits and the
 * critic allow-list. Field names and errors come from the run-option table;
 * the API-specific fields (messages, response_format, n, stream, smc) are
 * read here. */
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/run_options.h"
#include "server/server.h"
#include "util/error.h"

int api_fail(api_error *e, int status, const char *type, const char *param, const char *fmt, ...)
{
    e->status = status;
    e->type = type;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err.msg, sizeof e->err.msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* A 400 from an option error: its message starts with the field ("smc.particles: ..."). */
static int option_fail(api_error *e, const smc_error *err)
{
    api_fail(e, 400, "invalid_request_error", NULL, "%s", err->msg);
    const char *colon = strstr(err->msg, ": ");
    size_t n = colon ? (size_t)(colon - err->msg) : 0;
    if (n && n < sizeof e->param && !memchr(err->msg, ' ', n))
        snprintf(e->param, sizeof e->param, "%.*s", (int)n, err->msg);
    return -1;
}

bool critic_allowed(const server *s, const char *spec)
{
    if (!strcmp(spec, "smiles"))
        return true; /* touches nothing on the server */
    /* No parent-directory steps, whatever the patterns say. */
    if (strstr(spec, "/../") || strstr(spec, ":../") || (strlen(spec) >= 3 && !strcmp(spec + strlen(spec) - 3, "/..")))
        return false;
    for (int i = 0; i < s->cfg.n_allow; i++)
        if (fnmatch(s->cfg.allow_critic[i], spec, FNM_PATHNAME) == 0)
            return true;
    return false;
}

/* Appends text to a growing buffer. */
static int append(char **buf, size_t *len, size_t *cap, const char *text, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = (*cap ? *cap * 2 : 256);
        while (c < *len + n + 1)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, text, n);
    *len += n;
    (*buf)[*len] = 0;
    return 0;
}

/* OpenAI's messages as the library's [{"role", "content"}] (content parts
 * joined, an assistant's null content empty, "developer" as "system": the
 * templates know only the latter), roles checked. */
static int normalize_chat(const cJSON *messages, cJSON **out, smc_error *err)
{
    *out = NULL;
    if (!cJSON_IsArray(messages) || !messages->child)
        return smc_fail(err, "messages: must be a non-empty array of {\"role\", \"content\"} objects");
    cJSON *norm = cJSON_CreateArray();
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int i = 0, rc = 0;
    for (const cJSON *m = messages->child; m && rc == 0 && norm; m = m->next, i++) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        const char *r = cJSON_IsString(role) ? role->valuestring : NULL;
        static const char *const roles[] = {"system", "developer", "user", "assistant", "tool"};
        bool known = false;
        for (size_t k = 0; r && k < sizeof roles / sizeof roles[0]; k++)
            known |= !strcmp(r, roles[k]);
        if (!r)
            rc = smc_fail(err, "messages[%d].role: must be a string", i);
        else if (!known)
            rc = smc_fail(err, "messages[%d].role: unknown role '%.40s' (system, developer, user, assistant, tool)",
                          i, r);
        len = 0;
        if (rc == 0 && append(&buf, &len, &cap, "", 0))
            rc = smc_fail(err, "out of memory");
        if (rc == 0 && cJSON_IsString(content)) {
            if (append(&buf, &len, &cap, content->valuestring, strlen(content->valuestring)))
                rc = smc_fail(err, "out of memory");
        } else if (rc == 0 && cJSON_IsArray(content)) {
            for (const cJSON *part = content->child; part && rc == 0; part = part->next) {
                const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
                if (!cJSON_IsString(text))
                    rc = smc_fail(err, "messages[%d].content: only text parts are supported", i);
                else if (append(&buf, &len, &cap, text->valuestring, strlen(text->valuestring)))
                    rc = smc_fail(err, "out of memory");
            }
        } else if (rc == 0 && (!cJSON_IsNull(content) || strcmp(r, "assistant")))
            rc = smc_fail(err, "messages[%d].content: must be a string or an array of text parts", i);
        if (rc == 0) {
            cJSON *o = cJSON_CreateObject();
            if (!o || !cJSON_AddItemToArray(norm, o) ||
                !cJSON_AddStringToObject(o, "role", strcmp(r, "developer") ? r : "system") ||
                !cJSON_AddStringToObject(o, "content", buf))
                rc = smc_fail(err, "out of memory");
        }
    }
    free(buf);
    if (!norm)
        return smc_fail(err, "out of memory");
    if (rc) {
        cJSON_Delete(norm);
        return -1;
    }
    *out = norm;
    return 0;
}

/* The documented plain fallback for a model without a recognised chat
 * template: "Role: content" lines (system first), then "Assistant:". */
static int render_plain(const char *system, const cJSON *norm, char **out, smc_error *err)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = !system || (append(&buf, &len, &cap, "System: ", 8) == 0 &&
                          append(&buf, &len, &cap, system, strlen(system)) == 0 &&
                          append(&buf, &len, &cap, "\n", 1) == 0);
    for (const cJSON *m = norm->child; m && ok; m = m->next) {
        const char *r = cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring;
        const char *c = cJSON_GetObjectItemCaseSensitive(m, "content")->valuestring;
        const char *label = !strcmp(r, "system")      ? "System"
                            : !strcmp(r, "user")      ? "User"
                            : !strcmp(r, "assistant") ? "Assistant"
                                                      : "Tool";
        ok = append(&buf, &len, &cap, label, strlen(label)) == 0 && append(&buf, &len, &cap, ": ", 2) == 0 &&
             append(&buf, &len, &cap, c, strlen(c)) == 0 && append(&buf, &len, &cap, "\n", 1) == 0;
    }
    if (!ok || append(&buf, &len, &cap, "Assistant:", 10)) {
        free(buf);
        return smc_fail(err, "out of memory");
    }
    *out = buf;
    return 0;
}

/* The chat's prompt, after the options' check: the chat template (the
 * request's chat_template, else the model's when recognised, as the CLI's
 * --chat does: smc_run_opts_chat_prompt), else the plain fallback. The chat
 * options then give way to the prompt. */
static int chat_prompt(const server *s, api_request *r, const cJSON *norm, api_error *e)
{
    smc_error err = {{0}};
    smc_run_opts *o = &r->opts;
    char *prompt = NULL;
    int rc;
    if (o->chat_template || s->model_template) {
        rc = smc_run_opts_chat_prompt(o, s->shared.model, &prompt, &err);
        r->parse_special = true;
    } else
        rc = render_plain(o->system, norm, &prompt, &err);
    if (rc)
        return api_fail(e, 400, "invalid_request_error", o->chat_template ? "chat_template" : "messages", "%s",
                        err.msg);
    char **chat_fields[] = {&o->messages, &o->system, &o->chat_template, &o->chat};
    for (size_t i = 0; i < sizeof chat_fields / sizeof chat_fields[0]; i++) {
        free(*chat_fields[i]);
        *chat_fields[i] = NULL;
    }
    free(o->prompt);
    o->prompt = prompt;
    return 0;
}

/* response_format, OpenAI's {"type":"json_schema","json_schema":{"schema":...}}
 * or llama.cpp's {"type":"json_schema"|"json_object","schema":...}. */
static int set_response_format(smc_run_opts *o, const cJSON *rf, api_error *e)
{
    if (cJSON_IsNull(rf))
        return 0;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rf, "type");
    if (!cJSON_IsObject(rf) || !cJSON_IsString(type))
        return api_fail(e, 400, "invalid_request_error", "response_format",
                        "response_format: must be an object with a \"type\"");
    const char *t = type->valuestring;
    if (!strcmp(t, "text"))
        return 0;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(rf, "schema");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
    if (!schema && cJSON_IsObject(js))
        schema = cJSON_GetObjectItemCaseSensitive(js, "schema");
    char *text = NULL;
    if (!strcmp(t, "json_object") && !schema)
        text = strdup("{\"type\":\"object\"}");
    else if (!strcmp(t, "json_object") || !strcmp(t, "json_schema")) {
        if (!cJSON_IsObject(schema) && !cJSON_IsBool(schema))
            return api_fail(e, 400, "invalid_request_error", "response_format",
                            "response_format: type %s needs a schema (json_schema.schema or schema)", t);
        text = cJSON_PrintUnformatted(schema);
    } else
        return api_fail(e, 400, "invalid_request_error", "response_format",
                        "response_format.type: unknown value '%.40s' (text, json_object, json_schema)", t);
    if (!text)
        return api_fail(e, 500, "server_error", NULL, "out of memory");
    free(o->json_schema);
    o->json_schema = text;
    return 0;
}

/* The prompt: a string, or an array holding one string. */
static int read_prompt(smc_run_opts *o, const cJSON *body, api_error *e)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "prompt");
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && cJSON_IsString(p->child))
        p = p->child;
    if (!cJSON_IsString(p))
        return api_fail(e, 400, "invalid_request_error", "prompt",
                        p ? "prompt: must be a string (or an array of one string)" : "prompt: missing");
    free(o->prompt);
    if (!(o->prompt = strdup(p->valuestring)))
        return api_fail(e, 500, "server_error", NULL, "out of memory");
    return 0;
}

static int api_request_check(const server *s, api_request *r, const cJSON *body, api_error *e);

int api_request_parse(const server *s, api_kind kind, const cJSON *body, api_request *r, api_error *e)
{
    memset(r, 0, sizeof *r);
    smc_run_opts_init(&r->opts);
    r->kind = kind;
    r->n = 1;
    smc_error err = {{0}};
    if (!cJSON_IsObject(body))
        return api_fail(e, 400, "invalid_request_error", NULL, "the request body must be a JSON object");
    /* The top level: table fields by name (OpenAI, llama.cpp), others ignored. */
    cJSON *top = cJSON_Duplicate(body, true);
    if (!top)
        return api_fail(e, 500, "server_error", NULL, "out of memory");
    const char *skip[] = {"prompt", "smc", "response_format", "messages"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(top, skip[i]);
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(top, "n_predict");
    if (cJSON_IsNumber(np) && np->valuedouble < 0) /* llama.cpp: -1 = no limit */
        cJSON_DeleteItemFromObjectCaseSensitive(top, "n_predict");
    const cJSON *mct = cJSON_GetObjectItemCaseSensitive(top, "max_completion_tokens");
    if (mct && !cJSON_GetObjectItemCaseSensitive(top, "max_tokens")) {
        cJSON *copy = cJSON_Duplicate(mct, true);
        if (copy)
            cJSON_AddItemToObject(top, "max_tokens", copy);
    }
    int rc = run_opts_set_json_object(&r->opts, top, false, NULL, &err);
    cJSON_Delete(top);
    if (rc)
        return option_fail(e, &err);
    const cJSON *smc = cJSON_GetObjectItemCaseSensitive(body, "smc");
    if (smc && !cJSON_IsNull(smc) && run_opts_set_json_object(&r->opts, smc, true, "smc", &err))
        return option_fail(e, &err);
    cJSON *chat = NULL; /* the messages, normalised */
    if (kind == API_CHAT) {
        if (normalize_chat(cJSON_GetObjectItemCaseSensitive(body, "messages"), &chat, &err))
            return option_fail(e, &err);
        free(r->opts.messages);
        r->opts.messages = cJSON_PrintUnformatted(chat);
        if (!r->opts.messages) {
            cJSON_Delete(chat);
            return api_fail(e, 500, "server_error", NULL, "out of memory");
        }
    } else if (read_prompt(&r->opts, body, e))
        return -1;
    int chat_rc = api_request_check(s, r, body, e);
    if (chat_rc == 0 && chat)
        chat_rc = chat_prompt(s, r, chat, e);
    cJSON_Delete(chat);
    return chat_rc;
}

/* The rest of the body (response_format, n, stream), the options' check
 * and the server's limits. */
static int api_request_check(const server *s, api_request *r, const cJSON *body, api_error *e)
{
    smc_error err = {{0}};
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(body, "response_format");
    if (rf && set_response_format(&r->opts, rf, e))
        return -1;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(body, "n");
    if (n && !cJSON_IsNull(n)) {
        double v = cJSON_IsNumber(n) ? n->valuedouble : 0;
        if (!(v >= 1 && v <= s->cfg.max_n) || v != floor(v))
            return api_fail(e, 400, "invalid_request_error", "n", "n: must be an integer in [1, %d]", s->cfg.max_n);
        r->n = (int)v;
    }
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(body, "stream");
    if (stream && !cJSON_IsNull(stream)) {
        if (!cJSON_IsBool(stream))
            return api_fail(e, 400, "invalid_request_error", "stream", "stream: must be true or false");
        r->stream = cJSON_IsTrue(stream);
    }
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(body, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        const cJSON *iu = cJSON_IsObject(so) ? cJSON_GetObjectItemCaseSensitive(so, "include_usage") : NULL;
        if (!cJSON_IsObject(so) || (iu && !cJSON_IsBool(iu) && !cJSON_IsNull(iu)))
            return api_fail(e, 400, "invalid_request_error", "stream_options",
                            "stream_options: must be an object whose include_usage is true or false");
        r->include_usage = cJSON_IsTrue(iu);
    }
    if (smc_run_opts_check(&r->opts, SMC_OPT_JSON, &err))
        return option_fail(e, &err);
    long work = (long)r->opts.cfg.n_particles * r->opts.cfg.max_tokens;
    if (work > s->cfg.max_work)
        return api_fail(e, 400, "invalid_request_error", "smc.particles",
                        "particles × max_tokens = %d × %d = %ld is over this server's limit of %ld",
                        r->opts.cfg.n_particles, r->opts.cfg.max_tokens, work, s->cfg.max_work);
    if (r->opts.critic && !critic_allowed(s, r->opts.critic))
        return api_fail(e, 400, "invalid_request_error", "smc.critic",
                        "smc.critic: '%.100s' is not allowed by this server (it allows smiles%s)", r->opts.critic,
                        s->cfg.n_allow ? " and its --allow-critic patterns" : " only");
    return 0;
}

void api_request_free(api_request *r) { smc_run_opts_free(&r->opts); }
