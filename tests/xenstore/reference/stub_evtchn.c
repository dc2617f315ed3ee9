/*
 * stub_evtchn.c - libxenevtchn for a xenstored without Xen: a handle, a
 * file descriptor that never becomes readable, ports that are only
 * numbers. Nothing is ever pending.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>

struct xenevtchn_handle {
    int fd;
};

static struct xenevtchn_handle the_handle = {.fd = -1};
static uint32_t next_port = 16;

struct xenevtchn_handle *xenevtchn_open(void *logger, unsigned int flags)
{
    (void)logger;
    (void)flags;
    if (the_handle.fd < 0)
        the_handle.fd = eventfd(0, EFD_CLOEXEC);
    return the_handle.fd < 0 ? NULL : &the_handle;
}

struct xenevtchn_handle *xenevtchn_fdopen(void *logger, int fd, unsigned int flags)
{
    (void)fd;
    return xenevtchn_open(logger, flags);
}

int xenevtchn_close(struct xenevtchn_handle *h)
{
    (void)h;
    return 0;
}

int xenevtchn_fd(struct xenevtchn_handle *h)
{
    return h != NULL ? h->fd : -EBADF;
}

int xenevtchn_notify(struct xenevtchn_handle *h, uint32_t port)
{
    (void)h;
    (void)port;
    return 0;
}

int xenevtchn_bind_virq(struct xenevtchn_handle *h, unsigned int virq)
{
    (void)h;
    (void)virq;
    return (int)next_port++;
}

int xenevtchn_bind_interdomain(struct xenevtchn_handle *h, uint32_t domid, uint32_t remote)
{
    (void)h;
    (void)domid;
    (void)remote;
    return (int)next_port++;
}

int xenevtchn_unbind(struct xenevtchn_handle *h, uint32_t port)
{
    (void)h;
    (void)port;
    return 0;
}

int xenevtchn_pending(struct xenevtchn_handle *h)
{
    (void)h;
    errno = EAGAIN;
    return -1;
}

int xenevtchn_unmask(struct xenevtchn_handle *h, uint32_t port)
{
    (void)h;
    (void)port;
    return 0;
}
