/*
 * xg_gnttab.h - the guest side of grant tables (v1): grant a frame to
 * another domain, and end that access safely.
 *
 * Ending access is one atomic step that fails while the other side still
 * has the frame mapped (XSA-396); after such a failure the reference and
 * its page are leaked on purpose, never reused, because the other side may
 * still write to the page. Pages granted to an untrusted backend are zeroed
 * first so that they carry no stale guest data (XSA-403).
 */
#ifndef XENSIM_GUEST_XG_GNTTAB_H
#define XENSIM_GUEST_XG_GNTTAB_H

#include "xensim/abi/grant_table.h"
#include "xensim/guest/xg.h"

#define XG_GNTTAB_MAX_FRAMES 32
#define XG_GNTTAB_PER_FRAME  (4096 / sizeof(struct grant_entry_v1))
#define XG_GNTTAB_MAX_REFS   (XG_GNTTAB_MAX_FRAMES * XG_GNTTAB_PER_FRAME)

struct xg_gnttab {
    struct xg_guest *g;
    struct grant_entry_v1 *frames[XG_GNTTAB_MAX_FRAMES];
    unsigned int nr_frames;
    volatile uint32_t lock;
    uint32_t free_head; /* 0 = none (refs below GNTTAB_NR_RESERVED_ENTRIES are never handed out) */
    uint32_t next[XG_GNTTAB_MAX_REFS];
    uint32_t nfree;
    uint64_t leaked_map[XG_GNTTAB_MAX_REFS / 64]; /* refs given up for good */
    uint64_t granted, ended, leaked;
};

/* Place nr_frames grant frames (XENMEM_add_to_physmap) and build the free
 * list. Call once, after xg_guest_boot. */
int xg_gnttab_init(struct xg_gnttab *gt, struct xg_guest *g, unsigned int nr_frames);
/* After SCHEDOP_shutdown(suspend) returned (CPU 0, nothing granting):
 * nothing for a cancelled suspend; on a new host the frames are placed
 * again (the new table is empty) and every reference is free, leaked
 * ones included. Owners of old grants must grant again. */
int xg_gnttab_resume(struct xg_gnttab *gt, bool new_host);
/* Grant `domid` access to frame `gfn`; -ENOSPC when no reference is free. */
int xg_gnttab_grant(struct xg_gnttab *gt, domid_t domid, uint64_t gfn, bool readonly,
                    grant_ref_t *ref);
/* Grant a page of this guest (zeroed first when the peer is untrusted). */
int xg_gnttab_grant_page(struct xg_gnttab *gt, domid_t domid, void *page, bool readonly,
                         bool untrusted, grant_ref_t *ref);
/* End access: 0 and the reference is free again, or -EBUSY while the peer
 * has the frame mapped (the reference and page are then leaked for good),
 * -EINVAL for a reference that is not granted. */
int xg_gnttab_end_access(struct xg_gnttab *gt, grant_ref_t ref);
/* The entry's flags as the hypervisor left them (GTF_*). */
int xg_gnttab_flags(struct xg_gnttab *gt, grant_ref_t ref, uint16_t *flags);

#endif
