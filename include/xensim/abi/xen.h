/*
 * xen.h - basic types, hypercall numbers, VIRQs, reserved domain ids, the
 * per-vCPU vcpu_info and the shared_info page of the Xen guest ABI.
 *
 * Written for xensim from the layouts documented in Xen's public headers
 * xen/include/public/xen.h, arch-x86/xen.h and arch-x86/xen-x86_64.h
 * (interface version 0x00040e00, Xen 4.17). Names and values are Xen's, so
 * guest code reads like kernel code and could switch to the canonical
 * headers; the declarations and comments are our own. Only x86-64 layouts
 * are described. tests/abi/ compares every size, offset and constant with
 * the canonical headers.
 *
 * Freestanding: needs only <stddef.h> and <stdint.h>.
 */
#ifndef XENSIM_ABI_XEN_H
#define XENSIM_ABI_XEN_H

#include <stddef.h>
#include <stdint.h>

/* The ABI is the x86-64 one: 64-bit longs and pointers (LP64). */
_Static_assert(sizeof(unsigned long) == 8, "xensim ABI headers need an LP64 target");
_Static_assert(sizeof(void *) == 8, "xensim ABI headers need 64-bit pointers");

/* Basic types. */

/* A machine word as the hypervisor sees it: one bit per port in the 2-level
 * event bitmaps, hypercall argument slots. */
typedef unsigned long xen_ulong_t;
/* A guest frame number (guest physical address >> 12 on HVM). */
typedef unsigned long xen_pfn_t;
typedef uint16_t domid_t;
/* The 16-byte domain handle (UUID) of XENVER_guest_handle. */
typedef uint8_t xen_domain_handle_t[16];

/* Ring protocols and hypercalls always use 4 KiB pages, whatever page size
 * the guest kernel uses (io/ring.h). XEN_PAGE_SIZE is Linux's name. */
#ifndef XEN_PAGE_SHIFT
#define XEN_PAGE_SHIFT 12
#endif
#define XEN_PAGE_SIZE (1UL << XEN_PAGE_SHIFT)

/*
 * Guest handles: how a hypercall argument struct points at guest memory.
 * On x86 a handle is a struct wrapping one pointer (pointer-sized, 8 bytes
 * on x86-64), so a handle to one type cannot be passed where a handle to
 * another is expected. Use XEN_GUEST_HANDLE(type) in declarations and
 * set_xen_guest_handle() to fill one in.
 */
#define XEN_GUEST_HANDLE(name)       xen_guest_handle_##name
#define XEN_GUEST_HANDLE_PARAM(name) XEN_GUEST_HANDLE(name)
#define __DEFINE_XEN_GUEST_HANDLE(name, type) \
    typedef struct {                          \
        type *p;                              \
    } xen_guest_handle_##name;                \
    typedef struct {                          \
        const type *p;                        \
    } xen_guest_handle_const_##name
#define DEFINE_XEN_GUEST_HANDLE(name) __DEFINE_XEN_GUEST_HANDLE(name, name)
#define set_xen_guest_handle_raw(hnd, val) \
    do {                                   \
        (hnd).p = (val);                   \
    } while (0)
#define set_xen_guest_handle(hnd, val) set_xen_guest_handle_raw(hnd, val)

DEFINE_XEN_GUEST_HANDLE(char);
__DEFINE_XEN_GUEST_HANDLE(uchar, unsigned char);
DEFINE_XEN_GUEST_HANDLE(int);
__DEFINE_XEN_GUEST_HANDLE(uint, unsigned int);
DEFINE_XEN_GUEST_HANDLE(void);
DEFINE_XEN_GUEST_HANDLE(uint64_t);
DEFINE_XEN_GUEST_HANDLE(xen_pfn_t);
DEFINE_XEN_GUEST_HANDLE(xen_ulong_t);
__DEFINE_XEN_GUEST_HANDLE(uint8, uint8_t);
__DEFINE_XEN_GUEST_HANDLE(uint16, uint16_t);
__DEFINE_XEN_GUEST_HANDLE(uint32, uint32_t);
__DEFINE_XEN_GUEST_HANDLE(uint64, uint64_t);

/*
 * Hypercall numbers. An HVM guest calls hypercall N by calling offset N * 32
 * in the hypercall page it installed through the MSR that CPUID leaf
 * XEN_CPUID_LEAF(2) names; the simulator passes N to xg_hypercall().
 */
