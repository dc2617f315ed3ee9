/*
 * xg_evtchn.h - the inside of libxenguest's event channel layer: the state
 * of struct xg_guest and the ops table of an event channel ABI. Public so
 * that a second ABI (FIFO) or a test's deliberately broken variant can be
 * plugged in through xg_guest_config.evtchn_ops; not a stable API.
 */
#ifndef XENSIM_GUEST_XG_EVTCHN_H
#define XENSIM_GUEST_XG_EVTCHN_H

#include "xensim/guest/xg.h"

enum xg_port_kind {
    XG_PORT_FREE = 0,
    XG_PORT_VIRQ,
    XG_PORT_IPI,
    XG_PORT_INTERDOMAIN,
    XG_PORT_UNBOUND,
    XG_PORT_LOCAL,
};

struct xg_port {
    xg_evtchn_handler_fn fn;
    void *arg;
    volatile uint32_t running; /* handlers of this port now running (XSA-331) */
    uint16_t cpu;              /* guest map: the CPU whose upcall serves it */
    uint8_t kind;              /* enum xg_port_kind */
    bool percpu;               /* per-vCPU VIRQ or IPI: cannot move */
    bool closing;
    bool throttled;
    bool user_masked; /* masked by xg_evtchn_mask (not by the throttle) */
    uint32_t virq;
    uint32_t spurious_run;
    uint32_t throttle_level;
    uint64_t release_at; /* CPU upcall count at which a throttled port is released */
    uint64_t handled, spurious, throttled_count;
    uint64_t load; /* events since the last rebalance */
};

struct xg_cpu {
    struct vcpu_info *vi;
    bool up;
    /* The 2-level per-CPU port map: must equal Xen's notify vCPUs. */
    uint64_t port_mask[XG_MAX_PORTS / 64];
    unsigned int next_port; /* fair resume point: scan starts here */
    unsigned int nports;
    unsigned int nthrottled;
    uint64_t throttle_clock; /* upcalls and ticks: the throttle's backoff unit */
    int in_port;             /* port whose handler this CPU runs, or -1 */
    uint64_t upcalls, empty_upcalls, events, deferred;
    /* Parked for a suspend: upcalls run no handler (xg_guest_quiesce). */
    volatile uint8_t quiesced;
    uint64_t quiesced_upcalls;
};

/* An event channel ABI (2-level here; FIFO would be a second table). */
struct xg_evtchn_ops {
    const char *name;
    unsigned int max_ports;
    /* The upcall on `cpu` (interrupts off). */
    void (*upcall)(struct xg_guest *g, unsigned int cpu);
    /* Unmask with the pending re-check of invariant 4. */
    int (*unmask)(struct xg_guest *g, evtchn_port_t port);
    /* Mask; returns whether it was already masked. */
    bool (*mask)(struct xg_guest *g, evtchn_port_t port);
    void (*clear_pending)(struct xg_guest *g, evtchn_port_t port);
    bool (*is_pending)(struct xg_guest *g, evtchn_port_t port);
    /* Point the guest map of `port` at `cpu` (after Xen agreed). */
    void (*bind_to_cpu)(struct xg_guest *g, evtchn_port_t port, unsigned int cpu);
    /* Guest-side cleanup of a closed port: its map goes back to CPU 0. */
    void (*close_port)(struct xg_guest *g, evtchn_port_t port);
};

extern const struct xg_evtchn_ops xg_evtchn_2l_ops;

/* Building blocks of the 2-level table, for variants that replace one op. */
void xg_2l_upcall(struct xg_guest *g, unsigned int cpu);
int xg_2l_unmask(struct xg_guest *g, evtchn_port_t port);
bool xg_2l_mask(struct xg_guest *g, evtchn_port_t port);
void xg_2l_clear_pending(struct xg_guest *g, evtchn_port_t port);
bool xg_2l_is_pending(struct xg_guest *g, evtchn_port_t port);
void xg_2l_bind_to_cpu(struct xg_guest *g, evtchn_port_t port, unsigned int cpu);
void xg_2l_close_port(struct xg_guest *g, evtchn_port_t port);
/* One fair scan of the words in `sel` for `cpu`; returns the ports served
 * and leaves in *sel the words it did not finish (budget exhausted). */
unsigned int xg_2l_scan(struct xg_guest *g, unsigned int cpu, uint64_t *sel, unsigned int budget);
/* Run one port's handler with the running count held (common code). */
void xg_evtchn_dispatch(struct xg_guest *g, unsigned int cpu, evtchn_port_t port);
/* Ask for another upcall on this CPU after bounded work stopped early. */
void xg_evtchn_rearm(struct xg_guest *g, unsigned int cpu, uint64_t sel);

struct xg_guest {
    const struct xg_platform *p;
    struct xg_guest_config cfg;
    struct xg_features feat;
    enum xg_callback cb;
    const struct xg_evtchn_ops *ops;
    struct shared_info *si;
    uint64_t si_gfn;
    uint8_t *vcpu_info_pages[(XG_MAX_CPUS * sizeof(struct vcpu_info) + 4095) / 4096];
    volatile uint32_t lock; /* binding and balancing */
    unsigned int ncpus;
    unsigned int rr_next;
    bool booted;
    struct xg_port ports[XG_MAX_PORTS];
    struct xg_cpu cpus[XG_MAX_CPUS];
};

/* A spinlock over platform atomics (each try is a scheduling point). */
void xg_spin_lock(const struct xg_platform *p, volatile uint32_t *lock);
void xg_spin_unlock(const struct xg_platform *p, volatile uint32_t *lock);

#endif
