/*
 * gnttab.h - the hypervisor's grant tables (v1), and the backend side's
 * view: map and copy frames a guest granted. Every access is checked as Xen
 * checks it: reference in range, entry type permit_access, granted to the
 * mapping domain, read-only respected; while mapped the entry shows
 * GTF_reading / GTF_writing, which is what lets a frontend refuse to revoke
 * a grant still in use (XSA-396).
 */
#ifndef XENSIM_GNTTAB_H
#define XENSIM_GNTTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/hv.h"
#include "xensim/xen_types.h"

#define XSIM_GNTTAB_MAX_FRAMES 32 /* Xen's default max_grant_frames (4.17) */

/* Map (granter, ref) into `mapper`; *page points at the granted frame.
 * Returns 0, -ESRCH (no such domain), -EINVAL (bad reference or entry),
 * -EPERM (not granted to mapper, or writable map of a read-only grant),
 * -EBUSY (too many mappings of one entry). */
int xsim_gnttab_map(struct xsim_hv *hv, domid_t mapper, domid_t granter, grant_ref_t ref,
                    bool readonly, void **page);
/* Undo one xsim_gnttab_map with the same arguments. */
int xsim_gnttab_unmap(struct xsim_hv *hv, domid_t mapper, domid_t granter, grant_ref_t ref,
                      bool readonly);
/* Copy len bytes at `offset` in the granted frame to (to_frame false) or
 * from (to_frame true) buf. -EINVAL if the range leaves the page. */
int xsim_gnttab_copy(struct xsim_hv *hv, domid_t mapper, domid_t granter, grant_ref_t ref,
                     bool to_frame, uint32_t offset, void *buf, uint32_t len);
/* Current mappings of an entry (tests). */
unsigned int xsim_gnttab_map_count(struct xsim_hv *hv, domid_t granter, grant_ref_t ref);

/*
 * The grant audit: what the model checks that Xen does not. Xen lets a
 * guest overwrite an entry it has granted at any time; while the entry is
 * mapped the mapping stays, pinned by Xen's own active entry, whatever the
 * guest writes. A guest that clears or rewrites an entry a backend holds
 * mapped therefore believes a page free that the backend can still reach
 * (XSA-396), and a backend that maps an entry before its frame is written
 * holds the wrong page. Neither shows in Xen; both show here: every time
 * the model touches a mapped entry (another map of it, an unmap, a check)
 * it compares the entry with what was mapped: still GTF_permit_access for
 * the mapping domain, GTF_reading (and GTF_writing for a writable mapping)
 * still set, the same frame. The first difference per mapping is a
 * violation, recorded with the reference and frame.
 */
struct xsim_gnttab_audit {
    uint64_t maps;       /* successful maps (copies included) */
    uint64_t violations; /* mappings that outlived or lost their grant */
    /* the first violation */
    domid_t granter;
    grant_ref_t ref;
    uint32_t frame;     /* the frame the mapping holds */
    uint32_t frame_now; /* the entry's frame when it was found */
    uint16_t flags_now; /* and its flags */
    uint64_t at_ns;     /* virtual time it was found */
    const char *what;   /* static text */
};
void xsim_gnttab_audit(const struct xsim_hv *hv, struct xsim_gnttab_audit *out);
/* Compare a mapped entry with its mapping now (a backend about to use the
 * page). 0: consistent or not mapped; -EFAULT: a violation (recorded). */
int xsim_gnttab_check(struct xsim_hv *hv, domid_t granter, grant_ref_t ref);

#endif
