/*
 * grant_table.h - grant tables: the entries a domain writes to let another
 * domain map or copy one of its pages, and the grant table hypercall
 * (__HYPERVISOR_grant_table_op) both sides use.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/grant_table.h (interface version 0x00040e00). Names and
 * values are Xen's; declarations and comments are our own. x86-64 only.
 *
 * Arguments: (GNTTABOP_*, pointer to an array of the op's structs, count).
 * The hypercall returns 0 or a negative errno for the batch as a whole;
 * each element carries its own GNTST_* status.
 */
#ifndef XENSIM_ABI_GRANT_TABLE_H
#define XENSIM_ABI_GRANT_TABLE_H

#include "xensim/abi/xen.h"

/* Index of an entry in the granting domain's table. */
typedef uint32_t grant_ref_t;

/*
 * Version 1 entry. The granting guest writes frame and domid, then (after a
 * write barrier) flags; the hypervisor sets GTF_reading/GTF_writing while
 * the grantee has the page mapped. To revoke, the guest must change flags
 * from a value without GTF_reading|GTF_writing to 0 in one compare-exchange,
 * and must not reuse the page if that fails.
 */
struct grant_entry_v1 {
    uint16_t flags; /* GTF_* */
    domid_t domid;  /* the domain allowed access */
    uint32_t frame; /* guest frame granted */
};
typedef struct grant_entry_v1 grant_entry_v1_t;

/* Entries a guest must leave to the toolstack (which fills the console and
 * xenstore entries before the guest starts). */
#define GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTTAB_RESERVED_CONSOLE    0
#define GNTTAB_RESERVED_XENSTORE   1

/* Entry type, bits 1:0 of flags. */
#define GTF_invalid         (0U << 0)
#define GTF_permit_access   (1U << 0)
#define GTF_accept_transfer (2U << 0)
#define GTF_transitive      (3U << 0)
#define GTF_type_mask       (3U << 0)
/* Sub-flags of permit_access (and transitive). [G] set by the guest,
 * [X] by the hypervisor. */
#define _GTF_readonly (2)
#define GTF_readonly  (1U << _GTF_readonly) /* [G] map read-only */
#define _GTF_reading  (3)
#define GTF_reading   (1U << _GTF_reading) /* [X] mapped for reading */
#define _GTF_writing  (4)
#define GTF_writing   (1U << _GTF_writing) /* [X] mapped for writing */
#define _GTF_PWT      (5)
#define GTF_PWT       (1U << _GTF_PWT)
#define _GTF_PCD      (6)
#define GTF_PCD       (1U << _GTF_PCD)
#define _GTF_PAT      (7)
#define GTF_PAT       (1U << _GTF_PAT)
#define _GTF_sub_page (8)
#define GTF_sub_page  (1U << _GTF_sub_page) /* v2 only */
/* Sub-flags of accept_transfer; they reuse bits 2 and 3. */
#define _GTF_transfer_committed (2)
#define GTF_transfer_committed  (1U << _GTF_transfer_committed)
#define _GTF_transfer_completed (3)
#define GTF_transfer_completed  (1U << _GTF_transfer_completed)

/* Version 2 entries: the shared header, and 16-byte entries. */
struct grant_entry_header {
    uint16_t flags;
    domid_t domid;
};
typedef struct grant_entry_header grant_entry_header_t;

union grant_entry_v2 {
    grant_entry_header_t hdr;
    struct {
        grant_entry_header_t hdr;
        uint32_t pad0;
        uint64_t frame;
    } full_page;
    struct {
        grant_entry_header_t hdr;
        uint16_t page_off;
        uint16_t length;
        uint64_t frame;
    } sub_page;
    struct {
        grant_entry_header_t hdr;
        domid_t trans_domid;
        uint16_t pad0;
        grant_ref_t gref;
    } transitive;
    uint32_t __spacer[4]; /* 16 bytes, a power of two */
};
typedef union grant_entry_v2 grant_entry_v2_t;

typedef uint16_t grant_status_t;

