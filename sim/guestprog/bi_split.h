/*
 * bi_split.h - the built-in guest program's block layer (bi_split.c): I/Os
 * larger than the device's requests carry, cut in parts.
 */
#ifndef XSIM_GUESTPROG_BI_SPLIT_H
#define XSIM_GUESTPROG_BI_SPLIT_H

#include "xensim/guest/xg_blkfront.h"

/* Every backend takes 11 segments: (11 - 1) pages plus one sector, however
 * the buffer is aligned. I/Os up to this size are never cut. */
#define BI_SPLIT_ALWAYS_FITS 81u

struct bi_split_link {
    struct bi_split_link *prev, *next;
};

/* One disk's block layer: the splits and parts in flight. */
struct bi_split_disk {
    const struct xg_platform *p;
    struct xg_blkfront *bf;
    volatile uint32_t lock;
    struct bi_split_link live; /* list head */
};

void bi_split_init(struct bi_split_disk *d, const struct xg_platform *p, struct xg_blkfront *bf);
/* Free what is still in flight (the run is over: no vCPU runs). */
void bi_split_fini(struct bi_split_disk *d);

/* Submit `io` to the disk's blkfront, cut in parts when it is larger than
 * BI_SPLIT_ALWAYS_FITS sectors; as xg_blkfront_submit otherwise: 0 (its
 * done callback runs once, when every part has completed), or a refusal
 * (nothing was submitted). */
int bi_split_submit(struct bi_split_disk *d, struct xg_blk_io *io);

#endif
