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

#include "xensim/abi/grant_table.h"
#include "xensim/hv.h"

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

#endif
