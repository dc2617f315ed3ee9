/*
 * xg.h - libxenguest: the guest side of the Xen PVHVM interface, portable C
 * that reaches the machine only through platform.h.
 *
 * One `struct xg_guest` (caller-allocated, large: keep it static or on the
 * heap) holds all state of one guest; per-CPU state lives inside it. Boot:
 *   xg_guest_init() once, then on CPU 0 xg_guest_boot(), then on every other
 *   CPU xg_guest_cpu_up(); route every interrupt to xg_guest_interrupt().
 * Functions return 0 or a negative errno; a failed call changes nothing
 * and never calls its callback.
 */
#ifndef XENSIM_GUEST_XG_H
#define XENSIM_GUEST_XG_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/abi/apic.h"
#include "xensim/abi/event_channel.h"
#include "xensim/abi/xen.h"
#include "xensim/platform.h"

#define XG_MAX_CPUS     128
#define XG_2L_MAX_PORTS 4096                    /* 2-level ABI, 64-bit */
#define XG_MAX_PORTS    EVTCHN_FIFO_NR_CHANNELS /* FIFO ABI: 131072 */

/* Vectors the guest uses (Linux's HYPERVISOR_CALLBACK_VECTOR is 0xf3). */
#define XG_VECTOR_CALLBACK 0xf3 /* event upcall (per-vCPU or global vector) */
#define XG_VECTOR_INTX     0x50 /* IOAPIC route of the GSI / INTx callback */

struct xg_guest;
struct xg_evtchn_ops;

/* How the guest receives event upcalls, in order of preference. */
enum xg_callback {
    XG_CB_NONE = 0,
    XG_CB_PERCPU_VECTOR, /* HVMOP_set_evtchn_upcall_vector on every vCPU */
    XG_CB_VECTOR,        /* HVM_PARAM_CALLBACK_IRQ type 2: any vCPU, no EOI */
    XG_CB_PCI_INTX,      /* platform PCI device INTx: vCPU0 only */
    XG_CB_GSI,           /* a GSI: vCPU0 only */
};
const char *xg_callback_name(enum xg_callback cb);

/* Which event channel ABI the guest asks for. AUTO: FIFO when the
 * hypervisor takes EVTCHNOP_init_control, else 2-level (at boot and at
 * every resume on a new host). FIFO: boot fails if it is refused (a resume
 * on a host without it still falls back to 2-level). 2L: never try FIFO. */
enum xg_event_abi {
    XG_EVENT_ABI_AUTO = 0,
    XG_EVENT_ABI_FIFO,
    XG_EVENT_ABI_2L,
};

/* What the guest found out about the hypervisor. */
struct xg_features {
    bool xen;              /* the "XenVMMXenVMM" signature was found */
    uint32_t cpuid_base;   /* 0x40000000, or 0x40000100 after Viridian */
    uint32_t version;      /* major << 16 | minor */
    uint32_t hvm_leaf_eax; /* XEN_HVM_CPUID_* bits */
    uint32_t xenfeat;      /* XENVER_get_features submap 0 */
    bool callback_vector;  /* XENFEAT_hvm_callback_vector */
    bool percpu_vector;    /* XEN_HVM_CPUID_UPCALL_VECTOR */
    bool safe_pvclock;     /* XENFEAT_hvm_safe_pvclock */
};

/* What the rest of the machine looks like to the guest (a kernel learns it
 * from ACPI and a PCI scan). */
struct xg_guest_config {
    unsigned int ncpus;
    bool platform_pci;          /* the Xen platform device is present */
    uint8_t platform_pci_devfn; /* its devfn on bus 0 */
    uint32_t platform_pci_gsi;  /* the GSI its INTA# is routed to */
    /* Force a callback kind (XG_CB_NONE = choose the best available); the
     * guest still falls back if it is refused. */
    enum xg_callback force_callback;
    /* Bounded work per upcall (XSA-332/391): ports served per upcall and
     * passes over upcall_pending before handing back to the interrupted
     * code. 0 = defaults (256 and 8). */
    unsigned int upcall_budget;
    unsigned int upcall_max_passes;
    /* A port whose handler reports nothing to do this many times in a row
     * is masked and released after a backoff (doubling, in upcalls of its
     * CPU, up to 1024). 0 = default 16. */
    unsigned int storm_threshold;
    /* Balance bindable ports over online CPUs at bind time (round robin). */
    bool balance_at_bind;
    /* Event channel ABI (see enum xg_event_abi). */
    enum xg_event_abi event_abi;
    /* Test hook: a replacement event channel ABI table (see xg_evtchn.h);
     * it takes precedence over event_abi. */
    const struct xg_evtchn_ops *evtchn_ops;
};
void xg_guest_config_init(struct xg_guest_config *cfg, unsigned int ncpus);

