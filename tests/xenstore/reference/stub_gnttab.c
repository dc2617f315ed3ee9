/*
 * stub_gnttab.c - libxengnttab for a xenstored without Xen: no domain has
 * a ring to map, so every map fails.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct xengnttab_handle {
    int unused;
};

static struct xengnttab_handle the_handle;

struct xengnttab_handle *xengnttab_open(void *logger, unsigned int flags)
{
    (void)logger;
    (void)flags;
    return &the_handle;
}

int xengnttab_close(struct xengnttab_handle *h)
{
    (void)h;
    return 0;
}

int xengnttab_set_max_grants(struct xengnttab_handle *h, uint32_t count)
{
    (void)h;
    (void)count;
    return 0;
}

void *xengnttab_map_grant_ref(struct xengnttab_handle *h, uint32_t domid, uint32_t ref, int prot)
{
    (void)h;
    (void)domid;
    (void)ref;
    (void)prot;
    errno = ENOENT;
    return NULL;
}

int xengnttab_unmap(struct xengnttab_handle *h, void *addr, uint32_t count)
{
    (void)h;
    (void)addr;
    (void)count;
    return 0;
}
