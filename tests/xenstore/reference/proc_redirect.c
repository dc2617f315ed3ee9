/*
 * proc_redirect.c - preloaded into the reference xenstored: its opens of
 * /proc/xen/xsd_port and /proc/xen/xsd_kva go to files of the same name
 * in $XSIM_REFXS_DIR; every other open is the C library's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*open_fn)(const char *, int, ...);

static const char *redirect(const char *path, char *buf, size_t size)
{
    static const char prefix[] = "/proc/xen/";
    const char *dir = getenv("XSIM_REFXS_DIR"), *name;

    if (dir == NULL || strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return path;
    name = path + sizeof(prefix) - 1;
    if (strcmp(name, "xsd_port") != 0 && strcmp(name, "xsd_kva") != 0)
        return path;
    if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
        return path;
    return buf;
}

int open(const char *path, int flags, ...)
{
    static open_fn next;
    char buf[1024];
    mode_t mode = 0;

    if (next == NULL)
        next = (open_fn)dlsym(RTLD_NEXT, "open");
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return next(redirect(path, buf, sizeof(buf)), flags, mode);
}
