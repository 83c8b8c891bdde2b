/* cmd_logits.c — placeholder until its module lands. */
#include "cli/cli.h"

int cmd_logits(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("logits: not implemented yet");
    return 1;
}

