/*
 * blkback_stub.c - TEMPORARY: stands in for sim/backends/blkback.c (being
 * written on branch `blkback`) so that the toolstack links in these tests.
 * CMakeLists.txt compiles it only while sim/backends/blkback.c does not
 * exist. No disk can be created with it.
 */
#include <errno.h>

#include "xensim/blkback.h"

int xsim_blkback_create(struct xsim_world *w, struct xsim_hv *hv, struct xsim_xshost *xs,
                        const struct xsim_blkback_config *cfg, struct xsim_blkback **out)
{
    (void)w;
    (void)hv;
    (void)xs;
    (void)cfg;
    *out = NULL;
    return -ENOSYS;
}

void xsim_blkback_destroy(struct xsim_blkback *b)
{
    (void)b;
}
