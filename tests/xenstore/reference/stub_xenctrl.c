/*
 * stub_xenctrl.c - libxenctrl for a xenstored without Xen: an interface
 * handle, and no domain information (the daemon then knows only the
 * domains it was told of, none here).
 */
struct xc_interface_core {
    int unused;
};

static struct xc_interface_core the_handle;

struct xc_interface_core *xc_interface_open(void *logger, void *dombuild_logger,
                                            unsigned int flags)
{
    (void)logger;
    (void)dombuild_logger;
    (void)flags;
    return &the_handle;
}

int xc_interface_close(struct xc_interface_core *xch)
{
    (void)xch;
    return 0;
}

int xc_domain_getinfo(struct xc_interface_core *xch, unsigned int first, unsigned int max,
                      void *info)
{
    (void)xch;
    (void)first;
    (void)max;
    (void)info;
    return 0;
}