#define __HYPERVISOR_set_trap_table    0
#define __HYPERVISOR_mmu_update        1
#define __HYPERVISOR_set_gdt           2
#define __HYPERVISOR_stack_switch      3
#define __HYPERVISOR_set_callbacks     4
#define __HYPERVISOR_fpu_taskswitch    5
#define __HYPERVISOR_sched_op_compat   6 /* superseded by sched_op */
#define __HYPERVISOR_platform_op       7
#define __HYPERVISOR_set_debugreg      8
#define __HYPERVISOR_get_debugreg      9
#define __HYPERVISOR_update_descriptor 10
/* 11 is unused */
#define __HYPERVISOR_memory_op                     12
#define __HYPERVISOR_multicall                     13
#define __HYPERVISOR_update_va_mapping             14
#define __HYPERVISOR_set_timer_op                  15
#define __HYPERVISOR_event_channel_op_compat       16 /* superseded by event_channel_op */
#define __HYPERVISOR_xen_version                   17
#define __HYPERVISOR_console_io                    18
#define __HYPERVISOR_physdev_op_compat             19 /* superseded by physdev_op */
#define __HYPERVISOR_grant_table_op                20
#define __HYPERVISOR_vm_assist                     21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret                          23
#define __HYPERVISOR_vcpu_op                       24
#define __HYPERVISOR_set_segment_base              25
#define __HYPERVISOR_mmuext_op                     26
#define __HYPERVISOR_xsm_op                        27
#define __HYPERVISOR_nmi_op                        28
#define __HYPERVISOR_sched_op                      29
#define __HYPERVISOR_callback_op                   30
#define __HYPERVISOR_xenoprof_op                   31
#define __HYPERVISOR_event_channel_op              32
#define __HYPERVISOR_physdev_op                    33
#define __HYPERVISOR_hvm_op                        34
#define __HYPERVISOR_sysctl                        35
#define __HYPERVISOR_domctl                        36
#define __HYPERVISOR_kexec_op                      37
#define __HYPERVISOR_tmem_op                       38
#define __HYPERVISOR_argo_op                       39
#define __HYPERVISOR_xenpmu_op                     40
#define __HYPERVISOR_dm_op                         41
#define __HYPERVISOR_hypfs_op                      42
/* 48..55 are left to each architecture. */
#define __HYPERVISOR_arch_0 48
#define __HYPERVISOR_arch_1 49
#define __HYPERVISOR_arch_2 50
#define __HYPERVISOR_arch_3 51
#define __HYPERVISOR_arch_4 52
#define __HYPERVISOR_arch_5 53
#define __HYPERVISOR_arch_6 54
#define __HYPERVISOR_arch_7 55

/*
 * Virtual interrupts, bound to ports with EVTCHNOP_bind_virq. Per-vCPU VIRQs
 * (TIMER, DEBUG, XENOPROF, XENPMU) can be bound once on every vCPU; the
 * others are global and bound on vCPU0.
 */
#define VIRQ_TIMER      0  /* per vCPU: singleshot or periodic timer expired */
#define VIRQ_DEBUG      1  /* per vCPU: dump debug state */
#define VIRQ_CONSOLE    2  /* global, dom0: emergency console input */
#define VIRQ_DOM_EXC    3  /* global, dom0: a domain had an exception */
#define VIRQ_TBUF       4  /* global, dom0: trace buffer records */
#define VIRQ_DEBUGGER   6  /* global, dom0: a domain paused for debugging */
#define VIRQ_XENOPROF   7  /* per vCPU: profiling sample */
#define VIRQ_CON_RING   8  /* global, dom0: console ring input */
#define VIRQ_PCPU_STATE 9  /* global, dom0: physical CPU state changed */
#define VIRQ_MEM_EVENT  10 /* global, dom0: memory event */
#define VIRQ_ARGO       11 /* global: Argo message */
#define VIRQ_ENOMEM     12 /* global, dom0: hypervisor heap low */
#define VIRQ_XENPMU     13 /* per vCPU: PMU interrupt */
#define VIRQ_ARCH_0     16
#define VIRQ_ARCH_1     17
#define VIRQ_ARCH_2     18
#define VIRQ_ARCH_3     19
#define VIRQ_ARCH_4     20
#define VIRQ_ARCH_5     21
#define VIRQ_ARCH_6     22
#define VIRQ_ARCH_7     23
#define NR_VIRQS        24

/* Reserved domain ids: nothing at or above DOMID_FIRST_RESERVED is a real
 * domain. DOMID_SELF names the caller in any domid argument. */
#define DOMID_FIRST_RESERVED 0x7FF0U
#define DOMID_SELF           0x7FF0U
#define DOMID_IO             0x7FF1U
#define DOMID_XEN            0x7FF2U
#define DOMID_COW            0x7FF3U
#define DOMID_INVALID        0x7FF4U
#define DOMID_IDLE           0x7FFFU
#define DOMID_MASK           0x7FFFU

/* vcpu_info slots in shared_info; later vCPUs must register a vcpu_info of
 * their own with VCPUOP_register_vcpu_info. */
#define XEN_LEGACY_MAX_VCPUS 32

/*
 * Per-vCPU time parameters, updated by the hypervisor as a seqlock: version
 * is odd while an update is in progress. A reader takes version, rmb, copies
 * the fields, rmb, and retries if version was odd or has changed. Then
 *   ns = system_time + (((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32
 * with a right shift instead when tsc_shift is negative, and a 96-bit product.
 */
