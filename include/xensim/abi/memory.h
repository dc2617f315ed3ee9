/*
 * memory.h - the memory hypercall (__HYPERVISOR_memory_op): growing and
 * shrinking the guest's memory, and mapping hypervisor pages (shared_info,
 * grant table frames) into its physical address space.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/memory.h (interface version 0x00040e00). Names and
 * values are Xen's; declarations and comments are our own. x86-64 only;
 * the toolstack-only operations (claim_pages, paging, sharing, access, ...)
 * are left out.
 *
 * Arguments: (XENMEM_*, pointer to the op's struct). Reservation ops return
 * the number of extents done, which may be fewer than asked.
 */
#ifndef XENSIM_ABI_MEMORY_H
#define XENSIM_ABI_MEMORY_H

#include "xensim/abi/xen.h"

#define XENMEM_increase_reservation     0 /* struct xen_memory_reservation */
#define XENMEM_decrease_reservation     1 /* struct xen_memory_reservation */
#define XENMEM_maximum_ram_page         2
#define XENMEM_current_reservation      3 /* domid_t */
#define XENMEM_maximum_reservation      4 /* domid_t */
#define XENMEM_machphys_mfn_list        5
#define XENMEM_populate_physmap         6 /* struct xen_memory_reservation */
#define XENMEM_add_to_physmap           7 /* struct xen_add_to_physmap */
#define XENMEM_memory_map               9 /* struct xen_memory_map */
#define XENMEM_machine_memory_map       10
#define XENMEM_exchange                 11 /* struct xen_memory_exchange */
#define XENMEM_machphys_mapping         12
#define XENMEM_set_memory_map           13
#define XENMEM_maximum_gpfn             14 /* domid_t */
#define XENMEM_remove_from_physmap      15 /* struct xen_remove_from_physmap */
#define XENMEM_set_pod_target           16
#define XENMEM_get_pod_target           17
#define XENMEM_add_to_physmap_batch     23 /* struct xen_add_to_physmap_batch */
#define XENMEM_machphys_compat_mfn_list 25
#define XENMEM_get_vnumainfo            26
#define XENMEM_acquire_resource         28

/* mem_flags of struct xen_memory_reservation: address width limit in bits
 * 7:0, NUMA node + 1 in bits 15:8, and flags above. */
#define XENMEMF_address_bits(x)     (x)
#define XENMEMF_get_address_bits(x) ((x)&0xffu)
#define XENMEMF_node(x)             (((x) + 1) << 8)
#define XENMEMF_get_node(x)         ((((x) >> 8) - 1) & 0xffu)
#define XENMEMF_populate_on_demand  (1 << 16)
#define XENMEMF_exact_node_request  (1 << 17)
#define XENMEMF_exact_node(n)       (XENMEMF_node(n) | XENMEMF_exact_node_request)
#define XENMEMF_vnode               (1 << 18)

/*
 * Add (increase, populate) or remove (decrease) nr_extents extents of
 * 2^extent_order pages. extent_start lists guest frame numbers: for
 * populate_physmap and decrease_reservation the frames to fill or free;
 * increase_reservation writes the frames it allocated.
 */
struct xen_memory_reservation {
    XEN_GUEST_HANDLE(xen_pfn_t) extent_start;
    xen_ulong_t nr_extents;
    unsigned int extent_order;
    unsigned int mem_flags; /* XENMEMF_* */
    domid_t domid;          /* DOMID_SELF from a guest */
};
typedef struct xen_memory_reservation xen_memory_reservation_t;
DEFINE_XEN_GUEST_HANDLE(xen_memory_reservation_t);

/* Swap the extents of `in` for new ones described by `out`. */
struct xen_memory_exchange {
    struct xen_memory_reservation in;
    struct xen_memory_reservation out;
    xen_ulong_t nr_exchanged; /* out: input extents done */
};
typedef struct xen_memory_exchange xen_memory_exchange_t;

struct xen_memory_domain {
    domid_t domid;
};

