/*
 * commands.h - the xensim program's subcommands. Each lives in its own
 * cmd_<name>.c and is listed once in XSIM_CLI_COMMANDS.
 */
#ifndef XSIM_CLI_COMMANDS_H
#define XSIM_CLI_COMMANDS_H

struct xsim_command {
    const char *name;
    const char *summary;
    /* argv[0] is the command's name; returns the process exit status:
     * 0 success, 1 an oracle or check failed, 2 usage or input error. */
    int (*main)(int argc, char **argv);
};

#include <stddef.h>

struct xsim_guest_program;

/* --guest PATH: load the plug-in (path NULL: none, *prog stays NULL for the
 * built-in program). 0, or -1 after printing why as "xensim CMD: ...". */
int xsim_cli_guest_open(const char *cmd, const char *path, const struct xsim_guest_program **prog,
                        void **handle);
/* The name a replay file records for `prog` (NULL: the built-in). */
const char *xsim_cli_guest_name(const struct xsim_guest_program *prog);
/* `s` as one shell word (quoted when it needs to be), for suggested commands. */
const char *xsim_cli_shell_word(const char *s, char *buf, size_t size);

int xsim_cmd_run(int argc, char **argv);
int xsim_cmd_explore(int argc, char **argv);
int xsim_cmd_replay(int argc, char **argv);
int xsim_cmd_shrink(int argc, char **argv);
int xsim_cmd_sweep(int argc, char **argv);
int xsim_cmd_xenstored(int argc, char **argv);
int xsim_cmd_profile(int argc, char **argv);
int xsim_cmd_fuzz_replay(int argc, char **argv);

#include <stdbool.h>
/* --backend's value for command `cmd` into *out (an enum xsim_backend);
 * false after printing why it is not one. */
bool xsim_cli_backend(const char *cmd, const char *arg, int *out);

/* One entry per command, in the order --help lists them; a NULL name ends
 * the table. */
#define XSIM_CLI_COMMANDS                                                                       \
    {"run", "run a scenario once and report", xsim_cmd_run},                                    \
        {"explore", "run many schedules of a scenario, stop at the first failure",              \
         xsim_cmd_explore},                                                                     \
        {"replay", "re-run a recorded schedule bit for bit", xsim_cmd_replay},                  \
        {"shrink", "shorten a failing schedule's choice list", xsim_cmd_shrink},                \
        {"fuzz-replay", "turn a schedule fuzzer's input into a replay file",                    \
         xsim_cmd_fuzz_replay},                                                                 \
        {"sweep", "run a scenario over a grid of parameter values and seeds, with plots",       \
         xsim_cmd_sweep},                                                                       \
        {"profile", "list the cost profiles, or show one with its sources", xsim_cmd_profile},  \
        {"xenstored", "run a standalone XenStore daemon on a Unix socket", xsim_cmd_xenstored}, \
        {NULL, NULL, NULL},

#endif
