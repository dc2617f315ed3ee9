/*
 * hvm_params.h - HVM parameter numbers for HVMOP_set_param/get_param, and
 * the encoding of the event callback in HVM_PARAM_CALLBACK_IRQ.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/hvm/params.h (interface version 0x00040e00). Names and
 * values are Xen's; declarations and comments are our own. x86-64 only;
 * parameters Xen reserves to itself and its toolstack are left out.
 */
#ifndef XENSIM_ABI_HVM_PARAMS_H
#define XENSIM_ABI_HVM_PARAMS_H

#include "xensim/abi/hvm_op.h"

/*
 * How event upcalls for vCPU0 (and, with the vector type, for every vCPU
 * without a per-vCPU vector) are delivered. Value 0 disables them; otherwise
 * bits 63:56 hold the type and the low bits its argument:
 *   GSI:      bits 55:0 a GSI (not 0), driven level-triggered from vCPU0's
 *             evtchn_upcall_pending;
 *   PCI_INTX: bits 47:32 PCI domain, 31:16 bus, 15:8 devfn, 1:0 INTx pin
 *             (0 = INTA), likewise level-triggered;
 *   VECTOR:   bits 7:0 an IDT vector, injected on every vCPU whose
 *             upcall_pending is set at VM entry, without EOI; available
 *             when XENVER_get_features reports XENFEAT_hvm_callback_vector.
 */
#define HVM_PARAM_CALLBACK_IRQ           0
#define HVM_PARAM_CALLBACK_IRQ_TYPE_MASK 0xFF00000000000000ULL
#define HVM_PARAM_CALLBACK_TYPE_GSI      0
#define HVM_PARAM_CALLBACK_TYPE_PCI_INTX 1
#define HVM_PARAM_CALLBACK_TYPE_VECTOR   2

/*
 * Field positions of the callback value, as documented above. Xen's header
 * documents them in a comment only, so these names are xensim's (XG_); the
 * shift matches Linux's HVM_CALLBACK_VIA_TYPE_SHIFT.
 */
#define XG_HVM_CALLBACK_TYPE_SHIFT        56
#define XG_HVM_CALLBACK_GSI_MASK          0x00FFFFFFFFFFFFFFULL
#define XG_HVM_CALLBACK_INTX_DOMAIN_SHIFT 32
#define XG_HVM_CALLBACK_INTX_DOMAIN_MASK  0xFFFFULL
#define XG_HVM_CALLBACK_INTX_BUS_SHIFT    16
#define XG_HVM_CALLBACK_INTX_BUS_MASK     0xFFFFULL
#define XG_HVM_CALLBACK_INTX_DEVFN_SHIFT  8
#define XG_HVM_CALLBACK_INTX_DEVFN_MASK   0xFFULL
#define XG_HVM_CALLBACK_INTX_PIN_MASK     0x3ULL
#define XG_HVM_CALLBACK_VECTOR_MASK       0xFFULL

/* Build a callback value of each type (uint64_t, for xen_hvm_param.value). */
#define XG_HVM_CALLBACK_GSI(gsi)                                                        \
    ((uint64_t)(((uint64_t)HVM_PARAM_CALLBACK_TYPE_GSI << XG_HVM_CALLBACK_TYPE_SHIFT) | \
                ((uint64_t)(gsi)&XG_HVM_CALLBACK_GSI_MASK)))
#define XG_HVM_CALLBACK_PCI_INTX(domain, bus, devfn, pin)                                    \
    ((uint64_t)(((uint64_t)HVM_PARAM_CALLBACK_TYPE_PCI_INTX << XG_HVM_CALLBACK_TYPE_SHIFT) | \
                (((uint64_t)(domain)&XG_HVM_CALLBACK_INTX_DOMAIN_MASK)                       \
                 << XG_HVM_CALLBACK_INTX_DOMAIN_SHIFT) |                                     \
                (((uint64_t)(bus)&XG_HVM_CALLBACK_INTX_BUS_MASK)                             \
                 << XG_HVM_CALLBACK_INTX_BUS_SHIFT) |                                        \
                (((uint64_t)(devfn)&XG_HVM_CALLBACK_INTX_DEVFN_MASK)                         \
                 << XG_HVM_CALLBACK_INTX_DEVFN_SHIFT) |                                      \
                ((uint64_t)(pin)&XG_HVM_CALLBACK_INTX_PIN_MASK)))
