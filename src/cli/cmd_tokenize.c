/* cmd_tokenize.c — placeholder until its module lands. */
#include "cli/cli.h"

int cmd_tokenize(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("tokenize: not implemented yet");
    return 1;
}

int cmd_detokenize(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("detokenize: not implemented yet");
    return 1;
}

