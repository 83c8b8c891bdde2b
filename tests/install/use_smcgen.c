/* use_smcgen.c — a program built against an installed libsmcgen (by
 * tests/cli/test_install.sh, with pkg-config and with find_package): the
 * version, a chat rendered by a built-in template, and a model loaded and
 * used for tokenizing, as a user's program would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smcgen.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: use_smcgen MODEL.gguf\n");
        return 2;
    }
    smc_error err = {{0}};
    smc_chat_message m = {"user", "Hi"};
    char *chat = NULL;
    if (smc_chat_apply("chatml", &m, 1, true, &chat, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    smc_model *model = NULL;
    if (smc_model_load(argv[1], &model, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        free(chat);
        return 1;
    }
    const smc_vocab *v = smc_model_vocab(model, &err);
    int32_t *ids = NULL;
    size_t n = 0;
    if (!v || smc_tokenize(v, "CCO", 3, false, false, &ids, &n, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("version %s\nchat %zu bytes\nCCO: %zu tokens\n", smc_version(), strlen(chat), n);
    free(ids);
    free(chat);
    smc_model_free(model);
    return 0;
}