#define GNTTABOP_map_grant_ref     0
#define GNTTABOP_unmap_grant_ref   1
#define GNTTABOP_setup_table       2
#define GNTTABOP_dump_table        3
#define GNTTABOP_transfer          4
#define GNTTABOP_copy              5
#define GNTTABOP_query_size        6
#define GNTTABOP_unmap_and_replace 7
#define GNTTABOP_set_version       8
#define GNTTABOP_get_status_frames 9
#define GNTTABOP_get_version       10
#define GNTTABOP_swap_grant_ref    11
#define GNTTABOP_cache_flush       12

/* Handle of a mapping, returned by map and given back to unmap. */
typedef uint32_t grant_handle_t;

/* Map grant `ref` of domain `dom` at host_addr (GNTMAP_host_map) or for
 * device access (GNTMAP_device_map). */
struct gnttab_map_grant_ref {
    uint64_t host_addr;    /* in */
    uint32_t flags;        /* in: GNTMAP_* */
    grant_ref_t ref;       /* in */
    domid_t dom;           /* in */
    int16_t status;        /* out: GNTST_* */
    grant_handle_t handle; /* out */
    uint64_t dev_bus_addr; /* out */
};
typedef struct gnttab_map_grant_ref gnttab_map_grant_ref_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_map_grant_ref_t);

struct gnttab_unmap_grant_ref {
    uint64_t host_addr;    /* in */
    uint64_t dev_bus_addr; /* in */
    grant_handle_t handle; /* in */
    int16_t status;        /* out: GNTST_* */
};
typedef struct gnttab_unmap_grant_ref gnttab_unmap_grant_ref_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_unmap_grant_ref_t);

/* Grow the table of `dom` to nr_frames frames and list their frame numbers
 * (an HVM guest maps them with XENMAPSPACE_grant_table instead). */
struct gnttab_setup_table {
    domid_t dom;                            /* in */
    uint32_t nr_frames;                     /* in */
    int16_t status;                         /* out: GNTST_* */
    XEN_GUEST_HANDLE(xen_pfn_t) frame_list; /* out */
};
typedef struct gnttab_setup_table gnttab_setup_table_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_setup_table_t);

struct gnttab_dump_table {
    domid_t dom;    /* in */
    int16_t status; /* out: GNTST_* */
};
typedef struct gnttab_dump_table gnttab_dump_table_t;

struct gnttab_transfer {
    xen_pfn_t mfn;   /* in */
    domid_t domid;   /* in */
    grant_ref_t ref; /* in */
    int16_t status;  /* out: GNTST_* */
};
typedef struct gnttab_transfer gnttab_transfer_t;

/* flags of struct gnttab_copy: which sides are grant references (else a
 * frame of the caller). */
#define _GNTCOPY_source_gref (0)
#define GNTCOPY_source_gref  (1 << _GNTCOPY_source_gref)
#define _GNTCOPY_dest_gref   (1)
#define GNTCOPY_dest_gref    (1 << _GNTCOPY_dest_gref)

/* Copy len bytes between two pages without mapping them; neither side may
 * cross its page boundary. */
struct gnttab_copy {
    struct gnttab_copy_ptr {
        union {
            grant_ref_t ref; /* with GNTCOPY_*_gref */
            xen_pfn_t gmfn;  /* without */
        } u;
        domid_t domid;
        uint16_t offset;
    } source, dest;
    uint16_t len;
    uint16_t flags; /* GNTCOPY_* */
    int16_t status; /* out: GNTST_* */
};
typedef struct gnttab_copy gnttab_copy_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_copy_t);

struct gnttab_query_size {
    domid_t dom;            /* in */
    uint32_t nr_frames;     /* out */
    uint32_t max_nr_frames; /* out */
    int16_t status;         /* out: GNTST_* */
};
typedef struct gnttab_query_size gnttab_query_size_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_query_size_t);

struct gnttab_unmap_and_replace {
    uint64_t host_addr;    /* in */
    uint64_t new_addr;     /* in */
    grant_handle_t handle; /* in */
    int16_t status;        /* out: GNTST_* */
};
typedef struct gnttab_unmap_and_replace gnttab_unmap_and_replace_t;

/* Select grant table version 1 or 2 (before any grant is in use). */
struct gnttab_set_version {
    uint32_t version; /* in: 1 or 2; out: the version in force */
};
typedef struct gnttab_set_version gnttab_set_version_t;

struct gnttab_get_status_frames {
    uint32_t nr_frames;                    /* in */
    domid_t dom;                           /* in */
    int16_t status;                        /* out: GNTST_* */
    XEN_GUEST_HANDLE(uint64_t) frame_list; /* out */
};
typedef struct gnttab_get_status_frames gnttab_get_status_frames_t;

