/*
 * xensim - command-line entry point: dispatches to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const struct xsim_command commands[] = {XSIM_CLI_COMMANDS};

static void usage(FILE *out)
{
    fprintf(out, "Usage: xensim COMMAND [OPTIONS]\n"
                 "       xensim --help | --version\n\n"
                 "A userspace simulator of the Xen PVHVM guest interface.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i].name != NULL)
            fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(out, "\nRun 'xensim COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("xensim %s\n", XENSIM_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i].name != NULL && strcmp(argv[1], commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1);
    }
    fprintf(stderr, "xensim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
