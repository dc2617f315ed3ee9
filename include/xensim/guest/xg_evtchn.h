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
    uint64_t load;    /* events since the last rebalance */
    uint16_t rb_dest; /* xg_evtchn_rebalance's plan */
    bool rb_placed;
};

struct xg_cpu {
    struct vcpu_info *vi;
    bool up;
    /* The 2-level per-CPU port map: must equal Xen's notify vCPUs. */
    uint64_t port_mask[XG_2L_MAX_PORTS / 64];
    unsigned int next_port; /* fair resume point: scan starts here */
    unsigned int nports;
    unsigned int nthrottled;
    uint64_t throttle_clock; /* upcalls and ticks: the throttle's backoff unit */
    int in_port;             /* port whose handler this CPU runs, or -1 */
    uint64_t upcalls, empty_upcalls, events, deferred;
    /* Parked for a suspend: upcalls run no handler (xg_guest_quiesce). */
    volatile uint8_t quiesced;
    uint64_t quiesced_upcalls;
    /* FIFO ABI: this vCPU's control block (NULL: not registered with the
     * current host), the next port of each queue we are walking (0: read
     * HEAD from the control block), and the queues an upcall stopped in
     * for its work bound. */
    struct evtchn_fifo_control_block *fifo_cb;
    evtchn_port_t fifo_head[EVTCHN_FIFO_MAX_QUEUES];
    uint32_t fifo_ready;
};

#define XG_FIFO_WORDS_PER_PAGE (4096 / sizeof(event_word_t))
#define XG_FIFO_MAX_PAGES      (XG_MAX_PORTS / XG_FIFO_WORDS_PER_PAGE)
#define XG_FIFO_CB_PER_PAGE    (4096 / sizeof(struct evtchn_fifo_control_block))

/* An event channel ABI: 2-level or FIFO. Optional ops may be NULL. */
struct xg_evtchn_ops {
    const char *name;
    unsigned int max_ports;
    /* Optional. On CPU 0 at boot and at a resume on a new host: switch
     * the domain to this ABI (before any port is bound). */
    int (*init)(struct xg_guest *g);
    /* Optional. A CPU came up (on that CPU). */
    int (*cpu_up)(struct xg_guest *g, unsigned int cpu);
    /* Optional. Xen just gave us `port` (g->lock held): make it usable,
     * e.g. add event array pages up to it. */
    int (*setup_port)(struct xg_guest *g, evtchn_port_t port);
    /* Optional. The port's priority queue. */
    int (*set_priority)(struct xg_guest *g, evtchn_port_t port, unsigned int priority);
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
extern const struct xg_evtchn_ops xg_evtchn_fifo_ops;

/* Building blocks of the FIFO table, for variants that replace one op. */
int xg_fifo_init(struct xg_guest *g);
int xg_fifo_cpu_up(struct xg_guest *g, unsigned int cpu);
int xg_fifo_setup_port(struct xg_guest *g, evtchn_port_t port);
int xg_fifo_set_priority(struct xg_guest *g, evtchn_port_t port, unsigned int priority);
void xg_fifo_upcall(struct xg_guest *g, unsigned int cpu);
int xg_fifo_unmask(struct xg_guest *g, evtchn_port_t port);
bool xg_fifo_mask(struct xg_guest *g, evtchn_port_t port);
void xg_fifo_clear_pending(struct xg_guest *g, evtchn_port_t port);
bool xg_fifo_is_pending(struct xg_guest *g, evtchn_port_t port);
void xg_fifo_bind_to_cpu(struct xg_guest *g, evtchn_port_t port, unsigned int cpu);
void xg_fifo_close_port(struct xg_guest *g, evtchn_port_t port);
/* The event word of `port`, or NULL beyond the pages added so far. */
volatile event_word_t *xg_fifo_word(struct xg_guest *g, evtchn_port_t port);
/* Take the head of queue `q` off the list (clear LINKED and LINK) and
 * handle it if pending and not masked; clears q in *ready when the queue
 * is empty. Returns 1 if a handler ran. */
unsigned int xg_fifo_consume_one(struct xg_guest *g, unsigned int cpu, unsigned int q,
                                 uint32_t *ready);
/* Wait until `port` is no longer LINKED (close), unless only this CPU's
 * own upcall could unlink it and it cannot run now. */
void xg_fifo_wait_unlinked(struct xg_guest *g, evtchn_port_t port);

/* Choose and initialise the ABI (boot: booting = true; a resume on a new
 * host: false, after xg_evtchn_forget_all). */
int xg_evtchn_choose_abi(struct xg_guest *g, bool booting);
/* Release this CPU's throttled ports whose backoff has passed. */
void xg_evtchn_release_throttled(struct xg_guest *g, unsigned int cpu);

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
    bool stopped; /* xg_guest_stopped: every CPU stopped for good */
    struct xg_cpu cpus[XG_MAX_CPUS];
    /* FIFO ABI: event array pages (allocated once, kept across resumes;
     * fifo_added of them given to the current host) and control block
     * pages (XG_FIFO_CB_PER_PAGE vCPUs each). */
    volatile event_word_t *fifo_pages[XG_FIFO_MAX_PAGES];
    uint64_t fifo_gfns[XG_FIFO_MAX_PAGES];
    unsigned int fifo_allocated, fifo_added;
    uint8_t *fifo_cb_pages[(XG_MAX_CPUS + XG_FIFO_CB_PER_PAGE - 1) / XG_FIFO_CB_PER_PAGE];
    /* ports[] entries at or above port_hwm were never set up (not even
     * zeroed: 131072 of them would cost every guest its memory up front);
     * a port there is free. Must stay the last member. */
    evtchn_port_t port_hwm;
    struct xg_port ports[XG_MAX_PORTS];
};

/*
 * The locks of libxenguest and how they nest, outermost first:
 *
 *   device locks  xg_xenbus.lock, xg_blkfront.lock: taken with interrupts
 *                 off, because their port handlers take them too; dropped
 *                 before any xenbus request, event notification, done
 *                 callback or watch callback runs, so they nest neither with
 *                 each other nor with g->lock.
 *   g->lock       binding, closing, moving and balancing ports; taken with
 *                 interrupts as the caller has them. The upcall path never
 *                 takes it, so an upcall may arrive on a CPU holding it.
 *                 Watch callbacks run from the xenbus port's handler may
 *                 bind or close ports, and so take it from an upcall.
 *   gnttab lock   the grant free list: a leaf, taken under a device lock or
 *                 none, and nothing is called while it is held.
 *
 * xg_evtchn_close holds g->lock while it waits until no other CPU runs a
 * handler of the port being closed (XSA-331, docs/invariants.md evtchn 7).
 * A handler that waits for g->lock while its own port is being closed would
 * deadlock: the only handler that takes g->lock is the xenbus one, and the
 * xenbus port is closed only by a resume, with the other CPUs parked.
 */

/* A spinlock over platform atomics (each try is a scheduling point). */
void xg_spin_lock(const struct xg_platform *p, volatile uint32_t *lock);
void xg_spin_unlock(const struct xg_platform *p, volatile uint32_t *lock);

#endif
