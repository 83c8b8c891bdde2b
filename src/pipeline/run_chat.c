/* run_chat.c — the prompt of a chat request: the run options' chat,
 * system, messages and chat_template turned into messages and written by
 * the model's chat template (src/chat). The CLI's smc and generate, the
 * server and the Python package all come here. */
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/file.h"

/* msgs = [system], then chat or the messages' JSON. */
static int build(const smc_run_opts *o, smc_chat_message **msgs, size_t *n, smc_error *err)
{
    smc_chat_message *conv = NULL;
    size_t n_conv = 0;
    if (o->messages || o->messages_file) {
        char *file = o->messages ? NULL : smc_read_file(o->messages_file, NULL, err);
        if (!o->messages && !file)
            return -1;
        int rc = smc_chat_messages_parse(o->messages ? o->messages : file, &conv, &n_conv, err);
        free(file);
        if (rc)
            return smc_fail_context(err, "%s", o->messages ? "messages" : o->messages_file);
    }
    size_t total = (o->system ? 1 : 0) + (o->chat ? 1 : 0) + n_conv;
    smc_chat_message *all = calloc(total ? total : 1, sizeof *all);
    if (!all) {
        smc_chat_messages_free(conv, n_conv);
        return smc_fail(err, "out of memory");
    }
    size_t k = 0;
    const char *own[2][2] = {{"system", o->system}, {"user", o->chat}};
    for (int i = 0; i < 2; i++)
        if (own[i][1]) {
            all[k].role = strdup(own[i][0]);
            all[k++].content = strdup(own[i][1]);
        }
    for (size_t i = 0; i < n_conv; i++)
        all[k++] = conv[i];
    free(conv);
    *msgs = all;
    *n = k;
    for (size_t i = 0; i < k; i++)
        if (!all[i].role || !all[i].content)
            return smc_fail(err, "out of memory");
    return 0;
}

int smc_run_opts_chat_prompt(const smc_run_opts *o, const smc_model *m, char **prompt, smc_error *err)
{
    *prompt = NULL;
    if (!o->chat && !o->messages && !o->messages_file)
        return 0;
    smc_chat_message *msgs = NULL;
    size_t n = 0;
    int rc = build(o, &msgs, &n, err);
    if (rc == 0)
        rc = smc_chat_apply_model(m, o->chat_template, msgs, n, true, prompt, err);
    smc_chat_messages_free(msgs, n);
    return rc;
}
