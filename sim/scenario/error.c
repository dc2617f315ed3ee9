/* error.c - filling and formatting struct xsim_error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xensim/error.h"

int xsim_error_set(struct xsim_error *err, const char *file, int line, int column, const char *fmt,
                   ...)
{
    va_list ap;

    if (err == NULL)
        return -EINVAL;
    snprintf(err->file, sizeof(err->file), "%s", file != NULL ? file : "<string>");
    err->line = line;
    err->column = column;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

const char *xsim_error_format(const struct xsim_error *err, char *buf, unsigned long size)
{
    if (err->line > 0)
        snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->column, err->text);
    else
        snprintf(buf, size, "%s: %s", err->file, err->text);
    return buf;
}
