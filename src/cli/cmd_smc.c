/* cmd_smc.c — placeholder until its module lands. */
#include "cli/cli.h"

int cmd_smc(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("smc: not implemented yet");
    return 1;
}

