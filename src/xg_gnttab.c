/*
 * xg_gnttab.c - guest grant tables v1: grant, end access atomically, never
 * reuse what a peer may still write (XSA-396), zero before granting to an
 * untrusted peer (XSA-403).
 */
#include <errno.h>
#include <string.h>

#include "xensim/abi/memory.h"
#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_gnttab.h"
#include "xg_mutant.h"

static struct grant_entry_v1 *entry(struct xg_gnttab *gt, grant_ref_t ref)
{
    return &gt->frames[ref / XG_GNTTAB_PER_FRAME][ref % XG_GNTTAB_PER_FRAME];
}

static long place_frame(const struct xg_platform *p, unsigned int idx, uint64_t gfn)
{
    struct xen_add_to_physmap atp;

    memset(&atp, 0, sizeof(atp));
    atp.domid = DOMID_SELF;
    atp.space = XENMAPSPACE_grant_table;
    atp.idx = idx;
    atp.gpfn = gfn;
    return xg_hypercall(p, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&atp, 0);
}

static void build_free_list(struct xg_gnttab *gt)
{
    gt->free_head = 0;
    gt->nfree = 0;
    /* The first entries are the toolstack's (xenstore, console). */
    for (uint32_t r = (uint32_t)(gt->nr_frames * XG_GNTTAB_PER_FRAME) - 1;
         r >= GNTTAB_NR_RESERVED_ENTRIES; r--) {
        gt->next[r] = gt->free_head;
        gt->free_head = r;
        gt->nfree++;
    }
}

int xg_gnttab_resume(struct xg_gnttab *gt, bool new_host)
{
    const struct xg_platform *p;

    if (gt->g == NULL)
        return -EINVAL;
    if (!new_host)
        return 0; /* same host: every grant is still in place */
    p = gt->g->p;
    /* The new host's table is empty: place the same frames again, and
     * every reference is free, even those leaked on the old host (the
     * peer that might still have mapped them is gone). */
    for (unsigned int i = 0; i < gt->nr_frames; i++) {
        long rc;
        memset(gt->frames[i], 0, 4096);
        rc = XG_MUTATED(23) ? 0 : place_frame(p, i, p->ops->virt_to_gfn(p->ctx, gt->frames[i]));
        if (rc != 0)
            return (int)rc;
    }
    memset(gt->leaked_map, 0, sizeof(gt->leaked_map));
    build_free_list(gt);
    return 0;
}

int xg_gnttab_init(struct xg_gnttab *gt, struct xg_guest *g, unsigned int nr_frames)
{
    const struct xg_platform *p = g->p;

    if (nr_frames == 0 || nr_frames > XG_GNTTAB_MAX_FRAMES)
        return -EINVAL;
    memset(gt, 0, sizeof(*gt));
    gt->g = g;
    for (unsigned int i = 0; i < nr_frames; i++) {
        uint64_t gfn;
        void *page = xg_page_alloc(p, &gfn);
        long rc;
        if (page == NULL)
            return -ENOMEM;
        rc = place_frame(p, i, gfn);
        if (rc != 0)
            return (int)rc;
        gt->frames[i] = page;
        gt->nr_frames = i + 1;
    }
    build_free_list(gt);
    return 0;
}

int xg_gnttab_grant(struct xg_gnttab *gt, domid_t domid, uint64_t gfn, bool readonly,
                    grant_ref_t *ref)
{
    const struct xg_platform *p = gt->g->p;
    struct grant_entry_v1 *e;
    uint32_t r;

    if (gfn > UINT32_MAX)
        return -EINVAL;
    xg_spin_lock(p, &gt->lock);
    r = gt->free_head;
    if (r == 0) {
        xg_spin_unlock(p, &gt->lock);
        return -ENOSPC;
    }
    gt->free_head = gt->next[r];
    gt->nfree--;
    gt->granted++;
    xg_spin_unlock(p, &gt->lock);
    e = entry(gt, r);
    if (XG_MUTATED(14))
        xg_write_u16(p, &e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)));
    xg_write_u32(p, &e->frame, (uint32_t)gfn);
    xg_write_u16(p, &e->domid, domid);
    /* The peer may map as soon as the type is valid: frame and domid must
     * be visible first. */
    xg_wmb(p);
    xg_write_u16(p, &e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)));
    *ref = r;
    return 0;
}

int xg_gnttab_grant_page(struct xg_gnttab *gt, domid_t domid, void *page, bool readonly,
                         bool untrusted, grant_ref_t *ref)
{
    const struct xg_platform *p = gt->g->p;
    uint64_t gfn = p->ops->virt_to_gfn(p->ctx, page);

    if (gfn == UINT64_MAX)
        return -EINVAL;
    if (untrusted)
        memset(page, 0, 4096);
    return xg_gnttab_grant(gt, domid, gfn, readonly, ref);
}

int xg_gnttab_end_access(struct xg_gnttab *gt, grant_ref_t ref)
{
    const struct xg_platform *p = gt->g->p;
    struct grant_entry_v1 *e;
    uint16_t flags;

    if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= gt->nr_frames * XG_GNTTAB_PER_FRAME)
        return -EINVAL;
    /* A reference given up once stays given up: the peer may still hold
     * the page, and a later success would put it back in circulation. */
    if ((gt->leaked_map[ref / 64] >> (ref % 64)) & 1)
        return -EBUSY;
    e = entry(gt, ref);
    flags = xg_read_u16(p, &e->flags);
    do {
        if ((flags & GTF_type_mask) != GTF_permit_access)
            return -EINVAL;
        /* XSA-396: one atomic step. If the peer has it mapped, or maps it
         * between our read and the exchange, revocation fails. */
        if (flags & (GTF_reading | GTF_writing)) {
            gt->leaked_map[ref / 64] |= (uint64_t)1 << (ref % 64);
            gt->leaked++;
            return -EBUSY;
        }
        if (XG_MUTATED(15)) {
            /* read, test, then a plain store: a map in between is lost */
            xg_write_u16(p, &e->flags, 0);
            break;
        }
    } while (!xg_cmpxchg_u16(p, &e->flags, &flags, 0));
    xg_spin_lock(p, &gt->lock);
    gt->next[ref] = gt->free_head;
    gt->free_head = ref;
    gt->nfree++;
    gt->ended++;
    xg_spin_unlock(p, &gt->lock);
    return 0;
}

int xg_gnttab_flags(struct xg_gnttab *gt, grant_ref_t ref, uint16_t *flags)
{
    if (ref >= gt->nr_frames * XG_GNTTAB_PER_FRAME)
        return -EINVAL;
    *flags = xg_read_u16(gt->g->p, &entry(gt, ref)->flags);
    return 0;
}
