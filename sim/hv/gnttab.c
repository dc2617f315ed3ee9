/*
 * gnttab.c - grant table v1 of the hypervisor model: frames placed by the
 * guest with XENMEM_add_to_physmap(XENMAPSPACE_grant_table), the
 * GNTTABOP_setup_table/query_size/get_version/set_version ops, the
 * backend-side map, unmap and copy, and the audit of mapped entries that
 * the grants oracle reads (see gnttab.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hv_internal.h"
#include "xensim/abi/grant_table.h"
#include "xensim/gnttab.h"

#define ENTRIES_PER_FRAME (XEN_PAGE_SIZE / sizeof(struct grant_entry_v1))
#define MAX_MAPS          0xffff

struct gnt_state {
    unsigned int nr_frames;
    uint64_t frame_gfn[XSIM_GNTTAB_MAX_FRAMES];
    /* Mappings per entry: readers and writers (Xen's pin counts). */
    uint16_t readers[XSIM_GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME];
    uint16_t writers[XSIM_GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME];
    /* While an entry is mapped (readers > 0): the frame and the domain it
     * was mapped for, and whether the audit already reported it. */
    uint32_t map_frame[XSIM_GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME];
    domid_t map_domid[XSIM_GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME];
    bool reported[XSIM_GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME];
};

static struct gnt_state *state(struct xsim_hv_dom *hd)
{
    if (hd->gnttab == NULL)
        hd->gnttab = calloc(1, sizeof(struct gnt_state));
    return hd->gnttab;
}

void xsim__hv_gnttab_free(struct xsim_hv_dom *hd)
{
    free(hd->gnttab);
    hd->gnttab = NULL;
}

long xsim__hv_gnttab_map_frame(struct xsim_hv_dom *hd, uint64_t idx, uint64_t gpfn)
{
    struct gnt_state *gs = state(hd);
    void *page = xsim_domain_gfn_to_ptr(hd->d, gpfn);
    void *old;

    if (gs == NULL)
        return -ENOMEM;
    if (idx >= XSIM_GNTTAB_MAX_FRAMES || page == NULL)
        return -EINVAL;
    old = idx < gs->nr_frames && gs->frame_gfn[idx] != 0
              ? xsim_domain_gfn_to_ptr(hd->d, gs->frame_gfn[idx])
              : NULL;
    /* The frame keeps its entries when it moves; a new frame starts empty. */
    if (old != NULL && old != page)
        memcpy(page, old, XEN_PAGE_SIZE);
    else if (old == NULL)
        memset(page, 0, XEN_PAGE_SIZE);
    gs->frame_gfn[idx] = gpfn;
    if (idx >= gs->nr_frames)
        gs->nr_frames = (unsigned int)idx + 1;
    return 0;
}

static struct grant_entry_v1 *entry(struct xsim_hv_dom *hd, grant_ref_t ref)
{
    struct gnt_state *gs = hd->gnttab;
    uint8_t *frame;

    if (gs == NULL || ref >= gs->nr_frames * ENTRIES_PER_FRAME)
        return NULL;
    if (gs->frame_gfn[ref / ENTRIES_PER_FRAME] == 0)
        return NULL;
    frame = xsim_domain_gfn_to_ptr(hd->d, gs->frame_gfn[ref / ENTRIES_PER_FRAME]);
    if (frame == NULL)
        return NULL;
    return (struct grant_entry_v1 *)frame + ref % ENTRIES_PER_FRAME;
}

/* Validate the entry for `mapper` and set the status bits in one atomic
 * step on the (flags, domid) word, as Xen does, so that a frontend racing
 * to revoke either sees the bits or has already invalidated the entry. */
