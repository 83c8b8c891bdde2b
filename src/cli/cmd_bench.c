/* cmd_bench.c — placeholder until its module lands. */
#include "cli/cli.h"

int cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("bench: not implemented yet");
    return 1;
}

