/* cmd_generate.c — placeholder until its module lands. */
#include "cli/cli.h"

int cmd_generate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("generate: not implemented yet");
    return 1;
}

