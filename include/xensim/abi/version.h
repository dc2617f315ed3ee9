/*
 * version.h - the version hypercall (__HYPERVISOR_xen_version): version
 * strings, page size, and the XENFEAT_* feature bits a guest detects at
 * run time.
 *
 * Written for xensim from the layouts documented in Xen's public headers
 * xen/include/public/version.h and features.h (interface version 0x00040e00).
 * Names and values are Xen's; declarations and comments are our own.
 *
 * Arguments: (XENVER_*, pointer to the op's buffer or NULL). All ops return
 * 0 on success except XENVER_version and XENVER_pagesize, which return
 * their answer.
 */
#ifndef XENSIM_ABI_VERSION_H
#define XENSIM_ABI_VERSION_H

#include "xensim/abi/xen.h"

#define XENVER_version      0 /* NULL; returns major << 16 | minor */

#define XENVER_extraversion 1 /* xen_extraversion_t */
typedef char xen_extraversion_t[16];
#define XEN_EXTRAVERSION_LEN (sizeof(xen_extraversion_t))

#define XENVER_compile_info  2 /* struct xen_compile_info */
struct xen_compile_info {
    char compiler[64];
    char compile_by[16];
    char compile_domain[32];
    char compile_date[32];
};
typedef struct xen_compile_info xen_compile_info_t;

#define XENVER_capabilities 3 /* xen_capabilities_info_t: "hvm-3.0-x86_64 ..." */
typedef char xen_capabilities_info_t[1024];
#define XEN_CAPABILITIES_INFO_LEN (sizeof(xen_capabilities_info_t))

#define XENVER_changeset          4 /* xen_changeset_info_t */
typedef char xen_changeset_info_t[64];
#define XEN_CHANGESET_INFO_LEN     (sizeof(xen_changeset_info_t))

#define XENVER_platform_parameters 5 /* struct xen_platform_parameters */
struct xen_platform_parameters {
    xen_ulong_t virt_start; /* PV: start of the hypervisor's hole */
};
typedef struct xen_platform_parameters xen_platform_parameters_t;

/* Feature bits come in 32-bit submaps; submap_idx 0 holds XENFEAT_ 0..31. */
#define XENVER_get_features 6 /* struct xen_feature_info */
struct xen_feature_info {
    unsigned int submap_idx; /* in */
    uint32_t submap;         /* out: bit n = feature submap_idx * 32 + n */
};
typedef struct xen_feature_info xen_feature_info_t;

#define XENVER_pagesize     7 /* NULL; returns the page size */
#define XENVER_guest_handle 8 /* xen_domain_handle_t */
#define XENVER_commandline  9 /* xen_commandline_t */
typedef char xen_commandline_t[1024];

#define XENVER_build_id 10 /* struct xen_build_id */
struct xen_build_id {
    uint32_t len;        /* in: size of buf */
    unsigned char buf[]; /* out: the build id, `len` bytes at most */
};
typedef struct xen_build_id xen_build_id_t;

/* XENVER_get_features bits (features.h). */
#define XENFEAT_writable_page_tables       0
#define XENFEAT_writable_descriptor_tables 1
#define XENFEAT_auto_translated_physmap    2 /* guest frames are not machine frames */
#define XENFEAT_supervisor_mode_kernel     3
#define XENFEAT_pae_pgdir_above_4gb        4
#define XENFEAT_mmu_pt_update_preserve_ad  5
#define XENFEAT_highmem_assist             6
#define XENFEAT_gnttab_map_avail_bits      7
#define XENFEAT_hvm_callback_vector        8  /* HVM_PARAM_CALLBACK_TYPE_VECTOR works */
#define XENFEAT_hvm_safe_pvclock           9  /* vcpu_time_info is usable on HVM */
#define XENFEAT_hvm_pirqs                  10 /* physical IRQs can go through event channels */
#define XENFEAT_dom0                       11
/* 12 was grant_map_identity, withdrawn. */
#define XENFEAT_memory_op_vnode_supported 13
#define XENFEAT_ARM_SMCCC_supported       14
#define XENFEAT_linux_rsdp_unrestricted   15
#define XENFEAT_not_direct_mapped         16
#define XENFEAT_direct_mapped             17
#define XENFEAT_NR_SUBMAPS                1

_Static_assert(sizeof(struct xen_compile_info) == 144, "xen_compile_info");
_Static_assert(sizeof(struct xen_feature_info) == 8, "xen_feature_info");
_Static_assert(sizeof(struct xen_build_id) == 4, "xen_build_id header");
_Static_assert(sizeof(xen_extraversion_t) == 16, "xen_extraversion_t");

#endif /* XENSIM_ABI_VERSION_H */
