/*
 * blkdev.h - test helper: a storage model and the simulator's block
 * backend over it, in a harness world (harness.h). The block backend and
 * frontend tests start their devices the same way with it. Header only,
 * as it fails through CMocka: include after <cmocka.h>.
 */
#ifndef XSIM_TEST_BLKDEV_H
#define XSIM_TEST_BLKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "xensim/blkback.h"
#include "xensim/storage.h"

/* Create the storage from *sc (a CD-ROM when `cdrom`) into *s, and a block
 * backend over it into *b, configured by *bc or, when bc is NULL, with the
 * backend's defaults. Returns the device's id (virtual-device), for the
 * frontend's configuration. */
static inline uint32_t th_blkback_start(struct th *t, const struct xsim_storage_config *sc,
                                        bool cdrom, const struct xsim_blkback_config *bc,
                                        struct xsim_storage **s, struct xsim_blkback **b)
{
    struct xsim_blkback_config bcfg;

    if (cdrom)
        assert_int_equal(xsim_storage_cdrom_create(sc, s), 0);
    else
        assert_int_equal(xsim_storage_mem_create(sc, s), 0);
    if (bc != NULL)
        bcfg = *bc;
    else
        xsim_blkback_config_init(&bcfg);
    bcfg.storage = *s;
    assert_int_equal(xsim_blkback_create(t->w, t->hv, t->xs, &bcfg, b), 0);
    return bcfg.devid;
}

#endif
