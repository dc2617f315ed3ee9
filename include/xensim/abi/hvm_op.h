/*
 * hvm_op.h - the HVM hypercall (__HYPERVISOR_hvm_op): HVM parameters, the
 * per-vCPU event upcall vector, and a few guest hints.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/hvm/hvm_op.h (interface version 0x00040e00). Names and
 * values are Xen's; declarations and comments are our own. x86-64 only;
 * the toolstack and altp2m operations are left out.
 *
 * Arguments: (HVMOP_*, pointer to the op's struct).
 */
#ifndef XENSIM_ABI_HVM_OP_H
#define XENSIM_ABI_HVM_OP_H

#include "xensim/abi/xen.h"

#define HVMOP_set_param                0 /* struct xen_hvm_param */
#define HVMOP_get_param                1 /* struct xen_hvm_param */
#define HVMOP_flush_tlbs               5
#define HVMOP_pagetable_dying          9  /* struct xen_hvm_pagetable_dying */
#define HVMOP_get_time                 10 /* struct xen_hvm_get_time */
#define HVMOP_xentrace                 11
#define HVMOP_get_mem_type             15 /* struct xen_hvm_get_mem_type */
#define HVMOP_set_evtchn_upcall_vector 23 /* struct xen_hvm_evtchn_upcall_vector */
#define HVMOP_guest_request_vm_event   24
#define HVMOP_altp2m                   25

/* Read or write HVM parameter `index` (HVM_PARAM_*) of `domid`. */
struct xen_hvm_param {
    domid_t domid; /* in: DOMID_SELF from a guest */
    uint16_t pad;
    uint32_t index; /* in: HVM_PARAM_* */
    uint64_t value; /* in (set) or out (get) */
};
typedef struct xen_hvm_param xen_hvm_param_t;

/* The guest is about to drop the top-level page table at `gpa`. */
struct xen_hvm_pagetable_dying {
    domid_t domid;
    uint16_t pad[3];
    uint64_t gpa;
};
typedef struct xen_hvm_pagetable_dying xen_hvm_pagetable_dying_t;

struct xen_hvm_get_time {
    uint64_t now; /* out: system time, ns since boot */
};
typedef struct xen_hvm_get_time xen_hvm_get_time_t;

struct xen_hvm_get_mem_type {
    domid_t domid;
    uint16_t mem_type; /* out: hvmmem_type_t */
    uint16_t pad[2];
    uint64_t pfn; /* in */
};
typedef struct xen_hvm_get_mem_type xen_hvm_get_mem_type_t;

/*
 * Deliver `vcpu`'s event upcalls as LAPIC vector `vector`, in preference to
 * the domain-wide HVM_PARAM_CALLBACK_IRQ. Unlike the global vector callback,
 * each upcall must be acknowledged with a LAPIC EOI. Advertised by
 * XEN_HVM_CPUID_UPCALL_VECTOR.
 */
struct xen_hvm_evtchn_upcall_vector {
    uint32_t vcpu;
    uint8_t vector;
};
typedef struct xen_hvm_evtchn_upcall_vector xen_hvm_evtchn_upcall_vector_t;

/* Xen refuses vectors below 0x10 (the exception range) with -EINVAL
 * (xen/arch/x86/hvm/hvm.c, hvmop_set_evtchn_upcall_vector). Not a name from
 * the public headers. */
#define XG_HVM_UPCALL_VECTOR_MIN 0x10

_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param");
_Static_assert(offsetof(struct xen_hvm_param, index) == 4, "xen_hvm_param");
_Static_assert(offsetof(struct xen_hvm_param, value) == 8, "xen_hvm_param");
_Static_assert(sizeof(struct xen_hvm_pagetable_dying) == 16, "xen_hvm_pagetable_dying");
_Static_assert(sizeof(struct xen_hvm_get_time) == 8, "xen_hvm_get_time");
_Static_assert(sizeof(struct xen_hvm_get_mem_type) == 16, "xen_hvm_get_mem_type");
_Static_assert(sizeof(struct xen_hvm_evtchn_upcall_vector) == 8, "upcall_vector");
_Static_assert(offsetof(struct xen_hvm_evtchn_upcall_vector, vector) == 4, "upcall_vector");

#endif /* XENSIM_ABI_HVM_OP_H */