static int acquire(struct grant_entry_v1 *e, domid_t mapper, bool readonly)
{
    volatile uint32_t *word = (volatile uint32_t *)(void *)e;
    uint32_t old = __atomic_load_n(word, __ATOMIC_SEQ_CST);

    for (;;) {
        uint16_t flags = (uint16_t)(old & 0xffff);
        domid_t domid = (domid_t)(old >> 16);
        uint16_t want = GTF_reading | (readonly ? 0 : GTF_writing);
        if ((flags & GTF_type_mask) != GTF_permit_access || domid != mapper)
            return (flags & GTF_type_mask) != GTF_permit_access ? -EINVAL : -EPERM;
        if (!readonly && (flags & GTF_readonly))
            return -EPERM;
        uint32_t nw = (old & 0xffff0000u) | (uint32_t)(flags | want);
        if (__atomic_compare_exchange_n(word, &old, nw, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return 0;
    }
}

static void release_bits(struct grant_entry_v1 *e, bool clear_reading, bool clear_writing)
{
    uint16_t m = (uint16_t)((clear_reading ? GTF_reading : 0) | (clear_writing ? GTF_writing : 0));

    __atomic_fetch_and(&e->flags, (uint16_t)~m, __ATOMIC_SEQ_CST);
}

static int lookup(struct xsim_hv *hv, domid_t granter, grant_ref_t ref, struct xsim_hv_dom **hd,
                  struct grant_entry_v1 **e)
{
    *hd = xsim__hv_dom(hv, granter);
    if (*hd == NULL)
        return -ESRCH;
    *e = entry(*hd, ref);
    return *e != NULL ? 0 : -EINVAL;
}

/* The audit (gnttab.h): a mapped entry must still say what it said when
 * it was mapped. Xen does not look; the model does, each time it touches
 * the entry, so the first touch after the guest broke it reports it. */
static int audit(struct xsim_hv *hv, struct xsim_hv_dom *hd, grant_ref_t ref,
                 struct grant_entry_v1 *e)
{
    struct gnt_state *gs = hd->gnttab;
    struct xsim_gnttab_audit *a = &hv->gnt_audit;
    uint32_t word = __atomic_load_n((volatile uint32_t *)(void *)e, __ATOMIC_SEQ_CST);
    uint16_t flags = (uint16_t)(word & 0xffff);
    domid_t domid = (domid_t)(word >> 16);
    uint32_t frame = __atomic_load_n(&e->frame, __ATOMIC_SEQ_CST);
    const char *what = NULL;

    if (gs->readers[ref] == 0 || gs->reported[ref])
        return 0;
    if ((flags & GTF_type_mask) != GTF_permit_access || domid != gs->map_domid[ref])
        what = "grant revoked while mapped";
    else if (frame != gs->map_frame[ref])
        what = "frame changed while mapped (mapped before its frame was written?)";
    else if (!(flags & GTF_reading) || (gs->writers[ref] != 0 && !(flags & GTF_writing)))
        what = "in-use bits cleared while mapped";
    if (what == NULL)
        return 0;
    gs->reported[ref] = true;
    if (a->violations++ == 0) {
        a->granter = hd->domid;
        a->ref = ref;
        a->frame = gs->map_frame[ref];
        a->frame_now = frame;
        a->flags_now = flags;
        a->at_ns = xsim_world_now(hv->w);
        a->what = what;
    }
    xsim_trace(hv->w, XSIM_TR_HV, 12 /* grant audit */, hd->domid, ref);
    return -EFAULT;
}

int xsim_gnttab_map(struct xsim_hv *hv, domid_t mapper, domid_t granter, grant_ref_t ref,
                    bool readonly, void **page)
{
    struct xsim_hv_dom *hd;
    struct grant_entry_v1 *e;
    struct gnt_state *gs;
    uint32_t frame;
    void *p;
    int rc = lookup(hv, granter, ref, &hd, &e);

    if (rc != 0)
        return rc;
    gs = hd->gnttab;
    if (gs->readers[ref] == MAX_MAPS || gs->writers[ref] == MAX_MAPS)
        return -EBUSY;
    (void)audit(hv, hd, ref, e);
    rc = acquire(e, mapper, readonly);
    if (rc != 0)
        return rc;
    frame = __atomic_load_n(&e->frame, __ATOMIC_SEQ_CST);
    p = xsim_domain_gfn_to_ptr(hd->d, frame);
    if (p == NULL) {
        /* A grant of a frame the domain does not own. */
        release_bits(e, gs->readers[ref] == 0, !readonly && gs->writers[ref] == 0);
        return -EINVAL;
    }
    if (gs->readers[ref] == 0) {
        gs->map_frame[ref] = frame;
        gs->map_domid[ref] = mapper;
        gs->reported[ref] = false;
    }
    gs->readers[ref]++;
    if (!readonly)
        gs->writers[ref]++;
    hv->gnt_audit.maps++;
    xsim_trace(hv->w, XSIM_TR_HV, 10 /* grant map */, granter, ref);
    *page = p;
    return 0;
}

int xsim_gnttab_unmap(struct xsim_hv *hv, domid_t mapper, domid_t granter, grant_ref_t ref,
                      bool readonly)
{
    struct xsim_hv_dom *hd;
    struct grant_entry_v1 *e;
    struct gnt_state *gs;
    int rc = lookup(hv, granter, ref, &hd, &e);

    if (rc != 0)
        return rc;
    gs = hd->gnttab;
    if (gs->readers[ref] == 0 || (!readonly && gs->writers[ref] == 0))
        return -EINVAL;
    /* The last look at the entry through this mapping. */
    (void)audit(hv, hd, ref, e);
    gs->readers[ref]--;
    if (!readonly)
        gs->writers[ref]--;
    release_bits(e, gs->readers[ref] == 0, gs->writers[ref] == 0);
    xsim_trace(hv->w, XSIM_TR_HV, 11 /* grant unmap */, granter, ref);
    (void)mapper;
    return 0;
}

int xsim_gnttab_copy(struct xsim_hv *hv, domid_t mapper, domid_t granter, grant_ref_t ref,
                     bool to_frame, uint32_t offset, void *buf, uint32_t len)
{
    void *page;
    int rc;

    if (offset > XEN_PAGE_SIZE || len > XEN_PAGE_SIZE - offset)
        return -EINVAL;
    rc = xsim_gnttab_map(hv, mapper, granter, ref, !to_frame, &page);
    if (rc != 0)
        return rc;
    if (to_frame)
        memcpy((uint8_t *)page + offset, buf, len);
    else
        memcpy(buf, (uint8_t *)page + offset, len);
    return xsim_gnttab_unmap(hv, mapper, granter, ref, !to_frame);
}

unsigned int xsim_gnttab_map_count(struct xsim_hv *hv, domid_t granter, grant_ref_t ref)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, granter);
    struct gnt_state *gs = hd != NULL ? hd->gnttab : NULL;

    if (gs == NULL || ref >= XSIM_GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME)
        return 0;
    return gs->readers[ref];
}