/* Spaces a page can be mapped from by XENMEM_add_to_physmap. */
#define XENMAPSPACE_shared_info  0 /* idx 0: the shared_info page */
#define XENMAPSPACE_grant_table  1 /* idx: grant table frame (| XENMAPIDX_grant_table_status) */
#define XENMAPSPACE_gmfn         2 /* idx: another guest frame, moved */
#define XENMAPSPACE_gmfn_range   3 /* size frames from idx */
#define XENMAPSPACE_gmfn_foreign 4 /* a frame of another domain */
#define XENMAPSPACE_dev_mmio     5 /* Arm only */

/* Or'ed into idx with XENMAPSPACE_grant_table: map a v2 status frame. */
#define XENMAPIDX_grant_table_status 0x80000000

/* Map page `idx` of `space` at guest frame `gpfn`. */
struct xen_add_to_physmap {
    domid_t domid;
    uint16_t size;      /* frames, for XENMAPSPACE_gmfn_range */
    unsigned int space; /* XENMAPSPACE_* */
    xen_ulong_t idx;
    xen_pfn_t gpfn;
};
typedef struct xen_add_to_physmap xen_add_to_physmap_t;
DEFINE_XEN_GUEST_HANDLE(xen_add_to_physmap_t);

/* add_to_physmap for `size` pages at once, with an error per page. */
struct xen_add_to_physmap_batch {
    domid_t domid;
    uint16_t space; /* XENMAPSPACE_* */
    uint16_t size;
    union xen_add_to_physmap_batch_extra {
        domid_t foreign_domid; /* XENMAPSPACE_gmfn_foreign */
        uint16_t res0;         /* other spaces: 0 */
    } u;
    XEN_GUEST_HANDLE(xen_ulong_t) idxs;
    XEN_GUEST_HANDLE(xen_pfn_t) gpfns;
    XEN_GUEST_HANDLE(int) errs; /* out: 0 or -errno per page */
};
typedef struct xen_add_to_physmap_batch xen_add_to_physmap_batch_t;

/* Unmap whatever is at guest frame `gpfn` (undoes add_to_physmap). */
struct xen_remove_from_physmap {
    domid_t domid;
    xen_pfn_t gpfn;
};
typedef struct xen_remove_from_physmap xen_remove_from_physmap_t;

/* The guest's E820-style memory map (entries as in hvm/e820.h). */
struct xen_memory_map {
    unsigned int nr_entries; /* in: buffer capacity, out: entries written */
    XEN_GUEST_HANDLE(void) buffer;
};
typedef struct xen_memory_map xen_memory_map_t;

struct xen_foreign_memory_map {
    domid_t domid;
    struct xen_memory_map map;
};
typedef struct xen_foreign_memory_map xen_foreign_memory_map_t;

_Static_assert(sizeof(struct xen_memory_reservation) == 32, "xen_memory_reservation");
_Static_assert(offsetof(struct xen_memory_reservation, nr_extents) == 8, "reservation");
_Static_assert(offsetof(struct xen_memory_reservation, extent_order) == 16, "reservation");
_Static_assert(offsetof(struct xen_memory_reservation, mem_flags) == 20, "reservation");
_Static_assert(offsetof(struct xen_memory_reservation, domid) == 24, "reservation");
_Static_assert(sizeof(struct xen_memory_exchange) == 72, "xen_memory_exchange");
_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "xen_add_to_physmap");
_Static_assert(offsetof(struct xen_add_to_physmap, space) == 4, "xen_add_to_physmap");
_Static_assert(offsetof(struct xen_add_to_physmap, idx) == 8, "xen_add_to_physmap");
_Static_assert(offsetof(struct xen_add_to_physmap, gpfn) == 16, "xen_add_to_physmap");
_Static_assert(sizeof(struct xen_add_to_physmap_batch) == 32, "xen_add_to_physmap_batch");
_Static_assert(offsetof(struct xen_add_to_physmap_batch, idxs) == 8, "add_to_physmap_batch");
_Static_assert(sizeof(struct xen_remove_from_physmap) == 16, "xen_remove_from_physmap");
_Static_assert(offsetof(struct xen_remove_from_physmap, gpfn) == 8, "remove_from_physmap");
_Static_assert(sizeof(struct xen_memory_map) == 16, "xen_memory_map");
_Static_assert(sizeof(struct xen_foreign_memory_map) == 24, "xen_foreign_memory_map");

#endif /* XENSIM_ABI_MEMORY_H */
