/*
 * error.h - caller-allocated error report for everything xensim reads from a
 * file or a client: scenarios, cost profiles, replay files.
 */
#ifndef XENSIM_ERROR_H
#define XENSIM_ERROR_H

struct xsim_error {
    char file[256]; /* source name ("<string>" when not from a file) */
    int line;       /* 1-based; 0 when unknown */
    int column;     /* 1-based; 0 when unknown */
    char text[512]; /* what was wrong and what was expected */
};

/* Fill `err` (if not NULL); returns -EINVAL for convenient tail calls. */
int xsim_error_set(struct xsim_error *err, const char *file, int line, int column, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

/* Format as "file:line:column: text" into buf; returns buf. */
const char *xsim_error_format(const struct xsim_error *err, char *buf, unsigned long size);

#endif