/* Handler results: HANDLED resets the port's storm count, SPURIOUS (the
 * event found nothing to do) adds to it. */
#define XG_EVTCHN_HANDLED  0
#define XG_EVTCHN_SPURIOUS 1
typedef int (*xg_evtchn_handler_fn)(struct xg_guest *g, evtchn_port_t port, void *arg);

/* Size of struct xg_guest, for callers that allocate it. */
unsigned long xg_guest_size(void);

/* Initialise `g` (caller-allocated, xg_guest_size() bytes). */
int xg_guest_init(struct xg_guest *g, const struct xg_platform *p,
                  const struct xg_guest_config *cfg);

/* On CPU 0: detect Xen and its features, map shared_info, mask every port,
 * register vCPU 0's vcpu_info and set up the callback in the preferred
 * order with fallbacks. -ENODEV if not on Xen. */
int xg_guest_boot(struct xg_guest *g);
/* On each other CPU: register its vcpu_info (and per-vCPU vector). */
int xg_guest_cpu_up(struct xg_guest *g);
/* The interrupt entry: call for every vector the CPU takes. */
void xg_guest_interrupt(struct xg_guest *g, uint8_t vector);
/* Idle: wait for the next interrupt (sti; hlt) and service it. */
void xg_guest_idle(struct xg_guest *g);

/* SMP bring-up and wakeups (no xg_guest needed). xg_wait_u32: halt until
 * *flag >= value, with interrupts off between each check and the halt
 * (which enables them atomically), so a kick sent after the check still
 * ends the halt; the interrupt flag is restored. xg_kick: a fixed
 * interrupt on `vector` to vCPU `cpu` (cpu < 0: every other vCPU) through
 * the x2APIC ICR; 0 or -EINVAL. */
void xg_wait_u32(const struct xg_platform *p, volatile uint32_t *flag, uint32_t value);
int xg_kick(const struct xg_platform *p, int cpu, uint8_t vector);

/* x2APIC registers the guest code writes: xensim/abi/apic.h. These names
 * stay for programs written against them. */
#define XG_MSR_X2APIC_ICR      X2APIC_MSR_ICR
#define XG_MSR_X2APIC_SELF_IPI X2APIC_MSR_SELF_IPI
#define XG_ICR_SELF            APIC_ICR_SELF
#define XG_ICR_ALL             APIC_ICR_ALL
#define XG_ICR_ALL_BUT_SELF    APIC_ICR_ALL_BUT_SELF

const struct xg_features *xg_guest_features(const struct xg_guest *g);
enum xg_callback xg_guest_callback(const struct xg_guest *g);
/* The event channel ABI in use: "fifo" or "2-level" (borrowed, static). */
const char *xg_guest_evtchn_abi(const struct xg_guest *g);
/* True when events can go to any CPU (vector callbacks). */
bool xg_guest_percpu_events(const struct xg_guest *g);

/*
 * Every CPU of the guest has stopped for good (a simulator's run ended, a
 * crash dump is being taken) and code outside the guest is about to read
 * its state. A CPU may have stopped anywhere, holding a lock: from now on
 * the library's getters (xg_blkfront_get_info, xg_blkfront_get_stats) read
 * without taking one instead of waiting for ever. A field that a stopped
 * CPU was updating may be read half-written. Nothing else may be called.
 */
void xg_guest_stopped(struct xg_guest *g);

/* ---- suspend and resume (driven by xg_suspend.c) ---- */

/* Park `cpu`'s event delivery: its upcalls run no handler, events stay
 * pending. Any CPU may call it. */
void xg_guest_quiesce(struct xg_guest *g, unsigned int cpu);
/* On the calling CPU: deliver again, and rescan every word once for what
 * arrived while parked (interrupts off inside). */
