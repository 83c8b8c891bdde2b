/* cmd_grammar.c — placeholder until its module lands. */
#include "cli/cli.h"

int cmd_grammar(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("grammar: not implemented yet");
    return 1;
}