int xsim_gnttab_check(struct xsim_hv *hv, domid_t granter, grant_ref_t ref)
{
    struct xsim_hv_dom *hd;
    struct grant_entry_v1 *e;

    if (lookup(hv, granter, ref, &hd, &e) != 0)
        return 0;
    return audit(hv, hd, ref, e);
}

void xsim_gnttab_audit(const struct xsim_hv *hv, struct xsim_gnttab_audit *out)
{
    *out = hv->gnt_audit;
}

/* ---- GNTTABOP ---- */

long xsim__hv_gnttab_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                        unsigned long uop, unsigned long count, unsigned long a4, unsigned long a5)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct gnt_state *gs = hd != NULL ? state(hd) : NULL;

    if (gs == NULL)
        return -ENOMEM;
    if (count != 1)
        return count == 0 ? 0 : -EINVAL; /* one op per call in this model */
    switch (cmd) {
    case GNTTABOP_setup_table: {
        struct gnttab_setup_table st;
        if (xsim__copy_from_guest(d, &st, uop, sizeof(st)) != 0)
            return -EFAULT;
        if (st.dom != DOMID_SELF && st.dom != hd->domid)
            st.status = GNTST_permission_denied;
        else if (st.nr_frames > XSIM_GNTTAB_MAX_FRAMES)
            st.status = GNTST_general_error;
        else {
            /* HVM guests place frames with add_to_physmap; report where
             * they are (0: not placed yet). */
            if (st.nr_frames > gs->nr_frames)
                gs->nr_frames = st.nr_frames;
            unsigned long list = (unsigned long)(uintptr_t)st.frame_list.p;
            st.status = GNTST_okay;
            for (uint32_t i = 0; i < st.nr_frames; i++) {
                xen_pfn_t gfn = gs->frame_gfn[i];
                /* As Xen: a frame list it cannot write is a status. */
                if (xsim__copy_to_guest(d, list + i * sizeof(gfn), &gfn, sizeof(gfn)) != 0) {
                    st.status = GNTST_bad_virt_addr;
                    break;
                }
            }
        }
        return xsim__copy_to_guest(d, uop, &st, sizeof(st));
    }
    case GNTTABOP_query_size: {
        struct gnttab_query_size q;
        if (xsim__copy_from_guest(d, &q, uop, sizeof(q)) != 0)
            return -EFAULT;
        if (q.dom != DOMID_SELF && q.dom != hd->domid) {
            q.status = GNTST_permission_denied;
        } else {
            q.nr_frames = gs->nr_frames;
            q.max_nr_frames = XSIM_GNTTAB_MAX_FRAMES;
            q.status = GNTST_okay;
        }
        return xsim__copy_to_guest(d, uop, &q, sizeof(q));
    }
    case GNTTABOP_get_version: {
        struct gnttab_get_version gv;
        if (xsim__copy_from_guest(d, &gv, uop, sizeof(gv)) != 0)
            return -EFAULT;
        if (gv.dom != DOMID_SELF && gv.dom != hd->domid)
            return -EPERM;
        gv.version = 1;
        return xsim__copy_to_guest(d, uop, &gv, sizeof(gv));
    }
    case GNTTABOP_set_version: {
        struct gnttab_set_version sv;
        if (xsim__copy_from_guest(d, &sv, uop, sizeof(sv)) != 0)
            return -EFAULT;
        /* Only v1 is modelled; a request for v2 is refused like a Xen
         * booted with gnttab=max-ver:1. */
        if (sv.version != 1) {
            sv.version = 1;
            xsim__copy_to_guest(d, uop, &sv, sizeof(sv));
            return -EINVAL;
        }
        return 0;
    }
    default:
        return -ENOSYS;
    }
}