void xg_guest_cpu_unquiesce(struct xg_guest *g);
/* On CPU 0, interrupts off, the other CPUs parked, after
 * SCHEDOP_shutdown(suspend) returned. new_host false: nothing to do.
 * new_host true: detect the new host's features, map shared_info again
 * (same frame) and mask every port, forget every port (all closed on the
 * new host: each owner binds again), register every up CPU's vcpu_info
 * again and set the callback up again in the preferred order with
 * fallbacks (per-vCPU vectors for every up CPU). */
int xg_guest_resume(struct xg_guest *g, bool new_host);
/* The event channel layer's part of that: no port bound, every map back
 * on CPU 0. */
void xg_evtchn_forget_all(struct xg_guest *g);

/* ---- event channels ---- */

/* Bind, with the handler in place before the port can fire. The port comes
 * back masked; xg_evtchn_unmask() enables it (invariant 6). */
int xg_evtchn_bind_virq(struct xg_guest *g, uint32_t virq, unsigned int cpu,
                        xg_evtchn_handler_fn fn, void *arg, evtchn_port_t *port);
int xg_evtchn_bind_ipi(struct xg_guest *g, unsigned int cpu, xg_evtchn_handler_fn fn, void *arg,
                       evtchn_port_t *port);
int xg_evtchn_bind_interdomain(struct xg_guest *g, domid_t remote, evtchn_port_t remote_port,
                               xg_evtchn_handler_fn fn, void *arg, evtchn_port_t *port);
int xg_evtchn_alloc_unbound(struct xg_guest *g, domid_t remote, xg_evtchn_handler_fn fn, void *arg,
                            evtchn_port_t *port);
/* A port the toolstack created for us (e.g. HVM_PARAM_STORE_EVTCHN). */
int xg_evtchn_bind_local(struct xg_guest *g, evtchn_port_t port, xg_evtchn_handler_fn fn,
                         void *arg);

int xg_evtchn_unmask(struct xg_guest *g, evtchn_port_t port);
int xg_evtchn_mask(struct xg_guest *g, evtchn_port_t port);
/* Close: mask, clear pending, affinity back to CPU 0, EVTCHNOP_close, and
 * unmap only once no handler of the port still runs (XSA-331). */
int xg_evtchn_close(struct xg_guest *g, evtchn_port_t port);
/* EVTCHNOP_send. */
int xg_evtchn_notify(struct xg_guest *g, evtchn_port_t port);
/* Move a port's delivery to `cpu` (EVTCHNOP_bind_vcpu). -EOPNOTSUPP with
 * the IRQ callback (everything stays on CPU 0), -EINVAL for per-vCPU VIRQs
 * and IPIs. */
int xg_evtchn_set_cpu(struct xg_guest *g, evtchn_port_t port, unsigned int cpu);
int xg_evtchn_get_cpu(const struct xg_guest *g, evtchn_port_t port);
/* FIFO ABI: the priority queue of a bound port (EVTCHN_FIFO_PRIORITY_MAX
 * 0 is served first, default 7, lowest 15). -EOPNOTSUPP under 2-level,
 * -EINVAL for a port not bound or a priority out of range. VIRQ_TIMER is
 * bound at priority 0. */
int xg_evtchn_set_priority(struct xg_guest *g, evtchn_port_t port, unsigned int priority);
/* Move movable ports from the busiest toward the least busy CPUs by the
 * events each handled since the last call; returns the number moved. */
int xg_evtchn_rebalance(struct xg_guest *g);
/* Release throttled ports whose backoff has passed (call from a tick). */
void xg_evtchn_tick(struct xg_guest *g);

struct xg_evtchn_port_stats {
    uint64_t handled, spurious, throttled;
    unsigned int cpu;
    bool bound;
};
int xg_evtchn_port_stats(const struct xg_guest *g, evtchn_port_t port,
                         struct xg_evtchn_port_stats *out);

struct xg_cpu_stats {
    uint64_t upcalls;       /* upcall entries */
    uint64_t empty_upcalls; /* upcalls that found nothing to do */
    uint64_t events;        /* handlers run */
    uint64_t deferred;      /* upcalls that hit the work bound and re-armed */
    unsigned int ports;     /* ports currently delivered to this CPU */
};
int xg_cpu_stats(const struct xg_guest *g, unsigned int cpu, struct xg_cpu_stats *out);

#endif
