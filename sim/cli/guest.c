/*
 * guest.c - the --guest option the run, explore, replay and shrink
 * commands share.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "xensim/guestprog.h"

int xsim_cli_guest_open(const char *cmd, const char *path, const struct xsim_guest_program **prog,
                        void **handle)
{
    char why[1024];

    *prog = NULL;
    *handle = NULL;
    if (path == NULL)
        return 0;
    if (xsim_guest_program_open(path, prog, handle, why, sizeof(why)) != 0) {
        fprintf(stderr, "xensim %s: %s\n", cmd, why);
        return -1;
    }
    return 0;
}

const char *xsim_cli_guest_name(const struct xsim_guest_program *prog)
{
    return prog != NULL ? prog->name : xsim_builtin_guest_program.name;
}

const char *xsim_cli_shell_word(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    bool plain = *s != '\0';

    for (const char *c = s; *c != '\0'; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr("/._-+:=,@%", *c) != NULL))
            plain = false;
    }
    if (plain) {
        snprintf(buf, size, "%s", s);
        return buf;
    }
    /* Single quotes; a quote inside becomes '\'' */
    if (size < 3)
        return "''";
    buf[n++] = '\'';
    for (const char *c = s; *c != '\0' && n + 5 < size; c++) {
        if (*c == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *c;
        }
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}