struct vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp; /* TSC when the fields below were sampled */
    uint64_t system_time;   /* ns since boot at tsc_timestamp */
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags; /* XEN_PVCLOCK_* */
    uint8_t pad1[2];
};
typedef struct vcpu_time_info vcpu_time_info_t;

#define XEN_PVCLOCK_TSC_STABLE_BIT (1 << 0) /* TSC is synchronised across vCPUs */
#define XEN_PVCLOCK_GUEST_STOPPED  (1 << 1) /* the guest was paused */

struct arch_vcpu_info {
    unsigned long cr2;
    unsigned long pad; /* keeps vcpu_info at 64 bytes */
};
typedef struct arch_vcpu_info arch_vcpu_info_t;

/*
 * Event delivery state of one vCPU. The hypervisor sets a bit in
 * evtchn_pending_sel for each 64-port word that gained a pending, unmasked
 * port, then sets evtchn_upcall_pending and injects the upcall. The guest
 * clears evtchn_upcall_pending before it swaps evtchn_pending_sel to zero
 * and scans, so that an event arriving during the scan raises a new upcall.
 * evtchn_upcall_mask is the PV interrupt flag; HVM guests leave it at 0 and
 * use the local interrupt flag instead.
 */
struct vcpu_info {
    uint8_t evtchn_upcall_pending;
    uint8_t evtchn_upcall_mask;
    xen_ulong_t evtchn_pending_sel;
    struct arch_vcpu_info arch;
    struct vcpu_time_info time;
};
typedef struct vcpu_info vcpu_info_t;

struct arch_shared_info {
    unsigned long max_pfn; /* PV only: size of the p2m table */
    xen_pfn_t pfn_to_mfn_frame_list_list;
    unsigned long nmi_reason;
    unsigned long p2m_cr3;
    unsigned long p2m_vaddr;
    unsigned long p2m_generation;
};
typedef struct arch_shared_info arch_shared_info_t;

/*
 * The shared info page, mapped by an HVM guest with XENMEM_add_to_physmap
 * (XENMAPSPACE_shared_info). The 2-level event channel ABI lives here: one
 * pending and one mask bit per port, 64 words of 64 bits = 4096 ports. A
 * pending bit is set by the hypervisor and cleared by the guest; a mask bit
 * is written by the guest only. The wall clock (wc_*) is the time of day at
 * system time 0 (wc_sec + (wc_sec_hi << 32) seconds since the epoch, plus
 * wc_nsec), published as a seqlock versioned by wc_version like
 * vcpu_time_info; add the current system time to get the time of day.
 */
struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    xen_ulong_t evtchn_pending[sizeof(xen_ulong_t) * 8];
    xen_ulong_t evtchn_mask[sizeof(xen_ulong_t) * 8];
    uint32_t wc_version;
    uint32_t wc_sec;
    uint32_t wc_nsec;
    uint32_t wc_sec_hi;
    struct arch_shared_info arch;
};
typedef struct shared_info shared_info_t;

/* Portable name of the high word of the wall-clock seconds (on 32-bit x86
 * it lives in arch). */
#define xen_wc_sec_hi wc_sec_hi

_Static_assert(sizeof(domid_t) == 2, "domid_t");
_Static_assert(sizeof(XEN_GUEST_HANDLE(void)) == 8, "guest handle is pointer-sized");
_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info");
_Static_assert(offsetof(struct vcpu_time_info, tsc_timestamp) == 8, "vcpu_time_info");
_Static_assert(offsetof(struct vcpu_time_info, system_time) == 16, "vcpu_time_info");
_Static_assert(offsetof(struct vcpu_time_info, tsc_to_system_mul) == 24, "vcpu_time_info");
_Static_assert(offsetof(struct vcpu_time_info, tsc_shift) == 28, "vcpu_time_info");
_Static_assert(offsetof(struct vcpu_time_info, flags) == 29, "vcpu_time_info");
_Static_assert(sizeof(struct arch_vcpu_info) == 16, "arch_vcpu_info");
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info");
_Static_assert(offsetof(struct vcpu_info, evtchn_upcall_mask) == 1, "vcpu_info");
_Static_assert(offsetof(struct vcpu_info, evtchn_pending_sel) == 8, "vcpu_info");
_Static_assert(offsetof(struct vcpu_info, arch) == 16, "vcpu_info");
_Static_assert(offsetof(struct vcpu_info, time) == 32, "vcpu_info");
_Static_assert(sizeof(struct arch_shared_info) == 48, "arch_shared_info");
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 2048, "shared_info");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 2560, "shared_info");
_Static_assert(offsetof(struct shared_info, wc_version) == 3072, "shared_info");
_Static_assert(offsetof(struct shared_info, wc_sec_hi) == 3084, "shared_info");
_Static_assert(offsetof(struct shared_info, arch) == 3088, "shared_info");
_Static_assert(sizeof(struct shared_info) == 3136, "shared_info");
_Static_assert(sizeof(struct shared_info) <= 4096, "shared_info fits one page");

#endif /* XENSIM_ABI_XEN_H */
