/*
 * event_channel.h - the event channel hypercall (__HYPERVISOR_event_channel_op)
 * and the FIFO event channel ABI.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/event_channel.h (interface version 0x00040e00). Names
 * and values are Xen's; declarations and comments are our own. x86-64 only.
 *
 * The hypercall's first argument is an EVTCHNOP_* number, its second a
 * pointer to that op's struct (EVTCHNOP_send: struct evtchn_send). Results
 * are 0 or a negative errno.
 */
#ifndef XENSIM_ABI_EVENT_CHANNEL_H
#define XENSIM_ABI_EVENT_CHANNEL_H

#include "xensim/abi/xen.h"

#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq        1
#define EVTCHNOP_bind_pirq        2
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_bind_ipi         7
#define EVTCHNOP_bind_vcpu        8
#define EVTCHNOP_unmask           9
#define EVTCHNOP_reset            10
#define EVTCHNOP_init_control     11
#define EVTCHNOP_expand_array     12
#define EVTCHNOP_set_priority     13

typedef uint32_t evtchn_port_t;
DEFINE_XEN_GUEST_HANDLE(evtchn_port_t);

/* Allocate a port in `dom` that `remote_dom` may later bind to. */
struct evtchn_alloc_unbound {
    domid_t dom, remote_dom; /* in */
    evtchn_port_t port;      /* out */
};
typedef struct evtchn_alloc_unbound evtchn_alloc_unbound_t;

/* Connect a new local port to an unbound port of another domain. The new
 * local port is left pending. */
struct evtchn_bind_interdomain {
    domid_t remote_dom;        /* in */
    evtchn_port_t remote_port; /* in */
    evtchn_port_t local_port;  /* out */
};
typedef struct evtchn_bind_interdomain evtchn_bind_interdomain_t;

/* Bind a VIRQ_* to a new port notifying `vcpu`. */
struct evtchn_bind_virq {
    uint32_t virq;      /* in: VIRQ_* */
    uint32_t vcpu;      /* in */
    evtchn_port_t port; /* out */
};
typedef struct evtchn_bind_virq evtchn_bind_virq_t;

/* Bind a physical IRQ (a PIRQ number) to a new port. */
struct evtchn_bind_pirq {
    uint32_t pirq;      /* in */
    uint32_t flags;     /* in: BIND_PIRQ__* */
    evtchn_port_t port; /* out */
};
typedef struct evtchn_bind_pirq evtchn_bind_pirq_t;
#define BIND_PIRQ__WILL_SHARE 1

/* Bind a new port for inter-processor events, notifying `vcpu`. */
struct evtchn_bind_ipi {
    uint32_t vcpu;      /* in */
    evtchn_port_t port; /* out */
};
typedef struct evtchn_bind_ipi evtchn_bind_ipi_t;

/* Close a port; its pending bit is cleared. */
struct evtchn_close {
    evtchn_port_t port; /* in */
};
typedef struct evtchn_close evtchn_close_t;

/* Notify the other end of a port. */
struct evtchn_send {
    evtchn_port_t port; /* in */
};
typedef struct evtchn_send evtchn_send_t;

/* Channel states returned in evtchn_status.status. */
#define EVTCHNSTAT_closed      0
#define EVTCHNSTAT_unbound     1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_pirq        3
#define EVTCHNSTAT_virq        4
#define EVTCHNSTAT_ipi         5

/* Query a port of `dom`; which member of u is valid depends on status. */
struct evtchn_status {
    domid_t dom;        /* in */
    evtchn_port_t port; /* in */
    uint32_t status;    /* out: EVTCHNSTAT_* */
    uint32_t vcpu;      /* out: the vCPU notified */
    union {
        struct {
            domid_t dom;
        } unbound; /* EVTCHNSTAT_unbound */
        struct {
            domid_t dom;
            evtchn_port_t port;
        } interdomain; /* EVTCHNSTAT_interdomain */
        uint32_t pirq; /* EVTCHNSTAT_pirq */
        uint32_t virq; /* EVTCHNSTAT_virq */
    } u;
};
typedef struct evtchn_status evtchn_status_t;

/* Change the vCPU a port notifies. Not allowed for per-vCPU VIRQs and IPIs. */
struct evtchn_bind_vcpu {
    evtchn_port_t port; /* in */
    uint32_t vcpu;      /* in */
};
typedef struct evtchn_bind_vcpu evtchn_bind_vcpu_t;

/* Clear a port's mask; if the port is pending, redo the notification that
 * the mask suppressed (selector bit, upcall_pending, upcall). */
struct evtchn_unmask {
    evtchn_port_t port; /* in */
};
typedef struct evtchn_unmask evtchn_unmask_t;

/* Close every port of `dom` (DOMID_SELF) and return to the 2-level ABI. */
struct evtchn_reset {
    domid_t dom; /* in */
};
typedef struct evtchn_reset evtchn_reset_t;

/* FIFO ABI: register the control block of `vcpu`, found at `offset` in the
 * guest frame `control_gfn`. The first call switches the domain to FIFO. */
struct evtchn_init_control {
    uint64_t control_gfn; /* in */
    uint32_t offset;      /* in */
    uint32_t vcpu;        /* in */
    uint8_t link_bits;    /* out: EVTCHN_FIFO_LINK_BITS */
    uint8_t _pad[7];
};
typedef struct evtchn_init_control evtchn_init_control_t;

