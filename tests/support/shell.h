/*
 * shell.h - test helpers for the tests that drive the xensim program from
 * outside: run a command through the shell and collect what it printed,
 * and read a file it wrote. Failures are CMocka failures of the calling
 * test, so a caller only checks what its test is about.
 */
#ifndef XSIM_TEST_SHELL_H
#define XSIM_TEST_SHELL_H

/* Run `cmd` with popen; returns its exit status (-1 when it did not exit
 * normally). Its standard output, NUL-terminated and malloc'd, goes to
 * *out, or is freed when `out` is NULL. */
int ts_shell(const char *cmd, char **out);

/* Run `cmd` (as ts_shell): it exits with `status` and its standard
 * output holds `text`. */
void ts_shell_expect(const char *cmd, int status, const char *text);

/* The whole of the file at `path`, NUL-terminated and malloc'd; the test
 * fails when it cannot be read. */
char *ts_slurp(const char *path);

#endif