#define XG_HVM_CALLBACK_VECTOR(vector)                                                     \
    ((uint64_t)(((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << XG_HVM_CALLBACK_TYPE_SHIFT) | \
                ((uint64_t)(vector)&XG_HVM_CALLBACK_VECTOR_MASK)))
/* The type of a callback value. */
#define XG_HVM_CALLBACK_TYPE(val)                                         \
    ((unsigned int)(((uint64_t)(val)&HVM_PARAM_CALLBACK_IRQ_TYPE_MASK) >> \
                    XG_HVM_CALLBACK_TYPE_SHIFT))

/* Frame and port of the xenstore ring (struct xenstore_domain_interface). */
#define HVM_PARAM_STORE_PFN    1
#define HVM_PARAM_STORE_EVTCHN 2
/* Device model ioreq pages. */
#define HVM_PARAM_IOREQ_PFN    5
#define HVM_PARAM_BUFIOREQ_PFN 6
/* Viridian (Hyper-V) enlightenment mask. */
#define HVM_PARAM_VIRIDIAN 9

/* How emulated timers treat ticks missed while the vCPU was descheduled. */
#define HVM_PARAM_TIMER_MODE             10
#define HVMPTM_delay_for_missed_ticks    0 /* default: deliver them late, time steps */
#define HVMPTM_no_delay_for_missed_ticks 1
#define HVMPTM_no_missed_ticks_pending   2
#define HVMPTM_one_missed_tick_pending   3

#define HVM_PARAM_HPET_ENABLED           11 /* boolean: emulate an HPET */
#define HVM_PARAM_IDENT_PT               12
#define HVM_PARAM_ACPI_S_STATE           14
#define HVM_PARAM_VM86_TSS               15
#define HVM_PARAM_VPT_ALIGN              16
/* Frame and port of the PV console ring. */
#define HVM_PARAM_CONSOLE_PFN           17
#define HVM_PARAM_CONSOLE_EVTCHN        18
#define HVM_PARAM_ACPI_IOPORTS_LOCATION 19
#define HVM_PARAM_PAGING_RING_PFN       27
#define HVM_PARAM_MONITOR_RING_PFN      28
#define HVM_PARAM_SHARING_RING_PFN      29
#define HVM_PARAM_TRIPLE_FAULT_REASON   31 /* SHUTDOWN_* */
#define HVM_PARAM_IOREQ_SERVER_PFN      32
#define HVM_PARAM_NR_IOREQ_SERVER_PAGES 33
#define HVM_PARAM_VM_GENERATION_ID_ADDR 34
#define HVM_PARAM_ALTP2M                35
#define HVM_PARAM_X87_FIP_WIDTH         36
#define HVM_PARAM_VM86_TSS_SIZED        37
#define HVM_PARAM_MCA_CAP               38
#define HVM_NR_PARAMS                   39

_Static_assert(HVM_PARAM_CALLBACK_IRQ_TYPE_MASK == 0xFFULL << XG_HVM_CALLBACK_TYPE_SHIFT,
               "callback type field");
_Static_assert(XG_HVM_CALLBACK_TYPE(XG_HVM_CALLBACK_VECTOR(0xF3)) == HVM_PARAM_CALLBACK_TYPE_VECTOR,
               "callback type round trip");
_Static_assert(XG_HVM_CALLBACK_PCI_INTX(0, 0, 3 << 3, 0) == 0x0100000000001800ULL,
               "PCI INTx callback of device 3, INTA");

#endif /* XENSIM_ABI_HVM_PARAMS_H */
