/*
 * vcpu.h - the vCPU hypercall (__HYPERVISOR_vcpu_op): bring vCPUs up and
 * down, per-vCPU timers, runstate, vcpu_info placement.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/vcpu.h (interface version 0x00040e00). Names and values
 * are Xen's; declarations and comments are our own. x86-64 only.
 *
 * Arguments: (VCPUOP_*, vcpu id, pointer to the op's struct or NULL).
 */
#ifndef XENSIM_ABI_VCPU_H
#define XENSIM_ABI_VCPU_H

#include "xensim/abi/xen.h"

#define VCPUOP_initialise                     0 /* PV context, or HVM vcpu_hvm_context */
#define VCPUOP_up                             1
#define VCPUOP_down                           2
#define VCPUOP_is_up                          3 /* returns 1 if up, 0 if down */
#define VCPUOP_get_runstate_info              4
#define VCPUOP_register_runstate_memory_area  5
#define VCPUOP_set_periodic_timer             6  /* struct vcpu_set_periodic_timer */
#define VCPUOP_stop_periodic_timer            7  /* NULL */
#define VCPUOP_set_singleshot_timer           8  /* struct vcpu_set_singleshot_timer */
#define VCPUOP_stop_singleshot_timer          9  /* NULL */
#define VCPUOP_register_vcpu_info             10 /* struct vcpu_register_vcpu_info */
#define VCPUOP_send_nmi                       11
#define VCPUOP_get_physid                     12
#define VCPUOP_register_vcpu_time_memory_area 13

/* Scheduler state of a vCPU and the time it spent in each state. */
#define RUNSTATE_running  0
#define RUNSTATE_runnable 1
#define RUNSTATE_blocked  2
#define RUNSTATE_offline  3

struct vcpu_runstate_info {
    int state;                 /* RUNSTATE_* */
    uint64_t state_entry_time; /* system time (ns) the state was entered */
    uint64_t time[4];          /* ns spent in each RUNSTATE_* */
};
typedef struct vcpu_runstate_info vcpu_runstate_info_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_runstate_info_t);

/* Set in state_entry_time while the hypervisor updates a registered copy
 * (only with VMASST_TYPE_runstate_update_flag). */
#define XEN_RUNSTATE_UPDATE (1ULL << 63)

/* Ask the hypervisor to keep a copy of the runstate at this guest address. */
struct vcpu_register_runstate_memory_area {
    union {
        XEN_GUEST_HANDLE(vcpu_runstate_info_t) h;
        struct vcpu_runstate_info *v;
        uint64_t p;
    } addr;
};
typedef struct vcpu_register_runstate_memory_area vcpu_register_runstate_memory_area_t;

/* A periodic VIRQ_TIMER; Xen rejects periods under 1 ms with -EINVAL. */
struct vcpu_set_periodic_timer {
    uint64_t period_ns;
};
typedef struct vcpu_set_periodic_timer vcpu_set_periodic_timer_t;

/*
 * One VIRQ_TIMER at an absolute system time, on the calling vCPU only. With
 * VCPU_SSHOTTMR_future a deadline already past fails with -ETIME and no event;
 * guests should pass flags 0 and get the event at once instead.
 */
struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns;
    uint32_t flags; /* VCPU_SSHOTTMR_* */
};
typedef struct vcpu_set_singleshot_timer vcpu_set_singleshot_timer_t;

#define _VCPU_SSHOTTMR_future (0)
#define VCPU_SSHOTTMR_future  (1U << _VCPU_SSHOTTMR_future)

/* Move this vCPU's vcpu_info to (frame mfn, offset). Once per vCPU; the
 * structure must not cross a page boundary. */
struct vcpu_register_vcpu_info {
    uint64_t mfn;    /* guest frame of the page holding the vcpu_info */
    uint32_t offset; /* byte offset of the vcpu_info within that page */
    uint32_t rsvd;
};
typedef struct vcpu_register_vcpu_info vcpu_register_vcpu_info_t;

struct vcpu_get_physid {
    uint64_t phys_id; /* x86: APIC id in bits 31:0, ACPI id in bits 63:32 */
};
typedef struct vcpu_get_physid vcpu_get_physid_t;

DEFINE_XEN_GUEST_HANDLE(vcpu_time_info_t);

/* Ask the hypervisor to keep a copy of vcpu_time_info at this address. */
struct vcpu_register_time_memory_area {
    union {
        XEN_GUEST_HANDLE(vcpu_time_info_t) h;
        struct vcpu_time_info *v;
        uint64_t p;
    } addr;
};
typedef struct vcpu_register_time_memory_area vcpu_register_time_memory_area_t;

_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "vcpu_runstate_info");
_Static_assert(offsetof(struct vcpu_runstate_info, state_entry_time) == 8, "vcpu_runstate_info");
_Static_assert(offsetof(struct vcpu_runstate_info, time) == 16, "vcpu_runstate_info");
_Static_assert(sizeof(struct vcpu_register_runstate_memory_area) == 8, "runstate area");
_Static_assert(sizeof(struct vcpu_set_periodic_timer) == 8, "vcpu_set_periodic_timer");
_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "vcpu_set_singleshot_timer");
_Static_assert(offsetof(struct vcpu_set_singleshot_timer, flags) == 8, "singleshot flags");
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "vcpu_register_vcpu_info");
_Static_assert(offsetof(struct vcpu_register_vcpu_info, offset) == 8, "register_vcpu_info");
_Static_assert(sizeof(struct vcpu_get_physid) == 8, "vcpu_get_physid");
_Static_assert(sizeof(struct vcpu_register_time_memory_area) == 8, "time memory area");

#endif /* XENSIM_ABI_VCPU_H */