/* FIFO ABI: add one page of event words (its ports start MASKED). */
struct evtchn_expand_array {
    uint64_t array_gfn; /* in */
};
typedef struct evtchn_expand_array evtchn_expand_array_t;

/* FIFO ABI: move a port to another priority queue. */
struct evtchn_set_priority {
    evtchn_port_t port; /* in */
    uint32_t priority;  /* in: EVTCHN_FIFO_PRIORITY_* range */
};
typedef struct evtchn_set_priority evtchn_set_priority_t;

/* Argument of the superseded __HYPERVISOR_event_channel_op_compat. */
struct evtchn_op {
    uint32_t cmd; /* EVTCHNOP_* */
    union {
        evtchn_alloc_unbound_t alloc_unbound;
        evtchn_bind_interdomain_t bind_interdomain;
        evtchn_bind_virq_t bind_virq;
        evtchn_bind_pirq_t bind_pirq;
        evtchn_bind_ipi_t bind_ipi;
        evtchn_close_t close;
        evtchn_send_t send;
        evtchn_status_t status;
        evtchn_bind_vcpu_t bind_vcpu;
        evtchn_unmask_t unmask;
    } u;
};
typedef struct evtchn_op evtchn_op_t;
DEFINE_XEN_GUEST_HANDLE(evtchn_op_t);

/* 2-level ABI: one bit per port in shared_info.evtchn_pending/mask, so
 * 64 * 64 = 4096 ports on x86-64. */
#define EVTCHN_2L_NR_CHANNELS (sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64)

/*
 * FIFO ABI. Each port has a 32-bit event word in the event array pages
 * (EVTCHNOP_expand_array): flag bits at the top, the next port of its queue
 * in the low EVTCHN_FIFO_LINK_BITS. Each vCPU has a control block
 * (EVTCHNOP_init_control) with one queue head per priority and a `ready`
 * bitmap of non-empty queues. Priority 0 is the highest.
 */
#define EVTCHN_FIFO_PRIORITY_MAX     0
#define EVTCHN_FIFO_PRIORITY_DEFAULT 7
#define EVTCHN_FIFO_PRIORITY_MIN     15
#define EVTCHN_FIFO_MAX_QUEUES       (EVTCHN_FIFO_PRIORITY_MIN + 1)

typedef uint32_t event_word_t;

/* Bit numbers in an event word. */
#define EVTCHN_FIFO_PENDING     31
#define EVTCHN_FIFO_MASKED      30
#define EVTCHN_FIFO_LINKED      29 /* on a queue: a close must wait for this to clear */
#define EVTCHN_FIFO_BUSY        28 /* the hypervisor is updating the word; do not unmask */

#define EVTCHN_FIFO_LINK_BITS   17
#define EVTCHN_FIFO_LINK_MASK   ((1 << EVTCHN_FIFO_LINK_BITS) - 1)
#define EVTCHN_FIFO_NR_CHANNELS (1 << EVTCHN_FIFO_LINK_BITS)

struct evtchn_fifo_control_block {
    uint32_t ready; /* bit q set: queue q is not empty */
    uint32_t _rsvd;
    uint32_t head[EVTCHN_FIFO_MAX_QUEUES];
};
typedef struct evtchn_fifo_control_block evtchn_fifo_control_block_t;

_Static_assert(sizeof(evtchn_port_t) == 4, "evtchn_port_t");
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "evtchn_alloc_unbound");
_Static_assert(offsetof(struct evtchn_alloc_unbound, port) == 4, "evtchn_alloc_unbound");
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "evtchn_bind_interdomain");
_Static_assert(offsetof(struct evtchn_bind_interdomain, remote_port) == 4, "bind_interdomain");
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "evtchn_bind_virq");
_Static_assert(sizeof(struct evtchn_bind_pirq) == 12, "evtchn_bind_pirq");
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "evtchn_bind_ipi");
_Static_assert(sizeof(struct evtchn_close) == 4, "evtchn_close");
_Static_assert(sizeof(struct evtchn_send) == 4, "evtchn_send");
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status");
_Static_assert(offsetof(struct evtchn_status, status) == 8, "evtchn_status");
_Static_assert(offsetof(struct evtchn_status, u) == 16, "evtchn_status");
_Static_assert(offsetof(struct evtchn_status, u.interdomain.port) == 20, "evtchn_status");
_Static_assert(sizeof(struct evtchn_bind_vcpu) == 8, "evtchn_bind_vcpu");
_Static_assert(sizeof(struct evtchn_unmask) == 4, "evtchn_unmask");
_Static_assert(sizeof(struct evtchn_reset) == 2, "evtchn_reset");
_Static_assert(sizeof(struct evtchn_init_control) == 24, "evtchn_init_control");
_Static_assert(offsetof(struct evtchn_init_control, link_bits) == 16, "evtchn_init_control");
_Static_assert(sizeof(struct evtchn_expand_array) == 8, "evtchn_expand_array");
_Static_assert(sizeof(struct evtchn_set_priority) == 8, "evtchn_set_priority");
_Static_assert(sizeof(struct evtchn_op) == 28, "evtchn_op");
_Static_assert(sizeof(struct evtchn_fifo_control_block) == 72, "evtchn_fifo_control_block");
_Static_assert(EVTCHN_2L_NR_CHANNELS == 4096, "2-level ports");

#endif /* XENSIM_ABI_EVENT_CHANNEL_H */