struct gnttab_get_version {
    domid_t dom; /* in */
    uint16_t pad;
    uint32_t version; /* out */
};
typedef struct gnttab_get_version gnttab_get_version_t;

struct gnttab_swap_grant_ref {
    grant_ref_t ref_a; /* in */
    grant_ref_t ref_b; /* in */
    int16_t status;    /* out: GNTST_* */
};
typedef struct gnttab_swap_grant_ref gnttab_swap_grant_ref_t;

struct gnttab_cache_flush {
    union {
        uint64_t dev_bus_addr;
        grant_ref_t ref;
    } a;
    uint16_t offset;
    uint16_t length;
    uint32_t op; /* GNTTAB_CACHE_* */
};
typedef struct gnttab_cache_flush gnttab_cache_flush_t;
#define GNTTAB_CACHE_CLEAN       (1u << 0)
#define GNTTAB_CACHE_INVAL       (1u << 1)
#define GNTTAB_CACHE_SOURCE_GREF (1u << 31)

/* flags of struct gnttab_map_grant_ref. */
#define _GNTMAP_device_map      (0)
#define GNTMAP_device_map       (1 << _GNTMAP_device_map)
#define _GNTMAP_host_map        (1)
#define GNTMAP_host_map         (1 << _GNTMAP_host_map)
#define _GNTMAP_readonly        (2)
#define GNTMAP_readonly         (1 << _GNTMAP_readonly)
#define _GNTMAP_application_map (3)
#define GNTMAP_application_map  (1 << _GNTMAP_application_map)
#define _GNTMAP_contains_pte    (4)
#define GNTMAP_contains_pte     (1 << _GNTMAP_contains_pte)
/* Bits 16 and up are left to the guest (XENFEAT_gnttab_map_avail_bits). */
#define _GNTMAP_guest_avail0    (16)
#define GNTMAP_guest_avail_mask ((uint32_t)~0 << _GNTMAP_guest_avail0)

/* Per-element status of grant table operations. */
#define GNTST_okay              (0)
#define GNTST_general_error     (-1)
#define GNTST_bad_domain        (-2)
#define GNTST_bad_gntref        (-3)
#define GNTST_bad_handle        (-4)
#define GNTST_bad_virt_addr     (-5)
#define GNTST_bad_dev_addr      (-6)
#define GNTST_no_device_space   (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page          (-9)
#define GNTST_bad_copy_arg      (-10) /* the copy crosses a page boundary */
#define GNTST_address_too_big   (-11)
#define GNTST_eagain            (-12)
#define GNTST_no_space          (-13)

_Static_assert(sizeof(grant_ref_t) == 4, "grant_ref_t");
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1");
_Static_assert(offsetof(struct grant_entry_v1, domid) == 2, "grant_entry_v1");
_Static_assert(offsetof(struct grant_entry_v1, frame) == 4, "grant_entry_v1");
_Static_assert(sizeof(union grant_entry_v2) == 16, "grant_entry_v2");
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "gnttab_map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, status) == 18, "gnttab_map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, handle) == 20, "gnttab_map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, dev_bus_addr) == 24, "map_grant_ref");
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "gnttab_unmap_grant_ref");
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "gnttab_setup_table");
_Static_assert(offsetof(struct gnttab_setup_table, frame_list) == 16, "gnttab_setup_table");
_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy");
_Static_assert(offsetof(struct gnttab_copy, dest) == 16, "gnttab_copy");
_Static_assert(offsetof(struct gnttab_copy, len) == 32, "gnttab_copy");
_Static_assert(offsetof(struct gnttab_copy, status) == 36, "gnttab_copy");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "gnttab_query_size");
_Static_assert(sizeof(struct gnttab_set_version) == 4, "gnttab_set_version");
_Static_assert(sizeof(struct gnttab_get_version) == 8, "gnttab_get_version");
_Static_assert(sizeof(struct gnttab_get_status_frames) == 16, "gnttab_get_status_frames");
_Static_assert(sizeof(struct gnttab_cache_flush) == 16, "gnttab_cache_flush");

#endif /* XENSIM_ABI_GRANT_TABLE_H */
